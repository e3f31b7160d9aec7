/*
 * core/cfg.h - the config engine: directive lines, a directive table,
 * diagnostics, and value parsers that know nothing about mail.
 *
 * A schema (mail/conf.c for talon.conf) supplies a table of directives and
 * their handlers; the engine reads the lines (core/afile.h), splits them
 * into tokens, finds the directive, checks "given twice" and the argument
 * count, and calls the handler.  Handlers parse their values with the
 * cfg_* helpers below, which report problems in the engine's words.
 *
 * Line grammar: '#' anywhere starts a comment (there is no quoting, as in
 * nginx); blanks (space, tab) separate tokens; the first token names the
 * directive, case-sensitive.  A line holds at most CFG_LINE_MAX bytes and
 * no NUL or control byte other than tab outside its comment.
 *
 * Messages:  "file:line: NAME given twice (first at line N)",
 *            "file:line: NAME: wrong number of arguments (expected
 *            \"USAGE\", found N arguments)",
 *            "file:line: unknown directive \"X\" (expected one of: ...)",
 *            "file: missing required directive \"NAME\"",
 *            and after AFILE_ERRORS_MAX errors
 *            "file: too many errors, stopped after line N".
 *
 * Runs in: parent and CLI.  Trusts: nothing in the text.
 */
#ifndef TALON_CFG_H
#define TALON_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/afile.h"
#include "core/diag.h"

#define CFG_LINE_MAX	4096	/* bytes per line, without the LF */

struct cfg;
struct cfg_directive;

/* av[0..ac) are the arguments, NUL-terminated and writable; ac is within
 * the directive's min_args..max_args. */
typedef void cfg_fn(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac);

struct cfg_directive {
	const char *name;	/* first member: cfg_unknown relies on it */
	const char *usage;	/* "listen smtp ADDR:PORT [...]", for messages */
	unsigned min_args, max_args;
	bool repeatable;	/* otherwise a second line is "given twice" */
	bool required;		/* never given: "missing required directive" */
	cfg_fn *fn;
	size_t off;		/* char * field of the destination, for cfg_set_* */
};

struct cfg {
	struct afile rd;	/* lines, file:line, error count and cap */
	const struct cfg_directive *dirs;
	size_t n_dirs;
	unsigned *first;	/* per directive: line first given, 0 never */
	char *base;		/* absolute directory of the file */
	char *line;		/* writable copy of the current line */
	char **tok;		/* tokens of the current line */
	void *dst;		/* struct the table's field offsets point into */
	void *arg;		/* the schema's own parse state, for handlers */
};

/* Prepare to parse text (len bytes, not NUL-terminated, kept alive by the
 * caller until cfg_done) as file.  Relative paths are resolved against the
 * directory of file, a relative file against the current directory (a
 * failure to find it is reported and "/" used). */
void cfg_init(struct cfg *g, const char *text, size_t len, const char *file,
    const struct cfg_directive *dirs, size_t n_dirs, void *dst, void *arg, struct diag *d);
/* Parse every line, then report required directives never given.  false
 * when parsing stopped after too many errors (whole-file checks are then
 * pointless and skipped; so is the required check). */
bool cfg_run(struct cfg *g);
/* Free what cfg_init allocated; the diag and the destination stay. */
void cfg_done(struct cfg *g);

/* The number of the line being parsed (during cfg_run, for handlers). */
unsigned cfg_line(const struct cfg *g);
/* The line where directive name was first given, 0 if never. */
unsigned cfg_first_line(const struct cfg *g, const char *name);

/* Errors and warnings at the current line, or at line (0: the file). */
void cfg_err(struct cfg *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cfg_err_at(struct cfg *g, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_warn(struct cfg *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cfg_warn_at(struct cfg *g, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "WHAT given twice (first at line N)" at the current line. */
void cfg_given_twice(struct cfg *g, const char *what, unsigned first);
/* "unknown KIND \"NAME\" (expected one of: a, b, c)" at the current line.
 * The names are the first member (a const char *) of n table entries,
 * stride bytes apart, so a schema's own sub-tables can be listed too. */
void cfg_unknown(struct cfg *g, const char *kind, const char *name, const void *table,
    size_t n, size_t stride);

/* Decimal number in [min, max] into *out.  On failure reports
 * "PREFIX \"s\" is not a number (expected MIN..MAX)" or "PREFIX s is out
 * of range (expected MIN..MAX)" and returns false; prefix is e.g.
 * "workers:" or "listen: port". */
bool cfg_num(struct cfg *g, const char *prefix, const char *s, uint64_t min, uint64_t max,
    uint64_t *out);
/* BYTES[k|m|g] (1024 multiples, any case), at least 1, fitting 64 bits. */
bool cfg_size(struct cfg *g, const char *prefix, const char *s, uint64_t *out);
/* s made absolute against the config file's directory and cleaned
 * lexically ("//" and "." dropped, ".." kept); owned by the caller. */
char *cfg_path(const struct cfg *g, const char *s);
/* System user or group name as useradd accepts it: letters, digits, '_',
 * '-', '.', 1..32 bytes, not starting with '-'. */
bool cfg_sys_name_valid(const char *s);
/* The char * field at dd->off of the destination. */
char **cfg_field(const struct cfg *g, const struct cfg_directive *dd);

/* Handlers for non-repeatable one-argument directives that store into
 * their field: a path (cfg_path), a system user or group name. */
void cfg_set_path(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac);
void cfg_set_sys_name(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac);

#endif

/*
 * core/afile.h - the one reader for admin-written text files (talon.conf,
 * users, aliases; later the access map and zone files).
 *
 * Two halves:
 *   afile_read()  reads a whole file up to a size cap the caller sets, and
 *                 reports open/stat/read errors, "is a directory" and
 *                 "larger than N bytes" as "file: ..." in a diag.
 *   afile_next()  walks text line by line: LF ends a line, a CR right
 *                 before the LF is dropped, lines over the cap and lines
 *                 with a NUL are reported as "file:line: ..." and skipped.
 *                 Errors reported through afile_err() are counted; after
 *                 AFILE_ERRORS_MAX of them the walk stops with one more
 *                 message, so a binary file given by mistake does not
 *                 produce a million lines.
 * Messages say what was found and what was expected.  Tokens quoted in
 * them go through log_escape (core/util.h), at most AFILE_TOKEN_MAX bytes.
 *
 * Runs in: parent and CLI.  Trusts: nothing in the text.
 */
#ifndef TALON_AFILE_H
#define TALON_AFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"

#define AFILE_ERRORS_MAX	100	/* per file; then the walk stops */
#define AFILE_TOKEN_MAX		96	/* an escaped token in a message */

/* Read all of file into *text (owned by the caller, free with
 * afile_text_free; not NUL-terminated) and its length into *len.  A file
 * of more than max bytes is an error.  what names the expected content for
 * messages ("the config file", "a users file").  0 on success, -1 after
 * reporting the problem in d as "file: ...". */
int afile_read(const char *file, size_t max, const char *what, char **text, size_t *len,
    struct diag *d);
/* Wipe and free text from afile_read (it may hold password hashes); clears
 * the caller's pointer. */
void afile_text_free(char **text, size_t len);

/* A line walk over text that the caller keeps alive. */
struct afile {
	const char *p, *end;	/* text not yet walked */
	const char *file;	/* name used in messages */
	struct diag *d;
	size_t line_max;	/* bytes per line, without LF or final CR */
	unsigned line;		/* number of the line last returned, from 1 */
	unsigned n_err;		/* errors reported through afile_err */
	bool stopped;		/* gave up after AFILE_ERRORS_MAX errors */
};

void afile_init(struct afile *r, const char *text, size_t len, const char *file,
    size_t line_max, struct diag *d);
/* The next line fit to parse in *s, *n: not NUL-terminated, without LF and
 * final CR, at most line_max bytes, no NUL.  Other lines are reported and
 * skipped.  false at the end of the text, or once AFILE_ERRORS_MAX errors
 * were reported and more text is left (then r->stopped is set and
 * "too many errors, stopped after line N" is reported). */
bool afile_next(struct afile *r, const char **s, size_t *n);
/* Report an error at line (0: the file as a whole) and count it. */
void afile_err(struct afile *r, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Report a warning at line (0: the file as a whole); not counted. */
void afile_warn(struct afile *r, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Check s[0..n), part of the current line starting at its first byte, for
 * control bytes other than tab (DEL included).  false after reporting the
 * first one with its column.  Formats that allow any byte (password
 * hashes, comments) do not call it. */
bool afile_check_controls(struct afile *r, const char *s, size_t n);

#endif

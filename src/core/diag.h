/*
 * core/diag.h - diagnostics collected while checking files.
 *
 * Parsers of config-like files report every problem as "file:line: text"
 * into a diag; the caller decides whether to print it and whether errors
 * are fatal.  Runs in: parent, CLI.
 */
#ifndef TALON_DIAG_H
#define TALON_DIAG_H

#include "core/buf.h"

struct diag {
	struct buf text;	/* newline-separated messages */
	unsigned n_err;
	unsigned n_warn;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);
/* line 0 means "the file as a whole" and prints as "file: ..." */
void diag_err(struct diag *d, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_warn(struct diag *d, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* NUL-terminated text of all messages ("" when none). */
const char *diag_text(struct diag *d);

#endif

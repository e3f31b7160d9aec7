/*
 * core/diag.c - file:line diagnostics.
 */
#include "core/diag.h"

#include <stdarg.h>
#include <stdio.h>

void
diag_init(struct diag *d)
{
	buf_init(&d->text, 1 << 20);
	d->n_err = d->n_warn = 0;
}

void
diag_free(struct diag *d)
{
	buf_free(&d->text);
}

static void
vadd(struct diag *d, const char *kind, const char *file, unsigned line,
    const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (line > 0)
		buf_printf(&d->text, "%s:%u: %s%s\n", file, line, kind, msg);
	else
		buf_printf(&d->text, "%s: %s%s\n", file, kind, msg);
}

void
diag_err(struct diag *d, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vadd(d, "", file, line, fmt, ap);
	va_end(ap);
	d->n_err++;
}

void
diag_warn(struct diag *d, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vadd(d, "warning: ", file, line, fmt, ap);
	va_end(ap);
	d->n_warn++;
}

const char *
diag_text(struct diag *d)
{
	if (!buf_cstr(&d->text))
		return "(diagnostics truncated)\n";
	return d->text.data ? (const char *)d->text.data : "";
}

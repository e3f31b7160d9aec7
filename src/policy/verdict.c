/*
 * policy/verdict.c - filling a verdict (see verdict.h).
 */
#include "policy/verdict.h"

#include <stdarg.h>
#include <stdio.h>

void
verdict_set(struct verdict *v, unsigned code, const char *esc, const char *reason,
    const char *fmt, ...)
{
	va_list ap;
	if (code < 400 || code > 599) {
		/* never a 2xx from a refusal helper */
		code = 451;
		esc = "4.3.0";
		reason = "internal error: bad verdict code";
	}
	v->kind = code >= 500 ? V_REJECT : V_TEMPFAIL;
	v->code = (uint16_t)code;
	snprintf(v->esc, sizeof v->esc, "%s", esc);
	v->reason = reason;
	va_start(ap, fmt);
	vsnprintf(v->text, sizeof v->text, fmt, ap);
	va_end(ap);
}

/*
 * msgauth/authres.c - Authentication-Results (RFC 8601): our field, and
 * the test for copies that claim our authserv-id (rules in authres.h).
 *
 * Input:   format: results of our checks, whose values may carry client
 *          text (MAIL FROM, HELO, d=, reasons); is_ours: a header value
 *          from a message, any bytes.
 * Output:  header text appended to a struct buf (its max and sticky error
 *          bound it); a yes/no.
 * Trusts:  nothing in values.  Runs in: smtp worker, policy.  Pure.
 * Not here: parsing the results of other servers (we only need to know
 *          whether a field claims to be ours), ARC.
 */
#include "msgauth/authres.h"

#include <string.h>

#include "core/util.h"
#include "mail/domain.h"

#define AUTHRES_FOLD_AT		78	/* RFC 5322 2.1.1: SHOULD stay within 78 */
#define AUTHRES_KEYWORD_MAX	64
#define AUTHRES_ID_MAX		255
#define AUTHRES_COMMENT_DEPTH	32

/* RFC 2045 5.1: any printable ASCII except SPACE and tspecials */
static bool
is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static bool
is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_token_char((unsigned char)s[i]))
			return false;
	return true;
}

static bool
is_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static bool
is_kwchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/* a method, result, ptype or property name */
static bool
is_keyword(const char *s, size_t n)
{
	if (n == 0 || n > AUTHRES_KEYWORD_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_kwchar((unsigned char)s[i]))
			return false;
	return true;
}

static bool
is_prop_name(const char *s)
{
	const char *dot = s != NULL ? strchr(s, '.') : NULL;
	return dot != NULL && is_keyword(s, (size_t)(dot - s)) && is_keyword(dot + 1,
	    strlen(dot + 1));
}

static bool
is_atext(unsigned char c)
{
	return is_kwchar(c) || (c != 0 && strchr("!#$%&'*+/=?^`{|}~", c) != NULL);
}

/* dot-atom, or empty */
static bool
is_local_part(const char *s, size_t n)
{
	bool want_atext = true;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' && !want_atext) {
			want_atext = true;
			continue;
		}
		if (!is_atext((unsigned char)s[i]))
			return false;
		want_atext = false;
	}
	return n == 0 || !want_atext;
}

/* RFC 8601 2.2 pvalue: [ [ local-part ] "@" ] domain-name, written bare */
static bool
is_address(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	if (at == NULL)
		return false;
	size_t ll = (size_t)(at - s);
	return is_local_part(s, ll) && domain_valid(at + 1, n - ll - 1, 0);
}

/* quoted-string of printable ASCII with \ and " escaped */
static void
put_quoted(struct buf *b, const char *s, size_t n)
{
	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '"')
			buf_putc(b, '\\');
		buf_putc(b, (uint8_t)s[i]);
	}
	buf_putc(b, '"');
}

/* One "name=value" item; its rendering goes to item.  false when the
 * property is to be left out. */
static bool
render_prop(struct buf *item, const char *name, const char *value)
{
	size_t n;

	if (!is_prop_name(name) || value == NULL)
		return false;
	n = strlen(value);
	/* Control bytes could end the field early or forge a second one;
	 * 8-bit is not allowed in a header of a message that is not
	 * SMTPUTF8.  Dropping is safer than a mangled value claiming a
	 * domain we never checked. */
	if (n == 0 || n > AUTHRES_VALUE_MAX || !is_printable(value, n))
		return false;
	buf_puts(item, name);
	buf_putc(item, '=');
	if (is_token(value, n) || is_address(value, n))
		buf_append(item, value, n);
	else
		put_quoted(item, value, n);
	return true;
}

/* reason="...": printable ASCII kept, the rest as '?', cut */
static void
render_reason(struct buf *item, const char *reason)
{
	char r[AUTHRES_REASON_MAX];
	size_t n = strlen(reason);

	if (n > sizeof r)
		n = sizeof r;
	for (size_t i = 0; i < n; i++)
		r[i] = is_printable(reason + i, 1) ? reason[i] : '?';
	buf_puts(item, "reason=");
	put_quoted(item, r, n);
}

/* Append item after a space, or on a new folded line when the current
 * line would pass AUTHRES_FOLD_AT. */
static void
put_item(struct buf *out, const struct buf *item, size_t *col)
{
	if (*col + 1 + item->len > AUTHRES_FOLD_AT) {
		buf_puts(out, "\n\t");
		*col = 1;
	} else {
		buf_putc(out, ' ');
		(*col)++;
	}
	buf_append(out, item->data, item->len);
	*col += item->len;
}

static bool
method_ok(const struct authres_method *m)
{
	return m->method != NULL && m->result != NULL &&
	    is_keyword(m->method, strlen(m->method)) && is_keyword(m->result, strlen(m->result));
}

static void
put_method(struct buf *out, const struct authres_method *m)
{
	struct buf item;
	size_t col = 1 + strlen(m->method) + 1 + strlen(m->result);

	buf_printf(out, "\n\t%s=%s", m->method, m->result);
	/* an item is at most 256 quoted and escaped, plus its name */
	buf_init(&item, 2 * AUTHRES_VALUE_MAX + 2 * AUTHRES_KEYWORD_MAX + 8);
	if (m->reason != NULL) {
		render_reason(&item, m->reason);
		put_item(out, &item, &col);
	}
	for (size_t i = 0; i < AUTHRES_PROPS; i++) {
		buf_reset(&item);
		if (m->props[i][0] != NULL && render_prop(&item, m->props[i][0], m->props[i][1]))
			put_item(out, &item, &col);
	}
	if (item.err)
		out->err = true;	/* cannot happen with the limits above */
	buf_free(&item);
}

void
authres_format(struct buf *out, const char *authserv_id, const struct authres_method *m,
    size_t n)
{
	size_t idl = authserv_id != NULL ? strlen(authserv_id) : 0;
	size_t written = 0;

	if (idl == 0 || idl > AUTHRES_ID_MAX || !is_printable(authserv_id, idl)) {
		out->err = true;
		return;
	}
	buf_puts(out, "Authentication-Results: ");
	if (is_token(authserv_id, idl))
		buf_append(out, authserv_id, idl);
	else
		put_quoted(out, authserv_id, idl);
	buf_putc(out, ';');
	for (size_t i = 0; m != NULL && i < n; i++) {
		if (!method_ok(&m[i]))
			continue;
		if (written++ > 0)
			buf_putc(out, ';');
		put_method(out, &m[i]);
	}
	if (written == 0)
		buf_puts(out, " none");
	buf_putc(out, '\n');
}

/* --- recognising our own id ---------------------------------------------- */

struct rd {
	const unsigned char *p, *end;
	bool bad;
};

/* CFWS with comments nested at most AUTHRES_COMMENT_DEPTH deep */
static void
skip_cfws(struct rd *r)
{
	unsigned depth = 0;

	while (!r->bad && r->p < r->end) {
		unsigned char c = *r->p;
		if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '(')
			return;
		r->p++;
		if (c == '\\' && depth > 0) {
			if (r->p == r->end)
				r->bad = true;
			else
				r->p++;
		} else if (c == '(') {
			if (++depth > AUTHRES_COMMENT_DEPTH)
				r->bad = true;
		} else if (c == ')' && depth > 0) {
			depth--;
		}
	}
	if (depth > 0)
		r->bad = true;	/* unterminated comment */
}

/* a quoted-string's content, unescaped, into dst (AUTHRES_ID_MAX + 1);
 * at '"'.  Its length, or -1. */
static long
read_quoted(struct rd *r, char *dst)
{
	size_t o = 0;

	for (r->p++; r->p < r->end; r->p++) {
		unsigned char c = *r->p;
		if (c == '"') {
			r->p++;
			return (long)o;
		}
		if (c == '\\') {
			if (++r->p == r->end)
				break;
			c = *r->p;
		}
		if (o == AUTHRES_ID_MAX)
			break;
		dst[o++] = (char)c;
	}
	r->bad = true;
	return -1;
}

bool
authres_is_ours(const char *value, size_t len, const char *id)
{
	struct rd r = { (const unsigned char *)value, (const unsigned char *)value + len, false };
	char q[AUTHRES_ID_MAX + 1];
	const char *got;
	size_t idl = id != NULL ? strlen(id) : 0, gl;

	if (idl == 0)
		return false;
	skip_cfws(&r);
	if (r.bad || r.p == r.end)
		return false;
	if (*r.p == '"') {
		long l = read_quoted(&r, q);
		if (l < 0)
			return false;
		got = q;
		gl = (size_t)l;
	} else {
		got = (const char *)r.p;
		while (r.p < r.end && is_token_char(*r.p))
			r.p++;
		gl = (size_t)((const char *)r.p - got);
	}
	/* the id must end here: "mx.example.org.evil" is not us */
	if (r.p < r.end && *r.p != ' ' && *r.p != '\t' && *r.p != '\r' && *r.p != '\n' &&
	    *r.p != '(' && *r.p != ';')
		return false;
	return gl == idl && ascii_memcaseeq(got, id, idl);
}

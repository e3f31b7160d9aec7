/*
 * smtp/addr.c - reverse-path and forward-path parsing (RFC 5321 4.1.2,
 * RFC 6531 3.3 for SMTPUTF8).
 *
 * Input:   MAIL FROM:/RCPT TO: argument bytes from the network starting at
 *          '<', pointer plus length, not NUL-terminated.  NUL, CR, LF and
 *          every other byte are data here; nothing about them is trusted.
 * Output:  struct smtp_path with the canonical local part and the domain
 *          copied into its fixed arrays, or an error enum and a zeroed
 *          struct (no half-parsed path ever reaches the caller).
 * Trusts:  nothing.  Runs in: smtp worker (unprivileged).
 * Not here: policy (policy/), recipient lookup (queue/), ESMTP parameters
 *          (smtp/cmd.c), domain-name syntax and UTF-8 well-formedness
 *          (mail/domain.c), IDNA2008 rules.
 *
 * The parser is one left-to-right pass over a cursor with a sticky error
 * (STYLE.md 5): the first problem found is the one reported.  Without
 * SMTPUTF8 any byte >= 0x80 the parser reaches is SMTP_ADDR_UTF8, so a
 * client that forgot the parameter is told so (553 5.6.7) instead of
 * "bad syntax".
 */
#include "smtp/addr.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/util.h"
#include "mail/domain.h"

struct cur {
	const unsigned char *p, *end;
	enum smtp_addr_err err;
	bool allow_utf8;
};

static void
fail(struct cur *c, enum smtp_addr_err e)
{
	if (c->err == SMTP_ADDR_OK)
		c->err = e;
}

/* Next byte, or -1 at the end of input or once an error is set, so every
 * loop below stops by itself after the first error. */
static int
peek(const struct cur *c)
{
	if (c->err != SMTP_ADDR_OK || c->p >= c->end)
		return -1;
	return *c->p;
}

static bool
take(struct cur *c, int ch)
{
	if (peek(c) != ch)
		return false;
	c->p++;
	return true;
}

/* The byte at the cursor (or the end of input) is not what the grammar
 * wants here.  Non-ASCII without SMTPUTF8 is reported as such (RFC 6531
 * 3.7.4.1) wherever it appears. */
static void
bad(struct cur *c)
{
	int b = peek(c);
	fail(c, (b >= 0x80 && !c->allow_utf8) ? SMTP_ADDR_UTF8 : SMTP_ADDR_SYNTAX);
}

static void
expect(struct cur *c, int ch)
{
	if (!take(c, ch))
		bad(c);
}

static bool
is_alnum(int b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
}

/* atext of RFC 5322 3.2.3, as RFC 5321 4.1.2 uses it for Atom. */
static bool
is_atext(int b)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~";
	/* b > 0: memchr would not match NUL here, but say it anyway */
	return is_alnum(b) || (b > 0 && memchr(specials, b, sizeof specials - 1) != NULL);
}

/* Consume one UTF8-non-ascii character where RFC 6531 3.3 allows one
 * (atext, qtextSMTP, sub-domain).  The cursor is at a byte >= 0x80. */
static void
take_utf8(struct cur *c)
{
	if (!c->allow_utf8) {
		fail(c, SMTP_ADDR_UTF8);
		return;
	}
	size_t n = domain_utf8_len(c->p, (size_t)(c->end - c->p));
	if (n == 0) {
		fail(c, SMTP_ADDR_SYNTAX);
		return;
	}
	c->p += n;
}

/* Dot-string = Atom *("." Atom), Atom = 1*atext (RFC 5321 4.1.2). */
static void
dot_string(struct cur *c)
{
	do {
		const unsigned char *atom = c->p;
		for (;;) {
			int b = peek(c);
			if (is_atext(b))
				c->p++;
			else if (b >= 0x80)
				take_utf8(c);
			else
				break;
		}
		if (c->p == atom)	/* empty atom: leading, trailing or double dot */
			bad(c);
	} while (take(c, '.'));
}

/*
 * Quoted-string = DQUOTE *QcontentSMTP DQUOTE (RFC 5321 4.1.2), where
 * qtextSMTP is %d32-33 / %d35-91 / %d93-126 (plus UTF8-non-ascii with
 * SMTPUTF8) and quoted-pairSMTP is "\" %d32-126.  The unescaped content is
 * written to buf; more than bufsz bytes of it is SMTP_ADDR_TOO_LONG (the
 * caller passes 64 bytes, and content that does not fit means a received
 * local part of at least 67 octets).  Returns the content length.
 */
static size_t
quoted_string(struct cur *c, unsigned char *buf, size_t bufsz)
{
	size_t n = 0;

	expect(c, '"');
	for (;;) {
		int b = peek(c);
		if (b == '"') {
			c->p++;
			break;
		}
		const unsigned char *from = c->p;
		if (b == '\\') {
			c->p++;
			b = peek(c);
			if (b < 32 || b > 126) {	/* controls, DEL, non-ASCII, end */
				bad(c);
				break;
			}
			from = c->p++;
		} else if (b >= 32 && b <= 126) {
			c->p++;
		} else if (b >= 0x80) {
			take_utf8(c);
		} else {	/* controls incl. NUL, CR, LF; DEL; end of input */
			bad(c);
		}
		if (c->err != SMTP_ADDR_OK)
			break;
		size_t k = (size_t)(c->p - from);
		if (k > bufsz - n) {
			fail(c, SMTP_ADDR_TOO_LONG);
			break;
		}
		memcpy(buf + n, from, k);
		n += k;
	}
	return n;
}

/*
 * Domain (RFC 5321 4.1.2), with U-labels under SMTPUTF8 (RFC 6531 3.3):
 * the one domain check, mail/domain.c, which stops at the first byte that
 * cannot continue the name; what follows is the caller's business.  Its
 * first problem becomes ours: a label over 63 octets or malformed UTF-8 is
 * syntax, a name over 255 octets SMTP_ADDR_TOO_LONG, a byte >= 0x80
 * without SMTPUTF8 SMTP_ADDR_UTF8.
 */
static void
domain_name(struct cur *c)
{
	enum domain_err e;

	if (c->err != SMTP_ADDR_OK)
		return;
	c->p += domain_scan((const char *)c->p, (size_t)(c->end - c->p),
	    c->allow_utf8 ? DOMAIN_UTF8 : 0, &e);
	switch (e) {
	case DOMAIN_OK:
		break;
	case DOMAIN_ERR_SYNTAX:
		fail(c, SMTP_ADDR_SYNTAX);
		break;
	case DOMAIN_ERR_TOO_LONG:
		fail(c, SMTP_ADDR_TOO_LONG);
		break;
	case DOMAIN_ERR_8BIT:
		fail(c, SMTP_ADDR_UTF8);
		break;
	}
}

/*
 * address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
 * General-address-literal ) "]" (RFC 5321 4.1.3).  The address is checked
 * with inet_pton, which is stricter than the RFC in one way: glibc refuses
 * IPv4 octets with leading zeros ("01"), which RFC 5321's Snum allows; we
 * accept that, such literals are not seen from real clients.  The "IPv6:"
 * tag is matched case-insensitively (ABNF strings are).  General literals
 * ([tag:content]) are syntax: we support no other address family.
 */
static void
addr_literal(struct cur *c)
{
	char buf[64];	/* "IPv6:" + INET6_ADDRSTRLEN fits with room */
	size_t n = 0;

	expect(c, '[');
	for (;;) {
		int b = peek(c);
		if (b == ']' || b < 0)
			break;
		/* whitelist before inet_pton: a NUL would silently cut its
		 * C string, and nothing else belongs in v4 or v6 text */
		if (!is_alnum(b) && b != ':' && b != '.') {
			bad(c);
			break;
		}
		if (n + 1 >= sizeof buf) {
			fail(c, SMTP_ADDR_SYNTAX);
			break;
		}
		buf[n++] = (char)b;
		c->p++;
	}
	expect(c, ']');
	if (c->err != SMTP_ADDR_OK)
		return;
	buf[n] = '\0';

	int af = AF_INET;
	const char *a = buf;
	if (n >= 5 && ascii_memcaseeq(buf, "IPv6:", 5)) {
		af = AF_INET6;
		a = buf + 5;
	} else {
		for (size_t i = 0; i < n; i++)
			if (!((buf[i] >= '0' && buf[i] <= '9') || buf[i] == '.'))
				af = -1;	/* general literal or junk */
	}
	unsigned char addr[16];
	if (af < 0 || inet_pton(af, a, addr) != 1)
		fail(c, SMTP_ADDR_SYNTAX);
}

/* A-d-l = At-domain *("," At-domain) ":" (RFC 5321 4.1.2).  Obsolete; 4.1.2
 * and appendix C say to accept and ignore it, but every hop must still be
 * a valid Domain so that junk cannot ride along inside a "valid" path. */
static void
source_route(struct cur *c)
{
	do {
		expect(c, '@');
		domain_name(c);
	} while (take(c, ','));
	expect(c, ':');
}

/* True when s[0..n) (already checked bytes) is a Dot-string, i.e. a
 * quoted local part whose quotes carry no meaning. */
static bool
is_dot_string(const unsigned char *s, size_t n, bool allow_utf8)
{
	struct cur c = { s, s + n, SMTP_ADDR_OK, allow_utf8 };
	dot_string(&c);
	return c.err == SMTP_ADDR_OK && c.p == c.end;
}

/*
 * Canonical local part from the unescaped content of a quoted-string:
 * unquoted when the content is a Dot-string (RFC 5321 4.1.2: the forms are
 * equivalent), else quoted with only '"' and '\' escaped.  The result is
 * never longer than what the client sent, which had quotes and at least
 * those escapes.
 */
static void
canon_quoted(const unsigned char *s, size_t n, bool allow_utf8, char *dst, size_t dstsz)
{
	size_t o = 0;

	assert(2 * n + 3 <= dstsz);
	if (is_dot_string(s, n, allow_utf8)) {
		memcpy(dst, s, n);
		dst[n] = '\0';
		return;
	}
	dst[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			dst[o++] = '\\';
		dst[o++] = (char)s[i];
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

static bool
has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/*
 * Parse a path at the start of (p, len); see addr.h.  Limits: local part
 * 64 octets as received (quotes and backslashes included), domain 255,
 * whole path 256 from '<' to '>' inclusive (source route included, it is
 * part of the Path production); over any of them SMTP_ADDR_TOO_LONG.  On
 * error *out is all zero and *consumed is 0.
 */
enum smtp_addr_err
smtp_path_parse(const char *p, size_t len, bool is_reverse, bool allow_utf8,
    struct smtp_path *out, size_t *consumed)
{
	const unsigned char *start = (const unsigned char *)p;
	struct cur c = { start, start + len, SMTP_ADDR_OK, allow_utf8 };
	unsigned char content[SMTP_LOCAL_MAX];	/* local part, unquoted */
	size_t n_content = 0;
	const unsigned char *dom = NULL;
	size_t n_dom = 0;
	bool is_null = false, is_pm = false, is_quoted = false;

	memset(out, 0, sizeof *out);
	*consumed = 0;

	expect(&c, '<');
	if (peek(&c) == '>') {
		/* "<>" is only a Reverse-path (RFC 5321 4.1.1.2, 4.1.1.3) */
		is_null = true;
		if (!is_reverse)
			fail(&c, SMTP_ADDR_NULL_RCPT);
	} else if (!is_reverse && c.err == SMTP_ADDR_OK && c.end - c.p >= 11
	    && ascii_memcaseeq(c.p, "Postmaster>", 11)) {
		/* RCPT TO:<Postmaster> without a domain (RFC 5321 4.1.1.3),
		 * case-insensitive since 4.5.1 says so; no source route */
		is_pm = true;
		memcpy(content, c.p, 10);
		n_content = 10;
		c.p += 10;
	} else {
		if (peek(&c) == '@')
			source_route(&c);
		const unsigned char *lp = c.p;
		if (peek(&c) == '"') {
			is_quoted = true;
			/* content that overflows 64 bytes means at least 67
			 * received octets, so TOO_LONG is right either way */
			n_content = quoted_string(&c, content, sizeof content);
		} else {
			dot_string(&c);
		}
		if (c.err == SMTP_ADDR_OK && c.p - lp > SMTP_LOCAL_MAX)
			fail(&c, SMTP_ADDR_TOO_LONG);
		if (c.err == SMTP_ADDR_OK && !is_quoted) {
			n_content = (size_t)(c.p - lp);
			memcpy(content, lp, n_content);
		}
		expect(&c, '@');
		dom = c.p;
		if (peek(&c) == '[')
			addr_literal(&c);
		else
			domain_name(&c);
		n_dom = (size_t)(c.p - dom);
	}
	expect(&c, '>');
	if (c.err == SMTP_ADDR_OK && c.p - start > SMTP_PATH_MAX)
		fail(&c, SMTP_ADDR_TOO_LONG);
	if (c.err != SMTP_ADDR_OK)
		return c.err;

	/* Everything is checked; only copying is left. */
	assert(n_content <= SMTP_LOCAL_MAX && n_dom <= SMTP_DOMAIN_MAX);
	out->is_null = is_null;
	out->is_postmaster = is_pm;
	out->is_quoted = is_quoted;
	out->is_literal = n_dom > 0 && dom[0] == '[';
	if (is_quoted) {
		canon_quoted(content, n_content, allow_utf8, out->local, sizeof out->local);
	} else {
		memcpy(out->local, content, n_content);
		out->local[n_content] = '\0';
	}
	if (n_dom > 0)
		memcpy(out->domain, dom, n_dom);
	out->domain[n_dom] = '\0';
	out->is_utf8 = has_8bit(out->local) || has_8bit(out->domain);
	*consumed = (size_t)(c.p - start);
	return SMTP_ADDR_OK;
}

/* True when all of (p, len) is a Domain (a name, not a literal; see
 * smtp_addr_literal_valid), at most 255 octets: domain_valid() under the
 * SMTP name, kept for its callers. */
bool
smtp_domain_valid(const char *p, size_t len, bool allow_utf8)
{
	return domain_valid(p, len, allow_utf8 ? DOMAIN_UTF8 : 0);
}

/* True when all of (p, len) is an IPv4 or IPv6 address literal with its
 * brackets, e.g. "[192.0.2.1]" or "[IPv6:2001:db8::1]". */
bool
smtp_addr_literal_valid(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	struct cur c = { s, s + len, SMTP_ADDR_OK, false };

	addr_literal(&c);
	return c.err == SMTP_ADDR_OK && c.p == c.end;
}

/* "local@domain", "Postmaster" (as the client spelt it) for a bare
 * <Postmaster>, "" for the null path or a zeroed struct.  Truncated to
 * dstsz-1 bytes; SMTP_PATH_MAX * 2 is always enough.  The text may hold
 * spaces, quotes, backslashes and UTF-8: escape it before logging. */
void
smtp_path_str(const struct smtp_path *path, char *dst, size_t dstsz)
{
	if (dstsz == 0)
		return;
	if (path->is_null || path->local[0] == '\0')
		dst[0] = '\0';
	else if (path->is_postmaster)
		snprintf(dst, dstsz, "%s", path->local);
	else
		snprintf(dst, dstsz, "%s@%s", path->local, path->domain);
}

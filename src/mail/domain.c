/*
 * mail/domain.c - domain-name syntax and local-domain membership (rules in
 * domain.h).
 *
 * Input:   names from the network (EHLO, MAIL, RCPT; pointer plus length,
 *          any bytes, NUL is data) and from admin-written files.
 * Output:  a verdict, and for domain_scan how far the name reaches and why
 *          it stopped.  No copies, no allocation.
 * Trusts:  nothing.  Runs in: smtp workers, parent and CLI.
 * Not here: address literals (smtp/addr.c), DNS lookups, IDNA2008 rules
 *          beyond UTF-8 well-formedness, which domains are ours (the
 *          caller's list: struct conf).
 */
#include "mail/domain.h"

#include <string.h>

#include "core/util.h"

static bool
is_ldh(unsigned char b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
	    b == '-';
}

size_t
domain_utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char b = p[0], lo = 0x80, hi = 0xBF;	/* range of byte 2 */
	size_t n;

	if (b >= 0xC2 && b <= 0xDF) {
		n = 2;
	} else if (b >= 0xE0 && b <= 0xEF) {
		n = 3;
		if (b == 0xE0)
			lo = 0xA0;	/* overlong */
		if (b == 0xED)
			hi = 0x9F;	/* surrogates */
	} else if (b >= 0xF0 && b <= 0xF4) {
		n = 4;
		if (b == 0xF0)
			lo = 0x90;	/* overlong */
		if (b == 0xF4)
			hi = 0x8F;	/* above U+10FFFF */
	} else {
		return 0;	/* ASCII, continuation byte, C0, C1, F5-FF */
	}
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/*
 * One left-to-right pass; the first problem wins, so a path parser that
 * calls this reports what the client would see first.  The length limit
 * is checked after every character, so an endless label stops at limit + 1
 * octets rather than at the label limit.  Labels count octets, so a
 * U-label whose A-label form would exceed 63 passes (known gap: we compare
 * domains as bytes and never turn them into DNS queries here).
 */
size_t
domain_scan(const char *p, size_t len, unsigned flags, enum domain_err *err)
{
	const unsigned char *s = (const unsigned char *)p, *end = s + len, *c = s;
	size_t max = (flags & DOMAIN_HOSTNAME) ? DOMAIN_HOSTNAME_MAX : DOMAIN_MAX;
	enum domain_err e = DOMAIN_OK;
	bool all_digits = true;	/* of the label last read */

	for (;;) {
		const unsigned char *label = c;
		all_digits = true;
		while (e == DOMAIN_OK && c < end) {
			if (is_ldh(*c)) {
				if (*c < '0' || *c > '9')
					all_digits = false;
				c++;
			} else if (*c >= 0x80) {
				size_t k = domain_utf8_len(c, (size_t)(end - c));
				all_digits = false;
				if (!(flags & DOMAIN_UTF8))
					e = DOMAIN_ERR_8BIT;
				else if (k == 0)
					e = DOMAIN_ERR_SYNTAX;
				else
					c += k;
			} else {
				break;
			}
			if (e == DOMAIN_OK && (size_t)(c - s) > max)
				e = DOMAIN_ERR_TOO_LONG;
		}
		if (e != DOMAIN_OK)
			break;
		size_t n = (size_t)(c - label);
		/* no empty label: no leading, double or trailing dot */
		if (n == 0 || label[0] == '-' || c[-1] == '-' || n > DOMAIN_LABEL_MAX) {
			e = DOMAIN_ERR_SYNTAX;
			break;
		}
		if (c == end || *c != '.')
			break;
		c++;
	}
	if (e == DOMAIN_OK && (flags & DOMAIN_HOSTNAME) && all_digits)
		e = DOMAIN_ERR_SYNTAX;
	*err = e;
	return (size_t)(c - s);
}

bool
domain_valid(const char *p, size_t len, unsigned flags)
{
	enum domain_err e;
	size_t n = domain_scan(p, len, flags, &e);
	return e == DOMAIN_OK && n == len;
}

bool
domain_in_list(const char *const *list, size_t n, const char *name)
{
	if (name == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_strcaseeq(list[i], name))
			return true;
	return false;
}

/*
 * msgauth/from.c - the domains of a From: field for DMARC (RFC 7489 6.6.1;
 * grammar of RFC 5322 3.4 with the obsolete forms of 4.4, UTF-8 atoms of
 * RFC 6532 3.2).  Declared in msgauth/dmarc.h.
 *
 * Input:   one header field value after the colon, unfolded, pointer plus
 *          length; any bytes.  Nothing about it is trusted.
 * Output:  the distinct domains of its addresses, lowercased.
 * Trusts:  nothing.  Runs in: policy / smtp worker.  Pure.
 * Not here: decoding of encoded words in display names (they are atoms
 *          to us), IDNA (dmarc.c turns U-labels into A-labels).
 *
 * One left-to-right pass over a cursor with a sticky error (STYLE.md 5).
 * The only nesting is comments, bounded by FROM_COMMENT_DEPTH; groups do
 * not nest.  Every loop consumes at least one byte or ends.
 */
#include <stdint.h>
#include <string.h>

#include "core/util.h"
#include "mail/domain.h"
#include "msgauth/dmarc.h"

#define FROM_COMMENT_DEPTH	32

struct fc {
	const unsigned char *p, *end;
	bool bad;
	char (*dom)[256];
	size_t max, n;
	size_t n_addr;		/* mailboxes seen */
	bool group;		/* a group was seen (an empty one is valid) */
};

static int
peek(const struct fc *c)
{
	return (c->bad || c->p == c->end) ? -1 : *c->p;
}

static void
fail(struct fc *c)
{
	c->bad = true;
}

static bool
is_atext(int ch)
{
	if (ch < 0)
		return false;
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return true;
	/* RFC 6532 3.2: UTF8-non-ascii joins atext; well-formedness of the
	 * domain is checked by mail/domain.c, display names are not ours */
	return ch >= 0x80 || (ch != 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

/* a comment, nested at most FROM_COMMENT_DEPTH deep; at '(' */
static void
comment(struct fc *c)
{
	unsigned depth = 0;

	while (!c->bad) {
		int ch = peek(c);
		if (ch < 0 || ch == 0) {
			fail(c);	/* unterminated, or a NUL */
			return;
		}
		c->p++;
		if (ch == '\\') {
			if (peek(c) < 0) {
				fail(c);
				return;
			}
			c->p++;
		} else if (ch == '(') {
			if (++depth > FROM_COMMENT_DEPTH)
				fail(c);
		} else if (ch == ')') {
			if (--depth == 0)
				return;
		}
	}
}

static void
skip_cfws(struct fc *c)
{
	for (;;) {
		int ch = peek(c);
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			c->p++;
		else if (ch == '(')
			comment(c);
		else
			return;
	}
}

/* at '"' */
static void
quoted_string(struct fc *c)
{
	c->p++;
	for (;;) {
		int ch = peek(c);
		if (ch <= 0) {
			fail(c);
			return;
		}
		c->p++;
		if (ch == '"')
			return;
		if (ch == '\\') {
			if (peek(c) < 0) {
				fail(c);
				return;
			}
			c->p++;
		}
	}
}

/* words, dots and CFWS: a phrase (display name, obs-phrase) or a local
 * part (with obs-local-part); how many words */
static size_t
words(struct fc *c)
{
	size_t n = 0;

	for (;;) {
		skip_cfws(c);
		int ch = peek(c);
		if (is_atext(ch)) {
			while (is_atext(peek(c)))
				c->p++;
			n++;
		} else if (ch == '"') {
			quoted_string(c);
			n++;
		} else if (ch == '.') {
			c->p++;
		} else {
			return n;
		}
	}
}

/* domain = dot-atom / obs-domain (CFWS around the dots); a domain
 * literal is refused: DMARC needs a name.  Written lowercased into out
 * (DOMAIN_MAX + 1), a final dot dropped; after the '@'. */
static void
domain(struct fc *c, char *out)
{
	size_t o = 0;

	skip_cfws(c);
	for (;;) {
		if (!is_atext(peek(c))) {
			/* "a@example.com." ends with a dot: tolerated, dropped */
			if (o == 0 || out[o - 1] != '.')
				fail(c);
			break;
		}
		while (is_atext(peek(c))) {
			if (o == DOMAIN_MAX) {
				fail(c);
				return;
			}
			out[o++] = (char)ascii_lower(*c->p++);
		}
		skip_cfws(c);
		if (peek(c) != '.')
			break;
		c->p++;
		if (o == DOMAIN_MAX) {
			fail(c);
			return;
		}
		out[o++] = '.';
		skip_cfws(c);
	}
	if (c->bad)
		return;
	if (o > 0 && out[o - 1] == '.')
		o--;
	out[o] = '\0';
	if (!domain_valid(out, o, DOMAIN_UTF8))
		fail(c);
}

static void
add_domain(struct fc *c, const char *d)
{
	c->n_addr++;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->dom[i], d) == 0)
			return;
	/* more distinct domains than the caller evaluates: refuse rather
	 * than leave one unchecked */
	if (c->n == c->max) {
		fail(c);
		return;
	}
	memcpy(c->dom[c->n++], d, strlen(d) + 1);
}

/* addr-spec after its local part; at '@' */
static void
addr_domain(struct fc *c)
{
	char d[DOMAIN_MAX + 1];

	c->p++;
	domain(c, d);
	if (!c->bad)
		add_domain(c, d);
}

/* obs-route = obs-domain-list ":", with obs-domain-list =
 * *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain]); at '@' */
static void
route(struct fc *c)
{
	char d[DOMAIN_MAX + 1];

	while (!c->bad) {
		skip_cfws(c);
		int ch = peek(c);
		if (ch == ':') {
			c->p++;
			return;
		}
		if (ch == ',') {
			c->p++;
		} else if (ch == '@') {
			c->p++;
			domain(c, d);
		} else {
			fail(c);
		}
	}
}

/* angle-addr / obs-angle-addr; at '<' */
static void
angle_addr(struct fc *c)
{
	c->p++;
	skip_cfws(c);
	if (peek(c) == '@')
		route(c);
	if (words(c) == 0 || peek(c) != '@') {
		fail(c);	/* "<>" or no local part: not a From: address */
		return;
	}
	addr_domain(c);
	skip_cfws(c);
	if (peek(c) != '>') {
		fail(c);
		return;
	}
	c->p++;
}

/* the rest of a mailbox once its leading words are read */
static void
mailbox_rest(struct fc *c, size_t n_words)
{
	skip_cfws(c);
	int ch = peek(c);
	if (ch == '<')
		angle_addr(c);
	else if (ch == '@' && n_words > 0)
		addr_domain(c);
	else
		fail(c);
}

/* group-list after "display-name :": mailboxes up to ';' */
static void
group_list(struct fc *c)
{
	c->group = true;
	while (!c->bad) {
		skip_cfws(c);
		int ch = peek(c);
		if (ch == ';') {
			c->p++;
			return;
		}
		if (ch == ',') {
			c->p++;		/* obs-group-list, obs-mbox-list */
			continue;
		}
		mailbox_rest(c, words(c));
		skip_cfws(c);
		ch = peek(c);
		if (ch == ',')
			c->p++;
		else if (ch != ';')
			fail(c);
	}
}

static void
address(struct fc *c)
{
	size_t n = words(c);

	skip_cfws(c);
	if (peek(c) == ':' && n > 0) {
		c->p++;
		group_list(c);
	} else {
		mailbox_rest(c, n);
	}
}

int
dmarc_from_domains(const char *value, size_t len, char (*dom)[256], size_t max)
{
	struct fc c = {
		.p = (const unsigned char *)value, .end = (const unsigned char *)value + len,
		.dom = dom, .max = max,
	};

	while (!c.bad) {
		skip_cfws(&c);
		int ch = peek(&c);
		if (ch < 0)
			break;
		if (ch == ',') {
			c.p++;		/* obs-mbox-list: empty elements */
			continue;
		}
		address(&c);
		skip_cfws(&c);
		ch = peek(&c);
		if (ch == ',')
			c.p++;
		else if (ch >= 0)
			fail(&c);
	}
	/* an address list has at least one address (or an empty group) */
	if (c.bad || (c.n_addr == 0 && !c.group))
		return -1;
	return (int)c.n;
}

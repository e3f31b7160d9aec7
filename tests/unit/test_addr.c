/*
 * tests/unit/test_addr.c - reverse-path and forward-path parsing
 * (smtp/addr.c).
 *
 * Every table case runs twice: on the literal (pointer + length, so an
 * embedded NUL is data) and on a copy in a malloc block of exactly that
 * length, so ASan stops any read past len.  A path that parses whole is
 * also cut short at every length (each strict prefix must be refused),
 * and its canonical text, re-wrapped in <>, must parse to the same path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "core/util.h"
#include "smtp/addr.h"

/* Pointer and length of a literal, NULs included. */
#define S(s) s, sizeof(s) - 1

enum { F_NULL = 1, F_PM = 2, F_Q = 4, F_U8 = 8, F_LIT = 16 };

#define OK	SMTP_ADDR_OK
#define SYN	SMTP_ADDR_SYNTAX
#define LONG	SMTP_ADDR_TOO_LONG
#define UTF8	SMTP_ADDR_UTF8
#define NULLR	SMTP_ADDR_NULL_RCPT

/* Which side of the conversation the path is on. */
enum { MAIL = 1, RCPT = 2, BOTH = 3 };

struct pcase {
	const char *in;
	size_t len;
	int side;		/* MAIL, RCPT or BOTH */
	bool utf8;		/* allow_utf8 */
	enum smtp_addr_err err;
	const char *local;	/* expected when err == OK */
	const char *domain;
	int flags;
	size_t consumed;	/* 0: the whole input */
};

static const struct pcase cases[] = {
	/* -- dot-strings -- */
	{ S("<a@b>"), BOTH, false, OK, "a", "b", 0, 0 },
	{ S("<John.Smith@Example.COM>"), BOTH, false, OK, "John.Smith", "Example.COM", 0, 0 },
	{ S("<!#$%&'*+-/=?^_`{|}~@x.y>"), BOTH, false, OK, "!#$%&'*+-/=?^_`{|}~", "x.y", 0, 0 },
	{ S("<a.b.c@d>"), BOTH, false, OK, "a.b.c", "d", 0, 0 },
	{ S("<1@2.3>"), BOTH, false, OK, "1", "2.3", 0, 0 },
	{ S("<a@b.c-d.e>"), BOTH, false, OK, "a", "b.c-d.e", 0, 0 },
	{ S("<a@x--y.example>"), BOTH, false, OK, "a", "x--y.example", 0, 0 },
	{ S("<.a@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a.@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a..b@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a b@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a(b)@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a,b@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a\"b\"@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\"b@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a\\b@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("< a@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b >"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("< >"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<<a@b>>"), BOTH, false, SYN, 0, 0, 0, 0 },
	/* -- brackets are required; nothing but the path itself is read -- */
	{ S("a@b"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("a@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S(""), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S(" <a@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=10"), BOTH, false, OK, "a", "b", 0, 5 },
	{ S("<a@b>garbage"), BOTH, false, OK, "a", "b", 0, 5 },
	{ S("<a@b>>"), BOTH, false, OK, "a", "b", 0, 5 },
	/* -- domains -- */
	{ S("<a@localhost>"), BOTH, false, OK, "a", "localhost", 0, 0 },
	{ S("<a@b.>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@.b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b..c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@-b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b->"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b.-c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b_c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b:c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	/* -- controls and NUL anywhere -- */
	{ S("<a\0@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b\0>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\0a@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a\r@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b\n>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b\r\n>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a\t@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a\x7f@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@b\x1b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	/* -- quoted local parts: canonical form -- */
	{ S("<\"a.b\"@c>"), BOTH, false, OK, "a.b", "c", F_Q, 0 },
	{ S("<\"a\"@c>"), BOTH, false, OK, "a", "c", F_Q, 0 },
	{ S("<\"\\a\"@c>"), BOTH, false, OK, "a", "c", F_Q, 0 },
	{ S("<\"a b\"@c>"), BOTH, false, OK, "\"a b\"", "c", F_Q, 0 },
	{ S("<\"a\\ b\"@c>"), BOTH, false, OK, "\"a b\"", "c", F_Q, 0 },
	{ S("<\"a\\\"b\"@c>"), BOTH, false, OK, "\"a\\\"b\"", "c", F_Q, 0 },
	{ S("<\"a\\\\b\"@c>"), BOTH, false, OK, "\"a\\\\b\"", "c", F_Q, 0 },
	{ S("<\"a\\\\\"@c>"), BOTH, false, OK, "\"a\\\\\"", "c", F_Q, 0 },
	{ S("<\"\"@c>"), BOTH, false, OK, "\"\"", "c", F_Q, 0 },
	{ S("<\"\\ \"@c>"), BOTH, false, OK, "\" \"", "c", F_Q, 0 },
	{ S("<\"a..b\"@c>"), BOTH, false, OK, "\"a..b\"", "c", F_Q, 0 },
	{ S("<\".a\"@c>"), BOTH, false, OK, "\".a\"", "c", F_Q, 0 },
	{ S("<\"a@b\"@c>"), BOTH, false, OK, "\"a@b\"", "c", F_Q, 0 },
	{ S("<\"a>b\"@c>"), BOTH, false, OK, "\"a>b\"", "c", F_Q, 0 },
	{ S("<\"a,b:c\"@d>"), BOTH, false, OK, "\"a,b:c\"", "d", F_Q, 0 },
	{ S("<\"Postmaster\">"), RCPT, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\\\"@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\"\"b\"@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\".b@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\x01\"@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\\\x01\"@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\x7f\"@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\\\x7f\"@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\0\"@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\\\0\"@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\r\n\"@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\t\"@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<\"a\\"), BOTH, false, SYN, 0, 0, 0, 0 },
	/* -- source routes: accepted, validated, ignored -- */
	{ S("<@a,@b:u@c>"), BOTH, false, OK, "u", "c", 0, 0 },
	{ S("<@a.example:u@c>"), BOTH, false, OK, "u", "c", 0, 0 },
	{ S("<@a,@b.c,@d:\"x y\"@e> X"), BOTH, false, OK, "\"x y\"", "e", F_Q, 20 },
	{ S("<@a,b:u@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<@a:>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<@a:@b>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<@:u@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<@a@b:u@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<@a,:u@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<@a.:u@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<@[192.0.2.1]:u@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<@a:Postmaster>"), RCPT, false, SYN, 0, 0, 0, 0 },
	{ S("<@a u@c>"), BOTH, false, SYN, 0, 0, 0, 0 },
	/* -- address literals -- */
	{ S("<a@[192.0.2.1]>"), BOTH, false, OK, "a", "[192.0.2.1]", F_LIT, 0 },
	{ S("<a@[0.0.0.0]>"), BOTH, false, OK, "a", "[0.0.0.0]", F_LIT, 0 },
	{ S("<a@[255.255.255.255]>"), BOTH, false, OK, "a", "[255.255.255.255]", F_LIT, 0 },
	{ S("<a@[IPv6:2001:db8::1]>"), BOTH, false, OK, "a", "[IPv6:2001:db8::1]", F_LIT, 0 },
	{ S("<a@[ipv6:::1]>"), BOTH, false, OK, "a", "[ipv6:::1]", F_LIT, 0 },
	{ S("<a@[IPv6:::ffff:192.0.2.1]>"), BOTH, false, OK, "a", "[IPv6:::ffff:192.0.2.1]", F_LIT, 0 },
	{ S("<a@[IPv6:1:2:3:4:5:6:7:8]>"), BOTH, false, OK, "a", "[IPv6:1:2:3:4:5:6:7:8]", F_LIT, 0 },
	{ S("<a@[300.1.1.1]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[1.2.3]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[1.2.3.4.5]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[1.2.3.]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[01.2.3.4]>"), BOTH, false, SYN, 0, 0, 0, 0 },	/* inet_pton, see addr.c */
	{ S("<a@[IPv6:zz]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[IPv6:1::2::3]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[IPv6:1:2:3:4:5:6:7:8:9]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[IPv6:192.0.2.1]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[IPv6:]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[2001:db8::1]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[tag:content]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[x-tag:content]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[example.com]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[192.0.2.1>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[192.0.2.1]x>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[192.0.2.1\0]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[192.0.2.1 ]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@x.[192.0.2.1]>"), BOTH, false, SYN, 0, 0, 0, 0 },
	{ S("<a@[IPv6:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:1]>"), BOTH, false,
	    SYN, 0, 0, 0, 0 },
	/* -- null path and Postmaster -- */
	{ S("<>"), MAIL, false, OK, "", "", F_NULL, 0 },
	{ S("<> SIZE=1"), MAIL, false, OK, "", "", F_NULL, 2 },
	{ S("<>"), RCPT, false, NULLR, 0, 0, 0, 0 },
	{ S("<>"), RCPT, true, NULLR, 0, 0, 0, 0 },
	{ S("<Postmaster>"), RCPT, false, OK, "Postmaster", "", F_PM, 0 },
	{ S("<postmaster>"), RCPT, false, OK, "postmaster", "", F_PM, 0 },
	{ S("<POSTMASTER> X"), RCPT, false, OK, "POSTMASTER", "", F_PM, 12 },
	{ S("<Postmaster>"), MAIL, false, SYN, 0, 0, 0, 0 },
	{ S("<Postmaster@example.org>"), BOTH, false, OK, "Postmaster", "example.org", 0, 0 },
	{ S("<Postmasterx>"), RCPT, false, SYN, 0, 0, 0, 0 },
	{ S("<Postmaster >"), RCPT, false, SYN, 0, 0, 0, 0 },
	{ S("<Postmaster"), RCPT, false, SYN, 0, 0, 0, 0 },
	{ S("<Postmaste>"), RCPT, false, SYN, 0, 0, 0, 0 },
	/* -- SMTPUTF8 (RFC 6531) -- */
	{ S("<\xc3\xbc@b>"), BOTH, true, OK, "\xc3\xbc", "b", F_U8, 0 },
	{ S("<\xc3\xbc@b>"), BOTH, false, UTF8, 0, 0, 0, 0 },
	{ S("<a@b\xc3\xbc" "cher.de>"), BOTH, true, OK, "a", "b\xc3\xbc" "cher.de", F_U8, 0 },
	{ S("<a@b\xc3\xbc" "cher.de>"), BOTH, false, UTF8, 0, 0, 0, 0 },
	{ S("<a@\xe4\xbe\x8b.\xe6\xb5\x8b\xe8\xaf\x95>"), BOTH, true, OK, "a",
	    "\xe4\xbe\x8b.\xe6\xb5\x8b\xe8\xaf\x95", F_U8, 0 },
	{ S("<a@b>"), BOTH, true, OK, "a", "b", 0, 0 },
	{ S("<\"\xc3\xbc\"@b>"), BOTH, true, OK, "\xc3\xbc", "b", F_Q | F_U8, 0 },
	{ S("<\"\xc3\xbc x\"@b>"), BOTH, true, OK, "\"\xc3\xbc x\"", "b", F_Q | F_U8, 0 },
	{ S("<\"\xc3\xbc\"@b>"), BOTH, false, UTF8, 0, 0, 0, 0 },
	{ S("<\"\\\xc3\xbc\"@b>"), BOTH, true, SYN, 0, 0, 0, 0 },	/* quoted-pair is ASCII */
	{ S("<\"\\\xc3\xbc\"@b>"), BOTH, false, UTF8, 0, 0, 0, 0 },
	{ S("<a@[192.0.2.\xc3\xbc]>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<a@[192.0.2.\xc3\xbc]>"), BOTH, false, UTF8, 0, 0, 0, 0 },
	{ S("<@\xc3\xbc:a@b>"), BOTH, false, UTF8, 0, 0, 0, 0 },
	{ S("<@\xc3\xbc:a@b>"), BOTH, true, OK, "a", "b", 0, 0 },	/* route is dropped */
	{ S("<a@-\xc3\xbc>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xc3\xbc.\xc3\xbc@\xc3\xbc>"), BOTH, true, OK, "\xc3\xbc.\xc3\xbc", "\xc3\xbc", F_U8, 0 },
	/* well-formed edges: U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF,
	 * U+10000, U+10FFFF */
	{ S("<\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"
	    "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf@b>"), BOTH, true, OK,
	    "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"
	    "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "b", F_U8, 0 },
	/* malformed: all syntax with SMTPUTF8, all UTF8 without */
	{ S("<\x80@b>"), BOTH, true, SYN, 0, 0, 0, 0 },			/* lone continuation */
	{ S("<\x80@b>"), BOTH, false, UTF8, 0, 0, 0, 0 },
	{ S("<\xc0\x80@b>"), BOTH, true, SYN, 0, 0, 0, 0 },		/* overlong NUL */
	{ S("<\xc1\xbf@b>"), BOTH, true, SYN, 0, 0, 0, 0 },		/* overlong */
	{ S("<\xe0\x80\x80@b>"), BOTH, true, SYN, 0, 0, 0, 0 },		/* overlong 3 */
	{ S("<\xe0\x9f\xbf@b>"), BOTH, true, SYN, 0, 0, 0, 0 },		/* overlong 3 */
	{ S("<\xf0\x80\x80\x80@b>"), BOTH, true, SYN, 0, 0, 0, 0 },	/* overlong 4 */
	{ S("<\xf0\x8f\xbf\xbf@b>"), BOTH, true, SYN, 0, 0, 0, 0 },	/* overlong 4 */
	{ S("<\xed\xa0\x80@b>"), BOTH, true, SYN, 0, 0, 0, 0 },		/* U+D800 */
	{ S("<\xed\xbf\xbf@b>"), BOTH, true, SYN, 0, 0, 0, 0 },		/* U+DFFF */
	{ S("<\xf4\x90\x80\x80@b>"), BOTH, true, SYN, 0, 0, 0, 0 },	/* U+110000 */
	{ S("<\xf5\x80\x80\x80@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xff@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xfe@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xc3@b>"), BOTH, true, SYN, 0, 0, 0, 0 },			/* truncated */
	{ S("<\xe4\xbe@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xf0\x90\x80@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	/* a non-continuation byte where a continuation belongs */
	{ S("<\xc3" "a@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xe4\xbe" "a@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xe4" "aa@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xf0\x90\x80" "a@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xf0\x90" "aa@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xc3\xc3\xbc@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<a@b\xc3"), BOTH, true, SYN, 0, 0, 0, 0 },			/* at end of input */
	{ S("<a@b\xf0\x90\x80"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<a@b\xc3\xbc\x80>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\"\xc3\"@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\"\xed\xa0\x80\"@b>"), BOTH, true, SYN, 0, 0, 0, 0 },
	{ S("<\xc3\xbc@b\xff>"), BOTH, false, UTF8, 0, 0, 0, 0 },
};

static const char *
err_name(enum smtp_addr_err e)
{
	switch (e) {
	case SMTP_ADDR_OK: return "OK";
	case SMTP_ADDR_SYNTAX: return "SYNTAX";
	case SMTP_ADDR_TOO_LONG: return "TOO_LONG";
	case SMTP_ADDR_UTF8: return "UTF8";
	case SMTP_ADDR_NULL_RCPT: return "NULL_RCPT";
	}
	return "?";
}

/* A malloc block of exactly n bytes holding p[0..n). */
static char *
dup_exact(const char *p, size_t n)
{
	char *q = xmalloc(n);
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

static int
flags_of(const struct smtp_path *pa)
{
	return (pa->is_null ? F_NULL : 0) | (pa->is_postmaster ? F_PM : 0)
	    | (pa->is_quoted ? F_Q : 0) | (pa->is_utf8 ? F_U8 : 0) | (pa->is_literal ? F_LIT : 0);
}

static bool
all_zero(const struct smtp_path *pa)
{
	static const struct smtp_path zero;
	return memcmp(pa, &zero, sizeof zero) == 0;
}

/* Parse on an exact heap copy, so ASan sees reads past len. */
static enum smtp_addr_err
parse_exact(const char *in, size_t len, bool rev, bool utf8, struct smtp_path *out,
    size_t *consumed)
{
	char *copy = dup_exact(in, len);
	enum smtp_addr_err e = smtp_path_parse(copy, len, rev, utf8, out, consumed);
	free(copy);
	return e;
}

static void
check_case(const struct pcase *c, size_t idx, bool rev)
{
	struct smtp_path a, b;
	size_t ca = 99, cb = 99;
	char esc[1200];

	enum smtp_addr_err ea = smtp_path_parse(c->in, c->len, rev, c->utf8, &a, &ca);
	enum smtp_addr_err eb = parse_exact(c->in, c->len, rev, c->utf8, &b, &cb);
	log_escape(esc, sizeof esc, c->in, c->len);

	if (ea != c->err || eb != c->err) {
		fprintf(stderr, "  case %zu \"%s\" %s utf8=%d: got %s/%s, want %s\n", idx, esc,
		    rev ? "MAIL" : "RCPT", c->utf8, err_name(ea), err_name(eb), err_name(c->err));
		t_cur_failed = 1;
		return;
	}
	if (ca != cb || memcmp(&a, &b, sizeof a) != 0) {
		fprintf(stderr, "  case %zu \"%s\": literal and heap copy disagree\n", idx, esc);
		t_cur_failed = 1;
	}
	if (c->err != SMTP_ADDR_OK) {
		if (ca != 0 || !all_zero(&a)) {
			fprintf(stderr, "  case %zu \"%s\": error but output not cleared\n", idx, esc);
			t_cur_failed = 1;
		}
		return;
	}
	size_t want_consumed = c->consumed ? c->consumed : c->len;
	if (ca != want_consumed || strcmp(a.local, c->local) != 0
	    || strcmp(a.domain, c->domain) != 0 || flags_of(&a) != c->flags) {
		char l[300], d[600];
		log_escape(l, sizeof l, a.local, strlen(a.local));
		log_escape(d, sizeof d, a.domain, strlen(a.domain));
		fprintf(stderr, "  case %zu \"%s\": got local=\"%s\" domain=\"%s\" flags=%d "
		    "consumed=%zu\n", idx, esc, l, d, flags_of(&a), ca);
		t_cur_failed = 1;
	}
}

T(path_table)
{
	for (size_t i = 0; i < NELEM(cases); i++) {
		if (cases[i].side & MAIL)
			check_case(&cases[i], i, true);
		if (cases[i].side & RCPT)
			check_case(&cases[i], i, false);
	}
}

/* Every strict prefix of a path that parses whole lacks its '>' and must be
 * refused, without reading past the shortened length. */
T(path_prefixes_refused)
{
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct pcase *c = &cases[i];
		if (c->err != SMTP_ADDR_OK)
			continue;
		size_t full = c->consumed ? c->consumed : c->len;
		for (size_t n = 0; n < full; n++) {
			struct smtp_path pa;
			size_t used;
			bool rev = (c->side & MAIL) != 0;
			if (parse_exact(c->in, n, rev, c->utf8, &pa, &used) == SMTP_ADDR_OK) {
				fprintf(stderr, "  case %zu: prefix of %zu bytes accepted\n", i, n);
				t_cur_failed = 1;
			}
		}
	}
}

/* The canonical text of a path, put back in <>, parses to the same path:
 * what we log and store is itself a valid, equivalent path. */
T(path_canonical_roundtrip)
{
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct pcase *c = &cases[i];
		if (c->err != SMTP_ADDR_OK || (c->flags & (F_NULL | F_PM)))
			continue;
		struct smtp_path a, b;
		size_t used;
		char txt[SMTP_PATH_MAX * 2], wrapped[SMTP_PATH_MAX * 2 + 2];
		CHECK_INT(smtp_path_parse(c->in, c->len, true, c->utf8, &a, &used), SMTP_ADDR_OK);
		smtp_path_str(&a, txt, sizeof txt);
		int n = snprintf(wrapped, sizeof wrapped, "<%s>", txt);
		CHECK_INT(parse_exact(wrapped, (size_t)n, true, c->utf8, &b, &used), SMTP_ADDR_OK);
		CHECK_INT(used, n);
		CHECK_STR(b.local, a.local);
		CHECK_STR(b.domain, a.domain);
		CHECK(b.is_utf8 == a.is_utf8 && b.is_literal == a.is_literal);
	}
}

/* ---- length limits, exactly at and one over ---------------------------- */

/* n bytes of ch into dst at *o */
static void
fill(char *dst, size_t *o, int ch, size_t n)
{
	memset(dst + *o, ch, n);
	*o += n;
}

static void
put(char *dst, size_t *o, const char *s)
{
	size_t n = strlen(s);
	memcpy(dst + *o, s, n);
	*o += n;
}

/* A domain of exactly n octets (n >= 1) made of 63-octet labels. */
static void
put_domain(char *dst, size_t *o, size_t n)
{
	while (n > 0) {
		size_t l = n > 63 ? 63 : n;
		if (n - l == 1)		/* never leave a lone "." at the end */
			l--;
		fill(dst, o, 'd', l);
		n -= l;
		if (n > 0) {
			put(dst, o, ".");
			n--;
		}
	}
}

/* The parse result of a whole-buffer path; -1 if it stopped short. */
static int
parse_buf(const char *buf, size_t n, bool utf8, struct smtp_path *pa)
{
	size_t used;
	enum smtp_addr_err e = parse_exact(buf, n, true, utf8, pa, &used);
	if (e == SMTP_ADDR_OK && used != n)
		return -1;
	return (int)e;
}

T(local_part_64)
{
	char buf[600];
	struct smtp_path pa;
	size_t o;

	for (size_t n = 63; n <= 66; n++) {
		o = 0;
		put(buf, &o, "<");
		fill(buf, &o, 'l', n);
		put(buf, &o, "@b>");
		CHECK_INT(parse_buf(buf, o, false, &pa), n <= 64 ? SMTP_ADDR_OK : SMTP_ADDR_TOO_LONG);
		if (n == 64)
			CHECK_INT(strlen(pa.local), 64);
	}
	/* quoted: the limit counts the quotes */
	for (size_t n = 61; n <= 64; n++) {
		o = 0;
		put(buf, &o, "<\"");
		fill(buf, &o, ' ', n);
		put(buf, &o, "\"@b>");
		CHECK_INT(parse_buf(buf, o, false, &pa), n + 2 <= 64 ? SMTP_ADDR_OK : SMTP_ADDR_TOO_LONG);
	}
	/* ... and the backslashes: 31 escaped quotes = 62 octets + 2 */
	o = 0;
	put(buf, &o, "<\"");
	for (int i = 0; i < 31; i++)
		put(buf, &o, "\\\"");
	put(buf, &o, "\"@b>");
	CHECK_INT(parse_buf(buf, o, false, &pa), SMTP_ADDR_OK);
	CHECK_INT(strlen(pa.local), 64);
	o = 0;
	put(buf, &o, "<\"x");
	for (int i = 0; i < 31; i++)
		put(buf, &o, "\\\"");
	put(buf, &o, "\"@b>");
	CHECK_INT(parse_buf(buf, o, false, &pa), SMTP_ADDR_TOO_LONG);
	/* unnecessary escapes count as received, then vanish */
	o = 0;
	put(buf, &o, "<\"");
	for (int i = 0; i < 31; i++)
		put(buf, &o, "\\a");
	put(buf, &o, "\"@b>");
	CHECK_INT(parse_buf(buf, o, false, &pa), SMTP_ADDR_OK);
	CHECK_INT(strlen(pa.local), 31);
	/* UTF-8 counts octets: 32 x U+00FC = 64 octets */
	for (size_t n = 32; n <= 33; n++) {
		o = 0;
		put(buf, &o, "<");
		for (size_t i = 0; i < n; i++)
			put(buf, &o, "\xc3\xbc");
		put(buf, &o, "@b>");
		CHECK_INT(parse_buf(buf, o, true, &pa), n == 32 ? SMTP_ADDR_OK : SMTP_ADDR_TOO_LONG);
	}
	/* a very long local part is refused without trouble */
	o = 0;
	put(buf, &o, "<\"");
	fill(buf, &o, 'q', 500);
	put(buf, &o, "\"@b>");
	CHECK_INT(parse_buf(buf, o, false, &pa), SMTP_ADDR_TOO_LONG);
}

T(domain_255_and_labels_63)
{
	char buf[600];
	size_t o;

	for (size_t n = 253; n <= 257; n++) {
		o = 0;
		put_domain(buf, &o, n);
		CHECK_INT(o, n);
		CHECK(smtp_domain_valid(buf, o, false) == (n <= 255));
		char *copy = dup_exact(buf, o);
		CHECK(smtp_domain_valid(copy, o, false) == (n <= 255));
		free(copy);
	}
	for (size_t n = 62; n <= 65; n++) {
		o = 0;
		fill(buf, &o, 'x', n);
		put(buf, &o, ".example");
		CHECK(smtp_domain_valid(buf, o, false) == (n <= 63));
	}
	/* in a path, a 64-octet label is syntax, a 256-octet name too long */
	struct smtp_path pa;
	o = 0;
	put(buf, &o, "<a@");
	fill(buf, &o, 'x', 64);
	put(buf, &o, ">");
	CHECK_INT(parse_buf(buf, o, false, &pa), SMTP_ADDR_SYNTAX);
	o = 0;
	put(buf, &o, "<a@");
	put_domain(buf, &o, 256);
	put(buf, &o, ">");
	CHECK_INT(parse_buf(buf, o, false, &pa), SMTP_ADDR_TOO_LONG);
	/* a 255-octet domain is valid but cannot fit in a 256-octet path */
	o = 0;
	put(buf, &o, "<a@");
	put_domain(buf, &o, 255);
	put(buf, &o, ">");
	CHECK_INT(parse_buf(buf, o, false, &pa), SMTP_ADDR_TOO_LONG);
	/* a U-label counts octets: 21 x 3 = 63 octets */
	for (size_t n = 21; n <= 22; n++) {
		o = 0;
		for (size_t i = 0; i < n; i++)
			put(buf, &o, "\xe4\xbe\x8b");
		CHECK(smtp_domain_valid(buf, o, true) == (n == 21));
	}
}

T(path_256)
{
	char buf[600];
	struct smtp_path pa;
	size_t o;

	/* "<" + 64 + "@" + domain + ">" = 256 when the domain is 189 */
	for (size_t d = 188; d <= 190; d++) {
		o = 0;
		put(buf, &o, "<");
		fill(buf, &o, 'l', 64);
		put(buf, &o, "@");
		put_domain(buf, &o, d);
		put(buf, &o, ">");
		CHECK_INT(o, d + 67);
		CHECK_INT(parse_buf(buf, o, false, &pa), o <= 256 ? SMTP_ADDR_OK : SMTP_ADDR_TOO_LONG);
	}
	/* a source route counts: it is part of the Path */
	for (size_t r = 0; r <= 1; r++) {
		o = 0;
		put(buf, &o, "<@");
		fill(buf, &o, 'r', 61 + r);
		put(buf, &o, ":");
		fill(buf, &o, 'l', 64);
		put(buf, &o, "@");
		put_domain(buf, &o, 126);
		put(buf, &o, ">");
		CHECK_INT(o, 256 + r);
		CHECK_INT(parse_buf(buf, o, false, &pa), r == 0 ? SMTP_ADDR_OK : SMTP_ADDR_TOO_LONG);
	}
	/* the longest canonical text fits the buffers the server uses */
	o = 0;
	put(buf, &o, "<");
	fill(buf, &o, 'l', 64);
	put(buf, &o, "@");
	put_domain(buf, &o, 189);
	put(buf, &o, ">");
	CHECK_INT(parse_buf(buf, o, false, &pa), SMTP_ADDR_OK);
	char txt[SMTP_PATH_MAX * 2];
	smtp_path_str(&pa, txt, sizeof txt);
	CHECK_INT(strlen(txt), 254);
}

/* ---- the other entry points --------------------------------------------- */

struct vcase {
	const char *in;
	size_t len;
	bool utf8;
	bool valid;
};

T(domain_valid)
{
	static const struct vcase v[] = {
		{ S("example.com"), false, true },
		{ S("a"), false, true },
		{ S("a-b.c"), false, true },
		{ S("1.2.3.4"), false, true },
		{ S("EXAMPLE.org"), false, true },
		{ S(""), false, false },
		{ S("a."), false, false },
		{ S(".a"), false, false },
		{ S("a..b"), false, false },
		{ S("-a"), false, false },
		{ S("a-"), false, false },
		{ S("a_b"), false, false },
		{ S("a b"), false, false },
		{ S("a\0b"), false, false },
		{ S("a\r\n"), false, false },
		{ S("[192.0.2.1]"), false, false },
		{ S("b\xc3\xbc" "cher.de"), true, true },
		{ S("b\xc3\xbc" "cher.de"), false, false },
		{ S("b\xc3.de"), true, false },
		{ S("\xed\xa0\x80.de"), true, false },
		{ S("example.com "), false, false },
	};
	for (size_t i = 0; i < NELEM(v); i++) {
		char *copy = dup_exact(v[i].in, v[i].len);
		if (smtp_domain_valid(copy, v[i].len, v[i].utf8) != v[i].valid) {
			fprintf(stderr, "  domain case %zu wrong\n", i);
			t_cur_failed = 1;
		}
		CHECK(smtp_domain_valid(v[i].in, v[i].len, v[i].utf8) == v[i].valid);
		free(copy);
	}
}

T(addr_literal_valid)
{
	static const struct vcase v[] = {
		{ S("[192.0.2.1]"), false, true },
		{ S("[IPv6:2001:db8::1]"), false, true },
		{ S("[IPV6:::1]"), false, true },
		{ S("192.0.2.1"), false, false },
		{ S("[192.0.2.1]x"), false, false },
		{ S("[192.0.2.1"), false, false },
		{ S("[300.1.1.1]"), false, false },
		{ S("[1.2.3]"), false, false },
		{ S("[IPv6:zz]"), false, false },
		{ S("[::1]"), false, false },
		{ S("[tag:x]"), false, false },
		{ S("[]"), false, false },
		{ S("["), false, false },
		{ S(""), false, false },
		{ S("[1.2.3.4\0]"), false, false },
		{ S("example.com"), false, false },
	};
	for (size_t i = 0; i < NELEM(v); i++) {
		char *copy = dup_exact(v[i].in, v[i].len);
		if (smtp_addr_literal_valid(copy, v[i].len) != v[i].valid) {
			fprintf(stderr, "  literal case %zu wrong\n", i);
			t_cur_failed = 1;
		}
		free(copy);
	}
}

T(path_str)
{
	struct smtp_path pa;
	size_t used;
	char txt[SMTP_PATH_MAX * 2];

	CHECK_INT(smtp_path_parse(S("<Bob@Example.ORG>"), true, false, &pa, &used), SMTP_ADDR_OK);
	smtp_path_str(&pa, txt, sizeof txt);
	CHECK_STR(txt, "Bob@Example.ORG");

	CHECK_INT(smtp_path_parse(S("<\"a b\"@c>"), true, false, &pa, &used), SMTP_ADDR_OK);
	smtp_path_str(&pa, txt, sizeof txt);
	CHECK_STR(txt, "\"a b\"@c");

	CHECK_INT(smtp_path_parse(S("<@r:u@[192.0.2.1]>"), true, false, &pa, &used), SMTP_ADDR_OK);
	smtp_path_str(&pa, txt, sizeof txt);
	CHECK_STR(txt, "u@[192.0.2.1]");

	CHECK_INT(smtp_path_parse(S("<>"), true, false, &pa, &used), SMTP_ADDR_OK);
	strcpy(txt, "junk");
	smtp_path_str(&pa, txt, sizeof txt);
	CHECK_STR(txt, "");

	CHECK_INT(smtp_path_parse(S("<postMaster>"), false, false, &pa, &used), SMTP_ADDR_OK);
	smtp_path_str(&pa, txt, sizeof txt);
	CHECK_STR(txt, "postMaster");

	/* a zeroed struct (no MAIL yet) prints as the null path */
	memset(&pa, 0, sizeof pa);
	strcpy(txt, "junk");
	smtp_path_str(&pa, txt, sizeof txt);
	CHECK_STR(txt, "");

	/* truncation always leaves a terminated string; size 0 writes nothing */
	CHECK_INT(smtp_path_parse(S("<abc@de>"), true, false, &pa, &used), SMTP_ADDR_OK);
	char small[4];
	smtp_path_str(&pa, small, sizeof small);
	CHECK_STR(small, "abc");
	small[0] = 'z';
	smtp_path_str(&pa, small, 0);
	CHECK(small[0] == 'z');
}

/* Errors leave *out zeroed even when the parse got far first. */
T(error_clears_output)
{
	struct smtp_path pa;
	size_t used = 7;
	memset(&pa, 0x41, sizeof pa);
	CHECK_INT(smtp_path_parse(S("<a@b.example"), true, false, &pa, &used), SMTP_ADDR_SYNTAX);
	CHECK(all_zero(&pa));
	CHECK_INT(used, 0);
}

int
main(void)
{
	RUN(path_table);
	RUN(path_prefixes_refused);
	RUN(path_canonical_roundtrip);
	RUN(local_part_64);
	RUN(domain_255_and_labels_63);
	RUN(path_256);
	RUN(domain_valid);
	RUN(addr_literal_valid);
	RUN(path_str);
	RUN(error_clears_output);
	return t_done("addr");
}

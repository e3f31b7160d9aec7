/*
 * tests/unit/test_domain.c - mail/domain.c: the one domain-syntax check
 * under each flag, where domain_scan stops and why, the length limits at
 * their edges, the UTF-8 check, and local-domain membership.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "mail/domain.h"
#include "t.h"

#define S(s) s, sizeof(s) - 1

/* The bytes at exactly len, on the heap, so ASan sees any read past them. */
static char *
dup_exact(const char *s, size_t len)
{
	char *p = xmalloc(len ? len : 1);
	memcpy(p, s, len);
	return p;
}

struct vcase {
	const char *in;
	size_t len;
	unsigned flags;
	bool valid;
};

T(test_valid)
{
	static const struct vcase v[] = {
		/* RFC 5321 Domain */
		{ S("example.org"), 0, true },
		{ S("a"), 0, true },
		{ S("A-b.C0"), 0, true },
		{ S("1.2.3.4"), 0, true },
		{ S("123"), 0, true },
		{ S(""), 0, false },
		{ S("."), 0, false },
		{ S("a."), 0, false },
		{ S(".a"), 0, false },
		{ S("a..b"), 0, false },
		{ S("-a.b"), 0, false },
		{ S("a-.b"), 0, false },
		{ S("a_b"), 0, false },
		{ S("a b"), 0, false },
		{ S("a\0b"), 0, false },
		{ S("[192.0.2.1]"), 0, false },
		{ S("b\xc3\xbc" "cher.de"), 0, false },
		/* U-labels */
		{ S("b\xc3\xbc" "cher.de"), DOMAIN_UTF8, true },
		{ S("\xe4\xbe\x8b.\xe4\xbe\x8b"), DOMAIN_UTF8, true },
		{ S("b\xc3.de"), DOMAIN_UTF8, false },		/* truncated */
		{ S("\xc0\xaf.de"), DOMAIN_UTF8, false },	/* overlong */
		{ S("\xed\xa0\x80.de"), DOMAIN_UTF8, false },	/* surrogate */
		{ S("\xf4\x90\x80\x80.de"), DOMAIN_UTF8, false },	/* > U+10FFFF */
		{ S("\x80.de"), DOMAIN_UTF8, false },		/* lone continuation */
		/* host names: the last label is not all digits */
		{ S("mail.example.org"), DOMAIN_HOSTNAME, true },
		{ S("123.example"), DOMAIN_HOSTNAME, true },
		{ S("a.1-2"), DOMAIN_HOSTNAME, true },
		{ S("1.2.3.4"), DOMAIN_HOSTNAME, false },
		{ S("123"), DOMAIN_HOSTNAME, false },
		{ S("example.123"), DOMAIN_HOSTNAME, false },
		{ S("b\xc3\xbc" "cher.de"), DOMAIN_HOSTNAME, false },
		{ S("b\xc3\xbc" "cher.de"), DOMAIN_HOSTNAME | DOMAIN_UTF8, true },
		{ S("x.b\xc3\xbc"), DOMAIN_HOSTNAME | DOMAIN_UTF8, true },
	};
	for (size_t i = 0; i < NELEM(v); i++) {
		char *copy = dup_exact(v[i].in, v[i].len);
		if (domain_valid(copy, v[i].len, v[i].flags) != v[i].valid) {
			fprintf(stderr, "  case %zu wrong\n", i);
			t_cur_failed = 1;
		}
		free(copy);
	}
}

T(test_scan)
{
	static const struct {
		const char *in;
		size_t len;
		unsigned flags;
		size_t used;
		enum domain_err err;
	} v[] = {
		{ S("example.org>"), 0, 11, DOMAIN_OK },
		{ S("example.org"), 0, 11, DOMAIN_OK },
		{ S("a.b,@c:"), 0, 3, DOMAIN_OK },
		{ S(">"), 0, 0, DOMAIN_ERR_SYNTAX },
		{ S("a.>"), 0, 2, DOMAIN_ERR_SYNTAX },
		{ S("a-.b"), 0, 2, DOMAIN_ERR_SYNTAX },
		/* the first problem, left to right */
		{ S("-a.b\xc3\xbc"), 0, 2, DOMAIN_ERR_SYNTAX },
		{ S("ab\xc3\xbc.-"), 0, 2, DOMAIN_ERR_8BIT },
		{ S("ab\xc3\xbc.-"), DOMAIN_UTF8, 6, DOMAIN_ERR_SYNTAX },
		{ S("ab\xc3.x"), DOMAIN_UTF8, 2, DOMAIN_ERR_SYNTAX },
		{ S("1.2.3.4>"), DOMAIN_HOSTNAME, 7, DOMAIN_ERR_SYNTAX },
	};
	for (size_t i = 0; i < NELEM(v); i++) {
		enum domain_err e;
		char *copy = dup_exact(v[i].in, v[i].len);
		size_t used = domain_scan(copy, v[i].len, v[i].flags, &e);
		if (e != v[i].err || (e == DOMAIN_OK && used != v[i].used)) {
			fprintf(stderr, "  scan case %zu: used %zu err %d, expected %zu err %d\n",
			    i, used, (int)e, v[i].used, (int)v[i].err);
			t_cur_failed = 1;
		}
		free(copy);
	}
}

/* n bytes of "aaa.aaa..." with labels of lab octets */
static void
put_name(char *buf, size_t n, size_t lab)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (i + 1) % (lab + 1) == 0 ? '.' : 'a';
	if (n > 0 && buf[n - 1] == '.')
		buf[n - 1] = 'b';
}

T(test_limits)
{
	char buf[600];
	enum domain_err e;
	/* 255 octets for SMTP, 253 for host names */
	for (size_t n = 250; n <= 258; n++) {
		put_name(buf, n, 63);
		CHECK(domain_valid(buf, n, 0) == (n <= DOMAIN_MAX));
		CHECK(domain_valid(buf, n, DOMAIN_HOSTNAME) == (n <= DOMAIN_HOSTNAME_MAX));
		domain_scan(buf, n, 0, &e);
		CHECK_INT(e, n <= DOMAIN_MAX ? DOMAIN_OK : DOMAIN_ERR_TOO_LONG);
	}
	/* 63 octets a label */
	for (size_t n = 62; n <= 65; n++) {
		memset(buf, 'x', n);
		memcpy(buf + n, ".example", 8);
		CHECK(domain_valid(buf, n + 8, 0) == (n <= DOMAIN_LABEL_MAX));
		CHECK(domain_valid(buf, n + 8, DOMAIN_HOSTNAME) == (n <= DOMAIN_LABEL_MAX));
	}
	/* a label that never ends stops at the name limit, not later */
	memset(buf, 'x', sizeof buf);
	size_t used = domain_scan(buf, sizeof buf, 0, &e);
	CHECK_INT(e, DOMAIN_ERR_TOO_LONG);
	CHECK_INT(used, DOMAIN_MAX + 1);
	/* U-labels count octets: 21 x 3 = 63 */
	for (size_t n = 21; n <= 22; n++) {
		size_t o = 0;
		for (size_t i = 0; i < n; i++, o += 3)
			memcpy(buf + o, "\xe4\xbe\x8b", 3);
		CHECK(domain_valid(buf, o, DOMAIN_UTF8) == (n == 21));
	}
}

T(test_utf8_len)
{
	static const struct {
		const char *in;
		size_t len, want;
	} v[] = {
		{ S("\xc3\xbc"), 2 }, { S("\xe4\xbe\x8b"), 3 }, { S("\xf0\x9f\x93\xa7"), 4 },
		{ S("\xc2\x80"), 2 }, { S("\xf4\x8f\xbf\xbf"), 4 },
		{ S("a"), 0 }, { S("\xc1\xbf"), 0 }, { S("\xe0\x9f\xbf"), 0 },
		{ S("\xed\xa0\x80"), 0 }, { S("\xf0\x8f\xbf\xbf"), 0 },
		{ S("\xf4\x90\x80\x80"), 0 },
		{ S("\xf5\x80\x80\x80"), 0 }, { S("\xe4\xbe"), 0 }, { S("\xe4\x3e\x8b"), 0 },
	};
	for (size_t i = 0; i < NELEM(v); i++) {
		char *copy = dup_exact(v[i].in, v[i].len);
		CHECK_INT(domain_utf8_len((const unsigned char *)copy, v[i].len), v[i].want);
		free(copy);
	}
}

T(test_in_list)
{
	static const char *const list[] = { "example.org", "Example.NET" };
	CHECK(domain_in_list(list, 2, "example.org"));
	CHECK(domain_in_list(list, 2, "EXAMPLE.ORG"));
	CHECK(domain_in_list(list, 2, "example.net"));
	CHECK(!domain_in_list(list, 2, "example.org."));
	CHECK(!domain_in_list(list, 2, "sub.example.org"));
	CHECK(!domain_in_list(list, 2, "xample.org"));
	CHECK(!domain_in_list(list, 2, ""));
	CHECK(!domain_in_list(list, 2, NULL));
	CHECK(!domain_in_list(list, 1, "example.net"));
	CHECK(!domain_in_list(NULL, 0, "example.org"));
}

int
main(void)
{
	RUN(test_valid);
	RUN(test_scan);
	RUN(test_limits);
	RUN(test_utf8_len);
	RUN(test_in_list);
	return t_done("domain");
}

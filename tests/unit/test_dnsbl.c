/*
 * tests/unit/test_dnsbl.c - policy/dnsbl.c: the blocklist questions
 * (reversed IPv4, IPv6 nibbles, HELO and sender domains; RFC 5782 2.1,
 * 2.2, 2.4), which A answers list (only 127/8, the configured codes, the
 * Spamhaus "query refused" values never), and the reply texts (tokens,
 * default text, printable only, cut to the buffer).
 *
 * Answers are built with lookup_init/lookup_add as the resolver would
 * fill them; lists are struct proto_bl as POLICY_SETTINGS carries them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/prefix.h"
#include "core/util.h"
#include "dns/lookup.h"
#include "policy/dnsbl.h"
#include "proto/parent.h"
#include "proto/smtp_policy.h"
#include "t.h"

/* ---- helpers ---------------------------------------------------------- */

/* Say which table row a failed check belongs to. */
static void
row_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
row_failed(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "    ... in ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static struct proto_bl
bl(const char *zone, uint32_t what)
{
	struct proto_bl l;
	memset(&l, 0, sizeof l);
	snprintf(l.zone, sizeof l.zone, "%s", zone);
	l.what = what;
	l.code = 550;
	snprintf(l.esc, sizeof l.esc, "5.7.1");
	return l;
}

static struct prefix
pfx(const char *s)
{
	struct prefix p;
	if (!prefix_parse(s, &p))
		abort();	/* a typo in the test itself */
	return p;
}

static const char *
what_name(uint32_t w)
{
	return w == DNSBL_CLIENT ? "ip" : w == DNSBL_HELO ? "helo" : w == DNSBL_FROM ? "from" :
	    "?";
}

/* The questions as one line: "LIST WHAT NAME [SUBJECT]; ..." */
static void
questions_text(const struct dnsbl_q *q, size_t n, char *out, size_t outsz)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && o < outsz; i++)
		o += (size_t)snprintf(out + o, outsz - o, "%s%u %s %s [%s]", i ? "; " : "",
		    q[i].list, what_name(q[i].what), q[i].name, q[i].subject);
}

/* n bytes of host name: labels of at most 63 letters separated by dots */
static void
fill_name(char *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (i % 64 == 63) ? '.' : (char)('a' + i % 26);
	dst[n] = '\0';
}

/* ---- dnsbl_questions: the client address -------------------------------- */

/* RFC 5782 2.1 (IPv4: octets reversed) and 2.4 (IPv6: 32 nibbles reversed,
 * lowercase hex, every zero written). */
T(questions_client_address)
{
	static const struct { const char *ip, *name, *subject; } c[] = {
		{ "192.0.2.1", "1.2.0.192.zone.example", "192.0.2.1" },
		{ "127.0.0.2", "2.0.0.127.zone.example", "127.0.0.2" },
		{ "0.0.0.0", "0.0.0.0.zone.example", "0.0.0.0" },
		{ "255.255.255.255", "255.255.255.255.zone.example", "255.255.255.255" },
		{ "10.20.30.40", "40.30.20.10.zone.example", "10.20.30.40" },
		/* the example of RFC 5782 2.4 */
		{ "2001:db8:1:2:3:4:567:89ab",
		  "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.zone.example",
		  "2001:db8:1:2:3:4:567:89ab" },
		{ "::1",
		  "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.zone.example",
		  "::1" },
		{ "::",
		  "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.zone.example",
		  "::" },
		{ "FFFF:EEEE:DDDD:CCCC:BBBB:AAAA:9999:8888",
		  "8.8.8.8.9.9.9.9.a.a.a.a.b.b.b.b.c.c.c.c.d.d.d.d.e.e.e.e.f.f.f.f.zone.example",
		  "ffff:eeee:dddd:cccc:bbbb:aaaa:9999:8888" },
		{ "2001:db8::f0", "0.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
		  ".zone.example", "2001:db8::f0" },
	};
	struct proto_bl l = bl("zone.example", DNSBL_CLIENT);
	for (size_t i = 0; i < NELEM(c); i++) {
		struct prefix p = pfx(c[i].ip);
		struct dnsbl_q q[DNSBL_Q_MAX];
		int was = t_cur_failed;
		t_cur_failed = 0;
		size_t n = dnsbl_questions(&l, 1, DNSBL_CLIENT, &p, "", "", q, NELEM(q));
		CHECK_INT(n, 1);
		if (n == 1) {
			CHECK_STR(q[0].name, c[i].name);
			CHECK_STR(q[0].subject, c[i].subject);
			CHECK_INT(q[0].list, 0);
			CHECK_INT(q[0].what, DNSBL_CLIENT);
		}
		if (t_cur_failed)
			row_failed("client %s", c[i].ip);
		t_cur_failed |= was;
	}
}

/* The client as the policy process gets it: from the socket address, an
 * IPv4-mapped IPv6 address asked as the IPv4 address it carries. */
T(questions_client_from_sockaddr)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	s6->sin6_family = AF_INET6;
	CHECK(inet_pton(AF_INET6, "::ffff:198.51.100.7", &s6->sin6_addr) == 1);
	struct prefix p;
	CHECK(prefix_from_sockaddr(&ss, sizeof *s6, &p));
	struct proto_bl l = bl("zen.example", DNSBL_CLIENT);
	struct dnsbl_q q[2];
	CHECK_INT(dnsbl_questions(&l, 1, DNSBL_CLIENT, &p, "", "", q, NELEM(q)), 1);
	CHECK_STR(q[0].name, "7.100.51.198.zen.example");
	CHECK_STR(q[0].subject, "198.51.100.7");
}

/* Only a full-length address is a client; no client, no question. */
T(questions_client_not_an_address)
{
	static const char *const nets[] = { "192.0.2.0/24", "192.0.2.0/31", "2001:db8::/64",
		"2001:db8::/127", "0.0.0.0/0", "::/0" };
	struct proto_bl l = bl("zen.example", DNSBL_CLIENT);
	struct dnsbl_q q[2];
	for (size_t i = 0; i < NELEM(nets); i++) {
		struct prefix p = pfx(nets[i]);
		size_t n = dnsbl_questions(&l, 1, DNSBL_CLIENT, &p, "", "", q, NELEM(q));
		if (n != 0) {
			fprintf(stderr, "%s: %s gave %zu questions\n", t_cur, nets[i], n);
			t_cur_failed = 1;
		}
	}
	CHECK_INT(dnsbl_questions(&l, 1, DNSBL_CLIENT, NULL, "a.example", "b.example", q,
	    NELEM(q)), 0);
}

/* Zones come lowercased from the config; the question is lowercased in any
 * case (lookup form, dns/lookup.h). */
T(questions_lowercased)
{
	struct proto_bl l[2] = { bl("ZEN.Example", DNSBL_CLIENT),
		bl("DBL.example", DNSBL_HELO | DNSBL_FROM) };
	struct prefix p = pfx("2001:DB8::ABCD");
	struct dnsbl_q q[4];
	char got[1024];
	size_t n = dnsbl_questions(l, 2, 7, &p, "MAIL.Example.NET", "Example.COM", q, NELEM(q));
	questions_text(q, n, got, sizeof got);
	CHECK_STR(got, "0 ip d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	    "zen.example [2001:db8::abcd]; "
	    "1 helo mail.example.net.dbl.example [MAIL.Example.NET]; "
	    "1 from example.com.dbl.example [Example.COM]");
}

/* ---- dnsbl_questions: which lists, which domains ----------------------- */

/* The lists of these tests: a dnsbl and three rhsbl, in this order. */
static struct proto_bl four[4];

static void
init_four(void)
{
	four[0] = bl("zen.example", DNSBL_CLIENT);
	four[1] = bl("dbl.example", DNSBL_HELO | DNSBL_FROM);
	four[2] = bl("helo.example", DNSBL_HELO);
	four[3] = bl("from.example", DNSBL_FROM);
}

T(questions_selection)
{
	enum { C = DNSBL_CLIENT, H = DNSBL_HELO, F = DNSBL_FROM };
	static const struct {
		const char *what_text;
		uint32_t what;
		const char *client, *helo, *from;
		const char *want;
	} c[] = {
		{ "everything", C | H | F, "192.0.2.1", "mail.example.net", "example.com",
		  "0 ip 1.2.0.192.zen.example [192.0.2.1]; "
		  "1 helo mail.example.net.dbl.example [mail.example.net]; "
		  "1 from example.com.dbl.example [example.com]; "
		  "2 helo mail.example.net.helo.example [mail.example.net]; "
		  "3 from example.com.from.example [example.com]" },
		{ "client only", C, "192.0.2.1", "mail.example.net", "example.com",
		  "0 ip 1.2.0.192.zen.example [192.0.2.1]" },
		{ "helo only", H, "192.0.2.1", "mail.example.net", "example.com",
		  "1 helo mail.example.net.dbl.example [mail.example.net]; "
		  "2 helo mail.example.net.helo.example [mail.example.net]" },
		{ "from only", F, "192.0.2.1", "mail.example.net", "example.com",
		  "1 from example.com.dbl.example [example.com]; "
		  "3 from example.com.from.example [example.com]" },
		{ "helo and from", H | F, "192.0.2.1", "mail.example.net", "example.com",
		  "1 helo mail.example.net.dbl.example [mail.example.net]; "
		  "1 from example.com.dbl.example [example.com]; "
		  "2 helo mail.example.net.helo.example [mail.example.net]; "
		  "3 from example.com.from.example [example.com]" },
		{ "client and from", C | F, "192.0.2.1", "mail.example.net", "example.com",
		  "0 ip 1.2.0.192.zen.example [192.0.2.1]; "
		  "1 from example.com.dbl.example [example.com]; "
		  "3 from example.com.from.example [example.com]" },
		{ "nothing asked", 0, "192.0.2.1", "mail.example.net", "example.com", "" },
		{ "bits outside DNSBL_*", 8 | 16 | 0x80000000u, "192.0.2.1", "mail.example.net",
		  "example.com", "" },
		/* domains that cannot be asked are skipped, the rest still are */
		{ "empty helo", C | H | F, "192.0.2.1", "", "example.com",
		  "0 ip 1.2.0.192.zen.example [192.0.2.1]; "
		  "1 from example.com.dbl.example [example.com]; "
		  "3 from example.com.from.example [example.com]" },
		{ "null sender (no domain)", H | F, NULL, "mail.example.net", "",
		  "1 helo mail.example.net.dbl.example [mail.example.net]; "
		  "2 helo mail.example.net.helo.example [mail.example.net]" },
		{ "address literal helo", H | F, NULL, "[192.0.2.1]", "example.com",
		  "1 from example.com.dbl.example [example.com]; "
		  "3 from example.com.from.example [example.com]" },
		{ "IPv6 literal helo", H, NULL, "[IPv6:2001:db8::1]", "", "" },
		{ "address literal from", F, NULL, "", "[192.0.2.1]", "" },
		{ "bare IPv4 helo", H, NULL, "192.0.2.1", "", "" },
		{ "trailing dot", H, NULL, "mail.example.net.", "", "" },
		{ "leading dot", H, NULL, ".mail.example.net", "", "" },
		{ "empty label", H, NULL, "mail..example.net", "", "" },
		{ "leading hyphen", H, NULL, "-mail.example.net", "", "" },
		{ "underscore", H, NULL, "mail_1.example.net", "", "" },
		{ "space", H, NULL, "mail example.net", "", "" },
		{ "8-bit", H, NULL, "b\xc3\xbc" "cher.example", "", "" },
		{ "CR LF", H, NULL, "mail.example.net\r\n", "", "" },
		{ "backslash", H, NULL, "mail\\.example.net", "", "" },
		{ "one label", H, NULL, "localhost", "",
		  "1 helo localhost.dbl.example [localhost]; "
		  "2 helo localhost.helo.example [localhost]" },
		{ "label of 64", F, NULL, "",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", "" },
		/* the client alone is never asked of an rhsbl, domains never of a dnsbl */
		{ "no client", C, NULL, "mail.example.net", "example.com", "" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct prefix p;
		struct dnsbl_q q[DNSBL_Q_MAX];
		char got[2048];
		memset(&p, 0, sizeof p);
		if (c[i].client != NULL)
			p = pfx(c[i].client);
		size_t n = dnsbl_questions(four, NELEM(four), c[i].what,
		    c[i].client ? &p : NULL, c[i].helo, c[i].from, q, NELEM(q));
		questions_text(q, n, got, sizeof got);
		int was = t_cur_failed;
		t_cur_failed = 0;
		CHECK_STR(got, c[i].want);
		if (t_cur_failed)
			row_failed("%s", c[i].what_text);
		t_cur_failed |= was;
	}
}

/* A list with no bits set asks nothing; a list's own bits and the
 * caller's must both be set. */
T(questions_list_bits)
{
	struct proto_bl l[3] = { bl("none.example", 0), bl("ip.example", DNSBL_CLIENT),
		bl("all.example", DNSBL_CLIENT | DNSBL_HELO | DNSBL_FROM) };
	struct prefix p = pfx("198.51.100.9");
	struct dnsbl_q q[8];
	char got[1024];
	size_t n = dnsbl_questions(l, 3, 7, &p, "h.example", "f.example", q, NELEM(q));
	questions_text(q, n, got, sizeof got);
	CHECK_STR(got, "1 ip 9.100.51.198.ip.example [198.51.100.9]; "
	    "2 ip 9.100.51.198.all.example [198.51.100.9]; "
	    "2 helo h.example.all.example [h.example]; "
	    "2 from f.example.all.example [f.example]");
	n = dnsbl_questions(l, 0, 7, &p, "h.example", "f.example", q, NELEM(q));
	CHECK_INT(n, 0);
}

/* Config order is kept: the first list that lists answers (DNSBL_REPLY). */
T(questions_list_order)
{
	struct proto_bl l[4] = { bl("b.example", DNSBL_FROM), bl("a.example", DNSBL_CLIENT),
		bl("d.example", DNSBL_HELO), bl("c.example", DNSBL_CLIENT) };
	struct prefix p = pfx("192.0.2.77");
	struct dnsbl_q q[8];
	char got[1024];
	size_t n = dnsbl_questions(l, 4, 7, &p, "h.example", "f.example", q, NELEM(q));
	questions_text(q, n, got, sizeof got);
	CHECK_STR(got, "0 from f.example.b.example [f.example]; "
	    "1 ip 77.2.0.192.a.example [192.0.2.77]; "
	    "2 helo h.example.d.example [h.example]; "
	    "3 ip 77.2.0.192.c.example [192.0.2.77]");
}

/* A question longer than 253 characters (255 octets on the wire) cannot
 * be asked: it is skipped and the others are still asked. */
T(questions_overlong_skipped)
{
	static char helo[300], zone[256];
	struct prefix p4 = pfx("192.0.2.1"), p6 = pfx("2001:db8::1");
	struct dnsbl_q q[8];
	/* helo + "." + "dbl.example" (11): 241 characters make 253 */
	struct proto_bl l[2] = { bl("dbl.example", DNSBL_HELO | DNSBL_FROM),
		bl("x.example", DNSBL_HELO) };
	fill_name(helo, 241);
	size_t n = dnsbl_questions(l, 1, 7, &p4, helo, "f.example", q, NELEM(q));
	CHECK_INT(n, 2);
	CHECK_INT(strlen(q[0].name), 253);
	CHECK_STR(q[0].subject, helo);
	fill_name(helo, 242);
	n = dnsbl_questions(l, 2, 7, &p4, helo, "f.example", q, NELEM(q));
	CHECK_INT(n, 2);
	CHECK_STR(q[0].name, "f.example.dbl.example");
	CHECK_INT(q[1].list, 1);	/* 242 + 1 + 9 = 252 fits the other zone */
	CHECK_INT(strlen(q[1].name), 252);
	/* a helo of 253 (the longest host name) fits no zone */
	fill_name(helo, 253);
	n = dnsbl_questions(l, 2, 7, &p4, helo, "", q, NELEM(q));
	CHECK_INT(n, 0);
	/* IPv6: 63 characters of nibbles + "." + zone; IPv4 fits the same zone */
	fill_name(zone, 189);
	struct proto_bl z = bl(zone, DNSBL_CLIENT);
	n = dnsbl_questions(&z, 1, DNSBL_CLIENT, &p6, "", "", q, NELEM(q));
	CHECK_INT(n, 1);
	CHECK_INT(strlen(q[0].name), 253);
	fill_name(zone, 190);
	z = bl(zone, DNSBL_CLIENT);
	n = dnsbl_questions(&z, 1, DNSBL_CLIENT, &p6, "", "", q, NELEM(q));
	CHECK_INT(n, 0);
	n = dnsbl_questions(&z, 1, DNSBL_CLIENT, &p4, "", "", q, NELEM(q));
	CHECK_INT(n, 1);
	CHECK_INT(strlen(q[0].name), 9 + 1 + 190);
}

/* max questions at most, the first ones in order; nothing written past
 * out[max - 1]. */
T(questions_max_respected)
{
	static struct proto_bl l[PROTO_BL_MAX];
	for (size_t i = 0; i < NELEM(l); i++) {
		char z[32];
		snprintf(z, sizeof z, "l%zu.example", i);
		l[i] = bl(z, DNSBL_HELO | DNSBL_FROM);
	}
	struct prefix p = pfx("192.0.2.1");
	static struct dnsbl_q q[DNSBL_Q_MAX + 1];
	static const size_t maxes[] = { 0, 1, 2, 3, 17, DNSBL_Q_MAX - 1, DNSBL_Q_MAX };
	for (size_t m = 0; m < NELEM(maxes); m++) {
		memset(q, 0x5a, sizeof q);
		size_t n = dnsbl_questions(l, NELEM(l), 7, &p, "h.example", "f.example", q,
		    maxes[m]);
		int was = t_cur_failed;
		t_cur_failed = 0;
		CHECK_INT(n, maxes[m]);
		for (size_t i = 0; i < n; i++) {
			char want[64];
			snprintf(want, sizeof want, "%s.example.l%zu.example", i % 2 ? "f" : "h",
			    i / 2);
			CHECK_STR(q[i].name, want);
			CHECK_INT(q[i].list, i / 2);
		}
		/* the entry after the last is untouched */
		const uint8_t *after = (const uint8_t *)&q[maxes[m]];
		for (size_t b = 0; b < sizeof q[0]; b++)
			if (after[b] != 0x5a) {
				CHECK(after[b] == 0x5a);
				break;
			}
		if (t_cur_failed)
			row_failed("max %zu", maxes[m]);
		t_cur_failed |= was;
	}
	/* 16 lists of both domains plus the client do not fit DNSBL_Q_MAX:
	 * the first DNSBL_Q_MAX are asked */
	struct proto_bl all[PROTO_BL_MAX];
	for (size_t i = 0; i < NELEM(all); i++) {
		char z[32];
		snprintf(z, sizeof z, "a%zu.example", i);
		all[i] = bl(z, DNSBL_CLIENT | DNSBL_HELO | DNSBL_FROM);
	}
	size_t n = dnsbl_questions(all, NELEM(all), 7, &p, "h.example", "f.example", q,
	    DNSBL_Q_MAX);
	CHECK_INT(n, DNSBL_Q_MAX);
	CHECK_STR(q[DNSBL_Q_MAX - 2].name, "1.2.0.192.a10.example");
	CHECK_STR(q[DNSBL_Q_MAX - 1].name, "h.example.a10.example");
	CHECK_INT(q[DNSBL_Q_MAX - 1].what, DNSBL_HELO);
}

/* ---- dnsbl_check --------------------------------------------------------- */

#define NO	DNSBL_V_NO
#define LISTED	DNSBL_V_LISTED
#define REFUSED	DNSBL_V_REFUSED

struct rec { uint8_t len, b[16]; };
#define A4(a, b, c, d)	{ 4, { a, b, c, d } }

T(check_answers)
{
	static const struct {
		const char *what;
		enum lookup_status st;
		size_t n_rec;
		struct rec rec[4];
		size_t n_codes;
		uint32_t codes[3];
		enum dnsbl_verdict want;
		uint32_t value;
	} c[] = {
		{ "127.0.0.2", LOOKUP_OK, 1, { A4(127, 0, 0, 2) }, 0, { 0 }, LISTED, 0x7f000002 },
		{ "127.0.0.1", LOOKUP_OK, 1, { A4(127, 0, 0, 1) }, 0, { 0 }, LISTED, 0x7f000001 },
		{ "127.1.2.3", LOOKUP_OK, 1, { A4(127, 1, 2, 3) }, 0, { 0 }, LISTED, 0x7f010203 },
		{ "127.255.255.253", LOOKUP_OK, 1, { A4(127, 255, 255, 253) }, 0, { 0 }, LISTED,
		  0x7ffffffd },
		{ "127.0.0.0", LOOKUP_OK, 1, { A4(127, 0, 0, 0) }, 0, { 0 }, LISTED, 0x7f000000 },
		/* only 127/8 (RFC 5782 2.3) */
		{ "10.0.0.2", LOOKUP_OK, 1, { A4(10, 0, 0, 2) }, 0, { 0 }, NO, 0 },
		{ "126.255.255.255", LOOKUP_OK, 1, { A4(126, 255, 255, 255) }, 0, { 0 }, NO, 0 },
		{ "128.0.0.2", LOOKUP_OK, 1, { A4(128, 0, 0, 2) }, 0, { 0 }, NO, 0 },
		{ "255.127.0.2", LOOKUP_OK, 1, { A4(255, 127, 0, 2) }, 0, { 0 }, NO, 0 },
		{ "0.0.0.0", LOOKUP_OK, 1, { A4(0, 0, 0, 0) }, 0, { 0 }, NO, 0 },
		{ "NODATA", LOOKUP_OK, 0, { { 0, { 0 } } }, 0, { 0 }, NO, 0 },
		/* not an answer */
		{ "NXDOMAIN", LOOKUP_NXDOMAIN, 0, { { 0, { 0 } } }, 0, { 0 }, NO, 0 },
		{ "NXDOMAIN with a record", LOOKUP_NXDOMAIN, 1, { A4(127, 0, 0, 2) }, 0, { 0 }, NO,
		  0 },
		{ "TEMPFAIL", LOOKUP_TEMPFAIL, 0, { { 0, { 0 } } }, 0, { 0 }, NO, 0 },
		{ "TEMPFAIL with a record", LOOKUP_TEMPFAIL, 1, { A4(127, 0, 0, 2) }, 0, { 0 }, NO,
		  0 },
		/* Spamhaus refusals: never listed, reported */
		{ "127.255.255.252", LOOKUP_OK, 1, { A4(127, 255, 255, 252) }, 0, { 0 }, REFUSED,
		  0x7ffffffc },
		{ "127.255.255.254", LOOKUP_OK, 1, { A4(127, 255, 255, 254) }, 0, { 0 }, REFUSED,
		  0x7ffffffe },
		{ "127.255.255.255", LOOKUP_OK, 1, { A4(127, 255, 255, 255) }, 0, { 0 }, REFUSED,
		  0x7fffffff },
		{ "refusal named in codes", LOOKUP_OK, 1, { A4(127, 255, 255, 254) }, 2,
		  { 0x7ffffffe, 0x7f000002 }, REFUSED, 0x7ffffffe },
		{ "two refusals: the first", LOOKUP_OK, 2,
		  { A4(127, 255, 255, 255), A4(127, 255, 255, 254) }, 0, { 0 }, REFUSED,
		  0x7fffffff },
		{ "refusal, then a listing", LOOKUP_OK, 2,
		  { A4(127, 255, 255, 254), A4(127, 0, 0, 2) }, 0, { 0 }, LISTED, 0x7f000002 },
		{ "listing, then a refusal", LOOKUP_OK, 2,
		  { A4(127, 0, 0, 4), A4(127, 255, 255, 254) }, 0, { 0 }, LISTED, 0x7f000004 },
		{ "refusal TEMPFAIL", LOOKUP_TEMPFAIL, 1, { A4(127, 255, 255, 254) }, 0, { 0 }, NO,
		  0 },
		/* rdata that is not an A record */
		{ "3 bytes", LOOKUP_OK, 1, { { 3, { 127, 0, 0 } } }, 0, { 0 }, NO, 0 },
		{ "5 bytes", LOOKUP_OK, 1, { { 5, { 127, 0, 0, 2, 0 } } }, 0, { 0 }, NO, 0 },
		{ "0 bytes", LOOKUP_OK, 1, { { 0, { 0 } } }, 0, { 0 }, NO, 0 },
		{ "16 bytes", LOOKUP_OK, 1, { { 16, { 127, 0, 0, 2 } } }, 0, { 0 }, NO, 0 },
		{ "16 bytes, then an A", LOOKUP_OK, 2,
		  { { 16, { 127, 0, 0, 2 } }, A4(127, 0, 0, 3) }, 0, { 0 }, LISTED, 0x7f000003 },
		/* several records: the first that counts */
		{ "first of two", LOOKUP_OK, 2, { A4(127, 0, 0, 4), A4(127, 0, 0, 2) }, 0, { 0 },
		  LISTED, 0x7f000004 },
		{ "after one outside 127/8", LOOKUP_OK, 3,
		  { A4(10, 0, 0, 1), A4(127, 0, 0, 10), A4(127, 0, 0, 2) }, 0, { 0 }, LISTED,
		  0x7f00000a },
		/* codes: only those values */
		{ "code matches", LOOKUP_OK, 1, { A4(127, 0, 0, 2) }, 1, { 0x7f000002 }, LISTED,
		  0x7f000002 },
		{ "code does not match", LOOKUP_OK, 1, { A4(127, 0, 0, 4) }, 1, { 0x7f000002 }, NO,
		  0 },
		{ "second record matches", LOOKUP_OK, 3,
		  { A4(127, 0, 0, 4), A4(127, 0, 0, 3), A4(127, 0, 0, 2) }, 2,
		  { 0x7f000002, 0x7f000003 }, LISTED, 0x7f000003 },
		{ "last of three codes", LOOKUP_OK, 1, { A4(127, 0, 0, 11) }, 3,
		  { 0x7f000002, 0x7f000003, 0x7f00000b }, LISTED, 0x7f00000b },
		{ "code in other byte order", LOOKUP_OK, 1, { A4(127, 0, 0, 2) }, 1, { 0x0200007f },
		  NO, 0 },
		{ "code matches nothing, refusal", LOOKUP_OK, 2,
		  { A4(127, 0, 0, 4), A4(127, 255, 255, 252) }, 1, { 0x7f000002 }, REFUSED,
		  0x7ffffffc },
		/* a code outside 127/8 (the decoder does not stop one) lists nothing */
		{ "code outside 127/8", LOOKUP_OK, 1, { A4(10, 0, 0, 2) }, 1, { 0x0a000002 }, NO,
		  0 },
	};
	struct lookup a;
	for (size_t i = 0; i < NELEM(c); i++) {
		struct proto_bl l = bl("zen.example", DNSBL_CLIENT);
		l.n_codes = (uint32_t)c[i].n_codes;
		memcpy(l.codes, c[i].codes, sizeof c[i].codes);
		lookup_init(&a, LOOKUP_A, "2.0.0.127.zen.example");
		a.status = c[i].st;
		for (size_t r = 0; r < c[i].n_rec; r++)
			lookup_add(&a, 0, c[i].rec[r].b, c[i].rec[r].len);
		uint32_t value = 0xdeadbeef;
		enum dnsbl_verdict v = dnsbl_check(&l, &a, &value);
		int was = t_cur_failed;
		t_cur_failed = 0;
		CHECK_INT(v, c[i].want);
		CHECK_INT(value, c[i].value);
		if (t_cur_failed)
			row_failed("%s", c[i].what);
		t_cur_failed |= was;
		lookup_clear(&a);
	}
}

/* A whole answer of LOOKUP_RR_MAX records, the listing one last; and the
 * 16 codes a list may have. */
T(check_many)
{
	struct lookup a;
	lookup_init(&a, LOOKUP_A, "1.2.0.192.zen.example");
	for (size_t i = 0; i + 1 < LOOKUP_RR_MAX; i++)
		lookup_add(&a, 0, (const uint8_t[4]){ 10, 0, 0, (uint8_t)i }, 4);
	lookup_add(&a, 0, (const uint8_t[4]){ 127, 0, 0, 99 }, 4);
	CHECK_INT(a.n, LOOKUP_RR_MAX);
	struct proto_bl l = bl("zen.example", DNSBL_CLIENT);
	uint32_t value;
	CHECK_INT(dnsbl_check(&l, &a, &value), LISTED);
	CHECK_INT(value, 0x7f000063);
	l.n_codes = 16;
	for (uint32_t k = 0; k < 16; k++)
		l.codes[k] = 0x7f000050 + k;
	CHECK_INT(dnsbl_check(&l, &a, &value), NO);
	CHECK_INT(value, 0);
	l.codes[15] = 0x7f000063;
	CHECK_INT(dnsbl_check(&l, &a, &value), LISTED);
	CHECK_INT(value, 0x7f000063);
	lookup_clear(&a);
}

/* ---- dnsbl_text ------------------------------------------------------- */

static struct dnsbl_q
question(uint32_t what, const char *subject)
{
	struct dnsbl_q q;
	memset(&q, 0, sizeof q);
	q.what = what;
	snprintf(q.subject, sizeof q.subject, "%s", subject);
	return q;
}

T(text_tokens_and_default)
{
	static const struct {
		const char *zone, *text, *ip;
		uint32_t what;
		const char *subject, *want;
	} c[] = {
		/* the default names the subject and the zone */
		{ "zen.example", "", "192.0.2.1", DNSBL_CLIENT, "192.0.2.1",
		  "Rejected: 192.0.2.1 listed at zen.example" },
		{ "dbl.example", "", "192.0.2.1", DNSBL_HELO, "mail.example.net",
		  "Rejected: mail.example.net listed at dbl.example" },
		{ "dbl.example", "", "2001:db8::1", DNSBL_FROM, "example.com",
		  "Rejected: example.com listed at dbl.example" },
		/* tokens */
		{ "zen.example", "Mail from {ip} refused", "192.0.2.1", DNSBL_CLIENT, "192.0.2.1",
		  "Mail from 192.0.2.1 refused" },
		{ "zen.example", "Blocked, see https://bl.example/q?ip=$&{client_addr}",
		  "2001:db8::1", DNSBL_CLIENT, "2001:db8::1",
		  "Blocked, see https://bl.example/q?ip=2001:db8::1" },
		{ "dbl.example", "{domain} is listed", "192.0.2.1", DNSBL_HELO, "spam.example",
		  "spam.example is listed" },
		{ "dbl.example", "{domain} ({ip})", "192.0.2.1", DNSBL_FROM, "spam.example",
		  "spam.example (192.0.2.1)" },
		{ "zen.example", "{ip}{ip}$&{client_addr}", "10.0.0.1", DNSBL_CLIENT, "10.0.0.1",
		  "10.0.0.110.0.0.110.0.0.1" },
		/* {domain} of a client question is the address it was asked for */
		{ "zen.example", "{domain}", "192.0.2.1", DNSBL_CLIENT, "192.0.2.1", "192.0.2.1" },
		/* near misses stay as they are */
		{ "zen.example", "{IP} {ip {ip}} {} {domain $&{client_addr $&client_addr",
		  "192.0.2.1", DNSBL_CLIENT, "192.0.2.1",
		  "{IP} {ip 192.0.2.1} {} {domain $&{client_addr $&client_addr" },
		{ "zen.example", "{{ip}}", "192.0.2.1", DNSBL_CLIENT, "192.0.2.1",
		  "{192.0.2.1}" },
		{ "zen.example", "x", "192.0.2.1", DNSBL_CLIENT, "192.0.2.1", "x" },
		/* a substituted value is not read again for tokens */
		{ "dbl.example", "{domain}", "192.0.2.1", DNSBL_HELO, "{ip}", "{ip}" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct proto_bl l = bl(c[i].zone, DNSBL_CLIENT | DNSBL_HELO | DNSBL_FROM);
		snprintf(l.text, sizeof l.text, "%s", c[i].text);
		struct dnsbl_q q = question(c[i].what, c[i].subject);
		char out[400];
		dnsbl_text(&l, c[i].ip, &q, out, sizeof out);
		int was = t_cur_failed;
		t_cur_failed = 0;
		CHECK_STR(out, c[i].want);
		if (t_cur_failed)
			row_failed("text \"%s\"", c[i].text);
		t_cur_failed |= was;
	}
}

/* The text goes to the client as it is: a byte outside printable ASCII
 * (CR LF would end the reply line) becomes '?', in the text and in what
 * is substituted. */
T(text_printable_only)
{
	static const struct { const char *text, *subject, *want; } c[] = {
		{ "line\r\n550 injected", "x", "line??550 injected" },
		{ "tab\there", "x", "tab?here" },
		{ "del\x7f", "x", "del?" },
		{ "caf\xc3\xa9", "x", "caf??" },
		{ "\x01\x1f\x20\x7e\xff", "x", "?? ~?" },
		{ "{domain}", "a\r\nb", "a??b" },
		{ "", "\xc3\xbc.example", "Rejected: ??.example listed at zen.example" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct proto_bl l = bl("zen.example", DNSBL_HELO);
		snprintf(l.text, sizeof l.text, "%s", c[i].text);
		struct dnsbl_q q = question(DNSBL_HELO, c[i].subject);
		char out[100];
		dnsbl_text(&l, "192.0.2.1", &q, out, sizeof out);
		CHECK_STR(out, c[i].want);
	}
	/* and the address, should it ever hold one */
	struct proto_bl l = bl("zen.example", DNSBL_CLIENT);
	snprintf(l.text, sizeof l.text, "at {ip}");
	struct dnsbl_q q = question(DNSBL_CLIENT, "x");
	char out[100];
	dnsbl_text(&l, "1\n2", &q, out, sizeof out);
	CHECK_STR(out, "at 1?2");
}

/* Cut to fit n (NUL included) at every n, never a byte past out[n - 1]. */
T(text_cut_to_n)
{
	static const struct { const char *text, *ip, *subject; } c[] = {
		{ "", "192.0.2.1", "192.0.2.1" },
		{ "Mail from {ip} refused, see https://bl.example/{ip}", "2001:db8::1",
		  "2001:db8::1" },
		{ "{domain}{domain}", "192.0.2.1", "a-rather-long-name.example" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct proto_bl l = bl("zen.example", DNSBL_CLIENT);
		snprintf(l.text, sizeof l.text, "%s", c[i].text);
		struct dnsbl_q q = question(DNSBL_CLIENT, c[i].subject);
		char full[400];
		dnsbl_text(&l, c[i].ip, &q, full, sizeof full);
		size_t len = strlen(full);
		CHECK(len > 20);
		for (size_t n = 1; n <= len + 2; n++) {
			/* an exact-size heap block: a write past n is an ASan report */
			char *out = xmalloc(n);
			memset(out, 'Z', n);
			dnsbl_text(&l, c[i].ip, &q, out, n);
			size_t want = n - 1 < len ? n - 1 : len;
			int was = t_cur_failed;
			t_cur_failed = 0;
			CHECK_INT(strnlen(out, n), want);
			CHECK(memcmp(out, full, want) == 0);
			if (t_cur_failed)
				row_failed("text %zu cut to %zu", i, n);
			t_cur_failed |= was;
			free(out);
		}
	}
	/* n == 1: only the NUL */
	struct proto_bl l = bl("zen.example", DNSBL_CLIENT);
	struct dnsbl_q q = question(DNSBL_CLIENT, "192.0.2.1");
	char one[2] = { 'Z', 'Z' };
	dnsbl_text(&l, "192.0.2.1", &q, one, 1);
	CHECK_INT(one[0], '\0');
	CHECK_INT(one[1], 'Z');
}

/* The longest text a list may have, every token expanded: cut at n. */
T(text_expansion_bounded)
{
	struct proto_bl l = bl("zen.example", DNSBL_CLIENT);
	for (size_t i = 0; i + 4 <= sizeof l.text - 1; i += 4)
		memcpy(l.text + i, "{ip}", 4);
	l.text[sizeof l.text - 1] = '\0';
	const char *ip = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe";
	struct dnsbl_q q = question(DNSBL_CLIENT, ip);
	/* the size of DNSBL_REPLY's text */
	char *out = xmalloc(sizeof ((struct proto_dnsbl_reply *)0)->text);
	size_t n = sizeof ((struct proto_dnsbl_reply *)0)->text;
	dnsbl_text(&l, ip, &q, out, n);
	CHECK_INT(strlen(out), n - 1);
	CHECK(strncmp(out, ip, strlen(ip)) == 0);
	free(out);
}

/* Bug (policy/dnsbl.c dnsbl_text): with n == 0 the function still wrote
 * out[0] = '\0' (the store comes before the n == 0 check): one byte past
 * an empty buffer.  Expected: nothing written. */
T(test_bug_text_n0_writes_nothing)
{
	struct proto_bl l = bl("zen.example", DNSBL_CLIENT);
	struct dnsbl_q q = question(DNSBL_CLIENT, "192.0.2.1");
	char out[1] = { 'Z' };
	dnsbl_text(&l, "192.0.2.1", &q, out, 0);
	CHECK_INT(out[0], 'Z');
}

int
main(void)
{
	init_four();
	RUN(questions_client_address);
	RUN(questions_client_from_sockaddr);
	RUN(questions_client_not_an_address);
	RUN(questions_lowercased);
	RUN(questions_selection);
	RUN(questions_list_bits);
	RUN(questions_list_order);
	RUN(questions_overlong_skipped);
	RUN(questions_max_respected);
	RUN(check_answers);
	RUN(check_many);
	RUN(text_tokens_and_default);
	RUN(text_printable_only);
	RUN(text_cut_to_n);
	RUN(text_expansion_bounded);
	RUN(test_bug_text_n0_writes_nothing);
	return t_done("dnsbl");
}

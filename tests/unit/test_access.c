/*
 * tests/unit/test_access.c - policy/access.c: every key form, tag and
 * action, sendmail's lookup order (the exception idiom, tagged before
 * untagged at each step, most specific first, .domain for subdomains only,
 * user@, +detail, IPv6 prefixes, CIDR, literals, an IPv4-mapped client),
 * the sample file's comments line by line, parse errors and duplicate
 * warnings with file:line, and the 25,000-line generated file.
 * Data: tests/data/access/ (runner starts in the repository root).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/util.h"
#include "policy/access.h"
#include "t.h"

#define DATA "tests/data/access/"

/* One map with every feature; expectations find their line by the key. */
static const char MAP[] =
    "# test map\n"
    "From:friend@blocked.example OK\n"
    "To:friend@blocked.example OK\n"
    "blocked.example REJECT\n"
    "Connect:192.0.2 OK\n"
    "192.0.2.66 REJECT\n"
    "Connect:tagged.example OK\n"
    "tagged.example REJECT\n"
    ".sub.example.net REJECT\n"
    "sub.example.net OK\n"
    "spammer@ ERROR:5.7.1:550 no spammers here\n"
    "user+*@plus.example REJECT\n"
    "user@plus.example OK\n"
    "IPv6:2001:db8:1 REJECT\n"
    "IPv6:2001:db8:1:2::/64 OK\n"
    "Connect:IPv6:2001:db8:2::7 RELAY\n"
    "10.0.0.0/8 DISCARD\n"
    "10.1.0.0/16 SKIP\n"
    "Connect:10.1.2.3 RELAY\n"
    "[198.51.100.99] REJECT\n"
    "Connect:198.51.100 OK\n"
    "From:[203.0.113] 451 4.3.0 try later\n"
    "Spam:abuse@ FRIEND\n"
    "Spam:hater.example HATER\n"
    "Spam:friendly.example FRIEND\n"
    "tempfail.example 450 mailbox busy\n"
    "quoted.example ERROR:\"553 quoted text\"\n"
    "Connect:skip.example SKIP\n"
    "203.0.113.77 REJECT\n"
    "To:localuser@ DISCARD\n"
    "To:postmaster@ OK\n"
    "relay.example RELAY\n"
    "To:okuser@relay2.example OK\n"
    "To:relay2.example RELAY\n"
    "MiXeD.Example REJECT\n"
    "From:nobody@ 421 4.7.0 come back later\n"
    "ERR.example ERROR:550 plain error\n"
    "Connect:172.16.0.0/12 REJECT\n"
    "Connect:172.16.5.0/24 OK\n"
    "To:olduser@here.example 550 5.1.1 gone\n"
    "From:d.example SKIP\n"
    "d@d.example REJECT\n"
    "From:TAB.example\t \tREJECT \t \n";

/* The line number of the first line holding text (whole key, as written). */
static unsigned
line_of(const char *map, const char *key)
{
	unsigned line = 1;
	size_t kl = strlen(key);
	for (const char *p = map; *p; line++) {
		const char *nl = strchr(p, '\n');
		if (strncmp(p, key, kl) == 0 && (p[kl] == ' ' || p[kl] == '\t'))
			return line;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

static struct access_map *
parse(const char *text, struct diag *d)
{
	diag_init(d);
	return access_parse(text, strlen(text), "t", d);
}

/* A Connect key: "ADDR", "ADDR HOST" or "- HOST". */
static bool
connect_key(const struct access_map *m, const char *key, struct access_result *r)
{
	char ip[64] = "";
	const char *sp = strchr(key, ' ');
	const char *host = sp ? sp + 1 : NULL;
	size_t n = sp ? (size_t)(sp - key) : strlen(key);
	memcpy(ip, key, n < sizeof ip ? n : sizeof ip - 1);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1)
		return access_connect(m, (struct sockaddr *)&sin, host, r);
	if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1)
		return access_connect(m, (struct sockaddr *)&sin6, host, r);
	return access_connect(m, NULL, host, r);
}

static bool
lookup(const struct access_map *m, int tag, const char *key, struct access_result *r)
{
	switch (tag) {
	case ACCESS_CONNECT: return connect_key(m, key, r);
	case ACCESS_FROM: return access_from(m, key, r);
	case ACCESS_TO: return access_to(m, key, r);
	case ACCESS_SPAM: return access_spam(m, key, r);
	}
	return false;
}

struct lcase {
	int tag;
	const char *key;		/* looked up */
	enum access_action want;
	const char *line_key;		/* the line expected to match (as written) */
};

static void
run_cases(const char *map, const struct lcase *c, size_t n)
{
	struct diag d;
	struct access_map *m = parse(map, &d);
	CHECK(m != NULL);
	if (m == NULL) {
		fprintf(stderr, "%s", diag_text(&d));
		diag_free(&d);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct access_result r;
		bool found = lookup(m, c[i].tag, c[i].key, &r);
		bool ok = found == (c[i].want != ACCESS_NONE) && r.action == c[i].want;
		if (ok && c[i].line_key != NULL)
			ok = r.line == line_of(map, c[i].line_key) &&
			    strcmp(r.key, c[i].line_key) == 0 && strcmp(r.file, "t") == 0;
		if (!ok) {
			fprintf(stderr, "case %zu: %s %s: got %s line %u \"%s\", want %s \"%s\"\n",
			    i, access_tag_name((enum access_tag)c[i].tag), c[i].key,
			    access_action_name(r.action), r.line, r.key,
			    access_action_name(c[i].want), c[i].line_key ? c[i].line_key : "");
			t_cur_failed = 1;
		}
	}
	access_free(&m);
	CHECK(m == NULL);
	diag_free(&d);
}

enum { C = ACCESS_CONNECT, F = ACCESS_FROM, TO = ACCESS_TO, S = ACCESS_SPAM };

T(test_lookup_table)
{
	static const struct lcase cases[] = {
		/* the exception idiom: tagged exact address before the domain */
		{ F, "friend@blocked.example", ACCESS_OK, "From:friend@blocked.example" },
		{ TO, "friend@blocked.example", ACCESS_OK, "To:friend@blocked.example" },
		{ F, "Friend@Blocked.Example", ACCESS_OK, "From:friend@blocked.example" },
		{ F, "other@blocked.example", ACCESS_REJECT, "blocked.example" },
		{ TO, "other@blocked.example", ACCESS_REJECT, "blocked.example" },
		{ F, "friend@mx.blocked.example", ACCESS_REJECT, "blocked.example" },
		{ C, "192.0.2.1 mx.blocked.example", ACCESS_REJECT, "blocked.example" },
		{ S, "friend@blocked.example", ACCESS_NONE, NULL },	/* untagged: not Spam: */
		/* most specific first: an untagged /32 beats a tagged /24 */
		{ C, "192.0.2.66", ACCESS_REJECT, "192.0.2.66" },
		{ C, "192.0.2.67", ACCESS_OK, "Connect:192.0.2" },
		/* tagged before untagged for the same key */
		{ C, "192.0.2.1 tagged.example", ACCESS_OK, "Connect:tagged.example" },
		{ C, "192.0.2.1 a.b.tagged.example", ACCESS_OK, "Connect:tagged.example" },
		{ F, "x@tagged.example", ACCESS_REJECT, "tagged.example" },
		/* .domain: subdomains only; checked before the parent itself */
		{ F, "x@sub.example.net", ACCESS_OK, "sub.example.net" },
		{ F, "x@a.sub.example.net", ACCESS_REJECT, ".sub.example.net" },
		{ F, "x@deep.a.sub.example.net", ACCESS_REJECT, ".sub.example.net" },
		{ F, "x@example.net", ACCESS_NONE, NULL },
		{ F, "x@notsub.example.net", ACCESS_NONE, NULL },
		/* user@ and +detail */
		{ F, "spammer@anywhere.example", ACCESS_ERROR, "spammer@" },
		{ F, "Spammer@anywhere.example", ACCESS_ERROR, "spammer@" },
		{ F, "spammer+x@anywhere.example", ACCESS_ERROR, "spammer@" },
		{ F, "spammer", ACCESS_ERROR, "spammer@" },
		{ TO, "spammer@here.example", ACCESS_ERROR, "spammer@" },
		{ F, "user+tag@plus.example", ACCESS_REJECT, "user+*@plus.example" },
		{ F, "user@plus.example", ACCESS_OK, "user@plus.example" },
		{ F, "user+@plus.example", ACCESS_REJECT, "user+*@plus.example" },
		{ F, "other+tag@plus.example", ACCESS_NONE, NULL },
		/* IPv6: /48 group prefix, a longer CIDR inside it, an exact tagged */
		{ C, "2001:db8:1::9", ACCESS_REJECT, "IPv6:2001:db8:1" },
		{ C, "2001:db8:1:2::5", ACCESS_OK, "IPv6:2001:db8:1:2::/64" },
		{ C, "2001:db8:1:3::5", ACCESS_REJECT, "IPv6:2001:db8:1" },
		{ C, "2001:db8:2::7", ACCESS_RELAY, "Connect:IPv6:2001:db8:2::7" },
		{ C, "2001:db8:2::8", ACCESS_NONE, NULL },
		{ C, "2001:db8:10::1", ACCESS_NONE, NULL },
		/* CIDR and SKIP: SKIP ends the address walk with no opinion */
		{ C, "10.9.9.9", ACCESS_DISCARD, "10.0.0.0/8" },
		{ C, "10.1.9.9", ACCESS_SKIP, "10.1.0.0/16" },
		{ C, "10.1.2.3", ACCESS_RELAY, "Connect:10.1.2.3" },
		{ C, "11.1.2.3", ACCESS_NONE, NULL },
		{ C, "172.20.1.1", ACCESS_REJECT, "Connect:172.16.0.0/12" },
		{ C, "172.16.5.200", ACCESS_OK, "Connect:172.16.5.0/24" },
		{ C, "172.32.0.1", ACCESS_NONE, NULL },
		/* an IPv4-mapped client is its IPv4 address */
		{ C, "::ffff:192.0.2.66", ACCESS_REJECT, "192.0.2.66" },
		{ C, "::ffff:10.9.9.9", ACCESS_DISCARD, "10.0.0.0/8" },
		/* literals: a client without a name is [address] first */
		{ C, "198.51.100.99", ACCESS_REJECT, "[198.51.100.99]" },
		{ C, "198.51.100.99 h.example", ACCESS_OK, "Connect:198.51.100" },
		{ C, "198.51.100.98", ACCESS_OK, "Connect:198.51.100" },
		{ F, "x@[198.51.100.99]", ACCESS_REJECT, "[198.51.100.99]" },
		{ F, "x@[203.0.113.5]", ACCESS_ERROR, "From:[203.0.113]" },
		{ TO, "x@[203.0.113.5]", ACCESS_NONE, NULL },
		{ F, "x@[IPv6:::ffff:198.51.100.99]", ACCESS_REJECT, "[198.51.100.99]" },
		{ F, "x@[198.51.100.999]", ACCESS_NONE, NULL },
		/* Spam: FRIEND/HATER, tag only */
		{ S, "abuse@our.example", ACCESS_FRIEND, "Spam:abuse@" },
		{ S, "x@hater.example", ACCESS_HATER, "Spam:hater.example" },
		{ S, "x@mx.friendly.example", ACCESS_FRIEND, "Spam:friendly.example" },
		{ S, "x@blocked.example", ACCESS_NONE, NULL },
		{ TO, "abuse@our.example", ACCESS_NONE, NULL },
		/* reply forms */
		{ F, "a@tempfail.example", ACCESS_ERROR, "tempfail.example" },
		{ F, "a@quoted.example", ACCESS_ERROR, "quoted.example" },
		{ F, "nobody@x.example", ACCESS_ERROR, "From:nobody@" },
		{ F, "a@err.example", ACCESS_ERROR, "ERR.example" },
		/* Connect: a name SKIP goes on to the address */
		{ C, "203.0.113.77 mx.skip.example", ACCESS_REJECT, "203.0.113.77" },
		{ C, "203.0.113.78 mx.skip.example", ACCESS_SKIP, "Connect:skip.example" },
		{ C, "- mx.skip.example", ACCESS_SKIP, "Connect:skip.example" },
		/* To: user@ and Postmaster without a domain */
		{ TO, "localuser@our.example", ACCESS_DISCARD, "To:localuser@" },
		{ F, "localuser@our.example", ACCESS_NONE, NULL },
		{ TO, "Postmaster", ACCESS_OK, "To:postmaster@" },
		{ TO, "<olduser@here.example>", ACCESS_ERROR, "To:olduser@here.example" },
		/* RELAY: OK for a sender, relaying for a recipient or client */
		{ F, "x@relay.example", ACCESS_OK, "relay.example" },
		{ TO, "x@relay.example", ACCESS_RELAY, "relay.example" },
		{ C, "192.0.2.1 mail.relay.example", ACCESS_RELAY, "relay.example" },
		{ TO, "okuser@relay2.example", ACCESS_RELAY, "To:relay2.example" },
		{ TO, "other@relay2.example", ACCESS_RELAY, "To:relay2.example" },
		/* case, a trailing dot, the null sender */
		{ F, "x@mixed.example.", ACCESS_REJECT, "MiXeD.Example" },
		{ F, "", ACCESS_NONE, NULL },
		{ F, "<>", ACCESS_NONE, NULL },
		/* From: SKIP on the domain: the user@domain step came first */
		{ F, "d@d.example", ACCESS_REJECT, "d@d.example" },
		{ F, "e@d.example", ACCESS_SKIP, "From:d.example" },
		{ F, "x@tab.example", ACCESS_REJECT, "From:TAB.example" },
		/* hostile shapes find nothing and do not crash */
		{ F, "@", ACCESS_NONE, NULL },
		{ F, "a@..example", ACCESS_NONE, NULL },
		{ F, "a@.", ACCESS_NONE, NULL },
		{ C, "- ", ACCESS_NONE, NULL },
		{ C, "- .", ACCESS_NONE, NULL },
	};
	run_cases(MAP, cases, NELEM(cases));
}

T(test_reply_fields)
{
	struct diag d;
	struct access_map *m = parse(MAP, &d);
	struct access_result r;
	CHECK(access_from(m, "a@blocked.example", &r));
	CHECK_INT(r.code, 550);
	CHECK_STR(r.esc, "5.7.1");
	CHECK_STR(r.text, "Access denied");
	CHECK(access_from(m, "spammer@x.example", &r));
	CHECK_INT(r.code, 550);
	CHECK_STR(r.esc, "5.7.1");
	CHECK_STR(r.text, "no spammers here");
	CHECK(access_from(m, "a@tempfail.example", &r));
	CHECK_INT(r.code, 450);
	CHECK_STR(r.esc, "4.7.1");
	CHECK_STR(r.text, "mailbox busy");
	CHECK(access_from(m, "a@quoted.example", &r));
	CHECK_INT(r.code, 553);
	CHECK_STR(r.esc, "5.7.1");
	CHECK_STR(r.text, "quoted text");
	CHECK(access_from(m, "x@[203.0.113.1]", &r));
	CHECK_INT(r.code, 451);
	CHECK_STR(r.esc, "4.3.0");
	CHECK_STR(r.text, "try later");
	CHECK(access_to(m, "olduser@here.example", &r));
	CHECK_INT(r.code, 550);
	CHECK_STR(r.esc, "5.1.1");
	CHECK_STR(r.text, "gone");
	CHECK(access_from(m, "nobody@x", &r));
	CHECK_INT(r.code, 421);
	CHECK_STR(r.esc, "4.7.0");
	CHECK(access_from(m, "x@relay.example", &r));
	CHECK_INT(r.action, ACCESS_OK);
	CHECK_INT(r.written, ACCESS_RELAY);
	CHECK(access_from(m, "x@blocked.example", &r));
	CHECK_INT(r.written, ACCESS_REJECT);
	CHECK(!access_from(m, "x@nowhere.example", &r));
	CHECK_INT(r.action, ACCESS_NONE);
	CHECK_INT(r.line, 0);
	CHECK(access_count(m) == 42);
	CHECK_STR(diag_text(&d), "");
	access_free(&m);
	diag_free(&d);
}

/* sendmail gives user@ keys to recipients at local domains only. */
T(test_rcpt_local_domains)
{
	struct diag d;
	struct access_map *m = parse(MAP, &d);
	struct access_result r;
	CHECK(!access_rcpt(m, "localuser@remote.example", false, &r));
	CHECK(access_rcpt(m, "localuser@our.example", true, &r) && r.action == ACCESS_DISCARD);
	CHECK(access_rcpt(m, "localuser", false, &r) && r.action == ACCESS_DISCARD);
	CHECK(!access_spam_rcpt(m, "abuse@remote.example", false, &r));
	CHECK(access_spam_rcpt(m, "abuse@our.example", true, &r) && r.action == ACCESS_FRIEND);
	access_free(&m);
	diag_free(&d);
}

T(test_access_test)
{
	struct diag d;
	struct access_map *m = parse(MAP, &d);
	struct access_result r;
	CHECK(access_test(m, ACCESS_CONNECT, "192.0.2.66", &r) && r.action == ACCESS_REJECT);
	CHECK(access_test(m, ACCESS_CONNECT, "IPv6:2001:db8:1::1", &r) &&
	    r.action == ACCESS_REJECT);
	CHECK(access_test(m, ACCESS_CONNECT, "[198.51.100.99]", &r) &&
	    r.action == ACCESS_REJECT);
	CHECK(access_test(m, ACCESS_CONNECT, "mx.tagged.example", &r) && r.action == ACCESS_OK);
	CHECK(!access_test(m, ACCESS_CONNECT, "nothing.example", &r));
	CHECK(access_test(m, ACCESS_FROM, "friend@blocked.example", &r) && r.action == ACCESS_OK);
	CHECK(access_test(m, ACCESS_TO, "localuser@x.example", &r) &&
	    r.action == ACCESS_DISCARD);
	CHECK(access_test(m, ACCESS_SPAM, "abuse@x.example", &r) && r.action == ACCESS_FRIEND);
	CHECK(!access_test(NULL, ACCESS_FROM, "x@y", &r));
	access_free(&m);
	diag_free(&d);
}

/* access.sample: what each line's comment says it does. */
T(test_sample_file)
{
	struct diag d;
	diag_init(&d);
	struct access_map *m = access_load(DATA "access.sample", &d);
	CHECK(m != NULL);
	CHECK_STR(diag_text(&d), "");
	if (m == NULL) {
		diag_free(&d);
		return;
	}
	CHECK_INT(access_count(m), 24);
	static const struct {
		int tag;
		const char *key;
		enum access_action want;
		unsigned line;
		uint16_t code;
		const char *text;
	} c[] = {
		/* "allowing a single user from a blocked domain (inbound and outbound)" */
		{ F, "friend@blocked.example", ACCESS_OK, 15, 0, "" },
		{ TO, "friend@blocked.example", ACCESS_OK, 16, 0, "" },
		{ F, "someone@blocked.example", ACCESS_REJECT, 17, 550, "Access denied" },
		{ TO, "someone@blocked.example", ACCESS_REJECT, 17, 550, "Access denied" },
		{ C, "192.0.2.1 mx.blocked.example", ACCESS_REJECT, 17, 550, "Access denied" },
		/* people and domains we hate */
		{ F, "pest@spammy.example", ACCESS_ERROR, 21, 550, "Seriously, stop and go away" },
		{ F, "other@spammy.example", ACCESS_NONE, 0, 0, "" },
		{ F, "nuisance@freemail.example", ACCESS_ERROR, 22, 550,
		  "Seriously, stop writing to us" },
		{ F, "x@marketing.example", ACCESS_ERROR, 23, 550,
		  "delete all our addresses from your lists" },
		{ F, "x@news.marketing.example", ACCESS_ERROR, 23, 550,
		  "delete all our addresses from your lists" },
		{ C, "192.0.2.9 relay.authprober.example", ACCESS_ERROR, 24, 550,
		  "stop trying repeated AUTH commands against us" },
		{ F, "x@bulk.example", ACCESS_ERROR, 25, 550, "you need to stop spamming us" },
		{ TO, "x@scam.example", ACCESS_ERROR, 26, 550, "stop trying your lame scam" },
		{ C, "192.0.2.9 vps7.hosting.example", ACCESS_ERROR, 27, 550,
		  "close all those holes and block spammers" },
		/* unallocated and hostile class A's */
		{ C, "1.2.3.4", ACCESS_DISCARD, 31, 0, "" },
		{ C, "2.0.0.1", ACCESS_DISCARD, 32, 0, "" },
		{ C, "7.7.7.7", ACCESS_DISCARD, 33, 0, "" },
		{ C, "23.1.1.1", ACCESS_DISCARD, 34, 0, "" },
		{ C, "27.255.0.1", ACCESS_DISCARD, 35, 0, "" },
		{ C, "31.0.0.0", ACCESS_DISCARD, 36, 0, "" },
		{ C, "3.1.1.1", ACCESS_NONE, 0, 0, "" },
		{ C, "71.1.1.1", ACCESS_NONE, 0, 0, "" },
		/* networks and single hosts that attacked us */
		{ C, "198.51.100.200", ACCESS_REJECT, 40, 550, "Access denied" },
		{ C, "198.51.101.1", ACCESS_NONE, 0, 0, "" },
		{ C, "203.0.113.42", ACCESS_DISCARD, 41, 0, "" },
		{ C, "203.0.113.43", ACCESS_NONE, 0, 0, "" },
		{ C, "192.0.2.66", ACCESS_ERROR, 42, 550, "go away, you relayed spam through us" },
		{ C, "2001:db8:bad::25", ACCESS_REJECT, 43, 550, "Access denied" },
		{ C, "2001:db8:bad:ffff::1", ACCESS_REJECT, 43, 550, "Access denied" },
		{ C, "2001:db8:bad0::1", ACCESS_NONE, 0, 0, "" },
		/* our own hosts may relay */
		{ C, "127.0.0.1", ACCESS_RELAY, 47, 0, "" },
		{ C, "::ffff:127.0.0.1", ACCESS_RELAY, 47, 0, "" },
		{ C, "192.0.2.10", ACCESS_RELAY, 48, 0, "" },
		{ C, "127.0.0.2", ACCESS_NONE, 0, 0, "" },
		/* recipients that do not exist any more */
		{ TO, "olduser@nmrc.example", ACCESS_ERROR, 52, 550, "this user left years ago" },
		{ F, "olduser@nmrc.example", ACCESS_NONE, 0, 0, "" },
		{ TO, "abuse-me@our.example", ACCESS_REJECT, 53, 550, "Access denied" },
		{ F, "abuse-me@our.example", ACCESS_NONE, 0, 0, "" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct access_result r;
		bool found = lookup(m, c[i].tag, c[i].key, &r);
		if (found != (c[i].want != ACCESS_NONE) || r.action != c[i].want ||
		    r.line != c[i].line || r.code != c[i].code || strcmp(r.text, c[i].text) != 0) {
			fprintf(stderr, "sample %zu %s: got %s line %u %u \"%s\"\n", i, c[i].key,
			    access_action_name(r.action), r.line, r.code, r.text);
			t_cur_failed = 1;
		}
	}
	struct access_result r;
	CHECK(access_to(m, "olduser@nmrc.example", &r));
	CHECK_STR(r.esc, "5.1.1");
	CHECK_STR(r.key, "To:olduser@nmrc.example");
	CHECK(access_connect(m, NULL, "x.bulk.example", &r));
	CHECK_STR(r.file, DATA "access.sample");
	access_free(&m);
	diag_free(&d);
}

/* Every error names file:line and says what was expected. */
T(test_parse_errors)
{
	static const struct {
		const char *text;
		const char *want;	/* a prefix of the diagnostics */
	} c[] = {
		{ "a.example REJCT\n", "t:1: unknown action \"REJCT\" (expected OK, RELAY, "
		  "REJECT, DISCARD, SKIP, ERROR:x.y.z:nnn text, ERROR:nnn text or nnn text)\n" },
		{ "# c\n192.0.2.256 REJECT\n", "t:2: bad IP address or prefix \"192.0.2.256\": bad "
		  "octet (expected 0 to 255 without leading zeros) (expected e.g. 192.0.2.1, "
		  "198.51.100, 192.0.2.0/25, IPv6:2001:db8::1, IPv6:2001:db8:bad)\n" },
		{ "1.2.3.4.5 OK\n", "t:1: bad IP address or prefix \"1.2.3.4.5\": more than 4 "
		  "octets" },
		{ "010.1 OK\n", "t:1: bad IP address or prefix \"010.1\": bad octet" },
		{ "192.0.2.1/24 OK\n", "t:1: bad IP address or prefix \"192.0.2.1/24\": host bits "
		  "set past the prefix length" },
		{ "192.0.2.0/33 OK\n", "t:1: bad IP address or prefix \"192.0.2.0/33\": bad prefix "
		  "length (expected /0 to /32)" },
		{ "IPv6:2001:db8::g OK\n", "t:1: bad IP address or prefix \"IPv6:2001:db8::g\": "
		  "bad IPv6 address" },
		{ "IPv6:1:2:3:4:5:6:7:8:9 OK\n", "t:1: bad IP address or prefix "
		  "\"IPv6:1:2:3:4:5:6:7:8:9\": more than 8 groups" },
		{ "2001:db8::1 OK\n", "t:1: unknown tag \"2001:\" (expected Connect:, From:, To: "
		  "or Spam:; IPv6 keys start with IPv6:)\n" },
		{ "[192.0.2.1 OK\n", "t:1: bad address literal \"[192.0.2.1\"" },
		{ "Spam:x@y.example REJECT\n", "t:1: Spam: takes FRIEND or HATER only, not "
		  "\"REJECT\"\n" },
		{ "Spam:abuse@ OK\n", "t:1: Spam: takes FRIEND or HATER" },
		{ "To:x@y.example FRIEND\n", "t:1: FRIEND is for Spam: keys only (expected "
		  "Spam:To:x@y.example)\n" },
		{ "a.example ERROR:go away\n", "t:1: ERROR: without a reply code (expected "
		  "ERROR:nnn text, ERROR:x.y.z:nnn text or nnn text)\n" },
		{ "a.example ERROR:5.7.1:go away\n", "t:1: ERROR:x.y.z: without a reply code" },
		{ "a.example ERROR:\n", "t:1: ERROR: without a reply code" },
		{ "a.example 250 fine\n", "t:1: reply code 250 does not refuse (expected 4xx or "
		  "5xx)\n" },
		{ "a.example ERROR:2.0.0:250 fine\n", "t:1: reply code 250 does not refuse" },
		{ "a.example 599 x\n", "t:1: reply code 599 is not an SMTP code" },
		{ "a.example 450 5.2.2 full\n", "t:1: enhanced status code 5.2.2 does not match "
		  "reply code 450 (RFC 3463 3.1: the class must agree)\n" },
		{ "a.example \"550 unbalanced\n", "t:1: unbalanced quote in the reply" },
		{ "a.example 550-dash\n", "t:1: ERROR: without a reply code" },
		{ "a.example REJECT\x01\n", "t:1: control character 0x01 at column 17 (expected "
		  "printable text)\n" },
		{ "a.example\x1b REJECT\n", "t:1: control character 0x1b at column 10" },
		{ "a.example 550 caf\xc3\xa9\n", "t:1: non-ASCII byte 0xc3 at column 18" },
		{ "a.example\n", "t:1: key \"a.example\" has no action (expected e.g. \"a.example "
		  "REJECT\")\n" },
		{ "From: REJECT\n", "t:1: no key after the tag From: (expected e.g. "
		  "From:example.com)\n" },
		{ "Bogus:a.example REJECT\n", "t:1: unknown tag \"Bogus:\"" },
		{ "a..example OK\n", "t:1: bad key \"a..example\" (expected a host or domain "
		  "name" },
		{ "under_score.example OK\n", "t:1: bad key \"under_score.example\"" },
		{ ". OK\n", "t:1: bad key \".\"" },
		{ "a@b@c.example OK\n", "t:1: bad address key \"a@b@c.example\"" },
		{ "@example.com OK\n", "t:1: bad address key \"@example.com\"" },
		{ "x@ SKIP\n", "t:1: SKIP applies to host names, domains and IP addresses only, "
		  "not to \"x@\"\n" },
		{ "a.example QUARANTINE:why\n", "t:1: action \"QUARANTINE:why\": QUARANTINE is not "
		  "supported" },
		{ "a.example OK # comment\n", "t:1: unknown action \"OK # comment\"" },
		{ "\n\n\na.example 550 ok\nb.example BAD\n", "t:5: unknown action \"BAD\"" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct diag d;
		struct access_map *m = parse(c[i].text, &d);
		const char *got = diag_text(&d);
		if (m != NULL || strncmp(got, c[i].want, strlen(c[i].want)) != 0 || d.n_err == 0) {
			fprintf(stderr, "error case %zu: got \"%s\", want \"%s\"\n", i, got,
			    c[i].want);
			t_cur_failed = 1;
		}
		access_free(&m);
		diag_free(&d);
	}
}

T(test_too_long)
{
	char line[4000];
	struct diag d;
	/* a key over ACCESS_KEY_MAX */
	memset(line, 'a', 300);
	snprintf(line + 300, sizeof line - 300, " REJECT\n");
	struct access_map *m = parse(line, &d);
	CHECK(m == NULL);
	CHECK(strstr(diag_text(&d), "t:1: key is 300 bytes long (expected at most 299)") != NULL);
	diag_free(&d);
	/* reply text over ACCESS_TEXT_MAX */
	int n = snprintf(line, sizeof line, "a.example 550 ");
	memset(line + n, 'x', 400);
	snprintf(line + n + 400, sizeof line - (size_t)n - 400, "\n");
	m = parse(line, &d);
	CHECK(m == NULL);
	CHECK(strstr(diag_text(&d), "t:1: reply text is 400 bytes long (expected at most 399)")
	    != NULL);
	diag_free(&d);
	/* a line over ACCESS_LINE_MAX (afile's message) */
	memset(line, 'b', 2100);
	snprintf(line + 2100, sizeof line - 2100, " OK\n");
	m = parse(line, &d);
	CHECK(m == NULL);
	CHECK(strstr(diag_text(&d), "t:1: line is 2103 bytes long (expected at most 2048)") !=
	    NULL);
	diag_free(&d);
	/* exactly 399 bytes of text is fine */
	n = snprintf(line, sizeof line, "a.example 550 ");
	memset(line + n, 'x', 399);
	snprintf(line + n + 399, sizeof line - (size_t)n - 399, "\n");
	m = parse(line, &d);
	CHECK(m != NULL);
	struct access_result r;
	CHECK(access_from(m, "q@a.example", &r) && strlen(r.text) == 399);
	access_free(&m);
	diag_free(&d);
}

/* Errors everywhere: every one is reported, then the walk stops at 100. */
T(test_many_errors)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 150; i++)
		buf_printf(&b, "bad%d.example NOPE\n", i);
	buf_cstr(&b);
	struct diag d;
	struct access_map *m = parse((const char *)b.data, &d);
	CHECK(m == NULL);
	CHECK_INT(d.n_err, 101);
	CHECK(strstr(diag_text(&d), "t: too many errors, stopped after line 100") != NULL);
	diag_free(&d);
	buf_free(&b);
}

T(test_duplicates)
{
	struct diag d;
	struct access_map *m = parse("a.example OK\n"
	    "A.Example REJECT\n"
	    "7 DISCARD\n"
	    "7.0.0.0/8 OK\n"
	    "From:a.example REJECT\n"
	    "IPv6:2001:db8:0:0:0:0:0:1 OK\n"
	    "IPv6:2001:db8::1 REJECT\n"
	    "[192.0.2.1] OK\n"
	    "192.0.2.1 REJECT\n"
	    "a.example. REJECT\n", &d);
	CHECK(m != NULL);
	CHECK_STR(diag_text(&d),
	    "t:2: warning: duplicate key \"A.Example\" (first at line 1, which wins)\n"
	    "t:4: warning: duplicate key \"7.0.0.0/8\" (first at line 3, which wins)\n"
	    "t:7: warning: duplicate key \"IPv6:2001:db8::1\" (first at line 6, which wins)\n"
	    "t:10: warning: duplicate key \"a.example.\" (first at line 1, which wins)\n");
	CHECK_INT(d.n_warn, 4);
	CHECK_INT(d.n_err, 0);
	CHECK_INT(access_count(m), 6);
	struct access_result r;
	CHECK(access_to(m, "x@a.example", &r) && r.action == ACCESS_OK && r.line == 1);
	CHECK(access_from(m, "x@a.example", &r) && r.action == ACCESS_REJECT && r.line == 5);
	CHECK(access_test(m, ACCESS_CONNECT, "7.1.1.1", &r) && r.action == ACCESS_DISCARD);
	CHECK(access_test(m, ACCESS_CONNECT, "2001:db8::1", &r) && r.action == ACCESS_OK &&
	    r.line == 6);
	access_free(&m);
	diag_free(&d);
}

T(test_warnings)
{
	struct diag d;
	struct access_map *m = parse("GreetPause:192.0.2 5000\n"
	    "Connect:x@y.example REJECT\n"
	    "From:192.0.2.1 REJECT\n"
	    "ClientRate: 10\n", &d);
	CHECK(m != NULL);
	CHECK_STR(diag_text(&d),
	    "t:1: warning: tag GreetPause: is sendmail's and not used by Talon; line ignored\n"
	    "t:2: warning: Connect: is looked up with host names and addresses; a key with @ "
	    "never matches\n"
	    "t:3: warning: From: is looked up with addresses and domains; an IP key never matches "
	    "(write [192.0.2.1] for an address literal)\n"
	    "t:4: warning: tag ClientRate: is sendmail's and not used by Talon; line ignored\n");
	CHECK_INT(access_count(m), 2);
	access_free(&m);
	diag_free(&d);
}

T(test_formats)
{
	struct diag d;
	/* CRLF, blanks before the key, comments, empty lines, CIDR /0 */
	struct access_map *m = parse("# c\r\n\r\n   \t\n  # indented comment\r\n"
	    "  lead.example OK\r\n"
	    "Connect:0.0.0.0/0 REJECT\r\n"
	    "Connect:IPv6:::/0 REJECT\r\n"
	    "no-newline.example DISCARD", &d);
	CHECK(m != NULL);
	CHECK_STR(diag_text(&d), "");
	struct access_result r;
	CHECK(access_from(m, "a@lead.example", &r) && r.action == ACCESS_OK && r.line == 5);
	CHECK_STR(r.key, "lead.example");
	CHECK(access_test(m, ACCESS_CONNECT, "8.8.8.8", &r) && r.line == 6);
	CHECK(access_test(m, ACCESS_CONNECT, "2001:db8::99", &r) && r.line == 7);
	CHECK(access_from(m, "a@no-newline.example", &r) && r.action == ACCESS_DISCARD);
	CHECK(access_test(m, ACCESS_CONNECT, "mx.lead.example", &r) && r.action == ACCESS_OK);
	access_free(&m);
	diag_free(&d);
	/* an empty file is a map with no entries */
	m = parse("", &d);
	CHECK(m != NULL && access_count(m) == 0);
	CHECK(!access_from(m, "a@b.example", &r));
	CHECK(!access_test(m, ACCESS_CONNECT, "192.0.2.1", &r));
	access_free(&m);
	diag_free(&d);
}

T(test_load_errors)
{
	struct diag d;
	diag_init(&d);
	struct access_map *m = access_load(DATA "no-such-file", &d);
	CHECK(m == NULL);
	CHECK(strstr(diag_text(&d), DATA "no-such-file: cannot open: ") != NULL);
	diag_free(&d);
	diag_init(&d);
	m = access_load(DATA, &d);
	CHECK(m == NULL);
	CHECK(strstr(diag_text(&d), "is a directory (expected an access map)") != NULL);
	diag_free(&d);
}

/* The 25,000-line file from gen-access.py: entry count, duplicates, and
 * every single-address and domain key found again by a lookup. */
T(test_generated_file)
{
	FILE *f = popen("/usr/bin/python3 " DATA "gen-access.py", "r");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	struct buf b;
	buf_init(&b, 64u << 20);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	CHECK(pclose(f) == 0);
	struct diag d;
	diag_init(&d);
	struct access_map *m = access_parse((const char *)b.data, b.len, "big", &d);
	CHECK(m != NULL);
	/* 25,000 lines: 504 comments, 17 keys given twice */
	CHECK_INT(access_count(m), 24479);
	CHECK_INT(d.n_warn, 17);
	CHECK_INT(d.n_err, 0);
	unsigned line = 0, checked = 0, bad = 0;
	buf_cstr(&b);
	for (char *p = (char *)b.data; m != NULL && p && *p; ) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		char key[300];
		if (p[0] != '#' && sscanf(p, "%299s", key) == 1) {
			struct access_result r;
			bool found = false;
			int dots = 0;
			for (char *q = key; *q; q++)
				dots += *q == '.';
			if (strchr(key, ':') == NULL && strchr(key, '@') == NULL &&
			    key[0] >= '0' && key[0] <= '9' && dots == 3) {
				found = access_test(m, ACCESS_CONNECT, key, &r);
				checked++;
			} else if (strchr(key, ':') == NULL && strchr(key, '@') == NULL &&
			    !(key[0] >= '0' && key[0] <= '9')) {
				char a[320];
				snprintf(a, sizeof a, "someone@%s", key);
				found = access_from(m, a, &r);
				checked++;
			} else {
				found = true;
				snprintf(r.key, sizeof r.key, "%s", key);
				r.line = line;
			}
			if (!found || strcmp(r.key, key) != 0 || r.line > line)
				bad++;
		}
		p = nl ? nl + 1 : NULL;
	}
	CHECK_INT(bad, 0);
	CHECK(checked > 10000);
	access_free(&m);
	diag_free(&d);
	buf_free(&b);
}

int
main(void)
{
	RUN(test_lookup_table);
	RUN(test_reply_fields);
	RUN(test_rcpt_local_domains);
	RUN(test_access_test);
	RUN(test_sample_file);
	RUN(test_parse_errors);
	RUN(test_too_long);
	RUN(test_many_errors);
	RUN(test_duplicates);
	RUN(test_warnings);
	RUN(test_formats);
	RUN(test_load_errors);
	RUN(test_generated_file);
	return t_done("access");
}

/*
 * tests/unit/test_dns_zonefile.c - dns/zonefile.c and dns/rr.c: every
 * syntax form of the master file, every error message with its
 * file:line:column, $INCLUDE, the nmrc.org zone, zones signed by
 * ldns-signzone (NSEC and NSEC3), and rdata text -> wire -> text -> wire
 * round trips for every type.
 *
 * Every record any test parses goes through round_trip(): its rdata in
 * presentation form, read back as a one-line zone, must give the same
 * wire bytes.  Run from the repository root (test data paths).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/util.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zonefile.h"
#include "t.h"

static const uint8_t EX[] = "\7example\0";

/* --- collecting records ------------------------------------------------ */

struct one {
	uint8_t rdata[DNS_RDATA_MAX];
	size_t len;
	uint16_t type;
	int n;
};

static int
one_rr(void *arg, const struct dns_rr *rr)
{
	struct one *o = arg;
	memcpy(o->rdata, rr->rdata, rr->rdlen);
	o->len = rr->rdlen;
	o->type = rr->type;
	o->n++;
	return 0;
}

/* text is the presentation form of rr's rdata: "owner TTL IN TYPE text"
 * must read back to the same wire bytes. */
static void
round_trip(const struct dns_rr *rr, const char *text)
{
	char o[DNS_NAME_TEXT_MAX], tb[16];
	struct one *r = xcalloc(1, sizeof *r);
	struct diag d;

	dns_name_to_text(rr->owner, o);
	char *line = xasprintf("%s %u IN %s %s\n", o, rr->ttl, dns_type_name(rr->type, tb), text);
	diag_init(&d);
	int rc = dns_zonefile_parse_text("rt", line, strlen(line), rr->owner, false, one_rr, r, &d);
	if (rc != 0 || r->n != 1 || r->type != rr->type || r->len != rr->rdlen ||
	    memcmp(r->rdata, rr->rdata, r->len) != 0) {
		fprintf(stderr, "%s: round trip failed: %.300s%s\n", t_cur, line, diag_text(&d));
		t_cur_failed = 1;
	}
	diag_free(&d);
	free(line);
	free(r);
}

struct got {
	struct buf out;		/* "line owner ttl TYPE rdata" per record */
	int n;
	int stop_at;		/* the callback returns -1 at this record */
	unsigned n_type[65536 / 64];	/* counts for a few types, by type % 1024 */
	char last_file[256];
};

static char text_buf[1 << 19];

static int
collect(void *arg, const struct dns_rr *rr)
{
	struct got *g = arg;
	char o[DNS_NAME_TEXT_MAX], tb[16];

	dns_name_to_text(rr->owner, o);
	int k = dns_rdata_to_text(rr->type, rr->rdata, rr->rdlen, text_buf, sizeof text_buf);
	CHECK(rr->rclass == DNS_C_IN);
	CHECK(dns_rdata_valid(rr->type, rr->rdata, rr->rdlen));
	CHECK(k >= 0);
	buf_printf(&g->out, "%u %s %u %s %s\n", rr->line, o, rr->ttl,
	    dns_type_name(rr->type, tb), k < 0 ? "<bad>" : text_buf);
	if (k >= 0)
		round_trip(rr, text_buf);
	g->n_type[rr->type % 1024]++;
	str_copy(g->last_file, sizeof g->last_file, rr->file);
	g->n++;
	return g->n == g->stop_at ? -1 : 0;
}

static void
got_init(struct got *g)
{
	memset(g, 0, sizeof *g);
	buf_init(&g->out, 0);
}

static const char *
got_text(struct got *g)
{
	buf_cstr(&g->out);
	return g->out.data ? (const char *)g->out.data : "";
}

static void
expect_zone(const char *text, size_t len, const uint8_t *origin, bool allow_include,
    const char *want_rrs, const char *want_diag, int want_rc, int line)
{
	struct got g;
	struct diag d;

	got_init(&g);
	diag_init(&d);
	int rc = dns_zonefile_parse_text("z", text, len, origin, allow_include, collect, &g, &d);
	if (rc != want_rc || strcmp(got_text(&g), want_rrs) != 0 ||
	    strcmp(diag_text(&d), want_diag) != 0) {
		fprintf(stderr, "test_dns_zonefile.c:%d: rc %d (want %d)\n--- records:\n%s"
		    "--- want:\n%s--- diag:\n%s--- want:\n%s", line, rc, want_rc, got_text(&g),
		    want_rrs, diag_text(&d), want_diag);
		t_cur_failed = 1;
	}
	buf_free(&g.out);
	diag_free(&d);
}

/* Records and no message; records and only warnings; an error. */
#define ZOK(text, rrs) expect_zone(text, sizeof(text) - 1, EX, false, rrs, "", 0, __LINE__)
#define ZWARN(text, rrs, diag) \
	expect_zone(text, sizeof(text) - 1, EX, false, rrs, diag, 0, __LINE__)
#define ZERR(text, rrs, diag) \
	expect_zone(text, sizeof(text) - 1, EX, false, rrs, diag, -1, __LINE__)

/* --- syntax ------------------------------------------------------------ */

T(test_zone_basic_syntax)
{
	ZOK("$TTL 1h30m\n"
	    "@ IN SOA ns1 hostmaster ( 2024010101 ; serial\n"
	    "\t1d 2h 3W\n"
	    "\t5m ) ; minimum\n"
	    "  IN NS ns1.example.\n"
	    "www 300 IN A 192.0.2.1\n"
	    "www in 60 A 192.0.2.2    ; class, then TTL\n"
	    "www A 192.0.2.3          ; neither: $TTL\n"
	    "\t AAAA 2001:DB8::1      ; blank owner: www\n"
	    "Mail.EXAMPLE. CLASS1 mx 10 @\n"
	    "   ; an indented comment line\n"
	    "\n"
	    "   \t\n"
	    ";comment at column 1\n"
	    "$ORIGIN sub.example.\n"
	    "x TXT \"a\" b \"c d\"\n"
	    "$ttl 1W\n"
	    "y type1 192.0.2.4\n"
	    "$origin EXAMPLE.\n"
	    "*.wild 2w a 192.0.2.5\n"
	    "z (\n"
	    "  A\n"
	    "  192.0.2.6 )",
	    "2 example. 5400 SOA ns1.example. hostmaster.example. 2024010101 86400 7200 1814400 300\n"
	    "5 example. 5400 NS ns1.example.\n"
	    "6 www.example. 300 A 192.0.2.1\n"
	    "7 www.example. 60 A 192.0.2.2\n"
	    "8 www.example. 5400 A 192.0.2.3\n"
	    "9 www.example. 5400 AAAA 2001:db8::1\n"
	    "10 Mail.EXAMPLE. 5400 MX 10 example.\n"
	    "16 x.sub.example. 5400 TXT \"a\" \"b\" \"c d\"\n"
	    "18 y.sub.example. 604800 A 192.0.2.4\n"
	    "20 *.wild.EXAMPLE. 1209600 A 192.0.2.5\n"
	    "21 z.EXAMPLE. 604800 A 192.0.2.6\n");
	/* CRLF line ends, tabs, a comment inside parentheses */
	ZOK("$TTL 60\r\na\tA\t192.0.2.1\r\nb TXT ( \"x\" ; one\r\n \"y\" ) ; two\r\n",
	    "2 a.example. 60 A 192.0.2.1\n"
	    "3 b.example. 60 TXT \"x\" \"y\"\n");
	/* no final newline, and an empty file */
	ZOK("$TTL 60\na A 192.0.2.1", "2 a.example. 60 A 192.0.2.1\n");
	ZOK("", "");
	ZOK("; nothing\n\n", "");
}

T(test_zone_ttl_inheritance)
{
	/* without $TTL: the last TTL written on a record */
	ZOK("a 10 A 192.0.2.1\nb A 192.0.2.2\nc 20 A 192.0.2.3\nd A 192.0.2.4\n",
	    "1 a.example. 10 A 192.0.2.1\n2 b.example. 10 A 192.0.2.2\n"
	    "3 c.example. 20 A 192.0.2.3\n4 d.example. 20 A 192.0.2.4\n");
	/* $TTL wins over the last TTL written */
	ZOK("a 10 A 192.0.2.1\n$TTL 30\nb A 192.0.2.2\n",
	    "1 a.example. 10 A 192.0.2.1\n3 b.example. 30 A 192.0.2.2\n");
	/* nothing at all: the SOA uses its minimum (a warning), then others inherit it */
	ZWARN("@ SOA ns hm 1 2 3 4 1h\nb A 192.0.2.2\n",
	    "1 example. 3600 SOA ns.example. hm.example. 1 2 3 4 3600\n"
	    "2 b.example. 3600 A 192.0.2.2\n",
	    "z:1:1: warning: found no TTL and no $TTL (expected one; the SOA minimum 3600 is "
	    "used as its TTL)\n");
	/* a minimum above the TTL limit is capped */
	ZWARN("@ SOA ns hm 1 2 3 4 4294967295\n",
	    "1 example. 2147483647 SOA ns.example. hm.example. 1 2 3 4 4294967295\n",
	    "z:1:1: warning: found no TTL and no $TTL (expected one; the SOA minimum "
	    "2147483647 is used as its TTL)\n");
	ZERR("b A 192.0.2.2\n", "",
	    "z:1:1: found a record without a TTL (expected a TTL on it, $TTL before it, or an "
	    "earlier record with a TTL)\n");
}

T(test_ttl_units)
{
	static const struct {
		const char *s;
		long long want;	/* -1: refused */
	} cases[] = {
		{ "0", 0 }, { "300", 300 }, { "1s", 1 }, { "1m", 60 }, { "1h30m", 5400 },
		{ "1d", 86400 }, { "1w", 604800 }, { "2W", 1209600 }, { "1H1M1S", 3661 },
		{ "1w1d1h1m1s", 694861 }, { "2147483647", 2147483647 },
		{ "24855d3h14m7s", 2147483647 }, { "3550w", 2147040000 }, { "007", 7 },
		{ "2147483648", -1 }, { "3551w", -1 }, { "24855d3h14m8s", -1 },
		{ "99999999999999999999999", -1 }, { "1h30", -1 }, { "h", -1 }, { "", -1 },
		{ "1x", -1 }, { "-1", -1 }, { "+1", -1 }, { "1 h", -1 }, { "1.5", -1 },
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		uint32_t v = 0;
		bool ok = dns_ttl_from_text(cases[i].s, strlen(cases[i].s), DNS_TTL_MAX, &v);
		if (ok != (cases[i].want >= 0) || (ok && v != cases[i].want)) {
			fprintf(stderr, "ttl \"%s\": %d %u\n", cases[i].s, ok, v);
			t_cur_failed = 1;
		}
	}
	uint32_t v;
	CHECK(dns_ttl_from_text("4294967295", 10, 4294967295u, &v) && v == 4294967295u);
	CHECK(!dns_ttl_from_text("4294967296", 10, 4294967295u, &v));
	CHECK(dns_ttl_from_text("7101w3d6h28m15s", 15, 4294967295u, &v) && v == 4294967295u);
}

T(test_zone_strings)
{
	ZOK("$TTL 1\n"
	    "a TXT \"a\\\"b\" \"c\\\\d\" \"\\065\\066\" \"semi;colon\" \"par(en)\" \"\"\n"
	    "b TXT unquoted\\032word \\\"x \"tab\there\" \"\\\\000\" \"\\000\"\n"
	    "c TXT \"caf\xc3\xa9\" \"\x01\x7f\"\n"
	    "d TXT ( \"multi\"\n  \"line\" )\n",
	    "2 a.example. 1 TXT \"a\\\"b\" \"c\\\\d\" \"AB\" \"semi;colon\" \"par(en)\" \"\"\n"
	    "3 b.example. 1 TXT \"unquoted word\" \"\\\"x\" \"tab\\009here\" \"\\\\000\" "
	    "\"\\000\"\n"
	    "4 c.example. 1 TXT \"caf\\195\\169\" \"\\001\\127\"\n"
	    "5 d.example. 1 TXT \"multi\" \"line\"\n");
	/* 255 bytes is the limit of one string */
	char z[700];
	char s255[256], s256[257];
	memset(s255, 'x', 255);
	s255[255] = '\0';
	memset(s256, 'y', 256);
	s256[256] = '\0';
	snprintf(z, sizeof z, "$TTL 1\na TXT \"%s\" \"%s\"\n", s255, s256);
	expect_zone(z, strlen(z), EX, false, "",
	    "z:2:265: found a TXT string of 256 bytes (expected at most 255; split it into "
	    "several quoted strings)\n", -1, __LINE__);
	snprintf(z, sizeof z, "$TTL 1\na TXT \"%s\" %s\n", s255, s255);
	struct got g;
	struct diag d;
	got_init(&g);
	diag_init(&d);
	CHECK_INT(dns_zonefile_parse_text("z", z, strlen(z), EX, false, collect, &g, &d), 0);
	CHECK_INT(g.n, 1);
	buf_free(&g.out);
	diag_free(&d);
}

/* Every type in the form BIND writes, and what we print for it. */
T(test_zone_types)
{
	ZOK("$TTL 1\n"
	    "@ SOA ns1.example. host\\.master ( 1 2 3 4 5 )\n"
	    "@ NS ns1\n"
	    "a A 192.0.2.1\n"
	    "a AAAA ::ffff:192.0.2.1\n"
	    "c CNAME a\n"
	    "p PTR a.example.\n"
	    "@ MX 0 .\n"
	    "_sip._udp SRV 0 5 5060 sip\n"
	    "d DNAME other.\n"
	    "@ CAA 128 tbs \"Unknown\"\n"
	    "@ caa 0 issuewild \"; x\"\n"
	    "@ CAA 0 iodef \"mailto:a@example.com\"\n"
	    "_25._tcp TLSA 3 1 1 ( 0123456789abcdef\n 0123 )\n"
	    "s SSHFP 4 2 ABCDEF01 23\n"
	    "k DNSKEY 257 3 15 ( AQID\n BA== )\n"
	    "k DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118\n"
	    "k DS 1 13 3 00\n"
	    "k RRSIG A 13 2 3600 20300101000000 1704067200 12345 example. AQIDBA==\n"
	    "k NSEC z.example. A NS SOA MX RRSIG NSEC TYPE1234 CAA\n"
	    "k NSEC z.example.\n"
	    "h NSEC3 1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG\n"
	    "h NSEC3 1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR\n"
	    "@ NSEC3PARAM 1 0 10 -\n"
	    "@ NSEC3PARAM 1 0 0 AB\n"
	    "h NSEC3 1 0 0 - 0g\n"
	    "h NSEC3 1 0 0 - CPNMU\n"
	    "h NSEC3 1 0 0 - CPNMUOG NS\n"
	    "h NSEC3 1 0 0 - 0H\n"
	    "h NSEC3 1 0 0 - 0010\n",
	    "2 example. 1 SOA ns1.example. host\\.master.example. 1 2 3 4 5\n"
	    "3 example. 1 NS ns1.example.\n"
	    "4 a.example. 1 A 192.0.2.1\n"
	    "5 a.example. 1 AAAA ::ffff:192.0.2.1\n"
	    "6 c.example. 1 CNAME a.example.\n"
	    "7 p.example. 1 PTR a.example.\n"
	    "8 example. 1 MX 0 .\n"
	    "9 _sip._udp.example. 1 SRV 0 5 5060 sip.example.\n"
	    "10 d.example. 1 DNAME other.\n"
	    "11 example. 1 CAA 128 tbs \"Unknown\"\n"
	    "12 example. 1 CAA 0 issuewild \"; x\"\n"
	    "13 example. 1 CAA 0 iodef \"mailto:a@example.com\"\n"
	    "14 _25._tcp.example. 1 TLSA 3 1 1 0123456789ABCDEF0123\n"
	    "16 s.example. 1 SSHFP 4 2 ABCDEF0123\n"
	    "17 k.example. 1 DNSKEY 257 3 15 AQIDBA==\n"
	    "19 k.example. 1 DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118\n"
	    "20 k.example. 1 DS 1 13 3 00\n"
	    "21 k.example. 1 RRSIG A 13 2 3600 20300101000000 20240101000000 12345 example. "
	    "AQIDBA==\n"
	    "22 k.example. 1 NSEC z.example. A NS SOA MX RRSIG NSEC CAA TYPE1234\n"
	    "23 k.example. 1 NSEC z.example.\n"
	    "24 h.example. 1 NSEC3 1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG\n"
	    "25 h.example. 1 NSEC3 1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR\n"
	    "26 example. 1 NSEC3PARAM 1 0 10 -\n"
	    "27 example. 1 NSEC3PARAM 1 0 0 AB\n"
	    "28 h.example. 1 NSEC3 1 0 0 - 0G\n"
	    "29 h.example. 1 NSEC3 1 0 0 - CPNMU\n"
	    "30 h.example. 1 NSEC3 1 0 0 - CPNMUOG NS\n"
	    /* bits left over after the last byte are dropped (RFC 4648 3.5) */
	    "31 h.example. 1 NSEC3 1 0 0 - 0G\n"
	    "32 h.example. 1 NSEC3 1 0 0 - 0010\n");
}

/* A ';' right after the CAA tag is a comment, so the value is missing;
 * in quotes it is data. */
T(test_zone_caa_value)
{
	ZERR("$TTL 1\n@ CAA 0 issue ;x\n", "",
	    "z:2:17: found end of line (expected CAA value)\n");
}

T(test_zone_generic)
{
	ZOK("$TTL 1\n"
	    "a TYPE65534 \\# 4 0A000001\n"
	    "a A \\# 4 0A000001\n"
	    "a type65535 \\# 0\n"
	    "a TYPE65533 \\# 3 ab ( cd\n ef )\n"
	    "a TXT \\# 4 03616263\n",
	    "2 a.example. 1 TYPE65534 \\# 4 0A000001\n"
	    "3 a.example. 1 A 10.0.0.1\n"
	    "4 a.example. 1 TYPE65535 \\# 0\n"
	    "5 a.example. 1 TYPE65533 \\# 3 ABCDEF\n"
	    "7 a.example. 1 TXT \"abc\"\n");
}

/* --- errors: every message, with file:line:column ----------------------- */

struct errcase {
	const char *text, *diag;
};

static void
run_errors(const struct errcase *c, size_t n, const uint8_t *origin)
{
	for (size_t i = 0; i < n; i++) {
		struct got g;
		struct diag d;
		got_init(&g);
		diag_init(&d);
		int rc = dns_zonefile_parse_text("z", c[i].text, strlen(c[i].text), origin, false,
		    collect, &g, &d);
		if (rc != -1 || g.n != 0 || strcmp(diag_text(&d), c[i].diag) != 0) {
			fprintf(stderr, "case %zu: %s\n  rc %d, %d records, got:  %s  want: %s", i,
			    c[i].text, rc, g.n, diag_text(&d), c[i].diag);
			t_cur_failed = 1;
		}
		buf_free(&g.out);
		diag_free(&d);
	}
}

T(test_zone_errors_lexer)
{
	static const struct errcase cases[] = {
		{ "$TTL 1\na A 192.0.2.1\x01\n",
		  "z:2:14: found control character 0x01 (expected printable text)\n" },
		{ "$TTL 1\na A 192.0.2.1\rb\n",
		  "z:2:14: found control character 0x0d (expected printable text)\n" },
		{ "$TTL 1\na A 192.0.2.1 ; x\x7f\n",
		  "z:2:18: found control character 0x7f (expected printable text)\n" },
		{ "$TTL 1\na TXT \"abc\n",
		  "z:2:7: found end of line inside a quoted string (expected '\"')\n" },
		{ "$TTL 1\na TXT \"abc\\\"",
		  "z:2:7: found end of line inside a quoted string (expected '\"')\n" },
		{ "$TTL 1\na TXT ( ( x ) )\n",
		  "z:2:9: found '(' inside parentheses opened at line 2 (expected ')' first)\n" },
		{ "$TTL 1\na A 192.0.2.1 )\n",
		  "z:2:15: found ')' (expected a '(' before it)\n" },
		{ "$TTL 1\na TXT ( x\nb A 192.0.2.1\n",
		  "z:2:7: found end of file inside parentheses opened here (expected ')')\n" },
		/* the unclosed '(' is reported even after another error */
		{ "$TTL 1\na MX x ( y\n",
		  "z:2:6: found \"x\" (expected MX preference, a number from 0 to 65535)\n"
		  "z:2:8: found end of file inside parentheses opened here (expected ')')\n" },
	};
	run_errors(cases, NELEM(cases), EX);
	/* a NUL outside quotes is an error; inside quotes it is data */
	ZERR("$TTL 1\na A 192.0.2.1\0\n", "",
	    "z:2:14: found control character 0x00 (expected printable text)\n");
	ZOK("$TTL 1\na TXT \"\0\r\x1b\"\n", "2 a.example. 1 TXT \"\\000\\013\\027\"\n");
}

T(test_zone_errors_fields)
{
	static const struct errcase cases[] = {
		{ "$TTL 1\na A 192.0.2.1 5\n",
		  "z:2:15: found \"5\" (expected the end of the record)\n" },
		{ "$TTL 1\na MX 10\n", "z:2:8: found end of line (expected MX exchange)\n" },
		{ "$TTL 1\na MX 10", "z:2:8: found end of file (expected MX exchange)\n" },
		{ "$TTL 1\na MX \"10\" b\n",
		  "z:2:6: found a quoted string (expected MX preference)\n" },
		{ "$TTL 1\na MX 65536 b\n",
		  "z:2:6: found \"65536\" (expected MX preference, a number from 0 to 65535)\n" },
		{ "$TTL 1\na SSHFP 256 1 00\n",
		  "z:2:9: found \"256\" (expected SSHFP algorithm, a number from 0 to 255)\n" },
		{ "$TTL 1\n@ SOA a b 4294967296 2 3 4 5\n",
		  "z:2:11: found \"4294967296\" (expected SOA serial, a number from 0 to "
		  "4294967295)\n" },
		{ "$TTL 1\n@ SOA a b 1 2 3 4 5x\n",
		  "z:2:19: found \"5x\" (expected SOA minimum, seconds or units like 1h30m)\n" },
		{ "$TTL 1\na RRSIG A 13 2 3600 20301301000000 1 1 example. AA==\n",
		  "z:2:21: found \"20301301000000\" (expected RRSIG expiration, YYYYMMDDHHmmSS "
		  "or seconds since 1970)\n" },
		{ "$TTL 1\na RRSIG A 13 2 3600 1 4294967296 1 example. AA==\n",
		  "z:2:23: found \"4294967296\" (expected RRSIG inception, YYYYMMDDHHmmSS or "
		  "seconds since 1970)\n" },
		{ "$TTL 1\na RRSIG FOO 13 2 3600 1 1 1 example. AA==\n",
		  "z:2:9: found \"FOO\" (expected RRSIG type covered, a type such as A or "
		  "TYPE65534)\n" },
		{ "$TTL 1\na CNAME \"b\"\n",
		  "z:2:9: found a quoted string (expected CNAME target)\n" },
		{ "$TTL 1\na..b A 192.0.2.1\n", "z:2:1: bad owner name \"a..b\": empty label\n" },
		{ "$TTL 1\na CNAME b\\\n", "z:2:9: bad CNAME target \"b\\x5c\": bad escape\n" },
		{ "$TTL 1\na NS b\\256\n", "z:2:6: bad NS name \"b\\x5c256\": bad escape\n" },
		{ "$TTL 1\na PTR aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.\n",
		  "z:2:7: bad PTR name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaa.\": label longer than 63 bytes\n" },
		{ "$TTL 1\na SSHFP 1 1 12zz\n",
		  "z:2:13: found \"12zz\" (expected SSHFP fingerprint in hex)\n" },
		{ "$TTL 1\na SSHFP 1 1 \"\"\n",
		  "z:2:13: found a quoted string (expected SSHFP fingerprint in hex)\n" },
		{ "$TTL 1\na SSHFP 1 1 12 3\n",
		  "z:2:16: found an odd number of hex digits (expected SSHFP fingerprint as whole "
		  "bytes)\n" },
		{ "$TTL 1\na TLSA 1 1 1\n",
		  "z:2:13: found end of line (expected TLSA data in hex)\n" },
		{ "$TTL 1\na DNSKEY 256 3 15 ab!d\n",
		  "z:2:19: found \"ab!d\" (expected DNSKEY public key in base64)\n" },
		{ "$TTL 1\na DNSKEY 256 3 15 \"AAAA\"\n",
		  "z:2:19: found a quoted string (expected DNSKEY public key in base64)\n" },
		{ "$TTL 1\na DNSKEY 256 3 15\n",
		  "z:2:18: found end of line (expected DNSKEY public key in base64)\n" },
		{ "$TTL 1\na DNSKEY 256 3 15 AAAA abc\n",
		  "z:2:24: found base64 cut short (expected DNSKEY public key in groups of 4 "
		  "characters)\n" },
		{ "$TTL 1\na DNSKEY 256 3 15 AA=A\n",
		  "z:2:19: found \"AA=A\" (expected DNSKEY public key in base64)\n" },
		{ "$TTL 1\na DNSKEY 256 3 15 A===\n",
		  "z:2:19: found \"A===\" (expected DNSKEY public key in base64)\n" },
		{ "$TTL 1\na DNSKEY 256 3 15 AAA== \n",
		  "z:2:19: found \"AAA==\" (expected DNSKEY public key in base64)\n" },
		{ "$TTL 1\na NSEC3PARAM 1 0 0 abc\n",
		  "z:2:20: found \"abc\" (expected NSEC3 salt, up to 255 bytes in hex, or -)\n" },
		{ "$TTL 1\na NSEC3PARAM 1 0 0 zz\n",
		  "z:2:20: found \"zz\" (expected NSEC3 salt, up to 255 bytes in hex, or -)\n" },
		{ "$TTL 1\na NSEC3 1 0 0 - X\n",
		  "z:2:17: found \"X\" (expected NSEC3 next hashed owner in base32hex)\n" },
		{ "$TTL 1\na NSEC3 1 0 0 - WW\n",
		  "z:2:17: found \"WW\" (expected NSEC3 next hashed owner in base32hex)\n" },
		{ "$TTL 1\na NSEC b. A FOO\n",
		  "z:2:13: found \"FOO\" (expected NSEC type, a type such as A or TYPE65534)\n" },
		{ "$TTL 1\na NSEC b. A \"MX\"\n",
		  "z:2:13: found a quoted string (expected NSEC type)\n" },
		{ "$TTL 1\na TXT \"x\\256\"\n",
		  "z:2:7: bad escape in TXT string (expected \\DDD up to \\255 or \\ and a "
		  "character)\n" },
		{ "$TTL 1\na A 192.0.2\n",
		  "z:2:5: found \"192.0.2\" (expected an IPv4 address)\n" },
		{ "$TTL 1\na A 1111111111111111111111111111111111111111111111111\n",
		  "z:2:5: found \"1111111111111111111111111111111111111111111111111\" (expected an "
		  "IPv4 address)\n" },
		{ "$TTL 1\na AAAA 192.0.2.1\n",
		  "z:2:8: found \"192.0.2.1\" (expected an IPv6 address)\n" },
		{ "$TTL 1\na CAA 0 is-sue x\n",
		  "z:2:9: found \"is-sue\" (expected CAA tag, letters and digits)\n" },
		{ "$TTL 1\na CAA 0 issue \"\\999\"\n",
		  "z:2:15: bad escape in CAA value (expected \\DDD up to \\255 or \\ and a "
		  "character)\n" },
		{ "$TTL 1\na DS 1 8 2 00\n",
		  "z:2:12: found a DS digest of 1 bytes (expected 32 for digest type 2)\n" },
		{ "$TTL 1\na DS 1 8 1 00\n",
		  "z:2:12: found a DS digest of 1 bytes (expected 20 for digest type 1)\n" },
		{ "$TTL 1\na DS 1 8 2 zz\n",
		  "z:2:12: found \"zz\" (expected DS digest in hex)\n" },
		{ "$TTL 1\na TYPE65534 \\# 1 zz\n",
		  "z:2:18: found \"zz\" (expected rdata in hex)\n" },
		{ "$TTL 1\na DS 1 8 4 00\n",
		  "z:2:12: found a DS digest of 1 bytes (expected 48 for digest type 4)\n" },
		{ "$TTL 1\na TYPE65534 \\# x\n",
		  "z:2:16: found \"x\" (expected rdata length after \\#, a number from 0 to "
		  "65535)\n" },
		{ "$TTL 1\na TYPE65534 \\# 2 00\n",
		  "z:2:13: found 1 bytes of rdata after \\# 2 (expected exactly 2)\n" },
		{ "$TTL 1\na TYPE65534 \\# 0 00\n",
		  "z:2:13: found 1 bytes of rdata after \\# 0 (expected exactly 0)\n" },
		{ "$TTL 1\na A \\# 3 000000\n",
		  "z:2:5: found \\# rdata that is not valid for type A (expected its wire form)\n" },
		{ "$TTL 1\na TXT \\# 0\n",
		  "z:2:7: found \\# rdata that is not valid for type TXT (expected its wire "
		  "form)\n" },
		{ "$TTL 1\na TYPE65534 00\n",
		  "z:2:13: found \"00\" (expected \\# and rdata in hex for type TYPE65534, RFC "
		  "3597)\n" },
	};
	run_errors(cases, NELEM(cases), EX);
}

T(test_zone_errors_records)
{
	static const struct errcase cases[] = {
		{ "$TTL 1\na 1x A 192.0.2.1\n",
		  "z:2:3: found TTL \"1x\" (expected seconds or units like 1h30m, at most "
		  "2147483647)\n" },
		{ "$TTL 1\na 2147483648 A 192.0.2.1\n",
		  "z:2:3: found TTL \"2147483648\" (expected seconds or units like 1h30m, at most "
		  "2147483647)\n" },
		{ "$TTL 1\na CH A 192.0.2.1\n",
		  "z:2:3: found class \"CH\" (expected IN: only class IN is served)\n" },
		{ "$TTL 1\na 5 hs A 192.0.2.1\n",
		  "z:2:5: found class \"hs\" (expected IN: only class IN is served)\n" },
		{ "$TTL 1\na CLASS3 A 192.0.2.1\n",
		  "z:2:3: found class \"CLASS3\" (expected IN: only class IN is served)\n" },
		{ "$TTL 1\na ANY A 192.0.2.1\n",
		  "z:2:3: found class \"ANY\" (expected IN: only class IN is served)\n" },
		{ "$TTL 1\na IN IN A 192.0.2.1\n",
		  "z:2:6: found \"IN\" (expected a type such as A, MX or TXT, or TYPEnnn)\n" },
		{ "$TTL 1\na 1 2 A 192.0.2.1\n",
		  "z:2:5: found \"2\" (expected a type such as A, MX or TXT, or TYPEnnn)\n" },
		{ "$TTL 1\na \"A\" 192.0.2.1\n",
		  "z:2:3: found a quoted string (expected a type)\n" },
		{ "$TTL 1\na FOO 1\n",
		  "z:2:3: found \"FOO\" (expected a type such as A, MX or TXT, or TYPEnnn)\n" },
		{ "$TTL 1\na TYPE65536 \\# 0\n",
		  "z:2:3: found \"TYPE65536\" (expected a type such as A, MX or TXT, or "
		  "TYPEnnn)\n" },
		{ "$TTL 1\na\n", "z:2:2: found end of line (expected a TTL, class or type)\n" },
		{ "$TTL 1\na 5 IN\n", "z:2:7: found end of line (expected a type)\n" },
		{ "$TTL 1\na AXFR \\# 0\n",
		  "z:2:3: found type AXFR (expected a type that holds data, not a query or meta "
		  "type)\n" },
		{ "$TTL 1\na OPT \\# 0\n",
		  "z:2:3: found type OPT (expected a type that holds data, not a query or meta "
		  "type)\n" },
		{ "$TTL 1\na TYPE0 \\# 0\n",
		  "z:2:3: found type TYPE0 (expected a type that holds data, not a query or meta "
		  "type)\n" },
		{ "$TTL 1\na TYPE128 \\# 0\n",
		  "z:2:3: found type TYPE128 (expected a type that holds data, not a query or "
		  "meta type)\n" },
		{ "$TTL 1\n A 192.0.2.1\n",
		  "z:2:2: found a record without an owner name and no previous one (expected a "
		  "name at the start of the line)\n" },
		{ "$TTL 1\nwww.example.org. A 192.0.2.1\n",
		  "z:2:1: owner name www.example.org. is out of zone (expected example. or a name "
		  "below it)\n" },
		{ "$TTL 1\nxexample. A 192.0.2.1\n",
		  "z:2:1: owner name xexample. is out of zone (expected example. or a name below "
		  "it)\n" },
		{ "$TTL 1\n$ORIGIN org.\nwww A 192.0.2.1\n",
		  "z:3:1: owner name www.org. is out of zone (expected example. or a name below "
		  "it)\n" },
		{ "$ORIGIN\n",
		  "z:1:8: found end of line (expected a domain name after $ORIGIN)\n" },
		{ "$ORIGIN a..b.\n", "z:1:9: bad $ORIGIN name \"a..b.\": empty label\n" },
		{ "$ORIGIN a. b.\n", "z:1:12: found \"b.\" (expected the end of the record)\n" },
		{ "$TTL\n", "z:1:5: found end of line (expected a TTL after $TTL)\n" },
		{ "$TTL 1y\n",
		  "z:1:6: found TTL \"1y\" (expected seconds or units like 1h30m, at most "
		  "2147483647)\n" },
		{ "$TTL 1 2\n", "z:1:8: found \"2\" (expected the end of the record)\n" },
		{ "$INCLUDE x\n", "z:1:1: $INCLUDE not allowed here\n" },
		{ "$GENERATE 1-2 a$ A 192.0.2.1\n",
		  "z:1:1: found directive \"$GENERATE\" (expected $ORIGIN, $TTL or $INCLUDE)\n" },
	};
	run_errors(cases, NELEM(cases), EX);
}

/* A relative name or "@" before any $ORIGIN when the caller gives none. */
T(test_zone_errors_no_origin)
{
	static const struct errcase cases[] = {
		{ "$TTL 1\n@ A 192.0.2.1\n",
		  "z:2:1: found @ but no origin is set (expected $ORIGIN before it)\n" },
		{ "$TTL 1\nwww A 192.0.2.1\n",
		  "z:2:1: bad owner name \"www\": relative name without an origin\n" },
		{ "$TTL 1\nwww.example. A 192.0.2.1\n",
		  "z:2:1: found a record before $ORIGIN (expected $ORIGIN first when no zone "
		  "origin is given)\n" },
	};
	run_errors(cases, NELEM(cases), NULL);
	/* the first $ORIGIN is the zone */
	expect_zone("$TTL 1\n$ORIGIN example.\n@ A 192.0.2.1\n$ORIGIN sub.example.\nx A "
	    "192.0.2.2\n$ORIGIN org.\ny A 192.0.2.3\n", 88, NULL, false,
	    "3 example. 1 A 192.0.2.1\n5 x.sub.example. 1 A 192.0.2.2\n",
	    "z:7:1: owner name y.org. is out of zone (expected example. or a name below it)\n",
	    -1, __LINE__);
}

/* Errors do not stop the parse: the records around them come through, and
 * each bad record gives one message. */
T(test_zone_error_recovery)
{
	ZERR("$TTL 1\n"
	    "a A 192.0.2.1\n"
	    "b A 192.0.2.300 extra junk\n"
	    "c MX ( 10\n"
	    "  \"oops\" )\n"
	    "d A 192.0.2.4\n"
	    "  A 192.0.2.5\n"
	    "e TXT \"open\n"
	    "f A 192.0.2.6\n",
	    "2 a.example. 1 A 192.0.2.1\n"
	    "6 d.example. 1 A 192.0.2.4\n"
	    "7 d.example. 1 A 192.0.2.5\n"
	    "9 f.example. 1 A 192.0.2.6\n",
	    "z:3:5: found \"192.0.2.300\" (expected an IPv4 address)\n"
	    "z:5:3: found a quoted string (expected MX exchange)\n"
	    "z:8:7: found end of line inside a quoted string (expected '\"')\n");
}

T(test_zone_too_many_errors)
{
	struct buf b;
	struct diag d;
	struct got g;

	buf_init(&b, 0);
	buf_puts(&b, "$TTL 1\n");
	for (int i = 0; i < 150; i++)
		buf_puts(&b, "a A x\n");
	got_init(&g);
	diag_init(&d);
	CHECK_INT(dns_zonefile_parse_text("z", (char *)b.data, b.len, EX, false, collect, &g,
	    &d), -1);
	const char *t = diag_text(&d);
	CHECK(strstr(t, "z:101:5: found \"x\" (expected an IPv4 address)\n"
	    "z: too many errors, stopped after line 101\n") != NULL);
	CHECK(strstr(t, "z:102:") == NULL);
	CHECK_INT(d.n_err, 101);
	buf_free(&b);
	buf_free(&g.out);
	diag_free(&d);

	/* exactly 100 errors on the last lines: no extra message */
	buf_init(&b, 0);
	buf_puts(&b, "$TTL 1\n");
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "a A x\n");
	diag_init(&d);
	got_init(&g);
	CHECK_INT(dns_zonefile_parse_text("z", (char *)b.data, b.len, EX, false, collect, &g,
	    &d), -1);
	CHECK_INT(d.n_err, 100);
	buf_free(&b);
	buf_free(&g.out);
	diag_free(&d);
}

T(test_zone_callback_stop)
{
	struct got g;
	struct diag d;
	static const char text[] = "$TTL 1\na A 192.0.2.1\nb A 192.0.2.2\nc A 192.0.2.3\n";

	got_init(&g);
	g.stop_at = 2;
	diag_init(&d);
	CHECK_INT(dns_zonefile_parse_text("z", text, sizeof text - 1, EX, false, collect, &g, &d),
	    -1);
	CHECK_INT(g.n, 2);
	CHECK_STR(diag_text(&d), "");
	buf_free(&g.out);
	diag_free(&d);
}

/* rdata too long: 256 strings of 255 bytes is 65536 bytes; a CAA value. */
T(test_zone_rdata_too_long)
{
	struct buf b;
	struct diag d;
	struct got g;
	char s[256];

	memset(s, 'x', 255);
	s[255] = '\0';
	buf_init(&b, 0);
	buf_puts(&b, "$TTL 1\na TXT");
	for (int i = 0; i < 256; i++)
		buf_printf(&b, " %s", s);
	buf_puts(&b, "\nb CAA 0 issue \"");
	for (int i = 0; i < 257; i++)
		buf_puts(&b, s);
	buf_puts(&b, "\"\n");
	got_init(&g);
	diag_init(&d);
	CHECK_INT(dns_zonefile_parse_text("z", (char *)b.data, b.len, EX, false, collect, &g,
	    &d), -1);
	CHECK_STR(diag_text(&d), "z:2:65287: rdata longer than 65535 bytes (expected at most that)\n"
	    "z:3:15: rdata longer than 65535 bytes (expected at most that)\n");
	CHECK_INT(g.n, 0);
	buf_free(&b);
	buf_free(&g.out);
	diag_free(&d);
}

/* --- $INCLUDE ------------------------------------------------------------ */

static char tmpdir[64];

static void
write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	free(path);
}

static void
remove_file(const char *name)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	unlink(path);
	free(path);
}

static int
parse_main(struct got *g, struct diag *d)
{
	char *path = xasprintf("%s/main.zone", tmpdir);
	got_init(g);
	diag_init(d);
	int rc = dns_zonefile_parse(path, EX, collect, g, d);
	free(path);
	return rc;
}

/* Replace the temporary directory in s with "D" so expectations are fixed. */
static char *
strip_dir(const char *s)
{
	char *out = xstrdup(s), *p;
	size_t n = strlen(tmpdir);
	while ((p = strstr(out, tmpdir)) != NULL) {
		*p = 'D';
		memmove(p + 1, p + n, strlen(p + n) + 1);
	}
	return out;
}

static void
expect_main(const char *want_rrs, const char *want_diag, int want_rc, int line)
{
	struct got g;
	struct diag d;
	int rc = parse_main(&g, &d);
	char *rrs = strip_dir(got_text(&g)), *dt = strip_dir(diag_text(&d));
	if (rc != want_rc || strcmp(rrs, want_rrs) != 0 || strcmp(dt, want_diag) != 0) {
		fprintf(stderr, "test_dns_zonefile.c:%d: rc %d\n--- records:\n%s--- want:\n%s"
		    "--- diag:\n%s--- want:\n%s", line, rc, rrs, want_rrs, dt, want_diag);
		t_cur_failed = 1;
	}
	free(rrs);
	free(dt);
	buf_free(&g.out);
	diag_free(&d);
}

T(test_zone_include)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_dns_zonefile.XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	char *sub = xasprintf("%s/sub", tmpdir);
	CHECK(mkdir(sub, 0700) == 0);

	/* $ORIGIN and $TTL of an include stay there (RFC 1035 5.1) */
	write_file("main.zone",
	    "$TTL 100\n"
	    "@ SOA ns hm 1 2 3 4 5\n"
	    "$INCLUDE inc1\n"
	    "a A 192.0.2.1\n"
	    "$INCLUDE \"sub/inc2\" sub\n"
	    "b A 192.0.2.2\n");
	write_file("inc1",
	    "$TTL 200\n"
	    "$ORIGIN in.example.\n"
	    "x A 192.0.2.3\n"
	    "  A 192.0.2.4\n");
	write_file("sub/inc2", "y A 192.0.2.5\n$INCLUDE inc3\n");
	write_file("sub/inc3", "z A 192.0.2.6\n");	/* relative to sub/inc2 */
	expect_main(
	    "2 example. 100 SOA ns.example. hm.example. 1 2 3 4 5\n"
	    "3 x.in.example. 200 A 192.0.2.3\n"
	    "4 x.in.example. 200 A 192.0.2.4\n"
	    "4 a.example. 100 A 192.0.2.1\n"
	    "1 y.sub.example. 100 A 192.0.2.5\n"
	    "1 z.sub.example. 100 A 192.0.2.6\n"
	    "6 b.example. 100 A 192.0.2.2\n", "", 0, __LINE__);

	/* the file each record came from */
	struct got g;
	struct diag d;
	CHECK_INT(parse_main(&g, &d), 0);
	char *lf = strip_dir(g.last_file);
	CHECK_STR(lf, "D/main.zone");
	free(lf);
	buf_free(&g.out);
	diag_free(&d);

	/* an absolute path; errors inside an include name that file */
	char *abs = xasprintf("$TTL 1\n$INCLUDE %s/sub/inc4\n", tmpdir);
	write_file("main.zone", abs);
	free(abs);
	write_file("sub/inc4", "ok A 192.0.2.7\nbad A x\n");
	expect_main("1 ok.example. 1 A 192.0.2.7\n",
	    "D/sub/inc4:2:7: found \"x\" (expected an IPv4 address)\n", -1, __LINE__);

	/* a missing file, a bad origin, a bad name, too deep */
	write_file("main.zone", "$INCLUDE nope\n");
	expect_main("", "D/main.zone:1:10: cannot include D/nope: cannot open: No such file or "
	    "directory\n", -1, __LINE__);
	write_file("main.zone", "$INCLUDE inc1 a..b\n");
	expect_main("", "D/main.zone:1:15: bad $INCLUDE origin \"a..b\": empty label\n", -1,
	    __LINE__);
	write_file("main.zone", "$INCLUDE\n");
	expect_main("", "D/main.zone:1:9: found end of line (expected a file name after "
	    "$INCLUDE)\n", -1, __LINE__);
	write_file("main.zone", "$INCLUDE \"\"\n");
	expect_main("", "D/main.zone:1:10: found a bad file name (expected a path of 1 to 4095 "
	    "bytes without NUL)\n", -1, __LINE__);
	write_file("main.zone", "$INCLUDE a\\000b\n");
	expect_main("", "D/main.zone:1:10: found a bad file name (expected a path of 1 to 4095 "
	    "bytes without NUL)\n", -1, __LINE__);
	write_file("main.zone", "$INCLUDE inc1 a. b.\n");
	expect_main("", "D/main.zone:1:18: found \"b.\" (expected the end of the record)\n", -1,
	    __LINE__);
	char *longname = xmalloc(4200);
	memcpy(longname, "$INCLUDE ", 9);
	memset(longname + 9, 'a', 4090);
	strcpy(longname + 9 + 4090, "\n");
	write_file("main.zone", longname);	/* fits alone, too long with the directory */
	expect_main("", "D/main.zone:1:10: found a bad file name (expected a path of 1 to 4095 "
	    "bytes without NUL)\n", -1, __LINE__);
	memset(longname + 9, 'a', 4100);
	strcpy(longname + 9 + 4100, "\n");
	write_file("main.zone", longname);
	expect_main("", "D/main.zone:1:10: found a bad file name (expected a path of 1 to 4095 "
	    "bytes without NUL)\n", -1, __LINE__);
	free(longname);
	write_file("main.zone", "$INCLUDE sub\n");
	expect_main("", "D/main.zone:1:10: cannot include D/sub: is a directory (expected a zone "
	    "file)\n", -1, __LINE__);
	write_file("main.zone", "$TTL 1\n$INCLUDE self\n");
	write_file("self", "s A 192.0.2.8\n$INCLUDE self\n");
	expect_main(
	    "1 s.example. 1 A 192.0.2.8\n1 s.example. 1 A 192.0.2.8\n"
	    "1 s.example. 1 A 192.0.2.8\n1 s.example. 1 A 192.0.2.8\n"
	    "1 s.example. 1 A 192.0.2.8\n1 s.example. 1 A 192.0.2.8\n"
	    "1 s.example. 1 A 192.0.2.8\n1 s.example. 1 A 192.0.2.8\n",
	    "D/self:2:1: found $INCLUDE nested more than 8 deep (expected at most 8 levels)\n",
	    -1, __LINE__);

	/* the file itself cannot be read */
	remove_file("main.zone");
	expect_main("", "D/main.zone: cannot open: No such file or directory\n", -1, __LINE__);

	remove_file("inc1");
	remove_file("sub/inc2");
	remove_file("sub/inc3");
	remove_file("sub/inc4");
	remove_file("self");
	rmdir(sub);
	free(sub);
	rmdir(tmpdir);
}

/* --- real zones ----------------------------------------------------------- */

static int
parse_path(const char *path, const uint8_t *origin, struct got *g, struct diag *d)
{
	got_init(g);
	diag_init(d);
	return dns_zonefile_parse(path, origin, collect, g, d);
}

/* The SOA and DKIM records, checked on the wire. */
struct nmrc {
	int n_soa, n_dkim;
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
nmrc_rr(void *arg, const struct dns_rr *rr)
{
	struct nmrc *s = arg;
	char o[DNS_NAME_TEXT_MAX];
	dns_name_to_text(rr->owner, o);
	if (rr->type == DNS_T_SOA) {
		const uint8_t *p = rr->rdata;
		CHECK(memcmp(p, "\6daemon\4nmrc\3org\0", 17) == 0);
		CHECK(memcmp(p + 17, "\10thegnome\4nmrc\3org\0", 19) == 0);
		CHECK_INT(rr->rdlen, 17 + 19 + 20);
		CHECK_INT(be32(p + 36), 2020052800);
		CHECK_INT(be32(p + 40), 43200);
		CHECK_INT(be32(p + 44), 7200);
		CHECK_INT(be32(p + 48), 2419200);
		CHECK_INT(be32(p + 52), 86400);
		CHECK_INT(rr->ttl, 604800);
		CHECK_INT(rr->line, 7);
		s->n_soa++;
	}
	if (rr->type == DNS_T_TXT && strcmp(o, "default._domainkey.nmrc.org.") == 0) {
		/* four character-strings that join to the key */
		int n = 0;
		char joined[600];
		size_t jl = 0;
		for (size_t i = 0; i < rr->rdlen; i += 1 + rr->rdata[i], n++) {
			memcpy(joined + jl, rr->rdata + i + 1, rr->rdata[i]);
			jl += rr->rdata[i];
		}
		joined[jl] = '\0';
		CHECK_INT(n, 4);
		CHECK_INT(jl, 234);
		CHECK(strncmp(joined, "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDorm",
		    59) == 0);
		CHECK_STR(joined + jl - 12, "Y9drBBQIDAQAB" + 1);
		s->n_dkim++;
	}
	return 0;
}

T(test_zone_nmrc)
{
	/* the worktree sits next to shared/ */
	static const char path[] = "tests/data/dns/nmrc.org.zone";	/* copy of shared/testdata/zones */
	static const uint8_t origin[] = "\4nmrc\3org\0";
	struct got g;
	struct diag d;
	const char *p = path;

	CHECK_INT(parse_path(p, origin, &g, &d), 0);
	CHECK_STR(diag_text(&d), "");
	CHECK_INT(g.n, 17);
	CHECK_INT(g.n_type[DNS_T_A], 8);
	CHECK_INT(g.n_type[DNS_T_TXT], 5);
	CHECK(strstr(got_text(&g), "23 web.nmrc.org. 604800 CNAME www.nmrc.org.\n") != NULL);
	CHECK(strstr(got_text(&g), "16 nmrc.org. 604800 MX 5 talon.nmrc.org.\n") != NULL);
	buf_free(&g.out);
	diag_free(&d);

	struct nmrc s = { 0, 0 };
	diag_init(&d);
	CHECK_INT(dns_zonefile_parse(p, origin, nmrc_rr, &s, &d), 0);
	CHECK_INT(s.n_soa, 1);
	CHECK_INT(s.n_dkim, 1);
	diag_free(&d);
}

/* Records in a file written one per line (as ldns-signzone does): lines
 * that are neither empty nor comments, and those with "\tTYPE\t". */
static void
count_lines(const char *path, const char *type, int *all, int *of_type)
{
	char line[4096], pat[32];
	FILE *f = fopen(path, "r");
	snprintf(pat, sizeof pat, "\t%s\t", type);
	*all = *of_type = 0;
	CHECK(f != NULL);
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		if (line[0] == ';' || line[0] == '\n')
			continue;
		(*all)++;
		if (strstr(line, pat) != NULL)
			(*of_type)++;
	}
	if (f != NULL)
		fclose(f);
}

T(test_zone_signed_nsec)
{
	static const char path[] = "tests/data/dns/example.nsec.signed";
	struct got g;
	struct diag d;
	int all, n;

	CHECK_INT(parse_path(path, EX, &g, &d), 0);
	CHECK_STR(diag_text(&d), "");
	CHECK_INT(g.n, 43);
	count_lines(path, "RRSIG", &all, &n);
	CHECK_INT(g.n, all);
	CHECK_INT(g.n_type[DNS_T_RRSIG], 20);
	CHECK_INT(g.n_type[DNS_T_RRSIG], n);
	count_lines(path, "NSEC", &all, &n);
	CHECK_INT(g.n_type[DNS_T_NSEC], 7);
	CHECK_INT(g.n_type[DNS_T_NSEC], n);
	count_lines(path, "DNSKEY", &all, &n);
	CHECK_INT(g.n_type[DNS_T_DNSKEY], 2);
	CHECK_INT(g.n_type[DNS_T_DNSKEY], n);
	const char *t = got_text(&g);
	CHECK(strstr(t, "9 example. 3600 DNSKEY 256 3 15 /0KUMAZsfInPMbCcot9ZVmVMPPjCctWOxU+SMYwQ8iE=\n")
	    != NULL);
	CHECK(strstr(t, "11 example. 3600 RRSIG DNSKEY 15 1 3600 20300101000000 20240101000000 "
	    "56499 example. yII4wKIdVqq+3AwpwgZlmCdk5691eGjDSM00KgoD8uUzJCKwobD2CtoLyrK1hNb2lWN6+"
	    "tgPlFIJExIEYSsABQ==\n") != NULL);
	CHECK(strstr(t, "32 ns1.example. 300 NSEC sub.example. A RRSIG NSEC\n") != NULL);
	CHECK(strstr(t, "42 www.example. 300 NSEC example. CNAME RRSIG NSEC\n") != NULL);
	buf_free(&g.out);
	diag_free(&d);
}

T(test_zone_signed_nsec3)
{
	static const char path[] = "tests/data/dns/example.nsec3.signed";
	struct got g;
	struct diag d;
	int all, n;

	CHECK_INT(parse_path(path, EX, &g, &d), 0);
	CHECK_STR(diag_text(&d), "");
	CHECK_INT(g.n, 49);
	count_lines(path, "NSEC3", &all, &n);
	CHECK_INT(g.n, all);
	CHECK_INT(g.n_type[DNS_T_NSEC3], 9);
	CHECK_INT(g.n_type[DNS_T_NSEC3], n);
	count_lines(path, "NSEC3PARAM", &all, &n);
	CHECK_INT(g.n_type[DNS_T_NSEC3PARAM], 1);
	CHECK_INT(g.n_type[DNS_T_NSEC3PARAM], n);
	count_lines(path, "RRSIG", &all, &n);
	CHECK_INT(g.n_type[DNS_T_RRSIG], 23);
	CHECK_INT(g.n_type[DNS_T_RRSIG], n);
	const char *t = got_text(&g);
	CHECK(strstr(t, "12 example. 3600 NSEC3PARAM 1 0 0 0AA1\n") != NULL);
	/* an empty non-terminal: no types */
	CHECK(strstr(t, "18 mk8mejldqmrlvuamhjmaig4jf3p3ave8.example. 300 NSEC3 1 0 0 0AA1 "
	    "61O1C8KTAIJF8EU3LNEVEKJC213UJUOF\n") != NULL);
	CHECK(strstr(t, "16 7obd0laigog1l8ov46e9bbeu8475ju78.example. 300 NSEC3 1 0 0 0AA1 "
	    "A79R5LTIJR969ODFUNU7F2KRGOGUHCA0 NS SOA MX TXT RRSIG DNSKEY NSEC3PARAM CAA\n")
	    != NULL);
	buf_free(&g.out);
	diag_free(&d);
}

/* --- rr.c ------------------------------------------------------------------ */

T(test_rr_types)
{
	char b[16];
	CHECK_STR(dns_type_name(DNS_T_A, b), "A");
	CHECK_STR(dns_type_name(DNS_T_NSEC3PARAM, b), "NSEC3PARAM");
	CHECK_STR(dns_type_name(DNS_T_CAA, b), "CAA");
	CHECK_STR(dns_type_name(13, b), "TYPE13");
	CHECK_STR(dns_type_name(65535, b), "TYPE65535");
	CHECK_INT(dns_type_from_text("aaaa", 4), DNS_T_AAAA);
	CHECK_INT(dns_type_from_text("Nsec3param", 10), DNS_T_NSEC3PARAM);
	CHECK_INT(dns_type_from_text("TYPE1", 5), 1);
	CHECK_INT(dns_type_from_text("type65535", 9), 65535);
	CHECK_INT(dns_type_from_text("TYPE00013", 9), 13);
	CHECK_INT(dns_type_from_text("TYPE65536", 9), -1);
	CHECK_INT(dns_type_from_text("TYPE", 4), -1);
	CHECK_INT(dns_type_from_text("TYPE000001", 10), -1);
	CHECK_INT(dns_type_from_text("TYPE1x", 6), -1);
	CHECK_INT(dns_type_from_text("AA", 2), -1);
	CHECK_INT(dns_type_from_text("", 0), -1);
	CHECK(dns_type_is_meta(0) && dns_type_is_meta(DNS_T_OPT) && dns_type_is_meta(128) &&
	    dns_type_is_meta(DNS_T_ANY) && dns_type_is_meta(DNS_T_TSIG));
	CHECK(!dns_type_is_meta(DNS_T_A) && !dns_type_is_meta(127) && !dns_type_is_meta(256) &&
	    !dns_type_is_meta(DNS_T_CAA));
}

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2) {
		unsigned v;
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

T(test_rr_valid)
{
	static const struct {
		uint16_t type;
		const char *hex;
		bool ok;
	} cases[] = {
		{ DNS_T_A, "c0000201", true }, { DNS_T_A, "c00002", false },
		{ DNS_T_A, "c000020101", false }, { DNS_T_AAAA, "00", false },
		{ DNS_T_NS, "0161076578616d706c6500", true }, { DNS_T_NS, "016100ff", false },
		{ DNS_T_NS, "c00c", false }, { DNS_T_CNAME, "", false },
		{ DNS_T_MX, "000a00", true },
		{ DNS_T_MX, "000a", false }, { DNS_T_MX, "00", false },
		{ DNS_T_SOA, "0000" "0000000100000002000000030000000400000005", true },
		{ DNS_T_SOA, "0000" "00000001000000020000000300000004000000", false },
		{ DNS_T_TXT, "00", true }, { DNS_T_TXT, "0161026263", true },
		{ DNS_T_TXT, "", false }, { DNS_T_TXT, "0261", false },
		{ DNS_T_SRV, "00010002000300", true }, { DNS_T_SRV, "000100020003", false },
		{ DNS_T_CAA, "000169", true }, { DNS_T_CAA, "0001696869", true },
		{ DNS_T_CAA, "0000", false }, { DNS_T_CAA, "00012d", false },
		{ DNS_T_CAA, "000269", false },
		{ DNS_T_TLSA, "03010100", true }, { DNS_T_TLSA, "030101", false },
		{ DNS_T_SSHFP, "0101ab", true }, { DNS_T_SSHFP, "0101", false },
		{ DNS_T_DS, "0001080500", true }, { DNS_T_DS, "00010802ab", false },
		{ DNS_T_DNSKEY, "01010308ab", true }, { DNS_T_DNSKEY, "01010308", false },
		{ DNS_T_RRSIG, "0001080200000e10000000010000000100010000ab", true },
		{ DNS_T_RRSIG, "0001080200000e100000000100000001000100", false },
		{ DNS_T_NSEC, "00", true }, { DNS_T_NSEC, "00000140", true },
		{ DNS_T_NSEC, "00000140010140", true },
		{ DNS_T_NSEC, "0000014001", false },		/* truncated window */
		{ DNS_T_NSEC, "00000100", false },		/* trailing zero octet */
		{ DNS_T_NSEC, "000000", false },		/* empty window */
		{ DNS_T_NSEC, "0001014000000140", false },	/* windows out of order */
		{ DNS_T_NSEC, "0000014000000140", false },	/* repeated window */
		{ DNS_T_NSEC, "000021" "01010101010101010101010101010101"
		  "0101010101010101010101010101010101", false },	/* 33 octets */
		{ DNS_T_NSEC, "000002", false },
		{ DNS_T_NSEC3, "01000000" "00" "01ab", true },
		{ DNS_T_NSEC3, "01000000" "01cc" "01ab" "000140", true },
		{ DNS_T_NSEC3, "01000000" "00" "00", false },	/* empty hash */
		{ DNS_T_NSEC3, "01000000" "02cc" "01ab", false },
		{ DNS_T_NSEC3PARAM, "0100000a00", true },
		{ DNS_T_NSEC3PARAM, "0100000a0100", true },
		{ DNS_T_NSEC3PARAM, "0100000a01", false },
		{ 65534, "", true }, { 65534, "0102", true }, { DNS_T_OPT, "", true },
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		uint8_t b[200];
		size_t n = unhex(cases[i].hex, b);
		if (dns_rdata_valid(cases[i].type, b, n) != cases[i].ok) {
			fprintf(stderr, "valid case %zu (%s) wrong\n", i, cases[i].hex);
			t_cur_failed = 1;
		}
	}
	uint8_t big[DNS_RDATA_MAX + 1];
	memset(big, 0, sizeof big);
	CHECK(dns_rdata_valid(65534, big, DNS_RDATA_MAX));
	CHECK(!dns_rdata_valid(65534, big, DNS_RDATA_MAX + 1));
}

T(test_rr_names)
{
	size_t offs[2] = { 99, 99 };
	uint8_t b[100];
	size_t n;

	n = unhex("0161076578616d706c6500", b);
	CHECK_INT(dns_rdata_names(DNS_T_NS, b, n, offs), 1);
	CHECK_INT(offs[0], 0);
	CHECK_INT(dns_rdata_names(DNS_T_CNAME, b, n, offs), 1);
	CHECK_INT(dns_rdata_names(DNS_T_PTR, b, n, offs), 1);
	CHECK_INT(dns_rdata_names(DNS_T_DNAME, b, n, offs), 1);
	CHECK_INT(dns_rdata_names(DNS_T_A, b, 4, offs), 0);
	CHECK_INT(dns_rdata_names(DNS_T_A, b, n, offs), -1);
	n = unhex("000a0161076578616d706c6500", b);
	CHECK_INT(dns_rdata_names(DNS_T_MX, b, n, offs), 1);
	CHECK_INT(offs[0], 2);
	n = unhex("0161000162000000000100000002000000030000000400000005", b);
	CHECK_INT(dns_rdata_names(DNS_T_SOA, b, n, offs), 2);
	CHECK_INT(offs[0], 0);
	CHECK_INT(offs[1], 3);
	n = unhex("00010002000300", b);
	CHECK_INT(dns_rdata_names(DNS_T_SRV, b, n, offs), 1);
	CHECK_INT(offs[0], 6);
	n = unhex("0001080200000e10000000010000000100010000ab", b);
	CHECK_INT(dns_rdata_names(DNS_T_RRSIG, b, n, offs), 1);
	CHECK_INT(offs[0], 18);
	n = unhex("016100000140", b);
	CHECK_INT(dns_rdata_names(DNS_T_NSEC, b, n, offs), 1);
	CHECK_INT(offs[0], 0);
	CHECK_INT(dns_rdata_names(DNS_T_NSEC, b, n - 1, offs), -1);
	b[0] = 0;
	CHECK_INT(dns_rdata_names(DNS_T_TXT, b, 1, offs), 0);
}

T(test_rr_to_text)
{
	char out[64];
	uint8_t b[100];
	size_t n = unhex("c0000201", b);

	CHECK_INT(dns_rdata_to_text(DNS_T_A, b, n, out, sizeof out), 9);
	CHECK_STR(out, "192.0.2.1");
	CHECK_INT(dns_rdata_to_text(DNS_T_A, b, n, out, 10), 9);
	CHECK_INT(dns_rdata_to_text(DNS_T_A, b, n, out, 9), -1);	/* no room for NUL */
	CHECK_INT(dns_rdata_to_text(DNS_T_A, b, n, out, 0), -1);
	CHECK_INT(dns_rdata_to_text(DNS_T_A, b, 3, out, sizeof out), -1);
	CHECK_INT(dns_rdata_to_text(65534, b, 0, out, sizeof out), 4);
	CHECK_STR(out, "\\# 0");
	CHECK_INT(dns_rdata_to_text(DNS_T_OPT, b, 2, out, sizeof out), 9);
	CHECK_STR(out, "\\# 2 C000");
	n = unhex("0161026263", b);
	CHECK_INT(dns_rdata_to_text(DNS_T_TXT, b, n, out, 8), -1);
	CHECK_INT(dns_rdata_to_text(DNS_T_TXT, b, n, out, 9), 8);
	CHECK_STR(out, "\"a\" \"bc\"");

	/* times: the ends of the 32-bit range and a leap day */
	char t[15];
	uint32_t v;
	dns_time_to_text(0, t);
	CHECK_STR(t, "19700101000000");
	dns_time_to_text(4294967295u, t);
	CHECK_STR(t, "21060207062815");
	CHECK(dns_time_from_text("21060207062815", 14, &v) && v == 4294967295u);
	CHECK(dns_time_from_text("21060207062816", 14, &v) && v == 0);	/* wraps */
	CHECK(dns_time_from_text("20240229235959", 14, &v) && v == 1709251199);
	dns_time_to_text(1709251199, t);
	CHECK_STR(t, "20240229235959");
	CHECK(!dns_time_from_text("20230229000000", 14, &v));
	CHECK(!dns_time_from_text("19691231235959", 14, &v));
	CHECK(!dns_time_from_text("20240100000000", 14, &v));
	CHECK(!dns_time_from_text("20240101240000", 14, &v));
	CHECK(!dns_time_from_text("20240101006000", 14, &v));
	CHECK(!dns_time_from_text("20240101000060", 14, &v));
	CHECK(!dns_time_from_text("2024010100000", 13, &v));
	CHECK(!dns_time_from_text("2024010100000x", 14, &v));
	CHECK(dns_time_from_text("99991231235959", 14, &v));
}

int
main(void)
{
	RUN(test_zone_basic_syntax);
	RUN(test_zone_ttl_inheritance);
	RUN(test_ttl_units);
	RUN(test_zone_strings);
	RUN(test_zone_types);
	RUN(test_zone_caa_value);
	RUN(test_zone_generic);
	RUN(test_zone_errors_lexer);
	RUN(test_zone_errors_fields);
	RUN(test_zone_errors_records);
	RUN(test_zone_errors_no_origin);
	RUN(test_zone_error_recovery);
	RUN(test_zone_too_many_errors);
	RUN(test_zone_callback_stop);
	RUN(test_zone_rdata_too_long);
	RUN(test_zone_include);
	RUN(test_zone_nmrc);
	RUN(test_zone_signed_nsec);
	RUN(test_zone_signed_nsec3);
	RUN(test_rr_types);
	RUN(test_rr_valid);
	RUN(test_rr_names);
	RUN(test_rr_to_text);
	return t_done("test_dns_zonefile");
}

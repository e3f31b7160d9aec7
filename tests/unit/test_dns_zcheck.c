/*
 * tests/unit/test_dns_zcheck.c - dns/zcheck.c: every check once with a
 * zone that trips it and once with one that does not.  Zones are built
 * from text the way `talon zone check` builds them: the master file
 * parser into a dns_zsrc, dns_zone_build, then dns_zcheck.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/util.h"
#include "dns/name.h"
#include "dns/zcheck.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "t.h"

/* 2024-06-15 12:00:00 UTC: serials are judged against it */
#define NOW	((time_t)1718452800)

/* A zone that passes every check; tests append records to it or
 * replace it. */
#define BASE \
	"$TTL 3600\n" \
	"@ SOA ns1 hostmaster 2024061500 7200 3600 1209600 3600\n" \
	"@ NS ns1\n" \
	"@ NS ns2\n" \
	"ns1 A 192.0.2.1\n" \
	"ns2 A 192.0.2.2\n" \
	"@ MX 10 mail\n" \
	"mail A 192.0.2.10\n" \
	"mail AAAA 2001:db8::10\n" \
	"@ A 192.0.2.10\n"

struct res {
	unsigned errs, warns;
	int build;		/* dns_zone_build's result */
	int rc;			/* dns_zcheck's */
	char text[16384];	/* the findings */
	char ok[8192];		/* the "ok:" lines */
};

static struct res R;

/* text as the zone example.org. (or origin); findings into R */
static const struct res *
check_origin(const char *text, const char *origin_text)
{
	uint8_t origin[DNS_NAME_MAX];
	const char *why;
	struct dns_zsrc src;
	struct dns_zone z;
	struct diag d;
	struct buf ok;

	memset(&R, 0, sizeof R);
	R.build = R.rc = -2;
	if (dns_name_from_text(origin_text, strlen(origin_text), NULL, origin, &why) < 0)
		abort();
	dns_zsrc_init(&src, origin);
	diag_init(&d);
	buf_init(&ok, 0);
	if (dns_zonefile_parse_text("z", text, strlen(text), origin, false, dns_zsrc_add, &src,
	    &d) == 0) {
		R.build = dns_zone_build(&z, origin, src.stream.data, src.stream.len,
		    dns_zsrc_where, &src, &d, "z");
		if (R.build == 0) {
			R.rc = dns_zcheck(&z, dns_zsrc_where, &src, "z", NOW, &d, &ok);
			dns_zone_free(&z);
		}
	}
	R.errs = d.n_err;
	R.warns = d.n_warn;
	snprintf(R.text, sizeof R.text, "%s", diag_text(&d));
	if (buf_cstr(&ok) && ok.data != NULL)
		snprintf(R.ok, sizeof R.ok, "%s", (const char *)ok.data);
	buf_free(&ok);
	diag_free(&d);
	dns_zsrc_free(&src);
	return &R;
}

static const struct res *
check(const char *text)
{
	return check_origin(text, "example.org.");
}

static char zbuf[65536];

/* BASE followed by extra */
static const char *
base_plus(const char *extra)
{
	snprintf(zbuf, sizeof zbuf, "%s%s", BASE, extra);
	return zbuf;
}

/* BASE with its line starting with from replaced by to (to "" drops it) */
static const char *
base_with(const char *from, const char *to)
{
	const char *b = BASE, *at = strstr(b, from);
	if (at == NULL)
		abort();
	const char *eol = strchr(at, '\n') + 1;
	snprintf(zbuf, sizeof zbuf, "%.*s%s%s%s", (int)(at - b), b, to, *to ? "\n" : "", eol);
	return zbuf;
}

#define HAS(r, s)	CHECK(strstr((r)->text, (s)) != NULL)
#define CLEAN(r)	do { CHECK_INT((r)->errs, 0); CHECK_INT((r)->warns, 0); \
	if ((r)->errs || (r)->warns) fprintf(stderr, "%s", (r)->text); } while (0)

/* --- the zone as a whole ---------------------------------------------------- */

T(test_base_is_clean)
{
	const struct res *r = check(BASE);
	CHECK_INT(r->build, 0);
	CHECK_INT(r->rc, 0);
	CLEAN(r);
	CHECK(strstr(r->ok, "ok: SOA MNAME ns1.example.org. is an NS host\n") != NULL);
	CHECK(strstr(r->ok, "ok: SOA serial 2024061500 (2024-06-15)\n") != NULL);
	CHECK(strstr(r->ok, "ok: 2 NS records at the apex\n") != NULL);
	CHECK(strstr(r->ok, "ok: the apex addresses are MX host addresses\n") != NULL);
}

/* what dns_zone_build reports is left to it, not repeated */
T(test_build_findings_not_repeated)
{
	const struct res *r = check(base_plus("www CNAME mail\nwww A 192.0.2.9\n"));
	CHECK_INT(r->build, -1);
	CHECK_INT(r->rc, -2);
	CHECK_INT(r->errs, 1);
	HAS(r, "z:11: www.example.org. has a CNAME and other data");
}

/* --- SOA --------------------------------------------------------------------- */

T(test_mname_not_an_ns_host)
{
	const struct res *r = check(base_with("@ SOA", "@ SOA ns0 hostmaster 2024061500 7200 "
	    "3600 1209600 3600"));
	CHECK_INT(r->errs, 1);
	CHECK_INT(r->rc, -1);
	HAS(r, "z:2: SOA MNAME ns0.example.org. is not one of the NS hosts (ns1.example.org., "
	    "ns2.example.org.): secondaries send NOTIFY-related queries and some tools use MNAME "
	    "as the primary (fix: set MNAME to the primary name server, one of the NS hosts)\n");
	/* case does not matter in names */
	r = check(base_with("@ SOA", "@ SOA NS2.Example.ORG. hostmaster 2024061500 7200 3600 "
	    "1209600 3600"));
	CLEAN(r);
}

T(test_serial)
{
	static const struct {
		const char *serial;
		const char *finding;	/* NULL: none */
	} cases[] = {
		{ "0", "SOA serial is 0" },
		{ "1", NULL },
		{ "1718452800", NULL },		/* seconds since 1970 */
		{ "4294967295", NULL },
		{ "2024061500", NULL },
		{ "2024061699", NULL },		/* tomorrow UTC: someone's today */
		{ "2024061700", "is dated 2024-06-17, in the future" },
		{ "2030010100", "is dated 2030-01-01, in the future" },
		{ "2024022901", NULL },		/* leap year */
		{ "2023022901", "2023-02-29 is not a date" },
		{ "2000022900", NULL },		/* 2000 is a leap year */
		{ "2100022900", NULL },		/* past 2099: not taken for a date */
		{ "2024133101", "2024-13-31 is not a date" },
		{ "2024043101", "2024-04-31 is not a date" },
		{ "2024060001", "2024-06-00 is not a date" },
	};
	char soa[200];
	for (size_t i = 0; i < NELEM(cases); i++) {
		snprintf(soa, sizeof soa, "@ SOA ns1 hostmaster %s 7200 3600 1209600 3600",
		    cases[i].serial);
		const struct res *r = check(base_with("@ SOA", soa));
		CHECK_INT(r->errs, 0);
		if (cases[i].finding == NULL) {
			CHECK_INT(r->warns, 0);
		} else {
			CHECK_INT(r->warns, 1);
			HAS(r, cases[i].finding);
			HAS(r, "z:2: warning: ");
		}
	}
}

/* --- NS ------------------------------------------------------------------- */

/* RFC 9276: NSEC3 with iterations (warning, error above 100) or a salt */
T(test_nsec3_parameters)
{
	char z[4096];
	const struct res *r;
	snprintf(z, sizeof z, "%s@ NSEC3PARAM 1 0 10 AABBCCDD\n", BASE);
	r = check(z);
	CHECK_INT(r->errs, 0);
	HAS(r, "warning: NSEC3 with 10 extra iterations: each negative answer costs 3 x 11 SHA-1");
	snprintf(z, sizeof z, "%s@ NSEC3PARAM 1 0 150 -\n", BASE);
	r = check(z);
	CHECK_INT(r->errs, 1);
	HAS(r, "NSEC3 with 150 extra iterations: each negative answer costs 3 x 151 SHA-1");
	snprintf(z, sizeof z, "%s@ NSEC3PARAM 1 0 0 AABB\n", BASE);
	r = check(z);
	CHECK_INT(r->errs, 0);
	HAS(r, "warning: NSEC3 with a 2-byte salt: it adds nothing (RFC 9276 3.1)");
	snprintf(z, sizeof z, "%s@ NSEC3PARAM 1 0 0 -\n", BASE);
	r = check(z);
	CHECK_INT(r->errs + r->warns, 0);
}

T(test_single_ns)
{
	const struct res *r = check(base_with("@ NS ns2", ""));
	CHECK_INT(r->errs, 0);
	CHECK_INT(r->warns, 1);
	HAS(r, "z:3: warning: only one NS record at the apex (ns1.example.org.): RFC 1034 4.1");
	CHECK_INT(check(BASE)->warns, 0);
}

T(test_ns_target_cname)
{
	const struct res *r = check(base_with("ns2 A", "ns2 CNAME ns1"));
	CHECK_INT(r->errs, 1);
	HAS(r, "z:4: NS target ns2.example.org. is a CNAME (RFC 2181 10.3");
	HAS(r, "(fix: point the NS at ns1.example.org.)");
	CLEAN(check(BASE));
}

T(test_ns_target_without_address)
{
	const struct res *r = check(base_with("ns2 A", "ns2 TXT \"no address\""));
	CHECK_INT(r->errs, 1);
	HAS(r, "z:4: NS target ns2.example.org. has no A or AAAA record in the zone");
	/* an AAAA is enough */
	CLEAN(check(base_with("ns2 A", "ns2 AAAA 2001:db8::2")));
	/* outside the zone: not this zone's business */
	CLEAN(check(base_with("@ NS ns2", "@ NS ns.example.net.")));
}

T(test_glue)
{
	/* the host is inside the delegated zone: it needs glue */
	const struct res *r = check(base_plus("sub NS ns.sub\nsub NS ns.example.net.\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "z:11: NS host ns.sub.example.org. of sub.example.org. is at or below the "
	    "delegation sub.example.org. and has no glue");
	CLEAN(check(base_plus("sub NS ns.sub\nsub NS ns.example.net.\nns.sub A 192.0.2.53\n")));
	/* a host below another delegation needs glue as well */
	r = check(base_plus("a NS ns.b\nb NS ns.example.net.\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "NS host ns.b.example.org. of a.example.org. is at or below the delegation "
	    "b.example.org.");
	CLEAN(check(base_plus("a NS ns.b\nb NS ns.example.net.\nns.b A 192.0.2.54\n")));
	/* a delegation to a host elsewhere in the zone: an ordinary address */
	r = check(base_plus("sub NS nsx\n"));
	HAS(r, "NS target nsx.example.org. has no A or AAAA record");
	CLEAN(check(base_plus("sub NS ns1\n")));
}

/* --- MX ------------------------------------------------------------------- */

T(test_mx_target_cname)
{
	const struct res *r = check(base_plus("@ MX 20 mx2\nmx2 CNAME mail\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "z:11: MX target mx2.example.org. is a CNAME (RFC 2181 10.3");
	CLEAN(check(base_plus("@ MX 20 mx2\nmx2 A 192.0.2.10\n")));
}

T(test_mx_target_without_address)
{
	const struct res *r = check(base_plus("@ MX 20 mx2\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "z:11: MX target mx2.example.org. has no A or AAAA record in the zone: senders "
	    "of mail to example.org. cannot reach it");
	/* other names than the apex are checked too */
	r = check(base_plus("sub MX 10 nowhere.sub\nsub A 192.0.2.10\n"));
	HAS(r, "MX target nowhere.sub.example.org. has no A or AAAA record");
	/* outside the zone, or inside a delegation: not looked up */
	CLEAN(check(base_plus("@ MX 20 mx.example.net.\n")));
	CLEAN(check(base_plus("@ MX 20 mx.sub\nsub NS ns.example.net.\n")));
	/* a wildcard gives the host its address */
	CLEAN(check(base_plus("@ MX 20 a.hosts\n*.hosts A 192.0.2.10\n")));
	r = check(base_plus("@ MX 20 a.hosts\n*.hosts TXT \"x\"\n"));
	HAS(r, "MX target a.hosts.example.org. has no A or AAAA record");
}

T(test_mx_ip_literal)
{
	static const char *const bad[] = {
		"@ MX 20 192.0.2.10.\n",
		"@ MX 20 192.0.2.10\n",		/* relative: the origin follows */
		"@ MX 20 2001:db8::10.\n",
		"@ MX 20 [192.0.2.10].\n",
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		const struct res *r = check(base_plus(bad[i]));
		CHECK_INT(r->errs, 1);
		HAS(r, "z:11: MX target ");
		HAS(r, "is an IP address, not a host name");
	}
	/* names that only have digits in some labels are names */
	CLEAN(check(base_plus("@ MX 20 10.mail\n10.mail A 192.0.2.10\n")));
	CLEAN(check(base_plus("@ MX 20 1.2.3.4.example.net.\n")));
}

T(test_null_mx)
{
	/* RFC 7505: alone it is fine (and no sender falls back to the
	 * apex address) */
	const char *alone = "$TTL 3600\n@ SOA ns1 hostmaster 1 7200 3600 1209600 3600\n"
	    "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n@ MX 0 .\n@ A 192.0.2.80\n";
	CLEAN(check(alone));
	const struct res *r = check(base_plus("@ MX 0 .\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "z:11: null MX (\".\", RFC 7505) at example.org. beside 1 other MX records");
}

/* --- the apex address against the MX hosts (the seed's outage) -------------- */

T(test_apex_a_is_no_mx_host)
{
	const struct res *r = check(base_with("@ A", "@ A 192.0.2.80"));
	CHECK_INT(r->errs, 0);
	CHECK_INT(r->warns, 1);
	HAS(r, "z:10: warning: apex A 192.0.2.80 is no MX host's address (MX: mail.example.org.): "
	    "senders that fall back to the apex address (no MX) reach a host that may refuse the "
	    "domain's mail (fix: point the apex A at an MX host's address such as 192.0.2.10, "
	    "or make that host accept the domain's mail)");
	r = check(base_plus("@ AAAA 2001:db8::80\n"));
	CHECK_INT(r->warns, 1);
	HAS(r, "z:11: warning: apex AAAA 2001:db8::80 is no MX host's address");
	/* any MX host's address will do */
	CLEAN(check(base_plus("@ MX 20 mx2\nmx2 A 192.0.2.80\n@ A 192.0.2.80\n")));
	CLEAN(check(base_plus("@ AAAA 2001:db8::10\n")));
	/* no MX, or no apex address: nothing to compare */
	CLEAN(check(base_with("@ MX", "")));
	CLEAN(check(base_with("@ A", "")));
	/* a host outside the zone: its address is not known here */
	CLEAN(check(base_plus("@ MX 20 mx.example.net.\n@ A 192.0.2.80\n")));
}

/* --- SPF ---------------------------------------------------------------------- */

T(test_spf_valid)
{
	static const char *const good[] = {
		"v=spf1",
		"v=spf1 -all",
		"V=SPF1 MX:example.org -ALL",
		"v=spf1 mx:nmrc.org -all",
		"v=spf1 a mx ptr ~all",
		"v=spf1 +a:mail.example.org/24 ?mx//64 a/24//64 mx:example.org/28//48 -all",
		"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.1 ip6:2001:db8::/32 ip6:::1 -all",
		"v=spf1 ip6:::ffff:192.0.2.1/128 ip4:0.0.0.0/0 -all",
		"v=spf1 include:_spf.example.net include:spf.example.com. -all",
		"v=spf1 exists:%{i}._spf.%{d} exists:%{ir}.%{l1r+-}._spf.%{d2} -all",
		"v=spf1 a:%{d} ptr:example.net redirect=_spf.example.net",
		"v=spf1 -all exp=explain._spf.%{d}",
		"v=spf1 -all foo=bar x-custom=%{c}%%%_%-",
		"v=spf1  mx   -all ",
		"v=spf1 include:a-b.example.org include:example.123-4",
	};
	char z[1024];
	for (size_t i = 0; i < NELEM(good); i++) {
		snprintf(z, sizeof z, BASE "@ TXT \"%s\"\n", good[i]);
		const struct res *r = check(z);
		CLEAN(r);
		if (r->errs || r->warns)
			fprintf(stderr, "  for %s\n", good[i]);
		CHECK(strstr(r->ok, "ok: SPF record at example.org.\n") != NULL);
	}
	/* not SPF at all */
	CLEAN(check(base_plus("@ TXT \"v=spf10 bogus\"\n@ TXT \"hello\"\n")));
	/* the strings of one TXT are joined first */
	CLEAN(check(base_plus("@ TXT \"v=spf1 ip4:192.0.2.0\" \"/24 -all\"\n")));
}

/* the messages are msgauth/spf.c's (spf_record_check), each with a fix */
T(test_spf_bad_terms)
{
	static const struct {
		const char *rec, *why, *fix;
	} bad[] = {
		{ "v=spf1 ip4:192.0.2.0/33 -all", "bad CIDR length in \"ip4:192.0.2.0/33\"",
		    "ip4 prefixes are /0 to /32" },
		{ "v=spf1 ip4:192.0.2.0/024", "bad CIDR length in \"ip4:192.0.2.0/024\"",
		    "without leading zeros" },
		{ "v=spf1 ip4:192.0.2", "bad ip4 network in \"ip4:192.0.2\"",
		    "write an address such as 192.0.2.1" },
		{ "v=spf1 ip4:192.0.2.01", "bad ip4 network in \"ip4:192.0.2.01\"", "192.0.2.1" },
		{ "v=spf1 ip4:256.0.2.1", "bad ip4 network in \"ip4:256.0.2.1\"", "192.0.2.1" },
		{ "v=spf1 ip4", "bad ip4 network in \"ip4\"", "192.0.2.1" },
		{ "v=spf1 ip6:2001:db8::/129", "bad CIDR length in \"ip6:2001:db8::/129\"",
		    "ip6 prefixes /0 to /128" },
		{ "v=spf1 ip6:2001:db8:::1", "bad ip6 network in \"ip6:2001:db8:::1\"",
		    "2001:db8::1" },
		{ "v=spf1 ip6:192.0.2.1", "bad ip6 network in \"ip6:192.0.2.1\"", "2001:db8::1" },
		{ "v=spf1 a/33", "bad IPv4 CIDR length in \"a/33\"", "write /24 for IPv4" },
		{ "v=spf1 mx//129", "bad IPv6 CIDR length in \"mx//129\"", "//64 for IPv6" },
		{ "v=spf1 a:192.0.2.1", "domain-spec does not end in a top-level label or a macro in "
		    "\"a:192.0.2.1\"", "write a full domain name" },
		{ "v=spf1 mx:localhost", "does not end in a top-level label", "full domain name" },
		{ "v=spf1 mx:example.org/", "does not end in a top-level label", "full domain name" },
		{ "v=spf1 a-example.org", "unknown mechanism in \"a-example.org\"",
		    "use all, include, a, mx, ptr, ip4, ip6 or exists" },
		{ "v=spf1 include", "missing ':' domain-spec in \"include\"",
		    "write include:domain" },
		{ "v=spf1 include:", "empty domain-spec in \"include:\"", "full domain name" },
		{ "v=spf1 exists:%{z}.example.org", "unknown macro letter in", "s l o d i p h v" },
		{ "v=spf1 exists:%{d", "unterminated macro in \"exists:%{d\"", "%{letter" },
		{ "v=spf1 exists:%{d0}.example.org", "macro keeps zero parts", "drop the digits" },
		{ "v=spf1 exists:%d.example.org", "'%' not followed by '{', '%', '-' or '_'",
		    "write %% for a percent sign" },
		/* RFC 7208 7.2: c, r and t only in explanations */
		{ "v=spf1 a:%{c}.example.org", "unknown macro letter in \"a:%{c}.example.org\"",
		    "c r t in exp= text" },
		{ "v=spf1 allx", "unknown mechanism in \"allx\"", "use all, include" },
		{ "v=spf1 all:example.org", "all takes no argument", "write all alone" },
		{ "v=spf1 *all", "unknown mechanism in \"*all\"", "use all, include" },
		{ "v=spf1 mx\t-all", "byte 0x09 at offset 9 is not printable ASCII",
		    "spaces (not tabs) between terms" },
		{ "v=spf1 a:caf\\195\\169.example.org", "byte 0xc3 at offset 12",
		    "printable ASCII only" },
		{ "v=spf1 redirect=a.example.org redirect=b.example.org", "redirect= appears twice",
		    "keep one (RFC 7208 6)" },
		{ "v=spf1 -all exp=a.example.org exp=b.example.org", "exp= appears twice",
		    "keep one" },
		{ "v=spf1 redirect=", "empty domain-spec in \"redirect=\"", "full domain name" },
		{ "v=spf1 ptr/24", "unexpected text after the mechanism name in \"ptr/24\"",
		    "ptr:domain" },
		{ "v=spf1 1x=y", "modifier name must start with a letter", "starts with a letter" },
		/* valid syntax that does not mean what it seems to */
		{ "v=spf1 include=_spf.example.org -all", "\"include=_spf.example.org\" is an "
		    "unknown modifier, which receivers ignore", "write include: with a colon" },
		/* the first problem only, as the daemon stops there */
		{ "v=spf1 moo a/33 -all foo", "unknown mechanism in \"moo\"", "use all, include" },
	};
	char z[1024];
	for (size_t i = 0; i < NELEM(bad); i++) {
		snprintf(z, sizeof z, BASE "@ TXT \"%s\"\n", bad[i].rec);
		const struct res *r = check(z);
		CHECK_INT(r->errs, 1);
		CHECK_INT(r->warns, 0);
		HAS(r, "z:11: SPF record at example.org.: ");
		if (strstr(r->text, bad[i].why) == NULL || strstr(r->text, bad[i].fix) == NULL ||
		    r->errs != 1)
			fprintf(stderr, "  for %s: %s", bad[i].rec, r->text);
		HAS(r, bad[i].why);
		HAS(r, "(fix: ");
		HAS(r, bad[i].fix);
		CHECK(strstr(r->ok, "ok: SPF record") == NULL);
	}
}

T(test_spf_one_per_name)
{
	const struct res *r = check(base_plus("@ TXT \"v=spf1 mx -all\"\n"
	    "@ TXT \"v=spf1 a -all\"\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "more than one SPF record at example.org.: receivers treat that as a permanent "
	    "error (RFC 7208 4.5)");
	/* one each at two names */
	CLEAN(check(base_plus("@ TXT \"v=spf1 mx -all\"\nmail TXT \"v=spf1 a -all\"\n")));
	/* "v=spf1" followed by anything but a space is no SPF record
	 * (RFC 7208 4.5), so it neither counts nor is checked */
	CLEAN(check(base_plus("@ TXT \"v=spf1 mx -all\"\n@ TXT \"v=spf1\tbogus\"\n"
	    "@ TXT \"v=spf1/x\"\n@ TXT \"v=spf\"\n")));
}

/* counted in the record alone: offline, includes are not followed */
T(test_spf_lookup_limit)
{
	const char *ten = "@ TXT \"v=spf1 a mx ptr exists:x.example.org include:a.example.org "
	    "include:b.example.org a:c.example.org mx:d.example.org ip4:192.0.2.1 "
	    "include:e.example.org redirect=f.example.org\"\n";
	CLEAN(check(base_plus(ten)));
	const char *eleven = "@ TXT \"v=spf1 a mx ptr exists:x.example.org include:a.example.org "
	    "include:b.example.org a:c.example.org mx:d.example.org ip4:192.0.2.1 "
	    "include:e.example.org include:g.example.org redirect=f.example.org\"\n";
	const struct res *r = check(base_plus(eleven));
	CHECK_INT(r->errs, 0);
	CHECK_INT(r->warns, 1);
	HAS(r, "SPF record at example.org. has 11 terms that query DNS");
	/* qualifiers, CIDR lengths and case do not hide a term; unknown
	 * modifiers and ip4/ip6/all do not count */
	const char *quals = "@ TXT \"v=spf1 +a -MX ~ptr ?exists:x.example.org a/24 mx//64 "
	    "Include:a.example.org include:b.example.org a:c.example.org mx:d.example.org "
	    "REDIRECT=f.example.org ip4:192.0.2.1 ip6:::1 x-a=1 -all\"\n";
	r = check(base_plus(quals));
	CHECK_INT(r->warns, 1);
	HAS(r, "has 11 terms that query DNS");
}

/* --- DMARC -------------------------------------------------------------------- */

T(test_dmarc_valid)
{
	static const char *const good[] = {
		"v=DMARC1; p=none",
		"v=DMARC1;p=reject;",
		"v = DMARC1 ; p = quarantine ; sp=none; np=reject",
		"v=DMARC1; p=none; rua=mailto:dmarc@example.org,mailto:d2@example.net!10m; "
		    "ruf=mailto:f@example.org; adkim=s; aspf=r; pct=0; fo=0:1:d:s; rf=afrf; "
		    "ri=86400; psd=n; t=y",
		"v=DMARC1; p=none; pct=100",
		"v=DMARC1; P=Reject; SP=None",
	};
	char z[1024];
	for (size_t i = 0; i < NELEM(good); i++) {
		snprintf(z, sizeof z, BASE "_dmarc TXT \"%s\"\n", good[i]);
		const struct res *r = check(z);
		CLEAN(r);
		if (r->errs || r->warns)
			fprintf(stderr, "  for %s\n", good[i]);
		CHECK(strstr(r->ok, "ok: DMARC record at _dmarc.example.org.\n") != NULL);
	}
}

/* the record is msgauth/dmarc.c's: invalid only for p= and sp= */
T(test_dmarc_bad)
{
	static const struct {
		const char *rec, *finding;
	} bad[] = {
		{ "p=none; v=DMARC1", "TXT record at _dmarc.example.org. does not start with "
		    "v=DMARC1, so receivers ignore it" },
		{ "v=dmarc1; p=none", "does not start with v=DMARC1" },
		{ "hello", "does not start with v=DMARC1" },
		{ "v=DMARC1", "DMARC record at _dmarc.example.org.: no p= tag, so receivers apply "
		    "no DMARC policy (RFC 7489 6.6.3) (fix: add p=none, p=quarantine or p=reject "
		    "right after v=DMARC1)" },
		{ "v=DMARC1; rua=dmarc@example.org", "no p= tag, so receivers apply no DMARC" },
		{ "v=DMARC1; p=nothing", "p= is not none, quarantine or reject (or appears "
		    "twice), so receivers apply no DMARC policy" },
		{ "v=DMARC1; p=none; sp=all", "sp= is not none, quarantine or reject" },
		{ "v=DMARC1; p=none; p=reject", "p= is not none, quarantine or reject (or "
		    "appears twice)" },
		{ "v=DMARC1; p=none; sp=none; sp=none", "sp= is not none" },
		/* RFC 7489 6.6.3 step 6: a valid rua= makes it p=none, which
		 * is not what the second record meant */
		{ "v=DMARC1; rua=mailto:d@example.org", "DMARC record at _dmarc.example.org. has "
		    "no valid p= (or a bad sp=): receivers act as if it said p=none, because rua= "
		    "has a valid address (RFC 7489 6.6.3)" },
		{ "v=DMARC1; p=reject; sp=bogus; rua=mailto:d@example.org",
		    "receivers act as if it said p=none" },
	};
	char z[1024];
	for (size_t i = 0; i < NELEM(bad); i++) {
		snprintf(z, sizeof z, BASE "_dmarc TXT \"%s\"\n", bad[i].rec);
		const struct res *r = check(z);
		CHECK_INT(r->errs, 1);
		CHECK_INT(r->warns, 0);
		HAS(r, bad[i].finding);
		HAS(r, "z:11: ");
		if (strstr(r->text, bad[i].finding) == NULL)
			fprintf(stderr, "  for %s: %s", bad[i].rec, r->text);
	}
}

/* What receivers drop silently (RFC 7489 6.3: bad values fall back to
 * the defaults, unknown tags and pieces without "=" are ignored) the
 * daemon drops too, and the check follows it: no finding. */
T(test_dmarc_dropped_values_pass)
{
	static const char *const dropped[] = {
		"v=DMARC1; p=none; pct=101",
		"v=DMARC1; p=none; pct=",
		"v=DMARC1; p=none; adkim=x",
		"v=DMARC1; p=none; fo=2",
		"v=DMARC1; p=none; ri=4294967296",
		"v=DMARC1; p=none; rua=dmarc@example.org",
		"v=DMARC1; p=none; rua=mailto:d@example.org!10x",
		"v=DMARC1; p=none; psd=x; t=1; np=maybe",
		"v=DMARC1; p=none;; sp=none",
		"v=DMARC1; p=none; sp",
		"v=DMARC1; p=none; foo=bar",
		"v=DMARC1; p=none; adkim=s; adkim=r",
	};
	char z[1024];
	for (size_t i = 0; i < NELEM(dropped); i++) {
		snprintf(z, sizeof z, BASE "_dmarc TXT \"%s\"\n", dropped[i]);
		const struct res *r = check(z);
		CLEAN(r);
		if (r->errs || r->warns)
			fprintf(stderr, "  for %s\n", dropped[i]);
	}
}

/* below the apex as at it: receivers do not go on to the organization's
 * record when the domain's own is invalid (RFC 7489 6.6.3 steps 3, 6) */
T(test_dmarc_p_below_org)
{
	const struct res *r = check(base_plus("_dmarc.sub TXT \"v=DMARC1\"\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "z:11: DMARC record at _dmarc.sub.example.org.: no p= tag");
	r = check(base_plus("_dmarc.sub TXT \"v=DMARC1; rua=mailto:d@example.org\"\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "DMARC record at _dmarc.sub.example.org. has no valid p=");
	CLEAN(check(base_plus("_dmarc.sub TXT \"v=DMARC1; p=reject\"\n")));
}

T(test_dmarc_one_per_name)
{
	const struct res *r = check(base_plus("_dmarc TXT \"v=DMARC1; p=none\"\n"
	    "_dmarc TXT \"v=DMARC1; p=reject\"\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "more than one DMARC record at _dmarc.example.org.");
	/* spaces around "=" are allowed in the version tag */
	r = check(base_plus("_dmarc TXT \"v=DMARC1; p=none\"\n_dmarc TXT \"v = DMARC1;p=none\"\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "more than one DMARC record at _dmarc.example.org.");
}

/* --- DKIM --------------------------------------------------------------------- */

/* the seed's RSA-1024 key */
#define SEED_P "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDorm4fA6kdVeQty3S5LvhjJKp2H7aeKkw+UVP5" \
	"vssEqBUZ/VS0ph7Ou/DF0RxDricc7uGkqc0hxbe5k1pImvWD0p/ga61VM/54kozgiTKZ0yAX9UkdF5o8fC/M" \
	"b1PP5Bm+I9t5I2yyxRzXVTTQOATQEyhhurqWlgIVZv8Y9drBBQIDAQAB"

/* der[0..dl) in base64 as TXT strings of at most 200 characters, into out */
static void
der_txt(const unsigned char *der, int dl, char *out, size_t outsz)
{
	unsigned char *b64 = xmalloc((size_t)dl * 2 + 4);
	int bl = EVP_EncodeBlock(b64, der, dl);
	size_t o = 0;
	for (int i = 0; i < bl; i += 200)
		o += (size_t)snprintf(out + o, outsz - o, "\"%.*s\" ", bl - i < 200 ? bl - i : 200,
		    (const char *)b64 + i);
	free(b64);
}

/* base64 of the SubjectPublicKeyInfo of a fresh RSA key of bits (or of
 * its bare PKCS#1 RSAPublicKey when pkcs1), as TXT strings; into out */
static void
rsa_key_txt_form(unsigned bits, bool pkcs1, char *out, size_t outsz)
{
	EVP_PKEY *pk = EVP_RSA_gen(bits);
	unsigned char *der = NULL;
	int dl = pk == NULL ? -1 : pkcs1 ? i2d_PublicKey(pk, &der) : i2d_PUBKEY(pk, &der);
	if (dl <= 0)
		abort();
	der_txt(der, dl, out, outsz);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
}

static void
rsa_key_txt(unsigned bits, char *out, size_t outsz)
{
	rsa_key_txt_form(bits, false, out, outsz);
}

/* An RSA public key of bits with a random odd modulus: no primes, so
 * sizes that would take minutes to generate are instant; only its size
 * matters here. */
static void
big_rsa_key_txt(int bits, char *out, size_t outsz)
{
	BIGNUM *n = BN_new(), *e = BN_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pk = NULL;
	OSSL_PARAM *par;
	unsigned char *der = NULL;

	if (n == NULL || e == NULL || bld == NULL || ctx == NULL ||
	    BN_rand(n, bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD) != 1 ||
	    BN_set_word(e, 65537) != 1 || OSSL_PARAM_BLD_push_BN(bld, "n", n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, "e", e) != 1 ||
	    (par = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		abort();
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, par) != 1)
		abort();
	int dl = i2d_PUBKEY(pk, &der);
	if (dl <= 0)
		abort();
	der_txt(der, dl, out, outsz);
	OPENSSL_free(der);
	OSSL_PARAM_free(par);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
}

T(test_dkim_valid)
{
	static char z[8192], key[2048];
	const struct res *r = check(base_plus("default._domainkey TXT ( \"v=DKIM1; k=rsa; "
	    "p=MIGfMA0GCSqGSI\" \"b3DQEBAQUAA4GNADCBiQKBgQDorm4fA6kdVeQty3S5LvhjJKp2H7aeKkw+UVP5vs"
	    "sEqBUZ/VS\" \"0ph7Ou/DF0RxDricc7uGkqc0hxbe5k1pImvWD0p/ga61VM/54kozgiTKZ0yAX9UkdF5o8fC/M\" "
	    "\"b1PP5Bm+I9t5I2yyxRzXVTTQOATQEyhhurqWlgIVZv8Y9drBBQIDAQAB\" )\n"));
	CLEAN(r);
	CHECK(strstr(r->ok, "ok: DKIM key at default._domainkey.example.org. (rsa, 1024 bits)\n")
	    != NULL);
	/* no v= and no k= (rsa by default), whitespace inside p=, a
	 * selector of two labels, h= and s= that allow mail signed with
	 * SHA-256 */
	CLEAN(check(base_plus("s1.2024._domainkey TXT \"p=" SEED_P "  ; t=s; h=sha1:sha256; "
	    "s=email\"\n")));
	CLEAN(check(base_plus("s._domainkey TXT \"v=DKIM1; p=MIGfMA0GCSqGSIb3DQEB AQUAA4GNADCBiQKBg"
	    "QDorm4fA6kdVeQty3S5LvhjJKp2H7aeKkw+UVP5vssEqBUZ/VS0ph7Ou/DF0RxDricc7uGkqc0hxbe5k1pImvW"
	    "D0p/ga61VM/54kozgiTKZ0yAX9UkdF5o8fC/Mb1PP5Bm+I9t5I2yyxRzXVTTQOATQEyhhurqWlgIVZv8Y9drBBQ"
	    "IDAQAB\"\n")));
	/* values may carry UTF-8 (RFC 8616), tags unknown to RFC 6376 are
	 * ignored, s=* is any service */
	CLEAN(check(base_plus("u._domainkey TXT \"v=DKIM1; n=caf\\195\\169; x_y=1; s=*; p="
	    SEED_P "\"\n")));
	rsa_key_txt(2048, key, sizeof key);
	snprintf(z, sizeof z, BASE "k2048._domainkey TXT \"v=DKIM1; k=rsa; p=\" %s\n", key);
	r = check(z);
	CLEAN(r);
	CHECK(strstr(r->ok, "(rsa, 2048 bits)") != NULL);
	/* a bare PKCS#1 RSAPublicKey, which the daemon's verifier takes too */
	rsa_key_txt_form(1024, true, key, sizeof key);
	snprintf(z, sizeof z, BASE "pk1._domainkey TXT \"v=DKIM1; p=\" %s\n", key);
	r = check(z);
	CLEAN(r);
	CHECK(strstr(r->ok, "ok: DKIM key at pk1._domainkey.example.org. (rsa, 1024 bits)\n")
	    != NULL);
	/* RFC 8463: a raw 32-byte Ed25519 key */
	r = check(base_plus("ed._domainkey TXT \"v=DKIM1; k=ed25519; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"));
	CLEAN(r);
	CHECK(strstr(r->ok, "ok: DKIM key at ed._domainkey.example.org. (ed25519)\n") != NULL);
}

/* the reasons are msgauth/dkim_parse.c's, each with a fix */
T(test_dkim_bad)
{
	static const struct {
		const char *rec, *finding;
		bool warn;
	} bad[] = {
		{ "k=rsa; v=DKIM1; p=" SEED_P, "v= is not the first tag (fix: begin the record "
		    "with \"v=DKIM1;\" or leave v= out)", false },
		{ "v=DKIM2; p=" SEED_P, "v= is not DKIM1", false },
		{ "v=DKIM1; k=rsa", "no p= tag (fix: add p= with the base64 public key", false },
		{ "v=DKIM1; k=rsa; p=", "is revoked (empty p=)", true },
		{ "v=DKIM1; k=dsa; p=" SEED_P, "unknown key type (k=) (fix: k=rsa or k=ed25519)",
		    false },
		{ "v=DKIM1; p=MIGf!", "p= is not base64 (fix: copy the key again", false },
		{ "v=DKIM1; p=MQ==MQ==", "p= is not base64", false },
		{ "v=DKIM1; p=M", "p= is not base64", false },
		/* base64 without its padding decodes; then it is no key */
		{ "v=DKIM1; p=MIGfMA0", "p= is not an RSA key (fix: publish the output of "
		    "\"openssl rsa -pubout -outform DER\" in base64)", false },
		{ "v=DKIM1; p=aGVsbG8gd29ybGQ=", "p= is not an RSA key", false },
		{ "v=DKIM1; k=ed25519; p=" SEED_P, "an ed25519 p= must hold 32 bytes, this one "
		    "holds 162 (fix: publish the raw 32-byte key (RFC 8463 4.2)", false },
		/* two strings: one may hold 255 bytes */
		{ "v=DKIM1; p=" SEED_P "\" \"; p=" SEED_P, "a tag appears twice (fix: keep one: "
		    "RFC 6376 3.2 makes the whole record invalid)", false },
		{ "v=DKIM1; =x; p=" SEED_P, "bad tag name", false },
		{ "v=DKIM1; n; p=" SEED_P, "missing '=' after a tag name", false },
		{ "v=DKIM1; n=a\\001b; p=" SEED_P, "bad character in a tag value", false },
		{ "v=DKIM1; n=a\\000b; p=" SEED_P, "a NUL byte in the record", false },
		/* tag names are case-sensitive (RFC 6376 3.2) */
		{ "v=DKIM1; P=" SEED_P, "no p= tag", false },
		/* keys the daemon's verifier refuses */
		{ "v=DKIM1; s=tlsrpt; p=" SEED_P, "s= lists neither email nor *, so verifiers "
		    "refuse it for mail (RFC 6376 3.6.1) (fix: leave s= out, or write s=email)",
		    false },
		{ "v=DKIM1; h=sha1; p=" SEED_P, "h= does not list sha256, and verifiers refuse "
		    "sha1 (RFC 8301 3.1)", false },
	};
	char z[2048];
	for (size_t i = 0; i < NELEM(bad); i++) {
		snprintf(z, sizeof z, BASE "sel._domainkey TXT \"%s\"\n", bad[i].rec);
		const struct res *r = check(z);
		CHECK_INT(r->errs, bad[i].warn ? 0 : 1);
		CHECK_INT(r->warns, bad[i].warn ? 1 : 0);
		HAS(r, "z:11: ");
		HAS(r, "DKIM key at sel._domainkey.example.org.");
		HAS(r, bad[i].finding);
		if (strstr(r->text, bad[i].finding) == NULL)
			fprintf(stderr, "  for %s: %s", bad[i].rec, r->text);
		CHECK(strstr(r->ok, "ok: DKIM") == NULL);
	}
}

T(test_dkim_rsa_too_short)
{
	static char z[4096], key[1024];
	rsa_key_txt(768, key, sizeof key);
	snprintf(z, sizeof z, BASE "old._domainkey TXT \"v=DKIM1; k=rsa; p=\" %s\n", key);
	const struct res *r = check(z);
	CHECK_INT(r->errs, 1);
	HAS(r, "DKIM key at old._domainkey.example.org. is RSA of 768 bits: verifiers must not "
	    "accept signatures with keys under 1024 bits (RFC 8301 3.2)");
}

/* the daemon's verifier refuses RSA keys over DKIM_RSA_MAX_BITS */
T(test_dkim_rsa_too_long)
{
	static char z[8192], key[4096];
	big_rsa_key_txt(8704, key, sizeof key);
	snprintf(z, sizeof z, BASE "huge._domainkey TXT \"v=DKIM1; p=\" %s\n", key);
	const struct res *r = check(z);
	CHECK_INT(r->errs, 1);
	HAS(r, "z:11: DKIM key at huge._domainkey.example.org. is RSA of 8704 bits: Talon's "
	    "verifier refuses keys over 8192 bits");
	big_rsa_key_txt(8192, key, sizeof key);
	snprintf(z, sizeof z, BASE "big._domainkey TXT \"v=DKIM1; p=\" %s\n", key);
	r = check(z);
	CLEAN(r);
	CHECK(strstr(r->ok, "(rsa, 8192 bits)") != NULL);
}

T(test_dkim_two_records_at_a_selector)
{
	const struct res *r = check(base_plus("s._domainkey TXT \"v=DKIM1; p=" SEED_P "\"\n"
	    "s._domainkey TXT \"v=DKIM1; k=ed25519; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"));
	CHECK_INT(r->errs, 0);
	CHECK_INT(r->warns, 1);
	HAS(r, "warning: more than one TXT record at the DKIM key name s._domainkey.example.org.");
}

T(test_dkim_only_at_selector_names)
{
	/* _domainkey itself and other names are not key records */
	CLEAN(check(base_plus("_domainkey TXT \"o=~\"\nx TXT \"p=\"\n")));
}

/* --- names the zone does not answer for --------------------------------------- */

T(test_occluded_names_not_checked)
{
	/* below a delegation only glue counts: dns_zone_build warns about
	 * the rest, and nothing here looks at it */
	const struct res *r = check(base_plus("sub NS ns.example.net.\n"
	    "x.sub MX 10 nowhere.x.sub\nx.sub TXT \"v=spf1 bogus\"\n"));
	CHECK_INT(r->errs, 0);
	CHECK_INT(r->warns, 1);
	HAS(r, "is below the delegation at sub.example.org.");
}

/* --- the seed ------------------------------------------------------------------ */

/* The zone before the fix told in "SMTP or DNS?": MNAME not an NS host,
 * the apex A at the web server rather than the MX host. */
T(test_seed_outage_mname_and_apex_a)
{
	const char *seed =
	    "$TTL    604800\n"
	    "@       IN      SOA     ns0.nmrc.org.      thegnome.nmrc.org.    (\n"
	    "                2020010100 43200 7200 2419200 86400 ) ;\n"
	    "@       IN      NS      daemon.nmrc.org.\n"
	    "@       IN      NS      ns2.example.net.\n"
	    "@       IN      A       65.70.17.132\n"
	    "@       IN      MX      5       talon.nmrc.org.\n"
	    "daemon  IN      A       65.70.17.133\n"
	    "talon   IN      A       65.70.17.131\n"
	    "rigor-mortis    IN      A       65.70.17.132\n"
	    "www     IN      A       65.70.17.132\n"
	    "web     IN      CNAME   www\n"
	    "_dmarc  IN      TXT     \"v=DMARC1; p=none\"\n"
	    "@       IN      TXT     \"v=spf1 mx:nmrc.org -all\"\n";
	const struct res *r = check_origin(seed, "nmrc.org.");
	CHECK_INT(r->errs, 1);
	CHECK_INT(r->warns, 1);
	HAS(r, "z:2: SOA MNAME ns0.nmrc.org. is not one of the NS hosts (daemon.nmrc.org., "
	    "ns2.example.net.)");
	HAS(r, "z:6: warning: apex A 65.70.17.132 is no MX host's address (MX: talon.nmrc.org.)");
}

int
main(void)
{
	RUN(test_base_is_clean);
	RUN(test_build_findings_not_repeated);
	RUN(test_mname_not_an_ns_host);
	RUN(test_serial);
	RUN(test_nsec3_parameters);
	RUN(test_single_ns);
	RUN(test_ns_target_cname);
	RUN(test_ns_target_without_address);
	RUN(test_glue);
	RUN(test_mx_target_cname);
	RUN(test_mx_target_without_address);
	RUN(test_mx_ip_literal);
	RUN(test_null_mx);
	RUN(test_apex_a_is_no_mx_host);
	RUN(test_spf_valid);
	RUN(test_spf_bad_terms);
	RUN(test_spf_one_per_name);
	RUN(test_spf_lookup_limit);
	RUN(test_dmarc_valid);
	RUN(test_dmarc_bad);
	RUN(test_dmarc_dropped_values_pass);
	RUN(test_dmarc_p_below_org);
	RUN(test_dmarc_one_per_name);
	RUN(test_dkim_valid);
	RUN(test_dkim_bad);
	RUN(test_dkim_rsa_too_short);
	RUN(test_dkim_rsa_too_long);
	RUN(test_dkim_two_records_at_a_selector);
	RUN(test_dkim_only_at_selector_names);
	RUN(test_occluded_names_not_checked);
	RUN(test_seed_outage_mname_and_apex_a);
	return t_done("dns_zcheck");
}

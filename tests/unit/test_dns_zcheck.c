/*
 * tests/unit/test_dns_zcheck.c - dns/zcheck.c: every check once with a
 * zone that trips it and once with one that does not.  Zones are built
 * from text the way `talon zone check` builds them: the master file
 * parser into a dns_zsrc, dns_zone_build, then dns_zcheck.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
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

T(test_spf_bad_terms)
{
	static const struct {
		const char *rec, *why;
	} bad[] = {
		{ "v=spf1 ip4:192.0.2.0/33 -all", "a prefix length other than /0 to /32" },
		{ "v=spf1 ip4:192.0.2.0/024", "a prefix length other than /0 to /32" },
		{ "v=spf1 ip4:192.0.2", "not an IPv4 address" },
		{ "v=spf1 ip4:192.0.2.01", "not an IPv4 address" },
		{ "v=spf1 ip4:256.0.2.1", "not an IPv4 address" },
		{ "v=spf1 ip4", "no address" },
		{ "v=spf1 ip6:2001:db8::/129", "a prefix length other than /0 to /128" },
		{ "v=spf1 ip6:2001:db8:::1", "not an IPv6 address" },
		{ "v=spf1 ip6:192.0.2.1", "not an IPv6 address" },
		{ "v=spf1 a/33", "a prefix length other than /0 to /32" },
		{ "v=spf1 mx//129", "a prefix length other than /0 to /32 (//0 to //128" },
		{ "v=spf1 a:192.0.2.1", "a domain that does not end in a top-level label" },
		{ "v=spf1 mx:localhost", "a domain that does not end in a top-level label" },
		{ "v=spf1 mx:example.org/", "a domain that does not end in a top-level label" },
		{ "v=spf1 a-example.org", "text after the mechanism name" },
		{ "v=spf1 include", "no domain" },
		{ "v=spf1 include:", "an empty domain" },
		{ "v=spf1 exists:%{z}.example.org", "an unknown macro letter" },
		{ "v=spf1 exists:%{d", "a malformed macro" },
		{ "v=spf1 exists:%{d0}.example.org", "a macro that keeps 0 parts" },
		{ "v=spf1 exists:%d.example.org", "a % that starts no macro" },
		{ "v=spf1 a:%{c}.example.org", "macro letter c, r or t outside an explanation" },
		{ "v=spf1 allx", "an unknown mechanism" },
		{ "v=spf1 all:example.org", "text after all" },
		{ "v=spf1 *all", "an unknown mechanism" },
		{ "v=spf1 mx\t-all", "text after the mechanism name" },
		{ "v=spf1 redirect=a.example.org redirect=b.example.org", "a second one" },
		{ "v=spf1 -all exp=a.example.org exp=b.example.org", "a second one" },
		{ "v=spf1 redirect=", "an empty domain" },
		{ "v=spf1 ptr/24", "text after ptr" },
		{ "v=spf1 include=_spf.example.org -all", "is an unknown modifier" },
	};
	char z[1024];
	for (size_t i = 0; i < NELEM(bad); i++) {
		snprintf(z, sizeof z, BASE "@ TXT \"%s\"\n", bad[i].rec);
		const struct res *r = check(z);
		CHECK_INT(r->errs, 1);
		HAS(r, "z:11: SPF record at example.org.: ");
		if (strstr(r->text, bad[i].why) == NULL || r->errs != 1)
			fprintf(stderr, "  for %s: %s", bad[i].rec, r->text);
		HAS(r, bad[i].why);
		HAS(r, "(fix: ");
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
}

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

T(test_dmarc_bad)
{
	static const struct {
		const char *rec, *finding;
		bool warn;
	} bad[] = {
		{ "p=none; v=DMARC1", "does not start with v=DMARC1", false },
		{ "v=dmarc1; p=none", "does not start with v=DMARC1", false },
		{ "hello", "does not start with v=DMARC1", false },
		{ "v=DMARC1", "has no p= tag: receivers that follow RFC 7489 apply no policy", false },
		{ "v=DMARC1; rua=mailto:d@example.org", "has no p= tag", false },
		{ "v=DMARC1; p=nothing", "p=nothing is not valid (fix: p= takes none, "
		    "quarantine or reject)", false },
		{ "v=DMARC1; p=none; sp=all", "sp=all is not valid", false },
		{ "v=DMARC1; p=none; pct=101", "pct=101 is not valid", false },
		{ "v=DMARC1; p=none; pct=", "pct= is not valid", false },
		{ "v=DMARC1; p=none; adkim=x", "adkim=x is not valid", false },
		{ "v=DMARC1; p=none; fo=2", "fo=2 is not valid", false },
		{ "v=DMARC1; p=none; ri=-1", "ri=-1 is not valid", false },
		{ "v=DMARC1; p=none; ri=4294967296", "ri=4294967296 is not valid", false },
		{ "v=DMARC1; p=none; rua=dmarc@example.org", "rua=dmarc@example.org is not valid",
		    false },
		{ "v=DMARC1; p=none; rua=mailto:example.org", "is not valid", false },
		{ "v=DMARC1; p=none; rua=mailto:d@example.org!10x", "is not valid", false },
		{ "v=DMARC1; p=none; ruf=mailto:a@example.org,,mailto:b@example.org",
		    "is not valid", false },
		{ "v=DMARC1; p=none; psd=x", "psd=x is not valid", false },
		{ "v=DMARC1; p=none; t=1", "t=1 is not valid", false },
		{ "v=DMARC1; p=none; p=reject", "tag p= appears twice", false },
		{ "v=DMARC1; p=none;; sp=none", "an empty tag", false },
		{ "v=DMARC1; p=none; sp", "a tag without \"=\"", false },
		{ "v=DMARC1; p=none; foo=bar", "unknown tag foo=, which receivers ignore", true },
	};
	char z[1024];
	for (size_t i = 0; i < NELEM(bad); i++) {
		snprintf(z, sizeof z, BASE "_dmarc TXT \"%s\"\n", bad[i].rec);
		const struct res *r = check(z);
		CHECK_INT(r->errs, bad[i].warn ? 0 : 1);
		CHECK_INT(r->warns, bad[i].warn ? 1 : 0);
		HAS(r, bad[i].finding);
		HAS(r, "z:11: ");
		if (strstr(r->text, bad[i].finding) == NULL)
			fprintf(stderr, "  for %s: %s", bad[i].rec, r->text);
	}
}

T(test_dmarc_p_below_org)
{
	/* a subdomain's record without p: the organization's applies */
	const struct res *r = check(base_plus("_dmarc.sub TXT \"v=DMARC1; rua=mailto:d@example.org\"\n"));
	CHECK_INT(r->errs, 0);
	CHECK_INT(r->warns, 1);
	HAS(r, "DMARC record at _dmarc.sub.example.org. has no p= tag: receivers fall back to");
	CLEAN(check(base_plus("_dmarc.sub TXT \"v=DMARC1; p=reject\"\n")));
}

T(test_dmarc_one_per_name)
{
	const struct res *r = check(base_plus("_dmarc TXT \"v=DMARC1; p=none\"\n"
	    "_dmarc TXT \"v=DMARC1; p=reject\"\n"));
	CHECK_INT(r->errs, 1);
	HAS(r, "more than one DMARC record at _dmarc.example.org.");
}

/* --- DKIM --------------------------------------------------------------------- */

/* the seed's RSA-1024 key */
#define SEED_P "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDorm4fA6kdVeQty3S5LvhjJKp2H7aeKkw+UVP5" \
	"vssEqBUZ/VS0ph7Ou/DF0RxDricc7uGkqc0hxbe5k1pImvWD0p/ga61VM/54kozgiTKZ0yAX9UkdF5o8fC/M" \
	"b1PP5Bm+I9t5I2yyxRzXVTTQOATQEyhhurqWlgIVZv8Y9drBBQIDAQAB"

/* base64 of the SubjectPublicKeyInfo of a fresh RSA key of bits, as TXT
 * strings of at most 200 characters; into out */
static void
rsa_key_txt(unsigned bits, char *out, size_t outsz)
{
	EVP_PKEY *pk = EVP_RSA_gen(bits);
	unsigned char *der = NULL;
	int dl = pk ? i2d_PUBKEY(pk, &der) : -1;
	if (dl <= 0)
		abort();
	unsigned char *b64 = xmalloc((size_t)dl * 2 + 4);
	int bl = EVP_EncodeBlock(b64, der, dl);
	size_t o = 0;
	for (int i = 0; i < bl; i += 200)
		o += (size_t)snprintf(out + o, outsz - o, "\"%.*s\" ", bl - i < 200 ? bl - i : 200,
		    (const char *)b64 + i);
	free(b64);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
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
	 * selector of two labels */
	CLEAN(check(base_plus("s1.2024._domainkey TXT \"p=" SEED_P "  ; t=s; h=sha256\"\n")));
	CLEAN(check(base_plus("s._domainkey TXT \"v=DKIM1; p=MIGfMA0GCSqGSIb3DQEB AQUAA4GNADCBiQKBg"
	    "QDorm4fA6kdVeQty3S5LvhjJKp2H7aeKkw+UVP5vssEqBUZ/VS0ph7Ou/DF0RxDricc7uGkqc0hxbe5k1pImvW"
	    "D0p/ga61VM/54kozgiTKZ0yAX9UkdF5o8fC/Mb1PP5Bm+I9t5I2yyxRzXVTTQOATQEyhhurqWlgIVZv8Y9drBBQ"
	    "IDAQAB\"\n")));
	rsa_key_txt(2048, key, sizeof key);
	snprintf(z, sizeof z, BASE "k2048._domainkey TXT \"v=DKIM1; k=rsa; p=\" %s\n", key);
	r = check(z);
	CLEAN(r);
	CHECK(strstr(r->ok, "(rsa, 2048 bits)") != NULL);
	/* RFC 8463: a raw 32-byte Ed25519 key */
	r = check(base_plus("ed._domainkey TXT \"v=DKIM1; k=ed25519; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"));
	CLEAN(r);
	CHECK(strstr(r->ok, "ok: DKIM key at ed._domainkey.example.org. (ed25519)\n") != NULL);
}

T(test_dkim_bad)
{
	static const struct {
		const char *rec, *finding;
		bool warn;
	} bad[] = {
		{ "k=rsa; v=DKIM1; p=" SEED_P, "v=DKIM1 is not the first tag", false },
		{ "v=DKIM2; p=" SEED_P, "v=DKIM2 is not DKIM1", false },
		{ "v=DKIM1; k=rsa", "has no p= tag", false },
		{ "v=DKIM1; k=rsa; p=", "is revoked (empty p=)", true },
		{ "v=DKIM1; k=dsa; p=" SEED_P, "key type k=dsa is unknown", false },
		{ "v=DKIM1; p=MIGf!", "p= is not valid base64", false },
		{ "v=DKIM1; p=MIGfMA0", "p= is not valid base64", false },
		{ "v=DKIM1; p=MQ==MQ==", "p= is not valid base64", false },
		{ "v=DKIM1; p=aGVsbG8gd29ybGQ=", "p= is not an RSA public key in DER "
		    "SubjectPublicKeyInfo form", false },
		{ "v=DKIM1; k=ed25519; p=" SEED_P, "an ed25519 p= must hold the 32-byte key", false },
		/* two strings: one may hold 255 bytes */
		{ "v=DKIM1; p=" SEED_P "\" \"; p=" SEED_P, "tag p= appears twice", false },
		{ "v=DKIM1; =x; p=" SEED_P, "a tag name that does not start with a letter", false },
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
	RUN(test_dmarc_p_below_org);
	RUN(test_dmarc_one_per_name);
	RUN(test_dkim_valid);
	RUN(test_dkim_bad);
	RUN(test_dkim_rsa_too_short);
	RUN(test_dkim_only_at_selector_names);
	RUN(test_occluded_names_not_checked);
	RUN(test_seed_outage_mname_and_apex_a);
	return t_done("dns_zcheck");
}

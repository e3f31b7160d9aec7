/*
 * tests/unit/test_dmarc.c - DMARC records, selection, discovery, org
 * domains, alignment, evaluation and From: domains (msgauth/dmarc.h),
 * and our evaluation against python3-authheaders' verdicts recorded in
 * tests/data/dmarc/oracle.txt (made by tests/data/dmarc/make_oracle.py).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/dmarc.h"
#include "t.h"

static int
parse(const char *txt, struct dmarc_record *r)
{
	char err[120];
	return dmarc_record_parse(txt, strlen(txt), r, err, sizeof err);
}

/* --- records ------------------------------------------------------------ */

T(test_record_rfc_examples)
{
	struct dmarc_record r;

	/* RFC 7489 B.2.1 */
	CHECK_INT(parse("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com", &r), 0);
	CHECK_INT(r.p, DMARC_P_NONE);
	CHECK_INT(r.sp, DMARC_P_NONE);
	CHECK_STR(r.rua, "mailto:dmarc-feedback@example.com");
	CHECK_INT(r.adkim, 'r');
	CHECK_INT(r.aspf, 'r');
	CHECK_INT(r.pct, 100);
	CHECK_STR(r.fo, "0");
	CHECK_INT(r.ri, 86400);
	CHECK_STR(r.ruf, "");
	CHECK(!r.p_assumed);
	/* B.2.3 */
	CHECK_INT(parse("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; "
	    "ruf=mailto:auth-reports@thirdparty.example.net", &r), 0);
	CHECK_STR(r.ruf, "mailto:auth-reports@thirdparty.example.net");
	/* B.2.4 */
	CHECK_INT(parse("v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,"
	    "mailto:tld-test@thirdparty.example.net!10m; pct=25", &r), 0);
	CHECK_INT(r.p, DMARC_P_QUARANTINE);
	CHECK_INT(r.sp, DMARC_P_QUARANTINE);
	CHECK_INT(r.pct, 25);
	CHECK_STR(r.rua, "mailto:dmarc-feedback@example.com,"
	    "mailto:tld-test@thirdparty.example.net!10m");
	CHECK_INT(parse("v=DMARC1; p=reject; sp=none; adkim=s; aspf=s; fo=1:d; ri=3600", &r), 0);
	CHECK_INT(r.p, DMARC_P_REJECT);
	CHECK_INT(r.sp, DMARC_P_NONE);
	CHECK_INT(r.adkim, 's');
	CHECK_INT(r.aspf, 's');
	CHECK_STR(r.fo, "1:d");
	CHECK_INT(r.ri, 3600);
}

T(test_record_bad_tags)
{
	struct dmarc_record r;
	char err[120];

	/* unknown tags and shapeless pieces are ignored */
	CHECK_INT(parse("v=DMARC1; p=reject; foo=bar; np=none; junk; =x; 9a=1", &r), 0);
	CHECK_INT(r.p, DMARC_P_REJECT);
	/* bad p: invalid ... */
	CHECK_INT(dmarc_record_parse("v=DMARC1; p=bogus", 17, &r, err, sizeof err), -1);
	CHECK(strstr(err, "p=") != NULL);
	CHECK_INT(parse("v=DMARC1; sp=reject", &r), -1);
	CHECK_INT(parse("v=DMARC1", &r), -1);
	CHECK_INT(parse("v=DMARC1; p=reject; sp=maybe", &r), -1);
	CHECK_INT(parse("v=DMARC1; p=reject; p=none", &r), -1);	/* which one? */
	CHECK_INT(parse("v=DMARC1; p=", &r), -1);
	/* ... unless rua has a valid URI (RFC 7489 6.6.3): then p=none */
	CHECK_INT(parse("v=DMARC1; p=bogus; rua=mailto:d@example.com", &r), 0);
	CHECK_INT(r.p, DMARC_P_NONE);
	CHECK_INT(r.sp, DMARC_P_NONE);
	CHECK(r.p_assumed);
	CHECK_INT(parse("v=DMARC1; rua=mailto:d@example.com; sp=reject", &r), 0);
	CHECK_INT(r.sp, DMARC_P_NONE);
	CHECK_INT(parse("v=DMARC1; p=reject; sp=bad; rua=mailto:d@example.com", &r), 0);
	CHECK_INT(r.p, DMARC_P_NONE);
	CHECK_INT(parse("v=DMARC1; rua=notauri", &r), -1);
	CHECK_INT(parse("v=DMARC1; rua=mailto:nobody", &r), -1);
	CHECK_INT(parse("v=DMARC1; rua=x, mailto:a@b.example!20k", &r), 0);
	/* other bad values fall back to the defaults */
	CHECK_INT(parse("v=DMARC1; p=reject; adkim=x; aspf=strict; fo=2; ri=soon", &r), 0);
	CHECK_INT(r.adkim, 'r');
	CHECK_INT(r.aspf, 'r');
	CHECK_STR(r.fo, "0");
	CHECK_INT(r.ri, 86400);
	/* later copies of other tags are dropped */
	CHECK_INT(parse("v=DMARC1; p=reject; adkim=s; adkim=r", &r), 0);
	CHECK_INT(r.adkim, 's');
	/* a NUL or control byte inside p= */
	CHECK_INT(dmarc_record_parse("v=DMARC1; p=re\0ject", 19, &r, err, sizeof err), -1);
	CHECK_INT(parse("v=DMARC1; p=re\x01ject", &r), -1);
}

T(test_record_pct)
{
	static const struct { const char *txt; unsigned pct; } cases[] = {
		{ "v=DMARC1; p=reject; pct=0", 0 },
		{ "v=DMARC1; p=reject; pct=100", 100 },
		{ "v=DMARC1; p=reject; pct=50", 50 },
		{ "v=DMARC1; p=reject; pct=050", 50 },
		{ "v=DMARC1; p=reject; pct=101", 100 },
		{ "v=DMARC1; p=reject; pct=-1", 100 },
		{ "v=DMARC1; p=reject; pct=", 100 },
		{ "v=DMARC1; p=reject; pct=5.5", 100 },
		{ "v=DMARC1; p=reject; pct=99999999999999999999", 100 },
		{ "v=DMARC1; p=reject; pct = 7 ", 7 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dmarc_record r;
		CHECK_INT(parse(cases[i].txt, &r), 0);
		CHECK_INT(r.pct, cases[i].pct);
	}
}

T(test_record_version_first)
{
	struct dmarc_record r;

	CHECK_INT(parse("p=reject; v=DMARC1", &r), -1);
	CHECK_INT(parse(" v=DMARC1; p=reject", &r), -1);
	CHECK_INT(parse("v=dmarc1; p=reject", &r), -1);
	CHECK_INT(parse("v=DMARC10; p=reject", &r), -1);
	CHECK_INT(parse("v=DMARC1 p=reject", &r), -1);
	CHECK_INT(parse("v=DMARC2; p=reject", &r), -1);
	CHECK_INT(parse("", &r), -1);
	CHECK(!dmarc_record_is_dmarc("v=spf1 -all", 11));
	CHECK(dmarc_record_is_dmarc("V = DMARC1 ;p=reject", 20));
	CHECK_INT(parse("V = DMARC1 ;p=reject", &r), 0);
}

T(test_record_whitespace_case)
{
	struct dmarc_record r;

	CHECK_INT(parse("v=DMARC1 ;  p = reject ;\tsp= none ; adkim =s;", &r), 0);
	CHECK_INT(r.p, DMARC_P_REJECT);
	CHECK_INT(r.sp, DMARC_P_NONE);
	CHECK_INT(r.adkim, 's');
	CHECK_INT(parse("v=DMARC1;;p=Quarantine;;SP=REJECT;ASPF=S;FO=D : S", &r), 0);
	CHECK_INT(r.p, DMARC_P_QUARANTINE);
	CHECK_INT(r.sp, DMARC_P_REJECT);
	CHECK_INT(r.aspf, 's');
	CHECK_STR(r.fo, "d:s");
	/* a zone-file string split over lines */
	CHECK_INT(parse("v=DMARC1;\r\n p=reject;\r\n rua=mailto:a@example.com\r\n", &r), 0);
	CHECK_STR(r.rua, "mailto:a@example.com");
}

T(test_record_long_rua)
{
	struct dmarc_record r;
	char txt[1400];
	int o = snprintf(txt, sizeof txt, "v=DMARC1; p=none; rua=");
	for (int i = 0; i < 20; i++)
		o += snprintf(txt + o, sizeof txt - (size_t)o, "%smailto:reports%02d@example.com",
		    i ? "," : "", i);
	CHECK_INT(parse(txt, &r), 0);
	/* cut after the last whole URI that fits */
	CHECK(strlen(r.rua) < sizeof r.rua);
	size_t l = strlen(r.rua);
	CHECK(l > 400);
	CHECK(strcmp(r.rua + l - 11, "example.com") == 0);
}

/* --- selection and discovery -------------------------------------------- */

static void
txt_add(struct lookup *l, const char *s)
{
	lookup_add(l, 0, s, strlen(s));
}

T(test_select)
{
	struct lookup l;
	struct dmarc_record r;
	char why[120];

	lookup_init(&l, LOOKUP_TXT, "_dmarc.example.com");
	CHECK_INT(dmarc_select(&l, &r, why, sizeof why), 0);	/* NODATA */
	txt_add(&l, "v=spf1 -all");
	txt_add(&l, "google-site-verification=abc");
	CHECK_INT(dmarc_select(&l, &r, why, sizeof why), 0);
	txt_add(&l, "v=DMARC1; p=reject");
	CHECK_INT(dmarc_select(&l, &r, why, sizeof why), 1);	/* others ignored */
	CHECK_INT(r.p, DMARC_P_REJECT);
	txt_add(&l, "v=DMARC1; p=none");
	CHECK_INT(dmarc_select(&l, &r, why, sizeof why), 0);	/* two: none */
	CHECK(strstr(why, "several") != NULL);
	lookup_clear(&l);
	txt_add(&l, "v=DMARC1; p=bogus");
	CHECK_INT(dmarc_select(&l, &r, why, sizeof why), 0);	/* the one is invalid */
	lookup_clear(&l);
	l.status = LOOKUP_TEMPFAIL;
	l.why = "timeout";
	CHECK_INT(dmarc_select(&l, &r, why, sizeof why), -1);
	CHECK_STR(why, "timeout");
	l.status = LOOKUP_OK;
	l.sec = LOOKUP_BOGUS;
	txt_add(&l, "v=DMARC1; p=none");
	CHECK_INT(dmarc_select(&l, &r, why, sizeof why), -1);
	lookup_clear(&l);
	l.sec = LOOKUP_INSECURE;
	l.status = LOOKUP_NXDOMAIN;
	CHECK_INT(dmarc_select(&l, &r, why, sizeof why), 0);
	CHECK_INT(dmarc_select(NULL, &r, why, sizeof why), 0);
	lookup_clear(&l);
}

static void
put_txt(struct lookup_set *s, const char *name, enum lookup_status st, const char *rec1,
    const char *rec2)
{
	struct lookup l;
	lookup_init(&l, LOOKUP_TXT, name);
	l.status = st;
	if (rec1)
		txt_add(&l, rec1);
	if (rec2)
		txt_add(&l, rec2);
	lookup_set_put(s, &l);
	lookup_clear(&l);
}

T(test_discover)
{
	struct lookup_set *s = lookup_set_new();
	struct dmarc_record r;
	char need[LOOKUP_NAME_MAX + 1], why[120];
	bool at_org;

	CHECK_INT(dmarc_discover(s, "Mail.Example.COM.", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_ASK);
	CHECK_STR(need, "_dmarc.mail.example.com");
	put_txt(s, "_dmarc.mail.example.com", LOOKUP_NXDOMAIN, NULL, NULL);
	CHECK_INT(dmarc_discover(s, "mail.example.com", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_ASK);
	CHECK_STR(need, "_dmarc.example.com");
	put_txt(s, "_dmarc.example.com", LOOKUP_OK, "v=DMARC1; p=quarantine; sp=reject", NULL);
	CHECK_INT(dmarc_discover(s, "mail.example.com", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_FOUND);
	CHECK(at_org);
	CHECK_INT(r.sp, DMARC_P_REJECT);
	/* the org domain itself: found at the From domain */
	CHECK_INT(dmarc_discover(s, "example.com", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_FOUND);
	CHECK(!at_org);
	/* several records at the From domain end discovery: no org lookup */
	put_txt(s, "_dmarc.two.example.com", LOOKUP_OK, "v=DMARC1; p=none", "v=DMARC1; p=none");
	CHECK_INT(dmarc_discover(s, "two.example.com", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_NONE);
	/* so does an invalid one (6.6.3 step 6) */
	put_txt(s, "_dmarc.bad.example.com", LOOKUP_OK, "v=DMARC1; p=nope", NULL);
	CHECK_INT(dmarc_discover(s, "bad.example.com", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_NONE);
	/* a TXT that is not DMARC: the set is empty, go on */
	put_txt(s, "_dmarc.spf.example.com", LOOKUP_OK, "v=spf1 -all", NULL);
	CHECK_INT(dmarc_discover(s, "spf.example.com", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_FOUND);
	CHECK(at_org);
	/* temporary failures at either step */
	put_txt(s, "_dmarc.tmp.example.com", LOOKUP_TEMPFAIL, NULL, NULL);
	CHECK_INT(dmarc_discover(s, "tmp.example.com", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_TEMPFAIL);
	put_txt(s, "_dmarc.x.example.net", LOOKUP_OK, NULL, NULL);
	put_txt(s, "_dmarc.example.net", LOOKUP_TEMPFAIL, NULL, NULL);
	CHECK_INT(dmarc_discover(s, "x.example.net", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_TEMPFAIL);
	/* nothing anywhere */
	put_txt(s, "_dmarc.example.org", LOOKUP_NXDOMAIN, NULL, NULL);
	CHECK_INT(dmarc_discover(s, "example.org", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_NONE);
	CHECK_INT(dmarc_discover(s, "bad..name", &r, &at_org, need, why, sizeof why),
	    DMARC_DISC_NONE);
	lookup_set_free(&s);
}

/* --- domains ------------------------------------------------------------ */

T(test_org_domain)
{
	static const struct { const char *in, *org; } cases[] = {
		{ "example.com", "example.com" },
		{ "mail.example.com", "example.com" },
		{ "a.b.example.co.uk", "example.co.uk" },
		{ "Example.CO.UK.", "example.co.uk" },
		{ "co.uk", "co.uk" },		/* a public suffix is its own */
		{ "com", "com" },
		{ "a.b.c.d.example.org", "example.org" },
		{ "www.bücher.de", "xn--bcher-kva.de" },
		{ "xn--bcher-kva.de", "xn--bcher-kva.de" },
		{ "mail.münchen.de", "xn--mnchen-3ya.de" },
	};
	char out[256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK(dmarc_org_domain(cases[i].in, out, sizeof out));
		CHECK_STR(out, cases[i].org);
	}
	CHECK(!dmarc_org_domain("", out, sizeof out));
	CHECK(!dmarc_org_domain("a..b", out, sizeof out));
	CHECK(!dmarc_org_domain("-a.example", out, sizeof out));
	CHECK(!dmarc_org_domain("a b.example", out, sizeof out));
	CHECK(!dmarc_org_domain("\xff.example", out, sizeof out));
	CHECK(!dmarc_org_domain("example.com", out, 5));
}

T(test_query_names)
{
	char q[2][LOOKUP_NAME_MAX + 1];

	CHECK(dmarc_query_names("Mail.Example.com", q));
	CHECK_STR(q[0], "_dmarc.mail.example.com");
	CHECK_STR(q[1], "_dmarc.example.com");
	CHECK(dmarc_query_names("example.com.", q));
	CHECK_STR(q[0], "_dmarc.example.com");
	CHECK_STR(q[1], "");
	CHECK(dmarc_query_names("www.bücher.de", q));
	CHECK_STR(q[0], "_dmarc.www.xn--bcher-kva.de");
	CHECK_STR(q[1], "_dmarc.xn--bcher-kva.de");
	CHECK(!dmarc_query_names("a..example", q));
	/* 253 octets: valid, but "_dmarc." does not fit in a query */
	char longname[260];
	memset(longname, 'a', 253);
	for (int i = 63; i < 253; i += 64)
		longname[i] = '.';
	longname[253] = '\0';
	CHECK(!dmarc_query_names(longname, q));
}

T(test_aligned)
{
	static const struct { const char *a, *b; char mode; bool al; } cases[] = {
		{ "example.com", "example.com", 'r', true },
		{ "example.com", "example.com", 's', true },
		{ "EXAMPLE.com", "example.COM.", 's', true },
		{ "mail.example.com", "example.com", 'r', true },
		{ "mail.example.com", "example.com", 's', false },
		{ "a.example.com", "b.example.com", 'r', true },
		{ "a.example.com", "b.example.com", 's', false },
		{ "example.com", "example.net", 'r', false },
		{ "example.co.uk", "other.co.uk", 'r', false },	/* the suffix is not org */
		{ "a.example.co.uk", "b.example.co.uk", 'r', true },
		{ "co.uk", "example.co.uk", 'r', false },
		{ "badexample.com", "example.com", 'r', false },
		{ "bücher.de", "xn--bcher-kva.de", 's', true },
		{ "mail.bücher.de", "xn--bcher-kva.de", 'r', true },
		{ "example.com", "example.com", 'x', false },
		{ "", "example.com", 'r', false },
		{ "a..b", "a..b", 's', false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (dmarc_aligned(cases[i].a, cases[i].b, cases[i].mode) != cases[i].al)
			fprintf(stderr, "case %zu: %s %s %c\n", i, cases[i].a, cases[i].b,
			    cases[i].mode);
		CHECK(dmarc_aligned(cases[i].a, cases[i].b, cases[i].mode) == cases[i].al);
	}
	CHECK(!dmarc_aligned(NULL, "example.com", 'r'));
}

/* --- evaluation --------------------------------------------------------- */

struct evcase {
	const char *name, *from, *rec;
	int lookup;
	bool at_org;
	const char *spf;
	bool spf_pass;
	const char *d1;
	bool d1_pass;
	const char *d2;
	bool d2_pass;
	unsigned sample;
	enum dmarc_res res;
	enum dmarc_policy policy, disp;
	bool spf_al, dkim_al;
	const char *why;	/* a part of the reason, or NULL */
};

#define PR DMARC_R_PASS
#define FL DMARC_R_FAIL
#define NO_ DMARC_P_NONE
#define QU DMARC_P_QUARANTINE
#define RE DMARC_P_REJECT
#define UN DMARC_P_UNSET

static const struct evcase EV[] = {
	{ "both aligned", "example.com", "v=DMARC1; p=reject", 1, false, "example.com", true,
	  "example.com", true, NULL, false, 0, PR, RE, NO_, true, true, "DKIM aligned" },
	{ "nothing aligned", "example.com", "v=DMARC1; p=reject", 1, false, "evil.example", true,
	  "evil.example", true, NULL, false, 0, FL, RE, RE, false, false,
	  "no aligned SPF or DKIM pass" },
	{ "spf only relaxed", "example.com", "v=DMARC1; p=reject", 1, false,
	  "bounces.example.com", true, NULL, false, NULL, false, 0, PR, RE, NO_, true, false,
	  "SPF aligned (bounces.example.com)" },
	{ "spf only strict", "example.com", "v=DMARC1; p=reject; aspf=s", 1, false,
	  "bounces.example.com", true, NULL, false, NULL, false, 0, FL, RE, RE, false, false,
	  NULL },
	{ "spf failed", "example.com", "v=DMARC1; p=quarantine", 1, false, "example.com", false,
	  NULL, false, NULL, false, 0, FL, QU, QU, false, false, NULL },
	{ "dkim only relaxed", "news.example.com", "v=DMARC1; p=reject", 1, false,
	  "other.example", true, "example.com", true, NULL, false, 0, PR, RE, NO_, false, true,
	  "DKIM aligned (example.com)" },
	{ "dkim only strict", "news.example.com", "v=DMARC1; p=reject; adkim=s", 1, false,
	  NULL, false, "example.com", true, NULL, false, 0, FL, RE, RE, false, false, NULL },
	{ "dkim strict equal", "news.example.com", "v=DMARC1; p=reject; adkim=s", 1, false,
	  NULL, false, "News.Example.com", true, NULL, false, 0, PR, RE, NO_, false, true,
	  NULL },
	{ "dkim aligned but failed", "example.com", "v=DMARC1; p=reject", 1, false, NULL, false,
	  "example.com", false, NULL, false, 0, FL, RE, RE, false, false, NULL },
	{ "two sigs one aligned", "example.com", "v=DMARC1; p=reject", 1, false, NULL, false,
	  "esp.example", true, "mail.example.com", true, 0, PR, RE, NO_, false, true,
	  "DKIM aligned (mail.example.com)" },
	{ "two sigs aligned one failed", "example.com", "v=DMARC1; p=reject", 1, false, NULL,
	  false, "example.com", false, "esp.example", true, 0, FL, RE, RE, false, false, NULL },
	{ "subdomain sp via org", "mail.example.com", "v=DMARC1; p=reject; sp=quarantine", 1,
	  true, NULL, false, NULL, false, NULL, false, 0, FL, QU, QU, false, false, NULL },
	{ "subdomain sp absent", "mail.example.com", "v=DMARC1; p=reject", 1, true, NULL,
	  false, NULL, false, NULL, false, 0, FL, RE, RE, false, false, NULL },
	{ "p at from domain itself", "mail.example.com", "v=DMARC1; p=none; sp=reject", 1,
	  false, NULL, false, NULL, false, NULL, false, 0, FL, NO_, NO_, false, false, NULL },
	{ "org flag on org domain", "example.com", "v=DMARC1; p=reject; sp=none", 1, true,
	  NULL, false, NULL, false, NULL, false, 0, FL, RE, RE, false, false, NULL },
	{ "pct applied", "example.com", "v=DMARC1; p=reject; pct=30", 1, false, NULL, false,
	  NULL, false, NULL, false, 29, FL, RE, RE, false, false, NULL },
	{ "pct sampled out reject", "example.com", "v=DMARC1; p=reject; pct=30", 1, false,
	  NULL, false, NULL, false, NULL, false, 30, FL, RE, QU, false, false, "pct=30" },
	{ "pct sampled out quarantine", "example.com", "v=DMARC1; p=quarantine; pct=30", 1,
	  false, NULL, false, NULL, false, NULL, false, 99, FL, QU, NO_, false, false, NULL },
	{ "pct 0", "example.com", "v=DMARC1; p=reject; pct=0", 1, false, NULL, false, NULL,
	  false, NULL, false, 0, FL, RE, QU, false, false, NULL },
	{ "pct 100 sample 99", "example.com", "v=DMARC1; p=reject", 1, false, NULL, false,
	  NULL, false, NULL, false, 99, FL, RE, RE, false, false, NULL },
	{ "sample above 99", "example.com", "v=DMARC1; p=reject", 1, false, NULL, false, NULL,
	  false, NULL, false, 1000, FL, RE, RE, false, false, NULL },
	{ "pass ignores pct", "example.com", "v=DMARC1; p=reject; pct=0", 1, false,
	  "example.com", true, NULL, false, NULL, false, 50, PR, RE, NO_, true, false, NULL },
	{ "temperror", "example.com", NULL, -1, false, "example.com", true, NULL, false, NULL,
	  false, 0, DMARC_R_TEMPERROR, UN, NO_, false, false, NULL },
	{ "no record", "example.com", NULL, 0, false, "example.com", true, NULL, false, NULL,
	  false, 0, DMARC_R_NONE, UN, NO_, false, false, "no DMARC record" },
	{ "no from", NULL, "v=DMARC1; p=reject", 1, false, NULL, false, NULL, false, NULL,
	  false, 0, DMARC_R_PERMERROR, UN, NO_, false, false, NULL },
	{ "bad from", "exa mple.com", "v=DMARC1; p=reject", 1, false, NULL, false, NULL, false,
	  NULL, false, 0, DMARC_R_PERMERROR, UN, NO_, false, false, NULL },
	{ "psl boundary", "example.co.uk", "v=DMARC1; p=reject", 1, false, "other.co.uk",
	  true, "co.uk", true, NULL, false, 0, FL, RE, RE, false, false, NULL },
	{ "idn from, a-label d=", "bücher.de", "v=DMARC1; p=reject; adkim=s", 1, false, NULL,
	  false, "xn--bcher-kva.de", true, NULL, false, 0, PR, RE, NO_, false, true, NULL },
	{ "rua rule p=none", "example.com", "v=DMARC1; p=typo; rua=mailto:d@example.com", 1,
	  false, NULL, false, NULL, false, NULL, false, 0, FL, NO_, NO_, false, false, NULL },
};

T(test_evaluate_table)
{
	for (size_t i = 0; i < sizeof EV / sizeof EV[0]; i++) {
		const struct evcase *c = &EV[i];
		struct dmarc_dkim dk[2] = { { c->d1, c->d1_pass }, { c->d2, c->d2_pass } };
		struct dmarc_input in = {
			.from_domain = c->from, .lookup = c->lookup, .rec_at_org = c->at_org,
			.spf_domain = c->spf, .spf_pass = c->spf_pass, .dkim = dk,
			.n_dkim = c->d2 ? 2 : c->d1 ? 1 : 0, .sample = c->sample,
		};
		struct dmarc_outcome o;
		if (c->rec != NULL && c->lookup == 1)
			CHECK_INT(parse(c->rec, &in.rec), 0);
		dmarc_evaluate(&in, &o);
		int bad = t_cur_failed;
		t_cur_failed = 0;
		CHECK_INT(o.res, c->res);
		CHECK_INT(o.policy, c->policy);
		CHECK_INT(o.disposition, c->disp);
		CHECK_INT(o.spf_aligned, c->spf_al);
		CHECK_INT(o.dkim_aligned, c->dkim_al);
		if (c->why != NULL)
			CHECK(strstr(o.why, c->why) != NULL);
		if (t_cur_failed)
			fprintf(stderr, "  in case \"%s\" (why: %s)\n", c->name, o.why);
		t_cur_failed |= bad;
	}
}

T(test_evaluate_hand_record)
{
	/* a record built by hand with zero modes: the defaults (relaxed) */
	struct dmarc_input in = { .from_domain = "example.com", .lookup = 1,
		.spf_domain = "mail.example.com", .spf_pass = true };
	struct dmarc_outcome o;
	in.rec.p = DMARC_P_REJECT;
	in.rec.pct = 100;
	dmarc_evaluate(&in, &o);
	CHECK_INT(o.res, DMARC_R_PASS);
}

T(test_stricter)
{
	struct dmarc_outcome a = { .res = DMARC_R_FAIL, .disposition = DMARC_P_QUARANTINE };
	struct dmarc_outcome b = { .res = DMARC_R_FAIL, .disposition = DMARC_P_REJECT };
	struct dmarc_outcome c = { .res = DMARC_R_PASS, .disposition = DMARC_P_NONE };
	struct dmarc_outcome d = { .res = DMARC_R_TEMPERROR, .disposition = DMARC_P_NONE };
	CHECK(dmarc_outcome_stricter(&b, &a));
	CHECK(!dmarc_outcome_stricter(&a, &b));
	CHECK(dmarc_outcome_stricter(&a, &c));
	CHECK(dmarc_outcome_stricter(&d, &c));
	CHECK(!dmarc_outcome_stricter(&c, &c));
	CHECK_STR(dmarc_res_name(DMARC_R_TEMPERROR), "temperror");
	CHECK_STR(dmarc_res_name(DMARC_R_PERMERROR), "permerror");
	CHECK_STR(dmarc_res_name(DMARC_R_NONE), "none");
}

/* --- From: -------------------------------------------------------------- */

static int
from(const char *v, char (*dom)[256], size_t max)
{
	return dmarc_from_domains(v, strlen(v), dom, max);
}

T(test_from_domains)
{
	static const struct { const char *v; int n; const char *d0, *d1; } cases[] = {
		{ "user@example.com", 1, "example.com", NULL },
		{ " User@Example.COM ", 1, "example.com", NULL },
		{ "John Doe <jdoe@Example.com>", 1, "example.com", NULL },
		{ "\"Doe, John\" <jdoe@example.com>", 1, "example.com", NULL },
		{ "\"Doe, John <x@evil.example>\" <jdoe@example.com>", 1, "example.com", NULL },
		{ "\"a\\\"b, c\" <x@example.com>", 1, "example.com", NULL },
		{ "jdoe@example.com (John Doe)", 1, "example.com", NULL },
		{ "(x@evil.example) jdoe@example.com", 1, "example.com", NULL },
		{ "John (the (nested) one) <jdoe@example.com>", 1, "example.com", NULL },
		{ "a@example.com, b@example.com", 1, "example.com", NULL },
		{ "a@example.com, B <b@Example.org>", 2, "example.com", "example.org" },
		{ "Friends: a@example.com, b@example.net;", 2, "example.com", "example.net" },
		{ "undisclosed-recipients:;", 0, NULL, NULL },
		{ "Group: ;, c@example.com", 1, "example.com", NULL },
		{ "a@example.com,,b@example.net,", 2, "example.com", "example.net" },
		{ "<@relay.example:user@example.com>", 1, "example.com", NULL },
		{ "Joe Q. Public <john.q.public@example.com>", 1, "example.com", NULL },
		{ "john . q . public @ example . com", 1, "example.com", NULL },
		{ "\"quoted local\"@example.com", 1, "example.com", NULL },
		{ "user@example.com.", 1, "example.com", NULL },
		{ "Jörg <jörg@bücher.de>", 1, "bücher.de", NULL },
		{ "=?utf-8?q?J=C3=B6rg?= <j@example.de>", 1, "example.de", NULL },
		{ "user@[192.0.2.1]", -1, NULL, NULL },
		{ "", -1, NULL, NULL },
		{ "   ", -1, NULL, NULL },
		{ "just a name", -1, NULL, NULL },
		{ "user@", -1, NULL, NULL },
		{ "@example.com", -1, NULL, NULL },
		{ "<>", -1, NULL, NULL },
		{ "a <b@example.com", -1, NULL, NULL },
		{ "\"unterminated <a@example.com>", -1, NULL, NULL },
		{ "(unterminated a@example.com", -1, NULL, NULL },
		{ "a@example..com", -1, NULL, NULL },
		{ "a@-example.com", -1, NULL, NULL },
		{ "a@exa#mple.com", -1, NULL, NULL },
		{ "a@b@example.com", -1, NULL, NULL },
		{ "x@evil.example <a@example.com>", -1, NULL, NULL },
		{ "G1: G2: a@example.com;;", -1, NULL, NULL },
		{ "a@\xff\xfe.example", -1, NULL, NULL },
	};
	char dom[4][256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int n = from(cases[i].v, dom, 4);
		if (n != cases[i].n)
			fprintf(stderr, "case %zu: \"%s\" -> %d\n", i, cases[i].v, n);
		CHECK_INT(n, cases[i].n);
		if (n >= 1 && cases[i].d0)
			CHECK_STR(dom[0], cases[i].d0);
		if (n >= 2 && cases[i].d1)
			CHECK_STR(dom[1], cases[i].d1);
	}
}

T(test_from_limits)
{
	char dom[2][256];
	char buf[200];

	/* more distinct domains than the caller evaluates: refused */
	CHECK_INT(from("a@x.example, b@y.example, c@z.example", dom, 2), -1);
	CHECK_INT(from("a@x.example, b@x.example, c@y.example", dom, 2), 2);
	/* a NUL is not part of any address */
	CHECK_INT(dmarc_from_domains("a@example.com\0b", 15, dom, 2), -1);
	/* comments nest 32 deep, not 33 */
	memset(buf, 0, sizeof buf);
	for (int i = 0; i < 32; i++)
		buf[i] = '(';
	memset(buf + 32, ')', 32);
	strcat(buf, " a@example.com");
	CHECK_INT(from(buf, dom, 2), 1);
	memmove(buf + 1, buf, strlen(buf) + 1);
	buf[0] = '(';
	memmove(buf + 34, buf + 33, strlen(buf + 33) + 1);
	buf[33] = ')';
	CHECK_INT(from(buf, dom, 2), -1);
	/* a domain longer than 255 */
	char big[400] = "a@";
	for (int i = 0; i < 5; i++)
		strcat(big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	strcat(big, "example");
	CHECK_INT(from(big, dom, 2), -1);
}

/* --- oracle ------------------------------------------------------------- */

/* split s at " | " into at most n fields; "-" is NULL */
static int
split(char *s, char **f, int n)
{
	int k = 0;
	while (k < n) {
		char *sep = strstr(s, " | ");
		f[k++] = strcmp(s, "-") == 0 ? NULL : s;
		if (sep == NULL)
			break;
		*sep = '\0';
		s = sep + 3;
	}
	if (k > 0 && f[k - 1] != NULL)
		f[k - 1][strcspn(f[k - 1], "\n")] = '\0';
	if (k > 0 && f[k - 1] != NULL && strcmp(f[k - 1], "-") == 0)
		f[k - 1] = NULL;
	return k;
}

/* One oracle row through discovery and evaluation as the policy process
 * would do it; false (with a message) when we disagree. */
static bool
oracle_row(char **f, int nf, int line)
{
	char q[2][LOOKUP_NAME_MAX + 1], need[LOOKUP_NAME_MAX + 1], why[120];
	struct lookup_set *s = lookup_set_new();
	struct dmarc_input in = { .from_domain = f[0], .spf_domain = f[3],
		.spf_pass = f[4] && strcmp(f[4], "pass") == 0 };
	struct dmarc_dkim dk = { f[5], f[6] && strcmp(f[6], "pass") == 0 };
	struct dmarc_outcome o;
	bool ok = true;

	if (!dmarc_query_names(f[0], q)) {
		lookup_set_free(&s);
		return false;
	}
	for (int k = 0; k < 2; k++) {
		if (q[k][0] == '\0')
			continue;
		put_txt(s, q[k], LOOKUP_OK, f[1 + k], NULL);
	}
	enum dmarc_disc d = dmarc_discover(s, f[0], &in.rec, &in.rec_at_org, need, why,
	    sizeof why);
	in.lookup = d == DMARC_DISC_FOUND ? 1 : d == DMARC_DISC_TEMPFAIL ? -1 : 0;
	in.dkim = f[5] ? &dk : NULL;
	in.n_dkim = f[5] ? 1 : 0;
	dmarc_evaluate(&in, &o);
	const char *want_policy = nf >= 10 && f[9] ? f[9] + 4 : f[8] ? f[8] : "";
	if (d == DMARC_DISC_ASK || strcmp(dmarc_res_name(o.res), f[7]) != 0 ||
	    strcmp(dmarc_policy_name(o.policy), want_policy) != 0) {
		fprintf(stderr, "oracle.txt:%d: %s: we say %s/%s, expected %s/%s (%s)\n", line,
		    f[0], dmarc_res_name(o.res), dmarc_policy_name(o.policy), f[7], want_policy,
		    o.why);
		ok = false;
	}
	lookup_set_free(&s);
	return ok;
}

T(test_oracle_authheaders)
{
	FILE *fp = fopen("tests/data/dmarc/oracle.txt", "r");
	char line[1024];
	int n = 0, bad = 0, lineno = 0;

	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	while (fgets(line, sizeof line, fp) != NULL) {
		char *f[10] = { 0 };
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		int nf = split(line, f, 10);
		if (nf < 9) {
			fprintf(stderr, "oracle.txt:%d: %d fields\n", lineno, nf);
			bad++;
			continue;
		}
		n++;
		if (!oracle_row(f, nf, lineno))
			bad++;
	}
	fclose(fp);
	CHECK(n >= 200);
	CHECK_INT(bad, 0);
}

int
main(void)
{
	RUN(test_record_rfc_examples);
	RUN(test_record_bad_tags);
	RUN(test_record_pct);
	RUN(test_record_version_first);
	RUN(test_record_whitespace_case);
	RUN(test_record_long_rua);
	RUN(test_select);
	RUN(test_discover);
	RUN(test_org_domain);
	RUN(test_query_names);
	RUN(test_aligned);
	RUN(test_evaluate_table);
	RUN(test_evaluate_hand_record);
	RUN(test_stricter);
	RUN(test_from_domains);
	RUN(test_from_limits);
	RUN(test_oracle_authheaders);
	return t_done("dmarc");
}

/*
 * tests/unit/test_dns_zone.c - dns/zone.c: the index built over a record
 * stream.  Nodes and empty non-terminals, RRset grouping, the checks of
 * dns_zone_build with their exact messages, node flags, lookups,
 * canonical order and dns_zone_nsec_for on the RFC 4035 example zone
 * (signed by ldns-signzone), NSEC3 hashes against RFC 5155 Appendix A and
 * dns_zone_n3_for on the RFC 5155 example zone (signed by
 * dnssec-signzone), and the content digest.
 *
 * Zones are written as text and go through dns_zonefile_parse_text and
 * dns_zsrc_add, the way the parent builds them; streams the parser cannot
 * produce are written by hand.  Run from the repository root (test data
 * under tests/data/dns/).
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/util.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "t.h"

static const uint8_t EX[] = "\7example";	/* with the array's NUL: example. */

/* --- loading ------------------------------------------------------------------ */

struct tz {
	struct dns_zsrc src;
	struct dns_zone z;
	struct diag d;
	int parse_rc, rc;
};

/* Parse text as zone file "t.zone" for origin (wire) and build the zone.
 * tz->rc is dns_zone_build's result (-1 also when the text did not parse,
 * which no test here wants: that is reported). */
static struct tz *
tz_text(const uint8_t *origin, const char *text)
{
	struct tz *t = xcalloc(1, sizeof *t);
	dns_zsrc_init(&t->src, origin);
	diag_init(&t->d);
	t->parse_rc = dns_zonefile_parse_text("t.zone", text, strlen(text), origin, false,
	    dns_zsrc_add, &t->src, &t->d);
	if (t->parse_rc != 0) {
		fprintf(stderr, "%s: zone text does not parse:\n%s", t_cur, diag_text(&t->d));
		t_cur_failed = 1;
		t->rc = -1;
		return t;
	}
	t->rc = dns_zone_build(&t->z, origin, t->src.stream.data, t->src.stream.len,
	    dns_zsrc_where, &t->src, &t->d, "t.zone");
	return t;
}

static struct tz *
tz_file(const uint8_t *origin, const char *path)
{
	struct tz *t = xcalloc(1, sizeof *t);
	dns_zsrc_init(&t->src, origin);
	diag_init(&t->d);
	t->parse_rc = dns_zsrc_load(&t->src, path, &t->d);
	if (t->parse_rc != 0) {
		fprintf(stderr, "%s: %s does not parse:\n%s", t_cur, path, diag_text(&t->d));
		t_cur_failed = 1;
		t->rc = -1;
		return t;
	}
	t->rc = dns_zone_build(&t->z, origin, t->src.stream.data, t->src.stream.len,
	    dns_zsrc_where, &t->src, &t->d, path);
	return t;
}

static void
tz_free(struct tz *t)
{
	if (t->rc == 0)
		dns_zone_free(&t->z);
	dns_zsrc_free(&t->src);
	diag_free(&t->d);
	free(t);
}

/* wire form of presentation text (absolute) in a static rotating buffer */
static const uint8_t *
N(const char *text)
{
	static uint8_t bufs[8][DNS_NAME_MAX];
	static unsigned k;
	uint8_t *out = bufs[k++ % 8];
	const char *err;
	if (dns_name_from_text(text, strlen(text), NULL, out, &err) < 0) {
		fprintf(stderr, "bad test name %s: %s\n", text, err);
		abort();
	}
	return out;
}

static const char *
name_text(const uint8_t *name)
{
	static char bufs[4][DNS_NAME_TEXT_MAX];
	static unsigned k;
	char *out = bufs[k++ % 4];
	dns_name_to_text(name, out);
	return out;
}

static const struct dns_node *
find(const struct tz *t, const char *name)
{
	return dns_zone_find(&t->z, N(name));
}

#define HEAD \
	"$TTL 3600\n" \
	"@ SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n" \
	"@ NS ns1\n" \
	"ns1 A 192.0.2.1\n"

/* a syntactically valid RRSIG for rdata text, covering type */
#define SIG(type) "RRSIG " type " 15 2 3600 20350101000000 20240101000000 1 example. AAAA\n"

/* --- nodes -------------------------------------------------------------------- */

T(nodes_and_empty_non_terminals)
{
	struct tz *t = tz_text(EX, HEAD
	    "a.b.c A 192.0.2.5\n"
	    "x.b.c A 192.0.2.6\n"
	    "deep.er.c TXT \"t\"\n");
	CHECK_INT(t->rc, 0);
	CHECK_STR(diag_text(&t->d), "");
	/* apex, ns1, a.b.c, b.c, c, x.b.c, deep.er.c, er.c */
	CHECK_INT(t->z.n_nodes, 8);
	const struct dns_node *bc = find(t, "b.c.example."), *c = find(t, "c.example.");
	const struct dns_node *er = find(t, "er.c.example.");
	CHECK(bc != NULL && c != NULL && er != NULL);
	if (bc && c && er) {
		CHECK_INT(bc->nsets, 0);
		CHECK_INT(c->nsets, 0);
		CHECK_INT(er->nsets, 0);
		CHECK_INT(bc->flags, 0);
		CHECK_STR(name_text(bc->name), "b.c.example.");
	}
	const struct dns_node *abc = find(t, "a.b.c.example.");
	CHECK(abc != NULL && abc->nsets == 1);
	CHECK(find(t, "nothere.example.") == NULL);
	CHECK(find(t, "b.example.") == NULL);
	CHECK(find(t, "z.a.b.c.example.") == NULL);
	CHECK(find(t, "example.net.") == NULL);
	const struct dns_node *apex = find(t, "example.");
	CHECK(apex != NULL && (apex->flags & DNS_NODE_APEX));
	CHECK_INT(t->z.serial, 2024010101);
	CHECK_INT(t->z.n_records, 6);
	CHECK(t->z.canon == NULL);	/* no NSEC: no canonical order */
	CHECK(!t->z.nsec3);
	tz_free(t);
}

T(rrsets_grouped_and_signatures_by_covered_type)
{
	struct tz *t = tz_text(EX, HEAD
	    "www A 192.0.2.1\n"
	    "www " SIG("A")
	    "www AAAA 2001:db8::1\n"
	    "www A 192.0.2.2\n"
	    "www RRSIG A 15 2 3600 20350101000000 20240101000000 2 example. BBBB\n"
	    "www " SIG("AAAA")
	    "www TXT \"x\"\n");
	CHECK_INT(t->rc, 0);
	const struct dns_node *n = find(t, "www.example.");
	CHECK(n != NULL);
	if (n == NULL)
		goto out;
	/* A, AAAA, TXT, RRSIG(A), RRSIG(AAAA) */
	CHECK_INT(n->nsets, 5);
	const struct dns_rrset *a = dns_node_rrset(&t->z, n, DNS_T_A);
	const struct dns_rrset *sa = dns_node_sigs(&t->z, n, DNS_T_A);
	const struct dns_rrset *s6 = dns_node_sigs(&t->z, n, DNS_T_AAAA);
	CHECK(a != NULL && a->n == 2 && a->type == DNS_T_A);
	CHECK(sa != NULL && sa->n == 2 && sa->type == DNS_T_RRSIG && sa->covered == DNS_T_A);
	CHECK(s6 != NULL && s6->n == 1 && s6->covered == DNS_T_AAAA);
	CHECK(dns_node_sigs(&t->z, n, DNS_T_TXT) == NULL);
	CHECK(dns_node_rrset(&t->z, n, DNS_T_MX) == NULL);
	/* the rdata pointers point into the stream: "rdlen | rdata" */
	if (a != NULL) {
		const uint8_t *rd = a->rd[0];
		CHECK(rd > t->src.stream.data && rd < t->src.stream.data + t->src.stream.len);
		CHECK_INT(dns_get16(rd), 4);
		CHECK(memcmp(rd + 2, "\xc0\x00\x02\x01", 4) == 0);
		CHECK(memcmp(a->rd[1] + 2, "\xc0\x00\x02\x02", 4) == 0);
	}
	/* the sets of a node are contiguous and sorted by type */
	for (uint16_t i = 1; i < n->nsets; i++)
		CHECK(t->z.sets[n->set0 + i - 1].type <= t->z.sets[n->set0 + i].type);
	CHECK_INT(t->z.n_records, 3 + 7);
out:
	tz_free(t);
}

T(identical_records_dropped)
{
	struct tz *t = tz_text(EX, HEAD
	    "www A 192.0.2.1\n"
	    "www A 192.0.2.2\n"
	    "WWW A 192.0.2.1\n"		/* same name in other case, same data */
	    "www 3600 IN A 192.0.2.1\n");
	CHECK_INT(t->rc, 0);
	CHECK_STR(diag_text(&t->d), "");
	const struct dns_node *n = find(t, "www.example.");
	const struct dns_rrset *a = n ? dns_node_rrset(&t->z, n, DNS_T_A) : NULL;
	CHECK(a != NULL && a->n == 2);
	CHECK_INT(t->z.n_records, 3 + 2);
	tz_free(t);
}

T(ttl_mismatch_warns_and_first_wins)
{
	struct tz *t = tz_text(EX, HEAD
	    "www 300 A 192.0.2.1\n"
	    "www 600 A 192.0.2.2\n"
	    "www 900 A 192.0.2.3\n"	/* one warning per RRset */
	    "www 60 " SIG("A")
	    "www 120 RRSIG A 15 2 3600 20350101000000 20240101000000 2 example. BBBB\n");
	CHECK_INT(t->rc, 0);
	CHECK_STR(diag_text(&t->d), "t.zone:6: warning: TTL 600 differs from 300 of the other A "
	    "records of this name; 300 is used\n");
	CHECK_INT(t->d.n_warn, 1);
	CHECK_INT(t->d.n_err, 0);
	const struct dns_node *n = find(t, "www.example.");
	const struct dns_rrset *a = n ? dns_node_rrset(&t->z, n, DNS_T_A) : NULL;
	CHECK(a != NULL && a->ttl == 300 && a->n == 3);
	/* RRSIGs of one type may differ in TTL without a warning */
	const struct dns_rrset *s = n ? dns_node_sigs(&t->z, n, DNS_T_A) : NULL;
	CHECK(s != NULL && s->n == 2 && s->ttl == 60);
	tz_free(t);
}

/* --- errors ------------------------------------------------------------------- */

static const struct {
	const char *name, *text, *diag;
} bad_zones[] = {
	{ "no SOA",
	  "$TTL 3600\n@ NS ns1\nns1 A 192.0.2.1\n",
	  "t.zone: no SOA record at the zone apex example. (expected e.g. \"@ IN SOA "
	  "ns1.example. hostmaster.example. 1 7200 3600 1209600 3600\")\n" },
	{ "SOA not at the apex",
	  "$TTL 3600\n@ NS ns1\nns1 A 192.0.2.1\n"
	  "www SOA ns1 hostmaster 1 7200 3600 1209600 300\n",
	  "t.zone: no SOA record at the zone apex example. (expected e.g. \"@ IN SOA "
	  "ns1.example. hostmaster.example. 1 7200 3600 1209600 3600\")\n"
	  "t.zone:4: SOA record at www.example., which is not the zone apex\n" },
	{ "two SOAs",
	  HEAD "@ SOA ns1 hostmaster 2024010102 7200 3600 1209600 300\n",
	  "t.zone:2: 2 SOA records at the apex (expected exactly one)\n" },
	{ "no NS at the apex",
	  "@ 3600 SOA ns1 hostmaster 1 7200 3600 1209600 300\nns1 3600 A 192.0.2.1\n"
	  "sub 3600 NS ns1\n",
	  "t.zone: no NS record at the zone apex example. (expected e.g. \"@ IN NS ns1.example.\")\n" },
	{ "CNAME and other data",
	  HEAD "www CNAME ns1\nwww TXT \"x\"\n",
	  "t.zone:5: www.example. has a CNAME and other data (RFC 1034 3.6.2: a CNAME must be "
	  "alone; move the other records to the name it points to)\n" },
	{ "CNAME at the apex",
	  HEAD "@ CNAME ns1\n",
	  "t.zone:5: example. has a CNAME and other data (RFC 1034 3.6.2: a CNAME must be "
	  "alone; move the other records to the name it points to)\n"
	  "t.zone:5: CNAME at the zone apex (it would hide the SOA and NS records)\n" },
	{ "two CNAMEs",
	  HEAD "www CNAME ns1\nwww CNAME ns2\n",
	  "t.zone:5: www.example. has 2 CNAME records (expected one)\n" },
	{ "two DNAMEs",
	  HEAD "dn DNAME a.example.net.\ndn DNAME b.example.net.\n",
	  "t.zone:5: dn.example. has 2 DNAME records (expected one)\n" },
};

T(zone_errors_with_messages)
{
	for (size_t i = 0; i < sizeof bad_zones / sizeof bad_zones[0]; i++) {
		struct tz *t = tz_text(EX, bad_zones[i].text);
		if (t->rc != -1)
			fprintf(stderr, "case: %s\n", bad_zones[i].name);
		CHECK_INT(t->rc, -1);
		CHECK_STR(diag_text(&t->d), bad_zones[i].diag);
		/* a failed build leaves nothing behind */
		CHECK(t->z.nodes == NULL && t->z.sets == NULL && t->z.table == NULL);
		tz_free(t);
	}
	/* a CNAME may have NSEC and RRSIG beside it (RFC 4035 2.5) */
	struct tz *t = tz_text(EX, HEAD "www CNAME ns1\nwww NSEC ns1.example. CNAME RRSIG NSEC\n"
	    "www " SIG("CNAME"));
	CHECK_INT(t->rc, 0);
	CHECK_STR(diag_text(&t->d), "");
	tz_free(t);
}

T(occluded_data_below_a_delegation_or_dname_warns)
{
	struct tz *t = tz_text(EX, HEAD
	    "sub NS ns.sub\n"
	    "ns.sub A 192.0.2.53\n"		/* glue: quiet */
	    "ns.sub AAAA 2001:db8::53\n"
	    "www.sub TXT \"occluded\"\n"	/* line 8 */
	    "deep.x.sub A 192.0.2.54\n"		/* also glue-shaped: quiet */
	    "dn DNAME example.net.\n"
	    "x.dn A 192.0.2.55\n");		/* line 11: below a DNAME nothing is glue */
	CHECK_INT(t->rc, 0);
	CHECK_STR(diag_text(&t->d),
	    "t.zone:8: warning: www.sub.example. is below the delegation at sub.example.: its "
	    "records other than glue are never served\n"
	    "t.zone:11: warning: x.dn.example. is below the DNAME at dn.example.: its records "
	    "other than glue are never served\n");
	CHECK_INT(t->d.n_err, 0);
	tz_free(t);
}

T(node_flags)
{
	struct tz *t = tz_text(EX, HEAD
	    "sub NS ns.sub\n"
	    "ns.sub A 192.0.2.53\n"
	    "sub DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	    "dn DNAME example.net.\n"
	    "alias CNAME ns1\n"
	    "*.wild TXT \"w\"\n"
	    "*.deep.wild2 TXT \"w\"\n"
	    "*.example. MX 10 ns1\n");
	CHECK_INT(t->rc, 0);
	const struct dns_node *n;
	CHECK((n = find(t, "example.")) && n->flags == (DNS_NODE_APEX | DNS_NODE_WILDCHILD));
	CHECK((n = find(t, "sub.example.")) && n->flags == DNS_NODE_CUT);
	CHECK((n = find(t, "ns.sub.example.")) && n->flags == 0);
	CHECK((n = find(t, "dn.example.")) && n->flags == DNS_NODE_DNAME);
	CHECK((n = find(t, "alias.example.")) && n->flags == DNS_NODE_CNAME);
	CHECK((n = find(t, "wild.example.")) && n->flags == DNS_NODE_WILDCHILD && n->nsets == 0);
	CHECK((n = find(t, "*.wild.example.")) && n->flags == 0);
	CHECK((n = find(t, "deep.wild2.example.")) && n->flags == DNS_NODE_WILDCHILD);
	CHECK((n = find(t, "wild2.example.")) && n->flags == 0);
	CHECK((n = find(t, "ns1.example.")) && n->flags == 0);
	tz_free(t);

	/* NSEC3 owners are flagged */
	t = tz_file(EX, "tests/data/dns/rfc5155.nsec3.signed");
	CHECK_INT(t->rc, 0);
	CHECK((n = find(t, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.")) &&
	    n->flags == (DNS_NODE_NSEC3 | DNS_NODE_N3ONLY));
	/* a name that looks like a hash and also owns an NSEC3 (RFC 5155 A) */
	CHECK((n = find(t, "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.")) &&
	    n->flags == DNS_NODE_NSEC3 && dns_node_rrset(&t->z, n, DNS_T_A) != NULL);
	CHECK((n = find(t, "c.example.")) && n->flags == DNS_NODE_CUT);
	CHECK((n = find(t, "w.example.")) && n->flags == DNS_NODE_WILDCHILD);
	tz_free(t);
}

T(find_is_case_insensitive_and_keeps_zone_case)
{
	struct tz *t = tz_text(EX, HEAD "MiXeD.CaSe A 192.0.2.9\n");
	CHECK_INT(t->rc, 0);
	const struct dns_node *a = find(t, "mixed.case.example."), *b = find(t, "MIXED.CASE.EXAMPLE.");
	const struct dns_node *c = find(t, "mIxEd.cAsE.ExAmPlE.");
	CHECK(a != NULL && a == b && a == c);
	if (a != NULL)
		CHECK_STR(name_text(a->name), "MiXeD.CaSe.example.");
	/* the empty non-terminal made from it keeps its case too */
	const struct dns_node *e = find(t, "CASE.example.");
	CHECK(e != NULL && e->nsets == 0);
	if (e != NULL)
		CHECK_STR(name_text(e->name), "CaSe.example.");
	/* labels, not bytes: "mixed.case" is not "mixedcase" nor "mixed\.case" */
	CHECK(find(t, "mixedcase.example.") == NULL);
	CHECK(find(t, "mixed\\.case.example.") == NULL);
	tz_free(t);
}

/* many names: the table grows and every name is still found */
T(many_names_all_found)
{
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, HEAD);
	for (int i = 0; i < 5000; i++)
		buf_printf(&b, "h%d.g%d A 192.0.2.%d\n", i, i % 37, i % 250);
	buf_cstr(&b);
	struct tz *t = tz_text(EX, (const char *)b.data);
	CHECK_INT(t->rc, 0);
	CHECK_INT(t->z.n_nodes, 2 + 5000 + 37);
	int missing = 0;
	for (int i = 0; i < 5000; i++) {
		char nm[64];
		snprintf(nm, sizeof nm, "H%d.G%d.EXAMPLE.", i, i % 37);
		const struct dns_node *n = find(t, nm);
		missing += n == NULL || n->nsets != 1;
	}
	CHECK_INT(missing, 0);
	tz_free(t);
	buf_free(&b);
}

/* --- canonical order and NSEC --------------------------------------------------- */

/* RFC 4034 6.1, the example list, in order */
static const char *const canon_names[] = {
	"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
	"z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example.",
};

T(canonical_order_rfc4034)
{
	/* the records in reverse order, so the order is the sort's */
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, HEAD);
	buf_puts(&b, "@ NSEC a.example. NS SOA RRSIG NSEC\n");
	size_t n = sizeof canon_names / sizeof canon_names[0];
	for (size_t i = n; i-- > 1;)
		buf_printf(&b, "%s TXT \"%zu\"\n", canon_names[i], i);
	buf_cstr(&b);
	struct tz *t = tz_text(EX, (const char *)b.data);
	CHECK_INT(t->rc, 0);
	/* ns1 sorts between a.example's subtree and z.example */
	CHECK_INT(t->z.n_canon, n + 1);
	size_t k = 0;
	for (size_t i = 0; i < t->z.n_canon && k < n; i++) {
		const struct dns_node *nd = t->z.canon[i];
		CHECK_INT(nd->canon, i);
		if (dns_name_eq(nd->name, N("ns1.example."))) {
			CHECK(k == 5);
			continue;
		}
		/* case-insensitively: a node made as the parent of a name
		 * written earlier has that name's case ("a.EXAMPLE.") */
		if (!dns_name_eq(nd->name, N(canon_names[k])))
			CHECK_STR(name_text(nd->name), canon_names[k]);
		k++;
	}
	CHECK_INT(k, n);
	tz_free(t);
	buf_free(&b);
}

T(nsec_for_rfc4035_zone)
{
	struct tz *t = tz_file(EX, "tests/data/dns/rfc4035.nsec.signed");
	CHECK_INT(t->rc, 0);
	if (t->rc != 0)
		goto out;
	static const struct { const char *name, *nsec; } cases[] = {
		{ "example.", "example." },		/* matches */
		{ "a.example.", "a.example." },
		{ "xx.example.", "xx.example." },
		{ "*.w.example.", "*.w.example." },
		{ "ml.example.", "b.example." },	/* RFC 4035 B.2 */
		{ "ML.EXAMPLE.", "b.example." },
		{ "*.example.", "example." },		/* B.2: the wildcard */
		{ "a.z.w.example.", "x.y.w.example." },	/* B.6 */
		{ "z.w.example.", "x.y.w.example." },
		{ "y.w.example.", "x.w.example." },	/* empty non-terminal */
		{ "w.example.", "ns2.example." },	/* empty non-terminal */
		{ "zz.example.", "xx.example." },	/* after the last: wraps in the chain */
		{ "ns1.a.example.", "a.example." },	/* glue: no NSEC of its own */
		{ "mc.b.example.", "b.example." },
		{ "\\000.example.", "example." },
		{ "ai.example.", "ai.example." },
		{ "aj.example.", "ai.example." },
		{ "a-.example.", "a.example." },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct dns_node *n = dns_zone_nsec_for(&t->z, N(cases[i].name));
		CHECK(n != NULL);
		if (n == NULL)
			continue;
		char got[DNS_NAME_TEXT_MAX];
		dns_name_to_text(n->name, got);
		if (strcmp(got, cases[i].nsec) != 0)
			fprintf(stderr, "  for %s:\n", cases[i].name);
		CHECK_STR(got, cases[i].nsec);
		CHECK(dns_node_rrset(&t->z, n, DNS_T_NSEC) != NULL);
	}
out:
	tz_free(t);

	/* no NSEC in the zone: nothing */
	t = tz_text(EX, HEAD);
	CHECK(dns_zone_nsec_for(&t->z, N("x.example.")) == NULL);
	tz_free(t);
}

/* --- NSEC3 ----------------------------------------------------------------------- */

static void
b32hex(const uint8_t h[20], char out[33])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	unsigned acc = 0, bits = 0, n = 0;
	for (int i = 0; i < 20; i++) {
		acc = acc << 8 | h[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[n++] = digits[(acc >> bits) & 31];
		}
	}
	out[n] = '\0';
}

/* RFC 5155 Appendix A: H(name) with SHA-1, salt aabbccdd, 12 iterations;
 * the values are the RFC's own list (checked with ldns-nsec3-hash too). */
static const struct { const char *name, *hash; } rfc5155_hashes[] = {
	{ "example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
	{ "a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl" },
	{ "ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi" },
	{ "ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr" },
	{ "ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r" },
	{ "w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h" },
	{ "*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en" },
	{ "x.w.example.", "b4um86eghhds6nea196smvmlo4ors995" },
	{ "y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc" },
	{ "x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s" },
	{ "xx.example.", "t644ebqk9bibcna874givr6joj62mlhv" },
	{ "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.", "kohar7mbb8dc2ce8a9qvl8hon4k53uhi" },
	/* from Appendix B */
	{ "c.x.w.example.", "0va5bpr2ou0vk0lbqeeljri88laipsfh" },
	{ "*.x.w.example.", "92pqneegtaue7pjatc3l3qnk738c6v5m" },
	{ "z.w.example.", "qlu7gtfaeh0ek0c05ksfhdpbcgglbe03" },
	/* case is folded before hashing */
	{ "EXAMPLE.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
	{ "X.W.Example.", "b4um86eghhds6nea196smvmlo4ors995" },
};

T(n3hash_rfc5155_appendix_a)
{
	struct tz *t = tz_text(EX, HEAD "@ NSEC3PARAM 1 0 12 aabbccdd\n");
	CHECK_INT(t->rc, 0);
	CHECK(t->z.nsec3);
	CHECK_INT(t->z.n3_alg, 1);
	CHECK_INT(t->z.n3_iter, 12);
	CHECK_INT(t->z.n3_salt_len, 4);
	CHECK(memcmp(t->z.n3_salt, "\xaa\xbb\xcc\xdd", 4) == 0);
	for (size_t i = 0; i < sizeof rfc5155_hashes / sizeof rfc5155_hashes[0]; i++) {
		uint8_t h[20];
		char text[33];
		CHECK(dns_zone_n3hash(&t->z, N(rfc5155_hashes[i].name), h));
		b32hex(h, text);
		CHECK_STR(text, rfc5155_hashes[i].hash);
	}
	tz_free(t);

	/* no salt, no iterations: H(example) = SHA-1 of the wire name */
	t = tz_text(EX, HEAD "@ NSEC3PARAM 1 0 0 -\n");
	uint8_t h[20];
	char text[33];
	CHECK(dns_zone_n3hash(&t->z, N("example."), h));
	b32hex(h, text);
	/* ldns-nsec3-hash -t 0 -s '' example. */
	CHECK_STR(text, "3msev9usmd4br9s97v51r2tdvmr9iqo1");
	tz_free(t);

	/* no NSEC3PARAM, or an unknown hash algorithm: no hash */
	t = tz_text(EX, HEAD);
	CHECK(!dns_zone_n3hash(&t->z, N("example."), h));
	tz_free(t);
	t = tz_text(EX, HEAD "@ NSEC3PARAM 2 0 1 ab\n");
	CHECK(!dns_zone_n3hash(&t->z, N("example."), h));
	tz_free(t);
}

T(n3_for_rfc5155_zone)
{
	struct tz *t = tz_file(EX, "tests/data/dns/rfc5155.nsec3.signed");
	CHECK_INT(t->rc, 0);
	if (t->rc != 0)
		goto out;
	CHECK(t->z.nsec3);
	CHECK_INT(t->z.n_n3, 12);
	for (size_t i = 1; i < t->z.n_n3; i++)
		CHECK(memcmp(t->z.n3[i - 1].hash, t->z.n3[i].hash, 20) < 0);
	static const struct { const char *name, *owner; bool match; } cases[] = {
		{ "example.", "0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM.example.", true },
		{ "x.w.example.", "B4UM86EGHHDS6NEA196SMVMLO4ORS995.example.", true },
		{ "y.w.example.", "JI6NEOAEPV8B5O6K4EV33ABHA8HT9FGC.example.", true },
		/* RFC 5155 B.1: 0va5.. is covered by 0p9m.. */
		{ "c.x.w.example.", "0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM.example.", false },
		/* 92pq.. by 35mt.. */
		{ "*.x.w.example.", "35MTHGPGCU1QG68FAB165KLNSNK3DPVL.example.", false },
		/* B.4: qlu7.. by q04j.. */
		{ "z.w.example.", "Q04JKCEVQVMU85R014C7DKBA38O0JI5R.example.", false },
		/* opt-out: c.example (4g6p..) has no NSEC3, 35mt.. covers it */
		{ "c.example.", "35MTHGPGCU1QG68FAB165KLNSNK3DPVL.example.", false },
		/* a.c.x.w.example (06pj..) sorts before the first: the last wraps */
		{ "a.c.x.w.example.", "T644EBQK9BIBCNA874GIVR6JOJ62MLHV.example.", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t h[20];
		bool match = !cases[i].match;
		CHECK(dns_zone_n3hash(&t->z, N(cases[i].name), h));
		const struct dns_node *n = dns_zone_n3_for(&t->z, h, &match);
		CHECK(n != NULL);
		if (n == NULL)
			continue;
		if (strcmp(name_text(n->name), cases[i].owner) != 0 || match != cases[i].match)
			fprintf(stderr, "  for %s:\n", cases[i].name);
		CHECK_STR(name_text(n->name), cases[i].owner);
		CHECK_INT(match, cases[i].match);
	}
	/* past the last hash: still the last one */
	uint8_t ff[20];
	bool match;
	memset(ff, 0xff, sizeof ff);
	const struct dns_node *n = dns_zone_n3_for(&t->z, ff, &match);
	CHECK(n != NULL && !match);
	if (n != NULL)
		CHECK_STR(name_text(n->name), "T644EBQK9BIBCNA874GIVR6JOJ62MLHV.example.");
out:
	tz_free(t);
}

/* --- the digest ------------------------------------------------------------------ */

static void
digest_of(const char *text, uint8_t out[32])
{
	struct tz *t = tz_text(EX, text);
	CHECK_INT(t->rc, 0);
	dns_zone_digest(&t->z);
	memcpy(out, t->z.digest, 32);
	tz_free(t);
}

#define DZ HEAD "www A 192.0.2.1\nwww A 192.0.2.2\nmail MX 10 www\nmail TXT \"m\"\n"

T(digest_changes_with_content)
{
	uint8_t a[32], b[32], c[32];
	digest_of(DZ, a);
	digest_of(DZ, b);
	CHECK(memcmp(a, b, 32) == 0);
	/* one rdata byte */
	digest_of(HEAD "www A 192.0.2.1\nwww A 192.0.2.3\nmail MX 10 www\nmail TXT \"m\"\n", c);
	CHECK(memcmp(a, c, 32) != 0);
	/* one TTL */
	digest_of(HEAD "www A 192.0.2.1\nwww A 192.0.2.2\nmail MX 10 www\nmail 60 TXT \"m\"\n", c);
	CHECK(memcmp(a, c, 32) != 0);
	/* one record less */
	digest_of(HEAD "www A 192.0.2.1\nmail MX 10 www\nmail TXT \"m\"\n", c);
	CHECK(memcmp(a, c, 32) != 0);
	/* one owner renamed */
	digest_of(HEAD "www A 192.0.2.1\nwww A 192.0.2.2\nmail MX 10 www\nmaxl TXT \"m\"\n", c);
	CHECK(memcmp(a, c, 32) != 0);
	/* a duplicate record is dropped: same content */
	digest_of(DZ "www A 192.0.2.2\n", c);
	CHECK(memcmp(a, c, 32) == 0);
}

/* BUG: zone.h promises "SHA-256 of the records, sorted: content identity",
 * and digest() says "independent of record order", but the sets are
 * hashed in node order, and nodes are numbered in the order their owners
 * first appear in the stream: the same records in another order give
 * another digest, so a reload of an unchanged zone whose file was
 * reordered looks like changed content under the same serial. */
T(test_bug_digest_depends_on_record_order)
{
	uint8_t a[32], b[32];
	digest_of(DZ, a);
	digest_of(HEAD "mail TXT \"m\"\nwww A 192.0.2.2\nmail MX 10 www\nwww A 192.0.2.1\n", b);
	CHECK(memcmp(a, b, 32) == 0);
}

/* BUG: the rrsets and the owner names are hashed as two separate lists,
 * with nothing saying which node holds how many sets: moving an RRset from
 * one name to the next (a real change of content) keeps the digest when
 * the sets stay in the same sequence (here A | MX | TXT either way). */
T(test_bug_digest_ignores_which_owner_holds_a_set)
{
	uint8_t a[32], b[32];
	digest_of(HEAD "a A 192.0.2.1\na MX 10 ns1\nb TXT \"t\"\n", a);
	digest_of(HEAD "a A 192.0.2.1\nb MX 10 ns1\nb TXT \"t\"\n", b);
	CHECK(memcmp(a, b, 32) != 0);
}

/* --- streams not from our parser ------------------------------------------------- */

static void
put_rec(struct buf *b, const char *owner, uint16_t type, uint32_t ttl, const void *rd,
    uint16_t rdlen)
{
	const uint8_t *o = N(owner);
	uint8_t h[8] = { (uint8_t)(type >> 8), (uint8_t)type, (uint8_t)(ttl >> 24),
		(uint8_t)(ttl >> 16), (uint8_t)(ttl >> 8), (uint8_t)ttl, (uint8_t)(rdlen >> 8),
		(uint8_t)rdlen };
	buf_append(b, o, dns_name_len(o));
	buf_append(b, h, sizeof h);
	buf_append(b, rd, rdlen);
}

static const uint8_t SOA_RD[] = "\3ns1\7example\0\12hostmaster\7example\0"
    "\0\0\0\1\0\0\x1c\x20\0\0\x0e\x10\0\x12\x75\0\0\0\x01\x2c";

static void
put_head(struct buf *b)
{
	put_rec(b, "example.", DNS_T_SOA, 3600, SOA_RD, sizeof SOA_RD - 1);
	put_rec(b, "example.", DNS_T_NS, 3600, "\3ns1\7example", 13);
}

T(malformed_streams_refused)
{
	struct {
		const char *what;
		size_t cut;		/* bytes of the good stream, 0 = all */
		const void *extra;
		size_t extra_len;
	} cases[] = {
		{ "truncated header", 0, "\3www\7example\0\0\1\0\0", 17 },
		{ "rdata past the end", 0, "\3www\7example\0\0\1\0\0\0\0\0\5\1\2\3\4", 25 },
		{ "owner outside the zone", 0, "\3www\7example\3net\0\0\1\0\0\0\0\0\4\1\2\3\4", 29 },
		{ "compressed owner", 0, "\xc0\x00\0\1\0\0\0\0\0\4\1\2\3\4", 14 },
		{ "short RRSIG", 0, "\7example\0\0\x2e\0\0\0\0\0\2\0\1", 19 },
	};
	struct buf good;
	buf_init(&good, 0);
	put_head(&good);
	struct dns_zone z;
	struct diag d;
	diag_init(&d);
	CHECK_INT(dns_zone_build(&z, EX, good.data, good.len, NULL, NULL, &d, "s"), 0);
	dns_zone_free(&z);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;
		buf_init(&b, 0);
		buf_append(&b, good.data, good.len);
		buf_append(&b, cases[i].extra, cases[i].extra_len);
		diag_free(&d);
		diag_init(&d);
		int rc = dns_zone_build(&z, EX, b.data, b.len, NULL, NULL, &d, "s");
		if (rc != -1)
			fprintf(stderr, "  case %s\n", cases[i].what);
		CHECK_INT(rc, -1);
		char want[80];
		snprintf(want, sizeof want, "s: malformed record stream at byte %zu\n", good.len);
		CHECK_STR(diag_text(&d), want);
		buf_free(&b);
	}
	/* and with no diag at all: just -1 */
	CHECK_INT(dns_zone_build(&z, EX, good.data, good.len - 1, NULL, NULL, NULL, NULL), -1);
	diag_free(&d);
	buf_free(&good);
}

/* BUG: dns_zone_build checks the framing of the stream but not the rdata,
 * though zone.h says the dns process trusts "nothing in the stream beyond
 * what dns_zone_build checks" and answer.c then reads CNAME, DNAME, NS,
 * MX and SRV targets out of the rdata as valid names (dns_name_len walks
 * until a zero byte).  A CNAME whose rdata is one length byte with
 * nothing after it is accepted here; answering for that name reads past
 * the record (into the next one, or past the end of the mapping). */
T(test_bug_stream_rdata_not_validated)
{
	struct buf b;
	buf_init(&b, 0);
	put_head(&b);
	put_rec(&b, "www.example.", DNS_T_CNAME, 3600, "\x3f", 1);
	struct dns_zone z;
	struct diag d;
	diag_init(&d);
	int rc = dns_zone_build(&z, EX, b.data, b.len, NULL, NULL, &d, "s");
	CHECK_INT(rc, -1);
	if (rc == 0)
		dns_zone_free(&z);
	diag_free(&d);
	buf_free(&b);
}

int
main(void)
{
	RUN(nodes_and_empty_non_terminals);
	RUN(rrsets_grouped_and_signatures_by_covered_type);
	RUN(identical_records_dropped);
	RUN(ttl_mismatch_warns_and_first_wins);
	RUN(zone_errors_with_messages);
	RUN(occluded_data_below_a_delegation_or_dname_warns);
	RUN(node_flags);
	RUN(find_is_case_insensitive_and_keeps_zone_case);
	RUN(many_names_all_found);
	RUN(canonical_order_rfc4034);
	RUN(nsec_for_rfc4035_zone);
	RUN(n3hash_rfc5155_appendix_a);
	RUN(n3_for_rfc5155_zone);
	RUN(digest_changes_with_content);
	RUN(test_bug_digest_depends_on_record_order);
	RUN(test_bug_digest_ignores_which_owner_holds_a_set);
	RUN(malformed_streams_refused);
	RUN(test_bug_stream_rdata_not_validated);
	return t_done("dns_zone");
}

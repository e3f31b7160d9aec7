/*
 * tests/unit/test_dns_answer.c - dns/answer.c: whole queries in, whole
 * responses out.
 *
 * Queries are written by a small encoder here; responses are read back by
 * a strict decoder here (every count honoured, every name through
 * dns_name_unpack, every rdata valid for its type, nothing left over) and
 * compared section by section as text, one "owner TTL TYPE rdata" line
 * per record (RRSIG shortened to its covered type, NSEC3 to its owner).
 * Authority and additional sections are compared as sets (sorted lines);
 * the answer section in order, since CNAME chains are read in order.
 *
 * Zones: a main zone written here for the plain cases; the zone of RFC
 * 4592 2.2.1 for wildcards; the RFC 4035 and RFC 5155 example zones,
 * signed (tests/data/dns/), whose Appendix B responses are the DNSSEC
 * expectations.  Tests named test_bug_* pin a bug in answer.c that is not
 * fixed yet: they fail until it is.  Run from the repository root.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/util.h"
#include "dns/answer.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "t.h"

/* --- zones -------------------------------------------------------------------- */

struct tz {
	struct dns_zsrc src;
	struct dns_zone z;
	struct diag d;
	int rc;
};

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

static struct tz *
tz_load(const char *origin, const char *text, const char *path)
{
	struct tz *t = xcalloc(1, sizeof *t);
	const uint8_t *o = N(origin);
	dns_zsrc_init(&t->src, o);
	diag_init(&t->d);
	int rc = text ? dns_zonefile_parse_text("t.zone", text, strlen(text), o, false,
	    dns_zsrc_add, &t->src, &t->d) : dns_zsrc_load(&t->src, path, &t->d);
	if (rc == 0)
		rc = dns_zone_build(&t->z, o, t->src.stream.data, t->src.stream.len, NULL, NULL,
		    &t->d, "t.zone");
	else
		rc = -1;
	t->rc = rc;
	if (rc != 0) {
		fprintf(stderr, "%s: zone %s does not load:\n%s", t_cur, origin, diag_text(&t->d));
		t_cur_failed = 1;
	}
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

#define ZSET_MAX 4
struct zset {
	struct tz *t[ZSET_MAX];
	const struct dns_zone *zp[ZSET_MAX];
	struct dns_zoneset set;
};

static void
zset_add(struct zset *s, struct tz *t)
{
	s->t[s->set.n] = t;
	s->zp[s->set.n] = t->rc == 0 ? &t->z : NULL;
	s->set.z = s->zp;
	s->set.n++;
}

static void
zset_free(struct zset *s)
{
	for (size_t i = 0; i < s->set.n; i++)
		tz_free(s->t[i]);
	memset(s, 0, sizeof *s);
}

#define S50 "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm"
#define S199 S50 S50 S50 "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm"

/* the main zone: the plain cases */
static const char MAIN_ZONE[] =
    "$ORIGIN example.\n"
    "$TTL 3600\n"
    "@         SOA   ns1 hostmaster 2024010101 7200 3600 1209600 300\n"
    "@         NS    ns1\n"
    "@         NS    ns.example.net.\n"
    "@         MX    10 mail\n"
    "@         TXT   \"v=spf1 -all\"\n"
    "ns1       A     192.0.2.1\n"
    "ns1       AAAA  2001:db8::1\n"
    "mail      A     192.0.2.2\n"
    "www       A     192.0.2.3\n"
    "www       A     192.0.2.4\n"
    "www       TXT   \"hello\"\n"
    "a.b.c     A     192.0.2.5\n"
    "alias     CNAME www\n"
    "ext       CNAME www.example.net.\n"
    "dangling  CNAME nothere\n"
    "c0 CNAME c1\nc1 CNAME c2\nc2 CNAME c3\nc3 CNAME c4\nc4 CNAME c5\nc5 CNAME c6\n"
    "c6 CNAME c7\nc7 CNAME c8\nc8 A 192.0.2.8\n"
    "d0 CNAME d1\nd1 CNAME d2\nd2 CNAME d3\nd3 CNAME d4\nd4 CNAME d5\nd5 CNAME d6\n"
    "d6 CNAME d7\nd7 CNAME d8\nd8 CNAME d9\nd9 A 192.0.2.9\n"
    "loop1     CNAME loop2\n"
    "loop2     CNAME loop1\n"
    "self      CNAME self\n"
    "tosub     CNAME host.sub\n"
    "sub       NS    ns.sub\n"
    "sub       NS    ns.example.net.\n"
    "ns.sub    A     192.0.2.53\n"
    "ns.sub    AAAA  2001:db8::53\n"
    "secure    NS    ns1\n"
    "secure    DS    12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
    "dn        DNAME example.net.\n"
    "old       DNAME new.example.\n"
    "www.new   A     192.0.2.10\n"
    "long      DNAME aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.\n"
    "_sip._tcp SRV   0 5 5060 mail\n"
    "*.wild    TXT   \"wild\"\n"
    "*.wild    MX    10 mail\n"
    "cw        CNAME x.wild\n"
    "mid       TXT   \"" S199 "1\"\n"	/* three 200-byte strings: fit 1232, not 512 */
    "mid       TXT   \"" S199 "2\"\n"
    "mid       TXT   \"" S199 "3\"\n";

/* RFC 4592 2.2.1, with SOA and SRV rdata filled in */
static const char RFC4592_ZONE[] =
    "$ORIGIN example.\n"
    "example.                 3600 IN  SOA   ns.example.com. hostmaster.example. 1 7200 3600 1209600 3600\n"
    "example.                 3600     NS    ns.example.com.\n"
    "example.                 3600     NS    ns.example.net.\n"
    "*.example.               3600     TXT   \"this is a wildcard\"\n"
    "*.example.               3600     MX    10 host1.example.\n"
    "sub.*.example.           3600     TXT   \"this is not a wildcard\"\n"
    "host1.example.           3600     A     192.0.2.1\n"
    "_ssh._tcp.host1.example. 3600     SRV   0 0 22 host1.example.\n"
    "_ssh._tcp.host2.example. 3600     SRV   0 0 22 host1.example.\n"
    "subdel.example.          3600     NS    ns.example.com.\n"
    "subdel.example.          3600     NS    ns.example.net.\n";

static struct tz *
main_zone(void)
{
	return tz_load("example.", MAIN_ZONE, NULL);
}

/* --- queries ------------------------------------------------------------------ */

struct qo {
	uint16_t id;
	bool no_rd;
	uint8_t opcode;
	uint16_t qclass;	/* 0: IN */
	bool edns;
	uint16_t size;		/* EDNS UDP size */
	bool dnssec;		/* DO */
	uint8_t version;
	bool cd;
};

/* A query for name/type; returns its length. */
static size_t
qbuild(uint8_t *q, const char *name, uint16_t qtype, const struct qo *o)
{
	static const struct qo dflt;
	if (o == NULL)
		o = &dflt;
	uint16_t id = o->id ? o->id : 0x1234;
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = (uint8_t)((o->opcode & 15) << 3 | (o->no_rd ? 0 : 1));
	q[3] = o->cd ? 0x10 : 0;
	memcpy(q + 4, "\0\1\0\0\0\0\0", 7);
	q[11] = o->edns ? 1 : 0;
	const uint8_t *w = N(name);
	size_t n = dns_name_len(w), len = 12;
	memcpy(q + len, w, n);
	len += n;
	uint16_t qc = o->qclass ? o->qclass : DNS_C_IN;
	uint8_t tc[4] = { (uint8_t)(qtype >> 8), (uint8_t)qtype, (uint8_t)(qc >> 8), (uint8_t)qc };
	memcpy(q + len, tc, 4);
	len += 4;
	if (o->edns) {
		uint16_t sz = o->size ? o->size : 4096;
		uint8_t opt[11] = { 0, 0, DNS_T_OPT, (uint8_t)(sz >> 8), (uint8_t)sz, 0, o->version,
			o->dnssec ? 0x80 : 0, 0, 0, 0 };
		memcpy(q + len, opt, sizeof opt);
		len += sizeof opt;
	}
	return len;
}

/* --- responses ------------------------------------------------------------------ */

enum { S_AN, S_NS, S_AR };

struct rr {
	int sec;
	size_t off;		/* where its owner starts in the packet */
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;		/* as on the wire */
	char owner[DNS_NAME_TEXT_MAX];
	char line[2400];	/* "owner ttl TYPE rdata" */
};

#define RRS_MAX 128
struct resp {
	size_t len;		/* 0: no response */
	const char *err;	/* decoder complaint, NULL when it parsed */
	uint16_t id;
	bool qr, aa, tc, rd, ra, ad, cd;
	unsigned opcode, rcode;	/* rcode with the OPT's extended bits */
	unsigned qd, an, ns, ar;
	char qname[DNS_NAME_TEXT_MAX];
	uint16_t qtype, qclass;
	bool opt;
	uint16_t opt_size;
	uint8_t opt_ext, opt_version;
	bool opt_do;
	size_t nrr;
	struct rr rr[RRS_MAX];
	struct dns_qinfo info;
	uint8_t pkt[DNS_TCP_MAX];
};

static struct resp R;	/* big: one at a time */

static const char *
decode_fail(struct resp *r, const char *why)
{
	if (r->err == NULL)
		r->err = why;
	return r->err;
}

/* Rdata at pkt[off..off+rdlen) in uncompressed wire form into wire (for
 * the RFC 1035 types names may be compressed; for every other type they
 * must not be), checked with dns_rdata_valid. */
static int
rdata_wire(const uint8_t *pkt, size_t len, size_t off, uint16_t type, uint16_t rdlen,
    uint8_t *wire, size_t *wlen)
{
	size_t end = off + rdlen, o = off, w = 0;
	uint8_t nm[DNS_NAME_MAX];
	int nl;
	switch (type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_MX:
	case DNS_T_SOA:
		if (type == DNS_T_MX) {
			if (rdlen < 2)
				return -1;
			memcpy(wire, pkt + o, 2);
			w = 2;
			o += 2;
		}
		for (int i = 0; i < (type == DNS_T_SOA ? 2 : 1); i++) {
			if ((nl = dns_name_unpack(pkt, len, &o, nm)) < 0 || o > end)
				return -1;
			memcpy(wire + w, nm, (size_t)nl);
			w += (size_t)nl;
		}
		if (type == DNS_T_SOA) {
			if (end - o != 20)
				return -1;
			memcpy(wire + w, pkt + o, 20);
			w += 20;
			o += 20;
		}
		if (o != end)
			return -1;
		break;
	default:
		memcpy(wire, pkt + off, rdlen);
		w = rdlen;
		break;
	}
	*wlen = w;
	return dns_rdata_valid(type, wire, w) ? 0 : -1;
}

/* Parse r->pkt[0..r->len) completely. */
static void
decode(struct resp *r)
{
	const uint8_t *p = r->pkt;
	size_t len = r->len, off = 12;
	r->err = NULL;
	r->nrr = 0;
	r->opt = false;
	if (len < 12) {
		decode_fail(r, "shorter than a header");
		return;
	}
	r->id = dns_get16(p);
	r->qr = p[2] & 0x80;
	r->opcode = (p[2] >> 3) & 15;
	r->aa = p[2] & 0x04;
	r->tc = p[2] & 0x02;
	r->rd = p[2] & 0x01;
	r->ra = p[3] & 0x80;
	r->ad = p[3] & 0x20;
	r->cd = p[3] & 0x10;
	r->rcode = p[3] & 15;
	r->qd = dns_get16(p + 4);
	r->an = dns_get16(p + 6);
	r->ns = dns_get16(p + 8);
	r->ar = dns_get16(p + 10);
	r->qname[0] = '\0';
	for (unsigned i = 0; i < r->qd; i++) {
		uint8_t nm[DNS_NAME_MAX];
		if (dns_name_unpack(p, len, &off, nm) < 0 || len - off < 4) {
			decode_fail(r, "bad question");
			return;
		}
		dns_name_to_text(nm, r->qname);
		r->qtype = dns_get16(p + off);
		r->qclass = dns_get16(p + off + 2);
		off += 4;
	}
	unsigned total = r->an + r->ns + r->ar;
	for (unsigned i = 0; i < total; i++) {
		struct rr *x = &r->rr[r->nrr < RRS_MAX ? r->nrr : RRS_MAX - 1];
		uint8_t nm[DNS_NAME_MAX];
		x->sec = i < r->an ? S_AN : i < r->an + r->ns ? S_NS : S_AR;
		x->off = off;
		if (dns_name_unpack(p, len, &off, nm) < 0 || len - off < 10) {
			decode_fail(r, "bad record header");
			return;
		}
		dns_name_to_text(nm, x->owner);
		x->type = dns_get16(p + off);
		uint16_t cls = dns_get16(p + off + 2);
		x->ttl = dns_get32(p + off + 4);
		x->rdlen = dns_get16(p + off + 8);
		off += 10;
		if (len - off < x->rdlen) {
			decode_fail(r, "rdata past the end");
			return;
		}
		if (x->type == DNS_T_OPT) {
			if (x->sec != S_AR || nm[0] != 0 || r->opt) {
				decode_fail(r, "misplaced OPT");
				return;
			}
			r->opt = true;
			r->opt_size = cls;
			r->opt_ext = (uint8_t)(x->ttl >> 24);
			r->opt_version = (uint8_t)(x->ttl >> 16);
			r->opt_do = (x->ttl & 0x8000) != 0;
			r->rcode |= (unsigned)r->opt_ext << 4;
			off += x->rdlen;
			continue;
		}
		if (cls != DNS_C_IN) {
			decode_fail(r, "class not IN");
			return;
		}
		static uint8_t wire[DNS_RDATA_MAX + 512];
		size_t wl;
		if (rdata_wire(p, len, off, x->type, x->rdlen, wire, &wl) < 0) {
			decode_fail(r, "bad rdata");
			return;
		}
		off += x->rdlen;
		char tn[16], tc[16], line[sizeof x->line];
		int n = snprintf(line, sizeof line, "%s %u %s", nm[0] ? x->owner : ".", x->ttl,
		    dns_type_name(x->type, tn));
		if (x->type == DNS_T_RRSIG) {
			snprintf(line + n, sizeof line - (size_t)n, " %s",
			    dns_type_name(dns_get16(wire), tc));
		} else if (x->type != DNS_T_NSEC3) {
			line[n++] = ' ';
			if (dns_rdata_to_text(x->type, wire, wl, line + n, sizeof line - (size_t)n) < 0)
				snprintf(line + n, sizeof line - (size_t)n, "(rdata too long)");
		}
		memcpy(x->line, line, sizeof line);
		if (r->nrr == RRS_MAX) {
			decode_fail(r, "too many records for the test");
			return;
		}
		r->nrr++;
	}
	if (off != len)
		decode_fail(r, "bytes left over");
}

/* dns_answer into a buffer of exactly outmax bytes (ASan sees overruns) */
static struct resp *
ask_raw(const struct dns_zoneset *zs, const uint8_t *q, size_t qlen, bool tcp, size_t outmax)
{
	uint8_t *qc = malloc(qlen ? qlen : 1), *out = malloc(outmax);
	memcpy(qc, q, qlen);
	memset(&R.info, 0xa5, sizeof R.info);
	R.len = dns_answer(zs, qc, qlen, tcp, out, outmax, &R.info);
	if (R.len > outmax) {
		fprintf(stderr, "%s: response of %zu bytes in a buffer of %zu\n", t_cur, R.len, outmax);
		t_cur_failed = 1;
		R.len = outmax;
	}
	memcpy(R.pkt, out, R.len);
	free(qc);
	free(out);
	if (R.len > 0) {
		decode(&R);
		if (R.err != NULL) {
			fprintf(stderr, "%s: response does not parse: %s\n", t_cur, R.err);
			t_cur_failed = 1;
		}
	}
	return &R;
}

static struct resp *
ask(const struct zset *s, const char *name, uint16_t qtype, const struct qo *o)
{
	uint8_t q[600];
	size_t n = qbuild(q, name, qtype, o);
	return ask_raw(&s->set, q, n, false, DNS_UDP_MAX);
}

static struct resp *
ask_tcp(const struct zset *s, const char *name, uint16_t qtype, const struct qo *o)
{
	uint8_t q[600];
	size_t n = qbuild(q, name, qtype, o);
	return ask_raw(&s->set, q, n, true, DNS_TCP_MAX);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of section sec, each ending in "\n"; sorted when asked. */
static const char *
sec(const struct resp *r, int which, bool sorted)
{
	static char out[4][65536];
	static unsigned k;
	char *o = out[k++ % 4];
	const char *lines[RRS_MAX];
	size_t n = 0, len = 0;
	for (size_t i = 0; i < r->nrr; i++)
		if (r->rr[i].sec == which)
			lines[n++] = r->rr[i].line;
	if (sorted)
		qsort(lines, n, sizeof *lines, cmp_str);
	o[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(o + len, sizeof out[0] - len, "%s\n", lines[i]);
	return o;
}

/* expected text with its lines sorted */
static const char *
sorted(const char *text)
{
	static char out[4][65536];
	static unsigned k;
	char *o = out[k++ % 4];
	char *copy = xstrdup(text), *lines[RRS_MAX], *save = NULL;
	size_t n = 0, len = 0;
	for (char *l = strtok_r(copy, "\n", &save); l && n < RRS_MAX; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof *lines, cmp_str);
	o[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(o + len, sizeof out[0] - len, "%s\n", lines[i]);
	free(copy);
	return o;
}

#define AN(r)	sec((r), S_AN, false)
#define NS(r)	sec((r), S_NS, true)
#define AR(r)	sec((r), S_AR, true)
#define CHECK_AN(r, text)	CHECK_STR(AN(r), text)
#define CHECK_NS(r, text)	CHECK_STR(NS(r), sorted(text))
#define CHECK_AR(r, text)	CHECK_STR(AR(r), sorted(text))

/* the header of a normal authoritative answer */
static void
check_head(const struct resp *r, unsigned rcode, bool aa)
{
	CHECK(r->len >= 12);
	CHECK(r->err == NULL);
	CHECK_INT(r->id, 0x1234);
	CHECK(r->qr);
	CHECK_INT(r->opcode, 0);
	CHECK_INT(r->rcode, rcode);
	CHECK_INT(r->aa, aa);
	CHECK(!r->tc);
	CHECK(r->rd);	/* copied from the query */
	CHECK(!r->ra);
	CHECK_INT(r->qd, 1);
}

#define SOA_NEG	"example. 300 SOA ns1.example. hostmaster.example. 2024010101 7200 3600 1209600 300\n"

/* --- positive, negative, empty non-terminal ---------------------------------------- */

T(positive_answer)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	struct resp *r = ask(&s, "www.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_STR(r->qname, "www.example.");
	CHECK_INT(r->qtype, DNS_T_A);
	CHECK_INT(r->qclass, DNS_C_IN);
	CHECK_AN(r, "www.example. 3600 A 192.0.2.3\nwww.example. 3600 A 192.0.2.4\n");
	CHECK_NS(r, "");
	CHECK_AR(r, "");
	CHECK(!r->opt);
	CHECK_INT(r->info.rcode, DNS_R_NOERROR);
	CHECK_INT(r->info.qtype, DNS_T_A);
	CHECK(r->info.zone == s.zp[0]);
	CHECK(!r->info.tc && !r->info.edns && !r->info.dnssec_ok);
	CHECK_STR((const char *)r->info.qname, "\3www\7example");

	/* MX: the exchange's addresses go in additional */
	r = ask(&s, "example.", DNS_T_MX, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "example. 3600 MX 10 mail.example.\n");
	CHECK_AR(r, "mail.example. 3600 A 192.0.2.2\n");
	/* SRV target too */
	r = ask(&s, "_sip._tcp.example.", DNS_T_SRV, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "_sip._tcp.example. 3600 SRV 0 5 5060 mail.example.\n");
	CHECK_AR(r, "mail.example. 3600 A 192.0.2.2\n");
	/* NS at the apex: authoritative data, with the in-zone addresses */
	r = ask(&s, "example.", DNS_T_NS, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "example. 3600 NS ns1.example.\nexample. 3600 NS ns.example.net.\n");
	CHECK_AR(r, "ns1.example. 3600 A 192.0.2.1\nns1.example. 3600 AAAA 2001:db8::1\n");
	/* class ANY is answered like IN */
	struct qo o = { .qclass = DNS_C_ANY };
	r = ask(&s, "www.example.", DNS_T_TXT, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "www.example. 3600 TXT \"hello\"\n");
	zset_free(&s);
}

T(nodata_and_nxdomain_carry_the_soa_with_negative_ttl)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	/* SOA TTL 3600, MINIMUM 300: the negative TTL is 300 (RFC 2308 3) */
	struct resp *r = ask(&s, "www.example.", DNS_T_AAAA, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA_NEG);
	CHECK_AR(r, "");
	r = ask(&s, "nothere.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA_NEG);
	CHECK_INT(r->info.rcode, DNS_R_NXDOMAIN);
	r = ask(&s, "deeper.nothere.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NXDOMAIN, true);
	/* below an existing name */
	r = ask(&s, "x.www.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_NS(r, SOA_NEG);
	zset_free(&s);

	/* SOA TTL below MINIMUM: the SOA TTL */
	s = (struct zset){ 0 };
	zset_add(&s, tz_load("example.", "example. 60 SOA ns1.example. h.example. 1 2 3 4 900\n"
	    "example. 60 NS ns1.example.\n", NULL));
	r = ask(&s, "x.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_NS(r, "example. 60 SOA ns1.example. h.example. 1 2 3 4 900\n");
	zset_free(&s);
}

T(empty_non_terminal_is_nodata)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	/* a.b.c.example exists: b.c and c are empty non-terminals */
	const char *ents[] = { "b.c.example.", "c.example." };
	for (size_t i = 0; i < 2; i++) {
		struct resp *r = ask(&s, ents[i], DNS_T_A, NULL);
		check_head(r, DNS_R_NOERROR, true);
		CHECK_AN(r, "");
		CHECK_NS(r, SOA_NEG);
	}
	/* names in the SOA compress against the question: its case */
	struct resp *r = ask(&s, "B.C.EXAMPLE.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, "EXAMPLE. 300 SOA ns1.EXAMPLE. hostmaster.EXAMPLE. "
	    "2024010101 7200 3600 1209600 300\n");
	r = ask(&s, "x.b.c.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NXDOMAIN, true);
	r = ask(&s, "a.b.c.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "a.b.c.example. 3600 A 192.0.2.5\n");
	zset_free(&s);
}

/* --- CNAME ------------------------------------------------------------------------- */

T(cname_chains)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	struct resp *r = ask(&s, "alias.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "alias.example. 3600 CNAME www.example.\n"
	    "www.example. 3600 A 192.0.2.3\nwww.example. 3600 A 192.0.2.4\n");
	/* the CNAME itself when asked for */
	r = ask(&s, "alias.example.", DNS_T_CNAME, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "alias.example. 3600 CNAME www.example.\n");
	/* to NODATA: the SOA of the target's zone */
	r = ask(&s, "alias.example.", DNS_T_AAAA, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "alias.example. 3600 CNAME www.example.\n");
	CHECK_NS(r, SOA_NEG);
	/* to a name that does not exist: NXDOMAIN with the CNAME (RFC 6604) */
	r = ask(&s, "dangling.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_AN(r, "dangling.example. 3600 CNAME nothere.example.\n");
	CHECK_NS(r, SOA_NEG);
	/* out of the zone: the chain stops, nothing else */
	r = ask(&s, "ext.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "ext.example. 3600 CNAME www.example.net.\n");
	CHECK_NS(r, "");
	/* into a delegation: the CNAME, then the referral (RFC 1034 4.3.2
	 * step 3b, as NSD answers; found by the NSD comparison); AA stays,
	 * the CNAME is ours */
	r = ask(&s, "tosub.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "tosub.example. 3600 CNAME host.sub.example.\n");
	CHECK_NS(r, "sub.example. 3600 NS ns.example.net.\nsub.example. 3600 NS ns.sub.example.\n");
	/* into a wildcard */
	r = ask(&s, "cw.example.", DNS_T_TXT, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "cw.example. 3600 CNAME x.wild.example.\nx.wild.example. 3600 TXT \"wild\"\n");
	r = ask(&s, "cw.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "cw.example. 3600 CNAME x.wild.example.\n");
	CHECK_NS(r, SOA_NEG);
	zset_free(&s);
}

T(cname_chain_at_most_8_hops_and_loops_end)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	/* c0 -> ... -> c8 (8 CNAMEs, 8 hops): followed to the end */
	struct resp *r = ask(&s, "c0.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_INT(r->an, 9);
	CHECK_AN(r,
	    "c0.example. 3600 CNAME c1.example.\nc1.example. 3600 CNAME c2.example.\n"
	    "c2.example. 3600 CNAME c3.example.\nc3.example. 3600 CNAME c4.example.\n"
	    "c4.example. 3600 CNAME c5.example.\nc5.example. 3600 CNAME c6.example.\n"
	    "c6.example. 3600 CNAME c7.example.\nc7.example. 3600 CNAME c8.example.\n"
	    "c8.example. 3600 A 192.0.2.8\n");
	/* d0 -> ... -> d9 (9 CNAMEs): the 9th hop is not followed; the
	 * client goes on from d9 itself */
	r = ask(&s, "d0.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_INT(r->an, 9);
	CHECK_STR(r->rr[8].line, "d8.example. 3600 CNAME d9.example.");
	CHECK_NS(r, "");
	/* loops: each CNAME once, then it ends */
	r = ask(&s, "loop1.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "loop1.example. 3600 CNAME loop2.example.\n"
	    "loop2.example. 3600 CNAME loop1.example.\n");
	r = ask(&s, "self.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "self.example. 3600 CNAME self.example.\n");
	zset_free(&s);
}

/* --- wildcards (RFC 4592) ------------------------------------------------------------- */

T(wildcards_rfc4592_2_2_1)
{
	struct zset s = { 0 };
	zset_add(&s, tz_load("example.", RFC4592_ZONE, NULL));
	/* synthesized */
	struct resp *r = ask(&s, "host3.example.", DNS_T_MX, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "host3.example. 3600 MX 10 host1.example.\n");
	CHECK_AR(r, "host1.example. 3600 A 192.0.2.1\n");
	r = ask(&s, "host3.example.", DNS_T_A, NULL);	/* no A at *.example: NODATA */
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, "example. 3600 SOA ns.example.com. hostmaster.example. 1 7200 3600 1209600 3600\n");
	r = ask(&s, "foo.bar.example.", DNS_T_TXT, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "foo.bar.example. 3600 TXT \"this is a wildcard\"\n");
	/* the owner is the query name, in the query's case */
	r = ask(&s, "FOO.Bar.example.", DNS_T_TXT, NULL);
	CHECK_AN(r, "FOO.Bar.example. 3600 TXT \"this is a wildcard\"\n");
	/* not synthesized */
	r = ask(&s, "host1.example.", DNS_T_MX, NULL);		/* host1 exists */
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, "example. 3600 SOA ns.example.com. hostmaster.example. 1 7200 3600 1209600 3600\n");
	r = ask(&s, "sub.*.example.", DNS_T_MX, NULL);		/* sub.*.example exists */
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	r = ask(&s, "_telnet._tcp.host1.example.", DNS_T_SRV, NULL);	/* _tcp.host1: ENT */
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_AN(r, "");
	r = ask(&s, "host.subdel.example.", DNS_T_A, NULL);	/* a zone cut */
	check_head(r, DNS_R_NOERROR, false);
	CHECK_AN(r, "");
	CHECK_NS(r, "subdel.example. 3600 NS ns.example.com.\nsubdel.example. 3600 NS ns.example.net.\n");
	r = ask(&s, "ghost.*.example.", DNS_T_MX, NULL);	/* *.example exists */
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_AN(r, "");
	/* the wildcard's own name is an ordinary name */
	r = ask(&s, "*.example.", DNS_T_MX, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "*.example. 3600 MX 10 host1.example.\n");
	/* _tcp.host2 is an ENT too: no wildcard below it, below host2 none */
	r = ask(&s, "_tcp.host2.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	r = ask(&s, "host2.example.", DNS_T_TXT, NULL);	/* ENT: not the wildcard */
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	zset_free(&s);
}

/* --- delegations ---------------------------------------------------------------------- */

T(referral_with_glue)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	const char *names[] = { "sub.example.", "host.sub.example.", "a.b.sub.example.",
		"ns.sub.example." };
	for (size_t i = 0; i < 4; i++) {
		struct resp *r = ask(&s, names[i], DNS_T_A, NULL);
		check_head(r, DNS_R_NOERROR, false);	/* AA clear */
		CHECK_AN(r, "");
		CHECK_NS(r, "sub.example. 3600 NS ns.sub.example.\nsub.example. 3600 NS ns.example.net.\n");
		CHECK_AR(r, "ns.sub.example. 3600 A 192.0.2.53\nns.sub.example. 3600 AAAA 2001:db8::53\n");
		CHECK(r->info.zone == s.zp[0]);
	}
	/* NS at the cut: a referral too, not an authoritative answer */
	struct resp *r = ask(&s, "sub.example.", DNS_T_NS, NULL);
	check_head(r, DNS_R_NOERROR, false);
	CHECK_AN(r, "");
	/* the NS target in our own zone: its addresses, not glue */
	r = ask(&s, "x.secure.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, false);
	CHECK_NS(r, "secure.example. 3600 NS ns1.example.\n");	/* no DS without DO */
	CHECK_AR(r, "ns1.example. 3600 A 192.0.2.1\nns1.example. 3600 AAAA 2001:db8::1\n");
	zset_free(&s);
}

T(ds_answered_at_the_cut_with_aa)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	struct resp *r = ask(&s, "secure.example.", DNS_T_DS, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "secure.example. 3600 DS 12345 13 2 "
	    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n");
	CHECK_NS(r, "");
	/* no DS at an insecure cut: NODATA from the parent */
	r = ask(&s, "sub.example.", DNS_T_DS, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA_NEG);
	/* DS below the cut belongs to the child: a referral */
	r = ask(&s, "x.sub.example.", DNS_T_DS, NULL);
	check_head(r, DNS_R_NOERROR, false);
	CHECK_NS(r, "sub.example. 3600 NS ns.sub.example.\nsub.example. 3600 NS ns.example.net.\n");
	zset_free(&s);
}

/* BUG: answer.h says "DS is answered from the parent side of the cut (RFC
 * 4035 3.1.4.1)", but with both the parent and the child zone loaded the
 * child (the longest origin) answers DS at its own apex: NODATA with the
 * child's SOA instead of the parent's DS RRset.  Validators asking us for
 * the DS of sub.example get a denial and the chain of trust breaks. */
T(test_bug_ds_at_child_apex_answered_by_child)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	zset_add(&s, tz_load("secure.example.",
	    "$TTL 3600\n@ SOA ns1.example. h.example. 1 2 3 4 300\n@ NS ns1.example.\n"
	    "www A 192.0.2.77\n", NULL));
	/* the child answers for its own data */
	struct resp *r = ask(&s, "www.secure.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "www.secure.example. 3600 A 192.0.2.77\n");
	CHECK(r->info.zone == s.zp[1]);
	/* but the DS at its apex is the parent's */
	r = ask(&s, "secure.example.", DNS_T_DS, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "secure.example. 3600 DS 12345 13 2 "
	    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n");
	CHECK(r->info.zone == s.zp[0]);
	zset_free(&s);
}

/* --- DNAME ---------------------------------------------------------------------------- */

T(dname_synthesis)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	/* within the zone: DNAME, synthesized CNAME, and on */
	struct resp *r = ask(&s, "www.old.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "old.example. 3600 DNAME new.example.\n"
	    "www.old.example. 3600 CNAME www.new.example.\n"
	    "www.new.example. 3600 A 192.0.2.10\n");
	/* the query's case in the synthesized owner and the kept prefix */
	r = ask(&s, "WwW.oLd.example.", DNS_T_A, NULL);
	CHECK_AN(r, "oLd.example. 3600 DNAME new.example.\n"
	    "WwW.oLd.example. 3600 CNAME WwW.new.example.\n"
	    "WwW.new.example. 3600 A 192.0.2.10\n");
	/* to a name that does not exist there */
	r = ask(&s, "x.y.old.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_AN(r, "old.example. 3600 DNAME new.example.\n"
	    "x.y.old.example. 3600 CNAME x.y.new.example.\n");
	CHECK_NS(r, SOA_NEG);
	/* out of the zone: stops after the CNAME */
	r = ask(&s, "a.b.dn.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "dn.example. 3600 DNAME example.net.\na.b.dn.example. 3600 CNAME a.b.example.net.\n");
	CHECK_NS(r, "");
	/* the DNAME's own name is not redirected */
	r = ask(&s, "old.example.", DNS_T_DNAME, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "old.example. 3600 DNAME new.example.\n");
	r = ask(&s, "old.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA_NEG);
	/* the DNAME target is never compressed (RFC 6672 2.5) */
	r = ask(&s, "old.example.", DNS_T_DNAME, NULL);
	CHECK_INT(r->rr[0].rdlen, 13);
	zset_free(&s);
}

T(dname_result_too_long_is_yxdomain)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	/* the target is 245 bytes: a 2-byte label fits, a 21-byte one not */
	/* (over TCP: DNAME and CNAME are 500 bytes) */
	struct resp *r = ask_tcp(&s, "a.long.example.", DNS_T_A, NULL);
	CHECK_INT(r->rcode, DNS_R_NOERROR);
	CHECK_INT(r->an, 2);
	r = ask(&s, "aaaaaaaaaaaaaaaaaaaa.long.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_YXDOMAIN, true);
	CHECK_INT(r->an, 1);
	CHECK_INT(r->rr[0].type, DNS_T_DNAME);
	CHECK_STR(r->rr[0].owner, "long.example.");
	CHECK_INT(r->ns, 0);
	CHECK_INT(r->info.rcode, DNS_R_YXDOMAIN);
	/* exactly 255 bytes fits: 10-byte prefix label + 245 */
	r = ask_tcp(&s, "aaaaaaaaa.long.example.", DNS_T_A, NULL);
	CHECK_INT(r->rcode, DNS_R_NOERROR);
	CHECK_INT(r->an, 2);
	r = ask(&s, "aaaaaaaaaa.long.example.", DNS_T_A, NULL);
	CHECK_INT(r->rcode, DNS_R_YXDOMAIN);
	zset_free(&s);
}

/* BUG: RFC 6672 2.3 allows a DNAME at the zone apex (it redirects the
 * names below the apex, and the apex keeps its SOA and NS), but
 * walk_down() only looks at nodes strictly below the apex, so the apex
 * DNAME is never applied: www.example gets NXDOMAIN instead of the DNAME
 * and "www.example CNAME www.example.net". */
T(test_bug_dname_at_apex_ignored)
{
	struct zset s = { 0 };
	zset_add(&s, tz_load("example.", "$TTL 3600\n@ SOA ns1.example.net. h.example. 1 2 3 4 300\n"
	    "@ NS ns1.example.net.\n@ DNAME example.net.\n", NULL));
	struct resp *r = ask(&s, "www.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "example. 3600 DNAME example.net.\nwww.example. 3600 CNAME www.example.net.\n");
	/* the apex itself still answers */
	r = ask(&s, "example.", DNS_T_SOA, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_INT(r->an, 1);
	zset_free(&s);
}

/* --- what is refused, malformed, not implemented ----------------------------------- */

T(refused_outside_our_zones)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	struct resp *r = ask(&s, "www.example.net.", DNS_T_A, NULL);
	check_head(r, DNS_R_REFUSED, false);
	CHECK_INT(r->an + r->ns + r->ar, 0);
	CHECK(r->info.zone == NULL);
	CHECK_INT(r->info.rcode, DNS_R_REFUSED);
	r = ask(&s, "example2.", DNS_T_A, NULL);
	CHECK_INT(r->rcode, DNS_R_REFUSED);
	r = ask(&s, ".", DNS_T_NS, NULL);
	CHECK_INT(r->rcode, DNS_R_REFUSED);
	/* another class */
	struct qo o = { .qclass = DNS_C_CH };
	r = ask(&s, "www.example.", DNS_T_TXT, &o);
	check_head(r, DNS_R_REFUSED, false);
	/* zone transfers are not done here */
	r = ask(&s, "example.", DNS_T_AXFR, NULL);
	CHECK_INT(r->rcode, DNS_R_REFUSED);
	r = ask(&s, "example.", DNS_T_IXFR, NULL);
	CHECK_INT(r->rcode, DNS_R_REFUSED);
	/* with EDNS the OPT goes back */
	o = (struct qo){ .edns = true, .dnssec = true };
	r = ask(&s, "www.example.net.", DNS_T_A, &o);
	check_head(r, DNS_R_REFUSED, false);
	CHECK(r->opt && r->opt_do);
	CHECK_INT(r->ar, 1);
	zset_free(&s);

	/* the zone with the longest origin answers */
	s = (struct zset){ 0 };
	zset_add(&s, main_zone());
	zset_add(&s, tz_load("deep.sub2.example.", "$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n"
	    "ns A 192.0.2.99\n", NULL));
	r = ask(&s, "ns.deep.sub2.example.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "ns.deep.sub2.example. 60 A 192.0.2.99\n");
	CHECK(r->info.zone == s.zp[1]);
	r = ask(&s, "sub2.example.", DNS_T_A, NULL);
	CHECK_INT(r->rcode, DNS_R_NXDOMAIN);
	CHECK(r->info.zone == s.zp[0]);
	zset_free(&s);
}

/* a raw query: header fields, then the given bytes */
static size_t
raw(uint8_t *q, uint8_t b2, uint8_t b3, unsigned qd, unsigned an, unsigned ns, unsigned ar,
    const void *body, size_t n)
{
	q[0] = 0x12;
	q[1] = 0x34;
	q[2] = b2;
	q[3] = b3;
	q[4] = (uint8_t)(qd >> 8);
	q[5] = (uint8_t)qd;
	q[6] = (uint8_t)(an >> 8);
	q[7] = (uint8_t)an;
	q[8] = (uint8_t)(ns >> 8);
	q[9] = (uint8_t)ns;
	q[10] = (uint8_t)(ar >> 8);
	q[11] = (uint8_t)ar;
	memcpy(q + 12, body, n);
	return 12 + n;
}

#define QWWW	"\3www\7example\0\0\1\0\1"	/* www.example. A IN: 17 bytes */
#define OPT0	"\0\0\x29\x10\0\0\0\0\0\0\0"	/* OPT, 4096, no flags: 11 bytes */

T(formerr)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	uint8_t q[600];
	struct resp *r;
	/* a header alone; qdcount 0 */
	r = ask_raw(&s.set, q, raw(q, 1, 0, 0, 0, 0, 0, "", 0), false, 512);
	CHECK_INT(r->len, 12);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	CHECK(r->qr && !r->aa && r->rd);
	CHECK_INT(r->qd + r->an + r->ns + r->ar, 0);
	CHECK_INT(r->info.rcode, DNS_R_FORMERR);
	CHECK(r->info.zone == NULL);
	/* two questions */
	r = ask_raw(&s.set, q, raw(q, 1, 0, 2, 0, 0, 0, QWWW QWWW, 34), false, 512);
	CHECK_INT(r->len, 12);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	/* records in the answer or authority section of a query */
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 1, 0, 0, QWWW, 17), false, 512);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 1, 0, QWWW, 17), false, 512);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	/* the question cut anywhere */
	for (size_t cut = 0; cut < 17; cut++) {
		r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 0, 0, QWWW, cut), false, 512);
		CHECK_INT(r->len, 12);
		CHECK_INT(r->rcode, DNS_R_FORMERR);
	}
	/* a bad label type, a forward pointer */
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 0, 0, "\x41www\0\0\1\0\1", 9), false, 512);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 0, 0, "\xc0\x0e\0\0\1\0\1", 7), false, 512);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	/* two OPTs (RFC 6891 6.1.1): FORMERR with the question, no OPT */
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 0, 2, QWWW OPT0 OPT0, 39), false, 512);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	CHECK_INT(r->qd, 1);
	CHECK_STR(r->qname, "www.example.");
	CHECK(!r->opt);
	CHECK_INT(r->an + r->ns + r->ar, 0);
	/* an OPT whose owner is not the root */
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 0, 1, QWWW "\1x" OPT0, 30), false, 512);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	CHECK(!r->opt);
	/* an additional section shorter than its count says */
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 0, 2, QWWW OPT0, 28), false, 512);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	/* an OPT whose rdata runs past the end */
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 0, 1, QWWW "\0\0\x29\x10\0\0\0\0\0\0\5ab", 30),
	    false, 512);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	/* meta types as the question type */
	r = ask(&s, "www.example.", DNS_T_OPT, NULL);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	CHECK_INT(r->qd, 1);
	r = ask(&s, "www.example.", DNS_T_TSIG, NULL);
	CHECK_INT(r->rcode, DNS_R_FORMERR);
	/* other additional records are skipped over */
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 0, 2,
	    QWWW "\3foo\0\0\1\0\1\0\0\0\0\0\4\1\2\3\4" OPT0, 17 + 19 + 11), false, 512);
	check_head(r, DNS_R_NOERROR, true);
	CHECK(r->opt);
	CHECK_INT(r->an, 2);
	zset_free(&s);
}

T(notimp_and_silence)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	uint8_t q[600];
	struct resp *r;
	/* opcodes other than QUERY: NOTIMP, header only, opcode echoed */
	for (unsigned op = 1; op < 16; op++) {
		r = ask_raw(&s.set, q, raw(q, (uint8_t)(op << 3 | 1), 0, 1, 0, 0, 0, QWWW, 17), false,
		    512);
		CHECK_INT(r->len, 12);
		CHECK_INT(r->rcode, DNS_R_NOTIMP);
		CHECK_INT(r->opcode, op);
		CHECK(r->qr && !r->aa && r->rd);
		CHECK_INT(r->qd + r->an + r->ns + r->ar, 0);
		CHECK_INT(r->info.rcode, DNS_R_NOTIMP);
	}
	/* a response (QR set) is never answered */
	r = ask_raw(&s.set, q, raw(q, 0x81, 0, 1, 0, 0, 0, QWWW, 17), false, 512);
	CHECK_INT(r->len, 0);
	r = ask_raw(&s.set, q, raw(q, 0x80 | 5 << 3, 0, 1, 0, 0, 0, QWWW, 17), false, 512);
	CHECK_INT(r->len, 0);
	/* nor less than a header */
	for (size_t n = 0; n < 12; n++) {
		r = ask_raw(&s.set, q, n, false, 512);
		CHECK_INT(r->len, 0);
	}
	/* nor into a buffer under 512 bytes */
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 0, 0, QWWW, 17), false, 511);
	CHECK_INT(r->len, 0);
	r = ask_raw(&s.set, q, raw(q, 1, 0, 1, 0, 0, 0, QWWW, 17), false, 512);
	CHECK_INT(r->rcode, DNS_R_NOERROR);
	zset_free(&s);
}

/* --- EDNS ------------------------------------------------------------------------------- */

T(edns_opt_echo_and_badvers)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	struct qo o = { .edns = true, .size = 4096 };
	struct resp *r = ask(&s, "www.example.", DNS_T_A, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK(r->opt);
	CHECK_INT(r->opt_size, DNS_UDP_MAX);
	CHECK_INT(r->opt_version, 0);
	CHECK(!r->opt_do);
	CHECK_INT(r->ar, 1);
	CHECK(r->info.edns && !r->info.dnssec_ok);
	/* the OPT is the last record */
	CHECK_INT(r->len - 11, r->rr[r->nrr - 1].off + 2 + 10 + r->rr[r->nrr - 1].rdlen);
	o.dnssec = true;
	r = ask(&s, "www.example.", DNS_T_A, &o);
	CHECK(r->opt && r->opt_do);
	CHECK(r->info.dnssec_ok);
	/* version 1: BADVERS (16) in the extended RCODE, nothing else */
	o.version = 1;
	r = ask(&s, "www.example.", DNS_T_A, &o);
	CHECK_INT(r->rcode, DNS_R_BADVERS);
	CHECK_INT(r->pkt[3] & 15, 0);
	CHECK_INT(r->opt_ext, 1);
	CHECK(r->opt && r->opt_do && r->opt_version == 0);
	CHECK_INT(r->qd, 1);
	CHECK_INT(r->an + r->ns, 0);
	CHECK(!r->aa);
	CHECK_INT(r->info.rcode, DNS_R_BADVERS);
	o.version = 255;
	r = ask(&s, "www.example.net.", DNS_T_A, &o);	/* before the zone is looked at */
	CHECK_INT(r->rcode, DNS_R_BADVERS);
	/* no OPT in the query: none in the answer */
	r = ask(&s, "www.example.", DNS_T_A, NULL);
	CHECK(!r->opt);
	/* CD is copied, AD is not set */
	o = (struct qo){ .cd = true };
	r = ask(&s, "www.example.", DNS_T_A, &o);
	CHECK(r->cd && !r->ad);
	zset_free(&s);
}

/* --- truncation --------------------------------------------------------------------------- */

T(tc_over_udp_and_full_over_tcp)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	/* big: 3 x 213 bytes; 668 in all without EDNS */
	struct resp *r = ask(&s, "mid.example.", DNS_T_TXT, NULL);
	CHECK(r->tc);
	CHECK_INT(r->len, 12 + 17);
	CHECK_INT(r->qd, 1);
	CHECK_INT(r->an + r->ns + r->ar, 0);
	CHECK(r->aa);
	CHECK_INT(r->rcode, DNS_R_NOERROR);
	CHECK(r->info.tc);
	r = ask_tcp(&s, "mid.example.", DNS_T_TXT, NULL);
	CHECK(!r->tc);
	CHECK_INT(r->an, 3);
	CHECK_INT(r->len, 12 + 17 + 3 * 213);
	/* EDNS: min(client size, 1232) */
	struct qo o = { .edns = true, .size = 1232 };
	r = ask(&s, "mid.example.", DNS_T_TXT, &o);
	CHECK(!r->tc);
	CHECK_INT(r->an, 3);
	CHECK_INT(r->len, 12 + 17 + 3 * 213 + 11);
	o.size = 12 + 17 + 3 * 213 + 11;	/* exactly */
	r = ask(&s, "mid.example.", DNS_T_TXT, &o);
	CHECK(!r->tc);
	o.size--;
	r = ask(&s, "mid.example.", DNS_T_TXT, &o);
	CHECK(r->tc);
	CHECK(r->opt);
	CHECK_INT(r->len, 12 + 17 + 11);
	o.size = 100;	/* below 512 counts as 512 */
	r = ask(&s, "mid.example.", DNS_T_TXT, &o);
	CHECK(r->tc);
	/* a small answer with a small size is fine */
	r = ask(&s, "www.example.", DNS_T_A, &o);
	CHECK(!r->tc && r->an == 2);
	/* and an answer over the client's 100 bytes but under 512 too */
	r = ask(&s, "example.", DNS_T_NS, &o);
	CHECK(!r->tc);
	CHECK(r->len > 100 && r->len <= 512);
	CHECK_INT(r->an, 2);
	zset_free(&s);
}

T(tc_respects_the_1232_cap_and_the_buffer)
{
	/* a zone with one RRset of 10 x 213 bytes */
	struct zset s = { 0 };
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "$TTL 3600\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n");
	for (int i = 0; i < 10; i++) {
		buf_printf(&b, "big TXT \"");
		for (int k = 0; k < 199; k++)
			buf_putc(&b, 'b');
		buf_printf(&b, "%d\"\n", i);
	}
	buf_cstr(&b);
	zset_add(&s, tz_load("example.", (const char *)b.data, NULL));
	struct qo o = { .edns = true, .size = 65000 };
	uint8_t q[600];
	size_t ql = qbuild(q, "big.example.", DNS_T_TXT, &o);
	/* UDP, large buffer: still capped at 1232 */
	struct resp *r = ask_raw(&s.set, q, ql, false, 65535);
	CHECK(r->tc);
	CHECK(r->len <= DNS_UDP_MAX);
	/* UDP with a buffer below the client's size: the buffer */
	r = ask_raw(&s.set, q, ql, false, 600);
	CHECK(r->tc);
	/* TCP: the whole answer */
	r = ask_raw(&s.set, q, ql, true, DNS_TCP_MAX);
	CHECK(!r->tc);
	CHECK_INT(r->an, 10);
	CHECK_INT(r->len, 12 + 17 + 10 * 213 + 11);
	/* TCP into a smaller buffer: what fits, else TC */
	r = ask_raw(&s.set, q, ql, true, 1500);
	CHECK(r->tc);
	CHECK(r->len <= 1500);
	r = ask_raw(&s.set, q, ql, true, 12 + 17 + 10 * 213 + 11);
	CHECK(!r->tc);
	/* without EDNS over UDP: 512 */
	ql = qbuild(q, "big.example.", DNS_T_TXT, NULL);
	r = ask_raw(&s.set, q, ql, false, 65535);
	CHECK(r->tc && r->len <= 512);
	zset_free(&s);
	buf_free(&b);
}

T(additional_that_does_not_fit_is_left_out_without_tc)
{
	/* an MX whose exchange has many addresses: the answer fits in 512,
	 * the additional section does not */
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "$TTL 3600\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n@ MX 10 mx\n");
	for (int i = 0; i < 40; i++)
		buf_printf(&b, "mx AAAA 2001:db8::%d\n", i + 1);
	buf_cstr(&b);
	struct zset s = { 0 };
	zset_add(&s, tz_load("example.", (const char *)b.data, NULL));
	struct resp *r = ask(&s, "example.", DNS_T_MX, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_INT(r->an, 1);
	CHECK_INT(r->ar, 0);	/* the AAAA RRset whole or not at all */
	CHECK(r->len <= 512);
	r = ask_tcp(&s, "example.", DNS_T_MX, NULL);
	CHECK_INT(r->ar, 40);
	zset_free(&s);
	buf_free(&b);
}

/* --- compression and case ------------------------------------------------------------------ */

T(compression_points_to_the_question_and_keeps_its_case)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	struct resp *r = ask(&s, "WwW.ExAmPlE.", DNS_T_A, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_STR(r->qname, "WwW.ExAmPlE.");
	CHECK_AN(r, "WwW.ExAmPlE. 3600 A 192.0.2.3\nWwW.ExAmPlE. 3600 A 192.0.2.4\n");
	/* both owners are the 2-byte pointer to offset 12 */
	CHECK_INT(r->rr[0].off, 12 + 13 + 4);
	CHECK(r->pkt[r->rr[0].off] == 0xc0 && r->pkt[r->rr[0].off + 1] == 12);
	CHECK(r->pkt[r->rr[1].off] == 0xc0 && r->pkt[r->rr[1].off + 1] == 12);
	CHECK_INT(r->len, 12 + 17 + 2 * (2 + 10 + 4));
	/* the SOA owner is the question's suffix "ExAmPlE." at offset 16 */
	r = ask(&s, "NoNe.ExAmPlE.", DNS_T_A, NULL);
	CHECK_INT(r->rcode, DNS_R_NXDOMAIN);
	CHECK(r->pkt[r->rr[0].off] == 0xc0 && r->pkt[r->rr[0].off + 1] == 12 + 5);
	CHECK_STR(r->rr[0].owner, "ExAmPlE.");
	/* names in SOA rdata compress against it too: 4 + 2 bytes of mname,
	 * 11 + 2 of rname, 20 of numbers */
	CHECK_INT(r->rr[0].rdlen, 6 + 13 + 20);
	/* a CNAME target is compressed, and its owner later points to it */
	r = ask(&s, "alias.example.", DNS_T_A, NULL);
	CHECK_INT(r->an, 3);
	CHECK_INT(r->rr[0].rdlen, 4 + 2);	/* "www" + pointer to "example." */
	CHECK_INT(r->pkt[r->rr[1].off] & 0xc0, 0xc0);
	CHECK_INT(((r->pkt[r->rr[1].off] & 0x3f) << 8 | r->pkt[r->rr[1].off + 1]),
	    r->rr[0].off + 2 + 10);
	/* SRV rdata is not compressed (RFC 2782, RFC 3597 4) */
	r = ask(&s, "_sip._tcp.example.", DNS_T_SRV, NULL);
	CHECK_INT(r->rr[0].rdlen, 6 + 14);
	zset_free(&s);
}

/* --- ANY, RRSIG ------------------------------------------------------------------------------- */

T(any_gives_one_rrset)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	struct resp *r = ask(&s, "www.example.", DNS_T_ANY, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "www.example. 3600 A 192.0.2.3\nwww.example. 3600 A 192.0.2.4\n");
	r = ask(&s, "example.", DNS_T_ANY, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_INT(r->an, 2);
	CHECK_INT(r->rr[0].type, r->rr[1].type);
	r = ask(&s, "b.c.example.", DNS_T_ANY, NULL);	/* ENT: NODATA */
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA_NEG);
	r = ask(&s, "nothere.example.", DNS_T_ANY, NULL);
	CHECK_INT(r->rcode, DNS_R_NXDOMAIN);
	zset_free(&s);

	/* in a signed zone, one RRset and its signatures with DO */
	s = (struct zset){ 0 };
	zset_add(&s, tz_load("example.", NULL, "tests/data/dns/rfc4035.nsec.signed"));
	struct qo o = { .edns = true, .dnssec = true };
	r = ask(&s, "xx.example.", DNS_T_ANY, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "xx.example. 3600 A 192.0.2.10\nxx.example. 3600 RRSIG A\n");
	zset_free(&s);
}

/* BUG (minor): RFC 1034 4.3.2 step 3a follows a CNAME only when QTYPE
 * does not match CNAME, and ANY matches every type: ANY at a CNAME is the
 * CNAME alone (BIND, NSD do so).  answer_node() follows the chain for
 * ANY, so the answer also carries the target's first RRset. */
T(test_bug_any_at_cname_follows_the_chain)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	struct resp *r = ask(&s, "alias.example.", DNS_T_ANY, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "alias.example. 3600 CNAME www.example.\n");
	zset_free(&s);
}

T(qtype_rrsig)
{
	struct zset s = { 0 };
	zset_add(&s, tz_load("example.", NULL, "tests/data/dns/rfc4035.nsec.signed"));
	/* every signature at the name, without DO too */
	struct resp *r = ask(&s, "ns1.example.", DNS_T_RRSIG, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_STR(sec(r, S_AN, true), sorted("ns1.example. 3600 RRSIG A\nns1.example. 3600 RRSIG NSEC\n"));
	/* the apex: one signature for each of SOA NS MX DNSKEY NSEC (TCP:
	 * 5 x 103 bytes do not fit 512) */
	r = ask_tcp(&s, "example.", DNS_T_RRSIG, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_STR(sec(r, S_AN, true), sorted("example. 3600 RRSIG SOA\nexample. 3600 RRSIG NS\n"
	    "example. 3600 RRSIG MX\nexample. 3600 RRSIG DNSKEY\nexample. 3600 RRSIG NSEC\n"));
	r = ask(&s, "example.", DNS_T_RRSIG, NULL);
	CHECK(r->tc);
	zset_free(&s);
	/* in an unsigned zone: NODATA */
	s = (struct zset){ 0 };
	zset_add(&s, main_zone());
	r = ask(&s, "www.example.", DNS_T_RRSIG, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA_NEG);
	zset_free(&s);
}

/* BUG (minor): for QTYPE RRSIG, answer_node() takes "c->an.n > 0" to mean
 * "this node had signatures", but an.n also counts the CNAMEs of the chain
 * that led here: RRSIG at a CNAME whose target has no signatures answers
 * with the CNAME and no SOA, a NODATA answer that cannot be cached
 * negatively (RFC 2308 2.2) and is not what the target holds. */
T(test_bug_rrsig_query_through_cname_lacks_soa)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	struct resp *r = ask(&s, "alias.example.", DNS_T_RRSIG, NULL);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "alias.example. 3600 CNAME www.example.\n");
	CHECK_NS(r, SOA_NEG);
	zset_free(&s);
}

/* --- DNSSEC: NSEC (RFC 4035 Appendix B, zone of Appendix A) ---------------------------------- */

#define SOA4035 "example. 3600 SOA ns1.example. bugs.x.w.example. 1081539377 3600 300 3600000 3600\n" \
	"example. 3600 RRSIG SOA\n"

static struct tz *
rfc4035(void)
{
	return tz_load("example.", NULL, "tests/data/dns/rfc4035.nsec.signed");
}

T(dnssec_nsec_rfc4035_appendix_b)
{
	struct zset s = { 0 };
	zset_add(&s, rfc4035());
	struct qo o = { .edns = true, .dnssec = true };
	struct resp *r;

	/* B.1 answer */
	r = ask(&s, "x.w.example.", DNS_T_MX, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "x.w.example. 3600 MX 1 xx.example.\nx.w.example. 3600 RRSIG MX\n");
	CHECK_NS(r, "");
	CHECK_AR(r, "xx.example. 3600 A 192.0.2.10\nxx.example. 3600 RRSIG A\n"
	    "xx.example. 3600 AAAA 2001:db8::f00:baaa\nxx.example. 3600 RRSIG AAAA\n");
	CHECK(r->opt_do);

	/* B.2 name error: the NSEC covering the name, and the one covering
	 * the wildcard at the closest encloser */
	r = ask(&s, "ml.example.", DNS_T_A, &o);
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA4035
	    "b.example. 3600 NSEC ns1.example. NS RRSIG NSEC\nb.example. 3600 RRSIG NSEC\n"
	    "example. 3600 NSEC a.example. NS SOA MX RRSIG NSEC DNSKEY\nexample. 3600 RRSIG NSEC\n");

	/* B.3 no data */
	r = ask(&s, "ns1.example.", DNS_T_MX, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA4035
	    "ns1.example. 3600 NSEC ns2.example. A RRSIG NSEC\nns1.example. 3600 RRSIG NSEC\n");

	/* B.4 referral to a signed zone */
	r = ask(&s, "mc.a.example.", DNS_T_MX, &o);
	check_head(r, DNS_R_NOERROR, false);
	CHECK_AN(r, "");
	CHECK_NS(r, "a.example. 3600 NS ns1.a.example.\na.example. 3600 NS ns2.a.example.\n"
	    "a.example. 3600 DS 57855 5 1 B6DCD485719ADCA18E5F3D48A2331627FDD3636B\n"
	    "a.example. 3600 RRSIG DS\n");
	CHECK_AR(r, "ns1.a.example. 3600 A 192.0.2.5\nns2.a.example. 3600 A 192.0.2.6\n");

	/* B.5 referral to an unsigned zone: the NSEC proves there is no DS */
	r = ask(&s, "mc.b.example.", DNS_T_MX, &o);
	check_head(r, DNS_R_NOERROR, false);
	CHECK_NS(r, "b.example. 3600 NS ns1.b.example.\nb.example. 3600 NS ns2.b.example.\n"
	    "b.example. 3600 NSEC ns1.example. NS RRSIG NSEC\nb.example. 3600 RRSIG NSEC\n");
	CHECK_AR(r, "ns1.b.example. 3600 A 192.0.2.7\nns2.b.example. 3600 A 192.0.2.8\n");

	/* B.6 wildcard expansion: the answer and the NSEC that proves no
	 * closer match */
	r = ask(&s, "a.z.w.example.", DNS_T_MX, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "a.z.w.example. 3600 MX 1 ai.example.\na.z.w.example. 3600 RRSIG MX\n");
	CHECK_NS(r, "x.y.w.example. 3600 NSEC xx.example. MX RRSIG NSEC\n"
	    "x.y.w.example. 3600 RRSIG NSEC\n");
	CHECK_AR(r, "ai.example. 3600 A 192.0.2.9\nai.example. 3600 RRSIG A\n"
	    "ai.example. 3600 AAAA 2001:db8::f00:baa9\nai.example. 3600 RRSIG AAAA\n");

	/* B.7 wildcard no data */
	r = ask(&s, "a.z.w.example.", DNS_T_AAAA, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA4035
	    "x.y.w.example. 3600 NSEC xx.example. MX RRSIG NSEC\nx.y.w.example. 3600 RRSIG NSEC\n"
	    "*.w.example. 3600 NSEC x.w.example. MX RRSIG NSEC\n*.w.example. 3600 RRSIG NSEC\n");

	/* DS at the cut: the parent's signed answer */
	r = ask(&s, "a.example.", DNS_T_DS, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "a.example. 3600 DS 57855 5 1 B6DCD485719ADCA18E5F3D48A2331627FDD3636B\n"
	    "a.example. 3600 RRSIG DS\n");
	CHECK_NS(r, "");
	/* no DS at the insecure cut: NODATA with the cut's NSEC */
	r = ask(&s, "b.example.", DNS_T_DS, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA4035
	    "b.example. 3600 NSEC ns1.example. NS RRSIG NSEC\nb.example. 3600 RRSIG NSEC\n");

	/* B.8 DS child zone no data (the apex's DS) */
	r = ask(&s, "example.", DNS_T_DS, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA4035
	    "example. 3600 NSEC a.example. NS SOA MX RRSIG NSEC DNSKEY\nexample. 3600 RRSIG NSEC\n");

	/* empty non-terminals: the NSEC that covers them (its next name is
	 * below them, which proves they exist) */
	r = ask(&s, "y.w.example.", DNS_T_A, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_NS(r, SOA4035
	    "x.w.example. 3600 NSEC x.y.w.example. MX RRSIG NSEC\nx.w.example. 3600 RRSIG NSEC\n");
	r = ask(&s, "w.example.", DNS_T_A, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_NS(r, SOA4035
	    "ns2.example. 3600 NSEC *.w.example. A RRSIG NSEC\nns2.example. 3600 RRSIG NSEC\n");
	zset_free(&s);
}

T(dnssec_without_do_adds_nothing)
{
	struct zset s = { 0 };
	zset_add(&s, rfc4035());
	struct qo o = { .edns = true };
	struct resp *r = ask(&s, "x.w.example.", DNS_T_MX, &o);
	CHECK_AN(r, "x.w.example. 3600 MX 1 xx.example.\n");
	CHECK_AR(r, "xx.example. 3600 A 192.0.2.10\nxx.example. 3600 AAAA 2001:db8::f00:baaa\n");
	r = ask(&s, "ml.example.", DNS_T_A, &o);
	CHECK_NS(r, "example. 3600 SOA ns1.example. bugs.x.w.example. 1081539377 3600 300 3600000 3600\n");
	r = ask(&s, "mc.a.example.", DNS_T_MX, NULL);
	CHECK_NS(r, "a.example. 3600 NS ns1.a.example.\na.example. 3600 NS ns2.a.example.\n");
	/* but asked for by type, a DNSSEC record is an answer */
	r = ask(&s, "ns1.example.", DNS_T_NSEC, NULL);
	CHECK_AN(r, "ns1.example. 3600 NSEC ns2.example. A RRSIG NSEC\n");
	r = ask(&s, "example.", DNS_T_DNSKEY, NULL);
	CHECK_INT(r->an, 2);
	CHECK_INT(r->rr[0].type, DNS_T_DNSKEY);
	zset_free(&s);
}

/* an RRSIG goes out with its RRset's TTL capped by its original TTL field;
 * the RRSIGs of a CNAME and a DNAME go with them, the synthesized CNAME
 * has none (RFC 6672 3.4) */
T(dnssec_rrsig_ttl_and_chains)
{
	struct zset s = { 0 };
	zset_add(&s, tz_load("example.", "$TTL 3600\n"
	    "@ SOA ns1 h 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n"
	    "www A 192.0.2.3\n"
	    "www RRSIG A 15 2 600 20350101000000 20240101000000 1 example. AAAA\n"
	    "alias CNAME www\n"
	    "alias 1200 RRSIG CNAME 15 2 3600 20350101000000 20240101000000 1 example. AAAA\n"
	    "old DNAME new.example.\n"
	    "old RRSIG DNAME 15 2 3600 20350101000000 20240101000000 1 example. AAAA\n"
	    "www.new A 192.0.2.10\n", NULL));
	struct qo o = { .edns = true, .dnssec = true };
	struct resp *r = ask(&s, "www.example.", DNS_T_A, &o);
	CHECK_AN(r, "www.example. 3600 A 192.0.2.3\nwww.example. 600 RRSIG A\n");
	r = ask(&s, "alias.example.", DNS_T_A, &o);
	CHECK_AN(r, "alias.example. 3600 CNAME www.example.\nalias.example. 1200 RRSIG CNAME\n"
	    "www.example. 3600 A 192.0.2.3\nwww.example. 600 RRSIG A\n");
	r = ask(&s, "www.old.example.", DNS_T_A, &o);
	CHECK_AN(r, "old.example. 3600 DNAME new.example.\nold.example. 3600 RRSIG DNAME\n"
	    "www.old.example. 3600 CNAME www.new.example.\nwww.new.example. 3600 A 192.0.2.10\n");
	zset_free(&s);
}

/* BUG: a negative answer's SOA gets the TTL min(SOA TTL, MINIMUM), but its
 * RRSIG keeps the SOA's own TTL (capped only by the original TTL), so the
 * two disagree: RFC 4034 3 "The TTL value of an RRSIG RR MUST match the
 * TTL value of the RRset it covers"; BIND lowers both.  Here the SOA goes
 * out with 300 and its signature with 3600. */
T(test_bug_negative_soa_rrsig_ttl_not_lowered)
{
	struct zset s = { 0 };
	zset_add(&s, tz_load("example.", "$TTL 3600\n"
	    "@ SOA ns1 h 1 7200 3600 1209600 300\n"
	    "@ RRSIG SOA 15 1 3600 20350101000000 20240101000000 1 example. AAAA\n"
	    "@ NS ns1\nns1 A 192.0.2.1\n", NULL));
	struct qo o = { .edns = true, .dnssec = true };
	struct resp *r = ask(&s, "nothere.example.", DNS_T_A, &o);
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_NS(r, "example. 300 SOA ns1.example. h.example. 1 7200 3600 1209600 300\n"
	    "example. 300 RRSIG SOA\n");
	zset_free(&s);
}

/* --- DNSSEC: NSEC3 (RFC 5155 Appendix B, zone of Appendix A) -------------------------------- */

#define SOA5155 "example. 3600 SOA ns1.example. bugs.x.w.example. 1 3600 300 3600000 3600\n" \
	"example. 3600 RRSIG SOA\n"
#define N3(h)	h ".example. 3600 NSEC3\n" h ".example. 3600 RRSIG NSEC3\n"

static struct tz *
rfc5155(void)
{
	return tz_load("example.", NULL, "tests/data/dns/rfc5155.nsec3.signed");
}

T(dnssec_nsec3_rfc5155_appendix_b)
{
	struct zset s = { 0 };
	zset_add(&s, rfc5155());
	struct qo o = { .edns = true, .dnssec = true };
	struct resp *r;

	/* B.1 name error, a.c.x.w.example: closest encloser x.w.example
	 * (matched by b4um..), next closer c.x.w.example (covered by 0p9m..),
	 * wildcard *.x.w.example (covered by 35mt..) - RFC 5155 7.2.2 */
	r = ask(&s, "a.c.x.w.example.", DNS_T_A, &o);
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA5155 N3("0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM") N3("B4UM86EGHHDS6NEA196SMVMLO4ORS995")
	    N3("35MTHGPGCU1QG68FAB165KLNSNK3DPVL"));

	/* B.2 no data: the NSEC3 matching ns1.example */
	r = ask(&s, "ns1.example.", DNS_T_MX, &o);
	check_head(r, DNS_R_NOERROR, true);
	/* (the node's name comes from the A record there, in lower case) */
	CHECK_NS(r, SOA5155 N3("2t7b4g4vsa5smi47k61mv5bv1a22bojr"));

	/* B.2.1 no data at an empty non-terminal: its own NSEC3 */
	r = ask(&s, "y.w.example.", DNS_T_A, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_NS(r, SOA5155 N3("JI6NEOAEPV8B5O6K4EV33ABHA8HT9FGC"));

	/* B.4 wildcard expansion: the next closer z.w.example is covered */
	r = ask(&s, "a.z.w.example.", DNS_T_MX, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "a.z.w.example. 3600 MX 1 ai.example.\na.z.w.example. 3600 RRSIG MX\n");
	CHECK_NS(r, N3("Q04JKCEVQVMU85R014C7DKBA38O0JI5R"));

	/* B.6 DS child zone no data */
	r = ask(&s, "example.", DNS_T_DS, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_NS(r, SOA5155 N3("0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM"));

	/* a referral to a signed child: DS and its signature */
	r = ask(&s, "mc.a.example.", DNS_T_MX, &o);
	check_head(r, DNS_R_NOERROR, false);
	CHECK_NS(r, "a.example. 3600 NS ns1.a.example.\na.example. 3600 NS ns2.a.example.\n"
	    "a.example. 3600 DS 58470 5 1 3079F1593EBAD6DC121E202A8B766A6A4837206C\n"
	    "a.example. 3600 RRSIG DS\n");

	/* a name that looks like a hash but is an ordinary name */
	r = ask(&s, "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.", DNS_T_A, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. 3600 A 192.0.2.127\n"
	    "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. 3600 RRSIG A\n");
	zset_free(&s);
}

/* BUG: RFC 5155 7.2.5 (Appendix B.5): a wildcard NODATA answer MUST carry
 * the closest encloser proof (the NSEC3 matching the closest encloser and
 * the one covering the next closer name) and the NSEC3 matching the
 * wildcard.  resolve() adds the wildcard's (prove_nodata) and the next
 * closer's (prove_wildcard) but not the closest encloser's, k8ud.. for
 * w.example: validators cannot prove the closest encloser and call the
 * answer bogus. */
T(test_bug_nsec3_wildcard_nodata_lacks_closest_encloser)
{
	struct zset s = { 0 };
	zset_add(&s, rfc5155());
	struct qo o = { .edns = true, .dnssec = true };
	struct resp *r = ask(&s, "a.z.w.example.", DNS_T_AAAA, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA5155 N3("K8UDEMVP1J2F7EG6JEBPS17VP3N8I58H") N3("Q04JKCEVQVMU85R014C7DKBA38O0JI5R")
	    N3("R53BQ7CC2UVMUBFU5OCMM6PERS9TK9EN"));
	zset_free(&s);
}

/* BUG: RFC 5155 7.2.7 (Appendix B.3): a referral to an unsigned child that
 * has no NSEC3 of its own (opt-out) MUST carry the closest provable
 * encloser proof: the NSEC3 matching the closest provable encloser
 * (example, 0p9m..) and the opt-out NSEC3 covering the next closer name
 * (c.example, covered by 35mt..).  referral() -> prove_nodata() only adds
 * the covering one.  The same for DS NODATA at that cut (7.2.4). */
T(test_bug_nsec3_optout_referral_lacks_closest_provable_encloser)
{
	struct zset s = { 0 };
	zset_add(&s, rfc5155());
	struct qo o = { .edns = true, .dnssec = true };
	struct resp *r = ask(&s, "mc.c.example.", DNS_T_MX, &o);
	check_head(r, DNS_R_NOERROR, false);
	CHECK_AN(r, "");
	CHECK_NS(r, "c.example. 3600 NS ns1.c.example.\nc.example. 3600 NS ns2.c.example.\n"
	    N3("35MTHGPGCU1QG68FAB165KLNSNK3DPVL") N3("0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM"));
	CHECK_AR(r, "ns1.c.example. 3600 A 192.0.2.7\nns2.c.example. 3600 A 192.0.2.8\n");
	r = ask(&s, "c.example.", DNS_T_DS, &o);
	check_head(r, DNS_R_NOERROR, true);
	CHECK_AN(r, "");
	CHECK_NS(r, SOA5155 N3("35MTHGPGCU1QG68FAB165KLNSNK3DPVL") N3("0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM"));
	zset_free(&s);
}

/* BUG: RFC 5155 7.2.8: NSEC3 owner names are not names of the zone's
 * data, and a server MUST answer for them as if they did not exist.
 * Here the NSEC3 owner is an ordinary node: a query for it gets NODATA
 * (and its NSEC3 RRset when asked for type NSEC3) instead of NXDOMAIN. */
T(test_bug_nsec3_owner_name_answered)
{
	struct zset s = { 0 };
	zset_add(&s, rfc5155());
	struct qo o = { .edns = true, .dnssec = true };
	struct resp *r = ask(&s, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.", DNS_T_A, &o);
	check_head(r, DNS_R_NXDOMAIN, true);
	r = ask(&s, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.", DNS_T_NSEC3, NULL);
	check_head(r, DNS_R_NXDOMAIN, true);
	CHECK_AN(r, "");
	zset_free(&s);
}

/* --- malformed queries the decoder trusts ----------------------------------------- */

/* BUG: a question name may be compressed, but in a query every pointer
 * goes into the header (nothing else lies before it).  start_reply() copies
 * the question bytes as they came, then rewrites the header: the pointer
 * now reads the reply's flags.  Query: id 0x1234, flags 0x01 0x00, qd 1,
 * question C0 02 (-> offset 2: label of length 1 holding 0x00, then the
 * 0x00 of qdcount: the name "\000.") type A class IN.  Reply: REFUSED
 * with the question C0 02, where byte 2 is now 0x81: label type 10, so no
 * client can parse the reply.  Either FORMERR, or a question written from
 * the decoded name, would do. */
T(test_bug_compressed_question_echoed_into_changed_header)
{
	struct zset s = { 0 };
	zset_add(&s, main_zone());
	uint8_t q[64];
	size_t n = raw(q, 0x01, 0x00, 1, 0, 0, 0, "\xc0\x02\0\1\0\1", 6);
	uint8_t out[512];
	struct dns_qinfo info;
	size_t len = dns_answer(&s.set, q, n, false, out, sizeof out, &info);
	CHECK(len >= 12);
	memcpy(R.pkt, out, len);
	R.len = len;
	decode(&R);
	CHECK(R.err == NULL);
	zset_free(&s);
}

/* BUG: with the root zone loaded (qname "."), dns_answer() seeds the
 * compression table with the question's suffixes starting at
 * qname + *qname + 1 = qname + 1, which for the root is past the end of
 * the name: it reads whatever the qname array held before (the previous
 * query's name) as labels, possibly past the 255-byte array (ASan:
 * stack-buffer-overflow in dns_answer), and adds compression targets that
 * point at bytes of the reply which are not those names.  Here the
 * previous query leaves "?" (63) at offsets 1, 65, 129 and 193, so the
 * walk runs to offset 257. */
T(test_bug_root_zone_query_reads_past_qname)
{
	struct zset s = { 0 };
	zset_add(&s, tz_load(".", "$TTL 3600\n. SOA a.root. h.root. 1 2 3 4 5\n. NS a.root.\n"
	    "a.root. A 192.0.2.1\n", NULL));
	char prev[300];
	size_t k = 0;
	const int lens[] = { 63, 63, 63, 61 };
	for (int l = 0; l < 4; l++) {
		prev[k++] = '?';
		for (int i = 1; i < lens[l]; i++)
			prev[k++] = (char)('a' + l);
		prev[k++] = '.';
	}
	prev[k] = '\0';
	uint8_t q1[600], q2[64], out[512];
	size_t n1 = qbuild(q1, prev, DNS_T_A, NULL), n2 = qbuild(q2, ".", DNS_T_SOA, NULL);
	/* in a child: ASan stops the process that reads out of bounds */
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct dns_qinfo info;
		/* back to back, so nothing else uses the stack in between */
		(void)dns_answer(&s.set, q1, n1, false, out, sizeof out, &info);
		size_t len = dns_answer(&s.set, q2, n2, false, out, sizeof out, &info);
		memcpy(R.pkt, out, len);
		R.len = len;
		decode(&R);
		_exit(R.err == NULL && R.rcode == DNS_R_NOERROR && R.an == 1 &&
		    strcmp(R.rr[0].line, ". 3600 SOA a.root. h.root. 1 2 3 4 5") == 0 ? 0 : 1);
	}
	int st = 0;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	zset_free(&s);
}

int
main(void)
{
	RUN(positive_answer);
	RUN(nodata_and_nxdomain_carry_the_soa_with_negative_ttl);
	RUN(empty_non_terminal_is_nodata);
	RUN(cname_chains);
	RUN(cname_chain_at_most_8_hops_and_loops_end);
	RUN(wildcards_rfc4592_2_2_1);
	RUN(referral_with_glue);
	RUN(ds_answered_at_the_cut_with_aa);
	RUN(dname_synthesis);
	RUN(dname_result_too_long_is_yxdomain);
	RUN(refused_outside_our_zones);
	RUN(formerr);
	RUN(notimp_and_silence);
	RUN(edns_opt_echo_and_badvers);
	RUN(tc_over_udp_and_full_over_tcp);
	RUN(tc_respects_the_1232_cap_and_the_buffer);
	RUN(additional_that_does_not_fit_is_left_out_without_tc);
	RUN(compression_points_to_the_question_and_keeps_its_case);
	RUN(any_gives_one_rrset);
	RUN(qtype_rrsig);
	RUN(dnssec_nsec_rfc4035_appendix_b);
	RUN(dnssec_without_do_adds_nothing);
	RUN(dnssec_rrsig_ttl_and_chains);
	RUN(dnssec_nsec3_rfc5155_appendix_b);
	RUN(test_bug_ds_at_child_apex_answered_by_child);
	RUN(test_bug_dname_at_apex_ignored);
	RUN(test_bug_any_at_cname_follows_the_chain);
	RUN(test_bug_rrsig_query_through_cname_lacks_soa);
	RUN(test_bug_negative_soa_rrsig_ttl_not_lowered);
	RUN(test_bug_nsec3_wildcard_nodata_lacks_closest_encloser);
	RUN(test_bug_nsec3_optout_referral_lacks_closest_provable_encloser);
	RUN(test_bug_nsec3_owner_name_answered);
	RUN(test_bug_compressed_question_echoed_into_changed_header);
	RUN(test_bug_root_zone_query_reads_past_qname);
	return t_done("dns_answer");
}

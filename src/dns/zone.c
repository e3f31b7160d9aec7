/*
 * dns/zone.c - zone index over a record stream (see dns/zone.h).
 */
#include "dns/zone.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/log.h"
#include "core/util.h"
#include "dns/rr.h"

/* --- the stream ------------------------------------------------------------- */

void
dns_zsrc_init(struct dns_zsrc *s, const uint8_t *origin)
{
	memset(s, 0, sizeof *s);
	memcpy(s->origin, origin, dns_name_len(origin));
	buf_init(&s->stream, 0);
}

void
dns_zsrc_free(struct dns_zsrc *s)
{
	buf_free(&s->stream);
	free(s->where);
	for (size_t i = 0; i < s->n_files; i++)
		free(s->files[i]);
	free(s->files);
	memset(s, 0, sizeof *s);
}

/* the file names of $INCLUDEs repeat: keep one copy of each */
static const char *
intern_file(struct dns_zsrc *s, const char *file)
{
	for (size_t i = s->n_files; i > 0; i--)
		if (strcmp(s->files[i - 1], file) == 0)
			return s->files[i - 1];
	s->files = xreallocarray(s->files, s->n_files + 1, sizeof *s->files);
	s->files[s->n_files] = xstrdup(file);
	return s->files[s->n_files++];
}

int
dns_zsrc_add(void *arg, const struct dns_rr *rr)
{
	struct dns_zsrc *s = arg;
	if (s->n >= DNS_ZONE_RECORDS_MAX)
		return -1;
	uint8_t h[8] = {
		(uint8_t)(rr->type >> 8), (uint8_t)rr->type,
		(uint8_t)(rr->ttl >> 24), (uint8_t)(rr->ttl >> 16), (uint8_t)(rr->ttl >> 8),
		(uint8_t)rr->ttl, (uint8_t)(rr->rdlen >> 8), (uint8_t)rr->rdlen
	};
	buf_append(&s->stream, rr->owner, dns_name_len(rr->owner));
	buf_append(&s->stream, h, sizeof h);
	buf_append(&s->stream, rr->rdata, rr->rdlen);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->where = xreallocarray(s->where, s->cap, sizeof *s->where);
	}
	s->where[s->n].file = rr->file ? intern_file(s, rr->file) : NULL;
	s->where[s->n].line = rr->line;
	s->n++;
	return s->stream.err ? -1 : 0;
}

void
dns_zsrc_where(void *arg, size_t i, const char **file, unsigned *line)
{
	const struct dns_zsrc *s = arg;
	if (i < s->n) {
		*file = s->where[i].file;
		*line = s->where[i].line;
	}
}

int
dns_zsrc_load(struct dns_zsrc *s, const char *file, struct diag *d)
{
	unsigned before = d->n_err;
	int rc = dns_zonefile_parse(file, s->origin, dns_zsrc_add, s, d);
	if (rc < 0 && d->n_err == before)
		diag_err(d, file, 0, "more than %u records, or out of memory", DNS_ZONE_RECORDS_MAX);
	return rc < 0 ? -1 : 0;
}

/* --- building the index -------------------------------------------------------- */

struct rec {
	const uint8_t *owner;
	const uint8_t *rd;	/* rdlen u16 | rdata */
	uint32_t node;
	uint32_t ttl;
	uint32_t idx;		/* position in the stream: message lookups, stable sort */
	uint16_t type, covered;
};

static uint32_t
name_hash(uint64_t seed, const uint8_t *name)
{
	/* FNV-1a over the lowercased wire name, seeded */
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	size_t n = dns_name_len(name);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = name[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = (h ^ c) * 0x100000001b3ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static const struct dns_node *
find_hashed(const struct dns_zone *z, const uint8_t *name, uint32_t h)
{
	if (z->table == NULL)
		return NULL;
	/* the hash sits in the slot: most slots that are not ours are told
	 * apart without touching the node or its name */
	for (size_t i = h & z->mask;; i = (i + 1) & z->mask) {
		uint64_t v = z->table[i];
		if (v == 0)
			return NULL;
		if ((uint32_t)(v >> 32) != h)
			continue;
		const struct dns_node *n = &z->nodes[(uint32_t)v - 1];
		if (dns_name_eq(n->name, name))
			return n;
	}
}

const struct dns_node *
dns_zone_find(const struct dns_zone *z, const uint8_t *name)
{
	return find_hashed(z, name, name_hash(z->seed, name));
}

struct builder {
	struct dns_zone *z;
	size_t cap_nodes;
	dns_where_fn *where;
	void *where_arg;
	struct diag *d;
	const char *file;
};

static void
say(struct builder *b, bool err, const struct rec *r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
say(struct builder *b, bool err, const struct rec *r, const char *fmt, ...)
{
	if (b->d == NULL)
		return;
	char text[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	const char *file = b->file;
	unsigned line = 0;
	if (r != NULL && b->where != NULL)
		b->where(b->where_arg, r->idx, &file, &line);
	if (err)
		diag_err(b->d, file ? file : "zone", line, "%s", text);
	else
		diag_warn(b->d, file ? file : "zone", line, "%s", text);
}

/* grow the table when half full (rehash every node) */
static void
table_grow(struct dns_zone *z)
{
	size_t cap = z->table ? (z->mask + 1) * 2 : 1024;
	free(z->table);
	z->table = xcalloc(cap, sizeof *z->table);
	z->mask = cap - 1;
	for (size_t k = 0; k < z->n_nodes; k++) {
		size_t i = z->nodes[k].hash & z->mask;
		while (z->table[i] != 0)
			i = (i + 1) & z->mask;
		z->table[i] = (uint64_t)z->nodes[k].hash << 32 | ((uint32_t)k + 1);
	}
}

/* The node of name, created (with its empty ancestors up to the apex)
 * when missing.  name must stay valid: it points into the stream. */
static uint32_t
node_get(struct builder *b, const uint8_t *name)
{
	struct dns_zone *z = b->z;
	uint32_t h = name_hash(z->seed, name);
	const struct dns_node *f = find_hashed(z, name, h);
	if (f != NULL)
		return (uint32_t)(f - z->nodes);
	if ((z->n_nodes + 1) * 2 > z->mask + 1 || z->table == NULL)
		table_grow(z);
	if (z->n_nodes == b->cap_nodes) {
		b->cap_nodes = b->cap_nodes ? b->cap_nodes * 2 : 1024;
		z->nodes = xreallocarray(z->nodes, b->cap_nodes, sizeof *z->nodes);
	}
	uint32_t k = (uint32_t)z->n_nodes++;
	z->nodes[k] = (struct dns_node){ .name = name, .hash = h };
	size_t i = h & z->mask;
	while (z->table[i] != 0)
		i = (i + 1) & z->mask;
	z->table[i] = (uint64_t)h << 32 | (k + 1);
	/* the empty non-terminals between it and the apex (no recursion:
	 * each ancestor is a suffix of name, in the stream too) */
	if (dns_name_labels(name) > z->origin_labels)
		(void)node_get(b, dns_name_parent(name));
	return k;
}

static int
rec_cmp(const void *pa, const void *pb)
{
	const struct rec *a = pa, *b = pb;
	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->covered != b->covered)
		return a->covered < b->covered ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int
node_canon_cmp(const void *pa, const void *pb)
{
	const struct dns_node *a = *(struct dns_node *const *)pa, *b = *(struct dns_node *const *)pb;
	return dns_name_canon_cmp(a->name, b->name);
}

static int
n3_cmp(const void *pa, const void *pb)
{
	return memcmp(((const struct dns_n3 *)pa)->hash, ((const struct dns_n3 *)pb)->hash, 20);
}

/* RFC 4648 base32 "extended hex" label of an NSEC3 owner to its hash */
static bool
b32hex_label(const uint8_t *name, uint8_t out[20])
{
	if (name[0] != 32)
		return false;
	uint64_t acc = 0;
	unsigned bits = 0, n = 0;
	for (unsigned i = 1; i <= 32; i++) {
		int c = name[i], v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'v')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'V')
			v = c - 'A' + 10;
		else
			return false;
		acc = acc << 5 | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n == 20;
}

/* Read the stream into recs; -1 on a malformed stream (not from our own
 * parser: a bug, or a stream that was tampered with). */
static int
read_stream(struct builder *b, const uint8_t *p, size_t len, struct rec **out, size_t *n_out)
{
	struct dns_zone *z = b->z;
	size_t cap = 0, n = 0, off = 0;
	struct rec *recs = NULL;
	while (off < len) {
		int nl = dns_name_check(p + off, len - off);
		if (nl < 0 || len - off - (size_t)nl < 8)
			goto bad;
		const uint8_t *h = p + off + nl;
		uint16_t rdlen = dns_get16(h + 6);
		if (len - off - (size_t)nl - 8 < rdlen || n >= DNS_ZONE_RECORDS_MAX)
			goto bad;
		if (!dns_name_under(p + off, z->origin) || !dns_rdata_valid(dns_get16(h), h + 8, rdlen))
			goto bad;	/* answers read names out of rdata: all must be sound */
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			recs = xreallocarray(recs, cap, sizeof *recs);
		}
		struct rec *r = &recs[n];
		r->owner = p + off;
		r->type = dns_get16(h);
		r->ttl = dns_get32(h + 2);
		r->rd = h + 6;
		r->idx = (uint32_t)n;
		r->covered = 0;
		if (r->type == DNS_T_RRSIG) {
			if (rdlen < 18)
				goto bad;
			r->covered = dns_get16(h + 8);
		}
		n++;
		off += (size_t)nl + 8 + rdlen;
	}
	*out = recs;
	*n_out = n;
	return 0;
bad:
	free(recs);
	if (b->d)
		diag_err(b->d, b->file ? b->file : "zone", 0, "malformed record stream at byte %zu", off);
	return -1;
}

static bool
same_rdata(const uint8_t *a, const uint8_t *b)
{
	uint16_t la = dns_get16(a);
	return la == dns_get16(b) && memcmp(a + 2, b + 2, la) == 0;
}

/* group sorted records into rrsets; identical records are dropped */
static void
make_sets(struct builder *b, struct rec *recs, size_t n)
{
	struct dns_zone *z = b->z;
	z->rd = xcalloc(n ? n : 1, sizeof *z->rd);
	z->sets = xcalloc(n ? n : 1, sizeof *z->sets);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		struct dns_rrset *s = &z->sets[z->n_sets];
		s->owner = z->nodes[recs[i].node].name;
		s->type = recs[i].type;
		s->covered = recs[i].covered;
		s->ttl = recs[i].ttl;
		s->rd = &z->rd[z->n_rd];
		bool ttl_warned = false;
		for (; j < n && recs[j].node == recs[i].node && recs[j].type == recs[i].type &&
		    recs[j].covered == recs[i].covered; j++) {
			bool dup = false;
			for (uint32_t k = 0; k < s->n && !dup; k++)
				dup = same_rdata(s->rd[k], recs[j].rd);
			if (dup)
				continue;
			/* RRSIGs carry their own original TTL; others must agree
			 * (RFC 2181 5.2) */
			if (recs[j].ttl != s->ttl && s->type != DNS_T_RRSIG && !ttl_warned) {
				char tn[16];
				say(b, false, &recs[j], "TTL %u differs from %u of the other %s records "
				    "of this name; %u is used", recs[j].ttl, s->ttl,
				    dns_type_name(s->type, tn), s->ttl);
				ttl_warned = true;
			}
			z->rd[z->n_rd++] = recs[j].rd;
			s->n++;
			z->n_records++;
		}
		struct dns_node *nd = &z->nodes[recs[i].node];
		if (nd->nsets == 0)
			nd->set0 = (uint32_t)z->n_sets;
		nd->nsets++;
		z->n_sets++;
		i = j;
	}
}

static const struct rec *
first_rec(const struct rec *recs, size_t n, uint32_t node, uint16_t type)
{
	/* recs are sorted by node then type: a binary search would do, but
	 * this runs for a few nodes only */
	for (size_t i = 0; i < n; i++)
		if (recs[i].node == node && (type == 0 || recs[i].type == type))
			return &recs[i];
	return NULL;
}

static int
check_nodes(struct builder *b, const struct rec *recs, size_t n)
{
	struct dns_zone *z = b->z;
	unsigned errs = 0;
	char tn[16], text[DNS_NAME_TEXT_MAX];
	for (size_t k = 0; k < z->n_nodes; k++) {
		struct dns_node *nd = &z->nodes[k];
		unsigned data = 0;	/* rrsets other than the DNSSEC ones */
		for (uint16_t s = 0; s < nd->nsets; s++) {
			const struct dns_rrset *rs = &z->sets[nd->set0 + s];
			switch (rs->type) {
			case DNS_T_NS:
				if (!(nd->flags & DNS_NODE_APEX))
					nd->flags |= DNS_NODE_CUT;
				break;
			case DNS_T_CNAME:
				nd->flags |= DNS_NODE_CNAME;
				if (rs->n > 1) {
					say(b, true, first_rec(recs, n, (uint32_t)k, DNS_T_CNAME),
					    "%s has %u CNAME records (expected one)",
					    (dns_name_to_text(nd->name, text), text), rs->n);
					errs++;
				}
				break;
			case DNS_T_DNAME:
				nd->flags |= DNS_NODE_DNAME;
				if (rs->n > 1) {
					say(b, true, first_rec(recs, n, (uint32_t)k, DNS_T_DNAME),
					    "%s has %u DNAME records (expected one)",
					    (dns_name_to_text(nd->name, text), text), rs->n);
					errs++;
				}
				break;
			case DNS_T_NSEC3:
				nd->flags |= DNS_NODE_NSEC3;
				break;
			case DNS_T_SOA:
				if (!(nd->flags & DNS_NODE_APEX)) {
					say(b, true, first_rec(recs, n, (uint32_t)k, DNS_T_SOA),
					    "SOA record at %s, which is not the zone apex",
					    (dns_name_to_text(nd->name, text), text));
					errs++;
				}
				break;
			}
			if (rs->type != DNS_T_RRSIG && rs->type != DNS_T_NSEC &&
			    rs->type != DNS_T_CNAME)
				data++;
		}
		/* RFC 5155 7.2.8: a name that holds only NSEC3 (and its
		 * signatures) is no name of the zone's data */
		bool n3only = nd->nsets > 0;
		for (uint16_t s3 = 0; s3 < nd->nsets && n3only; s3++) {
			const struct dns_rrset *rs = &z->sets[nd->set0 + s3];
			n3only = rs->type == DNS_T_NSEC3 ||
			    (rs->type == DNS_T_RRSIG && rs->covered == DNS_T_NSEC3);
		}
		if (n3only)
			nd->flags |= DNS_NODE_N3ONLY;
		if ((nd->flags & DNS_NODE_CNAME) && data > 0) {
			dns_name_to_text(nd->name, text);
			say(b, true, first_rec(recs, n, (uint32_t)k, DNS_T_CNAME),
			    "%s has a CNAME and other data (RFC 1034 3.6.2: a CNAME must be alone; "
			    "move the other records to the name it points to)", text);
			errs++;
		}
		if ((nd->flags & DNS_NODE_CNAME) && (nd->flags & DNS_NODE_APEX)) {
			say(b, true, first_rec(recs, n, (uint32_t)k, DNS_T_CNAME),
			    "CNAME at the zone apex (it would hide the SOA and NS records)");
			errs++;
		}
		if (dns_name_is_wildcard(nd->name) && dns_name_labels(nd->name) > z->origin_labels) {
			const uint8_t *par = dns_name_parent(nd->name);
			struct dns_node *pn = (struct dns_node *)dns_zone_find(z, par);
			if (pn != NULL)
				pn->flags |= DNS_NODE_WILDCHILD;
		}
	}
	/* names below a delegation or a DNAME: glue (A/AAAA below a cut) is
	 * served as additional data only; anything else is occluded */
	for (size_t k = 0; k < z->n_nodes; k++) {
		struct dns_node *nd = &z->nodes[k];
		if (nd->nsets == 0)
			continue;
		for (const uint8_t *a = dns_name_parent(nd->name);
		    a != NULL && dns_name_labels(a) > z->origin_labels; a = dns_name_parent(a)) {
			const struct dns_node *an = dns_zone_find(z, a);
			if (an == NULL || !(an->flags & (DNS_NODE_CUT | DNS_NODE_DNAME)))
				continue;
			bool glue = true;
			for (uint16_t s = 0; s < nd->nsets; s++) {
				uint16_t t = z->sets[nd->set0 + s].type;
				glue = glue && (t == DNS_T_A || t == DNS_T_AAAA) &&
				    (an->flags & DNS_NODE_CUT);
			}
			if (!glue) {
				char at[DNS_NAME_TEXT_MAX];
				dns_name_to_text(nd->name, text);
				dns_name_to_text(an->name, at);
				say(b, false, first_rec(recs, n, (uint32_t)k, 0),
				    "%s is below the %s at %s: its records other than glue are "
				    "never served", text, (an->flags & DNS_NODE_CUT) ? "delegation" :
				    "DNAME", at);
			}
			break;
		}
	}
	(void)tn;
	return errs ? -1 : 0;
}

static void
apex_params(struct builder *b, const struct dns_node *apex)
{
	struct dns_zone *z = b->z;
	const struct dns_rrset *soa = dns_node_rrset(z, apex, DNS_T_SOA);
	const uint8_t *rd = soa->rd[0];
	uint16_t len = dns_get16(rd);
	/* serial: after MNAME and RNAME */
	int a = dns_name_check(rd + 2, len);
	int r = a < 0 ? -1 : dns_name_check(rd + 2 + a, len - (size_t)a);
	if (a >= 0 && r >= 0 && (size_t)a + (size_t)r + 20 <= len)
		z->serial = dns_get32(rd + 2 + a + r);
	const struct dns_rrset *p = dns_node_rrset(z, apex, DNS_T_NSEC3PARAM);
	if (p != NULL) {
		const uint8_t *q = p->rd[0];
		uint16_t ql = dns_get16(q);
		if (ql >= 5 && 5 + (size_t)q[6] <= ql) {
			z->nsec3 = true;
			z->n3_alg = q[2];
			z->n3_iter = dns_get16(q + 4);
			z->n3_salt_len = q[6];
			memcpy(z->n3_salt, q + 7, q[6]);
		}
	}
}

static int
hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Content identity, independent of record order and of letter case in
 * owner names: each record (owner lowercased, type, TTL as served, rdata)
 * is hashed on its own, the hashes sorted, and the sorted list hashed.
 * A reload under an unchanged serial that changed content is told apart;
 * one that only reordered the file is not. */
void
dns_zone_digest(struct dns_zone *z)
{
	uint8_t (*h)[32] = xcalloc(z->n_rd ? z->n_rd : 1, 32);
	size_t n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (c == NULL)
		fatal("dns: no memory for SHA-256");
	for (size_t i = 0; i < z->n_sets; i++) {
		const struct dns_rrset *s = &z->sets[i];
		uint8_t low[DNS_NAME_MAX];
		size_t l = dns_name_len(s->owner);
		memcpy(low, s->owner, l);
		dns_name_lower(low);
		uint8_t t[8] = { (uint8_t)(s->type >> 8), (uint8_t)s->type,
			(uint8_t)(s->covered >> 8), (uint8_t)s->covered,
			(uint8_t)(s->ttl >> 24), (uint8_t)(s->ttl >> 16), (uint8_t)(s->ttl >> 8),
			(uint8_t)s->ttl };
		for (uint32_t k = 0; k < s->n; k++) {
			unsigned dl = 0;
			if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
				fatal("dns: no SHA-256");
			EVP_DigestUpdate(c, low, l);
			EVP_DigestUpdate(c, t, sizeof t);
			EVP_DigestUpdate(c, s->rd[k], 2 + (size_t)dns_get16(s->rd[k]));
			EVP_DigestFinal_ex(c, h[n++], &dl);
		}
	}
	qsort(h, n, 32, hash_cmp);
	unsigned dl = 0;
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		fatal("dns: no SHA-256");
	EVP_DigestUpdate(c, h, n * 32);
	EVP_DigestFinal_ex(c, z->digest, &dl);
	EVP_MD_CTX_free(c);
	free(h);
}

int
dns_zone_build(struct dns_zone *z, const uint8_t *origin, const uint8_t *stream, size_t len,
    dns_where_fn *where, void *where_arg, struct diag *d, const char *file)
{
	memset(z, 0, sizeof *z);
	memcpy(z->origin, origin, dns_name_len(origin));
	z->origin_labels = dns_name_labels(origin);
	z->stream = stream;
	z->stream_len = len;
	if (getrandom(&z->seed, sizeof z->seed, 0) != sizeof z->seed)
		z->seed = 0x9e3779b97f4a7c15ull;
	struct builder b = { .z = z, .where = where, .where_arg = where_arg, .d = d, .file = file };
	struct rec *recs = NULL;
	size_t n = 0;
	if (read_stream(&b, stream, len, &recs, &n) < 0)
		return -1;
	char text[DNS_NAME_TEXT_MAX];
	dns_name_to_text(origin, text);
	uint32_t apex = node_get(&b, z->origin);
	z->nodes[apex].flags |= DNS_NODE_APEX;
	for (size_t i = 0; i < n; i++)
		recs[i].node = node_get(&b, recs[i].owner);
	if (n > 0)
		qsort(recs, n, sizeof *recs, rec_cmp);	/* recs is NULL for an empty zone */
	make_sets(&b, recs, n);
	int rc = 0;
	const struct dns_node *an = &z->nodes[apex];
	const struct dns_rrset *soa = dns_node_rrset(z, an, DNS_T_SOA);
	if (soa == NULL) {
		if (d)
			diag_err(d, file ? file : "zone", 0, "no SOA record at the zone apex %s "
			    "(expected e.g. \"@ IN SOA ns1.%s hostmaster.%s 1 7200 3600 1209600 3600\")",
			    text, text, text);
		rc = -1;
	} else if (soa->n != 1) {
		say(&b, true, first_rec(recs, n, apex, DNS_T_SOA), "%u SOA records at the apex "
		    "(expected exactly one)", soa->n);
		rc = -1;
	}
	if (dns_node_rrset(z, an, DNS_T_NS) == NULL) {
		if (d)
			diag_err(d, file ? file : "zone", 0, "no NS record at the zone apex %s "
			    "(expected e.g. \"@ IN NS ns1.%s\")", text, text);
		rc = -1;
	}
	if (check_nodes(&b, recs, n) < 0)
		rc = -1;
	if (rc == 0) {
		apex_params(&b, an);
		bool has_nsec = false;
		for (size_t i = 0; i < z->n_sets && !has_nsec; i++)
			has_nsec = z->sets[i].type == DNS_T_NSEC;
		if (has_nsec) {
			z->canon = xcalloc(z->n_nodes, sizeof *z->canon);
			for (size_t k = 0; k < z->n_nodes; k++)
				z->canon[z->n_canon++] = &z->nodes[k];
			qsort(z->canon, z->n_canon, sizeof *z->canon, node_canon_cmp);
			for (size_t k = 0; k < z->n_canon; k++)
				z->canon[k]->canon = (uint32_t)k;
		}
		if (z->nsec3) {
			size_t cnt = 0;
			for (size_t k = 0; k < z->n_nodes; k++)
				cnt += (z->nodes[k].flags & DNS_NODE_NSEC3) != 0;
			z->n3 = xcalloc(cnt ? cnt : 1, sizeof *z->n3);
			for (size_t k = 0; k < z->n_nodes; k++)
				if ((z->nodes[k].flags & DNS_NODE_NSEC3) &&
				    b32hex_label(z->nodes[k].name, z->n3[z->n_n3].hash))
					z->n3[z->n_n3++].node = &z->nodes[k];
			qsort(z->n3, z->n_n3, sizeof *z->n3, n3_cmp);
		}
	}
	free(recs);
	if (rc < 0)
		dns_zone_free(z);
	return rc;
}

void
dns_zone_free(struct dns_zone *z)
{
	free(z->nodes);
	free(z->sets);
	free(z->rd);
	free(z->table);
	free(z->canon);
	free(z->n3);
	memset(z, 0, sizeof *z);
}

const struct dns_rrset *
dns_node_rrset(const struct dns_zone *z, const struct dns_node *n, uint16_t type)
{
	for (uint16_t i = 0; i < n->nsets; i++)
		if (z->sets[n->set0 + i].type == type)
			return &z->sets[n->set0 + i];
	return NULL;
}

const struct dns_rrset *
dns_node_sigs(const struct dns_zone *z, const struct dns_node *n, uint16_t covered)
{
	for (uint16_t i = 0; i < n->nsets; i++) {
		const struct dns_rrset *s = &z->sets[n->set0 + i];
		if (s->type == DNS_T_RRSIG && s->covered == covered)
			return s;
	}
	return NULL;
}

const struct dns_node *
dns_zone_nsec_for(const struct dns_zone *z, const uint8_t *name)
{
	if (z->canon == NULL || z->n_canon == 0)
		return NULL;
	/* the last position whose name is <= name */
	size_t lo = 0, hi = z->n_canon;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (dns_name_canon_cmp(z->canon[mid]->name, name) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo - 1 is at or before name (the apex sorts first of all); walk
	 * back past names without an NSEC (empty non-terminals, glue) */
	for (size_t i = lo; i > 0; i--) {
		const struct dns_node *nd = z->canon[i - 1];
		if (dns_node_rrset(z, nd, DNS_T_NSEC) != NULL)
			return nd;
	}
	return NULL;
}

bool
dns_zone_n3hash(const struct dns_zone *z, const uint8_t *name, uint8_t out[20])
{
	if (!z->nsec3 || z->n3_alg != 1)
		return false;
	uint8_t low[DNS_NAME_MAX + 255];
	size_t l = dns_name_len(name);
	memcpy(low, name, l);
	dns_name_lower(low);
	/* RFC 5155 5: IH(salt, x, 0) = H(x || salt); k > 0: H(IH(k-1) || salt) */
	memcpy(low + l, z->n3_salt, z->n3_salt_len);
	SHA1(low, l + z->n3_salt_len, out);
	for (unsigned k = 0; k < z->n3_iter; k++) {
		uint8_t t[20 + 255];
		memcpy(t, out, 20);
		memcpy(t + 20, z->n3_salt, z->n3_salt_len);
		SHA1(t, 20 + (size_t)z->n3_salt_len, out);
	}
	return true;
}

const struct dns_node *
dns_zone_n3_for(const struct dns_zone *z, const uint8_t h[20], bool *match)
{
	*match = false;
	if (z->n_n3 == 0)
		return NULL;
	size_t lo = 0, hi = z->n_n3;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(z->n3[mid].hash, h, 20) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && memcmp(z->n3[lo - 1].hash, h, 20) == 0) {
		*match = true;
		return z->n3[lo - 1].node;
	}
	/* the hash before h covers it; before the first one, the last one
	 * (the chain wraps around) */
	return lo > 0 ? z->n3[lo - 1].node : z->n3[z->n_n3 - 1].node;
}

/* --- the IXFR journal --------------------------------------------------------- */

struct jrec {
	const uint8_t *p;	/* owner | type | ttl | rdlen | rdata */
	size_t len;
	uint16_t type;
};

/* the records of a stream, or -1 */
static long
split_stream(const uint8_t *p, size_t len, struct jrec **out)
{
	size_t n = 0, cap = 0, off = 0;
	struct jrec *v = NULL;
	while (off < len) {
		int nl = dns_name_check(p + off, len - off);
		if (nl < 0 || len - off - (size_t)nl < 8)
			goto bad;
		size_t rl = dns_get16(p + off + nl + 6), total = (size_t)nl + 8 + rl;
		if (len - off < total)
			goto bad;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[n++] = (struct jrec){ p + off, total, dns_get16(p + off + nl) };
		off += total;
	}
	*out = v;
	return (long)n;
bad:
	free(v);
	return -1;
}

/* one order for both lists: owner (canonical, any case), then the rest
 * as bytes (type, TTL, rdata: a new TTL is a deletion and an addition) */
static int
jrec_cmp(const void *pa, const void *pb)
{
	const struct jrec *a = pa, *b = pb;
	int c = dns_name_canon_cmp(a->p, b->p);
	if (c != 0)
		return c;
	size_t na = dns_name_len(a->p), nb = dns_name_len(b->p);
	size_t la = a->len - na, lb = b->len - nb;
	c = memcmp(a->p + na, b->p + nb, la < lb ? la : lb);
	return c != 0 ? c : (la > lb) - (la < lb);
}

static void
put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	buf_append(b, x, 4);
}

/* the entries of a journal from its front: offset of each */
static size_t
journal_entries(const uint8_t *j, size_t len, size_t offs[], size_t max)
{
	size_t n = 0, off = 0;
	while (off + 12 <= len && n < max) {
		size_t el = dns_get32(j + off + 8);
		if (len - off - 12 < el)
			break;
		offs[n++] = off;
		off += 12 + el;
	}
	return n;
}

bool
dns_journal_add(struct buf *journal, const uint8_t *old, size_t old_len, const uint8_t *new_,
    size_t new_len, uint32_t from, uint32_t to)
{
	struct jrec *a = NULL, *b = NULL;
	long na = split_stream(old, old_len, &a), nb = split_stream(new_, new_len, &b);
	if (na < 0 || nb < 0) {
		free(a);
		free(b);
		return false;
	}
	if (na > 0)
		qsort(a, (size_t)na, sizeof *a, jrec_cmp);
	if (nb > 0)
		qsort(b, (size_t)nb, sizeof *b, jrec_cmp);
	struct buf del, add;
	buf_init(&del, 0);
	buf_init(&add, 0);
	const struct jrec *old_soa = NULL, *new_soa = NULL;
	long i = 0, k = 0;
	while (i < na || k < nb) {
		int c = i == na ? 1 : k == nb ? -1 : jrec_cmp(&a[i], &b[k]);
		if (c == 0) {
			i++;
			k++;
		} else if (c < 0) {
			if (a[i].type == DNS_T_SOA)
				old_soa = &a[i];
			else
				buf_append(&del, a[i].p, a[i].len);
			i++;
		} else {
			if (b[k].type == DNS_T_SOA)
				new_soa = &b[k];
			else
				buf_append(&add, b[k].p, b[k].len);
			k++;
		}
	}
	bool ok = old_soa != NULL && new_soa != NULL && !del.err && !add.err;
	if (ok) {
		/* RFC 1995 4: old SOA, deletions, new SOA, additions */
		put_u32(journal, from);
		put_u32(journal, to);
		put_u32(journal, (uint32_t)(old_soa->len + del.len + new_soa->len + add.len));
		buf_append(journal, old_soa->p, old_soa->len);
		buf_append(journal, del.data, del.len);
		buf_append(journal, new_soa->p, new_soa->len);
		buf_append(journal, add.data, add.len);
		/* only the newest entries stay */
		size_t offs[DNS_JOURNAL_ENTRIES_MAX + 1];
		size_t n = journal_entries(journal->data, journal->len, offs, NELEM(offs));
		if (n > DNS_JOURNAL_ENTRIES_MAX)
			buf_consume(journal, offs[n - DNS_JOURNAL_ENTRIES_MAX]);
		ok = !journal->err;
	}
	buf_free(&del);
	buf_free(&add);
	free(a);
	free(b);
	return ok;
}

long
dns_journal_find(const struct dns_zone *z, uint32_t serial)
{
	size_t offs[DNS_JOURNAL_ENTRIES_MAX + 1];
	size_t n = journal_entries(z->journal, z->journal_len, offs, NELEM(offs));
	for (size_t i = 0; i < n; i++) {
		if (dns_get32(z->journal + offs[i]) != serial)
			continue;
		/* from here every entry must start where the last one ended,
		 * and the last end at the zone's serial */
		uint32_t at = serial;
		size_t k = i;
		for (; k < n && dns_get32(z->journal + offs[k]) == at; k++)
			at = dns_get32(z->journal + offs[k] + 4);
		if (k == n && at == z->serial)
			return (long)offs[i];
	}
	return -1;
}

/*
 * dns/answer.c - authoritative answers (see dns/answer.h).
 *
 * A query is answered in two steps: resolve() walks the zone and collects
 * what goes into the answer, authority and additional sections as items
 * (an owner name and an RRset); emit() writes them, each RRset whole or
 * not at all, compressing names.  Collecting first keeps the zone logic
 * free of packet bookkeeping, and lets truncation be decided per section.
 */
#include "dns/answer.h"

#include <string.h>

#include "dns/rr.h"

#define CHAIN_MAX	8	/* CNAME and DNAME hops followed */
#define ITEMS_MAX	64	/* per section */
#define COMP_MAX	128	/* names remembered for compression */
#define SYNTH_MAX	CHAIN_MAX

struct item {
	const uint8_t *owner;
	const struct dns_rrset *set;
	uint32_t ttl;		/* used instead of set->ttl when ttl_set */
	bool ttl_set;
	bool required;		/* in-domain glue of a referral: TC when it does not fit */
};

struct section {
	struct item it[ITEMS_MAX];
	size_t n;
};

struct comp {
	uint16_t off;		/* where the suffix starts in the packet */
	uint16_t len;		/* its wire length */
	const uint8_t *name;	/* the same suffix, uncompressed */
};

struct pkt {
	uint8_t *b;
	size_t len, max;
	bool over;
	struct comp c[COMP_MAX];
	size_t nc;
};

struct ctx {
	const struct dns_zoneset *zs;
	const struct dns_zone *z;
	uint16_t qtype;
	bool dnssec;
	bool aa;
	uint8_t rcode;
	struct section an, ns, ar;
	/* CNAMEs synthesized from DNAMEs: their rdata and rrsets */
	uint8_t synth_rd[SYNTH_MAX][2 + DNS_NAME_MAX];
	const uint8_t *synth_ptr[SYNTH_MAX];
	struct dns_rrset synth[SYNTH_MAX];
	uint8_t synth_owner[SYNTH_MAX][DNS_NAME_MAX];
	size_t n_synth;
	/* the SOA for negative answers */
	uint32_t neg_ttl;
};

/* --- collecting -------------------------------------------------------------- */

static bool
has_item(const struct section *s, const uint8_t *owner, const struct dns_rrset *set)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->it[i].set == set && dns_name_eq(s->it[i].owner, owner))
			return true;
	return false;
}

static void
add(struct section *s, const uint8_t *owner, const struct dns_rrset *set)
{
	if (set == NULL || s->n == ITEMS_MAX || has_item(s, owner, set))
		return;
	s->it[s->n++] = (struct item){ .owner = owner, .set = set };
}

/* an RRset and, with DO, its signatures */
static void
add_signed(struct ctx *c, struct section *s, const uint8_t *owner, const struct dns_node *n,
    const struct dns_rrset *set)
{
	if (set == NULL)
		return;
	add(s, owner, set);
	if (c->dnssec && set->type != DNS_T_RRSIG)
		add(s, owner, dns_node_sigs(c->z, n, set->type));
}

/* the SOA, with the negative TTL of RFC 2308 3 */
static void
add_soa(struct ctx *c)
{
	const struct dns_node *apex = dns_zone_find(c->z, c->z->origin);
	const struct dns_rrset *soa = dns_node_rrset(c->z, apex, DNS_T_SOA);
	const uint8_t *rd = soa->rd[0];
	uint16_t len = dns_get16(rd);
	uint32_t min = len >= 4 ? dns_get32(rd + 2 + len - 4) : 0;
	uint32_t ttl = soa->ttl < min ? soa->ttl : min;
	if (c->ns.n < ITEMS_MAX) {
		c->ns.it[c->ns.n++] = (struct item){ .owner = apex->name, .set = soa,
			.ttl = ttl, .ttl_set = true };
	}
	/* RFC 4034 3: the RRSIG's TTL is the TTL of the RRset it covers */
	const struct dns_rrset *sig = c->dnssec ? dns_node_sigs(c->z, apex, DNS_T_SOA) : NULL;
	if (sig != NULL && c->ns.n < ITEMS_MAX && !has_item(&c->ns, apex->name, sig))
		c->ns.it[c->ns.n++] = (struct item){ .owner = apex->name, .set = sig,
			.ttl = ttl, .ttl_set = true };
}

/* A/AAAA of a name we hand out (NS, MX, SRV targets), when in our zone */
static void
add_addresses(struct ctx *c, const uint8_t *name)
{
	if (!dns_name_under(name, c->z->origin))
		return;
	const struct dns_node *n = dns_zone_find(c->z, name);
	if (n == NULL)
		return;
	add_signed(c, &c->ar, n->name, n, dns_node_rrset(c->z, n, DNS_T_A));
	add_signed(c, &c->ar, n->name, n, dns_node_rrset(c->z, n, DNS_T_AAAA));
}

static void
additional_for(struct ctx *c, const struct dns_rrset *set)
{
	size_t at;
	switch (set->type) {
	case DNS_T_NS: at = 0; break;
	case DNS_T_MX: at = 2; break;
	case DNS_T_SRV: at = 6; break;
	default: return;
	}
	for (uint32_t i = 0; i < set->n; i++) {
		const uint8_t *rd = set->rd[i];
		if (dns_get16(rd) > at)
			add_addresses(c, rd + 2 + at);
	}
}

/* NSEC3 proof pieces (RFC 5155 7.2): the record matching or covering the
 * hash of name; true when it matches */
static bool
add_n3(struct ctx *c, const uint8_t *name)
{
	uint8_t h[20];
	bool match = false;
	if (!dns_zone_n3hash(c->z, name, h))
		return false;
	const struct dns_node *n = dns_zone_n3_for(c->z, h, &match);
	if (n != NULL)
		add_signed(c, &c->ns, n->name, n, dns_node_rrset(c->z, n, DNS_T_NSEC3));
	return match;
}

/* NSEC covering or matching name */
static void
add_nsec(struct ctx *c, const uint8_t *name)
{
	const struct dns_node *n = dns_zone_nsec_for(c->z, name);
	if (n != NULL)
		add_signed(c, &c->ns, n->name, n, dns_node_rrset(c->z, n, DNS_T_NSEC));
}

/* the ancestor of name with `labels` labels */
static const uint8_t *
ancestor(const uint8_t *name, unsigned labels)
{
	unsigned have = dns_name_labels(name);
	while (have > labels) {
		name = dns_name_parent(name);
		have--;
	}
	return name;
}

/* NODATA proof for an existing name (RFC 4035 3.1.3.1, RFC 5155 7.2.3) */
static void
prove_nodata(struct ctx *c, const struct dns_node *n)
{
	if (!c->dnssec)
		return;
	if (c->z->nsec3) {
		if (add_n3(c, n->name))
			return;
		/* no NSEC3 of its own: an opt-out delegation (RFC 5155 7.2.4,
		 * 7.2.7).  The closest provable encloser proof: the NSEC3 of
		 * the nearest ancestor that has one, and the opt-out NSEC3
		 * covering the next closer name. */
		const uint8_t *next = n->name;
		for (const uint8_t *a = dns_name_parent(n->name);
		    a != NULL && dns_name_under(a, c->z->origin); a = dns_name_parent(a)) {
			uint8_t h[20];
			bool match;
			if (dns_zone_n3hash(c->z, a, h) && dns_zone_n3_for(c->z, h, &match) != NULL &&
			    match) {
				add_n3(c, a);
				add_n3(c, next);
				return;
			}
			next = a;
		}
		return;
	}
	const struct dns_rrset *nsec = dns_node_rrset(c->z, n, DNS_T_NSEC);
	if (nsec != NULL)
		add_signed(c, &c->ns, n->name, n, nsec);
	else
		add_nsec(c, n->name);	/* an empty non-terminal: the one covering it */
}

/* NXDOMAIN proof (RFC 4035 3.1.3.2; RFC 5155 7.2.2: closest encloser,
 * next closer name, wildcard at the closest encloser) */
static void
prove_nxdomain(struct ctx *c, const uint8_t *name, const uint8_t *ce)
{
	if (!c->dnssec)
		return;
	uint8_t wild[DNS_NAME_MAX];
	size_t cl = dns_name_len(ce);
	if (cl + 2 > DNS_NAME_MAX)
		return;
	wild[0] = 1;
	wild[1] = '*';
	memcpy(wild + 2, ce, cl);
	if (c->z->nsec3) {
		add_n3(c, ce);
		add_n3(c, ancestor(name, dns_name_labels(ce) + 1));
		add_n3(c, wild);
		return;
	}
	add_nsec(c, name);
	add_nsec(c, wild);
}

/* wildcard answer proof: no closer match than the wildcard exists */
static void
prove_wildcard(struct ctx *c, const uint8_t *name, const uint8_t *ce)
{
	if (!c->dnssec)
		return;
	if (c->z->nsec3)
		add_n3(c, ancestor(name, dns_name_labels(ce) + 1));
	else
		add_nsec(c, name);
}

static void
referral(struct ctx *c, const struct dns_node *cut)
{
	c->aa = false;
	const struct dns_rrset *ns = dns_node_rrset(c->z, cut, DNS_T_NS);
	add(&c->ns, cut->name, ns);
	if (c->dnssec) {
		const struct dns_rrset *ds = dns_node_rrset(c->z, cut, DNS_T_DS);
		if (ds != NULL)
			add_signed(c, &c->ns, cut->name, cut, ds);
		else
			prove_nodata(c, cut);	/* no DS: an insecure delegation */
	}
	size_t ar0 = c->ar.n;
	additional_for(c, ns);
	for (size_t i = ar0; i < c->ar.n; i++)
		c->ar.it[i].required = dns_name_under(c->ar.it[i].owner, cut->name);
	/* glue below the cut is not in additional_for's reach when it is
	 * occluded data: add_addresses finds it by name all the same */
}

/* a node that holds only NSEC3 records (and their signatures): a hashed
 * name, which does not exist for queries (RFC 5155 7.2.8) */
static bool
nsec3_only(const struct dns_zone *z, const struct dns_node *n)
{
	return n != NULL && (n->flags & DNS_NODE_N3ONLY);
}

/* The node at or above name that is a zone cut or a DNAME, nearest the
 * apex, strictly below the apex; NULL if none.  *exact: the deepest node
 * found on the way down (the closest encloser when name does not exist). */
static const struct dns_node *
walk_down(struct ctx *c, const uint8_t *name, const struct dns_node **closest)
{
	const struct dns_zone *z = c->z;
	unsigned want = dns_name_labels(name);
	const struct dns_node *last = dns_zone_find(z, z->origin);
	if ((last->flags & DNS_NODE_DNAME) && want > z->origin_labels) {
		*closest = last;	/* RFC 6672 2.3: a DNAME at the apex */
		return last;
	}
	for (unsigned l = z->origin_labels + 1; l <= want; l++) {
		const uint8_t *a = ancestor(name, l);
		const struct dns_node *n = dns_zone_find(z, a);
		if (n == NULL || nsec3_only(z, n))
			break;	/* empty non-terminals are nodes: nothing below */
		last = n;
		if (n->flags & DNS_NODE_CUT) {
			/* DS is the parent side's: answered at the cut itself */
			if (l == want && c->qtype == DNS_T_DS)
				continue;
			*closest = n;
			return n;
		}
		if ((n->flags & DNS_NODE_DNAME) && l < want) {
			*closest = n;
			return n;
		}
	}
	*closest = last;
	return NULL;
}

/* name with suffix `from` replaced by `to` (DNAME substitution); false
 * when the result is longer than 255 bytes */
static bool
substitute(uint8_t out[DNS_NAME_MAX], const uint8_t *name, const uint8_t *from, const uint8_t *to)
{
	size_t nl = dns_name_len(name), fl = dns_name_len(from), tl = dns_name_len(to);
	size_t keep = nl - fl;
	if (keep + tl > DNS_NAME_MAX)
		return false;
	memcpy(out, name, keep);
	memcpy(out + keep, to, tl);
	return true;
}

/* one answer for a node's data at owner (the query name, or the name a
 * wildcard stands in for); returns the CNAME target to follow, or NULL */
static const uint8_t *
answer_node(struct ctx *c, const uint8_t *owner, const struct dns_node *n)
{
	const struct dns_zone *z = c->z;
	if ((n->flags & DNS_NODE_CNAME) && c->qtype != DNS_T_CNAME && c->qtype != DNS_T_ANY) {
		const struct dns_rrset *cn = dns_node_rrset(z, n, DNS_T_CNAME);
		add_signed(c, &c->an, owner, n, cn);
		return cn->rd[0] + 2;
	}
	if (c->qtype == DNS_T_ANY) {
		/* RFC 8482: one RRset, not the whole node */
		for (uint16_t i = 0; i < n->nsets; i++) {
			const struct dns_rrset *s = &z->sets[n->set0 + i];
			if (s->type == DNS_T_RRSIG)
				continue;
			add_signed(c, &c->an, owner, n, s);
			return NULL;
		}
	}
	const struct dns_rrset *s = dns_node_rrset(z, n, c->qtype);
	if (c->qtype == DNS_T_RRSIG) {
		/* every signature of the node */
		size_t an0 = c->an.n;	/* CNAMEs of the chain are in already */
		for (uint16_t i = 0; i < n->nsets; i++)
			if (z->sets[n->set0 + i].type == DNS_T_RRSIG)
				add(&c->an, owner, &z->sets[n->set0 + i]);
		if (c->an.n > an0)
			return NULL;
	} else if (s != NULL) {
		add_signed(c, &c->an, owner, n, s);
		additional_for(c, s);
		return NULL;
	}
	/* NODATA */
	add_soa(c);
	prove_nodata(c, n);
	return NULL;
}

static void
resolve(struct ctx *c, const uint8_t *qname)
{
	const uint8_t *name = qname;
	for (unsigned hop = 0; hop <= CHAIN_MAX; hop++) {
		const struct dns_node *closest = NULL;
		const struct dns_node *stop = walk_down(c, name, &closest);
		if (stop != NULL && (stop->flags & DNS_NODE_CUT)) {
			/* RFC 1034 4.3.2 3b, also at the end of a chain (the
			 * CNAMEs stay authoritative) */
			bool aa = c->aa;
			referral(c, stop);
			if (hop > 0)
				c->aa = aa;
			return;
		}
		if (stop != NULL) {
			/* DNAME at an ancestor: the DNAME, a CNAME made from it,
			 * and on with the new name */
			const struct dns_rrset *dn = dns_node_rrset(c->z, stop, DNS_T_DNAME);
			add_signed(c, &c->an, stop->name, stop, dn);
			if (c->n_synth == SYNTH_MAX)
				return;
			size_t k = c->n_synth++;
			uint8_t *rd = c->synth_rd[k];
			if (!substitute(rd + 2, name, stop->name, dn->rd[0] + 2)) {
				c->rcode = DNS_R_YXDOMAIN;
				return;
			}
			size_t tl = dns_name_len(rd + 2);
			rd[0] = (uint8_t)(tl >> 8);
			rd[1] = (uint8_t)tl;
			memcpy(c->synth_owner[k], name, dns_name_len(name));
			c->synth_ptr[k] = rd;
			c->synth[k] = (struct dns_rrset){ .type = DNS_T_CNAME, .ttl = dn->ttl, .n = 1,
				.rd = &c->synth_ptr[k] };
			add(&c->an, c->synth_owner[k], &c->synth[k]);
			if (c->qtype == DNS_T_CNAME || c->qtype == DNS_T_ANY)
				return;	/* the CNAME is what was asked for */
			name = rd + 2;
		} else {
			const struct dns_node *n = dns_zone_find(c->z, name);
			const uint8_t *next;
			if (nsec3_only(c->z, n))
				n = NULL;
			if (n != NULL) {
				next = answer_node(c, name, n);
			} else {
				/* no such name: a wildcard at the closest encloser? */
				const struct dns_node *w = NULL;
				uint8_t wild[DNS_NAME_MAX];
				size_t cl = dns_name_len(closest->name);
				if ((closest->flags & DNS_NODE_WILDCHILD) && cl + 2 <= DNS_NAME_MAX) {
					wild[0] = 1;
					wild[1] = '*';
					memcpy(wild + 2, closest->name, cl);
					w = dns_zone_find(c->z, wild);
				}
				if (w == NULL) {
					c->rcode = DNS_R_NXDOMAIN;
					add_soa(c);
					prove_nxdomain(c, name, closest->name);
					return;
				}
				size_t an0 = c->an.n;
				next = answer_node(c, name, w);
				prove_wildcard(c, name, closest->name);
				if (c->dnssec && c->z->nsec3 && c->an.n == an0)
					add_n3(c, closest->name);	/* RFC 5155 7.2.5 */
			}
			if (next == NULL)
				return;
			name = next;
		}
		/* follow the chain only inside this zone */
		if (!dns_name_under(name, c->z->origin))
			return;
	}
}

/* --- writing -------------------------------------------------------------------- */

static bool
put(struct pkt *p, const void *d, size_t n)
{
	if (p->over || n > p->max - p->len) {
		p->over = true;
		return false;
	}
	memcpy(p->b + p->len, d, n);
	p->len += n;
	return true;
}

static bool
put16(struct pkt *p, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return put(p, b, 2);
}

static bool
put32(struct pkt *p, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	return put(p, b, 4);
}

/* name, compressed against the names already written when compress */
static bool
put_name(struct pkt *p, const uint8_t *name, bool compress)
{
	size_t nlen = dns_name_len(name);
	const uint8_t *s = name;
	int ptr = -1;
	if (compress) {
		for (; *s != 0 && ptr < 0; s += *s + 1) {
			size_t sl = nlen - (size_t)(s - name);
			for (size_t k = 0; k < p->nc; k++)
				if (p->c[k].len == sl && dns_name_eq(p->c[k].name, s)) {
					ptr = p->c[k].off;
					break;
				}
			if (ptr >= 0)
				break;
		}
	} else {
		s = name + nlen - 1;
	}
	for (const uint8_t *l = name; l < s; l += *l + 1) {
		if (compress && p->len < 0x3fff && p->nc < COMP_MAX)
			p->c[p->nc++] = (struct comp){ .off = (uint16_t)p->len,
				.len = (uint16_t)(nlen - (size_t)(l - name)), .name = l };
		put(p, l, (size_t)*l + 1);
	}
	return ptr >= 0 ? put16(p, (uint16_t)(0xc000 | ptr)) : put(p, "", 1);
}

static bool
compressible(uint16_t type)
{
	/* RFC 3597 4: only the types of RFC 1035 */
	return type == DNS_T_NS || type == DNS_T_CNAME || type == DNS_T_SOA ||
	    type == DNS_T_PTR || type == DNS_T_MX;
}

static bool
put_rr(struct pkt *p, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd)
{
	uint16_t rdlen = dns_get16(rd);
	const uint8_t *data = rd + 2;
	put_name(p, owner, true);
	put16(p, type);
	put16(p, DNS_C_IN);
	put32(p, ttl);
	size_t at = p->len;
	put16(p, 0);
	size_t offs[2];
	int nn = compressible(type) ? dns_rdata_names(type, data, rdlen, offs) : 0;
	size_t done = 0;
	for (int i = 0; i < nn; i++) {
		put(p, data + done, offs[i] - done);
		put_name(p, data + offs[i], true);
		done = offs[i] + dns_name_len(data + offs[i]);
	}
	put(p, data + done, rdlen - done);
	if (p->over)
		return false;
	size_t l = p->len - at - 2;
	p->b[at] = (uint8_t)(l >> 8);
	p->b[at + 1] = (uint8_t)l;
	return true;
}

/* a whole RRset or nothing; returns records written */
static unsigned
put_item(struct pkt *p, const struct item *it)
{
	size_t len0 = p->len, nc0 = p->nc;
	uint32_t ttl = it->ttl_set ? it->ttl : it->set->ttl;
	for (uint32_t i = 0; i < it->set->n; i++) {
		const uint8_t *rd = it->set->rd[i];
		/* an RRSIG keeps its own TTL: the original TTL field caps it */
		uint32_t t = ttl;
		if (it->set->type == DNS_T_RRSIG && dns_get16(rd) >= 8)
			t = dns_get32(rd + 2 + 4) < ttl ? dns_get32(rd + 2 + 4) : ttl;
		if (!put_rr(p, it->owner, it->set->type, t, rd)) {
			p->len = len0;
			p->nc = nc0;
			p->over = false;
			return 0;
		}
	}
	return it->set->n;
}

static void
set_count(uint8_t *b, size_t at, unsigned n)
{
	b[at] = (uint8_t)(n >> 8);
	b[at + 1] = (uint8_t)n;
}

/* --- the query --------------------------------------------------------------------- */

const struct dns_zone *
dns_zoneset_find(const struct dns_zoneset *zs, const uint8_t *name)
{
	for (const uint8_t *s = name; s != NULL; s = dns_name_parent(s))
		for (size_t i = 0; i < zs->n; i++)
			if (zs->z[i] != NULL && dns_name_eq(zs->z[i]->origin, s))
				return zs->z[i];
	return NULL;
}

/* the header and question of the reply: as asked, with QR set */
static size_t
start_reply(uint8_t *out, const uint8_t *q, size_t qend, uint8_t rcode, bool aa)
{
	memcpy(out, q, qend);
	out[2] = (uint8_t)((q[2] & 0x79) | 0x80 | (aa ? 0x04 : 0));	/* QR, opcode, AA, RD */
	out[3] = (uint8_t)((q[3] & 0x10) | (rcode & 0x0f));		/* CD, RCODE */
	set_count(out, 4, qend > 12 ? 1 : 0);
	set_count(out, 6, 0);
	set_count(out, 8, 0);
	set_count(out, 10, 0);
	return qend;
}

static size_t
put_opt(uint8_t *out, size_t len, size_t max, uint8_t ext_rcode, bool dnssec)
{
	if (max - len < 11)
		return len;
	uint8_t opt[11] = { 0, 0, DNS_T_OPT, (uint8_t)(DNS_UDP_MAX >> 8), (uint8_t)DNS_UDP_MAX,
		ext_rcode, 0, dnssec ? 0x80 : 0, 0, 0, 0 };
	memcpy(out + len, opt, sizeof opt);
	unsigned ar = (unsigned)(out[10] << 8 | out[11]) + 1;
	set_count(out, 10, ar);
	return len + sizeof opt;
}

size_t
dns_answer(const struct dns_zoneset *zs, const uint8_t *q, size_t qlen, bool tcp,
    uint8_t *out, size_t outmax, struct dns_qinfo *info)
{
	memset(info, 0, sizeof *info);
	if (qlen < 12 || outmax < 512 || (q[2] & 0x80))
		return 0;	/* not a query: never answer a response */
	info->question_end = 12;	/* until a question is parsed: the header */
	unsigned opcode = (q[2] >> 3) & 0x0f;
	unsigned qd = dns_get16(q + 4), an = dns_get16(q + 6), ns = dns_get16(q + 8),
	    ar = dns_get16(q + 10);
	size_t max = tcp ? (outmax < DNS_TCP_MAX ? outmax : DNS_TCP_MAX) : 512;
	if (opcode != 0) {
		info->rcode = DNS_R_NOTIMP;
		return start_reply(out, q, 12, DNS_R_NOTIMP, false);
	}
	/* the question */
	size_t off = 12;
	uint8_t qname[DNS_NAME_MAX];
	if (qd != 1 || an != 0 || ns != 0 || dns_name_unpack(q, qlen, &off, qname) < 0 ||
	    qlen - off < 4) {
		info->rcode = DNS_R_FORMERR;
		return start_reply(out, q, 12, DNS_R_FORMERR, false);
	}
	uint16_t qtype = dns_get16(q + off), qclass = dns_get16(q + off + 2);
	off += 4;
	/* the reply's question is written from the decoded name, never
	 * copied: a compressed question points into the query's header,
	 * which the reply changes (found by the unit tests) */
	uint8_t qhead[12 + DNS_NAME_MAX + 4];
	size_t ql = dns_name_len(qname), qend = 12 + ql + 4;
	memcpy(qhead, q, 12);
	memcpy(qhead + 12, qname, ql);
	memcpy(qhead + 12 + ql, q + off - 4, 4);
	info->question_end = qend;
	info->qtype = qtype;
	memcpy(info->qname, qname, dns_name_len(qname));
	dns_name_lower(info->qname);
	/* the additional section: one OPT at most (RFC 6891 6.1.1) */
	bool edns = false, dnssec = false, badvers = false, bad = false;
	size_t udp_size = 512;
	for (unsigned i = 0; i < ar && !bad; i++) {
		uint8_t nm[DNS_NAME_MAX];
		if (dns_name_unpack(q, qlen, &off, nm) < 0 || qlen - off < 10) {
			bad = true;
			break;
		}
		uint16_t t = dns_get16(q + off), rdlen = dns_get16(q + off + 8);
		if (qlen - off - 10 < rdlen) {
			bad = true;
			break;
		}
		if (t == DNS_T_OPT) {
			if (edns || nm[0] != 0)
				bad = true;
			edns = true;
			uint16_t size = dns_get16(q + off + 2);
			udp_size = size < 512 ? 512 : size;
			badvers = q[off + 5] != 0;
			dnssec = (q[off + 6] & 0x80) != 0;
		}
		off += 10 + (size_t)rdlen;
	}
	info->edns = edns;
	info->dnssec_ok = dnssec;
	if (!tcp)
		max = udp_size < DNS_UDP_MAX ? udp_size : DNS_UDP_MAX;
	if (max > outmax)
		max = outmax;
	if (bad) {
		info->rcode = DNS_R_FORMERR;
		return start_reply(out, qhead, qend, DNS_R_FORMERR, false);
	}
	size_t room = edns ? max - 11 : max;	/* the OPT always fits */
	if (badvers) {
		info->rcode = DNS_R_BADVERS;
		size_t len = start_reply(out, qhead, qend, 0, false);
		return put_opt(out, len, max, 1, dnssec);
	}
	uint8_t rcode = DNS_R_NOERROR;
	const struct dns_zone *z = NULL;
	if (qclass != DNS_C_IN && qclass != DNS_C_ANY)
		rcode = DNS_R_REFUSED;
	else if (qtype == DNS_T_AXFR || qtype == DNS_T_IXFR || qtype == DNS_T_OPT ||
	    qtype == DNS_T_TSIG || qtype == 253 || qtype == 254)
		/* transfers go to the transfer code; meta types are no data */
		rcode = (qtype == DNS_T_AXFR || qtype == DNS_T_IXFR) ? DNS_R_REFUSED :
		    DNS_R_FORMERR;
	else if ((z = dns_zoneset_find(zs, qname)) == NULL)
		rcode = DNS_R_REFUSED;
	else if (qtype == DNS_T_DS && dns_name_eq(z->origin, qname) && *qname != 0) {
		/* RFC 4035 3.1.4.1: DS is the parent's, when we serve it */
		const struct dns_zone *pz = dns_zoneset_find(zs, dns_name_parent(qname));
		if (pz != NULL)
			z = pz;
	}
	info->zone = z;
	if (rcode != DNS_R_NOERROR) {
		info->rcode = rcode;
		size_t len = start_reply(out, qhead, qend, rcode, false);
		return edns ? put_opt(out, len, max, 0, dnssec) : len;
	}

	static struct ctx c;	/* 26 KB: not on the stack; one query at a time */
	c.an.n = c.ns.n = c.ar.n = 0;	/* items are written before they are read */
	c.zs = zs;
	c.z = z;
	c.qtype = qtype;
	c.dnssec = dnssec;
	c.aa = true;
	c.rcode = DNS_R_NOERROR;
	c.n_synth = 0;
	resolve(&c, qname);

	struct pkt p = { .b = out, .max = room };
	p.len = start_reply(out, qhead, qend, c.rcode, c.aa);
	/* the question's name is the first compression target: answers to
	 * it point there and keep the query's letter case */
	p.c[p.nc++] = (struct comp){ .off = 12, .len = (uint16_t)dns_name_len(qname),
		.name = qname };
	/* and its suffixes (none for the root: it has no label to skip) */
	for (const uint8_t *l = qname; *l != 0 && p.nc < COMP_MAX;) {
		l += *l + 1;
		if (*l == 0)
			break;
		p.c[p.nc++] = (struct comp){ .off = (uint16_t)(12 + (l - qname)),
			.len = (uint16_t)dns_name_len(l), .name = l };
	}
	unsigned n_an = 0, n_ns = 0, n_ar = 0;
	bool tc = false;
	for (size_t i = 0; i < c.an.n && !tc; i++) {
		unsigned w = put_item(&p, &c.an.it[i]);
		tc = w == 0;
		n_an += w;
	}
	for (size_t i = 0; i < c.ns.n && !tc; i++) {
		unsigned w = put_item(&p, &c.ns.it[i]);
		tc = w == 0;
		n_ns += w;
	}
	if (tc) {
		/* RFC 2181 9: what did not fit would mislead; the client asks
		 * again over TCP.  Only the question goes back. */
		p.len = start_reply(out, qhead, qend, c.rcode, c.aa);
		out[2] |= 0x02;
		n_an = n_ns = 0;
	} else {
		/* additional data is optional: what fits, except in-domain
		 * glue of a referral (RFC 9471 3: TC when it does not fit) */
		for (size_t i = 0; i < c.ar.n; i++) {
			unsigned w = put_item(&p, &c.ar.it[i]);
			if (w == 0 && c.ar.it[i].required)
				tc = true;
			n_ar += w;
		}
		if (tc)
			out[2] |= 0x02;
	}
	set_count(out, 6, n_an);
	set_count(out, 8, n_ns);
	set_count(out, 10, n_ar);
	info->rcode = c.rcode;
	info->tc = tc;
	return edns ? put_opt(out, p.len, max, 0, dnssec) : p.len;
}

/* --- zone transfers --------------------------------------------------------------- */

bool
dns_xfr_request(const uint8_t *q, size_t qlen, uint8_t qname[DNS_NAME_MAX], uint16_t *qtype,
    uint32_t *serial, bool *has_serial)
{
	*serial = 0;
	*has_serial = false;
	if (qlen < 12 || (q[2] & 0x80) || ((q[2] >> 3) & 0x0f) != 0 || dns_get16(q + 4) != 1 ||
	    dns_get16(q + 6) != 0)
		return false;
	size_t off = 12;
	if (dns_name_unpack(q, qlen, &off, qname) < 0 || qlen - off < 4)
		return false;
	*qtype = dns_get16(q + off);
	if ((*qtype != DNS_T_AXFR && *qtype != DNS_T_IXFR) || dns_get16(q + off + 2) != DNS_C_IN)
		return false;
	off += 4;
	/* IXFR: the client's SOA in the authority section (RFC 1995 3) */
	if (*qtype == DNS_T_IXFR && dns_get16(q + 8) >= 1) {
		uint8_t nm[DNS_NAME_MAX];
		if (dns_name_unpack(q, qlen, &off, nm) < 0 || qlen - off < 10)
			return true;
		uint16_t t = dns_get16(q + off), rdlen = dns_get16(q + off + 8);
		off += 10;
		if (t != DNS_T_SOA || qlen - off < rdlen)
			return true;
		size_t r = off;
		uint8_t a[DNS_NAME_MAX];
		if (dns_name_unpack(q, qlen, &r, a) < 0 || dns_name_unpack(q, qlen, &r, a) < 0 ||
		    r + 4 > off + rdlen)
			return true;
		*serial = dns_get32(q + r);
		*has_serial = true;
	}
	return true;
}

void
dns_xfr_start(struct dns_xfr *x, const struct dns_zone *z, const uint8_t *q, size_t qlen,
    bool up_to_date)
{
	memset(x, 0, sizeof *x);
	x->z = z;
	size_t off = 12;
	uint8_t nm[DNS_NAME_MAX];
	memcpy(x->head, q, 12);
	x->head_len = 12;
	if (dns_name_unpack(q, qlen, &off, nm) > 0 && qlen - off >= 4) {
		/* written from the decoded name, as in dns_answer */
		size_t nl = dns_name_len(nm);
		memcpy(x->head + 12, nm, nl);
		memcpy(x->head + 12 + nl, q + off, 4);
		x->head_len = 12 + nl + 4;
	}
	x->first = true;
	x->phase = up_to_date ? 2 : 0;
}

static const struct dns_rrset *
apex_soa(const struct dns_zone *z, const struct dns_node **apex)
{
	*apex = dns_zone_find(z, z->origin);
	return dns_node_rrset(z, *apex, DNS_T_SOA);
}

size_t
dns_xfr_next(struct dns_xfr *x, uint8_t *out, size_t outmax)
{
	if (x->phase == 3 || outmax < 512)
		return 0;
	size_t max = outmax < DNS_XFR_MSG_MAX ? outmax : DNS_XFR_MSG_MAX;
	struct pkt p = { .b = out, .max = max };
	/* the question goes in the first message only (RFC 5936 2.2.1) */
	p.len = start_reply(out, x->head, x->first ? x->head_len : 12, DNS_R_NOERROR, true);
	uint8_t qn[DNS_NAME_MAX];
	size_t qo = 12;
	if (x->first && x->head_len > 12 && dns_name_unpack(x->head, x->head_len, &qo, qn) > 0)
		p.c[p.nc++] = (struct comp){ .off = 12, .len = (uint16_t)dns_name_len(qn), .name = qn };
	x->first = false;
	const struct dns_node *apex;
	const struct dns_rrset *soa = apex_soa(x->z, &apex);
	unsigned n = 0;
	while (x->phase < 3) {
		const uint8_t *owner, *rd;
		uint16_t type;
		uint32_t ttl;
		size_t adv = 0;		/* journal bytes this record takes */
		if (x->phase == 0 || x->phase == 2) {
			owner = apex->name;
			type = DNS_T_SOA;
			ttl = soa->ttl;
			rd = soa->rd[0];
		} else if (x->jp != NULL) {
			/* the journal: entry headers are skipped */
			if (x->erem == 0) {
				if (x->jleft < 12) {
					x->phase = 2;
					continue;
				}
				x->erem = dns_get32(x->jp + 8);
				x->jp += 12;
				x->jleft -= 12;
			}
			int nl = dns_name_check(x->jp, x->erem < x->jleft ? x->erem : x->jleft);
			if (nl < 0 || x->erem < (size_t)nl + 8 ||
			    x->erem - (size_t)nl - 8 < dns_get16(x->jp + nl + 6))
				return 0;	/* a journal that does not parse: stop */
			owner = x->jp;
			type = dns_get16(x->jp + nl);
			ttl = dns_get32(x->jp + nl + 2);
			rd = x->jp + nl + 6;
			adv = (size_t)nl + 8 + dns_get16(rd);
		} else {
			/* skip the apex SOA (it opens and closes) and move past
			 * exhausted sets */
			while (x->set < x->z->n_sets && (x->rec >= x->z->sets[x->set].n ||
			    (x->z->sets[x->set].type == DNS_T_SOA && x->z->sets[x->set].rd == soa->rd))) {
				x->set++;
				x->rec = 0;
			}
			if (x->set == x->z->n_sets) {
				x->phase = 2;
				continue;
			}
			const struct dns_rrset *s = &x->z->sets[x->set];
			owner = s->owner;
			type = s->type;
			ttl = s->ttl;
			rd = s->rd[x->rec];
			if (type == DNS_T_RRSIG && dns_get16(rd) >= 8)
				ttl = dns_get32(rd + 2 + 4) < ttl ? dns_get32(rd + 2 + 4) : ttl;
		}
		size_t len0 = p.len, nc0 = p.nc;
		if (!put_rr(&p, owner, type, ttl, rd)) {
			p.len = len0;
			p.nc = nc0;
			p.over = false;
			if (n == 0)
				return 0;	/* one record bigger than a message: cannot be */
			break;
		}
		n++;
		x->records++;
		if (x->phase == 0) {
			x->phase = 1;
		} else if (x->phase == 2) {
			x->phase = 3;
		} else if (x->jp != NULL) {
			x->jp += adv;
			x->jleft -= adv;
			x->erem -= adv;
		} else {
			x->rec++;
		}
	}
	set_count(out, 6, n);
	return p.len;
}

void
dns_xfr_use_journal(struct dns_xfr *x, long off)
{
	if (off < 0 || (size_t)off > x->z->journal_len)
		return;
	x->jp = x->z->journal + off;
	x->jleft = x->z->journal_len - (size_t)off;
	x->erem = 0;
}

/*
 * dns/zone.h - an authoritative zone in memory, built from its records and
 * then only read.
 *
 * A zone travels as a record stream: each record is
 *   owner (uncompressed wire name) | type u16 | ttl u32 | rdlen u16 | rdata
 * (big-endian, names inside rdata uncompressed).  The parent (and `talon
 * zone check`) parses the zone file into a stream with dns_zsrc, checks it
 * by building the zone once, and hands the stream to the dns process,
 * which builds its own index over the very same bytes: rdata is never
 * copied, the index points into the stream.
 *
 * The index: one node per owner name and per empty non-terminal (a name
 * that has no records but names below it, RFC 4592 2.2.2: it must answer
 * NODATA, not NXDOMAIN), found by a hash of the lowercased name; the
 * records of a node grouped in RRsets (RRSIGs grouped by the type they
 * cover); the nodes in canonical order (RFC 4034 6.1) when the zone has
 * NSEC records, and the NSEC3 hashes in order when it has NSEC3.
 *
 * Runs in: parent, CLI, dns process.  Trusts: nothing in the stream
 * beyond what dns_zone_build checks.
 */
#ifndef TALON_DNS_ZONE_H
#define TALON_DNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/diag.h"
#include "dns/name.h"
#include "dns/zonefile.h"

#define DNS_ZONE_RECORDS_MAX	(16u << 20)	/* records in one zone */

/* --- building a stream from a zone file ------------------------------------ */

struct dns_zsrc {
	uint8_t origin[DNS_NAME_MAX];
	struct buf stream;
	/* where each record came from, for messages */
	struct dns_zsrc_where { const char *file; unsigned line; } *where;
	size_t n, cap;
	char **files;		/* file names, owned */
	size_t n_files;
};

void dns_zsrc_init(struct dns_zsrc *s, const uint8_t *origin);
void dns_zsrc_free(struct dns_zsrc *s);
/* A dns_rr_fn: append rr to the stream. */
int dns_zsrc_add(void *zsrc, const struct dns_rr *rr);
/* A dns_where_fn (below) over a dns_zsrc: where record i of the stream
 * came from. */
void dns_zsrc_where(void *zsrc, size_t i, const char **file, unsigned *line);
/* Parse file into s (dns_zonefile_parse); 0, or -1 with messages in d. */
int dns_zsrc_load(struct dns_zsrc *s, const char *file, struct diag *d);

/* --- the index ---------------------------------------------------------------- */

struct dns_rrset {
	const uint8_t *owner;	/* its node's name */
	uint16_t type;		/* DNS_T_RRSIG for signatures */
	uint16_t covered;	/* for RRSIG sets: the type they sign */
	uint32_t ttl;
	uint32_t n;		/* records */
	const uint8_t **rd;	/* n pointers to "rdlen u16 | rdata" in the stream */
};

#define DNS_NODE_APEX		0x01
#define DNS_NODE_CUT		0x02	/* NS below the apex: a delegation */
#define DNS_NODE_CNAME		0x04
#define DNS_NODE_DNAME		0x08
#define DNS_NODE_WILDCHILD	0x10	/* "*.<this name>" exists */
#define DNS_NODE_NSEC3		0x20	/* owns an NSEC3 record (a hashed name) */
#define DNS_NODE_N3ONLY		0x40	/* holds NSEC3 only: not a name of the data */

struct dns_node {
	const uint8_t *name;	/* wire, case as in the zone */
	uint32_t hash;
	uint32_t set0;		/* its rrsets: z->sets[set0 .. set0 + nsets) */
	uint16_t nsets;
	uint16_t flags;
	uint32_t canon;		/* position in canonical order */
};

struct dns_zone {
	uint8_t origin[DNS_NAME_MAX];
	unsigned origin_labels;
	uint32_t serial;
	const uint8_t *stream;	/* not owned */
	size_t stream_len;
	struct dns_node *nodes;
	size_t n_nodes;
	struct dns_rrset *sets;
	size_t n_sets;
	const uint8_t **rd;	/* all rdata pointers, rrset by rrset */
	size_t n_rd;
	uint64_t *table;	/* hash table: hash << 32 | node index + 1, 0 empty */
	size_t mask;
	uint64_t seed;
	struct dns_node **canon;	/* canonical order, when the zone has NSEC */
	size_t n_canon;
	/* NSEC3 (RFC 5155), from the apex NSEC3PARAM */
	bool nsec3;
	uint8_t n3_alg, n3_salt_len;
	uint16_t n3_iter;
	uint8_t n3_salt[255];
	struct dns_n3 { uint8_t hash[20]; const struct dns_node *node; } *n3;
	size_t n_n3;
	size_t n_records;
	/* the IXFR journal (RFC 1995): entries "from u32 | to u32 | len u32 |
	 * records", each the old SOA and the records deleted, then the new
	 * SOA and the records added, oldest first; not owned */
	const uint8_t *journal;
	size_t journal_len;
	uint8_t digest[32];	/* dns_zone_digest(); zero until it is called */
};

/* Where record i (in stream order) came from, for messages; NULL when
 * there is no such information (the dns process). */
typedef void dns_where_fn(void *arg, size_t i, const char **file, unsigned *line);

/* Build z over stream[0..len), which must outlive z.  Checks what makes a
 * zone unservable and reports it in d (errors) or as warnings: exactly one
 * SOA, at the apex; NS at the apex; a CNAME beside other data, at the apex
 * or twice; two DNAMEs; records under a delegation that are not glue
 * (warning: they are occluded); TTLs differing within an RRset (warning;
 * the first is used); identical records (dropped silently).  0, or -1 with
 * the zone not built. */
int dns_zone_build(struct dns_zone *z, const uint8_t *origin, const uint8_t *stream, size_t len,
    dns_where_fn *where, void *where_arg, struct diag *d, const char *file);
void dns_zone_free(struct dns_zone *z);
/* Fill z->digest: SHA-256 over the records, independent of their order
 * (content identity for reloads and `zone check`; the dns process does
 * not need it and does not pay for it). */
void dns_zone_digest(struct dns_zone *z);

#define DNS_JOURNAL_ENTRIES_MAX	16	/* reloads an IXFR can span */

/* Append to journal the entry that turns the zone of stream old (serial
 * from) into the zone of stream new (serial to): both streams must have
 * built as zones.  Older entries beyond DNS_JOURNAL_ENTRIES_MAX are
 * dropped from the front.  false when a stream does not parse. */
bool dns_journal_add(struct buf *journal, const uint8_t *old, size_t old_len,
    const uint8_t *new_, size_t new_len, uint32_t from, uint32_t to);
/* Where in z->journal an IXFR from serial begins: the offset of the entry
 * leaving serial, when the entries from there lead without a gap to
 * z->serial; -1 otherwise (the client gets the whole zone). */
long dns_journal_find(const struct dns_zone *z, uint32_t serial);

const struct dns_node *dns_zone_find(const struct dns_zone *z, const uint8_t *name);
const struct dns_rrset *dns_node_rrset(const struct dns_zone *z, const struct dns_node *n,
    uint16_t type);
/* The RRSIGs covering type at n, or NULL. */
const struct dns_rrset *dns_node_sigs(const struct dns_zone *z, const struct dns_node *n,
    uint16_t covered);
/* The node holding the NSEC that covers or matches name: the last node in
 * canonical order at or before name that has an NSEC.  NULL without NSEC. */
const struct dns_node *dns_zone_nsec_for(const struct dns_zone *z, const uint8_t *name);
/* NSEC3 hash of name with the zone's parameters (20 bytes); false when the
 * zone has no NSEC3. */
bool dns_zone_n3hash(const struct dns_zone *z, const uint8_t *name, uint8_t out[20]);
/* The NSEC3 node whose hash matches h (*match true) or covers it. */
const struct dns_node *dns_zone_n3_for(const struct dns_zone *z, const uint8_t h[20], bool *match);

static inline uint16_t dns_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t
dns_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif

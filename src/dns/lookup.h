/*
 * dns/lookup.h - the answer to one DNS question, as the mail checks use
 * it, and a set of such answers.
 *
 * The resolver (dns/resolve.h) fills a struct lookup from libunbound's
 * result; SPF, DKIM and DMARC (src/msgauth/) are pure functions over
 * lookups, so tests and fuzzers can hand them answers directly and the
 * policy process can re-run an evaluation when one more answer arrives.
 *
 * Record data, by type (rr.len is the length of rr.data):
 *   A      4 bytes, network order          AAAA  16 bytes
 *   MX     rr.pref, data = exchange name   PTR, CNAME  data = name
 *   TXT    the record's character-strings concatenated (RFC 7208 3.3,
 *          RFC 6376 3.6.2.2); may hold any byte, NUL included
 *   other  the raw rdata (TLSA and the like)
 * A name is in presentation form, lowercased, without the final dot
 * ("mail.example.org"; the root is ""); a label byte that is not a letter,
 * digit, '-' or '_' is written as \DDD, so a name never holds a dot or a
 * NUL that was not in the wire name's structure.  data is NUL-terminated
 * after len bytes for convenience.
 *
 * Runs in: policy (the resolver), smtp worker and CLI (the checks).
 * Pure; trusts nothing in the rdata (lookup_from_wire checks it).
 */
#ifndef TALON_DNS_LOOKUP_H
#define TALON_DNS_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOOKUP_NAME_MAX	(255 * 4)	/* presentation form, \DDD escapes */
#define LOOKUP_RR_MAX	64		/* records kept per answer */

enum lookup_status {
	LOOKUP_OK = 0,		/* NOERROR: records, or none (NODATA) */
	LOOKUP_NXDOMAIN,	/* the name does not exist */
	LOOKUP_TEMPFAIL,	/* timeout, SERVFAIL, REFUSED, no server: try later */
};

/* DNSSEC state of an answer (RFC 4033 5). */
enum lookup_sec {
	LOOKUP_INSECURE = 0,	/* no chain of trust: the usual case */
	LOOKUP_SECURE,		/* validated */
	LOOKUP_BOGUS,		/* failed validation: treated as TEMPFAIL by
				 * the mail checks (and status says so) */
};

/* DNS types the mail checks ask for (RFC 1035, 3596, 6698). */
enum {
	LOOKUP_A = 1, LOOKUP_CNAME = 5, LOOKUP_PTR = 12, LOOKUP_MX = 15,
	LOOKUP_TXT = 16, LOOKUP_AAAA = 28, LOOKUP_TLSA = 52,
};

struct lookup_rr {
	uint16_t pref;		/* MX preference */
	uint16_t len;
	uint8_t *data;
};

struct lookup {
	uint16_t type;
	char name[LOOKUP_NAME_MAX + 1];	/* the question, normalised */
	enum lookup_status status;
	enum lookup_sec sec;
	uint32_t ttl;		/* of the records, or the negative TTL */
	size_t n;
	struct lookup_rr rr[LOOKUP_RR_MAX];
	const char *why;	/* static text for TEMPFAIL ("timeout", "SERVFAIL") */
};

/* Normalise a raw name (dots separate labels; every other byte, a
 * backslash included, is a literal label byte, as in an SPF target or a
 * DKIM d=) into dst (LOOKUP_NAME_MAX + 1): lowercase, one final dot
 * removed, bytes escaped as above.  false when it is not a name a query
 * can carry (empty label, label over 63 octets, over 255 on the wire). */
bool lookup_name_norm(char *dst, const char *name);
/* Wire name at p (no compression) -> normalised presentation form. */
bool lookup_name_from_wire(char *dst, const uint8_t *p, size_t len);
/* Presentation form -> wire form (at most 255 bytes); its length or 0. */
size_t lookup_name_to_wire(uint8_t *dst, const char *name);

void lookup_init(struct lookup *l, uint16_t type, const char *name);
/* Add one record from its wire rdata (RFC 1035 3.3): decoded per type as
 * above; -1 (and nothing added) when the rdata is malformed, which the
 * caller counts as a broken answer.  Records past LOOKUP_RR_MAX are
 * dropped (returns 0). */
int lookup_add_wire(struct lookup *l, const uint8_t *rdata, size_t len);
/* Add one record already in lookup form (tests, the answer set). */
void lookup_add(struct lookup *l, uint16_t pref, const void *data, size_t len);
void lookup_clear(struct lookup *l);	/* frees the records, keeps the question */
void lookup_copy(struct lookup *dst, const struct lookup *src);
const char *lookup_type_name(uint16_t type);	/* "TXT", or "TYPE99" (static for known) */
const char *lookup_status_name(enum lookup_status s);

/* A hash of the question (type, normalised name), for tables of answers.
 * Not keyed: names come from the network, so a table using it must bound
 * its chains (the set: a seeded htab; the policy cache: direct-mapped). */
uint64_t lookup_hash(uint16_t type, const char *name);

/*
 * A set of answers, keyed by (type, name): what an evaluation has learnt
 * so far.  lookup_set_find returns NULL for a question not yet answered.
 */
struct lookup_set;
struct lookup_set *lookup_set_new(void);
void lookup_set_free(struct lookup_set **s);
/* Takes a copy. A second answer to the same question replaces the first. */
void lookup_set_put(struct lookup_set *s, const struct lookup *l);
const struct lookup *lookup_set_find(const struct lookup_set *s, uint16_t type, const char *name);
size_t lookup_set_count(const struct lookup_set *s);

#endif

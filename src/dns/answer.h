/*
 * dns/answer.h - authoritative answers: one query packet in, one response
 * packet out.  Pure: no I/O, no clock, no state between calls.
 *
 * What it does (RFC 1034 4.3.2 with the later amendments):
 *   - the zone is the one with the longest origin that holds the name;
 *     outside all of them: REFUSED;
 *   - delegations (NS below the apex) give referrals with glue; DS is
 *     answered from the parent side of the cut (RFC 4035 3.1.4.1);
 *   - DNAME (RFC 6672) gives the DNAME and a synthesized CNAME;
 *   - CNAME chains are followed inside the zone, at most 8 hops;
 *   - NXDOMAIN and NODATA carry the SOA with the negative TTL
 *     min(SOA TTL, MINIMUM) (RFC 2308 3);
 *   - wildcards (RFC 4592) answer for names that do not exist below an
 *     existing closest encloser, with the query's name as owner;
 *   - with the DO bit, RRSIGs go with every RRset, and negative and
 *     wildcard answers carry their NSEC or NSEC3 proofs (RFC 4035 3.1.3,
 *     RFC 5155 7.2); without DO no DNSSEC record is added, but one asked
 *     for by type is answered;
 *   - ANY gets one RRset (RFC 8482), never the whole node;
 *   - EDNS (RFC 6891): the OPT is echoed with our payload size; version
 *     above 0 gets BADVERS; UDP answers fit min(client size, 1232), else
 *     TC with the question only, and over TCP the full answer;
 *   - names are compressed where RFC 3597 4 allows (NS, CNAME, SOA, PTR,
 *     MX rdata and owner names); owner names equal to the question point
 *     to it, so the query's letter case (0x20) is kept;
 *   - FORMERR for malformed queries, NOTIMP for opcodes other than QUERY,
 *     nothing at all for responses (QR set) and packets under 12 bytes.
 *
 * Runs in: dns process.  Trusts: nothing in the query.
 */
#ifndef TALON_DNS_ANSWER_H
#define TALON_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/zone.h"

#define DNS_UDP_MAX	1232	/* our UDP payload cap (DNS flag day 2020) */
#define DNS_TCP_MAX	65535

enum { DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2, DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5, DNS_R_YXDOMAIN = 6, DNS_R_NOTAUTH = 9,
	DNS_R_BADVERS = 16 };

struct dns_zoneset {
	const struct dns_zone **z;
	size_t n;
};

/* What the server logs or rate-limits by. */
struct dns_qinfo {
	uint16_t qtype;
	uint8_t rcode;		/* with the extended bits (BADVERS = 16) */
	bool tc;		/* answer truncated */
	bool edns, dnssec_ok;
	const struct dns_zone *zone;	/* NULL when refused or malformed */
	size_t question_end;	/* header and question in the response: bytes */
	uint8_t qname[DNS_NAME_MAX];	/* lowercased; empty when unparsed */
};

/* The zone of zs holding name (longest origin), or NULL. */
const struct dns_zone *dns_zoneset_find(const struct dns_zoneset *zs, const uint8_t *name);

/* Answer q[0..qlen).  out has room for outmax bytes (at least 512); over
 * UDP (tcp false) the answer is also kept within the client's EDNS size.
 * Returns the response length, or 0 when nothing is to be sent. */
size_t dns_answer(const struct dns_zoneset *zs, const uint8_t *q, size_t qlen, bool tcp,
    uint8_t *out, size_t outmax, struct dns_qinfo *info);

/* --- zone transfers (RFC 5936 AXFR; RFC 1995 IXFR answered in full) ----------- */

#define DNS_XFR_MSG_MAX	16384	/* bytes per transfer message */

struct dns_xfr {
	const struct dns_zone *z;
	uint8_t head[12 + DNS_NAME_MAX + 4];	/* the request's header and question */
	size_t head_len;
	size_t set, rec;	/* the next record: z->sets[set].rd[rec] */
	int phase;		/* 0 first SOA, 1 the rest, 2 last SOA, 3 done */
	bool first;		/* the next message is the first (carries the question) */
	size_t records;		/* sent so far */
	/* an incremental transfer: the journal entries to send between the
	 * two SOAs instead of the zone (NULL for a full one) */
	const uint8_t *jp;
	size_t jleft;		/* journal bytes from jp on */
	size_t erem;		/* bytes left of the entry jp is in (0: at a header) */
};

/* Is q a transfer request (AXFR, or IXFR) we could serve over TCP: opcode
 * QUERY, one question of class IN?  Fills qname (as asked), *qtype and,
 * for IXFR, *serial with the client's SOA serial (0 and *has_serial false
 * when the request has none). */
bool dns_xfr_request(const uint8_t *q, size_t qlen, uint8_t qname[DNS_NAME_MAX],
    uint16_t *qtype, uint32_t *serial, bool *has_serial);
/* Start the transfer of z for the request q.  An IXFR from a client that
 * has our serial already gets our SOA alone (RFC 1995 4); any other
 * transfer is the whole zone, SOA first and last. */
void dns_xfr_start(struct dns_xfr *x, const struct dns_zone *z, const uint8_t *q, size_t qlen,
    bool up_to_date);
/* The next message of the transfer into out (at least DNS_XFR_MSG_MAX
 * bytes); 0 when the transfer is complete. */
size_t dns_xfr_next(struct dns_xfr *x, uint8_t *out, size_t outmax);
/* Make the started transfer incremental (RFC 1995 4): z->journal from
 * offset off (dns_journal_find) goes between the two SOAs. */
void dns_xfr_use_journal(struct dns_xfr *x, long off);

#endif

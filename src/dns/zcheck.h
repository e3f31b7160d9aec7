/*
 * dns/zcheck.h - checks over a built zone that go beyond what makes it
 * servable: the mistakes that make a zone answer, but answer wrong, and
 * break mail for some senders.
 *
 * dns_zone_build already refuses what cannot be served (SOA and NS at the
 * apex, CNAME beside other data) and warns about occluded names and TTLs
 * differing in an RRset; these checks run after it and do not repeat
 * it.  What they look at (each finding names its record's file:line and
 * ends in "(fix: ...)"):
 *   - the SOA: MNAME among the NS hosts (error), serial 0 and date-like
 *     serials (YYYYMMDDnn) that are no real date or lie in the future
 *     (warnings);
 *   - the apex NS set: a single NS (warning);
 *   - NS and MX targets inside the zone: not a CNAME (RFC 2181 10.3), an
 *     A or AAAA record, glue for hosts at or below a delegation; MX
 *     targets that are IP address literals; a null MX (RFC 7505) beside
 *     other MX records (errors);
 *   - apex A/AAAA records that are no MX host's address, when the apex
 *     has both MX and address records and every MX host is in the zone
 *     (warning: senders that use the apex address reach the wrong host);
 *   - mail TXT records, their strings joined first (RFC 7208 3.3, RFC
 *     6376 3.6.2.2) and read by the daemon's own parsers in msgauth/:
 *     SPF (spf_record_check; one per name, modifiers named like a
 *     mechanism, at most 10 DNS-querying terms in the record), DMARC at
 *     _dmarc names (dmarc_record_parse: p= and sp=, the rua= rescue of
 *     RFC 7489 6.6.3; one per name), DKIM keys at <selector>._domainkey
 *     names (dkim_key_parse and dkim_key_pkey: tags, s= and h= that make
 *     the daemon refuse the key, RSA of 1024 (RFC 8301) to
 *     DKIM_RSA_MAX_BITS bits, Ed25519 of 32 bytes; revoked keys).
 *
 * No I/O: names outside the zone are not looked up, so checks that need
 * their addresses do not fire for them.
 *
 * Runs in: CLI ("talon zone check").  Trusts: nothing in the zone's
 * records beyond what dns_zone_build checked.
 */
#ifndef TALON_DNS_ZCHECK_H
#define TALON_DNS_ZCHECK_H

#include <time.h>

#include "core/buf.h"
#include "core/diag.h"
#include "dns/zone.h"

#define DNS_SPF_LOOKUPS_MAX	10	/* RFC 7208 4.6.4 */

/* Check z (built by dns_zone_build) and report findings into d as errors
 * or warnings, each at the file:line of the record it is about (where and
 * where_arg as for dns_zone_build; file for findings without a record).
 * now is the time serials are judged against.  When ok is not NULL, one
 * line "ok: ...\n" is appended to it for each check that found nothing.
 * 0 when no error was reported (warnings allowed), else -1. */
int dns_zcheck(const struct dns_zone *z, dns_where_fn *where, void *where_arg,
    const char *file, time_t now, struct diag *d, struct buf *ok);

#endif

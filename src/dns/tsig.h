/*
 * dns/tsig.h - TSIG (RFC 8945) with HMAC-SHA256, for zone transfers.
 *
 * A request is checked with dns_tsig_verify: the key it names must be the
 * one the zone wants, the MAC right (compared in constant time) and the
 * time within the fudge.  Each message of the answer is then signed with
 * dns_tsig_sign: the first over the request's MAC and the message, each
 * later one over the previous MAC and the message (RFC 8945 5.3.1: we
 * sign every message).
 *
 * Runs in: dns process (the key lives there and in the parent only).
 * Trusts: nothing in the packets.
 */
#ifndef TALON_DNS_TSIG_H
#define TALON_DNS_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"

#define DNS_TSIG_MAC	32	/* HMAC-SHA256 */
#define DNS_TSIG_FUDGE	300	/* seconds of clock difference allowed */
#define DNS_TSIG_KEY_MAX 64	/* secret bytes */
#define DNS_TSIG_RR_MAX	(DNS_NAME_MAX * 2 + 64 + DNS_TSIG_MAC)

enum { DNS_TSIG_OK = 0, DNS_TSIG_BADSIG = 16, DNS_TSIG_BADKEY = 17, DNS_TSIG_BADTIME = 18,
	DNS_TSIG_NONE = -1, DNS_TSIG_FORMERR = -2 };

struct dns_tsig_key {
	uint8_t name[DNS_NAME_MAX];	/* wire, lowercased */
	uint8_t secret[DNS_TSIG_KEY_MAX];
	size_t secret_len;
};

/* The state of one signed exchange. */
struct dns_tsig {
	const struct dns_tsig_key *key;
	uint8_t mac[DNS_TSIG_MAC];	/* the last MAC (request's, then ours) */
	uint64_t time;			/* the request's time signed */
	uint16_t orig_id;
	bool first;			/* the next message is the first answer */
};

/* Check the TSIG of request q (the last record of its additional
 * section).  Returns DNS_TSIG_OK (and fills t for the answer), an RFC 8945
 * error (BADKEY, BADSIG, BADTIME: answer NOTAUTH with that error),
 * DNS_TSIG_NONE when the request has no TSIG, or DNS_TSIG_FORMERR.
 * *tsig_off is where the TSIG record starts (the request minus it is what
 * was signed). */
int dns_tsig_verify(const uint8_t *q, size_t qlen, const struct dns_tsig_key *key,
    uint64_t now, struct dns_tsig *t);
/* Append the TSIG record signing msg[0..*len) (room for max bytes) and
 * count it in ARCOUNT.  false when it does not fit. */
bool dns_tsig_sign(struct dns_tsig *t, uint8_t *msg, size_t *len, size_t max, uint64_t now);
/* "hmac-sha256" key from its name text and base64 secret; false on a bad
 * name or secret (reason in *err). */
bool dns_tsig_key_parse(struct dns_tsig_key *k, const char *name, const char *b64,
    const char **err);

#endif

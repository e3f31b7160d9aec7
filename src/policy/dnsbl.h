/*
 * policy/dnsbl.h - DNS blocklists (`dnsbl`, `rhsbl` in talon.conf): the
 * questions to ask, which answers count, and the reply text.
 *
 * A client address 192.0.2.1 is asked as "1.2.0.192.ZONE" (A), an IPv6
 * address as its 32 reversed nibbles (RFC 5782 2.1, 2.4); a domain as
 * "DOMAIN.ZONE" (RFC 5782 2.2).  Only an A record in 127.0.0.0/8 lists
 * (RFC 5782 2.3); with `codes`, only those values.  Spamhaus answers
 * 127.255.255.252/254/255 when it refuses a query (from a public
 * resolver, or over quota): those never list, and the caller logs a
 * warning, since the list has silently stopped working.
 * Pure functions.  Runs in: policy (and the unit tests).
 */
#ifndef TALON_POLICY_DNSBL_H
#define TALON_POLICY_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/prefix.h"
#include "dns/lookup.h"
#include "proto/parent.h"

#define DNSBL_Q_MAX	32	/* questions of one check: 16 lists, two domains each */

struct dnsbl_q {
	uint32_t list;			/* index into the lists */
	uint32_t what;			/* DNSBL_CLIENT, DNSBL_HELO or DNSBL_FROM */
	char name[LOOKUP_NAME_MAX + 1];	/* the A question */
	char subject[256];		/* the address or domain, for the text and log */
};

/* The questions for the lists that apply to `what` (DNSBL_* bits) in list
 * order: the client address (must be a full-length prefix) for dnsbl
 * lists, helo and from for rhsbl lists (skipped when empty, an address
 * literal, or too long with the zone).  Returns how many (at most max). */
size_t dnsbl_questions(const struct proto_bl *lists, size_t n_lists, uint32_t what,
    const struct prefix *client, const char *helo, const char *from, struct dnsbl_q *out,
    size_t max);

enum dnsbl_verdict { DNSBL_V_NO = 0, DNSBL_V_LISTED, DNSBL_V_REFUSED };
/* What an answer says for list l: listed (*value = the first A that
 * counts, host order), not, or "query refused" (*value = that code). */
enum dnsbl_verdict dnsbl_check(const struct proto_bl *l, const struct lookup *a,
    uint32_t *value);

/* The reply text of list l for subject: l->text with {ip} and
 * $&{client_addr} replaced by the client address and {domain} by the
 * listed domain, or the default "Rejected: SUBJECT listed at ZONE".
 * Always printable ASCII, cut to fit n. */
void dnsbl_text(const struct proto_bl *l, const char *ip, const struct dnsbl_q *q, char *out,
    size_t n);

#endif

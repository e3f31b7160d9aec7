/*
 * policy/admit.h - connection admission: how many sessions are open in
 * all, and from each client (an IPv4 address, or an IPv6 /N; see
 * core/sockaddr.h client keys).
 *
 * Each admitted session is remembered under (channel, session id), so the
 * session's end, or the death of the worker that ran it, gives its count
 * back.  Pure bookkeeping, no I/O.  Runs in: policy.
 */
#ifndef TALON_ADMIT_H
#define TALON_ADMIT_H

#include <stdint.h>

#include <time.h>

#include "core/htab.h"
#include "core/prefix.h"
#include "core/sockaddr.h"

struct admit {
	struct htab clients;	/* client_key -> uint32 count */
	struct htab sessions;	/* (channel, id) -> client_key */
	struct htab addrs;	/* (channel, id) -> struct prefix: the full address */
	struct htab rate;	/* client_key -> struct admit_rate */
	time_t rate_swept;	/* last sweep of old rate entries */
	size_t total;
};

void admit_init(struct admit *a);
void admit_free(struct admit *a);
/* ADMIT_OK (and the session counted), ADMIT_TOO_MANY or ADMIT_TOO_MANY_IP.
 * A session id already counted on this channel is refused as too many
 * (a worker that repeats ids gets nothing for it). */
uint32_t admit_ask(struct admit *a, uint32_t chan, uint64_t id, const struct client_key *k,
    unsigned max_total, unsigned max_per_client);
/* Count a session admitted before (by an earlier policy process), whatever
 * the limits say now. */
void admit_hold(struct admit *a, uint32_t chan, uint64_t id, const struct client_key *k);
/* The session ended; unknown ids are ignored. */
void admit_end(struct admit *a, uint32_t chan, uint64_t id);
/* Every session of a channel ended (its worker died). */
void admit_drop_chan(struct admit *a, uint32_t chan);
unsigned admit_count(const struct admit *a, const struct client_key *k);
/* The full client address of an admitted session (what DNSBL, GREY and
 * EVENT act on): set after admit_ask/admit_hold, found by admit_addr
 * (false for a session that is not counted). */
void admit_set_addr(struct admit *a, uint32_t chan, uint64_t id, const struct prefix *addr);
bool admit_addr(const struct admit *a, uint32_t chan, uint64_t id, struct prefix *addr);
/* One more connection from k at now: true when the client made more than
 * limit in the last minute (a sliding estimate over two fixed minutes:
 * the previous minute's count weighted by the part of it still inside
 * the last 60 s).  Entries idle for two minutes are swept once a minute,
 * so memory follows the clients of the last two minutes. */
bool admit_rate(struct admit *a, const struct client_key *k, time_t now, unsigned limit);

#endif

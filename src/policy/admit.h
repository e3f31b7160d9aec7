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

#include "core/htab.h"
#include "core/sockaddr.h"

struct admit {
	struct htab clients;	/* client_key -> uint32 count */
	struct htab sessions;	/* (channel, id) -> client_key */
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

#endif

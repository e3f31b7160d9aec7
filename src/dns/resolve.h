/*
 * dns/resolve.h - the resolver: asynchronous lookups over libunbound
 * inside our event loop.
 *
 * Mode (config `resolver`):
 *   forward ADDR[@PORT]... [trust-anchor FILE]
 *                           send every question to these servers (tests
 *                           and the demo: our own DNS server on loopback);
 *                           answers are "insecure" unless FILE anchors
 *                           their zone (DS or DNSKEY records)
 *   recursive               full recursion from the root, validating with
 *                           the root trust anchor (unbound-anchor's file)
 * libunbound's built-in local zones (.test, .invalid, localhost, the
 * private and documentation reverse zones) are removed, so those names are
 * asked like any other (../shared/TESTING.md).  Lookups run in libunbound's
 * threads (ub_ctx_async(ctx, 1)), never in a forked helper that would
 * inherit our descriptors; the answer arrives through ub_fd() in the loop.
 *
 * Every lookup ends in its callback exactly once, with LOOKUP_OK,
 * LOOKUP_NXDOMAIN or LOOKUP_TEMPFAIL: a timeout (per lookup), SERVFAIL,
 * REFUSED, an answer that does not parse, or a bogus DNSSEC answer is
 * TEMPFAIL, never "no record".  CNAMEs are followed by the resolver; the
 * answer's records are those of the asked type at the end of the chain.
 *
 * Runs in: policy (one context, one cache for all workers) and the CLI
 * (talon spf / dkim verify / dmarc, with resolver_lookup_sync).
 */
#ifndef TALON_DNS_RESOLVE_H
#define TALON_DNS_RESOLVE_H

#include <stdint.h>

#include "dns/lookup.h"

struct loop;
struct conf;
struct resolver;

/* Called once per lookup; l is valid only during the call. */
typedef void (*resolver_cb)(void *arg, const struct lookup *l);

/* A context for the resolver settings of c (resolver mode, servers,
 * timeout).  loop may be NULL for synchronous use only.  NULL with a
 * message in err when libunbound refuses the settings. */
struct resolver *resolver_new(const struct conf *c, struct loop *loop, char *err, size_t errlen);
void resolver_free(struct resolver **r);
/* Start a lookup of (type, name), name normalised (lookup_name_norm).
 * Returns a handle for resolver_cancel, or 0 when it could not start (not
 * a name, libunbound refused): the callback is then never called and the
 * caller counts the lookup as LOOKUP_TEMPFAIL. */
uint64_t resolver_query(struct resolver *r, uint16_t type, const char *name,
    resolver_cb cb, void *arg);
/* Forget a lookup: its callback is never called. */
void resolver_cancel(struct resolver *r, uint64_t handle);
/* One lookup, waiting for it (CLI).  out is filled (lookup_clear it). */
void resolver_lookup_sync(struct resolver *r, uint16_t type, const char *name, struct lookup *out);
/* Several at once, waiting for all (at most the timeout in all): each
 * ls[i] holds its question (lookup_init) and gets its answer. */
void resolver_lookup_all(struct resolver *r, struct lookup *ls, size_t n);

#endif

/*
 * dns/rrl.h - response rate limiting (the idea of BIND's and NSD's RRL):
 * a forged-source flood must not turn us into an amplifier.
 *
 * Each client prefix (/24 for IPv4, /56 for IPv6: one network, as
 * spoofed floods walk addresses) has a bucket of `rate` responses per
 * second.  Over it, responses are dropped, except every `slip`-th, which
 * goes out truncated (TC, no records: smaller than the query), so a real
 * client behind that prefix retries over TCP, where no source is forged.
 * Buckets live in a fixed table indexed by a seeded hash; prefixes that
 * share a bucket share a limit, which errs on the side of limiting.
 *
 * Runs in: dns process.  Pure apart from the table.
 */
#ifndef TALON_DNS_RRL_H
#define TALON_DNS_RRL_H

#include <stdint.h>
#include <sys/socket.h>

enum dns_rrl_act { DNS_RRL_SEND, DNS_RRL_DROP, DNS_RRL_SLIP };

struct dns_rrl;

/* rate 0: no limit (every response is sent).  buckets is rounded up to a
 * power of two. */
struct dns_rrl *dns_rrl_new(unsigned rate, unsigned slip, unsigned buckets);
void dns_rrl_free(struct dns_rrl **r);
void dns_rrl_set_rate(struct dns_rrl *r, unsigned rate);
/* One response to from at now_ms: what to do with it. */
enum dns_rrl_act dns_rrl_check(struct dns_rrl *r, const struct sockaddr_storage *from,
    uint64_t now_ms);

#endif

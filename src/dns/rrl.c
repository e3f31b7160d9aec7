/*
 * dns/rrl.c - response rate limiting (see dns/rrl.h).
 */
#include "dns/rrl.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/util.h"

struct bucket {
	uint64_t last_ms;	/* when the tokens were last refilled */
	uint32_t tokens;	/* in thousandths of a response */
	uint32_t slipped;	/* limited responses, for the slip count */
};

struct dns_rrl {
	unsigned rate, slip;
	uint64_t seed;
	size_t mask;
	struct bucket *b;
};

struct dns_rrl *
dns_rrl_new(unsigned rate, unsigned slip, unsigned buckets)
{
	struct dns_rrl *r = xcalloc(1, sizeof *r);
	size_t n = 64;
	while (n < buckets)
		n *= 2;
	r->b = xcalloc(n, sizeof *r->b);
	r->mask = n - 1;
	r->rate = rate;
	r->slip = slip;
	if (getrandom(&r->seed, sizeof r->seed, 0) != sizeof r->seed)
		r->seed = 0x2545f4914f6cdd1dull;
	return r;
}

void
dns_rrl_free(struct dns_rrl **rp)
{
	if (*rp == NULL)
		return;
	free((*rp)->b);
	free(*rp);
	*rp = NULL;
}

void
dns_rrl_set_rate(struct dns_rrl *r, unsigned rate)
{
	r->rate = rate;
}

static size_t
prefix_slot(const struct dns_rrl *r, const struct sockaddr_storage *from)
{
	uint8_t key[8] = { 0 };
	if (from->ss_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)from)->sin_addr, 3);	/* /24 */
		key[7] = 4;
	} else if (from->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)from)->sin6_addr, 7);	/* /56 */
		key[7] = 6;
	}
	uint64_t h = r->seed;
	for (size_t i = 0; i < sizeof key; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	h ^= h >> 29;
	return (size_t)h & r->mask;
}

enum dns_rrl_act
dns_rrl_check(struct dns_rrl *r, const struct sockaddr_storage *from, uint64_t now_ms)
{
	if (r == NULL || r->rate == 0)
		return DNS_RRL_SEND;
	struct bucket *b = &r->b[prefix_slot(r, from)];
	uint64_t full = (uint64_t)r->rate * 1000;	/* one second's worth */
	uint64_t t = b->tokens;
	if (b->last_ms == 0)
		t = full;
	else if (now_ms > b->last_ms)
		t += (now_ms - b->last_ms) * r->rate;	/* rate per 1000 ms, in thousandths */
	if (t > full)
		t = full;
	b->last_ms = now_ms;
	if (t >= 1000) {
		b->tokens = (uint32_t)(t - 1000);
		return DNS_RRL_SEND;
	}
	b->tokens = (uint32_t)t;
	b->slipped++;
	return r->slip > 0 && b->slipped % r->slip == 0 ? DNS_RRL_SLIP : DNS_RRL_DROP;
}

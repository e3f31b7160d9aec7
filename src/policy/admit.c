/*
 * policy/admit.c - connection counts per client and in all (see admit.h).
 * Input: session ids and client keys from smtp workers (untrusted: a
 * worker may repeat or invent ids; counts never go negative and a
 * repeated id is not counted twice).  Runs in: policy.
 */
#include "policy/admit.h"

#include <stdlib.h>
#include <string.h>

#include "proto/smtp_policy.h"

struct admit_rate {
	int64_t minute;		/* now / 60 of cur */
	uint32_t cur, prev;	/* connections in that minute and the one before */
};

struct skey {
	uint64_t id;
	uint32_t chan;
	uint32_t pad;		/* zero: keys are compared as bytes */
};

void
admit_init(struct admit *a)
{
	htab_init(&a->clients, sizeof(struct client_key), sizeof(uint32_t));
	htab_init(&a->sessions, sizeof(struct skey), sizeof(struct client_key));
	htab_init(&a->addrs, sizeof(struct skey), sizeof(struct prefix));
	htab_init(&a->rate, sizeof(struct client_key), sizeof(struct admit_rate));
	a->rate_swept = 0;
	a->total = 0;
}

void
admit_free(struct admit *a)
{
	htab_free(&a->clients);
	htab_free(&a->sessions);
	htab_free(&a->addrs);
	htab_free(&a->rate);
	a->total = 0;
}

static struct skey
skey(uint32_t chan, uint64_t id)
{
	struct skey k;
	memset(&k, 0, sizeof k);
	k.id = id;
	k.chan = chan;
	return k;
}

unsigned
admit_count(const struct admit *a, const struct client_key *k)
{
	const uint32_t *n = htab_get(&a->clients, k);
	return n ? *n : 0;
}

static void
count(struct admit *a, uint32_t chan, uint64_t id, const struct client_key *k)
{
	struct skey sk = skey(chan, id);
	memcpy(htab_put(&a->sessions, &sk), k, sizeof *k);
	uint32_t *n = htab_put(&a->clients, k);
	(*n)++;
	a->total++;
}

uint32_t
admit_ask(struct admit *a, uint32_t chan, uint64_t id, const struct client_key *k,
    unsigned max_total, unsigned max_per_client)
{
	struct skey sk = skey(chan, id);
	if (htab_get(&a->sessions, &sk) != NULL)
		return ADMIT_TOO_MANY;
	if (a->total >= max_total)
		return ADMIT_TOO_MANY;
	if (admit_count(a, k) >= max_per_client)
		return ADMIT_TOO_MANY_IP;
	count(a, chan, id, k);
	return ADMIT_OK;
}

void
admit_hold(struct admit *a, uint32_t chan, uint64_t id, const struct client_key *k)
{
	struct skey sk = skey(chan, id);
	if (htab_get(&a->sessions, &sk) == NULL)
		count(a, chan, id, k);
}

void
admit_end(struct admit *a, uint32_t chan, uint64_t id)
{
	struct skey sk = skey(chan, id);
	struct client_key *ck = htab_get(&a->sessions, &sk);
	if (ck == NULL)
		return;
	struct client_key k = *ck;
	htab_del(&a->sessions, &sk);
	htab_del(&a->addrs, &sk);
	uint32_t *n = htab_get(&a->clients, &k);
	if (n != NULL && --*n == 0)
		htab_del(&a->clients, &k);
	a->total--;
}

void
admit_drop_chan(struct admit *a, uint32_t chan)
{
	/* collect first: no deletes while iterating */
	size_t pos = 0, n = 0, cap = a->sessions.n;
	uint64_t *ids = cap ? calloc(cap, sizeof *ids) : NULL;
	struct skey *sk;
	if (cap && ids == NULL)
		return;
	while ((sk = htab_next(&a->sessions, &pos)) != NULL)
		if (sk->chan == chan)
			ids[n++] = sk->id;
	for (size_t i = 0; i < n; i++)
		admit_end(a, chan, ids[i]);
	free(ids);
}

void
admit_set_addr(struct admit *a, uint32_t chan, uint64_t id, const struct prefix *addr)
{
	struct skey sk = skey(chan, id);
	if (htab_get(&a->sessions, &sk) != NULL)
		*(struct prefix *)htab_put(&a->addrs, &sk) = *addr;
}

bool
admit_addr(const struct admit *a, uint32_t chan, uint64_t id, struct prefix *addr)
{
	struct skey sk = skey(chan, id);
	const struct prefix *p = htab_get(&a->addrs, &sk);
	if (p == NULL)
		return false;
	*addr = *p;
	return true;
}

static void
rate_sweep(struct admit *a, int64_t minute)
{
	size_t pos = 0, n = 0, cap = a->rate.n;
	struct client_key *old = cap ? calloc(cap, sizeof *old) : NULL;
	struct client_key *k;
	if (cap && old == NULL)
		return;
	while ((k = htab_next(&a->rate, &pos)) != NULL) {
		const struct admit_rate *r = htab_get(&a->rate, k);
		if (r->minute < minute - 1)
			old[n++] = *k;
	}
	for (size_t i = 0; i < n; i++)
		htab_del(&a->rate, &old[i]);
	free(old);
}

bool
admit_rate(struct admit *a, const struct client_key *k, time_t now, unsigned limit)
{
	int64_t minute = (int64_t)now / 60;
	if (now - a->rate_swept >= 60) {
		a->rate_swept = now;
		rate_sweep(a, minute);
	}
	struct admit_rate *r = htab_get(&a->rate, k);
	if (r == NULL) {
		r = htab_put(&a->rate, k);
		memset(r, 0, sizeof *r);
		r->minute = minute;
	}
	if (r->minute != minute) {
		r->prev = r->minute == minute - 1 ? r->cur : 0;
		r->cur = 0;
		r->minute = minute;
	}
	r->cur++;
	/* the part of the previous minute still inside the last 60 s */
	uint64_t into = (uint64_t)(now % 60);
	uint64_t est = (uint64_t)r->cur * 60 + (uint64_t)r->prev * (60 - into);
	return est > (uint64_t)limit * 60;
}

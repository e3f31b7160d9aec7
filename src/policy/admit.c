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
	a->total = 0;
}

void
admit_free(struct admit *a)
{
	htab_free(&a->clients);
	htab_free(&a->sessions);
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

/*
 * core/htab.c - fixed-size-key hash table (see htab.h).
 * Input: keys from anywhere (possibly attacker-chosen).  Trusts: nothing.
 */
#include "core/htab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/util.h"

void
htab_init(struct htab *h, size_t ksize, size_t vsize)
{
	memset(h, 0, sizeof *h);
	h->ksize = ksize;
	h->vsize = vsize;
	h->esize = ksize + vsize;
	if (getrandom(&h->seed, sizeof h->seed, 0) != sizeof h->seed)
		h->seed = now_ms() * 0x9e3779b97f4a7c15ull;
}

void
htab_free(struct htab *h)
{
	free(h->slots);
	free(h->used);
	h->slots = h->used = NULL;
	h->cap = h->n = 0;
}

/* FNV-1a over the key, seeded, then a 64-bit finaliser (splitmix) so the
 * low bits used for the index depend on every key byte. */
static uint64_t
hash(const struct htab *h, const void *key)
{
	const uint8_t *p = key;
	uint64_t x = 0xcbf29ce484222325ull ^ h->seed;
	for (size_t i = 0; i < h->ksize; i++)
		x = (x ^ p[i]) * 0x100000001b3ull;
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint8_t *
slot(const struct htab *h, size_t i)
{
	return h->slots + i * h->esize;
}

static size_t
find(const struct htab *h, const void *key, int *found)
{
	size_t mask = h->cap - 1, i = (size_t)hash(h, key) & mask;
	while (h->used[i]) {
		if (memcmp(slot(h, i), key, h->ksize) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = 0;
	return i;
}

void *
htab_get(const struct htab *h, const void *key)
{
	int found;
	if (h->n == 0)
		return NULL;
	size_t i = find(h, key, &found);
	return found ? slot(h, i) + h->ksize : NULL;
}

static void
grow(struct htab *h)
{
	struct htab old = *h;
	h->cap = old.cap ? old.cap * 2 : 16;
	h->slots = xcalloc(h->cap, h->esize);
	h->used = xcalloc(h->cap, 1);
	h->n = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.used[i])
			continue;
		int found;
		size_t j = find(h, slot(&old, i), &found);
		memcpy(slot(h, j), slot(&old, i), h->esize);
		h->used[j] = 1;
		h->n++;
	}
	free(old.slots);
	free(old.used);
}

void *
htab_put(struct htab *h, const void *key)
{
	int found;
	/* keep the load under 3/4 so probes stay short */
	if ((h->n + 1) * 4 > h->cap * 3)
		grow(h);
	size_t i = find(h, key, &found);
	if (!found) {
		memset(slot(h, i), 0, h->esize);
		memcpy(slot(h, i), key, h->ksize);
		h->used[i] = 1;
		h->n++;
	}
	return slot(h, i) + h->ksize;
}

void
htab_del(struct htab *h, const void *key)
{
	int found;
	if (h->n == 0)
		return;
	size_t mask = h->cap - 1, i = find(h, key, &found);
	if (!found)
		return;
	h->used[i] = 0;
	h->n--;
	/* backward shift: move later entries of the run into the hole when
	 * their home slot is at or before it (cyclically) */
	for (size_t j = (i + 1) & mask; h->used[j]; j = (j + 1) & mask) {
		size_t home = (size_t)hash(h, slot(h, j)) & mask;
		bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (between)
			continue;
		memcpy(slot(h, i), slot(h, j), h->esize);
		h->used[i] = 1;
		h->used[j] = 0;
		i = j;
	}
}

void *
htab_next(const struct htab *h, size_t *pos)
{
	while (*pos < h->cap) {
		size_t i = (*pos)++;
		if (h->used[i])
			return slot(h, i);
	}
	return NULL;
}

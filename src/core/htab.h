/*
 * core/htab.h - a hash table of fixed-size keys and values, open
 * addressing with linear probing and backward-shift deletion (no
 * tombstones, so a table that churns never degrades).
 *
 * Keys are compared as bytes; the hash is seeded per table from
 * getrandom(), because keys often come from the network (client
 * addresses) and a fixed hash invites flooding one bucket.
 * Entries are key bytes followed by value bytes, stored in the table:
 * pointers returned by htab_get/htab_put are valid until the next put or
 * delete.  Runs in: any process.  Not thread-safe.
 */
#ifndef TALON_HTAB_H
#define TALON_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct htab {
	uint8_t *slots;		/* cap entries of esize bytes */
	uint8_t *used;		/* cap flags */
	size_t cap, n;
	size_t ksize, vsize, esize;
	uint64_t seed;
};

void htab_init(struct htab *h, size_t ksize, size_t vsize);
void htab_free(struct htab *h);
/* The value stored under key, or NULL. */
void *htab_get(const struct htab *h, const void *key);
/* The value under key, inserted zero-filled when absent. */
void *htab_put(struct htab *h, const void *key);
void htab_del(struct htab *h, const void *key);
/* Iterate: start with *pos = 0; returns the next entry's key (value at
 * key + ksize) or NULL at the end.  No put or delete while iterating. */
void *htab_next(const struct htab *h, size_t *pos);

#endif

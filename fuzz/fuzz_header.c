/*
 * fuzz/fuzz_header.c - libFuzzer harness for the header collector
 * (msgauth/header.c).
 *
 * Input:   byte 0 picks the kept-bytes limit, byte 1 seeds the piece sizes,
 *          the rest is a message.
 * Checks:  no crash, leak or sanitizer report; feeding in pieces gives the
 *          same fields, flags, body_off and byte counts as feeding all at
 *          once; every field lies inside raw and starts with its name.
 * Seeds:   fuzz/corpus/header/.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_fields(const struct mhdrs *h)
{
	assert(h->n <= MHDRS_FIELDS_MAX);
	for (size_t i = 0; i < h->n; i++) {
		assert(h->f[i].off + h->f[i].len <= h->raw.len);
		assert(h->f[i].name_len > 0 && h->f[i].name_len < h->f[i].len);
		assert(memchr(h->raw.data + h->f[i].off, ':', h->f[i].len) != NULL);
		size_t n;
		char *v = mhdrs_value(h, i, &n);
		assert(strlen(v) <= n && v[n] == '\0');
		free(v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t max = 16 + (size_t)data[0] * 16;
	uint32_t seed = data[1];
	data += 2;
	size -= 2;

	struct mhdrs a, b;
	mhdrs_init(&a, max);
	size_t took_a = mhdrs_feed(&a, data, size);
	mhdrs_end(&a);

	mhdrs_init(&b, max);
	size_t took_b = 0, off = 0;
	while (off < size) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 16) % 17;
		if (n > size - off)
			n = size - off;
		took_b += mhdrs_feed(&b, data + off, n);
		off += n;
	}
	mhdrs_end(&b);

	assert(took_a == took_b);
	assert(a.done && b.done);
	assert(a.body_off == b.body_off && a.body_off == took_a);
	assert(a.overflow == b.overflow && a.malformed == b.malformed);
	assert(a.n == b.n);
	assert(a.raw.len == b.raw.len && a.raw.len <= max);
	assert(a.raw.len == 0 || memcmp(a.raw.data, b.raw.data, a.raw.len) == 0);
	for (size_t i = 0; i < a.n; i++)
		assert(a.f[i].off == b.f[i].off && a.f[i].len == b.f[i].len &&
		    a.f[i].name_len == b.f[i].name_len);
	check_fields(&a);
	mhdrs_free(&a);
	mhdrs_free(&b);
	return 0;
}

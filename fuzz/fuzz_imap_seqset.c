/*
 * fuzz/fuzz_imap_seqset.c - libFuzzer harness for imap/seqset.c.
 *
 * Input:   bytes 0-3 the value of "*" (little-endian; all zero is the
 *          empty mailbox), the rest the set text.
 * Checks:  no crash, leak or sanitizer report; OK, SAVED (only for "$")
 *          or BAD with a reason and an empty set; a parsed set is sorted,
 *          disjoint, non-adjacent, within 1..2^32-1, has_star exactly when
 *          the text holds '*'; membership agrees with a naive reading of
 *          the text at every range edge; format, parse again: the same
 *          ranges and the same text; small sets iterate to count numbers
 *          whose list formats to the same text.
 * Seeds:   fuzz/corpus/imap_seqset/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "imap/seqset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EDGE_CHECKS 64		/* ranges whose edges are checked naively */

/* A naive reading of valid set text: is v in it?  Walks every item. */
static bool
naive_contains(const uint8_t *p, size_t len, uint32_t star, uint32_t v)
{
	size_t i = 0;
	while (i < len) {
		uint64_t a = 0, b;
		bool colon = false;
		uint64_t *cur = &a;
		b = 0;
		for (; i < len && p[i] != ','; i++) {
			if (p[i] == ':') {
				colon = true;
				cur = &b;
			} else if (p[i] == '*') {
				*cur = star;
			} else {
				*cur = *cur * 10 + (uint64_t)(p[i] - '0');
			}
		}
		i++;
		if (!colon)
			b = a;
		uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
		if (lo == 0)
			lo = 1;
		if (v >= lo && v <= hi)
			return true;
	}
	return false;
}

/* memcmp with its length first: an empty buf has no data pointer */
static bool
same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void
check_edge(const struct seqset *s, const uint8_t *p, size_t len, uint32_t star, uint64_t v)
{
	if (v == 0 || v > UINT32_MAX)
		return;
	if (seqset_contains(s, (uint32_t)v) != naive_contains(p, len, star, (uint32_t)v))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint32_t star = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16
	    | (uint32_t)data[3] << 24;
	const uint8_t *p = data + 4;
	size_t len = size - 4;

	struct seqset s, t;
	const char *why = NULL;
	seqset_init(&s);
	seqset_init(&t);
	int rc = seqset_parse(&s, p, len, star, &why);
	if (rc == SEQSET_SAVED) {
		if (len != 1 || p[0] != '$' || s.n != 0)
			abort();
		goto out;
	}
	if (rc == SEQSET_BAD) {
		if (why == NULL || s.n != 0)
			abort();
		goto out;
	}
	if (rc != SEQSET_OK || s.has_star != (memchr(p, '*', len) != NULL))
		abort();
	for (size_t i = 0; i < s.n; i++) {
		if (s.r[i].lo == 0 || s.r[i].lo > s.r[i].hi)
			abort();
		if (i > 0 && (uint64_t)s.r[i].lo <= (uint64_t)s.r[i - 1].hi + 1)
			abort();
	}
	for (size_t i = 0; i < s.n && i < EDGE_CHECKS; i++) {
		check_edge(&s, p, len, star, (uint64_t)s.r[i].lo - 1);
		check_edge(&s, p, len, star, s.r[i].lo);
		check_edge(&s, p, len, star, s.r[i].hi);
		check_edge(&s, p, len, star, (uint64_t)s.r[i].hi + 1);
	}

	struct buf b1, b2;
	buf_init(&b1, 0);
	buf_init(&b2, 0);
	if (seqset_format(&b1, &s) != 0)
		abort();
	if (s.n > 0) {
		if (seqset_parse(&t, b1.data, b1.len, star, &why) != SEQSET_OK || t.n != s.n
		    || memcmp(t.r, s.r, s.n * sizeof *s.r) != 0)
			abort();
		seqset_format(&b2, &t);
		if (!same(&b1, &b2))
			abort();
	}
	uint64_t count = seqset_count(&s);
	if (count <= 100000) {
		uint32_t *list = malloc((size_t)(count ? count : 1) * sizeof *list);
		struct seqset_iter it;
		uint32_t v;
		size_t m = 0;
		if (list == NULL)
			abort();
		seqset_iter_init(&it, &s);
		while (seqset_iter_next(&it, &v)) {
			if (m == count || (m > 0 && v <= list[m - 1]))
				abort();
			list[m++] = v;
		}
		if (m != count)
			abort();
		buf_reset(&b2);
		seqset_format_list(&b2, list, m);
		if (!same(&b1, &b2))
			abort();
		free(list);
	}
	buf_free(&b1);
	buf_free(&b2);
out:
	seqset_free(&s);
	seqset_free(&t);
	return 0;
}

/*
 * imap/seqset.c - IMAP sequence sets (RFC 9051 9, "sequence-set"; RFC 5182
 * "$").
 *
 * Input:   set text from a client command (an atom's bytes), untrusted,
 *          at most SEQSET_TEXT_MAX bytes; numbers from the caller.
 * Output:  struct seqset: sorted, merged ranges; set text in a struct buf.
 * Trusts:  nothing in the text.  Runs in: imap worker.  Pure.
 * Not here: checking numbers against the mailbox (BAD for a sequence
 *          number above EXISTS is the command's decision), the saved
 *          search result itself.
 *
 * Grammar (RFC 9051 9):
 *   sequence-set = (seq-number / seq-range) ["," sequence-set]
 *   seq-range    = seq-number ":" seq-number
 *   seq-number   = nz-number / "*"
 *   nz-number    = digit-nz *DIGIT        ; at most 4294967295
 * RFC 9051 lets the server coalesce and reorder ("*:4,5:7" with 10
 * messages is 4:10), so a set is kept as sorted, merged ranges.
 *
 * Bounds: one pass over the text; ranges appended in ascending order are
 * merged as they come (the common case costs no sort); otherwise one
 * qsort.  The text bound limits ranges to one per two bytes.
 */
#include "imap/seqset.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

void
seqset_init(struct seqset *s)
{
	memset(s, 0, sizeof *s);
	s->is_norm = true;
}

void
seqset_free(struct seqset *s)
{
	free(s->r);
	seqset_init(s);
}

void
seqset_clear(struct seqset *s)
{
	s->n = 0;
	s->has_star = false;
	s->is_norm = true;
}

void
seqset_copy(struct seqset *dst, const struct seqset *src)
{
	seqset_free(dst);
	if (src->n > 0) {
		dst->r = xreallocarray(NULL, src->n, sizeof *dst->r);
		memcpy(dst->r, src->r, src->n * sizeof *dst->r);
		dst->cap = src->n;
	}
	dst->n = src->n;
	dst->has_star = src->has_star;
	dst->is_norm = src->is_norm;
}

/* ---- building ----------------------------------------------------------- */

void
seqset_add(struct seqset *s, uint32_t lo, uint32_t hi)
{
	if (lo > hi) {
		uint32_t t = lo;
		lo = hi;
		hi = t;
	}
	if (lo == 0)
		lo = 1;
	if (hi == 0)
		return;		/* "0:0", or "*" in an empty mailbox */
	if (s->n > 0 && s->is_norm) {
		struct seqset_range *last = &s->r[s->n - 1];
		/* in order and touching the last range: merge now, stay sorted
		 * (last->hi + 1 is computed in 64 bits: hi may be 2^32-1) */
		if (lo >= last->lo && (uint64_t)lo <= (uint64_t)last->hi + 1) {
			if (hi > last->hi)
				last->hi = hi;
			return;
		}
		if (lo < last->lo)
			s->is_norm = false;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->r = xreallocarray(s->r, s->cap, sizeof *s->r);
	}
	s->r[s->n++] = (struct seqset_range){ lo, hi };
}

static int
range_cmp(const void *a, const void *b)
{
	const struct seqset_range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

void
seqset_normalize(struct seqset *s)
{
	if (s->is_norm)
		return;
	qsort(s->r, s->n, sizeof *s->r, range_cmp);
	size_t k = 0;
	for (size_t i = 1; i < s->n; i++) {
		if ((uint64_t)s->r[i].lo <= (uint64_t)s->r[k].hi + 1) {
			if (s->r[i].hi > s->r[k].hi)
				s->r[k].hi = s->r[i].hi;
		} else {
			s->r[++k] = s->r[i];
		}
	}
	if (s->n > 0)
		s->n = k + 1;
	s->is_norm = true;
}

/* ---- parsing ------------------------------------------------------------- */

/* A cursor with a sticky error (STYLE.md 5). */
struct rd {
	const uint8_t *p, *end;
	const char *err;
};

static void
fail(struct rd *r, const char *why)
{
	if (r->err == NULL)
		r->err = why;
}

static bool
at(const struct rd *r, uint8_t c)
{
	return r->err == NULL && r->p < r->end && *r->p == c;
}

/* seq-number: "*" (star; noted in s) or nz-number. */
static uint32_t
seq_number(struct rd *r, struct seqset *s, uint32_t star)
{
	if (r->err != NULL)
		return 0;
	if (r->p == r->end) {
		fail(r, "Missing number in sequence set");
		return 0;
	}
	if (*r->p == '*') {
		r->p++;
		s->has_star = true;
		return star;
	}
	if (*r->p == '$') {
		fail(r, "$ cannot be combined with other numbers");
		return 0;
	}
	if (*r->p == '0') {
		/* nz-number: digit-nz first, so neither 0 nor "007" */
		fail(r, "Sequence numbers start at 1 and have no leading zero");
		return 0;
	}
	if (*r->p < '1' || *r->p > '9') {
		fail(r, "Invalid character in sequence set");
		return 0;
	}
	uint64_t v = 0;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		v = v * 10 + (uint64_t)(*r->p - '0');
		if (v > UINT32_MAX) {
			fail(r, "Number in sequence set over 4294967295");
			return 0;
		}
		r->p++;
	}
	return (uint32_t)v;
}

int
seqset_parse(struct seqset *s, const uint8_t *p, size_t len, uint32_t star, const char **why)
{
	seqset_clear(s);
	if (len > SEQSET_TEXT_MAX) {
		*why = "Sequence set too long";
		return SEQSET_BAD;
	}
	if (len == 1 && p[0] == '$')
		return SEQSET_SAVED;

	struct rd r = { p, p + len, NULL };
	for (;;) {
		uint32_t a = seq_number(&r, s, star), b = a;
		if (at(&r, ':')) {
			r.p++;
			b = seq_number(&r, s, star);
		}
		if (r.err != NULL)
			break;
		seqset_add(s, a, b);
		if (!at(&r, ','))
			break;
		r.p++;
	}
	if (r.err == NULL && r.p != r.end)
		fail(&r, *r.p == ':' ? "Invalid range in sequence set"
		    : "Invalid character in sequence set");
	if (r.err != NULL) {
		seqset_clear(s);
		*why = r.err;
		return SEQSET_BAD;
	}
	seqset_normalize(s);
	return SEQSET_OK;
}

/* ---- queries ------------------------------------------------------------- */

bool
seqset_contains(const struct seqset *s, uint32_t v)
{
	assert(s->is_norm);
	size_t lo = 0, hi = s->n;
	/* the first range whose hi >= v; v is in the set when that range
	 * starts at or below v */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->r[mid].hi < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->r[lo].lo <= v;
}

uint64_t
seqset_count(const struct seqset *s)
{
	assert(s->is_norm);
	uint64_t c = 0;
	for (size_t i = 0; i < s->n; i++)
		c += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
	return c;
}

uint32_t
seqset_min(const struct seqset *s)
{
	assert(s->is_norm);
	return s->n ? s->r[0].lo : 0;
}

uint32_t
seqset_max(const struct seqset *s)
{
	assert(s->is_norm);
	return s->n ? s->r[s->n - 1].hi : 0;
}

void
seqset_iter_init(struct seqset_iter *it, const struct seqset *s)
{
	assert(s->is_norm);
	it->s = s;
	it->i = 0;
	it->next = s->n ? s->r[0].lo : 0;
}

bool
seqset_iter_next(struct seqset_iter *it, uint32_t *v)
{
	if (it->i >= it->s->n)
		return false;
	*v = (uint32_t)it->next;
	if (it->next < it->s->r[it->i].hi) {
		it->next++;
	} else if (++it->i < it->s->n) {
		it->next = it->s->r[it->i].lo;
	}
	return true;
}

/* ---- formatting ------------------------------------------------------------ */

static void
put_range(struct buf *out, bool first, uint32_t lo, uint32_t hi)
{
	if (lo == hi)
		buf_printf(out, "%s%u", first ? "" : ",", lo);
	else
		buf_printf(out, "%s%u:%u", first ? "" : ",", lo, hi);
}

int
seqset_format(struct buf *out, const struct seqset *s)
{
	assert(s->is_norm);
	for (size_t i = 0; i < s->n && !out->err; i++)
		put_range(out, i == 0, s->r[i].lo, s->r[i].hi);
	return out->err ? -1 : 0;
}

int
seqset_format_list(struct buf *out, const uint32_t *v, size_t n)
{
	uint32_t lo = 0, hi = 0;	/* the run being built; lo == 0: none */
	bool first = true;

	for (size_t i = 0; i < n && !out->err; i++) {
		if (v[i] == 0 || (lo != 0 && v[i] == hi))
			continue;
		if (lo != 0 && hi != UINT32_MAX && v[i] == hi + 1) {
			hi = v[i];
			continue;
		}
		if (lo != 0) {
			put_range(out, first, lo, hi);
			first = false;
		}
		lo = hi = v[i];
	}
	if (lo != 0)
		put_range(out, first, lo, hi);
	return out->err ? -1 : 0;
}

/*
 * fuzz/fuzz_data.c - libFuzzer harness for smtp/data.c (DATA and BDAT).
 *
 * Input:   arbitrary bytes, used as message data on the wire.
 * Checks:  the input is fed whole, one byte at a time, and in pieces whose
 *          sizes come from a hash of the input, with and without an output
 *          cap; all runs must agree.  Then the result is checked against
 *          properties read straight off the raw bytes: DATA ends exactly at
 *          the first CRLF.CRLF of "CRLF" + input (the smuggling rule),
 *          consumed <= len, output no longer than the input, n_raw and the
 *          bare CR/LF flags as defined in data.h, a capped output is a
 *          prefix of the uncapped one.
 * Seeds:   fuzz/corpus/data/, dictionary fuzz/data.dict.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct res {
	struct buf out;
	size_t consumed;
	struct smtp_data d;
};

/* splitmix64 seeded from the input, so a crash reproduces from the file. */
static uint64_t
mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* step 0: whole; 1: bytewise; otherwise pseudo-random pieces of 0..16. */
static void
run(bool bdat, const uint8_t *in, size_t len, int step, uint64_t seed, size_t max,
    struct res *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->out, max);
	if (bdat)
		smtp_bdat_init(&r->d);
	else
		smtp_data_init(&r->d);
	size_t off = 0;
	do {	/* at least one feed, so an empty input is fed once too */
		size_t n = step == 0 ? len : step == 1 ? 1 : (size_t)(mix(&seed) % 17);
		if (n > len - off)
			n = len - off;
		if (bdat) {
			smtp_bdat_feed(&r->d, in + off, n, &r->out);
			r->consumed += n;
		} else {
			size_t c = smtp_data_feed(&r->d, in + off, n, &r->out);
			if (c > n || (c < n && !r->d.done))
				abort();
			if (r->d.done && smtp_data_feed(&r->d, in + off + c, n - c, &r->out) != 0)
				abort();
			r->consumed += c;
		}
		off += n;
	} while (off < len);
	if (bdat)
		smtp_bdat_finish(&r->d, &r->out);
}

static bool
same(const struct res *a, const struct res *b)
{
	return a->consumed == b->consumed && a->d.done == b->d.done
	    && a->d.bare_lf == b->d.bare_lf && a->d.bare_cr == b->d.bare_cr
	    && a->d.n_raw == b->d.n_raw && a->out.err == b->out.err
	    && a->out.len == b->out.len
	    && (a->out.len == 0 || memcmp(a->out.data, b->out.data, a->out.len) == 0);
}

/* Properties of one (whole, uncapped) run, computed from the raw bytes. */
static void
check_props(bool bdat, const uint8_t *in, size_t len, const struct res *r)
{
	/* Framing: only the first "\r\n.\r\n" of "\r\n" + input ends DATA. */
	size_t end = 0;
	bool found = false;
	if (!bdat) {
		if (len >= 3 && memcmp(in, ".\r\n", 3) == 0) {
			found = true;
			end = 3;
		}
		for (size_t k = 0; !found && k + 5 <= len; k++) {
			if (memcmp(in + k, "\r\n.\r\n", 5) == 0) {
				found = true;
				end = k + 5;
			}
		}
	}
	if (r->d.done != found)
		abort();
	if (r->consumed != (found ? end : len) || r->consumed > len)
		abort();
	size_t n = found ? end - 3 : len;	/* content bytes */
	if (r->d.n_raw != n || r->out.len > n)
		abort();

	/* Flags: an LF not after a CR is bare; a CR not before an LF is
	 * bare, except a final CR of unfinished DATA, which is undecided. */
	bool lf = false, cr = false;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			lf = true;
		if (in[i] == '\r' && (i + 1 < n ? in[i + 1] != '\n' : bdat))
			cr = true;
	}
	if (r->d.bare_lf != lf || r->d.bare_cr != cr)
		abort();
}

static void
one_mode(bool bdat, const uint8_t *in, size_t len, uint64_t seed)
{
	struct res whole, other;
	run(bdat, in, len, 0, seed, 0, &whole);
	check_props(bdat, in, len, &whole);

	run(bdat, in, len, 1, seed, 0, &other);
	if (!same(&whole, &other))
		abort();
	buf_free(&other.out);
	run(bdat, in, len, 2, seed, 0, &other);
	if (!same(&whole, &other))
		abort();
	buf_free(&other.out);

	/* A cap keeps exactly the first max bytes and changes nothing else:
	 * the end must still be found after the buffer is full. */
	size_t max = 1 + (size_t)(seed % (len + 1));
	struct res capped;
	run(bdat, in, len, 0, seed, max, &capped);
	run(bdat, in, len, 2, seed ^ 1, max, &other);
	if (!same(&capped, &other))
		abort();
	buf_free(&other.out);
	bool over = whole.out.len > max;
	if (capped.out.err != over || capped.out.len != (over ? max : whole.out.len)
	    || capped.consumed != whole.consumed || capped.d.done != whole.d.done
	    || capped.d.n_raw != whole.d.n_raw
	    || (capped.out.len && memcmp(capped.out.data, whole.out.data, capped.out.len)))
		abort();
	buf_free(&capped.out);
	buf_free(&whole.out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t seed = 1469598103934665603ULL;		/* FNV-1a of the input */
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 1099511628211ULL;
	one_mode(false, data, size, seed);
	one_mode(true, data, size, seed);
	return 0;
}

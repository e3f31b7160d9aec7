/*
 * tests/unit/test_data.c - DATA/BDAT framing (smtp/data.c).
 *
 * Every table case runs whole, one byte at a time, split in two at every
 * position, and in pseudo-random pieces; all runs must give the same
 * output, flags, counts and consumed length as the table says.  Then a
 * differential test compares the streaming machine against a slow
 * reference written from the RFC wording (find the first CRLF.CRLF in
 * "CRLF" + data, then decode with look-behind), on inputs drawn from
 * {CR, LF, '.', 'a'} where every smuggling trick lives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "core/buf.h"
#include "core/util.h"
#include "smtp/data.h"

/* Pointer and length of a literal, NULs included. */
#define B(s) (const uint8_t *)(s), sizeof(s) - 1

/* ---- deterministic PRNG (splitmix64) ---------------------------------- */

static uint64_t rng_state = 0x7a10c0ffee;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
rng_below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

/* ---- running the machine ---------------------------------------------- */

struct result {
	struct buf out;
	bool done;
	size_t consumed;
	bool bare_lf, bare_cr;
	uint64_t n_raw;
	bool bad_api;		/* a feed broke the return-value contract */
};

enum mode { M_DATA, M_BDAT };

/*
 * Feed in[0..len) in pieces of the given lengths (summing to len).  DATA:
 * a short return must mean done, and every feed after done must return 0
 * (the rest of the piece and all later pieces are offered to check it).
 * BDAT: finish after the last piece.
 */
static void
run(enum mode m, const uint8_t *in, size_t len, const size_t *pieces, size_t n_pieces,
    size_t max, struct result *r)
{
	struct smtp_data d;
	memset(r, 0, sizeof *r);
	buf_init(&r->out, max);
	if (m == M_DATA)
		smtp_data_init(&d);
	else
		smtp_bdat_init(&d);

	size_t off = 0;
	for (size_t k = 0; k < n_pieces; k++) {
		size_t n = pieces[k];
		if (m == M_BDAT) {
			smtp_bdat_feed(&d, in + off, n, &r->out);
			r->consumed += n;
		} else if (d.done) {
			if (smtp_data_feed(&d, in + off, n, &r->out) != 0)
				r->bad_api = true;
		} else {
			size_t c = smtp_data_feed(&d, in + off, n, &r->out);
			if (c > n || (c < n && !d.done))
				r->bad_api = true;
			r->consumed += c;
			if (d.done && c < n && smtp_data_feed(&d, in + off + c, n - c, &r->out) != 0)
				r->bad_api = true;
		}
		off += n;
	}
	if (m == M_BDAT)
		smtp_bdat_finish(&d, &r->out);
	if (off != len)
		r->bad_api = true;	/* test bug: pieces do not cover input */
	r->done = d.done;
	r->bare_lf = d.bare_lf;
	r->bare_cr = d.bare_cr;
	r->n_raw = d.n_raw;
}

static bool
same(const struct result *a, const struct result *b)
{
	return a->done == b->done && a->consumed == b->consumed && a->bare_lf == b->bare_lf
	    && a->bare_cr == b->bare_cr && a->n_raw == b->n_raw && a->out.err == b->out.err
	    && !a->bad_api && !b->bad_api && a->out.len == b->out.len
	    && (a->out.len == 0 || memcmp(a->out.data, b->out.data, a->out.len) == 0);
}

static void
dump(const char *label, const struct result *r)
{
	char esc[512];
	size_t j = 0;
	for (size_t i = 0; i < r->out.len && j + 5 < sizeof esc; i++) {
		uint8_t c = r->out.data[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			esc[j++] = (char)c;
		} else {
			snprintf(esc + j, sizeof esc - j, "\\x%02x", c);
			j += 4;
		}
	}
	esc[j] = '\0';
	fprintf(stderr, "  %-9s out=\"%s\" err=%d done=%d consumed=%zu lf=%d cr=%d raw=%llu%s\n",
	    label, esc, r->out.err, r->done, r->consumed, r->bare_lf, r->bare_cr,
	    (unsigned long long)r->n_raw, r->bad_api ? " BAD-API" : "");
}

/* ---- table ------------------------------------------------------------ */

struct tcase {
	const char *name;
	enum mode mode;
	const uint8_t *in;
	size_t in_len;
	const uint8_t *out;
	size_t out_len;
	bool done;
	size_t consumed;
	bool bare_lf, bare_cr;
	uint64_t n_raw;
	size_t max;		/* output cap, 0 = none */
	bool err;		/* expect out.err */
};

/* Table fields: name, mode, B(in), B(out), done, consumed, bare_lf, bare_cr,
 * n_raw, max, err.  consumed is in bytes of in (the sizeof-1 length). */
static const struct tcase cases[] = {
	/* -- DATA: ordinary messages -- */
	{ "empty_message", M_DATA, B(".\r\n"), B(""), true, 3, false, false, 0, 0, false },
	{ "simple", M_DATA, B("Subject: x\r\n\r\nhello\r\n.\r\n"), B("Subject: x\n\nhello\n"),
	    true, 24, false, false, 21, 0, false },
	{ "pipelined_after_end", M_DATA, B("hi\r\n.\r\nQUIT\r\n"), B("hi\n"),
	    true, 7, false, false, 4, 0, false },
	{ "pipelined_terminator_twice", M_DATA, B("a\r\n.\r\n.\r\n"), B("a\n"),
	    true, 6, false, false, 3, 0, false },
	{ "crlf_dot_crlf_at_start", M_DATA, B("\r\n.\r\n"), B("\n"),
	    true, 5, false, false, 2, 0, false },
	{ "nul_bytes_are_data", M_DATA, B("a\0b\r\n.\r\n"), B("a\0b\n"),
	    true, 8, false, false, 5, 0, false },
	{ "dots_inside_line", M_DATA, B("a.b..c.\r\n.\r\n"), B("a.b..c.\n"),
	    true, 12, false, false, 9, 0, false },
	/* -- DATA: dot-unstuffing (4.5.2) -- */
	{ "unstuff_at_start", M_DATA, B("..foo\r\n.\r\n"), B(".foo\n"),
	    true, 10, false, false, 7, 0, false },
	{ "unstuff_single_dot_sloppy", M_DATA, B(".foo\r\n.\r\n"), B("foo\n"),
	    true, 9, false, false, 6, 0, false },
	{ "unstuff_mid", M_DATA, B("a\r\n..b\r\n.c\r\n.\r\n"), B("a\n.b\nc\n"),
	    true, 15, false, false, 12, 0, false },
	{ "dotdot_line", M_DATA, B("..\r\n.\r\n"), B(".\n"), true, 7, false, false, 4, 0, false },
	{ "dotdotdot_line", M_DATA, B("x\r\n...\r\n.\r\n"), B("x\n..\n"),
	    true, 11, false, false, 8, 0, false },
	/* -- DATA: SMTP smuggling variants; none of these may end the data -- */
	{ "smuggle_lf_dot_lf", M_DATA, B("a\n.\nRSET\r\n.\r\nQUIT\r\n"), B("a\n.\nRSET\n"),
	    true, 13, true, false, 10, 0, false },
	{ "smuggle_lf_dot_crlf", M_DATA, B("a\n.\r\nMAIL\r\n.\r\n"), B("a\n.\nMAIL\n"),
	    true, 14, true, false, 11, 0, false },
	{ "smuggle_cr_dot_cr", M_DATA, B("a\r.\rMAIL\r\n.\r\n"), B("a\r.\rMAIL\n"),
	    true, 13, false, true, 10, 0, false },
	{ "smuggle_crlf_dot_lf", M_DATA, B("a\r\n.\nMAIL\r\n.\r\n"), B("a\n\nMAIL\n"),
	    true, 14, true, false, 11, 0, false },
	{ "smuggle_cr_dot_crlf", M_DATA, B("a\r.\r\nMAIL\r\n.\r\n"), B("a\r.\nMAIL\n"),
	    true, 14, false, true, 11, 0, false },
	{ "smuggle_crlf_dot_cr_cr_lf", M_DATA, B("a\r\n.\r\r\nMAIL\r\n.\r\n"), B("a\n\r\nMAIL\n"),
	    true, 16, false, true, 13, 0, false },
	{ "smuggle_crlf_dot_cr_x", M_DATA, B("a\r\n.\rx\r\n.\r\n"), B("a\n\rx\n"),
	    true, 11, false, true, 8, 0, false },
	{ "smuggle_crlf_dot_cr_end_of_input", M_DATA, B("a\r\n.\r"), B("a\n"),
	    false, 5, false, false, 5, 0, false },
	{ "smuggle_lf_dot_lf_no_end", M_DATA, B("a\n.\nMAIL FROM:<x>\n"), B("a\n.\nMAIL FROM:<x>\n"),
	    false, 18, true, false, 18, 0, false },
	{ "first_line_dot_lf", M_DATA, B(".\n"), B("\n"), false, 2, true, false, 2, 0, false },
	{ "first_byte_lf_then_dot_crlf", M_DATA, B("\n.\r\n"), B("\n.\n"),
	    false, 4, true, false, 4, 0, false },
	{ "dot_cr_cr_lf_then_end", M_DATA, B(".\r\r\n.\r\n"), B("\r\n"),
	    true, 7, false, true, 4, 0, false },
	/* -- DATA: CR handling -- */
	{ "cr_cr_lf", M_DATA, B("a\r\r\nb\r\n.\r\n"), B("a\r\nb\n"),
	    true, 10, false, true, 7, 0, false },
	{ "cr_cr_lf_then_end", M_DATA, B("a\r\r\n.\r\nX"), B("a\r\n"),
	    true, 7, false, true, 4, 0, false },
	{ "lf_cr", M_DATA, B("a\n\rb\r\n.\r\n"), B("a\n\rb\n"),
	    true, 9, true, true, 6, 0, false },
	{ "pending_cr_not_judged", M_DATA, B("abc\r"), B("abc"), false, 4, false, false, 4, 0, false },
	{ "no_end_yet", M_DATA, B("abc\r\n"), B("abc\n"), false, 5, false, false, 5, 0, false },
	{ "empty_input", M_DATA, B(""), B(""), false, 0, false, false, 0, 0, false },
	/* -- DATA: output cap: keep the exact prefix, still find the end -- */
	{ "max_reached", M_DATA, B("hello world\r\n.\r\nQUIT\r\n"), B("hello"),
	    true, 16, false, false, 13, 5, true },
	{ "max_exact_fit", M_DATA, B("abc\r\n.\r\n"), B("abc\n"), true, 8, false, false, 5, 4, false },
	{ "max_one_short", M_DATA, B("abc\r\n.\r\n"), B("abc"), true, 8, false, false, 5, 3, true },
	{ "max_reached_bare_lf_after", M_DATA, B("abcdef\r\nx\ny\r\n.\r\n"), B("ab"),
	    true, 16, true, false, 13, 2, true },

	/* -- BDAT: no dots, no terminator, CRLF joined across chunks -- */
	{ "bdat_plain", M_BDAT, B("a\r\nb\r\n"), B("a\nb\n"), false, 6, false, false, 6, 0, false },
	{ "bdat_dots_untouched", M_BDAT, B(".\r\n..x\r\n.\r\n"), B(".\n..x\n.\n"),
	    false, 11, false, false, 11, 0, false },
	{ "bdat_bare_lf", M_BDAT, B("a\nb"), B("a\nb"), false, 3, true, false, 3, 0, false },
	{ "bdat_bare_cr_mid", M_BDAT, B("a\rb"), B("a\rb"), false, 3, false, true, 3, 0, false },
	{ "bdat_bare_cr_at_very_end", M_BDAT, B("abc\r"), B("abc\r"), false, 4, false, true, 4, 0, false },
	{ "bdat_cr_cr_lf", M_BDAT, B("\r\r\n"), B("\r\n"), false, 3, false, true, 3, 0, false },
	{ "bdat_lf_cr", M_BDAT, B("\n\r"), B("\n\r"), false, 2, true, true, 2, 0, false },
	{ "bdat_empty", M_BDAT, B(""), B(""), false, 0, false, false, 0, 0, false },
	{ "bdat_max_reached", M_BDAT, B("abc\r\ndef\r\n"), B("abc\nd"), false, 10, false, false, 10, 5, true },
	{ "bdat_nul", M_BDAT, B("\0\r\n\0"), B("\0\n\0"), false, 4, false, false, 4, 0, false },
};

static void
check_against_table(const struct tcase *c, const char *how, const struct result *r)
{
	bool ok = !r->bad_api && r->done == c->done && r->consumed == c->consumed
	    && r->bare_lf == c->bare_lf && r->bare_cr == c->bare_cr && r->n_raw == c->n_raw
	    && r->out.err == c->err && r->out.len == c->out_len
	    && (c->out_len == 0 || memcmp(r->out.data, c->out, c->out_len) == 0);
	if (!ok) {
		fprintf(stderr, "case %s: %s differs from the table:\n", c->name, how);
		dump("got", r);
		t_cur_failed = 1;
	}
}

static void
check_same(const char *name, const char *how, const struct result *want,
    const struct result *r)
{
	if (!same(want, r)) {
		fprintf(stderr, "case %s: %s differs:\n", name, how);
		dump("want", want);
		dump(how, r);
		t_cur_failed = 1;
	}
}

/*
 * Run one input whole (result in *whole, caller frees), then one byte at
 * a time, cut in two at every position (this is where "between CR and
 * LF" and "between the dot and its CR" happen), and in n_random random
 * splits with some empty pieces; every run must equal the whole one.
 */
static void
run_all_splits(const char *name, enum mode m, const uint8_t *in, size_t len, size_t max,
    int n_random, bool two_piece, struct result *whole)
{
	size_t cap = 2 * len + 2;
	size_t *pieces = calloc(cap, sizeof *pieces);
	struct result r;

	size_t one = len;
	run(m, in, len, &one, 1, max, whole);

	for (size_t i = 0; i < len; i++)
		pieces[i] = 1;
	run(m, in, len, pieces, len, max, &r);
	check_same(name, "bytewise", whole, &r);
	buf_free(&r.out);

	for (size_t cut = 0; two_piece && cut <= len; cut++) {
		size_t two[2] = { cut, len - cut };
		run(m, in, len, two, 2, max, &r);
		check_same(name, "two-piece", whole, &r);
		buf_free(&r.out);
	}

	for (int k = 0; k < n_random; k++) {
		size_t np = 0, left = len;
		while (left > 0 && np + 1 < cap) {
			size_t lim = left < 7 ? left : 7;
			size_t n = rng_below(6) == 0 ? 0 : 1 + rng_below(lim);
			pieces[np++] = n;
			left -= n;
		}
		if (left > 0)
			pieces[np++] = left;
		run(m, in, len, pieces, np, max, &r);
		check_same(name, "random", whole, &r);
		buf_free(&r.out);
	}
	free(pieces);
}

T(test_table)
{
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct tcase *c = &cases[i];
		struct result whole;
		run_all_splits(c->name, c->mode, c->in, c->in_len, c->max, 50, true, &whole);
		check_against_table(c, "whole", &whole);
		buf_free(&whole.out);
	}
}

/* ---- reference implementation ------------------------------------------
 *
 * Deliberately not a state machine: it reads the RFC sentences literally
 * on the complete input.  DATA ends at the first "\r\n.\r\n" in
 * "\r\n" + input; content is what comes before the ".\r\n"; a line starts
 * at 0 or after a real CRLF and a dot there is deleted; CRLF becomes LF;
 * any other CR or LF is bare.  A CR that is the last byte of an
 * unfinished DATA stream is not judged yet (not emitted, not flagged),
 * which is what a streaming reader must do; BDAT is always finished.
 */
static void
ref(enum mode m, const uint8_t *in, size_t len, size_t max, struct result *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->out, max);

	size_t n = len;
	if (m == M_DATA) {
		if (len >= 3 && memcmp(in, ".\r\n", 3) == 0) {
			r->done = true;
			n = 0;
		}
		for (size_t k = 0; !r->done && k + 5 <= len; k++) {
			if (memcmp(in + k, "\r\n.\r\n", 5) == 0) {
				r->done = true;
				n = k + 2;
			}
		}
	}
	r->consumed = r->done ? n + 3 : len;
	r->n_raw = n;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		bool bol = i == 0 || (i >= 2 && in[i - 2] == '\r' && in[i - 1] == '\n');
		if (m == M_DATA && bol && c == '.')
			continue;
		if (c == '\r' && i + 1 < n && in[i + 1] == '\n') {
			c = '\n';
			i++;
		} else if (c == '\r') {
			if (m == M_DATA && !r->done && i + 1 == n)
				break;		/* pending */
			r->bare_cr = true;
		} else if (c == '\n') {
			r->bare_lf = true;
		}
		/* byte at a time, so a cap keeps exactly the prefix */
		if (!r->out.err && r->out.len == r->out.max)
			r->out.err = true;
		else
			buf_putc(&r->out, c);
	}
}

/* The reference must agree with the hand-written table before we let it
 * judge the real code. */
T(test_reference_matches_table)
{
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct tcase *c = &cases[i];
		struct result r;
		ref(c->mode, c->in, c->in_len, c->max, &r);
		check_against_table(c, "reference", &r);
		buf_free(&r.out);
	}
}

static void
differential(enum mode m, int n_inputs, size_t max_len)
{
	static const uint8_t alphabet[] = { '\r', '\n', '.', 'a' };
	uint8_t *in = malloc(max_len);
	char name[64];
	for (int k = 0; k < n_inputs; k++) {
		size_t len = rng_below(max_len + 1);
		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[rng_below(sizeof alphabet)];
		/* every fourth input with a small output cap */
		size_t max = k % 4 == 3 ? 1 + rng_below(len + 1) : 0;
		struct result want, whole;
		ref(m, in, len, max, &want);
		snprintf(name, sizeof name, "%s random #%d", m == M_DATA ? "data" : "bdat", k);
		run_all_splits(name, m, in, len, max, 3, false, &whole);
		check_same(name, "whole vs reference", &want, &whole);
		buf_free(&want.out);
		buf_free(&whole.out);
		if (t_cur_failed)
			break;		/* one failing input is enough to read */
	}
	free(in);
}

T(test_differential_data)
{
	differential(M_DATA, 4000, 24);
	differential(M_DATA, 500, 200);
}

T(test_differential_bdat)
{
	differential(M_BDAT, 4000, 24);
	differential(M_BDAT, 500, 200);
}

/* Exhaustive over {CR, LF, '.', 'a'} up to length 8 (87380 inputs): every
 * smuggling pattern of that size is in here. */
T(test_exhaustive_small_data)
{
	static const uint8_t alphabet[] = { '\r', '\n', '.', 'a' };
	uint8_t in[8];
	for (size_t len = 0; len <= sizeof in && !t_cur_failed; len++) {
		size_t total = (size_t)1 << (2 * len);
		for (size_t v = 0; v < total && !t_cur_failed; v++) {
			for (size_t i = 0; i < len; i++)
				in[i] = alphabet[(v >> (2 * i)) & 3];
			for (int m = M_DATA; m <= M_BDAT; m++) {
				struct result want, got, bytes;
				size_t one = len, ones[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
				ref((enum mode)m, in, len, 0, &want);
				run((enum mode)m, in, len, &one, 1, 0, &got);
				run((enum mode)m, in, len, ones, len, 0, &bytes);
				check_same("exhaustive", "whole vs reference", &want, &got);
				check_same("exhaustive", "bytewise vs reference", &want, &bytes);
				buf_free(&want.out);
				buf_free(&got.out);
				buf_free(&bytes.out);
			}
		}
	}
}

/* ---- explicit multi-feed scenarios ---------------------------------------- */

T(test_feed_after_done_returns_zero)
{
	struct smtp_data d;
	struct buf out;
	buf_init(&out, 0);
	smtp_data_init(&d);
	CHECK_INT(smtp_data_feed(&d, B("x\r\n.\r\nQUIT\r\n"), &out), 6);
	CHECK(d.done);
	CHECK_INT(smtp_data_feed(&d, B("QUIT\r\n"), &out), 0);
	CHECK_INT(smtp_data_feed(&d, B(".\r\n"), &out), 0);
	CHECK_INT(out.len, 2);
	CHECK_INT(d.n_raw, 3);
	buf_free(&out);
}

/* The terminator arrives in three reads; n_raw must still leave out all
 * of ".\r\n" even though the dot was counted in an earlier call. */
T(test_terminator_split_over_feeds)
{
	struct smtp_data d;
	struct buf out;
	buf_init(&out, 0);
	smtp_data_init(&d);
	CHECK_INT(smtp_data_feed(&d, B("abc\r\n."), &out), 6);
	CHECK(!d.done);
	CHECK_INT(smtp_data_feed(&d, B("\r"), &out), 1);
	CHECK(!d.done);
	CHECK_INT(smtp_data_feed(&d, B("\nQUIT\r\n"), &out), 1);
	CHECK(d.done);
	CHECK_INT(d.n_raw, 5);
	CHECK(buf_cstr(&out));
	CHECK_STR((char *)out.data, "abc\n");
	CHECK(!d.bare_cr && !d.bare_lf);
	buf_free(&out);
}

/* Split exactly between CR and LF: the CR must be held, not flagged. */
T(test_data_split_between_cr_and_lf)
{
	struct smtp_data d;
	struct buf out;
	buf_init(&out, 0);
	smtp_data_init(&d);
	CHECK_INT(smtp_data_feed(&d, B("line one\r"), &out), 9);
	CHECK(!d.bare_cr);
	CHECK_INT(out.len, 8);
	CHECK_INT(smtp_data_feed(&d, B("\n.\r\n"), &out), 4);
	CHECK(d.done);
	CHECK(!d.bare_cr && !d.bare_lf);
	CHECK(buf_cstr(&out));
	CHECK_STR((char *)out.data, "line one\n");
	buf_free(&out);
}

T(test_bdat_chunks_cr_lf_split)
{
	struct smtp_data d;
	struct buf out;
	buf_init(&out, 0);
	smtp_bdat_init(&d);
	smtp_bdat_feed(&d, B("abc\r"), &out);
	CHECK(!d.bare_cr);
	smtp_bdat_feed(&d, B("\ndef\r"), &out);
	smtp_bdat_feed(&d, B(""), &out);	/* BDAT 0 in between */
	smtp_bdat_feed(&d, B("\r\n"), &out);
	CHECK(d.bare_cr);	/* the CR before "\r\n" */
	smtp_bdat_feed(&d, B("x\r"), &out);
	smtp_bdat_finish(&d, &out);
	CHECK(!d.bare_lf);
	CHECK(!d.done);
	CHECK_INT(d.n_raw, 4 + 5 + 2 + 2);
	CHECK(buf_cstr(&out));
	CHECK_STR((char *)out.data, "abc\ndef\r\nx\r");
	buf_free(&out);
}

T(test_bdat_bare_cr_only_at_finish)
{
	struct smtp_data d;
	struct buf out;
	buf_init(&out, 0);
	smtp_bdat_init(&d);
	smtp_bdat_feed(&d, B("end\r"), &out);
	CHECK(!d.bare_cr);
	CHECK_INT(out.len, 3);
	smtp_bdat_finish(&d, &out);
	CHECK(d.bare_cr);
	CHECK_INT(out.len, 4);
	CHECK_INT(out.data[3], '\r');
	buf_free(&out);
}

/* A megabyte of mostly ordinary text with sparse specials, in 4 KB reads:
 * exercises the memchr spans and the cached CR/LF positions. */
T(test_large_input)
{
	size_t len = 1 << 20;
	uint8_t *in = malloc(len);
	for (size_t i = 0; i < len; i++) {
		uint64_t x = rng() % 200;
		in[i] = x == 0 ? '\r' : x == 1 ? '\n' : x == 2 ? '.' : (uint8_t)('a' + x % 26);
		if (x == 3 && i + 1 < len) {	/* mostly proper lines */
			in[i] = '\r';
			in[++i] = '\n';
		}
	}
	for (int m = M_DATA; m <= M_BDAT; m++) {
		size_t np = len / 4096, *pieces = malloc(np * sizeof *pieces);
		for (size_t k = 0; k < np; k++)
			pieces[k] = 4096;
		struct result want, got;
		ref((enum mode)m, in, len, 0, &want);
		run((enum mode)m, in, len, pieces, np, 0, &got);
		check_same("large", "4k reads vs reference", &want, &got);
		buf_free(&want.out);
		buf_free(&got.out);
		free(pieces);
	}
	free(in);
}

/* A piece full of bare CRs and no LF must not go quadratic (would take
 * minutes at 8 MB if each CR rescanned to the end). */
T(test_many_bare_crs_linear)
{
	size_t len = 8 << 20;
	uint8_t *in = malloc(len);
	memset(in, '\r', len);
	in[len - 1] = '\n';
	struct smtp_data d;
	struct buf out;
	buf_init(&out, 0);
	smtp_data_init(&d);
	CHECK_INT(smtp_data_feed(&d, in, len, &out), len);
	CHECK(d.bare_cr && !d.bare_lf && !d.done);
	CHECK_INT(out.len, len - 1);
	buf_free(&out);
	free(in);
}

int
main(void)
{
	RUN(test_table);
	RUN(test_reference_matches_table);
	RUN(test_differential_data);
	RUN(test_differential_bdat);
	RUN(test_exhaustive_small_data);
	RUN(test_feed_after_done_returns_zero);
	RUN(test_terminator_split_over_feeds);
	RUN(test_data_split_between_cr_and_lf);
	RUN(test_bdat_chunks_cr_lf_split);
	RUN(test_bdat_bare_cr_only_at_finish);
	RUN(test_large_input);
	RUN(test_many_bare_crs_linear);
	return t_done("data");
}

/*
 * tests/unit/test_imap_seqset.c - IMAP sequence sets (imap/seqset.c).
 *
 * A table of set texts with the value of "*" and the normalised text
 * expected back (or the refusal), every prefix of every case (no crash,
 * OK or BAD only), membership against a bitmap for random sets, the
 * 2^32-1 edges, iteration, the list formatter (sorted and in given
 * order), a full output buffer, and sets at the 2 MiB bound in both
 * orders.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "core/buf.h"
#include "imap/seqset.h"

struct pcase {
	const char *in;
	uint32_t star;
	const char *want;	/* normalised text, "SAVED", or "BAD <why>" */
};

static const struct pcase pcases[] = {
	{ "1", 10, "1" },
	{ "1:3,5,7:*", 10, "1:3,5,7:10" },
	{ "*", 5, "5" },
	{ "3:1", 10, "1:3" },
	/* RFC 9051 9: "*:4,5:7" with 10 messages is 4:10 */
	{ "*:4,5:7", 10, "4:10" },
	{ "2,4:7,9,12:*", 15, "2,4:7,9,12:15" },
	{ "1,1,1", 10, "1" },
	{ "5,4,3,2,1", 10, "1:5" },
	{ "1:2,3:4", 10, "1:4" },
	{ "10:20,1:5,6:9", 10, "1:20" },
	{ "1:5,3", 10, "1:5" },
	{ "7,1:3,2:8", 10, "1:8" },
	{ "4294967295", 10, "4294967295" },
	{ "4294967295:1", 10, "1:4294967295" },
	{ "1:*", 4294967295u, "1:4294967295" },
	{ "4294967294,4294967295,1", 10, "1,4294967294:4294967295" },
	/* a UID range past the last UID still holds the last one */
	{ "6:*", 5, "5:6" },
	{ "*:*", 7, "7" },
	{ "*:3", 5, "3:5" },
	{ "1,4,*", 5, "1,4:5" },
	/* an empty mailbox: "*" stands for nothing */
	{ "*", 0, "" },
	{ "3:*", 0, "1:3" },
	{ "$", 10, "SAVED" },
	{ "$,1", 10, "BAD $ cannot be combined with other numbers" },
	{ "1,$", 10, "BAD $ cannot be combined with other numbers" },
	{ "1:$", 10, "BAD $ cannot be combined with other numbers" },
	{ "$$", 10, "BAD $ cannot be combined with other numbers" },
	{ "", 10, "BAD Missing number in sequence set" },
	{ "0", 10, "BAD Sequence numbers start at 1 and have no leading zero" },
	{ "01", 10, "BAD Sequence numbers start at 1 and have no leading zero" },
	{ "1:0", 10, "BAD Sequence numbers start at 1 and have no leading zero" },
	{ "4294967296", 10, "BAD Number in sequence set over 4294967295" },
	{ "99999999999999999999", 10, "BAD Number in sequence set over 4294967295" },
	{ ",", 10, "BAD Invalid character in sequence set" },
	{ ",1", 10, "BAD Invalid character in sequence set" },
	{ "1,", 10, "BAD Missing number in sequence set" },
	{ "1,,2", 10, "BAD Invalid character in sequence set" },
	{ "1:", 10, "BAD Missing number in sequence set" },
	{ ":1", 10, "BAD Invalid character in sequence set" },
	{ "1::2", 10, "BAD Invalid character in sequence set" },
	{ "1:2:3", 10, "BAD Invalid range in sequence set" },
	{ "a", 10, "BAD Invalid character in sequence set" },
	{ " 1", 10, "BAD Invalid character in sequence set" },
	{ "1 ", 10, "BAD Invalid character in sequence set" },
	{ "-1", 10, "BAD Invalid character in sequence set" },
	{ "+1", 10, "BAD Invalid character in sequence set" },
	{ "1.5", 10, "BAD Invalid character in sequence set" },
	{ "**", 10, "BAD Invalid character in sequence set" },
	{ "1*", 10, "BAD Invalid character in sequence set" },
	{ "(1)", 10, "BAD Invalid character in sequence set" },
};

/* Parse and render as the table expects; returns static or buf storage. */
static const char *
render(const uint8_t *in, size_t len, uint32_t star, struct seqset *s, char *out, size_t n)
{
	const char *why = NULL;
	int rc = seqset_parse(s, in, len, star, &why);
	if (rc == SEQSET_SAVED)
		return "SAVED";
	if (rc == SEQSET_BAD) {
		snprintf(out, n, "BAD %s", why);
		return out;
	}
	struct buf b;
	buf_init(&b, 0);
	seqset_format(&b, s);
	buf_cstr(&b);
	snprintf(out, n, "%s", b.len ? (const char *)b.data : "");
	buf_free(&b);
	return out;
}

T(parse_table)
{
	struct seqset s;
	char out[256];
	seqset_init(&s);
	for (size_t i = 0; i < sizeof pcases / sizeof pcases[0]; i++) {
		const struct pcase *c = &pcases[i];
		const char *got = render((const uint8_t *)c->in, strlen(c->in), c->star, &s,
		    out, sizeof out);
		if (strcmp(got, c->want) != 0)
			fprintf(stderr, "case %zu \"%s\"\n", i, c->in);
		CHECK_STR(got, c->want);
		if (strncmp(c->want, "BAD", 3) == 0 || strcmp(c->want, "SAVED") == 0)
			CHECK_INT(s.n, 0);
	}
	seqset_free(&s);
}

/* Every prefix of every case parses to OK or BAD, and a NUL is no end. */
T(parse_prefixes)
{
	struct seqset s;
	seqset_init(&s);
	for (size_t i = 0; i < sizeof pcases / sizeof pcases[0]; i++) {
		const char *in = pcases[i].in;
		for (size_t k = 0; k <= strlen(in); k++) {
			uint8_t *copy = malloc(k ? k : 1);	/* exact size for ASan */
			memcpy(copy, in, k);
			const char *why = NULL;
			int rc = seqset_parse(&s, copy, k, 9, &why);
			CHECK(rc == SEQSET_OK || rc == SEQSET_BAD || rc == SEQSET_SAVED);
			CHECK(rc != SEQSET_BAD || why != NULL);
			free(copy);
		}
	}
	const char *why = NULL;
	CHECK_INT(seqset_parse(&s, (const uint8_t *)"1\0", 2, 9, &why), SEQSET_BAD);
	seqset_free(&s);
}

T(star_flag)
{
	struct seqset s;
	const char *why;
	seqset_init(&s);
	CHECK_INT(seqset_parse(&s, (const uint8_t *)"1:3", 3, 9, &why), SEQSET_OK);
	CHECK(!s.has_star);
	CHECK_INT(seqset_parse(&s, (const uint8_t *)"1,*", 3, 0, &why), SEQSET_OK);
	CHECK(s.has_star);
	CHECK_INT(s.n, 1);
	CHECK_INT(seqset_parse(&s, (const uint8_t *)"*", 1, 0, &why), SEQSET_OK);
	CHECK(s.has_star);
	CHECK_INT(s.n, 0);
	CHECK(!seqset_contains(&s, 1));
	seqset_free(&s);
}

T(membership_edges)
{
	struct seqset s;
	const char *why;
	seqset_init(&s);
	CHECK_INT(seqset_parse(&s, (const uint8_t *)"2,4:7,9,12:*", 12, 15, &why), SEQSET_OK);
	static const char want[] = "0010111101001111000";	/* 0..18 */
	for (uint32_t v = 0; v < sizeof want - 1; v++)
		CHECK_INT(seqset_contains(&s, v), want[v] == '1');
	CHECK(!seqset_contains(&s, UINT32_MAX));
	CHECK_INT(seqset_count(&s), 1 + 4 + 1 + 4);
	CHECK_INT(seqset_min(&s), 2);
	CHECK_INT(seqset_max(&s), 15);

	CHECK_INT(seqset_parse(&s, (const uint8_t *)"4294967295", 10, 1, &why), SEQSET_OK);
	CHECK(seqset_contains(&s, UINT32_MAX));
	CHECK(!seqset_contains(&s, UINT32_MAX - 1));
	CHECK(!seqset_contains(&s, 0));
	CHECK_INT(seqset_parse(&s, (const uint8_t *)"1:*", 3, UINT32_MAX, &why), SEQSET_OK);
	CHECK_INT(seqset_count(&s), UINT32_MAX);
	CHECK(!seqset_contains(&s, 0));
	CHECK(seqset_contains(&s, 1));
	CHECK(seqset_contains(&s, UINT32_MAX));

	seqset_clear(&s);
	CHECK_INT(seqset_count(&s), 0);
	CHECK_INT(seqset_min(&s), 0);
	CHECK_INT(seqset_max(&s), 0);
	CHECK(!seqset_contains(&s, 1));
	seqset_free(&s);
}

static void
iter_text(const struct seqset *s, char *out, size_t n)
{
	struct seqset_iter it;
	uint32_t v;
	size_t used = 0;
	out[0] = '\0';
	seqset_iter_init(&it, s);
	while (seqset_iter_next(&it, &v) && used < n)
		used += (size_t)snprintf(out + used, n - used, "%s%u", used ? " " : "", v);
}

T(iteration)
{
	struct seqset s;
	const char *why;
	char out[256];
	seqset_init(&s);
	CHECK_INT(seqset_parse(&s, (const uint8_t *)"1:3,7,4294967294:*", 18, UINT32_MAX, &why),
	    SEQSET_OK);
	iter_text(&s, out, sizeof out);
	CHECK_STR(out, "1 2 3 7 4294967294 4294967295");
	seqset_clear(&s);
	iter_text(&s, out, sizeof out);
	CHECK_STR(out, "");
	seqset_free(&s);
}

static const char *
list_text(const uint32_t *v, size_t n, char *out, size_t sz)
{
	struct buf b;
	buf_init(&b, 0);
	CHECK_INT(seqset_format_list(&b, v, n), 0);
	buf_cstr(&b);
	snprintf(out, sz, "%s", b.len ? (const char *)b.data : "");
	buf_free(&b);
	return out;
}

T(format_list)
{
	char out[256];
	static const uint32_t a[] = { 1, 2, 3, 7 };
	static const uint32_t b[] = { 1, 1, 2, 2, 2 };
	static const uint32_t c[] = { 5, 6, 7, 1, 2 };	/* COPYUID keeps the order */
	static const uint32_t d[] = { 0, 3, 0, 4 };
	static const uint32_t e[] = { 4294967294u, 4294967295u, 1 };
	static const uint32_t f[] = { 9, 8, 7 };
	static const uint32_t g[] = { 4294967295u, 4294967295u };
	CHECK_STR(list_text(a, 0, out, sizeof out), "");
	CHECK_STR(list_text(a, 4, out, sizeof out), "1:3,7");
	CHECK_STR(list_text(b, 5, out, sizeof out), "1:2");
	CHECK_STR(list_text(c, 5, out, sizeof out), "5:7,1:2");
	CHECK_STR(list_text(d, 4, out, sizeof out), "3:4");
	CHECK_STR(list_text(e, 3, out, sizeof out), "4294967294:4294967295,1");
	CHECK_STR(list_text(f, 3, out, sizeof out), "9,8,7");
	CHECK_STR(list_text(g, 2, out, sizeof out), "4294967295");
}

T(format_full_buffer)
{
	struct seqset s;
	const char *why;
	struct buf b;
	seqset_init(&s);
	CHECK_INT(seqset_parse(&s, (const uint8_t *)"1:3,5,7,9", 9, 9, &why), SEQSET_OK);
	buf_init(&b, 5);
	CHECK_INT(seqset_format(&b, &s), -1);
	CHECK(b.err);
	buf_free(&b);
	static const uint32_t v[] = { 100, 200, 300 };
	buf_init(&b, 6);
	CHECK_INT(seqset_format_list(&b, v, 3), -1);
	buf_free(&b);
	seqset_free(&s);
}

T(add_and_copy)
{
	struct seqset s, t;
	seqset_init(&s);
	seqset_init(&t);
	seqset_add(&s, 9, 7);
	seqset_add(&s, 1, 1);
	seqset_add(&s, 0, 2);		/* 0 is raised to 1 */
	seqset_add(&s, 0, 0);		/* nothing */
	seqset_add(&s, 3, 3);
	seqset_normalize(&s);
	char out[64];
	struct buf b;
	buf_init(&b, 0);
	seqset_format(&b, &s);
	buf_cstr(&b);
	snprintf(out, sizeof out, "%s", (const char *)b.data);
	CHECK_STR(out, "1:3,7:9");
	seqset_copy(&t, &s);
	seqset_free(&s);
	CHECK(seqset_contains(&t, 8));
	CHECK(!seqset_contains(&t, 4));
	CHECK_INT(seqset_count(&t), 6);
	buf_free(&b);
	seqset_free(&t);
}

/* ---- random sets against a bitmap ------------------------------------- */

static uint64_t rng_state = 0x5e95e7;

static uint32_t
rng(uint32_t n)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) % n);
}

#define U 200	/* universe 1..U-1 */

T(random_against_bitmap)
{
	struct seqset s, r;
	seqset_init(&s);
	seqset_init(&r);
	for (int iter = 0; iter < 2000; iter++) {
		bool bit[U] = { false };
		char text[2048];
		size_t used = 0;
		uint32_t star = 1 + rng(U - 1);
		int k = 1 + (int)rng(12);
		for (int j = 0; j < k; j++) {
			uint32_t a = 1 + rng(U - 1), c = 1 + rng(U - 1);
			bool sa = rng(8) == 0, sc = rng(8) == 0, single = rng(3) == 0;
			if (sa)
				a = star;
			if (sc)
				c = star;
			if (single) {
				c = a;
				sc = sa;
			}
			uint32_t lo = a < c ? a : c, hi = a < c ? c : a;
			for (uint32_t v = lo; v <= hi; v++)
				bit[v] = true;
			char an[16], cn[16];
			snprintf(an, sizeof an, "%u", a);
			snprintf(cn, sizeof cn, "%u", c);
			used += (size_t)snprintf(text + used, sizeof text - used, "%s%s",
			    j ? "," : "", sa ? "*" : an);
			if (!single || rng(2))
				used += (size_t)snprintf(text + used, sizeof text - used, ":%s",
				    sc ? "*" : cn);
		}
		const char *why = NULL;
		int rc = seqset_parse(&s, (const uint8_t *)text, used, star, &why);
		CHECK_INT(rc, SEQSET_OK);
		uint64_t n = 0;
		for (uint32_t v = 0; v < U; v++) {
			n += bit[v];
			if (seqset_contains(&s, v) != bit[v]) {
				fprintf(stderr, "\"%s\" star %u: %u\n", text, star, v);
				CHECK(0);
				break;
			}
		}
		CHECK_INT(seqset_count(&s), n);
		/* ranges sorted, disjoint, not adjacent */
		for (size_t i = 0; i < s.n; i++) {
			CHECK(s.r[i].lo >= 1 && s.r[i].lo <= s.r[i].hi);
			if (i > 0)
				CHECK(s.r[i].lo > s.r[i - 1].hi + 1);
		}
		/* format, parse again: the same ranges */
		struct buf b;
		buf_init(&b, 0);
		CHECK_INT(seqset_format(&b, &s), 0);
		CHECK_INT(seqset_parse(&r, b.data, b.len, star, &why), SEQSET_OK);
		CHECK_INT(r.n, s.n);
		CHECK(r.n == s.n && memcmp(r.r, s.r, s.n * sizeof *s.r) == 0);
		/* the numbers listed in order format to the same text */
		uint32_t list[U];
		size_t m = 0;
		struct seqset_iter it;
		uint32_t v;
		seqset_iter_init(&it, &s);
		while (seqset_iter_next(&it, &v))
			list[m++] = v;
		CHECK_INT(m, n);
		struct buf b2;
		buf_init(&b2, 0);
		seqset_format_list(&b2, list, m);
		CHECK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
		buf_free(&b);
		buf_free(&b2);
	}
	seqset_free(&s);
	seqset_free(&r);
}

/* ---- the 2 MiB bound ---------------------------------------------------- */

/* "1,3,5,..." (or descending) up to about len bytes. */
static size_t
odd_list(char *t, size_t len, bool descending, uint32_t *count)
{
	size_t used = 0;
	uint32_t n = 0;
	/* 7-digit numbers plus comma: 8 bytes each */
	uint32_t first = 1000001, k = (uint32_t)(len / 8);
	for (uint32_t i = 0; i < k; i++) {
		uint32_t v = descending ? first + 2 * (k - 1 - i) : first + 2 * i;
		used += (size_t)snprintf(t + used, len + 16 - used, "%s%u", i ? "," : "", v);
		n++;
	}
	*count = n;
	return used;
}

T(two_mib_sets)
{
	size_t max = SEQSET_TEXT_MAX;
	char *t = malloc(max + 32);
	struct seqset s;
	const char *why;
	uint32_t n;
	seqset_init(&s);
	for (int desc = 0; desc < 2; desc++) {
		size_t len = odd_list(t, max, desc, &n);
		CHECK(len <= max);
		CHECK_INT(seqset_parse(&s, (const uint8_t *)t, len, 1, &why), SEQSET_OK);
		CHECK_INT(s.n, n);
		CHECK_INT(seqset_count(&s), n);
		CHECK(seqset_contains(&s, 1000001));
		CHECK(!seqset_contains(&s, 1000002));
		CHECK(seqset_contains(&s, 1000001 + 2 * (n - 1)));
	}
	/* one byte over */
	memset(t, '1', max + 1);
	CHECK_INT(seqset_parse(&s, (const uint8_t *)t, max + 1, 1, &why), SEQSET_BAD);
	CHECK_STR(why, "Sequence set too long");
	/* at the bound but a number too big */
	CHECK_INT(seqset_parse(&s, (const uint8_t *)t, max, 1, &why), SEQSET_BAD);
	CHECK_STR(why, "Number in sequence set over 4294967295");
	/* "1:1,1:1,..." collapses as it is read */
	size_t used = 0;
	while (used + 4 <= max)
		used += (size_t)snprintf(t + used, 5, "%s1:1", used ? "," : "");
	CHECK_INT(seqset_parse(&s, (const uint8_t *)t, used, 1, &why), SEQSET_OK);
	CHECK_INT(s.n, 1);
	free(t);
	seqset_free(&s);
}

int
main(void)
{
	RUN(parse_table);
	RUN(parse_prefixes);
	RUN(star_flag);
	RUN(membership_edges);
	RUN(iteration);
	RUN(format_list);
	RUN(format_full_buffer);
	RUN(add_and_copy);
	RUN(random_against_bitmap);
	RUN(two_mib_sets);
	return t_done("imap_seqset");
}

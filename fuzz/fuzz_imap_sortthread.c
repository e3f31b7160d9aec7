/*
 * fuzz/fuzz_imap_sortthread.c - libFuzzer harness for imap/sortthread.c
 * (and mime_first_address, hdrtext under it).
 *
 * Input:   byte 0 is flags: bit 0 UIDs in THREAD, bit 1 a synthetic
 *          Message-ID/References/Subject header before each message (IDs
 *          from a space of 8, so duplicates, loops and shared parents
 *          are common), bits 2-3 how internal dates repeat.  Then one
 *          line of SORT criteria ("(REVERSE DATE FROM)"), parsed by
 *          imap_parse as a real SORT command.  The rest: up to 48
 *          messages separated by form feeds, each a header block (a body
 *          may follow).
 * Checks:  no crash, leak, hang or sanitizer report (the threader's loop
 *          checks assert that the link-cut tree agrees with the parent
 *          pointers); criteria parse or give a reason; the SORT order is a
 *          permutation, ascending under sort_compare, antisymmetric, and
 *          the same whatever order the records are given in; both THREAD
 *          algorithms give text of RFC 5256's grammar (balanced, every
 *          nested part at least two thread-lists) holding every message
 *          exactly once, the same twice over; the base subject of the
 *          whole input is no longer than its decoded text.
 * Seeds:   fuzz/corpus/imap_sortthread/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "imap/parse.h"
#include "imap/sortthread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_MAX	48
#define T0	1200000000

/* Parse "t SORT <crit> UTF-8 ALL" and sort_parse its first argument. */
static int
parse_crit(const uint8_t *crit, size_t len, struct sort_keys *k)
{
	static const char pre[] = "t SORT ", post[] = " UTF-8 ALL\r\n";
	struct imap_limits lim;
	struct imap_cmd c;
	const char *why = NULL;
	struct buf cmd;
	int rc = -1;
	imap_limits_preauth(&lim);
	buf_init(&cmd, 0);
	buf_puts(&cmd, pre);
	buf_append(&cmd, crit, len);
	buf_puts(&cmd, post);
	if (imap_parse(cmd.data, cmd.len, &lim, &c, &why) == 0) {
		rc = c.n_args > 0 ? sort_parse(&c.args[0], k, &why) : -1;
		if (c.n_args > 0 && rc != 0 && (why == NULL || k->n != 0))
			abort();
		imap_cmd_free(&c);
	}
	buf_free(&cmd);
	return rc;
}

/* The synthetic header of message i in flag bit 1's mode. */
static void
synthetic(struct buf *b, const uint8_t *p, size_t len)
{
	uint8_t x = len > 0 ? p[0] : 0, y = len > 1 ? p[1] : 0, z = len > 2 ? p[2] : 0;
	if (!(x & 0x80))
		buf_printf(b, "Message-ID: <%u@f>\n", x & 7);
	if (y & 0x80)
		buf_printf(b, "References: <%u@f> <%u@f>\n", y & 7, z & 7);
	else if (y & 0x40)
		buf_printf(b, "In-Reply-To: <%u@f>\n", y & 7);
	buf_printf(b, "Subject: %ss%u\n", z & 0x80 ? "Re: " : "", (z >> 4) & 3);
}

/*
 * Check THREAD text against RFC 5256 4: thread-list = "(" (thread-members
 * / thread-nested) ")", thread-members = nz-number *(SP nz-number)
 * [SP thread-nested], thread-nested = 2*thread-list.  Every number in
 * 1..max must appear once.
 */
static void
check_threads(const uint8_t *s, size_t len, uint32_t max, uint32_t step)
{
	struct frame {
		bool members;		/* a number was seen */
		bool nested;		/* in the thread-nested part */
		unsigned lists;		/* thread-lists in it */
	} *st = calloc(len / 2 + 2, sizeof *st);
	uint8_t *seen = calloc(max + 1, 1);
	size_t sp = 0, i = 0;
	uint8_t prev = 0;
	if (st == NULL || seen == NULL)
		abort();
	while (i < len) {
		uint8_t c = s[i];
		if (c == '(') {
			if (sp > 0) {
				struct frame *f = &st[sp - 1];
				if (!(prev == '(' || (prev == ' ' && f->members) || (prev == ')'
				    && f->nested)))
					abort();
				f->nested = true;
				f->lists++;
			} else if (prev != 0 && prev != ')') {
				abort();
			}
			st[sp++] = (struct frame){ false, false, 0 };
			prev = c;
			i++;
		} else if (c >= '1' && c <= '9') {
			if (sp == 0 || st[sp - 1].nested || (prev != '(' && prev != ' '))
				abort();
			uint64_t v = 0;
			while (i < len && s[i] >= '0' && s[i] <= '9' && v <= UINT32_MAX)
				v = v * 10 + (uint64_t)(s[i++] - '0');
			if (v % step != 0 || v / step == 0 || v / step > max || seen[v / step]++)
				abort();
			st[sp - 1].members = true;
			prev = '1';
		} else if (c == ' ') {
			if (prev != '1' || i + 1 >= len || (s[i + 1] != '(' && (s[i + 1] < '1'
			    || s[i + 1] > '9')))
				abort();
			prev = c;
			i++;
		} else if (c == ')') {
			if (sp == 0)
				abort();
			struct frame *f = &st[--sp];
			if (f->nested ? f->lists < 2 || prev != ')' : !f->members || prev != '1')
				abort();
			prev = c;
			i++;
		} else {
			abort();
		}
	}
	if (sp != 0)
		abort();
	for (uint32_t v = 1; v <= max; v++)
		if (seen[v] != 1)
			abort();
	free(seen);
	free(st);
}

static void
check_sort(const struct sort_rec *r, size_t n, const struct sort_keys *k)
{
	uint32_t order[N_MAX], back[N_MAX];
	struct sort_rec rev[N_MAX];
	uint8_t seen[N_MAX] = { 0 };
	if (sort_order(r, n, k, order) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (order[i] >= n || seen[order[i]]++)
			abort();
		if (i > 0) {
			int a = sort_compare(&r[order[i - 1]], &r[order[i]], k);
			int b = sort_compare(&r[order[i]], &r[order[i - 1]], k);
			if (a >= 0 || b <= 0)
				abort();
		}
	}
	/* the records' order in the array does not matter */
	for (size_t i = 0; i < n; i++)
		rev[i] = r[n - 1 - i];
	if (sort_order(rev, n, k, back) != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (rev[back[i]].seq != r[order[i]].seq)
			abort();
}

static void
check_thread(const struct sort_rec *r, size_t n, enum thread_alg alg, bool by_uid)
{
	struct buf a, b;
	buf_init(&a, 0);
	buf_init(&b, 0);
	if (thread_build(r, n, alg, by_uid, &a) != 0 || thread_build(r, n, alg, by_uid, &b) != 0)
		abort();
	if (a.len != b.len || (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
		abort();
	check_threads(a.data, a.len, (uint32_t)n, by_uid ? 7 : 1);
	buf_free(&a);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	const uint8_t *p = data + 1, *end = data + size;
	const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
	const uint8_t *crit = p;
	size_t crit_len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
	p = nl != NULL ? nl + 1 : end;

	struct sort_keys k;
	if (parse_crit(crit, crit_len, &k) != 0) {
		k.n = 2;
		k.k[0].key = SORT_SUBJECT;
		k.k[0].reverse = flags & 0x10;
		k.k[1].key = SORT_DISPLAYFROM;
		k.k[1].reverse = false;
	}

	struct sort_rec r[N_MAX];
	struct buf h;
	size_t n = 0;
	unsigned need = sort_need(&k) | thread_need(THREAD_REFERENCES);
	buf_init(&h, 0);
	while (p < end && n < N_MAX) {
		const uint8_t *ff = memchr(p, '\f', (size_t)(end - p));
		size_t len = ff != NULL ? (size_t)(ff - p) : (size_t)(end - p);
		buf_reset(&h);
		if (flags & 2)
			synthetic(&h, p, len);
		buf_append(&h, p, len);
		unsigned spread = (flags >> 2) & 3;
		struct sort_msg m = {
			.seq = (uint32_t)n + 1, .uid = (uint32_t)(n + 1) * 7,
			.internaldate = T0 + (int64_t)((n + (len ? p[0] : 0)) % (spread + 1)) * 60,
			.size = len, .header = h.data, .header_len = h.len,
		};
		sort_rec_make(&r[n++], &m, need);
		p = ff != NULL ? ff + 1 : end;
	}

	check_sort(r, n, &k);
	check_thread(r, n, THREAD_REFERENCES, flags & 1);
	check_thread(r, n, THREAD_ORDEREDSUBJECT, flags & 1);
	for (size_t i = 0; i < n; i++)
		sort_rec_free(&r[i]);

	/* the whole input as one Subject value */
	struct buf s;
	bool refwd;
	buf_init(&s, 0);
	if (sort_base_subject(&s, data, size, &refwd) != 0 || s.len > 3 * size)
		abort();
	buf_free(&s);
	buf_free(&h);
	return 0;
}

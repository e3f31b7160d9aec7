/*
 * fuzz/fuzz_imap_parse.c - libFuzzer harness for imap/parse.c (command
 * framing and parsing).
 *
 * Input:   byte 0 picks a set of limits (small ones reach every cap), byte
 *          1 seeds the piece sizes; the rest is what a client sends.
 * Checks:  the scanner gives the same decisions (CONT, DONE, BAD, BYE, at
 *          the same offsets, with the same tags and reasons) fed whole, one
 *          byte at a time (inputs up to 4 KiB) and in random pieces; end
 *          never passes the bytes offered; a BAD tag is "*" or a valid tag.
 *          Every DONE command is parsed from an exact-size copy (ASan sees
 *          reads past it): on success the tag matches the scanner's, the
 *          name is clean, every string lies in the command or the arena,
 *          quoted strings hold no CR/LF/NUL, {n} literals no NUL, lists
 *          nest at most depth_max and their raw text is "(...)", the arena
 *          keeps its bound; on failure no framing or limit error the
 *          scanner should have caught (the two layers agree on framing).
 *          The raw input is also parsed as one command, for robustness.
 * Seeds:   fuzz/corpus/imap_parse/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEPTH_CAP 128	/* the harness's own walk; limits below stay under it */

struct ev {
	enum imap_scan_r r;
	size_t off;		/* absolute: CONT position, DONE/BAD end */
	const char *why;
	char tag[IMAP_TAG_MAX + 1];
};

struct evs {
	struct ev *v;
	size_t n, cap;
};

static void
limits_for(uint8_t sel, struct imap_limits *lim)
{
	imap_limits_preauth(lim);
	switch (sel % 3) {
	case 0:
		lim->line_max = 128;
		lim->literal_max = 32;
		lim->lminus_max = 8;
		lim->literals_max = 48;
		lim->depth_max = 6;
		break;
	case 1:
		break;
	default:
		lim->line_max = 4096;
		lim->literal_max = SIZE_MAX;
		lim->lminus_max = SIZE_MAX;
		lim->literals_max = 1 << 20;
		lim->depth_max = 100;
		break;
	}
}

static void
push(struct evs *e, const struct imap_scan *st, enum imap_scan_r r, size_t off)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->v = realloc(e->v, e->cap * sizeof *e->v);
		if (e->v == NULL)
			abort();
	}
	struct ev *v = &e->v[e->n++];
	memset(v, 0, sizeof *v);
	v->r = r;
	v->off = off;
	v->why = r == IMAP_SCAN_BAD || r == IMAP_SCAN_BYE ? st->why : NULL;
	if (r == IMAP_SCAN_BAD)
		memcpy(v->tag, st->tag, sizeof v->tag);
}

static bool
valid_tag(const char *t)
{
	if (strcmp(t, "*") == 0)
		return true;
	if (*t == '\0')
		return false;
	for (; *t; t++)
		if (*t <= 0x20 || *t >= 0x7f || strchr("(){%*\"\\+", *t) != NULL)
			return false;
	return true;
}

/* Errors a command the scanner called DONE must never get from the parser:
 * the scanner owns framing and these limits. */
static bool
scanner_should_have_caught(const char *why)
{
	static const char *const framing[] = {
		"Missing CRLF", "Data after end of command", "Literal truncated",
		"Bare CR in command", "Bare LF in command", "NUL byte in command",
		"NUL byte in literal", "Command line too long", "[TOOBIG] Literal too large",
		"[TOOBIG] Literals too large for one command", "Literal size over 4294967295",
		"Missing tag", "Invalid tag", "Tag too long",
	};
	for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++)
		if (strcmp(why, framing[i]) == 0)
			return true;
	return false;
}

static bool
inside(const uint8_t *p, size_t n, const void *base, size_t size)
{
	const uint8_t *b = base;
	return base != NULL && p >= b && n <= size && (size_t)(p - b) <= size - n;
}

/* Walk the tree with an explicit stack and check every argument. */
static void
check_args(const struct imap_cmd *c, const uint8_t *cmd, size_t len,
    const struct imap_limits *lim)
{
	struct { const struct imap_arg *a; size_t n, i; } stk[DEPTH_CAP + 1];
	size_t d = 0, total = 0;

	stk[0].a = c->args;
	stk[0].n = c->n_args;
	stk[0].i = 0;
	for (;;) {
		if (stk[d].i == stk[d].n) {
			if (d == 0)
				break;
			d--;
			continue;
		}
		const struct imap_arg *a = &stk[d].a[stk[d].i++];
		total++;
		if (!inside((const uint8_t *)a, sizeof *a, c->mem, c->mem_size))
			abort();
		bool in_cmd = inside(a->p, a->len, cmd, len);
		switch (a->type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_NIL:
			/* printable; spaces only inside a BODY[...] section */
			if (!in_cmd || a->len == 0 || a->p[0] == ' ')
				abort();
			for (size_t i = 0; i < a->len; i++)
				if (a->p[i] < 0x20 || a->p[i] >= 0x7f)
					abort();
			break;
		case IMAP_ARG_QUOTED:
			if (!in_cmd && !inside(a->p, a->len, c->mem, c->mem_size))
				abort();
			if (a->len > 0 && (memchr(a->p, '\r', a->len) || memchr(a->p, '\n', a->len)
			    || memchr(a->p, 0, a->len)))
				abort();
			break;
		case IMAP_ARG_LITERAL:
			if (!in_cmd || (!a->binary && a->len > 0 && memchr(a->p, 0, a->len)))
				abort();
			if (a->len > lim->literal_max)
				abort();
			break;
		case IMAP_ARG_LIST:
			if (!in_cmd || a->len < 2 || a->p[0] != '(' || a->p[a->len - 1] != ')')
				abort();
			if (d + 1 > lim->depth_max || d + 1 > DEPTH_CAP)
				abort();
			if (a->n > 0 && !inside((const uint8_t *)a->list, a->n * sizeof *a,
			    c->mem, c->mem_size))
				abort();
			d++;
			stk[d].a = a->list;
			stk[d].n = a->n;
			stk[d].i = 0;
			break;
		default:
			abort();
		}
	}
	/* every argument costs two bytes of text; the arena its bound */
	if (total > len / 2 + 1 || c->mem_size > 21 * len)
		abort();
}

static void
check_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > IMAP_NAME_MAX)
		abort();
	for (size_t i = 0; i < len; i++) {
		char ch = n[i];
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'
		    || ch == '_' || ch == '.' || (ch == ' ' && i == 3 && memcmp(n, "UID", 3) == 0);
		if (!ok)
			abort();
	}
}

/* Parse one command from an exact-size copy; scan_tag is set when the
 * scanner framed it (DONE) and is then the tag it saw. */
static void
parse_one(const uint8_t *p, size_t len, const struct imap_limits *lim, const char *scan_tag)
{
	uint8_t *cmd = malloc(len ? len : 1);
	if (cmd == NULL)
		abort();
	memcpy(cmd, p, len);
	struct imap_cmd c;
	const char *why = NULL;
	int rc = imap_parse(cmd, len, lim, &c, &why);
	if (!valid_tag(c.tag) || (scan_tag != NULL && strcmp(c.tag, scan_tag) != 0))
		abort();
	if (rc == 0) {
		if (why != NULL || strcmp(c.tag, "*") == 0)
			abort();
		check_name(c.name);
		check_args(&c, cmd, len, lim);
	} else {
		if (rc != -1 || why == NULL || c.mem != NULL || c.args != NULL || c.n_args != 0)
			abort();
		if (scan_tag != NULL && scanner_should_have_caught(why))
			abort();
	}
	imap_cmd_free(&c);
	free(cmd);
}

static uint32_t
rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Run the scanner over in[0..len) as a session would, offering bytes in
 * pieces: mode 0 whole, 1 one byte at a time, 2 random pieces of 1..16.
 * With parse set, every DONE command is parsed and checked.
 */
static void
run(const uint8_t *in, size_t len, const struct imap_limits *lim, int mode, uint32_t seed,
    bool parse, struct evs *out)
{
	struct imap_scan st;
	size_t base = 0, avail = mode == 0 ? len : 0;

	seed |= 1;
	imap_scan_init(&st);
	for (;;) {
		enum imap_scan_r r = imap_scan(&st, in + base, avail - base, lim);
		if (r == IMAP_SCAN_CONT) {
			if (st.pos > avail - base)
				abort();
			push(out, &st, r, base + st.pos);
			continue;
		}
		if (r == IMAP_SCAN_MORE) {
			if (avail == len)
				return;
			avail += mode == 1 ? 1 : 1 + rng_next(&seed) % 16;
			if (avail > len)
				avail = len;
			continue;
		}
		if (r == IMAP_SCAN_BYE) {
			if (st.why == NULL)
				abort();
			push(out, &st, r, 0);
			return;
		}
		if (st.end == 0 || st.end > avail - base || !valid_tag(st.tag))
			abort();
		if (r == IMAP_SCAN_BAD && st.why == NULL)
			abort();
		if (imap_scan(&st, in + base, avail - base, lim) != r)
			abort();
		if (r == IMAP_SCAN_DONE && parse) {
			/* a DONE's tag as the scanner saw it: valid, or "*" only when
			 * the scanner would have said BAD */
			if (strcmp(st.tag, "*") == 0)
				abort();
			parse_one(in + base, st.end, lim, st.tag);
		}
		base += st.end;
		push(out, &st, r, base);
		imap_scan_init(&st);
	}
}

static void
same(const struct evs *a, const struct evs *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		const struct ev *x = &a->v[i], *y = &b->v[i];
		if (x->r != y->r || x->off != y->off || x->why != y->why
		    || strcmp(x->tag, y->tag) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct imap_limits lim;
	limits_for(data[0], &lim);
	uint32_t seed = data[1] * 2654435761u;
	const uint8_t *in = data + 2;
	size_t len = size - 2;

	struct evs whole = { 0 }, other = { 0 };
	run(in, len, &lim, 0, seed, true, &whole);
	if (len <= 4096) {
		run(in, len, &lim, 1, seed, false, &other);
		same(&whole, &other);
		other.n = 0;
	}
	run(in, len, &lim, 2, seed, false, &other);
	same(&whole, &other);
	free(whole.v);
	free(other.v);

	parse_one(in, len, &lim, NULL);
	return 0;
}

/*
 * tests/unit/test_imap_parse.c - IMAP command framing and parsing
 * (imap/parse.c).
 *
 * Scanner cases: every input is fed whole, one byte at a time, split in
 * two at every position, and in pseudo-random pieces; every run must give
 * the same trace of decisions (CONT, DONE, BAD, BYE with absolute offsets,
 * tags and reasons), pipelined commands included.  Parser cases: the
 * command is rendered back as text ("tag|NAME|args") or as "BAD tag why";
 * every parsed case must also be framed by the scanner as exactly one
 * command (and framed the same in pieces), and its arena must stay within
 * the documented bound.  Then the
 * edges: line_max exactly and one more, nesting 100 and 101, 2^32-1 and
 * 2^32, and two inputs that would be quadratic in a careless scanner or
 * parser.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "core/util.h"
#include "imap/parse.h"

/* Pointer and length of a literal, NULs included. */
#define S(s) (s), sizeof(s) - 1

/* ---- deterministic PRNG (splitmix64) ---------------------------------- */

static uint64_t rng_state = 0x1a4b0c0ffee;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- limits ------------------------------------------------------------ */

enum lim_kind { L_STD, L_SMALL, L_BIG, L_LPLUS };

static struct imap_limits
limits(enum lim_kind k)
{
	struct imap_limits l;
	imap_limits_preauth(&l);
	switch (k) {
	case L_STD:
		break;
	case L_SMALL:		/* to reach every cap with short inputs */
		l.line_max = 64;
		l.literal_max = 32;
		l.lminus_max = 8;
		l.literals_max = 48;
		l.depth_max = 4;
		break;
	case L_BIG:		/* nothing but the 2^32-1 rule limits literals */
		l.line_max = 1 << 22;
		l.literal_max = SIZE_MAX;
		l.lminus_max = SIZE_MAX;
		l.literals_max = SIZE_MAX;
		break;
	case L_LPLUS:		/* LITERAL+ after login, 64 KiB APPENDLIMIT */
		l.line_max = 2 << 20;
		l.literal_max = 65536;
		l.lminus_max = SIZE_MAX;
		l.literals_max = 4 * 65536;
		break;
	}
	return l;
}

/* ---- running the scanner ----------------------------------------------- */

/*
 * Feed in[0..len) in pieces (cuts[] are the cumulative lengths offered,
 * ending with len) and write the decisions to trace: "CONT n", "DONE n",
 * "BAD n [tag] why", "BYE why", separated by "; ", and "MORE" when input
 * ran out mid-command.  Offsets are absolute in the input.  After DONE and
 * BAD the command is dropped and the scanner restarts, as a session would.
 */
static void
scan_trace(const char *in, size_t len, const struct imap_limits *lim, const size_t *cuts,
    size_t n_cuts, char *trace, size_t tsz)
{
	struct imap_scan st;
	size_t base = 0, avail = 0, ci = 0, used = 0;
	const uint8_t *u = (const uint8_t *)in;

	trace[0] = '\0';
#define EMIT(...) do { \
		int k_ = snprintf(trace + used, tsz - used, "%s", used ? "; " : ""); \
		used += (size_t)k_; \
		k_ = snprintf(trace + used, tsz - used, __VA_ARGS__); \
		used += (size_t)k_; \
		if (used >= tsz) used = tsz - 1; \
	} while (0)

	imap_scan_init(&st);
	for (;;) {
		enum imap_scan_r r = imap_scan(&st, u + base, avail - base, lim);
		if (r == IMAP_SCAN_CONT) {
			EMIT("CONT %zu", base + st.pos);
			continue;
		}
		if (r == IMAP_SCAN_MORE) {
			if (ci == n_cuts) {
				if (avail > base)
					EMIT("MORE");
				return;
			}
			avail = cuts[ci++];
			continue;
		}
		if (r == IMAP_SCAN_BYE) {
			EMIT("BYE %s", st.why);
			return;
		}
		/* the same answer again until the caller restarts */
		if (imap_scan(&st, u + base, avail - base, lim) != r)
			EMIT("NOT IDEMPOTENT");
		if (st.end == 0 || st.end > avail - base)
			EMIT("BAD END");
		base += st.end;
		if (r == IMAP_SCAN_DONE)
			EMIT("DONE %zu", base);
		else
			EMIT("BAD %zu [%s] %s", base, st.tag, st.why);
		imap_scan_init(&st);
	}
#undef EMIT
}

/* Whole, byte by byte, every two-piece split, random pieces: one trace. */
static void
check_scan(const char *name, const char *in, size_t len, enum lim_kind lk, const char *want)
{
	struct imap_limits lim = limits(lk);
	char whole[1024], other[1024];
	size_t *cuts = xcalloc(len + 1, sizeof *cuts);

	cuts[0] = len;
	scan_trace(in, len, &lim, cuts, 1, whole, sizeof whole);
	if (strcmp(whole, want) != 0) {
		fprintf(stderr, "%s: whole: \"%s\", expected \"%s\"\n", name, whole, want);
		t_cur_failed = 1;
	}
	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	scan_trace(in, len, &lim, cuts, len, other, sizeof other);
	if (strcmp(other, whole) != 0) {
		fprintf(stderr, "%s: bytewise: \"%s\" != whole \"%s\"\n", name, other, whole);
		t_cur_failed = 1;
	}
	for (size_t cut = 1; cut < len; cut++) {
		size_t two[2] = { cut, len };
		scan_trace(in, len, &lim, two, 2, other, sizeof other);
		if (strcmp(other, whole) != 0) {
			fprintf(stderr, "%s: split %zu: \"%s\" != \"%s\"\n", name, cut, other,
			    whole);
			t_cur_failed = 1;
		}
	}
	for (int round = 0; round < 8; round++) {
		size_t n = 0, at = 0;
		while (at < len) {
			at += 1 + (size_t)(rng() % 7);
			cuts[n++] = at < len ? at : len;
		}
		scan_trace(in, len, &lim, cuts, n, other, sizeof other);
		if (strcmp(other, whole) != 0) {
			fprintf(stderr, "%s: random: \"%s\" != \"%s\"\n", name, other, whole);
			t_cur_failed = 1;
		}
	}
	free(cuts);
}

struct scan_case {
	const char *name;
	const char *in;
	size_t len;
	enum lim_kind lim;
	const char *want;
};

static const struct scan_case scan_cases[] = {
	{ "simple", S("A1 NOOP\r\n"), L_STD, "DONE 9" },
	{ "pipelined", S("A1 NOOP\r\nA2 CAPABILITY\r\na3 logout\r\n"), L_STD,
	  "DONE 9; DONE 24; DONE 35" },
	{ "partial", S("A1 NOO"), L_STD, "MORE" },
	{ "pending_cr", S("A1 NOOP\r"), L_STD, "MORE" },
	{ "after_done_partial", S("A1 NOOP\r\nA2"), L_STD, "DONE 9; MORE" },
	{ "sync_literals", S("A1 LOGIN {3}\r\nbob {6}\r\nsecret\r\n"), L_STD,
	  "CONT 14; CONT 23; DONE 31" },
	{ "sync_literal_waiting", S("A1 LOGIN {3}\r\nbo"), L_STD, "CONT 14; MORE" },
	{ "nonsync_literals", S("A1 LOGIN {3+}\r\nbob {6+}\r\nsecret\r\n"), L_STD,
	  "DONE 33" },
	{ "literal8_nul", S("A1 APPEND INBOX ~{5}\r\na\0b\0c\r\n"), L_STD,
	  "CONT 22; DONE 29" },
	{ "literal8_nonsync", S("A1 APPEND INBOX ~{3+}\r\n\0\0\0\r\n"), L_STD, "DONE 28" },
	{ "literal_nul_bad", S("A1 APPEND INBOX {5}\r\na\0b\0c\r\nA2 NOOP\r\n"), L_STD,
	  "CONT 21; BAD 28 [A1] NUL byte in literal; DONE 37" },
	{ "literal_holds_crlf_and_brace", S("A1 X {5}\r\n{3}\r\n\r\n"), L_STD,
	  "CONT 10; DONE 17" },
	{ "literal_zero_sync", S("A1 X {0}\r\n\r\n"), L_STD, "CONT 10; DONE 12" },
	{ "literal_zero_nonsync", S("A1 X {0+}\r\n\r\n"), L_STD, "DONE 13" },
	{ "literal_leading_zeros", S("A1 X {0003}\r\nabc\r\n"), L_STD, "CONT 13; DONE 18" },
	{ "sync_too_big_no_cont", S("A1 APPEND x {33}\r\nA2 NOOP\r\n"), L_SMALL,
	  "BAD 18 [A1] [TOOBIG] Literal too large; DONE 27" },
	{ "sync_at_limit", S("A1 APPEND x {32}\r\n"), L_SMALL, "CONT 18; MORE" },
	{ "nonsync_over_lminus_bye", S("A1 LOGIN {9+}\r\n123456789\r\n"), L_SMALL,
	  "BYE [TOOBIG] Non-synchronizing literal too large" },
	{ "nonsync_at_lminus", S("A1 LOGIN {8+}\r\n12345678\r\n"), L_SMALL, "DONE 25" },
	{ "nonsync_over_literal_max_bye", S("A1 APPEND x {65537+}\r\n"), L_LPLUS,
	  "BYE [TOOBIG] Non-synchronizing literal too large" },
	{ "literals_total_bad", S("A1 X {30}\r\n012345678901234567890123456789 {30}\r\n"),
	  L_SMALL, "CONT 11; BAD 48 [A1] [TOOBIG] Literals too large for one command" },
	{ "number_2p32m1_cont", S("A1 APPEND x {4294967295}\r\n"), L_BIG, "CONT 26; MORE" },
	{ "number_2p32_bad", S("A1 APPEND x {4294967296}\r\nA2 NOOP\r\n"), L_BIG,
	  "BAD 26 [A1] Literal size over 4294967295; DONE 35" },
	{ "number_huge_bad", S("A1 X {99999999999999999999999}\r\n"), L_BIG,
	  "BAD 32 [A1] Literal size over 4294967295" },
	{ "number_2p32_nonsync_bye", S("A1 X {4294967296+}\r\n"), L_BIG,
	  "BYE [TOOBIG] Non-synchronizing literal too large" },
	{ "nul_in_text", S("A1 NO\0OP\r\nA2 NOOP\r\n"), L_STD,
	  "BAD 10 [A1] NUL byte in command; DONE 19" },
	{ "bare_lf_not_end", S("A1 NOOP\nA2 NOOP\r\n"), L_STD,
	  "BAD 17 [A1] Bare LF in command" },
	{ "bare_cr_not_end", S("A1 NO\rOP\r\n"), L_STD, "BAD 10 [A1] Bare CR in command" },
	{ "cr_cr_lf", S("A1 NOOP\r\r\n"), L_STD, "BAD 10 [A1] Bare CR in command" },
	{ "bare_cr_breaks_announcement", S("A1 X {3}\rx\r\nabc\r\n"), L_STD,
	  "BAD 12 [A1] Bare CR in command; DONE 17" },
	{ "bare_lf_after_announcement", S("A1 X {3}\nabc\r\n"), L_STD,
	  "BAD 14 [A1] Bare LF in command" },
	{ "not_announcements", S("A1 X {3}x\r\nA2 X {}\r\nA3 X {+}\r\nA4 X {3++}\r\n"
	  "A5 X 3}\r\n"), L_STD, "DONE 11; DONE 20; DONE 30; DONE 42; DONE 51" },
	{ "empty_tag", S(" NOOP\r\n"), L_STD, "BAD 7 [*] Missing tag" },
	{ "empty_line", S("\r\nA1 NOOP\r\n"), L_STD, "BAD 2 [*] Missing tag; DONE 11" },
	{ "tag_plus", S("+ NOOP\r\n"), L_STD, "BAD 8 [*] Invalid tag" },
	{ "tag_star", S("* NOOP\r\n"), L_STD, "BAD 8 [*] Invalid tag" },
	{ "tag_paren", S("A( NOOP\r\n"), L_STD, "BAD 9 [*] Invalid tag" },
	{ "tag_quote", S("A\" NOOP\r\n"), L_STD, "BAD 9 [*] Invalid tag" },
	{ "tag_percent", S("A% NOOP\r\n"), L_STD, "BAD 9 [*] Invalid tag" },
	{ "tag_brace", S("A{ NOOP\r\n"), L_STD, "BAD 9 [*] Invalid tag" },
	{ "tag_plus_inside", S("A+1 NOOP\r\n"), L_STD, "BAD 10 [*] Invalid tag" },
	{ "tag_8bit", S("\xc3\xa9 NOOP\r\n"), L_STD, "BAD 9 [*] Invalid tag" },
	{ "tag_bracket_ok", S("A] NOOP\r\n"), L_STD, "DONE 9" },
	{ "tag_only", S("A1\r\n"), L_STD, "DONE 4" },
	{ "tag_64", S("0123456789012345678901234567890123456789012345678901234567890123 N\r\n"),
	  L_STD, "DONE 68" },
	{ "tag_65", S("01234567890123456789012345678901234567890123456789012345678901234 N\r\n"),
	  L_STD, "BAD 69 [*] Tag too long" },
	{ "bad_tag_refuses_sync_literal", S("+ X {3}\r\nabc\r\n"), L_STD,
	  "BAD 9 [*] Invalid tag; DONE 14" },
	{ "bad_tag_skips_nonsync_literal", S("+ X {3+}\r\nabc\r\nA2 NOOP\r\n"), L_STD,
	  "BAD 15 [*] Invalid tag; DONE 24" },
	{ "error_before_sync_literal", S("A1 X \0 {3}\r\nA2 NOOP\r\n"), L_STD,
	  "BAD 12 [A1] NUL byte in command; DONE 21" },
	{ "line_max_bye_midline",
	  S("A1 X 0123456789012345678901234567890123456789012345678901234567890"),
	  L_SMALL, "BYE Command line too long" },
	{ "line_max_counts_text_not_literals",
	  S("A1 X {30}\r\n012345678901234567890123456789 0123456789012345678901234567\r\n"),
	  L_SMALL, "CONT 11; DONE 72" },
	{ "line_max_counts_all_lines",
	  S("A1 X {1+}\r\na 012345678901234567890123456789012345678901234567890\r\n"),
	  L_SMALL, "BYE Command line too long" },
	{ "tilde_then_text", S("A1 X ~a{3}\r\nabc\r\n"), L_STD, "CONT 12; DONE 17" },
	{ "pipelined_after_nonsync", S("A1 X {2+}\r\nab\r\nA2 X {1+}\r\nc\r\n"), L_STD,
	  "DONE 15; DONE 29" },
};

T(test_scan_table)
{
	for (size_t i = 0; i < NELEM(scan_cases); i++) {
		const struct scan_case *c = &scan_cases[i];
		check_scan(c->name, c->in, c->len, c->lim, c->want);
	}
	CHECK(NELEM(scan_cases) >= 40);
}

/* ---- rendering a parsed command ---------------------------------------- */

static void
put_bytes(char *out, size_t osz, size_t *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && *o + 5 < osz; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f)
			out[(*o)++] = (char)p[i];
		else
			*o += (size_t)snprintf(out + *o, osz - *o, "\\x%02x", p[i]);
	}
	out[*o] = '\0';
}

static void
put_str(char *out, size_t osz, size_t *o, const char *s)
{
	put_bytes(out, osz, o, (const uint8_t *)s, strlen(s));
}

/* Arguments as text, with an explicit stack (like the parser). */
static void
render_args(const struct imap_arg *args, size_t n, char *out, size_t osz, size_t *o)
{
	struct { const struct imap_arg *a; size_t n, i; } stk[128];
	size_t d = 0;

	stk[0].a = args;
	stk[0].n = n;
	stk[0].i = 0;
	for (;;) {
		if (stk[d].i == stk[d].n) {
			if (d == 0)
				return;
			put_str(out, osz, o, ")");
			d--;
			continue;
		}
		const struct imap_arg *a = &stk[d].a[stk[d].i++];
		if (stk[d].i > 1)
			put_str(out, osz, o, " ");
		char num[32];
		switch (a->type) {
		case IMAP_ARG_ATOM:
			put_bytes(out, osz, o, a->p, a->len);
			break;
		case IMAP_ARG_NIL:
			put_str(out, osz, o, "NIL");
			break;
		case IMAP_ARG_QUOTED:
			put_str(out, osz, o, "\"");
			put_bytes(out, osz, o, a->p, a->len);
			put_str(out, osz, o, "\"");
			break;
		case IMAP_ARG_LITERAL:
			snprintf(num, sizeof num, "%s{%zu}", a->binary ? "~" : "", a->len);
			put_str(out, osz, o, num);
			put_bytes(out, osz, o, a->p, a->len);
			break;
		case IMAP_ARG_LIST:
			put_str(out, osz, o, "(");
			if (d + 1 < NELEM(stk)) {
				d++;
				stk[d].a = a->list;
				stk[d].n = a->n;
				stk[d].i = 0;
			}
			break;
		}
	}
}

/* Parse and render: "tag|NAME|args" or "BAD tag why". */
static void
render(const char *in, size_t len, const struct imap_limits *lim, char *out, size_t osz,
    size_t *mem)
{
	struct imap_cmd c;
	const char *why;
	size_t o = 0;
	/* an exact-size copy, so ASan sees any read past the command */
	uint8_t *buf = xmalloc(len ? len : 1);
	memcpy(buf, in, len);

	out[0] = '\0';
	if (imap_parse(buf, len, lim, &c, &why) != 0) {
		snprintf(out, osz, "BAD %s %s", c.tag, why);
		if (c.mem != NULL || c.args != NULL)
			snprintf(out, osz, "BAD WITH ARENA");
	} else {
		put_str(out, osz, &o, c.tag);
		put_str(out, osz, &o, "|");
		put_str(out, osz, &o, c.name);
		put_str(out, osz, &o, "|");
		render_args(c.args, c.n_args, out, osz, &o);
	}
	*mem = c.mem_size;
	imap_cmd_free(&c);
	free(buf);
}

struct parse_case {
	const char *name;
	const char *in;
	size_t len;
	enum lim_kind lim;
	const char *want;
};

static const struct parse_case parse_cases[] = {
	{ "noop", S("A1 NOOP\r\n"), L_STD, "A1|NOOP|" },
	{ "name_uppercased", S("a1 noop\r\n"), L_STD, "a1|NOOP|" },
	{ "login_atoms", S("A1 LOGIN bob secret\r\n"), L_STD, "A1|LOGIN|bob secret" },
	{ "login_quoted", S("A1 LOGIN \"bob\" \"se cret\"\r\n"), L_STD,
	  "A1|LOGIN|\"bob\" \"se cret\"" },
	{ "quoted_escapes", S("A1 LOGIN \"a\\\\b\" \"q\\\"x\"\r\n"), L_STD,
	  "A1|LOGIN|\"a\\b\" \"q\"x\"" },
	{ "quoted_empty", S("A1 LIST \"\" \"\"\r\n"), L_STD, "A1|LIST|\"\" \"\"" },
	{ "quoted_bad_escape", S("A1 LOGIN \"a\\x\" b\r\n"), L_STD,
	  "BAD A1 Invalid escape in quoted string" },
	{ "quoted_unterminated", S("A1 LOGIN \"abc\r\n"), L_STD,
	  "BAD A1 Unterminated quoted string" },
	{ "quoted_utf8", S("A1 SELECT \"Gr\xc3\xbc\xc3\x9f\x65\"\r\n"), L_STD,
	  "A1|SELECT|\"Gr\\xc3\\xbc\\xc3\\x9fe\"" },
	{ "quoted_bad_utf8", S("A1 SELECT \"a\xc3(\"\r\n"), L_STD,
	  "BAD A1 Invalid UTF-8 in quoted string" },
	{ "quoted_overlong_utf8", S("A1 SELECT \"\xc0\xaf\"\r\n"), L_STD,
	  "BAD A1 Invalid UTF-8 in quoted string" },
	{ "quoted_tab_ok", S("A1 X \"a\tb\"\r\n"), L_STD, "A1|X|\"a\\x09b\"" },
	{ "sync_literals", S("A1 LOGIN {3}\r\nbob {6}\r\nsecret\r\n"), L_STD,
	  "A1|LOGIN|{3}bob {6}secret" },
	{ "nonsync_literal", S("A1 LOGIN {3+}\r\nbob pw\r\n"), L_STD, "A1|LOGIN|{3}bob pw" },
	{ "literal8_nul", S("A1 APPEND INBOX ~{3}\r\na\0b\r\n"), L_STD,
	  "A1|APPEND|INBOX ~{3}a\\x00b" },
	{ "literal_in_list", S("A1 X ({2}\r\nab {0}\r\n)\r\n"), L_STD, "A1|X|({2}ab {0})" },
	{ "literal_crlf_inside", S("A1 X {4}\r\n\r\n\r\n\r\n"), L_STD,
	  "A1|X|{4}\\x0d\\x0a\\x0d\\x0a" },
	{ "append", S("A1 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {5}\r\n"
	  "hello\r\n"), L_STD,
	  "A1|APPEND|INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {5}hello" },
	{ "nil_any_case", S("A1 X NIL nil Nil NILL \"NIL\"\r\n"), L_STD,
	  "A1|X|NIL NIL NIL NILL \"NIL\"" },
	{ "fetch_header_fields", S("A1 FETCH 1:*,5,7:9 (FLAGS BODY[HEADER.FIELDS (FROM TO)]"
	  "<0.2048>)\r\n"), L_STD,
	  "A1|FETCH|1:*,5,7:9 (FLAGS BODY[HEADER.FIELDS (FROM TO)]<0.2048>)" },
	{ "fetch_body_peek_mime", S("A1 FETCH 2 BODY.PEEK[1.2.MIME]\r\n"), L_STD,
	  "A1|FETCH|2 BODY.PEEK[1.2.MIME]" },
	{ "fetch_peek_fields_not", S("A1 FETCH 2 body.peek[HEADER.FIELDS.NOT (X-A X-B)]\r\n"),
	  L_STD, "A1|FETCH|2 body.peek[HEADER.FIELDS.NOT (X-A X-B)]" },
	{ "fetch_binary_partial", S("A1 FETCH 3 (BINARY[1]<0.100> BINARY.PEEK[2] "
	  "BINARY.SIZE[1])\r\n"), L_STD,
	  "A1|FETCH|3 (BINARY[1]<0.100> BINARY.PEEK[2] BINARY.SIZE[1])" },
	{ "fetch_body_empty_section", S("A1 FETCH 1 BODY[]\r\n"), L_STD, "A1|FETCH|1 BODY[]" },
	{ "fetch_section_unclosed", S("A1 FETCH 1 (BODY[TEXT)\r\n"), L_STD,
	  "A1|FETCH|1 (BODY[TEXT)" },
	{ "fetch_section_literal", S("A1 FETCH 1 BODY[HEADER.FIELDS ({4}\r\nFROM)]\r\n"),
	  L_STD, "BAD A1 Expected space" },
	{ "search_dollar", S("A1 SEARCH $\r\n"), L_STD, "A1|SEARCH|$" },
	{ "fetch_star", S("A1 FETCH * FLAGS\r\n"), L_STD, "A1|FETCH|* FLAGS" },
	{ "search_charset_literal", S("A1 SEARCH CHARSET UTF-8 SUBJECT {4+}\r\n\xc3\xa4\xc3\xb6"
	  "\r\n"), L_STD, "A1|SEARCH|CHARSET UTF-8 SUBJECT {4}\\xc3\\xa4\\xc3\\xb6" },
	{ "store_flags", S("A1 STORE 1 +FLAGS.SILENT (\\Seen \\Deleted $Junk)\r\n"), L_STD,
	  "A1|STORE|1 +FLAGS.SILENT (\\Seen \\Deleted $Junk)" },
	{ "uid_fetch", S("A1 UID FETCH 1:* (UID FLAGS)\r\n"), L_STD,
	  "A1|UID FETCH|1:* (UID FLAGS)" },
	{ "uid_lowercase", S("A1 uid expunge 4:7\r\n"), L_STD, "A1|UID EXPUNGE|4:7" },
	{ "uid_alone", S("A1 UID\r\n"), L_STD, "A1|UID|" },
	{ "uid_not_a_name", S("A1 UID 1:2\r\n"), L_STD, "A1|UID|1:2" },
	{ "uid_quoted_stays", S("A1 UID \"FETCH\"\r\n"), L_STD, "A1|UID|\"FETCH\"" },
	{ "list_wildcards", S("A1 LIST \"\" %/foo*\r\n"), L_STD, "A1|LIST|\"\" %/foo*" },
	{ "list_gmail", S("A1 LIST \"\" [Gmail]/*\r\n"), L_STD, "A1|LIST|\"\" [Gmail]/*" },
	{ "rename_brackets_two_atoms", S("A1 RENAME a[ b]\r\n"), L_STD, "A1|RENAME|a[ b]" },
	{ "nested_and_empty_lists", S("A1 X () (()) (a (b (c)))\r\n"), L_STD,
	  "A1|X|() (()) (a (b (c)))" },
	{ "tilde_atom", S("A1 X ~foo ~\r\n"), L_STD, "A1|X|~foo ~" },
	{ "tag_bracket", S("A] NOOP\r\n"), L_STD, "A]|NOOP|" },
	{ "x_command", S("A1 X-FOO.bar_1 a\r\n"), L_STD, "A1|X-FOO.BAR_1|a" },
	/* errors */
	{ "missing_tag", S(" NOOP\r\n"), L_STD, "BAD * Missing tag" },
	{ "empty_line", S("\r\n"), L_STD, "BAD * Missing tag" },
	{ "tag_plus", S("+ NOOP\r\n"), L_STD, "BAD * Invalid tag" },
	{ "tag_star", S("* NOOP\r\n"), L_STD, "BAD * Invalid tag" },
	{ "tag_paren", S("( NOOP\r\n"), L_STD, "BAD * Invalid tag" },
	{ "tag_quote", S("\"a NOOP\r\n"), L_STD, "BAD * Invalid tag" },
	{ "tag_percent", S("%a NOOP\r\n"), L_STD, "BAD * Invalid tag" },
	{ "tag_brace", S("a{ NOOP\r\n"), L_STD, "BAD * Invalid tag" },
	{ "tag_backslash", S("a\\b NOOP\r\n"), L_STD, "BAD * Invalid tag" },
	{ "tag_too_long", S("01234567890123456789012345678901234567890123456789012345678901234"
	  " N\r\n"), L_STD, "BAD * Tag too long" },
	{ "missing_command", S("A1\r\n"), L_STD, "BAD A1 Missing command" },
	{ "missing_command_space", S("A1 \r\n"), L_STD, "BAD A1 Missing command" },
	{ "double_space_after_tag", S("A1  NOOP\r\n"), L_STD, "BAD A1 Unexpected space" },
	{ "command_invalid", S("A1 FE*TCH\r\n"), L_STD, "BAD A1 Invalid command name" },
	{ "command_paren", S("A1 (X)\r\n"), L_STD, "BAD A1 Invalid command name" },
	{ "command_too_long", S("A1 ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG\r\n"), L_STD,
	  "BAD A1 Command name too long" },
	{ "command_32", S("A1 ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF\r\n"), L_STD,
	  "A1|ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF|" },
	{ "double_space", S("A1 X a  b\r\n"), L_STD, "BAD A1 Unexpected space" },
	{ "trailing_space", S("A1 NOOP \r\n"), L_STD, "BAD A1 Missing argument" },
	{ "space_after_open", S("A1 X ( a)\r\n"), L_STD, "BAD A1 Unexpected space" },
	{ "space_before_close", S("A1 X (a )\r\n"), L_STD, "BAD A1 Missing argument" },
	{ "close_at_top", S("A1 X a)\r\n"), L_STD, "BAD A1 Unexpected )" },
	{ "unclosed", S("A1 X (a (b)\r\n"), L_STD, "BAD A1 Unclosed (" },
	{ "lists_touching", S("A1 X (a)(b)\r\n"), L_STD, "BAD A1 Expected space" },
	{ "quoted_touching", S("A1 X \"a\"\"b\"\r\n"), L_STD, "BAD A1 Expected space" },
	{ "literal_after_atom", S("A1 X a{1}\r\nb\r\n"), L_STD, "BAD A1 Expected space" },
	{ "nul_in_atom", S("A1 X a\0b\r\n"), L_STD, "BAD A1 NUL byte in command" },
	{ "eight_bit_atom", S("A1 X \xc3\xa9\r\n"), L_STD,
	  "BAD A1 8-bit character outside a string" },
	{ "nul_in_quoted", S("A1 X \"a\0b\"\r\n"), L_STD, "BAD A1 NUL byte in command" },
	{ "nul_in_literal", S("A1 X {3}\r\na\0b\r\n"), L_STD, "BAD A1 NUL byte in literal" },
	{ "literal_truncated", S("A1 X {5}\r\nab"), L_STD, "BAD A1 Literal truncated" },
	{ "literal_no_crlf", S("A1 X {3}abc\r\n"), L_STD, "BAD A1 Invalid literal" },
	{ "literal_no_digits", S("A1 X {}\r\n"), L_STD, "BAD A1 Invalid literal" },
	{ "literal_bad_digits", S("A1 X {3x}\r\nabc\r\n"), L_STD, "BAD A1 Invalid literal" },
	{ "literal_too_large", S("A1 X {33}\r\n012345678901234567890123456789012\r\n"),
	  L_SMALL, "BAD A1 [TOOBIG] Literal too large" },
	{ "literal_nonsync_over_lminus", S("A1 X {9+}\r\n012345678\r\n"), L_SMALL,
	  "BAD A1 [TOOBIG] Literal too large" },
	{ "literals_total", S("A1 X {30}\r\n012345678901234567890123456789 {30}\r\n"
	  "012345678901234567890123456789\r\n"), L_SMALL,
	  "BAD A1 [TOOBIG] Literals too large for one command" },
	{ "number_2p32", S("A1 X {4294967296}\r\n"), L_BIG,
	  "BAD A1 Literal size over 4294967295" },
	{ "data_after_end", S("A1 NOOP\r\nA2 NOOP\r\n"), L_STD,
	  "BAD A1 Data after end of command" },
	{ "missing_crlf", S("A1 NOOP"), L_STD, "BAD A1 Missing CRLF" },
	{ "missing_crlf_in_tag", S("A1"), L_STD, "BAD * Missing CRLF" },
	{ "empty_input", S(""), L_STD, "BAD * Missing CRLF" },
	{ "bare_lf", S("A1 NOOP\n"), L_STD, "BAD A1 Bare LF in command" },
	{ "bare_cr", S("A1 X a\rb\r\n"), L_STD, "BAD A1 Bare CR in command" },
	{ "depth_small", S("A1 X ((((a))))\r\n"), L_SMALL, "A1|X|((((a))))" },
	{ "depth_small_over", S("A1 X (((((a)))))\r\n"), L_SMALL,
	  "BAD A1 Lists nested too deeply" },
};

/* What the scanner makes of a whole input: the parser's cases must be
 * framed as exactly one command (or refused as the parser refuses). */
static const char *
scan_whole(const char *in, size_t len, const struct imap_limits *lim, size_t *end)
{
	struct imap_scan st;
	enum imap_scan_r r;

	imap_scan_init(&st);
	while ((r = imap_scan(&st, (const uint8_t *)in, len, lim)) == IMAP_SCAN_CONT)
		;
	*end = st.end;
	return r == IMAP_SCAN_DONE ? "DONE" : r == IMAP_SCAN_BAD ? "BAD"
	    : r == IMAP_SCAN_BYE ? "BYE" : "MORE";
}

T(test_parse_table)
{
	char out[1024];
	size_t mem;

	for (size_t i = 0; i < NELEM(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct imap_limits lim = limits(c->lim);
		render(c->in, c->len, &lim, out, sizeof out, &mem);
		if (strcmp(out, c->want) != 0) {
			fprintf(stderr, "%s: \"%s\", expected \"%s\"\n", c->name, out, c->want);
			t_cur_failed = 1;
		}
		/* the documented arena bound */
		if (mem > 21 * c->len) {
			fprintf(stderr, "%s: arena %zu for %zu bytes\n", c->name, mem, c->len);
			t_cur_failed = 1;
		}
		/* the scanner's decisions on it do not depend on how it arrives */
		char whole[1024];
		size_t cut = c->len;
		scan_trace(c->in, c->len, &lim, &cut, 1, whole, sizeof whole);
		check_scan(c->name, c->in, c->len, c->lim, whole);
		/* an accepted command is one command to the scanner too */
		size_t end;
		const char *r = scan_whole(c->in, c->len, &lim, &end);
		if (strncmp(out, "BAD", 3) != 0 && (strcmp(r, "DONE") != 0 || end != c->len)) {
			fprintf(stderr, "%s: scanner says %s at %zu\n", c->name, r, end);
			t_cur_failed = 1;
		}
	}
	CHECK(NELEM(parse_cases) >= 60);
}

/* The quoted copy lives in the arena, unescaped; without escapes the
 * string points into the command. */
T(test_parse_pointers)
{
	static const char in[] = "A1 LOGIN \"a\\\"b\" \"plain\" {2}\r\nxy atom\r\n";
	struct imap_limits lim = limits(L_STD);
	struct imap_cmd c;
	const char *why;
	const uint8_t *u = (const uint8_t *)in;

	CHECK_INT(imap_parse(u, sizeof in - 1, &lim, &c, &why), 0);
	CHECK_INT(c.n_args, 4);
	if (c.n_args == 4) {
		CHECK(c.args[0].type == IMAP_ARG_QUOTED && c.args[0].len == 3
		    && memcmp(c.args[0].p, "a\"b", 3) == 0);
		CHECK((const uint8_t *)c.args[0].p >= (const uint8_t *)c.mem
		    && c.args[0].p + 3 <= (const uint8_t *)c.mem + c.mem_size);
		CHECK(c.args[1].p == u + 17 && c.args[1].len == 5);
		CHECK(c.args[2].type == IMAP_ARG_LITERAL && c.args[2].p == u + 29
		    && !c.args[2].binary);
		CHECK(imap_arg_atom_is(&c.args[3], "ATOM"));
		CHECK(!imap_arg_atom_is(&c.args[1], "plain"));	/* quoted, not atom */
	}
	imap_cmd_free(&c);
	CHECK(c.mem == NULL && c.args == NULL);

	/* a list's p/len is its raw text */
	static const char in2[] = "A1 X (a (b) {1}\r\nc)\r\n";
	CHECK_INT(imap_parse((const uint8_t *)in2, sizeof in2 - 1, &lim, &c, &why), 0);
	CHECK(c.n_args == 1 && c.args[0].type == IMAP_ARG_LIST && c.args[0].n == 3);
	if (c.n_args == 1) {
		CHECK(c.args[0].len == 14 && memcmp(c.args[0].p, "(a (b) {1}\r\nc)", 14) == 0);
		CHECK(c.args[0].list[1].type == IMAP_ARG_LIST && c.args[0].list[1].n == 1);
	}
	imap_cmd_free(&c);
}

/* ---- edges ---------------------------------------------------------- */

/* "A1 X aaaa...\r\n" of exactly n bytes. */
static char *
line_of(size_t n)
{
	char *s = xmalloc(n + 1);
	memcpy(s, "A1 X ", 5);
	memset(s + 5, 'a', n - 7);
	memcpy(s + n - 2, "\r\n", 3);
	return s;
}

T(test_line_max_exact)
{
	struct imap_limits lim = limits(L_STD);	/* 8192 */
	char want[64], out[64];
	size_t mem;

	char *s = line_of(8192);
	check_scan("line_8192", s, 8192, L_STD, "DONE 8192");
	render(s, 8192, &lim, out, sizeof out, &mem);
	CHECK(strncmp(out, "A1|X|aaa", 8) == 0);
	free(s);

	s = line_of(8193);
	check_scan("line_8193", s, 8193, L_STD, "BYE Command line too long");
	render(s, 8193, &lim, out, sizeof out, &mem);
	CHECK_STR(out, "BAD A1 Command line too long");
	free(s);
	/* over the cap before the CRLF arrives: BYE at once */
	s = line_of(8195);
	check_scan("line_8193_partial", s, 8193, L_STD, "BYE Command line too long");
	free(s);

	/* literal octets do not count, the text around them does */
	size_t lit = 100;
	s = xmalloc(8192 + lit + 1);
	int k = snprintf(s, 8192, "A1 X {%zu}\r\n", lit);
	memset(s + k, 'b', lit);
	size_t rest = 8192 - (size_t)k;	/* text still allowed */
	memset(s + k + lit, 'c', rest);
	s[k + lit] = ' ';
	memcpy(s + k + lit + rest - 2, "\r\n", 2);
	snprintf(want, sizeof want, "CONT %d; DONE %zu", k, 8192 + lit);
	check_scan("literal_plus_8192_text", s, 8192 + lit, L_STD, want);
	render(s, 8192 + lit, &lim, out, sizeof out, &mem);
	CHECK(strncmp(out, "A1|X|{100}bbb", 13) == 0);
	free(s);
}

/* (((...a...))) nested d deep. */
static char *
nest(unsigned d, size_t *len)
{
	char *s = xmalloc(2 * d + 16);
	size_t n = 0;
	memcpy(s, "A1 X ", 5);
	n = 5;
	for (unsigned i = 0; i < d; i++)
		s[n++] = '(';
	s[n++] = 'a';
	for (unsigned i = 0; i < d; i++)
		s[n++] = ')';
	memcpy(s + n, "\r\n", 2);
	*len = n + 2;
	return s;
}

T(test_nesting_100_101)
{
	struct imap_limits lim = limits(L_STD);	/* depth 100 */
	struct imap_cmd c;
	const char *why;
	size_t len;

	char *s = nest(100, &len);
	CHECK_INT(imap_parse((const uint8_t *)s, len, &lim, &c, &why), 0);
	const struct imap_arg *a = c.n_args == 1 ? &c.args[0] : NULL;
	unsigned depth = 0;
	while (a != NULL && a->type == IMAP_ARG_LIST && a->n == 1) {
		depth++;
		a = &a->list[0];
	}
	CHECK_INT(depth, 100);
	CHECK(a != NULL && imap_arg_atom_is(a, "a"));
	CHECK(c.mem_size <= 21 * len);
	imap_cmd_free(&c);
	free(s);

	s = nest(101, &len);
	CHECK_INT(imap_parse((const uint8_t *)s, len, &lim, &c, &why), -1);
	CHECK_STR(why, "Lists nested too deeply");
	CHECK_STR(c.tag, "A1");
	free(s);

	/* 100000 deep with depth_max raised: no recursion to overflow */
	lim.line_max = 1 << 20;
	lim.depth_max = 1000000;
	s = nest(100000, &len);
	CHECK_INT(imap_parse((const uint8_t *)s, len, &lim, &c, &why), 0);
	imap_cmd_free(&c);
	free(s);
}

T(test_numbers)
{
	struct imap_arg a = { .type = IMAP_ARG_ATOM };
	uint32_t v = 7;

	a.p = (const uint8_t *)"4294967295";
	a.len = 10;
	CHECK(imap_arg_number(&a, &v) && v == UINT32_MAX);
	a.p = (const uint8_t *)"4294967296";
	CHECK(!imap_arg_number(&a, &v));
	a.p = (const uint8_t *)"00000000000000000001";
	a.len = 20;
	CHECK(imap_arg_number(&a, &v) && v == 1);
	a.p = (const uint8_t *)"1:2";
	a.len = 3;
	CHECK(!imap_arg_number(&a, &v));
	a.len = 0;
	CHECK(!imap_arg_number(&a, &v));
	a.type = IMAP_ARG_QUOTED;
	a.p = (const uint8_t *)"1";
	a.len = 1;
	CHECK(!imap_arg_number(&a, &v));

	/* the literal sizes at the boundary, through the parser */
	struct imap_limits lim = limits(L_BIG);
	char out[128];
	size_t mem;
	render(S("A1 X {4294967295}\r\n"), &lim, out, sizeof out, &mem);
	CHECK_STR(out, "BAD A1 Literal truncated");	/* accepted size, octets absent */
	render(S("A1 X {4294967296}\r\n"), &lim, out, sizeof out, &mem);
	CHECK_STR(out, "BAD A1 Literal size over 4294967295");
}

/* Inputs that a scanner rescanning from the start, or a section search
 * restarted at every "[", would take minutes on. */
T(test_linear_time)
{
	struct imap_limits lim = limits(L_BIG);
	size_t n = 1 << 21;
	char *s = xmalloc(n);
	static const char unit[] = "BODY[ ";
	memcpy(s, "A1 X ", 5);
	for (size_t i = 5; i + 2 < n; i++)
		s[i] = unit[(i - 5) % 6];
	memcpy(s + n - 2, "\r\n", 2);
	if (s[n - 3] == ' ')
		s[n - 3] = 'x';

	struct imap_scan st;
	imap_scan_init(&st);
	enum imap_scan_r r = IMAP_SCAN_MORE;
	bool resumed = true;
	for (size_t have = 4096; r == IMAP_SCAN_MORE; have += 4096) {
		size_t was = st.pos;
		r = imap_scan(&st, (const uint8_t *)s, have < n ? have : n, &lim);
		/* everything offered was examined, nothing twice */
		if (r == IMAP_SCAN_MORE && (st.pos != have || was != have - 4096))
			resumed = false;
	}
	CHECK(resumed);
	CHECK(r == IMAP_SCAN_DONE && st.end == n);

	struct imap_cmd c;
	const char *why;
	CHECK_INT(imap_parse((const uint8_t *)s, n, &lim, &c, &why), 0);
	CHECK(c.n_args > 300000);
	CHECK(c.mem_size <= 21 * n);
	imap_cmd_free(&c);
	free(s);
}

/* A session's loop, by hand: CONT, more bytes, DONE, restart. */
T(test_scan_session_loop)
{
	struct imap_limits lim = limits(L_STD);
	struct imap_scan st;
	static const char in[] = "A1 LOGIN {3}\r\nbob pw\r\nA2 NOOP\r\n";

	imap_scan_init(&st);
	CHECK(imap_scan(&st, (const uint8_t *)in, 5, &lim) == IMAP_SCAN_MORE);
	CHECK_STR(st.tag, "A1");	/* known as soon as the first word ended */
	CHECK(imap_scan(&st, (const uint8_t *)in, 14, &lim) == IMAP_SCAN_CONT);
	CHECK(imap_scan(&st, (const uint8_t *)in, 14, &lim) == IMAP_SCAN_MORE);
	CHECK(imap_scan(&st, (const uint8_t *)in, sizeof in - 1, &lim) == IMAP_SCAN_DONE);
	CHECK_INT(st.end, 22);
	CHECK_INT(st.n_lits, 1);
	CHECK(imap_scan(&st, (const uint8_t *)in, sizeof in - 1, &lim) == IMAP_SCAN_DONE);
	imap_scan_init(&st);
	CHECK(imap_scan(&st, (const uint8_t *)in + 22, sizeof in - 1 - 22, &lim)
	    == IMAP_SCAN_DONE);
	CHECK_INT(st.end, 9);
}

int
main(void)
{
	RUN(test_scan_table);
	RUN(test_parse_table);
	RUN(test_parse_pointers);
	RUN(test_line_max_exact);
	RUN(test_nesting_100_101);
	RUN(test_numbers);
	RUN(test_linear_time);
	RUN(test_scan_session_loop);
	return t_done("imap_parse");
}

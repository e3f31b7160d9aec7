/*
 * imap/parse.c - IMAP command framing (imap_scan) and parsing (imap_parse),
 * RFC 9051 sections 4 and 9, RFC 7888, RFC 3516.
 *
 * Input:   command bytes from the network, pointer plus length, not
 *          NUL-terminated; NUL, CR and LF are data.  Nothing is trusted,
 *          and imap_parse does not trust that imap_scan framed its input.
 * Output:  scanner: a decision per call (more, continue, done, bad, bye)
 *          and the command's length; parser: struct imap_cmd, whose
 *          argument tree lives in one arena sized before it is filled.
 * Trusts:  nothing.  Runs in: imap worker (unprivileged).
 * Not here: what each command's arguments mean (imap/cmd-*.c).
 *
 * Bounds: the scanner keeps no copy of anything but the tag; the caller's
 * buffer is bounded by line_max + literals_max.  The parser runs the
 * grammar twice over the same bytes with an explicit stack for lists (no
 * recursion): the first pass validates and counts the elements of every
 * list, the second fills an arena of exactly that many struct imap_arg.
 * Each argument takes at least two bytes of command text (itself and a
 * separator), so the arena is at most 21 bytes per command byte.
 */
#include "imap/parse.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "mail/domain.h"

/* Reply texts (static; the caller writes "TAG BAD <why>" or "* BYE <why>").
 * Literal sizes carry the TOOBIG response code (RFC 4469, RFC 7888 5). */
static const char E_NO_TAG[] = "Missing tag";
static const char E_TAG[] = "Invalid tag";
static const char E_TAG_LONG[] = "Tag too long";
static const char E_NUL[] = "NUL byte in command";
static const char E_NUL_LIT[] = "NUL byte in literal";
static const char E_BARE_CR[] = "Bare CR in command";
static const char E_BARE_LF[] = "Bare LF in command";
static const char E_NUMBER[] = "Literal size over 4294967295";
static const char E_LIT_BIG[] = "[TOOBIG] Literal too large";
static const char E_LITS_BIG[] = "[TOOBIG] Literals too large for one command";
static const char E_LINE_LONG[] = "Command line too long";
static const char E_NONSYNC_BIG[] = "[TOOBIG] Non-synchronizing literal too large";
static const char E_NO_CMD[] = "Missing command";
static const char E_CMD[] = "Invalid command name";
static const char E_CMD_LONG[] = "Command name too long";
static const char E_SPACE[] = "Expected space";
static const char E_EXTRA_SPACE[] = "Unexpected space";
static const char E_NO_ARG[] = "Missing argument";
static const char E_CHAR[] = "Invalid character";
static const char E_8BIT[] = "8-bit character outside a string";
static const char E_CLOSE[] = "Unexpected )";
static const char E_UNCLOSED[] = "Unclosed (";
static const char E_DEEP[] = "Lists nested too deeply";
static const char E_QUOTE_END[] = "Unterminated quoted string";
static const char E_QUOTE_ESC[] = "Invalid escape in quoted string";
static const char E_QUOTE_UTF8[] = "Invalid UTF-8 in quoted string";
static const char E_LITERAL[] = "Invalid literal";
static const char E_LIT_SHORT[] = "Literal truncated";
static const char E_NO_CRLF[] = "Missing CRLF";
static const char E_TRAILING[] = "Data after end of command";

void
imap_limits_preauth(struct imap_limits *lim)
{
	lim->line_max = 8192;
	lim->literal_max = 8192;
	lim->lminus_max = 4096;
	lim->literals_max = 16384;
	lim->depth_max = 100;
}

/*
 * tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 9): printable ASCII
 * without atom-specials ("(" ")" "{" SP CTL "%" "*" DQUOTE "\"), "]"
 * allowed, "+" not (a reply tagged "+" would read as a continuation
 * request).
 */
static bool
is_tag_char(int b)
{
	return b > 0x20 && b < 0x7f && strchr("(){%*\"\\+", b) == NULL;
}

/* ---- 1. the scanner -------------------------------------------------- */

enum { PH_TAG, PH_TEXT, PH_LITERAL };

/* Where the line's last bytes are in a literal announcement "~{n+}". */
enum { ANN_NONE, ANN_TILDE, ANN_OPEN, ANN_DIGITS, ANN_PLUS, ANN_CLOSE };

void
imap_scan_init(struct imap_scan *st)
{
	memset(st, 0, sizeof *st);
	st->phase = PH_TAG;
	st->ann = ANN_NONE;
	st->result = IMAP_SCAN_MORE;
	strcpy(st->tag, "*");
}

/* The first error is the one reported; the command still runs to its end. */
static void
scan_bad(struct imap_scan *st, const char *why)
{
	if (!st->is_bad) {
		st->is_bad = true;
		st->why = why;
	}
}

static enum imap_scan_r
scan_finish(struct imap_scan *st, enum imap_scan_r r, const char *why)
{
	if (st->phase == PH_TAG)
		strcpy(st->tag, "*");	/* BYE inside the tag: nothing usable */
	st->result = r;
	st->why = why;
	st->end = st->pos;
	return r;
}

/* One byte of the first word.  The tag ends at SP or at the CR of the
 * line end; any other byte that is not a tag character makes it invalid. */
static void
scan_tag_byte(struct imap_scan *st, uint8_t b)
{
	if (is_tag_char(b)) {
		if (st->tag_len < IMAP_TAG_MAX)
			st->tag[st->tag_len] = (char)b;
		st->tag_len++;
		return;
	}
	st->phase = PH_TEXT;
	const char *err = NULL;
	if (b != ' ' && b != '\r')
		err = E_TAG;
	else if (st->tag_len == 0)
		err = E_NO_TAG;
	else if (st->tag_len > IMAP_TAG_MAX)
		err = E_TAG_LONG;
	if (err != NULL) {
		strcpy(st->tag, "*");
		scan_bad(st, err);
	} else {
		st->tag[st->tag_len] = '\0';
	}
}

/* Track the line's tail: after which bytes would a CRLF announce a
 * literal?  The number saturates just above 2^32-1 so it cannot wrap. */
static void
scan_ann_byte(struct imap_scan *st, uint8_t b)
{
	if (b == '{') {
		st->ann_binary = st->ann == ANN_TILDE;
		st->ann_plus = false;
		st->ann_num = 0;
		st->ann = ANN_OPEN;
	} else if (b >= '0' && b <= '9' && (st->ann == ANN_OPEN || st->ann == ANN_DIGITS)) {
		if (st->ann_num <= UINT32_MAX)
			st->ann_num = st->ann_num * 10 + (uint64_t)(b - '0');
		st->ann = ANN_DIGITS;
	} else if (b == '+' && st->ann == ANN_DIGITS) {
		st->ann_plus = true;
		st->ann = ANN_PLUS;
	} else if (b == '}' && (st->ann == ANN_DIGITS || st->ann == ANN_PLUS)) {
		st->ann = ANN_CLOSE;
	} else {
		st->ann = b == '~' ? ANN_TILDE : ANN_NONE;
	}
}

static void
scan_start_literal(struct imap_scan *st, size_t n)
{
	st->lit_left = n;
	st->lit_total += n;
	st->lit_binary = st->ann_binary;
	st->n_lits++;
	st->ann = ANN_NONE;
	st->phase = n > 0 ? PH_LITERAL : PH_TEXT;
}

/*
 * A CRLF ended a line (st->pos is past the LF).  Without an announcement
 * the command is complete.  A {n+} literal's octets follow at once (RFC
 * 7888 3): one we will not hold can only end the connection (RFC 7888 4,
 * second choice; reading and dropping megabytes is the first).  A {n}
 * literal is refused with BAD, which stops the client from sending it
 * (RFC 9051 2.2.1); that includes every command already known to be bad,
 * so no octets are ever invited for one.
 */
static enum imap_scan_r
scan_line_end(struct imap_scan *st, const struct imap_limits *lim)
{
	if (st->ann != ANN_CLOSE)
		return scan_finish(st, st->is_bad ? IMAP_SCAN_BAD : IMAP_SCAN_DONE, st->why);
	uint64_t n = st->ann_num;
	size_t room = lim->literals_max - st->lit_total;	/* lit_total <= literals_max */
	if (st->ann_plus) {
		if (n > UINT32_MAX || n > lim->lminus_max || n > lim->literal_max || n > room)
			return scan_finish(st, IMAP_SCAN_BYE, E_NONSYNC_BIG);
		scan_start_literal(st, (size_t)n);
		return IMAP_SCAN_MORE;
	}
	if (n > UINT32_MAX)
		scan_bad(st, E_NUMBER);
	else if (n > lim->literal_max)
		scan_bad(st, E_LIT_BIG);
	else if (n > room)
		scan_bad(st, E_LITS_BIG);
	if (st->is_bad)
		return scan_finish(st, IMAP_SCAN_BAD, st->why);
	scan_start_literal(st, (size_t)n);
	return IMAP_SCAN_CONT;
}

/* Skip literal octets already in the buffer; only ~{n} may hold NUL. */
static void
scan_literal(struct imap_scan *st, const uint8_t *buf, size_t len)
{
	size_t k = len - st->pos;
	if (k > st->lit_left)
		k = st->lit_left;
	if (!st->lit_binary && memchr(buf + st->pos, 0, k) != NULL)
		scan_bad(st, E_NUL_LIT);
	st->pos += k;
	st->lit_left -= k;
	if (st->lit_left == 0)
		st->phase = PH_TEXT;
}

enum imap_scan_r
imap_scan(struct imap_scan *st, const uint8_t *buf, size_t len, const struct imap_limits *lim)
{
	assert(len >= st->pos);
	if (st->result != IMAP_SCAN_MORE)
		return st->result;
	while (st->pos < len) {
		if (st->phase == PH_LITERAL) {
			scan_literal(st, buf, len);
			continue;
		}
		uint8_t b = buf[st->pos++];
		/* checked per byte: a half line already over the cap is an
		 * error now, not when its CRLF arrives (STYLE.md 5) */
		if (++st->text > lim->line_max)
			return scan_finish(st, IMAP_SCAN_BYE, E_LINE_LONG);
		if (st->phase == PH_TAG)
			scan_tag_byte(st, b);
		if (st->cr) {
			st->cr = false;
			if (b == '\n') {
				enum imap_scan_r r = scan_line_end(st, lim);
				if (r != IMAP_SCAN_MORE)
					return r;
				continue;
			}
			scan_bad(st, E_BARE_CR);
			st->ann = ANN_NONE;	/* "{5}" CR x is no announcement */
		}
		if (b == '\r') {
			st->cr = true;	/* decided by the next byte */
			continue;
		}
		if (b == '\n')
			scan_bad(st, E_BARE_LF);
		else if (b == '\0')
			scan_bad(st, E_NUL);
		scan_ann_byte(st, b);
	}
	return IMAP_SCAN_MORE;
}

/* ---- 2. the parser --------------------------------------------------- */

/* One open list: counting pass (count, idx) or filling pass (owner, base,
 * filled).  Lists are numbered in the order their "(" appears, the same
 * in both passes. */
struct frame {
	size_t count;			/* elements so far (pass 1) */
	size_t idx;			/* this list's number */
	struct imap_arg *owner;		/* pass 2: the LIST argument */
	size_t filled;			/* pass 2: elements written */
};

struct ps {
	const uint8_t *start, *p, *end;
	const struct imap_limits *lim;
	const char *err;		/* sticky: the first error */
	bool fill;			/* pass 2 */
	size_t lit_bytes;		/* literal octets (not command text) */

	/* a bracket scan's result, reused so "BODY[ BODY[ ..." stays linear */
	const uint8_t *br_from, *br_stop;

	struct frame *stack;
	size_t depth, stack_cap;

	/* pass 1 results */
	size_t *counts;			/* elements of each list, by number */
	size_t n_lists, counts_cap;
	size_t n_top;			/* top-level arguments */
	size_t n_total;			/* all arguments, lists included */
	size_t copy_bytes;		/* unescaped quoted strings with escapes */

	/* pass 2 */
	struct imap_arg *args, *next_free;
	uint8_t *strs;
	size_t top_filled, list_i;
};

struct tok {
	enum imap_arg_type type;
	const uint8_t *p;		/* first content byte */
	size_t len;			/* content length (quoted: unescaped) */
	bool binary;
	bool escaped;			/* quoted string with backslashes */
};

static void
fail(struct ps *ps, const char *why)
{
	if (ps->err == NULL)
		ps->err = why;
}

/* Next byte, or -1 at the end or once an error is set, so every loop
 * below stops by itself after the first error. */
static int
peek(const struct ps *ps)
{
	if (ps->err != NULL || ps->p >= ps->end)
		return -1;
	return *ps->p;
}

/* The byte b is not what the grammar wants here: say why as precisely as
 * the byte allows. */
static void
unexpected(struct ps *ps, int b, const char *generic)
{
	if (b == '\0')
		fail(ps, E_NUL);
	else if (b == '\n')
		fail(ps, E_BARE_LF);
	else if (b == '\r')
		fail(ps, ps->p + 1 < ps->end && ps->p[1] == '\n' ? generic : E_BARE_CR);
	else if (b >= 0x80)
		fail(ps, E_8BIT);
	else if (b < 0)
		fail(ps, E_NO_CRLF);
	else
		fail(ps, generic);
}

/*
 * ATOM-CHAR (RFC 9051 9) plus what astrings, list patterns, flags and
 * sequence sets add: "]" (resp-specials), "%" and "*" (list-wildcards),
 * "\" (flags).  Command handlers check their own atom syntax.
 */
static bool
is_atom_char(int b)
{
	return b > 0x20 && b < 0x7f && b != '(' && b != ')' && b != '{' && b != '"';
}

/* Command names: letters, digits and "-_." (x-command is "X" atom); a
 * narrower set than atoms, as names go into replies and table lookups. */
static bool
is_name_char(int b)
{
	return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
	    || b == '-' || b == '_' || b == '.';
}

/* Bytes allowed between "[" and "]" of a FETCH section, where
 * HEADER.FIELDS puts a parenthesised list with spaces. */
static bool
is_section_char(uint8_t b)
{
	return b >= 0x20 && b < 0x7f && b != '{';
}

/*
 * The "]" closing a section that starts at from, or NULL when a byte that
 * cannot be in a section comes first.  The first "]"-or-stopper found
 * from one position is also the first from every later position before
 * it, so a remembered scan answers them all and the parser stays linear.
 */
static const uint8_t *
section_close(struct ps *ps, const uint8_t *from)
{
	if (ps->br_stop == NULL || from < ps->br_from || from > ps->br_stop) {
		const uint8_t *q = from;
		while (q < ps->end && *q != ']' && is_section_char(*q))
			q++;
		ps->br_from = from;
		ps->br_stop = q;
	}
	return ps->br_stop < ps->end && *ps->br_stop == ']' ? ps->br_stop : NULL;
}

/* BODY[...] and BODY.PEEK[...] are the fetch-atts whose section may hold
 * spaces ("HEADER.FIELDS (FROM TO)", RFC 9051 6.4.5); BINARY[1] and the
 * like are plain atoms already. */
static bool
takes_spaced_section(const uint8_t *p, size_t n)
{
	return (n == 4 && ascii_memcaseeq(p, "BODY", 4))
	    || (n == 9 && ascii_memcaseeq(p, "BODY.PEEK", 9));
}

/*
 * An atom.  For BODY[ and BODY.PEEK[ the section up to its "]" belongs to
 * the atom, spaces and parentheses included, and the atom goes on after
 * it ("<0.2048>"); a section with no "]" on the line (or holding a
 * literal) leaves "[" an ordinary atom character.  Knowingly imperfect:
 * a quoted header name holding "]" ends the section early (BAD follows).
 */
static void
lex_atom(struct ps *ps, struct tok *t)
{
	int b;

	t->type = IMAP_ARG_ATOM;
	t->p = ps->p;
	while (is_atom_char(b = peek(ps))) {
		if (b == '[' && takes_spaced_section(t->p, (size_t)(ps->p - t->p))) {
			const uint8_t *q = section_close(ps, ps->p + 1);
			if (q != NULL) {
				ps->p = q + 1;
				continue;
			}
		}
		ps->p++;
	}
	t->len = (size_t)(ps->p - t->p);
	if (t->len == 3 && ascii_memcaseeq(t->p, "NIL", 3))
		t->type = IMAP_ARG_NIL;
}

/*
 * quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR is any CHAR but CR, LF,
 * DQUOTE and "\", or "\" DQUOTE / "\" "\", or a UTF-8 character (RFC 9051
 * 9, RFC 3629 well-formed: mail/domain.c's check).  NUL is not a CHAR.
 */
static void
lex_quoted(struct ps *ps, struct tok *t)
{
	t->type = IMAP_ARG_QUOTED;
	t->p = ++ps->p;
	t->len = 0;
	t->escaped = false;
	for (;;) {
		int b = peek(ps);
		if (b == '"') {
			ps->p++;
			return;
		}
		if (b == '\\') {
			ps->p++;
			b = peek(ps);
			if (b != '"' && b != '\\') {
				fail(ps, E_QUOTE_ESC);
				return;
			}
			t->escaped = true;
		} else if (b >= 0x80) {
			size_t n = domain_utf8_len(ps->p, (size_t)(ps->end - ps->p));
			if (n == 0) {
				fail(ps, E_QUOTE_UTF8);
				return;
			}
			ps->p += n;
			t->len += n;
			continue;
		} else if (b == '\0') {
			fail(ps, E_NUL);
			return;
		} else if (b < 0 || b == '\r' || b == '\n') {
			fail(ps, E_QUOTE_END);
			return;
		}
		ps->p++;
		t->len++;
	}
}

/*
 * literal = "{" number ["+"] "}" CRLF *CHAR8, literal8 = "~{" number
 * ["+"] "}" CRLF *OCTET (RFC 9051 9, RFC 7888, RFC 3516).  The same limits
 * as the scanner, so a command it framed never fails here on them.
 */
static void
lex_literal(struct ps *ps, struct tok *t)
{
	uint64_t n = 0;
	bool plus, digits = false;

	t->type = IMAP_ARG_LITERAL;
	t->binary = *ps->p == '~';
	ps->p += t->binary ? 2 : 1;
	for (int b; (b = peek(ps)) >= '0' && b <= '9'; ps->p++) {
		digits = true;
		if (n <= UINT32_MAX)
			n = n * 10 + (uint64_t)(b - '0');
	}
	plus = peek(ps) == '+';
	ps->p += plus;
	if (!digits || ps->end - ps->p < 3 || memcmp(ps->p, "}\r\n", 3) != 0) {
		fail(ps, E_LITERAL);
		return;
	}
	ps->p += 3;
	if (n > UINT32_MAX) {
		fail(ps, E_NUMBER);
		return;
	}
	if (n > ps->lim->literal_max || (plus && n > ps->lim->lminus_max)) {
		fail(ps, E_LIT_BIG);
		return;
	}
	if (n > (uint64_t)(ps->end - ps->p)) {
		fail(ps, E_LIT_SHORT);
		return;
	}
	if (n > ps->lim->literals_max - ps->lit_bytes) {	/* lit_bytes <= literals_max */
		fail(ps, E_LITS_BIG);
		return;
	}
	if (!t->binary && memchr(ps->p, 0, (size_t)n) != NULL) {
		fail(ps, E_NUL_LIT);
		return;
	}
	t->p = ps->p;
	t->len = (size_t)n;
	ps->p += n;
	ps->lit_bytes += (size_t)n;
}

/* One argument other than a list, at the cursor. */
static void
lex_arg(struct ps *ps, struct tok *t)
{
	int b = peek(ps);

	memset(t, 0, sizeof *t);
	if (b == '"')
		lex_quoted(ps, t);
	else if (b == '{' || (b == '~' && ps->end - ps->p > 1 && ps->p[1] == '{'))
		lex_literal(ps, t);
	else if (is_atom_char(b))
		lex_atom(ps, t);
	else if (b == ' ')
		fail(ps, E_EXTRA_SPACE);
	else if (b == ')')
		fail(ps, E_NO_ARG);
	else
		unexpected(ps, b, b == '\r' ? E_NO_ARG : E_CHAR);
}

/* The container the next element goes into: the innermost open list, or
 * the top level.  Pass 1 counts it, pass 2 returns its slot. */
static struct imap_arg *
next_slot(struct ps *ps)
{
	ps->n_total++;
	if (ps->depth == 0) {
		if (!ps->fill) {
			ps->n_top++;
			return NULL;
		}
		assert(ps->top_filled < ps->n_top);
		return &ps->args[ps->top_filled++];
	}
	struct frame *f = &ps->stack[ps->depth - 1];
	if (!ps->fill) {
		f->count++;
		return NULL;
	}
	assert(f->filled < f->owner->n);
	return &f->owner->list[f->filled++];
}

/* Copy a quoted string's content without its backslashes (validated in
 * pass 1: every "\" is followed by DQUOTE or "\"). */
static const uint8_t *
unescape(struct ps *ps, const struct tok *t)
{
	uint8_t *dst = ps->strs;
	const uint8_t *s = t->p;
	for (size_t i = 0; i < t->len; i++) {
		if (*s == '\\')
			s++;
		*ps->strs++ = *s++;
	}
	return dst;
}

static void
put_arg(struct ps *ps, const struct tok *t)
{
	struct imap_arg *a = next_slot(ps);
	if (!ps->fill) {
		if (t->escaped)
			ps->copy_bytes += t->len;
		return;
	}
	a->type = t->type;
	a->binary = t->binary;
	a->len = t->len;
	a->p = t->escaped ? unescape(ps, t) : t->p;
}

/* Grow an array of n elements to hold one more, doubling; n is bounded by
 * the command length (one list per two bytes at most). */
static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	return xreallocarray(p, *cap, size);
}

/* "(" was just consumed. */
static void
open_list(struct ps *ps)
{
	if (ps->depth >= ps->lim->depth_max) {
		fail(ps, E_DEEP);
		return;
	}
	struct imap_arg *a = next_slot(ps);
	ps->stack = grow(ps->stack, &ps->stack_cap, ps->depth, sizeof *ps->stack);
	struct frame *f = &ps->stack[ps->depth++];
	memset(f, 0, sizeof *f);
	if (!ps->fill) {
		ps->counts = grow(ps->counts, &ps->counts_cap, ps->n_lists, sizeof *ps->counts);
		f->idx = ps->n_lists++;
		return;
	}
	assert(ps->list_i < ps->n_lists);
	a->type = IMAP_ARG_LIST;
	a->p = ps->p - 1;
	a->n = ps->counts[ps->list_i++];
	a->list = a->n > 0 ? ps->next_free : NULL;
	ps->next_free += a->n;
	f->owner = a;
}

/* At ")". */
static void
close_list(struct ps *ps)
{
	if (ps->depth == 0) {
		fail(ps, E_CLOSE);
		return;
	}
	ps->p++;
	struct frame *f = &ps->stack[--ps->depth];
	if (!ps->fill) {
		ps->counts[f->idx] = f->count;
		return;
	}
	assert(f->filled == f->owner->n);
	f->owner->len = (size_t)(ps->p - f->owner->p);
}

/* At CR: the command must end here, exactly at the end of the input. */
static void
end_of_command(struct ps *ps)
{
	if (ps->end - ps->p < 2 || ps->p[1] != '\n')
		fail(ps, ps->end - ps->p < 2 ? E_NO_CRLF : E_BARE_CR);
	else if (ps->depth > 0)
		fail(ps, E_UNCLOSED);
	else if (ps->end - ps->p != 2)
		fail(ps, E_TRAILING);
	ps->p += 2;
}

/*
 * The arguments after the command name, to the final CRLF: one pass of
 * the grammar, counting (pass 1) or filling (pass 2).  Between elements
 * exactly one SP; after "(" an element or ")"; a list element may be
 * followed by ")".
 */
static void
walk_args(struct ps *ps)
{
	enum { AFTER_ITEM, NEED_ARG, AFTER_OPEN } at = AFTER_ITEM;

	while (ps->err == NULL) {
		int b = peek(ps);
		if (at == AFTER_ITEM) {
			if (b == ' ') {
				ps->p++;
				at = NEED_ARG;
			} else if (b == ')') {
				close_list(ps);
			} else if (b == '\r' && ps->end - ps->p >= 2 && ps->p[1] == '\n') {
				end_of_command(ps);
				return;
			} else {
				unexpected(ps, b, E_SPACE);
			}
			continue;
		}
		if (b == ')' && at == AFTER_OPEN) {
			close_list(ps);
			at = AFTER_ITEM;
		} else if (b == '(') {
			ps->p++;
			open_list(ps);
			at = AFTER_OPEN;
		} else {
			struct tok t;
			lex_arg(ps, &t);
			if (ps->err == NULL)
				put_arg(ps, &t);
			at = AFTER_ITEM;
		}
	}
}

static int
ascii_upper(int c)
{
	return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
}

/* tag SP (or the CR of a line with no command): the scanner's rules.
 * Fills out->tag when the tag is valid; it stays "*" otherwise. */
static void
parse_tag(struct ps *ps, struct imap_cmd *out)
{
	const uint8_t *t = ps->p;
	while (is_tag_char(peek(ps)))
		ps->p++;
	size_t n = (size_t)(ps->p - t);
	int b = peek(ps);
	if (b < 0)
		fail(ps, E_NO_CRLF);
	else if (b != ' ' && b != '\r')
		fail(ps, E_TAG);
	else if (n == 0)
		fail(ps, E_NO_TAG);
	else if (n > IMAP_TAG_MAX)
		fail(ps, E_TAG_LONG);
	if (ps->err != NULL)
		return;
	memcpy(out->tag, t, n);
	out->tag[n] = '\0';
	if (b == ' ')
		ps->p++;
}

/* The command name, uppercased into out->name; SP or CRLF must follow. */
static void
parse_name(struct ps *ps, struct imap_cmd *out)
{
	const uint8_t *s = ps->p;
	while (is_name_char(peek(ps)))
		ps->p++;
	size_t n = (size_t)(ps->p - s);
	int b = peek(ps);
	if (n == 0 && b == ' ')
		fail(ps, E_EXTRA_SPACE);
	else if (n == 0 && b == '\r')
		fail(ps, E_NO_CMD);
	else if (n == 0)
		unexpected(ps, b, E_CMD);
	else if (b != ' ' && b != '\r')
		unexpected(ps, b, is_atom_char(b) ? E_CMD : E_SPACE);
	else if (n > IMAP_NAME_MAX)
		fail(ps, E_CMD_LONG);
	if (ps->err != NULL)
		return;
	for (size_t i = 0; i < n; i++)
		out->name[i] = (char)ascii_upper(s[i]);
	out->name[n] = '\0';
}

/* One pass over the whole command. */
static void
parse_pass(struct ps *ps, struct imap_cmd *out)
{
	ps->p = ps->start;
	ps->err = NULL;
	ps->lit_bytes = 0;
	ps->br_from = ps->br_stop = NULL;
	ps->depth = 0;
	ps->n_total = 0;
	parse_tag(ps, out);
	parse_name(ps, out);
	walk_args(ps);
}

/*
 * "UID" and an atom of name characters become one command name (RFC 9051
 * 6.4.9: UID is a prefix of COPY, MOVE, FETCH, SEARCH, STORE, EXPUNGE);
 * anything else after UID stays an argument for the handler to refuse.
 */
static void
merge_uid(struct imap_cmd *out)
{
	if (strcmp(out->name, "UID") != 0 || out->n_args == 0)
		return;
	const struct imap_arg *a = &out->args[0];
	if (a->type != IMAP_ARG_ATOM || a->len > IMAP_NAME_MAX - 4)
		return;
	for (size_t i = 0; i < a->len; i++)
		if (!is_name_char(a->p[i]))
			return;
	out->name[3] = ' ';
	for (size_t i = 0; i < a->len; i++)
		out->name[4 + i] = (char)ascii_upper(a->p[i]);
	out->name[4 + a->len] = '\0';
	out->args++;
	out->n_args--;
}

/* Pass 2 into an arena of exactly the size pass 1 measured. */
static void
parse_fill(struct ps *ps, struct imap_cmd *out)
{
	size_t n = ps->n_total, n_top = ps->n_top;

	/* n <= len / 2 (every argument costs two bytes), so no overflow */
	assert(n <= (SIZE_MAX - ps->copy_bytes) / sizeof(struct imap_arg));
	size_t size = n * sizeof(struct imap_arg) + ps->copy_bytes;
	if (size > 0) {
		out->mem = xcalloc(1, size);
		ps->args = out->mem;
		ps->next_free = ps->args + n_top;
		ps->strs = (uint8_t *)(ps->args + n);
	}
	ps->fill = true;
	parse_pass(ps, out);
	assert(ps->err == NULL && ps->n_total == n && ps->top_filled == n_top);
	assert(ps->list_i == ps->n_lists);
	assert(size == 0 || (ps->next_free == ps->args + n
	    && ps->strs == (uint8_t *)out->mem + size));
	out->args = ps->args;
	out->n_args = n_top;
	out->mem_size = size;
	merge_uid(out);
}

int
imap_parse(const uint8_t *cmd, size_t len, const struct imap_limits *lim,
    struct imap_cmd *out, const char **why)
{
	struct ps ps;

	memset(out, 0, sizeof *out);
	strcpy(out->tag, "*");
	memset(&ps, 0, sizeof ps);
	ps.start = cmd;
	ps.end = cmd + len;
	ps.lim = lim;
	parse_pass(&ps, out);
	if (ps.err == NULL && len - ps.lit_bytes > lim->line_max)
		fail(&ps, E_LINE_LONG);
	if (ps.err == NULL)
		parse_fill(&ps, out);
	free(ps.stack);
	free(ps.counts);
	*why = ps.err;
	return ps.err == NULL ? 0 : -1;
}

void
imap_cmd_free(struct imap_cmd *c)
{
	free(c->mem);
	memset(c, 0, sizeof *c);
}

bool
imap_arg_number(const struct imap_arg *a, uint32_t *out)
{
	uint64_t v = 0;

	if (a->type != IMAP_ARG_ATOM || a->len == 0)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		if (a->p[i] < '0' || a->p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(a->p[i] - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

bool
imap_arg_atom_is(const struct imap_arg *a, const char *word)
{
	size_t n = strlen(word);
	return a->type == IMAP_ARG_ATOM && a->len == n && ascii_memcaseeq(a->p, word, n);
}

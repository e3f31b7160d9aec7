/*
 * dns/zonefile.c - the master file parser (rules in zonefile.h).
 *
 * Input:   zone file text written by an admin or handed over by a tool
 *          (any bytes, pointer plus length, up to DNS_ZONEFILE_MAX), and
 *          the files it $INCLUDEs.  Nothing in the text is trusted.
 * Output:  one callback per record with owner and rdata in wire form;
 *          every problem as "file:line:column: found ... (expected ...)"
 *          in a diag.
 * Trusts:  the origin and file name from the caller.  Runs in: parent and
 *          CLI ("talon zone check").
 * Not here: zone semantics (one SOA at the apex, CNAME and other data,
 *          glue, delegations) belong to the zone loader; rdata to text is
 *          dns/rr.c; names are dns/name.c.
 *
 * Structure: a lexer turns the text into tokens (unquoted words with their
 * escapes kept, quoted strings, end of record, end of file), folding
 * parentheses and comments away; one function per record form reads
 * fields from it.  The first error in a record is reported with its
 * position and the rest of the record is skipped (z->rec_bad, a sticky
 * error: every field reader does nothing once it is set), so one mistake
 * gives one message and the next record is parsed normally.
 *
 * Bounds: tokens are slices of the text, never copied; rdata is built in
 * one DNS_RDATA_MAX buffer; names in DNS_NAME_MAX arrays; the only
 * recursion is $INCLUDE, at most DNS_ZONEFILE_DEPTH_MAX deep.
 */
#include "dns/zonefile.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/afile.h"
#include "core/util.h"
#include "dns/name.h"
#include "dns/rr.h"

#define PATH_MAX_LEN	4096		/* an $INCLUDE path after joining */
#define SHOW_MAX	(AFILE_TOKEN_MAX + 2)	/* a token in a message, quoted */
#define TIMER_MAX	4294967295u	/* 32-bit SOA timers and RRSIG TTL */

enum tk { TK_WORD, TK_QUOTED, TK_EOL, TK_EOF, TK_ERR };

struct tok {
	enum tk kind;
	const char *s;		/* WORD: text, escapes kept; QUOTED: inside the quotes */
	size_t n;
	unsigned line, col;
};

struct lexer {
	const char *p, *end;
	const char *bol;	/* first byte of the current line, for columns */
	unsigned line;
	bool in_paren;
	unsigned paren_line, paren_col;
	bool has_peek;
	struct tok peek;
};

/* What a $INCLUDE starts from and does not hand back (RFC 1035 5.1). */
struct scope {
	uint8_t origin[DNS_NAME_MAX];
	uint8_t owner[DNS_NAME_MAX];	/* previous owner, for a blank one */
	uint32_t ttl_default;		/* $TTL */
	uint32_t ttl_last;		/* last TTL written on a record */
	bool has_origin, has_owner, has_ttl_default, has_ttl_last;
};

/* Shared by a file and its includes. */
struct parse {
	struct diag *d;
	dns_rr_fn *fn;
	void *arg;
	uint8_t zone[DNS_NAME_MAX];
	bool has_zone;
	bool stop;		/* the callback said so, or too many errors */
	bool cb_stop;
	unsigned n_err;
	unsigned depth;		/* of $INCLUDE */
	size_t held;		/* bytes of text of the files being read */
	size_t rdlen;
	uint8_t rdata[DNS_RDATA_MAX];
	uint8_t bits[8192];	/* type bitmap being built, all zero between uses */
	bool win_used[256];
};

/* One file being read. */
struct zf {
	struct parse *ps;
	const char *file;
	struct lexer lx;
	struct scope sc;
	bool allow_include;
	bool rec_bad;		/* this record had an error: skip the rest */
	bool at_end;		/* the end of this record was consumed */
	struct tok last;	/* the token consumed last */
};

static void parse_file(struct parse *ps, const char *file, const char *text, size_t len,
    const struct scope *sc, bool allow_include);

/* --- messages ------------------------------------------------------------- */

/* diag prints "file:line: "; a message about a position reads better as
 * "file:line:column: ", so the position is handed over as the file part
 * (diag's "line 0" form prints it as it is). */
static void
vreport(struct zf *z, bool warn, unsigned line, unsigned col, const char *fmt, va_list ap)
{
	char msg[1024];
	char *at = xasprintf("%s:%u:%u", z->file, line, col);
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (warn)
		diag_warn(z->ps->d, at, 0, "%s", msg);
	else
		diag_err(z->ps->d, at, 0, "%s", msg);
	free(at);
	if (warn)
		return;
	z->ps->n_err++;
	z->rec_bad = true;
}

/* The first error of a record, at token at; later ones in the same record
 * are consequences and stay quiet. */
static void __attribute__((format(printf, 3, 4)))
zerr(struct zf *z, const struct tok *at, const char *fmt, ...)
{
	va_list ap;
	if (z->rec_bad)
		return;
	va_start(ap, fmt);
	vreport(z, false, at->line, at->col, fmt, ap);
	va_end(ap);
}

/* An error at a position, reported even in a record that had one (an
 * unclosed parenthesis explains everything after it). */
static void __attribute__((format(printf, 4, 5)))
zerr_always(struct zf *z, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(z, false, line, col, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
zwarn(struct zf *z, const struct tok *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(z, true, at->line, at->col, fmt, ap);
	va_end(ap);
}

/* t as messages show it: escaped text in double quotes, or what ended
 * the record. */
static const char *
shown(const struct tok *t, char buf[SHOW_MAX])
{
	switch (t->kind) {
	case TK_EOL:
		return "end of line";
	case TK_EOF:
		return "end of file";
	default:	/* words, quoted strings, the byte a lexer error is about */
		break;
	}
	buf[0] = '"';
	log_escape(buf + 1, SHOW_MAX - 2, t->s, t->n);
	strcat(buf, "\"");
	return buf;
}

/* --- lexer ---------------------------------------------------------------- */

static bool
is_ctl(unsigned c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static unsigned
column(const struct lexer *lx, const char *p)
{
	return (unsigned)(p - lx->bol) + 1;
}

/* A comment runs to the end of the line; it may hold any printable text
 * (the control check is the same as outside comments). */
static void
lex_comment(struct zf *z)
{
	struct lexer *lx = &z->lx;
	const char *p = lx->p;

	while (p < lx->end && *p != '\n') {
		unsigned c = (unsigned char)*p;
		if (c == '\r' && p + 1 < lx->end && p[1] == '\n')
			break;
		if (is_ctl(c)) {
			struct tok at = { TK_ERR, p, 1, lx->line, column(lx, p) };
			zerr(z, &at, "found control character 0x%02x (expected printable text)", c);
		}
		p++;
	}
	lx->p = p;
}

/* A quoted string: anything but LF up to the closing quote, \" and \\
 * escaped; the escapes are decoded by whoever uses it. */
static void
lex_quoted(struct zf *z, struct tok *t)
{
	struct lexer *lx = &z->lx;
	const char *q = lx->p + 1;

	while (q < lx->end && *q != '"' && *q != '\n') {
		if (*q == '\\' && q + 1 < lx->end && q[1] != '\n')
			q += 2;
		else
			q++;
	}
	if (q == lx->end || *q == '\n') {
		t->kind = TK_ERR;
		zerr(z, t, "found end of line inside a quoted string (expected '\"')");
		lx->p = q;
		return;
	}
	t->kind = TK_QUOTED;
	t->s = lx->p + 1;
	t->n = (size_t)(q - t->s);
	lx->p = q + 1;
}

/* An unquoted word: up to blank, ';', '(', ')', '"' or a control byte;
 * a backslash takes the next printable byte with it. */
static void
lex_word(struct zf *z, struct tok *t)
{
	struct lexer *lx = &z->lx;
	const char *q = lx->p;

	while (q < lx->end) {
		unsigned c = (unsigned char)*q;
		if (c == ' ' || c == '\t' || c == ';' || c == '(' || c == ')' || c == '"' ||
		    is_ctl(c))
			break;
		if (c == '\\' && q + 1 < lx->end && !is_ctl((unsigned char)q[1]))
			q += 2;
		else
			q++;
	}
	t->kind = TK_WORD;
	t->n = (size_t)(q - t->s);
	lx->p = q;
}

static void
lex_eof(struct zf *z, struct tok *t)
{
	struct lexer *lx = &z->lx;

	t->kind = TK_EOF;
	t->s = lx->p;
	t->n = 0;
	t->line = lx->line;
	t->col = column(lx, lx->p);
	if (lx->in_paren) {
		zerr_always(z, lx->paren_line, lx->paren_col,
		    "found end of file inside parentheses opened here (expected ')')");
		lx->in_paren = false;
	}
}

/* Parentheses: one level (RFC 1035 5.1); newlines inside are blanks. */
static bool
lex_paren(struct zf *z, struct tok *t, char c)
{
	struct lexer *lx = &z->lx;

	lx->p++;
	if (c == '(' && !lx->in_paren) {
		lx->in_paren = true;
		lx->paren_line = t->line;
		lx->paren_col = t->col;
		return false;
	}
	if (c == ')' && lx->in_paren) {
		lx->in_paren = false;
		return false;
	}
	t->kind = TK_ERR;
	if (c == '(')
		zerr(z, t, "found '(' inside parentheses opened at line %u (expected ')' first)",
		    lx->paren_line);
	else
		zerr(z, t, "found ')' (expected a '(' before it)");
	return true;
}

static void
lex(struct zf *z, struct tok *t)
{
	struct lexer *lx = &z->lx;

	for (;;) {
		if (lx->p == lx->end) {
			lex_eof(z, t);
			return;
		}
		unsigned c = (unsigned char)*lx->p;
		t->s = lx->p;
		t->n = 0;
		t->line = lx->line;
		t->col = column(lx, lx->p);
		if (c == ' ' || c == '\t') {
			lx->p++;
			continue;
		}
		if (c == '\r' && lx->p + 1 < lx->end && lx->p[1] == '\n') {
			lx->p++;	/* CRLF ends a line like LF */
			c = '\n';
		}
		if (c == '\n') {
			lx->p++;
			lx->line++;
			lx->bol = lx->p;
			if (lx->in_paren)
				continue;
			t->kind = TK_EOL;
			return;
		}
		if (c == ';') {
			lex_comment(z);
			continue;
		}
		if (c == '(' || c == ')') {
			if (lex_paren(z, t, (char)c))
				return;
			continue;
		}
		if (c == '"') {
			lex_quoted(z, t);
			return;
		}
		if (is_ctl(c)) {
			t->kind = TK_ERR;
			zerr(z, t, "found control character 0x%02x (expected printable text)", c);
			lx->p++;
			return;
		}
		lex_word(z, t);
		return;
	}
}

static const struct tok *
peek(struct zf *z)
{
	if (!z->lx.has_peek) {
		lex(z, &z->lx.peek);
		z->lx.has_peek = true;
	}
	return &z->lx.peek;
}

static void
next(struct zf *z, struct tok *t)
{
	peek(z);
	z->lx.has_peek = false;
	*t = z->last = z->lx.peek;
	if (t->kind == TK_EOL || t->kind == TK_EOF)
		z->at_end = true;
}

static bool
is_data(const struct tok *t)
{
	return t->kind == TK_WORD || t->kind == TK_QUOTED;
}

/* Skip what is left of a record after an error or a complete one. */
static void
skip_rest(struct zf *z)
{
	struct tok t;
	while (!z->at_end)
		next(z, &t);
}

/* The record must end here. */
static void
end_record(struct zf *z)
{
	struct tok t;
	char b[SHOW_MAX];

	if (z->rec_bad)
		return;
	next(z, &t);
	if (is_data(&t))
		zerr(z, &t, "found %s (expected the end of the record)", shown(&t, b));
}

/* --- fields ----------------------------------------------------------------- */

/* The next token as a field called what; false (reported) when the
 * record ends first or had an error. */
static bool
field(struct zf *z, const char *what, struct tok *t)
{
	char b[SHOW_MAX];

	if (z->rec_bad)
		return false;
	next(z, t);
	if (is_data(t))
		return true;
	if (t->kind != TK_ERR)
		zerr(z, t, "found %s (expected %s)", shown(t, b), what);
	return false;
}

/* An unquoted field. */
static bool
word(struct zf *z, const char *what, struct tok *t)
{
	if (!field(z, what, t))
		return false;
	if (t->kind == TK_QUOTED) {
		zerr(z, t, "found a quoted string (expected %s)", what);
		return false;
	}
	return true;
}

/* Decimal s[0..n) in [0, max]; at most 20 digits so nothing overflows. */
static bool
dec(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

bool
dns_ttl_from_text(const char *s, size_t n, uint32_t max, uint32_t *ttl)
{
	uint64_t sum = 0, v;
	size_t i = 0;

	if (dec(s, n, max, &v)) {
		*ttl = (uint32_t)v;
		return true;
	}
	/* 1*(digits unit): every number carries its unit */
	if (n == 0)
		return false;
	while (i < n) {
		size_t d = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == d || i == n || !dec(s + d, i - d, max, &v))
			return false;
		switch (ascii_lower((unsigned char)s[i++])) {
		case 's': break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		case 'w': v *= 604800; break;
		default: return false;
		}
		sum += v;	/* v <= 2^32 * 604800 and sum <= max: no overflow */
		if (sum > max)
			return false;
	}
	*ttl = (uint32_t)sum;
	return true;
}

/* --- rdata output ---------------------------------------------------------- */

static void
put(struct zf *z, const void *p, size_t n)
{
	struct parse *ps = z->ps;

	if (z->rec_bad)
		return;
	if (DNS_RDATA_MAX - ps->rdlen < n) {
		zerr(z, &z->last, "rdata longer than %u bytes (expected at most that)",
		    DNS_RDATA_MAX);
		return;
	}
	memcpy(ps->rdata + ps->rdlen, p, n);
	ps->rdlen += n;
}

static void
put_be(struct zf *z, uint64_t v, int bytes)
{
	uint8_t b[4];
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
	put(z, b, (size_t)bytes);
}

/* A decimal field of 1, 2 or 4 bytes. */
static void
put_num(struct zf *z, const char *what, int bytes)
{
	struct tok t;
	char b[SHOW_MAX];
	uint64_t max = bytes == 1 ? 255 : bytes == 2 ? 65535 : 4294967295u, v = 0;

	if (!word(z, what, &t))
		return;
	if (!dec(t.s, t.n, max, &v)) {
		zerr(z, &t, "found %s (expected %s, a number from 0 to %llu)", shown(&t, b), what,
		    (unsigned long long)max);
		return;
	}
	put_be(z, v, bytes);
}

/* A 32-bit time interval with units (SOA timers, RRSIG original TTL). */
static void
put_timer(struct zf *z, const char *what)
{
	struct tok t;
	char b[SHOW_MAX];
	uint32_t v;

	if (!word(z, what, &t))
		return;
	if (!dns_ttl_from_text(t.s, t.n, TIMER_MAX, &v)) {
		zerr(z, &t, "found %s (expected %s, seconds or units like 1h30m)", shown(&t, b),
		    what);
		return;
	}
	put_be(z, v, 4);
}

/* RRSIG times: YYYYMMDDHHmmSS or seconds since 1970 (RFC 4034 3.2). */
static void
put_time(struct zf *z, const char *what)
{
	struct tok t;
	char b[SHOW_MAX];
	uint32_t v = 0;
	uint64_t u;

	if (!word(z, what, &t))
		return;
	if (t.n == 14 ? !dns_time_from_text(t.s, t.n, &v) : !dec(t.s, t.n, TIMER_MAX, &u)) {
		zerr(z, &t, "found %s (expected %s, YYYYMMDDHHmmSS or seconds since 1970)",
		    shown(&t, b), what);
		return;
	}
	put_be(z, t.n == 14 ? v : u, 4);
}

/* A name token to wire form: "@" is the origin, relative names get it
 * appended. */
static int
name_of(struct zf *z, const struct tok *t, const char *what, uint8_t out[DNS_NAME_MAX])
{
	char b[SHOW_MAX];
	const char *why;

	if (t->kind == TK_QUOTED) {
		zerr(z, t, "found a quoted string (expected %s)", what);
		return -1;
	}
	if (t->n == 1 && t->s[0] == '@') {
		if (!z->sc.has_origin) {
			zerr(z, t, "found @ but no origin is set (expected $ORIGIN before it)");
			return -1;
		}
		memcpy(out, z->sc.origin, dns_name_len(z->sc.origin));
		return (int)dns_name_len(out);
	}
	int n = dns_name_from_text(t->s, t->n, z->sc.has_origin ? z->sc.origin : NULL, out, &why);
	if (n < 0)
		zerr(z, t, "bad %s %s: %s", what, shown(t, b), why);
	return n;
}

static void
put_name(struct zf *z, const char *what)
{
	struct tok t;
	uint8_t name[DNS_NAME_MAX];
	int n;

	if (field(z, what, &t) && (n = name_of(z, &t, what, name)) > 0)
		put(z, name, (size_t)n);
}

static int
hex_val(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	c = (unsigned)ascii_lower((int)c);
	return c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10) : -1;
}

/* The rest of the record as hex, blanks allowed between digits (BIND
 * splits long values over lines); at least min bytes. */
static void
put_hex_rest(struct zf *z, const char *what, size_t min)
{
	size_t start = z->ps->rdlen;
	int hi = -1;
	char b[SHOW_MAX];
	struct tok t;

	while (!z->rec_bad && is_data(peek(z))) {
		next(z, &t);
		if (t.kind == TK_QUOTED)
			zerr(z, &t, "found a quoted string (expected %s in hex)", what);
		for (size_t i = 0; i < t.n && !z->rec_bad; i++) {
			int v = hex_val((unsigned char)t.s[i]);
			if (v < 0)
				zerr(z, &t, "found %s (expected %s in hex)", shown(&t, b), what);
			else if (hi < 0)
				hi = v;
			else {
				uint8_t byte = (uint8_t)(hi << 4 | v);
				put(z, &byte, 1);
				hi = -1;
			}
		}
	}
	if (z->rec_bad)
		return;
	if (hi >= 0)
		zerr(z, &t, "found an odd number of hex digits (expected %s as whole bytes)", what);
	else if (z->ps->rdlen - start < min)
		zerr(z, peek(z), "found %s (expected %s in hex)", shown(peek(z), b), what);
}

static int
b64_val(unsigned c)
{
	if (c >= 'A' && c <= 'Z')
		return (int)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (int)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (int)(c - '0' + 52);
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Base64 decoding across tokens (RFC 4648 4; BIND splits keys and
 * signatures with blanks). */
struct b64 {
	uint32_t acc;
	unsigned n;		/* characters so far, padding included */
	unsigned pad;
};

/* false on a character that cannot come here. */
static bool
b64_feed(struct zf *z, struct b64 *s, unsigned c)
{
	if (c == '=') {
		/* padding after 2 or 3 characters of a quad, then only more '=' */
		unsigned k = s->n % 4;
		if ((s->pad == 0 && k < 2) || (s->pad > 0 && k != 3))
			return false;
		if (s->pad == 0 && k == 2) {
			uint8_t b = (uint8_t)(s->acc >> 4);
			put(z, &b, 1);
		} else if (s->pad == 0) {
			uint8_t b[2] = { (uint8_t)(s->acc >> 10), (uint8_t)(s->acc >> 2) };
			put(z, b, 2);
		}
		s->pad++;
		s->n++;
		return true;
	}
	int v = b64_val(c);
	if (v < 0 || s->pad > 0)
		return false;
	s->acc = (s->acc << 6 | (uint32_t)v) & 0xffffff;
	if (++s->n % 4 == 0) {
		uint8_t b[3] = { (uint8_t)(s->acc >> 16), (uint8_t)(s->acc >> 8), (uint8_t)s->acc };
		put(z, b, 3);
	}
	return true;
}

static void
put_b64_rest(struct zf *z, const char *what)
{
	struct b64 s = { 0, 0, 0 };
	char b[SHOW_MAX];
	struct tok t;

	while (!z->rec_bad && is_data(peek(z))) {
		next(z, &t);
		if (t.kind == TK_QUOTED)
			zerr(z, &t, "found a quoted string (expected %s in base64)", what);
		for (size_t i = 0; i < t.n && !z->rec_bad; i++)
			if (!b64_feed(z, &s, (unsigned char)t.s[i]))
				zerr(z, &t, "found %s (expected %s in base64)", shown(&t, b), what);
	}
	if (z->rec_bad)
		return;
	if (s.n == 0)
		zerr(z, peek(z), "found %s (expected %s in base64)", shown(peek(z), b), what);
	else if (s.n % 4 != 0)
		zerr(z, &t, "found base64 cut short (expected %s in groups of 4 characters)", what);
}

/* One byte-counted field in hex, "-" for empty (NSEC3 salt, RFC 5155 3.3). */
static void
put_salt(struct zf *z)
{
	struct tok t;
	char b[SHOW_MAX];
	uint8_t salt[255];
	size_t n = 0;

	if (!word(z, "NSEC3 salt", &t))
		return;
	if (!(t.n == 1 && t.s[0] == '-')) {
		bool ok = t.n % 2 == 0 && t.n / 2 <= sizeof salt;
		for (size_t i = 0; ok && i < t.n; i += 2) {
			int hi = hex_val((unsigned char)t.s[i]);
			int lo = hex_val((unsigned char)t.s[i + 1]);
			ok = hi >= 0 && lo >= 0;
			if (ok)
				salt[n++] = (uint8_t)(hi << 4 | lo);
		}
		if (!ok) {
			zerr(z, &t, "found %s (expected NSEC3 salt, up to 255 bytes in hex, or -)",
			    shown(&t, b));
			return;
		}
	}
	uint8_t len = (uint8_t)n;
	put(z, &len, 1);
	put(z, salt, n);
}

static int
b32_val(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	c = (unsigned)ascii_lower((int)c);
	return c >= 'a' && c <= 'v' ? (int)(c - 'a' + 10) : -1;
}

/* The NSEC3 next hashed owner: base32 "extended hex" without padding
 * (RFC 5155 3.3, RFC 4648 7), 1..255 bytes.  A length that leaves 1, 3
 * or 6 characters of a group cannot come from whole bytes. */
static void
put_b32_hash(struct zf *z)
{
	struct tok t;
	char b[SHOW_MAX];
	uint8_t out[255];
	size_t n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (!word(z, "NSEC3 next hashed owner", &t))
		return;
	bool ok = t.n > 0 && t.n <= 408 && (t.n % 8 != 1 && t.n % 8 != 3 && t.n % 8 != 6);
	for (size_t i = 0; ok && i < t.n; i++) {
		int v = b32_val((unsigned char)t.s[i]);
		ok = v >= 0;
		acc = (acc << 5 | (uint32_t)v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (!ok) {
		zerr(z, &t, "found %s (expected NSEC3 next hashed owner in base32hex)",
		    shown(&t, b));
		return;
	}
	uint8_t len = (uint8_t)n;
	put(z, &len, 1);
	put(z, out, n);
}

/* The rest of the record as type mnemonics, encoded as the bitmap of RFC
 * 4034 4.1.2.  May be empty (NSEC3 of an empty non-terminal).  The shared
 * bitmap is left all zero whatever happens. */
static void
put_types_rest(struct zf *z, const char *what)
{
	struct parse *ps = z->ps;
	char b[SHOW_MAX];
	struct tok t;

	while (!z->rec_bad && is_data(peek(z))) {
		next(z, &t);
		int type = dns_type_from_text(t.s, t.n);
		if (t.kind == TK_QUOTED) {
			zerr(z, &t, "found a quoted string (expected %s)", what);
			break;
		}
		if (type < 0) {
			zerr(z, &t, "found %s (expected %s, a type such as A or TYPE65534)",
			    shown(&t, b), what);
			break;
		}
		ps->bits[type >> 3] |= (uint8_t)(0x80 >> (type & 7));
		ps->win_used[type >> 8] = true;
	}
	for (unsigned w = 0; w < 256; w++) {
		if (!ps->win_used[w])
			continue;
		uint8_t *win = ps->bits + w * 32;
		unsigned n = 32;
		while (win[n - 1] == 0)	/* a used window has a bit set */
			n--;
		uint8_t head[2] = { (uint8_t)w, (uint8_t)n };
		put(z, head, 2);
		put(z, win, n);
		memset(win, 0, 32);
		ps->win_used[w] = false;
	}
}

/* Decode the escapes of t into out, at most max bytes; returns the whole
 * decoded length (which may be more than max) or -1 for a bad escape. */
static long
unescape(const struct tok *t, uint8_t *out, size_t max)
{
	const char *p = t->s, *end = t->s + t->n;
	long k = 0;

	while (p < end) {
		int c = dns_text_byte(&p, end);
		if (c < 0)
			return -1;
		if ((size_t)k < max)
			out[k] = (uint8_t)c;
		k++;
	}
	return k;
}

/* A character-string (RFC 1035 3.3), quoted or not. */
static void
put_string(struct zf *z, const struct tok *t, const char *what)
{
	uint8_t s[DNS_TXT_MAX];

	long n = unescape(t, s, sizeof s);
	if (n < 0) {
		zerr(z, t, "bad escape in %s (expected \\DDD up to \\255 or \\ and a character)",
		    what);
		return;
	}
	if (n > DNS_TXT_MAX) {
		zerr(z, t, "found a %s of %ld bytes (expected at most 255; split it into several "
		    "quoted strings)", what, n);
		return;
	}
	uint8_t len = (uint8_t)n;
	put(z, &len, 1);
	put(z, s, (size_t)n);
}

/* --- rdata by type ---------------------------------------------------------- */

static void
rd_addr(struct zf *z, int af)
{
	const char *what = af == AF_INET ? "an IPv4 address" : "an IPv6 address";
	struct tok t;
	char b[SHOW_MAX], text[INET6_ADDRSTRLEN + 1];
	uint8_t a[16];

	if (!word(z, what, &t))
		return;
	bool ok = t.n < sizeof text;
	if (ok) {
		memcpy(text, t.s, t.n);
		text[t.n] = '\0';
		ok = inet_pton(af, text, a) == 1;
	}
	if (!ok) {
		zerr(z, &t, "found %s (expected %s)", shown(&t, b), what);
		return;
	}
	put(z, a, af == AF_INET ? 4 : 16);
}

static void rd_a(struct zf *z) { rd_addr(z, AF_INET); }
static void rd_aaaa(struct zf *z) { rd_addr(z, AF_INET6); }
static void rd_ns(struct zf *z) { put_name(z, "NS name"); }
static void rd_cname(struct zf *z) { put_name(z, "CNAME target"); }
static void rd_ptr(struct zf *z) { put_name(z, "PTR name"); }
static void rd_dname(struct zf *z) { put_name(z, "DNAME target"); }

static void
rd_mx(struct zf *z)
{
	put_num(z, "MX preference", 2);
	put_name(z, "MX exchange");
}

static void
rd_soa(struct zf *z)
{
	put_name(z, "SOA mname");
	put_name(z, "SOA rname");
	put_num(z, "SOA serial", 4);
	put_timer(z, "SOA refresh");
	put_timer(z, "SOA retry");
	put_timer(z, "SOA expire");
	put_timer(z, "SOA minimum");
}

static void
rd_txt(struct zf *z)
{
	struct tok t;

	if (!field(z, "TXT string", &t))
		return;
	put_string(z, &t, "TXT string");
	while (!z->rec_bad && is_data(peek(z))) {
		next(z, &t);
		put_string(z, &t, "TXT string");
	}
}

static void
rd_srv(struct zf *z)
{
	put_num(z, "SRV priority", 2);
	put_num(z, "SRV weight", 2);
	put_num(z, "SRV port", 2);
	put_name(z, "SRV target");
}

/* flags tag "value" (RFC 8659 4.1.1); the value is the rest of the
 * rdata, not a character-string, so it has no 255-byte limit. */
static void
rd_caa(struct zf *z)
{
	struct parse *ps = z->ps;
	struct tok t;
	char b[SHOW_MAX];

	put_num(z, "CAA flags", 1);
	if (!word(z, "CAA tag", &t))
		return;
	bool ok = t.n >= 1 && t.n <= 255;
	for (size_t i = 0; ok && i < t.n; i++) {
		int c = (unsigned char)t.s[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
	}
	if (!ok) {
		zerr(z, &t, "found %s (expected CAA tag, letters and digits)", shown(&t, b));
		return;
	}
	uint8_t len = (uint8_t)t.n;
	put(z, &len, 1);
	put(z, t.s, t.n);
	if (!field(z, "CAA value", &t))
		return;
	size_t room = DNS_RDATA_MAX - ps->rdlen;
	long n = unescape(&t, ps->rdata + ps->rdlen, room);
	if (n < 0)
		zerr(z, &t, "bad escape in CAA value (expected \\DDD up to \\255 or \\ and a "
		    "character)");
	else if ((size_t)n > room)
		zerr(z, &t, "rdata longer than %u bytes (expected at most that)", DNS_RDATA_MAX);
	else
		ps->rdlen += (size_t)n;
}

static void
rd_tlsa(struct zf *z)
{
	put_num(z, "TLSA usage", 1);
	put_num(z, "TLSA selector", 1);
	put_num(z, "TLSA matching type", 1);
	put_hex_rest(z, "TLSA data", 1);
}

static void
rd_sshfp(struct zf *z)
{
	put_num(z, "SSHFP algorithm", 1);
	put_num(z, "SSHFP type", 1);
	put_hex_rest(z, "SSHFP fingerprint", 1);
}

/* BIND and ldns refuse a digest whose length does not fit its type. */
static void
rd_ds(struct zf *z)
{
	struct parse *ps = z->ps;

	put_num(z, "DS key tag", 2);
	put_num(z, "DS algorithm", 1);
	put_num(z, "DS digest type", 1);
	size_t at = ps->rdlen;
	put_hex_rest(z, "DS digest", 1);
	if (z->rec_bad)
		return;
	size_t want = dns_ds_digest_len(ps->rdata[3]);
	if (want != 0 && ps->rdlen - at != want)
		zerr(z, &z->last, "found a DS digest of %zu bytes (expected %zu for digest "
		    "type %u)", ps->rdlen - at, want, ps->rdata[3]);
}

static void
rd_dnskey(struct zf *z)
{
	put_num(z, "DNSKEY flags", 2);
	put_num(z, "DNSKEY protocol", 1);
	put_num(z, "DNSKEY algorithm", 1);
	put_b64_rest(z, "DNSKEY public key");
}

static void
rd_rrsig(struct zf *z)
{
	struct tok t;
	char b[SHOW_MAX];

	if (!word(z, "RRSIG type covered", &t))
		return;
	int type = dns_type_from_text(t.s, t.n);
	if (type < 0) {
		zerr(z, &t, "found %s (expected RRSIG type covered, a type such as A or "
		    "TYPE65534)", shown(&t, b));
		return;
	}
	put_be(z, (uint64_t)type, 2);
	put_num(z, "RRSIG algorithm", 1);
	put_num(z, "RRSIG labels", 1);
	put_timer(z, "RRSIG original TTL");
	put_time(z, "RRSIG expiration");
	put_time(z, "RRSIG inception");
	put_num(z, "RRSIG key tag", 2);
	put_name(z, "RRSIG signer name");
	put_b64_rest(z, "RRSIG signature");
}

static void
rd_nsec(struct zf *z)
{
	put_name(z, "NSEC next name");
	put_types_rest(z, "NSEC type");
}

static void
rd_nsec3param(struct zf *z)
{
	put_num(z, "NSEC3 hash algorithm", 1);
	put_num(z, "NSEC3 flags", 1);
	put_num(z, "NSEC3 iterations", 2);
	put_salt(z);
}

static void
rd_nsec3(struct zf *z)
{
	rd_nsec3param(z);
	put_b32_hash(z);
	put_types_rest(z, "NSEC3 type");
}

static const struct {
	uint16_t type;
	void (*fn)(struct zf *z);
} RDATA[] = {
	{ DNS_T_A, rd_a }, { DNS_T_NS, rd_ns }, { DNS_T_CNAME, rd_cname },
	{ DNS_T_SOA, rd_soa }, { DNS_T_PTR, rd_ptr }, { DNS_T_MX, rd_mx },
	{ DNS_T_TXT, rd_txt }, { DNS_T_AAAA, rd_aaaa }, { DNS_T_SRV, rd_srv },
	{ DNS_T_DNAME, rd_dname }, { DNS_T_DS, rd_ds }, { DNS_T_SSHFP, rd_sshfp },
	{ DNS_T_RRSIG, rd_rrsig }, { DNS_T_NSEC, rd_nsec }, { DNS_T_DNSKEY, rd_dnskey },
	{ DNS_T_NSEC3, rd_nsec3 }, { DNS_T_NSEC3PARAM, rd_nsec3param },
	{ DNS_T_TLSA, rd_tlsa }, { DNS_T_CAA, rd_caa },
};

/* RFC 3597 5: "\# length hex" for any type; for the types we know, the
 * data must be valid for them. */
static void
rd_generic(struct zf *z, uint16_t type)
{
	struct parse *ps = z->ps;
	struct tok mark;
	char tb[16];
	uint64_t n = 0;

	next(z, &mark);
	struct tok t;
	if (!word(z, "rdata length after \\#", &t))
		return;
	if (!dec(t.s, t.n, DNS_RDATA_MAX, &n)) {
		char b[SHOW_MAX];
		zerr(z, &t, "found %s (expected rdata length after \\#, a number from 0 to "
		    "65535)", shown(&t, b));
		return;
	}
	put_hex_rest(z, "rdata", 0);
	if (z->rec_bad)
		return;
	if (ps->rdlen != n)
		zerr(z, &mark, "found %zu bytes of rdata after \\# %llu (expected exactly %llu)",
		    ps->rdlen, (unsigned long long)n, (unsigned long long)n);
	else if (!dns_rdata_valid(type, ps->rdata, ps->rdlen))
		zerr(z, &mark, "found \\# rdata that is not valid for type %s (expected its wire "
		    "form)", dns_type_name(type, tb));
}

static void
rdata(struct zf *z, uint16_t type)
{
	const struct tok *t = peek(z);
	char b[SHOW_MAX], tb[16];

	z->ps->rdlen = 0;
	if (t->kind == TK_WORD && t->n == 2 && memcmp(t->s, "\\#", 2) == 0) {
		rd_generic(z, type);
		return;
	}
	for (size_t i = 0; i < NELEM(RDATA); i++)
		if (RDATA[i].type == type) {
			RDATA[i].fn(z);
			return;
		}
	zerr(z, t, "found %s (expected \\# and rdata in hex for type %s, RFC 3597)",
	    shown(t, b), dns_type_name(type, tb));
}

/* --- records ------------------------------------------------------------------ */

struct rec {
	uint8_t owner[DNS_NAME_MAX];
	uint32_t ttl;
	bool has_ttl;
	uint16_t type;
	struct tok first;	/* where the record starts */
};

static bool
is_word(const struct tok *t, const char *w)
{
	return t->kind == TK_WORD && strlen(w) == t->n && ascii_memcaseeq(t->s, w, t->n);
}

/* Class mnemonics of RFC 1035 3.2.4, RFC 2136 and RFC 3597 CLASSnnn. */
static bool
is_class(const struct tok *t)
{
	static const char *const CLASSES[] = { "IN", "CH", "CS", "HS", "NONE", "ANY" };
	uint64_t v;

	for (size_t i = 0; i < NELEM(CLASSES); i++)
		if (is_word(t, CLASSES[i]))
			return true;
	return t->n > 5 && ascii_memcaseeq(t->s, "CLASS", 5) && dec(t->s + 5, t->n - 5, 65535, &v);
}

static bool
is_in(const struct tok *t)
{
	return is_word(t, "IN") || is_word(t, "CLASS1");
}

/* [TTL] [class] or [class] [TTL] before the type; t is the first token
 * after the owner and ends as the type token. */
static bool
ttl_and_class(struct zf *z, struct rec *r, struct tok *t)
{
	char b[SHOW_MAX];
	bool has_class = false;

	for (int i = 0; i < 2 && t->kind == TK_WORD; i++) {
		if (!r->has_ttl && is_digit(t->s[0])) {
			if (!dns_ttl_from_text(t->s, t->n, DNS_TTL_MAX, &r->ttl)) {
				zerr(z, t, "found TTL %s (expected seconds or units like 1h30m, at "
				    "most 2147483647)", shown(t, b));
				return false;
			}
			r->has_ttl = true;
			z->sc.ttl_last = r->ttl;
			z->sc.has_ttl_last = true;
		} else if (!has_class && is_class(t)) {
			if (!is_in(t)) {
				zerr(z, t, "found class %s (expected IN: only class IN is served)",
				    shown(t, b));
				return false;
			}
			has_class = true;
		} else {
			break;
		}
		if (!field(z, "a type", t))
			return false;
	}
	return true;
}

static bool
type_of(struct zf *z, struct rec *r, const struct tok *t)
{
	char b[SHOW_MAX], tb[16];

	if (t->kind == TK_QUOTED) {
		zerr(z, t, "found a quoted string (expected a type)");
		return false;
	}
	int type = dns_type_from_text(t->s, t->n);
	if (type < 0) {
		zerr(z, t, "found %s (expected a type such as A, MX or TXT, or TYPEnnn)",
		    shown(t, b));
		return false;
	}
	if (dns_type_is_meta((uint16_t)type)) {
		zerr(z, t, "found type %s (expected a type that holds data, not a query or meta "
		    "type)", dns_type_name((uint16_t)type, tb));
		return false;
	}
	r->type = (uint16_t)type;
	return true;
}

/* The owner of a record: the name at the start of the line, or the
 * previous owner for a line starting with a blank.  It becomes the
 * previous owner even when it is out of zone, so the lines after it are
 * not all reported as having none. */
static bool
owner(struct zf *z, struct rec *r, const struct tok *t, bool blank)
{
	struct parse *ps = z->ps;
	char zt[DNS_NAME_TEXT_MAX], ot[DNS_NAME_TEXT_MAX];

	if (blank && !z->sc.has_owner) {
		zerr(z, t, "found a record without an owner name and no previous one (expected a "
		    "name at the start of the line)");
		return false;
	}
	if (blank)
		memcpy(r->owner, z->sc.owner, dns_name_len(z->sc.owner));
	else if (name_of(z, t, "owner name", r->owner) < 0)
		return false;
	memcpy(z->sc.owner, r->owner, dns_name_len(r->owner));
	z->sc.has_owner = true;
	if (!ps->has_zone) {
		zerr(z, t, "found a record before $ORIGIN (expected $ORIGIN first when no zone "
		    "origin is given)");
		return false;
	}
	if (!dns_name_under(r->owner, ps->zone)) {
		dns_name_to_text(r->owner, ot);
		dns_name_to_text(ps->zone, zt);
		zerr(z, t, "owner name %.300s is out of zone (expected %.300s or a name below it)",
		    ot, zt);
		return false;
	}
	return true;
}

/* TTL inheritance: the record's own, else $TTL, else the last one given
 * (RFC 1035 5.1, RFC 2308 4); the SOA may fall back to its minimum
 * field, which is what BIND does, with a warning. */
static bool
resolve_ttl(struct zf *z, struct rec *r)
{
	struct parse *ps = z->ps;

	if (r->has_ttl)
		return true;
	if (z->sc.has_ttl_default) {
		r->ttl = z->sc.ttl_default;
		return true;
	}
	if (z->sc.has_ttl_last) {
		r->ttl = z->sc.ttl_last;
		return true;
	}
	if (r->type != DNS_T_SOA) {
		zerr(z, &r->first, "found a record without a TTL (expected a TTL on it, $TTL "
		    "before it, or an earlier record with a TTL)");
		return false;
	}
	const uint8_t *m = ps->rdata + ps->rdlen - 4;
	uint32_t min = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	r->ttl = min > DNS_TTL_MAX ? DNS_TTL_MAX : min;
	zwarn(z, &r->first, "found no TTL and no $TTL (expected one; the SOA minimum %u is "
	    "used as its TTL)", r->ttl);
	z->sc.ttl_last = r->ttl;
	z->sc.has_ttl_last = true;
	return true;
}

static void
emit(struct zf *z, const struct rec *r)
{
	struct parse *ps = z->ps;
	struct dns_rr rr = {
		.owner = r->owner, .type = r->type, .rclass = DNS_C_IN, .ttl = r->ttl,
		.rdlen = (uint16_t)ps->rdlen, .rdata = ps->rdata, .file = z->file,
		.line = r->first.line,
	};
	if (ps->fn(ps->arg, &rr) != 0)
		ps->stop = ps->cb_stop = true;
}

/* owner [TTL] [class] type rdata; t is the first token. */
static void
record(struct zf *z, struct tok *t, bool blank)
{
	struct rec r;

	memset(&r, 0, sizeof r);
	r.first = *t;
	if (!owner(z, &r, t, blank) || (!blank && !field(z, "a TTL, class or type", t)))
		return;
	if (!ttl_and_class(z, &r, t) || !type_of(z, &r, t))
		return;
	rdata(z, r.type);
	end_record(z);
	if (z->rec_bad || !resolve_ttl(z, &r))
		return;
	emit(z, &r);
}

/* --- directives ----------------------------------------------------------- */

static void
dir_origin(struct zf *z)
{
	struct parse *ps = z->ps;
	struct tok t;
	uint8_t name[DNS_NAME_MAX];

	if (!field(z, "a domain name after $ORIGIN", &t) ||
	    name_of(z, &t, "$ORIGIN name", name) < 0)
		return;
	end_record(z);
	if (z->rec_bad)
		return;
	memcpy(z->sc.origin, name, dns_name_len(name));
	z->sc.has_origin = true;
	if (!ps->has_zone) {
		memcpy(ps->zone, name, dns_name_len(name));
		ps->has_zone = true;
	}
}

static void
dir_ttl(struct zf *z)
{
	struct tok t;
	char b[SHOW_MAX];
	uint32_t v;

	if (!word(z, "a TTL after $TTL", &t))
		return;
	if (!dns_ttl_from_text(t.s, t.n, DNS_TTL_MAX, &v)) {
		zerr(z, &t, "found TTL %s (expected seconds or units like 1h30m, at most "
		    "2147483647)", shown(&t, b));
		return;
	}
	end_record(z);
	if (z->rec_bad)
		return;
	z->sc.ttl_default = v;
	z->sc.has_ttl_default = true;
}

/* The included file's path: relative to the including file's directory. */
static char *
include_path(struct zf *z, const struct tok *t)
{
	char raw[PATH_MAX_LEN];
	long n = unescape(t, (uint8_t *)raw, sizeof raw - 1);

	if (n <= 0 || (size_t)n >= sizeof raw || memchr(raw, '\0', (size_t)n) != NULL) {
		zerr(z, t, "found a bad file name (expected a path of 1 to %d bytes without NUL)",
		    PATH_MAX_LEN - 1);
		return NULL;
	}
	raw[n] = '\0';
	const char *slash = strrchr(z->file, '/');
	if (raw[0] == '/' || slash == NULL)
		return xstrdup(raw);
	char *path = xasprintf("%.*s/%s", (int)(slash - z->file), z->file, raw);
	if (strlen(path) >= PATH_MAX_LEN) {
		zerr(z, t, "found a bad file name (expected a path of 1 to %d bytes without NUL)",
		    PATH_MAX_LEN - 1);
		free(path);
		return NULL;
	}
	return path;
}

/* Read and parse the file; its messages from afile_read are turned into
 * one error at the $INCLUDE line.  The files of one include chain are all
 * in memory at once, so together they get the size cap of one file. */
static void
include_file(struct zf *z, const struct tok *at, const char *path, const struct scope *sc)
{
	struct parse *ps = z->ps;
	struct diag tmp;
	char *text;
	size_t len;

	diag_init(&tmp);
	if (afile_read(path, DNS_ZONEFILE_MAX - ps->held, "a zone file", &text, &len, &tmp) < 0) {
		const char *msg = diag_text(&tmp);
		zerr(z, at, "cannot include %.*s", (int)strcspn(msg, "\n"), msg);
		diag_free(&tmp);
		return;
	}
	diag_free(&tmp);
	ps->depth++;
	ps->held += len;
	parse_file(ps, path, text, len, sc, true);
	ps->held -= len;
	ps->depth--;
	afile_text_free(&text, len);
}

static void
dir_include(struct zf *z, const struct tok *dir)
{
	struct tok t, o;
	struct scope sc = z->sc;
	char *path;

	if (!z->allow_include) {
		zerr(z, dir, "$INCLUDE not allowed here");
		return;
	}
	if (!field(z, "a file name after $INCLUDE", &t))
		return;
	if (is_data(peek(z))) {
		next(z, &o);
		if (name_of(z, &o, "$INCLUDE origin", sc.origin) < 0)
			return;
		sc.has_origin = true;
	}
	end_record(z);
	if (z->rec_bad)
		return;
	if (z->ps->depth >= DNS_ZONEFILE_DEPTH_MAX) {
		zerr(z, dir, "found $INCLUDE nested more than %d deep (expected at most %d "
		    "levels)", DNS_ZONEFILE_DEPTH_MAX, DNS_ZONEFILE_DEPTH_MAX);
		return;
	}
	if ((path = include_path(z, &t)) == NULL)
		return;
	include_file(z, &t, path, &sc);
	free(path);
}

static void
directive(struct zf *z, const struct tok *t)
{
	char b[SHOW_MAX];

	if (is_word(t, "$ORIGIN"))
		dir_origin(z);
	else if (is_word(t, "$TTL"))
		dir_ttl(z);
	else if (is_word(t, "$INCLUDE"))
		dir_include(z, t);
	else
		zerr(z, t, "found directive %s (expected $ORIGIN, $TTL or $INCLUDE)", shown(t, b));
}

/* --- driver ----------------------------------------------------------------- */

/* One record or directive, or a blank line; false at the end of the text. */
static bool
line_record(struct zf *z)
{
	struct lexer *lx = &z->lx;
	struct tok t;
	bool blank = lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t');

	z->rec_bad = false;
	z->at_end = false;
	next(z, &t);
	if (t.kind == TK_EOF)
		return false;
	if (t.kind == TK_WORD && !blank && t.s[0] == '$')
		directive(z, &t);
	else if (is_data(&t))
		record(z, &t, blank);
	skip_rest(z);
	return true;
}

static void
parse_file(struct parse *ps, const char *file, const char *text, size_t len,
    const struct scope *sc, bool allow_include)
{
	struct zf z;

	memset(&z, 0, sizeof z);
	z.ps = ps;
	z.file = file;
	z.sc = *sc;
	z.allow_include = allow_include;
	z.lx.p = z.lx.bol = text;
	z.lx.end = text + len;
	z.lx.line = 1;
	while (!ps->stop) {
		if (ps->n_err >= DNS_ZONEFILE_ERRORS_MAX && z.lx.p < z.lx.end) {
			diag_err(ps->d, file, 0, "too many errors, stopped after line %u",
			    z.lx.line - 1);
			ps->stop = true;
			break;
		}
		if (!line_record(&z))
			break;
	}
}

int
dns_zonefile_parse_text(const char *file, const char *text, size_t len,
    const uint8_t *origin, bool allow_include, dns_rr_fn *fn, void *arg, struct diag *d)
{
	struct parse *ps = xcalloc(1, sizeof *ps);
	struct scope sc;
	int rc;

	memset(&sc, 0, sizeof sc);
	ps->d = d;
	ps->fn = fn;
	ps->arg = arg;
	ps->held = len < DNS_ZONEFILE_MAX ? len : DNS_ZONEFILE_MAX;
	if (origin != NULL) {
		memcpy(ps->zone, origin, dns_name_len(origin));
		memcpy(sc.origin, origin, dns_name_len(origin));
		ps->has_zone = sc.has_origin = true;
	}
	parse_file(ps, file, text, len, &sc, allow_include);
	rc = ps->n_err > 0 || ps->cb_stop ? -1 : 0;
	free(ps);
	return rc;
}

int
dns_zonefile_parse(const char *file, const uint8_t *origin, dns_rr_fn *fn, void *arg,
    struct diag *d)
{
	char *text;
	size_t len;

	if (afile_read(file, DNS_ZONEFILE_MAX, "a zone file", &text, &len, d) < 0)
		return -1;
	int rc = dns_zonefile_parse_text(file, text, len, origin, true, fn, arg, d);
	afile_text_free(&text, len);
	return rc;
}

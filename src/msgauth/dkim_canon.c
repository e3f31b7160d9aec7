/*
 * msgauth/dkim_canon.c - DKIM canonicalisation, simple and relaxed, of
 * header fields and (streaming) of the body (RFC 6376 3.4).
 *
 * Input:   raw header fields and body bytes, LF or CRLF line ends (a CR
 *          right before an LF belongs to the line end; any other CR is
 *          data).  Output: canonical bytes, always with CRLF line ends.
 * Trusts:  nothing.  Runs in: policy, CLI.  Pure.
 *
 * The body canonicaliser holds back only what the rules may still drop
 * (trailing empty lines as a count, trailing whitespace as a flag, a CR
 * that may start a CRLF), so a message body is never buffered.
 */
#include "msgauth/dkim.h"

#include <string.h>

#include "core/util.h"

static bool
is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Drop the field's own line end, if it has one. */
static size_t
strip_eol(const uint8_t *f, size_t len)
{
	if (len > 0 && f[len - 1] == '\n') {
		len--;
		if (len > 0 && f[len - 1] == '\r')
			len--;
	}
	return len;
}

/* RFC 6376 3.4.1: the field unchanged, but every line end is CRLF. */
static void
canon_simple(const uint8_t *f, size_t len, struct buf *out)
{
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		if (f[i] == '\n' && (i == 0 || f[i - 1] != '\r')) {
			buf_append(out, f + run, i - run);
			buf_append(out, "\r\n", 2);
			run = i + 1;
		}
	}
	buf_append(out, f + run, len - run);
}

/* RFC 6376 3.4.2: lowercase name, unfolded value, WSP runs as one SP, no
 * WSP around the colon or at the end. */
static void
canon_relaxed(const uint8_t *f, size_t len, size_t name_len, struct buf *out)
{
	for (size_t i = 0; i < name_len && i < len; i++)
		buf_putc(out, (uint8_t)ascii_lower(f[i]));
	buf_putc(out, ':');
	const uint8_t *colon = memchr(f, ':', len);
	size_t i = colon ? (size_t)(colon - f) + 1 : len;
	bool sp = false, started = false;
	for (; i < len; i++) {
		uint8_t c = f[i];
		/* unfolding: a line end inside the field disappears */
		if (c == '\n' || (c == '\r' && i + 1 < len && f[i + 1] == '\n'))
			continue;
		if (is_wsp(c)) {
			sp = started;
			continue;
		}
		if (sp)
			buf_putc(out, ' ');
		sp = false;
		started = true;
		buf_putc(out, c);
	}
}

void
dkim_canon_header(enum dkim_canon c, const uint8_t *f, size_t len, size_t name_len, bool crlf,
    struct buf *out)
{
	len = strip_eol(f, len);
	if (c == DKIM_RELAXED)
		canon_relaxed(f, len, name_len, out);
	else
		canon_simple(f, len, out);
	if (crlf)
		buf_append(out, "\r\n", 2);
}

void
dkim_body_init(struct dkim_body *b, enum dkim_canon c, bool has_limit, uint64_t limit,
    dkim_emit_fn emit, void *arg)
{
	memset(b, 0, sizeof *b);
	b->c = c;
	b->has_limit = has_limit;
	b->limit = limit;
	b->emit = emit;
	b->arg = arg;
}

static void
flush(struct dkim_body *b)
{
	if (b->tmp_len > 0)
		b->emit(b->arg, b->tmp, b->tmp_len);
	b->tmp_len = 0;
}

/* One canonical byte: counted always, passed on while under l=. */
static void
out(struct dkim_body *b, uint8_t c)
{
	bool take = !b->has_limit || b->total < b->limit;
	b->total++;
	if (!take)
		return;
	if (b->tmp_len == sizeof b->tmp)
		flush(b);
	b->tmp[b->tmp_len++] = c;
}

/* Empty lines held back turn out not to be trailing. */
static void
out_empty(struct dkim_body *b)
{
	for (; b->n_empty > 0; b->n_empty--) {
		out(b, '\r');
		out(b, '\n');
	}
}

static void
data(struct dkim_body *b, uint8_t c)
{
	if (b->c == DKIM_RELAXED && is_wsp(c)) {
		b->wsp = true;	/* a run of WSP becomes one SP, unless trailing */
		return;
	}
	out_empty(b);
	if (b->wsp)
		out(b, ' ');
	b->wsp = false;
	out(b, c);
	b->line = true;
}

static void
line_end(struct dkim_body *b)
{
	b->wsp = false;		/* relaxed: WSP at the end of a line goes */
	if (b->line) {
		out(b, '\r');
		out(b, '\n');
		b->line = false;
	} else if (b->n_empty < UINT64_MAX) {
		b->n_empty++;
	}
}

/* Canonical bytes in bulk: what out() does for each of them. */
static void
out_run(struct dkim_body *b, const uint8_t *p, size_t n)
{
	size_t take = n;
	if (b->has_limit)
		take = b->total >= b->limit ? 0 : b->limit - b->total < n ?
		    (size_t)(b->limit - b->total) : n;
	b->total += n;
	if (take == 0)
		return;
	if (take > sizeof b->tmp - b->tmp_len) {
		flush(b);
		b->emit(b->arg, p, take);
		return;
	}
	memcpy(b->tmp + b->tmp_len, p, take);
	b->tmp_len += take;
}

/* The bytes that end a run of plain body bytes: line ends, and for
 * relaxed also white space. */
static const uint8_t stop_simple[256] = { ['\r'] = 1, ['\n'] = 1 };
static const uint8_t stop_relaxed[256] = { ['\r'] = 1, ['\n'] = 1, [' '] = 1, ['\t'] = 1 };

/* Bytes of x equal to c have their high bit set in the result; a false
 * hit can only follow a true one (the borrow), so no stop is missed and a
 * false one just ends the word-at-a-time scan early. */
static inline uint64_t
has_byte(uint64_t x, uint8_t c)
{
	uint64_t v = x ^ (0x0101010101010101ull * c);
	return (v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull;
}

/* The end of the run of plain bytes starting at p[j]: eight bytes at a
 * time while none can stop it, then byte by byte.  Canonicalising is
 * most of the cost of a DKIM check that is not the cryptography. */
static size_t
scan_plain(const uint8_t *p, size_t j, size_t len, bool relaxed, const uint8_t *stop)
{
	while (j + 8 <= len) {
		uint64_t x;
		memcpy(&x, p + j, 8);
		uint64_t m = has_byte(x, '\r') | has_byte(x, '\n');
		if (relaxed)
			m |= has_byte(x, ' ') | has_byte(x, '\t');
		if (m != 0)
			break;
		j += 8;
	}
	while (j < len && !stop[p[j]])
		j++;
	return j;
}

void
dkim_body_feed(struct dkim_body *b, const uint8_t *p, size_t len)
{
	bool relaxed = b->c == DKIM_RELAXED;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		/* the common case, a run of bytes that are neither line ends
		 * nor (relaxed) white space: the first goes through data(),
		 * which settles held-back lines and spaces, the rest are
		 * canonical as they are */
		const uint8_t *stop = relaxed ? stop_relaxed : stop_simple;
		if (!b->cr && !stop[c]) {
			size_t j = i + 1;
			for (;;) {
				j = scan_plain(p, j, len, relaxed, stop);
				/* relaxed: one SP between two plain bytes is canonical
				 * as it is, so the run goes on (runs are then lines,
				 * not words) */
				if (relaxed && j + 1 < len && p[j] == ' ' && !stop[p[j + 1]]) {
					j += 2;
					continue;
				}
				break;
			}
			data(b, c);
			out_run(b, p + i + 1, j - i - 1);
			i = j - 1;
			continue;
		}
		if (b->cr) {
			b->cr = false;
			if (c == '\n') {
				line_end(b);
				continue;
			}
			data(b, '\r');	/* a lone CR is data */
		}
		if (c == '\r')
			b->cr = true;
		else if (c == '\n')
			line_end(b);
		else
			data(b, c);
	}
}

void
dkim_body_finish(struct dkim_body *b)
{
	if (b->cr)
		data(b, '\r');
	b->cr = false;
	/* a last line without a line end gets one; trailing empty lines
	 * (b->n_empty) are dropped */
	if (b->line) {
		out(b, '\r');
		out(b, '\n');
		b->line = false;
	}
	/* RFC 6376 3.4.3: an empty body is one CRLF in simple; 3.4.4: empty
	 * stays empty in relaxed */
	if (b->c == DKIM_SIMPLE && b->total == 0) {
		out(b, '\r');
		out(b, '\n');
	}
	b->n_empty = 0;
	flush(b);
}

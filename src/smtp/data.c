/*
 * smtp/data.c - DATA and BDAT content framing (RFC 5321 4.1.1.4, 4.5.2;
 * RFC 3030), one byte state machine per mode.
 *
 * Input:   message bytes from the network in pieces of any size, split
 *          anywhere (between CR and LF, after a leading dot, ...).
 *          Nothing about them is trusted.
 * Output:  decoded content appended to the caller's struct buf: CRLF -> LF,
 *          DATA lines dot-unstuffed, bare CR and bare LF copied unchanged
 *          and flagged.  If the buf reaches its maximum it holds exactly
 *          the first buf.max bytes of the content and buf.err is set.
 * Trusts:  nothing.  Runs in: smtp worker (unprivileged).
 * Not here: the 354/250/550/552 replies, size limits, header parsing.
 *
 * The one framing rule (the SMTP smuggling defence): DATA ends at the
 * first <CRLF>.<CRLF> of the stream "CRLF" + data, and nowhere else.  A
 * bare LF or bare CR is content, never a line end, so "<LF>.<LF>",
 * "<LF>.<CRLF>", "<CR>.<CR>", "<CRLF>.<LF>", "<CR>.<CRLF>" all leave us
 * in the data.  A receiver that accepts any of those as an end lets a
 * sender hide a second message inside the first one when a relay in
 * front of us disagrees (Postfix smtp_stream.c, CVE-2023-51764 family).
 *
 * DATA states, named after what the last bytes were:
 *
 *	BOL	start of a line: start of data, or just after a real CRLF
 *	TEXT	inside a line
 *	CR	a CR we cannot judge yet (LF next makes it a line end)
 *	DOT	BOL then ".": the dot is dropped whatever follows (4.5.2)
 *	DOTCR	BOL "." CR: an LF now ends the data
 *	DONE	terminator seen; nothing more is consumed
 *
 *	BOL   --'.'-->  DOT     BOL   --other--> TEXT (byte not consumed)
 *	TEXT  --CR--->  CR      TEXT  --LF-----> TEXT (bare LF, emitted)
 *	CR    --LF--->  BOL     emit LF
 *	CR    --CR--->  CR      emit the first CR, bare
 *	CR    --other-> TEXT    emit CR, bare (byte not consumed)
 *	DOT   --CR--->  DOTCR   DOT   --other--> TEXT (byte not consumed)
 *	DOTCR --LF--->  DONE    DOTCR --other--> CR (byte not consumed)
 *
 * BDAT has only TEXT and CR, and CR --LF--> TEXT: there is no dot rule
 * and no terminator, the chunk length frames the data (RFC 3030 2).
 *
 * Speed: runs of ordinary bytes are found with memchr and appended as one
 * span, so the per-byte cost is two memchr passes, not a switch.
 */
#include "smtp/data.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum {
	/* 0 is left unused so a struct that was never initialised trips
	 * the asserts instead of silently parsing. */
	D_BOL = 1, D_TEXT, D_CR, D_DOT, D_DOTCR, D_DONE,
	B_TEXT = 16, B_CR,
};

/* Append n bytes, or as many as still fit before out->max and then set
 * the sticky error.  buf_append would drop the whole span instead; the
 * partial copy makes the kept prefix independent of how the network
 * happened to split the input. */
static void
emit(struct buf *out, const uint8_t *p, size_t n)
{
	if (out->err || n == 0)
		return;
	size_t room = out->len < out->max ? out->max - out->len : 0;
	if (n <= room) {
		buf_append(out, p, n);
		return;
	}
	buf_append(out, p, room);
	out->err = true;
}

static void
emit_byte(struct buf *out, uint8_t c)
{
	emit(out, &c, 1);
}

/*
 * Positions of the next CR and next LF at or after the cursor, each found
 * with memchr and remembered until the cursor passes it.  Remembering
 * matters: asking afresh after every CR would rescan to the next LF each
 * time, which is quadratic on a piece full of bare CRs.
 */
struct scan {
	const uint8_t *in;
	size_t len;
	size_t cr, lf;		/* offset of next CR / LF, len if none */
};

static size_t
find(const struct scan *s, size_t from, int c)
{
	const uint8_t *q = memchr(s->in + from, c, s->len - from);
	return q != NULL ? (size_t)(q - s->in) : s->len;
}

static void
scan_init(struct scan *s, const uint8_t *in, size_t len)
{
	s->in = in;
	s->len = len;
	s->cr = find(s, 0, '\r');
	s->lf = find(s, 0, '\n');
}

/*
 * TEXT: copy ordinary bytes from *i up to the next CR or LF and consume
 * that byte too.  A bare LF is emitted and flagged and the line goes on
 * (it is not a line end, so a dot after it is not special).  Returns
 * true when it stopped on a CR, which the caller must hold as pending.
 */
static bool
text_run(struct smtp_data *d, struct scan *s, size_t *i, struct buf *out)
{
	if (s->cr < *i)
		s->cr = find(s, *i, '\r');
	if (s->lf < *i)
		s->lf = find(s, *i, '\n');
	size_t stop = s->cr < s->lf ? s->cr : s->lf;
	emit(out, s->in + *i, stop - *i);
	*i = stop;
	if (stop == s->len)
		return false;
	(*i)++;
	if (s->in[stop] == '\r')
		return true;
	d->bare_lf = true;
	emit_byte(out, '\n');
	return false;
}

void
smtp_data_init(struct smtp_data *d)
{
	memset(d, 0, sizeof *d);
	/* The 354 reply counts as the CRLF before the first line, so a
	 * leading "." is unstuffed and ".\r\n" at once is an empty message
	 * (4.1.1.4). */
	d->state = D_BOL;
}

/*
 * DATA mode.  Returns the number of bytes consumed: len, or less once
 * the terminator is found (d->done set, the return value ends just after
 * its LF; what follows belongs to the command parser).  Returns 0 once
 * done.  The content is appended to out; a full out does not stop the
 * scan, because the server must still read to the end before its 552.
 */
size_t
smtp_data_feed(struct smtp_data *d, const uint8_t *in, size_t len, struct buf *out)
{
	assert(d->state >= D_BOL && d->state <= D_DONE);
	if (d->state == D_DONE || len == 0)
		return 0;

	struct scan s;
	scan_init(&s, in, len);
	int st = d->state;
	size_t i = 0;

	while (i < len && st != D_DONE) {
		uint8_t c = in[i];
		switch (st) {
		case D_BOL:
			if (c == '.') {
				i++;
				st = D_DOT;
			} else {
				st = D_TEXT;
			}
			break;
		case D_TEXT:
			if (text_run(d, &s, &i, out))
				st = D_CR;
			break;
		case D_CR:
			if (c == '\n') {
				i++;
				emit_byte(out, '\n');
				st = D_BOL;
				break;
			}
			/* Not followed by LF: the held CR was bare.  Emit
			 * it as it came; the flag makes the server refuse the
			 * message, the output just has to be deterministic. */
			d->bare_cr = true;
			emit_byte(out, '\r');
			if (c == '\r')
				i++;	/* the new CR is pending in turn */
			else
				st = D_TEXT;
			break;
		case D_DOT:
			/* The dot is gone either way: ".." gives ".", and
			 * ".x" gives "x" -- sloppy senders lose a dot, but
			 * 4.5.2 says delete the first one, and doing the
			 * same thing for every line keeps this simple. */
			if (c == '\r') {
				i++;
				st = D_DOTCR;
			} else {
				st = D_TEXT;
			}
			break;
		case D_DOTCR:
			if (c == '\n') {
				i++;
				st = D_DONE;
			} else {
				/* "." then a bare CR: exactly the CR state
				 * with the dot already dropped.  This is what
				 * keeps <CRLF>.<CR><CR><LF> from ending. */
				st = D_CR;
			}
			break;
		default:
			abort();	/* bug: state outside the enum */
		}
	}

	d->state = st;
	d->n_raw += i;
	if (st == D_DONE) {
		/* The ".CRLF" is framing, not content; all three bytes were
		 * counted above (perhaps in earlier calls), so n_raw >= 3. */
		assert(d->n_raw >= 3);
		d->n_raw -= 3;
		d->done = true;
	}
	return i;
}

void
smtp_bdat_init(struct smtp_data *d)
{
	memset(d, 0, sizeof *d);
	d->state = B_TEXT;
}

/*
 * BDAT mode: all len bytes are content.  A CR ending this piece is held
 * (not yet emitted nor flagged) until the next piece or
 * smtp_bdat_finish() tells what it was.
 */
void
smtp_bdat_feed(struct smtp_data *d, const uint8_t *in, size_t len, struct buf *out)
{
	assert(d->state == B_TEXT || d->state == B_CR);
	if (len == 0)
		return;

	struct scan s;
	scan_init(&s, in, len);
	int st = d->state;
	size_t i = 0;

	while (i < len) {
		if (st == B_TEXT) {
			if (text_run(d, &s, &i, out))
				st = B_CR;
			continue;
		}
		uint8_t c = in[i];
		if (c == '\n') {
			i++;
			emit_byte(out, '\n');
			st = B_TEXT;
			continue;
		}
		d->bare_cr = true;
		emit_byte(out, '\r');
		if (c == '\r')
			i++;
		else
			st = B_TEXT;
	}

	d->state = st;
	d->n_raw += len;
}

/* After the LAST chunk: a CR still held can no longer meet its LF. */
void
smtp_bdat_finish(struct smtp_data *d, struct buf *out)
{
	assert(d->state == B_TEXT || d->state == B_CR);
	if (d->state == B_CR) {
		d->bare_cr = true;
		emit_byte(out, '\r');
		d->state = B_TEXT;
	}
}

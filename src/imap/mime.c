/*
 * imap/mime.c - the MIME structure of a stored message for IMAP FETCH:
 * ENVELOPE, BODY[STRUCTURE], BODY[section], BINARY[section]
 * (RFC 9051 6.4.5, 7.5.2, 9; RFC 2045 and 2046 MIME; RFC 5322 addresses;
 * RFC 3516 BINARY).
 *
 * Input:   message bytes with LF or CRLF line ends, any content at all;
 *          section specs from the client.  Nothing is trusted.
 * Output:  a tree of parts (offsets into the message and line-end counts,
 *          so every size in CRLF octets is a subtraction), and from it
 *          IMAP text or section bytes appended to a struct buf.
 * Trusts:  nothing.  Runs in: imap worker (unprivileged).  No I/O.
 * Not here: reading the file, FETCH syntax outside the brackets, partial
 *          <origin.count> slicing.
 *
 * A part is a header and a body.  The message is part 0.  A multipart
 * part's children are the parts between its delimiter lines; a
 * message/rfc822 part has one child, the message its body holds (whose
 * header and body span exactly that body).  Parsing is one pass over the
 * lines with an explicit stack (the chain of open parts, and one frame
 * per open multipart holding its boundary), so depth costs no recursion.
 * A delimiter line closes every part opened inside the multipart's
 * current child, at the line end before the delimiter (RFC 2046 5.1.1:
 * that CRLF belongs to the delimiter).
 */
#include "imap/mime.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/util.h"

#define NONE	UINT32_MAX

enum part_kind { K_LEAF, K_MULTI, K_MSG };

/* A position with the LFs and bare LFs (no CR before them) in front of
 * it: the CRLF size of a range is its length plus the difference in
 * bare LFs, its line count the difference in LFs. */
struct mark {
	size_t off;
	uint64_t lf;
	uint64_t bare;
};

struct part {
	struct mark hs;		/* header start */
	struct mark bs;		/* body start: after the header's blank line */
	struct mark be;		/* body end */
	uint32_t parent, first, last, next;	/* tree links, NONE when absent */
	uint8_t depth;		/* the message is 0 */
	uint8_t kind;		/* enum part_kind */
	bool has_blank;		/* the header ended with its blank line */
	bool is_opaque;		/* multipart or message made a leaf by a limit */
	bool is_digest;		/* multipart/digest */
};

struct mime_msg {
	const uint8_t *msg;
	size_t len;
	struct part *parts;
	uint32_t n_parts, cap;
};

/* ---- bytes and lines ------------------------------------------------ */

static bool
is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Whitespace inside a header value: a line end there is folding. */
static bool
is_lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static uint8_t
upper(uint8_t c)
{
	return (c >= 'a' && c <= 'z') ? (uint8_t)(c - ('a' - 'A')) : c;
}

/* The offset just past the LF that ends the line at p, or end. */
static size_t
line_end(const uint8_t *s, size_t p, size_t end)
{
	const uint8_t *nl = memchr(s + p, '\n', end - p);
	return nl != NULL ? (size_t)(nl - s) + 1 : end;
}

/* An empty line at p: LF or CRLF alone (a line of spaces is folding). */
static bool
is_blank_line(const uint8_t *s, size_t p, size_t end)
{
	if (p >= end)
		return false;
	return s[p] == '\n' || (end - p >= 2 && s[p] == '\r' && s[p + 1] == '\n');
}

static uint64_t
span_size(const struct mark *a, const struct mark *b)
{
	return (uint64_t)(b->off - a->off) + (b->bare - a->bare);
}

/* Append s[a..b) with every LF not preceded by CR (within the range)
 * written as CRLF. */
static void
put_crlf(struct buf *out, const uint8_t *s, size_t a, size_t b)
{
	size_t p = a;
	while (p < b) {
		const uint8_t *nl = memchr(s + p, '\n', b - p);
		if (nl == NULL) {
			buf_append(out, s + p, b - p);
			return;
		}
		size_t i = (size_t)(nl - s);
		bool has_cr = i > a && s[i - 1] == '\r';
		buf_append(out, s + p, i - p);
		buf_append(out, has_cr ? "\n" : "\r\n", has_cr ? 1 : 2);
		p = i + 1;
	}
}

uint64_t
mime_crlf_size(const uint8_t *msg, size_t len)
{
	uint64_t n = len;
	size_t p = 0;
	while (p < len) {
		const uint8_t *nl = memchr(msg + p, '\n', len - p);
		if (nl == NULL)
			break;
		size_t i = (size_t)(nl - msg);
		if (i == 0 || msg[i - 1] != '\r')
			n++;
		p = i + 1;
	}
	return n;
}

/* ---- header fields -------------------------------------------------- */

struct field {
	size_t start, end;	/* the field's lines, its last line end included */
	size_t name_len;	/* name at start, WSP before the colon dropped;
				 * 0 when the first line has no colon */
	size_t value;		/* just after the colon (end when no name) */
};

/*
 * The next field of the header s[*pos..end), continuation lines
 * included; false at the end or at the blank line.  A line without a
 * colon, or a leading continuation line, is a field without a name:
 * it stays in the header (Dovecot does the same) and matches no name.
 */
static bool
field_next(const uint8_t *s, size_t *pos, size_t end, struct field *f)
{
	size_t p = *pos;
	if (p >= end || is_blank_line(s, p, end))
		return false;
	size_t first_end = line_end(s, p, end);
	f->start = p;
	f->name_len = 0;
	if (!is_wsp(s[p])) {
		const uint8_t *c = memchr(s + p, ':', first_end - p);
		if (c != NULL) {
			size_t n = (size_t)(c - s) - p;
			while (n > 0 && is_wsp(s[p + n - 1]))
				n--;
			f->name_len = n;
			f->value = (size_t)(c - s) + 1;
		}
	}
	size_t q = first_end;
	while (q < end && is_wsp(s[q]))
		q = line_end(s, q, end);
	f->end = q;
	if (f->name_len == 0)
		f->value = q;
	*pos = q;
	return true;
}

/* The fields this module reads; the first occurrence of each counts. */
enum hf {
	HF_CTYPE, HF_CTE, HF_CID, HF_CDESC, HF_CMD5, HF_CDISP, HF_CLANG, HF_CLOC,
	HF_DATE, HF_SUBJECT, HF_FROM, HF_SENDER, HF_REPLY_TO, HF_TO, HF_CC, HF_BCC,
	HF_IN_REPLY_TO, HF_MESSAGE_ID,
	HF_N
};

static const char *const hf_names[HF_N] = {
	"Content-Type", "Content-Transfer-Encoding", "Content-ID", "Content-Description",
	"Content-MD5", "Content-Disposition", "Content-Language", "Content-Location",
	"Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"In-Reply-To", "Message-ID",
};

/* Raw value ranges (after the colon, to the field's end) of fields
 * [from, to) of the enum found in one part's header. */
struct hvals {
	bool has[HF_N];
	size_t a[HF_N], b[HF_N];
};

static void
hvals_collect(const struct mime_msg *m, const struct part *p, unsigned from, unsigned to,
    struct hvals *h)
{
	memset(h->has, 0, sizeof h->has);
	size_t pos = p->hs.off;
	struct field f;
	/* MIME_FIELDS_MAX bounds the work a header of a million tiny
	 * fields can cost per FETCH item */
	for (unsigned n = 0; n < MIME_FIELDS_MAX && field_next(m->msg, &pos, p->bs.off, &f); n++) {
		if (f.name_len == 0)
			continue;
		for (unsigned i = from; i < to; i++) {
			if (h->has[i] || strlen(hf_names[i]) != f.name_len
			    || !ascii_memcaseeq(m->msg + f.start, hf_names[i], f.name_len))
				continue;
			h->has[i] = true;
			h->a[i] = f.value;
			h->b[i] = f.end;
			break;
		}
	}
}

/* ---- structured header values (RFC 2045 5.1, RFC 5322 3.2) ---------- */

/* A cursor over a raw header value; CR and LF count as whitespace
 * (they only occur as folding), and are dropped from quoted strings. */
struct lx {
	const uint8_t *s;
	size_t p, end;
};

/* At "(": skip the comment, nested with a counter rather than recursion
 * (RFC 5322 3.2.2); *ca..*cb is its content. */
static void
skip_comment(const uint8_t *s, size_t *p, size_t end, size_t *ca, size_t *cb)
{
	size_t depth = 0;
	*ca = *p + 1;
	while (*p < end) {
		uint8_t c = s[(*p)++];
		if (c == '\\') {
			if (*p < end)
				(*p)++;
		} else if (c == '(') {
			depth++;
		} else if (c == ')' && --depth == 0) {
			*cb = *p - 1;
			return;
		}
	}
	*cb = end;
}

/* At a DQUOTE: skip the quoted string, its closing quote included. */
static void
skip_quoted(const uint8_t *s, size_t *p, size_t end)
{
	(*p)++;
	while (*p < end) {
		uint8_t c = s[(*p)++];
		if (c == '\\') {
			if (*p < end)
				(*p)++;
		} else if (c == '"') {
			return;
		}
	}
}

static void
lx_cfws(struct lx *x)
{
	while (x->p < x->end) {
		uint8_t c = x->s[x->p];
		if (is_lws(c)) {
			x->p++;
		} else if (c == '(') {
			size_t ca, cb;
			skip_comment(x->s, &x->p, x->end, &ca, &cb);
		} else {
			return;
		}
	}
}

/* RFC 2045 token: no SP, CTL or tspecial; 8-bit bytes are let through. */
static bool
is_token_char(uint8_t c)
{
	static const char tspecials[] = "()<>@,;:\\\"/[]?=";
	return c > ' ' && c != 0x7f && memchr(tspecials, c, sizeof tspecials - 1) == NULL;
}

static bool
lx_token(struct lx *x, size_t *a, size_t *b)
{
	*a = x->p;
	while (x->p < x->end && is_token_char(x->s[x->p]))
		x->p++;
	*b = x->p;
	return *b > *a;
}

static bool
span_is(const uint8_t *s, size_t a, size_t b, const char *word)
{
	size_t n = strlen(word);
	return b - a == n && ascii_memcaseeq(s + a, word, n);
}

/* The value of a quoted string (quoted: s[a] is the DQUOTE) or token
 * s[a..b), without quotes, backslashes, CR and LF, into dst (room for
 * b - a bytes); returns its length. */
static size_t
unquote(const uint8_t *s, size_t a, size_t b, bool quoted, uint8_t *dst)
{
	size_t i = a + (quoted ? 1 : 0), n = 0;
	while (i < b) {
		uint8_t c = s[i++];
		if (quoted && c == '"')
			break;
		if (quoted && c == '\\' && i < b)
			c = s[i++];
		if (c != '\r' && c != '\n')
			dst[n++] = c;
	}
	return n;
}

struct ctype {
	bool ok;		/* type "/" subtype parsed */
	size_t ta, tb, sa, sb;	/* type and subtype, in the message */
	struct lx params;	/* after the subtype */
};

/* Content-Type (RFC 2045 5.1); not ok when absent or not type/subtype,
 * which RFC 2045 5.2 says to read as text/plain. */
static void
ctype_parse(const struct mime_msg *m, const struct hvals *h, struct ctype *ct)
{
	ct->ok = false;
	if (!h->has[HF_CTYPE])
		return;
	struct lx x = { m->msg, h->a[HF_CTYPE], h->b[HF_CTYPE] };
	lx_cfws(&x);
	if (!lx_token(&x, &ct->ta, &ct->tb))
		return;
	lx_cfws(&x);
	if (x.p >= x.end || x.s[x.p] != '/')
		return;
	x.p++;
	lx_cfws(&x);
	if (!lx_token(&x, &ct->sa, &ct->sb))
		return;
	ct->params = x;
	ct->ok = true;
}

struct param {
	size_t na, nb;		/* attribute */
	size_t va, vb;		/* value as written, quotes included */
	bool is_quoted;
};

/* Leniency: after garbage, resume at the next ";" outside quotes and
 * comments. */
static void
skip_to_semicolon(struct lx *x)
{
	while (x->p < x->end) {
		uint8_t c = x->s[x->p];
		if (c == ';')
			return;
		if (c == '"') {
			skip_quoted(x->s, &x->p, x->end);
		} else if (c == '(') {
			size_t ca, cb;
			skip_comment(x->s, &x->p, x->end, &ca, &cb);
		} else {
			x->p++;
		}
	}
}

/*
 * The next "; attribute = value" (RFC 2045 5.1).  A parameter without
 * "=" is skipped.  An unquoted value runs to ";", whitespace, "(" or
 * DQUOTE: wider than a token, because boundaries like "----=_Part_1"
 * are sent unquoted every day.
 */
static bool
param_next(struct lx *x, struct param *pr)
{
	for (;;) {
		lx_cfws(x);
		if (x->p >= x->end)
			return false;
		if (x->s[x->p] != ';') {
			skip_to_semicolon(x);
			continue;
		}
		x->p++;
		lx_cfws(x);
		if (!lx_token(x, &pr->na, &pr->nb))
			continue;
		lx_cfws(x);
		if (x->p >= x->end || x->s[x->p] != '=')
			continue;
		x->p++;
		lx_cfws(x);
		pr->va = x->p;
		pr->is_quoted = x->p < x->end && x->s[x->p] == '"';
		if (pr->is_quoted) {
			skip_quoted(x->s, &x->p, x->end);
		} else {
			while (x->p < x->end && !is_lws(x->s[x->p]) && x->s[x->p] != ';'
			    && x->s[x->p] != '(' && x->s[x->p] != '"')
				x->p++;
		}
		pr->vb = x->p;
		return true;
	}
}

/* ---- parsing the structure ------------------------------------------ */

enum { F_PREAMBLE, F_CHILD, F_SKIP, F_EPILOGUE };

/* One open multipart. */
struct frame {
	uint32_t part;
	size_t chain_pos;	/* its place in the chain of open parts */
	uint8_t state;		/* F_*: where its body is */
	size_t blen;
	uint8_t b[MIME_BOUNDARY_MAX];
};

struct parser {
	struct mime_msg *m;
	const uint8_t *msg;
	size_t len;
	struct mark here;	/* the current line's start */
	uint32_t chain[MIME_DEPTH_MAX + 1];	/* open parts, chain[d] at depth d */
	size_t n_chain;
	bool in_header;		/* the chain's top is reading its header */
	struct frame *frames;	/* MIME_DEPTH_MAX, on the heap */
	size_t n_frames;
	bool is_oom;
};

/* A new part under parent, starting at *at; NONE when MIME_PARTS_MAX
 * parts exist or memory runs out (is_oom).  Moves m->parts. */
static uint32_t
part_new(struct parser *ps, uint32_t parent, const struct mark *at)
{
	struct mime_msg *m = ps->m;
	if (m->n_parts >= MIME_PARTS_MAX)
		return NONE;
	if (m->n_parts == m->cap) {
		uint32_t ncap = m->cap ? m->cap * 2 : 8;
		if (ncap > MIME_PARTS_MAX)
			ncap = MIME_PARTS_MAX;
		struct part *np = realloc(m->parts, ncap * sizeof *np);
		if (np == NULL) {
			ps->is_oom = true;
			return NONE;
		}
		m->parts = np;
		m->cap = ncap;
	}
	uint32_t i = m->n_parts++;
	struct part *p = &m->parts[i];
	memset(p, 0, sizeof *p);
	p->hs = p->bs = p->be = *at;
	p->parent = parent;
	p->first = p->last = p->next = NONE;
	if (parent != NONE) {
		struct part *up = &m->parts[parent];
		p->depth = (uint8_t)(up->depth + 1);
		if (up->last == NONE)
			up->first = i;
		else
			m->parts[up->last].next = i;
		up->last = i;
	}
	return i;
}

/* The boundary parameter into f; false when missing, empty or longer
 * than MIME_BOUNDARY_MAX (the multipart then has no parts). */
static bool
find_boundary(const struct mime_msg *m, const struct ctype *ct, struct frame *f)
{
	struct lx x = ct->params;
	struct param pr;
	while (param_next(&x, &pr)) {
		if (!span_is(m->msg, pr.na, pr.nb, "boundary"))
			continue;
		/* folding and quotes may add to the raw length; anything
		 * beyond twice the limit cannot shrink to fit */
		uint8_t tmp[2 * MIME_BOUNDARY_MAX + 2];
		if (pr.vb - pr.va > sizeof tmp)
			return false;
		size_t n = unquote(m->msg, pr.va, pr.vb, pr.is_quoted, tmp);
		if (n == 0 || n > MIME_BOUNDARY_MAX)
			return false;
		memcpy(f->b, tmp, n);
		f->blen = n;
		return true;
	}
	return false;
}

/*
 * The chain's top has reached the end of its header at *at (after the
 * blank line when blank).  Decide what its body is: a leaf, a multipart
 * (push a frame when it has a usable boundary), or a message/rfc822
 * (open the enclosed message, whose header starts right here).
 */
static void
end_header(struct parser *ps, const struct mark *at, bool blank)
{
	struct mime_msg *m = ps->m;
	uint32_t i = ps->chain[ps->n_chain - 1];
	struct part *p = &m->parts[i];
	p->bs = p->be = *at;
	p->has_blank = blank;
	ps->in_header = false;

	struct hvals h;
	struct ctype ct;
	hvals_collect(m, p, HF_CTYPE, HF_CTYPE + 1, &h);
	ctype_parse(m, &h, &ct);
	/* RFC 2046 5.1.5: in a digest the default is message/rfc822 */
	bool in_digest = p->parent != NONE && m->parts[p->parent].is_digest;
	bool is_multi = ct.ok && span_is(m->msg, ct.ta, ct.tb, "multipart");
	bool is_msg = ct.ok ? span_is(m->msg, ct.ta, ct.tb, "message")
	    && span_is(m->msg, ct.sa, ct.sb, "rfc822") : in_digest;
	if (!is_multi && !is_msg)
		return;
	if (p->depth >= MIME_DEPTH_MAX) {
		p->is_opaque = true;
		return;
	}
	if (is_multi) {
		p->kind = K_MULTI;
		p->is_digest = span_is(m->msg, ct.sa, ct.sb, "digest");
		assert(ps->n_frames < MIME_DEPTH_MAX);
		struct frame *f = &ps->frames[ps->n_frames];
		if (find_boundary(m, &ct, f)) {
			f->part = i;
			f->chain_pos = ps->n_chain - 1;
			f->state = F_PREAMBLE;
			ps->n_frames++;
		}
		return;
	}
	uint32_t c = part_new(ps, i, at);
	p = &m->parts[i];
	if (c == NONE) {
		p->is_opaque = true;
		return;
	}
	p->kind = K_MSG;
	assert(ps->n_chain <= MIME_DEPTH_MAX);
	ps->chain[ps->n_chain++] = c;
	ps->in_header = true;
}

/* Close the open parts above chain position level at *r: the end of the
 * region they all share.  A part still in its header ends it there
 * (without a blank line) and is classified first, so a message/rfc822
 * part gets its (empty) enclosed message like any other. */
static void
close_to(struct parser *ps, size_t level, const struct mark *r)
{
	struct mime_msg *m = ps->m;
	while (ps->n_chain > level && !ps->is_oom) {
		uint32_t i = ps->chain[ps->n_chain - 1];
		struct part *p = &m->parts[i];
		struct mark at = r->off < p->hs.off ? p->hs : *r;
		if (ps->in_header) {
			end_header(ps, &at, false);
			continue;
		}
		/* the line end taken by the delimiter may be the header's
		 * blank line: then the header ends before it */
		if (at.off < p->bs.off) {
			p->bs = at;
			p->has_blank = false;
		}
		p->be = at;
		if (ps->n_frames > 0 && ps->frames[ps->n_frames - 1].part == i)
			ps->n_frames--;
		ps->n_chain--;
	}
}

/* Is the line s[0..n) (after its "--") a delimiter of f?  Only transport
 * padding may follow (RFC 2046 5.1.1): s[pad..n) is the line's trailing
 * whitespace, found once per line so that many open multiparts cost one
 * comparison each, not a rescan of a long tail. */
static bool
frame_matches(const struct frame *f, const uint8_t *s, size_t n, size_t pad, bool *is_close)
{
	if (n < f->blen || memcmp(s, f->b, f->blen) != 0)
		return false;
	size_t k = f->blen;
	*is_close = n - k >= 2 && s[k] == '-' && s[k + 1] == '-';
	if (*is_close)
		k += 2;
	return k >= pad;
}

/* The mark just before the line end that precedes the line at ls. */
static struct mark
mark_before_line(const struct parser *ps, size_t ls)
{
	struct mark r = ps->here;
	assert(ls > 0 && ps->msg[ls - 1] == '\n');
	r.off = ls - 1;
	r.lf--;
	if (ls >= 2 && ps->msg[ls - 2] == '\r')
		r.off--;
	else
		r.bare--;
	return r;
}

/* A delimiter of frame k at the line [ls, end). */
static void
on_delimiter(struct parser *ps, size_t k, bool is_close, size_t ls, const struct mark *end)
{
	struct frame *f = &ps->frames[k];
	if (f->state == F_CHILD) {
		struct mark r = mark_before_line(ps, ls);
		close_to(ps, f->chain_pos + 1, &r);
	}
	assert(ps->is_oom || (ps->n_frames == k + 1 && ps->n_chain == f->chain_pos + 1));
	ps->in_header = false;
	if (is_close) {
		f->state = F_EPILOGUE;
		return;
	}
	uint32_t c = part_new(ps, f->part, end);
	if (c == NONE) {
		f->state = F_SKIP;
		return;
	}
	ps->chain[ps->n_chain++] = c;
	ps->in_header = true;
	f->state = F_CHILD;
}

static void
parse_line(struct parser *ps, size_t ls, size_t le, const struct mark *end)
{
	const uint8_t *s = ps->msg + ls;
	size_t n = le - ls;
	if (ps->n_frames > 0 && n >= 2 && s[0] == '-' && s[1] == '-') {
		size_t pad = n - 2;
		while (pad > 0 && is_lws(s[2 + pad - 1]))
			pad--;
		/* innermost first: an inner boundary may extend an outer one */
		for (size_t k = ps->n_frames; k-- > 0;) {
			bool is_close;
			if (ps->frames[k].state == F_EPILOGUE
			    || !frame_matches(&ps->frames[k], s + 2, n - 2, pad, &is_close))
				continue;
			on_delimiter(ps, k, is_close, ls, end);
			return;
		}
	}
	if (ps->in_header && is_blank_line(ps->msg, ls, le))
		end_header(ps, end, true);
}

int
mime_parse(const uint8_t *msg, size_t len, struct mime_msg **out)
{
	*out = NULL;
	struct mime_msg *m = calloc(1, sizeof *m);
	struct parser ps = { .m = m, .msg = msg, .len = len };
	ps.frames = malloc(MIME_DEPTH_MAX * sizeof *ps.frames);
	if (m == NULL || ps.frames == NULL)
		goto fail;
	m->msg = msg;
	m->len = len;
	ps.chain[0] = part_new(&ps, NONE, &ps.here);
	if (ps.chain[0] == NONE)
		goto fail;
	ps.n_chain = 1;
	ps.in_header = true;

	size_t ls = 0;
	while (ls < len && !ps.is_oom) {
		const uint8_t *nl = memchr(msg + ls, '\n', len - ls);
		size_t le = nl != NULL ? (size_t)(nl - msg) + 1 : len;
		struct mark end = ps.here;
		end.off = le;
		if (nl != NULL) {
			end.lf++;
			if (!(le - 1 > ls && msg[le - 2] == '\r'))
				end.bare++;
		}
		parse_line(&ps, ls, le, &end);
		ps.here = end;
		ls = le;
	}
	close_to(&ps, 0, &ps.here);
	if (ps.is_oom)
		goto fail;
	free(ps.frames);
	*out = m;
	return 0;
fail:
	free(ps.frames);
	if (m != NULL)
		free(m->parts);
	free(m);
	return -1;
}

void
mime_free(struct mime_msg **m)
{
	if (*m == NULL)
		return;
	free((*m)->parts);
	free(*m);
	*m = NULL;
}

/* ---- IMAP strings --------------------------------------------------- */

static void
put_nil(struct buf *out)
{
	buf_append(out, "NIL", 3);
}

/* Drop what was appended since mark (when nothing failed meanwhile). */
static void
rewind_to(struct buf *out, size_t mark)
{
	if (!out->err)
		out->len = mark;
}

/*
 * s[0..n) as an IMAP string (RFC 9051 4.3): quoted when it is at most
 * MIME_QUOTED_MAX bytes of 7-bit text without CR and LF (8-bit stays out
 * of quotes for IMAP4rev1 clients), else a literal.  NUL bytes are
 * dropped: neither form may carry them.  upper: ASCII upper-case.
 */
static void
put_string(struct buf *out, const uint8_t *s, size_t n, bool to_upper)
{
	size_t keep = 0;
	bool is_quotable = true;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == 0)
			continue;
		keep++;
		if (s[i] == '\r' || s[i] == '\n' || s[i] >= 0x80)
			is_quotable = false;
	}
	if (keep > MIME_QUOTED_MAX)
		is_quotable = false;
	if (is_quotable)
		buf_putc(out, '"');
	else
		buf_printf(out, "{%zu}\r\n", keep);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = to_upper ? upper(s[i]) : s[i];
		if (c == 0)
			continue;
		if (is_quotable && (c == '"' || c == '\\'))
			buf_putc(out, '\\');
		buf_putc(out, c);
	}
	if (is_quotable)
		buf_putc(out, '"');
}

/* Writer state: the message, the output, a scratch buffer for values
 * that must be unquoted or unfolded first, BODY or BODYSTRUCTURE. */
struct wctx {
	const struct mime_msg *m;
	struct buf *out;
	struct buf *tmp;
	bool is_ext;
};

/* Room for n more bytes in the scratch buffer, or NULL (tmp->err). */
static uint8_t *
tmp_room(struct wctx *w, size_t n)
{
	size_t got = 0;
	uint8_t *d = buf_space(w->tmp, n ? n : 1, &got);
	if (d == NULL || got < n) {
		w->tmp->err = true;
		return NULL;
	}
	return d;
}

/* An unstructured value (Subject, Content-ID...) unfolded and trimmed;
 * NIL when the field is absent. */
static void
put_unstructured(struct wctx *w, const struct hvals *h, enum hf f)
{
	if (!h->has[f]) {
		put_nil(w->out);
		return;
	}
	const uint8_t *s = w->m->msg;
	size_t a = h->a[f], b = h->b[f];
	while (a < b && is_lws(s[a]))
		a++;
	while (b > a && is_lws(s[b - 1]))
		b--;
	buf_reset(w->tmp);
	uint8_t *d = tmp_room(w, b - a);
	size_t n = 0;
	for (size_t i = a; d != NULL && i < b; i++)
		if (s[i] != '\r' && s[i] != '\n')
			d[n++] = s[i];
	put_string(w->out, d != NULL ? d : (const uint8_t *)"", n, false);
}

/* A parameter's value, unquoted. */
static void
put_param_value(struct wctx *w, const struct param *pr)
{
	buf_reset(w->tmp);
	uint8_t *d = tmp_room(w, pr->vb - pr->va);
	size_t n = d != NULL ? unquote(w->m->msg, pr->va, pr->vb, pr->is_quoted, d) : 0;
	put_string(w->out, d != NULL ? d : (const uint8_t *)"", n, false);
}

/* body-fld-param: ("NAME" "value" ...) or NIL; add_charset: a text part,
 * which gets charset us-ascii when it names none (RFC 2046 4.1.2). */
static void
put_params(struct wctx *w, const struct lx *params, bool add_charset)
{
	struct buf *out = w->out;
	size_t mark = out->len, n = 0;
	bool has_charset = false;
	buf_putc(out, '(');
	if (params != NULL) {
		struct lx x = *params;
		struct param pr;
		while (param_next(&x, &pr)) {
			if (n++ > 0)
				buf_putc(out, ' ');
			put_string(out, w->m->msg + pr.na, pr.nb - pr.na, true);
			buf_putc(out, ' ');
			put_param_value(w, &pr);
			if (span_is(w->m->msg, pr.na, pr.nb, "charset"))
				has_charset = true;
		}
	}
	if (add_charset && !has_charset) {
		if (n++ > 0)
			buf_putc(out, ' ');
		buf_puts(out, "\"CHARSET\" \"us-ascii\"");
	}
	if (n == 0) {
		rewind_to(out, mark);
		put_nil(out);
		return;
	}
	buf_putc(out, ')');
}

/* body-fld-dsp: ("ATTACHMENT" ("FILENAME" "x")) or NIL. */
static void
put_disposition(struct wctx *w, const struct hvals *h)
{
	size_t a, b;
	struct lx x = { w->m->msg, h->a[HF_CDISP], h->b[HF_CDISP] };
	if (h->has[HF_CDISP]) {
		lx_cfws(&x);
		if (lx_token(&x, &a, &b)) {
			buf_putc(w->out, '(');
			put_string(w->out, w->m->msg + a, b - a, true);
			buf_putc(w->out, ' ');
			put_params(w, &x, false);
			buf_putc(w->out, ')');
			return;
		}
	}
	put_nil(w->out);
}

/* body-fld-lang: always the list form ("en" "de"), or NIL. */
static void
put_language(struct wctx *w, const struct hvals *h)
{
	struct buf *out = w->out;
	size_t mark = out->len, n = 0, a, b;
	if (h->has[HF_CLANG]) {
		struct lx x = { w->m->msg, h->a[HF_CLANG], h->b[HF_CLANG] };
		buf_putc(out, '(');
		for (;;) {
			lx_cfws(&x);
			if (!lx_token(&x, &a, &b))
				break;
			buf_puts(out, n++ > 0 ? " " : "");
			put_string(out, w->m->msg + a, b - a, false);
			lx_cfws(&x);
			if (x.p >= x.end || x.s[x.p] != ',')
				break;
			x.p++;
		}
		if (n > 0) {
			buf_putc(out, ')');
			return;
		}
		rewind_to(out, mark);
	}
	put_nil(out);
}

/* The extension fields shared by both kinds of body after md5/params:
 * disposition, language, location. */
static void
put_ext_tail(struct wctx *w, const struct hvals *h)
{
	buf_putc(w->out, ' ');
	put_disposition(w, h);
	buf_putc(w->out, ' ');
	put_language(w, h);
	buf_putc(w->out, ' ');
	put_unstructured(w, h, HF_CLOC);
}

/* ---- addresses (RFC 5322 3.4, 4.4; RFC 9051 7.5.2) ------------------ */

enum { T_END, T_WORD, T_QUOTED, T_DLIT, T_SPECIAL };

struct atok {
	int type;
	size_t a, b;		/* the token's bytes, quotes included */
	uint8_t c;		/* T_SPECIAL: which */
	bool space;		/* whitespace or a comment before it */
};

struct alx {
	const uint8_t *s;
	size_t p, end;
	bool has_cmt;		/* a comment was skipped */
	size_t ca, cb;		/* the first one's content */
};

static bool
is_aspecial(uint8_t c)
{
	return c == '<' || c == '>' || c == '@' || c == ',' || c == ';' || c == ':' || c == '.';
}

/* The next token; any byte that starts nothing else is a word of at
 * least one byte, so the lexer always moves on. */
static void
alx_next(struct alx *x, struct atok *t)
{
	t->space = false;
	while (x->p < x->end && (is_lws(x->s[x->p]) || x->s[x->p] == '(')) {
		if (x->s[x->p] == '(') {
			size_t ca, cb;
			skip_comment(x->s, &x->p, x->end, &ca, &cb);
			if (!x->has_cmt) {
				x->has_cmt = true;
				x->ca = ca;
				x->cb = cb;
			}
		} else {
			x->p++;
		}
		t->space = true;
	}
	t->a = x->p;
	if (x->p >= x->end) {
		t->type = T_END;
	} else if (x->s[x->p] == '"') {
		t->type = T_QUOTED;
		skip_quoted(x->s, &x->p, x->end);
	} else if (x->s[x->p] == '[') {
		t->type = T_DLIT;
		while (x->p < x->end && x->s[x->p] != ']')
			x->p += (x->s[x->p] == '\\' && x->p + 1 < x->end) ? 2 : 1;
		if (x->p < x->end)
			x->p++;
	} else if (is_aspecial(x->s[x->p])) {
		t->type = T_SPECIAL;
		t->c = x->s[x->p++];
	} else {
		t->type = T_WORD;
		x->p++;
		while (x->p < x->end) {
			uint8_t c = x->s[x->p];
			if (is_lws(c) || is_aspecial(c) || c == '(' || c == '"' || c == '[')
				break;
			x->p++;
		}
	}
	t->b = x->p;
}

/* One address (or group start) of a list: the tokens from a up to its
 * terminator, and what they hold. */
struct seg {
	size_t a, stop, next;	/* tokens [a, stop); next: after the terminator */
	uint8_t term;		/* ',', ';', ':' (group start) or 0 at the end */
	bool has_words;
	bool has_angle;
	size_t lt, gt;		/* inside the angle brackets: [lt, gt) */
	bool has_cmt;
	size_t ca, cb;		/* its first comment */
};

static void
seg_scan(const uint8_t *s, size_t a, size_t end, bool in_group, struct seg *sg)
{
	struct alx x = { s, a, end, false, 0, 0 };
	struct atok t;
	bool in_angle = false, has_at = false;
	memset(sg, 0, sizeof *sg);
	sg->a = a;
	for (;;) {
		alx_next(&x, &t);
		if (t.type == T_END) {
			sg->stop = sg->next = end;
			break;
		}
		if (t.type == T_SPECIAL && in_angle) {
			if (t.c == '>') {
				in_angle = false;
				sg->gt = t.a;
			}
		} else if (t.type == T_SPECIAL && (t.c == ',' || t.c == ';'
		    || (t.c == ':' && !in_group && !sg->has_angle && !has_at))) {
			sg->stop = t.a;
			sg->next = t.b;
			sg->term = t.c;
			break;
		} else if (t.type == T_SPECIAL && t.c == '<' && !sg->has_angle) {
			sg->has_angle = in_angle = true;
			sg->lt = t.b;
		} else if (t.type == T_SPECIAL && t.c == '@') {
			has_at = true;
		}
		sg->has_words = true;
	}
	if (in_angle)
		sg->gt = sg->stop;
	sg->has_cmt = x.has_cmt;
	sg->ca = x.ca;
	sg->cb = x.cb;
}

/* A piece of text built in the scratch buffer. */
struct piece {
	size_t off, len;
};

/*
 * Append the text of the tokens in s[a..b) to the scratch buffer.
 * Phrase (display name): words joined by one space where the message had
 * whitespace, quoted strings unquoted.  Otherwise (local part, domain,
 * route): dots and specials glue, whitespace between words becomes one
 * space (only in broken addresses).
 */
static struct piece
collect(struct wctx *w, const uint8_t *s, size_t a, size_t b, bool is_phrase)
{
	struct alx x = { s, a, b, false, 0, 0 };
	struct atok t;
	struct piece pc = { w->tmp->len, 0 };
	bool prev_word = false;
	for (alx_next(&x, &t); t.type != T_END; alx_next(&x, &t)) {
		bool is_word = t.type != T_SPECIAL;
		if (t.space && (is_phrase ? w->tmp->len > pc.off : prev_word && is_word))
			buf_putc(w->tmp, ' ');
		/* a domain literal may run over a line end: unfold it too */
		uint8_t *d = tmp_room(w, t.b - t.a);
		if (d != NULL)
			buf_commit(w->tmp, unquote(s, t.a, t.b, t.type == T_QUOTED, d));
		prev_word = is_word;
	}
	pc.len = w->tmp->len - pc.off;
	return pc;
}

/* A comment's text as a display name: trimmed and unfolded. */
static struct piece
collect_comment(struct wctx *w, const uint8_t *s, size_t a, size_t b)
{
	struct piece pc = { w->tmp->len, 0 };
	while (a < b && is_lws(s[a]))
		a++;
	while (b > a && is_lws(s[b - 1]))
		b--;
	uint8_t *d = tmp_room(w, b - a);
	if (d != NULL)
		buf_commit(w->tmp, unquote(s, a, b, false, d));
	pc.len = w->tmp->len - pc.off;
	return pc;
}

static void
put_piece(struct wctx *w, const struct piece *pc, bool nil_if_empty)
{
	if (pc->len == 0 && nil_if_empty)
		put_nil(w->out);
	else if (w->tmp->err || pc->len == 0)
		put_string(w->out, (const uint8_t *)"", 0, false);
	else
		put_string(w->out, w->tmp->data + pc->off, pc->len, false);
}

/* The offsets of the first "@" token in s[a..b) (at == b: none). */
static void
find_at(const uint8_t *s, size_t a, size_t b, size_t *at, size_t *after)
{
	struct alx x = { s, a, b, false, 0, 0 };
	struct atok t;
	for (alx_next(&x, &t); t.type != T_END; alx_next(&x, &t)) {
		if (t.type == T_SPECIAL && t.c == '@') {
			*at = t.a;
			*after = t.b;
			return;
		}
	}
	*at = *after = b;
}

/* Inside "<...>": an obsolete route "@a,@b:" (RFC 5322 4.4) ends at the
 * first ":"; *addr is where the addr-spec starts. */
static bool
find_route(const uint8_t *s, size_t a, size_t b, size_t *colon, size_t *addr)
{
	struct alx x = { s, a, b, false, 0, 0 };
	struct atok t;
	alx_next(&x, &t);
	if (t.type != T_SPECIAL || t.c != '@')
		return false;
	for (; t.type != T_END; alx_next(&x, &t)) {
		if (t.type == T_SPECIAL && t.c == ':') {
			*colon = t.a;
			*addr = t.b;
			return true;
		}
	}
	return false;
}

/* The pieces of one mailbox (name, route, local part, domain), appended
 * to the scratch buffer; false when it holds no address. */
static bool
mailbox_pieces(struct wctx *w, const uint8_t *s, const struct seg *sg, struct piece pc[4])
{
	size_t x = sg->a, y = sg->stop, at, after, colon, addr;
	pc[0] = pc[1] = (struct piece){ 0, 0 };
	if (sg->has_angle) {
		pc[0] = collect(w, s, sg->a, sg->lt - 1, true);
		x = sg->lt;
		y = sg->gt;
		if (find_route(s, x, y, &colon, &addr)) {
			pc[1] = collect(w, s, x, colon, false);
			x = addr;
		}
	}
	find_at(s, x, y, &at, &after);
	pc[2] = collect(w, s, x, at, false);
	pc[3] = collect(w, s, after, y, false);
	if (pc[2].len == 0 && pc[3].len == 0)
		return false;
	if (pc[0].len == 0 && sg->has_cmt)
		pc[0] = collect_comment(w, s, sg->ca, sg->cb);
	return true;
}

/* One mailbox as (name adl mailbox host); 0 when it holds no address. */
static size_t
put_mailbox(struct wctx *w, const uint8_t *s, const struct seg *sg)
{
	struct piece pc[4];
	buf_reset(w->tmp);
	if (!mailbox_pieces(w, s, sg, pc))
		return 0;
	buf_putc(w->out, '(');
	put_piece(w, &pc[0], true);
	buf_putc(w->out, ' ');
	put_piece(w, &pc[1], true);
	buf_putc(w->out, ' ');
	put_piece(w, &pc[2], false);
	buf_putc(w->out, ' ');
	/* host "" rather than NIL, which would read as a group marker */
	put_piece(w, &pc[3], false);
	buf_putc(w->out, ')');
	return 1;
}

static void
put_group_start(struct wctx *w, const uint8_t *s, const struct seg *sg)
{
	buf_reset(w->tmp);
	struct piece name = collect(w, s, sg->a, sg->stop, true);
	buf_puts(w->out, "(NIL NIL ");
	put_piece(w, &name, false);
	buf_puts(w->out, " NIL)");
}

/* The addresses of the list s[a..b), without the outer parentheses;
 * returns how many address structures were written. */
static size_t
put_addresses(struct wctx *w, size_t a, size_t b)
{
	const uint8_t *s = w->m->msg;
	bool in_group = false;
	size_t n = 0, pos = a;
	for (;;) {
		struct seg sg;
		seg_scan(s, pos, b, in_group, &sg);
		if (sg.term == ':') {
			put_group_start(w, s, &sg);
			in_group = true;
			n++;
		} else {
			if (sg.has_words)
				n += put_mailbox(w, s, &sg);
			if (sg.term == ';' && in_group) {
				buf_puts(w->out, "(NIL NIL NIL NIL)");
				in_group = false;
				n++;
			}
		}
		if (sg.term == 0)
			break;
		pos = sg.next;
	}
	if (in_group) {
		buf_puts(w->out, "(NIL NIL NIL NIL)");
		n++;
	}
	return n;
}

/* The first address structure put_addresses would write for s[0..len);
 * the same walk, stopping at the first mailbox or group start. */
bool
mime_first_address(const uint8_t *s, size_t len, struct buf *out, struct mime_addr *a)
{
	struct wctx w = { NULL, NULL, out, false };
	size_t pos = 0;
	memset(a, 0, sizeof *a);
	for (;;) {
		struct seg sg;
		struct piece pc[4];
		seg_scan(s, pos, len, false, &sg);
		if (sg.term == ':') {
			pc[0] = collect(&w, s, sg.a, sg.stop, true);
			a->is_group = true;
			a->mailbox_off = pc[0].off;
			a->mailbox_len = pc[0].len;
			return !out->err;
		}
		if (sg.has_words && mailbox_pieces(&w, s, &sg, pc)) {
			a->has_name = pc[0].len > 0;
			a->name_off = pc[0].off;
			a->name_len = pc[0].len;
			a->mailbox_off = pc[2].off;
			a->mailbox_len = pc[2].len;
			a->host_off = pc[3].off;
			a->host_len = pc[3].len;
			return !out->err;
		}
		if (sg.term == 0)
			return false;
		pos = sg.next;
	}
}

/* An address list field: (addresses) or NIL; false when NIL. */
static bool
put_address_list(struct wctx *w, const struct hvals *h, enum hf f)
{
	if (h->has[f]) {
		size_t mark = w->out->len;
		buf_putc(w->out, '(');
		if (put_addresses(w, h->a[f], h->b[f]) > 0) {
			buf_putc(w->out, ')');
			return true;
		}
		rewind_to(w->out, mark);
	}
	put_nil(w->out);
	return false;
}

/* Sender and Reply-To: From when absent or empty (RFC 9051 7.5.2). */
static void
put_address_list_or_from(struct wctx *w, const struct hvals *h, enum hf f)
{
	size_t mark = w->out->len;
	if (put_address_list(w, h, f))
		return;
	rewind_to(w->out, mark);
	put_address_list(w, h, HF_FROM);
}

static void
put_envelope(struct wctx *w, uint32_t i)
{
	struct hvals h;
	hvals_collect(w->m, &w->m->parts[i], HF_DATE, HF_N, &h);
	buf_putc(w->out, '(');
	put_unstructured(w, &h, HF_DATE);
	buf_putc(w->out, ' ');
	put_unstructured(w, &h, HF_SUBJECT);
	buf_putc(w->out, ' ');
	put_address_list(w, &h, HF_FROM);
	buf_putc(w->out, ' ');
	put_address_list_or_from(w, &h, HF_SENDER);
	buf_putc(w->out, ' ');
	put_address_list_or_from(w, &h, HF_REPLY_TO);
	for (enum hf f = HF_TO; f <= HF_BCC; f++) {
		buf_putc(w->out, ' ');
		put_address_list(w, &h, f);
	}
	buf_putc(w->out, ' ');
	put_unstructured(w, &h, HF_IN_REPLY_TO);
	buf_putc(w->out, ' ');
	put_unstructured(w, &h, HF_MESSAGE_ID);
	buf_putc(w->out, ')');
}

void
mime_envelope(const struct mime_msg *m, struct buf *out)
{
	struct buf tmp;
	buf_init(&tmp, 0);
	struct wctx w = { m, out, &tmp, false };
	put_envelope(&w, 0);
	buf_free(&tmp);
}

/* ---- BODY and BODYSTRUCTURE ----------------------------------------- */

static void put_body(struct wctx *w, uint32_t i);

/* What a multipart without parts shows (Dovecot's choice too): the
 * grammar needs one body in it. */
static void
put_empty_part(struct wctx *w)
{
	buf_puts(w->out, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0");
	buf_puts(w->out, w->is_ext ? " NIL NIL NIL NIL)" : ")");
}

static void
put_multipart(struct wctx *w, uint32_t i, const struct hvals *h, const struct ctype *ct)
{
	const struct part *p = &w->m->parts[i];
	if (p->first == NONE)
		put_empty_part(w);
	for (uint32_t c = p->first; c != NONE; c = w->m->parts[c].next)
		put_body(w, c);
	buf_putc(w->out, ' ');
	put_string(w->out, w->m->msg + ct->sa, ct->sb - ct->sa, true);
	if (!w->is_ext)
		return;
	buf_putc(w->out, ' ');
	put_params(w, &ct->params, false);
	put_ext_tail(w, h);
}

/* body-fld-enc: the Content-Transfer-Encoding token, else "7BIT". */
static void
put_encoding(struct wctx *w, const struct hvals *h)
{
	size_t a, b;
	struct lx x = { w->m->msg, h->a[HF_CTE], h->b[HF_CTE] };
	if (h->has[HF_CTE]) {
		lx_cfws(&x);
		if (lx_token(&x, &a, &b)) {
			put_string(w->out, w->m->msg + a, b - a, true);
			return;
		}
	}
	buf_puts(w->out, "\"7BIT\"");
}

static void
put_single(struct wctx *w, uint32_t i, const struct hvals *h, const struct ctype *ct)
{
	const struct mime_msg *m = w->m;
	const struct part *p = &m->parts[i];
	bool is_text = false;
	if (p->is_opaque) {
		buf_puts(w->out, "\"APPLICATION\" \"OCTET-STREAM\" NIL");
	} else if (p->kind == K_MSG) {
		buf_puts(w->out, "\"MESSAGE\" \"RFC822\" ");
		put_params(w, ct->ok ? &ct->params : NULL, false);
	} else if (!ct->ok) {
		buf_puts(w->out, "\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\")");
		is_text = true;
	} else {
		is_text = span_is(m->msg, ct->ta, ct->tb, "text");
		put_string(w->out, m->msg + ct->ta, ct->tb - ct->ta, true);
		buf_putc(w->out, ' ');
		put_string(w->out, m->msg + ct->sa, ct->sb - ct->sa, true);
		buf_putc(w->out, ' ');
		put_params(w, &ct->params, is_text);
	}
	buf_putc(w->out, ' ');
	put_unstructured(w, h, HF_CID);
	buf_putc(w->out, ' ');
	put_unstructured(w, h, HF_CDESC);
	buf_putc(w->out, ' ');
	put_encoding(w, h);
	buf_printf(w->out, " %llu", (unsigned long long)span_size(&p->bs, &p->be));
	if (p->kind == K_MSG) {
		buf_putc(w->out, ' ');
		put_envelope(w, p->first);
		buf_putc(w->out, ' ');
		put_body(w, p->first);
	}
	if (p->kind == K_MSG || is_text)
		buf_printf(w->out, " %llu", (unsigned long long)(p->be.lf - p->bs.lf));
	if (!w->is_ext)
		return;
	buf_putc(w->out, ' ');
	put_unstructured(w, h, HF_CMD5);
	put_ext_tail(w, h);
}

/* One body, parenthesised.  Recursion follows the part tree, whose
 * depth the parser keeps at MIME_DEPTH_MAX. */
static void
put_body(struct wctx *w, uint32_t i)
{
	const struct part *p = &w->m->parts[i];
	struct hvals h;
	struct ctype ct;
	hvals_collect(w->m, p, HF_CTYPE, HF_CLOC + 1, &h);
	ctype_parse(w->m, &h, &ct);
	buf_putc(w->out, '(');
	if (p->kind == K_MULTI)
		put_multipart(w, i, &h, &ct);
	else
		put_single(w, i, &h, &ct);
	buf_putc(w->out, ')');
}

void
mime_bodystructure(const struct mime_msg *m, bool extended, struct buf *out)
{
	struct buf tmp;
	buf_init(&tmp, 0);
	struct wctx w = { m, out, &tmp, extended };
	put_body(&w, 0);
	buf_free(&tmp);
}

/* ---- section specs (RFC 9051 9 "section") --------------------------- */

static const char E_SECTION[] = "Invalid section";
static const char E_PART_NUMBER[] = "Invalid part number in section";
static const char E_MIME[] = "MIME needs a part number";
static const char E_LIST[] = "Invalid header list in section";
static const char E_NAMES[] = "Too many header names in section";

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ASTRING-CHAR (RFC 9051 9): ATOM-CHAR or "]". */
static bool
is_astring_char(uint8_t c)
{
	return c > ' ' && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '%' && c != '*'
	    && c != '"' && c != '\\';
}

static bool
keyword(const char *s, size_t len, size_t *p, const char *word)
{
	size_t n = strlen(word);
	if (len - *p < n || !ascii_memcaseeq(s + *p, word, n))
		return false;
	*p += n;
	return true;
}

/* One header name (astring, not a literal) into sec; NULL or an error. */
static const char *
section_name(const char *s, size_t len, size_t *p, struct mime_section *sec)
{
	size_t used = sec->n_names > 0
	    ? (size_t)sec->name_off[sec->n_names - 1] + sec->name_len[sec->n_names - 1] : 0;
	size_t n = 0;
	if (sec->n_names >= MIME_SECTION_NAMES_MAX)
		return E_NAMES;
	if (*p < len && s[*p] == '"') {
		for ((*p)++; *p < len && s[*p] != '"'; (*p)++) {
			uint8_t c = (uint8_t)s[*p];
			if (c == '\\') {
				if (++*p >= len || (s[*p] != '"' && s[*p] != '\\'))
					return E_LIST;
				c = (uint8_t)s[*p];
			}
			if (c == 0 || c == '\r' || c == '\n')
				return E_LIST;
			if (used + n >= MIME_SECTION_NAMEBUF)
				return E_NAMES;
			sec->names[used + n++] = (char)c;
		}
		if (*p >= len)
			return E_LIST;
		(*p)++;
	} else {
		for (; *p < len && is_astring_char((uint8_t)s[*p]); (*p)++) {
			if (used + n >= MIME_SECTION_NAMEBUF)
				return E_NAMES;
			sec->names[used + n++] = s[*p];
		}
		if (n == 0)
			return E_LIST;
	}
	sec->name_off[sec->n_names] = (uint16_t)used;
	sec->name_len[sec->n_names] = (uint16_t)n;
	sec->n_names++;
	return NULL;
}

/* " (" name *(SP name) ")" at the end of the spec. */
static const char *
section_names(const char *s, size_t len, size_t *p, struct mime_section *sec)
{
	if (!keyword(s, len, p, " ("))
		return E_LIST;
	for (;;) {
		const char *err = section_name(s, len, p, sec);
		if (err != NULL)
			return err;
		if (*p < len && s[*p] == ' ') {
			(*p)++;
			continue;
		}
		if (*p < len && s[*p] == ')') {
			(*p)++;
			return NULL;
		}
		return E_LIST;
	}
}

/* nz-number *("." nz-number), stopping before "." and a keyword. */
static const char *
section_parts(const char *s, size_t len, size_t *p, struct mime_section *sec)
{
	while (*p < len && is_digit(s[*p])) {
		uint64_t v = 0;
		if (s[*p] == '0')
			return E_PART_NUMBER;
		for (; *p < len && is_digit(s[*p]); (*p)++) {
			v = v * 10 + (uint64_t)(s[*p] - '0');
			if (v > UINT32_MAX)
				return E_PART_NUMBER;
		}
		if (sec->n_part < MIME_SECTION_PARTS_MAX)
			sec->part[sec->n_part++] = (uint32_t)v;
		else
			sec->is_too_deep = true;
		if (*p == len)
			return NULL;
		if (s[*p] != '.' || *p + 1 == len)
			return E_SECTION;
		(*p)++;
	}
	return NULL;
}

int
mime_section_parse(const char *spec, size_t len, struct mime_section *sec, const char **why)
{
	size_t p = 0;
	const char *err;
	memset(sec, 0, offsetof(struct mime_section, name_off));
	sec->text = MIME_SEC_BODY;
	err = section_parts(spec, len, &p, sec);
	if (err == NULL && p < len) {
		if (keyword(spec, len, &p, "MIME"))
			sec->text = MIME_SEC_MIME;
		else if (keyword(spec, len, &p, "TEXT"))
			sec->text = MIME_SEC_TEXT;
		else if (keyword(spec, len, &p, "HEADER.FIELDS.NOT"))
			sec->text = MIME_SEC_FIELDS_NOT;
		else if (keyword(spec, len, &p, "HEADER.FIELDS"))
			sec->text = MIME_SEC_FIELDS;
		else if (keyword(spec, len, &p, "HEADER"))
			sec->text = MIME_SEC_HEADER;
		else
			err = E_SECTION;
		if (err == NULL && sec->text == MIME_SEC_MIME && sec->n_part == 0
		    && !sec->is_too_deep)
			err = E_MIME;
		if (err == NULL && (sec->text == MIME_SEC_FIELDS
		    || sec->text == MIME_SEC_FIELDS_NOT))
			err = section_names(spec, len, &p, sec);
		if (err == NULL && p != len)
			err = E_SECTION;
	}
	if (err != NULL) {
		*why = err;
		return -1;
	}
	return 0;
}

/* ---- section bytes -------------------------------------------------- */

static uint32_t
nth_child(const struct mime_msg *m, uint32_t i, uint32_t n)
{
	uint32_t c = m->parts[i].first;
	while (c != NONE && --n > 0)
		c = m->parts[c].next;
	return c;
}

/*
 * The part the numbers name, or NONE.  cur is the part whose parts the
 * next number counts: a multipart's are its children; a message that is
 * not multipart has one, part 1, which is itself (its body).
 */
static uint32_t
resolve(const struct mime_msg *m, const struct mime_section *sec)
{
	uint32_t cur = 0, p = NONE;
	bool is_message = true;
	if (sec->is_too_deep)
		return NONE;
	for (size_t k = 0; k < sec->n_part; k++) {
		if (cur == NONE)
			return NONE;
		if (m->parts[cur].kind == K_MULTI)
			p = nth_child(m, cur, sec->part[k]);
		else if (is_message && sec->part[k] == 1)
			p = cur;
		else
			return NONE;
		if (p == NONE)
			return NONE;
		is_message = m->parts[p].kind == K_MSG;
		if (is_message)
			cur = m->parts[p].first;
		else
			cur = m->parts[p].kind == K_MULTI ? p : NONE;
	}
	return p;
}

#define NAME_BUCKETS	256

static unsigned
name_hash(const uint8_t *s, size_t n)
{
	unsigned h = (unsigned)n;
	for (size_t i = 0; i < n; i++)
		h = h * 31 + (unsigned)ascii_lower(s[i]);
	return h % NAME_BUCKETS;
}

/* HEADER.FIELDS[.NOT]: the matching (or the other) fields in message
 * order, then the blank line when the header has one (RFC 9051 6.4.5).
 * A hash of the names keeps a huge header linear. */
static void
put_fields(const struct mime_msg *m, const struct part *p, const struct mime_section *sec,
    bool is_not, struct buf *out)
{
	int16_t head[NAME_BUCKETS], next[MIME_SECTION_NAMES_MAX];
	for (size_t i = 0; i < NAME_BUCKETS; i++)
		head[i] = -1;
	for (size_t i = 0; i < sec->n_names; i++) {
		unsigned h = name_hash((const uint8_t *)sec->names + sec->name_off[i],
		    sec->name_len[i]);
		next[i] = head[h];
		head[h] = (int16_t)i;
	}
	size_t pos = p->hs.off;
	struct field f;
	while (field_next(m->msg, &pos, p->bs.off, &f)) {
		if (f.name_len == 0)
			continue;
		bool is_hit = false;
		const uint8_t *name = m->msg + f.start;
		for (int k = head[name_hash(name, f.name_len)]; k >= 0 && !is_hit; k = next[k])
			is_hit = sec->name_len[k] == f.name_len
			    && ascii_memcaseeq(sec->names + sec->name_off[k], name, f.name_len);
		if (is_hit != is_not)
			put_crlf(out, m->msg, f.start, f.end);
	}
	if (p->has_blank)
		buf_append(out, "\r\n", 2);
}

int
mime_section_get(const struct mime_msg *m, const struct mime_section *sec, struct buf *out)
{
	uint32_t msg = 0;	/* the message whose header or text is asked */
	if (sec->is_too_deep)
		return MIME_NO_PART;
	if (sec->n_part > 0) {
		uint32_t i = resolve(m, sec);
		if (i == NONE)
			return MIME_NO_PART;
		const struct part *p = &m->parts[i];
		if (sec->text == MIME_SEC_BODY || sec->text == MIME_SEC_MIME) {
			if (sec->text == MIME_SEC_BODY)
				put_crlf(out, m->msg, p->bs.off, p->be.off);
			else
				put_crlf(out, m->msg, p->hs.off, p->bs.off);
			return 0;
		}
		/* RFC 9051 6.4.5: only after a message/rfc822 part */
		if (p->kind != K_MSG)
			return MIME_NO_PART;
		msg = p->first;
	}
	const struct part *e = &m->parts[msg];
	switch (sec->text) {
	case MIME_SEC_BODY:
		put_crlf(out, m->msg, 0, m->len);
		break;
	case MIME_SEC_HEADER:
		put_crlf(out, m->msg, e->hs.off, e->bs.off);
		break;
	case MIME_SEC_TEXT:
		put_crlf(out, m->msg, e->bs.off, e->be.off);
		break;
	case MIME_SEC_FIELDS:
	case MIME_SEC_FIELDS_NOT:
		put_fields(m, e, sec, sec->text == MIME_SEC_FIELDS_NOT, out);
		break;
	default:
		return MIME_NO_PART;
	}
	return 0;
}

/* ---- BINARY (RFC 3516) ---------------------------------------------- */

enum cte { CTE_IDENTITY, CTE_BASE64, CTE_QP, CTE_UNKNOWN };

static enum cte
part_cte(const struct mime_msg *m, const struct part *p)
{
	struct hvals h;
	size_t a, b;
	hvals_collect(m, p, HF_CTE, HF_CTE + 1, &h);
	if (!h.has[HF_CTE])
		return CTE_IDENTITY;
	struct lx x = { m->msg, h.a[HF_CTE], h.b[HF_CTE] };
	lx_cfws(&x);
	/* an empty field says nothing, like a missing one */
	if (!lx_token(&x, &a, &b) || span_is(m->msg, a, b, "7bit")
	    || span_is(m->msg, a, b, "8bit") || span_is(m->msg, a, b, "binary"))
		return CTE_IDENTITY;
	if (span_is(m->msg, a, b, "base64"))
		return CTE_BASE64;
	if (span_is(m->msg, a, b, "quoted-printable"))
		return CTE_QP;
	return CTE_UNKNOWN;
}

/* Decoded bytes are gathered here and appended in chunks. */
struct outq {
	struct buf *out;
	size_t n;
	uint8_t b[4096];
};

static void
outq_put(struct outq *q, uint8_t c)
{
	if (q->n == sizeof q->b) {
		buf_append(q->out, q->b, q->n);
		q->n = 0;
	}
	q->b[q->n++] = c;
}

static void
outq_flush(struct outq *q)
{
	buf_append(q->out, q->b, q->n);
	q->n = 0;
}

/* What is left of a base64 quantum after its 2 or 3 characters (a
 * single character carries no whole byte and is dropped). */
static void
b64_flush(struct outq *q, uint32_t acc, unsigned n)
{
	if (n == 2) {
		outq_put(q, (uint8_t)(acc >> 4));
	} else if (n == 3) {
		outq_put(q, (uint8_t)(acc >> 10));
		outq_put(q, (uint8_t)(acc >> 2));
	}
}

/* RFC 2045 6.8, leniently: characters outside the alphabet are ignored,
 * "=" ends a quantum early and decoding goes on after it. */
static void
put_base64(struct outq *q, const uint8_t *s, size_t a, size_t b)
{
	uint32_t acc = 0;
	unsigned n = 0;
	for (size_t i = a; i < b; i++) {
		if (s[i] == '=') {
			b64_flush(q, acc, n);
			acc = 0;
			n = 0;
			continue;
		}
		int v = b64_value(s[i], '/');
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		if (++n == 4) {
			outq_put(q, (uint8_t)(acc >> 16));
			outq_put(q, (uint8_t)(acc >> 8));
			outq_put(q, (uint8_t)acc);
			acc = 0;
			n = 0;
		}
	}
	b64_flush(q, acc, n);
}

static int
hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = upper(c);
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* RFC 2045 6.7: per line, trailing whitespace dropped (rule 3), "=" at
 * the end a soft break (rule 5), "=XX" an octet (lower-case hex too);
 * any other "=" is kept.  Hard line breaks come out as CRLF. */
static void
put_qp(struct outq *q, const uint8_t *s, size_t a, size_t b)
{
	size_t p = a;
	while (p < b) {
		size_t le = line_end(s, p, b), e = le;
		bool has_eol = e > p && s[e - 1] == '\n';
		if (has_eol && --e > p && s[e - 1] == '\r')
			e--;
		while (e > p && is_wsp(s[e - 1]))
			e--;
		bool is_soft = e > p && s[e - 1] == '=';
		if (is_soft)
			e--;
		for (size_t i = p; i < e; i++) {
			int hi = s[i] == '=' && i + 2 < e ? hex_value(s[i + 1]) : -1;
			int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
			if (lo >= 0) {
				outq_put(q, (uint8_t)(hi << 4 | lo));
				i += 2;
			} else {
				outq_put(q, s[i]);
			}
		}
		if (has_eol && !is_soft) {
			outq_put(q, '\r');
			outq_put(q, '\n');
		}
		p = le;
	}
}

int
mime_binary_get(const struct mime_msg *m, const struct mime_section *sec, struct buf *out)
{
	if (sec->n_part == 0 || sec->text != MIME_SEC_BODY || sec->is_too_deep)
		return mime_section_get(m, sec, out);
	uint32_t i = resolve(m, sec);
	if (i == NONE)
		return MIME_NO_PART;
	const struct part *p = &m->parts[i];
	enum cte cte = part_cte(m, p);
	if (cte == CTE_UNKNOWN)
		return MIME_UNKNOWN_CTE;
	if (cte == CTE_IDENTITY) {
		put_crlf(out, m->msg, p->bs.off, p->be.off);
		return 0;
	}
	struct outq q = { .out = out, .n = 0 };
	if (cte == CTE_BASE64)
		put_base64(&q, m->msg, p->bs.off, p->be.off);
	else
		put_qp(&q, m->msg, p->bs.off, p->be.off);
	outq_flush(&q);
	return 0;
}

/* ---- searchable text (SEARCH BODY and TEXT) -------------------------- */

/* The charset parameter of a text part, unquoted into cs (at most
 * MIME_CHARSET_MAX bytes, else ""); "us-ascii" when absent (RFC 2045
 * 5.2). */
static void
text_charset(const struct mime_msg *m, const struct ctype *ct, char cs[MIME_CHARSET_MAX + 1])
{
	strcpy(cs, "us-ascii");
	if (!ct->ok)
		return;
	struct lx x = ct->params;
	struct param pr;
	while (param_next(&x, &pr)) {
		if (!span_is(m->msg, pr.na, pr.nb, "charset"))
			continue;
		size_t n = pr.vb - pr.va;
		uint8_t tmp[MIME_CHARSET_MAX + 2];
		if (n > MIME_CHARSET_MAX + 2) {
			cs[0] = '\0';
			return;
		}
		n = unquote(m->msg, pr.va, pr.vb, pr.is_quoted, tmp);
		n = n <= MIME_CHARSET_MAX ? n : 0;
		for (size_t i = 0; i < n; i++)
			if (tmp[i] < 0x21 || tmp[i] > 0x7e)
				n = 0;	/* no charset name holds these */
		memcpy(cs, tmp, n);
		cs[n] = '\0';
		return;
	}
}

void
mime_search_text(const struct mime_msg *m, struct buf *scratch, mime_text_fn *fn, void *arg)
{
	for (uint32_t i = 0; i < m->n_parts; i++) {
		const struct part *p = &m->parts[i];
		/* an enclosed message's header is text of its parent's body */
		if (i > 0 && p->parent != NONE && m->parts[p->parent].kind == K_MSG)
			fn(arg, NULL, m->msg + p->hs.off, p->bs.off - p->hs.off);
		if (p->kind != K_LEAF || p->is_opaque)
			continue;
		struct hvals h;
		struct ctype ct;
		hvals_collect(m, p, HF_CTYPE, HF_CTYPE + 1, &h);
		ctype_parse(m, &h, &ct);
		if (ct.ok && !span_is(m->msg, ct.ta, ct.tb, "text"))
			continue;	/* images, archives: nothing a word search finds */
		char cs[MIME_CHARSET_MAX + 1];
		text_charset(m, &ct, cs);
		enum cte cte = part_cte(m, p);
		if (cte == CTE_IDENTITY || cte == CTE_UNKNOWN) {
			fn(arg, cs, m->msg + p->bs.off, p->be.off - p->bs.off);
			continue;
		}
		buf_reset(scratch);
		struct outq q = { .out = scratch, .n = 0 };
		if (cte == CTE_BASE64)
			put_base64(&q, m->msg, p->bs.off, p->be.off);
		else
			put_qp(&q, m->msg, p->bs.off, p->be.off);
		outq_flush(&q);
		fn(arg, cs, scratch->data ? scratch->data : (const uint8_t *)"", scratch->len);
	}
}

/* ---- addresses as search text ---------------------------------------- */

static void
put_text_piece(struct buf *out, const struct buf *tmp, const struct piece *pc)
{
	if (pc->len > 0 && !tmp->err)
		buf_append(out, tmp->data + pc->off, pc->len);
}

void
mime_address_text(const uint8_t *s, size_t len, struct buf *out, struct buf *scratch)
{
	struct wctx w = { NULL, out, scratch, false };
	bool in_group = false, first = true;
	size_t pos = 0;
	for (;;) {
		struct seg sg;
		struct piece pc[4];
		seg_scan(s, pos, len, in_group, &sg);
		buf_reset(scratch);
		if (sg.term == ':') {
			pc[0] = collect(&w, s, sg.a, sg.stop, true);
			buf_puts(out, first ? "" : ", ");
			put_text_piece(out, scratch, &pc[0]);
			buf_puts(out, ": ");
			in_group = true;
			first = true;
		} else {
			if (sg.has_words && mailbox_pieces(&w, s, &sg, pc)) {
				buf_puts(out, first ? "" : ", ");
				first = false;
				if (pc[0].len > 0) {
					put_text_piece(out, scratch, &pc[0]);
					buf_puts(out, " <");
				}
				put_text_piece(out, scratch, &pc[2]);
				if (pc[3].len > 0) {
					buf_putc(out, '@');
					put_text_piece(out, scratch, &pc[3]);
				}
				if (pc[0].len > 0)
					buf_putc(out, '>');
			}
			if (sg.term == ';' && in_group) {
				buf_putc(out, ';');
				in_group = false;
				first = false;
			}
		}
		if (sg.term == 0)
			break;
		pos = sg.next;
	}
	if (in_group)
		buf_putc(out, ';');
}

/* ---- APPEND of binary content (RFC 3516 4.3) -------------------------- */

/* Does the leaf's body need base64 to be stored as it is?  Its encoding
 * says "binary", or it holds a NUL, which no IMAP literal but literal8
 * may carry: BODY[] of it could never be sent. */
static bool
needs_base64(const struct mime_msg *m, const struct part *p)
{
	if (p->kind != K_LEAF || p->bs.off >= p->be.off || part_cte(m, p) != CTE_IDENTITY)
		return false;
	if (memchr(m->msg + p->bs.off, 0, p->be.off - p->bs.off) != NULL)
		return true;
	struct hvals h;
	size_t a, b;
	hvals_collect(m, p, HF_CTE, HF_CTE + 1, &h);
	struct lx x = { m->msg, h.a[HF_CTE], h.b[HF_CTE] };
	if (!h.has[HF_CTE])
		return false;
	lx_cfws(&x);
	return lx_token(&x, &a, &b) && span_is(m->msg, a, b, "binary");
}

/* Base64 in lines of 76 characters and CRLF (RFC 2045 6.8): 57 bytes
 * a line, by core/b64's encoder. */
static void
put_base64_lines(struct buf *out, const uint8_t *s, size_t n)
{
	char line[B64_ENC_LEN(57) + 1];
	for (size_t i = 0; i < n; i += 57) {
		size_t len = b64_encode(s + i, n - i < 57 ? n - i : 57, line, sizeof line);
		buf_append(out, line, len);
		buf_puts(out, "\r\n");
	}
}

bool
mime_binary_to_base64(const struct mime_msg *m, struct buf *out)
{
	size_t cursor = 0;
	bool changed = false;
	for (uint32_t i = 0; i < m->n_parts; i++) {
		const struct part *p = &m->parts[i];
		if (!needs_base64(m, p))
			continue;
		/* everything before this part's header as it was; then its
		 * fields but the transfer encoding, the new one, the blank line */
		buf_append(out, m->msg + cursor, p->hs.off - cursor);
		size_t pos = p->hs.off;
		struct field f;
		while (field_next(m->msg, &pos, p->bs.off, &f)) {
			if (f.name_len == 25 && ascii_memcaseeq(m->msg + f.start,
			    "Content-Transfer-Encoding", 25))
				continue;
			buf_append(out, m->msg + f.start, f.end - f.start);
		}
		buf_puts(out, "Content-Transfer-Encoding: base64\r\n");
		buf_append(out, m->msg + pos, p->bs.off - pos);
		put_base64_lines(out, m->msg + p->bs.off, p->be.off - p->bs.off);
		/* a delimiter's line end follows: the last line's is its */
		if (p->be.off < m->len && !out->err)
			out->len -= 2;
		cursor = p->be.off;
		changed = true;
	}
	if (changed)
		buf_append(out, m->msg + cursor, m->len - cursor);
	return changed && !out->err;
}

/*
 * msgauth/header.c - streaming collector of a message's header section
 * (RFC 5322 2.2, 3.6; obsolete "Name : value" of 4.5 accepted).
 *
 * Input:   message bytes in pieces of any size, LF or CRLF line ends;
 *          untrusted.  A lone CR is an ordinary byte.
 * Output:  struct mhdrs: raw header bytes (at most max kept) and the fields
 *          found in them.  The section ends at the first empty line, which
 *          belongs to it, or at mhdrs_end().
 * Trusts:  nothing.  Runs in: smtp worker, policy, CLI.  Pure.
 *
 * A byte state machine: one call per byte decides everything, so the
 * split into pieces can never change the outcome (fuzz_header checks it).
 * A line that starts neither a field (name, colon) nor a continuation (WSP
 * after a field) is "malformed": its bytes stay in raw, no field owns
 * them, and a continuation after it is malformed too.  What the checks do
 * with such messages is theirs to decide (dkim.c verifies what it can).
 */
#include "msgauth/header.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MHDRS_DEFAULT_MAX (256 * 1024)

enum {
	ST_BOL = 0,	/* at the start of a line */
	ST_BOL_CR,	/* a CR at the start of a line: the end, if LF follows */
	ST_NAME,	/* in a field name, before the colon */
	ST_VALUE,	/* after the colon, or in a continuation line */
	ST_BAD,		/* in a malformed line, until its LF */
};

void
mhdrs_init(struct mhdrs *h, size_t max)
{
	memset(h, 0, sizeof *h);
	buf_init(&h->raw, max ? max : MHDRS_DEFAULT_MAX);
	h->st = ST_BOL;
}

void
mhdrs_free(struct mhdrs *h)
{
	buf_free(&h->raw);
	free(h->f);
	h->f = NULL;
	h->n = h->cap = 0;
}

static bool
is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* A field starts at stream offset off; stored unless past a limit. */
static void
field_start(struct mhdrs *h, uint64_t off)
{
	h->in_field = true;
	h->name_len = 0;
	h->name_wsp = false;
	if (h->overflow)
		return;
	if (h->n >= MHDRS_FIELDS_MAX) {
		h->overflow = true;
		return;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		if (h->cap > MHDRS_FIELDS_MAX)
			h->cap = MHDRS_FIELDS_MAX;
		h->f = xreallocarray(h->f, h->cap, sizeof *h->f);
	}
	h->f[h->n++] = (struct mhdr){ .off = (size_t)off, .len = 0, .name_len = 0 };
}

/* The line being read as a name turned out not to be a field. */
static void
field_abandon(struct mhdrs *h)
{
	if (h->in_field && !h->overflow && h->n > 0 && h->f[h->n - 1].len == 0)
		h->n--;
	h->in_field = false;
	h->malformed = true;
	h->st = ST_BAD;
}

/* True while the field being read is stored in f (not lost to a limit). */
static bool
field_kept(const struct mhdrs *h)
{
	return h->in_field && !h->overflow && h->n > 0;
}

/* One byte at stream offset h->pos.  Returns true when it ended the
 * header section. */
static bool
step(struct mhdrs *h, uint8_t c)
{
	switch (h->st) {
	case ST_BOL:
		if (c == '\n') {
			h->in_field = false;	/* the empty line is no field's */
			return true;
		}
		if (is_wsp(c)) {
			if (h->in_field) {
				h->st = ST_VALUE;
			} else {
				h->malformed = true;
				h->st = ST_BAD;
			}
			break;
		}
		/* a new line that is not a continuation ends the field */
		h->in_field = false;
		if (c == '\r') {
			h->st = ST_BOL_CR;
			break;
		}
		if (c == ':' || c < 0x21 || c > 0x7e) {
			h->malformed = true;
			h->st = ST_BAD;
			break;
		}
		field_start(h, h->pos);
		h->name_len = 1;
		h->st = ST_NAME;
		break;
	case ST_BOL_CR:
		if (c == '\n')
			return true;
		h->malformed = true;
		h->st = ST_BAD;
		break;
	case ST_NAME:
		if (c == ':') {
			if (field_kept(h))
				h->f[h->n - 1].name_len = h->name_len;
			h->st = ST_VALUE;
		} else if (is_wsp(c)) {
			h->name_wsp = true;	/* obsolete "Name :" (RFC 5322 4.5.8) */
		} else if (c < 0x21 || c > 0x7e || h->name_wsp) {
			field_abandon(h);
			if (c == '\n')
				h->st = ST_BOL;
		} else {
			h->name_len++;
		}
		break;
	case ST_VALUE:
		if (c == '\n')
			h->st = ST_BOL;
		break;
	case ST_BAD:
		if (c == '\n')
			h->st = ST_BOL;
		break;
	}
	return false;
}

/* After byte h->pos was handled: grow the field, or lose it when its
 * bytes no longer fit in raw. */
static void
account(struct mhdrs *h, size_t max)
{
	if (h->pos >= max && !h->overflow) {
		h->overflow = true;
		/* the field in progress is incomplete in raw: drop it */
		if (h->in_field && h->n > 0)
			h->n--;
	}
	if (field_kept(h) && h->st != ST_NAME)
		h->f[h->n - 1].len = (size_t)(h->pos + 1 - h->f[h->n - 1].off);
}

size_t
mhdrs_feed(struct mhdrs *h, const uint8_t *p, size_t len)
{
	if (h->done)
		return 0;
	size_t max = h->raw.max, i = 0;
	bool end = false;
	while (i < len && !end) {
		end = step(h, p[i]);
		account(h, max);
		h->pos++;
		i++;
	}
	/* keep what fits; buf_append is all-or-nothing, so cut to the room */
	size_t room = max - h->raw.len, keep = i < room ? i : room;
	if (keep > 0)
		buf_append(&h->raw, p, keep);
	if (end) {
		h->done = true;
		h->body_off = h->pos;
	}
	return i;
}

void
mhdrs_end(struct mhdrs *h)
{
	if (h->done)
		return;
	if (h->st == ST_NAME) {
		/* a last line without a colon */
		if (h->in_field && !h->overflow && h->n > 0)
			h->n--;
		h->in_field = false;
		h->malformed = true;
	} else if (h->st == ST_BOL_CR) {
		h->malformed = true;
	}
	h->done = true;
	h->body_off = h->pos;
}

bool
mhdrs_is(const struct mhdrs *h, size_t i, const char *name)
{
	if (i >= h->n)
		return false;
	size_t n = strlen(name);
	return h->f[i].name_len == n && ascii_memcaseeq(h->raw.data + h->f[i].off, name, n);
}

size_t
mhdrs_find(const struct mhdrs *h, size_t from, const char *name)
{
	for (size_t i = from; i < h->n; i++)
		if (mhdrs_is(h, i, name))
			return i;
	return h->n;
}

char *
mhdrs_value(const struct mhdrs *h, size_t i, size_t *len)
{
	if (i >= h->n) {
		if (len)
			*len = 0;
		return xstrdup("");
	}
	const uint8_t *p = h->raw.data + h->f[i].off, *end = p + h->f[i].len;
	const uint8_t *colon = memchr(p, ':', h->f[i].len);
	const uint8_t *v = colon ? colon + 1 : end;
	char *out = xmalloc((size_t)(end - v) + 1);
	size_t n = 0;
	for (; v < end; v++) {
		/* drop LF and the CR of each CRLF: the folding and the final
		 * line end (RFC 5322 2.2.3) */
		if (*v == '\n' || (*v == '\r' && v + 1 < end && v[1] == '\n'))
			continue;
		out[n++] = (char)*v;
	}
	out[n] = '\0';
	if (len)
		*len = n;
	return out;
}

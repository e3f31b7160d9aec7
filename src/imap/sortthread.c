/*
 * imap/sortthread.c - IMAP SORT and THREAD (RFC 5256), SORT=DISPLAY
 * (RFC 5957).  See sortthread.h for what is compared and the limits.
 *
 * Input:   SORT criteria and THREAD algorithm arguments from the client;
 *          message headers from the mailbox, written by anyone who can
 *          send mail.  Nothing is trusted.
 * Output:  per-message records (strings in one allocation each), an
 *          order of record indexes, THREAD response text.
 * Trusts:  nothing.  Runs in: imap mailbox process.  No I/O.
 * Not here: loading headers, SEARCH criteria and CHARSET after the sort
 *          criteria, the untagged response lines (the command handler).
 *
 * Every sort here is one bottom-up merge sort over 32-bit indexes:
 * stable, O(n log n) on any input, no recursion.  The REFERENCES
 * threader follows RFC 5256 2.2 step by step; where the RFC walks the
 * tree (loop checks, pruning, sibling sorting, output) this file uses a
 * link-cut tree or explicit stacks, so depth costs neither time nor
 * call stack.
 */
#include "imap/sortthread.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "imap/hdrtext.h"
#include "imap/mime.h"
#include "msgauth/header.h"

#define NONE	UINT32_MAX
#define NOPE	SIZE_MAX	/* "no match" for the subject scanners */

/* ---- criteria (RFC 5256 4, RFC 5957 5) ------------------------------- */

static const struct {
	const char *name;
	uint8_t key;
} key_names[] = {
	{ "ARRIVAL", SORT_ARRIVAL },
	{ "CC", SORT_CC },
	{ "DATE", SORT_DATE },
	{ "FROM", SORT_FROM },
	{ "SIZE", SORT_SIZE },
	{ "SUBJECT", SORT_SUBJECT },
	{ "TO", SORT_TO },
	{ "DISPLAYFROM", SORT_DISPLAYFROM },
	{ "DISPLAYTO", SORT_DISPLAYTO },
};

static int
key_lookup(const struct imap_arg *a)
{
	for (size_t i = 0; i < NELEM(key_names); i++)
		if (imap_arg_atom_is(a, key_names[i].name))
			return key_names[i].key;
	return -1;
}

static int
parse_fail(struct sort_keys *out, const char **why, const char *reason)
{
	out->n = 0;
	*why = reason;
	return -1;
}

int
sort_parse(const struct imap_arg *list, struct sort_keys *out, const char **why)
{
	bool reverse = false;
	out->n = 0;
	if (list == NULL || list->type != IMAP_ARG_LIST)
		return parse_fail(out, why, "Sort criteria must be a parenthesised list");
	if (list->n == 0)
		return parse_fail(out, why, "Empty sort criteria");
	for (size_t i = 0; i < list->n; i++) {
		const struct imap_arg *a = &list->list[i];
		if (a->type != IMAP_ARG_ATOM)
			return parse_fail(out, why, "Invalid sort criterion");
		if (imap_arg_atom_is(a, "REVERSE")) {
			/* sort-criterion = ["REVERSE" SP] sort-key: one at most */
			if (reverse)
				break;
			reverse = true;
			continue;
		}
		int key = key_lookup(a);
		if (key < 0)
			return parse_fail(out, why, "Unknown sort key");
		if (out->n == SORT_KEYS_MAX)
			return parse_fail(out, why, "Too many sort criteria");
		out->k[out->n].key = (uint8_t)key;
		out->k[out->n].reverse = reverse;
		out->n++;
		reverse = false;
	}
	if (reverse)
		return parse_fail(out, why, "REVERSE must be followed by a sort key");
	return 0;
}

int
thread_algorithm(const struct imap_arg *a)
{
	if (imap_arg_atom_is(a, "ORDEREDSUBJECT"))
		return THREAD_ORDEREDSUBJECT;
	if (imap_arg_atom_is(a, "REFERENCES"))
		return THREAD_REFERENCES;
	return -1;
}

static unsigned
key_need(uint8_t key)
{
	switch (key) {
	case SORT_CC:		return SORT_NEED_CC;
	case SORT_DATE:		return SORT_NEED_DATE;
	case SORT_FROM:		return SORT_NEED_FROM;
	case SORT_SUBJECT:	return SORT_NEED_SUBJECT;
	case SORT_TO:		return SORT_NEED_TO;
	case SORT_DISPLAYFROM:	return SORT_NEED_DFROM;
	case SORT_DISPLAYTO:	return SORT_NEED_DTO;
	default:		return 0;	/* ARRIVAL, SIZE */
	}
}

unsigned
sort_need(const struct sort_keys *k)
{
	unsigned need = 0;
	for (size_t i = 0; i < k->n; i++)
		need |= key_need(k->k[i].key);
	return need;
}

unsigned
thread_need(enum thread_alg alg)
{
	unsigned need = SORT_NEED_SUBJECT | SORT_NEED_DATE;
	return alg == THREAD_REFERENCES ? need | SORT_NEED_IDS : need;
}

bool
sort_needs_header(const struct sort_keys *k)
{
	return sort_need(k) != 0;
}

/* ---- base subject (RFC 5256 2.1) -------------------------------------- */

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Step (1), after decoding: tabs and continuations (and any other
 * whitespace run) become one space.  In place; returns the new length. */
static size_t
squeeze(uint8_t *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (is_space(c)) {
			if (o > 0 && s[o - 1] == ' ')
				continue;
			c = ' ';
		}
		s[o++] = c;
	}
	return o;
}

/* s[p..b) starts with word, ASCII case-insensitively (ABNF strings). */
static bool
starts(const uint8_t *s, size_t p, size_t b, const char *word)
{
	size_t n = strlen(word);
	return b - p >= n && ascii_memcaseeq(s + p, word, n);
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP at p: its end, or NOPE. */
static size_t
blob_end(const uint8_t *s, size_t p, size_t b)
{
	if (p >= b || s[p] != '[')
		return NOPE;
	size_t q = p + 1;
	while (q < b && s[q] != ']' && s[q] != '[')
		q++;
	if (q >= b || s[q] != ']')
		return NOPE;
	for (q++; q < b && s[q] == ' '; q++)
		;
	return q;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at p. */
static size_t
refwd_end(const uint8_t *s, size_t p, size_t b)
{
	size_t q;
	if (starts(s, p, b, "re"))
		q = p + 2;
	else if (starts(s, p, b, "fwd"))
		q = p + 3;
	else if (starts(s, p, b, "fw"))
		q = p + 2;
	else
		return NOPE;
	while (q < b && s[q] == ' ')
		q++;
	size_t e = blob_end(s, q, b);
	if (e != NOPE)
		q = e;
	return q < b && s[q] == ':' ? q + 1 : NOPE;
}

/* subj-leader's first form, *subj-blob subj-refwd, at p: its end, or
 * NOPE with *fail the position where neither a blob nor a refwd starts. */
static size_t
leader_end(const uint8_t *s, size_t p, size_t b, size_t *fail)
{
	for (;;) {
		size_t e = refwd_end(s, p, b);
		if (e != NOPE)
			return e;
		e = blob_end(s, p, b);
		if (e == NOPE) {
			*fail = p;
			return NOPE;
		}
		p = e;
	}
}

/* Step (2): trailing "(fwd)" and WSP. */
static void
strip_trailers(const uint8_t *s, size_t a, size_t *b, bool *is_refwd)
{
	while (*b > a) {
		if (s[*b - 1] == ' ') {
			(*b)--;
		} else if (*b - a >= 5 && ascii_memcaseeq(s + *b - 5, "(fwd)", 5)) {
			*b -= 5;
			*is_refwd = true;
		} else {
			return;
		}
	}
}

/*
 * Steps (3) to (5): leaders, then one leading blob unless it is all that
 * is left, until neither changes anything.  "[a][b][c]...x" would make
 * step (3) scan the same chain of blobs again after each blob step (4)
 * removes: quadratic.  Step (4) only ever moves a to the next blob of
 * that chain, and from there the scan fails at the same place, so the
 * failure point is remembered (b is fixed during these steps).
 */
static void
strip_leaders(const uint8_t *s, size_t *a, size_t b, bool *is_refwd)
{
	size_t known_fail = 0;
	bool has_fail = false;
	for (;;) {
		bool changed = false;
		for (;;) {
			if (*a < b && s[*a] == ' ') {
				(*a)++;
				changed = true;
				continue;
			}
			if (has_fail && *a <= known_fail)
				break;
			size_t fail = 0, e = leader_end(s, *a, b, &fail);
			if (e == NOPE) {
				has_fail = true;
				known_fail = fail;
				break;
			}
			*a = e;
			*is_refwd = true;
			changed = true;
		}
		size_t e = blob_end(s, *a, b);
		if (e != NOPE && e < b) {
			*a = e;
			changed = true;
		}
		if (!changed)
			return;
	}
}

int
sort_base_subject(struct buf *out, const uint8_t *v, size_t len, bool *is_refwd)
{
	struct buf d;
	buf_init(&d, 0);
	*is_refwd = false;
	hdrtext_decode(&d, v, len);
	uint8_t *s = d.data;
	size_t a = 0, b = s != NULL ? squeeze(s, d.len) : 0;
	for (;;) {
		strip_trailers(s, a, &b, is_refwd);
		strip_leaders(s, &a, b, is_refwd);
		/* step (6): subj-fwd-hdr "[fwd:" ... subj-fwd-trl "]" */
		if (b - a >= 6 && starts(s, a, b, "[fwd:") && s[b - 1] == ']') {
			a += 5;
			b -= 1;
			*is_refwd = true;
			continue;
		}
		break;
	}
	if (b > a)
		buf_append(out, s + a, b - a);
	buf_free(&d);
	return out->err ? -1 : 0;
}

/* ---- records --------------------------------------------------------- */

static const uint8_t *
buf_at(const struct buf *b, size_t off)
{
	return b->data != NULL ? b->data + off : (const uint8_t *)"";
}

/* Store string i of r: p[0..len), cut at SORT_STR_MAX, with a-z mapped to
 * A-Z when upper (i;ascii-casemap compares that form with memcmp). */
static void
put_str(struct sort_rec *r, struct buf *mem, enum sort_str i, const uint8_t *p, size_t len,
    bool upper)
{
	if (len > SORT_STR_MAX)
		len = SORT_STR_MAX;
	r->off[i] = (uint32_t)mem->len;
	if (len == 0 || !buf_append(mem, p, len))
		return;
	if (upper) {
		uint8_t *q = mem->data + mem->len - len;
		for (size_t j = 0; j < len; j++)
			if (q[j] >= 'a' && q[j] <= 'z')
				q[j] = (uint8_t)(q[j] - 'a' + 'A');
	}
	r->len[i] = (uint32_t)len;
}

/* The unfolded value of the first field named name (malloc'd), or NULL. */
static char *
first_value(const struct mhdrs *h, const char *name, size_t *len)
{
	size_t i = mhdrs_find(h, 0, name);
	return i < h->n ? mhdrs_value(h, i, len) : NULL;
}

static void
rec_subject(struct sort_rec *r, struct buf *mem, const struct mhdrs *h, struct buf *tmp)
{
	size_t len;
	char *v = first_value(h, "Subject", &len);
	if (v == NULL)
		return;
	buf_reset(tmp);
	if (sort_base_subject(tmp, (const uint8_t *)v, len, &r->is_refwd) == 0)
		put_str(r, mem, SORT_S_SUBJECT, buf_at(tmp, 0), tmp->len, true);
	free(v);
}

static void
rec_date(struct sort_rec *r, const struct mhdrs *h)
{
	size_t len;
	char *v = first_value(h, "Date", &len);
	struct hdrtext_date d;
	/* RFC 5256 3: no usable Date: means the internal date; a date
	 * without a time is not a date-time (RFC 5322 3.3) */
	if (v != NULL && hdrtext_parse_date((const uint8_t *)v, len, &d) && d.has_time)
		r->sent = d.utc;
	free(v);
}

/* RFC 5957 3: the decoded name if not empty, else mailbox@host, else
 * the mailbox; into dec. */
static void
display_value(struct buf *dec, const struct buf *tmp, const struct mime_addr *a)
{
	buf_reset(dec);
	if (a->has_name)
		hdrtext_decode(dec, buf_at(tmp, a->name_off), a->name_len);
	if (dec->len > 0)
		return;
	buf_reset(dec);
	hdrtext_decode(dec, buf_at(tmp, a->mailbox_off), a->mailbox_len);
	if (a->host_len > 0) {
		buf_putc(dec, '@');
		hdrtext_decode(dec, buf_at(tmp, a->host_off), a->host_len);
	}
}

/* FROM/TO/CC (mailbox) and DISPLAYFROM/DISPLAYTO of the first address
 * of the first field called name. */
static void
rec_address(struct sort_rec *r, struct buf *mem, const struct mhdrs *h, const char *name,
    int s_mbox, int s_disp, struct buf *tmp, struct buf *dec)
{
	size_t len;
	struct mime_addr a;
	char *v = first_value(h, name, &len);
	if (v == NULL)
		return;
	buf_reset(tmp);
	if (mime_first_address((const uint8_t *)v, len, tmp, &a)) {
		if (s_mbox >= 0) {
			buf_reset(dec);
			hdrtext_decode(dec, buf_at(tmp, a.mailbox_off), a.mailbox_len);
			put_str(r, mem, (enum sort_str)s_mbox, buf_at(dec, 0), dec->len, true);
		}
		if (s_disp >= 0) {
			display_value(dec, tmp, &a);
			put_str(r, mem, (enum sort_str)s_disp, buf_at(dec, 0), dec->len, true);
		}
	}
	free(v);
}

/* At "(": skip a comment, nested with a counter (RFC 5322 3.2.2). */
static size_t
skip_comment(const uint8_t *v, size_t i, size_t len)
{
	size_t depth = 0;
	while (i < len) {
		uint8_t c = v[i++];
		if (c == '\\')
			i++;
		else if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			break;
	}
	return i < len ? i : len;
}

/* At a DQUOTE: skip the quoted string. */
static size_t
skip_quoted(const uint8_t *v, size_t i, size_t len)
{
	for (i++; i < len; i++) {
		if (v[i] == '\\')
			i++;
		else if (v[i] == '"')
			return i + 1;
	}
	return len;
}

/*
 * The next valid message ID in v[*pos..len) (RFC 5322 3.6.4 msg-id):
 * "<" ... ">" outside comments and quoted strings, holding an "@" and
 * only visible characters once whitespace (folding) is removed, at most
 * SORT_ID_MAX of them.  The ID without "<>" goes to id[].  In-Reply-To
 * may carry free text ("Your message of ...") around it; that is skipped.
 */
static bool
next_msgid(const uint8_t *v, size_t len, size_t *pos, uint8_t *id, size_t *idlen)
{
	size_t i = *pos;
	while (i < len) {
		if (v[i] == '(') {
			i = skip_comment(v, i, len);
			continue;
		}
		if (v[i] == '"') {
			i = skip_quoted(v, i, len);
			continue;
		}
		if (v[i] != '<') {
			i++;
			continue;
		}
		size_t j = i + 1, n = 0;
		bool ok = true, at = false;
		for (; j < len && v[j] != '>' && v[j] != '<'; j++) {
			if (is_space(v[j]))
				continue;
			if (v[j] < 0x21 || v[j] == 0x7f || n == SORT_ID_MAX)
				ok = false;
			else
				id[n++] = v[j];
			at |= v[j] == '@';
		}
		if (j < len && v[j] == '>' && ok && at) {
			*pos = j + 1;
			*idlen = n;
			return true;
		}
		i = j < len && v[j] == '>' ? j + 1 : j;	/* a new "<" restarts */
	}
	*pos = len;
	return false;
}

static void
put_id(struct buf *b, const uint8_t *id, size_t n)
{
	buf_putc(b, (uint8_t)(n >> 8));
	buf_putc(b, (uint8_t)n);
	buf_append(b, id, n);
}

/* The valid IDs of v[0..len), encoded as in SORT_S_REFS, into tmp; the
 * start of each in *starts (grown as needed); returns how many. */
static size_t
collect_ids(const uint8_t *v, size_t len, struct buf *tmp, size_t **starts, size_t *cap)
{
	uint8_t id[SORT_ID_MAX];
	size_t pos = 0, n = 0, idlen;
	buf_reset(tmp);
	while (next_msgid(v, len, &pos, id, &idlen)) {
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*starts = xreallocarray(*starts, *cap, sizeof **starts);
		}
		(*starts)[n++] = tmp->len;
		put_id(tmp, id, idlen);
	}
	return tmp->err ? 0 : n;
}

/* Message-ID, and the references: References, or when it has no valid
 * ID the first valid one of In-Reply-To (RFC 5256 2.2 step 1.A). */
static void
rec_ids(struct sort_rec *r, struct buf *mem, const struct mhdrs *h, struct buf *tmp)
{
	uint8_t id[SORT_ID_MAX];
	size_t len, pos = 0, idlen, n = 0, cap = 0, *starts = NULL;
	char *v = first_value(h, "Message-ID", &len);
	if (v != NULL && next_msgid((const uint8_t *)v, len, &pos, id, &idlen))
		put_str(r, mem, SORT_S_MSGID, id, idlen, false);
	free(v);

	v = first_value(h, "References", &len);
	if (v != NULL)
		n = collect_ids((const uint8_t *)v, len, tmp, &starts, &cap);
	free(v);
	if (n == 0 && (v = first_value(h, "In-Reply-To", &len)) != NULL) {
		n = collect_ids((const uint8_t *)v, len, tmp, &starts, &cap);
		if (n > 1) {
			n = 1;
			tmp->len = starts[1];
		}
		free(v);
	}
	/* keep the last ones that fit the limits: the parent is the last */
	size_t first = n, bytes = 0;
	while (first > 0 && n - first < SORT_REFS_MAX) {
		size_t end = first < n ? starts[first] : tmp->len;
		size_t sz = end - starts[first - 1];
		if (bytes + sz > SORT_REFS_BYTES)
			break;
		bytes += sz;
		first--;
	}
	r->off[SORT_S_REFS] = (uint32_t)mem->len;
	if (first < n && buf_append(mem, tmp->data + starts[first], bytes))
		r->len[SORT_S_REFS] = (uint32_t)bytes;
	free(starts);
}

void
sort_rec_make(struct sort_rec *r, const struct sort_msg *m, unsigned need)
{
	memset(r, 0, sizeof *r);
	r->seq = m->seq;
	r->uid = m->uid;
	r->arrival = m->internaldate;
	r->sent = m->internaldate;
	r->size = m->size;
	if (need == 0)
		return;

	struct mhdrs h;
	struct buf mem, tmp, dec;
	mhdrs_init(&h, 0);
	if (m->header != NULL && m->header_len > 0)
		mhdrs_feed(&h, m->header, m->header_len);
	mhdrs_end(&h);
	buf_init(&mem, 0);
	buf_init(&tmp, 0);
	buf_init(&dec, 0);

	if (need & SORT_NEED_SUBJECT)
		rec_subject(r, &mem, &h, &tmp);
	if (need & SORT_NEED_DATE)
		rec_date(r, &h);
	if (need & (SORT_NEED_FROM | SORT_NEED_DFROM))
		rec_address(r, &mem, &h, "From", need & SORT_NEED_FROM ? SORT_S_FROM : -1,
		    need & SORT_NEED_DFROM ? SORT_S_DFROM : -1, &tmp, &dec);
	if (need & (SORT_NEED_TO | SORT_NEED_DTO))
		rec_address(r, &mem, &h, "To", need & SORT_NEED_TO ? SORT_S_TO : -1,
		    need & SORT_NEED_DTO ? SORT_S_DTO : -1, &tmp, &dec);
	if (need & SORT_NEED_CC)
		rec_address(r, &mem, &h, "Cc", SORT_S_CC, -1, &tmp, &dec);
	if (need & SORT_NEED_IDS)
		rec_ids(r, &mem, &h, &tmp);

	if (mem.len > 0)
		r->mem = mem.data;	/* the record owns it now */
	else
		buf_free(&mem);
	buf_free(&tmp);
	buf_free(&dec);
	mhdrs_free(&h);
}

void
sort_rec_free(struct sort_rec *r)
{
	free(r->mem);
	r->mem = NULL;
	memset(r->len, 0, sizeof r->len);
}

static const uint8_t *
rec_str(const struct sort_rec *r, enum sort_str i, size_t *len)
{
	*len = r->len[i];
	return *len > 0 ? r->mem + r->off[i] : (const uint8_t *)"";
}

/* ---- comparing and sorting ------------------------------------------- */

static int
cmp_i64(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

static int
cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

/* i;ascii-casemap on the stored (upper-mapped) strings: memcmp, then
 * the shorter first; -1, 0 or 1. */
static int
cmp_str(const struct sort_rec *a, const struct sort_rec *b, enum sort_str i)
{
	size_t la, lb;
	const uint8_t *pa = rec_str(a, i, &la), *pb = rec_str(b, i, &lb);
	int c = memcmp(pa, pb, la < lb ? la : lb);
	if (c != 0)
		return c < 0 ? -1 : 1;
	return cmp_u64(la, lb);
}

static int
cmp_key(const struct sort_rec *a, const struct sort_rec *b, uint8_t key)
{
	switch (key) {
	case SORT_ARRIVAL:	return cmp_i64(a->arrival, b->arrival);
	case SORT_CC:		return cmp_str(a, b, SORT_S_CC);
	case SORT_DATE:		return cmp_i64(a->sent, b->sent);
	case SORT_FROM:		return cmp_str(a, b, SORT_S_FROM);
	case SORT_SIZE:		return cmp_u64(a->size, b->size);
	case SORT_SUBJECT:	return cmp_str(a, b, SORT_S_SUBJECT);
	case SORT_TO:		return cmp_str(a, b, SORT_S_TO);
	case SORT_DISPLAYFROM:	return cmp_str(a, b, SORT_S_DFROM);
	case SORT_DISPLAYTO:	return cmp_str(a, b, SORT_S_DTO);
	default:		return 0;
	}
}

int
sort_compare(const struct sort_rec *a, const struct sort_rec *b, const struct sort_keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		int c = cmp_key(a, b, k->k[i].key);
		if (c != 0)
			return k->k[i].reverse ? -c : c;
	}
	return cmp_u64(a->seq, b->seq);
}

typedef int (*cmp_fn)(const void *ctx, uint32_t a, uint32_t b);

/* Stable bottom-up merge sort of a[0..n) (no recursion, O(n log n)). */
static void
msort(uint32_t *a, size_t n, cmp_fn cmp, const void *ctx)
{
	if (n < 2)
		return;
	uint32_t *tmp = xreallocarray(NULL, n, sizeof *tmp), *src = a, *dst = tmp;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				dst[o++] = cmp(ctx, src[j], src[i]) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[o++] = src[i++];
			while (j < hi)
				dst[o++] = src[j++];
		}
		uint32_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
	free(tmp);
}

struct sort_ctx {
	const struct sort_rec *r;
	const struct sort_keys *k;
};

static int
cmp_sort(const void *ctx, uint32_t a, uint32_t b)
{
	const struct sort_ctx *c = ctx;
	return sort_compare(&c->r[a], &c->r[b], c->k);
}

int
sort_order(const struct sort_rec *r, size_t n, const struct sort_keys *k, uint32_t *order)
{
	if (n >= NONE)
		return -1;
	struct sort_ctx c = { r, k };
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	msort(order, n, cmp_sort, &c);
	return 0;
}

/* Sent date, then sequence number: RFC 5256 2.2 and 2.1's order. */
static int
cmp_sent(const struct sort_rec *a, const struct sort_rec *b)
{
	int c = cmp_i64(a->sent, b->sent);
	return c != 0 ? c : cmp_u64(a->seq, b->seq);
}

static void
put_num(struct buf *out, const struct sort_rec *r, bool by_uid)
{
	buf_printf(out, "%u", (unsigned)(by_uid ? r->uid : r->seq));
}

/* ---- ORDEREDSUBJECT (RFC 5256 2.1) ------------------------------------- */

static int
cmp_subject_sent(const void *ctx, uint32_t a, uint32_t b)
{
	const struct sort_rec *r = ctx;
	int c = cmp_str(&r[a], &r[b], SORT_S_SUBJECT);
	return c != 0 ? c : cmp_sent(&r[a], &r[b]);
}

struct thr_ctx {
	const struct sort_rec *r;
	const uint32_t *first;		/* thread -> its first message */
};

static int
cmp_thread_first(const void *ctx, uint32_t a, uint32_t b)
{
	const struct thr_ctx *c = ctx;
	return cmp_sent(&c->r[c->first[a]], &c->r[c->first[b]]);
}

/*
 * Sort by base subject, then sent date; each run of one subject is a
 * thread whose first message is the root and the others its children
 * (no grandchildren); threads are ordered by their first message's sent
 * date.  Written "(a)", "(a b)", "(a (b)(c)...)" (RFC 5256 4: a single
 * child continues the thread-members, several are thread-nested).
 */
static void
ordered_subject(const struct sort_rec *r, size_t n, bool by_uid, struct buf *out)
{
	uint32_t *idx = xreallocarray(NULL, n, sizeof *idx);
	uint32_t *start = xreallocarray(NULL, n + 1, sizeof *start);	/* thread -> idx pos */
	uint32_t *first = xreallocarray(NULL, n, sizeof *first);
	uint32_t *thr = xreallocarray(NULL, n, sizeof *thr);
	size_t n_thr = 0;
	for (size_t i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	msort(idx, n, cmp_subject_sent, r);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || cmp_str(&r[idx[i - 1]], &r[idx[i]], SORT_S_SUBJECT) != 0) {
			first[n_thr] = idx[i];
			thr[n_thr] = (uint32_t)n_thr;
			start[n_thr++] = (uint32_t)i;
		}
	}
	start[n_thr] = (uint32_t)n;
	struct thr_ctx c = { r, first };
	msort(thr, n_thr, cmp_thread_first, &c);
	for (size_t t = 0; t < n_thr && !out->err; t++) {
		size_t s = start[thr[t]], e = start[thr[t] + 1];
		buf_putc(out, '(');
		put_num(out, &r[idx[s]], by_uid);
		if (e - s == 2) {
			buf_putc(out, ' ');
			put_num(out, &r[idx[s + 1]], by_uid);
		} else if (e - s > 2) {
			buf_putc(out, ' ');
			for (size_t j = s + 1; j < e; j++) {
				buf_putc(out, '(');
				put_num(out, &r[idx[j]], by_uid);
				buf_putc(out, ')');
			}
		}
		buf_putc(out, ')');
	}
	free(thr);
	free(first);
	free(start);
	free(idx);
}

/* ---- REFERENCES (RFC 5256 2.2) ------------------------------------------ */

/*
 * A container: a message, or a dummy (msg NONE) for an ID that only
 * references name, or one step 5 adds.  parent/child/next/prev are the
 * thread tree (children in a doubly linked list, so relinking a message
 * costs O(1) however many siblings it has); up/sl/sr mirror the tree as
 * a link-cut tree during step 1.
 */
struct tnode {
	uint32_t msg;
	uint32_t parent, child, next, prev;
	uint32_t up, sl, sr;
	bool is_gone;		/* a dummy deleted in step 3 or 5 */
};

struct thr {
	const struct sort_rec *r;
	struct tnode *t;
	uint32_t n_t, cap;
};

static uint32_t
node_new(struct thr *th, uint32_t msg)
{
	assert(th->n_t < th->cap);
	uint32_t x = th->n_t++;
	th->t[x] = (struct tnode){ msg, NONE, NONE, NONE, NONE, NONE, NONE, NONE, false };
	return x;
}

static void
tree_detach(struct tnode *t, uint32_t x)
{
	uint32_t p = t[x].parent;
	if (p == NONE)
		return;
	if (t[x].prev != NONE)
		t[t[x].prev].next = t[x].next;
	else
		t[p].child = t[x].next;
	if (t[x].next != NONE)
		t[t[x].next].prev = t[x].prev;
	t[x].parent = t[x].prev = t[x].next = NONE;
}

/* x (without a parent) becomes p's first child. */
static void
tree_attach(struct tnode *t, uint32_t p, uint32_t x)
{
	assert(t[x].parent == NONE);
	t[x].parent = p;
	t[x].prev = NONE;
	t[x].next = t[p].child;
	if (t[p].child != NONE)
		t[t[p].child].prev = x;
	t[p].child = x;
}

static void
move_children(struct tnode *t, uint32_t from, uint32_t to)
{
	uint32_t c;
	while ((c = t[from].child) != NONE) {
		tree_detach(t, c);
		tree_attach(t, to, c);
	}
}

/*
 * Link-cut tree (Sleator and Tarjan), rooted, without re-rooting: each
 * preferred path is a splay tree keyed by depth (sl shallower, sr
 * deeper); up is the splay parent, or from a splay tree's top the
 * path-parent.  Every operation is O(log n) amortised and iterative.
 */
static bool
lct_is_top(const struct tnode *t, uint32_t x)
{
	uint32_t p = t[x].up;
	return p == NONE || (t[p].sl != x && t[p].sr != x);
}

static void
lct_rotate(struct tnode *t, uint32_t x)
{
	uint32_t p = t[x].up, g = t[p].up;
	bool p_top = lct_is_top(t, p);
	if (t[p].sl == x) {
		t[p].sl = t[x].sr;
		if (t[x].sr != NONE)
			t[t[x].sr].up = p;
		t[x].sr = p;
	} else {
		t[p].sr = t[x].sl;
		if (t[x].sl != NONE)
			t[t[x].sl].up = p;
		t[x].sl = p;
	}
	t[p].up = x;
	t[x].up = g;
	if (!p_top) {
		if (t[g].sl == p)
			t[g].sl = x;
		else
			t[g].sr = x;
	}
}

static void
lct_splay(struct tnode *t, uint32_t x)
{
	while (!lct_is_top(t, x)) {
		uint32_t p = t[x].up;
		if (!lct_is_top(t, p)) {
			uint32_t g = t[p].up;
			lct_rotate(t, (t[g].sl == p) == (t[p].sl == x) ? p : x);
		}
		lct_rotate(t, x);
	}
}

/* Make the path from x's root to x preferred, x the top of its splay. */
static void
lct_access(struct tnode *t, uint32_t x)
{
	uint32_t last = NONE;
	for (uint32_t y = x; y != NONE; y = t[y].up) {
		lct_splay(t, y);
		t[y].sr = last;
		last = y;
	}
	lct_splay(t, x);
}

static uint32_t
lct_root(struct tnode *t, uint32_t x)
{
	lct_access(t, x);
	while (t[x].sl != NONE)
		x = t[x].sl;
	lct_splay(t, x);
	return x;
}

/* Link c, the root of its tree, under p: in both trees. */
static void
link_child(struct thr *th, uint32_t p, uint32_t c)
{
	tree_attach(th->t, p, c);
	lct_access(th->t, c);	/* c is a root: alone in its splay tree now */
	th->t[c].up = p;
}

static void
cut_parent(struct thr *th, uint32_t c)
{
	tree_detach(th->t, c);
	lct_access(th->t, c);
	uint32_t l = th->t[c].sl;	/* c's ancestors */
	if (l != NONE) {
		th->t[l].up = NONE;
		th->t[c].sl = NONE;
	}
}

/*
 * Would making p the parent of c (a root) create a loop, that is, is p
 * c itself or one of its descendants (RFC 5256 2.2 step 1.A)?  The
 * link-cut tree answers in O(log n); where a short walk up the parent
 * pointers also decides, the two must agree (asserts stay on in every
 * build here, so the fuzzer checks the link-cut tree all the time).
 */
static bool
would_loop(struct thr *th, uint32_t p, uint32_t c)
{
	assert(th->t[c].parent == NONE);
	bool loops = p == c || lct_root(th->t, p) == c;
	uint32_t x = p;
	for (unsigned steps = 0; x != NONE && x != c && steps < 64; steps++)
		x = th->t[x].parent;
	assert(x == c ? loops : x == NONE ? !loops : true);
	return loops;
}

/* One occurrence of a message ID: a record's own or a reference. */
struct occ {
	const uint8_t *p;
	uint32_t len;
};

static int
cmp_occ(const void *ctx, uint32_t a, uint32_t b)
{
	const struct occ *o = ctx;
	uint32_t la = o[a].len, lb = o[b].len;
	int c = memcmp(o[a].p, o[b].p, la < lb ? la : lb);
	if (c != 0)
		return c < 0 ? -1 : 1;
	return cmp_u64(la, lb);
}

static int
cmp_seq(const void *ctx, uint32_t a, uint32_t b)
{
	const struct sort_rec *r = ctx;
	return cmp_u64(r[a].seq, r[b].seq);
}

/* Walk the encoded references of r: call with *p = 0; false at the end. */
static bool
ref_next(const struct sort_rec *r, size_t *p, const uint8_t **id, uint32_t *len)
{
	size_t end = r->len[SORT_S_REFS];
	if (end == 0 || *p + 2 > end)
		return false;
	const uint8_t *s = r->mem + r->off[SORT_S_REFS];
	size_t l = (size_t)s[*p] << 8 | s[*p + 1];
	if (*p + 2 + l > end)
		return false;
	*id = s + *p + 2;
	*len = (uint32_t)l;
	*p += 2 + l;
	return true;
}

/*
 * The IDs of all records, in processing order: message by message in
 * sequence-number order, its own ID (when it has one) then its
 * references.  oid[k] is occurrence k's ID number: equal IDs (compared
 * case-sensitively, RFC 5256 2.2) get equal numbers.  Matching IDs by
 * sorting them costs O(N log N) whatever the IDs are.
 */
struct ids {
	uint32_t *byseq;	/* record indexes in sequence-number order */
	uint32_t *ostart;	/* per position in byseq: its first occurrence */
	uint32_t *oid;
	size_t n_occ, n_ids;
};

static int
ids_collect(const struct sort_rec *r, size_t n, struct ids *ids)
{
	const uint8_t *id;
	uint32_t len;
	size_t n_occ = 0, p;
	for (size_t i = 0; i < n; i++) {
		n_occ += r[i].len[SORT_S_MSGID] > 0;
		for (p = 0; ref_next(&r[i], &p, &id, &len);)
			n_occ++;
	}
	/* containers: messages, IDs, and up to one step 5 dummy a root */
	if (n_occ >= NONE / 2 - 2 * n)
		return -1;
	struct occ *o = xreallocarray(NULL, n_occ + 1, sizeof *o);
	uint32_t *perm = xreallocarray(NULL, n_occ + 1, sizeof *perm);
	ids->byseq = xreallocarray(NULL, n, sizeof *ids->byseq);
	ids->ostart = xreallocarray(NULL, n + 1, sizeof *ids->ostart);
	ids->oid = xreallocarray(NULL, n_occ + 1, sizeof *ids->oid);
	for (size_t i = 0; i < n; i++)
		ids->byseq[i] = (uint32_t)i;
	msort(ids->byseq, n, cmp_seq, r);

	size_t k = 0;
	for (size_t pos = 0; pos < n; pos++) {
		const struct sort_rec *m = &r[ids->byseq[pos]];
		ids->ostart[pos] = (uint32_t)k;
		size_t idlen = m->len[SORT_S_MSGID];
		if (idlen > 0)
			o[k++] = (struct occ){ m->mem + m->off[SORT_S_MSGID], (uint32_t)idlen };
		for (p = 0; ref_next(m, &p, &id, &len);)
			o[k++] = (struct occ){ id, len };
	}
	ids->ostart[n] = (uint32_t)k;
	for (k = 0; k < n_occ; k++)
		perm[k] = (uint32_t)k;
	msort(perm, n_occ, cmp_occ, o);
	ids->n_ids = 0;
	for (k = 0; k < n_occ; k++) {
		if (k > 0 && cmp_occ(o, perm[k - 1], perm[k]) != 0)
			ids->n_ids++;
		ids->oid[perm[k]] = (uint32_t)ids->n_ids;
	}
	if (n_occ > 0)
		ids->n_ids++;
	ids->n_occ = n_occ;
	free(perm);
	free(o);
	return 0;
}

static void
ids_free(struct ids *ids)
{
	free(ids->byseq);
	free(ids->ostart);
	free(ids->oid);
}

/* The container for message m with ID number d: the ID's container when
 * it is new or a dummy so far; a container of its own when another
 * message has the ID already (RFC 5256 2.2: a duplicate gets a unique
 * ID). */
static uint32_t
claim(struct thr *th, uint32_t *id_node, uint32_t d, uint32_t m)
{
	uint32_t x = id_node[d];
	if (x == NONE)
		return id_node[d] = node_new(th, m);
	if (th->t[x].msg == NONE) {
		th->t[x].msg = m;
		return x;
	}
	return node_new(th, m);
}

/* Step 1: the ID table and the parent/child links. */
static void
step1_link(struct thr *th, const struct ids *ids, size_t n)
{
	uint32_t *id_node = xreallocarray(NULL, ids->n_ids + 1, sizeof *id_node);
	for (size_t d = 0; d < ids->n_ids; d++)
		id_node[d] = NONE;
	for (size_t pos = 0; pos < n; pos++) {
		uint32_t m = ids->byseq[pos], o = ids->ostart[pos], oe = ids->ostart[pos + 1];
		uint32_t self, prev = NONE;
		if (th->r[m].len[SORT_S_MSGID] > 0)
			self = claim(th, id_node, ids->oid[o++], m);
		else
			self = node_new(th, m);
		/* 1.A: each reference the parent of the next, unless the
		 * next has a parent already or the link would make a loop */
		for (; o < oe; o++) {
			uint32_t d = ids->oid[o], x = id_node[d];
			if (x == NONE)
				x = id_node[d] = node_new(th, NONE);
			if (prev != NONE && th->t[x].parent == NONE && !would_loop(th, prev, x))
				link_child(th, prev, x);
			prev = x;
		}
		/* 1.B: the last reference is the parent; an older link (from a
		 * truncated References elsewhere) is broken first, and no
		 * references means no parent */
		if (th->t[self].parent != NONE)
			cut_parent(th, self);
		if (prev != NONE && !would_loop(th, prev, self))
			link_child(th, prev, self);
	}
	free(id_node);
}

/*
 * Step 3 (step 2's root is implicit: the containers without a parent):
 * dummies without children go; dummies with children give them to their
 * parent; at the top, a dummy stays only when it has several children.
 * Children before parents (reverse pre-order, from an explicit stack), so
 * what a dummy passes up is already free of dummies.
 */
static void
step3_prune(struct thr *th, uint32_t *order, uint32_t *stack)
{
	struct tnode *t = th->t;
	size_t k = 0, sp = 0;
	for (uint32_t x = 0; x < th->n_t; x++)
		if (t[x].parent == NONE)
			stack[sp++] = x;
	while (sp > 0) {
		uint32_t x = stack[--sp];
		order[k++] = x;
		for (uint32_t c = t[x].child; c != NONE; c = t[c].next)
			stack[sp++] = c;
	}
	for (size_t i = k; i-- > 0;) {
		uint32_t x = order[i], p = t[x].parent;
		if (t[x].msg != NONE)
			continue;
		if (p != NONE) {
			move_children(t, x, p);
			tree_detach(t, x);
			t[x].is_gone = true;
		} else if (t[x].child == NONE) {
			t[x].is_gone = true;
		} else if (t[t[x].child].next == NONE) {
			tree_detach(t, t[x].child);
			t[x].is_gone = true;
		}
	}
}

/* The message a node sorts and groups by: its own, or for a dummy (only
 * ever at the top, with message children) its first child's. */
static uint32_t
node_msg(const struct thr *th, uint32_t x)
{
	if (th->t[x].msg != NONE)
		return th->t[x].msg;
	assert(th->t[x].child != NONE && th->t[th->t[x].child].msg != NONE);
	return th->t[th->t[x].child].msg;
}

static int
cmp_node_sent(const void *ctx, uint32_t a, uint32_t b)
{
	const struct thr *th = ctx;
	return cmp_sent(&th->r[node_msg(th, a)], &th->r[node_msg(th, b)]);
}

static void
sort_children(struct thr *th, uint32_t x, uint32_t *vec)
{
	struct tnode *t = th->t;
	size_t k = 0;
	for (uint32_t c = t[x].child; c != NONE; c = t[c].next)
		vec[k++] = c;
	if (k < 2)
		return;
	msort(vec, k, cmp_node_sent, th);
	t[x].child = vec[0];
	for (size_t i = 0; i < k; i++) {
		t[vec[i]].prev = i > 0 ? vec[i - 1] : NONE;
		t[vec[i]].next = i + 1 < k ? vec[i + 1] : NONE;
	}
}

struct subj_ctx {
	const struct thr *th;
	const uint32_t *roots;
};

static int
cmp_root_subject(const void *ctx, uint32_t a, uint32_t b)
{
	const struct subj_ctx *c = ctx;
	return cmp_str(&c->th->r[node_msg(c->th, c->roots[a])],
	    &c->th->r[node_msg(c->th, c->roots[b])], SORT_S_SUBJECT);
}

/* group[j]: a number shared by the roots with the same base subject,
 * NONE for an empty one (step 5.B skips those). */
static void
subject_groups(const struct thr *th, const uint32_t *roots, size_t nr, uint32_t *group,
    uint32_t *tmp)
{
	struct subj_ctx c = { th, roots };
	uint32_t g = 0;
	for (size_t j = 0; j < nr; j++)
		tmp[j] = (uint32_t)j;
	msort(tmp, nr, cmp_root_subject, &c);
	for (size_t j = 0; j < nr; j++) {
		const struct sort_rec *m = &th->r[node_msg(th, roots[tmp[j]])];
		if (j > 0 && cmp_root_subject(&c, tmp[j - 1], tmp[j]) != 0)
			g++;
		group[tmp[j]] = m->len[SORT_S_SUBJECT] > 0 ? g : NONE;
	}
}

static bool
is_dummy(const struct thr *th, uint32_t x)
{
	return th->t[x].msg == NONE;
}

static bool
is_refwd(const struct thr *th, uint32_t x)
{
	return th->t[x].msg != NONE && th->r[th->t[x].msg].is_refwd;
}

/*
 * Step 5: roots with the same base subject are gathered.  roots[0..nr)
 * in step 4's order; new dummies are appended (at most one per root,
 * room for nr more).  Returns the new count.  The groups are computed
 * once, before any merging: RFC 5256 appends merged children after the
 * table dummy's own, so its first child, and with it its subject, never
 * changes; here children are prepended, so the subject is remembered.
 */
static size_t
step5_subjects(struct thr *th, uint32_t *roots, size_t nr, uint32_t *group, uint32_t *table,
    uint32_t *tmp)
{
	struct tnode *t = th->t;
	size_t n_all = nr;
	subject_groups(th, roots, nr, group, tmp);
	for (size_t j = 0; j < nr; j++)
		table[j] = NONE;
	/* 5.C: a dummy is preferred, then a message that is not a reply */
	for (size_t j = 0; j < nr; j++) {
		uint32_t x = roots[j], g = group[j], old;
		if (g == NONE)
			continue;
		old = table[g];
		if (old == NONE || (!is_dummy(th, old) && (is_dummy(th, x)
		    || (is_refwd(th, old) && !is_refwd(th, x)))))
			table[g] = x;
	}
	/* 5.D */
	for (size_t j = 0; j < nr; j++) {
		uint32_t x = roots[j], g = group[j], old;
		if (g == NONE || t[x].parent != NONE || t[x].is_gone || (old = table[g]) == x)
			continue;
		if (is_dummy(th, old) && is_dummy(th, x)) {
			move_children(t, x, old);
			t[x].is_gone = true;
		} else if (is_dummy(th, old)) {
			tree_attach(t, old, x);
		} else if (is_refwd(th, x) && !is_refwd(th, old)) {
			tree_attach(t, old, x);
		} else {
			/* a dummy x always finds a dummy in the table (5.C) */
			assert(!is_dummy(th, x));
			uint32_t d = node_new(th, NONE);
			tree_attach(t, d, old);
			tree_attach(t, d, x);
			roots[n_all++] = d;
			table[g] = d;
		}
	}
	return n_all;
}

#define ST_WRAP		(1ull << 32)	/* write "(" ... ")" around the node */
#define ST_CLOSE	(1ull << 33)	/* write ")" */

/*
 * RFC 5256 4: thread-list = "(" (thread-members / thread-nested) ")",
 * a single child continues the members ("3 6"), several are nested
 * ("(4 23)(44 7 96)").  A dummy writes no number.  Iterative: stack
 * entries are a node and what to do with it; each node is pushed once,
 * with at most one ")" besides, so 2 * n_t entries suffice.
 */
static void
put_threads(const struct thr *th, const uint32_t *roots, size_t nr, bool by_uid,
    struct buf *out)
{
	const struct tnode *t = th->t;
	uint64_t *st = xreallocarray(NULL, 2 * (size_t)th->n_t + 2, sizeof *st);
	for (size_t i = 0; i < nr && !out->err; i++) {
		size_t sp = 0;
		st[sp++] = roots[i] | ST_WRAP;
		while (sp > 0 && !out->err) {
			uint64_t e = st[--sp];
			if (e & ST_CLOSE) {
				buf_putc(out, ')');
				continue;
			}
			uint32_t x = (uint32_t)e, c = t[x].child;
			if (e & ST_WRAP) {
				buf_putc(out, '(');
				st[sp++] = ST_CLOSE;
			}
			if (t[x].msg != NONE)
				put_num(out, &th->r[t[x].msg], by_uid);
			if (c == NONE)
				continue;
			if (t[x].msg != NONE)
				buf_putc(out, ' ');
			if (t[c].next == NONE) {
				st[sp++] = c;
				continue;
			}
			while (t[c].next != NONE)
				c = t[c].next;
			for (; c != NONE; c = t[c].prev)
				st[sp++] = c | ST_WRAP;	/* popped first to last */
		}
	}
	free(st);
}

static int
references(const struct sort_rec *r, size_t n, bool by_uid, struct buf *out)
{
	struct ids ids;
	if (ids_collect(r, n, &ids) < 0)
		return -1;
	struct thr th = { r, NULL, 0, 0 };
	th.cap = (uint32_t)(2 * n + ids.n_ids);
	th.t = xreallocarray(NULL, th.cap, sizeof *th.t);
	step1_link(&th, &ids, n);
	ids_free(&ids);

	/* scratch arrays, each big enough for every container */
	uint32_t *a1 = xreallocarray(NULL, th.cap, sizeof *a1);
	uint32_t *a2 = xreallocarray(NULL, th.cap, sizeof *a2);
	uint32_t *roots = xreallocarray(NULL, th.cap, sizeof *roots);
	uint32_t *table = xreallocarray(NULL, th.cap, sizeof *table);
	step3_prune(&th, a1, a2);

	/* step 4: the roots by sent date, a dummy by its first child */
	size_t nr = 0;
	for (uint32_t x = 0; x < th.n_t; x++) {
		if (th.t[x].parent != NONE || th.t[x].is_gone)
			continue;
		if (is_dummy(&th, x))
			sort_children(&th, x, a1);
		roots[nr++] = x;
	}
	msort(roots, nr, cmp_node_sent, &th);

	size_t n_all = step5_subjects(&th, roots, nr, a1, table, a2);

	/* step 6: every set of siblings by sent date; children first, as
	 * only top-level dummies sort by a child */
	for (uint32_t x = 0; x < th.n_t; x++)
		if (!th.t[x].is_gone)
			sort_children(&th, x, a1);
	size_t k = 0;
	for (size_t j = 0; j < n_all; j++)
		if (th.t[roots[j]].parent == NONE && !th.t[roots[j]].is_gone)
			roots[k++] = roots[j];
	msort(roots, k, cmp_node_sent, &th);
	put_threads(&th, roots, k, by_uid, out);

	free(table);
	free(roots);
	free(a2);
	free(a1);
	free(th.t);
	return 0;
}

int
thread_build(const struct sort_rec *r, size_t n, enum thread_alg alg, bool by_uid,
    struct buf *out)
{
	if (n >= NONE / 4)
		return -1;
	if (n == 0)
		return out->err ? -1 : 0;
	if (alg == THREAD_ORDEREDSUBJECT)
		ordered_subject(r, n, by_uid, out);
	else if (references(r, n, by_uid, out) < 0)
		return -1;
	return out->err ? -1 : 0;
}

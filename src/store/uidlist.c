/*
 * store/uidlist.c - dovecot-uidlist version 3 parse and format (see
 * uidlist.h for the format).
 *
 * Input:   the whole file, from disk; possibly torn, hand-edited or hostile.
 * Output:  struct uidlist; every string in it validated and owned by it.
 * Trusts:  nothing.  Runs in: imap/deliver roles.  No file I/O.
 * Limits:  UIDLIST_LINE_MAX per line, UIDLIST_MAX_ENTRIES entries,
 *          UIDLIST_NAME_MAX per name; reports bounded by UIDLIST_REPORT_MAX.
 *          Work is linear in the input: names are found through a hash
 *          index, never by scanning.
 */
#include "store/uidlist.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/buf.h"
#include "core/util.h"

/* The highest uid a list may hold: next must stay representable, and
 * Dovecot refuses uid 2^32-1 as well. */
#define UID_LAST	(UINT32_MAX - 1)

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* --- the name index --------------------------------------------------- */

/* FNV-1a with a per-list random seed and a splitmix finaliser, as in
 * core/htab.c: names can come from a hand-edited file, so a fixed hash
 * would let one bucket be flooded. */
static uint64_t
name_hash(uint64_t seed, const char *p, size_t len)
{
	uint64_t x = 0xcbf29ce484222325ull ^ seed;
	for (size_t i = 0; i < len; i++)
		x = (x ^ (unsigned char)p[i]) * 0x100000001b3ull;
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static bool
name_eq(const char *entry_name, const char *p, size_t len)
{
	return strncmp(entry_name, p, len) == 0 && entry_name[len] == '\0';
}

/* The index slot holding name p[0..len), or the empty slot where it would
 * go.  The table is never full (load kept at or below one half). */
static size_t
ix_find(const struct uidlist *u, const char *p, size_t len)
{
	size_t mask = u->ix_cap - 1;
	size_t i = (size_t)name_hash(u->seed, p, len) & mask;
	while (u->ix[i] != 0 && !name_eq(u->v[u->ix[i] - 1].name, p, len))
		i = (i + 1) & mask;
	return i;
}

/* Rebuild the index for entries v[0..n) with room for at least want. */
static void
ix_rebuild(struct uidlist *u, size_t want)
{
	size_t cap = 16;
	while (cap < 2 * want)
		cap *= 2;
	free(u->ix);
	u->ix = xcalloc(cap, sizeof *u->ix);
	u->ix_cap = cap;
	for (size_t k = 0; k < u->n; k++) {
		const char *name = u->v[k].name;
		u->ix[ix_find(u, name, strlen(name))] = (uint32_t)(k + 1);
	}
}

static const struct uidlist_entry *
find_name_len(const struct uidlist *u, const char *p, size_t len)
{
	if (u->n == 0)
		return NULL;
	size_t i = ix_find(u, p, len);
	return u->ix[i] != 0 ? &u->v[u->ix[i] - 1] : NULL;
}

/* --- validation --------------------------------------------------------- */

/* A base name we accept: what Maildir delivery can have created in one
 * directory, and nothing that could climb out of it. */
static bool
name_ok(const char *p, size_t len)
{
	if (len == 0 || len > UIDLIST_NAME_MAX)
		return false;
	if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] == '/' || p[i] == ':' || is_ctl((unsigned char)p[i]))
			return false;
	return true;
}

/* One ext field: an upper-case key letter (Dovecot's rule) and a value of
 * visible bytes. */
static bool
ext_field_ok(const char *p, size_t len)
{
	if (len == 0 || p[0] < 'A' || p[0] > 'Z')
		return false;
	for (size_t i = 1; i < len; i++)
		if (p[i] == ' ' || is_ctl((unsigned char)p[i]))
			return false;
	return true;
}

/* ext as uidlist_append takes it: canonical fields, single spaces. */
static bool
ext_ok(const char *ext)
{
	size_t len = strlen(ext);
	if (len > UIDLIST_EXT_MAX)
		return false;
	size_t i = 0;
	while (i < len) {
		size_t f = i;
		while (i < len && ext[i] != ' ')
			i++;
		if (!ext_field_ok(ext + f, i - f))
			return false;
		if (i < len && ++i == len)
			return false;	/* trailing space */
	}
	return true;
}

/* --- entries ------------------------------------------------------------ */

/* Append an entry (already validated, not yet listed); false when the list
 * is full. */
static bool
push_entry(struct uidlist *u, uint32_t uid, const char *name, size_t nlen,
    const char *ext, size_t elen)
{
	if (u->n >= UIDLIST_MAX_ENTRIES)
		return false;
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 64;
		u->v = xreallocarray(u->v, cap, sizeof *u->v);
		u->cap = cap;
	}
	if (2 * (u->n + 1) > u->ix_cap)
		ix_rebuild(u, 2 * (u->n + 1));
	/* name and ext in one allocation: half the mallocs for big lists */
	char *blk = xmalloc(nlen + elen + 2);
	memcpy(blk, name, nlen);
	blk[nlen] = '\0';
	memcpy(blk + nlen + 1, ext, elen);
	blk[nlen + 1 + elen] = '\0';
	struct uidlist_entry *e = &u->v[u->n];
	e->uid = uid;
	e->name = blk;
	e->ext = blk + nlen + 1;
	u->ix[ix_find(u, name, nlen)] = (uint32_t)(u->n + 1);
	u->n++;
	return true;
}

static void
empty(struct uidlist *u)
{
	memset(u, 0, sizeof *u);
	u->hdr_extra = xstrdup("");
	if (getrandom(&u->seed, sizeof u->seed, GRND_NONBLOCK) != sizeof u->seed)
		u->seed = now_ms() * 0x9e3779b97f4a7c15ull ^ (uintptr_t)u;
}

static bool
guid_ok(const char *p, size_t len)
{
	if (len != 32)
		return false;
	for (size_t i = 0; i < len; i++) {
		int c = ascii_lower((unsigned char)p[i]);
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static void
set_guid(struct uidlist *u, const char *p)
{
	for (size_t i = 0; i < 32; i++)
		u->guid[i] = (char)ascii_lower((unsigned char)p[i]);
	u->guid[32] = '\0';
}

int
uidlist_init(struct uidlist *u, uint32_t validity, const char *guid)
{
	empty(u);
	if (validity == 0 || (guid != NULL && !guid_ok(guid, strlen(guid))))
		return -1;
	u->validity = validity;
	u->next = 1;
	if (guid != NULL)
		set_guid(u, guid);
	return 0;
}

void
uidlist_free(struct uidlist *u)
{
	for (size_t k = 0; k < u->n; k++)
		free(u->v[k].name);
	free(u->v);
	free(u->ix);
	free(u->hdr_extra);
	memset(u, 0, sizeof *u);
}

size_t
uidlist_base_len(const char *filename)
{
	return strcspn(filename, ":");
}

/* --- parsing ------------------------------------------------------------ */

struct pctx {
	struct uidlist *u;
	uidlist_report_fn *report;
	void *arg;
	unsigned line;
	unsigned n_reported;
	uint32_t max_uid;	/* highest uid on any line, kept or skipped */
	uint32_t prev_uid;	/* last kept uid */
};

static void
damaged(struct pctx *c, const char *why)
{
	c->u->n_damaged++;
	if (c->report == NULL || c->n_reported > UIDLIST_REPORT_MAX)
		return;
	c->n_reported++;
	if (c->n_reported > UIDLIST_REPORT_MAX)
		why = "more damaged lines, not reported";
	c->report(c->arg, c->line, why);
}

/* A decimal number in [0, max] from p[0..len); false on anything else.
 * No sign, no spaces, at most 10 digits so nothing overflows. */
static bool
dec_u32(const char *p, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* One header field (key byte and value); NULL or why it is garbled.
 * V, N and G at most once each: two values would leave us guessing which
 * UIDVALIDITY the clients hold. */
static const char *
header_field(struct uidlist *u, const char *f, size_t len, unsigned *seen, struct buf *extra)
{
	const char *val = f + 1;
	size_t vlen = len - 1;
	unsigned bit = f[0] == 'V' ? 1 : f[0] == 'N' ? 2 : f[0] == 'G' ? 4 : 0;
	if (bit != 0 && (*seen & bit))
		return "header field given twice";
	*seen |= bit;
	switch (f[0]) {
	case 'V':
		if (!dec_u32(val, vlen, UINT32_MAX, &u->validity) || u->validity == 0)
			return "bad UIDVALIDITY in header";
		return NULL;
	case 'N':
		if (!dec_u32(val, vlen, UINT32_MAX, &u->next) || u->next == 0)
			return "bad next uid in header";
		return NULL;
	case 'G':
		if (!guid_ok(val, vlen))
			return "bad mailbox GUID in header";
		set_guid(u, val);
		return NULL;
	default:
		if (extra->len > 0)
			buf_putc(extra, ' ');
		buf_append(extra, f, len);
		return NULL;
	}
}

/* The header line p[0..len); NULL or why the file must be rebuilt. */
static const char *
parse_header(struct uidlist *u, const char *p, size_t len)
{
	if (len > UIDLIST_LINE_MAX)
		return "header line too long";
	for (size_t i = 0; i < len; i++)
		if (is_ctl((unsigned char)p[i]))
			return "control byte in header";
	/* Versions 1 and 2 (Courier's layout, old Dovecot) are not read: a
	 * rebuild with a new UIDVALIDITY is the safe answer. */
	if (len < 2 || p[0] != '3' || p[1] != ' ')
		return "not a version 3 header";
	struct buf extra;
	buf_init(&extra, UIDLIST_LINE_MAX + 1);
	unsigned seen = 0;
	const char *why = NULL;
	size_t i = 2;
	while (why == NULL && i < len) {
		if (p[i] == ' ') {
			i++;
			continue;
		}
		size_t f = i;
		while (i < len && p[i] != ' ')
			i++;
		why = header_field(u, p + f, i - f, &seen, &extra);
	}
	if (why == NULL && (seen & 3) != 3)
		why = "header lacks V or N";
	if (why == NULL && (extra.err || !buf_cstr(&extra)))
		why = "header too long";
	if (why == NULL) {
		free(u->hdr_extra);
		u->hdr_extra = xstrndup(extra.len ? (const char *)extra.data : "", extra.len);
	}
	buf_free(&extra);
	return why;
}

/* The ext fields of an entry line, p[0..len) up to the ':' that starts the
 * name; written canonically into ext (UIDLIST_LINE_MAX + 1 bytes).  A bad
 * field is dropped with a report and the entry kept, as Dovecot does: the
 * uid-to-name mapping is what matters.  Returns the name's offset (after
 * ':'), or 0 when no ':' field starts the name. */
static size_t
parse_ext(struct pctx *c, const char *p, size_t len, char *ext, size_t *elen)
{
	size_t i = 0;
	*elen = 0;
	while (i < len) {
		if (p[i] == ' ') {
			i++;
			continue;
		}
		if (p[i] == ':')
			return i + 1;
		size_t f = i;
		while (i < len && p[i] != ' ')
			i++;
		if (!ext_field_ok(p + f, i - f) || *elen + 1 + (i - f) > UIDLIST_EXT_MAX) {
			damaged(c, "bad extension field dropped");
			continue;
		}
		if (*elen > 0)
			ext[(*elen)++] = ' ';
		memcpy(ext + *elen, p + f, i - f);
		*elen += i - f;
	}
	return 0;
}

/* One entry line p[0..len); NULL when kept, else why it was skipped. */
static const char *
parse_entry(struct pctx *c, const char *p, size_t len)
{
	char ext[UIDLIST_LINE_MAX + 1];
	size_t elen, d = 0;
	uint32_t uid;

	if (len == 0)
		return "empty line";
	if (len > UIDLIST_LINE_MAX)
		return "line too long";
	while (d < len && p[d] >= '0' && p[d] <= '9')
		d++;
	if (d == len || p[d] != ' ')
		return "uid not a number followed by a space";
	if (!dec_u32(p, d, UID_LAST, &uid) || uid == 0)
		return "uid out of range";
	/* Raise next over this uid before any other check: a client may have
	 * seen it, and RFC 3501 2.3.1.1 forbids giving it to another file. */
	if (uid > c->max_uid)
		c->max_uid = uid;
	if (uid <= c->prev_uid)
		return "uid not above the previous one";
	size_t off = parse_ext(c, p + d, len - d, ext, &elen);
	if (off == 0)
		return "no ':' before the file name";
	const char *name = p + d + off;
	size_t nlen = len - d - off;
	/* Dovecot may write the whole file name; only the base identifies it. */
	for (size_t k = 0; k < nlen; k++)
		if (name[k] == ':')
			nlen = k;
	if (!name_ok(name, nlen))
		return "bad file name";
	if (find_name_len(c->u, name, nlen) != NULL)
		return "file name listed twice";
	if (!push_entry(c->u, uid, name, nlen, ext, elen))
		return "too many entries";
	c->prev_uid = uid;
	return NULL;
}

int
uidlist_parse(const char *text, size_t len, struct uidlist *out,
    uidlist_report_fn *report, void *arg)
{
	struct pctx c = { .u = out, .report = report, .arg = arg, .line = 1 };
	empty(out);
	const char *nl = len ? memchr(text, '\n', len) : NULL;
	size_t hlen = nl ? (size_t)(nl - text) : len;
	const char *why = len == 0 ? "empty file" : parse_header(out, text, hlen);
	if (why != NULL) {
		damaged(&c, why);
		uidlist_free(out);
		empty(out);
		return UIDLIST_REBUILD;
	}
	size_t pos = nl ? hlen + 1 : len;
	while (pos < len) {
		if (c.line < UINT_MAX)
			c.line++;
		nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;
		why = parse_entry(&c, text + pos, llen);
		if (why != NULL)
			damaged(&c, why);
		pos += llen + (nl != NULL);
	}
	if (out->next <= c.max_uid)
		out->next = c.max_uid + 1;
	return UIDLIST_OK;
}

/* --- writing ------------------------------------------------------------ */

int
uidlist_format(const struct uidlist *u, struct buf *out)
{
	uint32_t prev = 0;
	if (u->validity == 0)
		return -1;
	buf_printf(out, "3 V%u N%u", u->validity, u->next);
	if (u->guid[0] != '\0')
		buf_printf(out, " G%s", u->guid);
	if (u->hdr_extra != NULL && u->hdr_extra[0] != '\0')
		buf_printf(out, " %s", u->hdr_extra);
	buf_putc(out, '\n');
	for (size_t k = 0; k < u->n; k++) {
		const struct uidlist_entry *e = &u->v[k];
		/* never write a file we would refuse to read back */
		if (e->uid <= prev || e->uid >= u->next)
			return -1;
		prev = e->uid;
		if (e->ext[0] != '\0')
			buf_printf(out, "%u %s :%s\n", e->uid, e->ext, e->name);
		else
			buf_printf(out, "%u :%s\n", e->uid, e->name);
	}
	return out->err ? -1 : 0;
}

/* --- changes ------------------------------------------------------------ */

int
uidlist_append(struct uidlist *u, const char *name, const char *ext, uint32_t *uid_out)
{
	size_t nlen = uidlist_base_len(name);
	if (ext == NULL)
		ext = "";
	if (!name_ok(name, nlen) || !ext_ok(ext))
		return -1;
	const struct uidlist_entry *e = find_name_len(u, name, nlen);
	if (e != NULL) {
		*uid_out = e->uid;
		return 1;
	}
	/* next == 2^32-1 would leave no next after this uid */
	if (u->next == 0 || u->next > UID_LAST)
		return -1;
	if (!push_entry(u, u->next, name, nlen, ext, strlen(ext)))
		return -1;
	*uid_out = u->next++;
	return 0;
}

const struct uidlist_entry *
uidlist_find_name(const struct uidlist *u, const char *name)
{
	return find_name_len(u, name, uidlist_base_len(name));
}

const struct uidlist_entry *
uidlist_find_uid(const struct uidlist *u, uint32_t uid)
{
	size_t lo = 0, hi = u->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u->v[mid].uid == uid)
			return &u->v[mid];
		if (u->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void
uidlist_remove_missing(struct uidlist *u, bool (*present)(void *arg, const char *name),
    void *arg)
{
	size_t w = 0;
	for (size_t k = 0; k < u->n; k++) {
		if (present(arg, u->v[k].name))
			u->v[w++] = u->v[k];
		else
			free(u->v[k].name);
	}
	if (w == u->n)
		return;
	u->n = w;
	ix_rebuild(u, w);
}

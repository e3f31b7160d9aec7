/*
 * imap/mcache.c - FETCH's structure cache (rules in mcache.h): a hash
 * table from (label hash, UIDVALIDITY, UID) to a record, and a list of
 * the records from most to least recently used.
 */
#include "imap/mcache.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/htab.h"
#include "core/util.h"
#include "imap/mime.h"

struct key {
	uint64_t h;		/* of the label; the record holds the label itself */
	uint32_t validity, uid;
};

struct rec {
	struct mcache_rec pub;
	struct key k;
	char *label;
	char *text;		/* envelope, body, bodystructure, one allocation */
	size_t bytes;
	struct rec *prev, *next;	/* LRU: head most recent */
};

static struct {
	struct htab tab;	/* key -> struct rec * */
	bool ready;
	struct rec *head, *tail;
	size_t bytes, n;
} C;

static uint64_t
label_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static void
unlink_rec(struct rec *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		C.head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		C.tail = r->prev;
	r->prev = r->next = NULL;
}

static void
push_front(struct rec *r)
{
	r->next = C.head;
	r->prev = NULL;
	if (C.head)
		C.head->prev = r;
	C.head = r;
	if (C.tail == NULL)
		C.tail = r;
}

static void
drop(struct rec *r)
{
	unlink_rec(r);
	htab_del(&C.tab, &r->k);
	C.bytes -= r->bytes;
	C.n--;
	free(r->label);
	free(r->text);
	free(r);
}

static struct key
key_of(const char *label, uint32_t validity, uint32_t uid)
{
	struct key k;
	memset(&k, 0, sizeof k);
	k.h = label_hash(label);
	k.validity = validity;
	k.uid = uid;
	return k;
}

const struct mcache_rec *
mcache_get(const char *label, uint32_t validity, uint32_t uid)
{
	if (!C.ready)
		return NULL;
	struct key k = key_of(label, validity, uid);
	struct rec **v = htab_get(&C.tab, &k);
	if (v == NULL || strcmp((*v)->label, label) != 0)
		return NULL;
	unlink_rec(*v);
	push_front(*v);
	return &(*v)->pub;
}

const struct mcache_rec *
mcache_put(const char *label, uint32_t validity, uint32_t uid, const struct mime_msg *mm,
    uint64_t crlf_size)
{
	if (!C.ready) {
		htab_init(&C.tab, sizeof(struct key), sizeof(struct rec *));
		C.ready = true;
	}
	struct buf b;
	buf_init(&b, MCACHE_BYTES / 4);
	mime_envelope(mm, &b);
	buf_putc(&b, '\0');
	size_t body_at = b.len;
	mime_bodystructure(mm, false, &b);
	buf_putc(&b, '\0');
	size_t bs_at = b.len;
	mime_bodystructure(mm, true, &b);
	buf_putc(&b, '\0');
	struct key k = key_of(label, validity, uid);
	struct rec **v = htab_get(&C.tab, &k);
	if (v != NULL)
		drop(*v);	/* the same message again, or a label hash collision */
	struct rec *r = xcalloc(1, sizeof *r);
	r->k = k;
	r->label = xstrdup(label);
	r->bytes = sizeof *r + strlen(label) + 1 + b.len + 64;
	if (b.err) {
		/* a structure over a quarter of the cache: answered from the
		 * message, not kept */
		buf_free(&b);
		free(r->label);
		free(r);
		return NULL;
	}
	r->text = xmalloc(b.len ? b.len : 1);
	if (b.len)
		memcpy(r->text, b.data, b.len);
	buf_free(&b);
	r->pub.envelope = r->text;
	r->pub.body = r->text + body_at;
	r->pub.bodystructure = r->text + bs_at;
	r->pub.size = crlf_size;
	while (C.bytes + r->bytes > MCACHE_BYTES && C.tail != NULL)
		drop(C.tail);
	*(struct rec **)htab_put(&C.tab, &k) = r;
	push_front(r);
	C.bytes += r->bytes;
	C.n++;
	return &r->pub;
}

void
mcache_clear(void)
{
	while (C.tail != NULL)
		drop(C.tail);
	if (C.ready)
		htab_free(&C.tab);
	C.ready = false;
}

void
mcache_stats(size_t *entries, size_t *bytes)
{
	*entries = C.n;
	*bytes = C.bytes;
}

/*
 * dns/lookup.c - answers as the mail checks see them (dns/lookup.h).
 */
#include "dns/lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/htab.h"
#include "core/util.h"

static bool
plain_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Append one label of raw bytes, escaped; false when it does not fit. */
static bool
put_label(char *dst, size_t *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)ascii_lower(p[i]);
		if (plain_byte(c)) {
			if (*o + 1 > LOOKUP_NAME_MAX)
				return false;
			dst[(*o)++] = (char)c;
		} else {
			if (*o + 4 > LOOKUP_NAME_MAX)
				return false;
			snprintf(dst + *o, 5, "\\%03u", c);
			*o += 4;
		}
	}
	return true;
}

bool
lookup_name_norm(char *dst, const char *name)
{
	size_t n = strlen(name), o = 0, wire = 1;
	dst[0] = '\0';
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0)
		return true;	/* the root */
	const uint8_t *p = (const uint8_t *)name, *end = p + n;
	while (p <= end) {
		const uint8_t *dot = memchr(p, '.', (size_t)(end - p));
		size_t ll = dot ? (size_t)(dot - p) : (size_t)(end - p);
		if (ll == 0 || ll > 63)
			return false;
		wire += ll + 1;
		if (wire > 255)
			return false;
		if (o > 0)
			dst[o++] = '.';
		if (!put_label(dst, &o, p, ll))
			return false;
		if (!dot)
			break;
		p = dot + 1;
	}
	dst[o] = '\0';
	return true;
}

bool
lookup_name_from_wire(char *dst, const uint8_t *p, size_t len)
{
	size_t i = 0, o = 0;
	dst[0] = '\0';
	while (i < len) {
		uint8_t ll = p[i++];
		if (ll == 0) {
			dst[o] = '\0';
			return i <= 255;
		}
		if (ll > 63 || i + ll > len)
			return false;
		if (o > 0) {
			if (o + 1 > LOOKUP_NAME_MAX)
				return false;
			dst[o++] = '.';
		}
		if (!put_label(dst, &o, p + i, ll))
			return false;
		i += ll;
	}
	return false;
}

size_t
lookup_name_to_wire(uint8_t *dst, const char *name)
{
	size_t o = 0;
	const char *p = name;
	if (*p == '\0') {
		dst[0] = 0;
		return 1;
	}
	for (;;) {
		size_t lpos = o++;
		uint8_t ll = 0;
		while (*p != '\0' && *p != '.') {
			int c = (uint8_t)*p;
			if (c == '\\') {
				if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
				    p[3] >= '0' && p[3] <= '9'))
					return 0;
				c = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
				if (c > 255)
					return 0;
				p += 4;
			} else {
				p++;
			}
			if (ll == 63 || o + 1 >= 255)
				return 0;
			dst[o++] = (uint8_t)c;
			ll++;
		}
		if (ll == 0)
			return 0;
		dst[lpos] = ll;
		if (*p == '\0')
			break;
		p++;
	}
	dst[o++] = 0;
	return o;
}

void
lookup_init(struct lookup *l, uint16_t type, const char *name)
{
	memset(l, 0, sizeof *l);
	l->type = type;
	str_copy(l->name, sizeof l->name, name);
}

void
lookup_add(struct lookup *l, uint16_t pref, const void *data, size_t len)
{
	if (l->n >= LOOKUP_RR_MAX || len > UINT16_MAX)
		return;
	struct lookup_rr *r = &l->rr[l->n++];
	r->pref = pref;
	r->len = (uint16_t)len;
	r->data = xmalloc(len + 1);
	if (len > 0)
		memcpy(r->data, data, len);
	r->data[len] = '\0';
}

/* A whole uncompressed name at p[0..len), nothing after it. */
static bool
rdata_name(const uint8_t *p, size_t len, char *out)
{
	size_t i = 0;
	while (i < len && p[i] != 0) {
		if (p[i] > 63)
			return false;
		i += (size_t)p[i] + 1;
	}
	if (i + 1 != len)
		return false;
	return lookup_name_from_wire(out, p, len);
}

int
lookup_add_wire(struct lookup *l, const uint8_t *rd, size_t len)
{
	char name[LOOKUP_NAME_MAX + 1];
	switch (l->type) {
	case LOOKUP_A:
		if (len != 4)
			return -1;
		break;
	case LOOKUP_AAAA:
		if (len != 16)
			return -1;
		break;
	case LOOKUP_MX:
		if (len < 3 || !rdata_name(rd + 2, len - 2, name))
			return -1;
		lookup_add(l, (uint16_t)(rd[0] << 8 | rd[1]), name, strlen(name));
		return 0;
	case LOOKUP_PTR:
	case LOOKUP_CNAME:
		if (!rdata_name(rd, len, name))
			return -1;
		lookup_add(l, 0, name, strlen(name));
		return 0;
	case LOOKUP_TXT: {
		/* character-strings concatenated; they must fill the rdata */
		uint8_t *cat = xmalloc(len + 1);
		size_t i = 0, o = 0;
		while (i < len) {
			size_t sl = rd[i++];
			if (i + sl > len) {
				free(cat);
				return -1;
			}
			memcpy(cat + o, rd + i, sl);
			o += sl;
			i += sl;
		}
		if (len == 0) {
			free(cat);
			return -1;
		}
		lookup_add(l, 0, cat, o);
		free(cat);
		return 0;
	}
	default:
		break;
	}
	lookup_add(l, 0, rd, len);
	return 0;
}

void
lookup_clear(struct lookup *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->rr[i].data);
	l->n = 0;
}

void
lookup_copy(struct lookup *dst, const struct lookup *src)
{
	*dst = *src;
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++)
		lookup_add(dst, src->rr[i].pref, src->rr[i].data, src->rr[i].len);
}

const char *
lookup_type_name(uint16_t type)
{
	switch (type) {
	case LOOKUP_A: return "A";
	case LOOKUP_CNAME: return "CNAME";
	case LOOKUP_PTR: return "PTR";
	case LOOKUP_MX: return "MX";
	case LOOKUP_TXT: return "TXT";
	case LOOKUP_AAAA: return "AAAA";
	case LOOKUP_TLSA: return "TLSA";
	default: break;
	}
	/* the header promises "TYPE99" for others (RFC 3597 form); one buffer
	 * per thread, valid until the next call */
	static _Thread_local char other[16];
	snprintf(other, sizeof other, "TYPE%u", (unsigned)type);
	return other;
}

const char *
lookup_status_name(enum lookup_status s)
{
	switch (s) {
	case LOOKUP_OK: return "ok";
	case LOOKUP_NXDOMAIN: return "nxdomain";
	case LOOKUP_TEMPFAIL: return "tempfail";
	}
	return "?";
}

/*
 * The set: a hash table from (type, name) to a heap copy.  The key is the
 * type and a 64-bit hash of the name; collisions chain through the copy's
 * next pointer and are told apart by the full name.
 */
struct entry {
	struct entry *next;
	struct lookup l;
};

struct lookup_set {
	struct htab h;		/* key: type (8 bytes) + name hash; value: struct entry * */
	size_t n;
};

uint64_t
lookup_hash(uint16_t type, const char *name)
{
	uint64_t h = 1469598103934665603ull ^ type;	/* FNV-1a */
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h ^ (h >> 29);
}

static void
set_key(uint8_t key[16], uint16_t type, const char *name)
{
	uint64_t t = type, h = lookup_hash(type, name);
	memcpy(key, &t, 8);
	memcpy(key + 8, &h, 8);
}

struct lookup_set *
lookup_set_new(void)
{
	struct lookup_set *s = xcalloc(1, sizeof *s);
	htab_init(&s->h, 16, sizeof(struct entry *));
	return s;
}

void
lookup_set_free(struct lookup_set **sp)
{
	struct lookup_set *s = *sp;
	if (s == NULL)
		return;
	size_t pos = 0;
	uint8_t *k;
	while ((k = htab_next(&s->h, &pos)) != NULL) {
		struct entry *e;
		memcpy(&e, k + 16, sizeof e);
		while (e) {
			struct entry *nx = e->next;
			lookup_clear(&e->l);
			free(e);
			e = nx;
		}
	}
	htab_free(&s->h);
	free(s);
	*sp = NULL;
}

void
lookup_set_put(struct lookup_set *s, const struct lookup *l)
{
	uint8_t key[16];
	set_key(key, l->type, l->name);
	struct entry **slot = htab_put(&s->h, key), *e;
	for (e = *slot; e; e = e->next)
		if (strcmp(e->l.name, l->name) == 0)
			break;
	if (e) {
		lookup_clear(&e->l);
	} else {
		e = xcalloc(1, sizeof *e);
		e->next = *slot;
		*slot = e;
		s->n++;
	}
	lookup_copy(&e->l, l);
}

const struct lookup *
lookup_set_find(const struct lookup_set *s, uint16_t type, const char *name)
{
	uint8_t key[16];
	set_key(key, type, name);
	struct entry **slot = htab_get(&s->h, key);
	if (slot == NULL)
		return NULL;
	for (struct entry *e = *slot; e; e = e->next)
		if (strcmp(e->l.name, name) == 0)
			return &e->l;
	return NULL;
}

size_t
lookup_set_count(const struct lookup_set *s)
{
	return s->n;
}

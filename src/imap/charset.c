/*
 * imap/charset.c - MIME charsets to UTF-8 (rules in charset.h).
 */
#include "imap/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "imap/hdrtext.h"

#define NAME_MAX_LEN	64

struct conv {
	char name[NAME_MAX_LEN + 1];	/* lowercase; "" unused */
	iconv_t cd;			/* (iconv_t)-1: iconv does not know it */
	unsigned long used;		/* for replacing the least recent */
};

static struct conv cache[CHARSET_CACHE];
static unsigned long tick;

static bool
is_passthrough(const char *n)
{
	return n[0] == '\0' || strcasecmp(n, "utf-8") == 0 || strcasecmp(n, "utf8") == 0 ||
	    strcasecmp(n, "us-ascii") == 0 || strcasecmp(n, "ascii") == 0;
}

static struct conv *
conv_get(const char *name)
{
	struct conv *c = NULL, *lru = &cache[0];
	for (size_t i = 0; i < CHARSET_CACHE; i++) {
		if (strcmp(cache[i].name, name) == 0)
			c = &cache[i];
		if (cache[i].used < lru->used)
			lru = &cache[i];
	}
	if (c == NULL) {
		c = lru;
		if (c->name[0] != '\0' && c->cd != (iconv_t)-1)
			iconv_close(c->cd);
		snprintf(c->name, sizeof c->name, "%s", name);
		c->cd = iconv_open("UTF-8", name);
	}
	c->used = ++tick;
	return c;
}

/* iconv over the whole input; an invalid or cut sequence becomes U+FFFD
 * and conversion resumes one byte later. */
static void
convert(iconv_t cd, const uint8_t *p, size_t len, struct buf *out)
{
	char *in = (char *)(uintptr_t)p;
	size_t left = len;
	iconv(cd, NULL, NULL, NULL, NULL);
	while (left > 0 && !out->err) {
		size_t room;
		uint8_t *w = buf_space(out, left * 2 + 16, &room);
		if (w == NULL || room < 4) {
			out->err = true;
			return;
		}
		char *o = (char *)w;
		size_t oleft = room;
		size_t r = iconv(cd, &in, &left, &o, &oleft);
		buf_commit(out, room - oleft);
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL: one byte is skipped */
		buf_append(out, "\xef\xbf\xbd", 3);
		in++;
		left--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
}

void
charset_to_utf8(const char *name, const uint8_t *p, size_t len, struct buf *out)
{
	char low[NAME_MAX_LEN + 1];
	size_t n = strlen(name);
	if (n > NAME_MAX_LEN)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		if (name[i] < 0x21 || name[i] > 0x7e)
			n = 0;
		low[i] = (char)ascii_lower((unsigned char)name[i]);
	}
	low[n] = '\0';
	if (is_passthrough(low)) {
		buf_append(out, p, len);
		return;
	}
	if (hdrtext_charset_decode(out, low, p, len) != 1)
		return;
	struct conv *c = conv_get(low);
	if (c->cd == (iconv_t)-1)
		buf_append(out, p, len);
	else
		convert(c->cd, p, len, out);
}

void
charset_cleanup(void)
{
	for (size_t i = 0; i < CHARSET_CACHE; i++) {
		if (cache[i].name[0] != '\0' && cache[i].cd != (iconv_t)-1)
			iconv_close(cache[i].cd);
		memset(&cache[i], 0, sizeof cache[i]);
	}
}

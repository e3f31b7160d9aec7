/*
 * core/buf.c - growable byte buffer with a maximum and a sticky error.
 * Trusts: nothing.  Runs in: every process.
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max ? max : SIZE_MAX;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	size_t max = b->max;
	memset(b, 0, sizeof *b);
	b->max = max;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = false;
}

static bool
reserve(struct buf *b, size_t extra)
{
	if (b->err)
		return false;
	if (extra > b->max || b->len > b->max - extra) {
		b->err = true;
		return false;
	}
	size_t need = b->len + extra;
	if (need + 1 <= b->cap)	/* +1 keeps room for buf_cstr */
		return true;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < need + 1) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need + 1;
			break;
		}
		ncap *= 2;
	}
	b->data = xreallocarray(b->data, ncap, 1);
	b->cap = ncap;
	return true;
}

bool
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return !b->err;
	if (!reserve(b, n))
		return false;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return true;
}

bool
buf_putc(struct buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

bool
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

bool
buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = true;
		return false;
	}
	if ((size_t)n < sizeof tmp)
		return buf_append(b, tmp, (size_t)n);
	if (!reserve(b, (size_t)n))
		return false;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return true;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

bool
buf_cstr(struct buf *b)
{
	if (b->err)
		return false;
	if (b->len + 1 > b->cap) {
		b->data = xreallocarray(b->data, b->len + 1, 1);
		b->cap = b->len + 1;
	}
	b->data[b->len] = '\0';
	return true;
}

void
buf_shrink(struct buf *b)
{
	if (b->len == 0 && b->data != NULL) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
}

uint8_t *
buf_space(struct buf *b, size_t want, size_t *got)
{
	*got = 0;
	if (b->err || b->len >= b->max)
		return NULL;
	if (want > b->max - b->len)
		want = b->max - b->len;
	if (!reserve(b, want))
		return NULL;
	*got = b->cap - 1 - b->len;
	if (*got > b->max - b->len)
		*got = b->max - b->len;
	return b->data + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

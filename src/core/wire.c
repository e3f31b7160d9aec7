/*
 * core/wire.c - IPC payload fields (see wire.h).
 *
 * Input:   payload bytes from a sibling process; trusted no more than the
 *          network (a peer may be compromised).
 * Output:  fields, or a sticky error.  Trusts: nothing.
 */
#include "core/wire.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void
wire_rd_init(struct wire_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->end = r->p + len;
	r->err = NULL;
}

static const uint8_t *
take(struct wire_rd *r, size_t n)
{
	if (r->err == NULL && (size_t)(r->end - r->p) < n)
		r->err = "truncated";
	if (r->err != NULL)
		return NULL;
	const uint8_t *at = r->p;
	r->p += n;
	return at;
}

uint8_t
wire_u8(struct wire_rd *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] : 0;
}

uint32_t
wire_u32(struct wire_rd *r)
{
	const uint8_t *p = take(r, 4);
	if (p == NULL)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t
wire_u64(struct wire_rd *r)
{
	uint64_t hi = wire_u32(r);
	uint64_t lo = wire_u32(r);
	return r->err ? 0 : hi << 32 | lo;
}

/* The bytes of a string field, checked for length and NUL. */
static const uint8_t *
str_field(struct wire_rd *r, size_t max, uint32_t *n)
{
	*n = wire_u32(r);
	if (r->err == NULL && *n > max)
		r->err = "string too long";
	const uint8_t *p = take(r, r->err ? 0 : *n);
	if (p != NULL && memchr(p, '\0', *n) != NULL) {
		r->err = "NUL in string";
		p = NULL;
	}
	return p;
}

void
wire_str(struct wire_rd *r, char *dst, size_t dstsz)
{
	uint32_t n;
	const uint8_t *p = str_field(r, dstsz - 1, &n);
	if (p == NULL) {
		dst[0] = '\0';
		return;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
}

char *
wire_strdup(struct wire_rd *r, size_t max)
{
	uint32_t n;
	const uint8_t *p = str_field(r, max, &n);
	return p ? xstrndup((const char *)p, n) : NULL;
}

const uint8_t *
wire_bytes(struct wire_rd *r, size_t max, uint32_t *n)
{
	*n = wire_u32(r);
	if (r->err == NULL && *n > max)
		r->err = "bytes too long";
	return take(r, r->err ? 0 : *n);
}

void
wire_sockaddr(struct wire_rd *r, struct sockaddr_storage *ss, socklen_t *len)
{
	uint8_t fam = wire_u8(r);
	const uint8_t *a = take(r, 16);
	uint32_t port = wire_u32(r);
	memset(ss, 0, sizeof *ss);
	*len = 0;
	/* one encoding per address: an IPv4 address leaves 12 zero bytes */
	static const uint8_t zero[12];
	if (r->err == NULL && (port > 65535 || (fam != 4 && fam != 6) ||
	    (fam == 4 && memcmp(a + 4, zero, sizeof zero) != 0)))
		r->err = "bad address";
	if (r->err != NULL)
		return;
	if (fam == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
	}
}

int
wire_end(struct wire_rd *r)
{
	if (r->err == NULL && r->p != r->end)
		r->err = "trailing bytes";
	return r->err ? -1 : 0;
}

void
wire_put_u8(struct buf *b, uint8_t v)
{
	buf_putc(b, v);
}

void
wire_put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	buf_append(b, x, sizeof x);
}

void
wire_put_u64(struct buf *b, uint64_t v)
{
	wire_put_u32(b, (uint32_t)(v >> 32));
	wire_put_u32(b, (uint32_t)v);
}

void
wire_put_str(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n > UINT32_MAX) {
		b->err = true;
		return;
	}
	wire_put_u32(b, (uint32_t)n);
	buf_append(b, s, n);
}

void
wire_put_sockaddr(struct buf *b, const struct sockaddr_storage *ss, socklen_t len)
{
	uint8_t a[16] = { 0 };
	uint8_t fam = 0;
	uint16_t port = 0;
	if (ss->ss_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		fam = 4;
		memcpy(a, &s4->sin_addr, 4);
		port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		fam = 6;
		memcpy(a, &s6->sin6_addr, 16);
		port = ntohs(s6->sin6_port);
	}
	wire_put_u8(b, fam);
	buf_append(b, a, sizeof a);
	wire_put_u32(b, port);
}

void
wire_put_bytes(struct buf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		b->err = true;
		return;
	}
	wire_put_u32(b, (uint32_t)n);
	buf_append(b, p, n);
}

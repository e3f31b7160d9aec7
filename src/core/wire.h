/*
 * core/wire.h - the field encoding of our IPC payloads.
 *
 * Big-endian integers, strings as u32 length + bytes (no NUL inside),
 * socket addresses as family + 16 address bytes + port.  Never a raw
 * struct: a payload means the same in every build and can be checked
 * field by field.
 *
 * Reading uses a cursor with a sticky error: read every field, then call
 * wire_end() once; it fails when any read ran past the end, a string was
 * too long or held a NUL, or bytes are left over.  Nothing here exits:
 * what to do with a peer that sent garbage is the caller's decision.
 * Runs in: every daemon process, and the fuzzers.
 */
#ifndef TALON_WIRE_H
#define TALON_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"

struct wire_rd {
	const uint8_t *p, *end;
	const char *err;	/* first problem, NULL while all is well */
};

void wire_rd_init(struct wire_rd *r, const void *p, size_t len);
uint8_t wire_u8(struct wire_rd *r);
uint32_t wire_u32(struct wire_rd *r);
uint64_t wire_u64(struct wire_rd *r);
/* A string of at most dstsz - 1 bytes and no NUL, copied NUL-terminated
 * into dst ("" after an error). */
void wire_str(struct wire_rd *r, char *dst, size_t dstsz);
/* The same into a new allocation; at most max bytes.  NULL after an error. */
char *wire_strdup(struct wire_rd *r, size_t max);
/* u32 length + bytes, any value (NUL included), at most max: a pointer
 * into the payload (valid while it is), NULL after an error. */
const uint8_t *wire_bytes(struct wire_rd *r, size_t max, uint32_t *n);
void wire_sockaddr(struct wire_rd *r, struct sockaddr_storage *ss, socklen_t *len);
/* 0 when every read succeeded and nothing is left; else -1 (r->err says why). */
int wire_end(struct wire_rd *r);

void wire_put_u8(struct buf *b, uint8_t v);
void wire_put_u32(struct buf *b, uint32_t v);
void wire_put_u64(struct buf *b, uint64_t v);
void wire_put_str(struct buf *b, const char *s);
void wire_put_bytes(struct buf *b, const void *p, size_t n);
/* AF_INET and AF_INET6 only; anything else is written as family 0, which
 * wire_sockaddr refuses. */
void wire_put_sockaddr(struct buf *b, const struct sockaddr_storage *ss, socklen_t len);

#endif

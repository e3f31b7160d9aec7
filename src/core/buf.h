/*
 * core/buf.h - growable byte buffer with a hard maximum and a sticky error.
 *
 * Appends past the maximum set the error flag and do nothing else; the
 * caller checks buf.err once when finishing (SQLite StrAccum style).
 * Memory is allocated lazily so an idle buffer costs nothing.
 */
#ifndef TALON_BUF_H
#define TALON_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;	/* bytes used */
	size_t cap;	/* bytes allocated */
	size_t max;	/* hard limit on len; 0 means SIZE_MAX */
	bool err;	/* an append did not fit */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);	/* len = 0, err = false, keeps memory */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_putc(struct buf *b, uint8_t c);
bool buf_puts(struct buf *b, const char *s);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Remove n bytes from the front. */
void buf_consume(struct buf *b, size_t n);
/* NUL-terminate without counting it in len; false if it does not fit. */
bool buf_cstr(struct buf *b);
/* Make room for at least want more bytes (limited by max) and return a
 * pointer to the free space; *got is how much may be written there (0 when
 * the buffer is full).  Follow with buf_commit(b, n) for the bytes used. */
uint8_t *buf_space(struct buf *b, size_t want, size_t *got);
void buf_commit(struct buf *b, size_t n);
/* Release memory if the buffer is empty (keeps idle sessions small). */
void buf_shrink(struct buf *b);

#endif

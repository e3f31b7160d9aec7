/*
 * core/io.h - buffered non-blocking socket I/O with optional TLS.
 *
 * Owns the socket's input and output buffers (allocated lazily, so an idle
 * connection costs a few hundred bytes), reads CRLF-terminated lines with
 * a hard limit, and upgrades to TLS.  io_start_tls() discards everything
 * still buffered from before the handshake: bytes a client pipelined after
 * STARTTLS were sent in clear text and must not be executed as if they had
 * come through TLS (RFC 3207 4.2, CVE-2011-0411).
 * Protocol code never calls read()/write() itself.  Runs in: smtp worker.
 */
#ifndef TALON_IO_H
#define TALON_IO_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "core/buf.h"

enum io_state { IO_PLAIN, IO_HANDSHAKE, IO_TLS };

struct io_zip;

struct io {
	int fd;
	SSL *ssl;
	struct io_zip *zip;	/* COMPRESS=DEFLATE (RFC 4978), plain sockets only */
	enum io_state st;
	struct buf in;		/* bytes read, not yet consumed from rpos */
	size_t rpos;
	struct buf out;		/* bytes to write */
	bool eof;		/* peer closed (or TLS close_notify) */
	bool error;		/* I/O or TLS error: close the session */
	bool drained;		/* a plain read came up short or EAGAIN: nothing more
				 * to read until epoll says so (io_readable) */
	bool ssl_read_wants_write;
	bool ssl_write_wants_read;
	char errstr[128];
};

void io_init(struct io *io, int fd, size_t in_max, size_t out_max);
/* Frees buffers and SSL, closes the fd. */
void io_close(struct io *io);
/* Read what is available.  Returns bytes added (0 when nothing now, or
 * when the input buffer is full); sets eof/error.  Without TLS a read that
 * came up short means the socket is empty: until io_readable() the next
 * call returns 0 at once instead of making a read that fails with EAGAIN. */
ssize_t io_read(struct io *io);
/* epoll reported the socket readable: io_read reads again. */
static inline void io_readable(struct io *io) { io->drained = false; }
/* Write buffered output.  Returns 1 when everything is written, 0 when
 * some remains (wait for LOOP_WRITE), -1 on error. */
int io_flush(struct io *io);
/* LOOP_READ/LOOP_WRITE interest for the current state. */
unsigned io_events(const struct io *io, bool want_input);
/* Unconsumed input. */
static inline size_t io_avail(const struct io *io) { return io->in.len - io->rpos; }
static inline const uint8_t *io_data(const struct io *io) { return io->in.data + io->rpos; }
void io_consume(struct io *io, size_t n);
/* Does TLS have decrypted bytes we have not read yet? */
bool io_pending(const struct io *io);

/*
 * Find a line ending in CRLF (only CRLF: a bare LF or CR is part of the
 * line).  Returns 1 with *line and *len (without CRLF, *consumed with it),
 * 0 when no complete line is buffered yet and fewer than max bytes are
 * waiting, -1 when max bytes are buffered without a CRLF (too long).
 */
int io_getline(struct io *io, size_t max, const uint8_t **line, size_t *len, size_t *consumed);

/* Queue reply text. */
void io_write(struct io *io, const void *p, size_t n);
/* One reply line: the text (cut to IO_LINE_MAX bytes), then CRLF. */
#define IO_LINE_MAX	2045
void io_vline(struct io *io, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Begin a server-side TLS handshake; drops buffered input. */
int io_start_tls(struct io *io, SSL_CTX *ctx);
/* Continue it: 1 done, 0 in progress, -1 failed (errstr says why). */
int io_handshake(struct io *io);
/* Release idle memory (empty buffers). */
void io_trim(struct io *io);

/* From now on everything read is inflated and everything written is
 * deflated (raw DEFLATE, RFC 1951), each flush ending in a sync flush so
 * the peer can read all of it at once (RFC 4978 4: a client waiting for a
 * reply must never wait for more output).  Call it once the reply that
 * turned compression on is written (io_unsent() is 0); input buffered and
 * not consumed yet came after that command, so it is inflated too.
 * Plain sockets only.  -1 when zlib cannot start. */
int io_start_deflate(struct io *io);
/* Output not yet on the wire: buffered text and compressed bytes. */
size_t io_unsent(const struct io *io);

#endif

/*
 * core/io.c - buffered non-blocking I/O, CRLF line framing, TLS upgrade.
 * Trusts: nothing read from the socket.  Runs in: smtp worker.
 */
#include "core/io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <zlib.h>

#include "core/loop.h"
#include "core/util.h"

#define IO_READ_CHUNK 16384

struct io_zip {
	z_stream in, out;
	struct buf rin;		/* compressed bytes read, not inflated yet */
	struct buf rout;	/* compressed bytes not written yet */
};

static void zip_free(struct io *io);
static ssize_t zip_read(struct io *io);
static int zip_flush(struct io *io);

void
io_init(struct io *io, int fd, size_t in_max, size_t out_max)
{
	memset(io, 0, sizeof *io);
	io->fd = fd;
	io->st = IO_PLAIN;
	buf_init(&io->in, in_max);
	buf_init(&io->out, out_max);
}

void
io_close(struct io *io)
{
	if (io->ssl != NULL) {
		/* best effort close_notify; never wait for the peer's */
		if (io->st == IO_TLS && !io->error)
			SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
		io->ssl = NULL;
	}
	zip_free(io);
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	buf_free(&io->in);
	buf_free(&io->out);
}

static void
set_error(struct io *io, const char *what)
{
	io->error = true;
	if (io->errstr[0] == '\0')
		snprintf(io->errstr, sizeof io->errstr, "%s", what);
}

static void
set_ssl_error(struct io *io, const char *what)
{
	unsigned long e = ERR_get_error();
	char b[120];
	if (e) {
		ERR_error_string_n(e, b, sizeof b);
		snprintf(io->errstr, sizeof io->errstr, "%s: %s", what, b);
	} else if (errno) {
		snprintf(io->errstr, sizeof io->errstr, "%s: %s", what, strerror(errno));
	} else {
		snprintf(io->errstr, sizeof io->errstr, "%s", what);
	}
	ERR_clear_error();
	io->error = true;
}

void
io_consume(struct io *io, size_t n)
{
	io->rpos += n;
	if (io->rpos >= io->in.len) {
		io->in.len = 0;
		io->rpos = 0;
	}
}

static void
compact(struct io *io)
{
	if (io->rpos == 0)
		return;
	memmove(io->in.data, io->in.data + io->rpos, io->in.len - io->rpos);
	io->in.len -= io->rpos;
	io->rpos = 0;
}

ssize_t
io_read(struct io *io)
{
	ssize_t total = 0;

	if (io->zip != NULL)
		return zip_read(io);
	if (io->error || io->eof || io->st == IO_HANDSHAKE || (io->drained && io->ssl == NULL))
		return 0;
	io->ssl_read_wants_write = false;
	for (;;) {
		compact(io);
		size_t room;
		uint8_t *p = buf_space(&io->in, IO_READ_CHUNK, &room);
		if (p == NULL || room == 0)
			break;	/* full: the protocol layer must consume first */
		ssize_t n;
		if (io->ssl != NULL) {
			ERR_clear_error();
			int r = SSL_read(io->ssl, p, room > INT32_MAX ? INT32_MAX : (int)room);
			if (r <= 0) {
				int e = SSL_get_error(io->ssl, r);
				if (e == SSL_ERROR_WANT_READ)
					break;
				if (e == SSL_ERROR_WANT_WRITE) {
					io->ssl_read_wants_write = true;
					break;
				}
				if (e == SSL_ERROR_ZERO_RETURN) {
					io->eof = true;
					break;
				}
				if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
					io->eof = true;	/* connection dropped */
					break;
				}
				set_ssl_error(io, "TLS read");
				break;
			}
			n = r;
		} else {
			n = read(io->fd, p, room);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					io->drained = true;
					break;
				}
				if (errno == ECONNRESET) {
					io->eof = true;
					break;
				}
				set_error(io, strerror(errno));
				break;
			}
			if (n == 0) {
				io->eof = true;
				break;
			}
		}
		buf_commit(&io->in, (size_t)n);
		total += n;
		if ((size_t)n < room && io->ssl == NULL) {
			io->drained = true;	/* TCP hands over all it has */
			break;
		}
	}
	return total;
}

bool
io_pending(const struct io *io)
{
	return io->ssl != NULL && io->st == IO_TLS && SSL_pending(io->ssl) > 0;
}

int
io_flush(struct io *io)
{
	if (io->zip != NULL)
		return zip_flush(io);
	io->ssl_write_wants_read = false;
	size_t off = 0;
	int rc = 1;
	while (off < io->out.len) {
		ssize_t n;
		size_t left = io->out.len - off;
		if (io->ssl != NULL) {
			if (io->st != IO_TLS) {
				rc = 0;
				break;
			}
			ERR_clear_error();
			int r = SSL_write(io->ssl, io->out.data + off, left > INT32_MAX ? INT32_MAX : (int)left);
			if (r <= 0) {
				int e = SSL_get_error(io->ssl, r);
				if (e == SSL_ERROR_WANT_WRITE) {
					rc = 0;
					break;
				}
				if (e == SSL_ERROR_WANT_READ) {
					io->ssl_write_wants_read = true;
					rc = 0;
					break;
				}
				set_ssl_error(io, "TLS write");
				rc = -1;
				break;
			}
			n = r;
		} else {
			n = send(io->fd, io->out.data + off, left, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					rc = 0;
					break;
				}
				set_error(io, strerror(errno));
				rc = -1;
				break;
			}
		}
		off += (size_t)n;
	}
	buf_consume(&io->out, off);
	if (io->out.len == 0)
		buf_shrink(&io->out);
	return rc;
}

unsigned
io_events(const struct io *io, bool want_input)
{
	unsigned ev = 0;
	if (io->st == IO_HANDSHAKE) {
		int w = SSL_want(io->ssl);
		return w == SSL_WRITING ? LOOP_WRITE : LOOP_READ;
	}
	if (want_input || io->ssl_write_wants_read)
		ev |= LOOP_READ;
	if (io_unsent(io) > 0 || io->ssl_read_wants_write)
		ev |= LOOP_WRITE;
	return ev;
}

int
io_getline(struct io *io, size_t max, const uint8_t **line, size_t *len, size_t *consumed)
{
	size_t avail = io_avail(io);
	/* an idle session's buffer is not allocated: no pointer arithmetic
	 * on NULL (undefined even with a zero offset; found by fuzz_io) */
	if (avail == 0)
		return max == 0 ? -1 : 0;
	const uint8_t *p = io_data(io);
	size_t lim = avail < max ? avail : max;
	/* only CRLF ends a line: search for LF preceded by CR */
	const uint8_t *s = p, *end = p + lim;
	while (s < end) {
		const uint8_t *lf = memchr(s, '\n', (size_t)(end - s));
		if (lf == NULL)
			break;
		if (lf > p && lf[-1] == '\r') {
			*line = p;
			*len = (size_t)(lf - 1 - p);
			*consumed = (size_t)(lf + 1 - p);
			return 1;
		}
		s = lf + 1;
	}
	return avail >= max ? -1 : 0;
}

void
io_write(struct io *io, const void *p, size_t n)
{
	if (!buf_append(&io->out, p, n))
		set_error(io, "output buffer full");
}

void
io_vline(struct io *io, const char *fmt, va_list ap)
{
	char line[IO_LINE_MAX + 2];
	int n = vsnprintf(line, IO_LINE_MAX + 1, fmt, ap);
	if (n < 0)
		return;
	if (n > IO_LINE_MAX)
		n = IO_LINE_MAX;
	line[n++] = '\r';
	line[n++] = '\n';
	io_write(io, line, (size_t)n);
}

int
io_start_tls(struct io *io, SSL_CTX *ctx)
{
	/* RFC 3207 4.2: discard any clear-text input received before the
	 * handshake; it must never be read as protected commands. */
	io->in.len = 0;
	io->rpos = 0;
	buf_shrink(&io->in);
	io->ssl = SSL_new(ctx);
	if (io->ssl == NULL || SSL_set_fd(io->ssl, io->fd) != 1) {
		set_ssl_error(io, "TLS setup");
		return -1;
	}
	SSL_set_accept_state(io->ssl);
	io->st = IO_HANDSHAKE;
	return 0;
}

int
io_handshake(struct io *io)
{
	ERR_clear_error();
	errno = 0;
	int r = SSL_do_handshake(io->ssl);
	if (r == 1) {
		io->st = IO_TLS;
		return 1;
	}
	int e = SSL_get_error(io->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)
		snprintf(io->errstr, sizeof io->errstr, "TLS handshake: connection closed");
	set_ssl_error(io, "TLS handshake");
	return -1;
}

void
io_trim(struct io *io)
{
	if (io_avail(io) == 0) {
		io->in.len = io->rpos = 0;
		buf_shrink(&io->in);
	}
	buf_shrink(&io->out);
}

/* --- COMPRESS=DEFLATE ------------------------------------------------------- */

size_t
io_unsent(const struct io *io)
{
	return io->out.len + (io->zip != NULL ? io->zip->rout.len : 0);
}

int
io_start_deflate(struct io *io)
{
	if (io->ssl != NULL || io->zip != NULL)
		return -1;
	struct io_zip *z = xcalloc(1, sizeof *z);
	/* raw DEFLATE (negative window bits), as RFC 4978 2 says */
	if (inflateInit2(&z->in, -15) != Z_OK) {
		free(z);
		return -1;
	}
	if (deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		inflateEnd(&z->in);
		free(z);
		return -1;
	}
	buf_init(&z->rin, 4 * IO_READ_CHUNK);
	/* what the client sent after the command that turned compression
	 * on is compressed already */
	if (io_avail(io) > 0) {
		buf_append(&z->rin, io_data(io), io_avail(io));
		io_consume(io, io_avail(io));
	}
	/* a flush compresses everything buffered: at worst a little larger
	 * than its input */
	buf_init(&z->rout, io->out.max + io->out.max / 8 + 65536);
	io->zip = z;
	return 0;
}

static void
zip_free(struct io *io)
{
	struct io_zip *z = io->zip;
	if (z == NULL)
		return;
	inflateEnd(&z->in);
	deflateEnd(&z->out);
	buf_free(&z->rin);
	buf_free(&z->rout);
	free(z);
	io->zip = NULL;
}

/* Inflate what rin holds into the input buffer, as far as it has room
 * (the input buffer's limit also bounds what a small compressed burst
 * may expand to).  Returns the bytes added. */
static ssize_t
zip_inflate(struct io *io)
{
	struct io_zip *z = io->zip;
	ssize_t total = 0;
	while (z->rin.len > 0 && !io->error) {
		compact(io);
		size_t room;
		uint8_t *p = buf_space(&io->in, IO_READ_CHUNK, &room);
		if (p == NULL || room == 0)
			break;
		z->in.next_in = z->rin.data;
		z->in.avail_in = (uInt)(z->rin.len > UINT32_MAX ? UINT32_MAX : z->rin.len);
		z->in.next_out = p;
		z->in.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
		int r = inflate(&z->in, Z_SYNC_FLUSH);
		size_t used = z->rin.len - z->in.avail_in;
		size_t made = room - z->in.avail_out;
		buf_consume(&z->rin, used);
		buf_commit(&io->in, made);
		total += (ssize_t)made;
		if (r == Z_STREAM_END) {
			io->eof = true;	/* the client ended its stream */
			break;
		}
		if (r != Z_OK && r != Z_BUF_ERROR) {
			set_error(io, "bad compressed data");
			break;
		}
		if (used == 0 && made == 0)
			break;
	}
	return total;
}

static ssize_t
zip_read(struct io *io)
{
	struct io_zip *z = io->zip;
	ssize_t total = zip_inflate(io);
	while (!io->error && !io->eof && !io->drained) {
		size_t room;
		uint8_t *p = buf_space(&z->rin, IO_READ_CHUNK, &room);
		if (p == NULL || room == 0)
			break;
		ssize_t n = read(io->fd, p, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				io->drained = true;
			else if (errno == ECONNRESET)
				io->eof = true;
			else
				set_error(io, strerror(errno));
			break;
		}
		if (n == 0) {
			io->eof = true;
			break;
		}
		buf_commit(&z->rin, (size_t)n);
		if ((size_t)n < room)
			io->drained = true;
		ssize_t made = zip_inflate(io);
		total += made;
		if (made == 0 && z->rin.len > 0)
			break;	/* the input buffer is full: consume first */
	}
	return total;
}

static int
zip_flush(struct io *io)
{
	struct io_zip *z = io->zip;
	if (io->out.len > 0) {
		z->out.next_in = io->out.data;
		z->out.avail_in = (uInt)io->out.len;
		do {
			size_t room;
			uint8_t *p = buf_space(&z->rout, io->out.len / 2 + 4096, &room);
			if (p == NULL || room == 0) {
				set_error(io, "compressed output too large");
				return -1;
			}
			z->out.next_out = p;
			z->out.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
			if (deflate(&z->out, Z_SYNC_FLUSH) == Z_STREAM_ERROR) {
				set_error(io, "deflate failed");
				return -1;
			}
			buf_commit(&z->rout, room - z->out.avail_out);
		} while (z->out.avail_out == 0);
		buf_consume(&io->out, io->out.len);
	}
	size_t off = 0;
	int rc = 1;
	while (off < z->rout.len) {
		ssize_t n = send(io->fd, z->rout.data + off, z->rout.len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				rc = 0;
				break;
			}
			set_error(io, strerror(errno));
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	buf_consume(&z->rout, off);
	if (z->rout.len == 0)
		buf_shrink(&z->rout);
	return rc;
}

/*
 * fuzz/fuzz_io.c - libFuzzer harness for core/io.c's line reader
 * (io_read + io_getline + io_consume), fed through a real socket.
 *
 * Input:   an 8-byte header, then the byte stream a client sends.
 *            [0..1]  line limit: 1 + (big-endian u16 % 4096)
 *            [2]     input buffer size: max(limit, 2) + 16 * b, or 65536
 *                    when b is 255 (the buffer must hold at least two
 *                    bytes, as the server's skip mode keeps one)
 *            [3..7]  sizes of the chunks the stream is written in, used in
 *                    turn (0: the whole rest)
 *          Before anything is written the line loop runs once on the fresh
 *          io, as smtp_session_process does (step_cmd before io_read).
 *          Each chunk is written into a non-blocking socketpair, then
 *          io_read and the line loop run, as in the smtp worker: lines are
 *          taken with io_getline(limit) and consumed; after -1 (too long)
 *          bytes are skipped up to and including the next CRLF exactly as
 *          smtp/session.c's step_skip does (io_getline(avail + 1), else
 *          drop all but the last byte, which may be a CR).
 * Checks:  io_read returns the bytes it added, never reads past what was
 *          written, stops short of what was written only when the buffer
 *          is full, and leaves exactly the unconsumed stream bytes in the
 *          buffer.  Each io_getline result is the one its contract gives
 *          for the buffered bytes: 1 exactly when a CRLF ends within the
 *          first limit bytes, with *line at the front of the buffer, *len
 *          the bytes before the first CRLF and *consumed = *len + 2 <=
 *          limit; -1 only when at least limit bytes are buffered and none
 *          of the first limit bytes end a CRLF; 0 when fewer than limit
 *          bytes are buffered and there is no CRLF at all.  The returned
 *          lines + CRLFs + skipped bytes are exactly the consumed prefix of
 *          the stream; at EOF the rest is an unterminated tail shorter than
 *          the limit (or at most the one byte skip mode keeps).  The
 *          writer never stalls.  ASan checks buffer bounds and leaks.
 * Seeds:   fuzz/corpus/io/, dictionary fuzz/io.dict.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 8

/* io_data() for the harness's own checks: not called on an empty buffer,
 * which may be unallocated (NULL + 0 is undefined) */
static const uint8_t *
data_of(const struct io *io)
{
	return io_avail(io) > 0 ? io_data(io) : NULL;
}

struct run {
	struct io io;
	const uint8_t *in;	/* the stream */
	size_t n;		/* its length */
	size_t limit;
	size_t in_max;
	size_t written;		/* stream bytes written into the socket */
	size_t read;		/* stream bytes io_read took in */
	size_t cpos;		/* stream bytes consumed (io_data is in + cpos) */
	bool skip;		/* dropping a too-long line, as step_skip */
	bool trim;		/* call io_trim when idle */
	uint8_t *recon;		/* lines + CRLFs + skipped bytes */
	size_t rlen;
};

/* What io_getline(max) must return for the buffered bytes b[0..avail). */
static int
expect_getline(const uint8_t *b, size_t avail, size_t max, size_t *len)
{
	for (size_t i = 0; i + 1 < avail; i++) {
		if (b[i] == '\r' && b[i + 1] == '\n') {
			if (i + 2 <= max) {
				*len = i;
				return 1;
			}
			break;
		}
	}
	return avail >= max ? -1 : 0;
}

static void
check_buffer(struct run *r)
{
	size_t avail = io_avail(&r->io);
	if (r->read > r->written || r->cpos > r->read || avail != r->read - r->cpos ||
	    avail > r->in_max)
		abort();
	if (avail > 0 && memcmp(data_of(&r->io), r->in + r->cpos, avail) != 0)
		abort();
}

static void
take(struct run *r, size_t n, bool crlf)
{
	/* the bytes handed out are the stream's next bytes */
	if ((n == 0 && !crlf) || n > io_avail(&r->io) || memcmp(data_of(&r->io), r->in + r->cpos, n) != 0)
		abort();
	memcpy(r->recon + r->rlen, data_of(&r->io), n);
	r->rlen += n;
	if (crlf) {
		memcpy(r->recon + r->rlen, "\r\n", 2);
		r->rlen += 2;
	}
	io_consume(&r->io, n + (crlf ? 2 : 0));
	r->cpos += n + (crlf ? 2 : 0);
	check_buffer(r);
}

static int
getline_checked(struct run *r, size_t max, size_t *len)
{
	const uint8_t *line = NULL;
	size_t l = SIZE_MAX, used = SIZE_MAX, want_len = 0;
	size_t avail = io_avail(&r->io);
	int want = expect_getline(data_of(&r->io), avail, max, &want_len);
	int got = io_getline(&r->io, max, &line, &l, &used);
	if (got != want)
		abort();
	if (got == 1) {
		if (line != data_of(&r->io) || l != want_len || used != l + 2 || used > max ||
		    used > avail || line[l] != '\r' || line[l + 1] != '\n')
			abort();
		*len = l;
	}
	if (io_avail(&r->io) != avail)
		abort();	/* io_getline only looks */
	return got;
}

/* The worker's loop over buffered input.  Returns bytes consumed. */
static size_t
drain(struct run *r)
{
	size_t before = r->cpos, len;
	for (;;) {
		if (!r->skip) {
			int g = getline_checked(r, r->limit, &len);
			if (g == 0)
				break;
			if (g < 0) {
				if (io_avail(&r->io) < r->limit)
					abort();
				r->skip = true;
				continue;
			}
			take(r, len, true);
		} else {
			if (getline_checked(r, io_avail(&r->io) + 1, &len) == 1) {
				/* the rest of the long line, with its CRLF */
				take(r, len + 2, false);
				r->skip = false;
				continue;
			}
			size_t avail = io_avail(&r->io);
			if (avail > 1)
				take(r, avail - 1, false);
			break;
		}
	}
	if (r->trim && io_avail(&r->io) == 0) {
		io_trim(&r->io);
		check_buffer(r);
	}
	return r->cpos - before;
}

/* io_read, then the line loop.  Returns whether anything moved. */
static bool
pump(struct run *r)
{
	/* pump runs after a write or the close: epoll would report the
	 * socket readable */
	io_readable(&r->io);
	ssize_t got = io_read(&r->io);
	if (got < 0 || r->io.error)
		abort();
	r->read += (size_t)got;
	check_buffer(r);
	/* "Read what is available": short only when the buffer is full */
	if (r->read < r->written && io_avail(&r->io) != r->in_max)
		abort();
	size_t used = drain(r);
	return got > 0 || used > 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HDR)
		return 0;
	struct run r;
	memset(&r, 0, sizeof r);
	r.limit = 1 + (((size_t)data[0] << 8 | data[1]) % 4096);
	r.in_max = data[2] == 255 ? 65536 : (r.limit < 2 ? 2 : r.limit) + 16 * (size_t)data[2];
	r.trim = (data[3] & 1) != 0;
	const uint8_t *chunk = data + 3;
	r.in = data + HDR;
	r.n = size - HDR;
	r.recon = malloc(r.n ? r.n : 1);

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
		perror("socketpair");
		abort();
	}
	io_init(&r.io, sv[0], r.in_max, 4096);
	/* the worker tries a line before its first read (smtp_session_process
	 * runs step_cmd, then io_read), on a buffer not yet allocated */
	size_t len;
	if (getline_checked(&r, r.limit, &len) != 0)
		abort();

	for (size_t k = 0; r.written < r.n; k++) {
		size_t c = chunk[k % 5];
		if (c == 0 || c > r.n - r.written)
			c = r.n - r.written;
		ssize_t w = write(sv[1], r.in + r.written, c);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			abort();
		if (w > 0)
			r.written += (size_t)w;
		if (!pump(&r) && w <= 0)
			abort();	/* the reader stalled: a client would hang */
	}
	close(sv[1]);
	while (!r.io.eof) {
		bool moved = pump(&r);
		if (!moved && !r.io.eof)
			abort();
	}
	/* after EOF nothing more is read */
	if (io_read(&r.io) != 0 || r.read != r.n)
		abort();

	/* lines + CRLFs + skipped bytes are the consumed prefix; the rest is
	 * an unterminated tail the line loop could not take */
	size_t tail = io_avail(&r.io);
	if (r.rlen != r.cpos || memcmp(r.recon, r.in, r.cpos) != 0 || r.cpos + tail != r.n)
		abort();
	if (r.skip ? tail > 1 : tail >= r.limit)
		abort();
	if (getline_checked(&r, r.skip ? tail + 1 : r.limit, &len) != 0)
		abort();

	io_close(&r.io);
	if (r.io.fd != -1 || r.io.in.data != NULL || r.io.out.data != NULL)
		abort();
	free(r.recon);
	return 0;
}

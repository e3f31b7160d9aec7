/*
 * Unit tests for core/: buffers, the timer heap, CRLF line framing,
 * log escaping.
 */
#include <stdlib.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/io.h"
#include "core/loop.h"
#include "core/util.h"
#include "t.h"

#include <sys/socket.h>
#include <zlib.h>

T(buf_limits_and_sticky_error)
{
	struct buf b;
	buf_init(&b, 10);
	CHECK(buf_append(&b, "0123456789", 10));
	CHECK(!buf_putc(&b, 'x'));
	CHECK(b.err);
	CHECK(!buf_append(&b, "", 0));	/* still in error */
	CHECK_INT(b.len, 10);
	buf_reset(&b);
	CHECK(buf_printf(&b, "%d-%s", 42, "ab"));
	CHECK(buf_cstr(&b));
	CHECK_STR((char *)b.data, "42-ab");
	buf_consume(&b, 3);
	CHECK(buf_cstr(&b));
	CHECK_STR((char *)b.data, "ab");
	buf_free(&b);
	/* a printf longer than the stack scratch space */
	buf_init(&b, 0);
	char big[2000];
	memset(big, 'q', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK(buf_printf(&b, "<%s>", big));
	CHECK_INT(b.len, sizeof big + 1);
	size_t got;
	uint8_t *p = buf_space(&b, 100, &got);
	CHECK(p != NULL && got >= 100);
	memset(p, 'z', 100);
	buf_commit(&b, 100);
	CHECK_INT(b.len, sizeof big + 101);
	buf_free(&b);
}

static int fired[64], n_fired;

static void
on_timer(struct loop *l, void *arg)
{
	fired[n_fired++] = (int)(intptr_t)arg;
	if (n_fired == 3)
		loop_stop(l);
}

T(timers_fire_in_order_and_cancel)
{
	struct loop *l = loop_new();
	struct timer t[4];
	for (int i = 0; i < 4; i++)
		timer_init(&t[i], on_timer, (void *)(intptr_t)i);
	timer_set(l, &t[0], 30);
	timer_set(l, &t[1], 10);
	timer_set(l, &t[2], 20);
	timer_set(l, &t[3], 5);
	timer_cancel(l, &t[3]);
	CHECK(!timer_armed(&t[3]));
	timer_set(l, &t[0], 1);	/* re-arming moves it */
	n_fired = 0;
	loop_run(l);
	CHECK_INT(n_fired, 3);
	CHECK_INT(fired[0], 0);
	CHECK_INT(fired[1], 1);
	CHECK_INT(fired[2], 2);
	loop_free(&l);
}

/* Two readable sockets in one epoll round: the first callback to run
 * closes the other and opens a new socket under the same number (as an
 * accept does).  The old fd's event of that round must not reach the new
 * one's callback: it would see another connection's readiness or hangup
 * (the imap front once reset a fresh client this way). */
static struct {
	int fd[2], peer[2];
	int n_first, n_new;
} reuse;

static void
on_new(struct loop *l, int fd, unsigned ev, void *arg)
{
	reuse.n_new++;
}

static void
on_first(struct loop *l, int fd, unsigned ev, void *arg)
{
	reuse.n_first++;
	int other = fd == reuse.fd[0] ? reuse.fd[1] : reuse.fd[0];
	loop_del(l, other);
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(dup2(sv[0], other) == other);	/* the number comes back */
	close(sv[0]);
	reuse.peer[other == reuse.fd[0] ? 0 : 1] = sv[1];	/* nothing written: not readable */
	CHECK(loop_add(l, other, LOOP_READ, on_new, NULL) == 0);
	loop_del(l, fd);
	loop_stop(l);
}

T(stale_event_does_not_reach_a_reused_fd)
{
	struct loop *l = loop_new();
	int old_peer[2];
	for (int i = 0; i < 2; i++) {
		int sv[2];
		CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
		reuse.fd[i] = sv[0];
		old_peer[i] = sv[1];
		CHECK(write(sv[1], "x", 1) == 1);
		CHECK(loop_add(l, sv[0], LOOP_READ, on_first, NULL) == 0);
	}
	reuse.n_first = reuse.n_new = 0;
	loop_run(l);
	CHECK_INT(reuse.n_first, 1);
	CHECK_INT(reuse.n_new, 0);
	for (int i = 0; i < 2; i++) {
		loop_del(l, reuse.fd[i]);
		close(reuse.fd[i]);
		close(old_peer[i]);
		if (reuse.peer[i] > 0)
			close(reuse.peer[i]);
	}
	loop_free(&l);
}

T(timer_heap_random)
{
	/* arm and cancel many timers in a pseudo-random order; the heap must
	 * stay consistent (every armed timer has a valid index) */
	struct loop *l = loop_new();
	enum { N = 500 };
	static struct timer t[N];
	unsigned x = 12345;
	for (int i = 0; i < N; i++)
		timer_init(&t[i], on_timer, NULL);
	for (int round = 0; round < 5000; round++) {
		x = x * 1103515245 + 12345;
		struct timer *p = &t[(x >> 8) % N];
		if ((x >> 4) & 1)
			timer_set(l, p, 100000 + (x >> 12) % 1000);
		else
			timer_cancel(l, p);
	}
	size_t armed = 0;
	for (int i = 0; i < N; i++)
		if (timer_armed(&t[i])) {
			armed++;
			CHECK(t[i].idx >= 1 && t[i].idx <= N);
		}
	for (int i = 0; i < N; i++)
		timer_cancel(l, &t[i]);
	CHECK(armed > 0);
	loop_free(&l);
}

static struct io
io_with(const char *s)
{
	struct io io;
	io_init(&io, -1, 4096, 4096);
	buf_append(&io.in, s, strlen(s));
	return io;
}

T(getline_only_crlf_ends_a_line)
{
	const uint8_t *line;
	size_t len, used;
	struct io io = io_with("a\r\nb\nc\r\nd\re\r\npart");
	CHECK_INT(io_getline(&io, 100, &line, &len, &used), 1);
	CHECK_INT(len, 1);
	CHECK_INT(used, 3);
	io_consume(&io, used);
	CHECK_INT(io_getline(&io, 100, &line, &len, &used), 1);
	CHECK(len == 3 && memcmp(line, "b\nc", 3) == 0);	/* bare LF is data */
	io_consume(&io, used);
	CHECK_INT(io_getline(&io, 100, &line, &len, &used), 1);
	CHECK(len == 3 && memcmp(line, "d\re", 3) == 0);	/* bare CR is data */
	io_consume(&io, used);
	CHECK_INT(io_getline(&io, 100, &line, &len, &used), 0);	/* need more */
	CHECK_INT(io_getline(&io, 4, &line, &len, &used), -1);	/* already too long */
	buf_free(&io.in);
	buf_free(&io.out);
}

T(getline_lf_first_byte_and_limit_edge)
{
	const uint8_t *line;
	size_t len, used;
	struct io io = io_with("\nX\r\n");
	CHECK_INT(io_getline(&io, 100, &line, &len, &used), 1);
	CHECK(len == 2 && line[0] == '\n');
	buf_free(&io.in);
	/* a line of exactly max bytes including CRLF is fine */
	io = io_with("abc\r\n");
	CHECK_INT(io_getline(&io, 5, &line, &len, &used), 1);
	buf_free(&io.in);
	io = io_with("abcd\r\n");
	CHECK_INT(io_getline(&io, 5, &line, &len, &used), -1);
	buf_free(&io.in);
	buf_free(&io.out);
}

T(log_escape_truncates_visibly)
{
	char d[16];
	log_escape(d, sizeof d, "a\"b\\c\r\n", 7);
	CHECK_STR(d, "a\\x22b\\x5c...");
	log_escape(d, sizeof d, "short", 5);
	CHECK_STR(d, "short");
	log_escape(d, sizeof d, "\0\xff", 2);
	CHECK_STR(d, "\\x00\\xff");
}

T(parse_u64_bounds)
{
	uint64_t v;
	CHECK(parse_u64("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX);
	CHECK(!parse_u64("18446744073709551616", UINT64_MAX, &v));
	CHECK(!parse_u64("", 10, &v));
	CHECK(!parse_u64("11", 10, &v));
	CHECK(!parse_u64("1a", 100, &v));
}

/* RFC 4978 DEFLATE on a socket: what the peer compresses with a sync
 * flush is read whole, what we write arrives whole after one flush, and a
 * small burst that inflates past the input buffer stops at its limit. */
T(deflate_both_ways_and_bounded)
{
	int sp[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) == 0);
	struct io io;
	io_init(&io, sp[0], 4096, 1 << 20);
	/* bytes of the peer that were already buffered count as compressed */
	z_stream c;
	memset(&c, 0, sizeof c);
	CHECK(deflateInit2(&c, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	static const char cmd[] = "a NOOP\r\n";
	uint8_t z[256];
	c.next_in = (uint8_t *)cmd;
	c.avail_in = sizeof cmd - 1;
	c.next_out = z;
	c.avail_out = sizeof z;
	CHECK(deflate(&c, Z_SYNC_FLUSH) == Z_OK);
	size_t zl = sizeof z - c.avail_out;
	CHECK(write(sp[1], z, zl) == (ssize_t)zl);
	CHECK(io_read(&io) > 0);		/* read raw, before deflate starts */
	CHECK(io_start_deflate(&io) == 0);
	CHECK(io_start_deflate(&io) == -1);
	io.drained = false;
	io_read(&io);
	CHECK_INT((int)io_avail(&io), (int)sizeof cmd - 1);
	CHECK(memcmp(io_data(&io), cmd, sizeof cmd - 1) == 0);
	io_consume(&io, io_avail(&io));
	/* our reply: one flush, the peer inflates all of it */
	static const char reply[] = "a OK NOOP completed\r\n";
	io_write(&io, reply, sizeof reply - 1);
	CHECK_INT(io_flush(&io), 1);
	CHECK_INT((int)io_unsent(&io), 0);
	uint8_t raw[256], plain[256];
	ssize_t n = read(sp[1], raw, sizeof raw);
	CHECK(n > 0);
	z_stream d;
	memset(&d, 0, sizeof d);
	CHECK(inflateInit2(&d, -15) == Z_OK);
	d.next_in = raw;
	d.avail_in = (uInt)n;
	d.next_out = plain;
	d.avail_out = sizeof plain;
	CHECK(inflate(&d, Z_SYNC_FLUSH) == Z_OK);
	CHECK_INT((int)(sizeof plain - d.avail_out), (int)sizeof reply - 1);
	CHECK(memcmp(plain, reply, sizeof reply - 1) == 0);
	/* 1 MiB of zeros compresses to about 1 KiB: only 4096 bytes come in */
	static uint8_t zeros[1 << 20], big[8192];
	c.next_in = zeros;
	c.avail_in = sizeof zeros;
	c.next_out = big;
	c.avail_out = sizeof big;
	CHECK(deflate(&c, Z_SYNC_FLUSH) == Z_OK);
	size_t bl = sizeof big - c.avail_out;
	CHECK(write(sp[1], big, bl) == (ssize_t)bl);
	io.drained = false;
	io_read(&io);
	CHECK_INT((int)io_avail(&io), 4096);
	CHECK(!io.error);
	io_consume(&io, 4096);
	io_read(&io);	/* more once consumed, from what is kept compressed */
	CHECK_INT((int)io_avail(&io), 4096);
	/* garbage is an error, not a crash */
	io_consume(&io, io_avail(&io));
	struct io bad;
	int sp2[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp2) == 0);
	io_init(&bad, sp2[0], 4096, 4096);
	CHECK(io_start_deflate(&bad) == 0);
	CHECK(write(sp2[1], "\xff\xff\xff\xff\xff\xff", 6) == 6);
	io_read(&bad);
	CHECK(bad.error);
	io_close(&bad);
	close(sp2[1]);
	deflateEnd(&c);
	inflateEnd(&d);
	io_close(&io);
	close(sp[1]);
}

int
main(void)
{
	RUN(buf_limits_and_sticky_error);
	RUN(timers_fire_in_order_and_cancel);
	RUN(stale_event_does_not_reach_a_reused_fd);
	RUN(timer_heap_random);
	RUN(getline_only_crlf_ends_a_line);
	RUN(getline_lf_first_byte_and_limit_edge);
	RUN(log_escape_truncates_visibly);
	RUN(parse_u64_bounds);
	RUN(deflate_both_ways_and_bounded);
	return t_done("core");
}

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

int
main(void)
{
	RUN(buf_limits_and_sticky_error);
	RUN(timers_fire_in_order_and_cancel);
	RUN(timer_heap_random);
	RUN(getline_only_crlf_ends_a_line);
	RUN(getline_lf_first_byte_and_limit_edge);
	RUN(log_escape_truncates_visibly);
	RUN(parse_u64_bounds);
	return t_done("core");
}

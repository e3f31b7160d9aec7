/*
 * tests/unit/test_header.c - msgauth/header.c: the streaming header
 * collector (folding, CRLF and LF, pieces of one byte, no body, lines
 * without a colon, limits, body_off, values).
 */
#include <stdlib.h>
#include <string.h>

#include "msgauth/header.h"
#include "t.h"

/* Feed msg in pieces of `piece` bytes (0: all at once); returns the header
 * byte count mhdrs_feed reported. */
static size_t
collect(struct mhdrs *h, const char *msg, size_t len, size_t piece, size_t max)
{
	size_t took = 0, off = 0;
	mhdrs_init(h, max);
	while (off < len) {
		size_t n = piece == 0 || len - off < piece ? len - off : piece;
		took += mhdrs_feed(h, (const uint8_t *)msg + off, n);
		off += n;
	}
	mhdrs_end(h);
	return took;
}

static void
check_value(const struct mhdrs *h, size_t i, const char *want)
{
	size_t n;
	char *v = mhdrs_value(h, i, &n);
	CHECK_STR(v, want);
	CHECK_INT(n, strlen(want));
	free(v);
}

static void
check_basic(const char *msg, size_t piece, const char *eol)
{
	struct mhdrs h;
	size_t len = strlen(msg), e = strlen(eol);
	size_t took = collect(&h, msg, len, piece, 0);
	const char *body = strstr(msg, "body");
	CHECK(h.done);
	CHECK(!h.malformed);
	CHECK(!h.overflow);
	CHECK_INT(h.n, 3);
	CHECK(mhdrs_is(&h, 0, "from"));
	CHECK(mhdrs_is(&h, 1, "SUBJECT"));
	CHECK(!mhdrs_is(&h, 1, "subj"));
	CHECK(mhdrs_is(&h, 2, "To"));
	check_value(&h, 0, " a@example.com");
	check_value(&h, 1, " hello\tworld  again");
	check_value(&h, 2, "b@example.org");
	CHECK_INT(h.f[0].off, 0);
	CHECK_INT(h.f[0].name_len, 4);
	CHECK_INT(h.f[0].len, strlen("From: a@example.com") + e);
	CHECK_INT(h.f[1].off, h.f[0].len);
	/* the last field ends before the empty line */
	CHECK_INT(h.f[2].len, strlen("To:b@example.org") + e);
	CHECK_INT(h.f[2].off + h.f[2].len + e, body - msg);
	CHECK_INT(h.body_off, body - msg);
	CHECK_INT(took, body - msg);
	CHECK_INT(h.raw.len, body - msg);
	mhdrs_free(&h);
}

T(test_crlf_and_lf)
{
	const char *crlf = "From: a@example.com\r\nSubject: hello\r\n\tworld\r\n  again\r\n"
	    "To:b@example.org\r\n\r\nbody\r\n";
	const char *lf = "From: a@example.com\nSubject: hello\n\tworld\n  again\n"
	    "To:b@example.org\n\nbody\n";
	size_t pieces[] = { 0, 1, 2, 3, 7, 64 };
	for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
		check_basic(crlf, pieces[i], "\r\n");
		check_basic(lf, pieces[i], "\n");
	}
}

T(test_feed_after_done)
{
	struct mhdrs h;
	mhdrs_init(&h, 0);
	const char *m = "A: 1\n\nbody";
	CHECK_INT(mhdrs_feed(&h, (const uint8_t *)m, strlen(m)), 6);
	CHECK(h.done);
	CHECK_INT(mhdrs_feed(&h, (const uint8_t *)"more", 4), 0);
	CHECK_INT(h.body_off, 6);
	mhdrs_free(&h);
}

T(test_no_body)
{
	struct mhdrs h;
	const char *m = "From: a\r\nSubject: no end";
	size_t took = collect(&h, m, strlen(m), 1, 0);
	CHECK(h.done);
	CHECK_INT(took, strlen(m));
	CHECK_INT(h.body_off, strlen(m));
	CHECK_INT(h.n, 2);
	check_value(&h, 1, " no end");
	mhdrs_free(&h);
	/* empty message, and a message that starts with the empty line */
	collect(&h, "", 0, 0, 0);
	CHECK(h.done);
	CHECK_INT(h.n, 0);
	CHECK_INT(h.body_off, 0);
	mhdrs_free(&h);
	collect(&h, "\r\nbody", 6, 1, 0);
	CHECK_INT(h.n, 0);
	CHECK_INT(h.body_off, 2);
	CHECK(!h.malformed);
	mhdrs_free(&h);
}

T(test_no_colon)
{
	struct mhdrs h;
	const char *m = "From foo@bar Mon Jan 1\nFrom: a\nnot a field\n continued?\n"
	    "Bad Name: x\n: empty name\nTo: b\n\nbody";
	collect(&h, m, strlen(m), 1, 0);
	CHECK(h.malformed);
	CHECK_INT(h.n, 2);
	CHECK(mhdrs_is(&h, 0, "From"));
	check_value(&h, 0, " a");
	CHECK(mhdrs_is(&h, 1, "To"));
	CHECK_INT(h.body_off, strstr(m, "body") - m);
	mhdrs_free(&h);
	/* a last line without colon and without line end */
	collect(&h, "A: 1\nfoo", 8, 0, 0);
	CHECK(h.malformed);
	CHECK_INT(h.n, 1);
	mhdrs_free(&h);
	/* a CR at the start of a line that is not the end */
	collect(&h, "A: 1\r\n\rX: 2\r\n\r\n", 15, 1, 0);
	CHECK(h.malformed);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.body_off, 15);
	mhdrs_free(&h);
	/* a continuation with no field before it */
	collect(&h, " x\nA: 1\n\n", 9, 0, 0);
	CHECK(h.malformed);
	CHECK_INT(h.n, 1);
	mhdrs_free(&h);
}

T(test_obsolete_name_space)
{
	struct mhdrs h;
	const char *m = "Subject \t: hi\r\n\r\n";
	collect(&h, m, strlen(m), 0, 0);
	CHECK(!h.malformed);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.f[0].name_len, 7);
	CHECK(mhdrs_is(&h, 0, "subject"));
	check_value(&h, 0, " hi");
	mhdrs_free(&h);
}

T(test_lone_cr_is_data)
{
	struct mhdrs h;
	const char *m = "A: x\ry\r\nB: z\r\n\r\n";
	collect(&h, m, strlen(m), 1, 0);
	CHECK_INT(h.n, 2);
	check_value(&h, 0, " x\ry");
	mhdrs_free(&h);
}

T(test_overflow_bytes)
{
	struct mhdrs h;
	/* 40 bytes kept: A and B fit, C (bytes 33..) is cut and lost */
	const char *m = "A: 0123456789\nB: 0123456789\nC: 0123456789\nD: 1\n\nbody";
	size_t took = collect(&h, m, strlen(m), 3, 40);
	CHECK(h.overflow);
	CHECK(h.done);
	CHECK_INT(h.n, 2);
	CHECK_INT(h.raw.len, 40);
	CHECK_INT(took, strstr(m, "body") - m);
	CHECK_INT(h.body_off, strstr(m, "body") - m);
	mhdrs_free(&h);
	/* the cut falls right after a complete field: it is kept */
	collect(&h, "A: 1\nB: 2\nC: 3\n\n", 16, 1, 10);
	CHECK(h.overflow);
	CHECK_INT(h.n, 2);
	check_value(&h, 1, " 2");
	mhdrs_free(&h);
	/* ... unless a continuation line follows it */
	collect(&h, "A: 1\nB: 2\n 3\n\n", 14, 1, 10);
	CHECK(h.overflow);
	CHECK_INT(h.n, 1);
	mhdrs_free(&h);
}

T(test_overflow_fields)
{
	struct buf m;
	buf_init(&m, 0);
	for (int i = 0; i < MHDRS_FIELDS_MAX + 5; i++)
		buf_printf(&m, "X-%d: %d\n", i, i);
	buf_puts(&m, "\nbody");
	struct mhdrs h;
	collect(&h, (const char *)m.data, m.len, 0, 1 << 20);
	CHECK(h.overflow);
	CHECK_INT(h.n, MHDRS_FIELDS_MAX);
	CHECK_INT(h.body_off, m.len - 4);
	mhdrs_free(&h);
	buf_free(&m);
}

T(test_find_and_values)
{
	struct mhdrs h;
	const char *m = "From: x\nDKIM-Signature: a\nfrom:y\nX: \n\n";
	collect(&h, m, strlen(m), 0, 0);
	CHECK_INT(mhdrs_find(&h, 0, "FROM"), 0);
	CHECK_INT(mhdrs_find(&h, 1, "from"), 2);
	CHECK_INT(mhdrs_find(&h, 3, "from"), h.n);
	check_value(&h, 2, "y");
	check_value(&h, 3, " ");
	check_value(&h, 9, "");	/* out of range: empty */
	mhdrs_free(&h);
}

int
main(void)
{
	RUN(test_crlf_and_lf);
	RUN(test_feed_after_done);
	RUN(test_no_body);
	RUN(test_no_colon);
	RUN(test_obsolete_name_space);
	RUN(test_lone_cr_is_data);
	RUN(test_overflow_bytes);
	RUN(test_overflow_fields);
	RUN(test_find_and_values);
	return t_done("header");
}

/*
 * Unit tests for queue/spool.c: record encoding round trip, torn and
 * hostile files, queue IDs.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "mail/spool.h"
#include "t.h"

static struct spool_env
sample_env(struct spool_rcpt *rs)
{
	struct spool_env e;
	memset(&e, 0, sizeof e);
	spool_new_qid(e.qid);
	strcpy(e.session, "0123456789abcdef");
	e.time = 1700000000;
	e.sender = (char *)"a@example.org";
	rs[0] = (struct spool_rcpt){ 0, (char *)"alice", (char *)"alice@test.example" };
	rs[1] = (struct spool_rcpt){ 1, (char *)"bob", (char *)"bob@test.example" };
	e.rcpts = rs;
	e.n_rcpts = 2;
	return e;
}

/* the records area of an encoded trailer (strip the 24-byte trailer) */
static size_t
records_len(const struct buf *b)
{
	return b->len - SPOOL_TRAILER_LEN;
}

T(roundtrip)
{
	struct spool_rcpt rs[2];
	struct spool_env e = sample_env(rs), out;
	struct buf b;
	const char *why;
	buf_init(&b, 0);
	spool_encode(&b, &e, 123);
	CHECK_INT(spool_parse_records(b.data, records_len(&b), &out, &why), 0);
	CHECK_STR(out.qid, e.qid);
	CHECK_STR(out.session, "0123456789abcdef");
	CHECK_STR(out.sender, "a@example.org");
	CHECK_INT(out.time, 1700000000);
	CHECK_INT(out.n_rcpts, 2);
	CHECK_STR(out.rcpts[1].user, "bob");
	CHECK_STR(out.rcpts[1].addr, "bob@test.example");
	CHECK_INT(out.rcpts[1].idx, 1);
	spool_env_free(&out);
	buf_free(&b);
}

T(every_truncation_is_refused)
{
	struct spool_rcpt rs[2];
	struct spool_env e = sample_env(rs), out;
	struct buf b;
	const char *why;
	buf_init(&b, 0);
	spool_encode(&b, &e, 0);
	size_t n = records_len(&b);
	/* cutting inside any record must fail; cutting between whole records
	 * may succeed only when everything required is still there */
	int ok = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t *copy = malloc(i ? i : 1);
		memcpy(copy, b.data, i);
		if (spool_parse_records(copy, i, &out, &why) == 0) {
			ok++;
			spool_env_free(&out);
		} else {
			CHECK(why != NULL);
		}
		free(copy);
	}
	/* only the cut after the first recipient record leaves a valid set */
	CHECK_INT(ok, 1);
	buf_free(&b);
}

T(hostile_user_names)
{
	const char *bad[] = { "../etc", ".hidden", "a/b", "", "UPPER", "x y",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct spool_rcpt r = { 0, (char *)bad[i], (char *)"x@y" };
		struct spool_env e, out;
		memset(&e, 0, sizeof e);
		spool_new_qid(e.qid);
		e.sender = (char *)"";
		e.rcpts = &r;
		e.n_rcpts = 1;
		struct buf b;
		const char *why;
		buf_init(&b, 0);
		spool_encode(&b, &e, 0);
		CHECK_INT(spool_parse_records(b.data, records_len(&b), &out, &why), -1);
		buf_free(&b);
	}
	CHECK(spool_user_valid("alice"));
	CHECK(spool_user_valid("a.b-c_d"));
}

/* A hostile worker repeating a recipient index: refused, never two copies
 * or one hidden result. */
T(repeated_index_refused)
{
	struct spool_rcpt r[3] = {
		{ 0, (char *)"alice", (char *)"alice@x" },
		{ 1, (char *)"bob", (char *)"bob@x" },
		{ 0, (char *)"carol", (char *)"carol@x" },
	};
	struct spool_env e, out;
	struct buf b;
	const char *why = NULL;
	memset(&e, 0, sizeof e);
	spool_new_qid(e.qid);
	e.sender = (char *)"";
	e.rcpts = r;
	e.n_rcpts = 3;
	buf_init(&b, 0);
	spool_encode(&b, &e, 0);
	CHECK_INT(spool_parse_records(b.data, records_len(&b), &out, &why), -1);
	CHECK_STR(why, "repeated recipient index");
	buf_free(&b);
	r[2].idx = 2;
	buf_init(&b, 0);
	spool_encode(&b, &e, 0);
	CHECK_INT(spool_parse_records(b.data, records_len(&b), &out, &why), 0);
	CHECK_INT(out.n_rcpts, 3);
	spool_env_free(&out);
	buf_free(&b);
}

struct got {
	struct spool_result r[8];
	size_t n;
};

static void
collect(const struct spool_result *r, void *arg)
{
	struct got *g = arg;
	if (g->n < 8)
		g->r[g->n++] = *r;
}

/* Results records: round trip, torn tail, bad checksum, bad status. */
T(results_records)
{
	struct buf b;
	struct got g = { .n = 0 };
	buf_init(&b, 0);
	struct spool_result a = { 3, SPOOL_ST_DEFERRED, 2, 1700000000, "disk full" };
	struct spool_result c = { 7, SPOOL_ST_DONE, 1, 1700000060, "" };
	spool_result_encode(&b, &a);
	size_t one = b.len;
	spool_result_encode(&b, &c);
	CHECK_INT(spool_results_parse(b.data, b.len, collect, &g), b.len);
	CHECK_INT(g.n, 2);
	CHECK_INT(g.r[0].idx, 3);
	CHECK_INT(g.r[0].status, SPOOL_ST_DEFERRED);
	CHECK_INT(g.r[0].attempts, 2);
	CHECK(g.r[0].time == 1700000000);
	CHECK_STR(g.r[0].text, "disk full");
	CHECK_INT(g.r[1].idx, 7);
	CHECK_STR(g.r[1].text, "");
	/* every torn length keeps the whole records before it, nothing else */
	for (size_t cut = 0; cut < b.len; cut++) {
		g.n = 0;
		size_t ok = spool_results_parse(b.data, cut, collect, &g);
		CHECK_INT(ok, cut < one ? 0 : one);
		CHECK_INT(g.n, cut < one ? 0 : 1);
	}
	/* a flipped byte in the second record's body: its checksum fails */
	b.data[one + 12] ^= 1;
	g.n = 0;
	CHECK_INT(spool_results_parse(b.data, b.len, collect, &g), one);
	CHECK_INT(g.n, 1);
	/* a status outside 1..3 is refused even with a good checksum */
	buf_reset(&b);
	struct spool_result bad = { 1, 9, 1, 1, "x" };
	spool_result_encode(&b, &bad);
	g.n = 0;
	CHECK_INT(spool_results_parse(b.data, b.len, collect, &g), 0);
	buf_free(&b);
}

T(control_chars_in_envelope_refused)
{
	struct spool_rcpt r = { 0, (char *)"alice", (char *)"alice@x\nBcc: evil" };
	struct spool_env e, out;
	memset(&e, 0, sizeof e);
	spool_new_qid(e.qid);
	e.sender = (char *)"";
	e.rcpts = &r;
	e.n_rcpts = 1;
	struct buf b;
	const char *why;
	buf_init(&b, 0);
	spool_encode(&b, &e, 0);
	CHECK_INT(spool_parse_records(b.data, records_len(&b), &out, &why), -1);
	buf_free(&b);
}

T(file_trailer_checks)
{
	char path[] = "/tmp/talon-spool-XXXXXX";
	int fd = mkstemp(path);
	struct spool_rcpt rs[2];
	struct spool_env e = sample_env(rs), out;
	struct buf b;
	const char *why;
	uint64_t off, len;
	buf_init(&b, 0);
	buf_append(&b, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
	buf_puts(&b, "Subject: x\n\nhello\n");
	uint64_t clen = b.len - SPOOL_MAGIC_LEN;
	spool_encode(&b, &e, clen);
	CHECK(write(fd, b.data, b.len) == (ssize_t)b.len);
	CHECK_INT(spool_read(fd, b.len, &out, &off, &len, &why), 0);
	CHECK_INT(off, SPOOL_MAGIC_LEN);
	CHECK_INT(len, clen);
	spool_env_free(&out);
	/* a torn file (any shorter size) is recognised */
	for (size_t cut = 0; cut < b.len; cut += 7) {
		CHECK(ftruncate(fd, (off_t)cut) == 0);
		CHECK_INT(spool_read(fd, cut, &out, &off, &len, &why), -1);
	}
	close(fd);
	unlink(path);
	buf_free(&b);
}

T(qids_unique_and_valid)
{
	char prev[SPOOL_QID_MAX + 1] = "", q[SPOOL_QID_MAX + 1];
	for (int i = 0; i < 5000; i++) {
		spool_new_qid(q);
		CHECK(spool_qid_valid(q));
		CHECK(strcmp(q, prev) > 0);	/* time ordered, never repeats */
		strcpy(prev, q);
	}
	CHECK(!spool_qid_valid("../../etc/pw"));
	CHECK(!spool_qid_valid("0123456789ABCU"));
}

int
main(void)
{
	RUN(roundtrip);
	RUN(every_truncation_is_refused);
	RUN(hostile_user_names);
	RUN(control_chars_in_envelope_refused);
	RUN(repeated_index_refused);
	RUN(results_records);
	RUN(file_trailer_checks);
	RUN(qids_unique_and_valid);
	return t_done("spool");
}

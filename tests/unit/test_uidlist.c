/*
 * Unit tests for store/uidlist.c: Dovecot's documented layout, round trips,
 * header order and unknown fields, damaged lines skipped with their line
 * numbers, files that force a rebuild, uid exhaustion, lookups, expunge,
 * and a 100,000-entry list.
 */
#include <stdlib.h>

#include "core/buf.h"
#include "core/util.h"
#include "store/uidlist.h"
#include "t.h"

#define REP_MAX 200

struct rep {
	unsigned line[REP_MAX];
	const char *why[REP_MAX];
	size_t n;
};

static void
collect(void *arg, unsigned line, const char *why)
{
	struct rep *r = arg;
	if (r->n < REP_MAX) {
		r->line[r->n] = line;
		r->why[r->n] = why;
	}
	r->n++;
}

static int
parse_str(const char *s, struct uidlist *u, struct rep *r)
{
	memset(r, 0, sizeof *r);
	return uidlist_parse(s, strlen(s), u, collect, r);
}

/* Format u into a NUL-terminated string owned by the caller. */
static char *
format_str(const struct uidlist *u)
{
	struct buf b;
	buf_init(&b, 0);
	if (uidlist_format(u, &b) != 0 || !buf_cstr(&b)) {
		buf_free(&b);
		return NULL;
	}
	char *s = strdup((const char *)b.data);
	buf_free(&b);
	return s;
}

/* Laid out as in Dovecot's Maildir documentation: S and W in the name,
 * an ext field, a name written with its ":2,FLAGS" part. */
static const char example[] =
	"3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n"
	"25006 :1276528487.M364837P9451.kurkku,S=1355,W=1394:2,\n"
	"25017 W2481 :1276533073.M242911P3632.kurkku:2,F\n"
	"25021 S1022 W1050 G00aa :1276533100.M10P3633.kurkku\n";

T(test_dovecot_example)
{
	struct uidlist u;
	struct rep r;
	CHECK_INT(parse_str(example, &u, &r), UIDLIST_OK);
	CHECK_INT(r.n, 0);
	CHECK_INT(u.n_damaged, 0);
	CHECK_INT(u.validity, 1275660208u);
	CHECK_INT(u.next, 25022);
	CHECK_STR(u.guid, "3085f01b7f11094c501100008c4a11c1");
	CHECK_STR(u.hdr_extra, "");
	CHECK_INT(u.n, 3);
	if (u.n == 3) {
		CHECK_INT(u.v[0].uid, 25006);
		CHECK_STR(u.v[0].name, "1276528487.M364837P9451.kurkku,S=1355,W=1394");
		CHECK_STR(u.v[0].ext, "");
		CHECK_INT(u.v[1].uid, 25017);
		CHECK_STR(u.v[1].name, "1276533073.M242911P3632.kurkku");
		CHECK_STR(u.v[1].ext, "W2481");
		CHECK_STR(u.v[2].ext, "S1022 W1050 G00aa");
	}
	uidlist_free(&u);
}

static void
check_same(const struct uidlist *a, const struct uidlist *b)
{
	CHECK_INT(a->validity, b->validity);
	CHECK_INT(a->next, b->next);
	CHECK_STR(a->guid, b->guid);
	CHECK_STR(a->hdr_extra, b->hdr_extra);
	CHECK_INT(a->n, b->n);
	for (size_t k = 0; k < a->n && k < b->n; k++) {
		CHECK_INT(a->v[k].uid, b->v[k].uid);
		CHECK_STR(a->v[k].name, b->v[k].name);
		CHECK_STR(a->v[k].ext, b->v[k].ext);
	}
}

T(test_roundtrip)
{
	struct uidlist a, b;
	struct rep r;
	CHECK_INT(parse_str(example, &a, &r), UIDLIST_OK);
	char *s = format_str(&a);
	CHECK(s != NULL);
	CHECK_STR(s,
	    "3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n"
	    "25006 :1276528487.M364837P9451.kurkku,S=1355,W=1394\n"
	    "25017 W2481 :1276533073.M242911P3632.kurkku\n"
	    "25021 S1022 W1050 G00aa :1276533100.M10P3633.kurkku\n");
	CHECK_INT(parse_str(s ? s : "", &b, &r), UIDLIST_OK);
	CHECK_INT(r.n, 0);
	check_same(&a, &b);
	char *s2 = format_str(&b);
	CHECK_STR(s2, s);
	free(s);
	free(s2);
	uidlist_free(&a);
	uidlist_free(&b);
}

T(test_header_order_and_unknown)
{
	struct uidlist u;
	struct rep r;
	CHECK_INT(parse_str("3  N10 Xfoo GABCDEF0123456789abcdef0123456789 V42 P%u  \n"
	    "7   S5    :a b\n", &u, &r), UIDLIST_OK);
	CHECK_INT(r.n, 0);
	CHECK_INT(u.validity, 42);
	CHECK_INT(u.next, 10);
	CHECK_STR(u.guid, "abcdef0123456789abcdef0123456789");
	CHECK_STR(u.hdr_extra, "Xfoo P%u");
	char *s = format_str(&u);
	CHECK_STR(s, "3 V42 N10 Gabcdef0123456789abcdef0123456789 Xfoo P%u\n7 S5 :a b\n");
	free(s);
	uidlist_free(&u);
	/* no G at all (older v3 files) is fine and stays absent */
	CHECK_INT(parse_str("3 V1 N1", &u, &r), UIDLIST_OK);
	CHECK_STR(u.guid, "");
	s = format_str(&u);
	CHECK_STR(s, "3 V1 N1\n");
	free(s);
	uidlist_free(&u);
}

T(test_damaged_lines)
{
	struct uidlist u;
	struct rep r;
	static const char text[] =
		"3 V5 N3\n"		/* 1 */
		"1 :good1\n"		/* 2 */
		"x2 :bad\n"		/* 3 non-numeric uid */
		"0 :zero\n"		/* 4 uid 0 */
		"2 :good2\n"		/* 5 */
		"2 :again\n"		/* 6 repeated uid */
		"1 :decr\n"		/* 7 decreasing */
		"3 nocolon\n"		/* 8 missing ':' -> bad ext and no name */
		"4 :../x\n"		/* 9 */
		"5 :a/b\n"		/* 10 */
		"6 :good1\n"		/* 11 duplicate name */
		"7 :good1:2,S\n"	/* 12 duplicate base name */
		"\n"			/* 13 */
		"8 :..\n"		/* 14 */
		"9 :\n"			/* 15 */
		"10 :a\tb\n"		/* 16 control byte */
		"4294967295 :big\n"	/* 17 uid past the last */
		"11 s1 W2 :good3\n"	/* 18 kept, bad ext field dropped */
		"12 :good4";		/* 19 no final newline */
	CHECK_INT(uidlist_parse(text, sizeof text - 1, &u, collect, &r), UIDLIST_OK);
	static const unsigned want[] = { 3, 4, 6, 7, 8, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18 };
	CHECK_INT(r.n, NELEM(want));
	for (size_t k = 0; k < NELEM(want) && k < r.n; k++)
		CHECK_INT(r.line[k], want[k]);
	CHECK_STR(r.why[0], "uid not a number followed by a space");
	CHECK_STR(r.why[1], "uid out of range");
	CHECK_STR(r.why[2], "uid not above the previous one");
	CHECK_STR(r.why[5], "no ':' before the file name");
	CHECK_STR(r.why[6], "bad file name");
	CHECK_STR(r.why[8], "file name listed twice");
	CHECK_STR(r.why[15], "bad extension field dropped");
	CHECK_INT(u.n_damaged, NELEM(want));
	CHECK_INT(u.n, 4);
	if (u.n == 4) {
		CHECK_STR(u.v[0].name, "good1");
		CHECK_STR(u.v[1].name, "good2");
		CHECK_INT(u.v[2].uid, 11);
		CHECK_STR(u.v[2].ext, "W2");
		CHECK_STR(u.v[3].name, "good4");
	}
	/* uids on skipped lines were maybe seen by a client: never reused */
	CHECK_INT(u.next, 13);
	uidlist_free(&u);
}

T(test_crlf_file_is_damaged)
{
	struct uidlist u;
	struct rep r;
	CHECK_INT(parse_str("3 V1 N3\r\n1 :a\r\n", &u, &r), UIDLIST_REBUILD);
	uidlist_free(&u);
	CHECK_INT(parse_str("3 V1 N3\n1 :a\r\n2 :b\n", &u, &r), UIDLIST_OK);
	CHECK_INT(u.n, 1);
	CHECK_INT(r.n, 1);
	CHECK_INT(r.line[0], 2);
	uidlist_free(&u);
}

T(test_rebuild)
{
	static const char *const bad[] = {
		"", "\n", "garbage\n1 :a\n", "1 12345 10\n", "2 V1 N1\n", "3\n", "3 N5\n",
		"3 V7\n", "3 V0 N5\n", "3 V1 N0\n", "3 Vx N1\n", "3 V4294967296 N1\n",
		"3 V1 N1 Gxyz\n", "3 V1 N1 G3085f01b7f11094c501100008c4a11c\n",
		"3 V1 V2 N3\n", "3 V1 N2 N3\n", "3 V1\tN2\n", "30 V1 N2\n", "3 V1 N2 \x01\n",
	};
	for (size_t k = 0; k < NELEM(bad); k++) {
		struct uidlist u;
		struct rep r;
		memset(&r, 0, sizeof r);
		int rc = uidlist_parse(bad[k], strlen(bad[k]), &u, collect, &r);
		if (rc != UIDLIST_REBUILD)
			fprintf(stderr, "case %zu\n", k);
		CHECK_INT(rc, UIDLIST_REBUILD);
		CHECK_INT(u.validity, 0);
		CHECK_INT(u.n, 0);
		CHECK_INT(r.n, 1);
		CHECK_INT(r.line[0], 1);
		uidlist_free(&u);
	}
	/* without a callback too */
	struct uidlist u;
	CHECK_INT(uidlist_parse(NULL, 0, &u, NULL, NULL), UIDLIST_REBUILD);
	uidlist_free(&u);
	uidlist_free(&u);	/* twice is fine */
}

T(test_next_raised)
{
	struct uidlist u;
	struct rep r;
	CHECK_INT(parse_str("3 V1 N2\n5 :a\n", &u, &r), UIDLIST_OK);
	CHECK_INT(u.next, 6);
	uidlist_free(&u);
	CHECK_INT(parse_str("3 V1 N100\n5 :a\n", &u, &r), UIDLIST_OK);
	CHECK_INT(u.next, 100);
	uidlist_free(&u);
	CHECK_INT(parse_str("3 V1 N2\n5 :a\n4294967294 :b\n", &u, &r), UIDLIST_OK);
	CHECK_INT(u.next, 4294967295u);
	uint32_t uid = 0;
	CHECK_INT(uidlist_append(&u, "c", "", &uid), -1);
	uidlist_free(&u);
}

T(test_append)
{
	struct uidlist u;
	uint32_t uid = 0;
	CHECK_INT(uidlist_init(&u, 0, NULL), -1);
	uidlist_free(&u);
	CHECK_INT(uidlist_init(&u, 9, "nothex"), -1);
	uidlist_free(&u);
	CHECK_INT(uidlist_init(&u, 9, NULL), 0);
	CHECK_INT(uidlist_append(&u, "m1,S=10:2,S", "W12", &uid), 0);
	CHECK_INT(uid, 1);
	CHECK_STR(u.v[0].name, "m1,S=10");
	CHECK_INT(uidlist_append(&u, "m1,S=10:2,RS", NULL, &uid), 1);
	CHECK_INT(uid, 1);
	CHECK_INT(uidlist_append(&u, "../x", "", &uid), -1);
	CHECK_INT(uidlist_append(&u, "", "", &uid), -1);
	CHECK_INT(uidlist_append(&u, ":2,S", "", &uid), -1);
	CHECK_INT(uidlist_append(&u, "a\nb", "", &uid), -1);
	CHECK_INT(uidlist_append(&u, "m2", "s1", &uid), -1);
	CHECK_INT(uidlist_append(&u, "m2", "S1 ", &uid), -1);
	CHECK_INT(uidlist_append(&u, "m2", "S1  W2", &uid), -1);
	CHECK_INT(uidlist_append(&u, "m2", "S1 W2", &uid), 0);
	CHECK_INT(uid, 2);
	CHECK_INT(u.next, 3);
	char *s = format_str(&u);
	CHECK_STR(s, "3 V9 N3\n1 W12 :m1,S=10\n2 S1 W2 :m2\n");
	free(s);
	uidlist_free(&u);
}

T(test_append_near_limit)
{
	struct uidlist u;
	uint32_t uid = 0;
	CHECK_INT(uidlist_init(&u, 1, "3085f01b7f11094c501100008c4a11c1"), 0);
	u.next = UINT32_MAX - 2;
	CHECK_INT(uidlist_append(&u, "a", "", &uid), 0);
	CHECK_INT(uid, 4294967293u);
	CHECK_INT(uidlist_append(&u, "b", "", &uid), 0);
	CHECK_INT(uid, 4294967294u);
	CHECK_INT(u.next, 4294967295u);
	CHECK_INT(uidlist_append(&u, "c", "", &uid), -1);
	CHECK_INT(u.n, 2);
	CHECK_INT(u.next, 4294967295u);
	/* and what it writes reads back */
	char *s = format_str(&u);
	struct uidlist b;
	struct rep r;
	CHECK_INT(parse_str(s ? s : "", &b, &r), UIDLIST_OK);
	CHECK_INT(r.n, 0);
	check_same(&u, &b);
	free(s);
	uidlist_free(&b);
	uidlist_free(&u);
}

T(test_find)
{
	struct uidlist u;
	struct rep r;
	CHECK_INT(parse_str(example, &u, &r), UIDLIST_OK);
	const struct uidlist_entry *e = uidlist_find_uid(&u, 25017);
	CHECK(e != NULL && strcmp(e->name, "1276533073.M242911P3632.kurkku") == 0);
	CHECK(uidlist_find_uid(&u, 25006) == &u.v[0]);
	CHECK(uidlist_find_uid(&u, 25021) == &u.v[2]);
	CHECK(uidlist_find_uid(&u, 25018) == NULL);
	CHECK(uidlist_find_uid(&u, 1) == NULL);
	CHECK(uidlist_find_uid(&u, UINT32_MAX) == NULL);
	e = uidlist_find_name(&u, "1276533073.M242911P3632.kurkku:2,FS");
	CHECK(e != NULL && e->uid == 25017);
	CHECK(uidlist_find_name(&u, "1276533073.M242911P3632.kurkku") == e);
	CHECK(uidlist_find_name(&u, "1276533073.M242911P3632.kurk") == NULL);
	CHECK(uidlist_find_name(&u, "1276533073.M242911P3632.kurkkuu") == NULL);
	uidlist_free(&u);
	CHECK_INT(uidlist_init(&u, 1, NULL), 0);
	CHECK(uidlist_find_name(&u, "x") == NULL);
	CHECK(uidlist_find_uid(&u, 1) == NULL);
	uidlist_free(&u);
}

static bool
odd_present(void *arg, const char *name)
{
	(*(int *)arg)++;
	return (atoi(name + 1) & 1) != 0;
}

static bool
none_present(void *arg, const char *name)
{
	return false;
}

T(test_remove_missing)
{
	struct uidlist u;
	uint32_t uid;
	char name[32];
	CHECK_INT(uidlist_init(&u, 3, NULL), 0);
	for (int k = 1; k <= 1000; k++) {
		snprintf(name, sizeof name, "m%d", k);
		CHECK_INT(uidlist_append(&u, name, "", &uid), 0);
	}
	int calls = 0;
	uidlist_remove_missing(&u, odd_present, &calls);
	CHECK_INT(calls, 1000);
	CHECK_INT(u.n, 500);
	CHECK_INT(u.next, 1001);
	CHECK(uidlist_find_name(&u, "m2") == NULL);
	CHECK(uidlist_find_uid(&u, 2) == NULL);
	const struct uidlist_entry *e = uidlist_find_name(&u, "m999");
	CHECK(e != NULL && e->uid == 999);
	CHECK(uidlist_find_uid(&u, 999) == e);
	/* expunged uids are not given again */
	CHECK_INT(uidlist_append(&u, "m2", "", &uid), 0);
	CHECK_INT(uid, 1001);
	uidlist_remove_missing(&u, none_present, NULL);
	CHECK_INT(u.n, 0);
	CHECK(uidlist_find_name(&u, "m1") == NULL);
	CHECK_INT(uidlist_append(&u, "m1", "", &uid), 0);
	CHECK_INT(uid, 1002);
	CHECK(uidlist_find_name(&u, "m1") != NULL);
	uidlist_free(&u);
}

T(test_base_len)
{
	CHECK_INT(uidlist_base_len(""), 0);
	CHECK_INT(uidlist_base_len("abc"), 3);
	CHECK_INT(uidlist_base_len("1.M2P3.host,S=10,W=12:2,RS"), 21);
	CHECK_INT(uidlist_base_len("1.M2P3.host,S=10:2,"), 16);
	CHECK_INT(uidlist_base_len(":2,S"), 0);
}

T(test_report_bound)
{
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "3 V1 N1\n");
	for (int k = 0; k < 500; k++)
		buf_puts(&b, "junk\n");
	buf_puts(&b, "600 :last\n");
	struct uidlist u;
	struct rep r = { .n = 0 };
	CHECK_INT(uidlist_parse((const char *)b.data, b.len, &u, collect, &r), UIDLIST_OK);
	CHECK_INT(r.n, UIDLIST_REPORT_MAX + 1);
	CHECK_INT(r.line[0], 2);
	CHECK_INT(r.line[UIDLIST_REPORT_MAX - 1], UIDLIST_REPORT_MAX + 1);
	CHECK_STR(r.why[UIDLIST_REPORT_MAX], "more damaged lines, not reported");
	CHECK_INT(u.n_damaged, 500);
	CHECK_INT(u.n, 1);
	CHECK_INT(u.next, 601);
	uidlist_free(&u);
	buf_free(&b);
}

T(test_limits)
{
	struct uidlist u;
	struct rep r;
	char line[600];
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "3 V1 N1\n");
	/* a 255-byte name is fine, 256 is not */
	memset(line, 'n', 256);
	line[256] = '\0';
	buf_printf(&b, "1 :%s\n", line + 1);
	buf_printf(&b, "2 :%s\n", line);
	/* a line over UIDLIST_LINE_MAX */
	buf_puts(&b, "3 ");
	for (int k = 0; k < 1000; k++)
		buf_puts(&b, "S1234 ");
	buf_puts(&b, ":long\n");
	memset(&r, 0, sizeof r);
	CHECK_INT(uidlist_parse((const char *)b.data, b.len, &u, collect, &r), UIDLIST_OK);
	CHECK_INT(u.n, 1);
	CHECK_INT(r.n, 2);
	CHECK_STR(r.why[1], "line too long");
	uidlist_free(&u);
	buf_free(&b);
	/* NUL bytes are data, and bad data */
	static const char nul[] = "3 V1 N1\n1 :a\0b\n2 S\0 :c\n";
	memset(&r, 0, sizeof r);
	CHECK_INT(uidlist_parse(nul, sizeof nul - 1, &u, collect, &r), UIDLIST_OK);
	CHECK_INT(u.n, 1);
	CHECK_INT(r.n, 2);
	CHECK_STR(u.v[0].name, "c");
	uidlist_free(&u);
}

T(test_format_refuses_broken_list)
{
	struct uidlist u;
	uint32_t uid;
	CHECK_INT(uidlist_init(&u, 1, NULL), 0);
	CHECK_INT(uidlist_append(&u, "a", "", &uid), 0);
	u.next = 1;	/* a caller bug: the uid would be handed out again */
	char *s = format_str(&u);
	CHECK(s == NULL);
	free(s);
	uidlist_free(&u);
	CHECK(format_str(&u) == NULL);	/* no UIDVALIDITY */
	/* a buffer too small for the text */
	struct buf b;
	buf_init(&b, 8);
	CHECK_INT(uidlist_init(&u, 1234567, NULL), 0);
	CHECK_INT(uidlist_format(&u, &b), -1);
	buf_free(&b);
	uidlist_free(&u);
}

/* A list of 100,000 entries: all kept, every one found by uid and by name.
 * (How long it takes is a benchmark's question, not a test's.) */
T(test_large)
{
	size_t n = 100000;
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "3 V1 N%zu\n", n + 1);
	/* names sharing a long prefix, as real Maildir names do */
	for (size_t k = 1; k <= n; k++)
		buf_printf(&b, "%zu S%zu :1700000000.M%zuP4242.mail.example.org,S=%zu\n",
		    k, k * 10, k, k * 10);
	struct uidlist u;
	CHECK_INT(uidlist_parse((const char *)b.data, b.len, &u, NULL, NULL), UIDLIST_OK);
	CHECK_INT(u.n, n);
	CHECK_INT(u.n_damaged, 0);
	for (size_t k = 1; k <= n; k += 997) {
		char name[128];
		snprintf(name, sizeof name, "1700000000.M%zuP4242.mail.example.org,S=%zu", k, k * 10);
		const struct uidlist_entry *e = uidlist_find_name(&u, name);
		CHECK(e != NULL && e->uid == k);
		CHECK(uidlist_find_uid(&u, (uint32_t)k) == e);
	}
	uidlist_free(&u);
	buf_free(&b);
}

int
main(void)
{
	RUN(test_dovecot_example);
	RUN(test_roundtrip);
	RUN(test_header_order_and_unknown);
	RUN(test_damaged_lines);
	RUN(test_crlf_file_is_damaged);
	RUN(test_rebuild);
	RUN(test_next_raised);
	RUN(test_append);
	RUN(test_append_near_limit);
	RUN(test_find);
	RUN(test_remove_missing);
	RUN(test_base_len);
	RUN(test_report_bound);
	RUN(test_limits);
	RUN(test_format_refuses_broken_list);
	RUN(test_large);
	return t_done("uidlist");
}

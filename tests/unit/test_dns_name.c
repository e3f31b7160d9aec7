/*
 * tests/unit/test_dns_name.c - dns/name.c: text <-> wire with every error
 * message, comparisons, RFC 4034 canonical order, and dns_name_unpack on
 * well-formed and hostile packets (pointer loops, forward pointers, hop
 * and length limits).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dns/name.h"
#include "t.h"

/* Wire form from a C string literal that may hold NULs: W("\3www\0"). */
#define W(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static const uint8_t ORIGIN[] = "\7example\0";

static void
expect_text(const char *text, const uint8_t *origin, const uint8_t *want, size_t wlen,
    const char *want_err, int line)
{
	uint8_t out[DNS_NAME_MAX];
	const char *err = NULL;
	int n = dns_name_from_text(text, strlen(text), origin, out, &err);
	bool ok = want_err == NULL ? n == (int)wlen && memcmp(out, want, wlen) == 0 && err == NULL
	    : n == -1 && err != NULL && strcmp(err, want_err) == 0;
	if (!ok) {
		fprintf(stderr, "test_dns_name.c:%d: \"%s\": got %d (%s)\n", line, text, n,
		    err ? err : "no error");
		t_cur_failed = 1;
	}
}

#define OK(text, origin, lit) expect_text(text, origin, W(lit), NULL, __LINE__)
#define BAD(text, origin, e) expect_text(text, origin, NULL, 0, e, __LINE__)

/* n labels of len bytes of 'a', dot-separated, with a final dot if abs. */
static char *
labels(int n, int len, bool abs)
{
	char *s = malloc((size_t)(n * (len + 1) + 2)), *p = s;
	for (int i = 0; i < n; i++) {
		memset(p, 'a', (size_t)len);
		p += len;
		if (i < n - 1 || abs)
			*p++ = '.';
	}
	*p = '\0';
	return s;
}

T(test_name_from_text)
{
	OK(".", NULL, "\0");
	OK("example.", NULL, "\7example\0");
	OK("Example.COM.", NULL, "\7Example\3COM\0");
	OK("www", ORIGIN, "\3www\7example\0");
	OK("a.b", ORIGIN, "\1a\1b\7example\0");
	OK("www", (const uint8_t *)"", "\3www\0");	/* origin is the root */
	OK("abs.", ORIGIN, "\3abs\0");
	OK("*.example.", NULL, "\1*\7example\0");
	OK("a\\.b.", NULL, "\3a.b\0");
	OK("\\065bc.", NULL, "\3Abc\0");
	OK("a\\ b\\;c.", NULL, "\5a b;c\0");
	OK("\\000\\255.", NULL, "\2\0\377\0");
	OK("\\@\\$.", NULL, "\2@$\0");
	OK("@", ORIGIN, "\1@\7example\0");	/* "@" is the zone parser's business */
	OK("\\\\", ORIGIN, "\1\\\7example\0");
	BAD("", ORIGIN, "empty label");
	BAD("..", NULL, "empty label");
	BAD(".a.", NULL, "empty label");
	BAD("a..b.", NULL, "empty label");
	BAD("a\\", NULL, "bad escape");
	BAD("a\\2", NULL, "bad escape");
	BAD("a\\25.", NULL, "bad escape");
	BAD("a\\256.", NULL, "bad escape");
	BAD("www", NULL, "relative name without an origin");

	char *s = labels(1, 63, true);
	uint8_t out[DNS_NAME_MAX];
	const char *err;
	CHECK_INT(dns_name_from_text(s, strlen(s), NULL, out, &err), 65);
	free(s);
	s = labels(1, 64, true);
	BAD(s, NULL, "label longer than 63 bytes");
	free(s);
	/* 3 labels of 63 and one of 61: exactly 255 bytes; one more is too long */
	s = labels(3, 63, true);
	char big[400];
	snprintf(big, sizeof big, "%s%s", s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	CHECK_INT(dns_name_from_text(big, strlen(big), NULL, out, &err), 255);
	snprintf(big, sizeof big, "%s%s", s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	BAD(big, NULL, "name longer than 255 bytes");
	/* relative: fits alone, too long with the origin */
	snprintf(big, sizeof big, "%s%s", s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CHECK_INT(dns_name_from_text(big, strlen(big), (const uint8_t *)"", out, &err), 248);
	BAD(big, ORIGIN, "name longer than 255 bytes");
	free(s);
	s = labels(128, 1, true);	/* 128 one-byte labels: 257 bytes */
	BAD(s, NULL, "name longer than 255 bytes");
	free(s);
	s = labels(127, 1, true);	/* the most labels a name can have */
	CHECK_INT(dns_name_from_text(s, strlen(s), NULL, out, &err), 255);
	CHECK_INT(dns_name_labels(out), 127);
	free(s);
}

static void
expect_to_text(const uint8_t *name, const char *want, int line)
{
	char t[DNS_NAME_TEXT_MAX];
	size_t n = dns_name_to_text(name, t);
	if (n != strlen(want) || strcmp(t, want) != 0) {
		fprintf(stderr, "test_dns_name.c:%d: got \"%s\", want \"%s\"\n", line, t, want);
		t_cur_failed = 1;
	}
	/* and back to the same bytes */
	uint8_t back[DNS_NAME_MAX];
	const char *err;
	int k = dns_name_from_text(t, n, NULL, back, &err);
	if (k != (int)dns_name_len(name) || memcmp(back, name, (size_t)k) != 0) {
		fprintf(stderr, "test_dns_name.c:%d: \"%s\" does not read back\n", line, t);
		t_cur_failed = 1;
	}
}

T(test_name_to_text)
{
	expect_to_text((const uint8_t *)"", ".", __LINE__);
	expect_to_text((const uint8_t *)"\3www\7Example\0", "www.Example.", __LINE__);
	expect_to_text((const uint8_t *)"\11.\\\"();@$x\0", "\\.\\\\\\\"\\(\\)\\;\\@\\$x.",
	    __LINE__);
	expect_to_text((const uint8_t *)"\4\0 \177\377\0", "\\000\\032\\127\\255.", __LINE__);
	expect_to_text((const uint8_t *)"\1*\3a-b\0", "*.a-b.", __LINE__);

	/* the worst case fits in DNS_NAME_TEXT_MAX */
	uint8_t w[DNS_NAME_MAX];
	size_t o = 0;
	for (int i = 0; i < 4; i++) {
		int len = i < 3 ? 63 : 61;
		w[o++] = (uint8_t)len;
		memset(w + o, 0, (size_t)len);
		o += (size_t)len;
	}
	w[o++] = 0;
	CHECK_INT(o, 255);
	char t[DNS_NAME_TEXT_MAX];
	CHECK_INT(dns_name_to_text(w, t), 250 * 4 + 4);
	expect_to_text(w, t, __LINE__);
}

T(test_name_compare)
{
	const uint8_t *a = (const uint8_t *)"\3WWW\7example\0";
	const uint8_t *b = (const uint8_t *)"\3www\7EXAMPLE\0";
	const uint8_t *zone = (const uint8_t *)"\7example\0";
	const uint8_t *root = (const uint8_t *)"";

	CHECK_INT(dns_name_len(a), 13);
	CHECK_INT(dns_name_len(root), 1);
	CHECK_INT(dns_name_labels(a), 2);
	CHECK_INT(dns_name_labels(root), 0);
	CHECK(dns_name_eq(a, b));
	CHECK(!dns_name_eq(a, zone));
	CHECK(!dns_name_eq((const uint8_t *)"\2ab\0", (const uint8_t *)"\1a\1b\0"));
	CHECK(dns_name_under(a, zone));
	CHECK(dns_name_under(zone, zone));
	CHECK(dns_name_under(a, root));
	CHECK(!dns_name_under(zone, a));
	CHECK(!dns_name_under((const uint8_t *)"\3www\10xexample\0", zone));
	CHECK(!dns_name_under((const uint8_t *)"\3www\7example\3com\0", zone));
	CHECK(dns_name_parent(a) == a + 4);
	CHECK(dns_name_parent(zone) == zone + 8);
	CHECK(dns_name_parent(root) == NULL);
	CHECK(dns_name_is_wildcard((const uint8_t *)"\1*\7example\0"));
	CHECK(!dns_name_is_wildcard((const uint8_t *)"\2*a\7example\0"));
	CHECK(!dns_name_is_wildcard(root));
	uint8_t m[] = "\3WwW\7ExAmPlE\0";
	dns_name_lower(m);
	CHECK(memcmp(m, "\3www\7example\0", 13) == 0);
	uint8_t hi[] = "\2\301Z\0";	/* only ASCII is folded */
	dns_name_lower(hi);
	CHECK(memcmp(hi, "\2\301z\0", 4) == 0);
}

/* RFC 4034 6.1, the example list in canonical order. */
T(test_name_canon_order)
{
	static const char *const order[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.",
		"\\200.z.example.",
	};
	uint8_t n[NELEM(order)][DNS_NAME_MAX];
	const char *err;
	for (size_t i = 0; i < NELEM(order); i++)
		CHECK(dns_name_from_text(order[i], strlen(order[i]), NULL, n[i], &err) > 0);
	for (size_t i = 0; i < NELEM(order); i++)
		for (size_t j = 0; j < NELEM(order); j++) {
			int c = dns_name_canon_cmp(n[i], n[j]);
			if ((i < j && c >= 0) || (i == j && c != 0) || (i > j && c <= 0)) {
				fprintf(stderr, "order: %s vs %s gives %d\n", order[i], order[j],
				    c);
				t_cur_failed = 1;
			}
		}
	/* case does not matter; a label that is a prefix sorts first */
	CHECK_INT(dns_name_canon_cmp((const uint8_t *)"\3ABC\0", (const uint8_t *)"\3abc\0"), 0);
	CHECK(dns_name_canon_cmp((const uint8_t *)"\2ab\0", (const uint8_t *)"\3abc\0") < 0);
	CHECK(dns_name_canon_cmp((const uint8_t *)"\1b\1a\0", (const uint8_t *)"\1a\1b\0") < 0);
	CHECK(dns_name_canon_cmp((const uint8_t *)"", (const uint8_t *)"\1a\0") < 0);
}

static int
cmp_ptr(const void *a, const void *b)
{
	return dns_name_canon_cmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b);
}

/* 100,000 names sorted with canon_cmp: each neighbour pair in order, and
 * the same result from a label-wise comparison done the slow way. */
T(test_name_canon_sort_100k)
{
	enum { N = 100000 };
	uint8_t (*names)[24] = malloc(sizeof(*names) * N);
	const uint8_t **p = malloc(sizeof(*p) * N);
	unsigned seed = 12345;
	for (int i = 0; i < N; i++) {
		char t[32];
		seed = seed * 1103515245 + 12345;
		snprintf(t, sizeof t, "h%u.%c%u.example.", seed % 997, 'a' + (int)(seed >> 20) % 26,
		    (seed >> 8) % 50);
		const char *err;
		CHECK(dns_name_from_text(t, strlen(t), NULL, names[i], &err) > 0);
		p[i] = names[i];
	}
	qsort(p, N, sizeof *p, cmp_ptr);
	for (int i = 1; i < N; i++)
		if (dns_name_canon_cmp(p[i - 1], p[i]) > 0) {
			t_cur_failed = 1;
			break;
		}
	free(p);
	free(names);
}

static void
expect_unpack(const uint8_t *pkt, size_t len, size_t off, int want, size_t want_off,
    const char *want_text, int line)
{
	uint8_t out[DNS_NAME_MAX];
	size_t o = off;
	int n = dns_name_unpack(pkt, len, &o, out);
	bool ok = n == want && o == want_off;
	char t[DNS_NAME_TEXT_MAX] = "";
	if (ok && n > 0) {
		dns_name_to_text(out, t);
		ok = strcmp(t, want_text) == 0 && dns_name_len(out) == (size_t)n;
	}
	if (!ok) {
		fprintf(stderr, "test_dns_name.c:%d: got %d off %zu \"%s\"\n", line, n, o, t);
		t_cur_failed = 1;
	}
}

#define UNPACK(lit, off, want, want_off, text) \
	expect_unpack(W(lit), off, want, want_off, text, __LINE__)

T(test_name_unpack)
{
	UNPACK("\0", 0, 1, 1, ".");
	UNPACK("\3www\7example\0", 0, 13, 13, "www.example.");
	UNPACK("xx\3www\7example\0yy", 2, 13, 15, "www.example.");
	/* "example." at 0, "www" + pointer to 0 at 9 */
	UNPACK("\7example\0\3www\300\0", 9, 13, 15, "www.example.");
	/* a pointer alone, and a chain of two */
	UNPACK("\7example\0\300\0", 9, 9, 11, "example.");
	UNPACK("\7example\0\1a\300\0\1b\300\11", 13, 13, 17, "b.a.example.");
	/* errors leave the offset alone */
	UNPACK("", 0, -1, 0, "");
	UNPACK("\3ww", 0, -1, 0, "");			/* truncated label */
	UNPACK("\3www", 0, -1, 0, "");			/* no root */
	UNPACK("\300", 0, -1, 0, "");			/* half a pointer */
	UNPACK("\300\0", 0, -1, 0, "");			/* self pointer */
	UNPACK("\1a\300\0", 0, -1, 0, "");		/* into its own sequence */
	UNPACK("\300\2\0", 0, -1, 0, "");		/* forward */
	UNPACK("\0\1a\300\3", 1, -1, 1, "");		/* forward inside the name */
	UNPACK("\100\0", 0, -1, 0, "");			/* label type 01 */
	UNPACK("\200\0", 0, -1, 0, "");			/* label type 10 */
	UNPACK("\3www\0", 9, -1, 9, "");		/* offset past the end */
	/* a pointer to a pointer that points back into the first sequence:
	 * each hop must go before the sequence it was found in */
	UNPACK("\1a\300\5\0\1b\300\0", 5, -1, 5, "");

	/* 255 bytes exactly, then 257 through a pointer */
	uint8_t pkt[600];
	size_t o = 0;
	for (int i = 0; i < 4; i++) {
		int len = i < 3 ? 63 : 61;
		pkt[o++] = (uint8_t)len;
		memset(pkt + o, 'x', (size_t)len);
		o += (size_t)len;
	}
	pkt[o++] = 0;
	uint8_t out[DNS_NAME_MAX];
	size_t off = 0;
	CHECK_INT(dns_name_unpack(pkt, o, &off, out), 255);
	CHECK_INT(off, 255);
	pkt[o] = 1;
	pkt[o + 1] = 'y';
	pkt[o + 2] = 0xc0;
	pkt[o + 3] = 0;
	off = o;
	CHECK_INT(dns_name_unpack(pkt, o + 4, &off, out), -1);
	CHECK_INT(off, o);

	/* hop limit: a chain of pointers, each to the one before */
	pkt[0] = 0;
	for (int i = 0; i < 200; i++) {
		size_t at = 1 + 2 * (size_t)i, to = i == 0 ? 0 : at - 2;
		pkt[at] = (uint8_t)(0xc0 | to >> 8);
		pkt[at + 1] = (uint8_t)to;
	}
	off = 1 + 2 * (DNS_PTR_HOPS_MAX - 1);	/* 128 hops */
	CHECK_INT(dns_name_unpack(pkt, 401, &off, out), 1);
	CHECK_INT(off, 1 + 2 * DNS_PTR_HOPS_MAX);
	off = 1 + 2 * DNS_PTR_HOPS_MAX;		/* 129 hops */
	CHECK_INT(dns_name_unpack(pkt, 401, &off, out), -1);
}

T(test_name_check)
{
	CHECK_INT(dns_name_check(W("\0")), 1);
	CHECK_INT(dns_name_check(W("\3www\0junk")), 5);
	CHECK_INT(dns_name_check(W("")), -1);
	CHECK_INT(dns_name_check(W("\3ww")), -1);
	CHECK_INT(dns_name_check(W("\3www")), -1);
	CHECK_INT(dns_name_check(W("\300\0")), -1);	/* compressed */
	CHECK_INT(dns_name_check(W("\100\0")), -1);
	uint8_t n[300];
	memset(n, 1, sizeof n);			/* 1-byte labels of \1 */
	n[254] = 0;
	CHECK_INT(dns_name_check(n, sizeof n), 255);
	n[254] = 1;
	n[256] = 0;
	CHECK_INT(dns_name_check(n, sizeof n), -1);
}

int
main(void)
{
	RUN(test_name_from_text);
	RUN(test_name_to_text);
	RUN(test_name_compare);
	RUN(test_name_canon_order);
	RUN(test_name_canon_sort_100k);
	RUN(test_name_unpack);
	RUN(test_name_check);
	return t_done("test_dns_name");
}

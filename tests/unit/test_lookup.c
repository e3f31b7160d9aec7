/*
 * tests/unit/test_lookup.c - DNS answers as the mail checks see them
 * (dns/lookup.c): name normalisation and escaping, wire conversion,
 * rdata decoding per type (malformed included) and the answer set.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"

#include "dns/lookup.h"
#include "t.h"

static const char *
norm(const char *name)
{
	static char out[LOOKUP_NAME_MAX + 1];
	if (!lookup_name_norm(out, name))
		return "(invalid)";
	return out;
}

static const char *
from_wire(const void *p, size_t len)
{
	static char out[LOOKUP_NAME_MAX + 1];
	if (!lookup_name_from_wire(out, p, len))
		return "(invalid)";
	return out;
}

/* n copies of c */
static const char *
rep(char c, size_t n)
{
	static char s[256];
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

T(test_name_norm)
{
	CHECK_STR(norm("Mail.Example.ORG."), "mail.example.org");
	CHECK_STR(norm("mail.example.org"), "mail.example.org");
	CHECK_STR(norm(""), "");
	CHECK_STR(norm("."), "");
	CHECK_STR(norm("_spf.x-y.example"), "_spf.x-y.example");
	/* every other byte, a backslash included, is escaped as \DDD */
	CHECK_STR(norm("a b.example"), "a\\032b.example");
	CHECK_STR(norm("back\\slash.example"), "back\\092slash.example");
	CHECK_STR(norm("foo:bar/baz.example.com"), "foo\\058bar\\047baz.example.com");
	CHECK_STR(norm("\xc3\xa9t\xc3\xa9.example"), "\\195\\169t\\195\\169.example");
	CHECK_STR(norm("%.example"), "\\037.example");
	/* structure */
	CHECK_STR(norm("a..b"), "(invalid)");
	CHECK_STR(norm(".a"), "(invalid)");
	CHECK_STR(norm("a.."), "(invalid)");
	char name[1200];
	snprintf(name, sizeof name, "%s.example", rep('a', 63));
	CHECK(strcmp(norm(name), "(invalid)") != 0);
	snprintf(name, sizeof name, "%s.example", rep('a', 64));
	CHECK_STR(norm(name), "(invalid)");
	/* 255 octets on the wire: 3 x (1 + 63) + (1 + 61) + 1 */
	char l63[64];
	memcpy(l63, rep('b', 63), 64);
	snprintf(name, sizeof name, "%s.%s.%s.%s", l63, l63, l63, rep('c', 61));
	CHECK(strcmp(norm(name), "(invalid)") != 0);
	snprintf(name, sizeof name, "%s.%s.%s.%s", l63, l63, l63, rep('c', 62));
	CHECK_STR(norm(name), "(invalid)");
	/* the longest escaped form still fits LOOKUP_NAME_MAX */
	char wide[LOOKUP_NAME_MAX];
	memset(wide, ' ', 253);
	for (size_t i = 63; i < 253; i += 64)
		wide[i] = '.';
	wide[253] = '\0';
	char esc[LOOKUP_NAME_MAX + 1];
	CHECK(lookup_name_norm(esc, wide));
	CHECK_INT(strlen(esc), 250 * 4 + 3);
}

T(test_name_wire)
{
	static const uint8_t www[] = "\x03www\x07" "example\x03org";	/* + NUL = root */
	CHECK_STR(from_wire(www, sizeof www), "www.example.org");
	CHECK_STR(from_wire("\0", 1), "");
	CHECK_STR(from_wire("\x03" "A.b\x00", 5), "a\\046b");	/* a dot inside a label */
	CHECK_STR(from_wire("\x03www", 4), "(invalid)");	/* no root label */
	CHECK_STR(from_wire("\x05" "ab", 3), "(invalid)");	/* label past the end */
	CHECK_STR(from_wire("\x40", 1), "(invalid)");		/* label over 63 */
	CHECK_STR(from_wire("\xc0\x0c", 2), "(invalid)");	/* compression */
	CHECK_STR(from_wire("", 0), "(invalid)");
	/* over 255 octets */
	uint8_t big[300];
	size_t o = 0;
	for (int i = 0; i < 4; i++) {
		big[o++] = 63;
		memset(big + o, 'x', 63);
		o += 63;
	}
	big[o++] = 0;
	CHECK_STR(from_wire(big, o), "(invalid)");

	uint8_t w[256];
	CHECK_INT(lookup_name_to_wire(w, "www.example.org"), sizeof www);
	CHECK(memcmp(w, www, sizeof www) == 0);
	CHECK_INT(lookup_name_to_wire(w, ""), 1);
	CHECK_INT(w[0], 0);
	CHECK_INT(lookup_name_to_wire(w, "a\\046b.c"), 7);
	CHECK(memcmp(w, "\x03" "a.b\x01" "c", 7) == 0);
	CHECK_INT(lookup_name_to_wire(w, "a\\12"), 0);		/* short escape */
	CHECK_INT(lookup_name_to_wire(w, "a\\256"), 0);		/* not a byte */
	CHECK_INT(lookup_name_to_wire(w, "a..b"), 0);
	CHECK_INT(lookup_name_to_wire(w, "a."), 0);
	CHECK_INT(lookup_name_to_wire(w, rep('a', 64)), 0);
	char name[1200], l63[64];
	memcpy(l63, rep('b', 63), 64);
	snprintf(name, sizeof name, "%s.%s.%s.%s", l63, l63, l63, rep('c', 61));
	CHECK_INT(lookup_name_to_wire(w, name), 255);
	snprintf(name, sizeof name, "%s.%s.%s.%s", l63, l63, l63, rep('c', 62));
	CHECK_INT(lookup_name_to_wire(w, name), 0);
	/* round trip of normalised names, escapes included */
	static const char *names[] = {
		"mail.example.org", "a\\032b.example", "\\000\\255.x", "foo\\058bar\\047baz.example",
	};
	for (size_t i = 0; i < NELEM(names); i++) {
		size_t n = lookup_name_to_wire(w, names[i]);
		CHECK(n > 0);
		CHECK_STR(from_wire(w, n), names[i]);
	}
}

/* lookup_add_wire, checking its return and the record count; the added
 * record or NULL. */
static const struct lookup_rr *
add_wire_at(int line, struct lookup *l, const void *rd, size_t len, int want)
{
	size_t before = l->n;
	int r = lookup_add_wire(l, rd, len);
	if (r != want || l->n != before + (r == 0)) {
		fprintf(stderr, "line %d: lookup_add_wire == %d, want %d\n", line, r, want);
		t_cur_failed = 1;
	}
	return r == 0 && l->n > before ? &l->rr[l->n - 1] : NULL;
}
#define add_wire(l, rd, len, want) add_wire_at(__LINE__, l, rd, len, want)

T(test_add_wire)
{
	struct lookup l;
	const struct lookup_rr *r;

	lookup_init(&l, LOOKUP_A, "a.example");
	r = add_wire(&l, "\xc0\x00\x02\x01", 4, 0);
	CHECK(r && r->len == 4 && memcmp(r->data, "\xc0\x00\x02\x01", 4) == 0);
	add_wire(&l, "\xc0\x00\x02", 3, -1);
	add_wire(&l, "\xc0\x00\x02\x01\x05", 5, -1);
	lookup_clear(&l);
	CHECK_INT(l.n, 0);
	CHECK_STR(l.name, "a.example");

	lookup_init(&l, LOOKUP_AAAA, "a.example");
	r = add_wire(&l, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16, 0);
	CHECK(r && r->len == 16);
	add_wire(&l, "\x20\x01", 2, -1);
	lookup_clear(&l);

	lookup_init(&l, LOOKUP_MX, "example.org");
	r = add_wire(&l, "\x00\x0a\x02mx\x07" "Example\x03org\x00", 18, 0);
	CHECK(r && r->pref == 10);
	CHECK_STR(r ? (char *)r->data : NULL, "mx.example.org");
	r = add_wire(&l, "\x00\x00\x00", 3, 0);			/* null MX (RFC 7505) */
	CHECK(r && r->len == 0);
	add_wire(&l, "\x00\x0a", 2, -1);				/* no exchange */
	add_wire(&l, "\x00\x0a\xc0\x0c", 4, -1);			/* compressed */
	add_wire(&l, "\x00\x0a\x02mx\x00junk", 9, -1);		/* trailing bytes */
	add_wire(&l, "\x00\x0a\x05mx", 5, -1);			/* label past the end */
	lookup_clear(&l);

	lookup_init(&l, LOOKUP_PTR, "1.2.0.192.in-addr.arpa");
	r = add_wire(&l, "\x04host\x07" "example\x00", 14, 0);
	CHECK_STR(r ? (char *)r->data : NULL, "host.example");
	add_wire(&l, "\x04host", 5, -1);
	lookup_clear(&l);

	lookup_init(&l, LOOKUP_CNAME, "alias.example");
	r = add_wire(&l, "\x06target\x07" "example\x00", 16, 0);
	CHECK_STR(r ? (char *)r->data : NULL, "target.example");
	lookup_clear(&l);

	lookup_init(&l, LOOKUP_TXT, "example.org");
	r = add_wire(&l, "\x07v=spf1 \x04-all", 13, 0);		/* strings joined */
	CHECK(r && r->len == 11 && memcmp(r->data, "v=spf1 -all", 11) == 0);
	CHECK(r && r->data[11] == '\0');
	r = add_wire(&l, "\x00", 1, 0);				/* one empty string */
	CHECK(r && r->len == 0);
	r = add_wire(&l, "\x03" "a\0b", 4, 0);			/* NUL is data */
	CHECK(r && r->len == 3 && r->data[1] == 0);
	add_wire(&l, "", 0, -1);					/* no string at all */
	add_wire(&l, "\x05" "ab", 3, -1);				/* string past the end */
	add_wire(&l, "\x02" "ab\x03" "c", 5, -1);
	lookup_clear(&l);

	lookup_init(&l, LOOKUP_TLSA, "_25._tcp.mx.example");
	r = add_wire(&l, "\x03\x01\x01\xab", 4, 0);			/* raw */
	CHECK(r && r->len == 4 && r->data[3] == 0xab);
	lookup_clear(&l);

	/* records past LOOKUP_RR_MAX are dropped, not an error */
	lookup_init(&l, LOOKUP_A, "many.example");
	for (int i = 0; i < LOOKUP_RR_MAX + 5; i++) {
		uint8_t a[4] = { 192, 0, 2, (uint8_t)i };
		CHECK_INT(lookup_add_wire(&l, a, 4), 0);
	}
	CHECK_INT(l.n, LOOKUP_RR_MAX);
	lookup_clear(&l);
}

T(test_copy_and_names)
{
	struct lookup a, b;
	lookup_init(&a, LOOKUP_TXT, "example.org");
	lookup_add(&a, 0, "one", 3);
	lookup_add(&a, 0, "two", 3);
	a.status = LOOKUP_OK;
	a.ttl = 300;
	lookup_copy(&b, &a);
	lookup_clear(&a);			/* b owns its own records */
	CHECK_INT(b.n, 2);
	CHECK_STR((char *)b.rr[1].data, "two");
	CHECK_INT(b.ttl, 300);
	CHECK_STR(b.name, "example.org");
	lookup_clear(&b);
	CHECK_STR(lookup_type_name(LOOKUP_TXT), "TXT");
	CHECK_STR(lookup_type_name(LOOKUP_AAAA), "AAAA");
	CHECK_STR(lookup_type_name(99), "TYPE99");
	CHECK_STR(lookup_status_name(LOOKUP_NXDOMAIN), "nxdomain");
	CHECK_STR(lookup_status_name(LOOKUP_TEMPFAIL), "tempfail");
}

T(test_set)
{
	struct lookup_set *s = lookup_set_new();
	struct lookup l;
	CHECK(lookup_set_find(s, LOOKUP_A, "x.example") == NULL);
	CHECK_INT(lookup_set_count(s), 0);

	lookup_init(&l, LOOKUP_A, "x.example");
	lookup_add(&l, 0, "\x01\x02\x03\x04", 4);
	lookup_set_put(s, &l);
	lookup_clear(&l);			/* the set took a copy */
	const struct lookup *f = lookup_set_find(s, LOOKUP_A, "x.example");
	CHECK(f != NULL && f->n == 1 && f->rr[0].len == 4 && f->rr[0].data[3] == 4);
	CHECK(lookup_set_find(s, LOOKUP_AAAA, "x.example") == NULL);	/* type is key */
	CHECK(lookup_set_find(s, LOOKUP_A, "y.example") == NULL);

	/* a second answer replaces the first */
	lookup_init(&l, LOOKUP_A, "x.example");
	l.status = LOOKUP_TEMPFAIL;
	l.why = "timeout";
	lookup_set_put(s, &l);
	f = lookup_set_find(s, LOOKUP_A, "x.example");
	CHECK(f != NULL && f->n == 0 && f->status == LOOKUP_TEMPFAIL);
	CHECK_STR(f ? f->why : NULL, "timeout");
	CHECK_INT(lookup_set_count(s), 1);

	/* many entries, all kept apart */
	for (int i = 0; i < 2000; i++) {
		char name[64];
		snprintf(name, sizeof name, "h%d.example", i);
		lookup_init(&l, (uint16_t)(i % 2 ? LOOKUP_TXT : LOOKUP_MX), name);
		lookup_add(&l, (uint16_t)i, name, strlen(name));
		lookup_set_put(s, &l);
		lookup_clear(&l);
	}
	CHECK_INT(lookup_set_count(s), 2001);
	for (int i = 0; i < 2000; i++) {
		char name[64];
		snprintf(name, sizeof name, "h%d.example", i);
		uint16_t t = (uint16_t)(i % 2 ? LOOKUP_TXT : LOOKUP_MX);
		f = lookup_set_find(s, t, name);
		CHECK(f != NULL && f->n == 1 && f->rr[0].pref == i && strcmp((char *)f->rr[0].data,
		    name) == 0);
		CHECK(lookup_set_find(s, t == LOOKUP_TXT ? LOOKUP_MX : LOOKUP_TXT, name) == NULL);
	}
	lookup_set_free(&s);
	CHECK(s == NULL);
	lookup_set_free(&s);			/* NULL is fine */
}

int
main(void)
{
	RUN(test_name_norm);
	RUN(test_name_wire);
	RUN(test_add_wire);
	RUN(test_copy_and_names);
	RUN(test_set);
	return t_done("lookup");
}

/*
 * tests/unit/test_dkim.c - msgauth/dkim*.c: tag lists, signature and key
 * records, canonicalisation (RFC 6376 3.4.5), verification of published
 * vectors (RFC 8463 A.3, stalwart mail-auth 001-006, dkimpy's, messages
 * signed by python3-dkim) with keys given directly, tampering, policy
 * failures (rsa-sha1, 512-bit keys, revoked keys, t=s, x=, l=), and sign
 * then verify round trips.  Data: tests/data/dkim/ (runner starts in the
 * repository root).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "core/util.h"
#include "msgauth/dkim.h"
#include "msgauth/header.h"
#include "t.h"

#define DATA "tests/data/dkim/"

/* RFC 8463 A.2 keys, as published in DNS */
static const char RSA_TXT[] = "v=DKIM1; k=rsa; p="
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qh"
    "dR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+"
    "PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";
static const char ED_TXT[] = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		*len = 0;
		return NULL;
	}
	struct buf b;
	buf_init(&b, 0);
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	buf_cstr(&b);
	*len = b.len;
	return (char *)b.data;
}

/* Keys by TXT name for one verification. */
struct keys {
	size_t n;
	char name[8][LOOKUP_NAME_MAX + 1];
	char txt[8][1024];
};

static void
keys_add(struct keys *k, const char *name, const char *txt)
{
	if (k->n == 8)
		return;
	str_copy(k->name[k->n], sizeof k->name[0], name);
	str_copy(k->txt[k->n], sizeof k->txt[0], txt);
	k->n++;
}

/* Verify msg with the header and the body fed in pieces of `piece` bytes
 * (0: whole); results copied into out (at most max). */
static size_t
verify(const char *msg, size_t len, size_t piece, time_t now, const struct keys *k,
    struct dkim_result *out, size_t max)
{
	struct mhdrs h;
	struct dkim_verify *v = dkim_verify_new(now);
	mhdrs_init(&h, 0);
	size_t off = 0;
	bool header = true;
	while (off < len || header) {
		size_t n = piece == 0 || len - off < piece ? len - off : piece;
		const uint8_t *p = (const uint8_t *)msg + off;
		off += n;
		if (header) {
			size_t t = mhdrs_feed(&h, p, n);
			if (!h.done && off == len)
				mhdrs_end(&h);
			if (!h.done)
				continue;
			header = false;
			dkim_verify_header(v, &h);
			p += t;
			n -= t;
		}
		dkim_verify_body(v, p, n);
		if (off == len)
			break;
	}
	dkim_verify_finish(v);
	size_t cnt = dkim_verify_count(v);
	for (size_t i = 0; i < cnt; i++) {
		const char *name = dkim_verify_key_name(v, i);
		for (size_t j = 0; name != NULL && k != NULL && j < k->n; j++)
			if (strcmp(k->name[j], name) == 0)
				dkim_verify_pkey_record(v, i, (const uint8_t *)k->txt[j],
				    strlen(k->txt[j]));
		if (i < max)
			out[i] = *dkim_verify_result(v, i);
	}
	dkim_verify_free(&v);
	mhdrs_free(&h);
	return cnt;
}

/* --- tag lists ---------------------------------------------------------- */

static int
tags(const char *s, struct dkim_tag *t, size_t *n, const char **why)
{
	return dkim_tags_parse(s, strlen(s), t, DKIM_TAGS_MAX, n, why);
}

T(test_tags)
{
	struct dkim_tag t[DKIM_TAGS_MAX];
	size_t n;
	const char *why = NULL;
	CHECK_INT(tags(" v = 1 ;\r\n\ta=rsa-sha256 ; b=ab\r\n cd ;", t, &n, &why), 0);
	CHECK_INT(n, 3);
	CHECK(t[0].name_len == 1 && t[0].val_len == 1 && t[0].val[0] == '1');
	CHECK(t[1].val_len == 10 && memcmp(t[1].val, "rsa-sha256", 10) == 0);
	CHECK_INT(t[2].val_len, 7);	/* inner folding kept */
	const struct dkim_tag *b = dkim_tag_find(t, n, "b");
	CHECK(b != NULL && *b->eq == 'a' && *b->end == ';');
	CHECK(dkim_tag_find(t, n, "B") == NULL);	/* names are case sensitive */
	/* empty values, no trailing ';', an empty list */
	CHECK_INT(tags("a=; b=", t, &n, &why), 0);
	CHECK(n == 2 && t[0].val_len == 0 && t[1].val_len == 0);
	CHECK_INT(tags("", t, &n, &why), 0);
	CHECK_INT(n, 0);
	CHECK_INT(tags("x_1=y", t, &n, &why), 0);
	/* errors */
	CHECK_INT(tags("a=1; a=2", t, &n, &why), -1);
	CHECK_STR(why, "a tag appears twice");
	CHECK_INT(tags("a=1;;b=2", t, &n, &why), -1);
	CHECK_STR(why, "bad tag name");
	CHECK_INT(tags("1a=x", t, &n, &why), -1);
	CHECK_INT(tags("a", t, &n, &why), -1);
	CHECK_STR(why, "missing '=' after a tag name");
	CHECK_INT(tags("a b=1", t, &n, &why), -1);
	CHECK_INT(dkim_tags_parse("a=x\0y", 5, t, DKIM_TAGS_MAX, &n, &why), -1);
	CHECK_STR(why, "bad character in a tag value");
	CHECK_INT(dkim_tags_parse("a=1;b=2;c=3", 11, t, 2, &n, &why), -1);
	CHECK_STR(why, "too many tags");
}

T(test_base64)
{
	uint8_t out[16];
	size_t n;
	CHECK_INT(dkim_b64_decode("aGVs bG8=", 9, out, sizeof out, &n), 0);
	CHECK(n == 5 && memcmp(out, "hello", 5) == 0);
	CHECK_INT(dkim_b64_decode("aGVsbG8", 7, out, sizeof out, &n), 0);	/* no padding */
	CHECK_INT(dkim_b64_decode("aGVsbG8=x", 9, out, sizeof out, &n), -1);
	CHECK_INT(dkim_b64_decode("a", 1, out, sizeof out, &n), -1);
	CHECK_INT(dkim_b64_decode("aGVsbG8==", 9, out, sizeof out, &n), -1);
	CHECK_INT(dkim_b64_decode("a*==", 4, out, sizeof out, &n), -1);
	CHECK_INT(dkim_b64_decode("aGVsbG8=", 8, out, 4, &n), -1);
}

/* --- signature and key records ------------------------------------------ */

#define SIG_OK "v=1; a=rsa-sha256; d=example.com; s=sel; h=From:To; " \
	"bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA"

static const char *
sig_err(const char *s)
{
	struct dkim_sig *sig = xmalloc(sizeof *sig);
	const char *why = "(ok)";
	if (dkim_sig_parse(sig, s, strlen(s), &why) == 0)
		why = "(ok)";
	free(sig);
	return why;
}

T(test_sig_parse)
{
	struct dkim_sig *sig = xmalloc(sizeof *sig);
	const char *why;
	const char *s = SIG_OK "; c=relaxed; i=joe@sub.example.com; l=10; t=5; x=6; q=dns/txt";
	CHECK_INT(dkim_sig_parse(sig, s, strlen(s), &why), 0);
	CHECK_STR(sig->d, "example.com");
	CHECK_STR(sig->s, "sel");
	CHECK_STR(sig->i, "joe@sub.example.com");
	CHECK_STR(sig->b8, "AAAA");
	CHECK_INT(sig->hcanon, DKIM_RELAXED);
	CHECK_INT(sig->bcanon, DKIM_SIMPLE);
	CHECK(sig->has_l && sig->l == 10 && sig->t == 5 && sig->x == 6);
	CHECK_INT(sig->n_h, 2);
	CHECK_INT(sig->bh_len, 32);
	CHECK_INT(dkim_sig_parse(sig, SIG_OK, strlen(SIG_OK), &why), 0);
	CHECK_STR(sig->i, "@example.com");	/* default i= */
	CHECK_INT(sig->hcanon, DKIM_SIMPLE);
	free(sig);

	CHECK_STR(sig_err(SIG_OK), "(ok)");
	CHECK_STR(sig_err("v=1; a=rsa-sha256; d=example.com; s=sel; h=From; b=AAAA"),
	    "a required tag (v a b bh d h s) is missing");
	CHECK_STR(sig_err(SIG_OK "; v=2"), "a tag appears twice");
	CHECK_STR(sig_err("v=2; a=rsa-sha256; d=e.com; s=s; h=from; bh=AAAA; b=AAAA"),
	    "v= is not 1");
	CHECK_STR(sig_err("v=1; a=rsa-md5; d=e.com; s=s; h=from; bh=AAAA; b=AAAA"),
	    "unknown algorithm (a=)");
	CHECK_STR(sig_err("v=1; a=rsa-sha256; d=e.com; s=s; h=to:subject; "
	    "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA"),
	    "h= does not list From (RFC 6376 5.4)");
	CHECK_STR(sig_err("v=1; a=rsa-sha256; d=e.com; s=s; h=from::to; "
	    "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA"),
	    "h= is empty, has an empty name or too many names");
	CHECK_STR(sig_err(SIG_OK "; i=joe@example.org"), "i= is not within d=");
	CHECK_STR(sig_err(SIG_OK "; i=joe@badexample.com"), "i= is not within d=");
	CHECK_STR(sig_err(SIG_OK "; i=joe"), "i= is not within d=");
	CHECK_STR(sig_err(SIG_OK "; t=10; x=10"), "x= is not after t=");
	CHECK_STR(sig_err(SIG_OK "; x=abc"), "x= is not a number");
	CHECK_STR(sig_err(SIG_OK "; t=99999999999999999999999"), "t= is not a number");
	CHECK_STR(sig_err(SIG_OK "; l=-1"), "l= is not a number");
	CHECK_STR(sig_err(SIG_OK "; c=fancy"), "unknown canonicalization (c=)");
	CHECK_STR(sig_err(SIG_OK "; c=relaxed/fancy"), "unknown canonicalization (c=)");
	CHECK_STR(sig_err(SIG_OK "; q=http/well-known"), "q= does not offer dns/txt");
	CHECK_STR(sig_err("v=1; a=rsa-sha256; d=e.com; s=s; h=from; bh=AAAA; b=AAAA"),
	    "bh= has the wrong length for a=");
	CHECK_STR(sig_err("v=1; a=rsa-sha256; d=e.com; s=s; h=from; bh=!!; b=AAAA"),
	    "bh= is not base64");
	CHECK_STR(sig_err("v=1; a=rsa-sha256; d=e.com; s=s; h=from; "
	    "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b="), "b= is not base64");
	CHECK_STR(sig_err("v=1; a=rsa-sha256; d=e x.com; s=s; h=from; "
	    "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA"),
	    "d= or s= is empty or malformed");
	/* a huge l= saturates rather than failing to parse */
	CHECK_STR(sig_err(SIG_OK "; l=99999999999999999999999999"), "(ok)");
}

static const char *
key_err(const char *s, struct dkim_key *k)
{
	const char *why = "(ok)";
	if (dkim_key_parse(k, (const uint8_t *)s, strlen(s), &why) == 0)
		why = "(ok)";
	return why;
}

T(test_key_parse)
{
	struct dkim_key *k = xmalloc(sizeof *k);
	const char *why;
	CHECK_STR(key_err(RSA_TXT, k), "(ok)");
	CHECK(k->k == DKIM_K_RSA && !k->revoked && k->sha256_ok && k->email_ok);
	EVP_PKEY *pk = dkim_key_pkey(k, &why);
	CHECK(pk != NULL && EVP_PKEY_get_bits(pk) == 1024);
	EVP_PKEY_free(pk);
	CHECK_STR(key_err(ED_TXT, k), "(ok)");
	CHECK(k->k == DKIM_K_ED25519 && k->p_len == 32);
	pk = dkim_key_pkey(k, &why);
	CHECK(pk != NULL);
	EVP_PKEY_free(pk);
	CHECK_STR(key_err("v=DKIM1; p=", k), "(ok)");
	CHECK(k->revoked);
	CHECK_STR(key_err("p=AAAA; t=y:s; h=sha1:sha256; s=email", k), "(ok)");
	CHECK(k->testing && k->strict && k->sha256_ok && k->email_ok);
	CHECK_STR(key_err("p=AAAA; h=sha1; s=*", k), "(ok)");
	CHECK(!k->sha256_ok && k->email_ok);
	CHECK_STR(key_err("p=AAAA; s=other; t=x", k), "(ok)");
	CHECK(!k->email_ok && !k->testing);
	CHECK_STR(key_err("p=AAAA; unknown=tag; n=notes here", k), "(ok)");
	CHECK_STR(key_err("k=rsa; v=DKIM1; p=AAAA", k), "v= is not the first tag");
	CHECK_STR(key_err("v=DKIM2; p=AAAA", k), "v= is not DKIM1");
	CHECK_STR(key_err("v=DKIM1; k=dsa; p=AAAA", k), "unknown key type (k=)");
	CHECK_STR(key_err("v=DKIM1; k=rsa", k), "no p= tag");
	CHECK_STR(key_err("v=DKIM1; p=A", k), "p= is not base64");
	CHECK_STR(key_err("v=DKIM1; p=AAAA; p=AAAA", k), "a tag appears twice");
	CHECK_INT(dkim_key_parse(k, (const uint8_t *)"p=AA\0A", 6, &why), -1);
	/* keys that parse but are not keys */
	CHECK_STR(key_err("k=ed25519; p=AAAA", k), "(ok)");
	CHECK(dkim_key_pkey(k, &why) == NULL);
	CHECK_STR(key_err("k=rsa; p=AAAA", k), "(ok)");
	CHECK(dkim_key_pkey(k, &why) == NULL);
	free(k);
	/* a bare RSAPublicKey (dkimpy's *.pub.rsa.txt style) is accepted */
	size_t len;
	char *txt = slurp(DATA "dkimpy/1024_testkey_wo_markers.pub.rsa.txt", &len);
	CHECK(txt != NULL);
	if (txt != NULL) {
		struct dkim_key *k2 = xmalloc(sizeof *k2);
		char *rec = xstrdup(txt);	/* "v=DKIM1; g=*; k=rsa; p=MIGJ..." */
		CHECK_STR(key_err(rec, k2), "(ok)");
		pk = dkim_key_pkey(k2, &why);
		CHECK(pk != NULL);
		EVP_PKEY_free(pk);
		free(rec);
		free(k2);
	}
	free(txt);
}

/* --- canonicalisation ---------------------------------------------------- */

static void
collect_emit(void *arg, const uint8_t *p, size_t n)
{
	buf_append(arg, p, n);
}

/* The body through the canonicaliser, in pieces of `piece` bytes. */
static char *
canon_body(enum dkim_canon c, const char *s, size_t piece, bool has_l, uint64_t l,
    uint64_t *total)
{
	static struct buf out;
	struct dkim_body *b = xmalloc(sizeof *b);
	buf_free(&out);
	buf_init(&out, 0);
	dkim_body_init(b, c, has_l, l, collect_emit, &out);
	size_t len = strlen(s);
	for (size_t off = 0; off < len;) {
		size_t n = piece == 0 || len - off < piece ? len - off : piece;
		dkim_body_feed(b, (const uint8_t *)s + off, n);
		off += n;
	}
	dkim_body_finish(b);
	if (total)
		*total = b->total;
	free(b);
	buf_cstr(&out);
	return out.data ? (char *)out.data : "";
}

static char *
canon_field(enum dkim_canon c, const char *f, size_t name_len)
{
	static struct buf out;
	buf_free(&out);
	buf_init(&out, 0);
	dkim_canon_header(c, (const uint8_t *)f, strlen(f), name_len, true, &out);
	buf_cstr(&out);
	return (char *)out.data;
}

T(test_canon_rfc6376_3_4_5)
{
	/* RFC 6376 3.4.5, exactly */
	CHECK_STR(canon_field(DKIM_RELAXED, "A: X\r\n", 1), "a:X\r\n");
	CHECK_STR(canon_field(DKIM_RELAXED, "B : Y\t\r\n\tZ  \r\n", 1), "b:Y Z\r\n");
	CHECK_STR(canon_field(DKIM_SIMPLE, "A: X\r\n", 1), "A: X\r\n");
	CHECK_STR(canon_field(DKIM_SIMPLE, "B : Y\t\r\n\tZ  \r\n", 1), "B : Y\t\r\n\tZ  \r\n");
	const char *body = " C \r\nD \t E\r\n\r\n\r\n";
	for (size_t piece = 0; piece < 4; piece++) {
		CHECK_STR(canon_body(DKIM_RELAXED, body, piece, false, 0, NULL), " C\r\nD E\r\n");
		CHECK_STR(canon_body(DKIM_SIMPLE, body, piece, false, 0, NULL),
		    " C \r\nD \t E\r\n");
	}
}

T(test_canon_more)
{
	/* LF input gives CRLF output */
	CHECK_STR(canon_field(DKIM_SIMPLE, "B : Y\n\tZ\n", 1), "B : Y\r\n\tZ\r\n");
	CHECK_STR(canon_field(DKIM_RELAXED, "SUBJECT:\n  hello  \n", 7), "subject:hello\r\n");
	CHECK_STR(canon_body(DKIM_SIMPLE, "a\nb\n\n", 1, false, 0, NULL), "a\r\nb\r\n");
	CHECK_STR(canon_body(DKIM_RELAXED, "a  \t\nb", 1, false, 0, NULL), "a\r\nb\r\n");
	/* empty bodies: simple is one CRLF, relaxed nothing */
	CHECK_STR(canon_body(DKIM_SIMPLE, "", 0, false, 0, NULL), "\r\n");
	CHECK_STR(canon_body(DKIM_SIMPLE, "\r\n\r\n", 1, false, 0, NULL), "\r\n");
	CHECK_STR(canon_body(DKIM_RELAXED, "", 0, false, 0, NULL), "");
	CHECK_STR(canon_body(DKIM_RELAXED, " \r\n\t\r\n", 1, false, 0, NULL), "");
	/* a lone CR is data; empty lines inside the body stay */
	CHECK_STR(canon_body(DKIM_SIMPLE, "a\rb\r\n\r\nc", 1, false, 0, NULL),
	    "a\rb\r\n\r\nc\r\n");
	CHECK_STR(canon_body(DKIM_SIMPLE, "a\r", 1, false, 0, NULL), "a\r\r\n");
	/* leading WSP becomes one SP in relaxed */
	CHECK_STR(canon_body(DKIM_RELAXED, "\t\t x\r\n", 2, false, 0, NULL), " x\r\n");
	/* l= cuts the output, the total counts everything */
	uint64_t total;
	CHECK_STR(canon_body(DKIM_SIMPLE, "abc\r\ndef\r\n", 1, true, 4, &total), "abc\r");
	CHECK_INT(total, 10);
}

/* --- verification of published vectors ---------------------------------- */

/* A stalwart vector: "NAME TXT" lines, an empty line, the message (LF).
 * Returns the message, keys filled. */
static char *
stalwart(const char *file, struct keys *k, size_t *mlen)
{
	size_t len;
	char *all = slurp(file, &len);
	memset(k, 0, sizeof *k);
	if (all == NULL)
		return NULL;
	char *p = all;
	while (*p != '\n' && *p != '\0') {
		char *nl = strchr(p, '\n');
		char *sp = strchr(p, ' ');
		if (nl == NULL || sp == NULL || sp > nl)
			break;
		*sp = *nl = '\0';
		keys_add(k, p, sp + 1);
		p = nl + 1;
	}
	if (*p == '\n')
		p++;
	char *msg = xstrdup(p);
	*mlen = strlen(msg);
	free(all);
	return msg;
}

/* LF -> CRLF */
static char *
to_crlf(const char *s, size_t *len)
{
	struct buf b;
	buf_init(&b, 0);
	for (; *s; s++) {
		if (*s == '\n')
			buf_putc(&b, '\r');
		buf_putc(&b, (uint8_t)*s);
	}
	buf_cstr(&b);
	*len = b.len;
	return (char *)b.data;
}

static void
expect_all(const char *msg, size_t len, time_t now, const struct keys *k, size_t want_n,
    enum dkim_res want, const char *what)
{
	static const size_t pieces[] = { 0, 1, 7, 100 };
	for (size_t p = 0; p < NELEM(pieces); p++) {
		struct dkim_result r[DKIM_RESULTS_MAX];
		size_t n = verify(msg, len, pieces[p], now, k, r, NELEM(r));
		if (n != want_n)
			fprintf(stderr, "%s: %zu signatures\n", what, n);
		CHECK_INT(n, want_n);
		for (size_t i = 0; i < n && i < NELEM(r); i++) {
			if (r[i].res != want)
				fprintf(stderr, "%s piece %zu sig %zu: %s (%s)\n", what,
				    pieces[p], i, dkim_res_name(r[i].res), r[i].why);
			CHECK_INT(r[i].res, want);
		}
	}
}

T(test_stalwart_vectors)
{
	static const struct { const char *f; size_t n; time_t now; } v[] = {
		{ "001.txt", 2, 0 }, { "002.txt", 1, 0 }, { "003.txt", 2, 0 },
		{ "004.txt", 1, 0 }, { "005.txt", 1, 1667843664 }, { "006.txt", 1, 0 },
	};
	for (size_t i = 0; i < NELEM(v); i++) {
		char path[256];
		struct keys k;
		size_t len, clen;
		snprintf(path, sizeof path, DATA "stalwart-mail-auth/dkim/%s", v[i].f);
		char *msg = stalwart(path, &k, &len);
		CHECK(msg != NULL);
		if (msg == NULL)
			continue;
		time_t now = v[i].now ? v[i].now : time(NULL);
		char *crlf = to_crlf(msg, &clen);
		expect_all(crlf, clen, now, &k, v[i].n, DKIM_PASS, v[i].f);
		/* LF as the smtp worker hands it over: the same */
		expect_all(msg, len, now, &k, v[i].n, DKIM_PASS, v[i].f);
		free(crlf);
		free(msg);
	}
	/* 005 at today's date is correctly expired */
	struct keys k;
	size_t len;
	char *msg = stalwart(DATA "stalwart-mail-auth/dkim/005.txt", &k, &len);
	struct dkim_result r[1];
	CHECK_INT(verify(msg, len, 0, time(NULL), &k, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_PERMERROR);
	CHECK_STR(r[0].why, "expired");
	free(msg);
}

T(test_rfc8463_example)
{
	struct keys k = { 0 };
	keys_add(&k, "brisbane._domainkey.football.example.com", ED_TXT);
	keys_add(&k, "test._domainkey.football.example.com", RSA_TXT);
	struct dkim_result r[2];
	size_t len, clen;
	/* A.3 (relaxed/relaxed), from stalwart 001 */
	struct keys k2;
	char *msg = stalwart(DATA "stalwart-mail-auth/dkim/001.txt", &k2, &len);
	char *crlf = to_crlf(msg, &clen);
	CHECK_INT(verify(crlf, clen, 0, time(NULL), &k, r, 2), 2);
	CHECK_INT(r[0].res, DKIM_PASS);
	CHECK_INT(r[1].res, DKIM_PASS);
	CHECK_STR(r[0].algo, "ed25519-sha256");
	CHECK_STR(r[0].domain, "football.example.com");
	CHECK_STR(r[0].selector, "brisbane");
	CHECK_STR(r[0].auid, "@football.example.com");
	CHECK_STR(r[0].b, "/gCrinpc");
	CHECK_STR(r[1].b, "F45dVWDf");
	CHECK_STR(r[0].why, "signature verified");
	free(crlf);
	free(msg);
	/* dkimpy's simple/simple signatures of the same message */
	msg = slurp(DATA "dkimpy/rfc6376.signed.msg", &len);
	expect_all(msg, len, time(NULL), &k, 2, DKIM_PASS, "rfc6376.signed.msg");
	free(msg);
	msg = slurp(DATA "dkimpy/rfc6376.signed.rsa.msg", &len);
	expect_all(msg, len, time(NULL), &k, 1, DKIM_PASS, "rfc6376.signed.rsa.msg");
	free(msg);
}

T(test_python_signed)
{
	struct keys k = { 0 };
	keys_add(&k, "brisbane._domainkey.football.example.com", ED_TXT);
	keys_add(&k, "test._domainkey.football.example.com", RSA_TXT);
	static const char *const files[] = { "rsa-simple.eml", "rsa-relaxed.eml",
		"ed25519-simple.eml", "ed25519-relaxed.eml" };
	for (size_t i = 0; i < NELEM(files); i++) {
		char path[256];
		size_t len;
		snprintf(path, sizeof path, DATA "pysigned/%s", files[i]);
		char *msg = slurp(path, &len);
		CHECK(msg != NULL);
		if (msg == NULL)
			continue;
		expect_all(msg, len, time(NULL), &k, 1, DKIM_PASS, files[i]);
		/* trailing empty lines: both canonicalisations ignore them */
		char *more = xasprintf("%s\r\n\r\n\r\n", msg);
		expect_all(more, strlen(more), time(NULL), &k, 1, DKIM_PASS, files[i]);
		free(more);
		/* a word added to the body breaks it */
		more = xasprintf("%sP.S.\r\n", msg);
		expect_all(more, strlen(more), time(NULL), &k, 1, DKIM_FAIL, files[i]);
		free(more);
		free(msg);
	}
}

/* Copy of s with the first `from` replaced by `to`. */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	if (at == NULL)
		return xstrdup(s);
	return xasprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

T(test_tampered)
{
	struct keys k = { 0 };
	keys_add(&k, "brisbane._domainkey.football.example.com", ED_TXT);
	keys_add(&k, "test._domainkey.football.example.com", RSA_TXT);
	size_t len;
	char *msg = slurp(DATA "dkimpy/rfc6376.signed.msg", &len);
	struct dkim_result r[2];
	/* one header byte */
	char *t = replace(msg, "Is dinner ready?", "Is dinner ready!");
	CHECK_INT(verify(t, strlen(t), 0, time(NULL), &k, r, 2), 2);
	CHECK(r[0].res == DKIM_FAIL && r[1].res == DKIM_FAIL);
	CHECK_STR(r[0].why, "signature did not verify");
	free(t);
	/* one body byte */
	t = replace(msg, "hungry", "Hungry");
	CHECK_INT(verify(t, strlen(t), 0, time(NULL), &k, r, 2), 2);
	CHECK(r[0].res == DKIM_FAIL && r[1].res == DKIM_FAIL);
	CHECK_STR(r[1].why, "body hash mismatch");
	free(t);
	/* a second Subject (h= lists it twice: its absence was signed) */
	t = replace(msg, "\n\nHi.", "\nSubject: Free money\n\nHi.");
	CHECK_INT(verify(t, strlen(t), 0, time(NULL), &k, r, 2), 2);
	CHECK(r[0].res == DKIM_FAIL && r[1].res == DKIM_FAIL);
	free(t);
	/* a second From on top: not selected (bottom-up), but From is
	 * over-signed, so the extra one is seen */
	t = xasprintf("From: Mallory <m@evil.example>\n%s", msg);
	CHECK_INT(verify(t, strlen(t), 0, time(NULL), &k, r, 2), 2);
	CHECK(r[0].res == DKIM_FAIL && r[1].res == DKIM_FAIL);
	free(t);
	/* an unsigned field added: still passes */
	t = replace(msg, "\n\nHi.", "\nX-Spam: no\n\nHi.");
	CHECK_INT(verify(t, strlen(t), 0, time(NULL), &k, r, 2), 2);
	CHECK(r[0].res == DKIM_PASS && r[1].res == DKIM_PASS);
	free(t);
	free(msg);
}

T(test_key_lookup_outcomes)
{
	size_t len;
	char *msg = slurp(DATA "dkimpy/rfc6376.signed.rsa.msg", &len);
	struct mhdrs h;
	mhdrs_init(&h, 0);
	size_t hl = mhdrs_feed(&h, (const uint8_t *)msg, len);
	static const struct { enum lookup_status st; int nrec; const char *txt;
		enum dkim_res res; const char *why; } c[] = {
		{ LOOKUP_TEMPFAIL, 0, NULL, DKIM_TEMPERROR, "key lookup: timeout" },
		{ LOOKUP_NXDOMAIN, 0, NULL, DKIM_PERMERROR, "no key record" },
		{ LOOKUP_OK, 0, NULL, DKIM_PERMERROR, "no key record" },
		{ LOOKUP_OK, 1, "v=DKIM1; p=", DKIM_PERMERROR, "key revoked" },
		{ LOOKUP_OK, 1, "v=spf1 -all", DKIM_PERMERROR, "key record: v= is not DKIM1" },
		{ LOOKUP_OK, 1, "k=rsa", DKIM_PERMERROR, "key record: no p= tag" },
		{ LOOKUP_OK, 1, ED_TXT, DKIM_PERMERROR,
		  "key type ed25519 does not match a=rsa-sha256" },
		{ LOOKUP_OK, 1, "v=DKIM1; h=sha1; p=AAAA", DKIM_PERMERROR,
		  "key h= does not allow sha256" },
		{ LOOKUP_OK, 1, "v=DKIM1; s=other; p=AAAA", DKIM_PERMERROR,
		  "key not for email (s=)" },
		{ LOOKUP_OK, 2, RSA_TXT, DKIM_PASS, "signature verified" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct dkim_verify *v = dkim_verify_new(time(NULL));
		dkim_verify_header(v, &h);
		dkim_verify_body(v, (const uint8_t *)msg + hl, len - hl);
		dkim_verify_finish(v);
		CHECK_INT(dkim_verify_count(v), 1);
		const char *name = dkim_verify_key_name(v, 0);
		CHECK_STR(name, "test._domainkey.football.example.com");
		struct lookup *l = xcalloc(1, sizeof *l);
		lookup_init(l, LOOKUP_TXT, name);
		l->status = c[i].st;
		l->why = "timeout";
		if (c[i].nrec == 2)	/* a junk record before the key */
			lookup_add(l, 0, "google-site-verification=x", 26);
		if (c[i].nrec > 0)
			lookup_add(l, 0, c[i].txt, strlen(c[i].txt));
		dkim_verify_key(v, 0, l);
		CHECK_INT(dkim_verify_result(v, 0)->res, c[i].res);
		CHECK_STR(dkim_verify_result(v, 0)->why, c[i].why);
		CHECK(dkim_verify_key_name(v, 0) == NULL);
		lookup_clear(l);
		free(l);
		dkim_verify_free(&v);
	}
	mhdrs_free(&h);
	free(msg);
}

/* --- signing -------------------------------------------------------------- */

static EVP_PKEY *
keygen(const char *type, size_t bits)
{
	if (strcmp(type, "RSA") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

static char *
txt_of(EVP_PKEY *k)
{
	struct buf b;
	buf_init(&b, 0);
	CHECK_INT(dkim_key_txt(k, &b), 0);
	buf_cstr(&b);
	return (char *)b.data;
}

/* sig fields + msg */
static char *
sign_msg(const struct dkim_signer *s, size_t n, const char *msg, time_t now, const char *eol)
{
	struct buf out;
	char err[200] = "";
	buf_init(&out, 0);
	int rc = dkim_sign(s, n, (const uint8_t *)msg, strlen(msg), now, eol, &out, err,
	    sizeof err);
	if (rc != 0)
		fprintf(stderr, "dkim_sign: %s\n", err);
	CHECK_INT(rc, 0);
	buf_puts(&out, msg);
	buf_cstr(&out);
	return (char *)out.data;
}

static const char *const round_msgs[] = {
	"From: Joe <joe@example.com>\nTo: a@example.org,\n\tb@example.org\n"
	"Subject:  folded\n   subject  line \nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
	"Message-ID: <1@example.com>\nX-Other: not signed\n\nHello  \n\tworld\n\n\n",
	"From: Joe <joe@example.com>\r\nTo: a@example.org\r\nSubject: crlf\r\n"
	"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xc3\xa9 \xe2\x82\xac \xff\xfe\r\n\r\n",
	"From: a@example.com\n\n",
	"From: a@example.com\nSubject: no body",
	"From: a@example.com\nFrom: b@example.com\nCc: c@example.com\n\nTwo From fields\n",
};

T(test_sign_verify_roundtrip)
{
	EVP_PKEY *rsa = keygen("RSA", 2048), *ed = keygen("ED25519", 0);
	char *rtxt = txt_of(rsa), *etxt = txt_of(ed);
	struct keys k = { 0 };
	keys_add(&k, "rsa._domainkey.example.com", rtxt);
	keys_add(&k, "ed._domainkey.example.com", etxt);
	struct dkim_signer s[2] = {
		{ .domain = "example.com", .selector = "rsa", .key = rsa },
		{ .domain = "Example.COM", .selector = "ed", .key = ed },
	};
	time_t now = time(NULL);
	for (size_t m = 0; m < NELEM(round_msgs); m++) {
		const char *eol = strstr(round_msgs[m], "\r\n") ? "\r\n" : "\n";
		char *signed_ = sign_msg(s, 2, round_msgs[m], now, eol);
		char what[32];
		snprintf(what, sizeof what, "roundtrip %zu", m);
		expect_all(signed_, strlen(signed_), now, &k, 2, DKIM_PASS, what);
		/* every line of the new fields ends in eol, and no line is long */
		const char *end = strstr(signed_, "\nFrom:");
		for (const char *p = signed_; end && p < end;) {
			const char *nl = strchr(p, '\n');
			CHECK(nl - p <= 78);
			CHECK(strcmp(eol, "\r\n") != 0 || nl[-1] == '\r');
			p = nl + 1;
		}
		/* CRLF signed, LF verified (and back): line ends do not matter */
		size_t clen;
		char *crlf = to_crlf(signed_, &clen);
		if (strcmp(eol, "\n") == 0)
			expect_all(crlf, clen, now, &k, 2, DKIM_PASS, what);
		free(crlf);
		/* From is sealed: one more From anywhere breaks every signature */
		char *t = replace(signed_, "\nFrom:", "\nFrom: evil@example.net\nFrom:");
		expect_all(t, strlen(t), now, &k, 2, DKIM_FAIL, what);
		free(t);
		t = replace(signed_, "From: a", "From: A");
		if (strcmp(t, signed_) == 0)
			free(t), t = replace(signed_, "From: Joe", "From: Jon");
		expect_all(t, strlen(t), now, &k, 2, DKIM_FAIL, what);
		free(t);
		free(signed_);
	}
	free(rtxt);
	free(etxt);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
}

T(test_sign_errors)
{
	EVP_PKEY *ed = keygen("ED25519", 0), *small = keygen("RSA", 512);
	struct dkim_signer s = { .domain = "example.com", .selector = "ed", .key = ed };
	struct buf out;
	char err[200];
	buf_init(&out, 0);
	const char *m = "To: x\n\nno from\n";
	CHECK_INT(dkim_sign(&s, 1, (const uint8_t *)m, strlen(m), 0, "\n", &out, err, sizeof err),
	    -1);
	CHECK(strstr(err, "no From") != NULL);
	m = "From: x\nbroken line\n\n";
	CHECK_INT(dkim_sign(&s, 1, (const uint8_t *)m, strlen(m), 0, "\n", &out, err, sizeof err),
	    -1);
	m = "From: x\n\n";
	s.selector = "bad;sel";
	CHECK_INT(dkim_sign(&s, 1, (const uint8_t *)m, strlen(m), 0, "\n", &out, err, sizeof err),
	    -1);
	s.selector = "ed";
	s.auid = "joe@example.org";
	CHECK_INT(dkim_sign(&s, 1, (const uint8_t *)m, strlen(m), 0, "\n", &out, err, sizeof err),
	    -1);
	s.auid = NULL;
	s.key = small;
	CHECK_INT(dkim_sign(&s, 1, (const uint8_t *)m, strlen(m), 0, "\n", &out, err, sizeof err),
	    -1);
	CHECK_INT(out.len, 0);
	buf_free(&out);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(small);
}

T(test_policy_failures)
{
	EVP_PKEY *rsa = keygen("RSA", 1024), *small = keygen("RSA", 512);
	char *txt = txt_of(rsa), *small_txt = txt_of(small);
	const char *m = "From: joe@example.com\nSubject: x\n\nbody\n";
	time_t now = 1700000000;
	struct dkim_result r[2];
	struct keys k = { 0 };
	keys_add(&k, "s._domainkey.example.com", txt);

	/* a 512-bit key is refused (RFC 8301 3.2) */
	struct dkim_signer s = { .domain = "example.com", .selector = "s", .key = rsa };
	char *sm = sign_msg(&s, 1, m, now, "\n");
	struct keys ks = { 0 };
	keys_add(&ks, "s._domainkey.example.com", small_txt);
	CHECK_INT(verify(sm, strlen(sm), 0, now, &ks, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_PERMERROR);
	CHECK_STR(r[0].why, "RSA key of 512 bits");
	/* the right key: pass; t= far in the future: refused */
	CHECK_INT(verify(sm, strlen(sm), 0, now, &k, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_PASS);
	CHECK_INT(verify(sm, strlen(sm), 0, now - 7200, &k, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_PERMERROR);
	free(sm);

	/* t=s key with an i= subdomain: permerror; i= exactly d=: pass */
	s.auid = "joe@sub.example.com";
	sm = sign_msg(&s, 1, m, now, "\n");
	struct keys kst = { 0 };
	char *strict = xasprintf("%s; t=s", txt);
	keys_add(&kst, "s._domainkey.example.com", strict);
	CHECK_INT(verify(sm, strlen(sm), 0, now, &k, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_PASS);
	CHECK_STR(r[0].auid, "joe@sub.example.com");
	CHECK_INT(verify(sm, strlen(sm), 0, now, &kst, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_PERMERROR);
	CHECK_STR(r[0].why, "key t=s forbids an i= subdomain");
	free(sm);
	s.auid = "joe@example.com";
	sm = sign_msg(&s, 1, m, now, "\n");
	CHECK_INT(verify(sm, strlen(sm), 0, now, &kst, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_PASS);
	free(sm);
	free(strict);
	s.auid = NULL;

	/* key t=y: still verified, flagged */
	struct keys kty = { 0 };
	char *testing = xasprintf("%s; t=y", txt);
	keys_add(&kty, "s._domainkey.example.com", testing);
	sm = sign_msg(&s, 1, m, now, "\n");
	CHECK_INT(verify(sm, strlen(sm), 0, now, &kty, r, 1), 1);
	CHECK(r[0].res == DKIM_PASS && r[0].testing);
	free(sm);
	free(testing);

	/* x= expiry */
	s.expire = 100;
	sm = sign_msg(&s, 1, m, now, "\n");
	CHECK_INT(verify(sm, strlen(sm), 0, now + 50, &k, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_PASS);
	CHECK_INT(verify(sm, strlen(sm), 0, now + 101, &k, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_PERMERROR);
	CHECK_STR(r[0].why, "expired");
	free(sm);
	s.expire = 0;

	/* l=: appended body still passes, flagged; a shortened body fails */
	s.body_length = true;
	sm = sign_msg(&s, 1, m, now, "\n");
	CHECK_INT(verify(sm, strlen(sm), 0, now, &k, r, 1), 1);
	CHECK(r[0].res == DKIM_PASS && !r[0].body_limited);
	char *more = xasprintf("%sappended by a list\n", sm);
	CHECK_INT(verify(more, strlen(more), 0, now, &k, r, 1), 1);
	CHECK(r[0].res == DKIM_PASS && r[0].body_limited);
	free(more);
	more = replace(sm, "body\n", "bod\n");
	CHECK_INT(verify(more, strlen(more), 0, now, &k, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_FAIL);
	free(more);
	more = replace(sm, "body\n", "");
	CHECK_INT(verify(more, strlen(more), 0, now, &k, r, 1), 1);
	CHECK_INT(r[0].res, DKIM_FAIL);
	CHECK_STR(r[0].why, "l= is longer than the body");
	free(more);
	free(sm);

	/* rsa-sha1: refused before any key is fetched (RFC 8301 3.1) */
	const char *sha1 = "DKIM-Signature: v=1; a=rsa-sha1; d=example.com; s=s; h=from;\n"
	    " bh=2jmj7l5rSw0yVb/vlWAYkK/YBwk=; b=AAAA\nFrom: joe@example.com\n\nbody\n";
	struct mhdrs h;
	mhdrs_init(&h, 0);
	mhdrs_feed(&h, (const uint8_t *)sha1, strlen(sha1));
	struct dkim_verify *v = dkim_verify_new(now);
	dkim_verify_header(v, &h);
	dkim_verify_finish(v);
	CHECK_INT(dkim_verify_count(v), 1);
	CHECK(dkim_verify_key_name(v, 0) == NULL);
	CHECK_INT(dkim_verify_result(v, 0)->res, DKIM_PERMERROR);
	CHECK_STR(dkim_verify_result(v, 0)->why, "rsa-sha1 not accepted (RFC 8301)");
	CHECK_STR(dkim_verify_result(v, 0)->algo, "rsa-sha1");
	dkim_verify_free(&v);
	mhdrs_free(&h);

	free(txt);
	free(small_txt);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(small);
}

T(test_many_signatures)
{
	EVP_PKEY *ed = keygen("ED25519", 0);
	char *txt = txt_of(ed);
	struct dkim_signer s[20];
	for (size_t i = 0; i < NELEM(s); i++)
		s[i] = (struct dkim_signer){ .domain = "example.com", .selector = "ed", .key = ed };
	struct keys k = { 0 };
	keys_add(&k, "ed._domainkey.example.com", txt);
	char *sm = sign_msg(s, NELEM(s), "From: a@example.com\n\nx\n", 1700000000, "\n");
	struct dkim_result r[DKIM_RESULTS_MAX];
	struct mhdrs h;
	CHECK_INT(verify(sm, strlen(sm), 0, 1700000000, &k, r, NELEM(r)), DKIM_RESULTS_MAX);
	for (size_t i = 0; i < DKIM_RESULTS_MAX; i++)
		CHECK_INT(r[i].res, i < DKIM_VERIFY_MAX ? DKIM_PASS : DKIM_POLICY);
	CHECK(strstr(r[DKIM_VERIFY_MAX].why, "not checked") != NULL);
	mhdrs_init(&h, 0);
	mhdrs_feed(&h, (const uint8_t *)sm, strlen(sm));
	struct dkim_verify *v = dkim_verify_new(1700000000);
	dkim_verify_header(v, &h);
	CHECK_INT(dkim_verify_dropped(v), NELEM(s) - DKIM_RESULTS_MAX);
	dkim_verify_free(&v);
	mhdrs_free(&h);
	free(sm);
	free(txt);
	EVP_PKEY_free(ed);
}

T(test_garbage_signatures)
{
	/* unparsable signatures become permerror with the names kept */
	const char *m = "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; bh=x\n"
	    "DKIM-Signature: garbage\nDKIM-Signature:\nFrom: a\n\nbody\n";
	struct dkim_result r[3];
	CHECK_INT(verify(m, strlen(m), 1, 0, NULL, r, 3), 3);
	for (int i = 0; i < 3; i++)
		CHECK_INT(r[i].res, DKIM_PERMERROR);
	CHECK_STR(r[0].domain, "example.com");
	CHECK_STR(r[0].selector, "sel");
	/* no signature at all */
	CHECK_INT(verify("From: a\n\nb\n", 10, 0, 0, NULL, r, 3), 0);
	CHECK_STR(dkim_res_name(DKIM_TEMPERROR), "temperror");
	CHECK_STR(dkim_res_name(DKIM_NONE), "none");
}

int
main(void)
{
	RUN(test_tags);
	RUN(test_base64);
	RUN(test_sig_parse);
	RUN(test_key_parse);
	RUN(test_canon_rfc6376_3_4_5);
	RUN(test_canon_more);
	RUN(test_stalwart_vectors);
	RUN(test_rfc8463_example);
	RUN(test_python_signed);
	RUN(test_tampered);
	RUN(test_key_lookup_outcomes);
	RUN(test_sign_verify_roundtrip);
	RUN(test_sign_errors);
	RUN(test_policy_failures);
	RUN(test_many_signatures);
	RUN(test_garbage_signatures);
	return t_done("dkim");
}

/*
 * msgauth/dkim.c - DKIM verification (RFC 6376 6, RFC 8463, RFC 8301),
 * streaming: header section, then body bytes, then one key per signature.
 *
 * Input:   a collected header section (msgauth/header.h), body bytes in
 *          pieces, TXT answers (dns/lookup.h) from the caller.
 * Output:  one struct dkim_result per DKIM-Signature field (at most
 *          DKIM_RESULTS_MAX; the first DKIM_VERIFY_MAX are checked).
 * Trusts:  nothing in the message or the records.  Runs in: policy, CLI.
 *          Pure: no DNS, no I/O; the clock is the caller's.
 *
 * Each signature's header hash is computed when the header arrives (so h
 * is not needed afterwards in practice); its body hasher runs until the
 * end; the key may come before or after the end of the body.  A result is
 * final once set ("decided"): the first definite failure wins.
 */
#include "msgauth/dkim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rsa.h>

#include "core/util.h"

#define DKIM_FUTURE_SKEW 3600	/* t= this far ahead of our clock is refused */

struct one {
	struct dkim_result r;
	bool decided;
	bool key_ok;		/* the header signature verified */
	bool body_done, body_ok;
	struct dkim_sig sig;
	char key_name[LOOKUP_NAME_MAX + 1];
	uint8_t hh[32];		/* SHA-256 of the canonical header data */
	EVP_MD_CTX *bctx;
	struct dkim_body body;
};

struct dkim_verify {
	time_t now;
	size_t n, dropped;
	struct one *s[DKIM_RESULTS_MAX];	/* allocated as signatures are found:
						 * most messages have one or none */
};

const char *
dkim_res_name(enum dkim_res r)
{
	switch (r) {
	case DKIM_NONE: return "none";
	case DKIM_PASS: return "pass";
	case DKIM_FAIL: return "fail";
	case DKIM_NEUTRAL: return "neutral";
	case DKIM_POLICY: return "policy";
	case DKIM_TEMPERROR: return "temperror";
	case DKIM_PERMERROR: return "permerror";
	}
	return "none";
}

static void decide(struct one *o, enum dkim_res res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set the final result of o (the first one set stays) and stop hashing. */
static void
decide(struct one *o, enum dkim_res res, const char *fmt, ...)
{
	if (o->decided)
		return;
	o->decided = true;
	o->r.res = res;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->r.why, sizeof o->r.why, fmt, ap);
	va_end(ap);
	EVP_MD_CTX_free(o->bctx);
	o->bctx = NULL;
}

struct dkim_verify *
dkim_verify_new(time_t now)
{
	struct dkim_verify *v = xcalloc(1, sizeof *v);
	v->now = now;
	return v;
}

void
dkim_verify_free(struct dkim_verify **vp)
{
	struct dkim_verify *v = *vp;
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		EVP_MD_CTX_free(v->s[i]->bctx);
		free(v->s[i]);
	}
	free(v);
	*vp = NULL;
}

static void
digest_emit(void *arg, const uint8_t *p, size_t n)
{
	EVP_DigestUpdate(arg, p, n);
}

/* Canonicalise field j of h onto the header hash. */
static void
hash_field(EVP_MD_CTX *md, struct buf *tmp, enum dkim_canon c, const struct mhdrs *h, size_t j)
{
	buf_reset(tmp);
	dkim_canon_header(c, h->raw.data + h->f[j].off, h->f[j].len, h->f[j].name_len, true,
	    tmp);
	EVP_DigestUpdate(md, tmp->data, tmp->len);
}

/* RFC 6376 3.7 and 5.4.2: the fields named in h=, each name taking the
 * bottom-most instance not yet used (a name listed more often than
 * present signs the absence of more), then this signature field with its
 * b= value deleted, without its final CRLF.  false when out of memory or
 * a field does not fit the canonicalisation buffer. */
static bool
hash_headers(struct one *o, const struct mhdrs *h, size_t self)
{
	const struct dkim_sig *s = &o->sig;
	bool *used = xcalloc(h->n ? h->n : 1, sizeof *used);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct buf tmp;
	bool ok = md != NULL && EVP_DigestInit_ex(md, dkim_sha256(), NULL) == 1;
	/* a field canonicalises to at most twice its size (LF -> CRLF) */
	buf_init(&tmp, 2 * h->raw.len + 16);
	used[self] = true;	/* the signature did not exist when signed */
	for (size_t k = 0; ok && k < s->n_h; k++) {
		for (size_t j = h->n; j-- > 0;) {
			if (used[j] || h->f[j].name_len != s->h[k].len ||
			    !ascii_memcaseeq(h->raw.data + h->f[j].off, s->h[k].p, s->h[k].len))
				continue;
			used[j] = true;
			hash_field(md, &tmp, o->sig.hcanon, h, j);
			break;
		}
	}
	if (ok) {
		/* the field with [b_eq, b_end) cut out */
		const uint8_t *f = h->raw.data + h->f[self].off;
		size_t a = (size_t)((const uint8_t *)s->b_eq - f);
		size_t e = (size_t)((const uint8_t *)s->b_end - f);
		struct buf cut;
		buf_init(&cut, h->f[self].len + 1);
		buf_append(&cut, f, a);
		buf_append(&cut, f + e, h->f[self].len - e);
		buf_reset(&tmp);
		dkim_canon_header(o->sig.hcanon, cut.data, cut.len, h->f[self].name_len, false,
		    &tmp);
		EVP_DigestUpdate(md, tmp.data, tmp.len);
		ok = !cut.err && !tmp.err;
		buf_free(&cut);
	}
	unsigned int n = 0;
	ok = ok && !tmp.err && EVP_DigestFinal_ex(md, o->hh, &n) == 1 && n == 32;
	buf_free(&tmp);
	EVP_MD_CTX_free(md);
	free(used);
	return ok;
}

/* Copy what a report shows, even from a signature that did not parse. */
static void
fill_names(struct one *o)
{
	str_copy(o->r.domain, sizeof o->r.domain, o->sig.d);
	str_copy(o->r.selector, sizeof o->r.selector, o->sig.s);
	str_copy(o->r.auid, sizeof o->r.auid, o->sig.i);
	str_copy(o->r.algo, sizeof o->r.algo, o->sig.a);
	str_copy(o->r.b, sizeof o->r.b, o->sig.b8);
}

/* Checks before any hashing: everything that needs the clock or names. */
static void
setup(struct dkim_verify *v, struct one *o, const struct mhdrs *h, size_t j)
{
	const char *why = NULL;
	const uint8_t *f = h->raw.data + h->f[j].off;
	const uint8_t *colon = memchr(f, ':', h->f[j].len);
	size_t vo = colon ? (size_t)(colon - f) + 1 : h->f[j].len;
	int rc = dkim_sig_parse(&o->sig, (const char *)f + vo, h->f[j].len - vo, &why);
	fill_names(o);
	if (rc < 0) {
		decide(o, DKIM_PERMERROR, "%s", why);
		return;
	}
	if (h->overflow) {
		decide(o, DKIM_PERMERROR, "header section too large: fields were lost");
		return;
	}
	if (o->sig.alg == DKIM_RSA_SHA1) {
		decide(o, DKIM_PERMERROR, "rsa-sha1 not accepted (RFC 8301)");
		return;
	}
	if (o->sig.has_x && (uint64_t)v->now > o->sig.x && v->now >= 0) {
		decide(o, DKIM_PERMERROR, "expired");
		return;
	}
	if (o->sig.has_t && v->now >= 0 && o->sig.t > (uint64_t)v->now + DKIM_FUTURE_SKEW) {
		decide(o, DKIM_PERMERROR, "signed in the future (t=)");
		return;
	}
	char raw[sizeof o->sig.s + sizeof o->sig.d + 16];
	snprintf(raw, sizeof raw, "%s._domainkey.%s", o->sig.s, o->sig.d);
	if (!lookup_name_norm(o->key_name, raw)) {
		decide(o, DKIM_PERMERROR, "d= or s= is not a valid domain name");
		return;
	}
	if (!hash_headers(o, h, j)) {
		decide(o, DKIM_TEMPERROR, "out of memory hashing the header");
		return;
	}
	o->bctx = EVP_MD_CTX_new();
	if (o->bctx == NULL || EVP_DigestInit_ex(o->bctx, dkim_sha256(), NULL) != 1) {
		decide(o, DKIM_TEMPERROR, "out of memory");
		return;
	}
	dkim_body_init(&o->body, o->sig.bcanon, o->sig.has_l, o->sig.l, digest_emit, o->bctx);
	o->r.res = DKIM_NONE;
	str_copy(o->r.why, sizeof o->r.why, "not verified yet");
}

void
dkim_verify_header(struct dkim_verify *v, const struct mhdrs *h)
{
	for (size_t j = 0; j < h->n; j++) {
		if (!mhdrs_is(h, j, "DKIM-Signature"))
			continue;
		if (v->n == DKIM_RESULTS_MAX) {
			v->dropped++;
			continue;
		}
		struct one *o = v->s[v->n++] = xcalloc(1, sizeof *o);
		if (v->n <= DKIM_VERIFY_MAX) {
			setup(v, o, h, j);
			continue;
		}
		/* past the limit: named in the results, not checked */
		const uint8_t *f = h->raw.data + h->f[j].off;
		const uint8_t *colon = memchr(f, ':', h->f[j].len);
		size_t vo = colon ? (size_t)(colon - f) + 1 : h->f[j].len;
		const char *why;
		(void)dkim_sig_parse(&o->sig, (const char *)f + vo, h->f[j].len - vo, &why);
		fill_names(o);
		decide(o, DKIM_POLICY, "not checked: only the first %d signatures are",
		    DKIM_VERIFY_MAX);
	}
}

void
dkim_verify_body(struct dkim_verify *v, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < v->n; i++) {
		struct one *o = v->s[i];
		if (!o->decided && !o->body_done && o->bctx != NULL)
			dkim_body_feed(&o->body, p, len);
	}
}

/* Both halves verified: the signature passes. */
static void
maybe_pass(struct one *o)
{
	if (o->body_done && o->body_ok && o->key_ok)
		decide(o, DKIM_PASS, "signature verified");
}

void
dkim_verify_finish(struct dkim_verify *v)
{
	for (size_t i = 0; i < v->n; i++) {
		struct one *o = v->s[i];
		if (o->decided || o->body_done || o->bctx == NULL)
			continue;
		dkim_body_finish(&o->body);
		uint8_t bh[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		o->body_done = true;
		if (EVP_DigestFinal_ex(o->bctx, bh, &n) != 1) {
			decide(o, DKIM_TEMPERROR, "body hash: OpenSSL error");
			continue;
		}
		o->r.body_limited = o->sig.has_l && o->body.total > o->sig.l;
		if (o->sig.has_l && o->body.total < o->sig.l) {
			decide(o, DKIM_FAIL, "l= is longer than the body");
			continue;
		}
		if (n != o->sig.bh_len || CRYPTO_memcmp(bh, o->sig.bh, n) != 0) {
			decide(o, DKIM_FAIL, "body hash mismatch");
			continue;
		}
		o->body_ok = true;
		maybe_pass(o);
	}
}

size_t
dkim_verify_count(const struct dkim_verify *v)
{
	return v->n;
}

size_t
dkim_verify_dropped(const struct dkim_verify *v)
{
	return v->dropped;
}

const char *
dkim_verify_key_name(const struct dkim_verify *v, size_t i)
{
	if (i >= v->n || v->s[i]->decided || v->s[i]->key_ok)
		return NULL;
	return v->s[i]->key_name;
}

const struct dkim_result *
dkim_verify_result(const struct dkim_verify *v, size_t i)
{
	return i < v->n ? &v->s[i]->r : NULL;
}

/* The signature check itself: RSASSA-PKCS1-v1_5 over SHA-256 (RFC 6376
 * 3.3.1), or PureEdDSA over the SHA-256 digest (RFC 8463 3). */
static bool
sig_verify(EVP_PKEY *pk, const struct one *o)
{
	bool ok = false;
	if (o->sig.alg == DKIM_ED25519_SHA256) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1 &&
		    EVP_DigestVerify(md, o->sig.b, o->sig.b_len, o->hh, sizeof o->hh) == 1;
		EVP_MD_CTX_free(md);
		return ok;
	}
	EVP_PKEY_CTX *cached = dkim_key_vctx(pk);
	if (cached != NULL)
		return EVP_PKEY_verify(cached, o->sig.b, o->sig.b_len, o->hh, sizeof o->hh) == 1;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
	ok = c != NULL && EVP_PKEY_verify_init(c) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(c, dkim_sha256()) == 1 &&
	    EVP_PKEY_verify(c, o->sig.b, o->sig.b_len, o->hh, sizeof o->hh) == 1;
	EVP_PKEY_CTX_free(c);
	return ok;
}

/* The i= domain is exactly d= (key flag t=s, RFC 6376 3.6.1). */
static bool
auid_exact(const struct dkim_sig *s)
{
	const char *at = strrchr(s->i, '@');
	return at != NULL && ascii_strcaseeq(at + 1, s->d);
}

static void
verify_with(struct one *o, const struct dkim_key *k)
{
	const char *why = NULL;
	o->r.testing = k->testing;
	if (k->revoked) {
		decide(o, DKIM_PERMERROR, "key revoked");
		return;
	}
	if (!k->email_ok) {
		decide(o, DKIM_PERMERROR, "key not for email (s=)");
		return;
	}
	if (!k->sha256_ok) {
		decide(o, DKIM_PERMERROR, "key h= does not allow sha256");
		return;
	}
	bool want_ed = o->sig.alg == DKIM_ED25519_SHA256;
	if (want_ed != (k->k == DKIM_K_ED25519)) {
		decide(o, DKIM_PERMERROR, "key type %s does not match a=%s",
		    k->k == DKIM_K_ED25519 ? "ed25519" : "rsa", o->sig.a);
		return;
	}
	if (k->strict && !auid_exact(&o->sig)) {
		decide(o, DKIM_PERMERROR, "key t=s forbids an i= subdomain");
		return;
	}
	EVP_PKEY *pk = dkim_key_pkey(k, &why);
	if (pk == NULL) {
		decide(o, DKIM_PERMERROR, "key record: %s", why);
		return;
	}
	if (k->k == DKIM_K_RSA) {
		int bits = EVP_PKEY_get_bits(pk);
		if (bits < DKIM_RSA_MIN_BITS || bits > DKIM_RSA_MAX_BITS) {
			EVP_PKEY_free(pk);
			decide(o, DKIM_PERMERROR, "RSA key of %d bits", bits);
			return;
		}
	}
	bool ok = sig_verify(pk, o);
	EVP_PKEY_free(pk);
	if (!ok) {
		decide(o, DKIM_FAIL, "signature did not verify");
		return;
	}
	o->key_ok = true;
	maybe_pass(o);
}

void
dkim_verify_key(struct dkim_verify *v, size_t i, const struct lookup *txt)
{
	if (i >= v->n || v->s[i]->decided || v->s[i]->key_ok)
		return;
	struct one *o = v->s[i];
	if (txt == NULL) {
		decide(o, DKIM_TEMPERROR, "key lookup: no answer");
		return;
	}
	if (txt->status == LOOKUP_TEMPFAIL || txt->sec == LOOKUP_BOGUS) {
		decide(o, DKIM_TEMPERROR, "key lookup: %s",
		    txt->sec == LOOKUP_BOGUS ? "DNSSEC bogus" : txt->why ? txt->why : "failed");
		return;
	}
	if (strcmp(txt->name, o->key_name) != 0) {
		decide(o, DKIM_TEMPERROR, "key lookup: answer for another name");
		return;
	}
	if (txt->status == LOOKUP_NXDOMAIN || txt->n == 0) {
		decide(o, DKIM_PERMERROR, "no key record");
		return;
	}
	/* RFC 6376 3.6.2.2 leaves several records undefined: the first one
	 * that parses as a key record is used */
	struct dkim_key *k = xmalloc(sizeof *k);
	const char *why = NULL, *first = NULL;
	bool found = false;
	for (size_t r = 0; r < txt->n && !found; r++) {
		found = dkim_key_parse(k, txt->rr[r].data, txt->rr[r].len, &why) == 0;
		if (!found && first == NULL)
			first = why;
	}
	if (found)
		verify_with(o, k);
	else
		decide(o, DKIM_PERMERROR, "key record: %s", first ? first : "unparsable");
	free(k);
}

void
dkim_verify_pkey_record(struct dkim_verify *v, size_t i, const uint8_t *txt, size_t len)
{
	const char *name = dkim_verify_key_name(v, i);
	if (name == NULL)
		return;
	struct lookup *l = xcalloc(1, sizeof *l);
	lookup_init(l, LOOKUP_TXT, name);
	lookup_add(l, 0, txt, len);
	dkim_verify_key(v, i, l);
	lookup_clear(l);
	free(l);
}

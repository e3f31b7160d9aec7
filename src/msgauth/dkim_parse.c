/*
 * msgauth/dkim_parse.c - DKIM tag lists (RFC 6376 3.2), DKIM-Signature
 * values (3.5) and key records (3.6.1, RFC 8463 4).
 *
 * Input:   a field value from a message or a TXT record's text; any byte.
 * Output:  struct dkim_sig / struct dkim_key (fixed-size, copies bounded),
 *          or -1 with a static reason.
 * Trusts:  nothing.  Runs in: policy, CLI.  Pure.
 */
#include "msgauth/dkim.h"

#include <string.h>

#include <openssl/x509.h>

#include "core/util.h"

static bool
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* VALCHAR of RFC 6376 3.2, plus 8-bit bytes, which RFC 8616 lets UTF-8
 * domain names and local parts carry. */
static bool
is_valchar(int c)
{
	unsigned char u = (unsigned char)c;
	return (u >= 0x21 && u <= 0x3a) || (u >= 0x3c && u <= 0x7e) || u >= 0x80;
}

int
dkim_tags_parse(const char *s, size_t len, struct dkim_tag *t, size_t max, size_t *n,
    const char **why)
{
	size_t i = 0, k = 0;
	*n = 0;
	for (;;) {
		while (i < len && is_ws(s[i]))
			i++;
		if (i == len)
			break;	/* end, or whitespace after a final ';' */
		if (!is_alpha(s[i])) {
			*why = "bad tag name";
			return -1;
		}
		size_t name = i;
		while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_'))
			i++;
		size_t name_len = i - name;
		while (i < len && is_ws(s[i]))
			i++;
		if (i == len || s[i] != '=') {
			*why = "missing '=' after a tag name";
			return -1;
		}
		size_t eq = ++i, vs = 0, ve = 0;
		bool any = false;
		for (; i < len && s[i] != ';'; i++) {
			if (is_ws(s[i]))
				continue;
			if (!is_valchar(s[i])) {
				*why = "bad character in a tag value";
				return -1;
			}
			if (!any)
				vs = i;
			any = true;
			ve = i + 1;
		}
		for (size_t j = 0; j < k; j++) {
			if (t[j].name_len == name_len &&
			    memcmp(t[j].name, s + name, name_len) == 0) {
				*why = "a tag appears twice";
				return -1;
			}
		}
		if (k == max) {
			*why = "too many tags";
			return -1;
		}
		t[k] = (struct dkim_tag){ .name = s + name, .name_len = name_len,
			.val = any ? s + vs : s + eq, .val_len = any ? ve - vs : 0,
			.eq = s + eq, .end = s + i };
		k++;
		if (i == len)
			break;
		i++;	/* the ';' */
	}
	*n = k;
	return 0;
}

const struct dkim_tag *
dkim_tag_find(const struct dkim_tag *t, size_t n, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (t[i].name_len == len && memcmp(t[i].name, name, len) == 0)
			return &t[i];
	return NULL;
}

/* Base64 digit values; B64_WS for whitespace that folding may leave,
 * B64_PAD for '=', B64_BAD for the rest.  A table: a key record and a
 * signature are decoded for every message. */
enum { B64_WS = 64, B64_PAD = 65, B64_BAD = 255 };
static const uint8_t b64_tab[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 64, 64, 255, 255, 64, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	64, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 62, 255, 255, 255, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 255, 255, 255, 65, 255, 255,
	255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 255, 255, 255, 255, 255,
	255, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

int
dkim_b64_decode(const char *s, size_t len, uint8_t *out, size_t max, size_t *n)
{
	const uint8_t *t = b64_tab;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0, chars = 0, pad = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t v = t[(unsigned char)s[i]];
		if (v < 64) {
			if (pad > 0)
				return -1;	/* data after padding */
			chars++;
			acc = (acc << 6 | v) & 0xffffff;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (o == max)
					return -1;
				out[o++] = (uint8_t)(acc >> bits);
			}
		} else if (v == B64_PAD) {
			pad++;
		} else if (v != B64_WS) {
			return -1;	/* a bad byte */
		}
	}
	/* one character alone cannot carry a byte; padding, when present,
	 * must complete the last quantum */
	if (chars % 4 == 1 || pad > 2 || (pad > 0 && (chars + pad) % 4 != 0))
		return -1;
	*n = o;
	return 0;
}

/* Copy a tag value holding no whitespace into dst. */
static bool
val_copy(char *dst, size_t dstsz, const struct dkim_tag *t)
{
	if (t->val_len >= dstsz)
		return false;
	for (size_t i = 0; i < t->val_len; i++)
		if (is_ws(t->val[i]))
			return false;
	memcpy(dst, t->val, t->val_len);
	dst[t->val_len] = '\0';
	return true;
}

static bool
val_is(const struct dkim_tag *t, const char *s)
{
	return t->val_len == strlen(s) && ascii_memcaseeq(t->val, s, t->val_len);
}

/* Split a colon-separated list (h=, q=, key h=, s=, t=) into spans with
 * whitespace trimmed.  false on an empty item or more than max. */
static bool
list_split(const char *p, size_t len, struct dkim_span *out, size_t max, size_t *n)
{
	size_t k = 0, i = 0;
	for (;;) {
		size_t a = i;
		while (i < len && p[i] != ':')
			i++;
		size_t b = i;
		while (a < b && is_ws(p[a]))
			a++;
		while (b > a && is_ws(p[b - 1]))
			b--;
		if (a == b || k == max)
			return false;
		out[k++] = (struct dkim_span){ p + a, b - a };
		if (i == len)
			break;
		i++;
	}
	*n = k;
	return true;
}

static bool
list_has(const struct dkim_tag *t, const char *item)
{
	struct dkim_span sp[32];
	size_t n;
	if (!list_split(t->val, t->val_len, sp, NELEM(sp), &n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (sp[i].len == strlen(item) && ascii_memcaseeq(sp[i].p, item, sp[i].len))
			return true;
	return false;
}

/* Decimal digits into *out; false on anything else or overflow.  With
 * saturate, a value past UINT64_MAX becomes UINT64_MAX (l= may be any
 * length, and any over the body is as bad as the largest). */
static bool
val_u64(const struct dkim_tag *t, bool saturate, uint64_t *out)
{
	uint64_t v = 0;
	if (t->val_len == 0)
		return false;
	for (size_t i = 0; i < t->val_len; i++) {
		if (!is_digit(t->val[i]))
			return false;
		unsigned d = (unsigned)(t->val[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			if (!saturate)
				return false;
			v = UINT64_MAX;
			continue;
		}
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* i= is "[local]@domain" and domain is d= or below it (RFC 6376 3.5). */
static bool
auid_within(const char *i, const char *d)
{
	const char *at = strrchr(i, '@');
	if (at == NULL)
		return false;
	const char *dom = at + 1;
	size_t dl = strlen(dom), l = strlen(d);
	if (dl == l)
		return ascii_strcaseeq(dom, d);
	return dl > l && dom[dl - l - 1] == '.' && ascii_strcaseeq(dom + dl - l, d);
}

static bool
field_name_ok(const struct dkim_span *s)
{
	for (size_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->p[i];
		if (c < 0x21 || c > 0x7e || c == ':')
			return false;
	}
	return true;
}

static int
sig_canon(struct dkim_sig *sig, const struct dkim_tag *c)
{
	sig->hcanon = sig->bcanon = DKIM_SIMPLE;
	if (c == NULL)
		return 0;
	const char *slash = memchr(c->val, '/', c->val_len);
	size_t hl = slash ? (size_t)(slash - c->val) : c->val_len;
	struct dkim_tag h = { .val = c->val, .val_len = hl };
	if (val_is(&h, "relaxed"))
		sig->hcanon = DKIM_RELAXED;
	else if (!val_is(&h, "simple"))
		return -1;
	if (slash == NULL)
		return 0;
	struct dkim_tag b = { .val = slash + 1, .val_len = c->val_len - hl - 1 };
	if (val_is(&b, "relaxed"))
		sig->bcanon = DKIM_RELAXED;
	else if (!val_is(&b, "simple"))
		return -1;
	return 0;
}

/* The names a report shows, copied before any check can fail. */
static void
sig_names(struct dkim_sig *sig, const struct dkim_tag *t, size_t n)
{
	const struct dkim_tag *x;
	if ((x = dkim_tag_find(t, n, "d")) != NULL && !val_copy(sig->d, sizeof sig->d, x))
		sig->d[0] = '\0';
	if ((x = dkim_tag_find(t, n, "s")) != NULL && !val_copy(sig->s, sizeof sig->s, x))
		sig->s[0] = '\0';
	if ((x = dkim_tag_find(t, n, "a")) != NULL && !val_copy(sig->a, sizeof sig->a, x))
		sig->a[0] = '\0';
	if ((x = dkim_tag_find(t, n, "b")) != NULL) {
		size_t k = 0;
		for (size_t i = 0; i < x->val_len && k < 8; i++)
			if (!is_ws(x->val[i]))
				sig->b8[k++] = x->val[i];
		sig->b8[k] = '\0';
	}
	if ((x = dkim_tag_find(t, n, "i")) != NULL) {
		if (!val_copy(sig->i, sizeof sig->i, x))
			sig->i[0] = '\0';
	} else if (sig->d[0] != '\0') {
		sig->i[0] = '@';
		str_copy(sig->i + 1, sizeof sig->i - 1, sig->d);
	}
}

static int
sig_check(struct dkim_sig *sig, const struct dkim_tag *t, size_t n, const char **why)
{
	const struct dkim_tag *v = dkim_tag_find(t, n, "v"), *a = dkim_tag_find(t, n, "a");
	const struct dkim_tag *b = dkim_tag_find(t, n, "b"), *bh = dkim_tag_find(t, n, "bh");
	const struct dkim_tag *d = dkim_tag_find(t, n, "d"), *h = dkim_tag_find(t, n, "h");
	const struct dkim_tag *s = dkim_tag_find(t, n, "s"), *x;
	if (v == NULL || a == NULL || b == NULL || bh == NULL || d == NULL || h == NULL ||
	    s == NULL)
		return *why = "a required tag (v a b bh d h s) is missing", -1;
	if (!val_is(v, "1"))
		return *why = "v= is not 1", -1;
	if (val_is(a, "rsa-sha256"))
		sig->alg = DKIM_RSA_SHA256;
	else if (val_is(a, "ed25519-sha256"))
		sig->alg = DKIM_ED25519_SHA256;
	else if (val_is(a, "rsa-sha1"))
		sig->alg = DKIM_RSA_SHA1;
	else
		return *why = "unknown algorithm (a=)", -1;
	if (sig->d[0] == '\0' || sig->s[0] == '\0')
		return *why = "d= or s= is empty or malformed", -1;
	if (dkim_b64_decode(b->val, b->val_len, sig->b, sizeof sig->b, &sig->b_len) < 0 ||
	    sig->b_len == 0)
		return *why = "b= is not base64", -1;
	sig->b_eq = b->eq;
	sig->b_end = b->end;
	if (dkim_b64_decode(bh->val, bh->val_len, sig->bh, sizeof sig->bh, &sig->bh_len) < 0)
		return *why = "bh= is not base64", -1;
	if (sig->bh_len != (sig->alg == DKIM_RSA_SHA1 ? 20u : 32u))
		return *why = "bh= has the wrong length for a=", -1;
	if (!list_split(h->val, h->val_len, sig->h, DKIM_H_MAX, &sig->n_h))
		return *why = "h= is empty, has an empty name or too many names", -1;
	bool from = false;
	for (size_t i = 0; i < sig->n_h; i++) {
		if (!field_name_ok(&sig->h[i]))
			return *why = "h= has a malformed field name", -1;
		from |= sig->h[i].len == 4 && ascii_memcaseeq(sig->h[i].p, "from", 4);
	}
	if (!from)
		return *why = "h= does not list From (RFC 6376 5.4)", -1;
	if (sig_canon(sig, dkim_tag_find(t, n, "c")) < 0)
		return *why = "unknown canonicalization (c=)", -1;
	if ((x = dkim_tag_find(t, n, "i")) != NULL && sig->i[0] == '\0')
		return *why = "i= is malformed", -1;
	if (!auid_within(sig->i, sig->d))
		return *why = "i= is not within d=", -1;
	if ((x = dkim_tag_find(t, n, "q")) != NULL && !list_has(x, "dns/txt"))
		return *why = "q= does not offer dns/txt", -1;
	if ((x = dkim_tag_find(t, n, "l")) != NULL) {
		if (x->val_len > 76 || !val_u64(x, true, &sig->l))
			return *why = "l= is not a number", -1;
		sig->has_l = true;
	}
	if ((x = dkim_tag_find(t, n, "t")) != NULL) {
		if (!val_u64(x, false, &sig->t))
			return *why = "t= is not a number", -1;
		sig->has_t = true;
	}
	if ((x = dkim_tag_find(t, n, "x")) != NULL) {
		if (!val_u64(x, false, &sig->x))
			return *why = "x= is not a number", -1;
		sig->has_x = true;
	}
	if (sig->has_t && sig->has_x && sig->x <= sig->t)
		return *why = "x= is not after t=", -1;
	return 0;
}

int
dkim_sig_parse(struct dkim_sig *sig, const char *val, size_t len, const char **why)
{
	struct dkim_tag t[DKIM_TAGS_MAX];
	size_t n;
	memset(sig, 0, sizeof *sig);
	if (dkim_tags_parse(val, len, t, NELEM(t), &n, why) < 0)
		return -1;
	sig_names(sig, t, n);
	return sig_check(sig, t, n, why);
}

int
dkim_key_parse(struct dkim_key *k, const uint8_t *txt, size_t len, const char **why)
{
	struct dkim_tag t[DKIM_TAGS_MAX];
	size_t n;
	const struct dkim_tag *x;
	memset(k, 0, sizeof *k);
	k->sha256_ok = k->email_ok = true;
	if (memchr(txt, '\0', len) != NULL)
		return *why = "a NUL byte in the record", -1;
	if (dkim_tags_parse((const char *)txt, len, t, NELEM(t), &n, why) < 0)
		return -1;
	if ((x = dkim_tag_find(t, n, "v")) != NULL) {
		if (x != &t[0])
			return *why = "v= is not the first tag", -1;
		if (!(x->val_len == 5 && memcmp(x->val, "DKIM1", 5) == 0))
			return *why = "v= is not DKIM1", -1;
	}
	if ((x = dkim_tag_find(t, n, "h")) != NULL)
		k->sha256_ok = list_has(x, "sha256");
	if ((x = dkim_tag_find(t, n, "s")) != NULL)
		k->email_ok = list_has(x, "*") || list_has(x, "email");
	if ((x = dkim_tag_find(t, n, "t")) != NULL) {
		k->testing = list_has(x, "y");
		k->strict = list_has(x, "s");
	}
	k->k = DKIM_K_RSA;
	if ((x = dkim_tag_find(t, n, "k")) != NULL) {
		if (val_is(x, "ed25519"))
			k->k = DKIM_K_ED25519;
		else if (!val_is(x, "rsa"))
			return *why = "unknown key type (k=)", -1;
	}
	if ((x = dkim_tag_find(t, n, "p")) == NULL)
		return *why = "no p= tag", -1;
	if (dkim_b64_decode(x->val, x->val_len, k->p, sizeof k->p, &k->p_len) < 0)
		return *why = "p= is not base64", -1;
	k->revoked = k->p_len == 0;
	return 0;
}

static EVP_PKEY *
dkim_key_pkey_decode(const struct dkim_key *k, const char **why)
{
	EVP_PKEY *pk = NULL;
	if (k->k == DKIM_K_ED25519) {
		if (k->p_len != 32)
			return *why = "an ed25519 p= must hold 32 bytes", NULL;
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->p, k->p_len);
		if (pk == NULL)
			*why = "bad ed25519 key";
		return pk;
	}
	const unsigned char *q = k->p;
	pk = d2i_PUBKEY(NULL, &q, (long)k->p_len);
	if (pk != NULL && (q != k->p + k->p_len || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)) {
		EVP_PKEY_free(pk);
		return *why = "p= is not an RSA key", NULL;
	}
	if (pk == NULL) {
		/* a bare RSAPublicKey (PKCS#1), which some records carry */
		q = k->p;
		pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)k->p_len);
		if (pk != NULL && q != k->p + k->p_len) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
	}
	if (pk == NULL)
		*why = "p= is not an RSA key";
	return pk;
}

/*
 * Decoded keys, most recent first.  OpenSSL 3's d2i_PUBKEY goes through
 * its decoder framework and costs several times an RSA-2048 verification
 * (bench/dkim-speed.sh), while a server sees the same few keys over and
 * over.  Keyed by the exact p= bytes and type, so a changed record is a
 * new entry; the cache holds a reference of its own (EVP_PKEY_up_ref).
 * Per process, not thread-safe: DKIM runs in single-threaded processes.
 */
#define KEY_CACHE 32
static struct {
	int k;
	size_t len;
	uint8_t p[DKIM_P_MAX];
	EVP_PKEY *pk;
	EVP_PKEY_CTX *vctx;	/* RSA: a verification context, set up once */
} key_cache[KEY_CACHE];

EVP_PKEY *
dkim_key_pkey(const struct dkim_key *k, const char **why)
{
	for (size_t i = 0; i < KEY_CACHE && key_cache[i].pk != NULL; i++) {
		if (key_cache[i].k != (int)k->k || key_cache[i].len != k->p_len ||
		    memcmp(key_cache[i].p, k->p, k->p_len) != 0)
			continue;
		EVP_PKEY *pk = key_cache[i].pk;
		if (EVP_PKEY_up_ref(pk) != 1)
			break;
		if (i > 0) {	/* move to the front */
			__typeof__(key_cache[0]) hit = key_cache[i];
			memmove(&key_cache[1], &key_cache[0], i * sizeof key_cache[0]);
			key_cache[0] = hit;
		}
		return pk;
	}
	EVP_PKEY *pk = dkim_key_pkey_decode(k, why);
	if (pk == NULL || k->p_len > DKIM_P_MAX || EVP_PKEY_up_ref(pk) != 1)
		return pk;
	EVP_PKEY_free(key_cache[KEY_CACHE - 1].pk);
	EVP_PKEY_CTX_free(key_cache[KEY_CACHE - 1].vctx);
	memmove(&key_cache[1], &key_cache[0], (KEY_CACHE - 1) * sizeof key_cache[0]);
	key_cache[0].k = (int)k->k;
	key_cache[0].len = k->p_len;
	memcpy(key_cache[0].p, k->p, k->p_len);
	key_cache[0].pk = pk;
	key_cache[0].vctx = NULL;
	return pk;
}

/*
 * An RSA PKCS#1 v1.5 / SHA-256 verification context for pk: made once per
 * cached key (setting one up costs OpenSSL 3 a fifth of the verification
 * itself), NULL when pk is not in the cache or it cannot be made; the
 * caller then makes its own.
 */
EVP_PKEY_CTX *
dkim_key_vctx(EVP_PKEY *pk)
{
	for (size_t i = 0; i < KEY_CACHE && key_cache[i].pk != NULL; i++) {
		if (key_cache[i].pk != pk)
			continue;
		if (key_cache[i].vctx == NULL) {
			EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
			if (c == NULL || EVP_PKEY_verify_init(c) != 1 ||
			    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
			    EVP_PKEY_CTX_set_signature_md(c, dkim_sha256()) != 1) {
				EVP_PKEY_CTX_free(c);
				return NULL;
			}
			key_cache[i].vctx = c;
		}
		return key_cache[i].vctx;
	}
	return NULL;
}

/* SHA-256, fetched once: EVP_sha256() makes OpenSSL 3 look the
 * implementation up again at every digest init, a cost on every message. */
const EVP_MD *
dkim_sha256(void)
{
	static EVP_MD *md;
	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return md != NULL ? md : EVP_sha256();
}

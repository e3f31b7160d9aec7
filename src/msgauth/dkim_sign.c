/*
 * msgauth/dkim_sign.c - DKIM signing (RFC 6376 5, RFC 8463), keys from
 * PEM files and their TXT records.
 *
 * Input:   a whole message (LF or CRLF line ends) written by a local user
 *          or our own queue, and private keys the admin configured.
 * Output:  DKIM-Signature fields, relaxed/relaxed, to be prepended.
 * Trusts:  the keys; nothing in the message.  Runs in: CLI (and later the
 *          queue, which signs outgoing mail).  Pure, except dkim_key_load,
 *          which reads the named file.
 */
#include "msgauth/dkim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/util.h"

#define FOLD_COL 76	/* fold signature lines before this column */

/* Fields signed when present (RFC 6376 5.4.1's list, plus the list
 * headers a mailing list might otherwise add to a signed message). */
static const char *const sign_fields[] = {
	"from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
	"mime-version", "content-type", "content-transfer-encoding", "content-id",
	"content-description", "resent-date", "resent-from", "resent-sender", "resent-to",
	"resent-cc", "resent-message-id", "in-reply-to", "references", "list-id", "list-help",
	"list-unsubscribe", "list-unsubscribe-post", "list-subscribe", "list-post", "list-owner",
	"list-archive",
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A field written word by word, folded with eol + TAB before FOLD_COL. */
struct fold {
	struct buf *b;
	const char *eol;
	size_t col;
};

static void
fold_word(struct fold *w, const char *s, size_t n, bool space)
{
	if (w->col + n + (space ? 1 : 0) > FOLD_COL && w->col > 1) {
		buf_puts(w->b, w->eol);
		buf_putc(w->b, '\t');
		w->col = 1;
	} else if (space) {
		buf_putc(w->b, ' ');
		w->col++;
	}
	buf_append(w->b, s, n);
	w->col += n;
}

static void
fold_tag(struct fold *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fold_tag(struct fold *w, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		n = 0;
	fold_word(w, tmp, (size_t)n, true);
}

static bool
name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (!(s[0] >= 'a' && s[0] <= 'z') && !(s[0] >= 'A' && s[0] <= 'Z') &&
		    !(s[0] >= '0' && s[0] <= '9') && s[0] != '.' && s[0] != '-' && s[0] != '_')
			return false;
	return true;
}

/* i= "[local]@domain", domain d= or below, no byte that would break the
 * tag list. */
static bool
auid_ok(const char *i, const char *d)
{
	const char *at = strrchr(i, '@');
	if (at == NULL || strlen(i) > 200 || strpbrk(i, "; \t\r\n") != NULL)
		return false;
	size_t dl = strlen(at + 1), l = strlen(d);
	if (dl == l)
		return ascii_strcaseeq(at + 1, d);
	return dl > l && at[dl - l] == '.' && ascii_strcaseeq(at + 1 + dl - l, d);
}

static void
bh_emit(void *arg, const uint8_t *p, size_t n)
{
	EVP_DigestUpdate(arg, p, n);
}

/* base64 of the relaxed body hash of body[0..len), and its canonical
 * length in *clen. */
static bool
body_hash(const uint8_t *body, size_t len, char out[64], uint64_t *clen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct dkim_body *b = xmalloc(sizeof *b);
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	bool ok = md != NULL && EVP_DigestInit_ex(md, dkim_sha256(), NULL) == 1;
	if (ok) {
		dkim_body_init(b, DKIM_RELAXED, false, 0, bh_emit, md);
		dkim_body_feed(b, body, len);
		dkim_body_finish(b);
		*clen = b->total;
		ok = EVP_DigestFinal_ex(md, h, &n) == 1;
	}
	if (ok)
		EVP_EncodeBlock((unsigned char *)out, h, (int)n);
	free(b);
	EVP_MD_CTX_free(md);
	return ok;
}

/* The h= list: each present field of sign_fields once per instance, and
 * From once more, so that no From can be added (RFC 6376 8.15). */
static void
write_h(struct fold *w, const struct mhdrs *h)
{
	bool first = true;
	for (size_t k = 0; k < NELEM(sign_fields); k++) {
		size_t count = 0;
		for (size_t j = 0; j < h->n; j++)
			count += mhdrs_is(h, j, sign_fields[k]);
		if (k == 0)
			count++;
		for (size_t c = 0; c < count; c++) {
			char tmp[64];
			snprintf(tmp, sizeof tmp, "%s%s", first ? "h=" : ":", sign_fields[k]);
			/* fold before ':' so no fold splits a name */
			fold_word(w, tmp, strlen(tmp), false);
			first = false;
		}
	}
	fold_word(w, ";", 1, false);
}

/* SHA-256 of the canonical fields named in h= (the same selection a
 * verifier makes) and of the new field f, without its b= value. */
static bool
header_hash(const struct mhdrs *h, const struct buf *f, uint8_t hh[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool *used = xcalloc(h->n ? h->n : 1, sizeof *used);
	struct buf tmp;
	buf_init(&tmp, 2 * (h->raw.len + f->len) + 16);
	bool ok = md != NULL && EVP_DigestInit_ex(md, dkim_sha256(), NULL) == 1;
	for (size_t k = 0; ok && k < NELEM(sign_fields); k++) {
		for (size_t j = h->n; j-- > 0;) {
			if (used[j] || !mhdrs_is(h, j, sign_fields[k]))
				continue;
			used[j] = true;
			buf_reset(&tmp);
			dkim_canon_header(DKIM_RELAXED, h->raw.data + h->f[j].off, h->f[j].len,
			    h->f[j].name_len, true, &tmp);
			EVP_DigestUpdate(md, tmp.data, tmp.len);
		}
	}
	buf_reset(&tmp);
	dkim_canon_header(DKIM_RELAXED, f->data, f->len, strlen("DKIM-Signature"), false, &tmp);
	unsigned int n = 0;
	ok = ok && !tmp.err && EVP_DigestUpdate(md, tmp.data, tmp.len) == 1 &&
	    EVP_DigestFinal_ex(md, hh, &n) == 1 && n == 32;
	buf_free(&tmp);
	free(used);
	EVP_MD_CTX_free(md);
	return ok;
}

/* Sign the 32-byte header hash: RSASSA-PKCS1-v1_5/SHA-256 or PureEdDSA
 * over the digest (RFC 8463 3).  Signature length in *n, 0 on error. */
static size_t
sign_hash(EVP_PKEY *key, const uint8_t hh[32], uint8_t *sig, size_t max)
{
	size_t n = max;
	bool ok;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
		    EVP_DigestSign(md, sig, &n, hh, 32) == 1;
		EVP_MD_CTX_free(md);
	} else {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
		ok = c != NULL && EVP_PKEY_sign_init(c) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(c, dkim_sha256()) == 1 &&
		    EVP_PKEY_sign(c, sig, &n, hh, 32) == 1;
		EVP_PKEY_CTX_free(c);
	}
	return ok ? n : 0;
}

static const char *
key_alg(EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);
	if (id == EVP_PKEY_ED25519)
		return "ed25519-sha256";
	if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) >= DKIM_RSA_MIN_BITS &&
	    EVP_PKEY_get_bits(key) <= DKIM_RSA_MAX_BITS)
		return "rsa-sha256";
	return NULL;
}

/* One signature field for signer s onto out. */
static int
sign_one(const struct dkim_signer *s, const struct mhdrs *h, const char *bh, uint64_t blen,
    time_t now, const char *eol, struct buf *out, char *err, size_t errlen)
{
	const char *alg = key_alg(s->key);
	if (alg == NULL) {
		seterr(err, errlen, "key for %s: not Ed25519 or RSA of %d to %d bits", s->domain,
		    DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS);
		return -1;
	}
	struct buf f;
	buf_init(&f, 64 * 1024);
	struct fold w = { &f, eol, 0 };
	buf_puts(&f, "DKIM-Signature:");
	w.col = f.len;
	fold_tag(&w, "v=1;");
	fold_tag(&w, "a=%s;", alg);
	fold_tag(&w, "c=relaxed/relaxed;");
	fold_tag(&w, "d=%s;", s->domain);
	fold_tag(&w, "s=%s;", s->selector);
	if (s->auid != NULL)
		fold_tag(&w, "i=%s;", s->auid);
	fold_tag(&w, "t=%lld;", (long long)now);
	if (s->expire > 0)
		fold_tag(&w, "x=%lld;", (long long)now + (long long)s->expire);
	if (s->body_length)
		fold_tag(&w, "l=%llu;", (unsigned long long)blen);
	fold_word(&w, "", 0, true);
	write_h(&w, h);
	fold_tag(&w, "bh=%s;", bh);
	fold_tag(&w, "b=");
	uint8_t hh[32], sig[DKIM_B_MAX];
	size_t n = 0;
	if (!header_hash(h, &f, hh) || (n = sign_hash(s->key, hh, sig, sizeof sig)) == 0) {
		seterr(err, errlen, "signing for %s failed (OpenSSL)", s->domain);
		buf_free(&f);
		return -1;
	}
	char b64[DKIM_B_MAX * 4 / 3 + 8];
	size_t bl = (size_t)EVP_EncodeBlock((unsigned char *)b64, sig, (int)n);
	/* the value fills the lines after "b=", folded where it must */
	for (size_t i = 0; i < bl;) {
		size_t room = w.col < FOLD_COL ? FOLD_COL - w.col : 0;
		if (room == 0) {
			buf_puts(&f, eol);
			buf_putc(&f, '\t');
			w.col = 1;
			continue;
		}
		size_t k = bl - i < room ? bl - i : room;
		buf_append(&f, b64 + i, k);
		w.col += k;
		i += k;
	}
	buf_puts(&f, eol);
	bool ok = !f.err && buf_append(out, f.data, f.len);
	buf_free(&f);
	if (!ok)
		seterr(err, errlen, "signature field too long");
	return ok ? 0 : -1;
}

int
dkim_sign(const struct dkim_signer *s, size_t n, const uint8_t *msg, size_t len, time_t now,
    const char *eol, struct buf *out, char *err, size_t errlen)
{
	struct mhdrs h;
	char bh[64];
	uint64_t blen = 0;
	int rc = -1;
	mhdrs_init(&h, len + 1);
	mhdrs_feed(&h, msg, len);
	mhdrs_end(&h);
	if (n == 0)
		seterr(err, errlen, "no key to sign with");
	else if (h.overflow)
		seterr(err, errlen, "more than %d header fields", MHDRS_FIELDS_MAX);
	else if (h.malformed)
		seterr(err, errlen, "a header line is neither a field nor a continuation");
	else if (mhdrs_find(&h, 0, "From") == h.n)
		seterr(err, errlen, "no From field (RFC 6376 5.4 requires signing it)");
	else if (!body_hash(msg + h.body_off, len - (size_t)h.body_off, bh, &blen))
		seterr(err, errlen, "body hash failed (OpenSSL)");
	else
		rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!name_ok(s[i].domain) || !name_ok(s[i].selector)) {
			seterr(err, errlen, "bad domain or selector \"%s\" / \"%s\"", s[i].domain,
			    s[i].selector);
			rc = -1;
		} else if (s[i].auid != NULL && !auid_ok(s[i].auid, s[i].domain)) {
			seterr(err, errlen, "i=%s is not within d=%s", s[i].auid, s[i].domain);
			rc = -1;
		} else if (s[i].key == NULL) {
			seterr(err, errlen, "no key for %s", s[i].domain);
			rc = -1;
		} else {
			rc = sign_one(&s[i], &h, bh, blen, now, eol, out, err, errlen);
		}
	}
	mhdrs_free(&h);
	return rc;
}

/* Never prompt for a passphrase: an encrypted key is an error here. */
static int
no_pass(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

EVP_PKEY *
dkim_key_load(const char *path, char *err, size_t errlen)
{
	BIO *b = BIO_new_file(path, "r");
	if (b == NULL) {
		seterr(err, errlen, "%s: cannot open", path);
		return NULL;
	}
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, no_pass, NULL);
	BIO_free(b);
	if (k == NULL) {
		seterr(err, errlen, "%s: not a PEM private key (or encrypted)", path);
		return NULL;
	}
	if (key_alg(k) == NULL) {
		seterr(err, errlen, "%s: not an Ed25519 key or an RSA key of %d to %d bits", path,
		    DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

int
dkim_key_txt(EVP_PKEY *key, struct buf *out)
{
	uint8_t raw[32], *der = NULL;
	size_t n = sizeof raw;
	int id = EVP_PKEY_get_base_id(key), len;
	const uint8_t *p;
	const char *k;
	if (id == EVP_PKEY_ED25519) {
		if (EVP_PKEY_get_raw_public_key(key, raw, &n) != 1 || n != 32)
			return -1;
		p = raw;
		len = 32;
		k = "ed25519";
	} else if (id == EVP_PKEY_RSA) {
		len = i2d_PUBKEY(key, &der);
		if (len <= 0)
			return -1;
		p = der;
		k = "rsa";
	} else {
		return -1;
	}
	char *b64 = xmalloc((size_t)len / 3 * 4 + 8);
	EVP_EncodeBlock((unsigned char *)b64, p, len);
	bool ok = buf_printf(out, "v=DKIM1; k=%s; p=%s", k, b64);
	free(b64);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

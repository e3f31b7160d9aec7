/*
 * auth/scram.c - SCRAM-SHA-256(-PLUS): parsing the client's messages,
 * building ours, and the proof math of RFC 5802 3 (rules in scram.h).
 *
 * Input:   client-first and client-final messages from the network (the
 *          front decoded the IMAP base64 layer; any bytes, bounded);
 *          the account's stored keys (mail/users.c checked their form);
 *          passwords from the admin (CLI).
 * Output:  the parts of a message, server-first, server-final, a result.
 * Trusts:  nothing in the messages.  Runs in: auth, imap front, CLI.
 * Not here: which account a name means (auth/auth.c with mail/users.c),
 *          randomness, delays, logging.
 *
 * Parsers read with a cursor whose first error sticks (STYLE 5): read the
 * whole grammar, then look at c.err once.  Secrets (SaltedPassword,
 * ClientKey, signatures, AuthMessage) live on the stack and are wiped.
 */
#include "auth/scram.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/pw.h"
#include "core/b64.h"
#include "core/util.h"

const char *
scram_rc_name(enum scram_rc rc)
{
	static const char *const names[] = {
		[SCRAM_OK] = "ok", [SCRAM_BAD_SYNTAX] = "bad-syntax",
		[SCRAM_TOO_LONG] = "too-long", [SCRAM_BAD_NAME] = "bad-name",
		[SCRAM_MEXT] = "mext", [SCRAM_AUTHZID] = "authzid-mismatch",
		[SCRAM_CBIND] = "channel-binding", [SCRAM_NONCE] = "nonce",
		[SCRAM_PROOF] = "proof", [SCRAM_STATE] = "state",
	};
	return (unsigned)rc < NELEM(names) && names[rc] ? names[rc] : "?";
}

/* --- the cursor ------------------------------------------------------------ */

struct cur {
	const uint8_t *base, *p, *end;
	enum scram_rc err;	/* the first problem; SCRAM_OK while none */
};

static void
fail(struct cur *c, enum scram_rc rc)
{
	if (c->err == SCRAM_OK)
		c->err = rc;
}

static int
peek(const struct cur *c)
{
	return c->err == SCRAM_OK && c->p < c->end ? *c->p : -1;
}

/* The literal text s next, or a syntax error. */
static void
expect(struct cur *c, const char *s)
{
	size_t n = strlen(s);
	if (c->err == SCRAM_OK && ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0))
		fail(c, SCRAM_BAD_SYNTAX);
	if (c->err == SCRAM_OK)
		c->p += n;
}

/* The bytes up to the next ',' or the end: [*b, *b + *n). */
static void
field(struct cur *c, const uint8_t **b, size_t *n)
{
	const uint8_t *s = c->p;
	if (c->err == SCRAM_OK) {
		const uint8_t *comma = memchr(s, ',', (size_t)(c->end - s));
		c->p = comma ? comma : c->end;
	}
	*b = s;
	*n = c->err == SCRAM_OK ? (size_t)(c->p - s) : 0;
}

/* saslname (RFC 5802 7) into dst (SCRAM_USER_MAX + 1 bytes): "=2C" is ',',
 * "=3D" is '=', any other '=' is wrong; decoded, printable ASCII only
 * (the SASLprep subset of scram.h). */
static void
saslname(struct cur *c, char *dst)
{
	const uint8_t *s;
	size_t n, o = 0;
	field(c, &s, &n);
	dst[0] = '\0';
	if (c->err == SCRAM_OK && n == 0)
		fail(c, SCRAM_BAD_SYNTAX);
	for (size_t i = 0; c->err == SCRAM_OK && i < n; i++) {
		uint8_t ch = s[i];
		if (ch == '=') {
			if (n - i >= 3 && s[i + 1] == '2' && s[i + 2] == 'C')
				ch = ',';
			else if (n - i >= 3 && s[i + 1] == '3' && s[i + 2] == 'D')
				ch = '=';
			else
				fail(c, SCRAM_BAD_SYNTAX);
			i += 2;
		} else if (ch == '\0') {
			fail(c, SCRAM_BAD_SYNTAX);	/* value-safe-char excludes NUL */
		} else if (ch < 0x20 || ch > 0x7e) {
			fail(c, SCRAM_BAD_NAME);
		}
		if (o == SCRAM_USER_MAX)
			fail(c, SCRAM_TOO_LONG);
		if (c->err == SCRAM_OK)
			dst[o++] = (char)ch;
	}
	dst[c->err == SCRAM_OK ? o : 0] = '\0';
}

/* printable = %x21-2B / %x2D-7E: a nonce character. */
static bool
nonce_char(int ch)
{
	return ch >= 0x21 && ch <= 0x7e && ch != ',';
}

/* A nonce of 1..max characters: its offset and length. */
static void
nonce(struct cur *c, size_t max, size_t *off, size_t *len)
{
	const uint8_t *s;
	size_t n;
	field(c, &s, &n);
	if (c->err == SCRAM_OK && n == 0)
		fail(c, SCRAM_BAD_SYNTAX);
	if (c->err == SCRAM_OK && n > max)
		fail(c, SCRAM_TOO_LONG);
	for (size_t i = 0; c->err == SCRAM_OK && i < n; i++)
		if (!nonce_char(s[i]))
			fail(c, SCRAM_BAD_SYNTAX);
	*off = (size_t)(s - c->base);
	*len = c->err == SCRAM_OK ? n : 0;
}

static bool
is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* attr-val = ALPHA "=" value; value = 1*value-char (any byte but ',' and
 * NUL).  Only the form is checked: unknown extensions are ignored. */
static void
extension(struct cur *c)
{
	const uint8_t *s;
	size_t n;
	if (!is_alpha(peek(c)))
		fail(c, SCRAM_BAD_SYNTAX);
	if (c->err == SCRAM_OK)
		c->p++;
	expect(c, "=");
	field(c, &s, &n);
	if (c->err == SCRAM_OK && (n == 0 || memchr(s, '\0', n) != NULL))
		fail(c, SCRAM_BAD_SYNTAX);
}

/* cb-name = 1*(ALPHA / DIGIT / "." / "-") */
static void
cb_name(struct cur *c, char *dst)
{
	const uint8_t *s;
	size_t n;
	field(c, &s, &n);
	dst[0] = '\0';
	if (c->err == SCRAM_OK && n == 0)
		fail(c, SCRAM_BAD_SYNTAX);
	if (c->err == SCRAM_OK && n > SCRAM_CBNAME_MAX)
		fail(c, SCRAM_TOO_LONG);
	for (size_t i = 0; c->err == SCRAM_OK && i < n; i++)
		if (!is_alpha(s[i]) && !(s[i] >= '0' && s[i] <= '9') && s[i] != '.' && s[i] != '-')
			fail(c, SCRAM_BAD_SYNTAX);
	if (c->err == SCRAM_OK) {
		memcpy(dst, s, n);
		dst[n] = '\0';
	}
}

/* --- client-first ------------------------------------------------------------ */

/* gs2-header = gs2-cbind-flag "," [ authzid ] "," */
static void
gs2_header(struct cur *c, struct scram_first *f)
{
	switch (peek(c)) {
	case 'n':
		f->cb = SCRAM_CB_N;
		c->p++;
		break;
	case 'y':
		f->cb = SCRAM_CB_Y;
		c->p++;
		break;
	case 'p':
		f->cb = SCRAM_CB_P;
		c->p++;
		expect(c, "=");
		cb_name(c, f->cb_name);
		break;
	default:
		fail(c, SCRAM_BAD_SYNTAX);
		break;
	}
	expect(c, ",");
	if (peek(c) == 'a') {
		expect(c, "a=");
		saslname(c, f->authzid);
		f->has_authzid = c->err == SCRAM_OK;
	}
	expect(c, ",");
	f->gs2_len = (size_t)(c->p - c->base);
}

enum scram_rc
scram_parse_first(const uint8_t *p, size_t len, struct scram_first *out)
{
	struct cur c = { p, p, p + len, SCRAM_OK };
	memset(out, 0, sizeof *out);
	if (len > SCRAM_MSG_MAX)
		return SCRAM_TOO_LONG;
	gs2_header(&c, out);
	/* RFC 5802 5.1: "m" is reserved for a mandatory extension; a server
	 * that does not know it MUST fail the exchange */
	if (c.err == SCRAM_OK && c.end - c.p >= 2 && c.p[0] == 'm' && c.p[1] == '=')
		fail(&c, SCRAM_MEXT);
	expect(&c, "n=");
	saslname(&c, out->user);
	expect(&c, ",r=");
	nonce(&c, SCRAM_NONCE_MAX, &out->nonce_off, &out->nonce_len);
	while (c.err == SCRAM_OK && c.p < c.end) {
		expect(&c, ",");
		extension(&c);
	}
	/* last: a malformed message is BAD whatever its authzid says */
	if (c.err == SCRAM_OK && out->has_authzid && strcmp(out->authzid, out->user) != 0)
		fail(&c, SCRAM_AUTHZID);
	if (c.err != SCRAM_OK)
		memset(out, 0, sizeof *out);
	return c.err;
}

enum scram_rc
scram_cbind_check(const struct scram_first *f, bool plus, bool offered)
{
	if (plus)
		return f->cb == SCRAM_CB_P && strcmp(f->cb_name, "tls-exporter") == 0 ?
		    SCRAM_OK : SCRAM_CBIND;
	/* RFC 5802 6: "p" under the mechanism without -PLUS is an error; "y"
	 * says the client believes we cannot bind, which is false (and a
	 * downgrade by someone in the middle) when -PLUS was offered */
	if (f->cb == SCRAM_CB_P || (f->cb == SCRAM_CB_Y && offered))
		return SCRAM_CBIND;
	return SCRAM_OK;
}

/* --- client-final -------------------------------------------------------------- */

/* A base64 field decoded into out (exactly want bytes when want > 0). */
static void
b64_field(struct cur *c, uint8_t *out, size_t max, size_t want, size_t *got)
{
	const uint8_t *s;
	size_t n, dl = 0;
	field(c, &s, &n);
	*got = 0;
	if (c->err != SCRAM_OK)
		return;
	switch (b64_decode(s, n, out, max, &dl)) {
	case B64_OK:
		if (want > 0 && dl != want)
			fail(c, SCRAM_BAD_SYNTAX);
		break;
	case B64_TOO_LONG:
		fail(c, want > 0 ? SCRAM_BAD_SYNTAX : SCRAM_TOO_LONG);
		break;
	case B64_BAD:
		fail(c, SCRAM_BAD_SYNTAX);
		break;
	}
	*got = c->err == SCRAM_OK ? dl : 0;
}

enum scram_rc
scram_parse_final(const uint8_t *p, size_t len, struct scram_final *out)
{
	struct cur c = { p, p, p + len, SCRAM_OK };
	size_t got = 0;
	bool proof = false;
	memset(out, 0, sizeof *out);
	if (len > SCRAM_MSG_MAX)
		return SCRAM_TOO_LONG;
	expect(&c, "c=");
	b64_field(&c, out->cbinput, sizeof out->cbinput, 0, &out->cbinput_len);
	expect(&c, ",r=");
	nonce(&c, SCRAM_NONCE_MAX + SCRAM_SNONCE_MAX, &out->nonce_off, &out->nonce_len);
	/* extensions, then the proof, which must end the message */
	while (c.err == SCRAM_OK && !proof) {
		size_t at = (size_t)(c.p - c.base);
		expect(&c, ",");
		if (c.err == SCRAM_OK && c.end - c.p >= 2 && c.p[0] == 'p' && c.p[1] == '=') {
			c.p += 2;
			b64_field(&c, out->proof, sizeof out->proof, SCRAM_HASH_LEN, &got);
			out->without_proof_len = at;
			proof = true;
		} else {
			extension(&c);
		}
	}
	if (c.err == SCRAM_OK && c.p != c.end)
		fail(&c, SCRAM_BAD_SYNTAX);
	if (c.err != SCRAM_OK)
		OPENSSL_cleanse(out, sizeof *out);
	return c.err;
}

/* --- the math (RFC 5802 3) ------------------------------------------------------ */

static bool
hmac(const void *key, size_t kl, const void *d, size_t n, uint8_t out[SCRAM_HASH_LEN])
{
	unsigned int ol = 0;
	return HMAC(EVP_sha256(), key, (int)kl, d, n, out, &ol) != NULL && ol == SCRAM_HASH_LEN;
}

static bool
sha256(const void *d, size_t n, uint8_t out[SCRAM_HASH_LEN])
{
	unsigned int ol = 0;
	return EVP_Digest(d, n, out, &ol, EVP_sha256(), NULL) == 1 && ol == SCRAM_HASH_LEN;
}

bool
scram_password_ok(const char *pw)
{
	size_t n = pw ? strnlen(pw, PW_HASH_INPUT_MAX + 1) : 0;
	if (n == 0 || n > PW_HASH_INPUT_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)pw[i] < 0x20 || (unsigned char)pw[i] > 0x7e)
			return false;
	return true;
}

int
scram_keys_make(const char *pw, const uint8_t *salt, size_t salt_len, uint32_t iter,
    struct user_scram *out)
{
	uint8_t salted[SCRAM_HASH_LEN], ckey[SCRAM_HASH_LEN];
	memset(out, 0, sizeof *out);
	if (!scram_password_ok(pw) || salt_len < USERS_SCRAM_SALT_MIN ||
	    salt_len > USERS_SCRAM_SALT_MAX || iter < USERS_SCRAM_ITER_MIN ||
	    iter > USERS_SCRAM_ITER_MAX)
		return -1;
	bool ok = PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, (int)salt_len, (int)iter,
	    EVP_sha256(), SCRAM_HASH_LEN, salted) == 1 &&
	    hmac(salted, sizeof salted, "Client Key", 10, ckey) &&
	    sha256(ckey, sizeof ckey, out->stored_key) &&
	    hmac(salted, sizeof salted, "Server Key", 10, out->server_key);
	OPENSSL_cleanse(salted, sizeof salted);
	OPENSSL_cleanse(ckey, sizeof ckey);
	if (!ok) {
		OPENSSL_cleanse(out, sizeof *out);
		return -1;
	}
	out->iter = iter;
	out->salt_len = salt_len;
	memcpy(out->salt, salt, salt_len);
	return 0;
}

/* HMAC(secret, what NUL lowercased-user) */
static void
fake_part(const uint8_t *secret, const char *what, const char *user, uint8_t out[SCRAM_HASH_LEN])
{
	char m[16 + SCRAM_USER_MAX + 1];
	size_t wl = strlen(what), ul = strnlen(user, SCRAM_USER_MAX);
	memcpy(m, what, wl + 1);
	for (size_t i = 0; i < ul; i++)
		m[wl + 1 + i] = (char)ascii_lower((unsigned char)user[i]);
	if (!hmac(secret, SCRAM_SECRET_LEN, m, wl + 1 + ul, out))
		memset(out, 0, SCRAM_HASH_LEN);	/* fake keys never log in anyway */
}

void
scram_fake_keys(const uint8_t secret[SCRAM_SECRET_LEN], const char *user, uint32_t iter,
    struct user_scram *out)
{
	uint8_t h[SCRAM_HASH_LEN];
	memset(out, 0, sizeof *out);
	fake_part(secret, "salt", user, h);
	memcpy(out->salt, h, SCRAM_SALT_LEN);
	out->salt_len = SCRAM_SALT_LEN;
	out->iter = iter;
	fake_part(secret, "stored", user, out->stored_key);
	fake_part(secret, "server", user, out->server_key);
	OPENSSL_cleanse(h, sizeof h);
}

/* --- the exchange ------------------------------------------------------------- */

void
scram_server_wipe(struct scram_server *x)
{
	OPENSSL_cleanse(x, sizeof *x);
}

enum scram_rc
scram_server_start(struct scram_server *x, const uint8_t *msg, size_t len, bool plus,
    bool offered, const uint8_t *cb)
{
	scram_server_wipe(x);
	if (len > sizeof x->first)
		return SCRAM_TOO_LONG;
	memcpy(x->first, msg, len);
	x->first_len = len;
	enum scram_rc rc = scram_parse_first(x->first, len, &x->f);
	if (rc == SCRAM_OK)
		rc = scram_cbind_check(&x->f, plus, offered);
	/* -PLUS without exporter data from the front: nothing to bind to */
	if (rc == SCRAM_OK && x->f.cb == SCRAM_CB_P && cb == NULL)
		rc = SCRAM_CBIND;
	if (rc != SCRAM_OK) {
		scram_server_wipe(x);
		return rc;
	}
	if (x->f.cb == SCRAM_CB_P) {
		memcpy(x->cb, cb, SCRAM_CB_LEN);
		x->has_cb = true;
	}
	x->step = SCRAM_STEP_STARTED;
	return SCRAM_OK;
}

const char *
scram_server_challenge(struct scram_server *x, const struct user_scram *keys, bool real,
    const char *snonce)
{
	char salt[B64_ENC_LEN(USERS_SCRAM_SALT_MAX) + 1];
	size_t sl = strnlen(snonce, SCRAM_SNONCE_MAX + 1);
	bool ok = x->step == SCRAM_STEP_STARTED && sl > 0 && sl <= SCRAM_SNONCE_MAX &&
	    keys->salt_len >= 1 && keys->salt_len <= USERS_SCRAM_SALT_MAX &&
	    keys->iter >= 1 && keys->iter <= USERS_SCRAM_ITER_MAX;
	for (size_t i = 0; ok && i < sl; i++)
		ok = nonce_char((unsigned char)snonce[i]);
	if (!ok)
		return NULL;
	b64_encode(keys->salt, keys->salt_len, salt, sizeof salt);
	int w = snprintf(x->sfirst, sizeof x->sfirst, "r=%.*s%s,s=%s,i=%u",
	    (int)x->f.nonce_len, (const char *)x->first + x->f.nonce_off, snonce, salt,
	    (unsigned)keys->iter);
	if (w < 0 || (size_t)w >= sizeof x->sfirst)
		return NULL;	/* cannot happen: the parts are bounded */
	x->sfirst_len = (size_t)w;
	x->nonce_len = x->f.nonce_len + sl;
	x->keys = *keys;
	x->real = real;
	x->step = SCRAM_STEP_CHALLENGED;
	return x->sfirst;
}

/* AuthMessage = client-first-message-bare "," server-first-message ","
 * client-final-message-without-proof, into am (size n); its length. */
static size_t
auth_message(const struct scram_server *x, const uint8_t *fin, size_t fin_len, uint8_t *am,
    size_t n)
{
	size_t bl = x->first_len - x->f.gs2_len, o = 0;
	if (bl + 1 + x->sfirst_len + 1 + fin_len > n)
		return 0;
	memcpy(am + o, x->first + x->f.gs2_len, bl);
	o += bl;
	am[o++] = ',';
	memcpy(am + o, x->sfirst, x->sfirst_len);
	o += x->sfirst_len;
	am[o++] = ',';
	memcpy(am + o, fin, fin_len);
	return o + fin_len;
}

/* RFC 5802 3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage);
 * the proof is right when H(ClientKey) = StoredKey.  ServerSignature =
 * HMAC(ServerKey, AuthMessage) into sig.  false when it is wrong or
 * OpenSSL failed. */
static bool
proof_ok(const struct scram_server *x, const uint8_t *am, size_t aml,
    const uint8_t proof[SCRAM_HASH_LEN], uint8_t sig[SCRAM_HASH_LEN])
{
	uint8_t csig[SCRAM_HASH_LEN], ckey[SCRAM_HASH_LEN], stored[SCRAM_HASH_LEN];
	bool ok = hmac(x->keys.stored_key, SCRAM_HASH_LEN, am, aml, csig);
	for (size_t i = 0; i < SCRAM_HASH_LEN; i++)
		ckey[i] = proof[i] ^ csig[i];
	ok = ok && sha256(ckey, sizeof ckey, stored) &&
	    hmac(x->keys.server_key, SCRAM_HASH_LEN, am, aml, sig);
	/* the comparison runs whatever ok says: the same work every time */
	ok = CRYPTO_memcmp(stored, x->keys.stored_key, SCRAM_HASH_LEN) == 0 && ok;
	OPENSSL_cleanse(csig, sizeof csig);
	OPENSSL_cleanse(ckey, sizeof ckey);
	OPENSSL_cleanse(stored, sizeof stored);
	return ok;
}

/* The "c=" the client had to send: the gs2-header as it sent it, then
 * the exporter data when it binds (RFC 5802 7, RFC 9266 3). */
static bool
cbinput_ok(const struct scram_server *x, const struct scram_final *fi)
{
	uint8_t want[SCRAM_MSG_MAX + SCRAM_CB_LEN];
	size_t wl = x->f.gs2_len;
	memcpy(want, x->first, wl);
	if (x->has_cb) {
		memcpy(want + wl, x->cb, SCRAM_CB_LEN);
		wl += SCRAM_CB_LEN;
	}
	return fi->cbinput_len == wl && CRYPTO_memcmp(fi->cbinput, want, wl) == 0;
}

enum scram_rc
scram_server_final(struct scram_server *x, const uint8_t *msg, size_t len,
    char out[SCRAM_SFINAL_MAX])
{
	struct scram_final fi;
	uint8_t am[SCRAM_MSG_MAX + 1 + SCRAM_SFIRST_MAX + 1 + SCRAM_MSG_MAX];
	uint8_t sig[SCRAM_HASH_LEN];
	out[0] = '\0';
	if (x->step != SCRAM_STEP_CHALLENGED)
		return SCRAM_STATE;
	x->step = SCRAM_STEP_DONE;	/* one try per exchange */
	enum scram_rc rc = scram_parse_final(msg, len, &fi);
	if (rc != SCRAM_OK)
		return rc;
	bool cb_ok = cbinput_ok(x, &fi);
	bool nonce_ok = fi.nonce_len == x->nonce_len &&
	    memcmp(msg + fi.nonce_off, x->sfirst + 2, x->nonce_len) == 0;
	size_t aml = auth_message(x, msg, fi.without_proof_len, am, sizeof am);
	bool proof = aml > 0 && proof_ok(x, am, aml, fi.proof, sig);
	if (!cb_ok)
		rc = SCRAM_CBIND;
	else if (!nonce_ok)
		rc = SCRAM_NONCE;
	else if (!proof || !x->real)
		rc = SCRAM_PROOF;
	if (rc == SCRAM_OK) {
		memcpy(out, "v=", 2);
		b64_encode(sig, sizeof sig, out + 2, SCRAM_SFINAL_MAX - 2);
	}
	OPENSSL_cleanse(am, sizeof am);
	OPENSSL_cleanse(sig, sizeof sig);
	OPENSSL_cleanse(&fi, sizeof fi);
	return rc;
}

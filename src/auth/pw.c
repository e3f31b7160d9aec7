/*
 * auth/pw.c - verifying and making crypt(3) password hashes, the dummy
 * verification for unknown users, and the failure delay table (rules in
 * pw.h).
 *
 * Input:   passwords from the network (after auth/sasl.c decoded them:
 *          C strings, bounded) or from the admin (CLI); hashes from the
 *          users file (validated by mail/users.c, checked again here);
 *          client address text and user names as the auth role has them.
 * Output:  yes/no, a new hash, milliseconds to wait.
 * Trusts:  nothing in the password or the names; the hash only as far as
 *          its scheme prefix is checked.  Runs in: auth role, CLI.
 * Not here: which user a name means (mail/users.c), SASL (auth/sasl.c),
 *          the waiting itself (the caller's timer).
 */
#include "auth/pw.h"

#include <crypt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/util.h"

/* --- hashes ------------------------------------------------------------- */

/* The schemes the users file accepts (mail/users.c check_hash).  Checked
 * again because libxcrypt would happily verify DES or MD5 strings. */
static bool
scheme_ok(const char *h)
{
	return strncmp(h, "$y$", 3) == 0 || strncmp(h, "$2b$", 4) == 0 ||
	    strncmp(h, "$2y$", 4) == 0;
}

/* crypt_rn into a zeroed heap work area (struct crypt_data is 32 KiB, too
 * big for a worker's stack), result copied to out (CRYPT_OUTPUT_SIZE);
 * false when crypt refuses.  The work area holds the password and the
 * hash: it is wiped before it is freed. */
static bool
crypt_into(const char *password, const char *setting, char out[CRYPT_OUTPUT_SIZE])
{
	struct crypt_data *cd = xcalloc(1, sizeof *cd);
	const char *r = crypt_rn(password, setting, cd, (int)sizeof *cd);
	/* crypt_rn returns NULL on failure; a result starting with '*' is a
	 * failure token in the other crypt calls, never a hash: refuse both */
	bool ok = r != NULL && r[0] != '*' && str_copy(out, CRYPT_OUTPUT_SIZE, r);
	OPENSSL_cleanse(cd, sizeof *cd);
	free(cd);
	return ok;
}

bool
pw_verify(const char *hash, const char *password)
{
	char out[CRYPT_OUTPUT_SIZE];
	if (hash == NULL || password == NULL || !scheme_ok(hash))
		return false;
	if (strnlen(password, PW_PASSWORD_MAX + 1) > PW_PASSWORD_MAX)
		return false;
	bool ok = false;
	if (crypt_into(password, hash, out)) {
		/* the length is the scheme's, not a secret; the bytes are
		 * compared in constant time */
		size_t hl = strlen(hash);
		ok = strlen(out) == hl && CRYPTO_memcmp(out, hash, hl) == 0;
	}
	OPENSSL_cleanse(out, sizeof out);
	return ok;
}

int
pw_hash(const char *password, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], h[CRYPT_OUTPUT_SIZE];
	int rc = -1;
	if (out == NULL || outlen == 0)
		return -1;
	out[0] = '\0';
	size_t n = password ? strnlen(password, PW_HASH_INPUT_MAX + 1) : 0;
	if (n == 0 || n > PW_HASH_INPUT_MAX)
		return -1;
	/* count 0: libxcrypt's default cost; NULL rbytes: the salt comes
	 * from the kernel (getrandom) */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, (int)sizeof salt) == NULL)
		return -1;
	if (crypt_into(password, salt, h) && str_copy(out, outlen, h) && pw_verify(out, password))
		rc = 0;
	else
		OPENSSL_cleanse(out, outlen);	/* all zero: "" */
	OPENSSL_cleanse(h, sizeof h);
	return rc;
}

/* Used only when pw_hash cannot make the dummy (no randomness): a yescrypt
 * hash of a random string, made once with libxcrypt's default cost. */
static const char DUMMY_FALLBACK[] =
    "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79";

void
pw_verify_dummy(const char *password)
{
	static char dummy[PW_HASH_MAX];
	/* made at run time so that its cost is the one pw_hash gives real
	 * accounts today, whatever libxcrypt's default becomes */
	if (dummy[0] == '\0' && pw_hash("talon dummy password", dummy, sizeof dummy) < 0)
		str_copy(dummy, sizeof dummy, DUMMY_FALLBACK);
	(void)pw_verify(dummy, password);
}

/* --- the delay table ------------------------------------------------------ */

#define KEY_LEN 32	/* SHA-256 */

struct pw_pair {
	uint8_t key[KEY_LEN];
	uint32_t failures;
	time_t last;		/* time of the last failure */
};

struct pw_delay {
	struct pw_pair *v;	/* v[0..n), unordered */
	size_t n, cap, max;
	EVP_MD_CTX *md;		/* made on first use, reused for every key */
};

struct pw_delay *
pw_delay_new(size_t max)
{
	struct pw_delay *d = xcalloc(1, sizeof *d);
	d->max = max ? max : PW_DELAY_MAX;
	return d;
}

void
pw_delay_free(struct pw_delay **dp)
{
	struct pw_delay *d = *dp;
	if (d == NULL)
		return;
	free(d->v);
	EVP_MD_CTX_free(d->md);
	free(d);
	*dp = NULL;
}

/* SHA-256 of addr, a NUL, and user lowercased (ASCII).  The NUL keeps
 * ("a", "bc") and ("ab", "c") apart: neither part can hold one.  false
 * only when OpenSSL fails. */
static bool
pair_key(struct pw_delay *d, const char *addr, const char *user, uint8_t key[KEY_LEN])
{
	unsigned char low[64];
	unsigned int kl = 0;
	size_t k = 0;
	if (d->md == NULL)
		d->md = EVP_MD_CTX_new();
	bool ok = d->md != NULL && EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(d->md, addr ? addr : "", strlen(addr ? addr : "") + 1) == 1;
	for (const char *p = user ? user : ""; ok && *p != '\0'; p++) {
		low[k++] = (unsigned char)ascii_lower((unsigned char)*p);
		if (k == sizeof low) {
			ok = EVP_DigestUpdate(d->md, low, k) == 1;
			k = 0;
		}
	}
	ok = ok && EVP_DigestUpdate(d->md, low, k) == 1 &&
	    EVP_DigestFinal_ex(d->md, key, &kl) == 1 && kl == KEY_LEN;
	return ok;
}

static size_t
pair_find(const struct pw_delay *d, const uint8_t key[KEY_LEN])
{
	for (size_t i = 0; i < d->n; i++)
		if (memcmp(d->v[i].key, key, KEY_LEN) == 0)
			return i;
	return SIZE_MAX;
}

/* No failure for PW_DELAY_FORGET seconds.  A clock that went back keeps
 * the pair (now <= last); the difference is taken unsigned so no pair of
 * time_t values can overflow. */
static bool
pair_forgotten(const struct pw_pair *p, time_t now)
{
	return now > p->last && (uintmax_t)now - (uintmax_t)p->last >= PW_DELAY_FORGET;
}

static void
pair_remove(struct pw_delay *d, size_t i)
{
	d->v[i] = d->v[--d->n];
}

/* The slot a new pair takes in a full table: a forgotten pair, else the
 * fewest failures, the oldest of those (see pw.h for why). */
static size_t
pair_victim(const struct pw_delay *d, time_t now)
{
	size_t best = 0;
	for (size_t i = 0; i < d->n; i++) {
		const struct pw_pair *p = &d->v[i], *b = &d->v[best];
		if (pair_forgotten(p, now))
			return i;
		if (p->failures < b->failures || (p->failures == b->failures && p->last < b->last))
			best = i;
	}
	return best;
}

/* The curve of pw.h for f failures. */
static unsigned
curve_ms(uint32_t f)
{
	if (f < 2)
		return 0;
	if (f - 2 >= 6)		/* 250 << 6 = 16000 is over the cap already */
		return PW_DELAY_CAP_MS;
	unsigned ms = PW_DELAY_BASE_MS << (f - 2);
	return ms < PW_DELAY_CAP_MS ? ms : PW_DELAY_CAP_MS;
}

unsigned
pw_delay_ms(struct pw_delay *d, const char *addr, const char *user, time_t now)
{
	uint8_t key[KEY_LEN];
	/* without a key we cannot tell who this is: slow rather than fast */
	if (!pair_key(d, addr, user, key))
		return PW_DELAY_CAP_MS;
	size_t i = pair_find(d, key);
	if (i == SIZE_MAX)
		return 0;
	if (pair_forgotten(&d->v[i], now)) {
		pair_remove(d, i);
		return 0;
	}
	return curve_ms(d->v[i].failures);
}

void
pw_delay_fail(struct pw_delay *d, const char *addr, const char *user, time_t now)
{
	uint8_t key[KEY_LEN];
	if (!pair_key(d, addr, user, key))
		return;
	size_t i = pair_find(d, key);
	if (i != SIZE_MAX && pair_forgotten(&d->v[i], now))
		d->v[i].failures = 0;
	if (i == SIZE_MAX) {
		if (d->n < d->max) {
			if (d->n == d->cap) {
				/* grown lazily: an idle auth process keeps a small table */
				size_t ncap = d->cap ? d->cap * 2 : 64;
				if (ncap > d->max)
					ncap = d->max;
				d->v = xreallocarray(d->v, ncap, sizeof *d->v);
				d->cap = ncap;
			}
			i = d->n++;
		} else {
			i = pair_victim(d, now);
		}
		memcpy(d->v[i].key, key, KEY_LEN);
		d->v[i].failures = 0;
	}
	if (d->v[i].failures < UINT32_MAX)
		d->v[i].failures++;
	d->v[i].last = now;
}

void
pw_delay_ok(struct pw_delay *d, const char *addr, const char *user)
{
	uint8_t key[KEY_LEN];
	if (!pair_key(d, addr, user, key))
		return;
	size_t i = pair_find(d, key);
	if (i != SIZE_MAX)
		pair_remove(d, i);
}

size_t
pw_delay_count(const struct pw_delay *d)
{
	return d->n;
}

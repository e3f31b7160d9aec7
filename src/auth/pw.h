/*
 * auth/pw.h - password hashes (libxcrypt) and the delay after failed
 * logins.
 *
 * Hashes:  crypt(3) strings as the users file holds them, without the
 *          {SCHEME} prefix (struct user_ent's hash, mail/users.h): yescrypt
 *          "$y$..." or bcrypt "$2b$..."/"$2y$...".  Other schemes are
 *          refused here too, even those libxcrypt knows (DES would compare
 *          only 8 bytes of the password): users.c already rejects them in
 *          the file, this is the second lock on the same door.
 * Limits:  a password is a C string of at most PW_PASSWORD_MAX bytes to
 *          verify; libxcrypt refuses passphrases of 512 bytes and more
 *          (CRYPT_MAX_PASSPHRASE_SIZE), so pw_hash takes at most
 *          PW_HASH_INPUT_MAX and a longer one never verifies.  bcrypt uses
 *          only the first 72 bytes (its design, not ours).
 * Delay:   see struct pw_delay below; pure, the caller passes the time.
 *
 * Runs in: the auth role (verify, delay) and the CLI (pw_hash).  The
 * crypt functions are CPU-heavy on purpose (tens of milliseconds).
 */
#ifndef TALON_AUTH_PW_H
#define TALON_AUTH_PW_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define PW_PASSWORD_MAX		1024	/* bytes accepted by pw_verify */
#define PW_HASH_INPUT_MAX	511	/* bytes pw_hash takes (libxcrypt's limit) */
#define PW_HASH_MAX		128	/* a "$y$j9T$<22>$<43>" hash is 73 bytes */

/* True when password matches hash.  False for a NULL or empty hash, one
 * starting with '*' or '!' (locked), a scheme other than $y$, $2b$, $2y$,
 * a hash crypt refuses, and a NULL password or one over PW_PASSWORD_MAX
 * bytes.  The result is compared in constant time; the crypt work area is
 * on the heap and wiped afterwards. */
bool pw_verify(const char *hash, const char *password);

/* A new yescrypt hash of password (1..PW_HASH_INPUT_MAX bytes) with the
 * default cost and a salt from the kernel, into out (outlen bytes, at least
 * PW_HASH_MAX is always enough).  The hash is verified once before it is
 * returned.  0, or -1 for an empty or too long password, a too small out
 * or a crypt failure (out is then "").  An empty password is refused
 * because its hash would let anyone log in with nothing. */
int pw_hash(const char *password, char *out, size_t outlen);

/* Spend the time of one verification for a user who does not exist, so
 * the answer's delay does not tell whether the name is known.  The dummy
 * hash is made on the first call (a yescrypt hash like pw_hash's), so
 * that call costs twice: the auth role calls it once at start. */
void pw_verify_dummy(const char *password);

/*
 * The delay after failed logins, per (client address, user name) pair.
 *
 * The curve, for f failures recorded for the pair (each within
 * PW_DELAY_FORGET seconds of the one before):
 *     f = 0, 1      0 ms       (a first typo costs nothing)
 *     f = 2..7      250 ms * 2^(f-2): 250, 500, 1000, 2000, 4000, 8000
 *     f >= 8        PW_DELAY_CAP_MS (15 s)
 * The caller records a failure with pw_delay_fail and then waits
 * pw_delay_ms before it answers; a success clears the pair
 * (pw_delay_ok).  A pair without failures for PW_DELAY_FORGET seconds is
 * forgotten.  The user name is compared without ASCII case (users_find
 * ignores case too, so "Alice" must not get a fresh counter).
 *
 * At most max pairs are kept (PW_DELAY_MAX by default).  When the table
 * is full, a new pair takes the place of a forgotten one, else of the one
 * with the fewest failures, the oldest among those: a client that sprays
 * new user names churns its own small entries instead of evicting the
 * pair that is being guessed hard.  Per-pair delays do not stop one
 * address from guessing many users; that is the ban table's job
 * (policy/bans.h, auth-failure).
 *
 * Keys are SHA-256 digests of "addr NUL user", so an entry is small and
 * its size does not depend on what the client sent.  Lookups scan the
 * table: 4096 entries of 48 bytes cost microseconds, next to a yescrypt
 * verification of tens of milliseconds.  Should OpenSSL fail to make a
 * digest, pw_delay_ms answers PW_DELAY_CAP_MS (slow rather than fast) and
 * the other calls change nothing.
 */
#define PW_DELAY_MAX		4096
#define PW_DELAY_FORGET		(15 * 60)	/* seconds */
#define PW_DELAY_BASE_MS	250u
#define PW_DELAY_CAP_MS		15000u

struct pw_delay;

/* A table of at most max pairs (0: PW_DELAY_MAX); exits on allocation
 * failure like the x functions.  Free with pw_delay_free. */
struct pw_delay *pw_delay_new(size_t max);
void pw_delay_free(struct pw_delay **dp);
/* Milliseconds to wait before answering the pair now (the curve above). */
unsigned pw_delay_ms(struct pw_delay *d, const char *addr, const char *user, time_t now);
/* Count one failed login of the pair at now. */
void pw_delay_fail(struct pw_delay *d, const char *addr, const char *user, time_t now);
/* A successful login: forget the pair. */
void pw_delay_ok(struct pw_delay *d, const char *addr, const char *user);
/* Pairs held, forgotten ones included until their slot is reused. */
size_t pw_delay_count(const struct pw_delay *d);

#endif

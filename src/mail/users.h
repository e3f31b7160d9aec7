/*
 * mail/users.h - the users file (Dovecot passwd-file style) and the
 * aliases file (aliases(5)), and recipient resolution over both.
 *
 * users:   user:{SCHEME}hash[:uid:gid:gecos:home:shell:extra]
 *          one per line, '#' comments, blank lines ignored.  The user name
 *          is the mailbox name: [a-z0-9][a-z0-9._-]* up to 64 bytes
 *          (lowercase; it becomes a directory under the store).  The hash
 *          may be empty (no login) or a yescrypt ($y$) or bcrypt ($2b$,
 *          $2y$) crypt string, optionally prefixed {CRYPT} or {BLF-CRYPT};
 *          any other scheme is an error: we store no weaker hashes.
 *          uid, gid, gecos, home and shell are kept by `talon user` and
 *          not used; extra is everything after the seventh ':' (it may
 *          hold ':'), space-separated key=value pairs as in Dovecot.
 * SCRAM:   an account's SCRAM-SHA-256 keys (RFC 5802, RFC 7677), opt-in,
 *          are one pair of the extra field:
 *              scram-sha-256=ITER,SALT,STOREDKEY,SERVERKEY
 *          ITER decimal, USERS_SCRAM_ITER_MIN..USERS_SCRAM_ITER_MAX (RFC
 *          7677 4: at least 4096); SALT base64 (RFC 4648 4, strict) of
 *          USERS_SCRAM_SALT_MIN..USERS_SCRAM_SALT_MAX bytes; STOREDKEY and
 *          SERVERKEY base64 of 32 bytes: StoredKey = SHA-256(HMAC(
 *          SaltedPassword, "Client Key")) and ServerKey = HMAC(
 *          SaltedPassword, "Server Key"), SaltedPassword = PBKDF2-HMAC-
 *          SHA-256(password, SALT, ITER) (RFC 5802 3).  The same four
 *          values, in the same order, as Dovecot's {SCRAM-SHA-256} scheme.
 *          Never the password or SaltedPassword.  At most one such pair
 *          per line; anything malformed is an error (the message never
 *          shows the keys).  Keys on an account without a hash are a
 *          warning: the auth process does not use them (no hash, no login).
 *          Other extra pairs are kept and ignored.
 * aliases: name: target[, target...]   continuation lines start with a blank.
 *          targets are user names, alias names, or local@localdomain.
 *          "|program", "/file" and ":include:" are errors (not supported,
 *          on purpose).  postmaster and abuse must resolve.
 *
 * Decisions (see users.c):
 *   - an uppercase user name in the users file is an error (expected
 *     lowercase), not lowercased behind the admin's back: it names a
 *     directory and may be shared with Dovecot.  Alias names and targets
 *     are lowercased (aliases(5) ignores case).
 *   - a line without ':' is an error ("bob:" is an account without login).
 *   - aliases: '#' comments only on lines of their own; targets are
 *     separated by commas and/or blanks; blank and comment lines do not end
 *     an entry (an indented line after them still continues it, as in
 *     Postfix).  A duplicate alias name is a warning; the first wins.
 *   - an alias that reaches itself again (directly or through others) is
 *     delivered to the user of that name if there is one ("alice: alice,
 *     bob" keeps a copy, as in sendmail and Postfix); otherwise it is a loop.
 *   - one expansion passes at most 8 nested aliases, opens at most 1024
 *     aliases in all and yields at most RCPT_EXPAND_MAX users.
 *
 * Input: admin-written files, read by core/afile.h and parsed defensively
 * (file:line errors).  The _load functions read at most 256 MiB.
 * Runs in: parent (parse), smtp workers (lookup, read-only after fork).
 */
#ifndef TALON_USERS_H
#define TALON_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

struct conf;

#define USERS_SCRAM_KEY		"scram-sha-256="	/* the extra field's key */
#define USERS_SCRAM_ITER_MIN	4096u
#define USERS_SCRAM_ITER_MAX	10000000u	/* a client pays ITER HMACs per login */
#define USERS_SCRAM_SALT_MIN	8
#define USERS_SCRAM_SALT_MAX	64
#define USERS_SCRAM_KEY_LEN	32		/* SHA-256 */
/* "ITER,SALT,STOREDKEY,SERVERKEY" at its longest, with the NUL */
#define USERS_SCRAM_TEXT_MAX	(8 + 1 + 88 + 1 + 44 + 1 + 44 + 1)

struct user_scram {
	uint32_t iter;
	size_t salt_len;
	uint8_t salt[USERS_SCRAM_SALT_MAX];
	uint8_t stored_key[USERS_SCRAM_KEY_LEN];
	uint8_t server_key[USERS_SCRAM_KEY_LEN];
};

struct user_ent {
	char *name;		/* lowercase */
	char *hash;		/* as in the file, without {SCHEME}; may be "" */
	struct user_scram *scram;	/* NULL: the account has no SCRAM keys */
	unsigned line;
};

struct users {
	struct user_ent *v;	/* sorted by name */
	size_t n;
};

struct alias_ent {
	char *name;		/* lowercase */
	char **targets;		/* as written, lowercased */
	size_t n_targets;
	unsigned line;
};

struct aliases {
	struct alias_ent *v;	/* sorted by name */
	size_t n;
};

/* users_parse/users_load, aliases_parse/aliases_load: 0 when the file has
 * no errors (warnings allowed), -1 otherwise.  *out is overwritten, not
 * freed first, and holds the valid entries either way; free it with
 * users_free/aliases_free. */
int users_parse(const char *text, size_t len, const char *file, struct users *out, struct diag *d);
int users_load(const char *file, struct users *out, struct diag *d);
void users_free(struct users *u);
/* Case-insensitive exact name (no +detail fallback); NULL when unknown. */
const struct user_ent *users_find(const struct users *u, const char *name);
/* Wipe and drop hashes and SCRAM keys (processes that only need names);
 * hash and scram become NULL. */
void users_forget_hashes(struct users *u);

/* The value of a scram-sha-256= pair, s[0..n) (after the '='), into *out.
 * 0, or -1 with *why a static text that names the wrong part but never
 * shows a key or salt. */
int users_scram_parse(const char *s, size_t n, struct user_scram *out, const char **why);
/* The value for the pair, "ITER,SALT,STOREDKEY,SERVERKEY", into out (at
 * least USERS_SCRAM_TEXT_MAX bytes).  false when k is out of range. */
bool users_scram_format(const struct user_scram *k, char *out, size_t outsz);
/* Wipe and free *kp; clears the pointer. */
void users_scram_free(struct user_scram **kp);

/* "local@domain" targets are only checked for syntax here (the domain with
 * domain_valid, mail/domain.h); whether the domain is ours is
 * aliases_check's job (it has the local domains, domain_in_list). */
int aliases_parse(const char *text, size_t len, const char *file, struct aliases *out, struct diag *d);
int aliases_load(const char *file, struct aliases *out, struct diag *d);
void aliases_free(struct aliases *a);

/* Check aliases against users/domains: every target resolves, no loops,
 * postmaster and abuse resolve.  Problems reported at the alias's line. */
void aliases_check(const struct aliases *a, const struct users *u,
    const char *const *domains, size_t n_domains, const char *file, struct diag *d);

#define RCPT_EXPAND_MAX 64	/* users one address may expand to */

/*
 * Resolve a local part (case-insensitive; "user+detail" falls back to
 * "user" when the full form is unknown) to the list of user names that
 * should receive it.  Users win over aliases of the same name?  No:
 * aliases are looked up first (as sendmail and Postfix do), then users.
 * Fills out[] with pointers into u (deduplicated) and returns how many,
 * 0 if unknown, -1 on a loop/depth error (a config error aliases_check
 * reports too).  -1 also for more than RCPT_EXPAND_MAX users and for an
 * unknown or remote target met while expanding (all reported by
 * aliases_check, so a config that passed it never gives -1).  local may be
 * any C string (from the network); out[] points into u.
 */
int rcpt_resolve(const struct users *u, const struct aliases *a,
    const char *const *domains, size_t n_domains,
    const char *local, const char *out[RCPT_EXPAND_MAX]);

#endif

/*
 * auth/scram.h - SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC 7677)
 * with tls-exporter channel binding (RFC 9266): the server's side of one
 * exchange, and the keys `talon user --scram` stores (mail/users.h).
 *
 * Messages (RFC 5802 7), as bytes after the IMAP base64 layer:
 *   client-first  gs2-header client-first-bare
 *                 gs2-header = ("n" / "y" / "p=" cb-name) "," ["a=" saslname] ","
 *                 client-first-bare = "n=" saslname ",r=" c-nonce *("," ext)
 *   server-first  "r=" c-nonce s-nonce ",s=" base64(salt) ",i=" iteration-count
 *   client-final  "c=" base64(gs2-header cbind-data) ",r=" c-nonce s-nonce
 *                 *("," ext) ",p=" base64(ClientProof)
 *   server-final  "v=" base64(ServerSignature)
 *
 * Strict, where the RFC leaves room:
 *   - base64 is strict RFC 4648 4 (core/b64.h); the proof is 32 bytes.
 *   - saslname: "=2C" and "=3D" are the only escapes; the decoded name (and
 *     authzid) must be printable ASCII (0x20-0x7e), at most SCRAM_USER_MAX
 *     bytes.  SASLprep (RFC 4013) maps and prohibits only outside that
 *     range, so for these names it is the identity: we implement that
 *     subset and refuse the rest (SCRAM_BAD_NAME) instead of guessing.
 *     Passwords follow the same rule in scram_keys_make.
 *   - an authzid must equal the user name byte for byte (as PLAIN).
 *   - "m=" (reserved-mext, RFC 5802 5.1) fails: SCRAM_MEXT.
 *   - other extensions (ALPHA "=" value) after the nonce are syntax-checked
 *     and ignored, as the grammar allows.
 *   - a nonce is 1..SCRAM_NONCE_MAX printable characters but ',' (0x21-
 *     0x7e); the final nonce must be ours exactly.
 *   - channel binding (RFC 5802 6, RFC 9266): SCRAM-SHA-256-PLUS needs
 *     "p=tls-exporter" and the front's 32 bytes of exporter data;
 *     SCRAM-SHA-256 takes "n", or "y" only while -PLUS is not offered ("y"
 *     with -PLUS offered is a downgrade), never "p=".  The final "c="
 *     must decode to the gs2-header as sent plus the exporter data.
 * Whole messages are at most SCRAM_MSG_MAX bytes (decoded).
 *
 * Results: SCRAM_BAD_SYNTAX and SCRAM_TOO_LONG are malformed input (IMAP
 *          BAD); SCRAM_AUTHZID an authorization refusal (NO
 *          [AUTHORIZATIONFAILED]); the rest a failed authentication (NO
 *          [AUTHENTICATIONFAILED]).  scram_server_final answers
 *          SCRAM_PROOF for a wrong proof and for an exchange with fake
 *          keys alike, after the same computation.
 *
 * Runs in: auth (the exchange, secrets), imap front (the result names),
 *          CLI (scram_keys_make).  Pure: no I/O; randomness (salts,
 *          nonces, the fake-salt secret) comes from the caller.
 * Trusts:  nothing in the messages.  Secrets are wiped when done.
 */
#ifndef TALON_AUTH_SCRAM_H
#define TALON_AUTH_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail/users.h"

#define SCRAM_MSG_MAX		1024	/* a client message, decoded */
#define SCRAM_USER_MAX		255	/* user name and authzid, decoded */
#define SCRAM_NONCE_MAX		128	/* the client's nonce */
#define SCRAM_SNONCE_MAX	64	/* the server's nonce (ours: 32) */
#define SCRAM_CBNAME_MAX	32
#define SCRAM_HASH_LEN		32	/* SHA-256 */
#define SCRAM_CB_LEN		32	/* tls-exporter data (RFC 9266 2) */
#define SCRAM_CB_LABEL		"EXPORTER-Channel-Binding"
#define SCRAM_ITER_DEFAULT	10000u	/* what `talon user --scram` uses */
#define SCRAM_SALT_LEN		16	/* what `talon user --scram` makes */
#define SCRAM_SECRET_LEN	32	/* the key of fake salts */
/* server-first and server-final, NUL included */
#define SCRAM_SFIRST_MAX	(2 + SCRAM_NONCE_MAX + SCRAM_SNONCE_MAX + 3 + 88 + 3 + 10 + 1)
#define SCRAM_SFINAL_MAX	(2 + 44 + 1)
/* the client-final's "c=" decoded: a gs2-header plus exporter data */
#define SCRAM_CBINPUT_MAX	SCRAM_MSG_MAX

enum scram_rc {
	SCRAM_OK = 0,
	SCRAM_BAD_SYNTAX,	/* not the grammar above */
	SCRAM_TOO_LONG,		/* a message or a part over its limit */
	SCRAM_BAD_NAME,		/* a name outside the SASLprep subset we take */
	SCRAM_MEXT,		/* "m=": a mandatory extension we do not know */
	SCRAM_AUTHZID,		/* authzid given and not the user */
	SCRAM_CBIND,		/* channel binding refused or not matching */
	SCRAM_NONCE,		/* the final nonce is not this exchange's */
	SCRAM_PROOF,		/* wrong password, or no such account */
	SCRAM_STATE,		/* a step out of order (a bug, not the client) */
};

/* Static text for logs: "ok", "bad-syntax", "too-long", "bad-name",
 * "mext", "authzid-mismatch", "channel-binding", "nonce", "proof",
 * "state" ("?" out of range). */
const char *scram_rc_name(enum scram_rc rc);

enum scram_cb {
	SCRAM_CB_N = 0,		/* "n": the client does not bind */
	SCRAM_CB_Y,		/* "y": it could, but thinks we cannot */
	SCRAM_CB_P,		/* "p=name": it binds to cb_name */
};

/* A client-first message taken apart; the nonce as an offset into the
 * input (the structure holds no pointer, so it can be copied). */
struct scram_first {
	enum scram_cb cb;
	char cb_name[SCRAM_CBNAME_MAX + 1];	/* SCRAM_CB_P */
	bool has_authzid;
	char authzid[SCRAM_USER_MAX + 1];
	char user[SCRAM_USER_MAX + 1];		/* decoded, printable ASCII */
	size_t gs2_len;				/* bytes of gs2-header, ',' included */
	size_t nonce_off, nonce_len;		/* the client's nonce */
};

/* Parse p[0..len).  SCRAM_OK, SCRAM_BAD_SYNTAX, SCRAM_TOO_LONG,
 * SCRAM_BAD_NAME, SCRAM_MEXT or SCRAM_AUTHZID; never reads outside
 * p[0..len).  Channel binding is not judged here (scram_cbind_check). */
enum scram_rc scram_parse_first(const uint8_t *p, size_t len, struct scram_first *out);

/* The channel-binding rules above for f under mechanism -PLUS (plus) or
 * not, with -PLUS offered on this connection or not.  SCRAM_OK or
 * SCRAM_CBIND. */
enum scram_rc scram_cbind_check(const struct scram_first *f, bool plus, bool offered);

/* A client-final message taken apart. */
struct scram_final {
	uint8_t cbinput[SCRAM_CBINPUT_MAX];	/* "c=" decoded */
	size_t cbinput_len;
	size_t nonce_off, nonce_len;		/* into the input */
	uint8_t proof[SCRAM_HASH_LEN];
	size_t without_proof_len;		/* client-final-message-without-proof */
};

/* Parse p[0..len).  SCRAM_OK, SCRAM_BAD_SYNTAX or SCRAM_TOO_LONG; on
 * failure *out is wiped. */
enum scram_rc scram_parse_final(const uint8_t *p, size_t len, struct scram_final *out);

/*
 * One exchange, server side:
 *   scram_server_start      client-first -> the user name to look up
 *   scram_server_challenge  the account's keys (or fake ones) -> server-first
 *   scram_server_final      client-final -> server-final, or a failure
 *   scram_server_wipe       always, at the end
 * The structure holds copies of everything it needs (the account may be
 * reloaded meanwhile) and no pointer: it can live in a table.
 */
enum scram_step { SCRAM_STEP_NONE = 0, SCRAM_STEP_STARTED, SCRAM_STEP_CHALLENGED,
	SCRAM_STEP_DONE };

struct scram_server {
	enum scram_step step;
	struct scram_first f;			/* of first[] */
	uint8_t first[SCRAM_MSG_MAX];		/* the client-first message */
	size_t first_len;
	uint8_t cb[SCRAM_CB_LEN];		/* the front's exporter data */
	bool has_cb;
	char sfirst[SCRAM_SFIRST_MAX];		/* server-first, NUL-terminated */
	size_t sfirst_len;
	size_t nonce_len;			/* c-nonce s-nonce: sfirst + 2 */
	struct user_scram keys;
	bool real;				/* false: fake keys, never succeeds */
};

/* Parse and judge client-first msg[0..len) for mechanism -PLUS (plus),
 * with -PLUS offered on the connection (offered) and the exporter data cb
 * (SCRAM_CB_LEN bytes, or NULL when the front has none).  SCRAM_OK: x->f.user
 * names the account to look up.  Any other result: x is wiped. */
enum scram_rc scram_server_start(struct scram_server *x, const uint8_t *msg, size_t len,
    bool plus, bool offered, const uint8_t *cb);
/* The server-first message for keys (copied; real = false for fake keys)
 * and our nonce snonce (1..SCRAM_SNONCE_MAX printable characters but ',').
 * Returns it (NUL-terminated, in x) or NULL when snonce or keys are out of
 * range or a step is out of order. */
const char *scram_server_challenge(struct scram_server *x, const struct user_scram *keys,
    bool real, const char *snonce);
/* Check client-final msg[0..len) and, on SCRAM_OK, write the server-final
 * message "v=..." into out (SCRAM_SFINAL_MAX bytes).  Otherwise out is "".
 * The proof is computed and compared (CRYPTO_memcmp) for fake keys too. */
enum scram_rc scram_server_final(struct scram_server *x, const uint8_t *msg, size_t len,
    char out[SCRAM_SFINAL_MAX]);
void scram_server_wipe(struct scram_server *x);

/* True when pw is a password SCRAM can use here: 1..PW_HASH_INPUT_MAX
 * bytes of printable ASCII (the SASLprep subset above). */
bool scram_password_ok(const char *pw);
/* The stored keys for pw (scram_password_ok), salt[0..salt_len) and iter
 * (both in the users file's ranges): PBKDF2-HMAC-SHA-256, then RFC 5802 3.
 * 0, or -1 (out wiped) for a refused input or an OpenSSL failure.
 * SaltedPassword and ClientKey are wiped before return. */
int scram_keys_make(const char *pw, const uint8_t *salt, size_t salt_len, uint32_t iter,
    struct user_scram *out);
/* Keys for a user without SCRAM keys (or without an account): the salt is
 * HMAC-SHA-256(secret, lowercased user) cut to SCRAM_SALT_LEN bytes, so it
 * is the same each time the name is asked for, the count iter, the keys
 * HMACs of the user under the secret too (never used: real is false). */
void scram_fake_keys(const uint8_t secret[SCRAM_SECRET_LEN], const char *user, uint32_t iter,
    struct user_scram *out);

#endif

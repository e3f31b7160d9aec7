/*
 * auth/sasl.h - decoding the client's side of SASL PLAIN (RFC 4616) and
 * LOGIN (draft-murchison-sasl-login) as SMTP AUTH (RFC 4954) and IMAP
 * AUTHENTICATE (RFC 3501 6.2.2) carry them: one base64 line per step.
 *
 * Input:   a response line without its CRLF, any bytes, not
 *          NUL-terminated: the initial response of AUTH/AUTHENTICATE or
 *          the line after a challenge.
 * Base64:  strict RFC 4648 section 4: the standard alphabet, padding
 *          required (the length is a multiple of 4), '=' only at the end,
 *          unused bits of the last character zero, no whitespace or line
 *          breaks.  "=" alone is an empty response (RFC 4954 4); "*" alone
 *          is the client cancelling (RFC 4954 4, RFC 3501 6.2.2).  A line
 *          longer than any valid response is SASL_TOO_LONG before a byte
 *          is decoded.
 * PLAIN:   [authzid] NUL authcid NUL passwd (RFC 4616 2).  Exactly two
 *          NULs; authcid and passwd at least one byte; authzid, when not
 *          empty, must equal authcid byte for byte (we do not let one user
 *          act as another).  authzid and authcid at most SASL_USER_MAX
 *          bytes, passwd at most SASL_PASS_MAX.  UTF-8 is not checked: a
 *          name that is not a user simply fails, and passwords are bytes.
 * LOGIN:   the server prompts "Username:" then "Password:" (base64 below),
 *          the client answers each with one base64 line; neither may be
 *          empty or hold a NUL.  An initial response (SMTP "AUTH LOGIN
 *          dXNlcg==") is the answer to the first prompt.
 *
 * Results: SASL_BAD_BASE64, SASL_BAD_SYNTAX and SASL_TOO_LONG mean the
 *          client sent something malformed (SMTP 501 5.5.2, IMAP BAD);
 *          SASL_AUTHZID is an authorization refusal (SMTP 535 5.7.8, IMAP
 *          NO [AUTHORIZATIONFAILED]).  The protocol layer picks the reply.
 *          User names come back exactly as sent (any case, any bytes but
 *          NUL): escape them before logging.  Passwords are never to be
 *          logged; wipe credentials with sasl_creds_wipe.
 *
 * Runs in: smtp worker / imap worker or the auth role.  Pure, no I/O.
 * Trusts:  nothing.
 */
#ifndef TALON_AUTH_SASL_H
#define TALON_AUTH_SASL_H

#include <stddef.h>
#include <stdint.h>

#define SASL_USER_MAX	255	/* authcid, authzid, LOGIN user name (bytes) */
#define SASL_PASS_MAX	1024	/* password bytes (auth/pw.h PW_PASSWORD_MAX) */

/* The base64 prompts of LOGIN. */
#define SASL_LOGIN_PROMPT_USER	"VXNlcm5hbWU6"	/* "Username:" */
#define SASL_LOGIN_PROMPT_PASS	"UGFzc3dvcmQ6"	/* "Password:" */

enum sasl_rc {
	SASL_OK = 0,		/* credentials complete in the output */
	SASL_MORE,		/* LOGIN: user name taken, send the next prompt */
	SASL_CANCEL,		/* the client sent "*" */
	SASL_BAD_BASE64,	/* not strict base64 */
	SASL_BAD_SYNTAX,	/* base64, but not the mechanism's form */
	SASL_TOO_LONG,		/* the line or a part is over its limit */
	SASL_AUTHZID,		/* PLAIN: authzid given and not the authcid */
};

/* Static text for logs: "ok", "more", "cancel", "bad-base64",
 * "bad-syntax", "too-long", "authzid-mismatch" ("?" out of range). */
const char *sasl_rc_name(enum sasl_rc rc);

/* Credentials as C strings, validated: no NUL inside, not empty. */
struct sasl_creds {
	char user[SASL_USER_MAX + 1];
	char pass[SASL_PASS_MAX + 1];
};

/* Wipe the password and the name (explicit_bzero). */
void sasl_creds_wipe(struct sasl_creds *c);

/* Decode one PLAIN response p[0..len).  SASL_OK fills *out; any other
 * result leaves *out wiped.  Never reads outside p[0..len). */
enum sasl_rc sasl_plain(const uint8_t *p, size_t len, struct sasl_creds *out);

/* The LOGIN exchange: init, then for each client line send the prompt
 * sasl_login_prompt gave before it and call sasl_login_step.  It answers
 * SASL_MORE after the user name, SASL_OK with l->c complete after the
 * password, or an error (l->c is then wiped and the exchange is over; a
 * step after the end is SASL_BAD_SYNTAX). */
enum sasl_login_state { SASL_LOGIN_USER = 0, SASL_LOGIN_PASS, SASL_LOGIN_DONE };

struct sasl_login {
	enum sasl_login_state state;
	struct sasl_creds c;
};

void sasl_login_init(struct sasl_login *l);
/* SASL_LOGIN_PROMPT_USER, SASL_LOGIN_PROMPT_PASS, or NULL when done. */
const char *sasl_login_prompt(const struct sasl_login *l);
enum sasl_rc sasl_login_step(struct sasl_login *l, const uint8_t *p, size_t len);

#endif

/*
 * auth/sasl.c - SASL PLAIN and LOGIN responses: strict base64, then the
 * mechanism's form (rules in sasl.h).
 *
 * Input:   one response line from the network, any bytes, at most what
 *          the caller's line reader allowed; never trusted.
 * Output:  struct sasl_creds (C strings in fixed arrays) or a result
 *          saying why not.
 * Trusts:  nothing.  Runs in: whichever process speaks the protocol.
 * Not here: whether the password is right (auth/pw.c), who the user is
 *          (mail/users.c), the reply codes (the protocol layer).
 *
 * Every decoded byte lives in a stack buffer that is wiped before return:
 * it holds the password.
 */
#include "auth/sasl.h"

#include <stdbool.h>
#include <string.h>

#include "core/b64.h"
#include "core/util.h"

/* The longest decoded response: authzid NUL authcid NUL passwd. */
#define PLAIN_MAX	(SASL_USER_MAX * 2 + 2 + SASL_PASS_MAX)

const char *
sasl_rc_name(enum sasl_rc rc)
{
	static const char *const names[] = {
		[SASL_OK] = "ok", [SASL_MORE] = "more", [SASL_CANCEL] = "cancel",
		[SASL_BAD_BASE64] = "bad-base64", [SASL_BAD_SYNTAX] = "bad-syntax",
		[SASL_TOO_LONG] = "too-long", [SASL_AUTHZID] = "authzid-mismatch",
	};
	return (unsigned)rc < NELEM(names) && names[rc] ? names[rc] : "?";
}

/* Member by member: GCC 12's fortify check mistakes &l->c for its first
 * member and refuses a whole-struct wipe (-Wstringop-overflow). */
void
sasl_creds_wipe(struct sasl_creds *c)
{
	explicit_bzero(c->user, sizeof c->user);
	explicit_bzero(c->pass, sizeof c->pass);
}

/* A response line decoded into out: "*" cancels, "=" is empty, anything
 * else strict base64 (core/b64.h). */
static enum sasl_rc
response_decode(const uint8_t *p, size_t len, uint8_t *out, size_t max, size_t *n)
{
	*n = 0;
	if (len == 1 && p[0] == '*')
		return SASL_CANCEL;
	if (len == 1 && p[0] == '=')
		return SASL_OK;
	switch (b64_decode(p, len, out, max, n)) {
	case B64_OK:
		return SASL_OK;
	case B64_TOO_LONG:
		return SASL_TOO_LONG;
	case B64_BAD:
		break;
	}
	return SASL_BAD_BASE64;
}

/* --- PLAIN (RFC 4616 2) ----------------------------------------------------- */

/* Split b[0..n) into its three parts and check them; copies into out.
 * One exit for success, after every check. */
static enum sasl_rc
plain_split(const uint8_t *b, size_t n, struct sasl_creds *out)
{
	const uint8_t *end = b + n;
	const uint8_t *z1 = memchr(b, '\0', n);
	const uint8_t *z2 = z1 ? memchr(z1 + 1, '\0', (size_t)(end - z1 - 1)) : NULL;
	if (z2 == NULL || memchr(z2 + 1, '\0', (size_t)(end - z2 - 1)) != NULL)
		return SASL_BAD_SYNTAX;		/* fewer or more than two NULs */
	size_t zl = (size_t)(z1 - b), cl = (size_t)(z2 - z1 - 1), pl = (size_t)(end - z2 - 1);
	if (cl == 0 || pl == 0)
		return SASL_BAD_SYNTAX;		/* authcid and passwd are 1*SAFE */
	if (zl > SASL_USER_MAX || cl > SASL_USER_MAX || pl > SASL_PASS_MAX)
		return SASL_TOO_LONG;
	/* RFC 4616 2: the server decides whether authcid may act as authzid;
	 * we allow only the identity itself */
	if (zl != 0 && (zl != cl || memcmp(b, z1 + 1, cl) != 0))
		return SASL_AUTHZID;
	memcpy(out->user, z1 + 1, cl);
	out->user[cl] = '\0';
	memcpy(out->pass, z2 + 1, pl);
	out->pass[pl] = '\0';
	return SASL_OK;
}

enum sasl_rc
sasl_plain(const uint8_t *p, size_t len, struct sasl_creds *out)
{
	uint8_t b[PLAIN_MAX];
	size_t n;
	sasl_creds_wipe(out);
	enum sasl_rc rc = response_decode(p, len, b, sizeof b, &n);
	if (rc == SASL_OK)
		rc = plain_split(b, n, out);
	if (rc != SASL_OK)
		sasl_creds_wipe(out);
	explicit_bzero(b, sizeof b);
	return rc;
}

/* --- LOGIN -------------------------------------------------------------------- */

void
sasl_login_init(struct sasl_login *l)
{
	sasl_creds_wipe(&l->c);
	l->state = SASL_LOGIN_USER;
}

const char *
sasl_login_prompt(const struct sasl_login *l)
{
	switch (l->state) {
	case SASL_LOGIN_USER:
		return SASL_LOGIN_PROMPT_USER;
	case SASL_LOGIN_PASS:
		return SASL_LOGIN_PROMPT_PASS;
	case SASL_LOGIN_DONE:
		break;
	}
	return NULL;
}

/* One LOGIN answer into dst (max + 1 bytes): not empty, no NUL. */
static enum sasl_rc
login_field(const uint8_t *p, size_t len, char *dst, size_t max)
{
	uint8_t b[SASL_PASS_MAX];
	size_t n;
	enum sasl_rc rc = response_decode(p, len, b, max, &n);
	if (rc == SASL_OK && (n == 0 || memchr(b, '\0', n) != NULL))
		rc = SASL_BAD_SYNTAX;
	if (rc == SASL_OK) {
		memcpy(dst, b, n);
		dst[n] = '\0';
	}
	explicit_bzero(b, sizeof b);
	return rc;
}

enum sasl_rc
sasl_login_step(struct sasl_login *l, const uint8_t *p, size_t len)
{
	enum sasl_rc rc;
	switch (l->state) {
	case SASL_LOGIN_USER:
		rc = login_field(p, len, l->c.user, SASL_USER_MAX);
		if (rc == SASL_OK) {
			l->state = SASL_LOGIN_PASS;
			return SASL_MORE;
		}
		break;
	case SASL_LOGIN_PASS:
		rc = login_field(p, len, l->c.pass, SASL_PASS_MAX);
		if (rc == SASL_OK) {
			l->state = SASL_LOGIN_DONE;
			return SASL_OK;
		}
		break;
	case SASL_LOGIN_DONE:
	default:
		rc = SASL_BAD_SYNTAX;
		break;
	}
	/* any error ends the exchange */
	sasl_creds_wipe(&l->c);
	l->state = SASL_LOGIN_DONE;
	return rc;
}

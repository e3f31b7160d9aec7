/*
 * imap/commands.c - the commands of the login front, one handler each:
 * the any-state commands (CAPABILITY, NOOP, LOGOUT, ID) and the
 * not-authenticated ones (STARTTLS, LOGIN, AUTHENTICATE PLAIN, LOGIN,
 * SCRAM-SHA-256 and SCRAM-SHA-256-PLUS with SASL-IR, RFC 9051 6.2, RFC
 * 4959, RFC 5802, RFC 7677, RFC 9266).  Commands of the later states are
 * known and answered BAD before login; after it the mailbox process
 * answers everything (imap/mailbox.h).
 *
 * Passwords: only under TLS (LOGINDISABLED and NO [PRIVACYREQUIRED]
 * before); checked by the auth process, which also delays failures; a
 * failure reads the same whether the user exists or not; no password is
 * ever logged, and every copy is wiped after use.
 * SCRAM:   this process only moves the messages (base64 here, the SCRAM
 *          grammar and every secret in the auth process) and adds the
 *          connection's tls-exporter data for -PLUS.  The exchange:
 *            C: AUTHENTICATE SCRAM-SHA-256 [client-first]  (or "+ " first)
 *            S: + server-first       C: client-final
 *            S: + server-final       C: (empty line)
 *            S: tagged OK (from the mailbox process, as after PLAIN)
 *          "*" at any step cancels (BAD); a failure at the final step is
 *          NO [AUTHENTICATIONFAILED], after the auth process's delay.
 * Runs in: imap.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/scram.h"
#include "core/b64.h"
#include "core/log.h"
#include "core/util.h"
#include "imap/session.h"
#include "mail/conf.h"
#include "proto/imap_auth.h"
#include "proto/imap_mailbox.h"

_Static_assert(sizeof ((struct isession *)0)->scram_token == PROTO_TOKEN_LEN, "token size");
_Static_assert(sizeof ((struct isession *)0)->scram_user >= PROTO_AUTH_USER_MAX + 1,
    "user size");

#define FAILS_MAX	5	/* failed logins in one session, then BYE */

/* Commands of the authenticated and selected states (RFC 9051 6.3, 6.4
 * and the extensions this server will offer). */
static const char *const mailbox_cmds[] = {
	"SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST",
	"LSUB", "NAMESPACE", "STATUS", "APPEND", "IDLE", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE",
	"SEARCH", "FETCH", "STORE", "COPY", "MOVE", "UID FETCH", "UID STORE", "UID SEARCH",
	"UID COPY", "UID MOVE", "UID EXPUNGE", "GETQUOTA", "GETQUOTAROOT", "SORT", "THREAD",
	"UID SORT", "UID THREAD", "COMPRESS",
};

static bool
is_mailbox_cmd(const char *name)
{
	for (size_t i = 0; i < NELEM(mailbox_cmds); i++)
		if (strcmp(name, mailbox_cmds[i]) == 0)
			return true;
	return false;
}

/* An astring argument (atom, quoted, literal) into dst; false when it is
 * none of them, too long or holds a NUL. */
static bool
astring(const struct imap_arg *a, char *dst, size_t n)
{
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED &&
	    a->type != IMAP_ARG_LITERAL)
		return false;
	if (a->binary || a->len >= n || memchr(a->p, '\0', a->len) != NULL)
		return false;
	memcpy(dst, a->p, a->len);
	dst[a->len] = '\0';
	return true;
}

static void
cmd_capability(struct isession *s, struct imap_cmd *c)
{
	char cap[256];
	imap_capability(s, cap, sizeof cap);
	imap_reply(s, "* CAPABILITY %s", cap);
	imap_tagged(s, c->tag, "OK CAPABILITY completed");
}

/* RFC 9051 6.1.3: BYE, then OK; the TLS close_notify comes with the close. */
static void
cmd_logout(struct isession *s, struct imap_cmd *c)
{
	imap_reply(s, "* BYE Logging out");
	imap_tagged(s, c->tag, "OK LOGOUT completed");
	s->st = I_CLOSING;
}

/* RFC 2971: our name, never our version. */
static void
cmd_id(struct isession *s, struct imap_cmd *c)
{
	if (c->n_args != 1 || (c->args[0].type != IMAP_ARG_LIST &&
	    c->args[0].type != IMAP_ARG_NIL)) {
		imap_tagged(s, c->tag, "BAD ID needs a list or NIL");
		return;
	}
	imap_reply(s, "* ID (\"name\" \"Talon\")");
	imap_tagged(s, c->tag, "OK ID completed");
}

static void
cmd_starttls(struct isession *s, struct imap_cmd *c)
{
	if (s->is_tls) {
		imap_tagged(s, c->tag, "BAD TLS is already active");
		return;
	}
	imap_tagged(s, c->tag, "OK Begin TLS negotiation now");
	s->starttls_pending = true;
}

static bool
tls_required(struct isession *s, struct imap_cmd *c)
{
	if (s->is_tls)
		return false;
	imap_tagged(s, c->tag, "NO [PRIVACYREQUIRED] Use STARTTLS first: passwords are sent "
	    "only under TLS");
	return true;
}

static void
cmd_login(struct isession *s, struct imap_cmd *c)
{
	if (tls_required(s, c))
		return;
	struct sasl_creds cr;
	memset(&cr, 0, sizeof cr);
	if (c->n_args != 2 || !astring(&c->args[0], cr.user, sizeof cr.user) ||
	    !astring(&c->args[1], cr.pass, sizeof cr.pass)) {
		sasl_creds_wipe(&cr);
		imap_tagged(s, c->tag, "BAD LOGIN needs a user name and a password");
		return;
	}
	str_copy(s->tag, sizeof s->tag, c->tag);
	imap_check_password(s, &cr);
}

static void
sasl_failed(struct isession *s, const char *why)
{
	log_info("imap session=%s event=login client=[%s] result=bad reason=\"%s\"", s->sid,
	    s->ip, why);
	imap_tagged(s, s->tag, "BAD Invalid SASL response (%s)", why);
	s->st = I_CMD;
}

/* The end of a SCRAM exchange at the front: nothing open at the auth
 * process, no grant kept. */
static void
scram_reset(struct isession *s)
{
	imap_scram_abort(s);
	s->scram_wait = IMAP_SCRAM_FIRST;
	OPENSSL_cleanse(s->scram_token, sizeof s->scram_token);
	explicit_bzero(s->scram_user, sizeof s->scram_user);
}

/* The client's empty line after our server-final: now the login is
 * complete (RFC 9051 6.2.2: the client answers the last "+" with an
 * empty response) and the session goes to the mailbox process. */
static void
scram_confirm(struct isession *s, size_t len)
{
	char user[sizeof s->scram_user];
	uint8_t token[sizeof s->scram_token];
	memcpy(user, s->scram_user, sizeof user);
	memcpy(token, s->scram_token, sizeof token);
	scram_reset(s);
	s->st = I_CMD;
	if (len != 0)
		sasl_failed(s, "expected an empty response");
	else
		imap_login_result(s, true, user, token);
	OPENSSL_cleanse(token, sizeof token);
	explicit_bzero(user, sizeof user);
}

/* One SCRAM line: client-first, client-final or the closing empty line. */
static void
scram_step(struct isession *s, const uint8_t *p, size_t len)
{
	uint8_t msg[SCRAM_MSG_MAX];
	size_t n = 0;
	if (s->scram_wait == IMAP_SCRAM_EMPTY) {
		scram_confirm(s, len);
		return;
	}
	enum b64_rc rc = b64_decode(p, len, msg, sizeof msg, &n);
	if (rc != B64_OK || n == 0) {
		scram_reset(s);
		sasl_failed(s, rc == B64_TOO_LONG ? "too-long" : rc == B64_BAD ? "bad-base64" :
		    "empty");
	} else if (s->scram_wait == IMAP_SCRAM_FIRST) {
		imap_scram_first(s, msg, n);
	} else if (s->scram_id == 0) {
		/* the auth process restarted since the first message */
		scram_reset(s);
		s->st = I_CMD;
		imap_tagged(s, s->tag, "NO [UNAVAILABLE] Authentication service restarted, try "
		    "again");
	} else {
		imap_scram_final(s, msg, n);
	}
	OPENSSL_cleanse(msg, sizeof msg);
}

/* One SASL response (the initial one, or a line in I_SASL): "=" is an
 * empty initial response (RFC 4959), "*" cancels (RFC 9051 6.2.2). */
static void
sasl_step(struct isession *s, const uint8_t *p, size_t len)
{
	if (len == 1 && p[0] == '*') {
		scram_reset(s);
		imap_tagged(s, s->tag, "BAD AUTHENTICATE cancelled");
		s->st = I_CMD;
		return;
	}
	if (s->mech == MECH_SCRAM || s->mech == MECH_SCRAM_PLUS) {
		scram_step(s, p, len);
		return;
	}
	enum sasl_rc rc;
	if (s->mech == MECH_PLAIN) {
		struct sasl_creds cr;
		rc = sasl_plain(p, len, &cr);
		if (rc == SASL_OK) {
			imap_check_password(s, &cr);
			return;
		}
		sasl_creds_wipe(&cr);
	} else {
		rc = sasl_login_step(&s->login, p, len);
		if (rc == SASL_MORE) {
			imap_reply(s, "+ %s", sasl_login_prompt(&s->login));
			s->st = I_SASL;
			return;
		}
		if (rc == SASL_OK) {
			imap_check_password(s, &s->login.c);
			sasl_login_init(&s->login);
			return;
		}
		sasl_login_init(&s->login);
	}
	if (rc == SASL_CANCEL) {
		imap_tagged(s, s->tag, "BAD AUTHENTICATE cancelled");
		s->st = I_CMD;
		return;
	}
	if (rc == SASL_AUTHZID) {
		/* RFC 4616 2: an authzid other than the authcid asks for a
		 * right nobody has here (RFC 5530 AUTHORIZATIONFAILED) */
		imap_tagged(s, s->tag, "NO [AUTHORIZATIONFAILED] Logging in as another user is "
		    "not allowed");
		s->st = I_CMD;
		return;
	}
	sasl_failed(s, sasl_rc_name(rc));
}

static void
cmd_authenticate(struct isession *s, struct imap_cmd *c)
{
	if (tls_required(s, c))
		return;
	if (c->n_args < 1 || c->n_args > 2 || c->args[0].type != IMAP_ARG_ATOM) {
		imap_tagged(s, c->tag, "BAD AUTHENTICATE needs a mechanism");
		return;
	}
	str_copy(s->tag, sizeof s->tag, c->tag);
	scram_reset(s);
	if (imap_arg_atom_is(&c->args[0], "PLAIN")) {
		s->mech = MECH_PLAIN;
	} else if (imap_arg_atom_is(&c->args[0], "LOGIN")) {
		s->mech = MECH_LOGIN;
		sasl_login_init(&s->login);
	} else if (imap_arg_atom_is(&c->args[0], "SCRAM-SHA-256")) {
		s->mech = MECH_SCRAM;
	} else if (imap_arg_atom_is(&c->args[0], "SCRAM-SHA-256-PLUS")) {
		s->mech = MECH_SCRAM_PLUS;
	} else {
		imap_tagged(s, c->tag, "NO [CANNOT] Unsupported mechanism (PLAIN, LOGIN, "
		    "SCRAM-SHA-256 and SCRAM-SHA-256-PLUS are known)");
		return;
	}
	if (c->n_args == 2) {
		const struct imap_arg *ir = &c->args[1];
		if (ir->type != IMAP_ARG_ATOM) {
			imap_tagged(s, c->tag, "BAD Invalid initial response");
			return;
		}
		if (ir->len == 1 && ir->p[0] == '=')
			sasl_step(s, (const uint8_t *)"", 0);
		else
			sasl_step(s, ir->p, ir->len);
		return;
	}
	if (s->mech == MECH_LOGIN)
		imap_reply(s, "+ %s", sasl_login_prompt(&s->login));
	else
		imap_reply(s, "+ ");
	s->st = I_SASL;
}

void
imap_sasl_line(struct isession *s, const uint8_t *line, size_t len)
{
	sasl_step(s, line, len);
}

void
imap_scram_challenge(struct isession *s, unsigned rc, const char *sfirst)
{
	char b64[B64_ENC_LEN(SCRAM_SFIRST_MAX) + 1];
	if (rc == SCRAM_OK) {
		b64_encode(sfirst, strlen(sfirst), b64, sizeof b64);
		imap_reply(s, "+ %s", b64);
		s->scram_wait = IMAP_SCRAM_FINAL;
		s->st = I_SASL;
		return;
	}
	/* the auth process kept nothing */
	s->scram_id = 0;
	scram_reset(s);
	if (rc == SCRAM_BAD_SYNTAX || rc == SCRAM_TOO_LONG) {
		sasl_failed(s, scram_rc_name(rc));
	} else if (rc == SCRAM_AUTHZID) {
		imap_tagged(s, s->tag, "NO [AUTHORIZATIONFAILED] Logging in as another user is "
		    "not allowed");
	} else {
		log_info("imap session=%s event=login client=[%s] mech=scram reason=%s", s->sid,
		    s->ip, scram_rc_name(rc));
		imap_login_result(s, false, NULL, NULL);
	}
}

void
imap_auth_result(struct isession *s, const struct proto_auth_result *r)
{
	bool scram = s->mech == MECH_SCRAM || s->mech == MECH_SCRAM_PLUS;
	if (scram) {
		s->scram_id = 0;	/* the auth process ended the exchange */
		if (!r->ok || r->final[0] == '\0')
			scram_reset(s);
	}
	if (!scram || !r->ok || r->final[0] == '\0') {
		/* a SCRAM success must carry the server-final message */
		imap_login_result(s, r->ok != 0 && !scram, r->user, r->token);
		return;
	}
	/* RFC 5802 5: the client checks our signature before it trusts the
	 * login; the tagged OK waits for its empty line (scram_confirm) */
	char b64[B64_ENC_LEN(SCRAM_SFINAL_MAX) + 1];
	b64_encode(r->final, strlen(r->final), b64, sizeof b64);
	imap_reply(s, "+ %s", b64);
	OPENSSL_cleanse(b64, sizeof b64);
	memcpy(s->scram_token, r->token, sizeof s->scram_token);
	str_copy(s->scram_user, sizeof s->scram_user, r->user);
	s->scram_wait = IMAP_SCRAM_EMPTY;
	s->st = I_SASL;
}

void
imap_login_result(struct isession *s, bool ok, const char *user, const uint8_t *token)
{
	if (!ok) {
		s->n_fail++;
		/* the same answer whether the user exists or not (RFC 9051 11.1) */
		imap_tagged(s, s->tag, "NO [AUTHENTICATIONFAILED] Authentication failed");
		log_info("imap session=%s event=login client=[%s] result=fail failures=%u", s->sid,
		    s->ip, s->n_fail);
		if (s->n_fail >= FAILS_MAX) {
			imap_reply(s, "* BYE Too many failed logins");
			s->st = I_CLOSING;
		}
		return;
	}
	/* a client that opens connection after connection must not take all
	 * the slots (RFC 5530 LIMIT names the cause) */
	unsigned same = 0;
	for (struct isession *o = IW.sessions; o; o = o->next)
		same += o != s && o->authed && strcmp(o->user, user) == 0 && strcmp(o->ip, s->ip) == 0;
	if (same >= IW.conf->imap_user_conns) {
		imap_tagged(s, s->tag, "NO [LIMIT] Too many connections of %s from your address "
		    "(limit imap-connections-per-user %u)", user, IW.conf->imap_user_conns);
		log_info("imap session=%s event=login client=[%s] user=%s result=refused "
		    "limit=imap-connections-per-user max=%u", s->sid, s->ip, user,
		    IW.conf->imap_user_conns);
		return;
	}
	if (!imap_handoff(s, token)) {
		imap_tagged(s, s->tag, "NO [UNAVAILABLE] Mailboxes are unavailable, try again "
		    "later");
		log_warn("imap session=%s event=login client=[%s] user=%s result=tempfail "
		    "reason=\"no mailbox process\"", s->sid, s->ip, user);
		return;
	}
	s->authed = true;
	str_copy(s->user, sizeof s->user, user);
	log_info("imap session=%s event=login client=[%s] user=%s result=ok", s->sid, s->ip, user);
}

void
imap_command(struct isession *s, struct imap_cmd *c)
{
	const char *n = c->name;
	if (strcmp(n, "CAPABILITY") == 0 && c->n_args == 0) {
		cmd_capability(s, c);
	} else if (strcmp(n, "NOOP") == 0 && c->n_args == 0) {
		imap_tagged(s, c->tag, "OK NOOP completed");
	} else if (strcmp(n, "LOGOUT") == 0 && c->n_args == 0) {
		cmd_logout(s, c);
	} else if (strcmp(n, "ID") == 0) {
		cmd_id(s, c);
	} else if (!s->authed && strcmp(n, "STARTTLS") == 0 && c->n_args == 0) {
		cmd_starttls(s, c);
	} else if (!s->authed && strcmp(n, "LOGIN") == 0) {
		cmd_login(s, c);
	} else if (!s->authed && strcmp(n, "AUTHENTICATE") == 0) {
		cmd_authenticate(s, c);
	} else if (is_mailbox_cmd(n) || strcmp(n, "ENABLE") == 0) {
		imap_tagged(s, c->tag, "BAD Log in first");
	} else {
		imap_tagged(s, c->tag, "BAD Unknown command or wrong arguments");
	}
}

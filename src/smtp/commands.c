/*
 * smtp/commands.c - the SMTP dialogue: one handler per command.
 *
 * Input:   a command line (CRLF removed) from the network, untrusted.
 * Output:  replies and transaction state; refusals go through
 *          smtp_refuse() with a verdict, so each code is typed once.
 * Runs in: smtp worker.  Not here: framing (session.c), the stored
 *          message (message.c).
 *
 * Policy checks return verdicts (policy/verdict.h): rcpt_verdict() for
 * RCPT and data_verdict() (message.c) at the end of the data hold the
 * checks that exist today; later issues add theirs there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "mail/conf.h"
#include "mail/users.h"
#include "proto/smtp_queue.h"
#include "policy/bans.h"
#include "smtp/session.h"

static void
cmd_helo(struct session *s, const struct smtp_cmd *c, bool esmtp)
{
	if (!smtp_domain_valid(c->arg, c->arg_len, true) &&
	    !smtp_addr_literal_valid(c->arg, c->arg_len)) {
		smtp_reject_cmd(s, "501 5.5.4 Syntax: EHLO/HELO needs a domain name or address literal",
		    (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	smtp_txn_reset(s);
	snprintf(s->helo, sizeof s->helo, "%.*s", (int)c->arg_len, c->arg);
	s->helo_seen = true;
	s->esmtp = esmtp;
	if (!esmtp) {
		smtp_reply(s, "250 %s", W.conf->hostname);
		return;
	}
	smtp_reply(s, "250-%s Hello %s [%s]", W.conf->hostname, s->helo, s->ip);
	smtp_reply(s, "250-PIPELINING");
	smtp_reply(s, "250-SIZE %llu", (unsigned long long)W.conf->max_message_size);
	if (s->lis->tls == CONF_TLS_STARTTLS && !s->is_tls && W.tls != NULL)
		smtp_reply(s, "250-STARTTLS");
	smtp_reply(s, "250-ENHANCEDSTATUSCODES");
	smtp_reply(s, "250-8BITMIME");
	smtp_reply(s, "250-SMTPUTF8");
	smtp_reply(s, "250 CHUNKING");
}

static void
cmd_mail(struct session *s, const struct smtp_cmd *c)
{
	struct smtp_mail_args a;
	enum smtp_addr_err pe = SMTP_ADDR_OK;
	char addr[SMTP_PATH_MAX * 4];

	if (!s->helo_seen) {
		smtp_reject_cmd(s, "503 5.5.1 Error: send HELO/EHLO first", (const uint8_t *)"MAIL", 4);
		return;
	}
	if (s->t.in_mail) {
		smtp_reject_cmd(s, "503 5.5.1 Error: nested MAIL command", (const uint8_t *)"MAIL", 4);
		return;
	}
	enum smtp_param_err e = smtp_mail_args_parse(c->arg, c->arg_len, true, &a, &pe);
	if (e == SMTP_PARAM_E_PATH) {
		smtp_reject_cmd(s, smtp_addr_err_reply(pe, false), (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	if (e != SMTP_PARAM_OK) {
		smtp_reject_cmd(s, smtp_param_err_reply(e), (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	if (!s->esmtp && (a.has_size || a.body != SMTP_BODY_NONE || a.smtputf8)) {
		smtp_reject_cmd(s, "555 5.5.4 ESMTP parameters need EHLO", (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	smtp_log_path(&a.path, addr, sizeof addr);
	if (W.conf->max_msgs > 0 && s->n_msgs >= W.conf->max_msgs) {
		log_info("smtp session=%s event=reject queue=none from=<%s> result=\"421 4.7.0\" "
		    "reason=\"too many messages in one connection\" limit=messages-per-connection "
		    "max=%u", s->sid, addr, W.conf->max_msgs);
		smtp_reply(s, "421 4.7.0 %s Error: too many messages in this connection, send the "
		    "rest in a new one", W.conf->hostname);
		s->st = S_CLOSING;
		return;
	}
	if (a.has_size && a.size > W.conf->max_message_size) {
		log_info("smtp session=%s event=reject queue=none from=<%s> size=%llu "
		    "result=\"552 5.3.4\" reason=\"declared size too large\"",
		    s->sid, addr, (unsigned long long)a.size);
		smtp_reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	s->t.sender = a.path;
	s->t.smtputf8 = a.smtputf8;
	s->t.body = a.body;
	s->t.in_mail = true;
	/* the access map's From:, then SPF; the reply comes with their answers */
	if (!smtp_access_mail(s))
		smtp_auth_mail(s);
}

static bool
rcpt_add_user(struct session *s, const char *user, const char *domain)
{
	for (size_t i = 0; i < s->t.n_rcpts; i++)
		if (strcmp(s->t.rcpts[i].user, user) == 0)
			return true;	/* one copy per mailbox */
	if (s->t.n_rcpts >= RCPT_USERS_MAX)
		return false;
	if (s->t.n_rcpts == s->t.cap_rcpts) {
		s->t.cap_rcpts = s->t.cap_rcpts ? s->t.cap_rcpts * 2 : 4;
		s->t.rcpts = xreallocarray(s->t.rcpts, s->t.cap_rcpts, sizeof *s->t.rcpts);
	}
	struct srcpt *r = &s->t.rcpts[s->t.n_rcpts++];
	snprintf(r->user, sizeof r->user, "%s", user);
	snprintf(r->addr, sizeof r->addr, "%s@%s", user, domain);
	return true;
}

/* Relaying: outbound delivery does not exist yet, so nobody may relay;
 * a client that would be allowed to (mynetworks, Connect: RELAY) is told
 * to try later instead of being refused for good. */
static void
relay_verdict(const struct session *s, const char *addr, struct verdict *v)
{
	if (s->trusted || s->conn_relay)
		verdict_set(v, 451, "4.4.0", "relay allowed, no outbound delivery yet",
		    "<%s>... Relaying allowed for you, but this server does not deliver "
		    "outbound mail yet", addr);
	else
		verdict_set(v, 550, "5.7.1", "relaying denied",
		    "<%s>... Relaying denied. Proper authentication required.", addr);
}

/* The RCPT checks that exist today, in order: recipient count, relay
 * (local domains only), recipient lookup.  V_NEXT with the mailboxes in
 * users[]/ *n when the recipient is accepted. */
static void
rcpt_verdict(struct session *s, const struct smtp_path *p, const char *addr, char *domain,
    size_t domain_len, const char **users, int *n, struct verdict *v)
{
	v->kind = V_NEXT;
	*n = 0;
	if (s->t.n_rcpt_cmds >= W.conf->max_rcpts) {
		verdict_set(v, 452, "4.5.3", "too many recipients (limit recipients)",
		    "Error: too many recipients");
		return;
	}
	if (p->is_postmaster) {
		snprintf(domain, domain_len, "%s", W.conf->domains[0]);
	} else {
		snprintf(domain, domain_len, "%s", p->domain);
		ascii_strlower(domain);
		if (!conf_is_local_domain(W.conf, domain)) {
			relay_verdict(s, addr, v);
			return;
		}
	}
	/* routes hidden in the local part of one of our addresses: "%", "!"
	 * (user%other@ours, other!user@ours) or a quoted "@"
	 * ("user@other"@ours) would have an old MTA relay the message; they
	 * are relay attempts, whoever sends them */
	if (!p->is_postmaster && strpbrk(p->local, p->is_quoted ? "%!@" : "%!") != NULL) {
		verdict_set(v, 550, "5.7.1", "relaying denied (route in the local part)",
		    "<%s>... Relaying denied. Proper authentication required.", addr);
		return;
	}
	const char *local = p->is_postmaster ? "postmaster" : p->local;
	/* a local part that needs quotes names no mailbox of ours; one whose
	 * quotes were redundant ("bob") was unquoted by the parser and is the
	 * same mailbox as bob (RFC 5321 2.4) */
	*n = p->local[0] == '"' ? 0 : rcpt_resolve(W.users, W.aliases,
	    (const char *const *)W.conf->domains, W.conf->n_domains, local, users);
	if (*n < 0)
		verdict_set(v, 451, "4.3.0", "alias expansion failed",
		    "<%s>: temporary recipient lookup failure", addr);
	else if (*n == 0)
		verdict_set(v, 550, "5.1.1", "no such user",
		    "<%s>: Recipient address rejected: User unknown", addr);
}

static void
cmd_rcpt(struct session *s, const struct smtp_cmd *c)
{
	struct smtp_rcpt_args a;
	enum smtp_addr_err pe = SMTP_ADDR_OK;

	if (!s->t.in_mail) {
		smtp_reject_cmd(s, "503 5.5.1 Error: need MAIL command", (const uint8_t *)"RCPT", 4);
		return;
	}
	s->t.n_rcpt_tried++;
	enum smtp_param_err e = smtp_rcpt_args_parse(c->arg, c->arg_len, s->t.smtputf8, &a, &pe);
	if (e == SMTP_PARAM_E_PATH) {
		smtp_reject_cmd(s, smtp_addr_err_reply(pe, true), (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	if (e != SMTP_PARAM_OK) {
		smtp_reject_cmd(s, smtp_param_err_reply(e), (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	/* the access map's To: for our own domains first (a custom text for
	 * a gone user must win over "User unknown"); then the rest */
	char domain[SMTP_DOMAIN_MAX + 1];
	str_copy(domain, sizeof domain, a.path.domain);
	ascii_strlower(domain);
	bool local = a.path.is_postmaster || conf_is_local_domain(W.conf, domain);
	s->t.def_pass = false;
	s->t.spam = 0;
	if (s->t.n_rcpt_cmds < W.conf->max_rcpts && smtp_access_rcpt(s, &a.path, local))
		return;
	smtp_rcpt_continue(s, &a.path);
}

void
smtp_rcpt_continue(struct session *s, const struct smtp_path *p)
{
	char addr[SMTP_PATH_MAX * 2], laddr[SMTP_PATH_MAX * 4], sender[SMTP_PATH_MAX * 4];
	char fields[SMTP_PATH_MAX * 8 + 32];
	const char *users[RCPT_EXPAND_MAX];
	smtp_path_str(p, addr, sizeof addr);
	smtp_log_path(p, laddr, sizeof laddr);
	smtp_log_path(&s->t.sender, sender, sizeof sender);
	snprintf(fields, sizeof fields, "from=<%s> to=<%s>", sender, laddr);
	char domain[SMTP_DOMAIN_MAX + 1];
	struct verdict v;
	int n;
	rcpt_verdict(s, p, addr, domain, sizeof domain, users, &n, &v);
	for (int i = 0; v.kind == V_NEXT && i < n; i++)
		if (!rcpt_add_user(s, users[i], domain))
			verdict_set(&v, 452, "4.5.3", "too many mailboxes", "Error: too many recipients");
	if (v.kind != V_NEXT) {
		/* a 5xx (unknown user, relaying) counts towards the error
		 * limit: probing for valid addresses ends after `limit errors` */
		smtp_refuse(s, &v, fields, true);
		if (strncmp(v.reason, "relaying denied", 15) == 0)
			smtp_event(s, BAN_EV_RELAY);
		else if (v.code == 550)
			smtp_event(s, BAN_EV_UNKNOWN_RCPT);
		return;
	}
	/* blocklists and greylisting, for a recipient we would take */
	if (smtp_def_rcpt(s, p) == DEF_DONE)
		return;
	if (s->t.n_rcpt_cmds == 0)
		snprintf(s->t.first_rcpt, sizeof s->t.first_rcpt, "%s", addr);
	s->t.n_rcpt_cmds++;
	s->n_rcpts_total++;
	log_info("smtp session=%s event=rcpt queue=none %s result=accept mailboxes=%d",
	    s->sid, fields, n);
	smtp_reply(s, "250 2.1.5 Ok");
}

/* DATA or BDAT needs a spool file.  Without a queue (it is restarting)
 * the transaction fails with 451; a BDAT chunk's bytes still follow and
 * are read and discarded as data, never parsed as commands. */
static void
request_spool(struct session *s)
{
	if (W.queue != NULL) {
		proto_open_send(W.queue, smtp_session_wait(s, WAIT_OPEN));
		return;
	}
	if (s->t.want_bdat_chunk) {
		s->t.bdat_failed = true;
		s->t.bdat_err = "451 4.3.0 Error: queue unavailable, try again later";
		s->st = S_BDAT;
		return;
	}
	smtp_queue_gone(s);
}

static void
cmd_data(struct session *s)
{
	if (!s->t.in_mail) {
		smtp_reject_cmd(s, "503 5.5.1 Error: need MAIL command", (const uint8_t *)"DATA", 4);
		return;
	}
	/* RFC 5321 3.3: 503 when no RCPT was given, 554 when all failed */
	if (s->t.n_rcpt_tried == 0) {
		smtp_reject_cmd(s, "503 5.5.1 Error: need RCPT command", (const uint8_t *)"DATA", 4);
		return;
	}
	if (s->t.n_rcpt_cmds == 0) {
		smtp_reject_cmd(s, "554 5.5.1 Error: no valid recipients", (const uint8_t *)"DATA", 4);
		return;
	}
	if (s->t.is_bdat) {
		smtp_reject_cmd(s, "503 5.5.1 Error: DATA after BDAT", (const uint8_t *)"DATA", 4);
		return;
	}
	s->t.want_bdat_chunk = false;
	request_spool(s);
}

static void
cmd_bdat(struct session *s, const struct smtp_cmd *c)
{
	uint64_t size;
	bool last;
	if (!smtp_bdat_parse(c->arg, c->arg_len, &size, &last)) {
		/* we cannot know how many bytes follow: the session is unsafe */
		log_info("smtp session=%s event=disconnect reason=\"bad BDAT syntax\"", s->sid);
		smtp_reply(s, "501 5.5.4 Syntax: BDAT chunk-size [LAST]");
		s->st = S_CLOSING;
		return;
	}
	s->t.bdat_left = size;
	s->t.bdat_last = last;
	if (!s->t.in_mail || s->t.n_rcpt_cmds == 0 || s->t.bdat_failed) {
		/* read and discard the chunk, then refuse (RFC 3030 2) */
		if (!s->t.in_mail)
			s->t.bdat_err = "503 5.5.1 Error: need MAIL command";
		else if (s->t.n_rcpt_tried == 0)
			s->t.bdat_err = "503 5.5.1 Error: need RCPT command";
		else if (s->t.n_rcpt_cmds == 0)
			s->t.bdat_err = "554 5.5.1 Error: no valid recipients";
		s->t.bdat_failed = true;
		s->st = S_BDAT;
		return;
	}
	if (!s->t.is_bdat) {
		s->t.is_bdat = true;
		s->t.want_bdat_chunk = true;
		request_spool(s);
		return;
	}
	s->st = S_BDAT;
}

static void
cmd_starttls(struct session *s)
{
	if (s->is_tls) {
		smtp_reject_cmd(s, "503 5.5.1 Error: TLS already active", (const uint8_t *)"STARTTLS", 8);
		return;
	}
	if (s->lis->tls != CONF_TLS_STARTTLS || W.tls == NULL) {
		smtp_reject_cmd(s, "502 5.5.1 Error: command not implemented", (const uint8_t *)"STARTTLS", 8);
		return;
	}
	if (s->t.in_mail) {
		smtp_reject_cmd(s, "503 5.5.1 Error: STARTTLS inside a mail transaction",
		    (const uint8_t *)"STARTTLS", 8);
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	/* RFC 3207 4.2: anything pipelined after STARTTLS came in clear text;
	 * io_start_tls drops it once the 220 is out. */
	s->starttls_pending = true;
}

void
smtp_handle_command(struct session *s, const uint8_t *line, size_t len)
{
	struct smtp_cmd c;
	s->n_cmds++;
	enum smtp_cmd_err e = smtp_cmd_parse((const char *)line, len, &c);
	if (e == SMTP_CMD_E_BADCHAR) {
		smtp_reject_cmd(s, "500 5.5.2 Error: bare CR, LF or NUL in command line", line, len);
		return;
	}
	if (e == SMTP_CMD_E_UNKNOWN) {
		smtp_reject_cmd(s, "500 5.5.1 Error: command not recognized", line, len);
		return;
	}
	if (e == SMTP_CMD_E_SYNTAX) {
		smtp_reject_cmd(s, "501 5.5.4 Syntax error in parameters or arguments", line, len);
		return;
	}
	/* commands that move nothing forward may not hold a slot for ever */
	if (c.verb == SMTP_CMD_NOOP || c.verb == SMTP_CMD_RSET || c.verb == SMTP_CMD_VRFY ||
	    c.verb == SMTP_CMD_HELP) {
		if (++s->n_junk > W.conf->max_junk) {
			struct verdict v;
			verdict_set(&v, 421, "4.7.0", "too many NOOP/RSET/VRFY/HELP",
			    "%s Error: too many commands that do nothing, closing",
			    W.conf->hostname);
			smtp_refuse(s, &v, "", false);
			s->st = S_CLOSING;
			return;
		}
	}
	switch (c.verb) {
	case SMTP_CMD_EHLO:
		cmd_helo(s, &c, true);
		break;
	case SMTP_CMD_HELO:
		cmd_helo(s, &c, false);
		break;
	case SMTP_CMD_MAIL:
		cmd_mail(s, &c);
		break;
	case SMTP_CMD_RCPT:
		cmd_rcpt(s, &c);
		break;
	case SMTP_CMD_DATA:
		cmd_data(s);
		break;
	case SMTP_CMD_BDAT:
		cmd_bdat(s, &c);
		break;
	case SMTP_CMD_RSET:
		smtp_txn_reset(s);
		smtp_reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_CMD_NOOP:
		smtp_reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_CMD_QUIT:
		smtp_reply(s, "221 2.0.0 Bye");
		s->st = S_CLOSING;
		break;
	case SMTP_CMD_VRFY:
		smtp_event(s, BAN_EV_VRFY);
		/* never confirm or deny that a user exists (RFC 5321 3.5.3) */
		smtp_reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
		break;
	case SMTP_CMD_EXPN:
		smtp_event(s, BAN_EV_VRFY);
		smtp_reject_cmd(s, "502 5.5.1 Error: EXPN not available", line, len);
		break;
	case SMTP_CMD_HELP:
		smtp_reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS");
		break;
	case SMTP_CMD_STARTTLS:
		cmd_starttls(s);
		break;
	case SMTP_CMD_AUTH:
		smtp_reject_cmd(s, "502 5.5.1 Error: AUTH not available on this port", line, len);
		break;
	default:
		smtp_reject_cmd(s, "500 5.5.1 Error: command not recognized", line, len);
		break;
	}
}

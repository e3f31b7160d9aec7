/*
 * smtp/access.c - the session's questions to the access map (`access
 * PATH`; policy/access.h has the format and sendmail's lookup order).
 * Asked only when a map is configured; the map lives in the policy
 * process, which answers ACCESS requests.
 *
 *   connect   Connect: by the client address, before the greeting
 *             (WAIT_ACCESS): REJECT -> 554 5.7.1 and close, ERROR -> its
 *             reply and close; OK/RELAY mark the client trusted (for the
 *             checks that skip trusted clients); DISCARD drops every
 *             message of the session.
 *   name      Connect: by the verified client name, when it arrives (no
 *             wait): a refusal is given at the next MAIL.
 *   MAIL      From: (WAIT_ACCESS), then SPF: REJECT/ERROR refuse the
 *             sender; OK/RELAY accept it whatever SPF says (SPF is still
 *             evaluated and reported); DISCARD drops the message.
 *   RCPT      To: for our domains, before the recipient lookup, so a
 *             custom text for a gone user is what the client reads; OK
 *             or RELAY there skips the blocklists and greylisting for
 *             that recipient.
 *   Spam:     asked only when a blocklist or greylisting would stop a
 *             recipient of ours: FRIEND lets it through.
 * RELAY marks a client that may relay (smtp/commands.c relay_verdict);
 * outbound delivery does not exist yet, so it is told to try later.
 * Every refusal names the map's file:line and key in the log.
 * Runs in: smtp worker.
 */
#include <stdio.h>
#include <string.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/util.h"
#include "mail/conf.h"
#include "policy/access.h"
#include "proto/smtp_policy.h"
#include "smtp/session.h"

static bool
refusal(const struct proto_access_reply *r)
{
	return r->action == ACCESS_REJECT || r->action == ACCESS_ERROR;
}

/* The verdict of a refusing answer; at connect a plain REJECT is 554. */
static void
to_verdict(const struct proto_access_reply *r, bool at_connect, struct verdict *v)
{
	unsigned code = r->code;
	if (at_connect && r->action == ACCESS_REJECT)
		code = 554;
	verdict_set(v, code, r->esc[0] ? r->esc : code >= 500 ? "5.7.1" : "4.7.1",
	    "access map", "%s", r->text[0] ? r->text : "Access denied");
}

/* Without a policy process the map cannot be asked: never accept what it
 * may refuse, try again later instead. */
static void
unavailable(struct proto_access_reply *r, bool at_connect)
{
	memset(r, 0, sizeof *r);
	r->action = ACCESS_ERROR;
	r->code = at_connect ? 421 : 451;
	str_copy(r->esc, sizeof r->esc, "4.3.0");
	str_copy(r->text, sizeof r->text, "Error: policy unavailable, try again later");
	str_copy(r->where, sizeof r->where, "policy process unavailable");
}

static void answer(struct session *s, const struct proto_access_reply *r);

/* Ask the policy process; the answer comes in smtp_access_reply, or at
 * once (no policy process) through answer(). */
static void
ask(struct session *s, uint32_t tag, const char *key, bool local, int stage)
{
	s->access_stage = stage;
	if (W.policy == NULL) {
		struct proto_access_reply r;
		unavailable(&r, stage == ACC_CONNECT);
		answer(s, &r);
		return;
	}
	struct proto_access q;
	memset(&q, 0, sizeof q);
	q.tag = tag;
	q.local = local;
	str_copy(q.key, sizeof q.key, key);
	uint64_t id = smtp_session_wait(s, WAIT_ACCESS);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_access_enc(&b, &q);
	proto_send(W.policy, PROTO_ACCESS, id, &b);
}

bool
smtp_access_connect(struct session *s)
{
	if (W.conf->access == NULL)
		return false;
	ask(s, ACCESS_CONNECT, s->ip, false, ACC_CONNECT);
	return true;
}

void
smtp_access_name(struct session *s)
{
	if (W.conf->access == NULL || W.policy == NULL || s->rdns_name[0] == '\0')
		return;
	struct proto_access q;
	memset(&q, 0, sizeof q);
	q.tag = ACCESS_CONNECT;
	str_copy(q.key, sizeof q.key, s->rdns_name);
	s->name_req = ++W.next_req;
	*(struct session **)htab_put(&W.rdns_reqs, &s->name_req) = s;
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_access_enc(&b, &q);
	proto_send(W.policy, PROTO_ACCESS, s->name_req, &b);
}

bool
smtp_access_mail(struct session *s)
{
	if (s->conn_refused) {
		char fields[SMTP_PATH_MAX * 4 + 300], from[SMTP_PATH_MAX * 4];
		smtp_log_path(&s->t.sender, from, sizeof from);
		snprintf(fields, sizeof fields, "from=<%s> client_name=%s", from, s->rdns_name);
		smtp_refuse(s, &s->conn_verdict, fields, false);
		smtp_txn_reset(s);
		return true;
	}
	if (W.conf->access == NULL || s->t.sender.is_null)
		return false;
	char sender[SMTP_PATH_MAX * 2];
	smtp_path_str(&s->t.sender, sender, sizeof sender);
	ask(s, ACCESS_FROM, sender, false, ACC_MAIL);
	return true;
}

bool
smtp_access_rcpt(struct session *s, const struct smtp_path *p, bool local)
{
	if (W.conf->access == NULL || !local)
		return false;
	char addr[SMTP_PATH_MAX * 2];
	smtp_path_str(p, addr, sizeof addr);
	s->t.prcpt = *p;
	ask(s, ACCESS_TO, addr, true, ACC_RCPT);
	return true;
}

bool
smtp_access_spam(struct session *s, const struct smtp_path *p)
{
	if (W.conf->access == NULL)
		return false;
	char addr[SMTP_PATH_MAX * 2];
	smtp_path_str(p, addr, sizeof addr);
	ask(s, ACCESS_SPAM, addr, true, ACC_SPAM);
	return true;
}

static void
log_match(struct session *s, const char *what, const struct proto_access_reply *r)
{
	static const char *const names[] = { "none", "ok", "relay", "reject", "discard", "skip",
	    "error", "friend", "hater" };
	log_info("smtp session=%s event=access check=%s client=[%s] action=%s where=\"%s\"",
	    s->sid, what, s->ip, r->action < 9 ? names[r->action] : "?", r->where);
}

void
smtp_access_reply(uint64_t id, const struct proto_access_reply *r)
{
	struct session **sp = htab_get(&W.rdns_reqs, &id);
	if (sp != NULL) {
		/* the verified name's answer: kept for the next MAIL */
		struct session *s = *sp;
		htab_del(&W.rdns_reqs, &id);
		s->name_req = 0;
		if (r->action != ACCESS_NONE)
			log_match(s, "connect-name", r);
		if (refusal(r)) {
			to_verdict(r, false, &s->conn_verdict);
			s->conn_refused = true;
		} else if (r->action == ACCESS_DISCARD) {
			s->discard_all = true;
		} else if (r->action == ACCESS_OK || r->action == ACCESS_RELAY) {
			s->conn_ok = true;
			s->conn_relay = r->action == ACCESS_RELAY;
		}
		return;
	}
	struct session *s = smtp_session_answer(id, WAIT_ACCESS);
	if (s == NULL)
		return;
	answer(s, r);
	smtp_session_process(s);
	smtp_session_update(s);
}

/* The map's answer for the question the session asked. */
static void
answer(struct session *s, const struct proto_access_reply *r)
{
	s->st = S_CMD;
	struct verdict v;
	char fields[SMTP_PATH_MAX * 8 + 600], from[SMTP_PATH_MAX * 4], to[SMTP_PATH_MAX * 4];
	char where[500];
	log_escape(where, sizeof where, r->where, strlen(r->where));
	smtp_log_path(&s->t.sender, from, sizeof from);
	switch (s->access_stage) {
	case ACC_CONNECT:
		if (r->action != ACCESS_NONE)
			log_match(s, "connect", r);
		if (refusal(r)) {
			to_verdict(r, true, &v);
			snprintf(fields, sizeof fields, "client=[%s] access=\"%s\"", s->ip, where);
			smtp_refuse(s, &v, fields, false);
			s->st = S_CLOSING;
			break;
		}
		if (r->action == ACCESS_DISCARD)
			s->discard_all = true;
		else if (r->action == ACCESS_OK || r->action == ACCESS_RELAY)
			s->conn_ok = true;
		s->conn_relay = r->action == ACCESS_RELAY;
		smtp_connect_continue(s);
		break;
	case ACC_MAIL:
		if (r->action != ACCESS_NONE)
			log_match(s, "from", r);
		if (refusal(r)) {
			to_verdict(r, false, &v);
			snprintf(fields, sizeof fields, "from=<%s> access=\"%s\"", from, where);
			smtp_refuse(s, &v, fields, false);
			smtp_txn_reset(s);
			break;
		}
		if (r->action == ACCESS_DISCARD)
			s->t.discard = true;
		else if (r->action == ACCESS_OK || r->action == ACCESS_RELAY)
			s->t.from_ok = true;
		smtp_auth_mail(s);
		break;
	case ACC_RCPT:
		smtp_log_path(&s->t.prcpt, to, sizeof to);
		if (r->action != ACCESS_NONE)
			log_match(s, "to", r);
		if (refusal(r)) {
			to_verdict(r, false, &v);
			snprintf(fields, sizeof fields, "from=<%s> to=<%s> access=\"%s\"", from, to,
			    where);
			/* a 5xx counts towards the error limit, as an unknown user */
			smtp_refuse(s, &v, fields, true);
			break;
		}
		if (r->action == ACCESS_DISCARD)
			s->t.discard = true;
		/* To: OK exempts this recipient from the later RCPT checks, as
		 * sendmail's delay_checks does */
		if (r->action == ACCESS_OK || r->action == ACCESS_RELAY)
			s->t.def_pass = true;
		smtp_rcpt_continue(s, &s->t.prcpt);
		break;
	case ACC_SPAM:
		if (r->action == ACCESS_FRIEND)
			log_match(s, "spam", r);
		/* a map that cannot be asked is no friend: the checks go on */
		smtp_def_spam_answer(s, r->action == ACCESS_FRIEND);
		break;
	}
}

/* The policy process went away while the session asked. */
void
smtp_access_policy_gone(struct session *s)
{
	struct proto_access_reply r;
	unavailable(&r, s->access_stage == ACC_CONNECT);
	smtp_access_reply(s->req, &r);
}

/*
 * smtp/defence.c - the session's inbound defences that are not the access
 * map (smtp/access.c): listener ACLs at accept, greet pause, the
 * pipelining check, DNS blocklists, greylisting, and the ban points the
 * client earns.  All off unless configured (mail/conf.h).
 *
 *   accept    `listen ... allow PREFIX...` and `deny reject|drop PREFIX...`
 *             before anything else: drop closes at once, reject answers
 *             554 and closes (best effort, never blocking).
 *   admitted  the client-address blocklists are asked at once (no wait):
 *             their answer is usually in by the first RCPT.
 *   banner    `limit greet-pause MS`: the banner waits; a client that
 *             talks first gets 554 5.5.0 and is closed (sendmail's
 *             greet_pause).  With `dnsbl-reject connect` the banner also
 *             waits for the blocklists, and a listed client gets 554.
 *   MAIL      the HELO and sender-domain lists (rhsbl) are asked, no wait.
 *   RCPT      after the recipient is known to be ours: a listing refuses
 *             it with the list's text (550 5.7.1 by default), then
 *             greylisting (451 4.7.1 until the triplet has waited).
 *             Exempt: mynetworks, Connect: OK/RELAY, To: OK/RELAY,
 *             Spam: FRIEND recipients, postmaster (blocklists only: a
 *             listed sender must be able to reach postmaster).
 * Every refusal logs the check, the list and its answer or the triplet's
 * state, and the reply sent.  Points for bans go to the policy process as
 * EVENTs: the address is the one policy admitted, never named here.
 * Runs in: smtp worker.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/prefix.h"
#include "core/util.h"
#include "mail/conf.h"
#include "mail/domain.h"
#include "policy/bans.h"
#include "proto/smtp_policy.h"
#include "smtp/session.h"

/* --- accept ------------------------------------------------------------- */

bool
smtp_acl(const struct conf_listen *lis, int fd, const struct sockaddr_storage *ss,
    socklen_t sl)
{
	const struct conf *c = W.conf;
	if (lis->n_allow == 0 && c->n_denies == 0)
		return true;
	struct prefix a;
	char ip[SOCKADDR_IP_MAX], rule[PREFIX_TEXT_MAX + 32];
	bool drop = true;
	if (!prefix_from_sockaddr(ss, sl, &a)) {
		close(fd);
		return false;
	}
	sockaddr_ip(ss, sl, ip);
	if (lis->n_allow > 0 && !prefix_list_match(lis->allow, lis->n_allow, ss, sl)) {
		snprintf(rule, sizeof rule, "listen-allow line=%u", lis->line);
	} else {
		size_t i;
		for (i = 0; i < c->n_denies; i++)
			if (prefix_contains(&c->denies[i].p, &a))
				break;
		if (i == c->n_denies)
			return true;
		char p[PREFIX_TEXT_MAX];
		prefix_text(&c->denies[i].p, p);
		snprintf(rule, sizeof rule, "deny %s line=%u", p, c->denies[i].line);
		drop = c->denies[i].drop;
	}
	log_info("smtp event=acl client=[%s] listener=%s result=%s rule=\"%s\"", ip, lis->text,
	    drop ? "drop" : "reject", rule);
	if (!drop) {
		/* one small write into an empty socket buffer: it does not
		 * block, and a client that cannot take it loses nothing */
		char line[CONF_HOSTNAME_MAX + 64];
		int n = snprintf(line, sizeof line, "554 5.7.1 %s Access denied\r\n", c->hostname);
		ssize_t w = send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)w;	/* a failure changes nothing: the close says enough */
	}
	close(fd);
	return false;
}

/* --- ban points ----------------------------------------------------------- */

void
smtp_event(struct session *s, unsigned event)
{
	if (W.policy == NULL || !s->admitted || !W.conf->auto_ban || s->trusted)
		return;
	struct proto_event e = { .session = s->admit_id, .event = event };
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_event_enc(&b, &e);
	proto_send(W.policy, PROTO_EVENT, ++W.next_req, &b);
}

/* --- blocklists ------------------------------------------------------------ */

static bool
have_lists(unsigned what)
{
	for (size_t i = 0; i < W.conf->n_bls; i++)
		if (W.conf->bls[i].what & what)
			return true;
	return false;
}

static uint64_t
ask_bl(struct session *s, uint32_t what, const char *helo, const char *from)
{
	struct proto_dnsbl q;
	memset(&q, 0, sizeof q);
	q.session = s->admit_id;
	q.what = what;
	str_copy(q.helo, sizeof q.helo, helo);
	str_copy(q.from, sizeof q.from, from);
	uint64_t id = ++W.next_req;
	*(struct session **)htab_put(&W.rdns_reqs, &id) = s;
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_dnsbl_enc(&b, &q);
	proto_send(W.policy, PROTO_DNSBL, id, &b);
	return id;
}

void
smtp_def_admitted(struct session *s)
{
	s->trusted = prefix_list_match(W.conf->mynetworks, W.conf->n_mynetworks, &s->peer,
	    s->peerlen);
	s->bl_done = true;
	if (!s->trusted && W.policy != NULL && have_lists(CONF_BL_IP)) {
		s->bl_done = false;
		s->bl_req = ask_bl(s, DNSBL_CLIENT, "", "");
	}
}

void
smtp_def_mail(struct session *s)
{
	smtp_def_txn_reset(s);
	s->t.bl_done = true;
	if (s->trusted || s->conn_ok || W.policy == NULL ||
	    !have_lists(CONF_BL_HELO | CONF_BL_FROM))
		return;
	const char *from = s->t.sender.is_null || s->t.sender.is_literal ? "" :
	    s->t.sender.domain;
	const char *helo = s->helo;
	if (from[0] == '\0' && (helo[0] == '\0' || helo[0] == '['))
		return;
	s->t.bl_done = false;
	s->t.bl_req = ask_bl(s, DNSBL_HELO | DNSBL_FROM, helo, from);
}

void
smtp_def_txn_reset(struct session *s)
{
	if (s->t.bl_req != 0)
		htab_del(&W.rdns_reqs, &s->t.bl_req);
	s->t.bl_req = 0;
	s->t.bl_done = false;
	free(s->t.bl);
	s->t.bl = NULL;
}

void
smtp_def_forget(struct session *s)
{
	if (s->bl_req != 0)
		htab_del(&W.rdns_reqs, &s->bl_req);
	s->bl_req = 0;
	free(s->bl);
	s->bl = NULL;
	smtp_def_txn_reset(s);
}

static void resume(struct session *s);

void
smtp_def_dnsbl_reply(uint64_t id, const struct proto_dnsbl_reply *r)
{
	struct session **sp = htab_get(&W.rdns_reqs, &id);
	if (sp == NULL)
		return;
	struct session *s = *sp;
	htab_del(&W.rdns_reqs, &id);
	struct proto_dnsbl_reply **slot;
	if (id == s->bl_req) {
		s->bl_req = 0;
		s->bl_done = true;
		slot = &s->bl;
	} else if (id == s->t.bl_req) {
		s->t.bl_req = 0;
		s->t.bl_done = true;
		slot = &s->t.bl;
	} else {
		return;
	}
	if (r->result == DNSBL_LISTED) {
		*slot = xmalloc(sizeof **slot);
		**slot = *r;
	}
	if (s->st == S_WAIT && s->wait == WAIT_DNSBL && s->bl_done &&
	    (s->bl_stage == 1 || s->t.bl_done))
		resume(s);
}

/* the policy process went away: answers that were coming never will;
 * blocklists fail open */
void
smtp_def_policy_gone(void)
{
	for (struct session *s = W.sessions; s; s = s->next) {
		struct proto_dnsbl_reply none;
		memset(&none, 0, sizeof none);
		if (s->bl_req != 0)
			smtp_def_dnsbl_reply(s->bl_req, &none);
		if (s->t.bl_req != 0)
			smtp_def_dnsbl_reply(s->t.bl_req, &none);
		if (s->st == S_WAIT && s->wait == WAIT_GREY) {
			struct proto_grey_reply g;
			memset(&g, 0, sizeof g);
			g.result = GREY_R_ERROR;
			str_copy(g.state, sizeof g.state, "policy-gone");
			smtp_def_grey_reply(s->req, &g);
		}
	}
}

/* The verdict of a listing reply, and its log fields. */
static void
bl_verdict(const struct proto_dnsbl_reply *r, bool at_connect, struct verdict *v,
    char *fields, size_t n, const struct session *s)
{
	const struct conf_bl *l = r->list < W.conf->n_bls ? &W.conf->bls[r->list] : NULL;
	struct in_addr a = { htonl(r->answer) };
	char ans[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, ans, sizeof ans);
	unsigned code = r->code;
	if (at_connect && code >= 500)
		code = 554;	/* a refusal at connect is 554 (RFC 5321 3.1) */
	verdict_set(v, code, r->esc[0] ? r->esc : code >= 500 ? "5.7.1" : "4.7.1", "blocklist",
	    "%s", r->text);
	snprintf(fields, n, "client=[%s] list=%s listed=%s answer=%s", s->ip,
	    l ? l->zone : "?", r->what == DNSBL_CLIENT ? "client" : r->what == DNSBL_HELO ?
	    "helo" : "from", ans);
}

/* --- banner ---------------------------------------------------------------- */

static bool
exempt(const struct session *s)
{
	return s->trusted || s->conn_ok;
}

bool
smtp_def_connect(struct session *s)
{
	if (s->lis->tls == CONF_TLS_IMPLICIT || exempt(s))
		return false;
	if (W.conf->greet_pause > 0) {
		s->st = S_PAUSE;
		s->pause_until = now_ms() + W.conf->greet_pause;
		return true;
	}
	if (!W.conf->bl_at_connect)
		return false;
	smtp_def_pause_over(s);
	return true;
}

/* the banner, once the pause and the blocklists allow it */
void
smtp_def_pause_over(struct session *s)
{
	s->st = S_CMD;
	s->pause_until = 0;
	if (W.conf->bl_at_connect && !s->bl_done) {
		s->bl_stage = 1;
		smtp_session_wait(s, WAIT_DNSBL);
		return;
	}
	if (W.conf->bl_at_connect && s->bl != NULL) {
		struct verdict v;
		char fields[600];
		bl_verdict(s->bl, true, &v, fields, sizeof fields, s);
		smtp_refuse(s, &v, fields, false);
		smtp_event(s, BAN_EV_BLOCKLIST);
		s->st = S_CLOSING;
		return;
	}
	smtp_greet(s);
}

void
smtp_def_early_talker(struct session *s)
{
	uint64_t now = now_ms();
	uint64_t waited = W.conf->greet_pause - (s->pause_until > now ? s->pause_until - now : 0);
	log_info("smtp session=%s event=reject queue=none client=[%s] check=greet-pause "
	    "waited_ms=%llu pause_ms=%u result=\"554 5.5.0\" reason=\"talked before the "
	    "greeting\"", s->sid, s->ip, (unsigned long long)waited, W.conf->greet_pause);
	smtp_reply(s, "554 5.5.0 %s Error: talking before the greeting is not allowed",
	    W.conf->hostname);
	smtp_event(s, BAN_EV_EARLY_TALK);
	s->pause_until = 0;
	s->st = S_CLOSING;
}

/* --- pipelining --------------------------------------------------------------- */

bool
smtp_def_pipelining(struct session *s, bool negotiated, size_t left)
{
	/* PIPELINING is negotiated by the EHLO reply (RFC 2920 3.1): until a
	 * client has read it, one command, one reply */
	if (!W.conf->pipelining_check || left == 0 || negotiated || exempt(s) ||
	    s->st == S_CLOSING)
		return false;
	log_info("smtp session=%s event=reject queue=%s client=[%s] check=pipelining "
	    "pending_bytes=%zu result=\"554 5.5.0\" reason=\"improper pipelining\"", s->sid,
	    smtp_qid(s), s->ip, left);
	smtp_reply(s, "554 5.5.0 Improper use of SMTP command pipelining");
	smtp_event(s, BAN_EV_PIPELINING);
	s->st = S_CLOSING;
	return true;
}

/* --- RCPT ------------------------------------------------------------------- */

static bool
grey_exempt(const struct session *s)
{
	const struct conf *c = W.conf;
	if (prefix_list_match(c->grey_nets, c->n_grey_nets, &s->peer, s->peerlen))
		return true;
	if (s->t.sender.is_null || c->n_grey_domains == 0)
		return false;
	char d[SMTP_DOMAIN_MAX + 1];
	str_copy(d, sizeof d, s->t.sender.domain);
	ascii_strlower(d);
	for (size_t i = 0; i < c->n_grey_domains; i++) {
		size_t dl = strlen(d), gl = strlen(c->grey_domains[i]);
		if (strcmp(d, c->grey_domains[i]) == 0 ||
		    (dl > gl && d[dl - gl - 1] == '.' && strcmp(d + dl - gl, c->grey_domains[i]) == 0))
			return true;
	}
	return false;
}

/* The first listing answer that applies: the client's, then the domains'. */
static const struct proto_dnsbl_reply *
listing(const struct session *s)
{
	return s->bl != NULL ? s->bl : s->t.bl;
}

int
smtp_def_rcpt(struct session *s, const struct smtp_path *p)
{
	if (s->t.def_pass) {
		s->t.def_pass = false;
		return DEF_PASS;
	}
	if (exempt(s))
		return DEF_PASS;
	/* RFC 5321 4.5.1: postmaster of our domains must reach us, and a
	 * listed sender is who most needs to write to it */
	bool postmaster = p->is_postmaster || strcasecmp(p->local, "postmaster") == 0;
	bool lists = W.conf->n_bls > 0 && !postmaster;
	bool grey = W.conf->greylist != CONF_GREY_OFF;
	if (!lists && !grey)
		return DEF_PASS;
	/* the blocklist answers first: greylisting may depend on them */
	if (!s->bl_done || !s->t.bl_done) {
		s->t.prcpt = *p;
		s->bl_stage = 2;
		smtp_session_wait(s, WAIT_DNSBL);
		return DEF_DONE;
	}
	const struct proto_dnsbl_reply *l = listing(s);
	bool refuse = lists && l != NULL && W.conf->greylist != CONF_GREY_LISTED;
	bool greylist = grey && !grey_exempt(s) &&
	    (W.conf->greylist == CONF_GREY_ON || l != NULL);
	if (!refuse && !greylist)
		return DEF_PASS;
	/* Spam: FRIEND lets a recipient of ours through both */
	if (s->t.spam == 0 && smtp_access_spam(s, p)) {
		s->t.prcpt = *p;
		return DEF_DONE;
	}
	if (s->t.spam == 1)
		return DEF_PASS;
	char to[SMTP_PATH_MAX * 4], from[SMTP_PATH_MAX * 4];
	smtp_log_path(p, to, sizeof to);
	smtp_log_path(&s->t.sender, from, sizeof from);
	if (refuse) {
		struct verdict v;
		char fields[600], all[700 + SMTP_PATH_MAX * 8];
		bl_verdict(l, false, &v, fields, sizeof fields, s);
		snprintf(all, sizeof all, "from=<%s> to=<%s> %s", from, to, fields);
		smtp_refuse(s, &v, all, false);
		if (!s->bl_scored) {
			s->bl_scored = true;
			smtp_event(s, BAN_EV_BLOCKLIST);
		}
		return DEF_DONE;
	}
	/* greylisting */
	if (W.policy == NULL) {
		struct proto_grey_reply g;
		memset(&g, 0, sizeof g);
		g.result = GREY_R_ERROR;
		str_copy(g.state, sizeof g.state, "policy-unavailable");
		s->t.prcpt = *p;
		smtp_session_wait(s, WAIT_GREY);
		smtp_def_grey_reply(s->req, &g);
		return DEF_DONE;
	}
	struct proto_grey q;
	memset(&q, 0, sizeof q);
	q.session = s->admit_id;
	smtp_path_str(&s->t.sender, q.sender, sizeof q.sender);
	smtp_path_str(p, q.rcpt, sizeof q.rcpt);
	s->t.prcpt = *p;
	uint64_t id = smtp_session_wait(s, WAIT_GREY);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_grey_enc(&b, &q);
	proto_send(W.policy, PROTO_GREY, id, &b);
	return DEF_DONE;
}

void
smtp_def_spam_answer(struct session *s, bool friend)
{
	s->t.spam = friend ? 1 : 2;
	smtp_rcpt_continue(s, &s->t.prcpt);
}

void
smtp_def_grey_reply(uint64_t id, const struct proto_grey_reply *r)
{
	struct session *s = smtp_session_answer(id, WAIT_GREY);
	if (s == NULL)
		return;
	s->st = S_CMD;
	char to[SMTP_PATH_MAX * 4], from[SMTP_PATH_MAX * 4], fields[SMTP_PATH_MAX * 8 + 200];
	smtp_log_path(&s->t.prcpt, to, sizeof to);
	smtp_log_path(&s->t.sender, from, sizeof from);
	snprintf(fields, sizeof fields, "from=<%s> to=<%s> client=[%s] check=greylist net=%s "
	    "state=%s", from, to, s->ip, r->net[0] ? r->net : "?", r->state);
	struct verdict v;
	if (r->result == GREY_R_PASS) {
		log_info("smtp session=%s event=greylist %s result=pass", s->sid, fields);
		s->t.def_pass = true;
		smtp_rcpt_continue(s, &s->t.prcpt);
	} else if (r->result == GREY_R_WAIT) {
		verdict_set(&v, 451, "4.7.1", "greylisted",
		    "<%.300s>: Recipient address rejected: Greylisted, try again in %u seconds",
		    to, r->retry ? r->retry : 1);
		smtp_refuse(s, &v, fields, false);
	} else {
		verdict_set(&v, 451, "4.3.0", "greylist store unavailable",
		    "Error: temporary failure, try again later");
		smtp_refuse(s, &v, fields, false);
	}
	smtp_session_process(s);
	smtp_session_update(s);
}

/* A WAIT_DNSBL ended: carry on where it began. */
static void
resume(struct session *s)
{
	smtp_session_answer(s->req, WAIT_DNSBL);
	s->st = S_CMD;
	if (s->bl_stage == 1)
		smtp_def_pause_over(s);
	else
		smtp_rcpt_continue(s, &s->t.prcpt);
	smtp_session_process(s);
	smtp_session_update(s);
}

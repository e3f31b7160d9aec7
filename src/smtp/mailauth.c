/*
 * smtp/mailauth.c - the mail-authentication checks of a session.
 *
 *   connect      RDNS to the policy process (no wait): the client's
 *                forward-confirmed name for Received and iprev
 *   MAIL FROM    SPF, evaluated by the policy process with the shared
 *                resolver; the session waits (WAIT_SPF).  fail: 550 5.7.23
 *                (RFC 7372) with `spf-fail reject`; temperror: 451 4.4.3
 *                then (DESIGN.md "Replies and failures")
 *   content      the header section is collected (msgauth/header.h) and the
 *                body hashed for each DKIM signature as it streams by
 *   end of data  the DKIM keys and the DMARC record are fetched through the
 *                policy process (WAIT_LOOKUP, up to two rounds: the From
 *                domain, then its organisational domain); the signatures
 *                are checked here, DMARC evaluated, and the verdict given:
 *                reject -> 550 5.7.1, quarantine -> the Junk folder,
 *                temperror where a reject was possible -> 451 4.7.5.
 *                Authentication-Results goes into the envelope (prepended
 *                by delivery), forged ones claiming our authserv-id are
 *                skipped.
 * The public keys are fetched by the policy process, the signatures are
 * verified here: a key is public data, and the worker already holds the
 * message, so nothing secret or large crosses a process boundary.
 * Runs in: smtp worker.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/util.h"
#include "mail/conf.h"
#include "msgauth/authres.h"
#include "msgauth/dkim.h"
#include "msgauth/dmarc.h"
#include "msgauth/header.h"
#include "msgauth/msgcheck.h"
#include "msgauth/spf.h"
#include "proto/smtp_policy.h"
#include "smtp/session.h"

#define AUTH_HEADER_MAX	(256 * 1024)	/* header bytes kept for DKIM/DMARC */

static void answer_tempfail(struct auth_txn *a, const char *name, const char *why);

/* --- reverse name ------------------------------------------------------- */

void
smtp_auth_connect(struct session *s)
{
	s->rdns = RDNS_UNKNOWN;
	if (W.policy == NULL)
		return;
	s->rdns_req = ++W.next_req;
	*(struct session **)htab_put(&W.rdns_reqs, &s->rdns_req) = s;
	proto_admit_send(W.policy, PROTO_RDNS, s->rdns_req, &s->peer, s->peerlen);
}

void
smtp_auth_forget(struct session *s)
{
	if (s->rdns_req != 0)
		htab_del(&W.rdns_reqs, &s->rdns_req);
	if (s->name_req != 0)
		htab_del(&W.rdns_reqs, &s->name_req);
	s->rdns_req = s->name_req = 0;
	smtp_auth_txn_free(s);
}

void
smtp_auth_rdns_reply(uint64_t id, const struct proto_rdns_reply *r)
{
	struct session **sp = htab_get(&W.rdns_reqs, &id);
	if (sp == NULL)
		return;
	struct session *s = *sp;
	htab_del(&W.rdns_reqs, &id);
	s->rdns_req = 0;
	s->rdns = r->status == RDNS_PASS ? RDNS_PASS : r->status == RDNS_TEMP ? RDNS_TEMP :
	    RDNS_FAIL;
	if (r->status == RDNS_PASS)
		str_copy(s->rdns_name, sizeof s->rdns_name, r->name);
	if (r->status == RDNS_PASS)
		smtp_access_name(s);
	log_info("smtp session=%s event=rdns client=[%s] result=%s%s%s", s->sid, s->ip,
	    r->status == RDNS_PASS ? "pass" : r->status == RDNS_TEMP ? "temperror" : "fail",
	    r->status == RDNS_PASS ? " name=" : "", r->status == RDNS_PASS ? r->name : "");
}

/* The policy process went away: what waited for it gets temporary errors
 * (lookups) or no name (RDNS). */
void
smtp_auth_policy_gone(void)
{
	size_t pos = 0;
	uint64_t *k;
	while ((k = htab_next(&W.rdns_reqs, &pos)) != NULL) {
		struct session *s;
		memcpy(&s, (uint8_t *)k + sizeof(uint64_t), sizeof s);
		if (*k == s->name_req) {
			s->name_req = 0;	/* the name's access answer: none */
			continue;
		}
		s->rdns_req = 0;
		s->rdns = RDNS_TEMP;
	}
	htab_free(&W.rdns_reqs);
	htab_init(&W.rdns_reqs, sizeof(uint64_t), sizeof(struct session *));
	for (struct session *s = W.sessions, *next; s; s = next) {
		next = s->next;
		if (s->st != S_WAIT)
			continue;
		if (s->wait == WAIT_SPF) {
			struct proto_spf_reply r = { .result = SPF_TEMPERROR };
			str_copy(r.problem, sizeof r.problem, "policy process unavailable");
			smtp_auth_spf_reply(s->req, &r);
		} else if (s->wait == WAIT_ACCESS) {
			smtp_access_policy_gone(s);
		} else if (s->wait == WAIT_LOOKUP) {
			struct auth_txn *a = s->t.auth;
			smtp_session_answer(s->req, WAIT_LOOKUP);
			a->lookups_failed = true;
			a->pending = 0;
			for (size_t i = a->base; i < a->n_q; i++)
				if (lookup_set_find(a->set, LOOKUP_TXT, a->qname[i]) == NULL)
					answer_tempfail(a, a->qname[i], "policy process unavailable");
			smtp_auth_lookups_done(s);
		}
	}
}

/* --- SPF at MAIL FROM ---------------------------------------------------- */

static void spf_done(struct session *s, const struct proto_spf_reply *r);

void
smtp_auth_mail(struct session *s)
{
	struct proto_spf q;
	memset(&q, 0, sizeof q);
	q.addr = s->peer;
	q.addrlen = s->peerlen;
	smtp_path_str(&s->t.sender, q.sender, sizeof q.sender);
	str_copy(q.helo, sizeof q.helo, s->helo);
	if (W.policy == NULL) {
		struct proto_spf_reply r = { .result = SPF_TEMPERROR };
		str_copy(r.problem, sizeof r.problem, "policy process unavailable");
		spf_done(s, &r);
		return;
	}
	uint64_t id = smtp_session_wait(s, WAIT_SPF);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_spf_enc(&b, &q);
	proto_send(W.policy, PROTO_SPF, id, &b);
}

void
smtp_auth_spf_reply(uint64_t id, const struct proto_spf_reply *r)
{
	struct session *s = smtp_session_answer(id, WAIT_SPF);
	if (s == NULL)
		return;
	spf_done(s, r);
	smtp_session_process(s);
	smtp_session_update(s);
}

/* The SPF answer is in: refuse the sender or accept it. */
static void
spf_done(struct session *s, const struct proto_spf_reply *r)
{
	s->st = S_CMD;
	s->t.spf = (int)r->result;
	str_copy(s->t.spf_domain, sizeof s->t.spf_domain, r->domain);
	char from[SMTP_PATH_MAX * 4];
	smtp_log_path(&s->t.sender, from, sizeof from);
	char fields[SMTP_PATH_MAX * 4 + 1200];
	snprintf(fields, sizeof fields, "from=<%s> spf=%s spf_domain=%s%s%s%s%s%s", from,
	    spf_result_name(r->result), r->domain[0] ? r->domain : "-",
	    r->mechanism[0] ? " spf_mechanism=\"" : "", r->mechanism,
	    r->mechanism[0] ? "\"" : "", r->problem[0] ? " spf_problem=\"" : "",
	    r->problem[0] ? r->problem : "");
	if (r->problem[0])
		strcat(fields, "\"");
	struct verdict v = { .kind = V_NEXT };
	if (s->t.from_ok) {
		/* the access map accepts this sender whatever SPF says */
	} else if (W.conf->spf_fail_reject && r->result == SPF_FAIL) {
		/* RFC 7208 8.4: the explanation goes into the reply */
		verdict_set(&v, 550, "5.7.23", "SPF fail", "SPF: %s is not allowed to send mail "
		    "from %s%s%s", s->ip, r->domain, r->explanation[0] ? ": " : "",
		    r->explanation);
	} else if (W.conf->spf_fail_reject && r->result == SPF_TEMPERROR) {
		verdict_set(&v, 451, "4.4.3", "SPF temperror", "SPF: temporary DNS error "
		    "checking %s, try again later", r->domain[0] ? r->domain : "the sender");
	}
	if (v.kind != V_NEXT) {
		smtp_refuse(s, &v, fields, false);
		smtp_txn_reset(s);
	} else {
		log_info("smtp session=%s event=mail queue=none %s%s%s", s->sid, fields,
		    s->t.smtputf8 ? " smtputf8=yes" : "",
		    s->t.body == SMTP_BODY_8BITMIME ? " body=8bitmime" : "");
		smtp_reply(s, "250 2.1.0 Ok");
		smtp_def_mail(s);
	}
}

/* --- the content --------------------------------------------------------- */

void
smtp_auth_txn_free(struct session *s)
{
	struct auth_txn *a = s->t.auth;
	if (a == NULL)
		return;
	dkim_verify_free(&a->dkim);
	mhdrs_free(&a->hdrs);
	lookup_set_free(&a->set);
	free(a);
	s->t.auth = NULL;
}

void
smtp_auth_begin(struct session *s, size_t received_len)
{
	smtp_auth_txn_free(s);
	struct auth_txn *a = xcalloc(1, sizeof *a);
	mhdrs_init(&a->hdrs, AUTH_HEADER_MAX);
	a->dkim = dkim_verify_new(time(NULL));
	a->set = lookup_set_new();
	a->received_len = received_len;
	s->t.auth = a;
}

/* Content bytes as they are stored (LF line ends, dots unstuffed). */
void
smtp_auth_feed(struct session *s, const uint8_t *p, size_t n)
{
	struct auth_txn *a = s->t.auth;
	if (a == NULL || n == 0)
		return;
	if (!a->hdrs.done) {
		size_t h = mhdrs_feed(&a->hdrs, p, n);
		p += h;
		n -= h;
		if (!a->hdrs.done)
			return;
		dkim_verify_header(a->dkim, &a->hdrs);
	}
	dkim_verify_body(a->dkim, p, n);
}

/* A question that cannot be asked (no policy process, too many) is
 * answered here: a temporary failure. */
static void
answer_tempfail(struct auth_txn *a, const char *name, const char *why)
{
	struct lookup *l = xmalloc(sizeof *l);
	lookup_init(l, LOOKUP_TXT, name);
	l->status = LOOKUP_TEMPFAIL;
	l->why = why;
	lookup_set_put(a->set, l);
	free(l);
}

/* Queue the TXT question name unless it is answered or queued already. */
static void
add_q(struct auth_txn *a, const char *name)
{
	if (lookup_set_find(a->set, LOOKUP_TXT, name) != NULL)
		return;
	for (size_t i = 0; i < a->n_q; i++)
		if (strcmp(a->qname[i], name) == 0)
			return;
	if (a->n_q == AUTH_Q_MAX || a->lookups_failed || W.policy == NULL) {
		answer_tempfail(a, name, a->n_q == AUTH_Q_MAX ? "too many lookups" :
		    "policy process unavailable");
		return;
	}
	str_copy(a->qname[a->n_q++], sizeof a->qname[0], name);
}

/* Queue what DMARC discovery needs next for the From domains. */
static void
plan_dmarc(struct auth_txn *a)
{
	char need[MSGCHECK_FROM_MAX][LOOKUP_NAME_MAX + 1];
	size_t n = msgcheck_dmarc_needs(a->set, &a->from, need, MSGCHECK_FROM_MAX);
	for (size_t i = 0; i < n; i++)
		add_q(a, need[i]);
}

static void auth_finish(struct session *s);

/* Ask the policy process the questions queued since a->base. */
static void
ask(struct session *s)
{
	struct auth_txn *a = s->t.auth;
	struct proto_lookup q;
	memset(&q, 0, sizeof q);
	for (size_t i = a->base; i < a->n_q; i++) {
		q.type[q.n] = LOOKUP_TXT;
		str_copy(q.name[q.n], sizeof q.name[0], a->qname[i]);
		q.n++;
	}
	a->pending = q.n;
	uint64_t id = smtp_session_wait(s, WAIT_LOOKUP);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_lookup_enc(&b, &q);
	proto_send(W.policy, PROTO_LOOKUP, id, &b);
}

void
smtp_auth_end(struct session *s)
{
	if (s->t.auth == NULL)
		smtp_auth_begin(s, 0);
	struct auth_txn *a = s->t.auth;
	if (!a->hdrs.done) {
		mhdrs_end(&a->hdrs);
		dkim_verify_header(a->dkim, &a->hdrs);
	}
	dkim_verify_finish(a->dkim);
	for (size_t i = 0; i < dkim_verify_count(a->dkim) && i < MSGCHECK_SIGS_MAX; i++) {
		const char *k = dkim_verify_key_name(a->dkim, i);
		if (k != NULL)
			add_q(a, k);
	}
	msgcheck_from(&a->hdrs, &a->from);
	plan_dmarc(a);
	if (a->n_q == a->base) {
		auth_finish(s);
		return;
	}
	ask(s);
}

void
smtp_auth_lookup_reply(uint64_t id, uint32_t idx, const struct lookup *l)
{
	struct session **sp = htab_get(&W.reqs, &id);
	if (sp == NULL || (*sp)->st != S_WAIT || (*sp)->wait != WAIT_LOOKUP)
		return;
	struct session *s = *sp;
	struct auth_txn *a = s->t.auth;
	size_t i = a->base + idx;
	if (i >= a->n_q || strcmp(l->name, a->qname[i]) != 0 || a->pending == 0 ||
	    l->type != LOOKUP_TXT || lookup_set_find(a->set, LOOKUP_TXT, l->name) != NULL)
		return;
	lookup_set_put(a->set, l);
	if (--a->pending > 0)
		return;
	smtp_session_answer(id, WAIT_LOOKUP);
	smtp_auth_lookups_done(s);
}

void
smtp_auth_lookups_done(struct session *s)
{
	auth_finish(s);
	smtp_session_process(s);
	smtp_session_update(s);
}

/* Every answer is in: DKIM, DMARC, the verdict, the header, the commit. */
static void
auth_finish(struct session *s)
{
	struct auth_txn *a = s->t.auth;
	s->st = S_CMD;
	/* discovery may go on at the organisational domain (RFC 7489 6.6.3) */
	a->base = a->n_q;
	plan_dmarc(a);
	if (a->n_q > a->base) {
		ask(s);
		return;
	}
	size_t nsig = dkim_verify_count(a->dkim);
	if (nsig > MSGCHECK_SIGS_MAX)
		nsig = MSGCHECK_SIGS_MAX;
	for (size_t i = 0; i < nsig; i++) {
		const char *k = dkim_verify_key_name(a->dkim, i);
		const struct lookup *l = k ? lookup_set_find(a->set, LOOKUP_TXT, k) : NULL;
		if (k != NULL && l == NULL) {
			answer_tempfail(a, k, "not asked");
			l = lookup_set_find(a->set, LOOKUP_TXT, k);
		}
		if (l != NULL)
			dkim_verify_key(a->dkim, i, l);
	}

	char spf_dom[SMTP_DOMAIN_MAX + 1];
	str_copy(spf_dom, sizeof spf_dom, s->t.sender.is_null ? s->helo : s->t.sender.domain);
	uint8_t rnd = 0;
	RAND_bytes(&rnd, 1);
	struct msgcheck_dmarc dm;
	msgcheck_dmarc(a->set, &a->from, spf_dom, (enum spf_result)s->t.spf, a->dkim, rnd, &dm);

	char mailfrom[SMTP_PATH_MAX * 2];
	smtp_path_str(&s->t.sender, mailfrom, sizeof mailfrom);
	struct msgcheck_session ss = {
		.iprev = s->rdns == RDNS_PASS ? "pass" : s->rdns == RDNS_FAIL ? "fail" : "temperror",
		.ip = s->ip, .spf = (enum spf_result)s->t.spf, .spf_checked = true,
		.mailfrom = s->t.sender.is_null ? NULL : mailfrom, .helo = s->helo,
	};
	struct buf ar;
	buf_init(&ar, SPOOL_HEADER_MAX);
	msgcheck_authres(&ar, W.conf->authserv_id, &ss, a->dkim, &a->from, &dm);

	/* forged results that claim our authserv-id are left out (RFC 8601 5) */
	s->t.n_skips = 0;
	for (size_t i = 0; i < a->hdrs.n && s->t.n_skips < SPOOL_SKIPS_MAX; i++) {
		if (!mhdrs_is(&a->hdrs, i, "Authentication-Results"))
			continue;
		size_t len;
		char *v = mhdrs_value(&a->hdrs, i, &len);
		if (authres_is_ours(v, len, W.conf->authserv_id)) {
			s->t.skips[s->t.n_skips].off = a->received_len + a->hdrs.f[i].off;
			s->t.skips[s->t.n_skips].len = a->hdrs.f[i].len;
			s->t.n_skips++;
		}
		free(v);
	}

	/* the log line: every result */
	char dkl[600] = "";
	size_t o = 0;
	for (size_t i = 0; i < nsig && o < sizeof dkl - 1; i++) {
		const struct dkim_result *r = dkim_verify_result(a->dkim, i);
		char d[300];
		log_escape(d, sizeof d, r->domain, strlen(r->domain));
		o += (size_t)snprintf(dkl + o, sizeof dkl - o, "%s%s(%s)", i ? "," : "",
		    dkim_res_name(r->res), d);
	}
	char fromdom[300];
	log_escape(fromdom, sizeof fromdom, dm.from, strlen(dm.from));
	log_info("smtp session=%s event=auth queue=%s iprev=%s spf=%s dkim=%s dmarc=%s "
	    "header_from=%s policy=%s disposition=%s", s->sid, smtp_qid(s), ss.iprev,
	    spf_result_name((enum spf_result)s->t.spf), nsig ? dkl : "none",
	    dm.have ? dmarc_res_name(dm.o.res) : a->from.problem ? "permerror" : "none",
	    fromdom[0] ? fromdom : "-", dmarc_policy_name(dm.published),
	    dm.have ? dmarc_policy_name(dm.o.disposition) : "-");

	struct verdict v = { .kind = V_NEXT };
	s->t.folder[0] = '\0';
	if (dm.have && dm.o.res == DMARC_R_FAIL && dm.o.disposition == DMARC_P_REJECT) {
		verdict_set(&v, 550, "5.7.1", "DMARC reject", "DMARC: policy of %s is reject "
		    "and the message is not authenticated (%s)", fromdom, dm.o.why);
	} else if (dm.have && dm.o.res == DMARC_R_TEMPERROR && dm.published == DMARC_P_REJECT) {
		verdict_set(&v, 451, "4.7.5", "DMARC temperror", "DMARC: temporary error "
		    "checking %s, try again later", fromdom);
	} else if (dm.have && dm.o.res == DMARC_R_FAIL &&
	    dm.o.disposition == DMARC_P_QUARANTINE) {
		str_copy(s->t.folder, sizeof s->t.folder, "Junk");
	}
	smtp_auth_txn_free(s);
	smtp_content_commit(s, &v, &ar);
	buf_free(&ar);
}

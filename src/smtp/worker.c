/*
 * smtp/worker.c - the smtp worker process: listeners, accepting, the
 * channels to the parent, the queue and the policy process, and the
 * table of sessions and of the requests they wait on.
 *
 * Input:   connections on the listening sockets the parent handed us;
 *          messages from our peers (decoded by src/proto; one that does not
 *          decode closes that channel, it never stops the worker).
 * Output:  sessions (session.c); requests to the queue and policy, each
 *          under its own request id, answered by id.
 * Trusts:  its peers only as far as the decoders check.
 * Runs in: smtp worker, unprivileged, chrooted, one event loop for all
 *          sessions.
 */
#include "smtp/server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/util.h"
#include "mail/conf.h"
#include "proto/parent.h"
#include "proto/smtp_policy.h"
#include "proto/smtp_queue.h"
#include "smtp/session.h"

struct smtp_worker W;

static void smtp_queue_attach(int fd);
static void smtp_policy_attach(int fd);

/* --- sessions and their requests ------------------------------------------- */

uint64_t
smtp_session_wait(struct session *s, enum swait what)
{
	if (s->req != 0)
		htab_del(&W.reqs, &s->req);
	s->req = ++W.next_req;
	*(struct session **)htab_put(&W.reqs, &s->req) = s;
	s->st = S_WAIT;
	s->wait = what;
	timer_cancel(W.loop, &s->timer);	/* re-armed for the wait */
	return s->req;
}

struct session *
smtp_session_answer(uint64_t id, enum swait what)
{
	struct session **sp = htab_get(&W.reqs, &id);
	if (sp == NULL || (*sp)->st != S_WAIT || (*sp)->wait != what)
		return NULL;	/* gone, or no longer waiting for this */
	struct session *s = *sp;
	htab_del(&W.reqs, &id);
	s->req = 0;
	s->wait = WAIT_NONE;
	return s;
}

void
smtp_session_free(struct session *s)
{
	log_info("smtp session=%s event=disconnect client=[%s] commands=%u messages=%u "
	    "recipients=%u errors=%u%s%s", s->sid, s->ip, s->n_cmds, s->n_msgs,
	    s->n_rcpts_total, s->n_errors, s->io.error ? " error=" : "",
	    s->io.error ? s->io.errstr : "");
	smtp_txn_reset(s);
	smtp_auth_forget(s);
	smtp_def_forget(s);
	if (s->req != 0)
		htab_del(&W.reqs, &s->req);
	timer_cancel(W.loop, &s->timer);
	loop_del(W.loop, s->io.fd);
	io_close(&s->io);
	if (s->admitted && W.policy != NULL)
		proto_admit_end_send(W.policy, s->admit_id);
	if (s->prev)
		s->prev->next = s->next;
	else
		W.sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	W.n_sessions--;
	free(s);
	if (W.draining && W.n_sessions == 0)
		loop_stop(W.loop);
}

static void
accept_cb(struct loop *l, int lfd, unsigned ev, void *arg)
{
	const struct conf_listen *lis = arg;
	for (int i = 0; i < 32; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* out of descriptors: stop accepting for a moment
				 * instead of spinning on a readable listener */
				log_warn("smtp event=accept error=\"%s\" action=pause", strerror(errno));
				for (size_t k = 0; k < W.n_lfds; k++)
					loop_mod(W.loop, W.lfds[k], 0);
				timer_set(W.loop, &W.accept_pause, 500);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_warn("smtp event=accept error=\"%s\"", strerror(errno));
			}
			return;
		}
		if (!smtp_acl(lis, fd, &ss, sl))
			continue;
		struct session *s = xcalloc(1, sizeof *s);
		if (getrandom(&s->id, sizeof s->id, 0) != sizeof s->id)
			s->id = now_ms() ^ ((uint64_t)fd << 40);
		snprintf(s->sid, sizeof s->sid, "%016llx", (unsigned long long)s->id);
		s->lis = lis;
		s->peer = ss;
		s->peerlen = sl;
		s->t.spool_fd = -1;
		s->rdns = RDNS_UNKNOWN;
		s->deadline = now_ms() + (uint64_t)W.conf->session_time * 1000;
		sockaddr_ip(&ss, sl, s->ip);
		io_init(&s->io, fd, IN_MAX, OUT_MAX);
		timer_init(&s->timer, smtp_session_timeout, s);
		s->admit_id = smtp_session_wait(s, WAIT_ADMIT);
		s->next = W.sessions;
		if (W.sessions)
			W.sessions->prev = s;
		W.sessions = s;
		W.n_sessions++;
		loop_add(W.loop, fd, 0, smtp_session_event, s);
		log_info("smtp session=%s event=connect client=[%s] listener=%s", s->sid, s->ip, lis->text);
		/* without a policy process (it is restarting) the session waits
		 * and is asked for when the new one is connected */
		if (W.policy != NULL)
			proto_admit_send(W.policy, PROTO_ADMIT, s->admit_id, &s->peer, s->peerlen);
	}
}

static void
accept_resume(struct loop *l, void *arg)
{
	if (W.draining)
		return;
	for (size_t k = 0; k < W.n_lfds; k++)
		loop_mod(W.loop, W.lfds[k], LOOP_READ);
}

static void
stop_sessions_now(struct loop *l, void *arg)
{
	/* grace period over: end idle sessions with 421 and those waiting
	 * on the queue right after their reply */
	for (struct session *s = W.sessions, *next; s; s = next) {
		next = s->next;
		s->stop_after_reply = true;
		if (s->st == S_DATA || s->st == S_BDAT || s->st == S_HANDSHAKE ||
		    (s->st == S_WAIT && s->wait == WAIT_ADMIT)) {
			if (s->st == S_DATA || s->st == S_BDAT)
				smtp_reply(s, "421 4.3.2 %s Service shutting down", W.conf->hostname);
			s->st = S_CLOSING;
		}
		smtp_session_update(s);
	}
}

static const char *
parent_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	switch (m->type) {
	case PROTO_STOP: {
		struct proto_stop st;
		if (proto_stop_dec(m, &st) < 0)
			return "bad STOP";
		if (W.draining)
			break;
		W.draining = true;
		for (size_t i = 0; i < W.n_lfds; i++) {
			loop_del(W.loop, W.lfds[i]);
			close(W.lfds[i]);
		}
		log_info("smtp event=drain sessions=%zu grace=%u", W.n_sessions, st.grace);
		if (W.n_sessions == 0)
			loop_stop(W.loop);
		else
			timer_set(W.loop, &W.grace, (uint64_t)st.grace * 1000);
		break;
	}
	case PROTO_PEER: {
		struct proto_peer pe;
		if (proto_peer_dec(m, &pe) < 0)
			return "bad PEER";
		if (pe.role == ROLE_QUEUE) {
			W.queue_id = pe.id;
			smtp_queue_attach(m->fd);
		} else if (pe.role == ROLE_POLICY) {
			W.policy_id = pe.id;
			smtp_policy_attach(m->fd);
		} else
			return "PEER of a role smtp does not talk to";
		m->fd = -1;
		break;
	}
	default:
		return "unexpected message";
	}
	return NULL;
}

static void
parent_close(struct ipc *c, void *arg)
{
	/* the parent died: nobody supervises us; stop like on SIGTERM */
	ipc_free(&W.parent);
	log_warn("smtp event=parent-gone");
	exit(1);
}

/* The session whose SPILL this answers (session id, and the qid when
 * the answer names one), or NULL.  Spills are rare: a linear search. */
static struct session *
spill_waiter(uint64_t id, const char *qid)
{
	for (struct session *s = W.sessions; s; s = s->next)
		if (s->id == id && s->t.spill_pending && (qid[0] == '\0' || strcmp(s->t.qid, qid) == 0))
			return s;
	return NULL;
}

/* The queue's answers.  A reply for a session that is gone (or no longer
 * waiting) is handled so that nothing leaks: a spool file handed to a dead
 * session is given back with ABORT. */
static const char *
queue_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct session *s;
	switch (m->type) {
	case PROTO_OPEN_OK: {
		struct proto_qid q;
		if (proto_qid_dec(m, &q) < 0)
			return "bad OPEN_OK";
		s = smtp_session_answer(m->id, WAIT_OPEN);
		if (s == NULL) {
			/* the session is gone: hand the file back */
			proto_abort_send(W.queue, m->id, q.qid);
			break;
		}
		snprintf(s->t.qid, sizeof s->t.qid, "%s", q.qid);
		s->t.spool_fd = m->fd;
		m->fd = -1;
		/* in memory (sealed), or a file on disk: see proto/smtp_queue.h */
		s->t.spool_mem = fcntl(s->t.spool_fd, F_GET_SEALS) >= 0;
		smtp_content_begin(s);
		if (s->t.want_bdat_chunk) {
			smtp_bdat_init(&s->t.data);
			s->st = S_BDAT;
		} else {
			smtp_data_init(&s->t.data);
			smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
			s->st = S_DATA;
		}
		smtp_session_process(s);
		smtp_session_update(s);
		break;
	}
	case PROTO_OPEN_FAIL: {
		struct proto_errno pe;
		if (proto_errno_dec(m, &pe) < 0)
			return "bad OPEN_FAIL";
		s = smtp_session_answer(m->id, WAIT_OPEN);
		if (s == NULL)
			break;
		int e = (int)pe.err;
		const char *err = (e == ENOSPC || e == EDQUOT) ?
		    "452 4.3.1 Insufficient system storage" :
		    "451 4.3.0 Error: local error in processing";
		log_warn("smtp session=%s event=reject result=\"%.9s\" reason=\"spool: %s\"",
		    s->sid, err, strerror(e));
		if (s->t.want_bdat_chunk) {
			/* the chunk bytes still follow: read them, then refuse */
			s->t.bdat_failed = true;
			s->t.bdat_err = err;
			s->st = S_BDAT;
		} else {
			smtp_reply(s, "%s", err);
			s->st = S_CMD;
			smtp_txn_reset(s);
		}
		smtp_session_process(s);
		smtp_session_update(s);
		break;
	}
	case PROTO_SPILL_OK:
	case PROTO_SPILL_FAIL: {
		struct proto_qid q = { .qid = "" };
		struct proto_errno pe = { 0 };
		if (m->type == PROTO_SPILL_OK ? proto_qid_dec(m, &q) < 0 : proto_errno_dec(m, &pe) < 0)
			return "bad SPILL reply";
		s = spill_waiter(m->id, q.qid);
		if (s == NULL)
			break;	/* the message is gone (ABORT went): the file closes */
		smtp_spool_spilled(s, m->fd, (int)pe.err);
		m->fd = -1;
		break;
	}
	case PROTO_COMMIT_OK:
	case PROTO_COMMIT_FAIL: {
		struct proto_errno pe = { 0 };
		if (m->type == PROTO_COMMIT_FAIL ? proto_errno_dec(m, &pe) < 0 :
		    proto_empty_dec(m) < 0)
			return "bad COMMIT reply";
		s = smtp_session_answer(m->id, WAIT_COMMIT);
		if (s == NULL)
			break;
		int e = (int)pe.err;
		if (e == 0) {
			char sender[SMTP_PATH_MAX * 4];
			smtp_log_path(&s->t.sender, sender, sizeof sender);
			log_info("smtp session=%s event=accepted queue=%s from=<%s> nrcpt=%zu size=%llu",
			    s->sid, s->t.qid, sender, s->t.n_rcpts, (unsigned long long)s->t.spool_len);
			smtp_reply(s, "250 2.0.0 Ok: queued as %s", s->t.qid);
			s->n_msgs++;
			s->t.qid[0] = '\0';	/* committed: nothing to abort */
		} else if (e == ENOSPC || e == EDQUOT) {
			smtp_reply(s, "452 4.3.1 Insufficient system storage");
			s->t.qid[0] = '\0';
		} else {
			smtp_reply(s, "451 4.3.0 Error: local error in processing");
			s->t.qid[0] = '\0';
		}
		smtp_txn_reset(s);
		s->st = S_CMD;
		smtp_session_process(s);
		smtp_session_update(s);
		break;
	}
	default:
		return "unexpected message";
	}
	return NULL;
}

static void
queue_close(struct ipc *c, void *arg)
{
	/* The queue crashed.  Sessions waiting on it get 451 (their message
	 * may or may not be on disk; a retry at worst duplicates it, it never
	 * loses it).  The parent will send a channel to the new queue. */
	proto_peer_closed(W.parent, c, "smtp", ROLE_QUEUE, 0, W.queue_id);
	log_warn("smtp event=queue-gone");
	ipc_free(&W.queue);
	W.queue = NULL;
	for (struct session *s = W.sessions, *next; s; s = next) {
		next = s->next;
		bool spilling = s->t.spill_pending;
		s->t.spill_pending = false;
		s->t.qid[0] = '\0';	/* nobody to abort with */
		if (s->t.spool_fd >= 0) {
			close(s->t.spool_fd);
			s->t.spool_fd = -1;
		}
		if (s->st == S_WAIT && (s->wait == WAIT_OPEN || s->wait == WAIT_COMMIT)) {
			bool bdat = s->wait == WAIT_OPEN && s->t.want_bdat_chunk;
			smtp_session_answer(s->req, s->wait);
			if (bdat) {
				s->t.bdat_failed = true;
				s->t.bdat_err = "451 4.3.0 Error: queue unavailable, try again later";
				s->st = S_BDAT;
			} else {
				smtp_queue_gone(s);
				smtp_txn_reset(s);
				s->st = S_CMD;
			}
			smtp_session_process(s);
			smtp_session_update(s);
		} else if (s->st == S_DATA || s->st == S_BDAT ||
		    (s->st == S_WAIT && s->wait == WAIT_LOOKUP)) {
			s->t.werr = EIO;	/* fails at the end of the data */
			if (spilling) {
				/* its data waited for the queue: read on */
				smtp_session_process(s);
				smtp_session_update(s);
			}
		}
	}
}

static void
smtp_queue_attach(int fd)
{
	ipc_free(&W.queue);
	W.queue = ipc_new(W.loop, fd, queue_msg, queue_close, NULL);
}

static const char *
policy_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct proto_admit_reply r;
	switch (m->type) {
	case PROTO_ADMIT_REPLY:
		break;
	case PROTO_SPF_REPLY: {
		struct proto_spf_reply sr;
		if (proto_spf_reply_dec(m, &sr) < 0)
			return "bad SPF_REPLY";
		smtp_auth_spf_reply(m->id, &sr);
		return NULL;
	}
	case PROTO_RDNS_REPLY: {
		struct proto_rdns_reply rr;
		if (proto_rdns_reply_dec(m, &rr) < 0)
			return "bad RDNS_REPLY";
		smtp_auth_rdns_reply(m->id, &rr);
		return NULL;
	}
	case PROTO_ACCESS_REPLY: {
		struct proto_access_reply ar;
		if (proto_access_reply_dec(m, &ar) < 0)
			return "bad ACCESS_REPLY";
		smtp_access_reply(m->id, &ar);
		return NULL;
	}
	case PROTO_DNSBL_REPLY: {
		struct proto_dnsbl_reply dr;
		if (proto_dnsbl_reply_dec(m, &dr) < 0)
			return "bad DNSBL_REPLY";
		smtp_def_dnsbl_reply(m->id, &dr);
		return NULL;
	}
	case PROTO_GREY_REPLY: {
		struct proto_grey_reply gr;
		if (proto_grey_reply_dec(m, &gr) < 0)
			return "bad GREY_REPLY";
		smtp_def_grey_reply(m->id, &gr);
		return NULL;
	}
	case PROTO_LOOKUP_REPLY: {
		struct lookup *l = xmalloc(sizeof *l);
		uint32_t idx;
		if (proto_lookup_reply_dec(m, &idx, l) < 0) {
			free(l);
			return "bad LOOKUP_REPLY";
		}
		smtp_auth_lookup_reply(m->id, idx, l);
		lookup_clear(l);
		free(l);
		return NULL;
	}
	default:
		return "unexpected message";
	}
	if (proto_admit_reply_dec(m, &r) < 0)
		return "bad ADMIT_REPLY";
	struct session *s = smtp_session_answer(m->id, WAIT_ADMIT);
	if (s != NULL) {
		smtp_admitted(s, r.verdict);
		smtp_session_process(s);
		smtp_session_update(s);
	} else if (r.verdict == ADMIT_OK) {
		/* the session died while we asked: give the slot back */
		proto_admit_end_send(W.policy, m->id);
	}
	return NULL;
}

static void
policy_close(struct ipc *c, void *arg)
{
	/* admitted sessions go on; new ones wait for the next policy
	 * process, which the parent connects us to */
	proto_peer_closed(W.parent, c, "smtp", ROLE_POLICY, 0, W.policy_id);
	log_warn("smtp event=policy-gone");
	ipc_free(&W.policy);
	smtp_auth_policy_gone();
	smtp_def_policy_gone();
}

static void
smtp_policy_attach(int fd)
{
	ipc_free(&W.policy);
	W.policy = ipc_new(W.loop, fd, policy_msg, policy_close, NULL);
	/* a new policy process knows nothing: tell it what runs, ask again
	 * what waits */
	for (struct session *s = W.sessions; s; s = s->next) {
		if (s->admitted)
			proto_admit_send(W.policy, PROTO_ADMIT_HOLD, s->admit_id, &s->peer, s->peerlen);
		else if (s->st == S_WAIT && s->wait == WAIT_ADMIT)
			proto_admit_send(W.policy, PROTO_ADMIT, s->admit_id, &s->peer, s->peerlen);
	}
}

void
smtp_worker_main(const struct smtp_worker_args *a)
{
	memset(&W, 0, sizeof W);
	W.conf = a->conf;
	W.users = a->users;
	W.aliases = a->aliases;
	W.tls = a->tls;
	W.slot = a->slot;
	htab_init(&W.reqs, sizeof(uint64_t), sizeof(struct session *));
	htab_init(&W.rdns_reqs, sizeof(uint64_t), sizeof(struct session *));
	W.loop = loop_new();
	if (W.loop == NULL)
		fatal("smtp: cannot create event loop");
	signal(SIGPIPE, SIG_IGN);
	W.parent = ipc_new(W.loop, a->parent_fd, parent_msg, parent_close, NULL);
	W.n_lfds = a->conf->n_listens;
	W.lfds = a->listen_fds;
	for (size_t i = 0; i < W.n_lfds; i++)
		if (loop_add(W.loop, W.lfds[i], LOOP_READ, accept_cb,
		    (void *)&a->conf->listens[i]) < 0)
			fatal("smtp: cannot watch listener %s", a->conf->listens[i].text);
	timer_init(&W.grace, stop_sessions_now, NULL);
	timer_init(&W.accept_pause, accept_resume, NULL);
	log_info("smtp event=start worker=%u", W.slot);
	loop_run(W.loop);
	log_info("smtp event=stop worker=%u", W.slot);
	exit(0);
}

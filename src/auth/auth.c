/*
 * auth/auth.c - the auth process: the only process that holds password
 * hashes.  It answers "is this the password of that user?" for the imap
 * process (and submission, later).
 *
 * Input:   AUTH_SETTINGS from the parent with the users file as an open
 *          descriptor (we run chrooted and cannot open it; the parent
 *          parses only the names and forgets the hashes); AUTH_CHECK from
 *          peers (untrusted: a peer may be taken over and try passwords
 *          in a loop).
 * Output:  AUTH_RESULT.  A wrong password is answered after a delay that
 *          grows per (client address, user) (auth/pw.h): the delay is
 *          ours, so a peer cannot skip it.  An unknown user costs the same
 *          hash computation as a known one (pw_verify_dummy) and gets the
 *          same answer, so neither time nor reply tells who exists.
 * Logs:    the user and address of every decision, never a password.
 * Runs in: auth, user _talonauth, chrooted into the empty directory.
 */
#include "auth/auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/pw.h"
#include "core/buf.h"
#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "mail/users.h"
#include "proto/imap_auth.h"
#include "proto/imap_mailbox.h"
#include "proto/parent.h"

#define USERS_MAX_BYTES	(256u << 20)
#define PENDING_MAX	256	/* delayed answers one peer may have waiting */
/* Failures one peer may have answered at their own (address, user) delay
 * per second; past it every failure waits the longest delay.  The address
 * comes from the peer, so a peer taken over could make up a new address
 * for every guess: this bounds what it gets out of us in all. */
#define PEER_FAILS_PER_S	20

struct peer;

/* A failure answer waiting for its delay. */
struct pending {
	struct pending *next;
	struct peer *p;
	uint64_t id;
	struct timer timer;
};

struct peer {
	struct peer *next;
	struct ipc *ipc;
	uint32_t role, slot, id;
	unsigned n_pending;
	time_t fail_second;	/* the second fail_count counts */
	unsigned fail_count;
};

static struct {
	struct loop *loop;
	struct ipc *parent;
	struct peer *peers;
	struct ipc *policy;	/* bans: failures earn points, logins spare */
	uint32_t policy_id;
	struct pending *pending;
	struct users users;
	bool have_users;
	struct pw_delay *delay;
} A;

/* A login that worked: the mailbox processes learn the token with the
 * user, the front only the token, so the front cannot pick the mailbox it
 * opens (proto/imap_mailbox.h). */
static void
grant(const char *user, uint8_t *token)
{
	if (getrandom(token, PROTO_TOKEN_LEN, 0) != PROTO_TOKEN_LEN)
		fatal("auth: getrandom: %s", strerror(errno));
	struct proto_login_grant g;
	memset(&g, 0, sizeof g);
	memcpy(g.token, token, PROTO_TOKEN_LEN);
	str_copy(g.user, sizeof g.user, user);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_login_grant_enc(&b, &g);
	for (struct peer *p = A.peers; p; p = p->next)
		if (p->role == ROLE_MAILBOX)
			ipc_send(p->ipc, PROTO_LOGIN_GRANT, 0, -1, b.data, b.len);
	buf_free(&b);
}

static void
result(struct peer *p, uint64_t id, bool ok, const char *user)
{
	struct proto_auth_result r;
	memset(&r, 0, sizeof r);
	r.ok = ok;
	if (ok) {
		str_copy(r.user, sizeof r.user, user);
		grant(user, r.token);
	}
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_auth_result_enc(&b, &r);
	ipc_send_buf(p->ipc, PROTO_AUTH_RESULT, id, -1, &b);
	buf_free(&b);
	OPENSSL_cleanse(&r, sizeof r);
}

/* Tell the policy process (ban points, or an address that logged in). */
static void
event(const char *client, bool ok)
{
	if (A.policy == NULL)
		return;
	struct proto_auth_event e;
	memset(&e, 0, sizeof e);
	e.ok = ok;
	str_copy(e.client, sizeof e.client, client);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_auth_event_enc(&b, &e);
	ipc_send_buf(A.policy, PROTO_AUTH_EVENT, 0, -1, &b);
	buf_free(&b);
}

static void
pending_free(struct pending *q)
{
	struct pending **pp = &A.pending;
	while (*pp && *pp != q)
		pp = &(*pp)->next;
	if (*pp)
		*pp = q->next;
	timer_cancel(A.loop, &q->timer);
	q->p->n_pending--;
	free(q);
}

static void
pending_fire(struct loop *l, void *arg)
{
	struct pending *q = arg;
	result(q->p, q->id, false, NULL);
	pending_free(q);
}

static void
check(struct peer *p, uint64_t id, struct proto_auth_check *q)
{
	time_t now = time(NULL);
	char user[sizeof q->user * 4], client[sizeof q->client * 4];
	log_escape(user, sizeof user, q->user, strlen(q->user));
	log_escape(client, sizeof client, q->client, strlen(q->client));
	if (p->n_pending >= PENDING_MAX) {
		/* a peer trying passwords as fast as it can gets nothing checked */
		log_warn("auth event=check user=\"%s\" client=[%s] result=refused reason=\"too many "
		    "failures waiting\"", user, client);
		result(p, id, false, NULL);
		return;
	}
	const struct user_ent *u = A.have_users ? users_find(&A.users, q->user) : NULL;
	bool ok;
	if (u == NULL || u->hash == NULL || u->hash[0] == '\0') {
		pw_verify_dummy(q->pass);
		ok = false;
	} else {
		ok = pw_verify(u->hash, q->pass);
	}
	OPENSSL_cleanse(q->pass, sizeof q->pass);
	if (ok) {
		pw_delay_ok(A.delay, q->client, u->name);
		log_info("auth event=check user=%s client=[%s] result=ok", u->name, client);
		result(p, id, true, u->name);
		event(q->client, true);
		return;
	}
	unsigned ms = pw_delay_ms(A.delay, q->client, q->user, now);
	pw_delay_fail(A.delay, q->client, q->user, now);
	if (p->fail_second != now) {
		p->fail_second = now;
		p->fail_count = 0;
	}
	if (++p->fail_count > PEER_FAILS_PER_S)
		ms = PW_DELAY_CAP_MS;
	log_info("auth event=check user=\"%s\" client=[%s] result=fail delay_ms=%u", user, client,
	    ms);
	event(q->client, false);
	if (ms == 0) {
		result(p, id, false, NULL);
		return;
	}
	struct pending *w = xcalloc(1, sizeof *w);
	w->p = p;
	w->id = id;
	timer_init(&w->timer, pending_fire, w);
	timer_set(A.loop, &w->timer, ms);
	w->next = A.pending;
	A.pending = w;
	p->n_pending++;
}

static const char *
peer_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct peer *p = arg;
	if (m->type != PROTO_AUTH_CHECK || p->role != ROLE_IMAP)
		return "unexpected message";
	struct proto_auth_check *q = xmalloc(sizeof *q);
	int r = proto_auth_check_dec(m, q);
	if (r == 0)
		check(p, m->id, q);
	OPENSSL_cleanse(q, sizeof *q);
	free(q);
	/* the payload held a password too */
	OPENSSL_cleanse((void *)m->data, m->len);
	return r == 0 ? NULL : "bad AUTH_CHECK";
}

static void
peer_close(struct ipc *c, void *arg)
{
	struct peer *p = arg;
	proto_peer_closed(A.parent, c, "auth", p->role, p->slot, p->id);
	for (struct pending *q = A.pending, *next; q; q = next) {
		next = q->next;
		if (q->p == p)
			pending_free(q);
	}
	struct peer **pp = &A.peers;
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	ipc_free(&p->ipc);
	free(p);
}

/* The users file from its descriptor: the parent opened it for us. */
static void
load_users(int fd, uint32_t gen)
{
	struct buf b;
	buf_init(&b, USERS_MAX_BYTES);
	for (;;) {
		size_t room;
		uint8_t *w = buf_space(&b, 65536, &room);
		if (room == 0) {
			log_err("auth event=users error=\"larger than %u bytes\" action=keep-old",
			    USERS_MAX_BYTES);
			goto out;
		}
		ssize_t n = read(fd, w, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("auth event=users error=\"read: %s\" action=keep-old", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		buf_commit(&b, (size_t)n);
	}
	struct users nu;
	struct diag d;
	diag_init(&d);
	if (users_parse((const char *)b.data, b.len, "users", &nu, &d) < 0)
		log_warn("auth event=users problems=\"%s\"", diag_text(&d));
	diag_free(&d);
	if (A.have_users)
		users_free(&A.users);
	A.users = nu;
	A.have_users = true;
	size_t logins = 0;
	for (size_t i = 0; i < nu.n; i++)
		logins += nu.v[i].hash != NULL && nu.v[i].hash[0] != '\0';
	log_info("auth event=users generation=%u accounts=%zu with_password=%zu", gen, nu.n,
	    logins);
out:
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.cap);
	buf_free(&b);
}

static const char *
policy_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	return "the policy process sends auth nothing";
}

static void
policy_close(struct ipc *c, void *arg)
{
	proto_peer_closed(A.parent, c, "auth", ROLE_POLICY, 0, A.policy_id);
	ipc_free(&A.policy);
}

static const char *
parent_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	switch (m->type) {
	case PROTO_AUTH_SETTINGS: {
		struct proto_auth_settings s;
		if (proto_auth_settings_dec(m, &s) < 0)
			return "bad AUTH_SETTINGS";
		load_users(m->fd, s.gen);
		break;
	}
	case PROTO_PEER: {
		struct proto_peer pe;
		if (proto_peer_dec(m, &pe) < 0 || (pe.role != ROLE_IMAP && pe.role != ROLE_POLICY &&
		    pe.role != ROLE_MAILBOX))
			return "bad PEER";
		if (pe.role == ROLE_POLICY) {
			ipc_free(&A.policy);
			A.policy_id = pe.id;
			A.policy = ipc_new(A.loop, m->fd, policy_msg, policy_close, NULL);
			m->fd = -1;
			break;
		}
		struct peer *p = xcalloc(1, sizeof *p);
		p->role = pe.role;
		p->slot = pe.slot;
		p->id = pe.id;
		p->ipc = ipc_new(A.loop, m->fd, peer_msg, peer_close, p);
		m->fd = -1;
		p->next = A.peers;
		A.peers = p;
		break;
	}
	case PROTO_STOP: {
		struct proto_stop st;
		if (proto_stop_dec(m, &st) < 0)
			return "bad STOP";
		loop_stop(A.loop);
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
	log_warn("auth event=parent-gone");
	exit(1);
}

void
auth_main(int parent_fd)
{
	memset(&A, 0, sizeof A);
	A.loop = loop_new();
	if (A.loop == NULL)
		fatal("auth: cannot create event loop");
	A.delay = pw_delay_new(PW_DELAY_MAX);
	/* the dummy hash is made on first use: pay for it now, not on the
	 * first unknown user (whose answer would then take twice as long) */
	pw_verify_dummy("");
	A.parent = ipc_new(A.loop, parent_fd, parent_msg, parent_close, NULL);
	log_info("auth event=start");
	loop_run(A.loop);
	log_info("auth event=stop");
	while (A.peers)
		peer_close(A.peers->ipc, A.peers);
	if (A.have_users)
		users_free(&A.users);
	pw_delay_free(&A.delay);
	ipc_free(&A.parent);
	loop_free(&A.loop);
	exit(0);
}

/*
 * auth/auth.c - the auth process: the only process that holds password
 * hashes.  It answers "is this the password of that user?" for the imap
 * process (and submission, later).
 *
 * Input:   AUTH_SETTINGS from the parent with the users file as an open
 *          descriptor (we run chrooted and cannot open it; the parent
 *          parses only the names and forgets the hashes); AUTH_CHECK and
 *          the AUTH_SCRAM_* messages from peers (untrusted: a peer may be
 *          taken over and try passwords in a loop).
 * Output:  AUTH_RESULT, AUTH_SCRAM_CHALLENGE, AUTH_STATE.  A wrong password
 *          is answered after a delay that grows per (client address, user)
 *          (auth/pw.h): the delay is ours, so a peer cannot skip it.  An
 *          unknown user costs the same hash computation as a known one
 *          (pw_verify_dummy) and gets the same answer, so neither time nor
 *          reply tells who exists.
 * SCRAM:   (auth/scram.h) an exchange lives here between its two client
 *          messages, keyed by the peer's channel and the request id, at
 *          most AUTH_SCRAM_MAX per peer (the oldest goes) and
 *          AUTH_SCRAM_TTL_S seconds.  A user without an account, without a
 *          password hash or without SCRAM keys gets fake keys: a salt made
 *          from the name with a secret drawn at start, the usual iteration
 *          count, the same work, and the failure only at the final step,
 *          delayed and reported to the policy process as for PLAIN.  The
 *          secret changes when this process restarts, and so do the fake
 *          salts: someone who watches a name's salt across a restart can
 *          tell a fake one (real salts change only with the password).
 * Logs:    the user and address of every decision, never a password, a
 *          proof, a key or a signature.
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
#include "auth/pwpool.h"
#include "auth/scram.h"
#include "core/b64.h"
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

/* A SCRAM exchange between its two client messages. */
struct xchg {
	struct xchg *next;	/* the peer's list, newest first */
	struct peer *p;
	uint64_t id;
	struct timer timer;	/* AUTH_SCRAM_TTL_S: then it is forgotten */
	char client[64];
	struct scram_server s;
};

struct peer {
	struct peer *next;
	struct ipc *ipc;
	uint32_t role, slot, id;
	unsigned n_pending;
	unsigned n_checking;	/* passwords on the pool's threads */
	time_t fail_second;	/* the second fail_count counts */
	unsigned fail_count;
	struct xchg *xchgs;
	unsigned n_xchgs;
};

/* A password check on the pool (auth/pwpool.h). */
struct check_job {
	struct pwjob j;		/* first: the pool hands back &j */
	struct check_job *next;	/* A.checking */
	struct peer *p;		/* NULL once the peer is gone */
	uint64_t id;
	char user[PROTO_AUTH_USER_MAX + 1];	/* as given */
	char name[PROTO_AUTH_USER_MAX + 1];	/* the account's, when it has one */
	char client[64];
};

static struct {
	struct loop *loop;
	struct pwpool *pool;	/* NULL: checks run in the loop */
	struct check_job *checking;
	struct ipc *parent;
	struct peer *peers;
	struct ipc *policy;	/* bans: failures earn points, logins spare */
	uint32_t policy_id;
	struct pending *pending;
	struct users users;
	bool have_users;
	struct pw_delay *delay;
	bool scram_any;		/* some account can log in with SCRAM */
	uint32_t scram_iter;	/* the count fake keys show */
	uint8_t secret[SCRAM_SECRET_LEN];	/* of fake salts */
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

/* AUTH_RESULT; final is the SCRAM server-final message or NULL. */
static void
result(struct peer *p, uint64_t id, bool ok, const char *user, const char *final)
{
	struct proto_auth_result r;
	memset(&r, 0, sizeof r);
	r.ok = ok;
	if (ok) {
		str_copy(r.user, sizeof r.user, user);
		if (final != NULL)
			str_copy(r.final, sizeof r.final, final);
		grant(user, r.token);
	}
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_auth_result_enc(&b, &r);
	ipc_send_buf(p->ipc, PROTO_AUTH_RESULT, id, -1, &b);
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.cap);	/* the server signature */
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
	result(q->p, q->id, false, NULL, NULL);
	pending_free(q);
}

/* A login that worked: forget the pair's failures, tell the policy
 * process, answer with the token (and the SCRAM server-final). */
static void
login_ok(struct peer *p, uint64_t id, const char *what, const char *name, const char *client,
    const char *final)
{
	char cl[64 * 4];
	log_escape(cl, sizeof cl, client, strlen(client));
	pw_delay_ok(A.delay, client, name);
	log_info("auth event=%s user=%s client=[%s] result=ok", what, name, cl);
	result(p, id, true, name, final);
	event(client, true);
}

/* A wrong password (or no such user): count it for the pair, tell the
 * policy process, and answer after the pair's delay. */
static void
login_failed(struct peer *p, uint64_t id, const char *what, const char *user,
    const char *client)
{
	time_t now = time(NULL);
	char us[(PROTO_AUTH_USER_MAX + 1) * 4], cl[64 * 4];
	log_escape(us, sizeof us, user, strlen(user));
	log_escape(cl, sizeof cl, client, strlen(client));
	unsigned ms = pw_delay_ms(A.delay, client, user, now);
	pw_delay_fail(A.delay, client, user, now);
	if (p->fail_second != now) {
		p->fail_second = now;
		p->fail_count = 0;
	}
	if (++p->fail_count > PEER_FAILS_PER_S)
		ms = PW_DELAY_CAP_MS;
	log_info("auth event=%s user=\"%s\" client=[%s] result=fail delay_ms=%u", what, us, cl,
	    ms);
	event(client, false);
	if (ms == 0) {
		result(p, id, false, NULL, NULL);
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

/* A peer trying passwords as fast as it can gets nothing checked. */
static bool
too_many_waiting(struct peer *p, uint64_t id, const char *what, const char *user,
    const char *client)
{
	char us[(PROTO_AUTH_USER_MAX + 1) * 4], cl[64 * 4];
	if (p->n_pending + p->n_checking < PENDING_MAX)
		return false;
	log_escape(us, sizeof us, user, strlen(user));
	log_escape(cl, sizeof cl, client, strlen(client));
	log_warn("auth event=%s user=\"%s\" client=[%s] result=refused reason=\"too many "
	    "failures waiting\"", what, us, cl);
	result(p, id, false, NULL, NULL);
	return true;
}

/* A check's answer, in the loop's thread. */
static void
checked(struct pwjob *pj)
{
	struct check_job *c = (struct check_job *)pj;
	struct check_job **pp = &A.checking;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	if (c->p != NULL) {
		c->p->n_checking--;
		if (c->j.ok)
			login_ok(c->p, c->id, "check", c->name, c->client, NULL);
		else
			login_failed(c->p, c->id, "check", c->user, c->client);
	}
	pwjob_wipe(&c->j);
	OPENSSL_cleanse(c, sizeof *c);
	free(c);
}

static void
check(struct peer *p, uint64_t id, struct proto_auth_check *q)
{
	if (too_many_waiting(p, id, "check", q->user, q->client))
		return;
	const struct user_ent *u = A.have_users ? users_find(&A.users, q->user) : NULL;
	struct check_job *c = xcalloc(1, sizeof *c);
	c->p = p;
	c->id = id;
	str_copy(c->user, sizeof c->user, q->user);
	str_copy(c->client, sizeof c->client, q->client);
	/* an unknown user, or one without a password, is checked against the
	 * dummy hash: the same time, the same answer */
	if (u != NULL && u->hash != NULL && u->hash[0] != '\0') {
		c->j.hash = xstrdup(u->hash);
		str_copy(c->name, sizeof c->name, u->name);
	}
	c->j.pass = xstrdup(q->pass);
	OPENSSL_cleanse(q->pass, sizeof q->pass);
	c->next = A.checking;
	A.checking = c;
	p->n_checking++;
	if (A.pool != NULL) {
		pwpool_submit(A.pool, &c->j);
		return;
	}
	if (c->j.hash != NULL) {
		c->j.ok = pw_verify(c->j.hash, c->j.pass);
	} else {
		pw_verify_dummy(c->j.pass);
		c->j.ok = false;
	}
	checked(&c->j);
}

/* --- SCRAM -------------------------------------------------------------------- */

/* The account behind name if it may log in with SCRAM, else NULL. */
static const struct user_ent *
scram_account(const char *name)
{
	const struct user_ent *u = A.have_users ? users_find(&A.users, name) : NULL;
	if (u == NULL || u->hash == NULL || u->hash[0] == '\0' || u->scram == NULL)
		return NULL;
	return u;
}

static void
xchg_free(struct xchg *x)
{
	struct xchg **pp = &x->p->xchgs;
	while (*pp && *pp != x)
		pp = &(*pp)->next;
	if (*pp)
		*pp = x->next;
	x->p->n_xchgs--;
	timer_cancel(A.loop, &x->timer);
	scram_server_wipe(&x->s);
	OPENSSL_cleanse(x, sizeof *x);
	free(x);
}

static struct xchg *
xchg_find(struct peer *p, uint64_t id)
{
	for (struct xchg *x = p->xchgs; x; x = x->next)
		if (x->id == id)
			return x;
	return NULL;
}

static void
xchg_expire(struct loop *l, void *arg)
{
	xchg_free(arg);
}

/* Room for one more exchange: the oldest (the list's tail) goes; its
 * final message will find nothing and fail. */
static void
xchg_make_room(struct peer *p)
{
	if (p->n_xchgs < AUTH_SCRAM_MAX || p->xchgs == NULL)
		return;
	struct xchg *x = p->xchgs;
	char cl[64 * 4];
	while (x->next)
		x = x->next;
	log_escape(cl, sizeof cl, x->client, strlen(x->client));
	log_warn("auth event=scram-evicted client=[%s] reason=\"%d exchanges open\"", cl,
	    AUTH_SCRAM_MAX);
	xchg_free(x);
}

static void
challenge(struct peer *p, uint64_t id, enum scram_rc rc, const char *sfirst)
{
	struct proto_scram_challenge c;
	memset(&c, 0, sizeof c);
	c.rc = rc;
	if (rc == SCRAM_OK)
		str_copy(c.sfirst, sizeof c.sfirst, sfirst);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_scram_challenge_enc(&b, &c);
	ipc_send_buf(p->ipc, PROTO_AUTH_SCRAM_CHALLENGE, id, -1, &b);
	buf_free(&b);
}

/* Our nonce: 24 bytes from the kernel, base64 (32 characters, none a
 * comma). */
static void
server_nonce(char out[SCRAM_SNONCE_MAX + 1])
{
	uint8_t r[24];
	if (getrandom(r, sizeof r, 0) != sizeof r)
		fatal("auth: getrandom: %s", strerror(errno));
	b64_encode(r, sizeof r, out, SCRAM_SNONCE_MAX + 1);
}

/* AUTH_SCRAM_FIRST: the client-first message judged (nothing about the
 * account can fail it), then the account's keys or fake ones. */
static const char *
scram_first(struct peer *p, uint64_t id, const struct proto_scram_first *q)
{
	char cl[64 * 4], snonce[SCRAM_SNONCE_MAX + 1];
	if (xchg_find(p, id) != NULL)
		return "SCRAM exchange id in use";
	struct xchg *x = xcalloc(1, sizeof *x);
	enum scram_rc rc = scram_server_start(&x->s, q->msg, q->len, q->plus != 0,
	    q->offered != 0, q->has_cb ? q->cb : NULL);
	if (rc != SCRAM_OK) {
		log_escape(cl, sizeof cl, q->client, strlen(q->client));
		log_info("auth event=scram client=[%s] result=refused reason=%s", cl,
		    scram_rc_name(rc));
		challenge(p, id, rc, NULL);
		OPENSSL_cleanse(x, sizeof *x);
		free(x);
		return NULL;
	}
	const struct user_ent *u = scram_account(x->s.f.user);
	struct user_scram fake;
	/* made for every name, so a real account answers no sooner */
	scram_fake_keys(A.secret, x->s.f.user, A.scram_iter, &fake);
	server_nonce(snonce);
	const char *sfirst = scram_server_challenge(&x->s, u ? u->scram : &fake, u != NULL, snonce);
	OPENSSL_cleanse(&fake, sizeof fake);
	if (sfirst == NULL) {
		/* cannot happen: our nonce and the keys are in range */
		challenge(p, id, SCRAM_STATE, NULL);
		OPENSSL_cleanse(x, sizeof *x);
		free(x);
		return NULL;
	}
	xchg_make_room(p);
	x->p = p;
	x->id = id;
	str_copy(x->client, sizeof x->client, q->client);
	timer_init(&x->timer, xchg_expire, x);
	timer_set(A.loop, &x->timer, AUTH_SCRAM_TTL_S * 1000);
	x->next = p->xchgs;
	p->xchgs = x;
	p->n_xchgs++;
	challenge(p, id, SCRAM_OK, sfirst);
	return NULL;
}

/* The account still has the keys the exchange was checked with: a reload
 * meanwhile may have removed them (talon user passwd without --scram). */
static bool
same_keys(const struct user_ent *u, const struct scram_server *s)
{
	return u != NULL && CRYPTO_memcmp(u->scram->stored_key, s->keys.stored_key,
	    USERS_SCRAM_KEY_LEN) == 0 && CRYPTO_memcmp(u->scram->server_key, s->keys.server_key,
	    USERS_SCRAM_KEY_LEN) == 0;
}

/* AUTH_SCRAM_FINAL: one try per exchange, answered with AUTH_RESULT. */
static void
scram_final(struct peer *p, uint64_t id, const struct proto_scram_final *q)
{
	char final[SCRAM_SFINAL_MAX];
	struct xchg *x = xchg_find(p, id);
	if (x == NULL) {
		/* expired, evicted, or the auth process restarted meanwhile */
		log_info("auth event=scram result=fail reason=\"no such exchange\"");
		result(p, id, false, NULL, NULL);
		return;
	}
	if (too_many_waiting(p, id, "scram", x->s.f.user, x->client)) {
		xchg_free(x);
		return;
	}
	enum scram_rc rc = scram_server_final(&x->s, q->msg, q->len, final);
	const struct user_ent *u = scram_account(x->s.f.user);
	if (rc == SCRAM_OK && x->s.real && same_keys(u, &x->s)) {
		login_ok(p, id, "scram", u->name, x->client, final);
	} else if (rc == SCRAM_BAD_SYNTAX || rc == SCRAM_TOO_LONG) {
		/* malformed: no password was tried, nothing to count */
		char cl[64 * 4];
		log_escape(cl, sizeof cl, x->client, strlen(x->client));
		log_info("auth event=scram client=[%s] result=refused reason=%s", cl,
		    scram_rc_name(rc));
		result(p, id, false, NULL, NULL);
	} else {
		login_failed(p, id, "scram", x->s.f.user, x->client);
	}
	OPENSSL_cleanse(final, sizeof final);
	xchg_free(x);
}

/* AUTH_STATE to one imap peer. */
static void
send_state(struct peer *p)
{
	struct proto_auth_state st = { .scram = A.scram_any };
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_auth_state_enc(&b, &st);
	ipc_send_buf(p->ipc, PROTO_AUTH_STATE, 0, -1, &b);
	buf_free(&b);
}

/* Whether SCRAM is worth offering, and the iteration count fake keys
 * show: the one most accounts with keys use (the first of up to 8
 * distinct counts seen; `talon user` always writes the default). */
static void
scram_survey(const struct users *u)
{
	uint32_t val[8] = { 0 }, cnt[8] = { 0 };
	size_t nv = 0, best = 0;
	A.scram_any = false;
	for (size_t i = 0; i < u->n; i++) {
		const struct user_ent *e = &u->v[i];
		if (e->scram == NULL || e->hash == NULL || e->hash[0] == '\0')
			continue;
		A.scram_any = true;
		size_t k = 0;
		while (k < nv && val[k] != e->scram->iter)
			k++;
		if (k == nv && nv < NELEM(val))
			val[nv++] = e->scram->iter;
		if (k < nv)
			cnt[k]++;
	}
	for (size_t k = 1; k < nv; k++)
		if (cnt[k] > cnt[best])
			best = k;
	A.scram_iter = nv > 0 ? val[best] : SCRAM_ITER_DEFAULT;
}

static const char *
peer_check(struct peer *p, struct ipc_msg *m)
{
	struct proto_auth_check *q = xmalloc(sizeof *q);
	int r = proto_auth_check_dec(m, q);
	if (r == 0)
		check(p, m->id, q);
	OPENSSL_cleanse(q, sizeof *q);
	free(q);
	return r == 0 ? NULL : "bad AUTH_CHECK";
}

static const char *
peer_scram_first(struct peer *p, struct ipc_msg *m)
{
	struct proto_scram_first *q = xmalloc(sizeof *q);
	const char *err = proto_scram_first_dec(m, q) == 0 ? scram_first(p, m->id, q) :
	    "bad AUTH_SCRAM_FIRST";
	OPENSSL_cleanse(q, sizeof *q);
	free(q);
	return err;
}

static const char *
peer_scram_final(struct peer *p, struct ipc_msg *m)
{
	struct proto_scram_final *q = xmalloc(sizeof *q);
	int r = proto_scram_final_dec(m, q);
	if (r == 0)
		scram_final(p, m->id, q);
	OPENSSL_cleanse(q, sizeof *q);	/* the proof */
	free(q);
	return r == 0 ? NULL : "bad AUTH_SCRAM_FINAL";
}

static const char *
peer_scram_abort(struct peer *p, struct ipc_msg *m)
{
	if (proto_scram_abort_dec(m) < 0)
		return "bad AUTH_SCRAM_ABORT";
	struct xchg *x = xchg_find(p, m->id);
	if (x != NULL)		/* else it expired or ended already */
		xchg_free(x);
	return NULL;
}

static const char *
peer_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct peer *p = arg;
	const char *err;
	if (p->role != ROLE_IMAP)
		return "unexpected message";
	switch (m->type) {
	case PROTO_AUTH_CHECK:
		err = peer_check(p, m);
		break;
	case PROTO_AUTH_SCRAM_FIRST:
		err = peer_scram_first(p, m);
		break;
	case PROTO_AUTH_SCRAM_FINAL:
		err = peer_scram_final(p, m);
		break;
	case PROTO_AUTH_SCRAM_ABORT:
		err = peer_scram_abort(p, m);
		break;
	default:
		return "unexpected message";
	}
	/* the payload held a password or a proof */
	OPENSSL_cleanse((void *)m->data, m->len);
	return err;
}

static void
peer_close(struct ipc *c, void *arg)
{
	struct peer *p = arg;
	proto_peer_closed(A.parent, c, "auth", p->role, p->slot, p->id);
	/* checks on the threads finish, and are dropped then */
	for (struct check_job *k = A.checking; k; k = k->next)
		if (k->p == p)
			k->p = NULL;
	for (struct pending *q = A.pending, *next; q; q = next) {
		next = q->next;
		if (q->p == p)
			pending_free(q);
	}
	while (p->xchgs)
		xchg_free(p->xchgs);
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
	size_t logins = 0, scram = 0;
	for (size_t i = 0; i < nu.n; i++) {
		bool login = nu.v[i].hash != NULL && nu.v[i].hash[0] != '\0';
		logins += login;
		scram += login && nu.v[i].scram != NULL;
	}
	scram_survey(&nu);
	log_info("auth event=users generation=%u accounts=%zu with_password=%zu with_scram=%zu",
	    gen, nu.n, logins, scram);
	for (struct peer *p = A.peers; p; p = p->next)
		if (p->role == ROLE_IMAP)
			send_state(p);
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
		if (p->role == ROLE_IMAP)
			send_state(p);
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
	A.scram_iter = SCRAM_ITER_DEFAULT;
	if (getrandom(A.secret, sizeof A.secret, 0) != sizeof A.secret)
		fatal("auth: getrandom: %s", strerror(errno));
	/* the dummy hash is made on first use: pay for it now, not on the
	 * first unknown user (whose answer would then take twice as long) */
	pw_verify_dummy("");
	A.pool = pwpool_new(A.loop, 0, checked);
	A.parent = ipc_new(A.loop, parent_fd, parent_msg, parent_close, NULL);
	log_info("auth event=start password_threads=%s", A.pool ? "yes" : "no");
	loop_run(A.loop);
	log_info("auth event=stop");
	pwpool_free(&A.pool);
	while (A.peers)
		peer_close(A.peers->ipc, A.peers);
	if (A.have_users)
		users_free(&A.users);
	pw_delay_free(&A.delay);
	OPENSSL_cleanse(A.secret, sizeof A.secret);
	ipc_free(&A.parent);
	loop_free(&A.loop);
	exit(0);
}

/*
 * daemon/role.c - the role table, spawning, peer wiring, restarts and the
 * ordered stop.
 *
 *   role     user        gets               chroot  peers          reload
 *   smtp     _talon      listeners, TLS     empty   queue, policy  replaced
 *   queue    _talonq     spool dir          no      smtp, deliver  in place
 *   deliver  _talonmail  store dir          no      queue          in place
 *   policy   _talonpol   -                  no      smtp           in place
 *   dns      _talondns   dns sockets, zones empty   -              in place
 *   auth     _talonauth  users file (fd)    empty   imap, policy,  in place
 *                                                   mailbox
 *   imap     _talonimap  imap listeners,TLS empty   auth, policy,  replaced
 *                                                   mailbox
 *   mailbox  _talonmail  store dir          no      imap, auth     kept
 *
 * Every child has one channel to the parent.  Channels between roles are
 * the edges below: whenever a process starts, connect_peers() gives it a
 * fresh socketpair to every live process of each role it is linked to (a
 * PEER message to both ends), so a restarted role is rewired by the same
 * code that wired it first.  Any child that dies is restarted (after 1 s
 * when it died within 1 s of starting, so a crash at start is no busy
 * loop); a failed fork or socketpair is retried on the same timer.
 *
 * A child may tell the parent one thing: REPORT, "I closed my channel to
 * this peer because of what it sent".  The parent then kills the peer,
 * which restarts and is rewired, unless the reporter is an smtp worker:
 * workers face the network and are trusted least, so a worker's report
 * gets the worker itself restarted (with fresh channels), never the queue
 * or the policy process.  Anything else a child sends, or a channel it
 * stops reading, gets that child killed.
 *
 * Runs in: parent.  Trusts: nothing a child sends.
 */
#include "daemon/role.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/compat.h"
#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/proc.h"
#include "core/util.h"
#include "daemon/control.h"
#include "daemon/listen.h"
#include "deliver/deliver.h"
#include "auth/auth.h"
#include "dns/server.h"
#include "imap/imap.h"
#include "imap/mailbox.h"
#include "dns/tsig.h"
#include "mail/conf.h"
#include "mail/spool.h"
#include "policy/policy.h"
#include "proto/dns.h"
#include "proto/imap_auth.h"
#include "proto/parent.h"
#include "proto/smtp_policy.h"
#include "queue/queue.h"
#include "smtp/server.h"

#define SLOTS_MAX 64		/* conf allows at most 64 workers */
/* Workers share one user, so one can SIGSTOP another: a process stopped
 * this long is killed and restarted. */
#define STOPPED_MAX_MS 10000

enum role_dir { DIR_NONE, DIR_SPOOL, DIR_STORE };
enum role_reload { RELOAD_IN_PLACE, RELOAD_REPLACE };
enum role_listen { LISTEN_NONE, LISTEN_SMTP, LISTEN_DNS, LISTEN_IMAP };

struct child;

struct role_def {
	enum proto_role id;
	const char *default_user;
	size_t user_off;	/* char * field of struct conf naming the user */
	enum role_dir dir;
	enum role_listen listeners;	/* the sockets it gets */
	bool jail;		/* chrooted into the empty directory */
	bool keeps_tls;		/* keeps the TLS context (and key) */
	bool per_worker;	/* conf->workers instances, else one */
	enum role_reload reload;
	int stop_after;		/* gets STOP once no process of this role is left; -1: first */
	void (*settings)(struct ipc *c, const struct gen *g);
};

static void settings_queue(struct ipc *c, const struct gen *g);
static void watch_cb(struct loop *l, void *arg);
static void settings_deliver(struct ipc *c, const struct gen *g);
static void settings_policy(struct ipc *c, const struct gen *g);
static void settings_dns(struct ipc *c, const struct gen *g);
static void settings_auth(struct ipc *c, const struct gen *g);

static const struct role_def roles[ROLE_COUNT] = {
	[ROLE_SMTP] = { ROLE_SMTP, "_talon", offsetof(struct conf, run_as), DIR_NONE,
	    LISTEN_SMTP, true, true, true, RELOAD_REPLACE, -1, NULL },
	[ROLE_QUEUE] = { ROLE_QUEUE, "_talonq", offsetof(struct conf, queue_user), DIR_SPOOL,
	    LISTEN_NONE, false, false, false, RELOAD_IN_PLACE, ROLE_SMTP, settings_queue },
	[ROLE_DELIVER] = { ROLE_DELIVER, "_talonmail", offsetof(struct conf, deliver_user),
	    DIR_STORE, LISTEN_NONE, false, false, false, RELOAD_IN_PLACE, ROLE_QUEUE,
	    settings_deliver },
	[ROLE_POLICY] = { ROLE_POLICY, "_talonpol", offsetof(struct conf, policy_user), DIR_NONE,
	    LISTEN_NONE, false, false, false, RELOAD_IN_PLACE, ROLE_SMTP, settings_policy },
	/* zones swap in place between two queries: no socket is ever left
	 * unread by a reload */
	[ROLE_DNS] = { ROLE_DNS, "_talondns", offsetof(struct conf, dns_user), DIR_NONE,
	    LISTEN_DNS, true, false, false, RELOAD_IN_PLACE, -1, settings_dns },
	/* runs when an imap listener is configured; the users file reaches
	 * it as a descriptor, so it can live in the empty jail */
	[ROLE_AUTH] = { ROLE_AUTH, "_talonauth", offsetof(struct conf, auth_user), DIR_NONE,
	    LISTEN_NONE, true, false, false, RELOAD_IN_PLACE, ROLE_IMAP, settings_auth },
	[ROLE_IMAP] = { ROLE_IMAP, "_talonimap", offsetof(struct conf, imap_user), DIR_NONE,
	    LISTEN_IMAP, true, true, false, RELOAD_REPLACE, -1, NULL },
	/* logged-in IMAP sessions, handed over by the front: the store's
	 * owner, like deliver.  Kept across reloads, as Dovecot keeps its imap
	 * processes: a reload must not log every client out. */
	[ROLE_MAILBOX] = { ROLE_MAILBOX, "_talonmail", offsetof(struct conf, deliver_user),
	    DIR_STORE, LISTEN_NONE, false, false, false, RELOAD_IN_PLACE, -1, NULL },
};

/* Which roles talk to each other (one channel per pair of processes). */
static const struct { enum proto_role a, b; } edges[] = {
	{ ROLE_SMTP, ROLE_QUEUE },
	{ ROLE_SMTP, ROLE_POLICY },
	{ ROLE_QUEUE, ROLE_DELIVER },
	{ ROLE_IMAP, ROLE_AUTH },
	{ ROLE_AUTH, ROLE_POLICY },
	{ ROLE_IMAP, ROLE_POLICY },
	{ ROLE_IMAP, ROLE_MAILBOX },
	{ ROLE_AUTH, ROLE_MAILBOX },
};

/* Start order: the roles the smtp workers need come first. */
static const enum proto_role start_order[] = { ROLE_DNS, ROLE_DELIVER, ROLE_QUEUE, ROLE_POLICY,
    ROLE_SMTP, ROLE_AUTH, ROLE_MAILBOX, ROLE_IMAP };

struct child {
	struct child *next;
	const struct role_def *role;
	pid_t pid;
	unsigned slot;
	uint32_t id;		/* unique per process: names it in PEER and REPORT */
	unsigned gen;		/* config generation it runs */
	struct ipc *ipc;
	bool draining;		/* told to stop (reload or shutdown) */
	uint64_t started;
	uint64_t stopped_at;	/* SIGSTOPped since (monotonic ms), 0 if not */
};

static struct {
	struct loop *loop;
	const struct role_env *env;
	const struct gen *g;
	struct child *children;
	struct timer respawn;
	struct timer watch;	/* looks at stopped children */
	bool stopping;
	uint32_t grace;
	unsigned restarts[ROLE_COUNT][SLOTS_MAX];
	uint64_t parent_started;
	uint32_t next_id;
	pid_t parent_pid;
} R;

const char *
role_user_name(const struct conf *cf, unsigned role)
{
	if (role >= ROLE_COUNT)
		return "?";
	const char *u = *(char *const *)(const void *)((const char *)cf + roles[role].user_off);
	return u ? u : roles[role].default_user;
}

static unsigned
instances(const struct role_def *r)
{
	if (r->listeners == LISTEN_DNS)
		return R.g->conf->n_dns_listens > 0 ? 1 : 0;
	if (r->listeners == LISTEN_IMAP || r->id == ROLE_AUTH || r->id == ROLE_MAILBOX)
		return R.g->conf->n_imap_listens > 0 ? 1 : 0;
	return r->per_worker ? R.g->conf->workers : 1;
}

/* --- settings (in-place roles) ------------------------------------------ */

static void
settings_queue(struct ipc *c, const struct gen *g)
{
	/* a session holds at most one spool file open, and a worker has at
	 * most `limit connections` sessions */
	struct proto_queue_settings s = { .gen = g->id, .max_open = g->conf->max_conns,
		.lifetime = g->conf->queue_lifetime };
	struct buf b;
	snprintf(s.hostname, sizeof s.hostname, "%s", g->conf->hostname);
	buf_init(&b, IPC_MAX);
	proto_queue_settings_enc(&b, &s);
	ipc_send_buf(c, PROTO_QUEUE_SETTINGS, 0, -1, &b);
	buf_free(&b);
}

static void
settings_deliver(struct ipc *c, const struct gen *g)
{
	struct proto_deliver_settings s = { .gen = g->id, .quota_bytes = g->conf->quota_bytes };
	struct buf b;
	snprintf(s.hostname, sizeof s.hostname, "%s", g->conf->hostname);
	buf_init(&b, IPC_MAX);
	proto_deliver_settings_enc(&b, &s);
	ipc_send_buf(c, PROTO_DELIVER_SETTINGS, 0, -1, &b);
	/* the mailboxes deliver may write to: names only, never hashes */
	static struct proto_mailboxes mb;	/* 33 KB: not on the stack */
	size_t i = 0;
	do {
		mb.gen = g->id;
		mb.n = 0;
		while (i < g->users.n && mb.n < PROTO_MAILBOXES_MAX)
			snprintf(mb.name[mb.n++], sizeof mb.name[0], "%s", g->users.v[i++].name);
		mb.last = i == g->users.n;
		proto_mailboxes_enc(&b, &mb);
		ipc_send_buf(c, PROTO_MAILBOXES, 0, -1, &b);
	} while (i < g->users.n);
	buf_free(&b);
}

static void
settings_dns(struct ipc *c, const struct gen *g)
{
	/* the same descriptor goes to every dns process: each message
	 * carries its own duplicate (ipc_send closes what it sends) */
	static struct proto_dns_zone z;	/* 10 KB: not on the stack */
	memset(&z, 0, sizeof z);
	z.gen = g->id;
	z.count = (uint32_t)g->n_zones;
	z.rate = g->conf->dns_rate;
	if (g->n_zones == 0) {
		proto_dns_zone_send(c, -1, &z);
		return;
	}
	for (size_t i = 0; i < g->n_zones; i++) {
		int fd = dup(g->zones[i].memfd);
		if (fd < 0) {
			log_err("parent event=zone origin=%s error=\"dup: %s\"", g->zones[i].origin,
			    strerror(errno));
			continue;
		}
		z.index = (uint32_t)i;
		z.len = g->zones[i].len;
		z.jlen = g->zones[i].jlen;
		snprintf(z.origin, sizeof z.origin, "%s", g->zones[i].origin);
		/* who may transfer it and whom to notify: the config in force,
		 * also for a zone whose old version stays served */
		z.n_allow = z.n_notify = 0;
		for (size_t k = 0; k < g->conf->n_zones; k++) {
			const struct conf_zone *cz = &g->conf->zones[k];
			if (strcmp(cz->origin, g->zones[i].origin) != 0)
				continue;
			for (size_t a = 0; a < cz->n_allow && a < PROTO_DNS_PEERS_MAX; a++) {
				struct proto_dns_prefix *p = &z.allow[z.n_allow++];
				p->family = cz->allow[a].family == AF_INET ? 4 : 6;
				p->len = (uint8_t)cz->allow[a].len;
				memcpy(p->addr, cz->allow[a].addr, 16);
			}
			for (size_t a = 0; a < cz->n_notify && a < PROTO_DNS_PEERS_MAX; a++) {
				z.notify[z.n_notify] = cz->notify[a].addr;
				z.notify_len[z.n_notify++] = cz->notify[a].addrlen;
			}
			z.key_len = 0;
			z.key_name[0] = '\0';
			for (size_t a = 0; cz->transfer_key != NULL && a < g->conf->n_tsig; a++) {
				const struct conf_tsig *ct = &g->conf->tsig[a];
				struct dns_tsig_key key;
				const char *err;
				if (strcmp(ct->name, cz->transfer_key) != 0 ||
				    !dns_tsig_key_parse(&key, ct->name, ct->secret, &err))
					continue;
				snprintf(z.key_name, sizeof z.key_name, "%s", ct->name);
				memcpy(z.key, key.secret, key.secret_len);
				z.key_len = (uint32_t)key.secret_len;
				OPENSSL_cleanse(&key, sizeof key);
			}
		}
		proto_dns_zone_send(c, fd, &z);
	}
	OPENSSL_cleanse(z.key, sizeof z.key);
}

/* The users file, opened here (root) and read there: the hashes are
 * read by the auth process only. */
static void
settings_auth(struct ipc *c, const struct gen *g)
{
	int fd = open(g->conf->users, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_err("parent event=settings role=auth error=\"%s: %s\" action=no-logins",
		    g->conf->users, strerror(errno));
		return;
	}
	struct proto_auth_settings s = { .gen = g->id };
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_auth_settings_enc(&b, &s);
	ipc_send_buf(c, PROTO_AUTH_SETTINGS, 0, fd, &b);
	buf_free(&b);
}

int
roles_policy_ctl(uint64_t token, const char *line)
{
	for (struct child *c = R.children; c; c = c->next) {
		if (c->role->id != ROLE_POLICY || c->ipc == NULL)
			continue;
		struct proto_policy_ctl q;
		str_copy(q.line, sizeof q.line, line);
		struct buf b;
		buf_init(&b, IPC_MAX);
		proto_policy_ctl_enc(&b, &q);
		ipc_send_buf(c->ipc, PROTO_POLICY_CTL, token, -1, &b);
		buf_free(&b);
		return 0;
	}
	return -1;
}

_Static_assert((int)CONF_BL_IP == (int)DNSBL_CLIENT && (int)CONF_BL_HELO == (int)DNSBL_HELO &&
    (int)CONF_BL_FROM == (int)DNSBL_FROM, "blocklist kinds travel as the same bits");
_Static_assert(PROTO_BL_MAX == CONF_BL_MAX && PROTO_BAN_EVENTS == CONF_BAN_EVENTS,
    "the settings carry every blocklist and ban event");

/* The defences the policy process applies (mail/conf.h). */
static void
settings_defences(struct proto_policy_settings *s, const struct conf *cf)
{
	snprintf(s->statedir, sizeof s->statedir, "%s/policy", cf->state);
	for (size_t i = 0; i < cf->n_mynetworks && s->n_nets < PROTO_NETS_MAX; i++)
		s->nets[s->n_nets++] = cf->mynetworks[i];
	for (size_t i = 0; i < cf->n_bls; i++) {
		const struct conf_bl *l = &cf->bls[i];
		struct proto_bl *p = &s->bls[s->n_bls++];
		str_copy(p->zone, sizeof p->zone, l->zone);
		p->what = l->what;
		p->n_codes = (uint32_t)l->n_codes;
		memcpy(p->codes, l->codes, sizeof p->codes);
		p->code = l->code;
		str_copy(p->esc, sizeof p->esc, l->esc);
		str_copy(p->text, sizeof p->text, l->text ? l->text : "");
	}
	s->greylist = cf->greylist;
	s->grey_delay = cf->grey_delay;
	s->grey_window = cf->grey_window;
	s->grey_keep = cf->grey_keep;
	s->grey_auto_allow = cf->grey_auto_allow;
	s->grey_v4_prefix = cf->grey_v4_prefix;
	s->grey_v6_prefix = cf->grey_v6_prefix;
	s->auto_ban = cf->auto_ban;
	for (size_t i = 0; i < PROTO_BAN_EVENTS; i++)
		s->ban_points[i] = cf->ban_points[i];
	s->ban_threshold = cf->ban_threshold;
	s->ban_window = cf->ban_window;
	s->ban_time = cf->ban_time;
	s->ban_time_max = cf->ban_time_max;
	s->conn_rate = cf->conn_rate;
}

static void
settings_policy(struct ipc *c, const struct gen *g)
{
	static struct proto_policy_settings s;	/* large: not on the stack */
	s = (struct proto_policy_settings){
		.gen = g->id, .max_conns = g->conf->max_conns,
		.max_conns_per_ip = g->conf->max_conns_per_ip,
		.ipv6_prefix = g->conf->ipv6_client_prefix,
		.resolver = g->conf->resolver,
		.resolver_timeout = g->conf->resolver_timeout,
	};
	for (size_t i = 0; i < g->conf->n_forward; i++) {
		size_t o = strlen(s.forward);
		snprintf(s.forward + o, sizeof s.forward - o, "%s%s", i ? " " : "",
		    g->conf->forward[i]);
	}
	if (g->conf->trust_anchor)
		str_copy(s.anchor, sizeof s.anchor, g->conf->trust_anchor);
	str_copy(s.hostname, sizeof s.hostname, g->conf->hostname);
	if (g->conf->access != NULL)
		str_copy(s.access, sizeof s.access, g->conf->access);
	settings_defences(&s, g->conf);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_policy_settings_enc(&b, &s);
	ipc_send_buf(c, PROTO_POLICY_SETTINGS, 0, -1, &b);
	buf_free(&b);
}

/* --- children -------------------------------------------------------------- */

static struct child *
child_by_id(uint32_t role, uint32_t id)
{
	for (struct child *c = R.children; c; c = c->next)
		if (c->id == id && c->role->id == role)
			return c;
	return NULL;
}

static void
kill_child(struct child *c, const char *why)
{
	log_err("parent event=kill role=%s pid=%d reason=\"%s\"", proto_role_name(c->role->id),
	    (int)c->pid, why);
	kill(c->pid, SIGKILL);
}

static const char *
child_msg(struct ipc *ipc, struct ipc_msg *m, void *arg)
{
	struct child *c = arg;
	struct proto_report rep;
	char why[PROTO_REASON_MAX * 4 + 64], reason[PROTO_REASON_MAX * 4 + 1];
	if (m->type == PROTO_POLICY_CTL_REPLY && c->role->id == ROLE_POLICY) {
		struct proto_policy_ctl_reply r;
		if (proto_policy_ctl_reply_dec(m, &r) < 0)
			return "bad POLICY_CTL_REPLY";
		/* the decoder let through printable lines only: it goes to an
		 * admin's terminal */
		control_finish(m->id, r.ok ? 0 : -1, r.body, strlen(r.body));
		free(r.body);
		return NULL;
	}
	if (m->type != PROTO_REPORT)
		return "a child may send the parent only REPORT (and policy its ban answers)";
	if (proto_report_dec(m, &rep) < 0)
		return "bad REPORT";
	log_escape(reason, sizeof reason, rep.reason, strlen(rep.reason));
	struct child *peer = child_by_id(rep.role, rep.id);
	if (c->role->id == ROLE_SMTP) {
		/* kill the least trusted side: the reporter */
		snprintf(why, sizeof why, "reported %s: %s", proto_role_name(rep.role), reason);
		kill_child(c, why);
	} else if (peer != NULL) {
		snprintf(why, sizeof why, "reported by %s: %s", proto_role_name(c->role->id), reason);
		kill_child(peer, why);
	} else {
		log_warn("parent event=report role=%s about=%s result=ignored reason=\"no such "
		    "process (gone already)\"", proto_role_name(c->role->id),
		    proto_role_name(rep.role));
	}
	return NULL;
}

static void
child_close(struct ipc *ipc, void *arg)
{
	struct child *c = arg;
	const char *why = ipc_close_reason(ipc);
	if (why != NULL)	/* it misbehaved (or stopped reading) */
		kill_child(c, why);
	/* otherwise the process is exiting; SIGCHLD does the bookkeeping */
	ipc_free(&c->ipc);
}

static void
connect_pair(struct child *a, struct child *b)
{
	int sp[2];
	if (a->ipc == NULL || b->ipc == NULL)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0) {
		/* the two stay apart until one restarts; log loudly */
		log_err("parent event=peer role=%s peer=%s error=\"socketpair: %s\"",
		    proto_role_name(a->role->id), proto_role_name(b->role->id), strerror(errno));
		return;
	}
	proto_peer_send(a->ipc, &(struct proto_peer){ b->role->id, b->slot, b->id }, sp[0]);
	proto_peer_send(b->ipc, &(struct proto_peer){ a->role->id, a->slot, a->id }, sp[1]);
}

/* The one place that wires a process to its peers (at start and after
 * a restart of either side). */
static void
connect_peers(struct child *c)
{
	for (size_t i = 0; i < NELEM(edges); i++) {
		enum proto_role other;
		if (edges[i].a == c->role->id)
			other = edges[i].b;
		else if (edges[i].b == c->role->id)
			other = edges[i].a;
		else
			continue;
		for (struct child *o = R.children; o; o = o->next)
			if (o != c && o->role->id == other)
				connect_pair(c, o);
	}
}

static void
child_remove(struct child *c)
{
	struct child **pp = &R.children;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	ipc_free(&c->ipc);
	free(c);
}

static int
role_dir_fd(const struct role_def *r)
{
	return r->dir == DIR_SPOOL ? R.env->spool_fd : r->dir == DIR_STORE ? R.env->store_fd : -1;
}

/* In the new child: becomes the role, never returns. */
static void __attribute__((noreturn))
child_run(const struct role_def *r, unsigned slot, int chan, int *lfds, size_t n_lfds)
{
	const char *name = proto_role_name(r->id);
	const struct gen *g = R.g;
	int dirfd = role_dir_fd(r);
	proc_child_setup(name);
	if (!r->keeps_tls && g->tls != NULL) {
		/* freeing the context wipes the key material in our copy */
		SSL_CTX_free(g->tls);
		((struct gen *)g)->tls = NULL;
	}
	size_t nk = 0;
	int *keep = xcalloc(n_lfds + 3, sizeof *keep);
	keep[nk++] = chan;
	if (log_syslog_fd() >= 0)
		keep[nk++] = log_syslog_fd();	/* logging works in the chroot */
	if (dirfd >= 0)
		keep[nk++] = dirfd;
	for (size_t i = 0; i < n_lfds; i++)
		keep[nk++] = lfds[i];
	proc_close_except(keep, nk);
	free(keep);
	proc_drop(name, R.env->is_root, R.env->uid[r->id], R.env->gid[r->id],
	    r->jail ? R.env->jail : NULL);
	proc_parent_death(R.parent_pid);
	if (r->id == ROLE_SMTP)
		/* a taken-over worker starts nothing and writes no spool file
		 * bigger than a message may be (with our header and envelope);
		 * LeakSanitizer needs a thread at exit, so the sanitizer build
		 * keeps fork (as it skips the chroot) */
		proc_contain(!TALON_SANITIZER_BUILD,
		    (unsigned long long)g->conf->max_message_size + SPOOL_OVERHEAD_MAX);
	fcntl(chan, F_SETFL, O_NONBLOCK);
	switch (r->id) {
	case ROLE_SMTP: {
		struct smtp_worker_args a = {
			.conf = g->conf, .users = &g->users, .aliases = &g->aliases,
			.tls = g->tls, .listen_fds = lfds, .parent_fd = chan, .slot = slot,
		};
		smtp_worker_main(&a);
	}
	case ROLE_QUEUE:
		queue_main(chan, dirfd);
	case ROLE_DELIVER:
		deliver_main(chan, dirfd);
	case ROLE_POLICY:
		policy_main(chan);
	case ROLE_DNS:
		dns_main(chan, lfds, n_lfds);
	case ROLE_AUTH:
		auth_main(chan);
	case ROLE_IMAP: {
		struct imap_args a = { .conf = g->conf, .tls = g->tls, .listen_fds = lfds,
			.n_listen = n_lfds, .parent_fd = chan };
		imap_main(&a);
	}
	case ROLE_MAILBOX:
		mailbox_main(g->conf, chan, dirfd);
	default:
		break;
	}
	_exit(1);
}

/* Start one process of a role.  -1 (logged) when it could not be started;
 * the respawn timer tries again. */
static int
spawn(const struct role_def *r, unsigned slot)
{
	const char *name = proto_role_name(r->id);
	const struct conf *cf = R.g->conf;
	size_t n_lfds = r->listeners == LISTEN_SMTP ? cf->n_listens :
	    r->listeners == LISTEN_DNS ? 2 * cf->n_dns_listens :
	    r->listeners == LISTEN_IMAP ? cf->n_imap_listens : 0;
	int *lfds = xcalloc(n_lfds + 1, sizeof *lfds);
	int sp[2];
	if ((r->listeners == LISTEN_SMTP && listen_fds(cf, slot, lfds) < 0) ||
	    (r->listeners == LISTEN_DNS && listen_dns_fds(cf, lfds) < 0) ||
	    (r->listeners == LISTEN_IMAP && listen_imap_fds(cf, lfds) < 0)) {
		log_err("parent event=spawn role=%s worker=%u error=\"no listening socket\"", name, slot);
		free(lfds);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		log_err("parent event=spawn role=%s error=\"socketpair: %s\"", name, strerror(errno));
		free(lfds);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_err("parent event=spawn role=%s error=\"fork: %s\"", name, strerror(errno));
		close(sp[0]);
		close(sp[1]);
		free(lfds);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		child_run(r, slot, sp[1], lfds, n_lfds);
	}
	free(lfds);
	close(sp[1]);
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	struct child *c = xcalloc(1, sizeof *c);
	c->role = r;
	c->pid = pid;
	c->slot = slot;
	c->id = ++R.next_id;
	c->gen = R.g->id;
	c->started = now_ms();
	c->ipc = ipc_new(R.loop, sp[0], child_msg, child_close, c);
	c->next = R.children;
	R.children = c;
	/* settings first: a role reads them before any peer can ask it */
	if (r->settings != NULL)
		r->settings(c->ipc, R.g);
	connect_peers(c);
	if (r->per_worker)
		log_info("parent event=spawn role=%s worker=%u pid=%d", name, slot, (int)pid);
	else
		log_info("parent event=spawn role=%s pid=%d", name, (int)pid);
	return 0;
}

static bool
slot_running(enum proto_role id, unsigned slot)
{
	for (struct child *c = R.children; c; c = c->next)
		if (c->role->id == id && !c->draining && c->slot == slot)
			return true;
	return false;
}

/* Start whatever should run and does not: at start, after a crash, after
 * a failed spawn. */
static void
respawn_cb(struct loop *l, void *arg)
{
	bool failed = false;
	if (R.stopping)
		return;
	for (size_t i = 0; i < NELEM(start_order); i++) {
		const struct role_def *r = &roles[start_order[i]];
		for (unsigned s = 0; s < instances(r); s++)
			if (!slot_running(r->id, s) && spawn(r, s) < 0)
				failed = true;
	}
	if (failed)
		timer_set(R.loop, &R.respawn, 1000);
}

void
roles_init(struct loop *l, const struct role_env *env, const struct gen *g)
{
	memset(&R, 0, sizeof R);
	R.loop = l;
	R.env = env;
	R.g = g;
	R.parent_started = now_ms();
	R.parent_pid = getpid();
	timer_init(&R.respawn, respawn_cb, NULL);
	timer_init(&R.watch, watch_cb, NULL);
}

void
roles_start(void)
{
	respawn_cb(R.loop, NULL);
}

void
roles_reload(const struct gen *g)
{
	R.g = g;
	uint32_t grace = 0;
	for (struct child *c = R.children; c; c = c->next) {
		if (c->draining)
			continue;
		if (c->role->reload == RELOAD_IN_PLACE) {
			if (c->ipc != NULL && c->role->settings != NULL) {
				c->role->settings(c->ipc, g);
				c->gen = g->id;
			}
			continue;
		}
		/* replaced: stop taking work, finish the sessions, exit; the
		 * new generation takes over the same sockets at once */
		grace = g->conf->data_timeout > g->conf->cmd_timeout ? g->conf->data_timeout :
		    g->conf->cmd_timeout;
		c->draining = true;
		if (c->ipc != NULL)
			proto_stop_send(c->ipc, grace);
	}
	respawn_cb(R.loop, NULL);
}

static unsigned
n_role(enum proto_role id)
{
	unsigned n = 0;
	for (struct child *c = R.children; c; c = c->next)
		if (c->role->id == id)
			n++;
	return n;
}

/* During a stop: each role gets STOP once the role it waits for is gone
 * (smtp first; the queue finishes its commits; deliver finishes what the
 * queue handed it). */
static void
stop_step(void)
{
	for (struct child *c = R.children; c; c = c->next) {
		int after = c->role->stop_after;
		if (c->draining || c->ipc == NULL || (after >= 0 && n_role((enum proto_role)after) > 0))
			continue;
		c->draining = true;
		proto_stop_send(c->ipc, R.grace);
	}
	if (R.children == NULL)
		loop_stop(R.loop);
}

void
roles_stop(uint32_t grace)
{
	R.stopping = true;
	R.grace = grace;
	timer_cancel(R.loop, &R.respawn);
	stop_step();
}

static void
describe_status(int st, char *dst, size_t n)
{
	if (WIFEXITED(st))
		snprintf(dst, n, "exit=%d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(dst, n, "signal=%d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(dst, n, "status=%d", st);
}

/* Kill children that have been stopped too long. */
static void
watch_cb(struct loop *l, void *arg)
{
	bool again = false;
	uint64_t now = now_ms();
	for (struct child *c = R.children; c; c = c->next) {
		if (c->stopped_at == 0)
			continue;
		if (now - c->stopped_at >= STOPPED_MAX_MS) {
			kill_child(c, "stopped for 10 s (SIGSTOP, maybe from a process of the "
			    "same user)");
			c->stopped_at = 0;
		} else {
			again = true;
		}
	}
	if (again)
		timer_set(R.loop, &R.watch, 1000);
}

void
roles_reap(void)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG | WUNTRACED | WCONTINUED)) > 0) {
		struct child *c = R.children;
		while (c && c->pid != pid)
			c = c->next;
		if (c == NULL)
			continue;
		if (WIFSTOPPED(st) || WIFCONTINUED(st)) {
			c->stopped_at = WIFSTOPPED(st) ? now_ms() : 0;
			log_warn("parent event=%s role=%s pid=%d", WIFSTOPPED(st) ? "stopped" :
			    "continued", proto_role_name(c->role->id), (int)pid);
			if (WIFSTOPPED(st) && !timer_armed(&R.watch))
				timer_set(R.loop, &R.watch, 1000);
			continue;
		}
		char why[80];
		describe_status(st, why, sizeof why);
		bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		const char *role = proto_role_name(c->role->id);
		bool expected = R.stopping || c->draining;
		if (expected && clean)
			log_info("parent event=exit role=%s pid=%d %s", role, (int)pid, why);
		else
			log_err("parent event=crash role=%s pid=%d %s action=%s", role, (int)pid,
			    why, R.stopping ? "none" : (c->draining ? "none (was draining)" : "restart"));
		bool quick = now_ms() - c->started < 1000;
		bool was_active = !c->draining;
		if (was_active && !R.stopping && c->slot < SLOTS_MAX)
			R.restarts[c->role->id][c->slot]++;
		child_remove(c);
		if (R.stopping || !was_active)
			continue;
		/* restart, but not in a tight loop if it dies at once */
		if (!timer_armed(&R.respawn))
			timer_set(R.loop, &R.respawn, quick ? 1000 : 0);
	}
	if (R.stopping)
		stop_step();
}

void
roles_kill_all(void)
{
	for (struct child *c = R.children; c; c = c->next) {
		log_warn("parent event=kill role=%s pid=%d reason=\"did not stop in time\"",
		    proto_role_name(c->role->id), (int)c->pid);
		kill(c->pid, SIGKILL);
	}
}

bool
roles_none_left(void)
{
	return R.children == NULL;
}

/* --- status ------------------------------------------------------------------- */

void
roles_status(struct buf *out, bool json)
{
	uint64_t now = now_ms();
	const struct conf *cf = R.g->conf;
	if (json) {
		buf_printf(out, "{\"generation\":%u,\"pid\":%d,\"uptime\":%llu,\"roles\":[",
		    R.g->id, (int)getpid(), (unsigned long long)((now - R.parent_started) / 1000));
	} else {
		buf_printf(out, "%-8s %-6s %-7s %-11s %-8s %-8s %-10s %s\n", "role", "worker", "pid",
		    "user", "uptime", "restarts", "generation", "state");
		buf_printf(out, "%-8s %-6s %-7d %-11s %-8llu %-8s %-10u %s\n", "parent", "-",
		    (int)getpid(), R.env->is_root ? "root" : "invoking",
		    (unsigned long long)((now - R.parent_started) / 1000), "-", R.g->id, "running");
	}
	bool first = true;
	for (size_t i = 0; i < NELEM(start_order); i++) {
		enum proto_role id = start_order[i];
		for (unsigned slot = 0; slot < SLOTS_MAX; slot++)
		for (struct child *c = R.children; c; c = c->next) {
			if (c->role->id != id || c->slot != slot)
				continue;
			const char *user = R.env->is_root ? role_user_name(cf, id) : "invoking";
			unsigned long long up = (now - c->started) / 1000;
			unsigned restarts = c->slot < SLOTS_MAX ? R.restarts[id][c->slot] : 0;
			const char *state = c->draining ? "draining" : "running";
			if (json)
				buf_printf(out, "%s{\"role\":\"%s\",\"worker\":%u,\"pid\":%d,\"user\":\"%s\","
				    "\"uptime\":%llu,\"restarts\":%u,\"generation\":%u,\"state\":\"%s\"}",
				    first ? "" : ",", proto_role_name(id), c->slot, (int)c->pid, user,
				    up, restarts, c->gen, state);
			else
				buf_printf(out, "%-8s %-6u %-7d %-11s %-8llu %-8u %-10u %s\n",
				    proto_role_name(id), c->slot, (int)c->pid, user, up, restarts,
				    c->gen, state);
			first = false;
		}
	}
	if (json)
		buf_printf(out, "]}\n");
}

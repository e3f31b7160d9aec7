/*
 * daemon/parent.c - `talon serve`: the supervising parent process.
 *
 * Holds:   the config, the listening sockets (one per listener and worker
 *          slot, SO_REUSEPORT), directory descriptors for spool and store,
 *          the TLS context (loaded here, inherited by the smtp workers),
 *          the table of children and the per-client connection counts.
 * Does:    forks the queue process and N smtp workers, connects them with
 *          socketpairs, restarts a child that dies, reloads on SIGHUP
 *          (new workers with the new config take over the same sockets;
 *          old ones finish their sessions), stops on SIGTERM/SIGINT.
 * Never:   parses a byte from the network.
 * Runs as: root (to bind and to open what children may not), or the
 *          invoking user; children drop to their own users.
 */
#include "daemon/parent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/compat.h"
#include "mail/conf.h"
#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/tls.h"
#include "core/util.h"
#include "daemon/msg.h"
#include "deliver/deliver.h"
#include "queue/queue.h"
#include "mail/users.h"
#include "smtp/server.h"


enum ckind { C_SMTP, C_QUEUE, C_DELIVER };

struct conn {
	uint64_t id;
	char ip[INET6_ADDRSTRLEN];
};

struct child {
	struct child *next;
	enum ckind kind;
	pid_t pid;
	unsigned slot;
	unsigned gen;		/* config generation it runs */
	struct ipc *ipc;
	bool draining;
	uint64_t started;
	struct conn *conns;
	size_t n_conns, cap_conns;
};

/* one listening socket per (listen address, worker slot) */
struct lsock {
	struct lsock *next;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned slot;
	int fd;
	bool used;		/* by the current config */
};

/* everything loaded from the config, swapped as a whole on reload */
struct gen {
	struct conf *conf;
	struct users users;
	struct aliases aliases;
	SSL_CTX *tls;
	unsigned id;
};

static struct {
	struct loop *loop;
	const char *conf_path;
	struct gen *g;
	struct child *children;
	struct lsock *lsocks;
	int sigfd;
	int spool_fd, store_fd;
	uid_t smtp_uid, queue_uid, deliver_uid;
	gid_t smtp_gid, queue_gid, deliver_gid;
	bool is_root;
	bool stopping;
	unsigned next_gen;
	size_t n_conns;		/* across all workers */
	struct timer respawn, hard_stop;
	bool queue_wanted;
	char *jail;		/* empty root-owned directory for smtp workers */
} P;

/* --- connection counting ------------------------------------------------ */

static unsigned
count_ip(const char *ip)
{
	unsigned n = 0;
	for (struct child *c = P.children; c; c = c->next)
		for (size_t i = 0; i < c->n_conns; i++)
			if (strcmp(c->conns[i].ip, ip) == 0)
				n++;
	return n;
}

static void
sockaddr_ip(const void *p, size_t len, char *dst, size_t dstsz)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	memcpy(&ss, p, len < sizeof ss ? len : sizeof ss);
	dst[0] = '\0';
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
			inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], dst, (socklen_t)dstsz);
		else
			inet_ntop(AF_INET6, &a6->sin6_addr, dst, (socklen_t)dstsz);
	} else if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, dst, (socklen_t)dstsz);
	}
}

static void
conn_ask(struct child *c, struct ipc_msg *m)
{
	char ip[INET6_ADDRSTRLEN];
	size_t len = (size_t)(m->end - m->p);
	if (len == 0 || len > sizeof(struct sockaddr_storage))
		fatal("parent: bad CONN_ASK from worker %u", c->slot);
	sockaddr_ip(m->p, len, ip, sizeof ip);
	m->p = m->end;
	uint32_t verdict = CONN_OK;
	const struct conf *cf = P.g->conf;
	if (P.n_conns >= cf->max_conns)
		verdict = CONN_TOO_MANY;
	else if (count_ip(ip) >= cf->max_conns_per_ip)
		verdict = CONN_TOO_MANY_IP;
	if (verdict == CONN_OK) {
		if (c->n_conns == c->cap_conns) {
			c->cap_conns = c->cap_conns ? c->cap_conns * 2 : 16;
			c->conns = xreallocarray(c->conns, c->cap_conns, sizeof *c->conns);
		}
		c->conns[c->n_conns].id = m->id;
		snprintf(c->conns[c->n_conns].ip, sizeof c->conns[0].ip, "%s", ip);
		c->n_conns++;
		P.n_conns++;
	}
	ipc_send(c->ipc, MSG_CONN_REPLY, m->id, -1, &verdict, sizeof verdict);
}

static void
conn_end(struct child *c, uint64_t id)
{
	for (size_t i = 0; i < c->n_conns; i++) {
		if (c->conns[i].id == id) {
			c->conns[i] = c->conns[--c->n_conns];
			P.n_conns--;
			return;
		}
	}
}

/* --- children ------------------------------------------------------------- */

static void
child_msg(struct ipc *ipc, struct ipc_msg *m, void *arg)
{
	struct child *c = arg;
	switch (m->type) {
	case MSG_CONN_ASK:
		conn_ask(c, m);
		break;
	case MSG_CONN_END:
		conn_end(c, m->id);
		break;
	default:
		fatal("parent: unexpected message type %u from pid %d", m->type, (int)c->pid);
	}
	ipc_get_end(m);
	if (m->fd >= 0)
		close(m->fd);
}

static void
child_close(struct ipc *ipc, void *arg)
{
	struct child *c = arg;
	/* the process is exiting; SIGCHLD does the bookkeeping */
	ipc_free(&c->ipc);
}

static struct child *
find_kind(enum ckind k)
{
	for (struct child *c = P.children; c; c = c->next)
		if (c->kind == k)
			return c;
	return NULL;
}

static struct child *
find_queue(void)
{
	return find_kind(C_QUEUE);
}

static const char *
role_name(enum ckind k)
{
	return k == C_QUEUE ? "queue" : k == C_DELIVER ? "deliver" : "smtp";
}

/* Give the queue and the deliver process a fresh channel between them
 * (after either was started). */
static void
link_queue_deliver(void)
{
	struct child *q = find_kind(C_QUEUE), *d = find_kind(C_DELIVER);
	int sp[2];
	if (q == NULL || d == NULL || q->ipc == NULL || d->ipc == NULL)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0)
		fatal("parent: socketpair: %s", strerror(errno));
	ipc_send(q->ipc, MSG_DELIVER_PEER, 0, sp[0], NULL, 0);
	ipc_send(d->ipc, MSG_DELIVER_PEER, 0, sp[1], NULL, 0);
}

/* In a new child: close every descriptor except keep[] (and 0-2). */
static void
close_except(int *keep, size_t n)
{
	/* sort the (few) descriptors to keep */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unsigned lo = 3;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 3)
			continue;
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0u, 0);
}

static void
drop_privileges(uid_t uid, gid_t gid, const char *role, const char *jail)
{
	/* a process that needs no files at all is locked into an empty
	 * directory: whatever an attacker gains there, the file system
	 * is not part of it */
	if (P.is_root && jail != NULL && (chroot(jail) < 0 || chdir("/") < 0))
		fatal("%s: cannot chroot to %s: %s", role, jail, strerror(errno));
	if (P.is_root) {
		if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			fatal("%s: cannot drop privileges: %s", role, strerror(errno));
		if (getuid() == 0 || geteuid() == 0)
			fatal("%s: still root after dropping privileges", role);
	}
	/* no core dumps, no ptrace by same-uid processes, no setuid gains */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void
child_common_setup(const char *role)
{
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGHUP, SIG_IGN);	/* reload is the parent's business */
	signal(SIGINT, SIG_IGN);	/* ^C in the demo goes to the parent */
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	log_set_proc(role);
}

static struct child *
child_add(enum ckind kind, pid_t pid, unsigned slot, int fd)
{
	struct child *c = xcalloc(1, sizeof *c);
	c->kind = kind;
	c->pid = pid;
	c->slot = slot;
	c->gen = P.g->id;
	c->started = now_ms();
	c->ipc = ipc_new(P.loop, fd, child_msg, child_close, c);
	c->next = P.children;
	P.children = c;
	return c;
}

/* Fork one of the two disk processes: it gets its channel to us and the
 * one directory it works in, and nothing else (not even the TLS key it
 * inherited: freeing the context wipes the key material in its copy). */
static void
spawn_service(enum ckind kind, int dirfd, uid_t uid, gid_t gid,
    void (*main_fn)(const struct conf *, int, int))
{
	const char *role = role_name(kind);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		fatal("parent: socketpair: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		fatal("parent: fork: %s", strerror(errno));
	if (pid == 0) {
		child_common_setup(role);
		if (P.g->tls != NULL) {
			SSL_CTX_free(P.g->tls);
			P.g->tls = NULL;
		}
		int keep[] = { sp[1], dirfd };
		close_except(keep, NELEM(keep));
		drop_privileges(uid, gid, role, NULL);
		fcntl(sp[1], F_SETFL, O_NONBLOCK);
		main_fn(P.g->conf, sp[1], dirfd);
		_exit(1);	/* not reached */
	}
	close(sp[1]);
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	child_add(kind, pid, 0, sp[0]);
	log_info("parent event=spawn role=%s pid=%d", role, (int)pid);
	link_queue_deliver();
}

static void
spawn_queue(void)
{
	spawn_service(C_QUEUE, P.spool_fd, P.queue_uid, P.queue_gid, queue_main);
}

static void
spawn_deliver(void)
{
	spawn_service(C_DELIVER, P.store_fd, P.deliver_uid, P.deliver_gid, deliver_main);
}

/* A new channel between the queue and a worker: returns the worker's end
 * and hands the other end to the queue. */
static int
queue_channel(unsigned slot)
{
	struct child *q = find_queue();
	int sp[2];
	if (q == NULL || q->ipc == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0)
		fatal("parent: socketpair: %s", strerror(errno));
	ipc_send(q->ipc, MSG_PEER_NEW, slot, sp[1], NULL, 0);
	return sp[0];
}

static void
spawn_worker(unsigned slot)
{
	const struct conf *cf = P.g->conf;
	int sp[2];
	int *lfds = xcalloc(cf->n_listens, sizeof *lfds);

	for (size_t i = 0; i < cf->n_listens; i++) {
		lfds[i] = -1;
		for (struct lsock *l = P.lsocks; l; l = l->next)
			if (l->used && l->slot == slot && l->addrlen == cf->listens[i].addrlen &&
			    memcmp(&l->addr, &cf->listens[i].addr, l->addrlen) == 0)
				lfds[i] = l->fd;
		if (lfds[i] < 0)
			fatal("parent: no socket for %s slot %u", cf->listens[i].text, slot);
	}
	int qfd = queue_channel(slot);
	if (qfd < 0)
		fatal("parent: no queue process to connect worker %u to", slot);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		fatal("parent: socketpair: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		fatal("parent: fork: %s", strerror(errno));
	if (pid == 0) {
		child_common_setup("smtp");
		size_t nk = cf->n_listens + 2;
		int *keep = xcalloc(nk, sizeof *keep);
		keep[0] = sp[1];
		keep[1] = qfd;
		for (size_t i = 0; i < cf->n_listens; i++)
			keep[2 + i] = lfds[i];
		close_except(keep, nk);
		free(keep);
		drop_privileges(P.smtp_uid, P.smtp_gid, "smtp", P.jail);
		fcntl(sp[1], F_SETFL, O_NONBLOCK);
		struct smtp_worker_args a = {
			.conf = cf, .users = &P.g->users, .aliases = &P.g->aliases,
			.tls = P.g->tls, .listen_fds = lfds, .parent_fd = sp[1],
			.queue_fd = qfd, .slot = slot,
		};
		smtp_worker_main(&a);
	}
	free(lfds);
	close(sp[1]);
	close(qfd);
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	child_add(C_SMTP, pid, slot, sp[0]);
	log_info("parent event=spawn role=smtp worker=%u pid=%d", slot, (int)pid);
}

static void
child_remove(struct child *c)
{
	struct child **pp = &P.children;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	P.n_conns -= c->n_conns;
	ipc_free(&c->ipc);
	free(c->conns);
	free(c);
}

static bool
slot_running(unsigned slot)
{
	for (struct child *c = P.children; c; c = c->next)
		if (c->kind == C_SMTP && !c->draining && c->slot == slot)
			return true;
	return false;
}

static unsigned n_smtp_children(void);

static void
respawn_cb(struct loop *l, void *arg)
{
	if (P.stopping)
		return;
	if (P.queue_wanted && find_kind(C_DELIVER) == NULL)
		spawn_deliver();
	if (P.queue_wanted && find_queue() == NULL) {
		spawn_queue();
		/* every live worker gets a channel to the new queue */
		for (struct child *c = P.children; c; c = c->next) {
			if (c->kind != C_SMTP || c->ipc == NULL)
				continue;
			int fd = queue_channel(c->slot);
			if (fd >= 0)
				ipc_send(c->ipc, MSG_QUEUE_PEER, 0, fd, NULL, 0);
		}
	}
	for (unsigned s = 0; s < P.g->conf->workers; s++)
		if (!slot_running(s))
			spawn_worker(s);
}

static unsigned
n_smtp_children(void)
{
	unsigned n = 0;
	for (struct child *c = P.children; c; c = c->next)
		if (c->kind == C_SMTP)
			n++;
	return n;
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

static void
reap(void)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct child *c = P.children;
		while (c && c->pid != pid)
			c = c->next;
		if (c == NULL)
			continue;
		char why[80];
		describe_status(st, why, sizeof why);
		bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		const char *role = role_name(c->kind);
		bool expected = P.stopping || c->draining;
		if (expected && clean)
			log_info("parent event=exit role=%s pid=%d %s", role, (int)pid, why);
		else
			log_err("parent event=crash role=%s pid=%d %s action=%s", role, (int)pid,
			    why, P.stopping ? "none" : (c->draining ? "none (was draining)" : "restart"));
		bool quick = now_ms() - c->started < 1000;
		bool was_active = !c->draining;
		child_remove(c);
		if (P.stopping || !was_active)
			continue;
		/* restart, but not in a tight loop if it dies at once */
		timer_set(P.loop, &P.respawn, quick ? 1000 : 0);
	}
	if (P.stopping) {
		/* in order: smtp workers, then the queue (it finishes its
		 * commits), then deliver (it finishes what the queue handed) */
		struct child *q = find_queue(), *d = find_kind(C_DELIVER);
		uint32_t grace = 0;
		if (n_smtp_children() == 0 && q != NULL && q->ipc != NULL && !q->draining) {
			q->draining = true;
			ipc_send(q->ipc, MSG_STOP, 0, -1, &grace, sizeof grace);
		}
		if (n_smtp_children() == 0 && q == NULL && d != NULL && d->ipc != NULL &&
		    !d->draining) {
			d->draining = true;
			ipc_send(d->ipc, MSG_STOP, 0, -1, &grace, sizeof grace);
		}
		if (P.children == NULL)
			loop_stop(P.loop);
	}
}

/* --- listeners -------------------------------------------------------------- */

static int
bind_one(const struct conf_listen *l, char *err, size_t errlen)
{
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0 || listen(fd, 511) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", l->text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Make sure every (listener, slot) of conf has a socket, reusing the ones
 * we have so that no queued connection is lost across a reload. */
static int
setup_listeners(const struct conf *cf, char *err, size_t errlen)
{
	for (struct lsock *l = P.lsocks; l; l = l->next)
		l->used = false;
	for (size_t i = 0; i < cf->n_listens; i++) {
		for (unsigned s = 0; s < cf->workers; s++) {
			struct lsock *found = NULL;
			for (struct lsock *l = P.lsocks; l; l = l->next)
				if (l->slot == s && l->addrlen == cf->listens[i].addrlen &&
				    memcmp(&l->addr, &cf->listens[i].addr, l->addrlen) == 0)
					found = l;
			if (found == NULL) {
				int fd = bind_one(&cf->listens[i], err, errlen);
				if (fd < 0)
					return -1;
				found = xcalloc(1, sizeof *found);
				found->addr = cf->listens[i].addr;
				found->addrlen = cf->listens[i].addrlen;
				found->slot = s;
				found->fd = fd;
				found->next = P.lsocks;
				P.lsocks = found;
				log_info("parent event=listen addr=%s worker=%u tls=%s", cf->listens[i].text, s,
				    cf->listens[i].tls == CONF_TLS_IMPLICIT ? "implicit" :
				    cf->listens[i].tls == CONF_TLS_STARTTLS ? "starttls" : "none");
			}
			found->used = true;
		}
	}
	return 0;
}

static void
close_unused_listeners(void)
{
	struct lsock **pp = &P.lsocks;
	while (*pp) {
		struct lsock *l = *pp;
		if (!l->used) {
			close(l->fd);
			*pp = l->next;
			free(l);
		} else {
			pp = &l->next;
		}
	}
}

/* --- config generations ---------------------------------------------------- */

static void
gen_free(struct gen **gp)
{
	struct gen *g = *gp;
	if (g == NULL)
		return;
	conf_free(&g->conf);
	users_free(&g->users);
	aliases_free(&g->aliases);
	if (g->tls)
		SSL_CTX_free(g->tls);
	free(g);
	*gp = NULL;
}

/* Load config and every file it names.  On error: NULL, problems in d. */
static struct gen *
gen_load(const char *path, struct diag *d)
{
	struct gen *g = xcalloc(1, sizeof *g);
	g->conf = conf_load(path, d);
	if (g->conf == NULL || d->n_err > 0)
		goto fail;
	users_load(g->conf->users, &g->users, d);
	aliases_load(g->conf->aliases, &g->aliases, d);
	if (d->n_err > 0)
		goto fail;
	aliases_check(&g->aliases, &g->users, (const char *const *)g->conf->domains,
	    g->conf->n_domains, g->conf->aliases, d);
	if (d->n_err > 0)
		goto fail;
	/* the smtp workers need names only; hashes stay with auth */
	users_forget_hashes(&g->users);
	bool need_tls = false;
	for (size_t i = 0; i < g->conf->n_listens; i++)
		if (g->conf->listens[i].tls != CONF_TLS_NONE)
			need_tls = true;
	if (need_tls) {
		char err[512];
		g->tls = tls_server_ctx(g->conf->tls_cert, g->conf->tls_key, err, sizeof err);
		if (g->tls == NULL) {
			diag_err(d, g->conf->file, 0, "%s", err);
			goto fail;
		}
	}
	g->id = ++P.next_gen;
	return g;
fail:
	gen_free(&g);
	return NULL;
}

static void
reload(void)
{
	struct diag d;
	diag_init(&d);
	struct gen *g = gen_load(P.conf_path, &d);
	if (g == NULL) {
		/* keep running with what we have */
		const char *t = diag_text(&d);
		log_err("parent event=reload result=fail errors=%u (keeping the old config)", d.n_err);
		while (*t) {
			const char *nl = strchr(t, '\n');
			int n = nl ? (int)(nl - t) : (int)strlen(t);
			log_err("parent event=reload problem=\"%.*s\"", n, t);
			t += n + (nl ? 1 : 0);
		}
		diag_free(&d);
		return;
	}
	diag_free(&d);
	char err[256];
	if (setup_listeners(g->conf, err, sizeof err) < 0) {
		log_err("parent event=reload result=fail error=\"%s\" (keeping the old config)", err);
		setup_listeners(P.g->conf, err, sizeof err);	/* re-mark the old set */
		gen_free(&g);
		return;
	}
	struct gen *old = P.g;
	P.g = g;
	/* old workers stop accepting and finish their sessions; new ones
	 * take over the same sockets at once */
	uint32_t grace = old->conf->data_timeout > old->conf->cmd_timeout ?
	    old->conf->data_timeout : old->conf->cmd_timeout;
	for (struct child *c = P.children; c; c = c->next) {
		if (c->kind == C_SMTP && !c->draining) {
			c->draining = true;
			if (c->ipc)
				ipc_send(c->ipc, MSG_STOP, 0, -1, &grace, sizeof grace);
		}
	}
	for (unsigned s = 0; s < g->conf->workers; s++)
		spawn_worker(s);
	close_unused_listeners();
	gen_free(&old);
	log_info("parent event=reload result=ok generation=%u workers=%u", g->id, g->conf->workers);
}

static void
hard_stop_cb(struct loop *l, void *arg)
{
	for (struct child *c = P.children; c; c = c->next) {
		log_warn("parent event=kill pid=%d reason=\"did not stop in time\"", (int)c->pid);
		kill(c->pid, SIGKILL);
	}
}

static void
begin_stop(const char *why)
{
	if (P.stopping)
		return;
	P.stopping = true;
	uint32_t grace = P.g->conf->shutdown_grace;
	log_info("parent event=stop reason=%s grace=%u", why, grace);
	for (struct child *c = P.children; c; c = c->next) {
		if (c->kind == C_SMTP && c->ipc) {
			c->draining = true;
			ipc_send(c->ipc, MSG_STOP, 0, -1, &grace, sizeof grace);
		}
	}
	/* the sockets close with us; nothing new is accepted meanwhile */
	timer_set(P.loop, &P.hard_stop, (uint64_t)(grace + 15) * 1000);
	reap();
}

static void
signal_cb(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap();
			break;
		case SIGHUP:
			if (!P.stopping) {
				log_info("parent event=reload reason=SIGHUP");
				reload();
			}
			break;
		case SIGTERM:
			begin_stop("SIGTERM");
			break;
		case SIGINT:
			begin_stop("SIGINT");
			break;
		}
	}
	reap();
}

/* --- directories ------------------------------------------------------------ */

static int
open_owned_dir(const char *path, uid_t uid, gid_t gid)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		fatal("parent: cannot create %s: %s", path, strerror(errno));
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fatal("parent: cannot open %s: %s", path, strerror(errno));
	if (P.is_root && fchown(fd, uid, gid) < 0)
		fatal("parent: cannot chown %s: %s", path, strerror(errno));
	return fd;
}

/* Spool subdirectories may have been created by an earlier run as
 * another user: give them to the queue user too. */
static void
chown_sub(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	if (!P.is_root)
		return;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		if (fchown(fd, uid, gid) < 0)
			log_warn("parent: cannot chown spool/%s: %s", name, strerror(errno));
		close(fd);
	}
}

static void
lookup_user(const char *name, const char *dflt, uid_t *uid, gid_t *gid)
{
	const char *n = name ? name : dflt;
	struct passwd *pw = getpwnam(n);
	if (pw == NULL)
		fatal("parent: user %s does not exist; create it with "
		    "'adduser --system --group --no-create-home %s' (scripts/install-deps.sh does)",
		    n, n);
	if (pw->pw_uid == 0)
		fatal("parent: user %s is root; children must not run as root", n);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
}

static void
write_pidfile(const struct conf *cf)
{
	char *path = xasprintf("%s/talon.pid", cf->state);
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	} else {
		log_warn("parent: cannot write %s: %s", path, strerror(errno));
	}
	free(path);
}

int
talon_serve(const char *conf_path, bool debug)
{
	struct diag d;
	memset(&P, 0, sizeof P);
	P.conf_path = conf_path;
	diag_init(&d);
	P.g = gen_load(conf_path, &d);
	if (P.g == NULL || d.n_err > 0) {
		fputs(diag_text(&d), stderr);
		fprintf(stderr, "talon: %u error(s) in the configuration, not starting\n", d.n_err);
		diag_free(&d);
		return 1;
	}
	if (d.n_warn)
		fputs(diag_text(&d), stderr);
	diag_free(&d);
	const struct conf *cf = P.g->conf;
	log_init("parent", cf->log_stderr, cf->log_syslog);
	log_set_debug(debug);

	/* every connection is a descriptor: take what the hard limit allows */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	P.is_root = geteuid() == 0;
	if (P.is_root) {
		lookup_user(cf->run_as, "_talon", &P.smtp_uid, &P.smtp_gid);
		lookup_user(cf->queue_user, "_talonq", &P.queue_uid, &P.queue_gid);
		lookup_user(cf->deliver_user, "_talonmail", &P.deliver_uid, &P.deliver_gid);
	} else {
		P.smtp_uid = P.queue_uid = P.deliver_uid = getuid();
		P.smtp_gid = P.queue_gid = P.deliver_gid = getgid();
	}
	P.spool_fd = open_owned_dir(cf->spool, P.queue_uid, P.queue_gid);
	chown_sub(P.spool_fd, "tmp", P.queue_uid, P.queue_gid);
	chown_sub(P.spool_fd, "queue", P.queue_uid, P.queue_gid);
	chown_sub(P.spool_fd, "corrupt", P.queue_uid, P.queue_gid);
	P.store_fd = open_owned_dir(cf->store, P.deliver_uid, P.deliver_gid);
	int state_fd = open_owned_dir(cf->state, getuid(), getgid());
	close(state_fd);
	/* smtp workers need no files after fork: chroot them into an empty
	 * directory only root can write.  Not in the sanitizer build: there
	 * LeakSanitizer must read /proc when a worker exits, and the tests
	 * check the chroot with the release build instead. */
	if (P.is_root && !TALON_SANITIZER_BUILD) {
		P.jail = xasprintf("%s/empty", cf->state);
		if (mkdir(P.jail, 0755) < 0 && errno != EEXIST)
			fatal("parent: cannot create %s: %s", P.jail, strerror(errno));
		struct stat st;
		if (lstat(P.jail, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
		    (st.st_mode & 022) != 0)
			fatal("parent: %s must be a directory owned by root, writable only by root",
			    P.jail);
	}

	P.loop = loop_new();
	if (P.loop == NULL)
		fatal("parent: cannot create event loop");
	char err[256];
	if (setup_listeners(cf, err, sizeof err) < 0)
		fatal("parent: %s", err);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	P.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (P.sigfd < 0 || loop_add(P.loop, P.sigfd, LOOP_READ, signal_cb, NULL) < 0)
		fatal("parent: signalfd: %s", strerror(errno));
	timer_init(&P.respawn, respawn_cb, NULL);
	timer_init(&P.hard_stop, hard_stop_cb, NULL);

	write_pidfile(cf);
	log_info("parent event=start config=%s hostname=%s workers=%u user=%s jail=%s", conf_path,
	    cf->hostname, cf->workers, P.is_root ? "root" : "invoking", P.jail ? P.jail : "none");
	P.queue_wanted = true;
	spawn_deliver();
	spawn_queue();
	for (unsigned s = 0; s < cf->workers; s++)
		spawn_worker(s);
	loop_run(P.loop);
	log_info("parent event=exit");
	for (struct lsock *l = P.lsocks; l; l = l->next)
		close(l->fd);
	gen_free(&P.g);
	free(P.jail);
	return 0;
}

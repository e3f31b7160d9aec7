/*
 * daemon/parent.c - `talon serve`: the supervising parent process.
 *
 * Holds:   the config generation in force, the listening sockets
 *          (daemon/listen.c), directory descriptors for spool and store,
 *          the TLS context (loaded here, inherited by the smtp workers),
 *          the role table (daemon/role.c) and the control socket
 *          (daemon/control.c).
 * Does:    starts every role, restarts a child that dies, reloads by
 *          generation (SIGHUP or `talon reload`), answers `talon status`,
 *          stops on SIGTERM/SIGINT in order.
 * Never:   parses a byte from the network or from a child (a child that
 *          sends anything is killed); exits because of a child.
 * Runs as: root (to bind and to open what children may not), or the
 *          invoking user; children drop to their own users.
 */
#include "daemon/parent.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/compat.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/tls.h"
#include "core/util.h"
#include "daemon/control.h"
#include "daemon/listen.h"
#include "daemon/role.h"
#include "daemon/zones.h"
#include "mail/conf.h"
#include "mail/users.h"

static struct {
	struct loop *loop;
	const char *conf_path;
	struct gen *g;
	struct role_env env;
	int sigfd;
	bool stopping;
	unsigned next_gen;
	struct timer hard_stop;
	char *jail;
} P;

/* --- config generations ---------------------------------------------------- */

static void
gen_free(struct gen **gp)
{
	struct gen *g = *gp;
	if (g == NULL)
		return;
	zones_free(g);
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
gen_load(const char *path, const struct gen *old, struct diag *d)
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
	/* every imap listener has TLS (conf.c refuses one without) */
	if (g->conf->n_imap_listens > 0)
		need_tls = true;
	if (need_tls) {
		char err[512];
		g->tls = tls_server_ctx(g->conf->tls_cert, g->conf->tls_key, err, sizeof err);
		if (g->tls == NULL) {
			diag_err(d, g->conf->file, 0, "%s", err);
			goto fail;
		}
	}
	zones_load(g, old);
	return g;
fail:
	gen_free(&g);
	return NULL;
}

/* Settings a running daemon cannot change: its directories were opened
 * and its children's users chosen at start. */
static void
restart_only(const struct conf *old, const struct conf *nw, struct diag *d)
{
	static const struct { const char *name; size_t off; } paths[] = {
		{ "spool", offsetof(struct conf, spool) },
		{ "store", offsetof(struct conf, store) },
		{ "state", offsetof(struct conf, state) },
		{ "control", offsetof(struct conf, control) },
		{ "run-as", offsetof(struct conf, run_as) },
		{ "queue-user", offsetof(struct conf, queue_user) },
		{ "deliver-user", offsetof(struct conf, deliver_user) },
		{ "policy-user", offsetof(struct conf, policy_user) },
		{ "dns-user", offsetof(struct conf, dns_user) },
		{ "admin-group", offsetof(struct conf, admin_group) },
	};
	for (size_t i = 0; i < NELEM(paths); i++) {
		const char *a = *(char *const *)(const void *)((const char *)old + paths[i].off);
		const char *b = *(char *const *)(const void *)((const char *)nw + paths[i].off);
		if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
			diag_err(d, nw->file, 0, "%s changed from %s to %s: that needs a restart "
			    "(talon keeps running with the old config)", paths[i].name,
			    a ? a : "(default)", b ? b : "(default)");
	}
	bool same = old->n_dns_listens == nw->n_dns_listens;
	for (size_t i = 0; same && i < nw->n_dns_listens; i++)
		same = strcmp(old->dns_listens[i].text, nw->dns_listens[i].text) == 0;
	if (!same)
		diag_err(d, nw->file, 0, "listen dns changed: that needs a restart (talon keeps "
		    "running with the old config)");
	if (old->log_stderr != nw->log_stderr || old->log_syslog != nw->log_syslog ||
	    strcmp(old->log_path, nw->log_path) != 0)
		diag_err(d, nw->file, 0, "log changed: that needs a restart (talon keeps running "
		    "with the old config)");
}

/* Load and put in force a new generation.  0, or -1 with the problems in
 * out (the old generation keeps running). */
static int
reload(struct buf *out)
{
	struct diag d;
	diag_init(&d);
	struct gen *g = gen_load(P.conf_path, P.g, &d);
	if (g != NULL)
		restart_only(P.g->conf, g->conf, &d);
	char err[256];
	if (g != NULL && d.n_err == 0 && listen_setup(g->conf, err, sizeof err) < 0) {
		diag_err(&d, g->conf->file, 0, "%s", err);
		listen_setup(P.g->conf, err, sizeof err);	/* re-mark the old set */
	}
	if (g == NULL || d.n_err > 0) {
		const char *t = diag_text(&d);
		log_err("parent event=reload result=fail errors=%u (keeping generation %u)", d.n_err,
		    P.g->id);
		buf_printf(out, "reload failed, generation %u stays in force:\n%s", P.g->id, t);
		while (*t) {
			const char *nl = strchr(t, '\n');
			int n = nl ? (int)(nl - t) : (int)strlen(t);
			log_err("parent event=reload problem=\"%.*s\"", n, t);
			t += n + (nl ? 1 : 0);
		}
		gen_free(&g);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	g->id = ++P.next_gen;
	struct gen *old = P.g;
	P.g = g;
	roles_reload(g);
	listen_close_unused();
	gen_free(&old);
	log_info("parent event=reload result=ok generation=%u workers=%u", g->id, g->conf->workers);
	buf_printf(out, "generation %u in force\n", g->id);
	return 0;
}

/* --- control commands -------------------------------------------------------- */

static int
control_cmd(int argc, char **argv, struct buf *out, uint64_t token)
{
	if (strcmp(argv[0], "ban") == 0 && argc >= 2) {
		/* the ban table is the policy process's: it answers */
		char line[CONTROL_LINE_MAX + 1] = "";
		for (int i = 1; i < argc; i++) {
			size_t o = strlen(line);
			snprintf(line + o, sizeof line - o, "%s%s", i > 1 ? " " : "", argv[i]);
		}
		if (roles_policy_ctl(token, line) < 0) {
			buf_puts(out, "the policy process is not running (try again in a moment)");
			return -1;
		}
		return CONTROL_DEFER;
	}
	if (strcmp(argv[0], "reload") == 0 && argc == 1) {
		if (P.stopping) {
			buf_puts(out, "the daemon is stopping");
			return -1;
		}
		return reload(out);
	}
	if (strcmp(argv[0], "status") == 0 && (argc == 1 ||
	    (argc == 2 && strcmp(argv[1], "--json") == 0))) {
		roles_status(out, argc == 2);
		return 0;
	}
	if (strcmp(argv[0], "zones") == 0 && argc == 1) {
		/* what `talon zone check` compares a new serial with */
		for (size_t i = 0; i < P.g->n_zones; i++) {
			const struct gen_zone *z = &P.g->zones[i];
			buf_printf(out, "%s %u %zu ", z->origin, z->serial, z->records);
			for (size_t k = 0; k < sizeof z->digest; k++)
				buf_printf(out, "%02x", z->digest[k]);
			buf_putc(out, '\n');
		}
		return 0;
	}
	buf_puts(out, "unknown request (expected \"reload\", \"status\", \"status --json\", "
	    "\"zones\" or \"ban ...\")");
	return -1;
}

/* --- signals ------------------------------------------------------------------ */

static void
hard_stop_cb(struct loop *l, void *arg)
{
	roles_kill_all();
}

static void
begin_stop(const char *why)
{
	if (P.stopping)
		return;
	P.stopping = true;
	uint32_t grace = P.g->conf->shutdown_grace;
	log_info("parent event=stop reason=%s grace=%u", why, grace);
	/* the sockets close with us; nothing new is accepted meanwhile */
	timer_set(P.loop, &P.hard_stop, (uint64_t)(grace + 15) * 1000);
	roles_stop(grace);
}

static void
signal_cb(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			roles_reap();
			break;
		case SIGHUP:
			if (!P.stopping) {
				struct buf out;
				buf_init(&out, 1 << 20);
				log_info("parent event=reload reason=SIGHUP");
				reload(&out);
				buf_free(&out);
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
	roles_reap();
}

/* --- directories and users ------------------------------------------------- */

static int
open_owned_dir(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		fatal("parent: cannot create %s: %s", path, strerror(errno));
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fatal("parent: cannot open %s: %s", path, strerror(errno));
	if (P.env.is_root && (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0))
		fatal("parent: cannot give %s to its user: %s", path, strerror(errno));
	return fd;
}

/* Spool subdirectories may have been created by an earlier run as
 * another user: give them to the queue user too. */
static void
chown_sub(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	if (!P.env.is_root)
		return;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		if (fchown(fd, uid, gid) < 0)
			log_warn("parent: cannot chown spool/%s: %s", name, strerror(errno));
		close(fd);
	}
}

static void
lookup_user(const char *n, uid_t *uid, gid_t *gid)
{
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
	P.g = gen_load(conf_path, NULL, &d);
	if (P.g == NULL || d.n_err > 0) {
		fputs(diag_text(&d), stderr);
		fprintf(stderr, "talon: %u error(s) in the configuration, not starting\n", d.n_err);
		diag_free(&d);
		return 1;
	}
	if (d.n_warn)
		fputs(diag_text(&d), stderr);
	diag_free(&d);
	P.g->id = ++P.next_gen;
	const struct conf *cf = P.g->conf;
	log_init("parent", cf->log_stderr, cf->log_syslog ? cf->log_path : NULL);
	log_set_debug(debug);

	/* every connection is a descriptor: take what the hard limit allows */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	P.env.is_root = geteuid() == 0;
	for (unsigned r = 0; r < ROLE_COUNT; r++) {
		if (P.env.is_root) {
			lookup_user(role_user_name(cf, r), &P.env.uid[r], &P.env.gid[r]);
		} else {
			P.env.uid[r] = getuid();
			P.env.gid[r] = getgid();
		}
	}
	long admin_gid = -1;
	if (cf->admin_group != NULL) {
		struct group *gr = getgrnam(cf->admin_group);
		if (gr == NULL)
			fatal("parent: admin-group %s does not exist", cf->admin_group);
		admin_gid = (long)gr->gr_gid;
	}
	P.env.spool_fd = open_owned_dir(cf->spool, P.env.uid[ROLE_QUEUE], P.env.gid[ROLE_QUEUE],
	    0700);
	chown_sub(P.env.spool_fd, "tmp", P.env.uid[ROLE_QUEUE], P.env.gid[ROLE_QUEUE]);
	chown_sub(P.env.spool_fd, "queue", P.env.uid[ROLE_QUEUE], P.env.gid[ROLE_QUEUE]);
	chown_sub(P.env.spool_fd, "corrupt", P.env.uid[ROLE_QUEUE], P.env.gid[ROLE_QUEUE]);
	chown_sub(P.env.spool_fd, "results", P.env.uid[ROLE_QUEUE], P.env.gid[ROLE_QUEUE]);
	chown_sub(P.env.spool_fd, "expired", P.env.uid[ROLE_QUEUE], P.env.gid[ROLE_QUEUE]);
	P.env.store_fd = open_owned_dir(cf->store, P.env.uid[ROLE_DELIVER],
	    P.env.gid[ROLE_DELIVER], 0700);
	/* 0711: the control socket inside must be reachable for admin-group
	 * members (who are then told yes or no by SO_PEERCRED) */
	int state_fd = open_owned_dir(cf->state, getuid(), getgid(), 0711);
	close(state_fd);
	/* the policy process's own directory: its SQLite files (greylist,
	 * bans), which no other process reads */
	char *pdir = xasprintf("%s/policy", cf->state);
	close(open_owned_dir(pdir, P.env.uid[ROLE_POLICY], P.env.gid[ROLE_POLICY], 0700));
	free(pdir);
	/* smtp workers need no files after fork: chroot them into an empty
	 * directory only root can write.  Not in the sanitizer build: there
	 * LeakSanitizer must read /proc when a worker exits, and the tests
	 * check the chroot with the release build instead. */
	if (P.env.is_root && !TALON_SANITIZER_BUILD) {
		P.jail = xasprintf("%s/empty", cf->state);
		if (mkdir(P.jail, 0755) < 0 && errno != EEXIST)
			fatal("parent: cannot create %s: %s", P.jail, strerror(errno));
		struct stat st;
		if (lstat(P.jail, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
		    (st.st_mode & 022) != 0)
			fatal("parent: %s must be a directory owned by root, writable only by root",
			    P.jail);
		P.env.jail = P.jail;
	}

	P.loop = loop_new();
	if (P.loop == NULL)
		fatal("parent: cannot create event loop");
	char err[256];
	if (listen_setup(cf, err, sizeof err) < 0)
		fatal("parent: %s", err);
	if (control_open(P.loop, cf->control, admin_gid, control_cmd, err, sizeof err) < 0)
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
	timer_init(&P.hard_stop, hard_stop_cb, NULL);

	write_pidfile(cf);
	log_info("parent event=start config=%s hostname=%s workers=%u user=%s jail=%s control=%s",
	    conf_path, cf->hostname, cf->workers, P.env.is_root ? "root" : "invoking",
	    P.jail ? P.jail : "none", cf->control);
	roles_init(P.loop, &P.env, P.g);
	roles_start();
	loop_run(P.loop);
	log_info("parent event=exit");
	control_close();
	listen_close_all();
	gen_free(&P.g);
	free(P.jail);
	return 0;
}

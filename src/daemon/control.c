/*
 * daemon/control.c - the control socket server (protocol in control.h).
 *
 * Input:   one request line from a local process; the caller may be any
 *          local user, so the line is read with a hard cap and a deadline,
 *          split only on spaces, and never reaches a shell or a path.
 * Output:  "ok"/"error: ..." and a body.  A caller that is not allowed
 *          gets "error: permission denied" and nothing runs.
 * Trusts:  the kernel's SO_PEERCRED.  Runs in: parent.
 */
#include "daemon/control.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

/* Connections at once, counted apart for callers who may use the socket
 * and for those who may not: a local user holding connections open can
 * fill only the second kind and never locks root out. */
#define CONTROL_CONNS_MAX	16
#define CONTROL_TIMEOUT_MS	5000
#define CONTROL_ARGS_MAX	16

struct cconn {
	struct cconn *next;
	int fd;
	uid_t uid;
	bool allowed;
	bool replying;
	bool draining;		/* answered: read and drop input until EOF */
	uint64_t token;		/* a deferred request's, 0 when none */
	char in[CONTROL_LINE_MAX + 1];
	size_t in_len;
	struct buf out;
	struct timer timer;
};

static struct {
	struct loop *loop;
	int fd;
	char *path;
	long admin_gid;
	control_fn fn;
	struct cconn *conns;
	unsigned n_conns[2];	/* [allowed] */
	time_t full_logged;
	uint64_t next_token;
} C = { .fd = -1 };

static void
cconn_free(struct cconn *cc)
{
	struct cconn **pp = &C.conns;
	while (*pp && *pp != cc)
		pp = &(*pp)->next;
	if (*pp)
		*pp = cc->next;
	timer_cancel(C.loop, &cc->timer);
	loop_del(C.loop, cc->fd);
	close(cc->fd);
	buf_free(&cc->out);
	C.n_conns[cc->allowed]--;
	free(cc);
}

/* root, the user the daemon runs as, or a member of admin-group */
static bool
allowed(uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == getuid())
		return true;
	if (C.admin_gid < 0)
		return false;
	if (gid == (gid_t)C.admin_gid)
		return true;
	struct passwd *pw = getpwuid(uid);
	if (pw == NULL)
		return false;
	gid_t groups[256];
	int n = (int)NELEM(groups);
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == (gid_t)C.admin_gid)
			return true;
	return false;
}

static void
flush(struct cconn *cc)
{
	while (cc->out.len > 0) {
		ssize_t w = send(cc->fd, cc->out.data, cc->out.len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				loop_mod(C.loop, cc->fd, LOOP_WRITE);
				return;
			}
			break;
		}
		buf_consume(&cc->out, (size_t)w);
	}
	if (cc->out.len > 0) {	/* the caller went away */
		cconn_free(cc);
		return;
	}
	/* all written: end our side, then wait for the caller's EOF while
	 * dropping what it still sends (closing with unread input would
	 * reset the connection and could lose the answer); the timer ends
	 * a caller that never closes */
	shutdown(cc->fd, SHUT_WR);
	cc->replying = false;
	cc->draining = true;
	loop_mod(C.loop, cc->fd, LOOP_READ);
}

static void
answer(struct cconn *cc, int ok, struct buf *body)
{
	cc->replying = true;
	buf_reset(&cc->out);
	if (ok == 0)
		buf_puts(&cc->out, "ok\n");
	else
		buf_puts(&cc->out, "error: ");
	buf_append(&cc->out, body->data, body->len);
	if (body->len == 0 || body->data[body->len - 1] != '\n')
		buf_putc(&cc->out, '\n');
	flush(cc);
}

static void
run(struct cconn *cc)
{
	char *argv[CONTROL_ARGS_MAX + 1];
	int argc = 0;
	struct buf body;
	buf_init(&body, 1 << 20);
	char esc[CONTROL_LINE_MAX * 4 + 1];
	log_escape(esc, sizeof esc, cc->in, cc->in_len);
	if (!cc->allowed) {
		log_warn("parent event=control uid=%u request=\"%s\" result=refused reason=\"not "
		    "root, not the daemon's user, not in admin-group\"", (unsigned)cc->uid, esc);
		buf_puts(&body, "permission denied: the control socket answers root, the daemon's "
		    "user and members of admin-group only");
		answer(cc, -1, &body);
		buf_free(&body);
		return;
	}
	for (size_t i = 0; i < cc->in_len; i++) {
		unsigned char ch = (unsigned char)cc->in[i];
		if (ch < 0x20 || ch >= 0x7f) {
			buf_puts(&body, "request holds a control or non-ASCII byte");
			log_warn("parent event=control uid=%u request=\"%s\" result=refused",
			    (unsigned)cc->uid, esc);
			answer(cc, -1, &body);
			buf_free(&body);
			return;
		}
	}
	cc->in[cc->in_len] = '\0';
	for (char *p = cc->in; *p && argc < CONTROL_ARGS_MAX;) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	argv[argc] = NULL;
	int ok;
	if (argc == 0) {
		buf_puts(&body, "empty request");
		ok = -1;
	} else {
		uint64_t token = ++C.next_token;
		ok = C.fn(argc, argv, &body, token);
		if (ok == CONTROL_DEFER) {
			/* the answer comes through control_finish; input that
			 * arrives meanwhile is not a second request */
			cc->token = token;
			cc->replying = true;
			loop_mod(C.loop, cc->fd, 0);
			log_info("parent event=control uid=%u request=\"%s\" result=forwarded",
			    (unsigned)cc->uid, esc);
			buf_free(&body);
			return;
		}
	}
	log_info("parent event=control uid=%u request=\"%s\" result=%s", (unsigned)cc->uid, esc,
	    ok == 0 ? "ok" : "error");
	if (body.err) {
		buf_reset(&body);
		buf_puts(&body, "reply too large");
		ok = -1;
	}
	answer(cc, ok, &body);
	buf_free(&body);
}

void
control_finish(uint64_t token, int ok, const char *body, size_t len)
{
	struct cconn *cc = C.conns;
	while (cc != NULL && (token == 0 || cc->token != token))
		cc = cc->next;
	if (cc == NULL)
		return;		/* the caller gave up, or the token is not ours */
	cc->token = 0;
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_append(&b, body, len);
	answer(cc, ok, &b);
	buf_free(&b);
}

static void
conn_event(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct cconn *cc = arg;
	if (cc->replying) {
		flush(cc);
		return;
	}
	if (cc->draining) {
		char junk[4096];
		ssize_t n;
		while ((n = recv(fd, junk, sizeof junk, 0)) > 0)
			;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			cconn_free(cc);
		return;
	}
	for (;;) {
		ssize_t n = recv(fd, cc->in + cc->in_len, CONTROL_LINE_MAX - cc->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			cconn_free(cc);
			return;
		}
		char *nl = memchr(cc->in + cc->in_len, '\n', (size_t)n);
		cc->in_len += (size_t)n;
		if (nl != NULL) {
			cc->in_len = (size_t)(nl - cc->in);
			if (cc->in_len > 0 && cc->in[cc->in_len - 1] == '\r')
				cc->in_len--;	/* CRLF, as a telnet-like client sends */
			run(cc);
			return;
		}
		if (cc->in_len >= CONTROL_LINE_MAX) {
			struct buf b;
			buf_init(&b, 256);
			buf_printf(&b, "request longer than %d bytes", CONTROL_LINE_MAX);
			answer(cc, -1, &b);
			buf_free(&b);
			return;
		}
	}
}

static void
conn_timeout(struct loop *l, void *arg)
{
	cconn_free(arg);
}

static void
accept_cb(struct loop *l, int lfd, unsigned ev, void *arg)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct ucred cr;
		socklen_t crl = sizeof cr;
		/* decided now, told after the request is read: closing with
		 * unread input would reset the connection before the client
		 * sees why */
		bool have = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0;
		bool ok = have && allowed(cr.uid, cr.gid);
		if (C.n_conns[ok] >= CONTROL_CONNS_MAX) {
			time_t now = time(NULL);
			if (now != C.full_logged) {
				C.full_logged = now;
				log_warn("parent event=control uid=%u result=dropped reason=\"%d %s "
				    "connections open\"", have ? (unsigned)cr.uid : 0u,
				    CONTROL_CONNS_MAX, ok ? "admin" : "refused");
			}
			close(fd);
			continue;
		}
		struct cconn *cc = xcalloc(1, sizeof *cc);
		cc->fd = fd;
		cc->uid = have ? cr.uid : (uid_t)-1;
		cc->allowed = ok;
		buf_init(&cc->out, 2u << 20);
		timer_init(&cc->timer, conn_timeout, cc);
		cc->next = C.conns;
		C.conns = cc;
		C.n_conns[ok]++;
		if (loop_add(C.loop, fd, LOOP_READ, conn_event, cc) < 0) {
			cconn_free(cc);
			continue;
		}
		timer_set(C.loop, &cc->timer, CONTROL_TIMEOUT_MS);
	}
}

int
control_open(struct loop *l, const char *path, long admin_gid, control_fn fn, char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "control socket path %s is too long (at most %zu bytes)", path,
		    sizeof sun.sun_path - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* a live daemon answers there: do not steal its socket */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
		close(probe);
		close(fd);
		snprintf(err, errlen, "another talon answers on %s", path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	/* anyone may connect; SO_PEERCRED decides who is answered, so that
	 * the refusal is a clear message and not a bare EACCES */
	mode_t old = umask(0);
	int r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (r < 0 || chmod(path, 0666) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (loop_add(l, fd, LOOP_READ, accept_cb, NULL) < 0) {
		snprintf(err, errlen, "cannot watch %s", path);
		close(fd);
		return -1;
	}
	C.loop = l;
	C.fd = fd;
	C.path = xstrdup(path);
	C.admin_gid = admin_gid;
	C.fn = fn;
	return 0;
}

void
control_close(void)
{
	while (C.conns)
		cconn_free(C.conns);
	if (C.fd >= 0) {
		loop_del(C.loop, C.fd);
		close(C.fd);
		unlink(C.path);
	}
	C.fd = -1;
	free(C.path);
	C.path = NULL;
}

/*
 * imap/server.c - the imap process: listeners, sessions, and the I/O
 * driver of one session.
 *
 * Input:   bytes from the network (untrusted), framed by imap/parse.h:
 *          lower limits before login (8 KiB lines and literals, LITERAL-),
 *          2 MiB lines after; AUTH_RESULT from the auth process, PEER and
 *          STOP from the parent.
 * Output:  replies, written when the input runs dry; AUTH_CHECK and the
 *          SCRAM requests (with the tls-exporter data of the connection).
 * Trusts:  nothing a client sends; the auth process's answers as far as
 *          their decoder checks them.
 * Runs in: imap, user _talonimap, chrooted into an empty directory: this
 *          stage needs no file at all.  The process that will read
 *          mailboxes is not this one: after login, the next stage hands
 *          the session to a process that runs as the store's owner, so
 *          the pre-login parser never runs where mail is readable (as
 *          Dovecot's imap-login does).
 */
#include "imap/imap.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/prefix.h"
#include "core/util.h"
#include "imap/session.h"
#include "mail/conf.h"
#include "proto/imap_auth.h"
#include "proto/imap_mailbox.h"
#include "proto/parent.h"
#include "proto/smtp_policy.h"

struct imap_worker IW;

/* --- replies ----------------------------------------------------------------- */

void
imap_reply(struct isession *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	io_vline(&s->io, fmt, ap);
	va_end(ap);
}

void
imap_tagged(struct isession *s, const char *tag, const char *fmt, ...)
{
	char text[1800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	imap_reply(s, "%s %s", tag, text);
}

bool
imap_scram_plus_ok(const struct isession *s)
{
	SSL *ssl = s->io.ssl;
	return s->is_tls && ssl != NULL && (SSL_version(ssl) >= TLS1_3_VERSION ||
	    SSL_get_extms_support(ssl) == 1);
}

/* What the client may use now (RFC 9051 7.2.2): nothing that sends a
 * password before TLS (LOGINDISABLED), SASL-IR and the mechanisms after.
 * SCRAM only while some account has SCRAM keys (AUTH_STATE: SASL
 * libraries pick it whenever it is offered), -PLUS only where the
 * exporter is sound. */
void
imap_capability(struct isession *s, char *out, size_t n)
{
	if (!s->is_tls)
		snprintf(out, n, "IMAP4rev2 IMAP4rev1 STARTTLS LOGINDISABLED LITERAL- ID ENABLE");
	else if (!s->authed)
		snprintf(out, n, "IMAP4rev2 IMAP4rev1 AUTH=PLAIN AUTH=LOGIN SASL-IR%s%s "
		    "LITERAL- ID ENABLE", IW.scram_on ? " AUTH=SCRAM-SHA-256" : "",
		    IW.scram_on && imap_scram_plus_ok(s) ? " AUTH=SCRAM-SHA-256-PLUS" : "");
	else
		snprintf(out, n, "IMAP4rev2 IMAP4rev1 LITERAL+ ID ENABLE");
}

static void
greet(struct isession *s)
{
	char cap[256];
	imap_capability(s, cap, sizeof cap);
	imap_reply(s, "* OK [CAPABILITY %s] %s Talon IMAP ready", cap, IW.conf->hostname);
	s->st = I_CMD;
}

/* --- sessions ------------------------------------------------------------------ */

static void
session_free(struct isession *s)
{
	log_info("imap session=%s event=disconnect client=[%s] user=%s%s%s", s->sid, s->ip,
	    s->authed ? s->user : "-", s->io.error ? " error=" : "",
	    s->io.error ? s->io.errstr : "");
	sasl_creds_wipe(&s->login.c);
	imap_scram_abort(s);
	OPENSSL_cleanse(s->scram_token, sizeof s->scram_token);
	timer_cancel(IW.loop, &s->timer);
	loop_del(IW.loop, s->io.fd);
	io_close(&s->io);
	if (s->pipe.fd >= 0) {
		loop_del(IW.loop, s->pipe.fd);
		io_close(&s->pipe);
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		IW.sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	IW.n_sessions--;
	free(s);
	if (IW.draining && IW.n_sessions == 0)
		loop_stop(IW.loop);
}

void
imap_begin_tls(struct isession *s)
{
	s->starttls_pending = false;
	if (io_start_tls(&s->io, IW.tls) < 0) {
		log_warn("imap session=%s event=tls error=\"%s\"", s->sid, s->io.errstr);
		s->io.error = true;
		return;
	}
	/* RFC 9051 11.1: what the client pipelined in clear text is gone */
	imap_scan_init(&s->scan);
	s->st = I_HANDSHAKE;
}

static void
handshake(struct isession *s)
{
	int r = io_handshake(&s->io);
	if (r == 0)
		return;
	if (r < 0) {
		log_info("imap session=%s event=tls result=fail error=\"%s\"", s->sid, s->io.errstr);
		s->io.error = true;
		return;
	}
	s->is_tls = true;
	log_info("imap session=%s event=tls result=ok", s->sid);
	if (s->lis->tls == CONF_TLS_IMPLICIT)
		greet(s);
	else
		s->st = I_CMD;
}

/* A BAD: the client gets a few, then it is cut off (a client that sends
 * garbage in a loop does not keep a slot). */
static void
bad(struct isession *s, const char *tag, const char *why)
{
	imap_tagged(s, tag, "BAD %s", why);
	if (++s->n_bad >= 20) {
		imap_reply(s, "* BYE Too many invalid commands");
		log_info("imap session=%s event=disconnect-bad client=[%s] bad=%u", s->sid, s->ip,
		    s->n_bad);
		s->st = I_CLOSING;
	}
}

/* RFC 2971 3.3 allows an ID of 30 pairs of up to 30 + 1024 octets, some
 * 32 KiB, and clients send it before login: only that command gets more
 * than the 8 KiB pre-login line. */
#define IMAP_ID_LINE_MAX	(40u << 10)

static bool
is_id(const uint8_t *p, size_t n)
{
	const uint8_t *sp = memchr(p, ' ', n < IMAP_TAG_MAX + 1 ? n : IMAP_TAG_MAX + 1);
	if (sp == NULL)
		return false;
	size_t rest = n - (size_t)(sp + 1 - p);
	return rest >= 3 && ascii_memcaseeq(sp + 1, "ID ", 3);
}

static bool
step_cmd(struct isession *s)
{
	size_t avail = io_avail(&s->io);
	if (avail == 0)
		return false;
	struct imap_limits lim = s->lim;
	if (is_id(io_data(&s->io), avail) && lim.line_max < IMAP_ID_LINE_MAX)
		lim.line_max = IMAP_ID_LINE_MAX;
	enum imap_scan_r r = imap_scan(&s->scan, io_data(&s->io), avail, &lim);
	switch (r) {
	case IMAP_SCAN_MORE:
		return false;
	case IMAP_SCAN_CONT:
		imap_reply(s, "+ OK");
		return false;
	case IMAP_SCAN_BAD:
		bad(s, s->scan.tag, s->scan.why);
		io_consume(&s->io, s->scan.end);
		imap_scan_init(&s->scan);
		return true;
	case IMAP_SCAN_BYE:
		log_info("imap session=%s event=disconnect client=[%s] reason=\"%s\"", s->sid, s->ip,
		    s->scan.why);
		imap_reply(s, "* BYE %s", s->scan.why);
		s->st = I_CLOSING;
		return true;
	case IMAP_SCAN_DONE:
		break;
	}
	struct imap_cmd c;
	const char *why = NULL;
	size_t end = s->scan.end;
	if (imap_parse(io_data(&s->io), end, &lim, &c, &why) < 0) {
		bad(s, c.tag, why);
	} else {
		imap_command(s, &c);
		imap_cmd_free(&c);
	}
	/* a LOGIN's password was in those bytes */
	OPENSSL_cleanse((void *)io_data(&s->io), end);
	io_consume(&s->io, end);
	imap_scan_init(&s->scan);
	return true;
}

/* AUTHENTICATE: one response line (RFC 9051 6.2.2), not a command. */
static bool
step_sasl(struct isession *s)
{
	const uint8_t *line;
	size_t len, used;
	int r = io_getline(&s->io, 8192, &line, &len, &used);
	if (r == 0)
		return false;
	if (r < 0) {
		imap_reply(s, "* BYE SASL response too long");
		s->st = I_CLOSING;
		return true;
	}
	imap_sasl_line(s, line, len);
	OPENSSL_cleanse((void *)line, len);
	io_consume(&s->io, used);
	return true;
}

/* I_PROXY: move what each side has buffered to the other, at most a chunk
 * each way and never past IMAP_OUT_PAUSE unsent, so a side that does not
 * read stops the other from being read (no memory grows). */
static bool
relay(struct io *from, struct io *to)
{
	size_t n = io_avail(from);
	if (n == 0 || to->out.len >= IMAP_OUT_PAUSE)
		return false;
	if (n > IMAP_PROXY_CHUNK)
		n = IMAP_PROXY_CHUNK;
	io_write(to, io_data(from), n);
	io_consume(from, n);
	return true;
}

static void
process_proxy(struct isession *s)
{
	for (int round = 0; round < 64; round++) {
		if (s->io.error || s->pipe.error)
			return;
		bool moved = relay(&s->io, &s->pipe);
		moved |= relay(&s->pipe, &s->io);
		if (moved)
			continue;
		bool can_in = s->pipe.out.len < IMAP_OUT_PAUSE && !s->io.eof;
		bool can_back = s->io.out.len < IMAP_OUT_PAUSE && !s->pipe.eof;
		ssize_t a = can_in ? io_read(&s->io) : 0;
		ssize_t b = can_back ? io_read(&s->pipe) : 0;
		if (a <= 0 && b <= 0 && !(can_in && io_pending(&s->io)))
			return;
	}
}

void
imap_session_process(struct isession *s)
{
	if (s->st == I_PROXY) {
		process_proxy(s);
		return;
	}
	for (;;) {
		if (s->io.error)
			break;
		if (s->st == I_HANDSHAKE) {
			handshake(s);
			if (s->st == I_HANDSHAKE)
				break;
			continue;
		}
		if (s->starttls_pending) {
			if (io_flush(&s->io) < 0 || s->io.out.len > 0)
				break;
			imap_begin_tls(s);
			continue;
		}
		/* nothing is read while the policy process decides: on 993 the
		 * client's ClientHello waits in the socket for the handshake
		 * (read here, it would be dropped by io_start_tls) */
		if (s->st == I_WAIT || s->st == I_CLOSING || s->st == I_BANCHECK)
			break;
		if (s->io.out.len > IMAP_OUT_PAUSE)
			break;
		bool progress = s->st == I_CMD ? step_cmd(s) : step_sasl(s);
		if (progress)
			continue;
		if (s->io.eof)
			break;
		if (io_read(&s->io) <= 0 && !io_pending(&s->io))
			break;
	}
}

static void
session_timeout(struct loop *l, void *arg)
{
	struct isession *s = arg;
	log_info("imap session=%s event=timeout client=[%s] state=%d", s->sid, s->ip, s->st);
	if (s->st != I_HANDSHAKE && !s->starttls_pending)
		imap_reply(s, "* BYE Autologout; idle for too long");
	s->st = I_CLOSING;
	imap_session_update(s);
}

static void
linger_over(struct loop *l, void *arg)
{
	struct isession *s = arg;
	log_info("imap session=%s event=linger-timeout client=[%s] unsent=%zu", s->sid, s->ip,
	    s->st == I_LINGER ? 0 : io_unsent(&s->io));
	session_free(s);
}

static void
linger_read(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct isession *s = arg;
	char b[4096];
	ssize_t n;
	do
		n = read(fd, b, sizeof b);
	while (n > 0 || (n < 0 && errno == EINTR));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || (ev & LOOP_ERROR))
		session_free(s);
}

/* The end of a session the client did not end (after LOGOUT, a BYE, the
 * mailbox process's close): our close_notify, then our side of the TCP
 * stream is shut, and what the client still sends is read and dropped
 * until it closes, for at most IMAP_LINGER_MS.  Closing a socket that
 * has unread input sends a reset, and a reset can destroy the last
 * replies before the client has read them (the BYE and the tagged OK:
 * mbsync's "unexpected EOF"). */
static void
start_linger(struct isession *s)
{
	if (s->io.ssl != NULL) {
		if (s->io.st == IO_TLS)
			SSL_shutdown(s->io.ssl);	/* best effort, as io_close */
		SSL_free(s->io.ssl);
		s->io.ssl = NULL;
	}
	if (s->pipe.fd >= 0) {
		loop_del(IW.loop, s->pipe.fd);
		io_close(&s->pipe);
	}
	timer_cancel(IW.loop, &s->timer);
	loop_del(IW.loop, s->io.fd);
	if (shutdown(s->io.fd, SHUT_WR) < 0 ||
	    loop_add(IW.loop, s->io.fd, LOOP_READ, linger_read, s) < 0) {
		session_free(s);
		return;
	}
	s->st = I_LINGER;
	timer_init(&s->timer, linger_over, s);
	timer_set(IW.loop, &s->timer, IMAP_LINGER_MS);
}

/* A relayed session ends when the mailbox process closes its side (after
 * LOGOUT, at the client's end, or when it failed) and what it wrote last
 * has reached the client, or when either socket fails.  A client that ends
 * its stream (close_notify or a half-closed socket, often right after
 * LOGOUT) still gets the replies to what it sent: that reaches the mailbox
 * process, whose socket's write side is then shut so it sees the end too;
 * for at most IMAP_LINGER_MS. */
static void
update_proxy(struct isession *s)
{
	if (!s->pipe.error && s->pipe.out.len > 0)
		io_flush(&s->pipe);
	if (!s->io.error && s->io.out.len > 0)
		io_flush(&s->io);
	if (s->io.eof && !s->pipe_shut && !s->pipe.error && io_avail(&s->io) == 0 &&
	    s->pipe.out.len == 0) {
		s->pipe_shut = true;
		if (shutdown(s->pipe.fd, SHUT_WR) < 0) {
			s->pipe.error = true;
			snprintf(s->pipe.errstr, sizeof s->pipe.errstr, "shutdown: %s",
			    strerror(errno));
		}
		timer_set(IW.loop, &s->timer, IMAP_LINGER_MS);
	}
	if (s->io.error || s->pipe.error) {
		session_free(s);
		return;
	}
	if (s->pipe.eof && io_avail(&s->pipe) == 0 && s->io.out.len == 0) {
		if (s->io.eof)
			session_free(s);
		else
			start_linger(s);
		return;
	}
	unsigned cev = io_events(&s->io, s->pipe.out.len < IMAP_OUT_PAUSE && !s->io.eof);
	unsigned pev = io_events(&s->pipe, s->io.out.len < IMAP_OUT_PAUSE && !s->pipe.eof);
	/* bytes already read but not relayed yet (process_proxy stops after a
	 * number of rounds, so one session cannot hold the process): no read
	 * event will come for them, so ask for the other side's (writable)
	 * event to come back */
	if (io_avail(&s->pipe) > 0 && s->io.out.len < IMAP_OUT_PAUSE)
		cev |= LOOP_WRITE;
	if (io_avail(&s->io) > 0 && s->pipe.out.len < IMAP_OUT_PAUSE)
		pev |= LOOP_WRITE;
	loop_mod(IW.loop, s->io.fd, cev);
	loop_mod(IW.loop, s->pipe.fd, pev);
	if (io_avail(&s->io) == 0 && s->io.out.len == 0)
		io_trim(&s->io);
	if (io_avail(&s->pipe) == 0 && s->pipe.out.len == 0)
		io_trim(&s->pipe);
}

void
imap_session_update(struct isession *s)
{
	if (s->st == I_PROXY) {
		update_proxy(s);
		return;
	}
	if (!s->io.error && s->io.out.len > 0)
		io_flush(&s->io);
	if (s->st == I_LINGER)
		return;
	bool done = s->io.error || (s->st == I_CLOSING && s->io.out.len == 0) ||
	    (s->io.eof && s->st != I_WAIT && s->st != I_BANCHECK);
	if (done) {
		if (!s->io.error && !s->io.eof)
			start_linger(s);
		else
			session_free(s);
		return;
	}
	bool want = (s->st == I_CMD || s->st == I_SASL) && !s->starttls_pending &&
	    s->io.out.len <= IMAP_OUT_PAUSE;
	unsigned ev = io_events(&s->io, want);
	if (s->st == I_CLOSING)
		ev = s->io.out.len ? LOOP_WRITE : 0;
	loop_mod(IW.loop, s->io.fd, ev);
	uint64_t idle = s->authed ? (uint64_t)IW.conf->imap_autologout * 1000 :
	    IMAP_PREAUTH_IDLE_MS;
	if (!s->authed && idle > (uint64_t)IW.conf->imap_autologout * 1000)
		idle = (uint64_t)IW.conf->imap_autologout * 1000;
	if (s->st == I_HANDSHAKE)
		idle = (uint64_t)IW.conf->tls_timeout * 1000;
	if (s->st == I_SASL && s->scram_wait == IMAP_SCRAM_EMPTY)
		idle = IMAP_SCRAM_CONFIRM_MS;
	if (s->st == I_CLOSING)
		idle = 10000;
	if (s->st != I_WAIT && s->st != I_BANCHECK)
		timer_set(IW.loop, &s->timer, idle);
	if (s->st == I_CMD && io_avail(&s->io) == 0 && s->io.out.len == 0)
		io_trim(&s->io);
}

static void
session_event(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct isession *s = arg;
	if ((ev & LOOP_ERROR) && (s->st == I_WAIT || s->st == I_BANCHECK || s->st == I_PROXY)) {
		s->io.error = true;
		snprintf(s->io.errstr, sizeof s->io.errstr, "connection reset while waiting");
		imap_session_update(s);
		return;
	}
	if (ev & LOOP_READ)
		io_readable(&s->io);
	if (ev & LOOP_WRITE) {
		if (s->st == I_HANDSHAKE)
			handshake(s);
		else
			io_flush(&s->io);
	}
	imap_session_process(s);
	imap_session_update(s);
}

static void
pipe_event(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct isession *s = arg;
	if (ev & LOOP_READ)
		io_readable(&s->pipe);
	if (ev & LOOP_WRITE)
		io_flush(&s->pipe);
	/* the mailbox process closed while the client is not reading: epoll
	 * would report that again and again; the session is over */
	if ((ev & LOOP_ERROR) && s->io.out.len >= IMAP_OUT_PAUSE) {
		s->pipe.error = true;
		snprintf(s->pipe.errstr, sizeof s->pipe.errstr, "mailbox side closed");
	}
	imap_session_process(s);
	imap_session_update(s);
}

bool
imap_handoff(struct isession *s, const uint8_t *token)
{
	if (IW.mailbox == NULL)
		return false;
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0) {
		log_err("imap session=%s event=handoff error=\"socketpair: %s\"", s->sid,
		    strerror(errno));
		return false;
	}
	struct proto_handoff h;
	memset(&h, 0, sizeof h);
	memcpy(h.token, token, PROTO_TOKEN_LEN);
	str_copy(h.sid, sizeof h.sid, s->sid);
	str_copy(h.client, sizeof h.client, s->ip);
	str_copy(h.tag, sizeof h.tag, s->tag);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_handoff_enc(&b, &h);
	ipc_send_buf(IW.mailbox, PROTO_HANDOFF, 0, sp[1], &b);	/* sends and closes sp[1] */
	buf_free(&b);
	OPENSSL_cleanse(&h, sizeof h);
	io_init(&s->pipe, sp[0], IMAP_OUT_PAUSE + IMAP_PROXY_CHUNK,
	    IMAP_OUT_PAUSE + IMAP_PROXY_CHUNK);
	loop_add(IW.loop, sp[0], 0, pipe_event, s);
	timer_cancel(IW.loop, &s->timer);
	timer_init(&s->timer, linger_over, s);
	s->st = I_PROXY;
	return true;
}

/* TLS or the greeting, once the client may talk to us. */
static void
start(struct isession *s)
{
	if (s->lis->tls == CONF_TLS_IMPLICIT) {
		if (io_start_tls(&s->io, IW.tls) < 0) {
			s->io.error = true;
		} else {
			s->st = I_HANDSHAKE;
			handshake(s);
		}
	} else {
		greet(s);
	}
}

static bool
acl_ok(const struct conf_listen *lis, const struct sockaddr_storage *ss, socklen_t sl)
{
	const struct conf *c = IW.conf;
	if (lis->n_allow > 0 && !prefix_list_match(lis->allow, lis->n_allow, ss, sl))
		return false;
	struct prefix a;
	if (!prefix_from_sockaddr(ss, sl, &a))
		return false;
	for (size_t i = 0; i < c->n_denies; i++)
		if (prefix_contains(&c->denies[i].p, &a))
			return false;
	return true;
}

static void
accept_cb(struct loop *l, int lfd, unsigned ev, void *arg)
{
	const struct conf_listen *lis = arg;
	for (int i = 0; i < 32; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		char ip[SOCKADDR_IP_MAX];
		sockaddr_ip(&ss, sl, ip);
		if (!acl_ok(lis, &ss, sl)) {
			/* the seed's firewall: IMAPS from the owner's gateway only */
			log_info("imap event=acl client=[%s] listener=%s result=drop", ip, lis->text);
			close(fd);
			continue;
		}
		if (IW.n_sessions >= IW.conf->max_conns) {
			log_warn("imap event=accept client=[%s] result=refused reason=\"limit "
			    "connections\" open=%zu", ip, IW.n_sessions);
			close(fd);
			continue;
		}
		/* replies go out in several writes (the relay): no Nagle wait
		 * between them */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct isession *s = xcalloc(1, sizeof *s);
		uint64_t id;
		if (getrandom(&id, sizeof id, 0) != sizeof id)
			id = now_ms() ^ ((uint64_t)fd << 40);
		snprintf(s->sid, sizeof s->sid, "%016llx", (unsigned long long)id);
		s->lis = lis;
		s->peer = ss;
		s->peerlen = sl;
		str_copy(s->ip, sizeof s->ip, ip);
		imap_limits_preauth(&s->lim);
		imap_scan_init(&s->scan);
		/* the buffer holds a whole command: the longest line and its
		 * literals after login */
		io_init(&s->io, fd, (4u << 20) + 65536, IMAP_OUT_MAX);
		timer_init(&s->timer, session_timeout, s);
		s->pipe.fd = -1;
		s->next = IW.sessions;
		if (IW.sessions)
			IW.sessions->prev = s;
		IW.sessions = s;
		IW.n_sessions++;
		loop_add(IW.loop, fd, 0, session_event, s);
		log_info("imap session=%s event=connect client=[%s] listener=%s", s->sid, ip,
		    lis->text);
		if (IW.policy != NULL) {
			/* a banned address gets no TLS handshake and no greeting */
			s->st = I_BANCHECK;
			s->req = ++IW.next_req;
			proto_admit_send(IW.policy, PROTO_BAN_CHECK, s->req, &s->peer, s->peerlen);
		} else {
			start(s);	/* without the policy process bans fail open */
		}
		imap_session_process(s);
		imap_session_update(s);
	}
}

/* --- the policy process ----------------------------------------------------------- */

static struct isession *
by_state(enum ist st, uint64_t id)
{
	for (struct isession *s = IW.sessions; s; s = s->next)
		if (s->st == st && s->req == id)
			return s;
	return NULL;
}

static void
ban_answer(struct isession *s, bool banned)
{
	s->req = 0;
	if (banned) {
		log_info("imap session=%s event=reject client=[%s] reason=banned", s->sid, s->ip);
		if (s->lis->tls != CONF_TLS_IMPLICIT)
			imap_reply(s, "* BYE Access denied");
		s->st = I_CLOSING;
	} else {
		start(s);
	}
	imap_session_process(s);
	imap_session_update(s);
}

static const char *
policy_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct proto_ban_reply r;
	if (m->type != PROTO_BAN_REPLY || proto_ban_reply_dec(m, &r) < 0)
		return "bad BAN_REPLY";
	struct isession *s = by_state(I_BANCHECK, m->id);
	if (s != NULL)
		ban_answer(s, r.banned != 0);
	return NULL;
}

static void
policy_close(struct ipc *c, void *arg)
{
	proto_peer_closed(IW.parent, c, "imap", ROLE_POLICY, 0, IW.policy_id);
	log_warn("imap event=policy-gone");
	ipc_free(&IW.policy);
	for (struct isession *s = IW.sessions, *next; s; s = next) {
		next = s->next;
		if (s->st == I_BANCHECK)
			ban_answer(s, false);
	}
}

/* --- the auth process ------------------------------------------------------------ */

/* Ask the auth process for the session (type with payload b): the
 * session waits for the answer under a new request id, or gets NO
 * [UNAVAILABLE] at once when there is no auth process.  false then. */
static bool
ask_auth(struct isession *s, uint32_t type, uint64_t id, struct buf *b)
{
	timer_cancel(IW.loop, &s->timer);
	if (IW.auth == NULL) {
		log_warn("imap session=%s event=login result=tempfail reason=\"auth process "
		    "unavailable\"", s->sid);
		s->req = 0;
		s->st = I_CMD;
		imap_tagged(s, s->tag, "NO [UNAVAILABLE] Authentication service unavailable, try "
		    "again later");
		return false;
	}
	s->st = I_WAIT;
	s->req = id;
	ipc_send_buf(IW.auth, type, id, -1, b);
	return true;
}

void
imap_check_password(struct isession *s, struct sasl_creds *c)
{
	struct proto_auth_check *q = xcalloc(1, sizeof *q);
	str_copy(q->user, sizeof q->user, c->user);
	str_copy(q->pass, sizeof q->pass, c->pass);
	str_copy(q->client, sizeof q->client, s->ip);
	sasl_creds_wipe(c);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_auth_check_enc(&b, q);
	OPENSSL_cleanse(q, sizeof *q);
	free(q);
	ask_auth(s, PROTO_AUTH_CHECK, ++IW.next_req, &b);
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.cap);
	buf_free(&b);
}

void
imap_scram_first(struct isession *s, const uint8_t *msg, size_t len)
{
	struct proto_scram_first *q = xcalloc(1, sizeof *q);
	q->plus = s->mech == MECH_SCRAM_PLUS;
	q->offered = IW.scram_on && imap_scram_plus_ok(s);
	/* RFC 9266 2: 32 bytes, label "EXPORTER-Channel-Binding", no context */
	if (q->plus && imap_scram_plus_ok(s))
		q->has_cb = SSL_export_keying_material(s->io.ssl, q->cb, sizeof q->cb,
		    SCRAM_CB_LABEL, strlen(SCRAM_CB_LABEL), NULL, 0, 0) == 1;
	if (len > sizeof q->msg)
		len = sizeof q->msg;	/* the caller's limit is the same */
	memcpy(q->msg, msg, len);
	q->len = (uint32_t)len;
	str_copy(q->client, sizeof q->client, s->ip);
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_scram_first_enc(&b, q);
	uint64_t id = ++IW.next_req;
	if (ask_auth(s, PROTO_AUTH_SCRAM_FIRST, id, &b))
		s->scram_id = id;
	buf_free(&b);
	OPENSSL_cleanse(q, sizeof *q);
	free(q);
}

void
imap_scram_final(struct isession *s, const uint8_t *msg, size_t len)
{
	struct proto_scram_final *q = xcalloc(1, sizeof *q);
	if (len > sizeof q->msg)
		len = sizeof q->msg;
	memcpy(q->msg, msg, len);
	q->len = (uint32_t)len;
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_scram_final_enc(&b, q);
	/* the exchange's id: the auth process finds it by that */
	if (!ask_auth(s, PROTO_AUTH_SCRAM_FINAL, s->scram_id, &b))
		s->scram_id = 0;
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.cap);		/* the proof */
	buf_free(&b);
	OPENSSL_cleanse(q, sizeof *q);
	free(q);
}

void
imap_scram_abort(struct isession *s)
{
	if (s->scram_id != 0 && IW.auth != NULL)
		ipc_send(IW.auth, PROTO_AUTH_SCRAM_ABORT, s->scram_id, -1, NULL, 0);
	s->scram_id = 0;
}

static const char *
auth_result(struct ipc_msg *m)
{
	struct proto_auth_result r;
	if (proto_auth_result_dec(m, &r) < 0)
		return "bad AUTH_RESULT";
	struct isession *s = by_state(I_WAIT, m->id);
	if (s != NULL) {
		s->req = 0;
		s->st = I_CMD;
		imap_auth_result(s, &r);
		imap_session_process(s);
		imap_session_update(s);
	}	/* else the client went away meanwhile */
	OPENSSL_cleanse(&r, sizeof r);
	OPENSSL_cleanse((void *)m->data, m->len);	/* a server signature */
	return NULL;
}

static const char *
auth_challenge(struct ipc_msg *m)
{
	struct proto_scram_challenge c;
	if (proto_scram_challenge_dec(m, &c) < 0)
		return "bad AUTH_SCRAM_CHALLENGE";
	struct isession *s = by_state(I_WAIT, m->id);
	if (s == NULL)
		return NULL;
	s->req = 0;
	s->st = I_CMD;
	imap_scram_challenge(s, c.rc, c.sfirst);
	imap_session_process(s);
	imap_session_update(s);
	return NULL;
}

static const char *
auth_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct proto_auth_state st;
	switch (m->type) {
	case PROTO_AUTH_RESULT:
		return auth_result(m);
	case PROTO_AUTH_SCRAM_CHALLENGE:
		return auth_challenge(m);
	case PROTO_AUTH_STATE:
		if (proto_auth_state_dec(m, &st) < 0)
			return "bad AUTH_STATE";
		IW.scram_on = st.scram != 0;
		return NULL;
	default:
		return "unexpected message";
	}
}

static void
auth_close(struct ipc *c, void *arg)
{
	proto_peer_closed(IW.parent, c, "imap", ROLE_AUTH, 0, IW.auth_id);
	log_warn("imap event=auth-gone");
	ipc_free(&IW.auth);
	/* logins waiting for it fail as temporary: the client tries again;
	 * SCRAM exchanges are gone with it (a final message will fail) */
	for (struct isession *s = IW.sessions, *next; s; s = next) {
		next = s->next;
		s->scram_id = 0;
		if (s->st != I_WAIT)
			continue;
		s->req = 0;
		s->st = I_CMD;
		imap_tagged(s, s->tag, "NO [UNAVAILABLE] Authentication service unavailable, try "
		    "again later");
		imap_session_process(s);
		imap_session_update(s);
	}
}

/* --- the mailbox process ------------------------------------------------------------ */

static const char *
mailbox_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	return "the mailbox process sends imap nothing";
}

/* Relayed sessions keep going: each has its own socket to the mailbox
 * process, which ends them if it goes away. */
static void
mailbox_close(struct ipc *c, void *arg)
{
	proto_peer_closed(IW.parent, c, "imap", ROLE_MAILBOX, 0, IW.mailbox_id);
	log_warn("imap event=mailbox-gone");
	ipc_free(&IW.mailbox);
}

/* --- the parent -------------------------------------------------------------------- */

static const char *
parent_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	switch (m->type) {
	case PROTO_STOP: {
		struct proto_stop st;
		if (proto_stop_dec(m, &st) < 0)
			return "bad STOP";
		if (IW.draining)
			break;
		IW.draining = true;
		for (size_t i = 0; i < IW.n_lfds; i++) {
			loop_del(IW.loop, IW.lfds[i]);
			close(IW.lfds[i]);
		}
		/* sessions not logged in yet are told goodbye; relayed ones
		 * belong to the mailbox process and run until they end (the
		 * parent's deadline ends them at a shutdown) */
		for (struct isession *s = IW.sessions, *next; s; s = next) {
			next = s->next;
			if (s->st == I_PROXY || s->st == I_LINGER)
				continue;
			if (s->st != I_HANDSHAKE && s->st != I_WAIT && s->st != I_BANCHECK)
				imap_reply(s, "* BYE Server shutting down");
			s->st = I_CLOSING;
			imap_session_update(s);
		}
		if (IW.n_sessions == 0)
			loop_stop(IW.loop);
		break;
	}
	case PROTO_PEER: {
		struct proto_peer pe;
		if (proto_peer_dec(m, &pe) < 0 || (pe.role != ROLE_AUTH && pe.role != ROLE_POLICY &&
		    pe.role != ROLE_MAILBOX))
			return "bad PEER";
		if (pe.role == ROLE_MAILBOX) {
			ipc_free(&IW.mailbox);
			IW.mailbox_id = pe.id;
			IW.mailbox = ipc_new(IW.loop, m->fd, mailbox_msg, mailbox_close, NULL);
			m->fd = -1;
			break;
		}
		if (pe.role == ROLE_POLICY) {
			ipc_free(&IW.policy);
			IW.policy_id = pe.id;
			IW.policy = ipc_new(IW.loop, m->fd, policy_msg, policy_close, NULL);
			m->fd = -1;
			break;
		}
		ipc_free(&IW.auth);
		IW.auth_id = pe.id;
		IW.auth = ipc_new(IW.loop, m->fd, auth_msg, auth_close, NULL);
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
	log_warn("imap event=parent-gone");
	exit(1);
}

void
imap_main(const struct imap_args *a)
{
	memset(&IW, 0, sizeof IW);
	IW.conf = a->conf;
	IW.tls = a->tls;
	IW.lfds = a->listen_fds;
	IW.n_lfds = a->n_listen;
	IW.loop = loop_new();
	if (IW.loop == NULL)
		fatal("imap: cannot create event loop");
	signal(SIGPIPE, SIG_IGN);
	IW.parent = ipc_new(IW.loop, a->parent_fd, parent_msg, parent_close, NULL);
	for (size_t i = 0; i < IW.n_lfds; i++)
		if (loop_add(IW.loop, IW.lfds[i], LOOP_READ, accept_cb,
		    (void *)&a->conf->imap_listens[i]) < 0)
			fatal("imap: cannot watch listener %s", a->conf->imap_listens[i].text);
	log_info("imap event=start listeners=%zu", IW.n_lfds);
	loop_run(IW.loop);
	log_info("imap event=stop");
	exit(0);
}

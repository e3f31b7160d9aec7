/*
 * smtp/server.c - smtp worker: accepts connections and runs SMTP sessions.
 *
 * Input:   bytes from the network (untrusted), through core/io.
 * Output:  replies; spool files written into descriptors the queue hands
 *          out (we never learn where the spool is).
 * Trusts:  the parent and the queue (our own processes).
 * Runs in: smtp worker, unprivileged, one event loop for all sessions.
 *
 * Each session is an explicit state machine.  Input is processed as long
 * as complete commands are buffered (PIPELINING, RFC 2920); replies are
 * collected and written in one go when the input runs dry.  While a
 * session waits for the parent (admission) or the queue (spool file,
 * commit) it reads nothing, so pipelined commands simply stay buffered.
 *
 * Line framing: only CRLF ends a command line; a bare CR or LF inside one
 * is refused with 500 5.5.2 (no SMTP smuggling).  DATA framing lives in
 * smtp/data.c.  Replies carry RFC 3463 enhanced status codes except the
 * greeting and EHLO/HELO lines (RFC 2034).
 */
#include "smtp/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mail/conf.h"
#include "core/io.h"
#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/tls.h"
#include "core/util.h"
#include "proto/parent.h"
#include "proto/smtp_policy.h"
#include "proto/smtp_queue.h"
#include "mail/spool.h"
#include "mail/users.h"
#include "smtp/addr.h"
#include "smtp/cmd.h"
#include "smtp/data.h"

/* A command line may be longer than RFC 5321's 512 octets once extensions
 * add parameters (RFC 1870 4, RFC 6531 3.4); 2048 like Postfix. */
#define CMD_LINE_MAX	2048
#define IN_MAX		65536	/* input buffer: also bounds pipelined bytes */
#define OUT_MAX		(256 * 1024)
#define OUT_PAUSE	(32 * 1024)	/* stop reading while this much is unsent */
#define CONTENT_FLUSH	(64 * 1024)
#define RCPT_USERS_MAX	1000	/* mailboxes one message may reach */

enum sstate {
	S_ADMIT,	/* waiting for the parent's connection verdict */
	S_HANDSHAKE,	/* TLS handshake (implicit TLS or after STARTTLS) */
	S_CMD,		/* reading commands */
	S_SKIP,		/* discarding the rest of an over-long line */
	S_WAIT_OPEN,	/* DATA/BDAT: waiting for a spool file */
	S_DATA,		/* reading DATA content */
	S_BDAT,		/* reading a BDAT chunk */
	S_WAIT_COMMIT,	/* waiting for the queue to make it durable */
	S_CLOSING,	/* flush output, then close */
};

struct srcpt {
	char user[65];
	char addr[SMTP_LOCAL_MAX * 2 + 3 + 1 + SMTP_DOMAIN_MAX + 1];
};

struct session {
	struct session *next, *prev;
	uint64_t id;
	char sid[17];
	struct io io;
	enum sstate st;
	const struct conf_listen *lis;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char ip[INET6_ADDRSTRLEN];
	struct timer timer;

	/* session */
	bool helo_seen, esmtp, is_tls, admitted;
	char helo[SMTP_DOMAIN_MAX + 1];
	char tls_desc[128];
	unsigned n_errors;
	unsigned n_msgs, n_rcpts_total, n_cmds;
	bool starttls_pending;	/* 220 queued; handshake when flushed */
	bool stop_after_reply;	/* worker shutting down: 421 at next chance */

	/* transaction */
	bool in_mail;
	struct smtp_path sender;
	bool smtputf8;
	enum smtp_body body;
	struct srcpt *rcpts;	/* expanded, one per mailbox */
	size_t n_rcpts, cap_rcpts;
	unsigned n_rcpt_cmds;	/* accepted RCPT commands */
	unsigned n_rcpt_tried;	/* RCPT commands, accepted or not */
	char first_rcpt[SMTP_PATH_MAX * 2];

	/* content */
	char qid[SPOOL_QID_MAX + 1];
	int spool_fd;
	uint64_t spool_len;	/* bytes written to the spool file */
	struct smtp_data data;
	struct buf content;
	bool too_big;
	int werr;		/* write error while spooling */
	bool is_bdat;
	uint64_t bdat_left;
	bool bdat_last;
	bool bdat_failed;	/* read the chunk, then refuse it with bdat_err */
	const char *bdat_err;
	bool want_bdat_chunk;	/* S_WAIT_OPEN came from BDAT */
	time_t arrival;
};

static struct {
	struct loop *loop;
	const struct conf *conf;
	const struct users *users;
	const struct aliases *aliases;
	SSL_CTX *tls;
	struct ipc *parent, *queue, *policy;
	int *lfds;
	size_t n_lfds;
	struct session *sessions;
	size_t n_sessions;
	bool draining;
	struct timer grace;
	struct timer accept_pause;
	unsigned slot;
} W;

static void session_process(struct session *s);
static void session_update(struct session *s);
static void session_free(struct session *s);

/* --- replies and logging ------------------------------------------------- */

static void
reply(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
reply(struct session *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 3)
		n = sizeof line - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	io_write(&s->io, line, (size_t)n);
}

/* An address for a log line: quoted local parts may hold spaces, quotes
 * and backslashes, UTF-8 under SMTPUTF8; escape it like any client text. */
static void
log_path(const struct smtp_path *p, char *dst, size_t n)
{
	char raw[SMTP_PATH_MAX * 2];
	smtp_path_str(p, raw, sizeof raw);
	log_escape(dst, n, raw, strlen(raw));
}

static const char *
qid_or_none(const struct session *s)
{
	return s->qid[0] ? s->qid : "none";
}

/* A 5xx for a broken command counts towards max_errors. */
static void
protocol_error(struct session *s)
{
	s->n_errors++;
	if (s->n_errors >= W.conf->max_errors) {
		log_info("smtp session=%s event=disconnect reason=\"too many errors\" errors=%u",
		    s->sid, s->n_errors);
		reply(s, "421 4.7.0 %s Error: too many errors", W.conf->hostname);
		s->st = S_CLOSING;
	}
}

static void
reject_cmd(struct session *s, const char *code_text, const uint8_t *line, size_t len)
{
	char esc[200];
	log_escape(esc, sizeof esc, line, len > 100 ? 100 : len);
	log_info("smtp session=%s event=reject queue=%s cmd=\"%s\" result=\"%s\"",
	    s->sid, qid_or_none(s), esc, code_text);
	reply(s, "%s", code_text);
	if (code_text[0] == '5')
		protocol_error(s);
}

/* --- transaction --------------------------------------------------------- */

static void
spool_abort(struct session *s)
{
	if (s->qid[0] != '\0' && W.queue != NULL)
		proto_abort_send(W.queue, s->id, s->qid);
	if (s->spool_fd >= 0)
		close(s->spool_fd);
	s->spool_fd = -1;
	s->qid[0] = '\0';
}

static void
txn_reset(struct session *s)
{
	spool_abort(s);
	s->in_mail = false;
	s->smtputf8 = false;
	s->body = SMTP_BODY_NONE;
	free(s->rcpts);
	s->rcpts = NULL;
	s->n_rcpts = s->cap_rcpts = 0;
	s->n_rcpt_cmds = 0;
	s->n_rcpt_tried = 0;
	s->first_rcpt[0] = '\0';
	buf_free(&s->content);
	s->too_big = false;
	s->werr = 0;
	s->is_bdat = false;
	s->bdat_left = 0;
	s->bdat_last = false;
	s->bdat_failed = false;
	s->bdat_err = NULL;
	s->want_bdat_chunk = false;
}

/* --- spool writing ------------------------------------------------------- */

static void
content_flush(struct session *s)
{
	if (s->content.len == 0)
		return;
	if (s->werr == 0 && !s->too_big && s->spool_fd >= 0) {
		const uint8_t *p = s->content.data;
		size_t n = s->content.len;
		while (n > 0) {
			ssize_t w = write(s->spool_fd, p, n);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				s->werr = errno;
				log_warn("smtp session=%s event=spool-write queue=%s error=\"%s\"",
				    s->sid, qid_or_none(s), strerror(errno));
				break;
			}
			p += w;
			n -= (size_t)w;
			s->spool_len += (uint64_t)w;
		}
	}
	buf_reset(&s->content);
}

static void
rfc5322_date(char *dst, size_t n, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(dst, n, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* The spool file starts with the magic and our Received header. */
static void
content_begin(struct session *s)
{
	char date[64];
	const char *proto;
	s->arrival = time(NULL);
	rfc5322_date(date, sizeof date, s->arrival);
	/* RFC 3848 / RFC 6531 "with" keywords */
	if (s->smtputf8)
		proto = s->is_tls ? "UTF8SMTPS" : "UTF8SMTP";
	else if (s->esmtp)
		proto = s->is_tls ? "ESMTPS" : "ESMTP";
	else
		proto = s->is_tls ? "SMTPS" : "SMTP";
	buf_free(&s->content);
	buf_init(&s->content, SIZE_MAX);
	buf_append(&s->content, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
	buf_printf(&s->content, "Received: from %s ([%s])\n\tby %s (Talon) with %s id %s",
	    s->helo, s->ip, W.conf->hostname, proto, s->qid);
	if (s->is_tls)
		buf_printf(&s->content, "\n\t(%s)", s->tls_desc);
	/* name the recipient only when there is one: more would leak Bcc */
	if (s->n_rcpt_cmds == 1)
		buf_printf(&s->content, "\n\tfor <%s>", s->first_rcpt);
	buf_printf(&s->content, "; %s\n", date);
	s->spool_len = 0;
	s->too_big = false;
	s->werr = 0;
}

static void
queue_gone_fail(struct session *s)
{
	reply(s, "451 4.3.0 Error: queue unavailable, try again later");
	log_warn("smtp session=%s event=reject queue=%s result=\"451 4.3.0\" reason=\"queue unavailable\"",
	    s->sid, qid_or_none(s));
}

/* End of message (DATA end or BDAT LAST): refuse or commit. */
static void
content_end(struct session *s)
{
	char sender[SMTP_PATH_MAX * 2], lsender[SMTP_PATH_MAX * 4];
	const char *err = NULL;

	smtp_path_str(&s->sender, sender, sizeof sender);
	log_path(&s->sender, lsender, sizeof lsender);
	if (s->data.bare_lf || s->data.bare_cr)
		err = "550 5.5.2 Message refused: bare CR or LF in content (CRLF line ends required)";
	else if (s->too_big)
		err = "552 5.3.4 Message size exceeds fixed maximum message size";
	if (err == NULL) {
		content_flush(s);
		if (s->werr == 0) {
			struct spool_env env;
			memset(&env, 0, sizeof env);
			snprintf(env.qid, sizeof env.qid, "%s", s->qid);
			snprintf(env.session, sizeof env.session, "%s", s->sid);
			env.time = (uint64_t)s->arrival;
			env.sender = sender;
			struct spool_rcpt *rs = xcalloc(s->n_rcpts, sizeof *rs);
			for (size_t i = 0; i < s->n_rcpts; i++) {
				rs[i].idx = (uint32_t)i;
				rs[i].user = s->rcpts[i].user;
				rs[i].addr = s->rcpts[i].addr;
			}
			env.rcpts = rs;
			env.n_rcpts = s->n_rcpts;
			uint64_t clen = s->spool_len - SPOOL_MAGIC_LEN;
			buf_reset(&s->content);
			spool_encode(&s->content, &env, clen);
			free(rs);
			content_flush(s);
		}
		if (s->werr == ENOSPC || s->werr == EDQUOT || s->werr == EFBIG)
			err = "452 4.3.1 Insufficient system storage";
		else if (s->werr != 0)
			err = "451 4.3.0 Error: local error writing the message";
	}
	if (err != NULL) {
		log_info("smtp session=%s event=reject queue=%s from=<%s> result=\"%.9s\" reason=\"%s\"",
		    s->sid, qid_or_none(s), lsender, err, err + 10);
		reply(s, "%s", err);
		txn_reset(s);
		s->st = S_CMD;
		return;
	}
	if (W.queue == NULL) {
		queue_gone_fail(s);
		txn_reset(s);
		s->st = S_CMD;
		return;
	}
	close(s->spool_fd);	/* the queue has its own descriptor */
	s->spool_fd = -1;
	proto_commit_send(W.queue, s->id, s->qid, s->spool_len);
	s->st = S_WAIT_COMMIT;
	timer_cancel(W.loop, &s->timer);	/* re-armed for the wait */
}

/* --- commands ------------------------------------------------------------ */

static void
cmd_helo(struct session *s, const struct smtp_cmd *c, bool esmtp)
{
	if (!smtp_domain_valid(c->arg, c->arg_len, true) &&
	    !smtp_addr_literal_valid(c->arg, c->arg_len)) {
		reject_cmd(s, "501 5.5.4 Syntax: EHLO/HELO needs a domain name or address literal",
		    (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	txn_reset(s);
	snprintf(s->helo, sizeof s->helo, "%.*s", (int)c->arg_len, c->arg);
	s->helo_seen = true;
	s->esmtp = esmtp;
	if (!esmtp) {
		reply(s, "250 %s", W.conf->hostname);
		return;
	}
	reply(s, "250-%s Hello %s [%s]", W.conf->hostname, s->helo, s->ip);
	reply(s, "250-PIPELINING");
	reply(s, "250-SIZE %llu", (unsigned long long)W.conf->max_message_size);
	if (s->lis->tls == CONF_TLS_STARTTLS && !s->is_tls && W.tls != NULL)
		reply(s, "250-STARTTLS");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-8BITMIME");
	reply(s, "250-SMTPUTF8");
	reply(s, "250 CHUNKING");
}

static void
cmd_mail(struct session *s, const struct smtp_cmd *c)
{
	struct smtp_mail_args a;
	enum smtp_addr_err pe = SMTP_ADDR_OK;
	char addr[SMTP_PATH_MAX * 4];

	if (!s->helo_seen) {
		reject_cmd(s, "503 5.5.1 Error: send HELO/EHLO first", (const uint8_t *)"MAIL", 4);
		return;
	}
	if (s->in_mail) {
		reject_cmd(s, "503 5.5.1 Error: nested MAIL command", (const uint8_t *)"MAIL", 4);
		return;
	}
	enum smtp_param_err e = smtp_mail_args_parse(c->arg, c->arg_len, true, &a, &pe);
	if (e == SMTP_PARAM_E_PATH) {
		reject_cmd(s, smtp_addr_err_reply(pe, false), (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	if (e != SMTP_PARAM_OK) {
		reject_cmd(s, smtp_param_err_reply(e), (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	if (!s->esmtp && (a.has_size || a.body != SMTP_BODY_NONE || a.smtputf8)) {
		reject_cmd(s, "555 5.5.4 ESMTP parameters need EHLO", (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	log_path(&a.path, addr, sizeof addr);
	if (a.has_size && a.size > W.conf->max_message_size) {
		log_info("smtp session=%s event=reject queue=none from=<%s> size=%llu "
		    "result=\"552 5.3.4\" reason=\"declared size too large\"",
		    s->sid, addr, (unsigned long long)a.size);
		reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	s->sender = a.path;
	s->smtputf8 = a.smtputf8;
	s->body = a.body;
	s->in_mail = true;
	log_info("smtp session=%s event=mail queue=none from=<%s>%s%s", s->sid, addr,
	    a.smtputf8 ? " smtputf8=yes" : "", a.body == SMTP_BODY_8BITMIME ? " body=8bitmime" : "");
	reply(s, "250 2.1.0 Ok");
}

static bool
rcpt_add_user(struct session *s, const char *user, const char *domain)
{
	for (size_t i = 0; i < s->n_rcpts; i++)
		if (strcmp(s->rcpts[i].user, user) == 0)
			return true;	/* one copy per mailbox */
	if (s->n_rcpts >= RCPT_USERS_MAX)
		return false;
	if (s->n_rcpts == s->cap_rcpts) {
		s->cap_rcpts = s->cap_rcpts ? s->cap_rcpts * 2 : 4;
		s->rcpts = xreallocarray(s->rcpts, s->cap_rcpts, sizeof *s->rcpts);
	}
	struct srcpt *r = &s->rcpts[s->n_rcpts++];
	snprintf(r->user, sizeof r->user, "%s", user);
	snprintf(r->addr, sizeof r->addr, "%s@%s", user, domain);
	return true;
}

static void
cmd_rcpt(struct session *s, const struct smtp_cmd *c)
{
	struct smtp_rcpt_args a;
	enum smtp_addr_err pe = SMTP_ADDR_OK;
	char addr[SMTP_PATH_MAX * 2], laddr[SMTP_PATH_MAX * 4], sender[SMTP_PATH_MAX * 4];
	const char *users[RCPT_EXPAND_MAX];

	if (!s->in_mail) {
		reject_cmd(s, "503 5.5.1 Error: need MAIL command", (const uint8_t *)"RCPT", 4);
		return;
	}
	s->n_rcpt_tried++;
	enum smtp_param_err e = smtp_rcpt_args_parse(c->arg, c->arg_len, s->smtputf8, &a, &pe);
	if (e == SMTP_PARAM_E_PATH) {
		reject_cmd(s, smtp_addr_err_reply(pe, true), (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	if (e != SMTP_PARAM_OK) {
		reject_cmd(s, smtp_param_err_reply(e), (const uint8_t *)c->arg, c->arg_len);
		return;
	}
	smtp_path_str(&a.path, addr, sizeof addr);
	log_path(&a.path, laddr, sizeof laddr);
	log_path(&s->sender, sender, sizeof sender);
	if (s->n_rcpt_cmds >= W.conf->max_rcpts) {
		log_info("smtp session=%s event=reject queue=none from=<%s> to=<%s> "
		    "result=\"452 4.5.3\" reason=\"too many recipients\"", s->sid, sender, laddr);
		reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	char domain[SMTP_DOMAIN_MAX + 1];
	if (a.path.is_postmaster) {
		snprintf(domain, sizeof domain, "%s", W.conf->domains[0]);
	} else {
		snprintf(domain, sizeof domain, "%s", a.path.domain);
		ascii_strlower(domain);
		if (!conf_is_local_domain(W.conf, domain)) {
			log_info("smtp session=%s event=reject queue=none from=<%s> to=<%s> "
			    "result=\"550 5.7.1\" reason=\"relaying denied\"", s->sid, sender, laddr);
			reply(s, "550 5.7.1 <%s>... Relaying denied. Proper authentication required.",
			    addr);
			return;
		}
	}
	const char *local = a.path.is_postmaster ? "postmaster" : a.path.local;
	/* a local part that needs quotes names no mailbox of ours; one whose
	 * quotes were redundant ("bob") was unquoted by the parser and is the
	 * same mailbox as bob (RFC 5321 2.4) */
	int n = a.path.local[0] == '"' ? 0 : rcpt_resolve(W.users, W.aliases,
	    (const char *const *)W.conf->domains, W.conf->n_domains, local, users);
	if (n < 0) {
		log_warn("smtp session=%s event=reject queue=none from=<%s> to=<%s> "
		    "result=\"451 4.3.0\" reason=\"alias expansion failed\"", s->sid, sender, laddr);
		reply(s, "451 4.3.0 <%s>: temporary recipient lookup failure", addr);
		return;
	}
	if (n == 0) {
		log_info("smtp session=%s event=reject queue=none from=<%s> to=<%s> "
		    "result=\"550 5.1.1\" reason=\"no such user\"", s->sid, sender, laddr);
		reply(s, "550 5.1.1 <%s>: Recipient address rejected: User unknown", addr);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (!rcpt_add_user(s, users[i], domain)) {
			reply(s, "452 4.5.3 Error: too many recipients");
			return;
		}
	}
	if (s->n_rcpt_cmds == 0)
		snprintf(s->first_rcpt, sizeof s->first_rcpt, "%s", addr);
	s->n_rcpt_cmds++;
	s->n_rcpts_total++;
	log_info("smtp session=%s event=rcpt queue=none from=<%s> to=<%s> result=accept mailboxes=%d",
	    s->sid, sender, laddr, n);
	reply(s, "250 2.1.5 Ok");
}

static void
request_spool(struct session *s)
{
	if (W.queue == NULL) {
		queue_gone_fail(s);
		return;
	}
	proto_open_send(W.queue, s->id);
	s->st = S_WAIT_OPEN;
	timer_cancel(W.loop, &s->timer);	/* re-armed for the wait */
}

static void
cmd_data(struct session *s)
{
	if (!s->in_mail) {
		reject_cmd(s, "503 5.5.1 Error: need MAIL command", (const uint8_t *)"DATA", 4);
		return;
	}
	/* RFC 5321 3.3: 503 when no RCPT was given, 554 when all failed */
	if (s->n_rcpt_tried == 0) {
		reject_cmd(s, "503 5.5.1 Error: need RCPT command", (const uint8_t *)"DATA", 4);
		return;
	}
	if (s->n_rcpt_cmds == 0) {
		reject_cmd(s, "554 5.5.1 Error: no valid recipients", (const uint8_t *)"DATA", 4);
		return;
	}
	if (s->is_bdat) {
		reject_cmd(s, "503 5.5.1 Error: DATA after BDAT", (const uint8_t *)"DATA", 4);
		return;
	}
	s->want_bdat_chunk = false;
	request_spool(s);
}

static void
cmd_bdat(struct session *s, const struct smtp_cmd *c)
{
	uint64_t size;
	bool last;
	if (!smtp_bdat_parse(c->arg, c->arg_len, &size, &last)) {
		/* we cannot know how many bytes follow: the session is unsafe */
		log_info("smtp session=%s event=disconnect reason=\"bad BDAT syntax\"", s->sid);
		reply(s, "501 5.5.4 Syntax: BDAT chunk-size [LAST]");
		s->st = S_CLOSING;
		return;
	}
	s->bdat_left = size;
	s->bdat_last = last;
	if (!s->in_mail || s->n_rcpt_cmds == 0 || s->bdat_failed) {
		/* read and discard the chunk, then refuse (RFC 3030 2) */
		if (!s->in_mail)
			s->bdat_err = "503 5.5.1 Error: need MAIL command";
		else if (s->n_rcpt_tried == 0)
			s->bdat_err = "503 5.5.1 Error: need RCPT command";
		else if (s->n_rcpt_cmds == 0)
			s->bdat_err = "554 5.5.1 Error: no valid recipients";
		s->bdat_failed = true;
		s->st = S_BDAT;
		return;
	}
	if (!s->is_bdat) {
		s->is_bdat = true;
		s->want_bdat_chunk = true;
		request_spool(s);
		return;
	}
	s->st = S_BDAT;
}

static void
cmd_starttls(struct session *s)
{
	if (s->is_tls) {
		reject_cmd(s, "503 5.5.1 Error: TLS already active", (const uint8_t *)"STARTTLS", 8);
		return;
	}
	if (s->lis->tls != CONF_TLS_STARTTLS || W.tls == NULL) {
		reject_cmd(s, "502 5.5.1 Error: command not implemented", (const uint8_t *)"STARTTLS", 8);
		return;
	}
	if (s->in_mail) {
		reject_cmd(s, "503 5.5.1 Error: STARTTLS inside a mail transaction",
		    (const uint8_t *)"STARTTLS", 8);
		return;
	}
	reply(s, "220 2.0.0 Ready to start TLS");
	/* RFC 3207 4.2: anything pipelined after STARTTLS came in clear text;
	 * io_start_tls drops it once the 220 is out. */
	s->starttls_pending = true;
}

static void
handle_command(struct session *s, const uint8_t *line, size_t len)
{
	struct smtp_cmd c;
	s->n_cmds++;
	enum smtp_cmd_err e = smtp_cmd_parse((const char *)line, len, &c);
	if (e == SMTP_CMD_E_BADCHAR) {
		reject_cmd(s, "500 5.5.2 Error: bare CR, LF or NUL in command line", line, len);
		return;
	}
	if (e == SMTP_CMD_E_UNKNOWN) {
		reject_cmd(s, "500 5.5.1 Error: command not recognized", line, len);
		return;
	}
	if (e == SMTP_CMD_E_SYNTAX) {
		reject_cmd(s, "501 5.5.4 Syntax error in parameters or arguments", line, len);
		return;
	}
	switch (c.verb) {
	case SMTP_CMD_EHLO:
		cmd_helo(s, &c, true);
		break;
	case SMTP_CMD_HELO:
		cmd_helo(s, &c, false);
		break;
	case SMTP_CMD_MAIL:
		cmd_mail(s, &c);
		break;
	case SMTP_CMD_RCPT:
		cmd_rcpt(s, &c);
		break;
	case SMTP_CMD_DATA:
		cmd_data(s);
		break;
	case SMTP_CMD_BDAT:
		cmd_bdat(s, &c);
		break;
	case SMTP_CMD_RSET:
		txn_reset(s);
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_CMD_NOOP:
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_CMD_QUIT:
		reply(s, "221 2.0.0 Bye");
		s->st = S_CLOSING;
		break;
	case SMTP_CMD_VRFY:
		/* never confirm or deny that a user exists (RFC 5321 3.5.3) */
		reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
		break;
	case SMTP_CMD_EXPN:
		reject_cmd(s, "502 5.5.1 Error: EXPN not available", line, len);
		break;
	case SMTP_CMD_HELP:
		reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS");
		break;
	case SMTP_CMD_STARTTLS:
		cmd_starttls(s);
		break;
	case SMTP_CMD_AUTH:
		reject_cmd(s, "502 5.5.1 Error: AUTH not available on this port", line, len);
		break;
	default:
		reject_cmd(s, "500 5.5.1 Error: command not recognized", line, len);
		break;
	}
}

/* --- input processing ---------------------------------------------------- */

static bool
step_cmd(struct session *s)
{
	const uint8_t *line;
	size_t len, used;
	int r = io_getline(&s->io, CMD_LINE_MAX, &line, &len, &used);
	if (r == 0)
		return false;
	if (r < 0) {
		/* too long: refuse now, then drop bytes up to the next CRLF */
		reject_cmd(s, "500 5.5.2 Error: line too long", io_data(&s->io), 40);
		if (s->st != S_CLOSING)
			s->st = S_SKIP;
		return true;
	}
	handle_command(s, line, len);
	io_consume(&s->io, used);
	return true;
}

static bool
step_skip(struct session *s)
{
	const uint8_t *line;
	size_t len, used;
	int r = io_getline(&s->io, io_avail(&s->io) + 1, &line, &len, &used);
	if (r == 1) {
		io_consume(&s->io, used);
		s->st = S_CMD;
		return true;
	}
	/* keep the last byte: it may be the CR of a CRLF */
	size_t avail = io_avail(&s->io);
	if (avail > 1)
		io_consume(&s->io, avail - 1);
	return false;
}

static void
content_append_check(struct session *s)
{
	if (s->data.n_raw > W.conf->max_message_size)
		s->too_big = true;
	if (s->too_big)
		buf_reset(&s->content);	/* keep reading to the end, store nothing */
	else if (s->content.len >= CONTENT_FLUSH)
		content_flush(s);
}

static bool
step_data(struct session *s)
{
	size_t avail = io_avail(&s->io);
	if (avail == 0)
		return false;
	size_t n = smtp_data_feed(&s->data, io_data(&s->io), avail, &s->content);
	io_consume(&s->io, n);
	content_append_check(s);
	if (s->data.done) {
		content_end(s);
		return true;
	}
	return false;
}

static bool
step_bdat(struct session *s)
{
	size_t avail = io_avail(&s->io);
	if (s->bdat_left > 0) {
		if (avail == 0)
			return false;
		size_t n = avail < s->bdat_left ? avail : (size_t)s->bdat_left;
		if (!s->bdat_failed)
			smtp_bdat_feed(&s->data, io_data(&s->io), n, &s->content);
		io_consume(&s->io, n);
		s->bdat_left -= n;
		if (!s->bdat_failed)
			content_append_check(s);
		if (s->bdat_left > 0)
			return false;
	}
	/* chunk complete */
	s->st = S_CMD;
	if (s->bdat_failed) {
		reject_cmd(s, s->bdat_err ? s->bdat_err : "554 5.5.0 Error: transaction failed",
		    (const uint8_t *)"BDAT", 4);
		if (s->bdat_last)
			txn_reset(s);
		return true;
	}
	if (s->bdat_last) {
		smtp_bdat_finish(&s->data, &s->content);
		content_end(s);
		return true;
	}
	if (s->too_big) {
		/* RFC 3030: a failed chunk fails the transaction */
		s->bdat_err = "552 5.3.4 Message size exceeds fixed maximum message size";
		s->bdat_failed = true;
		reply(s, "%s", s->bdat_err);
		return true;
	}
	reply(s, "250 2.0.0 %llu octets received", (unsigned long long)s->data.n_raw);
	return true;
}

static void
begin_tls(struct session *s)
{
	s->starttls_pending = false;
	if (io_start_tls(&s->io, W.tls) < 0) {
		log_warn("smtp session=%s event=tls error=\"%s\"", s->sid, s->io.errstr);
		s->st = S_CLOSING;
		return;
	}
	s->st = S_HANDSHAKE;
	/* RFC 3207 4.2: forget everything the client told us before */
	s->helo_seen = false;
	s->esmtp = false;
	s->helo[0] = '\0';
	txn_reset(s);
}

static void
greet(struct session *s)
{
	reply(s, "220 %s ESMTP Talon", W.conf->hostname);
	s->st = S_CMD;
}

static void
handshake(struct session *s)
{
	int r = io_handshake(&s->io);
	if (r == 0)
		return;
	if (r < 0) {
		log_info("smtp session=%s event=tls result=fail error=\"%s\"", s->sid, s->io.errstr);
		s->io.error = true;
		return;
	}
	s->is_tls = true;
	tls_describe(s->io.ssl, s->tls_desc, sizeof s->tls_desc);
	log_info("smtp session=%s event=tls result=ok tls=%s", s->sid, s->tls_desc);
	if (s->lis->tls == CONF_TLS_IMPLICIT)
		greet(s);
	else
		s->st = S_CMD;
}

/* Process buffered input until nothing more can be done without waiting
 * (for the client, the parent or the queue).  There is no round limit: a
 * limit would leave pipelined commands sitting in our buffer with nothing
 * left in the socket to wake us up again.  The input buffer (IN_MAX) bounds
 * the work of one call. */
static void
session_process(struct session *s)
{
	for (;;) {
		if (s->io.error)
			break;
		if (s->st == S_HANDSHAKE) {
			handshake(s);
			if (s->st == S_HANDSHAKE)
				break;
			continue;
		}
		if (s->starttls_pending) {
			if (io_flush(&s->io) < 0)
				break;
			if (s->io.out.len > 0)
				break;	/* 220 not out yet; resume on LOOP_WRITE */
			begin_tls(s);
			continue;
		}
		if (s->st == S_ADMIT || s->st == S_WAIT_OPEN || s->st == S_WAIT_COMMIT ||
		    s->st == S_CLOSING)
			break;
		/* don't let a client that never reads make us buffer replies */
		if (s->io.out.len > OUT_PAUSE)
			break;
		bool progress = false;
		switch (s->st) {
		case S_CMD:
			progress = step_cmd(s);
			break;
		case S_SKIP:
			progress = step_skip(s);
			break;
		case S_DATA:
			progress = step_data(s);
			break;
		case S_BDAT:
			progress = step_bdat(s);
			break;
		default:
			break;
		}
		if (progress)
			continue;
		/* buffered input exhausted: read more */
		if (s->io.eof)
			break;
		if (io_read(&s->io) <= 0 && !io_pending(&s->io))
			break;
	}
}

/* --- session lifecycle --------------------------------------------------- */

static void
session_timeout(struct loop *l, void *arg)
{
	struct session *s = arg;
	log_info("smtp session=%s event=timeout state=%d queue=%s", s->sid, s->st, qid_or_none(s));
	if (s->st == S_WAIT_OPEN || s->st == S_WAIT_COMMIT)
		/* the message may or may not become durable: 4xx, never 250 */
		reply(s, "451 4.3.0 %s Error: timeout waiting for the queue", W.conf->hostname);
	else if (s->st != S_HANDSHAKE && !s->starttls_pending && s->st != S_ADMIT)
		reply(s, "421 4.4.2 %s Error: timeout exceeded", W.conf->hostname);
	s->st = S_CLOSING;
	session_update(s);
}

static void
session_event(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct session *s = arg;
	if (ev & LOOP_WRITE) {
		if (s->st == S_HANDSHAKE)
			handshake(s);
		else
			io_flush(&s->io);
	}
	/* after a write too: output may have drained below OUT_PAUSE, and
	 * buffered pipelined commands are waiting for that */
	session_process(s);
	session_update(s);
}

static bool
wants_input(const struct session *s)
{
	switch (s->st) {
	case S_CMD: case S_SKIP: case S_DATA: case S_BDAT:
		return !s->starttls_pending && s->io.out.len <= OUT_PAUSE;
	case S_CLOSING:
		return false;
	default:
		return false;
	}
}

/* After any activity: write output, arm the timer, set epoll interest,
 * and close the session when it is done. */
static void
session_update(struct session *s)
{
	if (!s->io.error && s->io.out.len > 0)
		io_flush(&s->io);
	/* a client that went away while we wait for the queue still gets
	 * its transaction finished (or aborted) before we let go */
	bool done = s->io.error ||
	    (s->st == S_CLOSING && s->io.out.len == 0) ||
	    (s->io.eof && s->st != S_WAIT_COMMIT && s->st != S_WAIT_OPEN && s->st != S_ADMIT);
	if (done) {
		session_free(s);
		return;
	}
	if (s->stop_after_reply && (s->st == S_CMD || s->st == S_SKIP)) {
		reply(s, "421 4.3.2 %s Service shutting down", W.conf->hostname);
		s->st = S_CLOSING;
		io_flush(&s->io);
		if (s->io.out.len == 0 || s->io.error) {
			session_free(s);
			return;
		}
	}
	unsigned ev = io_events(&s->io, wants_input(s));
	if (s->st == S_CLOSING)
		ev = s->io.out.len ? LOOP_WRITE : 0;
	loop_mod(W.loop, s->io.fd, ev);
	/* waiting for our own processes: a stuck queue must not hold the
	 * client forever, but a busy one gets the full data timeout */
	if (s->st == S_WAIT_OPEN || s->st == S_WAIT_COMMIT || s->st == S_ADMIT) {
		if (!timer_armed(&s->timer))
			timer_set(W.loop, &s->timer, (uint64_t)W.conf->data_timeout * 1000);
	} else {
		unsigned t = (s->st == S_DATA || s->st == S_BDAT) ? W.conf->data_timeout
		    : W.conf->cmd_timeout;
		if (s->st == S_CLOSING)
			t = 10;
		timer_set(W.loop, &s->timer, (uint64_t)t * 1000);
	}
	/* idle sessions give their buffers back */
	if (s->st == S_CMD && io_avail(&s->io) == 0 && s->io.out.len == 0)
		io_trim(&s->io);
}

static struct session *
session_find(uint64_t id)
{
	for (struct session *s = W.sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void
session_free(struct session *s)
{
	log_info("smtp session=%s event=disconnect client=[%s] commands=%u messages=%u "
	    "recipients=%u errors=%u%s%s", s->sid, s->ip, s->n_cmds, s->n_msgs,
	    s->n_rcpts_total, s->n_errors, s->io.error ? " error=" : "",
	    s->io.error ? s->io.errstr : "");
	txn_reset(s);
	timer_cancel(W.loop, &s->timer);
	loop_del(W.loop, s->io.fd);
	io_close(&s->io);
	if (s->admitted && W.policy != NULL)
		proto_admit_end_send(W.policy, s->id);
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
		struct session *s = xcalloc(1, sizeof *s);
		if (getrandom(&s->id, sizeof s->id, 0) != sizeof s->id)
			s->id = now_ms() ^ ((uint64_t)fd << 40);
		snprintf(s->sid, sizeof s->sid, "%016llx", (unsigned long long)s->id);
		s->lis = lis;
		s->peer = ss;
		s->peerlen = sl;
		s->spool_fd = -1;
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
			if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
				inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], s->ip, sizeof s->ip);
			else
				inet_ntop(AF_INET6, &a6->sin6_addr, s->ip, sizeof s->ip);
		} else {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, s->ip, sizeof s->ip);
		}
		io_init(&s->io, fd, IN_MAX, OUT_MAX);
		timer_init(&s->timer, session_timeout, s);
		s->st = S_ADMIT;
		s->next = W.sessions;
		if (W.sessions)
			W.sessions->prev = s;
		W.sessions = s;
		W.n_sessions++;
		loop_add(W.loop, fd, 0, session_event, s);
		log_info("smtp session=%s event=connect client=[%s] listener=%s", s->sid, s->ip, lis->text);
		/* without a policy process (it is restarting) the session waits
		 * in S_ADMIT and is asked for when the new one is connected */
		if (W.policy != NULL)
			proto_admit_send(W.policy, PROTO_ADMIT, s->id, &s->peer, s->peerlen);
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
admitted(struct session *s, uint32_t verdict)
{
	if (verdict != ADMIT_OK) {
		const char *why = verdict == ADMIT_TOO_MANY_IP ?
		    "too many connections from your address" : "too many connections";
		log_info("smtp session=%s event=reject client=[%s] result=\"421 4.7.0\" reason=\"%s\"",
		    s->sid, s->ip, why);
		reply(s, "421 4.7.0 %s Error: %s, try again later", W.conf->hostname, why);
		s->st = S_CLOSING;
		return;
	}
	s->admitted = true;
	if (s->lis->tls == CONF_TLS_IMPLICIT) {
		if (io_start_tls(&s->io, W.tls) < 0) {
			s->io.error = true;
			return;
		}
		s->st = S_HANDSHAKE;
		handshake(s);
		return;
	}
	greet(s);
}

/* --- channels ------------------------------------------------------------ */

static void
stop_sessions_now(struct loop *l, void *arg)
{
	/* grace period over: end idle sessions with 421 and those waiting
	 * on the queue right after their reply */
	for (struct session *s = W.sessions, *next; s; s = next) {
		next = s->next;
		s->stop_after_reply = true;
		if (s->st == S_DATA || s->st == S_BDAT || s->st == S_HANDSHAKE || s->st == S_ADMIT) {
			if (s->st == S_DATA || s->st == S_BDAT)
				reply(s, "421 4.3.2 %s Service shutting down", W.conf->hostname);
			s->st = S_CLOSING;
		}
		session_update(s);
	}
}

static void smtp_queue_attach(int fd);
static void smtp_policy_attach(int fd);

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
		if (pe.role == ROLE_QUEUE)
			smtp_queue_attach(m->fd);
		else if (pe.role == ROLE_POLICY)
			smtp_policy_attach(m->fd);
		else
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

/* The queue's answers.  A reply for a session that is gone (or no longer
 * waiting) is handled so that nothing leaks: a spool file handed to a dead
 * session is given back with ABORT. */
static const char *
queue_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct session *s = session_find(m->id);
	switch (m->type) {
	case PROTO_OPEN_OK: {
		struct proto_qid q;
		if (proto_qid_dec(m, &q) < 0)
			return "bad OPEN_OK";
		if (s == NULL || s->st != S_WAIT_OPEN) {
			/* the session is gone: hand the file back */
			proto_abort_send(W.queue, m->id, q.qid);
			break;
		}
		snprintf(s->qid, sizeof s->qid, "%s", q.qid);
		s->spool_fd = m->fd;
		m->fd = -1;
		content_begin(s);
		if (s->want_bdat_chunk) {
			smtp_bdat_init(&s->data);
			s->st = S_BDAT;
		} else {
			smtp_data_init(&s->data);
			reply(s, "354 End data with <CR><LF>.<CR><LF>");
			s->st = S_DATA;
		}
		session_process(s);
		session_update(s);
		break;
	}
	case PROTO_OPEN_FAIL: {
		struct proto_errno pe;
		if (proto_errno_dec(m, &pe) < 0)
			return "bad OPEN_FAIL";
		if (s == NULL || s->st != S_WAIT_OPEN)
			break;
		int e = (int)pe.err;
		const char *err = (e == ENOSPC || e == EDQUOT) ?
		    "452 4.3.1 Insufficient system storage" :
		    "451 4.3.0 Error: local error in processing";
		log_warn("smtp session=%s event=reject result=\"%.9s\" reason=\"spool: %s\"",
		    s->sid, err, strerror(e));
		if (s->want_bdat_chunk) {
			/* the chunk bytes still follow: read them, then refuse */
			s->bdat_failed = true;
			s->bdat_err = err;
			s->st = S_BDAT;
		} else {
			reply(s, "%s", err);
			s->st = S_CMD;
			txn_reset(s);
		}
		session_process(s);
		session_update(s);
		break;
	}
	case PROTO_COMMIT_OK:
	case PROTO_COMMIT_FAIL: {
		struct proto_errno pe = { 0 };
		if (m->type == PROTO_COMMIT_FAIL ? proto_errno_dec(m, &pe) < 0 :
		    proto_empty_dec(m) < 0)
			return "bad COMMIT reply";
		if (s == NULL || s->st != S_WAIT_COMMIT)
			break;
		int e = (int)pe.err;
		if (e == 0) {
			char sender[SMTP_PATH_MAX * 4];
			log_path(&s->sender, sender, sizeof sender);
			log_info("smtp session=%s event=accepted queue=%s from=<%s> nrcpt=%zu size=%llu",
			    s->sid, s->qid, sender, s->n_rcpts, (unsigned long long)s->spool_len);
			reply(s, "250 2.0.0 Ok: queued as %s", s->qid);
			s->n_msgs++;
			s->qid[0] = '\0';	/* committed: nothing to abort */
		} else if (e == ENOSPC || e == EDQUOT) {
			reply(s, "452 4.3.1 Insufficient system storage");
			s->qid[0] = '\0';
		} else {
			reply(s, "451 4.3.0 Error: local error in processing");
			s->qid[0] = '\0';
		}
		txn_reset(s);
		s->st = S_CMD;
		session_process(s);
		session_update(s);
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
	if (ipc_close_reason(c) != NULL)
		log_err("smtp event=peer-refused role=queue reason=\"%s\"", ipc_close_reason(c));
	log_warn("smtp event=queue-gone");
	ipc_free(&W.queue);
	W.queue = NULL;
	for (struct session *s = W.sessions, *next; s; s = next) {
		next = s->next;
		s->qid[0] = '\0';	/* nobody to abort with */
		if (s->spool_fd >= 0) {
			close(s->spool_fd);
			s->spool_fd = -1;
		}
		if (s->st == S_WAIT_OPEN || s->st == S_WAIT_COMMIT) {
			if (s->st == S_WAIT_OPEN && s->want_bdat_chunk) {
				s->bdat_failed = true;
				s->bdat_err = "451 4.3.0 Error: queue unavailable, try again later";
				s->st = S_BDAT;
			} else {
				queue_gone_fail(s);
				txn_reset(s);
				s->st = S_CMD;
			}
			session_process(s);
			session_update(s);
		} else if (s->st == S_DATA || s->st == S_BDAT) {
			s->werr = EIO;	/* fails at the end of the data */
		}
	}
}

static void
smtp_queue_attach(int fd)
{
	ipc_free(&W.queue);
	W.queue = ipc_new(W.loop, fd, queue_msg, queue_close, NULL);
}

/* --- policy channel -------------------------------------------------------- */

static const char *
policy_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct proto_admit_reply r;
	if (m->type != PROTO_ADMIT_REPLY)
		return "unexpected message";
	if (proto_admit_reply_dec(m, &r) < 0)
		return "bad ADMIT_REPLY";
	struct session *s = session_find(m->id);
	if (s != NULL && s->st == S_ADMIT) {
		admitted(s, r.verdict);
		session_process(s);
		session_update(s);
	} else if (s == NULL && r.verdict == ADMIT_OK) {
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
	if (ipc_close_reason(c) != NULL)
		log_err("smtp event=peer-refused role=policy reason=\"%s\"", ipc_close_reason(c));
	log_warn("smtp event=policy-gone");
	ipc_free(&W.policy);
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
			proto_admit_send(W.policy, PROTO_ADMIT_HOLD, s->id, &s->peer, s->peerlen);
		else if (s->st == S_ADMIT)
			proto_admit_send(W.policy, PROTO_ADMIT, s->id, &s->peer, s->peerlen);
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

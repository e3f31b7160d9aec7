/*
 * smtp/session.c - the I/O driver of one SMTP session.
 *
 * Input:   bytes from the network (untrusted), through core/io.
 * Output:  replies, collected and written in one go when the input runs
 *          dry; log lines.
 * Trusts:  nothing the client sends.  Runs in: smtp worker.
 *
 * Each session is an explicit state machine (enum sstate in session.h).
 * Input is processed as long as complete commands are buffered
 * (PIPELINING, RFC 2920).  While a session waits for another process
 * (S_WAIT) it reads nothing, so pipelined commands simply stay buffered.
 *
 * Line framing: only CRLF ends a command line; a bare CR or LF inside one
 * is refused with 500 5.5.2 (no SMTP smuggling).  DATA framing lives in
 * smtp/data.c.  Replies carry RFC 3463 enhanced status codes except the
 * greeting and EHLO/HELO lines (RFC 2034).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/tls.h"
#include "core/util.h"
#include "mail/conf.h"
#include "policy/bans.h"
#include "proto/smtp_policy.h"
#include "smtp/session.h"

static void handshake(struct session *s);
static void begin_tls(struct session *s);

/* --- replies and logging ------------------------------------------------- */

void
smtp_reply(struct session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	io_vline(&s->io, fmt, ap);
	va_end(ap);
}

/* An address for a log line: quoted local parts may hold spaces, quotes
 * and backslashes, UTF-8 under SMTPUTF8; escape it like any client text. */
void
smtp_log_path(const struct smtp_path *p, char *dst, size_t n)
{
	char raw[SMTP_PATH_MAX * 2];
	smtp_path_str(p, raw, sizeof raw);
	log_escape(dst, n, raw, strlen(raw));
}

const char *
smtp_qid(const struct session *s)
{
	return s->t.qid[0] ? s->t.qid : "none";
}

/* A 5xx for a broken command counts towards max_errors. */
static void
protocol_error(struct session *s)
{
	s->n_errors++;
	if (s->n_errors >= W.conf->max_errors) {
		log_info("smtp session=%s event=disconnect reason=\"too many errors\" errors=%u",
		    s->sid, s->n_errors);
		smtp_reply(s, "421 4.7.0 %s Error: too many errors", W.conf->hostname);
		s->st = S_CLOSING;
	}
}

void
smtp_refuse(struct session *s, const struct verdict *v, const char *fields, bool counts)
{
	/* every decision names the client, by address and verified name */
	char who[SOCKADDR_IP_MAX + 300];
	snprintf(who, sizeof who, "%s%s%s client_name=%s", strstr(fields, "client=[") ? "" :
	    " client=[", strstr(fields, "client=[") ? "" : s->ip,
	    strstr(fields, "client=[") ? "" : "]", s->rdns_name[0] ? s->rdns_name : "unknown");
	if (v->code >= 400 && v->code < 500)
		log_warn("smtp session=%s event=reject queue=%s %s result=\"%u %s\" reason=\"%s\"%s",
		    s->sid, smtp_qid(s), fields, v->code, v->esc, v->reason, who);
	else
		log_info("smtp session=%s event=reject queue=%s %s result=\"%u %s\" reason=\"%s\"%s",
		    s->sid, smtp_qid(s), fields, v->code, v->esc, v->reason, who);
	smtp_reply(s, "%u %s %s", v->code, v->esc, v->text);
	if (counts && v->code >= 500)
		protocol_error(s);
}

void
smtp_reject_cmd(struct session *s, const char *code_text, const uint8_t *line, size_t len)
{
	char esc[200];
	log_escape(esc, sizeof esc, line, len > 100 ? 100 : len);
	log_info("smtp session=%s event=reject queue=%s cmd=\"%s\" result=\"%s\"",
	    s->sid, smtp_qid(s), esc, code_text);
	smtp_reply(s, "%s", code_text);
	if (code_text[0] == '5') {
		smtp_event(s, BAN_EV_PROTOCOL);
		protocol_error(s);
	}
}

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
		smtp_reject_cmd(s, "500 5.5.2 Error: line too long", io_data(&s->io), 40);
		if (s->st != S_CLOSING)
			s->st = S_SKIP;
		return true;
	}
	/* whether PIPELINING was negotiated before this command: the EHLO
	 * that offers it may not be pipelined itself */
	bool negotiated = s->esmtp;
	smtp_handle_command(s, line, len);
	io_consume(&s->io, used);
	smtp_def_pipelining(s, negotiated, io_avail(&s->io));
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

static bool
step_data(struct session *s)
{
	if (s->t.spill_pending)
		return false;
	if (!s->t.data.done) {
		size_t avail = io_avail(&s->io);
		if (avail == 0)
			return false;
		size_t n = smtp_data_feed(&s->t.data, io_data(&s->io), avail, &s->t.content);
		io_consume(&s->io, n);
		smtp_content_append(s);
		if (!s->t.data.done || s->t.spill_pending)
			return false;
	}
	/* all in: the envelope must fit where the message is too */
	if (smtp_spool_spill(s, true))
		return false;
	smtp_content_end(s);
	return true;
}

static bool
step_bdat(struct session *s)
{
	size_t avail = io_avail(&s->io);
	if (s->t.spill_pending)
		return false;
	if (s->t.bdat_left > 0) {
		if (avail == 0)
			return false;
		size_t n = avail < s->t.bdat_left ? avail : (size_t)s->t.bdat_left;
		if (!s->t.bdat_failed)
			smtp_bdat_feed(&s->t.data, io_data(&s->io), n, &s->t.content);
		io_consume(&s->io, n);
		s->t.bdat_left -= n;
		if (!s->t.bdat_failed)
			smtp_content_append(s);
		if (s->t.bdat_left > 0 || s->t.spill_pending)
			return false;
	}
	/* the last chunk: the envelope must fit where the message is */
	if (s->t.bdat_last && !s->t.bdat_failed && smtp_spool_spill(s, true))
		return false;
	/* chunk complete */
	s->st = S_CMD;
	if (s->t.bdat_failed) {
		smtp_reject_cmd(s, s->t.bdat_err ? s->t.bdat_err : "554 5.5.0 Error: transaction failed",
		    (const uint8_t *)"BDAT", 4);
		if (s->t.bdat_last)
			smtp_txn_reset(s);
		return true;
	}
	if (s->t.bdat_last) {
		smtp_bdat_finish(&s->t.data, &s->t.content);
		smtp_content_end(s);
		return true;
	}
	if (s->t.too_big) {
		/* RFC 3030: a failed chunk fails the transaction */
		s->t.bdat_err = "552 5.3.4 Message size exceeds fixed maximum message size";
		s->t.bdat_failed = true;
		smtp_reply(s, "%s", s->t.bdat_err);
		return true;
	}
	smtp_reply(s, "250 2.0.0 %llu octets received", (unsigned long long)s->t.data.n_raw);
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
	smtp_txn_reset(s);
}

void
smtp_greet(struct session *s)
{
	smtp_reply(s, "220 %s ESMTP Talon", W.conf->hostname);
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
		smtp_greet(s);
	else
		s->st = S_CMD;
}

/* Process buffered input until nothing more can be done without waiting
 * (for the client, the parent or the queue).  There is no round limit: a
 * limit would leave pipelined commands sitting in our buffer with nothing
 * left in the socket to wake us up again.  The input buffer (IN_MAX) bounds
 * the work of one call. */
void
smtp_session_process(struct session *s)
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
		if (s->st == S_WAIT || s->st == S_CLOSING)
			break;
		/* the data waits for the queue's file on disk (SPILL) */
		if (s->t.spill_pending && (s->st == S_DATA || s->st == S_BDAT))
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
		case S_PAUSE:
			if (io_avail(&s->io) > 0) {
				smtp_def_early_talker(s);
				progress = true;
			}
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

void
smtp_session_timeout(struct loop *l, void *arg)
{
	struct session *s = arg;
	if (s->st == S_PAUSE && now_ms() < s->deadline) {
		smtp_def_pause_over(s);
		smtp_session_process(s);
		smtp_session_update(s);
		return;
	}
	bool over = s->st != S_WAIT && s->st != S_CLOSING && now_ms() >= s->deadline;
	log_info("smtp session=%s event=timeout state=%d queue=%s%s", s->sid, s->st, smtp_qid(s),
	    over ? " reason=\"session time limit\"" : "");
	if (s->st == S_WAIT && (s->wait == WAIT_OPEN || s->wait == WAIT_COMMIT))
		/* the message may or may not become durable: 4xx, never 250 */
		smtp_reply(s, "451 4.3.0 %s Error: timeout waiting for the queue", W.conf->hostname);
	else if (over && s->st != S_HANDSHAKE && !s->starttls_pending)
		smtp_reply(s, "421 4.4.2 %s Error: session time limit exceeded", W.conf->hostname);
	else if (s->st != S_HANDSHAKE && !s->starttls_pending && s->st != S_WAIT)
		smtp_reply(s, "421 4.4.2 %s Error: timeout exceeded", W.conf->hostname);
	s->st = S_CLOSING;
	smtp_session_update(s);
}

void
smtp_session_event(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct session *s = arg;
	if ((ev & LOOP_ERROR) && s->st == S_WAIT) {
		/* reset while we wait for a peer: nothing reads the socket now,
		 * and epoll would report the hangup again at once, for ever */
		s->io.error = true;
		snprintf(s->io.errstr, sizeof s->io.errstr, "connection reset while waiting");
		smtp_session_update(s);
		return;
	}
	if (ev & LOOP_READ)
		io_readable(&s->io);
	if ((ev & LOOP_READ) && s->st == S_WAIT)
		s->wait_read_off = true;	/* see smtp_session_update */
	if (ev & LOOP_WRITE) {
		if (s->st == S_HANDSHAKE)
			handshake(s);
		else
			io_flush(&s->io);
	}
	/* after a write too: output may have drained below OUT_PAUSE, and
	 * buffered pipelined commands are waiting for that */
	smtp_session_process(s);
	smtp_session_update(s);
}

static bool
wants_input(const struct session *s)
{
	switch (s->st) {
	case S_DATA: case S_BDAT:
		if (s->t.spill_pending)
			return false;
		/* FALLTHROUGH */
	case S_CMD: case S_SKIP:
		return !s->starttls_pending && s->io.out.len <= OUT_PAUSE;
	case S_PAUSE:
		return true;	/* a client that talks now is refused */
	case S_CLOSING:
		return false;
	default:
		return false;
	}
}

/* After any activity: write output, arm the timer, set epoll interest,
 * and close the session when it is done. */
void
smtp_session_update(struct session *s)
{
	if (!s->io.error && s->io.out.len > 0)
		io_flush(&s->io);
	/* a client that went away while we wait for the queue still gets
	 * its transaction finished (or aborted) before we let go */
	bool done = s->io.error ||
	    (s->st == S_CLOSING && s->io.out.len == 0) ||
	    (s->io.eof && s->st != S_WAIT);
	if (done) {
		smtp_session_free(s);
		return;
	}
	if (s->stop_after_reply && (s->st == S_CMD || s->st == S_SKIP)) {
		smtp_reply(s, "421 4.3.2 %s Service shutting down", W.conf->hostname);
		s->st = S_CLOSING;
		io_flush(&s->io);
		if (s->io.out.len == 0 || s->io.error) {
			smtp_session_free(s);
			return;
		}
	}
	unsigned ev = io_events(&s->io, wants_input(s));
	/* A wait for our own processes usually ends before the client sends
	 * anything: read interest stays on through it (two epoll_ctl calls
	 * fewer per wait), and goes off only once input arrives during the
	 * wait, which level-triggered epoll would otherwise report again and
	 * again until the wait ends. */
	if (s->st != S_WAIT)
		s->wait_read_off = false;
	else if (!s->wait_read_off && s->io.st != IO_HANDSHAKE)
		ev |= loop_events(W.loop, s->io.fd) & LOOP_READ;
	if (s->st == S_CLOSING)
		ev = s->io.out.len ? LOOP_WRITE : 0;
	loop_mod(W.loop, s->io.fd, ev);
	/* waiting for our own processes: a stuck queue must not hold the
	 * client forever, but a busy one gets the full data timeout */
	if (s->st == S_WAIT) {
		if (!timer_armed(&s->timer))
			timer_set(W.loop, &s->timer, (uint64_t)W.conf->data_timeout * 1000);
	} else {
		unsigned t = (s->st == S_DATA || s->st == S_BDAT) ? W.conf->data_timeout
		    : W.conf->cmd_timeout;
		if (s->st == S_HANDSHAKE)
			t = W.conf->tls_timeout;
		if (s->st == S_PAUSE) {
			uint64_t n = now_ms();
			timer_set(W.loop, &s->timer, s->pause_until > n ? s->pause_until - n : 0);
			return;
		}
		if (s->st == S_CLOSING)
			t = 10;
		/* no session holds a slot for ever, however it trickles */
		uint64_t ms = (uint64_t)t * 1000, now = now_ms();
		if (s->st != S_CLOSING)
			ms = s->deadline <= now ? 0 : (s->deadline - now < ms ? s->deadline - now : ms);
		timer_set(W.loop, &s->timer, ms);
	}
	/* idle sessions give their buffers back */
	if (s->st == S_CMD && io_avail(&s->io) == 0 && s->io.out.len == 0)
		io_trim(&s->io);
}

void
smtp_admitted(struct session *s, uint32_t verdict)
{
	if (verdict != ADMIT_OK) {
		const char *why = verdict == ADMIT_TOO_MANY_IP ?
		    "too many connections from your address" : verdict == ADMIT_RATE ?
		    "too many connections from your address in the last minute" :
		    "too many connections";
		struct verdict v;
		char fields[80];
		if (verdict == ADMIT_BANNED)
			verdict_set(&v, 554, "5.7.1", "banned", "%s Access denied",
			    W.conf->hostname);
		else
			verdict_set(&v, 421, "4.7.0", why, "%s Error: %s, try again later",
			    W.conf->hostname, why);
		snprintf(fields, sizeof fields, "client=[%s]", s->ip);
		smtp_refuse(s, &v, fields, false);
		s->st = S_CLOSING;
		return;
	}
	s->admitted = true;
	smtp_def_admitted(s);
	smtp_auth_connect(s);
	if (!smtp_access_connect(s))
		smtp_connect_continue(s);
}

void
smtp_connect_continue(struct session *s)
{
	if (s->lis->tls == CONF_TLS_IMPLICIT) {
		if (io_start_tls(&s->io, W.tls) < 0) {
			s->io.error = true;
			return;
		}
		s->st = S_HANDSHAKE;
		handshake(s);
		return;
	}
	if (!smtp_def_connect(s))
		smtp_greet(s);
}

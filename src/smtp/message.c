/*
 * smtp/message.c - building the stored message.
 *
 * Input:   the transaction (envelope) and the content as the DATA/BDAT
 *          framing passes it on.
 * Output:  the spool file, written into the descriptor the queue handed
 *          out (we never learn where the spool is): magic, our Received
 *          header, the content, the envelope records and trailer
 *          (mail/spool.h); then COMMIT to the queue.
 * Runs in: smtp worker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "mail/conf.h"
#include "proto/smtp_policy.h"
#include "proto/smtp_queue.h"
#include "smtp/session.h"

static void
spool_abort(struct session *s)
{
	if (s->t.qid[0] != '\0' && W.queue != NULL)
		proto_abort_send(W.queue, s->id, s->t.qid);
	if (s->t.spool_fd >= 0)
		close(s->t.spool_fd);
	s->t.spool_fd = -1;
	s->t.qid[0] = '\0';
}

void
smtp_txn_reset(struct session *s)
{
	spool_abort(s);
	smtp_auth_txn_free(s);
	smtp_def_txn_reset(s);
	free(s->t.rcpts);
	buf_free(&s->t.content);
	memset(&s->t, 0, sizeof s->t);
	s->t.spool_fd = -1;
	s->t.body = SMTP_BODY_NONE;
}

static void
content_flush(struct session *s)
{
	if (s->t.content.len == 0)
		return;
	if (s->t.auth != NULL && s->t.fed < s->t.content.len)
		smtp_auth_feed(s, s->t.content.data + s->t.fed, s->t.content.len - s->t.fed);
	s->t.fed = 0;
	if (s->t.werr == 0 && !s->t.too_big && s->t.spool_fd >= 0) {
		const uint8_t *p = s->t.content.data;
		size_t n = s->t.content.len;
		while (n > 0) {
			ssize_t w = write(s->t.spool_fd, p, n);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				s->t.werr = errno;
				log_warn("smtp session=%s event=spool-write queue=%s error=\"%s\"",
				    s->sid, smtp_qid(s), strerror(errno));
				break;
			}
			p += w;
			n -= (size_t)w;
			s->t.spool_len += (uint64_t)w;
		}
	}
	buf_reset(&s->t.content);
}

static void
rfc5322_date(char *dst, size_t n, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(dst, n, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* The spool file starts with the magic and our Received header. */
void
smtp_content_begin(struct session *s)
{
	char date[64];
	const char *proto;
	s->t.arrival = time(NULL);
	rfc5322_date(date, sizeof date, s->t.arrival);
	/* RFC 3848 / RFC 6531 "with" keywords */
	if (s->t.smtputf8)
		proto = s->is_tls ? "UTF8SMTPS" : "UTF8SMTP";
	else if (s->esmtp)
		proto = s->is_tls ? "ESMTPS" : "ESMTP";
	else
		proto = s->is_tls ? "SMTPS" : "SMTP";
	buf_free(&s->t.content);
	buf_init(&s->t.content, SIZE_MAX);
	buf_append(&s->t.content, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
	/* the client's name only when its address leads back to it (RFC 5321
	 * 4.4: the TCP-info of the "from" clause) */
	buf_printf(&s->t.content, "Received: from %s (%s [%s])\n\tby %s (Talon) with %s id %s",
	    s->helo, s->rdns == RDNS_PASS ? s->rdns_name : "unknown", s->ip, W.conf->hostname,
	    proto, s->t.qid);
	if (s->is_tls)
		buf_printf(&s->t.content, "\n\t(%s)", s->tls_desc);
	/* name the recipient only when there is one: more would leak Bcc */
	if (s->t.n_rcpt_cmds == 1)
		buf_printf(&s->t.content, "\n\tfor <%s>", s->t.first_rcpt);
	buf_printf(&s->t.content, "; %s\n", date);
	s->t.fed = s->t.content.len;
	smtp_auth_begin(s, s->t.content.len - SPOOL_MAGIC_LEN);
	s->t.spool_len = 0;
	s->t.too_big = false;
	s->t.werr = 0;
}

void
smtp_queue_gone(struct session *s)
{
	struct verdict v;
	verdict_set(&v, 451, "4.3.0", "queue unavailable", "Error: queue unavailable, try again later");
	smtp_refuse(s, &v, "", false);
}

/* End of message (DATA end or BDAT LAST): refuse or commit. */
/* The end-of-data checks that exist today: framing, size, and whether
 * the spool file was written.  V_NEXT when the message may be committed. */
static void
data_verdict(struct session *s, struct verdict *v)
{
	v->kind = V_NEXT;
	if (s->t.data.bare_lf || s->t.data.bare_cr)
		verdict_set(v, 550, "5.5.2", "bare CR or LF in content",
		    "Message refused: bare CR or LF in content (CRLF line ends required)");
	else if (s->t.too_big)
		verdict_set(v, 552, "5.3.4", "message too big",
		    "Message size exceeds fixed maximum message size");
	else if (s->t.werr == ENOSPC || s->t.werr == EDQUOT || s->t.werr == EFBIG)
		verdict_set(v, 452, "4.3.1", "spool full", "Insufficient system storage");
	else if (s->t.werr != 0)
		verdict_set(v, 451, "4.3.0", "spool write error",
		    "Error: local error writing the message");
	else if (W.queue == NULL)
		verdict_set(v, 451, "4.3.0", "queue unavailable",
		    "Error: queue unavailable, try again later");
}

/* Append the envelope records and trailer after the content. */
static void
write_envelope(struct session *s, const char *header)
{
	char sender[SMTP_PATH_MAX * 2];
	struct spool_env env;
	smtp_path_str(&s->t.sender, sender, sizeof sender);
	memset(&env, 0, sizeof env);
	snprintf(env.qid, sizeof env.qid, "%s", s->t.qid);
	snprintf(env.session, sizeof env.session, "%s", s->sid);
	env.time = (uint64_t)s->t.arrival;
	env.sender = sender;
	struct spool_rcpt *rs = xcalloc(s->t.n_rcpts, sizeof *rs);
	for (size_t i = 0; i < s->t.n_rcpts; i++) {
		rs[i].idx = (uint32_t)i;
		rs[i].user = s->t.rcpts[i].user;
		rs[i].addr = s->t.rcpts[i].addr;
	}
	env.rcpts = rs;
	env.n_rcpts = s->t.n_rcpts;
	env.header = (char *)header;
	memcpy(env.skips, s->t.skips, sizeof env.skips);
	env.n_skips = s->t.n_skips;
	memcpy(env.folder, s->t.folder, sizeof env.folder);
	uint64_t clen = s->t.spool_len - SPOOL_MAGIC_LEN;
	buf_reset(&s->t.content);
	spool_encode(&s->t.content, &env, clen);
	free(rs);
	content_flush(s);
}

static void
refuse_message(struct session *s, const struct verdict *v)
{
	char lsender[SMTP_PATH_MAX * 4], fields[SMTP_PATH_MAX * 4 + 16];
	smtp_log_path(&s->t.sender, lsender, sizeof lsender);
	snprintf(fields, sizeof fields, "from=<%s>", lsender);
	smtp_refuse(s, v, fields, false);
	smtp_txn_reset(s);
	s->st = S_CMD;
}

/* End of message (DATA end or BDAT LAST): refuse, or check its
 * authentication and then ask the queue to commit (the 250 waits for its
 * answer). */
void
smtp_content_end(struct session *s)
{
	struct verdict v;
	data_verdict(s, &v);
	if (v.kind == V_NEXT) {
		content_flush(s);	/* the rest of the content, through the checks */
		data_verdict(s, &v);	/* the writes may have failed */
	}
	if (v.kind != V_NEXT) {
		refuse_message(s, &v);
		return;
	}
	if (s->t.discard || s->discard_all) {
		/* the access map said DISCARD: the client is told the message
		 * was taken, and it goes nowhere (sendmail's DISCARD) */
		char sender[SMTP_PATH_MAX * 4];
		smtp_log_path(&s->t.sender, sender, sizeof sender);
		log_info("smtp session=%s event=discard queue=%s client=[%s] from=<%s> nrcpt=%zu "
		    "reason=\"access map DISCARD\"", s->sid, s->t.qid, s->ip, sender, s->t.n_rcpts);
		smtp_reply(s, "250 2.0.0 Ok: queued as %s", s->t.qid);
		s->n_msgs++;
		smtp_txn_reset(s);	/* aborts the spool file */
		s->st = S_CMD;
		return;
	}
	smtp_auth_end(s);	/* smtp_content_commit() when the checks are done */
}

void
smtp_content_commit(struct session *s, const struct verdict *dv, const struct buf *ar)
{
	struct verdict v = *dv;
	if (v.kind == V_NEXT) {
		data_verdict(s, &v);	/* the queue may have gone meanwhile */
		if (v.kind == V_NEXT) {
			char *hdr = xstrndup((const char *)ar->data, ar->len);
			write_envelope(s, ar->len > 0 ? hdr : NULL);
			free(hdr);
			data_verdict(s, &v);
		}
	}
	if (v.kind != V_NEXT) {
		refuse_message(s, &v);
		return;
	}
	close(s->t.spool_fd);	/* the queue has its own descriptor */
	s->t.spool_fd = -1;
	proto_commit_send(W.queue, smtp_session_wait(s, WAIT_COMMIT), s->t.qid, s->t.spool_len);
}

/* The most the envelope can add to the spool file: its records for
 * these recipients, and room for the Authentication-Results field, which
 * the checks write only later. */
static uint64_t
envelope_bound(const struct session *s)
{
	uint64_t n = 64 * 1024 + SMTP_PATH_MAX * 2;
	for (size_t i = 0; i < s->t.n_rcpts; i++)
		n += strlen(s->t.rcpts[i].addr) + strlen(s->t.rcpts[i].user) + 32;
	return n;
}

bool
smtp_spool_spill(struct session *s, bool end)
{
	if (!s->t.spool_mem || s->t.spill_sent || s->t.werr != 0 || s->t.too_big ||
	    W.queue == NULL)
		return false;
	uint64_t n = s->t.spool_len + s->t.content.len + (end ? envelope_bound(s) : 0);
	if (n < SPOOL_MEM_SPILL)
		return false;
	proto_spill_send(W.queue, s->id, s->t.qid);
	s->t.spill_sent = true;
	s->t.spill_pending = true;
	log_debug("smtp session=%s event=spill queue=%s bytes=%llu", s->sid, s->t.qid,
	    (unsigned long long)n);
	return true;
}

/* The queue's answer to SPILL: fd is the file on disk (or -1 and err).
 * What is in memory is copied there, and the message goes on there. */
void
smtp_spool_spilled(struct session *s, int fd, int err)
{
	s->t.spill_pending = false;
	if (fd >= 0 && err == 0 && copy_range(s->t.spool_fd, 0, s->t.spool_len, fd) < 0)
		err = errno;
	if (fd >= 0 && err == 0) {
		close(s->t.spool_fd);
		s->t.spool_fd = fd;
		s->t.spool_mem = false;
	} else {
		if (fd >= 0)
			close(fd);
		s->t.werr = err ? err : EIO;	/* fails at the end of the data */
		log_warn("smtp session=%s event=spool-write queue=%s error=\"spill: %s\"", s->sid,
		    smtp_qid(s), strerror(s->t.werr));
	}
	smtp_session_process(s);
	smtp_session_update(s);
}

void
smtp_content_append(struct session *s)
{
	if (s->t.data.n_raw > W.conf->max_message_size)
		s->t.too_big = true;
	if (s->t.too_big) {
		buf_reset(&s->t.content);	/* keep reading to the end, store nothing */
		s->t.fed = 0;
	}
	else if (smtp_spool_spill(s, false) || s->t.spill_pending)
		;	/* nothing written until the file on disk is there */
	else if (s->t.content.len >= CONTENT_FLUSH)
		content_flush(s);
}

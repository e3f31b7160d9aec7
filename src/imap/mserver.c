/*
 * imap/mserver.c - the mailbox process: sessions handed over by the login
 * front, their I/O, IDLE, and the updates a sync produces.
 *
 * Input:   HANDOFF (token, fd) from the imap front, LOGIN_GRANT (token,
 *          user) from the auth process, in either order: a session starts
 *          when both have come, within GRANT_TTL_MS; then the client's
 *          plain bytes (untrusted), framed by imap/parse.h with the
 *          after-login limits.
 * Trusts:  the auth process for the user name; nothing the front says
 *          beyond the session id, address and tag for the logs and the
 *          first reply.
 * Runs in: mailbox, the store's owner.
 */
#include "imap/mailbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/util.h"
#include "imap/msession.h"
#include "imap/mutf7.h"
#include "imap/seqset.h"
#include "mail/conf.h"
#include "proto/imap_mailbox.h"
#include "proto/parent.h"

#define GRANT_TTL_MS	10000	/* a token not used by then is forgotten */
#define PENDING_MAX	256	/* grants or handoffs waiting for their pair */

struct mworker MW;

/* A grant or a handoff waiting for the other half. */
struct pend {
	struct pend *next;
	bool is_grant;
	uint8_t token[PROTO_TOKEN_LEN];
	char user[PROTO_AUTH_USER_MAX + 1];	/* grant */
	struct proto_handoff h;			/* handoff */
	int fd;					/* handoff */
	uint64_t expires;
};

static struct pend *pending;
static size_t n_pending;
static struct timer pend_timer;

/* --- replies and strings ----------------------------------------------------------- */

void
m_reply(struct msession *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	io_vline(&s->io, fmt, ap);
	va_end(ap);
}

void
m_tagged(struct msession *s, const char *tag, const char *fmt, ...)
{
	char text[1800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	m_reply(s, "%s %s", tag, text);
}

void
m_capability(struct msession *s, char *out, size_t n)
{
	snprintf(out, n, "IMAP4rev2 IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS "
	    "MOVE MULTIAPPEND BINARY ESEARCH CHILDREN SPECIAL-USE UTF8=ACCEPT COMPRESS=DEFLATE "
	    "CONDSTORE QRESYNC SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES "
	    "QUOTA QUOTA=RES-STORAGE APPENDLIMIT=%llu",
	    (unsigned long long)MW.conf->max_message_size);
}

void
m_astring(struct buf *out, const char *p, size_t len)
{
	bool quote = len <= 1000;
	for (size_t i = 0; i < len && quote; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			quote = false;
	}
	if (!quote) {
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, p, len);
		return;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"' || p[i] == '\\')
			buf_putc(out, '\\');
		buf_putc(out, (uint8_t)p[i]);
	}
	buf_putc(out, '"');
}

void
m_mailbox_name(struct msession *s, struct buf *out, const char *utf8)
{
	char m7[4 * MAILBOX_NAME_MAX];
	if (s->utf8 || mutf7_encode(utf8, strlen(utf8), m7, sizeof m7, NULL) < 0) {
		/* UTF-8 names go out as quoted strings only after UTF8=ACCEPT;
		 * m_astring makes them literals otherwise */
		m_astring(out, utf8, strlen(utf8));
		return;
	}
	m_astring(out, m7, strlen(m7));
}

bool
m_astring_arg(const struct imap_arg *a, char *out, size_t n)
{
	/* NIL is an atom where an astring goes: LIST "" NIL lists "NIL" */
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED &&
	    a->type != IMAP_ARG_LITERAL && a->type != IMAP_ARG_NIL)
		return false;
	if (a->binary || a->len >= n || memchr(a->p, '\0', a->len) != NULL)
		return false;
	memcpy(out, a->p, a->len);
	out[a->len] = '\0';
	return true;
}

bool
m_mailbox_arg(struct msession *s, const char *tag, const struct imap_arg *a, char *out,
    size_t n)
{
	char raw[4 * MAILBOX_NAME_MAX];
	const char *why = NULL;
	if (!m_astring_arg(a, raw, sizeof raw)) {
		m_tagged(s, tag, "BAD Invalid mailbox name");
		return false;
	}
	/* an IMAP4rev1 client sends modified UTF-7; after UTF8=ACCEPT, UTF-8
	 * (RFC 6855 3) */
	if (!s->utf8) {
		/* a name that is not modified UTF-7 names no mailbox of ours:
		 * NO, as for any other name that does not exist */
		if (mutf7_decode(raw, strlen(raw), out, n, &why) < 0) {
			m_tagged(s, tag, "NO [CANNOT] Invalid mailbox name (%s)", why ? why :
			    "encoding");
			return false;
		}
	} else if (!str_copy(out, n, raw)) {
		m_tagged(s, tag, "BAD Mailbox name too long");
		return false;
	}
	if (mailbox_is_inbox(out, strlen(out)))
		str_copy(out, n, "INBOX");
	return true;
}

void
m_flags_text(const struct msession *s, const struct mailbox *mb, uint8_t flags, uint32_t kw,
    struct buf *out)
{
	if (s->rev2)
		flags &= (uint8_t)~MF_RECENT;	/* RFC 9051 has no \Recent */
	static const struct { uint8_t bit; const char *name; } names[] = {
		{ MF_SEEN, "\\Seen" }, { MF_ANSWERED, "\\Answered" }, { MF_FLAGGED, "\\Flagged" },
		{ MF_DELETED, "\\Deleted" }, { MF_DRAFT, "\\Draft" }, { MF_RECENT, "\\Recent" },
	};
	bool first = true;
	buf_putc(out, '(');
	for (size_t i = 0; i < NELEM(names); i++) {
		if (!(flags & names[i].bit))
			continue;
		if (!first)
			buf_putc(out, ' ');
		buf_puts(out, names[i].name);
		first = false;
	}
	for (unsigned k = 0; k < mb->n_kw && k < MB_KEYWORDS_MAX; k++) {
		if (!(kw & (1u << k)) || !mb->kw[k][0])
			continue;
		if (!first)
			buf_putc(out, ' ');
		buf_puts(out, mb->kw[k]);
		first = false;
	}
	buf_putc(out, ')');
}

/* --- selected mailbox: watches and updates ------------------------------------------ */

static void
unwatch(struct msession *s)
{
	for (int i = 0; i < 2; i++) {
		if (s->wd[i] < 0)
			continue;
		/* a watch is shared by every session on the same directory:
		 * remove it only when this was the last */
		bool shared = false;
		for (struct msession *o = MW.sessions; o; o = o->next)
			if (o != s && (o->wd[0] == s->wd[i] || o->wd[1] == s->wd[i]))
				shared = true;
		if (!shared && MW.inotify_fd >= 0)
			inotify_rm_watch(MW.inotify_fd, s->wd[i]);
		s->wd[i] = -1;
	}
}

static void
watch(struct msession *s)
{
	if (MW.inotify_fd < 0 || s->mb == NULL)
		return;
	int fds[2] = { s->mb->new_fd, s->mb->cur_fd };
	for (int i = 0; i < 2; i++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
		s->wd[i] = inotify_add_watch(MW.inotify_fd, path, IN_CREATE | IN_MOVED_TO |
		    IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
		if (s->wd[i] < 0)
			log_warn("mailbox session=%s event=watch error=\"%s\"", s->sid,
			    strerror(errno));
	}
}

void
m_select(struct msession *s, struct mailbox *mb, const char *name)
{
	unwatch(s);
	mb_close(&s->mb);
	s->mb = mb;
	s->mbname[0] = '\0';
	s->changed = false;
	if (mb != NULL) {
		str_copy(s->mbname, sizeof s->mbname, name);
		watch(s);
	}
}

/* What the FLAGS list names: the keywords' indexes and names.  Another
 * program may rename one in dovecot-keywords without adding any. */
static uint64_t
keywords_sig(const struct mailbox *mb)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	for (unsigned k = 0; k < mb->n_kw; k++) {
		for (const char *p = mb->kw[k]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0x100u) * 1099511628211ull;	/* the end of one name */
	}
	return h;
}

void
m_send_flags(struct msession *s)
{
	struct mailbox *mb = s->mb;
	struct buf b;
	buf_init(&b, 65536);
	buf_puts(&b, "\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (unsigned k = 0; k < mb->n_kw; k++)
		if (mb->kw[k][0])
			buf_printf(&b, " %s", mb->kw[k]);
	buf_cstr(&b);
	m_reply(s, "* FLAGS (%s)", (char *)b.data);
	m_reply(s, "* OK [PERMANENTFLAGS (%s%s)] Flags permitted", mb->readonly ? "" :
	    (char *)b.data, mb->readonly ? "" : " \\*");
	buf_free(&b);
	s->kw_told = keywords_sig(mb);
}

void
m_keywords_check(struct msession *s)
{
	if (s->mb != NULL && keywords_sig(s->mb) != s->kw_told)
		m_send_flags(s);
}

void
m_modseq_item(struct msession *s, const struct mb_msg *e, struct buf *out)
{
	if (s->condstore)
		buf_printf(out, " MODSEQ (%llu)", (unsigned long long)e->modseq);
}

void
m_condstore_on(struct msession *s)
{
	if (s->condstore)
		return;
	s->condstore = true;
	/* RFC 7162 3.1: the first enabling command with a mailbox selected
	 * tells the client where it stands */
	if (s->mb != NULL)
		m_reply(s, "* OK [HIGHESTMODSEQ %llu] Highest",
		    (unsigned long long)s->mb->highest);
}

void
m_vanished(struct msession *s, bool earlier, const uint32_t *uids, size_t n)
{
	if (n == 0)
		return;
	struct buf b;
	buf_init(&b, 16u << 20);
	buf_printf(&b, "* VANISHED %s", earlier ? "(EARLIER) " : "");
	seqset_format_list(&b, uids, n);
	buf_puts(&b, "\r\n");
	if (!b.err)
		io_write(&s->io, b.data, b.len);
	buf_free(&b);
}

/* Intersect the sorted range list a with b into out (seqset_add). */
static void
intersect(const struct seqset *a, const struct seqset *b, struct seqset *out)
{
	size_t i = 0, j = 0;
	while (i < a->n && j < b->n) {
		uint32_t lo = a->r[i].lo > b->r[j].lo ? a->r[i].lo : b->r[j].lo;
		uint32_t hi = a->r[i].hi < b->r[j].hi ? a->r[i].hi : b->r[j].hi;
		if (lo <= hi)
			seqset_add(out, lo, hi);
		if (a->r[i].hi < b->r[j].hi)
			i++;
		else
			j++;
	}
	seqset_normalize(out);
}

void
m_vanished_since(struct msession *s, uint64_t modseq, const struct seqset *known)
{
	struct mailbox *mb = s->mb;
	struct seqset gone, out;
	seqset_init(&gone);
	seqset_init(&out);
	for (size_t i = 0; i < mb->n_gone; i++)
		if (mb->gone[i].modseq > modseq)
			seqset_add(&gone, mb->gone[i].uid, mb->gone[i].uid);
	if (modseq < mb->gone_floor) {
		/* expunges that old are forgotten: every UID not here */
		uint32_t prev = 0;
		for (size_t i = 0; i < mb->n; i++) {
			if (mb->v[i].gone)
				continue;
			if (mb->v[i].uid > prev + 1)
				seqset_add(&gone, prev + 1, mb->v[i].uid - 1);
			prev = mb->v[i].uid;
		}
		if (mb->next > prev + 1)
			seqset_add(&gone, prev + 1, mb->next - 1);
	}
	seqset_normalize(&gone);
	if (known != NULL)
		intersect(&gone, known, &out);
	const struct seqset *res = known != NULL ? &out : &gone;
	if (res->n > 0) {
		struct buf b;
		buf_init(&b, 16u << 20);
		buf_puts(&b, "* VANISHED (EARLIER) ");
		seqset_format(&b, res);
		buf_puts(&b, "\r\n");
		if (!b.err)
			io_write(&s->io, b.data, b.len);
		buf_free(&b);
	}
	seqset_free(&gone);
	seqset_free(&out);
}

void
m_update(struct msession *s, bool expunges)
{
	if (s->mb == NULL)
		return;
	s->changed = false;
	struct mb_delta d;
	/* when EXPUNGE may not be sent (RFC 9051 7.5.1), a message whose file
	 * is gone stays in the view: nothing is renumbered */
	uint32_t validity = s->mb->validity;
	struct stat st;
	if (fstat(s->mb->dir_fd, &st) == 0 && st.st_nlink == 0) {
		/* removed on the box (rm -r, another session's DELETE): there is
		 * nothing to resynchronise with, and no response for it but BYE,
		 * as Dovecot does */
		log_info("mailbox session=%s event=selected-deleted mailbox=%s", s->sid,
		    s->mb->label);
		m_reply(s, "* BYE Selected mailbox was deleted, have to disconnect");
		s->st = M_CLOSING;
		return;
	}
	if ((expunges ? mb_sync(s->mb, &d) : mb_sync_keep(s->mb, &d)) < 0)
		return;
	if (s->mb->validity != validity) {
		/* the UID list was unreadable and rebuilt (store/mailbox.h): every
		 * UID the client holds may now name another message, and the
		 * delta compares UIDs of two different lists.  UIDVALIDITY cannot
		 * change under a selected mailbox (RFC 9051 2.3.1.1) and there is
		 * no response that says so: the client must select it again, so
		 * the session ends */
		log_warn("mailbox session=%s event=uidvalidity-changed mailbox=%s old=%u new=%u",
		    s->sid, s->mb->label, validity, s->mb->validity);
		m_reply(s, "* BYE Mailbox UIDVALIDITY changed, please reconnect");
		s->st = M_CLOSING;
		mb_delta_free(&d);
		return;
	}
	m_keywords_check(s);
	if (s->qresync)
		m_vanished(s, false, d.expunged_uid, d.n_expunged);	/* RFC 7162 3.2.10 */
	else
		for (size_t i = 0; i < d.n_expunged; i++)
			m_reply(s, "* %u EXPUNGE", d.expunged[i]);
	if (s->mb->n != d.n_before - d.n_expunged)
		m_reply(s, "* %zu EXISTS", s->mb->n);
	if (d.n_recent > 0 && !s->rev2) {
		size_t r = 0;
		for (size_t i = 0; i < s->mb->n; i++)
			r += (mb_flags(s->mb, i) & MF_RECENT) != 0;
		m_reply(s, "* %zu RECENT", r);
	}
	for (size_t i = 0; i < d.n_changed; i++) {
		long k = mb_find_uid(s->mb, d.changed[i]);
		if (k < 0)
			continue;
		struct buf b;
		buf_init(&b, 65536);
		m_flags_text(s, s->mb, mb_flags(s->mb, (size_t)k), s->mb->v[k].kw, &b);
		m_modseq_item(s, &s->mb->v[k], &b);
		buf_cstr(&b);
		m_reply(s, "* %ld FETCH (UID %u FLAGS %s)", k + 1, d.changed[i], (char *)b.data);
		buf_free(&b);
	}
	mb_delta_free(&d);
}

static void
inotify_cb(struct loop *l, int fd, unsigned ev, void *arg)
{
	char b[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(fd, b, sizeof b);
		if (n <= 0)
			break;
		for (char *p = b; p < b + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			for (struct msession *s = MW.sessions; s; s = s->next)
				if (s->wd[0] == e->wd || s->wd[1] == e->wd)
					s->changed = true;
			p += sizeof *e + e->len;
		}
	}
	/* IDLE sessions hear about it now; others at their next command */
	for (struct msession *s = MW.sessions, *next; s; s = next) {
		next = s->next;
		if (s->st == M_IDLE && s->changed) {
			m_update(s, true);
			m_session_update(s);
		}
	}
}

/* --- sessions -------------------------------------------------------------------------- */

static void
session_free(struct msession *s)
{
	log_info("mailbox session=%s event=logout user=%s client=[%s]%s%s", s->sid, s->user,
	    s->client, s->io.error ? " error=" : "", s->io.error ? s->io.errstr : "");
	if (s->cont_free != NULL)
		s->cont_free(s->cont_arg);
	m_select(s, NULL, NULL);
	if (s->maildir_fd >= 0)
		close(s->maildir_fd);
	timer_cancel(MW.loop, &s->timer);
	loop_del(MW.loop, s->io.fd);
	io_close(&s->io);
	if (s->prev)
		s->prev->next = s->next;
	else
		MW.sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	MW.n_sessions--;
	free(s);
	if (MW.draining && MW.n_sessions == 0)
		loop_stop(MW.loop);
}

static void
bad(struct msession *s, const char *tag, const char *why)
{
	m_tagged(s, tag, "BAD %s", why);
	if (++s->n_bad >= 50) {
		m_reply(s, "* BYE Too many invalid commands");
		s->st = M_CLOSING;
	}
}

/* Is the command being framed an APPEND ("tag APPEND ...")? */
static bool
is_append(struct msession *s, size_t avail)
{
	const char *p = (const char *)io_data(&s->io);
	size_t tl = strlen(s->scan.tag);
	return avail > tl + 8 && p[tl] == ' ' && ascii_memcaseeq(p + tl + 1, "APPEND ", 7);
}

static bool
step_cmd(struct msession *s)
{
	size_t avail = io_avail(&s->io);
	if (avail == 0)
		return false;
	enum imap_scan_r r = imap_scan(&s->scan, io_data(&s->io), avail, &s->lim);
	switch (r) {
	case IMAP_SCAN_MORE:
		return false;
	case IMAP_SCAN_CONT:
		m_reply(s, "+ OK");
		return false;
	case IMAP_SCAN_BAD:
		if (strncmp(s->scan.why, "[TOOBIG]", 8) == 0 && is_append(s, avail))
			/* RFC 7889: a message over APPENDLIMIT is NO [TOOBIG],
			 * before any continuation */
			m_tagged(s, s->scan.tag, "NO [TOOBIG] Message larger than APPENDLIMIT %llu",
			    (unsigned long long)MW.conf->max_message_size);
		else
			bad(s, s->scan.tag, s->scan.why);
		io_consume(&s->io, s->scan.end);
		imap_scan_init(&s->scan);
		return true;
	case IMAP_SCAN_BYE:
		log_info("mailbox session=%s event=disconnect reason=\"%s\"", s->sid, s->scan.why);
		m_reply(s, "* BYE %s", s->scan.why);
		s->st = M_CLOSING;
		return true;
	case IMAP_SCAN_DONE:
		break;
	}
	struct imap_cmd c;
	const char *why = NULL;
	size_t end = s->scan.end;
	if (imap_parse(io_data(&s->io), end, &s->lim, &c, &why) < 0) {
		bad(s, c.tag, why);
	} else {
		m_command(s, &c);
		imap_cmd_free(&c);
	}
	io_consume(&s->io, end);
	imap_scan_init(&s->scan);
	return true;
}

static bool
step_idle(struct msession *s)
{
	const uint8_t *line;
	size_t len, used;
	int r = io_getline(&s->io, 1024, &line, &len, &used);
	if (r == 0)
		return false;
	if (r < 0) {
		m_reply(s, "* BYE Line too long");
		s->st = M_CLOSING;
		return true;
	}
	m_idle_line(s, line, len);
	io_consume(&s->io, used);
	return true;
}

static void
session_process(struct msession *s)
{
	for (;;) {
		if (s->io.error || s->st == M_CLOSING)
			break;
		if (s->deflate_pending) {
			/* nothing is read until the OK is on the wire */
			if (io_flush(&s->io) < 0 || io_unsent(&s->io) > 0)
				break;
			s->deflate_pending = false;
			if (io_start_deflate(&s->io) < 0) {
				log_err("mailbox session=%s event=compress error=\"zlib\"", s->sid);
				s->io.error = true;
				break;
			}
			log_info("mailbox session=%s event=compress method=deflate", s->sid);
			continue;
		}
		if (io_unsent(&s->io) > M_OUT_PAUSE)
			break;
		if (s->cont != NULL) {
			if (!s->cont(s))
				continue;	/* more output queued: the check above decides */
			s->cont = NULL;
			if (s->cont_free)
				s->cont_free(s->cont_arg);
			s->cont_free = NULL;
			s->cont_arg = NULL;
			continue;
		}
		bool progress = s->st == M_CMD ? step_cmd(s) : step_idle(s);
		if (progress)
			continue;
		if (s->io.eof)
			break;
		if (io_read(&s->io) <= 0)
			break;
	}
}

static void
session_timeout(struct loop *l, void *arg)
{
	struct msession *s = arg;
	if (s->st == M_CLOSING) {
		/* the last replies were not read in 10 s: give up on them (a BYE
		 * each time round only added to what was not read) */
		log_info("mailbox session=%s event=close-timeout user=%s unsent=%zu", s->sid,
		    s->user, io_unsent(&s->io));
		session_free(s);
		return;
	}
	log_info("mailbox session=%s event=timeout user=%s", s->sid, s->user);
	m_reply(s, "* BYE Autologout; idle for too long");
	s->st = M_CLOSING;
	m_session_update(s);
}

void
m_session_update(struct msession *s)
{
	if (!s->io.error && io_unsent(&s->io) > 0)
		io_flush(&s->io);
	/* a client that closed only its sending side (commands piped into
	 * nc) still reads: the session ends once every reply is written, or
	 * when writing fails; freeing it at EOF dropped what was unsent */
	bool done = s->io.error || (s->st == M_CLOSING && io_unsent(&s->io) == 0) ||
	    (s->io.eof && s->cont == NULL && io_unsent(&s->io) == 0);
	if (done) {
		session_free(s);
		return;
	}
	/* at EOF the socket stays readable: asking would spin */
	bool want = s->st != M_CLOSING && !s->io.eof && io_unsent(&s->io) <= M_OUT_PAUSE &&
	    s->cont == NULL && !s->deflate_pending;
	unsigned ev = io_events(&s->io, want);
	/* a long reply paused at M_OUT_PAUSE goes on once the output drained;
	 * if this flush drained it all, nothing else would wake us: ask for
	 * the (writable) socket's next event */
	if (s->cont != NULL && io_unsent(&s->io) <= M_OUT_PAUSE)
		ev |= LOOP_WRITE;
	if (s->st == M_CLOSING)
		ev = io_unsent(&s->io) ? LOOP_WRITE : 0;
	loop_mod(MW.loop, s->io.fd, ev);
	timer_set(MW.loop, &s->timer, s->st == M_CLOSING ? 10000 :
	    (uint64_t)MW.conf->imap_autologout * 1000);
	/* idle between commands, or in IDLE (where a session waits longest):
	 * the buffers go back */
	if ((s->st == M_CMD || s->st == M_IDLE) && s->cont == NULL && io_avail(&s->io) == 0 &&
	    io_unsent(&s->io) == 0)
		io_trim(&s->io);
}

void
m_session_event(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct msession *s = arg;
	if (ev & LOOP_READ)
		io_readable(&s->io);
	if (ev & LOOP_WRITE)
		io_flush(&s->io);
	if ((ev & LOOP_ERROR) && io_unsent(&s->io) > 0 && s->cont != NULL) {
		s->io.error = true;	/* the front is gone while we were writing */
		snprintf(s->io.errstr, sizeof s->io.errstr, "connection closed");
	}
	session_process(s);
	m_session_update(s);
}

static bool
user_ok(const char *u)
{
	/* the users file allows [a-z0-9][a-z0-9._+-]*: a path component */
	if (u[0] == '\0' || u[0] == '.' || strlen(u) > 64)
		return false;
	for (const char *p = u; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			return false;
	return true;
}

struct msession *
m_session_new(int fd, const char *sid, const char *client, const char *user, const char *tag)
{
	struct msession *s = xcalloc(1, sizeof *s);
	str_copy(s->sid, sizeof s->sid, sid);
	str_copy(s->client, sizeof s->client, client);
	str_copy(s->user, sizeof s->user, user);
	s->maildir_fd = -1;
	s->wd[0] = s->wd[1] = -1;
	imap_scan_init(&s->scan);
	/* after login: long UID sets, LITERAL+, APPEND up to the message size */
	s->lim.line_max = 2u << 20;
	s->lim.literal_max = MW.conf->max_message_size;
	s->lim.literals_max = MW.conf->max_message_size;
	s->lim.lminus_max = SIZE_MAX;
	s->lim.depth_max = 100;
	io_init(&s->io, fd, (2u << 20) + MW.conf->max_message_size + 65536,
	    2 * MW.conf->max_message_size + (8u << 20));
	timer_init(&s->timer, session_timeout, s);
	s->next = MW.sessions;
	if (MW.sessions)
		MW.sessions->prev = s;
	MW.sessions = s;
	MW.n_sessions++;
	loop_add(MW.loop, fd, 0, m_session_event, s);
	if (!user_ok(user) || m_prepare_maildir(s) < 0) {
		log_err("mailbox session=%s event=login user=%s result=fail error=\"cannot open "
		    "the Maildir\"", s->sid, user);
		m_tagged(s, tag, "NO [SERVERBUG] Cannot open your mailboxes");
		s->st = M_CLOSING;
	} else {
		char cap[512];
		m_capability(s, cap, sizeof cap);
		m_tagged(s, tag, "OK [CAPABILITY %s] Logged in", cap);
		log_info("mailbox session=%s event=login user=%s client=[%s]", s->sid, user,
		    s->client);
	}
	return s;
}

/* Both halves are here: the session begins. */
static void
session_start(const struct proto_handoff *h, int fd, const char *user)
{
	struct msession *s = m_session_new(fd, h->sid, h->client, user, h->tag);
	session_process(s);
	m_session_update(s);
}

/* --- grants and handoffs ---------------------------------------------------------------- */

static void
pend_drop(struct pend *p)
{
	struct pend **pp = &pending;
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	if (!p->is_grant && p->fd >= 0)
		close(p->fd);
	OPENSSL_cleanse(p, sizeof *p);
	free(p);
	n_pending--;
}

static void
pend_expire(struct loop *l, void *arg)
{
	uint64_t now = now_ms();
	for (struct pend *p = pending, *next; p; p = next) {
		next = p->next;
		if (p->expires > now)
			continue;
		log_warn("mailbox event=%s-expired sid=%s", p->is_grant ? "grant" : "handoff",
		    p->is_grant ? "-" : p->h.sid);
		pend_drop(p);
	}
	if (pending != NULL)
		timer_set(MW.loop, &pend_timer, 1000);
}

/* The other half of p's pair, if it came already. */
static struct pend *
pend_match(const uint8_t *token, bool want_grant)
{
	for (struct pend *p = pending; p; p = p->next)
		if (p->is_grant == want_grant &&
		    CRYPTO_memcmp(p->token, token, PROTO_TOKEN_LEN) == 0)
			return p;
	return NULL;
}

static void
pend_add(struct pend *p)
{
	if (n_pending >= PENDING_MAX) {
		/* the oldest goes: a peer flooding us loses its own */
		struct pend *last = pending;
		while (last && last->next)
			last = last->next;
		if (last)
			pend_drop(last);
	}
	p->expires = now_ms() + GRANT_TTL_MS;
	p->next = pending;
	pending = p;
	n_pending++;
	if (!timer_armed(&pend_timer))
		timer_set(MW.loop, &pend_timer, 1000);
}

static const char *
auth_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct proto_login_grant g;
	if (m->type != PROTO_LOGIN_GRANT || proto_login_grant_dec(m, &g) < 0)
		return "bad LOGIN_GRANT";
	struct pend *h = pend_match(g.token, false);
	if (h != NULL) {
		int fd = h->fd;
		h->fd = -1;
		struct proto_handoff hh = h->h;
		pend_drop(h);
		session_start(&hh, fd, g.user);
	} else {
		struct pend *p = xcalloc(1, sizeof *p);
		p->is_grant = true;
		memcpy(p->token, g.token, PROTO_TOKEN_LEN);
		str_copy(p->user, sizeof p->user, g.user);
		pend_add(p);
	}
	OPENSSL_cleanse(&g, sizeof g);
	return NULL;
}

static const char *
front_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct proto_handoff h;
	if (m->type != PROTO_HANDOFF || proto_handoff_dec(m, &h) < 0)
		return "bad HANDOFF";
	int fd = m->fd;
	m->fd = -1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	struct pend *g = pend_match(h.token, true);
	if (g != NULL) {
		char user[sizeof g->user];
		str_copy(user, sizeof user, g->user);
		pend_drop(g);
		session_start(&h, fd, user);
	} else {
		struct pend *p = xcalloc(1, sizeof *p);
		memcpy(p->token, h.token, PROTO_TOKEN_LEN);
		p->h = h;
		p->fd = fd;
		pend_add(p);
	}
	OPENSSL_cleanse(&h, sizeof h);
	return NULL;
}

struct peer {
	struct ipc *ipc;
	uint32_t role, slot, id;
};

static void
peer_close(struct ipc *c, void *arg)
{
	struct peer *p = arg;
	proto_peer_closed(MW.parent, c, "mailbox", p->role, p->slot, p->id);
	ipc_free(&p->ipc);
	free(p);
}

/* --- the parent --------------------------------------------------------------------------- */

static const char *
parent_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	switch (m->type) {
	case PROTO_STOP: {
		struct proto_stop st;
		if (proto_stop_dec(m, &st) < 0)
			return "bad STOP";
		if (MW.draining)
			break;
		MW.draining = true;
		for (struct msession *s = MW.sessions, *next; s; s = next) {
			next = s->next;
			if (s->cont == NULL) {
				m_reply(s, "* BYE Server shutting down");
				s->st = M_CLOSING;
			}
			m_session_update(s);
		}
		if (MW.n_sessions == 0)
			loop_stop(MW.loop);
		break;
	}
	case PROTO_PEER: {
		struct proto_peer pe;
		if (proto_peer_dec(m, &pe) < 0 || (pe.role != ROLE_AUTH && pe.role != ROLE_IMAP))
			return "bad PEER";
		struct peer *p = xcalloc(1, sizeof *p);
		p->role = pe.role;
		p->slot = pe.slot;
		p->id = pe.id;
		p->ipc = ipc_new(MW.loop, m->fd, pe.role == ROLE_AUTH ? auth_msg : front_msg,
		    peer_close, p);
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
	log_warn("mailbox event=parent-gone");
	exit(1);
}

void
mailbox_main(const struct conf *conf, int parent_fd, int store_fd)
{
	memset(&MW, 0, sizeof MW);
	MW.conf = conf;
	MW.store_fd = store_fd;
	MW.loop = loop_new();
	if (MW.loop == NULL)
		fatal("mailbox: cannot create event loop");
	signal(SIGPIPE, SIG_IGN);
	mb_set_host(conf->hostname);
	timer_init(&pend_timer, pend_expire, NULL);
	MW.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (MW.inotify_fd < 0)
		log_warn("mailbox event=inotify error=\"%s\" (IDLE polls at commands only)",
		    strerror(errno));
	else
		loop_add(MW.loop, MW.inotify_fd, LOOP_READ, inotify_cb, NULL);
	MW.parent = ipc_new(MW.loop, parent_fd, parent_msg, parent_close, NULL);
	log_info("mailbox event=start");
	loop_run(MW.loop);
	log_info("mailbox event=stop");
	exit(0);
}

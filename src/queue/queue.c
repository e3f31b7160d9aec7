/*
 * queue/queue.c - spool commit and local delivery.
 *
 * Data flow: an smtp worker asks OPEN; we make a spool file and pass it
 * the descriptor: a memfd (SPOOL_MEM_MAX bytes, sealed against growing),
 * or spool/queue/QID (mode 0600) when no memfd can be made or the message
 * outgrows memory (SPILL: we create spool/queue/QID, the worker copies
 * into it what it wrote).  The worker writes content and envelope and
 * says COMMIT, and waits for COMMIT_OK before it answers 250.  At COMMIT
 * a memfd is cut to its size and sealed against every change, so what
 * deliver reads is what we checked.  A message is committed one of two
 * ways, chosen in the before-sleep hook for all COMMITs of one loop round:
 *
 *   local commit (the usual path: every recipient is local today).  The
 *     message goes to deliver at once, spool file not fsynced; deliver
 *     makes every copy durable in new/ (file fsync, link, new/ fsync) and
 *     answers, and only then do we reply COMMIT_OK and drop the spool
 *     file, which never becomes durable (in memory it never touched the
 *     disk at all: no inode made and freed per message).  The Maildir
 *     copies are the commit: one durable file per message instead of two.
 *   spool commit (the fallback).  A message in memory is first written
 *     to spool/queue/QID.  The file is marked committed (mode
 *     0640), then every file of the round and the spool/queue directory
 *     (whose entries were created at OPEN) are fsynced at once (group
 *     commit), and only then COMMIT_OK.  Taken when a local commit
 *     failed for any recipient (the copies that were made count as done,
 *     in spool/results/QID), when deliver is away or has too much in
 *     flight, and for messages with more recipients than one DELIVER.
 *
 * Spool-committed messages are handed to deliver as read-only descriptors;
 * the spool file is unlinked when every recipient has its copy.  At start,
 * files still 0600 are removed (nobody got a 250 for them) and every
 * committed one is delivered again; Maildir names are deterministic, so a
 * message delivered before a crash is found and not delivered twice.  A
 * crash during a local commit can leave copies of a message whose client
 * got no 250 and will send it again: the same race every SMTP server has
 * between its fsync and the client reading the 250, a little earlier.
 *
 * Runs in: queue process, as the spool's owner; it never sees the store.
 * Trusts: smtp workers only as far as the spool format checks go.
 */
#include "queue/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/syncpool.h"
#include "core/util.h"
#include "mail/spool.h"
#include "proto/parent.h"
#include "proto/queue_deliver.h"
#include "proto/smtp_queue.h"

#define RETRY_MS	(60 * 1000)

struct peer {
	struct peer *next;
	struct ipc *ipc;
	unsigned slot;
	uint32_t id;		/* names the worker in a REPORT */
	unsigned n_open;	/* its spool files in Q_OPEN */
	unsigned max_open;	/* the cap when it was connected (a reload that
				 * lowers the limit must not fail old workers) */
};

enum qstate {
	Q_OPEN,		/* the worker writes it */
	Q_COMMITTING,	/* COMMIT checked; committed in before_sleep */
	Q_LOCAL,	/* at deliver as its commit (not durable in the spool) */
	Q_READY,	/* committed, to hand to deliver */
	Q_DELIVERING,	/* committed, at deliver */
	Q_DEFERRED	/* committed, waits for the retry timer */
};

#define DELIVER_INFLIGHT 512	/* messages handed to deliver at once */
#define ADDR_ESC_MAX	4200	/* an escaped address (1 KB, \xNN each) */

struct qmsg {
	struct qmsg *next;
	enum qstate st;
	char qid[SPOOL_QID_MAX + 1];
	int fd;
	bool mem;		/* fd is a memfd, spool/queue/QID does not exist */
	uint64_t size;		/* of the file, from COMMIT on */
	struct peer *peer;	/* NULL once the worker is gone */
	uint64_t req;		/* request id for the reply */
	bool recovering;
	bool *done;		/* per recipient, once env is read */
	uint32_t *attempts;	/* per recipient */
	bool has_results;	/* spool/results/QID may exist */
	time_t opened;		/* when the worker got the file */
	struct spool_env env;
	uint64_t off, len;
	bool have_env;
	bool failed;		/* a recipient failed this round */
	bool fallback;		/* a local commit did not complete: spool commit */
	uint64_t serial;	/* names it in DELIVER requests */
};

static struct {
	struct loop *loop;
	struct proto_queue_settings set;
	struct ipc *parent;
	struct peer *peers;
	struct qmsg *msgs;	/* all messages we know of */
	int spool_fd, q_fd, r_fd;	/* spool/, spool/queue, spool/results */
	struct ipc *deliver;	/* NULL while the deliver process restarts */
	uint32_t deliver_id;
	size_t n_inflight;
	struct syncpool *pool;
	struct timer retry;	/* deferred messages are tried again */
	bool stopping;
	bool work;		/* deliveries pending: don't sleep long */
	uint64_t serial;
} Q;

static void
qmsg_free(struct qmsg *m)
{
	struct qmsg **pp = &Q.msgs;
	while (*pp && *pp != m)
		pp = &(*pp)->next;
	if (*pp)
		*pp = m->next;
	if (m->st == Q_OPEN && m->peer != NULL)
		m->peer->n_open--;
	if (m->fd >= 0)
		close(m->fd);
	if (m->have_env)
		spool_env_free(&m->env);
	free(m->done);
	free(m->attempts);
	free(m);
}

/* done[] and attempts[] once the envelope is known */
static void
qmsg_track(struct qmsg *m)
{
	if (m->done == NULL)
		m->done = xcalloc(m->env.n_rcpts, sizeof *m->done);
	if (m->attempts == NULL)
		m->attempts = xcalloc(m->env.n_rcpts, sizeof *m->attempts);
}

static size_t
rcpt_index(const struct qmsg *m, uint32_t idx)
{
	size_t i = 0;
	while (i < m->env.n_rcpts && m->env.rcpts[i].idx != idx)
		i++;
	return i;
}

/* Move the message (and its results) out of the queue into spool/DIR,
 * where nothing retries it; never delete what a client was told 250 for. */
static void
qmsg_set_aside(struct qmsg *m, const char *dir)
{
	mkdirat(Q.spool_fd, dir, 0700);
	int dfd = openat(Q.spool_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0 || renameat(Q.q_fd, m->qid, dfd, m->qid) < 0) {
		log_err("queue event=set-aside queue=%s dir=%s error=\"%s\"", m->qid, dir,
		    strerror(errno));
	} else {
		char rname[SPOOL_QID_MAX + 4];
		snprintf(rname, sizeof rname, "%s.r", m->qid);
		(void)renameat(Q.r_fd, m->qid, dfd, rname);
		fsync(dfd);
		fsync(Q.q_fd);
	}
	if (dfd >= 0)
		close(dfd);
}

/* Escaped for a log line: addresses are client text. */
static const char *
esc_addr(char *dst, size_t n, const char *s)
{
	log_escape(dst, n, s, strlen(s));
	return dst;
}

static struct qmsg *
qmsg_find(const char *qid, enum qstate st)
{
	for (struct qmsg *m = Q.msgs; m; m = m->next)
		if (m->st == st && strcmp(m->qid, qid) == 0)
			return m;
	return NULL;
}

/* Replies go nowhere once the worker is gone (peer NULL). */
static void
reply_errno(struct peer *p, uint32_t type, uint64_t id, int e)
{
	if (p != NULL)
		proto_errno_send(p->ipc, type, id, e);
}

/* A spool file in memory, that no one can grow past SPOOL_MEM_MAX (the
 * worker's writes beyond fail): -1 when memfds are not to be had. */
static int
mem_open(void)
{
	int fd = memfd_create("talon-spool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, SPOOL_MEM_MAX) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
disk_open(const char *qid)
{
	return openat(Q.q_fd, qid, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, SPOOL_MODE_OPEN);
}

/* Write a committed message in memory (size bytes) to spool/queue/QID,
 * which then holds it, for a spool commit.  An errno or 0. */
static int
to_disk(struct qmsg *m, uint64_t size)
{
	int fd = disk_open(m->qid);
	if (fd < 0)
		return errno;
	if (copy_range(m->fd, 0, size, fd) < 0) {
		int e = errno;
		unlinkat(Q.q_fd, m->qid, 0);
		close(fd);
		return e;
	}
	close(m->fd);
	m->fd = fd;
	m->mem = false;
	return 0;
}

static const char *
do_open(struct peer *p, struct ipc_msg *im)
{
	/* an honest worker holds one file per session at most, and has at
	 * most `limit connections` sessions: this one is leaking, or filling
	 * the spool on purpose */
	if (p->n_open >= p->max_open)
		return "more spool files open than the worker has sessions";
	struct qmsg *m = xcalloc(1, sizeof *m);
	m->serial = ++Q.serial;
	spool_new_qid(m->qid);
	m->fd = mem_open();
	m->mem = m->fd >= 0;
	if (m->fd < 0)
		m->fd = disk_open(m->qid);
	if (m->fd < 0) {
		int e = errno;
		log_err("queue event=open queue=%s error=\"%s\"", m->qid, strerror(e));
		free(m);
		reply_errno(p, PROTO_OPEN_FAIL, im->id, e);
		return NULL;
	}
	m->st = Q_OPEN;
	m->opened = time(NULL);
	m->peer = p;
	p->n_open++;
	m->next = Q.msgs;
	Q.msgs = m;
	int dfd = dup(m->fd);
	if (dfd < 0) {
		int e = errno;
		if (!m->mem)
			unlinkat(Q.q_fd, m->qid, 0);
		qmsg_free(m);
		reply_errno(p, PROTO_OPEN_FAIL, im->id, e);
		return NULL;
	}
	proto_open_ok_send(p->ipc, im->id, dfd, m->qid);
	return NULL;
}

/* Drop a file nobody was told 250 for. */
static void
drop_tmp(struct qmsg *m)
{
	if (!m->mem)
		unlinkat(Q.q_fd, m->qid, 0);
	if (m->has_results)
		unlinkat(Q.r_fd, m->qid, 0);
	qmsg_free(m);
}

static const char *
do_commit(struct peer *p, struct ipc_msg *im, const struct proto_commit *c)
{
	uint64_t size = c->size;
	struct qmsg *m = qmsg_find(c->qid, Q_OPEN);
	/* a worker commits only files it was given and has not given back */
	if (m == NULL || m->peer != p)
		return "COMMIT of a spool file the worker does not hold";
	struct stat st;
	const char *why = NULL;
	/* a message in memory: cut to what the worker says it wrote, then
	 * sealed, so that nobody (the worker least) changes it from now on */
	if (m->mem && (size > SPOOL_MEM_MAX || ftruncate(m->fd, (off_t)size) < 0 ||
	    fcntl(m->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0))
		why = "cannot seal the message in memory";
	else if (fstat(m->fd, &st) < 0 || (uint64_t)st.st_size != size)
		why = "size differs from what the worker wrote";
	else if (spool_read(m->fd, size, &m->env, &m->off, &m->len, &why) == 0)
		m->have_env = true;
	/* the envelope must name this file, and a time between the OPEN and
	 * now: a worker that writes another message's id or an old date
	 * would confuse recovery, expiry and the Maildir names */
	time_t now = time(NULL);
	if (why == NULL && strcmp(m->env.qid, m->qid) != 0)
		why = "queue id in the envelope is not the file's";
	else if (why == NULL && ((int64_t)m->env.time < (int64_t)m->opened - 2 ||
	    (int64_t)m->env.time > (int64_t)now + 2))
		why = "arrival time is not when the file was written";
	if (why != NULL) {
		log_err("queue event=commit queue=%s worker=%u error=\"bad spool file: %s\"", m->qid,
		    p->slot, why);
		drop_tmp(m);
		reply_errno(p, PROTO_COMMIT_FAIL, im->id, EINVAL);
		return NULL;
	}
	m->req = im->id;
	m->size = size;
	p->n_open--;
	m->st = Q_COMMITTING;	/* made durable in before_sleep */
	return NULL;
}

/* SPILL: the worker's message outgrows memory; it gets a new, empty
 * spool/queue/QID and copies into it what it wrote (only it knows how
 * much), and the memory file is dropped.  Only the worker that holds the
 * file may ask, and only once. */
static const char *
do_spill(struct peer *p, struct ipc_msg *im, const char *qid)
{
	struct qmsg *m = qmsg_find(qid, Q_OPEN);
	if (m == NULL || m->peer != p)
		return "SPILL of a spool file the worker does not hold";
	if (!m->mem)
		return "SPILL of a spool file already on disk";
	int fd = disk_open(m->qid), dfd = -1;
	if (fd >= 0 && (dfd = dup(fd)) < 0) {
		int e = errno;
		unlinkat(Q.q_fd, m->qid, 0);
		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd < 0) {
		int e = errno;
		log_err("queue event=spill queue=%s error=\"%s\"", m->qid, strerror(e));
		reply_errno(p, PROTO_SPILL_FAIL, im->id, e);
		return NULL;
	}
	close(m->fd);
	m->fd = fd;
	m->mem = false;
	proto_spill_ok_send(p->ipc, im->id, dfd, m->qid);
	return NULL;
}

static void
do_abort(struct peer *p, const char *qid)
{
	struct qmsg *m = qmsg_find(qid, Q_OPEN);
	if (m != NULL && m->peer == p)
		drop_tmp(m);
}

/* A worker's request.  Anything that does not decode closes the channel
 * (peer_close then drops the worker's open files): a worker is the first
 * process an attacker would own, and nothing it sends stops the queue. */
static const char *
peer_msg(struct ipc *c, struct ipc_msg *im, void *arg)
{
	struct peer *p = arg;
	struct proto_commit cm;
	struct proto_qid q;
	switch (im->type) {
	case PROTO_OPEN:
		if (proto_empty_dec(im) < 0)
			return "bad OPEN";
		return do_open(p, im);
	case PROTO_COMMIT:
		if (proto_commit_dec(im, &cm) < 0)
			return "bad COMMIT";
		return do_commit(p, im, &cm);
	case PROTO_ABORT:
		if (proto_qid_dec(im, &q) < 0)
			return "bad ABORT";
		do_abort(p, q.qid);
		break;
	case PROTO_SPILL:
		if (proto_qid_dec(im, &q) < 0)
			return "bad SPILL";
		return do_spill(p, im, q.qid);
	default:
		return "unexpected message";
	}
	return NULL;
}

static void
peer_close(struct ipc *c, void *arg)
{
	struct peer *p = arg;
	proto_peer_closed(Q.parent, c, "queue", ROLE_SMTP, p->slot, p->id);
	/* Files the worker had open were never acknowledged with 250: drop
	 * them.  Commits already under way still complete; their reply goes
	 * nowhere (the client saw the connection drop and will retry). */
	for (struct qmsg *m = Q.msgs, *next; m; m = next) {
		next = m->next;
		if (m->peer != p)
			continue;
		m->peer = NULL;
		if (m->st == Q_OPEN)
			drop_tmp(m);
	}
	struct peer **pp = &Q.peers;
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	ipc_free(&p->ipc);
	free(p);
}

/* --- group commit ---------------------------------------------------------- */

#define ROUND_MAX 256	/* files made durable together */

static void send_deliver(struct qmsg *m, enum qstate to);
static void defer(struct qmsg *m);

/* Can deliver's copies be this message's commit?  Not when deliver is
 * away or busy (the spool takes the load), not after a local commit that
 * failed, and not for more recipients than one DELIVER carries. */
static bool
local_commit_ok(const struct qmsg *m)
{
	return Q.deliver != NULL && !m->fallback && Q.n_inflight < DELIVER_INFLIGHT &&
	    m->env.n_rcpts <= PROTO_DELIVER_MAX;
}

static void
log_queued(const struct qmsg *m, const char *how)
{
	char from[ADDR_ESC_MAX];
	log_info("queue event=queued queue=%s session=%s from=<%s> nrcpt=%zu size=%llu commit=%s",
	    m->qid, m->env.session, esc_addr(from, sizeof from, m->env.sender),
	    m->env.n_rcpts, (unsigned long long)m->len, how);
}

static void
commit_round(void)
{
	struct qmsg *ms[ROUND_MAX];
	int fds[ROUND_MAX + 1], errs[ROUND_MAX + 1];
	size_t n = 0;

	for (struct qmsg *m = Q.msgs, *next; m && n < ROUND_MAX; m = next) {
		next = m->next;
		if (m->st != Q_COMMITTING)
			continue;
		if (local_commit_ok(m)) {
			qmsg_track(m);
			send_deliver(m, Q_LOCAL);
			if (m->st == Q_LOCAL)
				continue;	/* else: reopen failed, spool commit */
		}
		/* a message in memory becomes a file (its entry is made
		 * durable with the directory below) */
		int e = m->mem ? to_disk(m, m->size) : 0;
		if (e != 0) {
			log_err("queue event=commit queue=%s error=\"to disk: %s\"", m->qid, strerror(e));
			reply_errno(m->peer, PROTO_COMMIT_FAIL, m->req, e);
			drop_tmp(m);
			continue;
		}
		/* the mode is the commit mark recovery goes by; the fsync
		 * below makes it durable together with the data */
		if (fchmod(m->fd, SPOOL_MODE_COMMITTED) < 0) {
			e = errno;
			log_err("queue event=commit queue=%s error=\"fchmod: %s\"", m->qid, strerror(e));
			reply_errno(m->peer, PROTO_COMMIT_FAIL, m->req, e);
			drop_tmp(m);
			continue;
		}
		ms[n] = m;
		fds[n++] = m->fd;
	}
	if (n == 0)
		return;
	/* every file of the round and the directory holding their entries,
	 * all at once: none of these fsyncs has to wait for another */
	fds[n] = Q.q_fd;
	uint64_t t0 = now_ms();
	syncpool_fsync(Q.pool, fds, errs, n + 1);
	log_debug("queue event=commit-round files=%zu fsync_ms=%llu", n,
	    (unsigned long long)(now_ms() - t0));
	int dir_err = errs[n];
	for (size_t i = 0; i < n; i++) {
		struct qmsg *m = ms[i];
		int e = errs[i] ? errs[i] : dir_err;
		if (e != 0) {
			/* we cannot promise durability: refuse, deliver nothing
			 * of it (the client will retry) */
			log_err("queue event=commit queue=%s error=\"fsync: %s\"", m->qid, strerror(e));
			reply_errno(m->peer, PROTO_COMMIT_FAIL, m->req, e);
			drop_tmp(m);
			continue;
		}
		log_queued(m, "spool");
		if (m->peer != NULL)
			ipc_send(m->peer->ipc, PROTO_COMMIT_OK, m->req, -1, NULL, 0);
		m->req = 0;
		Q.work = true;
		/* after a failed local commit: its copies may be there (look
		 * for them), and a recipient that failed waits for a retry */
		m->recovering = m->fallback;
		if (m->failed)
			defer(m);
		else
			m->st = Q_READY;
	}
}

/* --- delivery (by the deliver process) ------------------------------------- */

static void expire(struct qmsg *m);

/* Try again later, unless the message is past its lifetime (it is
 * checked here too, so a restart that fails again expires it at once). */
static void
defer(struct qmsg *m)
{
	if ((int64_t)time(NULL) - (int64_t)m->env.time > (int64_t)Q.set.lifetime) {
		expire(m);
		return;
	}
	m->st = Q_DEFERRED;
	if (!timer_armed(&Q.retry))
		timer_set(Q.loop, &Q.retry, RETRY_MS);
}

/* Hand m to deliver, in state st: Q_LOCAL (its copies are its commit) or
 * Q_DELIVERING (it is committed in the spool). */
static void
send_deliver(struct qmsg *m, enum qstate to)
{
	/* deliver gets the file read-only; a memfd is sealed against writes */
	int fd = m->mem ? fcntl(m->fd, F_DUPFD_CLOEXEC, 0) :
	    openat(Q.q_fd, m->qid, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_err("queue event=deliver queue=%s error=\"reopen: %s\"", m->qid, strerror(errno));
		if (to == Q_LOCAL) {
			m->fallback = true;	/* committing stays to do */
			return;
		}
		defer(m);
		return;
	}
	/* the file was checked at COMMIT (or at start), but a retry must not
	 * trust that it is still what was committed: one that no longer
	 * parses is set aside, never retried for ever.  A first attempt
	 * follows the check at once and skips it. */
	struct stat st;
	struct spool_env env;
	uint64_t off, len;
	const char *why = NULL;
	if (!m->recovering)
		;
	else if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (spool_read(fd, (uint64_t)st.st_size, &env, &off, &len, &why) == 0) {
		if (strcmp(env.qid, m->env.qid) != 0 || env.n_rcpts != m->env.n_rcpts ||
		    off != m->off || len != m->len)
			why = "changed since it was committed";
		spool_env_free(&env);
	}
	if (why != NULL) {
		log_err("queue event=corrupt queue=%s error=\"%s\" action=moved-to-corrupt",
		    m->qid, why);
		close(fd);
		qmsg_set_aside(m, "corrupt");
		qmsg_free(m);
		return;
	}
	struct proto_deliver d = { .recovering = m->recovering, .n = 0 };
	for (size_t i = 0; i < m->env.n_rcpts && d.n < PROTO_DELIVER_MAX; i++)
		if (!m->done[i]) {
			d.idx[d.n++] = m->env.rcpts[i].idx;
			m->attempts[i]++;
		}
	/* the reply finds the message by this serial (never a pointer) */
	proto_deliver_send(Q.deliver, m->serial, fd, &d);
	m->st = to;
	Q.n_inflight++;
}

static void
deliver_round(void)
{
	Q.work = false;
	if (Q.deliver == NULL)
		return;	/* resumes when the new deliver process is connected */
	for (struct qmsg *m = Q.msgs, *next; m; m = next) {
		next = m->next;	/* send_deliver may set m aside and free it */
		if (m->st != Q_READY || m->req != 0)
			continue;
		if (Q.n_inflight >= DELIVER_INFLIGHT)
			return;	/* DELIVER_DONE sets work again */
		qmsg_track(m);
		m->failed = false;
		send_deliver(m, Q_DELIVERING);
	}
}

static struct qmsg *
qmsg_by_serial(uint64_t serial)
{
	for (struct qmsg *m = Q.msgs; m; m = m->next)
		if (m->serial == serial && (m->st == Q_DELIVERING || m->st == Q_LOCAL))
			return m;
	return NULL;
}

/* Append result records to spool/results/QID and make them durable.  A
 * failure is logged and otherwise harmless: without the record a restart
 * redoes the recipient, and deliver finds the copy already there. */
static void
results_append(struct qmsg *m, const struct buf *rec)
{
	if (rec->len == 0 || rec->err)
		return;
	m->has_results = true;
	int fd = openat(Q.r_fd, m->qid, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0640);
	if (fd < 0 || write(fd, rec->data, rec->len) != (ssize_t)rec->len || fdatasync(fd) < 0 ||
	    fsync(Q.r_fd) < 0)
		log_err("queue event=results queue=%s error=\"%s\"", m->qid, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* deliver's answer for one message: each recipient it names must be one
 * we asked for (else the channel is refused and everything in flight is
 * done again, finding the copies already there). */
static const char *
deliver_done(struct ipc_msg *im)
{
	static struct proto_deliver_done dd;	/* 50 KB: not on the stack */
	if (proto_deliver_done_dec(im, &dd) < 0)
		return "bad DELIVER_DONE";
	struct qmsg *m = qmsg_by_serial(im->id);
	if (m == NULL)
		return "DELIVER_DONE for a message not in delivery";
	for (uint32_t k = 0; k < dd.n; k++) {
		size_t i = 0;
		while (i < m->env.n_rcpts && m->env.rcpts[i].idx != dd.item[k].idx)
			i++;
		if (i == m->env.n_rcpts)
			return "DELIVER_DONE names a recipient not in the message";
	}
	Q.n_inflight--;
	Q.work = true;
	bool local = m->st == Q_LOCAL;
	if (local) {
		bool ok = dd.n == m->env.n_rcpts;
		for (uint32_t k = 0; k < dd.n; k++)
			ok = ok && dd.item[k].err == 0;
		if (ok)
			log_queued(m, "local");
	}
	struct buf rec;
	buf_init(&rec, 0);
	for (uint32_t k = 0; k < dd.n; k++) {
		uint32_t idx = dd.item[k].idx, e = dd.item[k].err;
		char text[PROTO_DONE_TEXT_MAX * 4 + 1], to[ADDR_ESC_MAX];
		log_escape(text, sizeof text, dd.item[k].text, strlen(dd.item[k].text));
		size_t i = rcpt_index(m, idx);
		const struct spool_rcpt *r = &m->env.rcpts[i];
		struct spool_result res = { .idx = idx, .attempts = m->attempts[i],
			.time = (uint64_t)time(NULL) };
		esc_addr(to, sizeof to, r->addr);
		if (e == 0) {
			m->done[i] = true;
			res.status = SPOOL_ST_DONE;
			log_info("queue event=delivered queue=%s session=%s to=<%s> user=%s path=%s",
			    m->qid, m->env.session, to, r->user, text);
		} else {
			m->failed = true;
			res.status = SPOOL_ST_DEFERRED;
			snprintf(res.text, sizeof res.text, "%.*s", SPOOL_RESULT_TEXT_MAX, text);
			log_warn("queue event=deferred queue=%s to=<%s> user=%s attempts=%u "
			    "reason=\"%s\" code=%s", m->qid, to, r->user, m->attempts[i], text,
			    (e == ENOSPC || e == EDQUOT) ? "4.3.1" : "4.3.0");
		}
		spool_result_encode(&rec, &res);
	}
	bool all = true;
	for (size_t i = 0; i < m->env.n_rcpts; i++)
		all = all && m->done[i];
	if (all) {
		/* every copy is durable in new/: the spool copy may go (its
		 * results with it; one left behind by a crash is removed at
		 * start), and then the client may have its 250 (a local
		 * commit), so that after a 250 the spool holds nothing of it */
		if (!m->mem)
			unlinkat(Q.q_fd, m->qid, 0);
		if (local && m->peer != NULL)
			ipc_send(m->peer->ipc, PROTO_COMMIT_OK, m->req, -1, NULL, 0);
		if (m->has_results)
			unlinkat(Q.r_fd, m->qid, 0);
		qmsg_free(m);
	} else if (local) {
		/* a copy failed: the spool file becomes the commit, with the
		 * copies that were made recorded as done (never made twice) */
		log_warn("queue event=local-commit queue=%s action=spool-commit", m->qid);
		results_append(m, &rec);
		m->fallback = true;
		m->st = Q_COMMITTING;
	} else {
		/* not all done at once: remember who is, so a restart never
		 * redoes a recipient, and how often the others were tried */
		results_append(m, &rec);
		if (m->failed) {
			/* a failed copy may still have reached new/: look again */
			m->recovering = true;
			defer(m);
		} else {
			m->st = Q_READY;	/* the next chunk of recipients */
		}
	}
	buf_free(&rec);
	return NULL;
}

static const char *
deliver_msg(struct ipc *c, struct ipc_msg *im, void *arg)
{
	if (im->type != PROTO_DELIVER_DONE)
		return "unexpected message";
	return deliver_done(im);
}

static void
deliver_close(struct ipc *c, void *arg)
{
	/* the deliver process died (or sent what we refuse): what it had may
	 * be half done; it is done again, looking for copies already there */
	proto_peer_closed(Q.parent, c, "queue", ROLE_DELIVER, 0, Q.deliver_id);
	log_warn("queue event=deliver-gone");
	ipc_free(&Q.deliver);
	for (struct qmsg *m = Q.msgs; m; m = m->next)
		if (m->st == Q_DELIVERING) {
			m->st = Q_READY;
			m->recovering = true;
		} else if (m->st == Q_LOCAL) {
			/* its copies may be half made: commit it in the spool
			 * and let the next deliver process find them */
			m->st = Q_COMMITTING;
			m->fallback = true;
		}
	Q.n_inflight = 0;
}

/* A message that could not be delivered for `limit queue-lifetime`: no
 * more retries.  Each recipient still to do is logged as expired and
 * recorded as failed; the message goes to spool/expired/, where it waits
 * for the bounce that outbound delivery will send. */
static void
expire(struct qmsg *m)
{
	struct buf rec;
	buf_init(&rec, 0);
	for (size_t i = 0; i < m->env.n_rcpts; i++) {
		if (m->done[i])
			continue;
		char to[ADDR_ESC_MAX];
		struct spool_result res = { .idx = m->env.rcpts[i].idx, .status = SPOOL_ST_FAILED,
			.attempts = m->attempts[i], .time = (uint64_t)time(NULL) };
		snprintf(res.text, sizeof res.text, "expired after %u attempts", m->attempts[i]);
		spool_result_encode(&rec, &res);
		log_warn("queue event=expired queue=%s session=%s to=<%s> user=%s attempts=%u "
		    "age=%llds", m->qid, m->env.session, esc_addr(to, sizeof to, m->env.rcpts[i].addr),
		    m->env.rcpts[i].user, m->attempts[i],
		    (long long)(time(NULL) - (time_t)m->env.time));
	}
	results_append(m, &rec);
	buf_free(&rec);
	qmsg_set_aside(m, "expired");
	qmsg_free(m);
}

static void
retry_cb(struct loop *l, void *arg)
{
	time_t now = time(NULL);
	for (struct qmsg *m = Q.msgs, *next; m; m = next) {
		next = m->next;
		if (m->st != Q_DEFERRED)
			continue;
		if ((int64_t)now - (int64_t)m->env.time > (int64_t)Q.set.lifetime) {
			expire(m);
			continue;
		}
		m->st = Q_READY;
		Q.work = true;
	}
}

static bool
have_open(void)
{
	for (struct qmsg *m = Q.msgs; m; m = m->next)
		if (m->st == Q_OPEN || m->st == Q_COMMITTING || m->st == Q_LOCAL ||
		    m->st == Q_DELIVERING)
			return true;
	return false;
}

static bool
have_ready(void)
{
	for (struct qmsg *m = Q.msgs; m; m = m->next)
		if (m->st == Q_READY)
			return true;
	return false;
}

static void
before_sleep(struct loop *l, void *arg)
{
	commit_round();
	if (Q.work)
		deliver_round();
	/* on stop: finish commits and hand out what is ready while a deliver
	 * process is there to take it; the rest waits in the spool */
	if (Q.stopping && Q.peers == NULL && !have_open() &&
	    (Q.deliver == NULL || !have_ready())) {
		log_info("queue event=stop");
		loop_stop(l);
	}
}

/* --- startup recovery ---------------------------------------------------- */

static void
result_apply(const struct spool_result *r, void *arg)
{
	struct qmsg *m = arg;
	size_t i = rcpt_index(m, r->idx);
	if (i == m->env.n_rcpts)
		return;		/* not a recipient of this message: ignored */
	m->done[i] = r->status == SPOOL_ST_DONE;
	m->attempts[i] = r->attempts;
}

/* Apply spool/results/QID to m; returns how many recipients are done. */
static size_t
results_load(struct qmsg *m)
{
	int fd = openat(Q.r_fd, m->qid, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	m->has_results = true;
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < (64 << 20)) {
		uint8_t *p = xmalloc((size_t)st.st_size);
		ssize_t got = pread(fd, p, (size_t)st.st_size, 0);
		if (got > 0) {
			size_t ok = spool_results_parse(p, (size_t)got, result_apply, m);
			if (ok < (size_t)got)
				/* a torn last record: cut it, or new ones would
				 * hide behind it */
				(void)!ftruncate(fd, (off_t)ok);
		}
		free(p);
	}
	close(fd);
	size_t done = 0;
	for (size_t i = 0; i < m->env.n_rcpts; i++)
		done += m->done[i];
	return done;
}

static void
recover(void)
{
	DIR *d;
	struct dirent *de;
	int fd;

	/* spool/tmp is where older versions built files: nobody was told
	 * 250 for what is left there */
	int tmp_fd = openat(Q.spool_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (tmp_fd >= 0 && (fd = dup(tmp_fd)) >= 0 && (d = fdopendir(fd)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				unlinkat(tmp_fd, de->d_name, 0);
		closedir(d);
	}
	if (tmp_fd >= 0)
		close(tmp_fd);
	if ((fd = dup(Q.q_fd)) < 0 || (d = fdopendir(fd)) == NULL)
		fatal("queue: cannot read spool/queue: %s", strerror(errno));
	size_t n = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		struct qmsg *m = xcalloc(1, sizeof *m);
		m->serial = ++Q.serial;
		const char *why = NULL;
		struct stat st;
		snprintf(m->qid, sizeof m->qid, "%.*s", (int)(sizeof m->qid - 1), de->d_name);
		m->fd = openat(Q.q_fd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (spool_qid_valid(de->d_name) && m->fd >= 0 && fstat(m->fd, &st) == 0 &&
		    (st.st_mode & 0777) == SPOOL_MODE_OPEN) {
			/* never committed: nobody was told 250 for it */
			log_info("queue event=recover file=%s action=removed-uncommitted", de->d_name);
			unlinkat(Q.q_fd, de->d_name, 0);
			qmsg_free(m);
			continue;
		}
		if (spool_qid_valid(de->d_name) && (m->fd < 0 || fstat(m->fd, &st) < 0)) {
			/* an operational problem (permissions, I/O), not a bad
			 * file: leave it where it is for the admin */
			log_err("queue event=recover file=%s error=\"%s\" action=left-in-place",
			    de->d_name, strerror(errno));
			qmsg_free(m);
			continue;
		}
		if (!spool_qid_valid(de->d_name))
			why = "not a queue file name";
		else if (spool_read(m->fd, (uint64_t)st.st_size, &m->env, &m->off, &m->len, &why) == 0)
			m->have_env = true;
		if (why != NULL) {
			/* never delete what we cannot read: move it aside */
			log_err("queue event=recover file=%s error=\"%s\" action=moved-to-corrupt",
			    de->d_name, why);
			mkdirat(Q.spool_fd, "corrupt", 0700);
			int cfd = openat(Q.spool_fd, "corrupt", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (cfd >= 0) {
				renameat(Q.q_fd, de->d_name, cfd, de->d_name);
				close(cfd);
			}
			qmsg_free(m);
			continue;
		}
		m->st = Q_READY;
		m->recovering = true;
		m->next = Q.msgs;
		Q.msgs = m;
		qmsg_track(m);
		size_t done = results_load(m);
		if (done == m->env.n_rcpts) {
			/* finished before the crash; only the unlink was lost */
			unlinkat(Q.q_fd, m->qid, 0);
			unlinkat(Q.r_fd, m->qid, 0);
			qmsg_free(m);
			continue;
		}
		n++;
	}
	closedir(d);
	/* results whose message is gone: it was done, the unlink of the
	 * results file was what the crash cut short */
	if ((fd = dup(Q.r_fd)) >= 0 && (d = fdopendir(fd)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' &&
			    faccessat(Q.q_fd, de->d_name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
			    errno == ENOENT)
				unlinkat(Q.r_fd, de->d_name, 0);
		closedir(d);
	}
	if (n > 0) {
		log_info("queue event=recover messages=%zu", n);
		Q.work = true;
	}
}

/* --- parent channel ------------------------------------------------------ */

static const char *
parent_msg(struct ipc *c, struct ipc_msg *im, void *arg)
{
	switch (im->type) {
	case PROTO_QUEUE_SETTINGS: {
		struct proto_queue_settings set;
		if (proto_queue_settings_dec(im, &set) < 0)
			return "bad QUEUE_SETTINGS";
		if (Q.set.gen != 0 && set.gen != Q.set.gen)
			log_info("queue event=reload generation=%u", set.gen);
		Q.set = set;
		break;
	}
	case PROTO_PEER: {
		struct proto_peer pe;
		if (proto_peer_dec(im, &pe) < 0)
			return "bad PEER";
		if (pe.role == ROLE_SMTP) {
			struct peer *p = xcalloc(1, sizeof *p);
			p->slot = pe.slot;
			p->id = pe.id;
			p->max_open = Q.set.max_open;
			p->ipc = ipc_new(Q.loop, im->fd, peer_msg, peer_close, p);
			p->next = Q.peers;
			Q.peers = p;
		} else if (pe.role == ROLE_DELIVER) {
			if (Q.deliver != NULL)
				deliver_close(NULL, NULL);
			Q.deliver = ipc_new(Q.loop, im->fd, deliver_msg, deliver_close, NULL);
			Q.deliver_id = pe.id;
			Q.work = true;
		} else {
			return "PEER of a role the queue does not talk to";
		}
		im->fd = -1;
		break;
	}
	case PROTO_STOP: {
		struct proto_stop st;
		if (proto_stop_dec(im, &st) < 0)
			return "bad STOP";
		Q.stopping = true;
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
	/* the parent is gone: finish what is committed, then go */
	log_warn("queue event=parent-gone");
	Q.stopping = true;
	ipc_free(&Q.parent);
}

static int
subdir(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		fatal("queue: cannot create spool/%s: %s", name, strerror(errno));
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		fatal("queue: cannot open spool/%s: %s", name, strerror(errno));
	return fd;
}

void
queue_main(int parent_fd, int spool_fd)
{
	memset(&Q, 0, sizeof Q);
	Q.loop = loop_new();
	if (Q.loop == NULL)
		fatal("queue: cannot create event loop");
	Q.spool_fd = spool_fd;
	Q.q_fd = subdir(spool_fd, "queue");
	Q.r_fd = subdir(spool_fd, "results");
	fsync(spool_fd);
	Q.pool = syncpool_new(8);
	timer_init(&Q.retry, retry_cb, NULL);
	Q.parent = ipc_new(Q.loop, parent_fd, parent_msg, parent_close, NULL);
	loop_before_sleep(Q.loop, before_sleep, NULL);
	recover();
	log_info("queue event=start");
	loop_run(Q.loop);
	syncpool_free(&Q.pool);
	exit(0);
}

/*
 * deliver/deliver.c - the deliver process: copies committed spool files into
 * Maildir for the queue.
 *
 * The queue sends DELIVER with a read-only descriptor of a committed spool
 * file and the recipient indices still to do.  All requests of one loop
 * round are done as one batch (queue/maildir.h): every copy written into
 * tmp/, all of them fsynced together, linked into new/, each touched new/
 * directory fsynced once.  Only then does the reply go back, and only then
 * may the queue remove its spool file.
 *
 * Runs in: deliver process, as the owner of the mail store (_talonmail);
 * it never sees the spool directory, only the descriptors it is handed.
 * Trusts: the queue, and the spool file only as far as spool_read checks.
 */
#include "deliver/deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/syncpool.h"
#include "core/util.h"
#include "mail/spool.h"
#include "proto/parent.h"
#include "proto/queue_deliver.h"
#include "store/mailbox.h"
#include "store/maildir.h"

#define ROUND_JOBS 256	/* copies per batch (a bigger single request still goes whole) */

struct req {
	struct req *next;
	uint64_t id;
	int fd;
	bool recovering;
	struct spool_env env;
	bool have_env;
	uint64_t off, len;
	uint32_t *idx;
	size_t n_idx;
	const char *bad;	/* the spool file did not parse */
};

static struct {
	struct loop *loop;
	struct ipc *parent, *queue;
	struct maildir_store *store;
	struct syncpool *pool;
	struct req *reqs, **tail;
	struct timer kick;
	bool stopping;
	struct proto_deliver_settings set;
	int store_fd;
	uint32_t queue_id;	/* names the queue process in a REPORT */
	/* the mailboxes we may write to (users file names), sorted; the next
	 * list is built in pending while its chunks arrive */
	char **boxes, **pending;
	size_t n_boxes, n_pending;
	uint32_t pending_gen;
} D;

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_free(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

/* Is user a mailbox of the users file?  Deliver creates and writes
 * store/<user> for no other name, whatever a spool file says. */
static bool
mailbox_known(const char *user)
{
	return D.boxes != NULL &&
	    bsearch(&user, D.boxes, D.n_boxes, sizeof *D.boxes, cmp_name) != NULL;
}

static void
req_free(struct req *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->have_env)
		spool_env_free(&r->env);
	free(r->idx);
	free(r);
}

static void
drop_all(void)
{
	while (D.reqs) {
		struct req *r = D.reqs;
		D.reqs = r->next;
		req_free(r);
	}
	D.tail = &D.reqs;
}

/* A request from the queue.  One that does not decode closes the channel
 * (the queue is a peer like any other); the parent reconnects us. */
static const char *
queue_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct proto_deliver d;
	if (m->type != PROTO_DELIVER)
		return "unexpected message";
	if (proto_deliver_dec(m, &d) < 0)
		return "bad DELIVER";
	struct req *r = xcalloc(1, sizeof *r);
	r->id = m->id;
	r->fd = m->fd;
	m->fd = -1;
	r->recovering = d.recovering;
	r->idx = xcalloc(d.n, sizeof *r->idx);
	memcpy(r->idx, d.idx, d.n * sizeof *r->idx);
	r->n_idx = d.n;
	struct stat st;
	if (fstat(r->fd, &st) < 0)
		r->bad = "no spool file descriptor";
	else if (spool_read(r->fd, (uint64_t)st.st_size, &r->env, &r->off, &r->len, &r->bad) == 0)
		r->have_env = true;
	*D.tail = r;
	D.tail = &r->next;
	return NULL;
}

static void
queue_close(struct ipc *c, void *arg)
{
	/* the queue died: nobody to answer; it redelivers what it had */
	proto_peer_closed(D.parent, c, "deliver", ROLE_QUEUE, 0, D.queue_id);
	log_warn("deliver event=queue-gone");
	ipc_free(&D.queue);
	drop_all();
}

struct job {
	struct req *r;
	uint32_t idx;
	struct maildir_job mj;
};

static void
reply(struct req *r, struct job *jobs, size_t nj)
{
	static struct proto_deliver_done dd;	/* 50 KB: not on the stack */
	dd.n = (uint32_t)r->n_idx;
	for (size_t i = 0; i < r->n_idx; i++) {
		struct job *j = NULL;
		for (size_t k = 0; k < nj; k++)
			if (jobs[k].r == r && jobs[k].idx == r->idx[i])
				j = &jobs[k];
		uint32_t e = EINVAL;
		const char *text = r->bad ? r->bad : "recipient index out of range";
		char path[600];
		if (j != NULL) {
			e = (uint32_t)j->mj.err;
			if (e == 0) {
				snprintf(path, sizeof path, "%s/Maildir/new/%s", j->mj.user, j->mj.name);
				text = path;
			} else {
				text = j->mj.why;
			}
		}
		dd.item[i].idx = r->idx[i];
		dd.item[i].err = e;
		/* a path that does not fit is cut: it is only for the log */
		snprintf(dd.item[i].text, sizeof dd.item[i].text, "%.*s", PROTO_DONE_TEXT_MAX, text);
	}
	if (D.queue != NULL)
		proto_deliver_done_send(D.queue, r->id, &dd);
}

/* limit mailbox-quota: a copy that would take the user past it is not
 * written; EDQUOT defers it (4.3.1 in the queue's log), so it is tried
 * again until the user makes room or the queue lifetime ends.  Usage is
 * counted afresh (a readdir per folder), only when a quota is set. */
static bool
over_quota(const char *user, uint64_t len, struct maildir_job *mj)
{
	if (D.set.quota_bytes == 0)
		return false;
	char path[300];
	snprintf(path, sizeof path, "%s/Maildir", user);
	int fd = openat(D.store_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;	/* a first delivery: nothing stored yet */
	uint64_t used = 0, n = 0;
	int rc = mb_usage(fd, &used, &n);
	close(fd);
	if (rc < 0 || used + len <= D.set.quota_bytes)
		return false;
	mj->fd = -1;
	mj->err = EDQUOT;
	snprintf(mj->user, sizeof mj->user, "%s", user);
	snprintf(mj->why, sizeof mj->why, "mailbox %s is full (mailbox-quota %llu bytes, %llu used)",
	    user, (unsigned long long)D.set.quota_bytes, (unsigned long long)used);
	return true;
}

static void
round_run(void)
{
	struct req *batch = NULL, **bt = &batch;
	size_t nj = 0;
	/* take whole requests up to the round size */
	while (D.reqs && (nj == 0 || nj + D.reqs->n_idx <= ROUND_JOBS)) {
		struct req *r = D.reqs;
		D.reqs = r->next;
		r->next = NULL;
		*bt = r;
		bt = &r->next;
		nj += r->n_idx;
	}
	if (D.reqs == NULL)
		D.tail = &D.reqs;
	if (batch == NULL)
		return;
	struct job *jobs = xcalloc(nj, sizeof *jobs);
	int *fds = xcalloc(nj, sizeof *fds), *errs = xcalloc(nj, sizeof *errs);
	struct job **fj = xcalloc(nj, sizeof *fj);
	size_t n = 0, nf = 0;
	/* 1: every copy into tmp/ */
	for (struct req *r = batch; r; r = r->next) {
		if (r->bad != NULL)
			continue;
		for (size_t i = 0; i < r->n_idx; i++) {
			const struct spool_rcpt *rc = NULL;
			for (size_t k = 0; k < r->env.n_rcpts; k++)
				if (r->env.rcpts[k].idx == r->idx[i])
					rc = &r->env.rcpts[k];
			if (rc == NULL)
				continue;
			struct job *j = &jobs[n++];
			j->r = r;
			j->idx = r->idx[i];
			if (!mailbox_known(rc->user)) {
				j->mj.fd = -1;
				j->mj.err = ENOENT;
				snprintf(j->mj.user, sizeof j->mj.user, "%s", rc->user);
				snprintf(j->mj.why, sizeof j->mj.why,
				    "no mailbox %s (not in the users file)", rc->user);
				continue;
			}
			if (over_quota(rc->user, r->len, &j->mj))
				continue;
			if (maildir_write(D.store, &r->env, rc, r->fd, r->off, r->len,
			    r->recovering, &j->mj) == 0 && j->mj.fd >= 0) {
				fj[nf] = j;
				fds[nf++] = j->mj.fd;
			}
		}
	}
	/* 2: durable together */
	syncpool_fsync(D.pool, fds, errs, nf);
	for (size_t i = 0; i < nf; i++)
		if (errs[i] != 0) {
			fj[i]->mj.err = errs[i];
			snprintf(fj[i]->mj.why, sizeof fj[i]->mj.why, "fsync: %s", strerror(errs[i]));
			maildir_discard(D.store, &fj[i]->mj);
		}
	/* 3: into new/ */
	for (size_t i = 0; i < n; i++)
		if (jobs[i].mj.err == 0)
			maildir_commit(D.store, &jobs[i].mj);
	/* 4: the new/ directories; a failure here makes the whole batch
	 * uncertain: report it failed (it is redone with a look in cur/) */
	if (maildir_sync(D.store, D.pool) < 0)
		for (size_t i = 0; i < n; i++)
			if (jobs[i].mj.err == 0) {
				jobs[i].mj.err = EIO;
				snprintf(jobs[i].mj.why, sizeof jobs[i].mj.why, "fsync of new/ failed");
			}
	for (struct req *r = batch; r; r = r->next)
		reply(r, jobs, n);
	while (batch) {
		struct req *r = batch;
		batch = r->next;
		req_free(r);
	}
	free(jobs);
	free(fds);
	free(errs);
	free(fj);
}

static void
kick_cb(struct loop *l, void *arg)
{
}

static void
before_sleep(struct loop *l, void *arg)
{
	round_run();
	if (D.reqs != NULL)
		timer_set(l, &D.kick, 0);
	else if (D.stopping)
		loop_stop(l);
}

static const char *
parent_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	switch (m->type) {
	case PROTO_DELIVER_SETTINGS: {
		struct proto_deliver_settings set;
		if (proto_deliver_settings_dec(m, &set) < 0)
			return "bad DELIVER_SETTINGS";
		if (D.set.gen != 0 && set.gen != D.set.gen)
			log_info("deliver event=reload generation=%u hostname=%s", set.gen,
			    set.hostname);
		D.set = set;
		if (D.store == NULL)
			D.store = maildir_store_new(D.store_fd, set.hostname);
		else
			maildir_store_set_host(D.store, set.hostname);
		break;
	}
	case PROTO_MAILBOXES: {
		static struct proto_mailboxes mb;	/* 33 KB: not on the stack */
		if (proto_mailboxes_dec(m, &mb) < 0)
			return "bad MAILBOXES";
		if (mb.gen != D.pending_gen)
			names_free(&D.pending, &D.n_pending);
		D.pending_gen = mb.gen;
		D.pending = xreallocarray(D.pending, D.n_pending + mb.n + 1, sizeof *D.pending);
		for (uint32_t i = 0; i < mb.n; i++)
			D.pending[D.n_pending++] = xstrdup(mb.name[i]);
		if (mb.last) {
			names_free(&D.boxes, &D.n_boxes);
			D.boxes = D.pending;
			D.n_boxes = D.n_pending;
			D.pending = NULL;
			D.n_pending = 0;
			qsort(D.boxes, D.n_boxes, sizeof *D.boxes, cmp_name);
			log_info("deliver event=mailboxes generation=%u count=%zu", mb.gen, D.n_boxes);
		}
		break;
	}
	case PROTO_PEER: {
		struct proto_peer pe;
		if (proto_peer_dec(m, &pe) < 0 || pe.role != ROLE_QUEUE)
			return "bad PEER";
		if (D.store == NULL)
			return "PEER before settings";
		ipc_free(&D.queue);
		drop_all();
		D.queue = ipc_new(D.loop, m->fd, queue_msg, queue_close, NULL);
		D.queue_id = pe.id;
		m->fd = -1;
		break;
	}
	case PROTO_STOP: {
		struct proto_stop st;
		if (proto_stop_dec(m, &st) < 0)
			return "bad STOP";
		D.stopping = true;
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
	log_warn("deliver event=parent-gone");
	ipc_free(&D.parent);
	D.stopping = true;
}

void
deliver_main(int parent_fd, int store_fd)
{
	memset(&D, 0, sizeof D);
	D.tail = &D.reqs;
	D.loop = loop_new();
	if (D.loop == NULL)
		fatal("deliver: cannot create event loop");
	D.store_fd = store_fd;	/* the store is made when the settings come */
	D.pool = syncpool_new(8);
	timer_init(&D.kick, kick_cb, NULL);
	D.parent = ipc_new(D.loop, parent_fd, parent_msg, parent_close, NULL);
	loop_before_sleep(D.loop, before_sleep, NULL);
	log_info("deliver event=start");
	loop_run(D.loop);
	log_info("deliver event=stop");
	drop_all();
	ipc_free(&D.queue);
	ipc_free(&D.parent);
	maildir_store_free(&D.store);
	names_free(&D.boxes, &D.n_boxes);
	names_free(&D.pending, &D.n_pending);
	syncpool_free(&D.pool);
	loop_free(&D.loop);
	exit(0);
}

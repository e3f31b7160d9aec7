/*
 * store/maildir.c - durable Maildir delivery.
 */
#include "store/maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/htab.h"
#include "core/log.h"
#include "core/syncpool.h"
#include "core/util.h"

#define MBOX_CACHE 64

struct mbox {
	char user[65];
	char folder[16];	/* "" for INBOX, else a Maildir++ folder ("Junk") */
	int tmp_fd, new_fd, cur_fd;
	bool dirty;		/* new/ has links not yet fsynced */
	uint64_t used;		/* LRU clock */
};

struct maildir_store {
	int store_fd;
	char host[256];
	struct mbox cache[MBOX_CACHE];
	uint64_t clock;
	struct htab swept;	/* users whose tmp/ this process has cleaned */
};

void
maildir_store_set_host(struct maildir_store *s, const char *hostname)
{
	/* ':' and '/' would break Maildir file names; hostname is a validated
	 * domain, but be safe. */
	size_t j = 0;
	for (size_t i = 0; hostname[i] && j < sizeof s->host - 1; i++) {
		char c = hostname[i];
		s->host[j++] = (c == '/' || c == ':') ? '_' : c;
	}
	s->host[j] = '\0';
}

struct maildir_store *
maildir_store_new(int store_dirfd, const char *hostname)
{
	struct maildir_store *s = xcalloc(1, sizeof *s);
	s->store_fd = store_dirfd;
	htab_init(&s->swept, sizeof s->cache[0].user + sizeof s->cache[0].folder, 1);
	maildir_store_set_host(s, hostname);
	for (int i = 0; i < MBOX_CACHE; i++)
		s->cache[i].tmp_fd = s->cache[i].new_fd = s->cache[i].cur_fd = -1;
	return s;
}

static void
mbox_close(struct mbox *m)
{
	if (m->tmp_fd >= 0)
		close(m->tmp_fd);
	if (m->new_fd >= 0)
		close(m->new_fd);
	if (m->cur_fd >= 0)
		close(m->cur_fd);
	m->tmp_fd = m->new_fd = m->cur_fd = -1;
	m->user[0] = '\0';
	m->folder[0] = '\0';
	m->dirty = false;
}

void
maildir_store_free(struct maildir_store **sp)
{
	struct maildir_store *s = *sp;
	if (s == NULL)
		return;
	maildir_sync(s, NULL);
	for (int i = 0; i < MBOX_CACHE; i++)
		mbox_close(&s->cache[i]);
	htab_free(&s->swept);
	free(s);
	*sp = NULL;
}

/* open dirfd/name as a directory, creating it (and fsyncing the parent so
 * the new entry survives a crash) when missing */
static int
open_dir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -1;
	if (fsync(dirfd) < 0)
		return -1;
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

/* One of our copy names, "TIME.QqidIidx.": other writers of tmp/ (a
 * mail reader, a future IMAP APPEND) use other names and are left alone. */
static bool
our_name(const char *n)
{
	const char *p = n;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p == n || *p++ != '.' || *p++ != 'Q' || strlen(p) < SPOOL_QID_LEN + 3)
		return false;
	char qid[SPOOL_QID_LEN + 1];
	memcpy(qid, p, SPOOL_QID_LEN);
	qid[SPOOL_QID_LEN] = '\0';
	p += SPOOL_QID_LEN;
	if (!spool_qid_valid(qid) || *p++ != 'I')
		return false;
	const char *q = p;
	while (*p >= '0' && *p <= '9')
		p++;
	return p != q && *p == '.';
}

/* Remove the copies an earlier deliver process left in tmp/ when it died
 * between writing and linking them.  Most are redone (the message is
 * committed in the spool) under the same name; the others belong to a
 * local commit that never got its 250 and will not be redone.  Done the
 * first time this process opens the mailbox, before it writes there, so
 * nothing it is working on can be among them. */
static void
sweep_tmp(struct maildir_store *s, struct mbox *m)
{
	char key[sizeof m->user + sizeof m->folder] = { 0 };
	memcpy(key, m->user, strlen(m->user));
	memcpy(key + sizeof m->user, m->folder, strlen(m->folder));
	if (htab_get(&s->swept, key) != NULL)
		return;
	*(uint8_t *)htab_put(&s->swept, key) = 1;
	int fd = dup(m->tmp_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (our_name(de->d_name) && unlinkat(m->tmp_fd, de->d_name, 0) == 0)
			n++;
	closedir(d);
	if (n > 0)
		log_info("deliver event=tmp-cleanup user=%s removed=%u", m->user, n);
}

/* Open (creating) the Maildir++ folder ".NAME" inside Maildir md, with its
 * "maildirfolder" marker that Dovecot and Courier look for. */
static int
open_folder(int md, const char *folder)
{
	char name[32];
	snprintf(name, sizeof name, ".%s", folder);
	int fd = open_dir(md, name);
	if (fd < 0)
		return -1;
	int mf = openat(fd, "maildirfolder", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (mf >= 0)
		close(mf);
	return fd;
}

static struct mbox *
mbox_get(struct maildir_store *s, const char *user, const char *folder)
{
	struct mbox *victim = &s->cache[0];
	for (int i = 0; i < MBOX_CACHE; i++) {
		struct mbox *m = &s->cache[i];
		if (m->user[0] && strcmp(m->user, user) == 0 && strcmp(m->folder, folder) == 0) {
			m->used = ++s->clock;
			return m;
		}
		if (m->used < victim->used)
			victim = m;
	}
	if (victim->dirty && fsync(victim->new_fd) < 0)
		return NULL;
	mbox_close(victim);
	int ufd = open_dir(s->store_fd, user);
	if (ufd < 0)
		return NULL;
	int md = open_dir(ufd, "Maildir");
	close(ufd);
	if (md < 0)
		return NULL;
	if (folder[0] != '\0') {
		/* a reader needs the INBOX of a Maildir++ even when the first
		 * message goes into a folder */
		static const char *const sub[] = { "tmp", "new", "cur" };
		for (size_t i = 0; i < 3; i++) {
			int d = open_dir(md, sub[i]);
			if (d < 0) {
				close(md);
				return NULL;
			}
			close(d);
		}
		int fd = open_folder(md, folder);
		close(md);
		if (fd < 0)
			return NULL;
		md = fd;
	}
	victim->tmp_fd = open_dir(md, "tmp");
	victim->new_fd = open_dir(md, "new");
	victim->cur_fd = open_dir(md, "cur");
	close(md);
	if (victim->tmp_fd < 0 || victim->new_fd < 0 || victim->cur_fd < 0) {
		int e = errno;
		mbox_close(victim);
		errno = e;
		return NULL;
	}
	snprintf(victim->user, sizeof victim->user, "%s", user);
	snprintf(victim->folder, sizeof victim->folder, "%s", folder);
	victim->used = ++s->clock;
	sweep_tmp(s, victim);
	return victim;
}

/* Is a copy of this recipient's message in dir already?  Matched by the
 * name's stable part "TIME.QqidIidx." only: a reader (IMAP, mutt) may
 * have moved new/NAME to cur/NAME:2,FLAGS, and a reload may have changed
 * the host name part since the first attempt. */
static bool
has_copy(int dir_fd, const char *key)
{
	int fd = dup(dir_fd);
	if (fd < 0)
		return false;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return false;
	}
	size_t n = strlen(key);
	bool found = false;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, key, n) == 0) {
			found = true;
			break;
		}
	}
	closedir(d);
	return found;
}

/* Line ends in bytes [off, off+len) of the spool file: each LF is shown
 * as CRLF over IMAP, so the size a client sees (Dovecot's W=) is the file
 * size plus this.  The bytes were just written: they are in the cache. */
static int
count_lf(int fd, uint64_t off, uint64_t len, uint64_t *n)
{
	char b[65536];
	while (len > 0) {
		size_t want = len < sizeof b ? (size_t)len : sizeof b;
		ssize_t r = pread(fd, b, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		for (ssize_t i = 0; i < r; i++)
			*n += b[i] == '\n';
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static uint64_t
count_lf_str(const char *s)
{
	uint64_t n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static int
job_fail(struct maildir_store *s, struct maildir_job *job, const char *what)
{
	job->err = errno;
	snprintf(job->why, sizeof job->why, "%s: %s", what, strerror(job->err));
	maildir_discard(s, job);
	errno = job->err;
	return -1;
}

int
maildir_write(struct maildir_store *s, const struct spool_env *env,
    const struct spool_rcpt *r, int spool_fd, uint64_t off, uint64_t len,
    bool recovering, struct maildir_job *job)
{
	char hdr[2200];

	memset(job, 0, sizeof *job);
	job->fd = -1;
	snprintf(job->user, sizeof job->user, "%s", r->user);
	snprintf(job->folder, sizeof job->folder, "%s", env->folder);
	/* what the copy holds: our envelope headers, the prepended fields
	 * (Authentication-Results), the content less the skipped ranges */
	size_t extra = env->header ? strlen(env->header) : 0;
	uint64_t size = len + extra;
	for (size_t i = 0; i < env->n_skips; i++)
		size -= env->skips[i].len;
	int hl = snprintf(hdr, sizeof hdr, "Return-Path: <%s>\nDelivered-To: %s\n",
	    env->sender, r->addr);
	if (hl < 0 || (size_t)hl >= sizeof hdr) {
		errno = EINVAL;
		return job_fail(s, job, "envelope too long");
	}
	/* the size IMAP shows, W= as Dovecot names it: content stored with
	 * LF (bare CRs stay, bare LFs never reach the spool), shown with CRLF */
	uint64_t lfs = count_lf_str(hdr) + count_lf_str(env->header), at0 = 0;
	for (size_t i = 0; i < env->n_skips; i++) {
		const struct spool_skip *k = &env->skips[i];
		if (count_lf(spool_fd, off + at0, k->off - at0, &lfs) < 0)
			return job_fail(s, job, "read");
		at0 = k->off + k->len;
	}
	if (count_lf(spool_fd, off + at0, len - at0, &lfs) < 0)
		return job_fail(s, job, "read");
	/* deterministic: the same on every attempt (see the header) */
	snprintf(job->name, sizeof job->name, "%llu.Q%sI%u.%s,S=%llu,W=%llu",
	    (unsigned long long)env->time, env->qid, r->idx, s->host,
	    (unsigned long long)((uint64_t)hl + size),
	    (unsigned long long)((uint64_t)hl + size + lfs));

	struct mbox *m = mbox_get(s, r->user, job->folder);
	if (m == NULL)
		return job_fail(s, job, "cannot open mailbox");
	char key[200];
	snprintf(key, sizeof key, "%llu.Q%sI%u.", (unsigned long long)env->time, env->qid,
	    r->idx);
	if (recovering && (faccessat(m->new_fd, job->name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	    has_copy(m->new_fd, key) || has_copy(m->cur_fd, key))) {
		/* delivered before the crash, which may have come between the
		 * link and the unlink of tmp/ (drop the leftover), or before
		 * new/ was fsynced (so fsync it again before saying done) */
		job->done = true;
		if (unlinkat(m->tmp_fd, job->name, 0) < 0 && errno != ENOENT)
			log_warn("deliver event=tmp-cleanup user=%s file=%s error=\"%s\"", r->user,
			    job->name, strerror(errno));
		m->dirty = true;
		return 0;
	}
	job->fd = openat(m->tmp_fd, job->name,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (job->fd < 0)
		return job_fail(s, job, "create");
	if (write_all(job->fd, hdr, (size_t)hl) < 0 ||
	    (extra > 0 && write_all(job->fd, env->header, extra) < 0))
		return job_fail(s, job, "write");
	uint64_t at = 0;	/* content offset copied up to */
	for (size_t i = 0; i < env->n_skips; i++) {
		const struct spool_skip *k = &env->skips[i];
		if (copy_range(spool_fd, off + at, k->off - at, job->fd) < 0)
			return job_fail(s, job, "write");
		at = k->off + k->len;
	}
	if (copy_range(spool_fd, off + at, len - at, job->fd) < 0)
		return job_fail(s, job, "write");
	return 0;
}

int
maildir_commit(struct maildir_store *s, struct maildir_job *job)
{
	if (job->done)
		return 0;
	struct mbox *m = mbox_get(s, job->user, job->folder);
	if (m == NULL)
		return job_fail(s, job, "cannot open mailbox");
	close(job->fd);
	job->fd = -1;
	/* link, not rename: EEXIST means a copy is there already */
	if (linkat(m->tmp_fd, job->name, m->new_fd, job->name, 0) < 0 && errno != EEXIST)
		return job_fail(s, job, "link into new/");
	unlinkat(m->tmp_fd, job->name, 0);
	m->dirty = true;
	job->done = true;
	return 0;
}

void
maildir_discard(struct maildir_store *s, struct maildir_job *job)
{
	if (job->fd >= 0)
		close(job->fd);
	job->fd = -1;
	if (job->name[0] == '\0' || job->done)
		return;
	struct mbox *m = mbox_get(s, job->user, job->folder);
	if (m != NULL)
		unlinkat(m->tmp_fd, job->name, 0);
}

int
maildir_sync(struct maildir_store *s, struct syncpool *pool)
{
	int fds[MBOX_CACHE], errs[MBOX_CACHE];
	struct mbox *ms[MBOX_CACHE];
	size_t n = 0;
	for (int i = 0; i < MBOX_CACHE; i++)
		if (s->cache[i].dirty) {
			ms[n] = &s->cache[i];
			fds[n++] = s->cache[i].new_fd;
		}
	if (n == 0)
		return 0;
	size_t failed = pool ? syncpool_fsync(pool, fds, errs, n) : 0;
	if (pool == NULL)
		for (size_t i = 0; i < n; i++) {
			errs[i] = fsync(fds[i]) < 0 ? errno : 0;
			failed += errs[i] != 0;
		}
	for (size_t i = 0; i < n; i++) {
		if (errs[i])
			log_err("queue event=fsync user=%s folder=%s dir=new error=\"%s\"",
			    ms[i]->user, ms[i]->folder[0] ? ms[i]->folder : "INBOX",
			    strerror(errs[i]));
		ms[i]->dirty = false;
	}
	return failed ? -1 : 0;
}

/*
 * store/maildir.h - local delivery into Maildir (one file per recipient).
 *
 * For each recipient: write Return-Path, Delivered-To and the content to
 * store/<user>/Maildir/tmp/NAME, fsync it, link it to new/NAME (link, not
 * rename: it fails with EEXIST when a delivery repeated after a crash finds
 * the file already there, which then counts as done), unlink tmp/NAME.
 * The new/ directories touched by a batch are fsynced once at its end
 * (maildir_sync).  NAME is derived from the arrival time, the queue ID and
 * the recipient index, so it is the same on every attempt.
 * Runs in: deliver process (as the store's owner).  Trusts: the envelope was
 * validated by spool_read (user names are safe path components).
 */
#ifndef TALON_MAILDIR_H
#define TALON_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail/spool.h"

struct maildir_store;
struct syncpool;

struct maildir_store *maildir_store_new(int store_dirfd, const char *hostname);
void maildir_store_free(struct maildir_store **s);
/* The host name part of new file names (a reload may change it; copies
 * made under the old one are still found on a retry). */
void maildir_store_set_host(struct maildir_store *s, const char *hostname);

/* One recipient's copy on its way into a Maildir.  Delivery has three
 * steps so a batch can share its fsyncs: maildir_write() for every copy,
 * one syncpool_fsync() over all job fds, then maildir_commit() (or
 * maildir_discard() when the write or fsync failed) for each. */
struct maildir_job {
	int fd;			/* tmp file, open for the fsync; -1 if none */
	bool done;		/* already delivered before a crash: nothing to do */
	char user[65];
	char folder[16];	/* "" or the Maildir++ folder (env->folder) */
	char name[400];		/* file name in tmp/ and new/ */
	char why[200];		/* failure text */
	int err;		/* errno of the failure */
};

/* Write the copy for recipient r into tmp/.  0 on success (job->fd open,
 * or job->done set), -1 with job->err and job->why.  recovering: also look
 * in cur/ for a copy a reader already moved. */
int maildir_write(struct maildir_store *s, const struct spool_env *env,
    const struct spool_rcpt *r, int spool_fd, uint64_t off, uint64_t len,
    bool recovering, struct maildir_job *job);
/* After a successful fsync of job->fd: link into new/, unlink from tmp/. */
int maildir_commit(struct maildir_store *s, struct maildir_job *job);
/* Give up on the job: nothing half-written stays in tmp/ or new/. */
void maildir_discard(struct maildir_store *s, struct maildir_job *job);
/* fsync every new/ directory written since the last call.  -1 on error. */
int maildir_sync(struct maildir_store *s, struct syncpool *pool);

#endif

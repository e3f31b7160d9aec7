/*
 * queue/maildir.h - local delivery into Maildir (one file per recipient).
 *
 * For each recipient: write Return-Path, Delivered-To and the content to
 * store/<user>/Maildir/tmp/NAME, fsync it, link it to new/NAME (link, not
 * rename: it fails with EEXIST when a delivery repeated after a crash finds
 * the file already there, which then counts as done), unlink tmp/NAME.
 * The new/ directories touched by a batch are fsynced once at its end
 * (maildir_sync).  NAME is derived from the arrival time, the queue ID and
 * the recipient index, so it is the same on every attempt.
 * Runs in: queue process (as the store's owner).  Trusts: the envelope was
 * validated by spool_read (user names are safe path components).
 */
#ifndef TALON_MAILDIR_H
#define TALON_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue/spool.h"

struct maildir_store;

struct maildir_store *maildir_store_new(int store_dirfd, const char *hostname);
void maildir_store_free(struct maildir_store **s);

/* Deliver recipient r of env.  Returns 0 on success (or already there),
 * -1 on failure with errno set (ENOSPC, EDQUOT, EIO, ...) and why filled.
 * recovering: also look in cur/ for a copy a reader already moved. */
int maildir_deliver(struct maildir_store *s, const struct spool_env *env,
    const struct spool_rcpt *r, int spool_fd, uint64_t off, uint64_t len,
    bool recovering, char *path_out, size_t path_sz, char *why, size_t why_sz);
/* fsync every new/ directory written since the last call.  -1 on error. */
int maildir_sync(struct maildir_store *s);

#endif

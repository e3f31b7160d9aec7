/*
 * core/syncpool.h - fsync many files at once.
 *
 * A file system journals fsyncs: several fsyncs issued concurrently share
 * one journal commit, while the same fsyncs issued one after another wait
 * for one commit each.  The queue makes a whole round of messages durable
 * through this pool (group commit): a few threads that do nothing but
 * fsync(2) the descriptors they are handed, and the caller waits for all.
 * Runs in: queue process.
 */
#ifndef TALON_SYNCPOOL_H
#define TALON_SYNCPOOL_H

#include <stddef.h>

struct syncpool;

struct syncpool *syncpool_new(unsigned n_threads);
void syncpool_free(struct syncpool **p);
/* fsync fds[0..n-1]; errs[i] = 0 or the errno of that fsync.  Returns
 * the number of failures.  Blocks until all are done. */
size_t syncpool_fsync(struct syncpool *p, const int *fds, int *errs, size_t n);

#endif

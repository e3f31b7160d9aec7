/*
 * queue/queue.h - the queue process: hands out spool files to smtp workers,
 * commits them durably (group commit), hands them to the deliver process.
 */
#ifndef TALON_QUEUE_H
#define TALON_QUEUE_H

/* Never returns.  parent_fd: channel to the parent; spool_fd: the spool
 * directory opened by the parent. */
void queue_main(int parent_fd, int spool_fd)
	__attribute__((noreturn));

#endif

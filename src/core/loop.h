/*
 * core/loop.h - one small epoll event loop per process.
 *
 * File descriptor callbacks, one-shot timers kept in a binary heap, and a
 * before-sleep hook that runs after all ready events of a round and before
 * epoll_wait blocks again (the queue uses it for group commit: fsync
 * everything accepted this round once, then release the replies).
 * Not thread-safe.  Runs in: every process.
 */
#ifndef TALON_LOOP_H
#define TALON_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOOP_READ	0x1u
#define LOOP_WRITE	0x2u
#define LOOP_ERROR	0x4u	/* reported only: EPOLLERR/EPOLLHUP */

struct loop;
typedef void (*loop_fd_cb)(struct loop *l, int fd, unsigned events, void *arg);
typedef void (*loop_cb)(struct loop *l, void *arg);

struct timer {
	uint64_t when;		/* monotonic ms */
	size_t idx;		/* position in the heap + 1; 0 = not armed */
	loop_cb cb;
	void *arg;
};

struct loop *loop_new(void);
void loop_free(struct loop **l);
int loop_add(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg);
int loop_mod(struct loop *l, int fd, unsigned events);
/* The events fd is registered for (0 if it is not). */
unsigned loop_events(const struct loop *l, int fd);
void loop_del(struct loop *l, int fd);
void timer_init(struct timer *t, loop_cb cb, void *arg);
void timer_set(struct loop *l, struct timer *t, uint64_t ms_from_now);
void timer_cancel(struct loop *l, struct timer *t);
static inline bool timer_armed(const struct timer *t) { return t->idx != 0; }
void loop_before_sleep(struct loop *l, loop_cb cb, void *arg);
/* Run until loop_stop(); returns 0, or -1 if epoll failed. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif

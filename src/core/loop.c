/*
 * core/loop.c - epoll event loop with a timer heap and a before-sleep hook.
 * Runs in: every process.
 */
#include "core/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/util.h"

/* gen tells this registration of fd from an earlier one: a callback may
 * close an fd and a later one of the same round open another with the
 * same number (accept does), and the events epoll_wait returned for the
 * old one must not reach the new one.  epoll carries (gen << 32 | fd). */
struct fdent {
	loop_fd_cb cb;
	void *arg;
	unsigned events;
	bool used;
	uint32_t gen;
};

struct loop {
	int epfd;
	struct fdent *fds;
	size_t n_fds;
	struct timer **heap;
	size_t n_heap, cap_heap;
	loop_cb before_sleep;
	void *before_sleep_arg;
	bool stop;
	uint32_t gen;		/* of the last loop_add */
};

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof *l);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void
loop_free(struct loop **lp)
{
	struct loop *l = *lp;
	if (l == NULL)
		return;
	close(l->epfd);
	free(l->fds);
	free(l->heap);
	free(l);
	*lp = NULL;
}

static uint32_t
to_epoll(unsigned ev)
{
	uint32_t e = 0;
	if (ev & LOOP_READ)
		e |= EPOLLIN | EPOLLRDHUP;
	if (ev & LOOP_WRITE)
		e |= EPOLLOUT;
	return e;
}

static uint64_t
ev_data(const struct loop *l, int fd)
{
	return (uint64_t)l->fds[fd].gen << 32 | (uint32_t)fd;
}

int
loop_add(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg)
{
	if (fd < 0)
		return -1;
	if ((size_t)fd >= l->n_fds) {
		size_t n = l->n_fds ? l->n_fds : 64;
		while (n <= (size_t)fd)
			n *= 2;
		l->fds = xreallocarray(l->fds, n, sizeof *l->fds);
		memset(l->fds + l->n_fds, 0, (n - l->n_fds) * sizeof *l->fds);
		l->n_fds = n;
	}
	uint32_t gen = ++l->gen;
	struct epoll_event ee = { .events = to_epoll(events),
		.data.u64 = (uint64_t)gen << 32 | (uint32_t)fd };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee) < 0)
		return -1;
	l->fds[fd] = (struct fdent){ cb, arg, events, true, gen };
	return 0;
}

int
loop_mod(struct loop *l, int fd, unsigned events)
{
	if (fd < 0 || (size_t)fd >= l->n_fds || !l->fds[fd].used)
		return -1;
	if (l->fds[fd].events == events)
		return 0;
	struct epoll_event ee = { .events = to_epoll(events), .data.u64 = ev_data(l, fd) };
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ee) < 0)
		return -1;
	l->fds[fd].events = events;
	return 0;
}

unsigned
loop_events(const struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->n_fds || !l->fds[fd].used)
		return 0;
	return l->fds[fd].events;
}

void
loop_del(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->n_fds || !l->fds[fd].used)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].used = false;
}

/* --- timer heap (min-heap on when) ---------------------------------------- */

static void
heap_swap(struct loop *l, size_t a, size_t b)
{
	struct timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->idx = a + 1;
	l->heap[b]->idx = b + 1;
}

static void
heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->when <= l->heap[i]->when)
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

static void
heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < l->n_heap && l->heap[c]->when < l->heap[m]->when)
			m = c;
		if (c + 1 < l->n_heap && l->heap[c + 1]->when < l->heap[m]->when)
			m = c + 1;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
}

void
timer_init(struct timer *t, loop_cb cb, void *arg)
{
	t->when = 0;
	t->idx = 0;
	t->cb = cb;
	t->arg = arg;
}

void
timer_cancel(struct loop *l, struct timer *t)
{
	if (t->idx == 0)
		return;
	size_t i = t->idx - 1;
	l->n_heap--;
	if (i != l->n_heap) {
		l->heap[i] = l->heap[l->n_heap];
		l->heap[i]->idx = i + 1;
		heap_down(l, i);
		heap_up(l, i);
	}
	t->idx = 0;
}

void
timer_set(struct loop *l, struct timer *t, uint64_t ms)
{
	timer_cancel(l, t);
	t->when = now_ms() + ms;
	if (l->n_heap == l->cap_heap) {
		l->cap_heap = l->cap_heap ? l->cap_heap * 2 : 64;
		l->heap = xreallocarray(l->heap, l->cap_heap, sizeof *l->heap);
	}
	l->heap[l->n_heap] = t;
	t->idx = ++l->n_heap;
	heap_up(l, l->n_heap - 1);
}

void
loop_before_sleep(struct loop *l, loop_cb cb, void *arg)
{
	l->before_sleep = cb;
	l->before_sleep_arg = arg;
}

void
loop_stop(struct loop *l)
{
	l->stop = true;
}

int
loop_run(struct loop *l)
{
	struct epoll_event evs[128];
	l->stop = false;
	while (!l->stop) {
		if (l->before_sleep != NULL)
			l->before_sleep(l, l->before_sleep_arg);
		if (l->stop)
			break;
		int timeout = -1;
		if (l->n_heap > 0) {
			uint64_t now = now_ms(), w = l->heap[0]->when;
			timeout = w <= now ? 0 : (w - now > 60000 ? 60000 : (int)(w - now));
		}
		int n = epoll_wait(l->epfd, evs, (int)NELEM(evs), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < n; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			/* an earlier callback this round may have closed it,
			 * and even opened another under its number */
			if ((size_t)fd >= l->n_fds || !l->fds[fd].used ||
			    l->fds[fd].gen != (uint32_t)(evs[i].data.u64 >> 32))
				continue;
			unsigned ev = 0;
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP))
				ev |= LOOP_READ;
			if (evs[i].events & EPOLLOUT)
				ev |= LOOP_WRITE;
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				ev |= LOOP_ERROR | LOOP_READ;
			l->fds[fd].cb(l, fd, ev, l->fds[fd].arg);
		}
		uint64_t now = now_ms();
		while (l->n_heap > 0 && l->heap[0]->when <= now) {
			struct timer *t = l->heap[0];
			timer_cancel(l, t);
			t->cb(l, t->arg);
		}
	}
	return 0;
}

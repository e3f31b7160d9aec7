/*
 * core/syncpool.c - a tiny thread pool that only calls fsync(2).
 * The threads touch nothing but the descriptor array of the current batch,
 * under the pool's mutex; no other state of the process is shared.  The
 * caller takes fsyncs from the batch like the threads do, so a batch of
 * two wakes one thread, not all of them.
 */
#include "core/syncpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/util.h"

struct syncpool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	pthread_t *threads;
	unsigned n_threads;
	const int *fds;
	int *errs;
	size_t n, next, finished;
	bool quit;
};

static void *
worker(void *arg)
{
	struct syncpool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->next >= p->n)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit)
			break;
		size_t i = p->next++;
		int fd = p->fds[i];
		pthread_mutex_unlock(&p->mu);
		int e = fsync(fd) < 0 ? errno : 0;
		pthread_mutex_lock(&p->mu);
		p->errs[i] = e;
		if (++p->finished == p->n)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct syncpool *
syncpool_new(unsigned n_threads)
{
	struct syncpool *p = xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->threads = xcalloc(n_threads, sizeof *p->threads);
	for (unsigned i = 0; i < n_threads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
			break;
		p->n_threads++;
	}
	return p;
}

void
syncpool_free(struct syncpool **pp)
{
	struct syncpool *p = *pp;
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
	*pp = NULL;
}

size_t
syncpool_fsync(struct syncpool *p, const int *fds, int *errs, size_t n)
{
	size_t failed = 0;
	if (n == 0)
		return 0;
	if (n == 1 || p->n_threads == 0) {
		/* nothing to share a commit with: no thread hand-off */
		for (size_t i = 0; i < n; i++) {
			errs[i] = fsync(fds[i]) < 0 ? errno : 0;
			failed += errs[i] != 0;
		}
		return failed;
	}
	pthread_mutex_lock(&p->mu);
	p->fds = fds;
	p->errs = errs;
	p->n = n;
	p->next = 0;
	p->finished = 0;
	/* wake only as many threads as there are fsyncs besides the one
	 * this thread does itself (a broadcast would wake all of them to
	 * fight over the mutex for nothing) */
	for (size_t i = 1; i < n && i <= p->n_threads; i++)
		pthread_cond_signal(&p->work);
	while (p->next < p->n) {
		size_t i = p->next++;
		pthread_mutex_unlock(&p->mu);
		int e = fsync(fds[i]) < 0 ? errno : 0;
		pthread_mutex_lock(&p->mu);
		errs[i] = e;
		p->finished++;
	}
	while (p->finished < p->n)
		pthread_cond_wait(&p->done, &p->mu);
	p->n = p->next = 0;
	p->fds = NULL;
	p->errs = NULL;
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < n; i++)
		failed += errs[i] != 0;
	return failed;
}

/*
 * auth/pwpool.c - password checks on worker threads (see pwpool.h).
 *
 * Input:   jobs from the loop's thread (a hash and a password).
 * Output:  the same jobs with their result, through an eventfd the loop
 *          watches.
 * Runs in: auth.
 */
#include "auth/pwpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/pw.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#define POOL_THREADS_MAX	4

struct pwpool {
	struct loop *loop;
	pwpool_done_fn *done_fn;
	int efd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pwjob *todo, **todo_tail;	/* FIFO: the oldest is checked first */
	struct pwjob *done;
	bool stop;
	pthread_t th[POOL_THREADS_MAX];
	unsigned n_th;
};

void
pwjob_wipe(struct pwjob *j)
{
	if (j->pass != NULL) {
		OPENSSL_cleanse(j->pass, strlen(j->pass));
		free(j->pass);
	}
	free(j->hash);
	j->pass = j->hash = NULL;
}

static void *
worker(void *arg)
{
	struct pwpool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->todo == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop)
			break;
		struct pwjob *j = p->todo;
		p->todo = j->next;
		if (p->todo == NULL)
			p->todo_tail = &p->todo;
		pthread_mutex_unlock(&p->mu);
		if (j->hash != NULL) {
			j->ok = pw_verify(j->hash, j->pass);
		} else {
			pw_verify_dummy(j->pass);
			j->ok = false;
		}
		pthread_mutex_lock(&p->mu);
		j->next = p->done;
		p->done = j;
		uint64_t one = 1;
		if (write(p->efd, &one, sizeof one) < 0 && errno != EAGAIN)
			log_err("auth event=pwpool error=\"eventfd: %s\"", strerror(errno));
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void
ready(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct pwpool *p = arg;
	uint64_t n;
	if (read(p->efd, &n, sizeof n) < 0 && errno != EAGAIN)
		log_err("auth event=pwpool error=\"eventfd: %s\"", strerror(errno));
	pthread_mutex_lock(&p->mu);
	struct pwjob *list = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->mu);
	/* the list is newest first: answer in the order they finished */
	struct pwjob *rev = NULL;
	while (list != NULL) {
		struct pwjob *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev != NULL) {
		struct pwjob *next = rev->next;
		rev->next = NULL;
		p->done_fn(rev);
		rev = next;
	}
}

struct pwpool *
pwpool_new(struct loop *l, unsigned threads, pwpool_done_fn *done)
{
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 1;
	}
	if (threads > POOL_THREADS_MAX)
		threads = POOL_THREADS_MAX;
	struct pwpool *p = xcalloc(1, sizeof *p);
	p->loop = l;
	p->done_fn = done;
	p->todo_tail = &p->todo;
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		log_err("auth event=pwpool error=\"eventfd: %s\"", strerror(errno));
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (unsigned i = 0; i < threads; i++) {
		int e = pthread_create(&p->th[p->n_th], NULL, worker, p);
		if (e != 0) {
			log_warn("auth event=pwpool error=\"thread: %s\"", strerror(e));
			break;
		}
		p->n_th++;
	}
	if (p->n_th == 0 || loop_add(l, p->efd, LOOP_READ, ready, p) < 0) {
		pwpool_free(&p);
		return NULL;
	}
	return p;
}

void
pwpool_submit(struct pwpool *p, struct pwjob *j)
{
	j->next = NULL;
	pthread_mutex_lock(&p->mu);
	*p->todo_tail = j;
	p->todo_tail = &j->next;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void
hand_back(struct pwpool *p, struct pwjob *j, bool checked)
{
	while (j != NULL) {
		struct pwjob *next = j->next;
		j->next = NULL;
		if (!checked)
			j->ok = false;
		p->done_fn(j);
		j = next;
	}
}

void
pwpool_free(struct pwpool **pp)
{
	struct pwpool *p = *pp;
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n_th; i++)
		pthread_join(p->th[i], NULL);
	if (p->efd >= 0) {
		loop_del(p->loop, p->efd);
		close(p->efd);
	}
	hand_back(p, p->todo, false);
	hand_back(p, p->done, true);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	*pp = NULL;
}

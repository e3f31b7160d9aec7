/*
 * auth/pwpool.h - password checks on worker threads.
 *
 * A yescrypt check takes some 60 ms of one core.  Done in the event loop,
 * the auth process checks one password at a time and nothing else moves
 * meanwhile (SCRAM steps, delayed failures, a reload).  The pool runs the
 * checks (pw_verify, or pw_verify_dummy for an unknown user) on a few
 * threads and hands each finished job back in the loop's thread.  The
 * threads touch nothing but the job's hash, password and result.
 *
 * Runs in: auth.
 */
#ifndef TALON_AUTH_PWPOOL_H
#define TALON_AUTH_PWPOOL_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct pwpool;

struct pwjob {
	struct pwjob *next;	/* the pool's queues */
	char *hash;		/* malloc'ed; NULL: check against the dummy */
	char *pass;		/* malloc'ed; wiped and freed by pwjob_free */
	bool ok;		/* the result, once done */
};

/* done is called in the loop's thread for each finished job; the job is
 * the caller's again (pwjob_free it). */
typedef void pwpool_done_fn(struct pwjob *j);

/* threads: 0 for one per core, at most 4.  NULL when no thread could be
 * started (the caller then checks in its own thread). */
struct pwpool *pwpool_new(struct loop *l, unsigned threads, pwpool_done_fn *done);
/* Queue j (the pool's until done). */
void pwpool_submit(struct pwpool *p, struct pwjob *j);
/* Stop the threads; every job not handed back yet is handed back now
 * (those not checked with ok false). */
void pwpool_free(struct pwpool **p);
/* Wipe and free what a job holds (not the job itself). */
void pwjob_wipe(struct pwjob *j);

#endif

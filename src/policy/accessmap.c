/*
 * policy/accessmap.c - the access map the policy process holds: loaded
 * from `access PATH`, reloaded when the file changes (checked every second,
 * so a write is in force within 2 s without a signal), and the answers to
 * the sessions' ACCESS requests.
 *
 * A new file that does not parse keeps the map in force, with every
 * problem logged as file:line (action=kept-old); warnings (a key given
 * twice) are logged and the new map is used.  The swap is one pointer:
 * a lookup sees the old map or the new one, never a mix.
 * Runs in: policy.
 */
#include "policy/accessmap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/diag.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "policy/access.h"

#define CHECK_MS	1000

static struct {
	struct loop *loop;
	struct access_map *map;
	char *path;
	struct stat st;		/* of the file the map came from */
	bool have_st;
	int err;		/* errno of the last failed stat, 0 */
	struct timer timer;
} A;

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Each line of a diag as its own log line. */
static void
log_diag(struct diag *d, const char *action)
{
	const char *t = diag_text(d);
	while (*t) {
		const char *nl = strchr(t, '\n');
		size_t n = nl ? (size_t)(nl - t) : strlen(t);
		char e[1024];
		log_escape(e, sizeof e, t, n);
		if (action != NULL)
			log_warn("policy event=access problem=\"%s\" action=%s", e, action);
		else
			log_warn("policy event=access problem=\"%s\"", e);
		t += n + (nl != NULL);
	}
}

static void
check(void)
{
	struct stat st;
	if (A.path == NULL)
		return;
	if (stat(A.path, &st) < 0) {
		/* said once per kind of failure, not every second */
		if (A.have_st || A.err != errno)
			log_warn("policy event=access file=%s error=\"%s\" action=%s", A.path,
			    strerror(errno), A.map ? "kept-old" : "no-map");
		A.err = errno;
		A.have_st = false;
		return;
	}
	A.err = 0;
	if (A.have_st && same_file(&st, &A.st))
		return;
	A.st = st;
	A.have_st = true;
	struct diag d;
	diag_init(&d);
	struct access_map *m = access_load(A.path, &d);
	if (m == NULL) {
		log_diag(&d, A.map ? "kept-old" : "no-map");
	} else {
		log_diag(&d, NULL);
		access_free(&A.map);
		A.map = m;
		log_info("policy event=access file=%s entries=%zu", A.path, access_count(m));
	}
	diag_free(&d);
}

static void
tick(struct loop *l, void *arg)
{
	check();
	timer_set(A.loop, &A.timer, CHECK_MS);
}

void
accessmap_set(struct loop *loop, const char *path)
{
	A.loop = loop;
	if (path != NULL && path[0] == '\0')
		path = NULL;
	if (path == NULL ? A.path == NULL : A.path != NULL && strcmp(path, A.path) == 0)
		return;
	free(A.path);
	A.path = path ? xstrdup(path) : NULL;
	A.have_st = false;
	A.err = 0;
	access_free(&A.map);
	if (A.path == NULL) {
		timer_cancel(A.loop, &A.timer);
		log_info("policy event=access file=none");
		return;
	}
	timer_init(&A.timer, tick, NULL);
	check();
	timer_set(A.loop, &A.timer, CHECK_MS);
}

void
accessmap_free(void)
{
	if (A.loop != NULL)
		timer_cancel(A.loop, &A.timer);
	access_free(&A.map);
	free(A.path);
	A.path = NULL;
}

void
accessmap_ask(const struct proto_access *q, struct proto_access_reply *out)
{
	struct access_result r;
	bool hit = false;
	memset(out, 0, sizeof *out);
	memset(&r, 0, sizeof r);
	if (A.map == NULL)
		return;
	switch (q->tag) {
	case ACCESS_CONNECT: {
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof ss);
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, q->key, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			hit = access_connect(A.map, (struct sockaddr *)&ss, NULL, &r);
		} else if (inet_pton(AF_INET6, q->key, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			hit = access_connect(A.map, (struct sockaddr *)&ss, NULL, &r);
		} else {
			/* a verified client name: its domain walk */
			hit = access_test(A.map, ACCESS_CONNECT, q->key, &r);
		}
		break;
	}
	case ACCESS_FROM:
		hit = access_from(A.map, q->key, &r);
		break;
	case ACCESS_TO:
		hit = access_rcpt(A.map, q->key, q->local != 0, &r);
		break;
	case ACCESS_SPAM:
		hit = access_spam_rcpt(A.map, q->key, q->local != 0, &r);
		break;
	}
	if (!hit || r.action == ACCESS_SKIP)
		return;
	out->action = r.action;
	out->code = r.code;
	str_copy(out->esc, sizeof out->esc, r.esc);
	str_copy(out->text, sizeof out->text, r.text);
	char key[sizeof r.key * 4];
	log_escape(key, sizeof key, r.key, strlen(r.key));
	snprintf(out->where, sizeof out->where, "%.180s:%u %.180s", r.file ? r.file : "?", r.line,
	    key);
}

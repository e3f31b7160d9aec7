/*
 * dns/resolve.c - the resolver over libunbound (dns/resolve.h).
 *
 * One ub_ctx per resolver.  Lookups go out with ub_resolve_async in
 * libunbound's own thread (ub_ctx_async(ctx, 1)); answers come back
 * through ub_fd(), which sits in our event loop, and ub_process() calls
 * our callback in our thread.  libunbound has no per-lookup timeout we can
 * set, so each lookup has a timer of ours: when it fires the lookup is
 * cancelled and reported as TEMPFAIL ("timeout").
 */
#include "dns/resolve.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>

#include "core/htab.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "mail/conf.h"

struct rq {
	struct resolver *r;
	uint64_t handle;
	int async_id;
	uint16_t type;
	char name[LOOKUP_NAME_MAX + 1];
	resolver_cb cb;
	void *arg;
	struct timer timer;
};

struct resolver {
	struct ub_ctx *ctx;
	struct loop *loop;
	int fd;
	unsigned timeout_ms;
	uint64_t next;
	struct htab pending;	/* handle -> struct rq * */
};

/*
 * libunbound answers these from built-in local zones without asking
 * anybody (RFC 6761 names, private and documentation reverse zones).  A
 * forwarding resolver asks its servers instead: those are ours, and the
 * tests' and the demo's names live under .test and 127/8.
 */
static const char *const local_zones[] = {
	"test.", "invalid.", "localhost.", "onion.", "home.arpa.", "local.",
	"127.in-addr.arpa.", "0.in-addr.arpa.", "10.in-addr.arpa.", "254.169.in-addr.arpa.",
	"168.192.in-addr.arpa.", "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
	"113.0.203.in-addr.arpa.", "255.255.255.255.in-addr.arpa.", "64.100.in-addr.arpa.",
	"16.172.in-addr.arpa.", "17.172.in-addr.arpa.", "18.172.in-addr.arpa.",
	"19.172.in-addr.arpa.", "20.172.in-addr.arpa.", "21.172.in-addr.arpa.",
	"22.172.in-addr.arpa.", "23.172.in-addr.arpa.", "24.172.in-addr.arpa.",
	"25.172.in-addr.arpa.", "26.172.in-addr.arpa.", "27.172.in-addr.arpa.",
	"28.172.in-addr.arpa.", "29.172.in-addr.arpa.", "30.172.in-addr.arpa.",
	"31.172.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.", "d.f.ip6.arpa.",
	"8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.",
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
	"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
};

static bool
set_opt(struct ub_ctx *ctx, const char *opt, const char *val, char *err, size_t errlen)
{
	int rc = ub_ctx_set_option(ctx, opt, val);
	if (rc != 0) {
		snprintf(err, errlen, "resolver option %s %s: %s", opt, val, ub_strerror(rc));
		return false;
	}
	return true;
}

static bool
configure(struct ub_ctx *ctx, const struct conf *c, char *err, size_t errlen)
{
	int rc;
	switch (c->resolver) {
	case CONF_RESOLVER_FORWARD:
		for (size_t i = 0; i < c->n_forward; i++) {
			if ((rc = ub_ctx_set_fwd(ctx, c->forward[i])) != 0) {
				snprintf(err, errlen, "resolver forward %s: %s", c->forward[i],
				    ub_strerror(rc));
				return false;
			}
		}
		/* our own server on loopback is the point of forward mode */
		if (!set_opt(ctx, "do-not-query-localhost:", "no", err, errlen) ||
		    !set_opt(ctx, "unblock-lan-zones:", "yes", err, errlen) ||
		    !set_opt(ctx, "insecure-lan-zones:", "yes", err, errlen))
			return false;
		if (c->trust_anchor != NULL && c->trust_anchor[0] != '\0' &&
		    (rc = ub_ctx_add_ta_file(ctx, c->trust_anchor)) != 0) {
			snprintf(err, errlen, "resolver forward: trust anchor %s: %s",
			    c->trust_anchor, ub_strerror(rc));
			return false;
		}
		/* last: removing a local zone finalises the context, after
		 * which no other setting may change */
		for (size_t i = 0; i < NELEM(local_zones); i++)
			(void)ub_ctx_zone_remove(ctx, local_zones[i]);	/* absent is fine */
		break;
	case CONF_RESOLVER_RECURSIVE:
		if ((rc = ub_ctx_add_ta_file(ctx, c->trust_anchor)) != 0) {
			snprintf(err, errlen, "resolver recursive: trust anchor %s: %s",
			    c->trust_anchor, ub_strerror(rc));
			return false;
		}
		break;
	case CONF_RESOLVER_SYSTEM:
		if ((rc = ub_ctx_resolvconf(ctx, NULL)) != 0) {
			snprintf(err, errlen, "resolver system: /etc/resolv.conf: %s",
			    ub_strerror(rc));
			return false;
		}
		(void)ub_ctx_hosts(ctx, NULL);
		break;
	}
	return true;
}

static void
on_fd(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct resolver *r = arg;
	int rc = ub_process(r->ctx);
	if (rc != 0)
		log_warn("resolver event=process error=\"%s\"", ub_strerror(rc));
}

struct resolver *
resolver_new(const struct conf *c, struct loop *loop, char *err, size_t errlen)
{
	struct ub_ctx *ctx = ub_ctx_create();
	if (ctx == NULL) {
		snprintf(err, errlen, "resolver: cannot create a libunbound context");
		return NULL;
	}
	int rc = ub_ctx_async(ctx, 1);	/* threads, never a forked helper */
	if (rc != 0) {
		snprintf(err, errlen, "resolver: ub_ctx_async: %s", ub_strerror(rc));
		ub_ctx_delete(ctx);
		return NULL;
	}
	if (!configure(ctx, c, err, errlen)) {
		ub_ctx_delete(ctx);
		return NULL;
	}
	struct resolver *r = xcalloc(1, sizeof *r);
	r->ctx = ctx;
	r->loop = loop;
	r->fd = ub_fd(ctx);
	r->timeout_ms = c->resolver_timeout * 1000u;
	htab_init(&r->pending, sizeof(uint64_t), sizeof(struct rq *));
	if (loop != NULL && loop_add(loop, r->fd, LOOP_READ, on_fd, r) < 0) {
		snprintf(err, errlen, "resolver: cannot watch its descriptor: %s", strerror(errno));
		resolver_free(&r);
		return NULL;
	}
	return r;
}

static void
rq_free(struct rq *q)
{
	struct resolver *r = q->r;
	if (r->loop != NULL)
		timer_cancel(r->loop, &q->timer);
	htab_del(&r->pending, &q->handle);
	free(q);
}

void
resolver_free(struct resolver **rp)
{
	struct resolver *r = *rp;
	if (r == NULL)
		return;
	size_t pos = 0;
	uint8_t *k;
	/* collect first: rq_free deletes from the table being walked */
	struct rq **all = xcalloc(r->pending.n + 1, sizeof *all);
	size_t n = 0;
	while ((k = htab_next(&r->pending, &pos)) != NULL)
		memcpy(&all[n++], k + sizeof(uint64_t), sizeof(struct rq *));
	for (size_t i = 0; i < n; i++) {
		(void)ub_cancel(r->ctx, all[i]->async_id);
		rq_free(all[i]);
	}
	free(all);
	if (r->loop != NULL && r->fd >= 0)
		loop_del(r->loop, r->fd);
	htab_free(&r->pending);
	ub_ctx_delete(r->ctx);
	free(r);
	*rp = NULL;
}

/* Turn libunbound's result into a struct lookup. */
static void
fill(struct lookup *l, int err, struct ub_result *res)
{
	if (err != 0 || res == NULL) {
		l->status = LOOKUP_TEMPFAIL;
		l->why = "resolver error";
		return;
	}
	l->ttl = (uint32_t)(res->ttl > 0 ? res->ttl : 0);
	if (res->bogus) {
		l->status = LOOKUP_TEMPFAIL;
		l->sec = LOOKUP_BOGUS;
		l->why = "DNSSEC bogus";
		return;
	}
	l->sec = res->secure ? LOOKUP_SECURE : LOOKUP_INSECURE;
	switch (res->rcode) {
	case 0:
		break;
	case 3:
		l->status = LOOKUP_NXDOMAIN;
		return;
	case 2:
		l->status = LOOKUP_TEMPFAIL;
		l->why = "SERVFAIL";
		return;
	case 5:
		l->status = LOOKUP_TEMPFAIL;
		l->why = "REFUSED";
		return;
	default:
		l->status = LOOKUP_TEMPFAIL;
		l->why = "error rcode";
		return;
	}
	l->status = LOOKUP_OK;
	for (int i = 0; res->havedata && res->data[i] != NULL; i++) {
		if (res->len[i] < 0 ||
		    lookup_add_wire(l, (const uint8_t *)res->data[i], (size_t)res->len[i]) < 0) {
			lookup_clear(l);
			l->status = LOOKUP_TEMPFAIL;
			l->why = "malformed record";
			return;
		}
	}
}

static void
on_answer(void *arg, int err, struct ub_result *res)
{
	struct rq *q = arg;
	struct lookup *l = xmalloc(sizeof *l);
	lookup_init(l, q->type, q->name);
	fill(l, err, res);
	if (res != NULL)
		ub_resolve_free(res);
	resolver_cb cb = q->cb;
	void *cbarg = q->arg;
	rq_free(q);
	cb(cbarg, l);
	lookup_clear(l);
	free(l);
}

static void
on_timeout(struct loop *lp, void *arg)
{
	struct rq *q = arg;
	(void)ub_cancel(q->r->ctx, q->async_id);
	struct lookup *l = xmalloc(sizeof *l);
	lookup_init(l, q->type, q->name);
	l->status = LOOKUP_TEMPFAIL;
	l->why = "timeout";
	resolver_cb cb = q->cb;
	void *cbarg = q->arg;
	rq_free(q);
	cb(cbarg, l);
	free(l);
}

uint64_t
resolver_query(struct resolver *r, uint16_t type, const char *name, resolver_cb cb, void *arg)
{
	uint8_t wire[256];
	/* the name must survive the trip to text for libunbound unchanged:
	 * names with bytes we escape are asked in their \DDD form, which
	 * libunbound parses back */
	if (lookup_name_to_wire(wire, name) == 0)
		return 0;
	struct rq *q = xcalloc(1, sizeof *q);
	q->r = r;
	q->handle = ++r->next;
	q->type = type;
	str_copy(q->name, sizeof q->name, name);
	q->cb = cb;
	q->arg = arg;
	char qname[LOOKUP_NAME_MAX + 2];
	snprintf(qname, sizeof qname, "%s.", name);
	int rc = ub_resolve_async(r->ctx, qname, type, 1, q, on_answer, &q->async_id);
	if (rc != 0) {
		log_warn("resolver event=query-refused type=%s error=\"%s\"", lookup_type_name(type),
		    ub_strerror(rc));
		free(q);
		return 0;
	}
	struct rq **slot = htab_put(&r->pending, &q->handle);
	*slot = q;
	if (r->loop != NULL) {
		timer_init(&q->timer, on_timeout, q);
		timer_set(r->loop, &q->timer, r->timeout_ms);
	}
	return q->handle;
}

void
resolver_cancel(struct resolver *r, uint64_t handle)
{
	struct rq **slot = htab_get(&r->pending, &handle);
	if (slot == NULL)
		return;
	struct rq *q = *slot;
	(void)ub_cancel(r->ctx, q->async_id);
	rq_free(q);
}

struct sync_wait {
	bool done;
	struct lookup *out;
};

static void
sync_cb(void *arg, const struct lookup *l)
{
	struct sync_wait *w = arg;
	lookup_clear(w->out);
	lookup_copy(w->out, l);
	w->done = true;
}

void
resolver_lookup_all(struct resolver *r, struct lookup *ls, size_t n)
{
	struct sync_wait *w = xcalloc(n ? n : 1, sizeof *w);
	uint64_t *h = xcalloc(n ? n : 1, sizeof *h);
	size_t left = 0;
	for (size_t i = 0; i < n; i++) {
		w[i].out = &ls[i];
		lookup_clear(&ls[i]);
		h[i] = resolver_query(r, ls[i].type, ls[i].name, sync_cb, &w[i]);
		if (h[i] == 0) {
			ls[i].status = LOOKUP_TEMPFAIL;
			ls[i].why = "resolver refused the lookup";
			w[i].done = true;
		} else {
			left++;
		}
	}
	uint64_t deadline = now_ms() + r->timeout_ms;
	while (left > 0) {
		uint64_t now = now_ms();
		if (now >= deadline)
			break;
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		int k = poll(&pfd, 1, (int)(deadline - now));
		if (k > 0)
			(void)ub_process(r->ctx);
		else if (k < 0 && errno != EINTR)
			break;
		left = 0;
		for (size_t i = 0; i < n; i++)
			left += !w[i].done;
	}
	for (size_t i = 0; i < n; i++) {
		if (w[i].done)
			continue;
		resolver_cancel(r, h[i]);
		lookup_clear(&ls[i]);
		ls[i].status = LOOKUP_TEMPFAIL;
		ls[i].why = "timeout";
	}
	free(w);
	free(h);
}

void
resolver_lookup_sync(struct resolver *r, uint16_t type, const char *name, struct lookup *out)
{
	lookup_init(out, type, name);
	resolver_lookup_all(r, out, 1);
}

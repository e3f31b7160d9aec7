/*
 * policy/lookups.c - DNS jobs of the policy process (policy/lookups.h).
 *
 * Every job is a small state machine driven by resolver callbacks:
 *   SPF   run spf_eval over the answers so far; ask what it needs (all of
 *         one round at once); when the round's answers are in, run again.
 *   RDNS  PTR of the client's address, then the A or AAAA of each name
 *         (at most RDNS_NAMES); the first name that leads back to the
 *         address is the verified name (RFC 8601 3 "iprev").
 *   TXT   independent questions; each answer goes back as it arrives.
 * A worker can hold at most JOBS_PER_CHAN jobs; more are answered at once
 * as temporary failures, so a worker that floods us costs it, not us.
 *
 * Answers are also kept here, for their TTL (at most an hour; negative ones
 * at most 5 minutes; temporary failures never), in a direct-mapped table:
 * libunbound caches too, but each of its answers, cached or not, takes a
 * trip through its thread and back through a pipe, and an SPF evaluation
 * asks up to ~7 questions in up to 6 rounds.  bench/spf-eval.sh measures
 * the difference.
 */
#include "policy/lookups.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/ipc.h"
#include "core/log.h"
#include "core/util.h"
#include "dns/lookup.h"
#include "dns/resolve.h"
#include "mail/domain.h"
#include "msgauth/spf.h"
#include "policy/dnsbl.h"
#include "proto/smtp_policy.h"

#define JOBS_PER_CHAN	512
#define RDNS_NAMES	10
#define JOB_QUERIES	32	/* SPF_NEED_MAX, PROTO_LOOKUP_MAX, DNSBL_Q_MAX at once */

struct rslv {
	struct resolver *r;
	unsigned jobs;
	bool retired;
};

enum jkind { J_SPF, J_RDNS, J_TXT, J_DNSBL };

struct job;
struct qref {
	struct job *j;
	uint32_t idx;
	uint64_t handle;
	bool busy;
};

struct job {
	struct job *next, *prev;
	enum jkind kind;
	struct ipc *c;
	uint32_t chan;
	uint64_t id;
	struct rslv *rs;
	struct qref q[JOB_QUERIES];
	unsigned out;		/* queries in flight */
	/* SPF */
	struct spf_request rq;
	char sender[PROTO_SENDER_MAX + 1], helo[PROTO_HELO_MAX + 1];
	struct lookup_set *set;
	unsigned rounds;
	/* RDNS */
	int family;
	uint8_t ip[16];
	bool have_ptr, temp;
	char names[RDNS_NAMES][LOOKUP_NAME_MAX + 1];
	char verified[256];
	/* DNSBL: the questions, the lists (a copy: settings may change), and
	 * per question its verdict and value */
	struct dnsbl_q *bq;
	struct proto_bl *bl;
	size_t n_bq, n_bl;
	uint8_t bv[DNSBL_Q_MAX];
	uint32_t bval[DNSBL_Q_MAX];
	char iptext[PREFIX_TEXT_MAX];
};

#define CACHE_SLOTS	4096	/* a power of two */
#define CACHE_TTL_MAX	3600
#define CACHE_NEG_MAX	300

struct centry {
	struct lookup *l;	/* NULL: empty slot */
	uint64_t expires;	/* monotonic ms */
};

static struct {
	struct centry cache[CACHE_SLOTS];
	struct job *jobs;
	size_t n_jobs;
	struct rslv *cur;
	char hostname[256];
} L;

static size_t
cache_slot(uint16_t type, const char *name)
{
	return (size_t)lookup_hash(type, name) & (CACHE_SLOTS - 1);
}

static const struct lookup *
cache_get(uint16_t type, const char *name)
{
	struct centry *e = &L.cache[cache_slot(type, name)];
	if (e->l == NULL || e->l->type != type || strcmp(e->l->name, name) != 0)
		return NULL;
	uint64_t now = now_ms();
	if (now >= e->expires)
		return NULL;
	/* what is left of the TTL, as a resolver's cache would say */
	e->l->ttl = (uint32_t)((e->expires - now) / 1000);
	return e->l;
}

static void
cache_put(const struct lookup *l)
{
	uint32_t ttl = l->ttl;
	if (l->status == LOOKUP_TEMPFAIL || ttl == 0)
		return;
	if (l->status == LOOKUP_NXDOMAIN || l->n == 0)
		ttl = ttl < CACHE_NEG_MAX ? ttl : CACHE_NEG_MAX;
	else
		ttl = ttl < CACHE_TTL_MAX ? ttl : CACHE_TTL_MAX;
	struct centry *e = &L.cache[cache_slot(l->type, l->name)];
	if (e->l == NULL)
		e->l = xmalloc(sizeof *e->l);
	else
		lookup_clear(e->l);
	lookup_copy(e->l, l);
	e->l->why = NULL;
	e->expires = now_ms() + (uint64_t)ttl * 1000;
}

static void
cache_flush(void)
{
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		if (L.cache[i].l != NULL) {
			lookup_clear(L.cache[i].l);
			free(L.cache[i].l);
		}
		L.cache[i].l = NULL;
	}
}

static size_t
chan_jobs(uint32_t chan)
{
	size_t n = 0;
	for (struct job *j = L.jobs; j; j = j->next)
		n += j->chan == chan;
	return n;
}

static void
rslv_put(struct rslv *rs)
{
	if (rs == NULL)
		return;
	rs->jobs--;
	if (rs->retired && rs->jobs == 0) {
		resolver_free(&rs->r);
		free(rs);
	}
}

void
lookups_set_resolver(struct resolver *r, const char *hostname)
{
	str_copy(L.hostname, sizeof L.hostname, hostname ? hostname : "");
	cache_flush();	/* other servers may answer otherwise */
	if (L.cur != NULL) {
		L.cur->retired = true;
		L.cur->jobs++;
		rslv_put(L.cur);	/* frees it now when idle */
	}
	L.cur = NULL;
	if (r != NULL) {
		L.cur = xcalloc(1, sizeof *L.cur);
		L.cur->r = r;
	}
}

static struct job *
job_new(enum jkind kind, struct ipc *c, uint32_t chan, uint64_t id)
{
	struct job *j = xcalloc(1, sizeof *j);
	j->kind = kind;
	j->c = c;
	j->chan = chan;
	j->id = id;
	j->rs = L.cur;
	if (j->rs)
		j->rs->jobs++;
	j->next = L.jobs;
	if (L.jobs)
		L.jobs->prev = j;
	L.jobs = j;
	L.n_jobs++;
	return j;
}

static void
job_free(struct job *j)
{
	for (unsigned i = 0; i < JOB_QUERIES; i++)
		if (j->q[i].busy && j->rs && j->q[i].handle)
			resolver_cancel(j->rs->r, j->q[i].handle);
	if (j->prev)
		j->prev->next = j->next;
	else
		L.jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	L.n_jobs--;
	lookup_set_free(&j->set);
	free(j->bq);
	free(j->bl);
	rslv_put(j->rs);
	free(j);
}

static void on_answer(void *arg, const struct lookup *l);
static void job_answer(struct job *j, uint32_t idx, const struct lookup *l);

/* Ask (type, name) for job j as query idx.  A lookup that cannot start
 * is answered at once as TEMPFAIL; false then tells the caller the job
 * may be gone. */
static void
job_ask(struct job *j, uint32_t idx, uint16_t type, const char *name)
{
	struct qref *q = &j->q[idx];
	q->j = j;
	q->idx = idx;
	const struct lookup *hit = cache_get(type, name);
	if (hit != NULL) {
		job_answer(j, idx, hit);	/* the caller holds j->out up */
		return;
	}
	q->busy = true;
	j->out++;
	q->handle = j->rs ? resolver_query(j->rs->r, type, name, on_answer, q) : 0;
	if (q->handle == 0) {
		struct lookup l;
		lookup_init(&l, type, name);
		l.status = LOOKUP_TEMPFAIL;
		l.why = j->rs ? "resolver refused the lookup" : "no resolver";
		q->busy = false;
		j->out--;
		job_answer(j, idx, &l);
	}
}

static void
on_answer(void *arg, const struct lookup *l)
{
	struct qref *q = arg;
	struct job *j = q->j;
	q->busy = false;
	q->handle = 0;
	j->out--;
	cache_put(l);
	job_answer(j, q->idx, l);
}

/* --- SPF ---------------------------------------------------------------- */

static void
spf_step(struct job *j)
{
	struct spf_outcome out;
	struct spf_need need[SPF_NEED_MAX];
	size_t n_need = 0;
	enum spf_step st = spf_eval(&j->rq, j->set, &out, need, &n_need, NULL);
	/* each round adds answers and SPF limits its lookups; the bound only
	 * stops a bug from looping */
	if (st == SPF_NEED && (++j->rounds > 100 || n_need == 0 || n_need > SPF_NEED_MAX)) {
		st = SPF_DONE;
		memset(&out, 0, sizeof out);
		out.result = SPF_TEMPERROR;
		str_copy(out.problem, sizeof out.problem, "evaluation did not finish");
	}
	if (st == SPF_NEED) {
		/* ask all first: an answer that comes back at once must not
		 * start the next round while this one is being asked */
		j->out++;
		for (size_t i = 0; i < n_need; i++)
			if (lookup_set_find(j->set, need[i].type, need[i].name) == NULL)
				job_ask(j, (uint32_t)i, need[i].type, need[i].name);
		j->out--;
		if (j->out == 0)
			spf_step(j);
		return;
	}
	struct proto_spf_reply r;
	memset(&r, 0, sizeof r);
	r.result = (uint32_t)out.result;
	log_escape(r.domain, sizeof r.domain, out.domain, strlen(out.domain));
	log_escape(r.mechanism, sizeof r.mechanism, out.mechanism, strlen(out.mechanism));
	log_escape(r.explanation, sizeof r.explanation, out.explanation, strlen(out.explanation));
	log_escape(r.problem, sizeof r.problem, out.problem, strlen(out.problem));
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_spf_reply_enc(&b, &r);
	proto_send(j->c, PROTO_SPF_REPLY, j->id, &b);
	job_free(j);
}

void
lookups_spf(struct ipc *c, uint32_t chan, uint64_t id, const struct proto_spf *q)
{
	struct job *j = job_new(J_SPF, c, chan, id);
	if (chan_jobs(chan) > JOBS_PER_CHAN) {
		job_free(j);
		struct proto_spf_reply r = { .result = SPF_TEMPERROR };
		str_copy(r.problem, sizeof r.problem, "too many lookups from this worker");
		struct buf b;
		buf_init(&b, IPC_MAX);
		proto_spf_reply_enc(&b, &r);
		proto_send(c, PROTO_SPF_REPLY, id, &b);
		return;
	}
	str_copy(j->sender, sizeof j->sender, q->sender);
	str_copy(j->helo, sizeof j->helo, q->helo);
	if (q->addr.ss_family == AF_INET) {
		j->rq.family = AF_INET;
		memcpy(j->rq.ip, &((const struct sockaddr_in *)&q->addr)->sin_addr, 4);
	} else {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&q->addr)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			j->rq.family = AF_INET;
			memcpy(j->rq.ip, a->s6_addr + 12, 4);
		} else {
			j->rq.family = AF_INET6;
			memcpy(j->rq.ip, a->s6_addr, 16);
		}
	}
	j->rq.sender = j->sender;
	j->rq.helo = j->helo;
	j->rq.receiver = L.hostname;
	j->rq.now = time(NULL);
	j->set = lookup_set_new();
	spf_step(j);
}

/* --- reverse name ------------------------------------------------------- */

static void
reverse_name(char *out, size_t n, int family, const uint8_t *ip)
{
	if (family == AF_INET) {
		snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa", ip[3], ip[2], ip[1], ip[0]);
		return;
	}
	size_t o = 0;
	for (int i = 15; i >= 0; i--)
		o += (size_t)snprintf(out + o, n - o, "%x.%x.", ip[i] & 15, ip[i] >> 4);
	snprintf(out + o, n - o, "ip6.arpa");
}

static void
rdns_reply(struct job *j)
{
	struct proto_rdns_reply r;
	memset(&r, 0, sizeof r);
	if (j->verified[0]) {
		r.status = RDNS_PASS;
		str_copy(r.name, sizeof r.name, j->verified);
	} else {
		r.status = j->temp ? RDNS_TEMP : RDNS_FAIL;
	}
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_rdns_reply_enc(&b, &r);
	proto_send(j->c, PROTO_RDNS_REPLY, j->id, &b);
	job_free(j);
}

static void
rdns_answer(struct job *j, uint32_t idx, const struct lookup *l)
{
	if (!j->have_ptr) {
		j->have_ptr = true;
		if (l->status == LOOKUP_TEMPFAIL)
			j->temp = true;
		size_t n = 0;
		for (size_t i = 0; i < l->n && n < RDNS_NAMES; i++) {
			const char *name = (const char *)l->rr[i].data;
			/* only names we could write into a Received header */
			if (domain_valid(name, strlen(name), 0))
				str_copy(j->names[n++], sizeof j->names[0], name);
		}
		j->out++;
		for (size_t i = 0; i < n; i++)
			job_ask(j, (uint32_t)i, j->family == AF_INET ? LOOKUP_A : LOOKUP_AAAA,
			    j->names[i]);
		j->out--;
		if (j->out == 0)
			rdns_reply(j);
		return;
	}
	if (l->status == LOOKUP_TEMPFAIL)
		j->temp = true;
	size_t alen = j->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < l->n && j->verified[0] == '\0'; i++)
		if (l->rr[i].len == alen && memcmp(l->rr[i].data, j->ip, alen) == 0)
			str_copy(j->verified, sizeof j->verified, j->names[idx]);
	if (j->out == 0)
		rdns_reply(j);
}

void
lookups_rdns(struct ipc *c, uint32_t chan, uint64_t id, const struct sockaddr_storage *ss,
    socklen_t len)
{
	struct job *j = job_new(J_RDNS, c, chan, id);
	if (chan_jobs(chan) > JOBS_PER_CHAN) {
		j->temp = true;
		rdns_reply(j);
		return;
	}
	if (ss->ss_family == AF_INET) {
		j->family = AF_INET;
		memcpy(j->ip, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		j->family = IN6_IS_ADDR_V4MAPPED(a) ? AF_INET : AF_INET6;
		memcpy(j->ip, j->family == AF_INET ? a->s6_addr + 12 : a->s6_addr,
		    j->family == AF_INET ? 4 : 16);
	}
	char rev[80];
	reverse_name(rev, sizeof rev, j->family, j->ip);
	job_ask(j, 0, LOOKUP_PTR, rev);
}

/* --- TXT questions ------------------------------------------------------- */

static void
txt_answer(struct job *j, uint32_t idx, const struct lookup *l)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_lookup_reply_enc(&b, idx, l);
	proto_send(j->c, PROTO_LOOKUP_REPLY, j->id, &b);
	if (j->out == 0 && j->rounds == 0)
		job_free(j);
}

void
lookups_txt(struct ipc *c, uint32_t chan, uint64_t id, const struct proto_lookup *q)
{
	struct job *j = job_new(J_TXT, c, chan, id);
	bool flood = chan_jobs(chan) > JOBS_PER_CHAN;
	/* rounds doubles as "still asking": answers that come at once must
	 * not free the job before the loop is done with it */
	j->rounds = 1;
	j->out++;
	for (uint32_t i = 0; i < q->n; i++) {
		if (flood) {
			struct lookup l;
			lookup_init(&l, q->type[i], q->name[i]);
			l.status = LOOKUP_TEMPFAIL;
			l.why = "too big";
			txt_answer(j, i, &l);
		} else {
			job_ask(j, i, q->type[i], q->name[i]);
		}
	}
	j->out--;
	j->rounds = 0;
	if (j->out == 0)
		job_free(j);
}

/* --- blocklists ----------------------------------------------------------- */

static void
dnsbl_reply(struct job *j)
{
	struct proto_dnsbl_reply r;
	memset(&r, 0, sizeof r);
	for (size_t i = 0; i < j->n_bq; i++) {
		const struct dnsbl_q *q = &j->bq[i];
		const struct proto_bl *l = &j->bl[q->list];
		if (j->bv[i] == 3)
			r.failed++;
		if (j->bv[i] != DNSBL_V_LISTED || r.result == DNSBL_LISTED)
			continue;
		r.result = DNSBL_LISTED;
		r.list = q->list;
		r.answer = j->bval[i];
		r.what = q->what;
		r.code = l->code;
		str_copy(r.esc, sizeof r.esc, l->esc);
		dnsbl_text(l, j->iptext, q, r.text, sizeof r.text);
	}
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_dnsbl_reply_enc(&b, &r);
	proto_send(j->c, PROTO_DNSBL_REPLY, j->id, &b);
	job_free(j);
}

static void
dnsbl_answer(struct job *j, uint32_t idx, const struct lookup *l)
{
	const struct dnsbl_q *q = &j->bq[idx];
	const struct proto_bl *bl = &j->bl[q->list];
	char why[200];
	if (l->status == LOOKUP_TEMPFAIL) {
		log_escape(why, sizeof why, l->why ? l->why : "", l->why ? strlen(l->why) : 0);
		log_warn("policy event=dnsbl list=%s query=%s result=tempfail reason=\"%s\" "
		    "action=not-listed", bl->zone, q->name, why);
		j->bv[idx] = 3;
	} else {
		j->bv[idx] = (uint8_t)dnsbl_check(bl, l, &j->bval[idx]);
		if (j->bv[idx] == DNSBL_V_REFUSED) {
			struct in_addr a = { htonl(j->bval[idx]) };
			char t[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &a, t, sizeof t);
			log_warn("policy event=dnsbl list=%s query=%s answer=%s result=query-refused "
			    "action=not-listed (the list refuses our queries: a public resolver, or "
			    "over its free quota)", bl->zone, q->name, t);
		}
	}
	if (j->out == 0 && j->rounds == 0)
		dnsbl_reply(j);
}

void
lookups_dnsbl(struct ipc *c, uint32_t chan, uint64_t id, const struct proto_dnsbl *q,
    const struct prefix *client, const struct proto_bl *lists, size_t n_lists)
{
	struct job *j = job_new(J_DNSBL, c, chan, id);
	j->bq = xcalloc(DNSBL_Q_MAX, sizeof *j->bq);
	if (chan_jobs(chan) <= JOBS_PER_CHAN)
		j->n_bq = dnsbl_questions(lists, n_lists, q->what, client, q->helo, q->from, j->bq,
		    DNSBL_Q_MAX);
	if (client != NULL)
		prefix_text(client, j->iptext);
	if (n_lists > 0) {
		j->bl = xcalloc(n_lists, sizeof *j->bl);
		memcpy(j->bl, lists, n_lists * sizeof *lists);
		j->n_bl = n_lists;
	}
	j->rounds = 1;	/* still asking (see lookups_txt) */
	j->out++;
	for (size_t i = 0; i < j->n_bq; i++)
		job_ask(j, (uint32_t)i, LOOKUP_A, j->bq[i].name);
	j->out--;
	j->rounds = 0;
	if (j->out == 0)
		dnsbl_reply(j);
}

static void
job_answer(struct job *j, uint32_t idx, const struct lookup *l)
{
	switch (j->kind) {
	case J_SPF:
		lookup_set_put(j->set, l);
		if (j->out == 0)
			spf_step(j);
		break;
	case J_RDNS:
		rdns_answer(j, idx, l);
		break;
	case J_TXT:
		txt_answer(j, idx, l);
		break;
	case J_DNSBL:
		dnsbl_answer(j, idx, l);
		break;
	}
}

void
lookups_drop_chan(uint32_t chan)
{
	for (struct job *j = L.jobs, *next; j; j = next) {
		next = j->next;
		if (j->chan == chan)
			job_free(j);
	}
}

size_t
lookups_running(void)
{
	return L.n_jobs;
}

void
lookups_shutdown(void)
{
	while (L.jobs)
		job_free(L.jobs);
	lookups_set_resolver(NULL, NULL);
}

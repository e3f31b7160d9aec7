/*
 * policy/bans.c - the auto-ban table (see bans.h).
 *
 * Input:   addresses and event kinds from smtp workers (any value: a bad
 *          family, length or event is refused), prefixes and reasons from
 *          the control socket, rows from the store (a row that does not
 *          read back as one of ours makes bans_open fail).
 * Output:  verdicts for bans_check, rows in the SQLite store.
 * Trusts:  nothing.  Runs in: policy.
 * Not here: what a session does with a ban (554 and close), the config.
 *
 * Memory: bans in a core/htab keyed by (masked address, family, length),
 * the value a pointer to a malloc'd struct ban_info; a count of bans per
 * (family, length) gives the lengths to probe, longest first.  Ended bans
 * stay in memory (ignored by checks) until bans_purge.  Scores in a second
 * htab of at most max_tracked entries.
 * Store: table bans, one row per prefix in canonical text ("192.0.2.0/24");
 * count is the number of automatic bans of that prefix so far.
 */
#include "policy/bans.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/htab.h"
#include "core/util.h"

#define EVICT_SAMPLE	8	/* score entries looked at to choose a victim */

/* 24 bytes of plain bytes: compared as bytes by htab, and a multiple of 8
 * so the values after it stay aligned. */
struct pkey {
	uint8_t addr[16];
	uint8_t family;		/* 4 or 6 */
	uint8_t len;
	uint8_t pad[6];
};

struct score {
	time_t first;		/* of the points counted now */
	uint32_t total;
	uint16_t n[BAN_EV__MAX];	/* events of each kind, for the reason */
};

struct bans {
	sqlite3 *db;
	char *path;
	struct htab bans;		/* pkey -> struct ban_info * */
	unsigned n_at[2][129];		/* bans per family and length */
	uint8_t lens[2][129];		/* lengths with bans, longest first */
	unsigned n_lens[2];
	struct htab scores;		/* pkey -> struct score */
	size_t max_tracked;
	size_t evict_pos;		/* where the next eviction sample starts */
};

static const char *const ev_names[BAN_EV__MAX] = {
	"relay", "unknown-recipient", "vrfy", "auth-failure", "early-talker", "pipelining",
	"protocol-error", "blocklist",
};

const char *
ban_event_name(enum ban_event e)
{
	return (unsigned)e < BAN_EV__MAX ? ev_names[e] : "?";
}

int
ban_event_parse(const char *name)
{
	for (int i = 0; name != NULL && i < BAN_EV__MAX; i++)
		if (strcmp(name, ev_names[i]) == 0)
			return i;
	return -1;
}

void
ban_conf_defaults(struct ban_conf *c)
{
	static const unsigned pts[BAN_EV__MAX] = { 5, 1, 2, 2, 5, 5, 1, 3 };
	memcpy(c->points, pts, sizeof pts);
	c->threshold = 10;
	c->window = 86400;
	c->duration = 3600;
	c->max_duration = 30 * 86400;
}

/* --- prefixes and keys ---------------------------------------------------- */

static unsigned
width(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* A prefix we can key: known family, length in range, host bits zero.
 * ::ffff:a.b.c.d becomes IPv4 (a mapped /96 or longer), so a worker that
 * did not map it cannot ban all of IPv4 through ::ffff:0:0/64. */
static bool
normalise(const struct prefix *in, struct prefix *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (in == NULL || (in->family != AF_INET && in->family != AF_INET6) ||
	    in->len > width(in->family))
		return false;
	*out = *in;
	if (in->family == AF_INET6 && in->len >= 96 && memcmp(in->addr, mapped, 12) == 0) {
		memset(out->addr, 0, sizeof out->addr);
		memcpy(out->addr, in->addr + 12, 4);
		out->family = AF_INET;
		out->len = in->len - 96;
	}
	if (out->family == AF_INET)
		memset(out->addr + 4, 0, 12);
	for (unsigned bit = out->len; bit < width(out->family); bit++)
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static struct pkey
key_of(const struct prefix *p)
{
	struct pkey k;
	memset(&k, 0, sizeof k);
	memcpy(k.addr, p->addr, sizeof k.addr);
	k.family = p->family == AF_INET ? 4 : 6;
	k.len = (uint8_t)p->len;
	return k;
}

static struct prefix
prefix_of(const struct pkey *k)
{
	struct prefix p;
	memset(&p, 0, sizeof p);
	memcpy(p.addr, k->addr, sizeof p.addr);
	p.family = k->family == 4 ? AF_INET : AF_INET6;
	p.len = k->len;
	return p;
}

/* Scores are per IPv4 address and per IPv6 /64. */
static struct prefix
score_net(const struct prefix *addr)
{
	struct prefix p = *addr;
	if (p.family == AF_INET6)
		prefix_truncate(&p, 64);
	return p;
}

static bool
is_active(const struct ban_info *i, time_t now)
{
	return i->until == 0 || i->until > now;
}

/* Points counted since first have expired at now.  Unsigned arithmetic:
 * times come from the clock, but no value may overflow; a clock that went
 * back expires nothing. */
static bool
is_stale(time_t first, time_t now, unsigned window)
{
	return now >= first && (uint64_t)now - (uint64_t)first >= window;
}

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* --- bans in memory ------------------------------------------------------- */

/* The list of lengths to probe, rebuilt when a length gains its first ban
 * or loses its last. */
static void
lens_rebuild(struct bans *b, int f)
{
	b->n_lens[f] = 0;
	for (int len = 128; len >= 0; len--)
		if (b->n_at[f][len] > 0)
			b->lens[f][b->n_lens[f]++] = (uint8_t)len;
}

static void
mem_put(struct bans *b, const struct ban_info *i)
{
	struct pkey k = key_of(&i->what);
	struct ban_info **slot = htab_put(&b->bans, &k);
	int f = k.family == 6;
	if (*slot == NULL) {
		*slot = xmalloc(sizeof **slot);
		if (b->n_at[f][k.len]++ == 0)
			lens_rebuild(b, f);
	}
	**slot = *i;
}

static void
mem_del(struct bans *b, const struct pkey *k)
{
	struct ban_info **slot = htab_get(&b->bans, k);
	if (slot == NULL)
		return;
	free(*slot);
	htab_del(&b->bans, k);
	int f = k->family == 6;
	if (--b->n_at[f][k->len] == 0)
		lens_rebuild(b, f);
}

bool
bans_check(const struct bans *b, const struct prefix *addr, time_t now,
    struct ban_info *info)
{
	struct prefix a;
	if (b == NULL || !normalise(addr, &a))
		return false;
	int f = a.family == AF_INET6;
	for (unsigned i = 0; i < b->n_lens[f]; i++) {
		if (b->lens[f][i] > a.len)
			continue;
		struct prefix p = a;
		prefix_truncate(&p, b->lens[f][i]);
		struct pkey k = key_of(&p);
		struct ban_info *const *slot = htab_get(&b->bans, &k);
		if (slot == NULL || !is_active(*slot, now))
			continue;
		if (info != NULL)
			*info = **slot;
		return true;
	}
	return false;
}

/* --- the store ------------------------------------------------------------- */

static const char schema[] =
	"PRAGMA synchronous = NORMAL;"
	"CREATE TABLE IF NOT EXISTS bans ("
	" prefix TEXT PRIMARY KEY NOT NULL,"	/* canonical, as prefix_text writes it */
	" since INTEGER NOT NULL,"
	" until INTEGER NOT NULL,"		/* 0: for ever */
	" count INTEGER NOT NULL,"		/* automatic bans so far */
	" reason TEXT NOT NULL) WITHOUT ROWID;";

static int
store_fail(const struct bans *b, const char *what, char *err, size_t errlen)
{
	seterr(err, errlen, "%s: %s", b->path, what);
	return -1;
}

/* Prepare sql and bind a prefix's text to ?1 (when p is not NULL). */
static sqlite3_stmt *
prep(const struct bans *b, const char *sql, const struct prefix *p, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(b->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_fail(b, sqlite3_errmsg(b->db), err, errlen);
		sqlite3_finalize(st);
		return NULL;
	}
	if (p != NULL) {
		char text[PREFIX_TEXT_MAX];
		prefix_text(p, text);
		sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	}
	return st;
}

/* Finish st after its last step; rc is that step's result.  The message
 * is read before finalize, which may replace it. */
static int
finish(const struct bans *b, sqlite3_stmt *st, int rc, char *err, size_t errlen)
{
	int ret = 0;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = store_fail(b, sqlite3_errmsg(b->db), err, errlen);
	sqlite3_finalize(st);
	return ret;
}

static int
store_put(const struct bans *b, const struct ban_info *i, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(b, "INSERT INTO bans VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (prefix) DO UPDATE SET since = ?2, until = ?3, count = ?4, "
	    "reason = ?5", &i->what, err, errlen);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 2, i->since);
	sqlite3_bind_int64(st, 3, i->until);
	sqlite3_bind_int64(st, 4, i->count);
	sqlite3_bind_text(st, 5, i->reason, -1, SQLITE_STATIC);
	return finish(b, st, sqlite3_step(st), err, errlen);
}

/* The automatic bans of p remembered at now: history that ended more than
 * BANS_HISTORY ago no longer counts, even before bans_purge removes it. */
/* The oldest end of a ban still remembered as history; saturates (a
 * clock set to the far past must not overflow). */
static sqlite3_int64
history_start(time_t now)
{
	sqlite3_int64 n = (sqlite3_int64)now;
	return n < INT64_MIN + BANS_HISTORY ? INT64_MIN : n - BANS_HISTORY;
}

static int
store_count(const struct bans *b, const struct prefix *p, time_t now, unsigned *count,
    char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(b, "SELECT count, until FROM bans WHERE prefix = ?1", p, err,
	    errlen);
	if (st == NULL)
		return -1;
	*count = 0;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sqlite3_int64 n = sqlite3_column_int64(st, 0), until = sqlite3_column_int64(st, 1);
		if (until == 0 || until > history_start(now))
			*count = n < 0 ? 0 : n > UINT_MAX ? UINT_MAX : (unsigned)n;
	}
	return finish(b, st, rc, err, errlen);
}

/* One row into memory; false when it is not a row we wrote. */
static bool
load_row(struct bans *b, sqlite3_stmt *st)
{
	struct ban_info i;
	char text[PREFIX_TEXT_MAX];
	const char *p = (const char *)sqlite3_column_text(st, 0);
	const char *r = (const char *)sqlite3_column_text(st, 4);
	sqlite3_int64 n = sqlite3_column_int64(st, 3);
	memset(&i, 0, sizeof i);
	if (p == NULL || !prefix_parse(p, &i.what))
		return false;
	prefix_text(&i.what, text);
	if (strcmp(text, p) != 0)	/* another spelling would never match our writes */
		return false;
	i.since = (time_t)sqlite3_column_int64(st, 1);
	i.until = (time_t)sqlite3_column_int64(st, 2);
	i.count = n < 0 ? 0 : n > UINT_MAX ? UINT_MAX : (unsigned)n;
	snprintf(i.reason, sizeof i.reason, "%s", r != NULL ? r : "");
	mem_put(b, &i);
	return true;
}

static int
store_load(struct bans *b, time_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(b, "SELECT prefix, since, until, count, reason FROM bans "
	    "WHERE until = 0 OR until > ?1", NULL, err, errlen);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!load_row(b, st)) {
			sqlite3_finalize(st);
			return store_fail(b, "a row of table bans is not a ban", err, errlen);
		}
	}
	return finish(b, st, rc, err, errlen);
}

/* journal_mode answers with the mode in force, which stays "delete" when
 * WAL is impossible (a file system without shared memory). */
static int
store_setup(struct bans *b, char *err, size_t errlen)
{
	sqlite3_busy_timeout(b->db, 1000);
	sqlite3_stmt *st = prep(b, "PRAGMA journal_mode = WAL", NULL, err, errlen);
	if (st == NULL)
		return -1;
	int rc = sqlite3_step(st);
	const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	bool wal = mode != NULL && strcmp(mode, "wal") == 0;
	if (finish(b, st, rc, err, errlen) < 0)
		return -1;
	if (!wal)
		return store_fail(b, "cannot use write-ahead logging", err, errlen);
	if (sqlite3_exec(b->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(b, sqlite3_errmsg(b->db), err, errlen);
	return 0;
}

struct bans *
bans_open(const char *path, char *err, size_t errlen)
{
	/* created here so the mode is ours, not the umask's; SQLite gives the
	 * -wal and -shm files the mode of the database */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);
	struct bans *b = xcalloc(1, sizeof *b);
	b->path = xstrdup(path);
	b->max_tracked = BANS_TRACKED_DEFAULT;
	htab_init(&b->bans, sizeof(struct pkey), sizeof(struct ban_info *));
	htab_init(&b->scores, sizeof(struct pkey), sizeof(struct score));
	if (sqlite3_open_v2(path, &b->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		store_fail(b, b->db ? sqlite3_errmsg(b->db) : "out of memory", err, errlen);
		bans_close(&b);
		return NULL;
	}
	if (store_setup(b, err, errlen) < 0 || store_load(b, time(NULL), err, errlen) < 0)
		bans_close(&b);
	return b;
}

void
bans_close(struct bans **bp)
{
	struct bans *b = *bp;
	if (b == NULL)
		return;
	size_t pos = 0;
	uint8_t *e;
	while ((e = htab_next(&b->bans, &pos)) != NULL) {
		struct ban_info *i;
		memcpy(&i, e + sizeof(struct pkey), sizeof i);
		free(i);
	}
	htab_free(&b->bans);
	htab_free(&b->scores);
	sqlite3_close(b->db);
	free(b->path);
	free(b);
	*bp = NULL;
}

/* --- scores ----------------------------------------------------------------- */

/* Is score a a better victim than b? */
static bool
worse(const struct score *a, const struct score *b, time_t now, unsigned window)
{
	bool a_old = is_stale(a->first, now, window), b_old = is_stale(b->first, now, window);
	if (a_old != b_old)
		return a_old;
	if (a->total != b->total)
		return a->total < b->total;
	return a->first < b->first;
}

/* Drop one score chosen from EVICT_SAMPLE entries walked from where the
 * last walk stopped (the htab's seeded hash spreads them at random). */
static void
evict_one(struct bans *b, time_t now, unsigned window)
{
	struct htab *h = &b->scores;
	uint8_t *victim = NULL;
	size_t seen = 0, pos = b->evict_pos, wraps = 0;
	while (seen < EVICT_SAMPLE && wraps < 2) {
		uint8_t *e = htab_next(h, &pos);
		if (e == NULL) {
			pos = 0;
			wraps++;
			continue;
		}
		seen++;
		if (victim == NULL || worse((struct score *)(e + sizeof(struct pkey)),
		    (struct score *)(victim + sizeof(struct pkey)), now, window))
			victim = e;
	}
	b->evict_pos = pos;
	if (victim != NULL) {
		struct pkey k;
		memcpy(&k, victim, sizeof k);	/* htab_del moves entries under it */
		htab_del(h, &k);
	}
}

void
bans_set_max_tracked(struct bans *b, size_t max_tracked)
{
	b->max_tracked = max_tracked > 0 ? max_tracked : 1;
	while (b->scores.n > b->max_tracked)
		evict_one(b, 0, 0);
}

size_t
bans_tracked(const struct bans *b)
{
	return b->scores.n;
}

/* Forget every score inside p or containing it (an IPv6 /128 ban clears
 * its /64).  Admin commands only: it walks the whole table. */
static void
scores_clear(struct bans *b, const struct prefix *p)
{
	struct pkey *doomed = xreallocarray(NULL, b->scores.n + 1, sizeof *doomed);
	size_t n = 0, pos = 0;
	uint8_t *e;
	while ((e = htab_next(&b->scores, &pos)) != NULL) {
		struct prefix s = prefix_of((const struct pkey *)e);
		if (prefix_contains(p, &s) || prefix_contains(&s, p))
			memcpy(&doomed[n++], e, sizeof *doomed);
	}
	for (size_t i = 0; i < n; i++)
		htab_del(&b->scores, &doomed[i]);
	free(doomed);
}

/* The score of net, a new one (evicting when full) if absent or expired. */
static struct score *
score_get(struct bans *b, const struct prefix *net, time_t now, unsigned window)
{
	struct pkey k = key_of(net);
	struct score *s = htab_get(&b->scores, &k);
	if (s == NULL) {
		while (b->scores.n >= b->max_tracked)
			evict_one(b, now, window);
		s = htab_put(&b->scores, &k);
		s->first = now;
	}
	if (is_stale(s->first, now, window)) {
		memset(s, 0, sizeof *s);
		s->first = now;
	}
	return s;
}

/* "auto: relay=2 unknown-recipient=4", cut short if it must be. */
static void
auto_reason(char *dst, size_t size, const struct score *s)
{
	size_t len = (size_t)snprintf(dst, size, "auto:");
	for (int e = 0; e < BAN_EV__MAX && len < size; e++)
		if (s->n[e] > 0)
			len += (size_t)snprintf(dst + len, size - len, " %s=%u", ev_names[e],
			    (unsigned)s->n[e]);
}

/* now + duration * 2^(count-1), the length at most max_duration (or
 * duration, when max_duration is smaller) and at least a second. */
static time_t
ban_end(const struct ban_conf *c, unsigned count, time_t now)
{
	uint64_t d = c->duration > 0 ? c->duration : 1;
	uint64_t cap = c->max_duration > d ? c->max_duration : d;
	for (unsigned i = 1; i < count && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	return now > INT64_MAX - (int64_t)d ? INT64_MAX : now + (time_t)d;
}

static int
auto_ban(struct bans *b, const struct ban_conf *c, const struct prefix *net,
    const struct score *s, time_t now, struct ban_info *out, char *err, size_t errlen)
{
	struct ban_info i;
	memset(&i, 0, sizeof i);
	i.what = *net;
	if (store_count(b, net, now, &i.count, err, errlen) < 0)
		return -1;
	if (i.count < UINT_MAX)
		i.count++;
	i.since = now;
	i.until = ban_end(c, i.count, now);
	auto_reason(i.reason, sizeof i.reason, s);
	if (store_put(b, &i, err, errlen) < 0)
		return -1;
	mem_put(b, &i);
	if (out != NULL)
		*out = i;
	return 1;
}

int
bans_event(struct bans *b, const struct ban_conf *c, const struct prefix *addr,
    enum ban_event ev, time_t now, unsigned *score, struct ban_info *info, char *err,
    size_t errlen)
{
	struct prefix a;
	unsigned dummy;
	if (score == NULL)
		score = &dummy;
	*score = 0;
	if (!normalise(addr, &a) || a.len != width(a.family) || (unsigned)ev >= BAN_EV__MAX) {
		seterr(err, errlen, "bad event or address");
		return -1;
	}
	if (c->points[ev] == 0 || bans_check(b, &a, now, NULL))
		return 0;
	struct prefix net = score_net(&a);
	struct score *s = score_get(b, &net, now, c->window);
	s->total = c->points[ev] > UINT32_MAX - s->total ? UINT32_MAX : s->total + c->points[ev];
	if (s->n[ev] < UINT16_MAX)
		s->n[ev]++;
	*score = s->total;
	if (c->threshold == 0 || s->total < c->threshold)
		return 0;
	/* on a store error the score stays, so the next event tries again */
	int rc = auto_ban(b, c, &net, s, now, info, err, errlen);
	if (rc == 1) {
		struct pkey k = key_of(&net);
		htab_del(&b->scores, &k);
	}
	return rc;
}

/* --- the admin's commands ------------------------------------------------ */

int
bans_add(struct bans *b, const struct prefix *what, time_t now, time_t until,
    const char *reason, char *err, size_t errlen)
{
	struct ban_info i;
	memset(&i, 0, sizeof i);
	if (!normalise(what, &i.what)) {
		seterr(err, errlen, "not a prefix (are host bits set?)");
		return -1;
	}
	if (until != 0 && until <= now) {
		seterr(err, errlen, "the ban would end before it starts");
		return -1;
	}
	if (store_count(b, &i.what, now, &i.count, err, errlen) < 0)
		return -1;
	i.since = now;
	i.until = until;
	snprintf(i.reason, sizeof i.reason, "%s", reason != NULL ? reason : "");
	if (store_put(b, &i, err, errlen) < 0)
		return -1;
	mem_put(b, &i);
	scores_clear(b, &i.what);
	return 0;
}

int
bans_del(struct bans *b, const struct prefix *what, char *err, size_t errlen)
{
	struct prefix p;
	if (!normalise(what, &p)) {
		seterr(err, errlen, "not a prefix (are host bits set?)");
		return -1;
	}
	sqlite3_stmt *st = prep(b, "DELETE FROM bans WHERE prefix = ?1", &p, err, errlen);
	if (st == NULL || finish(b, st, sqlite3_step(st), err, errlen) < 0)
		return -1;
	bool had = sqlite3_changes(b->db) > 0;
	struct pkey k = key_of(&p);
	had = had || htab_get(&b->bans, &k) != NULL;
	mem_del(b, &k);
	scores_clear(b, &p);
	return had ? 0 : 1;
}

static int
by_address(const void *x, const void *y)
{
	const struct ban_info *a = *(struct ban_info *const *)x, *b = *(struct ban_info *const *)y;
	if (a->what.family != b->what.family)
		return a->what.family == AF_INET ? -1 : 1;
	int d = memcmp(a->what.addr, b->what.addr, sizeof a->what.addr);
	if (d != 0)
		return d;
	return a->what.len < b->what.len ? -1 : a->what.len > b->what.len;
}

void
bans_list(const struct bans *b, time_t now, int (*fn)(const struct ban_info *, void *),
    void *arg)
{
	const struct ban_info **v = xreallocarray(NULL, b->bans.n + 1, sizeof *v);
	size_t n = 0, pos = 0;
	uint8_t *e;
	while ((e = htab_next(&b->bans, &pos)) != NULL) {
		const struct ban_info *i;
		memcpy(&i, e + sizeof(struct pkey), sizeof i);
		if (is_active(i, now))
			v[n++] = i;
	}
	qsort(v, n, sizeof *v, by_address);
	for (size_t j = 0; j < n && fn(v[j], arg) == 0; j++)
		;
	free(v);
}

long
bans_purge(struct bans *b, time_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(b, "DELETE FROM bans WHERE until != 0 AND until < ?1", NULL,
	    err, errlen);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, history_start(now));
	if (finish(b, st, sqlite3_step(st), err, errlen) < 0)
		return -1;
	long removed = sqlite3_changes(b->db);
	struct pkey *ended = xreallocarray(NULL, b->bans.n + 1, sizeof *ended);
	size_t n = 0, pos = 0;
	uint8_t *e;
	while ((e = htab_next(&b->bans, &pos)) != NULL) {
		const struct ban_info *i;
		memcpy(&i, e + sizeof(struct pkey), sizeof i);
		if (!is_active(i, now))
			memcpy(&ended[n++], e, sizeof *ended);
	}
	for (size_t j = 0; j < n; j++)
		mem_del(b, &ended[j]);
	free(ended);
	return removed;
}

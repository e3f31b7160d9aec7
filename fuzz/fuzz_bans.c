/*
 * fuzz/fuzz_bans.c - libFuzzer harness for the auto-ban table
 * (policy/bans.c): sequences of events, checks, manual bans, removals,
 * listings, purges, restarts and table bounds on a store file of its own,
 * and damaged store files.
 *
 * Input:   first byte 'F': the rest is written as the store file, which
 *          bans_open must refuse with "path: why" or serve without a crash.
 *          Otherwise a configuration (14 bytes) and then at most OPS_MAX
 *          operations, each an op byte and its arguments, on a store
 *          created for this input.  Short input reads as zeros.
 * Checks:  no crash, leak or sanitizer report, and from bans.h:
 *          - -1 exactly for the bad arguments the contract names (a family
 *            that is neither, a length past the width, host bits set, an
 *            event that is not one, a prefix given to bans_event, a manual
 *            ban that ends before it starts), with a message; never a store
 *            error on our own file;
 *          - bans_event: an address already banned or an event worth 0
 *            points scores 0; 1 only at or over a non-zero threshold, and
 *            then bans_check says banned at the same time, with the same
 *            ban: this address's IPv4 /32 or IPv6 /64, since now, "auto:",
 *            a count of at least 1 and a length within duration and the cap,
 *            banned until a second before until and not at until;
 *          - the score table never holds more than bans_set_max_tracked;
 *          - bans_check agrees with bans_list: found means that ban is
 *            listed and no longer listed ban contains the address; not
 *            found means no listed ban contains it;
 *          - bans_list is strictly sorted, active at now, and stops when
 *            the callback says so; a prefix checked as itself finds its
 *            own ban;
 *          - bans_add shows up at once with its times and (cut) reason;
 *            after bans_del the prefix is no longer listed, and removing a
 *            listed ban answers 0;
 *          - bans_purge never changes the list; a restart keeps it (unless
 *            the clock went back past a purge, which drops ended bans from
 *            memory only) and starts with no scores.
 * Clock:   from 2^33 on: bans_open loads the bans active at the wall clock,
 *          and every ban this harness makes ends after it, so a restart
 *          reloads them all whatever the day.  It never nears INT64_MIN:
 *          bans.c computes now - BANS_HISTORY unchecked (store_count,
 *          bans_purge), which no real clock overflows.
 * Store:   one file in a directory made once with mkdtemp; the file and its
 *          -wal/-shm are removed after every input, the directory at exit.
 *          Syncs are skipped (see nosync_open): durability is not fuzzed.
 * Seeds:   fuzz/corpus/bans/ (operation sequences and a store file).
 */
#include <assert.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/prefix.h"
#include "policy/bans.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SQLite does real file I/O: a cap on operations keeps one input fast */
#define OPS_MAX		64
#define LIST_MAX	128	/* bans kept from one listing (all are counted) */
#define T0		((time_t)1 << 33)

/* The directory (and the VFS below) are made once per process; nothing
 * else outlives an input. */
#define FUZZ_STORE_DIR "/tmp/fuzz_bans.XXXXXX"
#include "sqlite_store.h"

struct in {
	const uint8_t *p, *end;
};

static uint8_t
in_u8(struct in *r)
{
	return r->p < r->end ? *r->p++ : 0;
}

/* --- the store file ------------------------------------------------------ */

/* --- arguments ----------------------------------------------------------- */

static void
read_conf(struct in *r, struct ban_conf *c)
{
	/* small numbers, so that a few events cross the threshold and a few
	 * clock steps cross window and duration */
	for (int e = 0; e < BAN_EV__MAX; e++)
		c->points[e] = in_u8(r) % 8;
	c->threshold = in_u8(r) % 24;
	c->window = 16u * in_u8(r);
	c->duration = 4u * in_u8(r);
	c->max_duration = 64u * in_u8(r);
	/* now and then the real defaults: a day's window, hour-long bans */
	if (in_u8(r) == 0xff)
		ban_conf_defaults(c);
}

/* What an operation is about, as given and as the table keys it. */
struct target {
	struct prefix p;	/* as passed */
	struct prefix norm;	/* IPv4-mapped as IPv4, bytes past IPv4 zero */
	bool valid;		/* a prefix bans.c accepts */
	bool full;		/* a whole address: what bans_event takes */
};

static unsigned
width(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* One byte a: host (bits 0-3) in one of four networks (bits 4-5); bit 6
 * moves it to another IPv4 /16 or IPv6 /64, bit 7 to another IPv4 /25 or
 * IPv6 /65 (the same /64, so the same score). */
static void
base_addr(struct prefix *p, int family, uint8_t a)
{
	uint8_t net = (a >> 4) & 3, host = a & 0x0f;
	memset(p, 0, sizeof *p);
	p->family = family;
	p->len = width(family);
	if (family == AF_INET) {
		p->addr[0] = 10;
		p->addr[1] = a & 0x40;
		p->addr[2] = net;
		p->addr[3] = (uint8_t)(host | (a & 0x80));
	} else {
		memcpy(p->addr, "\x20\x01\x0d\xb8", 4);
		p->addr[6] = a & 0x40;
		p->addr[7] = net;
		p->addr[8] = a & 0x80;
		p->addr[15] = host;
	}
}

/* Two bytes: k picks the kind (bits 0-2) and a length (bits 3-7), a the
 * address.  Kinds: IPv4, IPv6, IPv4-mapped IPv6 addresses; IPv4, IPv6,
 * IPv4-mapped prefixes; a prefix with a host bit set; a bad family or
 * length. */
static void
read_target(struct in *r, struct target *t)
{
	uint8_t k = in_u8(r), a = in_u8(r), hint = k >> 3;
	memset(t, 0, sizeof *t);
	t->valid = true;
	switch (k & 7) {
	case 0:
	case 3:
		base_addr(&t->p, AF_INET, a);
		if ((k & 7) == 3)
			prefix_truncate(&t->p, hint % 33);
		t->norm = t->p;
		break;
	case 1:
	case 4:
		base_addr(&t->p, AF_INET6, a);
		if ((k & 7) == 4)
			prefix_truncate(&t->p, hint == 31 ? 128 : hint * 4u);
		t->norm = t->p;
		break;
	case 2:
	case 5:
		/* ::ffff:10.x.n.h, as itself or cut to 96..127 bits */
		base_addr(&t->norm, AF_INET, a);
		memset(&t->p, 0, sizeof t->p);
		t->p.family = AF_INET6;
		t->p.len = 128;
		t->p.addr[10] = t->p.addr[11] = 0xff;
		memcpy(t->p.addr + 12, t->norm.addr, 4);
		if ((k & 7) == 5) {
			prefix_truncate(&t->p, 96 + hint);
			prefix_truncate(&t->norm, hint);
		}
		break;
	case 6:
		/* the last bit set under a shorter length */
		base_addr(&t->p, AF_INET, a);
		t->p.addr[3] |= 1;
		t->p.len = hint % 32;
		t->valid = false;
		break;
	default:
		base_addr(&t->p, AF_INET, a);
		if (hint & 1)
			t->p.family = 77;
		else
			t->p.len = 33;
		t->valid = false;
		break;
	}
	t->full = t->valid && t->norm.len == width(t->norm.family);
}

static time_t
read_until(struct in *r, time_t now)
{
	uint8_t b = in_u8(r);
	switch (b & 3) {
	case 0:
		return 0;	/* for ever */
	case 1:
		return now - (b >> 2);	/* ends before it starts: refused */
	case 2:
		return INT64_MAX;
	default:
		return now + 1 + 16 * (time_t)(b >> 2);
	}
}

/* A reason: fixed ones, NULL (read as ""), one longer than ban_info holds,
 * or up to 255 bytes of input (cut at a NUL).  buf holds 256 bytes. */
static const char *
read_reason(struct in *r, char *buf)
{
	uint8_t b = in_u8(r) % 5;
	if (b == 0)
		return "spam run";
	if (b == 1)
		return NULL;
	if (b == 2) {
		memset(buf, 'r', 200);
		buf[200] = '\0';
		return buf;
	}
	size_t n = in_u8(r);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)in_u8(r);
	buf[n] = '\0';
	return buf;
}

/* --- listings ------------------------------------------------------------ */

struct listing {
	struct ban_info v[LIST_MAX];
	size_t n;		/* calls of the callback */
	size_t stop;		/* answer "stop" at this call; 0: never */
};

static int
collect(const struct ban_info *i, void *arg)
{
	struct listing *l = arg;
	if (l->n < LIST_MAX)
		l->v[l->n] = *i;
	l->n++;
	return l->stop != 0 && l->n >= l->stop;
}

static bool
same_prefix(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	    memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

static bool
same_ban(const struct ban_info *a, const struct ban_info *b)
{
	return same_prefix(&a->what, &b->what) && a->since == b->since &&
	    a->until == b->until && a->count == b->count &&
	    strcmp(a->reason, b->reason) == 0;
}

/* bans_list's order: IPv4 first, then the address bytes, then the length */
static int
order(const struct prefix *a, const struct prefix *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	int d = memcmp(a->addr, b->addr, sizeof a->addr);
	if (d != 0)
		return d;
	return a->len < b->len ? -1 : a->len > b->len;
}

static bool
is_active(const struct ban_info *i, time_t now)
{
	return i->until == 0 || i->until > now;
}

/* Every active ban, checked for order, activity and well-formed fields. */
static void
list_all(const struct bans *b, time_t now, struct listing *l)
{
	l->n = 0;
	l->stop = 0;
	bans_list(b, now, collect, l);
	size_t n = l->n < LIST_MAX ? l->n : LIST_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct ban_info *x = &l->v[i];
		assert(x->what.family == AF_INET || x->what.family == AF_INET6);
		assert(x->what.len <= width(x->what.family));
		assert(is_active(x, now));
		assert(memchr(x->reason, '\0', sizeof x->reason) != NULL);
		assert(i == 0 || order(&l->v[i - 1].what, &x->what) < 0);
	}
}

static const struct ban_info *
find(const struct listing *l, const struct prefix *p)
{
	size_t n = l->n < LIST_MAX ? l->n : LIST_MAX;
	for (size_t i = 0; i < n; i++)
		if (same_prefix(&l->v[i].what, p))
			return &l->v[i];
	return NULL;
}

static bool
same_listing(const struct listing *a, const struct listing *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n && i < LIST_MAX; i++)
		if (!same_ban(&a->v[i], &b->v[i]))
			return false;
	return true;
}

/* --- operations ---------------------------------------------------------- */

struct run {
	struct bans *b;
	struct ban_conf c;
	size_t max_tracked;
	time_t now;
	time_t purged;		/* latest time given to bans_purge */
	struct listing l;	/* scratch */
	struct listing l2;
};

/* bans_check of t against the listing: the longest listed ban holding it,
 * or none when it is not banned. */
static void
op_check(struct run *st, const struct target *t)
{
	struct ban_info got;
	bool hit = bans_check(st->b, &t->p, st->now, &got);
	assert(t->valid || !hit);
	if (!t->valid)
		return;
	list_all(st->b, st->now, &st->l);
	assert(st->l.n <= LIST_MAX);
	const struct ban_info *best = NULL;
	for (size_t i = 0; i < st->l.n; i++)
		if (prefix_contains(&st->l.v[i].what, &t->norm) &&
		    (best == NULL || st->l.v[i].what.len > best->what.len))
			best = &st->l.v[i];
	assert(hit == (best != NULL));
	assert(!hit || same_ban(&got, best));
}

static void
op_event(struct run *st, struct in *r, unsigned arg)
{
	struct target t;
	struct ban_info info;
	char err[256] = "";
	unsigned score = 77;
	st->now += 8 * (time_t)arg;
	read_target(r, &t);
	unsigned ev = in_u8(r) % (BAN_EV__MAX + 1);
	const char *name = ban_event_name((enum ban_event)ev);
	assert(ev < BAN_EV__MAX ? ban_event_parse(name) == (int)ev : strcmp(name, "?") == 0);
	bool was = bans_check(st->b, &t.p, st->now, NULL);
	int rc = bans_event(st->b, &st->c, &t.p, (enum ban_event)ev, st->now, &score, &info, err,
	    sizeof err);
	if (!t.full || ev >= BAN_EV__MAX) {
		assert(rc == -1 && score == 0 && err[0] != '\0');
		return;
	}
	assert(rc == 0 || rc == 1);
	if (was || st->c.points[ev] == 0) {
		assert(rc == 0 && score == 0);
		return;
	}
	assert(score >= st->c.points[ev]);
	if (rc == 0) {
		assert(st->c.threshold == 0 || score < st->c.threshold);
		return;
	}
	assert(st->c.threshold > 0 && score >= st->c.threshold);
	/* banned at once, by this ban: nothing else held the address */
	struct ban_info got;
	assert(bans_check(st->b, &t.p, st->now, &got) && same_ban(&got, &info));
	struct prefix net = t.norm;
	prefix_truncate(&net, net.family == AF_INET ? 32 : 64);
	assert(same_prefix(&info.what, &net));
	assert(info.since == st->now && info.count >= 1);
	assert(strncmp(info.reason, "auto:", 5) == 0);
	time_t d = st->c.duration > 0 ? st->c.duration : 1;
	time_t cap = st->c.max_duration > d ? st->c.max_duration : d;
	assert(info.until - st->now >= d && info.until - st->now <= cap);
	/* banned up to until, not at until: no other ban can hold the address
	 * then, as none held it now */
	assert(bans_check(st->b, &t.p, info.until - 1, NULL));
	assert(!bans_check(st->b, &t.p, info.until, NULL));
}

static void
op_add(struct run *st, struct in *r)
{
	struct target t;
	char buf[256], err[256] = "";
	read_target(r, &t);
	time_t until = read_until(r, st->now);
	const char *reason = read_reason(r, buf);
	size_t before = bans_tracked(st->b);
	int rc = bans_add(st->b, &t.p, st->now, until, reason, err, sizeof err);
	if (!t.valid || (until != 0 && until <= st->now)) {
		assert(rc == -1 && err[0] != '\0');
		return;
	}
	assert(rc == 0 && bans_tracked(st->b) <= before);
	/* checked as itself, a prefix finds its own ban: no longer one can hold it */
	struct ban_info got;
	char cut[sizeof got.reason];
	snprintf(cut, sizeof cut, "%s", reason != NULL ? reason : "");
	assert(bans_check(st->b, &t.p, st->now, &got));
	assert(same_prefix(&got.what, &t.norm) && got.since == st->now && got.until == until &&
	    strcmp(got.reason, cut) == 0);
}

static void
op_del(struct run *st, struct in *r)
{
	struct target t;
	char err[256] = "";
	read_target(r, &t);
	list_all(st->b, st->now, &st->l);
	bool listed = t.valid && find(&st->l, &t.norm) != NULL;
	int rc = bans_del(st->b, &t.p, err, sizeof err);
	if (!t.valid) {
		assert(rc == -1 && err[0] != '\0');
		return;
	}
	assert(rc == 0 || rc == 1);
	assert(!listed || rc == 0);
	list_all(st->b, st->now, &st->l);
	assert(find(&st->l, &t.norm) == NULL);
}

/* A full listing, then one that stops early after `stop` calls. */
static void
op_list(struct run *st, unsigned arg)
{
	list_all(st->b, st->now, &st->l);
	size_t n = st->l.n < LIST_MAX ? st->l.n : LIST_MAX;
	for (size_t i = 0; i < n; i++) {
		struct ban_info got;
		assert(bans_check(st->b, &st->l.v[i].what, st->now, &got) &&
		    same_ban(&got, &st->l.v[i]));
	}
	st->l2.n = 0;
	st->l2.stop = 1 + arg % 8;
	bans_list(st->b, st->now, collect, &st->l2);
	assert(st->l2.n == (st->l.n < st->l2.stop ? st->l.n : st->l2.stop));
}

static void
op_purge(struct run *st)
{
	char err[256];
	list_all(st->b, st->now, &st->l);
	assert(bans_purge(st->b, st->now, err, sizeof err) >= 0);
	if (st->now > st->purged)
		st->purged = st->now;
	list_all(st->b, st->now, &st->l2);
	assert(same_listing(&st->l, &st->l2));
}

static void
op_reopen(struct run *st)
{
	char err[256];
	list_all(st->b, st->now, &st->l);
	bans_close(&st->b);
	assert(st->b == NULL);
	st->b = bans_open(db_path, err, sizeof err);
	assert(st->b != NULL);
	assert(bans_tracked(st->b) == 0);
	bans_set_max_tracked(st->b, st->max_tracked);
	list_all(st->b, st->now, &st->l2);
	/* Known imperfection: bans_purge drops bans ended at its now from
	 * memory but keeps their rows, so after the clock steps back past a
	 * purge a ban active again is missing until a restart loads it (seed
	 * clock-back-after-purge).  Only a clock stepping back shows it. */
	assert(st->now < st->purged || same_listing(&st->l, &st->l2));
}

static void
op_clock(struct run *st, struct in *r, unsigned arg)
{
	if (arg < 16) {
		st->now += 1000 * (time_t)arg;
	} else if (arg < 24) {
		st->now -= 50 * (time_t)(arg - 15);	/* the clock stepped back */
	} else if (arg < 31) {
		unsigned hi = in_u8(r);
		st->now += 60 * (time_t)(hi << 8 | in_u8(r));
	} else {
		st->now += BANS_HISTORY;	/* history ends */
	}
}

static void
run_ops(struct in *r)
{
	char err[256];
	struct run *st = calloc(1, sizeof *st);
	assert(st != NULL);
	st->now = T0;
	st->b = bans_open(db_path, err, sizeof err);
	if (st->b == NULL) {
		fprintf(stderr, "fuzz_bans: %s\n", err);
		abort();
	}
	read_conf(r, &st->c);
	st->max_tracked = 1 + in_u8(r) % 16;
	bans_set_max_tracked(st->b, st->max_tracked);
	for (int n = 0; n < OPS_MAX && r->p < r->end; n++) {
		uint8_t op = in_u8(r);
		unsigned arg = op >> 3;
		struct target t;
		switch (op & 7) {
		case 0:
		case 1:
			op_event(st, r, arg);
			break;
		case 2:
			read_target(r, &t);
			op_check(st, &t);
			break;
		case 3:
			if (arg & 1)
				op_add(st, r);
			else
				op_del(st, r);
			break;
		case 4:
			op_list(st, arg);
			break;
		case 5:
			if (arg & 1)
				op_purge(st);
			else
				op_reopen(st);
			break;
		case 6:
			if (arg & 1)
				read_conf(r, &st->c);
			else
				st->max_tracked = arg >> 1;	/* 0 reads as 1 */
			bans_set_max_tracked(st->b, st->max_tracked);
			if (st->max_tracked == 0)
				st->max_tracked = 1;
			break;
		default:
			op_clock(st, r, arg);
			break;
		}
		assert(bans_tracked(st->b) <= st->max_tracked);
	}
	bans_close(&st->b);
	free(st);
}

/* A file that is not a bans store is refused with "path: why"; one that
 * opens answers within the contract or with an error message. */
static void
run_file(const uint8_t *data, size_t size)
{
	char err[256] = "";
	write_store(data, size);
	struct bans *b = bans_open(db_path, err, sizeof err);
	if (b == NULL) {
		size_t n = strlen(db_path);
		assert(strncmp(err, db_path, n) == 0 && strncmp(err + n, ": ", 2) == 0);
		return;
	}
	struct listing *l = calloc(1, sizeof *l);
	assert(l != NULL);
	list_all(b, T0, l);
	struct ban_conf c;
	ban_conf_defaults(&c);
	c.threshold = 1;
	struct prefix a = { .family = AF_INET, .addr = { 192, 0, 2, 1 }, .len = 32 };
	struct prefix net = { .family = AF_INET, .addr = { 192, 0, 2 }, .len = 24 };
	/* a damaged file may fail any statement, but says so */
	err[0] = '\0';
	if (bans_event(b, &c, &a, BAN_EV_RELAY, T0, NULL, NULL, err, sizeof err) < 0)
		assert(err[0] != '\0');
	err[0] = '\0';
	if (bans_add(b, &net, T0, 0, "file", err, sizeof err) < 0)
		assert(err[0] != '\0');
	err[0] = '\0';
	if (bans_del(b, &net, err, sizeof err) < 0)
		assert(err[0] != '\0');
	err[0] = '\0';
	if (bans_purge(b, T0, err, sizeof err) < 0)
		assert(err[0] != '\0');
	list_all(b, T0, l);
	free(l);
	bans_close(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_once();
	if (size > 0 && data[0] == 'F') {
		run_file(data + 1, size - 1);
	} else {
		struct in r = { data, data + size };
		run_ops(&r);
	}
	remove_store();
	return 0;
}

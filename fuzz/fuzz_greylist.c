/*
 * fuzz/fuzz_greylist.c - libFuzzer harness for the greylisting store
 * (policy/greylist.c): sequences of checks, purges, counts, restarts and
 * clock jumps on a store file of its own, and damaged store files.
 *
 * Input:   first byte 'F': the rest is written as the store file, which
 *          greylist_open must refuse with a message or serve without a
 *          crash.  Otherwise a configuration (6 bytes) and then at most
 *          OPS_MAX operations, each an op byte and its arguments, on a
 *          store created for this input.  Short input reads as zeros.
 * Checks:  no crash, leak or sanitizer report, and from greylist.h:
 *          - GREY_ERROR exactly when the contract names a reason (a client
 *            that is neither IPv4 nor IPv6, a NULL or overlong address,
 *            window <= delay): never an SQLite error on our own file, and
 *            purge and counts never fail on it;
 *          - the state is never NULL and names the result: "new", "early"
 *            or "expired" for WAIT, "passed", "known" or "auto-allowed"
 *            for PASS, "error" for ERROR (then retry_in 0 and err set);
 *          - net text is bounded, "" exactly when no key could be made,
 *            else a prefix that parses back and contains the client;
 *          - WAIT: 1 <= retry_in <= max(delay, 1), exactly max(delay, 1)
 *            on a first try;
 *          - asked again at the same instant with the addresses in upper
 *            case (the same triplet): a PASS passes again (keep > 0), a
 *            first try becomes "early" with retry_in == delay (a PASS when
 *            delay is 0), an "early" stays "early" with the same retry_in;
 *          - probed from a first try (op 2), the header's half-open
 *            intervals: "early" with retry_in 1 at first + delay - 1,
 *            "expired" at first + window, "passed" at the new first +
 *            delay, then with auto_allow 1 any triplet of the network
 *            "auto-allowed", with 0 "known" at last + keep - 1 and "new"
 *            at the new last + keep;
 *          - purge returns the rows the counts lose; a restart keeps the
 *            counts; at the end, purging at INT64_MAX with window and keep
 *            0 empties the store.
 * Store:   one file in a directory made once with mkdtemp; the file and its
 *          -wal/-shm are removed after every input, the directory at exit.
 *          Syncs are skipped (see nosync_open): durability is not fuzzed.
 * Seeds:   fuzz/corpus/greylist/ (operation sequences and a store file).
 */
#include <assert.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/prefix.h"
#include "policy/greylist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SQLite does real file I/O: a cap on operations keeps one input fast */
#define OPS_MAX		64
#define T0		1700000000

/* The directory (and the VFS below) are made once per process; nothing
 * else outlives an input. */
#define FUZZ_STORE_DIR "/tmp/fuzz_greylist.XXXXXX"
#include "sqlite_store.h"

struct in {
	const uint8_t *p, *end;
};

static uint8_t
in_u8(struct in *r)
{
	return r->p < r->end ? *r->p++ : 0;
}

static int64_t
in_i64(struct in *r)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | in_u8(r);
	return (int64_t)v;
}

/* --- the store file ------------------------------------------------------ */

/* --- arguments ----------------------------------------------------------- */

static void
read_conf(struct in *r, struct greylist_conf *c)
{
	/* small times so that a few ops cross delay, window and keep; the
	 * window is past the delay unless its byte is 0 (the error case) */
	c->delay = in_u8(r);
	c->window = c->delay + in_u8(r);
	c->keep = 8u * in_u8(r);
	c->auto_allow = in_u8(r) % 4;
	c->v4_prefix = in_u8(r) % 40;	/* past 32 and 128: the whole address */
	c->v6_prefix = in_u8(r) % 140;
}

struct client {
	struct sockaddr_storage ss;
	socklen_t len;
	struct prefix p;	/* what the store should key on */
	bool ok;		/* IPv4 or IPv6 */
};

/* One byte picks a client among four networks of sixteen hosts, so that
 * triplets and networks collide: bits 0-1 the kind (IPv4, IPv6, IPv4-mapped
 * IPv6, neither), 2-3 the network, 4-7 the host. */
static void
read_client(struct in *r, struct client *cl)
{
	uint8_t b = in_u8(r), net = (b >> 2) & 3, host = b >> 4;
	memset(cl, 0, sizeof *cl);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&cl->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cl->ss;
	const uint8_t v4[4] = { 192, 0, (uint8_t)(2 + net), (uint8_t)(host * 17) };
	cl->ok = true;
	switch (b & 3) {
	case 0:
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, v4, 4);
		cl->len = sizeof *s4;
		cl->p = (struct prefix){ .family = AF_INET, .len = 32 };
		memcpy(cl->p.addr, v4, 4);
		return;
	case 1:
		s6->sin6_family = AF_INET6;
		memcpy(s6->sin6_addr.s6_addr, "\x20\x01\x0d\xb8", 4);
		s6->sin6_addr.s6_addr[6] = net;
		s6->sin6_addr.s6_addr[9] = host;	/* one /64 and /72, many /80s */
		s6->sin6_addr.s6_addr[15] = host;
		cl->len = sizeof *s6;
		cl->p = (struct prefix){ .family = AF_INET6, .len = 128 };
		memcpy(cl->p.addr, s6->sin6_addr.s6_addr, 16);
		return;
	case 2:
		s6->sin6_family = AF_INET6;
		memcpy(s6->sin6_addr.s6_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		memcpy(s6->sin6_addr.s6_addr + 12, v4, 4);
		cl->len = sizeof *s6;
		cl->p = (struct prefix){ .family = AF_INET, .len = 32 };
		memcpy(cl->p.addr, v4, 4);
		return;
	default:
		/* a Unix socket, or an IPv4 address one byte short */
		cl->ok = false;
		if (net & 1) {
			cl->ss.ss_family = AF_UNIX;
			cl->len = sizeof(struct sockaddr_un);
		} else {
			s4->sin_family = AF_INET;
			cl->len = sizeof *s4 - 1;
		}
		return;
	}
}

/* An address: a few fixed ones (two spellings of one, the null sender, a
 * non-ASCII one), the longest allowed, one byte too long, NULL, or up to
 * 255 bytes of input (cut at a NUL).  buf holds GREY_ADDR_MAX + 2 bytes. */
static const char *
read_addr(struct in *r, char *buf)
{
	static const char *const fixed[] = {
		"", "alice@example.org", "Alice@Example.ORG", "bob@example.net",
		"\xc3\xa9t\xc3\xa9@example.org",
	};
	uint8_t b = in_u8(r) % 12;
	if (b < sizeof fixed / sizeof fixed[0])
		return fixed[b];
	switch (b) {
	case 5:
	case 6:
		memset(buf, b == 5 ? 'x' : 'y', GREY_ADDR_MAX + 1);
		buf[b == 5 ? GREY_ADDR_MAX : GREY_ADDR_MAX + 1] = '\0';
		return buf;
	case 7:
		return NULL;
	default: {
		size_t n = in_u8(r);
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)in_u8(r);
		buf[n] = '\0';
		return buf;
	}
	}
}

static bool
addr_ok(const char *a)
{
	return a != NULL && strlen(a) <= GREY_ADDR_MAX;
}

/* ASCII upper case: the store lowercases, so this is the same triplet */
static const char *
upper(const char *a, char *buf)
{
	if (a == NULL)
		return NULL;
	size_t i = 0;
	for (; a[i] != '\0'; i++)
		buf[i] = a[i] >= 'a' && a[i] <= 'z' ? (char)(a[i] - 'a' + 'A') : a[i];
	buf[i] = '\0';
	return buf;
}

/* --- checks -------------------------------------------------------------- */

struct answer {
	enum grey_result res;
	unsigned retry_in;
	const char *state;
	char net[PREFIX_TEXT_MAX];
	char err[256];
};

static bool
is(const char *state, const char *name)
{
	return strcmp(state, name) == 0;
}

/* The answer's fields agree with each other, with the configuration and
 * with the contract's list of errors. */
static void
check_answer(const struct answer *a, const struct greylist_conf *c, const struct client *cl,
    bool key_ok)
{
	unsigned dmin = c->delay > 0 ? c->delay : 1;
	assert(a->state != NULL);
	assert(memchr(a->net, '\0', sizeof a->net) != NULL);
	assert((a->net[0] != '\0') == key_ok);
	if (key_ok) {
		struct prefix p;
		assert(prefix_parse(a->net, &p) && prefix_contains(&p, &cl->p));
	}
	switch (a->res) {
	case GREY_ERROR:
		assert(!key_ok || c->window <= c->delay);
		assert(is(a->state, "error") && a->retry_in == 0 && a->err[0] != '\0');
		return;
	case GREY_WAIT:
		assert(key_ok && c->window > c->delay);
		assert(a->retry_in >= 1 && a->retry_in <= dmin);
		assert(is(a->state, "early") ||
		    ((is(a->state, "new") || is(a->state, "expired")) && a->retry_in == dmin));
		return;
	case GREY_PASS:
		assert(key_ok && c->window > c->delay);
		/* "known" even with keep 0 after the clock stepped back past
		 * the last pass */
		assert(is(a->state, "passed") || is(a->state, "known") ||
		    (is(a->state, "auto-allowed") && c->auto_allow > 0));
		return;
	}
	abort();	/* not one of the three results */
}

static void
ask(struct greylist *g, const struct greylist_conf *c, const struct client *cl,
    const char *sender, const char *rcpt, time_t now, struct answer *a)
{
	memset(a, 0, sizeof *a);
	a->retry_in = 77;	/* must be overwritten */
	a->res = greylist_check(g, c, &cl->ss, cl->len, sender, rcpt, now, &a->retry_in,
	    &a->state, a->net, a->err, sizeof a->err);
	check_answer(a, c, cl, cl->ok && addr_ok(sender) && addr_ok(rcpt));
}

/* What a second try of the same triplet at the same instant must say. */
static void
check_repeat(const struct answer *first, const struct answer *again,
    const struct greylist_conf *c, time_t now)
{
	if (first->res == GREY_PASS) {
		/* Known imperfection: tri_put() stores a pass time below 0 as
		 * NULL ("not passed yet"), so a pass before 1970 is not
		 * remembered.  No clock says that; the rest is checked there. */
		assert(c->keep == 0 || now < 0 || again->res == GREY_PASS);
	} else if (is(first->state, "early")) {
		assert(again->res == GREY_WAIT && is(again->state, "early") &&
		    again->retry_in == first->retry_in);
	} else if (c->delay > 0) {
		assert(again->res == GREY_WAIT && is(again->state, "early") &&
		    again->retry_in == c->delay);
	} else {
		assert(again->res == GREY_PASS && is(again->state, "passed"));
	}
}

static long
total(struct greylist *g)
{
	long pending, passed, networks;
	assert(greylist_counts(g, &pending, &passed, &networks) == 0);
	assert(pending >= 0 && passed >= 0 && networks >= 0);
	return pending + passed + networks;
}

static void
purge(struct greylist *g, const struct greylist_conf *c, time_t now)
{
	char err[256];
	long before = total(g);
	long n = greylist_purge(g, c, now, err, sizeof err);
	assert(n >= 0 && n == before - total(g));
}

/* --- operations ---------------------------------------------------------- */

struct run {
	struct greylist *g;
	struct greylist_conf c;
	time_t now;
};

/*
 * After a first try at st->now, walk the triplet's life through the
 * header's boundaries (the clock moves to the last probe).  Before 1970
 * the store cannot keep a pass (see check_repeat); with auto-allow on, a
 * pass may allow the network, which then answers for the triplet.
 */
static void
probe(struct run *st, const struct client *cl, const char *sender, const char *rcpt,
    const struct answer *a)
{
	const struct greylist_conf *c = &st->c;
	struct answer b;
	if (a->res != GREY_WAIT || is(a->state, "early") || c->delay == 0 || st->now < 0 ||
	    st->now > INT64_MAX / 2)
		return;
	time_t first = st->now, last;
	ask(st->g, c, cl, sender, rcpt, first + c->delay - 1, &b);
	assert(b.res == GREY_WAIT && is(b.state, "early") && b.retry_in == 1);
	first += c->window;
	ask(st->g, c, cl, sender, rcpt, first, &b);
	assert(b.res == GREY_WAIT && is(b.state, "expired") && b.retry_in == c->delay);
	last = first + c->delay;
	ask(st->g, c, cl, sender, rcpt, last, &b);
	assert(b.res == GREY_PASS && is(b.state, "passed"));
	st->now = last;
	if (c->auto_allow == 1 && c->keep > 0) {
		/* one live pass allows the network: a new triplet passes */
		ask(st->g, c, cl, sender, "probe@example.net", last, &b);
		assert(b.res == GREY_PASS && is(b.state, "auto-allowed"));
	}
	if (c->auto_allow > 0 || c->keep == 0)
		return;
	last += c->keep - 1;
	ask(st->g, c, cl, sender, rcpt, last, &b);
	assert(b.res == GREY_PASS && is(b.state, "known"));
	st->now = last + c->keep;
	ask(st->g, c, cl, sender, rcpt, st->now, &b);
	assert(b.res == GREY_WAIT && is(b.state, "new"));
}

static void
op_check(struct run *st, struct in *r, unsigned arg, bool probing)
{
	char sbuf[GREY_ADDR_MAX + 2], rbuf[GREY_ADDR_MAX + 2];
	char sup[GREY_ADDR_MAX + 2], rup[GREY_ADDR_MAX + 2];
	struct client cl;
	struct answer a, again;
	/* a small step each time: several tries cross delay and window */
	if (st->now <= INT64_MAX - 124)
		st->now += 4 * (time_t)arg;
	read_client(r, &cl);
	const char *sender = read_addr(r, sbuf), *rcpt = read_addr(r, rbuf);
	ask(st->g, &st->c, &cl, sender, rcpt, st->now, &a);
	if (a.res == GREY_ERROR)
		return;
	ask(st->g, &st->c, &cl, upper(sender, sup), upper(rcpt, rup), st->now, &again);
	check_repeat(&a, &again, &st->c, st->now);
	if (probing)
		probe(st, &cl, sender, rcpt, &a);
}

static void
op_reopen(struct run *st)
{
	char err[256];
	long before = total(st->g);
	greylist_close(&st->g);
	assert(st->g == NULL);
	st->g = greylist_open(db_path, err, sizeof err);
	assert(st->g != NULL);
	assert(total(st->g) == before);
}

/* Clock steps forward, back (an NTP step), and to the ends of time_t,
 * which the store must survive without signed overflow. */
static void
op_clock(struct run *st, struct in *r, unsigned arg)
{
	if (arg < 16) {
		if (st->now <= INT64_MAX - 1024)
			st->now += 64 * (time_t)arg;
	} else if (arg < 24) {
		if (st->now >= INT64_MIN + 1024)
			st->now -= 16 * (time_t)(arg - 15);
	} else if (arg == 24) {
		st->now = INT64_MAX;
	} else if (arg == 25) {
		st->now = INT64_MIN;
	} else if (arg == 26) {
		st->now = 0;
	} else if (arg == 27) {
		st->now = T0;
	} else {
		st->now = in_i64(r);
	}
}

static void
run_ops(struct in *r)
{
	char err[256];
	struct run st = { .now = T0 };
	st.g = greylist_open(db_path, err, sizeof err);
	if (st.g == NULL) {
		fprintf(stderr, "fuzz_greylist: %s\n", err);
		abort();
	}
	read_conf(r, &st.c);
	for (int n = 0; n < OPS_MAX && r->p < r->end; n++) {
		uint8_t op = in_u8(r);
		unsigned arg = op >> 3;
		switch (op & 7) {
		case 0: case 1:
			op_check(&st, r, arg, false);
			break;
		case 2:
			op_check(&st, r, arg, true);
			break;
		case 3:
			purge(st.g, &st.c, st.now);
			break;
		case 4:
			(void)total(st.g);
			break;
		case 5:
			op_reopen(&st);
			break;
		case 6:
			read_conf(r, &st.c);
			break;
		default:
			op_clock(&st, r, arg);
			break;
		}
	}
	/* window and keep 0 at the end of time: every row has expired */
	struct greylist_conf zero = { 0 };
	purge(st.g, &zero, INT64_MAX);
	assert(total(st.g) == 0);
	greylist_close(&st.g);
}

/* A file that is not our store is refused with a reason; one that opens
 * (ours, perhaps damaged) answers within the contract or with an error. */
static void
run_file(const uint8_t *data, size_t size)
{
	char err[256] = "";
	write_store(data, size);
	struct greylist *g = greylist_open(db_path, err, sizeof err);
	if (g == NULL) {
		assert(strncmp(err, "greylist", 8) == 0);
		return;
	}
	static const struct greylist_conf c = { 300, 14400, 35 * 86400, 2, 24, 64 };
	static const uint8_t zero = 0;
	struct in r = { &zero, &zero + 1 };
	struct client cl;
	read_client(&r, &cl);	/* 192.0.2.0 */
	for (int i = 0; i < 3; i++) {
		struct answer a;
		memset(&a, 0, sizeof a);
		a.res = greylist_check(g, &c, &cl.ss, cl.len, "a@example.org", "b@example.net",
		    T0 + i * 400, &a.retry_in, &a.state, a.net, a.err, sizeof a.err);
		/* a damaged file may fail any statement, but says so */
		if (a.res == GREY_ERROR)
			assert(is(a.state, "error") && a.err[0] != '\0');
		else
			check_answer(&a, &c, &cl, true);
	}
	long pending, passed, networks;
	(void)greylist_counts(g, &pending, &passed, &networks);
	if (greylist_purge(g, &c, T0 + 86400 * 100, err, sizeof err) < 0)
		assert(err[0] != '\0');
	greylist_close(&g);
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

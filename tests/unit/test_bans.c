/*
 * Unit tests: policy/bans (scores, automatic and manual bans, the SQLite
 * store).  Every test works in its own mkdtemp() directory, removed after.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/prefix.h"
#include "core/util.h"
#include "policy/bans.h"
#include "t.h"

static char dir[64];
static char *db_path;
static char err[256];

/* Bans loaded at open are those active at the wall clock, so the tests
 * start from it. */
static time_t t0;

static struct bans *
open_new(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_bans.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	free(db_path);
	db_path = xasprintf("%s/bans.db", dir);
	err[0] = '\0';
	struct bans *b = bans_open(db_path, err, sizeof err);
	CHECK(b != NULL);
	CHECK_STR(err, "");
	return b;
}

static struct bans *
reopen(struct bans **b)
{
	bans_close(b);
	CHECK(*b == NULL);
	struct bans *n = bans_open(db_path, err, sizeof err);
	CHECK(n != NULL);
	return n;
}

static void
remove_dir(void)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < NELEM(ext); i++) {
		char *p = xasprintf("%s%s", db_path, ext[i]);
		unlink(p);
		free(p);
	}
	CHECK_INT(rmdir(dir), 0);
}

static struct prefix
P(const char *s)
{
	struct prefix p;
	memset(&p, 0, sizeof p);
	CHECK(prefix_parse(s, &p));
	return p;
}

static bool
banned(const struct bans *b, const char *addr, time_t now)
{
	struct prefix a = P(addr);
	return bans_check(b, &a, now, NULL);
}

static int
event(struct bans *b, const struct ban_conf *c, const char *addr, enum ban_event ev,
    time_t now, unsigned *score, struct ban_info *info)
{
	struct prefix a = P(addr);
	return bans_event(b, c, &a, ev, now, score, info, err, sizeof err);
}

static int
add(struct bans *b, const char *what, time_t now, time_t until, const char *reason)
{
	struct prefix p = P(what);
	return bans_add(b, &p, now, until, reason, err, sizeof err);
}

T(test_event_names)
{
	for (int e = 0; e < BAN_EV__MAX; e++)
		CHECK_INT(ban_event_parse(ban_event_name((enum ban_event)e)), e);
	CHECK_STR(ban_event_name(BAN_EV_UNKNOWN_RCPT), "unknown-recipient");
	CHECK_STR(ban_event_name(BAN_EV_BLOCKLIST), "blocklist");
	CHECK_STR(ban_event_name(BAN_EV__MAX), "?");
	CHECK_INT(ban_event_parse("relay"), BAN_EV_RELAY);
	CHECK_INT(ban_event_parse("Relay"), -1);
	CHECK_INT(ban_event_parse(""), -1);
	CHECK_INT(ban_event_parse(NULL), -1);
	struct ban_conf c;
	ban_conf_defaults(&c);
	CHECK_INT(c.points[BAN_EV_RELAY], 5);
	CHECK_INT(c.points[BAN_EV_PROTOCOL], 1);
	CHECK_INT(c.points[BAN_EV_BLOCKLIST], 3);
	CHECK_INT(c.threshold, 10);
	CHECK_INT(c.max_duration, 30 * 86400);
}

T(test_threshold_exact)
{
	struct bans *b = open_new();
	struct ban_conf c;
	struct ban_info i;
	unsigned score = 99;
	ban_conf_defaults(&c);
	CHECK_INT(event(b, &c, "192.0.2.7", BAN_EV_RELAY, t0, &score, &i), 0);
	CHECK_INT(score, 5);
	CHECK(!banned(b, "192.0.2.7", t0));
	CHECK_INT(event(b, &c, "192.0.2.7", BAN_EV_RELAY, t0 + 10, &score, &i), 1);
	CHECK_INT(score, 10);
	CHECK_STR(i.reason, "auto: relay=2");
	CHECK_INT(i.since, t0 + 10);
	CHECK_INT(i.until, t0 + 10 + 3600);
	CHECK_INT(i.count, 1);
	struct ban_info got;
	struct prefix a = P("192.0.2.7");
	CHECK(bans_check(b, &a, t0 + 11, &got));
	CHECK_STR(got.reason, "auto: relay=2");
	CHECK(!banned(b, "192.0.2.8", t0 + 11));
	/* the ban expires at until */
	CHECK(banned(b, "192.0.2.7", t0 + 10 + 3599));
	CHECK(!banned(b, "192.0.2.7", t0 + 10 + 3600));
	/* 9 points do not ban; mixed events are named in the reason */
	CHECK_INT(event(b, &c, "192.0.2.9", BAN_EV_RELAY, t0, &score, NULL), 0);
	for (int k = 0; k < 4; k++)
		CHECK_INT(event(b, &c, "192.0.2.9", BAN_EV_UNKNOWN_RCPT, t0, &score, NULL), 0);
	CHECK_INT(score, 9);
	CHECK_INT(event(b, &c, "192.0.2.9", BAN_EV_PROTOCOL, t0, &score, &i), 1);
	CHECK_STR(i.reason, "auto: relay=1 unknown-recipient=4 protocol-error=1");
	/* events of a banned address are not counted */
	CHECK_INT(event(b, &c, "192.0.2.9", BAN_EV_RELAY, t0 + 1, &score, NULL), 0);
	CHECK_INT(score, 0);
	bans_close(&b);
	remove_dir();
}

T(test_window)
{
	struct bans *b = open_new();
	struct ban_conf c;
	unsigned score;
	ban_conf_defaults(&c);
	CHECK_INT(event(b, &c, "198.51.100.1", BAN_EV_RELAY, t0, &score, NULL), 0);
	/* the first points are a window old: forgotten */
	CHECK_INT(event(b, &c, "198.51.100.1", BAN_EV_RELAY, t0 + 86400, &score, NULL), 0);
	CHECK_INT(score, 5);
	CHECK(!banned(b, "198.51.100.1", t0 + 86400));
	CHECK_INT(event(b, &c, "198.51.100.1", BAN_EV_RELAY, t0 + 86400 + 86399, &score, NULL),
	    1);
	/* threshold 0 turns automatic bans off; points 0 do not count */
	c.threshold = 0;
	for (int k = 0; k < 10; k++)
		CHECK_INT(event(b, &c, "198.51.100.2", BAN_EV_RELAY, t0, &score, NULL), 0);
	ban_conf_defaults(&c);
	c.points[BAN_EV_VRFY] = 0;
	CHECK_INT(event(b, &c, "198.51.100.3", BAN_EV_VRFY, t0, &score, NULL), 0);
	CHECK_INT(score, 0);
	/* bad arguments */
	struct prefix net = P("198.51.100.0/24");
	CHECK_INT(bans_event(b, &c, &net, BAN_EV_RELAY, t0, &score, NULL, err, sizeof err), -1);
	CHECK_STR(err, "bad event or address");
	struct prefix a = P("198.51.100.4");
	CHECK_INT(bans_event(b, &c, &a, BAN_EV__MAX, t0, &score, NULL, err, sizeof err), -1);
	bans_close(&b);
	remove_dir();
}

/* Ban 192.0.2.50 at now with two relay events. */
static int
relay_twice(struct bans *b, const struct ban_conf *c, time_t now, struct ban_info *i)
{
	CHECK_INT(event(b, c, "192.0.2.50", BAN_EV_RELAY, now, NULL, NULL), 0);
	return event(b, c, "192.0.2.50", BAN_EV_RELAY, now, NULL, i);
}

T(test_repeat_doubles_and_survives)
{
	struct bans *b = open_new();
	struct ban_conf c;
	struct ban_info i, got;
	ban_conf_defaults(&c);
	c.max_duration = 3 * 3600;
	CHECK_INT(relay_twice(b, &c, t0, &i), 1);
	CHECK_INT(i.until - i.since, 3600);
	CHECK_INT(i.count, 1);
	/* a restart keeps the active ban */
	b = reopen(&b);
	struct prefix a = P("192.0.2.50");
	CHECK(bans_check(b, &a, t0 + 1, &got));
	CHECK_INT(got.count, 1);
	CHECK_INT(got.until, t0 + 3600);
	CHECK_STR(got.reason, "auto: relay=2");
	/* second ban twice as long */
	time_t t1 = t0 + 3600;
	CHECK(!banned(b, "192.0.2.50", t1));
	CHECK_INT(relay_twice(b, &c, t1, &i), 1);
	CHECK_INT(i.count, 2);
	CHECK_INT(i.until - i.since, 7200);
	/* third after a restart: the count comes from the store; 4 h capped at 3 h */
	b = reopen(&b);
	CHECK(bans_check(b, &a, t0 + 1, &got));
	CHECK_INT(got.count, 2);
	time_t t2 = t1 + 7200;
	CHECK_INT(relay_twice(b, &c, t2, &i), 1);
	CHECK_INT(i.count, 3);
	CHECK_INT(i.until - i.since, 3 * 3600);
	/* history older than a year is forgotten: the count starts over */
	time_t t3 = i.until + BANS_HISTORY + 1;
	CHECK_INT(relay_twice(b, &c, t3, &i), 1);
	CHECK_INT(i.count, 1);
	CHECK_INT(i.until - i.since, 3600);
	bans_close(&b);
	remove_dir();
}

T(test_ipv6_per_64)
{
	struct bans *b = open_new();
	struct ban_conf c;
	struct ban_info i;
	unsigned score;
	ban_conf_defaults(&c);
	CHECK_INT(event(b, &c, "2001:db8:1:2::1", BAN_EV_RELAY, t0, &score, NULL), 0);
	CHECK_INT(event(b, &c, "2001:db8:1:2:ffff::9", BAN_EV_RELAY, t0, &score, &i), 1);
	CHECK_INT(score, 10);
	char text[PREFIX_TEXT_MAX];
	prefix_text(&i.what, text);
	CHECK_STR(text, "2001:db8:1:2::/64");
	CHECK(banned(b, "2001:db8:1:2::1", t0));
	CHECK(banned(b, "2001:db8:1:2:abcd::77", t0));
	CHECK(!banned(b, "2001:db8:1:3::1", t0));
	CHECK(!banned(b, "192.0.2.1", t0));
	/* an IPv4-mapped address is the IPv4 address, never ::ffff:0:0/64 */
	CHECK_INT(event(b, &c, "::ffff:192.0.2.33", BAN_EV_RELAY, t0, NULL, NULL), 0);
	CHECK_INT(event(b, &c, "192.0.2.33", BAN_EV_RELAY, t0, NULL, &i), 1);
	prefix_text(&i.what, text);
	CHECK_STR(text, "192.0.2.33");
	CHECK(banned(b, "::ffff:192.0.2.33", t0));
	struct prefix junk = P("192.0.2.33");	/* bytes past an IPv4 address are ignored */
	memset(junk.addr + 4, 0xee, 12);
	CHECK(bans_check(b, &junk, t0, NULL));
	CHECK(!banned(b, "::ffff:192.0.2.34", t0));
	bans_close(&b);
	remove_dir();
}

T(test_manual)
{
	struct bans *b = open_new();
	struct ban_conf c;
	struct ban_info got;
	ban_conf_defaults(&c);
	CHECK_INT(add(b, "198.51.100.0/24", t0, t0 + 600, "spam run"), 0);
	CHECK(banned(b, "198.51.100.0", t0));
	CHECK(banned(b, "198.51.100.255", t0));
	CHECK(!banned(b, "198.51.101.1", t0));
	CHECK(!banned(b, "198.51.99.255", t0));
	CHECK(!banned(b, "198.51.100.1", t0 + 600));
	/* for ever, and the longest match is the one reported */
	CHECK_INT(add(b, "198.51.0.0/16", t0, 0, "whole network"), 0);
	CHECK_INT(add(b, "2001:db8::/32", t0, 0, "v6 net"), 0);
	struct prefix a = P("198.51.100.9");
	CHECK(bans_check(b, &a, t0 + 1, &got));
	CHECK_STR(got.reason, "spam run");
	CHECK(bans_check(b, &a, t0 + 100 * 365 * 86400L, &got));
	CHECK_STR(got.reason, "whole network");
	CHECK_INT(got.until, 0);
	CHECK(banned(b, "2001:db8:ffff::1", t0 + 1000000000));
	CHECK(!banned(b, "2001:db9::1", t0));
	/* refused: host bits, an end in the past */
	struct prefix bad = P("192.0.2.0/24");
	bad.addr[3] = 1;
	CHECK_INT(bans_add(b, &bad, t0, 0, "x", err, sizeof err), -1);
	CHECK_STR(err, "not a prefix (are host bits set?)");
	CHECK_INT(add(b, "192.0.2.0/24", t0, t0, "x"), -1);
	/* removal: exact prefix; points go with it, even without a ban */
	unsigned score;
	CHECK_INT(event(b, &c, "203.0.113.5", BAN_EV_RELAY, t0, NULL, NULL), 0);
	CHECK_INT(add(b, "203.0.113.5", t0, 0, "by hand"), 0);
	struct prefix d = P("203.0.113.5");
	CHECK_INT(bans_del(b, &d, err, sizeof err), 0);
	CHECK_INT(bans_del(b, &d, err, sizeof err), 1);
	CHECK(!banned(b, "203.0.113.5", t0));
	CHECK_INT(event(b, &c, "203.0.113.5", BAN_EV_RELAY, t0, &score, NULL), 0);
	CHECK_INT(bans_del(b, &d, err, sizeof err), 1);
	CHECK_INT(event(b, &c, "203.0.113.5", BAN_EV_RELAY, t0, &score, NULL), 0);
	CHECK_INT(score, 5);
	/* an IPv6 /128 removal clears the score of its /64 */
	CHECK_INT(event(b, &c, "2001:db9::1", BAN_EV_RELAY, t0, NULL, NULL), 0);
	d = P("2001:db9::2");
	CHECK_INT(bans_del(b, &d, err, sizeof err), 1);
	CHECK_INT(event(b, &c, "2001:db9::3", BAN_EV_RELAY, t0, &score, NULL), 0);
	CHECK_INT(score, 5);
	struct prefix sixteen = P("198.51.0.0/16");
	CHECK_INT(bans_del(b, &sixteen, err, sizeof err), 0);
	CHECK(!banned(b, "198.51.7.1", t0));
	CHECK(banned(b, "198.51.100.1", t0));
	/* all of it after a restart, for-ever ban included */
	b = reopen(&b);
	CHECK(banned(b, "198.51.100.1", t0));
	CHECK(!banned(b, "198.51.7.1", t0));
	CHECK(banned(b, "2001:db8::1", t0 + 1000000000));
	CHECK(!banned(b, "203.0.113.5", t0));
	bans_close(&b);
	remove_dir();
}

struct listed {
	char text[8][PREFIX_TEXT_MAX];
	char reason[8][128];
	size_t n, stop;
};

static int
collect(const struct ban_info *i, void *arg)
{
	struct listed *l = arg;
	if (l->n < 8) {
		prefix_text(&i->what, l->text[l->n]);
		snprintf(l->reason[l->n], sizeof l->reason[0], "%s", i->reason);
	}
	return ++l->n == l->stop;
}

T(test_list)
{
	struct bans *b = open_new();
	CHECK_INT(add(b, "2001:db8::/32", t0, 0, "d"), 0);
	CHECK_INT(add(b, "198.51.100.0/24", t0, t0 + 60, "c"), 0);
	CHECK_INT(add(b, "192.0.2.1", t0, t0 + 60, "b"), 0);
	CHECK_INT(add(b, "10.0.0.0/8", t0, 0, "a"), 0);
	CHECK_INT(add(b, "10.0.0.0/16", t0, t0 + 60, "a2"), 0);
	CHECK_INT(add(b, "203.0.113.0/24", t0, t0 + 1, "ended"), 0);
	struct listed l;
	memset(&l, 0, sizeof l);
	bans_list(b, t0 + 1, collect, &l);
	CHECK_INT(l.n, 5);
	CHECK_STR(l.text[0], "10.0.0.0/8");
	CHECK_STR(l.text[1], "10.0.0.0/16");
	CHECK_STR(l.text[2], "192.0.2.1");
	CHECK_STR(l.text[3], "198.51.100.0/24");
	CHECK_STR(l.text[4], "2001:db8::/32");
	CHECK_STR(l.reason[0], "a");
	CHECK_STR(l.reason[4], "d");
	memset(&l, 0, sizeof l);
	l.stop = 2;
	bans_list(b, t0 + 1, collect, &l);
	CHECK_INT(l.n, 2);
	/* purge drops ended bans from memory, history only after a year */
	CHECK_INT(bans_purge(b, t0 + 61, err, sizeof err), 0);
	memset(&l, 0, sizeof l);
	bans_list(b, t0 + 61, collect, &l);
	CHECK_INT(l.n, 2);
	CHECK_INT(bans_purge(b, t0 + 61 + BANS_HISTORY, err, sizeof err), 4);
	struct prefix h = P("203.0.113.0/24");
	CHECK_INT(bans_del(b, &h, err, sizeof err), 1);
	bans_close(&b);
	remove_dir();
}

T(test_bounded_scores)
{
	struct bans *b = open_new();
	struct ban_conf c;
	ban_conf_defaults(&c);
	bans_set_max_tracked(b, 100);
	/* 9 points: one more relay bans it, if a flood does not wash it out */
	CHECK_INT(event(b, &c, "192.0.2.200", BAN_EV_RELAY, t0, NULL, NULL), 0);
	for (int k = 0; k < 4; k++)
		CHECK_INT(event(b, &c, "192.0.2.200", BAN_EV_UNKNOWN_RCPT, t0, NULL, NULL), 0);
	size_t most = 0;
	struct prefix a = P("10.0.0.0");
	for (uint32_t k = 0; k < 200000; k++) {
		a.addr[1] = (uint8_t)(k >> 16);
		a.addr[2] = (uint8_t)(k >> 8);
		a.addr[3] = (uint8_t)k;
		CHECK_INT(bans_event(b, &c, &a, BAN_EV_UNKNOWN_RCPT, t0 + 1, NULL, NULL, err,
		    sizeof err), 0);
		if (bans_tracked(b) > most)
			most = bans_tracked(b);
	}
	CHECK_INT(most, 100);
	CHECK_INT(event(b, &c, "192.0.2.200", BAN_EV_UNKNOWN_RCPT, t0 + 2, NULL, NULL), 1);
	bans_set_max_tracked(b, 10);
	CHECK_INT(bans_tracked(b), 10);
	bans_close(&b);
	remove_dir();
}

/* Run one statement on the store behind the module's back. */
static void
sql(const char *stmt)
{
	sqlite3 *db = NULL;
	CHECK_INT(sqlite3_open(db_path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

T(test_bad_store)
{
	struct bans *b = open_new();
	bans_close(&b);
	struct stat st;
	CHECK_INT(stat(db_path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	remove_dir();

	/* garbage in the file: an error, never a crash */
	snprintf(dir, sizeof dir, "/tmp/test_bans.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	free(db_path);
	db_path = xasprintf("%s/bans.db", dir);
	FILE *f = fopen(db_path, "w");
	CHECK(f != NULL);
	for (int k = 0; k < 500; k++)
		fputs("this is not a database\n", f);
	fclose(f);
	err[0] = '\0';
	CHECK(bans_open(db_path, err, sizeof err) == NULL);
	char *want = xasprintf("%s: file is not a database", db_path);
	CHECK_STR(err, want);
	free(want);
	/* a directory */
	unlink(db_path);
	CHECK_INT(mkdir(db_path, 0700), 0);
	CHECK(bans_open(db_path, err, sizeof err) == NULL);
	want = xasprintf("%s: Is a directory", db_path);
	CHECK_STR(err, want);
	free(want);
	rmdir(db_path);
	/* an SQLite file with another table bans, and our table with a row
	 * we never wrote */
	sql("CREATE TABLE bans (who TEXT)");
	CHECK(bans_open(db_path, err, sizeof err) == NULL);
	want = xasprintf("%s: no such column: prefix", db_path);
	CHECK_STR(err, want);
	free(want);
	unlink(db_path);
	struct bans *x = bans_open(db_path, err, sizeof err);
	CHECK(x != NULL);
	bans_close(&x);
	sql("INSERT INTO bans VALUES ('192.0.2.1/24', 0, 0, 0, '')");
	CHECK(bans_open(db_path, err, sizeof err) == NULL);
	want = xasprintf("%s: a row of table bans is not a ban", db_path);
	CHECK_STR(err, want);
	free(want);
	remove_dir();
}

int
main(void)
{
	t0 = time(NULL);
	RUN(test_event_names);
	RUN(test_threshold_exact);
	RUN(test_window);
	RUN(test_repeat_doubles_and_survives);
	RUN(test_ipv6_per_64);
	RUN(test_manual);
	RUN(test_list);
	RUN(test_bounded_scores);
	RUN(test_bad_store);
	free(db_path);
	return t_done("bans");
}

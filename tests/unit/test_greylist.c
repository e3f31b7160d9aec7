/*
 * Unit tests: policy/greylist (the greylisting store).  Every test works
 * on files in one mkdtemp() directory, removed at the end.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "policy/greylist.h"
#include "t.h"

#define T0	1700000000	/* the first try in most tests */
#define DAY	86400

static char dir[64];
static char path[128];
static int n_db;

static const struct greylist_conf conf = {
	.delay = 300, .window = 14400, .keep = 35 * DAY, .auto_allow = 0,
	.v4_prefix = 24, .v6_prefix = 64,
};

/* A fresh database path in the test directory. */
static const char *
new_path(void)
{
	snprintf(path, sizeof path, "%s/grey%d.db", dir, n_db++);
	return path;
}

static struct greylist *
open_new(void)
{
	char err[256] = "";
	struct greylist *g = greylist_open(new_path(), err, sizeof err);
	if (g == NULL)
		fprintf(stderr, "greylist_open: %s\n", err);
	CHECK(g != NULL);
	return g;
}

static struct sockaddr_storage
addr(const char *ip, socklen_t *len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &a->sin6_addr);
		*len = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &a->sin_addr);
		*len = sizeof *a;
	}
	return ss;
}

/* The result of one check; its state, retry and network in the globals. */
static const char *st;
static unsigned retry;
static char net[PREFIX_TEXT_MAX];
static char err[256];

static enum grey_result
chk_c(struct greylist *g, const struct greylist_conf *c, const char *ip, const char *from,
    const char *to, time_t now)
{
	socklen_t len;
	struct sockaddr_storage ss = addr(ip, &len);
	err[0] = '\0';
	enum grey_result r = greylist_check(g, c, &ss, len, from, to, now, &retry, &st, net, err,
	    sizeof err);
	if (r == GREY_ERROR)
		fprintf(stderr, "(greylist_check error: %s)\n", err);
	return r;
}

static enum grey_result
chk(struct greylist *g, const char *ip, const char *from, const char *to, time_t now)
{
	return chk_c(g, &conf, ip, from, to, now);
}

/* Bring one triplet through the greylist: first try at t, pass at t + delay. */
static void
pass_through(struct greylist *g, const struct greylist_conf *c, const char *ip,
    const char *from, const char *to, time_t t)
{
	CHECK_INT(chk_c(g, c, ip, from, to, t), GREY_WAIT);
	CHECK_INT(chk_c(g, c, ip, from, to, t + c->delay), GREY_PASS);
	CHECK_STR(st, "passed");
}

T(test_first_try_new)
{
	struct greylist *g = open_new();
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0), GREY_WAIT);
	CHECK_STR(st, "new");
	CHECK_INT(retry, 300);
	CHECK_STR(net, "192.0.2.0/24");
	long p = -1, d = -1, n = -1;
	CHECK_INT(greylist_counts(g, &p, &d, &n), 0);
	CHECK_INT(p, 1);
	CHECK_INT(d, 0);
	CHECK_INT(n, 0);
	/* a second try at once is early, the first-try time is not moved */
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0 + 10), GREY_WAIT);
	CHECK_STR(st, "early");
	CHECK_INT(retry, 290);
	greylist_close(&g);
	CHECK(g == NULL);
	greylist_close(&g);	/* closing twice is harmless */
}

T(test_early_then_passed)
{
	struct greylist *g = open_new();
	chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0);
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0 + 299), GREY_WAIT);
	CHECK_STR(st, "early");
	CHECK_INT(retry, 1);
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0 + 300), GREY_PASS);
	CHECK_STR(st, "passed");
	long p, d, n;
	CHECK_INT(greylist_counts(g, &p, &d, &n), 0);
	CHECK_INT(p, 0);
	CHECK_INT(d, 1);
	greylist_close(&g);
}

/* Each "known" pass refreshes: two steps of keep - 1 stay known, though
 * the second is long past keep after the first pass. */
T(test_known_refreshes)
{
	struct greylist *g = open_new();
	pass_through(g, &conf, "192.0.2.7", "a@example.net", "b@example.org", T0);
	time_t t = T0 + 300 + conf.keep - 1;
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", t), GREY_PASS);
	CHECK_STR(st, "known");
	t += conf.keep - 1;
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", t), GREY_PASS);
	CHECK_STR(st, "known");
	/* keep seconds after the last pass it is forgotten: a new first try */
	t += conf.keep;
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", t), GREY_WAIT);
	CHECK_STR(st, "new");
	CHECK_INT(retry, 300);
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", t + 299), GREY_WAIT);
	CHECK_STR(st, "early");
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", t + 300), GREY_PASS);
	CHECK_STR(st, "passed");
	greylist_close(&g);
}

/* The window missed: "expired", and the first-try time restarts at now. */
T(test_window_missed)
{
	struct greylist *g = open_new();
	chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0);
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0 + 14399), GREY_PASS);
	CHECK_STR(st, "passed");
	struct greylist *h = open_new();
	chk(h, "192.0.2.7", "a@example.net", "b@example.org", T0);
	time_t t = T0 + 14400;
	CHECK_INT(chk(h, "192.0.2.7", "a@example.net", "b@example.org", t), GREY_WAIT);
	CHECK_STR(st, "expired");
	CHECK_INT(retry, 300);
	CHECK_INT(chk(h, "192.0.2.7", "a@example.net", "b@example.org", t + 299), GREY_WAIT);
	CHECK_STR(st, "early");
	CHECK_INT(retry, 1);
	CHECK_INT(chk(h, "192.0.2.7", "a@example.net", "b@example.org", t + 300), GREY_PASS);
	CHECK_STR(st, "passed");
	greylist_close(&g);
	greylist_close(&h);
}

T(test_network_shared)
{
	struct greylist *g = open_new();
	chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0);
	CHECK_INT(chk(g, "192.0.2.200", "a@example.net", "b@example.org", T0 + 300), GREY_PASS);
	CHECK_STR(net, "192.0.2.0/24");
	/* an IPv4-mapped IPv6 address counts as IPv4 */
	CHECK_INT(chk(g, "::ffff:192.0.2.9", "a@example.net", "b@example.org", T0 + 400),
	    GREY_PASS);
	CHECK_STR(st, "known");
	CHECK_STR(net, "192.0.2.0/24");
	/* the next /24 is another network */
	CHECK_INT(chk(g, "192.0.3.7", "a@example.net", "b@example.org", T0 + 500), GREY_WAIT);
	CHECK_STR(st, "new");
	CHECK_STR(net, "192.0.3.0/24");
	/* IPv6: one /64 */
	chk(g, "2001:db8:1:2::1", "a@example.net", "b@example.org", T0);
	CHECK_INT(chk(g, "2001:db8:1:2:ffff::9", "a@example.net", "b@example.org", T0 + 300),
	    GREY_PASS);
	CHECK_STR(net, "2001:db8:1:2::/64");
	CHECK_INT(chk(g, "2001:db8:1:3::1", "a@example.net", "b@example.org", T0 + 300),
	    GREY_WAIT);
	CHECK_STR(st, "new");
	/* other prefix lengths from the configuration */
	struct greylist_conf c = conf;
	c.v4_prefix = 32;
	c.v6_prefix = 48;
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "x@example.net", "b@example.org", T0), GREY_WAIT);
	CHECK_STR(net, "192.0.2.7");
	CHECK_INT(chk_c(g, &c, "2001:db8:1:3::1", "x@example.net", "b@example.org", T0),
	    GREY_WAIT);
	CHECK_STR(net, "2001:db8:1::/48");
	greylist_close(&g);
}

T(test_case_insensitive)
{
	struct greylist *g = open_new();
	chk(g, "192.0.2.7", "Alice@Example.NET", "bob@example.org", T0);
	CHECK_INT(chk(g, "192.0.2.7", "alice@example.net", "BOB@EXAMPLE.ORG", T0 + 300),
	    GREY_PASS);
	CHECK_STR(st, "passed");
	/* bytes >= 0x80 are kept as they are: U+00DC and U+00FC differ */
	chk(g, "192.0.2.7", "\xc3\x9c@example.net", "bob@example.org", T0);
	CHECK_INT(chk(g, "192.0.2.7", "\xc3\xbc@example.net", "bob@example.org", T0 + 300),
	    GREY_WAIT);
	CHECK_STR(st, "new");
	CHECK_INT(chk(g, "192.0.2.7", "\xc3\x9c@EXAMPLE.net", "bob@example.org", T0 + 300),
	    GREY_PASS);
	/* the null sender is a sender of its own */
	chk(g, "192.0.2.7", "", "bob@example.org", T0);
	CHECK_INT(chk(g, "192.0.2.7", "", "bob@example.org", T0 + 300), GREY_PASS);
	CHECK_STR(st, "passed");
	greylist_close(&g);
}

T(test_auto_allow)
{
	struct greylist *g = open_new();
	struct greylist_conf c = conf;
	c.auto_allow = 2;
	pass_through(g, &c, "192.0.2.7", "a@example.net", "b@example.org", T0);
	/* one pass is not enough, nor is the same triplet passing again */
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "a@example.net", "b@example.org", T0 + 400),
	    GREY_PASS);
	CHECK_STR(st, "known");
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "c@example.net", "b@example.org", T0 + 500),
	    GREY_WAIT);
	CHECK_STR(st, "new");
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "c@example.net", "b@example.org", T0 + 800),
	    GREY_PASS);
	CHECK_STR(st, "passed");
	long p, d, n;
	CHECK_INT(greylist_counts(g, &p, &d, &n), 0);
	CHECK_INT(n, 1);
	/* two distinct triplets passed: a brand new one from the /24 passes */
	CHECK_INT(chk_c(g, &c, "192.0.2.99", "new@example.com", "z@example.org", T0 + 900),
	    GREY_PASS);
	CHECK_STR(st, "auto-allowed");
	CHECK_INT(retry, 0);
	/* another network is not */
	CHECK_INT(chk_c(g, &c, "198.51.100.1", "new@example.com", "z@example.org", T0 + 900),
	    GREY_WAIT);
	/* each auto-allowed pass refreshes the network */
	time_t t = T0 + 900 + c.keep - 1;
	CHECK_INT(chk_c(g, &c, "192.0.2.1", "q@example.com", "z@example.org", t), GREY_PASS);
	CHECK_STR(st, "auto-allowed");
	CHECK_INT(chk_c(g, &c, "192.0.2.1", "r@example.com", "z@example.org", t + c.keep - 1),
	    GREY_PASS);
	CHECK_STR(st, "auto-allowed");
	/* keep seconds after its last pass the network must earn it again */
	t += 2 * c.keep - 1;
	CHECK_INT(chk_c(g, &c, "192.0.2.1", "s@example.com", "z@example.org", t), GREY_WAIT);
	CHECK_STR(st, "new");
	greylist_close(&g);
}

/* Only live passes count: a triplet forgotten (but not yet purged) does
 * not help its network towards auto_allow. */
T(test_auto_allow_counts_live)
{
	struct greylist *g = open_new();
	struct greylist_conf c = conf;
	c.auto_allow = 2;
	pass_through(g, &c, "192.0.2.7", "a@example.net", "b@example.org", T0);
	time_t t = T0 + 300 + c.keep;
	pass_through(g, &c, "192.0.2.7", "c@example.net", "b@example.org", t);
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "d@example.net", "b@example.org", t + 400),
	    GREY_WAIT);
	CHECK_STR(st, "new");
	greylist_close(&g);
}

T(test_auto_allow_off)
{
	struct greylist *g = open_new();
	struct greylist_conf c = conf;
	c.auto_allow = 1;
	pass_through(g, &c, "192.0.2.7", "a@example.net", "b@example.org", T0);
	for (int i = 0; i < 5; i++) {
		char from[32];
		snprintf(from, sizeof from, "u%d@example.net", i);
		pass_through(g, &conf, "192.0.2.7", from, "b@example.org", T0 + 1000);
	}
	/* with auto_allow 0 the network's row (earned under 1) is not used */
	CHECK_INT(chk(g, "192.0.2.7", "fresh@example.net", "b@example.org", T0 + 2000),
	    GREY_WAIT);
	CHECK_STR(st, "new");
	c.auto_allow = 1;
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "fresh2@example.net", "b@example.org", T0 + 2000),
	    GREY_PASS);
	CHECK_STR(st, "auto-allowed");
	greylist_close(&g);
}

T(test_survives_reopen)
{
	struct greylist *g = open_new();
	char p[sizeof path];
	memcpy(p, path, sizeof p);
	chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0);
	pass_through(g, &conf, "192.0.2.7", "k@example.net", "b@example.org", T0);
	/* the file was created 0600, and SQLite gave its WAL the same mode */
	struct stat sb;
	char wal[sizeof path + 4];
	snprintf(wal, sizeof wal, "%s-wal", p);
	CHECK_INT(stat(p, &sb), 0);
	CHECK_INT(sb.st_mode & 0777, 0600);
	CHECK_INT(stat(wal, &sb), 0);
	CHECK_INT(sb.st_mode & 0777, 0600);
	greylist_close(&g);
	char e[256];
	g = greylist_open(p, e, sizeof e);
	CHECK(g != NULL);
	if (g == NULL)
		return;
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0 + 100), GREY_WAIT);
	CHECK_STR(st, "early");
	CHECK_INT(retry, 200);
	CHECK_INT(chk(g, "192.0.2.7", "k@example.net", "b@example.org", T0 + 1000), GREY_PASS);
	CHECK_STR(st, "known");
	greylist_close(&g);
	/* WAL is recorded in the file: another connection sees it */
	sqlite3 *db;
	sqlite3_stmt *q = NULL;
	CHECK_INT(sqlite3_open(p, &db), SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);
}

T(test_purge)
{
	struct greylist *g = open_new();
	struct greylist_conf c = conf;
	c.auto_allow = 1;
	long p, d, n;
	/* pending at T0 and T0 + 100, passed at T0 + 300 (auto-allows the /24) */
	chk_c(g, &c, "198.51.100.1", "a@example.net", "b@example.org", T0);
	chk_c(g, &c, "198.51.100.1", "b@example.net", "b@example.org", T0 + 100);
	pass_through(g, &c, "192.0.2.7", "a@example.net", "b@example.org", T0);
	CHECK_INT(greylist_counts(g, &p, &d, &n), 0);
	CHECK_INT(p, 2);
	CHECK_INT(d, 1);
	CHECK_INT(n, 1);
	CHECK_INT(greylist_purge(g, &c, T0 + 14399, err, sizeof err), 0);
	/* at first + window the first pending one is gone, the second not */
	CHECK_INT(greylist_purge(g, &c, T0 + 14400, err, sizeof err), 1);
	CHECK_INT(greylist_counts(g, &p, &d, &n), 0);
	CHECK_INT(p, 1);
	CHECK_INT(greylist_purge(g, &c, T0 + 300 + c.keep - 1, err, sizeof err), 1);
	CHECK_INT(greylist_counts(g, &p, &d, &n), 0);
	CHECK_INT(p, 0);
	CHECK_INT(d, 1);
	CHECK_INT(n, 1);
	/* keep after the last pass: the triplet and the network */
	CHECK_INT(greylist_purge(g, &c, T0 + 300 + c.keep, err, sizeof err), 2);
	CHECK_INT(greylist_counts(g, &p, &d, &n), 0);
	CHECK_INT(p + d + n, 0);
	CHECK_INT(greylist_purge(g, &c, T0 + 300 + c.keep, err, sizeof err), 0);
	greylist_close(&g);
}

/* Write bytes to a fresh path and try to open it. */
static struct greylist *
open_file(const char *bytes, char *e, size_t elen)
{
	FILE *f = fopen(new_path(), "w");
	CHECK(f != NULL);
	if (f == NULL)
		return NULL;
	fputs(bytes, f);
	fclose(f);
	e[0] = '\0';
	return greylist_open(path, e, elen);
}

/* Make a database with the sqlite3 API directly, then try to open it. */
static struct greylist *
open_sql(const char *q, char *e, size_t elen)
{
	sqlite3 *db;
	CHECK_INT(sqlite3_open(new_path(), &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	e[0] = '\0';
	return greylist_open(path, e, elen);
}

T(test_bad_files)
{
	char e[256];
	struct greylist *g = open_file("not a database", e, sizeof e);
	CHECK(g == NULL);
	CHECK(strstr(e, "not a database") != NULL);
	g = open_file("", e, sizeof e);	/* an empty file is a new database */
	CHECK(g != NULL);
	greylist_close(&g);
	/* another program's database */
	g = open_sql("CREATE TABLE users (name TEXT)", e, sizeof e);
	CHECK(g == NULL);
	CHECK_STR(e, "greylist open: not a Talon greylist database");
	/* ours, from a future version */
	g = open_sql("PRAGMA application_id = 1415670894; PRAGMA user_version = 2;"
	    "CREATE TABLE grey_triplet (x)", e, sizeof e);
	CHECK(g == NULL);
	CHECK_STR(e, "greylist open: schema version 2, expected 1");
	/* ours, with a table that lost a column */
	g = open_sql("PRAGMA application_id = 1415670894; PRAGMA user_version = 1;"
	    "CREATE TABLE grey_network (net TEXT PRIMARY KEY)", e, sizeof e);
	CHECK(g == NULL);
	CHECK(strstr(e, "no such column: last") != NULL);
	/* a directory, and a path in a missing directory */
	g = greylist_open(dir, e, sizeof e);
	CHECK(g == NULL);
	CHECK(strstr(e, "Is a directory") != NULL);
	snprintf(path, sizeof path, "%s/missing/grey.db", dir);
	CHECK(greylist_open(path, e, sizeof e) == NULL);
	CHECK(strstr(e, "No such file") != NULL);
}

/* Quotes, %, ;, comment and LIKE characters are data: stored and matched
 * exactly, and they do not match anything else. */
T(test_hostile_sender)
{
	static const char *const evil[] = {
		"x'; DROP TABLE grey_triplet; --@example.net",
		"\"a\"@example.net", "%@example.net", "_@example.net", "a%b@example.net",
		"*@example.net", "?1@example.net", "a\\@example.net", "/*@example.net",
	};
	struct greylist *g = open_new();
	for (size_t i = 0; i < NELEM(evil); i++)
		chk(g, "192.0.2.7", evil[i], "b@example.org", T0);
	for (size_t i = 0; i < NELEM(evil); i++) {
		CHECK_INT(chk(g, "192.0.2.7", evil[i], "b@example.org", T0 + 300), GREY_PASS);
		CHECK_STR(st, "passed");
	}
	/* none of them matched a plain sender */
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0 + 300), GREY_WAIT);
	CHECK_STR(st, "new");
	long p, d, n;
	CHECK_INT(greylist_counts(g, &p, &d, &n), 0);
	CHECK_INT(p, 1);
	CHECK_INT(d, (long)NELEM(evil));
	greylist_close(&g);
}

T(test_bounds_and_errors)
{
	struct greylist *g = open_new();
	char big[GREY_ADDR_MAX + 2];
	memset(big, 'A', sizeof big);
	big[GREY_ADDR_MAX] = '\0';
	CHECK_INT(chk(g, "192.0.2.7", big, "b@example.org", T0), GREY_WAIT);
	big[GREY_ADDR_MAX] = 'A';
	big[GREY_ADDR_MAX + 1] = '\0';
	CHECK_INT(chk(g, "192.0.2.7", big, "b@example.org", T0), GREY_ERROR);
	CHECK_STR(st, "error");
	CHECK(strstr(err, "sender") != NULL);
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", big, T0), GREY_ERROR);
	CHECK(strstr(err, "recipient") != NULL);
	CHECK_INT(chk(g, "192.0.2.7", NULL, "b@example.org", T0), GREY_ERROR);
	/* a client that is not IP */
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	CHECK_INT(greylist_check(g, &conf, &ss, sizeof ss, "a@example.net", "b@example.org", T0,
	    &retry, &st, net, err, sizeof err), GREY_ERROR);
	CHECK_STR(st, "error");
	CHECK_STR(net, "");
	/* a configuration under which nothing could pass */
	struct greylist_conf c = conf;
	c.window = c.delay;
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "a@example.net", "b@example.org", T0), GREY_ERROR);
	CHECK_STR(err, "greylist: window (300) must exceed delay (300)");
	/* delay 0: the first try still waits (retry_in >= 1), the next passes */
	c.delay = 0;
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "d0@example.net", "b@example.org", T0), GREY_WAIT);
	CHECK_INT(retry, 1);
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "d0@example.net", "b@example.org", T0), GREY_PASS);
	/* found by fuzzing: delay 0 and a clock stepped back gave retry_in 0 */
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "d1@example.net", "b@example.org", T0), GREY_WAIT);
	CHECK_INT(chk_c(g, &c, "192.0.2.7", "d1@example.net", "b@example.org", T0 - 5),
	    GREY_WAIT);
	CHECK_STR(st, "early");
	CHECK_INT(retry, 1);
	/* a clock stepped back: early, counted from now */
	chk(g, "192.0.2.7", "back@example.net", "b@example.org", T0);
	CHECK_INT(chk(g, "192.0.2.7", "back@example.net", "b@example.org", T0 - 1000), GREY_WAIT);
	CHECK_STR(st, "early");
	CHECK_INT(retry, 300);
	greylist_close(&g);
}

/* A write lock held by another connection: the check waits its busy
 * timeout, then fails with SQLite's text and leaves no transaction open. */
T(test_locked)
{
	struct greylist *g = open_new();
	sqlite3 *db;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0), GREY_ERROR);
	CHECK(strstr(err, "locked") != NULL);
	CHECK_INT(greylist_purge(g, &conf, T0, err, sizeof err), -1);
	CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(chk(g, "192.0.2.7", "a@example.net", "b@example.org", T0), GREY_WAIT);
	greylist_close(&g);
}

static void
cleanup(void)
{
	char p[192];
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	for (int i = 0; i < n_db; i++)
		for (size_t j = 0; j < NELEM(sfx); j++) {
			snprintf(p, sizeof p, "%s/grey%d.db%s", dir, i, sfx[j]);
			unlink(p);
		}
	if (rmdir(dir) != 0)
		perror(dir);
}

int
main(void)
{
	snprintf(dir, sizeof dir, "/tmp/talon-grey-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_first_try_new);
	RUN(test_early_then_passed);
	RUN(test_known_refreshes);
	RUN(test_window_missed);
	RUN(test_network_shared);
	RUN(test_case_insensitive);
	RUN(test_auto_allow);
	RUN(test_auto_allow_counts_live);
	RUN(test_auto_allow_off);
	RUN(test_survives_reopen);
	RUN(test_purge);
	RUN(test_bad_files);
	RUN(test_hostile_sender);
	RUN(test_bounds_and_errors);
	RUN(test_locked);
	cleanup();
	return t_done("greylist");
}

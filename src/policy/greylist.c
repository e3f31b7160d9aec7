/*
 * policy/greylist.c - the greylisting store in SQLite (see greylist.h).
 *
 * Input:   sender and recipient from SMTP clients (untrusted; bounded,
 *          lowercased, bound as parameters: no SQL text is ever built from
 *          them); the database file (ours, but a damaged or foreign file
 *          must give an error, which SQLite does).
 * Output:  decisions; rows in grey_triplet and grey_network.
 * Trusts:  the configuration.  Runs in: policy.
 * Times are seconds since the epoch as SQLite INTEGERs.  A check is one
 * IMMEDIATE transaction: read, decide, write, so a second writer on the
 * file (a future CLI) cannot interleave between our read and our write.
 */
#include "policy/greylist.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

/* "Taln" in PRAGMA application_id marks the file as ours: a path that
 * points at another program's database is refused, not given our tables. */
#define GREY_APP_ID	0x54616c6e
#define GREY_VERSION	1	/* PRAGMA user_version of this schema */

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS grey_triplet ("
    " net TEXT NOT NULL, sender TEXT NOT NULL, rcpt TEXT NOT NULL,"
    " first INTEGER NOT NULL,"	/* first try; restarted when the window is missed */
    " passed INTEGER,"		/* last pass; NULL: not passed yet */
    " PRIMARY KEY (net, sender, rcpt)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS grey_network ("	/* auto-allowed networks */
    " net TEXT NOT NULL PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID;";

enum {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_NET_GET, S_NET_PUT, S_TRI_GET, S_TRI_PUT, S_TRI_LIVE,
	S_DEL_PENDING, S_DEL_PASSED, S_DEL_NET, S_COUNTS, S_N
};

static const char *const sql[S_N] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_NET_GET] = "SELECT last FROM grey_network WHERE net = ?1",
	[S_NET_PUT] = "INSERT OR REPLACE INTO grey_network (net, last) VALUES (?1, ?2)",
	[S_TRI_GET] = "SELECT first, passed FROM grey_triplet"
	    " WHERE net = ?1 AND sender = ?2 AND rcpt = ?3",
	[S_TRI_PUT] = "INSERT OR REPLACE INTO grey_triplet (net, sender, rcpt, first, passed)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	/* live passed triplets of a network: what auto_allow counts */
	[S_TRI_LIVE] = "SELECT count(*) FROM grey_triplet WHERE net = ?1 AND passed > ?2",
	[S_DEL_PENDING] = "DELETE FROM grey_triplet WHERE passed IS NULL AND first <= ?1",
	[S_DEL_PASSED] = "DELETE FROM grey_triplet WHERE passed <= ?1",
	[S_DEL_NET] = "DELETE FROM grey_network WHERE last <= ?1",
	[S_COUNTS] = "SELECT (SELECT count(*) FROM grey_triplet WHERE passed IS NULL),"
	    " (SELECT count(*) FROM grey_triplet WHERE passed IS NOT NULL),"
	    " (SELECT count(*) FROM grey_network)",
};

struct greylist {
	sqlite3 *db;
	sqlite3_stmt *st[S_N];
};

/* A triplet as stored: network text, addresses with ASCII lowercased. */
struct key {
	char net[PREFIX_TEXT_MAX];
	char sender[GREY_ADDR_MAX + 1];
	char rcpt[GREY_ADDR_MAX + 1];
};

static void
db_err(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "greylist %s: %s", what,
	    db != NULL ? sqlite3_errmsg(db) : "out of memory");
}

/* a - b, saturated: a damaged row's time or a far clock must not make
 * signed overflow (UBSan traps it). */
static int64_t
sub_sat(int64_t a, int64_t b)
{
	int64_t d;
	if (__builtin_sub_overflow(a, b, &d))
		d = b < 0 ? INT64_MAX : INT64_MIN;
	return d;
}

/* Step st.  1: a row, st stays on it and the caller resets it; 0: done;
 * -1: error (sqlite3_errmsg has it).  Both of the latter reset st. */
static int
step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Run a statement that returns no rows: 0 or -1. */
static int
run(struct greylist *g, int s)
{
	return step(g->st[s]) == 0 ? 0 : -1;
}

/* The same with a time bound to ?1. */
static int
run_time(struct greylist *g, int s, int64_t t)
{
	if (sqlite3_bind_int64(g->st[s], 1, t) != SQLITE_OK)
		return -1;
	return run(g, s);
}

static bool
bind_net(sqlite3_stmt *st, const struct key *k)
{
	return sqlite3_bind_text(st, 1, k->net, -1, SQLITE_TRANSIENT) == SQLITE_OK;
}

static bool
bind_key(sqlite3_stmt *st, const struct key *k)
{
	return bind_net(st, k) &&
	    sqlite3_bind_text(st, 2, k->sender, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
	    sqlite3_bind_text(st, 3, k->rcpt, -1, SQLITE_TRANSIENT) == SQLITE_OK;
}

/* sqlite3_exec callback for PRAGMA journal_mode: did WAL take? */
static int
is_wal(void *ok, int n, char **val, char **names)
{
	*(bool *)ok = n == 1 && val[0] != NULL && strcmp(val[0], "wal") == 0;
	return 0;
}

/* Journal and durability settings, then refuse a file that is not ours.
 * The journal_mode pragma is the first read of the file, so a file that
 * is not a database fails here ("file is not a database"). */
static int
setup(sqlite3 *db, char *err, size_t errlen)
{
	bool wal = false;
	sqlite3_stmt *st = NULL;
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_busy_timeout(db, 1000);
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL", is_wal, &wal, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA trusted_schema = OFF",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT (SELECT application_id FROM pragma_application_id),"
	    " (SELECT user_version FROM pragma_user_version),"
	    " (SELECT count(*) FROM sqlite_schema)", -1, &st, NULL) != SQLITE_OK ||
	    step(st) != 1) {
		db_err(db, "open", err, errlen);
		sqlite3_finalize(st);
		return -1;
	}
	int64_t app = sqlite3_column_int64(st, 0), ver = sqlite3_column_int64(st, 1);
	bool empty = app == 0 && sqlite3_column_int64(st, 2) == 0;
	sqlite3_finalize(st);
	if (!wal) {
		snprintf(err, errlen, "greylist open: WAL journal mode refused");
		return -1;
	}
	if (!empty && app != GREY_APP_ID) {
		snprintf(err, errlen, "greylist open: not a Talon greylist database");
		return -1;
	}
	if (!empty && ver != GREY_VERSION) {
		snprintf(err, errlen, "greylist open: schema version %lld, expected %d",
		    (long long)ver, GREY_VERSION);
		return -1;
	}
	char stamp[128];
	snprintf(stamp, sizeof stamp, "PRAGMA application_id = %d; PRAGMA user_version = %d",
	    GREY_APP_ID, GREY_VERSION);
	if ((empty && sqlite3_exec(db, stamp, NULL, NULL, NULL) != SQLITE_OK) ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		db_err(db, "schema", err, errlen);
		return -1;
	}
	return 0;
}

/* Preparing every statement now checks the tables have our columns: a
 * wrong schema fails at open ("no such column"), not at the first RCPT. */
static int
prepare(struct greylist *g, char *err, size_t errlen)
{
	for (int i = 0; i < S_N; i++)
		if (sqlite3_prepare_v3(g->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &g->st[i],
		    NULL) != SQLITE_OK) {
			db_err(g->db, "schema", err, errlen);
			return -1;
		}
	return 0;
}

struct greylist *
greylist_open(const char *path, char *err, size_t errlen)
{
	/* SQLite would create the file 0644 less the umask; rows say who
	 * mails whom, so create it 0600 first (SQLite gives the -wal and
	 * -shm files the database file's mode). */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "greylist open %s: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);
	struct greylist *g = xcalloc(1, sizeof *g);
	if (sqlite3_open_v2(path, &g->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		db_err(g->db, "open", err, errlen);
		greylist_close(&g);
		return NULL;
	}
	if (setup(g->db, err, errlen) < 0 || prepare(g, err, errlen) < 0)
		greylist_close(&g);
	return g;
}

void
greylist_close(struct greylist **gp)
{
	struct greylist *g = gp != NULL ? *gp : NULL;
	if (g == NULL)
		return;
	for (int i = 0; i < S_N; i++)
		sqlite3_finalize(g->st[i]);
	sqlite3_close(g->db);
	free(g);
	*gp = NULL;
}

/* Copy an address lowercased (ASCII only: bytes >= 0x80 are kept, so
 * SMTPUTF8 local parts compare exactly).  Longer than GREY_ADDR_MAX is an
 * error rather than a silent cut that could merge two triplets. */
static bool
lower_copy(char *dst, const char *src, const char *what, char *err, size_t errlen)
{
	size_t n = src != NULL ? strnlen(src, GREY_ADDR_MAX + 1) : GREY_ADDR_MAX + 1;
	if (n > GREY_ADDR_MAX) {
		snprintf(err, errlen, "greylist: %s missing or longer than %d bytes", what,
		    GREY_ADDR_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)ascii_lower((unsigned char)src[i]);
	dst[n] = '\0';
	return true;
}

static bool
make_key(const struct greylist_conf *c, const struct sockaddr_storage *client,
    socklen_t clientlen, const char *sender, const char *rcpt, struct key *k, char *err,
    size_t errlen)
{
	struct prefix p;
	if (!prefix_from_sockaddr(client, clientlen, &p)) {
		snprintf(err, errlen, "greylist: client is not an IPv4 or IPv6 address");
		return false;
	}
	/* prefix_from_sockaddr reads an IPv4-mapped address as IPv4 */
	prefix_truncate(&p, p.family == AF_INET ? c->v4_prefix : c->v6_prefix);
	prefix_text(&p, k->net);
	return lower_copy(k->sender, sender, "sender", err, errlen) &&
	    lower_copy(k->rcpt, rcpt, "recipient", err, errlen);
}

/* Record a pass from an auto-allowed network at now. */
static int
net_put(struct greylist *g, const struct key *k, int64_t now)
{
	sqlite3_stmt *st = g->st[S_NET_PUT];
	if (!bind_net(st, k) || sqlite3_bind_int64(st, 2, now) != SQLITE_OK)
		return -1;
	return run(g, S_NET_PUT);
}

/* Is the network auto-allowed at now?  Refreshes its last pass if so.
 * 1 yes, 0 no (an expired row is left for purge), -1 error. */
static int
net_allowed(struct greylist *g, const struct greylist_conf *c, const struct key *k,
    int64_t now)
{
	sqlite3_stmt *st = g->st[S_NET_GET];
	if (!bind_net(st, k))
		return -1;
	int r = step(st);
	if (r <= 0)
		return r;
	bool live = sub_sat(now, sqlite3_column_int64(st, 0)) < (int64_t)c->keep;
	sqlite3_reset(st);
	if (!live)
		return 0;
	return net_put(g, k, now) < 0 ? -1 : 1;
}

/* Write the triplet; passed < 0 stores NULL (not passed yet). */
static int
tri_put(struct greylist *g, const struct key *k, int64_t first, int64_t passed)
{
	sqlite3_stmt *st = g->st[S_TRI_PUT];
	if (!bind_key(st, k) || sqlite3_bind_int64(st, 4, first) != SQLITE_OK ||
	    (passed < 0 ? sqlite3_bind_null(st, 5) : sqlite3_bind_int64(st, 5, passed)) !=
	    SQLITE_OK)
		return -1;
	return run(g, S_TRI_PUT);
}

/* After a pass: has the network now passed auto_allow live triplets? */
static int
count_pass(struct greylist *g, const struct greylist_conf *c, const struct key *k,
    int64_t now)
{
	if (c->auto_allow == 0)
		return 0;
	sqlite3_stmt *st = g->st[S_TRI_LIVE];
	if (!bind_net(st, k) || sqlite3_bind_int64(st, 2, sub_sat(now, c->keep)) != SQLITE_OK ||
	    step(st) != 1)
		return -1;
	bool earned = sqlite3_column_int64(st, 0) >= (int64_t)c->auto_allow;
	sqlite3_reset(st);
	return earned ? net_put(g, k, now) : 0;
}

/* A pass: store it and see whether the network has now earned auto-allow. */
static enum grey_result
pass(struct greylist *g, const struct greylist_conf *c, const struct key *k, int64_t first,
    int64_t now)
{
	return tri_put(g, k, first, now) < 0 || count_pass(g, c, k, now) < 0 ?
	    GREY_ERROR : GREY_PASS;
}

/* The decision inside the transaction; GREY_ERROR only for SQLite errors. */
static enum grey_result
decide(struct greylist *g, const struct greylist_conf *c, const struct key *k, int64_t now,
    unsigned *retry_in, const char **state)
{
	int r = c->auto_allow > 0 ? net_allowed(g, c, k, now) : 0;
	if (r != 0) {
		*state = "auto-allowed";
		return r > 0 ? GREY_PASS : GREY_ERROR;
	}
	sqlite3_stmt *st = g->st[S_TRI_GET];
	if (!bind_key(st, k) || (r = step(st)) < 0)
		return GREY_ERROR;
	bool found = r == 1, passed = found && sqlite3_column_type(st, 1) != SQLITE_NULL;
	int64_t first = found ? sqlite3_column_int64(st, 0) : now;
	int64_t last = passed ? sqlite3_column_int64(st, 1) : 0;
	if (found)
		sqlite3_reset(st);
	int64_t age = sub_sat(now, first);
	if (passed && sub_sat(now, last) < (int64_t)c->keep) {
		*state = "known";
		return pass(g, c, k, first, now);
	}
	if (found && !passed && age < (int64_t)c->delay) {
		/* a clock stepped back (first in the future) counts from now;
		 * with delay 0 that would say 0: never less than 1 */
		int64_t left = (int64_t)c->delay - (age < 0 ? 0 : age);
		*state = "early";
		*retry_in = left > 0 ? (unsigned)left : 1;
		return GREY_WAIT;
	}
	if (found && !passed && age < (int64_t)c->window) {
		*state = "passed";
		return pass(g, c, k, first, now);
	}
	/* new, forgotten after keep, or the window missed: the first try is now */
	*state = found && !passed ? "expired" : "new";
	*retry_in = c->delay > 0 ? c->delay : 1;
	return tri_put(g, k, now, -1) < 0 ? GREY_ERROR : GREY_WAIT;
}

enum grey_result
greylist_check(struct greylist *g, const struct greylist_conf *c,
    const struct sockaddr_storage *client, socklen_t clientlen, const char *sender,
    const char *rcpt, time_t now, unsigned *retry_in, const char **state,
    char net_text[PREFIX_TEXT_MAX], char *err, size_t errlen)
{
	struct key k;
	*retry_in = 0;
	*state = "error";
	net_text[0] = '\0';
	if (!make_key(c, client, clientlen, sender, rcpt, &k, err, errlen))
		return GREY_ERROR;
	memcpy(net_text, k.net, PREFIX_TEXT_MAX);
	/* with window <= delay nothing could ever pass: say so on every try
	 * instead of deferring mail forever without a word */
	if (c->window <= c->delay) {
		snprintf(err, errlen, "greylist: window (%u) must exceed delay (%u)", c->window,
		    c->delay);
		return GREY_ERROR;
	}
	if (run(g, S_BEGIN) < 0) {
		db_err(g->db, "begin", err, errlen);
		return GREY_ERROR;
	}
	enum grey_result res = decide(g, c, &k, now, retry_in, state);
	if (res != GREY_ERROR && run(g, S_COMMIT) == 0)
		return res;
	db_err(g->db, "check", err, errlen);
	if (!sqlite3_get_autocommit(g->db))
		run(g, S_ROLLBACK);
	*retry_in = 0;
	*state = "error";
	return GREY_ERROR;
}

long
greylist_purge(struct greylist *g, const struct greylist_conf *c, time_t now,
    char *err, size_t errlen)
{
	long n = 0;
	/* the same boundaries as decide(): expired at first + window and at
	 * last pass + keep */
	if (run(g, S_BEGIN) < 0)
		goto fail;
	if (run_time(g, S_DEL_PENDING, sub_sat(now, c->window)) < 0)
		goto fail;
	n += (long)sqlite3_changes(g->db);
	if (run_time(g, S_DEL_PASSED, sub_sat(now, c->keep)) < 0)
		goto fail;
	n += (long)sqlite3_changes(g->db);
	if (run_time(g, S_DEL_NET, sub_sat(now, c->keep)) < 0)
		goto fail;
	n += (long)sqlite3_changes(g->db);
	if (run(g, S_COMMIT) == 0)
		return n;
fail:
	db_err(g->db, "purge", err, errlen);
	if (!sqlite3_get_autocommit(g->db))
		run(g, S_ROLLBACK);
	return -1;
}

int
greylist_counts(struct greylist *g, long *pending, long *passed, long *networks)
{
	sqlite3_stmt *st = g->st[S_COUNTS];
	if (step(st) != 1)
		return -1;
	*pending = (long)sqlite3_column_int64(st, 0);
	*passed = (long)sqlite3_column_int64(st, 1);
	*networks = (long)sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	return 0;
}

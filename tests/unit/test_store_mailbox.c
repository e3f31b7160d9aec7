/*
 * Unit tests for store/mailbox.c: a Maildir kept in step with Dovecot's
 * dovecot-uidlist and dovecot-keywords, on real directories.
 *
 * Every test builds its Maildir as <tmp>/mail, where <tmp> comes from
 * mkdtemp() under /tmp and is removed at the end (the one cross-file-system
 * COPY test also makes one under /dev/shm).  The Maildir is one level down
 * so that a test can see what an operation does next to it.  Assertions
 * are on exact file names, file contents, UIDs and flags: a change in what
 * lands on disk turns a test red.
 *
 * Set MBTEST_LOG=1 to see the module's log lines on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "store/mailbox.h"
#include "t.h"

/* Stop the test here (after reporting) when going on would index past
 * the view or use a missing mailbox. */
#define REQUIRE(cond) do { if (!(cond)) { CHECK(cond); goto out; } } while (0)

/* A name as deliver writes it into new/: 12 bytes of message. */
#define DELIVERED	"1700000000.Qxxx.host,S=12"
#define DELIVERED_TEXT	"Subject: x\n\n"

/* --- a temporary Maildir ----------------------------------------------------- */

struct fx {
	char root[64];		/* the mkdtemp() directory */
	bool made;
	int root_fd;
	int fd;			/* the Maildir: <root>/mail */
};

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (remove(path) < 0 && errno != ENOENT)
		fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

static void
rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A Maildir under base ("/tmp" or "/dev/shm") with INBOX made by mb_create. */
static bool
fx_init_in(struct fx *f, const char *base)
{
	memset(f, 0, sizeof *f);
	f->root_fd = f->fd = -1;
	snprintf(f->root, sizeof f->root, "%s/talon-mbtest.XXXXXX", base);
	if (mkdtemp(f->root) == NULL)
		return false;
	f->made = true;
	f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->root_fd < 0 || mkdirat(f->root_fd, "mail", 0700) < 0)
		return false;
	f->fd = openat(f->root_fd, "mail", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return f->fd >= 0 && mb_create(f->fd, ".") == 0;
}

static bool
fx_init(struct fx *f)
{
	return fx_init_in(f, "/tmp");
}

static void
fx_done(struct fx *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->root_fd >= 0)
		close(f->root_fd);
	if (f->made)
		rm_rf(f->root);
	f->fd = f->root_fd = -1;
	f->made = false;
}

/* --- file helpers ---------------------------------------------------------------- */

static bool
put(int dirfd, const char *path, const char *text)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		return false;
	}
	size_t n = strlen(text);
	bool ok = write(fd, text, n) == (ssize_t)n;
	return close(fd) == 0 && ok;
}

/* A small file's text, or "(missing)"; the result lives until four more
 * calls of slurp or ls. */
static char ring[4][8192];
static unsigned ring_k;

static char *
ring_next(void)
{
	char *s = ring[ring_k++ % NELEM(ring)];
	s[0] = '\0';
	return s;
}

static const char *
slurp(int dirfd, const char *path)
{
	char *s = ring_next();
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "(missing)";
	size_t n = 0;
	ssize_t r;
	while (n < sizeof ring[0] - 1 && (r = read(fd, s + n, sizeof ring[0] - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	s[n] = '\0';
	return s;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, one space between; "(missing)" when
 * it cannot be read. */
static const char *
ls(int dirfd, const char *sub)
{
	char *s = ring_next();
	int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return "(missing)";
	}
	char *names[256];
	size_t n = 0, len = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < NELEM(names))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			names[n++] = xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, str_cmp);
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(s + len, sizeof ring[0] - len, "%s%s", i ? " " : "", names[i]);
		if (w > 0 && (size_t)w < sizeof ring[0] - len)
			len += (size_t)w;
		free(names[i]);
	}
	return s;
}

static bool
exists(int dirfd, const char *path)
{
	struct stat st;
	return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool
set_mtime(int dirfd, const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	return utimensat(dirfd, path, ts, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The same with nanoseconds: a file system that keeps them. */
static bool
set_mtime_ns(int dirfd, const char *path, time_t t, long ns)
{
	struct timespec ts[2] = { { t, ns }, { t, ns } };
	return utimensat(dirfd, path, ts, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool
set_times_ns(int dirfd, time_t t, long ns)
{
	return set_mtime_ns(dirfd, "cur", t, ns) && set_mtime_ns(dirfd, "new", t, ns) &&
	    set_mtime_ns(dirfd, "dovecot-uidlist", t, ns);
}

static struct mailbox *
open_mb(struct fx *f, const char *dir, bool readonly)
{
	struct mailbox *m = NULL;
	char why[128] = "";
	if (mb_open(f->fd, dir, "test/mb", readonly, &m, why, sizeof why) < 0) {
		fprintf(stderr, "mb_open %s: %s\n", dir, why);
		return NULL;
	}
	return m;
}

/* A name that new_name wrote: "<secs>.M<usecs>P<pid>Q<count>." followed
 * by tail, with secs in [t0, t1]. */
static bool
is_our_name(const char *name, time_t t0, time_t t1, unsigned count, const char *tail)
{
	char *end;
	long long secs = strtoll(name, &end, 10);
	if (secs < t0 || secs > t1 || strncmp(end, ".M", 2) != 0)
		return false;
	long usecs = strtol(end + 2, &end, 10);
	char rest[512];
	snprintf(rest, sizeof rest, "P%dQ%u.%s", (int)getpid(), count, tail);
	return usecs >= 0 && usecs < 1000000 && strcmp(end, rest) == 0;
}

/* --- creating and opening ------------------------------------------------------- */

T(test_create_and_open_missing)
{
	struct fx f;
	struct mailbox *m = NULL;
	char why[128] = "", want[128];
	REQUIRE(fx_init(&f));
	CHECK_STR(ls(f.fd, "."), "cur new tmp");	/* INBOX: no maildirfolder */
	CHECK_INT(mb_create(f.fd, "."), 0);		/* it exists: still 0 */
	CHECK_INT(mb_create(f.fd, ".Sent"), 0);
	CHECK_STR(ls(f.fd, "."), ".Sent cur new tmp");
	CHECK_STR(ls(f.fd, ".Sent"), "cur maildirfolder new tmp");
	CHECK_STR(slurp(f.fd, ".Sent/maildirfolder"), "");
	CHECK_INT(mb_create(f.fd, ".Sent"), 0);
	CHECK_STR(ls(f.fd, ".Sent"), "cur maildirfolder new tmp");

	errno = 0;
	CHECK_INT(mb_open(f.fd, ".Nope", "t/Nope", false, &m, why, sizeof why), -1);
	CHECK_INT(errno, ENOENT);
	CHECK_STR(why, "No such mailbox");
	CHECK(m == NULL);
	/* half a Maildir (no tmp/) is no mailbox either */
	CHECK_INT(mkdirat(f.fd, ".Half", 0700), 0);
	CHECK_INT(mkdirat(f.fd, ".Half/cur", 0700), 0);
	CHECK_INT(mkdirat(f.fd, ".Half/new", 0700), 0);
	errno = 0;
	CHECK_INT(mb_open(f.fd, ".Half", "t/Half", false, &m, why, sizeof why), -1);
	CHECK_INT(errno, ENOENT);
	CHECK(m == NULL);

	/* an empty mailbox gets a list with a header only */
	time_t t0 = time(NULL);
	m = open_mb(&f, ".Sent", false);
	REQUIRE(m != NULL);
	CHECK_INT(m->n, 0);
	CHECK_INT(m->next, 1);
	CHECK(m->validity >= t0 && m->validity <= time(NULL));
	snprintf(want, sizeof want, "3 V%u N1\n", m->validity);
	CHECK_STR(slurp(f.fd, ".Sent/dovecot-uidlist"), want);
	CHECK(!exists(f.fd, ".Sent/dovecot-uidlist.lock"));
out:
	mb_close(&m);
	fx_done(&f);
}

T(test_delivered_file_moves_to_cur)
{
	struct fx f;
	struct mailbox *m = NULL, *m2 = NULL;
	char want[256];
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "new/" DELIVERED, DELIVERED_TEXT));
	time_t t0 = time(NULL);
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 1);
	CHECK_INT(m->v[0].uid, 1);
	CHECK_INT(mb_flags(m, 0), MF_RECENT);
	CHECK_INT(m->v[0].kw, 0);
	CHECK(!m->v[0].in_new);
	CHECK_STR(m->v[0].name, DELIVERED ":2,");
	CHECK_STR(ls(f.fd, "new"), "");
	CHECK_STR(ls(f.fd, "cur"), DELIVERED ":2,");
	CHECK_STR(slurp(f.fd, "cur/" DELIVERED ":2,"), DELIVERED_TEXT);
	CHECK_INT(m->next, 2);
	CHECK(m->validity >= t0 && m->validity <= time(NULL));
	/* the base only, no ":2," and no ext fields; no G (we make no GUID) */
	snprintf(want, sizeof want, "3 V%u N2\n1 :" DELIVERED "\n", m->validity);
	CHECK_STR(slurp(f.fd, "dovecot-uidlist"), want);
	CHECK(!exists(f.fd, "dovecot-uidlist.lock"));
	CHECK_STR(ls(f.fd, "."), "cur dovecot-uidlist new talon-modseq talon-uidvalidity tmp");
	CHECK_INT(mb_vsize(m, 0), 14);	/* two LF counted as CRLF */
	CHECK_INT(mb_find_uid(m, 1), 0);
	CHECK_INT(mb_find_uid(m, 2), -1);
	CHECK_INT(mb_find_uid(m, 0), -1);

	/* a second view finds it in cur/: same UID, not \Recent there */
	m2 = open_mb(&f, ".", false);
	REQUIRE(m2 != NULL);
	REQUIRE(m2->n == 1);
	CHECK_INT(m2->v[0].uid, 1);
	CHECK_INT(mb_flags(m2, 0), 0);
	CHECK_INT(m2->validity, m->validity);
	CHECK_STR(slurp(f.fd, "dovecot-uidlist"), want);
out:
	mb_close(&m);
	mb_close(&m2);
	fx_done(&f);
}

T(test_readonly_open_leaves_new)
{
	struct fx f;
	struct mailbox *m = NULL, *m2 = NULL;
	char want[256], why[128] = "";
	uint32_t uid = 0;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "new/" DELIVERED, DELIVERED_TEXT));
	m = open_mb(&f, ".", true);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 1);
	CHECK_INT(m->v[0].uid, 1);
	CHECK(m->v[0].in_new);
	/* read-only: shown \Recent (unclaimed), nothing stored */
	CHECK_INT(mb_flags(m, 0), MF_RECENT);
	CHECK_STR(m->v[0].name, DELIVERED);
	CHECK_STR(ls(f.fd, "new"), DELIVERED);
	CHECK_STR(ls(f.fd, "cur"), "");
	snprintf(want, sizeof want, "3 V%u N2\n1 :" DELIVERED "\n", m->validity);
	CHECK_STR(slurp(f.fd, "dovecot-uidlist"), want);
	CHECK_INT(mb_vsize(m, 0), 14);

	/* a read-only view changes no message */
	errno = 0;
	CHECK_INT(mb_set_flags(m, 0, MF_SEEN, 0), -1);
	CHECK_INT(errno, EROFS);
	CHECK_INT(mb_set_flags(m, 0, 0, 0), 0);	/* nothing to change */
	errno = 0;
	CHECK_INT(mb_expunge(m, 0), -1);
	CHECK_INT(errno, EROFS);
	CHECK_STR(ls(f.fd, "new"), DELIVERED);
	CHECK_INT(mb_append(m, (const uint8_t *)"a\n", 2, 0, 0, 0, &uid, why, sizeof why), -1);
	CHECK_STR(why, "Mailbox is read-only");
	CHECK_STR(ls(f.fd, "tmp"), "");
	CHECK_INT(mb_keyword(m, "$Label", true), -1);
	CHECK(!exists(f.fd, "dovecot-keywords"));

	/* a read-write view moves it and keeps the UID */
	m2 = open_mb(&f, ".", false);
	REQUIRE(m2 != NULL);
	REQUIRE(m2->n == 1);
	CHECK_INT(m2->v[0].uid, 1);
	CHECK_INT(mb_flags(m2, 0), MF_RECENT);
	CHECK_STR(ls(f.fd, "cur"), DELIVERED ":2,");
	CHECK_STR(slurp(f.fd, "dovecot-uidlist"), want);

	/* the read-only view finds the moved file by its base */
	int fd = mb_open_msg(m, 0);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_STR(m->v[0].name, DELIVERED ":2,");
	CHECK(!m->v[0].in_new);
	CHECK_INT(mb_sync(m, NULL), 0);
	REQUIRE(m->n == 1);
	CHECK_INT(m->v[0].uid, 1);
	CHECK_STR(m->v[0].name, DELIVERED ":2,");
out:
	mb_close(&m);
	mb_close(&m2);
	fx_done(&f);
}

/* --- sync ----------------------------------------------------------------------- */

T(test_uids_in_name_order)
{
	struct fx f;
	struct mailbox *m = NULL;
	char want[256];
	REQUIRE(fx_init(&f));
	/* written out of order; the names say the arrival order */
	REQUIRE(put(f.fd, "new/1700000003.A.h", "3\n"));
	REQUIRE(put(f.fd, "new/1700000001.B.h", "1\n"));
	REQUIRE(put(f.fd, "cur/1700000002.C.h:2,S", "2\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 3);
	CHECK_INT(m->v[0].uid, 1);
	CHECK_STR(m->v[0].name, "1700000001.B.h:2,");
	CHECK_INT(mb_flags(m, 0), MF_RECENT);
	CHECK_INT(m->v[1].uid, 2);
	CHECK_STR(m->v[1].name, "1700000002.C.h:2,S");
	CHECK_INT(m->v[1].flags & MF_STORED, MF_SEEN);
	CHECK_INT(m->v[2].uid, 3);
	CHECK_STR(m->v[2].name, "1700000003.A.h:2,");
	CHECK_INT(mb_flags(m, 2), MF_RECENT);
	CHECK_INT(m->next, 4);
	snprintf(want, sizeof want, "3 V%u N4\n1 :1700000001.B.h\n2 :1700000002.C.h\n"
	    "3 :1700000003.A.h\n", m->validity);
	CHECK_STR(slurp(f.fd, "dovecot-uidlist"), want);
	CHECK_STR(ls(f.fd, "cur"), "1700000001.B.h:2, 1700000002.C.h:2,S 1700000003.A.h:2,");
out:
	mb_close(&m);
	fx_done(&f);
}

T(test_sync_deltas)
{
	struct fx f;
	struct mailbox *m = NULL;
	struct mb_delta d = { 0 };
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "1\n"));
	REQUIRE(put(f.fd, "cur/1700000002.a.h:2,", "2\n"));
	REQUIRE(put(f.fd, "cur/1700000003.a.h:2,", "3\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 3);

	/* nothing happened: no delta */
	CHECK_INT(mb_sync(m, &d), 0);
	CHECK_INT(d.n_before, 3);
	CHECK_INT(d.n_expunged, 0);
	CHECK_INT(d.n_changed, 0);
	CHECK_INT(d.n_recent, 0);
	CHECK_INT(m->n, 3);
	mb_delta_free(&d);

	/* a delivery: EXISTS grows, the new one is \Recent */
	REQUIRE(put(f.fd, "new/1700000004.a.h", "4\n"));
	CHECK_INT(mb_sync(m, &d), 0);
	CHECK_INT(d.n_before, 3);
	CHECK_INT(d.n_expunged, 0);
	CHECK_INT(d.n_changed, 0);
	CHECK_INT(d.n_recent, 1);
	REQUIRE(m->n == 4);
	CHECK_INT(m->v[3].uid, 4);
	CHECK_INT(mb_flags(m, 3), MF_RECENT);
	CHECK_STR(m->v[3].name, "1700000004.a.h:2,");
	mb_delta_free(&d);

	/* two removed behind our back (seq 1 and 3): highest first */
	CHECK_INT(unlinkat(f.fd, "cur/1700000001.a.h:2,", 0), 0);
	CHECK_INT(unlinkat(f.fd, "cur/1700000003.a.h:2,", 0), 0);
	CHECK_INT(mb_sync(m, &d), 0);
	CHECK_INT(d.n_before, 4);
	REQUIRE(d.n_expunged == 2);
	CHECK_INT(d.expunged[0], 3);
	CHECK_INT(d.expunged[1], 1);
	CHECK_INT(d.n_changed, 0);
	REQUIRE(m->n == 2);
	CHECK_INT(m->v[0].uid, 2);
	CHECK_INT(m->v[1].uid, 4);
	CHECK_INT(mb_flags(m, 1), MF_RECENT);	/* still \Recent in this view */
	mb_delta_free(&d);

	/* another client marks UID 2 seen */
	CHECK_INT(renameat(f.fd, "cur/1700000002.a.h:2,", f.fd, "cur/1700000002.a.h:2,S"), 0);
	CHECK_INT(mb_sync(m, &d), 0);
	CHECK_INT(d.n_before, 2);
	CHECK_INT(d.n_expunged, 0);
	REQUIRE(d.n_changed == 1);
	CHECK_INT(d.changed[0], 2);
	REQUIRE(m->n == 2);
	CHECK_INT(m->v[0].flags & MF_STORED, MF_SEEN);
	CHECK_STR(m->v[0].name, "1700000002.a.h:2,S");
	mb_delta_free(&d);

	/* our own STORE is not reported back to us */
	CHECK_INT(mb_set_flags(m, 1, MF_FLAGGED, 0), 0);
	CHECK_INT(mb_sync(m, &d), 0);
	CHECK_INT(d.n_changed, 0);
	CHECK_INT(d.n_expunged, 0);
	CHECK_INT(mb_flags(m, 1), MF_FLAGGED | MF_RECENT);
out:
	mb_delta_free(&d);
	mb_close(&m);
	fx_done(&f);
}

/* mb_sync skips the rescan when cur/, new/ and the list have the mtimes it
 * saw last and are over 2 s old.  Fresh directories always rescan, so this
 * test moves the times into the past. */
T(test_sync_skip_path)
{
	struct fx f;
	struct mailbox *m = NULL;
	struct mb_delta d = { 0 };
	time_t past = time(NULL) - 10;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "1\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 1);
	REQUIRE(set_mtime(f.fd, "cur", past));
	REQUIRE(set_mtime(f.fd, "new", past));
	REQUIRE(set_mtime(f.fd, "dovecot-uidlist", past));
	CHECK_INT(mb_sync(m, &d), 0);	/* times differ from the last look: reads */
	CHECK_INT(d.n_changed, 0);
	mb_delta_free(&d);

	/* proof that the skip is taken: a rename whose trace in cur/'s mtime
	 * is wiped goes unseen */
	CHECK_INT(renameat(f.fd, "cur/1700000001.a.h:2,", f.fd, "cur/1700000001.a.h:2,S"), 0);
	REQUIRE(set_mtime(f.fd, "cur", past));
	CHECK_INT(mb_sync(m, &d), 0);
	CHECK_INT(d.n_changed, 0);
	CHECK_INT(d.n_before, 1);
	CHECK_INT(m->v[0].flags & MF_STORED, 0);
	mb_delta_free(&d);

	/* a real change moves a directory's mtime, so the sync reads again
	 * and sees both the delivery and the flag */
	REQUIRE(put(f.fd, "new/1700000002.a.h", "2\n"));
	CHECK_INT(mb_sync(m, &d), 0);
	CHECK_INT(d.n_before, 1);
	CHECK_INT(d.n_recent, 1);
	REQUIRE(d.n_changed == 1);
	CHECK_INT(d.changed[0], 1);
	REQUIRE(m->n == 2);
	CHECK_INT(m->v[0].flags & MF_STORED, MF_SEEN);
	CHECK_INT(m->v[1].uid, 2);
	mb_delta_free(&d);

	/* the same after the list alone changed (another server's sync) */
	REQUIRE(set_mtime(f.fd, "cur", past));
	REQUIRE(set_mtime(f.fd, "new", past));
	REQUIRE(set_mtime(f.fd, "dovecot-uidlist", past));
	CHECK_INT(mb_sync(m, NULL), 0);
	CHECK_INT(renameat(f.fd, "cur/1700000002.a.h:2,", f.fd, "cur/1700000002.a.h:2,F"), 0);
	REQUIRE(set_mtime(f.fd, "cur", past));
	REQUIRE(set_mtime(f.fd, "dovecot-uidlist", past + 1));
	CHECK_INT(mb_sync(m, &d), 0);
	REQUIRE(d.n_changed == 1);
	CHECK_INT(d.changed[0], 2);
	CHECK_INT(mb_flags(m, 1), MF_FLAGGED | MF_RECENT);
out:
	mb_delta_free(&d);
	mb_close(&m);
	fx_done(&f);
}

/* The other side of the rule: a change within the same clock tick as the
 * last look leaves the directory's mtime as it was, so a directory changed
 * in the last 2 s is read again even when its mtime looks unchanged. */
T(test_sync_same_tick_change)
{
	struct fx f;
	struct mailbox *m = NULL;
	struct mb_delta d = { 0 };
	time_t now;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "1\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 1);
	now = time(NULL);
	REQUIRE(set_mtime(f.fd, "cur", now));
	REQUIRE(set_mtime(f.fd, "new", now));
	REQUIRE(set_mtime(f.fd, "dovecot-uidlist", now));
	CHECK_INT(mb_sync(m, NULL), 0);
	/* a rename in the same tick: cur/'s mtime does not move */
	CHECK_INT(renameat(f.fd, "cur/1700000001.a.h:2,", f.fd, "cur/1700000001.a.h:2,S"), 0);
	REQUIRE(set_mtime(f.fd, "cur", now));
	CHECK_INT(mb_sync(m, &d), 0);
	REQUIRE(d.n_changed == 1);
	CHECK_INT(d.changed[0], 1);
	CHECK_INT(m->v[0].flags & MF_STORED, MF_SEEN);
out:
	mb_delta_free(&d);
	mb_close(&m);
	fx_done(&f);
}

/* With nanosecond times the wait is one clock tick, not 2 s: a time older
 * than the clock read before it cannot hide a later change (any change
 * afterwards gets a later time); a time at or past that clock can. */
T(test_sync_fine_times)
{
	struct fx f;
	struct mailbox *m = NULL;
	struct mb_delta d = { 0 };
	time_t now = time(NULL);
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "1\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL && m->n == 1);
	/* in the past, to the nanosecond: read once, then trusted */
	REQUIRE(set_times_ns(f.fd, now - 1, 123456789));
	CHECK_INT(mb_sync(m, NULL), 0);
	CHECK_INT(renameat(f.fd, "cur/1700000001.a.h:2,", f.fd, "cur/1700000001.a.h:2,S"), 0);
	REQUIRE(set_mtime_ns(f.fd, "cur", now - 1, 123456789));
	CHECK_INT(mb_sync(m, &d), 0);
	CHECK_INT(d.n_changed, 0);	/* the proof that it was trusted */
	CHECK_INT(m->v[0].flags & MF_STORED, 0);
	mb_delta_free(&d);

	/* ahead of the clock: a change may still come in the same tick, so
	 * the same wiped rename is seen */
	REQUIRE(set_times_ns(f.fd, now + 60, 5));
	CHECK_INT(mb_sync(m, &d), 0);	/* new times: read (and the S seen) */
	CHECK_INT(d.n_changed, 1);
	mb_delta_free(&d);
	CHECK_INT(renameat(f.fd, "cur/1700000001.a.h:2,S", f.fd, "cur/1700000001.a.h:2,F"), 0);
	REQUIRE(set_mtime_ns(f.fd, "cur", now + 60, 5));
	CHECK_INT(mb_sync(m, &d), 0);
	REQUIRE(d.n_changed == 1);
	CHECK_INT(m->v[0].flags & MF_STORED, MF_FLAGGED);
out:
	mb_delta_free(&d);
	mb_close(&m);
	fx_done(&f);
}

/* Views of one folder share one snapshot while the disk agrees with it: a
 * second view reads nothing; a view that stores flags gets its own copy,
 * and the others hear of the change at their next sync as from any other
 * writer. */
T(test_views_share_snapshot)
{
	struct fx f;
	struct mailbox *a = NULL, *b = NULL, *c = NULL, *r = NULL;
	struct mb_delta d = { 0 };
	time_t past = time(NULL) - 10;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "1\n"));
	REQUIRE(put(f.fd, "cur/1700000002.a.h:2,", "2\n"));
	REQUIRE(put(f.fd, "new/1700000003.a.h", "3\n"));
	a = open_mb(&f, ".", false);
	REQUIRE(a != NULL && a->n == 3);
	CHECK_INT(mb_flags(a, 2), MF_RECENT);
	REQUIRE(set_times_ns(f.fd, past, 1000));
	CHECK_INT(mb_sync(a, NULL), 0);

	/* a second view and a read-only one: the same messages, not a copy */
	b = open_mb(&f, ".", false);
	r = open_mb(&f, ".", true);
	REQUIRE(b != NULL && r != NULL && b->n == 3 && r->n == 3);
	CHECK(b->v == a->v);
	CHECK(r->v == a->v);
	CHECK_INT(b->validity, a->validity);
	CHECK(b->highest == a->highest);
	/* \Recent is the view's: a claimed message 3, b came after */
	CHECK_INT(mb_flags(a, 2), MF_RECENT);
	CHECK_INT(mb_flags(b, 2), 0);
	CHECK_INT(mb_flags(r, 2), 0);

	/* the proof that nothing was read: a rename whose trace is wiped
	 * is not seen by a third view either */
	CHECK_INT(renameat(f.fd, "cur/1700000002.a.h:2,", f.fd, "cur/1700000002.a.h:2,D"), 0);
	REQUIRE(set_mtime_ns(f.fd, "cur", past, 1000));
	c = open_mb(&f, ".", false);
	REQUIRE(c != NULL && c->n == 3);
	CHECK(c->v == a->v);
	CHECK_INT(c->v[1].flags & MF_STORED, 0);
	mb_close(&c);
	CHECK_INT(renameat(f.fd, "cur/1700000002.a.h:2,D", f.fd, "cur/1700000002.a.h:2,"), 0);
	REQUIRE(set_mtime_ns(f.fd, "cur", past, 1000));

	/* a stores \Seen on message 1: its own copy; b still sees the old */
	CHECK_INT(mb_set_flags(a, 0, MF_SEEN, 0), 0);
	CHECK(a->v != b->v);
	CHECK_INT(a->v[0].flags & MF_STORED, MF_SEEN);
	CHECK_INT(b->v[0].flags & MF_STORED, 0);
	CHECK_INT(r->v[0].flags & MF_STORED, 0);
	/* b is told at its sync; a is not told its own change */
	CHECK_INT(mb_sync(b, &d), 0);
	REQUIRE(d.n_changed == 1);
	CHECK_INT(d.changed[0], 1);
	CHECK_INT(b->v[0].flags & MF_STORED, MF_SEEN);
	mb_delta_free(&d);
	CHECK_INT(mb_sync(a, &d), 0);
	CHECK_INT(d.n_changed, 0);
	CHECK_INT(mb_flags(a, 2), MF_RECENT);
	mb_delta_free(&d);
	CHECK_INT(mb_sync(r, &d), 0);
	CHECK_INT(d.n_changed, 1);
	mb_delta_free(&d);

	/* settled again: all three on one snapshot */
	REQUIRE(set_times_ns(f.fd, past, 2000));
	CHECK_INT(mb_sync(a, NULL), 0);
	CHECK_INT(mb_sync(b, NULL), 0);
	CHECK_INT(mb_sync(r, NULL), 0);
	CHECK(a->v == b->v && b->v == r->v);

	/* a delivery: the first read-write view to look claims it */
	REQUIRE(put(f.fd, "new/1700000004.a.h", "4\n"));
	CHECK_INT(mb_sync(b, &d), 0);
	CHECK_INT(d.n_recent, 1);
	REQUIRE(b->n == 4);
	CHECK_INT(mb_flags(b, 3), MF_RECENT);
	mb_delta_free(&d);
	REQUIRE(set_times_ns(f.fd, past, 3000));
	CHECK_INT(mb_sync(b, NULL), 0);
	CHECK_INT(mb_sync(a, &d), 0);
	CHECK_INT(d.n_recent, 0);
	REQUIRE(a->n == 4);
	CHECK(a->v == b->v);
	CHECK_INT(mb_flags(a, 3), 0);
	CHECK_INT(mb_flags(a, 2), MF_RECENT);
	mb_delta_free(&d);

	/* an expunge while a may not renumber: a keeps it (its own copy),
	 * b drops it, and a drops it at its next full sync */
	CHECK_INT(unlinkat(f.fd, "cur/1700000002.a.h:2,", 0), 0);
	REQUIRE(set_mtime_ns(f.fd, "cur", past, 4000));
	CHECK_INT(mb_sync_keep(a, &d), 0);
	CHECK_INT(d.n_expunged, 0);
	REQUIRE(a->n == 4);
	CHECK(a->v[1].gone);
	mb_delta_free(&d);
	CHECK_INT(mb_sync(b, &d), 0);
	CHECK_INT(d.n_expunged, 1);
	CHECK_INT(b->n, 3);
	mb_delta_free(&d);
	/* (b wrote the list: wait for it to settle, as time would) */
	REQUIRE(set_times_ns(f.fd, past, 5000));
	CHECK_INT(mb_sync(b, NULL), 0);
	CHECK_INT(mb_sync(a, &d), 0);
	REQUIRE(d.n_expunged == 1);
	CHECK_INT(d.expunged[0], 2);
	CHECK_INT(a->n, 3);
	CHECK(a->v == b->v);
out:
	mb_delta_free(&d);
	mb_close(&a);
	mb_close(&b);
	mb_close(&c);
	mb_close(&r);
	fx_done(&f);
}

/* Two files with one base (a reader copied instead of renaming): one
 * message, and always the same file, whatever order readdir gives. */
T(test_same_base_twice_is_one_message)
{
	struct fx f;
	struct mailbox *m = NULL;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,S", "1\n"));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,F", "1\n"));
	REQUIRE(put(f.fd, "cur/1700000002.a.h:2,", "2\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL && m->n == 2);
	CHECK_STR(m->v[0].name, "1700000001.a.h:2,F");
	CHECK_INT(m->v[0].flags & MF_STORED, MF_FLAGGED);
	for (int i = 0; i < 5; i++) {
		/* more entries, so readdir's order moves; read again each time */
		char extra[64];
		snprintf(extra, sizeof extra, "cur/17000001%02d.b.h:2,", i);
		REQUIRE(put(f.fd, extra, "x\n"));
		CHECK_INT(mb_sync(m, NULL), 0);
		REQUIRE(m->n == (size_t)(3 + i));
		CHECK_STR(m->v[0].name, "1700000001.a.h:2,F");
	}
out:
	mb_close(&m);
	fx_done(&f);
}

/* --- UIDVALIDITY and UIDs --------------------------------------------------------- */

T(test_validity_stable_uids_not_reused)
{
	struct fx f;
	struct mailbox *m = NULL;
	char want[256];
	uint32_t v0;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "1\n"));
	REQUIRE(put(f.fd, "cur/1700000002.a.h:2,", "2\n"));
	REQUIRE(put(f.fd, "cur/1700000003.a.h:2,", "3\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	v0 = m->validity;
	CHECK(v0 != 0);
	CHECK_INT(m->next, 4);
	CHECK_INT(mb_sync(m, NULL), 0);
	CHECK_INT(m->validity, v0);
	mb_close(&m);

	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	CHECK_INT(m->validity, v0);
	REQUIRE(m->n == 3);
	CHECK_INT(m->v[2].uid, 3);

	/* the highest UID deleted outside: its number stays used */
	CHECK_INT(unlinkat(f.fd, "cur/1700000003.a.h:2,", 0), 0);
	CHECK_INT(mb_sync(m, NULL), 0);
	CHECK_INT(m->validity, v0);
	CHECK_INT(m->n, 2);
	CHECK_INT(m->next, 4);
	snprintf(want, sizeof want, "3 V%u N4\n1 :1700000001.a.h\n2 :1700000002.a.h\n", v0);
	CHECK_STR(slurp(f.fd, "dovecot-uidlist"), want);
	mb_close(&m);

	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	CHECK_INT(m->validity, v0);
	CHECK_INT(m->next, 4);
	REQUIRE(put(f.fd, "new/1700000004.a.h", "4\n"));
	CHECK_INT(mb_sync(m, NULL), 0);
	REQUIRE(m->n == 3);
	CHECK_INT(m->v[2].uid, 4);
	CHECK_INT(m->next, 5);

	/* everything gone: an empty list that still remembers next */
	CHECK_INT(unlinkat(f.fd, "cur/1700000001.a.h:2,", 0), 0);
	CHECK_INT(unlinkat(f.fd, "cur/1700000002.a.h:2,", 0), 0);
	CHECK_INT(unlinkat(f.fd, "cur/1700000004.a.h:2,", 0), 0);
	CHECK_INT(mb_sync(m, NULL), 0);
	CHECK_INT(m->n, 0);
	CHECK_INT(m->validity, v0);
	snprintf(want, sizeof want, "3 V%u N5\n", v0);
	CHECK_STR(slurp(f.fd, "dovecot-uidlist"), want);
	mb_close(&m);
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	CHECK_INT(m->validity, v0);
	CHECK_INT(m->next, 5);
out:
	mb_close(&m);
	fx_done(&f);
}

/* A list written by Dovecot with one damaged line: the others keep their
 * UIDs, the file of the damaged line gets a new one, GUID and ext fields
 * are written back. */
T(test_damaged_line_keeps_other_uids)
{
	struct fx f;
	struct mailbox *m = NULL;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "a\n"));
	REQUIRE(put(f.fd, "cur/1700000002.b.h:2,S", "b\n"));
	REQUIRE(put(f.fd, "cur/1700000003.c.h:2,", "c\n"));
	REQUIRE(put(f.fd, "dovecot-uidlist",
	    "3 V1234567 N10 G0123456789abcdef0123456789abcdef\n"
	    "3 W12 :1700000001.a.h:2,\n"
	    "xyz :1700000002.b.h\n"
	    "7 :1700000003.c.h\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	CHECK_INT(m->validity, 1234567);
	REQUIRE(m->n == 3);
	CHECK_INT(m->v[0].uid, 3);
	CHECK_STR(m->v[0].name, "1700000001.a.h:2,");
	CHECK_INT(m->v[1].uid, 7);
	CHECK_STR(m->v[1].name, "1700000003.c.h:2,");
	CHECK_INT(m->v[2].uid, 10);
	CHECK_STR(m->v[2].name, "1700000002.b.h:2,S");
	CHECK_INT(m->v[2].flags & MF_STORED, MF_SEEN);
	CHECK_INT(m->next, 11);
	CHECK_STR(slurp(f.fd, "dovecot-uidlist"),
	    "3 V1234567 N11 G0123456789abcdef0123456789abcdef\n"
	    "3 W12 :1700000001.a.h\n"
	    "7 :1700000003.c.h\n"
	    "10 :1700000002.b.h\n");
out:
	mb_close(&m);
	fx_done(&f);
}

T(test_garbled_header_new_validity)
{
	struct fx f;
	struct mailbox *m = NULL;
	struct mb_delta d = { 0 };
	char want[256];
	uint32_t v0;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "a\n"));
	REQUIRE(put(f.fd, "cur/1700000002.b.h:2,", "b\n"));
	REQUIRE(put(f.fd, "cur/1700000003.c.h:2,", "c\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	v0 = m->validity;
	CHECK_INT(unlinkat(f.fd, "cur/1700000001.a.h:2,", 0), 0);
	CHECK_INT(mb_sync(m, NULL), 0);
	REQUIRE(m->n == 2);
	CHECK_INT(m->v[0].uid, 2);

	REQUIRE(put(f.fd, "dovecot-uidlist", "x\n"));
	CHECK_INT(mb_sync(m, &d), 0);
	CHECK(m->validity != v0);
	CHECK(m->validity > v0);	/* RFC 9051 2.3.1.1: it must grow */
	REQUIRE(m->n == 2);
	CHECK_INT(m->v[0].uid, 1);	/* renumbered under the new validity */
	CHECK_INT(m->v[1].uid, 2);
	CHECK_INT(m->next, 3);
	snprintf(want, sizeof want, "3 V%u N3\n1 :1700000002.b.h\n2 :1700000003.c.h\n",
	    m->validity);
	CHECK_STR(slurp(f.fd, "dovecot-uidlist"), want);

	/* an empty file is as unreadable as a garbled one */
	v0 = m->validity;
	REQUIRE(put(f.fd, "dovecot-uidlist", ""));
	CHECK_INT(mb_sync(m, NULL), 0);
	CHECK(m->validity > v0);
out:
	mb_delta_free(&d);
	mb_close(&m);
	fx_done(&f);
}

/* Wait until time() has just moved to a new second, so that what follows
 * runs within one second (it takes a few milliseconds). */
static void
wait_for_new_second(void)
{
	time_t s = time(NULL);
	struct timespec ts = { 0, 1000 * 1000 };
	while (time(NULL) == s)
		nanosleep(&ts, NULL);
}

/* BUG: a list rebuilt by a fresh mb_open takes time(NULL) as UIDVALIDITY;
 * when the old list was made in the same second (or the clock is behind
 * the old value), the "new" UIDVALIDITY is the old one while the UIDs are
 * renumbered.  A client that cached UID 2 = b now sees UID 1 = b under the
 * same UIDVALIDITY.  The test can only pass wrongly (when the second ticks
 * between the two opens), never fail wrongly. */
T(test_bug_rebuild_on_open_reuses_validity)
{
	struct fx f;
	struct mailbox *m = NULL;
	uint32_t v0;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "a\n"));
	REQUIRE(put(f.fd, "cur/1700000002.b.h:2,", "b\n"));
	wait_for_new_second();
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	v0 = m->validity;
	CHECK_INT(unlinkat(f.fd, "cur/1700000001.a.h:2,", 0), 0);
	CHECK_INT(mb_sync(m, NULL), 0);
	REQUIRE(m->n == 1);
	CHECK_INT(m->v[0].uid, 2);
	mb_close(&m);

	REQUIRE(put(f.fd, "dovecot-uidlist", "x\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 1);
	CHECK_INT(m->v[0].uid, 1);
	CHECK(m->validity != v0);
out:
	mb_close(&m);
	fx_done(&f);
}

/* --- flags ------------------------------------------------------------------------ */

#define BASE	"1700000001.M1P1.h,S=5"

T(test_set_flags_renames)
{
	struct fx f;
	struct mailbox *m = NULL;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/" BASE ":2,PS", "hello"));
	REQUIRE(put(f.fd, "cur/1700000002.noinfo.h", "x"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 2);
	CHECK_INT(m->v[0].flags & MF_STORED, MF_SEEN);	/* P (passed) is no IMAP flag */

	/* every flag and two keywords: letters in ASCII order, P kept;
	 * \Recent is not a stored flag */
	CHECK_INT(mb_set_flags(m, 0, MF_DRAFT | MF_FLAGGED | MF_ANSWERED | MF_SEEN |
	    MF_DELETED | MF_RECENT, 1u | 4u), 0);
	CHECK_STR(m->v[0].name, BASE ":2,DFPRSTac");
	CHECK_STR(ls(f.fd, "cur"), BASE ":2,DFPRSTac 1700000002.noinfo.h");
	CHECK_INT(m->v[0].flags & MF_STORED, MF_STORED);
	CHECK_INT(m->v[0].kw, 5);
	CHECK_STR(slurp(f.fd, "cur/" BASE ":2,DFPRSTac"), "hello");

	CHECK_INT(mb_set_flags(m, 0, 0, 0), 0);
	CHECK_STR(ls(f.fd, "cur"), BASE ":2,P 1700000002.noinfo.h");
	CHECK_INT(m->v[0].flags & MF_STORED, 0);
	CHECK_INT(m->v[0].kw, 0);
	CHECK_INT(mb_set_flags(m, 0, MF_ANSWERED, 1u << 25), 0);
	CHECK_STR(m->v[0].name, BASE ":2,PRz");
	CHECK_INT(mb_set_flags(m, 0, 0, 0), 0);
	CHECK_STR(m->v[0].name, BASE ":2,P");

	/* a name without info gets one */
	CHECK_INT(mb_set_flags(m, 1, MF_SEEN, 0), 0);
	CHECK_STR(m->v[1].name, "1700000002.noinfo.h:2,S");
	CHECK_STR(ls(f.fd, "cur"), BASE ":2,P 1700000002.noinfo.h:2,S");

	/* mutt flagged it first: found again by its base; our STORE sets
	 * exactly what was asked */
	CHECK_INT(renameat(f.fd, "cur/" BASE ":2,P", f.fd, "cur/" BASE ":2,FP"), 0);
	CHECK_INT(mb_set_flags(m, 0, MF_SEEN, 0), 0);
	CHECK_STR(m->v[0].name, BASE ":2,PS");
	CHECK_STR(ls(f.fd, "cur"), BASE ":2,PS 1700000002.noinfo.h:2,S");
	CHECK_INT(m->v[0].flags & MF_STORED, MF_SEEN);

	/* gone: ENOENT, nothing renamed */
	CHECK_INT(unlinkat(f.fd, "cur/" BASE ":2,PS", 0), 0);
	errno = 0;
	CHECK_INT(mb_set_flags(m, 0, MF_DELETED, 0), -1);
	CHECK_INT(errno, ENOENT);
	CHECK_STR(ls(f.fd, "cur"), "1700000002.noinfo.h:2,S");
out:
	mb_close(&m);
	fx_done(&f);
}

/* --- keywords --------------------------------------------------------------------- */

T(test_keywords_create_and_limit)
{
	struct fx f;
	struct mailbox *m = NULL;
	char name[80], want[2048];
	size_t len = 0;
	REQUIRE(fx_init(&f));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	CHECK_INT(mb_keyword(m, "$Label", false), -1);
	CHECK(!exists(f.fd, "dovecot-keywords"));
	CHECK_INT(mb_keyword(m, "$Label", true), 0);
	CHECK_STR(slurp(f.fd, "dovecot-keywords"), "0 $Label\n");
	CHECK(!exists(f.fd, "dovecot-keywords.tmp"));
	CHECK(!exists(f.fd, "dovecot-uidlist.lock"));
	CHECK_INT(mb_keyword(m, "$label", false), 0);
	CHECK_INT(mb_keyword(m, "$LABEL", true), 0);
	CHECK_STR(slurp(f.fd, "dovecot-keywords"), "0 $Label\n");
	CHECK_INT(mb_keyword(m, "Work", true), 1);
	CHECK_STR(slurp(f.fd, "dovecot-keywords"), "0 $Label\n1 Work\n");

	/* MB_KEYWORD_MAX bytes fit, one more does not */
	memset(name, 'k', MB_KEYWORD_MAX + 1);
	name[MB_KEYWORD_MAX + 1] = '\0';
	CHECK_INT(mb_keyword(m, name, true), -1);
	name[MB_KEYWORD_MAX] = '\0';
	CHECK_INT(mb_keyword(m, name, true), 2);

	len = (size_t)snprintf(want, sizeof want, "0 $Label\n1 Work\n2 %s\n", name);
	for (int i = 3; i < MB_KEYWORDS_MAX; i++) {
		char kw[16];
		snprintf(kw, sizeof kw, "kw%02d", i);
		CHECK_INT(mb_keyword(m, kw, true), i);
		len += (size_t)snprintf(want + len, sizeof want - len, "%d %s\n", i, kw);
	}
	/* 26 letters a-z: the 27th has no room */
	CHECK_INT(mb_keyword(m, "OneTooMany", true), -1);
	CHECK_INT(mb_keyword(m, "onetoomany", false), -1);
	CHECK_INT(mb_keyword(m, "KW25", false), 25);
	CHECK_INT(mb_keyword(m, "$label", true), 0);
	CHECK_STR(slurp(f.fd, "dovecot-keywords"), want);
out:
	mb_close(&m);
	fx_done(&f);
}

T(test_keywords_from_disk)
{
	struct fx f;
	struct mailbox *m = NULL;
	REQUIRE(fx_init(&f));
	/* written by Dovecot or by hand: a gap, a bad line */
	REQUIRE(put(f.fd, "dovecot-keywords", "0 $Label\n2 Other\nbad line\n"));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,Sc", "a\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 1);
	CHECK_INT(m->v[0].flags & MF_STORED, MF_SEEN);
	CHECK_INT(m->v[0].kw, 1u << 2);
	CHECK_INT(mb_keyword(m, "other", false), 2);
	CHECK_INT(mb_keyword(m, "$LABEL", false), 0);
	CHECK_INT(mb_keyword(m, "bad", false), -1);
	CHECK_INT(mb_keyword(m, "New", true), 3);
	CHECK_STR(slurp(f.fd, "dovecot-keywords"), "0 $Label\n2 Other\n3 New\n");

	/* another program adds one: a sync reads it */
	REQUIRE(put(f.fd, "dovecot-keywords", "0 $Label\n2 Other\n3 New\n4 Later\n"));
	REQUIRE(put(f.fd, "new/1700000002.a.h", "b\n"));
	CHECK_INT(mb_sync(m, NULL), 0);
	CHECK_INT(mb_keyword(m, "later", false), 4);
out:
	mb_close(&m);
	fx_done(&f);
}

/* talon-modseq: read back as written; a damaged line costs only its
 * message a new mod-sequence; a deleted index raises the expunge floor
 * and never lowers HIGHESTMODSEQ. */
T(test_modseq_index)
{
	struct fx f;
	struct mailbox *m = NULL;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,S", "a\n"));
	REQUIRE(put(f.fd, "cur/1700000002.b.h:2,", "b\n"));
	REQUIRE(put(f.fd, "cur/1700000003.c.h:2,", "c\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL && m->n == 3);
	uint64_t ms1 = m->v[0].modseq, ms2 = m->v[1].modseq, high = m->highest;
	CHECK(ms1 > 0 && high >= ms2);
	CHECK_INT(mb_expunge(m, 2), 0);
	CHECK_INT(mb_sync(m, NULL), 0);
	REQUIRE(m->n_gone == 1);
	uint64_t gone_ms = m->gone[0].modseq;
	mb_close(&m);

	/* a second open, in a process started again (no snapshot kept),
	 * reads the same numbers */
	mb_cache_flush();
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL && m->n == 2);
	CHECK(m->v[0].modseq == ms1 && m->v[1].modseq == ms2);
	REQUIRE(m->n_gone == 1);
	CHECK(m->gone[0].uid == 3 && m->gone[0].modseq == gone_ms);
	uint64_t floor0 = m->gone_floor, high2 = m->highest;
	mb_close(&m);

	/* message 2's line damaged (a stray letter): only it changes */
	const char *ix = slurp(f.fd, "talon-modseq");
	char fixed[8192];
	snprintf(fixed, sizeof fixed, "%s", ix);
	char *l2 = strstr(fixed, "\n2 ");
	REQUIRE(l2 != NULL);
	l2[2] = 'z';
	REQUIRE(put(f.fd, "talon-modseq", fixed));
	mb_cache_flush();
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL && m->n == 2);
	CHECK(m->v[0].modseq == ms1);
	CHECK(m->v[1].modseq > high2);
	CHECK(m->gone_floor == floor0);
	uint64_t high3 = m->highest;
	mb_close(&m);

	/* deleted: nothing goes back, older expunges are "forgotten" */
	REQUIRE(unlinkat(f.fd, "talon-modseq", 0) == 0);
	mb_cache_flush();
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL && m->n == 2);
	CHECK(m->highest > high3);
	CHECK(m->v[0].modseq > high3 && m->v[1].modseq > high3);
	CHECK(m->gone_floor >= high3);
out:
	mb_close(&m);
	fx_done(&f);
}

/* --- APPEND ----------------------------------------------------------------------- */

T(test_append)
{
	struct fx f;
	struct mailbox *m = NULL;
	char why[128] = "", tail[128], path[512];
	uint32_t uid = 0;
	struct stat st;
	static const char msg[] = "Subject: a\r\nX: b\rc\r\n\r\nbody\r\n";
	static const char stored[] = "Subject: a\nX: b\rc\n\nbody\n";
	REQUIRE(fx_init(&f));
	mb_set_host("test:host/x");
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "1\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 1);
	CHECK_INT(mb_keyword(m, "$Label", true), 0);

	time_t t0 = time(NULL);
	CHECK_INT(mb_append(m, (const uint8_t *)msg, strlen(msg),
	    MF_SEEN | MF_FLAGGED | MF_RECENT, 1u, 1600000000, &uid, why, sizeof why), 0);
	time_t t1 = time(NULL);
	CHECK_INT(uid, 2);
	CHECK_INT(m->next, 3);
	REQUIRE(m->n == 2);
	CHECK_INT(mb_find_uid(m, 2), 1);
	/* S= is the size on disk (LF), the flags are sorted, keyword a */
	snprintf(tail, sizeof tail, "test_host_x,S=%zu:2,FSa", strlen(stored));
	CHECK(is_our_name(m->v[1].name, t0, t1, 1, tail));
	CHECK_INT(m->v[1].flags & MF_STORED, MF_SEEN | MF_FLAGGED);
	CHECK_INT(m->v[1].kw, 1);
	CHECK(!m->v[1].in_new);
	snprintf(path, sizeof path, "cur/%s", m->v[1].name);
	CHECK_STR(slurp(f.fd, path), stored);
	CHECK_INT(fstatat(f.fd, path, &st, 0), 0);
	CHECK_INT(st.st_mtime, 1600000000);
	CHECK_STR(ls(f.fd, "tmp"), "");
	CHECK_STR(ls(f.fd, "new"), "");
	/* RFC822.SIZE counts the CRLF the client sent */
	CHECK_INT(mb_vsize(m, 1), strlen(msg));
	CHECK_INT(m->v[1].mtime, 1600000000);

	/* LF only, no flags, internaldate 0: now */
	t0 = time(NULL);
	CHECK_INT(mb_append(m, (const uint8_t *)"a\nb\n", 4, 0, 0, 0, &uid, why, sizeof why), 0);
	t1 = time(NULL);
	CHECK_INT(uid, 3);
	REQUIRE(m->n == 3);
	CHECK(is_our_name(m->v[2].name, t0, t1, 2, "test_host_x,S=4:2,"));
	CHECK_INT(m->v[2].flags & MF_STORED, 0);
	snprintf(path, sizeof path, "cur/%s", m->v[2].name);
	CHECK_STR(slurp(f.fd, path), "a\nb\n");
	CHECK_INT(fstatat(f.fd, path, &st, 0), 0);
	CHECK(st.st_mtime >= t0 && st.st_mtime <= t1);
	CHECK_INT(mb_vsize(m, 2), 6);

	/* the list has the bases, in UID order */
	{
		char want[1024];
		size_t b1 = strcspn(m->v[1].name, ":"), b2 = strcspn(m->v[2].name, ":");
		snprintf(want, sizeof want, "3 V%u N4\n1 :1700000001.a.h\n2 :%.*s\n3 :%.*s\n",
		    m->validity, (int)b1, m->v[1].name, (int)b2, m->v[2].name);
		CHECK_STR(slurp(f.fd, "dovecot-uidlist"), want);
	}
out:
	mb_set_host("localhost");
	mb_close(&m);
	fx_done(&f);
}

/* BUG: mb_vsize of an empty message says 0 the first time and 1 after
 * (mailbox.c caches "n ? n : 1" so that 0 can mean "not known"), so
 * RFC822.SIZE of one message changes between two FETCHes. */
T(test_bug_vsize_of_empty_message_changes)
{
	struct fx f;
	struct mailbox *m = NULL;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "new/1700000001.empty.h,S=0", ""));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 1);
	CHECK_INT(mb_vsize(m, 0), 0);
	CHECK_INT(mb_vsize(m, 0), 0);
out:
	mb_close(&m);
	fx_done(&f);
}

/* --- COPY ------------------------------------------------------------------------- */

T(test_copy_hard_link)
{
	struct fx f;
	struct mailbox *src = NULL, *dst = NULL, *ro = NULL;
	char why[128] = "", path[512];
	uint32_t uid = 0;
	struct stat s1, s2;
	REQUIRE(fx_init(&f));
	mb_set_host("copyhost");
	REQUIRE(put(f.fd, "dovecot-keywords", "0 $A\n1 $B\n"));
	REQUIRE(put(f.fd, "cur/1700000001.a.h,S=6:2,Sb", "hello\n"));
	REQUIRE(mb_create(f.fd, ".Sent") == 0);
	REQUIRE(put(f.fd, ".Sent/dovecot-keywords", "0 $X\n1 $Y\n2 $Z\n"));
	src = open_mb(&f, ".", false);
	dst = open_mb(&f, ".Sent", false);
	REQUIRE(src != NULL && dst != NULL);
	REQUIRE(src->n == 1);
	CHECK_INT(src->v[0].kw, 2);	/* b: $B here */

	time_t t0 = time(NULL);
	CHECK_INT(mb_copy(src, 0, dst, &uid, why, sizeof why), 0);
	time_t t1 = time(NULL);
	CHECK_INT(uid, 1);
	REQUIRE(dst->n == 1);
	CHECK_INT(dst->v[0].uid, 1);
	CHECK_INT(dst->v[0].flags & MF_STORED, MF_SEEN);
	/* $B is d in the destination, created after its three */
	CHECK_INT(dst->v[0].kw, 1u << 3);
	CHECK(is_our_name(dst->v[0].name, t0, t1, 1, "copyhost,S=6:2,Sd"));
	CHECK_STR(slurp(f.fd, ".Sent/dovecot-keywords"), "0 $X\n1 $Y\n2 $Z\n3 $B\n");
	CHECK_STR(slurp(f.fd, "dovecot-keywords"), "0 $A\n1 $B\n");
	CHECK_STR(ls(f.fd, ".Sent/tmp"), "");
	CHECK_STR(ls(f.fd, ".Sent/new"), "");
	snprintf(path, sizeof path, ".Sent/cur/%s", dst->v[0].name);
	CHECK_STR(slurp(f.fd, path), "hello\n");
	/* one inode, two names */
	CHECK_INT(fstatat(f.fd, "cur/1700000001.a.h,S=6:2,Sb", &s1, 0), 0);
	CHECK_INT(fstatat(f.fd, path, &s2, 0), 0);
	CHECK_INT(s1.st_ino, s2.st_ino);
	CHECK_INT(s1.st_dev, s2.st_dev);
	CHECK_INT(s2.st_nlink, 2);
	/* the source is as it was */
	REQUIRE(src->n == 1);
	CHECK_STR(src->v[0].name, "1700000001.a.h,S=6:2,Sb");
	CHECK_STR(ls(f.fd, "cur"), "1700000001.a.h,S=6:2,Sb");

	/* again: the next UID, the keyword found, not added twice */
	CHECK_INT(mb_copy(src, 0, dst, &uid, why, sizeof why), 0);
	CHECK_INT(uid, 2);
	REQUIRE(dst->n == 2);
	CHECK_INT(dst->v[1].kw, 1u << 3);
	CHECK_STR(slurp(f.fd, ".Sent/dovecot-keywords"), "0 $X\n1 $Y\n2 $Z\n3 $B\n");
	CHECK_INT(fstatat(f.fd, "cur/1700000001.a.h,S=6:2,Sb", &s1, 0), 0);
	CHECK_INT(s1.st_nlink, 3);

	/* into a read-only view: refused, nothing left behind */
	ro = open_mb(&f, ".Sent", true);
	REQUIRE(ro != NULL);
	CHECK_INT(mb_copy(src, 0, ro, &uid, why, sizeof why), -1);
	CHECK_STR(why, "Mailbox is read-only");
	CHECK_STR(ls(f.fd, ".Sent/tmp"), "");
out:
	mb_set_host("localhost");
	mb_close(&src);
	mb_close(&dst);
	mb_close(&ro);
	fx_done(&f);
}

/* Across file systems (/tmp and the /dev/shm tmpfs) the link fails and
 * the bytes are copied, keeping the mtime (INTERNALDATE).  Skipped when
 * there is no second file system. */
T(test_copy_across_file_systems)
{
	struct fx f, g;
	struct mailbox *src = NULL, *dst = NULL;
	char why[128] = "", path[512];
	uint32_t uid = 0;
	struct stat s1, s2;
	memset(&g, 0, sizeof g);
	g.fd = g.root_fd = -1;
	REQUIRE(fx_init(&f));
	if (!fx_init_in(&g, "/dev/shm")) {
		fprintf(stderr, "test_copy_across_file_systems: no /dev/shm, skipped\n");
		goto out;
	}
	REQUIRE(fstat(f.fd, &s1) == 0 && fstat(g.fd, &s2) == 0);
	if (s1.st_dev == s2.st_dev) {
		fprintf(stderr, "test_copy_across_file_systems: /tmp and /dev/shm are one "
		    "file system, skipped\n");
		goto out;
	}
	mb_set_host("copyhost");
	REQUIRE(put(f.fd, "cur/1700000001.a.h,S=6:2,FS", "hello\n"));
	REQUIRE(set_mtime(f.fd, "cur/1700000001.a.h,S=6:2,FS", 1500000000));
	src = open_mb(&f, ".", false);
	REQUIRE(src != NULL);
	REQUIRE(mb_open(g.fd, ".", "test/shm", false, &dst, why, sizeof why) == 0);
	REQUIRE(src->n == 1);
	time_t t0 = time(NULL);
	CHECK_INT(mb_copy(src, 0, dst, &uid, why, sizeof why), 0);
	time_t t1 = time(NULL);
	CHECK_INT(uid, 1);
	REQUIRE(dst->n == 1);
	CHECK(is_our_name(dst->v[0].name, t0, t1, 1, "copyhost,S=6:2,FS"));
	CHECK_INT(dst->v[0].flags & MF_STORED, MF_SEEN | MF_FLAGGED);
	snprintf(path, sizeof path, "cur/%s", dst->v[0].name);
	CHECK_STR(slurp(g.fd, path), "hello\n");
	CHECK_INT(fstatat(g.fd, path, &s2, 0), 0);
	CHECK_INT(s2.st_mtime, 1500000000);
	CHECK_INT(s2.st_nlink, 1);
	CHECK_STR(ls(g.fd, "tmp"), "");
out:
	mb_set_host("localhost");
	mb_close(&src);
	mb_close(&dst);
	fx_done(&g);
	fx_done(&f);
}

/* --- EXPUNGE ---------------------------------------------------------------------- */

T(test_expunge)
{
	struct fx f;
	struct mailbox *m = NULL;
	struct mb_delta d = { 0 };
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,T", "a\n"));
	REQUIRE(put(f.fd, "cur/1700000002.b.h:2,S", "b\n"));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(m->n == 2);

	CHECK_INT(mb_expunge(m, 0), 0);
	CHECK_STR(ls(f.fd, "cur"), "1700000002.b.h:2,S");
	/* the view keeps it until the next sync */
	REQUIRE(m->n == 2);
	CHECK_INT(m->v[0].uid, 1);
	CHECK_INT(mb_open_msg(m, 0), -1);
	CHECK_INT(mb_sync(m, &d), 0);
	REQUIRE(d.n_expunged == 1);
	CHECK_INT(d.expunged[0], 1);
	REQUIRE(m->n == 1);
	CHECK_INT(m->v[0].uid, 2);
	mb_delta_free(&d);

	/* renamed by someone else first: found by its base and removed */
	CHECK_INT(renameat(f.fd, "cur/1700000002.b.h:2,S", f.fd, "cur/1700000002.b.h:2,ST"), 0);
	CHECK_INT(mb_expunge(m, 0), 0);
	CHECK_STR(ls(f.fd, "cur"), "");
	/* already gone: nothing to do, not an error */
	CHECK_INT(mb_expunge(m, 0), 0);
	CHECK_INT(mb_sync(m, &d), 0);
	CHECK_INT(m->n, 0);
	REQUIRE(d.n_expunged == 1);
	CHECK_INT(d.expunged[0], 1);
out:
	mb_delta_free(&d);
	mb_close(&m);
	fx_done(&f);
}

/* --- the dot-lock ----------------------------------------------------------------- */

T(test_stale_lock_removed)
{
	struct fx f;
	struct mailbox *m = NULL;
	REQUIRE(fx_init(&f));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(put(f.fd, "dovecot-uidlist.lock", "crashed\n"));
	REQUIRE(set_mtime(f.fd, "dovecot-uidlist.lock", time(NULL) - 60));
	REQUIRE(put(f.fd, "new/1700000001.a.h", "a\n"));
	CHECK_INT(mb_sync(m, NULL), 0);
	CHECK(!exists(f.fd, "dovecot-uidlist.lock"));
	REQUIRE(m->n == 1);
	CHECK_INT(m->v[0].uid, 1);
	CHECK_STR(ls(f.fd, "cur"), "1700000001.a.h:2,");
out:
	mb_close(&m);
	fx_done(&f);
}

/* The one slow test: a live lock makes a sync give up after about 1 s. */
T(test_fresh_lock_blocks_sync)
{
	struct fx f;
	struct mailbox *m = NULL;
	struct mb_delta d = { 0 };
	REQUIRE(fx_init(&f));
	m = open_mb(&f, ".", false);
	REQUIRE(m != NULL);
	REQUIRE(put(f.fd, "dovecot-uidlist.lock", "other\n"));
	REQUIRE(put(f.fd, "new/1700000001.a.h", "a\n"));
	uint64_t t0 = now_ms();
	CHECK_INT(mb_sync(m, &d), -1);
	uint64_t ms = now_ms() - t0;
	CHECK(ms >= 900);
	CHECK(ms < 10000);
	CHECK_INT(m->n, 0);
	CHECK_INT(d.n_expunged, 0);
	CHECK_STR(slurp(f.fd, "dovecot-uidlist.lock"), "other\n");
	CHECK_STR(ls(f.fd, "new"), "1700000001.a.h");
	mb_delta_free(&d);

	CHECK_INT(unlinkat(f.fd, "dovecot-uidlist.lock", 0), 0);
	CHECK_INT(mb_sync(m, NULL), 0);
	CHECK_INT(m->n, 1);
out:
	mb_delta_free(&d);
	mb_close(&m);
	fx_done(&f);
}

/* --- folders ---------------------------------------------------------------------- */

T(test_delete)
{
	struct fx f;
	REQUIRE(fx_init(&f));
	REQUIRE(mb_create(f.fd, ".Trash") == 0);
	REQUIRE(put(f.fd, ".Trash/cur/1700000001.a.h:2,S", "a\n"));
	REQUIRE(put(f.fd, ".Trash/new/1700000002.a.h", "b\n"));
	REQUIRE(put(f.fd, ".Trash/tmp/1700000003.a.h", "c\n"));
	REQUIRE(put(f.fd, ".Trash/dovecot-uidlist", "3 V1 N3\n1 :1700000001.a.h\n"));
	REQUIRE(put(f.fd, ".Trash/dovecot-keywords", "0 $Label\n"));
	CHECK_INT(mb_delete(f.fd, ".Trash"), 0);
	CHECK(!exists(f.fd, ".Trash"));

	REQUIRE(mkdirat(f.fd, "Trash", 0700) == 0);
	REQUIRE(put(f.fd, "cur/1700000001.a.h:2,", "inbox\n"));
	errno = 0;
	CHECK_INT(mb_delete(f.fd, "."), -1);
	CHECK_INT(errno, EINVAL);
	errno = 0;
	CHECK_INT(mb_delete(f.fd, "Trash"), -1);
	CHECK_INT(errno, EINVAL);
	errno = 0;
	CHECK_INT(mb_delete(f.fd, ""), -1);
	CHECK_INT(errno, EINVAL);
	errno = 0;
	CHECK_INT(mb_delete(f.fd, ".a/b"), -1);
	CHECK_INT(errno, EINVAL);
	errno = 0;
	CHECK_INT(mb_delete(f.fd, ".Nope"), -1);
	CHECK_INT(errno, ENOENT);
	CHECK_STR(ls(f.fd, "."), "Trash cur new tmp");
	CHECK_STR(ls(f.fd, "cur"), "1700000001.a.h:2,");
out:
	fx_done(&f);
}

/* BUG: mb_delete's own name check lets ".." through (a leading dot, more
 * than one byte, no '/'), and then empties the Maildir's parent.  The IMAP
 * layer refuses ".." (imap/mutf7.c mailbox_to_dir), so this needs another
 * caller; but the check is there to stop exactly this.  The Maildir here
 * is <tmp>/mail, so the damage stays inside <tmp>. */
T(test_bug_delete_dotdot)
{
	struct fx f;
	REQUIRE(fx_init(&f));
	REQUIRE(put(f.root_fd, "canary", "keep me\n"));
	errno = 0;
	CHECK_INT(mb_delete(f.fd, ".."), -1);
	CHECK_INT(errno, EINVAL);
	CHECK_STR(slurp(f.root_fd, "canary"), "keep me\n");
	CHECK_STR(ls(f.root_fd, "."), "canary mail");
	CHECK_STR(ls(f.fd, "."), "cur new tmp");
out:
	fx_done(&f);
}

struct dirs {
	char name[16][32];
	size_t n;
};

static void
add_dir(void *arg, const char *dir)
{
	struct dirs *ds = arg;
	if (ds->n < NELEM(ds->name))
		str_copy(ds->name[ds->n], sizeof ds->name[0], dir);
	ds->n++;
}

static int
dir_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

T(test_list_dirs)
{
	struct fx f;
	struct dirs ds;
	memset(&ds, 0, sizeof ds);
	REQUIRE(fx_init(&f));
	REQUIRE(mb_create(f.fd, ".A") == 0);
	REQUIRE(mb_create(f.fd, ".A.B") == 0);
	REQUIRE(put(f.fd, ".notadir", "x\n"));
	REQUIRE(put(f.fd, "dovecot-uidlist", "3 V1 N1\n"));
	REQUIRE(symlinkat(".A", f.fd, ".link") == 0);
	REQUIRE(mkdirat(f.fd, "plain", 0700) == 0);
	CHECK_INT(mb_list_dirs(f.fd, add_dir, &ds), 0);
	REQUIRE(ds.n == 2);
	qsort(ds.name, ds.n, sizeof ds.name[0], dir_cmp);
	CHECK_STR(ds.name[0], ".A");
	CHECK_STR(ds.name[1], ".A.B");

	/* listed twice from the same descriptor: the same answer */
	ds.n = 0;
	CHECK_INT(mb_list_dirs(f.fd, add_dir, &ds), 0);
	CHECK_INT(ds.n, 2);
out:
	fx_done(&f);
}

int
main(void)
{
	log_init("mbtest", getenv("MBTEST_LOG") != NULL, NULL);
	RUN(test_create_and_open_missing);
	RUN(test_delivered_file_moves_to_cur);
	RUN(test_readonly_open_leaves_new);
	RUN(test_uids_in_name_order);
	RUN(test_sync_deltas);
	RUN(test_sync_skip_path);
	RUN(test_sync_same_tick_change);
	RUN(test_sync_fine_times);
	RUN(test_views_share_snapshot);
	RUN(test_same_base_twice_is_one_message);
	RUN(test_validity_stable_uids_not_reused);
	RUN(test_damaged_line_keeps_other_uids);
	RUN(test_garbled_header_new_validity);
	RUN(test_bug_rebuild_on_open_reuses_validity);
	RUN(test_set_flags_renames);
	RUN(test_keywords_create_and_limit);
	RUN(test_keywords_from_disk);
	RUN(test_modseq_index);
	RUN(test_append);
	RUN(test_bug_vsize_of_empty_message_changes);
	RUN(test_copy_hard_link);
	RUN(test_copy_across_file_systems);
	RUN(test_expunge);
	RUN(test_stale_lock_removed);
	RUN(test_fresh_lock_blocks_sync);
	RUN(test_delete);
	RUN(test_bug_delete_dotdot);
	RUN(test_list_dirs);
	return t_done("store_mailbox");
}

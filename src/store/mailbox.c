/*
 * store/mailbox.c - a Maildir mailbox kept in step with the disk and
 * with dovecot-uidlist (see mailbox.h).
 *
 * Input:   directory listings and files other programs write (mutt renames
 *          files, deliver links new ones, a cron job deletes some, Dovecot
 *          rewrites the lists): all untrusted text.
 * Output:  renamed and unlinked message files, dovecot-uidlist and
 *          dovecot-keywords replaced atomically under the dot-lock.
 * Runs in: mailbox process (store owner).
 */
#include "store/mailbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#define LOCK_NAME	"dovecot-uidlist.lock"
#define LIST_NAME	"dovecot-uidlist"
#define KW_NAME		"dovecot-keywords"
#define IX_NAME		"talon-modseq"
#define VALIDITY_NAME	"talon-uidvalidity"
#define IX_MAX		(512u << 20)
#define LIST_MAX	(256u << 20)
#define KW_FILE_MAX	65536u
#define LOCK_STALE_S	30	/* a lock this old was left by a crash */
#define LOCK_TRIES	100	/* 10 ms apart */
#define FILES_MAX	2000000u

static char mb_host[128] = "localhost";

/* Maildir names carry the host name; ':' and '/' would break them. */
void
mb_set_host(const char *host)
{
	size_t j = 0;
	for (size_t i = 0; host[i] && j < sizeof mb_host - 1; i++)
		mb_host[j++] = host[i] == '/' || host[i] == ':' ? '_' : host[i];
	mb_host[j] = '\0';
}

/* --- names and flags ------------------------------------------------------------ */

/* The flags and keywords in a name's ":2," part. */
static void
name_flags(const char *name, uint8_t *flags, uint32_t *kw)
{
	*flags = 0;
	*kw = 0;
	const char *info = strstr(name, ":2,");
	if (info == NULL)
		return;
	for (const char *p = info + 3; *p; p++) {
		switch (*p) {
		case 'D': *flags |= MF_DRAFT; break;
		case 'F': *flags |= MF_FLAGGED; break;
		case 'R': *flags |= MF_ANSWERED; break;
		case 'S': *flags |= MF_SEEN; break;
		case 'T': *flags |= MF_DELETED; break;
		default:
			if (*p >= 'a' && *p <= 'z')
				*kw |= 1u << (*p - 'a');
			break;
		}
	}
}

/* The name with its info part rewritten for flags and kw; letters we do
 * not know (P, passed) are kept.  Letters in ASCII order, as Maildir
 * readers expect.  -1 when it does not fit. */
static int
name_with_flags(const char *name, uint8_t flags, uint32_t kw, char *out, size_t n)
{
	size_t blen = uidlist_base_len(name);
	bool letter[128] = { false };
	const char *info = strstr(name, ":2,");
	if (info != NULL)
		for (const char *p = info + 3; *p; p++)
			if ((unsigned char)*p < 128 && strchr("DFRST", *p) == NULL &&
			    !(*p >= 'a' && *p <= 'z') && *p > ' ')
				letter[(unsigned char)*p] = true;
	letter['D'] = flags & MF_DRAFT;
	letter['F'] = flags & MF_FLAGGED;
	letter['R'] = flags & MF_ANSWERED;
	letter['S'] = flags & MF_SEEN;
	letter['T'] = flags & MF_DELETED;
	for (int i = 0; i < MB_KEYWORDS_MAX; i++)
		letter['a' + i] = kw & (1u << i);
	if (blen + 4 > n)
		return -1;
	memcpy(out, name, blen);
	size_t j = blen;
	memcpy(out + j, ":2,", 3);
	j += 3;
	for (int c = 33; c < 127; c++) {
		if (!letter[c] || c == ',' || c == '/' || c == ':')
			continue;
		if (j + 2 > n)
			return -1;
		out[j++] = (char)c;
	}
	out[j] = '\0';
	return 0;
}

/* --- small file helpers --------------------------------------------------------- */

static int
read_file(int dirfd, const char *name, size_t max, struct buf *out)
{
	buf_init(out, max);
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	for (;;) {
		size_t room;
		uint8_t *w = buf_space(out, 65536, &room);
		if (room == 0) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		ssize_t r = read(fd, w, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		buf_commit(out, (size_t)r);
	}
	close(fd);
	return 0;
}

static bool
ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static void
stat_mtime(int dirfd, const char *name, struct timespec *ts)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, 0) == 0)
		*ts = st.st_mtim;
	else
		memset(ts, 0, sizeof *ts);
}

/* --- the dot-lock ---------------------------------------------------------------- */

static int
lock_take(struct mailbox *m)
{
	for (int i = 0; i < LOCK_TRIES; i++) {
		int fd = openat(m->dir_fd, LOCK_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -1;
		struct stat st;
		if (fstatat(m->dir_fd, LOCK_NAME, &st, 0) == 0 &&
		    st.st_mtime + LOCK_STALE_S < time(NULL)) {
			log_warn("mailbox event=stale-lock mailbox=%s age=%llds", m->label,
			    (long long)(time(NULL) - st.st_mtime));
			unlinkat(m->dir_fd, LOCK_NAME, 0);
			continue;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	errno = EWOULDBLOCK;
	return -1;
}

static void
lock_drop(struct mailbox *m, int fd)
{
	close(fd);
	unlinkat(m->dir_fd, LOCK_NAME, 0);
}

/* The new text goes into the lock file, which then becomes the list. */
static int
lock_commit(struct mailbox *m, int fd, const struct buf *text)
{
	if (write_all(fd, text->data, text->len) < 0 || fsync(fd) < 0 ||
	    renameat(m->dir_fd, LOCK_NAME, m->dir_fd, LIST_NAME) < 0) {
		int e = errno;
		lock_drop(m, fd);
		errno = e;
		return -1;
	}
	close(fd);
	fsync(m->dir_fd);
	return 0;
}

/* --- keywords ---------------------------------------------------------------------- */

/* A name IMAP can show as a keyword: an atom (RFC 9051 9 flag-keyword:
 * no CTL, SP or atom-specials).  The file is not ours alone: a name
 * with CR, "(" or a trailing "{3}" would break the FLAGS lists it is
 * written into, or smuggle a literal into the client's parser.  The same
 * rule as m_flag_args (imap/mstore.c) for names clients create. */
static bool
keyword_name_ok(const char *p, size_t n)
{
	if (n == 0 || n > MB_KEYWORD_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x21 || c > 0x7e || strchr("(){ %*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

static void
keywords_read(struct mailbox *m)
{
	struct buf b;
	m->n_kw = 0;
	memset(m->kw, 0, sizeof m->kw);
	if (read_file(m->dir_fd, KW_NAME, KW_FILE_MAX, &b) < 0) {
		if (errno != ENOENT)
			log_warn("mailbox event=keywords mailbox=%s error=\"%s\"", m->label,
			    strerror(errno));
		buf_free(&b);
		return;
	}
	buf_cstr(&b);	/* strtoul below stops at the NUL */
	const char *p = (const char *)b.data, *end = p + b.len;
	unsigned line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		line++;
		char *sp;
		unsigned long idx = strtoul(p, &sp, 10);
		size_t nlen = sp < e && *sp == ' ' ? (size_t)(e - sp - 1) : 0;
		if (sp > p && sp < e && *sp == ' ' && idx < MB_KEYWORDS_MAX &&
		    keyword_name_ok(sp + 1, nlen)) {
			memcpy(m->kw[idx], sp + 1, nlen);
			m->kw[idx][nlen] = '\0';
			if (idx + 1 > m->n_kw)
				m->n_kw = (unsigned)idx + 1;
		} else if (e > p) {
			log_warn("mailbox event=keywords mailbox=%s file=%s:%u error=\"bad line\"",
			    m->label, KW_NAME, line);
		}
		p = nl ? nl + 1 : end;
	}
	buf_free(&b);
}

static int
keywords_write(struct mailbox *m)
{
	struct buf b;
	buf_init(&b, KW_FILE_MAX);
	for (unsigned i = 0; i < m->n_kw; i++)
		if (m->kw[i][0])
			buf_printf(&b, "%u %s\n", i, m->kw[i]);
	int fd = openat(m->dir_fd, KW_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = -1;
	if (fd >= 0 && !b.err && write_all(fd, b.data, b.len) == 0 && fsync(fd) == 0 &&
	    renameat(m->dir_fd, KW_NAME ".tmp", m->dir_fd, KW_NAME) == 0)
		r = 0;
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return r;
}

/* A keyword is an atom (RFC 9051 9 "flag-keyword"); the caller checked. */
int
mb_keyword(struct mailbox *m, const char *name, bool create)
{
	for (unsigned i = 0; i < m->n_kw; i++)
		if (m->kw[i][0] && ascii_strcaseeq(m->kw[i], name))
			return (int)i;
	if (!create || strlen(name) > MB_KEYWORD_MAX || m->readonly)
		return -1;
	int lk = lock_take(m);
	if (lk < 0)
		return -1;
	keywords_read(m);	/* another writer may have added some */
	int found = -1;
	for (unsigned i = 0; i < m->n_kw; i++)
		if (m->kw[i][0] && ascii_strcaseeq(m->kw[i], name))
			found = (int)i;
	if (found < 0 && m->n_kw < MB_KEYWORDS_MAX) {
		str_copy(m->kw[m->n_kw], sizeof m->kw[0], name);
		m->n_kw++;
		if (keywords_write(m) == 0)
			found = (int)m->n_kw - 1;
		else
			m->kw[--m->n_kw][0] = '\0';
	}
	lock_drop(m, lk);
	return found;
}

/* --- scanning ----------------------------------------------------------------------- */

struct file {
	char *name;
	size_t blen;
	bool in_new;
	bool recent;
};

struct files {
	struct file *v;
	size_t n, cap;
};

static int
file_cmp(const void *a, const void *b)
{
	const struct file *x = a, *y = b;
	size_t n = x->blen < y->blen ? x->blen : y->blen;
	int c = memcmp(x->name, y->name, n);
	if (c != 0)
		return c;
	return x->blen < y->blen ? -1 : x->blen > y->blen;
}

/* The scan's order: by base, then by the whole name, so that of two files
 * with one base (a reader that copied instead of renaming) the same one
 * wins every time and the message's flags do not flip between scans. */
static int
file_order(const void *a, const void *b)
{
	int c = file_cmp(a, b);
	if (c != 0)
		return c;
	const struct file *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static void
files_free(struct files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].name);
	free(f->v);
	memset(f, 0, sizeof *f);
}

static bool
maildir_name_ok(const char *n)
{
	/* dot files are Maildir's and other programs' temporaries */
	return n[0] != '.' && strlen(n) <= UIDLIST_NAME_MAX + 64 && strchr(n, '/') == NULL;
}

/* Move what new/ holds into cur/ (a read-write view does, as Dovecot),
 * then list cur/ and what is left in new/. */
static int
scan(struct mailbox *m, struct files *f)
{
	for (int pass = 0; pass < 2; pass++) {
		bool in_new = pass == 0;
		int fd = dup(in_new ? m->new_fd : m->cur_fd);
		if (fd < 0)
			return -1;
		DIR *d = fdopendir(fd);
		if (d == NULL) {
			close(fd);
			return -1;
		}
		rewinddir(d);
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (!maildir_name_ok(de->d_name))
				continue;
			if (f->n >= FILES_MAX)
				break;
			char name[UIDLIST_NAME_MAX + 80];
			str_copy(name, sizeof name, de->d_name);
			bool recent = false, stays_new = in_new;
			if (in_new && !m->readonly) {
				char moved[sizeof name + 4];
				if (strstr(name, ":2,") != NULL)
					str_copy(moved, sizeof moved, name);
				else
					snprintf(moved, sizeof moved, "%s:2,", name);
				if (renameat(m->new_fd, name, m->cur_fd, moved) == 0) {
					str_copy(name, sizeof name, moved);
					recent = true;
					stays_new = false;
				} else if (errno == ENOENT) {
					continue;	/* someone else moved it: cur/ has it */
				}
			}
			if (f->n == f->cap) {
				f->cap = f->cap ? f->cap * 2 : 64;
				f->v = xreallocarray(f->v, f->cap, sizeof *f->v);
			}
			struct file *x = &f->v[f->n++];
			x->name = xstrdup(name);
			x->blen = uidlist_base_len(x->name);
			x->in_new = stays_new;
			x->recent = recent;
		}
		closedir(d);
	}
	if (f->n > 1)
		qsort(f->v, f->n, sizeof *f->v, file_order);
	/* the same base twice (a reader copied instead of renaming): the
	 * first by file_order wins, the other is not shown */
	size_t j = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (j > 0 && file_cmp(&f->v[j - 1], &f->v[i]) == 0) {
			free(f->v[i].name);
			continue;
		}
		f->v[j++] = f->v[i];
	}
	f->n = j;
	return 0;
}

static const struct file *
files_find(const struct files *f, const char *name)
{
	if (f->n == 0)
		return NULL;
	struct file key = { .name = (char *)name, .blen = uidlist_base_len(name) };
	return bsearch(&key, f->v, f->n, sizeof *f->v, file_cmp);
}

static bool
present(void *arg, const char *name)
{
	return files_find(arg, name) != NULL;
}

static void
report(void *arg, unsigned line, const char *why)
{
	struct mailbox *m = arg;
	log_warn("mailbox event=uidlist-damaged mailbox=%s file=%s:%u error=\"%s\" "
	    "action=skip-line", m->label, LIST_NAME, line, why);
}


/* --- mod-sequences (talon-modseq) ------------------------------------------------- */

struct ix_ent {
	uint32_t uid;
	uint8_t flags;
	uint32_t kw;
	uint64_t modseq;
};

struct ix {
	bool ok;		/* read, and for this UIDVALIDITY */
	uint64_t highest, floor;
	uint32_t first_recent;	/* UIDs from here on are \Recent for the next
				 * read-write session to see them; 1 if unknown */
	struct ix_ent *v;	/* by uid */
	size_t n;
	struct mb_gone *gone;	/* by modseq */
	size_t n_gone;
};

static uint64_t
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The next mod-sequence: above every one given, and above the clock, so
 * a rebuilt index never goes back. */
static uint64_t
next_modseq(uint64_t highest)
{
	uint64_t t = now_us();
	return t > highest ? t : highest + 1;
}

static void
ix_free(struct ix *ix)
{
	free(ix->v);
	free(ix->gone);
	memset(ix, 0, sizeof *ix);
}

/* A number in base 10 or 16 at *p, then one space or the line's end;
 * false (and *p anywhere) when there is none or it passes max.  The
 * index is read at every change of a busy mailbox: sscanf took a sixth of
 * the mailbox process's time under imaptest. */
static bool
ix_num(const char **p, unsigned base, uint64_t max, uint64_t *out)
{
	const char *q = *p;
	uint64_t v = 0;
	size_t n = 0;
	for (;; q++, n++) {
		unsigned d;
		if (*q >= '0' && *q <= '9')
			d = (unsigned)(*q - '0');
		else if (base == 16 && *q >= 'a' && *q <= 'f')
			d = (unsigned)(*q - 'a' + 10);
		else
			break;
		/* no division per digit: the index has tens of thousands */
		if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
			return false;
	}
	if (n == 0 || v > max || (*q != ' ' && *q != '\0'))
		return false;
	*p = *q == ' ' ? q + 1 : q;
	*out = v;
	return true;
}

/* Append v in base 10 or 16 and then c; printf cost a fifth of the time
 * of a busy mailbox writing its index. */
static void
ix_put(struct buf *b, uint64_t v, unsigned base, char c)
{
	char t[24];
	size_t i = sizeof t;
	t[--i] = c;
	do {
		t[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	buf_append(b, t + i, sizeof t - i);
}

/* Read talon-modseq; anything that does not parse is dropped (it only
 * costs new mod-sequences), a header for another UIDVALIDITY drops all. */
static void
ix_load(struct mailbox *m, uint32_t validity, struct ix *ix)
{
	memset(ix, 0, sizeof *ix);
	struct buf b;
	if (read_file(m->dir_fd, IX_NAME, IX_MAX, &b) < 0) {
		buf_free(&b);
		return;
	}
	buf_cstr(&b);
	char *save = NULL, *line = b.data ? strtok_r((char *)b.data, "\n", &save) : NULL;
	unsigned long long v, h, f, rc = 1;
	ix->first_recent = 1;
	if (line == NULL || sscanf(line, "M1 V%llu H%llu F%llu R%llu", &v, &h, &f, &rc) < 3 ||
	    v != validity) {
		buf_free(&b);
		return;
	}
	ix->ok = true;
	ix->highest = h;
	ix->floor = f;
	ix->first_recent = rc > 0 && rc <= UINT32_MAX ? (uint32_t)rc : 1;
	size_t cap = 0, gcap = 0;
	uint32_t last = 0;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		uint64_t uid, ms, fl, kw;
		const char *p = line + 2;
		if (line[0] == 'X' && line[1] == ' ' && ix_num(&p, 10, UINT32_MAX, &uid) &&
		    ix_num(&p, 10, UINT64_MAX, &ms) && *p == '\0' && uid > 0) {
			if (ix->n_gone == gcap) {
				gcap = gcap ? gcap * 2 : 64;
				ix->gone = xreallocarray(ix->gone, gcap, sizeof *ix->gone);
			}
			ix->gone[ix->n_gone++] = (struct mb_gone){ (uint32_t)uid, ms };
			continue;
		}
		p = line;
		if (!ix_num(&p, 10, UINT32_MAX, &uid) || !ix_num(&p, 10, UINT64_MAX, &ms) ||
		    !ix_num(&p, 16, 0xff, &fl) || !ix_num(&p, 16, UINT32_MAX, &kw) || *p != '\0' ||
		    uid <= last)
			continue;	/* a damaged line: its message gets a new modseq */
		if (ix->n == cap) {
			cap = cap ? cap * 2 : 256;
			ix->v = xreallocarray(ix->v, cap, sizeof *ix->v);
		}
		ix->v[ix->n++] = (struct ix_ent){ (uint32_t)uid, (uint8_t)fl, (uint32_t)kw, ms };
		last = (uint32_t)uid;
	}
	buf_free(&b);
}

/* --- snapshots ------------------------------------------------------------------------ */

/* One scan's result.  Shared by the views that stand on it and by the
 * folder cache below; nobody changes what it says about the messages once
 * another holds it (snap_own gives a view its own copy first), except what
 * is the same for every view: a message's size and date found later, and
 * its file's new name after another reader renamed it. */
struct mb_snap {
	unsigned refs;
	struct mb_msg *v;
	size_t n;
	uint32_t validity, next;
	uint64_t highest;
	struct mb_gone *gone;	/* by modseq ascending */
	size_t n_gone, gone_cap;
	uint64_t gone_floor;
	uint32_t first_recent;	/* talon-modseq's \Recent mark as the scan left it */
	char kw[MB_KEYWORDS_MAX][MB_KEYWORD_MAX + 1];
	unsigned n_kw;
	struct timespec clock;	/* the coarse clock before the times below */
	struct timespec cur_mt, new_mt, ul_mt;	/* read before the scan */
	bool rw;		/* a read-write scan: new/ was emptied into cur/ */
	bool kept;		/* holds messages whose files are gone (mb_sync_keep):
				 * one view's own, never cached */
	size_t bytes;		/* about what it takes, for the cache's bound */
};

static void
snap_unref(struct mb_snap *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	free(s->gone);
	free(s);
}

static void
gone_add(struct mb_snap *s, uint32_t uid, uint64_t modseq)
{
	if (s->n_gone >= MB_GONE_MAX) {
		/* forget the oldest: a client that knew it gets every UID it
		 * names that is not here any more */
		if (s->gone[0].modseq > s->gone_floor)
			s->gone_floor = s->gone[0].modseq;
		memmove(s->gone, s->gone + 1, (s->n_gone - 1) * sizeof *s->gone);
		s->n_gone--;
	}
	if (s->n_gone == s->gone_cap) {
		s->gone_cap = s->gone_cap ? s->gone_cap * 2 : 64;
		s->gone = xreallocarray(s->gone, s->gone_cap, sizeof *s->gone);
	}
	s->gone[s->n_gone++] = (struct mb_gone){ uid, modseq };
}

/* Everything but the messages: a copy to fill, refs 1. */
static struct mb_snap *
snap_like(const struct mb_snap *s, size_t n_msgs)
{
	struct mb_snap *c = xmalloc(sizeof *c);
	*c = *s;
	c->refs = 1;
	c->v = xcalloc(n_msgs + 1, sizeof *c->v);
	c->n = 0;
	c->gone = s->n_gone ? xreallocarray(NULL, s->n_gone, sizeof *c->gone) : NULL;
	if (s->n_gone)
		memcpy(c->gone, s->gone, s->n_gone * sizeof *c->gone);
	c->gone_cap = s->n_gone;
	c->kept = false;
	return c;
}

static void
snap_put(struct mb_snap *c, const struct mb_msg *e, bool gone)
{
	c->v[c->n] = *e;
	c->v[c->n].name = xstrdup(e->name);
	c->v[c->n++].gone = gone;
	c->kept |= gone;
}

static int
msg_uid_cmp(const void *a, const void *b)
{
	const struct mb_msg *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static long
snap_find(const struct mb_snap *s, uint32_t uid)
{
	if (s == NULL || s->n == 0)
		return -1;
	struct mb_msg key = { .uid = uid };
	const struct mb_msg *e = bsearch(&key, s->v, s->n, sizeof *s->v, msg_uid_cmp);
	return e ? (long)(e - s->v) : -1;
}

/* Is t older than the clock read before it was?  Then any later change
 * gets a later time.  A time in whole seconds (a file system that keeps no
 * more) could hide a change in the same second: two seconds must pass. */
static bool
settled(const struct timespec *t, const struct timespec *clock)
{
	if (t->tv_sec == 0 && t->tv_nsec == 0)
		return true;	/* no such file: making one gives it a time */
	if (t->tv_nsec == 0)
		return t->tv_sec + 2 < time(NULL);
	return t->tv_sec < clock->tv_sec ||
	    (t->tv_sec == clock->tv_sec && t->tv_nsec < clock->tv_nsec);
}

/* Does s still tell what is on disk, times t (clock, cur, new, list)? */
static bool
snap_current(const struct mb_snap *s, const struct timespec t[4])
{
	return ts_eq(&s->cur_mt, &t[1]) && ts_eq(&s->new_mt, &t[2]) && ts_eq(&s->ul_mt, &t[3]) &&
	    settled(&s->cur_mt, &s->clock) && settled(&s->new_mt, &s->clock) &&
	    settled(&s->ul_mt, &s->clock);
}

static void
mirror(struct mailbox *m)
{
	struct mb_snap *s = m->snap;
	m->v = s->v;
	m->n = s->n;
	m->validity = s->validity;
	m->next = s->next;
	m->highest = s->highest;
	m->gone = s->gone;
	m->n_gone = s->n_gone;
	m->gone_floor = s->gone_floor;
}

/* Before changing what m's snapshot says: make it m's alone. */
static void
snap_own(struct mailbox *m)
{
	struct mb_snap *s = m->snap;
	if (s->refs == 1)
		return;
	struct mb_snap *c = snap_like(s, s->n);
	for (size_t i = 0; i < s->n; i++)
		snap_put(c, &s->v[i], s->v[i].gone);
	snap_unref(s);
	m->snap = c;
	mirror(m);
}

/* --- the folder cache ------------------------------------------------------------------- */

/* The newest snapshot of every folder this process looked at, so that the
 * next view of it, in any session, starts from there.  Those no view holds
 * are dropped, least recently used first, past CACHE_IDLE_BYTES. */
#define CACHE_MAX		4096
#define CACHE_IDLE_BYTES	(64u << 20)

struct cached {
	uint64_t dev, ino;
	char label[320];
	struct mb_snap *snap;
	uint64_t used;
};
static struct cached *cache;
static size_t n_cache, cache_cap;
static uint64_t cache_tick;

static long
cache_find(const struct mailbox *m)
{
	for (size_t i = 0; i < n_cache; i++)
		if (cache[i].dev == m->dev && cache[i].ino == m->ino &&
		    strcmp(cache[i].label, m->label) == 0)
			return (long)i;
	return -1;
}

static void
cache_drop(size_t i)
{
	snap_unref(cache[i].snap);
	cache[i] = cache[--n_cache];
}

static void
cache_trim(void)
{
	for (;;) {
		size_t idle = 0;
		long lru = -1;
		for (size_t i = 0; i < n_cache; i++) {
			if (cache[i].snap->refs > 1)
				continue;
			idle += cache[i].snap->bytes;
			if (lru < 0 || cache[i].used < cache[lru].used)
				lru = (long)i;
		}
		if (lru < 0 || (idle <= CACHE_IDLE_BYTES && n_cache <= CACHE_MAX))
			return;
		cache_drop((size_t)lru);
	}
}

static void
cache_put(const struct mailbox *m, struct mb_snap *s)
{
	long i = cache_find(m);
	if (i < 0) {
		if (n_cache == cache_cap) {
			cache_cap = cache_cap ? cache_cap * 2 : 16;
			cache = xreallocarray(cache, cache_cap, sizeof *cache);
		}
		i = (long)n_cache++;
		cache[i].dev = m->dev;
		cache[i].ino = m->ino;
		str_copy(cache[i].label, sizeof cache[i].label, m->label);
	} else {
		snap_unref(cache[i].snap);
	}
	s->refs++;
	cache[i].snap = s;
	cache[i].used = ++cache_tick;
	cache_trim();
}

void
mb_cache_flush(void)
{
	while (n_cache > 0)
		cache_drop(n_cache - 1);
	free(cache);
	cache = NULL;
	cache_cap = 0;
}

static int
ix_save(const struct mailbox *m, const struct mb_snap *s)
{
	struct buf b;
	buf_init(&b, IX_MAX);
	buf_printf(&b, "M1 V%u H%llu F%llu R%u\n", s->validity, (unsigned long long)s->highest,
	    (unsigned long long)s->gone_floor, s->first_recent);
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].gone)
			continue;
		ix_put(&b, s->v[i].uid, 10, ' ');
		ix_put(&b, s->v[i].modseq, 10, ' ');
		ix_put(&b, s->v[i].flags & MF_STORED, 16, ' ');
		ix_put(&b, s->v[i].kw, 16, '\n');
	}
	for (size_t i = 0; i < s->n_gone; i++) {
		buf_puts(&b, "X ");
		ix_put(&b, s->gone[i].uid, 10, ' ');
		ix_put(&b, s->gone[i].modseq, 10, '\n');
	}
	int fd = openat(m->dir_fd, IX_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	int r = -1;
	/* not fsynced: after a crash the old index, or none, is read, and
	 * modseqs() makes every difference a new mod-sequence from the clock
	 * and raises gone_floor when there is none (nothing goes back) */
	if (fd >= 0 && !b.err && write_all(fd, b.data, b.len) == 0 &&
	    renameat(m->dir_fd, IX_NAME ".tmp", m->dir_fd, IX_NAME) == 0)
		r = 0;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		log_err("mailbox event=modseq-write mailbox=%s error=\"%s\"", m->label,
		    strerror(errno));
	buf_free(&b);
	return r;
}

/* --- a new snapshot's mod-sequences ------------------------------------------------------ */

/* Give the new snapshot its mod-sequences: what the index says for flags
 * that did not change, the old view's for a change this view made (it was
 * told to the client already), a new one for anything else; messages the
 * index knew that are gone become expunges.  A read-write view claims the
 * \Recent messages (claim: their UIDs).  Writes the index when anything
 * changed.  Called with the uidlist's lock held. */
static void
modseqs(struct mailbox *m, const struct mb_snap *old, struct mb_snap *ns, struct mb_range *claim)
{
	struct ix ix;
	ix_load(m, ns->validity, &ix);
	bool dirty = !ix.ok;
	bool same = old != NULL && old->validity == ns->validity;
	/* \Recent (RFC 3501 2.3.2): a message is recent for the first
	 * read-write session that sees it, which claims it by moving the mark
	 * past it; a read-only one shows what is unclaimed and claims nothing */
	uint32_t first = ix.first_recent ? ix.first_recent : 1;
	if (!m->readonly && !m->no_claim && ns->next > first) {
		/* what this view saw before is not new to it (the mark was lost) */
		claim->lo = m->snap != NULL && m->snap->validity == ns->validity &&
		    m->snap->next > first ? m->snap->next : first;
		claim->hi = ns->next;
		first = ns->next;
		dirty = true;
	}
	uint64_t highest = same && old->highest > ix.highest ? old->highest : ix.highest;
	uint64_t next = next_modseq(highest);
	bool used = false;
	/* the expunges: the index's, then those seen now */
	ns->n_gone = 0;
	ns->gone_floor = ix.floor;
	if (!ix.ok) {
		/* no index (deleted, damaged, or lost in a crash: it is not
		 * fsynced): what was expunged before now is not known, so a
		 * QRESYNC client that knew an older state is told that every
		 * UID it names and we lack is gone */
		ns->gone_floor = next - 1;
	}
	for (size_t i = 0; i < ix.n_gone; i++)
		gone_add(ns, ix.gone[i].uid, ix.gone[i].modseq);
	size_t j = 0;
	for (size_t i = 0; i < ix.n; i++) {
		while (j < ns->n && ns->v[j].uid < ix.v[i].uid)
			j++;
		if (j < ns->n && ns->v[j].uid == ix.v[i].uid)
			continue;
		gone_add(ns, ix.v[i].uid, next);
		used = dirty = true;
	}
	size_t ixp = 0, op = 0;	/* all three lists are in UID order: one merge pass */
	for (size_t i = 0; i < ns->n; i++) {
		struct mb_msg *e = &ns->v[i];
		while (ixp < ix.n && ix.v[ixp].uid < e->uid)
			ixp++;
		const struct ix_ent *ie = ix.ok && ixp < ix.n && ix.v[ixp].uid == e->uid ?
		    &ix.v[ixp] : NULL;
		while (same && op < old->n && old->v[op].uid < e->uid)
			op++;
		const struct mb_msg *oe = same && op < old->n && old->v[op].uid == e->uid ?
		    &old->v[op] : NULL;
		uint8_t fl = e->flags & MF_STORED;
		if (ie != NULL && ie->flags == fl && ie->kw == e->kw &&
		    (oe == NULL || oe->modseq <= ie->modseq)) {
			e->modseq = ie->modseq;
		} else if (oe != NULL && (oe->flags & MF_STORED) == fl && oe->kw == e->kw &&
		    oe->modseq > (ie ? ie->modseq : 0)) {
			e->modseq = oe->modseq;	/* our own change */
			dirty = true;
		} else {
			e->modseq = next;
			used = dirty = true;
		}
		if (e->modseq > highest)
			highest = e->modseq;
	}
	if (used && next > highest)
		highest = next;
	ns->highest = highest;
	ns->first_recent = first;
	ix_free(&ix);
	if (dirty)
		ix_save(m, ns);
}

/* --- sync ---------------------------------------------------------------------------- */

long
mb_find_uid(const struct mailbox *m, uint32_t uid)
{
	return snap_find(m->snap, uid);
}

uint8_t
mb_flags(const struct mailbox *m, size_t i)
{
	uint8_t f = m->v[i].flags & MF_STORED;
	uint32_t uid = m->v[i].uid;
	if (m->no_claim)
		return f;
	if (m->readonly)
		return uid >= m->snap->first_recent ? f | MF_RECENT : f;
	for (size_t k = 0; k < m->n_recent; k++)
		if (uid >= m->recent[k].lo && uid < m->recent[k].hi)
			return f | MF_RECENT;
	return f;
}

static void
recent_add(struct mailbox *m, struct mb_range r)
{
	if (m->n_recent > 0 && m->recent[m->n_recent - 1].hi == r.lo) {
		m->recent[m->n_recent - 1].hi = r.hi;
		return;
	}
	if (m->n_recent == 256) {
		/* the oldest claims lose \Recent: a bound on a session that
		 * sees a thousand single deliveries others claimed between */
		memmove(m->recent, m->recent + 1, (m->n_recent - 1) * sizeof *m->recent);
		m->n_recent--;
	}
	if (m->n_recent == m->recent_cap) {
		m->recent_cap = m->recent_cap ? m->recent_cap * 2 : 4;
		m->recent = xreallocarray(m->recent, m->recent_cap, sizeof *m->recent);
	}
	m->recent[m->n_recent++] = r;
}

/* The Maildir's last UIDVALIDITY given, in talon-uidvalidity at its root:
 * the one returned is above it, and is written back. */
static uint32_t
validity_claim(struct mailbox *m, uint32_t want)
{
	if (m->root_fd < 0)
		return want;
	struct buf b;
	unsigned long last = 0;
	if (read_file(m->root_fd, VALIDITY_NAME, 64, &b) == 0) {
		buf_cstr(&b);
		last = strtoul((const char *)b.data, NULL, 10);
	}
	buf_free(&b);
	if (last >= want && last < UINT32_MAX)
		want = (uint32_t)last + 1;
	char text[16];
	int n = snprintf(text, sizeof text, "%u\n", want);
	int fd = openat(m->root_fd, VALIDITY_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd >= 0) {
		if (write_all(fd, text, (size_t)n) == 0 && fsync(fd) == 0)
			renameat(m->root_fd, VALIDITY_NAME ".tmp", m->root_fd, VALIDITY_NAME);
		close(fd);
	}
	return want;
}

/* The list as on disk, or a new one.  *changed when it must be written. */
static int
list_load(struct mailbox *m, struct uidlist *u, bool *changed)
{
	struct buf b;
	if (read_file(m->dir_fd, LIST_NAME, LIST_MAX, &b) < 0) {
		buf_free(&b);
		if (errno != ENOENT) {
			log_err("mailbox event=uidlist mailbox=%s error=\"%s\"", m->label,
			    strerror(errno));
			return -1;
		}
		buf_init(&b, LIST_MAX);
	}
	int r = UIDLIST_REBUILD;
	if (b.len > 0)
		r = uidlist_parse((const char *)b.data, b.len, u, report, m);
	buf_free(&b);
	if (r == UIDLIST_OK) {
		*changed = u->n_damaged > 0;
		return 0;
	}
	uidlist_free(u);
	/* only a list that cannot be read at all starts a new UIDVALIDITY,
	 * above any it may have had: that was at most the time the list
	 * was last written, and at most what this view knew; and above any
	 * other this Maildir gave (a folder deleted and made again in the
	 * same second must not get the old one back, RFC 9051 2.3.1.1) */
	uint32_t v = (uint32_t)time(NULL);
	struct stat st;
	if (fstatat(m->dir_fd, LIST_NAME, &st, 0) == 0 && st.st_mtime >= (time_t)v)
		v = (uint32_t)st.st_mtime + 1;
	if (m->validity != 0 && v <= m->validity)
		v = m->validity + 1;
	v = validity_claim(m, v);
	if (uidlist_init(u, v, NULL) < 0)
		return -1;
	if (m->validity != 0 || m->n > 0)
		log_warn("mailbox event=uidlist-rebuilt mailbox=%s uidvalidity=%u", m->label, v);
	*changed = true;
	return 0;
}

/* What changed from the view's old snapshot to the new one. */
static void
delta_note(const struct mb_snap *os, const struct mb_snap *ns, struct mb_delta *d)
{
	memset(d, 0, sizeof *d);
	if (os == NULL)
		return;
	d->n_before = os->n;
	size_t j = 0;
	for (size_t i = 0; i < os->n; i++) {
		const struct mb_msg *o = &os->v[i];
		while (j < ns->n && ns->v[j].uid < o->uid)
			j++;
		if (j < ns->n && ns->v[j].uid == o->uid) {
			if ((ns->v[j].flags & MF_STORED) != (o->flags & MF_STORED) ||
			    ns->v[j].kw != o->kw) {
				d->changed = xreallocarray(d->changed, d->n_changed + 1,
				    sizeof *d->changed);
				d->changed[d->n_changed++] = o->uid;
			}
			continue;
		}
		d->expunged = xreallocarray(d->expunged, d->n_expunged + 1, sizeof *d->expunged);
		d->expunged_uid = xreallocarray(d->expunged_uid, d->n_expunged + 1,
		    sizeof *d->expunged_uid);
		d->expunged_uid[d->n_expunged] = o->uid;
		d->expunged[d->n_expunged++] = (uint32_t)(i + 1);
	}
	/* highest first: each number is still right when it is sent */
	for (size_t a = 0, b = d->n_expunged; a + 1 < b; a++, b--) {
		uint32_t t = d->expunged[a];
		d->expunged[a] = d->expunged[b - 1];
		d->expunged[b - 1] = t;
	}
}

/* Read the directories and the list under the lock: a new snapshot (refs
 * 1), or NULL (logged).  old: what sizes, dates and our own mod-sequences
 * are taken from (the view's snapshot, else the cache's). */
static struct mb_snap *
rescan(struct mailbox *m, const struct mb_snap *old, const struct timespec t[4],
    struct mb_range *claim)
{
	int lk = lock_take(m);
	if (lk < 0) {
		log_err("mailbox event=sync mailbox=%s error=\"lock: %s\"", m->label,
		    strerror(errno));
		return NULL;
	}
	struct files f = { 0 };
	struct uidlist u;
	bool changed = false;
	memset(&u, 0, sizeof u);
	if (scan(m, &f) < 0) {
		log_err("mailbox event=sync mailbox=%s error=\"scan: %s\"", m->label,
		    strerror(errno));
		lock_drop(m, lk);
		files_free(&f);
		return NULL;
	}
	if (list_load(m, &u, &changed) < 0) {
		lock_drop(m, lk);
		files_free(&f);
		return NULL;
	}
	size_t before = u.n;
	uidlist_remove_missing(&u, present, &f);
	changed |= u.n != before;
	/* new files in name order: Maildir names start with the time */
	for (size_t i = 0; i < f.n; i++) {
		if (uidlist_find_name(&u, f.v[i].name) != NULL)
			continue;
		uint32_t uid;
		char base[UIDLIST_NAME_MAX + 1];
		if (f.v[i].blen > UIDLIST_NAME_MAX)
			continue;
		memcpy(base, f.v[i].name, f.v[i].blen);
		base[f.v[i].blen] = '\0';
		if (uidlist_append(&u, base, "", &uid) < 0) {
			log_warn("mailbox event=uid mailbox=%s file=\"%s\" error=\"no uid given\"",
			    m->label, base);
			continue;
		}
		changed = true;
	}
	keywords_read(m);
	struct mb_snap *ns = xcalloc(1, sizeof *ns);
	ns->refs = 1;
	ns->clock = t[0];
	ns->cur_mt = t[1];
	ns->new_mt = t[2];
	ns->ul_mt = t[3];
	ns->rw = !m->readonly;
	ns->validity = u.validity;
	ns->next = u.next;
	memcpy(ns->kw, m->kw, sizeof ns->kw);
	ns->n_kw = m->n_kw;
	/* the new view: every listed file that is there, in UID order */
	ns->v = xcalloc(u.n + 1, sizeof *ns->v);
	bool same = old != NULL && old->validity == u.validity;
	size_t op = 0, names = 0;
	for (size_t i = 0; i < u.n; i++) {
		const struct file *x = files_find(&f, u.v[i].name);
		if (x == NULL)
			continue;
		struct mb_msg *e = &ns->v[ns->n++];
		e->uid = u.v[i].uid;
		e->name = xstrdup(x->name);
		names += strlen(x->name) + 1;
		e->in_new = x->in_new;
		name_flags(x->name, &e->flags, &e->kw);
		e->mtime = INT64_MIN;
		while (same && op < old->n && old->v[op].uid < e->uid)
			op++;
		if (same && op < old->n && old->v[op].uid == e->uid) {
			e->vsize = old->v[op].vsize;
			e->vsize_known = old->v[op].vsize_known;
			e->mtime = old->v[op].mtime;
		}
	}
	ns->bytes = sizeof *ns + (ns->n + 1) * sizeof *ns->v + names;
	modseqs(m, old, ns, claim);
	/* the list goes last: its rename releases the lock */
	if (changed) {
		struct buf b;
		buf_init(&b, LIST_MAX);
		if (uidlist_format(&u, &b) < 0 || b.err) {
			lock_drop(m, lk);
			errno = EOVERFLOW;
			lk = -1;
		}
		if (lk < 0 || lock_commit(m, lk, &b) < 0) {
			log_err("mailbox event=uidlist-write mailbox=%s error=\"%s\"", m->label,
			    strerror(errno));
			buf_free(&b);
			uidlist_free(&u);
			files_free(&f);
			snap_unref(ns);
			return NULL;
		}
		buf_free(&b);
		/* our own write: its time is the one to compare next */
		stat_mtime(m->dir_fd, LIST_NAME, &ns->ul_mt);
	} else {
		lock_drop(m, lk);
	}
	uidlist_free(&u);
	files_free(&f);
	return ns;
}

/* The new snapshot, and every message of the old whose file is gone, in
 * UID order, for a view that may not renumber now (a copy of its own). */
static struct mb_snap *
keep_merge(const struct mb_snap *os, struct mb_snap *ns)
{
	size_t j = 0, missing = 0;
	for (size_t i = 0; i < os->n; i++) {
		while (j < ns->n && ns->v[j].uid < os->v[i].uid)
			j++;
		missing += !(j < ns->n && ns->v[j].uid == os->v[i].uid);
	}
	if (missing == 0)
		return ns;
	struct mb_snap *c = snap_like(ns, ns->n + missing);
	size_t i = 0;
	for (j = 0; j < ns->n; j++) {
		for (; i < os->n && os->v[i].uid <= ns->v[j].uid; i++)
			if (os->v[i].uid < ns->v[j].uid)
				snap_put(c, &os->v[i], true);
		snap_put(c, &ns->v[j], false);
	}
	for (; i < os->n; i++)
		snap_put(c, &os->v[i], true);
	snap_unref(ns);
	return c;
}

static int sync_impl(struct mailbox *m, struct mb_delta *d, bool keep);

int
mb_sync(struct mailbox *m, struct mb_delta *d)
{
	return sync_impl(m, d, false);
}

int
mb_sync_keep(struct mailbox *m, struct mb_delta *d)
{
	return sync_impl(m, d, true);
}

static int
sync_impl(struct mailbox *m, struct mb_delta *d, bool keep)
{
	if (d != NULL)
		memset(d, 0, sizeof *d);
	/* the clock, then the times: see settled() */
	struct timespec t[4];
	clock_gettime(CLOCK_REALTIME_COARSE, &t[0]);
	stat_mtime(m->dir_fd, "cur", &t[1]);
	stat_mtime(m->dir_fd, "new", &t[2]);
	stat_mtime(m->dir_fd, LIST_NAME, &t[3]);
	struct mb_snap *os = m->snap;
	if (os != NULL && (keep || !os->kept) && snap_current(os, t)) {
		if (d != NULL)
			d->n_before = m->n;
		return 0;	/* nothing moved since the last look */
	}
	/* another view may have looked since: its snapshot serves, unless
	 * this view must claim \Recent or empty new/ (a read-only scan
	 * leaves new/ as it is) */
	long ci = cache_find(m);
	struct mb_snap *cs = ci >= 0 ? cache[ci].snap : NULL, *ns;
	struct mb_range claim = { 0, 0 };
	if (cs != NULL && snap_current(cs, t) && (m->readonly || cs->rw) &&
	    (m->readonly || m->no_claim || cs->first_recent >= cs->next)) {
		ns = cs;
		ns->refs++;
		cache[ci].used = ++cache_tick;
		for (unsigned k = 0; k < ns->n_kw; k++)
			if (ns->kw[k][0])
				memcpy(m->kw[k], ns->kw[k], sizeof m->kw[k]);
		if (ns->n_kw > m->n_kw)
			m->n_kw = ns->n_kw;
	} else {
		ns = rescan(m, os != NULL ? os : cs, t, &claim);
		if (ns == NULL)
			return -1;
		cache_put(m, ns);
	}
	if (keep && os != NULL)
		ns = keep_merge(os, ns);
	if (os != NULL && os->validity != ns->validity)
		m->n_recent = 0;	/* the old UIDs name nothing now */
	size_t recent = 0;
	uint32_t known = os != NULL && os->validity == ns->validity ? os->next : 0;
	if (claim.hi > claim.lo)
		recent_add(m, claim);
	for (size_t i = ns->n; i-- > 0 && ns->v[i].uid >= known;) {
		if (ns->v[i].gone)
			continue;
		if (claim.hi > claim.lo)
			recent += ns->v[i].uid >= claim.lo && ns->v[i].uid < claim.hi;
		else if (m->readonly)
			recent += ns->v[i].uid >= ns->first_recent;
	}
	if (d != NULL) {
		delta_note(os, ns, d);
		d->n_recent = recent;
	}
	snap_unref(os);
	m->snap = ns;
	mirror(m);
	return 0;
}

void
mb_delta_free(struct mb_delta *d)
{
	free(d->expunged);
	free(d->expunged_uid);
	free(d->changed);
	memset(d, 0, sizeof *d);
}

/* --- open and close ---------------------------------------------------------------- */

int
mb_open(int maildir_fd, const char *dir, const char *label, int mode,
    struct mailbox **out, char *why, size_t whylen)
{
	*out = NULL;
	struct mailbox *m = xcalloc(1, sizeof *m);
	m->dir_fd = m->cur_fd = m->new_fd = m->tmp_fd = -1;
	m->root_fd = fcntl(maildir_fd, F_DUPFD_CLOEXEC, 0);
	m->readonly = mode == MB_RO;
	m->no_claim = mode == MB_TARGET;
	str_copy(m->label, sizeof m->label, label);
	m->dir_fd = openat(maildir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (m->dir_fd >= 0 && fstat(m->dir_fd, &st) == 0) {
		m->dev = (uint64_t)st.st_dev;
		m->ino = (uint64_t)st.st_ino;
		m->cur_fd = openat(m->dir_fd, "cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		m->new_fd = openat(m->dir_fd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		m->tmp_fd = openat(m->dir_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (m->dir_fd < 0 || m->cur_fd < 0 || m->new_fd < 0 || m->tmp_fd < 0) {
		int e = errno;
		snprintf(why, whylen, "%s", e == ENOENT ? "No such mailbox" : strerror(e));
		mb_close(&m);
		errno = e;
		return -1;
	}
	if (mb_sync(m, NULL) < 0) {
		snprintf(why, whylen, "Cannot read the mailbox");
		mb_close(&m);
		errno = EIO;
		return -1;
	}
	*out = m;
	return 0;
}

void
mb_close(struct mailbox **mp)
{
	struct mailbox *m = *mp;
	if (m == NULL)
		return;
	int fds[] = { m->dir_fd, m->cur_fd, m->new_fd, m->tmp_fd, m->root_fd };
	for (size_t i = 0; i < NELEM(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	snap_unref(m->snap);
	free(m->recent);
	free(m);
	*mp = NULL;
	cache_trim();
}

/* --- messages ----------------------------------------------------------------------- */

/* The file of message i may have been renamed by another reader (flags):
 * find it again by its base name. */
static int
refind(struct mailbox *m, size_t i)
{
	struct mb_msg *e = &m->v[i];
	size_t blen = uidlist_base_len(e->name);
	for (int pass = 0; pass < 2; pass++) {
		int fd = dup(pass == 0 ? m->cur_fd : m->new_fd);
		if (fd < 0)
			return -1;
		DIR *d = fdopendir(fd);
		if (d == NULL) {
			close(fd);
			return -1;
		}
		rewinddir(d);
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (uidlist_base_len(de->d_name) == blen &&
			    memcmp(de->d_name, e->name, blen) == 0) {
				free(e->name);
				e->name = xstrdup(de->d_name);
				e->in_new = pass == 1;
				closedir(d);
				return 0;
			}
		}
		closedir(d);
	}
	errno = ENOENT;
	return -1;
}

int
mb_refresh(struct mailbox *m, size_t i)
{
	struct mb_msg *e = &m->v[i];
	if (faccessat(e->in_new ? m->new_fd : m->cur_fd, e->name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	snap_own(m);	/* the flags change: the other views are told by their sync */
	if (refind(m, i) < 0)
		return -1;
	e = &m->v[i];
	name_flags(e->name, &e->flags, &e->kw);
	return 0;
}

int
mb_open_msg(struct mailbox *m, size_t i)
{
	for (int tries = 0; tries < 2; tries++) {
		struct mb_msg *e = &m->v[i];
		int fd = openat(e->in_new ? m->new_fd : m->cur_fd, e->name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		if (refind(m, i) < 0)
			return -1;
	}
	return -1;
}

int64_t
mb_internaldate(struct mailbox *m, size_t i)
{
	struct mb_msg *e = &m->v[i];
	if (e->mtime == INT64_MIN) {
		int fd = mb_open_msg(m, i);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0)
			e->mtime = st.st_mtime;
		if (fd >= 0)
			close(fd);
	}
	return e->mtime == INT64_MIN ? 0 : e->mtime;
}

uint64_t
mb_vsize(struct mailbox *m, size_t i)
{
	struct mb_msg *e = &m->v[i];
	if (e->vsize_known)
		return e->vsize;
	/* deliveries (ours and Dovecot's) name it: ",W=<size with CRLF>" */
	size_t blen = uidlist_base_len(e->name);
	for (const char *w = e->name; (w = strstr(w, ",W=")) != NULL && w < e->name + blen; w++) {
		char *end;
		unsigned long long v = strtoull(w + 3, &end, 10);
		if (end > w + 3 && (*end == ',' || *end == ':' || *end == '\0')) {
			e->vsize = v;
			e->vsize_known = true;
			return v;
		}
	}
	int fd = mb_open_msg(m, i);
	if (fd < 0)
		return 0;
	uint8_t b[65536];
	uint64_t n = 0;
	bool cr = false;
	for (;;) {
		ssize_t r = read(fd, b, sizeof b);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t k = 0; k < r; k++) {
			n += (b[k] == '\n' && !cr) ? 2 : 1;
			cr = b[k] == '\r';
		}
	}
	struct stat st;
	if (e->mtime == INT64_MIN && fstat(fd, &st) == 0)
		e->mtime = st.st_mtime;
	close(fd);
	e->vsize = n;
	e->vsize_known = true;
	return n;
}

int
mb_set_flags(struct mailbox *m, size_t i, uint8_t flags, uint32_t kw)
{
	flags &= MF_STORED;
	struct mb_msg *e = &m->v[i];
	if ((e->flags & MF_STORED) == flags && e->kw == kw)
		return 0;
	if (m->readonly) {
		errno = EROFS;
		return -1;
	}
	char nn[UIDLIST_NAME_MAX + 80];
	if (name_with_flags(e->name, flags, kw, nn, sizeof nn) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snap_own(m);
	e = &m->v[i];
	for (int tries = 0; tries < 2; tries++) {
		int from = e->in_new ? m->new_fd : m->cur_fd;
		if (renameat(from, e->name, m->cur_fd, nn) == 0) {
			free(e->name);
			e->name = xstrdup(nn);
			e->in_new = false;
			e->flags = flags;
			e->kw = kw;
			e->modseq = m->snap->highest = m->highest = next_modseq(m->highest);
			return 0;
		}
		if (errno != ENOENT || refind(m, i) < 0)
			return -1;
		if (name_with_flags(e->name, flags, kw, nn, sizeof nn) < 0)
			return -1;
	}
	return -1;
}

int
mb_expunge(struct mailbox *m, size_t i)
{
	if (m->readonly) {
		errno = EROFS;
		return -1;
	}
	for (int tries = 0; tries < 2; tries++) {
		struct mb_msg *e = &m->v[i];
		if (unlinkat(e->in_new ? m->new_fd : m->cur_fd, e->name, 0) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
		if (refind(m, i) < 0)
			return errno == ENOENT ? 0 : -1;	/* gone already */
	}
	return -1;
}

/* A new unique name, Maildir style: time, microseconds, pid, counter. */
static void
new_name(struct mailbox *m, uint64_t size, char *out, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, n, "%lld.M%ldP%dQ%u.%s,S=%llu", (long long)ts.tv_sec, ts.tv_nsec / 1000,
	    (int)getpid(), ++m->saved, mb_host, (unsigned long long)size);
}

/* Link (or rename) tmp/name into cur/ with the flags, fsync cur/, sync
 * the view and look the UID up. */
static int
publish(struct mailbox *m, const char *name, uint8_t flags, uint32_t kw, uint32_t *uid,
    char *why, size_t whylen)
{
	char final[UIDLIST_NAME_MAX + 80];
	if (name_with_flags(name, flags, kw, final, sizeof final) < 0 ||
	    renameat(m->tmp_fd, name, m->cur_fd, final) < 0 || fsync(m->cur_fd) < 0) {
		int e = errno;
		snprintf(why, whylen, "Cannot store the message: %s", strerror(e));
		unlinkat(m->tmp_fd, name, 0);
		errno = e;
		return -1;
	}
	if (mb_sync(m, NULL) < 0) {
		snprintf(why, whylen, "Stored, but the UID list could not be written");
		return -1;
	}
	const char *b = final;
	size_t blen = uidlist_base_len(final);
	for (size_t i = m->n; i-- > 0;)
		if (uidlist_base_len(m->v[i].name) == blen && memcmp(m->v[i].name, b, blen) == 0) {
			*uid = m->v[i].uid;
			return 0;
		}
	snprintf(why, whylen, "Stored, but it vanished at once");
	return -1;
}

int
mb_append(struct mailbox *m, const uint8_t *msg, size_t len, uint8_t flags, uint32_t kw,
    int64_t internaldate, uint32_t *uid, char *why, size_t whylen)
{
	if (m->readonly) {
		snprintf(why, whylen, "Mailbox is read-only");
		return -1;
	}
	/* stored with LF, as deliveries are: CRLF becomes LF, a bare CR stays */
	uint8_t *lf = xmalloc(len ? len : 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n')
			continue;
		lf[n++] = msg[i];
	}
	char name[UIDLIST_NAME_MAX];
	new_name(m, n, name, sizeof name);
	int fd = openat(m->tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || write_all(fd, lf, n) < 0 || fsync(fd) < 0) {
		int e = errno;
		snprintf(why, whylen, "Cannot store the message: %s", strerror(e));
		if (fd >= 0) {
			close(fd);
			unlinkat(m->tmp_fd, name, 0);	/* no partial file stays */
		}
		free(lf);
		errno = e;
		return -1;
	}
	free(lf);
	if (internaldate > 0) {
		struct timespec t[2] = { { internaldate, 0 }, { internaldate, 0 } };
		futimens(fd, t);
	}
	close(fd);
	return publish(m, name, flags & MF_STORED, kw, uid, why, whylen);
}

int
mb_copy(struct mailbox *src, size_t i, struct mailbox *dst, uint32_t *uid, char *why,
    size_t whylen)
{
	if (dst->readonly) {
		snprintf(why, whylen, "Mailbox is read-only");
		return -1;
	}
	int in = mb_open_msg(src, i);
	if (in < 0) {
		snprintf(why, whylen, "Message is gone");
		return -1;
	}
	struct stat st;
	if (fstat(in, &st) < 0) {
		close(in);
		snprintf(why, whylen, "Cannot read the message");
		return -1;
	}
	char name[UIDLIST_NAME_MAX];
	new_name(dst, (uint64_t)st.st_size, name, sizeof name);
	/* a hard link shares the bytes (Dovecot does the same); across file
	 * systems, a copy */
	struct mb_msg *e = &src->v[i];
	int r = linkat(e->in_new ? src->new_fd : src->cur_fd, e->name, dst->tmp_fd, name, 0);
	if (r < 0) {
		int out = openat(dst->tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		uint8_t b[65536];
		ssize_t k = 0;
		while (out >= 0 && (k = read(in, b, sizeof b)) > 0)
			if (write_all(out, b, (size_t)k) < 0)
				break;
		if (out < 0 || k != 0 || fsync(out) < 0) {
			int err = errno;
			snprintf(why, whylen, "Cannot copy the message: %s", strerror(err));
			if (out >= 0) {
				close(out);
				unlinkat(dst->tmp_fd, name, 0);
			}
			close(in);
			errno = err;
			return -1;
		}
		struct timespec t[2] = { st.st_mtim, st.st_mtim };
		futimens(out, t);
		close(out);
	}
	close(in);
	uint32_t kw = 0;
	/* keywords go by name: the indexes differ between mailboxes */
	for (int k = 0; k < MB_KEYWORDS_MAX; k++) {
		if (!(e->kw & (1u << k)) || (unsigned)k >= src->n_kw || !src->kw[k][0])
			continue;
		int d = mb_keyword(dst, src->kw[k], true);
		if (d >= 0)
			kw |= 1u << d;
	}
	return publish(dst, name, e->flags & MF_STORED, kw, uid, why, whylen);
}

/* --- folders ------------------------------------------------------------------------- */

int
mb_create(int maildir_fd, const char *dir)
{
	if (strcmp(dir, ".") != 0 && mkdirat(maildir_fd, dir, 0700) < 0 && errno != EEXIST)
		return -1;
	int d = openat(maildir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (d < 0)
		return -1;
	static const char *const subs[] = { "cur", "new", "tmp" };
	for (size_t i = 0; i < NELEM(subs); i++)
		if (mkdirat(d, subs[i], 0700) < 0 && errno != EEXIST) {
			int e = errno;
			close(d);
			errno = e;
			return -1;
		}
	if (strcmp(dir, ".") != 0) {
		int f = openat(d, "maildirfolder", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (f >= 0)
			close(f);
	}
	fsync(d);
	close(d);
	fsync(maildir_fd);
	return 0;
}

/* Remove everything in directory fd, one level of subdirectories deep
 * (a folder holds cur, new, tmp and files). */
static int
empty_dir(int fd, int depth)
{
	int dd = dup(fd);
	if (dd < 0)
		return -1;
	DIR *d = fdopendir(dd);
	if (d == NULL) {
		close(dd);
		return -1;
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0)
			continue;
		if ((errno == EISDIR || errno == EPERM) && depth > 0) {
			int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			    O_NOFOLLOW);
			if (sub >= 0) {
				empty_dir(sub, depth - 1);
				close(sub);
			}
			if (unlinkat(fd, de->d_name, AT_REMOVEDIR) == 0)
				continue;
		}
		r = -1;
	}
	closedir(d);
	return r;
}

int
mb_delete(int maildir_fd, const char *dir)
{
	if (dir[0] != '.' || dir[1] == '\0' || strcmp(dir, "..") == 0 ||
	    strchr(dir, '/') != NULL) {
		errno = EINVAL;
		return -1;
	}
	int d = openat(maildir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (d < 0)
		return -1;
	int r = empty_dir(d, 1);
	close(d);
	if (r < 0 || unlinkat(maildir_fd, dir, AT_REMOVEDIR) < 0)
		return -1;
	fsync(maildir_fd);
	return 0;
}

int
mb_list_dirs(int maildir_fd, void (*fn)(void *arg, const char *dir), void *arg)
{
	int dd = dup(maildir_fd);
	if (dd < 0)
		return -1;
	DIR *d = fdopendir(dd);
	if (d == NULL) {
		close(dd);
		return -1;
	}
	rewinddir(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		struct stat st;
		if (fstatat(maildir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		fn(arg, de->d_name);
	}
	closedir(d);
	return 0;
}

/* ---- quota usage (RFC 9208 STORAGE) ----------------------------------- */

/* The size a Maildir file name gives (",S=<n>" before the info part, as
 * deliveries, Dovecot and Courier write it), else the file's size. */
static uint64_t
name_size(int dir_fd, const char *name)
{
	const char *colon = strchr(name, ':');
	size_t blen = colon ? (size_t)(colon - name) : strlen(name);
	for (const char *s = name; (s = strstr(s, ",S=")) != NULL && s < name + blen; s++) {
		uint64_t v = 0;
		const char *p = s + 3;
		if (*p < '0' || *p > '9')
			continue;
		while (*p >= '0' && *p <= '9' && v < UINT64_MAX / 10)
			v = v * 10 + (uint64_t)(*p++ - '0');
		return v;
	}
	struct stat st;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		return (uint64_t)st.st_size;
	return 0;
}

static void
usage_dir(int maildir_fd, const char *folder, const char *sub, uint64_t *bytes, uint64_t *n)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", folder, sub);
	int fd = openat(maildir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		*bytes += name_size(dirfd(d), de->d_name);
		*n += 1;
	}
	closedir(d);
}

struct usage {
	int maildir_fd;
	uint64_t bytes, n;
};

static void
usage_folder(void *arg, const char *dir)
{
	struct usage *u = arg;
	usage_dir(u->maildir_fd, dir, "cur", &u->bytes, &u->n);
	usage_dir(u->maildir_fd, dir, "new", &u->bytes, &u->n);
}

int
mb_usage(int maildir_fd, uint64_t *bytes, uint64_t *messages)
{
	struct usage u = { maildir_fd, 0, 0 };
	usage_folder(&u, ".");
	int rc = mb_list_dirs(maildir_fd, usage_folder, &u);
	*bytes = u.bytes;
	*messages = u.n;
	return rc;
}

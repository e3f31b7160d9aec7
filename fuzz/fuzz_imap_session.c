/*
 * fuzz/fuzz_imap_session.c - libFuzzer harness for the mailbox process's
 * command handlers (imap/mserver.c, mcmd.c, mfolder.c, mfetch.c, mstore.c,
 * msearch.c) over store/mailbox.c and a real Maildir.
 *
 * Input:   what a logged-in client sends, at most INPUT_MAX bytes, cut into
 *          pieces that end after each CRLF (at most PIECES_MAX; the rest is
 *          dropped) and written one piece at a time into one end of a
 *          socketpair whose other end is a real session (m_session_new),
 *          run by its own loop callback (m_session_event) until it waits
 *          for input again.  Once COMPRESS is on, the harness deflates what
 *          it sends and inflates what it reads, as a client would.  A piece
 *          starting with byte 0xFF is not sent: it makes the harness act as
 *          another program sharing the Maildir (see other_writer: expunge,
 *          change flags, deliver, duplicate a file, damage the UID list or
 *          the keywords, delete a folder), so syncs meet real changes, or
 *          as a client that stops reading ("\xffS"), reads again ("\xffR")
 *          or goes away with replies pending ("\xffQ"; nothing more is fed).
 * Setup:   once, a private directory (mkdtemp under $TMPDIR, else /tmp)
 *          holding jail/cell/store; MW filled with a parsed conf (64 KiB
 *          messages, autologout 1800, hostname fuzz.example), a loop and a
 *          real inotify descriptor, so SELECT and its watches run as in the
 *          daemon (the harness reads and discards the events).  Per input,
 *          the user's Maildir is rebuilt: INBOX with three messages in cur/
 *          (flags, a keyword, one \Deleted) and two in new/, a UID list with
 *          gaps and a stale line, two keywords; Folder (a small message and
 *          one of 60 KiB), Folder/Sub, Sent, Trash; a subscriptions file
 *          naming one missing mailbox.
 * Checks:  no crash, leak, hang or sanitizer report.  After every round
 *          the selected view has non-zero UIDs, strictly increasing and
 *          below UIDNEXT, n <= cap, at most 26 keywords, and the UIDVALIDITY
 *          the client was told (unless the session is closing).  Every byte
 *          the session writes is parsed as responses: CRLF lines without
 *          NUL, bare CR or bare LF, literals as long as announced; tagged
 *          lines are OK/NO/BAD; untagged ones are a known response; data
 *          responses have balanced parentheses outside quoted strings and
 *          literals; an EXPUNGE or FETCH number is within the EXISTS the
 *          client was told (one less after each EXPUNGE).  At EOF (the
 *          client closed only its sending side) the session writes every
 *          reply, then frees itself.  After each input nothing exists
 *          beside the Maildir (the directories above it hold only their one
 *          child), every folder directory maps back to a mailbox name
 *          (dir_to_mailbox), folders hold only Maildir's own files, no
 *          symlinks, no lock file and nothing left in any tmp/.
 * Seeds:   fuzz/corpus/imap_session/ (command scripts); dictionary
 *          fuzz/imap_session.dict.  SFUZZ_LOG=1 shows the session's log,
 *          SFUZZ_TRACE=1 what it sends (inflated).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/io.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "imap/msession.h"
#include "imap/mutf7.h"
#include "mail/conf.h"
#include "store/mailbox.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX	16384	/* bytes of one input used */
#define PIECES_MAX	64	/* CRLF-ended pieces fed: about as many commands */
#define ROUNDS_MAX	20000	/* session callbacks for one piece: more is a hang */
#define RESP_MAX	(8u << 20)	/* response text kept for checking */
#define USER		"fuzz"

static const char conf_text[] =
	"hostname fuzz.example\n"
	"domain fuzz.example\n"
	"listen smtp 127.0.0.1:2525\n"
	"store store\n"
	"spool spool\n"
	"state state\n"
	"users users\n"
	"aliases aliases\n"
	"limit message-size 64k\n";

static struct {
	char root[PATH_MAX];	/* the mkdtemp() directory */
	int root_fd;
	int store_fd;		/* root/jail/cell/store */
	int user_fd;		/* store/fuzz */
	struct conf *conf;
} H = { .root_fd = -1, .store_fd = -1, .user_fd = -1 };

static bool trace;	/* SFUZZ_TRACE: responses and other_writer on stderr */

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz_imap_session: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	/* kept for a look at what the session left on disk */
	fprintf(stderr, " (the Maildir is kept under %s)\n", H.root);
	abort();
}

/* --- the private directory ------------------------------------------------------- */

/* Remove name in dirfd and, for a directory, what it holds, at most depth
 * levels down.  Symlinks are removed, never followed. */
static void
rm_tree(int dirfd, const char *name, int depth)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return;
	for (int pass = 0; pass < 3 && depth > 0; pass++) {
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			break;
		DIR *d = fdopendir(fd);
		if (d == NULL) {
			close(fd);
			break;
		}
		struct dirent *de;
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				rm_tree(fd, de->d_name, depth - 1);
		closedir(d);
		if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
			return;
	}
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		die("cannot remove %s: %s", name, strerror(errno));
}

static void
cleanup(void)
{
	if (H.root_fd < 0)
		return;
	int parent = open(H.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent >= 0) {
		close(parent);
		char *slash = strrchr(H.root, '/');
		*slash = '\0';
		int up = open(H.root[0] ? H.root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (up >= 0) {
			rm_tree(up, slash + 1, 12);
			close(up);
		}
		*slash = '/';
	}
}

static int
xmkdirat(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		die("mkdir %s: %s", name, strerror(errno));
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", name, strerror(errno));
	return fd;
}

static void
put_file(int dirfd, const char *name, const char *text)
{
	size_t n = strlen(text);
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		die("write %s: %s", name, strerror(errno));
	close(fd);
}

/* --- the Maildir every input starts from ------------------------------------------- */

static const char msg_plain[] =
	"From: Alice <alice@example.org>\n"
	"To: Bob <bob@example.net>, \"Carol \\\"C\\\"\" <carol@example.net>\n"
	"Cc: undisclosed-recipients:;\n"
	"Subject: =?UTF-8?B?SGVsbG8gw6l0w6k=?=\n"
	"Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
	"Message-ID: <m1@example.org>\n"
	"In-Reply-To: <m0@example.org>\n"
	"\n"
	"Hello Bob,\n"
	"this is the first message.\n";

static const char msg_multi[] =
	"From: bob@example.net\n"
	"To: alice@example.org\n"
	"Subject: report\n"
	"Date: Wed, 15 Nov 2023 08:00:00 +0100\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\n"
	"\n"
	"preamble\n"
	"--b1\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"Caf=C3=A9 =3D ok=\n"
	" soft break\n"
	"--b1\n"
	"Content-Type: application/octet-stream; name=\"a.bin\"\n"
	"Content-Disposition: attachment; filename=\"a.bin\"\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"AAECAwQFBgcICQ==\n"
	"--b1\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: inner@example.com\n"
	"Subject: inner\n"
	"\n"
	"inner body\n"
	"--b1--\n"
	"epilogue\n";

static const char msg_deleted[] =
	"Subject: to be expunged\n"
	"\n"
	"bye\n";

static const char msg_new[] =
	"From: carol@example.net\n"
	"Subject: new\n"
	"\n"
	"fresh mail\n";

static const char msg_8bit[] =
	"From: x@example.com\n"
	"Subject: binary\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: 8bit\n"
	"\n"
	"\xc3\xa9t\xc3\xa9\n";

/* About 60 KiB (under the 64 KiB limit): a FETCH of a few copies of its
 * body fills more than M_OUT_PAUSE, so the FETCH goes on as the output
 * drains (fetch_cont). */
static const char *
big_msg(void)
{
	static char text[61440];
	if (text[0] == '\0') {
		size_t n = (size_t)snprintf(text, sizeof text, "From: big@example.com\n"
		    "Subject: big\n\n");
		while (n + 64 < sizeof text)
			n += (size_t)snprintf(text + n, sizeof text - n, "%062zu\n", n);
	}
	return text;
}

/* RFC822.SIZE as deliver names it (",W="): LF counted as CRLF. */
static size_t
crlf_size(const char *t)
{
	size_t n = strlen(t);
	for (const char *p = t; *p; p++)
		n += *p == '\n';
	return n;
}

/* A message file named "<base>,S=..,W=..<info>" (W= left out when
 * with_w is false, so mb_vsize reads the file). */
static void
put_msg(int dirfd, const char *base, bool with_w, const char *info, const char *text,
    char *name, size_t n)
{
	if (with_w)
		snprintf(name, n, "%s,S=%zu,W=%zu%s", base, strlen(text), crlf_size(text), info);
	else
		snprintf(name, n, "%s,S=%zu%s", base, strlen(text), info);
	put_file(dirfd, name, text);
}

static int
maildir_dirs(int parent, const char *name, bool folder)
{
	int d = xmkdirat(parent, name);
	static const char *const subs[] = { "cur", "new", "tmp" };
	for (size_t i = 0; i < NELEM(subs); i++)
		close(xmkdirat(d, subs[i]));
	if (folder)
		put_file(d, "maildirfolder", "");
	return d;
}

/* store/fuzz/Maildir as described at the top; no fsync (nothing here
 * has to survive a crash). */
static void
maildir_reset(void)
{
	rm_tree(H.user_fd, "Maildir", 6);
	int md = maildir_dirs(H.user_fd, "Maildir", false);
	int cur = openat(md, "cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int nw = openat(md, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0 || nw < 0)
		die("open cur/new: %s", strerror(errno));
	char n1[256], n2[256], n3[256], n4[256], n5[256];
	put_msg(cur, "1700000000.M100P7Q1.fuzz.example", true, ":2,S", msg_plain, n1, sizeof n1);
	put_msg(cur, "1700000100.M200P7Q2.fuzz.example", false, ":2,FRa", msg_multi, n2,
	    sizeof n2);
	put_msg(cur, "1700000200.M300P7Q3.fuzz.example", true, ":2,ST", msg_deleted, n3,
	    sizeof n3);
	put_msg(nw, "1700000300.M400P7Q4.fuzz.example", true, "", msg_new, n4, sizeof n4);
	put_msg(nw, "1700000400.M500P7Q5.fuzz.example", false, "", msg_8bit, n5, sizeof n5);
	/* the list names the cur/ files by base, with gaps (1, 5, 6) and a
	 * line for a file that is gone; new/'s files get 20 and 21 */
	char list[1024];
	snprintf(list, sizeof list, "3 V1700000000 N20 G0123456789abcdef0123456789abcdef\n"
	    "1 :%.*s\n5 :%.*s\n6 :%.*s\n7 :1700000250.M350P7Q9.fuzz.example\n",
	    (int)uidlist_base_len(n1), n1, (int)uidlist_base_len(n2), n2,
	    (int)uidlist_base_len(n3), n3);
	put_file(md, "dovecot-uidlist", list);
	put_file(md, "dovecot-keywords", "0 $Forwarded\n1 Junk\n");
	put_file(md, "subscriptions", "V\t2\n\nINBOX\nFolder\nSent\nGone\n");
	close(cur);
	close(nw);

	int f = maildir_dirs(md, ".Folder", true);
	int fcur = openat(f, "cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fcur < 0)
		die("open .Folder/cur: %s", strerror(errno));
	put_msg(fcur, "1700000500.M600P7Q6.fuzz.example", true, ":2,S", msg_plain, n1, sizeof n1);
	put_msg(fcur, "1700000600.M700P7Q7.fuzz.example", false, ":2,", big_msg(), n1,
	    sizeof n1);
	close(fcur);
	close(f);
	static const char *const empty[] = { ".Folder.Sub", ".Sent", ".Trash" };
	for (size_t i = 0; i < NELEM(empty); i++)
		close(maildir_dirs(md, empty[i], true));
	/* old times: a second sync of an unchanged folder takes mb_sync's
	 * "nothing moved" path, which fresh directories never do */
	static const char *const aged[] = { "cur", "new", "dovecot-uidlist", ".Folder/cur",
		".Folder/new", ".Folder.Sub/cur", ".Folder.Sub/new" };
	struct timespec old[2] = { { 1700000000, 0 }, { 1700000000, 0 } };
	for (size_t i = 0; i < NELEM(aged); i++)
		if (utimensat(md, aged[i], old, AT_SYMLINK_NOFOLLOW) < 0)
			die("utimensat %s: %s", aged[i], strerror(errno));
	close(md);
}

/* --- another program in the Maildir ------------------------------------------------ */

struct names {
	char v[64][300];
	size_t n;
};

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The message files of sub ("cur" or "new"), sorted. */
static void
list_msgs(int folder, const char *sub, struct names *ns)
{
	ns->n = 0;
	int fd = openat(folder, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL && ns->n < NELEM(ns->v))
		if (de->d_name[0] != '.' && strlen(de->d_name) < sizeof ns->v[0])
			strcpy(ns->v[ns->n++], de->d_name);
	closedir(d);
	qsort(ns->v, ns->n, sizeof ns->v[0], name_cmp);
}

/* Give file victim (in subfd, a cur/ or new/ of folder) other flags,
 * as a mail reader does: renamed into cur/, or with copy a second name
 * for the same file (a reader that copied instead of renaming). */
static void
reflag(int folder, int subfd, const char *victim, uint8_t arg, bool copy)
{
	/* flags from arg's high bits; keywords b and f (indexes 1, 5) */
	static const char letters[] = "FRSTbf";
	char info[16] = ":2,", name[400];
	size_t k = 3;
	for (int i = 0; i < 6; i++)
		if (arg & (4u << i))
			info[k++] = letters[i];
	info[k] = '\0';
	snprintf(name, sizeof name, "%.*s%s", (int)uidlist_base_len(victim), victim, info);
	int cur = openat(folder, "cur", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cur < 0)
		return;
	if (!copy)
		renameat(subfd, victim, cur, name);
	else if (strcmp(victim, name) != 0)
		linkat(subfd, victim, cur, name, 0);
	close(cur);
}

/*
 * What other programs do to a Maildir while a session has it open
 * (mutt, Dovecot, deliver, a cron job, another session): op and arg are
 * the two bytes after 0xFF.  arg bit 0 picks INBOX or Folder, bit 1
 * new/ or cur/, the rest which file.
 *   d  unlink a message            f  rename it with other flags
 *   n  deliver a message to new/   c  a second file with the same base
 *   u  a UID list that cannot be read (UIDVALIDITY starts again)
 *   k  other keywords, some of them names no client may create
 *   x  delete Folder and its children
 */
static void
other_writer(uint8_t op, uint8_t arg)
{
	static unsigned serial;
	int md = openat(H.user_fd, "Maildir", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (md < 0)
		die("open Maildir: %s", strerror(errno));
	const char *fname = arg & 1 ? ".Folder" : ".";
	const char *sub = arg & 2 ? "new" : "cur";
	int folder = openat(md, fname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int subfd = folder >= 0 ? openat(folder, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC) : -1;
	struct names ns;
	if (subfd >= 0)
		list_msgs(folder, sub, &ns);
	else
		ns.n = 0;
	const char *victim = ns.n > 0 ? ns.v[(arg >> 2) % ns.n] : NULL;
	char name[400];
	if (trace) {
		fprintf(stderr, "[other program: %c in %s/%s, file %s; there:", op, fname, sub,
		    victim ? victim : "-");
		for (size_t i = 0; i < ns.n; i++)
			fprintf(stderr, " %s", ns.v[i]);
		fprintf(stderr, "]\n");
	}
	switch (op) {
	case 'd':
		if (victim != NULL)
			unlinkat(subfd, victim, 0);
		break;
	case 'f':
	case 'c':
		if (victim != NULL)
			reflag(folder, subfd, victim, arg, op == 'c');
		break;
	case 'n':
		if (folder >= 0) {
			int nw = openat(folder, "new", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
			if (nw >= 0) {
				char nn[256];
				serial++;
				snprintf(name, sizeof name, "1800000000.M%uP9Q%u.other", serial,
				    serial);
				put_msg(nw, name, arg & 4, "", msg_new, nn, sizeof nn);
				close(nw);
			}
		}
		break;
	case 'u':
		if (folder >= 0)
			put_file(folder, "dovecot-uidlist", "2 garbage\n1 :x\n");
		break;
	case 'k':
		if (folder >= 0)
			/* names no client could create: the file is not trusted */
			put_file(folder, "dovecot-keywords", "1 Other\n3 $Label\nbad line\n"
			    "4 a)b\n5 x\ry\n6 {3}\n7 sp ace\n8 q\"uote\n");
		break;
	case 'x':
		rm_tree(md, ".Folder", 3);
		rm_tree(md, ".Folder.Sub", 3);
		break;
	}
	if (subfd >= 0)
		close(subfd);
	if (folder >= 0)
		close(folder);
	close(md);
}

/* --- what must hold on disk after an input ------------------------------------------ */

/* dirfd holds exactly one entry, want, a directory. */
static void
only_child(int dirfd, const char *where, const char *want)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL)
		die("list %s: %s", where, strerror(errno));
	rewinddir(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, want) != 0)
			die("%s holds \"%s\": something escaped the Maildir", where, de->d_name);
	closedir(d);
}

static bool
one_of(const char *name, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(name, *set) == 0)
			return true;
	return false;
}

/* cur/, new/, tmp/ of a folder: plain files only; tmp/ empty. */
static void
check_msgdir(int parent, const char *folder, const char *sub)
{
	int fd = openat(parent, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL)
		die("%s/%s: %s", folder, sub, strerror(errno));
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			die("%s/%s/%s is not a plain file", folder, sub, de->d_name);
		if (strcmp(sub, "tmp") == 0)
			die("%s/tmp/%s was left behind", folder, de->d_name);
	}
	closedir(d);
}

/* A folder: its own files and nothing else, no lock left.  For the
 * Maildir itself (INBOX) also every folder directory in it. */
static void
check_folder(int fd, const char *name, bool is_inbox)
{
	static const char *const files[] = { "dovecot-uidlist", "dovecot-keywords",
		"talon-modseq", "talon-uidvalidity",
		"maildirfolder", "subscriptions", NULL };
	static const char *const subs[] = { "cur", "new", "tmp", NULL };
	int dd = dup(fd);
	DIR *d = dd >= 0 ? fdopendir(dd) : NULL;
	if (d == NULL)
		die("list %s: %s", name, strerror(errno));
	rewinddir(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *e = de->d_name;
		if (strcmp(e, ".") == 0 || strcmp(e, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(fd, e, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die("stat %s/%s: %s", name, e, strerror(errno));
		if (one_of(e, subs) && S_ISDIR(st.st_mode)) {
			check_msgdir(fd, name, e);
			continue;
		}
		if (one_of(e, files) && S_ISREG(st.st_mode) &&
		    (is_inbox || strcmp(e, "subscriptions") != 0) &&
		    (!is_inbox || strcmp(e, "maildirfolder") != 0))
			continue;
		if (is_inbox && e[0] == '.' && S_ISDIR(st.st_mode)) {
			char mbox[MAILBOX_NAME_MAX + 1];
			if (dir_to_mailbox(e, mbox, sizeof mbox) < 0)
				die("folder directory \"%s\" maps to no mailbox name", e);
			int sub = openat(fd, e, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				die("open %s: %s", e, strerror(errno));
			check_folder(sub, e, false);
			close(sub);
			continue;
		}
		die("%s holds unexpected \"%s\" (mode %o)", name, e, (unsigned)st.st_mode);
	}
	closedir(d);
}

static void
check_disk(void)
{
	int jail = openat(H.root_fd, "jail", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int cell = jail >= 0 ? openat(jail, "cell", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC) : -1;
	if (cell < 0)
		die("the private directory lost jail/cell");
	only_child(H.root_fd, "root", "jail");
	only_child(jail, "jail", "cell");
	only_child(cell, "cell", "store");
	only_child(H.store_fd, "store", USER);
	only_child(H.user_fd, "store/" USER, "Maildir");
	close(cell);
	close(jail);
	int md = openat(H.user_fd, "Maildir", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (md < 0)
		die("the Maildir is gone: %s", strerror(errno));
	check_folder(md, "Maildir", true);
	close(md);
}

/* --- the view ------------------------------------------------------------------------- */

static void
check_view(const struct msession *s, uint32_t told)
{
	const struct mailbox *mb = s->mb;
	if (mb == NULL)
		return;
	if (s->mbname[0] == '\0')
		die("a mailbox is selected without a name");
	/* RFC 9051 2.3.1.1: UIDs the client holds stay valid while it has the
	 * mailbox selected; a new UIDVALIDITY must end the session */
	if (mb->validity != told && s->st != M_CLOSING)
		die("view: UIDVALIDITY is %u, the client was told %u", mb->validity, told);
	if (mb->n > 0 && mb->v == NULL)
		die("view: n %zu, no messages", mb->n);
	if (mb->n_kw > MB_KEYWORDS_MAX)
		die("view: %u keywords", mb->n_kw);
	for (size_t i = 0; i < mb->n; i++) {
		uint32_t u = mb->v[i].uid;
		if (u == 0 || u >= mb->next || (i > 0 && u <= mb->v[i - 1].uid))
			die("view: message %zu has UID %u (previous %u, UIDNEXT %u)", i + 1, u,
			    i > 0 ? mb->v[i - 1].uid : 0, mb->next);
		if (mb->v[i].name == NULL)
			die("view: message %zu has no file name", i + 1);
	}
}

/* --- the responses ------------------------------------------------------------------- */

struct replies {
	struct buf resp;	/* the response being read: text, literals as 0x01 */
	bool cr;		/* the last byte was a CR */
	size_t lit_left;	/* octets of a literal still to come */
	size_t seg;		/* where the current line starts in resp */
	bool inflating;		/* COMPRESS is on: bytes go through z first */
	z_stream z;
	long exists;		/* the EXISTS the client was told; -1 none yet */
	uint32_t validity;	/* the last [UIDVALIDITY n] it was told */
	unsigned long n;	/* responses seen */
};

static void
replies_init(struct replies *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->resp, RESP_MAX);
	r->exists = -1;
}

static void
replies_free(struct replies *r)
{
	buf_free(&r->resp);
	if (r->inflating)
		inflateEnd(&r->z);
}

static bool
tag_char(uint8_t c)
{
	/* RFC 9051 9: tag = 1*<any ASTRING-CHAR except "+"> */
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

static bool
word_at(const char *p, const char *w)
{
	size_t n = strlen(w);
	return strncmp(p, w, n) == 0 && (p[n] == ' ' || p[n] == '\r');
}

/* Response text for a failure report: escaped, cut. */
static const char *
shown(const char *t, size_t len)
{
	static char out[4096];
	log_escape(out, sizeof out, t, len);
	return out;
}

/* Parentheses balance outside quoted strings and literals (0x01). */
static void
check_parens(const char *t, size_t len)
{
	long depth = 0;
	bool q = false;
	for (size_t i = 0; i < len; i++) {
		char c = t[i];
		if (q) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				q = false;
			else if (c == '\r' || c == '\n')
				die("a quoted string spans lines: %s", shown(t, len));
			continue;
		}
		if (c == '"')
			q = true;
		else if (c == '(')
			depth++;
		else if (c == ')' && --depth < 0)
			die("unbalanced ')': %s", shown(t, len));
	}
	if (q || depth != 0)
		die("unterminated %s: %s", q ? "quoted string" : "list", shown(t, len));
}

/* An untagged response: "* <n> WORD" or "* WORD". */
static void
check_untagged(struct replies *r, const char *t, size_t len)
{
	static const char *const words[] = { "OK", "NO", "BAD", "BYE", "PREAUTH",
		"CAPABILITY", "LIST", "LSUB", "STATUS", "SEARCH", "ESEARCH", "FLAGS", "ID",
		"NAMESPACE", "ENABLED", NULL };
	const char *p = t + 2;
	if (*p >= '0' && *p <= '9') {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (*end != ' ')
			die("bad numbered response: %s", shown(t, len));
		end++;
		if (word_at(end, "EXISTS")) {
			r->exists = (long)v;
		} else if (word_at(end, "RECENT")) {
			if (r->exists < 0 || (long)v > r->exists)
				die("RECENT %lu with EXISTS %ld", v, r->exists);
		} else if (word_at(end, "EXPUNGE")) {
			if (v == 0 || r->exists < 0 || (long)v > r->exists)
				die("EXPUNGE %lu with EXISTS %ld", v, r->exists);
			r->exists--;
		} else if (word_at(end, "FETCH")) {
			if (v == 0 || r->exists < 0 || (long)v > r->exists)
				die("FETCH %lu with EXISTS %ld: %s", v, r->exists, shown(t, len));
			check_parens(end, len - (size_t)(end - t));
		} else {
			die("unknown numbered response: %s", shown(t, len));
		}
		return;
	}
	if (strncmp(p, "OK [UIDVALIDITY ", 16) == 0)
		r->validity = (uint32_t)strtoul(p + 16, NULL, 10);
	for (size_t i = 0; words[i]; i++) {
		if (!word_at(p, words[i]))
			continue;
		/* status responses carry free text; the rest is data */
		if (i >= 5)
			check_parens(p, len - 2);
		return;
	}
	die("unknown untagged response: %s", shown(t, len));
}

/* One whole response (its lines and literals) is in r->resp.  Returns
 * true when it turned compression on. */
static bool
check_response(struct replies *r)
{
	r->n++;
	if (!buf_cstr(&r->resp))
		die("a response over %u bytes", RESP_MAX);
	const char *t = (const char *)r->resp.data;
	size_t len = r->resp.len;
	if (len >= 2 && t[0] == '+' && (t[1] == ' ' || t[1] == '\r'))
		return false;
	if (len >= 2 && t[0] == '*' && t[1] == ' ') {
		check_untagged(r, t, len);
		return false;
	}
	size_t i = 0;
	while (i < len && i <= 64 && tag_char((uint8_t)t[i]))
		i++;
	if (i == 0 || i > 64 || i >= len || t[i] != ' ')
		die("bad tag in response: %s", shown(t, len));
	const char *st = t + i + 1;
	if (!word_at(st, "OK") && !word_at(st, "NO") && !word_at(st, "BAD"))
		die("tagged response without OK/NO/BAD: %s", shown(t, len));
	/* the one reply after which the stream is compressed (mcmd.c) */
	return strcmp(st, "OK DEFLATE active\r\n") == 0;
}

/* Parse bytes as the client sees them; returns how many were used, which
 * is fewer than n only when compression starts after them. */
static size_t
replies_parse(struct replies *r, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (r->lit_left > 0) {
			size_t k = n - i < r->lit_left ? n - i : r->lit_left;
			r->lit_left -= k;
			i += k - 1;
			continue;
		}
		if (r->cr && c != '\n')
			die("bare CR in a response line");
		if (c == '\n' && !r->cr)
			die("bare LF in a response line");
		if (c == '\0')
			die("NUL in a response line");
		r->cr = c == '\r';
		if (!buf_putc(&r->resp, c))
			die("a response over %u bytes", RESP_MAX);
		if (c != '\n')
			continue;
		/* a line ends: a literal follows when it ends in {n} or ~{n} */
		const char *t = (const char *)r->resp.data + r->seg;
		size_t l = r->resp.len - r->seg - 2;
		size_t k = l > 0 ? l - 1 : 0;
		while (k > 0 && t[k - 1] >= '0' && t[k - 1] <= '9')
			k--;
		if (l >= 3 && t[l - 1] == '}' && k < l - 1 && k >= 1 && t[k - 1] == '{') {
			r->lit_left = strtoul(t + k, NULL, 10);
			buf_putc(&r->resp, 1);
			r->seg = r->resp.len;
			continue;
		}
		bool z = check_response(r);
		buf_reset(&r->resp);
		r->seg = 0;
		if (z) {
			if (r->inflating)
				die("COMPRESS accepted twice");
			if (inflateInit2(&r->z, -15) != Z_OK)
				die("inflateInit2");
			r->inflating = true;
			return i + 1;
		}
	}
	return n;
}

static size_t
replies_parse_traced(struct replies *r, const uint8_t *p, size_t n)
{
	size_t used = replies_parse(r, p, n);
	if (trace)
		fwrite(p, 1, used, stderr);
	return used;
}

static void
replies_feed(struct replies *r, const uint8_t *p, size_t n)
{
	while (n > 0 && !r->inflating) {
		size_t used = replies_parse_traced(r, p, n);
		p += used;
		n -= used;
	}
	if (n == 0)
		return;
	static uint8_t out[1u << 16];
	r->z.next_in = (uint8_t *)p;
	r->z.avail_in = (uInt)n;
	for (;;) {
		r->z.next_out = out;
		r->z.avail_out = sizeof out;
		int zr = inflate(&r->z, Z_SYNC_FLUSH);
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			die("the session's DEFLATE stream is invalid (%d)", zr);
		size_t got = sizeof out - r->z.avail_out;
		if (replies_parse_traced(r, out, got) != got)
			die("COMPRESS accepted twice");
		if (r->z.avail_in == 0 && got < sizeof out)
			break;
	}
}

/* --- driving the session --------------------------------------------------------------- */

struct drive {
	struct msession *s;	/* NULL once it freed itself */
	int peer;		/* the client's end; -1 once the client went away */
	bool stalled;		/* the client reads nothing for now */
	bool deflating;		/* the client's output is compressed */
	z_stream z;
	struct replies r;
};

static void
drain(struct drive *d)
{
	static uint8_t b[1u << 16];
	for (; d->peer >= 0;) {
		ssize_t n = read(d->peer, b, sizeof b);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		replies_feed(&d->r, b, (size_t)n);
	}
	/* the watches' events: only IDLE sessions hear of them, in the daemon
	 * through inotify_cb; here they are discarded so the queue stays
	 * small */
	if (MW.inotify_fd >= 0) {
		char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		while (read(MW.inotify_fd, ev, sizeof ev) > 0)
			;
	}
}

/* Run the session's callback until it waits for input (or is gone). */
static void
pump(struct drive *d)
{
	for (unsigned round = 0; d->s != NULL; round++) {
		if (round > ROUNDS_MAX)
			die("the session does not settle");
		/* epoll says HUP (LOOP_ERROR) once the client is gone */
		unsigned ev = LOOP_READ | LOOP_WRITE | (d->peer < 0 ? LOOP_ERROR : 0);
		m_session_event(MW.loop, d->s->io.fd, ev, d->s);
		if (MW.sessions == NULL)
			d->s = NULL;
		if (!d->stalled)
			drain(d);
		if (d->s == NULL)
			break;
		/* what the client was told is known once it read all of it
		 * (a SELECT's reply can wait behind a long FETCH) */
		if (!d->stalled && io_unsent(&d->s->io) == 0)
			check_view(d->s, d->r.validity);
		/* a stalled client: a few rounds fill the socket, then the
		 * session must wait (its output pending, a FETCH paused) */
		if (d->stalled && round >= 3)
			break;
		if (io_unsent(&d->s->io) == 0 && d->s->cont == NULL && !d->s->deflate_pending)
			break;
	}
}

/* Deflate a piece as a client does after COMPRESS: one sync flush per
 * write.  The result is malloc'ed. */
static uint8_t *
deflate_piece(struct drive *d, const uint8_t *p, size_t n, size_t *outlen)
{
	if (!d->deflating) {
		memset(&d->z, 0, sizeof d->z);
		if (deflateInit2(&d->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK)
			die("deflateInit2");
		d->deflating = true;
	}
	size_t cap = deflateBound(&d->z, n) + 64;
	uint8_t *out = malloc(cap);
	if (out == NULL)
		die("out of memory");
	d->z.next_in = (uint8_t *)p;
	d->z.avail_in = (uInt)n;
	d->z.next_out = out;
	d->z.avail_out = (uInt)cap;
	if (deflate(&d->z, Z_SYNC_FLUSH) != Z_OK || d->z.avail_in != 0)
		die("deflate");
	*outlen = cap - d->z.avail_out;
	return out;
}

static void
feed(struct drive *d, const uint8_t *p, size_t n)
{
	uint8_t *z = NULL;
	if (d->s != NULL && d->s->io.zip != NULL) {
		z = deflate_piece(d, p, n, &n);
		p = z;
	}
	size_t off = 0;
	for (unsigned tries = 0; d->s != NULL && off < n; tries++) {
		if (tries > ROUNDS_MAX)
			die("the session reads nothing more");
		ssize_t w = write(d->peer, p + off, n - off);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			break;	/* the session closed its end */
		if (w > 0)
			off += (size_t)w;
		pump(d);
	}
	free(z);
}

static struct msession *
session_open(int fd)
{
	struct msession *s = m_session_new(fd, "fuzz00000000", "127.0.0.1", USER, "L1");
	if (s->st == M_CLOSING)
		die("the session could not open the Maildir");
	return s;
}

static void
run(const uint8_t *data, size_t size)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	struct drive d;
	memset(&d, 0, sizeof d);
	d.peer = sv[1];
	replies_init(&d.r);
	d.s = session_open(sv[0]);
	pump(&d);

	size_t pos = 0;
	for (unsigned k = 0; k < PIECES_MAX && pos < size && d.s != NULL; k++) {
		size_t end = pos;
		while (end < size && !(end > pos && data[end - 1] == '\r' && data[end] == '\n'))
			end++;
		if (end < size)
			end++;	/* the LF */
		uint8_t op = end - pos > 1 ? data[pos + 1] : 0;
		if (data[pos] != 0xff)
			feed(&d, data + pos, end - pos);
		else if (op == 'S' || op == 'R')
			d.stalled = op == 'S';
		else if (op == 'Q')
			break;
		else
			other_writer(op, end - pos > 2 ? data[pos + 2] : 0);
		pos = end;
	}
	bool vanished = pos < size;
	if (vanished) {
		/* the client is gone at once, replies unread */
		close(d.peer);
		d.peer = -1;
	} else {
		/* the client reads what is left, then closes its end */
		d.stalled = false;
		shutdown(d.peer, SHUT_WR);
	}
	for (unsigned k = 0; k < 100 && d.s != NULL; k++)
		pump(&d);
	if (d.s != NULL)
		die("the session outlived its client");
	if (!vanished) {
		drain(&d);
		close(d.peer);
	}
	if (MW.sessions != NULL || MW.n_sessions != 0)
		die("a session is still listed");
	if (d.deflating)
		deflateEnd(&d.z);
	/* a client that only closed its sending side gets every reply */
	if (!vanished && (d.r.resp.len > 0 || d.r.lit_left > 0))
		die("the session ended in the middle of a reply");
	replies_free(&d.r);
}

/* --- libFuzzer ---------------------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("mailbox", getenv("SFUZZ_LOG") != NULL, NULL);
	trace = getenv("SFUZZ_TRACE") != NULL;
	signal(SIGPIPE, SIG_IGN);
	struct diag dg;
	diag_init(&dg);
	H.conf = conf_parse(conf_text, sizeof conf_text - 1, "fuzz.conf", &dg);
	if (H.conf == NULL || dg.n_err > 0)
		die("conf: %s", diag_text(&dg));
	diag_free(&dg);

	const char *tmp = getenv("TMPDIR");
	snprintf(H.root, sizeof H.root, "%s/talon-sfuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(H.root) == NULL)
		die("mkdtemp %s: %s", H.root, strerror(errno));
	H.root_fd = open(H.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (H.root_fd < 0)
		die("open %s: %s", H.root, strerror(errno));
	atexit(cleanup);
	/* jail/cell/store: an escape of a few ".." levels lands in a
	 * directory that check_disk watches */
	int jail = xmkdirat(H.root_fd, "jail");
	int cell = xmkdirat(jail, "cell");
	H.store_fd = xmkdirat(cell, "store");
	H.user_fd = xmkdirat(H.store_fd, USER);
	close(cell);
	close(jail);

	memset(&MW, 0, sizeof MW);
	MW.conf = H.conf;
	MW.store_fd = H.store_fd;
	MW.loop = loop_new();
	if (MW.loop == NULL)
		die("loop_new");
	/* a real inotify descriptor: SELECT adds and removes its watches
	 * through /proc/self/fd as in the daemon */
	MW.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	mb_set_host(H.conf->hostname);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		size = INPUT_MAX;
	/* snapshots of the last input's folders would be stale (the settled
	 * rule sees to that) but would make a run depend on the one before */
	mb_cache_flush();
	maildir_reset();
	run(data, size);
	check_disk();
	return 0;
}

/*
 * cli/user.c - `talon user add|passwd|del NAME` and `talon user list`:
 * accounts in the users file the config names (`users PATH`).
 *
 * add:     a new line "NAME:{CRYPT}$y$..." at the end of the file (made,
 *          mode 0600, when it does not exist yet).  Refused when NAME
 *          exists.
 * passwd:  the hash field of NAME's line replaced; the fields after it
 *          (uid, gid, home, ...) and the line end kept.  Refused when
 *          NAME is unknown.
 * --scram: (add, passwd) also the SCRAM-SHA-256 keys of the password in
 *          the line's extra field (mail/users.h): PBKDF2-HMAC-SHA-256 with
 *          a 16-byte salt from the kernel and SCRAM_ITER_DEFAULT
 *          iterations, then StoredKey and ServerKey (auth/scram.h).  Only
 *          printable ASCII passwords (no SASLprep here).  passwd without
 *          --scram removes the old keys: they would let the old password
 *          in.  Other extra pairs are kept; when the change leaves only
 *          empty fields after the hash, they are dropped.
 * del:     NAME's line removed.  Refused when NAME is unknown, or when the
 *          aliases file would then name a user that does not exist (the
 *          daemon would refuse the reload).
 * list:    every user, whether it can log in (has a hash), and
 *          "scram-sha-256" when it has SCRAM keys; never a hash or a key.
 * The password (add, passwd) comes from --password-file FILE (its first
 * line), else from stdin: asked twice without echo on a terminal, one
 * line otherwise (CR/LF stripped).  Empty passwords and passwords over
 * PW_HASH_INPUT_MAX bytes are refused.
 *
 * Writing: NAME.tmp is created next to the file (O_EXCL: it doubles as the
 * lock against a second `talon user` running at the same time), then the
 * file is read, changed in memory (every other line, comment and line end
 * kept byte for byte), checked with the daemon's parser, written to the
 * temporary file with the old file's owner and mode, fsynced, renamed over
 * the file, and the directory fsynced.  A symbolic link is followed: the
 * file it points to is replaced.
 * The file is refused when it has errors now: the admin fixes it first, so
 * we never write a file the daemon would not load.
 *
 * Exit: 0 done, 1 refused (with the reason on stderr), 2 usage.
 * Input:   the command line, the config, the users and aliases files, the
 *          password.  Trusts: nothing in them.  Runs in: CLI, as whoever
 *          runs it (root, usually).  No daemon: the admin runs `talon
 *          reload` afterwards, as we say.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "auth/pw.h"
#include "auth/scram.h"
#include "core/afile.h"
#include "core/buf.h"
#include "core/diag.h"
#include "core/util.h"
#include "mail/conf.h"
#include "mail/users.h"

#define USERS_FILE_MAX	(256u << 20)	/* as mail/users.c reads it */
#define PWFILE_MAX	65536		/* a password file: one line is used */
#define PW_LINE_MAX	PW_PASSWORD_MAX	/* longest line read as a password */

enum { RC_OK = 0, RC_REFUSED = 1, RC_USAGE = 2 };
enum op { OP_ADD, OP_PASSWD, OP_DEL };

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: talon [-c FILE] user add NAME [--password-file FILE] [--scram]\n"
	    "       talon [-c FILE] user passwd NAME [--password-file FILE] [--scram]\n"
	    "       talon [-c FILE] user del NAME\n"
	    "       talon [-c FILE] user list\n"
	    "Change the users file the config names.  The password is read from FILE's\n"
	    "first line, else from stdin: asked twice without echo on a terminal, one line\n"
	    "otherwise.  NAME is [a-z0-9][a-z0-9._-]*, at most 64 bytes.  --scram also\n"
	    "stores SCRAM-SHA-256 keys (PBKDF2: weaker than yescrypt should the file leak);\n"
	    "passwd without it removes old ones.  list prints each user, whether it can\n"
	    "log in, and whether it has SCRAM keys.  Exit 0 done, 1 refused, 2 usage.\n"
	    "A running daemon takes the change at `talon reload`.\n");
}

/* The configuration, or NULL after saying why. */
static struct conf *
load_conf(const char *conf_path)
{
	struct diag d;
	diag_init(&d);
	struct conf *c = conf_load(conf_path, &d);
	if (c == NULL || d.n_err > 0) {
		fprintf(stderr, "%stalon user: %s has errors (see talon config check)\n",
		    diag_text(&d), conf_path);
		conf_free(&c);
	}
	diag_free(&d);
	return c;
}

/* NAME as the users file allows it, decided by the daemon's own parser
 * (mail/users.c) on the line "NAME:", so there is one rule for names. */
static bool
name_ok(const char *name)
{
	struct users u;
	struct diag d;
	size_t n = strlen(name);
	if (n == 0 || n > 64 || strpbrk(name, ":\n\r#") != NULL)
		return false;
	diag_init(&d);
	char *line = xasprintf("%s:\n", name);
	bool ok = users_parse(line, strlen(line), "-", &u, &d) == 0 && u.n == 1 &&
	    strcmp(u.v[0].name, name) == 0;
	users_free(&u);
	diag_free(&d);
	free(line);
	return ok;
}

static void
say_bad_name(const char *name)
{
	char e[AFILE_TOKEN_MAX];
	log_escape(e, sizeof e, name, strlen(name));
	fprintf(stderr, "talon user: invalid user name \"%s\" (expected lowercase "
	    "[a-z0-9][a-z0-9._-]*, at most 64 bytes: it is the mailbox directory)\n", e);
}

/* --- reading the password --------------------------------------------------- */

/* One line from f into buf (PW_LINE_MAX + 1 bytes) without its LF and a CR
 * before it.  1 for a line, 0 at EOF before any byte, -1 for a line over
 * PW_LINE_MAX bytes (read to its end) or with a NUL. */
static int
read_line(FILE *f, char *buf)
{
	size_t n = 0;
	bool bad = false;
	int ch;
	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (ch == '\0' || n == PW_LINE_MAX)
			bad = true;
		else
			buf[n++] = (char)ch;
	}
	if (ch == EOF && n == 0 && !bad)
		return 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return bad ? -1 : 1;
}

/* The terminal's settings while echo is off, for the signal handler. */
static struct termios saved_tio;
static volatile sig_atomic_t echo_off;

/* ^C at the prompt must not leave the terminal without echo. */
static void
restore_tty(int sig)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Echo off (saving the terminal's settings) or back on.  false when the
 * terminal refused; nothing is left changed then. */
static bool
set_echo(bool on)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	if (on) {
		bool ok = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio) == 0;
		echo_off = 0;
		for (size_t i = 0; i < NELEM(sigs); i++)
			signal(sigs[i], SIG_DFL);
		return ok;
	}
	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return false;
	struct termios t = saved_tio;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = restore_tty;
	for (size_t i = 0; i < NELEM(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	echo_off = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0)
		return true;
	int e = errno;
	set_echo(true);
	errno = e;
	return false;
}

/* Prompt twice without echo; -1 after saying why. */
static int
tty_password(const char *name, char *pw)
{
	char again[PW_LINE_MAX + 1];
	int rc = -1;
	if (!set_echo(false)) {
		fprintf(stderr, "talon user: cannot turn off echo on the terminal: %s\n",
		    strerror(errno));
		return -1;
	}
	fprintf(stderr, "New password for %s: ", name);
	int r1 = read_line(stdin, pw);
	fputc('\n', stderr);	/* the Enter was not echoed */
	int r2 = 0;
	if (r1 == 1) {
		fprintf(stderr, "Retype the password: ");
		r2 = read_line(stdin, again);
		fputc('\n', stderr);
	}
	set_echo(true);
	if (r1 == 0 || (r1 == 1 && r2 == 0))
		fprintf(stderr, "talon user: no password given (end of input)\n");
	else if (r1 < 0 || r2 < 0)
		fprintf(stderr, "talon user: the password is longer than %d bytes or holds a "
		    "NUL byte\n", PW_LINE_MAX);
	else if (strcmp(pw, again) != 0)
		fprintf(stderr, "talon user: the passwords do not match\n");
	else
		rc = 0;
	explicit_bzero(again, sizeof again);
	return rc;
}

/* The first line of file; -1 after saying why. */
static int
file_password(const char *file, char *pw)
{
	struct diag d;
	char *text;
	size_t len;
	diag_init(&d);
	if (afile_read(file, PWFILE_MAX, "a password file", &text, &len, &d) < 0) {
		fprintf(stderr, "%s", diag_text(&d));
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	const char *lf = memchr(text, '\n', len);
	size_t n = lf ? (size_t)(lf - text) : len;
	if (n > 0 && text[n - 1] == '\r')
		n--;
	int rc = -1;
	if (n > PW_LINE_MAX || memchr(text, '\0', n) != NULL) {
		fprintf(stderr, "talon user: %s: the first line is longer than %d bytes or "
		    "holds a NUL byte\n", file, PW_LINE_MAX);
	} else {
		memcpy(pw, text, n);
		pw[n] = '\0';
		rc = 0;
	}
	afile_text_free(&text, len);
	return rc;
}

/* The new password into pw (PW_LINE_MAX + 1 bytes), checked for what
 * pw_hash takes; -1 after saying why. */
static int
get_password(const char *pwfile, const char *name, char *pw)
{
	int rc;
	if (pwfile != NULL) {
		rc = file_password(pwfile, pw);
	} else if (isatty(STDIN_FILENO)) {
		rc = tty_password(name, pw);
	} else {
		int r = read_line(stdin, pw);
		rc = r == 1 ? 0 : -1;
		if (r == 0)
			fprintf(stderr, "talon user: no password on stdin\n");
		else if (r < 0)
			fprintf(stderr, "talon user: the password line is longer than %d bytes "
			    "or holds a NUL byte\n", PW_LINE_MAX);
	}
	if (rc == 0 && pw[0] == '\0') {
		fprintf(stderr, "talon user: empty password refused (anyone could log in)\n");
		rc = -1;
	} else if (rc == 0 && strlen(pw) > PW_HASH_INPUT_MAX) {
		fprintf(stderr, "talon user: the password is longer than %d bytes (crypt's "
		    "limit)\n", PW_HASH_INPUT_MAX);
		rc = -1;
	}
	return rc;
}

/* --- the file ----------------------------------------------------------------- */

/* The users file being changed. */
struct ufile {
	char *path;		/* the real file (a symlink resolved) */
	char *tmp;		/* path.tmp */
	int fd;			/* open on tmp, -1 when not */
	bool exists;
	struct stat st;		/* of path, when it exists */
	char *text;		/* its bytes (afile_read) */
	size_t len;
	struct users u;		/* parsed */
};

/* Resolve the configured path: a symlink is followed so that the rename
 * replaces the file, not the link.  A file that does not exist is fine for
 * add (the link, if dangling, is refused). */
static char *
real_path(const char *path, enum op op, bool *exists)
{
	struct stat st;
	*exists = true;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT && op == OP_ADD) {
			*exists = false;
			return xstrdup(path);
		}
		fprintf(stderr, "talon user: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (!S_ISLNK(st.st_mode))
		return xstrdup(path);
	char *r = realpath(path, NULL);
	if (r == NULL) {
		fprintf(stderr, "talon user: %s: cannot follow the link: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	char *c = xstrdup(r);
	free(r);
	return c;
}

/* Take the lock (create path.tmp), then read and parse the file.  -1
 * after saying why; the caller calls ufile_close either way. */
static int
ufile_open(struct ufile *f, const char *conf_users, enum op op)
{
	struct diag d;
	memset(f, 0, sizeof *f);
	f->fd = -1;
	if ((f->path = real_path(conf_users, op, &f->exists)) == NULL)
		return -1;
	f->tmp = xasprintf("%s.tmp", f->path);
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "talon user: %s exists: another talon user is running, or "
			    "one was interrupted (then remove it)\n", f->tmp);
		else
			fprintf(stderr, "talon user: cannot create %s: %s\n", f->tmp,
			    strerror(errno));
		free(f->tmp);
		f->tmp = NULL;		/* not ours: never unlink it */
		return -1;
	}
	/* read after the lock is held, so a concurrent change cannot be lost */
	if (f->exists && stat(f->path, &f->st) < 0) {
		if (errno != ENOENT || op != OP_ADD) {
			fprintf(stderr, "talon user: %s: %s\n", f->path, strerror(errno));
			return -1;
		}
		f->exists = false;
	}
	diag_init(&d);
	int rc = 0;
	if (f->exists && afile_read(f->path, USERS_FILE_MAX, "a users file", &f->text, &f->len,
	    &d) < 0)
		rc = -1;
	else if (users_parse(f->text ? f->text : "", f->len, f->path, &f->u, &d) < 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "%stalon user: %s has errors: fix them first (nothing was "
		    "changed)\n", diag_text(&d), f->path);
	diag_free(&d);
	return rc;
}

/* Release the lock (unlinking the temporary file unless it was renamed)
 * and free everything; the text held hashes and is wiped. */
static void
ufile_close(struct ufile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp != NULL)
		unlink(f->tmp);
	afile_text_free(&f->text, f->len);
	users_free(&f->u);
	free(f->tmp);
	free(f->path);
	memset(f, 0, sizeof *f);
	f->fd = -1;
}

/* Offsets of line `line` (from 1) in the text: [*b, *e) with its LF. */
static void
line_span(const struct ufile *f, unsigned line, size_t *b, size_t *e)
{
	size_t pos = 0;
	for (unsigned l = 1; l < line && pos < f->len; l++) {
		const char *lf = memchr(f->text + pos, '\n', f->len - pos);
		pos = lf ? (size_t)(lf - f->text) + 1 : f->len;
	}
	const char *lf = memchr(f->text + pos, '\n', f->len - pos);
	*b = pos;
	*e = lf ? (size_t)(lf - f->text) + 1 : f->len;
}

/* Is the extra-field pair x[0..n) our SCRAM pair? */
static bool
is_scram_pair(const char *x, size_t n)
{
	size_t kl = strlen(USERS_SCRAM_KEY);
	return n >= kl && memcmp(x, USERS_SCRAM_KEY, kl) == 0;
}

/* The extra field x[0..n) without its SCRAM pair, then with "scram-sha-256=
 * value" when value is not NULL, into out.  Other pairs keep their order,
 * one blank between pairs. */
static void
put_extra(struct buf *out, const char *x, size_t n, const char *value)
{
	bool first = true;
	for (size_t i = 0; i < n;) {
		while (i < n && (x[i] == ' ' || x[i] == '\t'))
			i++;
		size_t b = i;
		while (i < n && x[i] != ' ' && x[i] != '\t')
			i++;
		if (i == b || is_scram_pair(x + b, i - b))
			continue;
		if (!first)
			buf_putc(out, ' ');
		buf_append(out, x + b, i - b);
		first = false;
	}
	if (value != NULL)
		buf_printf(out, "%s%s%s", first ? "" : " ", USERS_SCRAM_KEY, value);
}

/* The fields after the hash, r[0..n) (from the ':' that ends the hash, or
 * empty), with the SCRAM pair set to value (NULL: removed), into out.
 * Kept byte for byte when there is nothing to add or remove; when the
 * change leaves only empty fields, they are dropped. */
static void
put_rest(struct buf *out, const char *r, size_t n, const char *value)
{
	/* the extra field starts after the sixth ':' from the hash's end
	 * (uid, gid, gecos, home, shell come between), as users.c reads it */
	size_t i = 0, colons = 0;
	while (i < n && colons < 6)
		colons += r[i++] == ':';
	bool has = false;
	for (size_t k = i; colons == 6 && k < n;) {
		while (k < n && (r[k] == ' ' || r[k] == '\t'))
			k++;
		size_t b = k;
		while (k < n && r[k] != ' ' && r[k] != '\t')
			k++;
		has |= k > b && is_scram_pair(r + b, k - b);
	}
	if (!has && value == NULL) {
		buf_append(out, r, n);
		return;
	}
	size_t start = out->len;
	buf_append(out, r, i);
	for (; colons < 6; colons++)
		buf_putc(out, ':');
	put_extra(out, r + i, n - i, value);
	/* nothing but separators left: "name:hash" is the same account */
	bool empty = true;
	for (size_t k = start; k < out->len && !out->err; k++)
		empty &= out->data[k] == ':';
	if (empty && !out->err)
		out->len = start;
}

/* The new text into out: for add, the file plus a line; for passwd, the
 * user's line with the hash field replaced and the SCRAM pair set or
 * removed; for del, without the line.  scram is the value of the SCRAM
 * pair, or NULL for none. */
static void
edit_text(const struct ufile *f, enum op op, const char *name, const char *hash,
    const char *scram, struct buf *out)
{
	const struct user_ent *ue = users_find(&f->u, name);
	if (op == OP_ADD) {
		buf_append(out, f->text, f->len);
		if (f->len > 0 && f->text[f->len - 1] != '\n')
			buf_putc(out, '\n');
		buf_printf(out, "%s:{CRYPT}%s", name, hash);
		if (scram != NULL)
			put_rest(out, "", 0, scram);
		buf_putc(out, '\n');
		return;
	}
	size_t b, e;
	line_span(f, ue->line, &b, &e);
	buf_append(out, f->text, b);
	if (op == OP_PASSWD) {
		/* name ':' hash-field [':' rest] line-end, as users.c splits it */
		const char *s = f->text + b, *end = f->text + e;
		const char *colon = memchr(s, ':', (size_t)(end - s));
		const char *h = colon + 1;
		/* a CR before the LF (or at the end) is the line end's, as
		 * core/afile.c reads it */
		const char *cend = end;
		if (cend > h && cend[-1] == '\n')
			cend--;
		if (cend > h && cend[-1] == '\r')
			cend--;
		const char *hend = memchr(h, ':', (size_t)(cend - h));
		if (hend == NULL)
			hend = cend;
		buf_append(out, s, (size_t)(h - s));
		buf_printf(out, "{CRYPT}%s", hash);
		put_rest(out, hend, (size_t)(cend - hend), scram);
		buf_append(out, cend, (size_t)(end - cend));
	}
	buf_append(out, f->text + e, f->len - e);
}

static bool
scram_same(const struct user_scram *a, const struct user_scram *b)
{
	return a->iter == b->iter && a->salt_len == b->salt_len &&
	    memcmp(a->salt, b->salt, a->salt_len) == 0 &&
	    memcmp(a->stored_key, b->stored_key, sizeof a->stored_key) == 0 &&
	    memcmp(a->server_key, b->server_key, sizeof a->server_key) == 0;
}

/* What the daemon's parser reads in the new text must be what we meant:
 * NAME with the new hash and exactly the new SCRAM keys (none when k is
 * NULL), or NAME gone.  It also proves the file loads. */
static bool
edit_verified(const char *path, const struct buf *t, const char *name, const char *hash,
    const struct user_scram *k, size_t n_before, enum op op)
{
	struct users u;
	struct diag d;
	diag_init(&d);
	bool ok = users_parse((const char *)(t->data ? t->data : (const uint8_t *)""), t->len,
	    path, &u, &d) == 0;
	const struct user_ent *ue = users_find(&u, name);
	if (op == OP_DEL)
		ok = ok && ue == NULL && u.n + 1 == n_before;
	else
		ok = ok && ue != NULL && strcmp(ue->hash, hash) == 0 &&
		    u.n == n_before + (op == OP_ADD) &&
		    (k == NULL ? ue->scram == NULL : ue->scram != NULL && scram_same(ue->scram, k));
	if (!ok)
		fprintf(stderr, "%stalon user: internal error: the changed file does not read "
		    "back as intended (nothing was changed)\n", diag_text(&d));
	users_free(&u);
	diag_free(&d);
	return ok;
}

/* Deleting a user must not leave an alias pointing at nobody (or
 * postmaster/abuse unresolved): the daemon would refuse the reload.  Only
 * problems the change adds count; before is the file as it is now. */
static bool
del_keeps_aliases(const struct conf *c, const struct users *before, const struct buf *t)
{
	struct aliases a;
	struct users after;
	struct diag d0, d1;
	diag_init(&d0);
	diag_init(&d1);
	bool ok = true;
	if (aliases_load(c->aliases, &a, &d0) < 0) {
		fprintf(stderr, "%stalon user: warning: the aliases file has errors, so it was "
		    "not checked against the change\n", diag_text(&d0));
	} else {
		users_parse((const char *)(t->data ? t->data : (const uint8_t *)""), t->len,
		    c->users, &after, &d1);
		aliases_check(&a, before, (const char *const *)c->domains, c->n_domains,
		    c->aliases, &d0);
		aliases_check(&a, &after, (const char *const *)c->domains, c->n_domains,
		    c->aliases, &d1);
		if (d1.n_err > d0.n_err) {
			fprintf(stderr, "%stalon user: refused: the aliases file needs the user "
			    "(change it first; nothing was changed)\n", diag_text(&d1));
			ok = false;
		}
		users_free(&after);
	}
	aliases_free(&a);
	diag_free(&d0);
	diag_free(&d1);
	return ok;
}

/* fsync the directory holding path, so the rename itself is durable. */
static int
sync_dir(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
	if (rc < 0)
		fprintf(stderr, "talon user: warning: cannot fsync directory %s: %s (the change "
		    "is made but may not survive a crash)\n", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/* Data, owner and mode into the temporary file, fsync, rename over the
 * file, fsync the directory: a crash leaves the old file or the new one. */
static int
ufile_commit(struct ufile *f, const struct buf *t)
{
	const char *step;
	if (write_all(f->fd, t->data ? t->data : (const uint8_t *)"", t->len) < 0) {
		step = "write";
		goto fail;
	}
	/* owner before mode: changing the owner may clear set-id bits */
	if (f->exists && fchown(f->fd, f->st.st_uid, f->st.st_gid) < 0) {
		step = "give the old file's owner to";
		goto fail;
	}
	if (f->exists && fchmod(f->fd, f->st.st_mode & 07777) < 0) {
		step = "give the old file's mode to";
		goto fail;
	}
	if (fsync(f->fd) < 0) {
		step = "fsync";
		goto fail;
	}
	if (rename(f->tmp, f->path) < 0) {
		step = "rename into place";
		goto fail;
	}
	free(f->tmp);
	f->tmp = NULL;		/* renamed: nothing to unlink */
	sync_dir(f->path);
	return 0;
fail:
	fprintf(stderr, "talon user: cannot %s %s: %s (nothing was changed)\n", step,
	    f->tmp, strerror(errno));
	return -1;
}

/* --- commands ------------------------------------------------------------------ */

/* add, passwd, del on NAME; hash is NULL for del, k the SCRAM keys to
 * store (NULL: none). */
static int
change(const char *conf_path, enum op op, const char *name, const char *hash,
    const struct user_scram *k)
{
	char scram[USERS_SCRAM_TEXT_MAX];
	static const struct { const char *verb, *prep; } done[] = {
		[OP_ADD] = { "added", "to" },
		[OP_PASSWD] = { "changed the password of", "in" },
		[OP_DEL] = { "deleted", "from" },
	};
	struct ufile f;
	struct buf t;
	int rc = RC_REFUSED;
	struct conf *c = load_conf(conf_path);
	if (c == NULL)
		return RC_REFUSED;
	buf_init(&t, 0);
	if (ufile_open(&f, c->users, op) < 0)
		goto out;
	bool known = users_find(&f.u, name) != NULL;
	if (op == OP_ADD && known) {
		fprintf(stderr, "talon user: %s already exists in %s (use talon user passwd to "
		    "change its password)\n", name, f.path);
		goto out;
	}
	if (op != OP_ADD && !known) {
		fprintf(stderr, "talon user: no user %s in %s\n", name, f.path);
		goto out;
	}
	bool had_scram = known && users_find(&f.u, name)->scram != NULL;
	if (k != NULL && !users_scram_format(k, scram, sizeof scram))
		goto out;	/* cannot happen: do_change made them in range */
	edit_text(&f, op, name, hash, k ? scram : NULL, &t);
	explicit_bzero(scram, sizeof scram);
	if (t.err || !edit_verified(f.path, &t, name, hash, k, f.u.n, op))
		goto out;
	if (op == OP_DEL && !del_keeps_aliases(c, &f.u, &t))
		goto out;
	if (ufile_commit(&f, &t) < 0)
		goto out;
	printf("talon user: %s %s %s %s\n", done[op].verb, name, done[op].prep, f.path);
	if (k != NULL)
		printf("talon user: stored SCRAM-SHA-256 keys (PBKDF2, %u iterations)\n",
		    (unsigned)k->iter);
	else if (op == OP_PASSWD && had_scram)
		printf("talon user: removed the old SCRAM-SHA-256 keys (--scram makes new "
		    "ones)\n");
	printf("run `talon reload` if the daemon is running, so that it takes the change\n");
	rc = RC_OK;
out:
	ufile_close(&f);
	if (t.data != NULL)
		explicit_bzero(t.data, t.cap);
	buf_free(&t);
	conf_free(&c);
	return rc;
}

static int
do_list(const char *conf_path)
{
	struct users u;
	struct diag d;
	struct conf *c = load_conf(conf_path);
	if (c == NULL)
		return RC_REFUSED;
	diag_init(&d);
	int r = users_load(c->users, &u, &d);
	fputs(diag_text(&d), stderr);
	/* the names only: a hash or a key never leaves the file */
	for (size_t i = 0; i < u.n; i++)
		printf("%s\t%s%s\n", u.v[i].name, u.v[i].hash[0] ? "login" : "no login",
		    u.v[i].scram ? "\tscram-sha-256" : "");
	users_free(&u);
	diag_free(&d);
	conf_free(&c);
	return r < 0 ? RC_REFUSED : RC_OK;
}

/* NAME [--password-file FILE] [--scram] for add/passwd, NAME for del. */
static int
parse_args(int argc, char **argv, bool takes_pw, const char **name, const char **pwfile,
    bool *scram)
{
	*name = *pwfile = NULL;
	*scram = false;
	for (int i = 0; i < argc; i++) {
		if (takes_pw && strcmp(argv[i], "--password-file") == 0 && i + 1 < argc &&
		    *pwfile == NULL)
			*pwfile = argv[++i];
		else if (takes_pw && strcmp(argv[i], "--scram") == 0 && !*scram)
			*scram = true;
		else if (*name == NULL && argv[i][0] != '-')
			*name = argv[i];
		else
			return -1;
	}
	return *name ? 0 : -1;
}

/* SCRAM keys for pw with a new salt; -1 after saying why. */
static int
make_scram(const char *pw, struct user_scram *k)
{
	uint8_t salt[SCRAM_SALT_LEN];
	if (!scram_password_ok(pw)) {
		fprintf(stderr, "talon user: --scram takes only passwords of printable ASCII "
		    "(SCRAM would need SASLprep for others, which talon does not do); use such "
		    "a password, or leave out --scram\n");
		return -1;
	}
	if (getrandom(salt, sizeof salt, 0) != (ssize_t)sizeof salt) {
		fprintf(stderr, "talon user: getrandom: %s\n", strerror(errno));
		return -1;
	}
	int rc = scram_keys_make(pw, salt, sizeof salt, SCRAM_ITER_DEFAULT, k);
	if (rc < 0)
		fprintf(stderr, "talon user: OpenSSL could not make the SCRAM keys\n");
	explicit_bzero(salt, sizeof salt);
	return rc;
}

static int
do_change(const char *conf_path, enum op op, int argc, char **argv)
{
	const char *name, *pwfile;
	char pw[PW_LINE_MAX + 1], hash[PW_HASH_MAX];
	struct user_scram k;
	bool scram;
	if (parse_args(argc, argv, op != OP_DEL, &name, &pwfile, &scram) < 0)
		return (usage(stderr), RC_USAGE);
	if (!name_ok(name))
		return (say_bad_name(name), RC_REFUSED);
	if (op == OP_DEL)
		return change(conf_path, op, name, NULL, NULL);
	int rc = RC_REFUSED;
	memset(&k, 0, sizeof k);
	/* the password before the lock: nobody waits while the admin types */
	if (get_password(pwfile, name, pw) < 0)
		goto out;
	if (scram && make_scram(pw, &k) < 0)
		goto out;
	if (pw_hash(pw, hash, sizeof hash) < 0) {
		fprintf(stderr, "talon user: crypt could not make a yescrypt hash\n");
		goto out;
	}
	rc = change(conf_path, op, name, hash, scram ? &k : NULL);
out:
	explicit_bzero(pw, sizeof pw);
	explicit_bzero(hash, sizeof hash);
	explicit_bzero(&k, sizeof k);
	return rc;
}

int
cmd_user(const char *conf_path, int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return (usage(stdout), RC_OK);
	if (argc < 1)
		return (usage(stderr), RC_USAGE);
	if (strcmp(argv[0], "add") == 0)
		return do_change(conf_path, OP_ADD, argc - 1, argv + 1);
	if (strcmp(argv[0], "passwd") == 0)
		return do_change(conf_path, OP_PASSWD, argc - 1, argv + 1);
	if (strcmp(argv[0], "del") == 0)
		return do_change(conf_path, OP_DEL, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return do_list(conf_path);
	usage(stderr);
	return RC_USAGE;
}

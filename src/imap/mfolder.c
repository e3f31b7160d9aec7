/*
 * imap/mfolder.c - mailboxes as a list: LIST, LSUB, CREATE, DELETE,
 * RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS, SELECT and EXAMINE (RFC 9051
 * 6.3), SPECIAL-USE attributes (RFC 6154).
 *
 * Names: UTF-8 inside; on disk Maildir++ directories (imap/mutf7.h:
 * "A/B" is ".A.B", INBOX the Maildir itself).  A name becomes a path
 * only through mailbox_to_dir, which refuses "..", "/", "~" and controls.
 * The subscriptions file is Dovecot's ("V\t2", a blank line, then one
 * name per line with TAB between levels).
 * Runs in: mailbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "imap/msession.h"
#include "imap/mutf7.h"
#include "imap/seqset.h"
#include "mail/conf.h"

#define SUBS_NAME	"subscriptions"
#define SUBS_MAX	(1u << 20)
#define NAMES_MAX	10000	/* mailboxes one user may have */
#define PATTERN_MAX	1024

static const struct { const char *name, *use; } special[] = {
	{ "Drafts", "\\Drafts" }, { "Sent", "\\Sent" }, { "Trash", "\\Trash" },
	{ "Junk", "\\Junk" }, { "Archive", "\\Archive" },
};

/* --- names ------------------------------------------------------------------------ */

struct names {
	char **v;
	size_t n;
};

static void
names_add(struct names *ns, const char *name)
{
	if (ns->n >= NAMES_MAX)
		return;
	ns->v = xreallocarray(ns->v, ns->n + 1, sizeof *ns->v);
	ns->v[ns->n++] = xstrdup(name);
}

static void
names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	memset(ns, 0, sizeof *ns);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_dir(void *arg, const char *dir)
{
	char name[MAILBOX_NAME_MAX + 1];
	if (dir_to_mailbox(dir, name, sizeof name) >= 0)
		names_add(arg, name);
}

/* Every mailbox of the user, INBOX first, then sorted. */
static void
all_names(struct msession *s, struct names *ns)
{
	names_add(ns, "INBOX");
	mb_list_dirs(s->maildir_fd, add_dir, ns);
	if (ns->n > 1)
		qsort(ns->v + 1, ns->n - 1, sizeof *ns->v, name_cmp);
}

static const char *
special_use(const char *name)
{
	for (size_t i = 0; i < NELEM(special); i++)
		if (strcmp(name, special[i].name) == 0)
			return special[i].use;
	return NULL;
}

/* RFC 9051 6.3.9: "*" matches anything, "%" anything but the separator.
 * Dynamic programming over (pattern, name): no backtracking blow-up. */
static bool
pattern_match(const char *pat, const char *name)
{
	size_t pl = strlen(pat), nl = strlen(name);
	if (pl > PATTERN_MAX || nl > MAILBOX_NAME_MAX)
		return false;
	/* row[j]: pattern prefix matches name prefix of length j */
	bool prev[MAILBOX_NAME_MAX + 2], cur[MAILBOX_NAME_MAX + 2];
	memset(prev, 0, sizeof prev);
	prev[0] = true;
	for (size_t i = 0; i < pl; i++) {
		char p = pat[i];
		memset(cur, 0, sizeof cur);
		if (p == '*' || p == '%') {
			bool run = false;
			for (size_t j = 0; j <= nl; j++) {
				if (prev[j])
					run = true;
				else if (p == '%' && j > 0 && name[j - 1] == '/')
					run = false;
				cur[j] = run;
			}
		} else {
			for (size_t j = 1; j <= nl; j++)
				cur[j] = prev[j - 1] && name[j - 1] == p;
		}
		memcpy(prev, cur, sizeof prev);
	}
	return prev[nl];
}

/* --- subscriptions ---------------------------------------------------------------- */

static void
subs_read(struct msession *s, struct names *ns)
{
	int fd = openat(s->maildir_fd, SUBS_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	struct buf b;
	buf_init(&b, SUBS_MAX);
	for (;;) {
		size_t room;
		uint8_t *w = buf_space(&b, 65536, &room);
		ssize_t r = room ? read(fd, w, room) : 0;
		if (r <= 0)
			break;
		buf_commit(&b, (size_t)r);
	}
	close(fd);
	buf_cstr(&b);
	char *text = (char *)b.data;
	bool v2 = text != NULL && strncmp(text, "V\t2\n", 4) == 0;
	char *save = NULL;
	for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
	    line = strtok_r(NULL, "\n", &save)) {
		if (v2 && strcmp(line, "V\t2") == 0)
			continue;
		if (v2)
			for (char *p = line; *p; p++)
				if (*p == '\t')
					*p = '/';
		/* Dovecot writes names as it names directories, in modified
		 * UTF-7; a line that is not valid mUTF-7 is read as UTF-8 */
		char u8[4 * MAILBOX_NAME_MAX + 1];
		const char *name = line;
		if (mutf7_decode(line, strlen(line), u8, sizeof u8, NULL) >= 0)
			name = u8;
		if (mailbox_name_check(name, strlen(name)) == NULL)
			names_add(ns, name);
	}
	buf_free(&b);
}

static int
subs_write(struct msession *s, const struct names *ns)
{
	struct buf b;
	buf_init(&b, SUBS_MAX);
	buf_puts(&b, "V\t2\n\n");
	for (size_t i = 0; i < ns->n; i++) {
		char m7[4 * MAILBOX_NAME_MAX + 1];
		const char *name = ns->v[i];
		if (mutf7_encode(name, strlen(name), m7, sizeof m7, NULL) >= 0)
			name = m7;	/* as Dovecot writes it */
		for (const char *p = name; *p; p++)
			buf_putc(&b, *p == '/' ? '\t' : (uint8_t)*p);
		buf_putc(&b, '\n');
	}
	int fd = openat(s->maildir_fd, SUBS_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = -1;
	if (fd >= 0 && !b.err && write(fd, b.data, b.len) == (ssize_t)b.len && fsync(fd) == 0 &&
	    renameat(s->maildir_fd, SUBS_NAME ".tmp", s->maildir_fd, SUBS_NAME) == 0)
		r = 0;
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return r;
}

static void
subs_set(struct msession *s, const char *name, bool on)
{
	struct names ns = { 0 };
	subs_read(s, &ns);
	struct names out = { 0 };
	bool had = false;
	for (size_t i = 0; i < ns.n; i++) {
		if (strcmp(ns.v[i], name) == 0) {
			had = true;
			if (!on)
				continue;
		}
		names_add(&out, ns.v[i]);
	}
	if (on && !had)
		names_add(&out, name);
	if (had != on)
		subs_write(s, &out);
	names_free(&ns);
	names_free(&out);
}

/* --- opening ------------------------------------------------------------------------ */

/* The directory of a name ("." for INBOX); false when refused. */
static bool
dir_of(const char *name, char *dir, size_t n, const char **why)
{
	*why = mailbox_name_check(name, strlen(name));
	if (*why != NULL)
		return false;
	if (mailbox_to_dir(name, dir, n) < 0) {
		*why = "Invalid mailbox name";
		return false;
	}
	if (dir[0] == '\0')
		str_copy(dir, n, ".");
	return true;
}

struct mailbox *
m_open_mailbox(struct msession *s, const char *tag, const char *name, int mode)
{
	char dir[MAILBOX_DIR_MAX + 2], label[320], why[200];
	const char *bad;
	if (!dir_of(name, dir, sizeof dir, &bad)) {
		m_tagged(s, tag, "NO [CANNOT] %s", bad);
		return NULL;
	}
	snprintf(label, sizeof label, "%s/%s", s->user, name);
	struct mailbox *mb;
	if (mb_open(s->maildir_fd, dir, label, mode, &mb, why, sizeof why) < 0) {
		if (errno == ENOENT)
			m_tagged(s, tag, "NO [TRYCREATE] No such mailbox");
		else
			m_tagged(s, tag, "NO [SERVERBUG] %s", why);
		return NULL;
	}
	return mb;
}

int
m_prepare_maildir(struct msession *s)
{
	int ud = openat(MW.store_fd, s->user, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (ud < 0 && errno == ENOENT && mkdirat(MW.store_fd, s->user, 0700) == 0)
		ud = openat(MW.store_fd, s->user, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (ud < 0)
		return -1;
	if (mkdirat(ud, "Maildir", 0700) < 0 && errno != EEXIST) {
		close(ud);
		return -1;
	}
	s->maildir_fd = openat(ud, "Maildir", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	close(ud);
	if (s->maildir_fd < 0 || mb_create(s->maildir_fd, ".") < 0)
		return -1;
	/* the first login: the special folders, subscribed (a user who
	 * deletes one later does not get it back) */
	if (faccessat(s->maildir_fd, SUBS_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	struct names ns = { 0 };
	names_add(&ns, "INBOX");
	for (size_t i = 0; i < NELEM(special); i++) {
		char dir[64];
		snprintf(dir, sizeof dir, ".%s", special[i].name);
		if (mb_create(s->maildir_fd, dir) == 0)
			names_add(&ns, special[i].name);
	}
	int r = subs_write(s, &ns);
	names_free(&ns);
	log_info("mailbox session=%s event=first-login user=%s", s->sid, s->user);
	return r;
}

/* --- LIST and LSUB ------------------------------------------------------------------ */

/* Every ancestor of a name in all that is not itself in all, added to
 * out once, in order. */
static void
add_parents(const struct names *all, struct names *out)
{
	for (size_t i = 0; i < all->n; i++) {
		char p[MAILBOX_NAME_MAX + 1];
		str_copy(p, sizeof p, all->v[i]);
		for (char *sl = strchr(p, '/'); sl != NULL; sl = strchr(sl + 1, '/')) {
			*sl = '\0';
			bool known = false;
			for (size_t k = 0; k < out->n && !known; k++)
				known = strcmp(out->v[k], p) == 0;
			if (!known)
				names_add(out, p);
			*sl = '/';
		}
	}
	if (out->n > 1)
		qsort(out->v + 1, out->n - 1, sizeof *out->v, name_cmp);
}

static bool
has_children(const struct names *all, const char *name)
{
	size_t l = strlen(name);
	for (size_t i = 0; i < all->n; i++)
		if (strncmp(all->v[i], name, l) == 0 && all->v[i][l] == '/')
			return true;
	return false;
}

static void
list_line(struct msession *s, const char *what, const char *attrs, const char *name)
{
	struct buf b;
	buf_init(&b, 8192);
	buf_printf(&b, "* %s (%s) \"/\" ", what, attrs);
	m_mailbox_name(s, &b, name);
	buf_cstr(&b);
	m_reply(s, "%s", (char *)b.data);
	buf_free(&b);
}

void
m_cmd_list(struct msession *s, struct imap_cmd *c, bool lsub)
{
	char ref[MAILBOX_NAME_MAX * 4 + 1], pat[PATTERN_MAX + 1], full[2 * PATTERN_MAX + 2];
	/* LIST-EXTENDED's selection options before the reference are not
	 * offered; a list there is refused */
	if (!m_astring_arg(&c->args[0], ref, sizeof ref) ||
	    !m_astring_arg(&c->args[1], pat, sizeof pat)) {
		m_tagged(s, c->tag, "BAD %s needs a reference and a pattern", c->name);
		return;
	}
	if (!s->utf8) {
		char u[sizeof full];
		if (mutf7_decode(ref, strlen(ref), u, sizeof u, NULL) >= 0)
			str_copy(ref, sizeof ref, u);
		if (mutf7_decode(pat, strlen(pat), u, sizeof u, NULL) >= 0)
			str_copy(pat, sizeof pat, u);
	}
	if (!lsub && pat[0] == '\0') {
		/* RFC 9051 6.3.9: the hierarchy delimiter */
		m_reply(s, "* LIST (\\Noselect) \"/\" \"\"");
		m_tagged(s, c->tag, "OK LIST completed");
		return;
	}
	snprintf(full, sizeof full, "%s%s", ref, pat);
	/* RFC 3501 6.3.8: a level of the hierarchy that is no mailbox
	 * ("A" of ".A.B") is listed too, \Noselect, so a folder tree can reach
	 * its children; Dovecot does the same */
	/* INBOX is case-insensitive (RFC 9051 5.1); our name for it is INBOX */
	if (strncasecmp(full, "INBOX", 5) == 0 && (full[5] == '\0' || full[5] == '/'))
		memcpy(full, "INBOX", 5);
	struct names all = { 0 }, subs = { 0 }, shown_l = { 0 };
	all_names(s, &all);
	subs_read(s, &subs);
	const struct names *src = lsub ? &subs : &all;
	for (size_t i = 0; i < src->n; i++)
		names_add(&shown_l, src->v[i]);
	/* LSUB "%" shows a level whose children are subscribed, \Noselect
	 * (RFC 3501 6.3.9), as LIST shows levels that are no mailbox */
	add_parents(lsub ? &subs : &all, &shown_l);
	const struct names *shown = &shown_l;
	for (size_t i = 0; i < shown->n; i++) {
		const char *name = shown->v[i];
		if (!pattern_match(full, name))
			continue;
		char attrs[128] = "";
		bool exists = false;
		for (size_t k = 0; k < all.n && !exists; k++)
			exists = strcmp(all.v[k], name) == 0;
		if (lsub) {
			bool subscribed = false;
			for (size_t k = 0; k < subs.n && !subscribed; k++)
				subscribed = strcmp(subs.v[k], name) == 0;
			list_line(s, "LSUB", subscribed ? "" : "\\Noselect", name);
			continue;
		}
		if (!exists && has_children(&all, name))
			strcat(attrs, "\\Noselect \\HasChildren");
		else if (!exists)
			strcat(attrs, lsub ? "\\Noselect" : "\\NonExistent");
		else
			strcat(attrs, has_children(&all, name) ? "\\HasChildren" :
			    "\\HasNoChildren");
		const char *use = special_use(name);
		if (use != NULL && !lsub) {
			strcat(attrs, " ");
			strcat(attrs, use);
		}
		list_line(s, lsub ? "LSUB" : "LIST", attrs, name);
	}
	names_free(&all);
	names_free(&subs);
	names_free(&shown_l);
	m_tagged(s, c->tag, "OK %s completed", c->name);
}

/* --- CREATE, DELETE, RENAME, SUBSCRIBE ------------------------------------------------ */

void
m_cmd_create(struct msession *s, struct imap_cmd *c)
{
	char name[MAILBOX_NAME_MAX * 4 + 1], dir[MAILBOX_DIR_MAX + 2];
	const char *why;
	if (!m_mailbox_arg(s, c->tag, &c->args[0], name, sizeof name))
		return;
	/* RFC 9051 6.3.4: a trailing separator says "will have children" */
	size_t l = strlen(name);
	if (l > 1 && name[l - 1] == '/')
		name[l - 1] = '\0';
	if (strcmp(name, "INBOX") == 0) {
		m_tagged(s, c->tag, "NO [ALREADYEXISTS] INBOX always exists");
		return;
	}
	if (!dir_of(name, dir, sizeof dir, &why)) {
		m_tagged(s, c->tag, "NO [CANNOT] %s", why);
		return;
	}
	if (faccessat(s->maildir_fd, dir, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		m_tagged(s, c->tag, "NO [ALREADYEXISTS] Mailbox already exists");
		return;
	}
	if (mb_create(s->maildir_fd, dir) < 0) {
		log_err("mailbox session=%s event=create user=%s mailbox=\"%s\" error=\"%s\"",
		    s->sid, s->user, name, strerror(errno));
		m_tagged(s, c->tag, "NO [SERVERBUG] Cannot create the mailbox");
		return;
	}
	m_tagged(s, c->tag, "OK CREATE completed");
}

void
m_cmd_delete(struct msession *s, struct imap_cmd *c)
{
	char name[MAILBOX_NAME_MAX * 4 + 1], dir[MAILBOX_DIR_MAX + 2];
	const char *why;
	if (!m_mailbox_arg(s, c->tag, &c->args[0], name, sizeof name))
		return;
	if (strcmp(name, "INBOX") == 0) {
		m_tagged(s, c->tag, "NO [CANNOT] INBOX cannot be deleted");
		return;
	}
	if (!dir_of(name, dir, sizeof dir, &why)) {
		m_tagged(s, c->tag, "NO [CANNOT] %s", why);
		return;
	}
	struct names all = { 0 };
	all_names(s, &all);
	bool kids = has_children(&all, name);
	names_free(&all);
	if (kids) {
		m_tagged(s, c->tag, "NO [INUSE] Mailbox has child mailboxes: delete them first");
		return;
	}
	if (s->mb != NULL && strcmp(s->mbname, name) == 0)
		m_select(s, NULL, NULL);
	if (mb_delete(s->maildir_fd, dir) < 0) {
		m_tagged(s, c->tag, errno == ENOENT ? "NO [NONEXISTENT] No such mailbox" :
		    "NO [SERVERBUG] Cannot delete the mailbox");
		return;
	}
	m_tagged(s, c->tag, "OK DELETE completed");
}

void
m_cmd_rename(struct msession *s, struct imap_cmd *c)
{
	char from[MAILBOX_NAME_MAX * 4 + 1], to[MAILBOX_NAME_MAX * 4 + 1];
	char fdir[MAILBOX_DIR_MAX + 2], tdir[MAILBOX_DIR_MAX + 2];
	const char *why;
	if (!m_mailbox_arg(s, c->tag, &c->args[0], from, sizeof from) ||
	    !m_mailbox_arg(s, c->tag, &c->args[1], to, sizeof to))
		return;
	if (strcmp(from, "INBOX") == 0 || strcmp(to, "INBOX") == 0) {
		m_tagged(s, c->tag, "NO [CANNOT] Renaming INBOX is not supported");
		return;
	}
	if (!dir_of(from, fdir, sizeof fdir, &why) || !dir_of(to, tdir, sizeof tdir, &why)) {
		m_tagged(s, c->tag, "NO [CANNOT] %s", why);
		return;
	}
	if (faccessat(s->maildir_fd, tdir, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		m_tagged(s, c->tag, "NO [ALREADYEXISTS] Target mailbox exists");
		return;
	}
	/* children move with it: ".A.x" becomes ".B.x" */
	struct names all = { 0 };
	all_names(s, &all);
	size_t fl = strlen(from);
	int r = renameat(s->maildir_fd, fdir, s->maildir_fd, tdir);
	for (size_t i = 0; r == 0 && i < all.n; i++) {
		if (strncmp(all.v[i], from, fl) != 0 || all.v[i][fl] != '/')
			continue;
		char nn[2 * MAILBOX_NAME_MAX * 4 + 2], od[MAILBOX_DIR_MAX + 2];
		char nd[MAILBOX_DIR_MAX + 2];
		if (snprintf(nn, sizeof nn, "%s%s", to, all.v[i] + fl) >= (int)sizeof nn)
			continue;
		if (dir_of(all.v[i], od, sizeof od, &why) && dir_of(nn, nd, sizeof nd, &why))
			renameat(s->maildir_fd, od, s->maildir_fd, nd);
	}
	names_free(&all);
	if (r < 0) {
		m_tagged(s, c->tag, errno == ENOENT ? "NO [NONEXISTENT] No such mailbox" :
		    "NO [SERVERBUG] Cannot rename the mailbox");
		return;
	}
	fsync(s->maildir_fd);
	m_tagged(s, c->tag, "OK RENAME completed");
}

void
m_cmd_subscribe(struct msession *s, struct imap_cmd *c, bool on)
{
	char name[MAILBOX_NAME_MAX * 4 + 1];
	if (!m_mailbox_arg(s, c->tag, &c->args[0], name, sizeof name))
		return;
	if (mailbox_name_check(name, strlen(name)) != NULL) {
		m_tagged(s, c->tag, "NO [CANNOT] Invalid mailbox name");
		return;
	}
	subs_set(s, name, on);
	m_tagged(s, c->tag, "OK %s completed", c->name);
}

/* --- STATUS, SELECT, EXAMINE ------------------------------------------------------------ */

void
m_cmd_status(struct msession *s, struct imap_cmd *c)
{
	char name[MAILBOX_NAME_MAX * 4 + 1];
	if (!m_mailbox_arg(s, c->tag, &c->args[0], name, sizeof name))
		return;
	const struct imap_arg *items = &c->args[1];
	if (items->type != IMAP_ARG_LIST || items->n == 0) {
		m_tagged(s, c->tag, "BAD STATUS needs a list of items");
		return;
	}
	struct mailbox *mb = m_open_mailbox(s, c->tag, name, MB_RO);
	if (mb == NULL)
		return;
	struct buf b;
	buf_init(&b, 65536);
	buf_puts(&b, "* STATUS ");
	m_mailbox_name(s, &b, name);
	buf_puts(&b, " (");
	static const char *const known[] = { "MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
		"RECENT", "DELETED", "SIZE", "DELETED-STORAGE" };
	unsigned sent = 0;
	for (size_t i = 0; i < items->n; i++) {
		const struct imap_arg *it = &items->list[i];
		/* each item once: a list repeating one ("MESSAGES MESSAGES ...")
		 * made a reply longer than m_reply's IO_LINE_MAX, cut mid-list */
		size_t w = 0;
		while (w < NELEM(known) && !imap_arg_atom_is(it, known[w]))
			w++;
		if (w < NELEM(known) && (sent & (1u << w)))
			continue;
		if (sent != 0)
			buf_putc(&b, ' ');
		if (w < NELEM(known))
			sent |= 1u << w;
		if (imap_arg_atom_is(it, "MESSAGES")) {
			buf_printf(&b, "MESSAGES %zu", mb->n);
		} else if (imap_arg_atom_is(it, "UIDNEXT")) {
			buf_printf(&b, "UIDNEXT %u", mb->next);
		} else if (imap_arg_atom_is(it, "UIDVALIDITY")) {
			buf_printf(&b, "UIDVALIDITY %u", mb->validity);
		} else if (imap_arg_atom_is(it, "UNSEEN")) {
			size_t u = 0;
			for (size_t k = 0; k < mb->n; k++)
				u += !(mb->v[k].flags & MF_SEEN);
			buf_printf(&b, "UNSEEN %zu", u);
		} else if (imap_arg_atom_is(it, "RECENT")) {
			size_t r = 0;
			for (size_t k = 0; k < mb->n; k++)
				r += (mb_flags(mb, k) & MF_RECENT) != 0;	/* unclaimed */
			buf_printf(&b, "RECENT %zu", r);
		} else if (imap_arg_atom_is(it, "DELETED")) {
			size_t d = 0;
			for (size_t k = 0; k < mb->n; k++)
				d += (mb->v[k].flags & MF_DELETED) != 0;
			buf_printf(&b, "DELETED %zu", d);
		} else if (imap_arg_atom_is(it, "DELETED-STORAGE")) {
			/* RFC 9208 4.2.2: what EXPUNGE would free, in KiB */
			uint64_t z = 0;
			for (size_t k = 0; k < mb->n; k++)
				if (mb->v[k].flags & MF_DELETED)
					z += mb_vsize(mb, k);
			buf_printf(&b, "DELETED-STORAGE %llu",
			    (unsigned long long)(z / 1024 + (z % 1024 != 0)));
		} else if (imap_arg_atom_is(it, "HIGHESTMODSEQ")) {
			buf_printf(&b, "HIGHESTMODSEQ %llu", (unsigned long long)mb->highest);
			s->condstore = true;	/* an enabling command (RFC 7162 3.1) */
		} else if (imap_arg_atom_is(it, "SIZE")) {
			uint64_t z = 0;
			for (size_t k = 0; k < mb->n; k++)
				z += mb_vsize(mb, k);
			buf_printf(&b, "SIZE %llu", (unsigned long long)z);
		} else {
			buf_free(&b);
			mb_close(&mb);
			m_tagged(s, c->tag, "BAD Unknown STATUS item");
			return;
		}
	}
	buf_putc(&b, ')');
	buf_cstr(&b);
	m_reply(s, "%s", (char *)b.data);
	buf_free(&b);
	mb_close(&mb);
	m_tagged(s, c->tag, "OK STATUS completed");
}

/* SELECT's parameters (RFC 7162 3.1.8, 3.2.5): (CONDSTORE) or
 * (QRESYNC (uidvalidity modseq [known-uids [seq-match]])); seq-match is
 * accepted and not used (it only narrows what we send anyway). */
struct select_params {
	bool condstore, qresync;
	uint32_t validity;
	uint64_t modseq;
	bool has_known;
	struct seqset known;
};

static bool
select_params(struct msession *s, const struct imap_cmd *c, struct select_params *p)
{
	memset(p, 0, sizeof *p);
	seqset_init(&p->known);
	if (c->n_args == 1)
		return true;
	if (c->n_args != 2 || c->args[1].type != IMAP_ARG_LIST)
		return false;
	const struct imap_arg *v = c->args[1].list;
	for (size_t i = 0; i < c->args[1].n; i++) {
		if (imap_arg_atom_is(&v[i], "CONDSTORE")) {
			p->condstore = true;
			continue;
		}
		if (!imap_arg_atom_is(&v[i], "QRESYNC") || !s->qresync || i + 1 >= c->args[1].n ||
		    v[i + 1].type != IMAP_ARG_LIST)
			return false;
		const struct imap_arg *q = v[i + 1].list;
		size_t qn = v[i + 1].n;
		char num[24];
		uint64_t ms;
		if (qn < 2 || !imap_arg_number(&q[0], &p->validity) || p->validity == 0 ||
		    q[1].type != IMAP_ARG_ATOM || q[1].len >= sizeof num)
			return false;
		memcpy(num, q[1].p, q[1].len);
		num[q[1].len] = '\0';
		if (!parse_u64(num, INT64_MAX, &ms) || ms == 0)
			return false;
		p->modseq = ms;
		if (qn >= 3) {
			const char *why;
			if (q[2].type != IMAP_ARG_ATOM ||
			    seqset_parse(&p->known, q[2].p, q[2].len, UINT32_MAX, &why) != SEQSET_OK)
				return false;
			p->has_known = true;
		}
		p->qresync = p->condstore = true;
		i++;
	}
	return true;
}

/* QRESYNC: what changed since the client's modseq, before the tagged OK. */
static void
resync(struct msession *s, const struct select_params *p)
{
	struct mailbox *mb = s->mb;
	if (p->validity != mb->validity)
		return;		/* RFC 7162 3.2.5.1: a full resync, nothing sent */
	m_vanished_since(s, p->modseq, p->has_known ? &p->known : NULL);
	for (size_t i = 0; i < mb->n; i++) {
		struct mb_msg *e = &mb->v[i];
		/* every change, known-uids or not: new messages too (RFC 7162
		 * 3.2.5.2 allows it, and a client must handle them anyway) */
		if (e->gone || e->modseq <= p->modseq)
			continue;
		struct buf b;
		buf_init(&b, 65536);
		m_flags_text(s, mb, mb_flags(mb, i), e->kw, &b);
		buf_cstr(&b);
		m_reply(s, "* %zu FETCH (UID %u FLAGS %s MODSEQ (%llu))", i + 1, e->uid,
		    (char *)b.data, (unsigned long long)e->modseq);
		buf_free(&b);
	}
}

void
m_cmd_select(struct msession *s, struct imap_cmd *c, bool readonly)
{
	char name[MAILBOX_NAME_MAX * 4 + 1];
	/* RFC 9051 6.3.1: a failed SELECT leaves no mailbox selected */
	if (s->mb != NULL) {
		m_select(s, NULL, NULL);
		m_reply(s, "* OK [CLOSED] Previous mailbox closed");
	}
	if (!m_mailbox_arg(s, c->tag, &c->args[0], name, sizeof name))
		return;
	struct select_params sp;
	if (!select_params(s, c, &sp)) {
		seqset_free(&sp.known);
		m_tagged(s, c->tag, "BAD Invalid %s parameters (CONDSTORE, or QRESYNC after ENABLE "
		    "QRESYNC)", c->name);
		return;
	}
	if (sp.condstore)
		s->condstore = true;
	struct mailbox *mb = m_open_mailbox(s, c->tag, name, readonly ? MB_RO : MB_RW);
	if (mb == NULL) {
		seqset_free(&sp.known);
		return;
	}
	m_select(s, mb, name);
	m_reply(s, "* %zu EXISTS", mb->n);
	if (!s->rev2) {
		size_t r = 0;
		for (size_t k = 0; k < mb->n; k++)
			r += (mb_flags(mb, k) & MF_RECENT) != 0;
		m_reply(s, "* %zu RECENT", r);
	}
	m_send_flags(s);
	m_reply(s, "* OK [UIDVALIDITY %u] UIDs valid", mb->validity);
	m_reply(s, "* OK [UIDNEXT %u] Predicted next UID", mb->next);
	m_reply(s, "* OK [HIGHESTMODSEQ %llu] Highest", (unsigned long long)mb->highest);
	for (size_t k = 0; k < mb->n && !s->rev2; k++)
		if (!(mb->v[k].flags & MF_SEEN)) {
			m_reply(s, "* OK [UNSEEN %zu] First unseen", k + 1);
			break;
		}
	if (s->rev2)
		list_line(s, "LIST", "", name);	/* RFC 9051 6.3.2 */
	if (sp.qresync)
		resync(s, &sp);
	seqset_free(&sp.known);
	m_tagged(s, c->tag, "OK [%s] %s completed", readonly ? "READ-ONLY" : "READ-WRITE",
	    c->name);
}

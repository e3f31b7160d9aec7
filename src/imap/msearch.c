/*
 * imap/msearch.c - SEARCH and UID SEARCH (RFC 9051 6.4.4), with ESEARCH
 * results (RFC 4731; always for IMAP4rev2 clients, RFC 9051 7.3.4) and
 * RETURN (MIN MAX COUNT ALL).  The criteria are compiled and evaluated by
 * imap/search.h; this file feeds it the selected mailbox's messages and
 * reads a message file only when a text key needs it.
 * Runs in: mailbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "imap/msession.h"
#include "imap/search.h"
#include "imap/seqset.h"
#include "mail/conf.h"

enum { R_MIN = 1, R_MAX = 2, R_COUNT = 4, R_ALL = 8 };

/* the view's flag bits are handed over as they are */
_Static_assert((int)MF_SEEN == (int)SEARCH_F_SEEN && (int)MF_ANSWERED ==
    (int)SEARCH_F_ANSWERED && (int)MF_FLAGGED == (int)SEARCH_F_FLAGGED &&
    (int)MF_DELETED == (int)SEARCH_F_DELETED && (int)MF_DRAFT == (int)SEARCH_F_DRAFT &&
    (int)MF_RECENT == (int)SEARCH_F_RECENT, "flag bits differ");

struct loader {
	struct msession *s;
	size_t i;
	struct buf text;
	bool loaded;
};

static int
load(void *arg, const uint8_t **msg, size_t *len)
{
	struct loader *l = arg;
	if (!l->loaded) {
		buf_reset(&l->text);
		int fd = mb_open_msg(l->s->mb, l->i);
		if (fd < 0)
			return -1;
		for (;;) {
			size_t room;
			uint8_t *w = buf_space(&l->text, 1u << 20, &room);
			if (room == 0)
				break;
			ssize_t r = read(fd, w, room);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			buf_commit(&l->text, (size_t)r);
		}
		close(fd);
		l->loaded = true;
	}
	*msg = l->text.data ? l->text.data : (const uint8_t *)"";
	*len = l->text.len;
	return 0;
}

static int
keyword(void *arg, const uint8_t *name, size_t len)
{
	struct mailbox *mb = arg;
	char k[MB_KEYWORD_MAX + 1];
	if (len > MB_KEYWORD_MAX)
		return -1;
	memcpy(k, name, len);
	k[len] = '\0';
	return mb_keyword(mb, k, false);
}

/* Which message facts the criteria look at: a file's size or date costs
 * a read or a stat, skipped when no key asks. */
static void
scan_keys(const struct imap_arg *a, size_t n, bool *size, bool *date, unsigned depth)
{
	if (depth > 100)
		return;
	for (size_t i = 0; i < n; i++) {
		if (a[i].type == IMAP_ARG_LIST) {
			scan_keys(a[i].list, a[i].n, size, date, depth + 1);
			continue;
		}
		if (imap_arg_atom_is(&a[i], "LARGER") || imap_arg_atom_is(&a[i], "SMALLER"))
			*size = true;
		if (imap_arg_atom_is(&a[i], "BEFORE") || imap_arg_atom_is(&a[i], "ON") ||
		    imap_arg_atom_is(&a[i], "SINCE") || imap_arg_atom_is(&a[i], "YOUNGER") ||
		    imap_arg_atom_is(&a[i], "OLDER"))
			*date = true;
	}
}

/* RETURN (...) of RFC 4731; SAVE (SEARCHRES) is not offered. */
static bool
return_opts(const struct imap_arg *a, unsigned *ret)
{
	if (a->type != IMAP_ARG_LIST)
		return false;
	*ret = 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct imap_arg *o = &a->list[i];
		if (imap_arg_atom_is(o, "MIN"))
			*ret |= R_MIN;
		else if (imap_arg_atom_is(o, "MAX"))
			*ret |= R_MAX;
		else if (imap_arg_atom_is(o, "COUNT"))
			*ret |= R_COUNT;
		else if (imap_arg_atom_is(o, "ALL"))
			*ret |= R_ALL;
		else
			return false;
	}
	if (*ret == 0)
		*ret = R_ALL;	/* RETURN () is RETURN (ALL) */
	return true;
}

static void
reply(struct msession *s, const char *tag, bool uid, bool esearch, unsigned ret,
    const uint32_t *hits, size_t n, uint64_t modseq)
{
	struct buf b;
	buf_init(&b, 64u << 20);
	if (!esearch) {
		buf_puts(&b, "* SEARCH");
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, " %u", hits[i]);
		/* RFC 7162 3.1.5: the highest mod-sequence of what matched */
		if (modseq != 0 && n > 0)
			buf_printf(&b, " (MODSEQ %llu)", (unsigned long long)modseq);
	} else {
		buf_printf(&b, "* ESEARCH (TAG \"%s\")%s", tag, uid ? " UID" : "");
		if ((ret & R_MIN) && n > 0)
			buf_printf(&b, " MIN %u", hits[0]);
		if ((ret & R_MAX) && n > 0)
			buf_printf(&b, " MAX %u", hits[n - 1]);
		if (ret & R_COUNT)
			buf_printf(&b, " COUNT %zu", n);
		if ((ret & R_ALL) && n > 0) {
			buf_puts(&b, " ALL ");
			seqset_format_list(&b, hits, n);
		}
		if (modseq != 0 && n > 0)
			buf_printf(&b, " MODSEQ %llu", (unsigned long long)modseq);
	}
	buf_puts(&b, "\r\n");
	if (!b.err)
		io_write(&s->io, b.data, b.len);
	buf_free(&b);
}

bool
m_search_match(struct msession *s, const char *tag, const struct imap_arg *a, size_t n,
    struct m_matches *out)
{
	memset(out, 0, sizeof *out);
	if (n == 0) {
		m_tagged(s, tag, "BAD Search criteria missing");
		return false;
	}
	struct mailbox *mb = s->mb;
	struct search_env env = {
		.max_seq = (uint32_t)mb->n,
		.max_uid = mb->n ? mb->v[mb->n - 1].uid : mb->next,
		.now = (int64_t)time(NULL),
		.keyword = keyword,
		.keyword_arg = mb,
	};
	struct search_prog *prog;
	const char *why = "Invalid search criteria";
	if (search_compile(a, n, &env, &prog, &why) < 0) {
		m_tagged(s, tag, "BAD %s", why);
		return false;
	}
	bool need_size = false, need_date = false;
	scan_keys(a, n, &need_size, &need_date, 0);
	out->idx = xcalloc(mb->n ? mb->n : 1, sizeof *out->idx);
	struct loader l = { .s = s };
	buf_init(&l.text, 2 * MW.conf->max_message_size + (1u << 20));
	for (size_t i = 0; i < mb->n; i++) {
		struct mb_msg *e = &mb->v[i];
		uint64_t kw = e->kw;
		struct search_msg m = {
			.seq = (uint32_t)(i + 1), .uid = e->uid, .flags = mb_flags(mb, i),
			.keywords = &kw, .n_keywords = 1,
			.internaldate = need_date ? mb_internaldate(mb, i) : 0,
			.size = need_size ? mb_vsize(mb, i) : 0,
			.modseq = e->modseq,
			.load = load, .arg = &l,
		};
		l.i = i;
		l.loaded = false;
		int r = search_eval(prog, &m);
		if (r < 0)
			out->unreadable = true;
		if (r == 1)
			out->idx[out->n++] = i;
	}
	buf_free(&l.text);
	out->by_modseq = search_uses_modseq(prog);
	search_free(&prog);
	return true;
}

/* CHARSET (RFC 9051 6.4.4): only UTF-8 and US-ASCII.  Moves a/n past it;
 * false (NO sent) for another. */
bool
m_search_charset(struct msession *s, const char *tag, const struct imap_arg **a, size_t *n,
    bool required)
{
	if (*n >= 1 && required) {
		/* SORT and THREAD name the charset without the word */
		if (!imap_arg_atom_is(&(*a)[0], "UTF-8") && !imap_arg_atom_is(&(*a)[0], "US-ASCII") &&
		    !((*a)[0].type == IMAP_ARG_QUOTED && (*a)[0].len == 5 &&
		    ascii_memcaseeq((*a)[0].p, "UTF-8", 5))) {
			m_tagged(s, tag, "NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
			return false;
		}
		*a += 1;
		*n -= 1;
	}
	return true;
}

void
m_cmd_search(struct msession *s, struct imap_cmd *c, bool uid)
{
	const struct imap_arg *a = c->args;
	size_t n = c->n_args;
	unsigned ret = 0;
	bool esearch = s->rev2;
	if (n >= 2 && imap_arg_atom_is(&a[0], "RETURN")) {
		if (!return_opts(&a[1], &ret)) {
			m_tagged(s, c->tag, "BAD Invalid RETURN options (MIN MAX COUNT ALL)");
			return;
		}
		esearch = true;
		a += 2;
		n -= 2;
	}
	if (esearch && ret == 0)
		ret = R_ALL;
	if (n >= 2 && imap_arg_atom_is(&a[0], "CHARSET")) {
		if (!imap_arg_atom_is(&a[1], "UTF-8") && !imap_arg_atom_is(&a[1], "US-ASCII") &&
		    !(a[1].type == IMAP_ARG_QUOTED && a[1].len == 5 &&
		    ascii_memcaseeq(a[1].p, "UTF-8", 5))) {
			m_tagged(s, c->tag, "NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
			return;
		}
		a += 2;
		n -= 2;
	}
	struct m_matches mt;
	if (!m_search_match(s, c->tag, a, n, &mt))
		return;
	uint32_t *hits = xcalloc(mt.n ? mt.n : 1, sizeof *hits);
	size_t nh = mt.n;
	uint64_t top = 0, first_ms = 0, last_ms = 0;
	for (size_t k = 0; k < mt.n; k++) {
		const struct mb_msg *e = &s->mb->v[mt.idx[k]];
		hits[k] = uid ? e->uid : (uint32_t)(mt.idx[k] + 1);
		if (e->modseq > top)
			top = e->modseq;
		if (k == 0)
			first_ms = e->modseq;
		last_ms = e->modseq;
	}
	bool by_modseq = mt.by_modseq, unreadable = mt.unreadable;
	free(mt.idx);
	if (by_modseq)
		m_condstore_on(s);
	/* RFC 7162 3.1.5 with RFC 4731: when only MIN or only MAX is asked
	 * for, MODSEQ is that message's */
	if (esearch && ret == R_MIN)
		top = first_ms;
	else if (esearch && ret == R_MAX)
		top = last_ms;
	reply(s, c->tag, uid, esearch, ret, hits, nh, by_modseq ? top : 0);
	free(hits);
	if (uid)
		m_update(s, true);
	if (unreadable)
		m_tagged(s, c->tag, "NO [EXPUNGEISSUED] Some of the messages no longer exist");
	else
		m_tagged(s, c->tag, "OK %s completed", c->name);
}

/*
 * imap/mstore.c - commands that change messages: STORE, EXPUNGE and UID
 * EXPUNGE, COPY and MOVE (RFC 6851) with COPYUID, APPEND and MULTIAPPEND
 * (RFC 3502) with APPENDUID (RFC 4315); the sequence-set and flag-list
 * arguments they share.
 * Runs in: mailbox.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "imap/mime.h"
#include "imap/msession.h"
#include "imap/mutf7.h"
#include "imap/seqset.h"
#include "mail/conf.h"

bool
m_msgset(struct msession *s, const char *tag, const struct imap_arg *a, bool uid,
    size_t **idx, size_t *n)
{
	struct mailbox *mb = s->mb;
	*idx = NULL;
	*n = 0;
	if (a->type != IMAP_ARG_ATOM) {
		m_tagged(s, tag, "BAD Invalid sequence set");
		return false;
	}
	uint32_t star = uid ? (mb->n ? mb->v[mb->n - 1].uid : mb->next) : (uint32_t)mb->n;
	struct seqset set;
	const char *why = "Invalid sequence set";
	seqset_init(&set);
	int r = seqset_parse(&set, a->p, a->len, star, &why);
	if (r != SEQSET_OK) {
		m_tagged(s, tag, "BAD %s", r == SEQSET_SAVED ? "$ is not supported" : why);
		seqset_free(&set);
		return false;
	}
	/* RFC 9051 6.4.5 and 9: a sequence number beyond EXISTS is an error;
	 * UIDs that do not exist are just not there */
	if (!uid && (seqset_max(&set) > mb->n || mb->n == 0)) {
		m_tagged(s, tag, "BAD Invalid message sequence number (%zu messages)", mb->n);
		seqset_free(&set);
		return false;
	}
	size_t *v = xcalloc(mb->n ? mb->n : 1, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < mb->n; i++)
		if (seqset_contains(&set, uid ? mb->v[i].uid : (uint32_t)(i + 1)))
			v[k++] = i;
	seqset_free(&set);
	*idx = v;
	*n = k;
	return true;
}

bool
m_flag_args(struct msession *s, const char *tag, const struct imap_arg *a, size_t n,
    struct mailbox *mb, bool create, uint8_t *flags, uint32_t *kw)
{
	static const struct { const char *name; uint8_t bit; } sys[] = {
		{ "\\Seen", MF_SEEN }, { "\\Answered", MF_ANSWERED }, { "\\Flagged", MF_FLAGGED },
		{ "\\Deleted", MF_DELETED }, { "\\Draft", MF_DRAFT },
	};
	*flags = 0;
	*kw = 0;
	if (n == 1 && a[0].type == IMAP_ARG_LIST) {
		n = a[0].n;
		a = a[0].list;
	}
	for (size_t i = 0; i < n; i++) {
		/* NIL is an atom here too: the keyword "NIL" */
		if ((a[i].type != IMAP_ARG_ATOM && a[i].type != IMAP_ARG_NIL) || a[i].len == 0 ||
		    a[i].len > MB_KEYWORD_MAX) {
			m_tagged(s, tag, "BAD Invalid flag");
			return false;
		}
		char f[MB_KEYWORD_MAX + 1];
		memcpy(f, a[i].p, a[i].len);
		f[a[i].len] = '\0';
		if (f[0] == '\\') {
			bool known = false;
			for (size_t k = 0; k < NELEM(sys); k++)
				if (ascii_strcaseeq(f, sys[k].name)) {
					*flags |= sys[k].bit;
					known = true;
				}
			if (!known && !ascii_strcaseeq(f, "\\Recent")) {
				m_tagged(s, tag, "BAD Unknown system flag %s", f);
				return false;
			}
			continue;
		}
		for (const char *p = f; *p; p++)
			if (strchr("(){ %*\"\\]", *p) != NULL || (unsigned char)*p < 0x21 ||
			    (unsigned char)*p > 0x7e) {
				m_tagged(s, tag, "BAD Invalid keyword");
				return false;
			}
		int k = mb_keyword(mb, f, create);
		if (k >= 0)
			*kw |= 1u << k;
		else if (create)
			log_warn("mailbox session=%s event=keyword mailbox=%s keyword=%s "
			    "error=\"no room (26 keywords)\"", s->sid, mb->label, f);
	}
	return true;
}

/* --- STORE -------------------------------------------------------------------------- */

void
m_cmd_store(struct msession *s, struct imap_cmd *c, bool uid)
{
	/* (UNCHANGEDSINCE n) before the item, RFC 7162 3.1.3 */
	size_t at = 1;
	uint64_t unchanged = UINT64_MAX;
	if (c->args[1].type == IMAP_ARG_LIST) {
		const struct imap_arg *m = c->args[1].list;
		char num[24];
		if (c->n_args < 4 || c->args[1].n != 2 || !imap_arg_atom_is(&m[0], "UNCHANGEDSINCE") ||
		    m[1].type != IMAP_ARG_ATOM || m[1].len >= sizeof num) {
			m_tagged(s, c->tag, "BAD Invalid STORE modifier (UNCHANGEDSINCE n)");
			return;
		}
		memcpy(num, m[1].p, m[1].len);
		num[m[1].len] = '\0';
		if (!parse_u64(num, INT64_MAX, &unchanged)) {
			m_tagged(s, c->tag, "BAD Invalid UNCHANGEDSINCE value");
			return;
		}
		m_condstore_on(s);
		at = 2;
	}
	const struct imap_arg *item = &c->args[at];
	if (item->type != IMAP_ARG_ATOM || item->len > 32) {
		m_tagged(s, c->tag, "BAD Invalid STORE item");
		return;
	}
	char it[40];
	memcpy(it, item->p, item->len);
	it[item->len] = '\0';
	int mode = it[0] == '+' ? 1 : it[0] == '-' ? -1 : 0;
	const char *rest = it + (mode != 0);
	bool silent = ascii_strcaseeq(rest, "FLAGS.SILENT");
	if (!silent && !ascii_strcaseeq(rest, "FLAGS")) {
		m_tagged(s, c->tag, "BAD Invalid STORE item");
		return;
	}
	if (s->mb->readonly) {
		m_tagged(s, c->tag, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	size_t *idx, n;
	uint8_t flags;
	uint32_t kw;
	if (!m_flag_args(s, c->tag, &c->args[at + 1], c->n_args - at - 1, s->mb, mode >= 0,
	    &flags, &kw))
		return;
	if (!m_msgset(s, c->tag, &c->args[0], uid, &idx, &n))
		return;
	m_keywords_check(s);	/* a new keyword is in FLAGS before any FETCH names it */
	bool gone = false;
	uint32_t *modified = NULL;
	size_t n_modified = 0;
	for (size_t k = 0; k < n; k++) {
		struct mb_msg *e = &s->mb->v[idx[k]];
		if (e->modseq > unchanged) {
			/* changed since the client looked: left alone, named in
			 * MODIFIED (RFC 7162 3.1.3) */
			modified = xreallocarray(modified, n_modified + 1, sizeof *modified);
			modified[n_modified++] = uid ? e->uid : (uint32_t)(idx[k] + 1);
			continue;
		}
		/* another session may have changed this message's flags
		 * since our view last looked: +FLAGS/-FLAGS apply to the flags
		 * it has now */
		if (mode != 0 && mb_refresh(s->mb, idx[k]) < 0) {
			gone = true;
			continue;
		}
		e = &s->mb->v[idx[k]];	/* the view may have got its own copy */
		uint8_t nf = e->flags & MF_STORED;
		uint32_t nk = e->kw;
		if (mode == 0) {
			nf = flags;
			nk = kw;
		} else if (mode > 0) {
			nf |= flags;
			nk |= kw;
		} else {
			nf &= (uint8_t)~flags;
			nk &= ~kw;
		}
		if (mb_set_flags(s->mb, idx[k], nf, nk) < 0) {
			gone = true;
			continue;
		}
		e = &s->mb->v[idx[k]];
		/* RFC 9051 6.4.6: the new flags, unless .SILENT (a UID STORE
		 * includes the UID) */
		if (!silent || s->condstore) {
			struct buf b;
			buf_init(&b, 65536);
			if (!silent) {
				buf_puts(&b, " FLAGS ");
				m_flags_text(s, s->mb, mb_flags(s->mb, idx[k]), e->kw, &b);
			}
			m_modseq_item(s, e, &b);
			buf_cstr(&b);
			if (uid || s->condstore)
				m_reply(s, "* %zu FETCH (UID %u%s)", idx[k] + 1, e->uid, (char *)b.data);
			else
				m_reply(s, "* %zu FETCH (%s)", idx[k] + 1, (char *)b.data + 1);
			buf_free(&b);
		}
	}
	free(idx);
	/* keeps the new mod-sequences; only a UID STORE may renumber */
	m_update(s, uid);
	if (n_modified > 0) {
		struct buf b;
		buf_init(&b, 8u << 20);
		seqset_format_list(&b, modified, n_modified);
		buf_cstr(&b);
		m_tagged(s, c->tag, "OK [MODIFIED %s] Conditional STORE failed for some", b.err ?
		    "" : (char *)b.data);
		buf_free(&b);
	} else if (gone) {
		/* RFC 2180 4.2.1: flags of a message expunged meanwhile need
		 * not be stored; OK, as Dovecot answers (its EXPUNGE comes at
		 * the next point where one may be sent) */
		m_tagged(s, c->tag, "OK %s completed (some messages no longer exist)", c->name);
	} else {
		m_tagged(s, c->tag, "OK %s completed", c->name);
	}
	free(modified);
}

/* --- EXPUNGE ------------------------------------------------------------------------ */

void
m_cmd_expunge(struct msession *s, struct imap_cmd *c, bool uid)
{
	if (s->mb->readonly) {
		m_tagged(s, c->tag, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	size_t *idx = NULL, n = 0;
	if (uid && !m_msgset(s, c->tag, &c->args[0], true, &idx, &n))
		return;
	size_t done = 0, failed = 0;
	for (size_t i = 0, k = 0; i < s->mb->n; i++) {
		if (uid) {
			while (k < n && idx[k] < i)
				k++;
			if (k >= n || idx[k] != i)
				continue;
		}
		if (!(s->mb->v[i].flags & MF_DELETED))
			continue;
		if (mb_expunge(s->mb, i) == 0)
			done++;
		else
			failed++;
	}
	free(idx);
	m_update(s, true);
	if (done > 0)
		log_info("mailbox session=%s event=expunge mailbox=%s messages=%zu", s->sid,
		    s->mb->label, done);
	if (failed > 0)
		m_tagged(s, c->tag, "NO [SERVERBUG] %zu messages could not be expunged", failed);
	else
		m_tagged(s, c->tag, "OK %s completed", c->name);
}

/* --- COPY and MOVE -------------------------------------------------------------------- */

/* RFC 9051 6.4.7: a COPY that fails copies nothing, so the copies made
 * before the failure are removed again.  A crash in between leaves them
 * (copies, never a loss). */
static void
undo_copies(struct mailbox *dst, const uint32_t *uids, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		size_t lo = 0, hi = dst->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (dst->v[mid].uid < uids[j])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < dst->n && dst->v[lo].uid == uids[j])
			mb_expunge(dst, lo);
	}
}

void
m_cmd_copy(struct msession *s, struct imap_cmd *c, bool uid, bool move)
{
	char name[MAILBOX_NAME_MAX * 4 + 1];
	if (!m_mailbox_arg(s, c->tag, &c->args[1], name, sizeof name))
		return;
	if (move && s->mb->readonly) {
		m_tagged(s, c->tag, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	size_t *idx, n;
	if (!m_msgset(s, c->tag, &c->args[0], uid, &idx, &n))
		return;
	/* every message first: one removed on the box meanwhile makes the
	 * whole command fail before anything is copied (RFC 9051 6.4.7) */
	uint64_t adding = 0;
	for (size_t k = 0; k < n; k++) {
		int fd = mb_open_msg(s->mb, idx[k]);
		if (fd < 0) {
			m_tagged(s, c->tag, "NO [EXPUNGEISSUED] Some of the requested messages no longer exist");
			free(idx);
			return;
		}
		close(fd);
		adding += move ? 0 : mb_vsize(s->mb, idx[k]);
	}
	if (!m_quota_room(s, c->tag, adding)) {
		free(idx);
		return;
	}
	struct mailbox *dst = m_open_mailbox(s, c->tag, name, MB_TARGET);
	if (dst == NULL) {
		free(idx);
		return;
	}
	uint32_t *from = xcalloc(n ? n : 1, sizeof *from), *to = xcalloc(n ? n : 1, sizeof *to);
	size_t k = 0;
	char why[200] = "";
	int cerr = 0;
	for (; k < n; k++) {
		if (mb_copy(s->mb, idx[k], dst, &to[k], why, sizeof why) < 0) {
			cerr = errno;
			break;
		}
		from[k] = s->mb->v[idx[k]].uid;
	}
	uint32_t validity = dst->validity;
	if (k < n)
		undo_copies(dst, to, k);
	mb_close(&dst);
	if (k < n) {
		m_tagged(s, c->tag, "NO [%s] %s", cerr == ENOSPC || cerr == EDQUOT ? "OVERQUOTA" :
		    "SERVERBUG", why);
		free(idx);
		free(from);
		free(to);
		return;
	}
	struct buf b;
	buf_init(&b, 8u << 20);
	if (n > 0) {
		buf_printf(&b, "COPYUID %u ", validity);
		seqset_format_list(&b, from, n);
		buf_putc(&b, ' ');
		seqset_format_list(&b, to, n);
	}
	buf_cstr(&b);
	const char *code = n > 0 && !b.err ? (char *)b.data : NULL;
	if (move) {
		/* RFC 6851 3.3: COPYUID untagged, then the EXPUNGEs */
		if (code)
			m_reply(s, "* OK [%s] Moved", code);
		for (size_t i = 0; i < n; i++)
			mb_expunge(s->mb, idx[i]);
		m_update(s, true);
		m_tagged(s, c->tag, "OK %s completed", c->name);
	} else {
		if (uid)
			m_update(s, true);
		if (code)
			m_tagged(s, c->tag, "OK [%s] %s completed", code, c->name);
		else
			m_tagged(s, c->tag, "OK %s completed", c->name);
	}
	buf_free(&b);
	free(idx);
	free(from);
	free(to);
}

/* --- APPEND ---------------------------------------------------------------------------- */

/* RFC 9051 9 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d"). */
static bool
parse_date_time(const struct imap_arg *a, int64_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	if (a->type != IMAP_ARG_QUOTED || a->len != 26)
		return false;
	char t[27];
	memcpy(t, a->p, 26);
	t[26] = '\0';
	int day, year, hh, mm, ss, zone;
	char mon[4], sign;
	if (sscanf(t, "%2d-%3c-%4d %2d:%2d:%2d %c%4d", &day, mon, &year, &hh, &mm, &ss, &sign,
	    &zone) != 8 || (sign != '+' && sign != '-'))
		return false;
	mon[3] = '\0';
	const char *m = strstr(months, mon);
	if (m == NULL || (m - months) % 3 != 0 || day < 1 || day > 31 || year < 1970 ||
	    year > 9999 || hh > 23 || mm > 59 || ss > 60 || zone % 100 > 59)
		return false;
	struct tm tm = { .tm_mday = day, .tm_mon = (int)((m - months) / 3), .tm_year = year - 1900,
		.tm_hour = hh, .tm_min = mm, .tm_sec = ss };
	int64_t v = (int64_t)timegm(&tm);
	int64_t off = (int64_t)(zone / 100 * 3600 + zone % 100 * 60);
	*out = sign == '+' ? v - off : v + off;
	return true;
}

/* A literal8 message whose binary parts get base64 (imap/mime.h says
 * why); false: store it as it came. */
static bool
binary_to_base64(const struct imap_arg *lit, struct buf *out)
{
	struct mime_msg *mm = NULL;
	if (mime_parse(lit->p, lit->len, &mm) != 0)
		return false;
	bool changed = mime_binary_to_base64(mm, out);
	mime_free(&mm);
	return changed;
}

void
m_cmd_append(struct msession *s, struct imap_cmd *c)
{
	char name[MAILBOX_NAME_MAX * 4 + 1];
	if (!m_mailbox_arg(s, c->tag, &c->args[0], name, sizeof name))
		return;
	struct mailbox *dst = m_open_mailbox(s, c->tag, name, MB_TARGET);
	if (dst == NULL)
		return;
	/* MULTIAPPEND: (flags)? date? literal, repeated; check all first, so
	 * a bad one stores nothing (RFC 3502 3) */
	size_t i = 1, n_msgs = 0;
	while (i < c->n_args) {
		uint8_t flags;
		uint32_t kw;
		/* the flag lists too: a bad one after a stored message left that
		 * message in the mailbox under a BAD (no keyword made here) */
		if (c->args[i].type == IMAP_ARG_LIST) {
			if (!m_flag_args(s, c->tag, &c->args[i], 1, dst, false, &flags, &kw)) {
				mb_close(&dst);
				return;
			}
			i++;
		}
		int64_t t;
		if (i < c->n_args && c->args[i].type == IMAP_ARG_QUOTED) {
			if (!parse_date_time(&c->args[i], &t)) {
				m_tagged(s, c->tag, "BAD Invalid date-time");
				mb_close(&dst);
				return;
			}
			i++;
		}
		if (i >= c->n_args || c->args[i].type != IMAP_ARG_LITERAL) {
			m_tagged(s, c->tag, "BAD APPEND needs a message literal");
			mb_close(&dst);
			return;
		}
		if (c->args[i].len == 0) {
			m_tagged(s, c->tag, "NO Empty message");
			mb_close(&dst);
			return;
		}
		i++;
		n_msgs++;
	}
	uint64_t adding = 0;
	for (i = 1; i < c->n_args; i++)
		if (c->args[i].type == IMAP_ARG_LITERAL)
			adding += c->args[i].len;
	if (!m_quota_room(s, c->tag, adding)) {
		mb_close(&dst);
		return;
	}
	uint32_t *uids = xcalloc(n_msgs, sizeof *uids);
	size_t k = 0;
	char why[200] = "";
	for (i = 1; i < c->n_args; k++) {
		uint8_t flags = 0;
		uint32_t kw = 0;
		int64_t t = 0;
		if (c->args[i].type == IMAP_ARG_LIST) {
			if (!m_flag_args(s, c->tag, &c->args[i], 1, dst, true, &flags, &kw))
				goto out;
			i++;
		}
		if (c->args[i].type == IMAP_ARG_QUOTED)
			parse_date_time(&c->args[i++], &t);
		const struct imap_arg *lit = &c->args[i++];
		struct buf conv;
		buf_init(&conv, 2 * lit->len + 4096);
		const uint8_t *msg = lit->p;
		size_t len = lit->len;
		if (lit->binary && binary_to_base64(lit, &conv)) {
			msg = conv.data;
			len = conv.len;
		}
		int rc = mb_append(dst, msg, len, flags, kw, t, &uids[k], why, sizeof why);
		buf_free(&conv);
		if (rc < 0) {
			int e = errno;
			log_err("mailbox session=%s event=append mailbox=%s error=\"%s\"", s->sid,
			    dst->label, why);
			/* RFC 5530: a full disk or quota is OVERQUOTA */
			m_tagged(s, c->tag, "NO [%s] %s", e == ENOSPC || e == EDQUOT ? "OVERQUOTA" :
			    "SERVERBUG", why);
			goto out;
		}
	}
	struct buf b;
	buf_init(&b, 1u << 20);
	seqset_format_list(&b, uids, n_msgs);
	buf_cstr(&b);
	log_info("mailbox session=%s event=append mailbox=%s messages=%zu", s->sid, dst->label,
	    n_msgs);
	if (s->mb != NULL)
		m_update(s, true);
	m_tagged(s, c->tag, "OK [APPENDUID %u %s] APPEND completed", dst->validity,
	    b.data ? (char *)b.data : "");
	buf_free(&b);
out:
	free(uids);
	mb_close(&dst);
}

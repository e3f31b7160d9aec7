/*
 * imap/mfetch.c - FETCH and UID FETCH (RFC 9051 6.4.5, 7.5.2; BINARY,
 * RFC 3516).
 *
 * The items are parsed once into a plan; the messages are then answered
 * one by one as the output drains (a FETCH of every body in a large
 * mailbox never sits in memory at once).  A message file is read only
 * when an item needs its text; ENVELOPE, BODYSTRUCTURE and sections come
 * from imap/mime.h over the file as stored (LF), shown with CRLF.
 * Runs in: mailbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "imap/mcache.h"
#include "imap/mime.h"
#include "imap/msession.h"
#include "imap/seqset.h"
#include "mail/conf.h"

#define ITEMS_MAX	64

enum fk {
	F_UID, F_FLAGS, F_INTERNALDATE, F_SIZE, F_ENVELOPE, F_BODY, F_BODYSTRUCTURE,
	F_SECTION,	/* BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT */
	F_BINARY,	/* BINARY[...], BINARY.PEEK[...] */
	F_BINARY_SIZE,
	F_MODSEQ,	/* RFC 7162 3.1.4.1 */
};

struct fitem {
	enum fk kind;
	bool peek;
	bool partial;
	uint32_t off, len;
	struct mime_section sec;
	/* what the reply names: "BODY[HEADER]", "RFC822"; room for any section
	 * the parser takes (mutt's HEADER.FIELDS list is 146 bytes) */
	char label[MIME_SECTION_NAMEBUF + 4 * MIME_SECTION_NAMES_MAX + 64];
};

struct fetch_job {
	struct fitem *items;
	size_t n_items;
	size_t *idx, n, pos;
	bool uid;
	bool needs_text;
	bool needs_body;	/* a section or BINARY item: the file is read */
	bool gone;
	uint64_t changedsince;	/* CHANGEDSINCE: only messages changed after it */
	char tag[IMAP_TAG_MAX + 1];
	char name[16];
};

static void
job_free(void *arg)
{
	struct fetch_job *j = arg;
	free(j->items);
	free(j->idx);
	free(j);
}

/* --- the plan ---------------------------------------------------------------------- */

static bool
simple(struct fetch_job *j, const struct imap_arg *a)
{
	static const struct { const char *name; enum fk kind; } names[] = {
		{ "UID", F_UID }, { "FLAGS", F_FLAGS }, { "INTERNALDATE", F_INTERNALDATE },
		{ "RFC822.SIZE", F_SIZE }, { "ENVELOPE", F_ENVELOPE }, { "BODY", F_BODY },
		{ "BODYSTRUCTURE", F_BODYSTRUCTURE }, { "MODSEQ", F_MODSEQ },
	};
	for (size_t i = 0; i < NELEM(names); i++)
		if (imap_arg_atom_is(a, names[i].name)) {
			struct fitem *it = &j->items[j->n_items++];
			memset(it, 0, sizeof *it);
			it->kind = names[i].kind;
			return true;
		}
	return false;
}

/* RFC822, RFC822.HEADER, RFC822.TEXT: IMAP4rev1's names for sections. */
static bool
rfc822(struct fetch_job *j, const struct imap_arg *a)
{
	static const struct { const char *name, *spec; bool peek; } names[] = {
		{ "RFC822", "", false }, { "RFC822.HEADER", "HEADER", true },
		{ "RFC822.TEXT", "TEXT", false },
	};
	for (size_t i = 0; i < NELEM(names); i++) {
		if (!imap_arg_atom_is(a, names[i].name))
			continue;
		struct fitem *it = &j->items[j->n_items++];
		memset(it, 0, sizeof *it);
		it->kind = F_SECTION;
		it->peek = names[i].peek;
		const char *why;
		mime_section_parse(names[i].spec, strlen(names[i].spec), &it->sec, &why);
		str_copy(it->label, sizeof it->label, names[i].name);
		j->needs_text = j->needs_body = true;
		return true;
	}
	return false;
}

/* BODY[...]<o.n>, BODY.PEEK[...], BINARY[...], BINARY.PEEK[...],
 * BINARY.SIZE[...]: one atom (imap/parse.h keeps the section in it). */
static bool
sectioned(struct fetch_job *j, const struct imap_arg *a, const char **why)
{
	const char *p = (const char *)a->p;
	size_t len = a->len;
	const char *lb = memchr(p, '[', len);
	if (lb == NULL)
		return false;
	size_t nl = (size_t)(lb - p);
	struct fitem *it = &j->items[j->n_items];
	memset(it, 0, sizeof *it);
	if (nl == 4 && ascii_memcaseeq(p, "BODY", 4)) {
		it->kind = F_SECTION;
	} else if (nl == 9 && ascii_memcaseeq(p, "BODY.PEEK", 9)) {
		it->kind = F_SECTION;
		it->peek = true;
	} else if (nl == 6 && ascii_memcaseeq(p, "BINARY", 6)) {
		it->kind = F_BINARY;
	} else if (nl == 11 && ascii_memcaseeq(p, "BINARY.PEEK", 11)) {
		it->kind = F_BINARY;
		it->peek = true;
	} else if (nl == 11 && ascii_memcaseeq(p, "BINARY.SIZE", 11)) {
		it->kind = F_BINARY_SIZE;
	} else {
		return false;
	}
	const char *rb = NULL;
	for (const char *q = p + len; q > lb; q--)
		if (q[-1] == ']') {
			rb = q - 1;
			break;
		}
	if (rb == NULL) {
		*why = "Missing ] in section";
		return false;
	}
	const char *spec = lb + 1;
	size_t slen = (size_t)(rb - spec);
	if (mime_section_parse(spec, slen, &it->sec, why) < 0)
		return false;
	const char *tail = rb + 1, *end = p + len;
	if (tail < end) {
		unsigned long long o, n;
		char extra;
		char t[48];
		if ((size_t)(end - tail) >= sizeof t || it->kind == F_BINARY_SIZE) {
			*why = "Invalid partial";
			return false;
		}
		memcpy(t, tail, (size_t)(end - tail));
		t[end - tail] = '\0';
		if (sscanf(t, "<%llu.%llu>%c", &o, &n, &extra) != 2 || o > UINT32_MAX ||
		    n == 0 || n > UINT32_MAX || t[1] < '0' || t[1] > '9') {
			*why = "Invalid partial";
			return false;
		}
		it->partial = true;
		it->off = (uint32_t)o;
		it->len = (uint32_t)n;
	}
	/* the reply names BODY[...] or BINARY[...], never .PEEK */
	const char *shown = it->kind == F_SECTION ? "BODY" : it->kind == F_BINARY ? "BINARY" :
	    "BINARY.SIZE";
	if (slen > sizeof it->label - 24) {
		*why = "Section too long";
		return false;
	}
	snprintf(it->label, sizeof it->label, "%s[%.*s]", shown, (int)slen, spec);
	j->n_items++;
	j->needs_text = j->needs_body = true;
	return true;
}

static bool
plan(struct fetch_job *j, const struct imap_arg *a, const char **why)
{
	const struct imap_arg *v = a;
	size_t n = 1;
	if (a->type == IMAP_ARG_LIST) {
		v = a->list;
		n = a->n;
	} else if (imap_arg_atom_is(a, "ALL") || imap_arg_atom_is(a, "FAST") ||
	    imap_arg_atom_is(a, "FULL")) {
		static const char *const fast[] = { "FLAGS", "INTERNALDATE", "RFC822.SIZE" };
		j->items = xcalloc(8, sizeof *j->items);
		for (size_t i = 0; i < NELEM(fast); i++) {
			j->items[j->n_items].kind = i == 0 ? F_FLAGS : i == 1 ? F_INTERNALDATE : F_SIZE;
			j->n_items++;
		}
		if (!imap_arg_atom_is(a, "FAST"))
			j->items[j->n_items++].kind = F_ENVELOPE;
		if (imap_arg_atom_is(a, "FULL"))
			j->items[j->n_items++].kind = F_BODY;
		j->needs_text = !imap_arg_atom_is(a, "FAST");
		return true;
	}
	if (n == 0 || n > ITEMS_MAX) {
		*why = "Invalid FETCH items";
		return false;
	}
	j->items = xcalloc(n + 1, sizeof *j->items);
	for (size_t i = 0; i < n; i++) {
		*why = "Unknown FETCH item";
		if (v[i].type != IMAP_ARG_ATOM)
			return false;
		if (!simple(j, &v[i]) && !rfc822(j, &v[i]) && !sectioned(j, &v[i], why))
			return false;
	}
	for (size_t i = 0; i < j->n_items; i++)
		if (j->items[i].kind == F_ENVELOPE || j->items[i].kind == F_BODY ||
		    j->items[i].kind == F_BODYSTRUCTURE)
			j->needs_text = true;
	return true;
}

/* --- one message ------------------------------------------------------------------------ */

static int
load(struct msession *s, size_t i, struct buf *text)
{
	int fd = mb_open_msg(s->mb, i);
	if (fd < 0)
		return -1;
	size_t cap = 2 * MW.conf->max_message_size + (1u << 20);
	buf_init(text, cap);
	for (;;) {
		size_t room;
		uint8_t *w = buf_space(text, 1u << 20, &room);
		if (room == 0)
			break;	/* longer than we take: shown cut, as read */
		ssize_t r = read(fd, w, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf_commit(text, (size_t)r);
	}
	struct stat st;
	if (s->mb->v[i].mtime == INT64_MIN && fstat(fd, &st) == 0)
		s->mb->v[i].mtime = st.st_mtime;
	close(fd);
	return 0;
}

static void
internaldate(struct msession *s, size_t i, struct buf *out)
{
	time_t t = (time_t)mb_internaldate(s->mb, i);
	struct tm tm;
	gmtime_r(&t, &tm);
	char d[40];
	strftime(d, sizeof d, "%d-%b-%Y %H:%M:%S +0000", &tm);
	buf_printf(out, "INTERNALDATE \"%s\"", d);
}

/* A section's bytes, cut by its partial, as a literal. */
static void
literal(struct buf *out, const struct fitem *it, const struct buf *data)
{
	size_t off = 0, n = data->len;
	if (it->partial) {
		off = it->off < data->len ? it->off : data->len;
		n = data->len - off;
		if (n > it->len)
			n = it->len;
		buf_printf(out, "%s<%u> ", it->label, it->off);
	} else {
		buf_printf(out, "%s ", it->label);
	}
	bool binary = memchr(data->data ? data->data + off : (const uint8_t *)"", '\0', n) != NULL;
	buf_printf(out, "%s{%zu}\r\n", binary ? "~" : "", n);
	if (n > 0)
		buf_append(out, data->data + off, n);
}

/* false when the message is gone */
static bool
one(struct msession *s, struct fetch_job *j, size_t i)
{
	struct mb_msg *e = &s->mb->v[i];
	struct buf text = { 0 }, out, part;
	struct mime_msg *mm = NULL;
	/* ENVELOPE, BODY[STRUCTURE] and the size: from the cache when it has
	 * them (imap/mcache.h), else from the file, and then kept */
	const struct mcache_rec *cr = NULL;
	if (j->needs_text && !j->needs_body)
		cr = mcache_get(s->mb->label, s->mb->validity, e->uid);
	if (j->needs_text && cr == NULL) {
		if (load(s, i, &text) < 0) {
			buf_free(&text);
			return false;
		}
		if (mime_parse(text.data ? text.data : (const uint8_t *)"", text.len, &mm) < 0)
			fatal("mailbox: out of memory");
		if (!j->needs_body)
			cr = mcache_put(s->mb->label, s->mb->validity, e->uid, mm,
			    mime_crlf_size(text.data, text.len));
	}
	/* a body item without .PEEK sets \Seen (RFC 9051 6.4.5) */
	bool seen_now = false;
	for (size_t k = 0; k < j->n_items; k++)
		if ((j->items[k].kind == F_SECTION || j->items[k].kind == F_BINARY) &&
		    !j->items[k].peek && !(e->flags & MF_SEEN) && !s->mb->readonly)
			seen_now = true;
	if (seen_now) {
		mb_set_flags(s->mb, i, (uint8_t)((e->flags & MF_STORED) | MF_SEEN), e->kw);
		e = &s->mb->v[i];	/* the view may have got its own copy */
	}
	buf_init(&out, 4 * MW.conf->max_message_size + (8u << 20));
	buf_init(&part, 2 * MW.conf->max_message_size + (8u << 20));
	buf_printf(&out, "* %zu FETCH (", i + 1);
	bool first = true, sent_uid = false, sent_flags = false, sent_modseq = false;
	for (size_t k = 0; k < j->n_items; k++) {
		const struct fitem *it = &j->items[k];
		if (!first)
			buf_putc(&out, ' ');
		first = false;
		switch (it->kind) {
		case F_UID:
			buf_printf(&out, "UID %u", e->uid);
			sent_uid = true;
			break;
		case F_MODSEQ:
			buf_printf(&out, "MODSEQ (%llu)", (unsigned long long)e->modseq);
			sent_modseq = true;
			break;
		case F_FLAGS:
			buf_puts(&out, "FLAGS ");
			m_flags_text(s, s->mb, mb_flags(s->mb, i), e->kw, &out);
			sent_flags = true;
			break;
		case F_INTERNALDATE:
			internaldate(s, i, &out);
			break;
		case F_SIZE:
			buf_printf(&out, "RFC822.SIZE %llu", (unsigned long long)(cr ? cr->size :
			    mm ? mime_crlf_size(text.data, text.len) : mb_vsize(s->mb, i)));
			break;
		case F_ENVELOPE:
			buf_puts(&out, "ENVELOPE ");
			if (cr)
				buf_puts(&out, cr->envelope);
			else
				mime_envelope(mm, &out);
			break;
		case F_BODY:
		case F_BODYSTRUCTURE:
			buf_puts(&out, it->kind == F_BODY ? "BODY " : "BODYSTRUCTURE ");
			if (cr)
				buf_puts(&out, it->kind == F_BODY ? cr->body : cr->bodystructure);
			else
				mime_bodystructure(mm, it->kind == F_BODYSTRUCTURE, &out);
			break;
		case F_SECTION:
			buf_reset(&part);
			/* a part that does not exist is NIL (RFC 9051 7.5.2) */
			if (mime_section_get(mm, &it->sec, &part) == MIME_NO_PART)
				buf_printf(&out, "%s NIL", it->label);
			else
				literal(&out, it, &part);
			break;
		case F_BINARY:
		case F_BINARY_SIZE:
			buf_reset(&part);
			int br = mime_binary_get(mm, &it->sec, &part);
			if (br == MIME_UNKNOWN_CTE || br == MIME_NO_PART) {
				/* RFC 3516 4.2 would fail the whole command for an
				 * unknown encoding; we say NIL for this message and
				 * go on */
				buf_printf(&out, "%s NIL", it->label);
				break;
			}
			if (it->kind == F_BINARY_SIZE)
				buf_printf(&out, "%s %zu", it->label, part.len);
			else
				literal(&out, it, &part);
			break;
		}
	}
	/* a UID FETCH, and every FETCH once CONDSTORE is on (RFC 7162 3.1),
	 * names the UID; CONDSTORE adds the mod-sequence */
	if ((j->uid || s->condstore) && !sent_uid) {
		buf_printf(&out, "%sUID %u", first ? "" : " ", e->uid);
		first = false;
	}
	if (seen_now && !sent_flags) {
		buf_puts(&out, " FLAGS ");
		m_flags_text(s, s->mb, mb_flags(s->mb, i), e->kw, &out);
	}
	if (s->condstore && !sent_modseq)
		buf_printf(&out, " MODSEQ (%llu)", (unsigned long long)e->modseq);
	buf_puts(&out, ")\r\n");
	if (out.err)
		log_err("mailbox session=%s event=fetch uid=%u error=\"reply too large\"", s->sid,
		    e->uid);
	else
		io_write(&s->io, out.data, out.len);
	buf_free(&out);
	buf_free(&part);
	buf_free(&text);
	mime_free(&mm);
	return true;
}

static bool
fetch_cont(struct msession *s)
{
	struct fetch_job *j = s->cont_arg;
	while (j->pos < j->n) {
		if (io_unsent(&s->io) > M_OUT_PAUSE)
			return false;
		if (s->mb == NULL)
			break;
		size_t i = j->idx[j->pos++];
		if (j->changedsince != 0 && s->mb->v[i].modseq <= j->changedsince)
			continue;
		if (!one(s, j, i))
			j->gone = true;
	}
	/* a non-UID FETCH may not renumber (RFC 9051 7.5.1); either way the
	 * sync keeps the mod-sequences of \Seen set here */
	m_update(s, j->uid);
	if (j->gone)
		m_tagged(s, j->tag, "NO [EXPUNGEISSUED] Some of the requested messages no longer exist");
	else
		m_tagged(s, j->tag, "OK %s completed", j->name);
	return true;
}

/* (CHANGEDSINCE n [VANISHED]), RFC 7162 3.1.4.1 and 3.2.6 */
static bool
modifiers(const struct imap_arg *a, uint64_t *changedsince, bool *vanished)
{
	if (a->type != IMAP_ARG_LIST)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct imap_arg *m = &a->list[i];
		if (imap_arg_atom_is(m, "VANISHED")) {
			*vanished = true;
			continue;
		}
		char num[24];
		if (!imap_arg_atom_is(m, "CHANGEDSINCE") || i + 1 >= a->n ||
		    a->list[i + 1].type != IMAP_ARG_ATOM || a->list[i + 1].len >= sizeof num)
			return false;
		memcpy(num, a->list[i + 1].p, a->list[i + 1].len);
		num[a->list[i + 1].len] = '\0';
		if (!parse_u64(num, INT64_MAX, changedsince))
			return false;
		i++;
	}
	return *changedsince != 0;	/* CHANGEDSINCE 0 would mean "all": RFC 7162 says >= 1 */
}

void
m_cmd_fetch(struct msession *s, struct imap_cmd *c, bool uid)
{
	struct fetch_job *j = xcalloc(1, sizeof *j);
	bool vanished = false;
	if (c->n_args == 3 && !modifiers(&c->args[2], &j->changedsince, &vanished)) {
		m_tagged(s, c->tag, "BAD Invalid FETCH modifiers (CHANGEDSINCE n [VANISHED])");
		job_free(j);
		return;
	}
	if (c->n_args > 3 || (vanished && (!uid || !s->qresync))) {
		/* RFC 7162 3.2.6: VANISHED only in UID FETCH after ENABLE QRESYNC */
		m_tagged(s, c->tag, "BAD Invalid FETCH modifiers");
		job_free(j);
		return;
	}
	const char *why = "Invalid FETCH items";
	if (!plan(j, &c->args[1], &why)) {
		m_tagged(s, c->tag, "BAD %s", why);
		job_free(j);
		return;
	}
	if (!m_msgset(s, c->tag, &c->args[0], uid, &j->idx, &j->n)) {
		job_free(j);
		return;
	}
	j->uid = uid;
	for (size_t k = 0; k < j->n_items; k++)
		if (j->items[k].kind == F_MODSEQ)
			m_condstore_on(s);
	if (j->changedsince != 0) {
		m_condstore_on(s);
		if (vanished) {
			struct seqset set;
			const char *bad;
			seqset_init(&set);
			uint32_t star = s->mb->n ? s->mb->v[s->mb->n - 1].uid : s->mb->next;
			if (seqset_parse(&set, c->args[0].p, c->args[0].len, star, &bad) == SEQSET_OK)
				m_vanished_since(s, j->changedsince, &set);
			seqset_free(&set);
		}
	}
	str_copy(j->tag, sizeof j->tag, c->tag);
	str_copy(j->name, sizeof j->name, c->name);
	s->cont = fetch_cont;
	s->cont_arg = j;
	s->cont_free = job_free;
}

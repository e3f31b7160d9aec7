/*
 * imap/msort.c - SORT, THREAD and their UID forms (RFC 5256; SORT=DISPLAY,
 * RFC 5957).  The search criteria pick the messages (msearch.c); the keys
 * and the threading are imap/sortthread.h's.  A message's header is read
 * only when a key needs it.
 * Runs in: mailbox.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"
#include "imap/msession.h"
#include "imap/sortthread.h"
#include "mail/conf.h"

#define HEADER_MAX	(256u << 10)	/* what a sort key may look at */

/* The header block of message i (up to the blank line, at most
 * HEADER_MAX), into b. */
static void
read_header(struct msession *s, size_t i, struct buf *b)
{
	buf_reset(b);
	int fd = mb_open_msg(s->mb, i);
	if (fd < 0)
		return;
	for (;;) {
		size_t room;
		uint8_t *w = buf_space(b, 16384, &room);
		if (room == 0)
			break;
		ssize_t r = read(fd, w, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf_commit(b, (size_t)r);
		if (memmem(b->data, b->len, "\n\n", 2) != NULL ||
		    memmem(b->data, b->len, "\r\n\r\n", 4) != NULL)
			break;
	}
	close(fd);
}

/* One record per matching message, with what need asks for. */
static struct sort_rec *
records(struct msession *s, const struct m_matches *mt, unsigned need, bool with_size)
{
	struct sort_rec *r = xcalloc(mt->n ? mt->n : 1, sizeof *r);
	struct buf hdr;
	buf_init(&hdr, HEADER_MAX);
	for (size_t k = 0; k < mt->n; k++) {
		size_t i = mt->idx[k];
		struct sort_msg m = {
			.seq = (uint32_t)(i + 1), .uid = s->mb->v[i].uid,
			.internaldate = mb_internaldate(s->mb, i),
			.size = with_size ? mb_vsize(s->mb, i) : 0,
		};
		if (need != 0) {
			read_header(s, i, &hdr);
			m.header = hdr.data ? hdr.data : (const uint8_t *)"";
			m.header_len = hdr.len;
		}
		sort_rec_make(&r[k], &m, need);
	}
	buf_free(&hdr);
	return r;
}

static void
records_free(struct sort_rec *r, size_t n)
{
	for (size_t k = 0; k < n; k++)
		sort_rec_free(&r[k]);
	free(r);
}

void
m_cmd_sort(struct msession *s, struct imap_cmd *c, bool uid)
{
	struct sort_keys keys;
	const char *why = "Invalid sort criteria";
	if (c->n_args < 3 || sort_parse(&c->args[0], &keys, &why) < 0) {
		m_tagged(s, c->tag, "BAD %s", why);
		return;
	}
	const struct imap_arg *a = &c->args[1];
	size_t n = c->n_args - 1;
	if (!m_search_charset(s, c->tag, &a, &n, true))
		return;
	struct m_matches mt;
	if (!m_search_match(s, c->tag, a, n, &mt))
		return;
	bool with_size = false;
	for (size_t k = 0; k < keys.n; k++)
		with_size |= keys.k[k].key == SORT_SIZE;
	struct sort_rec *r = records(s, &mt, sort_need(&keys), with_size);
	uint32_t *order = xcalloc(mt.n ? mt.n : 1, sizeof *order);
	sort_order(r, mt.n, &keys, order);
	struct buf b;
	buf_init(&b, 64u << 20);
	buf_puts(&b, "* SORT");
	for (size_t k = 0; k < mt.n; k++) {
		size_t i = mt.idx[order[k]];
		buf_printf(&b, " %u", uid ? s->mb->v[i].uid : (uint32_t)(i + 1));
	}
	buf_puts(&b, "\r\n");
	if (!b.err)
		io_write(&s->io, b.data, b.len);
	buf_free(&b);
	free(order);
	records_free(r, mt.n);
	free(mt.idx);
	if (uid)
		m_update(s, true);
	m_tagged(s, c->tag, "OK %s completed", c->name);
}

void
m_cmd_thread(struct msession *s, struct imap_cmd *c, bool uid)
{
	int alg = c->n_args >= 3 ? thread_algorithm(&c->args[0]) : -1;
	if (alg < 0) {
		m_tagged(s, c->tag, "BAD THREAD needs ORDEREDSUBJECT or REFERENCES, a charset "
		    "and criteria");
		return;
	}
	const struct imap_arg *a = &c->args[1];
	size_t n = c->n_args - 1;
	if (!m_search_charset(s, c->tag, &a, &n, true))
		return;
	struct m_matches mt;
	if (!m_search_match(s, c->tag, a, n, &mt))
		return;
	struct sort_rec *r = records(s, &mt, thread_need((enum thread_alg)alg), false);
	struct buf b;
	buf_init(&b, 64u << 20);
	buf_puts(&b, "* THREAD ");
	thread_build(r, mt.n, (enum thread_alg)alg, uid, &b);
	if (b.len > 0 && b.data[b.len - 1] == ' ')
		b.len--;	/* no threads: "* THREAD" */
	buf_puts(&b, "\r\n");
	if (!b.err)
		io_write(&s->io, b.data, b.len);
	buf_free(&b);
	records_free(r, mt.n);
	free(mt.idx);
	if (uid)
		m_update(s, true);
	m_tagged(s, c->tag, "OK %s completed", c->name);
}

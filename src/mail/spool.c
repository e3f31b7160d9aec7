/*
 * mail/spool.c - spool file records and trailer, queue IDs.
 * Input:  files written by the smtp worker (less trusted than us).
 * Runs in: smtp worker (encode), queue (decode).
 */
#include "mail/spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/util.h"

static void
put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	buf_append(b, x, 4);
}

static void
put_u64(struct buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)(v >> 32));
	put_u32(b, (uint32_t)v);
}

static void
put_rec(struct buf *b, uint8_t type, const void *p, size_t n)
{
	buf_putc(b, type);
	put_u32(b, (uint32_t)n);
	buf_append(b, p, n);
}

void
spool_encode(struct buf *b, const struct spool_env *env, uint64_t content_len)
{
	size_t start = b->len;
	uint8_t t[8];
	put_rec(b, SPOOL_R_QID, env->qid, strlen(env->qid));
	put_rec(b, SPOOL_R_SESSION, env->session, strlen(env->session));
	for (int i = 0; i < 8; i++)
		t[i] = (uint8_t)(env->time >> (56 - 8 * i));
	put_rec(b, SPOOL_R_TIME, t, 8);
	put_rec(b, SPOOL_R_SENDER, env->sender, strlen(env->sender));
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const struct spool_rcpt *r = &env->rcpts[i];
		size_t ul = strlen(r->user), al = strlen(r->addr);
		buf_putc(b, SPOOL_R_RCPT);
		put_u32(b, (uint32_t)(4 + ul + 1 + al));
		put_u32(b, r->idx);
		buf_append(b, r->user, ul + 1);
		buf_append(b, r->addr, al);
	}
	if (env->header != NULL)
		put_rec(b, SPOOL_R_HEADER, env->header, strlen(env->header));
	for (size_t i = 0; i < env->n_skips; i++) {
		buf_putc(b, SPOOL_R_SKIP);
		put_u32(b, 16);
		put_u64(b, env->skips[i].off);
		put_u64(b, env->skips[i].len);
	}
	if (env->folder[0] != '\0')
		put_rec(b, SPOOL_R_FOLDER, env->folder, strlen(env->folder));
	uint64_t rlen = b->len - start;
	put_u64(b, content_len);
	put_u64(b, rlen);
	buf_append(b, "TALONEND", 8);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

bool
spool_user_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '.' || c == '_' || c == '-'));
		if (!ok)
			return false;
	}
	return true;
}

static bool
text_ok(const uint8_t *p, size_t n)
{
	/* envelope text never contains controls: they would end up in headers */
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

/* Header text we prepend: fields of printable ASCII with tab, LF-ended
 * lines, the first not a continuation. */
static bool
header_ok(const uint8_t *p, size_t n)
{
	if (n == 0 || n > SPOOL_HEADER_MAX || p[n - 1] != '\n' || p[0] == ' ' || p[0] == '\t')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (i > 0 && p[i - 1] == '\n')
				return false;	/* an empty line would end the header */
			continue;
		}
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] > 0x7e)
			return false;
	}
	return true;
}

int
spool_parse_records(const uint8_t *p, size_t len, struct spool_env *out, const char **why)
{
	const uint8_t *end = p + len;
	bool have_qid = false, have_time = false, have_sender = false, have_session = false;

	memset(out, 0, sizeof *out);
	*why = NULL;
	while (p < end && *why == NULL) {
		if (end - p < 5) {
			*why = "truncated record header";
			break;
		}
		uint8_t type = p[0];
		uint32_t n = get_u32(p + 1);
		p += 5;
		if ((size_t)(end - p) < n) {
			*why = "truncated record";
			break;
		}
		switch (type) {
		case SPOOL_R_QID:
			if (have_qid || n == 0 || n > SPOOL_QID_MAX || !text_ok(p, n))
				*why = "bad queue id record";
			else {
				memcpy(out->qid, p, n);
				out->qid[n] = '\0';
				have_qid = spool_qid_valid(out->qid);
				if (!have_qid)
					*why = "bad queue id";
			}
			break;
		case SPOOL_R_SESSION:
			/* once at most, like every envelope record */
			if (have_session || n >= sizeof out->session || !text_ok(p, n))
				*why = "bad session record";
			else {
				memcpy(out->session, p, n);
				out->session[n] = '\0';
				have_session = true;
			}
			break;
		case SPOOL_R_TIME:
			if (have_time || n != 8)
				*why = "bad time record";
			else {
				out->time = get_u64(p);
				have_time = true;
			}
			break;
		case SPOOL_R_SENDER:
			if (have_sender || n > 1024 || !text_ok(p, n))
				*why = "bad sender record";
			else {
				out->sender = xstrndup((const char *)p, n);
				have_sender = true;
			}
			break;
		case SPOOL_R_RCPT: {
			const uint8_t *nul = n > 4 ? memchr(p + 4, '\0', n - 4) : NULL;
			if (nul == NULL || out->n_rcpts >= 10000) {
				*why = "bad recipient record";
				break;
			}
			size_t ul = (size_t)(nul - (p + 4)), al = n - 4 - ul - 1;
			char *user = xstrndup((const char *)p + 4, ul);
			if (!spool_user_valid(user) || al > 1024 || !text_ok(nul + 1, al)) {
				free(user);
				*why = "bad recipient";
				break;
			}
			out->rcpts = xreallocarray(out->rcpts, out->n_rcpts + 1, sizeof *out->rcpts);
			struct spool_rcpt *r = &out->rcpts[out->n_rcpts++];
			r->idx = get_u32(p);
			r->user = user;
			r->addr = xstrndup((const char *)nul + 1, al);
			break;
		}
		case SPOOL_R_HEADER:
			if (out->header != NULL || !header_ok(p, n))
				*why = "bad header record";
			else
				out->header = xstrndup((const char *)p, n);
			break;
		case SPOOL_R_SKIP: {
			uint64_t o = n == 16 ? get_u64(p) : 0, l = n == 16 ? get_u64(p + 8) : 0;
			const struct spool_skip *last = out->n_skips ? &out->skips[out->n_skips - 1] :
			    NULL;
			if (n != 16 || out->n_skips == SPOOL_SKIPS_MAX || l == 0 ||
			    o > UINT64_MAX - l || (last && o < last->off + last->len))
				*why = "bad skip record";
			else
				out->skips[out->n_skips++] = (struct spool_skip){ o, l };
			break;
		}
		case SPOOL_R_FOLDER:
			if (out->folder[0] != '\0' || n != 4 || memcmp(p, "Junk", 4) != 0)
				*why = "bad folder record";
			else
				memcpy(out->folder, "Junk", 5);
			break;
		default:
			*why = "unknown record type";
			break;
		}
		p += n;
	}
	if (*why == NULL && (!have_qid || !have_time || !have_sender || out->n_rcpts == 0))
		*why = "incomplete envelope";
	/* one copy per index: a repeated one would deliver twice, or hide a
	 * recipient behind another's result */
	if (*why == NULL && out->n_rcpts > 1) {
		uint32_t *ix = xcalloc(out->n_rcpts, sizeof *ix);
		for (size_t i = 0; i < out->n_rcpts; i++)
			ix[i] = out->rcpts[i].idx;
		qsort(ix, out->n_rcpts, sizeof *ix, cmp_u32);
		for (size_t i = 1; i < out->n_rcpts; i++)
			if (ix[i] == ix[i - 1])
				*why = "repeated recipient index";
		free(ix);
	}
	if (*why != NULL) {
		spool_env_free(out);
		return -1;
	}
	return 0;
}

int
spool_read(int fd, uint64_t file_size, struct spool_env *out,
    uint64_t *content_off, uint64_t *content_len, const char **why)
{
	/* One pread of the file's tail usually holds the trailer and the
	 * records, and for a small message the magic too: 1 read instead of
	 * 3 (the queue and deliver both read every file). */
	enum { TAIL = 8192 };
	uint8_t tail[TAIL];

	memset(out, 0, sizeof *out);
	if (file_size < SPOOL_MAGIC_LEN + SPOOL_TRAILER_LEN) {
		*why = "file too short";
		return -1;
	}
	size_t tn = file_size < TAIL ? (size_t)file_size : TAIL;
	uint64_t toff = file_size - tn;	/* file offset of tail[0] */
	if (pread(fd, tail, tn, (off_t)toff) != (ssize_t)tn) {
		*why = "short read";
		return -1;
	}
	uint8_t magic[SPOOL_MAGIC_LEN];
	const uint8_t *mp = tail;
	if (toff > 0) {
		if (pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic) {
			*why = "bad magic";
			return -1;
		}
		mp = magic;
	}
	if (memcmp(mp, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != 0) {
		*why = "bad magic";
		return -1;
	}
	const uint8_t *tr = tail + tn - SPOOL_TRAILER_LEN;
	if (memcmp(tr + 16, "TALONEND", 8) != 0) {
		*why = "no trailer (torn file)";
		return -1;
	}
	uint64_t clen = get_u64(tr), rlen = get_u64(tr + 8);
	if (rlen > SPOOL_RECORDS_MAX || clen > file_size ||
	    SPOOL_MAGIC_LEN + clen + rlen + SPOOL_TRAILER_LEN != file_size) {
		*why = "trailer lengths do not add up";
		return -1;
	}
	uint64_t roff = SPOOL_MAGIC_LEN + clen;	/* file offset of the records */
	int rc;
	if (roff >= toff) {
		rc = spool_parse_records(tail + (roff - toff), (size_t)rlen, out, why);
	} else {
		uint8_t *rec = xmalloc(rlen ? (size_t)rlen : 1);
		if (pread(fd, rec, (size_t)rlen, (off_t)roff) != (ssize_t)rlen) {
			free(rec);
			*why = "short read";
			return -1;
		}
		rc = spool_parse_records(rec, (size_t)rlen, out, why);
		free(rec);
	}
	if (rc == 0 && out->n_skips > 0) {
		const struct spool_skip *last = &out->skips[out->n_skips - 1];
		if (last->off + last->len > clen) {
			spool_env_free(out);
			*why = "skip beyond the content";
			return -1;
		}
	}
	*content_off = SPOOL_MAGIC_LEN;
	*content_len = clen;
	return rc;
}

void
spool_env_free(struct spool_env *env)
{
	for (size_t i = 0; i < env->n_rcpts; i++) {
		free(env->rcpts[i].user);
		free(env->rcpts[i].addr);
	}
	free(env->rcpts);
	free(env->sender);
	free(env->header);
	env->header = NULL;
	env->n_skips = 0;
	env->rcpts = NULL;
	env->sender = NULL;
	env->n_rcpts = 0;
}

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void
spool_new_qid(char out[SPOOL_QID_MAX + 1])
{
	/* 11 chars of microseconds since the epoch (55 bits), then 2 chars of
	 * a per-process counter: unique within the one queue process that
	 * hands them out, and ordered by arrival. */
	static uint64_t last;
	static unsigned ctr;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	uint64_t us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	if (us <= last)
		us = last + 1;
	last = us;
	ctr = (ctr + 1) & 1023;
	for (int i = 10; i >= 0; i--) {
		out[i] = b32[us & 31];
		us >>= 5;
	}
	out[11] = b32[(ctr >> 5) & 31];
	out[12] = b32[ctr & 31];
	out[13] = '\0';
}

bool
spool_qid_valid(const char *s)
{
	size_t n = strlen(s);
	if (n != SPOOL_QID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr(b32, s[i]) == NULL || s[i] == '\0')
			return false;
	return true;
}

static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 0x811c9dc5u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x01000193u;
	return h;
}

void
spool_result_encode(struct buf *b, const struct spool_result *r)
{
	size_t tl = strnlen(r->text, SPOOL_RESULT_TEXT_MAX);
	size_t start = b->len;
	put_u32(b, 0);	/* length, filled in below */
	put_u32(b, 0);	/* checksum */
	put_u32(b, r->idx);
	buf_putc(b, r->status);
	put_u32(b, r->attempts);
	put_u64(b, r->time);
	buf_append(b, r->text, tl);
	if (b->err)
		return;
	uint32_t len = (uint32_t)(b->len - start - 8);
	uint32_t sum = fnv1a(b->data + start + 8, len);
	uint8_t *h = b->data + start;
	for (int i = 0; i < 4; i++) {
		h[i] = (uint8_t)(len >> (24 - 8 * i));
		h[4 + i] = (uint8_t)(sum >> (24 - 8 * i));
	}
}

size_t
spool_results_parse(const uint8_t *p, size_t len,
    void (*fn)(const struct spool_result *r, void *arg), void *arg)
{
	size_t off = 0;
	while (len - off >= 8) {
		uint32_t n = get_u32(p + off), sum = get_u32(p + off + 4);
		const uint8_t *body = p + off + 8;
		if (n < 17 || n > 17 + SPOOL_RESULT_TEXT_MAX || n > len - off - 8 ||
		    fnv1a(body, n) != sum)
			break;
		struct spool_result r;
		r.idx = get_u32(body);
		r.status = body[4];
		r.attempts = get_u32(body + 5);
		r.time = get_u64(body + 9);
		size_t tl = n - 17;	/* after u32, u8, u32, u64 */
		if (r.status < SPOOL_ST_DONE || r.status > SPOOL_ST_FAILED ||
		    memchr(body + 17, '\0', tl) != NULL)
			break;
		memcpy(r.text, body + 17, tl);
		r.text[tl] = '\0';
		fn(&r, arg);
		off += 8 + n;
	}
	return off;
}

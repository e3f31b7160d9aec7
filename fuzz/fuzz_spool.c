/*
 * fuzz/fuzz_spool.c - spool files and results files (the queue reads files
 * an smtp worker wrote, and trusts it only as far as these checks go).
 *
 * Input:   arbitrary bytes, used three ways: as a whole spool file (written
 *          into a memfd, read back with spool_read, the way the queue and
 *          the deliverer read one), as a bare records area
 *          (spool_parse_records) and as a results file (spool_results_parse).
 * Checks:  spool_read:  0 exactly when *why is NULL; a failure leaves
 *          nothing to free.  When it accepts: the magic and "TALONEND" are
 *          where the format puts them, content_off == SPOOL_MAGIC_LEN,
 *          content_off + content_len <= size, the trailer's lengths are the
 *          ones reported, and the envelope is the one spool_parse_records
 *          makes of the records area alone.
 *          Every accepted envelope (from either entry point): a valid queue
 *          id, a sender, at least one recipient, user names that are safe
 *          path components (spool_user_valid), no control characters
 *          (CR and LF included) in sender, addresses or session, distinct
 *          recipient indices.
 *          Round trip: spool_encode(env, content_len) parses back to the
 *          same envelope and re-encodes to the same bytes; when the input's
 *          records are in the order spool_encode writes them (QID, SESSION,
 *          TIME, SENDER, RCPT...) the encoding is byte for byte the input's
 *          records + trailer (the last bytes of the file).  The parser also
 *          takes records in any order and without a SESSION record, so for
 *          other inputs only the envelope is compared.
 *          Results: accepted records have a valid status and a short text,
 *          the accepted prefix lies within the input, and re-encoding the
 *          accepted records with spool_result_encode gives exactly that
 *          prefix.
 * Seeds:   fuzz/corpus/spool/, dictionary fuzz/spool.dict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/buf.h"
#include "mail/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* envelope text never holds controls: they would end up in headers/logs */
static bool
clean_text(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void
check_env(const struct spool_env *env)
{
	if (!spool_qid_valid(env->qid))
		abort();
	if (strnlen(env->session, sizeof env->session) >= sizeof env->session ||
	    !clean_text(env->session))
		abort();
	if (env->sender == NULL || !clean_text(env->sender) ||
	    strchr(env->sender, '\n') != NULL || strchr(env->sender, '\r') != NULL)
		abort();
	if (env->n_rcpts == 0 || env->rcpts == NULL)
		abort();
	uint32_t *ix = malloc(env->n_rcpts * sizeof *ix);
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const struct spool_rcpt *r = &env->rcpts[i];
		/* whatever parses must be safe to build paths and headers from */
		if (r->user == NULL || r->addr == NULL || !spool_user_valid(r->user))
			abort();
		if (strchr(r->addr, '\n') != NULL || strchr(r->addr, '\r') != NULL ||
		    !clean_text(r->addr))
			abort();
		ix[i] = r->idx;
	}
	/* one copy per index, or a recipient is delivered twice */
	qsort(ix, env->n_rcpts, sizeof *ix, cmp_u32);
	for (size_t i = 1; i < env->n_rcpts; i++)
		if (ix[i] == ix[i - 1])
			abort();
	free(ix);
}

static void
check_failed_env(const struct spool_env *env, const char *why)
{
	/* a refused file leaves nothing for the caller to free */
	if (why == NULL || env->sender != NULL || env->rcpts != NULL || env->n_rcpts != 0)
		abort();
}

static void
same_env(const struct spool_env *a, const struct spool_env *b)
{
	if (strcmp(a->qid, b->qid) != 0 || strcmp(a->session, b->session) != 0 ||
	    a->time != b->time || strcmp(a->sender, b->sender) != 0 ||
	    a->n_rcpts != b->n_rcpts)
		abort();
	for (size_t i = 0; i < a->n_rcpts; i++)
		if (a->rcpts[i].idx != b->rcpts[i].idx ||
		    strcmp(a->rcpts[i].user, b->rcpts[i].user) != 0 ||
		    strcmp(a->rcpts[i].addr, b->rcpts[i].addr) != 0)
			abort();
}

/* Are the (already accepted) records in p..p+len in spool_encode's order:
 * QID, SESSION, TIME, SENDER, then only RCPTs? */
static bool
canonical_order(const uint8_t *p, size_t len)
{
	static const uint8_t head[] = { SPOOL_R_QID, SPOOL_R_SESSION, SPOOL_R_TIME, SPOOL_R_SENDER };
	size_t k = 0;
	while (len >= 5) {
		uint32_t n = be32(p + 1);
		if (k < sizeof head ? p[0] != head[k] : p[0] != SPOOL_R_RCPT)
			return false;
		k++;
		if (n > len - 5)
			abort();	/* the parser accepted a truncated record */
		p += 5 + n;
		len -= 5 + n;
	}
	if (len != 0)
		abort();
	return k > sizeof head;
}

/*
 * Re-encode env; it must parse back to itself and re-encode identically.
 * When the input's records (recs, rlen bytes) are in canonical order, the
 * encoding must start with exactly those bytes, and when the input has a
 * trailer (tr, 24 bytes; NULL for a bare records area) end with it.
 */
static void
round_trip(const struct spool_env *env, uint64_t clen, const uint8_t *recs, size_t rlen,
    const uint8_t *tr)
{
	struct buf b, b2;
	buf_init(&b, 0);
	buf_init(&b2, 0);
	spool_encode(&b, env, clen);
	if (b.err || b.len < SPOOL_TRAILER_LEN)
		abort();
	const uint8_t *btr = b.data + b.len - SPOOL_TRAILER_LEN;
	size_t blen = b.len - SPOOL_TRAILER_LEN;
	if (be64(btr) != clen || be64(btr + 8) != blen || memcmp(btr + 16, "TALONEND", 8) != 0)
		abort();
	if (canonical_order(recs, rlen) && (blen != rlen || memcmp(b.data, recs, rlen) != 0 ||
	    (tr != NULL && memcmp(btr, tr, SPOOL_TRAILER_LEN) != 0)))
		abort();

	struct spool_env back;
	const char *why;
	if (spool_parse_records(b.data, blen, &back, &why) != 0 || why != NULL)
		abort();
	same_env(env, &back);
	spool_encode(&b2, &back, clen);
	if (b2.err || b2.len != b.len || memcmp(b2.data, b.data, b.len) != 0)
		abort();
	spool_env_free(&back);
	buf_free(&b);
	buf_free(&b2);
}

static void
whole_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (fd < 0) {
		fd = memfd_create("fuzz_spool", MFD_CLOEXEC);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
	}
	if (ftruncate(fd, (off_t)size) != 0)
		abort();
	for (size_t off = 0; off < size;) {
		ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}

	struct spool_env env;
	uint64_t coff = 0xdead, clen = 0xbeef;
	const char *why = "not set";
	int rc = spool_read(fd, size, &env, &coff, &clen, &why);
	if (rc != 0) {
		if (rc != -1)
			abort();
		check_failed_env(&env, why);
		return;
	}
	if (why != NULL)
		abort();	/* callers test why == NULL after success */
	if (coff != SPOOL_MAGIC_LEN || clen > size - coff ||
	    size - coff - clen < SPOOL_TRAILER_LEN)
		abort();
	size_t rlen = (size_t)(size - coff - clen - SPOOL_TRAILER_LEN);
	const uint8_t *recs = data + coff + clen;
	const uint8_t *tr = data + size - SPOOL_TRAILER_LEN;
	if (memcmp(data, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != 0 ||
	    memcmp(tr + 16, "TALONEND", 8) != 0 || be64(tr) != clen || be64(tr + 8) != rlen ||
	    rlen > SPOOL_RECORDS_MAX)
		abort();
	check_env(&env);

	/* the same records, parsed from memory, give the same envelope */
	uint8_t *copy = malloc(rlen ? rlen : 1);
	memcpy(copy, recs, rlen);
	struct spool_env env2;
	const char *why2;
	if (spool_parse_records(copy, rlen, &env2, &why2) != 0 || why2 != NULL)
		abort();
	same_env(&env, &env2);
	spool_env_free(&env2);
	free(copy);

	round_trip(&env, clen, recs, rlen, tr);
	spool_env_free(&env);
	if (env.rcpts != NULL || env.sender != NULL || env.n_rcpts != 0)
		abort();
}

struct results {
	size_t n;
	struct buf enc;
};

static void
check_result(const struct spool_result *r, void *arg)
{
	struct results *res = arg;
	if (r->status < SPOOL_ST_DONE || r->status > SPOOL_ST_FAILED ||
	    strlen(r->text) > SPOOL_RESULT_TEXT_MAX)
		abort();
	spool_result_encode(&res->enc, r);
	res->n++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size copy, so ASan sees any read past the end */
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);

	struct spool_env env;
	const char *why = "not set";
	int rc = spool_parse_records(copy, size, &env, &why);
	if (rc == 0) {
		if (why != NULL)
			abort();
		check_env(&env);
		round_trip(&env, 0, copy, size, NULL);
		spool_env_free(&env);
	} else if (rc != -1) {
		abort();
	} else {
		check_failed_env(&env, why);
	}

	/* the same bytes as a results file: whatever is accepted re-encodes
	 * to exactly the bytes it came from */
	struct results res = { 0 };
	buf_init(&res.enc, 0);
	size_t ok = spool_results_parse(copy, size, check_result, &res);
	if (ok > size || (res.n == 0) != (ok == 0))
		abort();
	if (res.enc.err || res.enc.len != ok || (ok > 0 && memcmp(res.enc.data, copy, ok) != 0))
		abort();
	buf_free(&res.enc);
	free(copy);

	whole_file(data, size);
	return 0;
}

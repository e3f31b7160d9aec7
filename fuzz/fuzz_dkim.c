/*
 * fuzz/fuzz_dkim.c - libFuzzer harness for DKIM verification
 * (msgauth/dkim*.c) and its parsers.
 *
 * Input:   byte 0 seeds the piece sizes; then a message; optionally, after
 *          a line "--key--", TXT records separated by such lines, handed
 *          to dkim_verify_key for signature i (record i % n).  The whole
 *          input also goes to the tag-list, signature and key parsers.
 * Checks:  no crash, leak or sanitizer report; results are consistent
 *          (a decided result has no key name; reasons are NUL-terminated);
 *          the verdicts do not depend on how the message was split.
 * Seeds:   fuzz/corpus/dkim/ (RFC 8463 A.3 with its keys, a dkimpy-signed
 *          message, parser inputs).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "msgauth/dkim.h"
#include "msgauth/header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP "\n--key--\n"
#define NOW 1700000000

struct keyrec {
	const uint8_t *p;
	size_t len;
};

/* Run the verifier over msg in pieces chosen by seed; results into r. */
static size_t
run(const uint8_t *msg, size_t len, uint32_t seed, const struct keyrec *k, size_t nk,
    struct dkim_result *r)
{
	struct mhdrs h;
	struct dkim_verify *v = dkim_verify_new(NOW);
	mhdrs_init(&h, 64 * 1024);
	size_t off = 0;
	bool header = true, whole = seed == 0;
	while (off < len) {
		seed = seed * 1103515245u + 12345u;
		size_t n = whole ? len - off : 1 + (seed >> 16) % 64;
		if (n > len - off)
			n = len - off;
		const uint8_t *p = msg + off;
		off += n;
		if (header) {
			size_t t = mhdrs_feed(&h, p, n);
			if (!h.done)
				continue;
			header = false;
			dkim_verify_header(v, &h);
			p += t;
			n -= t;
		}
		dkim_verify_body(v, p, n);
	}
	if (header) {
		mhdrs_end(&h);
		dkim_verify_header(v, &h);
	}
	dkim_verify_finish(v);
	size_t cnt = dkim_verify_count(v);
	assert(cnt <= DKIM_RESULTS_MAX);
	for (size_t i = 0; i < cnt; i++) {
		const char *name = dkim_verify_key_name(v, i);
		if (name != NULL) {
			struct lookup *l = xcalloc(1, sizeof *l);
			lookup_init(l, LOOKUP_TXT, name);
			if (nk == 0)
				l->status = (i & 1) ? LOOKUP_NXDOMAIN : LOOKUP_TEMPFAIL;
			else
				lookup_add(l, 0, k[i % nk].p, k[i % nk].len);
			dkim_verify_key(v, i, l);
			lookup_clear(l);
			free(l);
			assert(dkim_verify_key_name(v, i) == NULL);
		}
		r[i] = *dkim_verify_result(v, i);
		assert(memchr(r[i].why, '\0', sizeof r[i].why) != NULL);
		assert(r[i].res <= DKIM_PERMERROR);
		assert(r[i].res != DKIM_NONE);
	}
	dkim_verify_free(&v);
	mhdrs_free(&h);
	return cnt;
}

static void
parsers(const uint8_t *data, size_t size)
{
	struct dkim_tag t[DKIM_TAGS_MAX];
	size_t n;
	const char *why;
	if (dkim_tags_parse((const char *)data, size, t, DKIM_TAGS_MAX, &n, &why) == 0)
		for (size_t i = 0; i < n; i++)
			assert(t[i].val + t[i].val_len <= (const char *)data + size);
	struct dkim_sig *sig = xmalloc(sizeof *sig);
	(void)dkim_sig_parse(sig, (const char *)data, size, &why);
	free(sig);
	struct dkim_key *k = xmalloc(sizeof *k);
	if (dkim_key_parse(k, data, size, &why) == 0 && !k->revoked) {
		EVP_PKEY *pk = dkim_key_pkey(k, &why);
		EVP_PKEY_free(pk);
	}
	free(k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 256 * 1024)
		return 0;
	uint32_t seed = data[0];
	data++;
	size--;
	parsers(data, size);

	struct keyrec k[8];
	size_t nk = 0, mlen = size;
	const uint8_t *sep = memmem(data, size, SEP, strlen(SEP));
	if (sep != NULL) {
		mlen = (size_t)(sep - data);
		const uint8_t *p = sep + strlen(SEP), *end = data + size;
		while (nk < 8) {
			const uint8_t *q = memmem(p, (size_t)(end - p), SEP, strlen(SEP));
			k[nk++] = (struct keyrec){ p, (size_t)((q ? q : end) - p) };
			if (q == NULL)
				break;
			p = q + strlen(SEP);
		}
	}
	struct dkim_result r1[DKIM_RESULTS_MAX], r2[DKIM_RESULTS_MAX];
	size_t n1 = run(data, mlen, 0, k, nk, r1);
	size_t n2 = run(data, mlen, seed | 1, k, nk, r2);
	assert(n1 == n2);
	for (size_t i = 0; i < n1; i++)
		assert(r1[i].res == r2[i].res && strcmp(r1[i].why, r2[i].why) == 0);
	return 0;
}

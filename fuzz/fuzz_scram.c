/*
 * fuzz/fuzz_scram.c - libFuzzer harness for auth/scram.c: the client-first
 * and client-final parsers, and the server's exchange over them.
 *
 * Input:   byte 0: flags (1 -PLUS chosen, 2 -PLUS offered, 4 the front has
 *          exporter data, 8 the keys are real); then the client-first
 *          message up to the first LF and the client-final message after
 *          it.  Each part is copied into a heap block of exactly its size,
 *          so a read past it is caught.
 * Checks:  no crash or sanitizer report; results in range; what a parser
 *          accepted holds its grammar's promises (the gs2-header ends in
 *          ',', the nonce lies inside the input and is nonce characters,
 *          the user name is printable ASCII and an authzid equals it, the
 *          proof marker ends the final message's first part); a failed
 *          parse leaves nothing behind; the exchange never succeeds on
 *          fake keys and its server-final has the form "v=" + 44 base64
 *          characters.
 * Seeds:   fuzz/corpus/scram/ (RFC 7677's exchange and variants).
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 7677 3's keys, computed once (4096 PBKDF2 rounds) */
static struct user_scram keys;

static void
init_keys(void)
{
	static const uint8_t salt[] = {
		0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
		0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81,
	};
	if (keys.iter == 0)
		assert(scram_keys_make("pencil", salt, sizeof salt, 4096, &keys) == 0);
}

static bool
nonce_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
			return false;
	return n > 0;
}

static void
check_first(const uint8_t *p, size_t n)
{
	struct scram_first f;
	enum scram_rc rc = scram_parse_first(p, n, &f);
	assert(rc <= SCRAM_AUTHZID);
	if (rc != SCRAM_OK) {
		assert(f.user[0] == '\0' && f.gs2_len == 0 && f.nonce_len == 0);
		return;
	}
	size_t ul = strlen(f.user);
	assert(ul > 0 && ul <= SCRAM_USER_MAX);
	for (size_t i = 0; i < ul; i++)
		assert(f.user[i] >= 0x20 && f.user[i] <= 0x7e);
	assert(!f.has_authzid || strcmp(f.authzid, f.user) == 0);
	assert(f.gs2_len >= 3 && f.gs2_len < n && p[f.gs2_len - 1] == ',');
	assert(f.cb == SCRAM_CB_N || f.cb == SCRAM_CB_Y || f.cb == SCRAM_CB_P);
	assert((f.cb == SCRAM_CB_P) == (f.cb_name[0] != '\0'));
	assert(f.nonce_off + f.nonce_len <= n && f.nonce_off > f.gs2_len);
	assert(f.nonce_len <= SCRAM_NONCE_MAX && nonce_ok(p + f.nonce_off, f.nonce_len));
	assert(memcmp(p + f.nonce_off - 2, "r=", 2) == 0);
}

static void
check_final(const uint8_t *p, size_t n)
{
	static struct scram_final f;
	enum scram_rc rc = scram_parse_final(p, n, &f);
	assert(rc == SCRAM_OK || rc == SCRAM_BAD_SYNTAX || rc == SCRAM_TOO_LONG);
	if (rc != SCRAM_OK) {
		assert(f.without_proof_len == 0 && f.cbinput_len == 0 && f.nonce_len == 0);
		return;
	}
	assert(f.without_proof_len + 3 + 44 == n);
	assert(memcmp(p + f.without_proof_len, ",p=", 3) == 0);
	assert(memcmp(p, "c=", 2) == 0 && f.cbinput_len <= SCRAM_CBINPUT_MAX);
	assert(f.nonce_off + f.nonce_len <= f.without_proof_len);
	assert(nonce_ok(p + f.nonce_off, f.nonce_len));
}

static void
exchange(uint8_t flags, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	static struct scram_server x;
	static const uint8_t cb[SCRAM_CB_LEN] = { 0x42 };
	char out[SCRAM_SFINAL_MAX];
	enum scram_rc rc = scram_server_start(&x, a, an, flags & 1, flags & 2,
	    flags & 4 ? cb : NULL);
	if (rc != SCRAM_OK) {
		assert(x.step == SCRAM_STEP_NONE);
		return;
	}
	bool real = flags & 8;
	const char *sf = scram_server_challenge(&x, &keys, real, "srvNonce");
	assert(sf != NULL && strncmp(sf, "r=", 2) == 0 && strlen(sf) < SCRAM_SFIRST_MAX);
	rc = scram_server_final(&x, b, bn, out);
	assert(rc <= SCRAM_STATE && rc != SCRAM_STATE);
	if (rc == SCRAM_OK)
		assert(real && strncmp(out, "v=", 2) == 0 && strlen(out) == 46);
	else
		assert(out[0] == '\0');
	/* one try only */
	assert(scram_server_final(&x, b, bn, out) == SCRAM_STATE);
	scram_server_wipe(&x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_keys();
	if (size == 0)
		return 0;
	uint8_t flags = data[0];
	data++;
	size--;
	const uint8_t *lf = memchr(data, '\n', size);
	size_t an = lf ? (size_t)(lf - data) : size;
	size_t bn = lf ? size - an - 1 : 0;
	uint8_t *a = malloc(an ? an : 1), *b = malloc(bn ? bn : 1);
	assert(a != NULL && b != NULL);
	memcpy(a, data, an);
	if (bn)
		memcpy(b, lf + 1, bn);
	check_first(a, an);
	check_final(b, bn);
	exchange(flags, a, an, b, bn);
	free(a);
	free(b);
	return 0;
}

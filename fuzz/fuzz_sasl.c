/*
 * fuzz/fuzz_sasl.c - libFuzzer harness for auth/sasl.c: SASL PLAIN and the
 * LOGIN steps over strict base64.
 *
 * Input:   any bytes.  PLAIN gets all of them as one response line; LOGIN
 *          gets the part before the first LF as the user name line and the
 *          rest as the password line.
 * Checks:  no crash or sanitizer report (the input sits in a heap block of
 *          exactly its size, so a read past it is caught); results in
 *          range; after a failure the credentials are wiped; after a
 *          success they are non-empty, within the limits, and the input
 *          is the one canonical base64 encoding of what was decoded
 *          (strictness: no second spelling of the same bytes is accepted).
 * Seeds:   fuzz/corpus/sasl/.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Standard base64 with padding of src[0..n) into out (room for it). */
static size_t
enc(const uint8_t *s, size_t n, char *out)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	return o;
}

static bool
is_encoding_of(const uint8_t *line, size_t len, const uint8_t *raw, size_t n)
{
	static char out[4096];
	assert(n <= 3000);
	size_t o = enc(raw, n, out);
	return o == len && memcmp(out, line, len) == 0;
}

static void
check_wiped(const struct sasl_creds *c)
{
	assert(c->user[0] == '\0' && c->pass[0] == '\0');
}

static void
check_creds(const struct sasl_creds *c)
{
	size_t ul = strlen(c->user), pl = strlen(c->pass);
	assert(ul > 0 && ul <= SASL_USER_MAX && pl > 0 && pl <= SASL_PASS_MAX);
}

static void
fuzz_plain(const uint8_t *p, size_t n)
{
	struct sasl_creds c;
	memset(&c, 0x55, sizeof c);
	enum sasl_rc rc = sasl_plain(p, n, &c);
	assert(rc == SASL_OK || rc == SASL_CANCEL || rc == SASL_BAD_BASE64 ||
	    rc == SASL_BAD_SYNTAX || rc == SASL_TOO_LONG || rc == SASL_AUTHZID);
	if (rc == SASL_CANCEL)
		assert(n == 1 && p[0] == '*');
	if (rc != SASL_OK) {
		check_wiped(&c);
		return;
	}
	check_creds(&c);
	/* rebuild the decoded bytes: without authzid, or with it = authcid */
	static uint8_t raw[2 * SASL_USER_MAX + SASL_PASS_MAX + 2];
	size_t ul = strlen(c.user), pl = strlen(c.pass), o = 0;
	raw[o++] = 0;
	memcpy(raw + o, c.user, ul);
	o += ul;
	raw[o++] = 0;
	memcpy(raw + o, c.pass, pl);
	o += pl;
	if (!is_encoding_of(p, n, raw, o)) {
		o = 0;
		memcpy(raw, c.user, ul);
		o = ul;
		raw[o++] = 0;
		memcpy(raw + o, c.user, ul);
		o += ul;
		raw[o++] = 0;
		memcpy(raw + o, c.pass, pl);
		o += pl;
		assert(is_encoding_of(p, n, raw, o));
	}
	sasl_creds_wipe(&c);
}

static void
fuzz_login(const uint8_t *p, size_t n)
{
	struct sasl_login l;
	const uint8_t *lf = memchr(p, '\n', n);
	size_t n1 = lf ? (size_t)(lf - p) : n;
	/* each line in its own exact-size block */
	uint8_t *a = malloc(n1 ? n1 : 1);
	assert(a != NULL);
	memcpy(a, p, n1);
	sasl_login_init(&l);
	assert(strcmp(sasl_login_prompt(&l), SASL_LOGIN_PROMPT_USER) == 0);
	enum sasl_rc rc = sasl_login_step(&l, a, n1);
	if (rc == SASL_MORE) {
		assert(l.c.user[0] != '\0' && strlen(l.c.user) <= SASL_USER_MAX);
		assert(is_encoding_of(a, n1, (const uint8_t *)l.c.user, strlen(l.c.user)));
		assert(strcmp(sasl_login_prompt(&l), SASL_LOGIN_PROMPT_PASS) == 0);
	} else {
		assert(rc != SASL_OK && sasl_login_prompt(&l) == NULL);
		check_wiped(&l.c);
	}
	free(a);
	if (rc != SASL_MORE)
		return;
	size_t n2 = lf ? n - n1 - 1 : 0;
	uint8_t *b = malloc(n2 ? n2 : 1);
	assert(b != NULL);
	if (n2)
		memcpy(b, lf + 1, n2);
	rc = sasl_login_step(&l, b, n2);
	assert(sasl_login_prompt(&l) == NULL);
	if (rc == SASL_OK) {
		check_creds(&l.c);
		assert(is_encoding_of(b, n2, (const uint8_t *)l.c.pass, strlen(l.c.pass)));
	} else {
		assert(rc != SASL_MORE);
		check_wiped(&l.c);
	}
	free(b);
	sasl_creds_wipe(&l.c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	assert(p != NULL);
	memcpy(p, data, size);
	fuzz_plain(p, size);
	free(p);
	fuzz_login(data, size);
	return 0;
}

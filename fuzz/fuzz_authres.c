/*
 * fuzz/fuzz_authres.c - libFuzzer harness for msgauth/authres.c.
 *
 * Input:   byte 0 gives the number of methods (0..3); the rest is split at
 *          0x1e into pieces: the authserv-id, a header value for
 *          authres_is_ours, then method, result, reason and 8 property
 *          name/value pairs per method, taken in order (missing ones are
 *          NULL).  Pieces are C strings: a NUL inside ends one early.
 * Checks:  no crash, leak or sanitizer report; authres_is_ours on the raw
 *          value (an exact-size heap block); authres_format fails only for
 *          an id that is empty, over 255 bytes or not printable ASCII; its
 *          output starts with "Authentication-Results: ", holds only
 *          printable ASCII, the folds "\n\t" and one final "\n", keeps
 *          lines within 998 bytes, and, unfolded, is recognised by
 *          authres_is_ours for the same id (and not for a longer one).
 * Seeds:   fuzz/corpus/authres/, dictionary fuzz/authres.dict.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/authres.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXP	64

static bool
id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || (unsigned char)id[i] > 0x7e)
			return false;
	return true;
}

/* the output's shape; returns the unfolded value after the colon */
static char *
check_output(const struct buf *b)
{
	static const char head[] = "Authentication-Results: ";
	const char *s = (const char *)b->data;
	size_t n = b->len, col = 0, o = 0;
	char *v = malloc(n + 1);

	assert(n > sizeof head && memcmp(s, head, sizeof head - 1) == 0);
	assert(s[n - 1] == '\n');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n') {
			assert(i == n - 1 || s[i + 1] == '\t');
			col = 0;
			continue;	/* unfolding drops the line break */
		}
		assert(c == '\t' ? col == 0 : (c >= 0x20 && c < 0x7f));
		assert(++col <= 998);
		if (i >= sizeof head - 2)
			v[o++] = (char)c;
	}
	v[o] = '\0';
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *piece[MAXP];
	size_t plen[MAXP], np = 0, k = 2;
	struct authres_method m[3];

	if (size < 1)
		return 0;
	size_t n = data[0] % 4;
	const uint8_t *p = data + 1, *end = data + size;
	while (np < MAXP) {
		const uint8_t *sep = memchr(p, 0x1e, (size_t)(end - p));
		size_t l = sep ? (size_t)(sep - p) : (size_t)(end - p);
		piece[np] = malloc(l + 1);
		memcpy(piece[np], p, l);
		piece[np][l] = '\0';
		plen[np++] = l;
		if (sep == NULL)
			break;
		p = sep + 1;
	}
	const char *id = piece[0];
	if (np > 1) {
		/* exact-size copy so ASan sees reads past the value */
		char *v = malloc(plen[1] ? plen[1] : 1);
		memcpy(v, piece[1], plen[1]);
		(void)authres_is_ours(v, plen[1], id);
		free(v);
	}
#define NEXT() (k < np ? piece[k++] : NULL)
	memset(m, 0, sizeof m);
	for (size_t i = 0; i < n; i++) {
		m[i].method = NEXT();
		m[i].result = NEXT();
		m[i].reason = NEXT();
		for (size_t j = 0; j < AUTHRES_PROPS; j++) {
			m[i].props[j][0] = NEXT();
			m[i].props[j][1] = NEXT();
		}
	}
#undef NEXT
	struct buf b;
	buf_init(&b, 1 << 20);
	authres_format(&b, id, m, n);
	assert(b.err == !id_ok(id));
	if (!b.err) {
		char *v = check_output(&b);
		assert(authres_is_ours(v, strlen(v), id));
		char longer[300];
		memcpy(longer, id, strlen(id));
		memcpy(longer + strlen(id), "x", 2);
		assert(!authres_is_ours(v, strlen(v), longer));
		free(v);
	}
	buf_free(&b);
	for (size_t i = 0; i < np; i++)
		free(piece[i]);
	return 0;
}

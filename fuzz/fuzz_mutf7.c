/*
 * fuzz/fuzz_mutf7.c - libFuzzer harness for modified UTF-7 and the
 * mailbox-name mapping (imap/mutf7.c).
 *
 * Input:   any bytes, used three ways: as modified UTF-7, as UTF-8, and
 *          as a mailbox name.
 * Checks:  no crash, leak or sanitizer report; a successful decode is
 *          canonical (encode(decode(x)) == x byte for byte); a successful
 *          encode decodes back to the input; a name mailbox_name_check
 *          accepts maps to a directory without '/' that maps back to the
 *          name (INBOX's first level uppercased); outputs are
 *          NUL-terminated within the size given.
 * Seeds:   fuzz/corpus/mutf7/ (the unit tests' pairs and refusals).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "imap/mutf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoding: each input byte gives at most 9/8 output bytes (8 base64
 * characters carry 3 UTF-16 units, each at most 3 bytes of UTF-8). */
static void
check_decode(const char *in, size_t len)
{
	size_t dsz = len * 2 + 1, esz = len + 1;
	char *dec = malloc(dsz), *enc = malloc(esz);
	const char *why = NULL;
	int n = mutf7_decode(in, len, dec, dsz, &why);
	if (n >= 0) {
		assert(why == NULL && (size_t)n < dsz && dec[n] == '\0');
		/* the canonical form is never longer than the input */
		int m = mutf7_encode(dec, (size_t)n, enc, esz, &why);
		assert(m == (int)len && memcmp(enc, in, len) == 0 && enc[m] == '\0');
	} else {
		assert(why != NULL && strcmp(why, "output buffer too small") != 0);
	}
	free(dec);
	free(enc);
}

/* Encoding: each UTF-8 byte gives at most 5 ("\x01" -> "&AAE-"). */
static void
check_encode(const char *in, size_t len)
{
	size_t esz = len * 5 + 1, dsz = len + 1;
	char *enc = malloc(esz), *dec = malloc(dsz);
	const char *why = NULL;
	int n = mutf7_encode(in, len, enc, esz, &why);
	if (n >= 0) {
		assert(why == NULL && enc[n] == '\0');
		int m = mutf7_decode(enc, (size_t)n, dec, dsz, &why);
		assert(m == (int)len && memcmp(dec, in, len) == 0);
	} else {
		assert(why != NULL && strcmp(why, "invalid UTF-8") == 0);
	}
	free(enc);
	free(dec);
}

static void
check_name(const char *in, size_t len)
{
	char name[MAILBOX_NAME_MAX + 1], dir[MAILBOX_DIR_MAX + 1], back[MAILBOX_NAME_MAX + 1];
	const char *why = mailbox_name_check(in, len);
	if (why != NULL || len > MAILBOX_NAME_MAX)
		return;
	/* accepted names hold no NUL (a control), so they are C strings */
	assert(memchr(in, '\0', len) == NULL);
	memcpy(name, in, len);
	name[len] = '\0';
	int n = mutf7_encode(in, len, dir, sizeof dir, NULL);
	assert(n >= 0);
	n = mailbox_to_dir(name, dir, sizeof dir);
	assert(n >= 0 && n <= MAILBOX_DIR_MAX && strchr(dir, '/') == NULL);
	int m = dir_to_mailbox(dir, back, sizeof back);
	assert(m == (int)len);
	if (len >= 5 && ascii_memcaseeq(name, "INBOX", 5) && (len == 5 || name[5] == '/'))
		assert(memcmp(back, "INBOX", 5) == 0 && strcmp(back + 5, name + 5) == 0);
	else
		assert(strcmp(back, name) == 0);
}

/* Arbitrary text as a directory name: whatever comes back must map to
 * exactly that directory again. */
static void
check_dir(const char *in, size_t len)
{
	char dir[MAILBOX_DIR_MAX + 2], name[MAILBOX_NAME_MAX + 1], again[MAILBOX_DIR_MAX + 1];
	if (len > MAILBOX_DIR_MAX + 1 || memchr(in, '\0', len) != NULL)
		return;
	memcpy(dir, in, len);
	dir[len] = '\0';
	int n = dir_to_mailbox(dir, name, sizeof name);
	if (n < 0)
		return;
	assert(mailbox_name_check(name, (size_t)n) == NULL);
	assert(mailbox_to_dir(name, again, sizeof again) >= 0 && strcmp(again, dir) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	check_decode(in, size);
	check_encode(in, size);
	check_name(in, size);
	check_dir(in, size);
	return 0;
}

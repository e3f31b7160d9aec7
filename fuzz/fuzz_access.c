/*
 * fuzz/fuzz_access.c - libFuzzer harness for the access map
 * (policy/access.c): the parser, and lookups of keys from the input.
 *
 * Input:   an access map's text.  Every line's first token (and the whole
 *          line) is then looked up with every tag, on the parsed map or,
 *          when the input has errors, on a fixed map with every key form.
 * Checks:  no crash, leak or sanitizer report; every message has the
 *          "f:" form; a result's code is 0 or 4xx/5xx, its text printable
 *          ASCII, its line within the file, its key non-empty.
 * Seeds:   fuzz/corpus/access/ (the sample, the unit tests' maps, errors).
 */
#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "policy/access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char FIXED[] =
    "From:friend@blocked.example OK\nblocked.example REJECT\nConnect:192.0.2 OK\n"
    "192.0.2.66 REJECT\n.sub.example.net SKIP\nspammer@ ERROR:5.7.1:550 no\n"
    "user+*@plus.example 450 busy\nIPv6:2001:db8:1 REJECT\nIPv6:2001:db8::/32 OK\n"
    "10.0.0.0/8 DISCARD\n[198.51.100.99] REJECT\nSpam:abuse@ FRIEND\n"
    "To:x.example RELAY\n";

static void
check_result(bool found, const struct access_result *r, unsigned lines)
{
	if (!found) {
		assert(r->action == ACCESS_NONE && r->line == 0);
		return;
	}
	assert(r->action != ACCESS_NONE && r->line >= 1 && r->line <= lines);
	assert(r->key[0] != '\0' && r->file != NULL);
	assert(r->code == 0 || (r->code >= 400 && r->code <= 559));
	assert(strlen(r->esc) < sizeof r->esc);
	for (const char *p = r->text; *p; p++)
		assert(*p >= 0x20 && *p < 0x7f);
}

static void
lookups(const struct access_map *m, const char *key, unsigned lines)
{
	struct access_result r;
	for (int t = ACCESS_CONNECT; t <= ACCESS_SPAM; t++)
		check_result(access_test(m, (enum access_tag)t, key, &r), &r, lines);
	check_result(access_rcpt(m, key, false, &r), &r, lines);
	check_result(access_spam_rcpt(m, key, false, &r), &r, lines);
	/* the key as a verified host name of two clients */
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET, "192.0.2.66", &sin.sin_addr);
	inet_pton(AF_INET6, "2001:db8:1::1", &sin6.sin6_addr);
	check_result(access_connect(m, (struct sockaddr *)&sin, key, &r), &r, lines);
	check_result(access_connect(m, (struct sockaddr *)&sin6, key, &r), &r, lines);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	diag_init(&d);
	struct access_map *m = access_parse((const char *)data, size, "f", &d);
	const char *t = diag_text(&d);
	while (*t) {
		assert(strncmp(t, "f:", 2) == 0);
		const char *nl = strchr(t, '\n');
		assert(nl != NULL);
		t = nl + 1;
	}
	unsigned lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	struct diag d2;
	diag_init(&d2);
	const struct access_map *use = m;
	struct access_map *fixed = NULL;
	if (m == NULL) {
		fixed = access_parse(FIXED, sizeof FIXED - 1, "fixed", &d2);
		assert(fixed != NULL);
		use = fixed;
		lines = 100;
	}
	/* keys: each line whole and its first token, NUL-terminated copies;
	 * the first 64 lines only, so that big inputs stay fast to run */
	char *copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	unsigned n_keys = 0;
	for (char *p = copy; p != NULL && p < copy + size && n_keys++ < 64; ) {
		char *nl = memchr(p, '\n', (size_t)(copy + size - p));
		if (nl != NULL)
			*nl = '\0';
		lookups(use, p, lines);
		char *sp = strpbrk(p, " \t");
		if (sp != NULL) {
			*sp = '\0';
			lookups(use, p, lines);
		}
		p = nl ? nl + 1 : NULL;
	}
	free(copy);
	access_free(&m);
	access_free(&fixed);
	diag_free(&d);
	diag_free(&d2);
	return 0;
}

/*
 * fuzz/fuzz_addr.c - libFuzzer harness for smtp/addr.c (paths, domains,
 * address literals).
 *
 * Input:   arbitrary bytes, used as a MAIL/RCPT path and as a bare domain.
 * Checks:  the input sits in an exact-size heap block (ASan sees any read
 *          past len) and is parsed as MAIL and RCPT, with and without
 *          SMTPUTF8.  An accepted path must: end in '>' within the input
 *          and 256 bytes, carry no control bytes, have a domain the
 *          domain/literal validators accept, print (smtp_path_str) to a
 *          text that re-parses in <> to the same path, agree between MAIL
 *          and RCPT except for <> and <Postmaster>, and parse the same
 *          with SMTPUTF8 when it did without (and vice versa when no byte
 *          >= 0x80 was read).  A valid domain must also work inside a path.
 * Seeds:   fuzz/corpus/addr/, dictionary fuzz/addr.dict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct res {
	enum smtp_addr_err err;
	struct smtp_path path;
	size_t consumed;
};

static void
parse(const char *p, size_t len, bool rev, bool utf8, struct res *r)
{
	r->err = smtp_path_parse(p, len, rev, utf8, &r->path, &r->consumed);
}

static bool
same(const struct res *a, const struct res *b)
{
	return a->err == b->err && a->consumed == b->consumed
	    && memcmp(&a->path, &b->path, sizeof a->path) == 0;
}

static bool
clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static void
check_ok(const char *in, size_t len, bool rev, bool utf8, const struct res *r)
{
	const struct smtp_path *pa = &r->path;
	char txt[SMTP_PATH_MAX * 2], small[7];

	if (r->consumed < 2 || r->consumed > len || r->consumed > SMTP_PATH_MAX
	    || in[0] != '<' || in[r->consumed - 1] != '>')
		abort();
	if (strlen(pa->local) > SMTP_LOCAL_MAX || strlen(pa->domain) > SMTP_DOMAIN_MAX
	    || !clean(pa->local) || !clean(pa->domain))
		abort();
	if (pa->is_utf8 && !utf8)
		abort();
	if (pa->is_null) {
		if (!rev || pa->local[0] != '\0' || pa->domain[0] != '\0' || r->consumed != 2)
			abort();
		return;
	}
	if (pa->is_postmaster) {
		if (rev || pa->domain[0] != '\0' || strlen(pa->local) != 10)
			abort();
		return;
	}
	size_t dlen = strlen(pa->domain);
	if (pa->is_literal ? !smtp_addr_literal_valid(pa->domain, dlen)
	    : !smtp_domain_valid(pa->domain, dlen, utf8))
		abort();
	if (pa->local[0] == '\0' || (pa->local[0] == '"' && !pa->is_quoted))
		abort();

	/* canonical text round trip, in an exact-size block */
	smtp_path_str(pa, txt, sizeof txt);
	size_t n = strlen(txt) + 2;
	char *w = malloc(n);
	w[0] = '<';
	memcpy(w + 1, txt, n - 2);
	w[n - 1] = '>';
	struct res again;
	parse(w, n, rev, utf8, &again);
	if (again.err != SMTP_ADDR_OK || again.consumed != n
	    || strcmp(again.path.local, pa->local) != 0
	    || strcmp(again.path.domain, pa->domain) != 0
	    || again.path.is_literal != pa->is_literal || again.path.is_utf8 != pa->is_utf8)
		abort();
	free(w);

	/* truncation keeps a terminated prefix */
	smtp_path_str(pa, small, sizeof small);
	if (strlen(small) >= sizeof small || strncmp(small, txt, strlen(small)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = calloc(size ? size : 1, 1);	/* exact size */
	if (size > 0)
		memcpy(in, data, size);

	struct res r[2][2];	/* [rev][utf8] */
	for (int rev = 0; rev < 2; rev++) {
		for (int u = 0; u < 2; u++) {
			parse(in, size, rev, u, &r[rev][u]);
			if (r[rev][u].err == SMTP_ADDR_OK)
				check_ok(in, size, rev, u, &r[rev][u]);
			else if (r[rev][u].consumed != 0)
				abort();
		}
	}
	for (int rev = 0; rev < 2; rev++) {
		/* SMTPUTF8 only ever adds: what passed without it passes the
		 * same with it */
		if (r[rev][0].err == SMTP_ADDR_OK && !same(&r[rev][0], &r[rev][1]))
			abort();
		/* and it changes nothing for an all-ASCII path */
		bool ascii = true;
		for (size_t i = 0; i < r[rev][1].consumed; i++)
			if ((unsigned char)in[i] >= 0x80)
				ascii = false;
		if (r[rev][1].err == SMTP_ADDR_OK && ascii && !same(&r[rev][0], &r[rev][1]))
			abort();
	}
	for (int u = 0; u < 2; u++) {
		/* MAIL and RCPT differ only on <> and <Postmaster> */
		const struct res *m = &r[1][u], *t = &r[0][u];
		if (m->err == SMTP_ADDR_OK && !m->path.is_null && !same(m, t))
			abort();
		if (t->err == SMTP_ADDR_OK && !t->path.is_postmaster && !same(m, t))
			abort();
	}

	/* the whole input as a domain: a valid one must work in a path */
	for (int u = 0; u < 2; u++) {
		if (smtp_domain_valid(in, size, u)) {
			if (size > SMTP_DOMAIN_MAX)
				abort();
			if (size + 4 <= SMTP_PATH_MAX) {
				char *w = malloc(size + 4);
				memcpy(w, "<a@", 3);
				memcpy(w + 3, in, size);
				w[size + 3] = '>';
				struct res x;
				parse(w, size + 4, true, u, &x);
				if (x.err != SMTP_ADDR_OK || x.consumed != size + 4 || x.path.is_literal)
					abort();
				free(w);
			}
		}
	}
	if (smtp_addr_literal_valid(in, size) && (size < 9 || in[0] != '[' || in[size - 1] != ']'))
		abort();

	free(in);
	return 0;
}

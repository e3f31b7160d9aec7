/*
 * fuzz/fuzz_uidlist.c - libFuzzer harness for store/uidlist.c.
 *
 * Input:   arbitrary bytes as a dovecot-uidlist file.
 * Checks:  no crash, leak or sanitizer report; every report has a line
 *          number within the file; a parsed list has UIDVALIDITY, uids
 *          strictly increasing below next, every entry found by uid and by
 *          name; formatting it and parsing that again gives the same list
 *          with nothing damaged, and formats to the same bytes.
 * Seeds:   fuzz/corpus/uidlist/ (the unit tests' files).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "store/uidlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	unsigned max_line;
	unsigned n;
};

static void
on_report(void *arg, unsigned line, const char *why)
{
	struct seen *s = arg;
	assert(line >= 1 && line <= s->max_line);
	assert(why != NULL && why[0] != '\0');
	s->n++;
}

static void
check_list(const struct uidlist *u)
{
	assert(u->validity != 0);
	for (size_t k = 0; k < u->n; k++) {
		const struct uidlist_entry *e = &u->v[k];
		assert(e->uid != 0 && e->uid < u->next);
		assert(k == 0 || u->v[k - 1].uid < e->uid);
		assert(uidlist_find_uid(u, e->uid) == e);
		assert(uidlist_find_name(u, e->name) == e);
	}
}

static void
check_same(const struct uidlist *a, const struct uidlist *b)
{
	assert(a->validity == b->validity && a->next == b->next);
	assert(strcmp(a->guid, b->guid) == 0);
	assert(strcmp(a->hdr_extra, b->hdr_extra) == 0);
	assert(a->n == b->n);
	for (size_t k = 0; k < a->n; k++) {
		assert(a->v[k].uid == b->v[k].uid);
		assert(strcmp(a->v[k].name, b->v[k].name) == 0);
		assert(strcmp(a->v[k].ext, b->v[k].ext) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { 1, 0 };
	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n' && s.max_line < UINT32_MAX)
			s.max_line++;
	struct uidlist a, b;
	int rc = uidlist_parse((const char *)data, size, &a, on_report, &s);
	assert(s.n <= UIDLIST_REPORT_MAX + 1);
	if (rc != UIDLIST_OK) {
		assert(rc == UIDLIST_REBUILD && a.n == 0 && s.n == 1);
		uidlist_free(&a);
		return 0;
	}
	check_list(&a);
	struct buf t1, t2;
	buf_init(&t1, 0);
	buf_init(&t2, 0);
	assert(uidlist_format(&a, &t1) == 0);
	struct seen s2 = { UINT32_MAX, 0 };
	assert(uidlist_parse((const char *)t1.data, t1.len, &b, on_report, &s2) == UIDLIST_OK);
	assert(s2.n == 0 && b.n_damaged == 0);
	check_same(&a, &b);
	assert(uidlist_format(&b, &t2) == 0);
	assert(t1.len == t2.len && memcmp(t1.data, t2.data, t1.len) == 0);
	buf_free(&t1);
	buf_free(&t2);
	uidlist_free(&a);
	uidlist_free(&b);
	return 0;
}

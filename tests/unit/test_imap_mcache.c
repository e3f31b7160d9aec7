/*
 * tests/unit/test_imap_mcache.c - FETCH's structure cache: entries are
 * found only under their own folder, UIDVALIDITY and UID, hold what
 * mime.h writes, and the whole stays under MCACHE_BYTES.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "core/buf.h"
#include "imap/mcache.h"
#include "imap/mime.h"

static const char msg[] = "From: A <a@example.org>\r\nSubject: hi\r\n\r\nbody\r\n";

static struct mime_msg *
parsed(const char *m)
{
	struct mime_msg *mm = NULL;
	CHECK_INT(mime_parse((const uint8_t *)m, strlen(m), &mm), 0);
	return mm;
}

T(test_put_get)
{
	struct mime_msg *mm = parsed(msg);
	const struct mcache_rec *r = mcache_put("alice/INBOX", 7, 1, mm, 99);
	CHECK(r != NULL);
	struct buf env, bs;
	buf_init(&env, 0);
	buf_init(&bs, 0);
	mime_envelope(mm, &env);
	mime_bodystructure(mm, true, &bs);
	buf_cstr(&env);
	buf_cstr(&bs);
	r = mcache_get("alice/INBOX", 7, 1);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_STR(r->envelope, (const char *)env.data);
		CHECK_STR(r->bodystructure, (const char *)bs.data);
		CHECK(r->size == 99);
	}
	/* another folder, UIDVALIDITY or UID: not this entry */
	CHECK(mcache_get("bob/INBOX", 7, 1) == NULL);
	CHECK(mcache_get("alice/INBOX", 8, 1) == NULL);
	CHECK(mcache_get("alice/INBOX", 7, 2) == NULL);
	CHECK(mcache_get("alice/INBOX.", 7, 1) == NULL);
	buf_free(&env);
	buf_free(&bs);
	mime_free(&mm);
	mcache_clear();
	CHECK(mcache_get("alice/INBOX", 7, 1) == NULL);
}

T(test_bounded)
{
	/* a message with a long subject makes a big envelope */
	size_t n = 60000;
	char *big = malloc(n + 64);
	strcpy(big, "Subject: ");
	memset(big + 9, 'x', n);
	strcpy(big + 9 + n, "\r\n\r\nb\r\n");
	struct mime_msg *mm = parsed(big);
	for (uint32_t uid = 1; uid <= 1000; uid++)
		mcache_put("carol/Big", 1, uid, mm, 1);
	size_t entries, bytes;
	mcache_stats(&entries, &bytes);
	CHECK(bytes <= MCACHE_BYTES);
	CHECK(entries > 100 && entries < 1000);
	/* the oldest went first, the newest stay */
	CHECK(mcache_get("carol/Big", 1, 1) == NULL);
	CHECK(mcache_get("carol/Big", 1, 1000) != NULL);
	mime_free(&mm);
	free(big);
	mcache_clear();
	mcache_stats(&entries, &bytes);
	CHECK(entries == 0 && bytes == 0);
}

int
main(void)
{
	RUN(test_put_get);
	RUN(test_bounded);
	return t_done("imap_mcache");
}

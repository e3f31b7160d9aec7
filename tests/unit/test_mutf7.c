/*
 * tests/unit/test_mutf7.c - modified UTF-7, mailbox-name checks and the
 * Maildir++ directory mapping (imap/mutf7.c).
 *
 * Tables of (UTF-8, mUTF-7) pairs are run in both directions and with
 * every output size from 0 to the exact one; each decoder refusal has
 * its own case with the exact reason; names and directories are mapped
 * both ways.  Then pseudo-random strings: code points in, encode,
 * decode, compare; and short random mUTF-7-looking byte strings that,
 * when they decode, must encode back to the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "core/util.h"
#include "imap/mutf7.h"

/* Pointer and length of a literal, NULs included. */
#define S(s) (s), sizeof(s) - 1

/* ---- deterministic PRNG (splitmix64) ---------------------------------- */

static uint64_t rng_state = 0x6d75746637;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- conversions both ways -------------------------------------------- */

struct pair {
	const char *utf8;
	size_t utf8_len;
	const char *m7;
};

#define P(u, m) { (u), sizeof(u) - 1, (m) }

static const struct pair pairs[] = {
	P("", ""),
	P("INBOX", "INBOX"),
	P("Sent Items", "Sent Items"),
	P("&", "&-"),
	P("&-", "&--"),
	P("A&B", "A&-B"),
	P("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	    "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),	/* RFC 3501 5.1.3 */
	P("Entw\xc3\xbcrfe", "Entw&APw-rfe"),
	P("\xc3\xa9&", "&AOk-&-"),
	P("\xc3\x84", "&AMQ-"),
	P("\xc3\xbf", "&AP8-"),
	P("\xe2\x82\xac", "&IKw-"),
	P("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "&ZeVnLIqe-"),
	P("\xf0\x9f\x98\x80", "&2D3eAA-"),		/* U+1F600, a surrogate pair */
	P("a\xf0\x9f\x98\x80" "b", "a&2D3eAA-b"),
	P("\xf0\x90\x80\x80", "&2ADcAA-"),		/* U+10000 */
	P("\xf4\x8f\xbf\xbf", "&2,,f,w-"),		/* U+10FFFF */
	P("\xc3\x9c" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9/\xce\x95\xce\xbb\xce\xbb\xce\xb7"
	    "\xce\xbd\xce\xb9\xce\xba\xce\xac",
	    "&ANw-n&AO8-c&APY-d&AOk-/&A5UDuwO7A7cDvQO5A7oDrA-"),
	P("\x01", "&AAE-"),				/* controls go into base64 */
	P("\0", "&AAA-"),				/* and NUL is data */
	P("\xc3\xa9\0", "&AOkAAA-"),
	P("\xc3\xa9\xc3\xa9\xe2\x82\xac", "&AOkA6SCs-"),
};

T(test_pairs_encode)
{
	for (size_t i = 0; i < NELEM(pairs); i++) {
		const struct pair *c = &pairs[i];
		char out[256];
		const char *why = "unset";
		int n = mutf7_encode(c->utf8, c->utf8_len, out, sizeof out, &why);
		CHECK_INT(n, (int)strlen(c->m7));
		CHECK_STR(n >= 0 ? out : "(fail)", c->m7);
		CHECK(why == NULL);
	}
}

T(test_pairs_decode)
{
	for (size_t i = 0; i < NELEM(pairs); i++) {
		const struct pair *c = &pairs[i];
		char out[256];
		const char *why = "unset";
		int n = mutf7_decode(c->m7, strlen(c->m7), out, sizeof out, &why);
		CHECK_INT(n, (int)c->utf8_len);
		CHECK(n >= 0 && memcmp(out, c->utf8, c->utf8_len) == 0 && out[n] == '\0');
		CHECK(why == NULL);
		if (why != NULL)
			fprintf(stderr, "  decode %s: %s\n", c->m7, why);
	}
}

/* Every output size below the exact one fails cleanly (NUL at out[0] when
 * there is room for one), the exact one succeeds; ASan checks the rest. */
T(test_pairs_output_sizes)
{
	for (size_t i = 0; i < NELEM(pairs); i++) {
		const struct pair *c = &pairs[i];
		size_t m7_len = strlen(c->m7);
		for (size_t sz = 0; sz <= m7_len + 1; sz++) {
			char *out = malloc(sz ? sz : 1);
			const char *why = NULL;
			int n = mutf7_encode(c->utf8, c->utf8_len, out, sz, &why);
			if (sz <= m7_len) {
				CHECK_INT(n, -1);
				CHECK_STR(why, "output buffer too small");
				CHECK(sz == 0 || out[0] == '\0');
			} else {
				CHECK_INT(n, (int)m7_len);
			}
			free(out);
		}
		for (size_t sz = 0; sz <= c->utf8_len + 1; sz++) {
			char *out = malloc(sz ? sz : 1);
			const char *why = NULL;
			int n = mutf7_decode(c->m7, m7_len, out, sz, &why);
			if (sz <= c->utf8_len) {
				CHECK_INT(n, -1);
				CHECK_STR(why, "output buffer too small");
			} else {
				CHECK_INT(n, (int)c->utf8_len);
			}
			free(out);
		}
	}
}

/* ---- refusals --------------------------------------------------------- */

struct bad {
	const char *in;
	size_t len;
	const char *why;
};

#define B(s, w) { (s), sizeof(s) - 1, (w) }

static const struct bad bad_m7[] = {
	B("&AGE-", "printable ASCII in base64"),	/* 'a' must be literal */
	B("&ACY-", "printable ASCII in base64"),	/* '&' must be "&-" */
	B("&ACA-", "printable ASCII in base64"),	/* so must ' ' */
	B("&AH4-", "printable ASCII in base64"),	/* and '~' */
	B("&AOl-", "non-zero padding bits in base64"),
	B("&AOn-", "non-zero padding bits in base64"),
	B("&AA-", "base64 run has an odd number of bytes"),
	B("&AOkA-", "base64 run has an odd number of bytes"),
	B("&AOkAA-", "base64 run has an odd number of bytes"),
	B("&A-", "base64 run has a character too many"),
	B("&AOkA6QDpA-", "base64 run has a character too many"),
	B("&2D0-", "unpaired surrogate"),		/* lead, then the end */
	B("&3gA-", "unpaired surrogate"),		/* trail alone */
	B("&2D3YPQ-", "unpaired surrogate"),		/* lead, lead */
	B("&2D3eAN4A-", "unpaired surrogate"),	/* pair, then a trail */
	B("&2D0-&3gA-", "unpaired surrogate"),		/* a pair split in two runs */
	B("&AOk-&AOk-", "base64 run directly after another"),
	B("&AOk-&-&AOk-", NULL),			/* a literal '&' between: fine */
	B("&AOk", "unterminated base64 run"),
	B("&", "unterminated base64 run"),
	B("a&", "unterminated base64 run"),
	B("&AO/-", "character outside the modified base64 alphabet"),
	B("&AOk=-", "character outside the modified base64 alphabet"),
	B("&AO k-", "character outside the modified base64 alphabet"),
	B("&&-", "character outside the modified base64 alphabet"),
	B("&AO\xc3\xa9-", "8-bit byte in modified UTF-7"),
	B("\xc3\xa9", "8-bit byte in modified UTF-7"),
	B("a\x80", "8-bit byte in modified UTF-7"),
	B("a\tb", "control character in modified UTF-7"),
	B("\x7f", "control character in modified UTF-7"),
	B("a\0b", "control character in modified UTF-7"),
	B("\r\n", "control character in modified UTF-7"),
};

T(test_decode_refusals)
{
	for (size_t i = 0; i < NELEM(bad_m7); i++) {
		const struct bad *c = &bad_m7[i];
		char out[64];
		const char *why = "unset";
		int n = mutf7_decode(c->in, c->len, out, sizeof out, &why);
		if (c->why == NULL) {
			CHECK(n >= 0);
			CHECK(why == NULL);
			continue;
		}
		CHECK_INT(n, -1);
		CHECK_STR(why, c->why);
		CHECK_STR(out, "");
	}
}

static const struct bad bad_utf8[] = {
	B("\xc0\xaf", "invalid UTF-8"),		/* overlong '/' */
	B("\xc1\xbf", "invalid UTF-8"),
	B("\xe0\x80\xaf", "invalid UTF-8"),		/* overlong, 3 bytes */
	B("\xf0\x80\x80\xaf", "invalid UTF-8"),	/* overlong, 4 bytes */
	B("\xed\xa0\x80", "invalid UTF-8"),		/* U+D800 */
	B("\xed\xbf\xbf", "invalid UTF-8"),		/* U+DFFF */
	B("\xf4\x90\x80\x80", "invalid UTF-8"),	/* U+110000 */
	B("\xf5\x80\x80\x80", "invalid UTF-8"),
	B("\xe6\x97", "invalid UTF-8"),		/* truncated */
	B("a\xe6", "invalid UTF-8"),
	B("\x80", "invalid UTF-8"),			/* lone continuation */
	B("\xff", "invalid UTF-8"),
	B("\xc3\xa9\xc3", "invalid UTF-8"),		/* truncated inside a run */
};

T(test_encode_refusals)
{
	for (size_t i = 0; i < NELEM(bad_utf8); i++) {
		const struct bad *c = &bad_utf8[i];
		char out[64];
		const char *why = "unset";
		CHECK_INT(mutf7_encode(c->in, c->len, out, sizeof out, &why), -1);
		CHECK_STR(why, c->why);
		CHECK_STR(out, "");
	}
	/* why may be NULL */
	char out[8];
	CHECK_INT(mutf7_encode(S("\xff"), out, sizeof out, NULL), -1);
	CHECK_INT(mutf7_decode(S("&"), out, sizeof out, NULL), -1);
}

/* ---- mailbox names ---------------------------------------------------- */

T(test_inbox)
{
	CHECK(mailbox_is_inbox(S("INBOX")));
	CHECK(mailbox_is_inbox(S("inbox")));
	CHECK(mailbox_is_inbox(S("InBoX")));
	CHECK(!mailbox_is_inbox(S("INBOX/x")));
	CHECK(!mailbox_is_inbox(S("INBOXx")));
	CHECK(!mailbox_is_inbox(S("INBO")));
	CHECK(!mailbox_is_inbox(S("")));
	CHECK(!mailbox_is_inbox(S("&AEkATgBCAE8AWA-")));	/* not decoded here */
}

static const struct bad names[] = {
	B("INBOX", NULL),
	B("inbox", NULL),
	B("Sent", NULL),
	B("A/B", NULL),
	B("a b", NULL),
	B("&", NULL),
	B("x~", NULL),
	B("A/~B", NULL),		/* '~' only matters first */
	B("Entw\xc3\xbcrfe", NULL),
	B("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xf0\x9f\x98\x80", NULL),
	B("", "empty mailbox name"),
	B("/A", "mailbox name starts with the hierarchy separator"),
	B("/", "mailbox name starts with the hierarchy separator"),
	B("A/", "mailbox name ends with the hierarchy separator"),
	B("A//B", "empty level in mailbox name"),
	B(".", "'.' is not allowed in a mailbox name"),
	B("..", "'.' is not allowed in a mailbox name"),
	B("A/./B", "'.' is not allowed in a mailbox name"),
	B("A/../B", "'.' is not allowed in a mailbox name"),
	B("a.b", "'.' is not allowed in a mailbox name"),
	B(".Sent", "'.' is not allowed in a mailbox name"),
	B("~peter", "mailbox name starts with '~'"),
	B("~", "mailbox name starts with '~'"),
	B("a\tb", "control character in mailbox name"),
	B("a\x7f", "control character in mailbox name"),
	B("a\xc2\x85", "control character in mailbox name"),	/* NEL, C1 */
	B("a\xc2\x9f", "control character in mailbox name"),
	B("a\xc2\xa0", NULL),					/* NBSP is not C1 */
	B("a\0b", "control character in mailbox name"),
	B("a\r\nb", "control character in mailbox name"),
	B("\xc0\xaf", "mailbox name is not valid UTF-8"),
	B("a\xed\xa0\x80", "mailbox name is not valid UTF-8"),
	B("a/\xff", "mailbox name is not valid UTF-8"),
	B("a*", "'*' and '%' are not allowed in a mailbox name"),
	B("b%/c", "'*' and '%' are not allowed in a mailbox name"),
};

T(test_name_check)
{
	for (size_t i = 0; i < NELEM(names); i++) {
		const struct bad *c = &names[i];
		const char *why = mailbox_name_check(c->in, c->len);
		if (c->why == NULL) {
			CHECK(why == NULL);
			if (why != NULL)
				fprintf(stderr, "  name %zu: %s\n", i, why);
		} else {
			CHECK_STR(why, c->why);
		}
	}
}

/* The edges of the three limits: bytes, levels, bytes on disk. */
T(test_name_limits)
{
	char name[600];

	/* 254 ASCII bytes: '.' + 254 = 255 on disk, the most a file name
	 * may have; 255 fits MAILBOX_NAME_MAX but not the disk. */
	memset(name, 'a', sizeof name);
	CHECK(mailbox_name_check(name, 254) == NULL);
	CHECK_STR(mailbox_name_check(name, 255), "mailbox name too long on disk");
	CHECK_STR(mailbox_name_check(name, 256), "mailbox name too long");
	CHECK_STR(mailbox_name_check(name, sizeof name), "mailbox name too long");

	/* 16 levels and 17 */
	size_t n = 0;
	for (int i = 0; i < 17; i++) {
		if (i > 0)
			name[n++] = '/';
		name[n++] = 'a';
	}
	CHECK(mailbox_name_check(name, n - 2) == NULL);
	CHECK_STR(mailbox_name_check(name, n), "too many levels in mailbox name");

	/* "é" is 2 bytes of UTF-8 but 16 bits = 2.67 base64 characters: 100
	 * of them are 200 bytes, 270 on disk. */
	n = 0;
	for (int i = 0; i < 100; i++) {
		name[n++] = '\xc3';
		name[n++] = '\xa9';
	}
	CHECK_STR(mailbox_name_check(name, n), "mailbox name too long on disk");
	CHECK(mailbox_name_check(name, 100) == NULL);	/* 50 of them: 136 */
	/* the largest count of "é" that fits: '.' '&' 3*k-ish chars '-' */
	char dir[MAILBOX_DIR_MAX + 2];
	int k;
	for (k = 1; k <= 100; k++) {
		name[2 * k] = '\0';
		int len = mailbox_to_dir(name, dir, sizeof dir);
		name[2 * k] = '\xc3';
		if (len < 0)
			break;
		CHECK(len <= MAILBOX_DIR_MAX);
	}
	CHECK_INT(k, 95);	/* 94 * 16 / 6 = 251 chars + ".&-" = 254 */
}

/* ---- directory mapping ------------------------------------------------ */

struct dirmap {
	const char *name, *dir, *back;	/* back: dir_to_mailbox(dir) */
};

static const struct dirmap dirs[] = {
	{ "INBOX", "", "INBOX" },
	{ "inbox", "", "INBOX" },
	{ "Inbox", "", "INBOX" },
	{ "Sent", ".Sent", "Sent" },
	{ "A/B", ".A.B", "A/B" },
	{ "A/B/C", ".A.B.C", "A/B/C" },
	{ "INBOX/x", ".INBOX.x", "INBOX/x" },
	{ "inbox/x", ".INBOX.x", "INBOX/x" },
	{ "x/inbox", ".x.inbox", "x/inbox" },	/* only the first level is special */
	{ "INBOXES", ".INBOXES", "INBOXES" },
	{ "Entw\xc3\xbcrfe", ".Entw&APw-rfe", "Entw\xc3\xbcrfe" },
	{ "a&b", ".a&-b", "a&b" },
	{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xf0\x9f\x98\x80", ".&ZeVnLIqe-.&2D3eAA-",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xf0\x9f\x98\x80" },
	{ "~peter/mail", NULL, NULL },
	{ "a.b", NULL, NULL },
	{ "", NULL, NULL },
	{ "A//B", NULL, NULL },
};

T(test_dir_mapping)
{
	for (size_t i = 0; i < NELEM(dirs); i++) {
		const struct dirmap *c = &dirs[i];
		char dir[MAILBOX_DIR_MAX + 1], name[MAILBOX_NAME_MAX + 1];
		int n = mailbox_to_dir(c->name, dir, sizeof dir);
		if (c->dir == NULL) {
			CHECK_INT(n, -1);
			CHECK_STR(dir, "");
			continue;
		}
		CHECK_INT(n, (int)strlen(c->dir));
		CHECK_STR(dir, c->dir);
		n = dir_to_mailbox(dir, name, sizeof name);
		CHECK_INT(n, (int)strlen(c->back));
		CHECK_STR(name, c->back);
	}
}

/* Directories that no name maps to: LIST must skip them. */
T(test_dir_refusals)
{
	static const char *const bad[] = {
		"Sent", "cur", "new", "tmp", ".", "..", "...", ".INBOX", ".inbox",
		".Inbox", ".inbox.x", ".Inbox.x", ".A..B", ".A.", "..A", ".&AGE-",
		".~x", ".a*", ".a/b", ".&AOk", ".x.&AOk-&AOk-", ".&AAE-", ".&AAA-",
		".a\tb", ".\xc3\xa9", ".&AIU-",
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		char name[MAILBOX_NAME_MAX + 1];
		memcpy(name, "junk", 5);
		CHECK_INT(dir_to_mailbox(bad[i], name, sizeof name), -1);
		CHECK_STR(name, "");
		if (dir_to_mailbox(bad[i], name, sizeof name) >= 0)
			fprintf(stderr, "  accepted dir \"%s\"\n", bad[i]);
	}
	char name[MAILBOX_NAME_MAX + 1];
	CHECK_INT(dir_to_mailbox(".~x.y", name, sizeof name), -1);
	CHECK_INT(dir_to_mailbox(".x.~y", name, sizeof name), 4);
	CHECK_STR(name, "x/~y");
}

T(test_dir_output_sizes)
{
	char buf[32];
	CHECK_INT(mailbox_to_dir("Sent", buf, 5), -1);
	CHECK_STR(buf, "");
	CHECK_INT(mailbox_to_dir("Sent", buf, 6), 5);
	CHECK_INT(mailbox_to_dir("INBOX", buf, 1), 0);
	CHECK_INT(mailbox_to_dir("INBOX", buf, 0), -1);
	CHECK_INT(mailbox_to_dir("inbox/x", buf, 8), -1);
	CHECK_INT(mailbox_to_dir("inbox/x", buf, 9), 8);
	CHECK_INT(dir_to_mailbox("", buf, 5), -1);
	CHECK_INT(dir_to_mailbox("", buf, 6), 5);
	CHECK_INT(dir_to_mailbox(".Sent", buf, 4), -1);
	CHECK_INT(dir_to_mailbox(".Sent", buf, 5), 4);
	CHECK_INT(dir_to_mailbox(".Sent", buf, 0), -1);
}

/* ---- random round trips ----------------------------------------------- */

/* A code point from a mix that exercises every path: printable ASCII,
 * '&' and '-', controls, Latin-1, the rest of the BMP around the
 * surrogate gap, and supplementary planes. */
static uint32_t
random_char(void)
{
	switch (rng() % 8) {
	case 0:
	case 1:
		return 0x20 + (uint32_t)(rng() % 95);
	case 2:
		return rng() % 2 ? '&' : '-';
	case 3:
		return (uint32_t)(rng() % 0x20);
	case 4:
		return 0x80 + (uint32_t)(rng() % 0x780);
	case 5: {
		uint32_t c = 0x800 + (uint32_t)(rng() % (0x10000 - 0x800 - 0x800));
		return c >= 0xd800 ? c + 0x800 : c;	/* skip surrogates */
	}
	case 6:
		return rng() % 2 ? 0xd7ff + (uint32_t)(rng() % 2) * 0x801 : 0xffff;
	default:
		return 0x10000 + (uint32_t)(rng() % 0x100000);
	}
}

static size_t
put_utf8(char *p, uint32_t c)
{
	if (c < 0x80) {
		p[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		p[0] = (char)(0xc0 | c >> 6);
		p[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		p[0] = (char)(0xe0 | c >> 12);
		p[1] = (char)(0x80 | (c >> 6 & 0x3f));
		p[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	p[0] = (char)(0xf0 | c >> 18);
	p[1] = (char)(0x80 | (c >> 12 & 0x3f));
	p[2] = (char)(0x80 | (c >> 6 & 0x3f));
	p[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

T(test_random_round_trips)
{
	for (int iter = 0; iter < 20000; iter++) {
		char in[40 * 4], m7[40 * 8], back[40 * 4 + 1], again[40 * 8];
		size_t len = 0, nchars = rng() % 40;
		for (size_t i = 0; i < nchars; i++)
			len += put_utf8(in + len, random_char());
		int n = mutf7_encode(in, len, m7, sizeof m7, NULL);
		CHECK(n >= 0);
		if (n < 0)
			return;
		int b = mutf7_decode(m7, (size_t)n, back, sizeof back, NULL);
		CHECK_INT(b, (int)len);
		CHECK(b >= 0 && memcmp(back, in, len) == 0);
		int a = mutf7_encode(back, len, again, sizeof again, NULL);
		CHECK(a == n && memcmp(again, m7, (size_t)n) == 0);
		if (t_cur_failed)
			return;
	}
}

/* Short strings over the characters that matter to the decoder: when one
 * decodes, it is the canonical form of what it decodes to. */
T(test_random_canonical)
{
	static const char alpha[] = "&-AaZz09+,/ \x01\x80=OkDd23gQ";
	int decoded = 0;
	for (int iter = 0; iter < 200000; iter++) {
		char in[16], out[64], again[128];
		size_t len = 1 + rng() % sizeof in;
		for (size_t i = 0; i < len; i++)
			in[i] = alpha[rng() % (sizeof alpha - 1)];
		int n = mutf7_decode(in, len, out, sizeof out, NULL);
		if (n < 0)
			continue;
		decoded++;
		int a = mutf7_encode(out, (size_t)n, again, sizeof again, NULL);
		CHECK(a == (int)len && memcmp(again, in, len) == 0);
		if (t_cur_failed)
			return;
	}
	CHECK(decoded > 1000);	/* the test must not pass vacuously */
}

/* Every name from the random generator that the check accepts maps to a
 * directory and back. */
T(test_random_dirs)
{
	int accepted = 0;
	for (int iter = 0; iter < 20000; iter++) {
		char name[MAILBOX_NAME_MAX + 8], dir[MAILBOX_DIR_MAX + 1];
		char back[MAILBOX_NAME_MAX + 1];
		size_t len = 0, nchars = 1 + rng() % 30;
		for (size_t i = 0; i < nchars; i++) {
			uint32_t c = random_char();
			if (rng() % 6 == 0)
				c = '/';
			len += put_utf8(name + len, c);
		}
		name[len] = '\0';
		if (mailbox_name_check(name, len) != NULL || memchr(name, '\0', len) != NULL)
			continue;
		accepted++;
		int n = mailbox_to_dir(name, dir, sizeof dir);
		CHECK(n > 0);
		CHECK(strchr(dir, '/') == NULL);
		int b = dir_to_mailbox(dir, back, sizeof back);
		CHECK_INT(b, (int)len);
		CHECK_STR(back, name);
		if (t_cur_failed)
			return;
	}
	CHECK(accepted > 1000);
}

int
main(void)
{
	RUN(test_pairs_encode);
	RUN(test_pairs_decode);
	RUN(test_pairs_output_sizes);
	RUN(test_decode_refusals);
	RUN(test_encode_refusals);
	RUN(test_inbox);
	RUN(test_name_check);
	RUN(test_name_limits);
	RUN(test_dir_mapping);
	RUN(test_dir_refusals);
	RUN(test_dir_output_sizes);
	RUN(test_random_round_trips);
	RUN(test_random_canonical);
	RUN(test_random_dirs);
	return t_done("mutf7");
}

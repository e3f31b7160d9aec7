/*
 * tests/unit/test_imap_search.c - SEARCH criteria (imap/search.c) and the
 * header text helpers under them (imap/hdrtext.c).
 *
 * hdrtext: tables for RFC 2047 decoding (charsets, B and Q, whitespace
 * between words, malformed words kept), case folding (ASCII, Latin-1,
 * Latin Extended-A, Greek, Cyrillic, bytes that are not UTF-8) and
 * RFC 5322 dates (obsolete forms, comments, zones, invalid days), and day
 * arithmetic against a day-by-day walk.
 *
 * search: criteria given as IMAP text, parsed by imap_parse as a real
 * SEARCH command, compiled and run over a four-message mailbox built to
 * hit every key: encoded-words, folded headers, two To: lines, obsolete
 * and missing Date:, an empty message, a keyword past the first word of
 * the bitmask, a date before 1970.  Every case also goes through
 * search_format and back (the same matches, the same text).  Compile
 * errors with their exact reasons; formatted text; when the message text
 * is loaded (never for flag keys, once per message, cheap keys first,
 * short-circuits); load failures; the limits (nodes, BODY keys, string
 * length) with chains thousands deep; and imaptest's search mailboxes
 * (tests/data/imap_search/, runner starts in the repository root).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "core/buf.h"
#include "core/util.h"
#include "imap/charset.h"
#include "imap/hdrtext.h"
#include "imap/parse.h"
#include "imap/search.h"
#include "imap/seqset.h"

#define DATA "tests/data/imap_search/"

/* ---- hdrtext: RFC 2047 --------------------------------------------------- */

static const struct {
	const char *in, *want;
} decode_cases[] = {
	{ "plain text", "plain text" },
	{ "=?utf-8?q?caf=C3=A9?=", "café" },
	{ "=?UTF-8?B?Y2Fmw6k=?=", "café" },
	{ "=?utf-8?b?Y2Fmw6k?=", "café" },		/* padding missing */
	{ "=?iso-8859-1?q?caf=E9?=", "café" },
	{ "=?ISO-8859-1?Q?J=F6rg?= <j@example.de>", "Jörg <j@example.de>" },
	{ "=?windows-1252?q?=80_5?=", "€ 5" },
	{ "=?iso-8859-1?q?=80?=", "€" },		/* read as windows-1252 */
	{ "=?us-ascii?q?plain?=", "plain" },
	{ "=?iso-8859-15?q?=A4=BC?=", "€Œ" },
	{ "=?latin1?q?=A4?=", "¤" },
	{ "=?utf-8*en?q?x?=", "x" },			/* RFC 2231 language */
	{ "=?koi8-r?b?8NLJ18XU?=", "Привет" },
	{ "=?windows-1251?q?=CF=F0=E8=E2=E5=F2?=", "Привет" },
	{ "=?utf-8?B?zpXOu867zrfOvc65zrrOrA==?=", "Ελληνικά" },
	/* RFC 2047 6.2: whitespace between encoded-words goes */
	{ "=?utf-8?q?a?= =?utf-8?q?b?=", "ab" },
	{ "=?utf-8?q?a?=  \t =?utf-8?q?b?=", "ab" },
	{ "=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab" },
	{ "=?utf-8?q?a?= b", "a b" },
	{ "a =?utf-8?q?b?=", "a b" },
	{ "=?utf-8?q?a?= ", "a " },
	{ "Re:=?utf-8?q?x?=", "Re:x" },
	{ "=?utf-8?q?a_b?=", "a b" },
	{ "=?utf-8?q?a=2?=", "a=2" },			/* bad hex: kept */
	{ "=?utf-8?q?=e9=C3=a9?=", "\xe9\xc3\xa9" },	/* lower-case hex too */
	{ "=?utf-8?q?\?=", "" },
	{ "=?utf-8?q?=C3=A9?= =?x-unknown?q?z?= =?utf-8?q?!?=", "é =?x-unknown?q?z?= !" },
	/* not encoded-words: kept as written */
	{ "=?x-unknown?q?abc?=", "=?x-unknown?q?abc?=" },
	{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
	{ "=?utf-8?b?!!!?=", "=?utf-8?b?!!!?=" },
	{ "=?utf-8?b?YQ=x?=", "=?utf-8?b?YQ=x?=" },
	{ "=?utf-8?q?a?", "=?utf-8?q?a?" },
	{ "=?utf-8?q?a b?=", "=?utf-8?q?a b?=" },
	{ "=?", "=?" },
	{ "=??q?a?=", "=??q?a?=" },
	{ "=?utf-8?", "=?utf-8?" },
	{ "=?utf-8?q", "=?utf-8?q" },
	{ "=?utf-8?q?", "=?utf-8?q?" },
	{ "==?utf-8?q?a?=", "=a" },
	{ "=?utf-8?q?a?==?utf-8?q?b?=", "ab" },
	{ "x =?utf-8?b?YQ?= =?bad?q?b?= =?utf-8?q?c?= y", "x a =?bad?q?b?= c y" },
};

T(decode_table)
{
	for (size_t i = 0; i < NELEM(decode_cases); i++) {
		struct buf b;
		buf_init(&b, 0);
		const char *in = decode_cases[i].in;
		CHECK_INT(hdrtext_decode(&b, (const uint8_t *)in, strlen(in)), 0);
		buf_cstr(&b);
		const char *got = b.len ? (const char *)b.data : "";
		if (strcmp(got, decode_cases[i].want) != 0)
			fprintf(stderr, "decode case %zu\n", i);
		CHECK_STR(got, decode_cases[i].want);
		buf_free(&b);
	}
}

/* Every prefix of every case decodes without error or overrun. */
T(decode_prefixes)
{
	for (size_t i = 0; i < NELEM(decode_cases); i++) {
		const char *in = decode_cases[i].in;
		for (size_t k = 0; k <= strlen(in); k++) {
			uint8_t *copy = malloc(k ? k : 1);
			memcpy(copy, in, k);
			struct buf b;
			buf_init(&b, 0);
			CHECK_INT(hdrtext_decode(&b, copy, k), 0);
			CHECK(b.len <= 3 * k);
			buf_free(&b);
			free(copy);
		}
	}
	struct buf b;
	buf_init(&b, 4);
	CHECK_INT(hdrtext_decode(&b, (const uint8_t *)"=?utf-8?q?abcdef?=", 18), -1);
	buf_free(&b);
}

/* ---- hdrtext: folding ------------------------------------------------------ */

static const struct {
	const char *in, *want;
} fold_cases[] = {
	{ "ABC xyz 123", "abc xyz 123" },
	{ "ÀÉÎÕÜÝÞ", "àéîõüýþ" },
	{ "× ÷ ß ÿ µ", "× ÷ ß ÿ µ" },
	{ "İ", "i" },
	{ "Iİı", "iiı" },
	{ "Ÿ", "ÿ" },
	{ "ĀĂĄĆĈĊČĎĐĒĜĞĠĢĤĦĨĪĬĮĲĴĶ", "āăąćĉċčďđēĝğġģĥħĩīĭįĳĵķ" },
	{ "ĹĻĽĿŁŃŅŇ", "ĺļľŀłńņň" },
	{ "ŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶ", "ŋōŏőœŕŗřśŝşšţťŧũūŭůűųŵŷ" },
	{ "ŹŻŽ ſ ĸ ŉ", "źżž ſ ĸ ŉ" },
	{ "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩΪΫ", "αβγδεζηθικλμνξοπρστυφχψωϊϋ" },
	{ "ΆΈΉΊΌΎΏ", "άέήίόύώ" },
	{ "ς σ ΣΟΦΟΣ", "ς σ σοφοσ" },		/* no final-sigma rule */
	{ "ЀЁЂЃЄЅІЇЈЉЊЋЌЍЎЏ", "ѐёђѓєѕіїјљњћќѝўџ" },
	{ "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ", "абвгдежзийклмнопрстуфхцчшщъыьэюя" },
	{ "ѠѢҊҌӀӁӃӐӒԀԮ", "ѡѣҋҍӏӂӄӑӓԁԯ" },
	{ "€ 中文 😀", "€ 中文 😀" },		/* three and four bytes: kept */
	{ "\xff\xc3 \xc3(A", "\xff\xc3 \xc3(a" },	/* not UTF-8: bytes kept */
	{ "\xc0\x80\xc1\xbf", "\xc0\x80\xc1\xbf" },	/* overlong: kept */
};

T(fold_table)
{
	for (size_t i = 0; i < NELEM(fold_cases); i++) {
		const char *in = fold_cases[i].in;
		size_t len = strlen(in);
		char out[256];
		size_t n = hdrtext_fold((uint8_t *)out, (const uint8_t *)in, len);
		CHECK(n <= len);
		out[n] = '\0';
		if (strcmp(out, fold_cases[i].want) != 0)
			fprintf(stderr, "fold case %zu\n", i);
		CHECK_STR(out, fold_cases[i].want);
		/* idempotent, and in place gives the same */
		char again[256];
		size_t m = hdrtext_fold((uint8_t *)again, (const uint8_t *)out, n);
		again[m] = '\0';
		CHECK_STR(again, out);
		char inplace[256];
		memcpy(inplace, in, len);
		m = hdrtext_fold((uint8_t *)inplace, (const uint8_t *)inplace, len);
		inplace[m] = '\0';
		CHECK_STR(inplace, out);
	}
}

/* Every two-byte sequence: folding never grows, is idempotent, and maps
 * a character to one with the same fold. */
T(fold_all_two_byte)
{
	for (unsigned cp = 0x80; cp < 0x800; cp++) {
		uint8_t in[2] = { (uint8_t)(0xc0 | cp >> 6), (uint8_t)(0x80 | (cp & 0x3f)) };
		uint8_t out[2], again[2];
		size_t n = hdrtext_fold(out, in, 2);
		CHECK(n >= 1 && n <= 2);
		size_t m = hdrtext_fold(again, out, n);
		CHECK(m == n && memcmp(again, out, n) == 0);
	}
}

/* ---- hdrtext: dates -------------------------------------------------------- */

struct dcase {
	const char *in;
	int ok;			/* date part valid */
	int y, m, d;
	int has_time;
	long long utc;		/* when has_time */
};

static const struct dcase date_cases[] = {
	{ "Sat, 24 Mar 2007 23:00:00 +0200", 1, 2007, 3, 24, 1, 1174770000 },
	{ "24 Mar 2007 23:00 +0200", 1, 2007, 3, 24, 1, 1174770000 },
	{ "Sun, 25 Mar 07 01:00 GMT", 1, 2007, 3, 25, 1, 1174784400 },
	{ "25 Mar 99 01:00 EST", 1, 1999, 3, 25, 1, 922341600 },
	{ "25 Mar 49 00:00 UT", 1, 2049, 3, 25, 1, 2500243200LL },
	{ "25 Mar 107 00:00 -0000", 1, 2007, 3, 25, 1, 1174780800 },
	{ "(c) Sat (c) , 24 (c) Mar (c) 2007 (c) 23 : 00 : 00 (c) +0200 (c)", 1, 2007, 3, 24, 1,
	    1174770000 },
	{ "Sat, 24 Mar 2007 (open comment", 1, 2007, 3, 24, 0, 0 },
	{ "((((((((((nested)))))))))) 1 Jan 2000 00:00:00 +0000", 1, 2000, 1, 1, 1, 946684800 },
	{ "(a \\) b) 1 Jan 2000", 1, 2000, 1, 1, 0, 0 },
	{ "Sat, 24-Mar-2007", 1, 2007, 3, 24, 0, 0 },
	{ "Sat 24 Mar 2007 10:00:00 +0000", 1, 2007, 3, 24, 1, 1174730400 },
	{ "24 March 2007 10:00:00 +0530", 1, 2007, 3, 24, 1, 1174710600 },
	{ "Tue, 1 Jul 2003 10:52:37 +0200", 1, 2003, 7, 1, 1, 1057049557 },
	{ "1 Jul 2003 10:52:37 PDT", 1, 2003, 7, 1, 1, 1057081957 },
	{ "1 Jul 2003 10:52:37 Z", 1, 2003, 7, 1, 1, 1057056757 },
	{ "1 Jul 2003 10:52:37", 1, 2003, 7, 1, 1, 1057056757 },
	{ "1 Jul 2003 10:52:60 +0000", 1, 2003, 7, 1, 1, 1057056780 },
	{ "29 Feb 2004 00:00 +0000", 1, 2004, 2, 29, 1, 1078012800 },
	{ "29 Feb 2000", 1, 2000, 2, 29, 0, 0 },
	{ "31 Dec 1969 23:59:59 +0000", 1, 1969, 12, 31, 1, -1 },
	{ "Sat, 24 Mar 2007 25:00:00 +0000", 1, 2007, 3, 24, 0, 0 },
	{ "Sat, 24 Mar 2007 23:60:00 +0000", 1, 2007, 3, 24, 0, 0 },
	{ "Sat, 24 Mar 2007 23:00:00 +0260", 1, 2007, 3, 24, 0, 0 },
	{ "29 Feb 2100", 0, 0, 0, 0, 0, 0 },
	{ "Sat, 31 Feb 2007 10:00:00 +0000", 0, 0, 0, 0, 0, 0 },
	{ "0 Jan 2007", 0, 0, 0, 0, 0, 0 },
	{ "123 Jan 2007", 0, 0, 0, 0, 0, 0 },
	{ "Foo, 24 Mar 2007", 0, 0, 0, 0, 0, 0 },
	{ "24 Mzr 2007", 0, 0, 0, 0, 0, 0 },
	{ "24 Ma 2007", 0, 0, 0, 0, 0, 0 },
	{ "24 Mar 7", 0, 0, 0, 0, 0, 0 },
	{ "24 Mar 1234567", 0, 0, 0, 0, 0, 0 },
	{ "Mar 24 2007", 0, 0, 0, 0, 0, 0 },
	{ "", 0, 0, 0, 0, 0, 0 },
	{ "(only a comment)", 0, 0, 0, 0, 0, 0 },
};

T(date_table)
{
	for (size_t i = 0; i < NELEM(date_cases); i++) {
		const struct dcase *c = &date_cases[i];
		struct hdrtext_date d;
		bool ok = hdrtext_parse_date((const uint8_t *)c->in, strlen(c->in), &d);
		if (ok != (c->ok != 0))
			fprintf(stderr, "date case %zu: \"%s\"\n", i, c->in);
		CHECK_INT(ok, c->ok);
		if (!ok || !c->ok)
			continue;
		CHECK_INT(d.year, c->y);
		CHECK_INT(d.mon, c->m);
		CHECK_INT(d.day, c->d);
		CHECK_INT(d.has_time, c->has_time);
		if (c->has_time && d.has_time)
			CHECK_INT(d.utc, c->utc);
	}
}

/* Day numbers against a walk over every day from 1600 to 2400. */
T(day_arithmetic)
{
	int64_t n = hdrtext_days(1600, 1, 1);
	CHECK_INT(hdrtext_days(1970, 1, 1), 0);
	CHECK_INT(hdrtext_days(2000, 3, 1), 11017);
	CHECK_INT(hdrtext_days(1969, 12, 31), -1);
	for (int64_t y = 1600; y < 2400; y++) {
		for (int m = 1; m <= 12; m++) {
			for (int d = 1; d <= hdrtext_mdays(y, m); d++) {
				if (hdrtext_days(y, m, d) != n) {
					CHECK_INT(hdrtext_days(y, m, d), n);
					return;
				}
				int64_t yy;
				int mm, dd;
				hdrtext_civil(n, &yy, &mm, &dd);
				if (yy != y || mm != m || dd != d) {
					CHECK(0);
					return;
				}
				n++;
			}
		}
	}
	CHECK_INT(hdrtext_mdays(1900, 2), 28);
	CHECK_INT(hdrtext_mdays(2000, 2), 29);
	CHECK_INT(hdrtext_mdays(2024, 2), 29);
	CHECK_INT(hdrtext_mdays(2023, 13), 0);
}

/* ---- search: the mailbox ------------------------------------------------------ */

struct tmsg {
	uint32_t seq, uid;
	unsigned flags;
	uint64_t kw[2];
	int64_t idate;
	uint64_t size, modseq;
	const char *text;	/* NULL: load fails */
	size_t len;		/* 0: strlen(text) */
	unsigned loads;
};

static int
tload(void *arg, const uint8_t **msg, size_t *len)
{
	struct tmsg *t = arg;
	t->loads++;
	if (t->text == NULL)
		return -1;
	*msg = (const uint8_t *)t->text;
	*len = t->len ? t->len : strlen(t->text);
	return 0;
}

#define D2007_03_24 1174694400LL	/* 2007-03-24T00:00:00Z */

static const char M1[] =
	"Subject: hello beautiful world\r\n"
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.com\r\n"
	"Date: Sat, 24 Mar 2007 23:00:00 +0200\r\n"
	"\r\n"
	"body one\r\n";
static const char M2[] =
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\r\n"
	"From: =?iso-8859-1?q?J=F6rg?= <joerg@example.de>\r\n"
	"To: a@example.org\r\n"
	"To: second@example.net\r\n"
	"Date: 25 Mar 07 01:00 GMT\r\n"
	"\r\n"
	"BODY TWO has =?utf-8?q?x?= in it\r\n";
static const char M3[] =
	"Subject: a very\r\n"
	" long folded\r\n"
	"\tsubject\r\n"
	"X-Extra: hello beautiful header\r\n"
	"X-Extra: another one\r\n"
	"Cc: =?UTF-8?B?0J/RgNC40LLQtdGC?= <ivan@example.ru>\r\n"
	"\r\n"
	"ПРИВЕТ мир ÀÉÎ\r\n";

static struct tmsg box[4];

static void
box_init(void)
{
	memset(box, 0, sizeof box);
	box[0] = (struct tmsg){ 1, 10, SEARCH_F_SEEN, { 1u << 1, 0 },
	    D2007_03_24 + 21 * 3600, 100, 5, M1, 0, 0 };
	box[1] = (struct tmsg){ 2, 20, SEARCH_F_ANSWERED | SEARCH_F_FLAGGED, { 0, 1u << 6 },
	    D2007_03_24 + 86400, 2000, 10, M2, 0, 0 };
	box[2] = (struct tmsg){ 3, 30, SEARCH_F_RECENT | SEARCH_F_DRAFT, { 1u << 1, 0 },
	    D2007_03_24 + 86399, 50000, 15, M3, 0, 0 };
	box[3] = (struct tmsg){ 4, 40, SEARCH_F_RECENT | SEARCH_F_SEEN | SEARCH_F_DELETED,
	    { 1u << 0, 0 }, -3600, 0, 1, "", 0, 0 };
}

/* Keywords of this mailbox: $Junk 0, work 1, $Forwarded 2 (on no message),
 * big 70 (in the second word); case-insensitive. */
static int
tkeyword(void *arg, const uint8_t *name, size_t len)
{
	static const struct {
		const char *name;
		int idx;
	} kws[] = { { "$Junk", 0 }, { "work", 1 }, { "$Forwarded", 2 }, { "big", 70 } };
	(void)arg;
	for (size_t i = 0; i < NELEM(kws); i++)
		if (strlen(kws[i].name) == len && ascii_memcaseeq(name, kws[i].name, len))
			return kws[i].idx;
	return -1;
}

static struct seqset saved;

static struct search_env
env_for(uint32_t max_seq, uint32_t max_uid, bool with_saved)
{
	struct search_env e = {
		.max_seq = max_seq, .max_uid = max_uid, .saved = with_saved ? &saved : NULL,
		.now = D2007_03_24 + 86400 + 3600, .keyword = tkeyword,
	};
	return e;
}

static struct imap_limits
big_limits(void)
{
	struct imap_limits l;
	imap_limits_preauth(&l);
	l.line_max = 4 << 20;
	l.literal_max = 1 << 20;
	l.lminus_max = SIZE_MAX;
	l.literals_max = 4 << 20;
	return l;
}

/* A SEARCH command around the criteria text; the parsed command and its
 * buffer (the args point into it) live until cmd_done. */
struct pcmd {
	struct imap_cmd cmd;
	uint8_t *text;
};

static int
cmd_parse(struct pcmd *pc, const char *crit, size_t clen, const char **why)
{
	static const char pre[] = "t SEARCH ";
	size_t len = sizeof pre - 1 + clen + 2;
	struct imap_limits lim = big_limits();
	pc->text = xmalloc(len);
	memcpy(pc->text, pre, sizeof pre - 1);
	memcpy(pc->text + sizeof pre - 1, crit, clen);
	memcpy(pc->text + len - 2, "\r\n", 2);
	int rc = imap_parse(pc->text, len, &lim, &pc->cmd, why);
	if (rc != 0) {
		free(pc->text);
		pc->text = NULL;
	}
	return rc;
}

static void
cmd_done(struct pcmd *pc)
{
	if (pc->text != NULL)
		imap_cmd_free(&pc->cmd);
	free(pc->text);
	pc->text = NULL;
}

static int
compile_text(const char *crit, size_t clen, const struct search_env *env,
    struct search_prog **p, const char **why)
{
	struct pcmd pc;
	if (cmd_parse(&pc, crit, clen, why) != 0)
		return -2;
	int rc = search_compile(pc.cmd.args, pc.cmd.n_args, env, p, why);
	cmd_done(&pc);		/* the program must not need the args */
	return rc;
}

static struct search_msg
msg_of(struct tmsg *t)
{
	struct search_msg m = {
		.seq = t->seq, .uid = t->uid, .flags = t->flags, .keywords = t->kw,
		.n_keywords = 2, .internaldate = t->idate, .size = t->size, .modseq = t->modseq,
		.load = tload, .arg = t,
	};
	return m;
}

/* The sequence numbers of the messages in msgs[0..n) that match, as
 * "1 3", "" for none, "BAD why" or "ERR" when evaluation failed. */
static void
run_prog(struct search_prog *p, struct tmsg *msgs, size_t n, char *out, size_t sz)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		struct search_msg m = msg_of(&msgs[i]);
		int r = search_eval(p, &m);
		if (r < 0) {
			snprintf(out, sz, "ERR");
			return;
		}
		if (r)
			used += (size_t)snprintf(out + used, sz - used, "%s%u", used ? " " : "",
			    msgs[i].seq);
	}
}

/* Compile, run, and check that the formatted program compiles to one
 * that matches the same and formats the same. */
static void
search_str(const char *crit, const struct search_env *env, struct tmsg *msgs, size_t n,
    char *out, size_t sz)
{
	struct search_prog *p = NULL;
	const char *why = NULL;
	int rc = compile_text(crit, strlen(crit), env, &p, &why);
	if (rc != 0) {
		snprintf(out, sz, "%s %s", rc == -2 ? "PARSE" : "BAD", why);
		return;
	}
	run_prog(p, msgs, n, out, sz);

	struct buf f1, f2;
	buf_init(&f1, 0);
	buf_init(&f2, 0);
	CHECK_INT(search_format(p, &f1), 0);
	struct search_prog *q = NULL;
	rc = compile_text((const char *)f1.data, f1.len, env, &q, &why);
	if (rc != 0) {
		buf_cstr(&f1);
		fprintf(stderr, "round trip of \"%s\": \"%s\": %s\n", crit, f1.data, why);
		CHECK(0);
	} else {
		char again[256];
		run_prog(q, msgs, n, again, sizeof again);
		CHECK_STR(again, out);
		CHECK_INT(search_format(q, &f2), 0);
		CHECK(f1.len == f2.len && memcmp(f1.data, f2.data, f1.len) == 0);
		CHECK_INT(search_needs_text(q), search_needs_text(p));
		CHECK_INT(search_uses_modseq(q), search_uses_modseq(p));
		search_free(&q);
	}
	buf_free(&f1);
	buf_free(&f2);
	search_free(&p);
	CHECK(p == NULL);
}

struct scase {
	const char *crit;
	const char *want;
};

static const struct scase box_cases[] = {
	/* flags */
	{ "ALL", "1 2 3 4" },
	{ "SEEN", "1 4" },
	{ "UNSEEN", "2 3" },
	{ "NEW", "3" },
	{ "OLD", "1 2" },
	{ "RECENT", "3 4" },
	{ "ANSWERED", "2" },
	{ "UNANSWERED", "1 3 4" },
	{ "DELETED", "4" },
	{ "UNDELETED", "1 2 3" },
	{ "DRAFT", "3" },
	{ "UNDRAFT", "1 2 4" },
	{ "FLAGGED", "2" },
	{ "UNFLAGGED", "1 3 4" },
	{ "seen", "1 4" },
	{ "sEeN UnDeLeTeD", "1" },
	/* keywords */
	{ "KEYWORD work", "1 3" },
	{ "KEYWORD WORK", "1 3" },
	{ "UNKEYWORD work", "2 4" },
	{ "KEYWORD $Junk", "4" },
	{ "KEYWORD big", "2" },
	{ "UNKEYWORD big", "1 3 4" },
	{ "KEYWORD $Forwarded", "" },
	{ "UNKEYWORD $Forwarded", "1 2 3 4" },
	{ "KEYWORD nosuchkeyword", "" },
	{ "UNKEYWORD nosuchkeyword", "1 2 3 4" },
	{ "KEYWORD \\Seen", "1 4" },
	{ "UNKEYWORD \\seen", "2 3" },
	{ "KEYWORD \\Deleted", "4" },
	{ "KEYWORD \\Recent", "3 4" },
	{ "KEYWORD NIL", "" },
	{ "UNKEYWORD nil", "1 2 3 4" },
	/* sets */
	{ "1:2", "1 2" },
	{ "*", "4" },
	{ "2,4", "2 4" },
	{ "4:2", "2 3 4" },
	{ "5:*", "4" },
	{ "UID 20:*", "2 3 4" },
	{ "UID 15:25", "2" },
	{ "UID *", "4" },
	{ "UID 41:*", "4" },
	{ "UID 1:9", "" },
	{ "$", "1 3" },
	{ "UID $", "1 3" },
	{ "NOT $", "2 4" },
	{ "1:3 NOT UID 20", "1 3" },
	/* sizes, mod-sequences */
	{ "LARGER 100", "2 3" },
	{ "SMALLER 100", "4" },
	{ "LARGER 0", "1 2 3" },
	{ "SMALLER 0", "" },
	{ "LARGER 9223372036854775807", "" },
	{ "MODSEQ 10", "2 3" },
	{ "MODSEQ \"/flags/\\\\draft\" all 10", "2 3" },
	{ "MODSEQ \"/flags/\\\\draft\" priv 0", "1 2 3 4" },
	/* internal dates, in UTC */
	{ "ON 24-Mar-2007", "1 3" },
	{ "ON 24-mar-2007", "1 3" },
	{ "ON \"24-Mar-2007\"", "1 3" },
	{ "BEFORE 25-Mar-2007", "1 3 4" },
	{ "SINCE 25-Mar-2007", "2" },
	{ "SINCE 24-Mar-2007", "1 2 3" },
	{ "ON 31-Dec-1969", "4" },
	{ "BEFORE 1-Jan-1970", "4" },
	{ "SINCE 1-Jan-1970", "1 2 3" },
	{ "BEFORE 29-Feb-2000", "4" },
	{ "YOUNGER 3600", "" },
	{ "YOUNGER 3601", "2" },
	{ "OLDER 3600", "1 2 3 4" },
	{ "OLDER 3601", "1 3 4" },
	/* Date: as written; 3 has none, 4 is empty */
	{ "SENTON 24-Mar-2007", "1" },
	{ "SENTON 25-Mar-2007", "2" },
	{ "SENTBEFORE 25-Mar-2007", "1" },
	{ "SENTSINCE 25-Mar-2007", "2" },
	{ "SENTSINCE 1-Jan-2000", "1 2" },
	{ "NOT SENTON 24-Mar-2007", "2 3 4" },
	/* headers: encoded-words, folding, repeated fields */
	{ "SUBJECT hello", "1" },
	{ "SUBJECT HELLO", "1" },
	{ "SUBJECT \"eautiful worl\"", "1" },
	{ "SUBJECT \"grüße\"", "2" },
	{ "SUBJECT \"GRÜSSE\"", "" },
	{ "SUBJECT \"GRÜßE AUS KÖLN\"", "2" },
	{ "SUBJECT köln", "PARSE 8-bit character outside a string" },
	{ "SUBJECT \"=?utf-8\"", "" },
	{ "SUBJECT \"very long folded\"", "3" },
	{ "SUBJECT \"folded subject\"", "" },
	{ "SUBJECT \"\"", "1 2 3" },
	{ "FROM alice", "1" },
	{ "FROM \"jörg\"", "2" },
	{ "FROM \"JÖRG <JOERG\"", "2" },
	{ "FROM example", "1 2" },
	{ "TO second", "2" },
	{ "TO a@example", "2" },
	{ "TO example", "1 2" },
	{ "CC \"привет\"", "3" },
	{ "CC \"ПРИВЕТ\"", "3" },
	{ "CC ivan", "3" },
	{ "BCC \"\"", "" },
	{ "HEADER X-Extra another", "3" },
	{ "HEADER x-extra \"\"", "3" },
	{ "NOT HEADER X-Extra \"\"", "1 2 4" },
	{ "HEADER X-Extra \"beautiful header\"", "3" },
	{ "HEADER Date 2007", "1" },
	{ "HEADER Date \"\"", "1 2" },
	{ "HEADER \"X-Extra\" NIL", "" },
	{ "HEADER X-Missing \"\"", "" },
	/* bodies: raw bytes, folded */
	{ "BODY \"body one\"", "1" },
	{ "BODY \"BODY ONE\"", "1" },
	{ "BODY subject", "" },
	{ "BODY \"привет\"", "3" },
	{ "BODY \"àéî\"", "3" },
	{ "BODY \"=?utf-8?q?x?=\"", "2" },
	{ "BODY \"\"", "1 2 3 4" },
	{ "TEXT \"\"", "1 2 3 4" },
	{ "TEXT \"hello beautiful\"", "1 3" },
	{ "TEXT \"body one\"", "1" },
	{ "TEXT \"grüße\"", "2" },
	{ "TEXT \"=?utf-8?q?gr\"", "2" },
	{ "TEXT beautiful", "1 3" },
	{ "TEXT {6}\r\nsubjec", "1 2 3" },
	/* logic */
	{ "OR SEEN FLAGGED", "1 2 4" },
	{ "NOT SEEN", "2 3" },
	{ "(SEEN DELETED)", "4" },
	{ "OR (SEEN DELETED) DRAFT", "3 4" },
	{ "NOT NOT SEEN", "1 4" },
	{ "OR OR SEEN DRAFT FLAGGED", "1 2 3 4" },
	{ "OR SEEN OR DRAFT FLAGGED", "1 2 3 4" },
	{ "SEEN NOT DELETED", "1" },
	{ "NOT ALL", "" },
	{ "NOT (SEEN OR DRAFT FLAGGED)", "1 2 3 4" },
	{ "NOT (OR SEEN DRAFT)", "2" },
	{ "NOT (SEEN OR DELETED FLAGGED)", "1 2 3" },
	{ "((((SEEN))))", "1 4" },
	{ "OR BODY one SUBJECT folded", "1 3" },
	{ "NOT OR BODY one SUBJECT folded", "2 4" },
	{ "OR NOT SEEN NOT UNSEEN", "1 2 3 4" },
	{ "UID 10:30 OR KEYWORD work NOT SENTON 25-Mar-2007", "1 3" },
};

T(box_table)
{
	box_init();
	struct search_env env = env_for(4, 40, true);
	for (size_t i = 0; i < NELEM(box_cases); i++) {
		char got[256];
		search_str(box_cases[i].crit, &env, box, 4, got, sizeof got);
		if (strcmp(got, box_cases[i].want) != 0)
			fprintf(stderr, "box case %zu: %s\n", i, box_cases[i].crit);
		CHECK_STR(got, box_cases[i].want);
	}
}

/* Without a saved result "$" is empty; an empty mailbox has no "*". */
T(saved_and_empty)
{
	box_init();
	char got[256];
	struct search_env env = env_for(4, 40, false);
	search_str("$", &env, box, 4, got, sizeof got);
	CHECK_STR(got, "");
	search_str("NOT UID $", &env, box, 4, got, sizeof got);
	CHECK_STR(got, "1 2 3 4");
	env = env_for(0, 41, true);
	search_str("1:*", &env, box, 0, got, sizeof got);
	CHECK_STR(got, "");
	search_str("*", &env, box, 4, got, sizeof got);
	CHECK_STR(got, "");
}

static const struct scase bad_cases[] = {
	{ "FOO", "BAD Unknown search key" },
	{ "CHARSET UTF-8 ALL", "BAD Unknown search key" },
	{ "\"SEEN\"", "BAD Invalid search key" },
	{ "NIL", "BAD Invalid search key" },
	{ "FROM", "BAD Missing argument to search key" },
	{ "HEADER Subject", "BAD Missing argument to search key" },
	{ "(FROM) x", "BAD Missing argument to search key" },
	{ "OR SEEN", "BAD Missing operand of OR or NOT" },
	{ "NOT", "BAD Missing operand of OR or NOT" },
	{ "(OR SEEN) DRAFT", "BAD Missing operand of OR or NOT" },
	{ "(NOT) SEEN", "BAD Missing operand of OR or NOT" },
	{ "()", "BAD Empty list in search criteria" },
	{ "SEEN (SEEN ())", "BAD Empty list in search criteria" },
	{ "BEFORE 32-Jan-2020", "BAD Invalid date in search key" },
	{ "BEFORE 1-Foo-2020", "BAD Invalid date in search key" },
	{ "BEFORE 1-Jan-20", "BAD Invalid date in search key" },
	{ "BEFORE 1-Jan-20200", "BAD Invalid date in search key" },
	{ "BEFORE 001-Jan-2020", "BAD Invalid date in search key" },
	{ "BEFORE 0-Jan-2020", "BAD Invalid date in search key" },
	{ "BEFORE 29-Feb-2019", "BAD Invalid date in search key" },
	{ "BEFORE 1-Jan-2O20", "BAD Invalid date in search key" },
	{ "BEFORE (1-Jan-2020)", "BAD Invalid date in search key" },
	{ "BEFORE {10}\r\n1-Jan-2020", "BAD Invalid date in search key" },
	{ "LARGER x", "BAD Invalid number in search key" },
	{ "LARGER -1", "BAD Invalid number in search key" },
	{ "LARGER 9223372036854775808", "BAD Invalid number in search key" },
	{ "SMALLER \"5\"", "BAD Invalid number in search key" },
	{ "YOUNGER 0", "BAD Invalid interval in search key" },
	{ "OLDER 4294967296", "BAD Invalid interval in search key" },
	{ "UID x", "BAD Invalid character in sequence set" },
	{ "UID 0", "BAD Sequence numbers start at 1 and have no leading zero" },
	{ "0", "BAD Sequence numbers start at 1 and have no leading zero" },
	{ "1,,2", "BAD Invalid character in sequence set" },
	{ "$,1", "BAD $ cannot be combined with other numbers" },
	{ "UID (1)", "BAD Invalid sequence set" },
	{ "UID \"1\"", "BAD Invalid sequence set" },
	{ "KEYWORD \\Foo", "BAD Invalid keyword in search key" },
	{ "KEYWORD \"work\"", "BAD Invalid keyword in search key" },
	{ "KEYWORD wo]rk", "BAD Invalid keyword in search key" },
	{ "KEYWORD (work)", "BAD Invalid keyword in search key" },
	{ "HEADER \"\" x", "BAD Invalid header name in search key" },
	{ "HEADER \"a:b\" x", "BAD Invalid header name in search key" },
	{ "HEADER \"a b\" x", "BAD Invalid header name in search key" },
	{ "HEADER (a) x", "BAD Invalid string in search key" },
	{ "FROM (x)", "BAD Invalid string in search key" },
	{ "FROM ~{3}\r\nabc", "BAD Invalid string in search key" },
	{ "MODSEQ \"/flags/\\\\draft\" foo 5", "BAD Invalid MODSEQ entry type" },
	{ "MODSEQ x", "BAD Invalid mod-sequence in search key" },
	{ "MODSEQ \"/flags/\\\\draft\" all", "BAD Missing argument to search key" },
	{ "SEEN FOO UNSEEN", "BAD Unknown search key" },
};

T(bad_table)
{
	box_init();
	struct search_env env = env_for(4, 40, true);
	for (size_t i = 0; i < NELEM(bad_cases); i++) {
		char got[256];
		search_str(bad_cases[i].crit, &env, box, 4, got, sizeof got);
		if (strcmp(got, bad_cases[i].want) != 0)
			fprintf(stderr, "bad case %zu: %s\n", i, bad_cases[i].crit);
		CHECK_STR(got, bad_cases[i].want);
	}
	/* no arguments at all */
	struct search_prog *p = (struct search_prog *)&env;
	const char *why = NULL;
	CHECK_INT(search_compile(NULL, 0, &env, &p, &why), -1);
	CHECK(p == NULL);
	CHECK_STR(why, "Missing search criteria");
}

static const struct scase fmt_cases[] = {
	{ "SEEN", "SEEN" },
	{ "(SEEN)", "SEEN" },
	{ "SEEN (DELETED FLAGGED)", "SEEN DELETED FLAGGED" },
	{ "OR SEEN OR DRAFT FLAGGED", "OR OR SEEN DRAFT FLAGGED" },
	{ "OR (SEEN DRAFT) FLAGGED", "OR (SEEN DRAFT) FLAGGED" },
	{ "BODY x SEEN", "SEEN BODY \"x\"" },
	{ "OR BODY x SUBJECT y", "OR SUBJECT \"y\" BODY \"x\"" },
	{ "TEXT a FROM b SENTON 1-Jan-2000 ANSWERED",
	    "ANSWERED FROM \"b\" SENTON 1-Jan-2000 TEXT \"a\"" },
	{ "NOT NOT SEEN", "NOT NOT SEEN" },
	{ "NOT (BODY x SEEN)", "NOT (SEEN BODY \"x\")" },
	{ "FROM \"JÖRG\"", "FROM {5}\r\njörg" },
	{ "SUBJECT \"A\\\"B\\\\C\"", "SUBJECT \"a\\\"b\\\\c\"" },
	{ "1:3,5 UID 20:*", "1:3,5 UID 20:40" },
	{ "* UID * 3:1", "4 UID 40 1:3" },
	{ "KEYWORD work UNKEYWORD nope KEYWORD nope", "KEYWORD work ALL NOT ALL" },
	{ "KEYWORD \\Seen UNKEYWORD \\Answered", "SEEN UNANSWERED" },
	{ "BEFORE 1-feb-1994 ON \"01-Jan-2000\"", "BEFORE 1-Feb-1994 ON 1-Jan-2000" },
	{ "LARGER 5 SMALLER 10 MODSEQ \"/flags/\\\\draft\" all 7 YOUNGER 60 OLDER 1",
	    "LARGER 5 SMALLER 10 MODSEQ 7 YOUNGER 60 OLDER 1" },
	{ "HEADER X-Extra \"A\"", "HEADER \"X-Extra\" \"a\"" },
	{ "$ UID $", "$ $" },
	{ "NEW OLD RECENT ALL", "NEW OLD RECENT ALL" },
	{ "6:*", "4:6" },
};

T(format_table)
{
	struct search_env env = env_for(4, 40, true);
	for (size_t i = 0; i < NELEM(fmt_cases); i++) {
		struct search_prog *p = NULL;
		const char *why = NULL;
		const char *crit = fmt_cases[i].crit;
		if (compile_text(crit, strlen(crit), &env, &p, &why) != 0) {
			fprintf(stderr, "format case %zu: %s\n", i, why);
			CHECK(0);
			continue;
		}
		struct buf b;
		buf_init(&b, 0);
		CHECK_INT(search_format(p, &b), 0);
		buf_cstr(&b);
		CHECK_STR((const char *)b.data, fmt_cases[i].want);
		buf_free(&b);
		/* a full buffer is reported */
		buf_init(&b, 2);
		CHECK_INT(search_format(p, &b), -1);
		buf_free(&b);
		search_free(&p);
	}
	/* "$" without a saved result is empty */
	env = env_for(4, 40, false);
	struct search_prog *p = NULL;
	const char *why;
	CHECK_INT(compile_text("$", 1, &env, &p, &why), 0);
	struct buf b;
	buf_init(&b, 0);
	search_format(p, &b);
	buf_cstr(&b);
	CHECK_STR((const char *)b.data, "NOT ALL");
	buf_free(&b);
	search_free(&p);
	search_free(&p);	/* twice is harmless */
}

/* ---- when the text is loaded ---------------------------------------------------- */

static unsigned
total_loads(void)
{
	unsigned n = 0;
	for (size_t i = 0; i < NELEM(box); i++)
		n += box[i].loads;
	return n;
}

static unsigned
loads_for(const char *crit, bool *needs, bool *modseq)
{
	box_init();
	struct search_env env = env_for(4, 40, true);
	struct search_prog *p = NULL;
	const char *why;
	char out[64];
	if (compile_text(crit, strlen(crit), &env, &p, &why) != 0)
		return 999;
	*needs = search_needs_text(p);
	*modseq = search_uses_modseq(p);
	run_prog(p, box, 4, out, sizeof out);
	search_free(&p);
	return total_loads();
}

T(lazy_loading)
{
	bool needs, modseq;
	CHECK_INT(loads_for("SEEN DELETED OR 1:2 UID 30 LARGER 5 ON 1-Jan-2000", &needs, &modseq),
	    0);
	CHECK(!needs);
	CHECK(!modseq);
	CHECK_INT(loads_for("MODSEQ 3", &needs, &modseq), 0);
	CHECK(!needs);
	CHECK(modseq);
	/* one load per message, however many header keys */
	CHECK_INT(loads_for("OR SUBJECT x OR FROM y OR TO z SENTON 1-Jan-2000", &needs, &modseq),
	    4);
	CHECK(needs);
	/* cheap keys first: only the two seen messages are loaded */
	CHECK_INT(loads_for("SUBJECT hello SEEN", &needs, &modseq), 2);
	CHECK_INT(loads_for("BODY one SEEN", &needs, &modseq), 2);
	CHECK_INT(loads_for("OR BODY one SEEN", &needs, &modseq), 2);
	CHECK_INT(loads_for("NOT OR BODY one UNSEEN", &needs, &modseq), 2);
	CHECK_INT(loads_for("(SEEN (DELETED TEXT x))", &needs, &modseq), 1);
	CHECK_INT(loads_for("NOT SEEN", &needs, &modseq), 0);
	/* a text key on a message set excluded first */
	CHECK_INT(loads_for("BODY x 1", &needs, &modseq), 1);
	CHECK_INT(loads_for("OR ALL BODY x", &needs, &modseq), 0);
	CHECK(needs);
}

T(load_failures)
{
	box_init();
	struct tmsg bad[2] = {
		{ 1, 1, SEARCH_F_SEEN, { 0, 0 }, 0, 10, 1, NULL, 0, 0 },
		{ 2, 2, 0, { 0, 0 }, 0, 10, 1, NULL, 0, 0 },
	};
	struct search_env env = env_for(2, 2, false);
	struct search_prog *p = NULL;
	const char *why;
	CHECK_INT(compile_text("SEEN", 4, &env, &p, &why), 0);
	struct search_msg m = msg_of(&bad[0]);
	CHECK_INT(search_eval(p, &m), 1);
	search_free(&p);
	CHECK_INT(compile_text("SEEN BODY x", 11, &env, &p, &why), 0);
	CHECK_INT(search_eval(p, &m), -1);
	m = msg_of(&bad[1]);
	CHECK_INT(search_eval(p, &m), 0);	/* decided before the text */
	m.load = NULL;
	m.flags = SEARCH_F_SEEN;
	CHECK_INT(search_eval(p, &m), -1);
	/* the program is usable after a failure */
	box_init();
	m = msg_of(&box[0]);
	CHECK_INT(search_eval(p, &m), 0);
	search_free(&p);
	CHECK_INT(compile_text("SENTON 24-Mar-2007", 18, &env, &p, &why), 0);
	m = msg_of(&bad[0]);
	CHECK_INT(search_eval(p, &m), -1);
	m = msg_of(&box[0]);
	CHECK_INT(search_eval(p, &m), 1);
	search_free(&p);
}

/* Messages with LF line ends, no body, no header, NUL bytes, a body
 * without a header separator. */
T(odd_messages)
{
	static const char lf[] = "Subject: lf only\nX-A: b\n\nthe body\n";
	static const char nobody[] = "Subject: no body\r\n";
	static const char nohdr[] = "\r\njust a body\r\n";
	static const char nul[] = "Subject: a\0b\r\n\r\nx\0BODY\0y";
	/* a line that is no field does not end the header (msgauth/header.h) */
	static const char junk[] = "this is not a header\r\nSubject: late\r\n\r\nbody";
	struct tmsg m[5] = {
		{ 1, 1, 0, { 0, 0 }, 0, 0, 0, lf, 0, 0 },
		{ 2, 2, 0, { 0, 0 }, 0, 0, 0, nobody, 0, 0 },
		{ 3, 3, 0, { 0, 0 }, 0, 0, 0, nohdr, 0, 0 },
		{ 4, 4, 0, { 0, 0 }, 0, 0, 0, nul, sizeof nul - 1, 0 },
		{ 5, 5, 0, { 0, 0 }, 0, 0, 0, junk, 0, 0 },
	};
	struct search_env env = env_for(5, 5, false);
	static const struct scase cases[] = {
		{ "SUBJECT \"lf only\"", "1" },
		{ "HEADER X-A b", "1" },
		{ "BODY \"the body\"", "1" },
		{ "BODY lf", "" },
		{ "SUBJECT \"no body\"", "2" },
		{ "BODY body", "1 3 4 5" },
		{ "TEXT body", "1 2 3 4 5" },
		{ "BODY subject", "" },
		{ "HEADER subject \"\"", "1 2 4 5" },
		{ "SUBJECT late", "5" },
		{ "TEXT late", "5" },
		{ "BODY \"just a\"", "3" },
		{ "SUBJECT b", "2 4" },
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		char got[64];
		search_str(cases[i].crit, &env, m, 5, got, sizeof got);
		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "odd case %zu: %s\n", i, cases[i].crit);
		CHECK_STR(got, cases[i].want);
	}
}

/* BODY and TEXT see the body's text decoded: transfer encodings undone,
 * charsets converted (tables and iconv), enclosed messages' headers with
 * encoded-words decoded; not the encoded form, nor non-text parts. */
T(mime_bodies)
{
	static const char b64[] = "Subject: b64\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nR3LDvMOfZSBhdXMgS8O2bG4sIHplYnJhCg==\r\n";
	static const char qp[] = "Subject: qp\nContent-Type: text/plain; charset=\"iso-8859-1\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9 so=\nleil\n";
	static const char multi[] = "Subject: multi\r\nContent-Type: multipart/mixed; boundary=XX\r\n"
	    "\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\napple pie\r\n--XX\r\n"
	    "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	    "iVBORyBiYW5hbmE=\r\n--XX\r\nContent-Type: text/plain; charset=utf-16le\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\naABlAGwAbABvACAAdQB0AGYAMQA2AAoA\r\n"
	    "--XX--\r\n";
	static const char sjis[] = "Subject: sjis\r\nContent-Type: text/plain; charset=Shift_JIS\r\n"
	    "\r\nx \x93\xfa\x96\x7b\x8c\xea y\r\n";
	static const char inner[] = "Subject: outer\r\nContent-Type: message/rfc822\r\n\r\n"
	    "Subject: =?utf-8?q?inner_t=C3=ADtulo?=\r\n\r\nkiwi\r\n";
	static const char unknown[] = "Subject: unk\r\nContent-Type: text/plain; charset=x-nonesuch\r\n"
	    "Content-Transfer-Encoding: x-rot13\r\n\r\nplain words\r\n";
	struct tmsg m[6] = {
		{ 1, 1, 0, { 0, 0 }, 0, 0, 0, b64, 0, 0 },
		{ 2, 2, 0, { 0, 0 }, 0, 0, 0, qp, 0, 0 },
		{ 3, 3, 0, { 0, 0 }, 0, 0, 0, multi, 0, 0 },
		{ 4, 4, 0, { 0, 0 }, 0, 0, 0, sjis, 0, 0 },
		{ 5, 5, 0, { 0, 0 }, 0, 0, 0, inner, 0, 0 },
		{ 6, 6, 0, { 0, 0 }, 0, 0, 0, unknown, 0, 0 },
	};
	struct search_env env = env_for(6, 6, false);
	static const struct scase cases[] = {
		{ "BODY \"K\xc3\xb6ln\"", "1" },
		{ "BODY \"GR\xc3\x9c\xc3\x9f" "E\"", "1" },
		{ "BODY zebra", "1" },
		{ "BODY R3LDvMOf", "" },
		{ "TEXT R3LDvMOf", "" },
		{ "TEXT \"charset=utf-8\"", "1" },
		{ "BODY \"caf\xc3\xa9 soleil\"", "2" },
		{ "BODY E9", "" },
		{ "BODY \"apple pie\"", "3" },
		{ "BODY banana", "" },
		{ "BODY preamble", "" },
		{ "BODY \"hello utf16\"", "3" },
		{ "BODY \"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"", "4" },
		{ "BODY \"t\xc3\x8dtulo\"", "5" },
		{ "BODY kiwi", "5" },
		{ "SUBJECT inner", "" },
		{ "TEXT \"plain words\"", "6" },
		{ "BODY \"pie hello\"", "" },
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		char got[64];
		search_str(cases[i].crit, &env, m, 6, got, sizeof got);
		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "mime case %zu: %s\n", i, cases[i].crit);
		CHECK_STR(got, cases[i].want);
	}
	charset_cleanup();
}

/* ---- limits ------------------------------------------------------------------ */

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = xmalloc(hl + ul * n + tl + 1);
	memcpy(s, head, hl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + ul * n, tail, tl + 1);
	return s;
}

static const char *
limit_run(const char *crit, char *out, size_t sz)
{
	box_init();
	struct search_env env = env_for(4, 40, true);
	search_str(crit, &env, box, 4, out, sz);
	return out;
}

T(limits)
{
	char got[256];
	/* the root list and 4095 keys: the most there may be */
	char *s = repeat("", "SEEN ", SEARCH_NODES_MAX - 1, "SEEN");
	s[strlen(s) - 5] = '\0';
	CHECK_STR(limit_run(s, got, sizeof got), "1 4");
	free(s);
	s = repeat("", "SEEN ", SEARCH_NODES_MAX - 1, "SEEN");
	CHECK_STR(limit_run(s, got, sizeof got), "BAD Too many search keys");
	free(s);
	/* NOT chains and OR chains thousands deep: no recursion anywhere */
	s = repeat("", "NOT ", SEARCH_NODES_MAX - 2, "SEEN");
	CHECK_STR(limit_run(s, got, sizeof got), "1 4");
	free(s);
	s = repeat("", "NOT ", SEARCH_NODES_MAX - 3, "SEEN");
	CHECK_STR(limit_run(s, got, sizeof got), "2 3");
	free(s);
	{
		size_t k = (SEARCH_NODES_MAX - 2) / 2;	/* k ORs, k + 1 keys */
		char *ors = repeat("", "OR ", k, "");
		char *keys = repeat(ors, "DELETED ", k, "FLAGGED");
		CHECK_STR(limit_run(keys, got, sizeof got), "2 4");
		free(keys);
		/* right-nested: OR a OR b OR c ... */
		keys = repeat("", "OR DELETED ", k, "FLAGGED");
		CHECK_STR(limit_run(keys, got, sizeof got), "2 4");
		free(keys);
		free(ors);
	}
	/* alternating NOT and OR defeats the merging: still no recursion */
	s = repeat("", "NOT OR DRAFT ", (SEARCH_NODES_MAX - 2) / 3, "SEEN");
	CHECK(strncmp(limit_run(s, got, sizeof got), "BAD", 3) != 0);
	free(s);
	/* BODY and TEXT keys */
	s = repeat("", "BODY qqq ", SEARCH_TEXT_KEYS_MAX - 1, "TEXT qqq");
	CHECK_STR(limit_run(s, got, sizeof got), "");
	free(s);
	s = repeat("", "BODY qqq ", SEARCH_TEXT_KEYS_MAX, "TEXT qqq");
	CHECK_STR(limit_run(s, got, sizeof got), "BAD Too many BODY and TEXT keys");
	free(s);
	s = repeat("", "SUBJECT x ", 1000, "SEEN");
	CHECK_STR(limit_run(s, got, sizeof got), "");
	free(s);
	/* string length */
	char lit[32];
	snprintf(lit, sizeof lit, "BODY {%d}\r\n", SEARCH_NEEDLE_MAX);
	s = repeat(lit, "a", SEARCH_NEEDLE_MAX, "");
	CHECK_STR(limit_run(s, got, sizeof got), "");
	free(s);
	snprintf(lit, sizeof lit, "BODY {%d}\r\n", SEARCH_NEEDLE_MAX + 1);
	s = repeat(lit, "a", SEARCH_NEEDLE_MAX + 1, "");
	CHECK_STR(limit_run(s, got, sizeof got), "BAD Search string too long");
	free(s);
	/* header name length */
	s = repeat("HEADER ", "x", SEARCH_HNAME_MAX, " y");
	CHECK_STR(limit_run(s, got, sizeof got), "");
	free(s);
	s = repeat("HEADER ", "x", SEARCH_HNAME_MAX + 1, " y");
	CHECK_STR(limit_run(s, got, sizeof got), "BAD Invalid header name in search key");
	free(s);
	/* a long UID set */
	s = repeat("UID ", "1,", 100000, "30");
	CHECK_STR(limit_run(s, got, sizeof got), "3");
	free(s);
}

/* A message whose header has many fields and a large body. */
T(big_message)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 1200; i++)
		buf_printf(&b, "X-Field-%d: value %d =?utf-8?q?caf=C3=A9?=\r\n", i, i);
	buf_puts(&b, "\r\n");
	for (int i = 0; i < 20000; i++)
		buf_puts(&b, "Lorem ipsum dolor sit amet, ");
	buf_puts(&b, "NEEDLE at the end\r\n");
	struct tmsg m[1] = { { 1, 1, 0, { 0, 0 }, 0, 0, 0, (const char *)b.data, b.len, 0 } };
	struct search_env env = env_for(1, 1, false);
	char got[64];
	search_str("BODY \"needle at the end\"", &env, m, 1, got, sizeof got);
	CHECK_STR(got, "1");
	search_str("HEADER X-Field-999 \"value 999 café\"", &env, m, 1, got, sizeof got);
	CHECK_STR(got, "1");
	/* fields past the 1000th are not kept (msgauth/header.h) */
	search_str("HEADER X-Field-1100 \"\"", &env, m, 1, got, sizeof got);
	CHECK_STR(got, "");
	search_str("TEXT \"value 12 café\"", &env, m, 1, got, sizeof got);
	CHECK_STR(got, "1");
	buf_free(&b);
}

/* ---- imaptest's mailboxes ------------------------------------------------------ */

struct mbox {
	char *data;
	struct tmsg m[32];
	size_t n;
};

/* Split an mbox: a message starts after each "From " line; the line end
 * before the next "From " line is the separator. */
static bool
mbox_load(struct mbox *mb, const char *name)
{
	char path[256];
	snprintf(path, sizeof path, DATA "%s", name);
	FILE *f = fopen(path, "rb");
	memset(mb, 0, sizeof *mb);
	if (f == NULL)
		return false;
	size_t cap = 1 << 16;
	mb->data = xmalloc(cap);
	size_t len = fread(mb->data, 1, cap - 1, f);
	fclose(f);
	mb->data[len] = '\0';
	char *p = mb->data;
	while (p != NULL && *p != '\0' && mb->n < NELEM(mb->m)) {
		if (strncmp(p, "From ", 5) != 0)
			break;
		char *start = strchr(p, '\n');
		if (start == NULL)
			break;
		start++;
		char *next = strstr(start, "\nFrom ");
		char *end = next ? next : mb->data + len;
		if (next != NULL && end > start && end[-1] == '\n')
			end--;		/* the separator line */
		struct tmsg *t = &mb->m[mb->n];
		t->seq = t->uid = (uint32_t)(mb->n + 1);
		t->text = start;
		t->len = (size_t)(end - start);
		t->size = t->len;
		mb->n++;
		p = next ? next + 1 : NULL;
	}
	return mb->n > 0;
}

static void
mbox_cases(const char *file, const struct scase *cases, size_t n)
{
	struct mbox mb;
	if (!mbox_load(&mb, file)) {
		fprintf(stderr, "cannot read " DATA "%s\n", file);
		CHECK(0);
		free(mb.data);
		return;
	}
	struct search_env env = env_for((uint32_t)mb.n, (uint32_t)mb.n, false);
	for (size_t i = 0; i < n; i++) {
		char got[256];
		search_str(cases[i].crit, &env, mb.m, mb.n, got, sizeof got);
		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "%s: %s\n", file, cases[i].crit);
		CHECK_STR(got, cases[i].want);
	}
	free(mb.data);
}

/* Date: as written, time and zone disregarded: the same answers as
 * imaptest's search-date script. */
T(imaptest_dates)
{
	static const struct scase c[] = {
		{ "SENTBEFORE 24-mar-2007", "" },
		{ "SENTBEFORE 25-mar-2007", "1" },
		{ "SENTBEFORE 26-mar-2007", "1 2 3 4 5 6" },
		{ "SENTBEFORE 27-mar-2007", "1 2 3 4 5 6 7" },
		{ "SENTON 23-mar-2007", "" },
		{ "SENTON 24-mar-2007", "1" },
		{ "SENTON 25-mar-2007", "2 3 4 5 6" },
		{ "SENTON 26-mar-2007", "7" },
		{ "1:7 SENTSINCE 24-mar-2007", "1 2 3 4 5 6 7" },
		{ "1:7 SENTSINCE 25-mar-2007", "2 3 4 5 6 7" },
		{ "1:7 SENTSINCE 26-mar-2007", "7" },
		{ "1:7 SENTSINCE 27-mar-2007", "" },
		{ "8:* SENTBEFORE 27-oct-2007", "" },
		{ "8:* SENTBEFORE 28-oct-2007", "8" },
		{ "8:* SENTBEFORE 29-oct-2007", "8 9 10 11 12 13 14 15" },
		{ "8:* SENTBEFORE 30-oct-2007", "8 9 10 11 12 13 14 15 16" },
		{ "8:* SENTON 26-oct-2007", "" },
		{ "8:* SENTON 27-oct-2007", "8" },
		{ "8:* SENTON 28-oct-2007", "9 10 11 12 13 14 15" },
		{ "8:* SENTON 29-oct-2007", "16" },
		{ "8:* SENTSINCE 27-oct-2007", "8 9 10 11 12 13 14 15 16" },
		{ "8:* SENTSINCE 28-oct-2007", "9 10 11 12 13 14 15 16" },
		{ "8:* SENTSINCE 29-oct-2007", "16" },
		{ "8:* SENTSINCE 30-oct-2007", "" },
	};
	mbox_cases("search-date.mbox", c, NELEM(c));
}

T(imaptest_headers)
{
	static const struct scase c[] = {
		{ "SUBJECT hello", "1" },
		{ "SUBJECT beautiful", "1" },
		{ "SUBJECT world", "1" },
		{ "SUBJECT \"hello beautiful\"", "1" },
		{ "SUBJECT \"hello beautiful world\"", "1" },
		{ "SUBJECT \"eautiful worl\"", "1" },
		{ "HEADER subject \"\"", "1" },
		{ "NOT HEADER subject \"\"", "2" },
		{ "HEADER x-extra \"\"", "2" },
		{ "NOT HEADER x-extra \"\"", "1" },
		{ "HEADER x-extra hello", "2" },
		{ "HEADER x-extra \"hello beautiful\"", "2" },
		{ "HEADER x-extra \"eautiful head\"", "2" },
		{ "HEADER x-extra another", "2" },
	};
	mbox_cases("search-header.mbox", c, NELEM(c));
}

T(imaptest_bodies)
{
	static const struct scase c[] = {
		{ "TEXT asdfghjkl", "1 2" },
		{ "TEXT zxcvbnm", "1 3 4" },
		{ "TEXT qwertyuiop", "2 3 4" },
		{ "BODY asdfghjkl", "1 2" },
		{ "BODY zxcvbnm", "1 3 4" },
		{ "BODY qwertyuiop", "4" },
		{ "TEXT sdfghjk", "1 2" },
		{ "TEXT xcvbn", "1 3 4" },
		{ "TEXT wertyuio", "2 3 4" },
		{ "BODY sdfghjk", "1 2" },
		{ "BODY xcvbn", "1 3 4" },
		{ "BODY wertyuio", "4" },
	};
	mbox_cases("search-body.mbox", c, NELEM(c));
}

/* Address fields: as text and as parsed addresses, so message 3
 * ("<user-from (comment)@ (comment) domain.org>") matches
 * "user-from@domain.org", as in imaptest's search-addresses script. */
T(imaptest_addresses)
{
	static const struct scase c[] = {
		{ "FROM user-from@domain.org", "1 2 3 4 6 7" },
		{ "TO user-to@domain.org", "1 2 3 4" },
		{ "CC user-cc@domain.org", "1 2 3 4 5" },
		{ "BCC user-bcc@domain.org", "1 2 3 4" },
		{ "FROM realfrom", "2 4 6 7" },
		{ "TO realto", "2 4" },
		{ "CC realcc", "2 4" },
		{ "BCC realbcc", "2 4" },
		{ "HEADER from \"\"", "1 2 3 4 5 6 7" },
		{ "HEADER to \"\"", "1 2 3 4 6 7" },
		{ "HEADER cc \"\"", "1 2 3 4 5" },
		{ "HEADER bcc \"\"", "1 2 3 4" },
		{ "FROM ser-fro", "1 2 3 4 5 6 7" },
		{ "TO ser-t", "1 2 3 4" },
		{ "FROM ealfro", "2 4 6 7" },
		{ "FROM user-from1", "5" },
		{ "FROM user-from2", "5" },
		{ "TO groupname", "6 7" },
		{ "TO groupname2", "6" },
		{ "TO groupuser1", "6" },
		{ "TO groupuser3", "6" },
		{ "TO groupuser4", "" },
	};
	mbox_cases("search-addresses.mbox", c, NELEM(c));
}

int
main(void)
{
	seqset_init(&saved);
	seqset_add(&saved, 10, 10);
	seqset_add(&saved, 30, 30);
	seqset_normalize(&saved);

	RUN(decode_table);
	RUN(decode_prefixes);
	RUN(fold_table);
	RUN(fold_all_two_byte);
	RUN(date_table);
	RUN(day_arithmetic);
	RUN(box_table);
	RUN(saved_and_empty);
	RUN(bad_table);
	RUN(format_table);
	RUN(lazy_loading);
	RUN(load_failures);
	RUN(odd_messages);
	RUN(limits);
	RUN(big_message);
	RUN(imaptest_dates);
	RUN(imaptest_headers);
	RUN(imaptest_bodies);
	RUN(imaptest_addresses);
	RUN(mime_bodies);
	seqset_free(&saved);
	return t_done("imap_search");
}

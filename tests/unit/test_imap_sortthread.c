/*
 * tests/unit/test_imap_sortthread.c - SORT and THREAD (imap/sortthread.c)
 * and the first-address helper it takes from imap/mime.c.
 *
 * Criteria: SORT criteria parsed from real command text by imap_parse,
 * every key and REVERSE, and each error reason; THREAD algorithm names.
 * Base subject (RFC 5256 2.1): a table of subjects with their base
 * subject and reply/forward flag (encoded-words, blobs, "(fwd)"
 * trailers, "[Fwd: ...]" wrappers, whitespace), plus a long chain of
 * blobs that a naive implementation makes quadratic.  Records: the
 * address keys (mailbox, display name, comment, group, no "@", encoded
 * names), the sent date and its fallback, message IDs (comments,
 * folding, invalid ones, In-Reply-To free text) and the References
 * limits.  SORT: every key forwards and REVERSE'd, ties (sequence
 * number, REVERSE or not), several keys.  THREAD: ORDEREDSUBJECT, and
 * REFERENCES with the RFC's example shape, missing parents, duplicate
 * Message-IDs, messages without IDs, loops (two messages, a message
 * referencing itself, a loop inside one References field), References
 * overriding a truncated one, each subject-merging rule of step 5,
 * UIDs; 10^5 messages linked in a line, in order and reversed, a
 * mailbox built so that walking up parents for the loop check would be
 * quadratic, and a thousand messages with References of thousands of
 * IDs.  Finally imaptest's SORT and THREAD mailboxes
 * (tests/data/imap_sortthread/; the runner starts in the repository
 * root), with Talon's own expected results.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "t.h"
#include "core/buf.h"
#include "core/util.h"
#include "imap/hdrtext.h"
#include "imap/mime.h"
#include "imap/parse.h"
#include "imap/sortthread.h"

#define DATA "tests/data/imap_sortthread/"
#define T0 1200000000		/* internal date of message 1 */

/* ---- helpers ------------------------------------------------------------------ */

/* Parse "t SORT <crit> UTF-8 ALL" and sort_parse its first argument. */
static int
parse_crit(const char *crit, struct sort_keys *k, const char **why)
{
	char cmd[512];
	struct imap_limits lim;
	struct imap_cmd c;
	const char *pwhy = NULL;
	imap_limits_preauth(&lim);
	snprintf(cmd, sizeof cmd, "t SORT %s UTF-8 ALL\r\n", crit);
	if (imap_parse((const uint8_t *)cmd, strlen(cmd), &lim, &c, &pwhy) != 0) {
		*why = pwhy;
		return -2;
	}
	int rc = sort_parse(&c.args[0], k, why);
	imap_cmd_free(&c);
	return rc;
}

/* Records for headers h[0..n): sequence numbers 1..n, UIDs 10, 20...,
 * internal dates a minute apart, the header's length as the size. */
static void
recs_make(struct sort_rec *r, const char *const *h, size_t n, unsigned need)
{
	for (size_t i = 0; i < n; i++) {
		struct sort_msg m = {
			.seq = (uint32_t)i + 1, .uid = (uint32_t)(i + 1) * 10,
			.internaldate = T0 + (int64_t)i * 60, .size = strlen(h[i]),
			.header = (const uint8_t *)h[i], .header_len = strlen(h[i]),
		};
		sort_rec_make(&r[i], &m, need);
	}
}

static void
recs_free(struct sort_rec *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sort_rec_free(&r[i]);
}

/* String i of a record, NUL-terminated in a static buffer. */
static const char *
rec_get(const struct sort_rec *r, enum sort_str i)
{
	static char s[SORT_STR_MAX + 1];
	memcpy(s, r->len[i] ? r->mem + r->off[i] : (const uint8_t *)"", r->len[i]);
	s[r->len[i]] = '\0';
	return s;
}

/* "3 1 2": sequence numbers in SORT order under criteria crit. */
static const char *
sort_text(const struct sort_rec *r, size_t n, const char *crit)
{
	static char s[1024];
	struct sort_keys k;
	const char *why = NULL;
	uint32_t order[64];
	size_t o = 0;
	s[0] = '\0';
	if (parse_crit(crit, &k, &why) != 0 || n > NELEM(order))
		return "(bad criteria)";
	if (sort_order(r, n, &k, order) != 0)
		return "(sort failed)";
	for (size_t i = 0; i < n && o + 12 < sizeof s; i++)
		o += (size_t)snprintf(s + o, sizeof s - o, "%s%u", i ? " " : "", r[order[i]].seq);
	return s;
}

static const char *
thread_text(const struct sort_rec *r, size_t n, enum thread_alg alg, bool by_uid)
{
	static char s[4096];
	struct buf b;
	buf_init(&b, 0);
	if (thread_build(r, n, alg, by_uid, &b) != 0 || b.len >= sizeof s) {
		buf_free(&b);
		return "(thread failed)";
	}
	memcpy(s, b.len ? b.data : (const uint8_t *)"", b.len);
	s[b.len] = '\0';
	buf_free(&b);
	return s;
}

static const char *
refs_thread(const char *const *h, size_t n)
{
	static char s[4096];
	struct sort_rec r[64];
	recs_make(r, h, n, thread_need(THREAD_REFERENCES));
	snprintf(s, sizeof s, "%s", thread_text(r, n, THREAD_REFERENCES, false));
	recs_free(r, n);
	return s;
}

/* How many top-level threads a THREAD text has; -1 when unbalanced. */
static int
top_threads(const char *s)
{
	int depth = 0, n = 0;
	for (; *s != '\0'; s++) {
		if (*s == '(' && depth++ == 0)
			n++;
		else if (*s == ')' && --depth < 0)
			return -1;
	}
	return depth == 0 ? n : -1;
}

static double
seconds_since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* ---- criteria ------------------------------------------------------------------ */

T(criteria)
{
	static const struct {
		const char *text;
		const char *want;	/* keys as "k" or "-k" (reverse); NULL: error */
		const char *why;
	} c[] = {
		{ "(ARRIVAL)", "0", NULL },
		{ "(arrival cc date from size subject to)", "0 1 2 3 4 5 6", NULL },
		{ "(DISPLAYFROM DisplayTo)", "7 8", NULL },
		{ "(REVERSE DATE SUBJECT)", "-2 5", NULL },
		{ "(reverse arrival reverse size)", "-0 -4", NULL },
		{ "(SUBJECT SUBJECT)", "5 5", NULL },
		{ "ARRIVAL", NULL, "Sort criteria must be a parenthesised list" },
		{ "\"ARRIVAL\"", NULL, "Sort criteria must be a parenthesised list" },
		{ "()", NULL, "Empty sort criteria" },
		{ "(REVERSE)", NULL, "REVERSE must be followed by a sort key" },
		{ "(DATE REVERSE)", NULL, "REVERSE must be followed by a sort key" },
		{ "(REVERSE REVERSE DATE)", NULL, "REVERSE must be followed by a sort key" },
		{ "(BCC)", NULL, "Unknown sort key" },
		{ "(DATES)", NULL, "Unknown sort key" },
		{ "(\"DATE\")", NULL, "Invalid sort criterion" },
		{ "((DATE))", NULL, "Invalid sort criterion" },
		{ "(NIL)", NULL, "Invalid sort criterion" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct sort_keys k;
		const char *why = NULL;
		int rc = parse_crit(c[i].text, &k, &why);
		if (c[i].want == NULL) {
			CHECK_INT(rc, -1);
			CHECK_STR(why, c[i].why);
			CHECK_INT(k.n, 0);
			continue;
		}
		char got[128];
		size_t o = 0;
		CHECK_INT(rc, 0);
		for (size_t j = 0; rc == 0 && j < k.n; j++)
			o += (size_t)snprintf(got + o, sizeof got - o, "%s%s%u", j ? " " : "",
			    k.k[j].reverse ? "-" : "", k.k[j].key);
		got[o] = '\0';
		CHECK_STR(got, c[i].want);
	}

	/* SORT_KEYS_MAX criteria fit, one more does not */
	char big[1024];
	size_t o = (size_t)snprintf(big, sizeof big, "(");
	for (int i = 0; i < SORT_KEYS_MAX; i++)
		o += (size_t)snprintf(big + o, sizeof big - o, "%sREVERSE SIZE", i ? " " : "");
	struct sort_keys k;
	const char *why = NULL;
	snprintf(big + o, sizeof big - o, ")");
	CHECK_INT(parse_crit(big, &k, &why), 0);
	CHECK_INT(k.n, SORT_KEYS_MAX);
	snprintf(big + o, sizeof big - o, " DATE)");
	CHECK_INT(parse_crit(big, &k, &why), -1);
	CHECK_STR(why, "Too many sort criteria");
	CHECK_INT(sort_parse(NULL, &k, &why), -1);

	/* what the keys need */
	CHECK_INT(parse_crit("(ARRIVAL REVERSE SIZE)", &k, &why), 0);
	CHECK(!sort_needs_header(&k));
	CHECK_INT(sort_need(&k), 0);
	CHECK_INT(parse_crit("(SIZE DATE)", &k, &why), 0);
	CHECK(sort_needs_header(&k));
	CHECK_INT(sort_need(&k), SORT_NEED_DATE);
	CHECK_INT(parse_crit("(CC FROM TO SUBJECT DISPLAYFROM DISPLAYTO)", &k, &why), 0);
	CHECK_INT(sort_need(&k), SORT_NEED_CC | SORT_NEED_FROM | SORT_NEED_TO | SORT_NEED_SUBJECT
	    | SORT_NEED_DFROM | SORT_NEED_DTO);
	CHECK_INT(thread_need(THREAD_ORDEREDSUBJECT), SORT_NEED_SUBJECT | SORT_NEED_DATE);
	CHECK_INT(thread_need(THREAD_REFERENCES),
	    SORT_NEED_SUBJECT | SORT_NEED_DATE | SORT_NEED_IDS);
}

T(algorithms)
{
	static const struct {
		enum imap_arg_type type;
		const char *text;
		int want;
	} c[] = {
		{ IMAP_ARG_ATOM, "ORDEREDSUBJECT", THREAD_ORDEREDSUBJECT },
		{ IMAP_ARG_ATOM, "orderedsubject", THREAD_ORDEREDSUBJECT },
		{ IMAP_ARG_ATOM, "REFERENCES", THREAD_REFERENCES },
		{ IMAP_ARG_ATOM, "References", THREAD_REFERENCES },
		{ IMAP_ARG_ATOM, "REFS", -1 },
		{ IMAP_ARG_ATOM, "REFERENCESX", -1 },
		{ IMAP_ARG_ATOM, "", -1 },
		{ IMAP_ARG_QUOTED, "REFERENCES", -1 },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct imap_arg a = { c[i].type, false, (const uint8_t *)c[i].text,
			strlen(c[i].text), NULL, 0 };
		CHECK_INT(thread_algorithm(&a), c[i].want);
	}
}

/* ---- base subject (RFC 5256 2.1) ----------------------------------------------- */

static const struct {
	const char *in, *want;
	bool is_refwd;
} subjects[] = {
	{ "Hello", "Hello", false },
	{ "Re: Hello", "Hello", true },
	{ "RE: Hello", "Hello", true },
	{ "re:Hello", "Hello", true },
	{ "Re : Hello", "Hello", true },		/* *WSP before the colon */
	{ "Fw: Hello", "Hello", true },
	{ "Fwd: Hello", "Hello", true },
	{ "FWD:Hello", "Hello", true },
	{ "Re[2]: Hello", "Hello", true },		/* a blob inside subj-refwd */
	{ "Re [2] : Hello", "Hello", true },
	{ "Re: Re: Fwd: Hello", "Hello", true },
	{ "Re:re:RE:x", "x", true },
	{ "[list] Hello", "Hello", false },
	{ "[list] Re: Hello", "Hello", true },
	{ "[a]Re: x", "x", true },
	{ "Re: [list] Fwd: x (fwd)", "x", true },
	{ "Fwd: Re: [PATCH v2] foo", "foo", true },
	{ "Re: Re[3]: [x] [y] z", "z", true },
	{ "[a][b] Hello", "Hello", false },
	{ "[a] [b]", "[b]", false },			/* the last blob is the base */
	{ "[xyz]", "[xyz]", false },
	{ "[[a]] x", "[[a]] x", false },		/* "[" is no BLOBCHAR */
	{ "Re: [unterminated x", "[unterminated x", true },
	{ "Hello (fwd)", "Hello", true },
	{ "Hello (FWD) (fwd)", "Hello", true },
	{ "Hello(fwd)", "Hello", true },
	{ "x (fwd) y", "x (fwd) y", false },
	{ "[Fwd: Hello]", "Hello", true },
	{ "[fwd: Re: [list] x]", "x", true },
	{ "re: [fwd: [fwd: re: [fwd: babylon]]]", "babylon", true },
	{ "Re: [fwd: x] (fwd)", "x", true },
	{ "Re: [fwd: a] [fwd: b]", "b", true },		/* blob, then the wrapper */
	{ "[fwd: x] y", "y", false },			/* only a blob here */
	{ "[fwd:]", "", true },
	{ "[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "b", true },
	{ "Re: =?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9", true },
	{ "=?utf-8?q?Re:_Hello?=", "Hello", true },	/* decoded first */
	{ "=?iso-8859-1?q?RE:_C?=", "C", true },
	{ "=?us-ascii?b?UmU6IGM=?=", "c", true },
	{ "=?utf-8?q?a?= =?utf-8?q?b?=", "ab", false },
	{ "=?iso-8859-1?q?_?=", "", false },
	{ "  Hello   World  ", "Hello World", false },
	{ "Hello\r\n\tWorld", "Hello World", false },	/* folding */
	{ "Hello\t\tWorld", "Hello World", false },
	{ "Reply: x", "Reply: x", false },
	{ "Ad: Re: x", "Ad: Re: x", false },
	{ "fwd", "fwd", false },
	{ "Re:", "", true },
	{ "Re: (fwd)", "", true },
	{ "Fwd: (fwd)", "", true },
	{ "[a] Re:", "", true },
	{ "", "", false },
};

T(base_subject)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < NELEM(subjects); i++) {
		bool refwd = !subjects[i].is_refwd;
		buf_reset(&b);
		CHECK_INT(sort_base_subject(&b, (const uint8_t *)subjects[i].in,
		    strlen(subjects[i].in), &refwd), 0);
		buf_putc(&b, '\0');
		if (strcmp((const char *)b.data, subjects[i].want) != 0
		    || refwd != subjects[i].is_refwd)
			fprintf(stderr, "subject %zu: \"%s\"\n", i, subjects[i].in);
		CHECK_STR((const char *)b.data, subjects[i].want);
		CHECK_INT(refwd, subjects[i].is_refwd);
	}
	buf_free(&b);
}

/* 50000 blobs before the text: each blob removed makes step (3) look at
 * the chain again; linear here (quadratic would take minutes). */
T(base_subject_blob_chain)
{
	size_t n = 50000;
	struct buf in, out;
	struct timespec t0;
	bool refwd;
	buf_init(&in, 0);
	buf_init(&out, 0);
	for (size_t i = 0; i < n; i++)
		buf_puts(&in, "[ab] ");
	buf_puts(&in, "x");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(sort_base_subject(&out, in.data, in.len, &refwd), 0);
	CHECK_INT(out.len, 1);
	CHECK(out.len == 1 && out.data[0] == 'x');
	CHECK(!refwd);
	/* the same chain ending in a leader: found behind all the blobs */
	buf_reset(&out);
	in.len--;
	buf_puts(&in, "Re: y");
	CHECK_INT(sort_base_subject(&out, in.data, in.len, &refwd), 0);
	CHECK(out.len == 1 && out.data[0] == 'y');
	CHECK(refwd);
	/* nested wrappers */
	buf_reset(&in);
	buf_reset(&out);
	for (size_t i = 0; i < n; i++)
		buf_puts(&in, "[fwd: ");
	buf_puts(&in, "z");
	for (size_t i = 0; i < n; i++)
		buf_puts(&in, "]");
	CHECK_INT(sort_base_subject(&out, in.data, in.len, &refwd), 0);
	CHECK(out.len == 1 && out.data[0] == 'z');
	double secs = seconds_since(&t0);
	CHECK(secs < 10);	/* a generous ceiling: quadratic is minutes */
	buf_free(&in);
	buf_free(&out);
}

/* ---- records ------------------------------------------------------------------- */

T(address_keys)
{
	static const struct {
		const char *hdr;
		const char *from, *dfrom, *to, *dto, *cc;
	} c[] = {
		{ "From: \"Alice Smith\" <alice@example.org>\n",
		  "ALICE", "ALICE SMITH", "", "", "" },
		{ "From: alice@example.org (Alice)\n", "ALICE", "ALICE", "", "", "" },
		{ "From: <bob@Example.org>\n", "BOB", "BOB@EXAMPLE.ORG", "", "", "" },
		{ "From: =?utf-8?q?J=C3=B6rg?= <j@x>\n", "J", "J\xc3\xb6RG", "", "", "" },
		{ "From: \"\" <e@f>\n", "E", "E@F", "", "", "" },
		{ "From: d\n", "D", "D", "", "", "" },			/* no "@" */
		{ "From: , , c@d, e@f\n", "C", "C@D", "", "", "" },
		{ "From: \"Quoted \\\"Name\\\"\" <q@r>\n", "Q", "QUOTED \"NAME\"", "", "", "" },
		{ "From: a@b\nFrom: z@y\n", "A", "A@B", "", "", "" },	/* the first field */
		{ "From:\n", "", "", "", "", "" },
		{ "Subject: no addresses\n", "", "", "", "", "" },
		{ "To: undisclosed-recipients:;\n", "", "", "UNDISCLOSED-RECIPIENTS",
		  "UNDISCLOSED-RECIPIENTS", "" },
		{ "To: team: x@y, z@w;\n", "", "", "TEAM", "TEAM", "" },
		{ "To: a@b,\n c@d\nCc: \"x\" <Y@z>, q@r\n", "", "", "A", "A@B", "Y" },
		{ "Cc: user2: blah@domain1.org;\n", "", "", "", "", "USER2" },
		{ "From: Name <=?utf-8?q?x?=@y>\n", "X", "NAME", "", "", "" },
		{ "fROM: lower@case\nTO: Up <u@v>\n", "LOWER", "LOWER@CASE", "U", "UP", "" },
	};
	unsigned need = SORT_NEED_FROM | SORT_NEED_DFROM | SORT_NEED_TO | SORT_NEED_DTO
	    | SORT_NEED_CC;
	for (size_t i = 0; i < NELEM(c); i++) {
		struct sort_rec r;
		recs_make(&r, &c[i].hdr, 1, need);
		CHECK_STR(rec_get(&r, SORT_S_FROM), c[i].from);
		CHECK_STR(rec_get(&r, SORT_S_DFROM), c[i].dfrom);
		CHECK_STR(rec_get(&r, SORT_S_TO), c[i].to);
		CHECK_STR(rec_get(&r, SORT_S_DTO), c[i].dto);
		CHECK_STR(rec_get(&r, SORT_S_CC), c[i].cc);
		sort_rec_free(&r);
	}

	/* only what was asked for is kept */
	struct sort_rec r;
	const char *h = "From: A <a@b>\nTo: c@d\nSubject: Re: s\n";
	recs_make(&r, &h, 1, SORT_NEED_TO);
	CHECK_STR(rec_get(&r, SORT_S_TO), "C");
	CHECK_STR(rec_get(&r, SORT_S_FROM), "");
	CHECK_STR(rec_get(&r, SORT_S_SUBJECT), "");
	CHECK(!r.is_refwd);
	sort_rec_free(&r);
	recs_make(&r, &h, 1, 0);
	CHECK(r.mem == NULL);
	CHECK_INT(r.seq, 1);
	CHECK_INT(r.uid, 10);
	CHECK_INT(r.size, strlen(h));
	sort_rec_free(&r);
	recs_make(&r, &h, 1, SORT_NEED_SUBJECT);
	CHECK_STR(rec_get(&r, SORT_S_SUBJECT), "S");
	CHECK(r.is_refwd);
	sort_rec_free(&r);

	/* no header at all */
	struct sort_msg m = { 5, 50, T0, 0, NULL, 0 };
	sort_rec_make(&r, &m, SORT_NEED_FROM | SORT_NEED_DATE | SORT_NEED_IDS);
	CHECK(r.mem == NULL);
	CHECK_INT(r.sent, T0);
	sort_rec_free(&r);
}

/* mime_first_address on its own: the pieces as ENVELOPE has them. */
T(first_address)
{
	static const struct {
		const char *v;
		int ok;
		const char *name, *mbox, *host;
		bool is_group;
	} c[] = {
		{ "\"A B\" <a@b.c>", 1, "A B", "a", "b.c", false },
		{ "a@b (comment)", 1, "comment", "a", "b", false },
		{ "<@route,@r2:x@y>", 1, "", "x", "y", false },
		{ "g: a@b;", 1, "", "g", "", true },
		{ "  ,  , z@w", 1, "", "z", "w", false },
		{ "local", 1, "", "local", "", false },
		{ "", 0, "", "", "", false },
		{ " , ;", 0, "", "", "", false },
		{ "\"only a name\" <>", 0, "", "", "", false },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct buf b;
		struct mime_addr a;
		buf_init(&b, 0);
		bool ok = mime_first_address((const uint8_t *)c[i].v, strlen(c[i].v), &b, &a);
		CHECK_INT(ok, c[i].ok);
		if (ok) {
			buf_putc(&b, '\0');
			char *d = (char *)b.data;
			char name[64], mbox[64], host[64];
			snprintf(name, sizeof name, "%.*s", (int)a.name_len, d + a.name_off);
			snprintf(mbox, sizeof mbox, "%.*s", (int)a.mailbox_len, d + a.mailbox_off);
			snprintf(host, sizeof host, "%.*s", (int)a.host_len, d + a.host_off);
			CHECK_STR(name, c[i].name);
			CHECK_STR(mbox, c[i].mbox);
			CHECK_STR(host, c[i].host);
			CHECK_INT(a.is_group, c[i].is_group);
			CHECK_INT(a.has_name, c[i].name[0] != '\0');
		}
		buf_free(&b);
	}
}

T(sent_date)
{
	static const struct {
		const char *hdr;
		int64_t want;		/* 0: the internal date */
	} c[] = {
		{ "Date: Fri, 22 Feb 2008 22:00:10 +0200\n", 1203710410 },
		{ "Date: 22 Feb 2008 20:00:10 GMT\n", 1203710410 },
		{ "Date: Fri, 22 Feb 2008 15:00:10 -0500 (EST)\n", 1203710410 },
		{ "Date: 22 Feb 08 20:00 Z\n", 1203710400 },
		{ "Date: Fri, 22 Feb 2008\n", 0 },		/* no time */
		{ "Date: yesterday\n", 0 },
		{ "Subject: none\n", 0 },
		{ "Date: 22 Feb 2008 20:00:10 +0000\nDate: 1 Jan 2000 00:00:00 +0000\n",
		  1203710410 },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct sort_rec r;
		recs_make(&r, &c[i].hdr, 1, SORT_NEED_DATE);
		CHECK_INT(r.sent, c[i].want ? c[i].want : T0);
		CHECK_INT(r.arrival, T0);
		sort_rec_free(&r);
	}
}

/* The references of a record as "a b c". */
static const char *
refs_text(const struct sort_rec *r)
{
	static char s[1024];
	size_t o = 0, p = 0, end = r->len[SORT_S_REFS];
	const uint8_t *m = end ? r->mem + r->off[SORT_S_REFS] : (const uint8_t *)"";
	s[0] = '\0';
	while (end > 0 && p + 2 <= end && o < sizeof s - 1) {
		size_t l = (size_t)m[p] << 8 | m[p + 1];
		o += (size_t)snprintf(s + o, sizeof s - o, "%s%.*s", o ? " " : "", (int)l,
		    (const char *)m + p + 2);
		p += 2 + l;
	}
	return s;
}

T(message_ids)
{
	static const struct {
		const char *hdr;
		const char *id, *refs;
	} c[] = {
		{ "Message-ID: <a@b>\n", "a@b", "" },
		{ "Message-Id: (c) < a @ b >\n", "a@b", "" },
		{ "Message-ID:\n <folded@\n example.org>\n", "folded@example.org", "" },
		{ "Message-ID: <CaSe@X>\n", "CaSe@X", "" },
		{ "Message-ID: <no-at-sign>\n", "", "" },
		{ "Message-ID: <a\x01@b>\n", "", "" },
		{ "Message-ID: <>\n", "", "" },
		{ "Message-ID: (<in@comment>) <out@side>\n", "out@side", "" },
		{ "Message-ID: <a<b@c>\n", "b@c", "" },
		{ "Message-ID: a@b\n", "", "" },
		{ "References: <1@x> <2@x>\n\t<3@x>\n", "", "1@x 2@x 3@x" },
		{ "References: <1@x>,<2@x>(c)<3@x>\n", "", "1@x 2@x 3@x" },
		{ "References: <bad> <also bad>\nIn-Reply-To: <p@q>\n", "", "p@q" },
		{ "In-Reply-To: <p@q> <r@s>\n", "", "p@q" },
		{ "In-Reply-To: Your message of \"Mon <y@z>\" <p@q>\n", "", "p@q" },
		{ "In-Reply-To: <p@q>\nReferences: <1@x>\n", "", "1@x" },
		{ "References: <1@x>\nReferences: <2@x>\n", "", "1@x" },
		{ "References: <1@x> <1@x>\n", "", "1@x 1@x" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct sort_rec r;
		recs_make(&r, &c[i].hdr, 1, SORT_NEED_IDS);
		CHECK_STR(rec_get(&r, SORT_S_MSGID), c[i].id);
		CHECK_STR(refs_text(&r), c[i].refs);
		sort_rec_free(&r);
	}

	/* an ID of SORT_ID_MAX bytes is valid, one more is not */
	char h[2200];
	int n = snprintf(h, sizeof h, "Message-ID: <%0*d@x>\n", SORT_ID_MAX - 2, 7);
	const char *hp = h;
	struct sort_rec r;
	CHECK(n > 0 && (size_t)n < sizeof h);
	recs_make(&r, &hp, 1, SORT_NEED_IDS);
	CHECK_INT(r.len[SORT_S_MSGID], SORT_ID_MAX);
	sort_rec_free(&r);
	snprintf(h, sizeof h, "Message-ID: <%0*d@x>\n", SORT_ID_MAX - 1, 7);
	recs_make(&r, &hp, 1, SORT_NEED_IDS);
	CHECK_INT(r.len[SORT_S_MSGID], 0);
	sort_rec_free(&r);
}

/* References with 20000 IDs: the last ones are kept, as many as fit
 * SORT_REFS_MAX and SORT_REFS_BYTES. */
T(references_limits)
{
	struct buf h;
	struct sort_rec r;
	buf_init(&h, 0);
	buf_puts(&h, "References:");
	for (int i = 0; i < 20000; i++)
		buf_printf(&h, " <%d@x>", i);
	buf_puts(&h, "\n\n");
	buf_cstr(&h);
	const char *hp = (const char *)h.data;
	recs_make(&r, &hp, 1, SORT_NEED_IDS);
	size_t p = 0, n = 0, end = r.len[SORT_S_REFS], l = 0;
	const uint8_t *m = r.mem + r.off[SORT_S_REFS];
	char first[32] = "", last[32] = "";
	while (p + 2 <= end) {
		l = (size_t)m[p] << 8 | m[p + 1];
		if (n++ == 0)
			snprintf(first, sizeof first, "%.*s", (int)l, (const char *)m + p + 2);
		snprintf(last, sizeof last, "%.*s", (int)l, (const char *)m + p + 2);
		p += 2 + l;
	}
	CHECK(end <= SORT_REFS_BYTES);
	CHECK(end + 9 > SORT_REFS_BYTES);	/* no room for one more */
	CHECK(n <= SORT_REFS_MAX);
	CHECK_STR(last, "19999@x");
	char want[32];
	snprintf(want, sizeof want, "%zu@x", 20000 - n);
	CHECK_STR(first, want);
	sort_rec_free(&r);

	/* short IDs: the count limit decides */
	buf_reset(&h);
	buf_puts(&h, "References:");
	for (int i = 0; i < 12000; i++)
		buf_printf(&h, "<%c@x>", 'a' + i % 26);
	buf_puts(&h, "\n");
	buf_cstr(&h);
	hp = (const char *)h.data;
	recs_make(&r, &hp, 1, SORT_NEED_IDS);
	CHECK_INT(r.len[SORT_S_REFS], SORT_REFS_MAX * 5);
	sort_rec_free(&r);
	buf_free(&h);
}

/* ---- SORT ---------------------------------------------------------------------- */

static const char *const sort_box[] = {
	/* 1 */ "From: Carol <carol@c.org>\nTo: zed@z.org\nCc: m@m\n"
		"Subject: Re: banana\nDate: Mon, 3 Mar 2008 10:00:00 +0000\n",
	/* 2 */ "From: alice@a.org\nTo: \"Yves\" <yves@y.org>\nCc: b@b\n"
		"Subject: apple\nDate: Mon, 3 Mar 2008 09:00:00 +0000\n",
	/* 3 */ "From: \"bob\" <Bob@b.org>\nTo: adam@a.org\n"
		"Subject: [list] Cherry\nDate: Mon, 3 Mar 2008 11:00:00 +0100\n",
	/* 4 */ "From: Alice <alice@a.org>\nTo: adam@a.org\nCc: z@z\n"
		"Subject: apple\nDate: garbage\n",
	/* 5 */ "Subject: \n",
};

T(sort_keys)
{
	struct sort_rec r[5];
	unsigned all = SORT_NEED_SUBJECT | SORT_NEED_FROM | SORT_NEED_TO | SORT_NEED_CC
	    | SORT_NEED_DFROM | SORT_NEED_DTO | SORT_NEED_DATE;
	recs_make(r, sort_box, 5, all);
	/* sizes: change them so SIZE differs from arrival order */
	r[0].size = 300;
	r[1].size = 100;
	r[2].size = 300;
	r[3].size = 50;
	r[4].size = 1000;
	static const struct {
		const char *crit, *want;
	} c[] = {
		{ "(ARRIVAL)", "1 2 3 4 5" },
		{ "(REVERSE ARRIVAL)", "5 4 3 2 1" },
		/* internal dates T0 + i min (2008-01-10), Date: fields in March
		 * 2008; 4 (garbage) and 5 (none) use the internal date */
		{ "(DATE)", "4 5 2 1 3" },	/* 3 is 1's time in UTC */
		{ "(REVERSE DATE)", "1 3 2 5 4" },
		{ "(SIZE)", "4 2 1 3 5" },
		{ "(REVERSE SIZE)", "5 1 3 2 4" },	/* ties stay ascending */
		{ "(SIZE REVERSE ARRIVAL)", "4 2 3 1 5" },
		{ "(SUBJECT)", "5 2 4 1 3" },
		{ "(REVERSE SUBJECT)", "3 1 2 4 5" },
		{ "(SUBJECT REVERSE DATE)", "5 2 4 1 3" },
		{ "(SUBJECT REVERSE ARRIVAL)", "5 4 2 1 3" },
		{ "(FROM)", "5 2 4 3 1" },		/* "", ALICE x2, BOB, CAROL */
		{ "(REVERSE FROM)", "1 3 2 4 5" },
		{ "(TO)", "5 3 4 2 1" },		/* "", ADAM x2, YVES, ZED */
		{ "(REVERSE TO)", "1 2 3 4 5" },
		{ "(CC)", "3 5 2 1 4" },		/* "", "", B, M, Z */
		{ "(REVERSE CC)", "4 1 2 3 5" },
		{ "(DISPLAYFROM)", "5 4 2 3 1" },	/* "", ALICE, ALICE@A.ORG, BOB, CAROL */
		{ "(REVERSE DISPLAYFROM)", "1 3 2 4 5" },
		{ "(DISPLAYTO)", "5 3 4 2 1" },		/* "", ADAM@A.ORG x2, YVES, ZED@Z.ORG */
		{ "(REVERSE DISPLAYTO)", "1 2 3 4 5" },
		{ "(FROM SIZE)", "5 4 2 3 1" },
		{ "(FROM REVERSE SIZE)", "5 2 4 3 1" },
		{ "(TO REVERSE SUBJECT DATE)", "5 3 4 2 1" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		const char *got = sort_text(r, 5, c[i].crit);
		if (strcmp(got, c[i].want) != 0)
			fprintf(stderr, "criteria %s\n", c[i].crit);
		CHECK_STR(got, c[i].want);
	}

	/* the record order does not matter, sequence numbers do */
	struct sort_rec s[5] = { r[3], r[0], r[4], r[2], r[1] };
	CHECK_STR(sort_text(s, 5, "(SUBJECT)"), "5 2 4 1 3");
	CHECK_STR(sort_text(s, 5, "(REVERSE SIZE)"), "5 1 3 2 4");

	/* sort_compare: antisymmetric, 0 only for the same message */
	struct sort_keys k;
	const char *why;
	CHECK_INT(parse_crit("(REVERSE SUBJECT FROM)", &k, &why), 0);
	for (int i = 0; i < 5; i++) {
		for (int j = 0; j < 5; j++) {
			int a = sort_compare(&r[i], &r[j], &k), b = sort_compare(&r[j], &r[i], &k);
			CHECK_INT(a, -b);
			CHECK_INT(a == 0, i == j);
		}
	}
	recs_free(r, 5);
}

/* ASCII case is folded, nothing else: "_" sorts after the letters
 * (i;ascii-casemap maps a-z to A-Z, and "_" is 0x5F), "é" after "z". */
T(sort_casemap)
{
	static const char *const h[] = {
		"Subject: b\n", "Subject: _\n", "Subject: A\n", "Subject: =?utf-8?q?=C3=A9?=\n",
		"Subject: Z\n", "Subject: a\n", "Subject: B\n",
	};
	struct sort_rec r[7];
	recs_make(r, h, 7, SORT_NEED_SUBJECT);
	CHECK_STR(sort_text(r, 7, "(SUBJECT)"), "3 6 1 7 5 2 4");
	CHECK_STR(sort_text(r, 7, "(REVERSE SUBJECT)"), "4 2 5 1 7 3 6");
	recs_free(r, 7);

	uint32_t order[1];
	struct sort_keys k = { 1, { { SORT_SIZE, false } } };
	CHECK_INT(sort_order(NULL, 0, &k, order), 0);
}

/* ---- THREAD=ORDEREDSUBJECT ---------------------------------------------------- */

T(orderedsubject)
{
	static const char *const h[] = {
		/* 1 */ "Subject: b\n",
		/* 2 */ "Subject: Re: a\n",
		/* 3 */ "Subject: c\n",
		/* 4 */ "Subject: a\nDate: 1 Jan 2000 00:00:00 +0000\n",
		/* 5 */ "Subject: Re: c\n",
		/* 6 */ "Subject: [x] a\n",
		/* 7 */ "Subject: Fwd: c\n",
		/* 8 */ "Subject: re: b (fwd)\n",
		/* 9 */ "\n",
		/* 10 */ "Subject:\n",
	};
	struct sort_rec r[10];
	recs_make(r, h, 10, thread_need(THREAD_ORDEREDSUBJECT));
	/* a: 4 (2000), 2, 6; b: 1, 8; c: 3, 5, 7; "": 9, 10 */
	CHECK_STR(thread_text(r, 10, THREAD_ORDEREDSUBJECT, false),
	    "(4 (2)(6))(1 8)(3 (5)(7))(9 10)");
	CHECK_STR(thread_text(r, 10, THREAD_ORDEREDSUBJECT, true),
	    "(40 (20)(60))(10 80)(30 (50)(70))(90 100)");
	CHECK_STR(thread_text(r, 1, THREAD_ORDEREDSUBJECT, false), "(1)");
	CHECK_STR(thread_text(r, 0, THREAD_ORDEREDSUBJECT, false), "");
	recs_free(r, 10);
}

/* ---- THREAD=REFERENCES --------------------------------------------------------- */

/* The shape of RFC 5256's example, "(2)(3 6 (4 23)(44 7 96))", with
 * those sequence numbers. */
T(references_rfc_shape)
{
	static const struct {
		uint32_t seq;
		const char *hdr;
	} m[] = {
		{ 2, "Message-ID: <2@x>\nSubject: other\n" },
		{ 3, "Message-ID: <3@x>\nSubject: topic\n" },
		{ 6, "Message-ID: <6@x>\nReferences: <3@x>\nSubject: Re: topic\n" },
		{ 4, "Message-ID: <4@x>\nReferences: <3@x> <6@x>\nSubject: Re: topic\n" },
		{ 23, "Message-ID: <23@x>\nReferences: <6@x> <4@x>\nSubject: Re: topic\n" },
		{ 44, "Message-ID: <44@x>\nIn-Reply-To: <6@x>\nSubject: Re: topic\n" },
		{ 7, "Message-ID: <7@x>\nReferences: <3@x> <6@x> <44@x>\nSubject: Re: topic\n" },
		{ 96, "Message-ID: <96@x>\nReferences: <44@x> <7@x>\nSubject: Re: topic\n" },
	};
	struct sort_rec r[NELEM(m)];
	for (size_t i = 0; i < NELEM(m); i++) {
		/* sent dates in the table's order */
		struct sort_msg sm = { m[i].seq, m[i].seq * 10, T0 + (int64_t)i, 1,
			(const uint8_t *)m[i].hdr, strlen(m[i].hdr) };
		sort_rec_make(&r[i], &sm, thread_need(THREAD_REFERENCES));
	}
	CHECK_STR(thread_text(r, NELEM(m), THREAD_REFERENCES, false), "(2)(3 6 (4 23)(44 7 96))");
	CHECK_STR(thread_text(r, NELEM(m), THREAD_REFERENCES, true),
	    "(20)(30 60 (40 230)(440 70 960))");
	recs_free(r, NELEM(m));
}

T(references_missing_parents)
{
	/* two replies to a message that is not there: a dummy at the top
	 * keeps them together */
	static const char *const a[] = {
		"Message-ID: <r1@x>\nReferences: <gone@x>\n",
		"Message-ID: <r2@x>\nIn-Reply-To: <gone@x>\n",
	};
	CHECK_STR(refs_thread(a, 2), "((1)(2))");
	/* one reply to a missing message: the dummy goes */
	CHECK_STR(refs_thread(a, 1), "(1)");
	/* a chain of missing ancestors under a present root: the dummies
	 * between are pruned, the message moves up to the root */
	static const char *const b[] = {
		"Message-ID: <root@x>\n",
		"Message-ID: <leaf@x>\nReferences: <root@x> <m1@x> <m2@x> <m3@x>\n",
		"Message-ID: <leaf2@x>\nReferences: <root@x> <m1@x> <m9@x>\n",
	};
	CHECK_STR(refs_thread(b, 3), "(1 (2)(3))");
	/* missing dummy with replies that have replies */
	static const char *const c[] = {
		"Message-ID: <a@x>\nReferences: <gone@x>\n",
		"Message-ID: <b@x>\nReferences: <gone@x> <a@x>\n",
		"Message-ID: <c@x>\nReferences: <gone@x>\n",
	};
	CHECK_STR(refs_thread(c, 3), "((1 2)(3))");
	/* the parent arrives later in the mailbox than its child */
	static const char *const d[] = {
		"Message-ID: <child@x>\nReferences: <parent@x>\n",
		"Message-ID: <parent@x>\n",
	};
	CHECK_STR(refs_thread(d, 2), "(2 1)");
}

T(references_duplicates_and_no_ids)
{
	/* a duplicate Message-ID gets a unique one: its replies go to the
	 * first message with the ID */
	static const char *const a[] = {
		"Message-ID: <a@x>\nSubject: one\n",
		"Message-ID: <a@x>\nSubject: two\n",
		"Message-ID: <b@x>\nReferences: <a@x>\nSubject: three\n",
	};
	CHECK_STR(refs_thread(a, 3), "(1 3)(2)");
	/* messages without (valid) IDs stand alone, or hang under what
	 * they reference */
	static const char *const b[] = {
		"Subject: s1\n",
		"Message-ID: not-an-id\nSubject: s2\n",
		"References: <x@y>\nSubject: s3\n",
		"Message-ID: <x@y>\nSubject: s4\n",
		"In-Reply-To: <x@y>\nSubject: s5\n",
	};
	CHECK_STR(refs_thread(b, 5), "(1)(2)(4 (3)(5))");
	/* IDs are case-sensitive */
	static const char *const c[] = {
		"Message-ID: <A@x>\n",
		"Message-ID: <b@x>\nReferences: <a@x>\n",
	};
	CHECK_STR(refs_thread(c, 2), "(1)(2)");
}

T(references_loops)
{
	/* two messages referencing each other: the first link wins */
	static const char *const a[] = {
		"Message-ID: <a@x>\nReferences: <b@x>\n",
		"Message-ID: <b@x>\nReferences: <a@x>\n",
	};
	CHECK_STR(refs_thread(a, 2), "(2 1)");
	/* a message referencing itself */
	static const char *const b[] = {
		"Message-ID: <a@x>\nReferences: <a@x>\n",
		"Message-ID: <b@x>\nReferences: <b@x> <a@x> <b@x>\n",
	};
	CHECK_STR(refs_thread(b, 2), "(2 1)");	/* 2's "b a" links b -> a */
	/* a loop inside one References field */
	static const char *const c[] = {
		"Message-ID: <m@x>\nReferences: <x@x> <y@x> <x@x>\n",
	};
	CHECK_STR(refs_thread(c, 1), "(1)");
	/* three messages in a ring */
	static const char *const d[] = {
		"Message-ID: <1@x>\nReferences: <3@x>\n",
		"Message-ID: <2@x>\nReferences: <1@x>\n",
		"Message-ID: <3@x>\nReferences: <2@x>\n",
	};
	CHECK_STR(refs_thread(d, 3), "(3 1 2)");
	/* a longer References field contradicting an earlier one: only
	 * links that do not exist yet are made (1.A), and the message's own
	 * parent is the last reference (1.B) */
	static const char *const e[] = {
		"Message-ID: <a@x>\n",
		"Message-ID: <b@x>\nReferences: <a@x>\n",
		"Message-ID: <c@x>\nReferences: <b@x> <a@x>\n",
	};
	CHECK_STR(refs_thread(e, 3), "(1 (2)(3))");
}

/* RFC 5256 2.2 1.B: a message that already has a parent (from another
 * message's truncated References) is moved under its own last
 * reference. */
T(references_reparent)
{
	static const char *const a[] = {
		"Message-ID: <a@x>\n",
		"Message-ID: <d@x>\nReferences: <a@x> <c@x>\n",	/* says a -> c */
		"Message-ID: <b@x>\nReferences: <a@x>\n",
		"Message-ID: <c@x>\nReferences: <a@x> <b@x>\n",	/* c under b */
	};
	CHECK_STR(refs_thread(a, 4), "(1 3 4 2)");
}

/* Step 5, each rule. */
T(references_subjects)
{
	/* a reply without references goes under the original */
	static const char *const a[] = { "Subject: x\n", "Subject: Re: x\n" };
	CHECK_STR(refs_thread(a, 2), "(1 2)");
	/* the original arrives later: the reply still goes under it */
	static const char *const b[] = { "Subject: Re: x\n", "Subject: x\n" };
	CHECK_STR(refs_thread(b, 2), "(2 1)");
	/* two originals, or two replies: siblings under a new dummy */
	static const char *const c[] = { "Subject: x\n", "Subject: X\n", "Subject: y\n" };
	CHECK_STR(refs_thread(c, 3), "((1)(2))(3)");
	static const char *const d[] = { "Subject: Re: x\n", "Subject: Fwd: x\n" };
	CHECK_STR(refs_thread(d, 2), "((1)(2))");
	/* empty subjects are never gathered */
	static const char *const e[] = { "Subject: Re:\n", "\n", "Subject: [x]\n" };
	CHECK_STR(refs_thread(e, 3), "(1)(2)(3)");
	/* a dummy (replies to a missing message) takes an original with its
	 * subject as a child; two dummies merge */
	static const char *const f[] = {
		"Message-ID: <1@x>\nReferences: <gone@x>\nSubject: Re: s\n",
		"Message-ID: <2@x>\nReferences: <gone@x>\nSubject: Re: s\n",
		"Message-ID: <3@x>\nSubject: s\n",
		"Message-ID: <4@x>\nReferences: <gone2@x>\nSubject: Re: s\n",
		"Message-ID: <5@x>\nReferences: <gone2@x>\nSubject: Re: s\n",
	};
	CHECK_STR(refs_thread(f, 3), "((1)(2)(3))");
	CHECK_STR(refs_thread(f, 5), "((1)(2)(3)(4)(5))");
	/* a thread's root is what is grouped, not its replies */
	static const char *const g[] = {
		"Message-ID: <1@x>\nSubject: one\n",
		"Message-ID: <2@x>\nReferences: <1@x>\nSubject: Re: two\n",
		"Message-ID: <3@x>\nSubject: two\n",
	};
	CHECK_STR(refs_thread(g, 3), "(1 2)(3)");
}

/* Siblings and roots by sent date (Date:, else the internal date), then
 * sequence number; a top-level dummy sorts by its first child. */
T(references_dates)
{
	static const char *const h[] = {
		"Message-ID: <p@x>\nDate: 1 Jan 2010 00:00:00 +0000\n",
		"Message-ID: <c1@x>\nReferences: <p@x>\nDate: 1 Jan 2010 03:00:00 +0000\n",
		"Message-ID: <c2@x>\nReferences: <p@x>\nDate: 1 Jan 2010 02:00:00 +0000\n",
		"Message-ID: <c3@x>\nReferences: <p@x>\nDate: 1 Jan 2010 02:00:00 +0000\n",
		"Message-ID: <d1@x>\nReferences: <gone@x>\nDate: 1 Jan 2009 00:00:00 +0000\n",
		"Message-ID: <d2@x>\nReferences: <gone@x>\nDate: 1 Jan 2011 00:00:00 +0000\n",
		"Message-ID: <early@x>\n",	/* 2008: internal date */
	};
	CHECK_STR(refs_thread(h, 7), "(7)((5)(6))(1 (3)(4)(2))");
}

/* 10^5 messages, each a reply to the one before. */
static void
chain(size_t n, bool reversed, bool refs_header)
{
	struct sort_rec *r = xcalloc(n, sizeof *r);
	char h[128];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n; i++) {
		/* message k (1..n) replies to k-1; reversed puts k at seq n-k+1 */
		size_t k = reversed ? n - i : i + 1;
		int len;
		if (k == 1)
			len = snprintf(h, sizeof h, "Message-ID: <%zu@chain>\n", k);
		else
			len = snprintf(h, sizeof h, "Message-ID: <%zu@chain>\n%s: <%zu@chain>\n", k,
			    refs_header ? "References" : "In-Reply-To", k - 1);
		struct sort_msg m = { (uint32_t)i + 1, (uint32_t)i + 1, T0 + (int64_t)k, 1,
			(const uint8_t *)h, (size_t)len };
		sort_rec_make(&r[i], &m, thread_need(THREAD_REFERENCES));
	}
	struct buf out, want;
	buf_init(&out, 0);
	buf_init(&want, 0);
	CHECK_INT(thread_build(r, n, THREAD_REFERENCES, false, &out), 0);
	buf_putc(&want, '(');
	for (size_t k = 1; k <= n; k++)
		buf_printf(&want, "%s%zu", k > 1 ? " " : "", reversed ? n - k + 1 : k);
	buf_putc(&want, ')');
	CHECK_INT(out.len, want.len);
	CHECK(out.len == want.len && memcmp(out.data, want.data, out.len) == 0);
	double secs = seconds_since(&t0);
	printf("chain of %zu%s: %.2f s\n", n, reversed ? " (reversed)" : "", secs);
	CHECK(secs < 30);	/* generous: a quadratic walk takes far longer */
	buf_free(&out);
	buf_free(&want);
	recs_free(r, n);
	free(r);
}

T(references_deep_chain)
{
	chain(100000, false, false);
	chain(100000, true, true);
}

/*
 * A mailbox that makes the RFC's "is A a descendant of B" walk up the
 * parents quadratic: a chain 40000 deep, then 20000 messages each of
 * which links the deepest message above a root that has a child.  With
 * the link-cut tree each check is O(log n).
 */
T(references_adversarial_loops)
{
	size_t depth = 40000, roots = 20000, n = depth + 3 * roots, i = 0;
	struct sort_rec *r = xcalloc(n, sizeof *r);
	char h[160];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t k = 1; k <= depth; k++, i++) {
		int len = snprintf(h, sizeof h, "Message-ID: <c%zu@x>\nIn-Reply-To: <c%zu@x>\n", k,
		    k - 1);
		struct sort_msg m = { (uint32_t)i + 1, 0, T0 + (int64_t)i, 1, (const uint8_t *)h,
			(size_t)len };
		sort_rec_make(&r[i], &m, thread_need(THREAD_REFERENCES));
	}
	for (size_t j = 0; j < roots; j++) {
		for (int f = 0; f < 3; f++, i++) {
			int len;
			if (f == 0)
				len = snprintf(h, sizeof h, "Message-ID: <p%zu@x>\n", j);
			else if (f == 1)
				len = snprintf(h, sizeof h,
				    "Message-ID: <q%zu@x>\nReferences: <p%zu@x>\n", j, j);
			else
				len = snprintf(h, sizeof h, "Message-ID: <z%zu@x>\n"
				    "References: <c%zu@x> <p%zu@x>\n", j, depth, j);
			struct sort_msg m = { (uint32_t)i + 1, 0, T0 + (int64_t)i, 1,
				(const uint8_t *)h, (size_t)len };
			sort_rec_make(&r[i], &m, thread_need(THREAD_REFERENCES));
		}
	}
	struct buf out;
	buf_init(&out, 0);
	CHECK_INT(thread_build(r, n, THREAD_REFERENCES, false, &out), 0);
	/* one thread: the chain, then p_j (q_j)(z_j) under its end */
	CHECK(out.len > 0 && out.data[0] == '(' && out.data[out.len - 1] == ')');
	buf_cstr(&out);
	char tail[64];
	snprintf(tail, sizeof tail, "(%zu (%zu)(%zu)))", n - 2, n - 1, n);
	CHECK(out.len > strlen(tail)
	    && strcmp((char *)out.data + out.len - strlen(tail), tail) == 0);
	CHECK_INT(top_threads((char *)out.data), 1);
	double secs = seconds_since(&t0);
	printf("adversarial loop checks: %.2f s\n", secs);
	CHECK(secs < 30);
	buf_free(&out);
	recs_free(r, n);
	free(r);
}

/* 1000 messages, message k with References naming all k-1 before it
 * (half a million IDs in all). */
T(references_long_fields)
{
	size_t n = 1000;
	struct sort_rec *r = xcalloc(n, sizeof *r);
	struct buf h;
	buf_init(&h, 0);
	for (size_t k = 0; k < n; k++) {
		buf_reset(&h);
		buf_printf(&h, "Message-ID: <%zu@long>\nReferences:", k);
		for (size_t j = 0; j < k; j++)
			buf_printf(&h, " <%zu@long>", j);
		buf_puts(&h, "\n");
		struct sort_msg m = { (uint32_t)k + 1, 0, T0 + (int64_t)k, 1, h.data, h.len };
		sort_rec_make(&r[k], &m, thread_need(THREAD_REFERENCES));
	}
	struct buf out;
	buf_init(&out, 0);
	CHECK_INT(thread_build(r, n, THREAD_REFERENCES, false, &out), 0);
	CHECK(out.len > 6 && memcmp(out.data, "(1 2 3 ", 7) == 0);
	CHECK(out.len > 5 && memcmp(out.data + out.len - 5, "1000)", 5) == 0);
	recs_free(r, n);

	/* one message with 5000 references to missing messages, another
	 * replying into the middle of them */
	buf_reset(&h);
	buf_puts(&h, "Message-ID: <end@long>\nReferences:");
	for (size_t j = 0; j < 5000; j++)
		buf_printf(&h, " <m%zu@long>", j);
	buf_puts(&h, "\nSubject: a\n");
	struct sort_msg m = { 1, 0, T0, 1, h.data, h.len };
	sort_rec_make(&r[0], &m, thread_need(THREAD_REFERENCES));
	const char *h2 = "Message-ID: <mid@long>\nReferences: <m0@long> <m2500@long>\nSubject: b\n";
	struct sort_msg m2 = { 2, 0, T0 + 1, 1, (const uint8_t *)h2, strlen(h2) };
	sort_rec_make(&r[1], &m2, thread_need(THREAD_REFERENCES));
	CHECK_STR(thread_text(r, 2, THREAD_REFERENCES, false), "((1)(2))");
	recs_free(r, 2);
	buf_free(&out);
	buf_free(&h);
	free(r);
}

/* An output buffer that fills up reports it. */
T(thread_output_full)
{
	static const char *const h[] = { "Subject: a\n", "Subject: b\n", "Subject: c\n" };
	struct sort_rec r[3];
	struct buf b;
	recs_make(r, h, 3, thread_need(THREAD_REFERENCES));
	buf_init(&b, 5);
	CHECK_INT(thread_build(r, 3, THREAD_REFERENCES, false, &b), -1);
	CHECK(b.err);
	buf_free(&b);
	buf_init(&b, 5);
	CHECK_INT(thread_build(r, 3, THREAD_ORDEREDSUBJECT, false, &b), -1);
	buf_free(&b);
	buf_init(&b, 9);
	CHECK_INT(thread_build(r, 3, THREAD_REFERENCES, false, &b), 0);
	CHECK_INT(b.len, 9);
	buf_free(&b);
	recs_free(r, 3);
}

/* ---- imaptest's mailboxes ------------------------------------------------------ */

struct mbox {
	char *data;
	size_t n;
	struct {
		const char *text;
		size_t len;
		int64_t date;		/* the "From " line's: the internal date */
	} m[32];
};

/* "From user@domain  Fri Feb 22 23:00:00 2008 +0200": asctime, and an
 * optional zone. */
static int64_t
from_line_date(const char *line)
{
	char wd[4], mon[4], zone[8] = "";
	int day = 0, hh = 0, mm = 0, ss = 0, year = 0;
	const char *p = strchr(line + 5, ' ');
	if (p == NULL)
		return 0;
	while (*p == ' ')
		p++;
	int n = sscanf(p, "%3s %3s %d %d:%d:%d %d %7s", wd, mon, &day, &hh, &mm, &ss, &year, zone);
	if (n < 7)
		return 0;
	int64_t t = hdrtext_days(year, hdrtext_month((const uint8_t *)mon, 3), day) * 86400
	    + hh * 3600 + mm * 60 + ss;
	if (n == 8 && (zone[0] == '+' || zone[0] == '-')) {
		int z = atoi(zone + 1);
		t -= (zone[0] == '+' ? 1 : -1) * (int64_t)(z / 100 * 60 + z % 100) * 60;
	}
	return t;
}

/* Split an mbox: a message starts after each "From " line and ends with
 * its last line end; the blank line before the next "From " line (or at
 * the end of the file) separates. */
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
		if (next == NULL && end - start >= 2 && end[-1] == '\n' && end[-2] == '\n')
			end--;		/* the file's last blank line separates too */
		mb->m[mb->n].text = start;
		mb->m[mb->n].len = (size_t)(end - start);
		mb->m[mb->n].date = from_line_date(p);
		mb->n++;
		p = next ? next + 1 : NULL;
	}
	return mb->n > 0;
}

/*
 * Records for the messages of mb listed in pick ("1 3 4": 1-based, in
 * mailbox order after an expunge), numbered 1..; NULL picks all.  When
 * same_date, every internal date is the same (messages APPENDed in one
 * go by imaptest).
 */
static size_t
mbox_recs(const struct mbox *mb, const char *pick, bool same_date, unsigned need,
    struct sort_rec *r)
{
	size_t n = 0;
	for (size_t i = 0; i < mb->n; i++) {
		if (pick != NULL) {
			char want[32];
			snprintf(want, sizeof want, " %zu ", i + 1);
			char list[64];
			snprintf(list, sizeof list, " %s ", pick);
			if (strstr(list, want) == NULL)
				continue;
		}
		const uint8_t *t = (const uint8_t *)mb->m[i].text;
		struct sort_msg m = { (uint32_t)n + 1, (uint32_t)i + 1,
			same_date ? T0 : mb->m[i].date, mime_crlf_size(t, mb->m[i].len),
			t, mb->m[i].len };
		sort_rec_make(&r[n++], &m, need);
	}
	return n;
}

static void
imaptest_sort(const char *file, const char *const *cases, size_t n_cases)
{
	struct mbox mb;
	struct sort_rec r[32];
	if (!mbox_load(&mb, file)) {
		fprintf(stderr, "cannot read " DATA "%s\n", file);
		CHECK(0);
		free(mb.data);
		return;
	}
	unsigned all = SORT_NEED_SUBJECT | SORT_NEED_FROM | SORT_NEED_TO | SORT_NEED_CC
	    | SORT_NEED_DFROM | SORT_NEED_DTO | SORT_NEED_DATE;
	size_t n = mbox_recs(&mb, NULL, false, all, r);
	for (size_t i = 0; i < n_cases; i += 2) {
		const char *got = sort_text(r, n, cases[i]);
		if (strcmp(got, cases[i + 1]) != 0)
			fprintf(stderr, "%s: %s\n", file, cases[i]);
		CHECK_STR(got, cases[i + 1]);
	}
	recs_free(r, n);
	free(mb.data);
}

T(imaptest_sort_mailboxes)
{
	static const char *const addresses[] = {
		"(FROM)", "3 1 2", "(TO)", "3 1 2", "(CC)", "3 1 2",
		"(REVERSE FROM)", "1 2 3", "(REVERSE TO)", "1 2 3", "(REVERSE CC)", "1 2 3",
		"(FROM REVERSE ARRIVAL)", "3 2 1", "(TO REVERSE ARRIVAL)", "3 2 1",
		"(CC REVERSE ARRIVAL)", "3 2 1",
	};
	static const char *const arrival[] = {
		"(ARRIVAL)", "1 3 2 4 5", "(REVERSE ARRIVAL)", "2 4 5 3 1",
		"(ARRIVAL REVERSE SIZE)", "1 3 5 4 2",
	};
	static const char *const date[] = {
		"(DATE)", "1 3 7 5 2 4 6", "(REVERSE DATE)", "2 4 6 5 3 7 1",
		"(DATE REVERSE SIZE)", "1 7 3 5 6 4 2",
	};
	static const char *const dfrom[] = {
		"(DISPLAYFROM)", "2 3 4 1 5", "(REVERSE DISPLAYFROM)", "5 1 4 3 2",
	};
	static const char *const dto[] = {
		"(DISPLAYTO)", "6 2 3 8 4 1 5 7", "(REVERSE DISPLAYTO)", "7 5 1 4 8 3 2 6",
	};
	static const char *const size[] = {
		"(SIZE)", "1 8 2 6 3 5 4 7", "(REVERSE SIZE)", "4 7 3 5 2 6 1 8",
		"(SIZE REVERSE ARRIVAL)", "8 1 6 2 5 3 7 4",
	};
	static const char *const subject[] = {
		"(SUBJECT)", "9 10 1 14 3 5 11 6 15 2 7 12 13 8 4",
		"(REVERSE SUBJECT)", "4 8 2 7 12 13 15 6 3 5 11 14 1 9 10",
		"(SUBJECT REVERSE SIZE)", "10 9 1 14 11 5 3 6 15 13 12 7 2 8 4",
	};
	imaptest_sort("sort-addresses.mbox", addresses, NELEM(addresses));
	imaptest_sort("sort-arrival.mbox", arrival, NELEM(arrival));
	imaptest_sort("sort-date.mbox", date, NELEM(date));
	imaptest_sort("sort-display-from.mbox", dfrom, NELEM(dfrom));
	imaptest_sort("sort-display-to.mbox", dto, NELEM(dto));
	imaptest_sort("sort-size.mbox", size, NELEM(size));
	imaptest_sort("sort-subject.mbox", subject, NELEM(subject));
}

/* THREAD over the messages pick of file (see mbox_recs). */
static const char *
imaptest_thread(const char *file, const char *pick, bool same_date, enum thread_alg alg)
{
	static char s[1024];
	struct mbox mb;
	struct sort_rec r[32];
	if (!mbox_load(&mb, file)) {
		fprintf(stderr, "cannot read " DATA "%s\n", file);
		free(mb.data);
		return "(no mailbox)";
	}
	size_t n = mbox_recs(&mb, pick, same_date, thread_need(alg), r);
	snprintf(s, sizeof s, "%s", thread_text(r, n, alg, false));
	recs_free(r, n);
	free(mb.data);
	return s;
}

T(imaptest_thread_mailboxes)
{
	static const struct {
		const char *file, *pick;
		bool same_date;
		enum thread_alg alg;
		const char *want;
	} c[] = {
		{ "thread.mbox", NULL, false, THREAD_REFERENCES, "(3 2)(1)" },
		{ "thread.mbox", "2 3", false, THREAD_REFERENCES, "(2 1)" },	/* 1 expunged */
		{ "thread2.mbox", NULL, false, THREAD_REFERENCES, "(1)(2)" },
		{ "thread3.mbox", NULL, false, THREAD_REFERENCES, "(1 2)" },
		{ "thread4.mbox", NULL, false, THREAD_REFERENCES, "(1 2)" },
		/* thread5 and thread8 APPEND their messages one by one */
		{ "thread5.mbox", "1 2 3 4", true, THREAD_REFERENCES, "(1 (2 4)(3))" },
		{ "thread5.mbox", "3 4", true, THREAD_REFERENCES, "(1)(2)" },
		{ "thread5.mbox", "3 4 5", true, THREAD_REFERENCES, "(1)((2)(3))" },
		{ "thread6.mbox", NULL, false, THREAD_REFERENCES, "((1)(2))" },
		{ "thread7.mbox", NULL, false, THREAD_REFERENCES, "(1 (2 3)(4))" },
		{ "thread7.mbox", "1 3 4", false, THREAD_REFERENCES, "(1 3 2)" },
		{ "thread8.mbox", "1 2", true, THREAD_REFERENCES, "(1 2)" },
		{ "thread8.mbox", "1", true, THREAD_REFERENCES, "(1)" },
		{ "thread8.mbox", "1 3", true, THREAD_REFERENCES, "(1 2)" },
		{ "thread-orderedsubject.mbox", NULL, false, THREAD_ORDEREDSUBJECT,
		  "(1)(2 (7)(12)(13))(3 (5)(11))(4)(6)(8)(9 10)(14)(15)" },
		{ "thread-orderedsubject2.mbox", NULL, false, THREAD_ORDEREDSUBJECT,
		  "(4 (2)(8)(6))(3 (1)(7)(5))" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		const char *got = imaptest_thread(c[i].file, c[i].pick, c[i].same_date, c[i].alg);
		if (strcmp(got, c[i].want) != 0)
			fprintf(stderr, "%s (%s)\n", c[i].file, c[i].pick ? c[i].pick : "all");
		CHECK_STR(got, c[i].want);
	}
}

int
main(void)
{
	RUN(criteria);
	RUN(algorithms);
	RUN(base_subject);
	RUN(base_subject_blob_chain);
	RUN(address_keys);
	RUN(first_address);
	RUN(sent_date);
	RUN(message_ids);
	RUN(references_limits);
	RUN(sort_keys);
	RUN(sort_casemap);
	RUN(orderedsubject);
	RUN(references_rfc_shape);
	RUN(references_missing_parents);
	RUN(references_duplicates_and_no_ids);
	RUN(references_loops);
	RUN(references_reparent);
	RUN(references_subjects);
	RUN(references_dates);
	RUN(references_deep_chain);
	RUN(references_adversarial_loops);
	RUN(references_long_fields);
	RUN(thread_output_full);
	RUN(imaptest_sort_mailboxes);
	RUN(imaptest_thread_mailboxes);
	return t_done("imap_sortthread");
}

/*
 * fuzz/fuzz_imap_search.c - libFuzzer harness for imap/search.c and
 * imap/hdrtext.c.
 *
 * Input:   byte 0 and 1 the flags of two messages, byte 2 their keywords,
 *          byte 3 picks "*" values and whether "$" is set; the rest is
 *          SEARCH criteria text, made into "t SEARCH <rest>\r\n" and parsed
 *          by imap_parse (literals and all).  The rest is also a message of
 *          its own and goes straight through hdrtext's decoder, fold and
 *          date parser.
 * Checks:  no crash, leak or sanitizer report; compile gives a program or
 *          a reason; evaluation over five messages (three fixed ones with
 *          encoded-words, folding, repeated fields; the input; one whose
 *          text cannot be loaded) gives 0 or 1, or -1 only for the failing
 *          load of a program that needs text; load is never called when
 *          search_needs_text is false, at most once per evaluation; the
 *          same message twice gives the same answer; the formatted program
 *          compiles to one that answers the same and formats the same;
 *          "NOT (program)" answers the opposite.  hdrtext: decoding grows
 *          text at most threefold, folding never grows it and is
 *          idempotent, a parsed date is a real calendar date.
 * Seeds:   fuzz/corpus/imap_search/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "imap/hdrtext.h"
#include "imap/parse.h"
#include "imap/search.h"
#include "imap/seqset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_MSG 5

struct fmsg {
	const uint8_t *text;	/* NULL: load fails */
	size_t len;
	unsigned loads;
};

static int
fload(void *arg, const uint8_t **msg, size_t *len)
{
	struct fmsg *m = arg;
	m->loads++;
	if (m->text == NULL)
		return -1;
	*msg = m->text;
	*len = m->len;
	return 0;
}

static int
fkeyword(void *arg, const uint8_t *name, size_t len)
{
	static const char *const kws[] = { "$Junk", "work", "a", "$Forwarded" };
	(void)arg;
	for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++)
		if (strlen(kws[i]) == len && memcmp(kws[i], name, len) == 0)
			return (int)(i * 37 % 130);	/* some past the first word */
	return -1;
}

static const char M1[] =
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= =?iso-8859-1?B?SvZyZw==?=\r\n"
	"From: Alice <alice@example.org>\r\n"
	"To: a@example.org\r\nTo: b@example.net\r\n"
	"Date: Sat, 24 Mar 2007 23:00:00 +0200\r\n"
	"\r\n"
	"body one\r\n";
static const char M2[] =
	"Subject: a very\r\n long folded\r\n\tsubject\r\n"
	"X-Extra: hello\r\nCc: =?koi8-r?b?8NLJ18XU?=\r\n"
	"Date: 25 Mar 07 01:00 GMT\r\n"
	"\r\nПРИВЕТ мир\r\n";
static const char M3[] = "no header line\nSubject: x\n\nbody";

struct world {
	struct fmsg fm[N_MSG];
	struct search_msg m[N_MSG];
	uint64_t kw[N_MSG][3];
	struct search_env env;
	struct seqset saved;
};

static void
world_init(struct world *w, const uint8_t *data, const uint8_t *rest, size_t rlen)
{
	static const uint32_t stars[4] = { 0, 1, 5, UINT32_MAX };
	memset(w, 0, sizeof *w);
	w->fm[0] = (struct fmsg){ (const uint8_t *)M1, sizeof M1 - 1, 0 };
	w->fm[1] = (struct fmsg){ (const uint8_t *)M2, sizeof M2 - 1, 0 };
	w->fm[2] = (struct fmsg){ (const uint8_t *)M3, sizeof M3 - 1, 0 };
	w->fm[3] = (struct fmsg){ rest, rlen, 0 };
	w->fm[4] = (struct fmsg){ NULL, 0, 0 };
	for (int i = 0; i < N_MSG; i++) {
		w->kw[i][0] = (uint64_t)data[2] << (i * 3);
		w->kw[i][1] = (uint64_t)data[2] * 0x0101010101010101ULL >> i;
		w->kw[i][2] = i & 1 ? ~0ULL : 0;
		w->m[i] = (struct search_msg){
			.seq = (uint32_t)i + 1, .uid = (uint32_t)(i + 1) * 10,
			.flags = (i & 1 ? data[1] : data[0]) >> (i / 2),
			.keywords = w->kw[i], .n_keywords = (size_t)(i % 4),
			.internaldate = 1174770000 + (int64_t)i * 40000 - (i == 4 ? 1174800000 : 0),
			.size = (uint64_t)i * 1000, .modseq = (uint64_t)i * 7,
			.load = fload, .arg = &w->fm[i],
		};
	}
	seqset_init(&w->saved);
	seqset_add(&w->saved, 10, 30);
	seqset_normalize(&w->saved);
	w->env = (struct search_env){
		.max_seq = stars[data[3] & 3], .max_uid = stars[(data[3] >> 2) & 3] * 10,
		.saved = data[3] & 16 ? &w->saved : NULL, .now = 1174800000,
		.keyword = fkeyword,
	};
}

static struct imap_limits
limits(void)
{
	struct imap_limits l;
	imap_limits_preauth(&l);
	l.line_max = 1 << 20;
	l.literal_max = 1 << 20;
	l.lminus_max = SIZE_MAX;
	l.literals_max = 1 << 20;
	return l;
}

/* Parse "t SEARCH <crit>\r\n" and compile it: 0 and *p, or -1. */
static int
compile(const uint8_t *crit, size_t clen, const struct search_env *env,
    struct search_prog **p)
{
	static const char pre[] = "t SEARCH ";
	struct imap_limits lim = limits();
	size_t len = sizeof pre - 1 + clen + 2;
	uint8_t *cmd = malloc(len);
	struct imap_cmd c;
	const char *why = NULL;
	int rc = -1;

	if (cmd == NULL)
		abort();
	memcpy(cmd, pre, sizeof pre - 1);
	if (clen > 0)
		memcpy(cmd + sizeof pre - 1, crit, clen);
	memcpy(cmd + len - 2, "\r\n", 2);
	if (imap_parse(cmd, len, &lim, &c, &why) == 0) {
		rc = search_compile(c.args, c.n_args, env, p, &why);
		if (rc != 0 && (why == NULL || *p != NULL))
			abort();
		imap_cmd_free(&c);
	}
	free(cmd);
	return rc;
}

/* Evaluate over the world; results in r[]. */
static void
eval_all(struct search_prog *p, struct world *w, int *r)
{
	bool needs = search_needs_text(p);
	for (int i = 0; i < N_MSG; i++) {
		unsigned before = w->fm[i].loads;
		r[i] = search_eval(p, &w->m[i]);
		unsigned loads = w->fm[i].loads - before;
		if (r[i] < -1 || r[i] > 1 || loads > 1 || (!needs && loads != 0))
			abort();
		if (r[i] == -1 && (w->fm[i].text != NULL || !needs || loads != 1))
			abort();
		if (search_eval(p, &w->m[i]) != r[i])
			abort();
	}
}

static void
check_hdrtext(const uint8_t *p, size_t len)
{
	struct buf b;
	buf_init(&b, 0);
	if (hdrtext_decode(&b, p, len) != 0 || b.len > 3 * len)
		abort();
	uint8_t *f1 = malloc(b.len + 1), *f2 = malloc(b.len + 1);
	if (f1 == NULL || f2 == NULL)
		abort();
	size_t n1 = hdrtext_fold(f1, b.len ? b.data : (const uint8_t *)"", b.len);
	size_t n2 = hdrtext_fold(f2, f1, n1);
	if (n1 > b.len || n2 != n1 || (n1 > 0 && memcmp(f1, f2, n1) != 0))
		abort();
	free(f1);
	free(f2);
	buf_free(&b);

	struct hdrtext_date d;
	if (hdrtext_parse_date(p, len, &d)) {
		if (d.mon < 1 || d.mon > 12 || d.day < 1 || d.day > hdrtext_mdays(d.year, d.mon))
			abort();
		int64_t y;
		int m, dd;
		hdrtext_civil(hdrtext_days(d.year, d.mon, d.day), &y, &m, &dd);
		if (y != d.year || m != d.mon || dd != d.day)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	const uint8_t *rest = data + 4;
	size_t rlen = size - 4;
	struct world w;
	world_init(&w, data, rest, rlen);
	check_hdrtext(rest, rlen);

	struct search_prog *p = NULL, *q = NULL, *n = NULL;
	if (compile(rest, rlen, &w.env, &p) != 0)
		goto out;
	int r[N_MSG], rq[N_MSG], rn[N_MSG];
	eval_all(p, &w, r);

	/* the formatted program means the same and prints the same */
	struct buf f1, f2, fn;
	buf_init(&f1, 0);
	buf_init(&f2, 0);
	buf_init(&fn, 0);
	if (search_format(p, &f1) != 0 || compile(f1.data, f1.len, &w.env, &q) != 0)
		abort();
	eval_all(q, &w, rq);
	if (memcmp(r, rq, sizeof r) != 0 || search_format(q, &f2) != 0 || f1.len != f2.len
	    || memcmp(f1.data, f2.data, f1.len) != 0)
		abort();
	if (search_needs_text(p) != search_needs_text(q)
	    || search_uses_modseq(p) != search_uses_modseq(q))
		abort();

	/* its negation answers the opposite (when it fits the limits) */
	buf_puts(&fn, "NOT (");
	buf_append(&fn, f1.data, f1.len);
	buf_puts(&fn, ")");
	if (compile(fn.data, fn.len, &w.env, &n) == 0) {
		eval_all(n, &w, rn);
		for (int i = 0; i < N_MSG; i++)
			if (r[i] >= 0 && rn[i] >= 0 && rn[i] != !r[i])
				abort();
	}
	buf_free(&f1);
	buf_free(&f2);
	buf_free(&fn);
out:
	search_free(&p);
	search_free(&q);
	search_free(&n);
	seqset_free(&w.saved);
	return 0;
}

/*
 * fuzz/fuzz_spf.c - libFuzzer harness for the SPF evaluator (msgauth/spf.c).
 *
 * Input:   NUL-separated fields: the SPF record published at fuzz.example,
 *          a macro-string, the MAIL FROM, the HELO, and then an answer
 *          script: bytes that decide, question by question, the status
 *          and the records of every DNS answer the evaluation asks for
 *          (TXT strings, names and addresses come from the script too).
 * Checks:  no crash, leak or sanitizer report; spf_record_check and
 *          spf_expand on the raw fields; spf_eval finishes well within
 *          the bound of rounds the lookup limits give (fewer than 30),
 *          never asks for a question already answered, asks only
 *          normalised names, and fills a consistent outcome (strings
 *          terminated, problem set exactly for none/temperror/permerror,
 *          explanation only on fail, counters within the limits, a
 *          printable LF-terminated trace).
 * Seeds:   fuzz/corpus/spf/ (records from the RFC 7208 suite).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "dns/lookup.h"
#include "msgauth/spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROUNDS_MAX	60
#define ROUNDS_BOUND	30	/* what the limits allow, with room */
#define FIELD_MAX	4096

#define ENSURE(c) do { if (!(c)) abort(); } while (0)

struct script {
	const uint8_t *p, *end;
};

static uint8_t
take(struct script *s)
{
	return s->p < s->end ? *s->p++ : 0;
}

/* A field of the input up to the next NUL, as a C string (truncated). */
static const uint8_t *
field(const uint8_t *p, const uint8_t *end, char *dst, size_t *len)
{
	const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
	size_t n = (size_t)((nul ? nul : end) - p);
	*len = n < FIELD_MAX ? n : FIELD_MAX;
	memcpy(dst, p, *len);
	dst[*len] = '\0';
	return nul ? nul + 1 : end;
}

/* A name for an MX or PTR answer: one of a few that lead back into the
 * fuzzed data, or raw script bytes (the evaluator must cope with junk). */
static void
script_name(struct script *s, char *dst)
{
	static const char *names[] = {
		"fuzz.example", "a.fuzz.example", "mx.fuzz.example", "", "b.example",
		"1.2.0.192.in-addr.arpa", "x\\032y.example",
	};
	uint8_t b = take(s);
	if (b < 200) {
		strcpy(dst, names[b % (sizeof names / sizeof names[0])]);
		return;
	}
	size_t n = take(s) % 40, i;
	for (i = 0; i < n; i++)
		dst[i] = (char)take(s);
	dst[i] = '\0';
}

/* The answer to one question, decided by the script. */
static void
answer(struct script *s, const struct spf_request *rq, const char *record, size_t reclen,
    struct lookup *l)
{
	uint8_t b = take(s);
	switch (b % 8) {
	case 0: l->status = LOOKUP_NXDOMAIN; return;
	case 1: l->status = LOOKUP_TEMPFAIL; l->why = "timeout"; return;
	case 2: l->status = LOOKUP_OK; return;
	case 3: l->status = LOOKUP_OK; l->sec = LOOKUP_BOGUS; return;
	default: l->status = LOOKUP_OK; break;
	}
	size_t n = (size_t)(b >> 3) % 12 + 1;
	for (size_t i = 0; i < n; i++) {
		uint8_t buf[256];
		char name[LOOKUP_NAME_MAX + 1];
		size_t len;
		switch (l->type) {
		case LOOKUP_TXT:
			if (i == 0 && strcmp(l->name, "fuzz.example") == 0) {
				lookup_add(l, 0, record, reclen);
				break;
			}
			if (take(s) < 128) {	/* the fuzzed record again, elsewhere */
				lookup_add(l, 0, record, reclen);
				break;
			}
			len = take(s);
			for (size_t j = 0; j < len; j++)
				buf[j] = take(s);
			lookup_add(l, 0, buf, len);
			break;
		case LOOKUP_A:
		case LOOKUP_AAAA:
			len = l->type == LOOKUP_A ? 4 : 16;
			/* near the client often, so prefixes get tested */
			memcpy(buf, rq->family == AF_INET6 && len == 16 ? rq->ip : rq->ip, len);
			buf[take(s) % len] ^= take(s);
			lookup_add(l, 0, buf, take(s) == 255 ? len - 1 : len);
			break;
		default:
			script_name(s, name);
			lookup_add(l, take(s), name, strlen(name));
			break;
		}
	}
}

static void
check_outcome(const struct spf_outcome *o)
{
	ENSURE(o->result >= SPF_NONE && o->result <= SPF_PERMERROR);
	ENSURE(memchr(o->domain, 0, sizeof o->domain) != NULL);
	ENSURE(memchr(o->identity, 0, sizeof o->identity) != NULL);
	ENSURE(memchr(o->mechanism, 0, sizeof o->mechanism) != NULL);
	ENSURE(memchr(o->explanation, 0, sizeof o->explanation) != NULL);
	ENSURE(memchr(o->problem, 0, sizeof o->problem) != NULL);
	bool err = o->result == SPF_NONE || o->result == SPF_TEMPERROR ||
	    o->result == SPF_PERMERROR;
	ENSURE(err == (o->problem[0] != '\0'));
	ENSURE(o->result == SPF_FAIL || o->explanation[0] == '\0');
	for (const char *p = o->explanation; *p; p++)
		ENSURE(*p >= 0x20 && *p <= 0x7e);
	ENSURE(o->lookups <= 11 && o->void_lookups <= 3);
}

static void
check_trace(struct buf *t)
{
	if (t->err || t->len == 0)
		return;
	ENSURE(t->data[t->len - 1] == '\n');
	for (size_t i = 0; i < t->len; i++)
		ENSURE(t->data[i] == '\n' || (t->data[i] >= 0x20 && t->data[i] <= 0x7e));
}

static void
evaluate(struct spf_request *rq, struct script *s, const char *record, size_t reclen)
{
	struct lookup_set *set = lookup_set_new();
	struct spf_need need[SPF_NEED_MAX];
	struct spf_outcome out;
	struct buf trace;
	int round;
	buf_init(&trace, 1 << 16);
	for (round = 0; round < ROUNDS_MAX; round++) {
		size_t n = 0;
		if (spf_eval(rq, set, &out, need, &n, &trace) == SPF_DONE)
			break;
		check_trace(&trace);
		ENSURE(n >= 1 && n <= SPF_NEED_MAX);
		for (size_t i = 0; i < n; i++) {
			uint8_t wire[256];
			char back[LOOKUP_NAME_MAX + 1];
			size_t wl = lookup_name_to_wire(wire, need[i].name);
			ENSURE(wl > 0 && lookup_name_from_wire(back, wire, wl));
			ENSURE(strcmp(back, need[i].name) == 0);
			ENSURE(lookup_set_find(set, need[i].type, need[i].name) == NULL);
			for (size_t j = 0; j < i; j++)
				ENSURE(need[j].type != need[i].type ||
				    strcmp(need[j].name, need[i].name) != 0);
			struct lookup l;
			lookup_init(&l, need[i].type, need[i].name);
			answer(s, rq, record, reclen, &l);
			lookup_set_put(set, &l);
			lookup_clear(&l);
		}
	}
	ENSURE(round < ROUNDS_BOUND);
	check_outcome(&out);
	check_trace(&trace);
	buf_free(&trace);
	lookup_set_free(&set);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char record[FIELD_MAX + 1], spec[FIELD_MAX + 1], sender[FIELD_MAX + 1],
	    helo[FIELD_MAX + 1];
	const uint8_t *p = data, *end = data + size;
	size_t reclen, speclen, n;
	p = field(p, end, record, &reclen);
	p = field(p, end, spec, &speclen);
	p = field(p, end, sender, &n);
	p = field(p, end, helo, &n);
	struct script s = { p, end };

	char err[256], out[600];
	/* the raw record, NUL bytes and all, and the C-string view of it */
	(void)spf_record_check((const char *)data, (size_t)(memchr(data, 0, size) ?
	    (const uint8_t *)memchr(data, 0, size) - data : (ptrdiff_t)size), err, sizeof err);
	if (spf_record_check(record, reclen, err, sizeof err) != 0)
		ENSURE(err[0] != '\0');

	struct spf_request rq;
	memset(&rq, 0, sizeof rq);
	uint8_t mode = take(&s);
	if (mode & 1) {
		rq.family = AF_INET6;
		inet_pton(AF_INET6, mode & 2 ? "::ffff:192.0.2.1" : "2001:db8::1", rq.ip);
	} else {
		rq.family = AF_INET;
		inet_pton(AF_INET, "192.0.2.1", rq.ip);
	}
	rq.sender = sender[0] != '\0' || (mode & 4) ? sender : "user@fuzz.example";
	rq.helo = helo;
	rq.receiver = mode & 8 ? NULL : "mx.receiver.example";
	rq.check_helo = (mode & 16) != 0;
	rq.now = 1700000000;

	for (int exp = 0; exp < 2; exp++) {
		int r = spf_expand(&rq, "fuzz.example", spec, exp, out, sizeof out, err, sizeof err);
		ENSURE(memchr(out, 0, sizeof out) != NULL);
		ENSURE(r == 0 || err[0] != '\0');
	}
	evaluate(&rq, &s, record, reclen);
	return 0;
}

/*
 * tests/unit/test_spf.c - SPF evaluator (msgauth/spf.c): the RFC 7208 test
 * suite (tests/data/spf/rfc7208.cases, generated from the openspf YAML),
 * macro expansion (the RFC 7208 7.4 examples), record syntax, lookup
 * limits, trace lines and the batches of questions asked.
 *
 * DNS answers come from a small fake zone that behaves like the suite's
 * reference driver (pyspf test/testspf.py): see zone_fill().
 * Run from the repository root (the case file path is relative).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/util.h"
#include "dns/lookup.h"
#include "msgauth/spf.h"
#include "t.h"

#define CASES_FILE "tests/data/spf/rfc7208.cases"
#define TYPE_SPF 99
#define ROUNDS_MAX 60

/* --- a fake zone ------------------------------------------------------------ */

enum { ROW_RR, ROW_TIMEOUT, ROW_TYPETIMEOUT };

struct zrow {
	char name[LOOKUP_NAME_MAX + 1];	/* normalised */
	int kind;
	uint16_t type;
	uint16_t pref;
	uint8_t *data;
	size_t len;
};

struct zone {
	struct zrow *rows;
	size_t n, cap;
};

static void
zone_free(struct zone *z)
{
	for (size_t i = 0; i < z->n; i++)
		free(z->rows[i].data);
	free(z->rows);
	memset(z, 0, sizeof *z);
}

static struct zrow *
zone_row(struct zone *z, const char *name, int kind, uint16_t type)
{
	if (z->n == z->cap) {
		z->cap = z->cap ? z->cap * 2 : 16;
		z->rows = xreallocarray(z->rows, z->cap, sizeof *z->rows);
	}
	struct zrow *r = &z->rows[z->n++];
	memset(r, 0, sizeof *r);
	if (!lookup_name_norm(r->name, name)) {
		fprintf(stderr, "bad zone name %s\n", name);
		abort();
	}
	r->kind = kind;
	r->type = type;
	return r;
}

/* Add a record in presentation form: A/AAAA text, MX "pref host", PTR and
 * CNAME names, TXT bytes (len given, or -1 for strlen). */
static void
zadd_len(struct zone *z, const char *name, uint16_t type, const char *val, long len)
{
	struct zrow *r = zone_row(z, name, ROW_RR, type);
	uint8_t bin[16];
	char nm[LOOKUP_NAME_MAX + 1];
	size_t n = len < 0 ? strlen(val) : (size_t)len;
	const char *host = val;
	switch (type) {
	case LOOKUP_A:
	case LOOKUP_AAAA:
		if (inet_pton(type == LOOKUP_A ? AF_INET : AF_INET6, val, bin) != 1) {
			fprintf(stderr, "bad address %s\n", val);
			abort();
		}
		n = type == LOOKUP_A ? 4 : 16;
		val = (const char *)bin;
		break;
	case LOOKUP_MX:
		r->pref = (uint16_t)strtoul(val, NULL, 10);
		host = strchr(val, ' ');
		host = host ? host + 1 : "";
		/* FALLTHROUGH */
	case LOOKUP_PTR:
	case LOOKUP_CNAME:
		if (!lookup_name_norm(nm, host)) {
			fprintf(stderr, "bad name %s\n", host);
			abort();
		}
		val = nm;
		n = strlen(nm);
		break;
	default:
		break;
	}
	r->data = xmalloc(n + 1);
	memcpy(r->data, val, n);
	r->data[n] = 0;
	r->len = n;
}

static void
zadd(struct zone *z, const char *name, uint16_t type, const char *val)
{
	zadd_len(z, name, type, val, -1);
}

/* Answer (type, name) like testspf.py's DNSLookup: the records of that
 * type at the name; a bare TIMEOUT reached before any of them, or a
 * TYPE: TIMEOUT for that type, is a timeout; a name with no rows is
 * NXDOMAIN, or a timeout when it starts with "error.".  CNAMEs are
 * followed (the real resolver does that); a chain over 8 is a timeout. */
static void
zone_fill(const struct zone *z, uint16_t type, const char *name, struct lookup *l, int hops)
{
	bool exists = false, seen = false;
	for (size_t i = 0; i < z->n; i++) {
		const struct zrow *r = &z->rows[i];
		if (strcmp(r->name, name) != 0)
			continue;
		exists = true;
		if (r->kind == ROW_RR && r->type == LOOKUP_CNAME && type != LOOKUP_CNAME) {
			if (hops >= 8) {
				l->status = LOOKUP_TEMPFAIL;
				l->why = "CNAME loop";
				return;
			}
			zone_fill(z, type, (const char *)r->data, l, hops + 1);
			return;
		}
	}
	if (!exists) {
		bool err = strncmp(name, "error.", 6) == 0;
		l->status = err ? LOOKUP_TEMPFAIL : LOOKUP_NXDOMAIN;
		l->why = err ? "timeout" : NULL;
		return;
	}
	for (size_t i = 0; i < z->n; i++) {
		const struct zrow *r = &z->rows[i];
		if (strcmp(r->name, name) != 0)
			continue;
		if ((r->kind == ROW_TIMEOUT && !seen) ||
		    (r->kind == ROW_TYPETIMEOUT && r->type == type)) {
			lookup_clear(l);
			l->status = LOOKUP_TEMPFAIL;
			l->why = "timeout";
			return;
		}
		if (r->kind == ROW_TIMEOUT)
			break;
		if (r->kind == ROW_RR && r->type == type) {
			seen = true;
			lookup_add(l, r->pref, r->data, r->len);
		}
	}
	l->status = LOOKUP_OK;
}

struct run {
	struct spf_outcome out;
	int rounds;
	size_t asked;		/* questions asked in all */
	size_t max_batch;
	char err[256];		/* a broken promise of the API, or "" */
};

/* Evaluate to the end, answering every need from z. */
static void
run_spf(const struct spf_request *rq, const struct zone *z, struct run *res, struct buf *trace)
{
	struct lookup_set *set = lookup_set_new();
	struct spf_need need[SPF_NEED_MAX];
	memset(res, 0, sizeof *res);
	for (res->rounds = 1; res->rounds <= ROUNDS_MAX; res->rounds++) {
		size_t n = 99;
		if (spf_eval(rq, set, &res->out, need, &n, trace) == SPF_DONE)
			break;
		if (n == 0 || n > SPF_NEED_MAX) {
			snprintf(res->err, sizeof res->err, "SPF_NEED with %zu needs", n);
			break;
		}
		if (n > res->max_batch)
			res->max_batch = n;
		for (size_t i = 0; i < n; i++) {
			char norm[LOOKUP_NAME_MAX + 1];
			uint8_t wire[256];
			size_t wl = lookup_name_to_wire(wire, need[i].name);
			if (lookup_set_find(set, need[i].type, need[i].name) != NULL)
				snprintf(res->err, sizeof res->err, "asked again: %s %s",
				    lookup_type_name(need[i].type), need[i].name);
			/* normalised: the wire form comes back as the same text */
			if (wl == 0 || !lookup_name_from_wire(norm, wire, wl) ||
			    strcmp(norm, need[i].name) != 0)
				snprintf(res->err, sizeof res->err, "name not normalised: %s",
				    need[i].name);
			struct lookup l;
			lookup_init(&l, need[i].type, need[i].name);
			zone_fill(z, need[i].type, need[i].name, &l, 0);
			lookup_set_put(set, &l);
			lookup_clear(&l);
			res->asked++;
		}
		if (res->err[0] != '\0')
			break;
	}
	if (res->rounds > ROUNDS_MAX)
		snprintf(res->err, sizeof res->err, "no result after %d rounds", ROUNDS_MAX);
	lookup_set_free(&set);
}

static void
req_init(struct spf_request *rq, const char *ip, const char *sender, const char *helo)
{
	memset(rq, 0, sizeof *rq);
	if (inet_pton(AF_INET, ip, rq->ip) == 1) {
		rq->family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, rq->ip) == 1) {
		rq->family = AF_INET6;
	} else {
		fprintf(stderr, "bad ip %s\n", ip);
		abort();
	}
	rq->sender = sender;
	rq->helo = helo;
	rq->receiver = "mx.receiver.example";
	rq->now = 1700000000;
}

/* --- the RFC 7208 suite ------------------------------------------------------- */

struct scase {
	char id[128];
	struct zone *zone;
	char helo[1024], host[128], mailfrom[1024];
	char results[8][16];
	size_t n_results;
	bool has_expl;
	char expl[1024];
};

struct suite {
	struct zone *zones;
	size_t n_zones;
	struct scase *cases;
	size_t n_cases;
};

/* Undo the escaping of yml2cases.py: \xNN, and "" for the empty field. */
static size_t
unescape(const char *tok, char *dst, size_t dstsz)
{
	size_t o = 0;
	if (strcmp(tok, "\"\"") == 0) {
		dst[0] = '\0';
		return 0;
	}
	for (const char *p = tok; *p && o + 1 < dstsz; p++) {
		if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
			char hx[3] = { p[2], p[3], 0 };
			dst[o++] = (char)strtoul(hx, NULL, 16);
			p += 3;
		} else {
			dst[o++] = *p;
		}
	}
	dst[o] = '\0';
	return o;
}

static uint16_t
type_code(const char *t)
{
	static const struct { const char *n; uint16_t c; } types[] = {
		{ "A", LOOKUP_A }, { "AAAA", LOOKUP_AAAA }, { "MX", LOOKUP_MX },
		{ "PTR", LOOKUP_PTR }, { "CNAME", LOOKUP_CNAME }, { "TXT", LOOKUP_TXT },
		{ "SPF", TYPE_SPF },
	};
	for (size_t i = 0; i < NELEM(types); i++)
		if (strcmp(types[i].n, t) == 0)
			return types[i].c;
	fprintf(stderr, "unknown type %s\n", t);
	abort();
}

static bool
suite_load(struct suite *s, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	struct scase *cur = NULL;
	memset(s, 0, sizeof *s);
	if (f == NULL)
		return false;
	/* zones are few; allocate the most there could be */
	s->zones = xcalloc(64, sizeof *s->zones);
	s->cases = xcalloc(512, sizeof *s->cases);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *tok[8] = { 0 };
		size_t nt = 0;
		for (char *p = strtok(line, " "); p && nt < NELEM(tok); p = strtok(NULL, " "))
			tok[nt++] = p;
		char a[4096], b[4096];
		struct zone *z = s->n_zones ? &s->zones[s->n_zones - 1] : NULL;
		if (strcmp(tok[0], "scenario") == 0) {
			if (s->n_zones == 64)
				abort();
			s->n_zones++;
		} else if (strcmp(tok[0], "rr") == 0 && nt >= 4 && z) {
			unescape(tok[1], a, sizeof a);
			uint16_t type = type_code(tok[2]);
			if (type == LOOKUP_MX && nt >= 5) {
				char mx[4200];
				unescape(tok[4], b, sizeof b);
				snprintf(mx, sizeof mx, "%s %s", tok[3], b);
				zadd(z, a, type, mx);
			} else {
				size_t n = unescape(tok[3], b, sizeof b);
				zadd_len(z, a, type, b, (long)n);
			}
		} else if (strcmp(tok[0], "timeout") == 0 && nt >= 2 && z) {
			unescape(tok[1], a, sizeof a);
			zone_row(z, a, ROW_TIMEOUT, 0);
		} else if (strcmp(tok[0], "typetimeout") == 0 && nt >= 3 && z) {
			unescape(tok[1], a, sizeof a);
			zone_row(z, a, ROW_TYPETIMEOUT, type_code(tok[2]));
		} else if (strcmp(tok[0], "test") == 0 && nt >= 2 && z) {
			if (s->n_cases == 512)
				abort();
			cur = &s->cases[s->n_cases++];
			unescape(tok[1], cur->id, sizeof cur->id);
			cur->zone = z;
		} else if (cur && strcmp(tok[0], "helo") == 0 && nt >= 2) {
			unescape(tok[1], cur->helo, sizeof cur->helo);
		} else if (cur && strcmp(tok[0], "host") == 0 && nt >= 2) {
			unescape(tok[1], cur->host, sizeof cur->host);
		} else if (cur && strcmp(tok[0], "mailfrom") == 0 && nt >= 2) {
			unescape(tok[1], cur->mailfrom, sizeof cur->mailfrom);
		} else if (cur && strcmp(tok[0], "result") == 0) {
			for (size_t i = 1; i < nt && cur->n_results < 8; i++)
				unescape(tok[i], cur->results[cur->n_results++], 16);
		} else if (cur && strcmp(tok[0], "explanation") == 0 && nt >= 2) {
			cur->has_expl = true;
			unescape(tok[1], cur->expl, sizeof cur->expl);
		} else if (strcmp(tok[0], "end") == 0) {
			cur = NULL;
		} else {
			fprintf(stderr, "%s: bad line starting %s\n", path, tok[0]);
			fclose(f);
			return false;
		}
	}
	fclose(f);
	return true;
}

static void
suite_free(struct suite *s)
{
	for (size_t i = 0; i < s->n_zones; i++)
		zone_free(&s->zones[i]);
	free(s->zones);
	free(s->cases);
}

/* One case: true when the result is one of those accepted and the
 * explanation matches (any explanation when the suite says DEFAULT). */
static bool
suite_case(const struct scase *c, struct buf *trace)
{
	struct spf_request rq;
	struct run res;
	req_init(&rq, c->host, c->mailfrom, c->helo);
	run_spf(&rq, c->zone, &res, trace);
	const char *got = spf_result_name(res.out.result);
	bool ok = res.err[0] == '\0';
	bool any = false;
	for (size_t i = 0; i < c->n_results; i++)
		if (strcmp(c->results[i], got) == 0)
			any = true;
	ok = ok && any;
	if (c->has_expl && strcmp(c->expl, "DEFAULT") != 0 &&
	    strcmp(c->expl, res.out.explanation) != 0)
		ok = false;
	if (!ok) {
		buf_cstr(trace);
		fprintf(stderr, "rfc7208 %s: got %s (problem \"%s\", mechanism \"%s\", "
		    "explanation \"%s\"), want %s%s%s%s; %s\ntrace:\n%s\n", c->id, got,
		    res.out.problem, res.out.mechanism, res.out.explanation, c->results[0],
		    c->n_results > 1 ? " (or others)" : "", c->has_expl ? " explanation " : "",
		    c->has_expl ? c->expl : "", res.err, trace->data ? (char *)trace->data : "");
	}
	return ok;
}

T(test_rfc7208_suite)
{
	struct suite s;
	struct buf trace;
	buf_init(&trace, 1 << 20);
	if (!suite_load(&s, CASES_FILE)) {
		fprintf(stderr, "cannot read %s (run from the repository root)\n", CASES_FILE);
		CHECK(0);
		suite_free(&s);
		buf_free(&trace);
		return;
	}
	size_t passed = 0;
	for (size_t i = 0; i < s.n_cases; i++)
		if (suite_case(&s.cases[i], &trace))
			passed++;
	printf("rfc7208 suite: %zu/%zu passed\n", passed, s.n_cases);
	CHECK_INT(s.n_cases, 203);
	CHECK_INT(passed, s.n_cases);
	suite_free(&s);
	buf_free(&trace);
}

/* --- macro expansion ---------------------------------------------------------- */

static const char *
xp(const struct spf_request *rq, const char *domain, const char *spec, bool exp)
{
	static char out[1024];
	char err[128];
	if (spf_expand(rq, domain, spec, exp, out, sizeof out, err, sizeof err) != 0)
		snprintf(out, sizeof out, "ERROR: %s", err);
	return out;
}

T(test_expand_rfc7208_7_4)
{
	/* RFC 7208 7.4: sender strong-bad@email.example.com, client 192.0.2.3
	 * or 2001:db8::cb01 */
	struct spf_request rq;
	const char *d = "email.example.com";
	req_init(&rq, "192.0.2.3", "strong-bad@email.example.com", "mx.example.org");
	CHECK_STR(xp(&rq, d, "%{s}", false), "strong-bad@email.example.com");
	CHECK_STR(xp(&rq, d, "%{o}", false), "email.example.com");
	CHECK_STR(xp(&rq, d, "%{d}", false), "email.example.com");
	CHECK_STR(xp(&rq, d, "%{d4}", false), "email.example.com");
	CHECK_STR(xp(&rq, d, "%{d3}", false), "email.example.com");
	CHECK_STR(xp(&rq, d, "%{d2}", false), "example.com");
	CHECK_STR(xp(&rq, d, "%{d1}", false), "com");
	CHECK_STR(xp(&rq, d, "%{dr}", false), "com.example.email");
	CHECK_STR(xp(&rq, d, "%{d2r}", false), "example.email");
	CHECK_STR(xp(&rq, d, "%{l}", false), "strong-bad");
	CHECK_STR(xp(&rq, d, "%{l-}", false), "strong.bad");
	CHECK_STR(xp(&rq, d, "%{lr}", false), "strong-bad");
	CHECK_STR(xp(&rq, d, "%{lr-}", false), "bad.strong");
	CHECK_STR(xp(&rq, d, "%{l1r-}", false), "strong");
	CHECK_STR(xp(&rq, d, "%{ir}.%{v}._spf.%{d2}", false),
	    "3.2.0.192.in-addr._spf.example.com");
	CHECK_STR(xp(&rq, d, "%{lr-}.lp._spf.%{d2}", false), "bad.strong.lp._spf.example.com");
	CHECK_STR(xp(&rq, d, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", false),
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	CHECK_STR(xp(&rq, d, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", false),
	    "3.2.0.192.in-addr.strong.lp._spf.example.com");
	CHECK_STR(xp(&rq, d, "%{d2}.trusted-domains.example.net", false),
	    "example.com.trusted-domains.example.net");
	req_init(&rq, "2001:db8::cb01", "strong-bad@email.example.com", "mx.example.org");
	CHECK_STR(xp(&rq, d, "%{ir}.%{v}._spf.%{d2}", false),
	    "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
}

T(test_expand_more)
{
	struct spf_request rq;
	const char *d = "example.com";
	req_init(&rq, "192.0.2.3", "~jack&jill=up-a_b3.c@example.com", "HELO.example.net");
	/* escapes */
	CHECK_STR(xp(&rq, d, "a%%b%_c%-d", false), "a%b c%20d");
	/* uppercase letters URL-escape (RFC 7208 7.3) */
	CHECK_STR(xp(&rq, d, "%{L}", false), "~jack%26jill%3Dup-a_b3.c");
	CHECK_STR(xp(&rq, d, "%{h}", false), "HELO.example.net");
	/* several delimiters, reversal, rightmost parts */
	req_init(&rq, "192.0.2.3", "foo-bar+zip+quux@example.com", "h.example");
	CHECK_STR(xp(&rq, d, "%{l2r+-}", false), "bar.foo");
	CHECK_STR(xp(&rq, d, "%{l+-}", false), "foo.bar.zip.quux");
	CHECK_STR(xp(&rq, d, "%{l100}", false), "foo-bar+zip+quux");
	/* exp-only letters */
	CHECK_STR(xp(&rq, d, "%{c}/%{r}/%{t}", true), "192.0.2.3/mx.receiver.example/1700000000");
	CHECK_STR(xp(&rq, d, "%{c}", false), "ERROR: unknown macro letter");
	CHECK_STR(xp(&rq, d, "%{r}", false), "ERROR: unknown macro letter");
	/* spaces only in explanations */
	CHECK_STR(xp(&rq, d, "a b", true), "a b");
	CHECK(strncmp(xp(&rq, d, "a b", false), "ERROR", 5) == 0);
	/* %{p} needs DNS: "unknown" here */
	CHECK_STR(xp(&rq, d, "%{p}", false), "unknown");
	/* syntax errors */
	CHECK(strncmp(xp(&rq, d, "%(ir)", false), "ERROR", 5) == 0);
	CHECK(strncmp(xp(&rq, d, "foo%", false), "ERROR", 5) == 0);
	CHECK(strncmp(xp(&rq, d, "%{d0}", false), "ERROR", 5) == 0);
	CHECK(strncmp(xp(&rq, d, "%{a}", false), "ERROR", 5) == 0);
	CHECK(strncmp(xp(&rq, d, "%{d2", false), "ERROR", 5) == 0);
	CHECK(strncmp(xp(&rq, d, "%{d2x}", false), "ERROR", 5) == 0);
	/* IPv6: %{c} in RFC 5952 form, %{i} nibbles (uppercase in explanations) */
	req_init(&rq, "CAFE:BABE::1", "a@example.com", "h.example");
	CHECK_STR(xp(&rq, d, "%{c} %{v}", true), "cafe:babe::1 ip6");
	CHECK_STR(xp(&rq, d, "%{i}", true),
	    "C.A.F.E.B.A.B.E.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1");
	/* an IPv4-mapped client is IPv4 */
	req_init(&rq, "::ffff:192.0.2.9", "a@example.com", "h.example");
	CHECK_STR(xp(&rq, d, "%{i} %{v}", true), "192.0.2.9 in-addr");
	/* null sender: postmaster@HELO; no local-part: postmaster */
	req_init(&rq, "192.0.2.3", "", "mail.example.org");
	CHECK_STR(xp(&rq, NULL, "%{s} %{l} %{o}", true), "postmaster@mail.example.org "
	    "postmaster mail.example.org");
	req_init(&rq, "192.0.2.3", "@example.net", "h.example");
	CHECK_STR(xp(&rq, NULL, "%{s}", true), "postmaster@example.net");
	/* output bound */
	char small[8], err[64];
	CHECK_INT(spf_expand(&rq, d, "%{s}", false, small, sizeof small, err, sizeof err), -1);
	CHECK_STR(small, "");
	CHECK_INT(spf_expand(&rq, d, "1234567", false, small, sizeof small, err, sizeof err), 0);
	CHECK_STR(small, "1234567");
}

/* --- record syntax ------------------------------------------------------------ */

T(test_record_check)
{
	static const char *good[] = {
		"v=spf1", "V=SPF1 -ALL", "v=spf1 ", "v=spf1  a  mx  -all",
		"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all",
		"v=spf1 a/24//64 mx:example.com//64 a:foo:bar/baz.example.com",
		"v=spf1 ptr ptr:example.org include:_spf.example.net exists:%{ir}.%{v}.bl.example",
		"v=spf1 redirect=_spf.example.com exp=explain._spf.%{d}",
		"v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all",
		"v=spf1 a:foo.example.xn--zckzah -all", "v=spf1 include:o.spf.example.com. ~all",
		"v=spf1 default=+ note=%{c}%{r}%{t}", "v=spf1 a:macro%%percent%_%_space%-url-space.example.com",
		"v=spf1 ip4:0.0.0.0/0 ip6:::/0",
	};
	static const struct { const char *rec; const char *err; } bad[] = {
		{ "v=spf10", "not an SPF record" },
		{ "spf1 -all", "not an SPF record" },
		{ "v=spf1 -all moo", "unknown mechanism in \"moo\"" },
		{ "v=spf1 -all.", "unknown mechanism" },
		{ "v=spf1 -all:foo", "all takes no argument" },
		{ "v=spf1 -all/8", "all takes no argument" },
		{ "v=spf1 moo.cow/far_out=man:dog/cat", "unknown mechanism" },
		{ "v=spf1 redirect:t2.example.com", "unknown mechanism" },
		{ "v=spf1 a:foo-bar", "top-level label" },
		{ "v=spf1 a:museum.", "top-level label" },
		{ "v=spf1 a:abc.123", "top-level label" },
		{ "v=spf1 a:example.-com", "top-level label" },
		{ "v=spf1 a:example.com:8080", "top-level label" },
		{ "v=spf1 a:", "empty domain-spec" },
		{ "v=spf1 a/33", "bad IPv4 CIDR length" },
		{ "v=spf1 a//129", "bad IPv6 CIDR length" },
		{ "v=spf1 a/24/64", "bad IPv4 CIDR length" },
		{ "v=spf1 ip4:1.2.3.4/032", "bad CIDR length" },
		{ "v=spf1 ip4:1.2.3.4//32", "bad CIDR length" },
		{ "v=spf1 ip4:1.2.3", "bad ip4 network" },
		{ "v=spf1 ip4:01.2.3.4", "bad ip4 network" },
		{ "v=spf1 ip4", "bad ip4 network" },
		{ "v=spf1 ip6::CAFE::BABE", "bad ip6 network" },
		{ "v=spf1 ip6:::1/129", "bad CIDR length" },
		{ "v=spf1 ptr/0", "unexpected text" },
		{ "v=spf1 include", "missing ':' domain-spec" },
		{ "v=spf1 include:ip5.example.com/24", "top-level label" },
		{ "v=spf1 exists:", "empty domain-spec" },
		{ "v=spf1 1up=foo", "modifier name must start with a letter" },
		{ "v=spf1 =all", "modifier name must start with a letter" },
		{ "v=spf1 exp= -all", "empty domain-spec" },
		{ "v=spf1 exp=-all", "top-level label" },
		{ "v=spf1 exp=%{r}.example.com", "unknown macro letter" },
		{ "v=spf1 redirect=a.example.com redirect=b.example.com", "redirect= appears twice" },
		{ "v=spf1 exp=a.example.com exp=b.example.com", "exp= appears twice" },
		{ "v=spf1 -exists:%(ir).sbl.example.com", "'%' not followed" },
		{ "v=spf1 exists:foo%.sbl.example.com", "'%' not followed" },
		{ "v=spf1 foo=%abc", "'%' not followed" },
		{ "v=spf1 a:%{a}.example.com", "unknown macro letter" },
		{ "v=spf1 a:ctrl.example.com\rptr", "byte 0x0d at offset 25" },
		{ "v=spf1 \x80" "a:example.net", "byte 0x80" },
	};
	char err[256];
	for (size_t i = 0; i < NELEM(good); i++) {
		int r = spf_record_check(good[i], strlen(good[i]), err, sizeof err);
		if (r != 0)
			fprintf(stderr, "good record %s: %s\n", good[i], err);
		CHECK_INT(r, 0);
	}
	for (size_t i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		int r = spf_record_check(bad[i].rec, strlen(bad[i].rec), err, sizeof err);
		CHECK_INT(r, -1);
		if (strstr(err, bad[i].err) == NULL) {
			fprintf(stderr, "bad record %s: error \"%s\", want \"%s\"\n", bad[i].rec, err,
			    bad[i].err);
			CHECK(0);
		}
	}
	/* a NUL inside a record is data, and not allowed */
	CHECK_INT(spf_record_check("v=spf1 a\0 -all", 14, err, sizeof err), -1);
	CHECK(strstr(err, "byte 0x00") != NULL);
}

/* --- evaluation: limits, batches, trace ---------------------------------------- */

static struct run
eval(const struct zone *z, const char *ip, const char *sender, struct buf *trace)
{
	struct spf_request rq;
	struct run res;
	req_init(&rq, ip, sender, "helo.example.org");
	run_spf(&rq, z, &res, trace);
	CHECK_STR(res.err, "");
	return res;
}

T(test_lookup_limit)
{
	struct zone z = { 0 };
	/* ten DNS terms are allowed, the eleventh is a permerror (RFC 7208 4.6.4) */
	zadd(&z, "ten.example", LOOKUP_TXT,
	    "v=spf1 a a a a a a include:inc.example exists:x.ten.example ptr mx ip4:192.0.2.1 -all");
	zadd(&z, "ten.example", LOOKUP_A, "198.51.100.1");
	zadd(&z, "ten.example", LOOKUP_MX, "10 mx.ten.example");
	zadd(&z, "mx.ten.example", LOOKUP_A, "198.51.100.2");
	zadd(&z, "inc.example", LOOKUP_TXT, "v=spf1 ?all");
	zadd(&z, "x.ten.example", LOOKUP_TXT, "no address here");
	zadd(&z, "eleven.example", LOOKUP_TXT, "v=spf1 a a a a a a a a a a a ip4:192.0.2.1 -all");
	zadd(&z, "eleven.example", LOOKUP_A, "198.51.100.1");
	struct run r = eval(&z, "192.0.2.1", "a@ten.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "pass");
	CHECK_INT(r.out.lookups, 10);
	CHECK_STR(r.out.mechanism, "ip4:192.0.2.1");
	r = eval(&z, "192.0.2.1", "a@eleven.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "permerror");
	CHECK_STR(r.out.problem, "too many DNS lookups");
	CHECK_INT(r.out.lookups, 11);
	zone_free(&z);
}

T(test_void_limit)
{
	struct zone z = { 0 };
	zadd(&z, "two.example", LOOKUP_TXT, "v=spf1 a:nx1.example mx:nx2.example -all");
	zadd(&z, "three.example", LOOKUP_TXT,
	    "v=spf1 a:nx1.example mx:nx2.example exists:nodata.example -all");
	zadd(&z, "nodata.example", LOOKUP_TXT, "x");	/* exists, but no A */
	struct run r = eval(&z, "192.0.2.1", "a@two.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "fail");
	CHECK_INT(r.out.void_lookups, 2);
	r = eval(&z, "192.0.2.1", "a@three.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "permerror");
	CHECK_STR(r.out.problem, "void lookup limit");
	CHECK_INT(r.out.void_lookups, 3);
	zone_free(&z);
}

T(test_mx_batch)
{
	struct zone z = { 0 };
	struct spf_request rq;
	struct lookup_set *set = lookup_set_new();
	struct spf_need need[SPF_NEED_MAX];
	struct spf_outcome out;
	size_t n;
	zadd(&z, "example.org", LOOKUP_TXT, "v=spf1 mx -all");
	zadd(&z, "example.org", LOOKUP_MX, "10 mx1.example.org");
	zadd(&z, "example.org", LOOKUP_MX, "20 mx2.example.org");
	zadd(&z, "example.org", LOOKUP_MX, "30 MX3.example.org.");
	zadd(&z, "mx3.example.org", LOOKUP_AAAA, "2001:db8::25");
	req_init(&rq, "2001:db8::25", "user@example.org", "h.example");
	/* round 1: the TXT record */
	CHECK_INT(spf_eval(&rq, set, &out, need, &n, NULL), SPF_NEED);
	CHECK_INT(n, 1);
	CHECK_INT(need[0].type, LOOKUP_TXT);
	CHECK_STR(need[0].name, "example.org");
	struct lookup l;
	lookup_init(&l, LOOKUP_TXT, "example.org");
	zone_fill(&z, LOOKUP_TXT, "example.org", &l, 0);
	lookup_set_put(set, &l);
	lookup_clear(&l);
	/* round 2: the MX */
	CHECK_INT(spf_eval(&rq, set, &out, need, &n, NULL), SPF_NEED);
	CHECK_INT(n, 1);
	CHECK_INT(need[0].type, LOOKUP_MX);
	lookup_init(&l, LOOKUP_MX, "example.org");
	zone_fill(&z, LOOKUP_MX, "example.org", &l, 0);
	lookup_set_put(set, &l);
	lookup_clear(&l);
	/* round 3: the AAAA of all three hosts at once (IPv6 client) */
	CHECK_INT(spf_eval(&rq, set, &out, need, &n, NULL), SPF_NEED);
	CHECK_INT(n, 3);
	CHECK_INT(need[0].type, LOOKUP_AAAA);
	CHECK_STR(need[0].name, "mx1.example.org");
	CHECK_STR(need[1].name, "mx2.example.org");
	CHECK_STR(need[2].name, "mx3.example.org");
	/* answer only one: the others are asked again, not the answered one */
	lookup_init(&l, LOOKUP_AAAA, "mx1.example.org");
	zone_fill(&z, LOOKUP_AAAA, "mx1.example.org", &l, 0);
	lookup_set_put(set, &l);
	lookup_clear(&l);
	CHECK_INT(spf_eval(&rq, set, &out, need, &n, NULL), SPF_NEED);
	CHECK_INT(n, 2);
	CHECK_STR(need[0].name, "mx2.example.org");
	CHECK_STR(need[1].name, "mx3.example.org");
	for (size_t i = 0; i < n; i++) {
		lookup_init(&l, need[i].type, need[i].name);
		zone_fill(&z, need[i].type, need[i].name, &l, 0);
		lookup_set_put(set, &l);
		lookup_clear(&l);
	}
	CHECK_INT(spf_eval(&rq, set, &out, need, &n, NULL), SPF_DONE);
	CHECK_STR(spf_result_name(out.result), "pass");
	CHECK_STR(out.mechanism, "mx");
	CHECK_STR(out.domain, "example.org");
	CHECK_STR(out.identity, "user@example.org");
	CHECK_INT(out.lookups, 1);
	lookup_set_free(&set);
	zone_free(&z);
}

T(test_ptr_batch_and_p_macro)
{
	struct zone z = { 0 };
	struct buf trace;
	buf_init(&trace, 1 << 16);
	zadd(&z, "example.com", LOOKUP_TXT, "v=spf1 ptr:example.net -all exp=why.example.com");
	zadd(&z, "why.example.com", LOOKUP_TXT, "%{p} (%{i}) is not allowed to send for %{d}");
	zadd(&z, "7.2.0.192.in-addr.arpa", LOOKUP_PTR, "a.example.org");
	zadd(&z, "7.2.0.192.in-addr.arpa", LOOKUP_PTR, "mail.example.com");
	zadd(&z, "7.2.0.192.in-addr.arpa", LOOKUP_PTR, "b.example.org");
	zadd(&z, "a.example.org", LOOKUP_A, "192.0.2.7");
	zadd(&z, "mail.example.com", LOOKUP_A, "192.0.2.7");
	zadd(&z, "b.example.org", LOOKUP_A, "192.0.2.99");
	struct run r = eval(&z, "192.0.2.7", "x@example.com", &trace);
	CHECK_STR(spf_result_name(r.out.result), "fail");
	/* %{p} prefers a validated subdomain of <domain> */
	CHECK_STR(r.out.explanation,
	    "mail.example.com (192.0.2.7) is not allowed to send for example.com");
	/* TXT, PTR, then the three A lookups in one batch, then the exp TXT */
	CHECK_INT(r.max_batch, 3);
	CHECK_INT(r.rounds, 5);
	CHECK_INT(r.out.lookups, 1);
	buf_cstr(&trace);
	CHECK(strstr((char *)trace.data, "ptr 7.2.0.192.in-addr.arpa: 2 validated names\n") != NULL);
	CHECK(strstr((char *)trace.data, "exp -> \"mail.example.com (192.0.2.7)") != NULL);
	buf_free(&trace);
	zone_free(&z);
}

T(test_trace)
{
	struct zone z = { 0 };
	struct buf trace;
	buf_init(&trace, 1 << 16);
	zadd(&z, "example.org", LOOKUP_TXT, "v=spf1 ip4:192.0.2.0/24 include:x.example -all");
	zadd(&z, "example.org", LOOKUP_TXT, "unrelated \"text\"\x01");
	zadd(&z, "x.example", LOOKUP_TXT, "v=spf1 ip4:198.51.100.0/24 ?all");
	struct run r = eval(&z, "203.0.113.5", "a@example.org", &trace);
	CHECK_STR(spf_result_name(r.out.result), "fail");
	CHECK_STR(r.out.mechanism, "-all");
	CHECK_STR(r.out.explanation, "");
	buf_cstr(&trace);
	const char *t = (const char *)trace.data;
	static const char *lines[] = {
		"check a@example.org for MAIL FROM\n",
		"TXT example.org -> \"v=spf1 ip4:192.0.2.0/24 include:x.example -all\"\n",
		"ip4:192.0.2.0/24 no match\n",
		"  TXT x.example -> ",
		"  ?all matched: neutral\n",
		"include:x.example -> neutral => no match\n",
		"-all matched: fail\n",
		"result: fail\n",
	};
	for (size_t i = 0; i < NELEM(lines); i++)
		if (strstr(t, lines[i]) == NULL) {
			fprintf(stderr, "trace lacks \"%s\":\n%s", lines[i], t);
			CHECK(0);
		}
	/* every line ends in LF; nothing unprintable */
	CHECK(trace.len > 0 && t[trace.len - 1] == '\n');
	for (size_t i = 0; i < trace.len; i++)
		CHECK(t[i] == '\n' || (t[i] >= 0x20 && t[i] <= 0x7e));
	/* a record with control bytes is escaped in the trace */
	zadd(&z, "ctl.example", LOOKUP_TXT, "v=spf1 a:x.example\rptr -all");
	r = eval(&z, "203.0.113.5", "a@ctl.example", &trace);
	CHECK_STR(spf_result_name(r.out.result), "permerror");
	CHECK(strncmp(r.out.problem, "syntax: byte 0x0d", 17) == 0);
	buf_cstr(&trace);
	CHECK(strstr((char *)trace.data, "\\x0dptr") != NULL);
	buf_free(&trace);
	zone_free(&z);
}

T(test_errors_and_identities)
{
	struct zone z = { 0 };
	zadd(&z, "tf.example", LOOKUP_TXT, "v=spf1 -all");
	z.rows[z.n - 1].kind = ROW_TYPETIMEOUT;
	zadd(&z, "helo.example.org", LOOKUP_TXT, "v=spf1 a -all");
	zadd(&z, "helo.example.org", LOOKUP_A, "192.0.2.10");
	zadd(&z, "two.example", LOOKUP_TXT, "v=spf1 -all");
	zadd(&z, "two.example", LOOKUP_TXT, "V=SPF1 +all");
	zadd(&z, "inc.example", LOOKUP_TXT, "v=spf1 include:none.example -all");
	zadd(&z, "red.example", LOOKUP_TXT, "v=spf1 redirect=none.example");
	struct run r = eval(&z, "192.0.2.10", "a@tf.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "temperror");
	CHECK_STR(r.out.problem, "TXT tf.example: timeout");
	r = eval(&z, "192.0.2.10", "a@nx.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "none");
	CHECK_STR(r.out.problem, "no SPF record");
	r = eval(&z, "192.0.2.10", "a@two.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "permerror");
	CHECK_STR(r.out.problem, "2 SPF records");
	r = eval(&z, "192.0.2.10", "a@inc.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "permerror");
	CHECK_STR(r.out.problem, "include:none.example has no SPF record");
	r = eval(&z, "192.0.2.10", "a@red.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "permerror");
	CHECK_STR(r.out.problem, "redirect=none.example has no SPF record");
	/* not a domain: none without any DNS */
	r = eval(&z, "192.0.2.10", "a@[192.0.2.1]", NULL);
	CHECK_STR(spf_result_name(r.out.result), "none");
	CHECK_INT(r.asked, 0);
	r = eval(&z, "192.0.2.10", "a@localhost", NULL);
	CHECK_STR(spf_result_name(r.out.result), "none");
	/* the HELO identity, and the null sender, check postmaster@HELO */
	struct spf_request rq;
	req_init(&rq, "192.0.2.10", "someone@tf.example", "helo.example.org");
	rq.check_helo = true;
	run_spf(&rq, &z, &r, NULL);
	CHECK_STR(spf_result_name(r.out.result), "pass");
	CHECK_STR(r.out.identity, "postmaster@helo.example.org");
	CHECK_STR(r.out.domain, "helo.example.org");
	req_init(&rq, "::ffff:192.0.2.10", "", "HELO.example.org");
	run_spf(&rq, &z, &r, NULL);
	CHECK_STR(spf_result_name(r.out.result), "pass");
	CHECK_STR(r.out.identity, "postmaster@HELO.example.org");
	CHECK_STR(r.out.domain, "helo.example.org");
	/* names */
	CHECK_STR(spf_result_name(SPF_NONE), "none");
	CHECK_STR(spf_result_name(SPF_SOFTFAIL), "softfail");
	CHECK_STR(spf_result_name(SPF_PERMERROR), "permerror");
	zone_free(&z);
}

T(test_nesting_bounded)
{
	/* include and redirect loops end at the lookup limit */
	struct zone z = { 0 };
	zadd(&z, "loop.example", LOOKUP_TXT, "v=spf1 include:loop.example -all");
	zadd(&z, "red.example", LOOKUP_TXT, "v=spf1 redirect=red.example");
	struct run r = eval(&z, "192.0.2.1", "a@loop.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "permerror");
	CHECK_STR(r.out.problem, "too many DNS lookups");
	CHECK(r.rounds <= 3);
	r = eval(&z, "192.0.2.1", "a@red.example", NULL);
	CHECK_STR(spf_result_name(r.out.result), "permerror");
	zone_free(&z);
}

int
main(void)
{
	RUN(test_rfc7208_suite);
	RUN(test_expand_rfc7208_7_4);
	RUN(test_expand_more);
	RUN(test_record_check);
	RUN(test_lookup_limit);
	RUN(test_void_limit);
	RUN(test_mx_batch);
	RUN(test_ptr_batch_and_p_macro);
	RUN(test_trace);
	RUN(test_errors_and_identities);
	RUN(test_nesting_bounded);
	return t_done("spf");
}

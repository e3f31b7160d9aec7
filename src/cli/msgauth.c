/*
 * cli/msgauth.c - commands for admins who debug delivery: `talon resolve`
 * and `talon spf` (and the resolver they share with `talon dkim verify`
 * and `talon dmarc`).
 *
 * They resolve through the configured resolver (the `resolver` line), so
 * against the demo they ask the demo's DNS server, as the daemon does.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/diag.h"
#include "core/util.h"
#include "dns/lookup.h"
#include "dns/resolve.h"
#include "mail/conf.h"
#include "msgauth/spf.h"

struct resolver *
cli_resolver(const char *conf_path, struct conf **cp)
{
	struct diag d;
	diag_init(&d);
	struct conf *c = conf_load(conf_path, &d);
	if (c == NULL || d.n_err != 0) {
		fputs(diag_text(&d), stderr);
		diag_free(&d);
		conf_free(&c);
		return NULL;
	}
	diag_free(&d);
	char err[256];
	struct resolver *r = resolver_new(c, NULL, err, sizeof err);
	if (r == NULL) {
		fprintf(stderr, "talon: %s\n", err);
		conf_free(&c);
		return NULL;
	}
	*cp = c;
	return r;
}

static uint16_t
type_of(const char *s)
{
	static const struct { const char *n; uint16_t t; } types[] = {
		{ "A", LOOKUP_A }, { "AAAA", LOOKUP_AAAA }, { "MX", LOOKUP_MX },
		{ "TXT", LOOKUP_TXT }, { "PTR", LOOKUP_PTR }, { "TLSA", LOOKUP_TLSA },
		{ "CNAME", LOOKUP_CNAME },
	};
	for (size_t i = 0; i < NELEM(types); i++)
		if (ascii_strcaseeq(s, types[i].n))
			return types[i].t;
	return 0;
}

/* One record as text for an admin: addresses, names, escaped TXT. */
void
cli_print_rr(FILE *f, const struct lookup *l, const struct lookup_rr *rr)
{
	char buf[INET6_ADDRSTRLEN];
	switch (l->type) {
	case LOOKUP_A:
		fprintf(f, "%s", inet_ntop(AF_INET, rr->data, buf, sizeof buf));
		break;
	case LOOKUP_AAAA:
		fprintf(f, "%s", inet_ntop(AF_INET6, rr->data, buf, sizeof buf));
		break;
	case LOOKUP_MX:
		fprintf(f, "%u %s", rr->pref, (const char *)rr->data);
		break;
	case LOOKUP_PTR:
	case LOOKUP_CNAME:
		fprintf(f, "%s", (const char *)rr->data);
		break;
	case LOOKUP_TXT: {
		char *e = xmalloc((size_t)rr->len * 4 + 1);
		log_escape(e, (size_t)rr->len * 4 + 1, rr->data, rr->len);
		fprintf(f, "\"%s\"", e);
		free(e);
		break;
	}
	default:
		for (size_t i = 0; i < rr->len; i++)
			fprintf(f, "%02x", rr->data[i]);
	}
}

void
cli_print_lookup(FILE *f, const struct lookup *l)
{
	const char *sec = l->sec == LOOKUP_SECURE ? " secure" : l->sec == LOOKUP_BOGUS ?
	    " bogus" : "";
	fprintf(f, "%s %s: %s%s%s%s", lookup_type_name(l->type), l->name[0] ? l->name : ".",
	    lookup_status_name(l->status), sec, l->why ? " " : "", l->why ? l->why : "");
	if (l->status == LOOKUP_OK && l->n == 0)
		fprintf(f, " (no records)");
	fprintf(f, "\n");
	for (size_t i = 0; i < l->n; i++) {
		fprintf(f, "  ");
		cli_print_rr(f, l, &l->rr[i]);
		fprintf(f, "\n");
	}
}

int
cmd_resolve(const char *conf_path, int argc, char **argv)
{
	if (argc < 1 || argc > 2 || strcmp(argv[0], "--help") == 0) {
		FILE *f = argc >= 1 && strcmp(argv[0], "--help") == 0 ? stdout : stderr;
		fprintf(f, "usage: talon [-c FILE] resolve NAME [A|AAAA|MX|TXT|PTR|TLSA|CNAME]\n"
		    "Ask the configured resolver, as the daemon's checks do, and print the\n"
		    "answer: ok (with the records or \"no records\"), nxdomain, or tempfail\n"
		    "with the reason (timeout, SERVFAIL, ...).  Exit 0 ok, 1 nxdomain, 3 tempfail.\n");
		return f == stdout ? 0 : 2;
	}
	uint16_t type = argc == 2 ? type_of(argv[1]) : LOOKUP_A;
	char name[LOOKUP_NAME_MAX + 1];
	if (type == 0 || !lookup_name_norm(name, argv[0])) {
		fprintf(stderr, "talon resolve: %s\n", type == 0 ? "unknown type" : "not a name");
		return 2;
	}
	struct conf *c = NULL;
	struct resolver *r = cli_resolver(conf_path, &c);
	if (r == NULL)
		return 2;
	struct lookup l;
	resolver_lookup_sync(r, type, name, &l);
	cli_print_lookup(stdout, &l);
	int rc = l.status == LOOKUP_OK ? 0 : l.status == LOOKUP_NXDOMAIN ? 1 : 3;
	lookup_clear(&l);
	resolver_free(&r);
	conf_free(&c);
	return rc;
}

/*
 * Drive an SPF evaluation with synchronous lookups: the evaluator says
 * what it needs, we ask, put the answers in the set and run it again.
 * The lookups of one round go out together.
 */
static enum spf_result
cli_spf_eval(struct resolver *r, const struct spf_request *rq, struct spf_outcome *out,
    struct buf *trace)
{
	struct lookup_set *set = lookup_set_new();
	struct spf_need need[SPF_NEED_MAX];
	size_t n_need;
	/* each round adds at least one answer and the evaluator limits its
	 * lookups; the bound only guards against a bug looping for ever */
	for (int round = 0; round < 200; round++) {
		if (spf_eval(rq, set, out, need, &n_need, trace) == SPF_DONE) {
			lookup_set_free(&set);
			return out->result;
		}
		for (size_t i = 0; i < n_need; i++) {
			struct lookup l;
			resolver_lookup_sync(r, need[i].type, need[i].name, &l);
			lookup_set_put(set, &l);
			lookup_clear(&l);
		}
	}
	lookup_set_free(&set);
	out->result = SPF_TEMPERROR;
	snprintf(out->problem, sizeof out->problem, "evaluation did not finish");
	return out->result;
}

int
cmd_spf(const char *conf_path, int argc, char **argv)
{
	if (argc < 2 || argc > 3 || strcmp(argv[0], "--help") == 0) {
		FILE *f = argc >= 1 && strcmp(argv[0], "--help") == 0 ? stdout : stderr;
		fprintf(f, "usage: talon [-c FILE] spf IP SENDER [HELO]\n"
		    "Evaluate SPF (RFC 7208) for a client address and MAIL FROM address (\"\"\n"
		    "or <> for the null sender, then HELO is checked as postmaster@HELO),\n"
		    "through the configured resolver.  Prints the result, the deciding\n"
		    "mechanism, the explanation or problem, and every step and lookup.\n"
		    "Exit 0 pass, 1 any other result, 2 usage.\n");
		return f == stdout ? 0 : 2;
	}
	struct spf_request rq;
	memset(&rq, 0, sizeof rq);
	if (inet_pton(AF_INET, argv[0], rq.ip) == 1) {
		rq.family = AF_INET;
	} else if (inet_pton(AF_INET6, argv[0], rq.ip) == 1) {
		rq.family = AF_INET6;
	} else {
		fprintf(stderr, "talon spf: %s is not an IP address\n", argv[0]);
		return 2;
	}
	const char *sender = argv[1];
	char sbuf[1024];
	if (sender[0] == '<') {
		snprintf(sbuf, sizeof sbuf, "%s", sender + 1);
		size_t n = strlen(sbuf);
		if (n > 0 && sbuf[n - 1] == '>')
			sbuf[n - 1] = '\0';
		sender = sbuf;
	}
	struct conf *c = NULL;
	struct resolver *r = cli_resolver(conf_path, &c);
	if (r == NULL)
		return 2;
	rq.sender = sender;
	rq.helo = argc == 3 ? argv[2] : "";
	rq.receiver = c->hostname;
	rq.now = time(NULL);
	struct spf_outcome out;
	struct buf trace;
	buf_init(&trace, 1 << 20);
	cli_spf_eval(r, &rq, &out, &trace);
	printf("result: %s\n", spf_result_name(out.result));
	printf("identity: %s\n", out.identity);
	printf("domain: %s\n", out.domain);
	if (out.mechanism[0])
		printf("mechanism: %s\n", out.mechanism);
	if (out.explanation[0])
		printf("explanation: %s\n", out.explanation);
	if (out.problem[0])
		printf("problem: %s\n", out.problem);
	printf("lookups: %u (void %u)\n", out.lookups, out.void_lookups);
	if (trace.len > 0) {
		printf("steps:\n");
		const char *p = (const char *)trace.data, *end = p + trace.len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			printf("  %.*s\n", (int)n, p);
			p += n + (nl != NULL);
		}
	}
	buf_free(&trace);
	resolver_free(&r);
	conf_free(&c);
	return out.result == SPF_PASS ? 0 : 1;
}

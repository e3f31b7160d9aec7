/*
 * cli/msgauth.c - commands for admins who debug delivery: `talon resolve`,
 * `talon spf` and `talon dmarc` (and the resolver they share with `talon
 * dkim verify`).
 *
 * They resolve through the configured resolver (the `resolver` line), so
 * against the demo they ask the demo's DNS server, as the daemon does.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/diag.h"
#include "core/util.h"
#include "dns/lookup.h"
#include "dns/resolve.h"
#include "mail/conf.h"
#include "msgauth/dkim.h"
#include "msgauth/dmarc.h"
#include "msgauth/header.h"
#include "msgauth/msgcheck.h"
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

struct dkim_verify *
cli_dkim_check(const char *conf_path, const struct buf *msg, struct mhdrs *h,
    struct resolver **rp, struct conf **cp)
{
	mhdrs_init(h, 0);
	size_t hl = mhdrs_feed(h, msg->data ? msg->data : (const uint8_t *)"", msg->len);
	mhdrs_end(h);
	struct dkim_verify *v = dkim_verify_new(time(NULL));
	dkim_verify_header(v, h);
	dkim_verify_body(v, msg->data + hl, msg->len - hl);
	dkim_verify_finish(v);
	size_t n = dkim_verify_count(v);
	bool need = false;
	for (size_t i = 0; i < n; i++)
		need |= dkim_verify_key_name(v, i) != NULL;
	/* only a signature that needs its key needs the configuration */
	if (need && *rp == NULL)
		*rp = cli_resolver(conf_path, cp);
	struct lookup *l = xcalloc(1, sizeof *l);
	for (size_t i = 0; i < n; i++) {
		const char *name = dkim_verify_key_name(v, i);
		if (name == NULL)
			continue;
		if (*rp != NULL) {
			resolver_lookup_sync(*rp, LOOKUP_TXT, name, l);
		} else {
			lookup_init(l, LOOKUP_TXT, name);
			l->status = LOOKUP_TEMPFAIL;
			l->why = "no resolver";
		}
		dkim_verify_key(v, i, l);
		lookup_clear(l);
	}
	free(l);
	return v;
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

static int
rr_cmp(const void *a, const void *b)
{
	const struct lookup_rr *x = *(const struct lookup_rr *const *)a;
	const struct lookup_rr *y = *(const struct lookup_rr *const *)b;
	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->data, y->data, n);
	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
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
	/* the order of an RRset means nothing (servers rotate it): MX by
	 * preference, the rest as their text sorts, so output can be compared */
	const struct lookup_rr *rr[LOOKUP_RR_MAX];
	for (size_t i = 0; i < l->n; i++)
		rr[i] = &l->rr[i];
	qsort(rr, l->n, sizeof rr[0], rr_cmp);
	for (size_t i = 0; i < l->n; i++) {
		fprintf(f, "  ");
		cli_print_rr(f, l, rr[i]);
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
 * Drive an SPF evaluation with waiting lookups: the evaluator says
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
		struct lookup *ls = xcalloc(n_need, sizeof *ls);
		for (size_t i = 0; i < n_need; i++)
			lookup_init(&ls[i], need[i].type, need[i].name);
		resolver_lookup_all(r, ls, n_need);	/* a round goes out together */
		for (size_t i = 0; i < n_need; i++) {
			lookup_set_put(set, &ls[i]);
			lookup_clear(&ls[i]);
		}
		free(ls);
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

static void
dmarc_usage(FILE *f)
{
	fprintf(f, "usage: talon [-c FILE] dmarc [--ip IP --mail-from ADDR [--helo NAME]] [FILE]\n"
	    "Check a message (FILE or stdin) as the daemon does at the end of DATA: its\n"
	    "DKIM signatures (keys through the configured resolver), its From domains,\n"
	    "their DMARC records (RFC 7489 discovery, organisational domain from the\n"
	    "public suffix list), SPF when the client's address and MAIL FROM are given\n"
	    "(else SPF counts as not passing), alignment, the result and what the daemon\n"
	    "would do, and the Authentication-Results field it would add.\n"
	    "Exit 0 when DMARC passes, 1 otherwise, 2 usage.\n");
}

/* Resolve what msgcheck still needs, a round at a time. */
static void
fetch(struct resolver *r, struct lookup_set *set, char (*names)[LOOKUP_NAME_MAX + 1], size_t n)
{
	struct lookup l;
	for (size_t i = 0; i < n; i++) {
		if (lookup_set_find(set, LOOKUP_TXT, names[i]) != NULL)
			continue;
		resolver_lookup_sync(r, LOOKUP_TXT, names[i], &l);
		lookup_set_put(set, &l);
		lookup_clear(&l);
	}
}

int
cmd_dmarc(const char *conf_path, int argc, char **argv)
{
	const char *file = NULL, *ip = NULL, *mailfrom = NULL, *helo = "";
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0) {
			dmarc_usage(stdout);
			return 0;
		} else if (strcmp(a, "--ip") == 0 && i + 1 < argc) {
			ip = argv[++i];
		} else if (strcmp(a, "--mail-from") == 0 && i + 1 < argc) {
			mailfrom = argv[++i];
		} else if (strcmp(a, "--helo") == 0 && i + 1 < argc) {
			helo = argv[++i];
		} else if (file == NULL && (a[0] != '-' || a[1] == '\0')) {
			file = a;
		} else {
			dmarc_usage(stderr);
			return 2;
		}
	}
	if ((ip == NULL) != (mailfrom == NULL)) {
		fprintf(stderr, "talon dmarc: --ip and --mail-from go together\n");
		return 2;
	}
	struct spf_request rq;
	memset(&rq, 0, sizeof rq);
	if (ip != NULL) {
		if (inet_pton(AF_INET, ip, rq.ip) == 1)
			rq.family = AF_INET;
		else if (inet_pton(AF_INET6, ip, rq.ip) == 1)
			rq.family = AF_INET6;
		else {
			fprintf(stderr, "talon dmarc: %s is not an IP address\n", ip);
			return 2;
		}
	}
	struct buf msg;
	buf_init(&msg, 64u << 20);
	if (cli_read_all(file, &msg) < 0) {
		buf_free(&msg);
		return 2;
	}
	struct conf *c = NULL;
	struct resolver *r = cli_resolver(conf_path, &c);
	if (r == NULL) {
		buf_free(&msg);
		return 2;
	}

	/* DKIM, as the message streams through the worker */
	struct mhdrs h;
	struct dkim_verify *v = cli_dkim_check(conf_path, &msg, &h, &r, &c);
	struct lookup_set *set = lookup_set_new();
	size_t nsig = dkim_verify_count(v);
	if (nsig > MSGCHECK_SIGS_MAX)
		nsig = MSGCHECK_SIGS_MAX;

	/* SPF, when we know the client */
	enum spf_result spf = SPF_NONE;
	char spf_dom[256] = "", sbuf[1024] = "";
	if (ip != NULL) {
		struct spf_outcome so;
		rq.sender = mailfrom[0] == '<' ? mailfrom + 1 : mailfrom;
		str_copy(sbuf, sizeof sbuf, rq.sender);
		size_t sl = strlen(sbuf);
		if (sl > 0 && sbuf[sl - 1] == '>')
			sbuf[sl - 1] = '\0';
		rq.sender = sbuf;
		rq.helo = helo;
		rq.receiver = c->hostname;
		rq.now = time(NULL);
		spf = cli_spf_eval(r, &rq, &so, NULL);
		str_copy(spf_dom, sizeof spf_dom, so.domain);
	}

	/* DMARC discovery, a round at a time (the org domain comes second) */
	struct msgcheck_from from;
	msgcheck_from(&h, &from);
	for (int round = 0; round < 4; round++) {
		char need[MSGCHECK_FROM_MAX][LOOKUP_NAME_MAX + 1];
		size_t n = msgcheck_dmarc_needs(set, &from, need, MSGCHECK_FROM_MAX);
		if (n == 0)
			break;
		fetch(r, set, need, n);
	}
	uint8_t rnd = 0;
	RAND_bytes(&rnd, 1);
	struct msgcheck_dmarc dm;
	msgcheck_dmarc(set, &from, spf_dom, spf, v, rnd, &dm);

	/* the report */
	if (from.n == 0)
		printf("From: %s\n", from.problem);
	for (size_t i = 0; i < from.n; i++) {
		struct dmarc_record rec;
		bool at_org = false;
		char q[LOOKUP_NAME_MAX + 1], why[100] = "", org[256] = "";
		enum dmarc_disc d = dmarc_discover(set, from.dom[i], &rec, &at_org, q, why,
		    sizeof why);
		dmarc_org_domain(from.dom[i], org, sizeof org);
		printf("From domain: %s (organisational domain %s)\n", from.dom[i], org);
		if (d == DMARC_DISC_FOUND)
			printf("  record: at _dmarc.%s: p=%s sp=%s adkim=%c aspf=%c pct=%u%s%s\n",
			    at_org ? org : from.dom[i], dmarc_policy_name(rec.p),
			    dmarc_policy_name(rec.sp), rec.adkim, rec.aspf, rec.pct,
			    rec.rua[0] ? " rua=" : "", rec.rua);
		else
			printf("  record: %s%s%s\n", d == DMARC_DISC_NONE ? "none" : "lookup failed",
			    why[0] ? ": " : "", why);
		for (size_t k = 0; k < nsig; k++) {
			const struct dkim_result *res = dkim_verify_result(v, k);
			printf("  dkim d=%s s=%s: %s (%s), %s\n", res->domain, res->selector,
			    dkim_res_name(res->res), res->why,
			    dmarc_aligned(res->domain, from.dom[i], d == DMARC_DISC_FOUND ?
			    rec.adkim : 'r') ? "aligned" : "not aligned");
		}
		if (ip != NULL)
			printf("  spf %s: %s, %s\n", spf_dom[0] ? spf_dom : "-", spf_result_name(spf),
			    spf_dom[0] && dmarc_aligned(spf_dom, from.dom[i], d == DMARC_DISC_FOUND ?
			    rec.aspf : 'r') ? "aligned" : "not aligned");
		else
			printf("  spf: not checked (give --ip and --mail-from)\n");
	}
	if (nsig == 0)
		printf("dkim: no signature\n");
	if (dm.have) {
		printf("result: %s (%s)\n", dmarc_res_name(dm.o.res), dm.o.why);
		printf("policy: %s, applied: %s%s\n", dmarc_policy_name(dm.published),
		    dmarc_policy_name(dm.o.disposition),
		    dm.o.sampled_out ? " (pct= sampled this message out)" : "");
		const char *act = dm.o.res == DMARC_R_FAIL && dm.o.disposition == DMARC_P_REJECT ?
		    "refuse (550 5.7.1)" : dm.o.res == DMARC_R_FAIL &&
		    dm.o.disposition == DMARC_P_QUARANTINE ? "deliver into Junk" :
		    dm.o.res == DMARC_R_TEMPERROR && dm.published == DMARC_P_REJECT ?
		    "try later (451 4.7.5)" : "deliver";
		printf("the daemon would: %s\n", act);
	} else {
		printf("result: %s\n", from.problem ? "permerror" : "none");
	}
	struct msgcheck_session ss = {
		.ip = ip, .spf = spf, .spf_checked = ip != NULL, .mailfrom = rq.sender,
		.helo = helo,
	};
	struct buf ar;
	buf_init(&ar, 1 << 16);
	msgcheck_authres(&ar, c->authserv_id, &ss, v, &from, &dm);
	printf("%.*s", (int)ar.len, (const char *)ar.data);
	int rc = dm.have && dm.o.res == DMARC_R_PASS ? 0 : 1;
	buf_free(&ar);
	lookup_set_free(&set);
	dkim_verify_free(&v);
	mhdrs_free(&h);
	buf_free(&msg);
	resolver_free(&r);
	conf_free(&c);
	return rc;
}

/*
 * msgauth/msgcheck.c - one message's checks put together (msgcheck.h).
 */
#include "msgauth/msgcheck.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "msgauth/authres.h"

void
msgcheck_from(const struct mhdrs *h, struct msgcheck_from *f)
{
	size_t n_fields = 0;
	memset(f, 0, sizeof *f);
	for (size_t i = 0; i < h->n && f->problem == NULL; i++) {
		if (!mhdrs_is(h, i, "From"))
			continue;
		n_fields++;
		size_t len;
		char *v = mhdrs_value(h, i, &len);
		char dom[MSGCHECK_FROM_MAX][256];
		int n = dmarc_from_domains(v, len, dom, MSGCHECK_FROM_MAX);
		free(v);
		if (n <= 0) {
			f->problem = "From field without a usable address";
			break;
		}
		for (int k = 0; k < n && f->problem == NULL; k++) {
			bool seen = false;
			for (size_t j = 0; j < f->n; j++)
				seen |= ascii_strcaseeq(f->dom[j], dom[k]);
			if (seen)
				continue;
			if (f->n == MSGCHECK_FROM_MAX)
				f->problem = "From addresses of too many domains";
			else
				str_copy(f->dom[f->n++], sizeof f->dom[0], dom[k]);
		}
	}
	if (n_fields == 0)
		f->problem = "no From field";
	if (f->problem != NULL)
		f->n = 0;
}

size_t
msgcheck_dmarc_needs(const struct lookup_set *set, const struct msgcheck_from *f,
    char (*need)[LOOKUP_NAME_MAX + 1], size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n && n < max; i++) {
		struct dmarc_record rec;
		bool at_org;
		char q[LOOKUP_NAME_MAX + 1], why[100];
		if (dmarc_discover(set, f->dom[i], &rec, &at_org, q, why, sizeof why) !=
		    DMARC_DISC_ASK)
			continue;
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= strcmp(need[k], q) == 0;
		if (!dup)
			str_copy(need[n++], sizeof need[0], q);
	}
	return n;
}

void
msgcheck_dmarc(const struct lookup_set *set, const struct msgcheck_from *f,
    const char *spf_domain, enum spf_result spf, const struct dkim_verify *v,
    unsigned sample, struct msgcheck_dmarc *out)
{
	memset(out, 0, sizeof *out);
	size_t nsig = dkim_verify_count(v);
	if (nsig > MSGCHECK_SIGS_MAX)
		nsig = MSGCHECK_SIGS_MAX;
	struct dmarc_dkim dk[MSGCHECK_SIGS_MAX];
	for (size_t i = 0; i < nsig; i++) {
		const struct dkim_result *r = dkim_verify_result(v, i);
		dk[i].domain = r->domain;
		dk[i].pass = r->res == DKIM_PASS;
	}
	for (size_t k = 0; k < f->n; k++) {
		struct dmarc_input in;
		struct dmarc_outcome o;
		char need[LOOKUP_NAME_MAX + 1], why[100];
		memset(&in, 0, sizeof in);
		in.from_domain = f->dom[k];
		enum dmarc_disc d = dmarc_discover(set, f->dom[k], &in.rec, &in.rec_at_org, need,
		    why, sizeof why);
		/* a question never answered counts as a failed lookup */
		in.lookup = d == DMARC_DISC_FOUND ? 1 : d == DMARC_DISC_NONE ? 0 : -1;
		in.spf_domain = spf_domain;
		in.spf_pass = spf == SPF_PASS;
		in.dkim = dk;
		in.n_dkim = nsig;
		in.sample = sample % 100;
		dmarc_evaluate(&in, &o);
		if (o.res == DMARC_R_FAIL) {
			bool temp = spf == SPF_TEMPERROR &&
			    dmarc_aligned(spf_domain, f->dom[k], in.rec.aspf);
			for (size_t i = 0; i < nsig; i++) {
				const struct dkim_result *r = dkim_verify_result(v, i);
				temp |= r->res == DKIM_TEMPERROR &&
				    dmarc_aligned(r->domain, f->dom[k], in.rec.adkim);
			}
			if (temp) {
				o.res = DMARC_R_TEMPERROR;
				o.disposition = DMARC_P_NONE;
				str_copy(o.why, sizeof o.why, "a temporary error may hide an aligned "
				    "pass");
			}
		}
		if (!out->have || dmarc_outcome_stricter(&o, &out->o)) {
			out->o = o;
			str_copy(out->from, sizeof out->from, f->dom[k]);
			out->published = in.lookup == 1 ? o.policy : DMARC_P_UNSET;
		}
		out->have = true;
	}
}

static struct authres_method *
method(struct authres_method *m, size_t *n, const char *name, const char *result)
{
	memset(&m[*n], 0, sizeof m[*n]);
	m[*n].method = name;
	m[*n].result = result;
	return &m[(*n)++];
}

static void
prop(struct authres_method *m, const char *k, const char *v)
{
	for (size_t i = 0; i < AUTHRES_PROPS; i++)
		if (m->props[i][0] == NULL) {
			m->props[i][0] = k;
			m->props[i][1] = v;
			return;
		}
}

void
msgcheck_authres(struct buf *out, const char *authserv_id, const struct msgcheck_session *ss,
    const struct dkim_verify *v, const struct msgcheck_from *f, const struct msgcheck_dmarc *d)
{
	struct authres_method m[4 + MSGCHECK_SIGS_MAX], *x;
	size_t n = 0;
	if (ss->iprev != NULL) {
		x = method(m, &n, "iprev", ss->iprev);
		if (ss->ip)
			prop(x, "policy.iprev", ss->ip);
	}
	if (ss->spf_checked) {
		x = method(m, &n, "spf", spf_result_name(ss->spf));
		if (ss->mailfrom != NULL && ss->mailfrom[0] != '\0')
			prop(x, "smtp.mailfrom", ss->mailfrom);
		else if (ss->helo != NULL)
			prop(x, "smtp.helo", ss->helo);
	}
	size_t nsig = v ? dkim_verify_count(v) : 0;
	if (nsig > MSGCHECK_SIGS_MAX)
		nsig = MSGCHECK_SIGS_MAX;
	if (nsig == 0)
		method(m, &n, "dkim", "none");
	for (size_t i = 0; i < nsig; i++) {
		const struct dkim_result *r = dkim_verify_result(v, i);
		x = method(m, &n, "dkim", dkim_res_name(r->res));
		x->reason = r->why[0] ? r->why : NULL;
		prop(x, "header.d", r->domain);
		prop(x, "header.s", r->selector);
		prop(x, "header.a", r->algo);
		prop(x, "header.b", r->b);
	}
	if (d->have) {
		x = method(m, &n, "dmarc", dmarc_res_name(d->o.res));
		prop(x, "header.from", d->from);
		if (d->published != DMARC_P_UNSET)
			prop(x, "policy.dmarc", dmarc_policy_name(d->published));
	} else {
		x = method(m, &n, "dmarc", f->problem ? "permerror" : "none");
		x->reason = f->problem;
	}
	authres_format(out, authserv_id, m, n);
}

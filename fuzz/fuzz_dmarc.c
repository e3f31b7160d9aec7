/*
 * fuzz/fuzz_dmarc.c - libFuzzer harness for msgauth/dmarc.c and
 * msgauth/from.c: record parsing, selection over TXT answers, discovery,
 * From: domains, org domains, alignment and evaluation.
 *
 * Input:   byte 0 picks the answer status and DNSSEC state, byte 1 the pct
 *          sample, byte 2 the SPF/DKIM pass bits; the rest is split at
 *          0x1e into pieces: piece 0 is a From: value, every piece is also
 *          a TXT record (of _dmarc.<from> and of _dmarc.<org>) and a
 *          record to parse, pieces 1.. are SPF and DKIM domains.  Each
 *          piece sits in an exact-size heap block, so ASan sees any read
 *          past its length.
 * Checks:  no crash, leak or sanitizer report; a parsed record has values
 *          in range and NUL-terminated strings; From: domains are valid,
 *          distinct and lowercase; discovery and evaluation give results
 *          that agree with their inputs (disposition none unless fail, no
 *          stronger than the policy; pass exactly when aligned).
 * Seeds:   fuzz/corpus/dmarc/, dictionary fuzz/dmarc.dict.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/domain.h"
#include "msgauth/dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PIECES	8

static void
check_record(const struct dmarc_record *r)
{
	assert(r->p >= DMARC_P_NONE && r->p <= DMARC_P_REJECT);
	assert(r->sp >= DMARC_P_NONE && r->sp <= DMARC_P_REJECT);
	assert(r->adkim == 'r' || r->adkim == 's');
	assert(r->aspf == 'r' || r->aspf == 's');
	assert(r->pct <= 100);
	assert(memchr(r->fo, 0, sizeof r->fo) != NULL && r->fo[0] != '\0');
	assert(memchr(r->rua, 0, sizeof r->rua) != NULL);
	assert(memchr(r->ruf, 0, sizeof r->ruf) != NULL);
	for (const char *s = r->rua; *s; s++)
		assert(*s >= 0x20 && *s < 0x7f);
}

static void
check_outcome(const struct dmarc_input *in, const struct dmarc_outcome *o)
{
	assert(memchr(o->why, 0, sizeof o->why) != NULL);
	if (o->res != DMARC_R_FAIL)
		assert(o->disposition == DMARC_P_NONE);
	else
		assert(o->disposition <= o->policy && o->disposition >= DMARC_P_NONE);
	if (o->res == DMARC_R_PASS || o->res == DMARC_R_FAIL) {
		assert(in->lookup == 1);
		assert((o->res == DMARC_R_PASS) == (o->spf_aligned || o->dkim_aligned));
	}
	if (o->spf_aligned)
		assert(in->spf_pass);
	assert(dmarc_res_name(o->res)[0] != '\0');
}

static void
run_from(const char *v, size_t n, char (*dom)[256], int *nd)
{
	*nd = dmarc_from_domains(v, n, dom, 4);
	assert(*nd >= -1 && *nd <= 4);
	for (int i = 0; i < *nd; i++) {
		size_t l = strlen(dom[i]);
		assert(l > 0 && l <= DOMAIN_MAX && domain_valid(dom[i], l, DOMAIN_UTF8));
		for (size_t k = 0; k < l; k++)
			assert(!(dom[i][k] >= 'A' && dom[i][k] <= 'Z'));
		for (int j = 0; j < i; j++)
			assert(strcmp(dom[i], dom[j]) != 0);
	}
}

static void
run_evaluate(const char *from, const struct dmarc_record *rec, int lookup, bool at_org,
    char **piece, size_t np, const uint8_t *ctl)
{
	struct dmarc_dkim dk[PIECES];
	struct dmarc_input in = {
		.from_domain = from, .lookup = lookup, .rec = *rec, .rec_at_org = at_org,
		.spf_domain = np > 1 ? piece[1] : NULL, .spf_pass = ctl[2] & 1,
		.dkim = dk, .sample = ctl[1],
	};
	struct dmarc_outcome o, o2;

	for (size_t i = 1; i < np; i++)
		dk[in.n_dkim++] = (struct dmarc_dkim){ piece[i], (ctl[2] >> (i % 8)) & 1 };
	dmarc_evaluate(&in, &o);
	check_outcome(&in, &o);
	dmarc_evaluate(&in, &o2);
	assert(o.res == o2.res && o.disposition == o2.disposition);
	assert(!dmarc_outcome_stricter(&o, &o2));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *piece[PIECES];
	size_t plen[PIECES], np = 0;
	char dom[4][256], why[200], need[LOOKUP_NAME_MAX + 1], q[2][LOOKUP_NAME_MAX + 1];
	struct dmarc_record rec;
	int nd;

	if (size < 3)
		return 0;
	const uint8_t *ctl = data, *p = data + 3, *end = data + size;
	while (np < PIECES) {
		const uint8_t *sep = memchr(p, 0x1e, (size_t)(end - p));
		size_t n = sep ? (size_t)(sep - p) : (size_t)(end - p);
		piece[np] = malloc(n + 1);
		memcpy(piece[np], p, n);
		piece[np][n] = '\0';
		plen[np++] = n;
		if (sep == NULL)
			break;
		p = sep + 1;
	}

	for (size_t i = 0; i < np; i++)
		if (dmarc_record_parse(piece[i], plen[i], &rec, why, sizeof why) == 0)
			check_record(&rec);
	run_from(piece[0], plen[0], dom, &nd);

	/* the From domain, or piece 0 itself as a domain */
	const char *from = nd > 0 ? dom[0] : piece[0];
	struct lookup_set *s = lookup_set_new();
	if (dmarc_query_names(from, q)) {
		assert(strncmp(q[0], "_dmarc.", 7) == 0);
		for (int k = 0; k < 2 && q[k][0] != '\0'; k++) {
			struct lookup l;
			lookup_init(&l, LOOKUP_TXT, q[k]);
			l.status = (enum lookup_status)((ctl[0] >> (2 * k)) % 3);
			l.sec = (enum lookup_sec)((ctl[0] >> 4) % 3);
			for (size_t i = 0; i < np; i++)
				lookup_add(&l, 0, piece[i], plen[i]);
			int r = dmarc_select(&l, &rec, why, sizeof why);
			assert(r >= -1 && r <= 1);
			if (r == 1)
				check_record(&rec);
			lookup_set_put(s, &l);
			lookup_clear(&l);
		}
	}
	bool at_org;
	enum dmarc_disc d = dmarc_discover(s, from, &rec, &at_org, need, why, sizeof why);
	assert(d >= DMARC_DISC_TEMPFAIL && d <= DMARC_DISC_ASK);
	if (d == DMARC_DISC_FOUND)
		check_record(&rec);
	int lookup = d == DMARC_DISC_FOUND ? 1 : d == DMARC_DISC_TEMPFAIL ? -1 : 0;
	run_evaluate(from, &rec, lookup, at_org, piece, np, ctl);
	lookup_set_free(&s);

	/* alignment is symmetric, strict implies relaxed */
	if (np > 1) {
		bool st = dmarc_aligned(piece[0], piece[1], 's');
		bool re = dmarc_aligned(piece[0], piece[1], 'r');
		assert(st == dmarc_aligned(piece[1], piece[0], 's'));
		assert(re == dmarc_aligned(piece[1], piece[0], 'r'));
		assert(!st || re);
	}
	char org[256];
	if (dmarc_org_domain(piece[0], org, sizeof org)) {
		char org2[256];
		assert(dmarc_org_domain(org, org2, sizeof org2) && strcmp(org, org2) == 0);
		assert(dmarc_aligned(piece[0], org, 'r'));
	}
	for (size_t i = 0; i < np; i++)
		free(piece[i]);
	return 0;
}

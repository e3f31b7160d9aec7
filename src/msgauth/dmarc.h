/*
 * msgauth/dmarc.h - DMARC (RFC 7489): policy records, policy discovery,
 * organisational domains, identifier alignment, the evaluation of one
 * RFC5322.From domain, and the From: domains themselves (msgauth/from.c).
 *
 * Everything here is a pure function: DNS answers come in as struct
 * lookup (dns/lookup.h), the SPF and DKIM verdicts as plain values, the
 * random sample for pct= as a number.  Nothing is looked up, logged or
 * allocated beyond libpsl's own built-in list.
 *
 * Domains.  Alignment and organisational domains compare names in one
 * form: lowercase ASCII, no final dot, U-labels (RFC 6532 UTF-8 in a
 * From: domain) turned into A-labels ("xn--...", RFC 3492 Punycode).  Only
 * ASCII is lowercased; a U-label is expected to be NFC lowercase already
 * (IDNA2008 mapping and normalisation are not done here).
 *
 * Several From: addresses or fields (RFC 7489 6.6.1).  The caller gets
 * the distinct domains of every From: field with dmarc_from_domains (the
 * same domain twice is evaluated once), runs discovery and
 * dmarc_evaluate for each domain, and keeps the strictest outcome
 * (dmarc_outcome_stricter).  Several From: fields are treated like one
 * field with all their addresses: each domain is evaluated and the
 * strictest wins, so a forged second From: cannot hide behind a first.
 * No From: field, or one dmarc_from_domains refuses (-1) or that names no
 * domain at all (an empty group): the result is permerror with no policy
 * (set from_domain = NULL); whether to reject such a message is the
 * caller's decision, as 6.6.1 leaves it.
 *
 * Policy discovery (RFC 7489 6.6.3) is done by the caller in the policy
 * process: ask the names dmarc_query_names gives, in order, and hand the
 * answers to dmarc_discover (or dmarc_select one at a time).
 *
 * Runs in: policy and smtp worker (evaluation), CLI.  Trusts: nothing in
 * TXT data or header values.
 */
#ifndef TALON_DMARC_H
#define TALON_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/lookup.h"

#define DMARC_FROM_MAX	16	/* distinct From: domains evaluated, see dmarc_from_domains */

enum dmarc_policy { DMARC_P_UNSET = 0, DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };

struct dmarc_record {
	enum dmarc_policy p, sp;	/* sp = p when absent */
	char adkim, aspf;		/* 'r' (default) or 's' */
	unsigned pct;			/* 0..100, default 100 */
	char fo[32];			/* default "0"; lowercase items joined by ':' */
	char rua[512], ruf[512];	/* kept as written (trimmed), for reporting later;
					 * a list too long is cut after its last URI that fits */
	unsigned ri;			/* default 86400 */
	bool p_assumed;			/* p (and sp) were missing or invalid and set to none
					 * by the rua rule of RFC 7489 6.6.3 */
};

/* Parse one record (RFC 7489 6.3, 6.4).  The record must start with the
 * version tag: "v" (any case), optional spaces, "=", optional spaces,
 * "DMARC1" exactly, then the end, a space or ';'.  Tag names are read
 * without case, values of p, sp, adkim, aspf and fo too.  Unknown tags and
 * pieces without '=' are ignored.  A missing or bad p=, a bad sp=, or p=
 * or sp= given twice make the record invalid, except under the rule of
 * 6.6.3 (with at least one valid URI in rua=, act as if p=none: then sp is
 * none too and p_assumed is set).  Other bad values, and later copies of
 * other tags, are dropped in favour of the defaults or the first copy
 * (6.3: "syntax errors in the remainder of the record SHOULD be
 * discarded").  0 ok, -1 not a valid record (err gets why). */
int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *out, char *err,
    size_t errlen);
/* Does this TXT data start with the DMARC version tag (as above)? */
bool dmarc_record_is_dmarc(const char *txt, size_t len);

/* From a TXT answer at _dmarc.X: 1 = exactly one valid DMARC record (in
 * *out), 0 = none usable (no TXT, none starting with "v=DMARC1", more
 * than one (RFC 7489 6.6.3), or the one there is invalid), -1 = the lookup
 * failed temporarily (LOOKUP_TEMPFAIL, or a bogus DNSSEC answer).  why
 * gets a short reason.  Note that 6.6.3 goes on to the organisational
 * domain only when the set is empty; dmarc_discover makes that
 * distinction, this function does not. */
int dmarc_select(const struct lookup *txt, struct dmarc_record *out, char *why, size_t whylen);

/* The names to ask, in order: out[0] = "_dmarc.<domain>", out[1] =
 * "_dmarc.<org>" or "" when the domain is its own org domain.  Normalised
 * with lookup_name_norm (A-labels).  false for an invalid domain, or one
 * too long to carry the "_dmarc." prefix. */
bool dmarc_query_names(const char *from_domain, char out[2][LOOKUP_NAME_MAX + 1]);

enum dmarc_disc {
	DMARC_DISC_TEMPFAIL = -1,	/* a lookup failed temporarily: temperror */
	DMARC_DISC_NONE = 0,		/* no usable record: no DMARC processing */
	DMARC_DISC_FOUND = 1,		/* *out holds the record */
	DMARC_DISC_ASK = 2,		/* ask TXT `need` and call again */
};
/* Policy discovery (RFC 7489 6.6.3) over the answers known so far (TXT
 * answers keyed by the names of dmarc_query_names).  The org domain is
 * asked only when the From domain's set holds no DMARC record at all;
 * several records or an invalid one there end discovery (steps 5, 6).
 * *at_org tells whether the record came from the org domain (for
 * dmarc_input.rec_at_org).  Use the return value as dmarc_input.lookup
 * (FOUND 1, NONE 0, TEMPFAIL -1) once it is not DMARC_DISC_ASK.  An
 * invalid from_domain gives NONE; dmarc_evaluate then says permerror. */
enum dmarc_disc dmarc_discover(const struct lookup_set *answers, const char *from_domain,
    struct dmarc_record *out, bool *at_org, char need[LOOKUP_NAME_MAX + 1], char *why,
    size_t whylen);

/* Organisational domain (RFC 7489 3.2) via libpsl (psl_builtin(); the
 * registrable domain; a name that is itself a public suffix is its own
 * org domain).  out is in the normalised form above.  false when domain
 * is not a valid name (mail/domain.c syntax, UTF-8 allowed) or out is too
 * small. */
bool dmarc_org_domain(const char *domain, char *out, size_t outlen);
/* Identifier alignment (3.1): mode 's' strict = equal (case-insensitive),
 * 'r' relaxed = same org domain.  Any other mode, or an invalid name on
 * either side, is not aligned. */
bool dmarc_aligned(const char *a, const char *b, char mode);

struct dmarc_dkim { const char *domain; bool pass; };	/* d= of each DKIM signature checked */

enum dmarc_res { DMARC_R_NONE = 0, DMARC_R_PASS, DMARC_R_FAIL, DMARC_R_TEMPERROR,
	DMARC_R_PERMERROR };
const char *dmarc_res_name(enum dmarc_res r);		/* RFC 8601 names */
const char *dmarc_policy_name(enum dmarc_policy p);	/* "none", ...; "" for unset */

struct dmarc_input {
	const char *from_domain;	/* the RFC5322.From domain (one; see dmarc_from_domains);
					 * NULL when there is none: permerror */
	int lookup;			/* dmarc_select's answer for the record used: 1, 0, -1 */
	struct dmarc_record rec;	/* when lookup == 1 */
	bool rec_at_org;		/* the record came from the org domain: sp applies when
					 * from_domain is not the org domain itself */
	const char *spf_domain;		/* the domain SPF checked (MAIL FROM domain, or HELO) */
	bool spf_pass;
	const struct dmarc_dkim *dkim;
	size_t n_dkim;
	unsigned sample;		/* 0..99 from the caller's random source (above 99 counts
					 * as 99).  The policy is applied when sample < pct, i.e.
					 * with probability pct/100; sample >= pct samples it out */
};

struct dmarc_outcome {
	enum dmarc_res res;
	enum dmarc_policy policy;	/* the published policy that applies (p or sp);
					 * UNSET when there is no record */
	enum dmarc_policy disposition;	/* what to do: policy after pct sampling (RFC 7489
					 * 6.6.4: quarantine sampled out -> none, reject
					 * sampled out -> quarantine); DMARC_P_NONE when res
					 * is not fail */
	bool spf_aligned, dkim_aligned;
	bool sampled_out;		/* res is fail and pct sampling lowered the policy */
	char why[200];			/* "no aligned SPF or DKIM pass",
					 * "DKIM aligned (example.org)" */
};

/* Evaluate one From domain (RFC 7489 4.2, 6.6).  Order: no/invalid From
 * domain -> permerror; lookup -1 -> temperror; lookup 0 -> none; else
 * pass when SPF passed for an aligned domain or any DKIM signature passed
 * for an aligned d=, fail otherwise.  Never fails itself. */
void dmarc_evaluate(const struct dmarc_input *in, struct dmarc_outcome *out);
/* Is a's disposition stricter than b's (RFC 7489 6.6.1, several From
 * domains: the strictest wins)?  Disposition first, then result (fail >
 * temperror > permerror > none > pass). */
bool dmarc_outcome_stricter(const struct dmarc_outcome *a, const struct dmarc_outcome *b);

/* The domains of the addresses in one From header field value (unfolded,
 * after the colon): RFC 5322 3.4 mailbox-list with display names, quoted
 * strings, comments (nested up to 32 deep), angle addresses, groups
 * (not nested), obsolete forms tolerated (empty list elements, routes,
 * CFWS around dots, dots in phrases), UTF-8 in atoms (RFC 6532).  Returns
 * how many distinct domains were written to dom[0..max) (lowercased
 * ASCII, without a final dot, in order of first appearance), or -1 when
 * the value is not an address list, an address has a domain literal or a
 * domain mail/domain.c refuses (DMARC needs a domain name), or there are
 * more than max distinct domains (an ignored one could be the forged
 * one).  0 for an empty group ("undisclosed-recipients:;"). */
int dmarc_from_domains(const char *value, size_t len, char (*dom)[256], size_t max);

#endif

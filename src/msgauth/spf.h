/*
 * msgauth/spf.h - Sender Policy Framework (RFC 7208) as a pure evaluator.
 *
 * spf_eval() runs check_host() over the DNS answers it is given (a struct
 * lookup_set) and either finishes or names the questions it needs next.
 * The caller resolves those, adds them to the set and calls again; every
 * call re-runs the evaluation from the start, so the result depends only on
 * the request and the answers.  Nothing here does I/O or DNS.
 */
#ifndef TALON_SPF_H
#define TALON_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "dns/lookup.h"

enum spf_result {
	SPF_NONE = 0, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL,
	SPF_TEMPERROR, SPF_PERMERROR
};

/* "none" "neutral" "pass" "fail" "softfail" "temperror" "permerror"
 * (the RFC 8601 names); static storage. */
const char *spf_result_name(enum spf_result r);

struct spf_request {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t ip[16];		/* client address; 4 bytes used for AF_INET */
	const char *sender;	/* MAIL FROM address without <>; "" for the null sender */
	const char *helo;	/* HELO/EHLO argument as the client gave it (may be junk) */
	const char *receiver;	/* our host name, for %{r} */
	bool check_helo;	/* evaluate the HELO identity (RFC 7208 2.3) instead of MAIL FROM */
	time_t now;		/* for %{t} */
};

#define SPF_NEED_MAX 10
struct spf_need {
	uint16_t type;
	char name[LOOKUP_NAME_MAX + 1];	/* normalised with lookup_name_norm() */
};

struct spf_outcome {
	enum spf_result result;
	char domain[256];	/* the domain whose policy was checked */
	char identity[600];	/* the identity checked: the sender, or postmaster@HELO */
	char mechanism[256];	/* the directive that decided, e.g. "-all",
				 * "ip4:192.0.2.0/24", "include:x.example", "default"
				 * (no match: neutral) */
	char explanation[512];	/* fail only: the exp= text after macro expansion, or "" */
	char problem[256];	/* none/temperror/permerror: why ("no SPF record",
				 * "2 SPF records", "too many DNS lookups", "void lookup
				 * limit", "syntax: ...", "TXT example.com: timeout") */
	unsigned lookups, void_lookups;
};

enum spf_step { SPF_DONE, SPF_NEED };

/*
 * Returns SPF_DONE with *out filled, or SPF_NEED with need[0..*n_need)
 * (1..SPF_NEED_MAX) set to questions not yet in `answers`: everything that
 * is already known to be needed at that point (the address of every MX host
 * of an mx mechanism, of every PTR name), so they can be resolved in
 * parallel.  A question already in the set is never asked.  trace, when not
 * NULL, is reset and gets one LF-terminated line per step of this run, with
 * untrusted bytes escaped.  An evaluation needs at most about 25 rounds
 * (10 DNS terms, each at most two rounds, plus %{p} and exp=).
 */
enum spf_step spf_eval(const struct spf_request *rq, const struct lookup_set *answers,
    struct spf_outcome *out, struct spf_need *need, size_t *n_need, struct buf *trace);

/* Syntax check of one record (RFC 7208 4.5, 4.6.1, 12): 0, or -1 with a
 * message in err ("unknown mechanism \"foo\"", "no v=spf1 version"). */
int spf_record_check(const char *txt, size_t len, char *err, size_t errlen);

/*
 * Macro expansion (RFC 7208 7) of macro-string `spec` for the request, with
 * <domain> = domain; exp selects explain-string rules (spaces and the
 * letters c, r, t allowed).  %{p} expands to "unknown" here because it needs
 * DNS (spf_eval does the validation).  0 ok, -1 syntax error or a result
 * longer than outlen - 1 bytes (err set).  out is always NUL-terminated.
 */
int spf_expand(const struct spf_request *rq, const char *domain, const char *spec, bool exp,
    char *out, size_t outlen, char *err, size_t errlen);

#endif

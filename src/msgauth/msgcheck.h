/*
 * msgauth/msgcheck.h - the checks of one received message put together:
 * its From domains, DMARC for each of them over the DKIM results and the
 * SPF result, and the Authentication-Results field that reports it all.
 *
 * Shared by the smtp worker (smtp/mailauth.c) and `talon dmarc`, so the
 * command shows exactly what the daemon decides.  Pure: DNS answers come
 * in as a lookup set, the questions still needed go out as names.
 *
 * Several From domains (RFC 7489 6.6.1): every address of every From
 * field counts, each distinct domain (at most MSGCHECK_FROM_MAX) is
 * evaluated and the strictest outcome wins, so a second From cannot hide
 * a first.  No From field, or one that is not an address list: DMARC
 * permerror with no policy, and the message is not refused for it.
 *
 * Runs in: smtp worker, CLI.
 */
#ifndef TALON_MSGAUTH_MSGCHECK_H
#define TALON_MSGAUTH_MSGCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "dns/lookup.h"
#include "msgauth/dkim.h"
#include "msgauth/dmarc.h"
#include "msgauth/header.h"
#include "msgauth/spf.h"

#define MSGCHECK_FROM_MAX	4
#define MSGCHECK_SIGS_MAX	8	/* signatures reported (DKIM_VERIFY_MAX) */

struct msgcheck_from {
	char dom[MSGCHECK_FROM_MAX][256];
	size_t n;
	const char *problem;	/* static text when n == 0 */
};

/* The distinct From domains of the header section. */
void msgcheck_from(const struct mhdrs *h, struct msgcheck_from *f);
/* The next TXT questions DMARC discovery has for those domains (not yet
 * in set), at most max, into need; returns how many. */
size_t msgcheck_dmarc_needs(const struct lookup_set *set, const struct msgcheck_from *f,
    char (*need)[LOOKUP_NAME_MAX + 1], size_t max);

struct msgcheck_dmarc {
	bool have;			/* at least one From domain was evaluated */
	struct dmarc_outcome o;		/* the strictest outcome */
	char from[256];			/* its From domain */
	enum dmarc_policy published;	/* its record's policy (p or sp), UNSET: none */
};

/* DMARC for every From domain.  spf_domain/spf: the identity SPF checked
 * (MAIL FROM domain, or the HELO name for the null sender) and its result.
 * A fail that a temporary error could have caused (an aligned signature
 * whose key lookup failed, an aligned SPF temperror) is temperror
 * (RFC 7489 6.6.2).  sample: 0..99 for pct=. */
void msgcheck_dmarc(const struct lookup_set *set, const struct msgcheck_from *f,
    const char *spf_domain, enum spf_result spf, const struct dkim_verify *v,
    unsigned sample, struct msgcheck_dmarc *out);

/* What the receiving server knew about the session. */
struct msgcheck_session {
	const char *iprev;		/* "pass" "fail" "temperror", NULL: not checked */
	const char *ip;			/* the client's address */
	enum spf_result spf;
	bool spf_checked;		/* false: no spf method in the field */
	const char *mailfrom;		/* the MAIL FROM address, NULL for <> */
	const char *helo;
};

/* Append the Authentication-Results field (RFC 8601), LF line ends. */
void msgcheck_authres(struct buf *out, const char *authserv_id, const struct msgcheck_session *ss,
    const struct dkim_verify *v, const struct msgcheck_from *f, const struct msgcheck_dmarc *d);

#endif

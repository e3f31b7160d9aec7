/*
 * policy/verdict.h - what a check says about a session, a sender, a
 * recipient or a message.
 *
 *   V_NEXT      no opinion: the next check decides
 *   V_ACCEPT    accept (and skip the checks after this one)
 *   V_REJECT    5xx: refuse
 *   V_TEMPFAIL  4xx: try again later
 *   V_DISCARD   accept to the end of the data, then drop silently
 *
 * A refusal carries its reply (code, enhanced code, text) and a reason
 * for the log, set together by verdict_set() so that the code is typed
 * once.  Pure data.  Runs in: smtp worker, policy.
 */
#ifndef TALON_VERDICT_H
#define TALON_VERDICT_H

#include <stdint.h>

enum verdict_kind { V_NEXT, V_ACCEPT, V_REJECT, V_TEMPFAIL, V_DISCARD };

struct verdict {
	enum verdict_kind kind;
	uint16_t code;		/* 4xx/5xx for REJECT/TEMPFAIL */
	char esc[12];		/* RFC 3463 enhanced code, e.g. "5.7.1" */
	char text[400];		/* the reply after the codes */
	const char *reason;	/* for the log (static text) */
};

/* Fill v.  kind follows from code: 4xx TEMPFAIL, 5xx REJECT (a 2xx or
 * other code is a bug and becomes 451 4.3.0: a verdict never accepts by
 * its reply). */
void verdict_set(struct verdict *v, unsigned code, const char *esc, const char *reason,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif

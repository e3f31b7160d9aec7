/*
 * policy/guard.h - the policy process's state that outlives restarts:
 * the greylist (policy/greylist.h) and the ban table (policy/bans.h),
 * both SQLite files in the policy's own directory (STATE/policy), and
 * the answers built on them: GREY, EVENT, the ban check at ADMIT, and
 * `talon ban list|add|del` (POLICY_CTL from the parent).
 *
 * Failures are local: a store that cannot open or answer makes greylist
 * checks answer "error" (the session says 451 4.3.0), bans fail open
 * (logged), and the process goes on.  Expired rows are purged hourly.
 * Runs in: policy.
 */
#ifndef TALON_POLICY_GUARD_H
#define TALON_POLICY_GUARD_H

#include <stdbool.h>
#include <time.h>

#include "core/buf.h"
#include "core/prefix.h"
#include "proto/parent.h"
#include "proto/smtp_policy.h"

struct loop;

/* New settings: opens the stores that the settings need (again when the
 * directory changed). */
void guard_settings(struct loop *loop, const struct proto_policy_settings *s);
void guard_free(void);
/* Is addr banned now?  Logs the refusal with the ban's reason. */
bool guard_banned(const struct prefix *addr, const char *ip);
/* The greylist's answer for the client at addr. */
void guard_grey(const struct prefix *addr, const struct proto_grey *q,
    struct proto_grey_reply *r);
/* The client earned points (ignored for mynetworks and with auto-ban off). */
void guard_event(const struct prefix *addr, uint32_t event);
/* A login from addr worked (the address is spared from automatic bans
 * for a day: an owner must not lock himself out) or failed (ban points,
 * unless spared). */
void guard_login(const struct prefix *addr, bool ok);
/* `ban list|add|del ...` (the words after "ban"): 0 with the body in out,
 * or -1 with the error text. */
int guard_ctl(const char *line, struct buf *out);

#endif

/*
 * policy/greylist.h - the greylisting store: which (client network,
 * envelope sender, envelope recipient) triplets have waited long enough,
 * kept in SQLite so that a restart forgets nothing.
 *
 * As milter-greylist: the first try of a triplet is refused for now; a
 * retry at least delay and less than window seconds after the first try
 * passes; a passed triplet stays known for keep seconds after its last
 * pass.  A network with auto_allow distinct live passed triplets (0: off)
 * is auto-allowed: every triplet from it passes until keep seconds after
 * the network's last pass.  Intervals are half-open: a retry at
 * first+delay passes, one at first+window is "expired", and a triplet is
 * forgotten at last pass + keep.
 *
 * Input:   the client address from the kernel; sender and recipient from
 *          the SMTP session (untrusted: at most GREY_ADDR_MAX bytes, stored
 *          with ASCII lowercased, only ever bound as SQL parameters); the
 *          database file (written by us; a foreign or damaged file is an
 *          error, never a crash).
 * Output:  a decision and a state name for the log.
 * Runs in: policy (single-threaded; a handle is not shared across threads).
 */
#ifndef TALON_POLICY_GREYLIST_H
#define TALON_POLICY_GREYLIST_H

#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "core/prefix.h"

#define GREY_ADDR_MAX	512	/* longest sender or recipient stored */

struct greylist;		/* opaque: the database and its statements */

struct greylist_conf {
	unsigned delay;		/* seconds before a retry passes (300) */
	unsigned window;	/* seconds after the first try a retry still passes (14400) */
	unsigned keep;		/* seconds a passed triplet/auto-allowed network is kept
				 * (35 days) */
	unsigned auto_allow;	/* passes that auto-allow a network; 0: off */
	unsigned v4_prefix, v6_prefix;	/* 24, 64 */
};

enum grey_result { GREY_PASS, GREY_WAIT, GREY_ERROR };

/* Open (creating it with mode 0600 if absent) the database at path: WAL
 * journal, synchronous=NORMAL, busy timeout 1000 ms.  NULL with err set
 * when the file is not a database, belongs to something else or has a
 * schema we do not know.  The caller owns the handle. */
struct greylist *greylist_open(const char *path, char *err, size_t errlen);
/* Finalize, close and clear *g; NULL or *g == NULL is fine. */
void greylist_close(struct greylist **g);

/* The decision for one triplet at time now (the injectable clock: tests
 * pass any time).  sender is "" for the null sender.
 * GREY_WAIT: *retry_in = seconds until a retry would pass (>= 1).
 * GREY_ERROR: err says why (SQLite error text, an overlong or NULL
 * address, a client that is neither IPv4 nor IPv6 (net_text ""), a window
 * not longer than delay, under which nothing could ever pass); the caller
 * answers 451 4.3.0.  A prefix length past the family's width keeps the
 * whole address.
 * *state is a static string: "new", "early", "passed", "known",
 * "auto-allowed", "expired" (window missed: counted as new) or "error".
 * net_text gets the network as text ("192.0.2.0/24") for the log. */
enum grey_result greylist_check(struct greylist *g, const struct greylist_conf *c,
    const struct sockaddr_storage *client, socklen_t clientlen, const char *sender,
    const char *rcpt, time_t now, unsigned *retry_in, const char **state,
    char net_text[PREFIX_TEXT_MAX], char *err, size_t errlen);

/* Delete what has expired: unpassed triplets older than window, passed
 * ones and auto-allowed networks not used for keep seconds.  Returns rows
 * deleted, or -1 with err. */
long greylist_purge(struct greylist *g, const struct greylist_conf *c, time_t now,
    char *err, size_t errlen);

/* Counts for status/tests: triplets not yet passed, passed triplets,
 * auto-allowed networks (expired rows count until purged).  0, or -1 on a
 * database error. */
int greylist_counts(struct greylist *g, long *pending, long *passed, long *networks);

#endif

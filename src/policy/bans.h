/*
 * policy/bans.h - the auto-ban table: client addresses earn points for
 * what they do wrong (relaying, guessing recipients, VRFY, failed AUTH,
 * talking early, pipelining unasked, protocol errors, blocklist hits);
 * a score over the threshold bans the address, and each repeat ban lasts
 * twice as long as the one before.  Admins add and remove bans by hand,
 * for an address or a prefix.
 *
 * Input:   events about client addresses from smtp workers (addresses
 *          from the kernel; which event happened is the worker's claim),
 *          manual bans from the control socket, the SQLite store.
 * Scores:  memory only, per IPv4 address or IPv6 /64 (a client cannot
 *          rotate through its /64; an automatic ban of an IPv6 client bans
 *          its /64).  At most max_tracked scores: when the table is full a
 *          new address evicts one of a few sampled entries, preferring
 *          one whose points are outside the window, then the lowest score,
 *          then the oldest (a flood of new addresses evicts the small fry,
 *          not the client about to be banned).
 * Bans:    in SQLite (WAL, synchronous=NORMAL) and in memory together; a
 *          check never touches SQLite.  One row per prefix, kept after the
 *          ban ends as history for a year so repeat offenders get longer
 *          bans.  Checking costs one hash probe per prefix length present.
 *
 * Runs in: policy (the only writer of the store).  Not thread-safe.
 */
#ifndef TALON_POLICY_BANS_H
#define TALON_POLICY_BANS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/prefix.h"

#define BANS_TRACKED_DEFAULT	65536
#define BANS_HISTORY		(365 * 86400)	/* seconds an ended ban is remembered */

enum ban_event { BAN_EV_RELAY, BAN_EV_UNKNOWN_RCPT, BAN_EV_VRFY, BAN_EV_AUTH_FAIL,
	BAN_EV_EARLY_TALK, BAN_EV_PIPELINING, BAN_EV_PROTOCOL, BAN_EV_BLOCKLIST, BAN_EV__MAX };

/* "relay", "unknown-recipient", "vrfy", "auth-failure", "early-talker", "pipelining",
 * "protocol-error", "blocklist": the names in the config and the log ("?" when out of
 * range). */
const char *ban_event_name(enum ban_event e);
int ban_event_parse(const char *name);		/* -1 when unknown (exact, lowercase) */

struct ban_conf {
	unsigned points[BAN_EV__MAX];	/* per event; 0: the event is not counted */
	unsigned threshold;		/* score that bans (default 10); 0: no auto bans */
	unsigned window;		/* seconds: points older than this are forgotten (86400) */
	unsigned duration;		/* first automatic ban, seconds (3600) */
	unsigned max_duration;		/* cap for repeats, seconds (30 days) */
};

/* relay 5, unknown-recipient 1, vrfy 2, auth-failure 2, early-talker 5, pipelining 5,
 * protocol-error 1, blocklist 3, and the defaults above. */
void ban_conf_defaults(struct ban_conf *c);

struct bans;

/* Open (creating it 0600 when absent) the store at path and load the bans
 * active at the wall clock's now.  NULL with a message "path: why" in err
 * when the file cannot be opened or is not a bans store. */
struct bans *bans_open(const char *path, char *err, size_t errlen);
void bans_close(struct bans **b);

/* Bound the score table (at least 1; default BANS_TRACKED_DEFAULT); a
 * lower bound evicts at once. */
void bans_set_max_tracked(struct bans *b, size_t max_tracked);
size_t bans_tracked(const struct bans *b);	/* scores held now */

struct ban_info {
	struct prefix what;
	time_t since, until;	/* until 0: for ever (manual bans may be for ever) */
	unsigned count;		/* how many times banned (automatic repeats) */
	char reason[128];	/* "auto: relay=2 unknown-recipient=4" or the admin's text */
};

/* Is the address banned at now?  Fills *info (when not NULL) with the
 * matching ban, the longest matching prefix when several are.  An IPv4-mapped
 * IPv6 address is looked up as IPv4. */
bool bans_check(const struct bans *b, const struct prefix *addr, time_t now,
    struct ban_info *info);

/* Add points for one event about addr (a full-length address).  Returns 1
 * when this event banned the address (info filled), 0 when not, -1 on a
 * store error or a bad argument (err).  *score: the score now (the one that
 * banned, on 1).  Points expire window seconds after the first of them; a
 * ban resets the score; events about an address already banned are not
 * counted (sessions that began before the ban still report).  The ban lasts
 * duration * 2^(count-1), capped at max_duration, count being 1 + the
 * automatic bans of the address/network remembered in the store.  score and
 * info may be NULL. */
int bans_event(struct bans *b, const struct ban_conf *c, const struct prefix *addr,
    enum ban_event ev, time_t now, unsigned *score, struct ban_info *info, char *err,
    size_t errlen);

/* Manual ban of a prefix (host bits zero) from now until (0: for ever; else
 * after now), replacing a ban of the same prefix; keeps its repeat count and
 * clears the scores inside it.  0, or -1 (err). */
int bans_add(struct bans *b, const struct prefix *what, time_t now, time_t until,
    const char *reason, char *err, size_t errlen);
/* Remove the ban of exactly this prefix, its history (the repeat count
 * starts again) and the scores inside it.  0 removed, 1 none (neither an
 * active ban nor history), -1 on a store error (err). */
int bans_del(struct bans *b, const struct prefix *what, char *err, size_t errlen);

/* Every active ban at now, sorted by address (IPv4 first, then the address
 * bytes, then the shorter prefix); the callback's non-zero return stops. */
void bans_list(const struct bans *b, time_t now, int (*fn)(const struct ban_info *, void *),
    void *arg);

/* Forget history that ended more than BANS_HISTORY before now, and drop
 * ended bans from memory.  Call it now and then (hourly).  The number of
 * store rows removed, or -1 (err). */
long bans_purge(struct bans *b, time_t now, char *err, size_t errlen);

#endif

/*
 * policy/guard.c - greylist and ban stores of the policy process (see
 * guard.h).
 * Input:   GREY and EVENT requests (sender and recipient untrusted, the
 *          address is the one policy admitted), `ban` lines from the
 *          control socket (root or admin-group, still parsed strictly).
 * Runs in: policy, user _talonpol, in its own directory.
 */
#include "policy/guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "policy/bans.h"
#include "policy/greylist.h"

#define PURGE_MS	(3600 * 1000)
#define SPARE_SECS	86400	/* a login spares its address from bans this long */
#define SPARE_MAX	4096	/* addresses remembered; then the oldest goes */

/* An address that logged in (auth process), and when. */
struct spare {
	struct prefix addr;
	time_t when;
};

static struct {
	struct loop *loop;
	struct proto_policy_settings set;
	char dir[sizeof ((struct proto_policy_settings *)0)->statedir];
	struct greylist *grey;
	struct bans *bans;
	bool grey_failed, bans_failed;	/* opening failed: said once */
	struct timer purge;
	bool timer_ready;
	struct spare spares[SPARE_MAX];
	size_t n_spares;
} G;

static struct spare *
spare_find(const struct prefix *addr)
{
	for (size_t i = 0; i < G.n_spares; i++)
		if (G.spares[i].addr.family == addr->family &&
		    memcmp(G.spares[i].addr.addr, addr->addr, 16) == 0)
			return &G.spares[i];
	return NULL;
}

static bool
spared(const struct prefix *addr, time_t now)
{
	const struct spare *s = spare_find(addr);
	return s != NULL && now - s->when < SPARE_SECS;
}

static void
purge(struct loop *l, void *arg)
{
	char err[256];
	time_t now = time(NULL);
	if (G.grey != NULL) {
		struct greylist_conf gc = { G.set.grey_delay, G.set.grey_window, G.set.grey_keep,
			G.set.grey_auto_allow, G.set.grey_v4_prefix, G.set.grey_v6_prefix };
		long n = greylist_purge(G.grey, &gc, now, err, sizeof err);
		if (n < 0)
			log_err("policy event=greylist-purge error=\"%s\"", err);
		else if (n > 0)
			log_info("policy event=greylist-purge removed=%ld", n);
	}
	if (G.bans != NULL) {
		long n = bans_purge(G.bans, now, err, sizeof err);
		if (n < 0)
			log_err("policy event=ban-purge error=\"%s\"", err);
	}
	timer_set(G.loop, &G.purge, PURGE_MS);
}

static void
open_stores(void)
{
	char err[256], path[1100];
	if (G.set.greylist != 0 && G.grey == NULL && G.dir[0]) {
		snprintf(path, sizeof path, "%s/greylist.db", G.dir);
		G.grey = greylist_open(path, err, sizeof err);
		if (G.grey == NULL && !G.grey_failed)
			log_err("policy event=greylist-open path=%s error=\"%s\" action=451", path, err);
		G.grey_failed = G.grey == NULL;
	}
	/* bans are kept whether or not auto-ban is on: an admin may ban by hand */
	if (G.bans == NULL && G.dir[0]) {
		snprintf(path, sizeof path, "%s/bans.db", G.dir);
		G.bans = bans_open(path, err, sizeof err);
		if (G.bans == NULL && !G.bans_failed)
			log_err("policy event=bans-open path=%s error=\"%s\" action=no-bans", path, err);
		G.bans_failed = G.bans == NULL;
	}
}

void
guard_settings(struct loop *loop, const struct proto_policy_settings *s)
{
	G.loop = loop;
	if (strcmp(G.dir, s->statedir) != 0) {
		greylist_close(&G.grey);
		bans_close(&G.bans);
		str_copy(G.dir, sizeof G.dir, s->statedir);
		G.grey_failed = G.bans_failed = false;
	}
	G.set = *s;
	if (G.set.greylist == 0)
		greylist_close(&G.grey);
	open_stores();
	if (!G.timer_ready) {
		timer_init(&G.purge, purge, NULL);
		G.timer_ready = true;
		timer_set(loop, &G.purge, 60 * 1000);	/* soon after start, then hourly */
	}
}

void
guard_free(void)
{
	if (G.timer_ready)
		timer_cancel(G.loop, &G.purge);
	greylist_close(&G.grey);
	bans_close(&G.bans);
	memset(&G, 0, sizeof G);
}

static bool
trusted(const struct prefix *addr)
{
	for (uint32_t i = 0; i < G.set.n_nets; i++)
		if (prefix_contains(&G.set.nets[i], addr))
			return true;
	return false;
}

static void
when(time_t t, char *out, size_t n)
{
	struct tm tm;
	if (t == 0) {
		str_copy(out, n, "forever");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool
guard_banned(const struct prefix *addr, const char *ip)
{
	struct ban_info bi;
	if (G.bans == NULL || !bans_check(G.bans, addr, time(NULL), &bi))
		return false;
	char what[PREFIX_TEXT_MAX], until[32], reason[sizeof bi.reason * 4];
	prefix_text(&bi.what, what);
	when(bi.until, until, sizeof until);
	log_escape(reason, sizeof reason, bi.reason, strlen(bi.reason));
	log_info("policy event=admit client=[%s] result=banned ban=%s until=%s count=%u "
	    "reason=\"%s\"", ip, what, until, bi.count, reason);
	return true;
}

static void
to_sockaddr(const struct prefix *p, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (p->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, p->addr, 4);
		*len = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, p->addr, 16);
		*len = sizeof *s6;
	}
}

void
guard_grey(const struct prefix *addr, const struct proto_grey *q, struct proto_grey_reply *r)
{
	char err[256], net[PREFIX_TEXT_MAX] = "";
	const char *state = "error";
	memset(r, 0, sizeof r[0]);
	r->result = GREY_R_ERROR;
	if (G.grey == NULL) {
		open_stores();	/* the directory may have been fixed meanwhile */
		if (G.grey == NULL) {
			str_copy(r->state, sizeof r->state, "store-unavailable");
			return;
		}
	}
	struct greylist_conf gc = { G.set.grey_delay, G.set.grey_window, G.set.grey_keep,
		G.set.grey_auto_allow, G.set.grey_v4_prefix, G.set.grey_v6_prefix };
	struct sockaddr_storage ss;
	socklen_t len;
	to_sockaddr(addr, &ss, &len);
	unsigned retry = 0;
	enum grey_result g = greylist_check(G.grey, &gc, &ss, len, q->sender, q->rcpt, time(NULL),
	    &retry, &state, net, err, sizeof err);
	if (g == GREY_ERROR) {
		char e[sizeof err * 4];
		log_escape(e, sizeof e, err, strlen(err));
		log_err("policy event=greylist error=\"%s\" action=451", e);
		str_copy(r->state, sizeof r->state, "store-error");
		return;
	}
	r->result = g == GREY_PASS ? GREY_R_PASS : GREY_R_WAIT;
	r->retry = retry;
	str_copy(r->state, sizeof r->state, state);
	str_copy(r->net, sizeof r->net, net);
}

static void
conf_of_bans(struct ban_conf *bc)
{
	ban_conf_defaults(bc);
	for (size_t i = 0; i < BAN_EV__MAX && i < PROTO_BAN_EVENTS; i++)
		if (G.set.ban_points[i] != UINT32_MAX)
			bc->points[i] = G.set.ban_points[i];
	bc->threshold = G.set.ban_threshold;
	bc->window = G.set.ban_window;
	bc->duration = G.set.ban_time;
	bc->max_duration = G.set.ban_time_max;
}

void
guard_event(const struct prefix *addr, uint32_t event)
{
	char ip[PREFIX_TEXT_MAX], err[256];
	if (!G.set.auto_ban || event >= BAN_EV__MAX)
		return;
	prefix_text(addr, ip);
	if (trusted(addr)) {
		log_info("policy event=ban-points client=[%s] what=%s result=ignored "
		    "reason=mynetworks", ip, ban_event_name(event));
		return;
	}
	if (spared(addr, time(NULL))) {
		log_info("policy event=ban-points client=[%s] what=%s result=ignored "
		    "reason=recently-logged-in", ip, ban_event_name(event));
		return;
	}
	if (G.bans == NULL)
		return;
	struct ban_conf bc;
	conf_of_bans(&bc);
	struct ban_info bi;
	unsigned score = 0;
	int r = bans_event(G.bans, &bc, addr, event, time(NULL), &score, &bi, err, sizeof err);
	if (r < 0) {
		log_err("policy event=ban-points client=[%s] error=\"%s\"", ip, err);
		return;
	}
	if (r == 0) {
		log_info("policy event=ban-points client=[%s] what=%s score=%u threshold=%u", ip,
		    ban_event_name(event), score, bc.threshold);
		return;
	}
	char what[PREFIX_TEXT_MAX], until[32], reason[sizeof bi.reason * 4];
	prefix_text(&bi.what, what);
	when(bi.until, until, sizeof until);
	log_escape(reason, sizeof reason, bi.reason, strlen(bi.reason));
	log_warn("policy event=ban client=[%s] ban=%s until=%s count=%u reason=\"%s\"", ip, what,
	    until, bi.count, reason);
}

void
guard_login(const struct prefix *addr, bool ok)
{
	time_t now = time(NULL);
	if (!ok) {
		guard_event(addr, BAN_EV_AUTH_FAIL);
		return;
	}
	struct spare *s = spare_find(addr);
	if (s == NULL) {
		if (G.n_spares < SPARE_MAX) {
			s = &G.spares[G.n_spares++];
		} else {
			s = &G.spares[0];
			for (size_t i = 1; i < G.n_spares; i++)
				if (G.spares[i].when < s->when)
					s = &G.spares[i];
		}
		s->addr = *addr;
	}
	s->when = now;
}

/* --- talon ban ... -------------------------------------------------------- */

static int
list_one(const struct ban_info *bi, void *arg)
{
	struct buf *out = arg;
	char what[PREFIX_TEXT_MAX], since[32], until[32], reason[sizeof bi->reason * 4];
	prefix_text(&bi->what, what);
	when(bi->since, since, sizeof since);
	when(bi->until, until, sizeof until);
	log_escape(reason, sizeof reason, bi->reason, strlen(bi->reason));
	buf_printf(out, "%s until=%s since=%s count=%u reason=\"%s\"\n", what, until, since,
	    bi->count, reason);
	return out->err ? 1 : 0;
}

/* "3600", "30m", "12h", "7d", "forever" (0) */
static bool
duration(const char *s, time_t *out)
{
	if (strcmp(s, "forever") == 0) {
		*out = 0;
		return true;
	}
	char num[16];
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n >= sizeof num || (s[n] != '\0' && s[n + 1] != '\0'))
		return false;
	memcpy(num, s, n);
	num[n] = '\0';
	uint64_t v, mul = 1;
	if (!parse_u64(num, 10u * 365 * 86400, &v) || v == 0)
		return false;
	switch (s[n]) {
	case '\0': case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return false;
	}
	*out = (time_t)(v * mul);
	return true;
}

int
guard_ctl(const char *line, struct buf *out)
{
	char copy[512], err[256];
	char *av[20];
	int ac = 0;
	str_copy(copy, sizeof copy, line);
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && ac < 20;
	    t = strtok_r(NULL, " ", &save))
		av[ac++] = t;
	time_t now = time(NULL);
	if (G.bans == NULL) {
		buf_puts(out, "the ban table is not available (see the policy log)");
		return -1;
	}
	if (ac == 1 && strcmp(av[0], "list") == 0) {
		bans_list(G.bans, now, list_one, out);
		return 0;
	}
	struct prefix p;
	if (ac >= 2 && !prefix_parse(av[1], &p)) {
		buf_printf(out, "\"%.60s\" is not an address or prefix (host bits must be zero)",
		    av[1]);
		return -1;
	}
	if (ac == 2 && strcmp(av[0], "del") == 0) {
		int r = bans_del(G.bans, &p, err, sizeof err);
		if (r < 0) {
			buf_printf(out, "%s", err);
			return -1;
		}
		char t[PREFIX_TEXT_MAX];
		prefix_text(&p, t);
		log_info("policy event=ban-del ban=%s result=%s", t, r == 0 ? "removed" : "none");
		buf_printf(out, r == 0 ? "%s unbanned\n" : "%s was not banned\n", t);
		return r == 0 ? 0 : -1;
	}
	if (ac >= 2 && strcmp(av[0], "add") == 0) {
		time_t d = 0;
		int first_reason = 2;
		if (ac >= 3 && duration(av[2], &d))
			first_reason = 3;
		char reason[128] = "";
		for (int i = first_reason; i < ac; i++) {
			size_t o = strlen(reason);
			snprintf(reason + o, sizeof reason - o, "%s%s", o ? " " : "", av[i]);
		}
		if (reason[0] == '\0')
			str_copy(reason, sizeof reason, "manual");
		time_t until = d == 0 ? 0 : now + d;
		if (bans_add(G.bans, &p, now, until, reason, err, sizeof err) < 0) {
			buf_printf(out, "%s", err);
			return -1;
		}
		char t[PREFIX_TEXT_MAX], u[32];
		prefix_text(&p, t);
		when(until, u, sizeof u);
		log_info("policy event=ban-add ban=%s until=%s reason=\"%s\"", t, u, reason);
		buf_printf(out, "%s banned until %s\n", t, u);
		return 0;
	}
	buf_puts(out, "usage: ban list | ban add PREFIX [SECONDS|Nm|Nh|Nd|forever] [REASON...] | "
	    "ban del PREFIX");
	return -1;
}

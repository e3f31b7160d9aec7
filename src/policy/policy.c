/*
 * policy/policy.c - the policy role.
 *
 * Input:   requests from smtp workers over their channels (untrusted: a
 *          worker may be taken over; a request that does not decode closes
 *          that worker's channel and gives back its sessions), settings
 *          and peer channels from the parent.
 * Output:  verdicts, matched to requests by id.
 * Runs in: policy process, user _talonpol, not chrooted; its SQLite state
 *          (greylist, bans) lives in STATE/policy; holds no secrets.
 * Reload:  in place: POLICY_SETTINGS carries the new limits and
 *          generation; counts of open sessions are kept.
 */
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/sockaddr.h"
#include "core/util.h"
#include "dns/resolve.h"
#include "mail/conf.h"
#include "policy/accessmap.h"
#include "policy/admit.h"
#include "policy/guard.h"
#include "policy/lookups.h"
#include "proto/imap_auth.h"
#include "proto/parent.h"
#include "proto/smtp_policy.h"

struct peer {
	struct peer *next;
	struct ipc *ipc;
	uint32_t slot;
	uint32_t id;		/* names the worker in a REPORT */
	uint32_t chan;		/* names this channel's sessions in admit */
	uint32_t role;		/* ROLE_SMTP or ROLE_AUTH */
};

static struct {
	struct loop *loop;
	struct ipc *parent;
	struct peer *peers;
	struct proto_policy_settings set;
	bool have_settings;
	struct admit admit;
	uint32_t next_chan;
} PL;

static bool
trusted(const struct prefix *addr)
{
	for (uint32_t i = 0; i < PL.set.n_nets; i++)
		if (prefix_contains(&PL.set.nets[i], addr))
			return true;
	return false;
}

/* May the client connect: the ban table, the connection rate (both
 * skipped for mynetworks, who cannot lock themselves out), then the
 * counts of open sessions. */
static uint32_t
admit(struct peer *p, uint64_t id, const struct proto_admit *a, const struct client_key *k,
    const struct prefix *addr)
{
	char ip[SOCKADDR_IP_MAX];
	sockaddr_ip(&a->addr, a->addrlen, ip);
	bool trust = trusted(addr);
	if (!trust && guard_banned(addr, ip))
		return ADMIT_BANNED;
	if (!trust && PL.set.conn_rate > 0 &&
	    admit_rate(&PL.admit, k, time(NULL), PL.set.conn_rate)) {
		log_info("policy event=admit client=[%s] worker=%u result=rate-limited "
		    "limit=connection-rate max=%u/min", ip, p->slot, PL.set.conn_rate);
		return ADMIT_RATE;
	}
	uint32_t v = admit_ask(&PL.admit, p->chan, id, k, PL.set.max_conns,
	    PL.set.max_conns_per_ip);
	if (v == ADMIT_OK)
		admit_set_addr(&PL.admit, p->chan, id, addr);
	else
		log_info("policy event=admit client=[%s] worker=%u result=%s open=%u total=%zu "
		    "limit=%s", ip, p->slot, v == ADMIT_TOO_MANY_IP ? "too-many-from-client" :
		    "too-many", admit_count(&PL.admit, k), PL.admit.total,
		    v == ADMIT_TOO_MANY_IP ? "connections-per-ip" : "connections");
	return v;
}

/* The auth process: logins that worked spare an address from bans,
 * failures earn it points. */
static const char *
auth_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct proto_auth_event e;
	struct prefix addr;
	if (m->type != PROTO_AUTH_EVENT || proto_auth_event_dec(m, &e) < 0)
		return "bad AUTH_EVENT";
	if (prefix_parse(e.client, &addr) && addr.len == (addr.family == AF_INET ? 32u : 128u))
		guard_login(&addr, e.ok != 0);
	return NULL;
}

/* The imap process: is a connecting client banned?  (Admission counts
 * and the rest stay smtp's; a banned address is refused everywhere.) */
static const char *
imap_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct peer *p = arg;
	struct proto_admit a;
	struct prefix addr;
	char ip[SOCKADDR_IP_MAX];
	if (m->type != PROTO_BAN_CHECK || proto_admit_dec(m, &a) < 0 ||
	    !prefix_from_sockaddr(&a.addr, a.addrlen, &addr))
		return "bad BAN_CHECK";
	sockaddr_ip(&a.addr, a.addrlen, ip);
	struct proto_ban_reply r = { .banned = !trusted(&addr) && guard_banned(&addr, ip) };
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_ban_reply_enc(&b, &r);
	proto_send(p->ipc, PROTO_BAN_REPLY, m->id, &b);
	return NULL;
}

static const char *
peer_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct peer *p = arg;
	struct proto_admit a;
	struct client_key k;
	struct prefix addr;
	switch (m->type) {
	case PROTO_ADMIT:
	case PROTO_ADMIT_HOLD:
		if (proto_admit_dec(m, &a) < 0)
			return "bad ADMIT";
		if (!sockaddr_client_key(&a.addr, a.addrlen, PL.set.ipv6_prefix, &k) ||
		    !prefix_from_sockaddr(&a.addr, a.addrlen, &addr))
			return "bad client address";
		if (m->type == PROTO_ADMIT_HOLD) {
			admit_hold(&PL.admit, p->chan, m->id, &k);
			admit_set_addr(&PL.admit, p->chan, m->id, &addr);
			break;
		}
		proto_admit_reply_send(p->ipc, m->id, admit(p, m->id, &a, &k, &addr));
		break;
	case PROTO_ADMIT_END:
		if (m->len != 0)
			return "bad ADMIT_END";
		admit_end(&PL.admit, p->chan, m->id);
		break;
	case PROTO_SPF: {
		struct proto_spf q;
		if (proto_spf_dec(m, &q) < 0)
			return "bad SPF";
		lookups_spf(p->ipc, p->chan, m->id, &q);
		break;
	}
	case PROTO_RDNS:
		if (proto_admit_dec(m, &a) < 0)
			return "bad RDNS";
		lookups_rdns(p->ipc, p->chan, m->id, &a.addr, a.addrlen);
		break;
	case PROTO_LOOKUP: {
		struct proto_lookup q;
		if (proto_lookup_dec(m, &q) < 0)
			return "bad LOOKUP";
		lookups_txt(p->ipc, p->chan, m->id, &q);
		break;
	}
	case PROTO_ACCESS: {
		struct proto_access q;
		struct proto_access_reply r;
		if (proto_access_dec(m, &q) < 0)
			return "bad ACCESS";
		accessmap_ask(&q, &r);
		struct buf b;
		buf_init(&b, IPC_MAX);
		proto_access_reply_enc(&b, &r);
		proto_send(p->ipc, PROTO_ACCESS_REPLY, m->id, &b);
		break;
	}
	case PROTO_DNSBL: {
		struct proto_dnsbl q;
		if (proto_dnsbl_dec(m, &q) < 0)
			return "bad DNSBL";
		/* an unknown session (ended meanwhile) still gets its answer:
		 * the domains alone */
		bool have = admit_addr(&PL.admit, p->chan, q.session, &addr);
		lookups_dnsbl(p->ipc, p->chan, m->id, &q, have ? &addr : NULL, PL.set.bls,
		    PL.set.n_bls);
		break;
	}
	case PROTO_GREY: {
		struct proto_grey q;
		struct proto_grey_reply r;
		if (proto_grey_dec(m, &q) < 0)
			return "bad GREY";
		if (admit_addr(&PL.admit, p->chan, q.session, &addr)) {
			guard_grey(&addr, &q, &r);
		} else {
			memset(&r, 0, sizeof r);
			r.result = GREY_R_ERROR;
			str_copy(r.state, sizeof r.state, "unknown-session");
		}
		struct buf b;
		buf_init(&b, IPC_MAX);
		proto_grey_reply_enc(&b, &r);
		proto_send(p->ipc, PROTO_GREY_REPLY, m->id, &b);
		break;
	}
	case PROTO_EVENT: {
		struct proto_event e;
		if (proto_event_dec(m, &e) < 0)
			return "bad EVENT";
		if (admit_addr(&PL.admit, p->chan, e.session, &addr))
			guard_event(&addr, e.event);
		break;
	}
	default:
		return "unexpected message";
	}
	return NULL;
}

static void
peer_close(struct ipc *c, void *arg)
{
	struct peer *p = arg;
	proto_peer_closed(PL.parent, c, "policy", p->role, p->slot, p->id);
	admit_drop_chan(&PL.admit, p->chan);
	lookups_drop_chan(p->chan);
	struct peer **pp = &PL.peers;
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	ipc_free(&p->ipc);
	free(p);
}

static bool
resolver_changed(const struct proto_policy_settings *a, const struct proto_policy_settings *b)
{
	return a->resolver != b->resolver || strcmp(a->forward, b->forward) != 0 ||
	    strcmp(a->anchor, b->anchor) != 0 || a->resolver_timeout != b->resolver_timeout ||
	    strcmp(a->hostname, b->hostname) != 0;
}

/* A resolver for the settings (jobs running keep the old one).  When
 * libunbound refuses the settings, lookups fail as temporary errors and
 * the log says why: the mail checks then say temperror, nothing is lost. */
static void
resolver_start(const struct proto_policy_settings *s)
{
	struct conf c;
	char fwd[sizeof s->forward], err[256];
	memset(&c, 0, sizeof c);
	c.resolver = s->resolver;
	c.resolver_timeout = s->resolver_timeout;
	c.trust_anchor = (char *)s->anchor;
	str_copy(fwd, sizeof fwd, s->forward);
	for (char *save = NULL, *t = strtok_r(fwd, " ", &save); t && c.n_forward <
	    CONF_FORWARD_MAX; t = strtok_r(NULL, " ", &save))
		c.forward[c.n_forward++] = t;
	struct resolver *r = resolver_new(&c, PL.loop, err, sizeof err);
	if (r == NULL)
		log_err("policy event=resolver error=\"%s\" action=lookups-fail", err);
	else
		log_info("policy event=resolver mode=%s%s%s timeout=%us",
		    s->resolver == CONF_RESOLVER_FORWARD ? "forward" :
		    s->resolver == CONF_RESOLVER_RECURSIVE ? "recursive" : "system",
		    s->forward[0] ? " servers=" : "", s->forward, s->resolver_timeout);
	lookups_set_resolver(r, s->hostname);
}

static const char *
parent_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	switch (m->type) {
	case PROTO_POLICY_SETTINGS: {
		struct proto_policy_settings s;
		if (proto_policy_settings_dec(m, &s) < 0)
			return "bad POLICY_SETTINGS";
		if (PL.have_settings && s.gen != PL.set.gen)
			log_info("policy event=reload generation=%u", s.gen);
		/* a new prefix length would change the keys of sessions already
		 * counted; they keep their keys and are given back under them */
		if (!PL.have_settings || resolver_changed(&PL.set, &s))
			resolver_start(&s);
		accessmap_set(PL.loop, s.access);
		guard_settings(PL.loop, &s);
		PL.set = s;
		PL.have_settings = true;
		break;
	}
	case PROTO_PEER: {
		struct proto_peer pe;
		if (proto_peer_dec(m, &pe) < 0 || (pe.role != ROLE_SMTP && pe.role != ROLE_AUTH &&
		    pe.role != ROLE_IMAP))
			return "bad PEER";
		struct peer *p = xcalloc(1, sizeof *p);
		p->slot = pe.slot;
		p->id = pe.id;
		p->role = pe.role;
		p->chan = ++PL.next_chan;
		p->ipc = ipc_new(PL.loop, m->fd, pe.role == ROLE_AUTH ? auth_msg :
		    pe.role == ROLE_IMAP ? imap_msg : peer_msg, peer_close, p);
		m->fd = -1;
		p->next = PL.peers;
		PL.peers = p;
		break;
	}
	case PROTO_POLICY_CTL: {
		struct proto_policy_ctl q;
		if (proto_policy_ctl_dec(m, &q) < 0)
			return "bad POLICY_CTL";
		struct buf out, b;
		buf_init(&out, PROTO_CTL_BODY_MAX);
		int rc = guard_ctl(q.line, &out);
		if (out.err) {
			buf_reset(&out);
			buf_puts(&out, "reply too large");
			rc = -1;
		}
		buf_init(&b, IPC_MAX);
		proto_policy_ctl_reply_enc(&b, rc == 0, (const char *)out.data, out.len);
		proto_send(PL.parent, PROTO_POLICY_CTL_REPLY, m->id, &b);
		buf_free(&out);
		break;
	}
	case PROTO_STOP: {
		struct proto_stop st;
		if (proto_stop_dec(m, &st) < 0)
			return "bad STOP";
		loop_stop(PL.loop);
		break;
	}
	default:
		return "unexpected message";
	}
	return NULL;
}

static void
parent_close(struct ipc *c, void *arg)
{
	/* the parent is gone, or sent what we cannot read: nobody supervises
	 * us and nobody would reconnect us */
	log_warn("policy event=parent-gone reason=\"%s\"",
	    ipc_close_reason(c) ? ipc_close_reason(c) : "closed");
	exit(1);
}

void
policy_main(int parent_fd)
{
	memset(&PL, 0, sizeof PL);
	PL.loop = loop_new();
	if (PL.loop == NULL)
		fatal("policy: cannot create event loop");
	admit_init(&PL.admit);
	PL.parent = ipc_new(PL.loop, parent_fd, parent_msg, parent_close, NULL);
	log_info("policy event=start");
	loop_run(PL.loop);
	log_info("policy event=stop");
	while (PL.peers)
		peer_close(PL.peers->ipc, PL.peers);
	lookups_shutdown();
	accessmap_free();
	guard_free();
	ipc_free(&PL.parent);
	admit_free(&PL.admit);
	loop_free(&PL.loop);
	exit(0);
}

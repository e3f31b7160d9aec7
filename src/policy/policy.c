/*
 * policy/policy.c - the policy role.
 *
 * Input:   requests from smtp workers over their channels (untrusted: a
 *          worker may be taken over; a request that does not decode closes
 *          that worker's channel and gives back its sessions), settings
 *          and peer channels from the parent.
 * Output:  verdicts, matched to requests by id.
 * Runs in: policy process, user _talonpol, not chrooted (later issues give
 *          it SQLite state in its own directory); holds no secrets.
 * Reload:  in place: POLICY_SETTINGS carries the new limits and
 *          generation; counts of open sessions are kept.
 */
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/sockaddr.h"
#include "core/util.h"
#include "policy/admit.h"
#include "proto/parent.h"
#include "proto/smtp_policy.h"

struct peer {
	struct peer *next;
	struct ipc *ipc;
	uint32_t slot;
	uint32_t id;		/* names the worker in a REPORT */
	uint32_t chan;		/* names this channel's sessions in admit */
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

static const char *
peer_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	struct peer *p = arg;
	struct proto_admit a;
	struct client_key k;
	switch (m->type) {
	case PROTO_ADMIT:
	case PROTO_ADMIT_HOLD:
		if (proto_admit_dec(m, &a) < 0)
			return "bad ADMIT";
		if (!sockaddr_client_key(&a.addr, a.addrlen, PL.set.ipv6_prefix, &k))
			return "bad client address";
		if (m->type == PROTO_ADMIT_HOLD) {
			admit_hold(&PL.admit, p->chan, m->id, &k);
			break;
		}
		uint32_t v = admit_ask(&PL.admit, p->chan, m->id, &k, PL.set.max_conns,
		    PL.set.max_conns_per_ip);
		if (v != ADMIT_OK) {
			char ip[SOCKADDR_IP_MAX];
			sockaddr_ip(&a.addr, a.addrlen, ip);
			log_info("policy event=admit client=[%s] worker=%u result=%s open=%u total=%zu",
			    ip, p->slot, v == ADMIT_TOO_MANY_IP ? "too-many-from-client" :
			    "too-many", admit_count(&PL.admit, &k), PL.admit.total);
		}
		proto_admit_reply_send(p->ipc, m->id, v);
		break;
	case PROTO_ADMIT_END:
		if (m->len != 0)
			return "bad ADMIT_END";
		admit_end(&PL.admit, p->chan, m->id);
		break;
	default:
		return "unexpected message";
	}
	return NULL;
}

static void
peer_close(struct ipc *c, void *arg)
{
	struct peer *p = arg;
	proto_peer_closed(PL.parent, c, "policy", ROLE_SMTP, p->slot, p->id);
	admit_drop_chan(&PL.admit, p->chan);
	struct peer **pp = &PL.peers;
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	ipc_free(&p->ipc);
	free(p);
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
		PL.set = s;
		PL.have_settings = true;
		break;
	}
	case PROTO_PEER: {
		struct proto_peer pe;
		if (proto_peer_dec(m, &pe) < 0 || pe.role != ROLE_SMTP)
			return "bad PEER";
		struct peer *p = xcalloc(1, sizeof *p);
		p->slot = pe.slot;
		p->id = pe.id;
		p->chan = ++PL.next_chan;
		p->ipc = ipc_new(PL.loop, m->fd, peer_msg, peer_close, p);
		m->fd = -1;
		p->next = PL.peers;
		PL.peers = p;
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
	ipc_free(&PL.parent);
	admit_free(&PL.admit);
	loop_free(&PL.loop);
	exit(0);
}

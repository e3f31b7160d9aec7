/*
 * proto/parent.h - the parent's channel to each child (every role).
 *
 *   STOP             parent -> child   stop taking work, finish, exit
 *   PEER             parent -> child   fd: a channel to another role's
 *                                      process (sent at start and after
 *                                      either side restarts)
 *   QUEUE_SETTINGS   parent -> queue   the queue's part of a config
 *   DELIVER_SETTINGS parent -> deliver   generation, sent first and on
 *   POLICY_SETTINGS  parent -> policy    every reload (applied in place)
 *   MAILBOXES        parent -> deliver   the mailbox names of the users
 *                                      file, in chunks, after the settings:
 *                                      deliver writes only to those
 *   REPORT           child -> parent   "I closed my channel to this peer
 *                                      because of what it sent": the parent
 *                                      kills the peer (or, when an smtp
 *                                      worker reports, the worker itself)
 *
 * Runs in: parent and every child.
 */
#ifndef TALON_PROTO_PARENT_H
#define TALON_PROTO_PARENT_H

#include <stdint.h>

#include "core/buf.h"
#include "core/ipc.h"
#include "core/prefix.h"
#include "proto/proto.h"

struct ipc;
struct ipc_msg;

#define PROTO_HOSTNAME_MAX 253

struct proto_stop {
	uint32_t grace;		/* seconds sessions may take to finish */
};

struct proto_peer {
	uint32_t role;		/* enum proto_role of the process at the other end */
	uint32_t slot;		/* its instance number (smtp workers) */
	uint32_t id;		/* names that very process in a REPORT */
};

#define PROTO_REASON_MAX 200
#define PROTO_MAILBOXES_MAX 512		/* names per MAILBOXES message */
#define PROTO_MAILBOX_MAX 64		/* bytes in a name (a directory) */

struct proto_mailboxes {
	uint32_t gen;		/* the generation the list belongs to */
	uint8_t last;		/* 1 on the last chunk of the list */
	uint32_t n;
	char name[PROTO_MAILBOXES_MAX][PROTO_MAILBOX_MAX + 1];
};

struct proto_report {
	uint32_t role;		/* the peer's, as its PEER message said */
	uint32_t id;
	char reason[PROTO_REASON_MAX + 1];
};

struct proto_queue_settings {
	uint32_t gen;
	uint32_t max_open;	/* spool files one worker may hold open (>= 1) */
	uint32_t lifetime;	/* seconds a message is retried (>= 1) */
	char hostname[PROTO_HOSTNAME_MAX + 1];
};

struct proto_deliver_settings {
	uint32_t gen;
	char hostname[PROTO_HOSTNAME_MAX + 1];
	uint64_t quota_bytes;	/* limit mailbox-quota; 0 none */
};

#define PROTO_NETS_MAX		256
#define PROTO_BL_MAX		16	/* CONF_BL_MAX */
#define PROTO_BAN_EVENTS	8	/* CONF_BAN_EVENTS */
struct proto_bl {
	char zone[256];
	uint32_t what;			/* DNSBL_* bits (= CONF_BL_*) */
	uint32_t n_codes;
	uint32_t codes[16];
	uint32_t code;
	char esc[12];
	char text[401];			/* "" default */
};

struct proto_policy_settings {
	uint32_t gen;
	uint32_t max_conns;
	uint32_t max_conns_per_ip;
	uint32_t ipv6_prefix;
	/* the resolver (mail/conf.h `resolver`) */
	uint32_t resolver;		/* enum conf_resolver */
	char forward[512];		/* servers, blank-separated */
	char anchor[1024];		/* recursive: trust anchor file */
	uint32_t resolver_timeout;	/* seconds */
	char hostname[256];
	char access[1024];		/* the access map's file, "" for none */
	/* the inbound defences (mail/conf.h) */
	char statedir[1024];		/* the policy's own directory (SQLite files) */
	uint32_t n_nets;		/* mynetworks: never banned */
	struct prefix nets[PROTO_NETS_MAX];
	uint32_t n_bls;
	struct proto_bl bls[PROTO_BL_MAX];
	uint32_t greylist;		/* enum conf_grey */
	uint32_t grey_delay, grey_window, grey_keep, grey_auto_allow;
	uint32_t grey_v4_prefix, grey_v6_prefix;
	uint32_t auto_ban;
	uint32_t ban_points[PROTO_BAN_EVENTS];	/* UINT32_MAX: default */
	uint32_t ban_threshold, ban_window, ban_time, ban_time_max;
	uint32_t conn_rate;		/* per minute per client, 0 off */
};

/* `talon ban list|add|del ...` as the control socket read it; the reply
 * is what the caller reads. */
struct proto_policy_ctl {
	char line[512];
};
struct proto_policy_ctl_reply {
	uint32_t ok;			/* 1 ok, 0 error */
	char *body;			/* owned, at most PROTO_CTL_BODY_MAX */
};
#define PROTO_CTL_BODY_MAX	(IPC_MAX - 1024)

void proto_stop_enc(struct buf *b, const struct proto_stop *v);
int proto_stop_dec(const struct ipc_msg *m, struct proto_stop *v);
void proto_stop_send(struct ipc *c, uint32_t grace);

/* fd is required: decoding fails without one */
void proto_peer_enc(struct buf *b, const struct proto_peer *v);
int proto_peer_dec(const struct ipc_msg *m, struct proto_peer *v);
void proto_peer_send(struct ipc *c, const struct proto_peer *v, int fd);
/* every name must be a valid mailbox name (spool_user_valid) */
void proto_mailboxes_enc(struct buf *b, const struct proto_mailboxes *v);
int proto_mailboxes_dec(const struct ipc_msg *m, struct proto_mailboxes *v);
void proto_report_enc(struct buf *b, const struct proto_report *v);
int proto_report_dec(const struct ipc_msg *m, struct proto_report *v);
/* reason is cut to PROTO_REASON_MAX */
void proto_report_send(struct ipc *c, uint32_t role, uint32_t id, const char *reason);
/* A peer channel c is closing.  When that is because of what the peer
 * sent (ipc_close_reason), log "SELF event=peer-refused" and REPORT the
 * peer (role, worker slot, id) on the parent channel (when there is one). */
void proto_peer_closed(struct ipc *parent, struct ipc *c, const char *self, uint32_t role,
    uint32_t slot, uint32_t id);

void proto_queue_settings_enc(struct buf *b, const struct proto_queue_settings *v);
int proto_queue_settings_dec(const struct ipc_msg *m, struct proto_queue_settings *v);
void proto_deliver_settings_enc(struct buf *b, const struct proto_deliver_settings *v);
int proto_deliver_settings_dec(const struct ipc_msg *m, struct proto_deliver_settings *v);
void proto_policy_settings_enc(struct buf *b, const struct proto_policy_settings *v);
int proto_policy_settings_dec(const struct ipc_msg *m, struct proto_policy_settings *v);
void proto_policy_ctl_enc(struct buf *b, const struct proto_policy_ctl *v);
int proto_policy_ctl_dec(const struct ipc_msg *m, struct proto_policy_ctl *v);
void proto_policy_ctl_reply_enc(struct buf *b, uint32_t ok, const char *body, size_t len);
/* v->body is allocated on success; free it */
int proto_policy_ctl_reply_dec(const struct ipc_msg *m, struct proto_policy_ctl_reply *v);

#endif

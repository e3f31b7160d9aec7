/*
 * proto/smtp_policy.h - an smtp worker asks the policy process about its
 * clients.
 *
 *   ADMIT        smtp -> policy   id = session; the client's address:
 *                                 may it connect?
 *   ADMIT_REPLY  policy -> smtp   verdict (ADMIT_OK, ADMIT_TOO_MANY,
 *                                 ADMIT_TOO_MANY_IP)
 *   ADMIT_END    smtp -> policy   the admitted session ended
 *   ADMIT_HOLD   smtp -> policy   the client's address: a session admitted
 *                                 by an earlier policy process still runs
 *                                 (sent to a restarted policy), count it
 *
 *   SPF          smtp -> policy   client address, sender, HELO: evaluate
 *                                 SPF (RFC 7208) with the shared resolver
 *   SPF_REPLY    policy -> smtp   result, domain, mechanism, explanation,
 *                                 problem
 *   RDNS         smtp -> policy   client address: its forward-confirmed
 *                                 reverse name (RFC 8601 iprev)
 *   RDNS_REPLY   policy -> smtp   RDNS_PASS + name, RDNS_FAIL, RDNS_TEMP
 *   LOOKUP       smtp -> policy   up to PROTO_LOOKUP_MAX TXT questions (the
 *                                 DKIM keys and DMARC records of a message)
 *   LOOKUP_REPLY policy -> smtp   one per question, with its index: the
 *                                 answer as a struct lookup
 *   ACCESS       smtp -> policy   a tag (Connect, From, To, Spam), whether
 *                                 the recipient's domain is ours, a key
 *                                 (client address or name, an address)
 *   ACCESS_REPLY policy -> smtp   the access map's action, reply and where
 *                                 it was found (policy/access.h)
 *   DNSBL        smtp -> policy   session (the ADMIT id), what to check
 *                                 (the client address, a HELO and/or a
 *                                 sender domain): the configured blocklists
 *   DNSBL_REPLY  policy -> smtp   the first list (in config order) that
 *                                 lists it, with its reply, or not listed
 *   GREY         smtp -> policy   session, sender, recipient: greylisting
 *   GREY_REPLY   policy -> smtp   pass, wait (seconds) or store error
 *   EVENT        smtp -> policy   session, ban event (policy/bans.h): the
 *                                 client earned points (no reply)
 * The client address of DNSBL, GREY and EVENT is the one the policy
 * process admitted under that session id, never one the worker names: a
 * worker taken over cannot earn a ban for an address it is not serving.
 *
 * Counts are kept per worker channel, so a worker that dies gives its
 * connections back.  Runs in: smtp worker, policy.
 */
#ifndef TALON_PROTO_SMTP_POLICY_H
#define TALON_PROTO_SMTP_POLICY_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/ipc.h"
#include "dns/lookup.h"
#include "proto/proto.h"

struct ipc;
struct ipc_msg;

enum { ADMIT_OK = 0, ADMIT_TOO_MANY = 1, ADMIT_TOO_MANY_IP = 2, ADMIT_BANNED = 3,
	ADMIT_RATE = 4 };

struct proto_admit {
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct proto_admit_reply {
	uint32_t verdict;
};

void proto_admit_enc(struct buf *b, const struct proto_admit *v);
/* ADMIT and ADMIT_HOLD */
int proto_admit_dec(const struct ipc_msg *m, struct proto_admit *v);
void proto_admit_send(struct ipc *c, uint32_t type, uint64_t id,
    const struct sockaddr_storage *ss, socklen_t len);
void proto_admit_reply_enc(struct buf *b, const struct proto_admit_reply *v);
int proto_admit_reply_dec(const struct ipc_msg *m, struct proto_admit_reply *v);
void proto_admit_reply_send(struct ipc *c, uint64_t id, uint32_t verdict);
void proto_admit_end_send(struct ipc *c, uint64_t id);

#define PROTO_SENDER_MAX	1024
#define PROTO_HELO_MAX		512
#define PROTO_LOOKUP_MAX	16

struct proto_spf {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char sender[PROTO_SENDER_MAX + 1];	/* without <>; "" null sender */
	char helo[PROTO_HELO_MAX + 1];
};

struct proto_spf_reply {
	uint32_t result;		/* enum spf_result */
	char domain[256];
	char mechanism[256];
	char explanation[512];
	char problem[256];
};

enum { RDNS_PASS = 0, RDNS_FAIL = 1, RDNS_TEMP = 2 };
struct proto_rdns_reply {
	uint32_t status;
	char name[256];		/* RDNS_PASS: the verified name */
};

struct proto_lookup {
	uint32_t n;
	uint16_t type[PROTO_LOOKUP_MAX];	/* LOOKUP_TXT only */
	char name[PROTO_LOOKUP_MAX][LOOKUP_NAME_MAX + 1];
};

void proto_spf_enc(struct buf *b, const struct proto_spf *v);
int proto_spf_dec(const struct ipc_msg *m, struct proto_spf *v);
void proto_spf_reply_enc(struct buf *b, const struct proto_spf_reply *v);
int proto_spf_reply_dec(const struct ipc_msg *m, struct proto_spf_reply *v);
/* RDNS carries a proto_admit (the address) */
void proto_rdns_reply_enc(struct buf *b, const struct proto_rdns_reply *v);
int proto_rdns_reply_dec(const struct ipc_msg *m, struct proto_rdns_reply *v);
void proto_lookup_enc(struct buf *b, const struct proto_lookup *v);
int proto_lookup_dec(const struct ipc_msg *m, struct proto_lookup *v);
/* A reply holds at most IPC_MAX bytes: the records get
 * PROTO_LOOKUP_REPLY_BUDGET of them (8 bytes of framing each); a lookup
 * whose records do not all fit is sent without any, marked TEMPFAIL "too
 * big" (never a message the peer must refuse, never half an RRset). */
#define PROTO_LOOKUP_REPLY_BUDGET	(IPC_MAX - 2048)
void proto_lookup_reply_enc(struct buf *b, uint32_t idx, const struct lookup *l);
/* out must be lookup_clear()ed by the caller after success. */
int proto_lookup_reply_dec(const struct ipc_msg *m, uint32_t *idx, struct lookup *out);
struct proto_access {
	uint32_t tag;		/* enum access_tag */
	uint32_t local;		/* To:/Spam: the domain is one of ours */
	char key[PROTO_SENDER_MAX + 1];	/* no control bytes */
};

struct proto_access_reply {
	uint32_t action;	/* enum access_action */
	uint32_t code;		/* 0, or 400..599 */
	char esc[12];
	char text[400];		/* printable ASCII */
	char where[400];	/* "FILE:LINE KEY", for the log */
};

void proto_access_enc(struct buf *b, const struct proto_access *v);
int proto_access_dec(const struct ipc_msg *m, struct proto_access *v);
void proto_access_reply_enc(struct buf *b, const struct proto_access_reply *v);
int proto_access_reply_dec(const struct ipc_msg *m, struct proto_access_reply *v);

enum { DNSBL_CLIENT = 1, DNSBL_HELO = 2, DNSBL_FROM = 4 };	/* CONF_BL_* */
struct proto_dnsbl {
	uint64_t session;	/* the ADMIT id */
	uint32_t what;		/* DNSBL_* bits */
	char helo[256];		/* DNSBL_HELO: a domain */
	char from[256];		/* DNSBL_FROM: a domain */
};

enum { DNSBL_NOT_LISTED = 0, DNSBL_LISTED = 1 };
struct proto_dnsbl_reply {
	uint32_t result;	/* DNSBL_NOT_LISTED, DNSBL_LISTED */
	uint32_t list;		/* LISTED: its index in the config */
	uint32_t answer;	/* LISTED: the A record (127.x.y.z, host order) */
	uint32_t what;		/* LISTED: DNSBL_CLIENT, _HELO or _FROM */
	uint32_t code;		/* LISTED: 4xx/5xx */
	char esc[12];
	char text[400];		/* printable ASCII, client address substituted */
	uint32_t failed;	/* lists that could not answer (fail open) */
};

enum { GREY_R_PASS = 0, GREY_R_WAIT = 1, GREY_R_ERROR = 2 };
struct proto_grey {
	uint64_t session;
	char sender[PROTO_SENDER_MAX + 1];	/* "" null sender */
	char rcpt[PROTO_SENDER_MAX + 1];
};

struct proto_grey_reply {
	uint32_t result;	/* GREY_R_* */
	uint32_t retry;		/* WAIT: seconds until a retry passes */
	char state[32];		/* for the log: new, early, passed, known, ... */
	char net[64];		/* the client network, for the log */
};

struct proto_event {
	uint64_t session;
	uint32_t event;		/* enum ban_event */
};

void proto_dnsbl_enc(struct buf *b, const struct proto_dnsbl *v);
int proto_dnsbl_dec(const struct ipc_msg *m, struct proto_dnsbl *v);
void proto_dnsbl_reply_enc(struct buf *b, const struct proto_dnsbl_reply *v);
int proto_dnsbl_reply_dec(const struct ipc_msg *m, struct proto_dnsbl_reply *v);
void proto_grey_enc(struct buf *b, const struct proto_grey *v);
int proto_grey_dec(const struct ipc_msg *m, struct proto_grey *v);
void proto_grey_reply_enc(struct buf *b, const struct proto_grey_reply *v);
int proto_grey_reply_dec(const struct ipc_msg *m, struct proto_grey_reply *v);
void proto_event_enc(struct buf *b, const struct proto_event *v);
int proto_event_dec(const struct ipc_msg *m, struct proto_event *v);

/* encode into a fresh buffer and send */
void proto_send(struct ipc *c, uint32_t type, uint64_t id, struct buf *b);

#endif

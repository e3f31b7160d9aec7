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
 * Counts are kept per worker channel, so a worker that dies gives its
 * connections back.  Runs in: smtp worker, policy.
 */
#ifndef TALON_PROTO_SMTP_POLICY_H
#define TALON_PROTO_SMTP_POLICY_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "proto/proto.h"

struct ipc;
struct ipc_msg;

enum { ADMIT_OK = 0, ADMIT_TOO_MANY = 1, ADMIT_TOO_MANY_IP = 2 };

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

#endif

/*
 * proto/queue_deliver.h - the queue hands committed messages to deliver.
 *
 *   DELIVER       queue -> deliver   id = message serial; fd = the spool
 *                                    file (read only); recovering flag and
 *                                    the recipient indices still to do
 *   DELIVER_DONE  deliver -> queue   per recipient: index, errno (0 = the
 *                                    copy is durable in new/), text (the
 *                                    Maildir path, or the reason)
 *
 * Runs in: queue, deliver.
 */
#ifndef TALON_PROTO_QUEUE_DELIVER_H
#define TALON_PROTO_QUEUE_DELIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/proto.h"

struct ipc;
struct ipc_msg;

#define PROTO_DELIVER_MAX	200	/* recipients per DELIVER (the reply fits IPC_MAX) */
#define PROTO_DONE_TEXT_MAX	255

struct proto_deliver {
	bool recovering;
	uint32_t n;
	uint32_t idx[PROTO_DELIVER_MAX];
};

struct proto_done_item {
	uint32_t idx;
	uint32_t err;
	char text[PROTO_DONE_TEXT_MAX + 1];
};

struct proto_deliver_done {
	uint32_t n;
	struct proto_done_item item[PROTO_DELIVER_MAX];
};

void proto_deliver_enc(struct buf *b, const struct proto_deliver *v);
/* needs an fd and 1..PROTO_DELIVER_MAX distinct indices */
int proto_deliver_dec(const struct ipc_msg *m, struct proto_deliver *v);
void proto_deliver_send(struct ipc *c, uint64_t serial, int fd, const struct proto_deliver *v);

void proto_deliver_done_enc(struct buf *b, const struct proto_deliver_done *v);
int proto_deliver_done_dec(const struct ipc_msg *m, struct proto_deliver_done *v);
void proto_deliver_done_send(struct ipc *c, uint64_t serial, const struct proto_deliver_done *v);

#endif

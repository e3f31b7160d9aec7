/*
 * core/ipc.h - message channels between our own processes over
 * SOCK_SEQPACKET socketpairs (one datagram = one message, so no framing
 * bugs), with an optional passed file descriptor.
 *
 * Header: type, payload length, request id.  Payloads are built and read
 * by the encode/decode pairs of src/proto/ (fields as in core/wire.h).
 *
 * A peer is another process that may have been taken over, so nothing it
 * sends stops us: a datagram with a bad header, a message its handler
 * refuses, or a peer that stops reading while more than IPC_QUEUE_MAX
 * bytes wait for it, all close the channel and call on_close with
 * ipc_close_reason() saying why (NULL for an ordinary end of file).  The
 * owner decides what follows; the parent kills such a child.
 * Runs in: every daemon process.
 */
#ifndef TALON_IPC_H
#define TALON_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct loop;

#define IPC_MAX		65536		/* one message, header included */
#define IPC_QUEUE_MAX	(8u << 20)	/* bytes waiting for a peer that does not read */

struct ipc_msg {
	uint32_t type;
	uint64_t id;
	int fd;			/* -1 or a received descriptor, owned by the handler */
	const uint8_t *data;	/* payload */
	size_t len;
};

struct ipc;
/* Return NULL when the message was fine, else a short reason: the channel
 * is then closed as if the peer had misbehaved. */
typedef const char *(*ipc_msg_cb)(struct ipc *c, struct ipc_msg *m, void *arg);
typedef void (*ipc_close_cb)(struct ipc *c, void *arg);

struct ipc *ipc_new(struct loop *l, int fd, ipc_msg_cb on_msg, ipc_close_cb on_close, void *arg);
/* Close the channel without calling on_close. */
void ipc_free(struct ipc **c);
/* Why on_close was called: NULL when the peer simply closed. */
const char *ipc_close_reason(const struct ipc *c);
/* Queue a message.  fd (if >= 0) is passed and then closed here.
 * Sending never blocks: messages wait in memory until the peer reads. */
void ipc_send(struct ipc *c, uint32_t type, uint64_t id, int fd, const void *data, size_t len);
/* The same with a payload built in b; b is reset afterwards. */
void ipc_send_buf(struct ipc *c, uint32_t type, uint64_t id, int fd, struct buf *b);

#endif

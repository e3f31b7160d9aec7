/*
 * core/ipc.h - typed messages between our own processes over
 * SOCK_SEQPACKET socketpairs (one datagram = one message, so no framing
 * bugs), with an optional passed file descriptor.
 *
 * Header: type, payload length, request id.  Payload fields are written
 * with ipc_put_* and read with ipc_get_*; a reader that finds a malformed
 * message from a sibling treats it as a bug: it logs and exits (the parent
 * restarts it) rather than guessing.  Runs in: every daemon process.
 */
#ifndef TALON_IPC_H
#define TALON_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct loop;

#define IPC_MAX 65536

struct ipc_msg {
	uint32_t type;
	uint64_t id;
	int fd;			/* -1 or a received descriptor, owned by the handler */
	const uint8_t *p;	/* read cursor */
	const uint8_t *end;
};

struct ipc;
typedef void (*ipc_msg_cb)(struct ipc *c, struct ipc_msg *m, void *arg);
typedef void (*ipc_close_cb)(struct ipc *c, void *arg);

struct ipc *ipc_new(struct loop *l, int fd, ipc_msg_cb on_msg, ipc_close_cb on_close, void *arg);
/* Close the channel without calling on_close. */
void ipc_free(struct ipc **c);
int ipc_fd(const struct ipc *c);
/* Queue a message.  fd (if >= 0) is passed and then closed here.
 * Sending never blocks: messages wait in memory until the peer reads. */
void ipc_send(struct ipc *c, uint32_t type, uint64_t id, int fd, const void *data, size_t len);
/* Blocking variant for short-lived exchanges (CLI, startup). */
int ipc_send_blocking(int sock, uint32_t type, uint64_t id, int fd, const void *data, size_t len);

/* payload builders (into a buf with max IPC_MAX) */
void ipc_put_u32(struct buf *b, uint32_t v);
void ipc_put_u64(struct buf *b, uint64_t v);
void ipc_put_str(struct buf *b, const char *s);	/* u32 length + bytes */
void ipc_put_bytes(struct buf *b, const void *p, size_t n);

/* payload readers: fatal() on a malformed message */
uint32_t ipc_get_u32(struct ipc_msg *m);
uint64_t ipc_get_u64(struct ipc_msg *m);
/* returns a malloc'd NUL-terminated copy */
char *ipc_get_str(struct ipc_msg *m);
void ipc_get_bytes(struct ipc_msg *m, void *dst, size_t n);
void ipc_get_end(struct ipc_msg *m);

#endif

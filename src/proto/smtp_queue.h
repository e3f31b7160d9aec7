/*
 * proto/smtp_queue.h - an smtp worker asks the queue for spool files.
 *
 *   OPEN         smtp -> queue   id = session; give me a new spool file
 *   OPEN_OK      queue -> smtp   fd = the file (write only), qid
 *   OPEN_FAIL    queue -> smtp   errno
 *   COMMIT       smtp -> queue   qid, size: the file is complete, make it
 *                                durable
 *   COMMIT_OK    queue -> smtp   durable: the client may get 250
 *   COMMIT_FAIL  queue -> smtp   errno: refuse the message (4xx)
 *   ABORT        smtp -> queue   qid: drop the open file (RSET, error, gone)
 *   SPILL        smtp -> queue   id = session, qid: the message outgrows
 *                                memory; give me a file on disk
 *   SPILL_OK     queue -> smtp   fd = the disk file (offset 0), qid
 *   SPILL_FAIL   queue -> smtp   errno
 *
 * The file OPEN gives is in memory (a memfd, SPOOL_MEM_MAX bytes, sealed
 * against growing) when the queue can make one, else on disk.  A message
 * that grows past SPOOL_MEM_SPILL asks for SPILL; the worker copies what
 * it wrote into the disk file and goes on there.  At COMMIT the queue
 * cuts a memory file to its size and seals it against any change.
 * The worker never learns where the spool is; the qid names a file only
 * to the queue, which checks that the worker asking is the one it opened
 * the file for.  Runs in: smtp worker, queue.
 */
#ifndef TALON_PROTO_SMTP_QUEUE_H
#define TALON_PROTO_SMTP_QUEUE_H

#include <stdint.h>

#include "core/buf.h"
#include "mail/spool.h"
#include "proto/proto.h"

struct ipc;
struct ipc_msg;

struct proto_qid {
	char qid[SPOOL_QID_MAX + 1];
};

struct proto_commit {
	char qid[SPOOL_QID_MAX + 1];
	uint64_t size;		/* bytes the worker wrote */
};

struct proto_errno {
	uint32_t err;
};

/* OPEN and COMMIT_OK carry nothing: any payload is refused. */
int proto_empty_dec(const struct ipc_msg *m);

void proto_qid_enc(struct buf *b, const struct proto_qid *v);
/* OPEN_OK and SPILL_OK (need an fd), ABORT and SPILL: a qid that is a
 * valid queue id */
int proto_qid_dec(const struct ipc_msg *m, struct proto_qid *v);
void proto_commit_enc(struct buf *b, const struct proto_commit *v);
int proto_commit_dec(const struct ipc_msg *m, struct proto_commit *v);
void proto_errno_enc(struct buf *b, const struct proto_errno *v);
int proto_errno_dec(const struct ipc_msg *m, struct proto_errno *v);

void proto_open_send(struct ipc *c, uint64_t id);
void proto_open_ok_send(struct ipc *c, uint64_t id, int fd, const char *qid);
void proto_commit_send(struct ipc *c, uint64_t id, const char *qid, uint64_t size);
void proto_abort_send(struct ipc *c, uint64_t id, const char *qid);
void proto_spill_send(struct ipc *c, uint64_t id, const char *qid);
void proto_spill_ok_send(struct ipc *c, uint64_t id, int fd, const char *qid);
/* OPEN_FAIL, COMMIT_FAIL, SPILL_FAIL */
void proto_errno_send(struct ipc *c, uint32_t type, uint64_t id, int err);

#endif

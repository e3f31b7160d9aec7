/*
 * proto/smtp_queue.c - encode/decode for the smtp-queue channel.
 * Input: payloads from a peer process (an smtp worker may be taken over).
 * Runs in: smtp worker, queue.
 */
#include "proto/smtp_queue.h"

#include "core/ipc.h"
#include "core/wire.h"

int
proto_empty_dec(const struct ipc_msg *m)
{
	return m->len == 0 ? 0 : -1;
}

void
proto_qid_enc(struct buf *b, const struct proto_qid *v)
{
	wire_put_str(b, v->qid);
}

int
proto_qid_dec(const struct ipc_msg *m, struct proto_qid *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	wire_str(&r, v->qid, sizeof v->qid);
	if (wire_end(&r) < 0 || !spool_qid_valid(v->qid))
		return -1;
	if ((m->type == PROTO_OPEN_OK || m->type == PROTO_SPILL_OK) && m->fd < 0)
		return -1;
	return 0;
}

void
proto_commit_enc(struct buf *b, const struct proto_commit *v)
{
	wire_put_str(b, v->qid);
	wire_put_u64(b, v->size);
}

int
proto_commit_dec(const struct ipc_msg *m, struct proto_commit *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	wire_str(&r, v->qid, sizeof v->qid);
	v->size = wire_u64(&r);
	if (wire_end(&r) < 0 || !spool_qid_valid(v->qid))
		return -1;
	return 0;
}

void
proto_errno_enc(struct buf *b, const struct proto_errno *v)
{
	wire_put_u32(b, v->err);
}

int
proto_errno_dec(const struct ipc_msg *m, struct proto_errno *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->err = wire_u32(&r);
	/* a failure without an errno would read as success */
	if (wire_end(&r) < 0 || v->err == 0 || v->err > 4095)
		return -1;
	return 0;
}

void
proto_open_send(struct ipc *c, uint64_t id)
{
	ipc_send(c, PROTO_OPEN, id, -1, NULL, 0);
}

/* a qid, and a file with it or not */
static void
qid_send(struct ipc *c, uint32_t type, uint64_t id, int fd, const char *qid)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	wire_put_str(&b, qid);
	ipc_send_buf(c, type, id, fd, &b);
	buf_free(&b);
}

void
proto_open_ok_send(struct ipc *c, uint64_t id, int fd, const char *qid)
{
	qid_send(c, PROTO_OPEN_OK, id, fd, qid);
}

void
proto_spill_send(struct ipc *c, uint64_t id, const char *qid)
{
	qid_send(c, PROTO_SPILL, id, -1, qid);
}

void
proto_spill_ok_send(struct ipc *c, uint64_t id, int fd, const char *qid)
{
	qid_send(c, PROTO_SPILL_OK, id, fd, qid);
}

void
proto_commit_send(struct ipc *c, uint64_t id, const char *qid, uint64_t size)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	wire_put_str(&b, qid);
	wire_put_u64(&b, size);
	ipc_send_buf(c, PROTO_COMMIT, id, -1, &b);
	buf_free(&b);
}

void
proto_abort_send(struct ipc *c, uint64_t id, const char *qid)
{
	qid_send(c, PROTO_ABORT, id, -1, qid);
}

void
proto_errno_send(struct ipc *c, uint32_t type, uint64_t id, int err)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	wire_put_u32(&b, (uint32_t)(err > 0 ? err : 5 /* EIO */));
	ipc_send_buf(c, type, id, -1, &b);
	buf_free(&b);
}

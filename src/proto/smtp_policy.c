/*
 * proto/smtp_policy.c - encode/decode for the smtp-policy channel.
 * Input: payloads from a peer process (an smtp worker may be taken over).
 * Runs in: smtp worker, policy.
 */
#include "proto/smtp_policy.h"

#include "core/ipc.h"
#include "core/wire.h"

void
proto_admit_enc(struct buf *b, const struct proto_admit *v)
{
	wire_put_sockaddr(b, &v->addr, v->addrlen);
}

int
proto_admit_dec(const struct ipc_msg *m, struct proto_admit *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	wire_sockaddr(&r, &v->addr, &v->addrlen);
	return wire_end(&r);
}

void
proto_admit_send(struct ipc *c, uint32_t type, uint64_t id, const struct sockaddr_storage *ss,
    socklen_t len)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	wire_put_sockaddr(&b, ss, len);
	ipc_send_buf(c, type, id, -1, &b);
	buf_free(&b);
}

void
proto_admit_reply_enc(struct buf *b, const struct proto_admit_reply *v)
{
	wire_put_u32(b, v->verdict);
}

int
proto_admit_reply_dec(const struct ipc_msg *m, struct proto_admit_reply *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->verdict = wire_u32(&r);
	if (wire_end(&r) < 0 || v->verdict > ADMIT_TOO_MANY_IP)
		return -1;
	return 0;
}

void
proto_admit_reply_send(struct ipc *c, uint64_t id, uint32_t verdict)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	wire_put_u32(&b, verdict);
	ipc_send_buf(c, PROTO_ADMIT_REPLY, id, -1, &b);
	buf_free(&b);
}

void
proto_admit_end_send(struct ipc *c, uint64_t id)
{
	ipc_send(c, PROTO_ADMIT_END, id, -1, NULL, 0);
}

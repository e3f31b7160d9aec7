/*
 * proto/queue_deliver.c - encode/decode for the queue-deliver channel.
 * Input: payloads from a peer process.  Runs in: queue, deliver.
 */
#include "proto/queue_deliver.h"

#include <string.h>

#include "core/ipc.h"
#include "core/wire.h"

void
proto_deliver_enc(struct buf *b, const struct proto_deliver *v)
{
	wire_put_u8(b, v->recovering ? 1 : 0);
	wire_put_u32(b, v->n);
	for (uint32_t i = 0; i < v->n && i < PROTO_DELIVER_MAX; i++)
		wire_put_u32(b, v->idx[i]);
}

int
proto_deliver_dec(const struct ipc_msg *m, struct proto_deliver *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	uint8_t rec = wire_u8(&r);
	v->recovering = rec == 1;
	v->n = wire_u32(&r);
	if (rec > 1 || v->n == 0 || v->n > PROTO_DELIVER_MAX)
		return -1;
	for (uint32_t i = 0; i < v->n; i++) {
		v->idx[i] = wire_u32(&r);
		/* a repeated index would deliver one copy twice in a batch */
		for (uint32_t k = 0; k < i && r.err == NULL; k++)
			if (v->idx[k] == v->idx[i])
				r.err = "repeated recipient index";
	}
	if (wire_end(&r) < 0 || m->fd < 0)
		return -1;
	return 0;
}

void
proto_deliver_send(struct ipc *c, uint64_t serial, int fd, const struct proto_deliver *v)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_deliver_enc(&b, v);
	ipc_send_buf(c, PROTO_DELIVER, serial, fd, &b);
	buf_free(&b);
}

void
proto_deliver_done_enc(struct buf *b, const struct proto_deliver_done *v)
{
	wire_put_u32(b, v->n);
	for (uint32_t i = 0; i < v->n && i < PROTO_DELIVER_MAX; i++) {
		wire_put_u32(b, v->item[i].idx);
		wire_put_u32(b, v->item[i].err);
		wire_put_str(b, v->item[i].text);
	}
}

int
proto_deliver_done_dec(const struct ipc_msg *m, struct proto_deliver_done *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->n = wire_u32(&r);
	if (v->n == 0 || v->n > PROTO_DELIVER_MAX)
		return -1;
	for (uint32_t i = 0; i < v->n; i++) {
		v->item[i].idx = wire_u32(&r);
		v->item[i].err = wire_u32(&r);
		wire_str(&r, v->item[i].text, sizeof v->item[i].text);
	}
	return wire_end(&r);
}

void
proto_deliver_done_send(struct ipc *c, uint64_t serial, const struct proto_deliver_done *v)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_deliver_done_enc(&b, v);
	ipc_send_buf(c, PROTO_DELIVER_DONE, serial, -1, &b);
	buf_free(&b);
}

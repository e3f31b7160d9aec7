/*
 * proto/dns.c - encoding of the messages of proto/dns.h.
 */
#include "proto/dns.h"

#include "core/ipc.h"
#include "core/wire.h"

void
proto_dns_zone_enc(struct buf *b, const struct proto_dns_zone *v)
{
	wire_put_u32(b, v->gen);
	wire_put_u32(b, v->index);
	wire_put_u32(b, v->count);
	wire_put_u64(b, v->len);
	wire_put_str(b, v->origin);
}

int
proto_dns_zone_dec(const struct ipc_msg *m, struct proto_dns_zone *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->gen = wire_u32(&r);
	v->index = wire_u32(&r);
	v->count = wire_u32(&r);
	v->len = wire_u64(&r);
	wire_str(&r, v->origin, sizeof v->origin);
	if (r.err == NULL && (v->count > PROTO_DNS_ZONES_MAX ||
	    (v->count == 0 ? v->index != 0 || m->fd >= 0 : v->index >= v->count || m->fd < 0)))
		r.err = "bad zone index or descriptor";
	return wire_end(&r);
}

void
proto_dns_zone_send(struct ipc *c, int fd, const struct proto_dns_zone *v)
{
	struct buf b;
	buf_init(&b, 0);
	proto_dns_zone_enc(&b, v);
	ipc_send(c, PROTO_DNS_ZONE, 0, fd, b.data, b.len);
	buf_free(&b);
}

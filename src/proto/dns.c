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
	wire_put_u32(b, v->rate);
	wire_put_u64(b, v->len);
	wire_put_u64(b, v->jlen);
	wire_put_str(b, v->origin);
	wire_put_u32(b, v->n_allow);
	for (uint32_t i = 0; i < v->n_allow && i < PROTO_DNS_PEERS_MAX; i++) {
		wire_put_u8(b, v->allow[i].family);
		wire_put_u8(b, v->allow[i].len);
		for (unsigned k = 0; k < 16; k++)
			wire_put_u8(b, v->allow[i].addr[k]);
	}
	wire_put_u32(b, v->n_notify);
	for (uint32_t i = 0; i < v->n_notify && i < PROTO_DNS_PEERS_MAX; i++)
		wire_put_sockaddr(b, &v->notify[i], v->notify_len[i]);
	wire_put_str(b, v->key_name);
	wire_put_u32(b, v->key_len);
	for (uint32_t i = 0; i < v->key_len && i < sizeof v->key; i++)
		wire_put_u8(b, v->key[i]);
}

int
proto_dns_zone_dec(const struct ipc_msg *m, struct proto_dns_zone *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->gen = wire_u32(&r);
	v->index = wire_u32(&r);
	v->count = wire_u32(&r);
	v->rate = wire_u32(&r);
	v->len = wire_u64(&r);
	v->jlen = wire_u64(&r);
	wire_str(&r, v->origin, sizeof v->origin);
	v->n_allow = wire_u32(&r);
	if (v->n_allow > PROTO_DNS_PEERS_MAX)
		return -1;
	for (uint32_t i = 0; i < v->n_allow; i++) {
		struct proto_dns_prefix *p = &v->allow[i];
		p->family = wire_u8(&r);
		p->len = wire_u8(&r);
		for (unsigned k = 0; k < 16; k++)
			p->addr[k] = wire_u8(&r);
		if (r.err == NULL && !((p->family == 4 && p->len <= 32) ||
		    (p->family == 6 && p->len <= 128)))
			r.err = "bad prefix";
	}
	v->n_notify = wire_u32(&r);
	if (v->n_notify > PROTO_DNS_PEERS_MAX)
		return -1;
	for (uint32_t i = 0; i < v->n_notify; i++)
		wire_sockaddr(&r, &v->notify[i], &v->notify_len[i]);
	wire_str(&r, v->key_name, sizeof v->key_name);
	v->key_len = wire_u32(&r);
	if (v->key_len > sizeof v->key)
		return -1;
	for (uint32_t i = 0; i < v->key_len; i++)
		v->key[i] = wire_u8(&r);
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

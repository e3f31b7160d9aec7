/*
 * proto/parent.c - encode/decode for the parent-child channel (parent.h).
 * Input: payloads from a peer process, trusted no further than wire.h
 * checks.  Runs in: parent and every child.
 */
#include "proto/parent.h"

#include <stdio.h>
#include <string.h>

#include "core/ipc.h"
#include "core/log.h"
#include "core/wire.h"
#include "mail/spool.h"

const char *
proto_role_name(unsigned role)
{
	static const char *const names[ROLE_COUNT] = {
		[ROLE_SMTP] = "smtp", [ROLE_QUEUE] = "queue",
		[ROLE_DELIVER] = "deliver", [ROLE_POLICY] = "policy", [ROLE_DNS] = "dns",
	};
	return role < ROLE_COUNT ? names[role] : "unknown";
}

void
proto_stop_enc(struct buf *b, const struct proto_stop *v)
{
	wire_put_u32(b, v->grace);
}

int
proto_stop_dec(const struct ipc_msg *m, struct proto_stop *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->grace = wire_u32(&r);
	return wire_end(&r);
}

void
proto_stop_send(struct ipc *c, uint32_t grace)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_stop_enc(&b, &(struct proto_stop){ .grace = grace });
	ipc_send_buf(c, PROTO_STOP, 0, -1, &b);
	buf_free(&b);
}

void
proto_peer_enc(struct buf *b, const struct proto_peer *v)
{
	wire_put_u32(b, v->role);
	wire_put_u32(b, v->slot);
	wire_put_u32(b, v->id);
}

int
proto_peer_dec(const struct ipc_msg *m, struct proto_peer *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->role = wire_u32(&r);
	v->slot = wire_u32(&r);
	v->id = wire_u32(&r);
	if (wire_end(&r) < 0 || v->role >= ROLE_COUNT || m->fd < 0)
		return -1;
	return 0;
}

void
proto_peer_send(struct ipc *c, const struct proto_peer *v, int fd)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_peer_enc(&b, v);
	ipc_send_buf(c, PROTO_PEER, 0, fd, &b);
	buf_free(&b);
}

void
proto_report_enc(struct buf *b, const struct proto_report *v)
{
	wire_put_u32(b, v->role);
	wire_put_u32(b, v->id);
	wire_put_str(b, v->reason);
}

int
proto_report_dec(const struct ipc_msg *m, struct proto_report *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->role = wire_u32(&r);
	v->id = wire_u32(&r);
	wire_str(&r, v->reason, sizeof v->reason);
	if (wire_end(&r) < 0 || v->role >= ROLE_COUNT)
		return -1;
	return 0;
}

void
proto_report_send(struct ipc *c, uint32_t role, uint32_t id, const char *reason)
{
	struct proto_report v = { .role = role, .id = id };
	struct buf b;
	snprintf(v.reason, sizeof v.reason, "%.*s", PROTO_REASON_MAX, reason ? reason : "");
	buf_init(&b, IPC_MAX);
	proto_report_enc(&b, &v);
	ipc_send_buf(c, PROTO_REPORT, 0, -1, &b);
	buf_free(&b);
}

void
proto_queue_settings_enc(struct buf *b, const struct proto_queue_settings *v)
{
	wire_put_u32(b, v->gen);
	wire_put_u32(b, v->max_open);
	wire_put_u32(b, v->lifetime);
	wire_put_str(b, v->hostname);
}

int
proto_queue_settings_dec(const struct ipc_msg *m, struct proto_queue_settings *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->gen = wire_u32(&r);
	v->max_open = wire_u32(&r);
	v->lifetime = wire_u32(&r);
	wire_str(&r, v->hostname, sizeof v->hostname);
	if (wire_end(&r) < 0 || v->max_open == 0 || v->lifetime == 0)
		return -1;
	return 0;
}

void
proto_deliver_settings_enc(struct buf *b, const struct proto_deliver_settings *v)
{
	wire_put_u32(b, v->gen);
	wire_put_str(b, v->hostname);
}

int
proto_deliver_settings_dec(const struct ipc_msg *m, struct proto_deliver_settings *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->gen = wire_u32(&r);
	wire_str(&r, v->hostname, sizeof v->hostname);
	return wire_end(&r);
}

void
proto_policy_settings_enc(struct buf *b, const struct proto_policy_settings *v)
{
	wire_put_u32(b, v->gen);
	wire_put_u32(b, v->max_conns);
	wire_put_u32(b, v->max_conns_per_ip);
	wire_put_u32(b, v->ipv6_prefix);
	wire_put_u32(b, v->resolver);
	wire_put_str(b, v->forward);
	wire_put_str(b, v->anchor);
	wire_put_u32(b, v->resolver_timeout);
	wire_put_str(b, v->hostname);
	wire_put_str(b, v->access);
}

int
proto_policy_settings_dec(const struct ipc_msg *m, struct proto_policy_settings *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->gen = wire_u32(&r);
	v->max_conns = wire_u32(&r);
	v->max_conns_per_ip = wire_u32(&r);
	v->ipv6_prefix = wire_u32(&r);
	v->resolver = wire_u32(&r);
	wire_str(&r, v->forward, sizeof v->forward);
	wire_str(&r, v->anchor, sizeof v->anchor);
	v->resolver_timeout = wire_u32(&r);
	wire_str(&r, v->hostname, sizeof v->hostname);
	wire_str(&r, v->access, sizeof v->access);
	if (wire_end(&r) < 0 || v->ipv6_prefix < 1 || v->ipv6_prefix > 128 || v->resolver > 2 ||
	    v->resolver_timeout < 1 || v->resolver_timeout > 120)
		return -1;
	return 0;
}

void
proto_mailboxes_enc(struct buf *b, const struct proto_mailboxes *v)
{
	wire_put_u32(b, v->gen);
	wire_put_u8(b, v->last);
	wire_put_u32(b, v->n);
	for (uint32_t i = 0; i < v->n && i < PROTO_MAILBOXES_MAX; i++)
		wire_put_str(b, v->name[i]);
}

int
proto_mailboxes_dec(const struct ipc_msg *m, struct proto_mailboxes *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->gen = wire_u32(&r);
	v->last = wire_u8(&r);
	v->n = wire_u32(&r);
	if (v->last > 1 || v->n > PROTO_MAILBOXES_MAX)
		return -1;
	for (uint32_t i = 0; i < v->n; i++) {
		wire_str(&r, v->name[i], sizeof v->name[i]);
		if (r.err == NULL && !spool_user_valid(v->name[i]))
			r.err = "not a mailbox name";
	}
	return wire_end(&r);
}

void
proto_peer_closed(struct ipc *parent, struct ipc *c, const char *self, uint32_t role,
    uint32_t slot, uint32_t id)
{
	const char *why = c != NULL ? ipc_close_reason(c) : NULL;
	if (why == NULL)
		return;
	char worker[24] = "";
	if (role == ROLE_SMTP)
		snprintf(worker, sizeof worker, " worker=%u", slot);
	log_err("%s event=peer-refused role=%s%s reason=\"%s\"", self, proto_role_name(role),
	    worker, why);
	if (parent != NULL)
		proto_report_send(parent, role, id, why);
}

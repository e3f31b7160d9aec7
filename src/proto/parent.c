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
#include "core/util.h"
#include "core/wire.h"
#include "mail/spool.h"

const char *
proto_role_name(unsigned role)
{
	static const char *const names[ROLE_COUNT] = {
		[ROLE_SMTP] = "smtp", [ROLE_QUEUE] = "queue",
		[ROLE_DELIVER] = "deliver", [ROLE_POLICY] = "policy", [ROLE_DNS] = "dns",
		[ROLE_AUTH] = "auth", [ROLE_IMAP] = "imap", [ROLE_MAILBOX] = "mailbox",
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
	wire_put_u64(b, v->quota_bytes);
}

int
proto_deliver_settings_dec(const struct ipc_msg *m, struct proto_deliver_settings *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->gen = wire_u32(&r);
	wire_str(&r, v->hostname, sizeof v->hostname);
	v->quota_bytes = wire_u64(&r);
	return wire_end(&r);
}

static void
put_prefix(struct buf *b, const struct prefix *p)
{
	wire_put_u8(b, p->family == AF_INET ? 4 : 6);
	wire_put_u8(b, (uint8_t)p->len);
	wire_put_bytes(b, p->addr, 16);
}

static void
get_prefix(struct wire_rd *r, struct prefix *p)
{
	uint32_t n;
	memset(p, 0, sizeof *p);
	uint8_t fam = wire_u8(r);
	p->len = wire_u8(r);
	const uint8_t *a = wire_bytes(r, 16, &n);
	if (r->err != NULL)
		return;
	if ((fam != 4 && fam != 6) || n != 16 || p->len > (fam == 4 ? 32u : 128u)) {
		r->err = "bad prefix";
		return;
	}
	p->family = fam == 4 ? AF_INET : AF_INET6;
	memcpy(p->addr, a, 16);
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
	wire_put_str(b, v->statedir);
	wire_put_u32(b, v->n_nets);
	for (uint32_t i = 0; i < v->n_nets && i < PROTO_NETS_MAX; i++)
		put_prefix(b, &v->nets[i]);
	wire_put_u32(b, v->n_bls);
	for (uint32_t i = 0; i < v->n_bls && i < PROTO_BL_MAX; i++) {
		const struct proto_bl *l = &v->bls[i];
		wire_put_str(b, l->zone);
		wire_put_u32(b, l->what);
		wire_put_u32(b, l->n_codes);
		for (uint32_t k = 0; k < l->n_codes && k < 16; k++)
			wire_put_u32(b, l->codes[k]);
		wire_put_u32(b, l->code);
		wire_put_str(b, l->esc);
		wire_put_str(b, l->text);
	}
	const uint32_t *u[] = { &v->greylist, &v->grey_delay, &v->grey_window, &v->grey_keep,
		&v->grey_auto_allow, &v->grey_v4_prefix, &v->grey_v6_prefix, &v->auto_ban,
		&v->ban_threshold, &v->ban_window, &v->ban_time, &v->ban_time_max, &v->conn_rate };
	for (size_t i = 0; i < NELEM(u); i++)
		wire_put_u32(b, *u[i]);
	for (size_t i = 0; i < PROTO_BAN_EVENTS; i++)
		wire_put_u32(b, v->ban_points[i]);
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
	wire_str(&r, v->statedir, sizeof v->statedir);
	v->n_nets = wire_u32(&r);
	if (v->n_nets > PROTO_NETS_MAX)
		return -1;
	for (uint32_t i = 0; i < v->n_nets; i++)
		get_prefix(&r, &v->nets[i]);
	v->n_bls = wire_u32(&r);
	if (v->n_bls > PROTO_BL_MAX)
		return -1;
	for (uint32_t i = 0; i < v->n_bls; i++) {
		struct proto_bl *l = &v->bls[i];
		wire_str(&r, l->zone, sizeof l->zone);
		l->what = wire_u32(&r);
		l->n_codes = wire_u32(&r);
		if (l->n_codes > 16 || l->what == 0 || l->what > 7)
			return -1;
		for (uint32_t k = 0; k < l->n_codes; k++)
			l->codes[k] = wire_u32(&r);
		l->code = wire_u32(&r);
		wire_str(&r, l->esc, sizeof l->esc);
		wire_str(&r, l->text, sizeof l->text);
		if (r.err == NULL && (l->zone[0] == '\0' || l->code < 400 || l->code > 599))
			r.err = "bad blocklist";
	}
	uint32_t *u[] = { &v->greylist, &v->grey_delay, &v->grey_window, &v->grey_keep,
		&v->grey_auto_allow, &v->grey_v4_prefix, &v->grey_v6_prefix, &v->auto_ban,
		&v->ban_threshold, &v->ban_window, &v->ban_time, &v->ban_time_max, &v->conn_rate };
	for (size_t i = 0; i < NELEM(u); i++)
		*u[i] = wire_u32(&r);
	for (size_t i = 0; i < PROTO_BAN_EVENTS; i++)
		v->ban_points[i] = wire_u32(&r);
	if (wire_end(&r) < 0 || v->ipv6_prefix < 1 || v->ipv6_prefix > 128 || v->resolver > 2 ||
	    v->resolver_timeout < 1 || v->resolver_timeout > 120 || v->greylist > 2 ||
	    v->grey_v4_prefix > 32 || v->grey_v6_prefix > 128 || v->auto_ban > 1)
		return -1;
	return 0;
}

void
proto_policy_ctl_enc(struct buf *b, const struct proto_policy_ctl *v)
{
	wire_put_str(b, v->line);
}

int
proto_policy_ctl_dec(const struct ipc_msg *m, struct proto_policy_ctl *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	wire_str(&r, v->line, sizeof v->line);
	return wire_end(&r);
}

void
proto_policy_ctl_reply_enc(struct buf *b, uint32_t ok, const char *body, size_t len)
{
	wire_put_u32(b, ok);
	wire_put_bytes(b, body, len > PROTO_CTL_BODY_MAX ? PROTO_CTL_BODY_MAX : len);
}

int
proto_policy_ctl_reply_dec(const struct ipc_msg *m, struct proto_policy_ctl_reply *v)
{
	struct wire_rd r;
	uint32_t n;
	wire_rd_init(&r, m->data, m->len);
	v->ok = wire_u32(&r);
	const uint8_t *p = wire_bytes(&r, PROTO_CTL_BODY_MAX, &n);
	if (wire_end(&r) < 0 || v->ok > 1)
		return -1;
	/* text for an admin's terminal: lines of printable ASCII and tabs,
	 * never a NUL or an escape sequence from the less trusted side */
	for (uint32_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] >= 0x7f)
			return -1;
	v->body = xmalloc((size_t)n + 1);
	memcpy(v->body, p, n);
	v->body[n] = '\0';
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

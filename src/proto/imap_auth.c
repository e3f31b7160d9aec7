/*
 * proto/imap_auth.c - AUTH_SETTINGS, AUTH_CHECK, AUTH_RESULT (see
 * imap_auth.h).  Input: payloads from peers, any bytes.  Runs in: imap,
 * auth, parent.
 */
#include "proto/imap_auth.h"

#include <string.h>

#include "core/ipc.h"
#include "core/wire.h"

static void
no_controls(struct wire_rd *r, const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 || *s == 0x7f) && r->err == NULL)
			r->err = "control byte";
}

void
proto_auth_settings_enc(struct buf *b, const struct proto_auth_settings *v)
{
	wire_put_u32(b, v->gen);
}

int
proto_auth_settings_dec(const struct ipc_msg *m, struct proto_auth_settings *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->gen = wire_u32(&r);
	if (wire_end(&r) < 0 || m->fd < 0)
		return -1;
	return 0;
}

void
proto_auth_check_enc(struct buf *b, const struct proto_auth_check *v)
{
	wire_put_str(b, v->user);
	wire_put_str(b, v->pass);
	wire_put_str(b, v->client);
}

int
proto_auth_check_dec(const struct ipc_msg *m, struct proto_auth_check *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	wire_str(&r, v->user, sizeof v->user);
	wire_str(&r, v->pass, sizeof v->pass);
	wire_str(&r, v->client, sizeof v->client);
	no_controls(&r, v->user);
	no_controls(&r, v->client);
	return wire_end(&r);
}

void
proto_auth_result_enc(struct buf *b, const struct proto_auth_result *v)
{
	wire_put_u32(b, v->ok);
	wire_put_str(b, v->user);
	wire_put_bytes(b, v->token, sizeof v->token);
}

int
proto_auth_result_dec(const struct ipc_msg *m, struct proto_auth_result *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->ok = wire_u32(&r);
	wire_str(&r, v->user, sizeof v->user);
	no_controls(&r, v->user);
	uint32_t n;
	const uint8_t *t = wire_bytes(&r, sizeof v->token, &n);
	if (t != NULL && n == sizeof v->token)
		memcpy(v->token, t, sizeof v->token);
	else if (r.err == NULL)
		r.err = "bad token";
	if (wire_end(&r) < 0 || v->ok > 1 || (v->ok == 1 && v->user[0] == '\0'))
		return -1;
	return 0;
}

void
proto_auth_event_enc(struct buf *b, const struct proto_auth_event *v)
{
	wire_put_u32(b, v->ok);
	wire_put_str(b, v->client);
}

int
proto_auth_event_dec(const struct ipc_msg *m, struct proto_auth_event *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->ok = wire_u32(&r);
	wire_str(&r, v->client, sizeof v->client);
	no_controls(&r, v->client);
	if (wire_end(&r) < 0 || v->ok > 1)
		return -1;
	return 0;
}

void
proto_ban_reply_enc(struct buf *b, const struct proto_ban_reply *v)
{
	wire_put_u32(b, v->banned);
}

int
proto_ban_reply_dec(const struct ipc_msg *m, struct proto_ban_reply *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->banned = wire_u32(&r);
	if (wire_end(&r) < 0 || v->banned > 1)
		return -1;
	return 0;
}

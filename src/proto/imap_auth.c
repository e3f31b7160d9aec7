/*
 * proto/imap_auth.c - AUTH_SETTINGS, AUTH_CHECK, AUTH_RESULT, AUTH_STATE,
 * the SCRAM messages, AUTH_EVENT, BAN_REPLY (see imap_auth.h).  Input:
 * payloads from peers, any bytes.  Runs in: imap, auth, parent.
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

/* SCRAM messages we send on: printable ASCII without blanks (they go to
 * the client as they are, inside base64, but a front must not be able to
 * put anything else into a reply line) */
static void
graphic_only(struct wire_rd *r, const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) && r->err == NULL)
			r->err = "not printable";
}

/* u32 length + bytes into dst (at most max), *len the length */
static void
bytes_into(struct wire_rd *r, uint8_t *dst, size_t max, uint32_t *len)
{
	uint32_t n = 0;
	const uint8_t *p = wire_bytes(r, max, &n);
	*len = 0;
	if (p == NULL)
		return;
	memcpy(dst, p, n);
	*len = n;
}

/* a u32 that is a boolean */
static uint32_t
flag(struct wire_rd *r)
{
	uint32_t v = wire_u32(r);
	if (v > 1 && r->err == NULL)
		r->err = "not a boolean";
	return v;
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
	wire_put_str(b, v->final);
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
	wire_str(&r, v->final, sizeof v->final);
	graphic_only(&r, v->final);
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

void
proto_auth_state_enc(struct buf *b, const struct proto_auth_state *v)
{
	wire_put_u32(b, v->scram);
}

int
proto_auth_state_dec(const struct ipc_msg *m, struct proto_auth_state *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->scram = flag(&r);
	return wire_end(&r);
}

void
proto_scram_first_enc(struct buf *b, const struct proto_scram_first *v)
{
	wire_put_u32(b, v->plus);
	wire_put_u32(b, v->offered);
	wire_put_bytes(b, v->cb, v->has_cb ? sizeof v->cb : 0);
	wire_put_bytes(b, v->msg, v->len);
	wire_put_str(b, v->client);
}

int
proto_scram_first_dec(const struct ipc_msg *m, struct proto_scram_first *v)
{
	struct wire_rd r;
	uint32_t cbl = 0;
	wire_rd_init(&r, m->data, m->len);
	v->plus = flag(&r);
	v->offered = flag(&r);
	bytes_into(&r, v->cb, sizeof v->cb, &cbl);
	/* exporter data is all 32 bytes or none */
	if (cbl != 0 && cbl != sizeof v->cb && r.err == NULL)
		r.err = "bad channel-binding length";
	v->has_cb = cbl != 0;
	bytes_into(&r, v->msg, sizeof v->msg, &v->len);
	wire_str(&r, v->client, sizeof v->client);
	no_controls(&r, v->client);
	return wire_end(&r);
}

void
proto_scram_challenge_enc(struct buf *b, const struct proto_scram_challenge *v)
{
	wire_put_u32(b, v->rc);
	wire_put_str(b, v->sfirst);
}

int
proto_scram_challenge_dec(const struct ipc_msg *m, struct proto_scram_challenge *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->rc = wire_u32(&r);
	wire_str(&r, v->sfirst, sizeof v->sfirst);
	graphic_only(&r, v->sfirst);
	/* a message exactly when the exchange goes on */
	if (wire_end(&r) < 0 || v->rc > SCRAM_STATE ||
	    (v->rc == SCRAM_OK) != (v->sfirst[0] != '\0'))
		return -1;
	return 0;
}

void
proto_scram_final_enc(struct buf *b, const struct proto_scram_final *v)
{
	wire_put_bytes(b, v->msg, v->len);
}

int
proto_scram_final_dec(const struct ipc_msg *m, struct proto_scram_final *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	bytes_into(&r, v->msg, sizeof v->msg, &v->len);
	return wire_end(&r);
}

int
proto_scram_abort_dec(const struct ipc_msg *m)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	return wire_end(&r);
}

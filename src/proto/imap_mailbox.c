/*
 * proto/imap_mailbox.c - LOGIN_GRANT and HANDOFF (see imap_mailbox.h).
 * Input: payloads from peers, any bytes.  Runs in: auth, imap, mailbox.
 */
#include "proto/imap_mailbox.h"

#include <string.h>

#include "core/ipc.h"
#include "core/wire.h"

/* Printable ASCII only: these strings end up in log lines and replies. */
static void
printable(struct wire_rd *r, const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) && r->err == NULL)
			r->err = "not printable";
}

static void
token(struct wire_rd *r, uint8_t *t)
{
	uint32_t n;
	const uint8_t *p = wire_bytes(r, PROTO_TOKEN_LEN, &n);
	if (p != NULL && n == PROTO_TOKEN_LEN)
		memcpy(t, p, PROTO_TOKEN_LEN);
	else if (r->err == NULL)
		r->err = "bad token";
}

void
proto_login_grant_enc(struct buf *b, const struct proto_login_grant *v)
{
	wire_put_bytes(b, v->token, PROTO_TOKEN_LEN);
	wire_put_str(b, v->user);
}

int
proto_login_grant_dec(const struct ipc_msg *m, struct proto_login_grant *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	token(&r, v->token);
	wire_str(&r, v->user, sizeof v->user);
	if (wire_end(&r) < 0 || v->user[0] == '\0')
		return -1;
	for (const char *s = v->user; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -1;
	return 0;
}

void
proto_handoff_enc(struct buf *b, const struct proto_handoff *v)
{
	wire_put_bytes(b, v->token, PROTO_TOKEN_LEN);
	wire_put_str(b, v->sid);
	wire_put_str(b, v->client);
	wire_put_str(b, v->tag);
}

int
proto_handoff_dec(const struct ipc_msg *m, struct proto_handoff *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	token(&r, v->token);
	wire_str(&r, v->sid, sizeof v->sid);
	wire_str(&r, v->client, sizeof v->client);
	wire_str(&r, v->tag, sizeof v->tag);
	printable(&r, v->sid);
	printable(&r, v->client);
	printable(&r, v->tag);
	if (wire_end(&r) < 0 || m->fd < 0 || v->tag[0] == '\0')
		return -1;
	return 0;
}

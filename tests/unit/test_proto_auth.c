/*
 * tests/unit/test_proto_auth.c - AUTH_SETTINGS, AUTH_CHECK, AUTH_RESULT,
 * AUTH_EVENT, AUTH_STATE and the SCRAM messages (proto/imap_auth.h): round
 * trips, goldens, refusals.
 */
#include <string.h>

#include "core/buf.h"
#include "core/ipc.h"
#include "core/util.h"
#include "core/wire.h"
#include "proto/imap_auth.h"
#include "proto/imap_mailbox.h"
#include "t.h"

static struct ipc_msg
msg(const struct buf *b, int fd)
{
	struct ipc_msg m = { .type = 0, .id = 1, .fd = fd, .data = b->data, .len = b->len };
	return m;
}

static void
hex(const struct buf *b, char *out)
{
	for (size_t i = 0; i < b->len; i++)
		sprintf(out + 2 * i, "%02x", b->data[i]);
}

T(check_round_trip_and_golden)
{
	struct proto_auth_check q, r;
	memset(&q, 0, sizeof q);
	str_copy(q.user, sizeof q.user, "alice");
	memcpy(q.pass, "p\x01w\xff", 5);	/* a password may hold any byte but NUL */
	str_copy(q.client, sizeof q.client, "2001:db8::1");
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_auth_check_enc(&b, &q);
	struct ipc_msg m = msg(&b, -1);
	CHECK_INT(proto_auth_check_dec(&m, &r), 0);
	CHECK_STR(r.user, "alice");
	CHECK(memcmp(r.pass, "p\x01w\xff", 5) == 0);
	CHECK_STR(r.client, "2001:db8::1");
	char h[256];
	hex(&b, h);
	CHECK_STR(h, "00000005616c69636500000004700177ff0000000b323030313a6462383a3a31");
	buf_free(&b);
}

T(check_refusals)
{
	static const struct { const char *user, *client; int want; } c[] = {
		{ "alice", "127.0.0.1", 0 }, { "", "", 0 },
		{ "al\nice", "127.0.0.1", -1 }, { "alice", "127.0.0.1\r", -1 },
		{ "al\x7f", "x", -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		struct proto_auth_check q, r;
		memset(&q, 0, sizeof q);
		str_copy(q.user, sizeof q.user, c[i].user);
		str_copy(q.client, sizeof q.client, c[i].client);
		buf_reset(&b);
		proto_auth_check_enc(&b, &q);
		struct ipc_msg m = msg(&b, -1);
		CHECK_INT(proto_auth_check_dec(&m, &r), c[i].want);
	}
	/* a user name over 255 bytes, a password over 1024 */
	char big[1100];
	memset(big, 'a', sizeof big);
	big[sizeof big - 1] = '\0';
	buf_reset(&b);
	wire_put_str(&b, big + sizeof big - 257);
	wire_put_str(&b, "x");
	wire_put_str(&b, "c");
	struct ipc_msg m = msg(&b, -1);
	struct proto_auth_check r;
	CHECK_INT(proto_auth_check_dec(&m, &r), -1);
	buf_reset(&b);
	wire_put_str(&b, "u");
	wire_put_str(&b, big + sizeof big - 1026);
	wire_put_str(&b, "c");
	m = msg(&b, -1);
	CHECK_INT(proto_auth_check_dec(&m, &r), -1);
	buf_free(&b);
}

T(result_and_event)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	static const struct { uint32_t ok; const char *user; int want; } c[] = {
		{ 1, "alice", 0 }, { 0, "", 0 }, { 0, "ignored", 0 }, { 1, "", -1 }, { 2, "a", -1 },
		{ 1, "a\tb", -1 },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct proto_auth_result v = { .ok = c[i].ok }, r;
		str_copy(v.user, sizeof v.user, c[i].user);
		memset(v.token, 0xa0 + (int)i, sizeof v.token);
		buf_reset(&b);
		proto_auth_result_enc(&b, &v);
		struct ipc_msg m = msg(&b, -1);
		CHECK_INT(proto_auth_result_dec(&m, &r), c[i].want);
		if (c[i].want == 0)
			CHECK(memcmp(r.token, v.token, sizeof v.token) == 0);
		/* a token of another length is refused */
		if (c[i].want == 0 && b.len > 4) {
			b.len -= 1;
			b.data[b.len - 16] = 15;	/* the token's length field */
			m = msg(&b, -1);
			CHECK_INT(proto_auth_result_dec(&m, &r), -1);
		}
	}
	struct proto_auth_event e = { .ok = 1 }, er;
	str_copy(e.client, sizeof e.client, "192.0.2.7");
	buf_reset(&b);
	proto_auth_event_enc(&b, &e);
	struct ipc_msg m = msg(&b, -1);
	CHECK_INT(proto_auth_event_dec(&m, &er), 0);
	CHECK_STR(er.client, "192.0.2.7");
	e.ok = 7;
	buf_reset(&b);
	proto_auth_event_enc(&b, &e);
	m = msg(&b, -1);
	CHECK_INT(proto_auth_event_dec(&m, &er), -1);
	/* BAN_REPLY: banned is a boolean */
	for (uint32_t v = 0; v < 4; v++) {
		struct proto_ban_reply br = { .banned = v }, brr;
		buf_reset(&b);
		proto_ban_reply_enc(&b, &br);
		m = msg(&b, -1);
		CHECK_INT(proto_ban_reply_dec(&m, &brr), v <= 1 ? 0 : -1);
	}
	/* AUTH_SETTINGS needs the users file's descriptor */
	struct proto_auth_settings s = { .gen = 3 }, sr;
	buf_reset(&b);
	proto_auth_settings_enc(&b, &s);
	m = msg(&b, -1);
	CHECK_INT(proto_auth_settings_dec(&m, &sr), -1);
	m = msg(&b, 0);
	CHECK_INT(proto_auth_settings_dec(&m, &sr), 0);
	CHECK_INT(sr.gen, 3);
	/* trailing bytes */
	wire_put_u8(&b, 0);
	m = msg(&b, 0);
	CHECK_INT(proto_auth_settings_dec(&m, &sr), -1);
	buf_free(&b);
}

T(grant_and_handoff)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	struct proto_login_grant g, gr;
	memset(&g, 0, sizeof g);
	memset(g.token, 7, sizeof g.token);
	str_copy(g.user, sizeof g.user, "alice");
	proto_login_grant_enc(&b, &g);
	struct ipc_msg m = msg(&b, -1);
	CHECK_INT(proto_login_grant_dec(&m, &gr), 0);
	CHECK_STR(gr.user, "alice");
	CHECK(memcmp(gr.token, g.token, sizeof g.token) == 0);
	/* no empty user, no control bytes */
	static const char *const bad_users[] = { "", "a\nb", "x\x7f" };
	for (size_t i = 0; i < NELEM(bad_users); i++) {
		str_copy(g.user, sizeof g.user, bad_users[i]);
		buf_reset(&b);
		proto_login_grant_enc(&b, &g);
		m = msg(&b, -1);
		CHECK_INT(proto_login_grant_dec(&m, &gr), -1);
	}
	struct proto_handoff h, hr;
	memset(&h, 0, sizeof h);
	memset(h.token, 9, sizeof h.token);
	str_copy(h.sid, sizeof h.sid, "0123456789abcdef");
	str_copy(h.client, sizeof h.client, "2001:db8::1");
	str_copy(h.tag, sizeof h.tag, "a001");
	buf_reset(&b);
	proto_handoff_enc(&b, &h);
	m = msg(&b, -1);
	CHECK_INT(proto_handoff_dec(&m, &hr), -1);	/* needs the session's descriptor */
	m = msg(&b, 0);
	CHECK_INT(proto_handoff_dec(&m, &hr), 0);
	CHECK_STR(hr.tag, "a001");
	CHECK_STR(hr.client, "2001:db8::1");
	/* what reaches log lines and the first reply is printable, the tag not empty */
	static const char *const bad_tags[] = { "", "a b", "a\r\n* OK" };
	for (size_t i = 0; i < NELEM(bad_tags); i++) {
		str_copy(h.tag, sizeof h.tag, bad_tags[i]);
		buf_reset(&b);
		proto_handoff_enc(&b, &h);
		m = msg(&b, 0);
		CHECK_INT(proto_handoff_dec(&m, &hr), -1);
	}
	buf_free(&b);
}

T(scram_messages)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	/* AUTH_SCRAM_FIRST with and without exporter data */
	for (int cb = 0; cb < 2; cb++) {
		struct proto_scram_first q, r;
		memset(&q, 0, sizeof q);
		q.plus = (uint32_t)cb;
		q.offered = 1;
		q.has_cb = (uint32_t)cb;
		memset(q.cb, 0x42, sizeof q.cb);
		memcpy(q.msg, "n,,n=u,r=\0x", 11);	/* any bytes */
		q.len = 11;
		str_copy(q.client, sizeof q.client, "192.0.2.1");
		buf_reset(&b);
		proto_scram_first_enc(&b, &q);
		CHECK_INT(b.len, 4 + 4 + 4 + (cb ? 32 : 0) + 4 + 11 + 4 + 9);
		struct ipc_msg m = msg(&b, -1);
		CHECK_INT(proto_scram_first_dec(&m, &r), 0);
		CHECK(r.plus == q.plus && r.offered == 1 && r.has_cb == q.has_cb && r.len == 11);
		CHECK(memcmp(r.msg, q.msg, 11) == 0);
		CHECK(!cb || memcmp(r.cb, q.cb, sizeof q.cb) == 0);
		CHECK_STR(r.client, "192.0.2.1");
	}
	/* refusals: a flag of 2, exporter data of 31 bytes, a message over
	 * SCRAM_MSG_MAX, a control byte in the address, a byte left over */
	static const struct { uint32_t plus, cbl, len; const char *client; int extra; } bad[] = {
		{ 2, 0, 1, "a", 0 }, { 0, 31, 1, "a", 0 }, { 0, 0, SCRAM_MSG_MAX + 1, "a", 0 },
		{ 0, 0, 1, "a\n", 0 }, { 0, 0, 1, "a", 1 },
	};
	static uint8_t big[SCRAM_MSG_MAX + 1];
	for (size_t i = 0; i < NELEM(bad); i++) {
		struct proto_scram_first r;
		buf_reset(&b);
		wire_put_u32(&b, bad[i].plus);
		wire_put_u32(&b, 0);
		wire_put_bytes(&b, big, bad[i].cbl);
		wire_put_bytes(&b, big, bad[i].len);
		wire_put_str(&b, bad[i].client);
		if (bad[i].extra)
			wire_put_u8(&b, 0);
		struct ipc_msg m = msg(&b, -1);
		CHECK_INT(proto_scram_first_dec(&m, &r), -1);
	}
	/* AUTH_SCRAM_CHALLENGE: rc 0 needs the message, others none */
	static const struct { uint32_t rc; const char *sfirst; int want; } ch[] = {
		{ 0, "r=ab,s=AAAAAAAAAAA=,i=4096", 0 }, { SCRAM_CBIND, "", 0 }, { 0, "", -1 },
		{ SCRAM_PROOF, "r=x", -1 }, { SCRAM_STATE + 1, "", -1 }, { 0, "r=a b", -1 },
		{ 0, "r=a\x7f", -1 },
	};
	for (size_t i = 0; i < NELEM(ch); i++) {
		struct proto_scram_challenge c = { .rc = ch[i].rc }, r;
		str_copy(c.sfirst, sizeof c.sfirst, ch[i].sfirst);
		buf_reset(&b);
		proto_scram_challenge_enc(&b, &c);
		struct ipc_msg m = msg(&b, -1);
		CHECK_INT(proto_scram_challenge_dec(&m, &r), ch[i].want);
		if (ch[i].want == 0)
			CHECK_STR(r.sfirst, ch[i].sfirst);
	}
	/* AUTH_SCRAM_FINAL, AUTH_SCRAM_ABORT, AUTH_STATE */
	struct proto_scram_final f = { .len = 3 }, fr;
	memcpy(f.msg, "c=x", 3);
	buf_reset(&b);
	proto_scram_final_enc(&b, &f);
	struct ipc_msg m = msg(&b, -1);
	CHECK_INT(proto_scram_final_dec(&m, &fr), 0);
	CHECK(fr.len == 3 && memcmp(fr.msg, "c=x", 3) == 0);
	CHECK_INT(proto_scram_abort_dec(&m), -1);
	buf_reset(&b);
	m = msg(&b, -1);
	CHECK_INT(proto_scram_abort_dec(&m), 0);
	CHECK_INT(proto_scram_final_dec(&m, &fr), -1);
	for (uint32_t v = 0; v < 3; v++) {
		struct proto_auth_state st = { .scram = v }, sr;
		buf_reset(&b);
		proto_auth_state_enc(&b, &st);
		m = msg(&b, -1);
		CHECK_INT(proto_auth_state_dec(&m, &sr), v <= 1 ? 0 : -1);
	}
	/* AUTH_RESULT carries the server-final message, printable only */
	struct proto_auth_result res = { .ok = 1 }, rr;
	str_copy(res.user, sizeof res.user, "alice");
	str_copy(res.final, sizeof res.final, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	buf_reset(&b);
	proto_auth_result_enc(&b, &res);
	m = msg(&b, -1);
	CHECK_INT(proto_auth_result_dec(&m, &rr), 0);
	CHECK_STR(rr.final, res.final);
	str_copy(res.final, sizeof res.final, "v=a\rb");
	buf_reset(&b);
	proto_auth_result_enc(&b, &res);
	m = msg(&b, -1);
	CHECK_INT(proto_auth_result_dec(&m, &rr), -1);
	buf_free(&b);
}

int
main(void)
{
	RUN(check_round_trip_and_golden);
	RUN(check_refusals);
	RUN(result_and_event);
	RUN(grant_and_handoff);
	RUN(scram_messages);
	return t_done("proto_auth");
}

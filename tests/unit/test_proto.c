/*
 * Unit tests for core/wire.c and the IPC catalog (src/proto/): the literal
 * byte layout, a round trip through every encode/decode pair, and the
 * payloads every decoder must refuse (truncated, trailing bytes, strings
 * too long or holding a NUL, counts and numbers out of range, a repeated
 * recipient, a missing descriptor).
 *
 * Decoders read payloads from sibling processes that may have been taken
 * over, so each decode here runs on an exact-size heap copy: an over-read
 * is an ASan report, not a silent pass.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/ipc.h"
#include "core/util.h"
#include "core/wire.h"
#include "mail/spool.h"
#include "proto/dns.h"
#include "proto/parent.h"
#include "proto/proto.h"
#include "proto/queue_deliver.h"
#include "proto/smtp_policy.h"
#include "proto/smtp_queue.h"
#include "t.h"

/* ---- helpers ---------------------------------------------------------- */

static int test_pipe[2] = { -1, -1 };
#define GOOD_FD test_pipe[0]	/* a real descriptor for messages that carry one */

/* Say which table row a failed check belongs to. */
static void
row_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
row_failed(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "    ... in ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Check a decoder's return value; on a mismatch say what the input was. */
static void
expect_rc(int got, int want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
expect_rc(int got, int want, const char *fmt, ...)
{
	if (got == want)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: decoder returned %d, expected %d: ", t_cur, got, want);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	t_cur_failed = 1;
}

/* "01 02 0a" -> bytes (spaces ignored); returns the count. */
static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		if (*s == ' ')
			continue;
		int v = (*s >= '0' && *s <= '9') ? *s - '0' :
		    (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10 : -1;
		if (v < 0 || n >= max)
			abort();	/* a typo in the test itself */
		if (hi < 0)
			hi = v;
		else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		abort();
	return n;
}

static void
print_hex(const char *label, const uint8_t *p, size_t n)
{
	fprintf(stderr, "      %s (%zu):", label, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %02x", p[i]);
	fputc('\n', stderr);
}

#define CHECK_HEX(b, hex) check_hex(__LINE__, (b), (hex))
static void
check_hex(int line, const struct buf *b, const char *hex)
{
	uint8_t want[512];
	size_t n = unhex(hex, want, sizeof want);
	if (!b->err && b->len == n && (n == 0 || memcmp(b->data, want, n) == 0))
		return;
	fprintf(stderr, "%s:%d: %s: bytes differ%s\n", __FILE__, line, t_cur,
	    b->err ? " (buffer error)" : "");
	print_hex("got ", b->data, b->len);
	print_hex("want", want, n);
	t_cur_failed = 1;
}

typedef int (*dec_fn)(const struct ipc_msg *m);

/* Decode len bytes at p as a message of this type carrying fd, from an
 * exact-size heap copy. */
static int
decode(dec_fn dec, uint32_t type, int fd, const void *p, size_t len)
{
	uint8_t *copy = malloc(len);
	if (copy == NULL && len == 0)
		copy = malloc(1);
	if (copy == NULL)
		abort();
	if (len > 0)
		memcpy(copy, p, len);
	struct ipc_msg m = { .type = type, .id = 0x0102030405060708ull, .fd = fd,
		.data = copy, .len = len };
	int rc = dec(&m);
	free(copy);
	return rc;
}

/* Raw string field: u32 length + bytes, which may hold a NUL. */
static void
put_raw_str(struct buf *b, const void *s, size_t n)
{
	wire_put_u32(b, (uint32_t)n);
	buf_append(b, s, n);
}

/* ---- the catalog: one row per message type ---------------------------- */

static struct proto_stop out_stop;
static struct proto_peer out_peer;
static struct proto_queue_settings out_qset;
static struct proto_deliver_settings out_dset;
static struct proto_policy_settings out_pset;
static struct proto_qid out_qid;
static struct proto_commit out_commit;
static struct proto_errno out_errno;
static struct proto_deliver out_deliver;
static struct proto_deliver_done out_done;
static struct proto_admit out_admit;
static struct proto_admit_reply out_reply;
static struct proto_report out_report;
static struct proto_mailboxes out_mbox;

static int dec_stop(const struct ipc_msg *m) { return proto_stop_dec(m, &out_stop); }
static int dec_peer(const struct ipc_msg *m) { return proto_peer_dec(m, &out_peer); }
static int dec_qset(const struct ipc_msg *m) { return proto_queue_settings_dec(m, &out_qset); }
static int dec_dset(const struct ipc_msg *m) { return proto_deliver_settings_dec(m, &out_dset); }
static int dec_pset(const struct ipc_msg *m) { return proto_policy_settings_dec(m, &out_pset); }
static int dec_empty(const struct ipc_msg *m) { return proto_empty_dec(m); }
static int dec_qid(const struct ipc_msg *m) { return proto_qid_dec(m, &out_qid); }
static int dec_commit(const struct ipc_msg *m) { return proto_commit_dec(m, &out_commit); }
static int dec_errno(const struct ipc_msg *m) { return proto_errno_dec(m, &out_errno); }
static int dec_deliver(const struct ipc_msg *m) { return proto_deliver_dec(m, &out_deliver); }
static int dec_done(const struct ipc_msg *m) { return proto_deliver_done_dec(m, &out_done); }
static int dec_admit(const struct ipc_msg *m) { return proto_admit_dec(m, &out_admit); }
static int dec_reply(const struct ipc_msg *m) { return proto_admit_reply_dec(m, &out_reply); }
static int dec_report(const struct ipc_msg *m) { return proto_report_dec(m, &out_report); }
static int dec_mbox(const struct ipc_msg *m) { return proto_mailboxes_dec(m, &out_mbox); }

enum kind_id {
	K_STOP, K_PEER, K_QSET, K_DSET, K_PSET, K_REPORT, K_MBOX,
	K_OPEN, K_OPEN_OK, K_OPEN_FAIL, K_COMMIT, K_COMMIT_OK, K_COMMIT_FAIL, K_ABORT,
	K_DELIVER, K_DONE,
	K_ADMIT, K_ADMIT_REPLY, K_ADMIT_END, K_ADMIT_HOLD,
	K_COUNT
};

static const struct kind {
	const char *name;
	uint32_t type;
	bool needs_fd;		/* decoding must fail without a descriptor */
	dec_fn dec;
} kinds[K_COUNT] = {
	[K_STOP] = { "STOP", PROTO_STOP, false, dec_stop },
	[K_PEER] = { "PEER", PROTO_PEER, true, dec_peer },
	[K_QSET] = { "QUEUE_SETTINGS", PROTO_QUEUE_SETTINGS, false, dec_qset },
	[K_DSET] = { "DELIVER_SETTINGS", PROTO_DELIVER_SETTINGS, false, dec_dset },
	[K_PSET] = { "POLICY_SETTINGS", PROTO_POLICY_SETTINGS, false, dec_pset },
	[K_REPORT] = { "REPORT", PROTO_REPORT, false, dec_report },
	[K_MBOX] = { "MAILBOXES", PROTO_MAILBOXES, false, dec_mbox },
	[K_OPEN] = { "OPEN", PROTO_OPEN, false, dec_empty },
	[K_OPEN_OK] = { "OPEN_OK", PROTO_OPEN_OK, true, dec_qid },
	[K_OPEN_FAIL] = { "OPEN_FAIL", PROTO_OPEN_FAIL, false, dec_errno },
	[K_COMMIT] = { "COMMIT", PROTO_COMMIT, false, dec_commit },
	[K_COMMIT_OK] = { "COMMIT_OK", PROTO_COMMIT_OK, false, dec_empty },
	[K_COMMIT_FAIL] = { "COMMIT_FAIL", PROTO_COMMIT_FAIL, false, dec_errno },
	[K_ABORT] = { "ABORT", PROTO_ABORT, false, dec_qid },
	[K_DELIVER] = { "DELIVER", PROTO_DELIVER, true, dec_deliver },
	[K_DONE] = { "DELIVER_DONE", PROTO_DELIVER_DONE, false, dec_done },
	[K_ADMIT] = { "ADMIT", PROTO_ADMIT, false, dec_admit },
	[K_ADMIT_REPLY] = { "ADMIT_REPLY", PROTO_ADMIT_REPLY, false, dec_reply },
	[K_ADMIT_END] = { "ADMIT_END", PROTO_ADMIT_END, false, dec_empty },
	[K_ADMIT_HOLD] = { "ADMIT_HOLD", PROTO_ADMIT_HOLD, false, dec_admit },
};

static int
fd_for(enum kind_id k)
{
	return kinds[k].needs_fd ? GOOD_FD : -1;
}

static int
dec_kind(enum kind_id k, int fd, const struct buf *b)
{
	return decode(kinds[k].dec, kinds[k].type, fd, b->data, b->len);
}

/* ---- valid values, encoded with the *_enc functions ------------------- */

static struct proto_stop v_stop[] = { { 0 }, { 30 }, { 0x01020304 }, { UINT32_MAX } };
static struct proto_peer v_peer[] = {
	{ ROLE_SMTP, 0, 1 }, { ROLE_QUEUE, 7, 2 }, { ROLE_DELIVER, 1, 0x01020304 },
	{ ROLE_POLICY, UINT32_MAX, UINT32_MAX },
};
static struct proto_mailboxes v_mbox[3];	/* init_values */
static struct proto_report v_report[] = {
	{ ROLE_SMTP, 1, "malformed datagram" }, { ROLE_POLICY, UINT32_MAX, "" },
	{ ROLE_QUEUE, 5, "" /* 200 bytes, init_values */ },
};
static struct proto_queue_settings v_qset[] = {
	{ 1, 500, 432000, "mx.example.org" }, { 0, 1, 1, "" },
	{ UINT32_MAX, UINT32_MAX, UINT32_MAX, "" /* 253 bytes, init_values */ },
};
static struct proto_deliver_settings v_dset[] = {
	{ 1, "mx.example.org" }, { 0, "" }, { UINT32_MAX, "" /* 253 bytes, init_values */ },
};
static struct proto_policy_settings v_pset[] = {
	{ 1, 100, 10, 64, 1, "127.0.0.1@2053 ::1", "", 10, "mx.example.org" },
	{ 0, 0, 0, 1, 0, "", "", 1, "" },
	{ UINT32_MAX, UINT32_MAX, UINT32_MAX, 128, 2, "", "/usr/share/dns/root.key", 120, "a" },
};
static struct proto_qid v_qid[] = {
	{ "0123456789ABC" }, { "ZZZZZZZZZZZZZ" }, { "" /* spool_new_qid, init_values */ },
};
static struct proto_commit v_commit[] = {
	{ "0123456789ABC", 0x0102030405060708ull }, { "ZZZZZZZZZZZZZ", 0 },
	{ "00000000000HX", UINT64_MAX },
};
static struct proto_errno v_errno[] = { { 1 }, { 5 /* EIO */ }, { 28 /* ENOSPC */ }, { 4095 } };
static struct proto_deliver v_deliver[3];		/* init_values */
static struct proto_deliver_done v_done[3];		/* init_values */
static struct proto_admit v_admit[4];			/* init_values */
static struct proto_admit_reply v_reply[] = { { ADMIT_OK }, { ADMIT_TOO_MANY }, { ADMIT_TOO_MANY_IP } };

static void
set_addr(struct proto_admit *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof *a);
	if (strchr(ip, ':') == NULL) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->addr;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
			abort();
		a->addrlen = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->addr;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			abort();
		a->addrlen = sizeof *s6;
	}
}

static void
fill_text(char *dst, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (i % 8 == 7) ? '.' : (char)('a' + (seed + i) % 26);
	dst[n] = '\0';
}

static void
init_values(void)
{
	fill_text(v_qset[2].hostname, PROTO_HOSTNAME_MAX, 0);
	fill_text(v_report[2].reason, PROTO_REASON_MAX, 1);
	v_mbox[0] = (struct proto_mailboxes){ .gen = 1, .last = 1, .n = 2 };
	snprintf(v_mbox[0].name[0], sizeof v_mbox[0].name[0], "alice");
	snprintf(v_mbox[0].name[1], sizeof v_mbox[0].name[1], "b.o_b-9");
	v_mbox[1] = (struct proto_mailboxes){ .gen = 0, .last = 0, .n = 0 };
	v_mbox[2].gen = UINT32_MAX;
	v_mbox[2].last = 1;
	v_mbox[2].n = PROTO_MAILBOXES_MAX;
	for (uint32_t i = 0; i < PROTO_MAILBOXES_MAX; i++) {
		/* 64 bytes: the longest name */
		memset(v_mbox[2].name[i], 'a' + (char)(i % 26), PROTO_MAILBOX_MAX);
		v_mbox[2].name[i][PROTO_MAILBOX_MAX] = '\0';
	}
	fill_text(v_dset[2].hostname, PROTO_HOSTNAME_MAX, 3);
	spool_new_qid(v_qid[2].qid);

	v_deliver[0] = (struct proto_deliver){ .recovering = false, .n = 1, .idx = { 0 } };
	v_deliver[1] = (struct proto_deliver){ .recovering = true, .n = 3,
		.idx = { 2, 0, UINT32_MAX } };
	v_deliver[2].recovering = false;
	v_deliver[2].n = PROTO_DELIVER_MAX;
	for (uint32_t i = 0; i < PROTO_DELIVER_MAX; i++)
		v_deliver[2].idx[i] = PROTO_DELIVER_MAX - 1 - i;

	v_done[0].n = 1;
	v_done[0].item[0] = (struct proto_done_item){ 0, 0, "new/1700000000.M1P2.mx" };
	v_done[1].n = 2;
	v_done[1].item[0] = (struct proto_done_item){ 3, 28, "No space" };
	v_done[1].item[1] = (struct proto_done_item){ UINT32_MAX, 0, "" };
	v_done[2].n = PROTO_DELIVER_MAX;
	for (uint32_t i = 0; i < PROTO_DELIVER_MAX; i++) {
		v_done[2].item[i].idx = i;
		v_done[2].item[i].err = i % 3 ? 0 : 4095;
		fill_text(v_done[2].item[i].text, PROTO_DONE_TEXT_MAX, i);
	}

	set_addr(&v_admit[0], "192.0.2.1", 25);
	set_addr(&v_admit[1], "2001:db8::1", 65535);
	set_addr(&v_admit[2], "0.0.0.0", 0);
	set_addr(&v_admit[3], "::ffff:192.0.2.1", 587);
}

/* Encode sample i of kind k into b; false when there is no sample i. */
static bool
sample(enum kind_id k, size_t i, struct buf *b)
{
	buf_reset(b);
#define ENC(vals, fn) do { if (i >= NELEM(vals)) return false; fn(b, &vals[i]); } while (0)
	switch (k) {
	case K_STOP: ENC(v_stop, proto_stop_enc); break;
	case K_PEER: ENC(v_peer, proto_peer_enc); break;
	case K_QSET: ENC(v_qset, proto_queue_settings_enc); break;
	case K_DSET: ENC(v_dset, proto_deliver_settings_enc); break;
	case K_PSET: ENC(v_pset, proto_policy_settings_enc); break;
	case K_REPORT: ENC(v_report, proto_report_enc); break;
	case K_MBOX: ENC(v_mbox, proto_mailboxes_enc); break;
	case K_OPEN: case K_COMMIT_OK: case K_ADMIT_END:
		if (i > 0)
			return false;
		break;
	case K_OPEN_OK: case K_ABORT: ENC(v_qid, proto_qid_enc); break;
	case K_OPEN_FAIL: case K_COMMIT_FAIL: ENC(v_errno, proto_errno_enc); break;
	case K_COMMIT: ENC(v_commit, proto_commit_enc); break;
	case K_DELIVER: ENC(v_deliver, proto_deliver_enc); break;
	case K_DONE: ENC(v_done, proto_deliver_done_enc); break;
	case K_ADMIT: case K_ADMIT_HOLD: ENC(v_admit, proto_admit_enc); break;
	case K_ADMIT_REPLY: ENC(v_reply, proto_admit_reply_enc); break;
	case K_COUNT: return false;
	}
#undef ENC
	if (b->err)
		abort();
	return true;
}

/* Every field of the last decoded value equals sample i of kind k. */
static void
check_fields(enum kind_id k, size_t i)
{
	switch (k) {
	case K_STOP:
		CHECK_INT(out_stop.grace, v_stop[i].grace);
		break;
	case K_PEER:
		CHECK_INT(out_peer.role, v_peer[i].role);
		CHECK_INT(out_peer.slot, v_peer[i].slot);
		CHECK_INT(out_peer.id, v_peer[i].id);
		break;
	case K_MBOX:
		CHECK_INT(out_mbox.gen, v_mbox[i].gen);
		CHECK_INT(out_mbox.last, v_mbox[i].last);
		CHECK_INT(out_mbox.n, v_mbox[i].n);
		for (uint32_t j = 0; j < v_mbox[i].n; j++)
			CHECK_STR(out_mbox.name[j], v_mbox[i].name[j]);
		break;
	case K_REPORT:
		CHECK_INT(out_report.role, v_report[i].role);
		CHECK_INT(out_report.id, v_report[i].id);
		CHECK_STR(out_report.reason, v_report[i].reason);
		break;
	case K_QSET:
		CHECK_INT(out_qset.gen, v_qset[i].gen);
		CHECK_INT(out_qset.max_open, v_qset[i].max_open);
		CHECK_INT(out_qset.lifetime, v_qset[i].lifetime);
		CHECK_STR(out_qset.hostname, v_qset[i].hostname);
		break;
	case K_DSET:
		CHECK_INT(out_dset.gen, v_dset[i].gen);
		CHECK_STR(out_dset.hostname, v_dset[i].hostname);
		break;
	case K_PSET:
		CHECK_INT(out_pset.gen, v_pset[i].gen);
		CHECK_INT(out_pset.max_conns, v_pset[i].max_conns);
		CHECK_INT(out_pset.max_conns_per_ip, v_pset[i].max_conns_per_ip);
		CHECK_INT(out_pset.ipv6_prefix, v_pset[i].ipv6_prefix);
		break;
	case K_OPEN: case K_COMMIT_OK: case K_ADMIT_END:
		break;
	case K_OPEN_OK: case K_ABORT:
		CHECK_STR(out_qid.qid, v_qid[i].qid);
		break;
	case K_OPEN_FAIL: case K_COMMIT_FAIL:
		CHECK_INT(out_errno.err, v_errno[i].err);
		break;
	case K_COMMIT:
		CHECK_STR(out_commit.qid, v_commit[i].qid);
		CHECK(out_commit.size == v_commit[i].size);
		break;
	case K_DELIVER:
		CHECK_INT(out_deliver.recovering, v_deliver[i].recovering);
		CHECK_INT(out_deliver.n, v_deliver[i].n);
		for (uint32_t j = 0; j < v_deliver[i].n && j < PROTO_DELIVER_MAX; j++)
			CHECK_INT(out_deliver.idx[j], v_deliver[i].idx[j]);
		break;
	case K_DONE:
		CHECK_INT(out_done.n, v_done[i].n);
		for (uint32_t j = 0; j < v_done[i].n && j < PROTO_DELIVER_MAX; j++) {
			CHECK_INT(out_done.item[j].idx, v_done[i].item[j].idx);
			CHECK_INT(out_done.item[j].err, v_done[i].item[j].err);
			CHECK_STR(out_done.item[j].text, v_done[i].item[j].text);
		}
		break;
	case K_ADMIT: case K_ADMIT_HOLD:
		CHECK_INT(out_admit.addrlen, v_admit[i].addrlen);
		CHECK_INT(out_admit.addr.ss_family, v_admit[i].addr.ss_family);
		/* family, port, address; flowinfo, scope id and padding zero */
		CHECK(out_admit.addrlen == v_admit[i].addrlen &&
		    memcmp(&out_admit.addr, &v_admit[i].addr, v_admit[i].addrlen) == 0);
		break;
	case K_ADMIT_REPLY:
		CHECK_INT(out_reply.verdict, v_reply[i].verdict);
		break;
	case K_COUNT:
		break;
	}
}

/* ---- the catalog itself ------------------------------------------------ */

T(catalog_type_numbers)
{
	/* numbers are the wire protocol: pin them, and keep them unique */
	static const struct { uint32_t type, want; } nums[] = {
		{ PROTO_STOP, 1 }, { PROTO_PEER, 2 }, { PROTO_QUEUE_SETTINGS, 3 },
		{ PROTO_DELIVER_SETTINGS, 4 }, { PROTO_POLICY_SETTINGS, 5 }, { PROTO_REPORT, 6 }, { PROTO_MAILBOXES, 7 },
		{ PROTO_OPEN, 20 }, { PROTO_OPEN_OK, 21 }, { PROTO_OPEN_FAIL, 22 },
		{ PROTO_COMMIT, 23 }, { PROTO_COMMIT_OK, 24 }, { PROTO_COMMIT_FAIL, 25 },
		{ PROTO_ABORT, 26 }, { PROTO_DELIVER, 40 }, { PROTO_DELIVER_DONE, 41 },
		{ PROTO_ADMIT, 60 }, { PROTO_ADMIT_REPLY, 61 }, { PROTO_ADMIT_END, 62 },
		{ PROTO_ADMIT_HOLD, 63 },
	};
	CHECK_INT(NELEM(nums), K_COUNT);
	for (size_t i = 0; i < NELEM(nums); i++)
		CHECK_INT(nums[i].type, nums[i].want);
	for (int a = 0; a < K_COUNT; a++)
		for (int b = a + 1; b < K_COUNT; b++)
			CHECK(kinds[a].type != kinds[b].type);
	CHECK_STR(proto_role_name(ROLE_SMTP), "smtp");
	CHECK_STR(proto_role_name(ROLE_QUEUE), "queue");
	CHECK_STR(proto_role_name(ROLE_DELIVER), "deliver");
	CHECK_STR(proto_role_name(ROLE_POLICY), "policy");
	CHECK_STR(proto_role_name(ROLE_COUNT), "unknown");
	CHECK_STR(proto_role_name(~0u), "unknown");
}

T(roundtrip_every_message)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (int k = 0; k < K_COUNT; k++) {
		size_t i;
		for (i = 0; sample(k, i, &b); i++) {
			int was = t_cur_failed;
			t_cur_failed = 0;
			CHECK(b.len <= IPC_MAX - 16);	/* fits one datagram with its header */
			expect_rc(dec_kind(k, fd_for(k), &b), 0, "%s sample %zu", kinds[k].name, i);
			check_fields(k, i);
			if (t_cur_failed)
				row_failed("%s sample %zu", kinds[k].name, i);
			t_cur_failed |= was;
		}
		CHECK(i > 0);	/* no message left without a sample */
	}
	buf_free(&b);
}

/* The exact bytes: big-endian, strings as u32 length + bytes, addresses as
 * family + 16 bytes + u32 port. */
T(golden_encodings)
{
	static const struct { enum kind_id k; size_t i; const char *hex; } g[] = {
		{ K_STOP, 0, "00000000" },
		{ K_STOP, 2, "01020304" },
		{ K_STOP, 3, "ffffffff" },
		{ K_PEER, 1, "00000001 00000007 00000002" },
		{ K_PEER, 3, "00000003 ffffffff ffffffff" },
		{ K_REPORT, 0, "00000000 00000001 00000012 6d616c666f726d656420646174616772616d" },
		{ K_QSET, 0, "00000001 000001f4 00069780 0000000e 6d782e6578616d706c652e6f7267" },
		{ K_QSET, 1, "00000000 00000001 00000001 00000000" },
		{ K_DSET, 0, "00000001 0000000e 6d782e6578616d706c652e6f7267" },
		{ K_PSET, 0, "00000001 00000064 0000000a 00000040 00000001 "
		    "00000012 3132372e302e302e314032303533 20 3a3a31 00000000 0000000a "
		    "0000000e 6d782e6578616d706c652e6f7267" },
		{ K_OPEN, 0, "" },
		{ K_OPEN_OK, 0, "0000000d 30313233343536373839414243" },
		{ K_ABORT, 1, "0000000d 5a5a5a5a5a5a5a5a5a5a5a5a5a" },
		{ K_OPEN_FAIL, 1, "00000005" },
		{ K_COMMIT_FAIL, 3, "00000fff" },
		{ K_COMMIT, 0, "0000000d 30313233343536373839414243 0102030405060708" },
		{ K_COMMIT, 2, "0000000d 30303030303030303030304858 ffffffffffffffff" },
		{ K_DELIVER, 0, "00 00000001 00000000" },
		{ K_DELIVER, 1, "01 00000003 00000002 00000000 ffffffff" },
		{ K_DONE, 1, "00000002 00000003 0000001c 00000008 4e6f207370616365"
			     " ffffffff 00000000 00000000" },
		{ K_ADMIT, 0, "04 c0000201 000000000000000000000000 00000019" },
		{ K_ADMIT, 1, "06 20010db8000000000000000000000001 0000ffff" },
		{ K_ADMIT_HOLD, 3, "06 00000000000000000000ffffc0000201 0000024b" },
		{ K_ADMIT_REPLY, 2, "00000002" },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t j = 0; j < NELEM(g); j++) {
		int was = t_cur_failed;
		t_cur_failed = 0;
		CHECK(sample(g[j].k, g[j].i, &b));
		CHECK_HEX(&b, g[j].hex);
		if (t_cur_failed)
			row_failed("%s sample %zu", kinds[g[j].k].name, g[j].i);
		t_cur_failed |= was;
	}
	buf_free(&b);
}

/* ---- refusals common to every decoder ---------------------------------- */

T(every_truncation_refused)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	size_t tried = 0;
	for (int k = 0; k < K_COUNT; k++)
		for (size_t i = 0; sample(k, i, &b); i++) {
			/* one heap block per sample; the cut payload sits at its end,
			 * so reading past the cut is an ASan report */
			uint8_t *heap = xmalloc(b.len ? b.len : 1);
			for (size_t cut = 0; cut < b.len; cut++, tried++) {
				uint8_t *at = heap + b.len - cut;
				memcpy(at, b.data, cut);
				struct ipc_msg m = { .type = kinds[k].type, .id = 1, .fd = fd_for(k),
					.data = at, .len = cut };
				expect_rc(kinds[k].dec(&m), -1, "%s sample %zu cut to %zu of %zu bytes",
				    kinds[k].name, i, cut, b.len);
			}
			free(heap);
		}
	CHECK(tried > 50000);	/* the 200-recipient samples are in */
	buf_free(&b);
}

T(trailing_byte_refused)
{
	static const uint8_t extra[] = { 0x00, 0x01, 0x04, 0xff };
	struct buf b;
	buf_init(&b, 0);	/* no limit: a doubled DELIVER_DONE exceeds IPC_MAX */
	for (int k = 0; k < K_COUNT; k++)
		for (size_t i = 0; sample(k, i, &b); i++) {
			size_t len = b.len;
			for (size_t e = 0; e < NELEM(extra); e++) {
				b.len = len;
				wire_put_u8(&b, extra[e]);
				expect_rc(dec_kind(k, fd_for(k), &b), -1,
				    "%s sample %zu + trailing %02x", kinds[k].name, i, extra[e]);
			}
			/* a whole second copy is trailing bytes too */
			b.len = len;
			if (len > 0) {
				uint8_t *copy = xmalloc(len);
				memcpy(copy, b.data, len);
				CHECK(buf_append(&b, copy, len));
				free(copy);
				expect_rc(dec_kind(k, fd_for(k), &b), -1, "%s sample %zu twice",
				    kinds[k].name, i);
			}
		}
	buf_free(&b);
}

T(missing_fd_refused)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	int n = 0;
	for (int k = 0; k < K_COUNT; k++) {
		if (!kinds[k].needs_fd)
			continue;
		n++;
		for (size_t i = 0; sample(k, i, &b); i++) {
			expect_rc(dec_kind(k, -1, &b), -1, "%s sample %zu, fd -1", kinds[k].name, i);
			expect_rc(dec_kind(k, -2, &b), -1, "%s sample %zu, fd -2", kinds[k].name, i);
			expect_rc(dec_kind(k, GOOD_FD, &b), 0, "%s sample %zu, fd", kinds[k].name, i);
		}
	}
	CHECK_INT(n, 3);	/* PEER, OPEN_OK, DELIVER */
	/* ABORT shares OPEN_OK's decoder but carries no descriptor */
	CHECK(sample(K_ABORT, 0, &b));
	expect_rc(dec_kind(K_ABORT, -1, &b), 0, "ABORT without fd");
	buf_free(&b);
}

T(empty_messages_refuse_any_payload)
{
	static const enum kind_id ks[] = { K_OPEN, K_COMMIT_OK, K_ADMIT_END };
	static uint8_t big[IPC_MAX - 16];
	for (size_t j = 0; j < NELEM(ks); j++) {
		enum kind_id k = ks[j];
		expect_rc(decode(kinds[k].dec, kinds[k].type, -1, big, 0), 0, "%s empty",
		    kinds[k].name);
		for (int c = 0; c < 256; c++) {
			uint8_t one = (uint8_t)c;
			expect_rc(decode(kinds[k].dec, kinds[k].type, -1, &one, 1), -1,
			    "%s with byte %02x", kinds[k].name, c);
		}
		expect_rc(decode(kinds[k].dec, kinds[k].type, -1, big, 4), -1, "%s 4 bytes",
		    kinds[k].name);
		expect_rc(decode(kinds[k].dec, kinds[k].type, -1, big, sizeof big), -1,
		    "%s %zu bytes", kinds[k].name, sizeof big);
	}
}

/* ---- refusals per message --------------------------------------------- */

T(hostname_bounds)
{
	static const struct { size_t len; long nul_at; int want; } c[] = {
		{ 0, -1, 0 },
		{ 1, -1, 0 },
		{ PROTO_HOSTNAME_MAX, -1, 0 },
		{ PROTO_HOSTNAME_MAX + 1, -1, -1 },	/* 254 bytes */
		{ PROTO_HOSTNAME_MAX + 2, -1, -1 },
		{ 1000, -1, -1 },
		{ 14, 0, -1 },
		{ 14, 2, -1 },
		{ 14, 13, -1 },
		{ PROTO_HOSTNAME_MAX, PROTO_HOSTNAME_MAX - 1, -1 },
	};
	static const enum kind_id ks[] = { K_QSET, K_DSET };
	char host[1001];
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t j = 0; j < NELEM(ks); j++)
		for (size_t i = 0; i < NELEM(c); i++) {
			enum kind_id k = ks[j];
			fill_text(host, c[i].len, (unsigned)i);
			if (c[i].nul_at >= 0)
				host[c[i].nul_at] = '\0';
			buf_reset(&b);
			wire_put_u32(&b, 77);
			if (k == K_QSET) {
				wire_put_u32(&b, 10);	/* max_open */
				wire_put_u32(&b, 60);	/* lifetime */
			}
			put_raw_str(&b, host, c[i].len);
			int was = t_cur_failed;
			t_cur_failed = 0;
			expect_rc(dec_kind(k, -1, &b), c[i].want, "%s hostname of %zu bytes, NUL at %ld",
			    kinds[k].name, c[i].len, c[i].nul_at);
			if (c[i].want == 0) {
				const char *got = k == K_QSET ? out_qset.hostname : out_dset.hostname;
				uint32_t gen = k == K_QSET ? out_qset.gen : out_dset.gen;
				CHECK_INT(gen, 77);
				CHECK_INT(strlen(got), c[i].len);
				CHECK(memcmp(got, host, c[i].len) == 0);
			}
			if (t_cur_failed)
				row_failed("%s case %zu", kinds[k].name, i);
			t_cur_failed |= was;
		}
	/* length fields far beyond the payload */
	static const uint32_t lens[] = { 0x80000000u, UINT32_MAX, IPC_MAX };
	for (size_t j = 0; j < NELEM(ks); j++)
		for (size_t i = 0; i < NELEM(lens); i++) {
			buf_reset(&b);
			wire_put_u32(&b, 1);
			if (ks[j] == K_QSET) {
				wire_put_u32(&b, 10);	/* max_open */
				wire_put_u32(&b, 60);	/* lifetime */
			}
			wire_put_u32(&b, lens[i]);
			buf_append(&b, "mx.example.org", 14);
			expect_rc(dec_kind(ks[j], -1, &b), -1, "%s length field %08x",
			    kinds[ks[j]].name, lens[i]);
		}
	buf_free(&b);
}

T(qid_must_be_a_queue_id)
{
	static const struct { const char *s; size_t n; int want; } c[] = {
		{ "0123456789ABC", 13, 0 },
		{ "ZZZZZZZZZZZZZ", 13, 0 },
		{ "", 0, -1 },
		{ "0123456789AB", 12, -1 },
		{ "0123456789ABCD", 14, -1 },
		{ "0123456789ABCDEFGHJKMNPQ", 24, -1 },		/* SPOOL_QID_MAX */
		{ "0123456789ABCDEFGHJKMNPQR", 25, -1 },	/* SPOOL_QID_MAX + 1 */
		{ "0123456789ABCDEFGHJKMNPQRSTVWXYZ0123456789ABCDEFGHJKMNPQRSTVWXYZ", 64, -1 },
		{ "0123456789AbC", 13, -1 },
		{ "0123456789ABI", 13, -1 },
		{ "0123456789ABL", 13, -1 },
		{ "0123456789ABO", 13, -1 },
		{ "0123456789ABU", 13, -1 },
		{ "0123456789AB ", 13, -1 },
		{ "0123456789AB\x80", 13, -1 },
		{ "../../etc/pwd", 13, -1 },
		{ "012345\0" "789ABC", 13, -1 },	/* NUL inside */
		{ "0123456789ABC\0", 14, -1 },		/* NUL after a valid id */
		{ "\0" "123456789ABC", 13, -1 },
	};
	static const enum kind_id ks[] = { K_OPEN_OK, K_ABORT, K_COMMIT };
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t j = 0; j < NELEM(ks); j++)
		for (size_t i = 0; i < NELEM(c); i++) {
			enum kind_id k = ks[j];
			buf_reset(&b);
			put_raw_str(&b, c[i].s, c[i].n);
			if (k == K_COMMIT)
				wire_put_u64(&b, 4096);
			int was = t_cur_failed;
			t_cur_failed = 0;
			expect_rc(dec_kind(k, fd_for(k), &b), c[i].want, "%s qid case %zu (%zu bytes)",
			    kinds[k].name, i, c[i].n);
			if (c[i].want == 0 && k == K_COMMIT) {
				CHECK_STR(out_commit.qid, c[i].s);
				CHECK(out_commit.size == 4096);
			} else if (c[i].want == 0) {
				CHECK_STR(out_qid.qid, c[i].s);
			}
			if (t_cur_failed)
				row_failed("%s case %zu", kinds[k].name, i);
			t_cur_failed |= was;
		}
	buf_free(&b);
}

/* DELIVER payload by hand: recovering byte, count, then cnt indices. */
static void
put_deliver(struct buf *b, uint8_t rec, uint32_t n, const uint32_t *idx, size_t cnt)
{
	buf_reset(b);
	wire_put_u8(b, rec);
	wire_put_u32(b, n);
	for (size_t i = 0; i < cnt; i++)
		wire_put_u32(b, idx[i]);
}

T(deliver_counts_flags_and_repeats)
{
	enum { DISTINCT = -1 };
	static const struct {
		const char *what;
		uint8_t rec;
		uint32_t n;
		size_t cnt;		/* indices actually written */
		long repeat_of;		/* DISTINCT, or: last index = idx[repeat_of] */
		int want;
	} c[] = {
		{ "one", 0, 1, 1, DISTINCT, 0 },
		{ "one, recovering", 1, 1, 1, DISTINCT, 0 },
		{ "the maximum", 0, PROTO_DELIVER_MAX, PROTO_DELIVER_MAX, DISTINCT, 0 },
		{ "count 0", 0, 0, 0, DISTINCT, -1 },
		{ "count 0 with an index", 0, 0, 1, DISTINCT, -1 },
		{ "count max + 1", 0, PROTO_DELIVER_MAX + 1, PROTO_DELIVER_MAX + 1, DISTINCT, -1 },
		{ "count max + 1, max sent", 0, PROTO_DELIVER_MAX + 1, PROTO_DELIVER_MAX, DISTINCT, -1 },
		{ "count 2^32-1", 0, UINT32_MAX, 3, DISTINCT, -1 },
		{ "count 2^31", 1, 0x80000000u, 3, DISTINCT, -1 },
		{ "count above the indices", 0, 3, 2, DISTINCT, -1 },
		{ "count below the indices", 0, 2, 3, DISTINCT, -1 },
		{ "recovering byte 2", 2, 1, 1, DISTINCT, -1 },
		{ "recovering byte ff", 0xff, 1, 1, DISTINCT, -1 },
		{ "recovering byte 80", 0x80, 3, 3, DISTINCT, -1 },
		{ "repeat, adjacent", 0, 2, 2, 0, -1 },
		{ "repeat of the first, later", 0, 4, 4, 0, -1 },
		{ "repeat of the middle", 1, 5, 5, 2, -1 },
		{ "repeat at the maximum", 0, PROTO_DELIVER_MAX, PROTO_DELIVER_MAX, 0, -1 },
		{ "repeat at the maximum, adjacent", 0, PROTO_DELIVER_MAX, PROTO_DELIVER_MAX,
		  PROTO_DELIVER_MAX - 2, -1 },
	};
	uint32_t idx[PROTO_DELIVER_MAX + 1];
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		for (size_t j = 0; j < NELEM(idx); j++)
			idx[j] = (uint32_t)(j * 7 + 3);
		if (c[i].repeat_of != DISTINCT)
			idx[c[i].cnt - 1] = idx[c[i].repeat_of];
		put_deliver(&b, c[i].rec, c[i].n, idx, c[i].cnt);
		int was = t_cur_failed;
		t_cur_failed = 0;
		expect_rc(dec_kind(K_DELIVER, GOOD_FD, &b), c[i].want, "DELIVER %s", c[i].what);
		if (c[i].want == 0) {
			CHECK_INT(out_deliver.recovering, c[i].rec == 1);
			CHECK_INT(out_deliver.n, c[i].n);
			for (size_t j = 0; j < c[i].cnt; j++)
				CHECK_INT(out_deliver.idx[j], idx[j]);
		}
		if (t_cur_failed)
			row_failed("DELIVER %s", c[i].what);
		t_cur_failed |= was;
	}
	/* a valid batch without its spool file */
	put_deliver(&b, 0, 2, (const uint32_t[]){ 1, 2 }, 2);
	expect_rc(dec_kind(K_DELIVER, -1, &b), -1, "DELIVER without fd");
	/* the encoder does not stop a too-large count: the decoder must */
	static struct proto_deliver big;
	big.n = PROTO_DELIVER_MAX + 1;
	for (uint32_t j = 0; j < PROTO_DELIVER_MAX; j++)
		big.idx[j] = j;
	buf_reset(&b);
	proto_deliver_enc(&b, &big);
	expect_rc(dec_kind(K_DELIVER, GOOD_FD, &b), -1, "DELIVER encoded with n = max + 1");
	buf_free(&b);
}

T(deliver_done_counts_and_texts)
{
	static const struct {
		const char *what;
		uint32_t n;
		size_t cnt;		/* items actually written */
		size_t textlen;
		long nul_at;		/* -1: none; else in the last item's text */
		int want;
	} c[] = {
		{ "one", 1, 1, 10, -1, 0 },
		{ "one, empty text", 1, 1, 0, -1, 0 },
		{ "text at the maximum", 1, 1, PROTO_DONE_TEXT_MAX, -1, 0 },
		{ "the maximum", PROTO_DELIVER_MAX, PROTO_DELIVER_MAX, PROTO_DONE_TEXT_MAX, -1, 0 },
		{ "count 0", 0, 0, 0, -1, -1 },
		{ "count 0 with an item", 0, 1, 5, -1, -1 },
		{ "count max + 1", PROTO_DELIVER_MAX + 1, PROTO_DELIVER_MAX + 1, 4, -1, -1 },
		{ "count 2^32-1", UINT32_MAX, 2, 4, -1, -1 },
		{ "count above the items", 3, 2, 4, -1, -1 },
		{ "count below the items", 1, 2, 4, -1, -1 },
		{ "text max + 1", 1, 1, PROTO_DONE_TEXT_MAX + 1, -1, -1 },
		{ "text max + 1 in the last item", 3, 3, PROTO_DONE_TEXT_MAX + 1, -1, -1 },
		{ "NUL first in text", 2, 2, 8, 0, -1 },
		{ "NUL inside text", 2, 2, 8, 4, -1 },
		{ "NUL last in text", 1, 1, 8, 7, -1 },
	};
	char text[PROTO_DONE_TEXT_MAX + 2];
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		buf_reset(&b);
		wire_put_u32(&b, c[i].n);
		for (size_t j = 0; j < c[i].cnt; j++) {
			bool last = j + 1 == c[i].cnt;
			size_t tl = last ? c[i].textlen : (c[i].textlen < 20 ? c[i].textlen : 20);
			fill_text(text, tl, (unsigned)j);
			if (last && c[i].nul_at >= 0)
				text[c[i].nul_at] = '\0';
			wire_put_u32(&b, (uint32_t)j);
			wire_put_u32(&b, (uint32_t)(j % 2 ? 0 : 2));
			put_raw_str(&b, text, tl);
		}
		int was = t_cur_failed;
		t_cur_failed = 0;
		expect_rc(dec_kind(K_DONE, -1, &b), c[i].want, "DELIVER_DONE %s", c[i].what);
		if (c[i].want == 0) {
			CHECK_INT(out_done.n, c[i].n);
			size_t last = c[i].cnt - 1;
			fill_text(text, c[i].textlen, (unsigned)last);
			CHECK_INT(out_done.item[last].idx, last);
			CHECK_INT(out_done.item[last].err, last % 2 ? 0 : 2);
			CHECK_STR(out_done.item[last].text, text);
		}
		if (t_cur_failed)
			row_failed("DELIVER_DONE %s", c[i].what);
		t_cur_failed |= was;
	}
	buf_free(&b);
}

T(report_bounds)
{
	struct buf b;
	char reason[PROTO_REASON_MAX + 2];
	buf_init(&b, IPC_MAX);
	memset(reason, 'r', sizeof reason);
	reason[PROTO_REASON_MAX] = '\0';
	proto_report_enc(&b, &(struct proto_report){ .role = ROLE_QUEUE, .id = 1 });
	buf_reset(&b);
	wire_put_u32(&b, ROLE_QUEUE);
	wire_put_u32(&b, 4);
	wire_put_str(&b, reason);	/* 200 bytes: the most */
	expect_rc(dec_kind(K_REPORT, -1, &b), 0, "REPORT reason of %d bytes", PROTO_REASON_MAX);
	CHECK_INT(strlen(out_report.reason), PROTO_REASON_MAX);
	reason[PROTO_REASON_MAX] = 'r';
	reason[PROTO_REASON_MAX + 1] = '\0';
	buf_reset(&b);
	wire_put_u32(&b, ROLE_QUEUE);
	wire_put_u32(&b, 4);
	wire_put_str(&b, reason);
	expect_rc(dec_kind(K_REPORT, -1, &b), -1, "REPORT reason of %d bytes", PROTO_REASON_MAX + 1);
	buf_reset(&b);
	wire_put_u32(&b, ROLE_COUNT);
	wire_put_u32(&b, 4);
	wire_put_str(&b, "x");
	expect_rc(dec_kind(K_REPORT, -1, &b), -1, "REPORT about role %d", ROLE_COUNT);
	buf_free(&b);
}

T(mailboxes_bounds)
{
	static const struct { const char *name; int want; } c[] = {
		{ "alice", 0 }, { "a", 0 }, { "9lives", 0 }, { "Alice", -1 }, { "../x", -1 },
		{ ".hidden", -1 }, { "a/b", -1 }, { "", -1 }, { "a b", -1 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		buf_reset(&b);
		wire_put_u32(&b, 1);
		wire_put_u8(&b, 1);
		wire_put_u32(&b, 1);
		wire_put_str(&b, c[i].name);
		expect_rc(dec_kind(K_MBOX, -1, &b), c[i].want, "MAILBOXES name \"%s\"", c[i].name);
	}
	buf_reset(&b);
	wire_put_u32(&b, 1);
	wire_put_u8(&b, 2);	/* last must be 0 or 1 */
	wire_put_u32(&b, 0);
	expect_rc(dec_kind(K_MBOX, -1, &b), -1, "MAILBOXES last=2");
	buf_reset(&b);
	wire_put_u32(&b, 1);
	wire_put_u8(&b, 1);
	wire_put_u32(&b, PROTO_MAILBOXES_MAX + 1);
	expect_rc(dec_kind(K_MBOX, -1, &b), -1, "MAILBOXES n=%d", PROTO_MAILBOXES_MAX + 1);
	buf_free(&b);
}

T(queue_settings_max_open)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	proto_queue_settings_enc(&b, &(struct proto_queue_settings){ 3, 0, 9, "mx.example" });
	expect_rc(dec_kind(K_QSET, -1, &b), -1, "QUEUE_SETTINGS max_open 0");
	buf_reset(&b);
	proto_queue_settings_enc(&b, &(struct proto_queue_settings){ 3, 1, 0, "mx.example" });
	expect_rc(dec_kind(K_QSET, -1, &b), -1, "QUEUE_SETTINGS lifetime 0");
	buf_reset(&b);
	proto_queue_settings_enc(&b, &(struct proto_queue_settings){ 3, 1, 9, "mx.example" });
	expect_rc(dec_kind(K_QSET, -1, &b), 0, "QUEUE_SETTINGS max_open 1");
	CHECK_INT(out_qset.max_open, 1);
	buf_free(&b);
}

T(peer_role_and_fd)
{
	static const struct { uint32_t role; int want; } c[] = {
		{ ROLE_SMTP, 0 }, { ROLE_QUEUE, 0 }, { ROLE_DELIVER, 0 }, { ROLE_POLICY, 0 },
		{ ROLE_COUNT, -1 }, { ROLE_COUNT + 1, -1 }, { 0x80000000u, -1 }, { UINT32_MAX, -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		buf_reset(&b);
		proto_peer_enc(&b, &(struct proto_peer){ .role = c[i].role, .slot = 3, .id = 9 });
		expect_rc(dec_kind(K_PEER, GOOD_FD, &b), c[i].want, "PEER role %u", c[i].role);
		if (c[i].want == 0) {
			CHECK_INT(out_peer.role, c[i].role);
			CHECK_INT(out_peer.slot, 3);
			CHECK_INT(out_peer.id, 9);
		}
		expect_rc(dec_kind(K_PEER, -1, &b), -1, "PEER role %u without fd", c[i].role);
	}
	buf_free(&b);
}

/* ADMIT payload by hand: family byte, 16 address bytes, u32 port. */
static void
put_admit(struct buf *b, uint8_t fam, uint32_t port)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x09 };
	buf_reset(b);
	wire_put_u8(b, fam);
	buf_append(b, a, fam == 4 ? 4 : 16);
	if (fam == 4)
		buf_append(b, (const uint8_t[12]){ 0 }, 12);
	wire_put_u32(b, port);
}

T(admit_family_and_port)
{
	static const struct { uint8_t fam; uint32_t port; int want; } c[] = {
		{ 4, 25, 0 }, { 6, 25, 0 }, { 4, 0, 0 }, { 6, 65535, 0 },
		{ 0, 25, -1 }, { 1, 25, -1 }, { 2, 25, -1 } /* AF_INET */, { 3, 25, -1 },
		{ 5, 25, -1 }, { 7, 25, -1 }, { 10, 25, -1 } /* AF_INET6 */, { 0x44, 25, -1 },
		{ 0x64, 25, -1 }, { 0xff, 25, -1 },
		{ 4, 65536, -1 }, { 6, 65536, -1 }, { 4, 0x00ffffff, -1 }, { 6, 0x80000000u, -1 },
		{ 4, UINT32_MAX, -1 }, { 6, 0x00010019, -1 } /* 65536 + 25: no truncation to 25 */,
	};
	static const enum kind_id ks[] = { K_ADMIT, K_ADMIT_HOLD };
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t j = 0; j < NELEM(ks); j++)
		for (size_t i = 0; i < NELEM(c); i++) {
			enum kind_id k = ks[j];
			put_admit(&b, c[i].fam, c[i].port);
			int was = t_cur_failed;
			t_cur_failed = 0;
			CHECK_INT(b.len, 21);
			expect_rc(dec_kind(k, -1, &b), c[i].want, "%s family %u port %u",
			    kinds[k].name, c[i].fam, c[i].port);
			if (c[i].want == 0 && c[i].fam == 4) {
				const struct sockaddr_in *s4 = (const struct sockaddr_in *)&out_admit.addr;
				CHECK_INT(out_admit.addrlen, sizeof *s4);
				CHECK_INT(s4->sin_family, AF_INET);
				CHECK_INT(ntohs(s4->sin_port), c[i].port);
				CHECK(memcmp(&s4->sin_addr, "\x20\x01\x0d\xb8", 4) == 0);
			} else if (c[i].want == 0) {
				const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&out_admit.addr;
				CHECK_INT(out_admit.addrlen, sizeof *s6);
				CHECK_INT(s6->sin6_family, AF_INET6);
				CHECK_INT(ntohs(s6->sin6_port), c[i].port);
				CHECK(memcmp(&s6->sin6_addr,
				    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x09", 16) == 0);
			}
			if (t_cur_failed)
				row_failed("%s case %zu", kinds[k].name, i);
			t_cur_failed |= was;
		}
	/* what the encoder cannot express is sent as family 0 and refused */
	struct proto_admit a;
	memset(&a, 0, sizeof a);
	struct sockaddr_un *su = (struct sockaddr_un *)&a.addr;
	su->sun_family = AF_UNIX;
	strcpy(su->sun_path, "/tmp/x");
	a.addrlen = sizeof *su;
	buf_reset(&b);
	proto_admit_enc(&b, &a);
	CHECK_HEX(&b, "00 00000000000000000000000000000000 00000000");
	expect_rc(dec_kind(K_ADMIT, -1, &b), -1, "ADMIT of an AF_UNIX address");
	set_addr(&a, "192.0.2.1", 25);
	a.addrlen = sizeof(struct sockaddr_in) - 1;	/* too short to be one */
	buf_reset(&b);
	proto_admit_enc(&b, &a);
	expect_rc(dec_kind(K_ADMIT, -1, &b), -1, "ADMIT of a short AF_INET address");
	buf_free(&b);
}

T(errno_must_be_an_error)
{
	static const struct { uint32_t err; int want; } c[] = {
		{ 1, 0 }, { 5, 0 }, { 28, 0 }, { 4095, 0 },
		{ 0, -1 }, { 4096, -1 }, { 0x80000000u, -1 }, { UINT32_MAX, -1 },
	};
	static const enum kind_id ks[] = { K_OPEN_FAIL, K_COMMIT_FAIL };
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t j = 0; j < NELEM(ks); j++)
		for (size_t i = 0; i < NELEM(c); i++) {
			buf_reset(&b);
			proto_errno_enc(&b, &(struct proto_errno){ c[i].err });
			expect_rc(dec_kind(ks[j], -1, &b), c[i].want, "%s errno %u",
			    kinds[ks[j]].name, c[i].err);
			if (c[i].want == 0)
				CHECK_INT(out_errno.err, c[i].err);
		}
	buf_free(&b);
}

T(admit_reply_verdicts)
{
	static const struct { uint32_t v; int want; } c[] = {
		{ ADMIT_OK, 0 }, { ADMIT_TOO_MANY, 0 }, { ADMIT_TOO_MANY_IP, 0 },
		{ ADMIT_TOO_MANY_IP + 1, -1 }, { 4, -1 }, { 0x80000000u, -1 }, { UINT32_MAX, -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		buf_reset(&b);
		proto_admit_reply_enc(&b, &(struct proto_admit_reply){ c[i].v });
		expect_rc(dec_kind(K_ADMIT_REPLY, -1, &b), c[i].want, "ADMIT_REPLY verdict %u",
		    c[i].v);
		if (c[i].want == 0)
			CHECK_INT(out_reply.verdict, c[i].v);
	}
	buf_free(&b);
}

T(policy_settings_ipv6_prefix)
{
	static const struct { uint32_t prefix; int want; } c[] = {
		{ 1, 0 }, { 48, 0 }, { 64, 0 }, { 128, 0 },
		{ 0, -1 }, { 129, -1 }, { 256, -1 }, { 0x80000040u, -1 }, { UINT32_MAX, -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		buf_reset(&b);
		proto_policy_settings_enc(&b, &(struct proto_policy_settings){
		    .gen = 9, .max_conns = 100, .max_conns_per_ip = 5, .ipv6_prefix = c[i].prefix,
		    .resolver_timeout = 10 });
		expect_rc(dec_kind(K_PSET, -1, &b), c[i].want, "POLICY_SETTINGS prefix %u",
		    c[i].prefix);
		if (c[i].want == 0) {
			CHECK_INT(out_pset.gen, 9);
			CHECK_INT(out_pset.max_conns, 100);
			CHECK_INT(out_pset.max_conns_per_ip, 5);
			CHECK_INT(out_pset.ipv6_prefix, c[i].prefix);
		}
	}
	buf_free(&b);
}

/* ---- core/wire.c ------------------------------------------------------- */

T(wire_put_layout)
{
	struct buf b;
	buf_init(&b, 0);
	wire_put_u8(&b, 0xab);
	CHECK_HEX(&b, "ab");
	buf_reset(&b);
	wire_put_u32(&b, 0x01020304);
	CHECK_HEX(&b, "01020304");
	buf_reset(&b);
	wire_put_u32(&b, 0x80000000u);
	wire_put_u32(&b, 0);
	CHECK_HEX(&b, "80000000 00000000");
	buf_reset(&b);
	wire_put_u64(&b, 0x0102030405060708ull);
	CHECK_HEX(&b, "0102030405060708");
	buf_reset(&b);
	wire_put_u64(&b, 0xfffffffffffffffeull);
	CHECK_HEX(&b, "fffffffffffffffe");
	buf_reset(&b);
	wire_put_str(&b, "ab");
	CHECK_HEX(&b, "00000002 6162");
	buf_reset(&b);
	wire_put_str(&b, "");
	wire_put_str(&b, NULL);
	CHECK_HEX(&b, "00000000 00000000");

	struct proto_admit a;
	buf_reset(&b);
	set_addr(&a, "10.1.2.3", 0x1234);
	wire_put_sockaddr(&b, &a.addr, a.addrlen);
	CHECK_HEX(&b, "04 0a010203 000000000000000000000000 00001234");
	buf_reset(&b);
	set_addr(&a, "fe80::1:2", 443);
	((struct sockaddr_in6 *)&a.addr)->sin6_scope_id = 2;	/* not carried */
	wire_put_sockaddr(&b, &a.addr, a.addrlen);
	CHECK_HEX(&b, "06 fe800000000000000000000000010002 000001bb");
	buf_reset(&b);
	memset(&a, 0, sizeof a);	/* AF_UNSPEC */
	wire_put_sockaddr(&b, &a.addr, sizeof a.addr);
	CHECK_HEX(&b, "00 00000000000000000000000000000000 00000000");
	buf_free(&b);

	/* a full buffer sets the sticky error, never writes past max */
	buf_init(&b, 6);
	wire_put_u32(&b, 1);
	CHECK(!b.err);
	wire_put_u32(&b, 2);
	CHECK(b.err);
	CHECK(b.len <= 6);
	buf_free(&b);
}

T(wire_read_layout)
{
	uint8_t p[64];
	size_t n = unhex("ab 01020304 80000000 0102030405060708 fffffffffffffffe", p, sizeof p);
	struct wire_rd r;
	wire_rd_init(&r, p, n);
	CHECK_INT(wire_u8(&r), 0xab);
	CHECK_INT(wire_u32(&r), 0x01020304);
	CHECK(wire_u32(&r) == 0x80000000u);
	CHECK(wire_u64(&r) == 0x0102030405060708ull);
	CHECK(wire_u64(&r) == 0xfffffffffffffffeull);
	CHECK_INT(wire_end(&r), 0);
	CHECK(r.err == NULL);

	n = unhex("00000005 68656c6c6f 00000000", p, sizeof p);
	char s[8];
	wire_rd_init(&r, p, n);
	wire_str(&r, s, sizeof s);
	CHECK_STR(s, "hello");
	wire_str(&r, s, sizeof s);
	CHECK_STR(s, "");
	CHECK_INT(wire_end(&r), 0);

	wire_rd_init(&r, p, n);
	char *d = wire_strdup(&r, 5);
	CHECK_STR(d, "hello");
	free(d);
	d = wire_strdup(&r, 0);
	CHECK_STR(d, "");
	free(d);
	CHECK_INT(wire_end(&r), 0);

	/* nothing at all is a valid empty payload */
	wire_rd_init(&r, p, 0);
	CHECK_INT(wire_end(&r), 0);
}

T(wire_end_refuses_leftovers)
{
	static const struct { const char *hex; size_t u32s; int want; const char *err; } c[] = {
		{ "", 0, 0, NULL },
		{ "00", 0, -1, "trailing bytes" },
		{ "01020304", 1, 0, NULL },
		{ "01020304 05", 1, -1, "trailing bytes" },
		{ "01020304 050607", 1, -1, "trailing bytes" },
		{ "01020304 05060708", 1, -1, "trailing bytes" },
		{ "010203", 1, -1, "truncated" },
		{ "01020304 050607", 2, -1, "truncated" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		uint8_t p[16];
		size_t n = unhex(c[i].hex, p, sizeof p);
		struct wire_rd r;
		wire_rd_init(&r, p, n);
		for (size_t j = 0; j < c[i].u32s; j++)
			(void)wire_u32(&r);
		int was = t_cur_failed;
		t_cur_failed = 0;
		CHECK_INT(wire_end(&r), c[i].want);
		if (c[i].err == NULL)
			CHECK(r.err == NULL);
		else
			CHECK_STR(r.err, c[i].err);
		if (t_cur_failed)
			row_failed("\"%s\" read as %zu u32", c[i].hex, c[i].u32s);
		t_cur_failed |= was;
	}
}

/* After the first failed read every later read yields 0, "" or NULL, even
 * where the bytes would be there, and the first reason is kept. */
static void
check_sticky(struct wire_rd *r, const char *err)
{
	char s[16];
	memset(s, 'x', sizeof s);
	CHECK_STR(r->err, err);
	CHECK_INT(wire_u8(r), 0);
	CHECK_INT(wire_u32(r), 0);
	CHECK(wire_u64(r) == 0);
	wire_str(r, s, sizeof s);
	CHECK_STR(s, "");
	CHECK(wire_strdup(r, 100) == NULL);
	struct sockaddr_storage ss;
	socklen_t len = 99;
	memset(&ss, 0xaa, sizeof ss);
	wire_sockaddr(r, &ss, &len);
	CHECK_INT(len, 0);
	CHECK_INT(ss.ss_family, 0);
	CHECK_INT(wire_end(r), -1);
	CHECK_STR(r->err, err);
}

T(wire_sticky_error)
{
	/* plenty of bytes follow each failure: they must not be read */
	uint8_t p[128];
	memset(p, 0x01, sizeof p);
	struct wire_rd r;

	wire_rd_init(&r, p, 2);		/* a u32 from 2 bytes */
	CHECK_INT(wire_u32(&r), 0);
	check_sticky(&r, "truncated");

	wire_rd_init(&r, p, 7);		/* a u64 from 7 bytes */
	(void)wire_u64(&r);		/* its value: wire_u64_truncated_reads_0 */
	check_sticky(&r, "truncated");

	wire_rd_init(&r, p, 0);
	CHECK_INT(wire_u8(&r), 0);
	check_sticky(&r, "truncated");

	/* string length 0x01010101 > 15 */
	char s[16];
	wire_rd_init(&r, p, sizeof p);
	wire_str(&r, s, sizeof s);
	CHECK_STR(s, "");
	check_sticky(&r, "string too long");

	uint8_t q[32];
	size_t n = unhex("00000003 610062 00000001 61", q, sizeof q);
	wire_rd_init(&r, q, n);
	wire_str(&r, s, sizeof s);
	CHECK_STR(s, "");
	check_sticky(&r, "NUL in string");

	wire_rd_init(&r, q, n);
	CHECK(wire_strdup(&r, 100) == NULL);
	check_sticky(&r, "NUL in string");

	n = unhex("09 00000000000000000000000000000000 00000019 00", q, sizeof q);
	struct sockaddr_storage ss;
	socklen_t len;
	wire_rd_init(&r, q, n);
	wire_sockaddr(&r, &ss, &len);
	CHECK_INT(len, 0);
	check_sticky(&r, "bad address");
}

/* A failed read yields 0 like wire_u8 and wire_u32 do, not the half that
 * was there: a u64 cut after its high word is no number. */
T(wire_u64_truncated_reads_0)
{
	uint8_t p[8];
	memset(p, 0x01, sizeof p);
	for (size_t n = 0; n < 8; n++) {
		struct wire_rd r;
		wire_rd_init(&r, p, n);
		uint64_t v = wire_u64(&r);
		if (v != 0) {
			fprintf(stderr, "%s: wire_u64 from %zu bytes returned %#llx, expected 0\n",
			    t_cur, n, (unsigned long long)v);
			t_cur_failed = 1;
		}
		CHECK_STR(r.err, "truncated");
		CHECK_INT(wire_end(&r), -1);
	}
}

T(wire_string_limits)
{
	static const struct { const char *hex; size_t dstsz; const char *want; const char *err; } c[] = {
		{ "00000003 616263", 4, "abc", NULL },
		{ "00000004 61626364", 4, "", "string too long" },
		{ "00000000", 1, "", NULL },
		{ "00000001 61", 1, "", "string too long" },
		{ "00000001 00", 4, "", "NUL in string" },
		{ "00000003 616200", 4, "", "NUL in string" },
		{ "00000003 6162", 4, "", "truncated" },
		{ "000000", 4, "", "truncated" },
		{ "ffffffff 61", 4, "", "string too long" },
		{ "80000000 61", 4, "", "string too long" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		uint8_t p[16];
		char s[8];
		size_t n = unhex(c[i].hex, p, sizeof p);
		struct wire_rd r;
		int was = t_cur_failed;
		t_cur_failed = 0;
		wire_rd_init(&r, p, n);
		wire_str(&r, s, c[i].dstsz);
		CHECK_STR(s, c[i].want);
		CHECK_INT(wire_end(&r), c[i].err ? -1 : 0);
		if (c[i].err)
			CHECK_STR(r.err, c[i].err);
		/* wire_strdup with the same limit agrees */
		wire_rd_init(&r, p, n);
		char *d = wire_strdup(&r, c[i].dstsz - 1);
		if (c[i].err) {
			CHECK(d == NULL);
			CHECK_STR(r.err, c[i].err);
		} else {
			CHECK_STR(d, c[i].want);
		}
		free(d);
		if (t_cur_failed)
			row_failed("\"%s\" into %zu bytes", c[i].hex, c[i].dstsz);
		t_cur_failed |= was;
	}
	/* a huge length with no limit is still only a truncation, no overflow */
	uint8_t p[8];
	size_t n = unhex("ffffffff 6162", p, sizeof p);
	struct wire_rd r;
	wire_rd_init(&r, p, n);
	CHECK(wire_strdup(&r, SIZE_MAX) == NULL);
	CHECK_STR(r.err, "truncated");
}

T(wire_sockaddr_read)
{
	static const struct { const char *hex; int family; unsigned port; const char *err; } c[] = {
		{ "04 c0000201 000000000000000000000000 00000019", AF_INET, 25, NULL },
		{ "06 20010db8000000000000000000000001 0000ffff", AF_INET6, 65535, NULL },
		{ "04 00000000 000000000000000000000000 00000000", AF_INET, 0, NULL },
		{ "04 c0000201 000000000000000000000000 00010000", 0, 0, "bad address" },
		{ "06 20010db8000000000000000000000001 ffffffff", 0, 0, "bad address" },
		{ "00 c0000201 000000000000000000000000 00000019", 0, 0, "bad address" },
		{ "05 c0000201 000000000000000000000000 00000019", 0, 0, "bad address" },
		{ "02 c0000201 000000000000000000000000 00000019", 0, 0, "bad address" },
		{ "0a 20010db8000000000000000000000001 00000019", 0, 0, "bad address" },
		{ "04 c0000201 000000000000000000000000 000000", 0, 0, "truncated" },
		{ "06 20010db8", 0, 0, "truncated" },
		{ "", 0, 0, "truncated" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		uint8_t p[32];
		size_t n = unhex(c[i].hex, p, sizeof p);
		struct wire_rd r;
		struct sockaddr_storage ss;
		socklen_t len = 1234;
		int was = t_cur_failed;
		t_cur_failed = 0;
		wire_rd_init(&r, p, n);
		wire_sockaddr(&r, &ss, &len);
		CHECK_INT(ss.ss_family, c[i].family);
		if (c[i].err) {
			CHECK_INT(len, 0);
			CHECK_INT(wire_end(&r), -1);
			CHECK_STR(r.err, c[i].err);
		} else if (c[i].family == AF_INET) {
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
			CHECK_INT(len, sizeof *s4);
			CHECK_INT(ntohs(s4->sin_port), c[i].port);
			CHECK(memcmp(&s4->sin_addr, p + 1, 4) == 0);
			CHECK_INT(wire_end(&r), 0);
		} else {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
			CHECK_INT(len, sizeof *s6);
			CHECK_INT(ntohs(s6->sin6_port), c[i].port);
			CHECK(memcmp(&s6->sin6_addr, p + 1, 16) == 0);
			CHECK_INT(s6->sin6_flowinfo, 0);
			CHECK_INT(s6->sin6_scope_id, 0);
			CHECK_INT(wire_end(&r), 0);
		}
		if (t_cur_failed)
			row_failed("\"%s\"", c[i].hex);
		t_cur_failed |= was;
	}
}

/* ---- parent -> dns: DNS_ZONE --------------------------------------------- */

static void
dns_zone_sample(struct proto_dns_zone *z)
{
	memset(z, 0, sizeof *z);
	z->gen = 3;
	z->index = 1;
	z->count = 2;
	z->rate = 200;
	z->len = 4096;
	z->jlen = 77;
	snprintf(z->origin, sizeof z->origin, "example.org.");
	z->n_allow = 2;
	z->allow[0] = (struct proto_dns_prefix){ .family = 4, .len = 24, .addr = { 192, 0, 2 } };
	z->allow[1] = (struct proto_dns_prefix){ .family = 6, .len = 32,
		.addr = { 0x20, 0x01, 0x0d, 0xb8 } };
	z->n_notify = 1;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&z->notify[0];
	s4->sin_family = AF_INET;
	s4->sin_port = htons(53);
	inet_pton(AF_INET, "192.0.2.53", &s4->sin_addr);
	z->notify_len[0] = sizeof *s4;
	snprintf(z->key_name, sizeof z->key_name, "xfr-key.");
	z->key_len = 32;
	for (int k = 0; k < 32; k++)
		z->key[k] = (uint8_t)k;
}

static int
dns_zone_dec(const struct buf *b, int fd, struct proto_dns_zone *out)
{
	const struct ipc_msg m = { .type = PROTO_DNS_ZONE, .id = 0, .fd = fd, .data = b->data,
		.len = b->len };
	return proto_dns_zone_dec(&m, out);
}

T(dns_zone_message)
{
	CHECK_INT(PROTO_DNS_ZONE, 80);
	CHECK_STR(proto_role_name(ROLE_DNS), "dns");
	static struct proto_dns_zone z, out;
	struct buf b, re;
	buf_init(&b, IPC_MAX);
	buf_init(&re, IPC_MAX);
	dns_zone_sample(&z);
	proto_dns_zone_enc(&b, &z);
	/* round trip, byte for byte */
	CHECK_INT(dns_zone_dec(&b, 0, &out), 0);
	proto_dns_zone_enc(&re, &out);
	CHECK(re.len == b.len && memcmp(re.data, b.data, b.len) == 0);
	CHECK_INT(out.len, 4096);
	CHECK_INT(out.jlen, 77);
	CHECK_STR(out.origin, "example.org.");
	CHECK_INT(out.allow[1].len, 32);
	CHECK_INT(out.key_len, 32);
	CHECK_INT(out.key[31], 31);
	/* every truncation and a trailing byte refused */
	for (size_t cut = 0; cut < b.len; cut++) {
		struct buf t;
		buf_init(&t, IPC_MAX);
		buf_append(&t, b.data, cut);
		CHECK_INT(dns_zone_dec(&t, 0, &out), -1);
		buf_free(&t);
	}
	buf_putc(&b, 0);
	CHECK_INT(dns_zone_dec(&b, 0, &out), -1);
	/* a zone needs its descriptor; "no zones" has none */
	buf_reset(&b);
	proto_dns_zone_enc(&b, &z);
	CHECK_INT(dns_zone_dec(&b, -1, &out), -1);
	z.count = z.index = 0;
	buf_reset(&b);
	proto_dns_zone_enc(&b, &z);
	CHECK_INT(dns_zone_dec(&b, -1, &out), 0);
	CHECK_INT(dns_zone_dec(&b, 0, &out), -1);
	/* index within count; prefix lengths within their family; the key fits */
	dns_zone_sample(&z);
	z.index = 2;
	buf_reset(&b);
	proto_dns_zone_enc(&b, &z);
	CHECK_INT(dns_zone_dec(&b, 0, &out), -1);
	dns_zone_sample(&z);
	z.allow[0].len = 33;
	buf_reset(&b);
	proto_dns_zone_enc(&b, &z);
	CHECK_INT(dns_zone_dec(&b, 0, &out), -1);
	dns_zone_sample(&z);
	z.allow[1].family = 5;
	buf_reset(&b);
	proto_dns_zone_enc(&b, &z);
	CHECK_INT(dns_zone_dec(&b, 0, &out), -1);
	dns_zone_sample(&z);
	buf_reset(&b);
	proto_dns_zone_enc(&b, &z);
	/* key_len is the u32 before the key's 32 bytes at the end */
	b.data[b.len - 33] = 65;
	CHECK_INT(dns_zone_dec(&b, 0, &out), -1);
	buf_free(&b);
	buf_free(&re);
}

int
main(void)
{
	if (pipe(test_pipe) != 0) {
		perror("pipe");
		return 2;
	}
	init_values();
	RUN(catalog_type_numbers);
	RUN(dns_zone_message);
	RUN(roundtrip_every_message);
	RUN(golden_encodings);
	RUN(report_bounds);
	RUN(queue_settings_max_open);
	RUN(mailboxes_bounds);
	RUN(every_truncation_refused);
	RUN(trailing_byte_refused);
	RUN(missing_fd_refused);
	RUN(empty_messages_refuse_any_payload);
	RUN(hostname_bounds);
	RUN(qid_must_be_a_queue_id);
	RUN(deliver_counts_flags_and_repeats);
	RUN(deliver_done_counts_and_texts);
	RUN(peer_role_and_fd);
	RUN(admit_family_and_port);
	RUN(errno_must_be_an_error);
	RUN(admit_reply_verdicts);
	RUN(policy_settings_ipv6_prefix);
	RUN(wire_put_layout);
	RUN(wire_read_layout);
	RUN(wire_end_refuses_leftovers);
	RUN(wire_sticky_error);
	RUN(wire_u64_truncated_reads_0);
	RUN(wire_string_limits);
	RUN(wire_sockaddr_read);
	close(test_pipe[0]);
	close(test_pipe[1]);
	return t_done("proto");
}

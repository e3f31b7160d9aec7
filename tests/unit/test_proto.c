/*
 * Unit tests for core/wire.c and the IPC catalog (src/proto/): the literal
 * byte layout, a round trip through every encode/decode pair, and the
 * payloads every decoder must refuse (truncated, trailing bytes, strings
 * too long or holding a NUL, counts and numbers out of range, a repeated
 * recipient, a missing descriptor).  The inbound defences: DNSBL,
 * DNSBL_REPLY, GREY, GREY_REPLY, EVENT (smtp <-> policy), POLICY_CTL and
 * its reply (parent <-> policy) and the defence fields of POLICY_SETTINGS
 * (networks, blocklists, greylisting and ban numbers).
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
#include "dns/lookup.h"
#include "mail/spool.h"
#include "msgauth/spf.h"
#include "policy/access.h"
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
static struct proto_spf out_spf;
static struct proto_spf_reply out_spf_reply;
static struct proto_rdns_reply out_rdns;
static struct proto_lookup out_lookup;
/* LOOKUP_REPLY: the records belong to out_lr until the next decode */
static struct lookup out_lr;
static uint32_t out_lr_idx;
static bool out_lr_held;
static struct proto_access out_access;
static struct proto_access_reply out_access_reply;
static struct proto_dnsbl out_dnsbl;
static struct proto_dnsbl_reply out_dnsbl_reply;
static struct proto_grey out_grey;
static struct proto_grey_reply out_grey_reply;
static struct proto_event out_event;
static struct proto_policy_ctl out_ctl;
/* POLICY_CTL_REPLY: the body belongs to out_ctl_reply until the next decode */
static struct proto_policy_ctl_reply out_ctl_reply;
static bool out_ctl_reply_held;

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
static int dec_spf(const struct ipc_msg *m) { return proto_spf_dec(m, &out_spf); }
static int dec_spf_reply(const struct ipc_msg *m) { return proto_spf_reply_dec(m, &out_spf_reply); }
static int dec_rdns_reply(const struct ipc_msg *m) { return proto_rdns_reply_dec(m, &out_rdns); }
static int dec_lookup(const struct ipc_msg *m) { return proto_lookup_dec(m, &out_lookup); }
static int dec_access(const struct ipc_msg *m) { return proto_access_dec(m, &out_access); }
static int
dec_access_reply(const struct ipc_msg *m)
{
	return proto_access_reply_dec(m, &out_access_reply);
}
static int dec_dnsbl(const struct ipc_msg *m) { return proto_dnsbl_dec(m, &out_dnsbl); }
static int
dec_dnsbl_reply(const struct ipc_msg *m)
{
	return proto_dnsbl_reply_dec(m, &out_dnsbl_reply);
}
static int dec_grey(const struct ipc_msg *m) { return proto_grey_dec(m, &out_grey); }
static int
dec_grey_reply(const struct ipc_msg *m)
{
	return proto_grey_reply_dec(m, &out_grey_reply);
}
static int dec_event(const struct ipc_msg *m) { return proto_event_dec(m, &out_event); }
static int dec_ctl(const struct ipc_msg *m) { return proto_policy_ctl_dec(m, &out_ctl); }

static void
release_ctl_reply(void)
{
	if (out_ctl_reply_held)
		free(out_ctl_reply.body);
	out_ctl_reply.body = NULL;
	out_ctl_reply_held = false;
}

/* After a failure there is nothing to free (the decoder's contract). */
static int
dec_ctl_reply(const struct ipc_msg *m)
{
	release_ctl_reply();
	int rc = proto_policy_ctl_reply_dec(m, &out_ctl_reply);
	out_ctl_reply_held = rc == 0;
	if (rc == 0 && out_ctl_reply.body == NULL)
		abort();	/* the contract: a body on success */
	return rc;
}

static void
release_lr(void)
{
	if (out_lr_held)
		lookup_clear(&out_lr);
	out_lr_held = false;
}

/* After a failure there is nothing to free (the decoder's contract). */
static int
dec_lookup_reply(const struct ipc_msg *m)
{
	release_lr();
	int rc = proto_lookup_reply_dec(m, &out_lr_idx, &out_lr);
	out_lr_held = rc == 0;
	return rc;
}

enum kind_id {
	K_STOP, K_PEER, K_QSET, K_DSET, K_PSET, K_REPORT, K_MBOX,
	K_OPEN, K_OPEN_OK, K_OPEN_FAIL, K_COMMIT, K_COMMIT_OK, K_COMMIT_FAIL, K_ABORT,
	K_SPILL, K_SPILL_OK, K_SPILL_FAIL,
	K_DELIVER, K_DONE,
	K_ADMIT, K_ADMIT_REPLY, K_ADMIT_END, K_ADMIT_HOLD,
	K_SPF, K_SPF_REPLY, K_RDNS, K_RDNS_REPLY, K_LOOKUP, K_LOOKUP_REPLY,
	K_ACCESS, K_ACCESS_REPLY,
	K_DNSBL, K_DNSBL_REPLY, K_GREY, K_GREY_REPLY, K_EVENT,
	K_POLICY_CTL, K_POLICY_CTL_REPLY,
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
	[K_SPILL] = { "SPILL", PROTO_SPILL, false, dec_qid },
	[K_SPILL_OK] = { "SPILL_OK", PROTO_SPILL_OK, true, dec_qid },
	[K_SPILL_FAIL] = { "SPILL_FAIL", PROTO_SPILL_FAIL, false, dec_errno },
	[K_DELIVER] = { "DELIVER", PROTO_DELIVER, true, dec_deliver },
	[K_DONE] = { "DELIVER_DONE", PROTO_DELIVER_DONE, false, dec_done },
	[K_ADMIT] = { "ADMIT", PROTO_ADMIT, false, dec_admit },
	[K_ADMIT_REPLY] = { "ADMIT_REPLY", PROTO_ADMIT_REPLY, false, dec_reply },
	[K_ADMIT_END] = { "ADMIT_END", PROTO_ADMIT_END, false, dec_empty },
	[K_ADMIT_HOLD] = { "ADMIT_HOLD", PROTO_ADMIT_HOLD, false, dec_admit },
	[K_SPF] = { "SPF", PROTO_SPF, false, dec_spf },
	[K_SPF_REPLY] = { "SPF_REPLY", PROTO_SPF_REPLY, false, dec_spf_reply },
	[K_RDNS] = { "RDNS", PROTO_RDNS, false, dec_admit },
	[K_RDNS_REPLY] = { "RDNS_REPLY", PROTO_RDNS_REPLY, false, dec_rdns_reply },
	[K_LOOKUP] = { "LOOKUP", PROTO_LOOKUP, false, dec_lookup },
	[K_LOOKUP_REPLY] = { "LOOKUP_REPLY", PROTO_LOOKUP_REPLY, false, dec_lookup_reply },
	[K_ACCESS] = { "ACCESS", PROTO_ACCESS, false, dec_access },
	[K_ACCESS_REPLY] = { "ACCESS_REPLY", PROTO_ACCESS_REPLY, false, dec_access_reply },
	[K_DNSBL] = { "DNSBL", PROTO_DNSBL, false, dec_dnsbl },
	[K_DNSBL_REPLY] = { "DNSBL_REPLY", PROTO_DNSBL_REPLY, false, dec_dnsbl_reply },
	[K_GREY] = { "GREY", PROTO_GREY, false, dec_grey },
	[K_GREY_REPLY] = { "GREY_REPLY", PROTO_GREY_REPLY, false, dec_grey_reply },
	[K_EVENT] = { "EVENT", PROTO_EVENT, false, dec_event },
	[K_POLICY_CTL] = { "POLICY_CTL", PROTO_POLICY_CTL, false, dec_ctl },
	[K_POLICY_CTL_REPLY] = { "POLICY_CTL_REPLY", PROTO_POLICY_CTL_REPLY, false,
	    dec_ctl_reply },
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
	{ 1, "mx.example.org", 1u << 30 }, { 0, "", 0 },
	{ UINT32_MAX, "" /* 253 bytes, init_values */, UINT64_MAX },
};
/* the defence fields (statedir and after) are zero in the first three:
 * empty lists, everything off; samples 3 and 4 have them (init_values),
 * and policy_settings_nets, _blocklists and _numbers refuse what is out
 * of range */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static struct proto_policy_settings v_pset[] = {
	{ 1, 100, 10, 64, 1, "127.0.0.1@2053 ::1", "", 10, "mx.example.org", "" },
	{ 0, 0, 0, 1, 0, "", "", 1, "", "/etc/talon/access" },
	{ UINT32_MAX, UINT32_MAX, UINT32_MAX, 128, 2, "", "/usr/share/dns/root.key", 120, "a",
	  "" },
	{ 0 },		/* defences, the golden one: init_pset_values */
	{ 0 },		/* every list and text at its maximum: init_pset_values */
};
#pragma GCC diagnostic pop
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
static struct proto_admit_reply v_reply[] = {
	{ ADMIT_OK }, { ADMIT_TOO_MANY }, { ADMIT_TOO_MANY_IP }, { ADMIT_BANNED }, { ADMIT_RATE },
};
static struct proto_spf v_spf[5];			/* init_values */
static struct proto_spf_reply v_spf_reply[] = {
	{ SPF_PASS, "example.org", "ip4:192.0.2.0/24", "", "" },
	{ SPF_NONE, "", "", "", "" },
	{ SPF_PERMERROR, "", "", "", "" /* every text at its maximum, init_values */ },
	{ SPF_FAIL, "example.com", "-all",
	  "Not authorized: see https://example.com/?ip=192.0.2.1 ~", "" },
	{ SPF_TEMPERROR, "example.net", "", "", "TXT example.net: timeout" },
};
static struct proto_rdns_reply v_rdns[] = {
	{ RDNS_PASS, "mail.example.org" }, { RDNS_FAIL, "" }, { RDNS_TEMP, "" },
	{ RDNS_PASS, "" /* 255 bytes, init_values */ }, { RDNS_PASS, "a" },
	{ RDNS_PASS, "xn--bcher-kva.example" },
};
static struct proto_lookup v_lookup[5];		/* init_values */
/* LOOKUP_REPLY: the answer to question idx */
static struct lookup_reply_sample {
	uint32_t idx;
	struct lookup l;
} v_lr[7];						/* init_values */
/* proto_lookup_reply_enc keeps records while they fit this budget of
 * IPC_MAX - 2048 bytes, 8 bytes of framing each (smtp_policy.c) */
#define LR_BUDGET	PROTO_LOOKUP_REPLY_BUDGET
static struct proto_access v_access[] = {
	{ ACCESS_CONNECT, 0, "192.0.2.1" },
	{ ACCESS_FROM, 0, "alice@example.org" },
	{ ACCESS_TO, 1, "Postmaster" },
	{ ACCESS_SPAM, 1, "bob+news@example.org" },
	{ ACCESS_CONNECT, 0, "2001:db8::1" },
	{ ACCESS_CONNECT, 0, "mail.example.net" },
	{ ACCESS_FROM, 0, "" },
	{ ACCESS_TO, 0, "j\xc3\xbcrgen@b\xc3\xbc" "cher.example" },	/* SMTPUTF8 */
	{ ACCESS_TO, 1, "\"a b~\"@[192.0.2.1]" },
	{ ACCESS_SPAM, 0, "" /* PROTO_SENDER_MAX bytes, init_values */ },
};
static struct proto_access_reply v_access_reply[] = {
	{ ACCESS_NONE, 0, "", "", "" },
	{ ACCESS_OK, 0, "", "", "/etc/talon/access:3 Connect:192.0.2" },
	{ ACCESS_REJECT, 550, "5.7.1", "Access denied",
	  "/etc/talon/access:7 From:spam@example.com" },
	{ ACCESS_ERROR, 451, "4.7.1", "Greylisted, \"come back\" later ~", "access:12 198.51.100" },
	{ ACCESS_RELAY, 0, "", "", "access:1 To:example.org" },
	{ ACCESS_DISCARD, 0, "", "", "/srv/\xc3\xa9t\xc3\xa9/access:2 From:x@y.example" },
	{ ACCESS_SKIP, 0, "", "", "" },
	{ ACCESS_FRIEND, 0, "", "", "access:4 Spam:friend@example.org" },
	{ ACCESS_HATER, 0, "", "", "access:5 Spam:example.org" },
	{ ACCESS_ERROR, 400, "4.0.0", "x", "" },
	{ ACCESS_REJECT, 599, "", "", "" },
	/* a code on an action that does not refuse is carried as it is */
	{ ACCESS_OK, 450, "", "", "" },
	{ ACCESS_ERROR, 554, "", "", "" /* every text at its maximum, init_values */ },
};
static struct proto_dnsbl v_dnsbl[] = {
	{ 0x0102030405060708ull, DNSBL_CLIENT | DNSBL_HELO | DNSBL_FROM, "mx.example.net",
	  "example.org" },
	{ 0, DNSBL_CLIENT, "", "" },
	/* the policy process checks the domains itself: any text without
	 * control bytes passes here */
	{ UINT64_MAX, DNSBL_HELO, "[192.0.2.1]", "" },
	{ 1, DNSBL_FROM, "", "b\xc3\xbc" "cher.example" },
	{ 2, DNSBL_HELO | DNSBL_FROM, "", "" /* 255 bytes each, init_values */ },
	{ 3, DNSBL_CLIENT | DNSBL_FROM, "a b\\c~", "\"quoted\"" },
};
static struct proto_dnsbl_reply v_dnsbl_reply[] = {
	{ DNSBL_NOT_LISTED, 0, 0, 0, 0, "", "", 0 },
	{ DNSBL_LISTED, 2, 0x7f000002, DNSBL_CLIENT, 550, "5.7.1", "Mail from 192.0.2.1 refused",
	  1 },
	{ DNSBL_LISTED, 15, 0x7f000004, DNSBL_HELO, 451, "4.7.1",
	  "Rejected: mx.example.net listed at dbl.example", 0 },
	{ DNSBL_LISTED, 0, 0x7f0000ff, DNSBL_FROM, 400, "", "x", UINT32_MAX },
	/* every list failed to answer: not listed (fail open), counted */
	{ DNSBL_NOT_LISTED, 0, 0, 0, 0, "", "", 16 },
	{ DNSBL_LISTED, 1, UINT32_MAX, DNSBL_CLIENT, 599, "",
	  "" /* esc and text at their maximum, init_values */, 3 },
};
static struct proto_grey v_grey[] = {
	{ 0x0102030405060708ull, "alice@example.org", "bob@example.net" },
	{ 0, "", "postmaster" },	/* the null sender */
	{ UINT64_MAX, "j\xc3\xbcrgen@b\xc3\xbc" "cher.example", "\"a b~\"@[192.0.2.1]" },
	{ 5, "", "" /* PROTO_SENDER_MAX bytes each, init_values */ },
};
static struct proto_grey_reply v_grey_reply[] = {
	{ GREY_R_PASS, 0, "passed", "192.0.2.0/24" },
	{ GREY_R_WAIT, 300, "new", "2001:db8::/64" },
	{ GREY_R_ERROR, 0, "", "" },
	{ GREY_R_WAIT, UINT32_MAX, "", "" /* 31 and 63 bytes, init_values */ },
};
static struct proto_event v_event[] = {
	{ 0x0102030405060708ull, 0 }, { 0, 7 }, { UINT64_MAX, 3 },
};
static struct proto_policy_ctl v_ctl[] = {
	{ "ban list" }, { "" }, { "ban add 192.0.2.0/24 3600" },
	{ "" /* 511 bytes, init_values */ },
};
/* POLICY_CTL_REPLY: ok and a body of len bytes: printable ASCII, tab and
 * newline (it goes to an admin's terminal); others are refused (below) */
static char ctl_body[PROTO_CTL_BODY_MAX + 1];
static struct ctl_reply_sample {
	uint32_t ok;
	const char *body;
	size_t len;
} v_ctl_reply[] = {
	{ 1, "ok\n", 3 },
	{ 0, "", 0 },
	{ 0, "ban: \"x\" is not an address\n", 27 },
	{ 1, "192.0.2.7\t3600\trelay\n~", 22 },
	{ 1, ctl_body, PROTO_CTL_BODY_MAX },	/* init_values */
};

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

/* n bytes of label text, labels of at most 63 separated by dots */
static void
fill_name(char *dst, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (i % 64 == 63) ? '.' : (char)('a' + (seed + i) % 26);
	dst[n] = '\0';
}

static void
set_spf(struct proto_spf *v, const char *ip, uint16_t port, const char *sender,
    const char *helo)
{
	struct proto_admit a;
	set_addr(&a, ip, port);
	memset(v, 0, sizeof *v);
	v->addr = a.addr;
	v->addrlen = a.addrlen;
	snprintf(v->sender, sizeof v->sender, "%s", sender);
	snprintf(v->helo, sizeof v->helo, "%s", helo);
}

/* The longest question in lookup form: 4 labels (63, 63, 63, 61 octets,
 * 255 on the wire), every octet written as \DDD: 1003 characters. */
static void
longest_escaped_name(char *dst)
{
	static const size_t labels[] = { 63, 63, 63, 61 };
	size_t o = 0;
	for (size_t k = 0; k < NELEM(labels); k++) {
		if (k > 0)
			dst[o++] = '.';
		for (size_t i = 0; i < labels[k]; i++, o += 4)
			snprintf(dst + o, 5, "\\%03u", (unsigned)(128 + (i + k) % 128));
	}
	dst[o] = '\0';
}

static void
set_question(struct proto_lookup *v, uint32_t i, const char *name)
{
	v->type[i] = LOOKUP_TXT;
	snprintf(v->name[i], sizeof v->name[i], "%s", name);
}

static void
init_lookup_values(void)
{
	char name[LOOKUP_NAME_MAX + 1];

	v_lookup[0].n = 1;
	set_question(&v_lookup[0], 0, "_dmarc.example.org");
	v_lookup[1].n = PROTO_LOOKUP_MAX;
	for (uint32_t i = 0; i < PROTO_LOOKUP_MAX; i++) {
		snprintf(name, sizeof name, "s%u._domainkey.example%u.org", i, i * 7);
		set_question(&v_lookup[1], i, name);
	}
	/* the longest name: 255 octets on the wire */
	v_lookup[2].n = 1;
	fill_name(name, 253, 5);
	set_question(&v_lookup[2], 0, name);
	/* escaped octets a DKIM d= or a UTF-8 From domain bring in */
	v_lookup[3].n = 4;
	set_question(&v_lookup[3], 0, "s._domainkey.b\\195\\188cher.example");
	set_question(&v_lookup[3], 1, "_dmarc.a\\046b.example");
	set_question(&v_lookup[3], 2, "x\\032y.example");
	set_question(&v_lookup[3], 3, "a-b_c.example");
	v_lookup[4].n = 2;
	longest_escaped_name(name);
	set_question(&v_lookup[4], 0, name);
	set_question(&v_lookup[4], 1, "example");

	struct lookup *l = &v_lr[0].l;
	v_lr[0].idx = 0;
	lookup_init(l, LOOKUP_TXT, "_dmarc.example.org");
	l->ttl = 3600;
	lookup_add(l, 0, "v=DMARC1; p=reject", 18);

	v_lr[1].idx = PROTO_LOOKUP_MAX - 1;
	l = &v_lr[1].l;
	lookup_init(l, LOOKUP_TXT, "sel._domainkey.example.org");
	l->status = LOOKUP_NXDOMAIN;
	l->sec = LOOKUP_SECURE;

	v_lr[2].idx = 7;
	l = &v_lr[2].l;
	lookup_init(l, LOOKUP_TXT, "example.org");
	l->status = LOOKUP_TEMPFAIL;
	l->sec = LOOKUP_BOGUS;
	l->ttl = UINT32_MAX;
	l->why = "DNSSEC bogus";

	/* all LOOKUP_RR_MAX records, 0 to 695 bytes, NUL bytes inside */
	v_lr[3].idx = 1;
	l = &v_lr[3].l;
	lookup_init(l, LOOKUP_MX, "example.org");
	l->ttl = 300;
	static uint8_t data[LR_BUDGET];
	for (size_t i = 0; i < LOOKUP_RR_MAX; i++) {
		size_t len = (i * 37) % 700;
		for (size_t j = 0; j < len; j++)
			data[j] = (uint8_t)(i + j * 7);
		lookup_add(l, i + 1 == LOOKUP_RR_MAX ? UINT16_MAX : (uint16_t)(i * 1000), data,
		    len);
	}

	v_lr[4].idx = 2;
	l = &v_lr[4].l;
	longest_escaped_name(name);
	lookup_init(l, LOOKUP_TXT, name);
	l->status = LOOKUP_TEMPFAIL;
	l->ttl = 1;
	l->why = "timeout";

	/* one record that fills the budget exactly: still not cut */
	v_lr[5].idx = 3;
	l = &v_lr[5].l;
	lookup_init(l, LOOKUP_TXT, "big.example");
	for (size_t j = 0; j < LR_BUDGET - 8; j++)
		data[j] = (uint8_t)(j % 251);
	lookup_add(l, 0, data, LR_BUDGET - 8);

	v_lr[6].idx = 4;
	l = &v_lr[6].l;
	lookup_init(l, UINT16_MAX, "");
	lookup_add(l, 1, "\0\0\0\0", 4);
	lookup_add(l, 2, "", 0);
}

static struct prefix
pfx(const char *text)
{
	struct prefix p;
	if (!prefix_parse(text, &p))
		abort();	/* a typo in the test itself */
	return p;
}

static void
set_bl(struct proto_bl *l, const char *zone, uint32_t what, uint32_t code, const char *esc,
    const char *text)
{
	memset(l, 0, sizeof *l);
	snprintf(l->zone, sizeof l->zone, "%s", zone);
	l->what = what;
	l->code = code;
	snprintf(l->esc, sizeof l->esc, "%s", esc);
	snprintf(l->text, sizeof l->text, "%s", text);
}

/* Sample 3: the defences as a small config gives them (the golden one);
 * sample 4: every list full, every text at its field's size - 1. */
static void
init_pset_values(void)
{
	struct proto_policy_settings *v = &v_pset[3];
	memset(v, 0, sizeof *v);
	v->gen = 2;
	v->max_conns = 100;
	v->max_conns_per_ip = 10;
	v->ipv6_prefix = 64;
	v->resolver = 1;
	snprintf(v->forward, sizeof v->forward, "127.0.0.1@2053");
	v->resolver_timeout = 10;
	snprintf(v->hostname, sizeof v->hostname, "mx.example.org");
	snprintf(v->statedir, sizeof v->statedir, "/var/lib/talon/policy");
	v->n_nets = 2;
	v->nets[0] = pfx("192.0.2.0/24");
	v->nets[1] = pfx("2001:db8::/32");
	v->n_bls = 2;
	set_bl(&v->bls[0], "zen.example", DNSBL_CLIENT, 550, "5.7.1", "Mail from {ip} refused");
	v->bls[0].n_codes = 2;
	v->bls[0].codes[0] = 0x7f000002;
	v->bls[0].codes[1] = 0x7f000004;
	set_bl(&v->bls[1], "dbl.example", DNSBL_HELO | DNSBL_FROM, 451, "4.7.1", "");
	v->greylist = 2;
	v->grey_delay = 300;
	v->grey_window = 14400;
	v->grey_keep = 3024000;
	v->grey_auto_allow = 5;
	v->grey_v4_prefix = 24;
	v->grey_v6_prefix = 64;
	v->auto_ban = 1;
	v->ban_threshold = 10;
	v->ban_window = 86400;
	v->ban_time = 3600;
	v->ban_time_max = 2592000;
	v->conn_rate = 30;
	for (size_t i = 0; i < PROTO_BAN_EVENTS; i++)
		v->ban_points[i] = UINT32_MAX;
	v->ban_points[0] = 5;
	v->ban_points[PROTO_BAN_EVENTS - 1] = 0;

	v = &v_pset[4];
	memset(v, 0, sizeof *v);
	v->gen = UINT32_MAX;
	v->max_conns = v->max_conns_per_ip = UINT32_MAX;
	v->ipv6_prefix = 1;
	v->resolver = 2;
	fill_text(v->forward, sizeof v->forward - 1, 20);
	fill_text(v->anchor, sizeof v->anchor - 1, 21);
	v->resolver_timeout = 120;
	fill_text(v->hostname, sizeof v->hostname - 1, 22);
	fill_text(v->access, sizeof v->access - 1, 23);
	fill_text(v->statedir, sizeof v->statedir - 1, 24);
	v->n_nets = PROTO_NETS_MAX;
	for (uint32_t i = 0; i < PROTO_NETS_MAX; i++) {
		struct prefix *p = &v->nets[i];
		*p = pfx(i % 2 ? "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" : "198.51.100.255");
		p->addr[1] ^= (uint8_t)i;
		prefix_truncate(p, i % 2 ? i % 129 : i % 33);
	}
	v->nets[1] = pfx("2001:db8::1");	/* a /128: the length byte's top bit */
	v->nets[2] = pfx("0.0.0.0/0");
	v->nets[3] = pfx("::/0");
	v->n_bls = PROTO_BL_MAX;
	for (uint32_t i = 0; i < PROTO_BL_MAX; i++) {
		struct proto_bl *l = &v->bls[i];
		memset(l, 0, sizeof *l);
		fill_name(l->zone, sizeof l->zone - 1, i);
		l->what = 1 + i % 7;
		l->n_codes = 16;
		for (uint32_t k = 0; k < 16; k++)
			l->codes[k] = 0x7f000000u | i << 8 | k;
		l->code = 400 + i * 13;
		fill_text(l->esc, sizeof l->esc - 1, i);
		fill_text(l->text, sizeof l->text - 1, i);
		memcpy(l->text, "{ip} $&{client_addr} {domain}", 29);
	}
	v->greylist = 1;
	v->grey_delay = v->grey_window = v->grey_keep = v->grey_auto_allow = UINT32_MAX;
	v->grey_v4_prefix = 32;
	v->grey_v6_prefix = 128;
	v->auto_ban = 1;
	v->ban_threshold = v->ban_window = v->ban_time = v->ban_time_max = UINT32_MAX;
	v->conn_rate = UINT32_MAX;
	for (size_t i = 0; i < PROTO_BAN_EVENTS; i++)
		v->ban_points[i] = (uint32_t)i * 1000000;
}

static void
init_defence_values(void)
{
	init_pset_values();
	fill_name(v_dnsbl[4].helo, sizeof v_dnsbl[4].helo - 1, 30);
	fill_name(v_dnsbl[4].from, sizeof v_dnsbl[4].from - 1, 31);
	struct proto_dnsbl_reply *r = &v_dnsbl_reply[NELEM(v_dnsbl_reply) - 1];
	memcpy(r->esc, "5.7.999 ~ !", sizeof r->esc);	/* 11 bytes */
	fill_text(r->text, sizeof r->text - 1, 32);
	r->text[0] = ' ';
	r->text[sizeof r->text - 2] = '~';
	fill_text(v_grey[3].sender, PROTO_SENDER_MAX, 33);
	v_grey[3].sender[10] = '@';
	fill_text(v_grey[3].rcpt, PROTO_SENDER_MAX, 34);
	v_grey[3].rcpt[PROTO_SENDER_MAX - 20] = '@';
	fill_text(v_grey_reply[3].state, sizeof v_grey_reply[3].state - 1, 35);
	fill_text(v_grey_reply[3].net, sizeof v_grey_reply[3].net - 1, 36);
	fill_text(v_ctl[3].line, sizeof v_ctl[3].line - 1, 37);
	/* printable lines of text */
	for (size_t i = 0; i < PROTO_CTL_BODY_MAX; i++)
		ctl_body[i] = i % 97 == 96 ? '\n' : (char)(0x20 + i % 95);
}

static void
free_values(void)
{
	for (size_t i = 0; i < NELEM(v_lr); i++)
		lookup_clear(&v_lr[i].l);
	release_lr();
	release_ctl_reply();
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

	char sender[PROTO_SENDER_MAX + 1], helo[PROTO_HELO_MAX + 1];
	set_spf(&v_spf[0], "192.0.2.1", 25, "alice@example.org", "mx.example.net");
	set_spf(&v_spf[1], "2001:db8::1", 65535, "", "");
	fill_text(sender, PROTO_SENDER_MAX, 4);
	sender[PROTO_SENDER_MAX / 2] = '@';
	fill_text(helo, PROTO_HELO_MAX, 5);
	set_spf(&v_spf[2], "::ffff:192.0.2.1", 587, sender, helo);
	set_spf(&v_spf[3], "0.0.0.0", 0, "j\xc3\xbcrgen@b\xc3\xbc" "cher.example",
	    "[IPv6:2001:db8::1]");
	set_spf(&v_spf[4], "198.51.100.255", 2525, "\"a b~\"@example.org", "[192.0.2.1]");

	fill_text(v_spf_reply[2].domain, sizeof v_spf_reply[2].domain - 1, 6);
	fill_text(v_spf_reply[2].mechanism, sizeof v_spf_reply[2].mechanism - 1, 7);
	fill_text(v_spf_reply[2].explanation, sizeof v_spf_reply[2].explanation - 1, 8);
	fill_text(v_spf_reply[2].problem, sizeof v_spf_reply[2].problem - 1, 9);
	/* 4 labels of 63: the longest name (255 octets) */
	fill_name(v_rdns[3].name, 255, 10);

	init_lookup_values();

	fill_text(v_access[9].key, PROTO_SENDER_MAX, 11);
	v_access[9].key[PROTO_SENDER_MAX / 2] = '@';
	struct proto_access_reply *ar = &v_access_reply[NELEM(v_access_reply) - 1];
	memcpy(ar->esc, "5.7.999 ~ !", sizeof ar->esc);	/* 11 bytes */
	fill_text(ar->text, sizeof ar->text - 1, 12);
	ar->text[0] = ' ';
	ar->text[sizeof ar->text - 2] = '~';
	fill_text(ar->where, sizeof ar->where - 1, 13);
	ar->where[3] = '\xff';

	init_defence_values();
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
	case K_OPEN_OK: case K_ABORT: case K_SPILL: case K_SPILL_OK: ENC(v_qid, proto_qid_enc); break;
	case K_OPEN_FAIL: case K_COMMIT_FAIL: case K_SPILL_FAIL: ENC(v_errno, proto_errno_enc); break;
	case K_COMMIT: ENC(v_commit, proto_commit_enc); break;
	case K_DELIVER: ENC(v_deliver, proto_deliver_enc); break;
	case K_DONE: ENC(v_done, proto_deliver_done_enc); break;
	case K_ADMIT: case K_ADMIT_HOLD: ENC(v_admit, proto_admit_enc); break;
	case K_ADMIT_REPLY: ENC(v_reply, proto_admit_reply_enc); break;
	case K_SPF: ENC(v_spf, proto_spf_enc); break;
	case K_SPF_REPLY: ENC(v_spf_reply, proto_spf_reply_enc); break;
	case K_RDNS: ENC(v_admit, proto_admit_enc); break;
	case K_RDNS_REPLY: ENC(v_rdns, proto_rdns_reply_enc); break;
	case K_LOOKUP: ENC(v_lookup, proto_lookup_enc); break;
	case K_LOOKUP_REPLY:
		if (i >= NELEM(v_lr))
			return false;
		proto_lookup_reply_enc(b, v_lr[i].idx, &v_lr[i].l);
		break;
	case K_ACCESS: ENC(v_access, proto_access_enc); break;
	case K_ACCESS_REPLY: ENC(v_access_reply, proto_access_reply_enc); break;
	case K_DNSBL: ENC(v_dnsbl, proto_dnsbl_enc); break;
	case K_DNSBL_REPLY: ENC(v_dnsbl_reply, proto_dnsbl_reply_enc); break;
	case K_GREY: ENC(v_grey, proto_grey_enc); break;
	case K_GREY_REPLY: ENC(v_grey_reply, proto_grey_reply_enc); break;
	case K_EVENT: ENC(v_event, proto_event_enc); break;
	case K_POLICY_CTL: ENC(v_ctl, proto_policy_ctl_enc); break;
	case K_POLICY_CTL_REPLY:
		if (i >= NELEM(v_ctl_reply))
			return false;
		proto_policy_ctl_reply_enc(b, v_ctl_reply[i].ok, v_ctl_reply[i].body,
		    v_ctl_reply[i].len);
		break;
	case K_COUNT: return false;
	}
#undef ENC
	if (b->err)
		abort();
	return true;
}

/* A decoded answer equals the one encoded, record for record. */
static void
check_lookup(const struct lookup *got, const struct lookup *want)
{
	CHECK_INT(got->type, want->type);
	CHECK_STR(got->name, want->name);
	CHECK_INT(got->status, want->status);
	CHECK_INT(got->sec, want->sec);
	CHECK(got->ttl == want->ttl);
	if (want->why == NULL)
		CHECK(got->why == NULL);
	else
		CHECK_STR(got->why, want->why);
	CHECK_INT(got->n, want->n);
	for (size_t j = 0; j < got->n && j < want->n; j++) {
		CHECK_INT(got->rr[j].pref, want->rr[j].pref);
		CHECK_INT(got->rr[j].len, want->rr[j].len);
		CHECK(memcmp(got->rr[j].data, want->rr[j].data, want->rr[j].len) == 0);
		CHECK_INT(got->rr[j].data[got->rr[j].len], 0);	/* NUL-terminated */
	}
}

/* The defence fields of POLICY_SETTINGS, list by list. */
static void
check_pset_defences(const struct proto_policy_settings *got,
    const struct proto_policy_settings *want)
{
	CHECK_STR(got->statedir, want->statedir);
	CHECK_INT(got->n_nets, want->n_nets);
	for (uint32_t j = 0; j < got->n_nets && j < want->n_nets; j++) {
		CHECK_INT(got->nets[j].family, want->nets[j].family);
		CHECK_INT(got->nets[j].len, want->nets[j].len);
		CHECK(memcmp(got->nets[j].addr, want->nets[j].addr, 16) == 0);
	}
	CHECK_INT(got->n_bls, want->n_bls);
	for (uint32_t j = 0; j < got->n_bls && j < want->n_bls; j++) {
		const struct proto_bl *g = &got->bls[j], *w = &want->bls[j];
		CHECK_STR(g->zone, w->zone);
		CHECK_INT(g->what, w->what);
		CHECK_INT(g->n_codes, w->n_codes);
		for (uint32_t k = 0; k < g->n_codes && k < w->n_codes; k++)
			CHECK_INT(g->codes[k], w->codes[k]);
		CHECK_INT(g->code, w->code);
		CHECK_STR(g->esc, w->esc);
		CHECK_STR(g->text, w->text);
	}
	const uint32_t g13[] = { got->greylist, got->grey_delay, got->grey_window, got->grey_keep,
		got->grey_auto_allow, got->grey_v4_prefix, got->grey_v6_prefix, got->auto_ban,
		got->ban_threshold, got->ban_window, got->ban_time, got->ban_time_max,
		got->conn_rate };
	const uint32_t w13[] = { want->greylist, want->grey_delay, want->grey_window,
		want->grey_keep, want->grey_auto_allow, want->grey_v4_prefix, want->grey_v6_prefix,
		want->auto_ban, want->ban_threshold, want->ban_window, want->ban_time,
		want->ban_time_max, want->conn_rate };
	for (size_t j = 0; j < NELEM(g13); j++)
		CHECK_INT(g13[j], w13[j]);
	for (size_t j = 0; j < PROTO_BAN_EVENTS; j++)
		CHECK_INT(got->ban_points[j], want->ban_points[j]);
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
		CHECK(out_dset.quota_bytes == v_dset[i].quota_bytes);
		break;
	case K_PSET:
		CHECK_INT(out_pset.gen, v_pset[i].gen);
		CHECK_INT(out_pset.max_conns, v_pset[i].max_conns);
		CHECK_INT(out_pset.max_conns_per_ip, v_pset[i].max_conns_per_ip);
		CHECK_INT(out_pset.ipv6_prefix, v_pset[i].ipv6_prefix);
		CHECK_INT(out_pset.resolver, v_pset[i].resolver);
		CHECK_STR(out_pset.forward, v_pset[i].forward);
		CHECK_STR(out_pset.anchor, v_pset[i].anchor);
		CHECK_INT(out_pset.resolver_timeout, v_pset[i].resolver_timeout);
		CHECK_STR(out_pset.hostname, v_pset[i].hostname);
		CHECK_STR(out_pset.access, v_pset[i].access);
		check_pset_defences(&out_pset, &v_pset[i]);
		break;
	case K_OPEN: case K_COMMIT_OK: case K_ADMIT_END:
		break;
	case K_OPEN_OK: case K_ABORT: case K_SPILL: case K_SPILL_OK:
		CHECK_STR(out_qid.qid, v_qid[i].qid);
		break;
	case K_OPEN_FAIL: case K_COMMIT_FAIL: case K_SPILL_FAIL:
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
	case K_ADMIT: case K_ADMIT_HOLD: case K_RDNS:
		CHECK_INT(out_admit.addrlen, v_admit[i].addrlen);
		CHECK_INT(out_admit.addr.ss_family, v_admit[i].addr.ss_family);
		/* family, port, address; flowinfo, scope id and padding zero */
		CHECK(out_admit.addrlen == v_admit[i].addrlen &&
		    memcmp(&out_admit.addr, &v_admit[i].addr, v_admit[i].addrlen) == 0);
		break;
	case K_ADMIT_REPLY:
		CHECK_INT(out_reply.verdict, v_reply[i].verdict);
		break;
	case K_SPF:
		CHECK_INT(out_spf.addrlen, v_spf[i].addrlen);
		CHECK(memcmp(&out_spf.addr, &v_spf[i].addr, v_spf[i].addrlen) == 0);
		CHECK_STR(out_spf.sender, v_spf[i].sender);
		CHECK_STR(out_spf.helo, v_spf[i].helo);
		break;
	case K_SPF_REPLY:
		CHECK_INT(out_spf_reply.result, v_spf_reply[i].result);
		CHECK_STR(out_spf_reply.domain, v_spf_reply[i].domain);
		CHECK_STR(out_spf_reply.mechanism, v_spf_reply[i].mechanism);
		CHECK_STR(out_spf_reply.explanation, v_spf_reply[i].explanation);
		CHECK_STR(out_spf_reply.problem, v_spf_reply[i].problem);
		break;
	case K_RDNS_REPLY:
		CHECK_INT(out_rdns.status, v_rdns[i].status);
		CHECK_STR(out_rdns.name, v_rdns[i].name);
		break;
	case K_LOOKUP:
		CHECK_INT(out_lookup.n, v_lookup[i].n);
		for (uint32_t j = 0; j < v_lookup[i].n; j++) {
			CHECK_INT(out_lookup.type[j], v_lookup[i].type[j]);
			CHECK_STR(out_lookup.name[j], v_lookup[i].name[j]);
		}
		break;
	case K_LOOKUP_REPLY:
		CHECK_INT(out_lr_idx, v_lr[i].idx);
		check_lookup(&out_lr, &v_lr[i].l);
		break;
	case K_ACCESS:
		CHECK_INT(out_access.tag, v_access[i].tag);
		CHECK_INT(out_access.local, v_access[i].local);
		CHECK_STR(out_access.key, v_access[i].key);
		break;
	case K_ACCESS_REPLY:
		CHECK_INT(out_access_reply.action, v_access_reply[i].action);
		CHECK_INT(out_access_reply.code, v_access_reply[i].code);
		CHECK_STR(out_access_reply.esc, v_access_reply[i].esc);
		CHECK_STR(out_access_reply.text, v_access_reply[i].text);
		CHECK_STR(out_access_reply.where, v_access_reply[i].where);
		break;
	case K_DNSBL:
		CHECK(out_dnsbl.session == v_dnsbl[i].session);
		CHECK_INT(out_dnsbl.what, v_dnsbl[i].what);
		CHECK_STR(out_dnsbl.helo, v_dnsbl[i].helo);
		CHECK_STR(out_dnsbl.from, v_dnsbl[i].from);
		break;
	case K_DNSBL_REPLY: {
		const struct proto_dnsbl_reply *g = &out_dnsbl_reply, *w = &v_dnsbl_reply[i];
		CHECK_INT(g->result, w->result);
		CHECK_INT(g->list, w->list);
		CHECK_INT(g->answer, w->answer);
		CHECK_INT(g->what, w->what);
		CHECK_INT(g->code, w->code);
		CHECK_STR(g->esc, w->esc);
		CHECK_STR(g->text, w->text);
		CHECK_INT(g->failed, w->failed);
		break;
	}
	case K_GREY:
		CHECK(out_grey.session == v_grey[i].session);
		CHECK_STR(out_grey.sender, v_grey[i].sender);
		CHECK_STR(out_grey.rcpt, v_grey[i].rcpt);
		break;
	case K_GREY_REPLY:
		CHECK_INT(out_grey_reply.result, v_grey_reply[i].result);
		CHECK_INT(out_grey_reply.retry, v_grey_reply[i].retry);
		CHECK_STR(out_grey_reply.state, v_grey_reply[i].state);
		CHECK_STR(out_grey_reply.net, v_grey_reply[i].net);
		break;
	case K_EVENT:
		CHECK(out_event.session == v_event[i].session);
		CHECK_INT(out_event.event, v_event[i].event);
		break;
	case K_POLICY_CTL:
		CHECK_STR(out_ctl.line, v_ctl[i].line);
		break;
	case K_POLICY_CTL_REPLY:
		CHECK_INT(out_ctl_reply.ok, v_ctl_reply[i].ok);
		CHECK(out_ctl_reply.body != NULL);
		if (out_ctl_reply.body == NULL)
			break;
		CHECK_INT(strlen(out_ctl_reply.body), v_ctl_reply[i].len);
		CHECK(memcmp(out_ctl_reply.body, v_ctl_reply[i].body, v_ctl_reply[i].len) == 0);
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
		{ PROTO_ABORT, 26 }, { PROTO_SPILL, 27 }, { PROTO_SPILL_OK, 28 }, { PROTO_SPILL_FAIL, 29 },
		{ PROTO_DELIVER, 40 }, { PROTO_DELIVER_DONE, 41 },
		{ PROTO_ADMIT, 60 }, { PROTO_ADMIT_REPLY, 61 }, { PROTO_ADMIT_END, 62 },
		{ PROTO_ADMIT_HOLD, 63 }, { PROTO_SPF, 64 }, { PROTO_SPF_REPLY, 65 },
		{ PROTO_RDNS, 66 }, { PROTO_RDNS_REPLY, 67 }, { PROTO_LOOKUP, 68 },
		{ PROTO_LOOKUP_REPLY, 69 }, { PROTO_ACCESS, 70 }, { PROTO_ACCESS_REPLY, 71 },
		{ PROTO_DNSBL, 72 }, { PROTO_DNSBL_REPLY, 73 }, { PROTO_GREY, 74 },
		{ PROTO_GREY_REPLY, 75 }, { PROTO_EVENT, 76 },
		{ PROTO_POLICY_CTL, 8 }, { PROTO_POLICY_CTL_REPLY, 9 },
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
		{ K_DSET, 0, "00000001 0000000e 6d782e6578616d706c652e6f7267 0000000040000000" },
		{ K_PSET, 0, "00000001 00000064 0000000a 00000040 00000001 "
		    "00000012 3132372e302e302e314032303533 20 3a3a31 00000000 0000000a "
		    "0000000e 6d782e6578616d706c652e6f7267 00000000 "
		    /* statedir, nets, blocklists, 13 numbers, 8 ban points */
		    "00000000 00000000 00000000 "
		    "00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
		    "00000000 00000000 00000000 00000000 00000000 00000000 "
		    "00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000" },
		{ K_OPEN, 0, "" },
		{ K_OPEN_OK, 0, "0000000d 30313233343536373839414243" },
		{ K_ABORT, 1, "0000000d 5a5a5a5a5a5a5a5a5a5a5a5a5a" },
		{ K_SPILL, 0, "0000000d 30313233343536373839414243" },
		{ K_SPILL_OK, 1, "0000000d 5a5a5a5a5a5a5a5a5a5a5a5a5a" },
		{ K_SPILL_FAIL, 1, "00000005" },
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
		{ K_SPF, 0, "04 c0000201 000000000000000000000000 00000019"
			    " 00000011 616c696365406578616d706c652e6f7267"
			    " 0000000e 6d782e6578616d706c652e6e6574" },
		{ K_SPF_REPLY, 0, "00000002 0000000b 6578616d706c652e6f7267"
				  " 00000010 6970343a3139322e302e322e302f3234 00000000 00000000" },
		{ K_RDNS, 1, "06 20010db8000000000000000000000001 0000ffff" },
		{ K_RDNS_REPLY, 0, "00000000 00000010 6d61696c2e6578616d706c652e6f7267" },
		{ K_RDNS_REPLY, 2, "00000002 00000000" },
		{ K_LOOKUP, 0, "00000001 00000010 00000012 5f646d6172632e6578616d706c652e6f7267" },
		/* idx, type, name, status, sec, ttl, why, count, (pref, bytes)... */
		{ K_LOOKUP_REPLY, 0, "00000000 00000010"
				     " 00000012 5f646d6172632e6578616d706c652e6f7267"
				     " 00 00 00000e10 00000000 00000001"
				     " 00000000 00000012 763d444d415243313b20703d72656a656374" },
		{ K_LOOKUP_REPLY, 2, "00000007 00000010 0000000b 6578616d706c652e6f7267"
				     " 02 02 ffffffff 0000000c 444e5353454320626f677573 00000000" },
		{ K_LOOKUP_REPLY, 6, "00000004 0000ffff 00000000 00 00 00000000 00000000 00000002"
				     " 00000001 00000004 00000000 00000002 00000000" },
		/* tag, local, key */
		{ K_ACCESS, 0, "00000000 00000000 00000009 3139322e302e322e31" },
		{ K_ACCESS, 2, "00000002 00000001 0000000a 506f73746d6173746572" },
		/* action, code, esc, text, where */
		{ K_ACCESS_REPLY, 0, "00000000 00000000 00000000 00000000 00000000" },
		{ K_ACCESS_REPLY, 2, "00000003 00000226 00000005 352e372e31"
				     " 0000000d 4163636573732064656e696564"
				     " 00000029 2f6574632f74616c6f6e2f6163636573733a37"
				     "2046726f6d3a7370616d406578616d706c652e636f6d" },
		/* session, what, helo, from */
		{ K_DNSBL, 0, "0102030405060708 00000007 0000000e 6d782e6578616d706c652e6e6574"
			      " 0000000b 6578616d706c652e6f7267" },
		{ K_DNSBL, 2, "ffffffffffffffff 00000002 0000000b 5b3139322e302e322e315d"
			      " 00000000" },
		/* result, list, answer, what, code, esc, text, failed */
		{ K_DNSBL_REPLY, 0, "00000000 00000000 00000000 00000000 00000000 00000000"
				    " 00000000 00000000" },
		{ K_DNSBL_REPLY, 1, "00000001 00000002 7f000002 00000001 00000226"
				    " 00000005 352e372e31"
				    " 0000001b 4d61696c2066726f6d20"
				    "3139322e302e322e312072656675736564"
				    " 00000001" },
		/* session, sender, recipient */
		{ K_GREY, 0, "0102030405060708 00000011 616c696365406578616d706c652e6f7267"
			     " 0000000f 626f62406578616d706c652e6e6574" },
		/* result, retry, state, net */
		{ K_GREY_REPLY, 1, "00000001 0000012c 00000003 6e6577"
				   " 0000000d 323030313a6462383a3a2f3634" },
		/* session, event */
		{ K_EVENT, 0, "0102030405060708 00000000" },
		{ K_EVENT, 1, "0000000000000000 00000007" },
		{ K_POLICY_CTL, 0, "00000008 62616e206c697374" },
		/* ok, body as bytes */
		{ K_POLICY_CTL_REPLY, 0, "00000001 00000003 6f6b0a" },
		{ K_POLICY_CTL_REPLY, 1, "00000000 00000000" },
		/* after the access map: statedir, nets (family 4|6, length, 16
		 * bytes as a byte field), blocklists (zone, what, codes, code,
		 * esc, text), 13 numbers, 8 ban points */
		{ K_PSET, 3, "00000002 00000064 0000000a 00000040 00000001"
			     " 0000000e 3132372e302e302e314032303533 00000000 0000000a"
			     " 0000000e 6d782e6578616d706c652e6f7267 00000000"
			     " 00000015 2f7661722f6c69622f74616c6f6e2f706f6c696379"
			     " 00000002"
			     " 04 18 00000010 c0000200000000000000000000000000"
			     " 06 20 00000010 20010db8000000000000000000000000"
			     " 00000002"
			     " 0000000b 7a656e2e6578616d706c65 00000001"
			     " 00000002 7f000002 7f000004 00000226 00000005 352e372e31"
			     " 00000016 4d61696c2066726f6d207b69707d2072656675736564"
			     " 0000000b 64626c2e6578616d706c65 00000006"
			     " 00000000 000001c3 00000005 342e372e31 00000000"
			     " 00000002 0000012c 00003840 002e2480 00000005 00000018 00000040"
			     " 00000001 0000000a 00015180 00000e10 00278d00 0000001e"
			     " 00000005 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff"
			     " 00000000" },
		/* the access map's path is the last field */
		{ K_PSET, 1, "00000000 00000000 00000000 00000001 00000000 00000000 00000000"
			     " 00000001 00000000 00000011 2f6574632f74616c6f6e2f616363657373"
			     " 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
			     " 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
			     " 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
			     " 00000000 00000000 00000000" },
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
	CHECK_INT(n, 4);	/* PEER, OPEN_OK, SPILL_OK, DELIVER */
	/* ABORT and SPILL share OPEN_OK's decoder but carry no descriptor */
	CHECK(sample(K_ABORT, 0, &b));
	expect_rc(dec_kind(K_ABORT, -1, &b), 0, "ABORT without fd");
	CHECK(sample(K_SPILL, 0, &b));
	expect_rc(dec_kind(K_SPILL, -1, &b), 0, "SPILL without fd");
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
			if (k == K_DSET)
				wire_put_u64(&b, 0);	/* quota_bytes */
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
	static const enum kind_id ks[] = { K_OPEN_OK, K_ABORT, K_COMMIT, K_SPILL, K_SPILL_OK };
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
	static const enum kind_id ks[] = { K_OPEN_FAIL, K_COMMIT_FAIL, K_SPILL_FAIL };
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
		{ ADMIT_BANNED, 0 }, { ADMIT_RATE, 0 },
		{ ADMIT_RATE + 1, -1 }, { 6, -1 }, { 0x80000000u, -1 }, { UINT32_MAX, -1 },
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

/* ---- smtp <-> policy: SPF, RDNS, LOOKUP -------------------------------- */

/* SPF payload by hand: an address, then sender and helo as raw fields. */
static void
put_spf(struct buf *b, const char *sender, size_t slen, const char *helo, size_t hlen)
{
	struct proto_admit a;
	set_addr(&a, "192.0.2.1", 25);
	buf_reset(b);
	wire_put_sockaddr(b, &a.addr, a.addrlen);
	put_raw_str(b, sender, slen);
	put_raw_str(b, helo, hlen);
}

/* Sender and HELO reach logs and the SPF macros (%{s}, %{h}): no control
 * bytes; anything printable and 8-bit (SMTPUTF8) passes. */
T(spf_texts_no_controls)
{
	static const struct { uint8_t c; int want; } bytes[] = {
		{ 0x01, -1 }, { 0x09, -1 }, { 0x0a, -1 }, { 0x0d, -1 }, { 0x1b, -1 },
		{ 0x1f, -1 }, { 0x7f, -1 }, { 0x00, -1 },	/* NUL: wire.c refuses */
		{ 0x20, 0 }, { 0x7e, 0 }, { 0x80, 0 }, { 0xc3, 0 }, { 0xff, 0 },
	};
	static const size_t at[] = { 0, 5, 15 };	/* first, inside, last */
	char text[17];
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (int field = 0; field < 2; field++)
		for (size_t i = 0; i < NELEM(bytes); i++)
			for (size_t j = 0; j < NELEM(at); j++) {
				memcpy(text, "bob@example.org.", 17);
				text[at[j]] = (char)bytes[i].c;
				if (field == 0)
					put_spf(&b, text, 16, "mx.example.net", 14);
				else
					put_spf(&b, "a@b.example", 11, text, 16);
				expect_rc(dec_kind(K_SPF, -1, &b), bytes[i].want,
				    "SPF %s with byte %02x at %zu", field ? "helo" : "sender",
				    bytes[i].c, at[j]);
			}
	/* lengths: the sample with both at their maximum decodes (roundtrip) */
	static char big[PROTO_SENDER_MAX + 2];
	fill_text(big, PROTO_SENDER_MAX + 1, 0);
	put_spf(&b, big, PROTO_SENDER_MAX + 1, "h", 1);
	expect_rc(dec_kind(K_SPF, -1, &b), -1, "SPF sender of %d bytes", PROTO_SENDER_MAX + 1);
	put_spf(&b, "s", 1, big, PROTO_HELO_MAX + 1);
	expect_rc(dec_kind(K_SPF, -1, &b), -1, "SPF helo of %d bytes", PROTO_HELO_MAX + 1);
	put_spf(&b, "s", 1, big, PROTO_HELO_MAX);
	expect_rc(dec_kind(K_SPF, -1, &b), 0, "SPF helo of %d bytes", PROTO_HELO_MAX);
	/* an address that is not IPv4 or IPv6 */
	struct proto_spf v;
	memset(&v, 0, sizeof v);
	v.addrlen = sizeof v.addr;
	buf_reset(&b);
	proto_spf_enc(&b, &v);
	expect_rc(dec_kind(K_SPF, -1, &b), -1, "SPF from AF_UNSPEC");
	buf_free(&b);
}

T(spf_reply_results_and_texts)
{
	static const struct { uint32_t result; int want; } r[] = {
		{ SPF_NONE, 0 }, { SPF_NEUTRAL, 0 }, { SPF_PASS, 0 }, { SPF_FAIL, 0 },
		{ SPF_SOFTFAIL, 0 }, { SPF_TEMPERROR, 0 }, { SPF_PERMERROR, 0 },
		{ 7, -1 }, { 8, -1 }, { 0x80000000u, -1 }, { UINT32_MAX, -1 },
	};
	struct proto_spf_reply v;
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(r); i++) {
		v = v_spf_reply[3];
		v.result = r[i].result;
		buf_reset(&b);
		proto_spf_reply_enc(&b, &v);
		expect_rc(dec_kind(K_SPF_REPLY, -1, &b), r[i].want, "SPF_REPLY result %u",
		    r[i].result);
		if (r[i].want == 0)
			CHECK_INT(out_spf_reply.result, r[i].result);
	}
	/* a control byte in any text, at its start, inside or at its end */
	static const uint8_t ctl[] = { 0x01, 0x09, 0x0a, 0x0d, 0x1f, 0x7f };
	for (int field = 0; field < 4; field++)
		for (size_t c = 0; c < NELEM(ctl); c++)
			for (size_t at = 0; at < 3; at++) {
				v = v_spf_reply[3];
				char *t = field == 0 ? v.domain : field == 1 ? v.mechanism :
				    field == 2 ? v.explanation : v.problem;
				snprintf(t, 12, "abcdefghijk");
				t[at == 0 ? 0 : at == 1 ? 5 : 10] = (char)ctl[c];
				buf_reset(&b);
				proto_spf_reply_enc(&b, &v);
				expect_rc(dec_kind(K_SPF_REPLY, -1, &b), -1,
				    "SPF_REPLY field %d with byte %02x", field, ctl[c]);
			}
	/* one byte over each field's size (sample 2 has each at its maximum) */
	static const size_t max[] = { 255, 255, 511, 255 };
	static char big[513];
	fill_text(big, sizeof big - 1, 2);
	for (int field = 0; field < 4; field++)
		for (int over = 0; over < 2; over++) {
			buf_reset(&b);
			wire_put_u32(&b, SPF_FAIL);
			for (int f = 0; f < 4; f++)
				put_raw_str(&b, big, f == field ? max[f] + (size_t)over : 3);
			expect_rc(dec_kind(K_SPF_REPLY, -1, &b), over ? -1 : 0,
			    "SPF_REPLY field %d of %zu bytes", field, max[field] + (size_t)over);
		}
	buf_free(&b);
}

/* The verified name goes into our Received header: a host name, or
 * nothing; the status is one of three. */
T(rdns_reply_status_and_name)
{
	static const struct { uint32_t status; const char *name; int want; } c[] = {
		{ RDNS_PASS, "mail.example.org", 0 },
		{ RDNS_PASS, "a", 0 },
		{ RDNS_PASS, "a-b.c-d.example", 0 },
		{ RDNS_PASS, "xn--bcher-kva.example", 0 },
		{ RDNS_FAIL, "", 0 },
		{ RDNS_TEMP, "", 0 },
		{ 3, "", -1 },
		{ 3, "mail.example.org", -1 },
		{ 4, "", -1 },
		{ 0x80000000u, "", -1 },
		{ UINT32_MAX, "mail.example.org", -1 },
		{ RDNS_PASS, "", -1 },
		{ RDNS_PASS, ".", -1 },
		{ RDNS_PASS, "mail.example.org.", -1 },
		{ RDNS_PASS, ".mail.example.org", -1 },
		{ RDNS_PASS, "mail..example.org", -1 },
		{ RDNS_PASS, "-mail.example.org", -1 },
		{ RDNS_PASS, "mail-.example.org", -1 },
		{ RDNS_PASS, "mail_1.example.org", -1 },
		{ RDNS_PASS, "mail\\032x.example.org", -1 },
		{ RDNS_PASS, "mail x.example.org", -1 },
		{ RDNS_PASS, "mail\x01.example.org", -1 },
		{ RDNS_PASS, "mail.example.org\r\nX-Injected: 1", -1 },
		{ RDNS_PASS, "b\xc3\xbc" "cher.example", -1 },
		{ RDNS_PASS, "[192.0.2.1]", -1 },
		{ RDNS_PASS, "mail.example.org>", -1 },
		{ RDNS_PASS, "0123456789012345678901234567890123456789012345678901234567890123.org",
		  -1 },	/* a label of 64 */
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		buf_reset(&b);
		wire_put_u32(&b, c[i].status);
		wire_put_str(&b, c[i].name);
		expect_rc(dec_kind(K_RDNS_REPLY, -1, &b), c[i].want, "RDNS_REPLY %u \"%s\"",
		    c[i].status, c[i].name);
		if (c[i].want == 0) {
			CHECK_INT(out_rdns.status, c[i].status);
			CHECK_STR(out_rdns.name, c[i].name);
		}
	}
	/* 255 octets (sample 3) pass; 256 do not fit the field */
	char name[258];
	fill_name(name, 256, 1);
	buf_reset(&b);
	wire_put_u32(&b, RDNS_PASS);
	wire_put_str(&b, name);
	expect_rc(dec_kind(K_RDNS_REPLY, -1, &b), -1, "RDNS_REPLY name of 256 bytes");
	buf_free(&b);
}

/* LOOKUP by hand: count, then cnt (type, name) pairs. */
static void
put_lookup(struct buf *b, uint32_t n, size_t cnt, uint32_t type, const char *name)
{
	buf_reset(b);
	wire_put_u32(b, n);
	for (size_t i = 0; i < cnt; i++) {
		wire_put_u32(b, type);
		wire_put_str(b, name);
	}
}

T(lookup_question_counts)
{
	static const struct { uint32_t n; size_t cnt; int want; } c[] = {
		{ 1, 1, 0 }, { 2, 2, 0 }, { PROTO_LOOKUP_MAX, PROTO_LOOKUP_MAX, 0 },
		{ 0, 0, -1 }, { 0, 1, -1 },
		{ PROTO_LOOKUP_MAX + 1, PROTO_LOOKUP_MAX + 1, -1 },
		{ PROTO_LOOKUP_MAX + 1, PROTO_LOOKUP_MAX, -1 },
		{ 0x80000001u, 1, -1 }, { UINT32_MAX, 2, -1 },
		{ 3, 2, -1 }, { 2, 3, -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		put_lookup(&b, c[i].n, c[i].cnt, LOOKUP_TXT, "_dmarc.example.org");
		expect_rc(dec_kind(K_LOOKUP, -1, &b), c[i].want, "LOOKUP count %u, %zu questions",
		    c[i].n, c[i].cnt);
		if (c[i].want == 0)
			CHECK_INT(out_lookup.n, c[i].n);
	}
	/* the encoder writes any count: the decoder is the one that refuses */
	static struct proto_lookup q;
	q = v_lookup[1];
	q.n = PROTO_LOOKUP_MAX + 1;
	buf_reset(&b);
	proto_lookup_enc(&b, &q);
	expect_rc(dec_kind(K_LOOKUP, -1, &b), -1, "LOOKUP encoded with n = max + 1");
	buf_free(&b);
}

/* A question is a TXT question for a name in lookup form (dns/lookup.h):
 * what the resolver may be asked, one spelling per name. */
T(lookup_question_type_and_name)
{
	static char label63[70], wire255[260], wire256[260], escaped[LOOKUP_NAME_MAX + 2];
	fill_name(label63, 63, 0);
	fill_name(wire255, 253, 1);	/* 63.63.63.61: 255 octets on the wire */
	fill_name(wire256, 254, 1);	/* 63.63.63.62: 256 */
	longest_escaped_name(escaped);
	struct question_case { uint32_t type; const char *name; int want; };
	static const struct question_case fixed[] = {
		{ LOOKUP_TXT, "_dmarc.example.org", 0 },
		{ LOOKUP_TXT, "sel._domainkey.example.org", 0 },
		{ LOOKUP_TXT, "example", 0 },
		{ LOOKUP_TXT, "a-b_c.0-9", 0 },
		/* escaped octets that come back the same from the wire form */
		{ LOOKUP_TXT, "a\\046b.example", 0 },		/* a dot inside a label */
		{ LOOKUP_TXT, "s._domainkey.b\\195\\188cher.example", 0 },	/* UTF-8 */
		{ LOOKUP_TXT, "x\\032y.example", 0 },
		{ LOOKUP_TXT, "a\\092b.example", 0 },		/* a backslash */
		{ LOOKUP_TXT, "\\000.example", 0 },
		{ LOOKUP_TXT, "a\\1234.example", 0 },		/* '{' then '4' */
		/* other types */
		{ LOOKUP_A, "example.org", -1 },
		{ LOOKUP_MX, "example.org", -1 },
		{ LOOKUP_PTR, "1.2.0.192.in-addr.arpa", -1 },
		{ LOOKUP_AAAA, "example.org", -1 },
		{ LOOKUP_TLSA, "_25._tcp.example.org", -1 },
		{ 0, "example.org", -1 },
		{ 255, "example.org", -1 },
		{ 0x10000u | LOOKUP_TXT, "example.org", -1 },	/* TXT in 16 bits */
		{ UINT32_MAX, "example.org", -1 },
		/* not normalised */
		{ LOOKUP_TXT, "Example.org", -1 },
		{ LOOKUP_TXT, "_DMARC.example.org", -1 },
		{ LOOKUP_TXT, "example.org.", -1 },
		{ LOOKUP_TXT, ".example.org", -1 },
		{ LOOKUP_TXT, "example..org", -1 },
		{ LOOKUP_TXT, ".", -1 },
		{ LOOKUP_TXT, "a\\065b.example", -1 },		/* 'A' comes back as 'a' */
		{ LOOKUP_TXT, "a\\097b.example", -1 },		/* a plain octet escaped */
		{ LOOKUP_TXT, "\\045a.example", -1 },		/* '-' escaped */
		{ LOOKUP_TXT, "a\\256.example", -1 },
		{ LOOKUP_TXT, "a\\25.example", -1 },
		{ LOOKUP_TXT, "a\\2", -1 },
		{ LOOKUP_TXT, "a\\", -1 },
		{ LOOKUP_TXT, "a\\x41.example", -1 },
		{ LOOKUP_TXT, "a\\.b.example", -1 },
		{ LOOKUP_TXT, "a b.example", -1 },		/* raw octets that need \DDD */
		{ LOOKUP_TXT, "b\xc3\xbc" "cher.example", -1 },
		{ LOOKUP_TXT, "a*b.example", -1 },
		{ LOOKUP_TXT, "a\x7f.example", -1 },
		{ LOOKUP_TXT, "a\x01.example", -1 },
	};
	struct question_case c[NELEM(fixed) + 4];
	memcpy(c, fixed, sizeof fixed);
	size_t nc = NELEM(fixed);
	c[nc++] = (struct question_case){ LOOKUP_TXT, label63, 0 };
	c[nc++] = (struct question_case){ LOOKUP_TXT, wire255, 0 };
	c[nc++] = (struct question_case){ LOOKUP_TXT, wire256, -1 };
	c[nc++] = (struct question_case){ LOOKUP_TXT, escaped, 0 };
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < nc; i++)
		for (uint32_t pos = 0; pos < 2; pos++) {
			/* alone, and as the last of three behind good questions */
			buf_reset(&b);
			wire_put_u32(&b, 1 + 2 * pos);
			for (uint32_t k = 0; k < 2 * pos; k++) {
				wire_put_u32(&b, LOOKUP_TXT);
				wire_put_str(&b, "example.org");
			}
			wire_put_u32(&b, c[i].type);
			wire_put_str(&b, c[i].name);
			expect_rc(dec_kind(K_LOOKUP, -1, &b), c[i].want,
			    "LOOKUP type %u \"%.60s\"%s", c[i].type, c[i].name,
			    pos ? " (third)" : "");
			if (c[i].want == 0)
				CHECK_STR(out_lookup.name[2 * pos], c[i].name);
		}
	/* a label of 64 */
	char name[80];
	memset(name, 'a', 64);
	name[64] = '\0';
	put_lookup(&b, 1, 1, LOOKUP_TXT, name);
	expect_rc(dec_kind(K_LOOKUP, -1, &b), -1, "LOOKUP label of 64");
	/* a name longer than LOOKUP_NAME_MAX does not fit the field */
	static char huge[LOOKUP_NAME_MAX + 2];
	fill_name(huge, LOOKUP_NAME_MAX + 1, 0);
	put_lookup(&b, 1, 1, LOOKUP_TXT, huge);
	expect_rc(dec_kind(K_LOOKUP, -1, &b), -1, "LOOKUP name of %d bytes", LOOKUP_NAME_MAX + 1);
	buf_free(&b);
}

/* LOOKUP_REPLY by hand; the records hold rec_len bytes of 0x5a each. */
struct lr_raw {
	uint32_t idx, type;
	const char *name;
	uint8_t st, sec;
	uint32_t ttl;
	const char *why;
	uint32_t n;
	size_t cnt;		/* records actually written */
	uint32_t pref_last;	/* the last record's preference */
	uint32_t rec_len;
};

static void
put_lr(struct buf *b, const struct lr_raw *v)
{
	static uint8_t bytes[UINT16_MAX + 1];
	memset(bytes, 0x5a, sizeof bytes);
	buf_reset(b);
	wire_put_u32(b, v->idx);
	wire_put_u32(b, v->type);
	wire_put_str(b, v->name);
	wire_put_u8(b, v->st);
	wire_put_u8(b, v->sec);
	wire_put_u32(b, v->ttl);
	wire_put_str(b, v->why);
	wire_put_u32(b, v->n);
	for (size_t i = 0; i < v->cnt; i++) {
		wire_put_u32(b, i + 1 == v->cnt ? v->pref_last : 10);
		wire_put_bytes(b, bytes, v->rec_len);
	}
}

/* Which field of the base case a row changes (lookup_reply_refusals). */
enum lr_field { F_IDX, F_TYPE, F_NAME, F_ST, F_SEC, F_WHY, F_N, F_N_CNT, F_PREF, F_LEN };

T(lookup_reply_refusals)
{
	static const struct lr_raw ok = { 3, LOOKUP_TXT, "example.org", LOOKUP_OK,
		LOOKUP_INSECURE, 60, "", 2, 2, 20, 4 };
	static const struct {
		const char *what;
		enum lr_field f;
		uint32_t v, v2;		/* F_N_CNT: count v, v2 records written */
		const char *s;		/* F_NAME, F_WHY */
		int want;
	} c[] = {
		{ "idx max - 1", F_IDX, PROTO_LOOKUP_MAX - 1, 0, NULL, 0 },
		{ "idx max", F_IDX, PROTO_LOOKUP_MAX, 0, NULL, -1 },
		{ "idx 2^31", F_IDX, 0x80000000u, 0, NULL, -1 },
		{ "idx 2^32-1", F_IDX, UINT32_MAX, 0, NULL, -1 },
		{ "type 65535", F_TYPE, UINT16_MAX, 0, NULL, 0 },
		{ "type 65536", F_TYPE, 0x10000u, 0, NULL, -1 },
		{ "type TXT + 65536", F_TYPE, 0x10000u | LOOKUP_TXT, 0, NULL, -1 },
		{ "type 2^32-1", F_TYPE, UINT32_MAX, 0, NULL, -1 },
		{ "the root", F_NAME, 0, 0, "", 0 },
		{ "status NXDOMAIN", F_ST, LOOKUP_NXDOMAIN, 0, NULL, 0 },
		{ "status TEMPFAIL", F_ST, LOOKUP_TEMPFAIL, 0, NULL, 0 },
		{ "status 3", F_ST, 3, 0, NULL, -1 },
		{ "status 255", F_ST, 255, 0, NULL, -1 },
		{ "sec SECURE", F_SEC, LOOKUP_SECURE, 0, NULL, 0 },
		{ "sec BOGUS", F_SEC, LOOKUP_BOGUS, 0, NULL, 0 },
		{ "sec 3", F_SEC, 3, 0, NULL, -1 },
		{ "sec 128", F_SEC, 128, 0, NULL, -1 },
		{ "why 63 bytes", F_WHY, 0, 0,
		  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789.", 0 },
		{ "why 64 bytes", F_WHY, 0, 0,
		  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789..", -1 },
		{ "no records", F_N, 0, 0, NULL, 0 },
		{ "LOOKUP_RR_MAX records", F_N, LOOKUP_RR_MAX, 0, NULL, 0 },
		{ "LOOKUP_RR_MAX + 1 records", F_N, LOOKUP_RR_MAX + 1, 0, NULL, -1 },
		{ "count max + 1, max sent", F_N_CNT, LOOKUP_RR_MAX + 1, LOOKUP_RR_MAX, NULL, -1 },
		{ "count 2^32-1", F_N_CNT, UINT32_MAX, 3, NULL, -1 },
		{ "count above the records", F_N_CNT, 3, 2, NULL, -1 },
		{ "count below the records", F_N_CNT, 1, 2, NULL, -1 },
		{ "preference 65535", F_PREF, UINT16_MAX, 0, NULL, 0 },
		{ "preference 65536 on the last record", F_PREF, 0x10000u, 0, NULL, -1 },
		{ "preference 2^32-1", F_PREF, UINT32_MAX, 0, NULL, -1 },
		{ "empty records", F_LEN, 0, 0, NULL, 0 },
		{ "records of 65535 bytes", F_LEN, UINT16_MAX, 0, NULL, 0 },
		{ "records of 65536 bytes", F_LEN, 0x10000u, 0, NULL, -1 },
	};
	struct buf b;
	buf_init(&b, 0);	/* records of 65535 bytes are more than IPC_MAX */
	for (size_t i = 0; i < NELEM(c); i++) {
		struct lr_raw v = ok;
		switch (c[i].f) {
		case F_IDX: v.idx = c[i].v; break;
		case F_TYPE: v.type = c[i].v; break;
		case F_NAME: v.name = c[i].s; break;
		case F_ST: v.st = (uint8_t)c[i].v; break;
		case F_SEC: v.sec = (uint8_t)c[i].v; break;
		case F_WHY: v.why = c[i].s; break;
		case F_N: v.n = c[i].v; v.cnt = c[i].v; break;
		case F_N_CNT: v.n = c[i].v; v.cnt = c[i].v2; break;
		case F_PREF: v.pref_last = c[i].v; break;
		case F_LEN: v.rec_len = c[i].v; break;
		}
		put_lr(&b, &v);
		int was = t_cur_failed;
		t_cur_failed = 0;
		expect_rc(dec_kind(K_LOOKUP_REPLY, -1, &b), c[i].want, "LOOKUP_REPLY %s",
		    c[i].what);
		if (c[i].want == 0) {
			CHECK_INT(out_lr_idx, v.idx);
			CHECK_INT(out_lr.type, v.type);
			CHECK_STR(out_lr.name, v.name);
			CHECK_INT(out_lr.status, v.st);
			CHECK_INT(out_lr.sec, v.sec);
			CHECK_INT(out_lr.n, v.n);
			for (size_t j = 0; j < out_lr.n; j++)
				CHECK_INT(out_lr.rr[j].len, v.rec_len);
			if (v.n > 0)
				CHECK_INT(out_lr.rr[v.n - 1].pref, v.pref_last);
		}
		if (t_cur_failed)
			row_failed("LOOKUP_REPLY %s", c[i].what);
		t_cur_failed |= was;
	}
	/* a record past the end of a shorter payload: records already taken
	 * are freed (LeakSanitizer watches) */
	struct lr_raw v = ok;
	v.n = 3;
	v.cnt = 3;
	put_lr(&b, &v);
	b.len -= 2;
	expect_rc(dec_kind(K_LOOKUP_REPLY, -1, &b), -1, "LOOKUP_REPLY third record cut");
	/* a name of LOOKUP_NAME_MAX passes, one more does not fit; no NUL */
	static char name[LOOKUP_NAME_MAX + 2];
	v = ok;
	fill_name(name, LOOKUP_NAME_MAX, 0);
	v.name = name;
	put_lr(&b, &v);
	expect_rc(dec_kind(K_LOOKUP_REPLY, -1, &b), 0, "LOOKUP_REPLY name of %d bytes",
	    LOOKUP_NAME_MAX);
	fill_name(name, LOOKUP_NAME_MAX + 1, 0);
	put_lr(&b, &v);
	expect_rc(dec_kind(K_LOOKUP_REPLY, -1, &b), -1, "LOOKUP_REPLY name of %d bytes",
	    LOOKUP_NAME_MAX + 1);
	buf_reset(&b);
	wire_put_u32(&b, 0);
	wire_put_u32(&b, LOOKUP_TXT);
	put_raw_str(&b, "a\0b", 3);
	buf_append(&b, "\0\0" "\0\0\0\0" "\0\0\0\0" "\0\0\0\0", 14);
	expect_rc(dec_kind(K_LOOKUP_REPLY, -1, &b), -1, "LOOKUP_REPLY NUL in the name");
	buf_free(&b);
}

/* The reason of a TEMPFAIL comes back as static text: the known ones as
 * themselves, anything else as "error", "" as none. */
T(lookup_reply_why_mapped)
{
	static const struct { const char *sent, *got; } c[] = {
		{ "timeout", "timeout" }, { "SERVFAIL", "SERVFAIL" }, { "REFUSED", "REFUSED" },
		{ "error rcode", "error rcode" }, { "DNSSEC bogus", "DNSSEC bogus" },
		{ "malformed record", "malformed record" }, { "resolver error", "resolver error" },
		{ "too big", "too big" }, { "not a domain name", "not a domain name" },
		{ "resolver refused the lookup", "resolver refused the lookup" },
		{ "no resolver", "no resolver" },
		{ "", NULL }, { "Timeout", "error" }, { "timeout ", "error" },
		{ "servfail", "error" },
		{ "error", "error" }, { "\x01\x02", "error" }, { "%s%n", "error" },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		struct lr_raw v = { 0, LOOKUP_TXT, "example.org", LOOKUP_TEMPFAIL, 0, 0, c[i].sent,
			0, 0, 0, 0 };
		put_lr(&b, &v);
		expect_rc(dec_kind(K_LOOKUP_REPLY, -1, &b), 0, "LOOKUP_REPLY why \"%s\"",
		    c[i].sent);
		if (c[i].got == NULL)
			CHECK(out_lr.why == NULL);
		else
			CHECK_STR(out_lr.why, c[i].got);
		/* static text: the pointer outlives the payload */
		CHECK(out_lr.why == NULL || out_lr.why < (const char *)b.data ||
		    out_lr.why >= (const char *)b.data + b.len);
	}
	buf_free(&b);
}

/* An answer too big for one message goes as TEMPFAIL "too big" with no
 * records, never as a message the worker must refuse. */
T(lookup_reply_too_big_is_cut)
{
	static uint8_t data[UINT16_MAX];
	memset(data, 0, sizeof data);
	static const struct { const char *what; size_t n, len, last_len; bool cut; } c[] = {
		{ "one record filling the budget", 1, LR_BUDGET - 8, LR_BUDGET - 8, false },
		{ "one record a byte over", 1, LR_BUDGET - 7, LR_BUDGET - 7, true },
		{ "one record of 65535 bytes", 1, UINT16_MAX, UINT16_MAX, true },
		{ "64 records of 1200 bytes", LOOKUP_RR_MAX, 1200, 1200, true },
		{ "63 small records, a big last one", LOOKUP_RR_MAX, 100, 60000, true },
		{ "64 records just under the budget", LOOKUP_RR_MAX, LR_BUDGET / 64 - 8,
		  LR_BUDGET / 64 - 8, false },
	};
	static struct lookup l;
	char name[LOOKUP_NAME_MAX + 1];
	longest_escaped_name(name);
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		lookup_init(&l, LOOKUP_TXT, name);
		l.sec = LOOKUP_SECURE;
		l.ttl = 77;
		for (size_t j = 0; j < c[i].n; j++)
			lookup_add(&l, (uint16_t)j, data,
			    j + 1 == c[i].n ? c[i].last_len : c[i].len);
		buf_reset(&b);
		proto_lookup_reply_enc(&b, PROTO_LOOKUP_MAX - 1, &l);
		int was = t_cur_failed;
		t_cur_failed = 0;
		CHECK(!b.err);
		CHECK(b.len <= IPC_MAX - 16);
		expect_rc(dec_kind(K_LOOKUP_REPLY, -1, &b), 0, "LOOKUP_REPLY %s", c[i].what);
		CHECK_INT(out_lr_idx, PROTO_LOOKUP_MAX - 1);
		CHECK_STR(out_lr.name, name);
		CHECK_INT(out_lr.sec, LOOKUP_SECURE);
		CHECK_INT(out_lr.ttl, 77);
		if (c[i].cut) {
			CHECK_INT(out_lr.status, LOOKUP_TEMPFAIL);
			CHECK_STR(out_lr.why, "too big");
			CHECK_INT(out_lr.n, 0);
		} else {
			check_lookup(&out_lr, &l);
		}
		if (t_cur_failed)
			row_failed("LOOKUP_REPLY %s", c[i].what);
		t_cur_failed |= was;
		lookup_clear(&l);
	}
	/* any status is cut the same way */
	lookup_init(&l, LOOKUP_TXT, "example.org");
	l.status = LOOKUP_NXDOMAIN;
	lookup_add(&l, 0, data, UINT16_MAX);
	buf_reset(&b);
	proto_lookup_reply_enc(&b, 0, &l);
	CHECK_INT(dec_kind(K_LOOKUP_REPLY, -1, &b), 0);
	CHECK_INT(out_lr.status, LOOKUP_TEMPFAIL);
	CHECK_STR(out_lr.why, "too big");
	lookup_clear(&l);
	buf_free(&b);
}

T(policy_settings_resolver)
{
	static const struct { uint32_t mode, timeout; int want; } c[] = {
		{ 0, 10, 0 }, { 1, 10, 0 }, { 2, 10, 0 },
		{ 3, 10, -1 }, { 0x80000000u, 10, -1 }, { UINT32_MAX, 10, -1 },
		{ 1, 1, 0 }, { 1, 60, 0 }, { 1, 120, 0 },
		{ 1, 0, -1 }, { 1, 121, -1 }, { 1, 0x80000000u, -1 }, { 1, UINT32_MAX, -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		struct proto_policy_settings v = v_pset[0];
		v.resolver = c[i].mode;
		v.resolver_timeout = c[i].timeout;
		buf_reset(&b);
		proto_policy_settings_enc(&b, &v);
		expect_rc(dec_kind(K_PSET, -1, &b), c[i].want, "POLICY_SETTINGS mode %u timeout %u",
		    c[i].mode, c[i].timeout);
		if (c[i].want == 0) {
			CHECK_INT(out_pset.resolver, c[i].mode);
			CHECK_INT(out_pset.resolver_timeout, c[i].timeout);
		}
	}
	/* each text at its size - 1 passes, one more byte does not */
	static char big[1025];
	fill_text(big, sizeof big - 1, 3);
	static const size_t max[] = { 511, 1023, 255, 1023 };
	for (int field = 0; field < 4; field++)
		for (int over = 0; over < 2; over++) {
			buf_reset(&b);
			wire_put_u32(&b, 1);
			wire_put_u32(&b, 100);
			wire_put_u32(&b, 10);
			wire_put_u32(&b, 64);
			wire_put_u32(&b, 1);
			put_raw_str(&b, big, field == 0 ? max[0] + (size_t)over : 5);
			put_raw_str(&b, big, field == 1 ? max[1] + (size_t)over : 5);
			wire_put_u32(&b, 10);
			put_raw_str(&b, big, field == 2 ? max[2] + (size_t)over : 5);
			put_raw_str(&b, big, field == 3 ? max[3] + (size_t)over : 5);
			for (int k = 0; k < 3 + 13 + 8; k++)	/* statedir "", no lists, zeros */
				wire_put_u32(&b, 0);
			expect_rc(dec_kind(K_PSET, -1, &b), over ? -1 : 0,
			    "POLICY_SETTINGS text %d of %zu bytes", field,
			    max[field] + (size_t)over);
		}
	buf_free(&b);
}

/* POLICY_CTL_REPLY's body reaches an admin's terminal: a NUL, an escape
 * or any control byte but tab and newline, or a byte past ASCII is
 * refused, wherever it is. */
T(ctl_reply_text_only)
{
	static const struct { const char *body; size_t len; int want; } c[] = {
		{ "a\tb\nc", 5, 0 }, { "~", 1, 0 }, { " ", 1, 0 },
		{ "a\0b", 3, -1 }, { "\x1b[31m", 5, -1 }, { "x\r\n", 3, -1 },
		{ "\x7f", 1, -1 }, { "\xff", 1, -1 }, { "ok\n\x01", 4, -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		buf_reset(&b);
		proto_policy_ctl_reply_enc(&b, 1, c[i].body, c[i].len);
		expect_rc(dec_kind(K_POLICY_CTL_REPLY, -1, &b), c[i].want,
		    "POLICY_CTL_REPLY body %zu", i);
	}
	buf_free(&b);
}

/* ---- smtp <-> policy: ACCESS, ACCESS_REPLY ----------------------------- */

/* ACCESS by hand: tag, local, then the key as a raw field. */
static void
put_access(struct buf *b, uint32_t tag, uint32_t local, const char *key, size_t klen)
{
	buf_reset(b);
	wire_put_u32(b, tag);
	wire_put_u32(b, local);
	put_raw_str(b, key, klen);
}

/* The tag is an enum access_tag and local a boolean, each in a u32 that
 * must not wrap or truncate into range. */
T(access_tag_and_local)
{
	static const struct { uint32_t tag, local; int want; } c[] = {
		{ ACCESS_CONNECT, 0, 0 }, { ACCESS_FROM, 0, 0 }, { ACCESS_TO, 1, 0 },
		{ ACCESS_SPAM, 1, 0 }, { ACCESS_CONNECT, 1, 0 }, { ACCESS_SPAM, 0, 0 },
		{ ACCESS_SPAM + 1, 0, -1 }, { 5, 1, -1 }, { 0x100u | ACCESS_TO, 0, -1 },
		{ 0x80000000u, 0, -1 }, { 0x80000000u | ACCESS_FROM, 1, -1 }, { UINT32_MAX, 0, -1 },
		{ ACCESS_TO, 2, -1 }, { ACCESS_TO, 0x100u, -1 },
		{ ACCESS_CONNECT, 0x80000000u, -1 },
		{ ACCESS_TO, 0x80000001u, -1 }, { ACCESS_SPAM, UINT32_MAX, -1 },
		{ UINT32_MAX, UINT32_MAX, -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		put_access(&b, c[i].tag, c[i].local, "a@b.example", 11);
		expect_rc(dec_kind(K_ACCESS, -1, &b), c[i].want, "ACCESS tag %u local %u",
		    c[i].tag, c[i].local);
		if (c[i].want == 0) {
			CHECK_INT(out_access.tag, c[i].tag);
			CHECK_INT(out_access.local, c[i].local);
			CHECK_STR(out_access.key, "a@b.example");
		}
	}
	/* the encoder writes any value: the decoder is the one that refuses */
	struct proto_access v = v_access[1];
	v.tag = ACCESS_SPAM + 1;
	buf_reset(&b);
	proto_access_enc(&b, &v);
	expect_rc(dec_kind(K_ACCESS, -1, &b), -1, "ACCESS encoded with tag %u", v.tag);
	v = v_access[1];
	v.local = 2;
	buf_reset(&b);
	proto_access_enc(&b, &v);
	expect_rc(dec_kind(K_ACCESS, -1, &b), -1, "ACCESS encoded with local 2");
	buf_free(&b);
}

/* The key reaches the policy process's log and the map's lookups: no
 * control bytes; printable and 8-bit (SMTPUTF8) bytes pass; at most
 * PROTO_SENDER_MAX bytes. */
T(access_key_bytes_and_length)
{
	static const struct { uint8_t c; int want; } bytes[] = {
		{ 0x01, -1 }, { 0x09, -1 }, { 0x0a, -1 }, { 0x0d, -1 }, { 0x1b, -1 },
		{ 0x1f, -1 }, { 0x7f, -1 }, { 0x00, -1 },	/* NUL: wire.c refuses */
		{ 0x20, 0 }, { 0x22, 0 }, { 0x25, 0 }, { 0x7e, 0 }, { 0x80, 0 }, { 0xc3, 0 },
		{ 0xff, 0 },
	};
	static const size_t at[] = { 0, 5, 15 };	/* first, inside, last */
	char key[17];
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (uint32_t tag = ACCESS_CONNECT; tag <= ACCESS_SPAM; tag++)
		for (size_t i = 0; i < NELEM(bytes); i++)
			for (size_t j = 0; j < NELEM(at); j++) {
				memcpy(key, "bob@example.org.", 17);
				key[at[j]] = (char)bytes[i].c;
				put_access(&b, tag, 1, key, 16);
				int was = t_cur_failed;
				t_cur_failed = 0;
				expect_rc(dec_kind(K_ACCESS, -1, &b), bytes[i].want,
				    "ACCESS tag %u, byte %02x at %zu", tag, bytes[i].c, at[j]);
				if (bytes[i].want == 0)
					CHECK(memcmp(out_access.key, key, 17) == 0);
				t_cur_failed |= was;
			}
	/* PROTO_SENDER_MAX bytes pass (also sample 9), one more does not fit */
	static char big[PROTO_SENDER_MAX + 2];
	fill_text(big, PROTO_SENDER_MAX + 1, 7);
	put_access(&b, ACCESS_FROM, 0, big, PROTO_SENDER_MAX);
	expect_rc(dec_kind(K_ACCESS, -1, &b), 0, "ACCESS key of %d bytes", PROTO_SENDER_MAX);
	CHECK_INT(strlen(out_access.key), PROTO_SENDER_MAX);
	put_access(&b, ACCESS_FROM, 0, big, PROTO_SENDER_MAX + 1);
	expect_rc(dec_kind(K_ACCESS, -1, &b), -1, "ACCESS key of %d bytes",
	    PROTO_SENDER_MAX + 1);
	/* length fields far beyond the payload */
	static const uint32_t lens[] = { PROTO_SENDER_MAX + 1, 0x80000000u, UINT32_MAX, IPC_MAX };
	for (size_t i = 0; i < NELEM(lens); i++) {
		buf_reset(&b);
		wire_put_u32(&b, ACCESS_TO);
		wire_put_u32(&b, 1);
		wire_put_u32(&b, lens[i]);
		buf_append(&b, "a@b.example", 11);
		expect_rc(dec_kind(K_ACCESS, -1, &b), -1, "ACCESS key length field %08x", lens[i]);
	}
	buf_free(&b);
}

/* ACCESS_REPLY by hand: action, code, then esc, text and where as raw
 * fields (txt[0..2], lengths len[0..2]). */
static void
put_access_reply(struct buf *b, uint32_t action, uint32_t code, const char *const txt[3],
    const size_t len[3])
{
	buf_reset(b);
	wire_put_u32(b, action);
	wire_put_u32(b, code);
	for (int f = 0; f < 3; f++)
		put_raw_str(b, txt[f], len[f]);
}

static bool
access_refuses(uint32_t action)
{
	return action == ACCESS_REJECT || action == ACCESS_ERROR;
}

/* The action is an enum access_action; the code 0 or an SMTP reply code
 * of 4xx or 5xx (RFC 5321 4.2.1), and a refusal must carry one. */
T(access_reply_actions_and_codes)
{
	static const uint32_t good[] = { 0, 400, 421, 451, 499, 500, 550, 554, 599 };
	static const uint32_t bad[] = {
		1, 250, 399, 600, 999, 4000, 0x10000u + 550 /* 550 in 16 bits */,
		0x80000000u + 451, UINT32_MAX,
	};
	static const uint32_t bad_actions[] = {
		ACCESS_HATER + 1, 10, 0x100u | ACCESS_OK, 0x80000000u, 0x80000000u | ACCESS_REJECT,
		UINT32_MAX,
	};
	static const char *const txt[3] = { "5.7.1", "Go away", "access:9 From:x@y.example" };
	static const size_t len[3] = { 5, 7, 25 };
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (uint32_t a = ACCESS_NONE; a <= ACCESS_HATER; a++) {
		for (size_t i = 0; i < NELEM(good); i++) {
			int want = good[i] == 0 && access_refuses(a) ? -1 : 0;
			put_access_reply(&b, a, good[i], txt, len);
			int was = t_cur_failed;
			t_cur_failed = 0;
			expect_rc(dec_kind(K_ACCESS_REPLY, -1, &b), want,
			    "ACCESS_REPLY action %u code %u", a, good[i]);
			if (want == 0) {
				CHECK_INT(out_access_reply.action, a);
				CHECK_INT(out_access_reply.code, good[i]);
				CHECK_STR(out_access_reply.esc, txt[0]);
				CHECK_STR(out_access_reply.text, txt[1]);
				CHECK_STR(out_access_reply.where, txt[2]);
			}
			t_cur_failed |= was;
		}
		for (size_t i = 0; i < NELEM(bad); i++) {
			put_access_reply(&b, a, bad[i], txt, len);
			expect_rc(dec_kind(K_ACCESS_REPLY, -1, &b), -1,
			    "ACCESS_REPLY action %u code %u", a, bad[i]);
		}
	}
	for (size_t i = 0; i < NELEM(bad_actions); i++)
		for (uint32_t code = 0; code < 600; code += 550) {
			put_access_reply(&b, bad_actions[i], code, txt, len);
			expect_rc(dec_kind(K_ACCESS_REPLY, -1, &b), -1,
			    "ACCESS_REPLY action %u code %u", bad_actions[i], code);
		}
	/* a REJECT or ERROR without a code, from the encoder */
	struct proto_access_reply v = v_access_reply[2];
	v.code = 0;
	buf_reset(&b);
	proto_access_reply_enc(&b, &v);
	expect_rc(dec_kind(K_ACCESS_REPLY, -1, &b), -1, "ACCESS_REPLY REJECT encoded with code 0");
	v = v_access_reply[3];
	v.code = 0;
	buf_reset(&b);
	proto_access_reply_enc(&b, &v);
	expect_rc(dec_kind(K_ACCESS_REPLY, -1, &b), -1, "ACCESS_REPLY ERROR encoded with code 0");
	buf_free(&b);
}

/* esc and text go to the client as they are: printable ASCII only (no
 * 8-bit: a reply is not SMTPUTF8).  where goes to the log: no control
 * bytes, 8-bit allowed (a file name).  Each at most its field's size - 1. */
T(access_reply_texts)
{
	static const struct { uint8_t c; int printable, no_controls; } bytes[] = {
		{ 0x01, -1, -1 }, { 0x09, -1, -1 }, { 0x0a, -1, -1 }, { 0x0d, -1, -1 },
		{ 0x1b, -1, -1 }, { 0x1f, -1, -1 }, { 0x7f, -1, -1 },
		{ 0x00, -1, -1 },	/* NUL: wire.c refuses */
		{ 0x80, -1, 0 }, { 0xc3, -1, 0 }, { 0xfe, -1, 0 }, { 0xff, -1, 0 },
		{ 0x20, 0, 0 }, { 0x22, 0, 0 }, { 0x25, 0, 0 }, { 0x5c, 0, 0 }, { 0x7e, 0, 0 },
	};
	static const char *const base[3] = { "5.7.1", "Access denied", "access:7 From:a@b" };
	static const char *const names[3] = { "esc", "text", "where" };
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (int f = 0; f < 3; f++)
		for (size_t i = 0; i < NELEM(bytes); i++) {
			size_t n = strlen(base[f]);
			size_t at[3] = { 0, n / 2, n - 1 };	/* first, inside, last */
			for (size_t j = 0; j < NELEM(at); j++) {
				char t[3][32];
				const char *txt[3] = { t[0], t[1], t[2] };
				size_t len[3];
				for (int g = 0; g < 3; g++) {
					len[g] = strlen(base[g]);
					memcpy(t[g], base[g], len[g] + 1);
				}
				t[f][at[j]] = (char)bytes[i].c;
				int want = f == 2 ? bytes[i].no_controls : bytes[i].printable;
				put_access_reply(&b, ACCESS_ERROR, 550, txt, len);
				int was = t_cur_failed;
				t_cur_failed = 0;
				expect_rc(dec_kind(K_ACCESS_REPLY, -1, &b), want,
				    "ACCESS_REPLY %s with byte %02x at %zu", names[f], bytes[i].c,
				    at[j]);
				if (want == 0)
					CHECK(memcmp(f == 0 ? out_access_reply.esc :
					    f == 1 ? out_access_reply.text : out_access_reply.where,
					    t[f], len[f] + 1) == 0);
				t_cur_failed |= was;
			}
		}
	/* each at its maximum passes (sample 12 has all three), one more does
	 * not fit */
	static const size_t max[3] = { 11, 399, 399 };
	static char big[401];
	fill_text(big, sizeof big - 1, 4);
	for (int f = 0; f < 3; f++)
		for (int over = 0; over < 2; over++) {
			const char *txt[3] = { big, big, big };
			size_t len[3] = { 5, 5, 5 };
			len[f] = max[f] + (size_t)over;
			put_access_reply(&b, ACCESS_REJECT, 550, txt, len);
			expect_rc(dec_kind(K_ACCESS_REPLY, -1, &b), over ? -1 : 0,
			    "ACCESS_REPLY %s of %zu bytes", names[f], len[f]);
			const char *got = f == 0 ? out_access_reply.esc :
			    f == 1 ? out_access_reply.text : out_access_reply.where;
			if (!over)
				CHECK_INT(strlen(got), max[f]);
		}
	/* length fields far beyond the payload */
	static const uint32_t lens[] = { 0x80000000u, UINT32_MAX, IPC_MAX };
	for (int f = 0; f < 3; f++)
		for (size_t i = 0; i < NELEM(lens); i++) {
			buf_reset(&b);
			wire_put_u32(&b, ACCESS_REJECT);
			wire_put_u32(&b, 550);
			for (int g = 0; g < 3; g++) {
				wire_put_u32(&b, g == f ? lens[i] : 1);
				buf_putc(&b, 'x');
			}
			expect_rc(dec_kind(K_ACCESS_REPLY, -1, &b), -1,
			    "ACCESS_REPLY %s length field %08x", names[f], lens[i]);
		}
	buf_free(&b);
}

/* ---- parent -> policy: the defences in POLICY_SETTINGS ------------------ */

/* the 13 numbers and the 8 ban points after the lists */
#define PSET_TAIL	((13 + PROTO_BAN_EVENTS) * 4)

/* Sample 3 with its two lists replaced by raw bytes: nets and bls each
 * hold a count and the entries as the caller wrote them. */
static void
put_pset_lists(struct buf *b, const struct buf *nets, const struct buf *bls)
{
	static struct proto_policy_settings v;
	struct buf all;
	v = v_pset[3];
	v.n_nets = 0;
	v.n_bls = 0;
	buf_init(&all, IPC_MAX);
	proto_policy_settings_enc(&all, &v);
	size_t head = all.len - PSET_TAIL - 8;	/* up to the two zero counts */
	buf_reset(b);
	buf_append(b, all.data, head);
	buf_append(b, nets->data, nets->len);
	buf_append(b, bls->data, bls->len);
	buf_append(b, all.data + all.len - PSET_TAIL, PSET_TAIL);
	buf_free(&all);
}

/* A net by hand: family byte, length byte, then the address as a byte
 * field of nbytes bytes. */
static void
put_net_raw(struct buf *b, uint8_t fam, uint8_t len, uint32_t nbytes)
{
	static const uint8_t addr[20] = { 0x20, 0x01, 0x0d, 0xb8 };
	wire_put_u8(b, fam);
	wire_put_u8(b, len);
	wire_put_u32(b, nbytes);
	buf_append(b, addr, nbytes);
}

/* The lists stay within their counts; each net is family 4 or 6 with a
 * length that fits it and 16 address bytes. */
T(policy_settings_nets)
{
	static const struct {
		const char *what;
		uint32_t n;
		size_t written;
		uint8_t fam, len;
		uint32_t nbytes;
		int want;
	} c[] = {
		{ "none", 0, 0, 4, 32, 16, 0 },
		{ "IPv4 /32", 1, 1, 4, 32, 16, 0 },
		{ "IPv4 /0", 1, 1, 4, 0, 16, 0 },
		{ "IPv6 /128", 1, 1, 6, 128, 16, 0 },
		{ "IPv6 /0", 1, 1, 6, 0, 16, 0 },
		{ "the maximum", PROTO_NETS_MAX, PROTO_NETS_MAX, 6, 64, 16, 0 },
		{ "IPv4 /33", 1, 1, 4, 33, 16, -1 },
		{ "IPv4 /128", 1, 1, 4, 128, 16, -1 },
		{ "IPv4 /255", 1, 1, 4, 255, 16, -1 },
		{ "IPv6 /129", 1, 1, 6, 129, 16, -1 },
		{ "IPv6 /255", 1, 1, 6, 255, 16, -1 },
		{ "family 0", 1, 1, 0, 0, 16, -1 },
		{ "family AF_INET", 1, 1, AF_INET, 24, 16, -1 },
		{ "family AF_INET6", 1, 1, AF_INET6, 24, 16, -1 },
		{ "family 5", 1, 1, 5, 24, 16, -1 },
		{ "family 0x84", 1, 1, 0x84, 24, 16, -1 },
		{ "family 0xff", 1, 1, 0xff, 24, 16, -1 },
		{ "4 address bytes", 1, 1, 4, 24, 4, -1 },
		{ "15 address bytes", 1, 1, 6, 24, 15, -1 },
		{ "17 address bytes", 1, 1, 6, 24, 17, -1 },
		{ "no address bytes", 1, 1, 4, 0, 0, -1 },
		{ "count max + 1", PROTO_NETS_MAX + 1, PROTO_NETS_MAX + 1, 4, 8, 16, -1 },
		{ "count max + 1, max sent", PROTO_NETS_MAX + 1, PROTO_NETS_MAX, 4, 8, 16, -1 },
		{ "count 2^31", 0x80000000u, 1, 4, 8, 16, -1 },
		{ "count 2^32-1", UINT32_MAX, 2, 4, 8, 16, -1 },
		{ "count above the nets", 3, 2, 4, 8, 16, -1 },
		{ "count below the nets", 1, 2, 4, 8, 16, -1 },
	};
	struct buf b, nets, bls;
	buf_init(&b, 0);
	buf_init(&nets, 0);
	buf_init(&bls, 0);
	wire_put_u32(&bls, 0);
	for (size_t i = 0; i < NELEM(c); i++) {
		buf_reset(&nets);
		wire_put_u32(&nets, c[i].n);
		for (size_t j = 0; j < c[i].written; j++)
			put_net_raw(&nets, c[i].fam, c[i].len, c[i].nbytes);
		put_pset_lists(&b, &nets, &bls);
		int was = t_cur_failed;
		t_cur_failed = 0;
		expect_rc(dec_kind(K_PSET, -1, &b), c[i].want, "POLICY_SETTINGS nets: %s",
		    c[i].what);
		if (c[i].want == 0) {
			CHECK_INT(out_pset.n_nets, c[i].n);
			if (c[i].n > 0) {
				const struct prefix *p = &out_pset.nets[c[i].n - 1];
				CHECK_INT(p->family, c[i].fam == 4 ? AF_INET : AF_INET6);
				CHECK_INT(p->len, c[i].len);
				CHECK(memcmp(p->addr, "\x20\x01\x0d\xb8", 4) == 0);
			}
			CHECK_INT(out_pset.n_bls, 0);
			CHECK_INT(out_pset.conn_rate, 30);	/* the tail read right */
		}
		if (t_cur_failed)
			row_failed("nets: %s", c[i].what);
		t_cur_failed |= was;
	}
	/* the encoder writes any count: the decoder is the one that refuses */
	static struct proto_policy_settings v;
	v = v_pset[4];
	v.n_nets = PROTO_NETS_MAX + 1;
	buf_reset(&b);
	proto_policy_settings_enc(&b, &v);
	expect_rc(dec_kind(K_PSET, -1, &b), -1, "POLICY_SETTINGS encoded with %d nets",
	    PROTO_NETS_MAX + 1);
	buf_free(&b);
	buf_free(&nets);
	buf_free(&bls);
}

/* A blocklist by hand; text fields as raw bytes (a NUL may be inside). */
struct bl_raw {
	const char *zone;
	size_t zlen;
	uint32_t what, n_codes;
	size_t codes_written;
	uint32_t code;
	const char *esc;
	size_t elen;
	const char *text;
	size_t tlen;
};

static void
put_bl_raw(struct buf *b, const struct bl_raw *l)
{
	put_raw_str(b, l->zone, l->zlen);
	wire_put_u32(b, l->what);
	wire_put_u32(b, l->n_codes);
	for (size_t k = 0; k < l->codes_written; k++)
		wire_put_u32(b, 0x7f000000u + (uint32_t)k);
	wire_put_u32(b, l->code);
	put_raw_str(b, l->esc, l->elen);
	put_raw_str(b, l->text, l->tlen);
}

/* Which field of the base list a row changes (policy_settings_blocklists). */
enum bl_field { B_ZONE, B_WHAT, B_CODES, B_CODE, B_ESC, B_TEXT, B_COUNT };

/* Each list: a zone, what in 1..7 (DNSBL_* bits), at most 16 codes, a
 * reply code of 4xx or 5xx, and texts that fit their fields; at most
 * PROTO_BL_MAX lists. */
T(policy_settings_blocklists)
{
	static char big[512];
	fill_name(big, sizeof big - 1, 3);
	static const struct bl_raw ok = { "zen.example", 11, DNSBL_CLIENT, 2, 2, 550, "5.7.1", 5,
		"Mail from {ip} refused", 22 };
	static const struct {
		const char *what;
		enum bl_field f;
		uint32_t v, v2;		/* B_CODES, B_COUNT: count v, v2 written */
		const char *s;		/* B_ZONE, B_ESC, B_TEXT: v bytes of s */
		int want;
	} c[] = {
		{ "what 1", B_WHAT, 1, 0, NULL, 0 },
		{ "what 2", B_WHAT, 2, 0, NULL, 0 },
		{ "what 3", B_WHAT, 3, 0, NULL, 0 },
		{ "what 4", B_WHAT, 4, 0, NULL, 0 },
		{ "what 5", B_WHAT, 5, 0, NULL, 0 },
		{ "what 6", B_WHAT, 6, 0, NULL, 0 },
		{ "what 7", B_WHAT, 7, 0, NULL, 0 },
		{ "what 0", B_WHAT, 0, 0, NULL, -1 },
		{ "what 8", B_WHAT, 8, 0, NULL, -1 },
		{ "what 9", B_WHAT, 9, 0, NULL, -1 },
		{ "what 2^31 + 1", B_WHAT, 0x80000001u, 0, NULL, -1 },
		{ "what 2^32-1", B_WHAT, UINT32_MAX, 0, NULL, -1 },
		{ "no codes", B_CODES, 0, 0, NULL, 0 },
		{ "16 codes", B_CODES, 16, 16, NULL, 0 },
		{ "17 codes", B_CODES, 17, 17, NULL, -1 },
		{ "count 17, 16 sent", B_CODES, 17, 16, NULL, -1 },
		{ "count 2^32-1", B_CODES, UINT32_MAX, 2, NULL, -1 },
		{ "count above the codes", B_CODES, 3, 2, NULL, -1 },
		{ "count below the codes", B_CODES, 1, 2, NULL, -1 },
		{ "code 400", B_CODE, 400, 0, NULL, 0 },
		{ "code 599", B_CODE, 599, 0, NULL, 0 },
		{ "code 0", B_CODE, 0, 0, NULL, -1 },
		{ "code 250", B_CODE, 250, 0, NULL, -1 },
		{ "code 399", B_CODE, 399, 0, NULL, -1 },
		{ "code 600", B_CODE, 600, 0, NULL, -1 },
		{ "code 550 + 2^16", B_CODE, 0x10000u + 550, 0, NULL, -1 },
		{ "code 2^32-1", B_CODE, UINT32_MAX, 0, NULL, -1 },
		{ "zone of 1", B_ZONE, 1, 0, "x", 0 },
		{ "zone of 255", B_ZONE, 255, 0, big, 0 },
		{ "empty zone", B_ZONE, 0, 0, "", -1 },
		{ "zone of 256", B_ZONE, 256, 0, big, -1 },
		{ "NUL in zone", B_ZONE, 11, 0, "zen\0example", -1 },
		{ "empty esc", B_ESC, 0, 0, "", 0 },
		{ "esc of 11", B_ESC, 11, 0, big, 0 },
		{ "esc of 12", B_ESC, 12, 0, big, -1 },
		{ "NUL in esc", B_ESC, 5, 0, "5.7\0001", -1 },
		{ "empty text (the default)", B_TEXT, 0, 0, "", 0 },
		{ "text of 400", B_TEXT, 400, 0, big, 0 },
		{ "text of 401", B_TEXT, 401, 0, big, -1 },
		{ "NUL in text", B_TEXT, 4, 0, "a\0bc", -1 },
		{ "16 lists", B_COUNT, 16, 16, NULL, 0 },
		{ "17 lists", B_COUNT, 17, 17, NULL, -1 },
		{ "count 17, 16 sent", B_COUNT, 17, 16, NULL, -1 },
		{ "count 2^31", B_COUNT, 0x80000000u, 1, NULL, -1 },
		{ "count above the lists", B_COUNT, 2, 1, NULL, -1 },
		{ "count below the lists", B_COUNT, 1, 2, NULL, -1 },
	};
	struct buf b, nets, bls;
	buf_init(&b, 0);
	buf_init(&nets, 0);
	buf_init(&bls, 0);
	wire_put_u32(&nets, 0);
	for (size_t i = 0; i < NELEM(c); i++) {
		struct bl_raw l = ok;
		uint32_t n = 1;
		size_t written = 1;
		switch (c[i].f) {
		case B_ZONE: l.zone = c[i].s; l.zlen = c[i].v; break;
		case B_WHAT: l.what = c[i].v; break;
		case B_CODES: l.n_codes = c[i].v; l.codes_written = c[i].v2; break;
		case B_CODE: l.code = c[i].v; break;
		case B_ESC: l.esc = c[i].s; l.elen = c[i].v; break;
		case B_TEXT: l.text = c[i].s; l.tlen = c[i].v; break;
		case B_COUNT: n = c[i].v; written = c[i].v2; break;
		}
		buf_reset(&bls);
		wire_put_u32(&bls, n);
		for (size_t j = 0; j < written; j++)
			put_bl_raw(&bls, &l);
		put_pset_lists(&b, &nets, &bls);
		int was = t_cur_failed;
		t_cur_failed = 0;
		expect_rc(dec_kind(K_PSET, -1, &b), c[i].want, "POLICY_SETTINGS blocklist: %s",
		    c[i].what);
		if (c[i].want == 0) {
			const struct proto_bl *g = &out_pset.bls[n - 1];
			CHECK_INT(out_pset.n_bls, n);
			CHECK_INT(strlen(g->zone), l.zlen);
			CHECK(memcmp(g->zone, l.zone, l.zlen) == 0);
			CHECK_INT(g->what, l.what);
			CHECK_INT(g->n_codes, l.n_codes);
			if (l.n_codes > 0)
				CHECK_INT(g->codes[l.n_codes - 1], 0x7f000000u + l.n_codes - 1);
			CHECK_INT(g->code, l.code);
			CHECK_INT(strlen(g->esc), l.elen);
			CHECK_INT(strlen(g->text), l.tlen);
			CHECK(memcmp(g->text, l.text, l.tlen) == 0);
			CHECK_INT(out_pset.conn_rate, 30);	/* the tail read right */
		}
		if (t_cur_failed)
			row_failed("blocklist: %s", c[i].what);
		t_cur_failed |= was;
	}
	/* a bad list after good ones */
	buf_reset(&bls);
	wire_put_u32(&bls, PROTO_BL_MAX);
	for (size_t j = 0; j < PROTO_BL_MAX; j++) {
		struct bl_raw l = ok;
		if (j + 1 == PROTO_BL_MAX)
			l.code = 600;
		put_bl_raw(&bls, &l);
	}
	put_pset_lists(&b, &nets, &bls);
	expect_rc(dec_kind(K_PSET, -1, &b), -1, "POLICY_SETTINGS, the 16th list with code 600");
	/* what the encoder writes out of range, the decoder refuses */
	static struct proto_policy_settings v;
	static const struct { const char *what; int field; uint32_t value; } enc[] = {
		{ "17 lists", 0, PROTO_BL_MAX + 1 }, { "17 codes", 1, 17 }, { "what 0", 2, 0 },
		{ "what 8", 2, 8 }, { "code 399", 3, 399 }, { "code 600", 3, 600 },
		{ "empty zone", 4, 0 },
	};
	for (size_t i = 0; i < NELEM(enc); i++) {
		v = v_pset[4];
		struct proto_bl *l = &v.bls[PROTO_BL_MAX - 1];
		switch (enc[i].field) {
		case 0: v.n_bls = enc[i].value; break;
		case 1: l->n_codes = enc[i].value; break;
		case 2: l->what = enc[i].value; break;
		case 3: l->code = enc[i].value; break;
		case 4: l->zone[0] = '\0'; break;
		}
		buf_reset(&b);
		proto_policy_settings_enc(&b, &v);
		expect_rc(dec_kind(K_PSET, -1, &b), -1, "POLICY_SETTINGS encoded with %s",
		    enc[i].what);
	}
	buf_free(&b);
	buf_free(&nets);
	buf_free(&bls);
}

/* The numbers after the lists: greylist an enum conf_grey, auto_ban a
 * boolean, the greylisting prefixes within their family; the others
 * (seconds, counts, ban points) any value. */
T(policy_settings_numbers)
{
	enum { GREYLIST, V4, V6, AUTO_BAN, DELAY, POINTS };
	static const struct { const char *what; int field; uint32_t value; int want; } c[] = {
		{ "greylist off", GREYLIST, 0, 0 },
		{ "greylist on", GREYLIST, 1, 0 },
		{ "greylist listed", GREYLIST, 2, 0 },
		{ "greylist 3", GREYLIST, 3, -1 },
		{ "greylist 2^31", GREYLIST, 0x80000000u, -1 },
		{ "greylist 2^32-1", GREYLIST, UINT32_MAX, -1 },
		{ "auto_ban 0", AUTO_BAN, 0, 0 },
		{ "auto_ban 1", AUTO_BAN, 1, 0 },
		{ "auto_ban 2", AUTO_BAN, 2, -1 },
		{ "auto_ban 2^32-1", AUTO_BAN, UINT32_MAX, -1 },
		{ "greylist IPv4 /8", V4, 8, 0 },
		{ "greylist IPv4 /32", V4, 32, 0 },
		{ "greylist IPv4 /33", V4, 33, -1 },
		{ "greylist IPv4 /2^32-1", V4, UINT32_MAX, -1 },
		{ "greylist IPv6 /16", V6, 16, 0 },
		{ "greylist IPv6 /128", V6, 128, 0 },
		{ "greylist IPv6 /129", V6, 129, -1 },
		{ "greylist IPv6 /2^31", V6, 0x80000000u, -1 },
		{ "delay 0", DELAY, 0, 0 },
		{ "delay 2^32-1", DELAY, UINT32_MAX, 0 },
		{ "ban points 0", POINTS, 0, 0 },
		{ "ban points 2^32-1 (the default)", POINTS, UINT32_MAX, 0 },
	};
	static struct proto_policy_settings v;
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		v = v_pset[3];
		uint32_t *f = c[i].field == GREYLIST ? &v.greylist : c[i].field == V4 ?
		    &v.grey_v4_prefix : c[i].field == V6 ? &v.grey_v6_prefix :
		    c[i].field == AUTO_BAN ? &v.auto_ban : c[i].field == DELAY ? &v.grey_delay :
		    &v.ban_points[3];
		*f = c[i].value;
		buf_reset(&b);
		proto_policy_settings_enc(&b, &v);
		int was = t_cur_failed;
		t_cur_failed = 0;
		expect_rc(dec_kind(K_PSET, -1, &b), c[i].want, "POLICY_SETTINGS %s", c[i].what);
		if (c[i].want == 0)
			check_pset_defences(&out_pset, &v);
		if (t_cur_failed)
			row_failed("%s", c[i].what);
		t_cur_failed |= was;
	}
	/* statedir: 1023 bytes pass, 1024 do not fit; no NUL */
	static char big[1025];
	fill_text(big, sizeof big - 1, 5);
	static const struct { size_t len; long nul_at; int want; } sd[] = {
		{ 0, -1, 0 }, { 1023, -1, 0 }, { 1024, -1, -1 }, { 10, 0, -1 }, { 10, 9, -1 },
	};
	for (size_t i = 0; i < NELEM(sd); i++) {
		char text[1025];
		memcpy(text, big, sizeof text);
		if (sd[i].nul_at >= 0)
			text[sd[i].nul_at] = '\0';
		buf_reset(&b);
		wire_put_u32(&b, 1);
		wire_put_u32(&b, 100);
		wire_put_u32(&b, 10);
		wire_put_u32(&b, 64);
		wire_put_u32(&b, 1);
		wire_put_str(&b, "127.0.0.1@53");
		wire_put_str(&b, "");
		wire_put_u32(&b, 10);
		wire_put_str(&b, "mx.example.org");
		wire_put_str(&b, "");
		put_raw_str(&b, text, sd[i].len);
		for (int k = 0; k < 2 + 13 + 8; k++)	/* no lists, zeros */
			wire_put_u32(&b, 0);
		expect_rc(dec_kind(K_PSET, -1, &b), sd[i].want,
		    "POLICY_SETTINGS statedir of %zu bytes, NUL at %ld", sd[i].len, sd[i].nul_at);
		if (sd[i].want == 0)
			CHECK_INT(strlen(out_pset.statedir), sd[i].len);
	}
	buf_free(&b);
}

/* ---- smtp <-> policy: DNSBL, DNSBL_REPLY -------------------------------- */

/* DNSBL by hand: session, what, then helo and from as raw fields. */
static void
put_dnsbl(struct buf *b, uint32_t what, const char *helo, size_t hlen, const char *from,
    size_t flen)
{
	buf_reset(b);
	wire_put_u64(b, 42);
	wire_put_u32(b, what);
	put_raw_str(b, helo, hlen);
	put_raw_str(b, from, flen);
}

/* what is a non-empty set of DNSBL_* bits; the domains reach the policy
 * process's log and questions: no control bytes, at most 255 bytes. */
T(dnsbl_what_and_domains)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (uint32_t what = 0; what < 20; what++) {
		put_dnsbl(&b, what, "mx.example.net", 14, "example.org", 11);
		int want = what >= 1 && what <= 7 ? 0 : -1;
		expect_rc(dec_kind(K_DNSBL, -1, &b), want, "DNSBL what %u", what);
		if (want == 0) {
			CHECK(out_dnsbl.session == 42);
			CHECK_INT(out_dnsbl.what, what);
			CHECK_STR(out_dnsbl.helo, "mx.example.net");
			CHECK_STR(out_dnsbl.from, "example.org");
		}
	}
	static const uint32_t bad_what[] = { 0x80000001u, 0x100u | DNSBL_CLIENT, UINT32_MAX };
	for (size_t i = 0; i < NELEM(bad_what); i++) {
		put_dnsbl(&b, bad_what[i], "", 0, "", 0);
		expect_rc(dec_kind(K_DNSBL, -1, &b), -1, "DNSBL what %08x", bad_what[i]);
	}
	static const struct { uint8_t c; int want; } bytes[] = {
		{ 0x01, -1 }, { 0x09, -1 }, { 0x0a, -1 }, { 0x0d, -1 }, { 0x1b, -1 },
		{ 0x1f, -1 }, { 0x7f, -1 }, { 0x00, -1 },	/* NUL: wire.c refuses */
		{ 0x20, 0 }, { 0x5b, 0 }, { 0x7e, 0 }, { 0x80, 0 }, { 0xc3, 0 }, { 0xff, 0 },
	};
	static const size_t at[] = { 0, 5, 13 };	/* first, inside, last */
	for (int field = 0; field < 2; field++)
		for (size_t i = 0; i < NELEM(bytes); i++)
			for (size_t j = 0; j < NELEM(at); j++) {
				char d[15];
				memcpy(d, "mx.example.net", 15);
				d[at[j]] = (char)bytes[i].c;
				if (field == 0)
					put_dnsbl(&b, 7, d, 14, "example.org", 11);
				else
					put_dnsbl(&b, 7, "h.example", 9, d, 14);
				expect_rc(dec_kind(K_DNSBL, -1, &b), bytes[i].want,
				    "DNSBL %s with byte %02x at %zu", field ? "from" : "helo",
				    bytes[i].c, at[j]);
			}
	/* 255 bytes each pass (sample 4), 256 do not fit */
	static char big[300];
	fill_name(big, 256, 2);
	put_dnsbl(&b, 2, big, 256, "", 0);
	expect_rc(dec_kind(K_DNSBL, -1, &b), -1, "DNSBL helo of 256 bytes");
	put_dnsbl(&b, 4, "", 0, big, 256);
	expect_rc(dec_kind(K_DNSBL, -1, &b), -1, "DNSBL from of 256 bytes");
	put_dnsbl(&b, 6, big, 255, big, 255);
	expect_rc(dec_kind(K_DNSBL, -1, &b), 0, "DNSBL helo and from of 255 bytes");
	/* the encoder writes any what: the decoder is the one that refuses */
	struct proto_dnsbl v = v_dnsbl[0];
	v.what = 8;
	buf_reset(&b);
	proto_dnsbl_enc(&b, &v);
	expect_rc(dec_kind(K_DNSBL, -1, &b), -1, "DNSBL encoded with what 8");
	buf_free(&b);
}

/* DNSBL_REPLY by hand: five numbers, esc and text as raw fields, failed. */
static void
put_dnsbl_reply(struct buf *b, uint32_t result, uint32_t what, uint32_t code,
    const char *esc, size_t elen, const char *text, size_t tlen)
{
	buf_reset(b);
	wire_put_u32(b, result);
	wire_put_u32(b, 3);		/* list */
	wire_put_u32(b, 0x7f000002);	/* answer */
	wire_put_u32(b, what);
	wire_put_u32(b, code);
	put_raw_str(b, esc, elen);
	put_raw_str(b, text, tlen);
	wire_put_u32(b, 1);		/* failed */
}

/* A listing is a refusal the client reads: a 4xx or 5xx code and the one
 * kind of question that listed.  "Not listed" carries no meaning in those
 * fields.  esc and text go to the client: printable ASCII. */
T(dnsbl_reply_results_codes_texts)
{
	static const struct { uint32_t result, what, code; int want; } c[] = {
		{ DNSBL_NOT_LISTED, 0, 0, 0 },
		{ DNSBL_LISTED, DNSBL_CLIENT, 550, 0 },
		{ DNSBL_LISTED, DNSBL_HELO, 554, 0 },
		{ DNSBL_LISTED, DNSBL_FROM, 451, 0 },
		{ DNSBL_LISTED, DNSBL_CLIENT, 400, 0 },
		{ DNSBL_LISTED, DNSBL_CLIENT, 599, 0 },
		{ 2, DNSBL_CLIENT, 550, -1 },
		{ 0x80000001u, DNSBL_CLIENT, 550, -1 },
		{ UINT32_MAX, 0, 0, -1 },
		{ DNSBL_LISTED, DNSBL_CLIENT, 0, -1 },
		{ DNSBL_LISTED, DNSBL_CLIENT, 250, -1 },
		{ DNSBL_LISTED, DNSBL_CLIENT, 399, -1 },
		{ DNSBL_LISTED, DNSBL_CLIENT, 600, -1 },
		{ DNSBL_LISTED, DNSBL_CLIENT, 0x10000u + 550, -1 },
		{ DNSBL_LISTED, DNSBL_CLIENT, UINT32_MAX, -1 },
		{ DNSBL_LISTED, 0, 550, -1 },
		{ DNSBL_LISTED, DNSBL_HELO | DNSBL_FROM, 550, -1 },
		{ DNSBL_LISTED, DNSBL_CLIENT | DNSBL_HELO, 550, -1 },
		{ DNSBL_LISTED, 7, 550, -1 },
		{ DNSBL_LISTED, 8, 550, -1 },
		{ DNSBL_LISTED, 0x100u | DNSBL_CLIENT, 550, -1 },
		{ DNSBL_LISTED, UINT32_MAX, 550, -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		put_dnsbl_reply(&b, c[i].result, c[i].what, c[i].code, "5.7.1", 5, "Go away", 7);
		int was = t_cur_failed;
		t_cur_failed = 0;
		expect_rc(dec_kind(K_DNSBL_REPLY, -1, &b), c[i].want,
		    "DNSBL_REPLY result %u what %u code %u", c[i].result, c[i].what, c[i].code);
		if (c[i].want == 0) {
			CHECK_INT(out_dnsbl_reply.result, c[i].result);
			CHECK_INT(out_dnsbl_reply.list, 3);
			CHECK_INT(out_dnsbl_reply.answer, 0x7f000002);
			CHECK_INT(out_dnsbl_reply.what, c[i].what);
			CHECK_INT(out_dnsbl_reply.code, c[i].code);
			CHECK_STR(out_dnsbl_reply.esc, "5.7.1");
			CHECK_STR(out_dnsbl_reply.text, "Go away");
			CHECK_INT(out_dnsbl_reply.failed, 1);
		}
		t_cur_failed |= was;
	}
	static const struct { uint8_t c; int want; } bytes[] = {
		{ 0x01, -1 }, { 0x09, -1 }, { 0x0a, -1 }, { 0x0d, -1 }, { 0x1f, -1 },
		{ 0x7f, -1 }, { 0x80, -1 }, { 0xc3, -1 }, { 0xff, -1 },
		{ 0x00, -1 },	/* NUL: wire.c refuses */
		{ 0x20, 0 }, { 0x22, 0 }, { 0x5c, 0 }, { 0x7e, 0 },
	};
	for (int field = 0; field < 2; field++)
		for (size_t i = 0; i < NELEM(bytes); i++)
			for (size_t at = 0; at < 5; at += 2) {
				char esc[6] = "5.7.1", text[6] = "Go aw";
				(field ? text : esc)[at] = (char)bytes[i].c;
				put_dnsbl_reply(&b, DNSBL_LISTED, DNSBL_CLIENT, 550, esc, 5, text,
				    5);
				expect_rc(dec_kind(K_DNSBL_REPLY, -1, &b), bytes[i].want,
				    "DNSBL_REPLY %s with byte %02x at %zu", field ? "text" : "esc",
				    bytes[i].c, at);
			}
	/* each at its maximum passes (sample 5), one more does not fit */
	static char big[401];
	fill_text(big, sizeof big - 1, 6);
	put_dnsbl_reply(&b, DNSBL_LISTED, DNSBL_HELO, 550, big, 12, "x", 1);
	expect_rc(dec_kind(K_DNSBL_REPLY, -1, &b), -1, "DNSBL_REPLY esc of 12 bytes");
	put_dnsbl_reply(&b, DNSBL_LISTED, DNSBL_HELO, 550, "5.7.1", 5, big, 400);
	expect_rc(dec_kind(K_DNSBL_REPLY, -1, &b), -1, "DNSBL_REPLY text of 400 bytes");
	put_dnsbl_reply(&b, DNSBL_LISTED, DNSBL_HELO, 550, big, 11, big, 399);
	expect_rc(dec_kind(K_DNSBL_REPLY, -1, &b), 0, "DNSBL_REPLY esc 11, text 399 bytes");
	/* a listing without a code, from the encoder */
	struct proto_dnsbl_reply v = v_dnsbl_reply[1];
	v.code = 0;
	buf_reset(&b);
	proto_dnsbl_reply_enc(&b, &v);
	expect_rc(dec_kind(K_DNSBL_REPLY, -1, &b), -1, "DNSBL_REPLY LISTED encoded with code 0");
	buf_free(&b);
}

/* ---- smtp <-> policy: GREY, GREY_REPLY, EVENT ---------------------------- */

static void
put_grey(struct buf *b, const char *sender, size_t slen, const char *rcpt, size_t rlen)
{
	buf_reset(b);
	wire_put_u64(b, 7);
	put_raw_str(b, sender, slen);
	put_raw_str(b, rcpt, rlen);
}

/* The triplet's texts reach the log and the greylist's keys: no control
 * bytes, at most PROTO_SENDER_MAX; a recipient always, a sender may be
 * the null sender. */
T(grey_triplet)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	put_grey(&b, "", 0, "bob@example.org", 15);
	expect_rc(dec_kind(K_GREY, -1, &b), 0, "GREY null sender");
	CHECK(out_grey.session == 7);
	CHECK_STR(out_grey.sender, "");
	CHECK_STR(out_grey.rcpt, "bob@example.org");
	put_grey(&b, "a@example.net", 13, "", 0);
	expect_rc(dec_kind(K_GREY, -1, &b), -1, "GREY without a recipient");
	put_grey(&b, "", 0, "", 0);
	expect_rc(dec_kind(K_GREY, -1, &b), -1, "GREY with nothing");
	static const struct { uint8_t c; int want; } bytes[] = {
		{ 0x01, -1 }, { 0x09, -1 }, { 0x0a, -1 }, { 0x0d, -1 }, { 0x1b, -1 },
		{ 0x1f, -1 }, { 0x7f, -1 }, { 0x00, -1 },	/* NUL: wire.c refuses */
		{ 0x20, 0 }, { 0x22, 0 }, { 0x7e, 0 }, { 0x80, 0 }, { 0xc3, 0 }, { 0xff, 0 },
	};
	static const size_t at[] = { 0, 5, 15 };	/* first, inside, last */
	for (int field = 0; field < 2; field++)
		for (size_t i = 0; i < NELEM(bytes); i++)
			for (size_t j = 0; j < NELEM(at); j++) {
				char t[17];
				memcpy(t, "bob@example.org.", 17);
				t[at[j]] = (char)bytes[i].c;
				if (field == 0)
					put_grey(&b, t, 16, "r@example.org", 13);
				else
					put_grey(&b, "s@example.org", 13, t, 16);
				expect_rc(dec_kind(K_GREY, -1, &b), bytes[i].want,
				    "GREY %s with byte %02x at %zu", field ? "rcpt" : "sender",
				    bytes[i].c, at[j]);
			}
	/* PROTO_SENDER_MAX bytes pass (sample 3), one more does not fit */
	static char big[PROTO_SENDER_MAX + 2];
	fill_text(big, PROTO_SENDER_MAX + 1, 8);
	put_grey(&b, big, PROTO_SENDER_MAX + 1, "r@example.org", 13);
	expect_rc(dec_kind(K_GREY, -1, &b), -1, "GREY sender of %d bytes", PROTO_SENDER_MAX + 1);
	put_grey(&b, "s@example.org", 13, big, PROTO_SENDER_MAX + 1);
	expect_rc(dec_kind(K_GREY, -1, &b), -1, "GREY rcpt of %d bytes", PROTO_SENDER_MAX + 1);
	/* the encoder sends an empty recipient as it is */
	struct proto_grey *v = xmalloc(sizeof *v);
	*v = v_grey[0];
	v->rcpt[0] = '\0';
	buf_reset(&b);
	proto_grey_enc(&b, v);
	expect_rc(dec_kind(K_GREY, -1, &b), -1, "GREY encoded without a recipient");
	free(v);
	buf_free(&b);
}

static void
put_grey_reply(struct buf *b, uint32_t result, const char *state, size_t slen, const char *net,
    size_t nlen)
{
	buf_reset(b);
	wire_put_u32(b, result);
	wire_put_u32(b, 300);
	put_raw_str(b, state, slen);
	put_raw_str(b, net, nlen);
}

/* result is one of three; state and net are log text: printable ASCII,
 * at most 31 and 63 bytes. */
T(grey_reply_results_texts)
{
	static const struct { uint32_t r; int want; } res[] = {
		{ GREY_R_PASS, 0 }, { GREY_R_WAIT, 0 }, { GREY_R_ERROR, 0 }, { 3, -1 },
		{ 0x80000000u, -1 }, { 0x100u | GREY_R_WAIT, -1 }, { UINT32_MAX, -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(res); i++) {
		put_grey_reply(&b, res[i].r, "new", 3, "192.0.2.0/24", 12);
		expect_rc(dec_kind(K_GREY_REPLY, -1, &b), res[i].want, "GREY_REPLY result %u",
		    res[i].r);
		if (res[i].want == 0) {
			CHECK_INT(out_grey_reply.result, res[i].r);
			CHECK_INT(out_grey_reply.retry, 300);
			CHECK_STR(out_grey_reply.state, "new");
			CHECK_STR(out_grey_reply.net, "192.0.2.0/24");
		}
	}
	static const struct { uint8_t c; int want; } bytes[] = {
		{ 0x01, -1 }, { 0x0a, -1 }, { 0x0d, -1 }, { 0x7f, -1 }, { 0x80, -1 }, { 0xff, -1 },
		{ 0x00, -1 }, { 0x20, 0 }, { 0x7e, 0 },
	};
	for (int field = 0; field < 2; field++)
		for (size_t i = 0; i < NELEM(bytes); i++) {
			char t[6] = "early";
			t[2] = (char)bytes[i].c;
			if (field == 0)
				put_grey_reply(&b, GREY_R_WAIT, t, 5, "192.0.2.0/24", 12);
			else
				put_grey_reply(&b, GREY_R_WAIT, "new", 3, t, 5);
			expect_rc(dec_kind(K_GREY_REPLY, -1, &b), bytes[i].want,
			    "GREY_REPLY %s with byte %02x", field ? "net" : "state", bytes[i].c);
		}
	/* each at its maximum passes (sample 3), one more does not fit */
	static char big[65];
	fill_text(big, sizeof big - 1, 9);
	put_grey_reply(&b, GREY_R_PASS, big, 32, "", 0);
	expect_rc(dec_kind(K_GREY_REPLY, -1, &b), -1, "GREY_REPLY state of 32 bytes");
	put_grey_reply(&b, GREY_R_PASS, "", 0, big, 64);
	expect_rc(dec_kind(K_GREY_REPLY, -1, &b), -1, "GREY_REPLY net of 64 bytes");
	buf_free(&b);
}

/* An event is a ban event (policy/bans.h): 0 .. PROTO_BAN_EVENTS - 1. */
T(event_numbers)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	static const uint32_t bad[] = { PROTO_BAN_EVENTS, PROTO_BAN_EVENTS + 1, 0x100u,
		0x80000000u, UINT32_MAX };
	for (uint32_t e = 0; e < PROTO_BAN_EVENTS; e++) {
		buf_reset(&b);
		proto_event_enc(&b, &(struct proto_event){ .session = UINT64_MAX - e, .event = e });
		expect_rc(dec_kind(K_EVENT, -1, &b), 0, "EVENT %u", e);
		CHECK(out_event.session == UINT64_MAX - e);
		CHECK_INT(out_event.event, e);
	}
	for (size_t i = 0; i < NELEM(bad); i++) {
		buf_reset(&b);
		proto_event_enc(&b, &(struct proto_event){ .session = 1, .event = bad[i] });
		expect_rc(dec_kind(K_EVENT, -1, &b), -1, "EVENT %u", bad[i]);
	}
	buf_free(&b);
}

/* ---- parent <-> policy: POLICY_CTL, POLICY_CTL_REPLY --------------------- */

T(policy_ctl_line)
{
	static char big[514];
	fill_text(big, sizeof big - 1, 10);
	static const struct { const char *s; size_t len; int want; } c[] = {
		{ "ban list", 8, 0 }, { "", 0, 0 }, { big, 511, 0 }, { big, 512, -1 },
		{ "ban\0list", 8, -1 }, { "ban list\0", 9, -1 },
	};
	struct buf b;
	buf_init(&b, IPC_MAX);
	for (size_t i = 0; i < NELEM(c); i++) {
		buf_reset(&b);
		put_raw_str(&b, c[i].s, c[i].len);
		expect_rc(dec_kind(K_POLICY_CTL, -1, &b), c[i].want, "POLICY_CTL line case %zu", i);
		if (c[i].want == 0) {
			CHECK_INT(strlen(out_ctl.line), c[i].len);
			CHECK(memcmp(out_ctl.line, c[i].s, c[i].len) == 0);
		}
	}
	buf_free(&b);
}

/* ok is a boolean; the body at most PROTO_CTL_BODY_MAX bytes, handed over
 * NUL-terminated; the encoder cuts a longer body rather than send a
 * message the parent must refuse. */
T(policy_ctl_reply_body)
{
	struct buf b;
	buf_init(&b, 0);
	static const uint32_t oks[] = { 0, 1, 2, 0x80000001u, UINT32_MAX };
	for (size_t i = 0; i < NELEM(oks); i++) {
		buf_reset(&b);
		proto_policy_ctl_reply_enc(&b, oks[i], "x", 1);
		expect_rc(dec_kind(K_POLICY_CTL_REPLY, -1, &b), oks[i] <= 1 ? 0 : -1,
		    "POLICY_CTL_REPLY ok %u", oks[i]);
		if (oks[i] <= 1)
			CHECK_INT(out_ctl_reply.ok, oks[i]);
	}
	/* by hand: one byte over the limit, and length fields past the end */
	static char big[PROTO_CTL_BODY_MAX + 2];
	memset(big, 'b', sizeof big);
	buf_reset(&b);
	wire_put_u32(&b, 1);
	put_raw_str(&b, big, PROTO_CTL_BODY_MAX + 1);
	expect_rc(dec_kind(K_POLICY_CTL_REPLY, -1, &b), -1, "POLICY_CTL_REPLY body of %d bytes",
	    PROTO_CTL_BODY_MAX + 1);
	static const uint32_t lens[] = { 2, 0x80000000u, UINT32_MAX };
	for (size_t i = 0; i < NELEM(lens); i++) {
		buf_reset(&b);
		wire_put_u32(&b, 1);
		wire_put_u32(&b, lens[i]);
		buf_putc(&b, 'x');
		expect_rc(dec_kind(K_POLICY_CTL_REPLY, -1, &b), -1,
		    "POLICY_CTL_REPLY length field %08x", lens[i]);
	}
	/* the encoder cuts */
	buf_reset(&b);
	proto_policy_ctl_reply_enc(&b, 1, big, sizeof big);
	CHECK(!b.err && b.len <= IPC_MAX - 16);
	expect_rc(dec_kind(K_POLICY_CTL_REPLY, -1, &b), 0, "POLICY_CTL_REPLY cut body");
	CHECK(out_ctl_reply.body != NULL && strlen(out_ctl_reply.body) == PROTO_CTL_BODY_MAX);
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
	uint32_t bn = 7;
	CHECK(wire_bytes(r, 100, &bn) == NULL);
	CHECK_INT(bn, 0);
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

	uint32_t bn;
	n = unhex("00000003 610062 00000001 61", q, sizeof q);
	wire_rd_init(&r, q, n);
	CHECK(wire_bytes(&r, 2, &bn) == NULL);
	check_sticky(&r, "bytes too long");

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

/* A byte field: u32 length + bytes, NUL allowed, at most max. */
T(wire_bytes_read)
{
	static const struct {
		const char *hex;
		size_t max;
		const char *want;	/* hex of the bytes; NULL: refused */
		const char *err;
	} c[] = {
		{ "00000003 610062", 3, "610062", NULL },
		{ "00000003 000000", 3, "000000", NULL },
		{ "00000001 00", 1, "00", NULL },
		{ "00000000", 0, "", NULL },
		{ "00000000", 100, "", NULL },
		{ "00000003 610062", 2, NULL, "bytes too long" },
		{ "00000001 00", 0, NULL, "bytes too long" },
		{ "00000004 610062", 10, NULL, "truncated" },
		{ "00000003", 10, NULL, "truncated" },
		{ "000000", 10, NULL, "truncated" },
		{ "", 10, NULL, "truncated" },
		{ "ffffffff 61", UINT16_MAX, NULL, "bytes too long" },
		{ "00010000 61", UINT16_MAX, NULL, "bytes too long" },
		{ "0000ffff 61", UINT16_MAX, NULL, "truncated" },
		/* a huge length with no limit is only a truncation, no overflow */
		{ "ffffffff 6162", SIZE_MAX, NULL, "truncated" },
		{ "80000000 6162", SIZE_MAX, NULL, "truncated" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		uint8_t p[16], want[16];
		size_t n = unhex(c[i].hex, p, sizeof p);
		/* an exact-size copy: reading past it is an ASan report */
		uint8_t *heap = xmalloc(n ? n : 1);
		memcpy(heap, p, n);
		struct wire_rd r;
		uint32_t len = 99;
		int was = t_cur_failed;
		t_cur_failed = 0;
		wire_rd_init(&r, heap, n);
		const uint8_t *got = wire_bytes(&r, c[i].max, &len);
		if (c[i].want != NULL) {
			size_t wn = unhex(c[i].want, want, sizeof want);
			CHECK(got != NULL);
			CHECK_INT(len, wn);
			CHECK(got == NULL || wn == 0 || memcmp(got, want, wn) == 0);
			/* a pointer into the payload, no copy */
			CHECK(got == NULL || got == heap + 4);
			CHECK_INT(wire_end(&r), 0);
		} else {
			CHECK(got == NULL);
			CHECK_INT(wire_end(&r), -1);
			CHECK_STR(r.err, c[i].err);
		}
		free(heap);
		if (t_cur_failed)
			row_failed("\"%s\" at most %zu", c[i].hex, c[i].max);
		t_cur_failed |= was;
	}
	/* two fields in a row, then leftovers */
	uint8_t p[32];
	size_t n = unhex("00000002 0000 00000000 00000001 ff 00", p, sizeof p);
	struct wire_rd r;
	uint32_t len;
	wire_rd_init(&r, p, n);
	CHECK(wire_bytes(&r, 2, &len) == p + 4 && len == 2);
	CHECK(wire_bytes(&r, 2, &len) != NULL && len == 0);
	CHECK(wire_bytes(&r, 2, &len) == p + 14 && len == 1);
	CHECK_INT(wire_end(&r), -1);
	CHECK_STR(r.err, "trailing bytes");
}

T(wire_put_bytes_layout)
{
	struct buf b;
	buf_init(&b, 0);
	wire_put_bytes(&b, "a\0b", 3);
	CHECK_HEX(&b, "00000003 610062");
	buf_reset(&b);
	wire_put_bytes(&b, "", 0);
	wire_put_bytes(&b, NULL, 0);
	CHECK_HEX(&b, "00000000 00000000");
	buf_reset(&b);
	wire_put_bytes(&b, "\0", 1);
	CHECK_HEX(&b, "00000001 00");
	buf_free(&b);

	/* the longest a record may be (UINT16_MAX), every byte value, back */
	static uint8_t big[UINT16_MAX];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 31);
	buf_init(&b, 0);	/* 4 + 65535 bytes: more than IPC_MAX */
	wire_put_bytes(&b, big, sizeof big);
	CHECK(!b.err);
	CHECK_INT(b.len, 4 + sizeof big);
	struct wire_rd r;
	uint32_t len;
	wire_rd_init(&r, b.data, b.len);
	const uint8_t *got = wire_bytes(&r, UINT16_MAX, &len);
	CHECK(got != NULL && len == sizeof big && memcmp(got, big, sizeof big) == 0);
	CHECK_INT(wire_end(&r), 0);
	/* one byte under the limit is one too few */
	wire_rd_init(&r, b.data, b.len);
	CHECK(wire_bytes(&r, UINT16_MAX - 1, &len) == NULL);
	CHECK_STR(r.err, "bytes too long");
	buf_free(&b);

	/* a full buffer sets the sticky error, never writes past max */
	buf_init(&b, 10);
	wire_put_bytes(&b, "abcdef", 6);
	CHECK(!b.err);
	wire_put_bytes(&b, "", 0);
	CHECK(b.err);
	CHECK(b.len <= 10);
	buf_free(&b);
	buf_init(&b, 10);
	wire_put_bytes(&b, "abcdefg", 7);
	CHECK(b.err);
	CHECK(b.len <= 10);
	buf_free(&b);
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
	RUN(ctl_reply_text_only);
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
	RUN(spf_texts_no_controls);
	RUN(spf_reply_results_and_texts);
	RUN(rdns_reply_status_and_name);
	RUN(lookup_question_counts);
	RUN(lookup_question_type_and_name);
	RUN(lookup_reply_refusals);
	RUN(lookup_reply_why_mapped);
	RUN(lookup_reply_too_big_is_cut);
	RUN(policy_settings_resolver);
	RUN(access_tag_and_local);
	RUN(access_key_bytes_and_length);
	RUN(access_reply_actions_and_codes);
	RUN(access_reply_texts);
	RUN(policy_settings_nets);
	RUN(policy_settings_blocklists);
	RUN(policy_settings_numbers);
	RUN(dnsbl_what_and_domains);
	RUN(dnsbl_reply_results_codes_texts);
	RUN(grey_triplet);
	RUN(grey_reply_results_texts);
	RUN(event_numbers);
	RUN(policy_ctl_line);
	RUN(policy_ctl_reply_body);
	RUN(wire_put_layout);
	RUN(wire_read_layout);
	RUN(wire_end_refuses_leftovers);
	RUN(wire_sticky_error);
	RUN(wire_u64_truncated_reads_0);
	RUN(wire_string_limits);
	RUN(wire_sockaddr_read);
	RUN(wire_bytes_read);
	RUN(wire_put_bytes_layout);
	free_values();
	close(test_pipe[0]);
	close(test_pipe[1]);
	return t_done("proto");
}

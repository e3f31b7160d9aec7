/*
 * fuzz/fuzz_proto.c - every IPC decoder of src/proto/ (a sibling process
 * may have been taken over, so what it sends is hostile input).
 *
 * Input: byte 0 picks the message: its low 7 bits, modulo the table below,
 * the type; bit 7 whether a descriptor (/dev/null, opened once) comes with
 * it.  The rest is the payload.  Whatever decodes must be in range, and
 * must encode back to exactly the payload: one value, one encoding.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/ipc.h"
#include "core/util.h"
#include "mail/spool.h"
#include "proto/dns.h"
#include "proto/parent.h"
#include "proto/proto.h"
#include "proto/queue_deliver.h"
#include "proto/smtp_policy.h"
#include "proto/smtp_queue.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every enum proto_type; byte 0 indexes this (seeds in fuzz/corpus/proto
 * depend on the order: append, never reorder). */
static const uint32_t fuzz_types[] = {
	PROTO_STOP, PROTO_PEER, PROTO_QUEUE_SETTINGS, PROTO_DELIVER_SETTINGS,
	PROTO_POLICY_SETTINGS,
	PROTO_OPEN, PROTO_OPEN_OK, PROTO_OPEN_FAIL, PROTO_COMMIT, PROTO_COMMIT_OK,
	PROTO_COMMIT_FAIL, PROTO_ABORT,
	PROTO_DELIVER, PROTO_DELIVER_DONE,
	PROTO_ADMIT, PROTO_ADMIT_REPLY, PROTO_ADMIT_END, PROTO_ADMIT_HOLD,
	PROTO_REPORT, PROTO_MAILBOXES,
	PROTO_DNS_ZONE,
};
#define FUZZ_FD_BIT 0x80

static int devnull = -1;

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

/* Decoded values; filled with a pattern before each decode so a field the
 * decoder forgot shows up in the re-encoding. */
static union {
	struct proto_stop stop;
	struct proto_peer peer;
	struct proto_queue_settings qset;
	struct proto_deliver_settings dset;
	struct proto_policy_settings pset;
	struct proto_qid qid;
	struct proto_commit commit;
	struct proto_errno err;
	struct proto_deliver deliver;
	struct proto_deliver_done done;
	struct proto_admit admit;
	struct proto_admit_reply reply;
	struct proto_report report;
	struct proto_mailboxes mbox;
	struct proto_dns_zone zone;
} out;

/* Decode len bytes at p as a message of this type carrying fd; when that
 * succeeds, check the value is in range and encode it again into re.
 * 0 or -1 (refused). */
static int
fuzz_decode(uint32_t type, int fd, const uint8_t *p, size_t len, struct buf *re)
{
	const struct ipc_msg m = { .type = type, .id = 1, .fd = fd, .data = p, .len = len };
	memset(&out, 0xa5, sizeof out);
	switch (type) {
	case PROTO_STOP:
		if (proto_stop_dec(&m, &out.stop) < 0)
			return -1;
		proto_stop_enc(re, &out.stop);
		break;
	case PROTO_PEER:
		if (proto_peer_dec(&m, &out.peer) < 0)
			return -1;
		REQUIRE(fd >= 0 && out.peer.role < ROLE_COUNT);
		proto_peer_enc(re, &out.peer);
		break;
	case PROTO_MAILBOXES:
		if (proto_mailboxes_dec(&m, &out.mbox) < 0)
			return -1;
		REQUIRE(out.mbox.n <= PROTO_MAILBOXES_MAX && out.mbox.last <= 1);
		for (uint32_t i = 0; i < out.mbox.n; i++)
			REQUIRE(spool_user_valid(out.mbox.name[i]));
		proto_mailboxes_enc(re, &out.mbox);
		break;
	case PROTO_DNS_ZONE:
		if (proto_dns_zone_dec(&m, &out.zone) < 0)
			return -1;
		REQUIRE(out.zone.count <= PROTO_DNS_ZONES_MAX && out.zone.n_allow <= PROTO_DNS_PEERS_MAX &&
		    out.zone.n_notify <= PROTO_DNS_PEERS_MAX && out.zone.key_len <= sizeof out.zone.key);
		REQUIRE(out.zone.count == 0 ? fd < 0 : (fd >= 0 && out.zone.index < out.zone.count));
		for (uint32_t i = 0; i < out.zone.n_allow; i++)
			REQUIRE((out.zone.allow[i].family == 4 && out.zone.allow[i].len <= 32) ||
			    (out.zone.allow[i].family == 6 && out.zone.allow[i].len <= 128));
		proto_dns_zone_enc(re, &out.zone);
		break;
	case PROTO_REPORT:
		if (proto_report_dec(&m, &out.report) < 0)
			return -1;
		REQUIRE(out.report.role < ROLE_COUNT &&
		    strlen(out.report.reason) <= PROTO_REASON_MAX);
		proto_report_enc(re, &out.report);
		break;
	case PROTO_QUEUE_SETTINGS:
		if (proto_queue_settings_dec(&m, &out.qset) < 0)
			return -1;
		REQUIRE(strlen(out.qset.hostname) <= PROTO_HOSTNAME_MAX);
		proto_queue_settings_enc(re, &out.qset);
		break;
	case PROTO_DELIVER_SETTINGS:
		if (proto_deliver_settings_dec(&m, &out.dset) < 0)
			return -1;
		REQUIRE(strlen(out.dset.hostname) <= PROTO_HOSTNAME_MAX);
		proto_deliver_settings_enc(re, &out.dset);
		break;
	case PROTO_POLICY_SETTINGS:
		if (proto_policy_settings_dec(&m, &out.pset) < 0)
			return -1;
		REQUIRE(out.pset.ipv6_prefix >= 1 && out.pset.ipv6_prefix <= 128);
		proto_policy_settings_enc(re, &out.pset);
		break;
	case PROTO_OPEN:
	case PROTO_COMMIT_OK:
	case PROTO_ADMIT_END:
		if (proto_empty_dec(&m) < 0)
			return -1;
		REQUIRE(len == 0);
		break;
	case PROTO_OPEN_OK:
	case PROTO_ABORT:
		if (proto_qid_dec(&m, &out.qid) < 0)
			return -1;
		REQUIRE(spool_qid_valid(out.qid.qid));
		REQUIRE(type != PROTO_OPEN_OK || fd >= 0);
		proto_qid_enc(re, &out.qid);
		break;
	case PROTO_COMMIT:
		if (proto_commit_dec(&m, &out.commit) < 0)
			return -1;
		REQUIRE(spool_qid_valid(out.commit.qid));
		proto_commit_enc(re, &out.commit);
		break;
	case PROTO_OPEN_FAIL:
	case PROTO_COMMIT_FAIL:
		if (proto_errno_dec(&m, &out.err) < 0)
			return -1;
		REQUIRE(out.err.err != 0);	/* else a failure reads as success */
		proto_errno_enc(re, &out.err);
		break;
	case PROTO_DELIVER:
		if (proto_deliver_dec(&m, &out.deliver) < 0)
			return -1;
		REQUIRE(fd >= 0);
		REQUIRE(out.deliver.n >= 1 && out.deliver.n <= PROTO_DELIVER_MAX);
		for (uint32_t i = 0; i < out.deliver.n; i++)
			for (uint32_t k = 0; k < i; k++)
				REQUIRE(out.deliver.idx[k] != out.deliver.idx[i]);
		/* recovering is a bool here but a byte on the wire: the round
		 * trip holds only because the decoder refuses bytes above 1 */
		proto_deliver_enc(re, &out.deliver);
		break;
	case PROTO_DELIVER_DONE:
		if (proto_deliver_done_dec(&m, &out.done) < 0)
			return -1;
		REQUIRE(out.done.n >= 1 && out.done.n <= PROTO_DELIVER_MAX);
		for (uint32_t i = 0; i < out.done.n; i++)
			REQUIRE(strlen(out.done.item[i].text) <= PROTO_DONE_TEXT_MAX);
		proto_deliver_done_enc(re, &out.done);
		break;
	case PROTO_ADMIT:
	case PROTO_ADMIT_HOLD:
		if (proto_admit_dec(&m, &out.admit) < 0)
			return -1;
		REQUIRE((out.admit.addr.ss_family == AF_INET &&
			    out.admit.addrlen == sizeof(struct sockaddr_in)) ||
		    (out.admit.addr.ss_family == AF_INET6 &&
			out.admit.addrlen == sizeof(struct sockaddr_in6)));
		proto_admit_enc(re, &out.admit);
		break;
	case PROTO_ADMIT_REPLY:
		if (proto_admit_reply_dec(&m, &out.reply) < 0)
			return -1;
		REQUIRE(out.reply.verdict <= ADMIT_TOO_MANY_IP);
		proto_admit_reply_enc(re, &out.reply);
		break;
	default:
		abort();	/* fuzz_types lists a type this switch lacks */
	}
	REQUIRE(!re->err);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	REQUIRE(devnull >= 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t pick = (size_t)(data[0] & 0x7f) % NELEM(fuzz_types);
	uint32_t type = fuzz_types[pick];
	int fd = (data[0] & FUZZ_FD_BIT) ? devnull : -1;
	/* libFuzzer's copy ends where the input ends: an over-read is caught */
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	struct buf re;
	buf_init(&re, IPC_MAX);
	if (fuzz_decode(type, fd, p, len, &re) == 0) {
		REQUIRE(re.len == len);
		/* one encoding per value: what decodes re-encodes to itself */
		REQUIRE(len == 0 || memcmp(re.data, p, len) == 0);
	}
	buf_free(&re);
	return 0;
}

/*
 * fuzz/fuzz_proto.c - every IPC decoder of src/proto/ (a sibling process
 * may have been taken over, so what it sends is hostile input).
 *
 * Input: byte 0 picks the message: its low 7 bits, modulo the table below,
 * the type; bit 7 whether a descriptor (/dev/null, opened once) comes with
 * it.  The rest is the payload.  Whatever decodes must be in range, and
 * must encode back to exactly the payload: one value, one encoding.
 *
 * One exception, LOOKUP_REPLY: its decoder maps the TEMPFAIL reason to
 * static text, and a reason it does not know becomes "error", so only that
 * field may differ (and the normalised payload must then be a fixed
 * point); and a reply whose records exceed what proto_lookup_reply_enc
 * sends (a peer may send more) re-encodes as TEMPFAIL "too big".
 *
 * POLICY_CTL_REPLY hands its body over NUL-terminated, without its
 * length: the re-encoding takes the length from the payload and checks
 * the body holds exactly those bytes.
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
#include "dns/lookup.h"
#include "mail/domain.h"
#include "mail/spool.h"
#include "msgauth/spf.h"
#include "policy/access.h"
#include "proto/dns.h"
#include "proto/imap_auth.h"
#include "proto/imap_mailbox.h"
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
	PROTO_SPF, PROTO_SPF_REPLY, PROTO_RDNS, PROTO_RDNS_REPLY, PROTO_LOOKUP,
	PROTO_LOOKUP_REPLY,
	PROTO_ACCESS, PROTO_ACCESS_REPLY,
	PROTO_POLICY_CTL, PROTO_POLICY_CTL_REPLY,
	PROTO_DNSBL, PROTO_DNSBL_REPLY, PROTO_GREY, PROTO_GREY_REPLY, PROTO_EVENT,
	PROTO_AUTH_SETTINGS, PROTO_AUTH_CHECK, PROTO_AUTH_RESULT, PROTO_AUTH_EVENT,
	PROTO_BAN_CHECK, PROTO_BAN_REPLY, PROTO_LOGIN_GRANT, PROTO_HANDOFF,
	PROTO_AUTH_STATE, PROTO_AUTH_SCRAM_FIRST, PROTO_AUTH_SCRAM_CHALLENGE,
	PROTO_AUTH_SCRAM_FINAL, PROTO_AUTH_SCRAM_ABORT,
	PROTO_SPILL, PROTO_SPILL_OK, PROTO_SPILL_FAIL,
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
	struct proto_spf spf;
	struct proto_spf_reply spf_reply;
	struct proto_rdns_reply rdns;
	struct proto_lookup lookup;
	struct lookup lr;
	struct proto_access access;
	struct proto_access_reply access_reply;
	struct proto_policy_ctl ctl;
	struct proto_policy_ctl_reply ctl_reply;
	struct proto_dnsbl dnsbl;
	struct proto_dnsbl_reply dnsbl_reply;
	struct proto_grey grey;
	struct proto_grey_reply grey_reply;
	struct proto_event event;
	struct proto_auth_settings auth_settings;
	struct proto_auth_check auth_check;
	struct proto_auth_result auth_result;
	struct proto_auth_event auth_event;
	struct proto_ban_reply ban_reply;
	struct proto_login_grant login_grant;
	struct proto_handoff handoff;
	struct proto_auth_state auth_state;
	struct proto_scram_first scram_first;
	struct proto_scram_challenge scram_challenge;
	struct proto_scram_final scram_final;
} out;
/* LOOKUP_REPLY decoded a second time, from its normalised encoding */
static struct lookup lr2;

/* proto_lookup_reply_enc keeps records while they fit IPC_MAX - 2048
 * bytes, 8 bytes of framing each (smtp_policy.c) */
#define FUZZ_LR_BUDGET	PROTO_LOOKUP_REPLY_BUDGET

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Text that may go into logs and headers: no control byte. */
static bool
no_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Text that goes to an SMTP client as it is: printable ASCII. */
static bool
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static bool
plain_octet(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* An oracle written apart from the decoder: is name in lookup form
 * (dns/lookup.h)?  Plain octets as themselves, every other octet as \DDD
 * (never an uppercase letter: the form is lowercased), labels of 1 to 63
 * octets, at most 255 octets on the wire; the root is "". */
static bool
lookup_form(const char *name)
{
	size_t wire = 1, label = 0;
	if (*name == '\0')
		return true;
	for (const char *p = name;; p++) {
		if (*p == '\0' || *p == '.') {
			if (label == 0 || label > 63)
				return false;
			wire += label + 1;
			label = 0;
			if (*p == '\0')
				break;
			continue;
		}
		unsigned c = (unsigned char)*p;
		if (c == '\\') {
			if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
			    p[3] >= '0' && p[3] <= '9'))
				return false;
			c = (unsigned)(p[1] - '0') * 100 + (unsigned)(p[2] - '0') * 10 +
			    (unsigned)(p[3] - '0');
			if (c > 255 || plain_octet(c) || (c >= 'A' && c <= 'Z'))
				return false;
			p += 3;
		} else if (!plain_octet(c)) {
			return false;
		}
		label++;
	}
	return wire <= 255;
}

static void
check_lookup_values(uint32_t idx, const struct lookup *l)
{
	REQUIRE(idx < PROTO_LOOKUP_MAX && l->status <= LOOKUP_TEMPFAIL &&
	    l->sec <= LOOKUP_BOGUS && l->n <= LOOKUP_RR_MAX);
	REQUIRE(strlen(l->name) <= LOOKUP_NAME_MAX);
	for (size_t i = 0; i < l->n; i++)
		REQUIRE(l->rr[i].data != NULL && l->rr[i].data[l->rr[i].len] == '\0');
}

/* A LOOKUP_REPLY of len bytes at p decoded as (idx, l): compare its
 * re-encoding with p as the header comment says. */
static void
check_lookup_reply(const uint8_t *p, size_t len, uint32_t idx, const struct lookup *l,
    struct buf *re)
{
	check_lookup_values(idx, l);
	size_t used = 0;
	for (size_t i = 0; i < l->n; i++)
		used += l->rr[i].len + 8u;
	proto_lookup_reply_enc(re, idx, l);
	REQUIRE(!re->err && re->len <= IPC_MAX - 16);
	const struct ipc_msg m2 = { .type = PROTO_LOOKUP_REPLY, .id = 1, .fd = -1,
		.data = re->data, .len = re->len };
	uint32_t idx2;
	REQUIRE(proto_lookup_reply_dec(&m2, &idx2, &lr2) == 0);
	REQUIRE(idx2 == idx);
	if (used > FUZZ_LR_BUDGET) {
		REQUIRE(lr2.status == LOOKUP_TEMPFAIL && lr2.n == 0 && lr2.why != NULL &&
		    strcmp(lr2.why, "too big") == 0 && strcmp(lr2.name, l->name) == 0);
		lookup_clear(&lr2);
		return;
	}
	/* idx, type, name, status, sec, ttl: then the reason */
	size_t w = 12 + (size_t)be32(p + 8) + 6;
	size_t wn = be32(p + w), rn = be32(re->data + w);
	REQUIRE(memcmp(re->data, p, w) == 0);
	REQUIRE(re->len - (w + 4 + rn) == len - (w + 4 + wn));
	REQUIRE(memcmp(re->data + w + 4 + rn, p + w + 4 + wn, len - (w + 4 + wn)) == 0);
	bool same = rn == wn && memcmp(re->data + w + 4, p + w + 4, wn) == 0;
	REQUIRE(same || (l->why != NULL && strcmp(l->why, "error") == 0));
	/* the normalised payload is a fixed point */
	struct buf re2;
	buf_init(&re2, IPC_MAX);
	proto_lookup_reply_enc(&re2, idx2, &lr2);
	REQUIRE(!re2.err && re2.len == re->len && memcmp(re2.data, re->data, re->len) == 0);
	buf_free(&re2);
	lookup_clear(&lr2);
}

/* POLICY_SETTINGS in range; every text terminated inside its field (the
 * bytes after it hold 0xa5). */
static void
check_policy_settings(const struct proto_policy_settings *v)
{
	REQUIRE(v->ipv6_prefix >= 1 && v->ipv6_prefix <= 128 && v->resolver <= 2 &&
	    v->resolver_timeout >= 1 && v->resolver_timeout <= 120);
	REQUIRE(strlen(v->forward) < sizeof v->forward && strlen(v->anchor) < sizeof v->anchor &&
	    strlen(v->hostname) < sizeof v->hostname && strlen(v->access) < sizeof v->access &&
	    strlen(v->statedir) < sizeof v->statedir);
	REQUIRE(v->n_nets <= PROTO_NETS_MAX && v->n_bls <= PROTO_BL_MAX);
	for (uint32_t i = 0; i < v->n_nets; i++)
		REQUIRE((v->nets[i].family == AF_INET && v->nets[i].len <= 32) ||
		    (v->nets[i].family == AF_INET6 && v->nets[i].len <= 128));
	for (uint32_t i = 0; i < v->n_bls; i++) {
		const struct proto_bl *l = &v->bls[i];
		REQUIRE(l->zone[0] != '\0' && strlen(l->zone) < sizeof l->zone);
		REQUIRE(l->what >= 1 && l->what <= 7 && l->n_codes <= 16);
		REQUIRE(l->code >= 400 && l->code <= 599);
		REQUIRE(strlen(l->esc) < sizeof l->esc && strlen(l->text) < sizeof l->text);
	}
	REQUIRE(v->greylist <= 2 && v->grey_v4_prefix <= 32 && v->grey_v6_prefix <= 128 &&
	    v->auto_ban <= 1);
}

/* Decode len bytes at p as a message of this type carrying fd; when that
 * succeeds, check the value is in range and encode it again into re.
 * 0, 1 (decoded and compared here already: LOOKUP_REPLY) or -1 (refused). */
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
		check_policy_settings(&out.pset);
		proto_policy_settings_enc(re, &out.pset);
		break;
	case PROTO_POLICY_CTL:
		if (proto_policy_ctl_dec(&m, &out.ctl) < 0)
			return -1;
		REQUIRE(strlen(out.ctl.line) < sizeof out.ctl.line);
		proto_policy_ctl_enc(re, &out.ctl);
		break;
	case PROTO_POLICY_CTL_REPLY: {
		if (proto_policy_ctl_reply_dec(&m, &out.ctl_reply) < 0)
			return -1;
		/* ok, then the body as a byte field: its length is at p + 4 */
		uint32_t n = be32(p + 4);
		REQUIRE(out.ctl_reply.ok <= 1 && out.ctl_reply.body != NULL);
		REQUIRE(n <= PROTO_CTL_BODY_MAX && out.ctl_reply.body[n] == '\0' &&
		    memcmp(out.ctl_reply.body, p + 8, n) == 0);
		proto_policy_ctl_reply_enc(re, out.ctl_reply.ok, out.ctl_reply.body, n);
		free(out.ctl_reply.body);
		break;
	}
	case PROTO_DNSBL:
		if (proto_dnsbl_dec(&m, &out.dnsbl) < 0)
			return -1;
		REQUIRE(out.dnsbl.what >= 1 && out.dnsbl.what <= 7);
		REQUIRE(strlen(out.dnsbl.helo) < sizeof out.dnsbl.helo &&
		    strlen(out.dnsbl.from) < sizeof out.dnsbl.from);
		REQUIRE(no_controls(out.dnsbl.helo) && no_controls(out.dnsbl.from));
		proto_dnsbl_enc(re, &out.dnsbl);
		break;
	case PROTO_DNSBL_REPLY: {
		const struct proto_dnsbl_reply *r = &out.dnsbl_reply;
		if (proto_dnsbl_reply_dec(&m, &out.dnsbl_reply) < 0)
			return -1;
		REQUIRE(r->result <= DNSBL_LISTED);
		/* a listing is a refusal: the smtp worker sends r->code as it is */
		REQUIRE(r->result != DNSBL_LISTED || (r->code >= 400 && r->code <= 599 &&
		    (r->what == DNSBL_CLIENT || r->what == DNSBL_HELO || r->what == DNSBL_FROM)));
		REQUIRE(strlen(r->esc) < sizeof r->esc && strlen(r->text) < sizeof r->text);
		REQUIRE(printable(r->esc) && printable(r->text));
		proto_dnsbl_reply_enc(re, &out.dnsbl_reply);
		break;
	}
	case PROTO_GREY:
		if (proto_grey_dec(&m, &out.grey) < 0)
			return -1;
		REQUIRE(out.grey.rcpt[0] != '\0');
		REQUIRE(strlen(out.grey.sender) <= PROTO_SENDER_MAX &&
		    strlen(out.grey.rcpt) <= PROTO_SENDER_MAX);
		REQUIRE(no_controls(out.grey.sender) && no_controls(out.grey.rcpt));
		proto_grey_enc(re, &out.grey);
		break;
	case PROTO_GREY_REPLY:
		if (proto_grey_reply_dec(&m, &out.grey_reply) < 0)
			return -1;
		REQUIRE(out.grey_reply.result <= GREY_R_ERROR);
		REQUIRE(strlen(out.grey_reply.state) < sizeof out.grey_reply.state &&
		    strlen(out.grey_reply.net) < sizeof out.grey_reply.net);
		REQUIRE(printable(out.grey_reply.state) && printable(out.grey_reply.net));
		proto_grey_reply_enc(re, &out.grey_reply);
		break;
	case PROTO_EVENT:
		if (proto_event_dec(&m, &out.event) < 0)
			return -1;
		REQUIRE(out.event.event < PROTO_BAN_EVENTS);
		proto_event_enc(re, &out.event);
		break;
	case PROTO_AUTH_SETTINGS:
		if (proto_auth_settings_dec(&m, &out.auth_settings) < 0)
			return -1;
		REQUIRE(fd >= 0);
		proto_auth_settings_enc(re, &out.auth_settings);
		break;
	case PROTO_AUTH_CHECK:
		if (proto_auth_check_dec(&m, &out.auth_check) < 0)
			return -1;
		REQUIRE(no_controls(out.auth_check.user) && no_controls(out.auth_check.client));
		proto_auth_check_enc(re, &out.auth_check);
		break;
	case PROTO_AUTH_RESULT:
		if (proto_auth_result_dec(&m, &out.auth_result) < 0)
			return -1;
		REQUIRE(out.auth_result.ok <= 1 && no_controls(out.auth_result.user) &&
		    printable(out.auth_result.final) && !strchr(out.auth_result.final, ' '));
		REQUIRE(!out.auth_result.ok || out.auth_result.user[0] != '\0');
		proto_auth_result_enc(re, &out.auth_result);
		break;
	case PROTO_BAN_REPLY:
		if (proto_ban_reply_dec(&m, &out.ban_reply) < 0)
			return -1;
		REQUIRE(out.ban_reply.banned <= 1);
		proto_ban_reply_enc(re, &out.ban_reply);
		break;
	case PROTO_LOGIN_GRANT:
		if (proto_login_grant_dec(&m, &out.login_grant) < 0)
			return -1;
		REQUIRE(out.login_grant.user[0] != '\0' && no_controls(out.login_grant.user));
		proto_login_grant_enc(re, &out.login_grant);
		break;
	case PROTO_HANDOFF:
		if (proto_handoff_dec(&m, &out.handoff) < 0)
			return -1;
		REQUIRE(fd >= 0 && printable(out.handoff.sid) && printable(out.handoff.client) &&
		    printable(out.handoff.tag) && out.handoff.tag[0] != '\0');
		proto_handoff_enc(re, &out.handoff);
		break;
	case PROTO_AUTH_STATE:
		if (proto_auth_state_dec(&m, &out.auth_state) < 0)
			return -1;
		REQUIRE(out.auth_state.scram <= 1);
		proto_auth_state_enc(re, &out.auth_state);
		break;
	case PROTO_AUTH_SCRAM_FIRST:
		if (proto_scram_first_dec(&m, &out.scram_first) < 0)
			return -1;
		REQUIRE(out.scram_first.plus <= 1 && out.scram_first.offered <= 1 &&
		    out.scram_first.has_cb <= 1 && out.scram_first.len <= SCRAM_MSG_MAX);
		REQUIRE(no_controls(out.scram_first.client));
		proto_scram_first_enc(re, &out.scram_first);
		break;
	case PROTO_AUTH_SCRAM_CHALLENGE:
		if (proto_scram_challenge_dec(&m, &out.scram_challenge) < 0)
			return -1;
		REQUIRE(out.scram_challenge.rc <= SCRAM_STATE &&
		    printable(out.scram_challenge.sfirst));
		REQUIRE((out.scram_challenge.rc == SCRAM_OK) ==
		    (out.scram_challenge.sfirst[0] != '\0'));
		proto_scram_challenge_enc(re, &out.scram_challenge);
		break;
	case PROTO_AUTH_SCRAM_FINAL:
		if (proto_scram_final_dec(&m, &out.scram_final) < 0)
			return -1;
		REQUIRE(out.scram_final.len <= SCRAM_MSG_MAX);
		proto_scram_final_enc(re, &out.scram_final);
		break;
	case PROTO_AUTH_SCRAM_ABORT:
		if (proto_scram_abort_dec(&m) < 0)
			return -1;
		REQUIRE(len == 0);
		break;
	case PROTO_AUTH_EVENT:
		if (proto_auth_event_dec(&m, &out.auth_event) < 0)
			return -1;
		REQUIRE(out.auth_event.ok <= 1 && no_controls(out.auth_event.client));
		proto_auth_event_enc(re, &out.auth_event);
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
	case PROTO_SPILL:
	case PROTO_SPILL_OK:
		if (proto_qid_dec(&m, &out.qid) < 0)
			return -1;
		REQUIRE(spool_qid_valid(out.qid.qid));
		REQUIRE((type != PROTO_OPEN_OK && type != PROTO_SPILL_OK) || fd >= 0);
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
	case PROTO_SPILL_FAIL:
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
	case PROTO_RDNS:
	case PROTO_BAN_CHECK:
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
		REQUIRE(out.reply.verdict <= ADMIT_RATE);
		proto_admit_reply_enc(re, &out.reply);
		break;
	case PROTO_SPF:
		if (proto_spf_dec(&m, &out.spf) < 0)
			return -1;
		REQUIRE((out.spf.addr.ss_family == AF_INET &&
			    out.spf.addrlen == sizeof(struct sockaddr_in)) ||
		    (out.spf.addr.ss_family == AF_INET6 &&
			out.spf.addrlen == sizeof(struct sockaddr_in6)));
		REQUIRE(strlen(out.spf.sender) <= PROTO_SENDER_MAX &&
		    strlen(out.spf.helo) <= PROTO_HELO_MAX);
		REQUIRE(no_controls(out.spf.sender) && no_controls(out.spf.helo));
		proto_spf_enc(re, &out.spf);
		break;
	case PROTO_SPF_REPLY:
		if (proto_spf_reply_dec(&m, &out.spf_reply) < 0)
			return -1;
		REQUIRE(out.spf_reply.result <= SPF_PERMERROR);
		REQUIRE(no_controls(out.spf_reply.domain) && no_controls(out.spf_reply.mechanism) &&
		    no_controls(out.spf_reply.explanation) && no_controls(out.spf_reply.problem));
		proto_spf_reply_enc(re, &out.spf_reply);
		break;
	case PROTO_RDNS_REPLY:
		if (proto_rdns_reply_dec(&m, &out.rdns) < 0)
			return -1;
		REQUIRE(out.rdns.status <= RDNS_TEMP);
		/* what goes into Received: a host name */
		REQUIRE(out.rdns.status != RDNS_PASS ||
		    domain_valid(out.rdns.name, strlen(out.rdns.name), 0));
		proto_rdns_reply_enc(re, &out.rdns);
		break;
	case PROTO_LOOKUP:
		if (proto_lookup_dec(&m, &out.lookup) < 0)
			return -1;
		REQUIRE(out.lookup.n >= 1 && out.lookup.n <= PROTO_LOOKUP_MAX);
		for (uint32_t i = 0; i < out.lookup.n; i++)
			REQUIRE(out.lookup.type[i] == LOOKUP_TXT &&
			    lookup_form(out.lookup.name[i]));
		proto_lookup_enc(re, &out.lookup);
		break;
	case PROTO_LOOKUP_REPLY: {
		uint32_t idx;
		if (proto_lookup_reply_dec(&m, &idx, &out.lr) < 0)
			return -1;
		check_lookup_reply(p, len, idx, &out.lr, re);
		lookup_clear(&out.lr);
		return 1;
	}
	case PROTO_ACCESS:
		if (proto_access_dec(&m, &out.access) < 0)
			return -1;
		REQUIRE(out.access.tag <= ACCESS_SPAM && out.access.local <= 1);
		REQUIRE(strlen(out.access.key) <= PROTO_SENDER_MAX && no_controls(out.access.key));
		proto_access_enc(re, &out.access);
		break;
	case PROTO_ACCESS_REPLY: {
		const struct proto_access_reply *r = &out.access_reply;
		if (proto_access_reply_dec(&m, &out.access_reply) < 0)
			return -1;
		REQUIRE(r->action <= ACCESS_HATER);
		REQUIRE(r->code == 0 || (r->code >= 400 && r->code <= 599));
		/* a refusal says how: smtp/access.c sends r->code as it is */
		REQUIRE(r->code != 0 || (r->action != ACCESS_REJECT && r->action != ACCESS_ERROR));
		REQUIRE(strlen(r->esc) < sizeof r->esc && strlen(r->text) < sizeof r->text &&
		    strlen(r->where) < sizeof r->where);
		REQUIRE(printable(r->esc) && printable(r->text) && no_controls(r->where));
		proto_access_reply_enc(re, &out.access_reply);
		break;
	}
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

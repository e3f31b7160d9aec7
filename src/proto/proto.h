/*
 * proto/proto.h - the IPC catalog: every message type our processes send
 * each other, and the roles they run as.
 *
 *   channel          header            messages
 *   parent-child     proto/parent.h    STOP, PEER, *_SETTINGS, MAILBOXES, REPORT,
 *                                      POLICY_CTL, POLICY_CTL_REPLY (policy only)
 *   smtp-queue       proto/smtp_queue.h   OPEN, OPEN_OK, OPEN_FAIL, COMMIT,
 *                                      COMMIT_OK, COMMIT_FAIL, ABORT
 *   queue-deliver    proto/queue_deliver.h DELIVER, DELIVER_DONE
 *   smtp-policy      proto/smtp_policy.h  ADMIT, ADMIT_REPLY, ADMIT_END, ADMIT_HOLD,
 *                                      SPF, SPF_REPLY, RDNS, RDNS_REPLY,
 *                                      LOOKUP, LOOKUP_REPLY, ACCESS, ACCESS_REPLY,
 *                                      DNSBL, DNSBL_REPLY, GREY, GREY_REPLY, EVENT
 *   imap-auth        proto/imap_auth.h    AUTH_CHECK, AUTH_RESULT, AUTH_STATE,
 *                                      AUTH_SCRAM_FIRST, AUTH_SCRAM_CHALLENGE,
 *                                      AUTH_SCRAM_FINAL, AUTH_SCRAM_ABORT (and
 *                                      AUTH_SETTINGS from the parent)
 *   auth-policy      proto/imap_auth.h    AUTH_EVENT
 *   imap-policy      proto/imap_auth.h    BAN_CHECK, BAN_REPLY
 *   auth-mailbox     proto/imap_mailbox.h LOGIN_GRANT
 *   imap-mailbox     proto/imap_mailbox.h HANDOFF
 *
 * Each message has an encode function (into a struct buf, or straight onto
 * a channel: proto_*_send) and a decode function that returns -1 for a
 * truncated, oversized or trailing-byte payload.  Type numbers are unique
 * across channels, so a message that reaches the wrong channel is refused
 * as unknown.  Every request carries an id (a session id, a message
 * serial); its reply carries the same id.
 */
#ifndef TALON_PROTO_H
#define TALON_PROTO_H

#include <stdint.h>

enum proto_type {
	/* parent -> any child */
	PROTO_STOP = 1,
	PROTO_PEER,
	PROTO_QUEUE_SETTINGS,
	PROTO_DELIVER_SETTINGS,
	PROTO_POLICY_SETTINGS,
	/* any child -> parent: the only thing a child may say */
	PROTO_REPORT,
	/* parent -> deliver: the mailbox names deliver may write to */
	PROTO_MAILBOXES,
	/* parent <-> policy: `talon ban ...` from the control socket */
	PROTO_POLICY_CTL,
	PROTO_POLICY_CTL_REPLY,
	/* parent -> auth: the users file (fd) */
	PROTO_AUTH_SETTINGS,

	/* smtp <-> queue */
	PROTO_OPEN = 20,
	PROTO_OPEN_OK,
	PROTO_OPEN_FAIL,
	PROTO_COMMIT,
	PROTO_COMMIT_OK,
	PROTO_COMMIT_FAIL,
	PROTO_ABORT,
	PROTO_SPILL,
	PROTO_SPILL_OK,
	PROTO_SPILL_FAIL,

	/* queue <-> deliver */
	PROTO_DELIVER = 40,
	PROTO_DELIVER_DONE,

	/* smtp <-> policy */
	PROTO_DNS_ZONE = 80,	/* proto/dns.h */

	PROTO_ADMIT = 60,
	PROTO_ADMIT_REPLY,
	PROTO_ADMIT_END,
	PROTO_ADMIT_HOLD,
	PROTO_SPF,		/* smtp -> policy: evaluate SPF */
	PROTO_SPF_REPLY,
	PROTO_RDNS,		/* smtp -> policy: the client's verified name */
	PROTO_RDNS_REPLY,
	PROTO_LOOKUP,		/* smtp -> policy: TXT lookups (DKIM keys, DMARC) */
	PROTO_LOOKUP_REPLY,	/* one per question */
	PROTO_ACCESS,		/* smtp -> policy: look a key up in the access map */
	PROTO_ACCESS_REPLY,
	PROTO_DNSBL,		/* smtp -> policy: is the client or a domain listed? */
	PROTO_DNSBL_REPLY,
	PROTO_GREY,		/* smtp -> policy: may this triplet pass greylisting? */
	PROTO_GREY_REPLY,
	PROTO_EVENT,		/* smtp -> policy: the client earned ban points */

	/* imap <-> auth */
	PROTO_AUTH_CHECK = 100,	/* imap -> auth: user and password */
	PROTO_AUTH_RESULT,
	PROTO_AUTH_EVENT,	/* auth -> policy: a login from an address worked or not */
	PROTO_BAN_CHECK,	/* imap -> policy: is this client banned? */
	PROTO_BAN_REPLY,
	PROTO_AUTH_STATE,	/* auth -> imap: whether SCRAM is worth offering */
	PROTO_AUTH_SCRAM_FIRST,	/* imap -> auth: client-first, channel-binding data */
	PROTO_AUTH_SCRAM_CHALLENGE,	/* auth -> imap: server-first, or a failure */
	PROTO_AUTH_SCRAM_FINAL,	/* imap -> auth: client-final (answer: AUTH_RESULT) */
	PROTO_AUTH_SCRAM_ABORT,	/* imap -> auth: the exchange ended at the client */

	/* auth, imap -> mailbox */
	PROTO_LOGIN_GRANT = 120,	/* auth -> mailbox: token, user */
	PROTO_HANDOFF,		/* imap -> mailbox: token, the session's fd */
};

/* The roles of the role table (daemon/role.c); PEER names one. */
enum proto_role {
	ROLE_SMTP = 0,
	ROLE_QUEUE,
	ROLE_DELIVER,
	ROLE_POLICY,
	ROLE_DNS,
	ROLE_AUTH,
	ROLE_IMAP,
	ROLE_MAILBOX,
	ROLE_COUNT
};

const char *proto_role_name(unsigned role);

#endif

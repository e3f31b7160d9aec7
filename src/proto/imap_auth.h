/*
 * proto/imap_auth.h - the imap process asks the auth process whether a
 * password is right.
 *
 *   AUTH_SETTINGS  parent -> auth   gen; fd = the users file, read-only
 *                                   (the only process that reads the
 *                                   hashes; the parent forgets them)
 *   AUTH_CHECK     imap -> auth     id = request; user, password, the
 *                                   client's address (for the delay)
 *   AUTH_RESULT    auth -> imap     ok, the account name as the users
 *                                   file spells it, and a one-time token
 *                                   the mailbox process also got (with
 *                                   the name) in a LOGIN_GRANT
 *   BAN_CHECK      imap -> policy   the client's address at connect
 *   BAN_REPLY      policy -> imap   banned or not (a banned client gets
 *                                   BYE and is closed, as in SMTP)
 *   AUTH_EVENT     auth -> policy   ok, the client's address: a failure
 *                                   earns ban points, a success spares the
 *                                   address from bans (an owner must not
 *                                   lock himself out)
 *
 * A failure is answered only after a delay that grows per client address
 * and user (src/auth/pw.h): the auth process holds the answer, so an imap
 * process taken over cannot try passwords faster.  Runs in: imap, auth.
 */
#ifndef TALON_PROTO_IMAP_AUTH_H
#define TALON_PROTO_IMAP_AUTH_H

#include <stdint.h>

#include "core/buf.h"
#include "proto/proto.h"

struct ipc;
struct ipc_msg;

#define PROTO_AUTH_USER_MAX	255
#define PROTO_AUTH_PASS_MAX	1024

struct proto_auth_settings {
	uint32_t gen;
};

struct proto_auth_check {
	char user[PROTO_AUTH_USER_MAX + 1];	/* no control bytes */
	char pass[PROTO_AUTH_PASS_MAX + 1];	/* any byte but NUL */
	char client[64];			/* an address, printable */
};

struct proto_auth_result {
	uint32_t ok;				/* 1 yes, 0 no */
	char user[PROTO_AUTH_USER_MAX + 1];	/* ok: the account */
	uint8_t token[16];			/* ok: shown to the mailbox process with
						 * the session (proto/imap_mailbox.h) */
};

struct proto_auth_event {
	uint32_t ok;
	char client[64];	/* an IPv4 or IPv6 address */
};

struct proto_ban_reply {
	uint32_t banned;	/* 1 yes, 0 no */
};

/* BAN_CHECK carries a proto_admit (proto/smtp_policy.h): the address */
void proto_ban_reply_enc(struct buf *b, const struct proto_ban_reply *v);
int proto_ban_reply_dec(const struct ipc_msg *m, struct proto_ban_reply *v);
void proto_auth_event_enc(struct buf *b, const struct proto_auth_event *v);
int proto_auth_event_dec(const struct ipc_msg *m, struct proto_auth_event *v);
void proto_auth_settings_enc(struct buf *b, const struct proto_auth_settings *v);
/* needs an fd */
int proto_auth_settings_dec(const struct ipc_msg *m, struct proto_auth_settings *v);
void proto_auth_check_enc(struct buf *b, const struct proto_auth_check *v);
int proto_auth_check_dec(const struct ipc_msg *m, struct proto_auth_check *v);
void proto_auth_result_enc(struct buf *b, const struct proto_auth_result *v);
int proto_auth_result_dec(const struct ipc_msg *m, struct proto_auth_result *v);

#endif

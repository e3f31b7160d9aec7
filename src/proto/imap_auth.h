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
 *                                   file spells it, a one-time token
 *                                   the mailbox process also got (with
 *                                   the name) in a LOGIN_GRANT, and after
 *                                   SCRAM the server-final message
 *                                   ("v=...", else "")
 *   AUTH_STATE     auth -> imap     scram: 1 when some account can log in
 *                                   with SCRAM.  Sent to each new imap
 *                                   peer and after each read of the users
 *                                   file.  The front offers the SCRAM
 *                                   mechanisms only then: SASL libraries
 *                                   (Cyrus SASL in mutt and mbsync) take
 *                                   SCRAM whenever it is offered, and an
 *                                   account without keys would then
 *                                   never log in with them
 *   AUTH_SCRAM_FIRST imap -> auth   id = the exchange: the front's request
 *                                   id, the same for all of it; plus (the
 *                                   client chose -PLUS), offered (-PLUS
 *                                   was offered), the client-first
 *                                   message, the tls-exporter data (RFC
 *                                   9266) the front computed when the
 *                                   client binds, the client's address
 *   AUTH_SCRAM_CHALLENGE auth -> imap  rc (enum scram_rc, auth/scram.h): 0
 *                                   with the server-first message, or why
 *                                   the exchange ends here (no account is
 *                                   looked up before this answer can fail)
 *   AUTH_SCRAM_FINAL imap -> auth   the client-final message; answered by
 *                                   AUTH_RESULT (a failure after the delay,
 *                                   as for AUTH_CHECK)
 *   AUTH_SCRAM_ABORT imap -> auth   the exchange ended at the client ("*",
 *                                   gone): forget it.  No payload
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
 * process taken over cannot try passwords faster.  SCRAM exchanges are
 * kept by the auth process per channel and id, so one front cannot finish
 * another's; at most AUTH_SCRAM_MAX per channel, each for at most
 * AUTH_SCRAM_TTL_S seconds.  Runs in: imap, auth.
 */
#ifndef TALON_PROTO_IMAP_AUTH_H
#define TALON_PROTO_IMAP_AUTH_H

#include <stdint.h>

#include "auth/scram.h"
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
	char final[SCRAM_SFINAL_MAX];		/* ok after SCRAM: "v=...", printable */
	uint8_t token[16];			/* ok: shown to the mailbox process with
						 * the session (proto/imap_mailbox.h) */
};

#define AUTH_SCRAM_MAX		512	/* exchanges one channel may have open */
#define AUTH_SCRAM_TTL_S	60	/* and how long each may take */

struct proto_auth_state {
	uint32_t scram;		/* 1: offer SCRAM, 0: do not */
};

struct proto_scram_first {
	uint32_t plus;				/* 1: SCRAM-SHA-256-PLUS */
	uint32_t offered;			/* 1: -PLUS was offered */
	uint32_t has_cb;			/* 1: cb holds exporter data */
	uint8_t cb[SCRAM_CB_LEN];
	uint32_t len;
	uint8_t msg[SCRAM_MSG_MAX];		/* client-first, any bytes */
	char client[64];			/* an address, printable */
};

struct proto_scram_challenge {
	uint32_t rc;				/* enum scram_rc */
	char sfirst[SCRAM_SFIRST_MAX];		/* rc 0: printable, else "" */
};

struct proto_scram_final {
	uint32_t len;
	uint8_t msg[SCRAM_MSG_MAX];		/* client-final, any bytes */
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
void proto_auth_state_enc(struct buf *b, const struct proto_auth_state *v);
int proto_auth_state_dec(const struct ipc_msg *m, struct proto_auth_state *v);
void proto_scram_first_enc(struct buf *b, const struct proto_scram_first *v);
int proto_scram_first_dec(const struct ipc_msg *m, struct proto_scram_first *v);
void proto_scram_challenge_enc(struct buf *b, const struct proto_scram_challenge *v);
int proto_scram_challenge_dec(const struct ipc_msg *m, struct proto_scram_challenge *v);
void proto_scram_final_enc(struct buf *b, const struct proto_scram_final *v);
int proto_scram_final_dec(const struct ipc_msg *m, struct proto_scram_final *v);
/* ABORT has no payload: -1 when there is one */
int proto_scram_abort_dec(const struct ipc_msg *m);

#endif

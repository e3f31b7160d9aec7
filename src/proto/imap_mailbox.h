/*
 * proto/imap_mailbox.h - a logged-in IMAP session moves from the login
 * front (imap, no mail readable) to the mailbox process (the store's
 * owner), as Dovecot's imap-login hands a client to imap.
 *
 *   LOGIN_GRANT  auth -> mailbox   token, user: "whoever shows this token
 *                                  within a few seconds is this user"
 *   HANDOFF      imap -> mailbox   token, session id, client address, the
 *                                  LOGIN command's tag; fd = the session's
 *                                  end of a socketpair (plain IMAP bytes;
 *                                  the front keeps TLS and relays)
 *
 * The user name never comes from the front: a front taken over could
 * otherwise open any mailbox.  It learns the token only from AUTH_RESULT
 * (proto/imap_auth.h), after the password was right, and each token
 * opens one session once.  Runs in: auth, imap, mailbox.
 */
#ifndef TALON_PROTO_IMAP_MAILBOX_H
#define TALON_PROTO_IMAP_MAILBOX_H

#include <stdint.h>

#include "core/buf.h"
#include "proto/imap_auth.h"

struct ipc_msg;

#define PROTO_TOKEN_LEN	16

struct proto_login_grant {
	uint8_t token[PROTO_TOKEN_LEN];
	char user[PROTO_AUTH_USER_MAX + 1];	/* as the users file spells it */
};

struct proto_handoff {
	uint8_t token[PROTO_TOKEN_LEN];
	char sid[17];		/* the front's session id, for the logs */
	char client[64];	/* the client's address, printable */
	char tag[65];		/* of the LOGIN/AUTHENTICATE: the mailbox process answers it */
};

void proto_login_grant_enc(struct buf *b, const struct proto_login_grant *v);
int proto_login_grant_dec(const struct ipc_msg *m, struct proto_login_grant *v);
void proto_handoff_enc(struct buf *b, const struct proto_handoff *v);
/* needs an fd */
int proto_handoff_dec(const struct ipc_msg *m, struct proto_handoff *v);

#endif

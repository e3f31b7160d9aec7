/*
 * imap/session.h - what the files of the imap process share.
 *
 *   server.c    the process: listeners, accept, the channels to the
 *               parent, the auth, policy and mailbox processes, the
 *               session I/O driver (framing with imap/parse.h, TLS,
 *               timeouts, replies) and, after login, the relay
 *   commands.c  one handler per command of the not-authenticated state,
 *               and the client's side of AUTHENTICATE (PLAIN, LOGIN, SCRAM)
 *
 * Runs in: imap, the login front (user _talonimap, chrooted into an empty
 * directory).  After login a session belongs to the mailbox process
 * (imap/mailbox.h); this process keeps its TLS and relays plain bytes.
 */
#ifndef TALON_IMAP_SESSION_H
#define TALON_IMAP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth/sasl.h"
#include "core/io.h"
#include "core/loop.h"
#include "core/sockaddr.h"
#include "imap/parse.h"

struct conf;
struct conf_listen;
struct ipc;

#define IMAP_PREAUTH_IDLE_MS	60000	/* RFC 9051 5.4: at least 30 min after login */
#define IMAP_OUT_MAX		(4u << 20)
#define IMAP_OUT_PAUSE		(256u << 10)	/* stop reading while this much is unsent */
#define IMAP_LINGER_MS		10000	/* a relayed client that ended its stream: its last
					 * replies; a closed session: the client's end */
#define IMAP_PROXY_CHUNK	(64u << 10)	/* relayed per step, each way */

enum ist {
	I_BANCHECK,	/* the policy process: is the client banned? */
	I_HANDSHAKE,	/* TLS handshake */
	I_CMD,		/* reading commands */
	I_SASL,		/* AUTHENTICATE: reading one response line */
	I_WAIT,		/* the auth process checks a password */
	I_PROXY,	/* logged in: bytes relayed to and from the mailbox process */
	I_CLOSING,	/* flush, then close */
	I_LINGER,	/* closed our way; reading what the client still sends */
};

struct isession {
	struct isession *next, *prev;
	char sid[17];
	struct io io;
	struct io pipe;		/* I_PROXY: our end of the session's socketpair */
	bool pipe_shut;		/* I_PROXY: the client ended its stream; so was the
				 * pipe's, once everything it sent was passed on */
	enum ist st;
	const struct conf_listen *lis;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char ip[SOCKADDR_IP_MAX];
	struct timer timer;
	bool is_tls;
	bool authed;
	char user[256];		/* authenticated as */
	bool starttls_pending;	/* the OK is queued: handshake once flushed */
	bool bye_after_flush;	/* LOGOUT: close once everything is written */
	struct imap_scan scan;
	struct imap_limits lim;
	/* AUTHENTICATE in progress */
	char tag[IMAP_TAG_MAX + 1];
	int mech;		/* MECH_PLAIN, MECH_LOGIN, MECH_SCRAM, MECH_SCRAM_PLUS */
	struct sasl_login login;
	uint64_t req;		/* the AUTH_CHECK waited for, 0 none */
	/* SCRAM: the client's message we wait for, the exchange open at the
	 * auth process (its request id, 0 none), and after the auth process
	 * said yes, the grant that waits for the client's empty line */
	enum { IMAP_SCRAM_FIRST = 0, IMAP_SCRAM_FINAL, IMAP_SCRAM_EMPTY } scram_wait;
	uint64_t scram_id;
	uint8_t scram_token[16];
	char scram_user[256];
	unsigned n_bad;		/* BAD replies: too many and the client is cut off */
	unsigned n_fail;	/* failed logins in this session */
};

enum { MECH_PLAIN = 1, MECH_LOGIN, MECH_SCRAM, MECH_SCRAM_PLUS };

/* After "+ v=..." the client's empty line must come before the mailbox
 * process forgets the grant (GRANT_TTL_MS, 10 s, in imap/mserver.c). */
#define IMAP_SCRAM_CONFIRM_MS	5000

struct imap_worker {
	struct loop *loop;
	const struct conf *conf;
	SSL_CTX *tls;
	struct ipc *parent, *auth, *policy, *mailbox;
	uint32_t auth_id, policy_id, mailbox_id;
	int *lfds;
	size_t n_lfds;
	struct isession *sessions;
	size_t n_sessions;
	uint64_t next_req;
	bool draining;
	bool scram_on;		/* AUTH_STATE: offer the SCRAM mechanisms */
};
extern struct imap_worker IW;

/* server.c */
void imap_reply(struct isession *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* TAG OK/NO/BAD text */
void imap_tagged(struct isession *s, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void imap_session_update(struct isession *s);
void imap_session_process(struct isession *s);
void imap_capability(struct isession *s, char *out, size_t n);
/* Ask the auth process; the answer comes to imap_login_result.  Wipes
 * the password in c. */
void imap_check_password(struct isession *s, struct sasl_creds *c);
void imap_begin_tls(struct isession *s);
/* SCRAM: may -PLUS (tls-exporter, RFC 9266) be offered on this
 * connection?  TLS 1.3, or TLS 1.2 with the extended master secret (RFC
 * 9266 4.2: without it the exporter does not identify the connection). */
bool imap_scram_plus_ok(const struct isession *s);
/* Send the client's first or final SCRAM message (decoded) to the auth
 * process; the answers come to imap_scram_challenge and imap_auth_result. */
void imap_scram_first(struct isession *s, const uint8_t *msg, size_t len);
void imap_scram_final(struct isession *s, const uint8_t *msg, size_t len);
/* Tell the auth process to forget the session's exchange, if one is open. */
void imap_scram_abort(struct isession *s);
/* Hand the logged-in session to the mailbox process (token from the auth
 * process); from now on bytes are relayed.  false: no mailbox process,
 * nothing changed. */
bool imap_handoff(struct isession *s, const uint8_t *token);

/* commands.c */
void imap_command(struct isession *s, struct imap_cmd *c);
void imap_sasl_line(struct isession *s, const uint8_t *line, size_t len);
void imap_login_result(struct isession *s, bool ok, const char *user, const uint8_t *token);
/* AUTH_RESULT for the session: a login result, or SCRAM's server-final. */
struct proto_auth_result;
void imap_auth_result(struct isession *s, const struct proto_auth_result *r);
/* AUTH_SCRAM_CHALLENGE: rc (enum scram_rc) and the server-first message. */
void imap_scram_challenge(struct isession *s, unsigned rc, const char *sfirst);

#endif

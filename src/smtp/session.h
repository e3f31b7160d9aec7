/*
 * smtp/session.h - what the files of the smtp worker share: the session
 * and its transaction, the worker's state, and the functions one file
 * calls in another.
 *
 *   worker.c    the process: listeners, accept, the channels to the parent,
 *               the queue and the policy process, the table of sessions and
 *               of their pending requests
 *   session.c   the I/O driver of one session: input framing, TLS,
 *               timeouts, replies and the refusal helper
 *   commands.c  the dialogue: one handler per SMTP command, and the
 *               verdict functions of RCPT and end of data
 *   message.c   building the stored message: Received header, spooling
 *               the content, the envelope, asking the queue to commit
 *
 * Runs in: smtp worker (unprivileged, chrooted).
 */
#ifndef TALON_SMTP_SESSION_H
#define TALON_SMTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/ssl.h>

#include "core/buf.h"
#include "core/htab.h"
#include "core/io.h"
#include "core/loop.h"
#include "core/sockaddr.h"
#include "dns/lookup.h"
#include "mail/spool.h"
#include "msgauth/dkim.h"
#include "msgauth/header.h"
#include "msgauth/msgcheck.h"
#include "policy/verdict.h"
#include "smtp/addr.h"
#include "smtp/cmd.h"
#include "smtp/data.h"
#include "proto/smtp_policy.h"

struct conf;
struct conf_listen;
struct users;
struct aliases;
struct ipc;

/* A command line may be longer than RFC 5321's 512 octets once extensions
 * add parameters (RFC 1870 4, RFC 6531 3.4); 2048 like Postfix. */
#define CMD_LINE_MAX	2048
#define IN_MAX		65536	/* input buffer: also bounds pipelined bytes */
#define OUT_MAX		(256 * 1024)
#define OUT_PAUSE	(32 * 1024)	/* stop reading while this much is unsent */
#define CONTENT_FLUSH	(64 * 1024)
#define RCPT_USERS_MAX	1000	/* mailboxes one message may reach */

enum sstate {
	S_WAIT,		/* waiting for another process (see enum swait) */
	S_HANDSHAKE,	/* TLS handshake (implicit TLS or after STARTTLS) */
	S_CMD,		/* reading commands */
	S_SKIP,		/* discarding the rest of an over-long line */
	S_DATA,		/* reading DATA content */
	S_BDAT,		/* reading a BDAT chunk */
	S_CLOSING,	/* flush output, then close */
	S_PAUSE,	/* greet pause: input now is an early talker */
};

/* What a session in S_WAIT waits for.  It reads nothing meanwhile, so
 * pipelined commands simply stay buffered. */
enum swait {
	WAIT_NONE,
	WAIT_ADMIT,	/* the policy process: may this client connect? */
	WAIT_OPEN,	/* the queue: a spool file for DATA/BDAT */
	WAIT_COMMIT,	/* the queue: the message made durable */
	WAIT_SPF,	/* the policy process: SPF at MAIL FROM */
	WAIT_LOOKUP,	/* the policy process: DKIM keys, DMARC records */
	WAIT_ACCESS,	/* the policy process: the access map (access_stage) */
	WAIT_DNSBL,	/* blocklist answers (bl_stage); requests in W.rdns_reqs */
	WAIT_GREY,	/* the policy process: greylisting of one RCPT */
};

/* What an access-map answer continues (smtp/access.c). */
enum { ACC_CONNECT = 1, ACC_MAIL, ACC_RCPT, ACC_SPAM };

#define RDNS_UNKNOWN	(-1)	/* no answer yet; else RDNS_PASS/FAIL/TEMP */

#define AUTH_Q_MAX	16	/* TXT questions of one message (PROTO_LOOKUP_MAX) */

/* The mail-authentication state of one message (smtp/mailauth.c). */
struct auth_txn {
	struct mhdrs hdrs;
	struct dkim_verify *dkim;
	size_t received_len;	/* our Received header: content offset of the client's */
	struct lookup_set *set;	/* the answers so far */
	char qname[AUTH_Q_MAX][LOOKUP_NAME_MAX + 1];	/* every question asked */
	size_t n_q, base, pending;	/* base: first of the round in flight */
	bool lookups_failed;
	struct msgcheck_from from;	/* the distinct From domains */
};

struct srcpt {
	char user[65];
	char addr[SMTP_LOCAL_MAX * 2 + 3 + 1 + SMTP_DOMAIN_MAX + 1];
};

/* One mail transaction, MAIL to the end of the data; reset as a whole. */
struct txn {
	bool in_mail;
	struct smtp_path sender;
	bool smtputf8;
	enum smtp_body body;
	struct srcpt *rcpts;	/* expanded, one per mailbox */
	size_t n_rcpts, cap_rcpts;
	unsigned n_rcpt_cmds;	/* accepted RCPT commands */
	unsigned n_rcpt_tried;	/* RCPT commands, accepted or not */
	char first_rcpt[SMTP_PATH_MAX * 2];

	/* content */
	char qid[SPOOL_QID_MAX + 1];
	int spool_fd;		/* -1 when none */
	uint64_t spool_len;	/* bytes written to the spool file */
	bool spool_mem;		/* spool_fd is in memory (mail/spool.h) */
	bool spill_sent;	/* SPILL asked (once per message) */
	bool spill_pending;	/* ... and not answered: the data waits */
	struct smtp_data data;
	struct buf content;
	bool too_big;
	int werr;		/* write error while spooling */
	bool is_bdat;
	uint64_t bdat_left;
	bool bdat_last;
	bool bdat_failed;	/* read the chunk, then refuse it with bdat_err */
	const char *bdat_err;
	bool want_bdat_chunk;	/* the spool file was asked for by BDAT */
	time_t arrival;

	/* mail authentication */
	int spf;		/* enum spf_result of MAIL FROM */
	char spf_domain[256];
	struct auth_txn *auth;	/* from DATA to the end of the data */
	size_t fed;		/* content bytes already given to auth */
	struct spool_skip skips[SPOOL_SKIPS_MAX];
	size_t n_skips;
	char folder[16];	/* "" or "Junk" */

	/* the access map */
	bool discard;		/* DISCARD: accept to the end, then drop */
	bool from_ok;		/* From: OK/RELAY: SPF does not refuse */
	struct smtp_path prcpt;	/* the RCPT waiting for its To: answer */

	/* defences of the RCPT in progress (smtp/defence.c) */
	bool def_pass;		/* decided: pass (set before the RCPT is re-run) */
	int spam;		/* Spam: of the recipient: 0 not asked, 1 FRIEND, 2 not */
	uint64_t bl_req;	/* DNSBL of HELO/sender domains in flight, 0 none */
	bool bl_done;		/* its answer is in (or there was nothing to ask) */
	struct proto_dnsbl_reply *bl;	/* that answer when it lists, else NULL */
};

struct session {
	struct session *next, *prev;
	uint64_t id;
	char sid[17];
	struct io io;
	enum sstate st;
	enum swait wait;	/* in S_WAIT */
	uint64_t req;		/* id of the request waited for; 0 when none */
	uint64_t admit_id;	/* id under which the policy process counts us */
	const struct conf_listen *lis;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char ip[SOCKADDR_IP_MAX];
	struct timer timer;

	bool helo_seen, esmtp, is_tls, admitted;
	char helo[SMTP_DOMAIN_MAX + 1];
	int rdns;		/* RDNS_* of proto/smtp_policy.h, or RDNS_UNKNOWN */
	char rdns_name[256];	/* the verified name (RDNS_PASS) */
	uint64_t rdns_req;	/* the RDNS request in flight, 0 when none */
	uint64_t name_req;	/* the access question for that name, 0 when none */
	int access_stage;	/* in WAIT_ACCESS: ACC_* */
	bool conn_ok;		/* Connect: OK or RELAY */
	bool conn_relay;	/* Connect: RELAY: may relay */
	bool discard_all;	/* Connect: DISCARD */
	bool conn_refused;	/* Connect: by name refused: conn_verdict at MAIL */
	bool trusted;		/* mynetworks */
	uint64_t bl_req;	/* DNSBL of the client address in flight, 0 none */
	bool bl_done;		/* its answer is in (or nothing to ask) */
	struct proto_dnsbl_reply *bl;	/* that answer when it lists, else NULL */
	int bl_stage;		/* in WAIT_DNSBL: 1 connect, 2 RCPT */
	bool bl_scored;		/* the blocklist hit was reported for bans */
	uint64_t pause_until;	/* S_PAUSE: monotonic ms the banner is due */
	struct verdict conn_verdict;
	char tls_desc[128];
	unsigned n_errors;
	unsigned n_msgs, n_rcpts_total, n_cmds;
	unsigned n_junk;	/* NOOP, RSET, VRFY, HELP: they move nothing forward */
	uint64_t deadline;	/* monotonic ms: the session's time is up */
	bool starttls_pending;	/* 220 queued; handshake when flushed */
	bool wait_read_off;	/* S_WAIT saw input: read interest is off */
	bool stop_after_reply;	/* worker shutting down: 421 at next chance */

	struct txn t;
};

/* The worker's state (worker.c). */
struct smtp_worker {
	struct loop *loop;
	const struct conf *conf;
	const struct users *users;
	const struct aliases *aliases;
	SSL_CTX *tls;
	struct ipc *parent, *queue, *policy;
	uint32_t queue_id, policy_id;	/* the peers' ids, for a REPORT */
	int *lfds;
	size_t n_lfds;
	struct session *sessions;
	size_t n_sessions;
	struct htab reqs;	/* request id -> session pointer */
	struct htab rdns_reqs;	/* RDNS request id -> session pointer */
	uint64_t next_req;
	bool draining;
	struct timer grace;
	struct timer accept_pause;
	unsigned slot;
};
extern struct smtp_worker W;

/* worker.c */
/* Enter S_WAIT for `what` under a new request id (returned). */
uint64_t smtp_session_wait(struct session *s, enum swait what);
/* The session waiting for request id as `what`, or NULL; its wait ends. */
struct session *smtp_session_answer(uint64_t id, enum swait what);
void smtp_session_free(struct session *s);

/* session.c */
void smtp_reply(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A refusal: writes the reply "CODE ESC TEXT" and one log line
 * "event=reject ... result="CODE ESC" reason=..." from the same verdict,
 * with extra log fields (already escaped) in `fields`.  5xx replies to
 * broken commands count towards the error limit when counts is set. */
void smtp_refuse(struct session *s, const struct verdict *v, const char *fields, bool counts);
void smtp_reject_cmd(struct session *s, const char *code_text, const uint8_t *line, size_t len);
void smtp_log_path(const struct smtp_path *p, char *dst, size_t n);
const char *smtp_qid(const struct session *s);
void smtp_admitted(struct session *s, uint32_t verdict);
void smtp_session_process(struct session *s);
void smtp_session_update(struct session *s);
void smtp_session_timeout(struct loop *l, void *arg);
void smtp_session_event(struct loop *l, int fd, unsigned ev, void *arg);

/* commands.c */
void smtp_handle_command(struct session *s, const uint8_t *line, size_t len);

/* message.c */
void smtp_txn_reset(struct session *s);
void smtp_content_begin(struct session *s);
void smtp_content_append(struct session *s);
/* Ask for a file on disk when the message in memory would pass
 * SPOOL_MEM_SPILL (end: with its envelope): true when asked, and the
 * data then waits (t.spill_pending) for smtp_spool_spilled(). */
bool smtp_spool_spill(struct session *s, bool end);
void smtp_spool_spilled(struct session *s, int fd, int err);
void smtp_content_end(struct session *s);
void smtp_queue_gone(struct session *s);
/* After the mail-authentication checks: refuse with v (unless V_NEXT), or
 * write the envelope with the Authentication-Results in ar and commit. */
void smtp_content_commit(struct session *s, const struct verdict *v, const struct buf *ar);

/* mailauth.c */
struct proto_spf_reply;
struct proto_rdns_reply;
void smtp_auth_connect(struct session *s);	/* after admission: RDNS */
void smtp_auth_forget(struct session *s);	/* the session ends */
void smtp_auth_rdns_reply(uint64_t id, const struct proto_rdns_reply *r);
void smtp_auth_mail(struct session *s);		/* MAIL accepted so far: SPF */
void smtp_auth_spf_reply(uint64_t id, const struct proto_spf_reply *r);
void smtp_auth_begin(struct session *s, size_t received_len);
void smtp_auth_feed(struct session *s, const uint8_t *p, size_t n);
void smtp_auth_end(struct session *s);		/* then smtp_content_commit */
void smtp_auth_lookup_reply(uint64_t id, uint32_t idx, const struct lookup *l);
void smtp_auth_lookups_done(struct session *s);
void smtp_auth_txn_free(struct session *s);
void smtp_auth_policy_gone(void);

/* access.c: each returns true when it asked (the session waits, or was
 * answered at once), false when there is nothing to ask */
struct proto_access_reply;
bool smtp_access_connect(struct session *s);	/* then smtp_connect_continue */
void smtp_access_name(struct session *s);	/* the verified name, no wait */
bool smtp_access_mail(struct session *s);	/* then smtp_auth_mail */
bool smtp_access_rcpt(struct session *s, const struct smtp_path *p, bool local);
bool smtp_access_spam(struct session *s, const struct smtp_path *p);	/* then ACC_SPAM */
void smtp_access_reply(uint64_t id, const struct proto_access_reply *r);
void smtp_access_policy_gone(struct session *s);
/* session.c: admitted and, with a map, past Connect:: TLS or the greeting */
void smtp_connect_continue(struct session *s);
void smtp_greet(struct session *s);		/* the 220 banner */
/* commands.c: the RCPT after its To: answer */
void smtp_rcpt_continue(struct session *s, const struct smtp_path *p);

/* defence.c: blocklists, greylisting, greet pause, ban events */
struct proto_dnsbl_reply;
struct proto_grey_reply;
/* accept: the listener's allow list and the deny list; false when the
 * connection was refused or dropped (fd closed) */
bool smtp_acl(const struct conf_listen *lis, int fd, const struct sockaddr_storage *ss,
    socklen_t sl);
void smtp_def_admitted(struct session *s);	/* the client blocklists start */
void smtp_def_mail(struct session *s);		/* the domain blocklists start */
/* Before the banner (after Connect:): greet pause, blocklists at connect;
 * true when the session waits (the banner comes later) or was refused. */
bool smtp_def_connect(struct session *s);
void smtp_def_pause_over(struct session *s);	/* the S_PAUSE timer fired */
void smtp_def_early_talker(struct session *s);	/* input in S_PAUSE */
/* The RCPT p, accepted so far: DEF_PASS, or the session waits / was
 * answered. */
enum { DEF_PASS = 0, DEF_DONE = 1 };
int smtp_def_rcpt(struct session *s, const struct smtp_path *p);
void smtp_def_dnsbl_reply(uint64_t id, const struct proto_dnsbl_reply *r);
void smtp_def_grey_reply(uint64_t id, const struct proto_grey_reply *r);
void smtp_def_spam_answer(struct session *s, bool friend);	/* ACC_SPAM */
void smtp_def_txn_reset(struct session *s);
void smtp_def_forget(struct session *s);	/* the session ends */
void smtp_def_policy_gone(void);
/* Ban points for the client (policy/bans.h BAN_EV_*). */
void smtp_event(struct session *s, unsigned event);
/* After a complete command line: the pipelining check; true when it
 * refused (the session closes). */
bool smtp_def_pipelining(struct session *s, bool negotiated, size_t left);

#endif

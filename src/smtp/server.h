/*
 * smtp/server.h - the smtp worker process: listeners, sessions, the SMTP
 * server state machine (RFC 5321 with PIPELINING, SIZE, 8BITMIME,
 * ENHANCEDSTATUSCODES, SMTPUTF8, STARTTLS, CHUNKING).
 */
#ifndef TALON_SMTP_SERVER_H
#define TALON_SMTP_SERVER_H

#include <openssl/ssl.h>

struct conf;
struct users;
struct aliases;

struct smtp_worker_args {
	const struct conf *conf;
	const struct users *users;	/* names only: hashes wiped */
	const struct aliases *aliases;
	SSL_CTX *tls;			/* NULL when no listener uses TLS */
	int *listen_fds;		/* one per conf->listens[i] */
	int parent_fd;		/* the parent sends STOP and PEER (queue, policy) */
	unsigned slot;
};

void smtp_worker_main(const struct smtp_worker_args *a) __attribute__((noreturn));

#endif

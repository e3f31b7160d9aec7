/*
 * imap/imap.h - the imap process: IMAP4rev2 (RFC 9051) and IMAP4rev1
 * (RFC 3501) over TLS.
 *
 * This stage: the listeners, TLS (STARTTLS and implicit), the command
 * framing and parser (imap/parse.h), and the not-authenticated state:
 * CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, LOGIN and AUTHENTICATE PLAIN,
 * LOGIN, SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (with SASL-IR), checked by
 * the auth process.  Mailboxes come
 * next: after login every mailbox command is answered NO [UNAVAILABLE].
 */
#ifndef TALON_IMAP_IMAP_H
#define TALON_IMAP_IMAP_H

#include <stddef.h>

#include <openssl/ssl.h>

struct conf;

struct imap_args {
	const struct conf *conf;
	SSL_CTX *tls;		/* every imap listener uses TLS */
	int *listen_fds;	/* one per conf->imap_listens[i] */
	size_t n_listen;
	int parent_fd;
};

void imap_main(const struct imap_args *a) __attribute__((noreturn));

#endif

/*
 * daemon/listen.h - the parent's listening sockets: one per (listen
 * address, worker slot), bound with SO_REUSEPORT, and a UDP and a TCP
 * socket per `listen dns` address; kept across reloads so that no queued
 * connection or query is lost.  Runs in: parent.
 */
#ifndef TALON_LISTEN_H
#define TALON_LISTEN_H

#include <stddef.h>

struct conf;

/* Make sure every (listener, slot) of cf has a socket, reusing ours.
 * Marks the ones cf uses.  -1 with err on a bind failure. */
int listen_setup(const struct conf *cf, char *err, size_t errlen);
/* Close the sockets the last listen_setup did not mark. */
void listen_close_unused(void);
/* Fill fds[i] for cf->listens[i] of worker slot; -1 if any is missing. */
int listen_fds(const struct conf *cf, unsigned slot, int *fds);
/* fds[2i], fds[2i+1]: the UDP and TCP socket of cf->dns_listens[i]. */
int listen_dns_fds(const struct conf *cf, int *fds);
/* The imap listeners' sockets, in config order (one process serves them). */
int listen_imap_fds(const struct conf *cf, int *fds);
void listen_close_all(void);

#endif

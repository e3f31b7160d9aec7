/*
 * dns/server.h - the dns role: authoritative DNS over UDP and TCP.
 * Runs in: dns process (chrooted, unprivileged).
 */
#ifndef TALON_DNS_SERVER_H
#define TALON_DNS_SERVER_H

#include <stddef.h>

/* fds: for each `listen dns` address its UDP socket, then its TCP socket. */
void dns_main(int parent_fd, const int *fds, size_t n_fds) __attribute__((noreturn));

#endif

/*
 * core/sockaddr.h - one place that turns socket addresses into text and
 * client keys.
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is shown and counted as the
 * IPv4 address it carries, so a dual-stack listener sees one client once.
 * Runs in: every process.  Trusts: the caller's sockaddr length.
 */
#ifndef TALON_SOCKADDR_H
#define TALON_SOCKADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SOCKADDR_IP_MAX		46	/* INET6_ADDRSTRLEN */
#define SOCKADDR_TEXT_MAX	56	/* "[" ip "]:" port */

/* The address alone: "192.0.2.1" or "2001:db8::1".  "?" for anything
 * that is not AF_INET/AF_INET6 or is shorter than its family needs. */
void sockaddr_ip(const struct sockaddr_storage *ss, socklen_t len, char dst[SOCKADDR_IP_MAX]);
/* Address and port: "192.0.2.1:25" or "[2001:db8::1]:25". */
void sockaddr_text(const struct sockaddr_storage *ss, socklen_t len,
    char dst[SOCKADDR_TEXT_MAX]);

/* A client as counted for limits: 16 bytes (IPv4 mapped into ::ffff:0:0/96)
 * with an IPv6 address cut to its first v6_prefix bits, so every address
 * of one /64 (the usual end-user assignment) is one client.  false for an
 * address that is neither IPv4 nor IPv6. */
struct client_key {
	uint8_t b[16];
};
bool sockaddr_client_key(const struct sockaddr_storage *ss, socklen_t len,
    unsigned v6_prefix, struct client_key *out);

#endif

/*
 * core/prefix.h - address prefixes ("192.0.2.1", "198.51.100.0/24",
 * "2001:db8::/32") for config lists: ACLs, trusted networks, bans,
 * greylisting exemptions, allow-transfer.
 *
 * An IPv4-mapped IPv6 client address (::ffff:a.b.c.d) matches the IPv4
 * prefixes, as core/sockaddr.h counts it as IPv4.  Pure functions.
 * Runs in: every process.
 */
#ifndef TALON_PREFIX_H
#define TALON_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PREFIX_TEXT_MAX	50	/* "ffff:...:ffff/128" */

struct prefix {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* IPv4 in the first 4 bytes */
	unsigned len;		/* prefix length in bits */
};

/* Parse an address or ADDR/LEN; bits past the length must be zero (a typo
 * there would hide a wrong length).  false on anything else. */
bool prefix_parse(const char *s, struct prefix *p);
/* The address of ss as a full-length prefix (IPv4-mapped read as IPv4);
 * false for other families or a short length. */
bool prefix_from_sockaddr(const struct sockaddr_storage *ss, socklen_t len, struct prefix *p);
/* Does address a (a full-length prefix) lie inside p? */
bool prefix_contains(const struct prefix *p, const struct prefix *a);
/* Is ss inside any of the n prefixes? */
bool prefix_list_match(const struct prefix *list, size_t n, const struct sockaddr_storage *ss,
    socklen_t len);
/* "192.0.2.0/24"; a full-length prefix is written without "/LEN". */
void prefix_text(const struct prefix *p, char dst[PREFIX_TEXT_MAX]);
/* Cut p to its first len bits (len at most the family's width). */
void prefix_truncate(struct prefix *p, unsigned len);

#endif

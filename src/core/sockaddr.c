/*
 * core/sockaddr.c - socket address formatting and client keys (see .h).
 */
#include "core/sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* The IPv4 address inside ss, if it is one (plain or v4-mapped). */
static bool
as_v4(const struct sockaddr_storage *ss, socklen_t len, struct in_addr *out)
{
	if (ss->ss_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		*out = ((const struct sockaddr_in *)ss)->sin_addr;
		return true;
	}
	if (ss->ss_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(out, &a->s6_addr[12], 4);
			return true;
		}
	}
	return false;
}

static bool
is_v6(const struct sockaddr_storage *ss, socklen_t len)
{
	return ss->ss_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6);
}

void
sockaddr_ip(const struct sockaddr_storage *ss, socklen_t len, char dst[SOCKADDR_IP_MAX])
{
	struct in_addr v4;
	if (as_v4(ss, len, &v4))
		inet_ntop(AF_INET, &v4, dst, SOCKADDR_IP_MAX);
	else if (is_v6(ss, len))
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, dst,
		    SOCKADDR_IP_MAX);
	else
		snprintf(dst, SOCKADDR_IP_MAX, "?");
}

void
sockaddr_text(const struct sockaddr_storage *ss, socklen_t len, char dst[SOCKADDR_TEXT_MAX])
{
	char ip[SOCKADDR_IP_MAX];
	struct in_addr v4;
	sockaddr_ip(ss, len, ip);
	if (as_v4(ss, len, &v4))
		snprintf(dst, SOCKADDR_TEXT_MAX, "%s:%u", ip, ntohs(ss->ss_family == AF_INET ?
		    ((const struct sockaddr_in *)ss)->sin_port :
		    ((const struct sockaddr_in6 *)ss)->sin6_port));
	else if (is_v6(ss, len))
		snprintf(dst, SOCKADDR_TEXT_MAX, "[%s]:%u", ip,
		    ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
	else
		snprintf(dst, SOCKADDR_TEXT_MAX, "?");
}

bool
sockaddr_client_key(const struct sockaddr_storage *ss, socklen_t len, unsigned v6_prefix,
    struct client_key *out)
{
	struct in_addr v4;
	memset(out, 0, sizeof *out);
	if (as_v4(ss, len, &v4)) {
		out->b[10] = out->b[11] = 0xff;
		memcpy(&out->b[12], &v4, 4);
		return true;
	}
	if (!is_v6(ss, len))
		return false;
	memcpy(out->b, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	if (v6_prefix > 128)
		v6_prefix = 128;
	for (unsigned bit = v6_prefix; bit < 128; bit++)
		out->b[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return true;
}

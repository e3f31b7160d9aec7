/*
 * core/prefix.c - address prefixes (see prefix.h).
 * Input: config text and kernel socket addresses.  Runs in: every process.
 */
#include "core/prefix.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

static unsigned
width(int family)
{
	return family == AF_INET ? 32 : 128;
}

bool
prefix_parse(const char *s, struct prefix *p)
{
	char a[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof a)
		return false;
	memcpy(a, s, n);
	a[n] = '\0';
	memset(p, 0, sizeof *p);
	if (inet_pton(AF_INET, a, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, a, p->addr) == 1)
		p->family = AF_INET6;
	else
		return false;
	uint64_t len = width(p->family);
	if (slash != NULL && !parse_u64(slash + 1, width(p->family), &len))
		return false;
	p->len = (unsigned)len;
	for (unsigned bit = p->len; bit < width(p->family); bit++)
		if (p->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

bool
prefix_from_sockaddr(const struct sockaddr_storage *ss, socklen_t len, struct prefix *p)
{
	memset(p, 0, sizeof *p);
	if (ss->ss_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		p->family = AF_INET;
		memcpy(p->addr, &s4->sin_addr, 4);
		p->len = 32;
		return true;
	}
	if (ss->ss_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			p->family = AF_INET;
			memcpy(p->addr, s6->sin6_addr.s6_addr + 12, 4);
			p->len = 32;
		} else {
			p->family = AF_INET6;
			memcpy(p->addr, s6->sin6_addr.s6_addr, 16);
			p->len = 128;
		}
		return true;
	}
	return false;
}

bool
prefix_contains(const struct prefix *p, const struct prefix *a)
{
	if (p->family != a->family || a->len < p->len)
		return false;
	unsigned whole = p->len / 8, rest = p->len % 8;
	if (memcmp(p->addr, a->addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (p->addr[whole] & mask) == (a->addr[whole] & mask);
}

bool
prefix_list_match(const struct prefix *list, size_t n, const struct sockaddr_storage *ss,
    socklen_t len)
{
	struct prefix a;
	if (n == 0 || !prefix_from_sockaddr(ss, len, &a))
		return false;
	for (size_t i = 0; i < n; i++)
		if (prefix_contains(&list[i], &a))
			return true;
	return false;
}

void
prefix_text(const struct prefix *p, char dst[PREFIX_TEXT_MAX])
{
	char a[INET6_ADDRSTRLEN];
	if (inet_ntop(p->family, p->addr, a, sizeof a) == NULL) {
		snprintf(dst, PREFIX_TEXT_MAX, "?");
		return;
	}
	if (p->len == width(p->family))
		snprintf(dst, PREFIX_TEXT_MAX, "%s", a);
	else
		snprintf(dst, PREFIX_TEXT_MAX, "%s/%u", a, p->len);
}

void
prefix_truncate(struct prefix *p, unsigned len)
{
	if (len >= p->len)
		return;
	for (unsigned bit = len; bit < width(p->family); bit++)
		p->addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	p->len = len;
}

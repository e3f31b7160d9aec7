/*
 * tests/unit/test_dns_rrl.c - response rate limiting (dns/rrl.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "dns/rrl.h"
#include "t.h"

static struct sockaddr_storage
v4(const char *a)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;
	s->sin_family = AF_INET;
	inet_pton(AF_INET, a, &s->sin_addr);
	return ss;
}

static struct sockaddr_storage
v6(const char *a)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
	s->sin6_family = AF_INET6;
	inet_pton(AF_INET6, a, &s->sin6_addr);
	return ss;
}

/* count what happens to n responses to from at one instant */
static void
burst(struct dns_rrl *r, const struct sockaddr_storage *from, uint64_t now, unsigned n,
    unsigned *sent, unsigned *slipped, unsigned *dropped)
{
	*sent = *slipped = *dropped = 0;
	for (unsigned i = 0; i < n; i++) {
		enum dns_rrl_act a = dns_rrl_check(r, from, now);
		*sent += a == DNS_RRL_SEND;
		*slipped += a == DNS_RRL_SLIP;
		*dropped += a == DNS_RRL_DROP;
	}
}

T(test_rate_then_slip_every_second)
{
	struct dns_rrl *r = dns_rrl_new(10, 2, 1024);
	struct sockaddr_storage a = v4("192.0.2.7");
	unsigned s, sl, d;
	burst(r, &a, 1000, 30, &s, &sl, &d);
	CHECK_INT(s, 10);	/* one second's worth at once */
	CHECK_INT(sl, 10);	/* of the 20 over it, every second one slips */
	CHECK_INT(d, 10);
	/* 100 ms later: one more response's worth */
	burst(r, &a, 1100, 3, &s, &sl, &d);
	CHECK_INT(s, 1);
	/* a full second later the bucket is full again, not fuller */
	burst(r, &a, 5000, 30, &s, &sl, &d);
	CHECK_INT(s, 10);
	dns_rrl_free(&r);
	CHECK(r == NULL);
}

T(test_prefixes)
{
	struct dns_rrl *r = dns_rrl_new(5, 0, 1u << 16);
	struct sockaddr_storage a = v4("198.51.100.1"), b = v4("198.51.100.200"),
	    c = v4("203.0.113.9");
	unsigned s, sl, d;
	burst(r, &a, 1000, 5, &s, &sl, &d);
	CHECK_INT(s, 5);
	/* the same /24: its budget is spent; slip 0 means drop them all */
	burst(r, &b, 1000, 4, &s, &sl, &d);
	CHECK_INT(s, 0);
	CHECK_INT(sl, 0);
	CHECK_INT(d, 4);
	/* another network has its own (unless the table puts both in one
	 * bucket: with 65536 buckets and a seeded hash, not these two) */
	burst(r, &c, 1000, 5, &s, &sl, &d);
	CHECK_INT(s, 5);
	/* IPv6: one /56 is one client */
	struct sockaddr_storage x = v6("2001:db8:0:1::1"), y = v6("2001:db8:0:ff::2");
	burst(r, &x, 1000, 5, &s, &sl, &d);
	CHECK_INT(s, 5);
	burst(r, &y, 1000, 1, &s, &sl, &d);
	CHECK_INT(s, 0);
	dns_rrl_free(&r);
}

T(test_off)
{
	struct dns_rrl *r = dns_rrl_new(0, 2, 64);
	struct sockaddr_storage a = v4("192.0.2.1");
	unsigned s, sl, d;
	burst(r, &a, 1, 100000, &s, &sl, &d);
	CHECK_INT(s, 100000);
	dns_rrl_set_rate(r, 3);
	burst(r, &a, 2, 10, &s, &sl, &d);
	CHECK_INT(s, 3);
	CHECK(dns_rrl_check(NULL, &a, 3) == DNS_RRL_SEND);
	dns_rrl_free(&r);
}

int
main(void)
{
	RUN(test_rate_then_slip_every_second);
	RUN(test_prefixes);
	RUN(test_off);
	return t_done("dns_rrl");
}

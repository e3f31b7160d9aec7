/*
 * Unit tests: core/htab (the hash table), core/sockaddr (text and client
 * keys) and policy/admit (connection counting).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "core/htab.h"
#include "core/sockaddr.h"
#include "policy/admit.h"
#include "proto/smtp_policy.h"
#include "t.h"

static struct sockaddr_storage
addr(const char *ip, unsigned port, socklen_t *len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &a->sin6_addr);
		*len = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &a->sin_addr);
		*len = sizeof *a;
	}
	return ss;
}

static struct client_key
key(const char *ip, unsigned prefix)
{
	socklen_t len;
	struct sockaddr_storage ss = addr(ip, 25, &len);
	struct client_key k;
	CHECK(sockaddr_client_key(&ss, len, prefix, &k));
	return k;
}

T(test_sockaddr_text)
{
	char ip[SOCKADDR_IP_MAX], text[SOCKADDR_TEXT_MAX];
	socklen_t len;
	struct sockaddr_storage ss = addr("192.0.2.7", 2525, &len);
	sockaddr_ip(&ss, len, ip);
	sockaddr_text(&ss, len, text);
	CHECK_STR(ip, "192.0.2.7");
	CHECK_STR(text, "192.0.2.7:2525");
	ss = addr("2001:db8::1", 25, &len);
	sockaddr_text(&ss, len, text);
	CHECK_STR(text, "[2001:db8::1]:25");
	/* a v4-mapped address is shown as the IPv4 address it carries */
	ss = addr("::ffff:192.0.2.9", 25, &len);
	sockaddr_ip(&ss, len, ip);
	sockaddr_text(&ss, len, text);
	CHECK_STR(ip, "192.0.2.9");
	CHECK_STR(text, "192.0.2.9:25");
	/* too short for its family, or another family */
	sockaddr_ip(&ss, 4, ip);
	CHECK_STR(ip, "?");
	ss.ss_family = AF_UNIX;
	sockaddr_text(&ss, sizeof ss, text);
	CHECK_STR(text, "?");
}

T(test_client_keys)
{
	struct client_key a = key("2001:db8:0:0:1::1", 64), b = key("2001:db8::ffff:2", 64);
	struct client_key c = key("2001:db8:0:1::1", 64);
	CHECK(memcmp(&a, &b, sizeof a) == 0);	/* one /64 */
	CHECK(memcmp(&a, &c, sizeof a) != 0);	/* the next /64 */
	a = key("2001:db8::1", 128);
	b = key("2001:db8::2", 128);
	CHECK(memcmp(&a, &b, sizeof a) != 0);
	/* odd prefix lengths cut inside a byte */
	a = key("2001:db8:ff00::", 33);
	b = key("2001:db8:8000::", 33);
	c = key("2001:db8:7f00::", 33);
	CHECK(memcmp(&a, &b, sizeof a) == 0);
	CHECK(memcmp(&a, &c, sizeof a) != 0);
	/* IPv4 and its v4-mapped form are one client; IPv4 is never cut */
	a = key("192.0.2.1", 64);
	b = key("::ffff:192.0.2.1", 8);
	c = key("192.0.2.2", 64);
	CHECK(memcmp(&a, &b, sizeof a) == 0);
	CHECK(memcmp(&a, &c, sizeof a) != 0);
	struct sockaddr_storage ss;
	struct client_key k;
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	CHECK(!sockaddr_client_key(&ss, sizeof ss, 64, &k));
}

T(test_htab_churn)
{
	struct htab h;
	htab_init(&h, sizeof(uint32_t), sizeof(uint32_t));
	/* insert, delete every other, check the rest survives backward shifts */
	for (uint32_t i = 0; i < 5000; i++)
		*(uint32_t *)htab_put(&h, &i) = i * 3;
	CHECK_INT(h.n, 5000);
	for (uint32_t i = 0; i < 5000; i += 2)
		htab_del(&h, &i);
	CHECK_INT(h.n, 2500);
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t *v = htab_get(&h, &i);
		if (i % 2 == 0)
			CHECK(v == NULL);
		else
			CHECK(v != NULL && *v == i * 3);
	}
	size_t pos = 0, n = 0;
	while (htab_next(&h, &pos) != NULL)
		n++;
	CHECK_INT(n, 2500);
	uint32_t missing = 99999;
	htab_del(&h, &missing);
	CHECK_INT(h.n, 2500);
	htab_free(&h);
	CHECK(htab_get(&h, &missing) == NULL);
}

T(test_admit_limits)
{
	struct admit a;
	admit_init(&a);
	struct client_key x = key("192.0.2.1", 64), y = key("192.0.2.2", 64);
	CHECK_INT(admit_ask(&a, 1, 100, &x, 4, 2), ADMIT_OK);
	CHECK_INT(admit_ask(&a, 2, 100, &x, 4, 2), ADMIT_OK);	/* same id, other worker */
	CHECK_INT(admit_ask(&a, 1, 101, &x, 4, 2), ADMIT_TOO_MANY_IP);
	CHECK_INT(admit_ask(&a, 1, 102, &y, 4, 2), ADMIT_OK);
	/* a repeated id on one channel is not counted twice */
	CHECK_INT(admit_ask(&a, 1, 102, &y, 4, 2), ADMIT_TOO_MANY);
	CHECK_INT(admit_ask(&a, 1, 103, &y, 4, 2), ADMIT_OK);
	CHECK_INT(a.total, 4);
	struct client_key z = key("192.0.2.3", 64);
	CHECK_INT(admit_ask(&a, 1, 104, &z, 4, 2), ADMIT_TOO_MANY);
	admit_end(&a, 1, 100);
	admit_end(&a, 1, 100);	/* twice: ignored */
	admit_end(&a, 9, 555);	/* unknown: ignored */
	CHECK_INT(admit_count(&a, &x), 1);
	CHECK_INT(a.total, 3);
	/* a dead worker gives back everything it held */
	admit_drop_chan(&a, 1);
	CHECK_INT(admit_count(&a, &y), 0);
	CHECK_INT(admit_count(&a, &x), 1);
	CHECK_INT(a.total, 1);
	/* a hold is counted whatever the limits say */
	admit_hold(&a, 3, 7, &x);
	admit_hold(&a, 3, 8, &x);
	admit_hold(&a, 3, 8, &x);	/* repeated: once */
	CHECK_INT(admit_count(&a, &x), 3);
	CHECK_INT(admit_ask(&a, 3, 9, &x, 100, 3), ADMIT_TOO_MANY_IP);
	admit_drop_chan(&a, 3);
	admit_drop_chan(&a, 2);
	CHECK_INT(a.total, 0);
	CHECK_INT(a.clients.n, 0);
	CHECK_INT(a.sessions.n, 0);
	admit_free(&a);
}

int
main(void)
{
	RUN(test_sockaddr_text);
	RUN(test_client_keys);
	RUN(test_htab_churn);
	RUN(test_admit_limits);
	return t_done("admit");
}

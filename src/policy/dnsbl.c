/*
 * policy/dnsbl.c - DNS blocklist questions, answers and texts (dnsbl.h).
 * Input: the client address and the HELO and sender domains the smtp
 * worker saw (domains checked here again), and DNS answers (any bytes).
 * Runs in: policy.
 */
#include "policy/dnsbl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "mail/domain.h"
#include "proto/smtp_policy.h"

static void
reversed(const struct prefix *p, char *out, size_t n)
{
	if (p->family == AF_INET) {
		snprintf(out, n, "%u.%u.%u.%u", p->addr[3], p->addr[2], p->addr[1], p->addr[0]);
		return;
	}
	size_t o = 0;
	for (int i = 15; i >= 0; i--)
		o += (size_t)snprintf(out + o, n - o, "%s%x.%x", i == 15 ? "" : ".",
		    p->addr[i] & 15, p->addr[i] >> 4);
}

static bool
add(struct dnsbl_q *out, size_t *k, size_t max, uint32_t list, uint32_t what,
    const char *left, const char *zone, const char *subject)
{
	if (*k == max)
		return false;
	struct dnsbl_q *q = &out[*k];
	int w = snprintf(q->name, sizeof q->name, "%s.%s", left, zone);
	/* a name longer than DNS allows cannot be listed */
	if (w < 0 || (size_t)w > 253)
		return true;
	ascii_strlower(q->name);
	q->list = list;
	q->what = what;
	str_copy(q->subject, sizeof q->subject, subject);
	(*k)++;
	return true;
}

/* a domain we may ask about: a host name (no address literal, no dots
 * at the ends) */
static bool
askable(const char *d)
{
	return d != NULL && d[0] != '\0' && d[0] != '[' && strlen(d) < 254 &&
	    domain_valid(d, strlen(d), DOMAIN_HOSTNAME);
}

size_t
dnsbl_questions(const struct proto_bl *lists, size_t n_lists, uint32_t what,
    const struct prefix *client, const char *helo, const char *from, struct dnsbl_q *out,
    size_t max)
{
	size_t k = 0;
	char rev[80], ip[PREFIX_TEXT_MAX];
	bool have_ip = client != NULL && client->len == (client->family == AF_INET ? 32u : 128u);
	if (have_ip) {
		reversed(client, rev, sizeof rev);
		prefix_text(client, ip);
	}
	for (size_t i = 0; i < n_lists; i++) {
		const struct proto_bl *l = &lists[i];
		bool ok = true;
		if ((l->what & DNSBL_CLIENT) && (what & DNSBL_CLIENT) && have_ip)
			ok = add(out, &k, max, (uint32_t)i, DNSBL_CLIENT, rev, l->zone, ip);
		if (ok && (l->what & DNSBL_HELO) && (what & DNSBL_HELO) && askable(helo))
			ok = add(out, &k, max, (uint32_t)i, DNSBL_HELO, helo, l->zone, helo);
		if (ok && (l->what & DNSBL_FROM) && (what & DNSBL_FROM) && askable(from))
			ok = add(out, &k, max, (uint32_t)i, DNSBL_FROM, from, l->zone, from);
		if (!ok)
			break;
	}
	return k;
}

enum dnsbl_verdict
dnsbl_check(const struct proto_bl *l, const struct lookup *a, uint32_t *value)
{
	enum dnsbl_verdict v = DNSBL_V_NO;
	*value = 0;
	if (a->status != LOOKUP_OK)
		return DNSBL_V_NO;
	for (size_t i = 0; i < a->n; i++) {
		if (a->rr[i].len != 4)
			continue;
		const uint8_t *d = a->rr[i].data;
		uint32_t x = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
		if (d[0] != 127)
			continue;
		if (x == 0x7ffffffc || x == 0x7ffffffe || x == 0x7fffffff) {
			if (v == DNSBL_V_NO) {
				v = DNSBL_V_REFUSED;
				*value = x;
			}
			continue;
		}
		bool counts = l->n_codes == 0;
		for (uint32_t k = 0; k < l->n_codes && !counts; k++)
			counts = l->codes[k] == x;
		if (counts) {
			*value = x;
			return DNSBL_V_LISTED;
		}
	}
	return v;
}

/* append s (cut to the room left), printable ASCII only */
static void
put(char *out, size_t n, size_t *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len && *o + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[(*o)++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[*o] = '\0';
}

void
dnsbl_text(const struct proto_bl *l, const char *ip, const struct dnsbl_q *q, char *out,
    size_t n)
{
	size_t o = 0;
	if (n == 0)
		return;
	out[0] = '\0';
	if (l->text[0] == '\0') {
		put(out, n, &o, "Rejected: ", 10);
		put(out, n, &o, q->subject, strlen(q->subject));
		put(out, n, &o, " listed at ", 11);
		put(out, n, &o, l->zone, strlen(l->zone));
		return;
	}
	static const struct { const char *tok; int which; } subs[] = {
		{ "$&{client_addr}", 0 }, { "{ip}", 0 }, { "{domain}", 1 },
	};
	for (const char *s = l->text; *s;) {
		bool done = false;
		for (size_t i = 0; i < NELEM(subs) && !done; i++) {
			size_t tl = strlen(subs[i].tok);
			if (strncmp(s, subs[i].tok, tl) != 0)
				continue;
			const char *v = subs[i].which == 0 ? ip : q->subject;
			put(out, n, &o, v, strlen(v));
			s += tl;
			done = true;
		}
		if (!done)
			put(out, n, &o, s++, 1);
	}
}

/*
 * dns/server.c - the dns process: authoritative answers over UDP and TCP.
 *
 * The parent opened the sockets (one UDP and one TCP socket per `listen
 * dns` address) and hands over the zones as sealed memfds of record
 * streams (proto/dns.h); we map each one read-only and build the index
 * over the mapping.  A new generation is built completely before it
 * replaces the old one, between two queries.  Nothing here opens a file:
 * the process runs chrooted in an empty directory as _talondns.
 *
 * UDP: recvmmsg/sendmmsg in batches, every packet answered from one
 * buffer.  TCP (RFC 7766): length-prefixed queries, pipelined, answered in
 * order; at most TCP_CONNS_MAX connections (the oldest idle one goes when
 * a new one comes), TCP_IDLE_MS of silence closes one, and a client that
 * does not read its answers is not read from either (its output is
 * bounded by TCP_OUT_MAX).
 *
 * Runs in: dns process.  Trusts: the parent; nothing from the network.
 */
#include "dns/server.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/io.h"
#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/sockaddr.h"
#include "core/util.h"
#include "dns/answer.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/rrl.h"
#include "dns/tsig.h"
#include "dns/zone.h"
#include "proto/dns.h"
#include "proto/parent.h"

#define UDP_BATCH	32
#define UDP_ROUNDS	8	/* batches per readiness event: TCP gets its turn */
#define TCP_CONNS_MAX	256
#define TCP_IDLE_MS	10000
#define TCP_OUT_MAX	(256 * 1024)
#define TCP_IN_MAX	(2 + 65535)

struct zmap {
	struct dns_zone z;
	void *map;
	size_t len;
	char origin[PROTO_DNS_ORIGIN_MAX];
	struct proto_dns_prefix allow[PROTO_DNS_PEERS_MAX];
	size_t n_allow;
	struct sockaddr_storage notify[PROTO_DNS_PEERS_MAX];
	socklen_t notify_len[PROTO_DNS_PEERS_MAX];
	size_t n_notify;
	bool has_key;		/* transfers must be signed with key */
	struct dns_tsig_key key;
};

/* A NOTIFY (RFC 1996) waiting for its answer: sent again every
 * NOTIFY_RETRY_MS, NOTIFY_TRIES times at most. */
#define NOTIFY_RETRY_MS	2000
#define NOTIFY_TRIES	5
#define NOTIFY_MAX	256

struct notify {
	bool used;
	uint16_t id;
	unsigned tries;
	struct sockaddr_storage to;
	socklen_t to_len;
	uint8_t msg[512];
	size_t len;
	char origin[PROTO_DNS_ORIGIN_MAX];
};

struct gen_zones {
	struct zmap *z;
	size_t n;
	const struct dns_zone **ptrs;
	struct dns_zoneset set;
};

struct tconn {
	struct tconn *next, **prevp;
	struct io io;
	struct timer idle;
	uint64_t last;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	bool xfr_on;		/* a transfer is being written */
	struct dns_xfr xfr;
	bool signed_xfr;
	struct dns_tsig tsig;
};

static struct {
	struct loop *loop;
	struct ipc *parent;
	int *udp, *tcp;
	size_t n_udp, n_tcp;
	struct gen_zones cur, next;
	uint32_t next_gen, next_have;
	bool next_bad;
	struct tconn *conns;
	unsigned n_conns;
	bool stopping;
	uint64_t queries;
	uint64_t limited;	/* responses dropped or slipped by the rate limit */
	struct dns_rrl *rrl;
	struct notify notify[NOTIFY_MAX];
	struct timer notify_timer;
} S;

static void tconn_free(struct tconn *c);

/* --- zones ----------------------------------------------------------------- */

static void
zones_free(struct gen_zones *g)
{
	for (size_t i = 0; i < g->n; i++) {
		OPENSSL_cleanse(&g->z[i].key, sizeof g->z[i].key);
		dns_zone_free(&g->z[i].z);
		if (g->z[i].map != NULL)
			munmap(g->z[i].map, g->z[i].len);
	}
	free(g->z);
	free(g->ptrs);
	memset(g, 0, sizeof *g);
}

/* One zone of the generation being received.  A zone that does not build
 * (it did in the parent: a bug, or memory) is left out and logged. */
static void
zone_add(const struct proto_dns_zone *pz, int fd)
{
	if (pz->gen != S.next_gen || S.next.z == NULL) {
		zones_free(&S.next);
		S.next_gen = pz->gen;
		S.next_have = 0;
		S.next.z = xcalloc(pz->count ? pz->count : 1, sizeof *S.next.z);
		S.next.ptrs = xcalloc(pz->count ? pz->count : 1, sizeof *S.next.ptrs);
		S.next.n = pz->count;
	}
	if (pz->count != S.next.n || pz->count == 0)
		return;
	struct zmap *zm = &S.next.z[pz->index];
	snprintf(zm->origin, sizeof zm->origin, "%s", pz->origin);
	memcpy(zm->allow, pz->allow, pz->n_allow * sizeof *pz->allow);
	zm->n_allow = pz->n_allow;
	memcpy(zm->notify, pz->notify, pz->n_notify * sizeof *pz->notify);
	memcpy(zm->notify_len, pz->notify_len, pz->n_notify * sizeof *pz->notify_len);
	zm->n_notify = pz->n_notify;
	zm->has_key = false;
	if (pz->key_len > 0) {
		const char *kerr;
		zm->has_key = dns_name_from_text(pz->key_name, strlen(pz->key_name), NULL,
		    zm->key.name, &kerr) > 0 && pz->key_len <= sizeof zm->key.secret;
		if (zm->has_key) {
			dns_name_lower(zm->key.name);
			memcpy(zm->key.secret, pz->key, pz->key_len);
			zm->key.secret_len = pz->key_len;
		} else {
			/* never serve unsigned what must be signed */
			zm->n_allow = 0;
			log_err("dns event=zone origin=%s error=\"bad transfer key\"", pz->origin);
		}
	}
	uint8_t origin[DNS_NAME_MAX];
	const char *err = NULL;
	struct stat st;
	if (zm->map != NULL)
		err = "sent twice";
	else if (fstat(fd, &st) < 0 || pz->len == 0 || pz->len > SIZE_MAX / 4 ||
	    pz->jlen > SIZE_MAX / 4 || (uint64_t)st.st_size != pz->len + pz->jlen)
		err = "stream length differs";
	else if (dns_name_from_text(pz->origin, strlen(pz->origin), NULL, origin, &err) < 0)
		;
	else if ((zm->map = mmap(NULL, (size_t)(pz->len + pz->jlen), PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED) {
		zm->map = NULL;
		err = strerror(errno);
	} else {
		zm->len = (size_t)(pz->len + pz->jlen);
		if (dns_zone_build(&zm->z, origin, zm->map, (size_t)pz->len, NULL, NULL, NULL,
		    NULL) < 0) {
			err = "does not build";
		} else {
			zm->z.journal = (const uint8_t *)zm->map + pz->len;
			zm->z.journal_len = (size_t)pz->jlen;
			S.next.ptrs[pz->index] = &zm->z;
		}
		/* building freed as much as the index keeps: give it back */
		malloc_trim(0);
	}
	if (err != NULL)
		log_err("dns event=zone origin=%s error=\"%s\"", pz->origin, err);
	S.next_have++;
}

static int
udp_for(int family)
{
	for (size_t i = 0; i < S.n_udp; i++) {
		struct sockaddr_storage ss;
		socklen_t l = sizeof ss;
		if (getsockname(S.udp[i], (struct sockaddr *)&ss, &l) == 0 && ss.ss_family == family)
			return S.udp[i];
	}
	return -1;
}

static void
notify_send(struct notify *n)
{
	int fd = udp_for(n->to.ss_family);
	if (fd < 0 || sendto(fd, n->msg, n->len, MSG_DONTWAIT, (struct sockaddr *)&n->to,
	    n->to_len) < 0)
		log_warn("dns event=notify origin=%s error=\"%s\"", n->origin,
		    fd < 0 ? "no dns listener of that address family" : strerror(errno));
	n->tries++;
}

static void
notify_timer_cb(struct loop *l, void *arg)
{
	bool pending = false;
	for (size_t i = 0; i < NOTIFY_MAX; i++) {
		struct notify *n = &S.notify[i];
		if (!n->used)
			continue;
		if (n->tries >= NOTIFY_TRIES) {
			char a[SOCKADDR_TEXT_MAX];
			sockaddr_text(&n->to, n->to_len, a);
			log_warn("dns event=notify origin=%s to=%s result=no-answer tries=%u", n->origin,
			    a, n->tries);
			n->used = false;
			continue;
		}
		notify_send(n);
		pending = true;
	}
	if (pending)
		timer_set(S.loop, &S.notify_timer, NOTIFY_RETRY_MS);
}

/* RFC 1996 3: tell the secondaries of zm that its serial changed */
static void
notify_zone(const struct zmap *zm)
{
	const struct dns_node *apex = dns_zone_find(&zm->z, zm->z.origin);
	const struct dns_rrset *soa = dns_node_rrset(&zm->z, apex, DNS_T_SOA);
	for (size_t i = 0; i < zm->n_notify; i++) {
		struct notify *n = NULL;
		for (size_t k = 0; k < NOTIFY_MAX && n == NULL; k++)
			if (!S.notify[k].used)
				n = &S.notify[k];
		if (n == NULL) {
			log_warn("dns event=notify origin=%s error=\"too many pending\"", zm->origin);
			return;
		}
		memset(n, 0, sizeof *n);
		n->used = true;
		if (getrandom(&n->id, sizeof n->id, 0) != sizeof n->id)
			n->id = (uint16_t)(now_ms() ^ i);
		n->to = zm->notify[i];
		n->to_len = zm->notify_len[i];
		snprintf(n->origin, sizeof n->origin, "%s", zm->origin);
		/* header: opcode NOTIFY, AA; the zone's SOA as question and
		 * answer (the answer is a hint of the new serial) */
		uint8_t *m = n->msg;
		size_t ol = dns_name_len(zm->z.origin), rl = dns_get16(soa->rd[0]);
		if (12 + ol + 4 + ol + 10 + rl > sizeof n->msg) {
			n->used = false;
			continue;
		}
		memset(m, 0, 12);
		m[0] = (uint8_t)(n->id >> 8);
		m[1] = (uint8_t)n->id;
		m[2] = (4 << 3) | 0x04;
		m[5] = 1;
		m[7] = 1;
		size_t l = 12;
		memcpy(m + l, zm->z.origin, ol);
		l += ol;
		uint8_t qt[4] = { 0, DNS_T_SOA, 0, DNS_C_IN };
		memcpy(m + l, qt, 4);
		l += 4;
		m[l++] = 0xc0;		/* the owner: the question's name */
		m[l++] = 12;
		uint8_t rh[10] = { 0, DNS_T_SOA, 0, DNS_C_IN, (uint8_t)(soa->ttl >> 24),
			(uint8_t)(soa->ttl >> 16), (uint8_t)(soa->ttl >> 8), (uint8_t)soa->ttl,
			(uint8_t)(rl >> 8), (uint8_t)rl };
		memcpy(m + l, rh, 10);
		l += 10;
		memcpy(m + l, soa->rd[0] + 2, rl);
		l += rl;
		n->len = l;
		char a[SOCKADDR_TEXT_MAX];
		sockaddr_text(&n->to, n->to_len, a);
		log_info("dns event=notify origin=%s to=%s serial=%u", zm->origin, a, zm->z.serial);
		notify_send(n);
	}
	timer_set(S.loop, &S.notify_timer, NOTIFY_RETRY_MS);
}

static bool
sockaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* a NOTIFY answer from a secondary: that one is done */
static bool
notify_answer(const uint8_t *p, size_t len, const struct sockaddr_storage *from)
{
	if (len < 12 || !(p[2] & 0x80) || ((p[2] >> 3) & 0x0f) != 4)
		return false;
	uint16_t id = dns_get16(p);
	for (size_t i = 0; i < NOTIFY_MAX; i++) {
		struct notify *n = &S.notify[i];
		if (n->used && n->id == id && sockaddr_same_host(&n->to, from)) {
			char a[SOCKADDR_TEXT_MAX];
			sockaddr_text(&n->to, n->to_len, a);
			log_info("dns event=notify origin=%s to=%s result=acked", n->origin, a);
			n->used = false;
		}
	}
	return true;
}

static void
zones_swap(void)
{
	/* transfers read the zones being replaced: they stop here (the
	 * secondary retries and gets the new version) */
	for (struct tconn *t = S.conns, *next; t; t = next) {
		next = t->next;
		if (t->xfr_on)
			tconn_free(t);
	}
	/* a serial that changed is news for the secondaries */
	for (size_t i = 0; i < S.next.n; i++) {
		const struct zmap *nz = &S.next.z[i];
		if (S.next.ptrs[i] == NULL || nz->n_notify == 0)
			continue;
		for (size_t k = 0; k < S.cur.n; k++)
			if (S.cur.ptrs[k] != NULL && strcmp(S.cur.z[k].origin, nz->origin) == 0 &&
			    S.cur.z[k].z.serial != nz->z.serial)
				notify_zone(nz);
	}
	zones_free(&S.cur);
	S.cur = S.next;
	S.cur.set.z = S.cur.ptrs;
	S.cur.set.n = S.cur.n;
	memset(&S.next, 0, sizeof S.next);
	size_t recs = 0;
	for (size_t i = 0; i < S.cur.n; i++)
		recs += S.cur.z[i].z.n_records;
	log_info("dns event=zones generation=%u zones=%zu records=%zu", S.next_gen, S.cur.n, recs);
}

/* --- UDP --------------------------------------------------------------------- */

static void
udp_cb(struct loop *l, int fd, unsigned ev, void *arg)
{
	static uint8_t in[UDP_BATCH][DNS_TCP_MAX];	/* a query may be up to 64 KB */
	static uint8_t out[UDP_BATCH][DNS_UDP_MAX];
	static struct sockaddr_storage from[UDP_BATCH];
	struct mmsghdr rm[UDP_BATCH], sm[UDP_BATCH];
	struct iovec riov[UDP_BATCH], siov[UDP_BATCH];
	for (unsigned round = 0; round < UDP_ROUNDS; round++) {
		for (unsigned i = 0; i < UDP_BATCH; i++) {
			riov[i] = (struct iovec){ in[i], sizeof in[i] };
			rm[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
				.msg_namelen = sizeof from[i], .msg_iov = &riov[i], .msg_iovlen = 1 };
			rm[i].msg_len = 0;
		}
		int n = recvmmsg(fd, rm, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		uint64_t now = now_ms();
		unsigned ns = 0;
		for (int i = 0; i < n; i++) {
			struct dns_qinfo qi;
			if (rm[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;	/* bigger than any query: not one */
			if (notify_answer(in[i], rm[i].msg_len, &from[i]))
				continue;
			size_t len = dns_answer(&S.cur.set, in[i], rm[i].msg_len, false, out[ns],
			    sizeof out[ns], &qi);
			S.queries++;
			if (len == 0)
				continue;
			switch (dns_rrl_check(S.rrl, &from[i], now)) {
			case DNS_RRL_SEND:
				break;
			case DNS_RRL_DROP:
				S.limited++;
				continue;
			case DNS_RRL_SLIP:
				/* the question alone, TC set: try TCP */
				S.limited++;
				len = qi.question_end;
				out[ns][2] |= 0x02;
				memset(out[ns] + 6, 0, 6);
				break;
			}
			siov[ns] = (struct iovec){ out[ns], len };
			sm[ns].msg_hdr = (struct msghdr){ .msg_name = &from[i],
				.msg_namelen = rm[i].msg_hdr.msg_namelen, .msg_iov = &siov[ns],
				.msg_iovlen = 1 };
			ns++;
		}
		/* a full send buffer drops answers, as UDP does: the client asks
		 * again */
		for (unsigned sent = 0; sent < ns;) {
			int k = sendmmsg(fd, sm + sent, ns - sent, MSG_DONTWAIT);
			if (k <= 0)
				break;
			sent += (unsigned)k;
		}
		if (n < UDP_BATCH)
			return;
	}
}

/* --- TCP ------------------------------------------------------------------------- */

static void tconn_event(struct loop *l, int fd, unsigned ev, void *arg);

static void
tconn_free(struct tconn *c)
{
	*c->prevp = c->next;
	if (c->next)
		c->next->prevp = c->prevp;
	timer_cancel(S.loop, &c->idle);
	loop_del(S.loop, c->io.fd);
	io_close(&c->io);
	S.n_conns--;
	free(c);
}

static void
tconn_idle(struct loop *l, void *arg)
{
	tconn_free(arg);
}

static const char *
peer_text(const struct tconn *c)
{
	static char a[SOCKADDR_TEXT_MAX];
	sockaddr_text(&c->peer, c->peer_len, a);
	return a;
}

static const char *
xfr_origin(const struct tconn *c)
{
	for (size_t i = 0; i < S.cur.n; i++)
		if (S.cur.ptrs[i] == c->xfr.z)
			return S.cur.z[i].origin;
	return "?";
}

static bool
prefix_match(const struct proto_dns_prefix *p, const struct sockaddr_storage *ss)
{
	const uint8_t *a;
	if (ss->ss_family == AF_INET && p->family == 4) {
		a = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
	} else if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (p->family == 6)
			a = a6->s6_addr;
		else if (IN6_IS_ADDR_V4MAPPED(a6))
			a = a6->s6_addr + 12;
		else
			return false;
	} else {
		return false;
	}
	unsigned full = p->len / 8, rest = p->len % 8;
	if (memcmp(a, p->addr, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ p->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* header and question of q with rcode: a refused signed transfer */
static void
xfr_refuse(struct tconn *c, const uint8_t *q, size_t qlen, unsigned rcode)
{
	uint8_t out[2 + 12 + DNS_NAME_MAX + 4];
	size_t off = 12;
	uint8_t nm[DNS_NAME_MAX];
	if (dns_name_unpack(q, qlen, &off, nm) < 0 || qlen - off < 4)
		off = 12;
	else
		off += 4;
	memcpy(out + 2, q, off);
	out[2 + 2] = (uint8_t)((q[2] & 0x79) | 0x80);
	out[2 + 3] = (uint8_t)rcode;
	out[2 + 4] = 0;
	out[2 + 5] = off > 12;
	memset(out + 2 + 6, 0, 6);
	out[0] = (uint8_t)(off >> 8);
	out[1] = (uint8_t)off;
	buf_append(&c->io.out, out, 2 + off);
}

/* A transfer request on TCP: begun (true) when the zone is ours and the
 * client is on its allow-transfer list; anything else goes to dns_answer,
 * which refuses transfers. */
static bool
xfr_begin(struct tconn *c, const uint8_t *q, size_t qlen)
{
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype;
	uint32_t serial;
	bool has_serial;
	if (!dns_xfr_request(q, qlen, qname, &qtype, &serial, &has_serial))
		return false;
	const struct zmap *zm = NULL;
	for (size_t i = 0; i < S.cur.n && zm == NULL; i++)
		if (S.cur.ptrs[i] != NULL && dns_name_eq(S.cur.z[i].z.origin, qname))
			zm = &S.cur.z[i];
	if (zm == NULL)
		return false;
	bool ok = false;
	for (size_t i = 0; i < zm->n_allow && !ok; i++)
		ok = prefix_match(&zm->allow[i], &c->peer);
	if (!ok) {
		log_warn("dns event=transfer origin=%s client=%s type=%s result=refused "
		    "reason=\"not in allow-transfer\"", zm->origin, peer_text(c),
		    qtype == DNS_T_AXFR ? "AXFR" : "IXFR");
		return false;
	}
	/* a zone with a transfer key: the request must be signed with it */
	c->signed_xfr = false;
	if (zm->has_key) {
		int v = dns_tsig_verify(q, qlen, &zm->key, (uint64_t)time(NULL), &c->tsig);
		if (v != DNS_TSIG_OK) {
			static const char *const why[] = { [0] = "no TSIG", [1] = "malformed TSIG",
				[2] = "bad signature", [3] = "unknown key", [4] = "time out of range" };
			int w = v == DNS_TSIG_NONE ? 0 : v == DNS_TSIG_FORMERR ? 1 :
			    v == DNS_TSIG_BADSIG ? 2 : v == DNS_TSIG_BADKEY ? 3 : 4;
			log_warn("dns event=transfer origin=%s client=%s type=%s result=refused "
			    "reason=\"%s\"", zm->origin, peer_text(c),
			    qtype == DNS_T_AXFR ? "AXFR" : "IXFR", why[w]);
			xfr_refuse(c, q, qlen, v == DNS_TSIG_FORMERR ? DNS_R_FORMERR : DNS_R_NOTAUTH);
			return true;
		}
		c->signed_xfr = true;
	} else if (dns_tsig_verify(q, qlen, NULL, (uint64_t)time(NULL), &c->tsig) !=
	    DNS_TSIG_NONE) {
		/* signed with a key this zone does not have (RFC 8945 5.2.1) */
		log_warn("dns event=transfer origin=%s client=%s result=refused reason=\"unknown "
		    "key\"", zm->origin, peer_text(c));
		xfr_refuse(c, q, qlen, DNS_R_NOTAUTH);
		return true;
	}
	/* RFC 1995 4: a client with our serial gets our SOA alone, one whose
	 * serial the journal knows gets the changes since, anyone else the
	 * whole zone */
	bool current = qtype == DNS_T_IXFR && has_serial && serial == zm->z.serial;
	long joff = qtype == DNS_T_IXFR && has_serial && !current ?
	    dns_journal_find(&zm->z, serial) : -1;
	dns_xfr_start(&c->xfr, &zm->z, q, qlen, current);
	dns_xfr_use_journal(&c->xfr, joff);
	c->xfr_on = true;
	log_info("dns event=transfer origin=%s client=%s type=%s serial=%u result=start%s",
	    zm->origin, peer_text(c), qtype == DNS_T_AXFR ? "AXFR" : "IXFR", zm->z.serial,
	    current ? " up-to-date=yes" : joff >= 0 ? " incremental=yes" :
	    qtype == DNS_T_IXFR ? " incremental=no" : "");
	return true;
}

/* Answer every complete query in the input, while the output has room. */
static void
tconn_process(struct tconn *c)
{
	static uint8_t out[2 + DNS_TCP_MAX];
	while (c->io.out.len < TCP_OUT_MAX) {
		if (c->xfr_on) {
			size_t len = dns_xfr_next(&c->xfr, out + 2, DNS_TCP_MAX - DNS_TSIG_RR_MAX);
			if (len > 0 && c->signed_xfr &&
			    !dns_tsig_sign(&c->tsig, out + 2, &len, DNS_TCP_MAX, (uint64_t)time(NULL)))
				len = 0;	/* cannot be: room was kept */
			if (len == 0) {
				c->xfr_on = false;
				log_info("dns event=transfer origin=%s client=%s result=done "
				    "records=%zu", xfr_origin(c), peer_text(c), c->xfr.records);
				continue;
			}
			out[0] = (uint8_t)(len >> 8);
			out[1] = (uint8_t)len;
			buf_append(&c->io.out, out, 2 + len);
			continue;
		}
		size_t avail = io_avail(&c->io);
		if (avail < 2)
			break;
		const uint8_t *p = io_data(&c->io);
		size_t qlen = (size_t)p[0] << 8 | p[1];
		if (avail < 2 + qlen)
			break;
		struct dns_qinfo qi;
		if (xfr_begin(c, p + 2, qlen)) {
			io_consume(&c->io, 2 + qlen);
			S.queries++;
			continue;
		}
		size_t len = dns_answer(&S.cur.set, p + 2, qlen, true, out + 2, DNS_TCP_MAX, &qi);
		S.queries++;
		io_consume(&c->io, 2 + qlen);
		if (len == 0)
			continue;
		out[0] = (uint8_t)(len >> 8);
		out[1] = (uint8_t)len;
		buf_append(&c->io.out, out, 2 + len);
	}
}

static void
tconn_update(struct tconn *c)
{
	if (c->io.out.len > 0)
		io_flush(&c->io);
	if (c->io.error || (c->io.eof && c->io.out.len == 0) || (S.stopping && c->io.out.len == 0)) {
		tconn_free(c);
		return;
	}
	unsigned ev = io_events(&c->io, !c->io.eof && c->io.out.len < TCP_OUT_MAX);
	loop_mod(S.loop, c->io.fd, ev);
	c->last = now_ms();
	timer_set(S.loop, &c->idle, TCP_IDLE_MS);
}

static void
tconn_event(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct tconn *c = arg;
	if (ev & LOOP_READ)
		io_readable(&c->io);
	if (ev & LOOP_WRITE)
		io_flush(&c->io);
	for (unsigned k = 0; k < 64 && !c->io.error; k++) {
		tconn_process(c);
		if (c->io.out.len >= TCP_OUT_MAX || c->io.eof)
			break;
		if (io_read(&c->io) <= 0)
			break;
	}
	tconn_process(c);
	tconn_update(c);
}

static void
accept_cb(struct loop *l, int lfd, unsigned ev, void *arg)
{
	for (unsigned k = 0; k < 64; k++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof peer;
		int fd = accept4(lfd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (S.n_conns >= TCP_CONNS_MAX) {
			/* make room: the connection idle the longest goes (RFC
			 * 7766 6.2.3), so a flood of idle ones cannot lock out
			 * new clients */
			struct tconn *old = S.conns;
			for (struct tconn *c = S.conns; c; c = c->next)
				if (c->last < old->last)
					old = c;
			tconn_free(old);
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct tconn *c = xcalloc(1, sizeof *c);
		c->peer = peer;
		c->peer_len = peer_len;
		io_init(&c->io, fd, TCP_IN_MAX, TCP_OUT_MAX + 2 + DNS_TCP_MAX);
		timer_init(&c->idle, tconn_idle, c);
		c->next = S.conns;
		if (S.conns)
			S.conns->prevp = &c->next;
		c->prevp = &S.conns;
		S.conns = c;
		S.n_conns++;
		if (loop_add(S.loop, fd, LOOP_READ, tconn_event, c) < 0) {
			tconn_free(c);
			continue;
		}
		c->last = now_ms();
		timer_set(S.loop, &c->idle, TCP_IDLE_MS);
	}
}

/* --- parent ------------------------------------------------------------------------ */

static void
stop_listening(void)
{
	for (size_t i = 0; i < S.n_udp; i++)
		loop_del(S.loop, S.udp[i]);
	for (size_t i = 0; i < S.n_tcp; i++)
		loop_del(S.loop, S.tcp[i]);
}

static const char *
parent_msg(struct ipc *c, struct ipc_msg *m, void *arg)
{
	switch (m->type) {
	case PROTO_DNS_ZONE: {
		static struct proto_dns_zone z;	/* 10 KB: not on the stack */
		if (proto_dns_zone_dec(m, &z) < 0)
			return "bad DNS_ZONE";
		if (S.rrl == NULL)
			S.rrl = dns_rrl_new(z.rate, 2, 1u << 16);
		dns_rrl_set_rate(S.rrl, z.rate);
		if (z.count == 0) {
			zones_free(&S.next);
			S.next_gen = z.gen;
			zones_swap();
			break;
		}
		zone_add(&z, m->fd);
		if (S.next_have == S.next.n && S.next_gen == z.gen)
			zones_swap();
		break;
	}
	case PROTO_STOP: {
		struct proto_stop st;
		if (proto_stop_dec(m, &st) < 0)
			return "bad STOP";
		S.stopping = true;
		stop_listening();
		/* answers already queued on TCP go out; then we are done */
		for (struct tconn *t = S.conns, *next; t; t = next) {
			next = t->next;
			tconn_update(t);
		}
		if (S.conns == NULL)
			loop_stop(S.loop);
		break;
	}
	default:
		return "unexpected message";
	}
	return NULL;
}

static void
parent_close(struct ipc *c, void *arg)
{
	log_warn("dns event=parent-gone");
	ipc_free(&S.parent);
	loop_stop(S.loop);
}

static void
before_sleep(struct loop *l, void *arg)
{
	if (S.stopping && S.conns == NULL)
		loop_stop(l);
}

void
dns_main(int parent_fd, const int *fds, size_t n_fds)
{
	memset(&S, 0, sizeof S);
	S.loop = loop_new();
	if (S.loop == NULL)
		fatal("dns: cannot create event loop");
	/* fds: UDP and TCP socket of each listen address, in pairs */
	S.udp = xcalloc(n_fds / 2 + 1, sizeof *S.udp);
	S.tcp = xcalloc(n_fds / 2 + 1, sizeof *S.tcp);
	for (size_t i = 0; i + 1 < n_fds; i += 2) {
		S.udp[S.n_udp++] = fds[i];
		S.tcp[S.n_tcp++] = fds[i + 1];
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		fcntl(fds[i + 1], F_SETFL, O_NONBLOCK);
		loop_add(S.loop, fds[i], LOOP_READ, udp_cb, NULL);
		loop_add(S.loop, fds[i + 1], LOOP_READ, accept_cb, NULL);
	}
	timer_init(&S.notify_timer, notify_timer_cb, NULL);
	S.parent = ipc_new(S.loop, parent_fd, parent_msg, parent_close, NULL);
	loop_before_sleep(S.loop, before_sleep, NULL);
	log_info("dns event=start listeners=%zu", S.n_udp);
	loop_run(S.loop);
	log_info("dns event=stop queries=%llu rate-limited=%llu", (unsigned long long)S.queries,
	    (unsigned long long)S.limited);
	dns_rrl_free(&S.rrl);
	while (S.conns)
		tconn_free(S.conns);
	ipc_free(&S.parent);
	zones_free(&S.cur);
	zones_free(&S.next);
	loop_free(&S.loop);
	exit(0);
}

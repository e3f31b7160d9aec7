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
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io.h"
#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "dns/answer.h"
#include "dns/name.h"
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
} S;

/* --- zones ----------------------------------------------------------------- */

static void
zones_free(struct gen_zones *g)
{
	for (size_t i = 0; i < g->n; i++) {
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
	uint8_t origin[DNS_NAME_MAX];
	const char *err = NULL;
	struct stat st;
	if (zm->map != NULL)
		err = "sent twice";
	else if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != pz->len || pz->len == 0 ||
	    pz->len > SIZE_MAX / 2)
		err = "stream length differs";
	else if (dns_name_from_text(pz->origin, strlen(pz->origin), NULL, origin, &err) < 0)
		;
	else if ((zm->map = mmap(NULL, (size_t)pz->len, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED) {
		zm->map = NULL;
		err = strerror(errno);
	} else {
		zm->len = (size_t)pz->len;
		if (dns_zone_build(&zm->z, origin, zm->map, zm->len, NULL, NULL, NULL, NULL) < 0)
			err = "does not build";
		else
			S.next.ptrs[pz->index] = &zm->z;
	}
	if (err != NULL)
		log_err("dns event=zone origin=%s error=\"%s\"", pz->origin, err);
	S.next_have++;
}

static void
zones_swap(void)
{
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
		unsigned ns = 0;
		for (int i = 0; i < n; i++) {
			struct dns_qinfo qi;
			if (rm[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;	/* bigger than any query: not one */
			size_t len = dns_answer(&S.cur.set, in[i], rm[i].msg_len, false, out[ns],
			    sizeof out[ns], &qi);
			S.queries++;
			if (len == 0)
				continue;
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

/* Answer every complete query in the input, while the output has room. */
static void
tconn_process(struct tconn *c)
{
	static uint8_t out[2 + DNS_TCP_MAX];
	while (c->io.out.len < TCP_OUT_MAX) {
		size_t avail = io_avail(&c->io);
		if (avail < 2)
			break;
		const uint8_t *p = io_data(&c->io);
		size_t qlen = (size_t)p[0] << 8 | p[1];
		if (avail < 2 + qlen)
			break;
		struct dns_qinfo qi;
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
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
		struct proto_dns_zone z;
		if (proto_dns_zone_dec(m, &z) < 0)
			return "bad DNS_ZONE";
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
	S.parent = ipc_new(S.loop, parent_fd, parent_msg, parent_close, NULL);
	loop_before_sleep(S.loop, before_sleep, NULL);
	log_info("dns event=start listeners=%zu", S.n_udp);
	loop_run(S.loop);
	log_info("dns event=stop queries=%llu", (unsigned long long)S.queries);
	while (S.conns)
		tconn_free(S.conns);
	ipc_free(&S.parent);
	zones_free(&S.cur);
	zones_free(&S.next);
	loop_free(&S.loop);
	exit(0);
}

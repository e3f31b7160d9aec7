/*
 * core/ipc.c - SOCK_SEQPACKET message channels with fd passing.
 * Trusts: nothing a peer sends: a bad header, a refused message or a peer
 * that stops reading closes the channel (see ipc.h), never the process.
 * Runs in: every daemon process.
 */
#include "core/ipc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

/* Header on the wire: u32 type, u32 payload length, u64 request id, all
 * big-endian (16 bytes). */
struct hdr {
	uint32_t type;
	uint32_t len;
	uint64_t id;
};
#define HDR_LEN 16

static void
hdr_put(uint8_t *p, const struct hdr *h)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(h->type >> (24 - 8 * i));
		p[4 + i] = (uint8_t)(h->len >> (24 - 8 * i));
	}
	for (int i = 0; i < 8; i++)
		p[8 + i] = (uint8_t)(h->id >> (56 - 8 * i));
}

static void
hdr_get(const uint8_t *p, struct hdr *h)
{
	h->type = h->len = 0;
	h->id = 0;
	for (int i = 0; i < 4; i++) {
		h->type = h->type << 8 | p[i];
		h->len = h->len << 8 | p[4 + i];
	}
	for (int i = 0; i < 8; i++)
		h->id = h->id << 8 | p[8 + i];
}

struct outmsg {
	struct outmsg *next;
	int fd;
	size_t len;		/* header + payload */
	uint8_t data[];
};

struct ipc {
	struct loop *loop;
	int fd;
	ipc_msg_cb on_msg;
	ipc_close_cb on_close;
	void *arg;
	struct outmsg *head, **tail;
	size_t queued;		/* bytes in head..tail */
	const char *reason;	/* why we close it, NULL for a plain EOF */
	char why[112];		/* reason with the message type, for logs */
	struct timer bad;	/* delivers a close decided inside ipc_send */
	bool dead;
	bool in_cb;		/* inside on_msg: ipc_free must defer */
	bool freed;		/* ipc_free was called from on_msg */
};

static void ipc_event(struct loop *l, int fd, unsigned ev, void *arg);
static void ipc_bad_cb(struct loop *l, void *arg);

struct ipc *
ipc_new(struct loop *l, int fd, ipc_msg_cb on_msg, ipc_close_cb on_close, void *arg)
{
	struct ipc *c = xcalloc(1, sizeof *c);
	c->loop = l;
	c->fd = fd;
	c->on_msg = on_msg;
	c->on_close = on_close;
	c->arg = arg;
	c->tail = &c->head;
	timer_init(&c->bad, ipc_bad_cb, c);
	if (loop_add(l, fd, LOOP_READ, ipc_event, c) < 0)
		fatal("ipc: cannot watch fd %d", fd);
	return c;
}

const char *
ipc_close_reason(const struct ipc *c)
{
	return c->why[0] ? c->why : c->reason;
}

void
ipc_free(struct ipc **cp)
{
	struct ipc *c = *cp;
	if (c == NULL)
		return;
	*cp = NULL;
	timer_cancel(c->loop, &c->bad);
	if (c->fd >= 0) {
		loop_del(c->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	if (c->in_cb) {
		c->freed = true;
		return;
	}
	while (c->head) {
		struct outmsg *o = c->head;
		c->head = o->next;
		if (o->fd >= 0)
			close(o->fd);
		free(o);
	}
	free(c);
}

static int
send_one(int sock, const void *data, size_t len, int fd)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	if (fd >= 0) {
		memset(&cm, 0, sizeof cm);
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof cm.buf;
		struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(ch), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

static void
flush_out(struct ipc *c)
{
	while (c->head != NULL) {
		struct outmsg *o = c->head;
		if (send_one(c->fd, o->data, o->len, o->fd) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				break;
			/* peer gone: reading side will see the close */
			c->dead = true;
			break;
		}
		c->head = o->next;
		if (c->head == NULL)
			c->tail = &c->head;
		c->queued -= o->len;
		if (o->fd >= 0)
			close(o->fd);
		free(o);
	}
	if (c->fd < 0)
		return;
	loop_mod(c->loop, c->fd, LOOP_READ | (c->head && !c->dead ? LOOP_WRITE : 0));
}

/* Close the channel from the loop, not from inside the caller's send. */
static void
fail_later(struct ipc *c, const char *why)
{
	if (c->reason == NULL)
		c->reason = why;
	c->dead = true;
	timer_set(c->loop, &c->bad, 0);
}

static void
ipc_bad_cb(struct loop *l, void *arg)
{
	struct ipc *c = arg;
	if (c->fd >= 0)
		loop_del(l, c->fd);
	c->on_close(c, c->arg);	/* owner frees c */
}

void
ipc_send(struct ipc *c, uint32_t type, uint64_t id, int fd, const void *data, size_t len)
{
	if (c->dead || len > IPC_MAX - HDR_LEN ||
	    c->queued + len > IPC_QUEUE_MAX) {
		/* a message of ours that is too big is our bug, but the peer
		 * that stopped reading is the usual cause: either way this
		 * channel is done, and the process goes on */
		if (!c->dead)
			log_err("ipc: cannot queue message type %u (%zu bytes, %zu waiting)",
			    type, len, c->queued);
		if (fd >= 0)
			close(fd);
		fail_later(c, len > IPC_MAX - HDR_LEN ? "message too large" :
		    "peer does not read");
		return;
	}
	struct outmsg *o = xmalloc(sizeof *o + HDR_LEN + len);
	struct hdr h = { type, (uint32_t)len, id };
	hdr_put(o->data, &h);
	if (len)
		memcpy(o->data + HDR_LEN, data, len);
	o->len = HDR_LEN + len;
	o->fd = fd;
	o->next = NULL;
	*c->tail = o;
	c->tail = &o->next;
	c->queued += o->len;
	if (c->head == o)
		flush_out(c);
	else
		loop_mod(c->loop, c->fd, LOOP_READ | LOOP_WRITE);
}

void
ipc_send_buf(struct ipc *c, uint32_t type, uint64_t id, int fd, struct buf *b)
{
	if (b->err) {
		log_err("ipc: message type %u does not fit", type);
		if (fd >= 0)
			close(fd);
		fail_later(c, "message too large");
	} else {
		ipc_send(c, type, id, fd, b->data, b->len);
	}
	buf_reset(b);
}

static void
ipc_event(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct ipc *c = arg;
	static uint8_t rbuf[IPC_MAX];

	if (ev & LOOP_WRITE)
		flush_out(c);
	if (!(ev & LOOP_READ))
		return;
	/* read a bounded number of messages per wakeup to stay fair */
	for (int i = 0; i < 64; i++) {
		struct iovec iov = { .iov_base = rbuf, .iov_len = sizeof rbuf };
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int) * 4)];
		} cm;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cm.buf, .msg_controllen = sizeof cm.buf };
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			n = 0;	/* treat errors as close */
		}
		if (n == 0) {
			loop_del(l, fd);
			c->on_close(c, c->arg);	/* owner frees c */
			return;
		}
		int rfd = -1;
		for (struct cmsghdr *ch = CMSG_FIRSTHDR(&mh); ch; ch = CMSG_NXTHDR(&mh, ch)) {
			if (ch->cmsg_level == SOL_SOCKET && ch->cmsg_type == SCM_RIGHTS) {
				size_t nfd = (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t k = 0; k < nfd; k++) {
					int x;
					memcpy(&x, CMSG_DATA(ch) + k * sizeof(int), sizeof x);
					if (rfd < 0)
						rfd = x;
					else
						close(x);
				}
			}
		}
		struct hdr h = { 0 };
		const char *bad = NULL;
		if ((size_t)n >= HDR_LEN)
			hdr_get(rbuf, &h);
		if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < HDR_LEN)
			bad = "malformed datagram";
		else if (h.len != (size_t)n - HDR_LEN)
			bad = "length does not match the datagram";
		if (bad == NULL) {
			struct ipc_msg m = { .type = h.type, .id = h.id, .fd = rfd,
				.data = rbuf + HDR_LEN, .len = (size_t)n - HDR_LEN };
			c->in_cb = true;
			bad = c->on_msg(c, &m, c->arg);
			c->in_cb = false;
			rfd = m.fd;	/* still ours unless the handler took it */
			if (c->freed) {	/* the handler closed the channel */
				if (rfd >= 0)
					close(rfd);
				ipc_free(&c);
				return;
			}
		}
		if (rfd >= 0)
			close(rfd);
		if (bad != NULL) {
			c->reason = bad;
			snprintf(c->why, sizeof c->why, "%s (message type %u)", bad, h.type);
			c->dead = true;
			loop_del(l, fd);
			c->on_close(c, c->arg);	/* owner frees c */
			return;
		}
	}
}

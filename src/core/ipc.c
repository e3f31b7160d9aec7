/*
 * core/ipc.c - SOCK_SEQPACKET message channels with fd passing.
 * Trusts: its peers are our own processes; still bounds-checks everything
 * and treats violations as fatal bugs.  Runs in: every daemon process.
 */
#include "core/ipc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

struct hdr {
	uint32_t type;
	uint32_t len;
	uint64_t id;
};

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
	bool dead;
	bool in_cb;		/* inside on_msg: ipc_free must defer */
	bool freed;		/* ipc_free was called from on_msg */
};

static void ipc_event(struct loop *l, int fd, unsigned ev, void *arg);

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
	if (loop_add(l, fd, LOOP_READ, ipc_event, c) < 0)
		fatal("ipc: cannot watch fd %d", fd);
	return c;
}

int
ipc_fd(const struct ipc *c)
{
	return c->fd;
}

void
ipc_free(struct ipc **cp)
{
	struct ipc *c = *cp;
	if (c == NULL)
		return;
	*cp = NULL;
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
		if (o->fd >= 0)
			close(o->fd);
		free(o);
	}
	loop_mod(c->loop, c->fd, LOOP_READ | (c->head && !c->dead ? LOOP_WRITE : 0));
}

void
ipc_send(struct ipc *c, uint32_t type, uint64_t id, int fd, const void *data, size_t len)
{
	if (len > IPC_MAX - sizeof(struct hdr))
		fatal("ipc: message type %u too large (%zu bytes)", type, len);
	struct outmsg *o = xmalloc(sizeof *o + sizeof(struct hdr) + len);
	struct hdr h = { type, (uint32_t)len, id };
	memcpy(o->data, &h, sizeof h);
	if (len)
		memcpy(o->data + sizeof h, data, len);
	o->len = sizeof h + len;
	o->fd = fd;
	o->next = NULL;
	*c->tail = o;
	c->tail = &o->next;
	if (c->head == o)
		flush_out(c);
	else
		loop_mod(c->loop, c->fd, LOOP_READ | LOOP_WRITE);
}

int
ipc_send_blocking(int sock, uint32_t type, uint64_t id, int fd, const void *data, size_t len)
{
	uint8_t tmp[IPC_MAX];
	struct hdr h = { type, (uint32_t)len, id };
	if (len > sizeof tmp - sizeof h)
		return -1;
	memcpy(tmp, &h, sizeof h);
	if (len)
		memcpy(tmp + sizeof h, data, len);
	return send_one(sock, tmp, sizeof h + len, fd);
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
			if (c->on_close == NULL)
				fatal("ipc: peer closed fd %d", fd);
			else
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
		if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(struct hdr))
			fatal("ipc: malformed message on fd %d (%zd bytes)", fd, n);
		struct hdr h;
		memcpy(&h, rbuf, sizeof h);
		if (h.len != (size_t)n - sizeof h)
			fatal("ipc: length mismatch type %u: %u vs %zd", h.type, h.len, n);
		struct ipc_msg m = { .type = h.type, .id = h.id, .fd = rfd,
			.p = rbuf + sizeof h, .end = rbuf + n };
		c->in_cb = true;
		c->on_msg(c, &m, c->arg);
		c->in_cb = false;
		if (c->freed) {	/* the handler closed the channel */
			ipc_free(&c);
			return;
		}
	}
}

static void
need(struct ipc_msg *m, size_t n)
{
	if ((size_t)(m->end - m->p) < n)
		fatal("ipc: truncated message type %u", m->type);
}

void
ipc_put_u32(struct buf *b, uint32_t v)
{
	buf_append(b, &v, sizeof v);
}

void
ipc_put_u64(struct buf *b, uint64_t v)
{
	buf_append(b, &v, sizeof v);
}

void
ipc_put_str(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	ipc_put_u32(b, (uint32_t)n);
	buf_append(b, s, n);
}

void
ipc_put_bytes(struct buf *b, const void *p, size_t n)
{
	buf_append(b, p, n);
}

uint32_t
ipc_get_u32(struct ipc_msg *m)
{
	uint32_t v;
	need(m, sizeof v);
	memcpy(&v, m->p, sizeof v);
	m->p += sizeof v;
	return v;
}

uint64_t
ipc_get_u64(struct ipc_msg *m)
{
	uint64_t v;
	need(m, sizeof v);
	memcpy(&v, m->p, sizeof v);
	m->p += sizeof v;
	return v;
}

char *
ipc_get_str(struct ipc_msg *m)
{
	uint32_t n = ipc_get_u32(m);
	need(m, n);
	char *s = xstrndup((const char *)m->p, n);
	m->p += n;
	return s;
}

void
ipc_get_bytes(struct ipc_msg *m, void *dst, size_t n)
{
	need(m, n);
	memcpy(dst, m->p, n);
	m->p += n;
}

void
ipc_get_end(struct ipc_msg *m)
{
	if (m->p != m->end)
		fatal("ipc: %zd trailing bytes in message type %u", m->end - m->p, m->type);
}

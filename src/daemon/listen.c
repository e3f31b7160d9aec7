/*
 * daemon/listen.c - listening sockets (see listen.h).
 * Input: the parsed config.  Runs in: parent (root, to bind low ports).
 */
#include "daemon/listen.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "mail/conf.h"

struct lsock {
	struct lsock *next;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned slot;
	int type;		/* SOCK_STREAM or SOCK_DGRAM */
	enum conf_listen_kind kind;	/* dns and imap sockets are slot 0 */
	int fd;
	bool used;		/* by the current config */
};

static struct lsock *lsocks;

static int
bind_one(const struct conf_listen *l, int type, char *err, size_t errlen)
{
	int fd = socket(l->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (type == SOCK_DGRAM) {
		/* room for the queries that arrive while a reload builds the
		 * new zones (root may pass rmem_max) */
		int sz = 4 << 20;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	}
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 511) < 0)) {
		snprintf(err, errlen, "cannot listen on %s%s: %s", l->text,
		    l->kind == CONF_LISTEN_DNS ? (type == SOCK_DGRAM ? " (udp)" : " (tcp)") : "",
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static struct lsock *
find(const struct conf_listen *cl, unsigned slot, int type)
{
	for (struct lsock *l = lsocks; l; l = l->next)
		if (l->slot == slot && l->type == type && l->kind == cl->kind &&
		    l->addrlen == cl->addrlen && memcmp(&l->addr, &cl->addr, l->addrlen) == 0)
			return l;
	return NULL;
}

/* The socket for (listener, slot, type), bound when we have none. */
static struct lsock *
need(const struct conf_listen *cl, unsigned slot, int type, char *err, size_t errlen)
{
	struct lsock *found = find(cl, slot, type);
	if (found == NULL) {
		int fd = bind_one(cl, type, err, errlen);
		if (fd < 0)
			return NULL;
		found = xcalloc(1, sizeof *found);
		found->addr = cl->addr;
		found->addrlen = cl->addrlen;
		found->slot = slot;
		found->type = type;
		found->kind = cl->kind;
		found->fd = fd;
		found->next = lsocks;
		lsocks = found;
		if (found->kind == CONF_LISTEN_DNS)
			log_info("parent event=listen addr=%s dns=%s", cl->text,
			    type == SOCK_DGRAM ? "udp" : "tcp");
		else
			log_info("parent event=listen addr=%s%s worker=%u tls=%s", cl->text,
			    cl->kind == CONF_LISTEN_IMAP ? " imap=yes" : "", slot,
			    cl->tls == CONF_TLS_IMPLICIT ? "implicit" :
			    cl->tls == CONF_TLS_STARTTLS ? "starttls" : "none");
	}
	found->used = true;
	return found;
}

int
listen_setup(const struct conf *cf, char *err, size_t errlen)
{
	for (struct lsock *l = lsocks; l; l = l->next)
		l->used = false;
	for (size_t i = 0; i < cf->n_listens; i++)
		for (unsigned s = 0; s < cf->workers; s++)
			if (need(&cf->listens[i], s, SOCK_STREAM, err, errlen) == NULL)
				return -1;
	for (size_t i = 0; i < cf->n_imap_listens; i++)
		if (need(&cf->imap_listens[i], 0, SOCK_STREAM, err, errlen) == NULL)
			return -1;
	for (size_t i = 0; i < cf->n_dns_listens; i++)
		if (need(&cf->dns_listens[i], 0, SOCK_DGRAM, err, errlen) == NULL ||
		    need(&cf->dns_listens[i], 0, SOCK_STREAM, err, errlen) == NULL)
			return -1;
	return 0;
}

void
listen_close_unused(void)
{
	struct lsock **pp = &lsocks;
	while (*pp) {
		struct lsock *l = *pp;
		if (!l->used) {
			close(l->fd);
			*pp = l->next;
			free(l);
		} else {
			pp = &l->next;
		}
	}
}

int
listen_fds(const struct conf *cf, unsigned slot, int *fds)
{
	for (size_t i = 0; i < cf->n_listens; i++) {
		struct lsock *l = find(&cf->listens[i], slot, SOCK_STREAM);
		if (l == NULL || !l->used)
			return -1;
		fds[i] = l->fd;
	}
	return 0;
}

int
listen_imap_fds(const struct conf *cf, int *fds)
{
	for (size_t i = 0; i < cf->n_imap_listens; i++) {
		struct lsock *l = find(&cf->imap_listens[i], 0, SOCK_STREAM);
		if (l == NULL || !l->used)
			return -1;
		fds[i] = l->fd;
	}
	return 0;
}

int
listen_dns_fds(const struct conf *cf, int *fds)
{
	for (size_t i = 0; i < cf->n_dns_listens; i++) {
		struct lsock *u = find(&cf->dns_listens[i], 0, SOCK_DGRAM);
		struct lsock *t = find(&cf->dns_listens[i], 0, SOCK_STREAM);
		if (u == NULL || t == NULL || !u->used || !t->used)
			return -1;
		fds[2 * i] = u->fd;
		fds[2 * i + 1] = t->fd;
	}
	return 0;
}

void
listen_close_all(void)
{
	while (lsocks) {
		struct lsock *l = lsocks;
		lsocks = l->next;
		close(l->fd);
		free(l);
	}
}

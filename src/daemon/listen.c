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
	int fd;
	bool used;		/* by the current config */
};

static struct lsock *lsocks;

static int
bind_one(const struct conf_listen *l, char *err, size_t errlen)
{
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0 || listen(fd, 511) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", l->text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static struct lsock *
find(const struct conf_listen *cl, unsigned slot)
{
	for (struct lsock *l = lsocks; l; l = l->next)
		if (l->slot == slot && l->addrlen == cl->addrlen &&
		    memcmp(&l->addr, &cl->addr, l->addrlen) == 0)
			return l;
	return NULL;
}

int
listen_setup(const struct conf *cf, char *err, size_t errlen)
{
	for (struct lsock *l = lsocks; l; l = l->next)
		l->used = false;
	for (size_t i = 0; i < cf->n_listens; i++) {
		for (unsigned s = 0; s < cf->workers; s++) {
			struct lsock *found = find(&cf->listens[i], s);
			if (found == NULL) {
				int fd = bind_one(&cf->listens[i], err, errlen);
				if (fd < 0)
					return -1;
				found = xcalloc(1, sizeof *found);
				found->addr = cf->listens[i].addr;
				found->addrlen = cf->listens[i].addrlen;
				found->slot = s;
				found->fd = fd;
				found->next = lsocks;
				lsocks = found;
				log_info("parent event=listen addr=%s worker=%u tls=%s", cf->listens[i].text, s,
				    cf->listens[i].tls == CONF_TLS_IMPLICIT ? "implicit" :
				    cf->listens[i].tls == CONF_TLS_STARTTLS ? "starttls" : "none");
			}
			found->used = true;
		}
	}
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
		struct lsock *l = find(&cf->listens[i], slot);
		if (l == NULL || !l->used)
			return -1;
		fds[i] = l->fd;
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

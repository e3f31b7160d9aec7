/*
 * cli/ctl.c - commands that talk to the running daemon through its
 * control socket: `talon reload`, `talon status [--json]`.
 *
 * The socket path comes from the same config parser `serve` uses.  The
 * reply's first line is "ok" or "error: ..."; the rest is printed as it
 * is (the daemon formats it).  Exit 0 on ok, 1 on an error reply, 2 when
 * the daemon cannot be reached.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/diag.h"
#include "mail/conf.h"

#define REPLY_MAX (4u << 20)

/* Send request to the daemon of conf_path and read its reply into b
 * (NUL-terminated).  0, or 2 after saying why on stderr unless quiet. */
int
control_request(const char *conf_path, const char *request, struct buf *b, bool quiet)
{
	struct diag d;
	diag_init(&d);
	/* a config with errors elsewhere still names the socket: `talon
	 * reload` of a broken config must reach the daemon to be refused */
	struct conf *c = conf_load(conf_path, &d);
	if (c == NULL || c->control == NULL) {
		if (!quiet) {
			fputs(diag_text(&d), stderr);
			fprintf(stderr, "talon: cannot read %s, so the control socket is unknown\n",
			    conf_path);
		}
		conf_free(&c);
		diag_free(&d);
		return 2;
	}
	diag_free(&d);
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(c->control) >= sizeof sun.sun_path) {
		if (!quiet)
			fprintf(stderr, "talon: control socket path %s is too long\n", c->control);
		conf_free(&c);
		return 2;
	}
	memcpy(sun.sun_path, c->control, strlen(c->control));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		if (!quiet)
			fprintf(stderr, "talon: cannot reach the daemon at %s: %s (is `talon serve` "
			    "running with this config?)\n", c->control, strerror(errno));
		if (fd >= 0)
			close(fd);
		conf_free(&c);
		return 2;
	}
	conf_free(&c);
	struct timeval tv = { .tv_sec = 60 };	/* a reload loads certificates */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char line[600];
	int n = snprintf(line, sizeof line, "%s\n", request);
	if (n < 0 || (size_t)n >= sizeof line || send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		if (!quiet)
			fprintf(stderr, "talon: cannot send the request: %s\n", strerror(errno));
		close(fd);
		return 2;
	}
	for (;;) {
		size_t got;
		uint8_t *p = buf_space(b, 4096, &got);
		if (got == 0)
			break;
		ssize_t r = recv(fd, p, got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf_commit(b, (size_t)r);
	}
	close(fd);
	buf_cstr(b);
	return 0;
}

int
cmd_control(const char *conf_path, const char *request)
{
	struct buf b;
	buf_init(&b, REPLY_MAX);
	if (control_request(conf_path, request, &b, false) != 0) {
		buf_free(&b);
		return 2;
	}
	const char *text = b.data ? (const char *)b.data : "";
	int rc;
	if (strncmp(text, "ok\n", 3) == 0) {
		fputs(text + 3, stdout);
		rc = 0;
	} else if (strncmp(text, "error: ", 7) == 0) {
		fprintf(stderr, "talon: %s", text + 7);
		rc = 1;
	} else {
		fprintf(stderr, "talon: no answer from the daemon\n");
		rc = 2;
	}
	buf_free(&b);
	return rc;
}

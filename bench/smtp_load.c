/*
 * bench/smtp_load.c - the SMTP load of smtp-throughput.sh, with the latency
 * of every message's final 250.
 *
 * What Postfix's smtp-source did for the bench (same options, same shape of
 * load), plus a timing: SESSIONS threads take message numbers from a shared
 * atomic counter until TOTAL are taken; each message gets its own
 * connection (smtp-source without -d):
 *
 *   connect, 220, EHLO, MAIL FROM:<from>, RCPT TO:<to>, DATA (354),
 *   headers (From, To, Subject, Message-ID) + empty line + a body of SIZE
 *   bytes, then ".\r\n", 250, QUIT (221), close.
 *
 * The body is exactly SIZE bytes on the wire, counting its CRLFs (smtp-source
 * -l sends about as much: 502 bytes for -l 500), in lines of 78 characters +
 * CRLF (the last one shorter), letters and digits only, so no line starts
 * with '.' and no dot-stuffing is needed.  (SIZE 1 is sent as 2 bytes: an
 * empty line.)  The stream therefore ends "\r\n.\r\n".  Unlike
 * smtp-source, the greeting is EHLO (not HELO) and there is no Date header.
 *
 * Latency: CLOCK_MONOTONIC from just before the write of the final ".\r\n"
 * (a write of its own, TCP_NODELAY) until the whole final line of the reply
 * is read: the time the server takes to make the message durable and say
 * so.  Recorded for every message answered 2xx; percentiles are
 * nearest-rank over those, sorted.
 *
 * Bounds: every socket operation has a timeout (-w, default 30 s): connect
 * through SO_SNDTIMEO, reads and writes through poll() with MSG_DONTWAIT
 * (SO_RCVTIMEO/SO_SNDTIMEO are set too); no operation waits past the
 * deadline of the whole run (-T, default 600 s), and no message starts
 * after it.  Only loopback addresses are accepted.
 *
 * Two more shapes of load:
 *   -F FILE  every message is FILE's content instead of the generated one
 *            (for a DKIM-signed message: the signature covers exact bytes).
 *            It is read once, at most 64 MB, and put in wire form: LF or
 *            CRLF line ends become CRLF, a line starting with '.' gets
 *            another (RFC 5321 4.5.2), a missing final line end is added.
 *   -M K     MAIL only (for SPF): no RCPT and no DATA; each connection
 *            does EHLO, then up to K times MAIL FROM + RSET, then QUIT.
 *            TOTAL counts MAIL commands, the latency is that of the MAIL
 *            reply (from its write to the end of the reply), and a MAIL
 *            answered 2xx is ok.  Mind the server's limit on RSETs per
 *            session (talon: limit junk-commands, 100 by default).
 * In FROM, "{n}" is replaced by the message number modulo -V K (default:
 * TOTAL), so that every message can have a sender of its own
 * (sender@d{n}.example: K sender domains, each evaluated by SPF).
 *
 * Failures are counted, never dropped: a connect error (fail_connect), a
 * timeout or the deadline (fail_timeout), a reply of the wrong class
 * (fail_reply: not 2xx, or not 3xx to DATA), or a broken connection or
 * malformed reply (fail_io); the first few are described on stderr.  A
 * failed QUIT after the 250 leaves the message ok and counts in
 * quit_failed.  Messages never started (deadline) are TOTAL - sent.
 *
 * Build (smtp-throughput.sh and postfix-peer.sh do this, through lib.sh):
 *   cc -O2 -Wall -Wextra -pthread -o bench/tmp/smtp_load bench/smtp_load.c
 * Run:
 *   smtp_load [-s SESSIONS] [-m TOTAL] [-l SIZE] [-f FROM] [-t TO]
 *             [-F FILE] [-M K] [-V K] [-w IO_TIMEOUT_S] [-T DEADLINE_S] HOST:PORT
 * Output, one line on stdout (key=value, times in ms):
 *   load sent=N ok=N failed=N wall_s=X msgs_per_s=X lat_p50_ms=X
 *        lat_p99_ms=X lat_max_ms=X fail_connect=N fail_timeout=N
 *        fail_reply=N fail_io=N quit_failed=N
 * msgs_per_s = ok / wall_s.  Exit status 0 when all TOTAL messages got
 * their 250, 1 otherwise, 2 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_DESCRIBED 10	/* failures described on stderr */
#define FILE_MAX (64L << 20)	/* -F: largest message file */
#define ADDR_MAX 512		/* -f, -t, and a sender after {n} */

enum result { RES_OK, RES_CONNECT, RES_TIMEOUT, RES_REPLY, RES_IO, RES_NKINDS };

static long sessions = 1, total = 1, body_size = 0;
static const char *mail_from = "sender@bench.test", *rcpt_to = "bench@bench.test";
static double io_timeout = 30, deadline;
static const char *msg_file;	/* -F */
static char *file_msg;		/* its content in wire form, without the final ".\r\n" */
static size_t file_len;
static long mail_only;		/* -M: MAIL+RSET pairs per connection; 0: whole messages */
static long vary;		/* -V: "{n}" in FROM is the message number modulo vary */
static struct sockaddr_storage peer;
static socklen_t peer_len;

static char *body;		/* body_size bytes, shared, read-only */
static double *lat;		/* per message, ms; < 0: not ok */
static atomic_long next_msg, sent, ok, quit_failed, described;
static atomic_long fails[RES_NKINDS];

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct conn {
	int fd;
	size_t len;		/* bytes in buf */
	char buf[8192];
	char err[256];		/* what failed, for stderr */
};

static void
set_err(struct conn *c, const char *fmt, const char *step, const char *detail)
{
	snprintf(c->err, sizeof c->err, fmt, step, detail);
}

/* the time an operation may wait now, in ms: min(io timeout, deadline); 0
 * when the deadline has passed */
static int
op_timeout_ms(void)
{
	double left = deadline - now();
	if (left <= 0)
		return 0;
	if (left > io_timeout)
		left = io_timeout;
	int ms = (int)(left * 1000.0);
	return ms > 0 ? ms : 1;
}

/* wait until fd is ready for ev; RES_OK, RES_TIMEOUT or RES_IO */
static enum result
wait_fd(struct conn *c, short ev, const char *step)
{
	for (;;) {
		int ms = op_timeout_ms();
		if (ms == 0) {
			set_err(c, "%s: run deadline reached%s", step, "");
			return RES_TIMEOUT;
		}
		struct pollfd p = { .fd = c->fd, .events = ev };
		int n = poll(&p, 1, ms);
		if (n > 0)
			return RES_OK;	/* errors and hangups show in the read/write */
		if (n == 0) {
			set_err(c, "%s: timeout%s", step, "");
			return RES_TIMEOUT;
		}
		if (errno != EINTR) {
			set_err(c, "%s: poll: %s", step, strerror(errno));
			return RES_IO;
		}
	}
}

static enum result
send_all(struct conn *c, const char *p, size_t n, const char *step)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			enum result r = wait_fd(c, POLLOUT, step);
			if (r != RES_OK)
				return r;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else {
			set_err(c, "%s: send: %s", step, w < 0 ? strerror(errno) : "0 bytes");
			return RES_IO;
		}
	}
	return RES_OK;
}

/*
 * read one reply, multi-line or not, up to its final line ("NNN text" or
 * "NNN"; "NNN-text" goes on); *code gets its code.  RES_OK, RES_TIMEOUT, RES_IO.
 */
static enum result
read_reply(struct conn *c, int *code, const char *step)
{
	for (;;) {
		char *nl;
		while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			size_t ll = (size_t)(nl - c->buf) + 1;
			char *l = c->buf;
			if (ll < 4 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' ||
			    l[2] < '0' || l[2] > '9' ||
			    (l[3] != ' ' && l[3] != '-' && l[3] != '\r' && l[3] != '\n')) {
				char show[64];
				size_t k = ll < sizeof show ? ll : sizeof show - 1;
				memcpy(show, l, k);
				show[k] = '\0';
				show[strcspn(show, "\r\n")] = '\0';
				set_err(c, "%s: malformed reply line '%s'", step, show);
				return RES_IO;
			}
			int final = l[3] != '-';
			*code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
			if (final) {
				/* keep it for a failure message */
				size_t k = ll < 120 ? ll : 120;
				char show[128];
				memcpy(show, l, k);
				show[k] = '\0';
				show[strcspn(show, "\r\n")] = '\0';
				set_err(c, "%s: reply '%s'", step, show);
			}
			memmove(c->buf, c->buf + ll, c->len - ll);
			c->len -= ll;
			if (final)
				return RES_OK;
		}
		if (c->len == sizeof c->buf) {
			set_err(c, "%s: reply line longer than %s bytes", step, "8192");
			return RES_IO;
		}
		enum result r = wait_fd(c, POLLIN, step);
		if (r != RES_OK)
			return r;
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
		} else if (n == 0) {
			set_err(c, "%s: connection closed by the server%s", step, "");
			return RES_IO;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			set_err(c, "%s: recv: %s", step, strerror(errno));
			return RES_IO;
		}
	}
}

/* send LINE (unless NULL), read the reply, want its first digit to be CLASS */
static enum result
command(struct conn *c, const char *line, int class, const char *step)
{
	enum result r;
	int code = 0;
	if (line != NULL && (r = send_all(c, line, strlen(line), step)) != RES_OK)
		return r;
	if ((r = read_reply(c, &code, step)) != RES_OK)
		return r;
	return code / 100 == class ? RES_OK : RES_REPLY;
}

static enum result
connect_to(struct conn *c)
{
	c->fd = socket(peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		set_err(c, "%s: socket: %s", "connect", strerror(errno));
		return RES_CONNECT;
	}
	int ms = op_timeout_ms();
	if (ms == 0) {
		set_err(c, "%s: run deadline reached%s", "connect", "");
		return RES_TIMEOUT;
	}
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	int one = 1;
	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
		set_err(c, "%s: setsockopt: %s", "connect", strerror(errno));
		return RES_CONNECT;
	}
	while (connect(c->fd, (struct sockaddr *)&peer, peer_len) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		/* a connect that ran out of SO_SNDTIMEO says EINPROGRESS */
		set_err(c, "%s: %s", "connect", strerror(e));
		return (e == EINPROGRESS || e == EAGAIN || e == ETIMEDOUT) ? RES_TIMEOUT : RES_CONNECT;
	}
	return RES_OK;
}

/* the sender of message idx: FROM with its first "{n}" replaced by idx
 * modulo vary (main checked that the result fits) */
static void
sender_of(long idx, char *dst, size_t dstsz)
{
	const char *p = strstr(mail_from, "{n}");
	if (p == NULL)
		snprintf(dst, dstsz, "%s", mail_from);
	else
		snprintf(dst, dstsz, "%.*s%ld%s", (int)(p - mail_from), mail_from, idx % vary,
		    p + 3);
}

/* connect, banner, EHLO */
static enum result
open_session(struct conn *c)
{
	enum result r;
	c->len = 0;
	c->err[0] = '\0';
	if ((r = connect_to(c)) != RES_OK)
		return r;
	if ((r = command(c, NULL, 2, "banner")) != RES_OK ||
	    (r = command(c, "EHLO client.bench.test\r\n", 2, "EHLO")) != RES_OK)
		return r;
	return RES_OK;
}

/* the message of idx in msg (headers + body, or the -F file); its length,
 * or 0 when it does not fit */
static size_t
compose(long idx, const char *from, char *msg, size_t msg_cap)
{
	if (file_msg != NULL) {
		if (file_len > msg_cap)
			return 0;
		memcpy(msg, file_msg, file_len);
		return file_len;
	}
	int h = snprintf(msg, msg_cap,
	    "From: <%s>\r\nTo: <%s>\r\nSubject: smtp_load message %ld\r\n"
	    "Message-ID: <%ld.%ld@smtp-load.bench.test>\r\n\r\n",
	    from, rcpt_to, idx, (long)getpid(), idx);
	if (h < 0 || (size_t)h + (size_t)body_size > msg_cap)
		return 0;
	memcpy(msg + h, body, (size_t)body_size);
	return (size_t)h + (size_t)body_size;
}

/* one message on its own connection; fills lat[idx] when it got its 2xx */
static enum result
one_message(long idx, struct conn *c, char *msg, size_t msg_cap)
{
	char line[1024], from[ADDR_MAX + 32];
	enum result r;

	if ((r = open_session(c)) != RES_OK)
		return r;
	sender_of(idx, from, sizeof from);
	snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", from);
	if ((r = command(c, line, 2, "MAIL")) != RES_OK)
		return r;
	snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", rcpt_to);
	if ((r = command(c, line, 2, "RCPT")) != RES_OK)
		return r;
	if ((r = command(c, "DATA\r\n", 3, "DATA")) != RES_OK)
		return r;

	size_t n = compose(idx, from, msg, msg_cap);
	if (n == 0) {
		set_err(c, "%s: %s", "message", "header too long");
		return RES_IO;
	}
	if ((r = send_all(c, msg, n, "message")) != RES_OK)
		return r;

	double t0 = now();
	if ((r = command(c, ".\r\n", 2, "end of data")) != RES_OK)
		return r;
	lat[idx] = (now() - t0) * 1000.0;
	atomic_fetch_add(&ok, 1);

	if (command(c, "QUIT\r\n", 2, "QUIT") != RES_OK) {
		atomic_fetch_add(&quit_failed, 1);
		if (atomic_fetch_add(&described, 1) < MAX_DESCRIBED)
			fprintf(stderr, "smtp_load: message %ld (accepted): %s\n", idx, c->err);
	}
	return RES_OK;
}

/* -M: MAIL FROM (timed) and RSET on the open session c, opening one
 * when c->fd < 0; *done counts the pairs on this session.  Fills lat[idx]
 * when the MAIL got its 2xx.  On any failure the caller closes c. */
static enum result
one_mail(long idx, struct conn *c, long *done)
{
	char line[1024], from[ADDR_MAX + 32];
	enum result r;

	if (c->fd < 0) {
		*done = 0;
		if ((r = open_session(c)) != RES_OK)
			return r;
	}
	sender_of(idx, from, sizeof from);
	snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", from);
	double t0 = now();
	if ((r = command(c, line, 2, "MAIL")) != RES_OK)
		return r;
	lat[idx] = (now() - t0) * 1000.0;
	atomic_fetch_add(&ok, 1);
	if ((r = command(c, "RSET\r\n", 2, "RSET")) != RES_OK)
		return r;
	++*done;
	return RES_OK;
}

/* QUIT and close the session of -M; a failed QUIT counts in quit_failed */
static void
close_mail_session(struct conn *c)
{
	if (c->fd < 0)
		return;
	if (command(c, "QUIT\r\n", 2, "QUIT") != RES_OK) {
		atomic_fetch_add(&quit_failed, 1);
		if (atomic_fetch_add(&described, 1) < MAX_DESCRIBED)
			fprintf(stderr, "smtp_load: QUIT failed: %s\n", c->err);
	}
	close(c->fd);
	c->fd = -1;
}

static void *
mail_worker(void *arg)
{
	(void)arg;
	struct conn *c = malloc(sizeof *c);
	long done = 0;
	if (c == NULL) {
		fprintf(stderr, "smtp_load: out of memory\n");
		exit(2);
	}
	c->fd = -1;
	for (;;) {
		if (now() >= deadline)
			break;
		long idx = atomic_fetch_add(&next_msg, 1);
		if (idx >= total)
			break;
		atomic_fetch_add(&sent, 1);
		enum result r = one_mail(idx, c, &done);
		if (r != RES_OK) {
			/* an answer that was ok before the RSET failed stays ok */
			if (lat[idx] < 0)
				atomic_fetch_add(&fails[r], 1);
			if (atomic_fetch_add(&described, 1) < MAX_DESCRIBED)
				fprintf(stderr, "smtp_load: MAIL %ld failed: %s\n", idx, c->err);
			if (c->fd >= 0)
				close(c->fd);
			c->fd = -1;
		} else if (done >= mail_only) {
			close_mail_session(c);
		}
	}
	close_mail_session(c);
	free(c);
	return NULL;
}

static void *
worker(void *arg)
{
	(void)arg;
	size_t cap = (file_msg ? file_len : (size_t)body_size) + 2048;
	char *msg = malloc(cap);
	struct conn *c = malloc(sizeof *c);
	if (msg == NULL || c == NULL) {
		fprintf(stderr, "smtp_load: out of memory\n");
		exit(2);
	}
	for (;;) {
		if (now() >= deadline)
			break;
		long idx = atomic_fetch_add(&next_msg, 1);
		if (idx >= total)
			break;
		atomic_fetch_add(&sent, 1);
		c->fd = -1;
		enum result r = one_message(idx, c, msg, cap);
		if (c->fd >= 0)
			close(c->fd);
		if (r != RES_OK) {
			atomic_fetch_add(&fails[r], 1);
			if (atomic_fetch_add(&described, 1) < MAX_DESCRIBED)
				fprintf(stderr, "smtp_load: message %ld failed: %s\n", idx, c->err);
		}
	}
	free(msg);
	free(c);
	return NULL;
}

static long
num(const char *s, const char *what, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi) {
		fprintf(stderr, "smtp_load: bad %s '%s' (%ld..%ld)\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtp_load [-s SESSIONS] [-m TOTAL] [-l SIZE] [-f FROM] [-t TO]\n"
	    "                 [-F FILE] [-M K] [-V K] [-w IO_TIMEOUT_S] [-T DEADLINE_S] HOST:PORT\n");
	exit(2);
}

/* HOST:PORT or [HOST]:PORT, a loopback address only */
static void
resolve(const char *arg)
{
	char host[256];
	const char *colon = strrchr(arg, ':');
	if (colon == NULL || colon == arg || (size_t)(colon - arg) >= sizeof host)
		usage();
	const char *h = arg;
	size_t hl = (size_t)(colon - arg);
	if (h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	int e = getaddrinfo(host, colon + 1, &hints, &ai);
	if (e != 0) {
		fprintf(stderr, "smtp_load: %s: %s\n", arg, gai_strerror(e));
		exit(2);
	}
	int loop = 0;
	if (ai->ai_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ai->ai_addr;
		loop = (ntohl(s->sin_addr.s_addr) >> 24) == 127;
	} else if (ai->ai_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ai->ai_addr;
		loop = IN6_IS_ADDR_LOOPBACK(&s->sin6_addr);
	}
	if (!loop) {
		fprintf(stderr, "smtp_load: %s is not a loopback address: refusing\n", host);
		exit(2);
	}
	memcpy(&peer, ai->ai_addr, ai->ai_addrlen);
	peer_len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

/* -F: FILE into file_msg in wire form (CRLF line ends, dot-stuffed, a
 * final CRLF); exits on an error */
static void
load_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "smtp_load: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	size_t cap = 0, n = 0;
	char *out = NULL;
	long in = 0;
	int c, prev = '\n';
	while ((c = getc(f)) != EOF) {
		if (++in > FILE_MAX) {
			fprintf(stderr, "smtp_load: %s: over %ld bytes\n", path, FILE_MAX);
			exit(2);
		}
		/* one input byte makes at most two ('.' -> "..", LF -> CRLF),
		 * and the end adds two more: 4 free bytes always suffice */
		if (cap - n < 4) {
			cap = cap ? 2 * cap : 65536;
			if ((out = realloc(out, cap)) == NULL) {
				fprintf(stderr, "smtp_load: out of memory\n");
				exit(2);
			}
		}
		if (c == '\r')
			continue;	/* CRLF and LF both end a line; a lone CR goes */
		if (prev == '\n' && c == '.')
			out[n++] = '.';
		if (c == '\n')
			out[n++] = '\r';
		out[n++] = (char)c;
		prev = c;
	}
	if (ferror(f)) {
		fprintf(stderr, "smtp_load: %s: read error\n", path);
		exit(2);
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "smtp_load: %s: empty\n", path);
		exit(2);
	}
	if (prev != '\n') {
		out[n++] = '\r';
		out[n++] = '\n';
	}
	file_msg = out;
	file_len = n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* nearest rank: the smallest value with at least P% of the values <= it */
static double
percentile(const double *v, long n, long p)
{
	long rank = (p * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

int
main(int argc, char **argv)
{
	int opt;
	double run_limit = 600;
	while ((opt = getopt(argc, argv, "s:m:l:f:t:F:M:V:w:T:")) != -1) {
		switch (opt) {
		case 's': sessions = num(optarg, "session count", 1, 4096); break;
		case 'm': total = num(optarg, "message count", 1, 10000000); break;
		case 'l': body_size = num(optarg, "size", 0, 64L << 20); break;
		case 'f': mail_from = optarg; break;
		case 't': rcpt_to = optarg; break;
		case 'F': msg_file = optarg; break;
		case 'M': mail_only = num(optarg, "MAIL count per session", 1, 1000000); break;
		case 'V': vary = num(optarg, "sender count", 1, 1000000000); break;
		case 'w': io_timeout = (double)num(optarg, "io timeout", 1, 3600); break;
		case 'T': run_limit = (double)num(optarg, "deadline", 1, 86400); break;
		default: usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	if (vary == 0)
		vary = total;
	if (strlen(mail_from) > ADDR_MAX || strlen(rcpt_to) > ADDR_MAX ||
	    strpbrk(mail_from, "\r\n<>") != NULL || strpbrk(rcpt_to, "\r\n<>") != NULL) {
		fprintf(stderr, "smtp_load: bad -f or -t address\n");
		return 2;
	}
	resolve(argv[optind]);
	if (msg_file != NULL)
		load_file(msg_file);
	if (sessions > total)
		sessions = total;
	signal(SIGPIPE, SIG_IGN);

	if (body_size == 1)
		body_size = 2;	/* the smallest body that ends in CRLF */
	body = malloc((size_t)body_size + 1);
	lat = malloc((size_t)total * sizeof *lat);
	pthread_t *tid = calloc((size_t)sessions, sizeof *tid);
	if (body == NULL || lat == NULL || tid == NULL) {
		fprintf(stderr, "smtp_load: out of memory\n");
		return 2;
	}
	/* lines of 78 characters + CRLF; the last one takes what is left: 2..79
	 * bytes, and a remainder of 1 shortens the line before it by one */
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	long pos = 0, line_no = 0;
	while (pos < body_size) {
		long left = body_size - pos;
		long len = left >= 80 ? 78 : left - 2;
		if (left >= 80 && left - 80 == 1)
			len = 77;
		for (long i = 0; i < len; i++)
			body[pos + i] = chars[(line_no + i) % (sizeof chars - 1)];
		body[pos + len] = '\r';
		body[pos + len + 1] = '\n';
		pos += len + 2;
		line_no++;
	}
	for (long i = 0; i < total; i++)
		lat[i] = -1;

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	double t_start = now();
	deadline = t_start + run_limit;
	long started = 0;
	for (long t = 0; t < sessions; t++) {
		int e = pthread_create(&tid[t], &attr, mail_only ? mail_worker : worker, NULL);
		if (e != 0) {
			fprintf(stderr, "smtp_load: pthread_create: %s (going on with %ld threads)\n",
			    strerror(e), started);
			break;
		}
		started++;
	}
	if (started == 0)
		return 2;
	for (long t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	double wall = now() - t_start;

	long n_ok = 0;
	for (long i = 0; i < total; i++)
		if (lat[i] >= 0)
			lat[n_ok++] = lat[i];
	qsort(lat, (size_t)n_ok, sizeof *lat, cmp_double);
	long n_sent = atomic_load(&sent), n_failed = 0;
	for (int k = RES_CONNECT; k < RES_NKINDS; k++)
		n_failed += atomic_load(&fails[k]);
	char p50[32] = "n/a", p99[32] = "n/a", pmax[32] = "n/a";
	if (n_ok > 0) {
		snprintf(p50, sizeof p50, "%.3f", percentile(lat, n_ok, 50));
		snprintf(p99, sizeof p99, "%.3f", percentile(lat, n_ok, 99));
		snprintf(pmax, sizeof pmax, "%.3f", lat[n_ok - 1]);
	}
	if (n_sent < total)
		fprintf(stderr, "smtp_load: deadline of %.0f s reached: %ld of %ld messages never started\n",
		    run_limit, total - n_sent, total);
	if (n_ok + n_failed != n_sent)
		fprintf(stderr, "smtp_load: internal: ok %ld + failed %ld != sent %ld\n",
		    n_ok, n_failed, n_sent);
	printf("load sent=%ld ok=%ld failed=%ld wall_s=%.3f msgs_per_s=%.1f"
	    " lat_p50_ms=%s lat_p99_ms=%s lat_max_ms=%s"
	    " fail_connect=%ld fail_timeout=%ld fail_reply=%ld fail_io=%ld quit_failed=%ld\n",
	    n_sent, n_ok, n_failed, wall, wall > 0 ? (double)n_ok / wall : 0.0, p50, p99, pmax,
	    atomic_load(&fails[RES_CONNECT]), atomic_load(&fails[RES_TIMEOUT]),
	    atomic_load(&fails[RES_REPLY]), atomic_load(&fails[RES_IO]), atomic_load(&quit_failed));
	fflush(stdout);
	pthread_attr_destroy(&attr);
	free(tid);
	free(lat);
	free(body);
	return n_ok == total ? 0 : 1;
}

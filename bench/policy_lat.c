/*
 * bench/policy_lat.c - the client of policy-latency.sh: N sequential SMTP
 * transactions, one per connection, each timed whole and phase by phase.
 *
 * Each transaction, from a source address of its own choosing (-b, -k):
 *
 *   connect, 220, EHLO, MAIL FROM:<from>, RCPT TO:<to>, DATA (354),
 *   headers (From, To, Subject, Message-ID) + empty line + a body of SIZE
 *   bytes, ".", 250, QUIT (221), close.
 *
 * One command at a time, each written only after the previous reply is
 * read (no PIPELINING), so a server's pipelining check never fires.  The
 * body is SIZE bytes on the wire counting its CRLFs, lines of at most 78
 * letters, so no line starts with '.'.
 *
 * Times (CLOCK_MONOTONIC, milliseconds), for each transaction that went
 * through to its 221:
 *   connect  from just before connect() until the 220 is read whole
 *   ehlo, mail, rcpt, data, quit   from the write of the command until
 *            its reply is read whole (multi-line replies: the final line)
 *   dot      from the write of the final ".\r\n" until its 250
 *   total    from just before connect() until the 221 is read
 *   nodot    total - dot of the same transaction: all of it but the end
 *            of data, whose spool fsync varies by milliseconds from one
 *            message to the next and would hide a smaller difference
 * (total - the phases = the client's own work and the message's write)
 * Percentiles are nearest-rank over those transactions, per phase.
 *
 * Source addresses: transaction i binds to -b ADDR plus (i mod K) in the
 * last octets (-k K, default 1), IPv4 in 127.0.0.0/8 only, so K distinct
 * clients can be made from loopback without any setup.  The server must
 * be a loopback address too.
 *
 * -g (greylisting warm-up): a 4xx reply to RCPT is an expected outcome: the
 * transaction sends QUIT and counts as "deferred", not as failed.
 *
 * Bounds: every wait is a poll() bounded by the I/O timeout (-w, default
 * 10 s) and by the deadline of the whole run (-T, default 300 s); no
 * transaction starts after it.  N is at most 1,000,000.
 *
 * Output, one line on stdout (times in ms, "n/a" when nothing went
 * through):
 *   lat n=N ok=N deferred=N failed=N wall_s=X
 *       connect_p50_ms=X connect_p99_ms=X ehlo_p50_ms=X ... nodot_p99_ms=X
 *       fail_connect=N fail_timeout=N fail_reply=N fail_io=N
 * The first few failures are described on stderr.  Exit status 0 when
 * every transaction went through (with -g: or was deferred at RCPT), 1
 * otherwise, 2 on a usage or setup error.
 *
 * Build (policy-latency.sh does this) and run:
 *   cc -std=c17 -O2 -Wall -Wextra -o bench/tmp/policy_lat bench/policy_lat.c
 *   policy_lat [-n N] [-b SOURCE] [-k K] [-f FROM] [-t TO] [-l SIZE]
 *              [-w IO_TIMEOUT_S] [-T DEADLINE_S] [-g] HOST:PORT
 * (defaults: -n 1 -b 127.0.0.1 -k 1 -f sender@bench.test -t bench@bench.test
 * -l 2048 -w 10 -T 300)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_DESCRIBED	5		/* failures described on stderr */
#define ADDR_MAX	256		/* -f, -t */
#define N_MAX		1000000L
#define SIZE_MAX_BODY	(1L << 20)	/* -l: a 2 KB message is the point */

enum result { RES_OK, RES_DEFERRED, RES_CONNECT, RES_TIMEOUT, RES_REPLY, RES_IO, RES__N };
enum phase { P_CONNECT, P_EHLO, P_MAIL, P_RCPT, P_DATA, P_DOT, P_QUIT, P_TOTAL, P_NODOT,
	P__N };
static const char *const phase_name[P__N] = {
	"connect", "ehlo", "mail", "rcpt", "data", "dot", "quit", "total", "nodot"
};
static const char *const fail_name[RES__N] = {
	"ok", "deferred", "fail_connect", "fail_timeout", "fail_reply", "fail_io"
};

struct opts {
	long n, k, size;
	double io_timeout, run_limit;
	bool greylist_warmup;
	const char *from, *to;
	struct sockaddr_in server, source;
};

/* one connection: its socket, the bytes read but not yet consumed, and
 * what went wrong (for stderr) */
struct conn {
	int fd;
	size_t len;
	char buf[4096];
	char err[200];
};

static double deadline;

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* how long one wait may last now, in ms: the I/O timeout cut to the run's
 * deadline; 0 when the deadline has passed */
static int
wait_ms(double io_timeout)
{
	double left = deadline - now();
	if (left <= 0)
		return 0;
	if (left > io_timeout)
		left = io_timeout;
	return left * 1000.0 < 1.0 ? 1 : (int)(left * 1000.0);
}

/* poll fd for ev; RES_OK, RES_TIMEOUT or RES_IO (with c->err set) */
static enum result
wait_for(struct conn *c, short ev, double io_timeout, const char *step)
{
	for (;;) {
		int ms = wait_ms(io_timeout);
		if (ms == 0) {
			snprintf(c->err, sizeof c->err, "%s: run deadline reached", step);
			return RES_TIMEOUT;
		}
		struct pollfd p = { .fd = c->fd, .events = ev };
		int r = poll(&p, 1, ms);
		if (r > 0)
			return RES_OK;	/* errors and hangups show in the I/O call */
		if (r == 0) {
			snprintf(c->err, sizeof c->err, "%s: no progress in %d ms", step, ms);
			return RES_TIMEOUT;
		}
		if (errno != EINTR) {
			snprintf(c->err, sizeof c->err, "%s: poll: %s", step, strerror(errno));
			return RES_IO;
		}
	}
}

static enum result
send_all(struct conn *c, const char *p, size_t n, double io_timeout, const char *step)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			enum result r = wait_for(c, POLLOUT, io_timeout, step);
			if (r != RES_OK)
				return r;
			continue;
		}
		snprintf(c->err, sizeof c->err, "%s: send: %s", step,
		    w < 0 ? strerror(errno) : "nothing written");
		return RES_IO;
	}
	return RES_OK;
}

/* Is line (len bytes, with its LF) a well-formed reply line?  "NNN" then
 * SP, '-' or the line end. */
static bool
reply_line_ok(const char *l, size_t len)
{
	if (len < 4)
		return false;
	for (int i = 0; i < 3; i++)
		if (l[i] < '0' || l[i] > '9')
			return false;
	return l[0] >= '2' && l[0] <= '5' &&
	    (l[3] == ' ' || l[3] == '-' || l[3] == '\r' || l[3] == '\n');
}

/* consume one line from c->buf (there is an LF in it); 1: it was the final
 * line of a reply (*code set), 0: a continuation line, -1: malformed */
static int
take_line(struct conn *c, const char *step, int *code)
{
	char *nl = memchr(c->buf, '\n', c->len);
	size_t ll = (size_t)(nl - c->buf) + 1;
	bool ok = reply_line_ok(c->buf, ll);
	bool final = ok && c->buf[3] != '-';
	if (ok)
		*code = (c->buf[0] - '0') * 100 + (c->buf[1] - '0') * 10 + (c->buf[2] - '0');
	/* keep the text of a final or bad line for a failure message */
	if (final || !ok) {
		size_t show = strcspn(c->buf, "\r\n");	/* stops at the LF at the latest */
		snprintf(c->err, sizeof c->err, "%s: %s '%.*s'", step,
		    ok ? "reply" : "malformed reply", (int)(show > 100 ? 100 : show), c->buf);
	}
	memmove(c->buf, c->buf + ll, c->len - ll);
	c->len -= ll;
	return ok ? final : -1;
}

/* read one whole reply (up to its final line); *code is its code */
static enum result
read_reply(struct conn *c, int *code, double io_timeout, const char *step)
{
	for (;;) {
		while (memchr(c->buf, '\n', c->len) != NULL) {
			int r = take_line(c, step, code);
			if (r < 0)
				return RES_IO;
			if (r > 0)
				return RES_OK;
		}
		if (c->len == sizeof c->buf) {
			snprintf(c->err, sizeof c->err, "%s: reply line over %zu bytes", step,
			    sizeof c->buf);
			return RES_IO;
		}
		enum result w = wait_for(c, POLLIN, io_timeout, step);
		if (w != RES_OK)
			return w;
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
		} else if (n == 0) {
			snprintf(c->err, sizeof c->err, "%s: closed by the server", step);
			return RES_IO;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(c->err, sizeof c->err, "%s: recv: %s", step, strerror(errno));
			return RES_IO;
		}
	}
}

/* send line (unless NULL), read the reply; RES_REPLY unless its first digit
 * is want; *code gets the code */
static enum result
command(struct conn *c, const char *line, int want, int *code, double io_timeout,
    const char *step)
{
	enum result r;
	*code = 0;
	if (line != NULL && (r = send_all(c, line, strlen(line), io_timeout, step)) != RES_OK)
		return r;
	if ((r = read_reply(c, code, io_timeout, step)) != RES_OK)
		return r;
	return *code / 100 == want ? RES_OK : RES_REPLY;
}

/* a non-blocking socket bound to src, connected to dst within the time
 * limits */
static enum result
open_conn(struct conn *c, const struct sockaddr_in *src, const struct sockaddr_in *dst,
    double io_timeout)
{
	int one = 1, soerr = 0;
	socklen_t sl = sizeof soerr;
	c->len = 0;
	c->err[0] = '\0';
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 ||
	    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
	    bind(c->fd, (const struct sockaddr *)src, sizeof *src) < 0) {
		snprintf(c->err, sizeof c->err, "connect: socket/bind %s: %s",
		    inet_ntoa(src->sin_addr), strerror(errno));
		return RES_CONNECT;
	}
	if (connect(c->fd, (const struct sockaddr *)dst, sizeof *dst) == 0)
		return RES_OK;
	if (errno != EINPROGRESS) {
		snprintf(c->err, sizeof c->err, "connect: %s", strerror(errno));
		return RES_CONNECT;
	}
	enum result r = wait_for(c, POLLOUT, io_timeout, "connect");
	if (r != RES_OK)
		return r;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
		snprintf(c->err, sizeof c->err, "connect: %s", strerror(soerr ? soerr : errno));
		return RES_CONNECT;
	}
	return RES_OK;
}

/* the message of transaction idx into msg (cap bytes), without the final
 * ".\r\n"; its length, 0 when it does not fit */
static size_t
compose(const struct opts *o, const char *body, long idx, char *msg, size_t cap)
{
	int h = snprintf(msg, cap, "From: <%s>\r\nTo: <%s>\r\nSubject: policy latency %ld\r\n"
	    "Message-ID: <%ld.%ld@policy-lat.bench.test>\r\n\r\n",
	    o->from, o->to, idx, idx, (long)getpid());
	if (h < 0 || (size_t)h + (size_t)o->size > cap)
		return 0;
	memcpy(msg + h, body, (size_t)o->size);
	return (size_t)h + (size_t)o->size;
}

/* one command, timed into t[ph]; RES_DEFERRED for a 4xx to RCPT under -g */
static enum result
timed(const struct opts *o, struct conn *c, const char *line, int want, enum phase ph,
    double *t)
{
	int code;
	double t0 = now();
	enum result r = command(c, line, want, &code, o->io_timeout, phase_name[ph]);
	t[ph] = (now() - t0) * 1000.0;
	if (r == RES_REPLY && ph == P_RCPT && o->greylist_warmup && code / 100 == 4)
		return RES_DEFERRED;
	return r;
}

/* a deferred transaction leaves politely; its QUIT is not timed */
static enum result
quit_deferred(const struct opts *o, struct conn *c)
{
	int code;
	command(c, "QUIT\r\n", 2, &code, o->io_timeout, "QUIT");
	return RES_DEFERRED;
}

/* transaction idx from src; fills t[] (ms per phase) when it returns RES_OK */
static enum result
transaction(const struct opts *o, const struct sockaddr_in *src, long idx, const char *body,
    char *msg, size_t cap, struct conn *c, double *t)
{
	char line[ADDR_MAX + 32];
	enum result r;
	int code;
	double t0 = now();

	if ((r = open_conn(c, src, &o->server, o->io_timeout)) != RES_OK ||
	    (r = command(c, NULL, 2, &code, o->io_timeout, "banner")) != RES_OK)
		return r;
	t[P_CONNECT] = (now() - t0) * 1000.0;
	if ((r = timed(o, c, "EHLO client.bench.test\r\n", 2, P_EHLO, t)) != RES_OK)
		return r;
	snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", o->from);
	if ((r = timed(o, c, line, 2, P_MAIL, t)) != RES_OK)
		return r;
	snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", o->to);
	if ((r = timed(o, c, line, 2, P_RCPT, t)) == RES_DEFERRED)
		return quit_deferred(o, c);
	if (r != RES_OK || (r = timed(o, c, "DATA\r\n", 3, P_DATA, t)) != RES_OK)
		return r;
	size_t n = compose(o, body, idx, msg, cap);
	if (n == 0) {
		snprintf(c->err, sizeof c->err, "message: headers too long");
		return RES_IO;
	}
	if ((r = send_all(c, msg, n, o->io_timeout, "message")) != RES_OK ||
	    (r = timed(o, c, ".\r\n", 2, P_DOT, t)) != RES_OK ||
	    (r = timed(o, c, "QUIT\r\n", 2, P_QUIT, t)) != RES_OK)
		return r;
	t[P_TOTAL] = (now() - t0) * 1000.0;
	t[P_NODOT] = t[P_TOTAL] - t[P_DOT];
	return RES_OK;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* nearest rank over v[0..n), which this sorts; "n/a" when n is 0 */
static void
percentile(double *v, long n, long p, char *out, size_t outsz)
{
	if (n == 0) {
		snprintf(out, outsz, "n/a");
		return;
	}
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	long rank = (p * n + 99) / 100;
	snprintf(out, outsz, "%.3f", v[(rank < 1 ? 1 : rank) - 1]);
}

static void
usage(void)
{
	fprintf(stderr, "usage: policy_lat [-n N] [-b SOURCE] [-k K] [-f FROM] [-t TO] [-l SIZE]\n"
	    "                  [-w IO_TIMEOUT_S] [-T DEADLINE_S] [-g] HOST:PORT\n");
	exit(2);
}

static long
num(const char *s, const char *what, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "policy_lat: bad %s '%s' (%ld..%ld)\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

/* an IPv4 address in 127.0.0.0/8 into sa (port as given); exits otherwise */
static void
loopback(const char *ip, unsigned port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1 || ntohl(sa->sin_addr.s_addr) >> 24 != 127) {
		fprintf(stderr, "policy_lat: %s is not an IPv4 loopback address (127/8)\n", ip);
		exit(2);
	}
}

/* HOST:PORT, HOST an IPv4 loopback address */
static void
parse_server(const char *arg, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(arg, ':');
	if (colon == NULL || colon == arg || (size_t)(colon - arg) >= sizeof host)
		usage();
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	loopback(host, (unsigned)num(colon + 1, "port", 1, 65535), sa);
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	const char *src = "127.0.0.1";
	int ch;
	*o = (struct opts){ .n = 1, .k = 1, .size = 2048, .io_timeout = 10, .run_limit = 300,
			    .from = "sender@bench.test", .to = "bench@bench.test" };
	while ((ch = getopt(argc, argv, "n:b:k:f:t:l:w:T:g")) != -1) {
		switch (ch) {
		case 'n': o->n = num(optarg, "count", 1, N_MAX); break;
		case 'b': src = optarg; break;
		case 'k': o->k = num(optarg, "address count", 1, 1L << 24); break;
		case 'f': o->from = optarg; break;
		case 't': o->to = optarg; break;
		case 'l': o->size = num(optarg, "size", 2, SIZE_MAX_BODY); break;
		case 'w': o->io_timeout = (double)num(optarg, "I/O timeout", 1, 3600); break;
		case 'T': o->run_limit = (double)num(optarg, "deadline", 1, 86400); break;
		case 'g': o->greylist_warmup = true; break;
		default: usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	parse_server(argv[optind], &o->server);
	loopback(src, 0, &o->source);
	/* the last source must stay in 127/8 (and not be its broadcast) */
	if ((ntohl(o->source.sin_addr.s_addr) & 0xffffff) + (unsigned long)o->k > 0xffffff) {
		fprintf(stderr, "policy_lat: -b %s with -k %ld leaves 127.0.0.0/8\n", src, o->k);
		exit(2);
	}
	if (strlen(o->from) > ADDR_MAX || strlen(o->to) > ADDR_MAX ||
	    strpbrk(o->from, "\r\n<>") != NULL || strpbrk(o->to, "\r\n<>") != NULL) {
		fprintf(stderr, "policy_lat: bad -f or -t address\n");
		exit(2);
	}
}

/* size bytes of lines of at most 78 letters + CRLF; the last line takes
 * what is left (a single leftover byte lengthens the line before it) */
static char *
make_body(long size)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char *b = malloc((size_t)size);
	long pos = 0, line = 0;
	if (b == NULL)
		return NULL;
	while (pos < size) {
		long left = size - pos;
		long len = left >= 80 ? 78 : left - 2;
		if (left - 80 == 1)
			len = 77;	/* 81 left: 77 + CRLF, then 0 + CRLF */
		for (long i = 0; i < len; i++)
			b[pos + i] = letters[(line + i) % (long)(sizeof letters - 1)];
		b[pos + len] = '\r';
		b[pos + len + 1] = '\n';
		pos += len + 2;
		line++;
	}
	return b;
}

/* the figures of the run as one key=value line */
static void
report(long n_ok, long *counts, double wall, double *lat[P__N])
{
	char p50[32], p99[32];
	printf("lat n=%ld ok=%ld deferred=%ld failed=%ld wall_s=%.3f", counts[RES__N], n_ok,
	    counts[RES_DEFERRED], counts[RES__N] - n_ok - counts[RES_DEFERRED], wall);
	for (int p = 0; p < P__N; p++) {
		percentile(lat[p], n_ok, 50, p50, sizeof p50);
		percentile(lat[p], n_ok, 99, p99, sizeof p99);
		printf(" %s_p50_ms=%s %s_p99_ms=%s", phase_name[p], p50, phase_name[p], p99);
	}
	for (int r = RES_CONNECT; r < RES__N; r++)
		printf(" %s=%ld", fail_name[r], counts[r]);
	printf("\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct conn c;
	long counts[RES__N + 1] = { 0 }, n_ok = 0, described = 0;
	double *lat[P__N], t[P__N];

	parse_opts(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	size_t cap = (size_t)o.size + 2 * ADDR_MAX + 256;
	char *body = make_body(o.size), *msg = malloc(cap);
	bool have_mem = body != NULL && msg != NULL;
	for (int p = 0; p < P__N; p++)
		have_mem = (lat[p] = calloc((size_t)o.n, sizeof(double))) != NULL && have_mem;
	if (!have_mem) {
		fprintf(stderr, "policy_lat: out of memory\n");
		return 2;
	}
	double start = now();
	deadline = start + o.run_limit;
	for (long i = 0; i < o.n && now() < deadline; i++) {
		struct sockaddr_in src = o.source;
		src.sin_addr.s_addr = htonl(ntohl(o.source.sin_addr.s_addr) + (uint32_t)(i % o.k));
		c.fd = -1;
		enum result r = transaction(&o, &src, i, body, msg, cap, &c, t);
		if (c.fd >= 0)
			close(c.fd);
		counts[r]++;
		counts[RES__N]++;		/* started */
		if (r == RES_OK) {
			for (int p = 0; p < P__N; p++)
				lat[p][n_ok] = t[p];
			n_ok++;
		} else if (r != RES_DEFERRED && described++ < MAX_DESCRIBED) {
			fprintf(stderr, "policy_lat: transaction %ld from %s: %s\n", i,
			    inet_ntoa(src.sin_addr), c.err);
		}
	}
	if (counts[RES__N] < o.n)
		fprintf(stderr, "policy_lat: deadline of %.0f s reached: %ld of %ld not started\n",
		    o.run_limit, o.n - counts[RES__N], o.n);
	report(n_ok, counts, now() - start, lat);
	bool all = n_ok + counts[RES_DEFERRED] == o.n && (o.greylist_warmup || n_ok == o.n);
	for (int p = 0; p < P__N; p++)
		free(lat[p]);
	free(body);
	free(msg);
	return all ? 0 : 1;
}

/*
 * core/log.c - line logging to stderr (one write(2) per line, so lines
 * from several processes sharing stderr never interleave) and syslog.
 *
 * Syslog is our own small client, not syslog(3): the datagram socket is
 * connected once, in the parent, to the configured path, and every child
 * keeps it across its descriptor cleanup and chroot (log_syslog_fd()), so
 * chrooted workers log without reaching /dev/log by name.  A send waits
 * for a slow syslog daemon at most LOG_SEND_WAIT_MS; after such a wait,
 * lines are dropped for a second (and counted, and the count logged
 * later), so a stuck daemon cannot stall a process.  With no daemon at all
 * lines are dropped.  Outside a chroot a lost connection is made again
 * once per second at most.  RFC 3164 format, facility mail.
 */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

static char log_proc[16] = "talon";
static pid_t log_pid;	/* cached: set again by log_set_proc after fork */
static bool log_stderr = true, log_debug_on;
static int log_sock = -1;		/* syslog datagram socket */
static struct sockaddr_un log_addr;
static time_t log_retry;		/* last reconnect attempt */
static time_t log_drop_until;		/* congested: drop lines until then */
static unsigned long log_dropped;

#define LOG_SEND_WAIT_MS 200

static void
syslog_connect(void)
{
	if (log_sock < 0) {
		log_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct timeval tv = { .tv_sec = 0, .tv_usec = LOG_SEND_WAIT_MS * 1000 };
		if (log_sock >= 0)
			setsockopt(log_sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	if (log_sock >= 0)
		(void)connect(log_sock, (struct sockaddr *)&log_addr, sizeof log_addr);
}

void
log_init(const char *proc, bool to_stderr, const char *syslog_path)
{
	log_set_proc(proc);
	log_stderr = to_stderr;
	if (syslog_path != NULL && strlen(syslog_path) < sizeof log_addr.sun_path) {
		memset(&log_addr, 0, sizeof log_addr);
		log_addr.sun_family = AF_UNIX;
		memcpy(log_addr.sun_path, syslog_path, strlen(syslog_path));
		syslog_connect();
	}
}

int
log_syslog_fd(void)
{
	return log_sock;
}

static void
syslog_send(int prio, const char *msg)
{
	char line[2300];
	struct tm tm;
	time_t now = time(NULL);
	localtime_r(&now, &tm);
	int n = snprintf(line, sizeof line, "<%d>", LOG_MAIL | prio);
	if (n < 0)
		return;
	n += (int)strftime(line + n, sizeof line - (size_t)n, "%b %e %H:%M:%S ", &tm);
	int m = snprintf(line + n, sizeof line - (size_t)n, "talon[%d]: %s",
	    (int)(log_pid ? log_pid : getpid()), msg);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len >= sizeof line)
		len = sizeof line - 1;
	int flags = MSG_NOSIGNAL | (now < log_drop_until ? MSG_DONTWAIT : 0);
	if (send(log_sock, line, len, flags) >= 0) {
		if (log_dropped > 0) {
			unsigned long d = log_dropped;
			log_dropped = 0;
			snprintf(line, sizeof line, "<%d>talon[%d]: %s warn: log event=dropped lines=%lu "
			    "reason=\"syslog too slow or absent\"", LOG_MAIL | LOG_WARNING,
			    (int)(log_pid ? log_pid : getpid()), log_proc, d);
			(void)send(log_sock, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		return;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		/* waited LOG_SEND_WAIT_MS: stop waiting for a while */
		log_drop_until = now + 1;
	} else if ((errno == ECONNREFUSED || errno == ENOTCONN) && now != log_retry) {
		/* the syslog daemon restarted: connect again (reachable only
		 * outside a chroot) and send once more */
		log_retry = now;
		syslog_connect();
		if (send(log_sock, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			return;
	}
	log_dropped++;
}

void
log_set_proc(const char *proc)
{
	snprintf(log_proc, sizeof log_proc, "%s", proc);
	log_pid = getpid();
}

void
log_set_debug(bool on)
{
	log_debug_on = on;
}

static void
vlog(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *names[] = { "err", "warn", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[2048];

	if (lvl == LOG_LVL_DEBUG && !log_debug_on)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_sock >= 0) {
		char sl[2100];
		snprintf(sl, sizeof sl, "%s %s: %s", log_proc, names[lvl], msg);
		syslog_send(prio[lvl], sl);
	}
	if (log_stderr) {
		char line[2300];
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		int n = snprintf(line, sizeof line,
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ talon[%d]: %s %s: %s\n",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		    (int)(log_pid ? log_pid : getpid()),
		    log_proc, names[lvl], msg);
		if (n < 0)
			return;
		if ((size_t)n >= sizeof line) {
			n = sizeof line - 1;
			line[n - 1] = '\n';
		}
		(void)!write(STDERR_FILENO, line, (size_t)n);
	}
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

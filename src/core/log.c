/*
 * core/log.c - line logging to stderr (one write(2) per line, so lines
 * from several processes sharing stderr never interleave) and syslog.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sys/types.h>
#include <unistd.h>

static char log_proc[16] = "talon";
static pid_t log_pid;	/* cached: set again by log_set_proc after fork */
static bool log_stderr = true, log_syslog, log_debug_on;

void
log_init(const char *proc, bool to_stderr, bool to_syslog)
{
	log_set_proc(proc);
	log_stderr = to_stderr;
	if (to_syslog && !log_syslog)
		openlog("talon", LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_syslog = to_syslog;
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
	if (log_syslog)
		syslog(prio[lvl], "%s %s: %s", log_proc, names[lvl], msg);
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

/*
 * core/log.h - one line per event, "key=value" style, to stderr and/or
 * syslog.  Client-supplied text must go through log_escape() first.
 * Runs in: every process.
 */
#ifndef TALON_LOG_H
#define TALON_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* proc: "parent", "smtp", "queue", ...; shown on every line.  syslog_path:
 * the syslog socket to send to, or NULL for none. */
void log_init(const char *proc, bool to_stderr, const char *syslog_path);
/* The syslog socket, or -1: a child keeps it open across its cleanup. */
int log_syslog_fd(void);
void log_set_proc(const char *proc);
void log_set_debug(bool on);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Log at err level and exit(1): a process-fatal condition. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

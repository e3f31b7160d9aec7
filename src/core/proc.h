/*
 * core/proc.h - what a new child process does before it runs its role:
 * signal dispositions, closing every descriptor it was not given,
 * chroot, dropping to its user, no core dumps and no ptrace.
 * Runs in: the parent (helpers called in a freshly forked child).
 */
#ifndef TALON_PROC_H
#define TALON_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Default signals (SIGHUP and SIGINT ignored: they are the parent's),
 * empty mask, the log's process name. */
void proc_child_setup(const char *name);
/* Close every descriptor except 0-2 and keep[] (which it sorts). */
void proc_close_except(int *keep, size_t n);
/* chroot into jail (when not NULL; needs root), then become uid/gid when
 * as_root; then no core dumps, no ptrace by same-uid processes, no
 * privilege gains through exec.  Exits on failure: a child that cannot
 * drop must not run. */
void proc_drop(const char *name, bool as_root, uid_t uid, gid_t gid, const char *jail);
/* After proc_drop (a change of credentials clears it): SIGTERM when the
 * parent dies, and exit now if it died already (its pid is not parent). */
void proc_parent_death(pid_t parent);
/* Contain a network-facing process: no new processes or threads
 * (RLIMIT_NPROC 0) and no file larger than fsize bytes (RLIMIT_FSIZE;
 * SIGXFSZ ignored, so a write past it fails with EFBIG).  no_fork false
 * keeps fork possible (sanitizer builds: LeakSanitizer needs a thread). */
void proc_contain(bool no_fork, unsigned long long fsize);

#endif

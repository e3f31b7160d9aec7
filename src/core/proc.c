/*
 * core/proc.c - child process setup and privilege drop (see proc.h).
 * Runs in: a freshly forked child of the parent, before its role's main.
 */
#include "core/proc.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/compat.h"
#include "core/log.h"

void
proc_child_setup(const char *name)
{
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGHUP, SIG_IGN);	/* reload is the parent's business */
	signal(SIGINT, SIG_IGN);	/* ^C in the demo goes to the parent */
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	log_set_proc(name);
}

void
proc_close_except(int *keep, size_t n)
{
	/* sort the (few) descriptors to keep */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unsigned lo = 3;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 3 || (unsigned)keep[i] < lo)
			continue;
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0u, 0);
}

void
proc_drop(const char *name, bool as_root, uid_t uid, gid_t gid, const char *jail)
{
	/* a process that needs no files at all is locked into an empty
	 * directory: whatever an attacker gains there, the file system
	 * is not part of it */
	if (as_root && jail != NULL && (chroot(jail) < 0 || chdir("/") < 0))
		fatal("%s: cannot chroot to %s: %s", name, jail, strerror(errno));
	if (as_root) {
		if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			fatal("%s: cannot drop privileges: %s", name, strerror(errno));
		if (getuid() == 0 || geteuid() == 0)
			fatal("%s: still root after dropping privileges", name);
	}
	/* no core dumps, no ptrace by same-uid processes, no setuid gains */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

void
proc_parent_death(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	/* the parent may have died before the line above: nobody would
	 * send the signal then */
	if (getppid() != parent)
		_exit(1);
}

void
proc_contain(bool no_fork, unsigned long long fsize)
{
	struct rlimit rl = { .rlim_cur = fsize, .rlim_max = fsize };
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		fatal("cannot limit the file size: %s", strerror(errno));
	if (no_fork) {
		rl.rlim_cur = rl.rlim_max = 0;
		if (setrlimit(RLIMIT_NPROC, &rl) < 0)
			fatal("cannot forbid new processes: %s", strerror(errno));
	}
}

/*
 * bench/raw_fsync.c - the machine's raw durability ceiling.
 *
 * What a mail server must do, at the least, for every message it accepts
 * durably, done here with nothing else around it: for each of N small files
 * (2 KB), open(tmp/NAME, O_CREAT|O_EXCL) + write + fsync + close,
 * rename(tmp/NAME, new/NAME), fsync(new/).  Printed as files per second:
 *
 *   1. sequentially, one file after the other (one thread);
 *   2. the same N files spread over T threads (default 20, the number of
 *      concurrent SMTP sessions smtp-throughput.sh uses), each thread doing
 *      its own files: concurrent fsyncs share journal commits, so this is
 *      the ceiling for a server that has many messages in flight.
 *
 * Build (smtp-throughput.sh does this):
 *   cc -O2 -Wall -Wextra -pthread -o bench/tmp/raw_fsync bench/raw_fsync.c
 * Run:
 *   raw_fsync [-n FILES] [-t THREADS] [-s BYTES] DIR
 * DIR must be on the filesystem under test (not tmpfs); raw_fsync makes
 * DIR/tmp and DIR/new, and removes the files it wrote (outside the timing).
 *
 * Output, one line per variant, key=value for scripts:
 *   raw_fsync mode=sequential threads=1 files=N seconds=S files_per_sec=R cpu_s=C cpu_us_per_file=U
 *   raw_fsync mode=threaded threads=T files=N seconds=S files_per_sec=R cpu_s=C cpu_us_per_file=U
 * cpu_s is this process's user+system time over the variant (all its
 * threads, getrusage): what the durable writes cost the CPU in the
 * calling threads, a floor for any server doing the same writes (work the
 * kernel does in its own threads is not in it).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int tmp_fd = -1, new_fd = -1;
static char payload[1 << 16];
static size_t payload_len = 2048;

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user + system CPU seconds of this process so far, all threads */
static double
cpu_now(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
die(const char *what, const char *name)
{
	fprintf(stderr, "raw_fsync: %s %s: %s\n", what, name ? name : "",
	    strerror(errno));
	exit(1);
}

/* one durable file: what a spool commit or a Maildir delivery costs */
static void
one_file(const char *name)
{
	int fd = openat(tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open", name);
	size_t off = 0;
	while (off < payload_len) {
		ssize_t w = write(fd, payload + off, payload_len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write", name);
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		die("fsync", name);
	if (close(fd) < 0)
		die("close", name);
	if (renameat(tmp_fd, name, new_fd, name) < 0)
		die("rename", name);
	if (fsync(new_fd) < 0)
		die("fsync", "new/");
}

struct job {
	unsigned run, thread, first, count;
};

static void *
worker(void *arg)
{
	struct job *j = arg;
	char name[64];
	for (unsigned i = 0; i < j->count; i++) {
		snprintf(name, sizeof name, "r%u.t%u.f%u", j->run, j->thread, j->first + i);
		one_file(name);
	}
	return NULL;
}

static void
cleanup(void)
{
	/* remove everything in new/ and tmp/ (only our own files live there) */
	int fds[2] = { new_fd, tmp_fd };
	for (int k = 0; k < 2; k++) {
		int d = dup(fds[k]);
		if (d < 0)
			die("dup", NULL);
		DIR *dir = fdopendir(d);
		if (dir == NULL)
			die("fdopendir", NULL);
		rewinddir(dir);
		struct dirent *e;
		while ((e = readdir(dir)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (unlinkat(fds[k], e->d_name, 0) < 0 && errno != ENOENT)
				die("unlink", e->d_name);
		}
		closedir(dir);
	}
	fsync(new_fd);
	fsync(tmp_fd);
}

static double
run(unsigned run_id, unsigned nfiles, unsigned nthreads, double *cpu)
{
	pthread_t *tid = calloc(nthreads, sizeof *tid);
	struct job *jobs = calloc(nthreads, sizeof *jobs);
	if (tid == NULL || jobs == NULL)
		die("calloc", NULL);
	unsigned per = nfiles / nthreads, extra = nfiles % nthreads, first = 0;
	for (unsigned t = 0; t < nthreads; t++) {
		jobs[t].run = run_id;
		jobs[t].thread = t;
		jobs[t].first = first;
		jobs[t].count = per + (t < extra ? 1 : 0);
		first += jobs[t].count;
	}
	double t0 = now(), c0 = cpu_now();
	if (nthreads == 1) {
		worker(&jobs[0]);
	} else {
		for (unsigned t = 0; t < nthreads; t++) {
			int e = pthread_create(&tid[t], NULL, worker, &jobs[t]);
			if (e != 0) {
				errno = e;
				die("pthread_create", NULL);
			}
		}
		for (unsigned t = 0; t < nthreads; t++)
			pthread_join(tid[t], NULL);
	}
	double dt = now() - t0;
	*cpu = cpu_now() - c0;
	free(tid);
	free(jobs);
	return dt;
}

static unsigned
num(const char *s, const char *what, unsigned lo, unsigned hi)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi) {
		fprintf(stderr, "raw_fsync: bad %s '%s' (%u..%u)\n", what, s, lo, hi);
		exit(2);
	}
	return (unsigned)v;
}

int
main(int argc, char **argv)
{
	unsigned nfiles = 2000, nthreads = 20;
	int opt;
	while ((opt = getopt(argc, argv, "n:t:s:")) != -1) {
		switch (opt) {
		case 'n': nfiles = num(optarg, "file count", 1, 1000000); break;
		case 't': nthreads = num(optarg, "thread count", 1, 256); break;
		case 's': payload_len = num(optarg, "size", 1, sizeof payload); break;
		default:
			fprintf(stderr, "usage: raw_fsync [-n FILES] [-t THREADS] [-s BYTES] DIR\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: raw_fsync [-n FILES] [-t THREADS] [-s BYTES] DIR\n");
		return 2;
	}
	if (nthreads > nfiles)
		nthreads = nfiles;
	const char *dir = argv[optind];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (i % 78 == 77) ? '\n' : (char)('a' + i % 26);

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		die("mkdir", dir);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		die("open", dir);
	if (mkdirat(dfd, "tmp", 0700) < 0 && errno != EEXIST)
		die("mkdir", "tmp");
	if (mkdirat(dfd, "new", 0700) < 0 && errno != EEXIST)
		die("mkdir", "new");
	tmp_fd = openat(dfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	new_fd = openat(dfd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmp_fd < 0 || new_fd < 0)
		die("open", "tmp/ or new/");
	fsync(dfd);
	cleanup();

	double cpu;
	double dt = run(1, nfiles, 1, &cpu);
	printf("raw_fsync mode=sequential threads=1 files=%u bytes=%zu seconds=%.3f files_per_sec=%.1f "
	    "cpu_s=%.3f cpu_us_per_file=%.1f\n", nfiles, payload_len, dt, nfiles / dt, cpu,
	    cpu * 1e6 / nfiles);
	fflush(stdout);
	cleanup();

	dt = run(2, nfiles, nthreads, &cpu);
	printf("raw_fsync mode=threaded threads=%u files=%u bytes=%zu seconds=%.3f files_per_sec=%.1f "
	    "cpu_s=%.3f cpu_us_per_file=%.1f\n", nthreads, nfiles, payload_len, dt, nfiles / dt, cpu,
	    cpu * 1e6 / nfiles);
	fflush(stdout);
	cleanup();

	close(tmp_fd);
	close(new_fd);
	unlinkat(dfd, "tmp", AT_REMOVEDIR);
	unlinkat(dfd, "new", AT_REMOVEDIR);
	close(dfd);
	return 0;
}

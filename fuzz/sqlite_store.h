/*
 * fuzz/sqlite_store.h - one SQLite store file per fuzz input, for the
 * harnesses of the policy process's stores (fuzz_bans, fuzz_greylist).
 * Include once, after defining FUZZ_STORE_DIR ("/tmp/fuzz_NAME.XXXXXX"):
 * setup_once() makes the directory and the VFS, db_path names the file,
 * write_store() fills it with raw bytes, remove_store() deletes it and its
 * journals.
 */
#ifndef TALON_FUZZ_SQLITE_STORE_H
#define TALON_FUZZ_SQLITE_STORE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

static char dir[] = FUZZ_STORE_DIR;
static char db_path[sizeof dir + 16];

/*
 * SQLite's default VFS with a sync that does nothing.  Durability is not
 * what this harness checks (a process sees its own writes either way), and
 * the fdatasync of every checkpoint and journal made it five times slower
 * on a disk.  Everything else is the platform's VFS on a real file.
 */
static sqlite3_vfs *real_vfs;

/* The unix VFS gives the database and its journals different methods
 * (journals take no locks): a copy without sync for each set seen. */
static struct {
	const sqlite3_io_methods *real;
	sqlite3_io_methods nosync;
} io[4];
static size_t n_io;

static int
nosync(sqlite3_file *f, int flags)
{
	return SQLITE_OK;
}

static const sqlite3_io_methods *
nosync_methods(const sqlite3_io_methods *real)
{
	size_t i = 0;
	while (i < n_io && io[i].real != real)
		i++;
	if (i == n_io) {
		if (n_io == sizeof io / sizeof io[0])
			return real;	/* more kinds than expected: keep the sync */
		io[n_io].real = real;
		io[n_io].nosync = *real;
		io[n_io].nosync.xSync = nosync;
		n_io++;
	}
	return &io[i].nosync;
}

/* The real open, then the file's methods swapped for a copy without sync. */
static int
nosync_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	int rc = real_vfs->xOpen(real_vfs, name, f, flags, out);
	if (rc == SQLITE_OK && f->pMethods != NULL)
		f->pMethods = nosync_methods(f->pMethods);
	return rc;
}

static void
remove_dir(void)
{
	rmdir(dir);
}

/* Once per process: the VFS, made the default, and the directory. */
static void
setup_once(void)
{
	static sqlite3_vfs vfs;
	if (db_path[0] != '\0')
		return;
	real_vfs = sqlite3_vfs_find(NULL);
	if (real_vfs == NULL)
		abort();
	vfs = *real_vfs;
	vfs.zName = "fuzz-nosync";
	vfs.xOpen = nosync_open;
	if (sqlite3_vfs_register(&vfs, 1) != SQLITE_OK)
		abort();
	if (mkdtemp(dir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	snprintf(db_path, sizeof db_path, "%s/store.db", dir);
	atexit(remove_dir);
}

static void
remove_store(void)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	char p[sizeof db_path + 16];
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		snprintf(p, sizeof p, "%s%s", db_path, ext[i]);
		unlink(p);
	}
}

static void
write_store(const uint8_t *data, size_t size)
{
	FILE *f = fopen(db_path, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		perror("fuzz: writing the store");
		abort();
	}
}

#endif

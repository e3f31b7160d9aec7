/*
 * daemon/role.h - the role table: every kind of child process is one row
 * (its user, the directories and sockets it gets, chroot, peers, restart
 * and reload behaviour), and one spawn function serves every row.
 * Runs in: parent.
 */
#ifndef TALON_ROLE_H
#define TALON_ROLE_H

#include <stdbool.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "core/buf.h"
#include "mail/users.h"
#include "proto/proto.h"

struct conf;
struct loop;

/* Everything loaded from the config, swapped as a whole on reload. */
/* A zone as the dns process gets it: its record stream in a sealed memfd
 * (dns/zone.h), kept by the parent for restarts of the dns process. */
struct gen_zone {
	char *origin;		/* text, as configured */
	int memfd;
	uint64_t len;
	uint32_t serial;
	size_t records;
	uint8_t digest[32];
	uint64_t jlen;		/* the IXFR journal, after the stream in the memfd */
	struct buf journal;	/* the same, kept for the next reload */
};

struct gen {
	struct conf *conf;
	struct gen_zone *zones;	/* the zones that load (or their last good version) */
	size_t n_zones;
	struct users users;	/* names only: hashes wiped */
	struct aliases aliases;
	SSL_CTX *tls;		/* NULL when no listener uses TLS */
	unsigned id;
};

/* What the parent opened for its children, fixed for its lifetime. */
struct role_env {
	bool is_root;
	uid_t uid[ROLE_COUNT];
	gid_t gid[ROLE_COUNT];
	int spool_fd, store_fd;
	const char *jail;	/* empty root-owned directory, or NULL */
};

void roles_init(struct loop *l, const struct role_env *env, const struct gen *g);
/* Start every row (deliver, queue, policy, then the smtp workers). */
void roles_start(void);
/* The new generation: in-place roles get their settings, replaced roles
 * (smtp) drain and new ones start. */
void roles_reload(const struct gen *g);
/* SIGCHLD: log, restart, and during a stop send STOP in order. */
void roles_reap(void);
/* Begin an orderly stop: smtp first, then queue and policy, then deliver. */
void roles_stop(uint32_t grace);
/* Kill what is still running (the stop's deadline passed). */
void roles_kill_all(void);
bool roles_none_left(void);
/* A status report: one line per child, or a JSON object. */
void roles_status(struct buf *out, bool json);
/* Name, default user and config key of the user of a role. */
const char *role_user_name(const struct conf *cf, unsigned role);
/* Send a `ban ...` line to the policy process; its answer goes to
 * control_finish(token).  -1 when no policy process runs. */
int roles_policy_ctl(uint64_t token, const char *line);

#endif

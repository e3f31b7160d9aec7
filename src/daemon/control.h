/*
 * daemon/control.h - the control socket: `talon reload`, `talon status`
 * and the commands later issues add.
 *
 * Protocol (a unix stream socket): the client sends one line, the command
 * and its arguments separated by single spaces, at most CONTROL_LINE_MAX
 * bytes; the server answers "ok" or "error: TEXT" on the first line, then
 * the body, and closes.  Who may ask is decided by SO_PEERCRED when the
 * connection is accepted: root, the daemon's own user, and members of
 * admin-group; anyone else gets "error: permission denied".
 * Runs in: parent.
 */
#ifndef TALON_CONTROL_H
#define TALON_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

struct loop;

#define CONTROL_LINE_MAX 512

/* Runs a command (argv split on spaces); writes the body into out and
 * returns 0, or -1 with the error text in out; or CONTROL_DEFER when
 * another process answers: control_finish(token, ...) then replies (a
 * caller that waits longer than the connection's deadline is closed, and
 * the late answer is dropped). */
#define CONTROL_DEFER	1
typedef int (*control_fn)(int argc, char **argv, struct buf *out, uint64_t token);
void control_finish(uint64_t token, int ok, const char *body, size_t len);

/* Bind path (refusing when another daemon answers there).  admin_gid < 0:
 * no admin group.  -1 with err on failure. */
int control_open(struct loop *l, const char *path, long admin_gid, control_fn fn,
    char *err, size_t errlen);
void control_close(void);

#endif

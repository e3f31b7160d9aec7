/*
 * cli/cli.h - subcommands of the talon program.
 */
#ifndef TALON_CLI_H
#define TALON_CLI_H

#include <stdbool.h>

int cmd_config_check(const char *conf_path);
/* Send one request to the running daemon's control socket, print the
 * answer.  0 ok, 1 error reply, 2 daemon not reachable. */
int cmd_control(const char *conf_path, const char *request);
struct buf;
/* The daemon's reply to request in b; 0, or 2 (said on stderr unless quiet). */
int control_request(const char *conf_path, const char *request, struct buf *b, bool quiet);
/* `talon zone ...` with the arguments after "zone": 0 no errors, 1
 * errors in the zone, 2 usage. */
int cmd_zone(const char *conf_path, int argc, char **argv);

#endif

/*
 * cli/cli.h - subcommands of the talon program.
 */
#ifndef TALON_CLI_H
#define TALON_CLI_H

int cmd_config_check(const char *conf_path);
/* Send one request to the running daemon's control socket, print the
 * answer.  0 ok, 1 error reply, 2 daemon not reachable. */
int cmd_control(const char *conf_path, const char *request);

#endif

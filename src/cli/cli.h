/*
 * cli/cli.h - subcommands of the talon program.
 */
#ifndef TALON_CLI_H
#define TALON_CLI_H

int cmd_config_check(const char *conf_path);

#endif

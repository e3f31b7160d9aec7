/*
 * cli/main.c - the talon program: global options and subcommands.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/parent.h"

#define DEFAULT_CONF "/etc/talon/talon.conf"
#define TALON_VERSION "0.1.0"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: talon [-c FILE] COMMAND [ARGS]\n"
	    "\n"
	    "  -c FILE          configuration file (default " DEFAULT_CONF ")\n"
	    "\n"
	    "commands:\n"
	    "  serve [-d]       run the mail server in the foreground (-d: debug log)\n"
	    "  config check     validate the configuration and every file it names\n"
	    "  reload           make the running daemon load its configuration again\n"
	    "  status [--json]  each process of the running daemon: pid, user, uptime,\n"
	    "                   restarts, config generation\n"
	    "  zone check FILE [--origin NAME] [-v]\n"
	    "                   check a zone file (DNS and mail records)\n"
	    "  dkim keygen|sign|verify ...  DKIM keys, signing, verification\n"
	    "  access test KEY [--tag Connect|From|To|Spam] | access check [FILE]\n"
	    "                   which access-map line matches KEY; check the map\n"
	    "  user add|passwd|del NAME [--password-file FILE] | user list\n"
	    "                   accounts in the users file (password from stdin)\n"
	    "  ban list | ban add PREFIX [TIME] [REASON] | ban del PREFIX\n"
	    "                   the running daemon's ban table\n"
	    "  firewall export --nft  the listener ACLs as nftables rules\n"
	    "  resolve NAME [TYPE]  ask the configured resolver (A AAAA MX TXT PTR TLSA)\n"
	    "  spf IP SENDER [HELO]  evaluate SPF and show every lookup behind it\n"
	    "  dmarc [--ip IP --mail-from ADDR [--helo NAME]] [FILE]\n"
	    "                   DKIM, SPF and DMARC of a message, as the daemon decides\n"
	    "  version          print the version\n"
	    "\n"
	    "reload, status and ban use the control socket named in the config (SIGHUP\n"
	    "reloads too); SIGTERM stops the daemon.\n");
}

int
main(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF;
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "talon: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[i++];
	/* also accept -c after the command (talon serve -c FILE), as admins
	 * type it either way */
	for (int k = i; k + 1 < argc; k++) {
		if (strcmp(argv[k], "-c") == 0) {
			conf = argv[k + 1];
			for (int m = k; m + 2 <= argc; m++)
				argv[m] = argv[m + 2];
			argc -= 2;
			break;
		}
	}
	if (strcmp(cmd, "serve") == 0) {
		bool debug = false;
		for (; i < argc; i++) {
			if (strcmp(argv[i], "-d") == 0)
				debug = true;
			else if (strcmp(argv[i], "--help") == 0) {
				printf("usage: talon [-c FILE] serve [-d]\n"
				    "Run the daemon in the foreground, logging to stderr.\n");
				return 0;
			} else {
				fprintf(stderr, "talon serve: unknown argument %s\n", argv[i]);
				return 2;
			}
		}
		return talon_serve(conf, debug);
	}
	if (strcmp(cmd, "config") == 0) {
		if (i < argc && strcmp(argv[i], "check") == 0)
			return cmd_config_check(conf);
		if (i < argc && strcmp(argv[i], "--help") == 0) {
			printf("usage: talon [-c FILE] config check\n"
			    "Validate the configuration and every file it names; errors name file:line.\n");
			return 0;
		}
		fprintf(stderr, "usage: talon [-c FILE] config check\n");
		return 2;
	}
	if (strcmp(cmd, "reload") == 0) {
		if (i < argc && strcmp(argv[i], "--help") == 0) {
			printf("usage: talon [-c FILE] reload\n"
			    "Load the configuration, users, aliases and certificate again in every\n"
			    "process of the running daemon.  A configuration with errors is refused\n"
			    "(with file:line) and the running one stays in force.\n");
			return 0;
		}
		if (i < argc) {
			fprintf(stderr, "usage: talon [-c FILE] reload\n");
			return 2;
		}
		return cmd_control(conf, "reload");
	}
	if (strcmp(cmd, "status") == 0) {
		if (i < argc && strcmp(argv[i], "--help") == 0) {
			printf("usage: talon [-c FILE] status [--json]\n"
			    "Show each process of the running daemon: role, worker, pid, user,\n"
			    "uptime (s), restarts, config generation and state.\n");
			return 0;
		}
		if (i == argc)
			return cmd_control(conf, "status");
		if (i + 1 == argc && strcmp(argv[i], "--json") == 0)
			return cmd_control(conf, "status --json");
		fprintf(stderr, "usage: talon [-c FILE] status [--json]\n");
		return 2;
	}
	if (strcmp(cmd, "zone") == 0)
		return cmd_zone(conf, argc - i, argv + i);
	if (strcmp(cmd, "dkim") == 0)
		return cmd_dkim(conf, argc - i, argv + i);
	if (strcmp(cmd, "ban") == 0)
		return cmd_ban(conf, argc - i, argv + i);
	if (strcmp(cmd, "firewall") == 0)
		return cmd_firewall(conf, argc - i, argv + i);
	if (strcmp(cmd, "access") == 0)
		return cmd_access(conf, argc - i, argv + i);
	if (strcmp(cmd, "user") == 0)
		return cmd_user(conf, argc - i, argv + i);
	if (strcmp(cmd, "resolve") == 0)
		return cmd_resolve(conf, argc - i, argv + i);
	if (strcmp(cmd, "spf") == 0)
		return cmd_spf(conf, argc - i, argv + i);
	if (strcmp(cmd, "dmarc") == 0)
		return cmd_dmarc(conf, argc - i, argv + i);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("talon %s\n", TALON_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "talon: unknown command %s\n", cmd);
	usage(stderr);
	return 2;
}

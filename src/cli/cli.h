/*
 * cli/cli.h - subcommands of the talon program.
 */
#ifndef TALON_CLI_H
#define TALON_CLI_H

#include <stdbool.h>
#include <stdio.h>

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

/* `talon dkim keygen|sign|verify ...`: 0 ok / all pass, 1 not, 2 usage. */
int cmd_dkim(const char *conf_path, int argc, char **argv);
/* The whole of FILE (stdin for NULL or "-") into b (its max bounds it);
 * -1 said on stderr. */
int cli_read_all(const char *path, struct buf *b);
/* `talon dmarc [--ip IP --mail-from ADDR [--helo NAME]] [FILE]` */
int cmd_dmarc(const char *conf_path, int argc, char **argv);
/* cli/access.c: `talon access test KEY [--tag TAG]`, `talon access check
 * [FILE]`: 0 match / no errors, 1 no match / errors, 2 usage. */
int cmd_access(const char *conf_path, int argc, char **argv);
/* cli/user.c: `talon user add|passwd|del NAME`, `talon user list`: 0 done,
 * 1 refused, 2 usage. */
int cmd_user(const char *conf_path, int argc, char **argv);
int cmd_ban(const char *conf_path, int argc, char **argv);
int cmd_firewall(const char *conf_path, int argc, char **argv);
/* cli/msgauth.c: `talon resolve NAME [TYPE]`, `talon spf IP SENDER [HELO]` */
int cmd_resolve(const char *conf_path, int argc, char **argv);
int cmd_spf(const char *conf_path, int argc, char **argv);
struct conf;
struct resolver;
struct lookup;
struct lookup_rr;
/* The configuration at conf_path and a resolver for it (sync use), or
 * NULL after printing why. */
struct resolver *cli_resolver(const char *conf_path, struct conf **cp);
void cli_print_lookup(FILE *f, const struct lookup *l);
struct buf;
struct mhdrs;
struct dkim_verify;
/* The DKIM signatures of msg checked as the smtp worker checks them, the
 * keys asked through *rp (opened from conf_path, into *rp and *cp, when a
 * signature needs a key and *rp is NULL; without one every key lookup is
 * a temporary failure).  h is initialised here; the caller frees h and the
 * result. */
struct dkim_verify *cli_dkim_check(const char *conf_path, const struct buf *msg,
    struct mhdrs *h, struct resolver **rp, struct conf **cp);
void cli_print_rr(FILE *f, const struct lookup *l, const struct lookup_rr *rr);
#endif

/*
 * cli/access.c - `talon access test KEY [--tag TAG]` and `talon access
 * check [FILE]`.
 *
 * test:  loads the map the config names (the `access` directive) with the
 *        parser the daemon uses, looks KEY up as the daemon would for TAG
 *        and prints "FILE:LINE: KEY ACTION" and what the daemon does with
 *        it, or "no match".  Exit 0 on a match, 1 on none, 2 on usage
 *        errors or a map that does not load.
 * check: parses FILE (default: the configured map) and prints every
 *        problem as "FILE:LINE: [warning: ]text", then the entry count.
 *        Exit 0 without errors, 1 with errors, 2 on usage errors.
 *
 * Input:   the command line, the config and the map.  Trusts: nothing in
 *          them.  Runs in: CLI, as whoever runs it.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/util.h"
#include "mail/conf.h"
#include "policy/access.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: talon [-c FILE] access test KEY [--tag Connect|From|To|Spam]\n"
	    "       talon [-c FILE] access check [MAP]\n"
	    "test: look KEY up in the configured access map as the daemon would and\n"
	    "print the matching line (FILE:LINE: KEY ACTION) and the daemon's answer.\n"
	    "Without --tag: an IP address is Connect:, a key with @ is From:, anything\n"
	    "else a host name for Connect:.  Exit 0 on a match, 1 on none, 2 on errors.\n"
	    "check: parse MAP (default: the configured one), print its problems as\n"
	    "FILE:LINE and the number of entries.  Exit 0 without errors, 1 with.\n");
}

/* The map file the config names; NULL after saying why. */
static char *
configured_map(const char *conf_path)
{
	struct diag d;
	diag_init(&d);
	struct conf *c = conf_load(conf_path, &d);
	char *path = NULL;
	if (c == NULL || d.n_err > 0)
		fprintf(stderr, "%stalon access: %s has errors (see talon config check)\n",
		    diag_text(&d), conf_path);
	else if (c->access == NULL)
		fprintf(stderr, "talon access: %s names no access map (directive "
		    "\"access PATH\")\n", conf_path);
	else
		path = xstrdup(c->access);
	conf_free(&c);
	diag_free(&d);
	return path;
}

/* A key with an IP address's shape: digits, dots, colons, hex, brackets,
 * an IPv6: prefix.  Good enough to guess a tag; the lookup decides. */
static bool
looks_like_ip(const char *k)
{
	if (k[0] == '[')
		k++;
	if (strnlen(k, 5) == 5 && ascii_memcaseeq(k, "ipv6:", 5))
		return true;
	bool colon = strchr(k, ':') != NULL, digit = false;
	for (const char *p = k; *p && *p != ']'; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (*p == '.' || *p == ':')
			continue;
		else if (!(colon && strchr("abcdefABCDEF", *p)))
			return false;
	}
	return digit || colon;
}

/* What the daemon does with r at tag, in words. */
static void
print_effect(enum access_tag tag, const struct access_result *r)
{
	switch (r->action) {
	case ACCESS_OK:
		printf("%s: accepted%s%s\n", access_tag_name(tag), tag == ACCESS_FROM ?
		    ": an SPF fail does not refuse it (SPF is still checked and reported)" : "",
		    r->written == ACCESS_RELAY ? " (RELAY counts as OK for a sender)" : "");
		break;
	case ACCESS_RELAY:
		/* relaying needs outbound delivery, which does not exist yet */
		printf("%s: accepted (RELAY: relaying comes with outbound delivery; until then "
		    "it counts as OK)\n", access_tag_name(tag));
		break;
	case ACCESS_REJECT:
	case ACCESS_ERROR:
		/* the daemon refuses a connection with 554 (RFC 5321 3.1) */
		printf("%s: reply %u %s %s%s\n", access_tag_name(tag),
		    tag == ACCESS_CONNECT && r->action == ACCESS_REJECT ? 554 : r->code, r->esc,
		    r->text, r->code / 100 == 4 ? " (temporary)" : "");
		break;
	case ACCESS_DISCARD:
		printf("%s: accepted to the end of DATA, then the message is dropped silently\n",
		    access_tag_name(tag));
		break;
	case ACCESS_SKIP:
		printf("%s: no opinion (SKIP ends the lookup; the default applies)\n",
		    access_tag_name(tag));
		break;
	case ACCESS_FRIEND:
		printf("Spam: recipient exempt from blocklist refusals and greylisting\n");
		break;
	case ACCESS_HATER:
		printf("Spam: recipient gets every spam check (the default)\n");
		break;
	case ACCESS_NONE:
		break;
	}
}

/* The action as the line has it. */
static void
print_action(const struct access_result *r)
{
	if (r->written == ACCESS_ERROR)
		printf("ERROR:%s:%u %s\n", r->esc, r->code, r->text);
	else
		printf("%s\n", access_action_name(r->written));
}

static int
do_test(const char *conf_path, int argc, char **argv)
{
	const char *key = NULL, *tagname = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--tag") == 0 && i + 1 < argc)
			tagname = argv[++i];
		else if (strcmp(argv[i], "--help") == 0)
			return (usage(stdout), 0);
		else if (key == NULL && (argv[i][0] != '-' || argv[i][1] == '\0'))
			key = argv[i];
		else
			return (usage(stderr), 2);
	}
	enum access_tag tag;
	if (key == NULL)
		return (usage(stderr), 2);
	if (tagname != NULL) {
		/* "From:" as written in the map works too */
		char t[16];
		size_t n = strlen(tagname);
		if (n > 0 && tagname[n - 1] == ':')
			n--;
		bool known = n < sizeof t;
		if (known) {
			memcpy(t, tagname, n);
			t[n] = '\0';
			known = access_tag_parse(t, &tag);
		}
		if (!known) {
			fprintf(stderr, "talon access test: unknown tag %s (expected Connect, "
			    "From, To or Spam)\n", tagname);
			return 2;
		}
	} else if (looks_like_ip(key)) {
		tag = ACCESS_CONNECT;
	} else {
		tag = strchr(key, '@') ? ACCESS_FROM : ACCESS_CONNECT;
	}
	char *path = configured_map(conf_path);
	if (path == NULL)
		return 2;
	struct diag d;
	diag_init(&d);
	struct access_map *m = access_load(path, &d);
	fputs(diag_text(&d), stderr);
	int rc = 2;
	if (m == NULL) {
		fprintf(stderr, "talon access: %s does not load (%u error(s))\n", path, d.n_err);
	} else {
		struct access_result r;
		if (access_test(m, tag, key, &r)) {
			printf("%s:%u: %s ", r.file, r.line, r.key);
			print_action(&r);
			print_effect(tag, &r);
			rc = 0;
		} else {
			printf("no match (%s: %s)\n", access_tag_name(tag), key);
			rc = 1;
		}
	}
	access_free(&m);
	diag_free(&d);
	free(path);
	return rc;
}

static int
do_check(const char *conf_path, int argc, char **argv)
{
	if (argc > 1 || (argc == 1 && strcmp(argv[0], "--help") == 0)) {
		usage(argc == 1 ? stdout : stderr);
		return argc == 1 ? 0 : 2;
	}
	char *path = argc == 1 ? xstrdup(argv[0]) : configured_map(conf_path);
	if (path == NULL)
		return 2;
	struct diag d;
	diag_init(&d);
	struct access_map *m = access_load(path, &d);
	fputs(diag_text(&d), stdout);
	if (m != NULL)
		printf("%s: %zu entries, %u warning(s)\n", path, access_count(m), d.n_warn);
	else
		printf("%s: %u error(s), %u warning(s): the map does not load (a running daemon "
		    "keeps its old one)\n", path, d.n_err, d.n_warn);
	int rc = m == NULL ? 1 : 0;
	access_free(&m);
	diag_free(&d);
	free(path);
	return rc;
}

int
cmd_access(const char *conf_path, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "test") == 0)
		return do_test(conf_path, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "check") == 0)
		return do_check(conf_path, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "--help") == 0)
		return (usage(stdout), 0);
	usage(stderr);
	return 2;
}

/*
 * cli/check.c - `talon config check`: validate talon.conf and every file
 * it names, with exactly the parsers `talon serve` uses.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/conf.h"
#include "core/diag.h"
#include "core/tls.h"
#include "core/util.h"
#include "mail/users.h"
#include "policy/access.h"

static void
check_dir(struct diag *d, const struct conf *c, const char *what, const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			diag_err(d, c->file, 0, "%s %s is not a directory", what, path);
		return;
	}
	/* missing is fine if serve can create it: its parent must exist */
	char *dup = xstrdup(path);
	char *slash = strrchr(dup, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (stat(dup[0] ? dup : "/", &st) < 0 || !S_ISDIR(st.st_mode))
			diag_err(d, c->file, 0, "%s %s: parent directory %s does not exist", what,
			    path, dup[0] ? dup : "/");
	}
	free(dup);
}

int
cmd_config_check(const char *conf_path)
{
	struct diag d;
	struct users u = { 0 };
	struct aliases a = { 0 };
	struct access_map *am = NULL;
	diag_init(&d);
	struct conf *c = conf_load(conf_path, &d);
	if (c != NULL && d.n_err == 0) {
		users_load(c->users, &u, &d);
		aliases_load(c->aliases, &a, &d);
		if (d.n_err == 0)
			aliases_check(&a, &u, (const char *const *)c->domains, c->n_domains,
			    c->aliases, &d);
		/* the daemon's own parser; its problems are file:line of the map */
		if (c->access != NULL)
			am = access_load(c->access, &d);
		check_dir(&d, c, "store", c->store);
		check_dir(&d, c, "spool", c->spool);
		check_dir(&d, c, "state", c->state);
		bool need_tls = false;
		for (size_t i = 0; i < c->n_listens; i++)
			if (c->listens[i].tls != CONF_TLS_NONE)
				need_tls = true;
		if (need_tls && c->tls_cert && c->tls_key) {
			char err[512];
			SSL_CTX *ctx = tls_server_ctx(c->tls_cert, c->tls_key, err, sizeof err);
			if (ctx == NULL)
				diag_err(&d, c->file, 0, "%s", err);
			else
				SSL_CTX_free(ctx);
		}
	}
	fputs(diag_text(&d), stderr);
	int rc = d.n_err ? 1 : 0;
	if (rc == 0 && am != NULL)
		printf("%s: OK (%zu users, %zu aliases, %zu listeners); access map %s: %zu "
		    "entries\n", conf_path, u.n, a.n, c->n_listens, c->access, access_count(am));
	else if (rc == 0)
		printf("%s: OK (%zu users, %zu aliases, %zu listeners)\n", conf_path,
		    u.n, a.n, c ? c->n_listens : (size_t)0);
	else
		fprintf(stderr, "%s: %u error(s)\n", conf_path, d.n_err);
	users_free(&u);
	aliases_free(&a);
	access_free(&am);
	conf_free(&c);
	diag_free(&d);
	return rc;
}

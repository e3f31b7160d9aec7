/*
 * fuzz/fuzz_conf.c - libFuzzer harness for mail/conf.c (talon.conf) and the
 * config engine under it (core/cfg.c, core/afile.c).
 *
 * Input:   arbitrary bytes, parsed as a config file.
 * Checks:  conf_parse never fails to return a conf; every diagnostic line
 *          names the file; a config without errors has every required
 *          directive, a hostname and lowercased local domains that pass the
 *          one domain check (mail/domain.h) and that conf_is_local_domain
 *          finds in any case, listeners whose address family, length and
 *          text agree (sockaddr_text), TLS material when a listener needs
 *          it, absolute and clean paths, and limits within their documented
 *          ranges.  No leaks (LeakSanitizer).
 * Seeds:   fuzz/corpus/conf/, dictionary fuzz/conf.dict.
 */
#include <assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/conf.h"
#include "core/diag.h"
#include "core/sockaddr.h"
#include "core/util.h"
#include "mail/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_NAME "/etc/talon/talon.conf"

static void
check_path(const char *p)
{
	if (p == NULL)
		return;
	assert(p[0] == '/');
	assert(strstr(p, "//") == NULL);
	assert(strstr(p, "/./") == NULL);
	size_t n = strlen(p);
	assert(n == 1 || p[n - 1] != '/');
	assert(n < 2 || strcmp(p + n - 2, "/.") != 0);
}

static void
check_clean(const struct conf *c)
{
	assert(c->hostname != NULL && c->hostname[0] != '\0');
	assert(domain_valid(c->hostname, strlen(c->hostname), DOMAIN_HOSTNAME));
	assert(c->n_domains >= 1 && c->n_listens >= 1);
	assert(c->store && c->spool && c->state && c->users && c->aliases);
	for (size_t i = 0; i < c->n_domains; i++) {
		assert(domain_valid(c->domains[i], strlen(c->domains[i]), DOMAIN_HOSTNAME));
		char *up = xstrdup(c->domains[i]);
		for (char *q = up; *q; q++) {
			assert(!(*q >= 'A' && *q <= 'Z'));
			if (*q >= 'a' && *q <= 'z')
				*q = (char)(*q - 'a' + 'A');
		}
		assert(conf_is_local_domain(c, up));
		for (size_t j = 0; j < i; j++)
			assert(strcmp(c->domains[i], c->domains[j]) != 0);
		free(up);
	}
	for (size_t i = 0; i < c->n_listens; i++) {
		const struct conf_listen *l = &c->listens[i];
		assert(l->kind == CONF_LISTEN_SMTP);
		assert(memchr(l->text, '\0', sizeof l->text) != NULL && l->text[0] != '\0');
		char text[SOCKADDR_TEXT_MAX];
		sockaddr_text(&l->addr, l->addrlen, text);
		assert(strcmp(text, l->text) == 0);
		if (l->addr.ss_family == AF_INET) {
			assert(l->addrlen == sizeof(struct sockaddr_in));
			assert(((const struct sockaddr_in *)&l->addr)->sin_port != 0);
		} else {
			assert(l->addr.ss_family == AF_INET6);
			assert(l->addrlen == sizeof(struct sockaddr_in6));
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l->addr;
			assert(sin6->sin6_port != 0);
			/* a v4-mapped address reads as IPv4 */
			assert((l->text[0] == '[') == !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr));
		}
		if (l->tls != CONF_TLS_NONE)
			assert(c->tls_cert != NULL && c->tls_key != NULL);
		for (size_t j = 0; j < i; j++)
			assert(strcmp(l->text, c->listens[j].text) != 0);
	}
	assert((c->tls_cert == NULL) == (c->tls_key == NULL));
	assert(c->workers >= 1 && c->workers <= 64);
	assert(c->max_message_size >= 1);
	assert(c->max_rcpts >= 1 && c->max_rcpts <= 100000);
	assert(c->max_conns >= 1 && c->max_conns <= 1000000);
	assert(c->max_conns_per_ip >= 1 && c->max_conns_per_ip <= 1000000);
	assert(c->cmd_timeout >= 1 && c->cmd_timeout <= 86400);
	assert(c->data_timeout >= 1 && c->data_timeout <= 86400);
	assert(c->max_errors >= 1 && c->max_errors <= 1000000);
	assert(c->shutdown_grace <= 3600);
	assert(c->log_stderr || c->log_syslog);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	diag_init(&d);
	struct conf *c = conf_parse((const char *)data, size, FILE_NAME, &d);
	assert(c != NULL);
	assert(strcmp(c->file, FILE_NAME) == 0);
	if (d.n_err == 0)
		check_clean(c);
	check_path(c->tls_cert);
	check_path(c->tls_key);
	check_path(c->store);
	check_path(c->spool);
	check_path(c->state);
	check_path(c->users);
	check_path(c->aliases);
	check_path(c->control);
	assert(!conf_is_local_domain(c, NULL));

	/* every message is "file:line: ..." or "file: ..." on one line */
	const char *t = diag_text(&d);
	assert((t[0] == '\0') == (d.n_err + d.n_warn == 0));
	while (*t) {
		assert(strncmp(t, FILE_NAME, strlen(FILE_NAME)) == 0);
		assert(t[strlen(FILE_NAME)] == ':');
		const char *nl = strchr(t, '\n');
		assert(nl != NULL);
		t = nl + 1;
	}
	conf_free(&c);
	assert(c == NULL);
	diag_free(&d);
	return 0;
}

/*
 * mail/conf.c - the talon.conf schema (grammar in conf.h): struct conf, its
 * directive table and handlers, defaults, and the checks over the whole
 * file.
 *
 * Input:   the config text, any bytes, not NUL-terminated.  Reading the
 *          file, splitting lines and tokens, "given twice", argument
 *          counts, numbers, sizes, paths and system user names are the
 *          config engine's (core/cfg.c over core/afile.c); this file says
 *          which directives exist and what their values mean.
 * Output:  struct conf owned by the caller (conf_free): absolute paths,
 *          lowercased domains, parsed listen addresses.  Every problem goes
 *          to the diag as "file:line: what was found (what was expected)";
 *          parsing goes on after an error so one run shows them all, up to
 *          AFILE_ERRORS_MAX.
 * Trusts:  nothing in the text.  Runs in: parent and CLI.
 * Not here: whether the named files and directories exist or are readable,
 *          whether run-as/queue-user/deliver-user exist (callers check both).
 */
#include "mail/conf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/afile.h"
#include "core/cfg.h"
#include "core/util.h"
#include "dns/tsig.h"
#include "mail/domain.h"
#include "policy/bans.h"

#define CONF_FILE_MAX	(1u << 20)	/* a config larger than this is a mistake */
#define SUN_PATH_MAX	107		/* sizeof(sockaddr_un.sun_path) - 1 */

static const struct limit_def {
	const char *name;	/* first: cfg_unknown lists the names */
	size_t off;		/* unsigned field of struct conf, or uint64_t for sizes */
	uint64_t min, max;	/* not for sizes: at least 1 byte */
	bool is_size;		/* BYTES with k/m/g */
} limit_defs[] = {
	{ "message-size", offsetof(struct conf, max_message_size), 1, UINT64_MAX, true },
	{ "recipients", offsetof(struct conf, max_rcpts), 1, 100000, false },
	{ "connections", offsetof(struct conf, max_conns), 1, 1000000, false },
	{ "connections-per-ip", offsetof(struct conf, max_conns_per_ip), 1, 1000000, false },
	{ "command-timeout", offsetof(struct conf, cmd_timeout), 1, 86400, false },
	{ "data-timeout", offsetof(struct conf, data_timeout), 1, 86400, false },
	{ "errors", offsetof(struct conf, max_errors), 1, 1000000, false },
	{ "shutdown-grace", offsetof(struct conf, shutdown_grace), 0, 3600, false },
	{ "ipv6-client-prefix", offsetof(struct conf, ipv6_client_prefix), 1, 128, false },
	{ "session-time", offsetof(struct conf, session_time), 1, 86400, false },
	{ "junk-commands", offsetof(struct conf, max_junk), 1, 1000000, false },
	{ "tls-handshake-timeout", offsetof(struct conf, tls_timeout), 1, 3600, false },
	{ "queue-lifetime", offsetof(struct conf, queue_lifetime), 1, 5184000, false },
	{ "dns-responses", offsetof(struct conf, dns_rate), 0, 1000000, false },
	{ "resolver-timeout", offsetof(struct conf, resolver_timeout), 1, 120, false },
	{ "greet-pause", offsetof(struct conf, greet_pause), 0, 60000, false },
	{ "greylist-delay", offsetof(struct conf, grey_delay), 1, 86400, false },
	{ "greylist-window", offsetof(struct conf, grey_window), 60, 30 * 86400, false },
	{ "greylist-keep", offsetof(struct conf, grey_keep), 3600, 365 * 86400, false },
	{ "greylist-auto-allow", offsetof(struct conf, grey_auto_allow), 0, 1000000, false },
	{ "greylist-ipv4-prefix", offsetof(struct conf, grey_v4_prefix), 8, 32, false },
	{ "greylist-ipv6-prefix", offsetof(struct conf, grey_v6_prefix), 16, 128, false },
	{ "ban-threshold", offsetof(struct conf, ban_threshold), 1, 1000000, false },
	{ "ban-window", offsetof(struct conf, ban_window), 60, 365 * 86400, false },
	{ "ban-time", offsetof(struct conf, ban_time), 1, 365 * 86400, false },
	{ "ban-time-max", offsetof(struct conf, ban_time_max), 1, 10 * 365 * 86400, false },
	{ "connection-rate", offsetof(struct conf, conn_rate), 0, 1000000, false },
	{ "messages-per-connection", offsetof(struct conf, max_msgs), 0, 1000000, false },
	{ "imap-autologout", offsetof(struct conf, imap_autologout), 1, 86400, false },
	{ "imap-connections-per-user", offsetof(struct conf, imap_user_conns), 1, 1000, false },
	{ "mailbox-quota", offsetof(struct conf, quota_bytes), 1, UINT64_MAX, true },
};
_Static_assert(offsetof(struct limit_def, name) == 0, "cfg_unknown needs the name first");

enum { LIMIT_PER_IP = 3 };	/* index of connections-per-ip above */

/* What the handlers share besides struct conf (the engine's destination). */
struct pctx {
	struct cfg g;
	unsigned first_limit[NELEM(limit_defs)];	/* line each limit was given */
};

static struct conf *
conf_of(struct cfg *g)
{
	return g->dst;
}

/* hostname and domain: one wording for a bad name */
static bool
check_name(struct cfg *g, const char *what, const char *s)
{
	char e[AFILE_TOKEN_MAX];
	if (domain_valid(s, strlen(s), DOMAIN_HOSTNAME))
		return true;
	log_escape(e, sizeof e, s, strlen(s));
	cfg_err(g, "%s: \"%s\" is not a valid domain name (expected labels of letters, "
	    "digits and hyphens, at most 63 bytes each and 253 in all)", what, e);
	return false;
}

static void
do_hostname(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	if (!check_name(g, "hostname", av[0]))
		return;
	/* the host name is part of every Maildir file name, which must stay
	 * under NAME_MAX (255) with its other parts at their longest and a
	 * reader's ":2,FLAGS" added; a longer one would defer mail for ever */
	if (strlen(av[0]) > CONF_HOSTNAME_MAX) {
		cfg_err(g, "hostname: %zu bytes is too long (expected at most %d, so that "
		    "Maildir file names fit in 255 bytes)", strlen(av[0]), CONF_HOSTNAME_MAX);
		return;
	}
	conf_of(g)->hostname = xstrdup(av[0]);
}

static void
do_domain(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	char e[AFILE_TOKEN_MAX];
	for (unsigned i = 0; i < ac; i++) {
		if (!check_name(g, "domain", av[i]))
			continue;
		if (conf_is_local_domain(c, av[i])) {
			log_escape(e, sizeof e, av[i], strlen(av[i]));
			cfg_warn(g, "domain: %s is listed twice", e);
			continue;
		}
		c->domains = xreallocarray(c->domains, c->n_domains + 1, sizeof *c->domains);
		c->domains[c->n_domains] = xstrdup(av[i]);
		ascii_strlower(c->domains[c->n_domains]);
		c->n_domains++;
	}
}

/* Address prefixes appended to *list; false (with the error said) at the
 * first that does not parse. */
static bool
parse_prefixes(struct cfg *g, const char *what, char **av, unsigned ac, struct prefix **list,
    size_t *n)
{
	char e[AFILE_TOKEN_MAX];
	for (unsigned i = 0; i < ac; i++) {
		struct prefix p;
		if (!prefix_parse(av[i], &p)) {
			log_escape(e, sizeof e, av[i], strlen(av[i]));
			cfg_err(g, "%s: \"%s\" is not an address or prefix (expected e.g. "
			    "192.0.2.1, 198.51.100.0/24 or 2001:db8::/32, host bits zero)", what, e);
			return false;
		}
		*list = xreallocarray(*list, *n + 1, sizeof **list);
		(*list)[(*n)++] = p;
	}
	return true;
}

/* ADDR:PORT with ADDR an IPv4 address, "[IPv6]" or "*" (all IPv4). */
static bool
parse_listen_addr(struct cfg *g, const char *what, const char *s, struct conf_listen *l)
{
	char e[AFILE_TOKEN_MAX], host[64];
	const char *colon, *hs = s;
	size_t hl;
	bool v6 = false;
	uint64_t port;

	log_escape(e, sizeof e, s, strlen(s));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':') {
			cfg_err(g, "%s: \"%s\" is not [IPv6]:PORT (expected e.g. [::1]:25)", what, e);
			return false;
		}
		hs = s + 1;
		hl = (size_t)(rb - hs);
		colon = rb + 1;
		v6 = true;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			cfg_err(g, "%s: \"%s\" has no port (expected ADDR:PORT, e.g. "
			    "127.0.0.1:25, [::1]:25 or *:25)", what, e);
			return false;
		}
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl) != NULL) {
			cfg_err(g, "%s: \"%s\": an IPv6 address needs brackets (expected e.g. "
			    "[::1]:25)", what, e);
			return false;
		}
	}
	if (hl == 0 || hl >= sizeof host) {
		cfg_err(g, "%s: \"%s\" has no valid address before the port (expected IPv4, "
		    "[IPv6] or *)", what, e);
		return false;
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (!cfg_num(g, "listen: port", colon + 1, 1, 65535, &port))
		return false;

	log_escape(e, sizeof e, host, hl);
	memset(&l->addr, 0, sizeof l->addr);
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->addr;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			cfg_err(g, "%s: \"%s\" is not an IPv6 address (expected e.g. [::1] or "
			    "[::])", what, e);
			return false;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		l->addrlen = sizeof *sin6;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;
		if (strcmp(host, "*") == 0) {
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		} else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			cfg_err(g, "%s: \"%s\" is not an IPv4 address (expected e.g. "
			    "127.0.0.1, [IPv6] or *)", what, e);
			return false;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		l->addrlen = sizeof *sin;
	}
	/* canonical text, so logs and duplicate messages show one spelling;
	 * the same formatter as every other address in the logs, which shows
	 * an IPv4-mapped IPv6 address as the IPv4 address it carries */
	sockaddr_text(&l->addr, l->addrlen, l->text);
	return true;
}

static void
do_listen(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	char e[AFILE_TOKEN_MAX];
	struct conf_listen l;
	memset(&l, 0, sizeof l);
	l.line = cfg_line(g);
	l.tls = CONF_TLS_NONE;
	if (strcmp(av[0], "dns") == 0) {
		l.kind = CONF_LISTEN_DNS;
		if (ac > 2) {
			log_escape(e, sizeof e, av[2], strlen(av[2]));
			cfg_err(g, "listen dns: unexpected \"%s\" (expected only ADDR:PORT; "
			    "it serves UDP and TCP)", e);
			return;
		}
	} else if (strcmp(av[0], "imap") == 0) {
		l.kind = CONF_LISTEN_IMAP;
	} else if (strcmp(av[0], "smtp") != 0) {
		log_escape(e, sizeof e, av[0], strlen(av[0]));
		cfg_err(g, "listen: unknown kind \"%s\" (expected smtp, imap or dns)", e);
		return;
	} else {
		l.kind = CONF_LISTEN_SMTP;
	}
	for (unsigned i = 2; i < ac; i++) {
		if (strcmp(av[i], "allow") == 0 && l.kind != CONF_LISTEN_DNS) {
			if (i + 1 == ac) {
				cfg_err(g, "listen: \"allow\" needs prefixes (expected e.g. "
				    "allow 192.0.2.1 198.51.100.0/24)");
				goto fail;
			}
			if (!parse_prefixes(g, "listen allow", av + i + 1, ac - i - 1, &l.allow,
			    &l.n_allow))
				goto fail;
			break;
		}
		if (strcmp(av[i], "tls") != 0 || i > 2) {
			log_escape(e, sizeof e, av[i], strlen(av[i]));
			cfg_err(g, "listen: unexpected \"%s\" (expected \"tls "
			    "none|starttls|implicit\", \"allow PREFIX...\" or nothing)", e);
			goto fail;
		}
		if (++i == ac) {
			cfg_err(g, "listen: \"tls\" needs a mode (expected none, starttls or "
			    "implicit)");
			goto fail;
		}
		if (strcmp(av[i], "none") == 0) {
			l.tls = CONF_TLS_NONE;
		} else if (strcmp(av[i], "starttls") == 0) {
			l.tls = CONF_TLS_STARTTLS;
		} else if (strcmp(av[i], "implicit") == 0) {
			l.tls = CONF_TLS_IMPLICIT;
		} else {
			log_escape(e, sizeof e, av[i], strlen(av[i]));
			cfg_err(g, "listen: unknown tls mode \"%s\" (expected none, starttls or "
			    "implicit)", e);
			goto fail;
		}
	}
	if (!parse_listen_addr(g, "listen", av[1], &l))
		goto fail;
	struct conf *c = conf_of(g);
	if (l.kind == CONF_LISTEN_IMAP) {
		/* passwords travel only under TLS (RFC 9051 11.1): a listener
		 * where nobody could log in is a mistake */
		if (l.tls == CONF_TLS_NONE) {
			cfg_err(g, "listen imap %s: expected tls starttls or tls implicit (IMAP "
			    "logins need TLS)", l.text);
			goto fail;
		}
		c->imap_listens = xreallocarray(c->imap_listens, c->n_imap_listens + 1,
		    sizeof *c->imap_listens);
		c->imap_listens[c->n_imap_listens++] = l;
		return;
	}
	if (l.kind == CONF_LISTEN_DNS) {
		c->dns_listens = xreallocarray(c->dns_listens, c->n_dns_listens + 1,
		    sizeof *c->dns_listens);
		c->dns_listens[c->n_dns_listens++] = l;
		return;
	}
	c->listens = xreallocarray(c->listens, c->n_listens + 1, sizeof *c->listens);
	c->listens[c->n_listens++] = l;
	return;
fail:
	free(l.allow);
}

/* a DNS name as configured: lowercased, with the final dot */
static char *
dot_lower(const char *s)
{
	size_t n = strlen(s);
	char *o = xasprintf("%s%s", s, n > 0 && s[n - 1] == '.' ? "" : ".");
	ascii_strlower(o);
	return o;
}

static void
do_tsig(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	char e[AFILE_TOKEN_MAX];
	struct conf *c = conf_of(g);
	if (strcmp(av[1], "hmac-sha256") != 0) {
		log_escape(e, sizeof e, av[1], strlen(av[1]));
		cfg_err(g, "tsig-key: unknown algorithm \"%s\" (expected hmac-sha256)", e);
		return;
	}
	struct dns_tsig_key k;
	const char *err = NULL;
	char *name = dot_lower(av[0]);
	if (!dns_tsig_key_parse(&k, name, av[2], &err)) {
		log_escape(e, sizeof e, av[0], strlen(av[0]));
		cfg_err(g, "tsig-key %s: %s", e, err);
		free(name);
		return;
	}
	OPENSSL_cleanse(&k, sizeof k);
	for (size_t i = 0; i < c->n_tsig; i++)
		if (strcmp(c->tsig[i].name, name) == 0) {
			cfg_err(g, "tsig-key %s given twice (first at line %u)", name, c->tsig[i].line);
			free(name);
			return;
		}
	c->tsig = xreallocarray(c->tsig, c->n_tsig + 1, sizeof *c->tsig);
	c->tsig[c->n_tsig++] = (struct conf_tsig){ .name = name, .secret = xstrdup(av[2]),
		.line = cfg_line(g) };
}


static void
do_zone(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	char e[AFILE_TOKEN_MAX];
	struct conf *c = conf_of(g);
	size_t n = strlen(av[0]);
	char *origin = xasprintf("%s%s", av[0], n > 0 && av[0][n - 1] == '.' ? "" : ".");
	ascii_strlower(origin);
	if (strcmp(origin, ".") != 0 && !domain_valid(origin, strlen(origin) - 1, 0)) {
		log_escape(e, sizeof e, av[0], n);
		cfg_err(g, "zone: \"%s\" is not a domain name (expected e.g. \"zone example.org "
		    "zones/example.org.zone\")", e);
		free(origin);
		return;
	}
	for (size_t i = 0; i < c->n_zones; i++)
		if (strcmp(c->zones[i].origin, origin) == 0) {
			cfg_err(g, "zone %s given twice (first at line %u)", origin, c->zones[i].line);
			free(origin);
			return;
		}
	struct conf_zone z = { .origin = origin, .line = cfg_line(g) };
	/* the rest: allow-transfer PREFIX... and notify ADDR:PORT... */
	enum { NONE, ALLOW, NOTIFY } in = NONE;
	bool ok = true;
	for (unsigned i = 2; i < ac && ok; i++) {
		if (strcmp(av[i], "transfer-key") == 0) {
			if (i + 1 == ac || z.transfer_key != NULL) {
				cfg_err(g, "zone %s: transfer-key needs one key name (expected "
				    "\"transfer-key NAME\", NAME from a tsig-key line)", origin);
				ok = false;
			} else {
				z.transfer_key = dot_lower(av[++i]);
			}
			in = NONE;
		} else if (strcmp(av[i], "allow-transfer") == 0) {
			in = ALLOW;
		} else if (strcmp(av[i], "notify") == 0) {
			in = NOTIFY;
		} else if (in == ALLOW) {
			if (z.n_allow == CONF_ZONE_PEERS_MAX) {
				cfg_err(g, "zone %s: more than %d allow-transfer prefixes", origin,
				    CONF_ZONE_PEERS_MAX);
				ok = false;
			} else if (!prefix_parse(av[i], &z.allow[z.n_allow++])) {
				log_escape(e, sizeof e, av[i], strlen(av[i]));
				cfg_err(g, "zone %s: allow-transfer \"%s\" is not an address or prefix "
				    "(expected e.g. 192.0.2.1, 198.51.100.0/24 or 2001:db8::/32)", origin, e);
				ok = false;
			}
		} else if (in == NOTIFY) {
			if (z.n_notify == CONF_ZONE_PEERS_MAX) {
				cfg_err(g, "zone %s: more than %d notify targets", origin,
				    CONF_ZONE_PEERS_MAX);
				ok = false;
			} else {
				ok = parse_listen_addr(g, "zone notify", av[i], &z.notify[z.n_notify]);
				z.n_notify += ok;
			}
		} else {
			log_escape(e, sizeof e, av[i], strlen(av[i]));
			cfg_err(g, "zone %s: unexpected \"%s\" (expected allow-transfer PREFIX..., "
			    "notify ADDR:PORT... or transfer-key NAME)", origin, e);
			ok = false;
		}
	}
	if (!ok) {
		free(origin);
		free(z.transfer_key);
		return;
	}
	z.file = cfg_path(g, av[1]);
	c->zones = xreallocarray(c->zones, c->n_zones + 1, sizeof *c->zones);
	c->zones[c->n_zones++] = z;
}

static void
do_control(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	char e[AFILE_TOKEN_MAX];
	cfg_set_path(g, dd, av, ac);
	const char *path = *cfg_field(g, dd);
	size_t n = strlen(path);
	if (n > SUN_PATH_MAX) {
		log_escape(e, sizeof e, path, n);
		cfg_warn(g, "control: %s is %zu bytes long; a socket path holds at most %d", e, n,
		    SUN_PATH_MAX);
	}
}

static void
do_workers(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	uint64_t v;
	if (cfg_num(g, "workers:", av[0], 1, 64, &v))
		conf_of(g)->workers = (unsigned)v;
}

static void
do_limit(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct pctx *p = g->arg;
	struct conf *c = conf_of(g);
	char what[64], prefix[64];
	size_t i;
	for (i = 0; i < NELEM(limit_defs); i++)
		if (strcmp(av[0], limit_defs[i].name) == 0)
			break;
	if (i == NELEM(limit_defs)) {
		cfg_unknown(g, "limit", av[0], limit_defs, NELEM(limit_defs), sizeof *limit_defs);
		return;
	}
	const struct limit_def *ld = &limit_defs[i];
	snprintf(what, sizeof what, "limit %s", ld->name);
	if (p->first_limit[i] != 0) {
		cfg_given_twice(g, what, p->first_limit[i]);
		return;
	}
	p->first_limit[i] = cfg_line(g);
	snprintf(prefix, sizeof prefix, "limit %s:", ld->name);
	uint64_t v;
	if (ld->is_size) {
		if (cfg_size(g, prefix, av[1], &v))
			*(uint64_t *)(void *)((char *)c + ld->off) = v;
	} else if (cfg_num(g, prefix, av[1], ld->min, ld->max, &v)) {
		*(unsigned *)(void *)((char *)c + ld->off) = (unsigned)v;
	}
}

static void
do_log(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	char e[AFILE_TOKEN_MAX];
	if (strcmp(av[0], "stderr") == 0) {
		c->log_stderr = true;
		c->log_syslog = false;
	} else if (strcmp(av[0], "syslog") == 0) {
		c->log_stderr = false;
		c->log_syslog = true;
	} else if (strcmp(av[0], "both") == 0) {
		c->log_stderr = true;
		c->log_syslog = true;
	} else {
		log_escape(e, sizeof e, av[0], strlen(av[0]));
		cfg_err(g, "log: unknown destination \"%s\" (expected stderr, syslog or both)", e);
		return;
	}
	if (ac == 2) {
		if (!c->log_syslog) {
			cfg_err(g, "log: a socket path is only for syslog or both");
			return;
		}
		char *path = cfg_path(g, av[1]);
		if (strlen(path) > SUN_PATH_MAX) {
			cfg_err(g, "log: socket path is %zu bytes long (expected at most %d)",
			    strlen(path), SUN_PATH_MAX);
			free(path);
			return;
		}
		free(c->log_path);
		c->log_path = path;
	}
}

/* `resolver forward ADDR[@PORT]...`: addresses as libunbound takes them. */
static void
do_resolver(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	char e[AFILE_TOKEN_MAX];
	if (strcmp(av[0], "system") == 0 && ac == 1) {
		c->resolver = CONF_RESOLVER_SYSTEM;
	} else if (strcmp(av[0], "recursive") == 0 && ac <= 2) {
		c->resolver = CONF_RESOLVER_RECURSIVE;
		free(c->trust_anchor);
		c->trust_anchor = ac == 2 ? cfg_path(g, av[1]) : xstrdup("/usr/share/dns/root.key");
	} else if (strcmp(av[0], "forward") == 0 && ac >= 2) {
		/* forward ADDR... [trust-anchor FILE]: validate the zones the
		 * file anchors (tests serving signed zones; a validating
		 * forwarder's answers are not re-validated without it) */
		char *anchor = NULL;
		if (ac >= 4 && strcmp(av[ac - 2], "trust-anchor") == 0) {
			anchor = cfg_path(g, av[ac - 1]);
			ac -= 2;
		}
		if (ac - 1 > CONF_FORWARD_MAX) {
			free(anchor);
			cfg_err(g, "resolver forward: at most %d servers", CONF_FORWARD_MAX);
			return;
		}
		for (unsigned i = 1; i < ac; i++) {
			char host[64];
			const char *at = strchr(av[i], '@');
			size_t hl = at ? (size_t)(at - av[i]) : strlen(av[i]);
			uint8_t a[16];
			uint64_t port = 53;
			bool ok = hl < sizeof host;
			if (ok) {
				memcpy(host, av[i], hl);
				host[hl] = '\0';
				ok = inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
			}
			if (ok && at)
				ok = parse_u64(at + 1, 65535, &port) && port > 0;
			if (!ok) {
				log_escape(e, sizeof e, av[i], strlen(av[i]));
				cfg_err(g, "resolver forward: \"%s\" is not ADDR or ADDR@PORT "
				    "(expected e.g. 127.0.0.1@2053 or ::1)", e);
				free(anchor);
				return;
			}
		}
		for (size_t i = 0; i < c->n_forward; i++)
			free(c->forward[i]);
		c->n_forward = 0;
		for (unsigned i = 1; i < ac; i++)
			c->forward[c->n_forward++] = xstrdup(av[i]);
		c->resolver = CONF_RESOLVER_FORWARD;
		free(c->trust_anchor);
		c->trust_anchor = anchor;
	} else {
		log_escape(e, sizeof e, av[0], strlen(av[0]));
		cfg_err(g, "resolver: expected forward ADDR[@PORT]..., recursive [ANCHOR-FILE] "
		    "or system, not \"%s\"", e);
	}
}

static void
do_spf_fail(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	if (strcmp(av[0], "reject") == 0)
		c->spf_fail_reject = true;
	else if (strcmp(av[0], "record") == 0)
		c->spf_fail_reject = false;
	else
		cfg_err(g, "spf-fail: expected reject or record");
}

static void
do_authserv(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	if (!domain_valid(av[0], strlen(av[0]), DOMAIN_HOSTNAME)) {
		cfg_err(g, "authserv-id: expected a host name");
		return;
	}
	free(c->authserv_id);
	c->authserv_id = xstrdup(av[0]);
}


/* --- inbound defences ------------------------------------------------------- */

static void
do_deny(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	bool drop = strcmp(av[0], "drop") == 0;
	if (!drop && strcmp(av[0], "reject") != 0) {
		cfg_err(g, "deny: expected reject or drop before the prefixes");
		return;
	}
	struct prefix *list = NULL;
	size_t n = 0;
	if (parse_prefixes(g, "deny", av + 1, ac - 1, &list, &n)) {
		c->denies = xreallocarray(c->denies, c->n_denies + n, sizeof *c->denies);
		for (size_t i = 0; i < n; i++)
			c->denies[c->n_denies++] = (struct conf_deny){ .p = list[i], .drop = drop,
				.line = cfg_line(g) };
	}
	free(list);
}

static void
do_mynetworks(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	parse_prefixes(g, "mynetworks", av, ac, &c->mynetworks, &c->n_mynetworks);
}

/* "550", "550 5.7.1": a reply code at the start of a custom text */
static bool
is_code(const char *s)
{
	return (s[0] == '4' || s[0] == '5') && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
	    s[2] <= '9' && s[3] == '\0';
}

static bool
is_esc(const char *s, char cls)
{
	if (s[0] != cls || s[1] != '.')
		return false;
	s += 2;
	for (int part = 0; part < 2; part++) {
		size_t n = strspn(s, "0123456789");
		if (n < 1 || n > 3 || s[n] != (part == 0 ? '.' : '\0'))
			return false;
		s += n + 1;
	}
	return true;
}

/* `text [CODE [X.Y.Z]] WORDS...` of a blocklist: the words joined by one
 * space.  false when something is wrong (said). */
static bool
bl_text(struct cfg *g, const char *what, char **av, unsigned ac, struct conf_bl *b)
{
	unsigned i = 0;
	char e[AFILE_TOKEN_MAX];
	if (i < ac && strlen(av[i]) == 3 && strspn(av[i], "0123456789") == 3 && !is_code(av[i])) {
		log_escape(e, sizeof e, av[i], strlen(av[i]));
		cfg_err(g, "%s: text: reply code %s is not a refusal (expected 4xx or 5xx)", what, e);
		return false;
	}
	if (i < ac && is_code(av[i])) {
		b->code = (unsigned)atoi(av[i++]);
		if (i < ac && is_esc(av[i], av[i - 1][0])) {
			str_copy(b->esc, sizeof b->esc, av[i++]);
		} else if (i < ac && (av[i][0] == '4' || av[i][0] == '5') && av[i][1] == '.') {
			/* an enhanced code of the other class, or malformed */
			log_escape(e, sizeof e, av[i], strlen(av[i]));
			cfg_err(g, "%s: text: \"%s\" is not an enhanced code of class %c (expected "
			    "e.g. %c.7.1)", what, e, av[i - 1][0], av[i - 1][0]);
			return false;
		} else {
			str_copy(b->esc, sizeof b->esc, b->code >= 500 ? "5.7.1" : "4.7.1");
		}
	}
	if (i == ac) {
		cfg_err(g, "%s: \"text\" needs words (expected e.g. text Mail from {ip} refused)",
		    what);
		return false;
	}
	char t[CONF_BL_TEXT_MAX + 1] = "";
	size_t len = 0;
	for (; i < ac; i++) {
		size_t n = strlen(av[i]);
		if (len + (len ? 1 : 0) + n > CONF_BL_TEXT_MAX) {
			cfg_err(g, "%s: text longer than %d bytes", what, CONF_BL_TEXT_MAX);
			return false;
		}
		if (len)
			t[len++] = ' ';
		memcpy(t + len, av[i], n + 1);
		len += n;
	}
	b->text = xstrdup(t);
	return true;
}

static bool
bl_codes(struct cfg *g, const char *what, const char *s, struct conf_bl *b)
{
	char e[AFILE_TOKEN_MAX], one[32];
	while (*s) {
		size_t n = strcspn(s, ",");
		struct in_addr a;
		bool ok = n > 0 && n < sizeof one && b->n_codes < CONF_BL_CODES_MAX;
		if (ok) {
			memcpy(one, s, n);
			one[n] = '\0';
			ok = inet_pton(AF_INET, one, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
		}
		if (!ok) {
			log_escape(e, sizeof e, s, n);
			cfg_err(g, "%s: codes: \"%s\" is not an address in 127.0.0.0/8 (expected "
			    "at most %d, comma-separated, e.g. codes 127.0.0.2,127.0.0.4)", what, e,
			    CONF_BL_CODES_MAX);
			return false;
		}
		b->codes[b->n_codes++] = ntohl(a.s_addr);
		s += n;
		if (*s == ',' && *++s == '\0') {
			cfg_err(g, "%s: codes: a list may not end with a comma", what);
			return false;
		}
	}
	return true;
}

/* dnsbl ZONE [codes LIST] [text ...] / rhsbl ZONE helo|from|both [...] */
static void
do_bl(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	char e[AFILE_TOKEN_MAX];
	const char *what = dd->name;
	struct conf_bl b;
	memset(&b, 0, sizeof b);
	b.line = cfg_line(g);
	b.code = 550;
	str_copy(b.esc, sizeof b.esc, "5.7.1");
	if (c->n_bls == CONF_BL_MAX) {
		cfg_err(g, "%s: more than %d blocklists", what, CONF_BL_MAX);
		return;
	}
	char zone[256];
	bool fits = str_copy(zone, sizeof zone, av[0]);
	size_t zl = fits ? strlen(zone) : 0;
	if (zl > 1 && zone[zl - 1] == '.')
		zone[--zl] = '\0';
	/* 200: room for a reversed IPv6 address (64 bytes) in front */
	if (!fits || !domain_valid(zone, zl, DOMAIN_HOSTNAME) || zl > 200) {
		log_escape(e, sizeof e, av[0], strlen(av[0]));
		cfg_err(g, "%s: \"%s\" is not a zone name (expected e.g. zen.spamhaus.org)", what, e);
		return;
	}
	unsigned i = 1;
	if (strcmp(what, "dnsbl") == 0) {
		b.what = CONF_BL_IP;
	} else {
		if (ac < 2 || (strcmp(av[1], "helo") != 0 && strcmp(av[1], "from") != 0 &&
		    strcmp(av[1], "both") != 0)) {
			cfg_err(g, "rhsbl: expected helo, from or both after the zone");
			return;
		}
		b.what = strcmp(av[1], "helo") == 0 ? CONF_BL_HELO : strcmp(av[1], "from") == 0 ?
		    CONF_BL_FROM : CONF_BL_HELO | CONF_BL_FROM;
		i = 2;
	}
	for (; i < ac; i++) {
		if (strcmp(av[i], "codes") == 0 && i + 1 < ac && b.n_codes == 0) {
			if (!bl_codes(g, what, av[++i], &b))
				return;
		} else if (strcmp(av[i], "text") == 0) {
			if (!bl_text(g, what, av + i + 1, ac - i - 1, &b))
				return;
			break;
		} else {
			log_escape(e, sizeof e, av[i], strlen(av[i]));
			cfg_err(g, "%s: unexpected \"%s\" (expected codes LIST or text WORDS...)",
			    what, e);
			return;
		}
	}
	b.zone = xstrdup(zone);
	ascii_strlower(b.zone);
	c->bls = xreallocarray(c->bls, c->n_bls + 1, sizeof *c->bls);
	c->bls[c->n_bls++] = b;
}

/* `NAME on|off` directives; *out set when the word is one of them */
static bool
on_off(struct cfg *g, const char *name, const char *v, bool *out)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
		*out = v[1] == 'n';
		return true;
	}
	cfg_err(g, "%s: expected on or off", name);
	return false;
}

static void
do_switch(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	on_off(g, dd->name, av[0], (bool *)(void *)((char *)conf_of(g) + dd->off));
}

static void
do_bl_reject(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	if (strcmp(av[0], "rcpt") == 0 || strcmp(av[0], "connect") == 0)
		conf_of(g)->bl_at_connect = av[0][0] == 'c';
	else
		cfg_err(g, "dnsbl-reject: expected rcpt or connect");
}

static void
do_greylist(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	if (strcmp(av[0], "off") == 0)
		c->greylist = CONF_GREY_OFF;
	else if (strcmp(av[0], "on") == 0)
		c->greylist = CONF_GREY_ON;
	else if (strcmp(av[0], "listed") == 0)
		c->greylist = CONF_GREY_LISTED;
	else
		cfg_err(g, "greylist: expected off, on or listed (only clients a dnsbl lists)");
}

static void
do_grey_exempt(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	char e[AFILE_TOKEN_MAX];
	for (unsigned i = 0; i < ac; i++) {
		struct prefix p;
		if (prefix_parse(av[i], &p)) {
			c->grey_nets = xreallocarray(c->grey_nets, c->n_grey_nets + 1,
			    sizeof *c->grey_nets);
			c->grey_nets[c->n_grey_nets++] = p;
		} else if (domain_valid(av[i], strlen(av[i]), DOMAIN_HOSTNAME)) {
			c->grey_domains = xreallocarray(c->grey_domains, c->n_grey_domains + 1,
			    sizeof *c->grey_domains);
			c->grey_domains[c->n_grey_domains] = xstrdup(av[i]);
			ascii_strlower(c->grey_domains[c->n_grey_domains++]);
		} else {
			log_escape(e, sizeof e, av[i], strlen(av[i]));
			cfg_err(g, "greylist-exempt: \"%s\" is neither a prefix nor a domain", e);
		}
	}
}

static void
do_ban_points(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	struct conf *c = conf_of(g);
	char e[AFILE_TOKEN_MAX];
	uint64_t v;
	int ev = ban_event_parse(av[0]);
	if (ev >= 0 && ev < CONF_BAN_EVENTS) {
		if (cfg_num(g, "ban-points:", av[1], 0, 1000000, &v))
			c->ban_points[ev] = (unsigned)v;
		return;
	}
	log_escape(e, sizeof e, av[0], strlen(av[0]));
	cfg_err(g, "ban-points: unknown event \"%s\" (expected relay, unknown-recipient, vrfy, "
	    "auth-failure, early-talker, pipelining, protocol-error or blocklist)", e);
}

_Static_assert(CONF_BAN_EVENTS == BAN_EV__MAX, "ban-points names every event of policy/bans.h");

#define PATHDIR(n, f, req) \
	{ n, n " PATH", 1, 1, false, req, cfg_set_path, offsetof(struct conf, f) }
#define NAMEDIR(n, arg, f) \
	{ n, n " " arg, 1, 1, false, false, cfg_set_sys_name, offsetof(struct conf, f) }

/* Order matters twice: "unknown directive" lists the names in this order,
 * and "missing required directive" reports in it. */
static const struct cfg_directive directives[] = {
	{ "hostname", "hostname NAME", 1, 1, false, true, do_hostname, 0 },
	{ "domain", "domain NAME [NAME...]", 1, UINT32_MAX, true, true, do_domain, 0 },
	{ "listen", "listen smtp ADDR:PORT [tls none|starttls|implicit] [allow PREFIX...] | "
	    "listen imap ADDR:PORT tls starttls|implicit [allow PREFIX...] | listen dns ADDR:PORT", 2, 4096, true, true, do_listen, 0 },
	{ "zone", "zone ORIGIN FILE [allow-transfer PREFIX...] [notify ADDR:PORT...] "
	    "[transfer-key NAME]", 2, 2 + 2 * CONF_ZONE_PEERS_MAX + 4, true, false, do_zone, 0 },
	{ "tsig-key", "tsig-key NAME hmac-sha256 SECRET", 3, 3, true, false, do_tsig, 0 },
	PATHDIR("tls-cert", tls_cert, false),
	PATHDIR("tls-key", tls_key, false),
	PATHDIR("store", store, true),
	PATHDIR("spool", spool, true),
	PATHDIR("state", state, true),
	PATHDIR("users", users, true),
	PATHDIR("aliases", aliases, true),
	{ "control", "control PATH", 1, 1, false, false, do_control,
	    offsetof(struct conf, control) },
	NAMEDIR("run-as", "USER", run_as),
	NAMEDIR("queue-user", "USER", queue_user),
	NAMEDIR("deliver-user", "USER", deliver_user),
	NAMEDIR("policy-user", "USER", policy_user),
	NAMEDIR("dns-user", "USER", dns_user),
	NAMEDIR("auth-user", "USER", auth_user),
	NAMEDIR("imap-user", "USER", imap_user),
	NAMEDIR("admin-group", "GROUP", admin_group),
	{ "workers", "workers N", 1, 1, false, false, do_workers, 0 },
	{ "limit", "limit NAME VALUE", 2, 2, true, false, do_limit, 0 },
	{ "log", "log stderr|syslog|both [SOCKET]", 1, 2, false, false, do_log, 0 },
	{ "resolver", "resolver forward ADDR[@PORT]... [trust-anchor FILE] | recursive "
	    "[ANCHOR-FILE] | system", 1, 3 + CONF_FORWARD_MAX, false, false, do_resolver, 0 },
	{ "spf-fail", "spf-fail reject|record", 1, 1, false, false, do_spf_fail, 0 },
	{ "authserv-id", "authserv-id NAME", 1, 1, false, false, do_authserv, 0 },
	PATHDIR("access", access, false),
	{ "deny", "deny reject|drop PREFIX...", 2, 4096, true, false, do_deny, 0 },
	{ "mynetworks", "mynetworks PREFIX...", 1, 4096, true, false, do_mynetworks, 0 },
	{ "dnsbl", "dnsbl ZONE [codes LIST] [text WORDS...]", 1, 200, true, false, do_bl, 0 },
	{ "rhsbl", "rhsbl ZONE helo|from|both [codes LIST] [text WORDS...]", 2, 200, true, false,
	    do_bl, 0 },
	{ "dnsbl-reject", "dnsbl-reject rcpt|connect", 1, 1, false, false, do_bl_reject, 0 },
	{ "pipelining-check", "pipelining-check on|off", 1, 1, false, false, do_switch,
	    offsetof(struct conf, pipelining_check) },
	{ "greylist", "greylist off|on|listed", 1, 1, false, false, do_greylist, 0 },
	{ "greylist-exempt", "greylist-exempt PREFIX|DOMAIN...", 1, 4096, true, false,
	    do_grey_exempt, 0 },
	{ "auto-ban", "auto-ban on|off", 1, 1, false, false, do_switch,
	    offsetof(struct conf, auto_ban) },
	{ "ban-points", "ban-points EVENT N", 2, 2, true, false, do_ban_points, 0 },
};

static bool
is_wildcard(const struct conf_listen *l)
{
	if (l->addr.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&l->addr)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&l->addr)->sin6_addr);
}

static uint16_t
port_of(const struct conf_listen *l)
{
	if (l->addr.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&l->addr)->sin_port;
	return ((const struct sockaddr_in6 *)&l->addr)->sin6_port;
}

/* Checks over the whole file, after the engine's required-directive check:
 * TLS material, listeners that would fight over one port. */
static void
final_checks(struct pctx *p)
{
	struct cfg *g = &p->g;
	struct conf *c = conf_of(g);

	bool tls_used = c->n_imap_listens > 0;
	if (c->n_imap_listens > 0 && (c->tls_cert == NULL || c->tls_key == NULL))
		cfg_err_at(g, c->imap_listens[0].line, "listen imap %s needs tls-cert and tls-key",
		    c->imap_listens[0].text);
	for (size_t i = 0; i < c->n_imap_listens; i++)
		for (size_t j = 0; j < c->n_listens + i; j++) {
			const struct conf_listen *o = j < c->n_listens ? &c->listens[j] :
			    &c->imap_listens[j - c->n_listens];
			if (strcmp(o->text, c->imap_listens[i].text) == 0)
				cfg_err_at(g, c->imap_listens[i].line, "listen %s given twice (first at "
				    "line %u)", o->text, o->line);
		}
	for (size_t i = 0; i < c->n_listens && !tls_used; i++) {
		const struct conf_listen *l = &c->listens[i];
		if (l->tls == CONF_TLS_NONE)
			continue;
		tls_used = true;
		if (c->tls_cert == NULL || c->tls_key == NULL)
			cfg_err_at(g, l->line, "listen %s uses tls %s, which needs tls-cert and "
			    "tls-key (missing: %s)", l->text,
			    l->tls == CONF_TLS_STARTTLS ? "starttls" : "implicit",
			    c->tls_cert == NULL && c->tls_key == NULL ? "both" :
			    c->tls_cert == NULL ? "tls-cert" : "tls-key");
	}
	if (!tls_used && (c->tls_cert == NULL) != (c->tls_key == NULL))
		cfg_err_at(g, cfg_first_line(g, c->tls_cert ? "tls-cert" : "tls-key"),
		    "%s given without %s (expected both or neither)",
		    c->tls_cert ? "tls-cert" : "tls-key", c->tls_cert ? "tls-key" : "tls-cert");

	for (size_t i = 1; i < c->n_listens; i++) {
		const struct conf_listen *l = &c->listens[i];
		for (size_t j = 0; j < i; j++) {
			const struct conf_listen *o = &c->listens[j];
			/* one text is one socket, whatever the spelling; an IPv4-mapped
			 * IPv6 address has the text of its IPv4 address */
			if (strcmp(o->text, l->text) == 0) {
				cfg_err_at(g, l->line, "listen %s given twice (first at line %u)",
				    l->text, o->line);
				break;
			}
			if (o->addr.ss_family != l->addr.ss_family || port_of(o) != port_of(l))
				continue;
			if (is_wildcard(o) || is_wildcard(l)) {
				cfg_err_at(g, l->line, "listen %s overlaps listen %s at line %u "
				    "(expected one listener per port when one is a wildcard)",
				    l->text, o->text, o->line);
				break;
			}
		}
	}

	for (size_t i = 0; i < c->n_zones; i++) {
		const char *k = c->zones[i].transfer_key;
		bool found = k == NULL;
		for (size_t j = 0; j < c->n_tsig && !found; j++)
			found = strcmp(c->tsig[j].name, k) == 0;
		if (!found)
			cfg_err_at(g, c->zones[i].line, "zone %s: transfer-key %s is no tsig-key "
			    "(expected a line \"tsig-key %s hmac-sha256 SECRET\")", c->zones[i].origin,
			    k, k);
	}

	if (c->greylist != CONF_GREY_OFF && c->grey_window <= c->grey_delay)
		cfg_err_at(g, cfg_first_line(g, "greylist"), "greylist: limit greylist-window %u "
		    "is not longer than limit greylist-delay %u (no retry could ever pass)",
		    c->grey_window, c->grey_delay);
	/* only when both were chosen: the default 20 over "limit connections 2"
	 * is not worth a message */
	if (p->first_limit[LIMIT_PER_IP] != 0 && c->max_conns_per_ip > c->max_conns)
		cfg_warn_at(g, p->first_limit[LIMIT_PER_IP],
		    "limit connections-per-ip %u is more than limit connections %u",
		    c->max_conns_per_ip, c->max_conns);
}

struct conf *
conf_parse(const char *text, size_t len, const char *file, struct diag *d)
{
	struct pctx p;
	struct conf *c = xcalloc(1, sizeof *c);

	c->file = xstrdup(file);
	c->workers = 1;
	c->max_message_size = 25u << 20;
	c->max_rcpts = 100;
	c->max_conns = 500;
	c->max_conns_per_ip = 20;
	c->cmd_timeout = 300;
	c->data_timeout = 600;
	c->max_errors = 10;
	c->shutdown_grace = 10;
	c->ipv6_client_prefix = 64;
	c->session_time = 3600;
	c->max_junk = 100;
	c->tls_timeout = 30;
	c->queue_lifetime = 5 * 86400;
	c->dns_rate = 200;
	c->resolver_timeout = 10;
	c->spf_fail_reject = true;
	c->log_stderr = true;
	c->log_syslog = false;
	c->log_path = xstrdup("/dev/log");
	c->imap_autologout = 1800;
	c->imap_user_conns = 10;
	c->grey_delay = 300;
	c->grey_window = 4 * 3600;
	c->grey_keep = 35 * 86400;
	c->grey_auto_allow = 5;
	c->grey_v4_prefix = 24;
	c->grey_v6_prefix = 64;
	for (size_t i = 0; i < CONF_BAN_EVENTS; i++)
		c->ban_points[i] = UINT_MAX;
	c->ban_threshold = 10;
	c->ban_window = 86400;
	c->ban_time = 3600;
	c->ban_time_max = 30 * 86400;

	memset(&p, 0, sizeof p);
	cfg_init(&p.g, text, len, file, directives, NELEM(directives), c, &p, d);
	if (cfg_run(&p.g))
		final_checks(&p);
	/* the control socket lives in the state directory unless named;
	 * cleaned like every other path ("state /" gave "//control.sock") */
	if (c->control == NULL && c->state != NULL) {
		char *j = xasprintf("%s/control.sock", c->state);
		c->control = cfg_path(&p.g, j);
		free(j);
	}
	if (c->authserv_id == NULL && c->hostname != NULL)
		c->authserv_id = xstrdup(c->hostname);
	cfg_done(&p.g);
	return c;
}

struct conf *
conf_load(const char *file, struct diag *d)
{
	char *text;
	size_t len;
	if (afile_read(file, CONF_FILE_MAX, "a config file", &text, &len, d) < 0)
		return NULL;
	struct conf *c = conf_parse(text, len, file, d);
	afile_text_free(&text, len);
	return c;
}

void
conf_free(struct conf **cp)
{
	struct conf *c = *cp;
	if (c == NULL)
		return;
	free(c->file);
	free(c->hostname);
	for (size_t i = 0; i < c->n_domains; i++)
		free(c->domains[i]);
	free(c->domains);
	for (size_t i = 0; i < c->n_listens; i++)
		free(c->listens[i].allow);
	free(c->listens);
	for (size_t i = 0; i < c->n_imap_listens; i++)
		free(c->imap_listens[i].allow);
	free(c->imap_listens);
	free(c->auth_user);
	free(c->imap_user);
	free(c->denies);
	free(c->mynetworks);
	for (size_t i = 0; i < c->n_bls; i++) {
		free(c->bls[i].zone);
		free(c->bls[i].text);
	}
	free(c->bls);
	free(c->grey_nets);
	for (size_t i = 0; i < c->n_grey_domains; i++)
		free(c->grey_domains[i]);
	free(c->grey_domains);
	free(c->dns_listens);
	for (size_t i = 0; i < c->n_zones; i++) {
		free(c->zones[i].origin);
		free(c->zones[i].file);
		free(c->zones[i].transfer_key);
	}
	free(c->zones);
	for (size_t i = 0; i < c->n_tsig; i++) {
		free(c->tsig[i].name);
		OPENSSL_cleanse(c->tsig[i].secret, strlen(c->tsig[i].secret));
		free(c->tsig[i].secret);
	}
	free(c->tsig);
	free(c->dns_user);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->store);
	free(c->spool);
	free(c->state);
	free(c->users);
	free(c->aliases);
	free(c->control);
	free(c->run_as);
	free(c->queue_user);
	free(c->deliver_user);
	free(c->policy_user);
	free(c->admin_group);
	free(c->log_path);
	for (size_t i = 0; i < c->n_forward; i++)
		free(c->forward[i]);
	free(c->trust_anchor);
	free(c->authserv_id);
	free(c->access);
	free(c);
	*cp = NULL;
}

bool
conf_is_local_domain(const struct conf *c, const char *domain)
{
	return c != NULL && domain_in_list((const char *const *)c->domains, c->n_domains, domain);
}

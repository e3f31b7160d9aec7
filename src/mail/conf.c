/*
 * mail/conf.c - the talon.conf parser (grammar in conf.h).
 *
 * Input:   the config text, any bytes, not NUL-terminated.  Lines end with
 *          LF; a CR right before the LF is dropped (files edited on other
 *          systems).  A line may hold at most CONF_LINE_MAX bytes and no NUL
 *          or other control byte except tab; '#' anywhere starts a comment
 *          (there is no quoting, as in nginx).
 * Output:  struct conf owned by the caller (conf_free): absolute paths,
 *          lowercased domains, parsed listen addresses.  Every problem goes
 *          to the diag as "file:line: what was found (what was expected)";
 *          parsing goes on after an error so one run shows them all, up to
 *          CONF_ERRORS_MAX.
 * Trusts:  nothing in the text.  Runs in: parent and CLI.
 * Not here: whether the named files and directories exist or are readable,
 *          whether run-as/queue-user/deliver-user exist (callers check both).
 */
#include "mail/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#define CONF_LINE_MAX	4096		/* bytes per line, without the LF */
#define CONF_FILE_MAX	(1u << 20)	/* a config larger than this is a mistake */
#define CONF_ERRORS_MAX	100		/* stop reporting after this many */
#define CONF_ESC_MAX	96		/* a quoted token in a message */
#define SUN_PATH_MAX	107		/* sizeof(sockaddr_un.sun_path) - 1 */

struct pctx {
	struct conf *c;
	struct diag *d;
	const char *file;
	char *base;		/* absolute directory of the config file */
	unsigned line;
	unsigned n_err;
	unsigned first[32];	/* directive index -> first line it was seen */
	unsigned first_limit[16];
	unsigned cert_line, key_line;
};

static void perr(struct pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
perr(struct pctx *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_err(p->d, p->file, p->line, "%s", msg);
	p->n_err++;
}

/* Escape a token for a message: the text is admin-written but may hold any
 * byte >= 0x80, and a binary file given by mistake must not garble the
 * terminal.  Long tokens are cut and end in "...". */
static const char *
esc(char dst[CONF_ESC_MAX], const char *s)
{
	log_escape(dst, CONF_ESC_MAX, s, strlen(s));
	return dst;
}

/* --- small validators --------------------------------------------------- */

/* RFC 1035 2.3.1 / RFC 1123 2.1 host names: labels of letters, digits and
 * hyphens, not starting or ending with a hyphen, at most 63 bytes each and
 * 253 in all; no trailing dot; the last label is not all digits, so an IP
 * address is not taken for a name (RFC 3696 2). */
static bool
valid_domain(const char *s)
{
	size_t n = strlen(s), lab = 0;
	bool ok = n > 0 && n <= 253, last_all_digits = true;
	for (size_t i = 0; ok && i <= n; i++) {
		char ch = s[i];
		if (ch == '.' || ch == '\0') {
			if (lab == 0 || s[i - 1] == '-')
				ok = false;
			if (ch == '.')
				last_all_digits = true;
			lab = 0;
			continue;
		}
		bool is_alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9');
		if (!is_alnum && !(ch == '-' && lab > 0))
			ok = false;
		if (!(ch >= '0' && ch <= '9'))
			last_all_digits = false;
		if (++lab > 63)
			ok = false;
	}
	if (last_all_digits)
		ok = false;
	return ok;
}

/* System user names as useradd accepts them (relaxed NAME_REGEX). */
static bool
valid_sys_user(const char *s)
{
	size_t n = strlen(s);
	bool ok = n > 0 && n <= 32 && s[0] != '-';
	for (size_t i = 0; ok && i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			ok = false;
	}
	return ok;
}

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A decimal number in [min, max]; reports "what: ..." on failure. */
static bool
get_num(struct pctx *p, const char *what, const char *s, uint64_t min, uint64_t max,
    uint64_t *out)
{
	char e[CONF_ESC_MAX];
	uint64_t v;
	if (!all_digits(s)) {
		perr(p, "%s: \"%s\" is not a number (expected %llu..%llu)", what, esc(e, s),
		    (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	if (!parse_u64(s, UINT64_MAX, &v) || v < min || v > max) {
		perr(p, "%s: %s is out of range (expected %llu..%llu)", what, esc(e, s),
		    (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

/* BYTES[k|m|g], 1024 multiples, case-insensitive suffix, at least 1,
 * overflow checked before every multiplication. */
static bool
get_size(struct pctx *p, const char *what, const char *s, uint64_t *out)
{
	char e[CONF_ESC_MAX];
	size_t n = strlen(s);
	unsigned shift = 0;
	uint64_t v = 0;
	if (n > 0) {
		switch (ascii_lower((unsigned char)s[n - 1])) {
		case 'k': shift = 10; n--; break;
		case 'm': shift = 20; n--; break;
		case 'g': shift = 30; n--; break;
		}
	}
	bool is_num = n > 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			is_num = false;
	if (!is_num) {
		perr(p, "%s: \"%s\" is not a size (expected BYTES with optional k/m/g suffix)",
		    what, esc(e, s));
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned dg = (unsigned)(s[i] - '0');
		if (v > ((UINT64_MAX >> shift) - dg) / 10) {
			perr(p, "%s: %s is too large (it does not fit in 64 bits)", what, esc(e, s));
			return false;
		}
		v = v * 10 + dg;
	}
	v <<= shift;
	if (v == 0) {
		perr(p, "%s: %s is out of range (expected at least 1 byte)", what, esc(e, s));
		return false;
	}
	*out = v;
	return true;
}

/* --- paths ---------------------------------------------------------------- */

/* Lexically clean an absolute path: no empty or "." components, no trailing
 * slash.  ".." is kept: resolving it without the file system would be wrong
 * across symbolic links. */
static char *
clean_path(const char *path)
{
	size_t n = strlen(path);
	char *out = xmalloc(n + 2);
	size_t o = 0;
	const char *s = path;
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = s;
		while (*e && *e != '/')
			e++;
		size_t l = (size_t)(e - s);
		if (l > 0 && !(l == 1 && s[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, s, l);
			o += l;
		}
		s = e;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

static char *
resolve_path(const struct pctx *p, const char *path)
{
	if (path[0] == '/')
		return clean_path(path);
	char *j = xasprintf("%s/%s", p->base, path);
	char *r = clean_path(j);
	free(j);
	return r;
}

/* The absolute directory the config file is in; relative file names are
 * taken from the current directory, as open() would. */
static char *
base_dir(struct pctx *p, const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir, *r;
	if (slash == file)
		return xstrdup("/");
	dir = slash ? xstrndup(file, (size_t)(slash - file)) : xstrdup(".");
	if (dir[0] == '/') {
		r = clean_path(dir);
	} else {
		char *cwd = getcwd(NULL, 0);
		if (cwd == NULL) {
			diag_err(p->d, p->file, 0, "cannot find the current directory to resolve "
			    "relative paths: %s", strerror(errno));
			p->n_err++;
			cwd = xstrdup("/");
		}
		char *j = xasprintf("%s/%s", cwd, dir);
		r = clean_path(j);
		free(j);
		free(cwd);
	}
	free(dir);
	return r;
}

/* --- directives ------------------------------------------------------------ */

struct directive_def;
typedef void dir_fn(struct pctx *, const struct directive_def *, char **, unsigned);

struct directive_def {
	const char *name;
	const char *usage;
	unsigned min_args, max_args;
	bool repeatable;
	dir_fn *fn;
	size_t off;		/* char * field of struct conf, for paths/users */
};

static char **
field(struct conf *c, size_t off)
{
	return (char **)(void *)((char *)c + off);
}

static void
do_hostname(struct pctx *p, const struct directive_def *dd, char **av, unsigned ac)
{
	char e[CONF_ESC_MAX];
	if (!valid_domain(av[0])) {
		perr(p, "hostname: \"%s\" is not a valid domain name (expected labels of letters, "
		    "digits and hyphens, at most 63 bytes each and 253 in all)", esc(e, av[0]));
		return;
	}
	p->c->hostname = xstrdup(av[0]);
}

static void
do_domain(struct pctx *p, const struct directive_def *dd, char **av, unsigned ac)
{
	struct conf *c = p->c;
	char e[CONF_ESC_MAX];
	for (unsigned i = 0; i < ac; i++) {
		if (!valid_domain(av[i])) {
			perr(p, "domain: \"%s\" is not a valid domain name (expected labels of "
			    "letters, digits and hyphens, at most 63 bytes each and 253 in all)",
			    esc(e, av[i]));
			continue;
		}
		if (conf_is_local_domain(c, av[i])) {
			diag_warn(p->d, p->file, p->line, "domain: %s is listed twice", esc(e, av[i]));
			continue;
		}
		c->domains = xreallocarray(c->domains, c->n_domains + 1, sizeof *c->domains);
		c->domains[c->n_domains] = xstrdup(av[i]);
		ascii_strlower(c->domains[c->n_domains]);
		c->n_domains++;
	}
}

/* ADDR:PORT with ADDR an IPv4 address, "[IPv6]" or "*" (all IPv4). */
static bool
parse_listen_addr(struct pctx *p, const char *s, struct conf_listen *l)
{
	char e[CONF_ESC_MAX], host[64];
	const char *colon, *hs = s;
	size_t hl;
	bool v6 = false;
	uint64_t port;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':') {
			perr(p, "listen: \"%s\" is not [IPv6]:PORT (expected e.g. [::1]:25)",
			    esc(e, s));
			return false;
		}
		hs = s + 1;
		hl = (size_t)(rb - hs);
		colon = rb + 1;
		v6 = true;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			perr(p, "listen: \"%s\" has no port (expected ADDR:PORT, e.g. "
			    "127.0.0.1:25, [::1]:25 or *:25)", esc(e, s));
			return false;
		}
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl) != NULL) {
			perr(p, "listen: \"%s\": an IPv6 address needs brackets (expected e.g. "
			    "[::1]:25)", esc(e, s));
			return false;
		}
	}
	if (hl == 0 || hl >= sizeof host) {
		perr(p, "listen: \"%s\" has no valid address before the port (expected IPv4, "
		    "[IPv6] or *)", esc(e, s));
		return false;
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (!all_digits(colon + 1)) {
		perr(p, "listen: port \"%s\" is not a number (expected 1..65535)",
		    esc(e, colon + 1));
		return false;
	}
	if (!parse_u64(colon + 1, UINT64_MAX, &port) || port < 1 || port > 65535) {
		perr(p, "listen: port %s is out of range (expected 1..65535)", esc(e, colon + 1));
		return false;
	}

	memset(&l->addr, 0, sizeof l->addr);
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->addr;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			perr(p, "listen: \"%s\" is not an IPv6 address (expected e.g. [::1] or [::])",
			    esc(e, host));
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
			perr(p, "listen: \"%s\" is not an IPv4 address (expected e.g. 127.0.0.1, "
			    "[IPv6] or *)", esc(e, host));
			return false;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		l->addrlen = sizeof *sin;
	}
	/* canonical text, so logs and duplicate messages show one spelling */
	char a[INET6_ADDRSTRLEN];
	if (v6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&l->addr)->sin6_addr, a, sizeof a);
		snprintf(l->text, sizeof l->text, "[%s]:%u", a, (unsigned)port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&l->addr)->sin_addr, a, sizeof a);
		snprintf(l->text, sizeof l->text, "%s:%u", a, (unsigned)port);
	}
	return true;
}

static void
do_listen(struct pctx *p, const struct directive_def *dd, char **av, unsigned ac)
{
	char e[CONF_ESC_MAX];
	struct conf_listen l;
	memset(&l, 0, sizeof l);
	l.line = p->line;
	l.tls = CONF_TLS_NONE;
	if (strcmp(av[0], "smtp") != 0) {
		perr(p, "listen: unknown kind \"%s\" (expected smtp)", esc(e, av[0]));
		return;
	}
	l.kind = CONF_LISTEN_SMTP;
	if (ac >= 3) {
		if (strcmp(av[2], "tls") != 0) {
			perr(p, "listen: unexpected \"%s\" (expected \"tls none|starttls|implicit\" "
			    "or nothing)", esc(e, av[2]));
			return;
		}
		if (ac == 3) {
			perr(p, "listen: \"tls\" needs a mode (expected none, starttls or implicit)");
			return;
		}
		if (strcmp(av[3], "none") == 0) {
			l.tls = CONF_TLS_NONE;
		} else if (strcmp(av[3], "starttls") == 0) {
			l.tls = CONF_TLS_STARTTLS;
		} else if (strcmp(av[3], "implicit") == 0) {
			l.tls = CONF_TLS_IMPLICIT;
		} else {
			perr(p, "listen: unknown tls mode \"%s\" (expected none, starttls or implicit)",
			    esc(e, av[3]));
			return;
		}
	}
	if (!parse_listen_addr(p, av[1], &l))
		return;
	struct conf *c = p->c;
	c->listens = xreallocarray(c->listens, c->n_listens + 1, sizeof *c->listens);
	c->listens[c->n_listens++] = l;
}

static void
do_path(struct pctx *p, const struct directive_def *dd, char **av, unsigned ac)
{
	char e[CONF_ESC_MAX];
	char *path = resolve_path(p, av[0]);
	if (strcmp(dd->name, "control") == 0 && strlen(path) > SUN_PATH_MAX)
		diag_warn(p->d, p->file, p->line, "control: %s is %zu bytes long; a socket path "
		    "holds at most %d", esc(e, path), strlen(path), SUN_PATH_MAX);
	if (strcmp(dd->name, "tls-cert") == 0)
		p->cert_line = p->line;
	if (strcmp(dd->name, "tls-key") == 0)
		p->key_line = p->line;
	*field(p->c, dd->off) = path;
}

static void
do_sys_user(struct pctx *p, const struct directive_def *dd, char **av, unsigned ac)
{
	char e[CONF_ESC_MAX];
	if (!valid_sys_user(av[0])) {
		perr(p, "%s: \"%s\" is not a valid user name (expected letters, digits, '_', '-' "
		    "or '.', at most 32, not starting with '-')", dd->name, esc(e, av[0]));
		return;
	}
	*field(p->c, dd->off) = xstrdup(av[0]);
}

static void
do_workers(struct pctx *p, const struct directive_def *dd, char **av, unsigned ac)
{
	uint64_t v;
	if (get_num(p, "workers", av[0], 1, 64, &v))
		p->c->workers = (unsigned)v;
}

static const struct limit_def {
	const char *name;
	size_t off;		/* unsigned field of struct conf; 0 for message-size */
	uint64_t min, max;
} limit_defs[] = {
	{ "message-size", 0, 1, UINT64_MAX },
	{ "recipients", offsetof(struct conf, max_rcpts), 1, 100000 },
	{ "connections", offsetof(struct conf, max_conns), 1, 1000000 },
	{ "connections-per-ip", offsetof(struct conf, max_conns_per_ip), 1, 1000000 },
	{ "command-timeout", offsetof(struct conf, cmd_timeout), 1, 86400 },
	{ "data-timeout", offsetof(struct conf, data_timeout), 1, 86400 },
	{ "errors", offsetof(struct conf, max_errors), 1, 1000000 },
	{ "shutdown-grace", offsetof(struct conf, shutdown_grace), 0, 3600 },
	{ "ipv6-client-prefix", offsetof(struct conf, ipv6_client_prefix), 1, 128 },
};

enum { LIMIT_PER_IP = 3 };	/* index of connections-per-ip above */

static void
do_limit(struct pctx *p, const struct directive_def *dd, char **av, unsigned ac)
{
	char e[CONF_ESC_MAX], what[64];
	size_t i;
	for (i = 0; i < NELEM(limit_defs); i++)
		if (strcmp(av[0], limit_defs[i].name) == 0)
			break;
	if (i == NELEM(limit_defs)) {
		perr(p, "unknown limit \"%s\" (expected one of: message-size, recipients, "
		    "connections, connections-per-ip, command-timeout, data-timeout, errors, "
		    "shutdown-grace, ipv6-client-prefix)", esc(e, av[0]));
		return;
	}
	const struct limit_def *ld = &limit_defs[i];
	if (p->first_limit[i] != 0) {
		perr(p, "limit %s given twice (first at line %u)", ld->name, p->first_limit[i]);
		return;
	}
	p->first_limit[i] = p->line;
	snprintf(what, sizeof what, "limit %s", ld->name);
	uint64_t v;
	if (ld->off == 0) {
		if (get_size(p, what, av[1], &v))
			p->c->max_message_size = v;
	} else if (get_num(p, what, av[1], ld->min, ld->max, &v)) {
		*(unsigned *)(void *)((char *)p->c + ld->off) = (unsigned)v;
	}
}

static void
do_log(struct pctx *p, const struct directive_def *dd, char **av, unsigned ac)
{
	char e[CONF_ESC_MAX];
	if (strcmp(av[0], "stderr") == 0) {
		p->c->log_stderr = true;
		p->c->log_syslog = false;
	} else if (strcmp(av[0], "syslog") == 0) {
		p->c->log_stderr = false;
		p->c->log_syslog = true;
	} else if (strcmp(av[0], "both") == 0) {
		p->c->log_stderr = true;
		p->c->log_syslog = true;
	} else {
		perr(p, "log: unknown destination \"%s\" (expected stderr, syslog or both)",
		    esc(e, av[0]));
	}
}

#define PATHDIR(n, f) { n, n " PATH", 1, 1, false, do_path, offsetof(struct conf, f) }

static const struct directive_def directives[] = {
	{ "hostname", "hostname NAME", 1, 1, false, do_hostname, 0 },
	{ "domain", "domain NAME [NAME...]", 1, UINT32_MAX, true, do_domain, 0 },
	{ "listen", "listen smtp ADDR:PORT [tls none|starttls|implicit]", 2, 4, true,
	    do_listen, 0 },
	PATHDIR("tls-cert", tls_cert),
	PATHDIR("tls-key", tls_key),
	PATHDIR("store", store),
	PATHDIR("spool", spool),
	PATHDIR("state", state),
	PATHDIR("users", users),
	PATHDIR("aliases", aliases),
	PATHDIR("control", control),
	{ "run-as", "run-as USER", 1, 1, false, do_sys_user, offsetof(struct conf, run_as) },
	{ "queue-user", "queue-user USER", 1, 1, false, do_sys_user,
	    offsetof(struct conf, queue_user) },
	{ "deliver-user", "deliver-user USER", 1, 1, false, do_sys_user,
	    offsetof(struct conf, deliver_user) },
	{ "policy-user", "policy-user USER", 1, 1, false, do_sys_user,
	    offsetof(struct conf, policy_user) },
	{ "admin-group", "admin-group GROUP", 1, 1, false, do_sys_user,
	    offsetof(struct conf, admin_group) },
	{ "workers", "workers N", 1, 1, false, do_workers, 0 },
	{ "limit", "limit NAME VALUE", 2, 2, true, do_limit, 0 },
	{ "log", "log stderr|syslog|both", 1, 1, false, do_log, 0 },
};

_Static_assert(NELEM(directives) <= NELEM(((struct pctx *)0)->first), "first[] too small");
_Static_assert(NELEM(limit_defs) <= NELEM(((struct pctx *)0)->first_limit),
    "first_limit[] too small");

static void
unknown_directive(struct pctx *p, const char *name)
{
	char e[CONF_ESC_MAX], list[512];
	size_t o = 0;
	for (size_t i = 0; i < NELEM(directives); i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "",
		    directives[i].name);
	perr(p, "unknown directive \"%s\" (expected one of: %s)", esc(e, name), list);
}

/* One line, already checked for length and NUL; s is writable and
 * NUL-terminated. */
static void
parse_line(struct pctx *p, char *s)
{
	char *tok[CONF_LINE_MAX / 2 + 1];
	unsigned n = 0;
	char *hash = strchr(s, '#');
	if (hash != NULL)
		*hash = '\0';
	for (char *q = s; *q; q++) {
		unsigned char ch = (unsigned char)*q;
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			perr(p, "control character 0x%02x at column %zu (expected printable text)",
			    ch, (size_t)(q - s) + 1);
			return;
		}
	}
	for (char *q = s;;) {
		while (*q == ' ' || *q == '\t')
			*q++ = '\0';
		if (*q == '\0')
			break;
		tok[n++] = q;
		while (*q && *q != ' ' && *q != '\t')
			q++;
	}
	if (n == 0)
		return;

	size_t i;
	for (i = 0; i < NELEM(directives); i++)
		if (strcmp(tok[0], directives[i].name) == 0)
			break;
	if (i == NELEM(directives)) {
		unknown_directive(p, tok[0]);
		return;
	}
	const struct directive_def *dd = &directives[i];
	if (p->first[i] != 0 && !dd->repeatable) {
		perr(p, "%s given twice (first at line %u)", dd->name, p->first[i]);
		return;
	}
	if (p->first[i] == 0)
		p->first[i] = p->line;
	unsigned ac = n - 1;
	if (ac < dd->min_args || ac > dd->max_args) {
		perr(p, "%s: wrong number of arguments (expected \"%s\", found %u argument%s)",
		    dd->name, dd->usage, ac, ac == 1 ? "" : "s");
		return;
	}
	dd->fn(p, dd, tok + 1, ac);
}

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

/* Checks over the whole file: required directives, TLS material, listeners
 * that would fight over one port. */
static void
final_checks(struct pctx *p)
{
	static const char *const required[] = {
		"hostname", "domain", "listen", "store", "spool", "state", "users", "aliases",
	};
	struct conf *c = p->c;
	const void *have[] = {
		c->hostname, c->n_domains ? c : NULL, c->n_listens ? c : NULL, c->store,
		c->spool, c->state, c->users, c->aliases,
	};
	_Static_assert(NELEM(required) == NELEM(have), "required[] and have[] differ");
	for (size_t i = 0; i < NELEM(required); i++) {
		if (have[i] != NULL)
			continue;
		/* given but every value was bad: that line already has an error */
		size_t j;
		for (j = 0; j < NELEM(directives); j++)
			if (strcmp(directives[j].name, required[i]) == 0)
				break;
		if (j < NELEM(directives) && p->first[j] != 0)
			continue;
		diag_err(p->d, p->file, 0, "missing required directive \"%s\"", required[i]);
		p->n_err++;
	}

	bool tls_used = false;
	for (size_t i = 0; i < c->n_listens && !tls_used; i++) {
		const struct conf_listen *l = &c->listens[i];
		if (l->tls == CONF_TLS_NONE)
			continue;
		tls_used = true;
		if (c->tls_cert == NULL || c->tls_key == NULL) {
			p->line = l->line;
			perr(p, "listen %s uses tls %s, which needs tls-cert and tls-key (missing: %s)",
			    l->text, l->tls == CONF_TLS_STARTTLS ? "starttls" : "implicit",
			    c->tls_cert == NULL && c->tls_key == NULL ? "both" :
			    c->tls_cert == NULL ? "tls-cert" : "tls-key");
		}
	}
	if (!tls_used && (c->tls_cert == NULL) != (c->tls_key == NULL)) {
		p->line = c->tls_cert ? p->cert_line : p->key_line;
		perr(p, "%s given without %s (expected both or neither)",
		    c->tls_cert ? "tls-cert" : "tls-key", c->tls_cert ? "tls-key" : "tls-cert");
	}

	for (size_t i = 1; i < c->n_listens; i++) {
		const struct conf_listen *l = &c->listens[i];
		for (size_t j = 0; j < i; j++) {
			const struct conf_listen *o = &c->listens[j];
			if (o->addr.ss_family != l->addr.ss_family || port_of(o) != port_of(l))
				continue;
			p->line = l->line;
			if (strcmp(o->text, l->text) == 0) {
				perr(p, "listen %s given twice (first at line %u)", l->text, o->line);
				break;
			}
			if (is_wildcard(o) || is_wildcard(l)) {
				perr(p, "listen %s overlaps listen %s at line %u (expected one "
				    "listener per port when one is a wildcard)", l->text, o->text,
				    o->line);
				break;
			}
		}
	}

	/* only when both were chosen: the default 20 over "limit connections 2"
	 * is not worth a message */
	if (p->first_limit[LIMIT_PER_IP] != 0 && c->max_conns_per_ip > c->max_conns)
		diag_warn(p->d, p->file, p->first_limit[LIMIT_PER_IP],
		    "limit connections-per-ip %u is more than limit connections %u",
		    c->max_conns_per_ip, c->max_conns);
}

struct conf *
conf_parse(const char *text, size_t len, const char *file, struct diag *d)
{
	struct pctx p;
	char *line = xmalloc(CONF_LINE_MAX + 1);
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
	c->log_stderr = true;
	c->log_syslog = false;

	memset(&p, 0, sizeof p);
	p.c = c;
	p.d = d;
	p.file = file;
	p.base = base_dir(&p, file);

	const char *s = text, *end = text + len;
	bool stopped = false;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - s);
		p.line++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		const char *nul = memchr(s, '\0', n);
		if (n > CONF_LINE_MAX)
			perr(&p, "line is %zu bytes long (expected at most %d)", n, CONF_LINE_MAX);
		else if (nul != NULL)
			perr(&p, "NUL byte at column %zu (expected text)", (size_t)(nul - s) + 1);
		else {
			memcpy(line, s, n);
			line[n] = '\0';
			parse_line(&p, line);
		}
		s = nl ? nl + 1 : end;
		if (p.n_err >= CONF_ERRORS_MAX && s < end) {
			diag_err(d, file, 0, "too many errors, stopped after line %u", p.line);
			stopped = true;
			break;
		}
	}
	if (!stopped)
		final_checks(&p);
	/* the control socket lives in the state directory unless named */
	if (c->control == NULL && c->state != NULL)
		c->control = xasprintf("%s/control.sock", c->state);
	free(line);
	free(p.base);
	return c;
}

struct conf *
conf_load(const char *file, struct diag *d)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	struct conf *c = NULL;

	if (fd < 0) {
		diag_err(d, file, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		diag_err(d, file, 0, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		diag_err(d, file, 0, "is a directory (expected the config file)");
		goto out;
	}
	text = xmalloc(CONF_FILE_MAX + 1);
	for (;;) {
		ssize_t r = read(fd, text + len, CONF_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diag_err(d, file, 0, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONF_FILE_MAX) {
			diag_err(d, file, 0, "file is larger than %u bytes (expected a config file)",
			    CONF_FILE_MAX);
			goto out;
		}
	}
	c = conf_parse(text, len, file, d);
out:
	free(text);
	close(fd);
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
	free(c->listens);
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
	free(c);
	*cp = NULL;
}

bool
conf_is_local_domain(const struct conf *c, const char *domain)
{
	if (c == NULL || domain == NULL)
		return false;
	for (size_t i = 0; i < c->n_domains; i++)
		if (ascii_strcaseeq(c->domains[i], domain))
			return true;
	return false;
}

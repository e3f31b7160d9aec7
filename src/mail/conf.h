/*
 * mail/conf.h - talon.conf: line-based directives, errors with file:line.
 *
 * Input:   the config file (trusted to be written by the admin, but still
 *          parsed defensively: any byte may appear).
 * Output:  struct conf, all strings owned by it; relative paths are resolved
 *          against the directory of the config file.
 * Runs in: parent and CLI.  Children receive a parsed copy through fork().
 *
 * Grammar (one directive per line, '#' starts a comment, tokens separated
 * by blanks, no quoting):
 *   hostname NAME
 *   domain NAME [NAME...]                 (repeatable) local domains
 *   listen KIND ADDR:PORT [tls none|starttls|implicit]
 *        KIND is "smtp"; ADDR is IPv4, "[IPv6]" or "*"
 *   tls-cert PATH / tls-key PATH
 *   store PATH / spool PATH / state PATH / users PATH / aliases PATH
 *   control PATH           control socket (default STATE/control.sock)
 *   run-as USER            smtp workers' user when started as root
 *   deliver-user USER      Maildir delivery user (owner of the store)
 *   queue-user USER        queue process user when started as root
 *   policy-user USER       policy process user when started as root
 *   admin-group GROUP      members may use the control socket (root always)
 *   workers N              smtp worker processes (SO_REUSEPORT), 1..64
 *   limit message-size BYTES[k|m|g]
 *   limit recipients N
 *   limit connections N
 *   limit connections-per-ip N
 *   limit command-timeout SECONDS
 *   limit data-timeout SECONDS
 *   limit errors N
 *   limit shutdown-grace SECONDS
 *   limit ipv6-client-prefix N   connections-per-ip counts IPv6 by /N (1..128)
 *   limit session-time SECONDS   a whole session, 1..86400 (3600)
 *   limit junk-commands N        NOOP, RSET, VRFY, HELP per session (100)
 *   limit tls-handshake-timeout SECONDS   1..3600 (30)
 *   limit queue-lifetime SECONDS  retries stop, 1..5184000 (432000: 5 days)
 *   log stderr|syslog|both [SOCKET]   syslog socket default /dev/log
 *   resolver forward ADDR[@PORT]... [trust-anchor FILE] | recursive [ANCHOR-FILE] | system
 *        how the mail checks resolve (dns/resolve.h); default system
 *        (/etc/resolv.conf); recursive validates with the root trust
 *        anchor (default /usr/share/dns/root.key)
 *   limit resolver-timeout SECONDS   one lookup, 1..120 (10)
 *   spf-fail reject|record   SPF fail at MAIL FROM: 550 5.7.23 or only
 *        noted in Authentication-Results (default reject)
 *   authserv-id NAME         Authentication-Results id (default hostname)
 *   access PATH              sendmail-style access map (policy/access.h);
 *        none when absent
 *
 * Details fixed by the config engine (core/cfg.h): '#' anywhere starts a
 * comment; a CR before the LF is ignored; a line holds at most 4096 bytes
 * and no NUL or control byte other than tab (outside its comment); sizes
 * take k/m/g (1024 multiples).  Fixed by conf.c: hostname and domains are
 * host names (mail/domain.h, DOMAIN_HOSTNAME).  Limits' ranges:
 * recipients 1..100000, connections and connections-per-ip 1..1000000,
 * command-/data-timeout 1..86400, errors 1..1000000, shutdown-grace
 * 0..3600, message-size at least 1.  "*" in listen means 0.0.0.0 (use
 * "[::]" for all IPv6); two listeners on one port where one is a wildcard
 * of the same family are an error, and so are two with the same text
 * (sockaddr_text: an IPv4-mapped IPv6 address reads as its IPv4 address).
 * Paths are made absolute and cleaned lexically ("//" and "." dropped,
 * ".." kept).  A domain given twice is a warning.  The same "limit NAME"
 * twice is an error like other directives.
 */
#ifndef TALON_CONF_H
#define TALON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/diag.h"
#include "core/prefix.h"
#include "core/sockaddr.h"

/* longest hostname: Maildir names are "TIME.QQIDIIDX.HOST,S=SIZE" (at most
 * 70 bytes besides HOST) plus ":2,FLAGS" (up to 29) within NAME_MAX */
#define CONF_HOSTNAME_MAX 150

enum conf_resolver { CONF_RESOLVER_SYSTEM = 0, CONF_RESOLVER_FORWARD, CONF_RESOLVER_RECURSIVE };
#define CONF_FORWARD_MAX	8

enum conf_tls { CONF_TLS_NONE = 0, CONF_TLS_STARTTLS, CONF_TLS_IMPLICIT };
enum conf_listen_kind { CONF_LISTEN_SMTP = 0, CONF_LISTEN_DNS };

struct conf_listen {
	enum conf_listen_kind kind;
	enum conf_tls tls;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[SOCKADDR_TEXT_MAX];	/* sockaddr_text: "127.0.0.1:2525", "[::1]:2525" */
	unsigned line;		/* where it was declared */
};

#define CONF_ZONE_PEERS_MAX	64	/* allow-transfer prefixes, notify targets */

/* An authoritative zone (`zone ORIGIN FILE [allow-transfer PREFIX...]
 * [notify ADDR:PORT...]`). */
struct conf_zone {
	char *origin;		/* lowercased, with the final dot */
	char *file;		/* absolute */
	unsigned line;
	struct prefix allow[CONF_ZONE_PEERS_MAX];
	size_t n_allow;
	struct conf_listen notify[CONF_ZONE_PEERS_MAX];
	size_t n_notify;
	char *transfer_key;	/* a tsig-key name, or NULL */
};

/* A TSIG key (`tsig-key NAME hmac-sha256 SECRET`). */
struct conf_tsig {
	char *name;		/* lowercased, with the final dot */
	char *secret;		/* base64, checked */
	unsigned line;
};

struct conf {
	char *file;		/* path of the config file as given */
	char *hostname;
	char **domains;		/* lowercased */
	size_t n_domains;
	struct conf_listen *listens;	/* smtp */
	size_t n_listens;
	struct conf_listen *dns_listens;	/* each one UDP and TCP */
	size_t n_dns_listens;
	struct conf_zone *zones;
	size_t n_zones;
	struct conf_tsig *tsig;
	size_t n_tsig;
	char *tls_cert, *tls_key;	/* NULL when not set */
	char *store, *spool, *state, *users, *aliases, *control;
	char *run_as, *queue_user, *deliver_user, *policy_user, *dns_user; /* NULL: defaults */
	char *admin_group;	/* may use the control socket besides root */
	unsigned workers;
	uint64_t max_message_size;	/* default 25 MiB */
	unsigned max_rcpts;		/* default 100 */
	unsigned max_conns;		/* default 500 */
	unsigned max_conns_per_ip;	/* default 20 */
	unsigned cmd_timeout;		/* seconds, default 300 */
	unsigned data_timeout;		/* seconds, default 600 */
	unsigned max_errors;		/* default 10 */
	unsigned shutdown_grace;	/* seconds, default 10 */
	unsigned ipv6_client_prefix;	/* an IPv6 client is its /N, default 64 */
	unsigned session_time;		/* seconds a session may last, default 3600 */
	unsigned max_junk;		/* NOOP/RSET/VRFY/HELP per session, default 100 */
	unsigned tls_timeout;		/* seconds for a TLS handshake, default 30 */
	unsigned queue_lifetime;	/* seconds a message is retried, default 5 days */
	unsigned dns_rate;		/* DNS responses/s per client prefix, default 200; 0 off */
	enum conf_resolver resolver;
	char *forward[CONF_FORWARD_MAX];	/* "127.0.0.1@2053", libunbound's form */
	size_t n_forward;
	char *trust_anchor;		/* recursive: root key file; forward: optional */
	unsigned resolver_timeout;	/* seconds per lookup, default 10 */
	bool spf_fail_reject;		/* default true */
	char *authserv_id;		/* default: hostname */
	char *access;			/* access map file, absolute; NULL: none */
	bool log_stderr, log_syslog;	/* default stderr only */
	char *log_path;			/* syslog socket, default /dev/log */
};

/* Parse text (len bytes, need not be NUL-terminated) as if read from file
 * `file`.  All problems go to d; returns the conf (even with errors, for
 * checking) or NULL only on unrecoverable errors.  Checks done here: syntax,
 * ranges, required directives (hostname, at least one domain, at least one
 * listen, store, spool, state, users, aliases), tls-cert/tls-key required
 * when a listener uses TLS, duplicate listeners. */
struct conf *conf_parse(const char *text, size_t len, const char *file, struct diag *d);
/* Read (core/afile.h, at most 1 MiB) and parse a file; a read error is
 * reported in d as "file: ..." and gives NULL. */
struct conf *conf_load(const char *file, struct diag *d);
void conf_free(struct conf **c);
/* Is domain (any case) one of our local domains?  domain_in_list() over
 * c->domains; false for a NULL c or domain. */
bool conf_is_local_domain(const struct conf *c, const char *domain);

#endif

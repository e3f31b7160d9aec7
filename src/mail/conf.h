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
 * Inbound defences (all off unless configured):
 *   listen smtp ADDR:PORT [tls MODE] [allow PREFIX...]   only these clients
 *        (others are closed at once, as a firewall would drop them)
 *   deny reject|drop PREFIX...   (repeatable) every smtp listener: reject
 *        answers 554 and closes, drop closes at once
 *   mynetworks PREFIX...     (repeatable) trusted clients: may relay, skip
 *        blocklists and greylisting, are never banned
 *   dnsbl ZONE [codes A.B.C.D,...] [text [CODE [X.Y.Z]] WORDS...]
 *   rhsbl ZONE helo|from|both [codes ...] [text ...]
 *        (repeatable, checked in order) DNS blocklists of client addresses
 *        (IPv4 and IPv6) and of HELO / MAIL FROM domains; {ip} or
 *        $&{client_addr} in the text is the client address, {domain} the
 *        listed domain; default reply 550 5.7.1
 *   dnsbl-reject rcpt|connect    where a listed client is refused (rcpt)
 *   limit greet-pause MS         wait before the banner; talking first is 554
 *   pipelining-check on|off      commands sent before their reply without
 *        PIPELINING: 554 5.5.0 and close (off)
 *   greylist off|on|listed       listed: only clients a dnsbl lists
 *   greylist-exempt PREFIX|DOMAIN...   (repeatable) networks, sender domains
 *   limit greylist-delay SECONDS (300), greylist-window SECONDS (14400),
 *        greylist-keep SECONDS (3024000), greylist-auto-allow N (5; 0 off),
 *        greylist-ipv4-prefix N (24), greylist-ipv6-prefix N (64)
 *   auto-ban on|off              points per event, a ban over the threshold
 *   ban-points EVENT N           (repeatable) policy/bans.h event names
 *   limit ban-threshold N (10), ban-window SECONDS (86400),
 *        ban-time SECONDS (3600, doubling on each repeat),
 *        ban-time-max SECONDS (2592000)
 *   limit connection-rate N      connections per minute per client (0 off)
 *   limit messages-per-connection N   (0 off)
 * IMAP (src/imap/, src/auth/):
 *   listen imap ADDR:PORT tls starttls|implicit [allow PREFIX...]
 *   limit imap-autologout SECONDS   idle time after login, 1..86400 (1800);
 *        before login min(60, this)
 *   limit imap-connections-per-user N   logged-in sessions of one user from
 *        one address, 1..1000 (10); then NO [LIMIT]
 *   auth-user USER / imap-user USER  the auth and imap processes' users
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

/* longest hostname: Maildir names are "TIME.QQIDIIDX.HOST,S=SIZE,W=SIZE"
 * (at most 93 bytes besides HOST) plus ":2,FLAGS" (up to 29) within
 * NAME_MAX */
#define CONF_HOSTNAME_MAX 128

enum conf_resolver { CONF_RESOLVER_SYSTEM = 0, CONF_RESOLVER_FORWARD, CONF_RESOLVER_RECURSIVE };
#define CONF_FORWARD_MAX	8

enum conf_tls { CONF_TLS_NONE = 0, CONF_TLS_STARTTLS, CONF_TLS_IMPLICIT };
enum conf_listen_kind { CONF_LISTEN_SMTP = 0, CONF_LISTEN_DNS, CONF_LISTEN_IMAP };

struct conf_listen {
	enum conf_listen_kind kind;
	enum conf_tls tls;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[SOCKADDR_TEXT_MAX];	/* sockaddr_text: "127.0.0.1:2525", "[::1]:2525" */
	unsigned line;		/* where it was declared */
	struct prefix *allow;	/* `allow PREFIX...`: only these clients; NULL: all */
	size_t n_allow;
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

/* A DNS blocklist (`dnsbl`, `rhsbl`). */
#define CONF_BL_MAX		16
#define CONF_BL_CODES_MAX	16
#define CONF_BL_TEXT_MAX	400
enum { CONF_BL_IP = 1, CONF_BL_HELO = 2, CONF_BL_FROM = 4 };
struct conf_bl {
	char *zone;		/* lowercased, no final dot */
	unsigned what;		/* CONF_BL_IP, or CONF_BL_HELO and/or CONF_BL_FROM */
	uint32_t codes[CONF_BL_CODES_MAX];	/* answers that count (127.x.y.z, host
						 * order); none: any in 127/8 */
	size_t n_codes;
	unsigned code;		/* reply code, 550 unless the text starts with one */
	char esc[12];		/* enhanced status code, "5.7.1" unless given */
	char *text;		/* reply text with {ip} / $&{client_addr} / {domain} */
	unsigned line;
};

/* `deny reject|drop PREFIX...`: the global block list of the listeners. */
struct conf_deny {
	struct prefix p;
	bool drop;		/* close at once; else 554 and close */
	unsigned line;
};

enum conf_grey { CONF_GREY_OFF = 0, CONF_GREY_ON, CONF_GREY_LISTED };
#define CONF_BAN_EVENTS	8	/* policy/bans.h BAN_EV__MAX */

struct conf {
	char *file;		/* path of the config file as given */
	char *hostname;
	char **domains;		/* lowercased */
	size_t n_domains;
	struct conf_listen *listens;	/* smtp */
	size_t n_listens;
	struct conf_listen *dns_listens;	/* each one UDP and TCP */
	size_t n_dns_listens;
	struct conf_listen *imap_listens;	/* tls starttls or implicit */
	size_t n_imap_listens;
	char *auth_user, *imap_user;	/* NULL: _talonauth, _talonimap */
	unsigned imap_autologout;	/* seconds idle after login, default 1800 */
	unsigned imap_user_conns;	/* sessions per user and address, default 10 */
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
	uint64_t quota_bytes;		/* limit mailbox-quota: per user, every folder
					 * together; 0 none (the default) */
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
	/* inbound defences (policy/): all off unless configured */
	struct conf_deny *denies;
	size_t n_denies;
	struct prefix *mynetworks;	/* trusted: relay, no blocklists, greylisting, bans */
	size_t n_mynetworks;
	struct conf_bl *bls;		/* in config order: the first listing one answers */
	size_t n_bls;
	bool bl_at_connect;		/* dnsbl-reject connect (default: at RCPT) */
	unsigned greet_pause;		/* milliseconds before the banner, 0 off */
	bool pipelining_check;		/* commands before their reply without PIPELINING */
	enum conf_grey greylist;
	unsigned grey_delay, grey_window, grey_keep, grey_auto_allow;	/* seconds, passes */
	unsigned grey_v4_prefix, grey_v6_prefix;
	struct prefix *grey_nets;	/* greylist-exempt networks */
	size_t n_grey_nets;
	char **grey_domains;		/* greylist-exempt sender domains (and subdomains) */
	size_t n_grey_domains;
	bool auto_ban;
	unsigned ban_points[CONF_BAN_EVENTS];	/* UINT_MAX: the default of bans.c */
	unsigned ban_threshold, ban_window, ban_time, ban_time_max;
	unsigned conn_rate;		/* connections per minute per client network, 0 off */
	unsigned max_msgs;		/* messages per connection, 0 off */
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

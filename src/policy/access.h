/*
 * policy/access.h - the sendmail-compatible access map, read from its text
 * file (no makemap step).
 *
 * File format: one entry a line, "[Tag:]key<blanks>action"; blank lines
 * and lines whose first non-blank byte is '#' are comments.  Keys and tags
 * are case-insensitive (makemap lowercases them).  Tags: Connect:, From:,
 * To:, Spam:.  An untagged key applies to Connect:, From: and To: (never
 * to Spam:, which sendmail looks up with its tag only).
 *
 * Keys:
 *   192.0.2.1  198.51.100  7   IPv4 address, or a prefix on octet
 *                              boundaries ("7" is 7.0.0.0/8)
 *   IPv6:2001:db8::1           IPv6 address ("::" makes it a full address)
 *   IPv6:2001:db8:bad          IPv6 prefix on 16-bit group boundaries (/48)
 *   192.0.2.0/25  IPv6:2001:db8::/32   CIDR (our extension; host bits must
 *                              be zero)
 *   example.com                that host or domain and every name under it
 *   .example.com               names under example.com only (lookupdotdomain)
 *   [192.0.2.1]  [192.0.2]  [IPv6:2001:db8::1]   an address literal as a
 *                              host name: a domain "[192.0.2.1]" in an
 *                              address, or a Connect: client without a
 *                              verified name (sendmail's ${client_name})
 *   user@example.com           that address; "user+*@example.com" matches
 *                              any +detail of user
 *   user@                      that local part at any domain
 * Actions: OK, RELAY, REJECT, DISCARD, SKIP, ERROR:x.y.z:nnn text,
 * ERROR:nnn text, "nnn text" (text may be "quoted"; a text starting with
 * x.y.z gives the enhanced code), FRIEND and HATER (Spam: only, which takes
 * nothing else).  nnn is 4xx or 5xx; x.y.z must be of the same class.
 * Other sendmail tags (GreetPause:, ClientRate:, TLS_Clt: ...) are warned
 * about and ignored.  A key given twice (same tag, same key after
 * normalising: "7" and "7.0.0.0/8" are one key) is a warning naming both
 * lines; the first wins, as makemap without -r.
 *
 * Lookup order (sendmail 8.18 cf/m4/proto.m4, rulesets D, A, F, U,
 * SearchList, Basic_check_relay, Basic_check_mail, Rcpt_ok, check_rcpt):
 * at every step the tagged key first, then the untagged one; the first
 * entry found wins.
 *   domain walk (D, with FEATURE(lookupdotdomain)): for a.b.c: a.b.c,
 *       .b.c, b.c, .c, c.  A literal [ip] walks its prefixes, longest first.
 *   address walk (A): every prefix length present in the map, longest
 *       first (/32, /24, /16, /8 for the octet forms).
 *   full (F): user+det@dom, user+*@dom, user@dom.   user (U): likewise
 *       user+det@, user+*@, user@.
 *   Connect:  the host name's domain walk (or, with no verified name, the
 *       literal walk of [address]), then the address walk.
 *   From:     F, U, D (sendmail check_mail); no domain: U.  The null
 *       sender "" is never looked up (sendmail accepts <> before the map:
 *       RFC 1123 5.2.9).
 *   To:       F, U, D (blacklist_recipients; U only for local domains in
 *       sendmail, see access_rcpt); no domain ("Postmaster"): U.
 *   Spam:     F, D, U, with the Spam: tag only (delay_checks friend/hater).
 * SKIP ends the walk it was found in without a result: on a Connect: name
 * the address walk still runs; in From:/To: the remaining steps run (D is
 * the last of them); sendmail allows SKIP only on host, domain and address
 * keys, so SKIP on a user@ key is a parse error here.
 *
 * What the caller does with each action (sendmail's meaning):
 *   OK        accept this client/sender/recipient even if later checks
 *             (DNSBLs, SPF, greylisting...) would refuse it; not relaying.
 *   RELAY     Connect: the client may relay (and OK).  To: relaying to this
 *             recipient or domain is allowed (Talon behaves as sendmail
 *             with relaytofulladdress).  From: RELAY means OK
 *             (relay_mail_from is not implemented): access_from reports OK.
 *   REJECT    550 5.7.1 Access denied (code, esc and text are filled).
 *   DISCARD   accept to the end of DATA, then drop the message silently
 *             (Connect:/From:/To: all discard the whole message).
 *   SKIP      no opinion: treat as no match (reported so that `talon
 *             access test` can show the line).
 *   ERROR     reply with code/esc/text (4xx is a temporary refusal).
 *   FRIEND    Spam: exempt the recipient from blocklist refusals and
 *             greylisting.  HATER (and no match) is the default.
 *
 * Runs in: policy (lookups), parent and CLI (parsing).  Pure: no I/O but
 * access_load.  Trusts nothing in the file nor in the looked-up keys.
 */
#ifndef TALON_ACCESS_H
#define TALON_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/diag.h"

#define ACCESS_FILE_MAX		(64u << 20)	/* bytes read by access_load */
#define ACCESS_LINE_MAX		2048		/* bytes a line */
#define ACCESS_ENTRIES_MAX	2000000		/* entries a map */
#define ACCESS_KEY_MAX		299		/* a key as written, with its tag */
#define ACCESS_TEXT_MAX		399		/* reply text */

enum access_tag { ACCESS_CONNECT = 0, ACCESS_FROM, ACCESS_TO, ACCESS_SPAM };

enum access_action {
	ACCESS_NONE = 0,	/* no entry matched */
	ACCESS_OK, ACCESS_RELAY, ACCESS_REJECT, ACCESS_DISCARD, ACCESS_SKIP,
	ACCESS_ERROR,		/* a custom reply: ERROR:..., "nnn text", 4xx */
	ACCESS_FRIEND, ACCESS_HATER,	/* Spam: only */
};

struct access_result {
	enum access_action action;
	uint16_t code;		/* REJECT: 550; ERROR: the code given (4xx or 5xx) */
	char esc[12];		/* enhanced status code: given, or derived ("5.7.1" for
				 * REJECT and for a 5xx text without one; 4.7.1 for 4xx
				 * without one), RFC 3463 */
	char text[400];		/* the reply text after the codes (REJECT: "Access
				 * denied"); printable ASCII only */
	const char *file;	/* the map's file name (lives as long as the map) */
	unsigned line;		/* the line that matched */
	char key[300];		/* the key as written on that line, with its tag */
	/* added: */
	enum access_action written;	/* the action on the line (RELAY where
					 * access_from reports OK) */
};

struct access_map;

/* Parse text (len bytes) read from file; problems go to d as file:line
 * (errors and warnings).  Returns NULL when there are errors (the caller
 * keeps its old map). */
struct access_map *access_parse(const char *text, size_t len, const char *file, struct diag *d);
/* Read (core/afile.h, at most ACCESS_FILE_MAX bytes) and parse. */
struct access_map *access_load(const char *file, struct diag *d);
void access_free(struct access_map **m);
size_t access_count(const struct access_map *m);	/* entries (duplicates not counted) */

/* Connect: the client address (AF_INET/AF_INET6 sockaddr, an IPv4-mapped
 * address counts as IPv4) and its verified host name (NULL when none). */
bool access_connect(const struct access_map *m, const struct sockaddr *sa, const char *host,
    struct access_result *r);
/* From: / To: / Spam: an address "local@domain" ("" for the null sender;
 * "Postmaster" without a domain may come for To:); the domain may be an
 * address literal "[192.0.2.1]".  access_to treats every domain as local
 * (user@ keys apply); access_rcpt says which. */
bool access_from(const struct access_map *m, const char *addr, struct access_result *r);
bool access_to(const struct access_map *m, const char *addr, struct access_result *r);
bool access_spam(const struct access_map *m, const char *addr, struct access_result *r);
/* added: To:/Spam: exactly as sendmail: user@ keys apply only when the
 * recipient's domain is one of ours (class {w}). */
bool access_rcpt(const struct access_map *m, const char *addr, bool domain_is_local,
    struct access_result *r);
bool access_spam_rcpt(const struct access_map *m, const char *addr, bool domain_is_local,
    struct access_result *r);

/* For `talon access test`: look KEY up as the daemon would for tag (an IP
 * address, a host name or an address, as fits the tag). */
bool access_test(const struct access_map *m, enum access_tag tag, const char *key,
    struct access_result *r);

/* added: "OK", "REJECT", "ERROR" ...; "NONE" for ACCESS_NONE. */
const char *access_action_name(enum access_action a);
/* added: "Connect", "From", "To", "Spam"; parses them without case. */
const char *access_tag_name(enum access_tag t);
bool access_tag_parse(const char *s, enum access_tag *t);

#endif

/*
 * dns/zonefile.h - the master file parser (RFC 1035 5, RFC 2308 4 for
 * $TTL, RFC 3597 5 for unknown types).
 *
 * Records come out one at a time through a callback, in file order, with
 * owner and rdata in uncompressed wire form and the case as written; the
 * caller builds the zone from them.  Every problem goes into a diag as
 * "file:line:column: what was found (what was expected)"; parsing goes on
 * at the next record, up to DNS_ZONEFILE_ERRORS_MAX errors, so an admin
 * sees several mistakes at once.
 *
 * Syntax: $ORIGIN, $TTL (with units), $INCLUDE file [origin] (path
 * relative to the including file's directory, at most
 * DNS_ZONEFILE_DEPTH_MAX deep; the include's $ORIGIN and $TTL do not leak
 * back), "@", relative and absolute names, a blank owner (leading
 * whitespace) for the previous owner, TTL and class in either order and
 * both optional, class IN only, parentheses across lines, ';' comments,
 * quoted strings with \" \\ \DDD, and the types of dns/rr.h in the
 * presentation form BIND writes, or any type in RFC 3597 form.
 *
 * Runs in: parent and CLI ("talon zone check" calls exactly this).
 * Trusts: nothing in the text; the origin and file name from the caller.
 */
#ifndef TALON_DNS_ZONEFILE_H
#define TALON_DNS_ZONEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

#define DNS_ZONEFILE_MAX	(512u << 20)	/* bytes of a file and the includes it is reading */
#define DNS_ZONEFILE_DEPTH_MAX	8	/* nested $INCLUDE levels */
#define DNS_ZONEFILE_ERRORS_MAX	100	/* then the parse stops */
#define DNS_TTL_MAX		2147483647u	/* RFC 2181 8 */

struct dns_rr {
	const uint8_t *owner;	/* wire, case as written */
	uint16_t type, rclass;	/* rclass always DNS_C_IN */
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;	/* wire form, names uncompressed, case as written */
	const char *file;	/* the file it came from ($INCLUDE) */
	unsigned line;		/* line where the record starts */
};

/* Called once per record; the pointers are valid only during the call.
 * Return 0 to go on, -1 to stop the parse (dns_zonefile_parse then
 * returns -1 without adding a message). */
typedef int dns_rr_fn(void *arg, const struct dns_rr *rr);

/* Parse the master file at path file.  origin is the zone origin in wire
 * form: owner names must be at or below it ("out of zone" otherwise), and
 * it is the starting $ORIGIN.  It may be NULL when the file sets $ORIGIN
 * before any record; the first $ORIGIN is then the zone origin.  Reads
 * the file with afile_read (at most DNS_ZONEFILE_MAX bytes).  0 when the
 * file had no error (warnings allowed), else -1. */
int dns_zonefile_parse(const char *file, const uint8_t *origin, dns_rr_fn *fn, void *arg,
    struct diag *d);
/* The same on text[0..len) in memory (tests, the fuzzer); file names it in
 * messages.  $INCLUDE is refused ("$INCLUDE not allowed here") unless
 * allow_include. */
int dns_zonefile_parse_text(const char *file, const char *text, size_t len,
    const uint8_t *origin, bool allow_include, dns_rr_fn *fn, void *arg, struct diag *d);

/* A TTL in text: decimal seconds, or numbers with units s m h d w (any
 * case, each number followed by its unit: "1h30m", "2W"), at most max.
 * false on anything else. */
bool dns_ttl_from_text(const char *s, size_t n, uint32_t max, uint32_t *ttl);

#endif

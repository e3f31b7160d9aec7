/*
 * dns/name.h - domain names in uncompressed wire form.
 *
 * A name is held as length-prefixed labels ending with the zero-length
 * root label (RFC 1035 3.1): at most DNS_NAME_MAX bytes in all, labels of
 * at most DNS_LABEL_MAX bytes.  Label bytes are data: any value, case kept
 * as written; comparisons fold ASCII case only (RFC 4343).
 *
 * Functions that take a bare "const uint8_t *name" trust it to be a valid
 * name (one that came out of dns_name_from_text, dns_name_unpack or
 * dns_name_check); everything read from text or the network goes through
 * one of those three first.
 *
 * Runs in: dns role, parent and CLI (zone files).  Trusts: nothing in
 * text or packets.
 */
#ifndef TALON_DNS_NAME_H
#define TALON_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX		255	/* bytes of wire form, RFC 1035 2.3.4 */
#define DNS_LABEL_MAX		63	/* bytes of one label */
#define DNS_NAME_TEXT_MAX	1024	/* worst case escaped text incl. NUL */
#define DNS_NAME_LABELS_MAX	128	/* labels incl. the root a valid name can have */
#define DNS_PTR_HOPS_MAX	128	/* compression pointers followed per name */

/* Presentation text s[0..n) to wire form in out.  Handles \DDD and \X
 * escapes, "." for the root, absolute names (trailing dot) and relative
 * ones (origin appended; a NULL origin makes a relative name an error).
 * "@" is not special here (the zone parser handles it).  Returns the wire
 * length, or -1 with *err set to a static message: "label longer than 63
 * bytes", "name longer than 255 bytes", "empty label", "bad escape" or
 * "relative name without an origin". */
int dns_name_from_text(const char *s, size_t n, const uint8_t *origin,
    uint8_t out[DNS_NAME_MAX], const char **err);
/* Presentation text of name with a trailing dot, NUL-terminated; '.', '\\',
 * '"', '(', ')', ';', '@', '$' are escaped with a backslash and bytes
 * outside 0x21..0x7e as \DDD, so the text reads back as the same bytes.
 * Returns the text length (without the NUL). */
size_t dns_name_to_text(const uint8_t *name, char out[DNS_NAME_TEXT_MAX]);

/* One byte of presentation text at *p (before end) with the \DDD and \X
 * escapes of RFC 1035 5.1 decoded; *p is advanced past it.  -1 for an
 * escape cut off by end or a \DDD above 255.  The one escape decoder for
 * names and character-strings. */
int dns_text_byte(const char **p, const char *end);

/* Wire length of the valid uncompressed name at the start of p[0..len),
 * root label included, or -1 when there is none (truncated, a label type
 * other than 00 such as a compression pointer, longer than 255 bytes).
 * Bytes after the name are the caller's business.  The check for names
 * inside rdata (dns_rdata_valid). */
int dns_name_check(const uint8_t *p, size_t len);

size_t dns_name_len(const uint8_t *name);		/* incl. the root label */
unsigned dns_name_labels(const uint8_t *name);		/* the root has 0 */
bool dns_name_eq(const uint8_t *a, const uint8_t *b);	/* ASCII case-insensitive */
/* name equals zone or is below it (ASCII case-insensitive). */
bool dns_name_under(const uint8_t *name, const uint8_t *zone);
/* Canonical order of RFC 4034 6.1: labels compared from the right as
 * lowercased byte strings, a label that is a prefix of another sorts
 * first, and a name sorts before the names below it.  <0, 0, >0. */
int dns_name_canon_cmp(const uint8_t *a, const uint8_t *b);
void dns_name_lower(uint8_t *name);			/* in place, ASCII only */
/* name without its first label (a pointer into name); NULL for the root. */
const uint8_t *dns_name_parent(const uint8_t *name);
bool dns_name_is_wildcard(const uint8_t *name);	/* first label is "*" */

/* Read a possibly compressed name from pkt[0..len) at *off (RFC 1035
 * 4.1.4) into out, uncompressed.  A pointer must point before the start
 * of the label sequence it is found in, so every hop goes strictly
 * backwards and loops cannot happen; at most DNS_PTR_HOPS_MAX hops and
 * DNS_NAME_MAX bytes of result.  On success *off is advanced past the
 * name as it appears at *off (a pointer ends it) and the wire length is
 * returned.  -1 on any malformation (truncated, label type 01 or 10,
 * forward or self pointer, too long); *off is then unchanged. */
int dns_name_unpack(const uint8_t *pkt, size_t len, size_t *off, uint8_t out[DNS_NAME_MAX]);

#endif

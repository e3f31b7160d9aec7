/*
 * mail/domain.h - the one domain-name syntax check and the one
 * local-domain check.
 *
 * Syntax (RFC 5321 4.1.2 Domain): labels of letters, digits and inner
 * hyphens separated by single dots, no leading or trailing dot, at most 63
 * octets a label.  Flags widen or narrow that:
 *   DOMAIN_UTF8      a label may also hold well-formed UTF-8 (U-labels,
 *                    RFC 6531 3.3; IDNA2008 rules are not checked).
 *   DOMAIN_HOSTNAME  a name the admin configures (hostname, local domains):
 *                    at most 253 octets, the longest name DNS can carry
 *                    without its final dot, and the last label not all
 *                    digits so that an IP address is never taken for a
 *                    name (RFC 1123 2.1, RFC 3696 2).
 * Without DOMAIN_HOSTNAME a name may have 255 octets (RFC 5321 4.5.3.1.2).
 * Address literals ("[192.0.2.1]") are not domains here; see
 * smtp_addr_literal_valid().
 *
 * Runs in: every mail role.  Trusts: nothing in the name.
 */
#ifndef TALON_DOMAIN_H
#define TALON_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#define DOMAIN_MAX		255	/* octets, RFC 5321 4.5.3.1.2 */
#define DOMAIN_HOSTNAME_MAX	253	/* octets with DOMAIN_HOSTNAME */
#define DOMAIN_LABEL_MAX	63	/* octets, RFC 1035 2.3.4 */

#define DOMAIN_UTF8	0x1u
#define DOMAIN_HOSTNAME	0x2u

enum domain_err {
	DOMAIN_OK = 0,
	DOMAIN_ERR_SYNTAX,	/* empty label, bad hyphen, label too long, bad UTF-8 */
	DOMAIN_ERR_TOO_LONG,	/* more octets than the name may have */
	DOMAIN_ERR_8BIT,	/* a byte >= 0x80 without DOMAIN_UTF8 */
};

/* Read a domain name at the start of (p, len), not NUL-terminated, and
 * stop at the first byte that cannot continue it (for a path, the '>').
 * Returns how many bytes were taken; *err is DOMAIN_OK or the first
 * problem met, left to right.  The caller decides what may follow. */
size_t domain_scan(const char *p, size_t len, unsigned flags, enum domain_err *err);
/* True when all of (p, len) is a domain name under flags. */
bool domain_valid(const char *p, size_t len, unsigned flags);
/* True when name (NUL-terminated, any case) is one of the n names in list,
 * compared as ASCII without case; false for NULL.  The one answer to "is
 * this domain ours?" (conf_is_local_domain and alias targets use it). */
bool domain_in_list(const char *const *list, size_t n, const char *name);

/* Length of the well-formed UTF-8 character at p (2..4 bytes), 0 when it
 * is malformed, overlong, a surrogate or above U+10FFFF (RFC 3629 4).
 * Shared with smtp/addr.c for local parts, so addresses have one UTF-8
 * check; it belongs in core/ once core/ has a UTF-8 module. */
size_t domain_utf8_len(const unsigned char *p, size_t avail);

#endif

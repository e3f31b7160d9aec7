/*
 * msgauth/authres.h - the Authentication-Results header field (RFC 8601):
 * writing ours, and recognising copies that claim to be ours.
 *
 * Runs in: smtp worker / policy (format), queue or delivery (removing
 * forged copies).  Pure; trusts nothing in a header value read from a
 * message.  The values given to authres_format come from our own checks
 * but may hold what a client sent (a MAIL FROM, a d= tag), so they are
 * never written raw.
 */
#ifndef TALON_AUTHRES_H
#define TALON_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define AUTHRES_PROPS		8
#define AUTHRES_VALUE_MAX	256	/* longer property values are left out */
#define AUTHRES_REASON_MAX	200	/* longer reasons are cut */

struct authres_method {
	const char *method;	/* "spf", "dkim", "dmarc", "iprev" */
	const char *result;	/* "pass", "fail", ... */
	const char *reason;	/* optional: reason="..." */
	const char *props[AUTHRES_PROPS][2];
				/* ptype.property, value: {"smtp.mailfrom", "a@b"},
				 * {"header.d","x"}, {"header.s","sel"}, {"header.b","abcdEFGH"},
				 * {"header.from","x"}, {"policy.dmarc","reject"},
				 * {"policy.iprev","192.0.2.1"}, {"smtp.helo",..};
				 * unused entries NULL */
};

/* Append "Authentication-Results: <authserv-id>;\n\t<method>=<result>
 * ...;\n\t..." to out, each method on its own folded line, ended by "\n"
 * (the spool's line end); "none" as the only result when n == 0, or when
 * every method was left out (RFC 8601 2.2).
 *
 * Values: written bare when they are an RFC 2045 token; an address value
 * ([local-part] "@" domain, local part a dot-atom, domain LDH labels) is
 * written as is (RFC 8601 2.2 pvalue); anything else as a quoted-string
 * with \ and " escaped.  A property whose name is not ptype.property
 * (letters, digits, '-', '_'), whose value is empty, longer than
 * AUTHRES_VALUE_MAX, or holds a control byte or 8-bit byte is left out:
 * a mangled value would claim something we did not check.  A reason
 * keeps printable ASCII, other bytes become '?', cut at
 * AUTHRES_REASON_MAX.  A method whose name or result is not a keyword
 * (letters, digits, '-', '_') is left out.  A property that would take a
 * line past 78 columns starts a new folded line.
 *
 * An authserv-id that is empty, over 255 bytes, or not printable ASCII
 * sets out->err and appends nothing (it comes from our configuration,
 * which should have refused it); one that is not a token is quoted. */
void authres_format(struct buf *out, const char *authserv_id, const struct authres_method *m,
    size_t n);

/* Does this Authentication-Results value (after the colon, unfolded)
 * claim authserv-id `id` (RFC 8601 2.2: the authserv-id, a token or a
 * quoted-string, after CFWS incl. nested comments (bounded), compared
 * case-insensitively)?  What follows the id is not checked beyond its
 * first byte (end, space, '(' or ';'): any claim to be us is removed
 * (RFC 8601 5), well-formed or not.  Used to remove forged copies. */
bool authres_is_ours(const char *value, size_t len, const char *id);

#endif

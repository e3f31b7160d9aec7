/*
 * smtp/addr.h - reverse-path and forward-path parsing (RFC 5321 4.1.2,
 * RFC 6531 for SMTPUTF8).
 *
 * Input:   bytes of a MAIL FROM:/RCPT TO: argument starting at '<',
 *          pointer plus length, not NUL-terminated, untrusted.
 * Output:  struct smtp_path with the parts copied into fixed arrays.
 * Trusts:  nothing.  Runs in: smtp worker (unprivileged).
 * Not here: policy, recipient lookup, ESMTP parameters (smtp/cmd.h).
 */
#ifndef TALON_SMTP_ADDR_H
#define TALON_SMTP_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define SMTP_DOMAIN_MAX	255	/* RFC 5321 4.5.3.1.2 */
#define SMTP_PATH_MAX	256	/* RFC 5321 4.5.3.1.3, including <> */

enum smtp_addr_err {
	SMTP_ADDR_OK = 0,
	SMTP_ADDR_SYNTAX,	/* malformed path: 501 5.1.7 (MAIL) / 501 5.1.3 (RCPT) */
	SMTP_ADDR_TOO_LONG,	/* local part, domain or path over limit: 501 5.1.x */
	SMTP_ADDR_UTF8,		/* non-ASCII without SMTPUTF8: 553 5.6.7 */
	SMTP_ADDR_NULL_RCPT,	/* <> as forward-path: 501 5.1.3 */
};

struct smtp_path {
	bool is_null;		/* "<>" (reverse-path only) */
	bool is_postmaster;	/* "<Postmaster>" without domain (forward-path only) */
	bool is_quoted;		/* local part was a quoted-string */
	bool is_utf8;		/* contains octets >= 0x80 */
	bool is_literal;	/* domain is an address literal [..] */
	/* Local part in canonical form: a quoted-string whose content is a
	 * valid dot-string is unquoted ("a.b" -> a.b); otherwise the quotes
	 * and necessary backslashes are kept exactly as RFC 5321 writes them
	 * (minimal quoting: only '"' and '\\' escaped).  Case preserved. */
	char local[SMTP_LOCAL_MAX * 2 + 3];
	/* Domain as given (case preserved, no trailing dot allowed); for an
	 * address literal including the brackets, e.g. "[192.0.2.1]",
	 * "[IPv6:2001:db8::1]". Empty for is_null and is_postmaster. */
	char domain[SMTP_DOMAIN_MAX + 1];
};

/*
 * Parse a path at the start of (p, len).  is_reverse selects MAIL FROM rules
 * (<> allowed) or RCPT TO rules (<Postmaster> allowed, <> not).  allow_utf8
 * is true when the MAIL command carried SMTPUTF8 (for RCPT) or the MAIL
 * parameters include SMTPUTF8 (the caller may parse params first).
 * A source route "@a,@b:" is accepted and ignored (RFC 5321 4.1.2, C.).
 * On success *consumed is the number of bytes up to and including '>'.
 */
enum smtp_addr_err smtp_path_parse(const char *p, size_t len, bool is_reverse,
    bool allow_utf8, struct smtp_path *out, size_t *consumed);

/* Validate a domain name (RFC 5321 Domain, or U-label UTF-8 when
 * allow_utf8); used also for EHLO/HELO arguments.  A thin wrapper over
 * domain_valid() (mail/domain.h), the one domain-syntax check.  Address
 * literals: smtp_addr_literal_valid. */
bool smtp_domain_valid(const char *p, size_t len, bool allow_utf8);
bool smtp_addr_literal_valid(const char *p, size_t len);

/* Text form "local@domain" (or "" for the null path), for logs/headers. */
void smtp_path_str(const struct smtp_path *path, char *dst, size_t dstsz);

#endif

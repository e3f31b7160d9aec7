/*
 * imap/charset.h - body text in a MIME charset, converted to UTF-8 for
 * SEARCH (RFC 9051 6.4.4: strings are matched in the search charset,
 * which is UTF-8 here).
 *
 * The charsets imap/hdrtext.h knows are converted by its tables; any
 * other goes through iconv(3), with up to CHARSET_CACHE converters kept
 * open (iconv_open reads gconv modules from disk: the mailbox process is
 * not chrooted, the login front never calls this).  UTF-8 and US-ASCII
 * text, and text in a charset iconv does not know, is kept as written:
 * mail labelled us-ascii is often UTF-8, and a search for ASCII words
 * still finds them.  An invalid sequence becomes U+FFFD and conversion
 * goes on after its first byte.
 *
 * Input: untrusted charset names (any bytes; only printable ASCII up to
 * 64 bytes is looked up) and text.  Runs in: mailbox.
 */
#ifndef TALON_IMAP_CHARSET_H
#define TALON_IMAP_CHARSET_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define CHARSET_CACHE	4

/* Append p[0..len), text in charset name, to out as UTF-8 (what does not
 * fit out's max is cut: out->err). */
void charset_to_utf8(const char *name, const uint8_t *p, size_t len, struct buf *out);

/* Close the cached converters (tests, fuzzers: leak checks). */
void charset_cleanup(void);

#endif

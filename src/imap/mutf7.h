/*
 * imap/mutf7.h - IMAP modified UTF-7 (RFC 3501 5.1.3, RFC 9051 5.1.3),
 * mailbox-name validation, and the Maildir++ directory name of a mailbox.
 *
 * Names inside Talon are UTF-8.  IMAP4rev1 clients send and expect
 * modified UTF-7 ("&U,BTFw-"); the caller decodes what such a client
 * sends with mutf7_decode and encodes what it shows with mutf7_encode.
 * On disk, folders use Dovecot's Maildir++ layout: one directory per
 * mailbox under the user's Maildir, named '.' + the mailbox name in
 * modified UTF-7 with the hierarchy separator '/' written as '.'
 * ("A/B" -> ".A.B"); INBOX is the Maildir itself.
 *
 * Strictness: mutf7_decode accepts only the one canonical encoding of a
 * string, the one mutf7_encode produces, so encode(decode(x)) == x and
 * two different mUTF-7 strings never name the same mailbox.
 *
 * All functions are pure: no I/O, no allocation.  Output is written into
 * the caller's buffer and NUL-terminated; lengths returned exclude the
 * NUL.  Input: untrusted.  Runs in: imap worker, deliver (folder names).
 */
#ifndef TALON_IMAP_MUTF7_H
#define TALON_IMAP_MUTF7_H

#include <stdbool.h>
#include <stddef.h>

#define MAILBOX_NAME_MAX	255	/* bytes of UTF-8 in a mailbox name */
#define MAILBOX_DEPTH_MAX	16	/* hierarchy levels ("A/B" is 2) */
#define MAILBOX_DIR_MAX		255	/* bytes of a Maildir++ directory name
					 * (NAME_MAX on Linux) */

/* UTF-8 (len bytes, NUL is data) -> modified UTF-7 in out (outlen bytes,
 * room for the NUL included).  Printable ASCII other than '&' stays
 * literal, '&' becomes "&-", everything else (controls included) goes
 * into base64 runs of UTF-16BE.  Returns the output length, or -1 with
 * *why set (why may be NULL) for malformed UTF-8 (overlongs, surrogates,
 * above U+10FFFF, truncated) or when out is too small. */
int mutf7_encode(const char *utf8, size_t len, char *out, size_t outlen, const char **why);

/* Modified UTF-7 (len bytes) -> UTF-8 in out (outlen bytes, NUL
 * included).  Returns the output length, or -1 with *why set (why may
 * be NULL) for anything but the canonical form: a raw byte outside
 * 0x20-0x7e, a base64 run that is empty (only "&-" is allowed: the
 * literal '&'), unterminated, holds a character outside A-Z a-z 0-9 + ,
 * has non-zero padding bits or a character too many, decodes to an odd
 * number of bytes, an unpaired surrogate or a printable ASCII character
 * (which must be literal), or follows another run directly ("&AOk-&AOk-"
 * is one run, "&AOkA6Q-").  Also -1 when out is too small. */
int mutf7_decode(const char *m7, size_t len, char *out, size_t outlen, const char **why);

/* True when the UTF-8 name (len bytes) is INBOX, in any case (RFC 9051
 * 5.1: "INBOX" is case-insensitive). */
bool mailbox_is_inbox(const char *utf8, size_t len);

/* Is this UTF-8 mailbox name (len bytes, as the client sent it, after
 * mutf7_decode for an IMAP4rev1 client) one we accept and can store as
 * a Maildir++ folder?  NULL when it is, else a static reason for the
 * NO reply.  Refused: empty, over MAILBOX_NAME_MAX bytes or
 * MAILBOX_DEPTH_MAX levels, a directory name over MAILBOX_DIR_MAX,
 * malformed UTF-8, C0/C1 controls and DEL, a leading or trailing '/',
 * an empty level ("A//B"), '~' first, '.' anywhere (so "." and ".."
 * too: '.' is the separator on disk), and the LIST wildcards '*' and
 * '%'.  Not checked: Unicode normalisation (NFC, RFC 5198). */
const char *mailbox_name_check(const char *utf8, size_t len);

/* The Maildir++ directory name of a mailbox (NUL-terminated UTF-8):
 * INBOX in any case -> "" (the Maildir itself), "Sent" -> ".Sent",
 * "A/B" -> ".A.B", "Entw&APw-rfe" for "Entwürfe"; a first level that
 * is INBOX in any case is written "INBOX" ("inbox/x" -> ".INBOX.x").
 * Returns the length, or -1 when mailbox_name_check refuses the name or
 * out is too small. */
int mailbox_to_dir(const char *utf8, char *out, size_t outlen);

/* The inverse: a directory name found in the Maildir -> the mailbox
 * name (UTF-8).  "" -> "INBOX".  Returns the length, or -1 for a
 * directory that mailbox_to_dir would not have produced from any name
 * (no leading '.', bad mUTF-7, a refused name, ".INBOX", ".inbox.x"):
 * the caller skips it, so LIST never shows a name that would map back
 * to another directory. */
int dir_to_mailbox(const char *dir, char *out, size_t outlen);

#endif

/*
 * imap/search.h - IMAP SEARCH criteria: compiled once per command into a
 * program, then evaluated one message at a time.
 *
 * Keys (RFC 9051 6.4.4 and 9 "search-key"): ALL, ANSWERED, DELETED,
 * DRAFT, FLAGGED, SEEN and their UN- forms, KEYWORD, UNKEYWORD, LARGER,
 * SMALLER, BEFORE, ON, SINCE, SENTBEFORE, SENTON, SENTSINCE, FROM, TO,
 * CC, BCC, SUBJECT, HEADER, BODY, TEXT, UID, a sequence set, NOT, OR and
 * parenthesised lists (an implicit AND, as is the whole argument list);
 * RFC 3501's NEW, OLD, RECENT; RFC 7162 3.1.5 MODSEQ (with or without
 * the entry name and type, which are checked and ignored: one mod-sequence
 * per message); RFC 5032 YOUNGER and OLDER; RFC 5182 "$".  The caller
 * has consumed CHARSET (only UTF-8 and US-ASCII are accepted, so needles
 * are UTF-8) and any RETURN options first.
 *
 * Semantics chosen where the RFCs leave room:
 *  - BEFORE, ON, SINCE compare the internal date's day in UTC (Dovecot
 *    uses the server's local zone; UTC is the same on every machine).
 *    YOUNGER/OLDER n: internal date after / at or before now - n.
 *  - SENTBEFORE, SENTON, SENTSINCE take the date part of the first Date:
 *    field as written, disregarding time and zone (RFC 9051 6.4.4).  A
 *    message without a Date: field that hdrtext_parse_date accepts
 *    matches none of the three (so NOT SENTON matches it).
 *  - FROM, TO, CC, BCC, SUBJECT, HEADER: a case-insensitive substring of
 *    any field of that name (each To: line on its own), unfolded, with
 *    RFC 2047 encoded-words decoded (imap/hdrtext.h says which charsets
 *    and how case is folded).  Address fields (From, To, Cc, Bcc, Sender,
 *    Reply-To) also match their parsed addresses written as "name
 *    <local@host>" (imap/mime.h mime_address_text), so "user@domain.org"
 *    finds "<user (comment)@domain.org>", as in Dovecot.  An empty
 *    string matches a message that has the field at all (HEADER name ""
 *    is RFC 9051's "header present" test).  Only the first 256 KiB and
 *    1000 fields of a header are searched (msgauth/header.h limits).
 *  - BODY: the body's text as a reader sees it (imap/mime.h
 *    mime_search_text): every text part with its base64 or
 *    quoted-printable encoding undone and its charset converted to UTF-8
 *    (imap/charset.h), and enclosed messages' headers with encoded-words
 *    decoded; folded the same way.  Non-text parts (images, archives) and
 *    the encoded form are not searched; a match never spans two parts.
 *  - TEXT: BODY's text, the raw header, or any decoded header field.
 *  - KEYWORD with a name the mailbox does not know matches nothing,
 *    UNKEYWORD matches everything.  KEYWORD \Seen and the other system
 *    flags are accepted as the flag keys.
 *
 * Limits: SEARCH_NODES_MAX keys and operators, SEARCH_TEXT_KEYS_MAX BODY
 * and TEXT keys (each scans a whole message), strings up to
 * SEARCH_NEEDLE_MAX bytes, header names up to SEARCH_HNAME_MAX.  The
 * compiler and the evaluator use explicit stacks, never recursion, so
 * "NOT NOT ... ALL" or "OR OR OR ..." chains cost memory bounded by the
 * node limit and no call stack.
 *
 * Runs in: mailbox.  No I/O but iconv_open's (imap/charset.h); the
 * message text comes from the caller's load callback.
 */
#ifndef TALON_IMAP_SEARCH_H
#define TALON_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parse.h"

struct buf;
struct seqset;

#define SEARCH_NODES_MAX	4096
#define SEARCH_TEXT_KEYS_MAX	64
#define SEARCH_NEEDLE_MAX	8192
#define SEARCH_HNAME_MAX	128

/* System flags of a message (struct search_msg.flags). */
enum {
	SEARCH_F_SEEN = 1 << 0,
	SEARCH_F_ANSWERED = 1 << 1,
	SEARCH_F_FLAGGED = 1 << 2,
	SEARCH_F_DELETED = 1 << 3,
	SEARCH_F_DRAFT = 1 << 4,
	SEARCH_F_RECENT = 1 << 5,
};

/*
 * What the compiler needs from the session and the mailbox.
 */
struct search_env {
	uint32_t max_seq;		/* "*" in a sequence set: messages in the
					 * mailbox, 0 when empty */
	uint32_t max_uid;		/* "*" in UID sets: the last UID, or UIDNEXT
					 * when empty (RFC 9051 9) */
	const struct seqset *saved;	/* RFC 5182 "$": saved UIDs, normalised;
					 * NULL is the empty result.  Copied. */
	int64_t now;			/* Unix seconds, for YOUNGER and OLDER */
	/* The keyword's index in the mailbox (the bit in search_msg.keywords),
	 * or -1 when the mailbox has no such keyword.  NULL: none known. */
	int (*keyword)(void *arg, const uint8_t *name, size_t len);
	void *keyword_arg;
};

/*
 * One message, as the evaluator sees it.  Only load touches the message
 * text, and only when a header or body key is reached.
 */
struct search_msg {
	uint32_t seq, uid;
	unsigned flags;			/* SEARCH_F_* */
	const uint64_t *keywords;	/* keyword i set: bit i % 64 of keywords[i / 64] */
	size_t n_keywords;		/* words in keywords; indexes past them are unset */
	int64_t internaldate;		/* Unix seconds */
	uint64_t size;			/* RFC822.SIZE */
	uint64_t modseq;
	/* The whole message (header and body, CRLF or LF), valid until
	 * search_eval returns; 0, or -1 when it cannot be read.  NULL: the
	 * message cannot be read. */
	int (*load)(void *arg, const uint8_t **msg, size_t *len);
	void *arg;
};

struct search_prog;

/*
 * Compile the criteria args[0..n) (the SEARCH arguments after CHARSET and
 * RETURN) into *out, owned by the caller (search_free).  The args may be
 * freed afterwards: the program keeps copies.  Returns 0, or -1 with *why
 * a static text for "TAG BAD why" and *out NULL.
 */
int search_compile(const struct imap_arg *args, size_t n, const struct search_env *env,
    struct search_prog **out, const char **why);

/*
 * Does message m match?  1 yes, 0 no, -1 when a key needed the text and
 * m->load failed (the caller decides: skip the message, or answer NO).
 * Keys run cheap first (flags, numbers, dates before header keys before
 * body keys) and AND/OR stop at the first decisive operand, so load is
 * called only when a text key is actually reached, at most once.  The
 * program keeps scratch buffers between calls: one evaluation at a time.
 */
int search_eval(struct search_prog *p, const struct search_msg *m);

/* Does the program have a key that needs the message text?  When not,
 * search_eval never calls load. */
bool search_needs_text(const struct search_prog *p);

/* Did the criteria use MODSEQ?  Then the untagged reply carries
 * "(MODSEQ <highest>)" (RFC 7162 3.1.5). */
bool search_uses_modseq(const struct search_prog *p);

/*
 * Append the program as search criteria text, in evaluation order:
 * compiling it again (same env) gives a program that matches the same
 * messages and prints the same text.  Sets are resolved ("*" is a
 * number), strings are folded, constants are "ALL" and "NOT ALL".  For
 * debugging and tests; it repeats the client's search strings, so do not
 * log it at levels that must not hold message content.  Returns 0, or -1
 * when out is full.
 */
int search_format(const struct search_prog *p, struct buf *out);

void search_free(struct search_prog **p);

#endif

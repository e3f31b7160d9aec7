/*
 * imap/mime.h - the MIME structure of a stored message, as IMAP FETCH
 * shows it: ENVELOPE, BODY, BODYSTRUCTURE, BODY[section], BINARY[section]
 * and RFC822.SIZE (RFC 9051 6.4.5, 7.5.2 and 9; RFC 3501 is the same for
 * these; RFC 3516 BINARY).
 *
 * Storage: messages sit in Maildir with LF line ends, or CRLF when a
 * foreign tool wrote them; a message may lack its final newline.  IMAP
 * always shows CRLF, so every LF not preceded by CR counts as CRLF in
 * every size, line count and output here, and a bare CR is data.
 *
 * Parsing (mime_parse) is one pass over the lines, linear in the size:
 * each line is looked at once, plus one comparison per open multipart
 * for a line starting with "--".  Memory is O(parts); nothing recurses
 * during the parse.  The writers recurse only along the part tree, whose
 * depth is at most MIME_DEPTH_MAX.  Any input yields a structure:
 *  - A part without a valid Content-Type is text/plain; charset=us-ascii
 *    (RFC 2045 5.2), or message/rfc822 inside multipart/digest (RFC 2046
 *    5.1.5).  MIME-Version is not required.
 *  - A multipart whose boundary is missing, empty or over
 *    MIME_BOUNDARY_MAX bytes, or in which no delimiter line is found, has
 *    no parts; BODYSTRUCTURE then shows one empty text/plain part in it,
 *    as Dovecot does (the grammar needs at least one), and BODY[n.1] of
 *    it is a non-existent part.
 *  - A multipart or message/rfc822 part at depth MIME_DEPTH_MAX, or a
 *    message/rfc822 part met when MIME_PARTS_MAX parts exist, is a leaf
 *    and shown as "APPLICATION" "OCTET-STREAM" (its bytes are intact).
 *  - Parts after the first MIME_PARTS_MAX are not numbered: their bytes
 *    stay in their parent's body (TEXT, BODY[] show them).
 *  - Only the first MIME_FIELDS_MAX header fields of a part are read for
 *    the Content-* fields and the envelope (HEADER.FIELDS sees them all).
 *  - A delimiter line is "--" boundary, optionally "--", then only
 *    spaces, tabs or CRs up to the line end (RFC 2046 5.1.1); the line
 *    end before it belongs to the delimiter.  Boundaries of all open
 *    multiparts are checked, innermost first; a delimiter of an outer one
 *    ends every part inside it.
 *
 * Presentation (choices; RFC 9051 matches case-insensitively):
 *  - Media type, subtype, parameter names, disposition type and transfer
 *    encoding are upper-cased, as in RFC 9051's examples; parameter
 *    values are as sent.  A text/ part without a charset parameter gets
 *    ("CHARSET" "us-ascii") at the end of its list (Dovecot does the
 *    same).  RFC 2231 parameters are shown as sent ("TITLE*0*"), not
 *    joined or decoded.
 *  - "lines" counts line ends (LFs) in the body, as Dovecot does; a last
 *    line without one is not counted.
 *  - Strings are quoted when at most MIME_QUOTED_MAX bytes of printable
 *    7-bit text, else a literal; NUL bytes in header values are dropped
 *    (neither form may carry them).  Header values are unfolded (CR and
 *    LF removed), trimmed, and not RFC 2047-decoded.
 *  - ENVELOPE takes the first occurrence of each field; an address
 *    without "@" gets host "" (not NIL: NIL marks a group, RFC 9051
 *    7.5.2); a mailbox without a display name but with a comment uses
 *    the comment as its name (Dovecot does the same).  Groups are
 *    (NIL NIL "name" NIL) ... (NIL NIL NIL NIL), empty groups included.
 *    Sender and Reply-To default to From when absent or without any
 *    address.
 *
 * Input: untrusted message bytes, kept by the caller for as long as the
 * struct mime_msg is used (it points into them).  Runs in: imap worker.
 * Not here: reading the file, partial <origin.count> slicing, choosing
 * literal or literal8 for the section bytes (the FETCH handler).
 */
#ifndef TALON_IMAP_MIME_H
#define TALON_IMAP_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define MIME_DEPTH_MAX		32	/* nesting of parts, message/rfc822 levels
					 * included; the message is depth 0 */
#define MIME_PARTS_MAX		2000	/* parts of one message, itself included */
#define MIME_FIELDS_MAX		1000	/* header fields read per part */
#define MIME_BOUNDARY_MAX	200	/* bytes; RFC 2046 allows 70 */
#define MIME_QUOTED_MAX		1000	/* longer strings are sent as literals */

#define MIME_SECTION_PARTS_MAX	64	/* part numbers in a section */
#define MIME_SECTION_NAMES_MAX	128	/* names in a HEADER.FIELDS list */
#define MIME_SECTION_NAMEBUF	2048	/* bytes of those names together */

/* Results of mime_section_get and mime_binary_get. */
#define MIME_NO_PART		(-1)	/* no such part */
#define MIME_UNKNOWN_CTE	(-2)	/* BINARY: encoding not known */

struct mime_msg;

/*
 * Parse msg[0..len) into *out (owned by the caller, freed with
 * mime_free).  The message bytes are not copied: keep them alive and
 * unchanged while *out is used.  Returns 0, or -1 only when memory runs
 * out (then *out is NULL).
 */
int mime_parse(const uint8_t *msg, size_t len, struct mime_msg **out);
void mime_free(struct mime_msg **m);

/* RFC822.SIZE: len plus one for each LF not preceded by CR. */
uint64_t mime_crlf_size(const uint8_t *msg, size_t len);

/* Append the message's envelope, "(date subject from sender reply-to to
 * cc bcc in-reply-to message-id)" (RFC 9051 7.5.2), to out. */
void mime_envelope(const struct mime_msg *m, struct buf *out);

/*
 * The first address structure ENVELOPE shows for an address-list field
 * value s[0..len) (after the colon; folding and comments allowed): the
 * same parse, for SORT's FROM/TO/CC and DISPLAYFROM/DISPLAYTO keys
 * (RFC 5256 3, RFC 5957 3).  Its pieces are appended to out as
 * ENVELOPE's strings would read (unquoted, unfolded, RFC 2047 words not
 * decoded); a mailbox without a display name but with a comment has the
 * comment as its name.  A list that starts with a group gives the group
 * start, whose mailbox is the group's name (RFC 9051 7.5.2).  Returns
 * false when the list holds no address (ENVELOPE's NIL) or out is full.
 */
struct mime_addr {
	size_t name_off, name_len;	/* in out->data; name_len 0: NIL */
	size_t mailbox_off, mailbox_len;
	size_t host_off, host_len;	/* host_len 0: "" (no "@") or a group */
	bool has_name;
	bool is_group;
};
bool mime_first_address(const uint8_t *s, size_t len, struct buf *out, struct mime_addr *a);

/*
 * The address list s[0..len) as SEARCH FROM/TO/CC/BCC compare it, after
 * the same parse as ENVELOPE: each mailbox as "name <local@host>" (or
 * "local@host" without a name; a comment stands in for a missing name),
 * comments and folding gone, groups as "name: a, b;", separated by ", ".
 * "<user (x)@ (y) domain.org>" reads "x <user@domain.org>".  Appended to out;
 * scratch is working space.  Encoded-words are not decoded here.
 */
void mime_address_text(const uint8_t *s, size_t len, struct buf *out, struct buf *scratch);

/* Append BODY (extended false) or BODYSTRUCTURE (extended true: the
 * extension data md5/params, disposition, language, location of every
 * part) to out, parenthesised (RFC 9051 7.5.2, 9 "body"). */
void mime_bodystructure(const struct mime_msg *m, bool extended, struct buf *out);

/* What follows the part numbers of a section (RFC 9051 9 "section"). */
enum mime_sec_text {
	MIME_SEC_BODY,		/* nothing: the whole message, or the part */
	MIME_SEC_HEADER,
	MIME_SEC_FIELDS,	/* HEADER.FIELDS (names) */
	MIME_SEC_FIELDS_NOT,	/* HEADER.FIELDS.NOT (names) */
	MIME_SEC_TEXT,
	MIME_SEC_MIME,		/* only after part numbers */
};

/*
 * A parsed section spec.  part[0..n_part) are the part numbers (each
 * 1..2^32-1).  is_too_deep: more than MIME_SECTION_PARTS_MAX numbers were
 * given, which is valid syntax but names no part that can exist.  Names
 * of a HEADER.FIELDS list, unquoted, are names[name_off[i]..+name_len[i]).
 */
struct mime_section {
	uint32_t part[MIME_SECTION_PARTS_MAX];
	size_t n_part;
	bool is_too_deep;
	enum mime_sec_text text;
	size_t n_names;
	uint16_t name_off[MIME_SECTION_NAMES_MAX];
	uint16_t name_len[MIME_SECTION_NAMES_MAX];
	char names[MIME_SECTION_NAMEBUF];
};

/*
 * Parse the text between "[" and "]" of a FETCH BODY/BINARY item: "",
 * "TEXT", "HEADER", "1.2", "1.2.MIME", "2.HEADER.FIELDS (FROM TO)",
 * "HEADER.FIELDS.NOT (X-A)".  Keywords are case-insensitive; names are
 * atoms or quoted strings (astring), separated by one space.  Returns 0,
 * or -1 with *why a static text for the BAD reply: bad syntax, "MIME"
 * without a part number, a part number 0 or over 2^32-1, an empty name
 * list, or more than MIME_SECTION_NAMES_MAX names or MIME_SECTION_NAMEBUF
 * bytes of them.  The caller checks what BINARY allows (RFC 3516: part
 * numbers only, text == MIME_SEC_BODY).
 */
int mime_section_parse(const char *spec, size_t len, struct mime_section *sec, const char **why);

/*
 * Append the section's bytes in CRLF form to out.  Part numbers follow
 * RFC 9051 6.4.5: a multipart's parts are numbered from 1; a message
 * that is not multipart has only part 1, its body; after a
 * message/rfc822 part the numbers go on inside the enclosed message.
 * HEADER, HEADER.FIELDS[.NOT] and TEXT after part numbers need a
 * message/rfc822 part.  Header subsets keep the message's field order
 * and end with the blank line when the header had one.  Returns 0, or
 * MIME_NO_PART (out unchanged) when the part does not exist: the caller
 * chooses what to send for it (servers send NIL or an empty string).
 */
int mime_section_get(const struct mime_msg *m, const struct mime_section *sec, struct buf *out);

/*
 * BINARY[section] (RFC 3516 4.2): with part numbers and nothing after
 * them, the part's body with its Content-Transfer-Encoding undone:
 * base64 and quoted-printable are decoded, 7bit, 8bit, binary and a
 * missing field give the bytes as BODY[section] does (CRLF form).
 * Decoding is lenient: base64 skips characters outside its alphabet
 * (RFC 2045 6.8) and restarts after "=" padding; quoted-printable keeps
 * an "=" that starts no valid escape and drops trailing whitespace
 * (RFC 2045 6.7 rule 3); its line breaks come out as CRLF.  Any other
 * section (empty, HEADER, TEXT, MIME...) is returned as mime_section_get
 * does.  Returns 0, MIME_NO_PART, or MIME_UNKNOWN_CTE (out unchanged)
 * for another encoding: the caller answers NO [UNKNOWN-CTE].
 * BINARY.SIZE is the length of this output.
 */
int mime_binary_get(const struct mime_msg *m, const struct mime_section *sec, struct buf *out);

/*
 * APPEND of a literal8 (RFC 3516 4.3): the message with every leaf part
 * that says "Content-Transfer-Encoding: binary", or has a NUL in its
 * body, re-encoded as base64 (its transfer-encoding field replaced; every
 * other byte of the message as it was), appended to out.  Then BODY[]
 * can be sent as a normal literal and BINARY[part] gives back the exact
 * bytes, bare CR and LF included, though the Maildir keeps LF line ends.
 * Returns false, out unchanged or partial, when no part needed it (or
 * out is full): store the message as it is.
 */
bool mime_binary_to_base64(const struct mime_msg *m, struct buf *out);

/*
 * The searchable text of the message's body (SEARCH BODY and TEXT, RFC
 * 9051 6.4.4), handed to fn piece by piece in message order:
 *  - every text part (text/ *, or a part without a valid Content-Type),
 *    its transfer encoding undone as BINARY does (an unknown encoding
 *    gives the bytes as written), with its charset parameter
 *    ("us-ascii" when absent, "" when unusable: longer than
 *    MIME_CHARSET_MAX or not printable ASCII);
 *  - the header of every enclosed message (message/rfc822 parts), as
 *    written, with charset NULL: the caller decodes encoded-words.
 * Other leaves (images, archives, application data, parts made opaque
 * by a limit) are skipped.  The top-level header is not included.
 * Decoded bytes are built in scratch (its max bounds them; what does not
 * fit is cut) and are valid only during the call to fn.
 */
#define MIME_CHARSET_MAX	64
typedef void mime_text_fn(void *arg, const char *charset, const uint8_t *p, size_t n);
void mime_search_text(const struct mime_msg *m, struct buf *scratch, mime_text_fn *fn, void *arg);

#endif

/*
 * imap/sortthread.h - IMAP SORT and THREAD (RFC 5256) with the
 * SORT=DISPLAY keys (RFC 5957): parsing the sort criteria and the
 * threading algorithm, extracting what each message is sorted by, and
 * producing the order or the THREAD response text.
 *
 * Three steps, so that the command handler loads each message's header
 * at most once and keeps only a small record per message:
 *
 *  1. sort_parse / thread_algorithm read the command's arguments;
 *     sort_need / thread_need say what the records must hold.
 *  2. sort_rec_make extracts it from one message (its header block, only
 *     loaded when sort_needs_header / thread_need says so) into a
 *     struct sort_rec the caller keeps; sort_rec_free releases it.
 *  3. sort_order sorts records; thread_build threads them and appends
 *     "(2)(3 6 (4 23)(44 7 96))" to a struct buf.
 *
 * What is compared (RFC 5256 3, RFC 5957 3 and 4):
 *  - ARRIVAL: the internal date.  SIZE: RFC822.SIZE.
 *  - DATE: the first Date: field's moment in UTC (imap/hdrtext.h parses
 *    it, obsolete forms included); the internal date when there is no
 *    Date: field or it has no valid date and time.  THREAD's "sent
 *    date" is the same value.
 *  - SUBJECT: the base subject (RFC 5256 2.1, see sort_base_subject).
 *  - FROM, TO, CC: the mailbox (local part) of the first address of the
 *    first such field, as ENVELOPE shows it (imap/mime.h
 *    mime_first_address); "" when there is none.  A list that starts
 *    with a group gives the group's name (ENVELOPE's group start holds it
 *    as its mailbox).
 *  - DISPLAYFROM, DISPLAYTO: the first address's display name (or the
 *    comment ENVELOPE uses as one) when it decodes to a non-empty
 *    string; else mailbox@host; else the mailbox (a group, or an address
 *    without "@": ENVELOPE's host is then "", read here as absent);
 *    else "".
 *  - Strings are RFC 2047-decoded (imap/hdrtext.h), then compared with
 *    i;ascii-casemap (RFC 4790 9.2), RFC 5256's default: octet by octet
 *    after mapping a-z to A-Z; non-ASCII letters are not folded.
 *  - When every key is equal the lower sequence number comes first
 *    (RFC 5256 3), REVERSE or not: REVERSE turns over one key only.
 *
 * THREAD=REFERENCES reads Message-ID (its first valid ID), References
 * (every valid ID) and, when References holds no valid ID, the first
 * valid ID of In-Reply-To (RFC 5256 2.2 says "no References header
 * line"; a References field of garbage is read as none, as Dovecot
 * does).  A valid ID is "<" ... ">" with an "@" and only visible
 * characters once folding whitespace is dropped; comments and quoted
 * strings around it are skipped, so In-Reply-To's free text ("Your
 * message of ...") does no harm.  IDs compare case-sensitively.
 *
 * Limits (knowing deviations, for memory per record): strings kept for
 * comparison are cut at SORT_STR_MAX bytes; the header is read as
 * msgauth/header.h reads it (the first 256 KiB and 1000 fields); of a
 * References field the last SORT_REFS_MAX message IDs that fit in
 * SORT_REFS_BYTES are kept (the last ones, which decide the parent);
 * a message ID longer than SORT_ID_MAX is not valid.
 *
 * Work: sort_order is a merge sort, O(n log n) comparisons.  thread_build
 * is O(N log N) in messages plus references: message IDs are matched by
 * sorting rather than hashing (nothing for an attacker to collide), and
 * RFC 5256's "would this link create a loop" test uses a link-cut tree
 * (O(log N) amortised) instead of walking up parents, so a crafted
 * mailbox cannot make threading quadratic.  Nothing recurses: a chain
 * of 10^5 replies is threaded and written with explicit stacks.
 *
 * Runs in: imap mailbox process.  Pure: no I/O; memory from xmalloc
 * (exits when out).  Input (headers, criteria) is untrusted.
 */
#ifndef TALON_IMAP_SORTTHREAD_H
#define TALON_IMAP_SORTTHREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parse.h"

struct buf;

#define SORT_KEYS_MAX	32		/* criteria in one SORT command */
#define SORT_STR_MAX	1024		/* bytes of a string key kept */
#define SORT_ID_MAX	998		/* bytes of a message ID (RFC 5322 line) */
#define SORT_REFS_MAX	10000		/* References IDs kept per message */
#define SORT_REFS_BYTES	(64 * 1024)	/* and their bytes */

enum sort_key {
	SORT_ARRIVAL,
	SORT_CC,
	SORT_DATE,
	SORT_FROM,
	SORT_SIZE,
	SORT_SUBJECT,
	SORT_TO,
	SORT_DISPLAYFROM,
	SORT_DISPLAYTO,
};

struct sort_keys {
	size_t n;
	struct {
		uint8_t key;		/* enum sort_key */
		bool reverse;
	} k[SORT_KEYS_MAX];
};

/*
 * Parse the parenthesised sort criteria (RFC 5256 4 "sort-criteria",
 * RFC 5957 5): a list of ["REVERSE" SP] key, keys in any case.
 * Returns 0, or -1 with *why a static text for "TAG BAD why": not a
 * list, an empty list, an element that is not an atom, an unknown key,
 * REVERSE not followed by a key, more than SORT_KEYS_MAX criteria.
 */
int sort_parse(const struct imap_arg *list, struct sort_keys *out, const char **why);

enum thread_alg {
	THREAD_ORDEREDSUBJECT,
	THREAD_REFERENCES,
};

/* The THREAD algorithm named by atom a (any case): THREAD_ORDEREDSUBJECT
 * or THREAD_REFERENCES, or -1 for anything else. */
int thread_algorithm(const struct imap_arg *a);

/* What a record holds (sort_rec_make's need). */
enum {
	SORT_NEED_SUBJECT = 1 << 0,	/* base subject and reply/forward */
	SORT_NEED_FROM = 1 << 1,
	SORT_NEED_TO = 1 << 2,
	SORT_NEED_CC = 1 << 3,
	SORT_NEED_DFROM = 1 << 4,
	SORT_NEED_DTO = 1 << 5,
	SORT_NEED_DATE = 1 << 6,	/* the sent date */
	SORT_NEED_IDS = 1 << 7,		/* Message-ID, References, In-Reply-To */
};

/* The SORT_NEED_* bits records need for these keys, or for threading. */
unsigned sort_need(const struct sort_keys *k);
unsigned thread_need(enum thread_alg alg);
/* Does any key need the message header (every key but ARRIVAL and SIZE)? */
bool sort_needs_header(const struct sort_keys *k);

/* Per message, what the caller gives. */
struct sort_msg {
	uint32_t seq, uid;
	int64_t internaldate;		/* Unix seconds */
	uint64_t size;			/* RFC822.SIZE */
	const uint8_t *header;		/* the header block, LF or CRLF (the body may
					 * follow: reading stops at the blank line);
					 * NULL or ignored when no header is needed */
	size_t header_len;
};

/* Strings of a record, at mem + off[i], len[i] bytes. */
enum sort_str {
	SORT_S_SUBJECT,		/* base subject, a-z mapped to A-Z */
	SORT_S_FROM,		/* the FROM, TO, CC, DISPLAYFROM, DISPLAYTO keys, */
	SORT_S_TO,		/* likewise mapped */
	SORT_S_CC,
	SORT_S_DFROM,
	SORT_S_DTO,
	SORT_S_MSGID,		/* the Message-ID without "<>", as written; "": none */
	SORT_S_REFS,		/* the references: each a 2-byte big-endian length
				 * and the ID without "<>"; oldest first */
	SORT_S_N
};

/*
 * One message's sort data.  Owned by the caller: made by sort_rec_make,
 * released by sort_rec_free; the header may be freed once it is made.
 */
struct sort_rec {
	uint32_t seq, uid;
	int64_t arrival;		/* internal date */
	int64_t sent;			/* Date: in UTC, else the internal date */
	uint64_t size;
	uint8_t *mem;			/* the strings; NULL when all are empty */
	uint32_t off[SORT_S_N], len[SORT_S_N];
	bool is_refwd;			/* the subject was a reply or forward */
};

/* Fill *r from m, extracting what need (SORT_NEED_* bits) asks for;
 * keys not asked for read as empty (or as the internal date).  Never
 * fails; a missing or malformed header gives empty keys. */
void sort_rec_make(struct sort_rec *r, const struct sort_msg *m, unsigned need);
void sort_rec_free(struct sort_rec *r);

/* <0, 0, >0 as a sorts before, with, after b under keys k (the sequence
 * number tie-break included, so 0 only for the same sequence number). */
int sort_compare(const struct sort_rec *a, const struct sort_rec *b, const struct sort_keys *k);

/* order[0..n) becomes the indexes of r[0..n) in SORT order.  Returns 0,
 * or -1 when n is over UINT32_MAX - 1 (order untouched). */
int sort_order(const struct sort_rec *r, size_t n, const struct sort_keys *k, uint32_t *order);

/*
 * Thread r[0..n) (records made with thread_need(alg)) and append the
 * THREAD response's threads (RFC 5256 4 "thread-list"s, without
 * "* THREAD ") to out: UIDs when by_uid, else sequence numbers.  No
 * messages: nothing.  Returns 0, or -1 when out filled up (out->err) or
 * n is too large for 32-bit indexes.
 */
int thread_build(const struct sort_rec *r, size_t n, enum thread_alg alg, bool by_uid,
    struct buf *out);

/*
 * The base subject of a Subject: field value v[0..len) (unfolded or not)
 * by RFC 5256 2.1 exactly: RFC 2047 decoding, whitespace runs made one
 * space, then "(fwd)" and blank trailers, "Re:", "Fw:", "Fwd:" leaders
 * (with "[blob]"s before them or inside: "Re[2]:"), leading "[blob]"s
 * that do not make up the whole rest, and "[Fwd: ...]" wrappers are
 * removed until none is left.  Appended to out in its original case;
 * *is_refwd tells whether a reply or forward marker (a leader, a
 * "(fwd)" trailer or a "[Fwd: ...]" wrapper) was removed: THREAD's step
 * 5 prefers a message that is not a reply.  RFC 5256 2.2 5.C names only
 * the leader and the trailer; the wrapper is counted too (a forward by
 * any reading, and Dovecot counts it).  Returns 0, or -1 when out is
 * full.
 */
int sort_base_subject(struct buf *out, const uint8_t *v, size_t len, bool *is_refwd);

#endif

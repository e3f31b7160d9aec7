/*
 * imap/seqset.h - IMAP sequence sets (RFC 9051 9 "sequence-set"):
 * "1:3,5,7:*", "*", "3:1" (the same as "1:3"), and the SEARCHRES "$"
 * (RFC 5182), which this module only recognises.
 *
 * A parsed set is a sorted list of disjoint, non-adjacent ranges of
 * numbers in 1..2^32-1, so membership is a binary search and the set
 * formats back to its shortest text.  The same struct serves message
 * sequence numbers and UIDs; the caller says what "*" stands for:
 *
 *   sequence numbers  the number of messages (EXISTS); 0 when the mailbox
 *                     is empty.
 *   UIDs              the UID of the last message, or UIDNEXT when the
 *                     mailbox is empty (RFC 9051 9, seq-number).
 *
 * With star == 0, "*" stands for no message: a bare "*" adds nothing and
 * "n:*" adds 1:n (numbers that do not exist, so membership tests find
 * nothing either way).  has_star tells the caller "*" was used: RFC 9051
 * asks for BAD when a command other than SEARCH uses "*" (or any number
 * above EXISTS) as a sequence number in an empty mailbox; that check,
 * like every check against the mailbox, is the caller's.
 *
 * Runs in: imap worker.  Pure: no I/O; the ranges are malloc'd (xmalloc:
 * out of memory exits).  Input is untrusted and at most SEQSET_TEXT_MAX
 * bytes, which bounds the ranges to SEQSET_TEXT_MAX / 2 + 1.
 */
#ifndef TALON_IMAP_SEQSET_H
#define TALON_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define SEQSET_TEXT_MAX	(2u << 20)	/* bytes of set text: long UID sets */

enum seqset_result {
	SEQSET_OK = 0,
	SEQSET_BAD = -1,	/* not a sequence set: *why says why */
	SEQSET_SAVED = 1,	/* the text is "$": the caller's saved result */
};

struct seqset_range {
	uint32_t lo, hi;	/* 1 <= lo <= hi */
};

/* r[0..n) ascending, disjoint and non-adjacent once normalised (after
 * seqset_parse, or seqset_normalize after seqset_add). */
struct seqset {
	struct seqset_range *r;
	size_t n, cap;
	bool has_star;		/* the text used "*" */
	bool is_norm;		/* private: r is sorted and merged */
};

void seqset_init(struct seqset *s);
void seqset_free(struct seqset *s);	/* frees r, leaves an empty set */
void seqset_clear(struct seqset *s);	/* empty, keeps memory */
/* dst becomes a copy of src (dst initialised; its old ranges freed). */
void seqset_copy(struct seqset *dst, const struct seqset *src);

/*
 * Parse text p[0..len) (not NUL-terminated) into s, replacing what s held.
 * star is the value of "*" (see above).  Returns SEQSET_OK; SEQSET_SAVED
 * for exactly "$" (s left empty: "$" may not be combined with anything,
 * RFC 5182 2.1); SEQSET_BAD with *why a static reason (s left empty) for
 * an empty text, a number that is 0, has a leading zero or is over
 * 2^32-1, a stray or missing ',' or ':', "1:2:3", any other byte, or
 * text over SEQSET_TEXT_MAX.
 */
int seqset_parse(struct seqset *s, const uint8_t *p, size_t len, uint32_t star,
    const char **why);

/* Add the range lo..hi (in either order; 0 is raised to 1, and a range
 * that is then empty is ignored).  Any order of calls; lookups and
 * formatting need seqset_normalize first.  The caller bounds how many. */
void seqset_add(struct seqset *s, uint32_t lo, uint32_t hi);
/* Sort and merge the ranges (overlapping and adjacent ones). */
void seqset_normalize(struct seqset *s);

/* Is v in the (normalised) set?  O(log n). */
bool seqset_contains(const struct seqset *s, uint32_t v);
/* Numbers in the set (up to 2^32-1), smallest and largest (0 if empty). */
uint64_t seqset_count(const struct seqset *s);
uint32_t seqset_min(const struct seqset *s);
uint32_t seqset_max(const struct seqset *s);

/* Iteration in ascending order over a normalised set that is not
 * changed meanwhile:
 *	struct seqset_iter it; uint32_t v;
 *	seqset_iter_init(&it, s);
 *	while (seqset_iter_next(&it, &v)) ...
 */
struct seqset_iter {
	const struct seqset *s;
	size_t i;		/* range */
	uint64_t next;		/* next value in r[i] (64 bits: hi may be 2^32-1) */
};
void seqset_iter_init(struct seqset_iter *it, const struct seqset *s);
bool seqset_iter_next(struct seqset_iter *it, uint32_t *v);

/*
 * Append the compact text of a normalised set to out: "1:3,7"; nothing
 * for an empty set (the caller decides what an empty result looks like).
 * Returns 0, or -1 when out is full (out->err).
 */
int seqset_format(struct buf *out, const struct seqset *s);

/*
 * Append numbers v[0..n) as set text, in the order given: each run of
 * consecutive ascending numbers becomes "a:b", a number equal to the one
 * before it is skipped.  A sorted list gives the shortest text (ESEARCH
 * ALL, VANISHED); an unsorted one keeps its order, as COPYUID needs when
 * source and destination UIDs must pair up (RFC 4315 3).  0, never a
 * valid number, is skipped.  Returns 0, or -1 when out is full.
 */
int seqset_format_list(struct buf *out, const uint32_t *v, size_t n);

#endif

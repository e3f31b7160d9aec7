/*
 * store/uidlist.h - Dovecot's Maildir UID list ("dovecot-uidlist",
 * version 3): the permanent IMAP UID of every message file, so a Maildir
 * shared with (or migrated from) Dovecot keeps its UIDs.
 *
 * The file:
 *   3 V<uidvalidity> N<next uid> G<mailbox guid, 32 hex digits> [other fields]
 *   <uid> [<ext field> ...] :<file name>
 *   ...
 * Header fields come in any order after the version; unknown ones are kept
 * (hdr_extra) and written back.  Ext fields are an upper-case letter and a
 * value ("S1355", "W1394", "G<guid>"); they are kept as text, not read.  A
 * file name is compared by its base (up to the first ':', Maildir's info
 * separator), as Dovecot does; Dovecot may write the ":2,FLAGS" part, we
 * keep and write only the base.
 *
 * Runs in: the imap/deliver roles (mailbox owner).  Trusts nothing in the
 * text: it may be torn, hand-edited or written by another program.
 * Pure: no file I/O (the caller reads the file and writes it through a temp
 * file, fsync and rename); the name index is seeded by getrandom().
 * Not here: scanning the Maildir, locking dovecot-uidlist.lock.
 */
#ifndef TALON_UIDLIST_H
#define TALON_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define UIDLIST_MAX_ENTRIES	10000000u
#define UIDLIST_NAME_MAX	255u	/* base name bytes */
#define UIDLIST_EXT_MAX		2048u	/* ext field text per entry */
#define UIDLIST_LINE_MAX	4096u	/* any line, the header included */
#define UIDLIST_REPORT_MAX	100u	/* damaged lines reported one by one */

enum uidlist_result {
	UIDLIST_OK = 0,
	UIDLIST_REBUILD = -1,	/* header missing or garbled: nothing kept */
};

struct uidlist_entry {
	uint32_t uid;
	char *name;	/* base name; owns the allocation that also holds ext */
	char *ext;	/* ext fields, single spaces between them; "" if none */
};

struct uidlist {
	uint32_t validity;	/* UIDVALIDITY, never 0 in a parsed list */
	uint32_t next;		/* next uid to give; above every uid ever seen */
	char guid[33];		/* mailbox GUID in lower-case hex, or "" */
	char *hdr_extra;	/* unknown header fields, as read; never NULL */
	struct uidlist_entry *v;	/* sorted by uid, strictly increasing */
	size_t n, cap;
	size_t n_damaged;	/* lines skipped or repaired by the parse:
				 * the caller rewrites the file when > 0 */
	/* private: open-addressing index of names (entry index + 1) */
	uint32_t *ix;
	size_t ix_cap;
	uint64_t seed;
};

/* Called for each damaged line (1-based; the header is line 1), at most
 * UIDLIST_REPORT_MAX times and once more saying the rest go unreported.
 * why is static text. */
typedef void uidlist_report_fn(void *arg, unsigned line, const char *why);

/* An empty list for a new or rebuilt mailbox: validity must be non-zero
 * (RFC 3501 2.3.1.1), guid is 32 hex digits or NULL for none.  Returns 0,
 * or -1 (u still initialised, empty) when either is not valid. */
int uidlist_init(struct uidlist *u, uint32_t validity, const char *guid);

/* Parse a whole dovecot-uidlist (len bytes, NUL bytes are data) into *out,
 * which need not be initialised and must be freed with uidlist_free after
 * any return.  UIDLIST_OK: every entry that parses is kept; lines that do
 * not (bad or out-of-order uid, missing ':', bad or repeated name, over a
 * limit) are skipped and reported, an ext field that is not a letter and a
 * value is dropped and reported.  next ends above every uid on any line,
 * kept or not, so a UID is never given twice.  UIDLIST_REBUILD: empty file,
 * other version, or header without V and N or with a bad field; *out is
 * empty and the caller picks a new UIDVALIDITY and rebuilds. */
int uidlist_parse(const char *text, size_t len, struct uidlist *out,
    uidlist_report_fn *report, void *arg);

/* Append the file text to out.  0, or -1 when the list breaks the format's
 * rules (uids not increasing or not below next) or out overflowed. */
int uidlist_format(const struct uidlist *u, struct buf *out);

/* Give the base of name (see uidlist_base_len) the next uid.  0 with
 * *uid_out set; 1 when that base is already listed (*uid_out is its uid);
 * -1 when the name or ext is not valid, the list is full, or the uid space
 * is used up (next would pass 2^32-1: the caller needs a new UIDVALIDITY). */
int uidlist_append(struct uidlist *u, const char *name, const char *ext, uint32_t *uid_out);

/* The entry for the base of name, or NULL.  Valid until the next change. */
const struct uidlist_entry *uidlist_find_name(const struct uidlist *u, const char *name);
/* The entry with this uid, or NULL (binary search). */
const struct uidlist_entry *uidlist_find_uid(const struct uidlist *u, uint32_t uid);

/* Drop every entry whose name present() says is gone (expunged); next is
 * not lowered, so the uids are not reused. */
void uidlist_remove_missing(struct uidlist *u, bool (*present)(void *arg, const char *name),
    void *arg);

/* Free everything and leave u empty (safe to call twice). */
void uidlist_free(struct uidlist *u);

/* Length of the base of a Maildir file name: up to its first ':' (the
 * info part, ":2,FLAGS"); Dovecot's ",S=...,W=..." stays in the base. */
size_t uidlist_base_len(const char *filename);

#endif

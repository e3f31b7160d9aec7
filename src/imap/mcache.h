/*
 * imap/mcache.h - the mailbox process's lazy cache of what FETCH derives
 * from a message's MIME structure: ENVELOPE, BODY, BODYSTRUCTURE and
 * RFC822.SIZE, so a client listing a folder again (mutt, Thunderbird and
 * imaptest ask for these first) costs no file read and no parse.
 *
 * A message's bytes never change under its UID (Maildir files are
 * written once; a new file is a new UID), so an entry keyed by folder,
 * UIDVALIDITY and UID stays right until it is evicted: nothing needs
 * invalidating.  The folder is named by the mailbox label ("user/name"),
 * compared in full, so no user can reach another's entries by a hash
 * collision.  Memory: at most MCACHE_BYTES for all users together, least
 * recently used out first; nothing on disk, so a restart starts cold.
 * Runs in: mailbox.  Not thread-safe.
 */
#ifndef TALON_IMAP_MCACHE_H
#define TALON_IMAP_MCACHE_H

#include <stddef.h>
#include <stdint.h>

struct mime_msg;

#define MCACHE_BYTES	(32u << 20)

struct mcache_rec {
	const char *envelope, *body, *bodystructure;	/* IMAP text, NUL-ended */
	uint64_t size;					/* RFC822.SIZE */
};

/* The entry for the message, or NULL; valid until the next mcache_put. */
const struct mcache_rec *mcache_get(const char *label, uint32_t validity, uint32_t uid);

/* Make and keep the entry from the parsed message mm of len stored bytes
 * (crlf_size: its RFC822.SIZE); returns it, valid until the next put. */
const struct mcache_rec *mcache_put(const char *label, uint32_t validity, uint32_t uid,
    const struct mime_msg *mm, uint64_t crlf_size);

/* Every entry dropped (tests, leak checks). */
void mcache_clear(void);

/* Entries and bytes held, for tests and the log. */
void mcache_stats(size_t *entries, size_t *bytes);

#endif

/*
 * store/mailbox.h - one Maildir mailbox as IMAP sees it: messages in UID
 * order with their flags, kept in step with the directory and with
 * Dovecot's files, so Dovecot, mutt and Talon see the same mail.
 *
 * On disk (Dovecot's Maildir layout):
 *   new/, cur/, tmp/        the messages; flags in the name after ":2,":
 *                           D draft, F flagged, R answered, S seen,
 *                           T deleted, a-z keywords; other letters kept
 *   dovecot-uidlist         UIDs (store/uidlist.h), replaced under the
 *                           dot-lock dovecot-uidlist.lock: the new text is
 *                           written into the lock file, fsynced and renamed
 *                           over the list (Dovecot's own way)
 *   dovecot-keywords        "<index> <name>" per line: a..z are 0..25
 *   talon-uidvalidity       ours, at the Maildir's root: the last
 *                           UIDVALIDITY given, so a folder made again
 *                           never gets an old one back
 *   talon-modseq            ours (CONDSTORE, RFC 7162): the mod-sequence of
 *                           every message with the flags it had then, and
 *                           of recent expunges; rewritten under the
 *                           uidlist's lock, rebuilt when lost
 *
 * Mod-sequences are max(highest + 1, the time in microseconds): a lost or
 * deleted talon-modseq is rebuilt with values above every one given
 * before, so HIGHESTMODSEQ never goes back (as long as the clock does not).
 *
 * A sync reads the directories and the list, gives new files the next
 * UIDs (in name order, which is arrival order for Maildir names), forgets
 * files that are gone, and writes the list back when it changed.  Nothing
 * found on disk ever changes UIDVALIDITY: only a list whose header cannot
 * be read gets a new one (logged), and every line that parses keeps its
 * UID.
 *
 * Snapshots: a scan's result (messages, flags, mod-sequences, expunges) is
 * kept in the process, by folder, and shared by every view of that folder
 * until the disk changes: a SELECT of a folder that did not change since
 * another session (or an earlier one) looked reads no directory, list or
 * index, and a thousand sessions on one INBOX hold one copy.  A view is
 * trusted while cur/, new/ and dovecot-uidlist have the times they had
 * before the scan, and those times were older than the clock then (a
 * change afterwards gets a later time; file systems with whole-second
 * times wait two seconds, as Dovecot does).
 *
 * Runs in: mailbox (the store's owner).  Trusts: nothing in the files
 * (other programs write them); mailbox directory names were checked by
 * imap/mutf7.h.  Blocking file I/O: the caller is one user's session.
 */
#ifndef TALON_STORE_MAILBOX_H
#define TALON_STORE_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/uidlist.h"

enum {
	MF_SEEN = 0x01,
	MF_ANSWERED = 0x02,
	MF_FLAGGED = 0x04,
	MF_DELETED = 0x08,
	MF_DRAFT = 0x10,
	MF_RECENT = 0x20,	/* \Recent for this view (IMAP4rev1): it is the first
				 * read-write view to see it (talon-modseq's mark);
				 * never in mb_msg.flags: mb_flags adds it */
};
#define MF_STORED	(MF_SEEN | MF_ANSWERED | MF_FLAGGED | MF_DELETED | MF_DRAFT)
#define MB_KEYWORDS_MAX	26
#define MB_KEYWORD_MAX	64	/* bytes of one keyword name */

struct mb_msg {
	uint32_t uid;
	uint8_t flags;		/* MF_STORED bits */
	bool in_new;		/* still in new/ (a read-only view moves nothing) */
	uint32_t kw;		/* bit i: keyword i of the mailbox */
	uint64_t vsize;		/* RFC822.SIZE (LF counted as CRLF), once vsize_known */
	bool vsize_known;
	int64_t mtime;		/* INTERNALDATE: the file's mtime, as Dovecot;
				 * INT64_MIN until someone needed it */
	uint64_t modseq;	/* of its last flag change or arrival */
	bool gone;		/* its file is gone; kept by mb_sync_keep until a
				 * sync that may renumber (only in a view's own copy) */
	char *name;		/* the file name, info included */
};

/* An expunge, for QRESYNC's VANISHED (EARLIER). */
struct mb_gone {
	uint32_t uid;
	uint64_t modseq;
};
#define MB_GONE_MAX	20000	/* expunges remembered; older ones raise gone_floor */

struct mb_snap;		/* one scan's result, shared (mailbox.c, "snapshots") */

struct mb_range {
	uint32_t lo, hi;	/* UIDs lo .. hi - 1 */
};

struct mailbox {
	int dir_fd, cur_fd, new_fd, tmp_fd;
	int root_fd;		/* the Maildir (talon-uidvalidity), or -1 */
	uint64_t dev, ino;	/* of dir_fd: the folder, for the snapshot cache */
	char label[320];	/* "user/mailbox", for log lines */
	bool readonly;
	bool no_claim;		/* writes, but leaves \Recent to the sessions that
				 * have the mailbox selected (a COPY or APPEND target) */
	/* The view, as of the last sync: read-only outside mailbox.c.  v and
	 * gone point into a snapshot that the other views of the same folder
	 * in this process share while they agree with the disk; only
	 * mb_set_flags and mb_refresh may give a view its own copy (and so
	 * move v: take pointers into it again after them). */
	uint32_t validity, next;
	struct mb_msg *v;	/* sorted by UID: index + 1 is the sequence number */
	size_t n;
	uint64_t highest;	/* HIGHESTMODSEQ */
	const struct mb_gone *gone;	/* expunges, by modseq ascending */
	size_t n_gone;
	uint64_t gone_floor;	/* expunges at or below this were forgotten */
	char kw[MB_KEYWORDS_MAX][MB_KEYWORD_MAX + 1];
	unsigned n_kw;
	unsigned saved;		/* files this process wrote, for unique names */
	struct mb_snap *snap;
	struct mb_range *recent;	/* UIDs \Recent in this view: it claimed them */
	size_t n_recent, recent_cap;
};

/* What a sync changed, in the order a session reports it (RFC 9051 7.4.1,
 * 7.5.1): EXPUNGE for each seq in expunged (descending, so each number is
 * valid when sent), then EXISTS when n grew, then FETCH FLAGS for each
 * changed UID. */
struct mb_delta {
	uint32_t *expunged;	/* old sequence numbers, highest first */
	uint32_t *expunged_uid;	/* their UIDs, ascending (QRESYNC's VANISHED) */
	size_t n_expunged;
	uint32_t *changed;	/* UIDs whose flags changed */
	size_t n_changed;
	size_t n_before;
	size_t n_recent;	/* moved out of new/ by this sync */
};

/* The host name part of the file names this process writes. */
void mb_set_host(const char *host);

/* Open the mailbox in directory dir (relative to maildir_fd: "." for
 * INBOX, ".Sent" ...) and sync it.  0, or -1 with why (ENOENT: no such
 * mailbox). */
enum { MB_RW = 0, MB_RO = 1, MB_TARGET = 2 };	/* mb_open's mode */
int mb_open(int maildir_fd, const char *dir, const char *label, int mode,
    struct mailbox **out, char *why, size_t whylen);
void mb_close(struct mailbox **m);

/* Bring the view up to date with the disk; d (may be NULL) says what
 * changed and must be freed with mb_delta_free.  0, or -1 (logged; the
 * view is unchanged). */
int mb_sync(struct mailbox *m, struct mb_delta *d);
/* The same, but a message whose file is gone stays in the view (gone set)
 * and nothing is renumbered: for the moments EXPUNGE may not be sent
 * (RFC 9051 7.5.1).  New messages and flag changes are taken. */
int mb_sync_keep(struct mailbox *m, struct mb_delta *d);
void mb_delta_free(struct mb_delta *d);

/* Set message i's stored flags (MF_STORED bits) and keywords: renames its
 * file and gives it a new mod-sequence (kept by the next sync).  0, or -1
 * (ENOENT: the file is gone, expunged by someone else).  May move m->v. */
int mb_set_flags(struct mailbox *m, size_t i, uint8_t flags, uint32_t kw);
/* The index of a keyword (case-insensitive), created in dovecot-keywords
 * when create is set and there is room; -1 when absent or full. */
int mb_keyword(struct mailbox *m, const char *name, bool create);
/* Read message i's flags again from its file's name, in case another
 * session or program renamed it (so +FLAGS/-FLAGS never undo their
 * change).  0, or -1 when the file is gone.  May move m->v. */
int mb_refresh(struct mailbox *m, size_t i);
/* Unlink message i's file.  The view keeps it until the next sync. */
int mb_expunge(struct mailbox *m, size_t i);
/* Open message i for reading; -1 when it is gone. */
int mb_open_msg(struct mailbox *m, size_t i);
/* RFC822.SIZE of message i, reading the file the first time. */
uint64_t mb_vsize(struct mailbox *m, size_t i);
/* INTERNALDATE of message i: its file's mtime (APPEND sets it; Dovecot
 * reads the same), in Unix seconds, 0 when the file cannot be read;
 * remembered in the view after the first look. */
int64_t mb_internaldate(struct mailbox *m, size_t i);
/* Message i's flags in this view: its stored flags, and MF_RECENT. */
uint8_t mb_flags(const struct mailbox *m, size_t i);
/* Drop the snapshots no view uses (tests, fuzzing: a clean slate). */
void mb_cache_flush(void);
/* Index of a UID, or -1. */
long mb_find_uid(const struct mailbox *m, uint32_t uid);

/* Store a message (CRLF or LF; stored with LF, as deliveries are) into
 * cur/ with flags and keywords, its mtime set to internaldate (0: now);
 * file and directory fsynced.  Then syncs m and sets *uid.  0, or -1
 * with why and errno (ENOSPC, EDQUOT: the disk is full; nothing partial
 * is left behind). */
int mb_append(struct mailbox *m, const uint8_t *msg, size_t len, uint8_t flags,
    uint32_t kw, int64_t internaldate, uint32_t *uid, char *why, size_t whylen);
/* Copy message i of src into dst (a hard link when they share a file
 * system, keeping flags and keywords by name), then sync dst and set
 * *uid.  0, or -1 with why. */
int mb_copy(struct mailbox *src, size_t i, struct mailbox *dst, uint32_t *uid,
    char *why, size_t whylen);

/* --- the folders of one Maildir ---------------------------------------------- */

/* Make a Maildir (or a Maildir++ folder with its maildirfolder file):
 * cur, new, tmp.  0 (also when it exists), or -1 with errno. */
int mb_create(int maildir_fd, const char *dir);
/* Remove a folder's directory and everything in it.  0, or -1. */
int mb_delete(int maildir_fd, const char *dir);
/* Call fn for every Maildir++ folder directory name (".Sent", ...). */
/* What the user's messages take, every folder together (the quota root
 * of RFC 9208): the sizes their file names give (",S=", else the file's
 * size) in *bytes, their number in *messages.  A readdir of each cur/
 * and new/, no file opened; nothing cached.  0, or -1 when the folders
 * cannot be listed (the INBOX is counted). */
int mb_usage(int maildir_fd, uint64_t *bytes, uint64_t *messages);
int mb_list_dirs(int maildir_fd, void (*fn)(void *arg, const char *dir), void *arg);

#endif

/*
 * imap/msession.h - what the files of the mailbox process share.
 *
 *   mserver.c   the process: grants and handoffs, the session I/O driver,
 *               IDLE and inotify, untagged updates after a sync
 *   mcmd.c      dispatch and the small commands (CAPABILITY, NOOP, ID,
 *               ENABLE, NAMESPACE, CHECK, CLOSE, UNSELECT, EXPUNGE, IDLE)
 *   mfolder.c   LIST, LSUB, CREATE, DELETE, RENAME, (UN)SUBSCRIBE, STATUS,
 *               SELECT, EXAMINE
 *   mfetch.c    FETCH
 *   mstore.c    STORE, COPY, MOVE, APPEND, SEARCH
 *
 * Runs in: mailbox (the store's owner).
 */
#ifndef TALON_IMAP_MSESSION_H
#define TALON_IMAP_MSESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/io.h"
#include "core/loop.h"
#include "imap/parse.h"
#include "store/mailbox.h"

struct conf;
struct ipc;

#define M_OUT_PAUSE	(256u << 10)	/* a long reply waits while this much is unsent */

enum mst {
	M_CMD,		/* reading commands */
	M_IDLE,		/* IDLE: waiting for DONE, updates sent as they come */
	M_CLOSING,	/* flush, then close */
};

struct msession;
/* A command that writes more than fits at once (FETCH of many messages)
 * goes on when the output has drained: returns true when done. */
typedef bool mcont_fn(struct msession *s);

struct msession {
	struct msession *next, *prev;
	char sid[17];
	char user[256];
	char client[64];
	struct io io;
	enum mst st;
	struct timer timer;
	struct imap_scan scan;
	struct imap_limits lim;
	int maildir_fd;		/* store/<user>/Maildir */
	struct mailbox *mb;	/* the selected mailbox, or NULL */
	char mbname[256];	/* its name, UTF-8 */
	bool utf8;		/* ENABLE UTF8=ACCEPT: names are not mUTF-7 */
	bool rev2;		/* ENABLE IMAP4rev2 */
	bool deflate_pending;	/* COMPRESS: start once the OK is written */
	bool condstore;		/* RFC 7162: MODSEQ in every FETCH from now on */
	bool qresync;		/* ENABLE QRESYNC: VANISHED instead of EXPUNGE */
	uint64_t kw_told;	/* the keywords of the selected mailbox the client
				 * was told (keywords_sig in mserver.c) */
	char tag[IMAP_TAG_MAX + 1];	/* IDLE, or a command going on */
	int wd[2];		/* inotify watches of the selected mailbox's new/, cur/ */
	bool changed;		/* inotify said the selected mailbox changed */
	unsigned n_bad;
	mcont_fn *cont;		/* a command going on, or NULL */
	void *cont_arg;
	void (*cont_free)(void *arg);
};

struct mworker {
	struct loop *loop;
	const struct conf *conf;
	struct ipc *parent;
	int store_fd;
	int inotify_fd;
	struct msession *sessions;
	size_t n_sessions;
	bool draining;
};
extern struct mworker MW;

/* mserver.c */
void m_reply(struct msession *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void m_tagged(struct msession *s, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void m_capability(struct msession *s, char *out, size_t n);
/* Flush, then watch for what the session's state wants (or free it). */
void m_session_update(struct msession *s);
/* Sync the selected mailbox and send what changed (EXPUNGE, EXISTS,
 * RECENT, FETCH FLAGS).  expunges: whether EXPUNGE may be sent now
 * (RFC 9051 7.5.1: not during FETCH, STORE, SEARCH by sequence number). */
void m_update(struct msession *s, bool expunges);
/* A FETCH response's MODSEQ item, when CONDSTORE is on (" MODSEQ (n)"). */
void m_modseq_item(struct msession *s, const struct mb_msg *e, struct buf *out);
/* Turn CONDSTORE on (a CONDSTORE-enabling command, RFC 7162 3.1). */
void m_condstore_on(struct msession *s);
/* "* VANISHED [(EARLIER) ]uids" for the UIDs in uids[0..n) (ascending). */
void m_vanished(struct msession *s, bool earlier, const uint32_t *uids, size_t n);
/* QRESYNC (RFC 7162 3.2.5, 3.2.6): "* VANISHED (EARLIER) ..." for the
 * UIDs expunged after modseq, within known (NULL: all). */
struct seqset;
void m_vanished_since(struct msession *s, uint64_t modseq, const struct seqset *known);
/* FLAGS and PERMANENTFLAGS for the selected mailbox; again whenever it
 * got a keyword the client was not told of (a FETCH may name only flags
 * the last FLAGS listed, RFC 9051 7.3.5). */
void m_send_flags(struct msession *s);
void m_keywords_check(struct msession *s);
/* Select or unselect (mb NULL); sets up the watches. */
void m_select(struct msession *s, struct mailbox *mb, const char *name);
/* An IMAP string for out: quoted when it can be, else a literal. */
void m_astring(struct buf *out, const char *s, size_t len);
/* A mailbox name as this client sees it (mUTF-7 unless UTF8=ACCEPT). */
void m_mailbox_name(struct msession *s, struct buf *out, const char *utf8);
/* A mailbox name argument to UTF-8; false (BAD sent) when invalid. */
bool m_mailbox_arg(struct msession *s, const char *tag, const struct imap_arg *a,
    char *out, size_t n);
/* An astring argument; false when not one or too long. */
bool m_astring_arg(const struct imap_arg *a, char *out, size_t n);
void m_flags_text(const struct msession *s, const struct mailbox *mb, uint8_t flags, uint32_t kw,
    struct buf *out);
/* The messages a sequence set (or UID set) names, as indexes into the
 * view, ascending.  false when the set is invalid (BAD sent). */
bool m_msgset(struct msession *s, const char *tag, const struct imap_arg *a, bool uid,
    size_t **idx, size_t *n);
/* Flag list (a list, or atoms from args[from..n_args)) to bits and
 * keyword indexes; keywords created when create.  false: BAD sent. */
bool m_flag_args(struct msession *s, const char *tag, const struct imap_arg *a, size_t n,
    struct mailbox *mb, bool create, uint8_t *flags, uint32_t *kw);

/* A session for fd (non-blocking, owned from now on) of user, linked into
 * MW and its loop, the Maildir prepared and the login's tagged reply
 * queued (NO and M_CLOSING when the Maildir cannot be opened).  Nothing is
 * read or flushed yet: m_session_event does that.  session_start uses it;
 * so does fuzz/fuzz_imap_session.c, which drives sessions without the
 * grant and handoff IPC. */
struct msession *m_session_new(int fd, const char *sid, const char *client, const char *user,
    const char *tag);
/* The loop's callback for a session's fd: read, run commands, flush; the
 * session may be freed on return (closed, EOF, error). */
void m_session_event(struct loop *l, int fd, unsigned ev, void *arg);

/* mcmd.c */
void m_command(struct msession *s, struct imap_cmd *c);
void m_idle_line(struct msession *s, const uint8_t *line, size_t len);

/* mfolder.c */
void m_cmd_list(struct msession *s, struct imap_cmd *c, bool lsub);
void m_cmd_create(struct msession *s, struct imap_cmd *c);
void m_cmd_delete(struct msession *s, struct imap_cmd *c);
void m_cmd_rename(struct msession *s, struct imap_cmd *c);
void m_cmd_subscribe(struct msession *s, struct imap_cmd *c, bool on);
void m_cmd_status(struct msession *s, struct imap_cmd *c);
void m_cmd_select(struct msession *s, struct imap_cmd *c, bool readonly);
/* Open a mailbox by UTF-8 name (for COPY, APPEND, STATUS); NULL with a
 * NO sent under tag. */
struct mailbox *m_open_mailbox(struct msession *s, const char *tag, const char *name,
    int mode);
/* First login: the Maildir and the special folders. */
int m_prepare_maildir(struct msession *s);

/* mfetch.c */
void m_cmd_fetch(struct msession *s, struct imap_cmd *c, bool uid);

/* msearch.c */
struct m_matches {
	size_t *idx;		/* view indexes that matched, ascending */
	size_t n;
	bool by_modseq;		/* the criteria used MODSEQ */
	bool unreadable;	/* a text key could not read some message */
};
/* Compile and run search criteria over the selected mailbox; false (BAD
 * sent) when they do not compile.  out->idx is the caller's to free. */
bool m_search_match(struct msession *s, const char *tag, const struct imap_arg *a, size_t n,
    struct m_matches *out);
bool m_search_charset(struct msession *s, const char *tag, const struct imap_arg **a,
    size_t *n, bool required);

/* msort.c */
void m_cmd_sort(struct msession *s, struct imap_cmd *c, bool uid);
void m_cmd_thread(struct msession *s, struct imap_cmd *c, bool uid);

/* mstore.c */
void m_cmd_store(struct msession *s, struct imap_cmd *c, bool uid);
void m_cmd_copy(struct msession *s, struct imap_cmd *c, bool uid, bool move);
void m_cmd_append(struct msession *s, struct imap_cmd *c);

/* mquota.c */
void m_cmd_getquotaroot(struct msession *s, struct imap_cmd *c);
void m_cmd_getquota(struct msession *s, struct imap_cmd *c);
void m_cmd_setquota(struct msession *s, struct imap_cmd *c);
/* Is there room for adding more bytes under `limit mailbox-quota`?
 * False: "tag NO [OVERQUOTA]" was sent. */
bool m_quota_room(struct msession *s, const char *tag, uint64_t adding);
void m_cmd_search(struct msession *s, struct imap_cmd *c, bool uid);
void m_cmd_expunge(struct msession *s, struct imap_cmd *c, bool uid);

#endif

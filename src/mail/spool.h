/*
 * mail/spool.h - the spool file format.
 *
 * One file per message, written by the smtp worker into a descriptor the
 * queue handed it, committed by the queue (mode 0640, file and directory
 * fsync):
 *
 *   "TALONQ1\n"                        8 bytes magic
 *   content                            the message, LF line ends, our
 *                                      Received header already on top
 *   records                            [u8 type][u32 len][len bytes] ...
 *   trailer                            [u64 content_len][u64 records_len]
 *                                      "TALONEND"                 24 bytes
 *
 * All integers big-endian.  The envelope is written last, so the content
 * can be streamed; a file whose trailer does not add up is torn and is
 * recognisably so.  The queue does not fully trust the smtp worker that
 * wrote it: records are bounds-checked and user names validated as path
 * components before use.
 */
#ifndef TALON_SPOOL_H
#define TALON_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define SPOOL_MAGIC		"TALONQ1\n"
#define SPOOL_MAGIC_LEN		8
#define SPOOL_TRAILER_LEN	24
#define SPOOL_RECORDS_MAX	(1u << 20)
#define SPOOL_QID_MAX		24	/* room; spool_new_qid makes SPOOL_QID_LEN */
#define SPOOL_QID_LEN		13
/* what a spool file holds besides the message: magic, our Received
 * header, records (at most SPOOL_RECORDS_MAX) and trailer */
#define SPOOL_OVERHEAD_MAX	(SPOOL_RECORDS_MAX + 64 * 1024)
/* A spool file is created 0600 and made 0640 when the queue commits it:
 * after a crash, a 0600 file was never acknowledged and is removed. */
#define SPOOL_MODE_OPEN		0600
#define SPOOL_MODE_COMMITTED	0640
/* A new message is spooled in memory (a memfd the queue makes, sealed so
 * it cannot grow past SPOOL_MEM_MAX) and never becomes a file on disk
 * when its local copies are its commit.  One that would pass
 * SPOOL_MEM_SPILL, envelope included, moves to a file on disk (SPILL). */
#define SPOOL_MEM_SPILL		(256 * 1024)
#define SPOOL_MEM_MAX		(2 * SPOOL_MEM_SPILL)

enum spool_rec {
	SPOOL_R_QID = 1,	/* text */
	SPOOL_R_TIME = 2,	/* u64 unix seconds of arrival */
	SPOOL_R_SENDER = 3,	/* text, "" for the null sender */
	SPOOL_R_RCPT = 4,	/* u32 index, user, NUL, address */
	SPOOL_R_SESSION = 5,	/* text: session id, for logs */
	SPOOL_R_HEADER = 6,	/* header fields to prepend to every copy (the
				 * Authentication-Results): printable ASCII,
				 * tab and LF, ends with LF, at most 16 KiB */
	SPOOL_R_SKIP = 7,	/* u64 offset, u64 length: content bytes to
				 * leave out (a forged Authentication-Results);
				 * ascending, not overlapping, within content */
	SPOOL_R_FOLDER = 8,	/* text: the Maildir++ folder to deliver into
				 * ("Junk" for DMARC quarantine); absent: INBOX */
};
#define SPOOL_HEADER_MAX	16384
#define SPOOL_SKIPS_MAX		64

struct spool_skip {
	uint64_t off, len;
};

struct spool_rcpt {
	uint32_t idx;
	char *user;		/* local mailbox name (validated) */
	char *addr;		/* address as delivered to (Delivered-To) */
};

struct spool_env {
	char qid[SPOOL_QID_MAX + 1];
	char session[24];
	uint64_t time;
	char *sender;
	struct spool_rcpt *rcpts;
	size_t n_rcpts;
	char *header;		/* NULL or prepended header text */
	struct spool_skip skips[SPOOL_SKIPS_MAX];
	size_t n_skips;
	char folder[16];	/* "" (INBOX) or "Junk" */
};

/* Append records and trailer describing env to b. */
void spool_encode(struct buf *b, const struct spool_env *env, uint64_t content_len);
/* Parse the records area (pure; fuzzed).  0 or -1 with *why. */
int spool_parse_records(const uint8_t *p, size_t len, struct spool_env *out, const char **why);
/* Read and check trailer + records of an open spool file of file_size
 * bytes.  Sets *content_off and *content_len. */
int spool_read(int fd, uint64_t file_size, struct spool_env *out,
    uint64_t *content_off, uint64_t *content_len, const char **why);
void spool_env_free(struct spool_env *env);
/* Is s a safe mailbox name: [a-z0-9][a-z0-9._-]{0,63}? */
bool spool_user_valid(const char *s);
/*
 * Per-recipient results, in spool/results/QID beside the message (an
 * append-only file, written only when a message is not delivered whole at
 * its first attempt):
 *
 *   [u32 len][u32 fnv1a(body)][body]            body, len bytes:
 *   u32 index, u8 status, u32 attempts, u64 unix time, text (the reply)
 *
 * A torn last record (short, or a checksum that does not match) is
 * ignored: the result it held is redone, and a redone local delivery finds
 * its copy in the Maildir.  A later record for an index overrides an
 * earlier one.
 */
enum spool_status { SPOOL_ST_DONE = 1, SPOOL_ST_DEFERRED = 2, SPOOL_ST_FAILED = 3 };
#define SPOOL_RESULT_TEXT_MAX 400

struct spool_result {
	uint32_t idx;
	uint8_t status;		/* enum spool_status */
	uint32_t attempts;
	uint64_t time;
	char text[SPOOL_RESULT_TEXT_MAX + 1];
};

void spool_result_encode(struct buf *b, const struct spool_result *r);
/* Walk the records in p..p+len: calls fn for each valid one; stops at the
 * first torn or bad one.  Returns the bytes of valid records (a writer
 * appends after them).  Pure; fuzzed. */
size_t spool_results_parse(const uint8_t *p, size_t len,
    void (*fn)(const struct spool_result *r, void *arg), void *arg);

/* Queue IDs: 13 characters of Crockford base32, time ordered. */
void spool_new_qid(char out[SPOOL_QID_MAX + 1]);
bool spool_qid_valid(const char *s);

#endif

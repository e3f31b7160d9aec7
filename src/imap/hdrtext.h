/*
 * imap/hdrtext.h - message header text as IMAP SEARCH (and later SORT and
 * THREAD) compares it: RFC 2047 encoded-words decoded to UTF-8, a simple
 * case fold, and RFC 5322 dates.
 *
 * Decoding (hdrtext_decode): "=?charset?B|Q?text?=" anywhere in a field
 * value, decoded when the charset is one of UTF-8, US-ASCII, ISO-8859-1,
 * ISO-8859-15, windows-1252, windows-1251 or KOI8-R (names in any case,
 * common aliases, an RFC 2231 "*language" suffix ignored); an
 * encoded-word in any other charset, or one that is malformed (bad
 * base64, no "?="), stays as it was written.  Whitespace between two
 * encoded-words is dropped (RFC 2047 6.2).  Unlike RFC 2047 5, words
 * glued to other text ("Re:=?utf-8?q?x?=") are decoded too, as mail
 * readers do.  No iconv(3): the imap worker is chrooted, and iconv would
 * read its modules from disk.
 *
 * Folding (hdrtext_fold): ASCII A-Z, and the simple one-to-one lowercase
 * mapping of the Latin-1 Supplement, Latin Extended-A, Greek and Coptic,
 * Cyrillic and Cyrillic Supplement (U+00C0..U+052F) in UTF-8.  Nothing
 * else: no full case folding ("ß" is not "ss", final sigma stays), no
 * normalisation (a precomposed "é" does not match "e" + U+0301).  Bytes
 * that are not UTF-8 pass unchanged.  The fold never lengthens text and is
 * idempotent.
 *
 * Runs in: imap worker.  Pure: no I/O, input untrusted.
 */
#ifndef TALON_IMAP_HDRTEXT_H
#define TALON_IMAP_HDRTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* Append the decoded form of the (unfolded) field value p[0..len) to out
 * as UTF-8 (bytes of unknown charsets as they were).  Returns 0, or -1
 * when out is full (out->err). */
int hdrtext_decode(struct buf *out, const uint8_t *p, size_t len);

/* Append p[0..len), text in the named charset (one of those listed
 * above, any case), to out as UTF-8.  Returns 0, 1 when the charset is
 * not one of them (out unchanged), or -1 when out is full. */
int hdrtext_charset_decode(struct buf *out, const char *charset, const uint8_t *p, size_t len);

/* Fold in[0..len) into out, which has room for len bytes (the result is
 * never longer); returns the folded length.  in and out may be the same
 * buffer. */
size_t hdrtext_fold(uint8_t *out, const uint8_t *in, size_t len);

/* A date as written in a Date: field (RFC 5322 3.3 and the obsolete
 * forms of 4.3: comments, two- and three-digit years, alphabetic and
 * military zones, missing seconds). */
struct hdrtext_date {
	int year, mon, day;	/* as written, in the sender's zone; mon 1..12 */
	bool has_time;		/* a valid time (and zone, or none) followed */
	int hour, min, sec;
	int zone;		/* minutes east of UTC; 0 for "-0000" and unknown zones */
	int64_t utc;		/* has_time: the moment in Unix seconds */
};

/* Parse a Date: field value.  True when at least the date part ([day-name
 * ","] day month year) is valid; the time is optional here, has_time says
 * whether one was found. */
bool hdrtext_parse_date(const uint8_t *p, size_t len, struct hdrtext_date *d);

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (any int
 * year), and back. */
int64_t hdrtext_days(int64_t y, int m, int d);
void hdrtext_civil(int64_t days, int64_t *y, int *m, int *d);
/* Days in month m (1..12) of year y. */
int hdrtext_mdays(int64_t y, int m);
/* 1..12 for a three-letter English month name (any case), else 0. */
int hdrtext_month(const uint8_t *p, size_t len);
/* "Jan".."Dec" for 1..12. */
const char *hdrtext_month_name(int m);

#endif

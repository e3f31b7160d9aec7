/*
 * msgauth/header.h - a streaming collector of a message's header section.
 *
 * Used by DKIM (msgauth/dkim.h), DMARC (the From: field) and the smtp
 * worker (removing forged Authentication-Results).  The message arrives in
 * pieces of any size, with LF or CRLF line ends (the smtp worker hands over
 * LF-only content; files from users may be CRLF).  A lone CR is data.
 *
 * Input:   message bytes, untrusted.  Bounded: at most `max` header bytes
 *          and MHDRS_FIELDS_MAX fields are kept; the rest is counted (so
 *          body_off stays right) but lost, and overflow says so.
 * Output:  the raw header bytes and one struct mhdr per field.
 * Runs in: smtp worker, policy, CLI.  Pure: no I/O.
 */
#ifndef TALON_MSGAUTH_HEADER_H
#define TALON_MSGAUTH_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define MHDRS_FIELDS_MAX 1000

/* One field: raw bytes [off, off+len) in the message as fed (name, colon,
 * value, folding, and its final line end); name_len = bytes of the name
 * (before the colon, trailing WSP excluded). */
struct mhdr {
	size_t off;
	size_t len;
	size_t name_len;
};

struct mhdrs {
	struct buf raw;		/* the header bytes as fed, at most max bytes kept */
	struct mhdr *f;
	size_t n, cap;
	bool done;		/* the empty line (or end of input) ended the header section */
	bool overflow;		/* more than max bytes, or more than 1000 fields: fields
				 * past it lost */
	bool malformed;		/* a line that is neither a field nor a continuation: kept
				 * in raw, belongs to no field (and ends the field before it) */
	uint64_t body_off;	/* once done: offset of the first body byte in the stream */
	/* private state after here */
	uint64_t pos;		/* bytes of the stream consumed */
	int st;			/* line state, see header.c */
	size_t name_len;	/* of the line being read, while in its name */
	bool in_field;		/* f[n - 1] is still growing (continuations) */
	bool name_wsp;		/* WSP seen after the name, before the colon */
};

void mhdrs_init(struct mhdrs *h, size_t max);
void mhdrs_free(struct mhdrs *h);
/* Feed bytes; returns how many belong to the header section (including the
 * empty line that ends it).  Once done, returns 0.  Call mhdrs_end() at the
 * end of the message (a message with no body/no empty line ends its header
 * there). */
size_t mhdrs_feed(struct mhdrs *h, const uint8_t *p, size_t len);
void mhdrs_end(struct mhdrs *h);
/* Field i has this name (ASCII case-insensitive). */
bool mhdrs_is(const struct mhdrs *h, size_t i, const char *name);
/* The value of field i (after the colon), unfolded (CR/LF of folding
 * removed, leading WSP kept as is), into a NUL-terminated malloc'd string
 * owned by the caller, length in *len (len may be NULL). */
char *mhdrs_value(const struct mhdrs *h, size_t i, size_t *len);
/* The first field named name at or after index from, or h->n if none. */
size_t mhdrs_find(const struct mhdrs *h, size_t from, const char *name);

#endif

/*
 * smtp/data.h - DATA and BDAT content framing (RFC 5321 4.1.1.4, 4.5.2;
 * RFC 3030).
 *
 * A byte-level state machine: the only end of DATA is <CRLF>.<CRLF>, the
 * first line of the data counting as preceded by CRLF.  A bare LF or a bare
 * CR is never a line end: it cannot end the data nor start a command (no
 * SMTP smuggling).  Policy (documented in docs/smtp.md): a message with a
 * bare CR or bare LF anywhere in its content is read to its real end and
 * then refused with 550 5.5.2 (strict, like Postfix
 * smtpd_forbid_bare_newline=reject), so nothing ambiguous is ever stored.
 *
 * Output: the content with CRLF turned into LF (the store's line ending)
 * and, for DATA, leading dots unstuffed (4.5.2).  Pure, no I/O.
 * Input:   untrusted bytes in pieces of any size.  Runs in: smtp worker.
 */
#ifndef TALON_SMTP_DATA_H
#define TALON_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct smtp_data {
	int state;		/* private */
	bool bare_lf;		/* saw LF not preceded by CR */
	bool bare_cr;		/* saw CR not followed by LF */
	bool done;		/* end-of-data seen (DATA mode only) */
	uint64_t n_raw;		/* content bytes received on the wire, excluding
				 * the final ".CRLF" terminator */
};

/* DATA mode. */
void smtp_data_init(struct smtp_data *d);
/* Consume up to len bytes.  Returns how many were consumed: all of them
 * unless the end of data was reached, in which case d->done is set and
 * the return value counts up to and including the final LF of <CRLF>.<CRLF>;
 * the remaining bytes are the next pipelined command.  Decoded content is
 * appended to out (which may hit its maximum: check out->err; feeding
 * continues to find the end regardless). */
size_t smtp_data_feed(struct smtp_data *d, const uint8_t *in, size_t len, struct buf *out);

/* BDAT mode: every byte is content (no dot handling), CRLF -> LF, bare
 * CR/LF flagged.  A CR at the end of one chunk pairs with an LF at the start
 * of the next. */
void smtp_bdat_init(struct smtp_data *d);
void smtp_bdat_feed(struct smtp_data *d, const uint8_t *in, size_t len, struct buf *out);
/* Call after the LAST chunk: a pending CR is a bare CR (flagged, and
 * emitted as is). */
void smtp_bdat_finish(struct smtp_data *d, struct buf *out);

#endif

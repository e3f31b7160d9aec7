/*
 * core/b64.h - strict base64 (RFC 4648 section 4) for protocol fields and
 * stored keys: SASL responses, SCRAM attributes, the users file's SCRAM
 * keys.
 *
 * Decoding is strict: the standard alphabet, padding required (the length
 * is a multiple of 4), '=' only as the last one or two characters, the
 * unused bits of the last quantum zero (RFC 4648 3.5), no whitespace.  So
 * every byte string has exactly one accepted spelling.  Lenient decoders
 * for message bodies live with their formats (imap/mime.c, msgauth/dkim.c).
 *
 * Input:   any bytes, not NUL-terminated.  Trusts: nothing.  Pure.
 * Runs in: every process that speaks SASL or reads the users file.
 */
#ifndef TALON_B64_H
#define TALON_B64_H

#include <stddef.h>
#include <stdint.h>

/* Longest base64 text for n bytes, and the most bytes len characters can
 * hold. */
#define B64_ENC_LEN(n)	((((n) + 2) / 3) * 4)
#define B64_DEC_MAX(len)	((len) / 4 * 3)

enum b64_rc {
	B64_OK = 0,
	B64_BAD,	/* not strict base64 */
	B64_TOO_LONG,	/* the result could exceed max: decided from len alone */
};

/* Decode p[0..len) into out (at most max bytes); *n is the length.  On any
 * result but B64_OK, *n is 0 and out may hold partial output: a caller
 * decoding secrets wipes out either way.  An empty input is B64_OK with
 * *n = 0. */
enum b64_rc b64_decode(const void *p, size_t len, uint8_t *out, size_t max, size_t *n);

/* Encode p[0..n) with padding into out (outsz bytes, NUL-terminated).
 * Returns the length without the NUL, or 0 with out = "" when it does not
 * fit (B64_ENC_LEN(n) + 1 always does). */
size_t b64_encode(const void *p, size_t n, char *out, size_t outsz);

#endif

/*
 * fuzz/fuzz_imap_mime.c - libFuzzer harness for imap/mime.c (ENVELOPE,
 * BODY[STRUCTURE], BODY[section], BINARY[section] of stored messages).
 *
 * Input:   the message bytes.  Its first line (at most 256 bytes) is also
 *          tried as a section spec, and its last bytes pick a few part
 *          numbers, so the section code sees specs the input steers.
 * Checks:  no crash, leak or sanitizer report; ENVELOPE and BODYSTRUCTURE
 *          are well-formed IMAP (balanced parentheses, quoted strings
 *          without CR, LF, 8-bit or NUL, literals of the length they
 *          announce); section bytes are CRLF-clean (no bare LF); BODY[]
 *          is RFC822.SIZE octets; results are 0 or the documented codes
 *          with nothing appended; and the message with every bare LF made
 *          CRLF gives byte-identical outputs.
 *          The search pieces (mime_search_text) lie in the message or the
 *          scratch buffer and total at most twice the message's size
 *          (quoted-printable writes its LF line ends as CRLF), each converted to UTF-8 by charset_to_utf8 within
 *          its bound; the input read as an address list
 *          (mime_address_text) is written without NUL bytes.
 * Seeds:   fuzz/corpus/imap_mime/ (the unit tests' messages, imaptest's).
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "imap/charset.h"
#include "imap/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_atom_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A small IMAP reader: the output is a sequence of atoms, NIL, numbers,
 * quoted strings and literals in balanced parentheses. */
static void
check_imap(const uint8_t *s, size_t n)
{
	size_t depth = 0, i = 0;
	while (i < n) {
		uint8_t c = s[i];
		assert(c != 0);
		if (c == '(') {
			depth++;
			i++;
		} else if (c == ')') {
			assert(depth > 0);
			depth--;
			i++;
		} else if (c == ' ') {
			i++;
		} else if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				assert(s[i] != '\r' && s[i] != '\n' && s[i] < 0x80 && s[i] != 0);
				if (s[i] == '\\') {
					i++;
					assert(i < n && (s[i] == '"' || s[i] == '\\'));
				}
			}
			assert(i < n);
			i++;
		} else if (c == '{') {
			size_t len = 0;
			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				len = len * 10 + (size_t)(s[i] - '0');
			assert(i + 3 <= n && memcmp(s + i, "}\r\n", 3) == 0);
			i += 3;
			assert(len <= n - i && memchr(s + i, 0, len) == NULL);
			i += len;
		} else {
			assert(is_atom_char(c));
			while (i < n && is_atom_char(s[i]))
				i++;
		}
	}
	assert(depth == 0);
}

static void
check_crlf_clean(const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n')
			assert(i > 0 && b->data[i - 1] == '\r');
}

#define N_SPECS 20

/* Every output for one message into out (separated by "|"), checked. */
static void
run(const uint8_t *msg, size_t len, const char *const *specs, size_t n_specs, struct buf *all)
{
	struct mime_msg *m = NULL;
	struct buf b;
	if (mime_parse(msg, len, &m) != 0)
		return;
	buf_init(&b, 0);

	mime_envelope(m, &b);
	check_imap(b.data, b.len);
	buf_append(all, b.data, b.len);
	buf_reset(&b);
	mime_bodystructure(m, true, &b);
	check_imap(b.data, b.len);
	buf_append(all, b.data, b.len);
	buf_reset(&b);
	mime_bodystructure(m, false, &b);
	check_imap(b.data, b.len);
	buf_append(all, b.data, b.len);

	for (size_t i = 0; i < n_specs; i++) {
		struct mime_section sec;
		const char *why = NULL;
		if (mime_section_parse(specs[i], strlen(specs[i]), &sec, &why) != 0) {
			assert(why != NULL);
			continue;
		}
		buf_reset(&b);
		int r = mime_section_get(m, &sec, &b);
		assert(r == 0 || (r == MIME_NO_PART && b.len == 0));
		check_crlf_clean(&b);
		if (i == 0 && sec.n_part == 0 && sec.text == MIME_SEC_BODY)
			assert(b.len == mime_crlf_size(msg, len));
		buf_printf(all, "|%d:", r);
		buf_append(all, b.data, b.len);
		buf_reset(&b);
		r = mime_binary_get(m, &sec, &b);
		assert(r == 0 || r == MIME_NO_PART || r == MIME_UNKNOWN_CTE);
		assert(r == 0 || b.len == 0);
		buf_printf(all, "|%d:", r);
		buf_append(all, b.data, b.len);
	}
	assert(!all->err && !b.err);
	buf_free(&b);
	mime_free(&m);
	assert(m == NULL);
}

struct pieces {
	const uint8_t *msg;
	size_t len, total;
	struct buf *scratch, conv;
};

static void
on_piece(void *arg, const char *charset, const uint8_t *p, size_t n)
{
	struct pieces *pc = arg;
	bool in_msg = p >= pc->msg && p + n <= pc->msg + pc->len;
	bool in_scratch = pc->scratch->data != NULL && p >= pc->scratch->data &&
	    p + n <= pc->scratch->data + pc->scratch->len;
	assert(n == 0 || in_msg || in_scratch);
	pc->total += n;
	if (charset != NULL) {
		assert(strlen(charset) <= MIME_CHARSET_MAX);
		buf_reset(&pc->conv);
		charset_to_utf8(charset, p, n, &pc->conv);
		assert(pc->conv.len <= pc->conv.max);
	}
}

static void
run_search_text(const uint8_t *data, size_t size)
{
	struct mime_msg *m = NULL;
	if (mime_parse(data, size, &m) != 0)
		return;
	struct buf scratch;
	buf_init(&scratch, 1u << 20);
	struct pieces pc = { data, size, 0, &scratch, { 0 } };
	buf_init(&pc.conv, 4u << 20);
	mime_search_text(m, &scratch, on_piece, &pc);
	assert(pc.total <= 2 * size);	/* QP makes LF line ends CRLF */
	buf_free(&pc.conv);
	buf_free(&scratch);
	mime_free(&m);

	/* binary parts to base64: no crash, and the result parses */
	struct buf b64;
	buf_init(&b64, 0);
	if (mime_parse(data, size, &m) == 0) {
		if (mime_binary_to_base64(m, &b64)) {
			struct mime_msg *again = NULL;
			assert(mime_parse(b64.data, b64.len, &again) == 0);
			mime_free(&again);
		}
		mime_free(&m);
	}
	buf_free(&b64);

	struct buf out, tmp;
	buf_init(&out, 0);
	buf_init(&tmp, 0);
	mime_address_text(data, size, &out, &tmp);
	assert(out.len == 0 || memchr(out.data, 0, out.len) == NULL || memchr(data, 0, size));
	buf_free(&out);
	buf_free(&tmp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = {
		"", "HEADER", "TEXT", "1", "1.MIME", "2", "2.MIME", "1.1", "2.1", "2.HEADER",
		"2.TEXT", "1.2.3", "HEADER.FIELDS (From Subject Content-Type)",
		"HEADER.FIELDS.NOT (To Received)", "2.HEADER.FIELDS (Subject)",
	};
	const char *specs[N_SPECS];
	size_t n = 0;
	for (; n < sizeof fixed / sizeof fixed[0]; n++)
		specs[n] = fixed[n];

	/* the first line as a spec */
	char first[257];
	size_t fl = 0;
	while (fl < size && fl < sizeof first - 1 && data[fl] != '\n' && data[fl] != 0) {
		first[fl] = (char)data[fl];
		fl++;
	}
	first[fl] = '\0';
	specs[n++] = first;

	/* part numbers 1..4 from the last bytes, with and without MIME */
	char path[64], path_mime[80];
	size_t pl = 0;
	for (size_t i = 0; i < 6 && i < size; i++)
		pl += (size_t)snprintf(path + pl, sizeof path - pl, "%s%d", i ? "." : "",
		    data[size - 1 - i] % 4 + 1);
	path[pl] = '\0';
	snprintf(path_mime, sizeof path_mime, "%s.MIME", path);
	if (pl > 0) {
		specs[n++] = path;
		specs[n++] = path_mime;
	}

	struct buf lf, crlf;
	buf_init(&lf, 0);
	buf_init(&crlf, 0);
	run(data, size, specs, n, &lf);
	run_search_text(data, size);

	/* the same message with CRLF line ends must look the same */
	uint8_t *c = malloc(2 * size + 1);
	size_t cl = 0;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			c[cl++] = '\r';
		c[cl++] = data[i];
	}
	assert(mime_crlf_size(data, size) == cl);
	run(c, cl, specs, n, &crlf);
	assert(lf.len == crlf.len && (lf.len == 0 || memcmp(lf.data, crlf.data, lf.len) == 0));
	free(c);
	buf_free(&lf);
	buf_free(&crlf);
	return 0;
}

/*
 * tests/unit/test_imap_mime.c - imap/mime.c: ENVELOPE, BODY[STRUCTURE],
 * BODY[section], BINARY[section] and RFC822.SIZE of stored messages.
 *
 * Expected outputs are byte-exact.  Where Dovecot's imaptest suite
 * (dovecot/imaptest src/tests/fetch-*, MIT) has an expectation for the
 * same message, the message is copied into tests/data/mime/ and the
 * sizes and section bytes here are Dovecot's (only the letter case of
 * media types differs, see mime.h).  Every message is also checked in
 * CRLF form: all outputs must be identical.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "imap/mime.h"
#include "t.h"

#ifndef DATA_DIR
#define DATA_DIR "tests/data/mime/"
#endif

/* ---- helpers ---------------------------------------------------------- */

/* Results live in a small ring so one CHECK can hold two of them. */
static char *ring[8];
static unsigned ring_i;

static const char *
keep(struct buf *b)
{
	char *s = malloc(b->len + 1);
	if (b->len > 0)
		memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	ring_i = (ring_i + 1) % 8;
	free(ring[ring_i]);
	ring[ring_i] = s;
	return s;
}

static struct mime_msg *
parse_n(const char *msg, size_t len)
{
	struct mime_msg *m = NULL;
	if (mime_parse((const uint8_t *)msg, len, &m) != 0)
		abort();
	return m;
}

static const char *
bstruct(const char *msg, bool ext)
{
	struct mime_msg *m = parse_n(msg, strlen(msg));
	struct buf b;
	buf_init(&b, 0);
	mime_bodystructure(m, ext, &b);
	const char *s = keep(&b);
	buf_free(&b);
	mime_free(&m);
	return s;
}

static const char *
envelope(const char *msg)
{
	struct mime_msg *m = parse_n(msg, strlen(msg));
	struct buf b;
	buf_init(&b, 0);
	mime_envelope(m, &b);
	const char *s = keep(&b);
	buf_free(&b);
	mime_free(&m);
	return s;
}

/* Section bytes, "<NO PART>", "<UNKNOWN-CTE>" or "<BAD: reason>";
 * a spec starting with "!" asks for BINARY. */
static const char *
section_n(const char *msg, size_t len, const char *spec)
{
	bool is_binary = spec[0] == '!';
	struct mime_section sec;
	const char *why = NULL;
	char bad[128];
	spec += is_binary;
	if (mime_section_parse(spec, strlen(spec), &sec, &why) != 0) {
		snprintf(bad, sizeof bad, "<BAD: %s>", why);
		struct buf b = { .data = (uint8_t *)bad, .len = strlen(bad) };
		return keep(&b);
	}
	struct mime_msg *m = parse_n(msg, len);
	struct buf b;
	buf_init(&b, 0);
	int r = is_binary ? mime_binary_get(m, &sec, &b) : mime_section_get(m, &sec, &b);
	if (r == MIME_NO_PART)
		buf_puts(&b, "<NO PART>");
	else if (r == MIME_UNKNOWN_CTE)
		buf_puts(&b, "<UNKNOWN-CTE>");
	const char *s = keep(&b);
	buf_free(&b);
	mime_free(&m);
	return s;
}

static const char *
section(const char *msg, const char *spec)
{
	return section_n(msg, strlen(msg), spec);
}

static size_t
section_len(const char *msg, const char *spec)
{
	return strlen(section(msg, spec));
}

/* msg with every LF not after CR turned into CRLF (caller frees). */
static char *
to_crlf(const char *msg)
{
	size_t n = strlen(msg);
	char *o = malloc(2 * n + 1), *q = o;
	for (size_t i = 0; i < n; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			*q++ = '\r';
		*q++ = msg[i];
	}
	*q = '\0';
	return o;
}

static char *
read_file(const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof path, "%s%s", DATA_DIR, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return NULL;
	}
	char *d = malloc(1 << 20);
	*len = fread(d, 1, (1 << 20) - 1, f);
	d[*len] = '\0';
	fclose(f);
	return d;
}

/* The imaptest .mbox files hold one message after a "From " line. */
static char *
read_mbox(const char *name)
{
	size_t len;
	char *d = read_file(name, &len);
	if (d == NULL)
		return calloc(1, 1);
	if (strncmp(d, "From ", 5) == 0) {
		char *nl = strchr(d, '\n');
		memmove(d, nl + 1, strlen(nl + 1) + 1);
	}
	return d;
}

/* The same outputs for msg with LF and with CRLF line ends. */
static const char *const all_specs[] = {
	"", "HEADER", "TEXT", "1", "1.MIME", "2", "2.MIME", "2.HEADER", "2.TEXT", "1.1",
	"2.1", "2.2", "1.2", "3", "HEADER.FIELDS (From Subject Content-Type)",
	"HEADER.FIELDS.NOT (Date)", "2.HEADER.FIELDS (Subject)", "!1", "!2", "!2.1",
};

static void
check_crlf_same(const char *msg)
{
	char *c = to_crlf(msg);
	if (strcmp(c, msg) == 0) {
		free(c);
		return;
	}
	CHECK_STR(bstruct(msg, true), bstruct(c, true));
	CHECK_STR(bstruct(msg, false), bstruct(c, false));
	CHECK_STR(envelope(msg), envelope(c));
	for (size_t i = 0; i < sizeof all_specs / sizeof all_specs[0]; i++)
		CHECK_STR(section(msg, all_specs[i]), section(c, all_specs[i]));
	CHECK_INT(mime_crlf_size((const uint8_t *)msg, strlen(msg)), strlen(c));
	free(c);
}

/* ---- simple messages ---------------------------------------------------- */

static const char simple[] =
    "From: Alice <alice@example.org>\n"
    "To: bob@example.net\n"
    "Subject: Hello\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
    "Message-ID: <1@example.org>\n"
    "\n"
    "Hi Bob,\n"
    "bye.\n";

T(test_simple_text)
{
	CHECK_STR(bstruct(simple, false),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 15 2)");
	CHECK_STR(bstruct(simple, true),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 15 2"
	    " NIL NIL NIL NIL)");
	CHECK_STR(envelope(simple),
	    "(\"Mon, 1 Jan 2024 10:00:00 +0000\" \"Hello\""
	    " ((\"Alice\" NIL \"alice\" \"example.org\"))"
	    " ((\"Alice\" NIL \"alice\" \"example.org\"))"
	    " ((\"Alice\" NIL \"alice\" \"example.org\"))"
	    " ((NIL NIL \"bob\" \"example.net\")) NIL NIL NIL \"<1@example.org>\")");
	CHECK_STR(section(simple, "TEXT"), "Hi Bob,\r\nbye.\r\n");
	CHECK_STR(section(simple, "1"), "Hi Bob,\r\nbye.\r\n");
	CHECK_STR(section(simple, "HEADER"),
	    "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: Hello\r\n"
	    "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\n");
	CHECK_STR(section(simple, "1.MIME"), section(simple, "HEADER"));
	CHECK_INT(section_len(simple, ""), mime_crlf_size((const uint8_t *)simple,
	    strlen(simple)));
	CHECK_STR(section(simple, "2"), "<NO PART>");
	CHECK_STR(section(simple, "1.1"), "<NO PART>");
	CHECK_STR(section(simple, "1.HEADER"), "<NO PART>");
	check_crlf_same(simple);
}

T(test_crlf_size)
{
	CHECK_INT(mime_crlf_size((const uint8_t *)"", 0), 0);
	CHECK_INT(mime_crlf_size((const uint8_t *)"a\nb\r\nc", 6), 7);
	CHECK_INT(mime_crlf_size((const uint8_t *)"\n\n", 2), 4);
	CHECK_INT(mime_crlf_size((const uint8_t *)"\r\r\n\r", 4), 4);
	/* a bare CR is data, not a line end */
	CHECK_STR(bstruct("\nab\rcd\n", false),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 7 1)");
	CHECK_STR(section("\nab\rcd\n", "TEXT"), "ab\rcd\r\n");
}

T(test_no_final_newline)
{
	const char *msg = "Subject: x\n\nline one\nline two";
	CHECK_STR(bstruct(msg, false),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 18 1)");
	CHECK_STR(section(msg, "TEXT"), "line one\r\nline two");
	CHECK_STR(section(msg, ""), "Subject: x\r\n\r\nline one\r\nline two");
	CHECK_INT(mime_crlf_size((const uint8_t *)msg, strlen(msg)), 32);
	check_crlf_same(msg);
}

/* RFC 9051 6.4.5: the blank line is in every header fetch "except in the
 * case of a message that has no body and no blank line". */
T(test_header_only)
{
	const char *msg = "Subject: only a header\nFrom: a@b";
	CHECK_STR(section(msg, "HEADER"), "Subject: only a header\r\nFrom: a@b");
	CHECK_STR(section(msg, "TEXT"), "");
	CHECK_STR(section(msg, "HEADER.FIELDS (SUBJECT)"), "Subject: only a header\r\n");
	CHECK_STR(section(msg, "HEADER.FIELDS (X)"), "");
	CHECK_STR(bstruct(msg, false),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)");
	CHECK_STR(envelope(msg), "(NIL \"only a header\" ((NIL NIL \"a\" \"b\"))"
	    " ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL)");
	/* an empty message, and one that is only the blank line */
	CHECK_STR(bstruct("", true),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0"
	    " NIL NIL NIL NIL)");
	CHECK_STR(envelope(""), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	CHECK_STR(section("", ""), "");
	CHECK_STR(section("\n", "HEADER"), "\r\n");
	CHECK_STR(section("\nbody", "TEXT"), "body");
	check_crlf_same(msg);
}

/* RFC 9051 7.5.2's FETCH example, rebuilt: its ENVELOPE and BODY exactly. */
T(test_rfc9051_fetch_example)
{
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n"
	    "From: Terry Gray <gray@cac.washington.edu>\n"
	    "Subject: IMAP4rev1 WG mtg summary and minutes\n"
	    "To: imap@cac.washington.edu\n"
	    "cc: minutes@CNRI.Reston.VA.US,\n"
	    "    John Klensin <KLENSIN@MIT.EDU>\n"
	    "Message-Id: <B27397-0100000@cac.washington.edu>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n\n");
	/* 92 lines, 3028 octets with CRLF */
	for (int i = 0; i < 92; i++)
		buf_puts(&b, i < 84 ? "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
		    : "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
	buf_cstr(&b);
	const char *msg = (const char *)b.data;
	CHECK_STR(envelope(msg),
	    "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\""
	    " \"IMAP4rev1 WG mtg summary and minutes\""
	    " ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\"))"
	    " ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\"))"
	    " ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\"))"
	    " ((NIL NIL \"imap\" \"cac.washington.edu\"))"
	    " ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
	    "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL"
	    " \"<B27397-0100000@cac.washington.edu>\")");
	CHECK_STR(bstruct(msg, false),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)");
	buf_free(&b);
}

/* RFC 9051 7.5.2's BODYSTRUCTURE example, rebuilt byte for byte. */
T(test_rfc9051_bodystructure_example)
{
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\n"
	    "Content-Type: text/plain; charset=US-ASCII\n\n");
	for (int i = 0; i < 23; i++)	/* 1152 octets, 23 lines */
		buf_puts(&b, i < 21 ? "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n"
		    : "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n");
	buf_puts(&b, "\n--XX\nContent-Type: text/plain; charset=US-ASCII; name=cc.diff\n"
	    "Content-ID: <960723163407.20117h@cac.washington.edu>\n"
	    "Content-Description: Compiler diff\n"
	    "Content-Transfer-Encoding: BASE64\n\n");
	for (int i = 0; i < 73; i++)	/* 4554 octets, 73 lines */
		buf_puts(&b, i < 28
		    ? "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQ\n"
		    : "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n");
	buf_puts(&b, "\n--XX--\n");
	buf_cstr(&b);
	const char *msg = (const char *)b.data;
	CHECK_STR(bstruct(msg, false),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)"
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\")"
	    " \"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\""
	    " 4554 73) \"MIXED\")");
	check_crlf_same(msg);
	buf_free(&b);
}

/* ---- multipart ---------------------------------------------------------- */

static const char nested3[] =
    "Subject: nested\n"
    "Content-Type: multipart/mixed; boundary=\"a\"\n"
    "\n"
    "preamble a\n"
    "--a\n"
    "\n"
    "part 1\n"
    "--a\n"
    "Content-Type: multipart/mixed; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<b>2.1</b>\n"
    "--b\n"
    "Content-Type: multipart/mixed; boundary=c\n"
    "\n"
    "--c\n"
    "Content-Type: image/png\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "iVBORw0KGgo=\n"
    "--c\n"
    "\n"
    "2.2.2\n"
    "--c--\n"
    "epilogue c\n"
    "--b--\n"
    "--a--\n"
    "epilogue a\n";

T(test_multipart_nested_3)
{
	CHECK_STR(bstruct(nested3, false),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 6 0)"
	    "((\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 10 0)"
	    "((\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" 12)"
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 0)"
	    " \"MIXED\") \"MIXED\") \"MIXED\")");
	CHECK_STR(bstruct(nested3, true),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 6 0"
	    " NIL NIL NIL NIL)"
	    "((\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 10 0 NIL NIL NIL NIL)"
	    "((\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" 12 NIL NIL NIL NIL)"
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 0"
	    " NIL NIL NIL NIL)"
	    " \"MIXED\" (\"BOUNDARY\" \"c\") NIL NIL NIL)"
	    " \"MIXED\" (\"BOUNDARY\" \"b\") NIL NIL NIL)"
	    " \"MIXED\" (\"BOUNDARY\" \"a\") NIL NIL NIL)");
	CHECK_STR(section(nested3, "1"), "part 1");
	CHECK_STR(section(nested3, "1.MIME"), "\r\n");
	CHECK_STR(section(nested3, "2.1"), "<b>2.1</b>");
	CHECK_STR(section(nested3, "2.2.1"), "iVBORw0KGgo=");
	CHECK_STR(section(nested3, "2.2.2"), "2.2.2");
	CHECK_STR(section(nested3, "2.2"), "--c\r\nContent-Type: image/png\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--c\r\n\r\n2.2.2\r\n"
	    "--c--\r\nepilogue c");
	CHECK_STR(section(nested3, "2.2.MIME"),
	    "Content-Type: multipart/mixed; boundary=c\r\n\r\n");
	CHECK_STR(section(nested3, "2.2.2.MIME"), "\r\n");
	CHECK_STR(section(nested3, "2.2.3"), "<NO PART>");
	CHECK_STR(section(nested3, "2.2.1.1"), "<NO PART>");
	CHECK_STR(section(nested3, "3"), "<NO PART>");
	CHECK_STR(section(nested3, "2.HEADER"), "<NO PART>");
	/* BINARY decodes the base64 image part */
	CHECK_STR(section(nested3, "!2.2.1"), "\x89PNG\r\n\x1a\n");
	check_crlf_same(nested3);
}

static const char alternative[] =
    "From: a@example.org\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative;\n"
    "\tboundary=\"----=_Part_0_1.2\"\n"
    "\n"
    "------=_Part_0_1.2\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Gr=C3=BC=C3=9Fe\n"
    "\n"
    "------=_Part_0_1.2\n"
    "Content-Type: text/html; charset=UTF-8\n"
    "Content-Transfer-Encoding: 7bit\n"
    "Content-Language: de, en-GB\n"
    "\n"
    "<p>Gruesse</p>\n"
    "\n"
    "------=_Part_0_1.2--\n";

T(test_multipart_alternative)
{
	CHECK_STR(bstruct(alternative, true),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"QUOTED-PRINTABLE\" 17 1"
	    " NIL NIL NIL NIL)"
	    "(\"TEXT\" \"HTML\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 16 1"
	    " NIL NIL (\"de\" \"en-GB\") NIL)"
	    " \"ALTERNATIVE\" (\"BOUNDARY\" \"----=_Part_0_1.2\") NIL NIL NIL)");
	CHECK_STR(section(alternative, "!1"), "Gr\xc3\xbc\xc3\x9f" "e\r\n");
	CHECK_STR(section(alternative, "1"), "Gr=C3=BC=C3=9Fe\r\n");
	CHECK_STR(section(alternative, "!2"), "<p>Gruesse</p>\r\n");
	check_crlf_same(alternative);
}

static const char with_rfc822[] =
    "From: outer@example.org\n"
    "Subject: fwd\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "--outer\n"
    "Content-Type: text/plain\n"
    "\n"
    "see attached\n"
    "--outer\n"
    "Content-Type: message/rfc822; name=\"inner.eml\"\n"
    "Content-Disposition: attachment; filename=inner.eml\n"
    "Content-Description: forwarded\n"
    "\n"
    "From: \"Inner, Sender\" <inner@example.com>\n"
    "To: x@example.com\n"
    "Subject: inner\n"
    "Content-Type: multipart/alternative; boundary=in\n"
    "\n"
    "--in\n"
    "\n"
    "plain\n"
    "--in\n"
    "Content-Type: text/html\n"
    "\n"
    "<i>html</i>\n"
    "--in--\n"
    "\n"
    "--outer--\n";

T(test_message_rfc822)
{
	CHECK_STR(bstruct(with_rfc822, true),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 12 0"
	    " NIL NIL NIL NIL)"
	    "(\"MESSAGE\" \"RFC822\" (\"NAME\" \"inner.eml\") NIL \"forwarded\" \"7BIT\" 199"
	    " (NIL \"inner\" ((\"Inner, Sender\" NIL \"inner\" \"example.com\"))"
	    " ((\"Inner, Sender\" NIL \"inner\" \"example.com\"))"
	    " ((\"Inner, Sender\" NIL \"inner\" \"example.com\"))"
	    " ((NIL NIL \"x\" \"example.com\")) NIL NIL NIL NIL)"
	    " ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 0"
	    " NIL NIL NIL NIL)"
	    "(\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 11 0"
	    " NIL NIL NIL NIL)"
	    " \"ALTERNATIVE\" (\"BOUNDARY\" \"in\") NIL NIL NIL) 13"
	    " NIL (\"ATTACHMENT\" (\"FILENAME\" \"inner.eml\")) NIL NIL)"
	    " \"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL)");
	CHECK_STR(section(with_rfc822, "2.HEADER"),
	    "From: \"Inner, Sender\" <inner@example.com>\r\nTo: x@example.com\r\n"
	    "Subject: inner\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n");
	CHECK_STR(section(with_rfc822, "2.TEXT"),
	    "--in\r\n\r\nplain\r\n--in\r\nContent-Type: text/html\r\n\r\n<i>html</i>\r\n"
	    "--in--\r\n");
	CHECK_STR(section(with_rfc822, "2.HEADER.FIELDS (subject)"),
	    "Subject: inner\r\n\r\n");
	CHECK_STR(section(with_rfc822, "2.1"), "plain");
	CHECK_STR(section(with_rfc822, "2.2"), "<i>html</i>");
	CHECK_STR(section(with_rfc822, "2.2.MIME"), "Content-Type: text/html\r\n\r\n");
	CHECK_STR(section(with_rfc822, "2.MIME"),
	    "Content-Type: message/rfc822; name=\"inner.eml\"\r\n"
	    "Content-Disposition: attachment; filename=inner.eml\r\n"
	    "Content-Description: forwarded\r\n\r\n");
	CHECK_INT(section_len(with_rfc822, "2"), 199);
	CHECK_STR(section(with_rfc822, "2.3"), "<NO PART>");
	CHECK_STR(section(with_rfc822, "1.TEXT"), "<NO PART>");
	check_crlf_same(with_rfc822);
}

static const char digest[] =
    "Content-Type: multipart/digest; boundary=d\n"
    "\n"
    "--d\n"
    "\n"
    "From: one@example.org\n"
    "Subject: one\n"
    "\n"
    "first\n"
    "--d\n"
    "Content-Type: text/plain\n"
    "\n"
    "not a message\n"
    "--d--\n";

T(test_digest_default)
{
	CHECK_STR(bstruct(digest, false),
	    "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 44"
	    " (NIL \"one\" ((NIL NIL \"one\" \"example.org\")) ((NIL NIL \"one\" \"example.org\"))"
	    " ((NIL NIL \"one\" \"example.org\")) NIL NIL NIL NIL NIL)"
	    " (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 0) 3)"
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 13 0)"
	    " \"DIGEST\")");
	CHECK_STR(section(digest, "1.HEADER"), "From: one@example.org\r\nSubject: one\r\n\r\n");
	CHECK_STR(section(digest, "1.TEXT"), "first");
	CHECK_STR(section(digest, "1.1"), "first");
	CHECK_STR(section(digest, "1.MIME"), "\r\n");
	/* only direct children of the digest default to message/rfc822 */
	CHECK_STR(bstruct("Content-Type: multipart/digest; boundary=d\n\n--d\n"
	    "Content-Type: multipart/mixed; boundary=e\n\n--e\n\nx\n--e--\n--d--\n", false),
	    "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 1 0) \"MIXED\")"
	    " \"DIGEST\")");
	check_crlf_same(digest);
}

T(test_missing_boundary)
{
	const char *msg = "Content-Type: multipart/mixed\n\n--x\n\nhello\n--x--\n";
	const char *empty = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL"
	    " \"7BIT\" 0 0) \"MIXED\")";
	CHECK_STR(bstruct(msg, false), empty);
	CHECK_STR(bstruct(msg, true),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0"
	    " NIL NIL NIL NIL) \"MIXED\" NIL NIL NIL NIL)");
	CHECK_STR(section(msg, "TEXT"), "--x\r\n\r\nhello\r\n--x--\r\n");
	CHECK_STR(section(msg, "1"), "<NO PART>");
	/* empty boundary, boundary over the limit, and a boundary that never
	 * shows up: the same */
	CHECK_STR(bstruct("Content-Type: multipart/mixed; boundary=\"\"\n\n--\nx\n", false),
	    empty);
	CHECK_STR(bstruct("Content-Type: multipart/mixed; boundary=zz\n\nno parts\n", false),
	    empty);
	char big[600];
	snprintf(big, sizeof big, "Content-Type: multipart/mixed; boundary=%0201d\n\n--%0201d\n"
	    "\nx\n", 7, 7);
	CHECK_STR(bstruct(big, false), empty);
	snprintf(big, sizeof big, "Content-Type: multipart/mixed; boundary=%0200d\n\n--%0200d\n"
	    "\nx\n", 7, 7);
	CHECK_STR(bstruct(big, false), "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL"
	    " \"7BIT\" 3 1) \"MIXED\")");
	/* "multipart" without a subtype is not a valid Content-Type */
	CHECK_STR(bstruct("Content-Type: multipart\n\n--x\n", false),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 1)");
}

/* A delimiter is a whole line: "--b" inside a line, or "--b" followed by
 * anything but whitespace, is text (RFC 2046 5.1.1). */
T(test_boundary_inside_line)
{
	const char *msg =
	    "Content-Type: multipart/mixed; boundary=b\n"
	    "\n"
	    "--b\n"
	    "\n"
	    "text --b more\n"
	    "--bx\n"
	    " --b\n"
	    "--b  \t\n"
	    "\n"
	    "two\n"
	    "--b-- trailing garbage\n"
	    "--b--\t\n"
	    "epilogue\n"
	    "--b\n"
	    "after the end\n";
	CHECK_STR(bstruct(msg, false),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 25 2)"
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 27 1)"
	    " \"MIXED\")");
	CHECK_STR(section(msg, "1"), "text --b more\r\n--bx\r\n --b");
	CHECK_STR(section(msg, "2"), "two\r\n--b-- trailing garbage");
	check_crlf_same(msg);
}

T(test_preamble_epilogue)
{
	const char *msg =
	    "Content-Type: multipart/mixed; boundary=\"sep\"\n"
	    "\n"
	    "This is the preamble.\n"
	    "\n"
	    "--sep\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "body\n"
	    "\n"
	    "--sep--\n"
	    "This is the epilogue.\n";
	CHECK_STR(bstruct(msg, false),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 6 1) \"MIXED\")");
	CHECK_STR(section(msg, "1"), "body\r\n");
	CHECK_STR(section(msg, "TEXT"), "This is the preamble.\r\n\r\n--sep\r\n"
	    "Content-Type: text/plain\r\n\r\nbody\r\n\r\n--sep--\r\nThis is the epilogue.\r\n");
	CHECK_STR(section(msg, "1.MIME"), "Content-Type: text/plain\r\n\r\n");
	check_crlf_same(msg);
}

/* The line end before a delimiter belongs to it; when that is the blank
 * line, the part has no blank line and no body. */
T(test_empty_parts)
{
	const char *msg = "Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n"
	    "Content-Type: text/html\n--b\nContent-Type: text/html\n\n--b--\n";
	CHECK_STR(bstruct(msg, false),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)"
	    "(\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)"
	    "(\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0) \"MIXED\")");
	CHECK_STR(section(msg, "1.MIME"), "");
	CHECK_STR(section(msg, "2.MIME"), "Content-Type: text/html");
	CHECK_STR(section(msg, "3.MIME"), "Content-Type: text/html\r\n");
	CHECK_STR(section(msg, "3"), "");
	/* a message/rfc822 part cut short still has its (empty) message */
	CHECK_STR(bstruct("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: message/rfc822\n--b--\n", false),
	    "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 0"
	    " (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
	    " (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0) 0) \"MIXED\")");
	check_crlf_same(msg);
}

/* An outer delimiter ends the inner parts, and an inner boundary that
 * starts with the outer one is still matched first. */
T(test_outer_boundary_closes_inner)
{
	const char *msg =
	    "Content-Type: multipart/mixed; boundary=x\n"
	    "\n"
	    "--x\n"
	    "Content-Type: multipart/alternative; boundary=xx\n"
	    "\n"
	    "--xx\n"
	    "\n"
	    "inner\n"
	    "--x\n"
	    "\n"
	    "second\n"
	    "--x--\n";
	CHECK_STR(bstruct(msg, false),
	    "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 0)"
	    " \"ALTERNATIVE\")"
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 6 0) \"MIXED\")");
	CHECK_STR(section(msg, "1.1"), "inner");
	CHECK_STR(section(msg, "2"), "second");
	check_crlf_same(msg);
}

/* ---- headers ------------------------------------------------------------ */

T(test_folding)
{
	const char *msg =
	    "Subject: a folded\n"
	    "\tsubject  line \n"
	    "From: \"Doe,\n"
	    " John\" <john@example.org>\n"
	    "Content-Type: text/plain;\n"
	    "   charset=\"iso-8859-1\";\n"
	    "   format=flowed\n"
	    "\n"
	    "x\n";
	CHECK_STR(envelope(msg),
	    "(NIL \"a folded\tsubject  line\" ((\"Doe, John\" NIL \"john\" \"example.org\"))"
	    " ((\"Doe, John\" NIL \"john\" \"example.org\"))"
	    " ((\"Doe, John\" NIL \"john\" \"example.org\")) NIL NIL NIL NIL NIL)");
	CHECK_STR(bstruct(msg, false),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"iso-8859-1\" \"FORMAT\" \"flowed\") NIL NIL"
	    " \"7BIT\" 3 1)");
	CHECK_STR(section(msg, "HEADER.FIELDS (subject)"),
	    "Subject: a folded\r\n\tsubject  line \r\n\r\n");
	check_crlf_same(msg);
}

T(test_content_fields)
{
	const char *msg =
	    "Content-Type: Application/PDF; name*0*=us-ascii'en'My%20;\n"
	    " name*1=\"file.pdf\" (comment); x=\"a\\\"b\"\n"
	    "Content-Transfer-Encoding: Base64 (with a comment)\n"
	    "Content-ID:   <id@x>  \n"
	    "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
	    "Content-Disposition: inline\n"
	    "Content-Location: http://example.org/\n"
	    " doc.pdf\n"
	    "Content-Language: (c) en\n"
	    "\n"
	    "JVBERi0=\n";
	CHECK_STR(bstruct(msg, true),
	    "(\"APPLICATION\" \"PDF\" (\"NAME*0*\" \"us-ascii'en'My%20\" \"NAME*1\" \"file.pdf\""
	    " \"X\" \"a\\\"b\") \"<id@x>\" NIL \"BASE64\" 10 \"Q2hlY2sgSW50ZWdyaXR5IQ==\""
	    " (\"INLINE\" NIL) (\"en\") \"http://example.org/ doc.pdf\")");
	CHECK_STR(section(msg, "!1"), "%PDF-");
	/* an invalid Content-Type is text/plain (RFC 2045 5.2) */
	CHECK_STR(bstruct("Content-Type: /plain\n\nx", false),
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 1 0)");
	/* the first Content-Type counts; odd parameters are skipped */
	CHECK_STR(bstruct("Content-Type: text/x; ;bad; =v; charset=a b; q=\"open\n"
	    "Content-Type: image/gif\n\nx", false),
	    "(\"TEXT\" \"X\" (\"CHARSET\" \"a\" \"Q\" \"open\") NIL NIL \"7BIT\" 1 0)");
}

static const char fields_msg[] =
    "Received: from a\n"
    "From: a@example.org\n"
    "X-Long: one\n"
    " two\n"
    "subject: lower case\n"
    "SUBJECT : spaced\n"
    "no colon line\n"
    "To: b@example.org\n"
    "\n"
    "body\n";

T(test_header_fields)
{
	CHECK_STR(section(fields_msg, "HEADER.FIELDS (Subject x-long)"),
	    "X-Long: one\r\n two\r\nsubject: lower case\r\nSUBJECT : spaced\r\n\r\n");
	CHECK_STR(section(fields_msg, "HEADER.FIELDS.NOT (SUBJECT \"x-long\" received)"),
	    "From: a@example.org\r\nTo: b@example.org\r\n\r\n");
	CHECK_STR(section(fields_msg, "HEADER.FIELDS (nothing)"), "\r\n");
	CHECK_STR(section(fields_msg, "header.fields (FROM)"), "From: a@example.org\r\n\r\n");
	CHECK_STR(section(fields_msg, "HEADER.FIELDS (\"To\" FROM)"),
	    "From: a@example.org\r\nTo: b@example.org\r\n\r\n");
	check_crlf_same(fields_msg);
}

/* ---- addresses ---------------------------------------------------------- */

static const char *
addr(const char *to)
{
	char msg[2048];
	snprintf(msg, sizeof msg, "From: f@x\nTo: %s\n\n", to);
	const char *e = envelope(msg);
	/* the To field is the 6th element */
	const char *p = strstr(e, "((NIL NIL \"f\" \"x\")) ((NIL NIL \"f\" \"x\")) "
	    "((NIL NIL \"f\" \"x\")) ");
	if (p == NULL)
		return e;
	p += strlen("((NIL NIL \"f\" \"x\")) ((NIL NIL \"f\" \"x\")) ((NIL NIL \"f\" \"x\")) ");
	const char *end = strstr(p, " NIL NIL NIL NIL)");
	struct buf b;
	buf_init(&b, 0);
	buf_append(&b, p, end != NULL ? (size_t)(end - p) : strlen(p));
	const char *s = keep(&b);
	buf_free(&b);
	return s;
}

T(test_addresses)
{
	CHECK_STR(addr("a@b, \"Q, Uoted\" <q@b>, Name (comment) <n@b>"),
	    "((NIL NIL \"a\" \"b\")(\"Q, Uoted\" NIL \"q\" \"b\")(\"Name\" NIL \"n\" \"b\"))");
	/* groups, empty groups included (RFC 9051 7.5.2) */
	CHECK_STR(addr("undisclosed-recipients:;"),
	    "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL))");
	CHECK_STR(addr("Team: a@b, <c@d>; e@f"),
	    "((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL \"c\" \"d\")(NIL NIL NIL NIL)"
	    "(NIL NIL \"e\" \"f\"))");
	CHECK_STR(addr("Unclosed group: a@b"),
	    "((NIL NIL \"Unclosed group\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL))");
	/* obsolete routes become the adl (RFC 5322 4.4) */
	CHECK_STR(addr("Routed <@r1.example,@r2.example:user@dom.example>"),
	    "((\"Routed\" \"@r1.example,@r2.example\" \"user\" \"dom.example\"))");
	/* a comment names a mailbox that has no display name (Dovecot) */
	CHECK_STR(addr("user@domain (Real Name)"), "((\"Real Name\" NIL \"user\" \"domain\"))");
	/* no "@": host is "", never NIL (which marks a group) */
	CHECK_STR(addr("justlocal"), "((NIL NIL \"justlocal\" \"\"))");
	CHECK_STR(addr("\"quoted local\"@example.org"),
	    "((NIL NIL \"quoted local\" \"example.org\"))");
	CHECK_STR(addr("John Q. Public <jqp@[192.0.2.1]>"),
	    "((\"John Q. Public\" NIL \"jqp\" \"[192.0.2.1]\"))");
	CHECK_STR(addr("a . b @ example . org"), "((NIL NIL \"a.b\" \"example.org\"))");
	/* fuzz find: a domain literal over a fold is unfolded, so LF and CRLF
	 * storage give the same envelope */
	CHECK_STR(addr("a@[1.2\n .3]"), "((NIL NIL \"a\" \"[1.2 .3]\"))");
	check_crlf_same("To: a@[1.2\n .3\n\n");
	/* RFC 2047 words stay encoded; 8-bit goes out as a literal */
	CHECK_STR(addr("=?UTF-8?Q?J=C3=B6rg?= <j@x>"),
	    "((\"=?UTF-8?Q?J=C3=B6rg?=\" NIL \"j\" \"x\"))");
	CHECK_STR(addr("J\xc3\xb6rg <j@x>"), "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x\"))");
	/* empty elements and nothing usable */
	CHECK_STR(addr(",, a@b ,"), "((NIL NIL \"a\" \"b\"))");
	CHECK_STR(addr(""), "NIL");
	CHECK_STR(addr("<>"), "NIL");
	CHECK_STR(addr("(only a comment)"), "NIL");
	/* garbage still yields something */
	CHECK_STR(addr("<<a@b>> @@ ;;: ]"),
	    "((NIL NIL \"<a\" \"b\")(NIL NIL \"\" NIL)(NIL NIL \"]\" \"\")(NIL NIL NIL NIL))");
	CHECK_STR(addr("a@b (unterminated"), "((\"unterminated\" NIL \"a\" \"b\"))");
	CHECK_STR(addr("\"unterminated <a@b>"), "((NIL NIL \"unterminated <a@b>\" \"\"))");
}

T(test_envelope_defaults)
{
	/* Sender and Reply-To fall back to From when absent or empty */
	CHECK_STR(envelope("From: f@x\nSender:\nReply-To: ,\n\n"),
	    "(NIL NIL ((NIL NIL \"f\" \"x\")) ((NIL NIL \"f\" \"x\")) ((NIL NIL \"f\" \"x\"))"
	    " NIL NIL NIL NIL NIL)");
	CHECK_STR(envelope("Sender: s@x\n\n"),
	    "(NIL NIL NIL ((NIL NIL \"s\" \"x\")) NIL NIL NIL NIL NIL NIL)");
	/* the first occurrence of a field counts; empty strings stay "" */
	CHECK_STR(envelope("Subject: one\nSubject: two\nDate:\nIn-Reply-To: <a@b>\n"
	    "Message-ID:\t<m@x> \n\n"),
	    "(\"\" \"one\" NIL NIL NIL NIL NIL NIL \"<a@b>\" \"<m@x>\")");
	/* quoting: backslash and DQUOTE escaped, NUL dropped, CR and LF
	 * unfolded away, 8-bit and long values as literals */
	const char q[] = "Subject: say \"hi\" \\ \0 now\n\n";
	struct mime_msg *m = parse_n(q, sizeof q - 1);
	struct buf b;
	buf_init(&b, 0);
	mime_envelope(m, &b);
	CHECK_STR(keep(&b), "(NIL \"say \\\"hi\\\" \\\\  now\" NIL NIL NIL NIL NIL NIL NIL NIL)");
	buf_free(&b);
	mime_free(&m);
	CHECK_STR(envelope("Subject: caf\xc3\xa9\n\n"),
	    "(NIL {5}\r\ncaf\xc3\xa9 NIL NIL NIL NIL NIL NIL NIL NIL)");
	char longsub[1100];
	memset(longsub, 'a', sizeof longsub);
	memcpy(longsub, "Subject: ", 9);
	memcpy(longsub + 1009, "\n\n", 3);	/* 1000 bytes: still quoted */
	CHECK(strstr(envelope(longsub), "(NIL \"aaa") != NULL);
	memcpy(longsub + 1009, "a\n\n", 4);	/* 1001: a literal */
	CHECK(strstr(envelope(longsub), "(NIL {1001}\r\naaa") != NULL);
}

/* ---- sections ----------------------------------------------------------- */

T(test_section_parse)
{
	struct mime_section s;
	const char *why = NULL;
	CHECK_INT(mime_section_parse("", 0, &s, &why), 0);
	CHECK_INT(s.n_part, 0);
	CHECK_INT(s.text, MIME_SEC_BODY);
	CHECK_INT(mime_section_parse("1.22.4294967295.MIME", 20, &s, &why), 0);
	CHECK_INT(s.n_part, 3);
	CHECK_INT(s.part[2], 4294967295u);
	CHECK_INT(s.text, MIME_SEC_MIME);
	const char *f = "3.header.fields.not (\"A b\" X-\\y] \"q\\\"\\\\\")";
	CHECK_INT(mime_section_parse(f, strlen(f), &s, &why), -1);
	f = "3.header.fields.not (\"A b\" X-y] \"q\\\"\\\\\")";
	CHECK_INT(mime_section_parse(f, strlen(f), &s, &why), 0);
	CHECK_INT(s.text, MIME_SEC_FIELDS_NOT);
	CHECK_INT(s.n_names, 3);
	CHECK(s.name_len[0] == 3 && memcmp(s.names + s.name_off[0], "A b", 3) == 0);
	CHECK(s.name_len[1] == 4 && memcmp(s.names + s.name_off[1], "X-y]", 4) == 0);
	CHECK(s.name_len[2] == 3 && memcmp(s.names + s.name_off[2], "q\"\\", 3) == 0);
	static const char *const bad[][2] = {
		{ "MIME", "MIME needs a part number" },
		{ "0", "Invalid part number in section" },
		{ "1.01", "Invalid part number in section" },
		{ "4294967296", "Invalid part number in section" },
		{ "1.", "Invalid section" },
		{ ".1", "Invalid section" },
		{ "1..2", "Invalid section" },
		{ "1.TEXTX", "Invalid section" },
		{ "HEADERS", "Invalid section" },
		{ "TEXT ", "Invalid section" },
		{ "HEADER.FIELDS", "Invalid header list in section" },
		{ "HEADER.FIELDS ()", "Invalid header list in section" },
		{ "HEADER.FIELDS  (A)", "Invalid header list in section" },
		{ "HEADER.FIELDS (A )", "Invalid header list in section" },
		{ "HEADER.FIELDS (A", "Invalid header list in section" },
		{ "HEADER.FIELDS (A) ", "Invalid section" },
		{ "HEADER.FIELDS (\"A)", "Invalid header list in section" },
		{ "HEADER.FIELDS (\"\\A\")", "Invalid header list in section" },
		{ "HEADER.FIELDS (A*)", "Invalid header list in section" },
		{ "HEADER.FIELDS ({1}\r\nA)", "Invalid header list in section" },
		{ "1.HEADER.FIELDS.NOT", "Invalid header list in section" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		CHECK_INT(mime_section_parse(bad[i][0], strlen(bad[i][0]), &s, &why), -1);
		CHECK_STR(why, bad[i][1]);
	}
	/* limits: names, name bytes, part numbers (valid, but no such part) */
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "HEADER.FIELDS (");
	for (int i = 0; i < MIME_SECTION_NAMES_MAX; i++)
		buf_printf(&b, "%sN%d", i ? " " : "", i);
	buf_putc(&b, ')');
	CHECK_INT(mime_section_parse((const char *)b.data, b.len, &s, &why), 0);
	CHECK_INT(s.n_names, MIME_SECTION_NAMES_MAX);
	b.len--;
	buf_puts(&b, " one-more)");
	CHECK_INT(mime_section_parse((const char *)b.data, b.len, &s, &why), -1);
	CHECK_STR(why, "Too many header names in section");
	buf_reset(&b);
	buf_puts(&b, "HEADER.FIELDS (");
	for (int i = 0; i < MIME_SECTION_NAMEBUF + 1; i++)
		buf_putc(&b, 'n');
	buf_putc(&b, ')');
	CHECK_INT(mime_section_parse((const char *)b.data, b.len, &s, &why), -1);
	CHECK_STR(why, "Too many header names in section");
	buf_reset(&b);
	for (int i = 0; i < MIME_SECTION_PARTS_MAX + 1; i++)
		buf_puts(&b, i ? ".1" : "1");
	buf_puts(&b, ".MIME");
	CHECK_INT(mime_section_parse((const char *)b.data, b.len, &s, &why), 0);
	CHECK(s.is_too_deep);
	buf_free(&b);
	CHECK_STR(section(simple, "1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1"
	    ".1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1"), "<NO PART>");
}

/* ---- BINARY ------------------------------------------------------------- */

static const char binary_msg[] =
    "Content-Type: multipart/mixed; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "aGVs bG8g*\n"
    "d29y\n"
    "bGQh\n"
    "--b\n"
    "Content-Transfer-Encoding: Quoted-Printable\n"
    "\n"
    "soft=\n"
    "break =3d=3D=4 =ZZ end=  \n"
    "trailing   \n"
    "last=\n"
    "--b\n"
    "Content-Transfer-Encoding: x-uuencode\n"
    "\n"
    "begin 644 x\n"
    "--b\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "caf\xc3\xa9\n"
    "bar\n"
    "--b\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "AA0KDQ==\n"
    "--b--\n";

T(test_binary)
{
	CHECK_STR(section(binary_msg, "!1"), "hello world!");
	/* "=  " at a line end is a soft break too (RFC 2045 6.7 rule 3) */
	CHECK_STR(section(binary_msg, "!2"), "softbreak ===4 =ZZ endtrailing\r\nlast");
	CHECK_STR(section(binary_msg, "!3"), "<UNKNOWN-CTE>");
	CHECK_STR(section(binary_msg, "3"), "begin 644 x");
	CHECK_STR(section(binary_msg, "!4"), "caf\xc3\xa9\r\nbar");
	CHECK_STR(section(binary_msg, "!6"), "<NO PART>");
	/* decoded data is not converted: "\0\r\n\r" stays four bytes */
	struct mime_msg *m = parse_n(binary_msg, strlen(binary_msg));
	struct mime_section s;
	const char *why;
	struct buf b;
	buf_init(&b, 0);
	CHECK_INT(mime_section_parse("5", 1, &s, &why), 0);
	CHECK_INT(mime_binary_get(m, &s, &b), 0);
	CHECK(b.len == 4 && memcmp(b.data, "\0\r\n\r", 4) == 0);
	/* sections other than part numbers are not decoded */
	buf_reset(&b);
	CHECK_INT(mime_section_parse("1.MIME", 6, &s, &why), 0);
	CHECK_INT(mime_binary_get(m, &s, &b), 0);
	CHECK_INT(b.len, strlen("Content-Transfer-Encoding: base64\r\n\r\n"));
	buf_free(&b);
	mime_free(&m);
	CHECK_STR(section(binary_msg, "!"), section(binary_msg, ""));
	CHECK_STR(section(binary_msg, "!TEXT"), section(binary_msg, "TEXT"));
	/* base64 goes on after "=" padding; a lone last character is dropped */
	CHECK_STR(section("Content-Transfer-Encoding: base64\n\naGk=\naGk=aGk=\nQ", "!1"),
	    "hihihi");
	/* a whole non-multipart message: part 1 is its body, decoded */
	CHECK_STR(section("Content-Transfer-Encoding: base64\n\nWA==\n", "!1"), "X");
	check_crlf_same(binary_msg);
}

/* ---- Dovecot's imaptest expectations ------------------------------------ */

T(test_imaptest_fetch_body_mime)
{
	char *msg = read_mbox("fetch-body-mime.mbox");
	CHECK_INT(section_len(msg, "!"), 602);
	CHECK_INT(section_len(msg, "TEXT"), 466);
	CHECK_STR(section(msg, "1"), "hello\r\n");
	CHECK_STR(section(msg, "1.MIME"), "Content-Type: text/x-myown; charset=us-ascii\r\n\r\n");
	CHECK_INT(section_len(msg, "2"), 298);
	CHECK_STR(section(msg, "2.MIME"), "Content-Type: message/rfc822\r\n\r\n");
	CHECK_INT(section_len(msg, "2.HEADER"), 134);
	CHECK_STR(section(msg, "2.HEADER.FIELDS (from subject X-foo)"),
	    "From: sub@domain.org\r\nSubject: submsg\r\n\r\n");
	CHECK_STR(section(msg, "2.HEADER.FIELDS.NOT (from subject X-foo)"),
	    "Date: Sun, 12 Aug 2012 12:34:56 +0300\r\n"
	    "Content-Type: multipart/alternative; boundary=\"sub1\"\r\n\r\n");
	CHECK_STR(section(msg, "2.TEXT"), "Sub MIME prologue\r\n--sub1\r\n"
	    "Content-Type: text/html\r\n\r\n<p>Hello world</p>\r\n\r\n--sub1\r\n"
	    "Content-Type: text/plain\r\n\r\nHello another world\r\n\r\n--sub1--\r\n"
	    "Sub MIME epilogue\r\n");
	CHECK_STR(section(msg, "2.1.MIME"), "Content-Type: text/html\r\n\r\n");
	CHECK_STR(section(msg, "2.1"), "<p>Hello world</p>\r\n");
	CHECK_STR(section(msg, "2.2.MIME"), "Content-Type: text/plain\r\n\r\n");
	CHECK_STR(section(msg, "2.2"), "Hello another world\r\n");
	/* imaptest fetch-bodystructure: the boundary is folded inside its
	 * quotes ("foo\n bar" is "foo bar") */
	CHECK_STR(bstruct(msg, false),
	    "((\"TEXT\" \"X-MYOWN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 7 1)"
	    "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 298"
	    " (\"Sun, 12 Aug 2012 12:34:56 +0300\" \"submsg\""
	    " ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\"))"
	    " ((NIL NIL \"sub\" \"domain.org\")) NIL NIL NIL NIL NIL)"
	    " ((\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 20 1)"
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 21 1)"
	    " \"ALTERNATIVE\") 18) \"MIXED\")");
	check_crlf_same(msg);
	free(msg);
}

T(test_imaptest_message_rfc822)
{
	char *msg = read_mbox("fetch-body-message-rfc822-mime.mbox");
	CHECK_STR(section(msg, "1.HEADER"), "From: sub@domain.org\r\n"
	    "Date: Sun, 12 Aug 2012 12:34:56 +0300\r\nSubject: submsg\r\n"
	    "Content-Type: multipart/digest; boundary=\"foo\"\r\n\r\n");
	CHECK_STR(section(msg, "1"), section(msg, "TEXT"));
	CHECK_STR(section(msg, "1.1"), "From: m1@example.com\r\nSubject: m1\r\n\r\nm1 body\r\n");
	CHECK_STR(section(msg, "1.1.MIME"), "\r\n");
	CHECK_STR(section(msg, "1.1.HEADER"), "From: m1@example.com\r\nSubject: m1\r\n\r\n");
	CHECK_STR(section(msg, "1.1.TEXT"), "m1 body\r\n");
	CHECK_STR(section(msg, "1.2.MIME"), "X-Mime: m2 header\r\n\r\n");
	CHECK_STR(section(msg, "1.2.HEADER"), "From: m2@example.com\r\nSubject: m2\r\n\r\n");
	CHECK_STR(section(msg, "1.2.TEXT"), "m2 body\r\n");
	check_crlf_same(msg);
	free(msg);

	msg = read_mbox("fetch-body-message-rfc822-x2.mbox");
	CHECK_STR(section(msg, "1.1"), "From: sub@domain.org\r\n"
	    "Date: Sun, 12 Aug 2012 12:34:56 +0300\r\nSubject: submsg\r\n\r\nHello world\r\n");
	CHECK_STR(section(msg, "1.HEADER"), "From: user2@domain.org\r\n"
	    "Date: Fri, 23 Mar 2007 11:22:33 +0200\r\nMime-Version: 1.0\r\n"
	    "Content-Type: message/rfc822\r\n\r\n");
	CHECK_STR(section(msg, "1.TEXT"), section(msg, "1.1"));
	CHECK_STR(section(msg, "1.1.1"), "Hello world\r\n");
	CHECK_STR(section(msg, "1.1.HEADER"), "From: sub@domain.org\r\n"
	    "Date: Sun, 12 Aug 2012 12:34:56 +0300\r\nSubject: submsg\r\n\r\n");
	CHECK_STR(section(msg, "1.1.TEXT"), "Hello world\r\n");
	CHECK_STR(section(msg, "1.1.1.1"), "<NO PART>");
	check_crlf_same(msg);
	free(msg);
}

T(test_imaptest_binary)
{
	char *msg = read_mbox("fetch-binary-mime-base64.mbox");
	CHECK_STR(section(msg, "!1"), "hello world");
	CHECK_STR(section(msg, "!2"), "hello world");
	CHECK_STR(section(msg, "!3"), "hello to you too");
	CHECK_STR(section(msg, "!4"), "hello to everyone!");
	CHECK_STR(section(msg, "!5"), "abcdefg\rhijkl\r\nmno\npqrstuvqxyz");
	check_crlf_same(msg);
	free(msg);
	msg = read_mbox("fetch-binary-mime-qp.mbox");
	CHECK_STR(section(msg, "!1"), "hello\r\nbar\r\nfoo\tbar\r\nfoo\t \tb\r\nfoo bar\r\n"
	    "foo b\r\nfoo\r\nbar\r\nfoo_bar\r\n");
	check_crlf_same(msg);
	free(msg);
}

T(test_imaptest_envelope)
{
	char *msg = read_mbox("fetch-envelope.mbox");
	CHECK_STR(envelope(msg),
	    "(\"Thu, 15 Feb 2007 01:02:03 +0200\" \"subject header\""
	    " ((\"From Real\" NIL \"fromuser\" \"fromdomain.org\"))"
	    " ((\"Sender Real\" NIL \"senderuser\" \"senderdomain.org\"))"
	    " ((\"ReplyTo Real\" NIL \"replytouser\" \"replytodomain.org\"))"
	    " ((\"To Real\" NIL \"touser\" \"todomain.org\"))"
	    " ((\"Cc Real\" NIL \"ccuser\" \"ccdomain.org\"))"
	    " ((\"Bcc Real\" NIL \"bccuser\" \"bccdomain.org\")) \"<reply@to.id>\" \"<msg@id>\")");
	free(msg);
}

/* ---- limits ------------------------------------------------------------- */

/* Nesting past MIME_DEPTH_MAX: the part at the limit is an opaque leaf. */
T(test_depth_limit)
{
	struct buf b, o;
	buf_init(&b, 0);
	buf_init(&o, 0);
	for (int i = 0; i < MIME_DEPTH_MAX + 5; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	buf_puts(&b, "\ninnermost\n");
	struct mime_msg *m = parse_n((const char *)b.data, b.len);
	mime_bodystructure(m, false, &o);
	buf_cstr(&o);
	const char *s = (const char *)o.data;
	/* 32 multiparts, then the part at depth 32 is opaque */
	size_t opens = 0;
	while (s[opens] == '(')
		opens++;
	CHECK_INT(opens, MIME_DEPTH_MAX + 1);
	CHECK(strncmp(s + opens, "\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\"", 45)
	    == 0);
	struct mime_section sec;
	const char *why;
	buf_reset(&o);
	buf_reset(&b);
	for (int i = 0; i < MIME_DEPTH_MAX; i++)
		buf_puts(&b, i ? ".1" : "1");
	CHECK_INT(mime_section_parse((const char *)b.data, b.len, &sec, &why), 0);
	CHECK_INT(mime_section_get(m, &sec, &o), 0);
	CHECK(o.len > 0 && memmem(o.data, o.len, "innermost", 9) != NULL);
	buf_puts(&b, ".1");
	CHECK_INT(mime_section_parse((const char *)b.data, b.len, &sec, &why), 0);
	CHECK_INT(mime_section_get(m, &sec, &o), MIME_NO_PART);
	mime_free(&m);

	/* the same with message/rfc822 levels */
	buf_reset(&b);
	buf_reset(&o);
	for (int i = 0; i < MIME_DEPTH_MAX + 5; i++)
		buf_puts(&b, "Content-Type: message/rfc822\n\n");
	buf_puts(&b, "Subject: deep\n\nx\n");
	m = parse_n((const char *)b.data, b.len);
	mime_bodystructure(m, true, &o);
	buf_cstr(&o);
	CHECK(strstr((const char *)o.data, "\"APPLICATION\" \"OCTET-STREAM\"") != NULL);
	mime_free(&m);
	buf_free(&b);
	buf_free(&o);
}

/* More than MIME_PARTS_MAX parts: the rest are not numbered, their bytes
 * stay in the parent's body. */
T(test_parts_limit)
{
	struct buf b, o;
	buf_init(&b, 0);
	buf_init(&o, 0);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (int i = 0; i < MIME_PARTS_MAX + 10; i++)
		buf_printf(&b, "--p\n\n%d\n", i + 1);
	buf_puts(&b, "--p--\n");
	struct mime_msg *m = parse_n((const char *)b.data, b.len);
	struct mime_section sec;
	const char *why;
	char spec[16];
	snprintf(spec, sizeof spec, "%d", MIME_PARTS_MAX - 1);
	CHECK_INT(mime_section_parse(spec, strlen(spec), &sec, &why), 0);
	CHECK_INT(mime_section_get(m, &sec, &o), 0);
	buf_cstr(&o);
	CHECK_STR((const char *)o.data, spec);
	snprintf(spec, sizeof spec, "%d", MIME_PARTS_MAX);
	CHECK_INT(mime_section_parse(spec, strlen(spec), &sec, &why), 0);
	CHECK_INT(mime_section_get(m, &sec, &o), MIME_NO_PART);
	buf_reset(&o);
	mime_bodystructure(m, false, &o);
	CHECK(o.len > 0 && !o.err);
	mime_free(&m);
	buf_free(&b);
	buf_free(&o);
}

/* Content-Type after MIME_FIELDS_MAX fields is not read. */
T(test_fields_limit)
{
	struct buf b, o;
	buf_init(&b, 0);
	buf_init(&o, 0);
	for (int i = 0; i < MIME_FIELDS_MAX; i++)
		buf_puts(&b, "X: y\n");
	buf_puts(&b, "Content-Type: image/gif\nSubject: late\n\nx");
	struct mime_msg *m = parse_n((const char *)b.data, b.len);
	mime_bodystructure(m, false, &o);
	buf_cstr(&o);
	CHECK_STR((const char *)o.data,
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 1 0)");
	/* HEADER.FIELDS still sees every field */
	struct mime_section sec;
	const char *why;
	CHECK_INT(mime_section_parse("HEADER.FIELDS (subject)", 23, &sec, &why), 0);
	buf_reset(&o);
	CHECK_INT(mime_section_get(m, &sec, &o), 0);
	buf_cstr(&o);
	CHECK_STR((const char *)o.data, "Subject: late\r\n\r\n");
	mime_free(&m);
	buf_free(&b);
	buf_free(&o);
}

/* Every seed of the fuzz corpus and test data: no crash, and the
 * same outputs in CRLF form. */
T(test_data_files)
{
	static const char *const files[] = {
		"fetch-body-mime.mbox", "fetch-binary-mime-base64.mbox",
		"fetch-binary-mime-qp.mbox", "fetch-body-message-rfc822-mime.mbox",
		"fetch-body-message-rfc822-x2.mbox", "fetch-envelope.mbox",
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *msg = read_mbox(files[i]);
		CHECK(msg[0] != '\0');
		check_crlf_same(msg);
		free(msg);
	}
}

/* mime_address_text: what SEARCH FROM/TO compare besides the raw text. */
T(test_address_text)
{
	static const struct { const char *in, *want; } c[] = {
		{ "user@domain.org", "user@domain.org" },
		{ "RealFrom <user-from@domain.org>", "RealFrom <user-from@domain.org>" },
		{ "<user-from (comment)@ (comment) domain.org>", "comment <user-from@domain.org>" },
		{ "user@domain.org (Real Name)", "Real Name <user@domain.org>" },
		{ "a@b, \"Q, Uoted\" <c@d>", "a@b, Q, Uoted <c@d>" },
		{ "groupname: g1@d, g2@d;,\r\n  group2: g3@d;", "groupname: g1@d, g2@d;, group2: g3@d;" },
		{ "empty:;", "empty: ;" },
		{ "undisclosed:", "undisclosed: ;" },
		{ "", "" },
		{ ",,,", "" },
		{ "nohost", "nohost" },
		{ "<@route,@r2:u@h>", "u@h" },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct buf out, tmp;
		buf_init(&out, 0);
		buf_init(&tmp, 0);
		mime_address_text((const uint8_t *)c[i].in, strlen(c[i].in), &out, &tmp);
		buf_cstr(&out);
		if (strcmp((const char *)out.data, c[i].want) != 0)
			fprintf(stderr, "address case %zu: %s\n", i, c[i].in);
		CHECK_STR((const char *)out.data, c[i].want);
		buf_free(&out);
		buf_free(&tmp);
	}
}

/* mime_binary_to_base64: only binary parts change, every other byte
 * stays, and BINARY of the result is the original part. */
T(test_binary_to_base64)
{
	static const uint8_t in[] = "Subject: x\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
	    "--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	    "--B\r\nContent-Type: application/x\r\ncontent-transfer-encoding:  Binary\r\n"
	    "X-After: kept\r\n\r\n\x00\xff\n\r\nz\r\n--B--\r\n";
	static const char want[] = "Subject: x\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
	    "--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	    "--B\r\nContent-Type: application/x\r\nX-After: kept\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nAP8KDQp6\r\n--B--\r\n";
	struct mime_msg *m = NULL;
	CHECK_INT(mime_parse(in, sizeof in - 1, &m), 0);
	struct buf out;
	buf_init(&out, 0);
	CHECK(mime_binary_to_base64(m, &out));
	mime_free(&m);
	CHECK_INT((int)out.len, (int)strlen(want));
	CHECK(out.len == strlen(want) && memcmp(out.data, want, out.len) == 0);

	struct mime_section sec;
	const char *why;
	CHECK_INT(mime_section_parse("2", 1, &sec, &why), 0);
	CHECK_INT(mime_parse(out.data, out.len, &m), 0);
	struct buf bin;
	buf_init(&bin, 0);
	CHECK_INT(mime_binary_get(m, &sec, &bin), 0);
	CHECK(bin.len == 6 && memcmp(bin.data, "\x00\xff\n\r\nz", 6) == 0);
	mime_free(&m);
	buf_free(&bin);

	/* nothing binary: nothing to do */
	static const uint8_t plain[] = "Subject: y\r\n\r\n8bit \xe4 text\r\n";
	buf_reset(&out);
	CHECK_INT(mime_parse(plain, sizeof plain - 1, &m), 0);
	CHECK(!mime_binary_to_base64(m, &out));
	mime_free(&m);
	buf_free(&out);
}

int
main(void)
{
	RUN(test_simple_text);
	RUN(test_crlf_size);
	RUN(test_no_final_newline);
	RUN(test_header_only);
	RUN(test_rfc9051_fetch_example);
	RUN(test_rfc9051_bodystructure_example);
	RUN(test_multipart_nested_3);
	RUN(test_multipart_alternative);
	RUN(test_message_rfc822);
	RUN(test_digest_default);
	RUN(test_missing_boundary);
	RUN(test_boundary_inside_line);
	RUN(test_preamble_epilogue);
	RUN(test_empty_parts);
	RUN(test_outer_boundary_closes_inner);
	RUN(test_folding);
	RUN(test_content_fields);
	RUN(test_header_fields);
	RUN(test_addresses);
	RUN(test_envelope_defaults);
	RUN(test_section_parse);
	RUN(test_binary);
	RUN(test_imaptest_fetch_body_mime);
	RUN(test_imaptest_message_rfc822);
	RUN(test_imaptest_binary);
	RUN(test_imaptest_envelope);
	RUN(test_depth_limit);
	RUN(test_parts_limit);
	RUN(test_fields_limit);
	RUN(test_data_files);
	RUN(test_address_text);
	RUN(test_binary_to_base64);
	for (size_t i = 0; i < 8; i++)
		free(ring[i]);
	return t_done("imap_mime");
}

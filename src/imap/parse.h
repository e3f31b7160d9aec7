/*
 * imap/parse.h - IMAP command framing and parsing (RFC 9051 sections 4
 * and 9; RFC 7888 LITERAL+ and LITERAL-; RFC 3516 literal8).
 *
 * Two layers, both pure (no I/O, no allocation in the scanner):
 *
 *  1. imap_scan decides where one complete command ends in the bytes
 *     buffered from the client, literals included, and when the server
 *     must send a continuation request ("+ ...") for a synchronising
 *     literal.  It looks at every byte once, across calls.
 *  2. imap_parse turns one command delimited by imap_scan into a tag, a
 *     command name and a tree of arguments pointing into the command.
 *
 * Framing rules (the same in both layers):
 *  - Only CRLF ends a line.  A bare CR or bare LF is not a line end: it
 *    stays in the line, and the command is answered BAD when its real end
 *    has arrived ("Bare LF in command").  RFC 9051 2.2 says CRLF; Dovecot
 *    accepts a bare LF, but a server that splits lines differently from a
 *    proxy in front of it can be fed commands the proxy never saw (the
 *    SMTP smuggling class); smtp/data.c keeps the same rule for DATA.
 *  - A line ending in "{n}", "{n+}", "~{n}" or "~{n+}" (n decimal, at most
 *    2^32-1) announces a literal: n raw octets follow the CRLF, then the
 *    command continues with more line text.  The scanner does not look at
 *    what comes before the announcement: the grammar allows "{" outside a
 *    literal announcement only inside a quoted string, which cannot span a
 *    line, so no valid command ends a line with "{n}" otherwise, and an
 *    invalid one is framed the way its client will send it.
 *  - "{n}" literals may not hold NUL (CHAR8, RFC 9051 9); "~{n}" may.
 *
 * Input: untrusted bytes; Runs in: imap worker (unprivileged).
 * Not here: command semantics (which arguments a command takes, sequence
 * set and section syntax: the FETCH/SEARCH/STORE handlers), AUTHENTICATE
 * continuation lines and IDLE's "DONE" (plain lines, not commands).
 */
#ifndef TALON_IMAP_PARSE_H
#define TALON_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_TAG_MAX	64	/* bytes; a longer tag is BAD "Tag too long" */
#define IMAP_NAME_MAX	32	/* command name, "UID EXPUNGE" included */

/*
 * Limits for one connection state; the session switches to the
 * authenticated set after login (STYLE.md 5: lower caps before
 * authentication).  Every command held in memory is at most
 * line_max + literals_max bytes.
 */
struct imap_limits {
	size_t line_max;	/* bytes of command text: every byte except literal
				 * octets, CRLFs included; 8 KiB pre-auth, >= 2 MiB
				 * after (long UID sets).  Over it: BYE. */
	size_t literal_max;	/* octets of one literal: 8 KiB pre-auth, the
				 * APPENDLIMIT after */
	size_t lminus_max;	/* octets of one {n+} literal: 4096 when only
				 * LITERAL- is offered (RFC 7888 5), SIZE_MAX with
				 * LITERAL+, 0 with neither */
	size_t literals_max;	/* octets of all literals of one command together
				 * (MULTIAPPEND, CATENATE): bounds the buffer */
	unsigned depth_max;	/* nesting of parenthesised lists: 100 */
};

/* The pre-authentication set: 8 KiB lines and literals, LITERAL- (4096),
 * 16 KiB of literals per command (LOGIN with two), depth 100. */
void imap_limits_preauth(struct imap_limits *lim);

/* ---- 1. the scanner -------------------------------------------------- */

enum imap_scan_r {
	IMAP_SCAN_MORE,		/* need more input; nothing to send */
	IMAP_SCAN_CONT,		/* send a continuation request ("+ OK") now, then
				 * call again (same or grown buffer) */
	IMAP_SCAN_DONE,		/* st->end = bytes of the whole command, the last
				 * CRLF included: parse buf[0..end) */
	IMAP_SCAN_BAD,		/* answer "<st->tag> BAD <st->why>", drop st->end
				 * bytes, go on with the next command */
	IMAP_SCAN_BYE,		/* answer "* BYE <st->why>" and close */
};

/*
 * State of one command being framed.  Only end, why and tag are for the
 * caller; the rest is private.  The caller keeps the command's bytes at
 * the start of its buffer and calls imap_scan with that buffer, grown,
 * after MORE or CONT.  After DONE or BAD it removes st->end bytes from the
 * front and calls imap_scan_init before the next command.  After BYE
 * nothing more is read.  Repeated calls after DONE/BAD/BYE return the same
 * result.
 */
struct imap_scan {
	size_t pos;		/* bytes examined */
	size_t text;		/* command text bytes so far (line_max) */
	size_t lit_left;	/* octets of the current literal still to come */
	size_t lit_total;	/* literal octets announced so far (literals_max) */
	uint64_t ann_num;	/* the number in a "{n}" being read; saturates */
	unsigned n_lits;	/* literals in this command */
	uint8_t phase;		/* tag, line text, literal octets */
	uint8_t ann;		/* where the line's tail is in "~{n+}" */
	bool ann_binary, ann_plus;
	bool lit_binary;	/* the current literal is ~{n}: NUL allowed */
	bool cr;		/* the last text byte was a CR */
	bool is_bad;		/* an error seen: BAD once the command ends */
	size_t tag_len;
	enum imap_scan_r result;	/* MORE until the command is decided */

	size_t end;		/* DONE, BAD: bytes of the command */
	const char *why;	/* BAD, BYE: static reply text */
	char tag[IMAP_TAG_MAX + 1];	/* BAD: the tag, or "*" when it was empty or
					 * invalid */
};

void imap_scan_init(struct imap_scan *st);

/*
 * Frame the command at the start of buf[0..len), resuming where the last
 * call stopped (len must not shrink).  BAD covers an invalid or missing
 * tag, NUL (outside ~{n} octets), bare CR or LF, a literal size over
 * 2^32-1, and a synchronising literal over literal_max or literals_max:
 * never a continuation for those; end is then the end of that line, as the
 * client waits for "+" and sends no octets.  An error before a {n+}
 * literal does not end the command early: its octets are on their way and
 * are skipped as part of the bad command, whose end is where the client's
 * command really ends.  BYE: text over line_max, or a {n+} literal over
 * lminus_max, literal_max, literals_max or 2^32-1, which the server cannot
 * skip without buffering (RFC 7888 4 lets it close; st->tag is set, so the
 * caller may send "<tag> BAD" first).  Reasons about literal sizes start
 * with the "[TOOBIG]" response code.
 */
enum imap_scan_r imap_scan(struct imap_scan *st, const uint8_t *buf, size_t len,
    const struct imap_limits *lim);

/* ---- 2. the parser --------------------------------------------------- */

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* also "*", sequence sets, \Flags, BODY[...]<..> */
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,	/* {n}, {n+}, ~{n} (binary), ~{n+} */
	IMAP_ARG_NIL,		/* the atom NIL, any case */
	IMAP_ARG_LIST,
};

/*
 * One argument.  p/len: for an atom, NIL or literal, the bytes in the
 * command buffer; for a quoted string, its unescaped content: in the
 * command buffer when it had no escapes, else a copy in the command's
 * arena; for a list, the raw text from "(" to ")" in the buffer.  Strings
 * are not NUL-terminated, and a ~{n} literal may hold NUL.
 */
struct imap_arg {
	enum imap_arg_type type;
	bool binary;		/* LITERAL from ~{n} */
	const uint8_t *p;
	size_t len;
	struct imap_arg *list;	/* IMAP_ARG_LIST: the n elements */
	size_t n;
};

/*
 * A parsed command.  name is uppercased; "UID" followed by an atom made of
 * command-name characters becomes one name, "UID FETCH", and that atom is
 * not among args.  args (and quoted copies) live in one arena, mem, owned
 * here and freed by imap_cmd_free; the other pointers are into the command
 * buffer, which the caller keeps alive as long as it uses args.
 */
struct imap_cmd {
	char tag[IMAP_TAG_MAX + 1];
	char name[IMAP_NAME_MAX + 1];
	struct imap_arg *args;
	size_t n_args;
	void *mem;		/* the arena */
	size_t mem_size;	/* its bytes: at most 21 per command byte */
};

/*
 * Parse one whole command, cmd[0..len), the last CRLF included (what
 * IMAP_SCAN_DONE delimited; anything else is checked too and may be BAD).
 * Returns 0, or -1 with *why a static reply text for "TAG BAD why"; on -1
 * out->tag is the tag or "*", and out holds no arena.  Enforces the same
 * limits as the scanner (line_max here gives BAD) and depth_max, with no
 * recursion.  Spacing is strict (RFC 9051 2.2.2: missing or extraneous
 * spaces are BAD): one SP between arguments, none after "(", before ")"
 * or at the end of the line.  The arena is bounded by the command
 * length: at most one imap_arg per two bytes of text, plus the quoted
 * copies, 21 bytes per command byte on a 64-bit machine.
 */
int imap_parse(const uint8_t *cmd, size_t len, const struct imap_limits *lim,
    struct imap_cmd *out, const char **why);
void imap_cmd_free(struct imap_cmd *c);

/* A number (RFC 9051 9: 1*DIGIT, at most 2^32-1) from an atom argument;
 * false for anything else. */
bool imap_arg_number(const struct imap_arg *a, uint32_t *out);
/* True when a is an atom equal to word, ASCII case-insensitively. */
bool imap_arg_atom_is(const struct imap_arg *a, const char *word);

#endif

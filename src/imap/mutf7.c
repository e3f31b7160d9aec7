/*
 * imap/mutf7.c - IMAP modified UTF-7 (RFC 3501 5.1.3, RFC 9051 5.1.3),
 * mailbox-name checks and the Maildir++ directory name of a mailbox.
 *
 * Input:   mailbox names from IMAP clients (UTF-8, or modified UTF-7 from
 *          IMAP4rev1 clients) and directory names read from a Maildir,
 *          pointer plus length or NUL-terminated as the header says.
 *          Nothing about them is trusted.
 * Output:  the converted name in the caller's buffer, NUL-terminated, or
 *          -1 / a static reason; on -1 the buffer holds nothing useful.
 * Trusts:  nothing.  Runs in: imap worker, deliver (both unprivileged).
 * Not here: reading or creating directories, LIST pattern matching,
 *          Unicode normalisation (RFC 5198 asks for NFC; we do not check).
 *
 * Modified UTF-7 in short: printable US-ASCII (0x20-0x7e) stands for
 * itself, except '&', written "&-".  Anything else is UTF-16BE, written
 * in base64 with ',' for '/' and without '=' padding, between '&' and
 * '-'.  Exactly one spelling of each string is accepted on decode: the
 * one the encoder here writes.  Otherwise "&AGE-" and "a" would be two
 * names for one mailbox and a client could create both, or one could
 * slip a name past a check done on the other spelling.
 *
 * Bounds: one pass over the input in each direction, no recursion, no
 * allocation; every output byte goes through out_put(), which refuses to
 * pass the caller's size (minus the NUL) or INT_MAX.
 */
#include "imap/mutf7.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/util.h"
#include "mail/domain.h"

/* ---- output with a sticky error (STYLE.md 5) -------------------------- */

struct out {
	char *p;
	size_t len, cap;	/* cap excludes the NUL */
	size_t size;		/* the caller's outlen */
	const char *err;
};

static void
out_init(struct out *o, char *p, size_t outlen)
{
	o->p = p;
	o->len = 0;
	o->size = outlen;
	o->cap = outlen == 0 ? 0 : outlen - 1;
	if (o->cap > INT_MAX)
		o->cap = INT_MAX;	/* the length is returned as an int */
	o->err = outlen == 0 ? "output buffer too small" : NULL;
}

static void
out_fail(struct out *o, const char *why)
{
	if (o->err == NULL)
		o->err = why;
}

static void
out_put(struct out *o, char c)
{
	if (o->err == NULL && o->len >= o->cap)
		out_fail(o, "output buffer too small");
	if (o->err != NULL)
		return;
	o->p[o->len++] = c;
}

/* Terminate and return the length, or -1 and the reason in *why. */
static int
out_end(struct out *o, const char **why)
{
	if (why != NULL)
		*why = o->err;
	if (o->err != NULL) {
		if (o->size > 0)
			o->p[0] = '\0';	/* never leave half a name behind */
		return -1;
	}
	o->p[o->len] = '\0';
	return (int)o->len;
}

/* ---- characters ------------------------------------------------------- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* RFC 3501 5.1.3: 0x20-0x25 and 0x27-0x7e represent themselves ('&' is
 * 0x26 and has its own rule). */
static bool
is_literal(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Read one UTF-8 character at p (avail > 0 bytes) into *cp; returns its
 * length, 0 when malformed.  The well-formedness rules are the ones
 * addresses use (domain_utf8_len), so Talon has one UTF-8 check. */
static size_t
utf8_get(const unsigned char *p, size_t avail, uint32_t *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	size_t n = domain_utf8_len(p, avail);
	if (n == 0)
		return 0;
	uint32_t v = p[0] & (0x7f >> n);	/* lead byte's payload bits */
	for (size_t i = 1; i < n; i++)
		v = v << 6 | (p[i] & 0x3f);
	*cp = v;
	return n;
}

static void
utf8_put(struct out *o, uint32_t c)
{
	if (c < 0x80) {
		out_put(o, (char)c);
	} else if (c < 0x800) {
		out_put(o, (char)(0xc0 | c >> 6));
		out_put(o, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		out_put(o, (char)(0xe0 | c >> 12));
		out_put(o, (char)(0x80 | (c >> 6 & 0x3f)));
		out_put(o, (char)(0x80 | (c & 0x3f)));
	} else {
		out_put(o, (char)(0xf0 | c >> 18));
		out_put(o, (char)(0x80 | (c >> 12 & 0x3f)));
		out_put(o, (char)(0x80 | (c >> 6 & 0x3f)));
		out_put(o, (char)(0x80 | (c & 0x3f)));
	}
}

/* ---- encoding --------------------------------------------------------- */

/* A base64 run being written: bits not yet output, at most 5 between
 * characters (16 bits go in, 6 come out at a time). */
struct run {
	bool is_open;
	uint32_t acc;
	unsigned nbits;
};

static void
run_unit(struct out *o, struct run *r, uint32_t unit)
{
	if (!r->is_open) {
		out_put(o, '&');
		r->is_open = true;
		r->acc = 0;
		r->nbits = 0;
	}
	r->acc = (r->acc << 16 | unit) & 0x3fffff;	/* keep nbits + 16 <= 22 */
	r->nbits += 16;
	while (r->nbits >= 6) {
		r->nbits -= 6;
		out_put(o, b64[r->acc >> r->nbits & 0x3f]);
	}
}

/* Flush the last bits, zero-padded to a character, and the '-' that
 * RFC 3501 requires at the end of every run. */
static void
run_close(struct out *o, struct run *r)
{
	if (!r->is_open)
		return;
	if (r->nbits > 0)
		out_put(o, b64[r->acc << (6 - r->nbits) & 0x3f]);
	out_put(o, '-');
	r->is_open = false;
}

static void
encode_char(struct out *o, struct run *r, uint32_t c)
{
	if (is_literal(c)) {
		run_close(o, r);
		out_put(o, (char)c);
		if (c == '&')
			out_put(o, '-');
	} else if (c >= 0x10000) {
		/* UTF-16 surrogate pair (RFC 2781 2.1) */
		c -= 0x10000;
		run_unit(o, r, 0xd800 | c >> 10);
		run_unit(o, r, 0xdc00 | (c & 0x3ff));
	} else {
		run_unit(o, r, c);
	}
}

int
mutf7_encode(const char *utf8, size_t len, char *out, size_t outlen, const char **why)
{
	const unsigned char *p = (const unsigned char *)utf8, *end = p + len;
	struct out o;
	struct run r = { 0 };

	out_init(&o, out, outlen);
	while (p < end && o.err == NULL) {
		uint32_t c;
		size_t n = utf8_get(p, (size_t)(end - p), &c);
		if (n == 0) {
			out_fail(&o, "invalid UTF-8");
			break;
		}
		encode_char(&o, &r, c);
		p += n;
	}
	run_close(&o, &r);
	return out_end(&o, why);
}

/* ---- decoding --------------------------------------------------------- */

/* Decode one base64 run; *pp points after its '&' and is left after its
 * '-'.  Each check below rejects a spelling the encoder never writes. */
static void
decode_run(struct out *o, const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	uint32_t acc = 0, high = 0;	/* high: a lead surrogate waiting */
	unsigned nbits = 0;

	for (; p < end && *p != '-' && o->err == NULL; p++) {
		int v = b64_value(*p, ',');
		if (v < 0) {
			out_fail(o, *p >= 0x80 ? "8-bit byte in modified UTF-7" :
			    "character outside the modified base64 alphabet");
			break;
		}
		acc = (acc << 6 | (uint32_t)v) & 0x3fffff;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = acc >> nbits & 0xffff;
		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				out_fail(o, "unpaired surrogate");
			else
				utf8_put(o, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			out_fail(o, "unpaired surrogate");
		} else if (is_literal(u)) {
			/* RFC 3501 5.1.3: MUST NOT encode what can be literal */
			out_fail(o, "printable ASCII in base64");
		} else {
			utf8_put(o, u);
		}
	}
	if (o->err == NULL && p >= end)
		out_fail(o, "unterminated base64 run");
	if (o->err == NULL && high != 0)
		out_fail(o, "unpaired surrogate");
	/* The encoder writes ceil(16 * units / 6) characters: what is left
	 * is 0, 2 or 4 zero bits.  6 bits means a character too many, 8 or
	 * more an odd byte. */
	if (o->err == NULL && nbits >= 8)
		out_fail(o, "base64 run has an odd number of bytes");
	if (o->err == NULL && nbits == 6)
		out_fail(o, "base64 run has a character too many");
	if (o->err == NULL && (acc & ((1u << nbits) - 1)) != 0)
		out_fail(o, "non-zero padding bits in base64");
	*pp = p + 1;
}

int
mutf7_decode(const char *m7, size_t len, char *out, size_t outlen, const char **why)
{
	const unsigned char *p = (const unsigned char *)m7, *end = p + len;
	struct out o;
	bool after_run = false;

	out_init(&o, out, outlen);
	while (p < end && o.err == NULL) {
		if (*p != '&') {
			if (*p >= 0x80)
				out_fail(&o, "8-bit byte in modified UTF-7");
			else if (!is_literal(*p))
				out_fail(&o, "control character in modified UTF-7");
			out_put(&o, (char)*p++);
			after_run = false;
		} else if (p + 1 < end && p[1] == '-') {
			out_put(&o, '&');
			p += 2;
			after_run = false;
		} else if (after_run) {
			/* the encoder would have continued the previous run */
			out_fail(&o, "base64 run directly after another");
		} else if (p + 1 == end) {
			out_fail(&o, "unterminated base64 run");
		} else {
			p++;
			decode_run(&o, &p, end);
			after_run = true;
		}
	}
	return out_end(&o, why);
}

/* ---- mailbox names ---------------------------------------------------- */

bool
mailbox_is_inbox(const char *utf8, size_t len)
{
	return len == 5 && ascii_memcaseeq(utf8, "INBOX", 5);
}

/* True when the first level of the name is INBOX in any case and more
 * levels follow ("inbox/x"): that level is written "INBOX" on disk. */
static bool
is_under_inbox(const char *utf8, size_t len)
{
	return len > 5 && mailbox_is_inbox(utf8, 5) && utf8[5] == '/';
}

/* The reason one character (at p, avail bytes) may not be in a name, or
 * NULL; *n is set to its length. */
static const char *
name_char_problem(const unsigned char *p, size_t avail, size_t *n)
{
	uint32_t c;

	*n = utf8_get(p, avail, &c);
	if (*n == 0)
		return "mailbox name is not valid UTF-8";
	/* RFC 9051 5.1 asks for Net-Unicode (RFC 5198 2): no C0 or C1
	 * controls, no DEL; they also break log lines and terminals. */
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
		return "control character in mailbox name";
	/* '/' becomes '.' on disk (Maildir++), so a literal '.' would read
	 * back as a separator.  Refused as Dovecot refuses it with this
	 * layout unless an escape character is configured; escaping can be
	 * added later without renaming existing directories. */
	if (c == '.')
		return "'.' is not allowed in a mailbox name";
	/* RFC 9051 5.1: names with LIST wildcards are "difficult to use". */
	if (c == '*' || c == '%')
		return "'*' and '%' are not allowed in a mailbox name";
	return NULL;
}

/* The first problem with the name's characters and levels, or NULL. */
static const char *
name_shape_problem(const char *utf8, size_t len)
{
	const unsigned char *p = (const unsigned char *)utf8, *end = p + len;
	size_t depth = 1;

	if (p[0] == '/')
		return "mailbox name starts with the hierarchy separator";
	/* "~user" means another user's home to some servers and tools */
	if (p[0] == '~')
		return "mailbox name starts with '~'";
	if (end[-1] == '/')
		return "mailbox name ends with the hierarchy separator";
	while (p < end) {
		size_t n;
		if (*p == '/') {
			if (p[1] == '/')	/* safe: the last byte is not '/' */
				return "empty level in mailbox name";
			if (++depth > MAILBOX_DEPTH_MAX)
				return "too many levels in mailbox name";
			p++;
			continue;
		}
		const char *why = name_char_problem(p, (size_t)(end - p), &n);
		if (why != NULL)
			return why;
		p += n;
	}
	return NULL;
}

const char *
mailbox_name_check(const char *utf8, size_t len)
{
	char dir[MAILBOX_DIR_MAX];
	const char *why;

	if (len == 0)
		return "empty mailbox name";
	if (len > MAILBOX_NAME_MAX)
		return "mailbox name too long";
	if ((why = name_shape_problem(utf8, len)) != NULL)
		return why;
	/* One directory holds every level ("A/B" -> ".A.B"), so the whole
	 * encoded name plus its '.' must fit one file name.  mUTF-7 can be
	 * longer than the UTF-8: "é" is 2 bytes, "&AOk-" 5. */
	if (mutf7_encode(utf8, len, dir, sizeof dir, NULL) < 0)
		return "mailbox name too long on disk";
	return NULL;
}

int
mailbox_to_dir(const char *utf8, char *out, size_t outlen)
{
	size_t len = strlen(utf8), skip = 0;
	struct out o;

	out_init(&o, out, outlen);
	if (mailbox_name_check(utf8, len) != NULL)
		out_fail(&o, "invalid mailbox name");
	if (mailbox_is_inbox(utf8, len))
		return out_end(&o, NULL);	/* INBOX is the Maildir itself */
	out_put(&o, '.');
	if (is_under_inbox(utf8, len)) {
		for (const char *s = "INBOX"; *s != '\0'; s++)
			out_put(&o, *s);
		skip = 5;
	}
	if (o.err != NULL)
		return out_end(&o, NULL);
	int n = mutf7_encode(utf8 + skip, len - skip, out + o.len, outlen - o.len, NULL);
	if (n < 0) {
		out[0] = '\0';
		return -1;
	}
	/* Modified base64 has ',' where base64 has '/', so every '/' in
	 * the encoding is a separator (RFC 3501 5.1.3 chose ',' for this). */
	for (char *s = out + o.len; *s != '\0'; s++)
		if (*s == '/')
			*s = '.';
	return (int)o.len + n;
}

int
dir_to_mailbox(const char *dir, char *out, size_t outlen)
{
	char m7[MAILBOX_DIR_MAX], back[MAILBOX_DIR_MAX + 1];
	size_t len = strlen(dir);
	struct out o;

	out_init(&o, out, outlen);
	if (len == 0) {
		for (const char *s = "INBOX"; *s != '\0'; s++)
			out_put(&o, *s);
		return out_end(&o, NULL);
	}
	if (dir[0] != '.' || len > MAILBOX_DIR_MAX || memchr(dir, '/', len) != NULL)
		out_fail(&o, "not a Maildir++ folder");
	if (o.err != NULL)
		return out_end(&o, NULL);
	for (size_t i = 1; i < len; i++)
		m7[i - 1] = dir[i] == '.' ? '/' : dir[i];
	int n = mutf7_decode(m7, len - 1, out, outlen, NULL);
	/* Accept only what mailbox_to_dir gives back byte for byte: this
	 * refuses names the check refuses, ".INBOX" (INBOX is the Maildir
	 * itself), ".inbox.x" (written ".INBOX.x") and decoded NULs. */
	if (n >= 0 && (mailbox_to_dir(out, back, sizeof back) < 0 || strcmp(back, dir) != 0)) {
		out[0] = '\0';
		return -1;
	}
	return n;
}

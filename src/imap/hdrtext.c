/*
 * imap/hdrtext.c - header text for IMAP SEARCH: RFC 2047 encoded-words,
 * a simple case fold, RFC 5322 dates.
 *
 * Input:   field values from stored messages (anyone could have sent
 *          them), pointer plus length, NUL is data.  Nothing is trusted.
 * Output:  UTF-8 appended to a struct buf; folded text in the caller's
 *          memory; a struct hdrtext_date.
 * Trusts:  nothing.  Runs in: imap worker.  Pure: no I/O, no recursion
 *          (comments nest by a counter), one pass over each input.
 * Not here: MIME bodies (no transfer decoding of bodies in SEARCH yet),
 *          RFC 2231 parameter continuations, Unicode normalisation.
 *
 * Charsets: a label of US-ASCII, ISO-8859-1 or windows-1252 is decoded
 * as windows-1252, as the WHATWG Encoding Standard does: mislabelled
 * windows-1252 is common and C1 controls never appear in real text.
 * ISO-8859-15 has its own 8 differences from Latin-1.  The high halves
 * of windows-1252, windows-1251 and KOI8-R were generated from Python's
 * codecs (undefined windows-125x bytes map to the C1 control of the same
 * value, as WHATWG does).
 */
#include "imap/hdrtext.h"

#include <string.h>

#include "core/buf.h"
#include "core/util.h"

/* ---- charsets ------------------------------------------------------------ */

enum cs { CS_UTF8, CS_CP1252, CS_LATIN9, CS_CP1251, CS_KOI8R };

static const struct {
	const char *name;
	enum cs cs;
} charsets[] = {
	{ "utf-8", CS_UTF8 }, { "utf8", CS_UTF8 },
	{ "us-ascii", CS_CP1252 }, { "ascii", CS_CP1252 },
	{ "iso-8859-1", CS_CP1252 }, { "iso8859-1", CS_CP1252 }, { "iso_8859-1", CS_CP1252 },
	{ "latin1", CS_CP1252 }, { "latin-1", CS_CP1252 }, { "l1", CS_CP1252 },
	{ "windows-1252", CS_CP1252 }, { "cp1252", CS_CP1252 }, { "x-cp1252", CS_CP1252 },
	{ "iso-8859-15", CS_LATIN9 }, { "iso8859-15", CS_LATIN9 }, { "iso_8859-15", CS_LATIN9 },
	{ "latin-9", CS_LATIN9 }, { "latin9", CS_LATIN9 },
	{ "windows-1251", CS_CP1251 }, { "cp1251", CS_CP1251 }, { "x-cp1251", CS_CP1251 },
	{ "koi8-r", CS_KOI8R }, { "koi8r", CS_KOI8R },
};

static const uint16_t cp1252_80[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static const uint16_t cp1251_80[128] = {
	0x0402, 0x0403, 0x201a, 0x0453, 0x201e, 0x2026, 0x2020, 0x2021,
	0x20ac, 0x2030, 0x0409, 0x2039, 0x040a, 0x040c, 0x040b, 0x040f,
	0x0452, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x0098, 0x2122, 0x0459, 0x203a, 0x045a, 0x045c, 0x045b, 0x045f,
	0x00a0, 0x040e, 0x045e, 0x0408, 0x00a4, 0x0490, 0x00a6, 0x00a7,
	0x0401, 0x00a9, 0x0404, 0x00ab, 0x00ac, 0x00ad, 0x00ae, 0x0407,
	0x00b0, 0x00b1, 0x0406, 0x0456, 0x0491, 0x00b5, 0x00b6, 0x00b7,
	0x0451, 0x2116, 0x0454, 0x00bb, 0x0458, 0x0405, 0x0455, 0x0457,
	0x0410, 0x0411, 0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417,
	0x0418, 0x0419, 0x041a, 0x041b, 0x041c, 0x041d, 0x041e, 0x041f,
	0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427,
	0x0428, 0x0429, 0x042a, 0x042b, 0x042c, 0x042d, 0x042e, 0x042f,
	0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437,
	0x0438, 0x0439, 0x043a, 0x043b, 0x043c, 0x043d, 0x043e, 0x043f,
	0x0440, 0x0441, 0x0442, 0x0443, 0x0444, 0x0445, 0x0446, 0x0447,
	0x0448, 0x0449, 0x044a, 0x044b, 0x044c, 0x044d, 0x044e, 0x044f,
};

static const uint16_t koi8r_80[128] = {
	0x2500, 0x2502, 0x250c, 0x2510, 0x2514, 0x2518, 0x251c, 0x2524,
	0x252c, 0x2534, 0x253c, 0x2580, 0x2584, 0x2588, 0x258c, 0x2590,
	0x2591, 0x2592, 0x2593, 0x2320, 0x25a0, 0x2219, 0x221a, 0x2248,
	0x2264, 0x2265, 0x00a0, 0x2321, 0x00b0, 0x00b2, 0x00b7, 0x00f7,
	0x2550, 0x2551, 0x2552, 0x0451, 0x2553, 0x2554, 0x2555, 0x2556,
	0x2557, 0x2558, 0x2559, 0x255a, 0x255b, 0x255c, 0x255d, 0x255e,
	0x255f, 0x2560, 0x2561, 0x0401, 0x2562, 0x2563, 0x2564, 0x2565,
	0x2566, 0x2567, 0x2568, 0x2569, 0x256a, 0x256b, 0x256c, 0x00a9,
	0x044e, 0x0430, 0x0431, 0x0446, 0x0434, 0x0435, 0x0444, 0x0433,
	0x0445, 0x0438, 0x0439, 0x043a, 0x043b, 0x043c, 0x043d, 0x043e,
	0x043f, 0x044f, 0x0440, 0x0441, 0x0442, 0x0443, 0x0436, 0x0432,
	0x044c, 0x044b, 0x0437, 0x0448, 0x044d, 0x0449, 0x0447, 0x044a,
	0x042e, 0x0410, 0x0411, 0x0426, 0x0414, 0x0415, 0x0424, 0x0413,
	0x0425, 0x0418, 0x0419, 0x041a, 0x041b, 0x041c, 0x041d, 0x041e,
	0x041f, 0x042f, 0x0420, 0x0421, 0x0422, 0x0423, 0x0416, 0x0412,
	0x042c, 0x042b, 0x0417, 0x0428, 0x042d, 0x0429, 0x0427, 0x042a,
};

/* ISO-8859-15: Latin-1 but for these eight. */
static uint32_t
latin9(uint8_t b)
{
	switch (b) {
	case 0xa4: return 0x20ac;
	case 0xa6: return 0x0160;
	case 0xa8: return 0x0161;
	case 0xb4: return 0x017d;
	case 0xb8: return 0x017e;
	case 0xbc: return 0x0152;
	case 0xbd: return 0x0153;
	case 0xbe: return 0x0178;
	default: return b;
	}
}

/* -1 for a charset we do not decode. */
static int
charset_find(const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < NELEM(charsets); i++)
		if (strlen(charsets[i].name) == len && ascii_memcaseeq(name, charsets[i].name, len))
			return (int)charsets[i].cs;
	return -1;
}

static void
put_utf8(struct buf *out, uint32_t cp)
{
	uint8_t u[3];
	if (cp < 0x80) {
		buf_putc(out, (uint8_t)cp);
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		buf_append(out, u, 2);
	} else {
		/* every table entry is in the BMP */
		u[0] = (uint8_t)(0xe0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		buf_append(out, u, 3);
	}
}

/* One decoded octet of an encoded-word in charset cs, as UTF-8. */
static void
put_octet(struct buf *out, int cs, uint8_t b)
{
	if (b < 0x80 || cs == CS_UTF8) {
		buf_putc(out, b);	/* UTF-8 is kept as sent, valid or not */
		return;
	}
	switch (cs) {
	case CS_CP1252:
		put_utf8(out, b < 0xa0 ? cp1252_80[b - 0x80] : b);
		break;
	case CS_LATIN9:
		put_utf8(out, latin9(b));
		break;
	case CS_CP1251:
		put_utf8(out, cp1251_80[b - 0x80]);
		break;
	default:
		put_utf8(out, koi8r_80[b - 0x80]);
		break;
	}
}

int
hdrtext_charset_decode(struct buf *out, const char *charset, const uint8_t *p, size_t len)
{
	int cs = charset_find((const uint8_t *)charset, strlen(charset));
	if (cs < 0)
		return 1;
	if (cs == CS_UTF8) {
		buf_append(out, p, len);
		return out->err ? -1 : 0;
	}
	for (size_t i = 0; i < len && !out->err; i++)
		put_octet(out, cs, p[i]);
	return out->err ? -1 : 0;
}

/* ---- RFC 2047 encoded-words ------------------------------------------------ */

struct ew {
	int cs;
	bool is_b;
	const uint8_t *text;
	size_t tlen;
	size_t len;		/* of the whole "=?...?=" */
};

/* encoded-word = "=?" charset "?" encoding "?" encoded-text "?=" at p
 * (RFC 2047 2), in a charset we decode.  Charset and text are printable
 * ASCII without '?' or space; the charset is at most 64 bytes (long
 * enough for any registered name plus an RFC 2231 language). */
static bool
ew_parse(const uint8_t *p, size_t len, struct ew *w)
{
	size_t i = 2;

	if (len < 2 || p[0] != '=' || p[1] != '?')
		return false;
	while (i < len && p[i] > 0x20 && p[i] < 0x7f && p[i] != '?')
		i++;
	if (i == len || p[i] != '?' || i == 2 || i - 2 > 64)
		return false;
	const uint8_t *star = memchr(p + 2, '*', i - 2);	/* RFC 2231 5 */
	w->cs = charset_find(p + 2, star ? (size_t)(star - (p + 2)) : i - 2);
	if (w->cs < 0 || len - i < 3)
		return false;
	uint8_t e = (uint8_t)ascii_lower(p[i + 1]);
	if ((e != 'b' && e != 'q') || p[i + 2] != '?')
		return false;
	i += 3;
	size_t t = i;
	while (i < len && p[i] > 0x20 && p[i] < 0x7f && p[i] != '?')
		i++;
	if (len - i < 2 || p[i] != '?' || p[i + 1] != '=')
		return false;
	w->is_b = e == 'b';
	w->text = p + t;
	w->tlen = i - t;
	w->len = i + 2;
	return true;
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (uint8_t)ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "B": base64 (RFC 2047 4.1).  Padding may be missing; anything after
 * '=' but more '=' is an error.  False when the text is not base64. */
static bool
decode_b(struct buf *out, int cs, const uint8_t *t, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i = 0;

	for (; i < n && t[i] != '='; i++) {
		int v = b64_value(t[i], '/');
		if (v < 0)
			return false;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			put_octet(out, cs, (uint8_t)(acc >> bits));
		}
	}
	for (; i < n; i++)
		if (t[i] != '=')
			return false;
	return true;
}

/* "Q" (RFC 2047 4.2): '_' is a space, "=XX" an octet; a '=' without two
 * hex digits is kept as it is rather than losing the word. */
static void
decode_q(struct buf *out, int cs, const uint8_t *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (t[i] == '_') {
			buf_putc(out, ' ');
		} else if (t[i] == '=' && n - i > 2 && (hi = hexval(t[i + 1])) >= 0
		    && (lo = hexval(t[i + 2])) >= 0) {
			put_octet(out, cs, (uint8_t)(hi << 4 | lo));
			i += 2;
		} else {
			put_octet(out, cs, t[i]);
		}
	}
}

static bool
is_lwsp(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
hdrtext_decode(struct buf *out, const uint8_t *p, size_t len)
{
	size_t i = 0, held = SIZE_MAX;	/* whitespace after an encoded-word */
	bool after_ew = false;

	while (i < len && !out->err) {
		struct ew w;
		if (p[i] == '=' && ew_parse(p + i, len - i, &w)) {
			size_t mark = out->len;
			if (w.is_b && !decode_b(out, w.cs, w.text, w.tlen)) {
				out->len = mark;	/* not base64: keep the word as text */
			} else {
				if (!w.is_b)
					decode_q(out, w.cs, w.text, w.tlen);
				/* RFC 2047 6.2: whitespace between two encoded-words
				 * is not displayed */
				held = SIZE_MAX;
				after_ew = true;
				i += w.len;
				continue;
			}
		}
		if (after_ew && is_lwsp(p[i])) {
			if (held == SIZE_MAX)
				held = i;
			i++;
			continue;
		}
		if (held != SIZE_MAX) {
			buf_append(out, p + held, i - held);
			held = SIZE_MAX;
		}
		after_ew = false;
		buf_putc(out, p[i]);
		i++;
	}
	if (held != SIZE_MAX)
		buf_append(out, p + held, len - held);
	return out->err ? -1 : 0;
}

/* ---- folding ------------------------------------------------------------------ */

/* The simple lowercase of code point cp in U+0080..U+07FF (two-byte
 * UTF-8), or cp itself: Latin-1 Supplement, Latin Extended-A, Greek and
 * Coptic, Cyrillic, Cyrillic Supplement (UnicodeData.txt, field 13). */
static uint32_t
lower_cp(uint32_t cp)
{
	if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
		return cp + 0x20;
	if (cp >= 0x100 && cp <= 0x17f) {
		if (cp == 0x130)
			return 'i';	/* capital I with dot: simple lowercase is 'i' */
		if (cp == 0x178)
			return 0xff;
		if (cp <= 0x12f || (cp >= 0x132 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177))
			return cp | 1;	/* pairs: even upper, odd lower */
		if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e))
			return cp & 1 ? cp + 1 : cp;	/* pairs: odd upper */
		return cp;
	}
	if (cp >= 0x370 && cp <= 0x3ff) {
		if (cp <= 0x373 || (cp >= 0x3d8 && cp <= 0x3ef))
			return cp | 1;
		if (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2)
			return cp + 0x20;
		if (cp >= 0x388 && cp <= 0x38a)
			return cp + 0x25;
		if (cp >= 0x3fd)
			return cp - 0x82;
		switch (cp) {
		case 0x376: return 0x377;
		case 0x37f: return 0x3f3;
		case 0x386: return 0x3ac;
		case 0x38c: return 0x3cc;
		case 0x38e: return 0x3cd;
		case 0x38f: return 0x3ce;
		case 0x3cf: return 0x3d7;
		case 0x3f4: return 0x3b8;
		case 0x3f7: return 0x3f8;
		case 0x3f9: return 0x3f2;
		case 0x3fa: return 0x3fb;
		default: return cp;
		}
	}
	if (cp >= 0x400 && cp <= 0x52f) {
		if (cp <= 0x40f)
			return cp + 0x50;
		if (cp <= 0x42f)
			return cp + 0x20;
		if ((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48a && cp <= 0x4bf) || cp >= 0x4d0)
			return cp | 1;
		if (cp == 0x4c0)
			return 0x4cf;
		if (cp >= 0x4c1 && cp <= 0x4ce)
			return cp & 1 ? cp + 1 : cp;
		return cp;
	}
	return cp;
}

size_t
hdrtext_fold(uint8_t *out, const uint8_t *in, size_t len)
{
	size_t i = 0, o = 0;

	while (i < len) {
		uint8_t c = in[i];
		if (c < 0x80) {
			out[o++] = (uint8_t)ascii_lower(c);
			i++;
		} else if (c >= 0xc2 && c <= 0xdf && len - i > 1 && (in[i + 1] & 0xc0) == 0x80) {
			/* both bytes are read before anything is written: in == out
			 * works because o <= i */
			uint32_t lc = lower_cp((uint32_t)(c & 0x1f) << 6 | (in[i + 1] & 0x3f));
			if (lc < 0x80) {
				out[o++] = (uint8_t)lc;
			} else {
				out[o++] = (uint8_t)(0xc0 | lc >> 6);
				out[o++] = (uint8_t)(0x80 | (lc & 0x3f));
			}
			i += 2;
		} else {
			out[o++] = c;
			i++;
		}
	}
	return o;
}

/* ---- dates --------------------------------------------------------------------- */

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

int
hdrtext_month(const uint8_t *p, size_t len)
{
	if (len != 3)
		return 0;
	for (int m = 0; m < 12; m++)
		if (ascii_memcaseeq(p, months[m], 3))
			return m + 1;
	return 0;
}

const char *
hdrtext_month_name(int m)
{
	return m >= 1 && m <= 12 ? months[m - 1] : "???";
}

int
hdrtext_mdays(int64_t y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12)
		return 0;
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

/* Days from the civil date: the year shifted to start in March, so the
 * leap day comes last, counted in 400-year eras of 146097 days. */
int64_t
hdrtext_days(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
hdrtext_civil(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

struct dr {
	const uint8_t *p, *end;
};

/* CFWS (RFC 5322 3.2.2): whitespace and comments, which nest; a comment
 * left open runs to the end.  Depth is a counter, not recursion. */
static void
skip_cfws(struct dr *r)
{
	size_t depth = 0;
	while (r->p < r->end) {
		uint8_t c = *r->p;
		if (depth > 0) {
			if (c == '\\' && r->end - r->p > 1)
				r->p++;		/* quoted-pair */
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			r->p++;
		} else if (is_lwsp(c)) {
			r->p++;
		} else if (c == '(') {
			depth = 1;
			r->p++;
		} else {
			break;
		}
	}
}

static bool
is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t
take_alpha(struct dr *r, const uint8_t **w)
{
	*w = r->p;
	while (r->p < r->end && is_alpha(*r->p))
		r->p++;
	return (size_t)(r->p - *w);
}

/* min..max digits as a number; false (and nothing taken) otherwise. */
static bool
take_num(struct dr *r, size_t min, size_t max, int64_t *v, size_t *nd)
{
	const uint8_t *s = r->p;
	int64_t x = 0;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9' && (size_t)(r->p - s) < max + 1) {
		x = x * 10 + (*r->p - '0');
		r->p++;
	}
	size_t n = (size_t)(r->p - s);
	if (n < min || n > max || (r->p < r->end && *r->p >= '0' && *r->p <= '9')) {
		r->p = s;
		return false;
	}
	*v = x;
	if (nd != NULL)
		*nd = n;
	return true;
}

static bool
take_char(struct dr *r, uint8_t c)
{
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

static bool
is_day_name(const uint8_t *w, size_t n)
{
	static const char days[7][4] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	if (n != 3)
		return false;
	for (int i = 0; i < 7; i++)
		if (ascii_memcaseeq(w, days[i], 3))
			return true;
	return false;
}

/* zone = ("+" / "-") 4DIGIT, or obs-zone (RFC 5322 4.3): UT, GMT, the
 * US zones; military letters and anything else alphabetic mean -0000
 * ("no information"), which reads as UTC. */
static bool
take_zone(struct dr *r, int *zone)
{
	static const struct {
		const char *name;
		int hours;
	} named[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "EST", -5 }, { "EDT", -4 }, { "CST", -6 },
		{ "CDT", -5 }, { "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	*zone = 0;
	if (r->p < r->end && (*r->p == '+' || *r->p == '-')) {
		int sign = *r->p == '-' ? -1 : 1;
		int64_t v;
		r->p++;
		if (!take_num(r, 4, 4, &v, NULL) || v % 100 > 59)
			return false;
		*zone = sign * (int)(v / 100 * 60 + v % 100);
		return true;
	}
	const uint8_t *w;
	size_t n = take_alpha(r, &w);
	for (size_t i = 0; i < NELEM(named); i++)
		if (strlen(named[i].name) == n && ascii_memcaseeq(w, named[i].name, n))
			*zone = named[i].hours * 60;
	return true;
}

/* time-of-day [zone]; obsolete forms allow CFWS around the colons. */
static bool
take_time(struct dr *r, struct hdrtext_date *d)
{
	int64_t h, m, s = 0;
	if (!take_num(r, 1, 2, &h, NULL))
		return false;
	skip_cfws(r);
	if (!take_char(r, ':'))
		return false;
	skip_cfws(r);
	if (!take_num(r, 2, 2, &m, NULL))
		return false;
	skip_cfws(r);
	if (take_char(r, ':')) {
		skip_cfws(r);
		if (!take_num(r, 2, 2, &s, NULL))
			return false;
	}
	if (h > 23 || m > 59 || s > 60)		/* 60: a leap second */
		return false;
	skip_cfws(r);
	if (!take_zone(r, &d->zone))
		return false;
	d->hour = (int)h;
	d->min = (int)m;
	d->sec = (int)s;
	return true;
}

bool
hdrtext_parse_date(const uint8_t *p, size_t len, struct hdrtext_date *d)
{
	struct dr r = { p, p + len };
	const uint8_t *w;
	int64_t day, year;
	size_t n, ny;

	memset(d, 0, sizeof *d);
	skip_cfws(&r);
	n = take_alpha(&r, &w);
	if (n > 0) {
		if (!is_day_name(w, n))
			return false;
		skip_cfws(&r);
		take_char(&r, ',');	/* obsolete senders drop the comma */
		skip_cfws(&r);
	}
	if (!take_num(&r, 1, 2, &day, NULL))
		return false;
	skip_cfws(&r);
	take_char(&r, '-');		/* "24-Mar-2007" from broken mailers */
	skip_cfws(&r);
	n = take_alpha(&r, &w);
	/* three letters, or a longer English name ("Sept", "March") */
	if (n < 3 || (d->mon = hdrtext_month(w, 3)) == 0)
		return false;
	skip_cfws(&r);
	take_char(&r, '-');
	skip_cfws(&r);
	if (!take_num(&r, 2, 6, &year, &ny))
		return false;
	/* obs-year (RFC 5322 4.3): 00-49 is 2000-2049, 50-99 and three
	 * digits count from 1900 */
	if (ny == 2)
		year += year < 50 ? 2000 : 1900;
	else if (ny == 3)
		year += 1900;
	if (day < 1 || day > hdrtext_mdays(year, d->mon))
		return false;
	d->year = (int)year;
	d->day = (int)day;
	skip_cfws(&r);
	if (take_time(&r, d)) {
		d->has_time = true;
		d->utc = hdrtext_days(d->year, d->mon, d->day) * 86400 + d->hour * 3600
		    + d->min * 60 + d->sec - (int64_t)d->zone * 60;
	}
	return true;
}

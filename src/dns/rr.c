/*
 * dns/rr.c - the RR type table, the wire-form check of rdata, and rdata
 * in presentation form (rules in rr.h).
 *
 * Input:   rdata in wire form from anywhere (zone parser, network, RFC
 *          3597 text), pointer plus length; nothing about it is trusted.
 * Output:  yes/no answers, name offsets, and text in the caller's buffer.
 * Trusts:  nothing.  Runs in: dns role, parent, CLI.
 * Not here: text to rdata (dns/zonefile.c, which owns the tokenizer),
 *          compression (the answer writer).
 *
 * dns_rdata_to_text checks the rdata with dns_rdata_valid first and only
 * then formats it, so the formatting code may walk fields without checks
 * of its own; every write goes through a sticky-error output buffer.
 */
#include "dns/rr.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/util.h"
#include "dns/name.h"

static const struct {
	uint16_t type;
	const char *name;
} TYPES[] = {
	{ DNS_T_A, "A" }, { DNS_T_NS, "NS" }, { DNS_T_CNAME, "CNAME" }, { DNS_T_SOA, "SOA" },
	{ DNS_T_PTR, "PTR" }, { DNS_T_MX, "MX" }, { DNS_T_TXT, "TXT" }, { DNS_T_AAAA, "AAAA" },
	{ DNS_T_SRV, "SRV" }, { DNS_T_DNAME, "DNAME" }, { DNS_T_OPT, "OPT" }, { DNS_T_DS, "DS" },
	{ DNS_T_SSHFP, "SSHFP" }, { DNS_T_RRSIG, "RRSIG" }, { DNS_T_NSEC, "NSEC" },
	{ DNS_T_DNSKEY, "DNSKEY" }, { DNS_T_NSEC3, "NSEC3" }, { DNS_T_NSEC3PARAM, "NSEC3PARAM" },
	{ DNS_T_TLSA, "TLSA" }, { DNS_T_TSIG, "TSIG" }, { DNS_T_IXFR, "IXFR" },
	{ DNS_T_AXFR, "AXFR" }, { DNS_T_ANY, "ANY" }, { DNS_T_CAA, "CAA" },
};

const char *
dns_type_name(uint16_t type, char buf[16])
{
	for (size_t i = 0; i < NELEM(TYPES); i++)
		if (TYPES[i].type == type)
			return TYPES[i].name;
	snprintf(buf, 16, "TYPE%u", (unsigned)type);
	return buf;
}

int
dns_type_from_text(const char *s, size_t n)
{
	for (size_t i = 0; i < NELEM(TYPES); i++)
		if (strlen(TYPES[i].name) == n && ascii_memcaseeq(TYPES[i].name, s, n))
			return TYPES[i].type;
	/* TYPEnnn, RFC 3597 5: 1..5 digits, at most 65535 */
	if (n < 5 || n > 9 || !ascii_memcaseeq(s, "TYPE", 4))
		return -1;
	unsigned v = 0;
	for (size_t i = 4; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= 65535 ? (int)v : -1;
}

bool
dns_type_is_meta(uint16_t type)
{
	return type == 0 || type == DNS_T_OPT || (type >= 128 && type <= 255);
}

/* --- the wire-form check ------------------------------------------------- */

/* A cursor over rdata; once bad, every step does nothing. */
struct rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static void
rd_skip(struct rd *r, size_t n)
{
	if (!r->bad && r->len - r->off < n)
		r->bad = true;
	if (!r->bad)
		r->off += n;
}

static unsigned
rd_u8(struct rd *r)
{
	unsigned v = (!r->bad && r->off < r->len) ? r->p[r->off] : 0;
	rd_skip(r, 1);
	return v;
}

static void
rd_name(struct rd *r)
{
	if (r->bad)
		return;
	int n = dns_name_check(r->p + r->off, r->len - r->off);
	if (n < 0)
		r->bad = true;
	else
		r->off += (size_t)n;
}

/* Everything that is left, at least min bytes of it. */
static void
rd_rest(struct rd *r, size_t min)
{
	rd_skip(r, min);
	if (!r->bad)
		r->off = r->len;
}

/* A length byte and that many bytes; the length at least min. */
static void
rd_counted(struct rd *r, unsigned min)
{
	unsigned n = rd_u8(r);
	if (n < min)
		r->bad = true;
	rd_skip(r, n);
}

/* Type bitmap of RFC 4034 4.1.2 up to the end: windows strictly
 * ascending, 1..32 octets each, the last octet non-zero (BIND refuses
 * trailing zero octets; with them the text form would not read back to
 * the same bytes). */
static void
rd_bitmap(struct rd *r)
{
	int last = -1;

	while (!r->bad && r->off < r->len) {
		unsigned win = rd_u8(r), n = rd_u8(r);
		if (r->bad || (int)win <= last || n < 1 || n > 32 || r->len - r->off < n ||
		    r->p[r->off + n - 1] == 0) {
			r->bad = true;
			return;
		}
		last = (int)win;
		r->off += n;
	}
}

/* CAA tag: 1..255 ASCII letters and digits (RFC 8659 4.1). */
static void
rd_caa_tag(struct rd *r)
{
	unsigned n = rd_u8(r);
	if (r->bad || n < 1 || r->len - r->off < n) {
		r->bad = true;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		int c = r->p[r->off + i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			r->bad = true;
	}
	r->off += n;
}

/* RFC 3658, RFC 4509, RFC 6605. */
size_t
dns_ds_digest_len(unsigned dtype)
{
	switch (dtype) {
	case 1: return 20;	/* SHA-1 */
	case 2: return 32;	/* SHA-256 */
	case 4: return 48;	/* SHA-384 */
	default: return 0;
	}
}

static void
rd_ds(struct rd *r)
{
	rd_skip(r, 3);
	size_t want = dns_ds_digest_len(rd_u8(r));
	if (want != 0 && !r->bad && r->len - r->off != want)
		r->bad = true;
	rd_rest(r, 1);
}

bool
dns_rdata_valid(uint16_t type, const uint8_t *rdata, size_t len)
{
	struct rd r = { rdata, len, 0, len > DNS_RDATA_MAX };

	switch (type) {
	case DNS_T_A:		rd_skip(&r, 4); break;
	case DNS_T_AAAA:	rd_skip(&r, 16); break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_DNAME:	rd_name(&r); break;
	case DNS_T_MX:		rd_skip(&r, 2); rd_name(&r); break;
	case DNS_T_SOA:		rd_name(&r); rd_name(&r); rd_skip(&r, 20); break;
	case DNS_T_SRV:		rd_skip(&r, 6); rd_name(&r); break;
	case DNS_T_TXT:
		/* one or more character-strings (RFC 1035 3.3.14) */
		do
			rd_counted(&r, 0);
		while (!r.bad && r.off < r.len);
		break;
	case DNS_T_CAA:		rd_skip(&r, 1); rd_caa_tag(&r); rd_rest(&r, 0); break;
	case DNS_T_TLSA:	rd_skip(&r, 3); rd_rest(&r, 1); break;
	case DNS_T_SSHFP:	rd_skip(&r, 2); rd_rest(&r, 1); break;
	case DNS_T_DS:		rd_ds(&r); break;
	case DNS_T_DNSKEY:	rd_skip(&r, 4); rd_rest(&r, 1); break;
	case DNS_T_RRSIG:	rd_skip(&r, 18); rd_name(&r); rd_rest(&r, 1); break;
	case DNS_T_NSEC:	rd_name(&r); rd_bitmap(&r); break;
	case DNS_T_NSEC3:
		rd_skip(&r, 4);
		rd_counted(&r, 0);	/* salt */
		rd_counted(&r, 1);	/* next hashed owner */
		rd_bitmap(&r);
		break;
	case DNS_T_NSEC3PARAM:	rd_skip(&r, 4); rd_counted(&r, 0); break;
	default:		rd_rest(&r, 0); break;
	}
	/* the one exit for "valid": every field read and nothing left over */
	return !r.bad && r.off == r.len;
}

int
dns_rdata_names(uint16_t type, const uint8_t *rdata, size_t len, size_t offs[2])
{
	if (!dns_rdata_valid(type, rdata, len))
		return -1;
	switch (type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_DNAME:
	case DNS_T_NSEC:
		offs[0] = 0;
		return 1;
	case DNS_T_MX:
		offs[0] = 2;
		return 1;
	case DNS_T_SRV:
		offs[0] = 6;
		return 1;
	case DNS_T_RRSIG:
		offs[0] = 18;
		return 1;
	case DNS_T_SOA:
		offs[0] = 0;
		offs[1] = dns_name_len(rdata);
		return 2;
	default:
		return 0;
	}
}

/* --- times (RFC 4034 3.2) ------------------------------------------------ */

static bool
is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
month_days(unsigned y, unsigned m)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return days[m - 1] + (m == 2 && is_leap(y));
}

/* Leap years in 1..y. */
static uint64_t
leaps_upto(uint64_t y)
{
	return y / 4 - y / 100 + y / 400;
}

/* v as exactly w decimal digits at o; returns the end. */
static char *
put_digits(char *o, unsigned v, int w)
{
	for (int i = w - 1; i >= 0; i--, v /= 10)
		o[i] = (char)('0' + v % 10);
	return o + w;
}

void
dns_time_to_text(uint32_t t, char out[15])
{
	uint32_t days = t / 86400, s = t % 86400;
	unsigned y = 1970, m = 1;

	/* at most 136 years and 12 months: 2^32 s is about 49710 days */
	while (days >= (is_leap(y) ? 366u : 365u))
		days -= is_leap(y++) ? 366 : 365;
	while (days >= month_days(y, m))
		days -= month_days(y, m++);
	unsigned f[6] = { y, m, (unsigned)days + 1, s / 3600, s / 60 % 60, s % 60 };
	char *o = out;
	for (int i = 0; i < 6; i++)
		o = put_digits(o, f[i], i == 0 ? 4 : 2);
	*o = '\0';
}

static unsigned
digits(const char *s, size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

bool
dns_time_from_text(const char *s, size_t n, uint32_t *t)
{
	if (n != 14)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	unsigned y = digits(s, 4), mo = digits(s + 4, 2), d = digits(s + 6, 2);
	unsigned h = digits(s + 8, 2), mi = digits(s + 10, 2), se = digits(s + 12, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || se > 59)
		return false;
	uint64_t days = 365 * (uint64_t)(y - 1970) + leaps_upto(y - 1) - leaps_upto(1969);
	for (unsigned m = 1; m < mo; m++)
		days += month_days(y, m);
	days += d - 1;
	/* years past 2106 wrap: the field is seconds modulo 2^32 */
	*t = (uint32_t)(days * 86400 + h * 3600 + mi * 60 + se);
	return true;
}

/* --- presentation form -------------------------------------------------- */

/* Output with a sticky overflow flag; always room for the NUL. */
struct out {
	char *p;
	size_t n, cap;
	bool over;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->over || o->cap - o->n <= n) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = '\0';
}

static void
put_s(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_u(struct out *o, const char *sep, unsigned long v)
{
	char b[24];
	int k = snprintf(b, sizeof b, "%s%lu", sep, v);
	put(o, b, (size_t)k);
}

static void
put_c(struct out *o, char c)
{
	put(o, &c, 1);
}

static void
put_name(struct out *o, const uint8_t *name)
{
	char t[DNS_NAME_TEXT_MAX];
	put(o, t, dns_name_to_text(name, t));
}

static void
put_hex(struct out *o, const uint8_t *p, size_t n)
{
	static const char HEX[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n && !o->over; i++) {
		char b[2] = { HEX[p[i] >> 4], HEX[p[i] & 15] };
		put(o, b, 2);
	}
}

static void
put_base64(struct out *o, const uint8_t *p, size_t n)
{
	static const char B64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n && !o->over; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char b[4] = { B64[v >> 18], B64[v >> 12 & 63],
		    i + 1 < n ? B64[v >> 6 & 63] : '=', i + 2 < n ? B64[v & 63] : '=' };
		put(o, b, 4);
	}
}

/* Base32 with the "extended hex" alphabet, no padding (RFC 5155 3.3,
 * RFC 4648 7). */
static void
put_base32hex(struct out *o, const uint8_t *p, size_t n)
{
	static const char B32[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8 | p[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			put_c(o, B32[acc >> bits & 31]);
		}
	}
	if (bits > 0)
		put_c(o, B32[acc << (5 - bits) & 31]);
}

/* A character-string in double quotes, escaped the way BIND does:
 * quote and backslash with a backslash, other non-printables as \DDD. */
static void
put_quoted(struct out *o, const uint8_t *p, size_t n)
{
	put_c(o, '"');
	for (size_t i = 0; i < n && !o->over; i++) {
		unsigned c = p[i];
		if (c < 0x20 || c > 0x7e) {
			char b[5];
			snprintf(b, sizeof b, "\\%03u", c);
			put(o, b, 4);
		} else {
			if (c == '"' || c == '\\')
				put_c(o, '\\');
			put_c(o, (char)c);
		}
	}
	put_c(o, '"');
}

static void
put_type(struct out *o, uint16_t type)
{
	char b[16];
	put_s(o, dns_type_name(type, b));
}

/* The types of a (valid) bitmap, each after a space. */
static void
put_bitmap(struct out *o, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned win = p[i], bl = p[i + 1];
		for (unsigned b = 0; b < bl * 8; b++)
			if (p[i + 2 + b / 8] & (0x80 >> (b % 8))) {
				put_c(o, ' ');
				put_type(o, (uint16_t)(win << 8 | b));
			}
		i += 2 + bl;
	}
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned long
get32(const uint8_t *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	    (unsigned long)p[2] << 8 | p[3];
}

static void
put_time(struct out *o, const uint8_t *p)
{
	char b[15];
	dns_time_to_text((uint32_t)get32(p), b);
	put_c(o, ' ');
	put(o, b, 14);
}

static void
put_generic(struct out *o, const uint8_t *p, size_t n)
{
	put_u(o, "\\# ", n);
	if (n > 0)
		put_c(o, ' ');
	put_hex(o, p, n);
}

static void
put_soa(struct out *o, const uint8_t *p)
{
	size_t m = dns_name_len(p);
	put_name(o, p);
	put_c(o, ' ');
	put_name(o, p + m);
	p += m + dns_name_len(p + m);
	for (int i = 0; i < 5; i++)
		put_u(o, " ", get32(p + 4 * i));
}

static void
put_txt(struct out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 1 + p[i]) {
		if (i > 0)
			put_c(o, ' ');
		put_quoted(o, p + i + 1, p[i]);
	}
}

static void
put_caa(struct out *o, const uint8_t *p, size_t n)
{
	put_u(o, "", p[0]);
	put_c(o, ' ');
	put(o, (const char *)p + 2, p[1]);
	put_c(o, ' ');
	put_quoted(o, p + 2 + p[1], n - 2 - p[1]);
}

static void
put_rrsig(struct out *o, const uint8_t *p, size_t n)
{
	put_type(o, (uint16_t)get16(p));
	put_u(o, " ", p[2]);
	put_u(o, " ", p[3]);
	put_u(o, " ", get32(p + 4));
	put_time(o, p + 8);
	put_time(o, p + 12);
	put_u(o, " ", get16(p + 16));
	put_c(o, ' ');
	put_name(o, p + 18);
	size_t k = 18 + dns_name_len(p + 18);
	put_c(o, ' ');
	put_base64(o, p + k, n - k);
}

/* alg flags iterations salt, shared by NSEC3 and NSEC3PARAM; returns the
 * offset after the salt. */
static size_t
put_nsec3_head(struct out *o, const uint8_t *p)
{
	put_u(o, "", p[0]);
	put_u(o, " ", p[1]);
	put_u(o, " ", get16(p + 2));
	put_c(o, ' ');
	if (p[4] == 0)
		put_c(o, '-');
	put_hex(o, p + 5, p[4]);
	return 5 + (size_t)p[4];
}

static void
put_nsec3(struct out *o, const uint8_t *p, size_t n)
{
	size_t k = put_nsec3_head(o, p);
	put_c(o, ' ');
	put_base32hex(o, p + k + 1, p[k]);
	k += 1 + (size_t)p[k];
	put_bitmap(o, p + k, n - k);
}

/* "a b c HEX" for DS, SSHFP, TLSA, DNSKEY (base64): head bytes as
 * numbers (widths in w[], 1 or 2 bytes), then the rest. */
static void
put_fields_data(struct out *o, const uint8_t *p, size_t n, const unsigned *w, int nw,
    bool b64)
{
	size_t k = 0;
	for (int i = 0; i < nw; i++) {
		put_u(o, i ? " " : "", w[i] == 2 ? get16(p + k) : p[k]);
		k += w[i];
	}
	put_c(o, ' ');
	if (b64)
		put_base64(o, p + k, n - k);
	else
		put_hex(o, p + k, n - k);
}

static void
format(struct out *o, uint16_t type, const uint8_t *p, size_t n)
{
	static const unsigned W_DS[] = { 2, 1, 1 }, W_SSHFP[] = { 1, 1 };
	static const unsigned W_TLSA[] = { 1, 1, 1 }, W_DNSKEY[] = { 2, 1, 1 };
	char b[INET6_ADDRSTRLEN];

	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		put_s(o, inet_ntop(type == DNS_T_A ? AF_INET : AF_INET6, p, b, sizeof b));
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_DNAME:	put_name(o, p); break;
	case DNS_T_MX:		put_u(o, "", get16(p)); put_c(o, ' '); put_name(o, p + 2); break;
	case DNS_T_SOA:		put_soa(o, p); break;
	case DNS_T_TXT:		put_txt(o, p, n); break;
	case DNS_T_SRV:
		put_u(o, "", get16(p));
		put_u(o, " ", get16(p + 2));
		put_u(o, " ", get16(p + 4));
		put_c(o, ' ');
		put_name(o, p + 6);
		break;
	case DNS_T_CAA:		put_caa(o, p, n); break;
	case DNS_T_TLSA:	put_fields_data(o, p, n, W_TLSA, 3, false); break;
	case DNS_T_SSHFP:	put_fields_data(o, p, n, W_SSHFP, 2, false); break;
	case DNS_T_DS:		put_fields_data(o, p, n, W_DS, 3, false); break;
	case DNS_T_DNSKEY:	put_fields_data(o, p, n, W_DNSKEY, 3, true); break;
	case DNS_T_RRSIG:	put_rrsig(o, p, n); break;
	case DNS_T_NSEC:
		put_name(o, p);
		put_bitmap(o, p + dns_name_len(p), n - dns_name_len(p));
		break;
	case DNS_T_NSEC3:	put_nsec3(o, p, n); break;
	case DNS_T_NSEC3PARAM:	put_nsec3_head(o, p); break;
	default:		put_generic(o, p, n); break;
	}
}

int
dns_rdata_to_text(uint16_t type, const uint8_t *rdata, size_t len, char *out, size_t outsz)
{
	struct out o = { out, 0, outsz, outsz == 0 };

	if (!dns_rdata_valid(type, rdata, len))
		return -1;
	if (!o.over)
		out[0] = '\0';
	format(&o, type, rdata, len);
	return o.over || o.n > INT32_MAX ? -1 : (int)o.n;
}

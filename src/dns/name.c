/*
 * dns/name.c - domain names: text <-> wire, comparison, canonical order,
 * and reading compressed names out of packets (rules in name.h).
 *
 * Input:   presentation text from zone files (any bytes, pointer plus
 *          length), packets from the network (any bytes), and names this
 *          module produced (trusted to be valid).
 * Output:  names in uncompressed wire form in caller-supplied arrays of
 *          DNS_NAME_MAX bytes; nothing is allocated.
 * Trusts:  nothing in text or packets.  Runs in: dns role, parent, CLI.
 * Not here: "@" and $ORIGIN (dns/zonefile.c), compression on output.
 *
 * Every loop over a name is bounded by DNS_NAME_MAX bytes; dns_name_unpack
 * additionally bounds pointer hops and only follows pointers that go
 * strictly backwards, so no input can make it loop (RFC 9267 lists the
 * bugs this avoids).  No recursion.
 */
#include "dns/name.h"

#include <string.h>

#include "core/util.h"

/* Bytes escaped with a backslash in presentation text: the label
 * separator, the escape itself, and what a zone file lexer would take as
 * syntax (quotes, parentheses, comments, "@" for the origin, "$" at the
 * start of a line for a directive). */
static const char SPECIAL[] = ".\\\"();@$";

static int
fail(const char **err, const char *msg)
{
	*err = msg;
	return -1;
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int
dns_text_byte(const char **pp, const char *end)
{
	const char *p = *pp;
	int c = (unsigned char)*p++;

	if (c != '\\') {
		*pp = p;
		return c;
	}
	if (p == end)
		return -1;
	if (!is_digit((unsigned char)*p)) {
		*pp = p + 1;
		return (unsigned char)*p;
	}
	if (end - p < 3 || !is_digit((unsigned char)p[1]) || !is_digit((unsigned char)p[2]))
		return -1;
	int v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (v > 255)
		return -1;
	*pp = p + 3;
	return v;
}

int
dns_name_from_text(const char *s, size_t n, const uint8_t *origin,
    uint8_t out[DNS_NAME_MAX], const char **err)
{
	const char *p = s, *end = s + n;
	size_t lp = 0;		/* where the current label's length byte goes */
	size_t ll = 0;		/* bytes in the current label so far */
	bool absolute = false;

	*err = NULL;
	if (n == 1 && s[0] == '.') {
		out[0] = 0;
		return 1;
	}
	if (n == 0)
		return fail(err, "empty label");
	while (p < end) {
		if (*p == '.') {
			if (ll == 0)
				return fail(err, "empty label");
			out[lp] = (uint8_t)ll;
			lp += 1 + ll;
			ll = 0;
			absolute = ++p == end;
			continue;
		}
		int c = dns_text_byte(&p, end);
		if (c < 0)
			return fail(err, "bad escape");
		if (ll == DNS_LABEL_MAX)
			return fail(err, "label longer than 63 bytes");
		/* this byte, its length byte and at least the root label */
		if (lp + ll + 3 > DNS_NAME_MAX)
			return fail(err, "name longer than 255 bytes");
		out[lp + 1 + ll++] = (uint8_t)c;
	}
	if (absolute) {
		out[lp] = 0;
		return (int)lp + 1;
	}
	/* relative: the text did not end in '.', so the last label has bytes */
	out[lp] = (uint8_t)ll;
	lp += 1 + ll;
	if (origin == NULL)
		return fail(err, "relative name without an origin");
	size_t ol = dns_name_len(origin);
	if (lp + ol > DNS_NAME_MAX)
		return fail(err, "name longer than 255 bytes");
	memcpy(out + lp, origin, ol);
	return (int)(lp + ol);
}

/* Worst case: 254 bytes of labels and length bytes, each data byte as
 * \DDD (4 chars) plus one dot per label, is 1013 chars; the array has
 * DNS_NAME_TEXT_MAX. */
size_t
dns_name_to_text(const uint8_t *name, char out[DNS_NAME_TEXT_MAX])
{
	size_t o = 0;

	if (name[0] == 0)
		out[o++] = '.';
	for (const uint8_t *l = name; *l != 0; l += 1 + *l) {
		for (unsigned i = 1; i <= *l; i++) {
			unsigned c = l[i];
			if (c < 0x21 || c > 0x7e) {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
				continue;
			}
			if (strchr(SPECIAL, (int)c) != NULL)
				out[o++] = '\\';
			out[o++] = (char)c;
		}
		out[o++] = '.';
	}
	out[o] = '\0';
	return o;
}

int
dns_name_check(const uint8_t *p, size_t len)
{
	size_t o = 0;

	for (;;) {
		if (o >= len)
			return -1;
		unsigned c = p[o];
		if (c == 0)
			return (int)o + 1;
		if (c > DNS_LABEL_MAX)	/* 01/10 label types and pointers */
			return -1;
		o += 1 + c;
		if (o + 1 > DNS_NAME_MAX)	/* no room left for the root */
			return -1;
	}
}

size_t
dns_name_len(const uint8_t *name)
{
	const uint8_t *l = name;
	while (*l != 0)
		l += 1 + *l;
	return (size_t)(l - name) + 1;
}

unsigned
dns_name_labels(const uint8_t *name)
{
	unsigned n = 0;
	for (const uint8_t *l = name; *l != 0; l += 1 + *l)
		n++;
	return n;
}

/* Length bytes are at most 63 and so never ASCII letters: folding the
 * whole wire form compares labels and their boundaries at once. */
bool
dns_name_eq(const uint8_t *a, const uint8_t *b)
{
	size_t n = dns_name_len(a);
	return n == dns_name_len(b) && ascii_memcaseeq(a, b, n);
}

bool
dns_name_under(const uint8_t *name, const uint8_t *zone)
{
	unsigned nl = dns_name_labels(name), zl = dns_name_labels(zone);

	if (nl < zl)
		return false;
	for (; nl > zl; nl--)
		name += 1 + *name;
	return dns_name_eq(name, zone);
}

/* Offsets of the labels of name, left to right; returns how many (the
 * root not counted).  A valid name has at most 127 labels before the
 * root, and every offset is below DNS_NAME_MAX. */
static unsigned
label_offsets(const uint8_t *name, uint8_t offs[DNS_NAME_LABELS_MAX])
{
	unsigned n = 0;
	for (size_t o = 0; name[o] != 0; o += 1 + name[o])
		offs[n++] = (uint8_t)o;
	return n;
}

int
dns_name_canon_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[DNS_NAME_LABELS_MAX], ob[DNS_NAME_LABELS_MAX];
	unsigned na = label_offsets(a, oa), nb = label_offsets(b, ob);

	while (na > 0 && nb > 0) {
		const uint8_t *la = a + oa[--na], *lb = b + ob[--nb];
		unsigned m = la[0] < lb[0] ? la[0] : lb[0];
		for (unsigned i = 1; i <= m; i++) {
			int ca = ascii_lower(la[i]), cb = ascii_lower(lb[i]);
			if (ca != cb)
				return ca - cb;
		}
		if (la[0] != lb[0])
			return (int)la[0] - (int)lb[0];
	}
	return (na > 0) - (nb > 0);
}

void
dns_name_lower(uint8_t *name)
{
	for (uint8_t *l = name; *l != 0; l += 1 + *l)
		for (unsigned i = 1; i <= *l; i++)
			l[i] = (uint8_t)ascii_lower(l[i]);
}

const uint8_t *
dns_name_parent(const uint8_t *name)
{
	return name[0] == 0 ? NULL : name + 1 + name[0];
}

bool
dns_name_is_wildcard(const uint8_t *name)
{
	return name[0] == 1 && name[1] == '*';
}

int
dns_name_unpack(const uint8_t *pkt, size_t len, size_t *off, uint8_t out[DNS_NAME_MAX])
{
	size_t pos = *off;	/* next byte to read */
	size_t seq = *off;	/* start of the label sequence being read */
	size_t end = 0;		/* where the name ends at *off, once known */
	size_t n = 0;		/* bytes in out */
	unsigned hops = 0;
	bool jumped = false;

	for (;;) {
		if (pos >= len)
			return -1;
		unsigned c = pkt[pos];
		if ((c & 0xc0) == 0xc0) {
			if (len - pos < 2)
				return -1;
			size_t ptr = (size_t)(c & 0x3f) << 8 | pkt[pos + 1];
			/* strictly backwards, before this sequence began: every
			 * hop lowers seq, so the walk ends */
			if (ptr >= seq || ++hops > DNS_PTR_HOPS_MAX)
				return -1;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = seq = ptr;
			continue;
		}
		if (c > DNS_LABEL_MAX)	/* label types 01 and 10 (RFC 6891 dropped 01) */
			return -1;
		if (c == 0)
			break;
		if (c >= len - pos)	/* label bytes past the end */
			return -1;
		if (n + 1 + c + 1 > DNS_NAME_MAX)	/* with the root still to come */
			return -1;
		memcpy(out + n, pkt + pos, 1 + c);
		n += 1 + c;
		pos += 1 + c;
	}
	out[n++] = 0;
	*off = jumped ? end : pos + 1;
	return (int)n;
}

/*
 * policy/access.c - the sendmail-compatible access map (format, lookup
 * order and meaning of each action in access.h).
 *
 * Input:   the admin's text file, any bytes (access_parse); keys to look
 *          up straight from the network: client addresses, host names,
 *          envelope addresses of any length and content (access_connect,
 *          access_from, access_to, access_spam).
 * Output:  an immutable map; lookups fill a struct access_result.
 * Trusts:  nothing in the text or the keys.  Runs in: policy (lookups),
 *          parent and CLI (parsing).
 * Not here: what the session does with a result (smtp/, policy/verdict.c),
 *          reloading when the file changes (the policy process).
 *
 * Data structure: every entry once in an array, its strings in one pool;
 * string keys (names, .names, user@domain, user@) in an open-addressing
 * table keyed by (tag byte, lowercased key); address keys in a core/htab
 * keyed by (tag, kind, family, prefix length, masked address).  A lookup
 * of an address probes only the prefix lengths that occur in the map,
 * longest first: for the octet forms that is at most 4 x 2 probes (tagged
 * and untagged).  A name costs 2 probes per label and a dot-name probe
 * between labels.  Nothing recurses; every walk is bounded by the length
 * of its key (at most 128 labels, 129 prefix lengths).
 */
#include "policy/access.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/afile.h"
#include "core/htab.h"
#include "core/util.h"
#include "mail/domain.h"

#define NOPOOL		UINT32_MAX	/* no string */
#define TAG_UNTAGGED	0		/* stored tag byte; a tag is enum access_tag + 1 */
#define KIND_ADDR	0		/* an address key: 192.0.2.1, IPv6:... */
#define KIND_LIT	1		/* a literal key: [192.0.2.1] */
#define LOCAL_MAX	64		/* RFC 5321 4.5.3.1.1 */
#define NORM_MAX	(1 + 600)	/* tag byte + a key we may build for a lookup */
#define LABELS_MAX	128		/* a 255-octet name has at most 128 labels */

struct entry {
	uint32_t key;		/* pool: the key as written, with its tag */
	uint32_t text;		/* pool: reply text, or NOPOOL */
	uint32_t norm;		/* pool: tag byte + lowercased key (string keys) */
	uint32_t line;
	uint16_t norm_len;
	uint16_t code;
	uint8_t action;
	char esc[12];
};

/* The key of an address entry; all bytes, no padding, zeroed past len. */
struct ipkey {
	uint8_t tag;
	uint8_t kind;		/* KIND_ADDR or KIND_LIT */
	uint8_t v6;		/* 0: IPv4 (4 bytes used), 1: IPv6 */
	uint8_t len;		/* prefix length in bits */
	uint8_t a[16];
};

struct access_map {
	char *file;
	struct entry *ents;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
	uint32_t *slots;	/* string table: entry index + 1, 0 empty */
	uint32_t *hashes;	/* the hash of each slot's key */
	size_t n_slots, n_strs;
	uint64_t seed;
	struct htab ip;		/* struct ipkey -> uint32 entry index */
	/* prefix lengths in use per kind and family, longest first */
	uint8_t lens[2][2][129];
	uint8_t n_lens[2][2];
};

/* --- storage ----------------------------------------------------------- */

static uint32_t
pool_add(struct access_map *m, const char *s, size_t n)
{
	if (m->pool_len + n + 1 > m->pool_cap) {
		size_t cap = m->pool_cap ? m->pool_cap : 4096;
		while (cap < m->pool_len + n + 1)
			cap *= 2;
		m->pool = xreallocarray(m->pool, cap, 1);
		m->pool_cap = cap;
	}
	/* the file is at most 64 MiB and each byte is stored at most three
	 * times, so offsets fit; the check keeps that an invariant */
	if (m->pool_len >= NOPOOL - n - 1)
		abort();
	uint32_t off = (uint32_t)m->pool_len;
	memcpy(m->pool + off, s, n);
	m->pool[off + n] = '\0';
	m->pool_len += n + 1;
	return off;
}

static const char *
pool_str(const struct access_map *m, uint32_t off)
{
	return off == NOPOOL ? "" : m->pool + off;
}

/* FNV-1a, seeded, with a 64-bit finaliser: lookups carry keys chosen by
 * clients, and the seed keeps them from aiming at one probe chain. */
static uint32_t
str_hash(const struct access_map *m, const char *s, size_t n)
{
	uint64_t x = 0xcbf29ce484222325ull ^ m->seed;
	for (size_t i = 0; i < n; i++)
		x = (x ^ (uint8_t)s[i]) * 0x100000001b3ull;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return (uint32_t)x;
}

static const struct entry *
str_find(const struct access_map *m, const char *norm, size_t n)
{
	if (m->n_strs == 0)
		return NULL;
	uint32_t h = str_hash(m, norm, n);
	size_t mask = m->n_slots - 1;
	for (size_t i = h & mask; m->slots[i] != 0; i = (i + 1) & mask) {
		const struct entry *e = &m->ents[m->slots[i] - 1];
		if (m->hashes[i] == h && e->norm_len == n &&
		    memcmp(m->pool + e->norm, norm, n) == 0)
			return e;
	}
	return NULL;
}

static void
str_insert_slot(struct access_map *m, uint32_t idx1, uint32_t h)
{
	size_t mask = m->n_slots - 1, i = h & mask;
	while (m->slots[i] != 0)
		i = (i + 1) & mask;
	m->slots[i] = idx1;
	m->hashes[i] = h;
}

/* Keep the table at most half full so probe chains stay short. */
static void
str_grow(struct access_map *m)
{
	if ((m->n_strs + 1) * 2 <= m->n_slots)
		return;
	size_t old = m->n_slots;
	uint32_t *os = m->slots, *oh = m->hashes;
	m->n_slots = old ? old * 2 : 1024;
	m->slots = xcalloc(m->n_slots, sizeof *m->slots);
	m->hashes = xcalloc(m->n_slots, sizeof *m->hashes);
	for (size_t i = 0; i < old; i++)
		if (os[i] != 0)
			str_insert_slot(m, os[i], oh[i]);
	free(os);
	free(oh);
}

static struct entry *
entry_new(struct access_map *m)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->ents = xreallocarray(m->ents, m->cap, sizeof *m->ents);
	}
	struct entry *e = &m->ents[m->n];
	memset(e, 0, sizeof *e);
	e->norm = e->text = NOPOOL;
	return e;
}

/* --- small parsers shared by the file and the lookups --------------------- */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	c = (char)ascii_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool
starts_ci(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && ascii_memcaseeq(s, prefix, k);
}

static bool
word_is(const char *s, size_t n, const char *w)
{
	return n == strlen(w) && ascii_memcaseeq(s, w, n);
}

static void
mask_bits(uint8_t *a, unsigned nbytes, unsigned len)
{
	for (unsigned i = 0; i < nbytes; i++) {
		unsigned bit = i * 8;
		if (bit >= len)
			a[i] = 0;
		else if (len - bit < 8)
			a[i] &= (uint8_t)(0xff << (8 - (len - bit)));
	}
}

/* An IPv4-mapped IPv6 address (::ffff:0:0/96) reads as IPv4, so a client
 * on a dual-stack socket matches the IPv4 keys. */
static void
unmap_v4(struct ipkey *k)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (!k->v6 || k->len < 96 || memcmp(k->a, pfx, 12) != 0)
		return;
	memmove(k->a, k->a + 12, 4);
	memset(k->a + 4, 0, 12);
	k->v6 = 0;
	k->len = (uint8_t)(k->len - 96);
}

/* "/N" at the end of s[0..*n): N in 0..max into *len, *n shortened.
 * Returns 0 when there is none, 1 when taken, -1 when malformed. */
static int
take_cidr(const char *s, size_t *n, unsigned max, unsigned *len)
{
	const char *sl = memchr(s, '/', *n);
	if (sl == NULL)
		return 0;
	size_t dl = *n - (size_t)(sl - s) - 1;
	if (dl == 0 || dl > 3)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < dl; i++) {
		if (!is_digit(sl[1 + i]))
			return -1;
		v = v * 10 + (unsigned)(sl[1 + i] - '0');
	}
	if (v > max)
		return -1;
	*len = v;
	*n = (size_t)(sl - s);
	return 1;
}

/* IPv4 in s[0..n): 1 to 4 decimal octets (no leading zeros: "010" would
 * be read as octal by some tools), optional /N.  Without /N the length is
 * 8 bits an octet given (sendmail's "7" is 7/8, "198.51.100" a /24). */
static const char *
parse_v4(const char *s, size_t n, struct ipkey *k)
{
	unsigned len = 0;
	int c = take_cidr(s, &n, 32, &len);
	if (c < 0)
		return "bad prefix length (expected /0 to /32)";
	unsigned oct = 0;
	size_t i = 0;
	while (i < n) {
		if (oct == 4)
			return "more than 4 octets";
		size_t b = i;
		unsigned v = 0;
		while (i < n && is_digit(s[i]) && i - b < 4)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == b || i - b > 3 || v > 255 || (i - b > 1 && s[b] == '0'))
			return "bad octet (expected 0 to 255 without leading zeros)";
		k->a[oct++] = (uint8_t)v;
		if (i < n) {
			if (s[i] != '.' || i + 1 == n)
				return "bad octet (expected 0 to 255 without leading zeros)";
			i++;
		}
	}
	if (oct == 0)
		return "no octets";
	k->v6 = 0;
	k->len = (uint8_t)(c ? len : oct * 8);
	return NULL;
}

/* IPv6 in s[0..n) (after "IPv6:"): with "::" or a dotted tail, a whole
 * address (inet_pton); otherwise 1 to 8 groups of 1 to 4 hex digits, 16
 * bits a group, as sendmail's IPv6:2001:db8:bad; optional /N. */
static const char *
parse_v6(const char *s, size_t n, struct ipkey *k)
{
	unsigned len = 0;
	int c = take_cidr(s, &n, 128, &len);
	if (c < 0)
		return "bad prefix length (expected /0 to /128)";
	k->v6 = 1;
	bool whole = false;
	for (size_t i = 0; i + 1 < n && !whole; i++)
		whole = s[i] == ':' && s[i + 1] == ':';
	if (whole || memchr(s, '.', n) != NULL) {
		char tmp[INET6_ADDRSTRLEN];
		if (n >= sizeof tmp)
			return "bad IPv6 address";
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET6, tmp, k->a) != 1)
			return "bad IPv6 address";
		k->len = (uint8_t)(c ? len : 128);
		return NULL;
	}
	unsigned groups = 0;
	size_t i = 0;
	while (i < n) {
		if (groups == 8)
			return "more than 8 groups";
		size_t b = i;
		unsigned v = 0;
		while (i < n && hexval(s[i]) >= 0 && i - b < 5)
			v = v * 16 + (unsigned)hexval(s[i++]);
		if (i == b || i - b > 4)
			return "bad group (expected 1 to 4 hex digits)";
		k->a[groups * 2] = (uint8_t)(v >> 8);
		k->a[groups * 2 + 1] = (uint8_t)v;
		groups++;
		if (i < n) {
			if (s[i] != ':' || i + 1 == n)
				return "bad group (expected 1 to 4 hex digits)";
			i++;
		}
	}
	if (groups == 0)
		return "no groups";
	k->len = (uint8_t)(c ? len : groups * 16);
	return NULL;
}

/* An address or prefix key: "192.0.2", "IPv6:2001:db8::/32" (the IPv6:
 * prefix required, as in sendmail).  Host bits past the length must be
 * zero: "192.0.2.1/24" is a typo for something, and guessing which is
 * worse than saying so. */
static const char *
parse_ip(const char *s, size_t n, struct ipkey *k)
{
	memset(k->a, 0, sizeof k->a);
	const char *why = starts_ci(s, n, "ipv6:") ? parse_v6(s + 5, n - 5, k) : parse_v4(s, n, k);
	if (why != NULL)
		return why;
	uint8_t masked[16];
	memcpy(masked, k->a, 16);
	mask_bits(masked, 16, k->len);
	if (memcmp(masked, k->a, 16) != 0)
		return "host bits set past the prefix length";
	unmap_v4(k);
	return NULL;
}

static bool
all_v4_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]) && s[i] != '.' && s[i] != '/')
			return false;
	return n > 0 && is_digit(s[0]);
}

/* --- parsing the file ------------------------------------------------------ */

struct pctx {
	struct access_map *m;
	struct afile r;
	bool has_len[2][2][129];
};

static const struct {
	const char *name;
	enum access_action action;
} words[] = {
	{ "OK", ACCESS_OK }, { "RELAY", ACCESS_RELAY }, { "REJECT", ACCESS_REJECT },
	{ "DISCARD", ACCESS_DISCARD }, { "SKIP", ACCESS_SKIP }, { "FRIEND", ACCESS_FRIEND },
	{ "HATER", ACCESS_HATER },
};

/* Sendmail's other tags: files written for sendmail have them, and they
 * mean nothing here.  A line with one is ignored with a warning rather
 * than refusing the whole map. */
static const char *const foreign_tags[] = {
	"GreetPause", "ClientRate", "ClientConn", "TLS_Clt", "TLS_Srv", "TLS_Rcpt",
	"Try_TLS", "Srv_Features", "Clt_Features", "CERTISSUER", "CERTSUBJECT", "QGRP",
	"AuthRealm", "Compat", "MTA-STS", "DANE",
};

/* x.y.z at s[0..n), RFC 3463 2: class 2, 4 or 5, subject and detail of
 * 1 to 3 digits.  Length taken, 0 when there is none. */
static size_t
scan_esc(const char *s, size_t n)
{
	if (n < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	size_t i = 2;
	for (int part = 0; part < 2; part++) {
		size_t b = i;
		while (i < n && is_digit(s[i]) && i - b < 4)
			i++;
		if (i == b || i - b > 3)
			return 0;
		if (part == 0) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i;
}

/* The reply part "nnn [x.y.z] text" (quotes around it allowed, as
 * sendmail documents) into e and text.  esc is what ERROR:x.y.z: gave,
 * or "". */
static bool
parse_reply(struct pctx *p, const char *s, size_t n, const char *esc, struct entry *e,
    char text[ACCESS_TEXT_MAX + 1])
{
	struct afile *r = &p->r;
	if (n >= 1 && s[0] == '"') {
		if (n < 2 || s[n - 1] != '"') {
			afile_err(r, r->line, "unbalanced quote in the reply (expected "
			    "\"nnn text\")");
			return false;
		}
		s++;
		n -= 2;
	}
	if (n < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) ||
	    (n > 3 && !is_blank(s[3]))) {
		afile_err(r, r->line, "%s without a reply code (expected ERROR:nnn text, "
		    "ERROR:x.y.z:nnn text or nnn text)", esc[0] ? "ERROR:x.y.z:" : "ERROR:");
		return false;
	}
	unsigned code = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
	if (s[0] != '4' && s[0] != '5') {
		afile_err(r, r->line, "reply code %u does not refuse (expected 4xx or 5xx)", code);
		return false;
	}
	if (s[1] > '5') {
		afile_err(r, r->line, "reply code %u is not an SMTP code (RFC 5321 4.2: the "
		    "second digit is 0 to 5)", code);
		return false;
	}
	size_t i = 3;
	while (i < n && is_blank(s[i]))
		i++;
	char given[12] = "";
	str_copy(given, sizeof given, esc);
	size_t el = given[0] ? 0 : scan_esc(s + i, n - i);
	if (el > 0 && (i + el == n || is_blank(s[i + el]))) {
		memcpy(given, s + i, el);
		given[el] = '\0';
		i += el;
		while (i < n && is_blank(s[i]))
			i++;
	}
	if (given[0] && given[0] != s[0]) {
		afile_err(r, r->line, "enhanced status code %s does not match reply code %u "
		    "(RFC 3463 3.1: the class must agree)", given, code);
		return false;
	}
	size_t tl = n - i;
	if (tl > ACCESS_TEXT_MAX) {
		afile_err(r, r->line, "reply text is %zu bytes long (expected at most %d)", tl,
		    ACCESS_TEXT_MAX);
		return false;
	}
	/* the line was checked for controls and 8-bit bytes; a tab becomes a
	 * space so the reply is printable ASCII only */
	for (size_t k = 0; k < tl; k++)
		text[k] = s[i + k] == '\t' ? ' ' : s[i + k];
	text[tl] = '\0';
	if (tl == 0)
		str_copy(text, ACCESS_TEXT_MAX + 1, "Access denied");
	e->code = (uint16_t)code;
	if (given[0])
		str_copy(e->esc, sizeof e->esc, given);
	else
		str_copy(e->esc, sizeof e->esc, s[0] == '4' ? "4.7.1" : "5.7.1");
	e->action = ACCESS_ERROR;
	return true;
}

/* The action a[0..n) into e (and text for replies). */
static bool
parse_action(struct pctx *p, const char *a, size_t n, struct entry *e,
    char text[ACCESS_TEXT_MAX + 1])
{
	struct afile *r = &p->r;
	char tok[AFILE_TOKEN_MAX];
	text[0] = '\0';
	for (size_t i = 0; i < NELEM(words); i++) {
		if (word_is(a, n, words[i].name)) {
			e->action = (uint8_t)words[i].action;
			if (e->action == ACCESS_REJECT) {
				e->code = 550;
				str_copy(e->esc, sizeof e->esc, "5.7.1");
				str_copy(text, ACCESS_TEXT_MAX + 1, "Access denied");
			}
			return true;
		}
	}
	if (starts_ci(a, n, "error:")) {
		const char *s = a + 6;
		size_t sn = n - 6;
		char esc[12] = "";
		size_t el = scan_esc(s, sn);
		if (el > 0 && el < sn && s[el] == ':') {
			memcpy(esc, s, el);
			esc[el] = '\0';
			s += el + 1;
			sn -= el + 1;
		}
		return parse_reply(p, s, sn, esc, e, text);
	}
	if (n > 0 && (is_digit(a[0]) || a[0] == '"'))
		return parse_reply(p, a, n, "", e, text);
	log_escape(tok, sizeof tok, a, n);
	if (starts_ci(a, n, "quarantine:"))
		afile_err(r, r->line, "action \"%s\": QUARANTINE is not supported (expected OK, "
		    "RELAY, REJECT, DISCARD, SKIP, ERROR:... or nnn text)", tok);
	else
		afile_err(r, r->line, "unknown action \"%s\" (expected OK, RELAY, REJECT, DISCARD, "
		    "SKIP, ERROR:x.y.z:nnn text, ERROR:nnn text or nnn text)", tok);
	return false;
}

/* Split "Tag:body" (tag part case-insensitive).  *tag is TAG_UNTAGGED or
 * a tag byte; returns false after reporting, or with *ignore set for a
 * sendmail tag we do not use. */
static bool
split_tag(struct pctx *p, const char *key, size_t kn, uint8_t *tag, const char **body,
    size_t *bn, bool *ignore)
{
	struct afile *r = &p->r;
	char tok[AFILE_TOKEN_MAX];
	*tag = TAG_UNTAGGED;
	*body = key;
	*bn = kn;
	*ignore = false;
	/* a literal or an IPv6 key holds colons of its own */
	if (key[0] == '[' || starts_ci(key, kn, "ipv6:"))
		return true;
	const char *colon = memchr(key, ':', kn);
	if (colon == NULL)
		return true;
	size_t tl = (size_t)(colon - key);
	for (int t = ACCESS_CONNECT; t <= ACCESS_SPAM; t++) {
		if (word_is(key, tl, access_tag_name((enum access_tag)t))) {
			*tag = (uint8_t)(t + 1);
			*body = colon + 1;
			*bn = kn - tl - 1;
			if (*bn == 0) {
				afile_err(r, r->line, "no key after the tag %.*s: (expected e.g. "
				    "%.*s:example.com)", (int)tl, key, (int)tl, key);
				return false;
			}
			return true;
		}
	}
	log_escape(tok, sizeof tok, key, tl);
	for (size_t i = 0; i < NELEM(foreign_tags); i++) {
		if (word_is(key, tl, foreign_tags[i])) {
			afile_warn(r, r->line, "tag %s: is sendmail's and not used by Talon; "
			    "line ignored", tok);
			*ignore = true;
			return false;
		}
	}
	afile_err(r, r->line, "unknown tag \"%s:\" (expected Connect:, From:, To: or Spam:; "
	    "IPv6 keys start with IPv6:)", tok);
	return false;
}

/* A key's domain part: a host name (RFC 5321 4.1.2), one final dot
 * allowed and dropped. */
static bool
key_domain_ok(const char *s, size_t n)
{
	if (n > 1 && s[n - 1] == '.')
		n--;
	return domain_valid(s, n, 0);
}

/* A local part as sendmail keys hold it: printable, no blank, no '@'
 * (the line was checked for controls and 8-bit bytes already). */
static bool
key_local_ok(const char *s, size_t n)
{
	if (n == 0 || n > LOCAL_MAX)
		return false;
	return memchr(s, '@', n) == NULL;
}

static void
add_dup_warning(struct pctx *p, const struct entry *first, const char *key, size_t kn)
{
	char tok[AFILE_TOKEN_MAX];
	log_escape(tok, sizeof tok, key, kn);
	afile_warn(&p->r, p->r.line, "duplicate key \"%s\" (first at line %u, which wins)", tok,
	    first->line);
}

/* Store an address/literal entry. */
static void
add_ip(struct pctx *p, struct ipkey *k, const char *key, size_t kn)
{
	struct access_map *m = p->m;
	uint32_t *v = htab_get(&m->ip, k);
	if (v != NULL) {
		add_dup_warning(p, &m->ents[*v], key, kn);
		return;
	}
	v = htab_put(&m->ip, k);
	*v = (uint32_t)m->n;
	p->has_len[k->kind][k->v6][k->len] = true;
	m->n++;
}

/* Store a string entry under norm (tag byte + lowercased key). */
static void
add_str(struct pctx *p, struct entry *e, const char *norm, size_t nl, const char *key,
    size_t kn)
{
	struct access_map *m = p->m;
	const struct entry *old = str_find(m, norm, nl);
	if (old != NULL) {
		add_dup_warning(p, old, key, kn);
		return;
	}
	str_grow(m);
	e->norm = pool_add(m, norm, nl);
	e->norm_len = (uint16_t)nl;
	str_insert_slot(m, (uint32_t)(m->n + 1), str_hash(m, norm, nl));
	m->n_strs++;
	m->n++;
}

/* Warn about keys that the tag's lookups never reach (sendmail would take
 * them silently and never match). */
static void
warn_unreachable(struct pctx *p, uint8_t tag, bool is_addr_key, bool is_user_key)
{
	if (tag == ACCESS_CONNECT + 1 && is_user_key)
		afile_warn(&p->r, p->r.line, "Connect: is looked up with host names and "
		    "addresses; a key with @ never matches");
	if ((tag == ACCESS_FROM + 1 || tag == ACCESS_TO + 1 || tag == ACCESS_SPAM + 1) &&
	    is_addr_key)
		afile_warn(&p->r, p->r.line, "%s: is looked up with addresses and domains; an IP "
		    "key never matches (write [192.0.2.1] for an address literal)",
		    access_tag_name((enum access_tag)(tag - 1)));
}

/* Classify the key body and store the entry (or report why not). */
static void
add_entry(struct pctx *p, struct entry *e, uint8_t tag, const char *body, size_t bn,
    const char *key, size_t kn)
{
	struct afile *r = &p->r;
	char tok[AFILE_TOKEN_MAX];
	log_escape(tok, sizeof tok, key, kn);
	struct ipkey k;
	memset(&k, 0, sizeof k);
	k.tag = tag;
	if (body[0] == '[' || starts_ci(body, bn, "ipv6:") || all_v4_chars(body, bn)) {
		bool lit = body[0] == '[';
		if (lit && (bn < 3 || body[bn - 1] != ']')) {
			afile_err(r, r->line, "bad address literal \"%s\" (expected e.g. "
			    "[192.0.2.1] or [IPv6:2001:db8::1])", tok);
			return;
		}
		const char *why = lit ? parse_ip(body + 1, bn - 2, &k) : parse_ip(body, bn, &k);
		if (why != NULL) {
			afile_err(r, r->line, "bad IP address or prefix \"%s\": %s (expected e.g. "
			    "192.0.2.1, 198.51.100, 192.0.2.0/25, IPv6:2001:db8::1, "
			    "IPv6:2001:db8:bad)", tok, why);
			return;
		}
		if (!lit)
			warn_unreachable(p, tag, true, false);
		k.kind = lit ? KIND_LIT : KIND_ADDR;
		add_ip(p, &k, key, kn);
		return;
	}

	char norm[NORM_MAX];
	const char *at = memchr(body, '@', bn);
	if (at != NULL) {
		size_t ll = (size_t)(at - body), dl = bn - ll - 1;
		if (!key_local_ok(body, ll) || (dl > 0 && !(body[ll + 1] == '[' ?
		    body[bn - 1] == ']' && memchr(at + 1, '@', dl) == NULL :
		    key_domain_ok(at + 1, dl)))) {
			afile_err(r, r->line, "bad address key \"%s\" (expected user@domain or "
			    "user@, the local part at most %d bytes)", tok, LOCAL_MAX);
			return;
		}
		/* sendmail's D, A and SKIP handling only: on an address SKIP
		 * would be read as an error text */
		if (e->action == ACCESS_SKIP) {
			afile_err(r, r->line, "SKIP applies to host names, domains and IP "
			    "addresses only, not to \"%s\"", tok);
			return;
		}
		if (dl > 1 && body[bn - 1] == '.')
			bn--;
		warn_unreachable(p, tag, false, true);
	} else if (!(body[0] == '.' ? bn > 1 && key_domain_ok(body + 1, bn - 1) :
	    key_domain_ok(body, bn))) {
		afile_err(r, r->line, "bad key \"%s\" (expected a host or domain name, .domain, "
		    "user@domain, user@, or an IP address or prefix)", tok);
		return;
	} else if (bn > 1 && body[bn - 1] == '.') {
		bn--;
	}
	norm[0] = (char)tag;
	for (size_t i = 0; i < bn; i++)
		norm[1 + i] = (char)ascii_lower((unsigned char)body[i]);
	add_str(p, e, norm, bn + 1, key, kn);
}

static bool
check_ascii(struct pctx *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80) {
			afile_err(&p->r, p->r.line, "non-ASCII byte 0x%02x at column %zu (expected "
			    "ASCII: keys are A-labels, replies printable ASCII)",
			    (unsigned char)s[i], i + 1);
			return false;
		}
	}
	return true;
}

static void
parse_line(struct pctx *p, const char *s, size_t n)
{
	struct afile *r = &p->r;
	struct access_map *m = p->m;
	size_t i = 0;
	while (i < n && is_blank(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return;
	if (!afile_check_controls(r, s, n) || !check_ascii(p, s, n))
		return;
	const char *key = s + i;
	while (i < n && !is_blank(s[i]))
		i++;
	size_t kn = (size_t)(s + i - key);
	while (i < n && is_blank(s[i]))
		i++;
	size_t an = n - i;
	while (an > 0 && is_blank(s[i + an - 1]))
		an--;
	char tok[AFILE_TOKEN_MAX];
	log_escape(tok, sizeof tok, key, kn);
	if (kn > ACCESS_KEY_MAX) {
		afile_err(r, r->line, "key is %zu bytes long (expected at most %d)", kn,
		    ACCESS_KEY_MAX);
		return;
	}
	if (an == 0) {
		afile_err(r, r->line, "key \"%s\" has no action (expected e.g. \"%s REJECT\")", tok,
		    tok);
		return;
	}
	uint8_t tag;
	const char *body;
	size_t bn;
	bool ignore;
	if (!split_tag(p, key, kn, &tag, &body, &bn, &ignore))
		return;
	if (m->n >= ACCESS_ENTRIES_MAX) {
		afile_err(r, r->line, "more than %d entries", ACCESS_ENTRIES_MAX);
		return;
	}
	char text[ACCESS_TEXT_MAX + 1];
	struct entry *e = entry_new(m);
	if (!parse_action(p, s + i, an, e, text))
		return;
	bool spam_word = e->action == ACCESS_FRIEND || e->action == ACCESS_HATER;
	if (tag == ACCESS_SPAM + 1 && !spam_word) {
		afile_err(r, r->line, "Spam: takes FRIEND or HATER only, not \"%.*s\"",
		    (int)(an > 40 ? 40 : an), s + i);
		return;
	}
	if (tag != ACCESS_SPAM + 1 && spam_word) {
		afile_err(r, r->line, "%s is for Spam: keys only (expected Spam:%s)",
		    e->action == ACCESS_FRIEND ? "FRIEND" : "HATER", tok);
		return;
	}
	e->line = r->line;
	size_t before = m->n;
	/* the key and text go to the pool only when the entry is kept; a
	 * duplicate or a bad key leaves m->n as it was */
	e->key = NOPOOL;
	add_entry(p, e, tag, body, bn, key, kn);
	if (m->n != before) {
		e->key = pool_add(m, key, kn);
		if (text[0])
			e->text = pool_add(m, text, strlen(text));
	}
}

/* The prefix lengths each kind and family uses, longest first. */
static void
build_lens(struct pctx *p)
{
	for (int kind = 0; kind < 2; kind++)
		for (int v6 = 0; v6 < 2; v6++) {
			uint8_t n = 0;
			for (int len = 128; len >= 0; len--)
				if (p->has_len[kind][v6][len])
					p->m->lens[kind][v6][n++] = (uint8_t)len;
			p->m->n_lens[kind][v6] = n;
		}
}

struct access_map *
access_parse(const char *text, size_t len, const char *file, struct diag *d)
{
	struct pctx p;
	memset(&p, 0, sizeof p);
	struct access_map *m = xcalloc(1, sizeof *m);
	p.m = m;
	m->file = xstrdup(file);
	htab_init(&m->ip, sizeof(struct ipkey), sizeof(uint32_t));
	if (getrandom(&m->seed, sizeof m->seed, 0) != sizeof m->seed)
		m->seed = now_ms() * 0x9e3779b97f4a7c15ull;
	unsigned errs = d->n_err;
	afile_init(&p.r, text, len, file, ACCESS_LINE_MAX, d);
	const char *s;
	size_t n;
	while (afile_next(&p.r, &s, &n))
		parse_line(&p, s, n);
	build_lens(&p);
	if (d->n_err != errs)
		access_free(&m);
	return m;
}

struct access_map *
access_load(const char *file, struct diag *d)
{
	char *text;
	size_t len;
	if (afile_read(file, ACCESS_FILE_MAX, "an access map", &text, &len, d) < 0)
		return NULL;
	struct access_map *m = access_parse(text, len, file, d);
	afile_text_free(&text, len);
	return m;
}

void
access_free(struct access_map **mp)
{
	struct access_map *m = *mp;
	if (m == NULL)
		return;
	free(m->file);
	free(m->ents);
	free(m->pool);
	free(m->slots);
	free(m->hashes);
	htab_free(&m->ip);
	free(m);
	*mp = NULL;
}

size_t
access_count(const struct access_map *m)
{
	return m ? m->n : 0;
}

/* --- lookups ------------------------------------------------------------- */

/* One lookup: the tag, whether untagged keys count, and the SKIP met
 * on the way (reported when nothing else matches). */
struct lk {
	const struct access_map *m;
	uint8_t tag;
	bool tag_only;
	const struct entry *skipped;
};

static const struct entry *
probe_str(const struct lk *k, uint8_t tag, const char *s, size_t n)
{
	char norm[NORM_MAX];
	if (n + 1 > sizeof norm)
		return NULL;
	norm[0] = (char)tag;
	memcpy(norm + 1, s, n);
	return str_find(k->m, norm, n + 1);
}

/* Tagged first, then untagged (sendmail's "+" mark); a SKIP is noted and
 * ends the walk the caller is in. */
static const struct entry *
pair_str(struct lk *k, const char *s, size_t n, bool *stop)
{
	const struct entry *e = probe_str(k, k->tag, s, n);
	if (e == NULL && !k->tag_only)
		e = probe_str(k, TAG_UNTAGGED, s, n);
	if (e != NULL && e->action == ACCESS_SKIP) {
		k->skipped = e;
		*stop = true;
		return NULL;
	}
	return e;
}

static const struct entry *
probe_ip(const struct lk *k, struct ipkey *q)
{
	const uint32_t *v = htab_get(&k->m->ip, q);
	return v ? &k->m->ents[*v] : NULL;
}

/* Every prefix length of this kind and family in the map, longest first;
 * at each, the tagged key and then the untagged one (sendmail A). */
static const struct entry *
walk_ip(struct lk *k, int kind, const struct ipkey *addr)
{
	const struct access_map *m = k->m;
	struct ipkey q;
	for (unsigned i = 0; i < m->n_lens[kind][addr->v6]; i++) {
		memset(&q, 0, sizeof q);
		q.kind = (uint8_t)kind;
		q.v6 = addr->v6;
		q.len = m->lens[kind][addr->v6][i];
		memcpy(q.a, addr->a, addr->v6 ? 16 : 4);
		mask_bits(q.a, 16, q.len);
		q.tag = k->tag;
		const struct entry *e = probe_ip(k, &q);
		if (e == NULL && !k->tag_only) {
			q.tag = TAG_UNTAGGED;
			e = probe_ip(k, &q);
		}
		if (e != NULL && e->action == ACCESS_SKIP) {
			k->skipped = e;
			return NULL;
		}
		if (e != NULL)
			return e;
	}
	return NULL;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]" into k; false when it is not an
 * address literal of either form (RFC 5321 4.1.3). */
static bool
literal_addr(const char *s, size_t n, struct ipkey *k)
{
	memset(k, 0, sizeof *k);
	if (n < 3 || s[0] != '[' || s[n - 1] != ']')
		return false;
	char tmp[INET6_ADDRSTRLEN + 8];
	size_t il = n - 2;
	if (il >= sizeof tmp)
		return false;
	memcpy(tmp, s + 1, il);
	tmp[il] = '\0';
	if (inet_pton(AF_INET, tmp, k->a) == 1) {
		k->len = 32;
		return true;
	}
	if (il > 5 && ascii_memcaseeq(tmp, "ipv6:", 5) && inet_pton(AF_INET6, tmp + 5, k->a) == 1) {
		k->v6 = 1;
		k->len = 128;
		unmap_v4(k);
		return true;
	}
	return false;
}

/* sendmail D with lookupdotdomain: a.b.c, .b.c, b.c, .c, c.  A literal
 * walks its address prefixes instead.  name is lowercased already. */
static const struct entry *
walk_domain(struct lk *k, const char *name)
{
	size_t n = strlen(name);
	if (n > 0 && name[0] == '[') {
		struct ipkey a;
		return literal_addr(name, n, &a) ? walk_ip(k, KIND_LIT, &a) : NULL;
	}
	bool stop = false;
	const char *p = name;
	for (unsigned i = 0; i < LABELS_MAX && *p != '\0' && *p != '.'; i++) {
		const struct entry *e = pair_str(k, p, strlen(p), &stop);
		if (e != NULL || stop)
			return e;
		const char *dot = strchr(p, '.');
		if (dot == NULL)
			break;
		e = pair_str(k, dot, strlen(dot), &stop);
		if (e != NULL || stop)
			return e;
		p = dot + 1;
	}
	return NULL;
}

/* sendmail F (dom != NULL) and U (dom == NULL): local@dom, then for
 * local = user+detail: user+*@dom and user@dom. */
static const struct entry *
walk_user(struct lk *k, const char *local, const char *dom)
{
	char key[NORM_MAX];
	bool stop = false;
	const char *d = dom ? dom : "";
	int n = snprintf(key, sizeof key, "%s@%s", local, d);
	if (n < 0 || (size_t)n >= sizeof key)
		return NULL;
	const struct entry *e = pair_str(k, key, (size_t)n, &stop);
	const char *plus = strchr(local, '+');
	if (e != NULL || stop || plus == NULL || plus == local)
		return e;
	int ul = (int)(plus - local);
	n = snprintf(key, sizeof key, "%.*s+*@%s", ul, local, d);
	if (n > 0 && (size_t)n < sizeof key)
		e = pair_str(k, key, (size_t)n, &stop);
	if (e != NULL || stop)
		return e;
	n = snprintf(key, sizeof key, "%.*s@%s", ul, local, d);
	if (n > 0 && (size_t)n < sizeof key)
		e = pair_str(k, key, (size_t)n, &stop);
	return e;
}

/* An envelope address split, lowercased, bounded: parts longer than any
 * key could be are left out of the lookups they cannot match. */
struct parts {
	char local[LOCAL_MAX + 1];
	char domain[DOMAIN_MAX + 1];
	bool has_local, has_domain;
};

static void
split_addr(const char *addr, struct parts *pt)
{
	memset(pt, 0, sizeof *pt);
	size_t n = strlen(addr);
	if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>') {
		addr++;
		n -= 2;
	}
	const char *at = NULL;
	for (size_t i = 0; i < n; i++)
		if (addr[i] == '@')
			at = addr + i;
	size_t ll = at ? (size_t)(at - addr) : n;
	if (ll > 0 && ll <= LOCAL_MAX) {
		for (size_t i = 0; i < ll; i++)
			pt->local[i] = (char)ascii_lower((unsigned char)addr[i]);
		pt->has_local = true;
	}
	if (at != NULL) {
		size_t dl = n - ll - 1;
		/* sendmail strips trailing dots before its lookups */
		if (dl > 1 && at[dl] == '.')
			dl--;
		if (dl > 0 && dl <= DOMAIN_MAX) {
			for (size_t i = 0; i < dl; i++)
				pt->domain[i] = (char)ascii_lower((unsigned char)at[1 + i]);
			pt->has_domain = true;
		}
	}
}

static void
result_clear(struct access_result *r)
{
	memset(r, 0, sizeof *r);
	r->action = r->written = ACCESS_NONE;
}

/* Fill r from e, or from the SKIP met on the way; false for no entry. */
static bool
finish(const struct lk *k, const struct entry *e, struct access_result *r)
{
	result_clear(r);
	if (e == NULL)
		e = k->skipped;
	if (e == NULL)
		return false;
	const struct access_map *m = k->m;
	r->action = r->written = (enum access_action)e->action;
	r->code = e->code;
	str_copy(r->esc, sizeof r->esc, e->esc);
	str_copy(r->text, sizeof r->text, pool_str(m, e->text));
	r->file = m->file;
	r->line = e->line;
	str_copy(r->key, sizeof r->key, pool_str(m, e->key));
	return true;
}

static void
lk_init(struct lk *k, const struct access_map *m, enum access_tag tag)
{
	k->m = m;
	k->tag = (uint8_t)(tag + 1);
	k->tag_only = tag == ACCESS_SPAM;	/* sendmail SearchList <! Spam> */
	k->skipped = NULL;
}

static bool
sockaddr_key(const struct sockaddr *sa, struct ipkey *a)
{
	memset(a, 0, sizeof *a);
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		memcpy(a->a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		a->len = 32;
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(a->a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		a->v6 = 1;
		a->len = 128;
		unmap_v4(a);
		return true;
	}
	return false;
}

/* Lowercased host name without its final dot into dst; false when it
 * cannot be a name (empty, too long). */
static bool
norm_host(char dst[DOMAIN_MAX + 1], const char *host)
{
	size_t n = host ? strlen(host) : 0;
	if (n > 1 && host[n - 1] == '.')
		n--;
	if (n == 0 || n > DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)ascii_lower((unsigned char)host[i]);
	dst[n] = '\0';
	return true;
}

/* sendmail Basic_check_relay: the client's name (D) or, without one, the
 * literal [address] (D on ${client_name}), then the address (A). */
static bool
connect_lookup(const struct access_map *m, const struct ipkey *a, const char *host,
    struct access_result *r)
{
	struct lk k;
	lk_init(&k, m, ACCESS_CONNECT);
	const struct entry *e = NULL;
	char name[DOMAIN_MAX + 1];
	if (m == NULL)
		return (result_clear(r), false);
	if (host != NULL && norm_host(name, host))
		e = walk_domain(&k, name);
	else if (a != NULL)
		e = walk_ip(&k, KIND_LIT, a);
	if (e == NULL && a != NULL)
		e = walk_ip(&k, KIND_ADDR, a);
	return finish(&k, e, r);
}

bool
access_connect(const struct access_map *m, const struct sockaddr *sa, const char *host,
    struct access_result *r)
{
	struct ipkey a;
	bool have = sockaddr_key(sa, &a);
	if (!have && host == NULL)
		return (result_clear(r), false);
	return connect_lookup(m, have ? &a : NULL, host, r);
}

bool
access_from(const struct access_map *m, const char *addr, struct access_result *r)
{
	struct lk k;
	struct parts pt;
	result_clear(r);
	if (m == NULL || addr == NULL || addr[0] == '\0' || strcmp(addr, "<>") == 0)
		return false;
	lk_init(&k, m, ACCESS_FROM);
	split_addr(addr, &pt);
	const struct entry *e = NULL;
	/* sendmail check_mail: <F:user@dom> <U:user@> <D:dom> */
	if (pt.has_local && pt.has_domain)
		e = walk_user(&k, pt.local, pt.domain);
	if (e == NULL && pt.has_local)
		e = walk_user(&k, pt.local, NULL);
	if (e == NULL && pt.has_domain)
		e = walk_domain(&k, pt.domain);
	bool found = finish(&k, e, r);
	/* {Accept} is OK and RELAY alike for a sender; without
	 * relay_mail_from, RELAY grants nothing more */
	if (found && r->action == ACCESS_RELAY)
		r->action = ACCESS_OK;
	return found;
}

bool
access_rcpt(const struct access_map *m, const char *addr, bool domain_is_local,
    struct access_result *r)
{
	struct lk k;
	struct parts pt;
	result_clear(r);
	if (m == NULL || addr == NULL || addr[0] == '\0')
		return false;
	lk_init(&k, m, ACCESS_TO);
	split_addr(addr, &pt);
	const struct entry *e = NULL;
	/* sendmail Rcpt_ok (blacklist_recipients): <F:user@dom> [<U:user@>
	 * when dom is ours] <D:dom>; no domain: <U:user@> */
	if (pt.has_local && pt.has_domain)
		e = walk_user(&k, pt.local, pt.domain);
	if (e == NULL && pt.has_local && (domain_is_local || !pt.has_domain))
		e = walk_user(&k, pt.local, NULL);
	if (e == NULL && pt.has_domain)
		e = walk_domain(&k, pt.domain);
	else if (e != NULL && e->action == ACCESS_OK && pt.has_domain) {
		/* sendmail takes OK from the recipient checks as "no match"
		 * and asks the domain (D, To:) again for RELAY: keep that, so
		 * To:user@dom OK does not hide To:dom RELAY */
		struct lk k2;
		lk_init(&k2, m, ACCESS_TO);
		const struct entry *d = walk_domain(&k2, pt.domain);
		if (d != NULL && d->action == ACCESS_RELAY)
			e = d;
	}
	return finish(&k, e, r);
}

bool
access_to(const struct access_map *m, const char *addr, struct access_result *r)
{
	return access_rcpt(m, addr, true, r);
}

bool
access_spam_rcpt(const struct access_map *m, const char *addr, bool domain_is_local,
    struct access_result *r)
{
	struct lk k;
	struct parts pt;
	result_clear(r);
	if (m == NULL || addr == NULL || addr[0] == '\0')
		return false;
	lk_init(&k, m, ACCESS_SPAM);
	split_addr(addr, &pt);
	const struct entry *e = NULL;
	/* sendmail check_rcpt with delay_checks: <F:user@dom> <D:dom>
	 * [<U:user@> when dom is ours], Spam: tag only */
	if (pt.has_local && pt.has_domain)
		e = walk_user(&k, pt.local, pt.domain);
	if (e == NULL && pt.has_domain)
		e = walk_domain(&k, pt.domain);
	if (e == NULL && pt.has_local && (domain_is_local || !pt.has_domain))
		e = walk_user(&k, pt.local, NULL);
	return finish(&k, e, r);
}

bool
access_spam(const struct access_map *m, const char *addr, struct access_result *r)
{
	return access_spam_rcpt(m, addr, true, r);
}

/* An IP address as an admin types it: 192.0.2.1, 2001:db8::1,
 * IPv6:2001:db8::1, or either in brackets. */
static bool
test_ip(const char *key, struct ipkey *a)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	size_t n = strlen(key);
	if (n >= 2 && key[0] == '[' && key[n - 1] == ']') {
		key++;
		n -= 2;
	}
	if (n >= 5 && ascii_memcaseeq(key, "ipv6:", 5)) {
		key += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, key, n);
	tmp[n] = '\0';
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, tmp, a->a) == 1) {
		a->len = 32;
		return true;
	}
	if (inet_pton(AF_INET6, tmp, a->a) == 1) {
		a->v6 = 1;
		a->len = 128;
		unmap_v4(a);
		return true;
	}
	return false;
}

bool
access_test(const struct access_map *m, enum access_tag tag, const char *key,
    struct access_result *r)
{
	struct ipkey a;
	switch (tag) {
	case ACCESS_CONNECT:
		/* an address: a client without a verified name; a name: its
		 * name walk only, as the address is not known here */
		if (test_ip(key, &a))
			return connect_lookup(m, &a, NULL, r);
		return connect_lookup(m, NULL, key, r);
	case ACCESS_FROM:
		return access_from(m, key, r);
	case ACCESS_TO:
		return access_to(m, key, r);
	case ACCESS_SPAM:
		return access_spam(m, key, r);
	}
	result_clear(r);
	return false;
}

const char *
access_action_name(enum access_action a)
{
	switch (a) {
	case ACCESS_NONE: return "NONE";
	case ACCESS_OK: return "OK";
	case ACCESS_RELAY: return "RELAY";
	case ACCESS_REJECT: return "REJECT";
	case ACCESS_DISCARD: return "DISCARD";
	case ACCESS_SKIP: return "SKIP";
	case ACCESS_ERROR: return "ERROR";
	case ACCESS_FRIEND: return "FRIEND";
	case ACCESS_HATER: return "HATER";
	}
	return "?";
}

const char *
access_tag_name(enum access_tag t)
{
	static const char *const names[] = { "Connect", "From", "To", "Spam" };
	return (unsigned)t < NELEM(names) ? names[t] : "?";
}

bool
access_tag_parse(const char *s, enum access_tag *t)
{
	for (int i = ACCESS_CONNECT; i <= ACCESS_SPAM; i++) {
		if (ascii_strcaseeq(s, access_tag_name((enum access_tag)i))) {
			*t = (enum access_tag)i;
			return true;
		}
	}
	return false;
}

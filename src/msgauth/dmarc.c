/*
 * msgauth/dmarc.c - DMARC records, discovery, alignment and evaluation
 * (RFC 7489; interface and decisions in msgauth/dmarc.h).
 *
 * Input:   TXT data from _dmarc.<domain> answers (any bytes, NUL too),
 *          domains from From: fields, DKIM d= and SPF identities.
 * Output:  struct dmarc_record, struct dmarc_outcome, fixed-size strings.
 * Trusts:  nothing.  Runs in: policy, smtp worker, CLI.  Pure: no I/O,
 *          no DNS; libpsl's built-in list is the only outside data.
 * Not here: From: parsing (msgauth/from.c), reports (rua/ruf are only
 *          kept), DMARCbis tags (np, psd, t: ignored as unknown), the
 *          tree walk of DMARCbis (we use the public suffix list of 7489).
 */
#include "msgauth/dmarc.h"

#include <libpsl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "mail/domain.h"

#define DMARC_DEF_RI	86400u

static void
say(char *dst, size_t dstlen, const char *msg)
{
	if (dst != NULL && dstlen > 0)
		snprintf(dst, dstlen, "%s", msg);
}

static bool
is_wsp(unsigned char c)
{
	/* TXT data may carry the CR LF of a folded zone-file string */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* (p, n) is the word w, ASCII case ignored */
static bool
word_is(const char *p, size_t n, const char *w)
{
	return n == strlen(w) && ascii_memcaseeq(p, w, n);
}

/* --- the record (RFC 7489 6.3, 6.4) ------------------------------------- */

bool
dmarc_record_is_dmarc(const char *txt, size_t len)
{
	const unsigned char *s = (const unsigned char *)txt;
	size_t i = 1;

	/* 6.6.3: records that do not start with v=DMARC1 are discarded; the
	 * ABNF (6.4) allows WSP around "=" and spells DMARC1 with %x, so in
	 * capitals exactly, while the tag name "v" is case-insensitive. */
	if (len == 0 || (s[0] != 'v' && s[0] != 'V'))
		return false;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] != '=')
		return false;
	for (i++; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (len - i < 6 || memcmp(s + i, "DMARC1", 6) != 0)
		return false;
	for (i += 6; i < len && is_wsp(s[i]); i++)
		;
	return i == len || s[i] == ';';
}

static bool
parse_policy(const char *v, size_t n, enum dmarc_policy *out)
{
	if (word_is(v, n, "none"))
		*out = DMARC_P_NONE;
	else if (word_is(v, n, "quarantine"))
		*out = DMARC_P_QUARANTINE;
	else if (word_is(v, n, "reject"))
		*out = DMARC_P_REJECT;
	else
		return false;
	return true;
}

/* decimal digits only, value <= max */
static bool
parse_num(const char *v, size_t n, unsigned long max, unsigned *out)
{
	unsigned long x = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)v[i]))
			return false;
		x = x * 10 + (unsigned long)(v[i] - '0');
		if (x > max)
			return false;
	}
	*out = (unsigned)x;
	return true;
}

/* fo = item *(*WSP ":" *WSP item), item one of 0 1 d s; written to out
 * lowercase without the spaces.  false (out untouched) when bad or too
 * long for out. */
static bool
parse_fo(const char *v, size_t n, char *out, size_t outlen)
{
	char tmp[32];
	size_t o = 0, i = 0;

	for (;;) {
		while (i < n && is_wsp((unsigned char)v[i]))
			i++;
		if (i == n)
			return false;
		int c = ascii_lower((unsigned char)v[i++]);
		if (c != '0' && c != '1' && c != 'd' && c != 's')
			return false;
		if (o + 2 > sizeof tmp)
			return false;
		tmp[o++] = (char)c;
		while (i < n && is_wsp((unsigned char)v[i]))
			i++;
		if (i == n)
			break;
		if (v[i++] != ':')
			return false;
		tmp[o++] = ':';
	}
	tmp[o] = '\0';
	return str_copy(out, outlen, tmp);
}

/* One dmarc-uri (6.4): URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ].
 * Only the shape is checked: a scheme, ':', printable bytes; a mailto:
 * needs an address.  Commas and '!' inside the URI must be %-encoded. */
static bool
uri_valid(const char *v, size_t n)
{
	const char *bang = memchr(v, '!', n);
	size_t ul = bang ? (size_t)(bang - v) : n, i = 1;

	if (bang != NULL) {
		size_t k = ul + 1, d = 0;
		while (k + d < n && is_digit((unsigned char)v[k + d]))
			d++;
		if (d == 0 || (k + d < n && (k + d + 1 != n ||
		    strchr("kmgtKMGT", v[k + d]) == NULL)))
			return false;
	}
	if (ul == 0 || !is_alpha((unsigned char)v[0]))
		return false;
	while (i < ul && (is_alpha((unsigned char)v[i]) || is_digit((unsigned char)v[i]) ||
	    v[i] == '+' || v[i] == '-' || v[i] == '.'))
		i++;
	if (i == ul || v[i] != ':' || i + 1 == ul)
		return false;
	for (size_t k = i + 1; k < ul; k++)
		if ((unsigned char)v[k] < 0x21 || (unsigned char)v[k] > 0x7e || v[k] == ',' ||
		    v[k] == ';')
			return false;
	if (word_is(v, i, "mailto")) {
		const char *at = memchr(v + i + 1, '@', ul - i - 1);
		return at != NULL && at > v + i + 1 && at < v + ul - 1;
	}
	return true;
}

/* at least one valid URI in a comma-separated list (6.6.3 rule) */
static bool
uri_list_has_valid(const char *v, size_t n)
{
	size_t i = 0;

	while (i <= n) {
		size_t b = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (b < e && is_wsp((unsigned char)v[b]))
			b++;
		while (e > b && is_wsp((unsigned char)v[e - 1]))
			e--;
		if (uri_valid(v + b, e - b))
			return true;
		i++;
	}
	return false;
}

/* Keep a URI list as written.  One too long for out is cut after the
 * last whole URI that fits, so a report never goes to half an address. */
static void
keep_uris(const char *v, size_t n, char *out, size_t outlen)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return;		/* control or 8-bit: not a URI list */
	while (n >= outlen) {
		const char *comma = NULL;
		for (size_t i = 0; i < n && i < outlen; i++)
			if (v[i] == ',')
				comma = v + i;
		if (comma == NULL)
			return;
		n = (size_t)(comma - v);
		while (n > 0 && is_wsp((unsigned char)v[n - 1]))
			n--;
	}
	memcpy(out, v, n);
	out[n] = '\0';
}

enum tagst { TAG_ABSENT = 0, TAG_OK, TAG_BAD };

struct recparse {
	struct dmarc_record *r;
	enum tagst p, sp;
	unsigned seen;		/* bit per tag index: the first copy wins */
	bool rua_valid;
};

enum { T_P, T_SP, T_ADKIM, T_ASPF, T_PCT, T_FO, T_RUA, T_RUF, T_RI, T_N };
static const char *const TAG_NAMES[T_N] = {
	"p", "sp", "adkim", "aspf", "pct", "fo", "rua", "ruf", "ri",
};

/* Alignment mode r or s, or keep the default. */
static void
set_mode(char *dst, const char *v, size_t n)
{
	if (word_is(v, n, "r"))
		*dst = 'r';
	else if (word_is(v, n, "s"))
		*dst = 's';
}

/* Apply one known tag (index t) with a trimmed value. */
static void
apply_tag(struct recparse *rp, int t, const char *v, size_t n)
{
	struct dmarc_record *r = rp->r;
	bool printable = true;

	for (size_t i = 0; i < n; i++)
		if (!is_wsp((unsigned char)v[i]) &&
		    ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e))
			printable = false;
	if (rp->seen & (1u << t)) {
		/* a second p= or sp= leaves the policy in doubt */
		if (t == T_P)
			rp->p = TAG_BAD;
		if (t == T_SP)
			rp->sp = TAG_BAD;
		return;
	}
	rp->seen |= 1u << t;
	switch (t) {
	case T_P:
		rp->p = printable && parse_policy(v, n, &r->p) ? TAG_OK : TAG_BAD;
		break;
	case T_SP:
		rp->sp = printable && parse_policy(v, n, &r->sp) ? TAG_OK : TAG_BAD;
		break;
	case T_ADKIM:
		set_mode(&r->adkim, v, n);
		break;
	case T_ASPF:
		set_mode(&r->aspf, v, n);
		break;
	case T_PCT:
		if (!parse_num(v, n, 100, &r->pct))
			r->pct = 100;
		break;
	case T_FO:
		if (printable)
			parse_fo(v, n, r->fo, sizeof r->fo);
		break;
	case T_RUA:
		keep_uris(v, n, r->rua, sizeof r->rua);
		rp->rua_valid = printable && uri_list_has_valid(v, n);
		break;
	case T_RUF:
		keep_uris(v, n, r->ruf, sizeof r->ruf);
		break;
	case T_RI:
		if (!parse_num(v, n, UINT32_MAX, &r->ri))
			r->ri = DMARC_DEF_RI;
		break;
	}
}

/* One piece between semicolons: name *WSP "=" *WSP value.  Pieces that
 * are not of that shape, and unknown names, are ignored (6.3). */
static void
parse_piece(struct recparse *rp, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_wsp((unsigned char)s[i]))
		i++;
	size_t nb = i;
	if (i == n || !is_alpha((unsigned char)s[i]))
		return;
	while (i < n && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
	    s[i] == '_'))
		i++;
	size_t ne = i;
	while (i < n && is_wsp((unsigned char)s[i]))
		i++;
	if (i == n || s[i] != '=')
		return;
	for (i++; i < n && is_wsp((unsigned char)s[i]); i++)
		;
	size_t vb = i, ve = n;
	while (ve > vb && is_wsp((unsigned char)s[ve - 1]))
		ve--;
	for (int t = 0; t < T_N; t++)
		if (word_is(s + nb, ne - nb, TAG_NAMES[t]))
			apply_tag(rp, t, s + vb, ve - vb);
}

static void
record_defaults(struct dmarc_record *r)
{
	memset(r, 0, sizeof *r);
	r->adkim = 'r';
	r->aspf = 'r';
	r->pct = 100;
	r->ri = DMARC_DEF_RI;
	snprintf(r->fo, sizeof r->fo, "0");
}

int
dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *out, char *err,
    size_t errlen)
{
	struct recparse rp = { .r = out };

	record_defaults(out);
	say(err, errlen, "");
	if (!dmarc_record_is_dmarc(txt, len)) {
		say(err, errlen, "does not start with v=DMARC1");
		return -1;
	}
	/* the version tag is checked; the other tags follow its ';' */
	const char *semi = memchr(txt, ';', len);
	size_t i = semi ? (size_t)(semi - txt) + 1 : len;
	while (i < len) {
		const char *next = memchr(txt + i, ';', len - i);
		size_t e = next ? (size_t)(next - txt) : len;
		parse_piece(&rp, txt + i, e - i);
		i = e + 1;
	}
	if (rp.p == TAG_OK && rp.sp != TAG_BAD) {
		if (rp.sp == TAG_ABSENT)
			out->sp = out->p;
		return 0;
	}
	/* 6.6.3 step 6: no valid p, or a bad sp: with a usable rua act as
	 * if "v=DMARC1; p=none" had been published (the other tags stay,
	 * reports are what such a record is for), else no DMARC at all. */
	if (rp.rua_valid) {
		out->p = out->sp = DMARC_P_NONE;
		out->p_assumed = true;
		return 0;
	}
	say(err, errlen, rp.p == TAG_ABSENT ? "no p= tag" : rp.p == TAG_BAD ?
	    "p= is not none, quarantine or reject (or appears twice)" :
	    "sp= is not none, quarantine or reject (or appears twice)");
	record_defaults(out);
	return -1;
}

/* --- selection and discovery (6.6.3) -------------------------------------- */

enum sel { SEL_TEMPFAIL = -1, SEL_EMPTY, SEL_STOP, SEL_FOUND };

static enum sel
select_rec(const struct lookup *l, struct dmarc_record *out, char *why, size_t whylen)
{
	size_t n_dmarc = 0, first = 0;
	char err[120];

	record_defaults(out);
	if (l == NULL) {
		say(why, whylen, "no answer");
		return SEL_EMPTY;
	}
	/* a bogus DNSSEC answer is a failure to learn the truth, not "no
	 * record" (DESIGN: a lookup that fails is never read as none) */
	if (l->status == LOOKUP_TEMPFAIL || l->sec == LOOKUP_BOGUS) {
		say(why, whylen, l->why != NULL ? l->why : "temporary DNS failure");
		return SEL_TEMPFAIL;
	}
	if (l->status == LOOKUP_NXDOMAIN || l->type != LOOKUP_TXT) {
		say(why, whylen, "no DMARC record (no such name)");
		return SEL_EMPTY;
	}
	for (size_t i = 0; i < l->n && i < LOOKUP_RR_MAX; i++)
		if (dmarc_record_is_dmarc((const char *)l->rr[i].data, l->rr[i].len)) {
			if (n_dmarc++ == 0)
				first = i;
		}
	if (n_dmarc == 0) {
		say(why, whylen, "no DMARC record");
		return SEL_EMPTY;
	}
	if (n_dmarc > 1) {
		say(why, whylen, "several DMARC records (RFC 7489 6.6.3)");
		return SEL_STOP;
	}
	if (dmarc_record_parse((const char *)l->rr[first].data, l->rr[first].len, out, err,
	    sizeof err) < 0) {
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "invalid DMARC record: %s", err);
		return SEL_STOP;
	}
	say(why, whylen, "DMARC record found");
	return SEL_FOUND;
}

int
dmarc_select(const struct lookup *txt, struct dmarc_record *out, char *why, size_t whylen)
{
	switch (select_rec(txt, out, why, whylen)) {
	case SEL_TEMPFAIL:
		return -1;
	case SEL_FOUND:
		return 1;
	default:
		return 0;
	}
}

enum dmarc_disc
dmarc_discover(const struct lookup_set *answers, const char *from_domain,
    struct dmarc_record *out, bool *at_org, char need[LOOKUP_NAME_MAX + 1], char *why,
    size_t whylen)
{
	char names[2][LOOKUP_NAME_MAX + 1];

	*at_org = false;
	need[0] = '\0';
	record_defaults(out);
	if (from_domain == NULL || !dmarc_query_names(from_domain, names)) {
		say(why, whylen, "not a valid domain");
		return DMARC_DISC_NONE;
	}
	for (int k = 0; k < 2; k++) {
		const struct lookup *l = lookup_set_find(answers, LOOKUP_TXT, names[k]);
		if (l == NULL) {
			memcpy(need, names[k], sizeof names[k]);
			say(why, whylen, "waiting for DNS");
			return DMARC_DISC_ASK;
		}
		switch (select_rec(l, out, why, whylen)) {
		case SEL_TEMPFAIL:
			return DMARC_DISC_TEMPFAIL;
		case SEL_FOUND:
			*at_org = k == 1;
			return DMARC_DISC_FOUND;
		case SEL_STOP:
			return DMARC_DISC_NONE;
		case SEL_EMPTY:
			break;
		}
		/* step 3: only an empty set sends us to the org domain */
		if (names[1][0] == '\0')
			break;
	}
	return DMARC_DISC_NONE;
}

/* --- domains: normal form, org domain, alignment ------------------------- */

/* RFC 3492 6.1 bias adaptation */
static uint32_t
puny_adapt(uint32_t delta, uint32_t numpoints, bool first)
{
	uint32_t k = 0;

	delta = first ? delta / 700 : delta / 2;
	delta += delta / numpoints;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (((36 - 1 + 1) * delta) / (delta + 38));
}

static char
puny_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

/* A label holding UTF-8 -> "xn--" + Punycode (RFC 3492 6.3) in out
 * (DOMAIN_LABEL_MAX + 1); false when it is malformed or too long. */
static bool
label_to_alabel(const unsigned char *p, size_t n, char *out)
{
	uint32_t cp[DOMAIN_LABEL_MAX];
	size_t ncp = 0, o = 4, b = 0;

	for (size_t i = 0; i < n; ncp++) {
		if (ncp == DOMAIN_LABEL_MAX)
			return false;
		if (p[i] < 0x80) {
			cp[ncp] = (uint32_t)ascii_lower(p[i++]);
			continue;
		}
		size_t l = domain_utf8_len(p + i, n - i);
		if (l == 0)
			return false;
		uint32_t c = p[i] & (l == 2 ? 0x1f : l == 3 ? 0x0f : 0x07);
		for (size_t k = 1; k < l; k++)
			c = c << 6 | (p[i + k] & 0x3f);
		cp[ncp] = c;
		i += l;
	}
	for (size_t i = 0; i < ncp; i++)
		b += cp[i] < 0x80;
	if (4 + b + 1 >= DOMAIN_LABEL_MAX)
		return false;	/* no room for even one encoded character */
	memcpy(out, "xn--", 4);
	for (size_t i = 0; i < ncp; i++)
		if (cp[i] < 0x80)
			out[o++] = (char)cp[i];
	if (b > 0)
		out[o++] = '-';
	uint32_t nn = 0x80, bias = 72, h = (uint32_t)b;
	uint64_t delta = 0;
	while (h < ncp) {
		uint32_t m = UINT32_MAX;
		for (size_t i = 0; i < ncp; i++)
			if (cp[i] >= nn && cp[i] < m)
				m = cp[i];
		delta += (uint64_t)(m - nn) * (h + 1);
		nn = m;
		for (size_t i = 0; i < ncp; i++) {
			if (cp[i] < nn)
				delta++;
			if (cp[i] != nn)
				continue;
			uint64_t q = delta;
			for (uint32_t k = 36;; k += 36) {
				uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
				if (q < t)
					break;
				if (o >= DOMAIN_LABEL_MAX)
					return false;
				out[o++] = puny_digit((uint32_t)(t + (q - t) % (36 - t)));
				q = (q - t) / (36 - t);
			}
			if (o >= DOMAIN_LABEL_MAX)
				return false;
			out[o++] = puny_digit((uint32_t)q);
			bias = puny_adapt((uint32_t)delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		nn++;
	}
	out[o] = '\0';
	return true;
}

/* The normal form of dmarc.h (lowercase, no final dot, A-labels) in out;
 * false for a name mail/domain.c refuses or one over 253 octets. */
static bool
dom_norm(const char *in, char *out, size_t outlen)
{
	char lab[DOMAIN_LABEL_MAX + 1];
	size_t n = strlen(in), o = 0;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || !domain_valid(in, n, DOMAIN_UTF8))
		return false;
	const unsigned char *p = (const unsigned char *)in, *end = p + n;
	while (p < end) {
		const unsigned char *dot = memchr(p, '.', (size_t)(end - p));
		size_t ll = dot ? (size_t)(dot - p) : (size_t)(end - p);
		bool ascii = true;
		for (size_t i = 0; i < ll; i++)
			if (p[i] >= 0x80)
				ascii = false;
		if (ascii) {
			for (size_t i = 0; i < ll; i++)
				lab[i] = (char)ascii_lower(p[i]);
			lab[ll] = '\0';
		} else if (!label_to_alabel(p, ll, lab)) {
			return false;
		}
		size_t l = strlen(lab);
		if (o + (o > 0) + l + 1 > outlen || o + (o > 0) + l > DOMAIN_HOSTNAME_MAX)
			return false;
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, lab, l);
		o += l;
		p += ll + (dot != NULL);
	}
	out[o] = '\0';
	return true;
}

bool
dmarc_org_domain(const char *domain, char *out, size_t outlen)
{
	char norm[DOMAIN_MAX + 1];

	if (domain == NULL || !dom_norm(domain, norm, sizeof norm))
		return false;
	/* Without a built-in list every name is its own org domain, which
	 * makes relaxed alignment as strict as strict: safe, not silent. */
	const psl_ctx_t *psl = psl_builtin();
	const char *reg = psl != NULL ? psl_registrable_domain(psl, norm) : NULL;
	/* NULL: the name is a public suffix itself (3.2 then takes it whole) */
	return str_copy(out, outlen, reg != NULL ? reg : norm);
}

bool
dmarc_aligned(const char *a, const char *b, char mode)
{
	char x[DOMAIN_MAX + 1], y[DOMAIN_MAX + 1];

	if (a == NULL || b == NULL)
		return false;
	switch (mode) {
	case 's':
	case 'S':
		return dom_norm(a, x, sizeof x) && dom_norm(b, y, sizeof y) && strcmp(x, y) == 0;
	case 'r':
	case 'R':
		return dmarc_org_domain(a, x, sizeof x) && dmarc_org_domain(b, y, sizeof y) &&
		    strcmp(x, y) == 0;
	default:
		return false;
	}
}

bool
dmarc_query_names(const char *from_domain, char out[2][LOOKUP_NAME_MAX + 1])
{
	char norm[DOMAIN_MAX + 1], org[DOMAIN_MAX + 1], q[DOMAIN_MAX + 16];

	out[0][0] = out[1][0] = '\0';
	if (from_domain == NULL || !dom_norm(from_domain, norm, sizeof norm) ||
	    !dmarc_org_domain(norm, org, sizeof org))
		return false;
	snprintf(q, sizeof q, "_dmarc.%s", norm);
	if (!lookup_name_norm(out[0], q)) {
		out[0][0] = '\0';
		return false;
	}
	if (strcmp(org, norm) != 0) {
		snprintf(q, sizeof q, "_dmarc.%s", org);
		if (!lookup_name_norm(out[1], q))
			out[1][0] = '\0';	/* cannot happen: org is a suffix of norm */
	}
	return true;
}

/* --- evaluation (4.2, 6.6) ----------------------------------------------- */

const char *
dmarc_res_name(enum dmarc_res r)
{
	switch (r) {
	case DMARC_R_NONE:
		return "none";
	case DMARC_R_PASS:
		return "pass";
	case DMARC_R_FAIL:
		return "fail";
	case DMARC_R_TEMPERROR:
		return "temperror";
	case DMARC_R_PERMERROR:
		return "permerror";
	}
	return "permerror";
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_P_NONE:
		return "none";
	case DMARC_P_QUARANTINE:
		return "quarantine";
	case DMARC_P_REJECT:
		return "reject";
	case DMARC_P_UNSET:
		break;
	}
	return "";
}

/* 6.6.4: a message sampled out of the policy gets the next weaker one */
static enum dmarc_policy
sampled(enum dmarc_policy p, unsigned pct, unsigned sample, bool *out)
{
	if (sample > 99)
		sample = 99;
	*out = false;
	if (sample < pct || p == DMARC_P_NONE)
		return p;
	*out = true;
	return p == DMARC_P_REJECT ? DMARC_P_QUARANTINE : DMARC_P_NONE;
}

/* a record filled by hand may leave the modes zero: that is the default */
static char
mode_of(char m)
{
	return m == 0 ? 'r' : m;
}

static void
evaluate_record(const struct dmarc_input *in, const char *org, const char *norm,
    struct dmarc_outcome *out)
{
	const struct dmarc_record *r = &in->rec;
	const char *dkim_d = NULL;

	out->policy = in->rec_at_org && strcmp(org, norm) != 0 ? r->sp : r->p;
	if (out->policy == DMARC_P_UNSET)
		out->policy = DMARC_P_NONE;
	out->spf_aligned = in->spf_pass && dmarc_aligned(in->spf_domain, in->from_domain,
	    mode_of(r->aspf));
	for (size_t i = 0; in->dkim != NULL && i < in->n_dkim && dkim_d == NULL; i++)
		if (in->dkim[i].pass && dmarc_aligned(in->dkim[i].domain, in->from_domain,
		    mode_of(r->adkim)))
			dkim_d = in->dkim[i].domain;
	out->dkim_aligned = dkim_d != NULL;
	if (out->dkim_aligned || out->spf_aligned) {
		out->res = DMARC_R_PASS;
		if (out->dkim_aligned && out->spf_aligned)
			snprintf(out->why, sizeof out->why, "DKIM aligned (%.80s), SPF aligned "
			    "(%.80s)", dkim_d, in->spf_domain);
		else if (out->dkim_aligned)
			snprintf(out->why, sizeof out->why, "DKIM aligned (%.180s)", dkim_d);
		else
			snprintf(out->why, sizeof out->why, "SPF aligned (%.180s)",
			    in->spf_domain);
		return;
	}
	out->res = DMARC_R_FAIL;
	out->disposition = sampled(out->policy, r->pct, in->sample, &out->sampled_out);
	if (out->sampled_out)
		snprintf(out->why, sizeof out->why, "no aligned SPF or DKIM pass; p=%s sampled "
		    "out by pct=%u", dmarc_policy_name(out->policy), r->pct);
	else
		say(out->why, sizeof out->why, "no aligned SPF or DKIM pass");
}

void
dmarc_evaluate(const struct dmarc_input *in, struct dmarc_outcome *out)
{
	char norm[DOMAIN_MAX + 1], org[DOMAIN_MAX + 1];

	memset(out, 0, sizeof *out);
	out->policy = DMARC_P_UNSET;
	out->disposition = DMARC_P_NONE;
	if (in->from_domain == NULL || !dom_norm(in->from_domain, norm, sizeof norm) ||
	    !dmarc_org_domain(norm, org, sizeof org)) {
		out->res = DMARC_R_PERMERROR;
		say(out->why, sizeof out->why, "no valid RFC5322.From domain");
		return;
	}
	if (in->lookup < 0) {
		out->res = DMARC_R_TEMPERROR;
		say(out->why, sizeof out->why, "DMARC record lookup failed temporarily");
		return;
	}
	if (in->lookup == 0) {
		out->res = DMARC_R_NONE;
		say(out->why, sizeof out->why, "no DMARC record");
		return;
	}
	evaluate_record(in, org, norm, out);
}

static int
res_rank(enum dmarc_res r)
{
	switch (r) {
	case DMARC_R_FAIL:
		return 4;
	case DMARC_R_TEMPERROR:
		return 3;
	case DMARC_R_PERMERROR:
		return 2;
	case DMARC_R_NONE:
		return 1;
	case DMARC_R_PASS:
		return 0;
	}
	return 2;
}

bool
dmarc_outcome_stricter(const struct dmarc_outcome *a, const struct dmarc_outcome *b)
{
	/* DMARC_P_* are ordered by strength, UNSET below NONE */
	if (a->disposition != b->disposition)
		return a->disposition > b->disposition;
	return res_rank(a->res) > res_rank(b->res);
}

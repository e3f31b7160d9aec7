/*
 * msgauth/spf.c - SPF check_host() (RFC 7208) over a set of DNS answers.
 *
 * Input:   the client address, MAIL FROM and HELO as the client sent them,
 *          and DNS answers: records that anyone on the Internet can
 *          publish.  Nothing is trusted; a record may hold any byte.
 * Output:  a result with the deciding directive, explanation and problem,
 *          or the DNS questions to ask next (spf.h).
 * Trusts:  nothing.  Runs in: policy process, CLI.  Pure: no I/O, no DNS.
 * Not here: resolving (the caller), Received-SPF / Authentication-Results.
 *
 * Each call runs check_host() from the start.  A term whose answer is not
 * in the set asks for it (and for every sibling it already knows it will
 * need, such as the address of every MX host) and the run stops with
 * R_PENDING; the caller resolves and calls again.  Because the run is
 * deterministic, counts (DNS terms, void lookups) come out the same each
 * time.  Every loop is bounded by the record length or by the RFC 7208 4.6.4
 * limits: 10 DNS terms (so include/redirect nest at most 10 deep), 2 void
 * lookups, 10 MX hosts, 10 PTR names.
 *
 * A record is checked whole before any term is evaluated (RFC 7208 4.6:
 * a syntax error anywhere is a permerror), then walked a second time to
 * evaluate; terms are parsed again on that walk instead of being stored, so
 * a record of any length needs no allocation.
 */
#include "msgauth/spf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/util.h"

#define SPF_LOOKUP_LIMIT	10	/* RFC 7208 4.6.4 */
#define SPF_VOID_LIMIT		2
#define SPF_MX_LIMIT		10
#define SPF_PTR_LIMIT		10
#define SPF_DEPTH_MAX		(SPF_LOOKUP_LIMIT + 2)	/* unreachable; belt and braces */
#define EXPAND_MAX		2048	/* an expanded domain-spec; longer is unusable */
#define VALUE_MAX		1024	/* one macro's value before transformers */
#define NAME_TEXT_MAX		253	/* RFC 7208 7.3: truncate expansions to this */

/* Internal step results besides enum spf_result. */
enum {
	R_PENDING = -1,		/* an answer is missing; it has been asked for */
	R_FOUND = 100,		/* select_record: one SPF record */
	M_MATCH,		/* a mechanism matched */
	M_NOMATCH,
};

/* Macro expansion results. */
enum { EX_OK, EX_SYNTAX, EX_PENDING };

struct ctx {
	const struct spf_request *rq;
	const struct lookup_set *ans;	/* NULL: no DNS (spf_expand) */
	struct spf_outcome *out;
	struct spf_need *need;
	size_t n_need;
	bool pending;
	struct buf *trace;
	unsigned depth;			/* include/redirect nesting, for the trace */
	bool v4;			/* an IPv4 client, IPv4-mapped included */
	uint8_t ip[16];			/* the client; 4 bytes when v4 */
	char local[600];		/* RFC 7208 4.3: "postmaster" when empty */
	char sender[600];		/* local@domain, for %{s} */
	char odomain[600];		/* the identity's domain as given, for %{o} */
	const char *helo;
};

/* --- small helpers -------------------------------------------------------- */

const char *
spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_NONE: return "none";
	case SPF_NEUTRAL: return "neutral";
	case SPF_PASS: return "pass";
	case SPF_FAIL: return "fail";
	case SPF_SOFTFAIL: return "softfail";
	case SPF_TEMPERROR: return "temperror";
	case SPF_PERMERROR: return "permerror";
	}
	return "permerror";
}

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* An output string with a capacity and a sticky overflow flag. */
struct sb {
	char *p;
	size_t cap;		/* including the NUL */
	size_t len;
	bool over;
};

static void
sb_init(struct sb *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->over = cap == 0;
	if (cap > 0)
		p[0] = '\0';
}

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->over || n >= b->cap - b->len) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* One trace line, indented by nesting depth.  Callers escape what they
 * took from the network or DNS (esc()) before passing it. */
static void __attribute__((format(printf, 2, 3)))
tr(struct ctx *cx, const char *fmt, ...)
{
	if (cx->trace == NULL)
		return;
	char line[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (unsigned i = 0; i < cx->depth; i++)
		buf_puts(cx->trace, "  ");
	buf_puts(cx->trace, line);
	buf_putc(cx->trace, '\n');
}

/* Untrusted bytes made printable for the trace and messages (at most
 * about 300 characters; longer text ends in "..."). */
struct esc {
	char s[320];
};

static const char *
esc(struct esc *e, const void *p, size_t n)
{
	log_escape(e->s, sizeof e->s, p, n);
	return e->s;
}

/* Record why the evaluation ends in none/temperror/permerror.  The first
 * problem of a run is kept: it is the deepest, most specific one. */
static int __attribute__((format(printf, 3, 4)))
problem(struct ctx *cx, int result, const char *fmt, ...)
{
	char msg[sizeof cx->out->problem];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (cx->out->problem[0] == '\0')
		memcpy(cx->out->problem, msg, sizeof msg);
	tr(cx, "%s: %s", spf_result_name((enum spf_result)result), msg);
	return result;
}

static void
set_mechanism(struct ctx *cx, const char *s, size_t n)
{
	size_t max = sizeof cx->out->mechanism - 1;
	if (n > max)
		n = max;
	memcpy(cx->out->mechanism, s, n);
	cx->out->mechanism[n] = '\0';
}

/* --- the client address --------------------------------------------------- */

/* %{c}: dotted quad, or RFC 5952 text for IPv6 (inet_ntop's form). */
static void
client_text(const struct ctx *cx, char *dst, size_t n)
{
	if (inet_ntop(cx->v4 ? AF_INET : AF_INET6, cx->ip, dst, (socklen_t)n) == NULL)
		str_copy(dst, n, "unknown");
}

/* %{i}: dotted quad, or 32 dot-separated nibbles for IPv6 (RFC 7208 7.3).
 * The RFC gives no case; in domain names we write lowercase (as in its 7.4
 * example), in explanations uppercase, as the reference implementation
 * does and the RFC 7208 test suite expects. */
static void
client_dotted(const struct ctx *cx, bool upper, char *dst, size_t n)
{
	if (cx->v4) {
		client_text(cx, dst, n);
		return;
	}
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < 16 && o + 4 < n; i++) {
		dst[o++] = hex[cx->ip[i] >> 4];
		dst[o++] = '.';
		dst[o++] = hex[cx->ip[i] & 15];
		dst[o++] = '.';
	}
	dst[o > 0 ? o - 1 : 0] = '\0';
}

/* The PTR question for the client: in-addr.arpa or ip6.arpa (RFC 3596). */
static void
reverse_name(const struct ctx *cx, char *dst, size_t n)
{
	if (cx->v4) {
		snprintf(dst, n, "%u.%u.%u.%u.in-addr.arpa", cx->ip[3], cx->ip[2], cx->ip[1],
		    cx->ip[0]);
		return;
	}
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 16; i-- > 0 && o + 4 < n;) {
		dst[o++] = hex[cx->ip[i] & 15];
		dst[o++] = '.';
		dst[o++] = hex[cx->ip[i] >> 4];
		dst[o++] = '.';
	}
	dst[o] = '\0';
	str_copy(dst + o, n - o, "ip6.arpa");
}

static bool
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	size_t full = bits / 8;
	unsigned rest = bits % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((a[full] ^ b[full]) & mask) == 0;
}

/* An A/AAAA record of the client's family within prefix bits of it;
 * records of the wrong length are ignored. */
static bool
rr_addr_match(const struct ctx *cx, const struct lookup_rr *rr, unsigned bits)
{
	if (rr->len != (cx->v4 ? 4 : 16))
		return false;
	return prefix_eq(rr->data, cx->ip, bits);
}

static uint16_t
addr_type(const struct ctx *cx)
{
	return cx->v4 ? LOOKUP_A : LOOKUP_AAAA;
}

/* --- answers -------------------------------------------------------------- */

static void
ask(struct ctx *cx, uint16_t type, const char *name)
{
	cx->pending = true;
	for (size_t i = 0; i < cx->n_need; i++)
		if (cx->need[i].type == type && strcmp(cx->need[i].name, name) == 0)
			return;
	/* more than fit are asked for in the next round */
	if (cx->n_need == SPF_NEED_MAX)
		return;
	cx->need[cx->n_need].type = type;
	str_copy(cx->need[cx->n_need].name, sizeof cx->need[cx->n_need].name, name);
	cx->n_need++;
}

/* The answer to (type, name), or NULL after asking for it. */
static const struct lookup *
answer(struct ctx *cx, uint16_t type, const char *name)
{
	const struct lookup *l = lookup_set_find(cx->ans, type, name);
	if (l == NULL)
		ask(cx, type, name);
	return l;
}

/* A DNS error: what RFC 7208 5 calls an error other than NXDOMAIN.  A bogus
 * DNSSEC answer counts as one (dns/lookup.h). */
static bool
is_tempfail(const struct lookup *l)
{
	return l->status == LOOKUP_TEMPFAIL || l->sec == LOOKUP_BOGUS;
}

/* RFC 7208 4.6.4: a "void lookup" is NXDOMAIN or an empty NOERROR answer. */
static bool
is_void(const struct lookup *l)
{
	return l->status == LOOKUP_NXDOMAIN || (l->status == LOOKUP_OK && l->n == 0);
}

static const char *
why_text(const struct lookup *l)
{
	if (l->why != NULL)
		return l->why;
	return l->sec == LOOKUP_BOGUS ? "DNSSEC bogus" : lookup_status_name(l->status);
}

static int
dns_error(struct ctx *cx, const struct lookup *l)
{
	return problem(cx, SPF_TEMPERROR, "%s %s: %s", lookup_type_name(l->type), l->name,
	    why_text(l));
}

/* A name from answer data (an MX exchange, a PTR target) in normalised form,
 * through the wire form so that anything a resolver or a test put there
 * comes out canonical; false for the root and for malformed names. */
static bool
answer_name(const struct lookup_rr *rr, char *dst)
{
	uint8_t wire[256];
	if (rr->len == 0 || rr->len > LOOKUP_NAME_MAX || memchr(rr->data, 0, rr->len) != NULL)
		return false;
	size_t wl = lookup_name_to_wire(wire, (const char *)rr->data);
	if (wl <= 1)
		return false;
	return lookup_name_from_wire(dst, wire, wl);
}

/* Count one DNS-querying term (RFC 7208 4.6.4). */
static int
count_lookup(struct ctx *cx)
{
	if (++cx->out->lookups > SPF_LOOKUP_LIMIT)
		return problem(cx, SPF_PERMERROR, "too many DNS lookups");
	return 0;
}

static int
count_void(struct ctx *cx, const struct lookup *l)
{
	if (!is_void(l))
		return 0;
	if (++cx->out->void_lookups > SPF_VOID_LIMIT)
		return problem(cx, SPF_PERMERROR, "void lookup limit");
	return 0;
}

/* --- macros (RFC 7208 7) -------------------------------------------------- */

static const char DELIMS[] = ".-+,/_=";
#define LETTERS_DOMAIN	"slodipvh"
#define LETTERS_EXP	"slodipvhcrt"

struct macro {
	int letter;		/* lowercase letter, or '%', '_', '-' for the escapes */
	bool upper;		/* URL-escape the value */
	unsigned keep;		/* rightmost parts to keep; 0 = all */
	bool rev;
	unsigned delims;	/* bit i: DELIMS[i]; 0 = "." */
	size_t end;		/* index after the macro */
};

/* Parse the macro-expand at s[i] == '%' (RFC 7208 7.1); false with *why. */
static bool
macro_parse(const char *s, size_t n, size_t i, const char *letters, struct macro *m,
    const char **why)
{
	memset(m, 0, sizeof *m);
	if (i + 1 >= n) {
		*why = "'%' at the end";
		return false;
	}
	char c = s[i + 1];
	if (c == '%' || c == '_' || c == '-') {
		m->letter = c;
		m->end = i + 2;
		return true;
	}
	if (c != '{') {
		*why = "'%' not followed by '{', '%', '-' or '_'";
		return false;
	}
	size_t j = i + 2;
	if (j >= n || !is_alpha(s[j]) || strchr(letters, ascii_lower(s[j])) == NULL) {
		*why = "unknown macro letter";
		return false;
	}
	m->letter = ascii_lower(s[j]);
	m->upper = s[j] >= 'A' && s[j] <= 'Z';
	j++;
	bool digits = false;
	while (j < n && is_digit(s[j])) {
		if (m->keep < 10000)		/* saturate: more parts than any value has */
			m->keep = m->keep * 10 + (unsigned)(s[j] - '0');
		digits = true;
		j++;
	}
	if (digits && m->keep == 0) {
		*why = "macro keeps zero parts";	/* 7.3: the DIGIT value MUST be nonzero */
		return false;
	}
	if (j < n && (s[j] == 'r' || s[j] == 'R')) {
		m->rev = true;
		j++;
	}
	const char *d;
	while (j < n && s[j] != '\0' && (d = strchr(DELIMS, s[j])) != NULL) {
		m->delims |= 1u << (d - DELIMS);
		j++;
	}
	if (j >= n || s[j] != '}') {
		*why = "unterminated macro";
		return false;
	}
	m->end = j + 1;
	return true;
}

/* Check a macro-string (exp: explain-string, which also allows SP and the
 * letters c, r, t).  *ends_macro: the last token was a macro-expand. */
static bool
macro_string_ok(const char *s, size_t n, bool exp, bool *ends_macro, const char **why)
{
	*ends_macro = false;
	for (size_t i = 0; i < n;) {
		uint8_t c = (uint8_t)s[i];
		if (c == '%') {
			struct macro m;
			if (!macro_parse(s, n, i, exp ? LETTERS_EXP : LETTERS_DOMAIN, &m, why))
				return false;
			i = m.end;
			*ends_macro = true;
			continue;
		}
		if (!((c >= 0x21 && c <= 0x7e) || (c == ' ' && exp))) {
			*why = "byte not allowed in a macro-string";
			return false;
		}
		*ends_macro = false;
		i++;
	}
	return true;
}

static bool
is_delim(unsigned delims, char c)
{
	if (delims == 0)
		return c == '.';
	const char *d = c != '\0' ? strchr(DELIMS, c) : NULL;
	return d != NULL && (delims & (1u << (d - DELIMS))) != 0;
}

static bool
unreserved(uint8_t c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void
put_escaped(struct sb *o, const char *s, size_t n, bool url)
{
	if (!url) {
		sb_add(o, s, n);
		return;
	}
	/* RFC 7208 7.3: uppercase letters URL-escape everything outside the
	 * RFC 3986 unreserved set */
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		char hx[4];
		if (unreserved(c)) {
			sb_add(o, s + i, 1);
		} else {
			snprintf(hx, sizeof hx, "%%%02X", c);
			sb_add(o, hx, 3);
		}
	}
}

/* Apply a macro's transformers (RFC 7208 7.3) to val[0..n), n <= VALUE_MAX:
 * split on the delimiters, reverse if asked, keep the rightmost parts,
 * join with ".". */
static void
transform(struct sb *o, const char *val, size_t n, const struct macro *m)
{
	uint16_t start[VALUE_MAX + 2];
	size_t np = 0;
	start[np++] = 0;
	for (size_t i = 0; i < n; i++)
		if (is_delim(m->delims, val[i]))
			start[np++] = (uint16_t)(i + 1);
	size_t first = (m->keep != 0 && m->keep < np) ? np - m->keep : 0;
	for (size_t j = first; j < np; j++) {
		size_t k = m->rev ? np - 1 - j : j;
		size_t b = start[k], e = k + 1 < np ? (size_t)start[k + 1] - 1 : n;
		if (j > first)
			sb_add(o, ".", 1);
		put_escaped(o, val + b, e - b, m->upper);
	}
}

struct ptrnames {
	size_t n;
	char name[SPF_PTR_LIMIT][LOOKUP_NAME_MAX + 1];
};

static int validated_names(struct ctx *cx, struct ptrnames *v, const char **skip);

static bool
is_subdomain(const char *name, const char *dom)
{
	size_t nl = strlen(name), dl = strlen(dom);
	return nl > dl && name[nl - dl - 1] == '.' && memcmp(name + nl - dl, dom, dl) == 0;
}

/* %{p} (RFC 7208 7.3): <domain> itself if validated, else a validated
 * subdomain of it, else any validated name, else "unknown". */
static int
macro_p(struct ctx *cx, const char *domain, char *dst, size_t n)
{
	str_copy(dst, n, "unknown");
	if (cx->ans == NULL)
		return EX_OK;
	struct ptrnames v;
	const char *skip;
	if (validated_names(cx, &v, &skip) == R_PENDING)
		return EX_PENDING;
	const char *pick = v.n > 0 ? v.name[0] : NULL;
	for (size_t i = 0; i < v.n; i++)
		if (is_subdomain(v.name[i], domain)) {
			pick = v.name[i];
			break;
		}
	for (size_t i = 0; i < v.n; i++)
		if (strcmp(v.name[i], domain) == 0)
			pick = v.name[i];
	if (pick != NULL)
		str_copy(dst, n, pick);
	return EX_OK;
}

/* The value of one macro letter, in tmp or pointed to. */
static int
macro_value(struct ctx *cx, const char *domain, int letter, bool exp, char *tmp, size_t tmpsz,
    const char **val)
{
	const struct spf_request *rq = cx->rq;
	*val = tmp;
	switch (letter) {
	case 's': *val = cx->sender; break;
	case 'l': *val = cx->local; break;
	case 'o': *val = cx->odomain; break;
	case 'd': *val = domain; break;
	case 'h': *val = cx->helo; break;
	case 'v': *val = cx->v4 ? "in-addr" : "ip6"; break;
	case 'i': client_dotted(cx, exp, tmp, tmpsz); break;
	case 'c': client_text(cx, tmp, tmpsz); break;
	case 'r':
		*val = rq->receiver != NULL && rq->receiver[0] != '\0' ? rq->receiver : "unknown";
		break;
	case 't': snprintf(tmp, tmpsz, "%lld", (long long)rq->now); break;
	case 'p': return macro_p(cx, domain, tmp, tmpsz);
	default: tmp[0] = '\0'; break;
	}
	return EX_OK;
}

/* Expand macro-string s[0..n) into o (RFC 7208 7).  EX_SYNTAX with *why;
 * EX_PENDING when %{p} waits for answers; a result that does not fit sets
 * o->over. */
static int
expand(struct ctx *cx, const char *domain, const char *s, size_t n, bool exp, struct sb *o,
    const char **why)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = (uint8_t)s[i];
		if (c != '%') {
			if (!((c >= 0x21 && c <= 0x7e) || (c == ' ' && exp))) {
				*why = "byte not allowed in a macro-string";
				return EX_SYNTAX;
			}
			sb_add(o, s + i, 1);
			i++;
			continue;
		}
		struct macro m;
		if (!macro_parse(s, n, i, exp ? LETTERS_EXP : LETTERS_DOMAIN, &m, why))
			return EX_SYNTAX;
		i = m.end;
		if (m.letter == '%' || m.letter == '_' || m.letter == '-') {
			sb_add(o, m.letter == '%' ? "%" : m.letter == '_' ? " " : "%20",
			    m.letter == '-' ? 3 : 1);
			continue;
		}
		char tmp[LOOKUP_NAME_MAX + 1];
		const char *val;
		if (macro_value(cx, domain, m.letter, exp, tmp, sizeof tmp, &val) == EX_PENDING)
			return EX_PENDING;
		size_t vl = strlen(val);
		if (vl > VALUE_MAX) {
			o->over = true;		/* only an absurd HELO gets here */
			continue;
		}
		transform(o, val, vl, &m);
	}
	return EX_OK;
}

/* --- record syntax (RFC 7208 4.5, 4.6.1, 12) ----------------------------- */

enum mech { MECH_ALL, MECH_INCLUDE, MECH_A, MECH_MX, MECH_PTR, MECH_IP4, MECH_IP6,
	MECH_EXISTS };
enum tkind { T_MECH, T_REDIRECT, T_EXP, T_MODIFIER };

static const struct {
	const char *name;
	enum mech mech;
} mechs[] = {
	{ "all", MECH_ALL }, { "include", MECH_INCLUDE }, { "a", MECH_A }, { "mx", MECH_MX },
	{ "ptr", MECH_PTR }, { "ip4", MECH_IP4 }, { "ip6", MECH_IP6 }, { "exists", MECH_EXISTS },
};

struct term {
	const char *s;		/* the term as written */
	size_t len;
	enum tkind kind;
	char qual;		/* '+', '-', '~', '?' */
	enum mech mech;
	const char *arg;	/* domain-spec or modifier value; NULL when absent */
	size_t arglen;
	int cidr4, cidr6;	/* -1 when absent */
	uint8_t net[16];	/* ip4 / ip6 network */
};

/* "v=spf1" followed by a space or the end (RFC 7208 4.5), any case. */
static bool
is_spf_record(const char *s, size_t n)
{
	return n >= 6 && ascii_memcaseeq(s, "v=spf1", 6) && (n == 6 || s[6] == ' ');
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool
toplabel_ok(const char *s, size_t n)
{
	bool alpha = false, dash = false;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (is_alpha(s[i]))
			alpha = true;
		else if (s[i] == '-')
			dash = true;
		else if (!is_digit(s[i]))
			return false;
	}
	if (dash)
		return s[0] != '-' && s[n - 1] != '-';
	return alpha;
}

/* domain-spec = macro-string domain-end;
 * domain-end = ( "." toplabel [ "." ] ) / macro-expand */
static bool
domain_spec_ok(const char *s, size_t n, const char **why)
{
	bool ends_macro;
	if (n == 0) {
		*why = "empty domain-spec";
		return false;
	}
	if (!macro_string_ok(s, n, false, &ends_macro, why))
		return false;
	if (ends_macro)
		return true;
	if (s[n - 1] == '.')
		n--;
	const char *dot = NULL;
	for (size_t i = n; i-- > 0;)
		if (s[i] == '.') {
			dot = s + i;
			break;
		}
	if (dot == NULL || !toplabel_ok(dot + 1, n - (size_t)(dot + 1 - s))) {
		*why = "domain-spec does not end in a top-level label or a macro";
		return false;
	}
	return true;
}

/* A prefix length: 1*DIGIT without leading zeros, at most max. */
static bool
cidr_parse(const char *s, size_t n, int max, int *out)
{
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* ip4-network: four dec-octets, no leading zeros (RFC 7208 12 qnum). */
static bool
ip4_parse(const char *s, size_t n, uint8_t *out)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		size_t b = i;
		unsigned v = 0;
		while (i < n && is_digit(s[i]) && i - b < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == b || v > 255 || (i - b > 1 && s[b] == '0'))
			return false;
		out[part] = (uint8_t)v;
	}
	return i == n;
}

static bool
ip6_parse(const char *s, size_t n, uint8_t *out)
{
	char tmp[64];
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1;
}

/* ip4:network[/len] or ip6:network[/len]; rest starts after the name. */
static bool
parse_ip(struct term *t, const char *rest, size_t n, const char **why)
{
	bool v6 = t->mech == MECH_IP6;
	*why = v6 ? "bad ip6 network" : "bad ip4 network";
	if (n == 0 || rest[0] != ':')
		return false;
	rest++, n--;
	const char *slash = memchr(rest, '/', n);
	size_t nl = slash ? (size_t)(slash - rest) : n;
	if (!(v6 ? ip6_parse(rest, nl, t->net) : ip4_parse(rest, nl, t->net)))
		return false;
	if (slash == NULL)
		return true;
	*why = "bad CIDR length";
	return cidr_parse(slash + 1, n - nl - 1, v6 ? 128 : 32, v6 ? &t->cidr6 : &t->cidr4);
}

/* Length of the decimal digits that end s[0..n). */
static size_t
tail_digits(const char *s, size_t n)
{
	size_t d = 0;
	while (d < n && is_digit(s[n - 1 - d]))
		d++;
	return d;
}

/* [ ":" domain-spec ] [ dual-cidr-length ] of a and mx (cidr: true), or
 * [ ":" domain-spec ] of ptr (cidr: false).  The CIDR lengths are taken
 * from the end, since a domain-spec may itself hold '/' and ':'. */
static bool
parse_target(struct term *t, const char *rest, size_t n, bool cidr, const char **why)
{
	if (cidr) {
		size_t d = tail_digits(rest, n);
		if (d > 0 && d + 2 <= n && rest[n - d - 1] == '/' && rest[n - d - 2] == '/') {
			if (!cidr_parse(rest + n - d, d, 128, &t->cidr6)) {
				*why = "bad IPv6 CIDR length";
				return false;
			}
			n -= d + 2;
		}
		d = tail_digits(rest, n);
		if (d > 0 && d + 1 <= n && rest[n - d - 1] == '/') {
			if (!cidr_parse(rest + n - d, d, 32, &t->cidr4)) {
				*why = "bad IPv4 CIDR length";
				return false;
			}
			n -= d + 1;
		}
	}
	if (n == 0)
		return true;
	if (rest[0] != ':') {
		*why = "unexpected text after the mechanism name";
		return false;
	}
	t->arg = rest + 1;
	t->arglen = n - 1;
	return domain_spec_ok(t->arg, t->arglen, why);
}

static bool
parse_modifier(struct term *t, size_t nl, const char **why)
{
	const char *s = t->s;
	if (nl == 0 || !is_alpha(s[0])) {
		*why = "modifier name must start with a letter";
		return false;
	}
	t->arg = s + nl + 1;
	t->arglen = t->len - nl - 1;
	if (nl == 8 && ascii_memcaseeq(s, "redirect", 8))
		t->kind = T_REDIRECT;
	else if (nl == 3 && ascii_memcaseeq(s, "exp", 3))
		t->kind = T_EXP;
	else
		t->kind = T_MODIFIER;
	if (t->kind != T_MODIFIER)
		return domain_spec_ok(t->arg, t->arglen, why);
	/* an unknown modifier is never expanded: any macro-letter of the ABNF
	 * (RFC 7208 7.1) is fine, c, r and t included */
	bool ends_macro;
	return macro_string_ok(t->arg, t->arglen, true, &ends_macro, why);
}

/* Parse one term (RFC 7208 4.6.1, 5, 6).  The text is printable ASCII. */
static bool
parse_term(const char *s, size_t len, struct term *t, const char **why)
{
	memset(t, 0, sizeof *t);
	t->s = s;
	t->len = len;
	t->cidr4 = t->cidr6 = -1;
	t->qual = '+';
	/* a modifier's name is followed by '='; name = ALPHA *( ALPHA / DIGIT /
	 * "-" / "_" / "." ) */
	size_t i = 0;
	while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-' || s[i] == '_' ||
	    s[i] == '.'))
		i++;
	if (i < len && s[i] == '=')
		return parse_modifier(t, i, why);
	t->kind = T_MECH;
	i = 0;
	if (strchr("+-~?", s[0]) != NULL)
		t->qual = s[i++];
	size_t nb = i;
	while (i < len && (is_alpha(s[i]) || is_digit(s[i])))
		i++;
	size_t k;
	for (k = 0; k < NELEM(mechs); k++)
		if (strlen(mechs[k].name) == i - nb && ascii_memcaseeq(s + nb, mechs[k].name, i - nb))
			break;
	if (k == NELEM(mechs) || (i < len && s[i] != ':' && s[i] != '/')) {
		*why = "unknown mechanism";
		return false;
	}
	t->mech = mechs[k].mech;
	const char *rest = s + i;
	size_t rn = len - i;
	switch (t->mech) {
	case MECH_ALL:
		*why = "all takes no argument";
		return rn == 0;
	case MECH_INCLUDE:
	case MECH_EXISTS:
		*why = "missing ':' domain-spec";
		if (rn == 0 || rest[0] != ':')
			return false;
		t->arg = rest + 1;
		t->arglen = rn - 1;
		return domain_spec_ok(t->arg, t->arglen, why);
	case MECH_A:
	case MECH_MX:
		return parse_target(t, rest, rn, true, why);
	case MECH_PTR:
		return parse_target(t, rest, rn, false, why);
	case MECH_IP4:
	case MECH_IP6:
		return parse_ip(t, rest, rn, why);
	}
	return false;
}

/* The next space-separated term after *pos; false at the end. */
static bool
next_term(const char *rec, size_t len, size_t *pos, const char **ts, size_t *tl)
{
	size_t i = *pos;
	while (i < len && rec[i] == ' ')
		i++;
	if (i == len)
		return false;
	size_t b = i;
	while (i < len && rec[i] != ' ')
		i++;
	*ts = rec + b;
	*tl = i - b;
	*pos = i;
	return true;
}

struct mods {
	struct term redirect, exp;
	bool has_redirect, has_exp;
};

/* Check a whole record (after its "v=spf1") and find its modifiers;
 * -1 with a message in err. */
static int
scan_record(const char *rec, size_t len, struct mods *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)rec[i];
		/* RFC 7208 3.1 (ASCII only) and 4.6.1 (terms separated by SP only) */
		if (c < 0x20 || c > 0x7e) {
			snprintf(err, errlen, "byte 0x%02x at offset %zu is not printable ASCII", c,
			    i);
			return -1;
		}
	}
	size_t pos = 6;
	const char *ts;
	size_t tl;
	while (next_term(rec, len, &pos, &ts, &tl)) {
		struct term t;
		const char *why = "bad term";
		struct esc e;
		if (!parse_term(ts, tl, &t, &why)) {
			snprintf(err, errlen, "%s in \"%s\"", why, esc(&e, ts, tl));
			return -1;
		}
		if (t.kind == T_REDIRECT || t.kind == T_EXP) {
			bool *has = t.kind == T_REDIRECT ? &m->has_redirect : &m->has_exp;
			if (*has) {
				/* RFC 7208 6: each at most once */
				snprintf(err, errlen, "%s= appears twice",
				    t.kind == T_REDIRECT ? "redirect" : "exp");
				return -1;
			}
			*has = true;
			*(t.kind == T_REDIRECT ? &m->redirect : &m->exp) = t;
		}
	}
	return 0;
}

int
spf_record_check(const char *txt, size_t len, char *err, size_t errlen)
{
	struct mods m;
	if (errlen > 0)
		err[0] = '\0';
	if (!is_spf_record(txt, len)) {
		snprintf(err, errlen, "not an SPF record (no \"v=spf1\" version)");
		return -1;
	}
	return scan_record(txt, len, &m, err, errlen);
}

/* --- evaluation ----------------------------------------------------------- */

static int check_host(struct ctx *cx, const char *domain, unsigned depth, bool want_exp);

enum { TN_OK, TN_BAD };

/* The target name of a term: <domain> when it has no domain-spec, else the
 * expansion, a trailing dot dropped and cut from the left to 253 characters
 * (RFC 7208 7.3), normalised.  TN_BAD (with *why) when no query can carry it:
 * an empty or over-long label, or an expansion over EXPAND_MAX bytes. */
static int
target_name(struct ctx *cx, const char *arg, size_t arglen, const char *domain, char *name,
    const char **why)
{
	if (arg == NULL) {
		str_copy(name, LOOKUP_NAME_MAX + 1, domain);
		return TN_OK;
	}
	char buf[EXPAND_MAX];
	struct sb o;
	sb_init(&o, buf, sizeof buf);
	int r = expand(cx, domain, arg, arglen, false, &o, why);
	if (r == EX_PENDING)
		return R_PENDING;
	if (r != EX_OK || o.over) {
		*why = "expansion too long";
		return TN_BAD;
	}
	char *p = buf;
	size_t n = o.len;
	if (n > 0 && p[n - 1] == '.')
		p[--n] = '\0';
	while (n > NAME_TEXT_MAX) {
		char *dot = memchr(p, '.', n);
		if (dot == NULL) {
			*why = "expansion too long";
			return TN_BAD;
		}
		n -= (size_t)(dot + 1 - p);
		p = dot + 1;
	}
	if (n == 0 || !lookup_name_norm(name, p) || name[0] == '\0') {
		*why = "not a valid domain name";
		return TN_BAD;
	}
	return TN_OK;
}

/* Validated names of the client (RFC 7208 5.5): of the first 10 PTR names,
 * those whose address records list the client.  *skip says why there are
 * none when the PTR lookup failed ("PTR ... timeout"), else NULL.  A name
 * whose address lookup fails is skipped (5.5). */
static int
validated_names(struct ctx *cx, struct ptrnames *v, const char **skip)
{
	char rev[80];
	v->n = 0;
	*skip = NULL;
	reverse_name(cx, rev, sizeof rev);
	const struct lookup *l = answer(cx, LOOKUP_PTR, rev);
	if (l == NULL)
		return R_PENDING;
	if (is_tempfail(l)) {
		*skip = why_text(l);
		return 0;
	}
	bool missing = false;
	size_t considered = 0;
	for (size_t i = 0; i < l->n && considered < SPF_PTR_LIMIT; i++) {
		char name[LOOKUP_NAME_MAX + 1];
		considered++;
		if (!answer_name(&l->rr[i], name))
			continue;
		const struct lookup *a = answer(cx, addr_type(cx), name);
		if (a == NULL) {
			missing = true;	/* keep going: ask for all of them at once */
			continue;
		}
		if (is_tempfail(a))
			continue;
		for (size_t j = 0; j < a->n; j++)
			if (rr_addr_match(cx, &a->rr[j], cx->v4 ? 32 : 128)) {
				str_copy(v->name[v->n++], sizeof v->name[0], name);
				break;
			}
	}
	return missing ? R_PENDING : 0;
}

/* Resolve a term's target; M_NOMATCH when it is unusable (RFC 7208 4.8 and
 * the test suite: a name no query can carry does not match). */
static int
term_target(struct ctx *cx, const struct term *t, const char *domain, char *name)
{
	const char *why = NULL;
	int r = target_name(cx, t->arg, t->arglen, domain, name, &why);
	if (r == R_PENDING)
		return R_PENDING;
	if (r == TN_BAD) {
		struct esc e;
		tr(cx, "%s: target %s: no match", esc(&e, t->s, t->len), why);
		return M_NOMATCH;
	}
	return 0;
}

static int
mech_a(struct ctx *cx, const struct term *t, const char *domain)
{
	char name[LOOKUP_NAME_MAX + 1];
	int r = term_target(cx, t, domain, name);
	if (r != 0)
		return r;
	const struct lookup *l = answer(cx, addr_type(cx), name);
	if (l == NULL)
		return R_PENDING;
	if (is_tempfail(l))
		return dns_error(cx, l);
	/* the name asked, macros expanded: what an admin needs to see */
	tr(cx, "%s %s -> %zu address%s", lookup_type_name(addr_type(cx)), name, l->n,
	    l->n == 1 ? "" : "es");
	if ((r = count_void(cx, l)) != 0)
		return r;
	unsigned bits = (unsigned)(cx->v4 ? (t->cidr4 < 0 ? 32 : t->cidr4) :
	    (t->cidr6 < 0 ? 128 : t->cidr6));
	for (size_t i = 0; i < l->n; i++)
		if (rr_addr_match(cx, &l->rr[i], bits))
			return M_MATCH;
	return M_NOMATCH;
}

static int
mech_mx(struct ctx *cx, const struct term *t, const char *domain)
{
	char name[LOOKUP_NAME_MAX + 1];
	int r = term_target(cx, t, domain, name);
	if (r != 0)
		return r;
	const struct lookup *l = answer(cx, LOOKUP_MX, name);
	if (l == NULL)
		return R_PENDING;
	if (is_tempfail(l))
		return dns_error(cx, l);
	if ((r = count_void(cx, l)) != 0)
		return r;
	/* RFC 7208 4.6.4: more than 10 MX records is a permerror */
	if (l->n > SPF_MX_LIMIT)
		return problem(cx, SPF_PERMERROR, "mx %s: %zu MX records (limit %d)", name, l->n,
		    SPF_MX_LIMIT);
	tr(cx, "MX %s -> %zu host%s", name, l->n, l->n == 1 ? "" : "s");
	/* Ask for every host's addresses at once; then any match wins over a
	 * failed lookup of another host, whatever order the answers came in. */
	bool missing = false, failed = false, match = false;
	unsigned bits = (unsigned)(cx->v4 ? (t->cidr4 < 0 ? 32 : t->cidr4) :
	    (t->cidr6 < 0 ? 128 : t->cidr6));
	const struct lookup *bad = NULL;
	for (size_t i = 0; i < l->n; i++) {
		char host[LOOKUP_NAME_MAX + 1];
		if (!answer_name(&l->rr[i], host))
			continue;	/* the null MX (RFC 7505) and junk: nothing to match */
		const struct lookup *a = answer(cx, addr_type(cx), host);
		if (a == NULL) {
			missing = true;
			continue;
		}
		if (is_tempfail(a)) {
			failed = true;
			bad = a;
			continue;
		}
		for (size_t j = 0; j < a->n; j++)
			if (rr_addr_match(cx, &a->rr[j], bits))
				match = true;
	}
	if (missing)
		return R_PENDING;
	if (match)
		return M_MATCH;
	if (failed)
		return dns_error(cx, bad);
	return M_NOMATCH;
}

static int
mech_ptr(struct ctx *cx, const struct term *t, const char *domain)
{
	char target[LOOKUP_NAME_MAX + 1];
	int r = term_target(cx, t, domain, target);
	if (r != 0)
		return r;
	char rev[80];
	reverse_name(cx, rev, sizeof rev);
	const struct lookup *l = answer(cx, LOOKUP_PTR, rev);
	if (l == NULL)
		return R_PENDING;
	/* RFC 7208 5.5: a DNS error on the PTR lookup is a no-match */
	if (!is_tempfail(l) && (r = count_void(cx, l)) != 0)
		return r;
	struct ptrnames v;
	const char *skip;
	if (validated_names(cx, &v, &skip) == R_PENDING)
		return R_PENDING;
	if (skip != NULL)
		tr(cx, "PTR %s: %s: no match", rev, skip);
	tr(cx, "ptr %s: %zu validated names", rev, v.n);
	for (size_t i = 0; i < v.n; i++)
		if (strcmp(v.name[i], target) == 0 || is_subdomain(v.name[i], target))
			return M_MATCH;
	return M_NOMATCH;
}

static int
mech_exists(struct ctx *cx, const struct term *t, const char *domain)
{
	char name[LOOKUP_NAME_MAX + 1];
	int r = term_target(cx, t, domain, name);
	if (r != 0)
		return r;
	/* RFC 7208 5.7: always an A query, whatever the client's family */
	const struct lookup *l = answer(cx, LOOKUP_A, name);
	if (l == NULL)
		return R_PENDING;
	if (is_tempfail(l))
		return dns_error(cx, l);
	tr(cx, "A %s -> %zu address%s", name, l->n, l->n == 1 ? "" : "es");
	if ((r = count_void(cx, l)) != 0)
		return r;
	return l->n > 0 ? M_MATCH : M_NOMATCH;
}

static int
mech_include(struct ctx *cx, const struct term *t, const char *domain, unsigned depth)
{
	char name[LOOKUP_NAME_MAX + 1];
	const char *why = NULL;
	struct esc e;
	int r = target_name(cx, t->arg, t->arglen, domain, name, &why);
	if (r == R_PENDING)
		return R_PENDING;
	if (r == TN_BAD)
		return problem(cx, SPF_PERMERROR, "%s: target %s", esc(&e, t->s, t->len), why);
	r = check_host(cx, name, depth + 1, false);
	cx->depth = depth;
	if (r == R_PENDING)
		return r;
	tr(cx, "%s -> %s => %s", esc(&e, t->s, t->len), spf_result_name((enum spf_result)r),
	    r == SPF_PASS ? "match" : r == SPF_FAIL || r == SPF_SOFTFAIL ||
	    r == SPF_NEUTRAL ? "no match" : "error");
	/* RFC 7208 5.2: the table of include results */
	switch (r) {
	case SPF_PASS:
		return M_MATCH;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		return M_NOMATCH;
	case SPF_TEMPERROR:
		return SPF_TEMPERROR;
	case SPF_NONE:
		snprintf(cx->out->problem, sizeof cx->out->problem,
		    "include:%.200s has no SPF record", name);
		return SPF_PERMERROR;
	default:
		return SPF_PERMERROR;
	}
}

/* A DNS mechanism: counted, then evaluated. */
static int
eval_dns_mech(struct ctx *cx, const struct term *t, const char *domain, unsigned depth)
{
	int r = count_lookup(cx);
	if (r != 0)
		return r;
	switch (t->mech) {
	case MECH_A: return mech_a(cx, t, domain);
	case MECH_MX: return mech_mx(cx, t, domain);
	case MECH_PTR: return mech_ptr(cx, t, domain);
	case MECH_EXISTS: return mech_exists(cx, t, domain);
	default: return mech_include(cx, t, domain, depth);
	}
}

/* Evaluate one mechanism: M_MATCH, M_NOMATCH, R_PENDING or an error result. */
static int
eval_mech(struct ctx *cx, const struct term *t, const char *domain, unsigned depth)
{
	struct esc e;
	int r;
	switch (t->mech) {
	case MECH_ALL:
		r = M_MATCH;
		break;
	case MECH_IP4:
		r = cx->v4 && prefix_eq(t->net, cx->ip, (unsigned)(t->cidr4 < 0 ? 32 :
		    t->cidr4)) ? M_MATCH : M_NOMATCH;
		break;
	case MECH_IP6:
		r = !cx->v4 && prefix_eq(t->net, cx->ip, (unsigned)(t->cidr6 < 0 ? 128 :
		    t->cidr6)) ? M_MATCH : M_NOMATCH;
		break;
	default:
		r = eval_dns_mech(cx, t, domain, depth);
		break;
	}
	/* (include has said what its target returned) */
	if (r == M_NOMATCH && t->mech != MECH_INCLUDE)
		tr(cx, "%s no match", esc(&e, t->s, t->len));
	return r;
}

/* The explanation (RFC 7208 6.2) after a fail: any problem (no usable name,
 * a DNS error, not exactly one TXT record, bad syntax, non-ASCII text, too
 * long) leaves it empty, silently. */
static int
explain(struct ctx *cx, const struct term *t, const char *domain)
{
	char name[LOOKUP_NAME_MAX + 1];
	const char *why = NULL;
	struct esc e;
	int r = target_name(cx, t->arg, t->arglen, domain, name, &why);
	if (r == R_PENDING)
		return R_PENDING;
	if (r == TN_BAD) {
		tr(cx, "exp: %s: ignored", why);
		return 0;
	}
	const struct lookup *l = answer(cx, LOOKUP_TXT, name);
	if (l == NULL)
		return R_PENDING;
	if (is_tempfail(l) || l->n != 1) {
		tr(cx, "exp: TXT %s: %s: ignored", name, is_tempfail(l) ? why_text(l) :
		    l->n == 0 ? "no record" : "more than one record");
		return 0;
	}
	const struct lookup_rr *rr = &l->rr[0];
	char text[sizeof cx->out->explanation];
	struct sb o;
	sb_init(&o, text, sizeof text);
	r = expand(cx, domain, (const char *)rr->data, rr->len, true, &o, &why);
	if (r == EX_PENDING)
		return R_PENDING;
	if (r != EX_OK || o.over) {
		tr(cx, "exp: TXT %s: %s: ignored", name, r != EX_OK ? why : "too long");
		return 0;
	}
	/* the expansion may bring in non-ASCII from the sender (RFC 7208 6.2) */
	for (size_t i = 0; i < o.len; i++)
		if ((uint8_t)text[i] < 0x20 || (uint8_t)text[i] > 0x7e) {
			tr(cx, "exp: not ASCII: ignored");
			return 0;
		}
	memcpy(cx->out->explanation, text, o.len + 1);
	tr(cx, "exp -> \"%s\"", esc(&e, text, o.len));
	return 0;
}

/* Fetch <domain>'s TXT records and pick the one SPF record (RFC 7208 4.4, 4.5). */
static int
select_record(struct ctx *cx, const char *domain, const char **rec, size_t *len)
{
	const struct lookup *l = answer(cx, LOOKUP_TXT, domain);
	struct esc e;
	if (l == NULL)
		return R_PENDING;
	if (is_tempfail(l))
		return dns_error(cx, l);
	size_t found = 0;
	for (size_t i = 0; i < l->n; i++)
		if (is_spf_record((const char *)l->rr[i].data, l->rr[i].len)) {
			*rec = (const char *)l->rr[i].data;
			*len = l->rr[i].len;
			found++;
		}
	if (found == 0) {
		tr(cx, "TXT %s: %s", domain, l->status == LOOKUP_NXDOMAIN ? "no such domain" :
		    "no SPF record");
		return problem(cx, SPF_NONE, "no SPF record");
	}
	if (found > 1)
		return problem(cx, SPF_PERMERROR, "%zu SPF records", found);
	tr(cx, "TXT %s -> \"%s\"", domain, esc(&e, *rec, *len));
	return R_FOUND;
}

static enum spf_result
qual_result(char q)
{
	switch (q) {
	case '-': return SPF_FAIL;
	case '~': return SPF_SOFTFAIL;
	case '?': return SPF_NEUTRAL;
	default: return SPF_PASS;
	}
}

static int
follow_redirect(struct ctx *cx, const struct term *t, const char *domain, unsigned depth,
    bool want_exp)
{
	char name[LOOKUP_NAME_MAX + 1];
	const char *why = NULL;
	struct esc e;
	int r = count_lookup(cx);
	if (r != 0)
		return r;
	r = target_name(cx, t->arg, t->arglen, domain, name, &why);
	if (r == R_PENDING)
		return R_PENDING;
	/* RFC 7208 6.1: a malformed target or no record there is a permerror */
	if (r == TN_BAD)
		return problem(cx, SPF_PERMERROR, "%s: target %s", esc(&e, t->s, t->len), why);
	tr(cx, "redirect=%s", name);
	r = check_host(cx, name, depth + 1, want_exp);
	cx->depth = depth;
	if (r == SPF_NONE) {
		snprintf(cx->out->problem, sizeof cx->out->problem,
		    "redirect=%.200s has no SPF record", name);
		return SPF_PERMERROR;
	}
	return r;
}

/* check_host() of RFC 7208 4 for <domain> (normalised).  want_exp: this
 * record's exp= counts (not inside an include, RFC 7208 6.2). */
static int
check_host(struct ctx *cx, const char *domain, unsigned depth, bool want_exp)
{
	cx->depth = depth;
	if (depth > SPF_DEPTH_MAX)
		return problem(cx, SPF_PERMERROR, "too many nested evaluations");
	const char *rec = NULL;
	size_t len = 0;
	int r = select_record(cx, domain, &rec, &len);
	if (r != R_FOUND)
		return r;
	struct mods m;
	char err[200];
	if (scan_record(rec, len, &m, err, sizeof err) < 0)
		return problem(cx, SPF_PERMERROR, "syntax: %s", err);
	size_t pos = 6;
	const char *ts;
	size_t tl;
	while (next_term(rec, len, &pos, &ts, &tl)) {
		struct term t;
		const char *why;
		struct esc e;
		if (!parse_term(ts, tl, &t, &why) || t.kind != T_MECH)
			continue;	/* parse cannot fail: scan_record passed */
		r = eval_mech(cx, &t, domain, depth);
		cx->depth = depth;
		if (r == M_NOMATCH)
			continue;
		if (r != M_MATCH) {
			if (r != R_PENDING)
				set_mechanism(cx, ts, tl);
			return r;
		}
		enum spf_result res = qual_result(t.qual);
		set_mechanism(cx, ts, tl);
		tr(cx, "%s matched: %s", esc(&e, ts, tl), spf_result_name(res));
		if (res == SPF_FAIL && want_exp && m.has_exp && explain(cx, &m.exp, domain) ==
		    R_PENDING)
			return R_PENDING;
		return res;
	}
	if (m.has_redirect)
		return follow_redirect(cx, &m.redirect, domain, depth, want_exp);
	str_copy(cx->out->mechanism, sizeof cx->out->mechanism, "default");
	tr(cx, "no directive matched: neutral");
	return SPF_NEUTRAL;
}

/* --- the request ---------------------------------------------------------- */

/* RFC 7208 4.3: the identity's domain must be a well-formed multi-label
 * name (letters, digits, '-', '_'; no literal, no empty label), or the
 * result is none. */
static bool
identity_domain_ok(const char *d, char *norm)
{
	size_t n = strlen(d);
	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_TEXT_MAX || memchr(d, '.', n) == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(is_alpha(d[i]) || is_digit(d[i]) || d[i] == '-' || d[i] == '_' ||
		    d[i] == '.'))
			return false;
	return lookup_name_norm(norm, d);
}

/* Fill the client and identity parts of cx; false (with *why) when the
 * request cannot be evaluated. */
static bool
setup(struct ctx *cx, const struct spf_request *rq, const char **why)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	memset(cx->ip, 0, sizeof cx->ip);
	cx->helo = rq->helo != NULL ? rq->helo : "";
	if (rq->family == AF_INET) {
		cx->v4 = true;
		memcpy(cx->ip, rq->ip, 4);
	} else if (rq->family == AF_INET6 && memcmp(rq->ip, mapped, 12) == 0) {
		/* RFC 7208 5: an IPv4-mapped address is an IPv4 client */
		cx->v4 = true;
		memcpy(cx->ip, rq->ip + 12, 4);
	} else {
		cx->v4 = false;
		memcpy(cx->ip, rq->ip, 16);
	}
	const char *sender = rq->sender != NULL ? rq->sender : "";
	const char *at = strrchr(sender, '@');
	const char *local = "postmaster", *dom = sender;
	size_t ll = strlen(local);
	if (rq->check_helo || sender[0] == '\0') {
		dom = cx->helo;		/* RFC 7208 2.3, 2.4: postmaster@HELO */
	} else if (at != NULL) {
		dom = at + 1;
		if (at > sender) {
			local = sender;
			ll = (size_t)(at - sender);
		}
	}
	cx->local[0] = cx->sender[0] = cx->odomain[0] = '\0';
	if (ll >= sizeof cx->local || !str_copy(cx->odomain, sizeof cx->odomain, dom) ||
	    (size_t)snprintf(cx->sender, sizeof cx->sender, "%.*s@%s", (int)ll, local, dom) >=
	    sizeof cx->sender) {
		*why = "identity too long";
		return false;
	}
	memcpy(cx->local, local, ll);
	cx->local[ll] = '\0';
	if (rq->family != AF_INET && rq->family != AF_INET6) {
		*why = "unknown address family";
		return false;
	}
	return true;
}

enum spf_step
spf_eval(const struct spf_request *rq, const struct lookup_set *answers, struct spf_outcome *out,
    struct spf_need *need, size_t *n_need, struct buf *trace)
{
	struct ctx cx;
	memset(&cx, 0, sizeof cx);
	memset(out, 0, sizeof *out);
	cx.rq = rq;
	cx.ans = answers;
	cx.out = out;
	cx.need = need;
	cx.trace = trace;
	*n_need = 0;
	if (trace != NULL)
		buf_reset(trace);
	const char *why = NULL;
	char domain[LOOKUP_NAME_MAX + 1];
	struct esc e;
	if (!setup(&cx, rq, &why)) {
		out->result = (enum spf_result)problem(&cx, SPF_NONE, "%s", why);
		return SPF_DONE;
	}
	str_copy(out->identity, sizeof out->identity, cx.sender);
	if (!identity_domain_ok(cx.odomain, domain)) {
		esc(&e, cx.odomain, strlen(cx.odomain));
		str_copy(out->domain, sizeof out->domain, e.s);
		out->result = (enum spf_result)problem(&cx, SPF_NONE,
		    "identity domain \"%.200s\" is not a domain name", e.s);
		return SPF_DONE;
	}
	str_copy(out->domain, sizeof out->domain, domain);
	tr(&cx, "check %s for %s", esc(&e, cx.sender, strlen(cx.sender)),
	    rq->check_helo ? "HELO" : "MAIL FROM");
	int r = check_host(&cx, domain, 0, true);
	cx.depth = 0;
	if (r == R_PENDING || cx.pending) {
		for (size_t i = 0; i < cx.n_need; i++)
			tr(&cx, "need %s %s", lookup_type_name(need[i].type), need[i].name);
		*n_need = cx.n_need;
		return SPF_NEED;
	}
	out->result = (enum spf_result)r;
	if (r != SPF_FAIL)
		out->explanation[0] = '\0';
	if (r == SPF_NONE || r == SPF_TEMPERROR || r == SPF_PERMERROR) {
		if (out->problem[0] == '\0')
			str_copy(out->problem, sizeof out->problem, "unknown");
	} else {
		out->problem[0] = '\0';
	}
	tr(&cx, "result: %s", spf_result_name(out->result));
	return SPF_DONE;
}

int
spf_expand(const struct spf_request *rq, const char *domain, const char *spec, bool exp,
    char *out, size_t outlen, char *err, size_t errlen)
{
	struct ctx cx;
	struct spf_outcome scratch;
	const char *why = NULL;
	memset(&cx, 0, sizeof cx);
	memset(&scratch, 0, sizeof scratch);
	cx.rq = rq;
	cx.out = &scratch;
	if (errlen > 0)
		err[0] = '\0';
	(void)setup(&cx, rq, &why);	/* an odd identity still expands */
	struct sb o;
	sb_init(&o, out, outlen);
	int r = expand(&cx, domain != NULL ? domain : cx.odomain, spec, strlen(spec), exp, &o,
	    &why);
	if (r != EX_OK) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (o.over) {
		snprintf(err, errlen, "expansion longer than %zu bytes", outlen > 0 ? outlen - 1 : 0);
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

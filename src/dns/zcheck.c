/*
 * dns/zcheck.c - semantic checks over a built zone (rules in zcheck.h).
 *
 * Input:   a zone that dns_zone_build accepted.  The build checked the
 *          stream's framing, not the rdata of every record (a record in
 *          RFC 3597 form may hold anything), so each rdata is put through
 *          dns_rdata_valid before a name is read from it, and TXT strings
 *          are walked with bounds checks.  TXT contents are anybody's text.
 * Output:  findings in a diag, "ok:" lines in a buf; nothing else.
 * Trusts:  the zone index (dns/zone.c).  Runs in: CLI.
 * Not here: what dns_zone_build reports (SOA and NS at the apex, CNAME
 *          rules, occluded names, TTLs); anything that needs a lookup.
 *
 * Mail records (SPF, DMARC, DKIM keys) are parsed by msgauth/, the code
 * the daemon evaluates them with, so that a record this check passes is
 * one Talon's receivers accept, and one parser per format stays true.
 * What is here is turning their answers into findings with a fix, and
 * the few checks beyond syntax that they have no opinion on.
 */
#include "dns/zcheck.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "core/util.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "msgauth/dkim.h"
#include "msgauth/dmarc.h"
#include "msgauth/spf.h"

#define LIST_NAMES_MAX	4	/* names listed in one message, then "..." */
#define SHOW_MAX	100	/* bytes of record text quoted in a message */

struct ck {
	const struct dns_zone *z;
	dns_where_fn *where;
	void *where_arg;
	const char *file;
	time_t now;
	struct diag *d;
	struct buf *ok;
	unsigned errs;
	/* each record's "rdlen | rdata" in stream order, to find its line;
	 * built when the first finding needs it */
	const uint8_t **recs;
	size_t n_recs;
	bool recs_built;
	uint8_t txt[DNS_RDATA_MAX];	/* a TXT record's strings joined */
	struct dkim_key key;		/* a DKIM key record, parsed */
};

/* --- where a record is, and saying things about it ----------------------- */

static void
index_records(struct ck *c)
{
	const uint8_t *p = c->z->stream;
	size_t len = c->z->stream_len, off = 0, cap = 0;

	c->recs_built = true;
	while (off < len) {
		int nl = dns_name_check(p + off, len - off);
		/* dns_zone_build read this stream already; stop rather than
		 * guess if it still does not frame */
		if (nl < 0 || len - off - (size_t)nl < 8)
			break;
		const uint8_t *h = p + off + nl;
		uint16_t rdlen = dns_get16(h + 6);
		if (len - off - (size_t)nl - 8 < rdlen)
			break;
		if (c->n_recs == cap) {
			cap = cap ? cap * 2 : 256;
			c->recs = xreallocarray(c->recs, cap, sizeof *c->recs);
		}
		c->recs[c->n_recs++] = h + 6;
		off += (size_t)nl + 8 + rdlen;
	}
}

/* file and line of the record whose "rdlen | rdata" is at rd (identical
 * records were merged by the build: the first one is named) */
static void
locate(struct ck *c, const uint8_t *rd, const char **file, unsigned *line)
{
	*file = c->file;
	*line = 0;
	if (rd == NULL || c->where == NULL)
		return;
	if (!c->recs_built)
		index_records(c);
	size_t lo = 0, hi = c->n_recs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uintptr_t)c->recs[mid] < (uintptr_t)rd)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->n_recs && c->recs[lo] == rd) {
		const char *f = NULL;
		c->where(c->where_arg, lo, &f, line);
		if (f != NULL)
			*file = f;
	}
}

static void
say(struct ck *c, bool err, const uint8_t *rd, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
say(struct ck *c, bool err, const uint8_t *rd, const char *fmt, ...)
{
	char text[1024];
	const char *file;
	unsigned line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	locate(c, rd, &file, &line);
	if (file == NULL)
		file = "zone";
	if (err) {
		diag_err(c->d, file, line, "%s", text);
		c->errs++;
	} else {
		diag_warn(c->d, file, line, "%s", text);
	}
}

static unsigned
n_found(const struct ck *c)
{
	return c->d->n_err + c->d->n_warn;
}

static void
passed(struct ck *c, unsigned before, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* an "ok:" line when nothing was reported since before */
static void
passed(struct ck *c, unsigned before, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (c->ok == NULL || n_found(c) != before)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	buf_printf(c->ok, "ok: %s\n", text);
}

/* --- small helpers ------------------------------------------------------- */

static bool
is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static bool
is_alnum(int ch)
{
	return is_alpha(ch) || is_digit(ch);
}

/* ch is one of the bytes of set (never NUL, which strchr would find) */
static bool
in_set(int ch, const char *set)
{
	return ch != 0 && strchr(set, ch) != NULL;
}

/* s[0..n) equals the lowercase word w, ASCII case ignored */
static bool
word_is(const uint8_t *s, size_t n, const char *w)
{
	return strlen(w) == n && ascii_memcaseeq(s, w, n);
}

/* decimal s[0..n) without sign into *v, at most max; no leading zeros
 * when strict (the RFC 7208 cidr and qnum forms) */
static bool
decimal(const uint8_t *s, size_t n, uint64_t max, bool strict, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 19 || (strict && n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > max)
		return false;
	*v = x;
	return true;
}

static const char *
name_text(const uint8_t *name, char out[DNS_NAME_TEXT_MAX])
{
	dns_name_to_text(name, out);
	return out;
}

/* "a., b., c., d., ..." for the names in the rdata of an NS or MX set
 * (name at offset off), into out */
static void
list_targets(const struct dns_rrset *rs, size_t off, uint16_t type, char *out, size_t outsz)
{
	char t[DNS_NAME_TEXT_MAX];
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < rs->n && o < outsz; i++) {
		const uint8_t *rd = rs->rd[i];
		if (!dns_rdata_valid(type, rd + 2, dns_get16(rd)))
			continue;
		int w = i == LIST_NAMES_MAX ? snprintf(out + o, outsz - o, ", ...") :
		    snprintf(out + o, outsz - o, "%s%.255s", o ? ", " : "",
		    name_text(rd + 2 + off, t));
		if (w < 0)
			break;
		o += (size_t)w;
		if (i == LIST_NAMES_MAX)
			break;
	}
}

/* record text for a message: escaped, cut at SHOW_MAX bytes */
static const char *
shown(const uint8_t *s, size_t n, char out[SHOW_MAX * 4 + 8])
{
	log_escape(out, SHOW_MAX * 4 + 8, s, n < SHOW_MAX ? n : SHOW_MAX);
	if (n > SHOW_MAX)
		strcat(out, "...");
	return out;
}

/* --- what the zone holds for a name -------------------------------------- */

struct look {
	const struct dns_node *node;	/* answers for the name: its own node, or
					 * the wildcard's; NULL for none or an
					 * empty non-terminal */
	const struct dns_node *cut;	/* a delegation at or above the name, below
					 * the apex: the zone holds only glue there */
	bool dname;			/* below a DNAME: answered by rewriting */
};

/* name must be at or below the apex.  Loops run once per label: no
 * recursion, at most DNS_NAME_LABELS_MAX rounds. */
static void
look(const struct dns_zone *z, const uint8_t *name, struct look *l)
{
	memset(l, 0, sizeof *l);
	for (const uint8_t *a = name; a != NULL && dns_name_labels(a) > z->origin_labels;
	    a = dns_name_parent(a)) {
		const struct dns_node *an = dns_zone_find(z, a);
		if (an == NULL)
			continue;
		if (an->flags & DNS_NODE_CUT)
			l->cut = an;
		if ((an->flags & DNS_NODE_DNAME) && a != name)
			l->dname = true;
	}
	const struct dns_node *n = dns_zone_find(z, name);
	if (n != NULL) {
		l->node = n->nsets > 0 ? n : NULL;
		return;
	}
	if (l->cut != NULL || l->dname)
		return;
	/* the closest encloser's wildcard answers (RFC 4592 3.3.1) */
	for (const uint8_t *a = dns_name_parent(name); a != NULL && dns_name_under(a, z->origin);
	    a = dns_name_parent(a)) {
		const struct dns_node *e = dns_zone_find(z, a);
		if (e == NULL)
			continue;
		size_t al = dns_name_len(a);
		uint8_t w[DNS_NAME_MAX];
		if ((e->flags & DNS_NODE_WILDCHILD) && 2 + al <= sizeof w) {
			w[0] = 1;
			w[1] = '*';
			memcpy(w + 2, a, al);
			l->node = dns_zone_find(z, w);
		}
		return;
	}
}

/* a name whose records are never answered: below a delegation or DNAME */
static bool
occluded(const struct dns_zone *z, const struct dns_node *nd)
{
	for (const uint8_t *a = dns_name_parent(nd->name);
	    a != NULL && dns_name_labels(a) > z->origin_labels; a = dns_name_parent(a)) {
		const struct dns_node *an = dns_zone_find(z, a);
		if (an != NULL && (an->flags & (DNS_NODE_CUT | DNS_NODE_DNAME)))
			return true;
	}
	return false;
}

static bool
has_address(const struct dns_zone *z, const struct dns_node *n)
{
	return n != NULL && (dns_node_rrset(z, n, DNS_T_A) != NULL ||
	    dns_node_rrset(z, n, DNS_T_AAAA) != NULL);
}

/* --- the SOA ------------------------------------------------------------- */

static unsigned
month_days(unsigned y, unsigned m)
{
	static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

static void
check_serial(struct ck *c, const uint8_t *soa_rd)
{
	uint32_t s = c->z->serial;
	unsigned before = n_found(c);

	if (s == 0) {
		say(c, false, soa_rd, "SOA serial is 0, which some tools and registries take for "
		    "\"no serial\" (fix: use a date serial YYYYMMDDnn such as 2024011500)");
		return;
	}
	/* YYYYMMDDnn: ten digits with a plausible year.  Serials that
	 * count seconds since 1970 start with 1 until 2033 and so are
	 * not taken for dates before then. */
	unsigned y = s / 1000000, m = s / 10000 % 100, dd = s / 100 % 100;
	if (s < 1000000000u || y < 1970 || y > 2099) {
		passed(c, before, "SOA serial %u", s);
		return;
	}
	if (m < 1 || m > 12 || dd < 1 || dd > month_days(y, m)) {
		say(c, false, soa_rd, "SOA serial %u looks like YYYYMMDDnn but %04u-%02u-%02u is "
		    "not a date (fix: count on from it, or move to a real date higher than it; "
		    "secondaries ignore a lower serial)", s, y, m, dd);
		return;
	}
	/* a day of slack: the admin's "today" may be UTC's tomorrow */
	time_t t = c->now + 86400;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		return;
	unsigned long limit = (unsigned long)(tm.tm_year + 1900) * 10000 +
	    (unsigned long)(tm.tm_mon + 1) * 100 + (unsigned long)tm.tm_mday;
	if ((unsigned long)y * 10000 + m * 100 + dd > limit) {
		say(c, false, soa_rd, "SOA serial %u is dated %04u-%02u-%02u, in the future: the "
		    "next date serial will be lower, and secondaries ignore a lower serial "
		    "(fix: if no secondary has loaded it yet, use today's date; else count on "
		    "from it)", s, y, m, dd);
		return;
	}
	passed(c, before, "SOA serial %u (%04u-%02u-%02u)", s, y, m, dd);
}

static void
check_soa(struct ck *c, const struct dns_node *apex)
{
	const struct dns_zone *z = c->z;
	const struct dns_rrset *soa = dns_node_rrset(z, apex, DNS_T_SOA);
	const struct dns_rrset *ns = dns_node_rrset(z, apex, DNS_T_NS);
	char mt[DNS_NAME_TEXT_MAX], hosts[600];
	unsigned before = n_found(c);

	if (soa == NULL || soa->n == 0 || ns == NULL)
		return;		/* dns_zone_build refuses such a zone */
	const uint8_t *rd = soa->rd[0];
	if (!dns_rdata_valid(DNS_T_SOA, rd + 2, dns_get16(rd)))
		return;
	const uint8_t *mname = rd + 2;
	bool found = false;
	for (uint32_t i = 0; i < ns->n && !found; i++) {
		const uint8_t *nr = ns->rd[i];
		found = dns_rdata_valid(DNS_T_NS, nr + 2, dns_get16(nr)) &&
		    dns_name_eq(nr + 2, mname);
	}
	list_targets(ns, 0, DNS_T_NS, hosts, sizeof hosts);
	if (!found)
		say(c, true, rd, "SOA MNAME %.255s is not one of the NS hosts (%s): secondaries "
		    "send NOTIFY-related queries and some tools use MNAME as the primary (fix: "
		    "set MNAME to the primary name server%s%s)", name_text(mname, mt), hosts,
		    ns->n == 1 ? ", " : ", one of ", ns->n == 1 ? hosts : "the NS hosts");
	else
		passed(c, before, "SOA MNAME %.255s is an NS host", name_text(mname, mt));
	check_serial(c, rd);
}

static void
check_apex_ns(struct ck *c, const struct dns_node *apex)
{
	const struct dns_rrset *ns = dns_node_rrset(c->z, apex, DNS_T_NS);
	char hosts[600];
	unsigned before = n_found(c);

	if (ns == NULL)
		return;
	if (ns->n == 1) {
		list_targets(ns, 0, DNS_T_NS, hosts, sizeof hosts);
		say(c, false, ns->rd[0], "only one NS record at the apex (%s): RFC 1034 4.1 asks "
		    "for at least two servers, so the zone stays reachable when one is down "
		    "(fix: add the secondary servers, such as the registrar's backups, as NS "
		    "records)", hosts);
		return;
	}
	passed(c, before, "%u NS records at the apex", ns->n);
}

/* RFC 9276 3.1: NSEC3 with 0 extra iterations and no salt.  Every
 * negative answer costs the server 3 x (iterations + 1) SHA-1 of the name,
 * and validators give up on high counts (RFC 9276 3.2: insecure above
 * 100, bogus above 150 for many). */
static void
check_nsec3param(struct ck *c, const struct dns_node *apex)
{
	const struct dns_rrset *p = dns_node_rrset(c->z, apex, DNS_T_NSEC3PARAM);
	unsigned before = n_found(c);
	if (p == NULL || dns_get16(p->rd[0]) < 5)
		return;
	const uint8_t *rd = p->rd[0] + 2;
	unsigned iter = dns_get16(rd + 2), salt = rd[4];
	if (iter > 0)
		say(c, iter > 100, p->rd[0], "NSEC3 with %u extra iterations: each negative answer "
		    "costs 3 x %u SHA-1, and validators treat counts above 100 as insecure or "
		    "bogus (RFC 9276 3.2) (fix: sign again with 0 iterations and no salt, "
		    "e.g. ldns-signzone -n -t 0)", iter, iter + 1);
	else if (salt > 0)
		say(c, false, p->rd[0], "NSEC3 with a %u-byte salt: it adds nothing (RFC 9276 "
		    "3.1) (fix: sign again without a salt)", salt);
	passed(c, before, "NSEC3 parameters: 0 iterations, no salt");
}

/* --- NS and MX targets --------------------------------------------------- */

struct tally {
	unsigned checked, bad;
};

static void
check_ns_target(struct ck *c, const struct dns_node *owner, const uint8_t *rd,
    struct tally *hosts, struct tally *glue)
{
	const struct dns_zone *z = c->z;
	const uint8_t *t = rd + 2;
	char tt[DNS_NAME_TEXT_MAX], ct[DNS_NAME_TEXT_MAX], ot[DNS_NAME_TEXT_MAX];
	struct look l;

	if (!dns_name_under(t, z->origin))
		return;		/* its address is another zone's business */
	look(z, t, &l);
	if (l.dname)
		return;
	if (l.cut != NULL) {
		/* resolvers learn the address of a host inside a delegated
		 * zone only from the glue here (RFC 1034 4.2.1) */
		glue->checked++;
		if (!has_address(z, dns_zone_find(z, t))) {
			glue->bad++;
			say(c, true, rd, "NS host %.255s of %.255s is at or below the delegation %.255s "
			    "and has no glue: resolvers cannot find its address (fix: add an A or "
			    "AAAA record for %.255s)", name_text(t, tt), name_text(owner->name, ot),
			    name_text(l.cut->name, ct), tt);
		}
		return;
	}
	hosts->checked++;
	const struct dns_rrset *cn = l.node ? dns_node_rrset(z, l.node, DNS_T_CNAME) : NULL;
	if (cn != NULL && dns_rdata_valid(DNS_T_CNAME, cn->rd[0] + 2, dns_get16(cn->rd[0]))) {
		hosts->bad++;
		say(c, true, rd, "NS target %.255s is a CNAME (RFC 2181 10.3: NS and MX must name "
		    "a host, not an alias) (fix: point the NS at %.255s)", name_text(t, tt),
		    name_text(cn->rd[0] + 2, ct));
	} else if (!has_address(z, l.node)) {
		hosts->bad++;
		say(c, true, rd, "NS target %.255s has no A or AAAA record in the zone (fix: add "
		    "an address for %.255s, or point the NS at a host that has one)",
		    name_text(t, tt), tt);
	}
}

/* a decimal octet label "0".."255" */
static bool
octet_label(const uint8_t *label)
{
	uint64_t v;
	return label[0] >= 1 && label[0] <= 3 && decimal(label + 1, label[0], 255, false, &v);
}

/* An IP address where a host name belongs: "192.0.2.1." written with a
 * final dot, or without one (then the origin follows), an IPv6 address
 * (one label with colons) or an SMTP address literal "[...]". */
static bool
ip_literal(const uint8_t *name, const uint8_t *origin)
{
	const uint8_t *p = name;
	unsigned k = 0;

	while (k < 4 && p[0] != 0 && octet_label(p)) {
		p += 1 + p[0];
		k++;
	}
	if (k == 4 && (p[0] == 0 || dns_name_eq(p, origin)))
		return true;
	if (name[0] == 0)
		return false;
	if (name[1] == '[')
		return true;
	char a6[64];
	struct in6_addr in6;
	if (name[0] >= sizeof a6 || memchr(name + 1, ':', name[0]) == NULL)
		return false;
	memcpy(a6, name + 1, name[0]);
	a6[name[0]] = '\0';
	p = name + 1 + name[0];
	return inet_pton(AF_INET6, a6, &in6) == 1 && (p[0] == 0 || dns_name_eq(p, origin));
}

static void
check_mx_set(struct ck *c, const struct dns_node *nd, const struct dns_rrset *mx,
    struct tally *hosts)
{
	const struct dns_zone *z = c->z;
	char tt[DNS_NAME_TEXT_MAX], ct[DNS_NAME_TEXT_MAX], ot[DNS_NAME_TEXT_MAX];

	for (uint32_t i = 0; i < mx->n; i++) {
		const uint8_t *rd = mx->rd[i];
		if (!dns_rdata_valid(DNS_T_MX, rd + 2, dns_get16(rd)))
			continue;
		const uint8_t *t = rd + 4;
		struct look l;
		if (t[0] == 0) {
			/* RFC 7505 3: a null MX says "no mail here" and must
			 * stand alone */
			hosts->checked++;
			if (mx->n > 1) {
				hosts->bad++;
				say(c, true, rd, "null MX (\".\", RFC 7505) at %.255s beside %u other MX "
				    "records: it says the domain takes no mail, so it must be the only "
				    "MX (fix: remove the null MX if %.255s receives mail, else the "
				    "other MX records)", name_text(nd->name, ot), mx->n - 1, ot);
			}
			continue;
		}
		if (ip_literal(t, z->origin)) {
			hosts->checked++;
			hosts->bad++;
			say(c, true, rd, "MX target %.255s is an IP address, not a host name (RFC 5321 "
			    "5.1 looks up a name's addresses) (fix: give the host a name with an A or "
			    "AAAA record and point the MX at that name)", name_text(t, tt));
			continue;
		}
		if (!dns_name_under(t, z->origin))
			continue;
		look(z, t, &l);
		if (l.dname || l.cut != NULL)
			continue;	/* the delegated zone's business */
		hosts->checked++;
		const struct dns_rrset *cn = l.node ? dns_node_rrset(z, l.node, DNS_T_CNAME) : NULL;
		if (cn != NULL && dns_rdata_valid(DNS_T_CNAME, cn->rd[0] + 2, dns_get16(cn->rd[0]))) {
			hosts->bad++;
			say(c, true, rd, "MX target %.255s is a CNAME (RFC 2181 10.3: NS and MX must "
			    "name a host, not an alias) (fix: point the MX at %.255s)",
			    name_text(t, tt), name_text(cn->rd[0] + 2, ct));
		} else if (!has_address(z, l.node)) {
			hosts->bad++;
			say(c, true, rd, "MX target %.255s has no A or AAAA record in the zone: "
			    "senders of mail to %.255s cannot reach it (fix: add an address for "
			    "%.255s, or point the MX at a host that has one)", name_text(t, tt),
			    name_text(nd->name, ot), tt);
		}
	}
}

static void
check_targets(struct ck *c)
{
	const struct dns_zone *z = c->z;
	struct tally ns = { 0, 0 }, glue = { 0, 0 }, mx = { 0, 0 };

	for (size_t k = 0; k < z->n_nodes; k++) {
		const struct dns_node *nd = &z->nodes[k];
		if (nd->nsets == 0 || occluded(z, nd))
			continue;
		const struct dns_rrset *rs = dns_node_rrset(z, nd, DNS_T_NS);
		for (uint32_t i = 0; rs != NULL && i < rs->n; i++)
			if (dns_rdata_valid(DNS_T_NS, rs->rd[i] + 2, dns_get16(rs->rd[i])))
				check_ns_target(c, nd, rs->rd[i], &ns, &glue);
		/* at a delegation only NS and DS are the parent's */
		rs = dns_node_rrset(z, nd, DNS_T_MX);
		if (rs != NULL && !(nd->flags & DNS_NODE_CUT))
			check_mx_set(c, nd, rs, &mx);
	}
	if (c->ok == NULL)
		return;
	if (ns.checked > 0 && ns.bad == 0)
		buf_printf(c->ok, "ok: NS targets in the zone (%u) have addresses and are no "
		    "CNAMEs\n", ns.checked);
	if (glue.checked > 0 && glue.bad == 0)
		buf_printf(c->ok, "ok: NS hosts below delegations (%u) have glue\n", glue.checked);
	if (mx.checked > 0 && mx.bad == 0)
		buf_printf(c->ok, "ok: MX targets in the zone (%u) have addresses and are no "
		    "CNAMEs or IP addresses\n", mx.checked);
}

/* --- the apex address and the MX hosts ----------------------------------- */

static bool
set_has(const struct dns_rrset *rs, const uint8_t *rd)
{
	uint16_t len = dns_get16(rd);
	for (uint32_t i = 0; rs != NULL && i < rs->n; i++)
		if (dns_get16(rs->rd[i]) == len && memcmp(rs->rd[i] + 2, rd + 2, len) == 0)
			return true;
	return false;
}

/* One apex A or AAAA set against the same type at every MX host. */
static void
apex_vs_hosts(struct ck *c, const struct dns_rrset *addrs, const struct dns_node **hosts,
    size_t n_hosts, const char *names, bool *bad)
{
	const struct dns_zone *z = c->z;
	int af = addrs->type == DNS_T_A ? AF_INET : AF_INET6;
	size_t alen = af == AF_INET ? 4 : 16;
	char at[INET6_ADDRSTRLEN], ht[INET6_ADDRSTRLEN], fix[INET6_ADDRSTRLEN + 80];
	const uint8_t *suggest = NULL;

	for (size_t h = 0; h < n_hosts && suggest == NULL; h++) {
		const struct dns_rrset *hs = dns_node_rrset(z, hosts[h], addrs->type);
		if (hs != NULL && dns_get16(hs->rd[0]) == alen)
			suggest = hs->rd[0] + 2;
	}
	if (suggest != NULL && inet_ntop(af, suggest, ht, sizeof ht) != NULL)
		snprintf(fix, sizeof fix, "point the apex %s at an MX host's address such as %s",
		    af == AF_INET ? "A" : "AAAA", ht);
	else
		snprintf(fix, sizeof fix, "remove the apex %s or point it at an MX host's address",
		    af == AF_INET ? "A" : "AAAA");
	for (uint32_t i = 0; i < addrs->n; i++) {
		const uint8_t *rd = addrs->rd[i];
		bool match = false;
		for (size_t h = 0; h < n_hosts && !match; h++)
			match = set_has(dns_node_rrset(z, hosts[h], addrs->type), rd);
		if (match || dns_get16(rd) != alen)
			continue;
		if (inet_ntop(af, rd + 2, at, sizeof at) == NULL)
			continue;
		*bad = true;
		say(c, false, rd, "apex %s %s is no MX host's address (MX: %s): senders that fall "
		    "back to the apex address (no MX) reach a host that may refuse the domain's "
		    "mail (fix: %s, or make that host accept the domain's mail)",
		    af == AF_INET ? "A" : "AAAA", at, names, fix);
	}
}

static void
check_apex_address(struct ck *c, const struct dns_node *apex)
{
	const struct dns_zone *z = c->z;
	const struct dns_rrset *mx = dns_node_rrset(z, apex, DNS_T_MX);
	const struct dns_rrset *a = dns_node_rrset(z, apex, DNS_T_A);
	const struct dns_rrset *aaaa = dns_node_rrset(z, apex, DNS_T_AAAA);
	char names[600];
	size_t n_hosts = 0;
	bool bad = false;

	if (mx == NULL || (a == NULL && aaaa == NULL))
		return;
	const struct dns_node **hosts = xcalloc(mx->n, sizeof *hosts);
	for (uint32_t i = 0; i < mx->n; i++) {
		const uint8_t *rd = mx->rd[i];
		struct look l;
		if (!dns_rdata_valid(DNS_T_MX, rd + 2, dns_get16(rd)))
			continue;
		const uint8_t *t = rd + 4;
		/* a null MX: no mail, nobody falls back; a host outside the
		 * zone: its addresses are not known here */
		if (t[0] == 0 || !dns_name_under(t, z->origin))
			goto out;
		look(z, t, &l);
		const struct dns_node *hn = l.cut != NULL ? dns_zone_find(z, t) : l.node;
		if (l.dname || !has_address(z, hn))
			goto out;	/* the MX check reports a host without address */
		hosts[n_hosts++] = hn;
	}
	list_targets(mx, 2, DNS_T_MX, names, sizeof names);
	if (a != NULL)
		apex_vs_hosts(c, a, hosts, n_hosts, names, &bad);
	if (aaaa != NULL)
		apex_vs_hosts(c, aaaa, hosts, n_hosts, names, &bad);
	if (!bad && c->ok != NULL)
		buf_printf(c->ok, "ok: the apex addresses are MX host addresses\n");
out:
	free(hosts);
}

/* --- SPF (RFC 7208): the syntax is msgauth/spf.c's ----------------------- */

/* A record is SPF when it starts with "v=spf1" (any case) followed by a
 * space or its end (RFC 7208 4.5).  spf_record_check applies that rule
 * first; given at most the first 7 bytes it has nothing else to object
 * to, so this is the daemon's rule by construction. */
static bool
is_spf(const uint8_t *s, size_t n)
{
	return spf_record_check((const char *)s, n < 7 ? n : 7, NULL, 0) == 0;
}

/* What to do about each kind of problem spf_record_check reports, found
 * by the start of its message ("unknown mechanism in \"moo\"").  A message
 * not in the table gets the generic fix. */
#define FIX_DOMAIN "write a full domain name such as _spf.example.org, or a macro"
#define FIX_MACRO "write %% for a percent sign, or %{letter[digits][r][delimiters]} for a macro"

static const struct {
	const char *why, *fix;
} SPF_FIXES[] = {
	{ "byte 0x", "use printable ASCII only, with spaces (not tabs) between terms" },
	{ "unknown mechanism", "use all, include, a, mx, ptr, ip4, ip6 or exists, or name=value "
	    "for a modifier" },
	{ "all takes no argument", "write all alone" },
	{ "missing ':' domain-spec", "write include:domain or exists:domain" },
	{ "bad ip4 network", "write an address such as 192.0.2.1 or a prefix such as "
	    "192.0.2.0/24, without leading zeros" },
	{ "bad ip6 network", "write an address such as 2001:db8::1 or a prefix such as "
	    "2001:db8::/32" },
	{ "bad CIDR length", "ip4 prefixes are /0 to /32 and ip6 prefixes /0 to /128, without "
	    "leading zeros" },
	{ "bad IPv4 CIDR length", "write /24 for IPv4 and //64 for IPv6, without leading zeros" },
	{ "bad IPv6 CIDR length", "write /24 for IPv4 and //64 for IPv6, without leading zeros" },
	{ "unexpected text after the mechanism name", "write a:domain, mx:domain, ptr:domain or "
	    "a /prefix" },
	{ "empty domain-spec", FIX_DOMAIN },
	{ "domain-spec does not end in a top-level label", FIX_DOMAIN },
	{ "'%'", FIX_MACRO },
	{ "unterminated macro", FIX_MACRO },
	{ "unknown macro letter", "use one of s l o d i p h v (and c r t in exp= text)" },
	{ "macro keeps zero parts", "drop the digits or keep 1 part or more" },
	{ "modifier name must start with a letter", "write name=value with a name that starts "
	    "with a letter" },
	{ "redirect= appears twice", "keep one (RFC 7208 6)" },
	{ "exp= appears twice", "keep one (RFC 7208 6)" },
};

static const char *
spf_fix(const char *err)
{
	for (size_t i = 0; i < NELEM(SPF_FIXES); i++)
		if (strncmp(err, SPF_FIXES[i].why, strlen(SPF_FIXES[i].why)) == 0)
			return SPF_FIXES[i].fix;
	return "see the record syntax in RFC 7208 12";
}

/* Length of the modifier name that starts term t, when a "=" follows it
 * (RFC 7208 12: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )); else 0. */
static size_t
modifier_name(const uint8_t *t, size_t n)
{
	size_t i = 0;

	while (i < n && (is_alpha(t[i]) || is_digit(t[i]) || in_set(t[i], "-_.")))
		i++;
	return i > 0 && i < n && t[i] == '=' ? i : 0;
}

static bool
word_in(const uint8_t *s, size_t n, const char *const *words, size_t n_words)
{
	for (size_t i = 0; i < n_words; i++)
		if (word_is(s, n, words[i]))
			return true;
	return false;
}

static const char *const SPF_MECHS[] = { "all", "include", "a", "mx", "ptr", "ip4", "ip6",
	"exists" };
/* the mechanisms that cost a DNS lookup (RFC 7208 4.6.4); redirect= too */
static const char *const SPF_DNS_MECHS[] = { "include", "a", "mx", "ptr", "exists" };

/* Two checks beyond the syntax, on a record spf_record_check accepted, so
 * that each space-separated term is known to be a well-formed mechanism
 * or modifier and only its name is read here: a modifier named like a
 * mechanism ("include=x", valid syntax that receivers ignore), and the
 * number of terms that query DNS in this record alone (its includes add
 * their own, which an offline check cannot see). */
static void
spf_lint(struct ck *c, const uint8_t *rd, const char *owner, const uint8_t *s, size_t n)
{
	char tt[SHOW_MAX * 4 + 8];
	unsigned lookups = 0;
	size_t i = 6;

	while (i < n) {
		while (i < n && s[i] == ' ')
			i++;
		size_t b = i;
		while (i < n && s[i] != ' ')
			i++;
		if (i == b)
			break;
		const uint8_t *t = s + b;
		size_t tl = i - b, nl = modifier_name(t, tl);
		if (nl > 0) {
			if (word_is(t, nl, "redirect"))
				lookups++;
			else if (word_in(t, nl, SPF_MECHS, NELEM(SPF_MECHS)))
				say(c, true, rd, "SPF record at %s: \"%s\" is an unknown modifier, "
				    "which receivers ignore (fix: write %.*s: with a colon)", owner,
				    shown(t, tl, tt), (int)nl, (const char *)t);
			continue;
		}
		size_t q = in_set(t[0], "+-~?") ? 1 : 0, e = q;
		while (e < tl && is_alnum(t[e]))
			e++;
		if (word_in(t + q, e - q, SPF_DNS_MECHS, NELEM(SPF_DNS_MECHS)))
			lookups++;
	}
	if (lookups > DNS_SPF_LOOKUPS_MAX)
		say(c, false, rd, "SPF record at %s has %u terms that query DNS (include, a, mx, "
		    "ptr, exists, redirect): more than %d is a permanent error (RFC 7208 4.6.4), "
		    "and every include adds its own (fix: replace a and mx with ip4 and ip6, or "
		    "merge includes)", owner, lookups, DNS_SPF_LOOKUPS_MAX);
}

static void
check_spf(struct ck *c, const uint8_t *rd, const char *owner, const uint8_t *s, size_t n)
{
	char err[400];
	unsigned before = n_found(c);

	/* the first problem only: the daemon stops there too (permerror) */
	if (spf_record_check((const char *)s, n, err, sizeof err) < 0)
		say(c, true, rd, "SPF record at %s: %s (fix: %s)", owner, err, spf_fix(err));
	else
		spf_lint(c, rd, owner, s, n);
	passed(c, before, "SPF record at %s", owner);
}

/* --- DMARC (RFC 7489): the record is msgauth/dmarc.c's ------------------- */

/* dmarc_record_parse keeps what the daemon uses: a record is invalid only
 * for its p= and sp= (RFC 7489 6.6.3 step 6); other bad values, unknown
 * tags and pieces without "=" are dropped silently (6.3), so they are not
 * reported here either. */
static void
check_dmarc(struct ck *c, const uint8_t *rd, const char *owner, const uint8_t *s, size_t n)
{
	struct dmarc_record r;
	char err[160];
	unsigned before = n_found(c);

	if (!dmarc_record_is_dmarc((const char *)s, n)) {
		say(c, true, rd, "TXT record at %s does not start with v=DMARC1, so receivers "
		    "ignore it (RFC 7489 6.6.3) (fix: begin it with \"v=DMARC1;\" in capitals, "
		    "e.g. \"v=DMARC1; p=none\")", owner);
		return;
	}
	if (dmarc_record_parse((const char *)s, n, &r, err, sizeof err) < 0) {
		say(c, true, rd, "DMARC record at %s: %s, so receivers apply no DMARC policy "
		    "(RFC 7489 6.6.3) (fix: %s)", owner, err,
		    strcmp(err, "no p= tag") == 0 ? "add p=none, p=quarantine or p=reject right "
		    "after v=DMARC1" : "p= and sp= take none, quarantine or reject, once each");
		return;
	}
	/* 6.6.3 step 6: a valid rua= rescues the record as p=none, whatever
	 * the p= or sp= that was meant */
	if (r.p_assumed)
		say(c, true, rd, "DMARC record at %s has no valid p= (or a bad sp=): receivers act "
		    "as if it said p=none, because rua= has a valid address (RFC 7489 6.6.3) "
		    "(fix: write p= and sp= as none, quarantine or reject, once each)", owner);
	passed(c, before, "DMARC record at %s", owner);
}

/* --- DKIM keys (RFC 6376 3.6.1, RFC 8463): msgauth/dkim_parse.c's -------- */

static const struct {
	const char *why, *fix;
} DKIM_FIXES[] = {
	{ "a NUL byte in the record", "remove it" },
	{ "a tag appears twice", "keep one: RFC 6376 3.2 makes the whole record invalid" },
	{ "v= is not", "begin the record with \"v=DKIM1;\" or leave v= out" },
	{ "unknown key type", "k=rsa or k=ed25519" },
	{ "no p= tag", "add p= with the base64 public key; verifiers reject a record without "
	    "it (RFC 6376 3.6.1)" },
	{ "p= is not base64", "copy the key again; quoted strings are joined without spaces, "
	    "so split it anywhere" },
	{ "an ed25519 p=", "publish the raw 32-byte key (RFC 8463 4.2), not its DER form" },
	{ "p= is not an RSA key", "publish the output of \"openssl rsa -pubout -outform DER\" "
	    "in base64" },
};

static const char *
dkim_fix(const char *why)
{
	for (size_t i = 0; i < NELEM(DKIM_FIXES); i++)
		if (strncmp(why, DKIM_FIXES[i].why, strlen(DKIM_FIXES[i].why)) == 0)
			return DKIM_FIXES[i].fix;
	return "write tag=value pairs separated by \";\", e.g. \"v=DKIM1; k=rsa; p=MIIB...\"";
}

/* The key's own checks: what msgauth/dkim.c's verifier refuses a parsed
 * key for (h=, s=, the key data, RSA sizes).  RSA bits, or 0 for Ed25519;
 * -1 after a finding that leaves no key. */
static int
dkim_key_usable(struct ck *c, const uint8_t *rd, const char *owner, const struct dkim_key *k)
{
	const char *why = "bad key";

	if (!k->email_ok)
		say(c, true, rd, "DKIM key at %s: s= lists neither email nor *, so verifiers "
		    "refuse it for mail (RFC 6376 3.6.1) (fix: leave s= out, or write s=email)",
		    owner);
	if (!k->sha256_ok)
		say(c, true, rd, "DKIM key at %s: h= does not list sha256, and verifiers refuse "
		    "sha1 (RFC 8301 3.1) (fix: leave h= out, or write h=sha256)", owner);
	EVP_PKEY *pk = dkim_key_pkey(k, &why);
	if (pk == NULL) {
		char size[40] = "";
		if (k->k == DKIM_K_ED25519)
			snprintf(size, sizeof size, ", this one holds %zu", k->p_len);
		say(c, true, rd, "DKIM key at %s: %s%s (fix: %s)", owner, why, size, dkim_fix(why));
		return -1;
	}
	int bits = k->k == DKIM_K_RSA ? EVP_PKEY_get_bits(pk) : 0;
	EVP_PKEY_free(pk);
	return bits;
}

static void
check_dkim(struct ck *c, const uint8_t *rd, const char *owner, const uint8_t *s, size_t n)
{
	const char *why = "bad record";
	unsigned before = n_found(c);

	if (dkim_key_parse(&c->key, s, n, &why) < 0) {
		say(c, true, rd, "DKIM key at %s: %s (fix: %s)", owner, why, dkim_fix(why));
		return;
	}
	if (c->key.revoked) {
		say(c, false, rd, "DKIM key at %s is revoked (empty p=): signatures with this "
		    "selector fail (fix: remove the record once no mail signed with it is in "
		    "transit, or publish the key again)", owner);
		return;
	}
	int bits = dkim_key_usable(c, rd, owner, &c->key);
	if (bits < 0)
		return;
	if (c->key.k == DKIM_K_RSA && bits < DKIM_RSA_MIN_BITS) {
		say(c, true, rd, "DKIM key at %s is RSA of %d bits: verifiers must not accept "
		    "signatures with keys under %d bits (RFC 8301 3.2) (fix: sign with a new key "
		    "of 2048 bits under a new selector)", owner, bits, DKIM_RSA_MIN_BITS);
		return;
	}
	if (c->key.k == DKIM_K_RSA && bits > DKIM_RSA_MAX_BITS) {
		say(c, true, rd, "DKIM key at %s is RSA of %d bits: Talon's verifier refuses keys "
		    "over %d bits, and RFC 8301 3.2 asks verifiers to handle only up to 4096 (fix: "
		    "sign with a new key of 2048 bits under a new selector)", owner, bits,
		    DKIM_RSA_MAX_BITS);
		return;
	}
	if (c->key.k == DKIM_K_RSA)
		passed(c, before, "DKIM key at %s (rsa, %d bits)", owner, bits);
	else
		passed(c, before, "DKIM key at %s (ed25519)", owner);
}

/* --- TXT records --------------------------------------------------------- */

/* the character-strings of a TXT rdata joined, into out */
static size_t
txt_join(const uint8_t *rd, uint8_t *out)
{
	size_t len = dns_get16(rd), o = 0, i = 0;
	const uint8_t *p = rd + 2;

	while (i < len) {
		size_t l = p[i++];
		if (l > len - i)
			l = len - i;
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	return o;
}

static bool
label_is(const uint8_t *label, const char *w)
{
	return word_is(label + 1, label[0], w);
}

/* a DKIM key name: <selector>._domainkey.<domain>, the selector being
 * one label or more */
static bool
is_dkim_name(const uint8_t *name)
{
	if (name[0] == 0)
		return false;
	for (const uint8_t *l = name + 1 + name[0]; l[0] != 0; l += 1 + l[0])
		if (label_is(l, "_domainkey"))
			return true;
	return false;
}

static void
check_txt(struct ck *c)
{
	const struct dns_zone *z = c->z;
	char owner[DNS_NAME_TEXT_MAX];

	for (size_t k = 0; k < z->n_nodes; k++) {
		const struct dns_node *nd = &z->nodes[k];
		if (nd->nsets == 0 || (nd->flags & DNS_NODE_CUT) || occluded(z, nd))
			continue;
		const struct dns_rrset *rs = dns_node_rrset(z, nd, DNS_T_TXT);
		if (rs == NULL)
			continue;
		bool dmarc = nd->name[0] != 0 && label_is(nd->name, "_dmarc");
		bool dkim = !dmarc && is_dkim_name(nd->name);
		unsigned n_spf = 0, n_dmarc = 0, n_dkim = 0;
		name_text(nd->name, owner);
		owner[255] = '\0';	/* messages quote at most this much */
		for (uint32_t i = 0; i < rs->n; i++) {
			const uint8_t *rd = rs->rd[i];
			size_t n = txt_join(rd, c->txt);
			if (is_spf(c->txt, n)) {
				/* RFC 7208 4.5: two SPF records are a permanent
				 * error for every message */
				if (++n_spf == 2)
					say(c, true, rd, "more than one SPF record at %s: receivers "
					    "treat that as a permanent error (RFC 7208 4.5) (fix: merge "
					    "them into one record)", owner);
				check_spf(c, rd, owner, c->txt, n);
			} else if (dmarc) {
				if (dmarc_record_is_dmarc((const char *)c->txt, n) &&
				    ++n_dmarc == 2)
					say(c, true, rd, "more than one DMARC record at %s: receivers "
					    "then apply none (RFC 7489 6.6.3) (fix: keep one)", owner);
				check_dmarc(c, rd, owner, c->txt, n);
			} else if (dkim) {
				if (++n_dkim == 2)
					say(c, false, rd, "more than one TXT record at the DKIM key "
					    "name %s: verifiers use one of them (fix: keep one key per "
					    "selector)", owner);
				check_dkim(c, rd, owner, c->txt, n);
			}
		}
	}
}

/* --- the lot ------------------------------------------------------------- */

int
dns_zcheck(const struct dns_zone *z, dns_where_fn *where, void *where_arg, const char *file,
    time_t now, struct diag *d, struct buf *ok)
{
	struct ck *c = xcalloc(1, sizeof *c);
	const struct dns_node *apex = dns_zone_find(z, z->origin);

	c->z = z;
	c->where = where;
	c->where_arg = where_arg;
	c->file = file;
	c->now = now;
	c->d = d;
	c->ok = ok;
	if (apex != NULL) {
		check_soa(c, apex);
		check_apex_ns(c, apex);
		check_nsec3param(c, apex);
	}
	check_targets(c);
	if (apex != NULL)
		check_apex_address(c, apex);
	check_txt(c);
	int rc = c->errs > 0 ? -1 : 0;
	free(c->recs);
	free(c);
	return rc;
}

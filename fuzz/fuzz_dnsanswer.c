/*
 * fuzz/fuzz_dnsanswer.c - dns_answer: one query packet in, one response out.
 *
 * Zones:   built once, from tests/data/dns/ (found from the working
 *          directory, $TALON_DNS_DATA, or ../tests/data/dns/ next to the
 *          binary): fuzz-example.com.nsec.signed (NSEC-signed: wildcards, a
 *          delegation with and without DS, DNAME in and out of the zone and
 *          one whose result is too long, CNAME chains to the hop limit and
 *          in loops, empty non-terminals, TXT RRsets over 512 and 1232
 *          bytes, 20 NS with glue), rfc5155.nsec3.signed (NSEC3 with
 *          opt-out), a child zone secure.example.com, and (second zone set
 *          only) a root zone, so no query is refused.
 * Input:   byte 0 chooses the call: bit 0 TCP, bits 1-2 the output buffer
 *          (512, 1232, 4096, 65535 bytes, allocated to the exact size so
 *          ASan sees any overrun), bit 3 the zone set with the root zone.
 *          The rest is the query packet (copied to an exact-size buffer).
 * Checks:  dns_answer returns 0 or a response of at least 12 bytes and at
 *          most the limit: over TCP the buffer; over UDP 512 without EDNS,
 *          else the client's size (at least 512) capped at 1232, and never
 *          more than the buffer.  A response has the query's id, QR set,
 *          the query's opcode and RD; at most one question, which is the
 *          query's, its name written uncompressed; it parses completely: every name through
 *          dns_name_unpack, every rdlen within the packet, names inside
 *          NS/CNAME/PTR/MX/SOA rdata decompressed to exactly the rdata's
 *          end, every rdata valid for its type (dns_rdata_valid), at most
 *          one OPT, owned by the root, in the additional section, and no
 *          byte left over.  TC means no answer or authority records, or a
 *          referral whose glue did not all fit, and matches info->tc; info->rcode matches the header (and the OPT's
 *          extended bits for BADVERS); AA only with NOERROR, NXDOMAIN or
 *          YXDOMAIN.
 * Seeds:   fuzz/corpus/dnsanswer/ (seed-*: valid queries of each kind;
 *          regress-*: inputs that found bugs), dictionary
 *          fuzz/dnsanswer.dict.

 */
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/util.h"
#include "dns/answer.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zone.h"
#include "dns/zonefile.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- the zones -------------------------------------------------------------------- */

struct fz {
	struct dns_zsrc src;
	struct dns_zone z;
};

static struct fz zones[4];
static const struct dns_zone *set_a[3], *set_b[4];
static struct dns_zoneset zs_a = { set_a, 3 }, zs_b = { set_b, 4 };

static const char ROOT_ZONE[] =
    "$TTL 3600\n"
    ". SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n"
    ". NS a.root-servers.net.\n"
    "a.root-servers.net. A 198.41.0.4\n"
    "*.arpa. TXT \"wild\"\n";

static const char CHILD_ZONE[] =
    "$TTL 300\n"
    "@ SOA ns1.example.com. h.example.com. 1 2 3 4 60\n"
    "@ NS ns1.example.com.\n"
    "www A 192.0.2.200\n";

static void
build(struct fz *f, const char *origin, const char *dir, const char *file, const char *text)
{
	uint8_t o[DNS_NAME_MAX];
	const char *err;
	struct diag d;
	if (dns_name_from_text(origin, strlen(origin), NULL, o, &err) < 0)
		abort();
	dns_zsrc_init(&f->src, o);
	diag_init(&d);
	int rc;
	if (file != NULL) {
		char *path = xasprintf("%s/%s", dir, file);
		rc = dns_zsrc_load(&f->src, path, &d);
		free(path);
	} else {
		rc = dns_zonefile_parse_text("fuzz", text, strlen(text), o, false, dns_zsrc_add,
		    &f->src, &d);
	}
	if (rc == 0)
		rc = dns_zone_build(&f->z, o, f->src.stream.data, f->src.stream.len, NULL, NULL, &d,
		    origin);
	if (rc != 0) {
		fprintf(stderr, "fuzz_dnsanswer: zone %s: %s\n", origin, diag_text(&d));
		abort();
	}
	diag_free(&d);
}

static const char *
data_dir(const char *argv0)
{
	static char buf[PATH_MAX];
	const char *env = getenv("TALON_DNS_DATA");
	if (env != NULL)
		return env;
	if (access("tests/data/dns/rfc5155.nsec3.signed", R_OK) == 0)
		return "tests/data/dns";
	snprintf(buf, sizeof buf, "%s", argv0);
	char *dir = dirname(buf);
	static char out[PATH_MAX + 32];
	snprintf(out, sizeof out, "%s/../tests/data/dns", dir);
	return out;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = data_dir(*argc > 0 ? (*argv)[0] : ".");
	build(&zones[0], "example.com.", dir, "fuzz-example.com.nsec.signed", NULL);
	build(&zones[1], "example.", dir, "rfc5155.nsec3.signed", NULL);
	build(&zones[2], "secure.example.com.", dir, NULL, CHILD_ZONE);
	build(&zones[3], ".", dir, NULL, ROOT_ZONE);
	for (int i = 0; i < 3; i++)
		set_a[i] = set_b[i] = &zones[i].z;
	set_b[3] = &zones[3].z;
	return 0;
}

/* --- reading the response ---------------------------------------------------------- */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* rdata at p[off..off+rdlen): names of the RFC 1035 types decompressed to
 * exactly the end, everything valid for its type */
static void
check_rdata(const uint8_t *p, size_t len, size_t off, uint16_t type, uint16_t rdlen)
{
	static uint8_t wire[DNS_RDATA_MAX + 2 * DNS_NAME_MAX];
	uint8_t nm[DNS_NAME_MAX];
	size_t end = off + rdlen, o = off, w = 0;
	int names = 0;
	switch (type) {
	case DNS_T_NS: case DNS_T_CNAME: case DNS_T_PTR: names = 1; break;
	case DNS_T_SOA: names = 2; break;
	case DNS_T_MX:
		if (rdlen < 2)
			abort();
		memcpy(wire, p + off, 2);
		w = 2;
		o = off + 2;
		names = 1;
		break;
	default:
		if (!dns_rdata_valid(type, p + off, rdlen))
			abort();
		return;
	}
	for (int i = 0; i < names; i++) {
		int nl = dns_name_unpack(p, len, &o, nm);
		if (nl < 0 || o > end)
			abort();
		memcpy(wire + w, nm, (size_t)nl);
		w += (size_t)nl;
	}
	if (type == DNS_T_SOA) {
		if (end - o != 20)
			abort();
		memcpy(wire + w, p + o, 20);
		w += 20;
		o += 20;
	}
	if (o != end || !dns_rdata_valid(type, wire, w))
		abort();
}

/* the whole response; returns the extended rcode */
static unsigned
walk(const uint8_t *p, size_t len, bool *has_opt)
{
	size_t off = 12;
	unsigned qd = get16(p + 4), an = get16(p + 6), ns = get16(p + 8), ar = get16(p + 10);
	unsigned rcode = p[3] & 15;
	uint8_t nm[DNS_NAME_MAX];
	*has_opt = false;
	if (qd > 1)
		abort();
	for (unsigned i = 0; i < qd; i++) {
		if (dns_name_unpack(p, len, &off, nm) < 0 || len - off < 4)
			abort();
		off += 4;
	}
	for (unsigned i = 0; i < an + ns + ar; i++) {
		if (dns_name_unpack(p, len, &off, nm) < 0 || len - off < 10)
			abort();
		uint16_t type = get16(p + off), cls = get16(p + off + 2), rdlen = get16(p + off + 8);
		off += 10;
		if (len - off < rdlen)
			abort();
		if (type == DNS_T_OPT) {
			if (i < an + ns || nm[0] != 0 || *has_opt || rdlen != 0)
				abort();
			*has_opt = true;
			rcode |= (unsigned)p[off - 6] << 4;
			(void)cls;
		} else {
			if (cls != DNS_C_IN)
				abort();
			check_rdata(p, len, off, type, rdlen);
		}
		off += rdlen;
	}
	if (off != len)
		abort();
	return rcode;
}

/* --- the query, as the harness sees it ------------------------------------------------ */

struct qview {
	bool question;		/* one question that parses */
	size_t qend;		/* after it */
	bool compressed;	/* its name holds a pointer */
	bool root;		/* its name is the root */
	bool opt;		/* an OPT was seen in the additional section */
	uint16_t size;		/* its UDP size */
};

static void
view(const uint8_t *q, size_t len, struct qview *v)
{
	memset(v, 0, sizeof *v);
	if (len < 12)
		return;
	size_t off = 12;
	uint8_t nm[DNS_NAME_MAX];
	int nl = dns_name_unpack(q, len, &off, nm);
	if (nl < 0 || len - off < 4)
		return;
	v->question = true;
	v->compressed = off - 12 != (size_t)nl;
	v->root = nm[0] == 0;
	off += 4;
	v->qend = off;
	unsigned ar = get16(q + 10);
	for (unsigned i = 0; i < ar; i++) {
		if (dns_name_unpack(q, len, &off, nm) < 0 || len - off < 10)
			return;
		uint16_t type = get16(q + off), rdlen = get16(q + off + 8);
		if (type == DNS_T_OPT && !v->opt) {
			v->opt = true;
			v->size = get16(q + off + 2);
		}
		if (len - off - 10 < rdlen)
			return;
		off += 10 + (size_t)rdlen;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t outmaxes[4] = { 512, 1232, 4096, 65535 };
	if (size < 1)
		return 0;
	bool tcp = data[0] & 1;
	size_t outmax = outmaxes[(data[0] >> 1) & 3];
	const struct dns_zoneset *zs = (data[0] & 8) ? &zs_b : &zs_a;
	size_t qlen = size - 1;
	uint8_t *q = malloc(qlen ? qlen : 1);
	memcpy(q, data + 1, qlen);

	struct qview v;
	view(q, qlen, &v);

	uint8_t *out = malloc(outmax);
	struct dns_qinfo info;
	size_t len = dns_answer(zs, q, qlen, tcp, out, outmax, &info);
	if (len == 0)
		goto done;

	size_t limit = outmax;
	if (!tcp) {
		size_t udp = v.opt ? (v.size < 512 ? 512 : v.size) : 512;
		if (udp > DNS_UDP_MAX)
			udp = DNS_UDP_MAX;
		if (udp < limit)
			limit = udp;
	}
	if (len < 12 || len > limit || qlen < 12)
		abort();
	/* the header: id, QR, opcode and RD as asked */
	if (out[0] != q[0] || out[1] != q[1] || !(out[2] & 0x80) ||
	    (out[2] & 0x79) != (q[2] & 0x79))
		abort();
	/* the question: the query's, with its name written out uncompressed
	 * (letter case kept), or none */
	unsigned qd = get16(out + 4);
	if (qd == 1) {
		uint8_t nm[DNS_NAME_MAX];
		size_t qo = 12;
		if (!v.question || dns_name_unpack(q, qlen, &qo, nm) < 0)
			abort();
		size_t nl = dns_name_len(nm);
		if (len < 12 + nl + 4 || memcmp(out + 12, nm, nl) != 0 ||
		    memcmp(out + 12 + nl, q + v.qend - 4, 4) != 0)
			abort();
	}
	bool has_opt;
	unsigned rcode = walk(out, len, &has_opt);
	bool tc = out[2] & 0x02, aa = out[2] & 0x04;
	/* TC: no records, or a referral whose in-domain glue did not all fit
	 * (RFC 9471 3: the NS RRset stays, TC says the glue is incomplete) */
	if (tc != info.tc || (tc && get16(out + 6) + get16(out + 8) != 0 && get16(out + 8) == 0))
		abort();
	if (rcode != info.rcode)
		abort();
	if (aa && rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN && rcode != DNS_R_YXDOMAIN)
		abort();
	if (has_opt && !v.opt)
		abort();	/* an OPT only for a query that had one */
done:
	free(out);
	free(q);
	return 0;
}

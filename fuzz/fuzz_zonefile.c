/*
 * fuzz/fuzz_zonefile.c - libFuzzer harness for dns/zonefile.c and the
 * rdata code of dns/rr.c.
 *
 * Input:   zone file text, parsed with origin "example.", $INCLUDE refused.
 * Checks:  the return value is -1 exactly when an error was reported;
 *          every record the parser hands out has class IN, a TTL of at
 *          most 2^31-1, a data type (not meta), a valid owner at or below
 *          example., rdata that dns_rdata_valid accepts and whose names
 *          dns_rdata_names finds valid; its rdata as text
 *          (dns_rdata_to_text) must succeed and, read back as the one-line
 *          zone "owner TTL IN TYPE text", give exactly the same wire
 *          bytes, with no message.  There is no type for which that round
 *          trip is not possible: types without a presentation format here
 *          use RFC 3597 "\# N hex", and dns_rdata_valid refuses the wire
 *          forms that have no text form (empty TXT, trailing zero octets
 *          in type bitmaps, empty key or digest data).  No leaks.
 * Seeds:   fuzz/corpus/zonefile/, dictionary fuzz/zonefile.dict.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/util.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zonefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t EX[] = "\7example\0";

/* What the second parse saw. */
struct back {
	uint8_t rdata[DNS_RDATA_MAX];
	size_t len;
	uint16_t type;
	int n;
};

static int
one_rr(void *arg, const struct dns_rr *rr)
{
	struct back *b = arg;
	memcpy(b->rdata, rr->rdata, rr->rdlen);
	b->len = rr->rdlen;
	b->type = rr->type;
	b->n++;
	return 0;
}

/* The longest presentation form: a TXT of 257 strings of 255 bytes, all
 * escaped as \DDD, is about 263,000 bytes. */
static char text[300000];
static char line[300000 + 2 * DNS_NAME_TEXT_MAX];

static void
round_trip(const struct dns_rr *rr)
{
	char owner[DNS_NAME_TEXT_MAX], tb[16];
	static struct back b;
	struct diag d;

	int k = dns_rdata_to_text(rr->type, rr->rdata, rr->rdlen, text, sizeof text);
	assert(k >= 0 && (size_t)k == strlen(text));
	dns_name_to_text(rr->owner, owner);
	int n = snprintf(line, sizeof line, "%s %u IN %s %s\n", owner, (unsigned)rr->ttl,
	    dns_type_name(rr->type, tb), text);
	assert(n > 0 && (size_t)n < sizeof line);
	b.n = 0;
	b.len = 0;
	diag_init(&d);
	int rc = dns_zonefile_parse_text("rt", line, (size_t)n, EX, false, one_rr, &b, &d);
	if (rc != 0 || b.n != 1) {
		fprintf(stderr, "round trip of %s failed:\n%s", line, diag_text(&d));
		abort();
	}
	assert(d.n_err == 0 && d.n_warn == 0);
	assert(b.type == rr->type && b.len == rr->rdlen);
	assert(memcmp(b.rdata, rr->rdata, b.len) == 0);
	diag_free(&d);
}

static int
check_rr(void *arg, const struct dns_rr *rr)
{
	size_t offs[2];

	(void)arg;
	assert(rr->rclass == DNS_C_IN);
	assert(rr->ttl <= DNS_TTL_MAX);
	assert(!dns_type_is_meta(rr->type));
	assert(dns_name_check(rr->owner, DNS_NAME_MAX) == (int)dns_name_len(rr->owner));
	assert(dns_name_under(rr->owner, EX));
	assert(dns_rdata_valid(rr->type, rr->rdata, rr->rdlen));
	int nn = dns_rdata_names(rr->type, rr->rdata, rr->rdlen, offs);
	assert(nn >= 0 && nn <= 2);
	for (int i = 0; i < nn; i++)
		assert(offs[i] < rr->rdlen &&
		    dns_name_check(rr->rdata + offs[i], rr->rdlen - offs[i]) > 0);
	round_trip(rr);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;

	diag_init(&d);
	int rc = dns_zonefile_parse_text("fuzz", (const char *)data, size, EX, false, check_rr,
	    NULL, &d);
	assert((rc == 0) == (d.n_err == 0));
	diag_free(&d);
	return 0;
}

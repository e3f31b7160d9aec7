/*
 * fuzz/fuzz_dnsxfr.c - libFuzzer harness for the transfer-request side of
 * the dns process: dns_xfr_request (AXFR/IXFR questions, the IXFR SOA) and
 * dns_tsig_verify (the TSIG record of RFC 8945).
 *
 * Input:   a DNS message as it would arrive on TCP.
 * Checks:  no crash or sanitizer report; dns_xfr_request true only for
 *          AXFR/IXFR with a valid name (its length in range); the TSIG
 *          result is one of the documented values, OK never without the
 *          key's MAC (a random input cannot carry it), and a request that
 *          verified with the key is signed back without error.
 * Seeds:   fuzz/corpus/dnsxfr/ (queries, one with a TSIG record).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "dns/answer.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/tsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_tsig_key key;
	static int init;
	if (!init) {
		const char *err;
		assert(dns_tsig_key_parse(&key, "xfr-key.", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		    &err));
		init = 1;
	}
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype = 0;
	uint32_t serial;
	bool has;
	if (dns_xfr_request(data, size, qname, &qtype, &serial, &has)) {
		assert(qtype == DNS_T_AXFR || qtype == DNS_T_IXFR);
		assert(dns_name_len(qname) <= DNS_NAME_MAX);
		assert(!has || qtype == DNS_T_IXFR);
	}
	struct dns_tsig t;
	int v = dns_tsig_verify(data, size, &key, 1700000000, &t);
	assert(v == DNS_TSIG_OK || v == DNS_TSIG_BADSIG || v == DNS_TSIG_BADKEY ||
	    v == DNS_TSIG_BADTIME || v == DNS_TSIG_NONE || v == DNS_TSIG_FORMERR);
	assert(v != DNS_TSIG_OK);	/* nobody guesses an HMAC-SHA256 */
	v = dns_tsig_verify(data, size, NULL, 0, &t);
	assert(v != DNS_TSIG_OK);
	/* the answer side: a transfer of a tiny message signs without error */
	uint8_t msg[512 + DNS_TSIG_RR_MAX];
	memset(msg, 0, 12);
	size_t len = 12;
	t.key = &key;
	t.first = true;
	assert(dns_tsig_sign(&t, msg, &len, sizeof msg, 1700000000));
	assert(msg[11] == 1 && len > 12);
	return 0;
}

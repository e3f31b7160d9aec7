/*
 * fuzz/fuzz_dnsname.c - libFuzzer harness for dns/name.c.
 *
 * Input:   two bytes of offset (big-endian) and a packet; the same bytes
 *          after the offset are also tried as presentation text.
 * Checks:  dns_name_unpack at the offset either fails and leaves the
 *          offset alone, or returns a name whose dns_name_len equals the
 *          return value, which dns_name_check accepts (labels <= 63, at
 *          most 255 bytes), with the offset moved forward within the
 *          packet; that name to text and back is the same wire bytes;
 *          canon_cmp(x, x) == 0 and x equals its lowercased copy.  Text
 *          that dns_name_from_text accepts gives a valid name whose text
 *          reads back to the same bytes.
 * Seeds:   fuzz/corpus/dnsname/, dictionary fuzz/dnsname.dict.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "dns/name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t EX[] = "\7example\0";

/* name is valid: text and back, comparisons with itself. */
static void
check_name(const uint8_t *name, int n)
{
	char t[DNS_NAME_TEXT_MAX];
	uint8_t back[DNS_NAME_MAX], low[DNS_NAME_MAX];
	const char *err;

	assert(n > 0 && n <= DNS_NAME_MAX);
	assert((size_t)n == dns_name_len(name));
	assert(dns_name_check(name, (size_t)n) == n);
	size_t k = dns_name_to_text(name, t);
	assert(k < DNS_NAME_TEXT_MAX && k == strlen(t));
	assert(dns_name_from_text(t, k, NULL, back, &err) == n);
	assert(memcmp(back, name, (size_t)n) == 0);
	assert(dns_name_canon_cmp(name, name) == 0);
	memcpy(low, name, (size_t)n);
	dns_name_lower(low);
	assert(dns_name_eq(name, low) && dns_name_canon_cmp(name, low) == 0);
	assert(dns_name_under(name, name));
	const uint8_t *p = dns_name_parent(name);
	assert((p == NULL) == (name[0] == 0));
	if (p != NULL)
		assert(dns_name_under(name, p) && dns_name_canon_cmp(p, name) < 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[DNS_NAME_MAX];
	const char *err;

	if (size < 2)
		return 0;
	size_t off = (size_t)data[0] << 8 | data[1], o = off;
	const uint8_t *pkt = data + 2;
	size_t len = size - 2;

	int n = dns_name_unpack(pkt, len, &o, out);
	if (n < 0) {
		assert(o == off);
	} else {
		assert(o > off && o <= len);
		check_name(out, n);
	}

	n = dns_name_from_text((const char *)pkt, len, EX, out, &err);
	assert((n < 0) == (err != NULL));
	if (n > 0)
		check_name(out, n);
	return 0;
}

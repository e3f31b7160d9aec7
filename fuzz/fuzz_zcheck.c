/*
 * fuzz/fuzz_zcheck.c - libFuzzer harness for `talon zone check`'s checks
 * (dns/zcheck.c: NS/MX targets, glue, the apex address, and SPF, DMARC
 * and DKIM key records through msgauth's parsers) over zones built by the
 * real parser and index.
 *
 * Input:   zone text for origin "example.", no $INCLUDE.
 * Checks:  no crash, leak or sanitizer report; every message has the
 *          "file:line:" or "file:" form; the passed-checks text is
 *          NUL-terminated text.
 * Seeds:   fuzz/corpus/zcheck/ (the seed zone and mail records).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/diag.h"
#include "dns/zcheck.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t origin[] = "\x07" "example";
	struct dns_zsrc src;
	struct diag d;
	struct buf ok;
	dns_zsrc_init(&src, origin);
	diag_init(&d);
	buf_init(&ok, 1 << 20);
	if (dns_zonefile_parse_text("z", (const char *)data, size, origin, false, dns_zsrc_add, &src,
	    &d) == 0) {
		struct dns_zone z;
		if (dns_zone_build(&z, origin, src.stream.data, src.stream.len,
		    dns_zsrc_where, &src, &d, "z") == 0) {
			dns_zcheck(&z, dns_zsrc_where, &src, "z", 1700000000, &d, &ok);
			dns_zone_free(&z);
		}
	}
	const char *t = diag_text(&d);
	while (*t) {
		assert(strncmp(t, "z:", 2) == 0);
		const char *nl = strchr(t, '\n');
		assert(nl != NULL);
		t = nl + 1;
	}
	assert(buf_cstr(&ok) || ok.err);
	buf_free(&ok);
	diag_free(&d);
	dns_zsrc_free(&src);
	return 0;
}

/*
 * tests/unit/test_dns_journal.c - the IXFR journal (dns_journal_add,
 * dns_journal_find in dns/zone.c).
 */
#include <string.h>

#include "core/buf.h"
#include "core/diag.h"
#include "dns/rr.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "t.h"

static const uint8_t EX[] = "\x07" "example";

#define HEAD(serial) "$TTL 300\n@ SOA ns1 h " serial " 7200 3600 1209600 60\n@ NS ns1\nns1 A 192.0.2.1\n"

/* a stream from zone text (kept in s) */
static void
stream(struct dns_zsrc *s, const char *text)
{
	struct diag d;
	diag_init(&d);
	dns_zsrc_init(s, EX);
	CHECK_INT(dns_zonefile_parse_text("z", text, strlen(text), EX, false, dns_zsrc_add, s, &d), 0);
	diag_free(&d);
}

/* the records of one journal entry's body as "TYPE owner-first-byte" text */
static size_t
entries(const struct buf *j, uint32_t from[], uint32_t to[], size_t max)
{
	size_t n = 0, off = 0;
	while (off + 12 <= j->len && n < max) {
		from[n] = dns_get32(j->data + off);
		to[n] = dns_get32(j->data + off + 4);
		off += 12 + dns_get32(j->data + off + 8);
		n++;
	}
	CHECK_INT(off, j->len);
	return n;
}

T(test_one_step)
{
	struct dns_zsrc a, b;
	stream(&a, HEAD("1") "old A 192.0.2.7\nsame TXT \"x\"\n");
	stream(&b, HEAD("2") "new A 192.0.2.8\nsame TXT \"x\"\n");
	struct buf j;
	buf_init(&j, 0);
	CHECK(dns_journal_add(&j, a.stream.data, a.stream.len, b.stream.data, b.stream.len, 1, 2));
	uint32_t from[4], to[4];
	CHECK_INT(entries(&j, from, to, 4), 1);
	CHECK_INT(from[0], 1);
	CHECK_INT(to[0], 2);
	/* old SOA, "old" A, new SOA, "new" A: four records, no "same" */
	const uint8_t *p = j.data + 12, *end = j.data + j.len;
	uint16_t types[8];
	size_t n = 0;
	while (p < end && n < 8) {
		size_t nl = dns_name_len(p);
		types[n++] = dns_get16(p + nl);
		p += nl + 8 + dns_get16(p + nl + 6);
	}
	CHECK_INT(n, 4);
	CHECK_INT(types[0], DNS_T_SOA);
	CHECK_INT(types[1], DNS_T_A);
	CHECK_INT(types[2], DNS_T_SOA);
	CHECK_INT(types[3], DNS_T_A);
	/* found from serial 1 when the zone is at 2; not from 2 or 3 */
	struct dns_zone z;
	memset(&z, 0, sizeof z);
	z.serial = 2;
	z.journal = j.data;
	z.journal_len = j.len;
	CHECK_INT(dns_journal_find(&z, 1), 0);
	CHECK_INT(dns_journal_find(&z, 2), -1);
	CHECK_INT(dns_journal_find(&z, 3), -1);
	/* a zone that moved on without the journal: no chain to it */
	z.serial = 3;
	CHECK_INT(dns_journal_find(&z, 1), -1);
	buf_free(&j);
	dns_zsrc_free(&a);
	dns_zsrc_free(&b);
}

T(test_capped_and_chained)
{
	struct buf j;
	buf_init(&j, 0);
	struct dns_zsrc prev;
	char text[256];
	snprintf(text, sizeof text, HEAD("%d"), 1);
	stream(&prev, text);
	for (int s = 2; s <= DNS_JOURNAL_ENTRIES_MAX + 5; s++) {
		struct dns_zsrc next;
		snprintf(text, sizeof text, HEAD("%d") "h%d A 192.0.2.%d\n", s, s, s);
		stream(&next, text);
		CHECK(dns_journal_add(&j, prev.stream.data, prev.stream.len, next.stream.data,
		    next.stream.len, (uint32_t)s - 1, (uint32_t)s));
		dns_zsrc_free(&prev);
		prev = next;
	}
	uint32_t from[32], to[32];
	size_t n = entries(&j, from, to, 32);
	CHECK_INT(n, DNS_JOURNAL_ENTRIES_MAX);	/* the oldest ones went */
	CHECK_INT(to[n - 1], DNS_JOURNAL_ENTRIES_MAX + 5);
	for (size_t i = 1; i < n; i++)
		CHECK_INT(from[i], to[i - 1]);
	struct dns_zone z;
	memset(&z, 0, sizeof z);
	z.serial = DNS_JOURNAL_ENTRIES_MAX + 5;
	z.journal = j.data;
	z.journal_len = j.len;
	CHECK(dns_journal_find(&z, from[0]) == 0);
	CHECK(dns_journal_find(&z, from[3]) > 0);
	CHECK_INT(dns_journal_find(&z, 1), -1);	/* dropped */
	/* a stream that does not parse is refused and leaves the journal */
	size_t len = j.len;
	CHECK(!dns_journal_add(&j, (const uint8_t *)"\x05", 1, prev.stream.data, prev.stream.len,
	    1, 2));
	CHECK_INT(j.len, len);
	buf_free(&j);
	dns_zsrc_free(&prev);
}

int
main(void)
{
	RUN(test_one_step);
	RUN(test_capped_and_chained);
	return t_done("dns_journal");
}

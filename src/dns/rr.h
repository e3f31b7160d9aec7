/*
 * dns/rr.h - resource record types: the type table, where names sit in
 * rdata, the wire-form check for rdata, and rdata in presentation form.
 *
 * Rdata is always uncompressed wire form (RFC 3597 4: names inside the
 * rdata of the types below are never compressed when we hold them).
 * Presentation form follows what BIND prints on one line, so what
 * dns_rdata_to_text writes reads back through dns/zonefile.c to the same
 * bytes.  Types without a presentation format here use the generic form
 * of RFC 3597 5 ("\# N hex").
 *
 * Runs in: dns role, parent, CLI.  Trusts: nothing in rdata.
 */
#ifndef TALON_DNS_RR_H
#define TALON_DNS_RR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
	DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33, DNS_T_DNAME = 39,
	DNS_T_OPT = 41, DNS_T_DS = 43, DNS_T_SSHFP = 44, DNS_T_RRSIG = 46, DNS_T_NSEC = 47,
	DNS_T_DNSKEY = 48, DNS_T_NSEC3 = 50, DNS_T_NSEC3PARAM = 51, DNS_T_TLSA = 52,
	DNS_T_TSIG = 250, DNS_T_IXFR = 251, DNS_T_AXFR = 252, DNS_T_ANY = 255, DNS_T_CAA = 257
};
enum { DNS_C_IN = 1, DNS_C_CH = 3, DNS_C_NONE = 254, DNS_C_ANY = 255 };

#define DNS_RDATA_MAX	65535	/* RDLENGTH is 16 bits */
#define DNS_TXT_MAX	255	/* bytes of one character-string */

/* "A", "NSEC3PARAM", ..., "TYPE65534" for types without a mnemonic here;
 * the result is a static string or buf (at least 16 bytes). */
const char *dns_type_name(uint16_t type, char buf[16]);
/* Mnemonic or TYPEnnn (ASCII case-insensitive, RFC 3597 5) in s[0..n) to
 * the type; -1 if it is neither. */
int dns_type_from_text(const char *s, size_t n);
/* True for types that may not appear as data (RFC 6895 3.1: 0, OPT and
 * the Q/meta range 128..255, which holds TSIG, IXFR, AXFR and ANY). */
bool dns_type_is_meta(uint16_t type);

/* Where the uncompressed names inside an rdata of this type are, for name
 * compression and the case of names on output.  Fills offs[] (at most 2:
 * the SOA has mname and rname) with byte offsets into rdata and returns
 * how many; -1 when rdata is not valid for the type (dns_rdata_valid).
 * NS, CNAME, PTR, DNAME, NSEC: 0; MX: 2; SOA: 0 and after mname; SRV: 6;
 * RRSIG: 18 (the signer). */
int dns_rdata_names(uint16_t type, const uint8_t *rdata, size_t len, size_t offs[2]);

/* True when rdata[0..len) is well-formed wire form for type: names valid
 * and uncompressed, fixed lengths right, every variable part non-empty
 * where the presentation form cannot express empty, DS digests of the
 * length their digest type has, type bitmaps as RFC 4034 4.1.2 and BIND
 * want them (windows ascending, 1..32 octets, last octet non-zero).  Any
 * rdata up to DNS_RDATA_MAX bytes is valid for other types.  The check for
 * anything read from the network or given in RFC 3597 form. */
bool dns_rdata_valid(uint16_t type, const uint8_t *rdata, size_t len);

/* Digest length of a DS digest type with a fixed size (1 SHA-1: 20,
 * 2 SHA-256: 32, 4 SHA-384: 48); 0 for others, which take any length. */
size_t dns_ds_digest_len(unsigned dtype);

/* Presentation form of rdata into out (outsz bytes, NUL-terminated), as
 * BIND prints it on one line; other types as RFC 3597 "\# N hex".
 * Returns the length written (without the NUL), or -1 when rdata is not
 * valid for the type or the text does not fit. */
int dns_rdata_to_text(uint16_t type, const uint8_t *rdata, size_t len, char *out,
    size_t outsz);

/* Bits of a 32-bit seconds-since-1970 value (RRSIG times, RFC 4034 3.2),
 * written as YYYYMMDDHHmmSS (1970..2106) into out; and the reverse for
 * 14 digits, years 1970..9999 taken modulo 2^32.  false on a bad date. */
void dns_time_to_text(uint32_t t, char out[15]);
bool dns_time_from_text(const char *s, size_t n, uint32_t *t);

#endif

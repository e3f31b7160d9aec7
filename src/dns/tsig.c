/*
 * dns/tsig.c - TSIG with HMAC-SHA256 (see dns/tsig.h).
 */
#include "dns/tsig.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dns/rr.h"
#include "dns/zone.h"

/* the algorithm name, in wire form */
static const uint8_t HMAC_SHA256[] = "\x0bhmac-sha256";
#define HMAC_SHA256_LEN	13

struct mac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

static bool
mac_init(struct mac *m, const struct dns_tsig_key *k)
{
	OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_end() };
	m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	m->ctx = m->mac ? EVP_MAC_CTX_new(m->mac) : NULL;
	return m->ctx != NULL && EVP_MAC_init(m->ctx, k->secret, k->secret_len, p) == 1;
}

static void
mac_add(struct mac *m, const void *d, size_t n)
{
	EVP_MAC_update(m->ctx, d, n);
}

static bool
mac_final(struct mac *m, uint8_t out[DNS_TSIG_MAC])
{
	size_t l = 0;
	bool ok = EVP_MAC_final(m->ctx, out, &l, DNS_TSIG_MAC) == 1 && l == DNS_TSIG_MAC;
	EVP_MAC_CTX_free(m->ctx);
	EVP_MAC_free(m->mac);
	return ok;
}

static void
put48(uint8_t *p, uint64_t v)
{
	for (int i = 5; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* the TSIG variables of RFC 8945 4.3.3; timers_only for later messages
 * of a transfer (5.3.1) */
static void
mac_vars(struct mac *m, const struct dns_tsig_key *k, uint64_t time, uint16_t error,
    const uint8_t *other, uint16_t other_len, bool timers_only)
{
	uint8_t b[10];
	if (!timers_only) {
		mac_add(m, k->name, dns_name_len(k->name));
		uint8_t ct[6] = { 0, DNS_C_ANY, 0, 0, 0, 0 };	/* class ANY, TTL 0 */
		mac_add(m, ct, sizeof ct);
		mac_add(m, HMAC_SHA256, HMAC_SHA256_LEN);
	}
	put48(b, time);
	b[6] = (uint8_t)(DNS_TSIG_FUDGE >> 8);
	b[7] = (uint8_t)DNS_TSIG_FUDGE;
	mac_add(m, b, 8);
	if (!timers_only) {
		uint8_t e[4] = { (uint8_t)(error >> 8), (uint8_t)error, (uint8_t)(other_len >> 8),
			(uint8_t)other_len };
		mac_add(m, e, 4);
		if (other_len)
			mac_add(m, other, other_len);
	}
}

int
dns_tsig_verify(const uint8_t *q, size_t qlen, const struct dns_tsig_key *key, uint64_t now,
    struct dns_tsig *t)
{
	memset(t, 0, sizeof *t);
	if (qlen < 12)
		return DNS_TSIG_FORMERR;
	unsigned qd = dns_get16(q + 4), an = dns_get16(q + 6), ns = dns_get16(q + 8),
	    ar = dns_get16(q + 10);
	if (ar == 0)
		return DNS_TSIG_NONE;
	/* walk to the last record */
	size_t off = 12;
	uint8_t nm[DNS_NAME_MAX];
	for (unsigned i = 0; i < qd; i++) {
		if (dns_name_unpack(q, qlen, &off, nm) < 0 || qlen - off < 4)
			return DNS_TSIG_FORMERR;
		off += 4;
	}
	unsigned total = an + ns + ar;
	size_t rr_off = 0;
	for (unsigned i = 0; i < total; i++) {
		rr_off = off;
		if (dns_name_unpack(q, qlen, &off, nm) < 0 || qlen - off < 10)
			return DNS_TSIG_FORMERR;
		uint16_t rdlen = dns_get16(q + off + 8);
		if (qlen - off - 10 < rdlen)
			return DNS_TSIG_FORMERR;
		if (i + 1 < total && dns_get16(q + off) == DNS_T_TSIG)
			return DNS_TSIG_FORMERR;	/* TSIG must be last (RFC 8945 5.1) */
		off += 10 + (size_t)rdlen;
	}
	if (off != qlen)
		return DNS_TSIG_FORMERR;
	/* the last record */
	size_t p = rr_off;
	if (dns_name_unpack(q, qlen, &p, nm) < 0 || dns_get16(q + p) != DNS_T_TSIG)
		return DNS_TSIG_NONE;
	if (dns_get16(q + p + 2) != DNS_C_ANY || dns_get32(q + p + 4) != 0)
		return DNS_TSIG_FORMERR;
	size_t rd = p + 10, end = rd + dns_get16(q + p + 8);
	uint8_t alg[DNS_NAME_MAX];
	size_t a = rd;
	if (dns_name_unpack(q, end, &a, alg) < 0 || end - a < 10)
		return DNS_TSIG_FORMERR;
	uint64_t time = 0;
	for (int i = 0; i < 6; i++)
		time = time << 8 | q[a + i];
	uint16_t fudge = dns_get16(q + a + 6), mac_len = dns_get16(q + a + 8);
	a += 10;
	if (end - a < (size_t)mac_len + 6)
		return DNS_TSIG_FORMERR;
	const uint8_t *mac = q + a;
	a += mac_len;
	uint16_t orig_id = dns_get16(q + a), error = dns_get16(q + a + 2),
	    other_len = dns_get16(q + a + 4);
	a += 6;
	if (end - a != other_len)
		return DNS_TSIG_FORMERR;
	t->key = key;
	t->orig_id = orig_id;
	t->time = time;
	t->first = true;
	dns_name_lower(nm);
	dns_name_lower(alg);
	if (key == NULL || !dns_name_eq(nm, key->name) ||
	    memcmp(alg, HMAC_SHA256, HMAC_SHA256_LEN) != 0)
		return DNS_TSIG_BADKEY;
	/* RFC 8945 5.2.2.1: no MAC shorter than half the hash or 10 bytes;
	 * we take the full one only */
	if (mac_len != DNS_TSIG_MAC)
		return DNS_TSIG_BADSIG;
	struct mac m;
	uint8_t want[DNS_TSIG_MAC];
	/* the request without its TSIG, ARCOUNT one less and the original id */
	uint8_t head[12];
	memcpy(head, q, 12);
	head[0] = (uint8_t)(orig_id >> 8);
	head[1] = (uint8_t)orig_id;
	head[10] = (uint8_t)((ar - 1) >> 8);
	head[11] = (uint8_t)(ar - 1);
	if (!mac_init(&m, key))
		return DNS_TSIG_BADSIG;
	mac_add(&m, head, 12);
	mac_add(&m, q + 12, rr_off - 12);
	mac_vars(&m, key, time, error, q + a - other_len, other_len, false);
	if (!mac_final(&m, want) || CRYPTO_memcmp(want, mac, DNS_TSIG_MAC) != 0)
		return DNS_TSIG_BADSIG;
	/* the time only after the MAC: an unsigned time says nothing */
	if ((now > time ? now - time : time - now) > fudge)
		return DNS_TSIG_BADTIME;
	memcpy(t->mac, mac, DNS_TSIG_MAC);
	return DNS_TSIG_OK;
}

bool
dns_tsig_sign(struct dns_tsig *t, uint8_t *msg, size_t *len, size_t max, uint64_t now)
{
	const struct dns_tsig_key *k = t->key;
	size_t kl = dns_name_len(k->name);
	size_t rdlen = HMAC_SHA256_LEN + 10 + DNS_TSIG_MAC + 6;
	size_t need = kl + 10 + rdlen;
	if (max < *len || max - *len < need)
		return false;
	struct mac m;
	uint8_t mac[DNS_TSIG_MAC];
	uint8_t prev[2] = { 0, DNS_TSIG_MAC };
	if (!mac_init(&m, k))
		return false;
	mac_add(&m, prev, 2);
	mac_add(&m, t->mac, DNS_TSIG_MAC);
	mac_add(&m, msg, *len);
	mac_vars(&m, k, now, 0, NULL, 0, !t->first);
	if (!mac_final(&m, mac))
		return false;
	uint8_t *p = msg + *len;
	memcpy(p, k->name, kl);
	p += kl;
	uint8_t h[10] = { 0, DNS_T_TSIG, 0, DNS_C_ANY, 0, 0, 0, 0, (uint8_t)(rdlen >> 8),
		(uint8_t)rdlen };
	memcpy(p, h, 10);
	p += 10;
	memcpy(p, HMAC_SHA256, HMAC_SHA256_LEN);
	p += HMAC_SHA256_LEN;
	put48(p, now);
	p[6] = (uint8_t)(DNS_TSIG_FUDGE >> 8);
	p[7] = (uint8_t)DNS_TSIG_FUDGE;
	p[8] = 0;
	p[9] = DNS_TSIG_MAC;
	p += 10;
	memcpy(p, mac, DNS_TSIG_MAC);
	p += DNS_TSIG_MAC;
	uint8_t tail[6] = { (uint8_t)(t->orig_id >> 8), (uint8_t)t->orig_id, 0, 0, 0, 0 };
	memcpy(p, tail, 6);
	*len += need;
	unsigned ar = dns_get16(msg + 10) + 1u;
	msg[10] = (uint8_t)(ar >> 8);
	msg[11] = (uint8_t)ar;
	memcpy(t->mac, mac, DNS_TSIG_MAC);
	t->first = false;
	return true;
}

bool
dns_tsig_key_parse(struct dns_tsig_key *k, const char *name, const char *b64, const char **err)
{
	memset(k, 0, sizeof *k);
	if (dns_name_from_text(name, strlen(name), (const uint8_t *)"", k->name, err) < 0)
		return false;
	dns_name_lower(k->name);
	size_t n = strlen(b64);
	uint8_t out[((4096 + 3) / 4) * 3];
	if (n == 0 || n % 4 != 0 || n > 4096) {
		*err = "the secret is not base64";
		return false;
	}
	int l = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (l < 0) {
		*err = "the secret is not base64";
		return false;
	}
	/* EVP_DecodeBlock counts padding as zero bytes */
	if (n >= 1 && b64[n - 1] == '=')
		l--;
	if (n >= 2 && b64[n - 2] == '=')
		l--;
	if (l < 16 || (size_t)l > DNS_TSIG_KEY_MAX) {
		*err = "the secret must be 16 to 64 bytes (e.g. `openssl rand -base64 32`)";
		OPENSSL_cleanse(out, sizeof out);
		return false;
	}
	memcpy(k->secret, out, (size_t)l);
	k->secret_len = (size_t)l;
	OPENSSL_cleanse(out, sizeof out);
	return true;
}

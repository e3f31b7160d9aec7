/*
 * msgauth/dkim.h - DKIM signatures (RFC 6376, RFC 8463 ed25519-sha256,
 * RFC 8301 algorithm and key size rules): verification and signing as
 * pure functions.
 *
 * Verification streams: the header section comes from msgauth/header.h,
 * the body is canonicalised and hashed as it arrives (never buffered), and
 * the key record is handed over as a DNS answer (dns/lookup.h) by the
 * caller, which does the lookup however it likes (the policy process
 * asynchronously, the CLI synchronously, tests not at all).
 *
 * Runs in: policy, CLI.  Trusts: nothing in the message or the key record.
 * Not here: DNS, DMARC alignment, Authentication-Results formatting.
 */
#ifndef TALON_MSGAUTH_DKIM_H
#define TALON_MSGAUTH_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "dns/lookup.h"
#include "msgauth/header.h"

#define DKIM_VERIFY_MAX	8	/* signatures checked per message */
#define DKIM_RESULTS_MAX 16	/* results kept: those past 8 say "not checked" */
#define DKIM_TAGS_MAX	64	/* tags in one tag-list */
#define DKIM_H_MAX	128	/* names in one h= */
#define DKIM_B_MAX	1024	/* b= bytes: an 8192-bit RSA signature */
#define DKIM_P_MAX	2048	/* p= bytes: an 8192-bit RSA key, DER */
#define DKIM_RSA_MIN_BITS 1024	/* RFC 8301 3.2 */
#define DKIM_RSA_MAX_BITS 8192	/* beyond this verifying costs too much */

/* --- tag lists (RFC 6376 3.2) ------------------------------------------- */

/* One tag: name and value point into the parsed text; the value has its
 * surrounding whitespace removed, inner whitespace (folding) kept.  eq is
 * just after the '=', end at the ';' or the end of the list: [eq, end) is
 * the value "including all surrounding whitespace" (RFC 6376 3.7). */
struct dkim_tag {
	const char *name;
	size_t name_len;
	const char *val;
	size_t val_len;
	const char *eq, *end;
};

/* Parse a tag-list of len bytes (SP, HTAB, CR and LF count as whitespace,
 * so a raw folded field value can be given).  Tag names are case
 * sensitive; a name twice, a missing '=', a bad name or value character,
 * or more than max tags is an error (-1, *why static text).  An empty
 * value is allowed; one trailing ';' too. */
int dkim_tags_parse(const char *s, size_t len, struct dkim_tag *t, size_t max, size_t *n,
    const char **why);
/* The tag named name, or NULL. */
const struct dkim_tag *dkim_tag_find(const struct dkim_tag *t, size_t n, const char *name);
/* Decode base64 (RFC 4648 4) skipping SP, HTAB, CR and LF (folding inside
 * b= and p=) into out (at most max bytes).  -1 on a bad character, bad
 * padding or too much data. */
int dkim_b64_decode(const char *s, size_t len, uint8_t *out, size_t max, size_t *n);

/* --- signatures and keys ------------------------------------------------ */

enum dkim_canon { DKIM_SIMPLE = 0, DKIM_RELAXED };
enum dkim_alg { DKIM_RSA_SHA256 = 0, DKIM_ED25519_SHA256, DKIM_RSA_SHA1 };

struct dkim_span {
	const char *p;
	size_t len;
};

/* A parsed DKIM-Signature value.  h[] and the b= span point into the
 * parsed text, which must outlive the struct. */
struct dkim_sig {
	enum dkim_alg alg;
	enum dkim_canon hcanon, bcanon;
	char a[32];
	char d[256];
	char s[128];
	char i[512];		/* i=, or "@" d= */
	char b8[16];		/* the first 8 characters of b= */
	uint8_t b[DKIM_B_MAX];
	size_t b_len;
	uint8_t bh[64];
	size_t bh_len;
	bool has_l, has_t, has_x;
	uint64_t l, t, x;
	size_t n_h;
	struct dkim_span h[DKIM_H_MAX];
	const char *b_eq, *b_end;	/* the b= value with its whitespace */
};

/* Parse the value of a DKIM-Signature field (after the colon; folding
 * allowed).  Checks everything that needs no clock and no key: required
 * tags, v=1, known a= and c=, q= dns/txt, h= holding From, i= within d=,
 * x= after t=.  rsa-sha1 parses (alg DKIM_RSA_SHA1) so that the caller can
 * name it when refusing it.  -1 with *why; what parsed before the error
 * (d, s, a) is kept for the report. */
int dkim_sig_parse(struct dkim_sig *sig, const char *val, size_t len, const char **why);

enum dkim_ktype { DKIM_K_RSA = 0, DKIM_K_ED25519 };

/* A parsed key record (RFC 6376 3.6.1, RFC 8463 4). */
struct dkim_key {
	enum dkim_ktype k;
	bool revoked;		/* p= empty */
	bool testing;		/* t=y */
	bool strict;		/* t=s: i= must be exactly d= */
	bool sha256_ok;		/* h= absent, or lists sha256 */
	bool email_ok;		/* s= absent, "*" or "email" */
	uint8_t p[DKIM_P_MAX];
	size_t p_len;
};

/* Parse a TXT record's text (the character-strings concatenated). -1 with
 * *why ("no p= tag", "v= is not DKIM1"...). */
int dkim_key_parse(struct dkim_key *k, const uint8_t *txt, size_t len, const char **why);
/* The public key of k as OpenSSL's: RSA from SubjectPublicKeyInfo (or a
 * bare RSAPublicKey, which some records carry), Ed25519 from the 32 raw
 * bytes.  NULL with *why.  Caller frees. */
/* SHA-256 for every DKIM hash, fetched once per process. */
const EVP_MD *dkim_sha256(void);
EVP_PKEY *dkim_key_pkey(const struct dkim_key *k, const char **why);
/* A ready RSA/SHA-256 verification context for a key dkim_key_pkey gave
 * (kept with it in the cache), or NULL. */
EVP_PKEY_CTX *dkim_key_vctx(EVP_PKEY *pk);

/* --- canonicalisation (RFC 6376 3.4) ------------------------------------ */

/* Canonicalise one raw header field (as in struct mhdr: name, colon,
 * value, folding and maybe its line end, LF or CRLF) onto out, ended by
 * CRLF when crlf. */
void dkim_canon_header(enum dkim_canon c, const uint8_t *f, size_t len, size_t name_len,
    bool crlf, struct buf *out);

/* Streaming body canonicaliser: bytes in, canonical bytes out through
 * emit, at most limit of them when has_limit (l=). */
typedef void (*dkim_emit_fn)(void *arg, const uint8_t *p, size_t n);
struct dkim_body {
	enum dkim_canon c;
	bool has_limit;
	uint64_t limit;
	uint64_t total;		/* canonical bytes so far, past the limit too */
	uint64_t n_empty;	/* empty lines held back (trailing ones vanish) */
	bool cr;		/* a CR that may start a CRLF */
	bool wsp;		/* relaxed: WSP held back */
	bool line;		/* the current line has output */
	dkim_emit_fn emit;
	void *arg;
	size_t tmp_len;
	uint8_t tmp[1024];
};
void dkim_body_init(struct dkim_body *b, enum dkim_canon c, bool has_limit, uint64_t limit,
    dkim_emit_fn emit, void *arg);
void dkim_body_feed(struct dkim_body *b, const uint8_t *p, size_t len);
void dkim_body_finish(struct dkim_body *b);

/* --- verification ------------------------------------------------------- */

enum dkim_res {
	DKIM_NONE = 0, DKIM_PASS, DKIM_FAIL, DKIM_NEUTRAL, DKIM_POLICY,
	DKIM_TEMPERROR, DKIM_PERMERROR
};
/* RFC 8601 names: "none" "pass" "fail" "neutral" "policy" "temperror"
 * "permerror". */
const char *dkim_res_name(enum dkim_res r);

struct dkim_result {
	enum dkim_res res;
	char domain[256];	/* d= */
	char selector[128];	/* s= */
	char auid[512];		/* i= (or "@" d= when absent) */
	char algo[32];		/* a= */
	char b[16];		/* first 8 characters of b=, for header.b */
	bool body_limited;	/* l= was present and shorter than the body */
	bool testing;		/* key t=y */
	char why[200];		/* human reason */
};

struct dkim_verify;
struct dkim_verify *dkim_verify_new(time_t now);
/* After the header section is complete (h->done): parse the DKIM-Signature
 * fields of h and start a body hasher per signature (at most
 * DKIM_VERIFY_MAX; later ones get a "policy" result saying they were not
 * checked).  A header section that overflowed its collector makes every
 * signature permerror: fields were lost.  h must stay alive and unchanged
 * until dkim_verify_free. */
void dkim_verify_header(struct dkim_verify *v, const struct mhdrs *h);
/* Body bytes, LF or CRLF line ends. */
void dkim_verify_body(struct dkim_verify *v, const uint8_t *p, size_t len);
/* End of message: body hashes final. */
void dkim_verify_finish(struct dkim_verify *v);
size_t dkim_verify_count(const struct dkim_verify *v);
/* Signatures past DKIM_RESULTS_MAX, neither checked nor reported. */
size_t dkim_verify_dropped(const struct dkim_verify *v);
/* The TXT name whose key signature i needs ("sel._domainkey.example.com",
 * normalised with lookup_name_norm), or NULL when its result is already
 * decided. */
const char *dkim_verify_key_name(const struct dkim_verify *v, size_t i);
/* Hand over the TXT answer for signature i; verifies the signature.  A
 * LOOKUP_TEMPFAIL (or bogus) answer gives temperror; NXDOMAIN or no
 * record gives permerror ("no key record"). */
void dkim_verify_key(struct dkim_verify *v, size_t i, const struct lookup *txt);
/* Verify signature i with a key given directly (tests, or a caller that
 * already has it). */
void dkim_verify_pkey_record(struct dkim_verify *v, size_t i, const uint8_t *txt, size_t len);
const struct dkim_result *dkim_verify_result(const struct dkim_verify *v, size_t i);
void dkim_verify_free(struct dkim_verify **v);

/* --- signing ------------------------------------------------------------ */

struct dkim_signer {
	const char *domain;
	const char *selector;
	EVP_PKEY *key;		/* RSA (>= 1024 bits) or Ed25519 */
	/* optional, zero for none: */
	const char *auid;	/* i= (must be within domain) */
	time_t expire;		/* x= this many seconds after t= */
	bool body_length;	/* l= the body's canonical length; weakens the
				 * signature (RFC 6376 8.2): tests only */
};

/* Sign the whole message msg[0..len) (LF or CRLF line ends) with each key
 * (dual signing: RSA and Ed25519), relaxed/relaxed, the fields of a default
 * list that are present (each instance listed) and From once more to seal
 * it, t= set from now.  Appends the DKIM-Signature fields, folded, each
 * line ended by eol ("\n" or "\r\n"), to out, to be prepended to the
 * message.  0, or -1 with err. */
int dkim_sign(const struct dkim_signer *s, size_t n, const uint8_t *msg, size_t len, time_t now,
    const char *eol, struct buf *out, char *err, size_t errlen);
/* A PEM private key file (PKCS#8 or traditional), RSA or Ed25519.  NULL
 * with err. */
EVP_PKEY *dkim_key_load(const char *path, char *err, size_t errlen);
/* The TXT record text for a key: "v=DKIM1; k=rsa; p=..." or
 * "v=DKIM1; k=ed25519; p=...".  0, or -1 for another key type. */
int dkim_key_txt(EVP_PKEY *key, struct buf *out);

#endif

/*
 * tests/unit/test_scram.c - SCRAM-SHA-256(-PLUS) (auth/scram.h): the
 * client-first and client-final parsers (tables, every prefix in an
 * exact-size block), the channel-binding rules, the server's exchange
 * against RFC 7677 3's test vector, -PLUS with tls-exporter data, the
 * stored keys and fake keys, and core/b64.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/scram.h"
#include "core/b64.h"
#include "core/util.h"
#include "t.h"

#define U8(s) ((const uint8_t *)(s))

/* RFC 7677 3 */
#define V_PW		"pencil"
#define V_SALT		"W22ZaJ0SNY7soEsUEjb6gQ=="
#define V_ITER		4096
#define V_CFIRST	"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define V_SNONCE	"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define V_SFIRST	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
			"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define V_CFINAL_NP	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define V_PROOF		"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define V_CFINAL	V_CFINAL_NP ",p=" V_PROOF
#define V_SFINAL	"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
/* StoredKey and ServerKey of the vector, computed apart with Python's
 * hashlib.pbkdf2_hmac and hmac */
#define V_STORED	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
#define V_SERVER	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

static void
vector_keys(struct user_scram *k)
{
	uint8_t salt[32];
	size_t sl;
	CHECK_INT(b64_decode(V_SALT, strlen(V_SALT), salt, sizeof salt, &sl), B64_OK);
	CHECK_INT(scram_keys_make(V_PW, salt, sl, V_ITER, k), 0);
}

/* The client's side, written here apart from the server code: the proof
 * for pw over AuthMessage, appended to without_proof as ",p=...". */
static void
client_final(const char *pw, const struct user_scram *k, const char *bare, const char *sfirst,
    const char *without_proof, char *out, size_t outsz)
{
	uint8_t salted[32], ckey[32], stored[32], csig[32], proof[32];
	unsigned int l;
	char am[4096], p64[64];
	PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), k->salt, (int)k->salt_len, (int)k->iter,
	    EVP_sha256(), 32, salted);
	HMAC(EVP_sha256(), salted, 32, U8("Client Key"), 10, ckey, &l);
	EVP_Digest(ckey, 32, stored, &l, EVP_sha256(), NULL);
	snprintf(am, sizeof am, "%s,%s,%s", bare, sfirst, without_proof);
	HMAC(EVP_sha256(), stored, 32, U8(am), strlen(am), csig, &l);
	for (int i = 0; i < 32; i++)
		proof[i] = ckey[i] ^ csig[i];
	b64_encode(proof, 32, p64, sizeof p64);
	snprintf(out, outsz, "%s,p=%s", without_proof, p64);
}

T(rfc7677_vector)
{
	struct user_scram k;
	char b[64];
	vector_keys(&k);
	b64_encode(k.stored_key, 32, b, sizeof b);
	CHECK_STR(b, V_STORED);
	b64_encode(k.server_key, 32, b, sizeof b);
	CHECK_STR(b, V_SERVER);
	/* the test's client agrees with the RFC */
	char fin[512];
	client_final(V_PW, &k, "n=user,r=rOprNGfwEbeRWgbNEkqO", V_SFIRST, V_CFINAL_NP, fin,
	    sizeof fin);
	CHECK_STR(fin, V_CFINAL);

	struct scram_server *x = calloc(1, sizeof *x);
	CHECK_INT(scram_server_start(x, U8(V_CFIRST), strlen(V_CFIRST), false, true, NULL),
	    SCRAM_OK);
	CHECK_STR(x->f.user, "user");
	const char *sf = scram_server_challenge(x, &k, true, V_SNONCE);
	CHECK_STR(sf, V_SFIRST);
	char out[SCRAM_SFINAL_MAX];
	CHECK_INT(scram_server_final(x, U8(V_CFINAL), strlen(V_CFINAL), out), SCRAM_OK);
	CHECK_STR(out, V_SFINAL);
	/* one try per exchange */
	CHECK_INT(scram_server_final(x, U8(V_CFINAL), strlen(V_CFINAL), out), SCRAM_STATE);
	CHECK_STR(out, "");
	scram_server_wipe(x);
	free(x);
}

/* Run the vector's exchange with final message fin and keys k (real or
 * not); the result. */
static enum scram_rc
vector_final(const struct user_scram *k, bool real, const char *fin)
{
	struct scram_server *x = calloc(1, sizeof *x);
	char out[SCRAM_SFINAL_MAX];
	enum scram_rc rc = scram_server_start(x, U8(V_CFIRST), strlen(V_CFIRST), false, true,
	    NULL);
	if (rc == SCRAM_OK && scram_server_challenge(x, k, real, V_SNONCE) == NULL)
		rc = SCRAM_STATE;
	if (rc == SCRAM_OK)
		rc = scram_server_final(x, U8(fin), strlen(fin), out);
	if (rc != SCRAM_OK)
		CHECK_STR(out, "");
	scram_server_wipe(x);
	free(x);
	return rc;
}

T(vector_failures)
{
	struct user_scram k, other;
	vector_keys(&k);
	CHECK_INT(vector_final(&k, true, V_CFINAL), SCRAM_OK);
	/* the right proof, but the exchange ran on fake keys: still no */
	CHECK_INT(vector_final(&k, false, V_CFINAL), SCRAM_PROOF);
	/* a tampered proof (first byte) */
	CHECK_INT(vector_final(&k, true,
	    V_CFINAL_NP ",p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="), SCRAM_PROOF);
	/* another password */
	uint8_t salt[16];
	size_t sl;
	b64_decode(V_SALT, strlen(V_SALT), salt, sizeof salt, &sl);
	CHECK_INT(scram_keys_make("pencil2", salt, sl, V_ITER, &other), 0);
	CHECK_INT(vector_final(&other, true, V_CFINAL), SCRAM_PROOF);
	/* a nonce that is not ours, the channel binding of "y" */
	CHECK_INT(vector_final(&k, true,
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1,p=" V_PROOF), SCRAM_NONCE);
	CHECK_INT(vector_final(&k, true, "c=biws,r=rOprNGfwEbeRWgbNEkqO,p=" V_PROOF), SCRAM_NONCE);
	CHECK_INT(vector_final(&k, true, "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF"
	    "$k0,p=" V_PROOF), SCRAM_CBIND);
	/* malformed */
	CHECK_INT(vector_final(&k, true, V_CFINAL_NP), SCRAM_BAD_SYNTAX);
	CHECK_INT(vector_final(&k, true, V_CFINAL "="), SCRAM_BAD_SYNTAX);
	/* an extension before the proof is part of AuthMessage: the RFC's
	 * proof does not cover it */
	CHECK_INT(vector_final(&k, true, V_CFINAL_NP ",x=1,p=" V_PROOF), SCRAM_PROOF);
}

T(plus_with_exporter_data)
{
	struct user_scram k;
	uint8_t cb[SCRAM_CB_LEN], in[128];
	char c64[128], wp[512], fin[600], out[SCRAM_SFINAL_MAX];
	vector_keys(&k);
	memset(cb, 0x5a, sizeof cb);
	static const char cfirst[] = "p=tls-exporter,,n=user,r=clientnonce";
	for (int tamper = 0; tamper < 3; tamper++) {
		struct scram_server *x = calloc(1, sizeof *x);
		CHECK_INT(scram_server_start(x, U8(cfirst), strlen(cfirst), true, true, cb),
		    SCRAM_OK);
		const char *sf = scram_server_challenge(x, &k, true, "servernonce");
		CHECK_STR(sf, "r=clientnonceservernonce,s=" V_SALT ",i=4096");
		memcpy(in, "p=tls-exporter,,", 16);
		memcpy(in + 16, cb, sizeof cb);
		if (tamper == 1)
			in[16 + 31] ^= 1;	/* other exporter data */
		b64_encode(in, 16 + (tamper == 2 ? 0 : sizeof cb), c64, sizeof c64);
		snprintf(wp, sizeof wp, "c=%s,r=clientnonceservernonce", c64);
		client_final(V_PW, &k, "n=user,r=clientnonce", sf, wp, fin, sizeof fin);
		enum scram_rc rc = scram_server_final(x, U8(fin), strlen(fin), out);
		CHECK_INT(rc, tamper ? SCRAM_CBIND : SCRAM_OK);
		if (!tamper)
			CHECK(strncmp(out, "v=", 2) == 0 && strlen(out) == 46);
		scram_server_wipe(x);
		free(x);
	}
	/* -PLUS without exporter data from the front, or without "p=" */
	struct scram_server *x = calloc(1, sizeof *x);
	CHECK_INT(scram_server_start(x, U8(cfirst), strlen(cfirst), true, true, NULL), SCRAM_CBIND);
	CHECK_INT(x->step, SCRAM_STEP_NONE);
	CHECK_INT(scram_server_start(x, U8(V_CFIRST), strlen(V_CFIRST), true, true, cb),
	    SCRAM_CBIND);
	/* a challenge or a final before the start */
	CHECK(scram_server_challenge(x, &k, true, "n") == NULL);
	CHECK_INT(scram_server_final(x, U8(V_CFINAL), strlen(V_CFINAL), out), SCRAM_STATE);
	/* a server nonce with a comma, or empty */
	CHECK_INT(scram_server_start(x, U8(V_CFIRST), strlen(V_CFIRST), false, true, NULL),
	    SCRAM_OK);
	CHECK(scram_server_challenge(x, &k, true, "a,b") == NULL);
	CHECK(scram_server_challenge(x, &k, true, "") == NULL);
	scram_server_wipe(x);
	free(x);
}

static const struct {
	const char *in;
	enum scram_rc rc;
	const char *user;
	enum scram_cb cb;
} first_cases[] = {
	{ "n,,n=user,r=abc", SCRAM_OK, "user", SCRAM_CB_N },
	{ "y,,n=user,r=abc", SCRAM_OK, "user", SCRAM_CB_Y },
	{ "p=tls-exporter,,n=user,r=abc", SCRAM_OK, "user", SCRAM_CB_P },
	{ "p=tls-exporter,a=user,n=user,r=abc", SCRAM_OK, "user", SCRAM_CB_P },
	{ "p=tls-server-end-point,,n=user,r=abc", SCRAM_OK, "user", SCRAM_CB_P },
	{ "n,,n=us=2Cer,r=abc", SCRAM_OK, "us,er", SCRAM_CB_N },
	{ "n,,n=us=3Der=3D,r=abc", SCRAM_OK, "us=er=", SCRAM_CB_N },
	{ "n,,n=a b,r=!~", SCRAM_OK, "a b", SCRAM_CB_N },
	{ "n,,n=user,r=abc,x=1,Y=a=b", SCRAM_OK, "user", SCRAM_CB_N },
	{ "n,,n=user,r=abc,m=late", SCRAM_OK, "user", SCRAM_CB_N },
	{ "n,a=bob,n=user,r=abc", SCRAM_AUTHZID, "", 0 },
	{ "n,a=User,n=user,r=abc", SCRAM_AUTHZID, "", 0 },
	{ "n,,m=ext,n=user,r=abc", SCRAM_MEXT, "", 0 },
	{ "n,,n=us=2cer,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=us=er,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=user=,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=user=2,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=user,r=", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=user,r=a b", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=user", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=user,", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=user,r=abc,", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=user,r=abc,x=", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=user,r=abc,1=x", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=user,r=abc,xy=1", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,r=abc,n=user", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,N=user,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,n=user,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,a=,n=user,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "x,,n=user,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "p,,n=user,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "p=,,n=user,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "p=tls_exporter,,n=user,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,,n=user,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ " n,,n=user,r=abc", SCRAM_BAD_SYNTAX, "", 0 },
	{ "", SCRAM_BAD_SYNTAX, "", 0 },
	{ "n,,n=us\xc3\xa9r,r=abc", SCRAM_BAD_NAME, "", 0 },
	{ "n,,n=us\x01r,r=abc", SCRAM_BAD_NAME, "", 0 },
	{ "n,,n=us\x7fr,r=abc", SCRAM_BAD_NAME, "", 0 },
	{ "n,a=\xff,n=user,r=abc", SCRAM_BAD_NAME, "", 0 },
};

/* Parse in exact-size heap copies so ASan sees any read past the end. */
static enum scram_rc
parse_first(const void *p, size_t n, struct scram_first *f)
{
	uint8_t *c = malloc(n ? n : 1);
	memcpy(c, p, n);
	enum scram_rc rc = scram_parse_first(c, n, f);
	free(c);
	return rc;
}

static enum scram_rc
parse_final(const void *p, size_t n, struct scram_final *f)
{
	uint8_t *c = malloc(n ? n : 1);
	memcpy(c, p, n);
	enum scram_rc rc = scram_parse_final(c, n, f);
	free(c);
	return rc;
}

T(first_table)
{
	struct scram_first f;
	for (size_t i = 0; i < NELEM(first_cases); i++) {
		const char *in = first_cases[i].in;
		enum scram_rc rc = parse_first(in, strlen(in), &f);
		if (rc != first_cases[i].rc)
			fprintf(stderr, "case %zu: %s\n", i, in);
		CHECK_INT(rc, first_cases[i].rc);
		CHECK_STR(f.user, first_cases[i].user);
		if (rc == SCRAM_OK) {
			CHECK_INT(f.cb, first_cases[i].cb);
			CHECK(f.nonce_len > 0 && f.nonce_off + f.nonce_len <= strlen(in));
			CHECK(in[f.gs2_len - 1] == ',');
		}
		/* every prefix, and the message with one byte more: in range,
		 * no read outside */
		for (size_t n = 0; n < strlen(in); n++)
			CHECK((unsigned)parse_first(in, n, &f) <= SCRAM_AUTHZID);
	}
	CHECK_INT(parse_first("n,,n=user,r=abc\0", 16, &f), SCRAM_BAD_SYNTAX);
	CHECK_INT(parse_first("n,,n=u\0er,r=abc", 15, &f), SCRAM_BAD_SYNTAX);
	/* the parts' details */
	static const char parts[] = "p=tls-exporter,a=u=2Cv,n=u=2Cv,r=N0nce,e=x";
	CHECK_INT(parse_first(parts, strlen(parts), &f), SCRAM_OK);
	CHECK_STR(f.cb_name, "tls-exporter");
	CHECK(f.has_authzid);
	CHECK_STR(f.authzid, "u,v");
	CHECK_INT(f.gs2_len, 23);
	CHECK_INT(f.nonce_off, 33);
	CHECK_INT(f.nonce_len, 5);
}

T(first_limits)
{
	char m[SCRAM_MSG_MAX + 8];
	struct scram_first f;
	/* a user name of 255 bytes passes, 256 does not */
	for (int extra = 0; extra < 2; extra++) {
		int n = snprintf(m, sizeof m, "n,,n=%0*d,r=x", 255 + extra, 0);
		CHECK_INT(parse_first(m, (size_t)n, &f), extra ? SCRAM_TOO_LONG : SCRAM_OK);
	}
	/* "=2C" counts one byte */
	size_t o = (size_t)snprintf(m, sizeof m, "n,,n=");
	for (int i = 0; i < 255; i++)
		o += (size_t)snprintf(m + o, sizeof m - o, "=2C");
	o += (size_t)snprintf(m + o, sizeof m - o, ",r=x");
	CHECK_INT(parse_first(m, o, &f), SCRAM_OK);
	CHECK_INT(strlen(f.user), 255);
	/* a nonce of 128 characters, of 129 */
	for (int extra = 0; extra < 2; extra++) {
		o = (size_t)snprintf(m, sizeof m, "n,,n=u,r=");
		memset(m + o, 'N', 128 + (size_t)extra);
		o += 128 + (size_t)extra;
		CHECK_INT(parse_first(m, o, &f), extra ? SCRAM_TOO_LONG : SCRAM_OK);
	}
	/* the whole message: 1024 bytes at most */
	o = (size_t)snprintf(m, sizeof m, "n,,n=u,r=x,e=");
	memset(m + o, 'v', SCRAM_MSG_MAX - o);
	CHECK_INT(parse_first(m, SCRAM_MSG_MAX, &f), SCRAM_OK);
	m[SCRAM_MSG_MAX] = 'v';
	CHECK_INT(parse_first(m, SCRAM_MSG_MAX + 1, &f), SCRAM_TOO_LONG);
}

T(cbind_rules)
{
	static const struct {
		const char *in;
		bool plus, offered;
		enum scram_rc want;
	} c[] = {
		{ "n,,n=u,r=x", false, true, SCRAM_OK },
		{ "n,,n=u,r=x", false, false, SCRAM_OK },
		{ "y,,n=u,r=x", false, false, SCRAM_OK },
		{ "y,,n=u,r=x", false, true, SCRAM_CBIND },	/* downgrade */
		{ "p=tls-exporter,,n=u,r=x", false, true, SCRAM_CBIND },
		{ "p=tls-exporter,,n=u,r=x", true, true, SCRAM_OK },
		{ "p=tls-unique,,n=u,r=x", true, true, SCRAM_CBIND },
		{ "p=TLS-EXPORTER,,n=u,r=x", true, true, SCRAM_CBIND },
		{ "n,,n=u,r=x", true, true, SCRAM_CBIND },
		{ "y,,n=u,r=x", true, true, SCRAM_CBIND },
	};
	for (size_t i = 0; i < NELEM(c); i++) {
		struct scram_first f;
		CHECK_INT(parse_first(c[i].in, strlen(c[i].in), &f), SCRAM_OK);
		CHECK_INT(scram_cbind_check(&f, c[i].plus, c[i].offered), c[i].want);
	}
}

#define P44 "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="

T(final_table)
{
	static const struct { const char *in; enum scram_rc rc; } c[] = {
		{ "c=biws,r=abc,p=" P44, SCRAM_OK },
		{ "c=biws,r=abc,x=1,p=" P44, SCRAM_OK },
		{ "c=,r=abc,p=" P44, SCRAM_OK },	/* empty c: the check fails later */
		{ "c=biws,r=abc", SCRAM_BAD_SYNTAX },
		{ "c=biws,r=abc,p=", SCRAM_BAD_SYNTAX },
		{ "c=biws,r=abc,p=AAAA", SCRAM_BAD_SYNTAX },	/* 3 bytes, not 32 */
		{ "c=biws,r=abc,p=" P44 "AAAA", SCRAM_BAD_SYNTAX },
		{ "c=biws,r=abc,p=" P44 ",x=1", SCRAM_BAD_SYNTAX },
		{ "c=biws,r=abc,p=" P44 ",", SCRAM_BAD_SYNTAX },
		{ "c=biw,r=abc,p=" P44, SCRAM_BAD_SYNTAX },
		{ "c=bix=,r=abc,p=" P44, SCRAM_BAD_SYNTAX },	/* unused bits set */
		{ "c=bi ws,r=abc,p=" P44, SCRAM_BAD_SYNTAX },
		{ "r=abc,c=biws,p=" P44, SCRAM_BAD_SYNTAX },
		{ "c=biws,p=" P44, SCRAM_BAD_SYNTAX },
		{ "c=biws,r=,p=" P44, SCRAM_BAD_SYNTAX },
		{ "c=biws,r=abc,,p=" P44, SCRAM_BAD_SYNTAX },
		{ "c=biws,r=abc,x=,p=" P44, SCRAM_BAD_SYNTAX },
		{ "c=biws,r=abc,P=" P44, SCRAM_BAD_SYNTAX },
		{ "", SCRAM_BAD_SYNTAX },
	};
	struct scram_final *f = malloc(sizeof *f);
	for (size_t i = 0; i < NELEM(c); i++) {
		enum scram_rc rc = parse_final(c[i].in, strlen(c[i].in), f);
		if (rc != c[i].rc)
			fprintf(stderr, "case %zu: %s\n", i, c[i].in);
		CHECK_INT(rc, c[i].rc);
		if (rc == SCRAM_OK) {
			CHECK(memcmp(c[i].in + f->without_proof_len, ",p=", 3) == 0);
			CHECK_INT(f->nonce_len, 3);
			CHECK(memcmp(c[i].in + f->nonce_off, "abc", 3) == 0);
		} else {
			CHECK_INT(f->without_proof_len, 0);
		}
		for (size_t n = 0; n < strlen(c[i].in); n++)
			CHECK((unsigned)parse_final(c[i].in, n, f) <= SCRAM_TOO_LONG);
	}
	CHECK_INT(parse_final("c=biws,r=abc,p=" P44, 15 + 44, f), SCRAM_OK);
	CHECK_INT(f->cbinput_len, 3);
	CHECK(memcmp(f->cbinput, "n,,", 3) == 0);
	/* over the limit */
	char *m = malloc(SCRAM_MSG_MAX + 1);
	memset(m, 'x', SCRAM_MSG_MAX + 1);
	CHECK_INT(parse_final(m, SCRAM_MSG_MAX + 1, f), SCRAM_TOO_LONG);
	free(m);
	free(f);
}

T(keys_and_fakes)
{
	struct user_scram a, b, c;
	uint8_t salt[16], secret[SCRAM_SECRET_LEN];
	memset(salt, 7, sizeof salt);
	memset(secret, 9, sizeof secret);
	CHECK(scram_password_ok("correct horse ~!"));
	CHECK(!scram_password_ok(""));
	CHECK(!scram_password_ok(NULL));
	CHECK(!scram_password_ok("tab\there"));
	CHECK(!scram_password_ok("caf\xc3\xa9"));	/* would need SASLprep */
	CHECK_INT(scram_keys_make("caf\xc3\xa9", salt, 16, 4096, &a), -1);
	CHECK_INT(scram_keys_make("pw", salt, 7, 4096, &a), -1);	/* salt too short */
	CHECK_INT(scram_keys_make("pw", salt, 16, 4095, &a), -1);	/* RFC 7677 4 */
	CHECK_INT(scram_keys_make("pw", salt, 16, 4096, &a), 0);
	CHECK_INT(a.iter, 4096);
	CHECK_INT(a.salt_len, 16);
	/* the stored form reads back the same */
	char text[USERS_SCRAM_TEXT_MAX];
	const char *why;
	CHECK(users_scram_format(&a, text, sizeof text));
	CHECK_INT(users_scram_parse(text, strlen(text), &b, &why), 0);
	CHECK(memcmp(&a, &b, sizeof a) == 0);
	/* fake keys: the same salt for the same name in any case, another for
	 * another name or secret */
	scram_fake_keys(secret, "Nobody", 10000, &a);
	scram_fake_keys(secret, "nobody", 10000, &b);
	CHECK(memcmp(&a, &b, sizeof a) == 0);
	CHECK_INT(a.salt_len, SCRAM_SALT_LEN);
	CHECK_INT(a.iter, 10000);
	scram_fake_keys(secret, "nobody2", 10000, &c);
	CHECK(memcmp(a.salt, c.salt, SCRAM_SALT_LEN) != 0);
	secret[0] ^= 1;
	scram_fake_keys(secret, "nobody", 10000, &c);
	CHECK(memcmp(a.salt, c.salt, SCRAM_SALT_LEN) != 0);
	CHECK(memcmp(a.stored_key, a.server_key, 32) != 0);
}

T(base64_strict)
{
	uint8_t out[8];
	size_t n;
	char e[16];
	CHECK_INT(b64_decode("", 0, out, sizeof out, &n), B64_OK);
	CHECK_INT(n, 0);
	CHECK_INT(b64_decode("biws", 4, out, sizeof out, &n), B64_OK);
	CHECK(n == 3 && memcmp(out, "n,,", 3) == 0);
	CHECK_INT(b64_decode("YQ==", 4, out, sizeof out, &n), B64_OK);
	CHECK_INT(n, 1);
	CHECK_INT(b64_decode("YR==", 4, out, sizeof out, &n), B64_BAD);	/* unused bits */
	CHECK_INT(b64_decode("YQ=", 3, out, sizeof out, &n), B64_BAD);
	CHECK_INT(b64_decode("Y===", 4, out, sizeof out, &n), B64_BAD);
	CHECK_INT(b64_decode("YQ==YQ==", 8, out, sizeof out, &n), B64_BAD);
	CHECK_INT(b64_decode("Y Q=", 4, out, sizeof out, &n), B64_BAD);
	CHECK_INT(b64_decode("AAAAAAAA", 8, out, 5, &n), B64_TOO_LONG);
	CHECK_INT(b64_decode("AAAAAA==", 8, out, 4, &n), B64_OK);
	CHECK_INT(b64_decode("AAAAAAA=", 8, out, 4, &n), B64_TOO_LONG);
	CHECK_INT(b64_decode("AAAAAAAAA", 9, out, 6, &n), B64_TOO_LONG);
	CHECK_INT(b64_encode("n,,", 3, e, sizeof e), 4);
	CHECK_STR(e, "biws");
	CHECK_INT(b64_encode("a", 1, e, 5), 4);
	CHECK_STR(e, "YQ==");
	CHECK_INT(b64_encode("a", 1, e, 4), 0);		/* no room for the NUL */
	CHECK_STR(e, "");
	CHECK_INT(b64_encode("", 0, e, 1), 0);
}

T(rc_names)
{
	CHECK_STR(scram_rc_name(SCRAM_OK), "ok");
	CHECK_STR(scram_rc_name(SCRAM_CBIND), "channel-binding");
	CHECK_STR(scram_rc_name(SCRAM_STATE), "state");
	CHECK_STR(scram_rc_name((enum scram_rc)99), "?");
}

int
main(void)
{
	RUN(rfc7677_vector);
	RUN(vector_failures);
	RUN(plus_with_exporter_data);
	RUN(first_table);
	RUN(first_limits);
	RUN(cbind_rules);
	RUN(final_table);
	RUN(keys_and_fakes);
	RUN(base64_strict);
	RUN(rc_names);
	return t_done("scram");
}

/*
 * bench/dkim_speed.c - DKIM signatures and verifications per second with
 * talon's own code (src/msgauth/dkim.h), for one message of SIZE bytes,
 * RSA-2048 and Ed25519.
 *
 * Sign:    dkim_sign() over the whole message, one key (relaxed/relaxed,
 *          the default field list), into a reused buffer: body
 *          canonicalisation and hash, header canonicalisation and hash, the
 *          private-key operation, base64 and folding.
 * Verify:  what the smtp worker does per message: mhdrs_init/feed/end over
 *          the signed message, dkim_verify_new, _header, _body, _finish,
 *          then dkim_verify_key() with the key record handed over as a
 *          struct lookup (dns/lookup.h; no DNS anywhere), and the result
 *          checked to be "pass" (any other result stops the program: a
 *          fast failure is not a verification).  The key record is parsed
 *          and decoded on every verification, as the worker does.
 * Key:     beside them, what the key record alone costs per verification:
 *          dkim_key_parse + dkim_key_pkey (text to an OpenSSL key), in
 *          microseconds, so that a verification rate far below the
 *          primitive's can be told apart from the hashing.
 *
 * The keys are made here (EVP_PKEY_Q_keygen) and never written anywhere.
 * Each figure is the count of operations done in DURATION seconds of
 * CLOCK_MONOTONIC (at least one operation), one thread.
 *
 * Build (bench/dkim-speed.sh does this): the release objects of `make
 * build/talon` minus build/src/cli/main.o, linked like the unit tests:
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc $(pkg-config --cflags openssl) \
 *      -o bench/tmp/dkim_speed bench/dkim_speed.c build/src/(all but cli/main).o \
 *      $(pkg-config --libs openssl libunbound libpsl) -lcrypt -pthread
 * Run:
 *   dkim_speed [-l SIZE] [-d DURATION_S] [-a rsa2048|ed25519|all]
 * Output, one line per algorithm on stdout:
 *   dkim alg=rsa2048 size=10240 sign_ops=N sign_s=X sign_per_s=X
 *        verify_ops=N verify_s=X verify_per_s=X key_decode_us=X sig_bytes=N
 * Exit 0, or 1 when anything failed (said on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "dns/lookup.h"
#include "msgauth/dkim.h"
#include "msgauth/header.h"

#define DOMAIN		"bench.test"
#define SIZE_MAX_ARG	(16L << 20)	/* largest body the bench makes */
#define DURATION_MAX	600

static double
mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The message: a few ordinary header fields, then a body of size bytes
 * counting its CRLFs, in lines of 76 letters (no line starts with '.').
 * Caller frees. */
static struct buf
make_message(long size)
{
	static const char chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	struct buf m;
	buf_init(&m, 0);
	buf_puts(&m, "From: Bench Sender <sender@" DOMAIN ">\r\n"
	    "To: <bench@" DOMAIN ">\r\n"
	    "Subject: dkim_speed message\r\n"
	    "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
	    "Message-ID: <dkim-speed.1@" DOMAIN ">\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n");
	long left = size, line = 0;
	while (left > 0) {
		/* full lines of 78 bytes while at least 80 are left (so that
		 * the last line has room for its CRLF); the last one takes the
		 * rest (a body of 1 byte becomes an empty line, 2 bytes) */
		long n = left >= 80 ? 76 : (left >= 2 ? left - 2 : 0);
		for (long i = 0; i < n; i++)
			buf_putc(&m, (uint8_t)chars[(line + i) % (sizeof chars - 1)]);
		buf_puts(&m, "\r\n");
		left -= n + 2;
		line++;
	}
	return m;
}

struct alg {
	const char *name;	/* as `openssl speed` calls it */
	const char *selector;
};

/* The key record of key as a TXT answer at SELECTOR._domainkey.DOMAIN. */
static int
key_lookup(EVP_PKEY *key, const char *selector, struct lookup *l)
{
	struct buf txt;
	buf_init(&txt, 0);
	char name[256];
	snprintf(name, sizeof name, "%s._domainkey.%s", selector, DOMAIN);
	lookup_init(l, LOOKUP_TXT, name);
	int rc = dkim_key_txt(key, &txt) < 0 || txt.err ? -1 : 0;
	if (rc == 0)
		lookup_add(l, 0, txt.data, txt.len);
	buf_free(&txt);
	return rc;
}

/* One verification of the signed message sm, as the smtp worker does it;
 * true when the signature passes. */
static bool
verify_once(const struct buf *sm, const struct lookup *key, char *why, size_t whylen)
{
	struct mhdrs h;
	mhdrs_init(&h, 256 * 1024);
	size_t hl = mhdrs_feed(&h, sm->data, sm->len);
	mhdrs_end(&h);
	struct dkim_verify *v = dkim_verify_new(time(NULL));
	dkim_verify_header(v, &h);
	dkim_verify_body(v, sm->data + hl, sm->len - hl);
	dkim_verify_finish(v);
	bool ok = dkim_verify_count(v) == 1;
	if (ok && dkim_verify_key_name(v, 0) != NULL)
		dkim_verify_key(v, 0, key);
	const struct dkim_result *r = ok ? dkim_verify_result(v, 0) : NULL;
	ok = r != NULL && r->res == DKIM_PASS;
	if (!ok)
		snprintf(why, whylen, "%s", r ? r->why : "not exactly one signature");
	dkim_verify_free(&v);
	mhdrs_free(&h);
	return ok;
}

/* Microseconds one key record takes from its TXT text to an OpenSSL key,
 * over `secs` seconds; -1 on failure. */
static double
key_decode_us(const struct lookup *kl, double secs)
{
	struct dkim_key *k = calloc(1, sizeof *k);
	const char *why = "out of memory";
	long n = 0;
	double t0 = mono(), t1;
	do {
		EVP_PKEY *pk = NULL;
		if (k == NULL || kl->n != 1 ||
		    dkim_key_parse(k, kl->rr[0].data, kl->rr[0].len, &why) < 0 ||
		    (pk = dkim_key_pkey(k, &why)) == NULL) {
			fprintf(stderr, "dkim_speed: key record: %s\n", why);
			free(k);
			return -1;
		}
		EVP_PKEY_free(pk);
		n++;
		t1 = mono();
	} while (t1 - t0 < secs);
	free(k);
	return 1e6 * (t1 - t0) / (double)n;
}

/* Sign and verify for `secs` seconds each with one key; prints the line. */
static int
run_alg(const struct alg *a, EVP_PKEY *key, const struct buf *msg, long size, double secs)
{
	struct dkim_signer sg = { .domain = DOMAIN, .selector = a->selector, .key = key };
	struct buf sig, sm;
	struct lookup *kl = calloc(1, sizeof *kl);
	char err[256] = "";
	int rc = 1;
	buf_init(&sig, 0);
	buf_init(&sm, 0);
	if (kl == NULL || key_lookup(key, a->selector, kl) < 0) {
		fprintf(stderr, "dkim_speed: %s: cannot make the key record\n", a->name);
		goto out;
	}

	long n_sign = 0;
	double t0 = mono(), t1;
	do {
		buf_reset(&sig);
		if (dkim_sign(&sg, 1, msg->data, msg->len, time(NULL), "\r\n", &sig, err,
		    sizeof err) < 0 || sig.err) {
			fprintf(stderr, "dkim_speed: %s: dkim_sign: %s\n", a->name, err);
			goto out;
		}
		n_sign++;
		t1 = mono();
	} while (t1 - t0 < secs);
	double sign_s = t1 - t0;

	/* the message as it arrives: the last signature made, then the message */
	buf_append(&sm, sig.data, sig.len);
	buf_append(&sm, msg->data, msg->len);
	long n_verify = 0;
	t0 = mono();
	do {
		if (!verify_once(&sm, kl, err, sizeof err)) {
			fprintf(stderr, "dkim_speed: %s: verification did not pass: %s\n",
			    a->name, err);
			goto out;
		}
		n_verify++;
		t1 = mono();
	} while (t1 - t0 < secs);
	double verify_s = t1 - t0;
	double kd = key_decode_us(kl, secs / 3 > 0.5 ? secs / 3 : 0.5);
	if (kd < 0)
		goto out;

	printf("dkim alg=%s size=%ld sign_ops=%ld sign_s=%.3f sign_per_s=%.1f"
	    " verify_ops=%ld verify_s=%.3f verify_per_s=%.1f key_decode_us=%.1f"
	    " sig_bytes=%zu\n",
	    a->name, size, n_sign, sign_s, (double)n_sign / sign_s, n_verify, verify_s,
	    (double)n_verify / verify_s, kd, sig.len);
	fflush(stdout);
	rc = 0;
out:
	if (kl != NULL)
		lookup_clear(kl);
	free(kl);
	buf_free(&sig);
	buf_free(&sm);
	return rc;
}

static long
num(const char *s, const char *what, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi) {
		fprintf(stderr, "dkim_speed: bad %s '%s' (%ld..%ld)\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: dkim_speed [-l SIZE] [-d DURATION_S] [-a rsa2048|ed25519|all]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long size = 10240, secs = 3;
	const char *which = "all";
	int opt;
	while ((opt = getopt(argc, argv, "l:d:a:")) != -1) {
		switch (opt) {
		case 'l': size = num(optarg, "size", 0, SIZE_MAX_ARG); break;
		case 'd': secs = num(optarg, "duration", 1, DURATION_MAX); break;
		case 'a': which = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	bool rsa = strcmp(which, "all") == 0 || strcmp(which, "rsa2048") == 0;
	bool ed = strcmp(which, "all") == 0 || strcmp(which, "ed25519") == 0;
	if (!rsa && !ed)
		usage();

	struct buf msg = make_message(size);
	if (msg.err) {
		fprintf(stderr, "dkim_speed: cannot make the message\n");
		return 1;
	}
	int rc = 0;
	if (rsa) {
		static const struct alg a = { "rsa2048", "rsa" };
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		rc |= k == NULL ? 1 : run_alg(&a, k, &msg, size, (double)secs);
		EVP_PKEY_free(k);
	}
	if (ed) {
		static const struct alg a = { "ed25519", "ed" };
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		rc |= k == NULL ? 1 : run_alg(&a, k, &msg, size, (double)secs);
		EVP_PKEY_free(k);
	}
	buf_free(&msg);
	return rc;
}

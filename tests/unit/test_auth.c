/*
 * Unit tests: auth/pw (crypt hashes, the dummy verification, the failure
 * delay table) and auth/sasl (PLAIN and LOGIN responses).
 *
 * Fixed hashes were made once with Debian's python3 crypt module (which
 * calls libxcrypt, not our code), e.g.
 *   crypt.crypt('correct horse', '$y$j9T$F5Jx5fExrKuPp53xLKQ..1$')
 * SASL inputs are copied into heap blocks of exactly their length, so
 * ASan catches any read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/pw.h"
#include "auth/pwpool.h"
#include "auth/sasl.h"
#include "core/diag.h"
#include "core/loop.h"
#include "core/util.h"
#include "mail/users.h"
#include "t.h"

/* --- hashes ---------------------------------------------------------------- */

#define PW "correct horse"
static const char Y_HASH[] =
    "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79";
static const char Y_UTF8[] =	/* "pässwörd" in UTF-8 */
    "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$UAi3w.V1khOnmiQzfq00d7LaG6KfSe9MVbNef5kSs64";
static const char Y_511[] =	/* 511 times 'a': libxcrypt's longest passphrase */
    "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$2gWza8pmtIwpJZoRmb00SfhuooDyoIzVJ3bkzMaed58";
static const char B_2B[] = "$2b$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2";
static const char B_2Y[] = "$2y$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2";

T(test_pw_known_yescrypt)
{
	CHECK(pw_verify(Y_HASH, PW));
	CHECK(!pw_verify(Y_HASH, "correct horsE"));
	CHECK(!pw_verify(Y_HASH, "correct horse "));
	CHECK(!pw_verify(Y_HASH, "correct hors"));
	CHECK(!pw_verify(Y_HASH, ""));
	CHECK(pw_verify(Y_UTF8, "p\xc3\xa4ssw\xc3\xb6rd"));
	CHECK(!pw_verify(Y_UTF8, "p\xe4ssw\xf6rd"));	/* the same in Latin-1 */
}

T(test_pw_bcrypt)
{
	CHECK(pw_verify(B_2B, PW));
	CHECK(pw_verify(B_2Y, PW));
	CHECK(!pw_verify(B_2B, "correct horsf"));
	CHECK(!pw_verify(B_2Y, ""));
}

T(test_pw_refused_hashes)
{
	/* each of these with the right password, where there is one */
	static const char *const bad[] = {
		"", "*", "!", "*LK*", "!!",
		"!$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79",
		/* schemes libxcrypt knows and we refuse */
		"$6$saltsalt$hRM5XZ86KXEw9UOmjigeVqFgULtFB2sgpC9lXQDfMib3Zgw7mEiUvBJI2EplzfAqx"
		"L5Vvwp2scFtv/uamSo5z0",
		"$1$saltsalt$NuzA7WTAelpl95xgBGWN60",
		"abhfCpXqd4GrI",
		"$2a$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2",
		/* damaged yescrypt and bcrypt strings */
		"$y$", "$y$j9T$", "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$",
		"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU7",
		"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79x",
		"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU7:",
		"$y$!!!$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79",
		"$2b$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy",
		"$2b$99$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2",
		"{CRYPT}$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79",
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		if (pw_verify(bad[i], PW)) {
			fprintf(stderr, "accepted hash %zu: %s\n", i, bad[i]);
			CHECK(0);
		}
		CHECK(!pw_verify(bad[i], ""));
		CHECK(!pw_verify(bad[i], "*0"));	/* crypt's failure token */
	}
	CHECK(!pw_verify(NULL, PW));
	CHECK(!pw_verify(Y_HASH, NULL));
}

T(test_pw_lengths)
{
	char *p = xmalloc(PW_PASSWORD_MAX + 2);
	memset(p, 'a', PW_PASSWORD_MAX + 1);
	p[511] = '\0';
	CHECK(pw_verify(Y_511, p));
	p[511] = 'a';
	p[512] = '\0';
	CHECK(!pw_verify(Y_511, p));		/* crypt refuses 512 bytes */
	p[512] = 'a';
	p[PW_PASSWORD_MAX] = '\0';
	CHECK(!pw_verify(Y_511, p));		/* 1024: ours allows, crypt refuses */
	p[PW_PASSWORD_MAX] = 'a';
	p[PW_PASSWORD_MAX + 1] = '\0';
	CHECK(!pw_verify(Y_511, p));		/* 1025: refused before crypt */
	free(p);
}

/* What users.c says about a hash we made: the file must accept it. */
static bool
users_file_accepts(const char *hash)
{
	struct users u;
	struct diag d;
	diag_init(&d);
	char *line = xasprintf("alice:{CRYPT}%s:1000:1000::/home/alice:\n", hash);
	bool ok = users_parse(line, strlen(line), "users", &u, &d) == 0 && u.n == 1 &&
	    strcmp(u.v[0].hash, hash) == 0;
	if (!ok)
		fprintf(stderr, "%s", diag_text(&d));
	users_free(&u);
	diag_free(&d);
	free(line);
	return ok;
}

T(test_pw_hash_roundtrip)
{
	char h1[PW_HASH_MAX], h2[PW_HASH_MAX];
	CHECK_INT(pw_hash("s3cret pass", h1, sizeof h1), 0);
	CHECK_INT(pw_hash("s3cret pass", h2, sizeof h2), 0);
	CHECK(strncmp(h1, "$y$j9T$", 7) == 0);
	CHECK(strcmp(h1, h2) != 0);		/* a new salt each time */
	CHECK(pw_verify(h1, "s3cret pass"));
	CHECK(pw_verify(h2, "s3cret pass"));
	CHECK(!pw_verify(h1, "s3cret pas"));
	CHECK(users_file_accepts(h1));
	/* libxcrypt's longest */
	char p[PW_HASH_INPUT_MAX + 2];
	memset(p, 'z', sizeof p);
	p[PW_HASH_INPUT_MAX] = '\0';
	CHECK_INT(pw_hash(p, h1, sizeof h1), 0);
	CHECK(pw_verify(h1, p));
}

T(test_pw_hash_refuses)
{
	char h[PW_HASH_MAX], small[20];
	char p[PW_HASH_INPUT_MAX + 2];
	memset(h, 'x', sizeof h);
	CHECK_INT(pw_hash("", h, sizeof h), -1);
	CHECK_STR(h, "");
	CHECK_INT(pw_hash(NULL, h, sizeof h), -1);
	memset(p, 'z', sizeof p);
	p[PW_HASH_INPUT_MAX + 1] = '\0';	/* 512 bytes */
	CHECK_INT(pw_hash(p, h, sizeof h), -1);
	CHECK_STR(h, "");
	CHECK_INT(pw_hash("fine", small, sizeof small), -1);
	CHECK_STR(small, "");
	CHECK_INT(pw_hash("fine", h, 0), -1);
	CHECK_INT(pw_hash("fine", NULL, 10), -1);
}

static double
secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The dummy must cost about what a real verification costs.  Only a
 * loose floor is asserted (a quarter of the real time, best of three), so
 * a loaded machine cannot make it flaky; a dummy that skips crypt takes
 * microseconds and fails it by orders of magnitude. */
T(test_pw_dummy_costs_a_verification)
{
	char h[PW_HASH_MAX];
	CHECK_INT(pw_hash("real", h, sizeof h), 0);
	pw_verify_dummy("warm up");	/* makes the dummy hash */
	double real = 1e9, dummy = 1e9;
	for (int i = 0; i < 3; i++) {
		double t = secs();
		(void)pw_verify(h, "wrong");
		t = secs() - t;
		real = t < real ? t : real;
		t = secs();
		pw_verify_dummy("wrong");
		t = secs() - t;
		dummy = t < dummy ? t : dummy;
	}
	CHECK(dummy > real / 4);
	pw_verify_dummy(NULL);		/* no crash */
}

/* --- the delay table ----------------------------------------------------------- */

/* The pool: every job comes back once, in the loop's thread, with the
 * right answer: a right and a wrong password against a real hash, and
 * the dummy (always false), more jobs than threads. */
struct pool_t {
	struct loop *loop;
	unsigned back, wrong;
};
static struct pool_t PT;

struct pool_job {
	struct pwjob j;
	bool want;
	unsigned seen;
};

static void
pool_done(struct pwjob *pj)
{
	struct pool_job *c = (struct pool_job *)pj;
	c->seen++;
	PT.back++;
	PT.wrong += c->j.ok != c->want;
	pwjob_wipe(&c->j);
	if (PT.back == 9)
		loop_stop(PT.loop);
}

static void
pool_deadline(struct loop *l, void *arg)
{
	loop_stop(l);
}

T(test_pwpool_checks_on_threads)
{
	memset(&PT, 0, sizeof PT);
	PT.loop = loop_new();
	CHECK(PT.loop != NULL);
	struct pwpool *p = pwpool_new(PT.loop, 2, pool_done);
	CHECK(p != NULL);
	struct pool_job jobs[9];
	memset(jobs, 0, sizeof jobs);
	for (int i = 0; p != NULL && i < 9; i++) {
		jobs[i].j.hash = i % 3 == 2 ? NULL : xstrdup(Y_HASH);
		jobs[i].j.pass = xstrdup(i % 3 == 0 ? PW : "wrong horse");
		jobs[i].want = i % 3 == 0;
		pwpool_submit(p, &jobs[i].j);
	}
	struct timer deadline;
	timer_init(&deadline, pool_deadline, NULL);
	timer_set(PT.loop, &deadline, 60000);
	loop_run(PT.loop);
	timer_cancel(PT.loop, &deadline);
	CHECK_INT(PT.back, 9);
	CHECK_INT(PT.wrong, 0);
	for (int i = 0; i < 9; i++)
		CHECK_INT(jobs[i].seen, 1);
	/* freed with jobs still queued: each is handed back, not checked */
	if (p != NULL) {
		PT.back = 0;
		for (int i = 0; i < 3; i++) {
			jobs[i].seen = 0;
			jobs[i].j.hash = xstrdup(Y_HASH);
			jobs[i].j.pass = xstrdup(PW);
			jobs[i].want = jobs[i].j.ok = false;
			pwpool_submit(p, &jobs[i].j);
		}
	}
	pwpool_free(&p);
	CHECK(p == NULL);
	for (int i = 0; i < 3; i++)
		CHECK_INT(jobs[i].seen, 1);
	loop_free(&PT.loop);
}

T(test_delay_curve)
{
	static const unsigned want[] = { 0, 0, 250, 500, 1000, 2000, 4000, 8000, 15000, 15000 };
	struct pw_delay *d = pw_delay_new(0);
	time_t t = 1700000000;
	CHECK_INT(pw_delay_ms(d, "192.0.2.1", "alice", t), 0);
	for (size_t i = 1; i < NELEM(want); i++) {
		pw_delay_fail(d, "192.0.2.1", "alice", t + (time_t)i);
		CHECK_INT(pw_delay_ms(d, "192.0.2.1", "alice", t + (time_t)i), want[i]);
	}
	for (int i = 0; i < 100; i++)
		pw_delay_fail(d, "192.0.2.1", "alice", t + 20);
	CHECK_INT(pw_delay_ms(d, "192.0.2.1", "alice", t + 20), PW_DELAY_CAP_MS);
	/* a success clears the pair */
	pw_delay_ok(d, "192.0.2.1", "alice");
	CHECK_INT(pw_delay_ms(d, "192.0.2.1", "alice", t + 21), 0);
	CHECK_INT(pw_delay_count(d), 0);
	pw_delay_ok(d, "192.0.2.1", "alice");	/* unknown pair: nothing */
	pw_delay_free(&d);
	CHECK(d == NULL);
	pw_delay_free(&d);
}

T(test_delay_pairs_are_separate)
{
	struct pw_delay *d = pw_delay_new(0);
	time_t t = 1000;
	for (int i = 0; i < 3; i++)
		pw_delay_fail(d, "192.0.2.1", "alice", t);
	CHECK_INT(pw_delay_ms(d, "192.0.2.1", "alice", t), 500);
	/* the user name without case: "Alice" is the same account */
	CHECK_INT(pw_delay_ms(d, "192.0.2.1", "ALICE", t), 500);
	pw_delay_fail(d, "192.0.2.1", "Alice", t);
	CHECK_INT(pw_delay_ms(d, "192.0.2.1", "alice", t), 1000);
	/* the address exactly */
	CHECK_INT(pw_delay_ms(d, "192.0.2.2", "alice", t), 0);
	CHECK_INT(pw_delay_ms(d, "192.0.2.1", "bob", t), 0);
	/* the separator: ("ab", "c") is not ("a", "bc") */
	pw_delay_fail(d, "ab", "c", t);
	pw_delay_fail(d, "ab", "c", t);
	CHECK_INT(pw_delay_ms(d, "ab", "c", t), 250);
	CHECK_INT(pw_delay_ms(d, "a", "bc", t), 0);
	CHECK_INT(pw_delay_ms(d, "abc", "", t), 0);
	/* NULL reads as "" */
	pw_delay_fail(d, NULL, NULL, t);
	pw_delay_fail(d, "", "", t);
	CHECK_INT(pw_delay_ms(d, NULL, "", t), 250);
	CHECK_INT(pw_delay_count(d), 3);
	pw_delay_free(&d);
}

T(test_delay_forgets)
{
	struct pw_delay *d = pw_delay_new(0);
	time_t t = 5000;
	for (int i = 0; i < 4; i++)
		pw_delay_fail(d, "2001:db8::1", "bob", t);
	CHECK_INT(pw_delay_ms(d, "2001:db8::1", "bob", t + PW_DELAY_FORGET - 1), 1000);
	CHECK_INT(pw_delay_ms(d, "2001:db8::1", "bob", t + PW_DELAY_FORGET), 0);
	CHECK_INT(pw_delay_count(d), 0);	/* dropped when seen forgotten */
	/* each failure renews the window: 3 failures 800 s apart all count */
	pw_delay_fail(d, "2001:db8::1", "bob", t);
	pw_delay_fail(d, "2001:db8::1", "bob", t + 800);
	pw_delay_fail(d, "2001:db8::1", "bob", t + 1600);
	CHECK_INT(pw_delay_ms(d, "2001:db8::1", "bob", t + 1600), 500);
	/* a failure after the window starts again from one */
	pw_delay_fail(d, "2001:db8::1", "bob", t + 1600 + PW_DELAY_FORGET);
	CHECK_INT(pw_delay_ms(d, "2001:db8::1", "bob", t + 1600 + PW_DELAY_FORGET), 0);
	pw_delay_fail(d, "2001:db8::1", "bob", t + 1601 + PW_DELAY_FORGET);
	CHECK_INT(pw_delay_ms(d, "2001:db8::1", "bob", t + 1601 + PW_DELAY_FORGET), 250);
	/* a clock that goes back forgets nothing */
	CHECK_INT(pw_delay_ms(d, "2001:db8::1", "bob", 0), 250);
	/* extreme times do not overflow */
	pw_delay_fail(d, "x", "y", (time_t)INT64_MIN);
	pw_delay_fail(d, "x", "y", (time_t)INT64_MIN);
	CHECK_INT(pw_delay_ms(d, "x", "y", (time_t)INT64_MAX), 0);
	pw_delay_free(&d);
}

T(test_delay_bounded)
{
	struct pw_delay *d = pw_delay_new(8);
	char user[32];
	/* the pair under attack: many failures */
	for (int i = 0; i < 10; i++)
		pw_delay_fail(d, "198.51.100.7", "alice", 100);
	/* a spray of new names from the same client */
	for (int i = 0; i < 1000; i++) {
		snprintf(user, sizeof user, "guess%d", i);
		pw_delay_fail(d, "198.51.100.7", user, 100 + i / 2);
		CHECK(pw_delay_count(d) <= 8);
	}
	CHECK_INT(pw_delay_count(d), 8);
	/* the heavy pair survived the churn; the oldest small ones went */
	CHECK_INT(pw_delay_ms(d, "198.51.100.7", "alice", 600), PW_DELAY_CAP_MS);
	pw_delay_fail(d, "198.51.100.7", "guess999", 600);
	CHECK_INT(pw_delay_ms(d, "198.51.100.7", "guess999", 600), 250);
	CHECK_INT(pw_delay_ms(d, "198.51.100.7", "guess0", 600), 0);
	/* forgotten pairs are taken first */
	struct pw_delay *e = pw_delay_new(2);
	pw_delay_fail(e, "a", "old", 0);
	pw_delay_fail(e, "a", "old", 0);
	pw_delay_fail(e, "a", "new", 2000);
	pw_delay_fail(e, "a", "newer", 2000);	/* "old" is forgotten: its slot */
	pw_delay_fail(e, "a", "new", 2000);
	CHECK_INT(pw_delay_ms(e, "a", "new", 2000), 250);
	CHECK_INT(pw_delay_count(e), 2);
	pw_delay_free(&e);
	pw_delay_free(&d);
	/* the default bound */
	d = pw_delay_new(0);
	for (int i = 0; i < PW_DELAY_MAX + 100; i++) {
		snprintf(user, sizeof user, "u%d", i);
		pw_delay_fail(d, "203.0.113.1", user, 1);
	}
	CHECK_INT(pw_delay_count(d), PW_DELAY_MAX);
	pw_delay_free(&d);
}

/* --- SASL --------------------------------------------------------------------- */

/* Standard base64 with padding, for building test inputs. */
static char *
b64(const void *src, size_t n)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *s = src;
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? a[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* sasl_plain on an exact-size heap copy of s. */
static enum sasl_rc
plain(const char *s, struct sasl_creds *c)
{
	size_t n = strlen(s);
	uint8_t *p = xmalloc(n ? n : 1);
	memcpy(p, s, n);
	enum sasl_rc rc = sasl_plain(p, n, c);
	free(p);
	return rc;
}

/* PLAIN of raw bytes raw[0..n) (NULs included). */
static enum sasl_rc
plain_raw(const char *raw, size_t n, struct sasl_creds *c)
{
	char *e = b64(raw, n);
	enum sasl_rc rc = plain(e, c);
	free(e);
	return rc;
}

struct plain_case {
	const char *raw;	/* decoded form, NULs as \0 */
	size_t len;
	enum sasl_rc rc;
	const char *user, *pass;
};

#define RAW(s) s, sizeof(s) - 1

T(test_plain_table)
{
	static const struct plain_case cases[] = {
		{ RAW("\0alice\0secret"), SASL_OK, "alice", "secret" },
		{ RAW("alice\0alice\0secret"), SASL_OK, "alice", "secret" },
		{ RAW("\0Alice\0secret"), SASL_OK, "Alice", "secret" },	/* case kept */
		{ RAW("\0a\0b"), SASL_OK, "a", "b" },
		{ RAW("\0alice\0p\xc3\xa4ss \xff\x01"), SASL_OK, "alice", "p\xc3\xa4ss \xff\x01" },
		{ RAW("bob\0alice\0secret"), SASL_AUTHZID, NULL, NULL },
		{ RAW("Alice\0alice\0secret"), SASL_AUTHZID, NULL, NULL },
		{ RAW("alic\0alice\0secret"), SASL_AUTHZID, NULL, NULL },
		{ RAW("alice\0secret"), SASL_BAD_SYNTAX, NULL, NULL },
		{ RAW("alicesecret"), SASL_BAD_SYNTAX, NULL, NULL },
		{ RAW("\0alice\0sec\0ret"), SASL_BAD_SYNTAX, NULL, NULL },
		{ RAW("\0alice\0secret\0"), SASL_BAD_SYNTAX, NULL, NULL },
		{ RAW("\0\0alice\0secret"), SASL_BAD_SYNTAX, NULL, NULL },
		{ RAW("\0\0secret"), SASL_BAD_SYNTAX, NULL, NULL },
		{ RAW("\0alice\0"), SASL_BAD_SYNTAX, NULL, NULL },
		{ RAW("\0\0"), SASL_BAD_SYNTAX, NULL, NULL },
		{ RAW("\0"), SASL_BAD_SYNTAX, NULL, NULL },
		{ RAW(""), SASL_BAD_SYNTAX, NULL, NULL },
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct sasl_creds c;
		memset(&c, 'x', sizeof c);
		enum sasl_rc rc = plain_raw(cases[i].raw, cases[i].len, &c);
		if (rc != cases[i].rc)
			fprintf(stderr, "case %zu: %s, expected %s\n", i, sasl_rc_name(rc),
			    sasl_rc_name(cases[i].rc));
		CHECK_INT(rc, cases[i].rc);
		if (cases[i].user != NULL) {
			CHECK_STR(c.user, cases[i].user);
			CHECK_STR(c.pass, cases[i].pass);
		} else {
			CHECK_STR(c.user, "");		/* wiped on failure */
			CHECK_STR(c.pass, "");
		}
		sasl_creds_wipe(&c);
	}
}

T(test_plain_base64_strict)
{
	struct sasl_creds c;
	/* "\0alice\0secret" is AGFsaWNlAHNlY3JldA== */
	CHECK_INT(plain("AGFsaWNlAHNlY3JldA==", &c), SASL_OK);
	CHECK_STR(c.user, "alice");
	static const char *const bad[] = {
		"AGFsaWNlAHNlY3JldA",		/* padding missing */
		"AGFsaWNlAHNlY3JldA=",		/* half the padding */
		"AGFsaWNlAHNlY3JldA===",	/* too much */
		"AGFsaWNlAHNlY3JldB==",		/* unused bits not zero */
		"AGFsaWNlAHNlY3JldA==\r",
		"AGFsaWNl AHNlY3JldA==",	/* whitespace */
		" AGFsaWNlAHNlY3JldA==",
		"AGFsaWNl\nAHNlY3JldA==",
		"AGFs=WNlAHNlY3JldA==",		/* '=' inside */
		"AGFsaWNlAHNlY3Jl=A==",
		"AG==aWNlAHNlY3JldA==",		/* padding, then more */
		"====",
		"A===",
		"AGFsaWNlAHNlY3JldA-_",		/* URL alphabet */
		"AGFsaWNlAHNlY3Jld\xc3\xa4",
		"==",
		"**",
		"=*",
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		enum sasl_rc rc = plain(bad[i], &c);
		if (rc != SASL_BAD_BASE64)
			fprintf(stderr, "bad[%zu] \"%s\": %s\n", i, bad[i], sasl_rc_name(rc));
		CHECK_INT(rc, SASL_BAD_BASE64);
	}
	/* unused bits after "xxx=": "\0a\0bc" -> AGEAYmM= ; AGEAYmN= sets them */
	CHECK_INT(plain("AGEAYmM=", &c), SASL_OK);
	CHECK_STR(c.pass, "bc");
	CHECK_INT(plain("AGEAYmN=", &c), SASL_BAD_BASE64);
	/* "=" alone is an empty response (then no NULs); an empty line too */
	CHECK_INT(plain("=", &c), SASL_BAD_SYNTAX);
	CHECK_INT(plain("", &c), SASL_BAD_SYNTAX);
	CHECK_INT(plain("*", &c), SASL_CANCEL);
	/* a NUL byte in the line is not base64 */
	uint8_t nul[] = { 'A', 'G', 0, 's' };
	CHECK_INT(sasl_plain(nul, sizeof nul, &c), SASL_BAD_BASE64);
	sasl_creds_wipe(&c);
}

/* PLAIN with authzid a, authcid u (n bytes of ch each), password p bytes. */
static enum sasl_rc
plain_sized(size_t a, size_t u, size_t p, struct sasl_creds *c)
{
	size_t n = a + 1 + u + 1 + p;
	char *raw = xmalloc(n);
	memset(raw, 'u', n);
	raw[a] = '\0';
	raw[a + 1 + u] = '\0';
	memset(raw + a + 1 + u + 1, 'p', p);
	enum sasl_rc rc = plain_raw(raw, n, c);
	free(raw);
	return rc;
}

T(test_plain_limits)
{
	struct sasl_creds c;
	CHECK_INT(plain_sized(0, SASL_USER_MAX, SASL_PASS_MAX, &c), SASL_OK);
	CHECK_INT(strlen(c.user), SASL_USER_MAX);
	CHECK_INT(strlen(c.pass), SASL_PASS_MAX);
	CHECK_INT(plain_sized(SASL_USER_MAX, SASL_USER_MAX, SASL_PASS_MAX, &c), SASL_OK);
	CHECK_INT(plain_sized(0, SASL_USER_MAX + 1, 10, &c), SASL_TOO_LONG);
	CHECK_INT(plain_sized(0, 10, SASL_PASS_MAX + 1, &c), SASL_TOO_LONG);
	CHECK_INT(plain_sized(SASL_USER_MAX + 1, SASL_USER_MAX + 1, 10, &c), SASL_TOO_LONG);
	/* the whole line: longer than any valid response, refused undecoded */
	CHECK_INT(plain_sized(SASL_USER_MAX, SASL_USER_MAX, SASL_PASS_MAX + 3, &c),
	    SASL_TOO_LONG);
	size_t n = 1 << 20;
	char *big = xmalloc(n + 1);
	memset(big, 'A', n);
	big[n] = '\0';
	CHECK_INT(plain(big, &c), SASL_TOO_LONG);
	big[4096] = '\0';
	CHECK_INT(plain(big, &c), SASL_TOO_LONG);
	free(big);
	CHECK_STR(c.user, "");
}

T(test_login_steps)
{
	struct sasl_login l;
	char *u = b64("Username:", 9), *p = b64("Password:", 9);
	CHECK_STR(u, SASL_LOGIN_PROMPT_USER);
	CHECK_STR(p, SASL_LOGIN_PROMPT_PASS);
	free(u);
	free(p);

	sasl_login_init(&l);
	CHECK_STR(sasl_login_prompt(&l), SASL_LOGIN_PROMPT_USER);
	CHECK_INT(sasl_login_step(&l, (const uint8_t *)"YWxpY2U=", 8), SASL_MORE);
	CHECK_STR(sasl_login_prompt(&l), SASL_LOGIN_PROMPT_PASS);
	CHECK_INT(sasl_login_step(&l, (const uint8_t *)"c2VjcmV0", 8), SASL_OK);
	CHECK_STR(l.c.user, "alice");
	CHECK_STR(l.c.pass, "secret");
	CHECK(sasl_login_prompt(&l) == NULL);
	CHECK_INT(sasl_login_step(&l, (const uint8_t *)"c2VjcmV0", 8), SASL_BAD_SYNTAX);
	CHECK_STR(l.c.pass, "");		/* wiped */
}

/* One LOGIN exchange: user line, then (if it was taken) password line. */
static enum sasl_rc
login(const char *user_line, const char *pass_line, struct sasl_login *l)
{
	sasl_login_init(l);
	size_t n = strlen(user_line);
	uint8_t *b = xmalloc(n ? n : 1);
	memcpy(b, user_line, n);
	enum sasl_rc rc = sasl_login_step(l, b, n);
	free(b);
	if (rc != SASL_MORE || pass_line == NULL)
		return rc;
	n = strlen(pass_line);
	b = xmalloc(n ? n : 1);
	memcpy(b, pass_line, n);
	rc = sasl_login_step(l, b, n);
	free(b);
	return rc;
}

T(test_login_errors)
{
	struct sasl_login l;
	CHECK_INT(login("=", NULL, &l), SASL_BAD_SYNTAX);	/* empty name */
	CHECK(sasl_login_prompt(&l) == NULL);			/* over */
	CHECK_INT(login("", NULL, &l), SASL_BAD_SYNTAX);
	CHECK_INT(login("*", NULL, &l), SASL_CANCEL);
	CHECK_INT(login("YWxpY2U", NULL, &l), SASL_BAD_BASE64);
	CHECK_INT(login("YWxp Y2U=", NULL, &l), SASL_BAD_BASE64);
	CHECK_INT(login("YQBi", NULL, &l), SASL_BAD_SYNTAX);	/* "a\0b" */
	CHECK_INT(login("YWxpY2U=", "=", &l), SASL_BAD_SYNTAX);
	CHECK_STR(l.c.user, "");				/* wiped */
	CHECK_INT(login("YWxpY2U=", "*", &l), SASL_CANCEL);
	CHECK_INT(login("YWxpY2U=", "c2VjcmV0=", &l), SASL_BAD_BASE64);
	CHECK_INT(login("YWxpY2U=", "cwBj", &l), SASL_BAD_SYNTAX);	/* "s\0c" */

	char raw[SASL_PASS_MAX + 1];
	memset(raw, 'q', sizeof raw);
	char *e = b64(raw, SASL_USER_MAX);
	CHECK_INT(login(e, NULL, &l), SASL_MORE);
	CHECK_INT(strlen(l.c.user), SASL_USER_MAX);
	free(e);
	e = b64(raw, SASL_USER_MAX + 1);
	CHECK_INT(login(e, NULL, &l), SASL_TOO_LONG);
	free(e);
	e = b64(raw, SASL_PASS_MAX);
	CHECK_INT(login("YWxpY2U=", e, &l), SASL_OK);
	CHECK_INT(strlen(l.c.pass), SASL_PASS_MAX);
	free(e);
	e = b64(raw, SASL_PASS_MAX + 1);
	CHECK_INT(login("YWxpY2U=", e, &l), SASL_TOO_LONG);
	free(e);
	sasl_creds_wipe(&l.c);
}

T(test_rc_names)
{
	CHECK_STR(sasl_rc_name(SASL_OK), "ok");
	CHECK_STR(sasl_rc_name(SASL_MORE), "more");
	CHECK_STR(sasl_rc_name(SASL_CANCEL), "cancel");
	CHECK_STR(sasl_rc_name(SASL_BAD_BASE64), "bad-base64");
	CHECK_STR(sasl_rc_name(SASL_BAD_SYNTAX), "bad-syntax");
	CHECK_STR(sasl_rc_name(SASL_TOO_LONG), "too-long");
	CHECK_STR(sasl_rc_name(SASL_AUTHZID), "authzid-mismatch");
	CHECK_STR(sasl_rc_name((enum sasl_rc)99), "?");
}

int
main(void)
{
	RUN(test_pw_known_yescrypt);
	RUN(test_pw_bcrypt);
	RUN(test_pw_refused_hashes);
	RUN(test_pw_lengths);
	RUN(test_pw_hash_roundtrip);
	RUN(test_pw_hash_refuses);
	RUN(test_pw_dummy_costs_a_verification);
	RUN(test_pwpool_checks_on_threads);
	RUN(test_delay_curve);
	RUN(test_delay_pairs_are_separate);
	RUN(test_delay_forgets);
	RUN(test_delay_bounded);
	RUN(test_plain_table);
	RUN(test_plain_base64_strict);
	RUN(test_plain_limits);
	RUN(test_login_steps);
	RUN(test_login_errors);
	RUN(test_rc_names);
	return t_done("auth");
}

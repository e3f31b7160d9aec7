/*
 * tests/unit/test_users.c - mail/users.c: the users file, the aliases file,
 * aliases_check and rcpt_resolve, with the exact file:line text of every
 * kind of error.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/util.h"
#include "mail/users.h"
#include "t.h"

#define YESCRYPT "$y$j9T$abcdefghijklmnop$wRwvHNqzMkHLG74uLLCRVTwaZ.a1aIothEUeYGf9oED"
#define YESCRYPT_NOSALT "$y$j9T$$35/RtcSpQnsp9pKBilplwTCR/Z6e.uNV.3aZKZzHYd6"
#define BCRYPT_B "$2b$05$abcdefghijklmnopqrstuuHIrMEWpUCQe2YqFR3sXwQ75u4od..9q"
#define BCRYPT_Y "$2y$12$a.tN8UJ0lbpoN8QgyruDqex7TJWTL1NDXL1EBBfUjAZhyYtizZ2M."

static const char *const domains[] = { "example.org", "Example.NET" };

/* --- users ------------------------------------------------------------------ */

static void
expect_users(const char *text, const char *want, int rc_want, int line)
{
	struct diag d;
	struct users u;
	diag_init(&d);
	int rc = users_parse(text, strlen(text), "users", &u, &d);
	if (strcmp(diag_text(&d), want) != 0 || rc != rc_want) {
		fprintf(stderr, "test_users.c:%d: for %s\n  got (%d):  %s  want (%d): %s", line,
		    text, rc, diag_text(&d), rc_want, want);
		t_cur_failed = 1;
	}
	users_free(&u);
	CHECK(u.v == NULL && u.n == 0);
	diag_free(&d);
}

#define EXPECT_USERS(text, want) expect_users(text, want, (want)[0] ? -1 : 0, __LINE__)

T(test_users_valid)
{
	const char *text =
	    "# user:{SCHEME}hash[:uid:gid:gecos:home:shell:extra]\n"
	    "\n"
	    "   \t\n"
	    "  # indented comment\n"
	    "carol:" BCRYPT_B ":1000:1000:Carol C:/home/carol:/bin/sh:userdb_quota=1G\n"
	    "alice:{CRYPT}" YESCRYPT "\r\n"
	    "bob:\n"
	    "dave:{BLF-CRYPT}" BCRYPT_Y "::\n"
	    "erin:{crypt}" YESCRYPT_NOSALT "\n"
	    "frank:{CRYPT}\n"
	    "0.x_y-z:\n"
	    "postmaster:";	/* no final LF */
	struct diag d;
	struct users u;
	diag_init(&d);
	CHECK_INT(users_parse(text, strlen(text), "users", &u, &d), 0);
	CHECK_STR(diag_text(&d), "");
	CHECK_INT(u.n, 8);
	if (u.n == 8) {
		/* sorted by name */
		CHECK_STR(u.v[0].name, "0.x_y-z");
		CHECK_STR(u.v[1].name, "alice");
		CHECK_STR(u.v[1].hash, YESCRYPT);
		CHECK_INT(u.v[1].line, 6);
		CHECK_STR(u.v[2].name, "bob");
		CHECK_STR(u.v[2].hash, "");
		CHECK_STR(u.v[3].name, "carol");
		CHECK_STR(u.v[3].hash, BCRYPT_B);
		CHECK_INT(u.v[3].line, 5);
		CHECK_STR(u.v[4].name, "dave");
		CHECK_STR(u.v[4].hash, BCRYPT_Y);
		CHECK_STR(u.v[5].name, "erin");
		CHECK_STR(u.v[5].hash, YESCRYPT_NOSALT);
		CHECK_STR(u.v[6].name, "frank");
		CHECK_STR(u.v[6].hash, "");
		CHECK_STR(u.v[7].name, "postmaster");
		CHECK_INT(u.v[7].line, 12);
	}
	const struct user_ent *ue = users_find(&u, "ALICE");
	CHECK(ue != NULL && strcmp(ue->name, "alice") == 0);
	CHECK(users_find(&u, "alice") == ue);
	CHECK(users_find(&u, "alice+x") == NULL);	/* no +detail here */
	CHECK(users_find(&u, "alic") == NULL);
	CHECK(users_find(&u, "") == NULL);
	CHECK(users_find(&u, NULL) == NULL);
	users_forget_hashes(&u);
	for (size_t i = 0; i < u.n; i++)
		CHECK(u.v[i].hash == NULL);
	CHECK(users_find(&u, "carol") != NULL);
	users_free(&u);
	diag_free(&d);

	/* empty file: no users, no error */
	EXPECT_USERS("", "");
	EXPECT_USERS("# nothing\n\n", "");
}

T(test_users_errors)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "alice\n",
		  "users:1: no ':' on the line (expected name:hash, where the hash may be empty)\n" },
		{ "alice " YESCRYPT "\n",	/* the hash is not echoed */
		  "users:1: no ':' on the line (expected name:hash, where the hash may be empty)\n" },
		{ "bob:\nAlice:\n",
		  "users:2: user name \"Alice\" has uppercase letters (expected lowercase: "
		  "\"alice\"; the name is the mailbox directory)\n" },
		{ ":" YESCRYPT "\n",
		  "users:1: invalid user name \"\" (expected [a-z0-9][a-z0-9._-]*, at most 64 "
		  "bytes)\n" },
		{ " alice:\n",
		  "users:1: invalid user name \" alice\" (expected [a-z0-9][a-z0-9._-]*, at most 64 "
		  "bytes)\n" },
		{ "-alice:\n",
		  "users:1: invalid user name \"-alice\" (expected [a-z0-9][a-z0-9._-]*, at most 64 "
		  "bytes)\n" },
		{ ".alice:\n",
		  "users:1: invalid user name \".alice\" (expected [a-z0-9][a-z0-9._-]*, at most 64 "
		  "bytes)\n" },
		{ "alice+x:\n",
		  "users:1: invalid user name \"alice+x\" (expected [a-z0-9][a-z0-9._-]*, at most "
		  "64 bytes)\n" },
		{ "al/ice:\n",
		  "users:1: invalid user name \"al/ice\" (expected [a-z0-9][a-z0-9._-]*, at most "
		  "64 bytes)\n" },
		{ "J\xc3\xb6rg:\n",
		  "users:1: invalid user name \"J\\xc3\\xb6rg\" (expected [a-z0-9][a-z0-9._-]*, at "
		  "most 64 bytes)\n" },
		{ "alice:{PLAIN}secret\n",
		  "users:1: only yescrypt or bcrypt hashes are accepted (found scheme {PLAIN}; "
		  "expected {CRYPT}$y$..., {BLF-CRYPT}$2b$... or nothing)\n" },
		{ "alice:{SHA512-CRYPT}$6$salt$hash\n",
		  "users:1: only yescrypt or bcrypt hashes are accepted (found scheme "
		  "{SHA512-CRYPT}; expected {CRYPT}$y$..., {BLF-CRYPT}$2b$... or nothing)\n" },
		{ "alice:{CRYPT\n",
		  "users:1: unterminated {SCHEME} prefix (expected {CRYPT} or {BLF-CRYPT})\n" },
		{ "alice:$6$rounds=5000$salt$hash\n",
		  "users:1: only yescrypt or bcrypt hashes are accepted (found $6$...; expected "
		  "$y$ or $2b$/$2y$)\n" },
		{ "alice:{CRYPT}$1$salt$hash\n",
		  "users:1: only yescrypt or bcrypt hashes are accepted (found $1$...; expected "
		  "$y$ or $2b$/$2y$)\n" },
		{ "alice:$2a$05$abcdefghijklmnopqrstuuHIrMEWpUCQe2YqFR3sXwQ75u4od..9q\n",
		  "users:1: only yescrypt or bcrypt hashes are accepted (found $2a$...; expected "
		  "$y$ or $2b$/$2y$)\n" },
		{ "alice:$argon2id$v=19$m=65536\n",
		  "users:1: only yescrypt or bcrypt hashes are accepted (found $argon2id$...; "
		  "expected $y$ or $2b$/$2y$)\n" },
		{ "alice:secret\n",
		  "users:1: only yescrypt or bcrypt hashes are accepted (found a value that is not "
		  "a crypt hash; expected $y$..., $2b$..., $2y$... or nothing)\n" },
		{ "alice:!\n",
		  "users:1: only yescrypt or bcrypt hashes are accepted (found a value that is not "
		  "a crypt hash; expected $y$..., $2b$..., $2y$... or nothing)\n" },
		{ "alice: \n",
		  "users:1: only yescrypt or bcrypt hashes are accepted (found a value that is not "
		  "a crypt hash; expected $y$..., $2b$..., $2y$... or nothing)\n" },
		{ "alice:$y$j9T$abcdefghijklmnop$tooshort\n",
		  "users:1: malformed yescrypt hash (expected $y$PARAMS$SALT$ and 43 characters of "
		  "[./0-9A-Za-z], as crypt(3) writes it)\n" },
		{ "alice:$y$\n",
		  "users:1: malformed yescrypt hash (expected $y$PARAMS$SALT$ and 43 characters of "
		  "[./0-9A-Za-z], as crypt(3) writes it)\n" },
		{ "alice:" YESCRYPT " \n",
		  "users:1: malformed yescrypt hash (expected $y$PARAMS$SALT$ and 43 characters of "
		  "[./0-9A-Za-z], as crypt(3) writes it)\n" },
		{ "alice:$2b$05$abcdefghijklmnopqrstuuHIrMEWpUCQe2YqFR3sXwQ75u4od..9\n",
		  "users:1: malformed bcrypt hash (expected $2b$NN$ and 53 characters of "
		  "[./0-9A-Za-z])\n" },
		{ "alice:$2y$03$abcdefghijklmnopqrstuuHIrMEWpUCQe2YqFR3sXwQ75u4od..9q\n",
		  "users:1: malformed bcrypt hash (expected $2y$NN$ and 53 characters of "
		  "[./0-9A-Za-z])\n" },
		{ "alice:{BLF-CRYPT}$2b$32$abcdefghijklmnopqrstuuHIrMEWpUCQe2YqFR3sXwQ75u4od..9q\n",
		  "users:1: malformed bcrypt hash (expected $2b$NN$ and 53 characters of "
		  "[./0-9A-Za-z])\n" },
		/* duplicates: error naming both lines, the first wins */
		{ "alice:\nbob:\n\nalice:" YESCRYPT "\nalice:\n",
		  "users:4: duplicate user \"alice\" (first at line 1)\n"
		  "users:5: duplicate user \"alice\" (first at line 1)\n" },
	};
	for (size_t i = 0; i < NELEM(cases); i++)
		EXPECT_USERS(cases[i].text, cases[i].want);

	/* NUL byte: error with its line, the rest is still read */
	static const char nul[] = "alice:\nbob:x\0y\ncarol:\n";
	struct diag d;
	struct users u;
	diag_init(&d);
	CHECK_INT(users_parse(nul, sizeof nul - 1, "users", &u, &d), -1);
	CHECK_STR(diag_text(&d), "users:2: NUL byte at column 6 (expected text)\n");
	CHECK_INT(u.n, 2);
	CHECK(users_find(&u, "carol") != NULL);
	users_free(&u);
	diag_free(&d);

	/* line length */
	char *line = xmalloc(5000);
	memset(line, 'a', 4097);
	memcpy(line, "bob:", 4);
	strcpy(line + 4097, "\nalice:\n");
	char *want = xasprintf("users:1: line is 4097 bytes long (expected at most 4096)\n");
	EXPECT_USERS(line, want);
	free(want);
	free(line);

	/* 64-byte names are fine, 65 are not */
	char n64[80], n65[80];
	memset(n64, 'a', 64);
	strcpy(n64 + 64, ":\n");
	memset(n65, 'a', 65);
	strcpy(n65 + 65, ":\n");
	EXPECT_USERS(n64, "");
	want = xasprintf("users:1: invalid user name \"%.65s\" (expected [a-z0-9][a-z0-9._-]*, "
	    "at most 64 bytes)\n", n65);
	EXPECT_USERS(n65, want);
	free(want);

	/* the valid entries survive a file with errors */
	const char *mixed = "alice:\nBob:\ncarol:{PLAIN}x\ndave:\n";
	diag_init(&d);
	CHECK_INT(users_parse(mixed, strlen(mixed), "users", &u, &d), -1);
	CHECK_INT(d.n_err, 2);
	CHECK_INT(u.n, 2);
	users_free(&u);
	diag_free(&d);
}

/* RFC 7677 3's keys in the extra field: "pencil", 4096 iterations */
#define SALT16	"W22ZaJ0SNY7soEsUEjb6gQ=="
#define K32	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
#define SCRAM_V	"4096," SALT16 "," K32 ",wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

T(test_users_scram)
{
	const char *text =
	    "alice:{CRYPT}" YESCRYPT "::::::scram-sha-256=" SCRAM_V "\n"
	    "carol:" YESCRYPT ":1:2:C:/h:/bin/sh:userdb_quota_rule=*:storage=1G scram-sha-256="
	    SCRAM_V " other=1\n"
	    "dave:" YESCRYPT ":::::scram-sha-256=" SCRAM_V "\n"	/* the shell field */
	    "erin:" YESCRYPT "::::::xscram-sha-256=1 scram-sha-2566=1\n";
	struct diag d;
	struct users u;
	diag_init(&d);
	CHECK_INT(users_parse(text, strlen(text), "users", &u, &d), 0);
	CHECK_STR(diag_text(&d), "");
	CHECK_INT(u.n, 4);
	const struct user_ent *a = users_find(&u, "alice"), *c = users_find(&u, "carol");
	CHECK(a != NULL && a->scram != NULL && c != NULL && c->scram != NULL);
	if (a != NULL && a->scram != NULL) {
		CHECK_INT(a->scram->iter, 4096);
		CHECK_INT(a->scram->salt_len, 16);
		CHECK(a->scram->salt[0] == 0x5b && a->scram->salt[15] == 0x81);
		CHECK(a->scram->stored_key[0] == 0x58 && a->scram->server_key[31] == 0xd5);
		char back[USERS_SCRAM_TEXT_MAX];
		CHECK(users_scram_format(a->scram, back, sizeof back));
		CHECK_STR(back, SCRAM_V);
	}
	CHECK(users_find(&u, "dave")->scram == NULL);
	CHECK(users_find(&u, "erin")->scram == NULL);
	users_forget_hashes(&u);
	CHECK(a->scram == NULL && c->scram == NULL);
	users_free(&u);
	diag_free(&d);

	static const struct {
		const char *value, *why;
	} bad[] = {
		{ "", "expected ITER,SALT,STOREDKEY,SERVERKEY" },
		{ "4096,W22ZaJ0SNY7soEsUEjb6gQ==," K32, "expected ITER,SALT,STOREDKEY,SERVERKEY" },
		{ SCRAM_V ",", "expected ITER,SALT,STOREDKEY,SERVERKEY" },
		{ "4095,W22ZaJ0SNY7soEsUEjb6gQ==," K32 "," K32,
		  "ITER is not a number from 4096 to 10000000" },
		{ "10000001,W22ZaJ0SNY7soEsUEjb6gQ==," K32 "," K32,
		  "ITER is not a number from 4096 to 10000000" },
		{ "04096,W22ZaJ0SNY7soEsUEjb6gQ==," K32 "," K32,
		  "ITER is not a number from 4096 to 10000000" },
		{ "+4096,W22ZaJ0SNY7soEsUEjb6gQ==," K32 "," K32,
		  "ITER is not a number from 4096 to 10000000" },
		{ ",W22ZaJ0SNY7soEsUEjb6gQ==," K32 "," K32,
		  "ITER is not a number from 4096 to 10000000" },
		{ "4096,AAAAAAAAAA==," K32 "," K32, "SALT is not base64 of 8 to 64 bytes" },
		{ "4096,W22ZaJ0SNY7soEsUEjb6gQ=," K32 "," K32,
		  "SALT is not base64 of 8 to 64 bytes" },
		{ "4096,," K32 "," K32, "SALT is not base64 of 8 to 64 bytes" },
		{ "4096," SALT16 ",AAAA," K32, "STOREDKEY is not base64 of 32 bytes" },
		{ "4096,W22ZaJ0SNY7soEsUEjb6gQ==," K32 "," K32 "AAAA",
		  "SERVERKEY is not base64 of 32 bytes" },
		{ "4096," SALT16 "," K32 ",WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qZ=",
		  "SERVERKEY is not base64 of 32 bytes" },
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		char *line = xasprintf("alice:" YESCRYPT "::::::scram-sha-256=%s\n", bad[i].value);
		char *want = xasprintf("users:1: malformed scram-sha-256= value (%s)\n",
		    bad[i].why);
		EXPECT_USERS(line, want);
		free(line);
		free(want);
		struct user_scram k;
		const char *why = NULL;
		CHECK_INT(users_scram_parse(bad[i].value, strlen(bad[i].value), &k, &why), -1);
		CHECK_STR(why, bad[i].why);
	}
	/* a key is never echoed */
	EXPECT_USERS("alice:" YESCRYPT "::::::scram-sha-256=" SCRAM_V " scram-sha-256=" SCRAM_V
	    "\n", "users:1: more than one scram-sha-256= pair (expected at most one)\n");
	/* keys on an account that cannot log in: a warning, not an error */
	expect_users("bob:::::::scram-sha-256=" SCRAM_V "\n", "users:1: warning: SCRAM keys on "
	    "an account without a password hash are not used (no hash, no login)\n", 0, __LINE__);
}

T(test_users_many)
{
	/* a large file: sorted, every name found by binary search */
	struct buf b;
	buf_init(&b, 0);
	for (int i = 9999; i >= 0; i--)
		buf_printf(&b, "user%d:\n", i);
	struct diag d;
	struct users u;
	diag_init(&d);
	CHECK_INT(users_parse((const char *)b.data, b.len, "users", &u, &d), 0);
	CHECK_INT(u.n, 10000);
	int found = 0;
	for (int i = 0; i < 10000; i++) {
		char name[32];
		snprintf(name, sizeof name, "USER%d", i);
		const struct user_ent *ue = users_find(&u, name);
		if (ue != NULL && (unsigned)(10000 - i) == ue->line)
			found++;
	}
	CHECK_INT(found, 10000);
	CHECK(users_find(&u, "user10000") == NULL);
	users_free(&u);
	diag_free(&d);
	buf_free(&b);

	/* too many errors: stops with a note */
	buf_init(&b, 0);
	for (int i = 0; i < 300; i++)
		buf_puts(&b, "X:\n");
	diag_init(&d);
	CHECK_INT(users_parse((const char *)b.data, b.len, "users", &u, &d), -1);
	CHECK_INT(d.n_err, 101);
	CHECK(strstr(diag_text(&d), "users: too many errors, stopped after line 100\n") != NULL);
	users_free(&u);
	diag_free(&d);
	buf_free(&b);
}

/* --- aliases ---------------------------------------------------------------- */

static void
expect_aliases(const char *text, const char *want, int rc_want, int line)
{
	struct diag d;
	struct aliases a;
	diag_init(&d);
	int rc = aliases_parse(text, strlen(text), "aliases", &a, &d);
	if (strcmp(diag_text(&d), want) != 0 || rc != rc_want) {
		fprintf(stderr, "test_users.c:%d: for %s\n  got (%d):  %s  want (%d): %s", line,
		    text, rc, diag_text(&d), rc_want, want);
		t_cur_failed = 1;
	}
	aliases_free(&a);
	CHECK(a.v == NULL && a.n == 0);
	diag_free(&d);
}

#define EXPECT_ALIASES(text, want, rc) expect_aliases(text, want, rc, __LINE__)

T(test_aliases_valid)
{
	const char *text =
	    "# aliases(5)\n"
	    "postmaster: alice\n"
	    "Abuse : Alice\n"
	    "team: alice, bob,\n"
	    "      carol\n"
	    "\tdave@Example.ORG\n"
	    "# a comment inside the entry\n"
	    "\n"
	    "  erin,, frank , \r\n"
	    "list:alice bob\tcarol\n"
	    "detail: alice+lists\n"
	    "mailer-daemon: postmaster\n";
	struct diag d;
	struct aliases a;
	diag_init(&d);
	CHECK_INT(aliases_parse(text, strlen(text), "aliases", &a, &d), 0);
	CHECK_STR(diag_text(&d), "");
	CHECK_INT(a.n, 6);
	if (a.n == 6) {
		CHECK_STR(a.v[0].name, "abuse");
		CHECK_INT(a.v[0].n_targets, 1);
		CHECK_STR(a.v[0].targets[0], "alice");
		CHECK_INT(a.v[0].line, 3);
		CHECK_STR(a.v[1].name, "detail");
		CHECK_STR(a.v[1].targets[0], "alice+lists");
		CHECK_STR(a.v[2].name, "list");
		CHECK_INT(a.v[2].n_targets, 3);
		CHECK_STR(a.v[2].targets[2], "carol");
		CHECK_STR(a.v[3].name, "mailer-daemon");
		CHECK_STR(a.v[4].name, "postmaster");
		CHECK_INT(a.v[4].line, 2);
		CHECK_STR(a.v[5].name, "team");
		CHECK_INT(a.v[5].line, 4);
		CHECK_INT(a.v[5].n_targets, 6);
		if (a.v[5].n_targets == 6) {
			CHECK_STR(a.v[5].targets[0], "alice");
			CHECK_STR(a.v[5].targets[1], "bob");
			CHECK_STR(a.v[5].targets[2], "carol");
			CHECK_STR(a.v[5].targets[3], "dave@example.org");
			CHECK_STR(a.v[5].targets[4], "erin");
			CHECK_STR(a.v[5].targets[5], "frank");
		}
	}
	aliases_free(&a);
	diag_free(&d);

	EXPECT_ALIASES("", "", 0);
	EXPECT_ALIASES("# only a comment\n", "", 0);
}

T(test_aliases_errors)
{
	static const struct {
		const char *text, *want;
		int rc;
	} cases[] = {
		{ "prog: |/usr/bin/procmail\n",
		  "aliases:1: \"|/usr/bin/procmail\": delivery to programs is not supported, on "
		  "purpose (expected a user or alias name, or local@domain)\n", -1 },
		{ "prog: alice, \"|/usr/bin/vacation alice\"\n",
		  "aliases:1: \"\\x22|/usr/bin/vacation\": quoted targets are not supported "
		  "(expected a user or alias name, or local@domain)\n", -1 },
		{ "file: /var/log/mail\n",
		  "aliases:1: \"/var/log/mail\": delivery to files is not supported, on purpose "
		  "(expected a user or alias name, or local@domain)\n", -1 },
		{ "list: :include:/etc/list\n",
		  "aliases:1: \":include:/etc/list\": :include: is not supported, on purpose "
		  "(expected a user or alias name, or local@domain)\n", -1 },
		{ "list: :INCLUDE:/etc/list\n",
		  "aliases:1: \":INCLUDE:/etc/list\": :include: is not supported, on purpose "
		  "(expected a user or alias name, or local@domain)\n", -1 },
		{ "team: alice # the boss\n",
		  "aliases:1: \"#\": a comment after targets (expected comments on lines of their "
		  "own)\n", -1 },
		{ "team alice\n",
		  "aliases:1: found \"team alice\" without ':' (expected \"name: target[, "
		  "target...]\")\n", -1 },
		{ "bad name: alice\n",
		  "aliases:1: invalid alias name \"bad name\" (expected [a-z0-9][a-z0-9._-]*, at "
		  "most 64 bytes, any case)\n", -1 },
		{ ": alice\n",
		  "aliases:1: invalid alias name \"\" (expected [a-z0-9][a-z0-9._-]*, at most 64 "
		  "bytes, any case)\n", -1 },
		{ "alice+x: bob\n",
		  "aliases:1: invalid alias name \"alice+x\" (expected [a-z0-9][a-z0-9._-]*, at "
		  "most 64 bytes, any case)\n", -1 },
		{ "empty:\n",
		  "aliases:1: alias \"empty\" has no targets (expected \"empty: target[, "
		  "target...]\")\n", -1 },
		{ "empty: ,, \nnext: bob\n",
		  "aliases:1: alias \"empty\" has no targets (expected \"empty: target[, "
		  "target...]\")\n", -1 },
		{ "  alice\nteam: bob\n",
		  "aliases:1: continuation line without an alias before it (expected \"name: "
		  "target, ...\" first)\n", -1 },
		{ "# c\n  alice\n  bob\n",
		  "aliases:2: continuation line without an alias before it (expected \"name: "
		  "target, ...\" first)\n", -1 },
		{ "team: alice\n  bob, -carol\n",
		  "aliases:2: \"-carol\": invalid target (expected a user or alias name "
		  "[a-z0-9][a-z0-9._+-]* of at most 64 bytes, or local@domain)\n", -1 },
		{ "team: bob@\n",
		  "aliases:1: \"bob@\": invalid target (expected a user or alias name "
		  "[a-z0-9][a-z0-9._+-]* of at most 64 bytes, or local@domain)\n", -1 },
		{ "team: @example.org\n",
		  "aliases:1: \"@example.org\": invalid target (expected a user or alias name "
		  "[a-z0-9][a-z0-9._+-]* of at most 64 bytes, or local@domain)\n", -1 },
		{ "team: bob@[192.0.2.1]\n",
		  "aliases:1: \"bob@[192.0.2.1]\": invalid target (expected a user or alias name "
		  "[a-z0-9][a-z0-9._+-]* of at most 64 bytes, or local@domain)\n", -1 },
		{ "team: a@b@example.org\n",
		  "aliases:1: \"a@b@example.org\": invalid target (expected a user or alias name "
		  "[a-z0-9][a-z0-9._+-]* of at most 64 bytes, or local@domain)\n", -1 },
		/* the domain gets the one domain check (mail/domain.c), not a
		 * character whitelist: these used to pass as "remote" domains */
		{ "team: bob@a..example\n",
		  "aliases:1: \"bob@a..example\": invalid target (expected a user or alias name "
		  "[a-z0-9][a-z0-9._+-]* of at most 64 bytes, or local@domain)\n", -1 },
		{ "team: bob@-a.example\n",
		  "aliases:1: \"bob@-a.example\": invalid target (expected a user or alias name "
		  "[a-z0-9][a-z0-9._+-]* of at most 64 bytes, or local@domain)\n", -1 },
		{ "team: bob@example.org.\n",
		  "aliases:1: \"bob@example.org.\": invalid target (expected a user or alias name "
		  "[a-z0-9][a-z0-9._+-]* of at most 64 bytes, or local@domain)\n", -1 },
		{ "team: bob@b\xc3\xbc" "cher.example\n",
		  "aliases:1: \"bob@b\\xc3\\xbccher.example\": invalid target (expected a user or "
		  "alias name [a-z0-9][a-z0-9._+-]* of at most 64 bytes, or local@domain)\n", -1 },
		/* a bad entry header hides its continuation lines, nothing more */
		{ "bad name: x\n  y\ngood: z\n",
		  "aliases:1: invalid alias name \"bad name\" (expected [a-z0-9][a-z0-9._-]*, at "
		  "most 64 bytes, any case)\n", -1 },
		/* duplicate: a warning naming both lines, the first wins */
		{ "team: alice\nother: bob\nTEAM: carol\n",
		  "aliases:3: warning: duplicate alias \"team\" (first at line 1, which is used; "
		  "this one is ignored)\n", 0 },
	};
	for (size_t i = 0; i < NELEM(cases); i++)
		EXPECT_ALIASES(cases[i].text, cases[i].want, cases[i].rc);

	/* first wins, for real */
	const char *text = "team: alice\nother: bob\nTEAM: carol\n";
	struct diag d;
	struct aliases a;
	diag_init(&d);
	CHECK_INT(aliases_parse(text, strlen(text), "aliases", &a, &d), 0);
	CHECK_INT(d.n_warn, 1);
	CHECK_INT(a.n, 2);
	CHECK_STR(a.v[1].name, "team");
	CHECK_STR(a.v[1].targets[0], "alice");
	CHECK_INT(a.v[1].line, 1);
	aliases_free(&a);
	diag_free(&d);

	/* NUL and long lines, with line numbers */
	static const char nul[] = "a: b\nc: d\0e\nf: g\n";
	diag_init(&d);
	CHECK_INT(aliases_parse(nul, sizeof nul - 1, "aliases", &a, &d), -1);
	CHECK_STR(diag_text(&d), "aliases:2: NUL byte at column 5 (expected text)\n");
	CHECK_INT(a.n, 2);
	aliases_free(&a);
	diag_free(&d);
}

/* --- aliases_check and rcpt_resolve ----------------------------------------- */

struct world {
	struct users u;
	struct aliases a;
	struct diag d;
};

/* Parse users and aliases (must be clean) and run aliases_check. */
static void
world_init(struct world *w, const char *users, const char *aliases)
{
	diag_init(&w->d);
	CHECK_INT(users_parse(users, strlen(users), "users", &w->u, &w->d), 0);
	CHECK_INT(aliases_parse(aliases, strlen(aliases), "aliases", &w->a, &w->d), 0);
	CHECK_STR(diag_text(&w->d), "");
	aliases_check(&w->a, &w->u, domains, NELEM(domains), "aliases", &w->d);
}

static void
world_free(struct world *w)
{
	users_free(&w->u);
	aliases_free(&w->a);
	diag_free(&w->d);
}

static int
resolve(struct world *w, const char *local, const char *out[RCPT_EXPAND_MAX])
{
	return rcpt_resolve(&w->u, &w->a, domains, NELEM(domains), local, out);
}

/* rcpt_resolve gives exactly the names in want (space-separated, in order),
 * or want == NULL for -1. */
static void
expect_rcpt(struct world *w, const char *local, const char *want, int line)
{
	const char *out[RCPT_EXPAND_MAX];
	char got[1024] = "";
	int n = resolve(w, local, out);
	if (n < 0) {
		snprintf(got, sizeof got, "(-1)");
	} else {
		size_t o = 0;
		for (int i = 0; i < n; i++) {
			/* every result must point into the users array */
			const struct user_ent *ue = users_find(&w->u, out[i]);
			if (ue == NULL || ue->name != out[i])
				t_cur_failed = 1;
			o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", i ? " " : "", out[i]);
		}
	}
	const char *w2 = want ? want : "(-1)";
	if (strcmp(got, w2) != 0) {
		fprintf(stderr, "test_users.c:%d: rcpt \"%s\": got \"%s\", want \"%s\"\n", line,
		    local ? local : "(null)", got, w2);
		t_cur_failed = 1;
	}
}

#define EXPECT_RCPT(w, local, want) expect_rcpt(w, local, want, __LINE__)

static const char USERS[] = "alice:\nbob:\ncarol:\ndave:\n";

T(test_check_clean)
{
	struct world w;
	world_init(&w, USERS,
	    "postmaster: alice\n"
	    "abuse: postmaster\n"
	    "team: alice, bob, bob@example.org, BOB@EXAMPLE.NET, sub\n"
	    "sub: carol, alice\n"
	    "alice: alice, dave\n");		/* keep a copy */
	CHECK_STR(diag_text(&w.d), "");
	CHECK_INT(w.d.n_err + w.d.n_warn, 0);
	world_free(&w);

	/* a ring is a loop: reported at every alias that reaches it */
	world_init(&w, USERS,
	    "postmaster: alice\n"
	    "abuse: alice\n"
	    "ring1: ring2, carol\n"
	    "ring2: ring1\n"
	    "entry: ring1\n");
	CHECK_STR(diag_text(&w.d),
	    "aliases:3: alias \"ring1\" loops: ring1 -> ring2 -> ring1 (expected every target "
	    "to end at a user)\n"
	    "aliases:4: alias \"ring2\" loops: ring2 -> ring1 -> ring2 (expected every target "
	    "to end at a user)\n"
	    "aliases:5: alias \"entry\" loops: entry -> ring1 -> ring2 -> ring1 (expected every "
	    "target to end at a user)\n");
	const char *out[RCPT_EXPAND_MAX];
	CHECK_INT(resolve(&w, "entry", out), -1);
	CHECK_INT(resolve(&w, "ring2+x", out), -1);
	world_free(&w);

	/* indirect self reference ends at the user of that name */
	world_init(&w, USERS,
	    "postmaster: alice\nabuse: alice\n"
	    "alice: helpers\n"
	    "helpers: alice, bob\n");
	CHECK_STR(diag_text(&w.d),
	    "aliases:4: alias \"helpers\" loops: helpers -> alice -> helpers (expected every "
	    "target to end at a user)\n");
	EXPECT_RCPT(&w, "alice", "alice bob");		/* alice -> helpers -> alice(user) */
	CHECK_INT(resolve(&w, "helpers", out), -1);	/* helpers -> alice -> helpers: no user */
	world_free(&w);
}

T(test_check_errors)
{
	static const struct {
		const char *aliases, *want;
	} cases[] = {
		{ "postmaster: alice\nabuse: alice\n", "" },
		{ "postmaster: alice\n",
		  "aliases: \"abuse\" is neither an alias nor a user (expected e.g. \"abuse: "
		  "yourname\"; RFC 2142 requires it)\n" },
		{ "",
		  "aliases: \"postmaster\" is neither an alias nor a user (expected e.g. "
		  "\"postmaster: yourname\"; RFC 5321 4.5.1 requires it)\n"
		  "aliases: \"abuse\" is neither an alias nor a user (expected e.g. \"abuse: "
		  "yourname\"; RFC 2142 requires it)\n" },
		{ "abuse: alice\nteam: alice, zed\n",
		  "aliases:2: alias \"team\": target \"zed\" is neither a user nor an alias\n"
		  "aliases: \"postmaster\" is neither an alias nor a user (expected e.g. "
		  "\"postmaster: yourname\"; RFC 5321 4.5.1 requires it)\n" },
		{ "postmaster: alice\nabuse: alice\nfwd: friend@remote.example, bob\n",
		  "aliases:3: alias \"fwd\": target \"friend@remote.example\": forwarding to remote "
		  "addresses is not supported yet (expected a local domain)\n" },
		{ "postmaster: alice\nabuse: alice\nfwd: bob@example.org.evil\n",
		  "aliases:3: alias \"fwd\": target \"bob@example.org.evil\": forwarding to remote "
		  "addresses is not supported yet (expected a local domain)\n" },
		{ "postmaster: alice\nabuse: alice\nfwd: zed@example.org\n",
		  "aliases:3: alias \"fwd\": target \"zed@example.org\" is neither a user nor an "
		  "alias\n" },
		/* the broken alias is reported once, not at every alias using it */
		{ "postmaster: alice\nabuse: alice\nfwd: zed\nuses: fwd\n",
		  "aliases:3: alias \"fwd\": target \"zed\" is neither a user nor an alias\n" },
		{ "postmaster: alice\nabuse: alice\nloop: loop\n",
		  "aliases:3: alias \"loop\" loops: loop -> loop (expected every target to end at "
		  "a user)\n" },
		{ "postmaster: postmaster\nabuse: alice\n",
		  "aliases:1: alias \"postmaster\" loops: postmaster -> postmaster (expected every "
		  "target to end at a user)\n" },
		/* a user of the same name makes the self reference fine */
		{ "postmaster: alice\nabuse: alice\nbob: bob, alice\n", "" },
		{ "postmaster: alice\nabuse: alice\nx: y\ny: z\nz: x\n",
		  "aliases:3: alias \"x\" loops: x -> y -> z -> x (expected every target to end at "
		  "a user)\n"
		  "aliases:4: alias \"y\" loops: y -> z -> x -> y (expected every target to end at "
		  "a user)\n"
		  "aliases:5: alias \"z\" loops: z -> x -> y -> z (expected every target to end at "
		  "a user)\n" },
		/* postmaster as a user is enough */
		{ "abuse: postmaster\n", "" },
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct world w;
		world_init(&w, i + 1 == NELEM(cases) ? "alice:\nbob:\npostmaster:\n" :
		    "alice:\nbob:\n", cases[i].aliases);
		if (strcmp(diag_text(&w.d), cases[i].want) != 0) {
			fprintf(stderr, "test_users.c: case %zu: %s\n  got:  %s  want: %s", i,
			    cases[i].aliases, diag_text(&w.d), cases[i].want);
			t_cur_failed = 1;
		}
		world_free(&w);
	}
}

T(test_check_depth)
{
	/* a1 -> a2 -> ... -> aN -> alice: 8 alias levels are fine, 9 are not */
	for (int levels = 7; levels <= 10; levels++) {
		struct buf b;
		buf_init(&b, 0);
		buf_puts(&b, "postmaster: alice\nabuse: alice\n");
		for (int i = 1; i < levels; i++)
			buf_printf(&b, "a%d: a%d\n", i, i + 1);
		buf_printf(&b, "a%d: alice\n", levels);
		buf_cstr(&b);
		struct world w;
		world_init(&w, "alice:\n", (const char *)b.data);
		const char *out[RCPT_EXPAND_MAX];
		int n = resolve(&w, "a1", out);
		if (levels <= 8) {
			CHECK_STR(diag_text(&w.d), "");
			CHECK_INT(n, 1);
		} else {
			CHECK_INT(n, -1);
			/* every alias with too many levels below it, and nothing else */
			CHECK_INT(w.d.n_err, levels - 8);
			CHECK(strstr(diag_text(&w.d), "aliases:3: alias \"a1\" nests too deep: "
			    "a1 -> a2 -> a3 -> a4 -> a5 -> a6 -> a7 -> a8 -> a9 (expected at most 8 "
			    "levels of aliases)\n") != NULL);
			CHECK_INT(resolve(&w, "a2", out), levels == 9 ? 1 : -1);
		}
		world_free(&w);
		buf_free(&b);
	}
}

T(test_check_expansion_max)
{
	/* 64 users: fine; 65: too many, at check time and at RCPT time */
	struct buf us, al;
	buf_init(&us, 0);
	buf_init(&al, 0);
	for (int i = 0; i < 65; i++)
		buf_printf(&us, "u%d:\n", i);
	buf_puts(&al, "postmaster: u0\nabuse: u0\nall64:");
	for (int i = 0; i < 64; i++)
		buf_printf(&al, " u%d", i);
	buf_puts(&al, "\nall65: all64,\n u64, u0, u1\n");
	buf_cstr(&us);
	buf_cstr(&al);
	struct world w;
	world_init(&w, (const char *)us.data, (const char *)al.data);
	CHECK_STR(diag_text(&w.d), "aliases:4: alias \"all65\" expands to more than 64 users "
	    "(expected at most 64)\n");
	const char *out[RCPT_EXPAND_MAX];
	CHECK_INT(resolve(&w, "all64", out), 64);
	CHECK_INT(resolve(&w, "All64+x", out), 64);
	CHECK_INT(resolve(&w, "all65", out), -1);
	world_free(&w);
	buf_free(&us);
	buf_free(&al);

	/* a fan-out bomb: 10 aliases each naming the next level 10 times; few
	 * users, but 10^8 paths.  Bounded by the visit budget. */
	buf_init(&al, 0);
	buf_puts(&al, "postmaster: alice\nabuse: alice\n");
	for (int lv = 0; lv < 6; lv++) {
		buf_printf(&al, "b%d:", lv);
		for (int k = 0; k < 10; k++)
			buf_printf(&al, " b%d", lv + 1);
		buf_puts(&al, "\n");
	}
	buf_puts(&al, "b6: alice\n");
	buf_cstr(&al);
	world_init(&w, "alice:\n", (const char *)al.data);
	/* b0..b3 open 1 + 10 + 100 + 1000 aliases or more; b4 only 111 */
	CHECK_INT(w.d.n_err, 4);
	CHECK(strstr(diag_text(&w.d), "aliases:3: alias \"b0\" opens more than 1024 aliases "
	    "while expanding (expected at most 1024)\n") != NULL);
	CHECK(strstr(diag_text(&w.d), "aliases:6: alias \"b3\" opens more") != NULL);
	CHECK_INT(resolve(&w, "b0", out), -1);
	CHECK_INT(resolve(&w, "b3", out), -1);
	CHECK_INT(resolve(&w, "b4", out), 1);
	world_free(&w);
	buf_free(&al);
}

T(test_rcpt_resolve)
{
	struct world w;
	world_init(&w, "alice:\nbob:\ncarol:\ndave:\nerin:\nlist:\n",
	    "postmaster: alice\n"
	    "abuse: postmaster, bob\n"
	    "team: alice, bob, Alice, sub, bob@Example.Net\n"
	    "sub: carol, alice, alice+x, bob@example.org\n"
	    "alice: alice, dave\n"
	    "sales: team, carol\n"
	    "list: erin\n"			/* alias wins over the user "list" */
	    "devs: list, list@example.org\n");
	CHECK_STR(diag_text(&w.d), "");

	EXPECT_RCPT(&w, "bob", "bob");
	EXPECT_RCPT(&w, "BOB", "bob");
	EXPECT_RCPT(&w, "Bob+Detail", "bob");
	EXPECT_RCPT(&w, "bob+", "bob");
	EXPECT_RCPT(&w, "bob+a+b", "bob");
	EXPECT_RCPT(&w, "carol", "carol");
	EXPECT_RCPT(&w, "postmaster", "alice dave");
	EXPECT_RCPT(&w, "PostMaster", "alice dave");
	EXPECT_RCPT(&w, "abuse", "alice dave bob");
	EXPECT_RCPT(&w, "alice", "alice dave");
	EXPECT_RCPT(&w, "alice+spam", "alice dave");
	EXPECT_RCPT(&w, "team", "alice dave bob carol");
	EXPECT_RCPT(&w, "TEAM+x", "alice dave bob carol");
	EXPECT_RCPT(&w, "sales", "alice dave bob carol");
	EXPECT_RCPT(&w, "list", "erin");
	EXPECT_RCPT(&w, "list+x", "erin");
	EXPECT_RCPT(&w, "devs", "erin");

	/* unknown, and whatever the network may send */
	EXPECT_RCPT(&w, "nobody", "");
	EXPECT_RCPT(&w, "", "");
	EXPECT_RCPT(&w, "+", "");
	EXPECT_RCPT(&w, "+bob", "");
	EXPECT_RCPT(&w, "bo", "");
	EXPECT_RCPT(&w, "bobb", "");
	EXPECT_RCPT(&w, "\"bob\"", "");
	EXPECT_RCPT(&w, "\"bob+x\"", "");
	EXPECT_RCPT(&w, "bob@example.org", "");
	EXPECT_RCPT(&w, "bob\\", "");
	EXPECT_RCPT(&w, "b\xc3\xb6" "b", "");
	EXPECT_RCPT(&w, "bob ", "");
	EXPECT_RCPT(&w, " bob", "");
	EXPECT_RCPT(&w, NULL, "");
	char big[201];
	memset(big, 'a', 200);
	big[200] = '\0';
	EXPECT_RCPT(&w, big, "");
	memcpy(big, "bob+", 4);		/* a 200-byte detail still finds bob */
	EXPECT_RCPT(&w, big, "bob");
	memset(big, 'b', 200);
	big[65] = '+';			/* base too long for a name */
	EXPECT_RCPT(&w, big, "");
	char n64[65];
	memset(n64, 'x', 64);
	n64[64] = '\0';
	EXPECT_RCPT(&w, n64, "");

	/* no aliases or users at all */
	struct users nu = { 0 };
	struct aliases na = { 0 };
	const char *out[RCPT_EXPAND_MAX];
	CHECK_INT(rcpt_resolve(&nu, &na, domains, NELEM(domains), "bob", out), 0);
	CHECK_INT(rcpt_resolve(&nu, &na, NULL, 0, "", out), 0);
	world_free(&w);

	/* a config that did not pass aliases_check: -1 (451), never a partial list */
	world_init(&w, "alice:\nbob:\n",
	    "postmaster: alice\nabuse: alice\n"
	    "half: alice, ghost\n"
	    "far: bob, x@remote.example\n");
	CHECK_INT(w.d.n_err, 2);
	EXPECT_RCPT(&w, "half", NULL);
	EXPECT_RCPT(&w, "far", NULL);
	EXPECT_RCPT(&w, "alice", "alice");
	world_free(&w);
}

T(test_load_files)
{
	char dir[] = "/tmp/test_users.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *up = xasprintf("%s/users", dir), *ap = xasprintf("%s/aliases", dir);
	struct diag d;
	struct users u;
	struct aliases a;

	diag_init(&d);
	CHECK_INT(users_load(up, &u, &d), -1);
	CHECK_INT(aliases_load(ap, &a, &d), -1);
	char *want = xasprintf("%s: cannot open: No such file or directory\n"
	    "%s: cannot open: No such file or directory\n", up, ap);
	CHECK_STR(diag_text(&d), want);
	free(want);
	CHECK(u.n == 0 && a.n == 0);
	users_free(&u);
	aliases_free(&a);
	diag_free(&d);

	diag_init(&d);
	CHECK_INT(users_load(dir, &u, &d), -1);
	CHECK_INT(aliases_load(dir, &a, &d), -1);
	want = xasprintf("%s: is a directory (expected a users file)\n"
	    "%s: is a directory (expected an aliases file)\n", dir, dir);
	CHECK_STR(diag_text(&d), want);
	free(want);
	diag_free(&d);

	int fd = open(up, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	const char *ut = "alice:{CRYPT}" YESCRYPT "\nBob:\n";
	CHECK(write(fd, ut, strlen(ut)) == (ssize_t)strlen(ut));
	close(fd);
	fd = open(ap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	const char *at = "postmaster: alice\nabuse: alice\n";
	CHECK(write(fd, at, strlen(at)) == (ssize_t)strlen(at));
	close(fd);
	diag_init(&d);
	CHECK_INT(users_load(up, &u, &d), -1);
	CHECK_INT(aliases_load(ap, &a, &d), 0);
	want = xasprintf("%s:2: user name \"Bob\" has uppercase letters (expected lowercase: "
	    "\"bob\"; the name is the mailbox directory)\n", up);
	CHECK_STR(diag_text(&d), want);
	free(want);
	CHECK_INT(u.n, 1);
	CHECK_STR(u.v[0].hash, YESCRYPT);
	CHECK_INT(a.n, 2);
	users_free(&u);
	aliases_free(&a);
	diag_free(&d);

	unlink(up);
	unlink(ap);
	rmdir(dir);
	free(up);
	free(ap);
}

int
main(void)
{
	RUN(test_users_valid);
	RUN(test_users_errors);
	RUN(test_users_scram);
	RUN(test_users_many);
	RUN(test_aliases_valid);
	RUN(test_aliases_errors);
	RUN(test_check_clean);
	RUN(test_check_errors);
	RUN(test_check_depth);
	RUN(test_check_expansion_max);
	RUN(test_rcpt_resolve);
	RUN(test_load_files);
	return t_done("users");
}

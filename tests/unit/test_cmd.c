/*
 * tests/unit/test_cmd.c - command line splitting and MAIL/RCPT/BDAT
 * argument parsing (smtp/cmd.c), and the reply texts for their errors.
 *
 * Every table case runs on the literal and on a copy in a malloc block of
 * exactly its length (ASan catches any read past len); both runs must
 * agree, with slices compared by offset into their own buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "core/util.h"
#include "smtp/cmd.h"

/* Pointer and length of a literal, NULs included. */
#define S(s) s, sizeof(s) - 1

static char *
dup_exact(const char *p, size_t n)
{
	char *q = xmalloc(n);
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

static void
esc(char *dst, size_t dstsz, const char *p, size_t n)
{
	log_escape(dst, dstsz, p, n);
}

/* ---- smtp_cmd_parse ------------------------------------------------------ */

struct ccase {
	const char *in;
	size_t len;
	enum smtp_cmd_err err;
	enum smtp_verb verb;	/* checked when err is OK or SYNTAX */
	const char *arg;	/* checked when err is OK */
};

#define C_OK		SMTP_CMD_OK
#define C_UNK		SMTP_CMD_E_UNKNOWN
#define C_SYN		SMTP_CMD_E_SYNTAX
#define C_BAD		SMTP_CMD_E_BADCHAR

static const struct ccase ccases[] = {
	{ S("MAIL FROM:<a@b>"), C_OK, SMTP_CMD_MAIL, "<a@b>" },
	{ S("mail from:<a@b>"), C_OK, SMTP_CMD_MAIL, "<a@b>" },
	{ S("MaIl FrOm:<a@b>"), C_OK, SMTP_CMD_MAIL, "<a@b>" },
	{ S("MAIL FROM: <a@b>"), C_OK, SMTP_CMD_MAIL, "<a@b>" },
	{ S("MAIL FROM:   <a@b> SIZE=1   "), C_OK, SMTP_CMD_MAIL, "<a@b> SIZE=1" },
	{ S("MAIL  FROM:<a@b>"), C_OK, SMTP_CMD_MAIL, "<a@b>" },
	{ S("MAIL FROM:a@b"), C_OK, SMTP_CMD_MAIL, "a@b" },	/* refused by the args parser */
	{ S("MAIL FROM:"), C_OK, SMTP_CMD_MAIL, "" },
	{ S("MAIL FROM:   "), C_OK, SMTP_CMD_MAIL, "" },
	{ S("MAIL FROM :<a@b>"), C_SYN, SMTP_CMD_MAIL, 0 },
	{ S("MAIL FROM"), C_SYN, SMTP_CMD_MAIL, 0 },
	{ S("MAIL"), C_SYN, SMTP_CMD_MAIL, 0 },
	{ S("MAIL "), C_SYN, SMTP_CMD_MAIL, 0 },
	{ S("MAIL TO:<a@b>"), C_SYN, SMTP_CMD_MAIL, 0 },
	{ S("MAIL FRO:<a@b>"), C_SYN, SMTP_CMD_MAIL, 0 },
	{ S("MAILX FROM:<a@b>"), C_UNK, 0, 0 },
	{ S("MAIL\tFROM:<a@b>"), C_UNK, 0, 0 },
	{ S("MAIL:FROM:<a@b>"), C_UNK, 0, 0 },
	{ S("MAILFROM:<a@b>"), C_UNK, 0, 0 },
	{ S("RCPT TO:<a@b>"), C_OK, SMTP_CMD_RCPT, "<a@b>" },
	{ S("rcpt to: <a@b> NOTIFY=NEVER"), C_OK, SMTP_CMD_RCPT, "<a@b> NOTIFY=NEVER" },
	{ S("RCPT FROM:<a@b>"), C_SYN, SMTP_CMD_RCPT, 0 },
	{ S("RCPT TO"), C_SYN, SMTP_CMD_RCPT, 0 },
	{ S("RCPT"), C_SYN, SMTP_CMD_RCPT, 0 },
	{ S("DATA"), C_OK, SMTP_CMD_DATA, "" },
	{ S("data"), C_OK, SMTP_CMD_DATA, "" },
	{ S("DATA  "), C_OK, SMTP_CMD_DATA, "" },
	{ S("DATA x"), C_SYN, SMTP_CMD_DATA, 0 },
	{ S("DATAX"), C_UNK, 0, 0 },
	{ S("RSET"), C_OK, SMTP_CMD_RSET, "" },
	{ S("RSET x"), C_SYN, SMTP_CMD_RSET, 0 },
	{ S("QUIT"), C_OK, SMTP_CMD_QUIT, "" },
	{ S("quit now"), C_SYN, SMTP_CMD_QUIT, 0 },
	{ S("STARTTLS"), C_OK, SMTP_CMD_STARTTLS, "" },
	{ S("starttls x"), C_SYN, SMTP_CMD_STARTTLS, 0 },
	{ S("STARTTLSX"), C_UNK, 0, 0 },
	{ S("STARTTL"), C_UNK, 0, 0 },
	{ S("NOOP"), C_OK, SMTP_CMD_NOOP, "" },
	{ S("NOOP hello there "), C_OK, SMTP_CMD_NOOP, "hello there" },
	{ S("HELP"), C_OK, SMTP_CMD_HELP, "" },
	{ S("HELP MAIL"), C_OK, SMTP_CMD_HELP, "MAIL" },
	{ S("HELO"), C_SYN, SMTP_CMD_HELO, 0 },
	{ S("HELO "), C_SYN, SMTP_CMD_HELO, 0 },
	{ S("HELO mx.example"), C_OK, SMTP_CMD_HELO, "mx.example" },
	{ S("EHLO"), C_SYN, SMTP_CMD_EHLO, 0 },
	{ S("ehlo [192.0.2.1] "), C_OK, SMTP_CMD_EHLO, "[192.0.2.1]" },
	{ S("EHLO  mx.example"), C_OK, SMTP_CMD_EHLO, "mx.example" },
	{ S("VRFY"), C_SYN, SMTP_CMD_VRFY, 0 },
	{ S("VRFY bob"), C_OK, SMTP_CMD_VRFY, "bob" },
	{ S("EXPN list"), C_OK, SMTP_CMD_EXPN, "list" },
	{ S("EXPN"), C_SYN, SMTP_CMD_EXPN, 0 },
	{ S("AUTH PLAIN"), C_OK, SMTP_CMD_AUTH, "PLAIN" },
	{ S("AUTH"), C_SYN, SMTP_CMD_AUTH, 0 },
	{ S("BDAT 1000 LAST"), C_OK, SMTP_CMD_BDAT, "1000 LAST" },
	{ S("bdat 0"), C_OK, SMTP_CMD_BDAT, "0" },
	{ S("BDAT"), C_OK, SMTP_CMD_BDAT, "" },		/* smtp_bdat_parse refuses it */
	{ S(""), C_UNK, 0, 0 },
	{ S(" "), C_UNK, 0, 0 },
	{ S(" MAIL FROM:<a@b>"), C_UNK, 0, 0 },
	{ S("FOO"), C_UNK, 0, 0 },
	{ S("FOO bar"), C_UNK, 0, 0 },
	{ S("MAI"), C_UNK, 0, 0 },
	{ S("QUIT\x7f"), C_UNK, 0, 0 },
	{ S("\xc3\x9cUIT"), C_UNK, 0, 0 },
	{ S("GET / HTTP/1.1"), C_UNK, 0, 0 },
	/* NUL, CR, LF anywhere: before anything else */
	{ S("MAIL FROM:<a@b>\0"), C_BAD, 0, 0 },
	{ S("NO\0OP"), C_BAD, 0, 0 },
	{ S("\0"), C_BAD, 0, 0 },
	{ S("DATA\r"), C_BAD, 0, 0 },
	{ S("DATA\n"), C_BAD, 0, 0 },
	{ S("RSET\rQUIT"), C_BAD, 0, 0 },
	{ S("RCPT TO:<a@b>\nDATA"), C_BAD, 0, 0 },
	{ S("FOO\r\n"), C_BAD, 0, 0 },
};

static void
check_cmd(const struct ccase *c, size_t idx, const char *line)
{
	struct smtp_cmd cmd;
	char e[200];
	enum smtp_cmd_err err = smtp_cmd_parse(line, c->len, &cmd);

	esc(e, sizeof e, c->in, c->len);
	if (err != c->err) {
		fprintf(stderr, "  cmd case %zu \"%s\": err %d, want %d\n", idx, e, err, c->err);
		t_cur_failed = 1;
		return;
	}
	if ((err == SMTP_CMD_OK || err == SMTP_CMD_E_SYNTAX) && cmd.verb != c->verb) {
		fprintf(stderr, "  cmd case %zu \"%s\": verb %d, want %d\n", idx, e, cmd.verb, c->verb);
		t_cur_failed = 1;
	}
	if (err != SMTP_CMD_OK)
		return;
	if (cmd.arg < line || cmd.arg_len > c->len || (size_t)(cmd.arg - line) > c->len - cmd.arg_len
	    || cmd.arg_len != strlen(c->arg) || memcmp(cmd.arg, c->arg, cmd.arg_len) != 0) {
		fprintf(stderr, "  cmd case %zu \"%s\": wrong arg\n", idx, e);
		t_cur_failed = 1;
	}
}

T(cmd_table)
{
	for (size_t i = 0; i < NELEM(ccases); i++) {
		check_cmd(&ccases[i], i, ccases[i].in);
		char *copy = dup_exact(ccases[i].in, ccases[i].len);
		check_cmd(&ccases[i], i, copy);
		free(copy);
	}
}

/* Every verb in every case mix: upper, lower, and alternating. */
T(cmd_verbs_case_insensitive)
{
	static const struct {
		const char *line;
		enum smtp_verb verb;
	} v[] = {
		{ "HELO x", SMTP_CMD_HELO }, { "EHLO x", SMTP_CMD_EHLO },
		{ "MAIL FROM:<>", SMTP_CMD_MAIL }, { "RCPT TO:<a@b>", SMTP_CMD_RCPT },
		{ "DATA", SMTP_CMD_DATA }, { "BDAT 1", SMTP_CMD_BDAT },
		{ "RSET", SMTP_CMD_RSET }, { "NOOP", SMTP_CMD_NOOP },
		{ "QUIT", SMTP_CMD_QUIT }, { "VRFY x", SMTP_CMD_VRFY },
		{ "EXPN x", SMTP_CMD_EXPN }, { "HELP", SMTP_CMD_HELP },
		{ "STARTTLS", SMTP_CMD_STARTTLS }, { "AUTH PLAIN", SMTP_CMD_AUTH },
	};
	for (size_t i = 0; i < NELEM(v); i++) {
		for (int mode = 0; mode < 3; mode++) {
			size_t n = strlen(v[i].line);
			char *line = dup_exact(v[i].line, n);
			for (size_t k = 0; k < n; k++) {
				bool lower = mode == 1 || (mode == 2 && k % 2 == 1);
				if (lower)
					line[k] = (char)ascii_lower((unsigned char)line[k]);
			}
			struct smtp_cmd cmd;
			CHECK_INT(smtp_cmd_parse(line, n, &cmd), SMTP_CMD_OK);
			CHECK_INT(cmd.verb, v[i].verb);
			free(line);
		}
	}
}

/* ---- MAIL arguments -------------------------------------------------------- */

#define P_OK	SMTP_PARAM_OK
#define P_PATH	SMTP_PARAM_E_PATH
#define P_SYN	SMTP_PARAM_E_SYNTAX
#define P_UNK	SMTP_PARAM_E_UNKNOWN
#define P_DUP	SMTP_PARAM_E_DUP

#define A_OK	SMTP_ADDR_OK
#define A_SYN	SMTP_ADDR_SYNTAX
#define A_LONG	SMTP_ADDR_TOO_LONG
#define A_UTF8	SMTP_ADDR_UTF8
#define A_NULLR	SMTP_ADDR_NULL_RCPT

struct mcase {
	const char *in;
	size_t len;
	bool utf8_ok;
	enum smtp_param_err err;
	enum smtp_addr_err path_err;
	/* checked when err is OK */
	const char *local;
	const char *domain;
	bool has_size;
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
};

static const struct mcase mcases[] = {
	{ S("<a@b>"), true, P_OK, A_OK, "a", "b", false, 0, SMTP_BODY_NONE, false },
	{ S("<>"), true, P_OK, A_OK, "", "", false, 0, SMTP_BODY_NONE, false },
	{ S("<> SIZE=0"), true, P_OK, A_OK, "", "", true, 0, SMTP_BODY_NONE, false },
	{ S("<a@b>  "), true, P_OK, A_OK, "a", "b", false, 0, SMTP_BODY_NONE, false },
	/* path form */
	{ S("a@b"), true, P_PATH, A_SYN, 0, 0, 0, 0, 0, 0 },
	{ S("a@b SIZE=1"), true, P_PATH, A_SYN, 0, 0, 0, 0, 0, 0 },
	{ S(""), true, P_PATH, A_SYN, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b>x"), true, P_PATH, A_SYN, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b>SIZE=1"), true, P_PATH, A_SYN, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b>> SIZE=1"), true, P_PATH, A_SYN, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b\0> SIZE=1"), true, P_PATH, A_SYN, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> \0"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@@b> FOO"), true, P_PATH, A_SYN, 0, 0, 0, 0, 0, 0 },	/* path error first */
	{ S("<\"a b\"@c> SIZE=5"), true, P_OK, A_OK, "\"a b\"", "c", true, 5, SMTP_BODY_NONE, false },
	{ S("<\"a> b\"@c> SIZE=5"), true, P_OK, A_OK, "\"a> b\"", "c", true, 5, SMTP_BODY_NONE,
	    false },
	{ S("<\"a\\\"> b\"@c> SIZE=5"), true, P_OK, A_OK, "\"a\\\"> b\"", "c", true, 5,
	    SMTP_BODY_NONE, false },
	{ S("<\"a\\\" SIZE=5"), true, P_PATH, A_SYN, 0, 0, 0, 0, 0, 0 },
	{ S("<@x,@y:a@b> SIZE=1"), true, P_OK, A_OK, "a", "b", true, 1, SMTP_BODY_NONE, false },
	/* SIZE (RFC 1870) */
	{ S("<a@b> SIZE=1000"), true, P_OK, A_OK, "a", "b", true, 1000, SMTP_BODY_NONE, false },
	{ S("<a@b> size=0"), true, P_OK, A_OK, "a", "b", true, 0, SMTP_BODY_NONE, false },
	{ S("<a@b> SIZE=18446744073709551615"), true, P_OK, A_OK, "a", "b", true, UINT64_MAX,
	    SMTP_BODY_NONE, false },
	{ S("<a@b> SIZE=00000000000000000001"), true, P_OK, A_OK, "a", "b", true, 1,
	    SMTP_BODY_NONE, false },
	{ S("<a@b> SIZE=18446744073709551616"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=99999999999999999999"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=000000000000000000001"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE="), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=-1"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=+1"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=1x"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=0x10"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=1 SIZE=1"), true, P_DUP, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=1 size=2"), true, P_DUP, A_OK, 0, 0, 0, 0, 0, 0 },
	/* BODY (RFC 6152; BINARYMIME is RFC 3030 and not offered) */
	{ S("<a@b> BODY=7BIT"), true, P_OK, A_OK, "a", "b", false, 0, SMTP_BODY_7BIT, false },
	{ S("<a@b> body=8bitmime"), true, P_OK, A_OK, "a", "b", false, 0, SMTP_BODY_8BITMIME,
	    false },
	{ S("<a@b> BODY=BINARYMIME"), true, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> BODY=8BIT"), true, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> BODY=7BITX"), true, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> BODY"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> BODY="), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> BODY=7BIT BODY=8BITMIME"), true, P_DUP, A_OK, 0, 0, 0, 0, 0, 0 },
	/* SMTPUTF8 (RFC 6531) */
	{ S("<a@b> SMTPUTF8"), true, P_OK, A_OK, "a", "b", false, 0, SMTP_BODY_NONE, true },
	{ S("<a@b> smtputf8"), true, P_OK, A_OK, "a", "b", false, 0, SMTP_BODY_NONE, true },
	{ S("<a@b> SMTPUTF8"), false, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SMTPUTF8=yes"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SMTPUTF8="), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SMTPUTF8 SMTPUTF8"), true, P_DUP, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<\xc3\xbc@b> SMTPUTF8"), true, P_OK, A_OK, "\xc3\xbc", "b", false, 0, SMTP_BODY_NONE,
	    true },
	{ S("<a@b> BODY=8BITMIME SMTPUTF8 SIZE=9"), true, P_OK, A_OK, "a", "b", true, 9,
	    SMTP_BODY_8BITMIME, true },
	{ S("<\xc3\xbc@b>"), true, P_PATH, A_UTF8, 0, 0, 0, 0, 0, 0 },
	{ S("<\xc3\xbc@b> SIZE=1"), true, P_PATH, A_UTF8, 0, 0, 0, 0, 0, 0 },
	{ S("<\xc3\xbc@b> SMTPUTF8"), false, P_PATH, A_UTF8, 0, 0, 0, 0, 0, 0 },
	{ S("<\xc3@b> SMTPUTF8"), true, P_PATH, A_SYN, 0, 0, 0, 0, 0, 0 },
	/* SMTPUTF8 after a bad parameter still governs the path */
	{ S("<\xc3\xbc@b> FOO SMTPUTF8"), true, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<\xc3\xbc@b> =x SMTPUTF8"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	/* other parameters and malformed ones */
	{ S("<a@b> FOO=bar"), true, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> RET=HDRS"), true, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> AUTH=<>"), true, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> X-Y"), true, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> =x"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> -X"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> X_Y"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> X=a=b"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> X=\x01"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> X=\xc3\xbc"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=1\tBODY=7BIT"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
	/* the first parameter error is the one reported */
	{ S("<a@b> SIZE=1 FOO"), true, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> FOO SIZE=x"), true, P_UNK, A_OK, 0, 0, 0, 0, 0, 0 },
	{ S("<a@b> SIZE=x FOO"), true, P_SYN, A_OK, 0, 0, 0, 0, 0, 0 },
};

static void
check_mail(const struct mcase *c, size_t idx, const char *arg)
{
	struct smtp_mail_args a;
	enum smtp_addr_err pe = (enum smtp_addr_err)SMTP_ADDR_NULL_RCPT;
	char e[300];
	enum smtp_param_err err = smtp_mail_args_parse(arg, c->len, c->utf8_ok, &a, &pe);

	esc(e, sizeof e, c->in, c->len);
	if (err != c->err || pe != c->path_err) {
		fprintf(stderr, "  mail case %zu \"%s\": err %d/%d, want %d/%d\n", idx, e, err, pe,
		    c->err, c->path_err);
		t_cur_failed = 1;
		return;
	}
	if (err != SMTP_PARAM_OK) {
		static const struct smtp_mail_args zero;
		if (memcmp(&a, &zero, sizeof a) != 0) {
			fprintf(stderr, "  mail case %zu \"%s\": output not cleared\n", idx, e);
			t_cur_failed = 1;
		}
		return;
	}
	if (strcmp(a.path.local, c->local) != 0 || strcmp(a.path.domain, c->domain) != 0
	    || a.has_size != c->has_size || a.size != c->size || a.body != c->body
	    || a.smtputf8 != c->smtputf8) {
		fprintf(stderr, "  mail case %zu \"%s\": got local=%s domain=%s size=%d/%llu body=%d "
		    "utf8=%d\n", idx, e, a.path.local, a.path.domain, a.has_size,
		    (unsigned long long)a.size, a.body, a.smtputf8);
		t_cur_failed = 1;
	}
}

T(mail_args_table)
{
	for (size_t i = 0; i < NELEM(mcases); i++) {
		check_mail(&mcases[i], i, mcases[i].in);
		char *copy = dup_exact(mcases[i].in, mcases[i].len);
		check_mail(&mcases[i], i, copy);
		free(copy);
	}
}

/* ---- RCPT arguments -------------------------------------------------------- */

struct rcase {
	const char *in;
	size_t len;
	bool allow_utf8;
	enum smtp_param_err err;
	enum smtp_addr_err path_err;
	const char *local;
	const char *domain;
	bool is_postmaster;
};

static const struct rcase rcases[] = {
	{ S("<a@b>"), false, P_OK, A_OK, "a", "b", false },
	{ S("<a@b>   "), false, P_OK, A_OK, "a", "b", false },
	{ S("<Postmaster>"), false, P_OK, A_OK, "Postmaster", "", true },
	{ S("<postmaster@b>"), false, P_OK, A_OK, "postmaster", "b", false },
	{ S("<>"), false, P_PATH, A_NULLR, 0, 0, false },
	{ S("<> NOTIFY=NEVER"), false, P_PATH, A_NULLR, 0, 0, false },
	{ S("a@b"), false, P_PATH, A_SYN, 0, 0, false },
	{ S("<a@b>x"), false, P_PATH, A_SYN, 0, 0, false },
	{ S("<a@b"), false, P_PATH, A_SYN, 0, 0, false },
	{ S(""), false, P_PATH, A_SYN, 0, 0, false },
	{ S("<a@b> NOTIFY=NEVER"), false, P_UNK, A_OK, 0, 0, false },
	{ S("<a@b> ORCPT=rfc822;a@b"), false, P_UNK, A_OK, 0, 0, false },
	{ S("<a@b> SMTPUTF8"), true, P_UNK, A_OK, 0, 0, false },
	{ S("<a@b> ="), false, P_SYN, A_OK, 0, 0, false },
	{ S("<a@b> X="), false, P_SYN, A_OK, 0, 0, false },
	{ S("<a@b> \x01"), false, P_SYN, A_OK, 0, 0, false },
	{ S("<\xc3\xbc@b>"), true, P_OK, A_OK, "\xc3\xbc", "b", false },
	{ S("<\xc3\xbc@b>"), false, P_PATH, A_UTF8, 0, 0, false },
	{ S("<a@b\xc3\xbc>"), false, P_PATH, A_UTF8, 0, 0, false },
	{ S("<\"x y\"@b>"), false, P_OK, A_OK, "\"x y\"", "b", false },
	{ S("<\"x>y\"@b> A=B"), false, P_UNK, A_OK, 0, 0, false },
};

static void
check_rcpt(const struct rcase *c, size_t idx, const char *arg)
{
	struct smtp_rcpt_args r;
	enum smtp_addr_err pe = (enum smtp_addr_err)SMTP_ADDR_UTF8;
	char e[300];
	enum smtp_param_err err = smtp_rcpt_args_parse(arg, c->len, c->allow_utf8, &r, &pe);

	esc(e, sizeof e, c->in, c->len);
	if (err != c->err || pe != c->path_err) {
		fprintf(stderr, "  rcpt case %zu \"%s\": err %d/%d, want %d/%d\n", idx, e, err, pe,
		    c->err, c->path_err);
		t_cur_failed = 1;
		return;
	}
	if (err != SMTP_PARAM_OK)
		return;
	if (strcmp(r.path.local, c->local) != 0 || strcmp(r.path.domain, c->domain) != 0
	    || r.path.is_postmaster != c->is_postmaster) {
		fprintf(stderr, "  rcpt case %zu \"%s\": wrong path\n", idx, e);
		t_cur_failed = 1;
	}
}

T(rcpt_args_table)
{
	for (size_t i = 0; i < NELEM(rcases); i++) {
		check_rcpt(&rcases[i], i, rcases[i].in);
		char *copy = dup_exact(rcases[i].in, rcases[i].len);
		check_rcpt(&rcases[i], i, copy);
		free(copy);
	}
}

/* ---- BDAT ------------------------------------------------------------------ */

struct bcase {
	const char *in;
	size_t len;
	bool ok;
	uint64_t size;
	bool last;
};

static const struct bcase bcases[] = {
	{ S("1000"), true, 1000, false },
	{ S("1000 LAST"), true, 1000, true },
	{ S("0 LAST"), true, 0, true },
	{ S("0"), true, 0, false },
	{ S("1000 last"), true, 1000, true },
	{ S("1000 LaSt"), true, 1000, true },
	{ S("1000  LAST"), true, 1000, true },
	{ S("1000 LAST  "), true, 1000, true },
	{ S("1000   "), true, 1000, false },
	{ S("18446744073709551615"), true, UINT64_MAX, false },
	{ S("00000000000000000007 LAST"), true, 7, true },
	{ S("18446744073709551616"), false, 0, false },
	{ S("123456789012345678901"), false, 0, false },
	{ S("000000000000000000007"), false, 0, false },
	{ S("x"), false, 0, false },
	{ S("-1"), false, 0, false },
	{ S("+1"), false, 0, false },
	{ S(" 1"), false, 0, false },
	{ S(""), false, 0, false },
	{ S("LAST"), false, 0, false },
	{ S("LAST 1000"), false, 0, false },
	{ S("1000LAST"), false, 0, false },
	{ S("1000 LASTX"), false, 0, false },
	{ S("1000 LAS"), false, 0, false },
	{ S("1000 LAST x"), false, 0, false },
	{ S("1000 LAST LAST"), false, 0, false },
	{ S("1000 1"), false, 0, false },
	{ S("1000\tLAST"), false, 0, false },
	{ S("1000 \0"), false, 0, false },
	{ S("10\0"), false, 0, false },
	{ S("1e3"), false, 0, false },
};

T(bdat_table)
{
	for (size_t i = 0; i < NELEM(bcases); i++) {
		const struct bcase *c = &bcases[i];
		for (int heap = 0; heap < 2; heap++) {
			char *copy = heap ? dup_exact(c->in, c->len) : NULL;
			uint64_t size = 77;
			bool last = true;
			bool ok = smtp_bdat_parse(heap ? copy : c->in, c->len, &size, &last);
			if (ok != c->ok || size != c->size || last != c->last) {
				char e[100];
				esc(e, sizeof e, c->in, c->len);
				fprintf(stderr, "  bdat case %zu \"%s\": got %d %llu %d\n", i, e, ok,
				    (unsigned long long)size, last);
				t_cur_failed = 1;
			}
			free(copy);
		}
	}
}

/* ---- whole lines, the way the server calls us ---------------------------- */

T(full_line_mail)
{
	static const char line[] = "mail from: <Bob@Example.ORG>  SIZE=2048 body=8BITMIME  ";
	char *copy = dup_exact(line, sizeof line - 1);
	struct smtp_cmd cmd;
	struct smtp_mail_args a;
	enum smtp_addr_err pe;

	CHECK_INT(smtp_cmd_parse(copy, sizeof line - 1, &cmd), SMTP_CMD_OK);
	CHECK_INT(cmd.verb, SMTP_CMD_MAIL);
	CHECK_INT(smtp_mail_args_parse(cmd.arg, cmd.arg_len, true, &a, &pe), SMTP_PARAM_OK);
	CHECK_STR(a.path.local, "Bob");
	CHECK_STR(a.path.domain, "Example.ORG");
	CHECK_INT(a.size, 2048);
	CHECK_INT(a.body, SMTP_BODY_8BITMIME);
	free(copy);
}

T(full_line_missing_brackets)
{
	static const char line[] = "MAIL FROM:a@b";
	struct smtp_cmd cmd;
	struct smtp_mail_args a;
	enum smtp_addr_err pe;

	CHECK_INT(smtp_cmd_parse(line, sizeof line - 1, &cmd), SMTP_CMD_OK);
	CHECK_INT(smtp_mail_args_parse(cmd.arg, cmd.arg_len, true, &a, &pe), SMTP_PARAM_E_PATH);
	CHECK_INT(pe, SMTP_ADDR_SYNTAX);
	CHECK_STR(smtp_addr_err_reply(pe, false), "501 5.1.7 Bad sender address syntax");
}

T(full_line_rcpt_bdat)
{
	static const char rl[] = "RCPT TO:<postmaster> ";
	static const char bl[] = "BDAT 512 LAST";
	struct smtp_cmd cmd;
	struct smtp_rcpt_args r;
	enum smtp_addr_err pe;
	uint64_t size;
	bool last;

	CHECK_INT(smtp_cmd_parse(rl, sizeof rl - 1, &cmd), SMTP_CMD_OK);
	CHECK_INT(smtp_rcpt_args_parse(cmd.arg, cmd.arg_len, false, &r, &pe), SMTP_PARAM_OK);
	CHECK(r.path.is_postmaster);
	CHECK_INT(smtp_cmd_parse(bl, sizeof bl - 1, &cmd), SMTP_CMD_OK);
	CHECK(smtp_bdat_parse(cmd.arg, cmd.arg_len, &size, &last));
	CHECK_INT(size, 512);
	CHECK(last);
}

/* ---- reply texts ----------------------------------------------------------- */

T(replies)
{
	CHECK_STR(smtp_addr_err_reply(SMTP_ADDR_SYNTAX, false), "501 5.1.7 Bad sender address syntax");
	CHECK_STR(smtp_addr_err_reply(SMTP_ADDR_SYNTAX, true), "501 5.1.3 Bad recipient address syntax");
	CHECK_STR(smtp_addr_err_reply(SMTP_ADDR_TOO_LONG, false), "501 5.1.7 Sender address too long");
	CHECK_STR(smtp_addr_err_reply(SMTP_ADDR_TOO_LONG, true), "501 5.1.3 Recipient address too long");
	CHECK_STR(smtp_addr_err_reply(SMTP_ADDR_UTF8, false),
	    "553 5.6.7 Non-ASCII address requires SMTPUTF8");
	CHECK_STR(smtp_addr_err_reply(SMTP_ADDR_UTF8, true),
	    "553 5.6.7 Non-ASCII address requires SMTPUTF8");
	CHECK_STR(smtp_addr_err_reply(SMTP_ADDR_NULL_RCPT, true),
	    "501 5.1.3 Null recipient address <> not allowed");
	/* a caller bug must still refuse, never say 2xx */
	CHECK_STR(smtp_addr_err_reply(SMTP_ADDR_OK, true), "501 5.1.3 Bad recipient address syntax");
	CHECK_STR(smtp_param_err_reply(SMTP_PARAM_E_SYNTAX), "501 5.5.4 Syntax error in parameters");
	CHECK_STR(smtp_param_err_reply(SMTP_PARAM_E_UNKNOWN), "555 5.5.4 Unsupported parameter");
	CHECK_STR(smtp_param_err_reply(SMTP_PARAM_E_DUP), "501 5.5.4 Duplicate parameter");
	CHECK_STR(smtp_param_err_reply(SMTP_PARAM_OK), "501 5.5.4 Syntax error in parameters");
	CHECK_STR(smtp_param_err_reply(SMTP_PARAM_E_PATH), "501 5.5.4 Syntax error in parameters");
}

int
main(void)
{
	RUN(cmd_table);
	RUN(cmd_verbs_case_insensitive);
	RUN(mail_args_table);
	RUN(rcpt_args_table);
	RUN(bdat_table);
	RUN(full_line_mail);
	RUN(full_line_missing_brackets);
	RUN(full_line_rcpt_bdat);
	RUN(replies);
	return t_done("cmd");
}

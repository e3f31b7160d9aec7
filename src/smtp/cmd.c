/*
 * smtp/cmd.c - SMTP command line splitting, MAIL/RCPT/BDAT argument
 * parsing, and the reply texts for their errors.
 *
 * Input:   one command line without its CRLF, pointer plus length, from
 *          the network; may hold NUL and any byte.  Nothing is trusted.
 * Output:  verb plus a slice of the caller's line (no copy); parsed MAIL/
 *          RCPT arguments in caller-provided structs; static reply strings.
 * Trusts:  nothing.  Runs in: smtp worker (unprivileged).
 * Not here: line framing and length caps (core/io, server.c), paths
 *          (smtp/addr.c), deciding whether a command is allowed now
 *          (server.c).
 */
#include "smtp/cmd.h"

#include <string.h>

#include "core/util.h"

/* What a verb does with the text after it. */
enum arg_rule {
	ARG_NONE,	/* DATA RSET QUIT STARTTLS: any argument is a 501 */
	ARG_IGNORED,	/* NOOP HELP: accepted and ignored (RFC 5321 4.1.1.9, .8) */
	ARG_NEEDED,	/* HELO EHLO VRFY EXPN AUTH: the grammar has "SP arg" */
	ARG_PASSED,	/* BDAT: judged by smtp_bdat_parse, so the server has a
			 * single place that decides to drop the session */
	ARG_FROM,	/* MAIL: "FROM:" then the path */
	ARG_TO,		/* RCPT: "TO:" then the path */
};

static const struct verb {
	const char *name;
	size_t len;
	enum smtp_verb verb;
	enum arg_rule rule;
} verbs[] = {
	{ "HELO", 4, SMTP_CMD_HELO, ARG_NEEDED },
	{ "EHLO", 4, SMTP_CMD_EHLO, ARG_NEEDED },
	{ "MAIL", 4, SMTP_CMD_MAIL, ARG_FROM },
	{ "RCPT", 4, SMTP_CMD_RCPT, ARG_TO },
	{ "DATA", 4, SMTP_CMD_DATA, ARG_NONE },
	{ "BDAT", 4, SMTP_CMD_BDAT, ARG_PASSED },
	{ "RSET", 4, SMTP_CMD_RSET, ARG_NONE },
	{ "NOOP", 4, SMTP_CMD_NOOP, ARG_IGNORED },
	{ "QUIT", 4, SMTP_CMD_QUIT, ARG_NONE },
	{ "VRFY", 4, SMTP_CMD_VRFY, ARG_NEEDED },
	{ "EXPN", 4, SMTP_CMD_EXPN, ARG_NEEDED },
	{ "HELP", 4, SMTP_CMD_HELP, ARG_IGNORED },
	{ "STARTTLS", 8, SMTP_CMD_STARTTLS, ARG_NONE },
	{ "AUTH", 4, SMTP_CMD_AUTH, ARG_NEEDED },
};

/*
 * Split a command line; see cmd.h.  Only SP separates (RFC 5321 4.1.1);
 * runs of SP after the verb, after "FROM:"/"TO:" and at the end are
 * tolerated, a tab is just another byte of the verb or argument.  On
 * success arg points into line.  On SMTP_CMD_E_SYNTAX out->verb is still
 * set, for logging.
 */
enum smtp_cmd_err
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *out)
{
	const struct verb *v = NULL;
	size_t vlen = 0, i, e;

	out->verb = SMTP_CMD_UNKNOWN;
	out->arg = line;
	out->arg_len = 0;
	if (len == 0)
		return SMTP_CMD_E_UNKNOWN;
	/* bare CR or LF inside a line is how smuggling starts; NUL would cut
	 * any C string made from the line later.  Refuse them up front. */
	if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) != NULL
	    || memchr(line, '\n', len) != NULL)
		return SMTP_CMD_E_BADCHAR;

	while (vlen < len && line[vlen] != ' ')
		vlen++;
	for (size_t k = 0; k < NELEM(verbs); k++)
		if (verbs[k].len == vlen && ascii_memcaseeq(line, verbs[k].name, vlen))
			v = &verbs[k];
	if (v == NULL)	/* also "MAILX", "MAIL:", a leading space */
		return SMTP_CMD_E_UNKNOWN;
	out->verb = v->verb;

	for (i = vlen; i < len && line[i] == ' '; i++)
		;
	for (e = len; e > i && line[e - 1] == ' '; e--)
		;
	if (v->rule == ARG_FROM || v->rule == ARG_TO) {
		const char *kw = v->rule == ARG_FROM ? "FROM:" : "TO:";
		size_t kwlen = strlen(kw);
		if (e - i < kwlen || !ascii_memcaseeq(line + i, kw, kwlen))
			return SMTP_CMD_E_SYNTAX;
		/* "MAIL FROM: <a@b>" is common enough (RFC 5321 forbids the
		 * space, but Postfix and others accept it) */
		for (i += kwlen; i < e && line[i] == ' '; i++)
			;
	}
	if (v->rule == ARG_NONE && e > i)
		return SMTP_CMD_E_SYNTAX;
	if (v->rule == ARG_NEEDED && e == i)
		return SMTP_CMD_E_SYNTAX;
	out->arg = line + i;
	out->arg_len = e - i;
	return SMTP_CMD_OK;
}

/* 1*20 DIGIT that fits in 64 bits.  20 digits hold UINT64_MAX; more is
 * refused even with leading zeros, so the work per number stays bounded. */
static bool
parse_digits(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	bool ok = n >= 1 && n <= 20;

	for (size_t i = 0; ok && i < n; i++) {
		if (p[i] < '0' || p[i] > '9') {
			ok = false;
			break;
		}
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			ok = false;
			break;
		}
		v = v * 10 + d;
	}
	*out = ok ? v : 0;
	return ok;
}

/* One esmtp-param (RFC 5321 4.1.2): esmtp-keyword ["=" esmtp-value]. */
struct param {
	const char *kw;		/* bytes before '=' (or the whole token) */
	size_t kw_len;
	const char *val;	/* after '=', NULL when there is no '=' */
	size_t val_len;
	bool ok;		/* keyword and value are well formed */
};

static bool
param_is(const struct param *prm, const char *name)
{
	size_t n = strlen(name);
	return prm->kw_len == n && ascii_memcaseeq(prm->kw, name, n);
}

/*
 * Next SP-separated parameter of (p, len) from *pos; false at the end.
 * esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), esmtp-value =
 * 1*(%d33-60 / %d62-126).  A malformed token comes back with ok false and
 * scanning goes on after it, so a later SMTPUTF8 is still seen.  RFC 6531
 * also allows UTF-8 in values; none of our parameters needs it, so it is
 * refused as syntax.
 */
static bool
param_next(const char *p, size_t len, size_t *pos, struct param *prm)
{
	size_t i = *pos, tok, eq;

	while (i < len && p[i] == ' ')
		i++;
	if (i == len) {
		*pos = i;
		return false;
	}
	tok = i;
	while (i < len && p[i] != ' ')
		i++;
	*pos = i;
	for (eq = tok; eq < i && p[eq] != '='; eq++)
		;

	prm->kw = p + tok;
	prm->kw_len = eq - tok;
	prm->val = eq < i ? p + eq + 1 : NULL;
	prm->val_len = eq < i ? i - eq - 1 : 0;
	prm->ok = prm->kw_len > 0;
	for (size_t k = 0; prm->ok && k < prm->kw_len; k++) {
		unsigned char b = (unsigned char)prm->kw[k];
		bool alnum = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
		prm->ok = alnum || (k > 0 && b == '-');
	}
	if (prm->val != NULL && prm->val_len == 0)
		prm->ok = false;
	for (size_t k = 0; prm->ok && k < prm->val_len; k++) {
		unsigned char b = (unsigned char)prm->val[k];
		prm->ok = b >= 33 && b <= 126 && b != '=';
	}
	return true;
}

/*
 * MAIL parameters.  Every parameter is looked at, the first error is
 * returned; *want_utf8 is set when an SMTPUTF8 keyword appears and the
 * server offers it, even if another parameter is wrong, so the path is
 * judged by the rules the client asked for.
 */
static enum smtp_param_err
mail_params(const char *p, size_t len, bool utf8_ok, struct smtp_mail_args *a, bool *want_utf8)
{
	enum smtp_param_err err = SMTP_PARAM_OK;
	bool seen_size = false, seen_body = false, seen_utf8 = false;
	size_t pos = 0;
	struct param prm;

	*want_utf8 = false;
	while (param_next(p, len, &pos, &prm)) {
		enum smtp_param_err e = SMTP_PARAM_OK;
		if (prm.ok && param_is(&prm, "SMTPUTF8"))
			*want_utf8 = utf8_ok;

		if (!prm.ok) {
			e = SMTP_PARAM_E_SYNTAX;
		} else if (param_is(&prm, "SIZE")) {	/* RFC 1870 */
			if (seen_size)
				e = SMTP_PARAM_E_DUP;
			else if (!parse_digits(prm.val, prm.val_len, &a->size))
				e = SMTP_PARAM_E_SYNTAX;	/* also SIZE without '=' */
			else
				a->has_size = true;
			seen_size = true;
		} else if (param_is(&prm, "BODY")) {	/* RFC 6152, RFC 3030 */
			if (seen_body)
				e = SMTP_PARAM_E_DUP;
			else if (prm.val == NULL)
				e = SMTP_PARAM_E_SYNTAX;
			else if (prm.val_len == 4 && ascii_memcaseeq(prm.val, "7BIT", 4))
				a->body = SMTP_BODY_7BIT;
			else if (prm.val_len == 8 && ascii_memcaseeq(prm.val, "8BITMIME", 8))
				a->body = SMTP_BODY_8BITMIME;
			else	/* BINARYMIME too: we do not offer it */
				e = SMTP_PARAM_E_UNKNOWN;
			seen_body = true;
		} else if (param_is(&prm, "SMTPUTF8")) {	/* RFC 6531 3.4 */
			if (!utf8_ok)
				e = SMTP_PARAM_E_UNKNOWN;
			else if (seen_utf8)
				e = SMTP_PARAM_E_DUP;
			else if (prm.val != NULL)
				e = SMTP_PARAM_E_SYNTAX;
			else
				a->smtputf8 = true;
			seen_utf8 = true;
		} else {
			e = SMTP_PARAM_E_UNKNOWN;
		}
		if (err == SMTP_PARAM_OK)
			err = e;
	}
	return err;
}

/*
 * Length of the path at the start of arg: up to and including the first
 * '>' outside a quoted string, using the quoting rules of addr.c (a '"'
 * toggles, a backslash inside quotes hides the next byte).  Whenever
 * smtp_path_parse accepts the path it consumes exactly this much, since
 * every '"' or '\' it accepts is one this scan also saw.  len when there
 * is no such '>' (the path parser then reports the error).
 */
static size_t
path_extent(const char *arg, size_t len)
{
	bool in_quote = false;

	for (size_t i = 0; i < len; i++) {
		if (in_quote && arg[i] == '\\')
			i++;
		else if (arg[i] == '"')
			in_quote = !in_quote;
		else if (!in_quote && arg[i] == '>')
			return i + 1;
	}
	return len;
}

/*
 * MAIL FROM: argument, see cmd.h.  Parameters are scanned before the path
 * because SMTPUTF8 among them decides whether the path may hold UTF-8
 * (RFC 6531 3.4).  A path error wins over a parameter error.  The path
 * must be followed by SP or the end: "<a@b>x" is a path syntax error.
 */
enum smtp_param_err
smtp_mail_args_parse(const char *arg, size_t len, bool utf8_ok, struct smtp_mail_args *out,
    enum smtp_addr_err *path_err)
{
	struct smtp_mail_args a;
	size_t plen = path_extent(arg, len), consumed = 0;
	bool want_utf8 = false;
	enum smtp_param_err perr = SMTP_PARAM_OK;
	enum smtp_addr_err pe;

	memset(out, 0, sizeof *out);
	memset(&a, 0, sizeof a);
	*path_err = SMTP_ADDR_OK;

	if (plen < len)
		perr = mail_params(arg + plen, len - plen, utf8_ok, &a, &want_utf8);
	pe = smtp_path_parse(arg, plen, true, want_utf8, &a.path, &consumed);
	if (pe == SMTP_ADDR_OK && (consumed != plen || (plen < len && arg[plen] != ' ')))
		pe = SMTP_ADDR_SYNTAX;
	if (pe != SMTP_ADDR_OK) {
		*path_err = pe;
		return SMTP_PARAM_E_PATH;
	}
	if (perr != SMTP_PARAM_OK)
		return perr;
	*out = a;
	return SMTP_PARAM_OK;
}

/* RCPT TO: argument, see cmd.h.  Well-formed parameters are all
 * SMTP_PARAM_E_UNKNOWN (no DSN yet), malformed ones SMTP_PARAM_E_SYNTAX. */
enum smtp_param_err
smtp_rcpt_args_parse(const char *arg, size_t len, bool allow_utf8, struct smtp_rcpt_args *out,
    enum smtp_addr_err *path_err)
{
	struct smtp_rcpt_args r;
	size_t consumed = 0, pos;
	enum smtp_param_err perr = SMTP_PARAM_OK;
	enum smtp_addr_err pe;
	struct param prm;

	memset(out, 0, sizeof *out);
	*path_err = SMTP_ADDR_OK;

	pe = smtp_path_parse(arg, len, false, allow_utf8, &r.path, &consumed);
	if (pe == SMTP_ADDR_OK && consumed < len && arg[consumed] != ' ')
		pe = SMTP_ADDR_SYNTAX;
	if (pe != SMTP_ADDR_OK) {
		*path_err = pe;
		return SMTP_PARAM_E_PATH;
	}
	pos = consumed;
	while (perr == SMTP_PARAM_OK && param_next(arg, len, &pos, &prm))
		perr = prm.ok ? SMTP_PARAM_E_UNKNOWN : SMTP_PARAM_E_SYNTAX;
	if (perr != SMTP_PARAM_OK)
		return perr;
	*out = r;
	return SMTP_PARAM_OK;
}

/*
 * BDAT argument: chunk-size [SP "LAST"] (RFC 3030 2), chunk-size 1*20
 * DIGIT within 64 bits, LAST case-insensitive, runs of SP tolerated.  No
 * sign, no other token.  *size and *last are 0/false unless it returns true.
 */
bool
smtp_bdat_parse(const char *arg, size_t len, uint64_t *size, bool *last)
{
	size_t i = 0, j, e = len;
	uint64_t v = 0;
	bool ok, is_last = false;

	*size = 0;
	*last = false;
	while (i < len && arg[i] >= '0' && arg[i] <= '9')
		i++;
	ok = parse_digits(arg, i, &v);
	for (j = i; j < len && arg[j] == ' '; j++)
		;
	while (e > j && arg[e - 1] == ' ')
		e--;
	if (j < e) {
		is_last = true;
		if (j == i || e - j != 4 || !ascii_memcaseeq(arg + j, "LAST", 4))
			ok = false;
	}
	if (!ok)
		return false;
	*size = v;
	*last = is_last;
	return true;
}

/* Reply for a path error.  SMTP_ADDR_OK and unknown values get the syntax
 * reply: this is only ever called to refuse, so a caller bug must not
 * produce a 2xx. */
const char *
smtp_addr_err_reply(enum smtp_addr_err e, bool is_rcpt)
{
	switch (e) {
	case SMTP_ADDR_TOO_LONG:
		return is_rcpt ? "501 5.1.3 Recipient address too long"
		    : "501 5.1.7 Sender address too long";
	case SMTP_ADDR_UTF8:
		return "553 5.6.7 Non-ASCII address requires SMTPUTF8";
	case SMTP_ADDR_NULL_RCPT:
		return "501 5.1.3 Null recipient address <> not allowed";
	case SMTP_ADDR_OK:
	case SMTP_ADDR_SYNTAX:
	default:
		break;
	}
	return is_rcpt ? "501 5.1.3 Bad recipient address syntax"
	    : "501 5.1.7 Bad sender address syntax";
}

/* Reply for a parameter error; as above, never a 2xx. */
const char *
smtp_param_err_reply(enum smtp_param_err e)
{
	switch (e) {
	case SMTP_PARAM_E_UNKNOWN:
		return "555 5.5.4 Unsupported parameter";
	case SMTP_PARAM_E_DUP:
		return "501 5.5.4 Duplicate parameter";
	case SMTP_PARAM_OK:
	case SMTP_PARAM_E_PATH:
	case SMTP_PARAM_E_SYNTAX:
	default:
		break;
	}
	return "501 5.5.4 Syntax error in parameters";
}

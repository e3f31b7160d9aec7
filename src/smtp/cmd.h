/*
 * smtp/cmd.h - SMTP command line and ESMTP parameter parsing.
 *
 * Input:   one command line without its CRLF (pointer + length, untrusted;
 *          may contain NUL and any byte).
 * Output:  verb and argument slice; MAIL/RCPT arguments split into path
 *          and parameters.  Pure functions, no I/O.
 * Trusts:  nothing.  Runs in: smtp worker.
 */
#ifndef TALON_SMTP_CMD_H
#define TALON_SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/addr.h"

#define SMTP_LINE_MAX 512	/* RFC 5321 4.5.3.1.4 command line incl. CRLF */

enum smtp_verb {
	SMTP_CMD_UNKNOWN = 0,
	SMTP_CMD_HELO, SMTP_CMD_EHLO, SMTP_CMD_MAIL, SMTP_CMD_RCPT,
	SMTP_CMD_DATA, SMTP_CMD_BDAT, SMTP_CMD_RSET, SMTP_CMD_NOOP,
	SMTP_CMD_QUIT, SMTP_CMD_VRFY, SMTP_CMD_EXPN, SMTP_CMD_HELP,
	SMTP_CMD_STARTTLS, SMTP_CMD_AUTH,
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;	/* after the verb and following spaces; for MAIL
				 * and RCPT, after "FROM:"/"TO:" and spaces */
	size_t arg_len;		/* trailing spaces removed */
};

enum smtp_cmd_err {
	SMTP_CMD_OK = 0,
	SMTP_CMD_E_UNKNOWN,	/* 500 5.5.1 Command unrecognized */
	SMTP_CMD_E_SYNTAX,	/* 501 5.5.4 Syntax error (e.g. MAIL without FROM:,
				 * args to DATA/RSET/QUIT/STARTTLS) */
	SMTP_CMD_E_BADCHAR,	/* 500 5.5.2 bare CR/LF or NUL in command line */
};

/*
 * Split a command line.  The verb is matched case-insensitively and must be
 * followed by end of line or a space.  "MAIL FROM:" and "RCPT TO:" are
 * matched case-insensitively, and spaces after the colon are tolerated.
 * Commands that take no argument (DATA, RSET, QUIT, STARTTLS) reject one;
 * NOOP and HELP accept and ignore an argument; HELO/EHLO require one.
 */
enum smtp_cmd_err smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *out);

enum smtp_body { SMTP_BODY_NONE = 0, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };

struct smtp_mail_args {
	struct smtp_path path;
	uint64_t size;		/* SIZE=, 0 when absent */
	bool has_size;
	enum smtp_body body;	/* BODY= */
	bool smtputf8;		/* SMTPUTF8 */
};

struct smtp_rcpt_args {
	struct smtp_path path;
};

enum smtp_param_err {
	SMTP_PARAM_OK = 0,
	SMTP_PARAM_E_PATH,	/* path error: see path_err */
	SMTP_PARAM_E_SYNTAX,	/* 501 5.5.4 malformed parameter */
	SMTP_PARAM_E_UNKNOWN,	/* 555 5.5.4 unknown parameter or value */
	SMTP_PARAM_E_DUP,	/* 501 5.5.4 parameter given twice */
};

/* Parse "<path> [SP param[=value]]..." for MAIL.  utf8_ok says whether the
 * server offers SMTPUTF8.  On SMTP_PARAM_E_PATH, *path_err says why. */
enum smtp_param_err smtp_mail_args_parse(const char *arg, size_t len, bool utf8_ok,
    struct smtp_mail_args *out, enum smtp_addr_err *path_err);

/* Parse "<path> [params]" for RCPT.  No RCPT parameters are supported yet
 * (no DSN), so any parameter is SMTP_PARAM_E_UNKNOWN.  allow_utf8 is true
 * when the transaction's MAIL carried SMTPUTF8. */
enum smtp_param_err smtp_rcpt_args_parse(const char *arg, size_t len, bool allow_utf8,
    struct smtp_rcpt_args *out, enum smtp_addr_err *path_err);

/* Parse the BDAT argument "chunk-size [LAST]" (RFC 3030).  Sizes beyond
 * max are still parsed (the server must read and discard them) as long as
 * they fit in 64 bits; false on syntax error. */
bool smtp_bdat_parse(const char *arg, size_t len, uint64_t *size, bool *last);

/* Full reply line (without CRLF) for a path error of MAIL (is_rcpt false)
 * or RCPT: 501 5.1.7 / 501 5.1.3 for syntax and length, 553 5.6.7 for
 * non-ASCII without SMTPUTF8 (RFC 6531 3.7.4.1).  Static string. */
const char *smtp_addr_err_reply(enum smtp_addr_err e, bool is_rcpt);

/* Full reply line (without CRLF) for a parameter error: 501 5.5.4 syntax
 * or duplicate, 555 5.5.4 unsupported (RFC 5321 4.1.1.11).  Static string. */
const char *smtp_param_err_reply(enum smtp_param_err e);

#endif

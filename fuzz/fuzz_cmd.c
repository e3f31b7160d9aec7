/*
 * fuzz/fuzz_cmd.c - libFuzzer harness for smtp/cmd.c (command lines and
 * MAIL/RCPT/BDAT arguments).
 *
 * Input:   arbitrary bytes, used as one command line without CRLF.
 * Checks:  the line sits in an exact-size heap block; smtp_cmd_parse's
 *          argument slice is copied into its own exact-size block before
 *          the argument parsers see it, so ASan catches reads past either
 *          length.  The argument parsers also get the whole input directly.
 *          Results must be consistent: the slice lies inside the line, a
 *          NUL/CR/LF line is always BADCHAR, accepted MAIL arguments never
 *          claim SMTPUTF8 unless offered and never carry UTF-8 without it,
 *          errors leave the output zeroed, a BDAT size prints back to the
 *          digits it came from, and every error maps to a 4xx/5xx reply.
 *          Differential: MAIL/RCPT must accept whatever smtp_path_parse
 *          accepts as a whole argument, and an accepted MAIL path must be
 *          exactly the path parser's result on the same bytes.
 * Seeds:   fuzz/corpus/cmd/, dictionary fuzz/cmd.dict.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
dup_exact(const char *p, size_t n)
{
	char *q = calloc(n ? n : 1, 1);	/* exact size; calloc so n == 0 reads no garbage */
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

static void
check_reply(const char *r)
{
	if (r == NULL || (r[0] != '4' && r[0] != '5') || strchr(r, '\r') || strchr(r, '\n'))
		abort();
}

/* True when arg[from..len) is only spaces. */
static bool
blank_after(const char *arg, size_t len, size_t from)
{
	for (size_t i = from; i < len; i++)
		if (arg[i] != ' ')
			return false;
	return true;
}

static void
mail(const char *arg, size_t len)
{
	/* differential: a path alone that smtp_path_parse accepts must be
	 * accepted by MAIL, whatever quoting it uses */
	struct smtp_path alone;
	size_t used;
	bool path_only = smtp_path_parse(arg, len, true, false, &alone, &used) == SMTP_ADDR_OK
	    && blank_after(arg, len, used);

	for (int ok = 0; ok < 2; ok++) {
		struct smtp_mail_args a;
		enum smtp_addr_err pe;
		enum smtp_param_err e = smtp_mail_args_parse(arg, len, ok, &a, &pe);
		if (path_only && (e != SMTP_PARAM_OK || memcmp(&a.path, &alone, sizeof alone) != 0))
			abort();
		if (e == SMTP_PARAM_OK) {
			struct smtp_path same;
			if (pe != SMTP_ADDR_OK || a.path.is_postmaster || (a.smtputf8 && !ok)
			    || (a.path.is_utf8 && !a.smtputf8) || (a.size != 0 && !a.has_size)
			    || a.body == SMTP_BODY_BINARYMIME)
				abort();
			/* the path is what the path parser makes of the prefix */
			if (smtp_path_parse(arg, len, true, a.smtputf8, &same, &used) != SMTP_ADDR_OK
			    || memcmp(&same, &a.path, sizeof same) != 0
			    || (used < len && arg[used] != ' '))
				abort();
		} else {
			static const struct smtp_mail_args zero;
			if (memcmp(&a, &zero, sizeof a) != 0)
				abort();
			if ((e == SMTP_PARAM_E_PATH) != (pe != SMTP_ADDR_OK))
				abort();
			if (pe == SMTP_ADDR_NULL_RCPT)
				abort();
			check_reply(e == SMTP_PARAM_E_PATH ? smtp_addr_err_reply(pe, false)
			    : smtp_param_err_reply(e));
		}
	}
}

static void
rcpt(const char *arg, size_t len)
{
	for (int u = 0; u < 2; u++) {
		struct smtp_rcpt_args r;
		struct smtp_path alone;
		size_t used;
		enum smtp_addr_err pe;
		enum smtp_param_err e = smtp_rcpt_args_parse(arg, len, u, &r, &pe);
		if (smtp_path_parse(arg, len, false, u, &alone, &used) == SMTP_ADDR_OK
		    && blank_after(arg, len, used)
		    && (e != SMTP_PARAM_OK || memcmp(&r.path, &alone, sizeof alone) != 0))
			abort();
		if (e == SMTP_PARAM_OK) {
			if (pe != SMTP_ADDR_OK || r.path.is_null || (r.path.is_utf8 && !u))
				abort();
		} else {
			if ((e == SMTP_PARAM_E_PATH) != (pe != SMTP_ADDR_OK) || e == SMTP_PARAM_E_DUP)
				abort();
			check_reply(e == SMTP_PARAM_E_PATH ? smtp_addr_err_reply(pe, true)
			    : smtp_param_err_reply(e));
		}
	}
}

static void
bdat(const char *arg, size_t len)
{
	uint64_t size;
	bool last;
	if (!smtp_bdat_parse(arg, len, &size, &last)) {
		if (size != 0 || last)
			abort();
		return;
	}
	/* the leading digits, without leading zeros, are the size */
	size_t n = 0, z = 0;
	while (n < len && arg[n] >= '0' && arg[n] <= '9')
		n++;
	while (z + 1 < n && arg[z] == '0')
		z++;
	char txt[32];
	int k = snprintf(txt, sizeof txt, "%" PRIu64, size);
	if (n == 0 || n > 20 || (size_t)k != n - z || memcmp(txt, arg + z, n - z) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = dup_exact((const char *)data, size);
	struct smtp_cmd c;
	enum smtp_cmd_err e = smtp_cmd_parse(line, size, &c);

	bool badchar = size > 0 && (memchr(line, '\0', size) || memchr(line, '\r', size)
	    || memchr(line, '\n', size));
	if (badchar != (e == SMTP_CMD_E_BADCHAR))
		abort();
	if (e == SMTP_CMD_OK) {
		if (c.verb == SMTP_CMD_UNKNOWN || c.arg < line || c.arg_len > size
		    || (size_t)(c.arg - line) > size - c.arg_len)
			abort();
		if (c.arg_len > 0 && (c.arg[0] == ' ' || c.arg[c.arg_len - 1] == ' '))
			abort();
		char *arg = dup_exact(c.arg, c.arg_len);
		if (c.verb == SMTP_CMD_MAIL)
			mail(arg, c.arg_len);
		else if (c.verb == SMTP_CMD_RCPT)
			rcpt(arg, c.arg_len);
		else if (c.verb == SMTP_CMD_BDAT)
			bdat(arg, c.arg_len);
		free(arg);
	}

	/* the argument parsers on raw bytes too, reaching states the verb
	 * prefix would make the fuzzer work for */
	mail(line, size);
	rcpt(line, size);
	bdat(line, size);

	free(line);
	return 0;
}

/*
 * core/afile.c - reading admin-written text files and walking their lines
 * (rules in afile.h).
 *
 * Input:   a path chosen by the admin (afile_read) or text already in
 *          memory, any bytes, not NUL-terminated (afile_next).
 * Output:  the file's bytes in a buffer the caller owns; lines as pointer
 *          plus length into the caller's text; every problem as
 *          "file[:line]: what was found (what was expected)" in a diag.
 * Trusts:  nothing in the text; the size cap and names from the caller.
 *          Runs in: parent and CLI.
 * Not here: what a line means (core/cfg.c, mail/users.c), whether the
 *          file's owner or mode are safe (callers that care check).
 */
#include "core/afile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#define READ_FIRST	4096	/* first buffer when fstat gives no usable size */

/* A bigger copy of b[0..n).  The old buffer is wiped before it is freed:
 * users files hold password hashes, and realloc() would leave them behind
 * in freed memory. */
static char *
grow(char *b, size_t n, size_t cap)
{
	char *nb = xmalloc(cap);
	memcpy(nb, b, n);
	explicit_bzero(b, n);
	free(b);
	return nb;
}

/* Reads until EOF rather than trusting st_size: the file may change while
 * we read, and pipes and devices report 0.  At most max + 1 bytes are
 * ever held, so a huge or endless file costs max + 1 bytes of memory. */
int
afile_read(const char *file, size_t max, const char *what, char **text, size_t *len,
    struct diag *d)
{
	int fd;
	struct stat st;
	char *b = NULL;
	size_t cap, n = 0;
	int rc = -1;

	if (max >= SIZE_MAX / 2)
		max = SIZE_MAX / 2 - 1;		/* keeps max + 1 and cap * 2 exact */
	*text = NULL;
	*len = 0;
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		diag_err(d, file, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		diag_err(d, file, 0, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		diag_err(d, file, 0, "is a directory (expected %s)", what);
		goto out;
	}
	cap = st.st_size > 0 && (uint64_t)st.st_size <= max ? (size_t)st.st_size + 1 : READ_FIRST;
	if (cap > max + 1)
		cap = max + 1;
	b = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			/* one byte over the cap is enough to know */
			if (n > max) {
				diag_err(d, file, 0, "file is larger than %zu bytes (expected %s)",
				    max, what);
				goto out;
			}
			size_t ncap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
			b = grow(b, n, ncap);
			cap = ncap;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diag_err(d, file, 0, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*text = b;
	*len = n;
	b = NULL;
	rc = 0;
out:
	if (b != NULL)
		afile_text_free(&b, n);
	close(fd);
	return rc;
}

void
afile_text_free(char **text, size_t len)
{
	if (*text == NULL)
		return;
	explicit_bzero(*text, len);
	free(*text);
	*text = NULL;
}

void
afile_init(struct afile *r, const char *text, size_t len, const char *file, size_t line_max,
    struct diag *d)
{
	memset(r, 0, sizeof *r);
	r->p = text;
	r->end = text + len;
	r->file = file;
	r->d = d;
	r->line_max = line_max;
}

bool
afile_next(struct afile *r, const char **s, size_t *n)
{
	while (r->p < r->end) {
		/* checked before each line, so errors on the last line never
		 * produce this message */
		if (r->n_err >= AFILE_ERRORS_MAX) {
			diag_err(r->d, r->file, 0, "too many errors, stopped after line %u",
			    r->line);
			r->stopped = true;
			r->p = r->end;
			return false;
		}
		const char *b = r->p;
		const char *nl = memchr(b, '\n', (size_t)(r->end - b));
		size_t len = (size_t)((nl ? nl : r->end) - b);
		r->p = nl ? nl + 1 : r->end;
		r->line++;
		/* only the CR of a CRLF: a CR elsewhere is a control byte */
		if (len > 0 && b[len - 1] == '\r')
			len--;
		const char *nul = memchr(b, '\0', len);
		if (len > r->line_max) {
			afile_err(r, r->line, "line is %zu bytes long (expected at most %zu)", len,
			    r->line_max);
			continue;
		}
		if (nul != NULL) {
			afile_err(r, r->line, "NUL byte at column %zu (expected text)",
			    (size_t)(nul - b) + 1);
			continue;
		}
		*s = b;
		*n = len;
		return true;
	}
	return false;
}

void
afile_err(struct afile *r, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_err(r->d, r->file, line, "%s", msg);
	r->n_err++;
}

void
afile_warn(struct afile *r, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_warn(r->d, r->file, line, "%s", msg);
}

bool
afile_check_controls(struct afile *r, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			afile_err(r, r->line, "control character 0x%02x at column %zu (expected "
			    "printable text)", ch, i + 1);
			return false;
		}
	}
	return true;
}

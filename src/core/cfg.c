/*
 * core/cfg.c - the config engine: tokenizing directive lines, dispatching
 * them through a schema's directive table, and value parsers (grammar and
 * messages in cfg.h).
 *
 * Input:   config text, any bytes, not NUL-terminated, read line by line
 *          through core/afile.c (length, NUL and the error cap are checked
 *          there); a directive table from the schema.
 * Output:  calls to the schema's handlers with NUL-terminated tokens;
 *          every problem as "file:line: what was found (what was
 *          expected)" in the diag; parsing goes on after an error so one
 *          run shows them all.
 * Trusts:  nothing in the text; the table (compiled in).
 *          Runs in: parent and CLI.
 * Not here: any directive's meaning (mail/conf.c), whether named files,
 *          directories or users exist (callers check).
 */
#include "core/cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

#define LIST_MAX	768	/* "expected one of: ..." */

/* --- messages --------------------------------------------------------------- */

static void
vreport(struct cfg *g, bool is_err, unsigned line, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (is_err)
		afile_err(&g->rd, line, "%s", msg);
	else
		afile_warn(&g->rd, line, "%s", msg);
}

void
cfg_err(struct cfg *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(g, true, g->rd.line, fmt, ap);
	va_end(ap);
}

void
cfg_err_at(struct cfg *g, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(g, true, line, fmt, ap);
	va_end(ap);
}

void
cfg_warn(struct cfg *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(g, false, g->rd.line, fmt, ap);
	va_end(ap);
}

void
cfg_warn_at(struct cfg *g, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(g, false, line, fmt, ap);
	va_end(ap);
}

void
cfg_given_twice(struct cfg *g, const char *what, unsigned first)
{
	cfg_err(g, "%s given twice (first at line %u)", what, first);
}

void
cfg_unknown(struct cfg *g, const char *kind, const char *name, const void *table, size_t n,
    size_t stride)
{
	char e[AFILE_TOKEN_MAX], list[LIST_MAX];
	size_t o = 0;
	list[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const void *ent = (const char *)table + i * stride;
		const char *nm = *(const char *const *)ent;
		int w = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", nm);
		if (w < 0 || (size_t)w >= sizeof list - o) {
			/* cut at the last whole name; never reached by our tables */
			snprintf(list + o, sizeof list - o, ", ...");
			break;
		}
		o += (size_t)w;
	}
	log_escape(e, sizeof e, name, strlen(name));
	cfg_err(g, "unknown %s \"%s\" (expected one of: %s)", kind, e, list);
}

/* --- paths ------------------------------------------------------------------ */

/* Lexically clean an absolute path: no empty or "." components, no trailing
 * slash.  ".." is kept: resolving it without the file system would be wrong
 * across symbolic links. */
static char *
clean_path(const char *path)
{
	size_t n = strlen(path);
	char *out = xmalloc(n + 2);
	size_t o = 0;
	const char *s = path;
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = s;
		while (*e && *e != '/')
			e++;
		size_t l = (size_t)(e - s);
		if (l > 0 && !(l == 1 && s[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, s, l);
			o += l;
		}
		s = e;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

char *
cfg_path(const struct cfg *g, const char *s)
{
	if (s[0] == '/')
		return clean_path(s);
	char *j = xasprintf("%s/%s", g->base, s);
	char *r = clean_path(j);
	free(j);
	return r;
}

/* The absolute directory the file is in; a relative file name is taken
 * from the current directory, as open() would. */
static char *
base_dir(struct cfg *g, const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir, *r;
	if (slash == file)
		return xstrdup("/");
	dir = slash ? xstrndup(file, (size_t)(slash - file)) : xstrdup(".");
	if (dir[0] == '/') {
		r = clean_path(dir);
	} else {
		char *cwd = getcwd(NULL, 0);
		if (cwd == NULL) {
			cfg_err_at(g, 0, "cannot find the current directory to resolve relative "
			    "paths: %s", strerror(errno));
			cwd = xstrdup("/");
		}
		char *j = xasprintf("%s/%s", cwd, dir);
		r = clean_path(j);
		free(j);
		free(cwd);
	}
	free(dir);
	return r;
}

/* --- values ----------------------------------------------------------------- */

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool
cfg_num(struct cfg *g, const char *prefix, const char *s, uint64_t min, uint64_t max,
    uint64_t *out)
{
	char e[AFILE_TOKEN_MAX];
	uint64_t v;
	log_escape(e, sizeof e, s, strlen(s));
	if (!all_digits(s)) {
		cfg_err(g, "%s \"%s\" is not a number (expected %llu..%llu)", prefix, e,
		    (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	if (!parse_u64(s, UINT64_MAX, &v) || v < min || v > max) {
		cfg_err(g, "%s %s is out of range (expected %llu..%llu)", prefix, e,
		    (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

/* Overflow is checked before every multiplication, so no suffix or digit
 * count can wrap around to a small limit. */
bool
cfg_size(struct cfg *g, const char *prefix, const char *s, uint64_t *out)
{
	char e[AFILE_TOKEN_MAX];
	size_t n = strlen(s);
	unsigned shift = 0;
	uint64_t v = 0;
	log_escape(e, sizeof e, s, n);
	if (n > 0) {
		switch (ascii_lower((unsigned char)s[n - 1])) {
		case 'k': shift = 10; n--; break;
		case 'm': shift = 20; n--; break;
		case 'g': shift = 30; n--; break;
		}
	}
	bool is_num = n > 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			is_num = false;
	if (!is_num) {
		cfg_err(g, "%s \"%s\" is not a size (expected BYTES with optional k/m/g suffix)",
		    prefix, e);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned dg = (unsigned)(s[i] - '0');
		if (v > ((UINT64_MAX >> shift) - dg) / 10) {
			cfg_err(g, "%s %s is too large (it does not fit in 64 bits)", prefix, e);
			return false;
		}
		v = v * 10 + dg;
	}
	v <<= shift;
	if (v == 0) {
		cfg_err(g, "%s %s is out of range (expected at least 1 byte)", prefix, e);
		return false;
	}
	*out = v;
	return true;
}

/* Relaxed NAME_REGEX of useradd/groupadd. */
bool
cfg_sys_name_valid(const char *s)
{
	size_t n = strlen(s);
	bool ok = n > 0 && n <= 32 && s[0] != '-';
	for (size_t i = 0; ok && i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			ok = false;
	}
	return ok;
}

char **
cfg_field(const struct cfg *g, const struct cfg_directive *dd)
{
	return (char **)(void *)((char *)g->dst + dd->off);
}

void
cfg_set_path(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	char **f = cfg_field(g, dd);
	free(*f);
	*f = cfg_path(g, av[0]);
}

void
cfg_set_sys_name(struct cfg *g, const struct cfg_directive *dd, char **av, unsigned ac)
{
	char e[AFILE_TOKEN_MAX];
	if (!cfg_sys_name_valid(av[0])) {
		log_escape(e, sizeof e, av[0], strlen(av[0]));
		/* "user name" for groups too: one wording admins already know */
		cfg_err(g, "%s: \"%s\" is not a valid user name (expected letters, digits, '_', "
		    "'-' or '.', at most 32, not starting with '-')", dd->name, e);
		return;
	}
	char **f = cfg_field(g, dd);
	free(*f);
	*f = xstrdup(av[0]);
}

/* --- the engine ---------------------------------------------------------------- */

void
cfg_init(struct cfg *g, const char *text, size_t len, const char *file,
    const struct cfg_directive *dirs, size_t n_dirs, void *dst, void *arg, struct diag *d)
{
	memset(g, 0, sizeof *g);
	afile_init(&g->rd, text, len, file, CFG_LINE_MAX, d);
	g->dirs = dirs;
	g->n_dirs = n_dirs;
	g->first = xcalloc(n_dirs, sizeof *g->first);
	g->line = xmalloc(CFG_LINE_MAX + 1);
	/* at most one token per two bytes: "a b c" */
	g->tok = xcalloc(CFG_LINE_MAX / 2 + 1, sizeof *g->tok);
	g->dst = dst;
	g->arg = arg;
	g->base = base_dir(g, file);
}

void
cfg_done(struct cfg *g)
{
	free(g->first);
	free(g->line);
	free(g->tok);
	free(g->base);
	g->first = NULL;
	g->line = NULL;
	g->tok = NULL;
	g->base = NULL;
}

unsigned
cfg_line(const struct cfg *g)
{
	return g->rd.line;
}

unsigned
cfg_first_line(const struct cfg *g, const char *name)
{
	for (size_t i = 0; i < g->n_dirs; i++)
		if (strcmp(g->dirs[i].name, name) == 0)
			return g->first[i];
	return 0;
}

/* One line s[0..n), already free of NUL and within CFG_LINE_MAX. */
static void
parse_line(struct cfg *g, const char *s, size_t n)
{
	char *q = g->line;
	unsigned nt = 0;

	memcpy(q, s, n);
	q[n] = '\0';
	char *hash = strchr(q, '#');
	if (hash != NULL)
		*hash = '\0';
	/* comments may hold anything; directives may not */
	if (!afile_check_controls(&g->rd, q, strlen(q)))
		return;
	for (;;) {
		while (*q == ' ' || *q == '\t')
			*q++ = '\0';
		if (*q == '\0')
			break;
		g->tok[nt++] = q;
		while (*q && *q != ' ' && *q != '\t')
			q++;
	}
	if (nt == 0)
		return;

	size_t i;
	for (i = 0; i < g->n_dirs; i++)
		if (strcmp(g->tok[0], g->dirs[i].name) == 0)
			break;
	if (i == g->n_dirs) {
		cfg_unknown(g, "directive", g->tok[0], g->dirs, g->n_dirs, sizeof *g->dirs);
		return;
	}
	const struct cfg_directive *dd = &g->dirs[i];
	if (g->first[i] != 0 && !dd->repeatable) {
		cfg_given_twice(g, dd->name, g->first[i]);
		return;
	}
	/* marked even when the arguments are wrong: that line has its error,
	 * and "missing required directive" on top would only confuse */
	if (g->first[i] == 0)
		g->first[i] = g->rd.line;
	unsigned ac = nt - 1;
	if (ac < dd->min_args || ac > dd->max_args) {
		cfg_err(g, "%s: wrong number of arguments (expected \"%s\", found %u argument%s)",
		    dd->name, dd->usage, ac, ac == 1 ? "" : "s");
		return;
	}
	dd->fn(g, dd, g->tok + 1, ac);
}

bool
cfg_run(struct cfg *g)
{
	const char *s;
	size_t n;
	while (afile_next(&g->rd, &s, &n))
		parse_line(g, s, n);
	if (g->rd.stopped)
		return false;
	for (size_t i = 0; i < g->n_dirs; i++)
		if (g->dirs[i].required && g->first[i] == 0)
			cfg_err_at(g, 0, "missing required directive \"%s\"", g->dirs[i].name);
	return true;
}

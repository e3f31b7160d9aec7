/*
 * cli/zone.c - `talon zone check FILE [--origin NAME] [-v]`.
 *
 * The file goes through exactly what `talon serve` does with a zone
 * (dns_zsrc_load, then dns_zone_build with the same record locations),
 * then through the checks of dns/zcheck.c.  Output, on stdout: one line
 * per finding, "FILE:LINE[:COLUMN]: error|warning: text", with -v the
 * checks that passed as "ok: ...", and last "N errors, M warnings".
 * Exit 0 without errors, 1 with errors, 2 on a usage error.
 *
 * Input:   the command line and an admin's zone file.  Trusts: nothing in
 *          the file.  Runs in: CLI, as whoever runs it.
 * Not here: comparing the serial with the running daemon's (later, over
 *          the control socket).
 */
#include "cli/cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/afile.h"
#include "core/buf.h"
#include "core/diag.h"
#include "core/util.h"
#include "dns/name.h"
#include "dns/zcheck.h"
#include "dns/zone.h"
#include "dns/zonefile.h"

static const uint8_t ROOT[1] = { 0 };

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: talon zone check FILE [--origin NAME] [-v]\n"
	    "Check a zone file: syntax, SOA and NS, CNAME rules, glue, NS and MX\n"
	    "targets, the apex address against the MX hosts, and SPF, DMARC and DKIM\n"
	    "records.  The origin is the file's leading $ORIGIN, else NAME, else the\n"
	    "file name without \".zone\".  -v also lists the checks that passed.  With\n"
	    "a running daemon (talon -c CONF zone check ...), the serial is compared\n"
	    "with the one it serves.\n"
	    "Exit 0 without errors (warnings allowed), 1 with errors, 2 on usage errors.\n");
}

/* An origin from the command line or the file name: relative names are
 * taken as absolute, as an origin always is.  -1 with *why. */
static int
origin_from_text(const char *s, size_t n, uint8_t out[DNS_NAME_MAX], const char **why)
{
	if (n == 0) {
		*why = "an empty name";
		return -1;
	}
	return dns_name_from_text(s, n, ROOT, out, why) < 0 ? -1 : 0;
}

/* The end of the token starting at p: whitespace, ';' or the end of the
 * line ends it, a backslash keeps the next byte in it. */
static const char *
token_end(const char *p, const char *end)
{
	while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != ';') {
		if (*p == '\\' && p + 1 < end)
			p++;
		p++;
	}
	return p;
}

/*
 * The origin a file sets before its first record, as dns_zonefile_parse
 * would take it when given none (it does not hand the origin back, and
 * the record stream and index need it).  Only blank lines, comments and
 * $TTL lines may come before that $ORIGIN; anything else (a record,
 * $INCLUDE, parentheses, a relative name) ends the search and the caller
 * falls back to the file name.  The parser, given the origin found here,
 * checks every record against it.  1 found, 0 not, -1 when the file could
 * not be read (reported in d).
 */
static int
leading_origin(const char *file, uint8_t out[DNS_NAME_MAX], struct diag *d)
{
	char *text;
	size_t len;
	int found = 0;

	if (afile_read(file, DNS_ZONEFILE_MAX, "a zone file", &text, &len, d) < 0)
		return -1;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *ls = p, *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *q = p;
		p = nl ? nl + 1 : end;
		while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q == le || *q == ';')
			continue;
		/* a directive starts in the first column; an indented line is
		 * a record with the previous owner */
		if (q != ls)
			break;
		const char *w = q, *we = token_end(q, le);
		if (memchr(q, '(', (size_t)(le - q)) != NULL || memchr(q, '"', (size_t)(le - q)))
			break;
		if ((size_t)(we - w) == 4 && ascii_memcaseeq(w, "$TTL", 4))
			continue;
		if ((size_t)(we - w) != 7 || !ascii_memcaseeq(w, "$ORIGIN", 7))
			break;
		const char *a = we;
		while (a < le && (*a == ' ' || *a == '\t'))
			a++;
		const char *ae = token_end(a, le);
		const char *why;
		if (ae > a && dns_name_from_text(a, (size_t)(ae - a), NULL, out, &why) >= 0)
			found = 1;
		break;
	}
	afile_text_free(&text, len);
	return found;
}

/* nmrc.org.zone -> nmrc.org. */
static int
origin_from_file_name(const char *file, uint8_t out[DNS_NAME_MAX], const char **why)
{
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	size_t n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".zone") == 0)
		n -= 5;
	return origin_from_text(base, n, out, why);
}

/*
 * diag writes "LOC: text" for an error and "LOC: warning: text" for a
 * warning, LOC being file, file:line or file:line:column; this says
 * "error: " too.  The length of LOC: the longest file name the zone used
 * followed by up to two ":number", or else up to the first ": ".
 */
static size_t
loc_len(const char *l, size_t n, const char *file, const struct dns_zsrc *src)
{
	size_t best = 0;
	bool found = false;

	for (size_t k = 0; k <= src->n_files; k++) {
		const char *f = k == 0 ? file : src->files[k - 1];
		size_t fl = strlen(f), i;
		if (fl >= n || memcmp(l, f, fl) != 0 || (found && fl <= best))
			continue;
		i = fl;
		for (int part = 0; part < 2; part++) {
			size_t j = i + 1;
			if (i >= n || l[i] != ':' || j >= n || l[j] < '0' || l[j] > '9')
				break;
			while (j < n && l[j] >= '0' && l[j] <= '9')
				j++;
			if (j >= n || l[j] != ':')
				break;
			i = j;
		}
		if (i + 1 < n && l[i] == ':' && l[i + 1] == ' ') {
			best = i;
			found = true;
		}
	}
	if (found)
		return best;
	const char *c = memmem(l, n, ": ", 2);
	return c ? (size_t)(c - l) : 0;
}

static void
print_findings(struct diag *d, const char *file, const struct dns_zsrc *src)
{
	const char *t = diag_text(d);

	while (*t != '\0') {
		const char *nl = strchr(t, '\n');
		size_t n = nl ? (size_t)(nl - t) : strlen(t);
		size_t loc = loc_len(t, n, file, src);
		const char *rest = t + loc + 2;
		size_t rn = loc + 2 <= n ? n - loc - 2 : 0;
		if (loc == 0)
			printf("%.*s\n", (int)n, t);
		else if (rn >= 9 && memcmp(rest, "warning: ", 9) == 0)
			printf("%.*s: %.*s\n", (int)loc, t, (int)rn, rest);
		else
			printf("%.*s: error: %.*s\n", (int)loc, t, (int)rn, rest);
		t += n + (nl ? 1 : 0);
	}
}

/* The running daemon's version of the zone (`talon -c CONF zone check`):
 * a new serial must be greater (RFC 1982) or secondaries ignore the
 * change; the same serial with other content is served but never
 * transferred.  Nothing is said when no daemon answers. */
static void
compare_served(const char *conf, struct dns_zone *z, const char *file, struct diag *d,
    struct buf *ok)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	if (conf == NULL || control_request(conf, "zones", &b, true) != 0 || b.data == NULL ||
	    strncmp((const char *)b.data, "ok\n", 3) != 0) {
		buf_free(&b);
		return;
	}
	char want[DNS_NAME_TEXT_MAX], dig[65];
	dns_zone_digest(z);
	dns_name_to_text(z->origin, want);
	for (size_t k = 0; k < sizeof z->digest; k++)
		snprintf(dig + 2 * k, 3, "%02x", z->digest[k]);
	const char *t = (const char *)b.data + 3;
	while (*t) {
		const char *nl = strchr(t, '\n');
		size_t n = nl ? (size_t)(nl - t) : strlen(t);
		char origin[DNS_NAME_TEXT_MAX], sdig[65];
		unsigned serial;
		size_t recs;
		char line[DNS_NAME_TEXT_MAX + 128];
		snprintf(line, sizeof line, "%.*s", (int)n, t);
		if (sscanf(line, "%1023s %u %zu %64s", origin, &serial, &recs, sdig) == 4 &&
		    ascii_strcaseeq(origin, want)) {
			/* RFC 1982: s1 < s2 when (s2 - s1) mod 2^32 is in (0, 2^31) */
			uint32_t diff = z->serial - (uint32_t)serial;
			bool same = strcmp(sdig, dig) == 0;
			if (diff == 0 && !same)
				diag_warn(d, file, 0, "serial %u is the one the running daemon serves, "
				    "but the content differs: it would be served, and no secondary "
				    "would fetch it (fix: raise the serial)", z->serial);
			else if (diff != 0 && diff >= 0x80000000u)
				diag_err(d, file, 0, "serial %u is lower than %u, which the running "
				    "daemon serves (RFC 1982): secondaries would keep the old zone "
				    "(fix: use a serial above %u)", z->serial, serial, serial);
			else if (diff == 0)
				buf_printf(ok, "ok: the running daemon serves this very zone "
				    "(serial %u)\n", serial);
			else
				buf_printf(ok, "ok: serial %u is above %u, which the running daemon "
				    "serves\n", z->serial, serial);
		}
		t += n + (nl ? 1 : 0);
	}
	buf_free(&b);
}

static int
zone_check(const char *conf, const char *file, const char *origin_arg, bool verbose)
{
	uint8_t origin[DNS_NAME_MAX];
	char ot[DNS_NAME_TEXT_MAX];
	const char *why = NULL, *from;
	struct diag d;
	struct buf ok;
	struct dns_zsrc src;
	struct dns_zone z;
	bool have_src = false;
	int rc = 2;

	diag_init(&d);
	buf_init(&ok, 1 << 20);
	/* DESIGN.md: the file's own $ORIGIN, else --origin, else the name */
	int r = leading_origin(file, origin, &d);
	from = "$ORIGIN";
	if (r < 0) {
		memcpy(origin, ROOT, sizeof ROOT);	/* unreadable: in d */
	} else if (r == 1 && origin_arg != NULL) {
		uint8_t arg[DNS_NAME_MAX];
		if (origin_from_text(origin_arg, strlen(origin_arg), arg, &why) < 0) {
			fprintf(stderr, "talon zone check: --origin %s: %s\n", origin_arg, why);
			goto out;
		}
		if (!dns_name_eq(arg, origin))
			diag_warn(&d, file, 0, "--origin %s is not the $ORIGIN %s the file sets; the "
			    "file's is used (fix: drop --origin, or correct one of them)", origin_arg,
			    (dns_name_to_text(origin, ot), ot));
	} else if (r == 0 && origin_arg != NULL) {
		from = "--origin";
		if (origin_from_text(origin_arg, strlen(origin_arg), origin, &why) < 0) {
			fprintf(stderr, "talon zone check: --origin %s: %s\n", origin_arg, why);
			goto out;
		}
	} else if (r == 0) {
		from = "the file name";
		if (origin_from_file_name(file, origin, &why) < 0) {
			fprintf(stderr, "talon zone check: no origin in %s and none from its "
			    "name (%s): give --origin NAME\n", file, why);
			goto out;
		}
	}
	dns_zsrc_init(&src, origin);
	have_src = true;
	if (d.n_err == 0) {
		buf_printf(&ok, "ok: origin %s (from %s)\n", (dns_name_to_text(origin, ot), ot),
		    from);
		unsigned before = d.n_err + d.n_warn;
		/* as in daemon/zones.c: no index over a file with errors */
		if (dns_zsrc_load(&src, file, &d) == 0) {
			if (d.n_err + d.n_warn == before)
				buf_printf(&ok, "ok: syntax, %zu records\n", src.n);
			before = d.n_err + d.n_warn;
			if (dns_zone_build(&z, origin, src.stream.data, src.stream.len,
			    dns_zsrc_where, &src, &d, file) == 0) {
				if (d.n_err + d.n_warn == before)
					buf_printf(&ok, "ok: one SOA and NS at the apex, CNAME rules, "
					    "no occluded names, one TTL per RRset\n");
				dns_zcheck(&z, dns_zsrc_where, &src, file, time(NULL), &d, &ok);
				compare_served(conf, &z, file, &d, &ok);
				dns_zone_free(&z);
			}
		}
	}
	if (verbose && buf_cstr(&ok) && ok.len > 0)
		fputs((const char *)ok.data, stdout);
	print_findings(&d, file, &src);
	printf("%u error%s, %u warning%s\n", d.n_err, d.n_err == 1 ? "" : "s", d.n_warn,
	    d.n_warn == 1 ? "" : "s");
	rc = d.n_err > 0 ? 1 : 0;
out:
	if (have_src)
		dns_zsrc_free(&src);
	diag_free(&d);
	buf_free(&ok);
	return rc;
}

int
cmd_zone(const char *conf, int argc, char **argv)
{
	const char *file = NULL, *origin = NULL;
	bool verbose = false;

	if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 1 || strcmp(argv[0], "check") != 0) {
		usage(stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--origin") == 0 && i + 1 < argc) {
			origin = argv[++i];
		} else if (strncmp(argv[i], "--origin=", 9) == 0) {
			origin = argv[i] + 9;
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "talon zone check: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		} else if (file == NULL) {
			file = argv[i];
		} else {
			fprintf(stderr, "talon zone check: one FILE only (found %s too)\n", argv[i]);
			return 2;
		}
	}
	if (file == NULL) {
		usage(stderr);
		return 2;
	}
	return zone_check(conf, file, origin, verbose);
}

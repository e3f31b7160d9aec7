/*
 * cli/dkim.c - `talon dkim keygen|sign|verify`.
 *
 *   keygen DOMAIN SELECTOR [--dir DIR]
 *        RSA-2048 key -> DIR/SELECTOR.DOMAIN.rsa.pem (TXT at SELECTOR._domainkey)
 *        Ed25519 key  -> DIR/SELECTOR-ed.DOMAIN.ed25519.pem (TXT at
 *        SELECTOR-ed._domainkey); files mode 0600, never overwritten; the
 *        TXT records printed as zone-file lines.
 *   sign -d DOMAIN -s SELECTOR -k KEY [-d -s -k ...] [FILE]
 *        the message with DKIM-Signature fields prepended, on stdout, in
 *        the input's line ends.
 *   verify [FILE]
 *        every signature checked, keys fetched through the configured
 *        resolver; one line per signature; exit 0 when all pass.
 *
 * Input:   the command line, a message from a file or stdin (at most
 *          DKIM_CLI_MSG_MAX), key files.  Trusts: the admin's key files,
 *          nothing in the message.  Runs in: CLI, as whoever runs it.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/util.h"
#include "dns/lookup.h"
#include "dns/resolve.h"
#include "mail/conf.h"
#include "msgauth/dkim.h"
#include "msgauth/header.h"

#define DKIM_CLI_MSG_MAX (64u * 1024 * 1024)
#define DKIM_CLI_SIGNERS 4
#define TXT_CHUNK 200	/* bytes per quoted string (at most 255, RFC 1035 3.3) */

static void
usage_keygen(FILE *f)
{
	fprintf(f,
	    "usage: talon dkim keygen DOMAIN SELECTOR [--dir DIR]\n"
	    "Write two private keys for dual signing (PEM, mode 0600, never overwriting):\n"
	    "  DIR/SELECTOR.DOMAIN.rsa.pem             RSA-2048\n"
	    "  DIR/SELECTOR-ed.DOMAIN.ed25519.pem      Ed25519 (RFC 8463)\n"
	    "and print their TXT records as zone-file lines: the RSA one goes at\n"
	    "SELECTOR._domainkey.DOMAIN, the Ed25519 one at SELECTOR-ed._domainkey.DOMAIN\n"
	    "(two selectors, one per key).  DIR defaults to the current directory.\n");
}

static void
usage_sign(FILE *f)
{
	fprintf(f,
	    "usage: talon dkim sign -d DOMAIN -s SELECTOR -k KEYFILE [-d DOMAIN2 -s SEL2 -k KEY2]\n"
	    "                       [FILE]\n"
	    "Read a message from FILE (or stdin) and write it to stdout with one\n"
	    "DKIM-Signature field per key prepended (relaxed/relaxed, rsa-sha256 or\n"
	    "ed25519-sha256 by key type), in the message's own line ends.  Give the RSA\n"
	    "and the Ed25519 key of `talon dkim keygen` to sign with both.\n");
}

static void
usage_verify(FILE *f)
{
	fprintf(f,
	    "usage: talon [-c CONF] dkim verify [FILE]\n"
	    "Verify every DKIM signature of the message in FILE (or stdin), fetching keys\n"
	    "through the resolver configured in CONF.  One line per signature:\n"
	    "  d=DOMAIN s=SELECTOR a=ALGORITHM: RESULT (reason)\n"
	    "Exit 0 when every signature passes, 1 otherwise (or with no signature).\n");
}

static void
usage(FILE *f)
{
	usage_keygen(f);
	usage_sign(f);
	usage_verify(f);
}

/* The whole of FILE (or stdin for NULL / "-") into b; -1 said on stderr. */
int
cli_read_all(const char *path, struct buf *b)
{
	FILE *f = (path == NULL || strcmp(path, "-") == 0) ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "talon: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;
		uint8_t *p = buf_space(b, 65536, &got);
		if (got == 0)
			break;
		size_t n = fread(p, 1, got, f);
		buf_commit(b, n);
		if (n == 0)
			break;
	}
	bool bad = ferror(f) || b->err || (b->len == b->max && fgetc(f) != EOF);
	if (f != stdin)
		fclose(f);
	if (bad) {
		fprintf(stderr, "talon: %s: read error or over %u bytes\n",
		    path ? path : "stdin", DKIM_CLI_MSG_MAX);
		return -1;
	}
	return 0;
}

static bool
dns_name_ok(const char *s)
{
	char tmp[LOOKUP_NAME_MAX + 1];
	if (*s == '\0' || strlen(s) > 200)
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '.' && *p != '-' && *p != '_')
			return false;
	return lookup_name_norm(tmp, s);
}

/* Create path (O_EXCL, 0600) and write key as PKCS#8 PEM. */
static int
write_key(const char *path, EVP_PKEY *key)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "talon dkim keygen: %s: %s%s\n", path, strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite a key)" : "");
		return -1;
	}
	(void)fchmod(fd, 0600);	/* whatever the umask did */
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(path);
		return -1;
	}
	bool ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	ok = (fflush(f) == 0) && ok && fsync(fileno(f)) == 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok) {
		fprintf(stderr, "talon dkim keygen: %s: write failed\n", path);
		unlink(path);
		return -1;
	}
	return 0;
}

/* NAME IN TXT ( "..." "..." ): character-strings of at most TXT_CHUNK. */
static void
print_txt(const char *owner, const char *txt)
{
	size_t n = strlen(txt);
	if (n <= TXT_CHUNK) {
		printf("%s. IN TXT \"%s\"\n", owner, txt);
		return;
	}
	printf("%s. IN TXT (", owner);
	for (size_t i = 0; i < n; i += TXT_CHUNK) {
		int k = (int)(n - i < TXT_CHUNK ? n - i : TXT_CHUNK);
		printf("%s\"%.*s\"", i == 0 ? " " : "\n\t", k, txt + i);
	}
	printf(" )\n");
}

static int
keygen(int argc, char **argv)
{
	const char *domain = NULL, *sel = NULL, *dir = ".";
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage_keygen(stdout);
			return 0;
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (argv[i][0] != '-' && domain == NULL) {
			domain = argv[i];
		} else if (argv[i][0] != '-' && sel == NULL) {
			sel = argv[i];
		} else {
			usage_keygen(stderr);
			return 2;
		}
	}
	if (domain == NULL || sel == NULL || !dns_name_ok(domain) || !dns_name_ok(sel)) {
		if (domain != NULL && sel != NULL)
			fprintf(stderr, "talon dkim keygen: bad domain or selector\n");
		usage_keygen(stderr);
		return 2;
	}
	char *rsa_path = xasprintf("%s/%s.%s.rsa.pem", dir, sel, domain);
	char *ed_path = xasprintf("%s/%s-ed.%s.ed25519.pem", dir, sel, domain);
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct buf t1, t2;
	buf_init(&t1, 4096);
	buf_init(&t2, 4096);
	int rc = 1;
	if (rsa == NULL || ed == NULL || dkim_key_txt(rsa, &t1) < 0 || dkim_key_txt(ed, &t2) < 0 ||
	    !buf_cstr(&t1) || !buf_cstr(&t2)) {
		fprintf(stderr, "talon dkim keygen: key generation failed\n");
		goto out;
	}
	/* both files or neither: a half-written pair would confuse a rerun */
	if (access(ed_path, F_OK) == 0) {
		fprintf(stderr, "talon dkim keygen: %s: exists (refusing to overwrite a key)\n",
		    ed_path);
		goto out;
	}
	if (write_key(rsa_path, rsa) < 0)
		goto out;
	if (write_key(ed_path, ed) < 0) {
		unlink(rsa_path);
		goto out;
	}
	printf("; DKIM keys for %s (dual signing, RFC 8463): two selectors, one per key\n",
	    domain);
	printf("; RSA-2048, selector %s, private key %s\n", sel, rsa_path);
	char *owner = xasprintf("%s._domainkey.%s", sel, domain);
	print_txt(owner, (const char *)t1.data);
	free(owner);
	printf("; Ed25519, selector %s-ed, private key %s\n", sel, ed_path);
	owner = xasprintf("%s-ed._domainkey.%s", sel, domain);
	print_txt(owner, (const char *)t2.data);
	free(owner);
	printf("; sign with: talon dkim sign -d %s -s %s -k %s -d %s -s %s-ed -k %s\n", domain,
	    sel, rsa_path, domain, sel, ed_path);
	rc = 0;
out:
	buf_free(&t1);
	buf_free(&t2);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	free(rsa_path);
	free(ed_path);
	return rc;
}

static int
sign(int argc, char **argv)
{
	const char *d[DKIM_CLI_SIGNERS], *s[DKIM_CLI_SIGNERS], *k[DKIM_CLI_SIGNERS];
	size_t nd = 0, ns = 0, nk = 0;
	const char *file = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0) {
			usage_sign(stdout);
			return 0;
		}
		bool opt = i + 1 < argc && (strcmp(a, "-d") == 0 || strcmp(a, "-s") == 0 ||
		    strcmp(a, "-k") == 0);
		if (opt && a[1] == 'd' && nd < DKIM_CLI_SIGNERS)
			d[nd++] = argv[++i];
		else if (opt && a[1] == 's' && ns < DKIM_CLI_SIGNERS)
			s[ns++] = argv[++i];
		else if (opt && a[1] == 'k' && nk < DKIM_CLI_SIGNERS)
			k[nk++] = argv[++i];
		else if ((a[0] != '-' || strcmp(a, "-") == 0) && file == NULL)
			file = a;
		else {
			usage_sign(stderr);
			return 2;
		}
	}
	if (nd == 0 || nd != ns || nd != nk) {
		fprintf(stderr, "talon dkim sign: give -d, -s and -k once per key\n");
		usage_sign(stderr);
		return 2;
	}
	struct dkim_signer sg[DKIM_CLI_SIGNERS] = { 0 };
	struct buf msg, out;
	char err[256];
	int rc = 1;
	buf_init(&msg, DKIM_CLI_MSG_MAX);
	buf_init(&out, 1 << 20);
	for (size_t i = 0; i < nd; i++) {
		sg[i] = (struct dkim_signer){ .domain = d[i], .selector = s[i],
		    .key = dkim_key_load(k[i], err, sizeof err) };
		if (sg[i].key == NULL) {
			fprintf(stderr, "talon dkim sign: %s\n", err);
			goto out;
		}
	}
	if (cli_read_all(file, &msg) < 0)
		goto out;
	/* keep the input's line ends: the first one decides */
	const uint8_t *lf = memchr(msg.data ? msg.data : (const uint8_t *)"", '\n', msg.len);
	const char *eol = (lf != NULL && lf > msg.data && lf[-1] == '\r') ? "\r\n" : "\n";
	if (dkim_sign(sg, nd, msg.data ? msg.data : (const uint8_t *)"", msg.len, time(NULL), eol,
	    &out, err, sizeof err) < 0) {
		fprintf(stderr, "talon dkim sign: %s\n", err);
		goto out;
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len ||
	    (msg.len > 0 && fwrite(msg.data, 1, msg.len, stdout) != msg.len) ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "talon dkim sign: write error\n");
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < nd; i++)
		EVP_PKEY_free(sg[i].key);
	buf_free(&msg);
	buf_free(&out);
	return rc;
}

/* The configured resolver, or NULL with the reason in err. */
static int
verify(const char *conf_path, int argc, char **argv)
{
	const char *file = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage_verify(stdout);
			return 0;
		}
		if (file != NULL || (argv[i][0] == '-' && argv[i][1] != '\0')) {
			usage_verify(stderr);
			return 2;
		}
		file = argv[i];
	}
	struct buf msg;
	buf_init(&msg, DKIM_CLI_MSG_MAX);
	if (cli_read_all(file, &msg) < 0) {
		buf_free(&msg);
		return 1;
	}
	struct mhdrs h;
	struct resolver *r = NULL;
	struct conf *c = NULL;
	struct dkim_verify *v = cli_dkim_check(conf_path, &msg, &h, &r, &c);
	size_t n = dkim_verify_count(v);
	int rc = n > 0 ? 0 : 1;
	if (n == 0)
		printf("no DKIM signature\n");
	for (size_t i = 0; i < n; i++) {
		const struct dkim_result *res = dkim_verify_result(v, i);
		char d[300], s[200], a[64];
		log_escape(d, sizeof d, res->domain, strlen(res->domain));
		log_escape(s, sizeof s, res->selector, strlen(res->selector));
		log_escape(a, sizeof a, res->algo, strlen(res->algo));
		printf("d=%s s=%s a=%s: %s (%s)%s%s\n", d, s, a, dkim_res_name(res->res), res->why,
		    res->testing ? " [key in test mode, t=y]" : "",
		    res->body_limited ? " [l=: only part of the body signed]" : "");
		if (res->res != DKIM_PASS)
			rc = 1;
	}
	if (dkim_verify_dropped(v) > 0)
		printf("%zu more signatures not checked\n", dkim_verify_dropped(v));
	resolver_free(&r);
	conf_free(&c);
	dkim_verify_free(&v);
	mhdrs_free(&h);
	buf_free(&msg);
	return rc;
}

int
cmd_dkim(const char *conf_path, int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "help") == 0) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	if (strcmp(argv[0], "keygen") == 0)
		return keygen(argc - 1, argv + 1);
	if (strcmp(argv[0], "sign") == 0)
		return sign(argc - 1, argv + 1);
	if (strcmp(argv[0], "verify") == 0)
		return verify(conf_path, argc - 1, argv + 1);
	fprintf(stderr, "talon dkim: unknown subcommand %s\n", argv[0]);
	usage(stderr);
	return 2;
}

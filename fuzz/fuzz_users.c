/*
 * fuzz/fuzz_users.c - libFuzzer harness for mail/users.c (read through
 * core/afile.c): the users file, the aliases file, aliases_check and
 * rcpt_resolve.
 *
 * Input:   "USERS\n%%\nALIASES\n%%\nLOCAL": the users file, the aliases
 *          file and a local part as the network would send it (missing
 *          parts are empty).  Local domains: example.org, example.net.
 * Checks:  users and aliases arrays strictly sorted, names valid and
 *          lowercase, the domain of every local@domain target valid for
 *          mail/domain.h; rcpt_resolve returns -1..RCPT_EXPAND_MAX distinct
 *          pointers into the users array, the same for the local part in
 *          upper case; when the files passed every check, every alias
 *          resolves to at least one user and every user that is not an
 *          alias resolves to itself (what aliases_check promises the smtp
 *          worker).  SCRAM keys of the extra field are in range and
 *          their stored form reads back the same.  No leaks (LeakSanitizer).
 * Seeds:   fuzz/corpus/users/, dictionary fuzz/users.dict.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/util.h"
#include "mail/domain.h"
#include "mail/users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const domains[] = { "example.org", "example.net" };

static const char SEP[] = "\n%%\n";

/* Cut [*p, end) at the next separator; returns the part's length. */
static size_t
part(const char **p, const char *end, const char **start)
{
	const char *s = *p;
	*start = s;
	if (s == NULL)
		return 0;
	const char *m = memmem(s, (size_t)(end - s), SEP, sizeof SEP - 1);
	if (m == NULL) {
		*p = NULL;
		return (size_t)(end - s);
	}
	*p = m + sizeof SEP - 1;
	return (size_t)(m - s);
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

static int
resolve_checked(const struct users *u, const struct aliases *a, const char *local,
    const char *out[RCPT_EXPAND_MAX])
{
	int n = rcpt_resolve(u, a, domains, 2, local, out);
	assert(n >= -1 && n <= RCPT_EXPAND_MAX);
	for (int i = 0; i < n; i++) {
		const struct user_ent *ue = users_find(u, out[i]);
		assert(ue != NULL && ue->name == out[i]);
		for (int j = 0; j < i; j++)
			assert(out[i] != out[j]);
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *us, *as, *ls;
	size_t ul = part(&p, end, &us);
	size_t al = part(&p, end, &as);
	size_t ll = part(&p, end, &ls);
	struct users u;
	struct aliases a;
	struct diag d;
	const char *out[RCPT_EXPAND_MAX], *out2[RCPT_EXPAND_MAX];

	diag_init(&d);
	int ru = users_parse(us ? us : "", ul, "users", &u, &d);
	unsigned e1 = d.n_err;
	int ra = aliases_parse(as ? as : "", al, "aliases", &a, &d);
	assert((ru == 0) == (e1 == 0));
	assert((ra == 0) == (d.n_err == e1));
	for (size_t i = 0; i < u.n; i++) {
		assert(name_ok(u.v[i].name) && u.v[i].hash != NULL);
		/* SCRAM keys in range, and their stored form reads back */
		const struct user_scram *k = u.v[i].scram;
		if (k != NULL) {
			char text[USERS_SCRAM_TEXT_MAX];
			struct user_scram back;
			const char *why;
			assert(k->iter >= USERS_SCRAM_ITER_MIN && k->iter <= USERS_SCRAM_ITER_MAX);
			assert(k->salt_len >= USERS_SCRAM_SALT_MIN &&
			    k->salt_len <= USERS_SCRAM_SALT_MAX);
			assert(users_scram_format(k, text, sizeof text));
			assert(users_scram_parse(text, strlen(text), &back, &why) == 0);
			assert(back.iter == k->iter && back.salt_len == k->salt_len &&
			    memcmp(back.salt, k->salt, k->salt_len) == 0 &&
			    memcmp(back.stored_key, k->stored_key, sizeof back.stored_key) == 0 &&
			    memcmp(back.server_key, k->server_key, sizeof back.server_key) == 0);
		}
		assert(i == 0 || strcmp(u.v[i - 1].name, u.v[i].name) < 0);
		assert(users_find(&u, u.v[i].name) == &u.v[i]);
	}
	for (size_t i = 0; i < a.n; i++) {
		assert(name_ok(a.v[i].name) && a.v[i].n_targets > 0);
		assert(i == 0 || strcmp(a.v[i - 1].name, a.v[i].name) < 0);
		for (size_t j = 0; j < a.v[i].n_targets; j++) {
			const char *at = strrchr(a.v[i].targets[j], '@');
			if (at != NULL)
				assert(domain_valid(at + 1, strlen(at + 1), 0));
		}
	}
	aliases_check(&a, &u, domains, 2, "aliases", &d);
	bool clean = d.n_err == 0;

	/* the local part from the network: any bytes up to a NUL */
	char *local = xstrndup(ls ? ls : "", ll);
	int n = resolve_checked(&u, &a, local, out);
	for (char *q = local; *q; q++)
		if (*q >= 'a' && *q <= 'z')
			*q = (char)(*q - 'a' + 'A');
	int n2 = resolve_checked(&u, &a, local, out2);
	assert(n == n2);
	for (int i = 0; i < n; i++)
		assert(out[i] == out2[i]);
	free(local);

	if (clean) {
		for (size_t i = 0; i < a.n; i++)
			assert(resolve_checked(&u, &a, a.v[i].name, out) >= 1);
		for (size_t i = 0; i < u.n; i++) {
			bool is_alias = false;
			for (size_t j = 0; j < a.n; j++)
				if (strcmp(a.v[j].name, u.v[i].name) == 0)
					is_alias = true;
			if (!is_alias) {
				assert(resolve_checked(&u, &a, u.v[i].name, out) == 1);
				assert(out[0] == u.v[i].name);
			}
		}
	}

	users_forget_hashes(&u);
	users_free(&u);
	aliases_free(&a);
	diag_free(&d);
	return 0;
}

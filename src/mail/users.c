/*
 * mail/users.c - the users file, the aliases file, and resolution of a
 * recipient's local part to mailbox names (rules in users.h).
 *
 * Input:   admin-written files, any bytes, read and split into lines by
 *          core/afile.c: lines end with LF (a CR before it is dropped), at
 *          most LINE_MAX_LEN bytes, no NUL.  rcpt_resolve() takes a local
 *          part straight from the network: any C string, any length, never
 *          trusted.
 * Output:  arrays sorted by name (looked up by binary search, O(log n) per
 *          name); every problem as "file:line: found ... (expected ...)".
 * Trusts:  nothing.  Runs in: parent and CLI (parse, check), smtp workers
 *          (rcpt_resolve, read-only after fork).
 * Not here: password verification (auth), delivery (queue), domain
 *          syntax and which domains are ours (mail/domain.c).
 *
 * Decisions (also in users.h): an uppercase user name in the users file is
 * an error, not silently lowercased, because the name is a directory under
 * the store and may be shared with Dovecot's passwd-file; alias names and
 * targets are lowercased because aliases(5) matches them without case.
 * Password hashes never appear in messages, only their scheme prefix; SCRAM
 * keys never, only which part of them is wrong.
 */
#include "mail/users.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/afile.h"
#include "core/b64.h"
#include "core/util.h"
#include "mail/domain.h"

#define LINE_MAX_LEN	4096		/* bytes per physical line, without LF */
#define FILE_MAX_LEN	(256u << 20)	/* a users file of ~2 million accounts */
#define NAME_MAX_LEN	64		/* user and alias names (RFC 5321 local part) */
#define ALIAS_DEPTH_MAX	8		/* nested aliases one expansion may pass */
#define ALIAS_VISITS_MAX 1024		/* aliases one expansion may open (fan-out) */
#define ALIAS_TARGETS_MAX 1024		/* targets one alias may list */

/* --- reading lines ------------------------------------------------------ */

static bool
is_blank_or_comment(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i == n || s[i] == '#';
}

/* --- names ---------------------------------------------------------------- */

static bool
is_lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* [a-z0-9][a-z0-9._-]* (plus '+' when allow_plus), 1..64 bytes. */
static bool
valid_name(const char *s, size_t n, bool allow_plus)
{
	bool ok = n > 0 && n <= NAME_MAX_LEN && is_lower_alnum(s[0]);
	for (size_t i = 1; ok && i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-' &&
		    !(allow_plus && s[i] == '+'))
			ok = false;
	return ok;
}

/* Lowercased copy of s[0..n) into key (NAME_MAX_LEN + 1 bytes); false when it
 * cannot be a name (empty, too long), so no lookup is needed. */
static bool
name_key(char key[NAME_MAX_LEN + 1], const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		key[i] = (char)ascii_lower((unsigned char)s[i]);
	key[n] = '\0';
	return true;
}

/* Binary search by hand: bsearch() with a NULL base and no elements is
 * undefined, and an empty users or aliases file is legitimate.  Both entry
 * types start with their name, so one search serves both tables. */
_Static_assert(offsetof(struct user_ent, name) == 0, "name first");
_Static_assert(offsetof(struct alias_ent, name) == 0, "name first");

static const void *
name_search(const void *base, size_t n, size_t stride, const char *key)
{
	const char *b = base;
	size_t lo = 0, hi = base ? n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *name = *(char *const *)(const void *)(b + mid * stride);
		int c = strcmp(key, name);
		if (c == 0)
			return b + mid * stride;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const struct user_ent *
user_lookup(const struct users *u, const char *key)
{
	return u ? name_search(u->v, u->n, sizeof *u->v, key) : NULL;
}

static const struct alias_ent *
alias_lookup(const struct aliases *a, const char *key)
{
	return a ? name_search(a->v, a->n, sizeof *a->v, key) : NULL;
}

/* The local part s[0..n), any case: an alias first, else a user; when the
 * full form is unknown and has a '+', the part before the first '+'. */
static void
lookup(const struct users *u, const struct aliases *a, const char *s, size_t n,
    const struct alias_ent **ap, const struct user_ent **up)
{
	char key[NAME_MAX_LEN + 1];
	*ap = NULL;
	*up = NULL;
	if (name_key(key, s, n)) {
		if ((*ap = alias_lookup(a, key)) != NULL)
			return;
		if ((*up = user_lookup(u, key)) != NULL)
			return;
	}
	const char *plus = memchr(s, '+', n);
	if (plus != NULL && name_key(key, s, (size_t)(plus - s))) {
		if ((*ap = alias_lookup(a, key)) != NULL)
			return;
		*up = user_lookup(u, key);
	}
}

/* --- users ------------------------------------------------------------------ */

static bool
is_crypt64(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '/';
}

static bool
all_crypt64(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_crypt64(s[i]))
			return false;
	return true;
}

/* $y$PARAMS$SALT$HASH: libxcrypt's yescrypt, a 43-character hash. */
static bool
valid_yescrypt(const char *h, size_t n)
{
	const char *p = h + 3, *end = h + n;
	const char *d1 = memchr(p, '$', (size_t)(end - p));
	if (d1 == NULL || d1 == p || !all_crypt64(p, (size_t)(d1 - p)))
		return false;
	const char *d2 = memchr(d1 + 1, '$', (size_t)(end - d1 - 1));
	if (d2 == NULL || !all_crypt64(d1 + 1, (size_t)(d2 - d1 - 1)))
		return false;
	return end - (d2 + 1) == 43 && all_crypt64(d2 + 1, 43);
}

/* $2b$NN$ + 22 salt + 31 hash characters, cost 04..31. */
static bool
valid_bcrypt(const char *h, size_t n)
{
	if (n != 60 || h[6] != '$' || h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9')
		return false;
	int cost = (h[4] - '0') * 10 + (h[5] - '0');
	return cost >= 4 && cost <= 31 && all_crypt64(h + 7, 53);
}

/* The password field h[0..n).  On success *val, *vlen is the hash without
 * its {SCHEME} prefix.  On failure returns a message that shows the scheme
 * or crypt prefix only, never the secret. */
static bool
check_hash(struct afile *r, const char *h, size_t n, const char **val, size_t *vlen)
{
	char e[AFILE_TOKEN_MAX];
	const char *v = h;
	size_t vl = n;
	if (n > 0 && h[0] == '{') {
		const char *rb = memchr(h, '}', n);
		if (rb == NULL) {
			afile_err(r, r->line, "unterminated {SCHEME} prefix (expected {CRYPT} or "
			    "{BLF-CRYPT})");
			return false;
		}
		size_t sl = (size_t)(rb - h) + 1;
		if (!(sl == 7 && ascii_memcaseeq(h, "{CRYPT}", 7)) &&
		    !(sl == 11 && ascii_memcaseeq(h, "{BLF-CRYPT}", 11))) {
			log_escape(e, sizeof e, h, sl);
			afile_err(r, r->line, "only yescrypt or bcrypt hashes are accepted (found "
			    "scheme %s; expected {CRYPT}$y$..., {BLF-CRYPT}$2b$... or nothing)", e);
			return false;
		}
		v = rb + 1;
		vl = n - sl;
	}
	if (vl == 0) {
		/* no password: the account receives mail but cannot log in */
	} else if (vl >= 3 && memcmp(v, "$y$", 3) == 0) {
		if (!valid_yescrypt(v, vl)) {
			afile_err(r, r->line, "malformed yescrypt hash (expected $y$PARAMS$SALT$ "
			    "and 43 characters of [./0-9A-Za-z], as crypt(3) writes it)");
			return false;
		}
	} else if (vl >= 4 && (memcmp(v, "$2b$", 4) == 0 || memcmp(v, "$2y$", 4) == 0)) {
		if (!valid_bcrypt(v, vl)) {
			afile_err(r, r->line, "malformed bcrypt hash (expected %.4sNN$ and 53 "
			    "characters of [./0-9A-Za-z])", v);
			return false;
		}
	} else if (v[0] == '$') {
		const char *d2 = vl > 1 ? memchr(v + 1, '$', vl - 1) : NULL;
		size_t pl = d2 && d2 - v < 16 ? (size_t)(d2 - v) + 1 : 1;
		log_escape(e, sizeof e, v, pl);
		afile_err(r, r->line, "only yescrypt or bcrypt hashes are accepted (found %s...; "
		    "expected $y$ or $2b$/$2y$)", e);
		return false;
	} else {
		afile_err(r, r->line, "only yescrypt or bcrypt hashes are accepted (found a value "
		    "that is not a crypt hash; expected $y$..., $2b$..., $2y$... or nothing)");
		return false;
	}
	*val = v;
	*vlen = vl;
	return true;
}

/* --- SCRAM keys in the extra field ------------------------------------------ */

/* Where the extra field starts: after the seventh ':' of the line, p the
 * ':' that ends the hash field (or end).  NULL when the line is shorter. */
static const char *
extra_field(const char *p, const char *end)
{
	/* the ':' after uid, gid, gecos, home and shell, then extra */
	for (int k = 0; k < 5; k++) {
		if (p == end)
			return NULL;
		p = memchr(p + 1, ':', (size_t)(end - p - 1));
		if (p == NULL)
			return NULL;
	}
	return p + 1;
}

/* One base64 part of the value into out (exactly want bytes, or min..max
 * when want is 0); false when it is not. */
static bool
scram_part(const char *s, size_t n, uint8_t *out, size_t min, size_t max, size_t *got)
{
	size_t len;
	if (b64_decode(s, n, out, max, &len) != B64_OK || len < min) {
		explicit_bzero(out, max);
		return false;
	}
	*got = len;
	return true;
}

int
users_scram_parse(const char *s, size_t n, struct user_scram *out, const char **why)
{
	const char *part[4];
	size_t plen[4], k = 0, b = 0, got;
	char num[16];
	uint64_t iter;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i <= n && k < 4; i++) {
		if (i == n || s[i] == ',') {
			part[k] = s + b;
			plen[k++] = i - b;
			b = i + 1;
		}
	}
	*why = "expected ITER,SALT,STOREDKEY,SERVERKEY";
	if (k != 4 || b != n + 1)
		goto fail;
	*why = "ITER is not a number from 4096 to 10000000";
	if (plen[0] == 0 || plen[0] >= sizeof num || part[0][0] == '0' ||
	    memchr(part[0], '\0', plen[0]) != NULL)
		goto fail;
	memcpy(num, part[0], plen[0]);
	num[plen[0]] = '\0';
	if (!parse_u64(num, USERS_SCRAM_ITER_MAX, &iter) || iter < USERS_SCRAM_ITER_MIN)
		goto fail;
	out->iter = (uint32_t)iter;
	*why = "SALT is not base64 of 8 to 64 bytes";
	if (!scram_part(part[1], plen[1], out->salt, USERS_SCRAM_SALT_MIN, USERS_SCRAM_SALT_MAX,
	    &out->salt_len))
		goto fail;
	*why = "STOREDKEY is not base64 of 32 bytes";
	if (!scram_part(part[2], plen[2], out->stored_key, USERS_SCRAM_KEY_LEN,
	    USERS_SCRAM_KEY_LEN, &got))
		goto fail;
	*why = "SERVERKEY is not base64 of 32 bytes";
	if (!scram_part(part[3], plen[3], out->server_key, USERS_SCRAM_KEY_LEN,
	    USERS_SCRAM_KEY_LEN, &got))
		goto fail;
	*why = NULL;
	return 0;
fail:
	explicit_bzero(out, sizeof *out);
	return -1;
}

bool
users_scram_format(const struct user_scram *k, char *out, size_t outsz)
{
	char salt[B64_ENC_LEN(USERS_SCRAM_SALT_MAX) + 1];
	char sk[B64_ENC_LEN(USERS_SCRAM_KEY_LEN) + 1], vk[sizeof sk];
	bool ok = k->iter >= USERS_SCRAM_ITER_MIN && k->iter <= USERS_SCRAM_ITER_MAX &&
	    k->salt_len >= USERS_SCRAM_SALT_MIN && k->salt_len <= USERS_SCRAM_SALT_MAX;
	if (ok) {
		b64_encode(k->salt, k->salt_len, salt, sizeof salt);
		b64_encode(k->stored_key, sizeof k->stored_key, sk, sizeof sk);
		b64_encode(k->server_key, sizeof k->server_key, vk, sizeof vk);
		int w = snprintf(out, outsz, "%u,%s,%s,%s", (unsigned)k->iter, salt, sk, vk);
		ok = w > 0 && (size_t)w < outsz;
	}
	if (!ok && outsz > 0)
		explicit_bzero(out, outsz);
	explicit_bzero(sk, sizeof sk);
	explicit_bzero(vk, sizeof vk);
	return ok;
}

void
users_scram_free(struct user_scram **kp)
{
	if (*kp == NULL)
		return;
	explicit_bzero(*kp, sizeof **kp);
	free(*kp);
	*kp = NULL;
}

/* The extra field x[0..n): pairs separated by blanks.  A scram-sha-256=
 * pair is checked and returned in *kp (allocated); others are ignored.
 * false after reporting an error (nothing allocated then). */
static bool
extra_scram(struct afile *r, const char *x, size_t n, struct user_scram **kp)
{
	static const char key[] = USERS_SCRAM_KEY;
	const size_t kl = sizeof key - 1;
	struct user_scram k;
	const char *why;
	*kp = NULL;
	for (size_t i = 0; i < n;) {
		while (i < n && (x[i] == ' ' || x[i] == '\t'))
			i++;
		size_t b = i;
		while (i < n && x[i] != ' ' && x[i] != '\t')
			i++;
		if (i - b < kl || memcmp(x + b, key, kl) != 0)
			continue;
		if (*kp != NULL) {
			afile_err(r, r->line, "more than one %s pair (expected at most one)", key);
			goto fail;
		}
		if (users_scram_parse(x + b + kl, i - b - kl, &k, &why) < 0) {
			/* the value is not echoed: it holds keys */
			afile_err(r, r->line, "malformed %s value (%s)", key, why);
			goto fail;
		}
		*kp = xmalloc(sizeof **kp);
		**kp = k;
		explicit_bzero(&k, sizeof k);
	}
	return true;
fail:
	users_scram_free(kp);
	return false;
}

static int
cmp_user(const void *x, const void *y)
{
	const struct user_ent *a = x, *b = y;
	int c = strcmp(a->name, b->name);
	if (c != 0)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

static void
parse_user_line(struct afile *r, const char *s, size_t n, struct users *out, size_t *cap)
{
	char e[AFILE_TOKEN_MAX];
	const char *colon = memchr(s, ':', n);
	if (colon == NULL) {
		/* the line is not echoed: it may be a password pasted by mistake */
		afile_err(r, r->line, "no ':' on the line (expected name:hash, where the hash "
		    "may be empty)");
		return;
	}
	size_t nl = (size_t)(colon - s);
	if (!valid_name(s, nl, false)) {
		log_escape(e, sizeof e, s, nl);
		bool upper = nl > 0 && nl <= NAME_MAX_LEN;
		bool has_upper = false;
		char low[NAME_MAX_LEN + 1];
		for (size_t i = 0; upper && i < nl; i++) {
			low[i] = (char)ascii_lower((unsigned char)s[i]);
			if (s[i] >= 'A' && s[i] <= 'Z')
				has_upper = true;
		}
		if (upper && has_upper && valid_name(low, nl, false)) {
			low[nl] = '\0';
			afile_err(r, r->line, "user name \"%s\" has uppercase letters (expected "
			    "lowercase: \"%s\"; the name is the mailbox directory)", e, low);
		} else {
			afile_err(r, r->line, "invalid user name \"%s\" (expected "
			    "[a-z0-9][a-z0-9._-]*, at most %d bytes)", e, NAME_MAX_LEN);
		}
		return;
	}
	const char *h = colon + 1, *end = s + n;
	const char *hend = memchr(h, ':', (size_t)(end - h));
	if (hend == NULL)
		hend = end;
	const char *v;
	size_t vl;
	if (!check_hash(r, h, (size_t)(hend - h), &v, &vl))
		return;
	struct user_scram *k = NULL;
	const char *x = extra_field(hend, end);
	if (x != NULL && !extra_scram(r, x, (size_t)(end - x), &k))
		return;
	if (k != NULL && vl == 0)
		afile_warn(r, r->line, "SCRAM keys on an account without a password hash are not "
		    "used (no hash, no login)");
	if (out->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		out->v = xreallocarray(out->v, *cap, sizeof *out->v);
	}
	struct user_ent *ue = &out->v[out->n++];
	ue->name = xstrndup(s, nl);
	ue->hash = xstrndup(v, vl);
	ue->scram = k;
	ue->line = r->line;
}

static void
user_ent_clear(struct user_ent *ue)
{
	free(ue->name);
	if (ue->hash != NULL) {
		explicit_bzero(ue->hash, strlen(ue->hash));
		free(ue->hash);
	}
	users_scram_free(&ue->scram);
	ue->name = ue->hash = NULL;
}

/* Returns 0 when the file has no errors, -1 otherwise; out is overwritten
 * (not freed first) and holds the valid entries in either case. */
int
users_parse(const char *text, size_t len, const char *file, struct users *out, struct diag *d)
{
	struct afile r;
	const char *s;
	size_t n, cap = 0;

	afile_init(&r, text, len, file, LINE_MAX_LEN, d);
	out->v = NULL;
	out->n = 0;
	while (afile_next(&r, &s, &n)) {
		if (is_blank_or_comment(s, n))
			continue;
		parse_user_line(&r, s, n, out, &cap);
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_user);
	/* duplicates: the first line wins, every later one is an error */
	size_t w = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (w > 0 && strcmp(out->v[w - 1].name, out->v[i].name) == 0) {
			if (!r.stopped)
				afile_err(&r, out->v[i].line, "duplicate user \"%s\" (first at "
				    "line %u)", out->v[i].name, out->v[w - 1].line);
			user_ent_clear(&out->v[i]);
			continue;
		}
		out->v[w++] = out->v[i];
	}
	out->n = w;
	return r.n_err ? -1 : 0;
}

int
users_load(const char *file, struct users *out, struct diag *d)
{
	char *text;
	size_t len;
	out->v = NULL;
	out->n = 0;
	if (afile_read(file, FILE_MAX_LEN, "a users file", &text, &len, d) < 0)
		return -1;
	int rc = users_parse(text, len, file, out, d);
	afile_text_free(&text, len);	/* wiped: it held password hashes */
	return rc;
}

void
users_free(struct users *u)
{
	for (size_t i = 0; i < u->n; i++)
		user_ent_clear(&u->v[i]);
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

const struct user_ent *
users_find(const struct users *u, const char *name)
{
	char key[NAME_MAX_LEN + 1];
	if (name == NULL || !name_key(key, name, strlen(name)))
		return NULL;
	return user_lookup(u, key);
}

void
users_forget_hashes(struct users *u)
{
	for (size_t i = 0; i < u->n; i++) {
		users_scram_free(&u->v[i].scram);
		if (u->v[i].hash == NULL)
			continue;
		explicit_bzero(u->v[i].hash, strlen(u->v[i].hash));
		free(u->v[i].hash);
		u->v[i].hash = NULL;
	}
}

/* --- aliases -------------------------------------------------------------- */

struct apctx {
	struct afile r;
	struct aliases *out;
	size_t cap;
	struct alias_ent cur;	/* entry being read (continuation lines) */
	size_t tcap;
	bool in_entry;		/* continuation lines belong to cur */
	bool cur_bad;		/* the entry's first line was wrong: skip it all */
	bool cur_err;		/* some target was wrong */
};

static void
alias_ent_clear(struct alias_ent *ae)
{
	free(ae->name);
	for (size_t i = 0; i < ae->n_targets; i++)
		free(ae->targets[i]);
	free(ae->targets);
	memset(ae, 0, sizeof *ae);
}

static void
finish_entry(struct apctx *a)
{
	if (a->in_entry && !a->cur_bad) {
		if (a->cur.n_targets == 0) {
			if (!a->cur_err)
				afile_err(&a->r, a->cur.line, "alias \"%s\" has no targets "
				    "(expected \"%s: target[, target...]\")", a->cur.name,
				    a->cur.name);
			alias_ent_clear(&a->cur);
		} else {
			if (a->out->n == a->cap) {
				a->cap = a->cap ? a->cap * 2 : 16;
				a->out->v = xreallocarray(a->out->v, a->cap, sizeof *a->out->v);
			}
			a->out->v[a->out->n++] = a->cur;
		}
	} else {
		alias_ent_clear(&a->cur);
	}
	memset(&a->cur, 0, sizeof a->cur);
	a->tcap = 0;
	a->in_entry = a->cur_bad = a->cur_err = false;
}

/* One target t[0..n), as written.  Returns false after reporting it. */
static bool
add_target(struct apctx *a, const char *t, size_t n)
{
	char e[AFILE_TOKEN_MAX];
	const char *why = NULL;
	if (t[0] == '"')
		why = "quoted targets are not supported (expected a user or alias name, or "
		    "local@domain)";
	else if (t[0] == '|')
		why = "delivery to programs is not supported, on purpose (expected a user or "
		    "alias name, or local@domain)";
	else if (t[0] == '/')
		why = "delivery to files is not supported, on purpose (expected a user or alias "
		    "name, or local@domain)";
	else if (n >= 9 && ascii_memcaseeq(t, ":include:", 9))
		why = ":include: is not supported, on purpose (expected a user or alias name, "
		    "or local@domain)";
	else if (t[0] == '#')
		why = "a comment after targets (expected comments on lines of their own)";
	if (why == NULL) {
		char low[NAME_MAX_LEN + 256];
		const char *at = NULL;
		bool ok = n < sizeof low;
		for (size_t i = 0; ok && i < n; i++) {
			low[i] = (char)ascii_lower((unsigned char)t[i]);
			if (t[i] == '@')
				at = low + i;
		}
		if (ok) {
			low[n] = '\0';
			size_t ll = at ? (size_t)(at - low) : n;
			ok = valid_name(low, ll, true);
			/* the domain as SMTP would take it; whether it is ours is
			 * aliases_check's question */
			if (ok && at != NULL)
				ok = domain_valid(at + 1, (size_t)(low + n - at - 1), 0);
		}
		if (!ok)
			why = "invalid target (expected a user or alias name [a-z0-9][a-z0-9._+-]* "
			    "of at most 64 bytes, or local@domain)";
	}
	if (why != NULL) {
		log_escape(e, sizeof e, t, n);
		afile_err(&a->r, a->r.line, "\"%s\": %s", e, why);
		a->cur_err = true;
		return false;
	}
	if (a->cur.n_targets >= ALIAS_TARGETS_MAX) {
		afile_err(&a->r, a->r.line, "alias \"%s\" has more than %d targets", a->cur.name,
		    ALIAS_TARGETS_MAX);
		a->cur_err = true;
		return false;
	}
	if (a->cur.n_targets == a->tcap) {
		a->tcap = a->tcap ? a->tcap * 2 : 4;
		a->cur.targets = xreallocarray(a->cur.targets, a->tcap, sizeof *a->cur.targets);
	}
	char *c = xstrndup(t, n);
	ascii_strlower(c);
	a->cur.targets[a->cur.n_targets++] = c;
	return true;
}

/* Targets separated by commas and/or blanks; stops at the first bad one on
 * the line so that "|prog arg" gives one error, not two. */
static void
parse_targets(struct apctx *a, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (s[i] == ',' || s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n)
			break;
		size_t b = i;
		while (i < n && s[i] != ',' && s[i] != ' ' && s[i] != '\t')
			i++;
		if (!add_target(a, s + b, i - b))
			return;
	}
}

static void
parse_alias_line(struct apctx *a, const char *s, size_t n)
{
	char e[AFILE_TOKEN_MAX];
	if (s[0] == ' ' || s[0] == '\t') {
		if (!a->in_entry) {
			afile_err(&a->r, a->r.line, "continuation line without an alias before it "
			    "(expected \"name: target, ...\" first)");
			/* report it once, not for each following line */
			a->in_entry = a->cur_bad = true;
			return;
		}
		if (!a->cur_bad)
			parse_targets(a, s, n);
		return;
	}
	finish_entry(a);
	a->in_entry = true;
	const char *colon = memchr(s, ':', n);
	if (colon == NULL) {
		/* the start only: the line may be a users line pasted by mistake */
		log_escape(e, sizeof e, s, n > 32 ? 32 : n);
		afile_err(&a->r, a->r.line, "found \"%s\" without ':' (expected \"name: target[, "
		    "target...]\")", e);
		a->cur_bad = true;
		return;
	}
	size_t nl = (size_t)(colon - s);
	while (nl > 0 && (s[nl - 1] == ' ' || s[nl - 1] == '\t'))
		nl--;
	char low[NAME_MAX_LEN + 1];
	if (!name_key(low, s, nl) || !valid_name(low, nl, false)) {
		log_escape(e, sizeof e, s, nl);
		afile_err(&a->r, a->r.line, "invalid alias name \"%s\" (expected "
		    "[a-z0-9][a-z0-9._-]*, at most %d bytes, any case)", e, NAME_MAX_LEN);
		a->cur_bad = true;
		return;
	}
	a->cur.name = xstrdup(low);
	a->cur.line = a->r.line;
	parse_targets(a, colon + 1, (size_t)(s + n - colon - 1));
}

static int
cmp_alias(const void *x, const void *y)
{
	const struct alias_ent *a = x, *b = y;
	int c = strcmp(a->name, b->name);
	if (c != 0)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Returns 0 without errors (warnings allowed), -1 otherwise; out is
 * overwritten and holds the valid entries in either case. */
int
aliases_parse(const char *text, size_t len, const char *file, struct aliases *out,
    struct diag *d)
{
	struct apctx a;
	const char *s;
	size_t n;

	memset(&a, 0, sizeof a);
	afile_init(&a.r, text, len, file, LINE_MAX_LEN, d);
	a.out = out;
	out->v = NULL;
	out->n = 0;
	while (afile_next(&a.r, &s, &n)) {
		/* blank and comment lines neither end an entry nor continue it, as
		 * in Postfix; an indented line after them still continues */
		if (is_blank_or_comment(s, n))
			continue;
		parse_alias_line(&a, s, n);
	}
	finish_entry(&a);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_alias);
	/* the same name twice: the first wins, like sendmail's newaliases */
	size_t w = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (w > 0 && strcmp(out->v[w - 1].name, out->v[i].name) == 0) {
			diag_warn(d, file, out->v[i].line, "duplicate alias \"%s\" (first at line %u, "
			    "which is used; this one is ignored)", out->v[i].name, out->v[w - 1].line);
			alias_ent_clear(&out->v[i]);
			continue;
		}
		out->v[w++] = out->v[i];
	}
	out->n = w;
	return a.r.n_err ? -1 : 0;
}

int
aliases_load(const char *file, struct aliases *out, struct diag *d)
{
	char *text;
	size_t len;
	out->v = NULL;
	out->n = 0;
	if (afile_read(file, FILE_MAX_LEN, "an aliases file", &text, &len, d) < 0)
		return -1;
	int rc = aliases_parse(text, len, file, out, d);
	afile_text_free(&text, len);
	return rc;
}

void
aliases_free(struct aliases *a)
{
	for (size_t i = 0; i < a->n; i++)
		alias_ent_clear(&a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* --- expansion ---------------------------------------------------------------- */

enum xerr { XE_OK, XE_UNKNOWN, XE_REMOTE, XE_LOOP, XE_DEPTH, XE_TOO_MANY, XE_VISITS };

struct xctx {
	const struct users *u;
	const struct aliases *a;
	const char *const *domains;
	size_t n_domains;
	const char **out;
	int n_out;
	const struct alias_ent *stack[ALIAS_DEPTH_MAX + 1];
	unsigned depth;
	unsigned visits;
	enum xerr err;
	const struct alias_ent *err_alias;	/* whose target failed (unknown, remote) */
	const char *err_target;
	const struct alias_ent *loop_to;	/* XE_LOOP: the alias met again */
};

static void
add_user(struct xctx *x, const struct user_ent *ue)
{
	for (int i = 0; i < x->n_out; i++)
		if (x->out[i] == ue->name)
			return;
	if (x->n_out == RCPT_EXPAND_MAX) {
		x->err = XE_TOO_MANY;
		return;
	}
	x->out[x->n_out++] = ue->name;
}

/* Split target t into its local part: "local@ourdomain" -> "local".  false
 * when the domain is not ours. */
static bool
target_local(const struct xctx *x, const char *t, size_t *len)
{
	const char *at = strrchr(t, '@');
	if (at == NULL) {
		*len = strlen(t);
		return true;
	}
	*len = (size_t)(at - t);
	return domain_in_list(x->domains, x->n_domains, at + 1);
}

/*
 * Depth-first expansion of alias al into x->out.  A name that is already
 * being expanded further up (a loop) is delivered to the user of that
 * name when there is one: the "keep a copy" idiom (alice: alice, bob) that
 * sendmail and Postfix support.  Otherwise it is XE_LOOP.  No memoisation:
 * each call explores a tree, bounded by ALIAS_DEPTH_MAX levels and
 * ALIAS_VISITS_MAX alias openings, so a fan-out bomb costs at most that
 * much per recipient, and aliases_check() sees exactly what rcpt_resolve()
 * will do.
 */
static void
expand(struct xctx *x, const struct alias_ent *al)
{
	if (x->err != XE_OK)
		return;
	if (++x->visits > ALIAS_VISITS_MAX) {
		x->err = XE_VISITS;
		return;
	}
	if (x->depth == ALIAS_DEPTH_MAX) {
		x->stack[x->depth] = al;	/* for the message */
		x->err = XE_DEPTH;
		return;
	}
	x->stack[x->depth++] = al;
	for (size_t i = 0; i < al->n_targets && x->err == XE_OK; i++) {
		const char *t = al->targets[i];
		const struct alias_ent *ta;
		const struct user_ent *tu;
		size_t ll;
		if (!target_local(x, t, &ll)) {
			x->err = XE_REMOTE;
			x->err_alias = al;
			x->err_target = t;
			break;
		}
		lookup(x->u, x->a, t, ll, &ta, &tu);
		if (ta != NULL) {
			bool on_stack = false;
			for (unsigned k = 0; k < x->depth; k++)
				if (x->stack[k] == ta)
					on_stack = true;
			if (!on_stack) {
				expand(x, ta);
				continue;
			}
			if ((tu = user_lookup(x->u, ta->name)) == NULL) {
				x->err = XE_LOOP;
				x->loop_to = ta;
				break;
			}
		}
		if (tu == NULL) {
			x->err = XE_UNKNOWN;
			x->err_alias = al;
			x->err_target = t;
			break;
		}
		add_user(x, tu);
	}
	if (x->err == XE_OK)
		x->depth--;
}

static void
xctx_init(struct xctx *x, const struct users *u, const struct aliases *a,
    const char *const *domains, size_t n_domains, const char **out)
{
	memset(x, 0, sizeof *x);
	x->u = u;
	x->a = a;
	x->domains = domains;
	x->n_domains = n_domains;
	x->out = out;
}

int
rcpt_resolve(const struct users *u, const struct aliases *a,
    const char *const *domains, size_t n_domains,
    const char *local, const char *out[RCPT_EXPAND_MAX])
{
	const struct alias_ent *al;
	const struct user_ent *ue;
	struct xctx x;
	if (local == NULL)
		return 0;
	lookup(u, a, local, strlen(local), &al, &ue);
	if (ue != NULL) {
		out[0] = ue->name;
		return 1;
	}
	if (al == NULL)
		return 0;
	xctx_init(&x, u, a, domains, n_domains, out);
	expand(&x, al);
	/* an unknown or remote target is a config error aliases_check reports;
	 * answering -1 (451) keeps the mail instead of delivering to part of
	 * the list */
	return x.err == XE_OK ? x.n_out : -1;
}

static int
cmp_alias_line(const void *x, const void *y)
{
	const struct alias_ent *a = *(const struct alias_ent *const *)x;
	const struct alias_ent *b = *(const struct alias_ent *const *)y;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* "a -> b -> c" from the expansion stack, cut to fit. */
static void
chain_text(char *dst, size_t dstsz, const struct xctx *x, unsigned n, const char *last)
{
	size_t o = 0;
	dst[0] = '\0';
	for (unsigned i = 0; i <= n; i++) {
		const char *name = i < n ? x->stack[i]->name : last;
		int w = snprintf(dst + o, dstsz - o, "%s%s", i ? " -> " : "", name);
		if (w < 0 || (size_t)w >= dstsz - o)
			break;
		o += (size_t)w;
	}
}

void
aliases_check(const struct aliases *a, const struct users *u,
    const char *const *domains, size_t n_domains, const char *file, struct diag *d)
{
	const char *out[RCPT_EXPAND_MAX];
	char e[AFILE_TOKEN_MAX], chain[600];
	struct xctx x;

	/* report in file order, not name order */
	const struct alias_ent **byline = xcalloc(a->n ? a->n : 1, sizeof *byline);
	for (size_t i = 0; i < a->n; i++)
		byline[i] = &a->v[i];
	if (a->n > 1)
		qsort(byline, a->n, sizeof *byline, cmp_alias_line);

	for (size_t i = 0; i < a->n; i++) {
		const struct alias_ent *al = byline[i];
		bool bad = false;
		xctx_init(&x, u, a, domains, n_domains, out);
		/* the alias's own targets first, so each message lands on the
		 * alias that has the wrong target */
		for (size_t j = 0; j < al->n_targets; j++) {
			const char *t = al->targets[j];
			const struct alias_ent *ta;
			const struct user_ent *tu;
			size_t ll;
			log_escape(e, sizeof e, t, strlen(t));
			if (!target_local(&x, t, &ll)) {
				diag_err(d, file, al->line, "alias \"%s\": target \"%s\": forwarding to "
				    "remote addresses is not supported yet (expected a local domain)",
				    al->name, e);
				bad = true;
				continue;
			}
			lookup(u, a, t, ll, &ta, &tu);
			if (ta == NULL && tu == NULL) {
				diag_err(d, file, al->line, "alias \"%s\": target \"%s\" is neither a "
				    "user nor an alias", al->name, e);
				bad = true;
			}
		}
		if (bad)
			continue;
		expand(&x, al);
		switch (x.err) {
		case XE_OK:
		case XE_UNKNOWN:		/* reported at the alias that has it */
		case XE_REMOTE:
			break;
		case XE_LOOP:
			chain_text(chain, sizeof chain, &x, x.depth, x.loop_to->name);
			diag_err(d, file, al->line, "alias \"%s\" loops: %s (expected every "
			    "target to end at a user)", al->name, chain);
			break;
		case XE_DEPTH:
			chain_text(chain, sizeof chain, &x, x.depth, x.stack[x.depth]->name);
			diag_err(d, file, al->line, "alias \"%s\" nests too deep: %s (expected at "
			    "most %d levels of aliases)", al->name, chain, ALIAS_DEPTH_MAX);
			break;
		case XE_TOO_MANY:
			diag_err(d, file, al->line, "alias \"%s\" expands to more than %d users "
			    "(expected at most %d)", al->name, RCPT_EXPAND_MAX, RCPT_EXPAND_MAX);
			break;
		case XE_VISITS:
			diag_err(d, file, al->line, "alias \"%s\" opens more than %d aliases while "
			    "expanding (expected at most %d)", al->name, ALIAS_VISITS_MAX,
			    ALIAS_VISITS_MAX);
			break;
		}
	}
	free(byline);

	/* RFC 5321 4.5.1 (postmaster) and RFC 2142 (abuse) */
	static const char *const required[] = { "postmaster", "abuse" };
	for (size_t i = 0; i < NELEM(required); i++)
		if (alias_lookup(a, required[i]) == NULL && user_lookup(u, required[i]) == NULL)
			diag_err(d, file, 0, "\"%s\" is neither an alias nor a user (expected e.g. "
			    "\"%s: yourname\"; %s requires it)", required[i], required[i],
			    i == 0 ? "RFC 5321 4.5.1" : "RFC 2142");
}

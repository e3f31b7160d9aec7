/*
 * imap/search.c - IMAP SEARCH criteria: compiler and evaluator
 * (RFC 9051 6.4.4, 9 "search-key"; RFC 3501 6.4.4; RFC 7162 3.1.5;
 * RFC 5032; RFC 5182).
 *
 * Input:   the criteria as a tree of struct imap_arg from imap/parse.h
 *          (client text: untrusted), and per message the fields of
 *          struct search_msg plus, on demand, the stored message (sent by
 *          anyone: untrusted).
 * Output:  a program (struct search_prog) and a yes/no per message.
 * Trusts:  the caller's env and message numbers.  Runs in: mailbox.
 * Not here: CHARSET and RETURN options, the ESEARCH/SEARCH reply, the MIME
 *          structure and decoding (imap/mime.c), charset conversion
 *          (imap/charset.c), fuzzy or full-text indexes.
 *
 * The program is a tree in one array.  Every node has its first child and
 * its next sibling as indexes, so the compiler can splice and reorder
 * children without moving subtrees.  Keys are prefix operators over a
 * flat argument list ("OR FROM a NOT SEEN"), so the compiler reads the
 * arguments left to right with an explicit stack of open operators
 * (parenthesised list: until its elements run out; OR: two operands; NOT:
 * one); nodes are created in that order, a parent before its children.
 * Afterwards one backward pass (children before parents) merges an AND
 * into an AND parent and an OR into an OR parent, gives every node a
 * cost (flags and numbers < Date:/header keys < body keys) and sorts each
 * operator's children by cost, stably.  The evaluator walks the tree with
 * an explicit stack, stopping an AND at its first false operand and an OR
 * at its first true one, so expensive keys run last and often not at all.
 *
 * Message text is loaded, split into header fields (msgauth/header.h, the
 * same collector DKIM uses), decoded and folded only when a key first
 * needs it, and each step at most once per message.
 */
#include "imap/search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/util.h"
#include "imap/charset.h"
#include "imap/hdrtext.h"
#include "imap/mime.h"
#include "imap/seqset.h"
#include "msgauth/header.h"

#define NONE		UINT32_MAX
#define KEEP_MAX	(1u << 20)	/* scratch bytes kept between messages */
#define VALS_MAX	(16u << 20)	/* decoded header values of one message */
#define TEXT_MAX	(128u << 20)	/* BODY/TEXT's decoded text of one message */
#define PART_MAX	(64u << 20)	/* one part's decoded bytes */

enum op {
	OP_AND, OP_OR, OP_NOT,		/* operators: first..next children */
	OP_CONST,			/* b */
	OP_FLAGS,			/* def->mask, def->want */
	OP_KEYWORD,			/* u.kw, b: set wanted */
	OP_SEQ, OP_UID, OP_SAVED,	/* u.set */
	OP_LARGER, OP_SMALLER, OP_MODSEQ,	/* u.num */
	OP_BEFORE, OP_ON, OP_SINCE,	/* u.day, internal date */
	OP_SENTBEFORE, OP_SENTON, OP_SENTSINCE,	/* u.day, Date: field */
	OP_OLDER, OP_YOUNGER,		/* u.age */
	OP_HEADER, OP_BODY, OP_TEXT,	/* u.txt */
};

enum cost { COST_CHEAP, COST_HEADER, COST_BODY, N_COST };

enum argk {
	A_NONE, A_STRING, A_HEADER, A_DATE, A_NUM64, A_NZ32, A_SEQSET, A_KEYWORD, A_MODSEQ,
	A_NOT, A_OR,
};

struct keydef {
	const char *name;
	uint8_t op, arg;
	unsigned mask, want;	/* OP_FLAGS; OP_KEYWORD/OP_CONST: want is the value */
	const char *hname;	/* FROM and the like: the field */
};

#define F_(x) SEARCH_F_##x
static const struct keydef keys[] = {
	{ "ALL", OP_CONST, A_NONE, 0, 1, NULL },
	{ "ANSWERED", OP_FLAGS, A_NONE, F_(ANSWERED), F_(ANSWERED), NULL },
	{ "BCC", OP_HEADER, A_STRING, 0, 0, "Bcc" },
	{ "BEFORE", OP_BEFORE, A_DATE, 0, 0, NULL },
	{ "BODY", OP_BODY, A_STRING, 0, 0, NULL },
	{ "CC", OP_HEADER, A_STRING, 0, 0, "Cc" },
	{ "DELETED", OP_FLAGS, A_NONE, F_(DELETED), F_(DELETED), NULL },
	{ "DRAFT", OP_FLAGS, A_NONE, F_(DRAFT), F_(DRAFT), NULL },
	{ "FLAGGED", OP_FLAGS, A_NONE, F_(FLAGGED), F_(FLAGGED), NULL },
	{ "FROM", OP_HEADER, A_STRING, 0, 0, "From" },
	{ "HEADER", OP_HEADER, A_HEADER, 0, 0, NULL },
	{ "KEYWORD", OP_KEYWORD, A_KEYWORD, 0, 1, NULL },
	{ "LARGER", OP_LARGER, A_NUM64, 0, 0, NULL },
	{ "MODSEQ", OP_MODSEQ, A_MODSEQ, 0, 0, NULL },
	/* RFC 3501: \Recent and not \Seen */
	{ "NEW", OP_FLAGS, A_NONE, F_(RECENT) | F_(SEEN), F_(RECENT), NULL },
	{ "NOT", OP_NOT, A_NOT, 0, 0, NULL },
	{ "OLD", OP_FLAGS, A_NONE, F_(RECENT), 0, NULL },
	{ "OLDER", OP_OLDER, A_NZ32, 0, 0, NULL },
	{ "ON", OP_ON, A_DATE, 0, 0, NULL },
	{ "OR", OP_OR, A_OR, 0, 0, NULL },
	{ "RECENT", OP_FLAGS, A_NONE, F_(RECENT), F_(RECENT), NULL },
	{ "SEEN", OP_FLAGS, A_NONE, F_(SEEN), F_(SEEN), NULL },
	{ "SENTBEFORE", OP_SENTBEFORE, A_DATE, 0, 0, NULL },
	{ "SENTON", OP_SENTON, A_DATE, 0, 0, NULL },
	{ "SENTSINCE", OP_SENTSINCE, A_DATE, 0, 0, NULL },
	{ "SINCE", OP_SINCE, A_DATE, 0, 0, NULL },
	{ "SMALLER", OP_SMALLER, A_NUM64, 0, 0, NULL },
	{ "SUBJECT", OP_HEADER, A_STRING, 0, 0, "Subject" },
	{ "TEXT", OP_TEXT, A_STRING, 0, 0, NULL },
	{ "TO", OP_HEADER, A_STRING, 0, 0, "To" },
	{ "UID", OP_UID, A_SEQSET, 0, 0, NULL },
	{ "UNANSWERED", OP_FLAGS, A_NONE, F_(ANSWERED), 0, NULL },
	{ "UNDELETED", OP_FLAGS, A_NONE, F_(DELETED), 0, NULL },
	{ "UNDRAFT", OP_FLAGS, A_NONE, F_(DRAFT), 0, NULL },
	{ "UNFLAGGED", OP_FLAGS, A_NONE, F_(FLAGGED), 0, NULL },
	{ "UNKEYWORD", OP_KEYWORD, A_KEYWORD, 0, 0, NULL },
	{ "UNSEEN", OP_FLAGS, A_NONE, F_(SEEN), 0, NULL },
	{ "YOUNGER", OP_YOUNGER, A_NZ32, 0, 0, NULL },
};
#undef F_

struct node {
	uint8_t op;
	uint8_t cost;
	bool b;
	const struct keydef *def;	/* how it was spelled; NULL for lists,
					 * sequence sets and constants made at
					 * compile time */
	uint32_t first, next;		/* children (operators), next sibling */
	union {
		struct {
			int idx;
			char *name;
		} kw;
		struct seqset set;
		uint64_t num;
		int64_t day;
		struct {
			uint32_t n;
			int64_t limit;	/* now - n */
		} age;
		struct {
			char *name;	/* HEADER's field name, NUL-terminated */
			uint8_t *needle;	/* folded */
			size_t len;
		} txt;
	} u;
};

struct estk {
	uint32_t node, child;
};

/* A header field's decoded, folded value: vals[off, off + len); for an
 * address field also its addresses as mime_address_text writes them,
 * decoded and folded: vals[aoff, aoff + alen). */
struct fval {
	size_t off, len;
	size_t aoff, alen;
	bool done, adone;
};

/* What one evaluation has learnt about its message so far. */
struct mstate {
	const struct search_msg *m;
	int loaded;		/* 0 not yet, 1 raw/len valid, -1 load failed */
	const uint8_t *raw;
	size_t len;
	bool have_hdr;
	struct mhdrs h;
	struct fval *fv;
	size_t fv_cap;
	struct buf vals, tmp;
	bool folded;
	struct buf fold;	/* the header, then the body's decoded text, folded */
	size_t fold_body;	/* where the body starts in fold */
	struct buf part, conv;	/* one part decoded, then in UTF-8 */
	int dated;		/* 0 not yet, 1 date_day valid, -1 no usable Date: */
	int64_t date_day;
};

struct search_prog {
	struct node *nodes;
	size_t n, cap;
	struct estk *stk;	/* evaluation stack, depth entries */
	size_t depth;
	bool uses_modseq;
	struct mstate ms;
};

/* ---- small helpers -------------------------------------------------------- */

static int64_t
day_of(int64_t t)
{
	int64_t d = t / 86400;
	return (t % 86400 < 0) ? d - 1 : d;	/* floor, for dates before 1970 */
}

static bool
contains(const uint8_t *hay, size_t hlen, const uint8_t *needle, size_t nlen)
{
	if (nlen == 0)
		return true;
	if (hlen < nlen)
		return false;
	return memmem(hay, hlen, needle, nlen) != NULL;
}

static const struct keydef *
key_find(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < NELEM(keys); i++)
		if (strlen(keys[i].name) == len && ascii_memcaseeq(p, keys[i].name, len))
			return &keys[i];
	return NULL;
}

static const struct keydef *
key_named(const char *name)
{
	return key_find((const uint8_t *)name, strlen(name));
}

/* ---- compiling ------------------------------------------------------------ */

/* An operator whose operands are still being read. */
struct frame {
	uint32_t node;
	uint32_t last;		/* last child linked, or NONE */
	uint8_t need;		/* OR 2, NOT 1; 0: a list, done when its args are */
	uint8_t have;
	size_t src;		/* the frame whose argument list we read from */
	const struct imap_arg *args;	/* lists: the elements */
	size_t n, pos;
};

struct cc {
	struct search_prog *p;
	const struct search_env *env;
	const char *err;
	struct frame *f;
	size_t nf, capf;
	unsigned n_text;
};

static void
fail(struct cc *c, const char *why)
{
	if (c->err == NULL)
		c->err = why;
}

/* A new node linked as the next child of the innermost open operator. */
static uint32_t
new_node(struct cc *c, uint8_t op, const struct keydef *def)
{
	struct search_prog *p = c->p;
	if (c->err != NULL)
		return NONE;
	if (p->n >= SEARCH_NODES_MAX) {
		fail(c, "Too many search keys");
		return NONE;
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->nodes = xreallocarray(p->nodes, p->cap, sizeof *p->nodes);
	}
	uint32_t i = (uint32_t)p->n++;
	struct node *nd = &p->nodes[i];
	memset(nd, 0, sizeof *nd);
	nd->op = op;
	nd->def = def;
	nd->first = nd->next = NONE;
	if (op == OP_SEQ || op == OP_UID || op == OP_SAVED)
		seqset_init(&nd->u.set);
	if (c->nf > 0) {
		struct frame *f = &c->f[c->nf - 1];
		if (f->last == NONE)
			p->nodes[f->node].first = i;
		else
			p->nodes[f->last].next = i;
		f->last = i;
		f->have++;
	}
	return i;
}

static void
push_frame(struct cc *c, uint32_t node, uint8_t need, const struct imap_arg *args, size_t n)
{
	if (c->nf == c->capf) {
		c->capf = c->capf ? c->capf * 2 : 16;
		c->f = xreallocarray(c->f, c->capf, sizeof *c->f);
	}
	struct frame *f = &c->f[c->nf];
	*f = (struct frame){ .node = node, .last = NONE, .need = need, .args = args, .n = n };
	/* a list reads its own elements; OR and NOT read from the list
	 * they appear in */
	f->src = need == 0 ? c->nf : c->f[c->nf - 1].src;
	c->nf++;
	if (c->nf > c->p->depth)
		c->p->depth = c->nf;
}

static bool
frame_done(const struct frame *f)
{
	return f->need ? f->have >= f->need : f->pos >= f->n;
}

/* The next argument of the list the current key is in, or NULL (error). */
static const struct imap_arg *
next_arg(struct cc *c)
{
	if (c->err != NULL)
		return NULL;
	struct frame *s = &c->f[c->f[c->nf - 1].src];
	if (s->pos >= s->n) {
		fail(c, "Missing argument to search key");
		return NULL;
	}
	return &s->args[s->pos++];
}

/* A string argument: astring (RFC 9051 9), so an atom, NIL as the
 * text "NIL", a quoted string or a literal; not a ~{n} literal. */
static bool
arg_string(struct cc *c, const struct imap_arg *a, const uint8_t **p, size_t *len)
{
	if (a == NULL)
		return false;
	if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NIL && a->type != IMAP_ARG_QUOTED
	    && a->type != IMAP_ARG_LITERAL) || a->binary) {
		fail(c, "Invalid string in search key");
		return false;
	}
	if (a->len > SEARCH_NEEDLE_MAX) {
		fail(c, "Search string too long");
		return false;
	}
	*p = a->p;
	*len = a->len;
	return true;
}

/* A folded copy of the string, owned by the node. */
static void
set_needle(struct node *nd, const uint8_t *p, size_t len)
{
	nd->u.txt.needle = xmalloc(len ? len : 1);
	nd->u.txt.len = hdrtext_fold(nd->u.txt.needle, p, len);
}

/* field-name = 1*ftext, printable ASCII but ':' (RFC 5322 3.6.8). */
static bool
valid_field_name(const uint8_t *p, size_t len)
{
	if (len == 0 || len > SEARCH_HNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ':')
			return false;
	return true;
}

/* date-text = date-day "-" date-month "-" date-year (RFC 9051 9), the day
 * one or two digits, the year four; a day the month does not have is no
 * date. */
static bool
parse_date_text(const uint8_t *p, size_t len, int64_t *day)
{
	size_t i = 0;
	int d = 0, y = 0;
	while (i < len && i < 2 && p[i] >= '0' && p[i] <= '9')
		d = d * 10 + (p[i++] - '0');
	if (i == 0 || len - i != 9 || p[i] != '-' || p[i + 4] != '-')
		return false;
	int m = hdrtext_month(p + i + 1, 3);
	for (size_t k = i + 5; k < len; k++) {
		if (p[k] < '0' || p[k] > '9')
			return false;
		y = y * 10 + (p[k] - '0');
	}
	if (m == 0 || d < 1 || d > hdrtext_mdays(y, m))
		return false;
	*day = hdrtext_days(y, m, d);
	return true;
}

static void
leaf_date(struct cc *c, struct node *nd)
{
	const struct imap_arg *a = next_arg(c);
	if (a == NULL)
		return;
	if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED)
	    || !parse_date_text(a->p, a->len, &nd->u.day))
		fail(c, "Invalid date in search key");
}

/* number64 (RFC 9051 9): 0 to 2^63-1. */
static bool
arg_num64(const struct imap_arg *a, uint64_t *out)
{
	uint64_t v = 0;
	if (a == NULL || a->type != IMAP_ARG_ATOM || a->len == 0)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		if (a->p[i] < '0' || a->p[i] > '9')
			return false;
		if (v > (uint64_t)(INT64_MAX - (a->p[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(a->p[i] - '0');
	}
	*out = v;
	return true;
}

static void
leaf_num64(struct cc *c, struct node *nd)
{
	const struct imap_arg *a = next_arg(c);
	if (a != NULL && !arg_num64(a, &nd->u.num))
		fail(c, "Invalid number in search key");
}

/* YOUNGER, OLDER: an interval in seconds, nz-number (RFC 5032). */
static void
leaf_age(struct cc *c, struct node *nd)
{
	const struct imap_arg *a = next_arg(c);
	uint32_t n;
	if (a == NULL)
		return;
	if (!imap_arg_number(a, &n) || n == 0) {
		fail(c, "Invalid interval in search key");
		return;
	}
	nd->u.age.n = n;
	int64_t now = c->env->now;
	nd->u.age.limit = now < INT64_MIN + (int64_t)n ? INT64_MIN : now - (int64_t)n;
}

/* MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162
 * 3.1.5).  The entry names a flag's own mod-sequence; we keep one per
 * message, which the RFC allows, so the entry is checked and dropped. */
static void
leaf_modseq(struct cc *c, struct node *nd)
{
	const struct imap_arg *a = next_arg(c);
	if (a != NULL && a->type == IMAP_ARG_QUOTED) {
		const struct imap_arg *t = next_arg(c);
		if (t != NULL && !imap_arg_atom_is(t, "priv") && !imap_arg_atom_is(t, "shared")
		    && !imap_arg_atom_is(t, "all")) {
			fail(c, "Invalid MODSEQ entry type");
			return;
		}
		a = next_arg(c);
	}
	if (a != NULL && !arg_num64(a, &nd->u.num))
		fail(c, "Invalid mod-sequence in search key");
	c->p->uses_modseq = true;
}

/* ATOM-CHAR (RFC 9051 9): CHAR but atom-specials. */
static bool
is_atom_char(uint8_t b)
{
	return b > 0x20 && b < 0x7f && strchr("(){%*\"\\]", b) == NULL;
}

static const struct {
	const char *flag;
	const char *key, *unkey;
} sysflags[] = {
	{ "\\Seen", "SEEN", "UNSEEN" }, { "\\Answered", "ANSWERED", "UNANSWERED" },
	{ "\\Flagged", "FLAGGED", "UNFLAGGED" }, { "\\Deleted", "DELETED", "UNDELETED" },
	{ "\\Draft", "DRAFT", "UNDRAFT" }, { "\\Recent", "RECENT", "OLD" },
};

/* KEYWORD / UNKEYWORD flag-keyword.  A system flag becomes its flag key;
 * a keyword the mailbox does not have becomes a constant. */
static void
leaf_keyword(struct cc *c, struct node *nd)
{
	const struct imap_arg *a = next_arg(c);
	bool want = nd->def->want != 0;
	if (a == NULL)
		return;
	if (a->type == IMAP_ARG_ATOM && a->len > 1 && a->p[0] == '\\') {
		for (size_t i = 0; i < NELEM(sysflags); i++) {
			if (strlen(sysflags[i].flag) == a->len
			    && ascii_memcaseeq(a->p, sysflags[i].flag, a->len)) {
				nd->op = OP_FLAGS;
				nd->def = key_named(want ? sysflags[i].key : sysflags[i].unkey);
				return;
			}
		}
		fail(c, "Invalid keyword in search key");
		return;
	}
	/* NIL is an atom too, if an odd keyword name */
	bool ok = (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) && a->len > 0;
	for (size_t i = 0; ok && i < a->len; i++)
		ok = is_atom_char(a->p[i]);
	if (!ok) {
		fail(c, "Invalid keyword in search key");
		return;
	}
	int idx = c->env->keyword ? c->env->keyword(c->env->keyword_arg, a->p, a->len) : -1;
	if (idx < 0) {
		/* no message has it: KEYWORD matches none, UNKEYWORD all */
		nd->op = OP_CONST;
		nd->b = !want;
		nd->def = NULL;
		return;
	}
	nd->b = want;
	nd->u.kw.idx = idx;
	nd->u.kw.name = xstrndup((const char *)a->p, a->len);
}

/* A sequence set (bare, or after UID).  "$" is the saved result (UIDs,
 * whichever form it came in, RFC 5182 2.1); an empty set or an empty
 * saved result matches nothing. */
static void
leaf_set(struct cc *c, struct node *nd, const struct imap_arg *a, bool uid)
{
	const char *why = NULL;
	if (a == NULL)
		return;
	if (a->type != IMAP_ARG_ATOM) {
		fail(c, "Invalid sequence set");
		return;
	}
	uint32_t star = uid ? c->env->max_uid : c->env->max_seq;
	int rc = seqset_parse(&nd->u.set, a->p, a->len, star, &why);
	if (rc == SEQSET_BAD) {
		fail(c, why);
		return;
	}
	if (rc == SEQSET_SAVED) {
		nd->op = OP_SAVED;
		if (c->env->saved != NULL)
			seqset_copy(&nd->u.set, c->env->saved);
		seqset_normalize(&nd->u.set);
	} else {
		nd->op = uid ? OP_UID : OP_SEQ;
	}
	if (nd->u.set.n == 0) {
		seqset_free(&nd->u.set);
		nd->op = OP_CONST;
		nd->b = false;
		nd->def = NULL;
	}
}

static void
leaf_text(struct cc *c, struct node *nd)
{
	const uint8_t *name = NULL, *p;
	size_t nlen = 0, len;

	if (nd->def->arg == A_HEADER) {
		if (!arg_string(c, next_arg(c), &name, &nlen))
			return;
		if (!valid_field_name(name, nlen)) {
			fail(c, "Invalid header name in search key");
			return;
		}
	} else if (nd->def->hname != NULL) {
		name = (const uint8_t *)nd->def->hname;
		nlen = strlen(nd->def->hname);
	}
	if (!arg_string(c, next_arg(c), &p, &len))
		return;
	if (nd->op != OP_HEADER && ++c->n_text > SEARCH_TEXT_KEYS_MAX) {
		fail(c, "Too many BODY and TEXT keys");
		return;
	}
	if (name != NULL)
		nd->u.txt.name = xstrndup((const char *)name, nlen);
	set_needle(nd, p, len);
}

static uint8_t
op_cost(uint8_t op)
{
	switch (op) {
	case OP_HEADER:
	case OP_SENTBEFORE:
	case OP_SENTON:
	case OP_SENTSINCE:
		return COST_HEADER;
	case OP_BODY:
	case OP_TEXT:
		return COST_BODY;
	default:
		return COST_CHEAP;
	}
}

/* One key at argument a: a list or operator opens a frame; anything else
 * is a leaf that reads its own arguments. */
static void
compile_key(struct cc *c, const struct imap_arg *a)
{
	if (a->type == IMAP_ARG_LIST) {
		if (a->n == 0) {
			fail(c, "Empty list in search criteria");
			return;
		}
		uint32_t i = new_node(c, OP_AND, NULL);
		if (i != NONE)
			push_frame(c, i, 0, a->list, a->n);
		return;
	}
	if (a->type != IMAP_ARG_ATOM || a->len == 0) {
		fail(c, "Invalid search key");
		return;
	}
	uint8_t ch = a->p[0];
	if ((ch >= '0' && ch <= '9') || ch == '*' || ch == '$') {
		uint32_t i = new_node(c, OP_SEQ, NULL);
		if (i != NONE)
			leaf_set(c, &c->p->nodes[i], a, false);
		return;
	}
	const struct keydef *def = key_find(a->p, a->len);
	if (def == NULL) {
		fail(c, "Unknown search key");
		return;
	}
	uint32_t i = new_node(c, def->op, def);
	if (i == NONE)
		return;
	struct node *nd = &c->p->nodes[i];
	switch (def->arg) {
	case A_NOT:
		push_frame(c, i, 1, NULL, 0);
		break;
	case A_OR:
		push_frame(c, i, 2, NULL, 0);
		break;
	case A_NONE:
		nd->b = def->want != 0;		/* ALL */
		break;
	case A_STRING:
	case A_HEADER:
		leaf_text(c, nd);
		break;
	case A_DATE:
		leaf_date(c, nd);
		break;
	case A_NUM64:
		leaf_num64(c, nd);
		break;
	case A_NZ32:
		leaf_age(c, nd);
		break;
	case A_SEQSET:
		leaf_set(c, nd, next_arg(c), true);
		break;
	case A_KEYWORD:
		leaf_keyword(c, nd);
		break;
	case A_MODSEQ:
		leaf_modseq(c, nd);
		break;
	}
}

/*
 * Children before parents (higher index first): merge same-kind
 * operators into their parent, compute costs, sort each operator's
 * children by cost (stable, three buckets).
 */
static void
arrange(struct search_prog *p)
{
	for (size_t k = p->n; k-- > 0;) {
		struct node *x = &p->nodes[k];
		if (x->op == OP_NOT) {
			x->cost = p->nodes[x->first].cost;
			continue;
		}
		if (x->op != OP_AND && x->op != OP_OR) {
			x->cost = op_cost(x->op);
			continue;
		}
		uint32_t head[N_COST], tail[N_COST];
		for (int b = 0; b < N_COST; b++)
			head[b] = tail[b] = NONE;
		uint8_t cost = COST_CHEAP;
		uint32_t ch = x->first;
		while (ch != NONE) {
			struct node *cn = &p->nodes[ch];
			uint32_t after = cn->next;
			/* an AND inside an AND (or OR in OR) gives up its
			 * already arranged children to x */
			uint32_t run = cn->op == x->op ? cn->first : ch;
			uint32_t stop = cn->op == x->op ? NONE : after;
			if (cn->op == x->op)
				cn->first = NONE;
			while (run != stop) {
				struct node *r = &p->nodes[run];
				uint32_t rnext = r->next;
				r->next = NONE;
				if (tail[r->cost] == NONE)
					head[r->cost] = run;
				else
					p->nodes[tail[r->cost]].next = run;
				tail[r->cost] = run;
				if (r->cost > cost)
					cost = r->cost;
				run = rnext;
			}
			ch = after;
		}
		uint32_t first = NONE, last = NONE;
		for (int b = 0; b < N_COST; b++) {
			if (head[b] == NONE)
				continue;
			if (last == NONE)
				first = head[b];
			else
				p->nodes[last].next = head[b];
			last = tail[b];
		}
		x->first = first;
		x->cost = cost;
	}
}

int
search_compile(const struct imap_arg *args, size_t n, const struct search_env *env,
    struct search_prog **out, const char **why)
{
	struct cc c = { .env = env };
	c.p = xcalloc(1, sizeof *c.p);
	*out = NULL;

	if (n == 0)
		fail(&c, "Missing search criteria");
	uint32_t root = new_node(&c, OP_AND, NULL);
	if (root != NONE)
		push_frame(&c, root, 0, args, n);
	while (c.err == NULL && c.nf > 0) {
		struct frame *top = &c.f[c.nf - 1];
		if (frame_done(top)) {
			c.nf--;
			continue;
		}
		struct frame *s = &c.f[top->src];
		if (s->pos >= s->n) {
			fail(&c, "Missing operand of OR or NOT");
			break;
		}
		compile_key(&c, &s->args[s->pos++]);
	}
	free(c.f);
	if (c.err != NULL) {
		search_free(&c.p);
		*why = c.err;
		return -1;
	}
	arrange(c.p);
	c.p->stk = xreallocarray(NULL, c.p->depth, sizeof *c.p->stk);
	buf_init(&c.p->ms.vals, VALS_MAX);
	buf_init(&c.p->ms.tmp, VALS_MAX);
	buf_init(&c.p->ms.fold, TEXT_MAX);
	buf_init(&c.p->ms.part, PART_MAX);
	buf_init(&c.p->ms.conv, PART_MAX);
	*out = c.p;
	return 0;
}

void
search_free(struct search_prog **pp)
{
	struct search_prog *p = *pp;
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct node *nd = &p->nodes[i];
		switch (nd->op) {
		case OP_SEQ:
		case OP_UID:
		case OP_SAVED:
			seqset_free(&nd->u.set);
			break;
		case OP_KEYWORD:
			free(nd->u.kw.name);
			break;
		case OP_HEADER:
		case OP_BODY:
		case OP_TEXT:
			free(nd->u.txt.name);
			free(nd->u.txt.needle);
			break;
		default:
			break;
		}
	}
	free(p->nodes);
	free(p->stk);
	free(p->ms.fv);
	buf_free(&p->ms.vals);
	buf_free(&p->ms.tmp);
	buf_free(&p->ms.fold);
	buf_free(&p->ms.part);
	buf_free(&p->ms.conv);
	free(p);
	*pp = NULL;
}

bool
search_needs_text(const struct search_prog *p)
{
	return p->nodes[0].cost != COST_CHEAP;
}

bool
search_uses_modseq(const struct search_prog *p)
{
	return p->uses_modseq;
}

/* ---- the message, on demand ------------------------------------------------ */

static int
ensure_loaded(struct mstate *ms)
{
	if (ms->loaded == 0) {
		const uint8_t *raw = NULL;
		size_t len = 0;
		if (ms->m->load == NULL || ms->m->load(ms->m->arg, &raw, &len) != 0) {
			ms->loaded = -1;
		} else {
			ms->raw = raw != NULL ? raw : (const uint8_t *)"";
			ms->len = raw != NULL ? len : 0;
			ms->loaded = 1;
		}
	}
	return ms->loaded > 0 ? 0 : -1;
}

static int
ensure_headers(struct mstate *ms)
{
	if (ms->have_hdr)
		return 0;
	if (ensure_loaded(ms) < 0)
		return -1;
	mhdrs_init(&ms->h, 0);
	mhdrs_feed(&ms->h, ms->raw, ms->len);
	mhdrs_end(&ms->h);
	ms->have_hdr = true;
	if (ms->h.n > ms->fv_cap) {
		ms->fv = xreallocarray(ms->fv, ms->h.n, sizeof *ms->fv);
		ms->fv_cap = ms->h.n;
	}
	if (ms->h.n > 0)
		memset(ms->fv, 0, ms->h.n * sizeof *ms->fv);
	return 0;
}

/* Field i's value, unfolded, decoded and folded; valid until the next
 * call.  A value that does not fit VALS_MAX reads as empty. */
static const uint8_t *
field_value(struct mstate *ms, size_t i, size_t *len)
{
	struct fval *f = &ms->fv[i];
	if (!f->done) {
		size_t vlen, got = 0;
		char *v = mhdrs_value(&ms->h, i, &vlen);
		buf_reset(&ms->tmp);
		hdrtext_decode(&ms->tmp, (const uint8_t *)v, vlen);
		free(v);
		f->done = true;
		f->off = ms->vals.len;
		f->len = 0;
		if (!ms->tmp.err && ms->tmp.len > 0) {
			uint8_t *dst = buf_space(&ms->vals, ms->tmp.len, &got);
			if (dst != NULL && got >= ms->tmp.len) {
				f->len = hdrtext_fold(dst, ms->tmp.data, ms->tmp.len);
				buf_commit(&ms->vals, f->len);
			}
		}
	}
	*len = f->len;
	return f->len ? ms->vals.data + f->off : (const uint8_t *)"";
}

/* Append p[0..n) folded to b (cut when b is full). */
static void
put_folded(struct buf *b, const uint8_t *p, size_t n)
{
	size_t got = 0;
	uint8_t *dst = n ? buf_space(b, n, &got) : NULL;
	if (dst == NULL)
		return;
	if (got < n) {
		n = got;
		b->err = true;
	}
	buf_commit(b, hdrtext_fold(dst, p, n));
}

/* One piece of the body's text (mime_search_text): in UTF-8, folded,
 * and kept apart from the next by a line end so no match spans two. */
static void
put_piece(void *arg, const char *charset, const uint8_t *p, size_t n)
{
	struct mstate *ms = arg;
	buf_reset(&ms->conv);
	if (charset == NULL)
		hdrtext_decode(&ms->conv, p, n);
	else
		charset_to_utf8(charset, p, n, &ms->conv);
	put_folded(&ms->fold, ms->conv.data, ms->conv.len);
	buf_putc(&ms->fold, '\n');
}

/* The header folded, then the body's text decoded (MIME transfer
 * encodings undone, charsets converted) and folded, once per message,
 * for BODY and TEXT. */
static int
ensure_folded(struct mstate *ms)
{
	if (ms->folded)
		return 0;
	if (ensure_headers(ms) < 0)
		return -1;
	size_t body = ms->h.body_off < ms->len ? (size_t)ms->h.body_off : ms->len;
	put_folded(&ms->fold, ms->raw, body);
	ms->fold_body = ms->fold.len;
	struct mime_msg *mm = NULL;
	if (mime_parse(ms->raw, ms->len, &mm) == 0) {
		mime_search_text(mm, &ms->part, put_piece, ms);
		mime_free(&mm);
	}
	ms->folded = true;
	return 0;
}

/* The Date: field's day as written: 1 found, 0 none usable, -1 no text. */
static int
ensure_date(struct mstate *ms)
{
	if (ms->dated == 0) {
		if (ensure_headers(ms) < 0)
			return -1;
		size_t i = mhdrs_find(&ms->h, 0, "Date");
		struct hdrtext_date d;
		ms->dated = -1;
		if (i < ms->h.n) {
			size_t vlen;
			char *v = mhdrs_value(&ms->h, i, &vlen);
			if (hdrtext_parse_date((const uint8_t *)v, vlen, &d)) {
				ms->date_day = hdrtext_days(d.year, d.mon, d.day);
				ms->dated = 1;
			}
			free(v);
		}
	}
	return ms->dated > 0 ? 1 : 0;
}

static bool
is_address_field(const char *name)
{
	static const char *const names[] = { "From", "To", "Cc", "Bcc", "Sender", "Reply-To" };
	for (size_t i = 0; i < NELEM(names); i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Address field i's addresses as mime_address_text writes them, decoded
 * and folded; valid until the next call. */
static const uint8_t *
address_value(struct mstate *ms, size_t i, size_t *len)
{
	struct fval *f = &ms->fv[i];
	if (!f->adone) {
		size_t vlen, got = 0;
		char *v = mhdrs_value(&ms->h, i, &vlen);
		buf_reset(&ms->part);
		buf_reset(&ms->tmp);
		mime_address_text((const uint8_t *)v, vlen, &ms->part, &ms->conv);
		free(v);
		hdrtext_decode(&ms->tmp, ms->part.data ? ms->part.data : (const uint8_t *)"",
		    ms->part.len);
		f->adone = true;
		f->aoff = ms->vals.len;
		f->alen = 0;
		if (!ms->tmp.err && ms->tmp.len > 0) {
			uint8_t *dst = buf_space(&ms->vals, ms->tmp.len, &got);
			if (dst != NULL && got >= ms->tmp.len) {
				f->alen = hdrtext_fold(dst, ms->tmp.data, ms->tmp.len);
				buf_commit(&ms->vals, f->alen);
			}
		}
	}
	*len = f->alen;
	return f->alen ? ms->vals.data + f->aoff : (const uint8_t *)"";
}

/* HEADER, FROM, TO...: the decoded field text, and for address fields
 * also the parsed addresses, so "user@domain.org" finds
 * "<user (comment)@ domain.org>" and "Name <user@domain.org>" finds
 * "user@domain.org (Name)". */
static int
match_header(struct mstate *ms, const struct node *nd)
{
	if (ensure_headers(ms) < 0)
		return -1;
	bool is_addr = nd->u.txt.len > 0 && is_address_field(nd->u.txt.name);
	for (size_t i = 0; i < ms->h.n; i++) {
		if (!mhdrs_is(&ms->h, i, nd->u.txt.name))
			continue;
		size_t len;
		const uint8_t *v = field_value(ms, i, &len);
		if (contains(v, len, nd->u.txt.needle, nd->u.txt.len))
			return 1;
		if (!is_addr)
			continue;
		v = address_value(ms, i, &len);
		if (contains(v, len, nd->u.txt.needle, nd->u.txt.len))
			return 1;
	}
	return 0;
}

static int
match_body(struct mstate *ms, const struct node *nd, bool with_header)
{
	if (ensure_folded(ms) < 0)
		return -1;
	size_t from = with_header ? 0 : ms->fold_body;
	if (contains(ms->fold.data + from, ms->fold.len - from, nd->u.txt.needle, nd->u.txt.len))
		return 1;
	if (!with_header)
		return 0;
	/* TEXT also sees the decoded form of encoded-words */
	for (size_t i = 0; i < ms->h.n; i++) {
		size_t len;
		const uint8_t *v = field_value(ms, i, &len);
		if (contains(v, len, nd->u.txt.needle, nd->u.txt.len))
			return 1;
	}
	return 0;
}

static int
match_sent(struct mstate *ms, const struct node *nd)
{
	int r = ensure_date(ms);
	if (r <= 0)
		return r;
	switch (nd->op) {
	case OP_SENTBEFORE:
		return ms->date_day < nd->u.day;
	case OP_SENTON:
		return ms->date_day == nd->u.day;
	default:
		return ms->date_day >= nd->u.day;
	}
}

static bool
has_keyword(const struct search_msg *m, int idx)
{
	size_t w = (size_t)idx / 64;
	return w < m->n_keywords && m->keywords != NULL && (m->keywords[w] >> (idx % 64) & 1);
}

/* One leaf: 1, 0, or -1 when the message text was needed and not there. */
static int
leaf(struct mstate *ms, const struct node *nd)
{
	const struct search_msg *m = ms->m;
	switch (nd->op) {
	case OP_CONST:
		return nd->b;
	case OP_FLAGS:
		return (m->flags & nd->def->mask) == nd->def->want;
	case OP_KEYWORD:
		return has_keyword(m, nd->u.kw.idx) == nd->b;
	case OP_SEQ:
		return seqset_contains(&nd->u.set, m->seq);
	case OP_UID:
	case OP_SAVED:
		return seqset_contains(&nd->u.set, m->uid);
	case OP_LARGER:
		return m->size > nd->u.num;
	case OP_SMALLER:
		return m->size < nd->u.num;
	case OP_MODSEQ:
		return m->modseq >= nd->u.num;
	case OP_BEFORE:
		return day_of(m->internaldate) < nd->u.day;
	case OP_ON:
		return day_of(m->internaldate) == nd->u.day;
	case OP_SINCE:
		return day_of(m->internaldate) >= nd->u.day;
	case OP_OLDER:
		return m->internaldate <= nd->u.age.limit;
	case OP_YOUNGER:
		return m->internaldate > nd->u.age.limit;
	case OP_SENTBEFORE:
	case OP_SENTON:
	case OP_SENTSINCE:
		return match_sent(ms, nd);
	case OP_HEADER:
		return match_header(ms, nd);
	case OP_BODY:
		return match_body(ms, nd, false);
	case OP_TEXT:
		return match_body(ms, nd, true);
	default:
		return 0;	/* operators never get here */
	}
}

static void
trim(struct buf *b)
{
	size_t max = b->max;
	if (b->cap > KEEP_MAX) {
		buf_free(b);
		buf_init(b, max);
	} else {
		buf_reset(b);
	}
}

static void
msg_end(struct mstate *ms)
{
	if (ms->have_hdr)
		mhdrs_free(&ms->h);
	ms->have_hdr = false;
	ms->loaded = 0;
	ms->folded = false;
	ms->dated = 0;
	ms->raw = NULL;
	ms->m = NULL;
	trim(&ms->vals);
	trim(&ms->tmp);
	trim(&ms->fold);
	trim(&ms->part);
	trim(&ms->conv);
}

int
search_eval(struct search_prog *p, const struct search_msg *m)
{
	struct mstate *ms = &p->ms;
	uint32_t cur = 0;
	size_t sp = 0;
	int r = 0;

	ms->m = m;
	for (;;) {
		const struct node *nd = &p->nodes[cur];
		if (nd->op <= OP_NOT) {
			p->stk[sp++] = (struct estk){ cur, nd->first };
			cur = nd->first;
			continue;
		}
		r = leaf(ms, nd);
		if (r < 0)
			goto out;
		/* climb until an operator has another operand to try */
		for (;;) {
			if (sp == 0)
				goto out;
			struct estk *f = &p->stk[sp - 1];
			uint8_t op = p->nodes[f->node].op;
			if (op == OP_NOT) {
				r = !r;
				sp--;
			} else if ((op == OP_AND) != (r != 0)) {
				sp--;	/* AND got a false, OR a true: decided */
			} else if (p->nodes[f->child].next == NONE) {
				sp--;	/* the last operand decided */
			} else {
				f->child = p->nodes[f->child].next;
				cur = f->child;
				break;
			}
		}
	}
out:
	msg_end(ms);
	return r;
}

/* ---- formatting -------------------------------------------------------------- */

/* A string as quoted when it is plain printable ASCII, else a literal. */
static void
put_string(struct buf *out, const uint8_t *p, size_t len)
{
	bool plain = true;
	for (size_t i = 0; i < len && plain; i++)
		plain = p[i] >= 0x20 && p[i] < 0x7f;
	if (!plain) {
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, p, len);
		return;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"' || p[i] == '\\')
			buf_putc(out, '\\');
		buf_putc(out, p[i]);
	}
	buf_putc(out, '"');
}

static void
put_day(struct buf *out, const char *key, int64_t day)
{
	int64_t y;
	int m, d;
	hdrtext_civil(day, &y, &m, &d);
	buf_printf(out, "%s %d-%s-%04lld", key, d, hdrtext_month_name(m), (long long)y);
}

static void
put_leaf(struct buf *out, const struct node *nd)
{
	const char *key = nd->def != NULL ? nd->def->name : "";
	switch (nd->op) {
	case OP_CONST:
		buf_puts(out, nd->b ? "ALL" : "NOT ALL");
		break;
	case OP_FLAGS:
		buf_puts(out, key);
		break;
	case OP_KEYWORD:
		buf_printf(out, "%s %s", key, nd->u.kw.name);
		break;
	case OP_SEQ:
		seqset_format(out, &nd->u.set);
		break;
	case OP_UID:
		buf_puts(out, "UID ");
		seqset_format(out, &nd->u.set);
		break;
	case OP_SAVED:
		buf_puts(out, "$");
		break;
	case OP_LARGER:
	case OP_SMALLER:
	case OP_MODSEQ:
		buf_printf(out, "%s %llu", key, (unsigned long long)nd->u.num);
		break;
	case OP_OLDER:
	case OP_YOUNGER:
		buf_printf(out, "%s %u", key, nd->u.age.n);
		break;
	case OP_HEADER:
	case OP_BODY:
	case OP_TEXT:
		buf_puts(out, key);
		buf_putc(out, ' ');
		if (nd->def->arg == A_HEADER) {
			put_string(out, (const uint8_t *)nd->u.txt.name, strlen(nd->u.txt.name));
			buf_putc(out, ' ');
		}
		put_string(out, nd->u.txt.needle, nd->u.txt.len);
		break;
	default:
		put_day(out, key, nd->u.day);
		break;
	}
}

/* Opening text of an operator; the root list has no parentheses. */
static void
put_open(struct buf *out, const struct search_prog *p, uint32_t i)
{
	const struct node *nd = &p->nodes[i];
	if (nd->op == OP_AND) {
		if (i != 0)
			buf_putc(out, '(');
	} else if (nd->op == OP_NOT) {
		buf_puts(out, "NOT ");
	} else {
		/* a merged n-ary OR prints as n-1 nested binary ones */
		for (uint32_t c = p->nodes[nd->first].next; c != NONE; c = p->nodes[c].next)
			buf_puts(out, "OR ");
	}
}

int
search_format(const struct search_prog *p, struct buf *out)
{
	struct estk *stk = xreallocarray(NULL, p->depth, sizeof *stk);
	size_t sp = 0;

	put_open(out, p, 0);
	stk[sp++] = (struct estk){ 0, p->nodes[0].first };
	while (sp > 0 && !out->err) {
		struct estk *f = &stk[sp - 1];
		if (f->child == NONE) {
			if (p->nodes[f->node].op == OP_AND && f->node != 0)
				buf_putc(out, ')');
			sp--;
			continue;
		}
		uint32_t c = f->child;
		if (c != p->nodes[f->node].first)
			buf_putc(out, ' ');
		f->child = p->nodes[c].next;
		if (p->nodes[c].op <= OP_NOT) {
			put_open(out, p, c);
			stk[sp++] = (struct estk){ c, p->nodes[c].first };
		} else {
			put_leaf(out, &p->nodes[c]);
		}
	}
	free(stk);
	return out->err ? -1 : 0;
}

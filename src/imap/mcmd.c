/*
 * imap/mcmd.c - the commands of the authenticated and selected states
 * (RFC 9051 6.3, 6.4): the dispatch table and the small ones.
 * Runs in: mailbox.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "imap/msession.h"
#include "mail/conf.h"

static void
cmd_capability(struct msession *s, struct imap_cmd *c)
{
	char cap[512];
	m_capability(s, cap, sizeof cap);
	m_reply(s, "* CAPABILITY %s", cap);
	m_tagged(s, c->tag, "OK CAPABILITY completed");
}

static void
cmd_noop(struct msession *s, struct imap_cmd *c)
{
	m_update(s, true);
	m_tagged(s, c->tag, "OK %s completed", c->name);
}

static void
cmd_logout(struct msession *s, struct imap_cmd *c)
{
	m_reply(s, "* BYE Logging out");
	m_tagged(s, c->tag, "OK LOGOUT completed");
	s->st = M_CLOSING;
}

static void
cmd_id(struct msession *s, struct imap_cmd *c)
{
	if (c->n_args != 1 || (c->args[0].type != IMAP_ARG_LIST &&
	    c->args[0].type != IMAP_ARG_NIL)) {
		m_tagged(s, c->tag, "BAD ID needs a list or NIL");
		return;
	}
	m_reply(s, "* ID (\"name\" \"Talon\")");
	m_tagged(s, c->tag, "OK ID completed");
}

/* RFC 5161; UTF8=ACCEPT (RFC 6855), IMAP4rev2 (RFC 9051), CONDSTORE and
 * QRESYNC (RFC 7162) change what we send; anything else is ignored, as
 * the RFC says. */
static void
cmd_enable(struct msession *s, struct imap_cmd *c)
{
	char on[96] = "";
	for (size_t i = 0; i < c->n_args; i++) {
		if (c->args[i].type != IMAP_ARG_ATOM) {
			m_tagged(s, c->tag, "BAD ENABLE takes capability names");
			return;
		}
		if (imap_arg_atom_is(&c->args[i], "UTF8=ACCEPT") && !s->utf8) {
			s->utf8 = true;
			strcat(on, " UTF8=ACCEPT");
		} else if (imap_arg_atom_is(&c->args[i], "IMAP4rev2") && !s->rev2) {
			s->rev2 = true;
			strcat(on, " IMAP4rev2");
		} else if (imap_arg_atom_is(&c->args[i], "CONDSTORE") && !s->condstore) {
			strcat(on, " CONDSTORE");
			m_condstore_on(s);
		} else if (imap_arg_atom_is(&c->args[i], "QRESYNC") && !s->qresync) {
			/* RFC 7162 3.2.3: QRESYNC implies CONDSTORE */
			s->qresync = true;
			strcat(on, " QRESYNC");
			if (!s->condstore && strstr(on, "CONDSTORE") == NULL)
				strcat(on, " CONDSTORE");
			m_condstore_on(s);
		}
	}
	m_reply(s, "* ENABLED%s", on);
	m_tagged(s, c->tag, "OK ENABLE completed");
}

/* One personal namespace, "/" as the separator (RFC 2342). */
static void
cmd_namespace(struct msession *s, struct imap_cmd *c)
{
	m_reply(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
	m_tagged(s, c->tag, "OK NAMESPACE completed");
}

/* CLOSE expunges \Deleted messages silently (RFC 9051 6.4.1); UNSELECT
 * does not (RFC 3691). */
static void
cmd_close(struct msession *s, struct imap_cmd *c, bool expunge)
{
	if (expunge && !s->mb->readonly) {
		for (size_t i = 0; i < s->mb->n; i++)
			if (s->mb->v[i].flags & MF_DELETED)
				mb_expunge(s->mb, i);
	}
	m_select(s, NULL, NULL);
	m_tagged(s, c->tag, "OK %s completed", c->name);
}

static void
cmd_idle(struct msession *s, struct imap_cmd *c)
{
	str_copy(s->tag, sizeof s->tag, c->tag);
	m_reply(s, "+ idling");
	s->st = M_IDLE;
	m_update(s, true);
}

void
m_idle_line(struct msession *s, const uint8_t *line, size_t len)
{
	s->st = M_CMD;
	if (len == 4 && ascii_memcaseeq(line, "DONE", 4)) {
		m_update(s, true);
		m_tagged(s, s->tag, "OK IDLE terminated");
	} else {
		m_tagged(s, s->tag, "BAD Expected DONE");
	}
}

/* RFC 4978: the OK goes out uncompressed, everything after it compressed. */
static void
cmd_compress(struct msession *s, struct imap_cmd *c)
{
	if (s->io.zip != NULL || s->deflate_pending) {
		m_tagged(s, c->tag, "NO [COMPRESSIONACTIVE] DEFLATE is already on");
		return;
	}
	if (!imap_arg_atom_is(&c->args[0], "DEFLATE")) {
		m_tagged(s, c->tag, "BAD Unknown compression (DEFLATE is offered)");
		return;
	}
	m_tagged(s, c->tag, "OK DEFLATE active");
	s->deflate_pending = true;
}

static bool
is(const struct imap_cmd *c, const char *name)
{
	return strcmp(c->name, name) == 0;
}

/* Commands of the selected state (RFC 9051 6.4) need a mailbox. */
static bool
needs_mailbox(const struct imap_cmd *c)
{
	static const char *const names[] = { "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "FETCH",
		"STORE", "SEARCH", "COPY", "MOVE", "SORT", "THREAD" };
	if (strncmp(c->name, "UID ", 4) == 0)
		return true;
	for (size_t i = 0; i < NELEM(names); i++)
		if (is(c, names[i]))
			return true;
	return false;
}

void
m_command(struct msession *s, struct imap_cmd *c)
{
	size_t n = c->n_args;
	if (s->mb == NULL && needs_mailbox(c)) {
		m_tagged(s, c->tag, "BAD No mailbox selected");
		return;
	}
	if (is(c, "CAPABILITY") && n == 0)
		cmd_capability(s, c);
	else if (is(c, "NOOP") && n == 0)
		cmd_noop(s, c);
	else if (is(c, "LOGOUT") && n == 0)
		cmd_logout(s, c);
	else if (is(c, "ID"))
		cmd_id(s, c);
	else if (is(c, "ENABLE") && n >= 1)
		cmd_enable(s, c);
	else if (is(c, "NAMESPACE") && n == 0)
		cmd_namespace(s, c);
	else if (is(c, "IDLE") && n == 0)
		cmd_idle(s, c);
	else if (is(c, "COMPRESS") && n == 1)
		cmd_compress(s, c);
	else if ((is(c, "SELECT") || is(c, "EXAMINE")) && n >= 1)
		m_cmd_select(s, c, is(c, "EXAMINE"));
	else if ((is(c, "LIST") && n >= 2) || (is(c, "LSUB") && n == 2))
		m_cmd_list(s, c, is(c, "LSUB"));
	else if (is(c, "CREATE") && n >= 1)
		m_cmd_create(s, c);
	else if (is(c, "DELETE") && n == 1)
		m_cmd_delete(s, c);
	else if (is(c, "RENAME") && n == 2)
		m_cmd_rename(s, c);
	else if ((is(c, "SUBSCRIBE") || is(c, "UNSUBSCRIBE")) && n == 1)
		m_cmd_subscribe(s, c, is(c, "SUBSCRIBE"));
	else if (is(c, "STATUS") && n == 2)
		m_cmd_status(s, c);
	else if (is(c, "APPEND") && n >= 2)
		m_cmd_append(s, c);
	else if (is(c, "CHECK") && n == 0)
		cmd_noop(s, c);
	else if ((is(c, "CLOSE") || is(c, "UNSELECT")) && n == 0)
		cmd_close(s, c, is(c, "CLOSE"));
	else if (is(c, "EXPUNGE") && n == 0)
		m_cmd_expunge(s, c, false);
	else if (is(c, "UID EXPUNGE") && n == 1)
		m_cmd_expunge(s, c, true);
	else if ((is(c, "FETCH") || is(c, "UID FETCH")) && n >= 2)
		m_cmd_fetch(s, c, is(c, "UID FETCH"));
	else if ((is(c, "STORE") || is(c, "UID STORE")) && n >= 3)
		m_cmd_store(s, c, is(c, "UID STORE"));
	else if ((is(c, "SEARCH") || is(c, "UID SEARCH")) && n >= 1)
		m_cmd_search(s, c, is(c, "UID SEARCH"));
	else if ((is(c, "SORT") || is(c, "UID SORT")) && n >= 3)
		m_cmd_sort(s, c, is(c, "UID SORT"));
	else if ((is(c, "THREAD") || is(c, "UID THREAD")) && n >= 3)
		m_cmd_thread(s, c, is(c, "UID THREAD"));
	else if ((is(c, "COPY") || is(c, "UID COPY")) && n == 2)
		m_cmd_copy(s, c, is(c, "UID COPY"), false);
	else if ((is(c, "MOVE") || is(c, "UID MOVE")) && n == 2)
		m_cmd_copy(s, c, is(c, "UID MOVE"), true);
	else if (is(c, "GETQUOTAROOT") && n == 1)
		m_cmd_getquotaroot(s, c);
	else if (is(c, "GETQUOTA") && n == 1)
		m_cmd_getquota(s, c);
	else if (is(c, "SETQUOTA") && n == 2)
		m_cmd_setquota(s, c);
	else if (is(c, "LOGIN") || is(c, "AUTHENTICATE") || is(c, "STARTTLS"))
		m_tagged(s, c->tag, "BAD Already logged in");
	else
		m_tagged(s, c->tag, "BAD Unknown command or wrong arguments");
}

/*
 * imap/mquota.c - QUOTA (RFC 9208), read-only: GETQUOTAROOT, GETQUOTA,
 * and the check APPEND and COPY make before storing.
 *
 * One quota root per user, named "" (every folder together, as Dovecot's
 * default "User quota" root covers them all), with one resource, STORAGE,
 * in units of 1024 octets, set by `limit mailbox-quota` (no limit: no
 * root, and GETQUOTAROOT names none).  Usage is counted afresh each time
 * (store/mailbox.h mb_usage: a readdir per folder, sizes from the file
 * names), so mutt deleting files on the box shows at once.  SETQUOTA is
 * the administrator's: refused with NO [NOPERM] (QUOTASET is not
 * offered).  Deliveries are held to it by the deliver process
 * (deliver/deliver.c: deferred, never lost).
 * Runs in: mailbox.
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "imap/msession.h"
#include "imap/mutf7.h"
#include "mail/conf.h"

static uint64_t
kib(uint64_t bytes)
{
	return bytes / 1024 + (bytes % 1024 != 0);
}

static void
put_quota(struct msession *s, uint64_t used)
{
	m_reply(s, "* QUOTA \"\" (STORAGE %llu %llu)", (unsigned long long)kib(used),
	    (unsigned long long)(MW.conf->quota_bytes / 1024));
}

void
m_cmd_getquotaroot(struct msession *s, struct imap_cmd *c)
{
	char name[MAILBOX_NAME_MAX * 4 + 1];
	if (!m_mailbox_arg(s, c->tag, &c->args[0], name, sizeof name))
		return;
	struct mailbox *mb = m_open_mailbox(s, c->tag, name, MB_RO);
	if (mb == NULL)
		return;
	mb_close(&mb);
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "* QUOTAROOT ");
	m_mailbox_name(s, &b, name);
	if (MW.conf->quota_bytes != 0)
		buf_puts(&b, " \"\"");
	buf_cstr(&b);
	m_reply(s, "%s", b.err ? "* QUOTAROOT INBOX" : (char *)b.data);
	buf_free(&b);
	uint64_t used, n;
	if (MW.conf->quota_bytes != 0 && mb_usage(s->maildir_fd, &used, &n) == 0)
		put_quota(s, used);
	m_tagged(s, c->tag, "OK GETQUOTAROOT completed");
}

void
m_cmd_getquota(struct msession *s, struct imap_cmd *c)
{
	char root[64];
	uint64_t used, n;
	if (!m_astring_arg(&c->args[0], root, sizeof root)) {
		m_tagged(s, c->tag, "BAD GETQUOTA takes a quota root name");
		return;
	}
	if (root[0] != '\0' || MW.conf->quota_bytes == 0) {
		m_tagged(s, c->tag, "NO [NONEXISTENT] No such quota root");
		return;
	}
	if (mb_usage(s->maildir_fd, &used, &n) < 0) {
		m_tagged(s, c->tag, "NO [SERVERBUG] Cannot count the mailbox's size");
		return;
	}
	put_quota(s, used);
	m_tagged(s, c->tag, "OK GETQUOTA completed");
}

void
m_cmd_setquota(struct msession *s, struct imap_cmd *c)
{
	m_tagged(s, c->tag, "NO [NOPERM] Quotas are set by the administrator");
}

bool
m_quota_room(struct msession *s, const char *tag, uint64_t adding)
{
	uint64_t used, n;
	if (MW.conf->quota_bytes == 0)
		return true;
	if (mb_usage(s->maildir_fd, &used, &n) < 0 || used + adding <= MW.conf->quota_bytes)
		return true;	/* an unreadable store is not "full": the write will tell */
	log_info("mailbox session=%s event=quota user=%s used=%llu adding=%llu limit=%llu",
	    s->sid, s->user, (unsigned long long)used, (unsigned long long)adding,
	    (unsigned long long)MW.conf->quota_bytes);
	m_tagged(s, tag, "NO [OVERQUOTA] Quota exceeded (mailbox-quota %llu KiB, %llu KiB used)",
	    (unsigned long long)(MW.conf->quota_bytes / 1024), (unsigned long long)kib(used));
	return false;
}

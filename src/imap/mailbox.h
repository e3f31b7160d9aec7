/*
 * imap/mailbox.h - the mailbox process: IMAP sessions after login.
 *
 * The login front (imap/imap.h) keeps each client's TLS and relays its
 * plain bytes over a socketpair; this process runs as the store's owner
 * and speaks IMAP on the other end.  It learns who the session is from
 * the auth process (a LOGIN_GRANT with a one-time token), never from the
 * front.  The parent gives it the store directory; it is not chrooted
 * (inotify watches are added through /proc/self/fd).
 */
#ifndef TALON_IMAP_MAILBOX_H
#define TALON_IMAP_MAILBOX_H

struct conf;

void mailbox_main(const struct conf *conf, int parent_fd, int store_fd)
    __attribute__((noreturn));

#endif

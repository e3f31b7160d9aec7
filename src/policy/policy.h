/*
 * policy/policy.h - the policy process: answers what a session asks that
 * needs shared state (today: connection admission; later the resolver,
 * access map, blocklists, greylisting and bans).
 */
#ifndef TALON_POLICY_H
#define TALON_POLICY_H

/* Never returns.  parent_fd: channel to the parent, which sends the
 * settings first, then channels to the smtp workers. */
void policy_main(int parent_fd) __attribute__((noreturn));

#endif

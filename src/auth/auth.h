/*
 * auth/auth.h - the auth process (auth/auth.c): password checks for the
 * imap process, with the only copy of the password hashes.
 */
#ifndef TALON_AUTH_AUTH_H
#define TALON_AUTH_AUTH_H

void auth_main(int parent_fd) __attribute__((noreturn));

#endif

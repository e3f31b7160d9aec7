/*
 * policy/accessmap.h - the policy process's access map: the file, its
 * reloads, and the answers to ACCESS requests (policy/accessmap.c).
 * Runs in: policy.
 */
#ifndef TALON_POLICY_ACCESSMAP_H
#define TALON_POLICY_ACCESSMAP_H

#include "proto/smtp_policy.h"

struct loop;

/* Use the map at path (NULL or "": none).  Loads it now, then checks the
 * file every second. */
void accessmap_set(struct loop *loop, const char *path);
void accessmap_free(void);
/* The answer to one question; action ACCESS_NONE when nothing matched or
 * there is no map. */
void accessmap_ask(const struct proto_access *q, struct proto_access_reply *out);

#endif

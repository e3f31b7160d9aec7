/*
 * daemon/zones.h - the parent loads the authoritative zones of a config
 * generation and keeps each as a sealed memfd for the dns process.
 *
 * The parent reads zone files as it reads every other admin-written file
 * (they are config, not network input).  A zone that does not load keeps
 * the version in force, with the problem logged as file:line; at start it
 * is not served.  Runs in: parent.
 */
#ifndef TALON_DAEMON_ZONES_H
#define TALON_DAEMON_ZONES_H

#include "daemon/role.h"

/* Fill g->zones from g->conf->zones; old is the generation in force (NULL
 * at start). */
void zones_load(struct gen *g, const struct gen *old);
void zones_free(struct gen *g);

#endif

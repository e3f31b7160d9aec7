/*
 * policy/lookups.h - the DNS work the policy process does for sessions:
 * SPF evaluations, forward-confirmed reverse names, and TXT lookups for
 * DKIM keys and DMARC records, all over the one shared resolver (one
 * cache for every worker).
 *
 * A job belongs to a worker channel and a request id; it answers on that
 * channel when done.  A channel that closes takes its jobs with it (their
 * lookups are cancelled).  Runs in: policy.
 */
#ifndef TALON_POLICY_LOOKUPS_H
#define TALON_POLICY_LOOKUPS_H

#include <stdint.h>
#include <sys/socket.h>

struct ipc;
struct resolver;
struct proto_spf;
struct proto_lookup;

/* The resolver jobs use from now on (NULL: none, every lookup TEMPFAILs).
 * Jobs already running keep theirs: a resolver set aside is freed when its
 * last job ends.  hostname: ours, for SPF's %{r}. */
void lookups_set_resolver(struct resolver *r, const char *hostname);
void lookups_spf(struct ipc *c, uint32_t chan, uint64_t id, const struct proto_spf *q);
void lookups_rdns(struct ipc *c, uint32_t chan, uint64_t id,
    const struct sockaddr_storage *ss, socklen_t len);
void lookups_txt(struct ipc *c, uint32_t chan, uint64_t id, const struct proto_lookup *q);
/* The blocklists (policy/dnsbl.h) for the client address and domains of
 * q, all lists at once; one DNSBL_REPLY when every answer is in: the
 * first list in config order that lists, or not listed.  A list that
 * cannot answer counts as not listing (logged, counted in `failed`). */
struct proto_dnsbl;
struct proto_bl;
struct prefix;
void lookups_dnsbl(struct ipc *c, uint32_t chan, uint64_t id, const struct proto_dnsbl *q,
    const struct prefix *client, const struct proto_bl *lists, size_t n_lists);
/* The channel closed: cancel and free its jobs. */
void lookups_drop_chan(uint32_t chan);
/* Jobs running (for the log at exit and tests of the bound). */
size_t lookups_running(void);
void lookups_shutdown(void);

#endif

/*
 * proto/dns.h - the parent hands the dns process its zones.
 *
 *   DNS_ZONE  parent -> dns   generation, index, count, origin (text), the
 *                             stream's length, the prefixes allowed to
 *                             transfer it, the addresses to NOTIFY of a
 *                             new serial; fd = a sealed memfd holding
 *                             the record stream (dns/zone.h).  count zones
 *                             make one generation; with count 0 there is
 *                             one message and no fd (no zones).
 *
 * The memfd is sealed against writes, growing and shrinking before it is
 * sent, so what the dns process maps cannot change under it.
 * Runs in: parent, dns.
 */
#ifndef TALON_PROTO_DNS_H
#define TALON_PROTO_DNS_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "proto/proto.h"

struct ipc;
struct ipc_msg;

#define PROTO_DNS_ZONES_MAX	4096
#define PROTO_DNS_ORIGIN_MAX	1024	/* presentation text, escaped */

#define PROTO_DNS_PEERS_MAX	64

struct proto_dns_prefix {
	uint8_t family;		/* 4 or 6 */
	uint8_t len;		/* bits */
	uint8_t addr[16];
};

struct proto_dns_zone {
	uint32_t gen, index, count;
	uint32_t rate;		/* responses per second per client prefix; 0: no limit */
	uint64_t len;		/* the record stream, at the start of the memfd */
	uint64_t jlen;		/* the IXFR journal after it (dns/zone.h) */
	char origin[PROTO_DNS_ORIGIN_MAX];
	uint32_t n_allow, n_notify;
	struct proto_dns_prefix allow[PROTO_DNS_PEERS_MAX];	/* may transfer the zone */
	struct sockaddr_storage notify[PROTO_DNS_PEERS_MAX];	/* told of new serials */
	socklen_t notify_len[PROTO_DNS_PEERS_MAX];
	/* transfers need this TSIG key (HMAC-SHA256) when key_len > 0 */
	char key_name[PROTO_DNS_ORIGIN_MAX];
	uint32_t key_len;
	uint8_t key[64];
};

void proto_dns_zone_enc(struct buf *b, const struct proto_dns_zone *v);
/* index < count <= PROTO_DNS_ZONES_MAX (or both 0), an fd with count > 0 */
int proto_dns_zone_dec(const struct ipc_msg *m, struct proto_dns_zone *v);
void proto_dns_zone_send(struct ipc *c, int fd, const struct proto_dns_zone *v);

#endif

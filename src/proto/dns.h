/*
 * proto/dns.h - the parent hands the dns process its zones.
 *
 *   DNS_ZONE  parent -> dns   generation, index, count, origin (text), the
 *                             stream's length; fd = a sealed memfd holding
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

#include "core/buf.h"
#include "proto/proto.h"

struct ipc;
struct ipc_msg;

#define PROTO_DNS_ZONES_MAX	4096
#define PROTO_DNS_ORIGIN_MAX	1024	/* presentation text, escaped */

struct proto_dns_zone {
	uint32_t gen, index, count;
	uint64_t len;
	char origin[PROTO_DNS_ORIGIN_MAX];
};

void proto_dns_zone_enc(struct buf *b, const struct proto_dns_zone *v);
/* index < count <= PROTO_DNS_ZONES_MAX (or both 0), an fd with count > 0 */
int proto_dns_zone_dec(const struct ipc_msg *m, struct proto_dns_zone *v);
void proto_dns_zone_send(struct ipc *c, int fd, const struct proto_dns_zone *v);

#endif

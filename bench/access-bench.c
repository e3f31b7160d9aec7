/*
 * bench/access-bench.c - load time and lookups per second of the access
 * map (policy/access.c) on a file such as gen-access.py's 25,000 lines.
 *
 * Usage: access-bench FILE [-n LOADS] [-d SECONDS]
 * Prints one line: "access entries=N load_ms_median=X load_ms_min=Y
 * read_ms=Z connect_per_s=A from_per_s=B to_per_s=C".  Loads the file
 * LOADS times (default 11) through access_load (read + parse + index),
 * and, to set the parse against the bare read, reads it with afile_read
 * alone; then looks up, for SECONDS each (default 2), client addresses
 * (half of them keys of the file, half random) and envelope senders and
 * recipients (half domains of the file).  Asserts nothing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/afile.h"
#include "core/diag.h"
#include "policy/access.h"

#define KEYS 4096

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Keys from the file: full IPv4 addresses and domains, KEYS of each at most. */
static void
collect(const char *text, size_t len, struct sockaddr_in *ips, size_t *n_ip, char **doms,
    size_t *n_dom)
{
	const char *p = text, *end = text + len;
	*n_ip = *n_dom = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);
		char key[300];
		size_t k = 0;
		while (k < l && k < sizeof key - 1 && p[k] != '\t' && p[k] != ' ')
			key[k] = p[k], k++;
		key[k] = '\0';
		struct in_addr a;
		if (key[0] != '#' && *n_ip < KEYS / 2 && inet_pton(AF_INET, key, &a) == 1) {
			ips[*n_ip].sin_family = AF_INET;
			ips[(*n_ip)++].sin_addr = a;
		} else if (key[0] >= 'a' && key[0] <= 'z' && strchr(key, '@') == NULL &&
		    strchr(key, ':') == NULL && *n_dom < KEYS / 2) {
			char *s = malloc(strlen(key) + 16);
			sprintf(s, "someone@%s", key);
			doms[(*n_dom)++] = s;
		}
		p = nl ? nl + 1 : end;
	}
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: access-bench FILE [-n LOADS] [-d SECONDS]\n");
		return 2;
	}
	const char *file = argv[1];
	int loads = 11;
	double dur = 2;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-n") == 0)
			loads = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-d") == 0)
			dur = atof(argv[i + 1]);
	}
	if (loads < 1 || loads > 1000 || dur <= 0 || dur > 60)
		return 2;
	double t[1000];
	struct access_map *m = NULL;
	for (int i = 0; i < loads; i++) {
		struct diag d;
		diag_init(&d);
		access_free(&m);
		double t0 = now_s();
		m = access_load(file, &d);
		t[i] = (now_s() - t0) * 1000;
		diag_free(&d);
		if (m == NULL) {
			fprintf(stderr, "access-bench: %s does not load\n", file);
			return 1;
		}
	}
	qsort(t, (size_t)loads, sizeof t[0], cmp_d);
	/* the bare read, for scale */
	struct diag d;
	diag_init(&d);
	char *text;
	size_t len;
	double t0 = now_s();
	if (afile_read(file, ACCESS_FILE_MAX, "an access map", &text, &len, &d) < 0)
		return 1;
	double read_ms = (now_s() - t0) * 1000;
	diag_free(&d);

	static struct sockaddr_in ips[KEYS];
	static char *doms[KEYS];
	size_t n_ip, n_dom;
	collect(text, len, ips, &n_ip, doms, &n_dom);
	afile_text_free(&text, len);
	for (size_t i = n_ip; i < KEYS; i++) {
		ips[i].sin_family = AF_INET;
		ips[i].sin_addr.s_addr = rnd();
	}
	for (size_t i = n_dom; i < KEYS; i++) {
		doms[i] = malloc(64);
		snprintf(doms[i], 64, "user%u@mail%u.sub%u.example.org", rnd() % 1000, rnd() % 100,
		    rnd() % 100);
	}
	struct access_result r;
	unsigned long hits = 0;
	double rates[3];
	for (int kind = 0; kind < 3; kind++) {
		unsigned long n = 0;
		double start = now_s(), el;
		do {
			for (int j = 0; j < 1024; j++, n++) {
				size_t k = n % KEYS;
				bool f = kind == 0 ? access_connect(m, (struct sockaddr *)&ips[k],
				    NULL, &r) : kind == 1 ? access_from(m, doms[k], &r) :
				    access_to(m, doms[k], &r);
				hits += f;
			}
			el = now_s() - start;
		} while (el < dur);
		rates[kind] = (double)n / el;
	}
	printf("access entries=%zu load_ms_median=%.2f load_ms_min=%.2f read_ms=%.2f "
	    "connect_per_s=%.0f from_per_s=%.0f to_per_s=%.0f hits=%lu\n", access_count(m),
	    t[loads / 2], t[0], read_ms, rates[0], rates[1], rates[2], hits);
	access_free(&m);
	for (size_t i = 0; i < KEYS; i++)
		free(doms[i]);
	return 0;
}

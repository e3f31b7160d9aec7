/*
 * daemon/zones.c - zone files to sealed record streams (daemon/zones.h).
 */
#include "daemon/zones.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/log.h"
#include "core/util.h"
#include "dns/zone.h"
#include "mail/conf.h"

/* each line of d as its own log line */
static void
log_diag(struct diag *d, const char *origin, bool errors)
{
	const char *t = diag_text(d);
	while (*t) {
		const char *nl = strchr(t, '\n');
		int n = nl ? (int)(nl - t) : (int)strlen(t);
		if (errors)
			log_err("parent event=zone origin=%s problem=\"%.*s\"", origin, n, t);
		else
			log_warn("parent event=zone origin=%s problem=\"%.*s\"", origin, n, t);
		t += n + (nl ? 1 : 0);
	}
}

/* The stream, then the journal, in a memfd sealed against any change: the
 * dns process maps it and builds pointers into it. */
static int
sealed_copy(const struct buf *b, const struct buf *j)
{
	int fd = memfd_create("talon-zone", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	if (write_all(fd, b->data, b->len) < 0 || write_all(fd, j->data, j->len) < 0) {
		close(fd);
		return -1;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static const struct gen_zone *
old_zone(const struct gen *old, const char *origin)
{
	for (size_t i = 0; old != NULL && i < old->n_zones; i++)
		if (strcmp(old->zones[i].origin, origin) == 0)
			return &old->zones[i];
	return NULL;
}

/* The journal for the zone after prev: prev's, plus the step from it
 * when the serial moved.  Content changed under the same serial cannot be
 * described incrementally: the journal starts over (IXFR then gives the
 * whole zone, which is always right). */
static void
journal_next(const struct gen_zone *prev, const struct buf *stream, struct gen_zone *out)
{
	buf_init(&out->journal, 0);
	if (prev == NULL || (prev->serial == out->serial &&
	    memcmp(prev->digest, out->digest, sizeof out->digest) != 0))
		return;
	buf_append(&out->journal, prev->journal.data, prev->journal.len);
	if (prev->serial == out->serial)
		return;
	void *old = mmap(NULL, (size_t)prev->len, PROT_READ, MAP_PRIVATE, prev->memfd, 0);
	if (old == MAP_FAILED ||
	    !dns_journal_add(&out->journal, old, (size_t)prev->len, stream->data, stream->len,
	    prev->serial, out->serial)) {
		log_warn("parent event=zone origin=%s warning=\"no IXFR journal for serial %u "
		    "(secondaries get the whole zone)\"", out->origin, out->serial);
		buf_reset(&out->journal);
	}
	if (old != MAP_FAILED)
		munmap(old, (size_t)prev->len);
}

/* 0 with *out filled, or -1 (logged) */
static int
load_one(const struct conf_zone *cz, const struct gen_zone *prev, struct gen_zone *out)
{
	uint8_t origin[DNS_NAME_MAX];
	const char *err = NULL;
	if (dns_name_from_text(cz->origin, strlen(cz->origin), NULL, origin, &err) < 0) {
		log_err("parent event=zone origin=%s error=\"%s\"", cz->origin, err);
		return -1;
	}
	struct dns_zsrc src;
	struct diag d;
	struct dns_zone z;
	int rc = -1;
	dns_zsrc_init(&src, origin);
	diag_init(&d);
	if (dns_zsrc_load(&src, cz->file, &d) == 0 &&
	    dns_zone_build(&z, origin, src.stream.data, src.stream.len, dns_zsrc_where, &src,
	    &d, cz->file) == 0) {
		out->origin = xstrdup(cz->origin);
		out->len = src.stream.len;
		out->serial = z.serial;
		out->records = z.n_records;
		dns_zone_digest(&z);
		memcpy(out->digest, z.digest, sizeof out->digest);
		journal_next(prev, &src.stream, out);
		out->jlen = out->journal.len;
		out->memfd = sealed_copy(&src.stream, &out->journal);
		if (out->memfd < 0) {
			log_err("parent event=zone origin=%s error=\"memfd: %s\"", cz->origin,
			    strerror(errno));
			free(out->origin);
			buf_free(&out->journal);
		} else {
			rc = 0;
		}
		dns_zone_free(&z);
	}
	log_diag(&d, cz->origin, d.n_err > 0);
	diag_free(&d);
	dns_zsrc_free(&src);
	return rc;
}

void
zones_load(struct gen *g, const struct gen *old)
{
	const struct conf *cf = g->conf;
	g->zones = xcalloc(cf->n_zones + 1, sizeof *g->zones);
	g->n_zones = 0;
	for (size_t i = 0; i < cf->n_zones; i++) {
		const struct conf_zone *cz = &cf->zones[i];
		const struct gen_zone *prev = old_zone(old, cz->origin);
		struct gen_zone *gz = &g->zones[g->n_zones];
		if (load_one(cz, prev, gz) == 0) {
			g->n_zones++;
			if (prev != NULL && prev->serial == gz->serial &&
			    memcmp(prev->digest, gz->digest, sizeof gz->digest) != 0)
				log_warn("parent event=zone origin=%s serial=%u warning=\"content changed "
				    "under an unchanged serial: served, but secondaries will not see "
				    "it (raise the serial)\"", cz->origin, gz->serial);
			log_info("parent event=zone origin=%s file=%s serial=%u records=%zu",
			    cz->origin, cz->file, gz->serial, gz->records);
			continue;
		}
		if (prev == NULL) {
			log_err("parent event=zone origin=%s file=%s action=not-served", cz->origin,
			    cz->file);
			continue;
		}
		/* keep the version in force */
		*gz = *prev;
		gz->origin = xstrdup(prev->origin);
		buf_init(&gz->journal, 0);
		buf_append(&gz->journal, prev->journal.data, prev->journal.len);
		gz->memfd = fcntl(prev->memfd, F_DUPFD_CLOEXEC, 0);
		if (gz->memfd < 0) {
			free(gz->origin);
			log_err("parent event=zone origin=%s error=\"dup: %s\"", cz->origin,
			    strerror(errno));
			continue;
		}
		g->n_zones++;
		log_err("parent event=zone origin=%s file=%s action=kept-old serial=%u", cz->origin,
		    cz->file, prev->serial);
	}
}

void
zones_free(struct gen *g)
{
	for (size_t i = 0; i < g->n_zones; i++) {
		free(g->zones[i].origin);
		buf_free(&g->zones[i].journal);
		if (g->zones[i].memfd >= 0)
			close(g->zones[i].memfd);
	}
	free(g->zones);
	g->zones = NULL;
	g->n_zones = 0;
}

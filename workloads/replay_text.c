/*
 * replay_text.c — the text trace parser of the replay workload (format in
 * workloads/replay.c): lines into a struct mmb_replay_build, as one
 * recorded thread.
 *
 * Block IDs are any u64 naming a block while it is live; they become dense
 * slots here (a chained hash table of live IDs, and a stack of released
 * slot numbers, reused last-in first-out), so the replay's blocks table has
 * one entry per block live at once. Errors name the line.
 */
#include "replay_ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_MAX_SIZE (1ULL << 30)

/* While parsing: live IDs -> slot, in a chained hash table. */
struct replay_live {
	uint64_t id;
	uint32_t slot;
	unsigned line;
	struct replay_live *next;
};

struct replay_parse {
	struct mmb_replay_build *b;
	struct replay_live **bucket;
	size_t nbuckets, nlive;
	uint32_t *free_slots;		/* stack of released slot numbers */
	size_t nfree, free_cap;
	uint32_t nslots;
};

static size_t replay_hash(uint64_t id, size_t n)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 32) & (n - 1);
}

static struct replay_live **replay_find(struct replay_parse *rp, uint64_t id)
{
	struct replay_live **pp = &rp->bucket[replay_hash(id, rp->nbuckets)];

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static int replay_grow(struct replay_parse *rp)
{
	size_t n = rp->nbuckets * 4;
	struct replay_live **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < rp->nbuckets; i++)
		for (struct replay_live *e = rp->bucket[i], *next; e; e = next) {
			size_t h = replay_hash(e->id, n);

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	free(rp->bucket);
	rp->bucket = b;
	rp->nbuckets = n;
	return 0;
}

static void replay_parse_free(struct replay_parse *rp)
{
	for (size_t i = 0; rp->bucket && i < rp->nbuckets; i++)
		for (struct replay_live *e = rp->bucket[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(rp->bucket);
	free(rp->free_slots);
}

/* Free block ID (must be live). 0, -EINVAL with err, or -ENOMEM. */
static int replay_free_id(struct replay_parse *rp, uint64_t id, char *err, size_t errlen)
{
	struct replay_live **pp = replay_find(rp, id), *e;
	uint32_t slot;

	if (!*pp) {
		snprintf(err, errlen, "free of block %llu, which is not live", (unsigned long long)id);
		return -EINVAL;
	}
	e = *pp;
	slot = e->slot;
	*pp = e->next;
	rp->free_slots[rp->nfree++] = slot;	/* nfree < nslots <= free_cap */
	rp->nlive--;
	free(e);
	return mmb_replay_emit(rp->b, 0, 1, slot, 0, 0, 0);
}

/* Allocate block ID. 0, -EINVAL with err, or -ENOMEM. */
static int replay_alloc_id(struct replay_parse *rp, uint64_t id, uint64_t size, uint64_t align,
			   unsigned lineno, char *err, size_t errlen)
{
	struct replay_live **pp = replay_find(rp, id), *e;
	uint32_t slot;

	if (*pp) {
		snprintf(err, errlen, "block %llu is already live (allocated at line %u)",
			 (unsigned long long)id, (*pp)->line);
		return -EINVAL;
	}
	if (rp->nfree) {
		slot = rp->free_slots[--rp->nfree];
	} else {
		if (rp->nslots == rp->free_cap) {
			size_t cap = rp->free_cap ? rp->free_cap * 2 : 1024;
			uint32_t *fs = realloc(rp->free_slots, cap * sizeof(*fs));

			if (!fs)
				return -ENOMEM;
			rp->free_slots = fs;
			rp->free_cap = cap;
		}
		slot = rp->nslots++;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = id;
	e->slot = slot;
	e->line = lineno;
	e->next = NULL;
	*pp = e;
	if (++rp->nlive > 2 * rp->nbuckets && replay_grow(rp))
		return -ENOMEM;
	return mmb_replay_emit(rp->b, 0, 0, slot, size, align, 0);
}

/* A decimal u64 field; 0 on success. */
static int replay_u64(const char *s, uint64_t *r)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*r = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* One line's operation into rp. Returns 0, or -EINVAL / -ENOMEM with err. */
static int replay_line(struct replay_parse *rp, char *line, unsigned lineno, char *err,
		       size_t errlen)
{
	char *save = NULL, *f[5];
	int nf = 0;
	uint64_t id, size, align = 0;

	for (char *tok = strtok_r(line, " \t\r\n", &save); tok && nf < 5;
	     tok = strtok_r(NULL, " \t\r\n", &save))
		f[nf++] = tok;
	if (nf == 0 || f[0][0] == '#')
		return 0;
	if (strcmp(f[0], "a") && strcmp(f[0], "f")) {
		snprintf(err, errlen, "unknown operation '%.32s' (expected a or f)", f[0]);
		return -EINVAL;
	}
	if (f[0][0] == 'a' ? nf < 3 || nf > 4 : nf != 2) {
		snprintf(err, errlen, "expected '%s'", f[0][0] == 'a' ? "a ID SIZE [ALIGN]" : "f ID");
		return -EINVAL;
	}
	if (replay_u64(f[1], &id)) {
		snprintf(err, errlen, "bad block ID '%.32s' (expected a decimal number)", f[1]);
		return -EINVAL;
	}
	if (f[0][0] == 'f')
		return replay_free_id(rp, id, err, errlen);
	if (replay_u64(f[2], &size) || size < 1 || size > REPLAY_MAX_SIZE) {
		snprintf(err, errlen, "bad size '%.32s' (expected 1..%llu)", f[2], REPLAY_MAX_SIZE);
		return -EINVAL;
	}
	if (nf == 4 && (replay_u64(f[3], &align) || align > 4096 || (align & (align - 1)))) {
		snprintf(err, errlen, "bad alignment '%.32s' (expected 0 or a power of two <= 4096)",
			 f[3]);
		return -EINVAL;
	}
	return replay_alloc_id(rp, id, size, align, lineno, err, errlen);
}

int mmb_replay_text_load(const char *path, struct mmb_replay_build *b, char *err, size_t errlen)
{
	struct replay_parse rp = { .b = b, .nbuckets = 1024 };
	char line[512], msg[256];
	unsigned lineno = 0;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "workload replay: trace %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	rp.bucket = calloc(rp.nbuckets, sizeof(*rp.bucket));
	if (!rp.bucket)
		rc = -ENOMEM;
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(msg, sizeof(msg), "line longer than %zu characters", sizeof(line) - 2);
			rc = -EINVAL;
			break;
		}
		msg[0] = 0;
		rc = replay_line(&rp, line, lineno, msg, sizeof(msg));
	}
	if (!rc && ferror(f)) {
		snprintf(msg, sizeof(msg), "read error");
		rc = -EIO;
	}
	fclose(f);
	replay_parse_free(&rp);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "workload replay: %s: out of memory at line %u", path, lineno);
	else if (rc)
		snprintf(err, errlen, "workload replay: %s:%u: %s", path, lineno, msg);
	return rc == -EIO ? -EINVAL : rc;
}

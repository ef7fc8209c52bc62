/*
 * replay.c — replays a recorded allocation trace.
 *
 * Models: whatever program the trace was recorded from. This is how a real
 * program's allocation pattern (sizes, lifetimes, order of frees) is run
 * against every allocator under identical conditions. Each thread replays
 * the whole trace, with its own blocks, from the start again each time it
 * reaches the end, until the cell stops. Every page of every allocated block
 * is written (mmb_wl_write). At the end of each pass (and when the cell stops mid-pass)
 * the blocks the trace left live are freed, in slot order.
 *
 * Two trace formats, told apart by the first bytes: the binary format that
 * `mmbench record` writes (magic "MMBTRACE", workloads/trace.h), and text.
 *
 * Binary traces: the recorded calls of every thread, merged in time order
 * (each thread's own order kept), with each object's lifetime from its
 * allocation to its free; realloc is replayed as a new block and the old
 * one's free (no copy). Every worker thread replays that merged sequence,
 * so a free recorded on another thread than the allocation is replayed on
 * the allocating worker. timing=on waits before each call until its
 * recorded time since the trace began has passed in this pass (gaps are
 * kept; calls slower than recorded run late, never early). Frees of blocks
 * the trace never allocated and failed allocations are left out
 * (`mmbench trace-info` counts both).
 *
 * Text format (version 1):
 *
 *	# comment			lines starting with '#', and blank
 *					lines, are ignored
 *	a ID SIZE [ALIGN]		allocate SIZE bytes (1 .. 1 GiB) as
 *					block ID; ALIGN is 0 (none) or a power
 *					of two <= 4096
 *	f ID				free block ID
 *
 * Fields are separated by spaces or tabs. ID is a decimal number below
 * 2^64 naming a block while it is live; it may be reused after its free.
 * Allocating an ID that is live, freeing one that is not, or any malformed
 * line is an error reported as "FILE:LINE: message" before any cell runs.
 * The trace is read into memory at setup (IDs renumbered to dense slots),
 * so the timed region does no I/O. With trace= empty, the bundled
 * workloads/traces/sample.trace (found upwards from the executable's
 * folder, else relative to the current folder) is used: a
 * small synthetic trace, not a recording of a real program.
 *
 * Must not be used for: conclusions about a real program unless the trace
 * came from it; the seed has no effect (the trace fixes everything).
 *
 * Deterministic: the sequence is fixed by the trace alone.
 */
#include "trace.h"
#include "workload.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPLAY_MAX_SIZE (1ULL << 30)

static const struct mmb_param replay_params[] = {
	{ "trace", MMB_P_STR, "", 0, 0, NULL,
	  "trace file, text or binary (empty: the bundled workloads/traces/sample.trace)" },
	{ "timing", MMB_P_BOOL, "off", 0, 0, NULL,
	  "binary traces: wait until each call's recorded time since the pass began" },
	{ 0 },
};

struct replay_op {
	uint64_t t_ns;			/* binary traces: time since the trace began */
	uint64_t size;
	uint32_t slot;
	uint16_t align;
	uint8_t is_free;
};

struct replay_block {
	char *p;
	size_t size;
};

struct replay {
	int timing;
	struct replay_op *ops;
	size_t nops;
	uint32_t nslots;		/* most blocks live at once */
	struct replay_block *blocks;	/* nthreads x nslots */
};

/* While parsing: live IDs -> slot, in a chained hash table. */
struct replay_live {
	uint64_t id, size;
	uint32_t slot;
	unsigned line;
	struct replay_live *next;
};

struct replay_parse {
	struct replay_live **bucket;
	size_t nbuckets, nlive;
	uint32_t *free_slots;		/* stack of released slot numbers */
	size_t nfree, free_cap;
	uint32_t nslots;
	struct replay_op *ops;
	size_t nops, ops_cap;
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

static int replay_push_op(struct replay_parse *rp, const struct replay_op *op)
{
	if (rp->nops == rp->ops_cap) {
		size_t cap = rp->ops_cap ? rp->ops_cap * 2 : 1024;
		struct replay_op *ops = realloc(rp->ops, cap * sizeof(*ops));

		if (!ops)
			return -ENOMEM;
		rp->ops = ops;
		rp->ops_cap = cap;
	}
	rp->ops[rp->nops++] = *op;
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
	free(rp->ops);
}

/* Free block ID (must be live). 0, -EINVAL with err, or -ENOMEM. */
static int replay_free_id(struct replay_parse *rp, uint64_t id, uint64_t t_ns, char *err,
			  size_t errlen)
{
	struct replay_live **pp = replay_find(rp, id), *e;
	struct replay_op op = { .is_free = 1, .t_ns = t_ns };

	if (!*pp) {
		snprintf(err, errlen, "free of block %llu, which is not live", (unsigned long long)id);
		return -EINVAL;
	}
	e = *pp;
	op.slot = e->slot;
	op.size = e->size;
	*pp = e->next;
	rp->free_slots[rp->nfree++] = e->slot;	/* nfree < nslots <= free_cap */
	rp->nlive--;
	free(e);
	return replay_push_op(rp, &op) ? -ENOMEM : 0;
}

/* Allocate block ID (op: size, align, time). 0, -EINVAL with err, or -ENOMEM. */
static int replay_alloc_id(struct replay_parse *rp, uint64_t id, struct replay_op *op,
			   unsigned lineno, char *err, size_t errlen)
{
	struct replay_live **pp = replay_find(rp, id), *e;

	if (*pp) {
		snprintf(err, errlen, "block %llu is already live (allocated at line %u)",
			 (unsigned long long)id, (*pp)->line);
		return -EINVAL;
	}
	if (rp->nfree) {
		op->slot = rp->free_slots[--rp->nfree];
	} else {
		if (rp->nslots == rp->free_cap) {
			size_t cap = rp->free_cap ? rp->free_cap * 2 : 1024;
			uint32_t *fs = realloc(rp->free_slots, cap * sizeof(*fs));

			if (!fs)
				return -ENOMEM;
			rp->free_slots = fs;
			rp->free_cap = cap;
		}
		op->slot = rp->nslots++;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = id;
	e->size = op->size;
	e->slot = op->slot;
	e->line = lineno;
	e->next = NULL;
	*pp = e;
	if (++rp->nlive > 2 * rp->nbuckets && replay_grow(rp))
		return -ENOMEM;
	return replay_push_op(rp, op) ? -ENOMEM : 0;
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
	struct replay_op op = { 0 };
	uint64_t id, v;

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
		return replay_free_id(rp, id, 0, err, errlen);
	if (replay_u64(f[2], &op.size) || op.size < 1 || op.size > REPLAY_MAX_SIZE) {
		snprintf(err, errlen, "bad size '%.32s' (expected 1..%llu)", f[2], REPLAY_MAX_SIZE);
		return -EINVAL;
	}
	if (nf == 4) {
		if (replay_u64(f[3], &v) || v > 4096 || (v & (v - 1))) {
			snprintf(err, errlen, "bad alignment '%.32s' (expected 0 or a power of two <= 4096)",
				 f[3]);
			return -EINVAL;
		}
		op.align = (uint16_t)v;
	}
	return replay_alloc_id(rp, id, &op, lineno, err, errlen);
}

/* The trace file to read: the parameter, or the bundled sample. */
static void replay_path(const struct mmb_pvals *params, char *buf, size_t len)
{
	const char *p = mmb_pval_str(params, "trace");
	char exe[4096];
	ssize_t n;

	if (p[0]) {
		snprintf(buf, len, "%s", p);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	/* build/mmbench, or build/san-x/mmbench: the first workloads/ upwards. */
	for (char *dir = dirname(exe); strcmp(dir, "/") && strcmp(dir, "."); dir = dirname(dir)) {
		snprintf(buf, len, "%s/../workloads/traces/sample.trace", dir);
		if (access(buf, F_OK) == 0)
			return;
	}
	snprintf(buf, len, "workloads/traces/sample.trace");
}

/*
 * A binary trace (trace.h) into rp: the matched calls in the merged order,
 * objects as block IDs. An address handed out again without a free (a lost
 * free) frees the old block first; unmatched frees and failed allocations
 * are left out. Alignments above 4096 are replayed as 4096 (the contract's
 * largest), a request of 0 bytes as 1 byte.
 */
static int replay_load_binary(const char *path, struct replay_parse *rp, char *err,
			      size_t errlen)
{
	struct mmb_trace t;
	char msg[256];
	int rc = mmb_trace_load(path, &t, msg, sizeof(msg));

	if (rc) {
		snprintf(err, errlen, "workload replay: %s", msg);
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	for (size_t i = 0; !rc && i < t.nev; i++) {
		const struct mmb_trace_event *e = &t.ev[i];
		struct replay_op op = { .t_ns = e->t_ns };

		if (!e->matched)
			continue;
		if (e->op == MMB_TOP_EXEC) {
			/* the program exec'ed: its blocks are gone */
			for (size_t b = 0; !rc && b < rp->nbuckets; b++)
				while (!rc && rp->bucket[b])
					rc = replay_free_id(rp, rp->bucket[b]->id, e->t_ns, msg,
							    sizeof(msg));
			continue;
		}
		if (!mmb_trace_op_allocates(e->op)) {
			rc = replay_free_id(rp, e->obj, e->t_ns, msg, sizeof(msg));
			continue;
		}
		if (*replay_find(rp, e->obj))
			rc = replay_free_id(rp, e->obj, e->t_ns, msg, sizeof(msg));
		op.size = e->size ? e->size : 1;
		op.align = (uint16_t)(e->align > 4096 ? 4096 : e->align & -e->align);
		if (!rc)
			rc = replay_alloc_id(rp, e->obj, &op, 0, msg, sizeof(msg));
	}
	mmb_trace_free(&t);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "workload replay: %s: out of memory", path);
	else if (rc)
		snprintf(err, errlen, "workload replay: %s: %s", path, msg);
	else if (!rp->nops) {
		snprintf(err, errlen, "workload replay: %s: no operations in the trace", path);
		rc = -EINVAL;
	}
	return rc;
}

/* Read and check the whole trace. Returns 0 or -errno with "FILE:LINE: ..." in err. */
static int replay_load(const struct mmb_pvals *params, struct replay_parse *rp, char *err,
		       size_t errlen)
{
	char path[4200], line[512], msg[256];
	unsigned lineno = 0;
	FILE *f;
	int rc = 0;

	memset(rp, 0, sizeof(*rp));
	replay_path(params, path, sizeof(path));
	if (mmb_trace_is_binary(path) == 1) {
		rp->nbuckets = 1024;
		rp->bucket = calloc(rp->nbuckets, sizeof(*rp->bucket));
		rc = rp->bucket ? replay_load_binary(path, rp, err, errlen) : -ENOMEM;
		if (rc == -ENOMEM && !rp->bucket)
			snprintf(err, errlen, "workload replay: out of memory");
		if (rc)
			replay_parse_free(rp);
		return rc;
	}
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "workload replay: trace %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	rp->nbuckets = 1024;
	rp->bucket = calloc(rp->nbuckets, sizeof(*rp->bucket));
	if (!rp->bucket)
		rc = -ENOMEM;
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(msg, sizeof(msg), "line longer than %zu characters", sizeof(line) - 2);
			rc = -EINVAL;
			break;
		}
		msg[0] = 0;
		rc = replay_line(rp, line, lineno, msg, sizeof(msg));
	}
	if (!rc && ferror(f)) {
		snprintf(msg, sizeof(msg), "read error");
		rc = -EIO;
	}
	fclose(f);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "workload replay: %s: out of memory at line %u", path, lineno);
	else if (rc)
		snprintf(err, errlen, "workload replay: %s:%u: %s", path, lineno, msg);
	else if (!rp->nops) {
		snprintf(err, errlen, "workload replay: %s: no operations in the trace", path);
		rc = -EINVAL;
	}
	if (rc)
		replay_parse_free(rp);
	return rc;
}

static int replay_check(const struct mmb_pvals *params, char *err, size_t errlen)
{
	struct replay_parse rp;
	int rc = replay_load(params, &rp, err, errlen);

	if (!rc)
		replay_parse_free(&rp);
	return rc ? -EINVAL : 0;
}

static int replay_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
			void **r_state, char *err, size_t errlen)
{
	struct replay *r = calloc(1, sizeof(*r));
	struct replay_parse rp;
	int rc;

	(void)seed;
	if (!r) {
		snprintf(err, errlen, "replay: out of memory");
		return -ENOMEM;
	}
	rc = replay_load(params, &rp, err, errlen);
	if (rc) {
		free(r);
		return rc;
	}
	r->timing = (int)mmb_pval_u64(params, "timing");
	r->ops = rp.ops;
	r->nops = rp.nops;
	r->nslots = rp.nslots;
	rp.ops = NULL;
	replay_parse_free(&rp);
	r->blocks = calloc((size_t)nthreads * r->nslots, sizeof(*r->blocks));
	if (!r->blocks) {
		snprintf(err, errlen, "replay: out of memory for %u slots", r->nslots);
		free(r->ops);
		free(r);
		return -ENOMEM;
	}
	mmb_wl_touch(r->blocks, (size_t)nthreads * r->nslots * sizeof(*r->blocks));
	*r_state = r;
	return 0;
}

static uint64_t replay_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int replay_run(void *state, struct mmb_wl_thread *t)
{
	struct replay *r = state;
	struct replay_block *b = &r->blocks[(size_t)t->tid * r->nslots];

	while (mmb_wl_running(t)) {
		uint64_t t0 = r->timing ? replay_now_ns() : 0;

		for (size_t i = 0; i < r->nops && mmb_wl_running(t); i++) {
			const struct replay_op *op = &r->ops[i];
			struct replay_block *v = &b[op->slot];

			while (r->timing && replay_now_ns() - t0 < op->t_ns && mmb_wl_running(t))
				;

			if (op->is_free) {
				if (v->p)
					mmb_wl_free(t, v->p, v->size);
				v->p = NULL;
				continue;
			}
			v->size = op->size;
			v->p = mmb_wl_alloc(t, op->size, op->align);
			if (v->p)
				mmb_wl_write(v->p, op->size);
		}
		for (uint32_t s = 0; s < r->nslots; s++) {
			if (b[s].p)
				mmb_wl_free(t, b[s].p, b[s].size);
			b[s].p = NULL;
		}
	}
	return 0;
}

static void replay_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct replay *r = state;

	(void)t0;
	free(r->blocks);
	free(r->ops);
	free(r);
}

const struct mmb_wl_ops mmb_wl_replay = {
	.name = "replay",
	.desc = "replays an allocation trace (text or binary; see workloads/replay.c)",
	.params = replay_params,
	.check_params = replay_check,
	.setup = replay_setup,
	.run = replay_run,
	.teardown = replay_teardown,
};

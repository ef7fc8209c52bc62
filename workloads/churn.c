/*
 * churn.c — fixed-size alloc/free pairs: the allocator's fast path.
 *
 * Models: the hottest loop of most programs, an object allocated and freed
 * soon after (a request buffer, a temporary node). Each thread keeps a ring
 * of `batch` blocks: every step frees the oldest and allocates a new one, so
 * at most `batch` blocks per thread are live and, with batch=1, the loop is
 * a pure malloc+free pair. Each new block's first and last bytes are
 * written, so the allocator cannot hand out memory it never maps.
 *
 * Must not be used for: fragmentation or footprint (one size, bounded live
 * set), or cross-thread behaviour (every free is thread-local).
 *
 * Deterministic: the sequence is fixed by size and batch alone.
 *
 * The rings are made by setup, on the main thread (workload.h: run()
 * allocates nothing of its own).
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const struct mmb_param churn_params[] = {
	{ "size", MMB_P_SIZE, "64", 1, 64 << 20, NULL, "bytes per block" },
	{ "batch", MMB_P_U64, "1", 1, 1 << 20, NULL, "blocks live per thread (ring length)" },
	{ 0 },
};

struct churn {
	size_t size;
	size_t batch;
	char **rings;			/* nthreads rings of batch blocks */
};

static int churn_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
		       void **r_state, char *err, size_t errlen)
{
	struct churn *c = malloc(sizeof(*c));

	(void)seed;
	if (!c) {
		snprintf(err, errlen, "churn: out of memory");
		return -ENOMEM;
	}
	c->size = mmb_pval_u64(params, "size");
	c->batch = mmb_pval_u64(params, "batch");
	c->rings = calloc((size_t)nthreads * c->batch, sizeof(*c->rings));
	if (!c->rings) {
		free(c);
		snprintf(err, errlen, "churn: out of memory");
		return -ENOMEM;
	}
	*r_state = c;
	return 0;
}

static int churn_run(void *state, struct mmb_wl_thread *t)
{
	struct churn *c = state;
	char **ring = c->rings + (size_t)t->tid * c->batch;
	size_t i = 0;

	while (mmb_wl_running(t)) {
		if (ring[i])
			mmb_wl_free(t, ring[i], c->size);
		ring[i] = mmb_wl_alloc(t, c->size, 0);
		if (ring[i]) {
			ring[i][0] = (char)i;
			ring[i][c->size - 1] = (char)i;
		}
		if (++i == c->batch)
			i = 0;
	}
	for (i = 0; i < c->batch; i++)
		if (ring[i]) {
			mmb_wl_free(t, ring[i], c->size);
			ring[i] = NULL;		/* run() runs again after a warm-up */
		}
	return 0;
}

static void churn_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct churn *c = state;

	(void)t0;
	free(c->rings);
	free(c);
}

const struct mmb_wl_ops mmb_wl_churn = {
	.name = "churn",
	.desc = "fixed-size alloc/free pairs (the allocator's fast path)",
	.params = churn_params,
	.setup = churn_setup,
	.run = churn_run,
	.teardown = churn_teardown,
};

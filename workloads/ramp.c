/*
 * ramp.c — the working set ramps up, then down: does the allocator give
 * memory back?
 *
 * Models: a batch job or a request burst: memory grows to a peak, then is
 * all released, again and again (a compiler pass, a cache flush, a load
 * spike). Each thread allocates blocks of sizes uniform in [min, max] until
 * it holds `peak` bytes, writing every page of each block, then frees them
 * all in `order`, and starts over:
 *
 *   order=random	a random permutation (the worst case for coalescing)
 *   order=lifo		newest first (stack-like; easy to give back)
 *   order=fifo		oldest first
 *
 * The figures that matter are footprint_peak_bytes against live_peak_bytes
 * (overhead at the top of the ramp) and footprint_end_bytes (what the
 * allocator still holds when everything has been freed).
 *
 * Must not be used for: throughput or latency of a steady state (half the
 * time is spent growing, half shrinking), or cross-thread behaviour.
 *
 * Deterministic: each thread's sequence depends only on the seed, its thread
 * number and the parameters.
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const struct mmb_param ramp_params[] = {
	{ "peak", MMB_P_SIZE, "16M", 4096, 1ULL << 34, NULL, "bytes held per thread at the top" },
	{ "min", MMB_P_SIZE, "32", 1, 64 << 20, NULL, "smallest block, bytes" },
	{ "max", MMB_P_SIZE, "512", 1, 64 << 20, NULL, "largest block, bytes" },
	{ "order", MMB_P_ENUM, "random", 0, 0, "random|lifo|fifo", "order of the frees on the way down" },
	{ 0 },
};

enum { ORDER_RANDOM, ORDER_LIFO, ORDER_FIFO };

struct ramp_thread {
	char **p;			/* blocks in allocation order */
	size_t *size;
	uint32_t *perm;			/* free order */
};

struct ramp {
	size_t peak, min, max, nmax;	/* nmax: most blocks a ramp can hold */
	int order;
	unsigned n;
	struct ramp_thread *th;
};

static int ramp_check(const struct mmb_pvals *params, char *err, size_t errlen)
{
	uint64_t min = mmb_pval_u64(params, "min");

	if (min > mmb_pval_u64(params, "max")) {
		snprintf(err, errlen, "workload ramp: min=%s is above max=%s",
			 mmb_pval_str(params, "min"), mmb_pval_str(params, "max"));
		return -EINVAL;
	}
	if (mmb_pval_u64(params, "peak") / min >= UINT32_MAX) {
		snprintf(err, errlen, "workload ramp: peak/min is over 2^32 blocks");
		return -EINVAL;
	}
	return 0;
}

static void ramp_free_state(struct ramp *r)
{
	for (unsigned i = 0; r->th && i < r->n; i++) {
		free(r->th[i].p);
		free(r->th[i].size);
		free(r->th[i].perm);
	}
	free(r->th);
	free(r);
}

static int ramp_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
		      void **r_state, char *err, size_t errlen)
{
	struct ramp *r = calloc(1, sizeof(*r));

	(void)seed;
	if (!r)
		goto nomem;
	r->peak = mmb_pval_u64(params, "peak");
	r->min = mmb_pval_u64(params, "min");
	r->max = mmb_pval_u64(params, "max");
	r->order = (int)mmb_pval_u64(params, "order");
	r->nmax = (r->peak + r->min - 1) / r->min;
	r->n = nthreads;
	r->th = calloc(nthreads, sizeof(*r->th));
	if (!r->th)
		goto nomem;
	for (unsigned i = 0; i < nthreads; i++) {
		r->th[i].p = calloc(r->nmax, sizeof(char *));
		r->th[i].size = calloc(r->nmax, sizeof(size_t));
		r->th[i].perm = calloc(r->nmax, sizeof(uint32_t));
		if (!r->th[i].p || !r->th[i].size || !r->th[i].perm)
			goto nomem;
		mmb_wl_touch(r->th[i].p, r->nmax * sizeof(char *));
		mmb_wl_touch(r->th[i].size, r->nmax * sizeof(size_t));
		mmb_wl_touch(r->th[i].perm, r->nmax * sizeof(uint32_t));
	}
	*r_state = r;
	return 0;
nomem:
	if (r)
		ramp_free_state(r);
	snprintf(err, errlen, "ramp: out of memory for the block tables");
	return -ENOMEM;
}

/* Free the n blocks of th in r->order (all of them, even when stopping). */
static void ramp_down(struct ramp *r, struct ramp_thread *th, size_t n, struct mmb_wl_thread *t)
{
	for (size_t i = 0; i < n; i++)
		th->perm[i] = (uint32_t)(r->order == ORDER_LIFO ? n - 1 - i : i);
	if (r->order == ORDER_RANDOM)
		mmb_rand_shuffle(t->rng, th->perm, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t k = th->perm[i];

		if (th->p[k])
			mmb_wl_free(t, th->p[k], th->size[k]);
	}
}

static int ramp_run(void *state, struct mmb_wl_thread *t)
{
	struct ramp *r = state;
	struct ramp_thread *th = &r->th[t->tid];

	while (mmb_wl_running(t)) {
		size_t n = 0, held = 0;

		while (held < r->peak && n < r->nmax && mmb_wl_running(t)) {
			th->size[n] = r->min + mmb_rand_below(t->rng, r->max - r->min + 1);
			th->p[n] = mmb_wl_alloc(t, th->size[n], 0);
			if (th->p[n])
				mmb_wl_write(th->p[n], th->size[n]);
			held += th->size[n++];
		}
		ramp_down(r, th, n, t);
	}
	return 0;
}

static void ramp_teardown(void *state, struct mmb_wl_thread *t0)
{
	(void)t0;
	ramp_free_state(state);
}

const struct mmb_wl_ops mmb_wl_ramp = {
	.name = "ramp",
	.desc = "working set ramps up to a peak, then all freed: is memory given back?",
	.params = ramp_params,
	.check_params = ramp_check,
	.setup = ramp_setup,
	.run = ramp_run,
	.teardown = ramp_teardown,
};

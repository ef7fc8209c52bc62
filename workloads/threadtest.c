/*
 * threadtest.c — per-thread batches: allocate many, then free them all.
 *
 * Models: Hoard's threadtest (`threadtest P 1000 10000 0 8`: each of P
 * threads repeatedly allocates 10000/P objects of 8 bytes, then frees them
 * in the same order), the plain scalability test: no sharing between
 * threads, so the ideal is a P-fold speedup, and anything less is the
 * allocator's own contention (a shared lock, false sharing in its metadata).
 * Each iteration allocates `objects` / nthreads blocks of `size` bytes
 * (at least one), writes each block's first byte, spins `work` iterations
 * per object if asked, then frees the blocks in allocation order.
 *
 * Must not be used for: fragmentation or footprint (one size, a live set
 * that empties every iteration), or cross-thread frees (there are none).
 *
 * Deterministic: the sequence depends only on the parameters and the thread
 * count, not on the seed.
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const struct mmb_param threadtest_params[] = {
	{ "objects", MMB_P_U64, "10000", 1, 1 << 24, NULL, "objects per iteration, all threads together" },
	{ "size", MMB_P_SIZE, "8", 1, 64 << 20, NULL, "bytes per object" },
	{ "work", MMB_P_U64, "0", 0, 1 << 20, NULL, "busy-loop iterations per object (threadtest's work)" },
	{ 0 },
};

struct threadtest {
	size_t per, size;
	uint64_t work;
	char **blocks;			/* nthreads x per */
};

static int threadtest_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
			    void **r_state, char *err, size_t errlen)
{
	struct threadtest *tt = calloc(1, sizeof(*tt));

	(void)seed;
	if (!tt)
		goto nomem;
	tt->per = mmb_pval_u64(params, "objects") / nthreads;
	if (tt->per == 0)
		tt->per = 1;
	tt->size = mmb_pval_u64(params, "size");
	tt->work = mmb_pval_u64(params, "work");
	tt->blocks = calloc((size_t)nthreads * tt->per, sizeof(char *));
	if (!tt->blocks)
		goto nomem;
	*r_state = tt;
	return 0;
nomem:
	free(tt);
	snprintf(err, errlen, "threadtest: out of memory");
	return -ENOMEM;
}

static void threadtest_spin(uint64_t n)
{
	for (volatile uint64_t i = 0; i < n; i++)
		;
}

static int threadtest_run(void *state, struct mmb_wl_thread *t)
{
	struct threadtest *tt = state;
	char **b = &tt->blocks[(size_t)t->tid * tt->per];

	while (mmb_wl_running(t)) {
		size_t n;

		for (n = 0; n < tt->per && mmb_wl_running(t); n++) {
			b[n] = mmb_wl_alloc(t, tt->size, 0);
			if (b[n])
				b[n][0] = 1;
			threadtest_spin(tt->work);
		}
		for (size_t i = 0; i < n; i++) {
			if (b[i])
				mmb_wl_free(t, b[i], tt->size);
			threadtest_spin(tt->work);
		}
	}
	return 0;
}

static void threadtest_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct threadtest *tt = state;

	(void)t0;
	free(tt->blocks);
	free(tt);
}

const struct mmb_wl_ops mmb_wl_threadtest = {
	.name = "threadtest",
	.desc = "per-thread batches of allocs then frees (Hoard threadtest), for scaling",
	.params = threadtest_params,
	.setup = threadtest_setup,
	.run = threadtest_run,
	.teardown = threadtest_teardown,
};

/*
 * larson.c — the Larson & Krishnan server simulation, with cross-thread frees.
 *
 * Models: a server whose worker threads each own a table of objects, replace
 * random entries, and hand the table on to another thread, which then frees
 * objects it did not allocate ("bleeding" in the original). Canonical
 * parameters by default, as mimalloc-bench runs it
 * (`larson 5 8 1000 5000 100 4141 N`: sizes in [8, 1000), 5000 blocks per
 * thread, 100 rounds); the 5 s and the seed 4141 are --duration and --seed.
 *
 * Data structure: nthreads tables of `chunks` blocks. Work is a sequence of
 * phases; in phase g, thread i works on table (i + g) mod n:
 *   phase 0	fill: allocate all `chunks` blocks (larson's warm-up, which
 *		its main thread does before the workers start)
 *   phase g>0	rounds * chunks steps: pick a random entry, free its block,
 *		allocate one of a random size in [min, max) in its place
 * so from phase 1 on, every free is of a block allocated by another thread
 * (with one thread, by itself: the original's fresh thread per generation
 * cannot be modelled with a fixed set of workers). Every block's first and
 * last byte are written.
 *
 * Invariant: done[k] = the number of phases finished on table k; thread i
 * starts phase g on table k only when done[k] == g (the previous owner,
 * thread i+1, has finished with it), so each table has one owner at a time.
 * A thread that must wait for a table whose owner has stopped stops too.
 * Progress (phase, step) is kept per thread across run() calls; blocks in
 * the tables at the end are freed by teardown through t0.
 *
 * Must not be used for: single-thread fast-path latency (use churn or sizes),
 * or footprint figures compared with larson's published RSS (its RSS depends
 * on how far threads drift apart, ours on the hand-off points).
 *
 * Deterministic: each thread's sequence of (operation, size) is fixed by the
 * seed and thread count; only the interleaving between threads depends on
 * timing (a thread waits for its next table), and under --duration how far
 * each thread gets.
 */
#include "workload.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static const struct mmb_param larson_params[] = {
	{ "min", MMB_P_SIZE, "8", 1, 64 << 20, NULL, "smallest block, bytes" },
	{ "max", MMB_P_SIZE, "1000", 2, 64 << 20, NULL, "sizes are below this, bytes" },
	{ "chunks", MMB_P_U64, "5000", 1, 1 << 22, NULL, "blocks per thread's table" },
	{ "rounds", MMB_P_U64, "100", 1, 1 << 20, NULL, "replacements per phase, in units of chunks" },
	{ 0 },
};

struct larson_block {
	char *p;
	size_t size;
};

struct larson_thread {			/* written by its own thread only */
	uint64_t phase, step;		/* where this thread is */
	unsigned calls;			/* run() calls started */
};

struct larson {
	size_t min, max, chunks;
	uint64_t steps;			/* steps of a phase > 0 */
	unsigned n;
	struct larson_block *tab;	/* n x chunks */
	atomic_uint_fast64_t *done;	/* per table */
	atomic_uint *exits;		/* per thread: run() calls finished */
	struct larson_thread *th;
};

static int larson_check(const struct mmb_pvals *params, char *err, size_t errlen)
{
	if (mmb_pval_u64(params, "min") >= mmb_pval_u64(params, "max")) {
		snprintf(err, errlen, "workload larson: min=%s must be below max=%s",
			 mmb_pval_str(params, "min"), mmb_pval_str(params, "max"));
		return -EINVAL;
	}
	return 0;
}

static void larson_free_state(struct larson *l)
{
	free(l->tab);
	free(l->done);
	free(l->exits);
	free(l->th);
	free(l);
}

static int larson_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
			void **r_state, char *err, size_t errlen)
{
	struct larson *l = calloc(1, sizeof(*l));

	(void)seed;
	if (!l)
		goto nomem;
	l->min = mmb_pval_u64(params, "min");
	l->max = mmb_pval_u64(params, "max");
	l->chunks = mmb_pval_u64(params, "chunks");
	l->steps = mmb_pval_u64(params, "rounds") * l->chunks;
	l->n = nthreads;
	l->tab = calloc((size_t)nthreads * l->chunks, sizeof(*l->tab));
	l->done = calloc(nthreads, sizeof(*l->done));
	l->exits = calloc(nthreads, sizeof(*l->exits));
	l->th = calloc(nthreads, sizeof(*l->th));
	if (!l->tab || !l->done || !l->exits || !l->th)
		goto nomem;
	*r_state = l;
	return 0;
nomem:
	if (l)
		larson_free_state(l);
	snprintf(err, errlen, "larson: out of memory for %u tables", nthreads);
	return -ENOMEM;
}

/* Wait until table k has had phase g-1 finished. 0 = go on, -1 = stop. */
static int larson_wait(struct larson *l, struct mmb_wl_thread *t, unsigned k, uint64_t g,
		       unsigned call)
{
	unsigned prev = (t->tid + 1) % l->n;

	for (;;) {
		if (atomic_load_explicit(&l->done[k], memory_order_acquire) == g)
			return 0;
		if (!mmb_wl_running(t))
			return -1;
		if (atomic_load_explicit(&l->exits[prev], memory_order_acquire) >= call)
			return atomic_load_explicit(&l->done[k], memory_order_acquire) == g ? 0 : -1;
		sched_yield();
	}
}

static void larson_new(struct larson *l, struct mmb_wl_thread *t, struct larson_block *b)
{
	b->size = l->min + mmb_rand_below(t->rng, l->max - l->min);
	b->p = mmb_wl_alloc(t, b->size, 0);
	if (b->p) {
		b->p[0] = 1;
		b->p[b->size - 1] = 1;
	}
}

static int larson_run(void *state, struct mmb_wl_thread *t)
{
	struct larson *l = state;
	struct larson_thread *th = &l->th[t->tid];
	unsigned call = ++th->calls;

	while (mmb_wl_running(t)) {
		unsigned k = (unsigned)((t->tid + th->phase) % l->n);
		struct larson_block *tab = &l->tab[(size_t)k * l->chunks];
		uint64_t len = th->phase ? l->steps : l->chunks;

		if (larson_wait(l, t, k, th->phase, call))
			break;
		for (; th->step < len && mmb_wl_running(t); th->step++) {
			struct larson_block *b = &tab[th->phase ? mmb_rand_below(t->rng, l->chunks)
							       : th->step];

			if (b->p)
				mmb_wl_free(t, b->p, b->size);
			larson_new(l, t, b);
		}
		if (th->step < len)
			break;
		th->step = 0;
		th->phase++;
		atomic_store_explicit(&l->done[k], th->phase, memory_order_release);
	}
	atomic_store_explicit(&l->exits[t->tid], call, memory_order_release);
	return 0;
}

static void larson_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct larson *l = state;

	for (size_t i = 0; t0 && i < (size_t)l->n * l->chunks; i++)
		if (l->tab[i].p)
			mmb_wl_free(t0, l->tab[i].p, l->tab[i].size);
	larson_free_state(l);
}

const struct mmb_wl_ops mmb_wl_larson = {
	.name = "larson",
	.desc = "server simulation: threads replace random objects, then pass their table on",
	.params = larson_params,
	.check_params = larson_check,
	.setup = larson_setup,
	.run = larson_run,
	.teardown = larson_teardown,
	.not_op_equivalent = "a thread waits for the table its neighbour hands over "
			     "and stops when that neighbour has stopped, so how far "
			     "each thread gets depends on timing",
};

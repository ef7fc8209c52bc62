/*
 * fragmenter.c — the external-fragmentation stressor.
 *
 * Models: a heap that filled with small objects, lost many of them in a
 * scattered pattern, and then needs larger objects (the shape of Robson's
 * adversary and of Mesh's fragmenter: small holes that a larger request
 * cannot use). Each thread repeats rounds of:
 *
 *   1. fill: allocate `fill` bytes as blocks of `small` bytes;
 *   2. punch: free some of them in a pattern, leaving holes:
 *	pattern=alternate	every other block (half the bytes)
 *	pattern=random		each block with probability 1 - keep
 *	pattern=sawtooth	runs of growing length, alternately kept and
 *				freed: keep 1, free 1, keep 2, free 2, ...
 *				up to `period`, then from 1 again
 *   3. grow: allocate blocks of `large` bytes until they hold as many bytes
 *	as were freed in step 2;
 *   4. free everything still live (in allocation order), and start again.
 *
 * An allocator that cannot reuse the holes for the large blocks shows it as a
 * footprint peak well above the live peak (overhead_ratio), and buddy-style
 * allocators in their unusable-free-space index. Every page of every block
 * is written (mmb_wl_write).
 *
 * Must not be used for: throughput or latency comparisons (the cost is
 * dominated by the fill), cross-thread behaviour (all frees are local), or
 * anything that needs a steady state (the heap swings from full to empty).
 *
 * Deterministic: pattern=alternate and sawtooth use no randomness; random
 * draws from t->rng only.
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const struct mmb_param frag_params[] = {
	{ "small", MMB_P_SIZE, "64", 1, 1 << 20, NULL, "size of the fill blocks, bytes" },
	{ "large", MMB_P_SIZE, "1024", 1, 64 << 20, NULL, "size of the blocks asked for after the punch, bytes" },
	{ "fill", MMB_P_SIZE, "8M", 4096, 1ULL << 32, NULL, "bytes filled per thread per round" },
	{ "pattern", MMB_P_ENUM, "alternate", 0, 0, "alternate|random|sawtooth", "which fill blocks are freed" },
	{ "keep", MMB_P_F64, "0.5", 0, 1, NULL, "random: probability that a fill block stays" },
	{ "period", MMB_P_U64, "16", 1, 1 << 20, NULL, "sawtooth: longest run, blocks" },
	{ 0 },
};

enum { PAT_ALTERNATE, PAT_RANDOM, PAT_SAWTOOTH };

struct frag_thread {
	char **small;			/* nsmall fill blocks; NULL = freed or failed */
	char **large;			/* nlarge grow blocks */
};

struct frag {
	size_t small, large, nsmall, nlarge, period;
	unsigned nthreads;
	int pattern;
	double keep;
	struct frag_thread *th;
};

static int frag_check(const struct mmb_pvals *params, char *err, size_t errlen)
{
	if (mmb_pval_u64(params, "fill") / mmb_pval_u64(params, "small") < 2) {
		snprintf(err, errlen, "workload fragmenter: fill=%s holds fewer than 2 blocks of small=%s",
			 mmb_pval_str(params, "fill"), mmb_pval_str(params, "small"));
		return -EINVAL;
	}
	return 0;
}

static void frag_free_state(struct frag *f)
{
	for (unsigned i = 0; f->th && i < f->nthreads; i++) {
		free(f->th[i].small);
		free(f->th[i].large);
	}
	free(f->th);
	free(f);
}

static int frag_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
		      void **r_state, char *err, size_t errlen)
{
	struct frag *f = calloc(1, sizeof(*f));
	size_t fill = mmb_pval_u64(params, "fill");

	(void)seed;
	if (!f)
		goto nomem;
	f->small = mmb_pval_u64(params, "small");
	f->large = mmb_pval_u64(params, "large");
	f->pattern = (int)mmb_pval_u64(params, "pattern");
	f->keep = mmb_pval_f64(params, "keep");
	f->period = mmb_pval_u64(params, "period");
	f->nsmall = fill / f->small;
	f->nlarge = (f->nsmall * f->small + f->large - 1) / f->large;
	f->nthreads = nthreads;
	f->th = calloc(nthreads, sizeof(*f->th));
	if (!f->th)
		goto nomem;
	for (unsigned i = 0; i < nthreads; i++) {
		f->th[i].small = calloc(f->nsmall, sizeof(char *));
		f->th[i].large = calloc(f->nlarge, sizeof(char *));
		if (!f->th[i].small || !f->th[i].large)
			goto nomem;
		mmb_wl_touch(f->th[i].small, f->nsmall * sizeof(char *));
		mmb_wl_touch(f->th[i].large, f->nlarge * sizeof(char *));
	}
	*r_state = f;
	return 0;
nomem:
	if (f)
		frag_free_state(f);
	snprintf(err, errlen, "fragmenter: out of memory for the block tables");
	return -ENOMEM;
}

/* Does the punch free fill block i? */
static int frag_punch(const struct frag *f, size_t i, uint64_t rng[4])
{
	switch (f->pattern) {
	case PAT_RANDOM:
		return mmb_rand_unit(rng) >= f->keep;
	case PAT_SAWTOOTH: {
		/* Runs 1,1,2,2,...,period,period: one cycle is period*(period+1) blocks. */
		size_t pos = i % (f->period * (f->period + 1));
		size_t len = 1;

		while (pos >= 2 * len) {
			pos -= 2 * len;
			len++;
		}
		return pos >= len;
	}
	default:
		return i & 1;
	}
}

static int frag_run(void *state, struct mmb_wl_thread *t)
{
	struct frag *f = state;
	struct frag_thread *th = &f->th[t->tid];

	while (mmb_wl_running(t)) {
		size_t freed_bytes = 0, ns, nl;

		for (ns = 0; ns < f->nsmall && mmb_wl_running(t); ns++) {
			th->small[ns] = mmb_wl_alloc(t, f->small, 0);
			if (th->small[ns])
				mmb_wl_write(th->small[ns], f->small);
		}
		for (size_t i = 0; i < ns && mmb_wl_running(t); i++) {
			if (!th->small[i] || !frag_punch(f, i, t->rng))
				continue;
			mmb_wl_free(t, th->small[i], f->small);
			th->small[i] = NULL;
			freed_bytes += f->small;
		}
		for (nl = 0; nl * f->large < freed_bytes && mmb_wl_running(t); nl++) {
			th->large[nl] = mmb_wl_alloc(t, f->large, 0);
			if (th->large[nl])
				mmb_wl_write(th->large[nl], f->large);
		}
		for (size_t i = 0; i < ns; i++)
			if (th->small[i])
				mmb_wl_free(t, th->small[i], f->small);
		for (size_t i = 0; i < nl; i++)
			if (th->large[i])
				mmb_wl_free(t, th->large[i], f->large);
	}
	return 0;
}

static void frag_teardown(void *state, struct mmb_wl_thread *t0)
{
	(void)t0;
	frag_free_state(state);
}

const struct mmb_wl_ops mmb_wl_fragmenter = {
	.name = "fragmenter",
	.desc = "fill with small blocks, free in a pattern, then ask for larger blocks",
	.params = frag_params,
	.check_params = frag_check,
	.setup = frag_setup,
	.run = frag_run,
	.teardown = frag_teardown,
};

/*
 * sizes.c — random sizes from a distribution, with random lifetimes.
 *
 * Models: a program whose heap holds a steady population of objects of mixed
 * sizes, each replaced at a random moment (caches, parsers, a kernel's
 * kmalloc traffic). Each thread keeps `live` slots; every step picks a slot
 * at random, frees the block in it (if any) and allocates a new one whose
 * size comes from `dist`. A block's lifetime is therefore geometric with mean
 * `live` steps. Every page of every block is written (mmb_wl_write).
 *
 *   dist=uniform	size uniform in [min, max]
 *   dist=pow2		2^k with k uniform over the powers of two in [min, max]
 *   dist=lognormal	exp(N(ln median, sigma)), clamped to [min, max]
 *   dist=kmalloc	a kernel-object mix over the x86-64 kmalloc classes
 *			8..8192 (96 and 192 included); within a class the size
 *			is uniform above the class below, so a size-class
 *			allocator shows its internal fragmentation. The class
 *			weights (sizes_kmalloc_mix) are a hand-made
 *			approximation of a busy server's /proc/slabinfo (mostly
 *			<= 256 bytes), not a measurement; min and max are
 *			ignored.
 *
 * Must not be used for: cross-thread behaviour (every free is thread-local),
 * or comparing against published numbers (no peer benchmark has this exact
 * mix). Footprint is meaningful only once the `live` slots have filled
 * (after `live` steps or so).
 *
 * Deterministic: each thread's sequence depends only on the seed, its thread
 * number and the parameters.
 */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const struct mmb_param sizes_params[] = {
	{ "dist", MMB_P_ENUM, "uniform", 0, 0, "uniform|pow2|lognormal|kmalloc", "size distribution" },
	{ "min", MMB_P_SIZE, "8", 1, 64 << 20, NULL, "smallest size, bytes (not kmalloc)" },
	{ "max", MMB_P_SIZE, "1024", 1, 64 << 20, NULL, "largest size, bytes (not kmalloc)" },
	{ "median", MMB_P_SIZE, "64", 1, 64 << 20, NULL, "lognormal: median size, bytes" },
	{ "sigma", MMB_P_F64, "1.0", 0, 4, NULL, "lognormal: standard deviation of ln(size)" },
	{ "live", MMB_P_U64, "1000", 1, 1 << 22, NULL, "slots per thread (objects kept live)" },
	{ 0 },
};

enum { DIST_UNIFORM, DIST_POW2, DIST_LOGNORMAL, DIST_KMALLOC };

/* (class size, weight in thousandths); the weights add up to 1000. */
static const struct {
	uint32_t size, weight;
} sizes_kmalloc_mix[] = {
	{ 8, 110 }, { 16, 130 }, { 32, 150 }, { 64, 170 }, { 96, 60 }, { 128, 80 }, { 192, 70 },
	{ 256, 70 }, { 512, 60 }, { 1024, 45 }, { 2048, 30 }, { 4096, 20 }, { 8192, 5 },
};

#define SIZES_NCLASSES (sizeof(sizes_kmalloc_mix) / sizeof(sizes_kmalloc_mix[0]))

struct sizes_slot {
	char *p;
	size_t size;
};

struct sizes {
	int dist;
	size_t min, max, live;
	double mu, sigma;
	unsigned lo_shift, hi_shift;	/* pow2: the powers of two in [min, max] */
	struct sizes_slot *slots;	/* nthreads x live */
};

static unsigned sizes_ceil_log2(uint64_t v)
{
	return v & (v - 1) ? 64 - (unsigned)__builtin_clzll(v) : (unsigned)__builtin_ctzll(v);
}

static int sizes_check(const struct mmb_pvals *params, char *err, size_t errlen)
{
	uint64_t min = mmb_pval_u64(params, "min"), max = mmb_pval_u64(params, "max");
	int dist = (int)mmb_pval_u64(params, "dist");

	if (dist == DIST_KMALLOC)
		return 0;
	if (min > max) {
		snprintf(err, errlen, "workload sizes: min=%s is above max=%s",
			 mmb_pval_str(params, "min"), mmb_pval_str(params, "max"));
		return -EINVAL;
	}
	if (dist == DIST_POW2 && sizes_ceil_log2(min) > 63 - (unsigned)__builtin_clzll(max)) {
		snprintf(err, errlen, "workload sizes: no power of two in [min, max] = [%s, %s]",
			 mmb_pval_str(params, "min"), mmb_pval_str(params, "max"));
		return -EINVAL;
	}
	return 0;
}

static int sizes_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
		       void **r_state, char *err, size_t errlen)
{
	struct sizes *s = calloc(1, sizeof(*s));

	(void)seed;
	if (!s)
		goto nomem;
	s->dist = (int)mmb_pval_u64(params, "dist");
	s->min = mmb_pval_u64(params, "min");
	s->max = mmb_pval_u64(params, "max");
	s->live = mmb_pval_u64(params, "live");
	s->mu = log((double)mmb_pval_u64(params, "median"));
	s->sigma = mmb_pval_f64(params, "sigma");
	if (s->dist == DIST_POW2) {
		s->lo_shift = sizes_ceil_log2(s->min);
		s->hi_shift = 63 - (unsigned)__builtin_clzll(s->max);
	}
	s->slots = calloc((size_t)nthreads * s->live, sizeof(*s->slots));
	if (!s->slots)
		goto nomem;
	mmb_wl_touch(s->slots, (size_t)nthreads * s->live * sizeof(*s->slots));
	*r_state = s;
	return 0;
nomem:
	if (s)
		free(s->slots);
	free(s);
	snprintf(err, errlen, "sizes: out of memory");
	return -ENOMEM;
}

/* Standard normal deviate (Box-Muller; one of the pair is dropped). */
static double sizes_normal(uint64_t rng[4])
{
	double u1 = 1.0 - mmb_rand_unit(rng), u2 = mmb_rand_unit(rng);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static size_t sizes_next(const struct sizes *s, uint64_t rng[4])
{
	switch (s->dist) {
	case DIST_POW2:
		return (size_t)1 << (s->lo_shift + mmb_rand_below(rng, s->hi_shift - s->lo_shift + 1));
	case DIST_LOGNORMAL: {
		double d = exp(s->mu + s->sigma * sizes_normal(rng));

		if (d < (double)s->min)
			return s->min;
		if (d > (double)s->max)
			return s->max;
		return (size_t)d;
	}
	case DIST_KMALLOC: {
		uint64_t w = mmb_rand_below(rng, 1000);
		size_t c = 0;

		while (w >= sizes_kmalloc_mix[c].weight) {
			w -= sizes_kmalloc_mix[c].weight;
			c++;
		}
		uint32_t below = c ? sizes_kmalloc_mix[c - 1].size : 0;

		return below + 1 + mmb_rand_below(rng, sizes_kmalloc_mix[c].size - below);
	}
	default:
		return s->min + mmb_rand_below(rng, s->max - s->min + 1);
	}
}

static int sizes_run(void *state, struct mmb_wl_thread *t)
{
	struct sizes *s = state;
	struct sizes_slot *slot = &s->slots[(size_t)t->tid * s->live];

	while (mmb_wl_running(t)) {
		struct sizes_slot *v = &slot[mmb_rand_below(t->rng, s->live)];

		if (v->p)
			mmb_wl_free(t, v->p, v->size);
		v->size = sizes_next(s, t->rng);
		v->p = mmb_wl_alloc(t, v->size, 0);
		if (v->p) {
			mmb_wl_write(v->p, v->size);
		}
	}
	for (size_t i = 0; i < s->live; i++) {
		if (slot[i].p)
			mmb_wl_free(t, slot[i].p, slot[i].size);
		slot[i].p = NULL;
	}
	return 0;
}

static void sizes_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct sizes *s = state;

	(void)t0;
	free(s->slots);
	free(s);
}

const struct mmb_wl_ops mmb_wl_sizes = {
	.name = "sizes",
	.desc = "random sizes (uniform, pow2, lognormal, kmalloc mix) with random lifetimes",
	.params = sizes_params,
	.check_params = sizes_check,
	.setup = sizes_setup,
	.run = sizes_run,
	.teardown = sizes_teardown,
};

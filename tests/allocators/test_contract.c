/*
 * test_contract.c — every registered allocator through the same checks.
 *
 * Parameterized over the registry, so a new allocator is tested without new
 * test code. Allocators whose supported() says no are skipped with the
 * reason. Randomized parts use fixed seeds, printed in the test log.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../allocators/allocator.h"
#include "../../workloads/workload.h"

static const struct mmb_alloc_ops *contract_ops(size_t i, struct mmb_alloc **r_a, unsigned nthreads)
{
	const struct mmb_alloc_ops *ops = mmb_allocators[i];
	struct mmb_alloc_cfg cfg;
	const char *why = NULL;
	char err[MMB_ERR_MAX] = "";
	int rc;

	if (ops->supported && ops->supported(&why))
		cr_skip_test("%s unavailable here: %s", ops->name, why);
	cr_assert_eq(mmb_alloc_parse_config(ops->name, &ops, &cfg, err, sizeof(err)), 0, "%s", err);
	cfg.nthreads = nthreads;
	rc = ops->create(&cfg, r_a, err, sizeof(err));
	/* -ENOTSUP: an allocator that runs only in a prepared process (tcmalloc
	 * needs LD_PRELOAD); test_prod.c reruns this suite in one, with
	 * MMB_CONTRACT_REQUIRE=NAME turning the skip into a failure. */
	if (rc == -ENOTSUP && !(getenv("MMB_CONTRACT_REQUIRE") &&
				strcmp(getenv("MMB_CONTRACT_REQUIRE"), ops->name) == 0))
		cr_skip_test("%s unavailable in this process: %s", ops->name, err);
	cr_assert_eq(rc, 0, "%s: create: %s", ops->name, err);
	cr_log_info("allocator %s", ops->name);
	return ops;
}

static void contract_check(const struct mmb_alloc_ops *ops, struct mmb_alloc *a)
{
	char err[MMB_ERR_MAX] = "";

	if (ops->check)
		cr_assert_eq(ops->check(a, err, sizeof(err)), 0, "%s: check: %s", ops->name, err);
}

static size_t min_align(size_t size)
{
	size_t al = 1;

	while (al < size && al < 8)
		al <<= 1;
	return al;
}

/* The non-hidden allocators' indexes. */
ParameterizedTestParameters(contract, sizes)
{
	static size_t idx[64];
	size_t n = 0;

	for (size_t i = 0; i < mmb_nallocators && n < 64; i++)
		if (!mmb_allocators[i]->hidden)
			idx[n++] = i;
	return cr_make_param_array(size_t, idx, n);
}

ParameterizedTest(size_t *i, contract, sizes)
{
	static const size_t sizes[] = { 1, 7, 8, 16, 24, 64, 96, 100, 192, 1000, 4096, 5000,
					8192, 65536, 1 << 20 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	struct mmb_alloc *a;
	const struct mmb_alloc_ops *ops = contract_ops(*i, &a, 1);
	unsigned char *p[N];

	for (int k = 0; k < N; k++) {
		p[k] = ops->alloc(a, sizes[k], 0);
		cr_assert_not_null(p[k], "%s: alloc(%zu)", ops->name, sizes[k]);
		cr_expect_eq((uintptr_t)p[k] % min_align(sizes[k]), 0, "%s: alloc(%zu) misaligned",
			     ops->name, sizes[k]);
		if (ops->usable_size)
			cr_expect_geq(ops->usable_size(a, p[k]), sizes[k], "%s: usable_size(%zu)",
				      ops->name, sizes[k]);
		memset(p[k], 0x40 + k, sizes[k]);
	}
	for (int k = 0; k < N; k++) {
		cr_expect_eq(p[k][0], 0x40 + k, "%s: block %zu overwritten", ops->name, sizes[k]);
		cr_expect_eq(p[k][sizes[k] - 1], 0x40 + k, "%s: block %zu overwritten", ops->name,
			     sizes[k]);
	}
	for (int k = 0; k < N; k++)
		ops->free(a, p[k], sizes[k]);
	contract_check(ops, a);
	ops->destroy(a);
}

ParameterizedTestParameters(contract, alignment)
{
	return contract_sizes_param();
}

ParameterizedTest(size_t *i, contract, alignment)
{
	struct mmb_alloc *a;
	const struct mmb_alloc_ops *ops = contract_ops(*i, &a, 1);

	for (size_t align = 1; align <= 4096; align <<= 1)
		for (size_t size = 1; size <= 8192; size = size * 3 + 1) {
			unsigned char *p = ops->alloc(a, size, align);

			cr_assert_not_null(p, "%s: alloc(%zu, align %zu)", ops->name, size, align);
			cr_expect_eq((uintptr_t)p % align, 0, "%s: alloc(%zu, %zu) = %p", ops->name,
				     size, align, (void *)p);
			memset(p, 0xa5, size);
			ops->free(a, p, size);
		}
	contract_check(ops, a);
	ops->destroy(a);
}

/* Random alloc/free against a model: every live block keeps its pattern. */
ParameterizedTestParameters(contract, random_model)
{
	return contract_sizes_param();
}

ParameterizedTest(size_t *i, contract, random_model)
{
	enum { SLOTS = 512, STEPS = 20000 };
	static unsigned char *blk[SLOTS];
	static size_t len[SLOTS];
	const uint64_t seed = 0x5eed0001;
	struct mmb_alloc *a;
	const struct mmb_alloc_ops *ops = contract_ops(*i, &a, 1);
	uint64_t rng[4];

	cr_log_info("seed %#llx", (unsigned long long)seed);
	mmb_rand_seed(rng, seed);
	memset(blk, 0, sizeof(blk));
	for (int step = 0; step < STEPS; step++) {
		int s = (int)mmb_rand_below(rng, SLOTS);

		if (blk[s]) {
			for (size_t k = 0; k < len[s]; k += 61)
				cr_assert_eq(blk[s][k], (unsigned char)s, "%s: step %d: block of %zu corrupted",
					     ops->name, step, len[s]);
			ops->free(a, blk[s], len[s]);
			blk[s] = NULL;
		} else {
			len[s] = 1 + (mmb_rand_below(rng, 4) == 0 ? mmb_rand_below(rng, 20000)
								  : mmb_rand_below(rng, 300));
			blk[s] = ops->alloc(a, len[s], 0);
			cr_assert_not_null(blk[s], "%s: alloc(%zu)", ops->name, len[s]);
			memset(blk[s], s, len[s]);
		}
	}
	for (int s = 0; s < SLOTS; s++)
		if (blk[s])
			ops->free(a, blk[s], len[s]);
	contract_check(ops, a);
	ops->destroy(a);
}

/* Two threads; each frees half of its blocks and half of the other's. */
struct xt {
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	void **mine, **theirs;
	pthread_barrier_t *bar;
};

enum { XT_N = 4000 };

static void *xt_main(void *arg)
{
	struct xt *x = arg;

	if (x->ops->thread_attach)
		x->ops->thread_attach(x->a);
	for (int k = 0; k < XT_N; k++) {
		x->mine[k] = x->ops->alloc(x->a, 16 + (size_t)(k % 200), 0);
		if (x->mine[k])
			memset(x->mine[k], 1, 16);
	}
	pthread_barrier_wait(x->bar);
	for (int k = 0; k < XT_N; k += 2) {
		if (x->mine[k])
			x->ops->free(x->a, x->mine[k], 16 + (size_t)(k % 200));
		if (x->theirs[k + 1])
			x->ops->free(x->a, x->theirs[k + 1], 16 + (size_t)((k + 1) % 200));
	}
	if (x->ops->thread_detach)
		x->ops->thread_detach(x->a);
	return NULL;
}

ParameterizedTestParameters(contract, cross_thread)
{
	return contract_sizes_param();
}

ParameterizedTest(size_t *i, contract, cross_thread)
{
	static void *b0[XT_N], *b1[XT_N];
	struct mmb_alloc *a;
	const struct mmb_alloc_ops *ops = contract_ops(*i, &a, 2);
	pthread_barrier_t bar;
	struct xt x0 = { ops, a, b0, b1, &bar }, x1 = { ops, a, b1, b0, &bar };
	pthread_t t0, t1;
	struct mmb_alloc_stats st;

	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&t0, NULL, xt_main, &x0);
	pthread_create(&t1, NULL, xt_main, &x1);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	for (int k = 0; k < XT_N; k++) {
		cr_assert(b0[k] && b1[k], "%s: alloc failed", ops->name);
	}
	mmb_alloc_stats_init(&st);
	if (ops->stats)
		ops->stats(a, &st);
	contract_check(ops, a);
	ops->destroy(a);
}

/*
 * Unsized frees (free(a, p, 0), C's free(p)), on a thread attached as a
 * worker's (the per-thread fast paths). First a random sequence of blocks
 * with no alignment asked, run twice freeing with the size and then once
 * without, on one instance, each run from nothing live back to nothing
 * live (the first run leaves the caches -- glibc's tcache, which its in-use
 * count includes -- as the sequence leaves them, so the last two start
 * from the same state): blocks keep their patterns, check() stays clean,
 * and the allocator's own count of usable bytes (where it reports an exact
 * one: the second sized run brings it back to where it began) and of frees
 * is the same after the unsized run as after the sized one. Then the
 * sequence with one block in 8 asking for 64-byte alignment, freed
 * unsized: patterns and check(). Over-aligned blocks come last because
 * slab turns its sized-free fast path off for good once one lands in a
 * larger class than its size's, and that path is where a size of 0 could
 * be taken for a size. An allocator that does so (a wrong size class, a
 * count off by each block's size) fails here.
 */
enum { UNSIZED_SLOTS = 256, UNSIZED_STEPS = 12000 };

/* The worker's state; its first failure in why (asserts stay on the test's thread). */
struct unsized {
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	uint64_t seed;
	struct mmb_alloc_stats st[3];	/* after the caches' run, the sized, the unsized */
	char why[MMB_ERR_MAX + 64];
};

/* One run of the sequence from seed; sized: whether frees pass the size;
 * aligned: one block in 8 asks for 64-byte alignment. 0, or -1 with why set. */
static int unsized_run(struct unsized *u, uint64_t seed, int sized, int aligned)
{
	static unsigned char *blk[UNSIZED_SLOTS];
	static size_t len[UNSIZED_SLOTS];
	const struct mmb_alloc_ops *ops = u->ops;
	char err[MMB_ERR_MAX] = "";
	uint64_t rng[4];

	mmb_rand_seed(rng, seed);
	memset(blk, 0, sizeof(blk));
	for (int step = 0; step < UNSIZED_STEPS; step++) {
		int s = (int)mmb_rand_below(rng, UNSIZED_SLOTS);
		size_t align;

		if (blk[s]) {
			for (size_t k = 0; k < len[s]; k += 61)
				if (blk[s][k] != (unsigned char)s) {
					snprintf(u->why, sizeof(u->why),
						 "%s free: step %d: block of %zu corrupted",
						 sized ? "sized" : "unsized", step, len[s]);
					return -1;
				}
			ops->free(u->a, blk[s], sized ? len[s] : 0);
			blk[s] = NULL;
			continue;
		}
		switch (mmb_rand_below(rng, 8)) {
		case 0:		/* pages: slab's buddy blocks, vmalloc's big areas */
			len[s] = 4096 + mmb_rand_below(rng, 300000);
			break;
		case 1:
		case 2:
			len[s] = 1 + mmb_rand_below(rng, 8192);
			break;
		default:	/* the kmalloc caches' range */
			len[s] = 1 + mmb_rand_below(rng, 600);
		}
		align = aligned && mmb_rand_below(rng, 8) == 0 ? 64 : 0;
		blk[s] = ops->alloc(u->a, len[s], align);
		if (!blk[s] || (uintptr_t)blk[s] % (align ? align : 1)) {
			snprintf(u->why, sizeof(u->why), "alloc(%zu, %zu) = %p", len[s], align,
				 (void *)blk[s]);
			return -1;
		}
		memset(blk[s], s, len[s]);
	}
	for (int s = 0; s < UNSIZED_SLOTS; s++)
		if (blk[s])
			ops->free(u->a, blk[s], sized ? len[s] : 0);
	if (ops->check && ops->check(u->a, err, sizeof(err))) {
		snprintf(u->why, sizeof(u->why), "after a %s run: check: %s",
			 sized ? "sized" : "unsized", err);
		return -1;
	}
	return 0;
}

static void unsized_stats(struct unsized *u, struct mmb_alloc_stats *r_st)
{
	mmb_alloc_stats_init(r_st);
	if (u->ops->stats)
		u->ops->stats(u->a, r_st);
}

/* A worker (attached: the per-thread fast paths) makes every run. */
static void *unsized_main(void *arg)
{
	struct unsized *u = arg;

	if (u->ops->thread_attach)
		u->ops->thread_attach(u->a);
	if (!unsized_run(u, u->seed, 1, 0)) {	/* caches filled as the sequence leaves them */
		unsized_stats(u, &u->st[0]);
		if (!unsized_run(u, u->seed, 1, 0)) {
			unsized_stats(u, &u->st[1]);
			if (!unsized_run(u, u->seed, 0, 0)) {
				unsized_stats(u, &u->st[2]);
				unsized_run(u, u->seed + 1, 0, 1);
			}
		}
	}
	if (u->ops->thread_detach)
		u->ops->thread_detach(u->a);
	return NULL;
}

ParameterizedTestParameters(contract, unsized_free)
{
	return contract_sizes_param();
}

ParameterizedTest(size_t *i, contract, unsized_free)
{
	static struct unsized u;
	const struct mmb_alloc_stats *st = u.st;
	pthread_t th;

	memset(&u, 0, sizeof(u));
	u.seed = 0x5eed0022;
	u.ops = contract_ops(*i, &u.a, 1);
	cr_log_info("seed %#llx", (unsigned long long)u.seed);
	cr_assert_eq(pthread_create(&th, NULL, unsized_main, &u), 0);
	pthread_join(th, NULL);
	cr_assert(!u.why[0], "%s: %s", u.ops->name, u.why);
	cr_log_info("%s usable_bytes %llu, after sized %llu, after unsized %llu", u.ops->name,
		    (unsigned long long)st[0].usable_bytes, (unsigned long long)st[1].usable_bytes,
		    (unsigned long long)st[2].usable_bytes);
	if (st[1].usable_bytes == st[0].usable_bytes)
		cr_expect_eq(st[2].usable_bytes, st[1].usable_bytes,
			     "%s: usable_bytes %llu after the unsized run, %llu after the sized one",
			     u.ops->name, (unsigned long long)st[2].usable_bytes,
			     (unsigned long long)st[1].usable_bytes);
	if (st[0].frees != MMB_STAT_NONE)
		cr_expect_eq(st[2].frees - st[1].frees, st[1].frees - st[0].frees,
			     "%s: %llu frees counted in the unsized run, %llu in the sized one",
			     u.ops->name, (unsigned long long)(st[2].frees - st[1].frees),
			     (unsigned long long)(st[1].frees - st[0].frees));
	u.ops->destroy(u.a);
}

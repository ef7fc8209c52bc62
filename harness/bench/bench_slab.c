/*
 * bench_slab.c — kmalloc (the `slab` allocator) side by side with the
 * production allocators, in one interleaved run, all through their
 * registry adapters (the same contract calls, sized free, thread attached):
 *
 *   pair	alloc(64) + free
 *   batch	1000 blocks of random sizes 1..512 bytes (fixed seed), freed in
 *		a random other order; ns per block (one alloc + one free)
 *
 * `slab` runs twice: as configured by default (per-thread sheaves of the
 * kernel's capacity by size on top of the slabs, as the "sheaves for all
 * caches" series sets up every cache) and as classic SLUB (active slab +
 * partial lists only, `slab:sheaf=0`). The
 * production side is `jemalloc` (its own arena and explicit tcache),
 * `jemalloc-malloc` (plain malloc: jemalloc owns mmbench's malloc),
 * `mimalloc` and `glibc`. tcmalloc is only usable LD_PRELOADed into a cell's
 * process (allocators/tcmalloc.c), never in this one, so "best" is over the
 * production allocators measured here, named in the output.
 *
 * Targets (issue 4): pair <= 0.8x jemalloc; batch <= 1.0x the best of
 * jemalloc, mimalloc and tcmalloc.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../allocators/allocator.h"
#include "../../workloads/workload.h"
#include "bench.h"

#define BATCH 1000

static const char *const bs_configs[] = {
	"slab", "slab:sheaf=0", "jemalloc", "jemalloc-malloc", "mimalloc", "glibc",
};
#define BS_N (sizeof(bs_configs) / sizeof(bs_configs[0]))
#define BS_NSLAB 2			/* the first two are slab's */

struct bs_arg {
	const char *name;
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	const uint16_t *size;		/* BATCH sizes */
	const uint32_t *order;		/* BATCH indexes: the free order */
	void **blk;
};

static void bs_pair_loop(void *arg, uint64_t iters)
{
	struct bs_arg *x = arg;

	for (uint64_t i = 0; i < iters; i++) {
		void *b = x->ops->alloc(x->a, 64, 0);

		__asm__ volatile("" : : "g"(b) : "memory");
		x->ops->free(x->a, b, 64);
	}
}

static void bs_batch_loop(void *arg, uint64_t iters)
{
	struct bs_arg *x = arg;

	for (uint64_t i = 0; i < iters; i++) {
		for (int k = 0; k < BATCH; k++) {
			x->blk[k] = x->ops->alloc(x->a, x->size[k], 0);
			__asm__ volatile("" : : "g"(x->blk[k]) : "memory");
		}
		for (int k = 0; k < BATCH; k++)
			x->ops->free(x->a, x->blk[x->order[k]], x->size[x->order[k]]);
	}
}

/* Create and attach one config; 0, or -errno with the reason printed. */
static int bs_open(const char *spec, struct bs_arg *x)
{
	struct mmb_alloc_cfg cfg;
	char err[MMB_ERR_MAX] = "";
	const char *why = NULL;
	int rc;

	rc = mmb_alloc_parse_config(spec, &x->ops, &cfg, err, sizeof(err));
	if (!rc && x->ops->supported && (rc = x->ops->supported(&why)))
		snprintf(err, sizeof(err), "%s", why);
	if (!rc) {
		cfg.nthreads = 1;
		rc = x->ops->create(&cfg, &x->a, err, sizeof(err));
	}
	if (rc) {
		printf("  %s: not measured: %s\n", spec, err);
		return rc;
	}
	if (x->ops->thread_attach)
		x->ops->thread_attach(x->a);
	x->name = spec;
	return 0;
}

static void bs_close(struct bs_arg *x)
{
	if (x->ops->thread_detach)
		x->ops->thread_detach(x->a);
	x->ops->destroy(x->a);
}

/* The index in x[0..n) of the config named spec, or -1. */
static int bs_find(const struct bs_arg *x, unsigned n, const char *spec)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(x[i].name, spec))
			return (int)i;
	return -1;
}

static int bench_slab_run(const struct mmb_bench_opts *o)
{
	static void *blk[BS_N][BATCH];
	struct bs_arg x[BS_N];
	struct mmb_bench_fn fns[2 * BS_N];
	uint16_t size[BATCH];
	uint32_t order[BATCH];
	double ns[2 * BS_N];
	unsigned n = 0;
	uint64_t rng[4];
	int je, best = -1;

	mmb_rand_seed(rng, 0x51ab0bec);
	for (int k = 0; k < BATCH; k++) {
		size[k] = (uint16_t)(1 + mmb_rand_below(rng, 512));
		order[k] = (uint32_t)k;
	}
	mmb_rand_shuffle(rng, order, BATCH);
	for (unsigned i = 0; i < BS_N; i++) {
		if (bs_open(bs_configs[i], &x[n])) {
			if (i < BS_NSLAB) {
				while (n--)
					bs_close(&x[n]);
				return -ENOTSUP;
			}
			continue;
		}
		x[n].size = size;
		x[n].order = order;
		x[n].blk = blk[n];
		n++;
	}
	for (unsigned i = 0; i < n; i++) {
		fns[i] = (struct mmb_bench_fn){ x[i].name, bs_pair_loop, &x[i] };
		fns[n + i] = (struct mmb_bench_fn){ x[i].name, bs_batch_loop, &x[i] };
	}
	mmb_bench_interleaved(fns, 2 * n, o, ns);
	for (unsigned i = 0; i < n; i++) {
		char what[96];

		snprintf(what, sizeof(what), "%s alloc(64)+free pair", x[i].name);
		mmb_bench_row(what, ns[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		char what[96];

		ns[n + i] /= BATCH;
		snprintf(what, sizeof(what), "%s batch (1000 x 1..512 B), per block", x[i].name);
		mmb_bench_row(what, ns[n + i]);
	}

	je = bs_find(x, n, "jemalloc");
	for (const char *const *p = (const char *const[]){ "jemalloc", "jemalloc-malloc", "mimalloc",
							   NULL }; *p; p++) {
		int k = bs_find(x, n, *p);

		if (k >= 0 && (best < 0 || ns[n + (unsigned)k] < ns[n + (unsigned)best]))
			best = k;
	}
	for (unsigned v = 0; v < BS_NSLAB; v++) {
		char what[128];

		if (je >= 0) {
			snprintf(what, sizeof(what), "pair: %s / jemalloc", x[v].name);
			mmb_bench_ratio(what, ns[v], ns[je], 0.8);
		} else {
			printf("  pair: %s: target not checked, jemalloc not measured\n", x[v].name);
		}
	}
	printf("  (tcmalloc runs only LD_PRELOADed into a cell, not in this process)\n");
	for (unsigned v = 0; v < BS_NSLAB; v++) {
		char what[128];

		if (best >= 0) {
			snprintf(what, sizeof(what), "batch: %s / best (%s)", x[v].name, x[best].name);
			mmb_bench_ratio(what, ns[n + v], ns[n + (unsigned)best], 1.0);
		} else {
			printf("  batch: %s: target not checked, no production allocator measured\n",
			       x[v].name);
		}
	}
	while (n--)
		bs_close(&x[n]);
	return 0;
}

const struct mmb_bench_case mmb_bench_slab = {
	.name = "slab",
	.desc = "kmalloc alloc(64)+free pair and a 1000-block batch vs jemalloc, mimalloc, glibc",
	.run = bench_slab_run,
};

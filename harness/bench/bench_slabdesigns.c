/*
 * bench_slabdesigns.c — the kernel's three kmalloc designs side by side:
 * SLUB (`slab`, as configured by default: per-thread sheaves; and classic
 * SLUB, `slab:sheaf=0`), SLAB (`kmalloc-slab`) and SLOB (`kmalloc-slob`),
 * all through their registry adapters on one thread:
 *
 *   pair	alloc(64) + free, ns
 *   batch	1000 blocks of random sizes 1..512 bytes (fixed seed), freed in
 *		a random other order; ns per block (one alloc + one free)
 *   footprint	the `sizes` workload with dist=kmalloc,live=20000 (seed 1,
 *		400000 calls) run in this process; the allocator's stats are
 *		read every 256 calls: peak footprint, and at that sample the
 *		overhead (footprint / requested bytes live) and the internal
 *		fragmentation (1 - requested / usable)
 *
 * Times are ratios against SLUB with no target (SLAB and SLOB are models of
 * retired designs, issue 24). The footprint target is the ordering the
 * designs are known for: SLOB <= SLUB <= SLAB, checked as two ratios of
 * peak footprints with target <= 1.00, against both SLUB configurations,
 * and once more with SLUB held to SLAB's largest slab (max_order=1): SLUB's
 * order-2 and order-3 slabs for the larger caches leave more of each
 * cache's last slab unused than SLAB's order-0/1 slabs, which can outweigh
 * SLAB's larger internal fragmentation (32-byte smallest class).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../allocators/allocator.h"
#include "../../workloads/workload.h"
#include "bench.h"

#define BATCH 1000
#define FP_CALLS 400000
#define FP_SAMPLE 256

static const char *const sd_configs[] = { "slab", "slab:sheaf=0", "kmalloc-slab", "kmalloc-slob" };
#define SD_N (sizeof(sd_configs) / sizeof(sd_configs[0]))
#define FP_SLUB_O1 "slab:sheaf=0,max_order=1"	/* footprint only */

struct sd_arg {
	const char *name;
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	const uint16_t *size;
	const uint32_t *order;
	void **blk;
};

static void sd_pair_loop(void *arg, uint64_t iters)
{
	struct sd_arg *x = arg;

	for (uint64_t i = 0; i < iters; i++) {
		void *b = x->ops->alloc(x->a, 64, 0);

		__asm__ volatile("" : : "g"(b) : "memory");
		x->ops->free(x->a, b, 64);
	}
}

static void sd_batch_loop(void *arg, uint64_t iters)
{
	struct sd_arg *x = arg;

	for (uint64_t i = 0; i < iters; i++) {
		for (int k = 0; k < BATCH; k++) {
			x->blk[k] = x->ops->alloc(x->a, x->size[k], 0);
			__asm__ volatile("" : : "g"(x->blk[k]) : "memory");
		}
		for (int k = 0; k < BATCH; k++)
			x->ops->free(x->a, x->blk[x->order[k]], x->size[x->order[k]]);
	}
}

static int sd_open(const char *spec, struct sd_arg *x)
{
	struct mmb_alloc_cfg cfg;
	char err[MMB_ERR_MAX] = "";
	int rc = mmb_alloc_parse_config(spec, &x->ops, &cfg, err, sizeof(err));

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

static void sd_close(struct sd_arg *x)
{
	if (x->ops->thread_detach)
		x->ops->thread_detach(x->a);
	x->ops->destroy(x->a);
}

/* ---- footprint: a proxy allocator that samples the real one's stats ---- */

struct fp_proxy {
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	uint64_t calls;
	int64_t live;			/* requested bytes live */
	uint64_t peak, peak_usable;	/* at the peak sample */
	int64_t peak_live;
};

static void fp_sample(struct fp_proxy *p)
{
	struct mmb_alloc_stats st;

	mmb_alloc_stats_init(&st);
	p->ops->stats(p->a, &st);
	if (st.footprint_bytes != MMB_STAT_NONE && st.footprint_bytes > p->peak) {
		p->peak = st.footprint_bytes;
		p->peak_usable = st.usable_bytes;
		p->peak_live = p->live;
	}
}

static void *fp_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	struct fp_proxy *p = (struct fp_proxy *)a;
	void *b = p->ops->alloc(p->a, size, align);

	if (b)
		p->live += (int64_t)size;
	if (++p->calls % FP_SAMPLE == 0)
		fp_sample(p);
	return b;
}

static void fp_free(struct mmb_alloc *a, void *b, size_t size)
{
	struct fp_proxy *p = (struct fp_proxy *)a;

	p->ops->free(p->a, b, size);
	p->live -= (int64_t)size;
	if (++p->calls % FP_SAMPLE == 0)
		fp_sample(p);
}

static const struct mmb_alloc_ops fp_ops = { .name = "fp-proxy", .alloc = fp_alloc, .free = fp_free };

/* Runs sizes:dist=kmalloc,live=20000 on x; 0 or -errno (reason printed). */
static int sd_footprint(struct sd_arg *x, struct fp_proxy *p)
{
	const struct mmb_wl_ops *wl = mmb_wl_find("sizes");
	struct mmb_pvals params;
	struct mmb_wl_thread t;
	atomic_int stop = 0;
	char err[MMB_ERR_MAX] = "";
	void *state;
	int rc;

	memset(p, 0, sizeof(*p));
	p->ops = x->ops;
	p->a = x->a;
	if (!wl || mmb_params_parse(wl->params, "dist=kmalloc,live=20000", "workload sizes", &params,
				    err, sizeof(err)) ||
	    (rc = wl->setup(&params, 1, 1, &state, err, sizeof(err)))) {
		printf("  footprint: not measured: %s\n", wl ? err : "no workload 'sizes'");
		return -EINVAL;
	}
	memset(&t, 0, sizeof(t));
	t.ops = &fp_ops;
	t.a = (struct mmb_alloc *)p;
	t.nthreads = 1;
	t.stop = &stop;
	t.ops_limit = FP_CALLS;
	mmb_rand_seed(t.rng, 1);
	rc = wl->run(state, &t);
	wl->teardown(state, &t);
	if (rc)
		printf("  footprint: %s: the workload failed (%d)\n", x->name, rc);
	return rc;
}

static int bench_slabdesigns_run(const struct mmb_bench_opts *o)
{
	static void *blk[SD_N][BATCH];
	struct sd_arg x[SD_N + 1];
	struct mmb_bench_fn fns[2 * SD_N];
	struct fp_proxy fp[SD_N + 1];
	uint16_t size[BATCH];
	uint32_t order[BATCH];
	double ns[2 * SD_N];
	uint64_t rng[4];
	unsigned n = SD_N;

	mmb_rand_seed(rng, 0x51ab0bec);
	for (int k = 0; k < BATCH; k++) {
		size[k] = (uint16_t)(1 + mmb_rand_below(rng, 512));
		order[k] = (uint32_t)k;
	}
	mmb_rand_shuffle(rng, order, BATCH);
	for (unsigned i = 0; i < SD_N; i++) {
		if (sd_open(sd_configs[i], &x[i])) {
			while (i--)
				sd_close(&x[i]);
			return -ENOTSUP;
		}
		x[i].size = size;
		x[i].order = order;
		x[i].blk = blk[i];
		fns[i] = (struct mmb_bench_fn){ x[i].name, sd_pair_loop, &x[i] };
		fns[n + i] = (struct mmb_bench_fn){ x[i].name, sd_batch_loop, &x[i] };
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
	for (unsigned i = 2; i < n; i++)
		for (unsigned s = 0; s < 2; s++) {
			printf("  pair: %s / %-15s %10.3f   (no target)\n", x[i].name, x[s].name,
			       ns[i] / ns[s]);
			printf("  batch: %s / %-14s %10.3f   (no target)\n", x[i].name, x[s].name,
			       ns[n + i] / ns[n + s]);
		}
	for (unsigned i = 0; i < n; i++)
		sd_close(&x[i]);

	/* Footprint: fresh instances, one after the other (not timed). */
	printf("  footprint on sizes:dist=kmalloc,live=20000 (1 thread, %d calls, stats every %d):\n",
	       FP_CALLS, FP_SAMPLE);
	for (unsigned i = 0; i <= n; i++) {
		if (sd_open(i < n ? sd_configs[i] : FP_SLUB_O1, &x[i]))
			return -ENOTSUP;
		if (sd_footprint(&x[i], &fp[i])) {
			sd_close(&x[i]);
			return -EINVAL;
		}
		sd_close(&x[i]);
		printf("  %-25s peak %8.0f KiB  overhead %.3f  internal_frag %.3f\n", x[i].name,
		       (double)fp[i].peak / 1024, (double)fp[i].peak / (double)fp[i].peak_live,
		       1.0 - (double)fp[i].peak_live / (double)fp[i].peak_usable);
	}
	for (unsigned s = 0; s < 2; s++) {
		char what[128];

		snprintf(what, sizeof(what), "footprint: kmalloc-slob / %s", x[s].name);
		mmb_bench_ratio(what, (double)fp[3].peak, (double)fp[s].peak, 1.0);
		snprintf(what, sizeof(what), "footprint: %s / kmalloc-slab", x[s].name);
		mmb_bench_ratio(what, (double)fp[s].peak, (double)fp[2].peak, 1.0);
	}
	mmb_bench_ratio("footprint: " FP_SLUB_O1 " / kmalloc-slab", (double)fp[n].peak,
			(double)fp[2].peak, 1.0);
	return 0;
}

const struct mmb_bench_case mmb_bench_slabdesigns = {
	.name = "slabdesigns",
	.desc = "SLAB and SLOB kmalloc vs SLUB: pair and batch times, footprint on the kmalloc mix",
	.run = bench_slabdesigns_run,
};

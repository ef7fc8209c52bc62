/*
 * bench_slab.c — kmalloc (the `slab` allocator) against the best native
 * fast path of the production libraries, in one interleaved run:
 *
 *   pair	alloc(64) + free
 *   batch	1000 blocks of random sizes 1..512 bytes (fixed seed), freed in
 *		a random other order; ns per block (one alloc + one free)
 *
 * (the loops of bench_loops.h). `slab` runs twice, through its registry
 * adapter (sized free, thread attached, as a cell calls it): as configured
 * by default (per-thread sheaves of the kernel's capacity by size on top of
 * the slabs, as the "sheaves for all caches" series sets up every cache)
 * and as classic SLUB (active slab + partial lists only, `slab:sheaf=0`),
 * and with sheaves of 256 objects (`slab:sheaf=256`), which hold the whole
 * batch per thread (the kernel's capacity, 28 for kmalloc-512 with a barn of
 * 10 + 2 sheaves per thread, holds 336 of the batch's ~500 kmalloc-512
 * objects, so the rest goes back to the slabs and is refilled every round,
 * while tcmalloc's thread cache keeps them all): what is left of the batch
 * gap with sheaf=256 is the fast path's own.
 *
 * Every variant runs on one CPU (mmb_bench_pin). The other side is never
 * an adapter: it is jemalloc's, mimalloc's and
 * tcmalloc's own malloc/free, each in an LD_PRELOADed child (bench_loops.h),
 * and "best" is the fastest of those measured, for each shape, named in
 * the output. (bench production says what the production adapters cost on
 * top of those.) slab pays the registry's indirect call that the natives do
 * not.
 *
 * Targets (issue 19): slab pair / best native pair <= 1.0;
 * slab batch / best native batch <= 0.9.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../allocators/allocator.h"
#include "bench.h"
#include "bench_loops.h"

static const char *const bs_slabs[] = { "slab", "slab:sheaf=0", "slab:sheaf=256" };
static const char *const bs_natives[] = { "jemalloc", "mimalloc", "tcmalloc" };
#define BS_NSLAB (sizeof(bs_slabs) / sizeof(bs_slabs[0]))
#define BS_NNAT (sizeof(bs_natives) / sizeof(bs_natives[0]))
#define BS_N (BS_NSLAB + BS_NNAT)
#define BS_PAIR_TARGET 1.0
#define BS_BATCH_TARGET 0.9

/* The fastest native (index into nat) of shape base (0 pair, n batch), or -1. */
static int bs_best(const struct mmb_native *nat, unsigned nn, const double *ns, unsigned base)
{
	int best = -1;

	for (unsigned k = 0; k < nn; k++)
		if (!nat[k].failed && (best < 0 || ns[base + k] < ns[base + (unsigned)best]))
			best = (int)k;
	return best;
}

static int bench_slab_run(const struct mmb_bench_opts *o)
{
	static struct mmb_bench_pattern pat;
	static struct mmb_bench_slots slots[BS_NSLAB];
	struct mmb_bench_adapter x[BS_NSLAB];
	struct mmb_native nat[BS_NNAT];
	struct mmb_bench_fn fns[2 * BS_N];
	double ns[2 * BS_N];
	unsigned nn = 0, n;
	int bp, bb;
	char err[MMB_ERR_MAX];

	mmb_bench_batch_pattern(pat.size, pat.order);
	for (unsigned i = 0; i < BS_NNAT; i++) {
		err[0] = 0;
		if (mmb_native_start(&nat[nn], bs_natives[i], err, sizeof(err)))
			printf("  %s native: not measured: %s\n", bs_natives[i], err);
		else
			nn++;
	}
	for (unsigned i = 0; i < BS_NSLAB; i++) {
		x[i] = (struct mmb_bench_adapter){ .size = pat.size, .order = pat.order,
						    .blk = slots[i].blk };
		if (mmb_bench_adapter_open(&x[i], bs_slabs[i], err, sizeof(err))) {
			printf("  %s: not measured: %s\n", bs_slabs[i], err);
			while (i--)
				mmb_bench_adapter_close(&x[i]);
			while (nn--)
				mmb_native_stop(&nat[nn]);
			return -ENOTSUP;
		}
	}
	/* [0, n): pairs, slabs then natives; [n, 2n): batches, the same order. */
	n = BS_NSLAB + nn;
	for (unsigned i = 0; i < BS_NSLAB; i++) {
		fns[i] = (struct mmb_bench_fn){ bs_slabs[i], mmb_bench_adapter_pair, &x[i] };
		fns[n + i] = (struct mmb_bench_fn){ bs_slabs[i], mmb_bench_adapter_batch, &x[i] };
	}
	for (unsigned k = 0; k < nn; k++) {
		fns[BS_NSLAB + k] = (struct mmb_bench_fn){ nat[k].name, mmb_native_pair, &nat[k] };
		fns[n + BS_NSLAB + k] = (struct mmb_bench_fn){ nat[k].name, mmb_native_batch, &nat[k] };
	}
	mmb_bench_interleaved(fns, 2 * n, o, ns);
	for (unsigned k = 0; k < nn; k++)
		printf("  %s native: %s\n", nat[k].name,
		       nat[k].failed ? "not measured: the child stopped answering" : nat[k].provider);
	for (unsigned i = 0; i < n; i++) {
		char what[96];

		if (i >= BS_NSLAB && nat[i - BS_NSLAB].failed)
			continue;
		snprintf(what, sizeof(what), "%s%s alloc(64)+free pair", fns[i].name,
			 i < BS_NSLAB ? "" : " native");
		mmb_bench_row(what, ns[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		char what[96];

		if (i >= BS_NSLAB && nat[i - BS_NSLAB].failed)
			continue;
		ns[n + i] /= MMB_BENCH_BATCH;
		snprintf(what, sizeof(what), "%s%s batch (1000 x 1..512 B), per block", fns[i].name,
			 i < BS_NSLAB ? "" : " native");
		mmb_bench_row(what, ns[n + i]);
	}
	bp = bs_best(nat, nn, ns, BS_NSLAB);
	bb = bs_best(nat, nn, ns, n + BS_NSLAB);
	for (unsigned v = 0; v < BS_NSLAB; v++) {
		char what[128];

		if (bp < 0) {
			printf("  %s: targets not checked: no native malloc measured\n", bs_slabs[v]);
			continue;
		}
		snprintf(what, sizeof(what), "pair: %s / best native (%s)", bs_slabs[v], nat[bp].name);
		mmb_bench_ratio(what, ns[v], ns[BS_NSLAB + (unsigned)bp], BS_PAIR_TARGET);
		snprintf(what, sizeof(what), "batch: %s / best native (%s)", bs_slabs[v], nat[bb].name);
		mmb_bench_ratio(what, ns[n + v], ns[n + BS_NSLAB + (unsigned)bb], BS_BATCH_TARGET);
	}
	for (unsigned i = BS_NSLAB; i--;)
		mmb_bench_adapter_close(&x[i]);
	while (nn--)
		mmb_native_stop(&nat[nn]);
	return 0;
}

const struct mmb_bench_case mmb_bench_slab = {
	.name = "slab",
	.desc = "kmalloc alloc(64)+free pair and a 1000-block batch vs the best native malloc "
		"(jemalloc, mimalloc, tcmalloc)",
	.run = bench_slab_run,
	.one_cpu = 1,
};

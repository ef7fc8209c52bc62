/*
 * bench_production.c — what the instrumented production adapters cost over
 * their libraries' own malloc: `jemalloc` and `mimalloc` (the registry
 * entries whose pages come from a counted region) against the same
 * library's plain malloc/free in an LD_PRELOADed child (bench_loops.h),
 * all variants interleaved in one run, the pair and the batch each.
 *
 * The adapter side pays the registry's indirect call, the adapter's own
 * work (a thread-local test and an alignment test before a tail jump into
 * the library) and whatever differs in the path it takes through the
 * library; the ratio is that overhead. Every variant runs on one CPU
 * (mmb_bench_pin). Target (issue 19): adapter / native <= 1.15 for both shapes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../allocators/allocator.h"
#include "bench.h"
#include "bench_loops.h"

static const char *const bp_libs[] = { "jemalloc", "mimalloc" };
#define BP_N (sizeof(bp_libs) / sizeof(bp_libs[0]))
#define BP_TARGET 1.15

static int bench_production_run(const struct mmb_bench_opts *o)
{
	static struct mmb_bench_pattern pat;
	static struct mmb_bench_slots slots[BP_N];
	struct mmb_bench_adapter x[BP_N];
	struct mmb_native nat[BP_N];
	struct mmb_bench_fn fns[4 * BP_N];
	double ns[4 * BP_N];
	unsigned n = 0, at[BP_N];
	char err[MMB_ERR_MAX];

	mmb_bench_batch_pattern(pat.size, pat.order);
	/* Children first: none is forked from a thread an adapter has bound. */
	for (unsigned i = 0; i < BP_N; i++) {
		err[0] = 0;
		if (mmb_native_start(&nat[n], bp_libs[i], err, sizeof(err))) {
			printf("  %s: not measured: native malloc: %s\n", bp_libs[i], err);
			continue;
		}
		x[n] = (struct mmb_bench_adapter){ .size = pat.size, .order = pat.order,
						    .blk = slots[n].blk };
		if (mmb_bench_adapter_open(&x[n], bp_libs[i], err, sizeof(err))) {
			printf("  %s: not measured: adapter: %s\n", bp_libs[i], err);
			mmb_native_stop(&nat[n]);
			continue;
		}
		at[n++] = i;
	}
	if (!n)
		return -ENOTSUP;
	for (unsigned k = 0; k < n; k++) {
		fns[2 * k] = (struct mmb_bench_fn){ bp_libs[at[k]], mmb_bench_adapter_pair, &x[k] };
		fns[2 * k + 1] = (struct mmb_bench_fn){ bp_libs[at[k]], mmb_native_pair, &nat[k] };
		fns[2 * n + 2 * k] =
			(struct mmb_bench_fn){ bp_libs[at[k]], mmb_bench_adapter_batch, &x[k] };
		fns[2 * n + 2 * k + 1] =
			(struct mmb_bench_fn){ bp_libs[at[k]], mmb_native_batch, &nat[k] };
	}
	mmb_bench_interleaved(fns, 4 * n, o, ns);
	for (unsigned k = 0; k < n; k++) {
		const char *lib = bp_libs[at[k]];
		char what[128];

		if (nat[k].failed) {
			printf("  %s: not measured: the native child stopped answering\n", lib);
			continue;
		}
		printf("  %s native: malloc served by %s (LD_PRELOADed child)\n", lib,
		       nat[k].provider);
		snprintf(what, sizeof(what), "%s adapter alloc(64)+free pair", lib);
		mmb_bench_row(what, ns[2 * k]);
		snprintf(what, sizeof(what), "%s native malloc(64)+free pair", lib);
		mmb_bench_row(what, ns[2 * k + 1]);
		snprintf(what, sizeof(what), "%s adapter batch (1000 x 1..512 B), per block", lib);
		mmb_bench_row(what, ns[2 * n + 2 * k] / MMB_BENCH_BATCH);
		snprintf(what, sizeof(what), "%s native batch (1000 x 1..512 B), per block", lib);
		mmb_bench_row(what, ns[2 * n + 2 * k + 1] / MMB_BENCH_BATCH);
		snprintf(what, sizeof(what), "pair: %s adapter / %s native", lib, lib);
		mmb_bench_ratio(what, ns[2 * k], ns[2 * k + 1], BP_TARGET);
		snprintf(what, sizeof(what), "batch: %s adapter / %s native", lib, lib);
		mmb_bench_ratio(what, ns[2 * n + 2 * k], ns[2 * n + 2 * k + 1], BP_TARGET);
	}
	while (n--) {
		mmb_bench_adapter_close(&x[n]);
		mmb_native_stop(&nat[n]);
	}
	return 0;
}

const struct mmb_bench_case mmb_bench_production = {
	.name = "production",
	.desc = "jemalloc and mimalloc adapters vs the same library's own malloc (LD_PRELOADed child)",
	.run = bench_production_run,
	.one_cpu = 1,
};

/*
 * bench_glibc.c — the baseline every other bench compares with: glibc's
 * malloc+free pair at a small and a page size, through the glibc adapter.
 */
#include <errno.h>
#include <stdio.h>

#include "../../allocators/allocator.h"
#include "bench.h"

struct pair_arg {
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	size_t size;
};

static void pair_loop(void *arg, uint64_t iters)
{
	struct pair_arg *p = arg;

	for (uint64_t i = 0; i < iters; i++) {
		void *b = p->ops->alloc(p->a, p->size, 0);

		__asm__ volatile("" : : "g"(b) : "memory");
		p->ops->free(p->a, b, p->size);
	}
}

static int bench_glibc_run(const struct mmb_bench_opts *o)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc_cfg cfg;
	struct mmb_alloc *a;
	char err[256];
	double ns[2];

	if (mmb_alloc_parse_config("glibc", &ops, &cfg, err, sizeof(err)) ||
	    ops->create(&cfg, &a, err, sizeof(err))) {
		printf("  %s\n", err);
		return -ENOTSUP;
	}
	struct pair_arg small = { ops, a, 64 }, page = { ops, a, 4096 };
	const struct mmb_bench_fn fns[] = {
		{ "malloc(64)+free", pair_loop, &small },
		{ "malloc(4096)+free", pair_loop, &page },
	};

	mmb_bench_interleaved(fns, 2, o, ns);
	mmb_bench_row("glibc malloc(64)+free pair", ns[0]);
	mmb_bench_row("glibc malloc(4096)+free pair", ns[1]);
	ops->destroy(a);
	return 0;
}

const struct mmb_bench_case mmb_bench_glibc = {
	.name = "glibc",
	.desc = "glibc malloc+free pairs, the baseline",
	.run = bench_glibc_run,
};

/*
 * bench_buddy.c — the buddy allocator's alloc+free pairs, measured side by
 * side with glibc's malloc(4096)+free in one interleaved run:
 *	order 0 with per-thread lists, order 0 zone only (pcp=off),
 *	orders 3 and 9 (order 3 through the lists, order 9 always the zone),
 *	the `buddy` registry entry's alloc(4096)+free, and glibc.
 * Target (issue 3): the order-0 pair with per-thread lists no slower than
 * the glibc 4 KiB pair (ratio <= 1.0). Frames are not touched by either side
 * beyond what the allocators themselves write.
 */
#include <errno.h>
#include <stdio.h>

#include "../../allocators/allocator.h"
#include "../../allocators/buddy.h"
#include "bench.h"

struct buddy_pair {
	struct mmb_buddy *b;
	unsigned order;
};

static void buddy_pair_loop(void *arg, uint64_t iters)
{
	struct buddy_pair *p = arg;

	for (uint64_t i = 0; i < iters; i++) {
		struct mmb_page *pg = mmb_alloc_pages(p->b, p->order, MMB_MT_MOVABLE);

		__asm__ volatile("" : : "g"(pg) : "memory");
		mmb_free_pages(p->b, pg, p->order);
	}
}

struct contract_pair {
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	size_t size;
};

static void contract_pair_loop(void *arg, uint64_t iters)
{
	struct contract_pair *p = arg;

	for (uint64_t i = 0; i < iters; i++) {
		void *blk = p->ops->alloc(p->a, p->size, 0);

		__asm__ volatile("" : : "g"(blk) : "memory");
		p->ops->free(p->a, blk, p->size);
	}
}

static int bench_contract_create(const char *spec, struct contract_pair *p)
{
	struct mmb_alloc_cfg cfg;
	char err[MMB_ERR_MAX];

	if (mmb_alloc_parse_config(spec, &p->ops, &cfg, err, sizeof(err)) ||
	    p->ops->create(&cfg, &p->a, err, sizeof(err))) {
		printf("  %s: %s\n", spec, err);
		return -ENOTSUP;
	}
	p->size = 4096;
	if (p->ops->thread_attach)
		p->ops->thread_attach(p->a);
	return 0;
}

static void bench_contract_destroy(struct contract_pair *p)
{
	if (p->ops->thread_detach)
		p->ops->thread_detach(p->a);
	p->ops->destroy(p->a);
}

static int bench_buddy_run(const struct mmb_bench_opts *o)
{
	struct mmb_buddy_cfg on = { 1ULL << 30, 1, 0, 0, 1, 1 }, off = on;
	struct mmb_buddy *bon = NULL, *boff = NULL;
	struct contract_pair glibc, contract;
	char err[MMB_ERR_MAX];
	double ns[6];
	int rc;

	off.pcp = 0;
	if (mmb_buddy_create(&on, &bon, err, sizeof(err)) ||
	    mmb_buddy_create(&off, &boff, err, sizeof(err))) {
		printf("  %s\n", err);
		mmb_buddy_destroy(bon);
		return -ENOMEM;
	}
	rc = bench_contract_create("glibc", &glibc);
	if (rc)
		goto out_buddy;
	rc = bench_contract_create("buddy", &contract);
	if (rc)
		goto out_glibc;
	mmb_buddy_thread_attach(bon);

	struct buddy_pair o0 = { bon, 0 }, o0z = { boff, 0 }, o3 = { bon, 3 }, o9 = { bon, 9 };
	const struct mmb_bench_fn fns[] = {
		{ "order-0 pcp", buddy_pair_loop, &o0 },
		{ "order-0 zone", buddy_pair_loop, &o0z },
		{ "order-3 pcp", buddy_pair_loop, &o3 },
		{ "order-9", buddy_pair_loop, &o9 },
		{ "buddy alloc(4096)", contract_pair_loop, &contract },
		{ "glibc malloc(4096)", contract_pair_loop, &glibc },
	};

	mmb_bench_interleaved(fns, 6, o, ns);
	mmb_bench_row("buddy order-0 alloc_pages+free_pages, per-thread lists", ns[0]);
	mmb_bench_row("buddy order-0 pair, zone only (pcp=off)", ns[1]);
	mmb_bench_row("buddy order-3 pair, per-thread lists", ns[2]);
	mmb_bench_row("buddy order-9 pair (zone; 512-frame compound)", ns[3]);
	mmb_bench_row("buddy registry alloc(4096)+free, per-thread lists", ns[4]);
	mmb_bench_row("glibc malloc(4096)+free pair", ns[5]);
	mmb_bench_ratio("order-0 pair with per-thread lists / glibc 4 KiB pair", ns[0], ns[5], 1.0);
	printf("  %-56s %10.3f\n", "order-0 pair zone only / with per-thread lists", ns[1] / ns[0]);
	printf("  %-56s %10.3f\n", "registry alloc(4096) pair / glibc 4 KiB pair", ns[4] / ns[5]);
	mmb_buddy_thread_detach(bon);
	bench_contract_destroy(&contract);
out_glibc:
	bench_contract_destroy(&glibc);
out_buddy:
	mmb_buddy_destroy(boff);
	mmb_buddy_destroy(bon);
	return rc;
}

const struct mmb_bench_case mmb_bench_buddy = {
	.name = "buddy",
	.desc = "buddy alloc+free pairs (orders 0, 3, 9; with and without per-thread lists) vs glibc",
	.run = bench_buddy_run,
};

/*
 * pages.c — page-granular requests with an order distribution.
 *
 * Models: the buddy allocator's own traffic: requests of 2^order pages
 * (4 KiB << order), page-aligned, mostly order 0 with fewer large orders
 * (page cache and anonymous pages at order 0, slab and network buffers at
 * orders 1-3, huge or DMA buffers above). Each thread keeps `live` slots and
 * replaces a random one per step, as `sizes` does; every page of a new
 * block is written once (touch=on), so allocators that map lazily pay their
 * page faults here.
 *
 *   dist=geometric	P(order k) proportional to 2^-k, k in [0, max_order]
 *   dist=uniform	every order in [0, max_order] equally likely
 *
 * Must not be used for: small-object allocators' speed (every request is a
 * page or more; a malloc serves these from its large-object path), or
 * comparisons with the kernel's real page-allocator latency (no zone locks,
 * no reclaim, no per-CPU lists unless the allocator has them).
 *
 * Deterministic: each thread's sequence depends only on the seed, its thread
 * number and the parameters.
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define PAGES_PAGE 4096u

static const struct mmb_param pages_params[] = {
	{ "dist", MMB_P_ENUM, "geometric", 0, 0, "geometric|uniform", "order distribution" },
	{ "max_order", MMB_P_U64, "3", 0, 10, NULL, "largest order (2^order pages)" },
	{ "live", MMB_P_U64, "256", 1, 1 << 20, NULL, "slots per thread (blocks kept live)" },
	{ "touch", MMB_P_BOOL, "on", 0, 0, NULL, "write every page of a new block" },
	{ 0 },
};

struct pages_slot {
	char *p;
	size_t size;
};

struct pages {
	int uniform, touch;
	unsigned max_order;
	size_t live;
	struct pages_slot *slots;	/* nthreads x live */
};

static int pages_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
		       void **r_state, char *err, size_t errlen)
{
	struct pages *pg = calloc(1, sizeof(*pg));

	(void)seed;
	if (!pg)
		goto nomem;
	pg->uniform = mmb_pval_u64(params, "dist") == 1;
	pg->max_order = (unsigned)mmb_pval_u64(params, "max_order");
	pg->live = mmb_pval_u64(params, "live");
	pg->touch = (int)mmb_pval_u64(params, "touch");
	pg->slots = calloc((size_t)nthreads * pg->live, sizeof(*pg->slots));
	if (!pg->slots)
		goto nomem;
	mmb_wl_touch(pg->slots, (size_t)nthreads * pg->live * sizeof(*pg->slots));
	*r_state = pg;
	return 0;
nomem:
	free(pg);
	snprintf(err, errlen, "pages: out of memory");
	return -ENOMEM;
}

static unsigned pages_order(const struct pages *pg, uint64_t rng[4])
{
	uint64_t r;
	unsigned k = 0;

	if (pg->uniform)
		return (unsigned)mmb_rand_below(rng, pg->max_order + 1);
	/* Weights 2^(max-k): draw below 2^(max+1)-1 and find the range. */
	r = mmb_rand_below(rng, (2ULL << pg->max_order) - 1);
	while (r >= (1ULL << (pg->max_order - k))) {
		r -= 1ULL << (pg->max_order - k);
		k++;
	}
	return k;
}

static int pages_run(void *state, struct mmb_wl_thread *t)
{
	struct pages *pg = state;
	struct pages_slot *slot = &pg->slots[(size_t)t->tid * pg->live];

	while (mmb_wl_running(t)) {
		struct pages_slot *v = &slot[mmb_rand_below(t->rng, pg->live)];

		if (v->p)
			mmb_wl_free(t, v->p, v->size);
		v->size = (size_t)PAGES_PAGE << pages_order(pg, t->rng);
		v->p = mmb_wl_alloc(t, v->size, PAGES_PAGE);
		if (v->p && pg->touch)
			for (size_t off = 0; off < v->size; off += PAGES_PAGE)
				v->p[off] = 1;
	}
	for (size_t i = 0; i < pg->live; i++) {
		if (slot[i].p)
			mmb_wl_free(t, slot[i].p, slot[i].size);
		slot[i].p = NULL;
	}
	return 0;
}

static void pages_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct pages *pg = state;

	(void)t0;
	free(pg->slots);
	free(pg);
}

const struct mmb_wl_ops mmb_wl_pages = {
	.name = "pages",
	.desc = "page-granular requests of 2^order pages (the buddy allocator's traffic)",
	.params = pages_params,
	.setup = pages_setup,
	.run = pages_run,
	.teardown = pages_teardown,
};

/*
 * test_zone_pressure.c — the buddy zone under pressure (buddy.h): free=
 * sizes the zone exactly; a request that fails with enough free frames is a
 * fragmentation failure, counted apart from plain out-of-memory, with the
 * free area kept at that moment and at the zone's fullest; every allocator
 * on the zone (buddy, slab, vmalloc) reports them.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "../../allocators/allocator.h"
#include "../../allocators/buddy.h"
#include "../testutil.h"

static struct mmb_alloc_stats stats_of(const struct mmb_alloc_ops *ops, struct mmb_alloc *a)
{
	struct mmb_alloc_stats st;

	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	return st;
}

/* free=N: exactly N bytes (in frames) above the min watermark after boot. */
Test(zone_pressure, free_sizes_the_zone_exactly)
{
	static const char *const sizes[] = { "4M", "61M", "100M", "1G" };
	static const uint64_t frames[] = { 1024, 15616, 25600, 262144 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct mmb_pvals pv;
		struct mmb_buddy_cfg bc = { .pcp = 1, .nthreads = 1 };
		struct mmb_buddy_info in;
		struct mmb_buddy *b;
		char spec[64], err[256] = "";

		snprintf(spec, sizeof(spec), "free=%s", sizes[i]);
		cr_assert_eq(mmb_params_parse(mmb_alloc_find("buddy")->opts, spec, "buddy", &pv, err,
					      sizeof(err)), 0, "%s", err);
		cr_assert_eq(mmb_buddy_zone_mem(&pv, "buddy", &bc.mem_bytes, err, sizeof(err)), 0,
			     "%s", err);
		cr_assert_eq(mmb_buddy_create(&bc, &b, err, sizeof(err)), 0, "%s", err);
		mmb_buddy_info(b, &in);
		cr_expect_eq(in.managed_pages - in.zp.wmark_min, frames[i], "%s: %llu - %llu", spec,
			     (unsigned long long)in.managed_pages, (unsigned long long)in.zp.wmark_min);
		cr_expect_eq(in.free_pages, in.managed_pages);
		mmb_buddy_destroy(b);
	}
}

/*
 * The kernel's classic pattern on buddy: fill the zone with order-0 blocks,
 * free every other one, ask for an order-9 block. Half the zone is free and
 * none of it is contiguous: a fragmentation failure, unusable index 1 at
 * order 9, with far more free frames than the 512 asked for.
 */
Test(zone_pressure, order9_fails_with_half_the_zone_free)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a = mmb_test_alloc("buddy:free=8M,pcp=off", 1, &ops);
	enum { N = 2048 };		/* 8 MiB of order-0 blocks: all of it */
	static void *p[N];
	struct mmb_alloc_stats st;
	char err[256] = "";
	/* At boot, frame 0 and the descriptors at the top split the ends. */
	double boot_o9 = stats_of(ops, a).unusable_index[9];

	cr_expect_lt(boot_o9, 0.5, "%g", boot_o9);
	for (int i = 0; i < N; i++)
		cr_assert_not_null(p[i] = ops->alloc(a, 4096, 0), "fill %d", i);
	st = stats_of(ops, a);
	cr_expect_eq(st.frag_failed_allocs, 0);
	cr_expect_eq(st.frag_fail_order, MMB_STAT_NONE, "no failure yet: not measured");
	cr_expect(isnan(st.frag_fail_unusable_index[9]));
	cr_expect_float_eq(st.zone_peak_unusable_index[9], 1.0, 1e-9, "full zone: no order-9 block");
	/* The zone is full: the next request fails for lack of memory. */
	cr_expect_null(ops->alloc(a, 4096, 0));
	st = stats_of(ops, a);
	cr_expect_eq(st.failed_allocs, 1);
	cr_expect_eq(st.frag_failed_allocs, 0, "out of memory is not fragmentation");
	for (int i = 1; i < N; i += 2)
		ops->free(a, p[i], 4096);
	cr_expect_null(ops->alloc(a, 2 << 20, 0), "order 9 from single frames");
	cr_expect_null(ops->alloc(a, 2 << 20, 0));
	st = stats_of(ops, a);
	cr_expect_eq(st.failed_allocs, 3);
	cr_expect_eq(st.frag_failed_allocs, 2);
	cr_expect_eq(st.frag_fail_order, 9);
	cr_expect_geq(st.frag_fail_free_pages, N / 2, "free: %llu",
		      (unsigned long long)st.frag_fail_free_pages);
	cr_expect_float_eq(st.frag_fail_unusable_index[9], 1.0, 1e-9);
	/* The zone's fullest moment was the fill's end, whatever came after. */
	cr_expect_float_eq(st.zone_peak_unusable_index[9], 1.0, 1e-9);
	cr_expect_float_eq(st.frag_fail_unusable_index[0], 0.0, 1e-9);
	cr_expect_gt(st.frag_fail_extfrag_index[9], 0.9, "%g: fragmentation, not lack of memory",
		     st.frag_fail_extfrag_index[9]);
	cr_expect_float_eq(st.unusable_index[9], 1.0, 1e-9);
	/* Above MAX_ORDER no block can exist: a bad request, not fragmentation. */
	cr_expect_null(ops->alloc(a, (4 << 20) + 1, 0));
	cr_expect_eq(stats_of(ops, a).frag_failed_allocs, 2);
	cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s", err);
	for (int i = 0; i < N; i += 2)
		ops->free(a, p[i], 4096);
	cr_expect_float_eq(stats_of(ops, a).unusable_index[9], boot_o9, 1e-9, "merged back");
	ops->destroy(a);
}

/* slab and vmalloc stand on the same zone: they report its indices too,
 * and vmalloc serves the order-9-sized request from scattered frames. */
Test(zone_pressure, slab_and_vmalloc_report_the_zone)
{
	static const char *const specs[] = { "slab:free=8M", "vmalloc:free=8M" };

	for (size_t s = 0; s < 2; s++) {
		const struct mmb_alloc_ops *ops;
		struct mmb_alloc *a = mmb_test_alloc(specs[s], 1, &ops);
		enum { N = 1536 };
		static void *p[N];
		struct mmb_alloc_stats st;
		void *big;

		if (ops->thread_attach)
			ops->thread_attach(a);
		for (int i = 0; i < N; i++)
			cr_assert_not_null(p[i] = ops->alloc(a, 4096, 0), "%s: fill %d", specs[s], i);
		for (int i = 1; i < N; i += 2)
			ops->free(a, p[i], 4096);
		st = stats_of(ops, a);
		for (int o = 0; o < MMB_NR_ORDERS; o++) {
			cr_expect_not(isnan(st.unusable_index[o]), "%s o%d", specs[s], o);
			cr_expect_not(isnan(st.zone_peak_unusable_index[o]), "%s o%d", specs[s], o);
		}
		cr_expect_neq(st.frag_failed_allocs, MMB_STAT_NONE, "%s", specs[s]);
		big = ops->alloc(a, 2 << 20, 0);
		if (s == 1) {
			cr_expect_not_null(big, "vmalloc maps scattered frames");
			cr_expect_eq(stats_of(ops, a).frag_failed_allocs, 0);
		}
		if (big)
			ops->free(a, big, 2 << 20);
		for (int i = 0; i < N; i += 2)
			ops->free(a, p[i], 4096);
		if (ops->thread_detach)
			ops->thread_detach(a);
		ops->destroy(a);
	}
}

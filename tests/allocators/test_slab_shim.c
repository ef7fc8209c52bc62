/*
 * test_slab_shim.c — slab's entry points for the malloc shim
 * (mmb_kmalloc_usable, mmb_kfree_usable in allocators/slab.c): the usable
 * size they report is ksize's, with sheaves (the kernel's rule), classic
 * SLUB and slub_debug on; a pointer that is not a slab object is refused
 * (0, nothing freed); a kmem_cache object frees too; every object freed
 * leaves check() clean and nothing in use. Sizes from a fixed seed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../allocators/allocator.h"
#include "../../allocators/slab.h"

#define SS_N 2000
#define SS_SEED 20u

static void ss_run(int sheaf, const char *debug)
{
	struct mmb_buddy_cfg bc = { .mem_bytes = 64 << 20, .pcp = 1, .nthreads = 1 };
	struct mmb_slab_cfg sc = {
		.nr_cpus = 1, .max_order = 3, .cpu_partial = -1, .min_partial = -1,
		.sheaf_capacity = sheaf, .debug = debug,
	};
	static void *p[SS_N];
	static size_t want[SS_N];
	char err[MMB_ERR_MAX] = "";
	struct mmb_kmem_cache *kc;
	struct mmb_buddy *b;
	struct mmb_slab *sl;
	unsigned seed = SS_SEED;
	int local;
	void *o;

	cr_log_info("sheaf %d debug %s seed %u", sheaf, debug ? debug : "-", SS_SEED);
	cr_assert_eq(mmb_buddy_create(&bc, &b, err, sizeof(err)), 0, "%s", err);
	sc.buddy = b;
	cr_assert_eq(mmb_slab_create(&sc, &sl, err, sizeof(err)), 0, "%s", err);
	for (int i = 0; i < SS_N; i++) {
		struct mmb_kmalloc_usable k;

		want[i] = 1 + (size_t)rand_r(&seed) % (i % 10 ? 512 : MMB_KMALLOC_MAX_CACHE_SIZE);
		k = mmb_kmalloc_usable(sl, want[i]);
		cr_assert_not_null(k.p, "size %zu", want[i]);
		cr_assert_eq(k.usable, mmb_ksize(sl, k.p), "size %zu", want[i]);
		cr_assert_geq(k.usable, want[i]);
		memset(k.p, 0x5c, want[i]);
		p[i] = k.p;
	}
	/* not slab's: refused, nothing done */
	cr_expect_eq(mmb_kfree_usable(sl, &local), 0);
	cr_expect_eq(mmb_kfree_usable(sl, NULL), 0);
	for (int i = SS_N - 1; i >= 0; i -= 2) {
		size_t ks = mmb_ksize(sl, p[i]);

		cr_assert_eq(mmb_kfree_usable(sl, p[i]), ks, "object %d", i);
	}
	for (int i = 0; i < SS_N; i += 2) {
		size_t ks = mmb_ksize(sl, p[i]);

		cr_assert_eq(mmb_kfree_usable(sl, p[i]), ks, "object %d", i);
	}
	cr_assert_eq(mmb_kmem_cache_create(sl, "shim-test", 40, 0, 0, NULL, &kc, err, sizeof(err)), 0,
		     "%s", err);
	o = mmb_kmem_cache_alloc(kc);
	cr_assert_not_null(o);
	cr_expect_geq(mmb_kfree_usable(sl, o), 40);
	cr_expect_eq(mmb_kmem_cache_destroy(kc), 0, "a kmem_cache object left in use");
	cr_expect_eq(mmb_slab_check(sl, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(mmb_slab_nr_reports(sl), 0);
	mmb_slab_thread_detach(sl);
	cr_expect_eq(mmb_slab_check(sl, err, sizeof(err)), 0, "%s", err);
	mmb_slab_destroy(sl);
	mmb_buddy_destroy(b);
}

Test(slab_shim, usable_sizes_with_sheaves)
{
	ss_run(-1, NULL);
}

Test(slab_shim, usable_sizes_classic)
{
	ss_run(0, NULL);
}

Test(slab_shim, usable_sizes_debug)
{
	ss_run(-1, "FZPU");
}

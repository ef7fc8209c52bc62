/*
 * test_slab.c — the SLUB-style allocator (allocators/slab.c): kmalloc size
 * classes, the slab order rule against the kernel's table, object layout
 * and debug byte patterns, every slub_debug letter catching what it should
 * with the kernel's report line, the remote-free paths under several
 * threads (fixed seeds, printed) with check() after each round, the
 * registry's fast paths (sheaves or not, hardened or not, two instances in
 * turns on one thread), slabinfo's format, destroy with objects left, and
 * bad input.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../allocators/allocator.h"
#include "../../allocators/slab.h"
#include "../../workloads/workload.h"
#include "../testutil.h"

struct fixture {
	struct mmb_buddy *b;
	struct mmb_slab *sl;
	FILE *report;
	char *text;		/* what was reported, after fflush */
	size_t len;
};

static void fx_init_sheaf(struct fixture *fx, unsigned cpus, const char *debug, int harden,
			  unsigned sheaf)
{
	/* 64 MiB; 512 for hundreds of slots, whose active slabs and sheaves
	 * alone would fill 64 MiB */
	struct mmb_buddy_cfg bc = { .mem_bytes = (cpus > 64 ? 512ULL : 64ULL) << 20, .pcp = 1,
				    .nthreads = cpus };
	char err[MMB_ERR_MAX] = "";

	memset(fx, 0, sizeof(*fx));
	fx->report = open_memstream(&fx->text, &fx->len);
	cr_assert_not_null(fx->report);
	cr_assert_eq(mmb_buddy_create(&bc, &fx->b, err, sizeof(err)), 0, "%s", err);
	struct mmb_slab_cfg sc = {
		.buddy = fx->b, .nr_cpus = cpus, .max_order = 3, .cpu_partial = -1,
		.min_partial = -1, .harden = harden, .debug = debug, .report = fx->report,
		.sheaf_capacity = sheaf,
	};
	cr_assert_eq(mmb_slab_create(&sc, &fx->sl, err, sizeof(err)), 0, "%s", err);
}

static void fx_init(struct fixture *fx, unsigned cpus, const char *debug, int harden)
{
	fx_init_sheaf(fx, cpus, debug, harden, 0);
}

static const char *fx_text(struct fixture *fx)
{
	fflush(fx->report);
	return fx->text ? fx->text : "";
}

static void fx_check(struct fixture *fx)
{
	char err[MMB_ERR_MAX] = "";

	cr_assert_eq(mmb_slab_check(fx->sl, err, sizeof(err)), 0, "check: %s\nreports:\n%s", err,
		     fx_text(fx));
}

static void fx_fini(struct fixture *fx)
{
	mmb_slab_destroy(fx->sl);
	mmb_buddy_destroy(fx->b);
	fclose(fx->report);
	free(fx->text);
}

static int has_line(const char *text, const char *line)
{
	return strstr(text, line) != NULL;
}

/* ---- kmalloc classes ---- */

Test(slab, kmalloc_classes)
{
	static const unsigned classes[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048,
					    4096, 8192 };
	struct fixture fx;

	fx_init(&fx, 2, NULL, 0);
	cr_expect_eq(mmb_kmalloc_cache(fx.sl, 65) ? 1 : 0, 1);
	struct mmb_kmem_cache_info in;

	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 65), &in);
	cr_expect_eq(in.object_size, 96, "65 -> %u", in.object_size);
	cr_expect_str_eq(in.name, "kmalloc-96");
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 129), &in);
	cr_expect_eq(in.object_size, 192, "129 -> %u", in.object_size);
	cr_expect_null(mmb_kmalloc_cache(fx.sl, 8193), "8193 must go to pages");
	cr_expect_null(mmb_kmalloc_cache(fx.sl, 0));
	/* every size maps to the smallest class that holds it */
	for (size_t size = 1; size <= 8192; size++) {
		unsigned want = 0;

		for (size_t k = 0; k < sizeof(classes) / sizeof(classes[0]) && !want; k++)
			if (classes[k] >= size)
				want = classes[k];
		mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, size), &in);
		cr_assert_eq(in.object_size, want, "kmalloc(%zu) -> %u, want %u", size,
			     in.object_size, want);
	}
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 8192), &in);
	cr_expect_str_eq(in.name, "kmalloc-8k");

	void *big = mmb_kmalloc(fx.sl, 8193);

	cr_assert_not_null(big);
	cr_expect_eq((uintptr_t)big % 4096, 0, "large kmalloc is page aligned");
	cr_expect_eq(mmb_ksize(fx.sl, big), 16384, "8193 bytes take an order-2 block");
	void *p96 = mmb_kmalloc(fx.sl, 65);

	cr_expect_eq(mmb_ksize(fx.sl, p96), 96);
	cr_expect_eq((uintptr_t)p96 % 32, 0, "kmalloc-96 is 32-byte aligned");
	cr_expect_eq(mmb_kmalloc(fx.sl, 0), MMB_ZERO_SIZE_PTR);
	mmb_kfree(fx.sl, MMB_ZERO_SIZE_PTR);
	mmb_kfree(fx.sl, big);
	mmb_kfree(fx.sl, p96);
	fx_check(&fx);
	fx_fini(&fx);
}

/* ---- the order rule (reference/kernel-allocators.md §2.3) ---- */

struct order_vec {
	unsigned size, order, objects;
};

static void expect_orders(unsigned cpus, const struct order_vec *v, size_t n)
{
	struct fixture fx;

	fx_init(&fx, cpus, NULL, 0);
	for (size_t k = 0; k < n; k++) {
		struct mmb_kmem_cache_info in;

		mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, v[k].size), &in);
		cr_expect_eq(in.size, v[k].size, "%u cpus: kmalloc-%u size %u", cpus, v[k].size, in.size);
		cr_expect(in.order == v[k].order && in.objects == v[k].objects,
			  "%u cpus: kmalloc-%u is %u/%u, want %u/%u", cpus, v[k].size, in.order,
			  in.objects, v[k].order, v[k].objects);
	}
	fx_fini(&fx);
}

Test(slab, order_2cpus)
{
	static const struct order_vec v[] = {
		{ 8, 0, 512 }, { 16, 0, 256 }, { 32, 0, 128 }, { 64, 0, 64 }, { 96, 0, 42 },
		{ 128, 0, 32 }, { 192, 0, 21 }, { 256, 0, 16 }, { 512, 1, 16 }, { 1024, 2, 16 },
		{ 2048, 3, 16 }, { 4096, 3, 8 }, { 8192, 3, 4 },
	};

	expect_orders(2, v, sizeof(v) / sizeof(v[0]));
}

Test(slab, order_16cpus)
{
	static const struct order_vec v[] = {
		{ 96, 0, 42 }, { 192, 1, 42 }, { 256, 1, 32 }, { 512, 2, 32 }, { 1024, 3, 32 },
		{ 2048, 3, 16 }, { 4096, 3, 8 }, { 8192, 3, 4 },
	};

	expect_orders(16, v, sizeof(v) / sizeof(v[0]));
}

Test(slab, partial_limits)
{
	struct fixture fx;
	struct mmb_kmem_cache_info in;

	fx_init(&fx, 2, NULL, 0);
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 64), &in);
	cr_expect_eq(in.min_partial, 5);
	cr_expect_eq(in.cpu_partial, 120);
	cr_expect_eq(in.cpu_partial_slabs, 4, "DIV_ROUND_UP(120 * 2, 64)");
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 4096), &in);
	cr_expect_eq(in.min_partial, 6);
	cr_expect_eq(in.cpu_partial, 6);
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 1024), &in);
	cr_expect_eq(in.cpu_partial, 24);
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 256), &in);
	cr_expect_eq(in.cpu_partial, 52);
	fx_fini(&fx);
}

/* ---- object layout (calculate_sizes) ---- */

Test(slab, layout)
{
	struct fixture fx;
	struct mmb_kmem_cache *s;
	struct mmb_kmem_cache_info in;
	char err[MMB_ERR_MAX];

	fx_init(&fx, 2, NULL, 0);
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 96), &in);
	cr_expect_eq(in.offset, 48, "free pointer in the middle: ALIGN_DOWN(96 / 2, 8)");
	cr_assert_eq(mmb_kmem_cache_create(fx.sl, "t-fzpu", 100, 0, MMB_SLAB_DEBUG_FLAGS, NULL, &s,
					   err, sizeof(err)), 0, "%s", err);
	mmb_kmem_cache_get_info(s, &in);
	/* 100 -> 104 (inuse), fp outside: 112, tracks 2*24: 160, Z pad 8: 168,
	 * left pad 8: 176 */
	cr_expect_eq(in.inuse, 104);
	cr_expect_eq(in.offset, 104);
	cr_expect_eq(in.red_left_pad, 8);
	cr_expect_eq(in.size, 176, "size %u", in.size);
	cr_expect_eq(in.cpu_partial, 0, "debug caches have no cpu partial lists");
	cr_expect_eq(mmb_kmem_cache_destroy(s), 0);
	fx_fini(&fx);
}

/* ---- debug letters ---- */

Test(slab, debug_patterns)
{
	struct fixture fx;

	fx_init(&fx, 2, "ZP", 0);
	uint8_t *p = mmb_kmalloc(fx.sl, 64);

	cr_assert_not_null(p);
	cr_expect_eq(p[-1], MMB_SLUB_RED_ACTIVE, "left red zone 0xcc while allocated");
	cr_expect_eq(p[64], MMB_SLUB_RED_ACTIVE, "right red zone 0xcc while allocated");
	mmb_kfree(fx.sl, p);
	/* freed: poison 0x6b, last byte 0xa5, red zones 0xbb (the memory is
	 * the simulated RAM, readable after free) */
	for (int i = 0; i < 63; i++)
		cr_assert_eq(p[i], MMB_POISON_FREE, "byte %d of a freed object: %#x", i, p[i]);
	cr_expect_eq(p[63], MMB_POISON_END);
	cr_expect_eq(p[-1], MMB_SLUB_RED_INACTIVE);
	cr_expect_eq(p[64], MMB_SLUB_RED_INACTIVE);
	fx_check(&fx);
	cr_expect_eq(mmb_slab_nr_reports(fx.sl), 0, "%s", fx_text(&fx));
	fx_fini(&fx);
}

Test(slab, debug_F_double_free)
{
	struct fixture fx;

	fx_init(&fx, 2, "F", 0);
	void *p = mmb_kmalloc(fx.sl, 64), *q = mmb_kmalloc(fx.sl, 64);

	mmb_kfree(fx.sl, p);
	mmb_kfree(fx.sl, p);
	cr_expect(has_line(fx_text(&fx), "BUG kmalloc-64 (Not tainted): Object already free"),
		  "report:\n%s", fx_text(&fx));
	cr_expect(has_line(fx_text(&fx), "FIX kmalloc-64: Object at 0x"));
	cr_expect_eq(mmb_slab_nr_reports(fx.sl), 1);
	/* the cache is intact: p comes back once, not twice */
	void *a = mmb_kmalloc(fx.sl, 64), *b = mmb_kmalloc(fx.sl, 64);

	cr_expect_neq(a, b);
	mmb_kfree(fx.sl, (char *)q + 8);
	cr_expect(has_line(fx_text(&fx), "BUG kmalloc-64 (Tainted: B): Invalid object pointer 0x"),
		  "report:\n%s", fx_text(&fx));
	mmb_kfree(fx.sl, q);
	mmb_kfree(fx.sl, a);
	mmb_kfree(fx.sl, b);
	fx_check(&fx);
	fx_fini(&fx);
}

Test(slab, debug_Z_overflow)
{
	struct fixture fx;
	char err[MMB_ERR_MAX];

	/* Z alone: the red zone is painted; validate (check) finds the write */
	fx_init(&fx, 2, "Z", 0);
	uint8_t *p = mmb_kmalloc(fx.sl, 64);

	p[64] = 0x11;
	cr_expect_eq(mmb_slab_check(fx.sl, err, sizeof(err)), -EUCLEAN);
	cr_expect(has_line(fx_text(&fx), "BUG kmalloc-64 (Not tainted): Right Redzone overwritten"),
		  "report:\n%s", fx_text(&fx));
	cr_expect(has_line(fx_text(&fx), "First byte 0x11 instead of 0xcc"));
	cr_expect(has_line(fx_text(&fx), "FIX kmalloc-64: Restoring Right Redzone 0x"));
	fx_check(&fx);		/* restored */
	mmb_kfree(fx.sl, p);
	fx_fini(&fx);

	/* FZ: caught at kfree, the object is quarantined, not freed */
	fx_init(&fx, 2, "FZ", 0);
	p = mmb_kmalloc(fx.sl, 64);
	p[-1] = 0;
	mmb_kfree(fx.sl, p);
	cr_expect(has_line(fx_text(&fx), "BUG kmalloc-64 (Not tainted): Left Redzone overwritten"),
		  "report:\n%s", fx_text(&fx));
	cr_expect(has_line(fx_text(&fx), "not freed"));
	fx_check(&fx);
	fx_fini(&fx);
}

Test(slab, debug_ZU_kmalloc_redzone)
{
	struct fixture fx;
	char err[MMB_ERR_MAX];

	fx_init(&fx, 2, "ZU", 0);
	uint8_t *p = mmb_kmalloc(fx.sl, 50);

	cr_expect_eq(p[50], MMB_SLUB_RED_ACTIVE, "kmalloc red zone from the requested size");
	p[55] = 0;
	cr_expect_eq(mmb_slab_check(fx.sl, err, sizeof(err)), -EUCLEAN);
	cr_expect(has_line(fx_text(&fx), "BUG kmalloc-64 (Not tainted): kmalloc Redzone overwritten"),
		  "report:\n%s", fx_text(&fx));
	cr_expect(has_line(fx_text(&fx), "Allocated in "), "U prints the alloc track");
	mmb_kfree(fx.sl, p);
	fx_fini(&fx);
}

Test(slab, debug_P_use_after_free)
{
	struct fixture fx;
	char err[MMB_ERR_MAX];

	/* P alone: validate finds the write into a freed object */
	fx_init(&fx, 2, "P", 0);
	uint8_t *p = mmb_kmalloc(fx.sl, 128);

	mmb_kfree(fx.sl, p);
	p[10] = 0x42;
	cr_expect_eq(mmb_slab_check(fx.sl, err, sizeof(err)), -EUCLEAN);
	cr_expect(has_line(fx_text(&fx), "BUG kmalloc-128 (Not tainted): Poison overwritten"),
		  "report:\n%s", fx_text(&fx));
	cr_expect(has_line(fx_text(&fx), "First byte 0x42 instead of 0x6b"));
	fx_fini(&fx);

	/* FP: caught when the object is handed out again; the slab is
	 * quarantined ("Marking all objects used") and alloc goes on */
	fx_init(&fx, 2, "FP", 0);
	p = mmb_kmalloc(fx.sl, 128);
	mmb_kfree(fx.sl, p);
	p[127] = 0;
	void *q = mmb_kmalloc(fx.sl, 128);

	cr_expect_not_null(q);
	cr_expect(has_line(fx_text(&fx), "BUG kmalloc-128 (Not tainted): End Poison overwritten"),
		  "report:\n%s", fx_text(&fx));
	cr_expect(has_line(fx_text(&fx), "FIX kmalloc-128: Marking all objects used"));
	mmb_kfree(fx.sl, q);
	fx_check(&fx);
	fx_fini(&fx);
}

Test(slab, debug_U_tracking)
{
	struct fixture fx;

	fx_init(&fx, 2, "FU", 0);
	void *p = mmb_kmalloc(fx.sl, 32), *q = mmb_kmalloc(fx.sl, 32);

	mmb_kfree(fx.sl, p);
	mmb_kfree(fx.sl, p);
	cr_expect(has_line(fx_text(&fx), "BUG kmalloc-32 (Not tainted): Object already free"),
		  "report:\n%s", fx_text(&fx));
	cr_expect(has_line(fx_text(&fx), "Allocated in "), "report:\n%s", fx_text(&fx));
	cr_expect(has_line(fx_text(&fx), "Freed in "));
	cr_expect(has_line(fx_text(&fx), " age="));
	mmb_kfree(fx.sl, q);
	fx_fini(&fx);
}

Test(slab, debug_per_cache)
{
	struct fixture fx;
	struct mmb_kmem_cache_info in;

	fx_init(&fx, 2, "F:kmalloc-64:kmalloc-1*;Z", 0);
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 64), &in);
	cr_expect_eq(in.flags, MMB_SLAB_CONSISTENCY_CHECKS);
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 128), &in);
	cr_expect_eq(in.flags, MMB_SLAB_CONSISTENCY_CHECKS, "prefix match kmalloc-1*");
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 32), &in);
	cr_expect_eq(in.flags, MMB_SLAB_RED_ZONE, "the block without a list is the default");
	fx_fini(&fx);
}

Test(slab, harden_encodes_and_catches_double_free)
{
	struct fixture fx;
	struct mmb_kmem_cache_info in;

	fx_init(&fx, 2, NULL, 1);
	uint8_t *a = mmb_kmalloc(fx.sl, 64), *b = mmb_kmalloc(fx.sl, 64);
	uint64_t raw;

	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 64), &in);
	mmb_kfree(fx.sl, a);
	mmb_kfree(fx.sl, b);	/* b's free pointer now names a */
	memcpy(&raw, b + in.offset, sizeof(raw));
	cr_expect_neq(raw, (uint64_t)(uintptr_t)a, "the free pointer is stored encoded");
	mmb_kfree(fx.sl, b);
	cr_expect(has_line(fx_text(&fx), "BUG kmalloc-64 (Not tainted): Object already free"),
		  "report:\n%s", fx_text(&fx));
	fx_check(&fx);
	fx_fini(&fx);
}

/* ---- destroy, shrink, check ---- */

Test(slab, destroy_reports_remaining)
{
	struct fixture fx;
	struct mmb_kmem_cache *s;
	char err[MMB_ERR_MAX];
	void *keep[3];

	fx_init(&fx, 2, NULL, 0);
	cr_assert_eq(mmb_kmem_cache_create(fx.sl, "leaky", 40, 0, 0, NULL, &s, err, sizeof(err)), 0,
		     "%s", err);
	for (int i = 0; i < 100; i++) {
		void *p = mmb_kmem_cache_alloc(s);

		if (i < 3)
			keep[i] = p;
		else
			mmb_kmem_cache_free(s, p);
	}
	(void)keep;
	cr_expect_eq(mmb_kmem_cache_destroy(s), 3);
	cr_expect(has_line(fx_text(&fx), "BUG leaky (Not tainted): Objects remaining in leaky on "
					 "__kmem_cache_shutdown()"), "report:\n%s", fx_text(&fx));
	cr_expect(has_line(fx_text(&fx), "kmem_cache_destroy leaky: Slab cache still has objects"));
	cr_expect(has_line(fx_text(&fx), "Object 0x"));
	fx_check(&fx);
	fx_fini(&fx);
}

static void ctor_fill(void *obj)
{
	memset(obj, 0x77, 24);
}

Test(slab, shrink_and_ctor)
{
	struct fixture fx;
	struct mmb_kmem_cache *s;
	char err[MMB_ERR_MAX];
	enum { N = 2000 };
	static void *p[N];

	fx_init(&fx, 2, NULL, 0);
	cr_assert_eq(mmb_kmem_cache_create(fx.sl, "ctor", 24, 0, 0, ctor_fill, &s, err,
					   sizeof(err)), 0, "%s", err);
	for (int i = 0; i < N; i++) {
		p[i] = mmb_kmem_cache_alloc(s);
		cr_assert_eq(((uint8_t *)p[i])[23], 0x77, "ctor ran on every object");
	}
	for (int i = 0; i < N; i++)
		mmb_kmem_cache_free(s, p[i]);
	fx_check(&fx);
	cr_expect_gt(mmb_kmem_cache_shrink(s), 0, "empty slabs kept by min_partial go back");
	fx_check(&fx);
	cr_expect_eq(mmb_kmem_cache_destroy(s), 0);
	fx_fini(&fx);
}

Test(slab, check_catches_corruption)
{
	struct fixture fx;
	struct mmb_kmem_cache_info in;
	char err[MMB_ERR_MAX] = "";

	fx_init(&fx, 2, NULL, 0);
	uint8_t *a = mmb_kmalloc(fx.sl, 64), *b = mmb_kmalloc(fx.sl, 64);

	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 64), &in);
	mmb_kfree(fx.sl, a);
	mmb_kfree(fx.sl, b);
	fx_check(&fx);
	uint64_t bad = (uint64_t)(uintptr_t)(b + 3), saved;

	memcpy(&saved, b + in.offset, 8);
	memcpy(b + in.offset, &bad, 8);	/* a free pointer off an object start */
	cr_expect_eq(mmb_slab_check(fx.sl, err, sizeof(err)), -EUCLEAN);
	cr_expect(strstr(err, "kmalloc-64") != NULL, "%s", err);
	memcpy(b + in.offset, &saved, 8);
	fx_check(&fx);
	fx_fini(&fx);
}

/* ---- slabinfo ---- */

Test(slab, slabinfo_format)
{
	struct fixture fx;
	char *buf = NULL, row[256];
	size_t len = 0;
	FILE *f;
	enum { N = 100 };
	void *p[N];

	fx_init(&fx, 2, NULL, 0);
	for (int i = 0; i < N; i++)
		p[i] = mmb_kmalloc(fx.sl, 192);
	f = open_memstream(&buf, &len);
	cr_assert_eq(mmb_slab_write_slabinfo(fx.sl, f), 0);
	fclose(f);
	cr_expect(!strncmp(buf, "slabinfo - version: 2.1\n# name            <active_objs> <num_objs> "
				"<objsize> <objperslab> <pagesperslab> : tunables <limit> "
				"<batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> "
				"<sharedavail>\n", 200), "%s", buf);
	/* 100 objects of 21 per order-0 slab: 5 slabs, all in use or on a
	 * thread's active slab (counted active) */
	snprintf(row, sizeof(row), "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata "
		 "%6lu %6lu %6lu\n", "kmalloc-192", 105UL, 105UL, 192u, 21u, 1, 0u, 0u, 0u, 5UL, 5UL,
		 0UL);
	cr_expect(strstr(buf, row) != NULL, "want:\n%sgot:\n%s", row, buf);
	/* newest first: kmalloc-8k is the first row, kmalloc-8 the last */
	cr_expect(!strncmp(strchr(strchr(buf, '\n') + 1, '\n') + 1, "kmalloc-8k ", 11), "%s", buf);
	free(buf);
	for (int i = 0; i < N; i++)
		mmb_kfree(fx.sl, p[i]);
	fx_fini(&fx);
}

/* ---- bad input ---- */

Test(slab, bad_input)
{
	struct fixture fx;
	struct mmb_kmem_cache *s;
	char err[MMB_ERR_MAX];

	fx_init(&fx, 2, NULL, 0);
	cr_expect_eq(mmb_kmem_cache_create(fx.sl, "zero", 0, 0, 0, NULL, &s, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "size 0") != NULL, "%s", err);
	cr_expect_eq(mmb_kmem_cache_create(fx.sl, "huge", 8193, 0, 0, NULL, &s, err, sizeof(err)),
		     -EINVAL);
	cr_expect_eq(mmb_kmem_cache_create(fx.sl, "odd", 64, 24, 0, NULL, &s, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "power of two") != NULL, "%s", err);
	cr_expect_eq(mmb_slab_parse_debug("FZQ", err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "'Q'") != NULL, "%s", err);
	cr_expect_eq(mmb_slab_parse_debug("FZPU;P:kmalloc-64;-", err, sizeof(err)), 0);
	fx_fini(&fx);

	const struct mmb_alloc_ops *ops;
	struct mmb_alloc_cfg cfg;
	struct mmb_alloc *a;

	cr_assert_eq(mmb_alloc_parse_config("slab:debug=FX", &ops, &cfg, err, sizeof(err)), 0);
	cr_expect_eq(ops->validate(&cfg, err, sizeof(err)), -EINVAL, "caught before any cell");
	cr_expect(strstr(err, "'X'") != NULL, "%s", err);
	cr_expect_eq(ops->create(&cfg, &a, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "'X'") != NULL, "%s", err);
}

/* ---- registry entry: stats and state files ---- */

Test(slab, registry_stats)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	struct mmb_alloc_stats st;
	char err[MMB_ERR_MAX];
	void *p[10];

	/* classic SLUB: with sheaves the first alloc fills a whole sheaf */
	a = mmb_test_alloc("slab:mem=64M,sheaf=0", 1, &ops);
	for (int i = 0; i < 10; i++)
		p[i] = ops->alloc(a, 65, 0);
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_eq(st.usable_bytes, 10 * 96, "usable %llu", (unsigned long long)st.usable_bytes);
	cr_expect_eq(st.footprint_bytes, 4096, "one order-0 slab of kmalloc-96");
	cr_expect_eq(st.allocs, 10);
	for (int i = 0; i < 10; i++)
		ops->free(a, p[i], 65);
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_eq(st.usable_bytes, 0);
	cr_expect_eq(st.frees, 10);
	cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s", err);
	ops->destroy(a);
}

/*
 * The registry's fast paths per configuration (sheaves or not, hardened or
 * not) and with two instances used in turns by one thread (its slot table
 * must follow the instance): a batch of random sizes (fixed seed) freed in
 * another order, repeated, with the counters and check() right after each.
 */
Test(slab, registry_batches_two_instances)
{
	static const char *const specs[][2] = {
		{ "slab:mem=64M", "slab:mem=64M,sheaf=0" },
		{ "slab:mem=64M,harden=on", "slab:mem=64M,sheaf=0,harden=on" },
	};
	enum { N = 600, ROUNDS = 4, RUN = 8 };
	const uint64_t seed = 0x51ab0006;
	static void *p[2][N];
	static uint16_t size[N];
	static uint32_t order[N];
	uint64_t rng[4];

	cr_log_info("seed %#llx", (unsigned long long)seed);
	mmb_rand_seed(rng, seed);
	for (int k = 0; k < N; k++) {
		size[k] = (uint16_t)(1 + mmb_rand_below(rng, 1024));
		order[k] = (uint32_t)k;
	}
	mmb_rand_shuffle(rng, order, N);
	for (size_t v = 0; v < sizeof(specs) / sizeof(specs[0]); v++) {
		const struct mmb_alloc_ops *ops[2];
		struct mmb_alloc *a[2];
		char err[MMB_ERR_MAX];

		for (int i = 0; i < 2; i++)
			a[i] = mmb_test_alloc(specs[v][i], 1, &ops[i]);
		/* runs of RUN calls to one instance, then to the other */
		for (int r = 0; r < ROUNDS; r++) {
			for (int k0 = 0; k0 < N; k0 += RUN)
				for (int i = 0; i < 2; i++)
					for (int k = k0; k < k0 + RUN; k++) {
						p[i][k] = ops[i]->alloc(a[i], size[k], 0);
						cr_assert_not_null(p[i][k]);
						cr_assert_geq(ops[i]->usable_size(a[i], p[i][k]), size[k]);
						memset(p[i][k], i + 1, size[k]);
					}
			for (int k0 = 0; k0 < N; k0 += RUN)
				for (int i = 0; i < 2; i++)
					for (int k = k0; k < k0 + RUN; k++) {
						uint8_t *q = p[i][order[k]];

						cr_assert(q[0] == i + 1 && q[size[order[k]] - 1] == i + 1,
							  "%s: block %u overwritten", specs[v][i], order[k]);
						ops[i]->free(a[i], q, size[order[k]]);
					}
			for (int i = 0; i < 2; i++) {
				struct mmb_alloc_stats st;

				mmb_alloc_stats_init(&st);
				ops[i]->stats(a[i], &st);
				cr_expect_eq(st.allocs, (uint64_t)N * (r + 1), "%s: allocs %llu", specs[v][i],
					     (unsigned long long)st.allocs);
				cr_expect_eq(st.frees, (uint64_t)N * (r + 1), "%s: frees %llu", specs[v][i],
					     (unsigned long long)st.frees);
				cr_expect_eq(st.usable_bytes, 0, "%s", specs[v][i]);
				cr_expect_eq(ops[i]->check(a[i], err, sizeof(err)), 0, "%s: %s",
					     specs[v][i], err);
			}
		}
		for (int i = 0; i < 2; i++)
			ops[i]->destroy(a[i]);
	}
}

/* ---- several threads, remote frees ---- */

enum { MT_THREADS = 4, MT_MAX_THREADS = 300, MT_SLOTS = 4096, MT_ROUNDS = 4, MT_OPS = 20000 };

struct mt {
	struct mmb_slab *sl;
	struct mmb_kmem_cache *own;	/* a kmem_cache besides kmalloc */
	_Atomic(uint8_t *) slot[MT_SLOTS];
	pthread_barrier_t go, done;
	uint64_t seed;
	unsigned nthreads, ops;		/* workers, and operations of each per round */
	atomic_ulong remote;
	atomic_int bad;			/* a worker saw a corrupted block or a failed alloc */
};

struct mt_arg {
	struct mt *m;
	unsigned id;
};

/* Block header: size (0 = the own cache) and the allocating thread. */
static void mt_fill(uint8_t *p, uint32_t size, uint32_t id)
{
	memcpy(p, &size, 4);
	memcpy(p + 4, &id, 4);
	if (size > 8)
		memset(p + 8, (int)(size & 0xff), size - 8);
}

static void mt_release(struct mt *m, uint8_t *p, unsigned me)
{
	uint32_t size, id;

	memcpy(&size, p, 4);
	memcpy(&id, p + 4, 4);
	if (id != me)
		atomic_fetch_add(&m->remote, 1);
	if (size > 8)
		for (uint32_t k = 8; k < size; k += 37)
			if (p[k] != (uint8_t)(size & 0xff))
				atomic_store(&m->bad, 1);
	if (size)
		mmb_kfree(m->sl, p);
	else
		mmb_kmem_cache_free(m->own, p);
}

static void *mt_main(void *arg)
{
	struct mt_arg *ta = arg;
	struct mt *m = ta->m;
	uint64_t rng[4];

	mmb_rand_seed(rng, m->seed + ta->id);
	mmb_slab_thread_attach(m->sl);
	for (int r = 0; r < MT_ROUNDS; r++) {
		pthread_barrier_wait(&m->go);
		for (unsigned op = 0; op < m->ops; op++) {
			unsigned s = (unsigned)mmb_rand_below(rng, MT_SLOTS);
			uint8_t *old = atomic_exchange(&m->slot[s], NULL);

			if (old) {
				mt_release(m, old, ta->id);
				continue;
			}
			uint32_t size = mmb_rand_below(rng, 8) == 0 ? 0
				      : 8 + (uint32_t)mmb_rand_below(rng, mmb_rand_below(rng, 4) ? 256 : 8192);
			uint8_t *p = size ? mmb_kmalloc(m->sl, size) : mmb_kmem_cache_alloc(m->own);
			uint8_t *expect = NULL;

			if (!p) {
				atomic_store(&m->bad, 2);
				continue;
			}
			mt_fill(p, size, ta->id);
			if (!atomic_compare_exchange_strong(&m->slot[s], &expect, p))
				mt_release(m, p, ta->id);
		}
		pthread_barrier_wait(&m->done);
	}
	/* detach flushes slabs: not before the last round's check is done */
	pthread_barrier_wait(&m->go);
	/* the last thread leaves without detaching: its slot stays stranded */
	if (ta->id != m->nthreads - 1)
		mmb_slab_thread_detach(m->sl);
	return NULL;
}

/* nthreads workers (at most MT_MAX_THREADS) making ops operations each per
 * round; the order rule is given min(nthreads, MMB_SLAB_MAX_CPUS) CPUs. */
static void mt_run_n(const char *debug, int harden, int sheaf, uint64_t seed, unsigned nthreads,
		     unsigned ops)
{
	static struct mt m;
	struct mt_arg ta[MT_MAX_THREADS];
	pthread_t t[MT_MAX_THREADS];
	struct fixture fx;
	char err[MMB_ERR_MAX];

	fx_init_sheaf(&fx, nthreads < MMB_SLAB_MAX_CPUS ? nthreads : MMB_SLAB_MAX_CPUS, debug, harden,
		      (unsigned)sheaf);
	memset(&m, 0, sizeof(m));
	m.sl = fx.sl;
	m.seed = seed;
	m.nthreads = nthreads;
	m.ops = ops;
	cr_log_info("seed %#llx debug=%s harden=%d sheaf=%d threads=%u", (unsigned long long)seed,
		    debug ? debug : "", harden, sheaf, nthreads);
	cr_assert_eq(mmb_kmem_cache_create(fx.sl, "mt-obj", 40, 0, 0, NULL, &m.own, err,
					   sizeof(err)), 0, "%s", err);
	pthread_barrier_init(&m.go, NULL, nthreads + 1);
	pthread_barrier_init(&m.done, NULL, nthreads + 1);
	for (unsigned i = 0; i < nthreads; i++) {
		ta[i] = (struct mt_arg){ &m, i };
		cr_assert_eq(pthread_create(&t[i], NULL, mt_main, &ta[i]), 0, "thread %u", i);
	}
	for (int r = 0; r < MT_ROUNDS; r++) {
		pthread_barrier_wait(&m.go);
		pthread_barrier_wait(&m.done);
		cr_assert_eq(atomic_load(&m.bad), 0, "round %d: %s", r,
			     m.bad == 1 ? "a block was corrupted" : "an alloc failed");
		fx_check(&fx);		/* the threads wait at the barrier */
	}
	pthread_barrier_wait(&m.go);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	fx_check(&fx);
	cr_expect_gt(atomic_load(&m.remote), 1000, "remote frees happened");
	for (int s = 0; s < MT_SLOTS; s++)
		if (m.slot[s])
			mt_release(&m, m.slot[s], nthreads);
	fx_check(&fx);
	cr_expect_eq(mmb_kmem_cache_destroy(m.own), 0, "%s", fx_text(&fx));
	cr_expect_eq(mmb_slab_nr_reports(fx.sl), 0, "%s", fx_text(&fx));
	pthread_barrier_destroy(&m.go);
	pthread_barrier_destroy(&m.done);
	fx_fini(&fx);
}

static void mt_run(const char *debug, int harden, int sheaf, uint64_t seed)
{
	mt_run_n(debug, harden, sheaf, seed, MT_THREADS, MT_OPS);
}

Test(slab, threads_remote_free)
{
	mt_run(NULL, 0, 0, 0x51ab0001);
}

Test(slab, threads_remote_free_hardened)
{
	mt_run(NULL, 1, 0, 0x51ab0002);
}

Test(slab, threads_remote_free_debug)
{
	mt_run("FZPU", 0, 0, 0x51ab0003);
}

Test(slab, threads_remote_free_sheaves)
{
	mt_run(NULL, 0, 8, 0x51ab0004);
}

/* the default: capacities by size (4 .. 60), hardened */
Test(slab, threads_remote_free_default_sheaves)
{
	mt_run(NULL, 1, -1, 0x51ab0005);
}

/* More threads than thread slots: the 44 without one allocate on the
 * shared overflow slots (every allocation succeeds; they used to get NULL),
 * and check() holds over every slot after each round. */
Test(slab, threads_beyond_the_slots)
{
	mt_run_n(NULL, 1, -1, 0x51ab0006, MT_MAX_THREADS, 300);
	mt_run_n(NULL, 0, 0, 0x51ab0007, MT_MAX_THREADS, 300);
}

/* ---- sheaves ---- */

Test(slab, sheaves)
{
	struct fixture fx;
	struct mmb_kmem_cache_info in;
	enum { N = 500 };
	static void *p[N];

	fx_init_sheaf(&fx, 2, "F:kmalloc-128", 0, 16);
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 64), &in);
	cr_expect_eq(in.sheaf_capacity, 16);
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 128), &in);
	cr_expect_eq(in.sheaf_capacity, 0, "debug caches have no sheaves");
	for (int i = 0; i < N; i++)
		p[i] = mmb_kmalloc(fx.sl, 64);
	fx_check(&fx);
	for (int i = 0; i < N; i += 2)
		mmb_kfree(fx.sl, p[i]);
	fx_check(&fx);		/* objects in sheaves and in the barn */
	void *q = mmb_kmalloc(fx.sl, 64);

	cr_expect_eq(q, p[N - 2], "the sheaf gives back the last object freed");
	mmb_kfree(fx.sl, q);
	for (int i = 1; i < N; i += 2)
		mmb_kfree(fx.sl, p[i]);
	fx_check(&fx);
	cr_expect_eq(mmb_kmem_cache_shrink(mmb_kmalloc_cache(fx.sl, 64)) > 0, 1,
		     "shrink flushes the sheaves and frees empty slabs");
	fx_check(&fx);
	cr_expect_eq(mmb_slab_nr_reports(fx.sl), 0, "%s", fx_text(&fx));
	fx_fini(&fx);
	cr_expect_eq(fx.len, 0, "destroy found no objects left");
}

/* Without a capacity given, every non-debug cache gets the kernel's
 * calculate_sheaf_capacity(): 4/12/26/60 by size, grown to fill the
 * sheaf's kmalloc class (a 32-byte header + 8 bytes per object). */
Test(slab, sheaf_capacity_rule)
{
	static const struct {
		unsigned size, capacity;
	} want[] = {
		{ 8, 60 }, { 96, 60 }, { 192, 60 }, { 256, 28 }, { 512, 28 },
		{ 1024, 12 }, { 2048, 12 }, { 4096, 4 }, { 8192, 4 },
	};
	struct fixture fx;
	struct mmb_kmem_cache_info in;
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	char err[MMB_ERR_MAX];
	void *p;

	fx_init_sheaf(&fx, 2, "F:kmalloc-128", 0, (unsigned)-1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, want[i].size), &in);
		cr_expect_eq(in.sheaf_capacity, want[i].capacity, "kmalloc-%u: %u", want[i].size,
			     in.sheaf_capacity);
	}
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(fx.sl, 128), &in);
	cr_expect_eq(in.sheaf_capacity, 0, "debug caches have no sheaves");
	fx_fini(&fx);

	/* The registry's default has them: the first kmalloc(65) fills a
	 * sheaf of 60 from kmalloc-96 slabs of 42 objects (two slabs); with
	 * sheaf=0 (classic SLUB) it takes one. */
	for (int k = 0; k < 2; k++) {
		struct mmb_alloc_stats st;

		a = mmb_test_alloc(k ? "slab:mem=64M,sheaf=0" : "slab:mem=64M", 1, &ops);
		p = ops->alloc(a, 65, 0);
		mmb_alloc_stats_init(&st);
		ops->stats(a, &st);
		cr_expect_eq(st.footprint_bytes, k ? 4096 : 8192, "%s: footprint %llu",
			     k ? "sheaf=0" : "default", (unsigned long long)st.footprint_bytes);
		cr_expect_eq(st.allocs, 1);
		ops->free(a, p, 65);
		cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s", err);
		ops->destroy(a);
	}
}

/* An aligned request can land in a larger class than its size names; the
 * sized free must still return it to its own cache, sheaves or not. */
Test(slab, aligned_blocks_free_to_their_cache)
{
	const char *configs[] = { "slab:mem=64M,sheaf=0", "slab:mem=64M,sheaf=8" };

	for (int k = 0; k < 2; k++) {
		const struct mmb_alloc_ops *ops;
		struct mmb_alloc *a = mmb_test_alloc(configs[k], 1, &ops);
		char err[MMB_ERR_MAX];
		enum { N = 300 };
		void *p[N];

		/* the caches the sizes name (kmalloc-16, -96) get their sheaves,
		 * with room in them when the aligned blocks are freed */
		for (int i = 0; i < N; i++)
			p[i] = ops->alloc(a, i % 2 ? 65 : 10, 0);
		for (int i = 0; i < N; i++)
			ops->free(a, p[i], i % 2 ? 65 : 10);
		for (int i = 0; i < N; i++) {
			size_t size = i % 2 ? 65 : 10, align = i % 2 ? 32 : 64;
			void *room = ops->alloc(a, size, 0), *q = ops->alloc(a, size, align);

			cr_assert_eq((uintptr_t)q % align, 0);
			ops->free(a, q, size);
			ops->free(a, room, size);
		}
		for (int i = 0; i < N; i++)
			p[i] = ops->alloc(a, 96, 0);
		for (int i = 0; i < N; i++)
			cr_expect_eq(ops->usable_size(a, p[i]), 96, "%s: a 96-byte block came from "
				     "another cache", configs[k]);
		for (int i = 0; i < N; i++)
			ops->free(a, p[i], 96);
		cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s: %s", configs[k], err);
		ops->destroy(a);
	}
}

/* No free block of the preferred order: the slab falls back to s->min. */
Test(slab, order_fallback)
{
	struct mmb_buddy_cfg bc = { .mem_bytes = 8 << 20, .pcp = 0, .nthreads = 2 };
	struct mmb_buddy *b;
	struct mmb_slab *sl;
	struct mmb_kmem_cache_info in;
	char err[MMB_ERR_MAX] = "", *buf = NULL, row[160];
	size_t len = 0, n = 0;
	static struct mmb_page *pg[2048], *big[64];
	unsigned bigo[64], nbig = 0;
	FILE *f;

	cr_assert_eq(mmb_buddy_create(&bc, &b, err, sizeof(err)), 0, "%s", err);
	struct mmb_slab_cfg sc = { .buddy = b, .nr_cpus = 2, .max_order = 3, .cpu_partial = -1,
				   .min_partial = -1 };

	cr_assert_eq(mmb_slab_create(&sc, &sl, err, sizeof(err)), 0, "%s", err);
	mmb_kmem_cache_get_info(mmb_kmalloc_cache(sl, 1024), &in);
	cr_assert(in.order == 2 && in.min_order == 0 && in.min_objects == 4, "%u/%u", in.order,
		  in.min_order);
	/* take every frame, give back every other one, then take every block
	 * of order >= 1 that is left (the watermark reserve): only order-0
	 * blocks stay free */
	while (n < 2048 && (pg[n] = mmb_alloc_pages(b, 0, MMB_MT_UNMOVABLE)))
		n++;
	for (size_t i = 0; i < n; i += 2)
		mmb_free_pages(b, pg[i], 0);
	for (unsigned o = MMB_MAX_ORDER; o >= 1; o--)
		while (nbig < 64 && (big[nbig] = mmb_alloc_pages(b, o, MMB_MT_UNMOVABLE)))
			bigo[nbig++] = o;
	void *p = mmb_kmalloc(sl, 1000);

	cr_assert_not_null(p, "the order-0 fallback serves it");
	f = open_memstream(&buf, &len);
	mmb_slab_write_slabinfo(sl, f);
	fclose(f);
	snprintf(row, sizeof(row), "%-17s %6lu %6lu %6u %4u %4d", "kmalloc-1k", 4UL, 4UL, 1024u, 16u, 4);
	cr_expect(strstr(buf, row) != NULL, "one order-0 slab of 4 objects:\n%s", buf);
	free(buf);
	cr_expect_eq(mmb_slab_check(sl, err, sizeof(err)), 0, "%s", err);
	mmb_kfree(sl, p);
	mmb_slab_destroy(sl);
	for (size_t i = 1; i < n; i += 2)
		mmb_free_pages(b, pg[i], 0);
	for (unsigned i = 0; i < nbig; i++)
		mmb_free_pages(b, big[i], bigo[i]);
	mmb_buddy_destroy(b);
}

/* The cache's slabstats line: its requested_bytes and internal_frag fields. */
static void stats_fields(struct fixture *fx, const char *cache, char *req, char *frag)
{
	char *text = NULL, *line, name[64];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cr_assert_eq(mmb_slab_write_stats(fx->sl, f), 0);
	fclose(f);
	snprintf(name, sizeof(name), "\n%s ", cache);
	line = strstr(text, name);
	cr_assert_not_null(line, "no %s line in\n%s", cache, text);
	/* name object_size size order objects min_partial cpu_partial live
	 * requested_bytes usable_bytes internal_frag */
	cr_assert_eq(sscanf(line + 1, "%*s %*u %*u %*u %*u %*u %*u %*u %31s %*s %31s", req, frag), 2,
		     "%s", line);
	free(text);
}

Test(slab, requested_bytes_unknown_after_an_unsized_free)
{
	struct fixture fx;
	struct mmb_kmem_cache *s;
	char err[MMB_ERR_MAX], req[32], frag[32];
	void *p[3];

	fx_init(&fx, 2, NULL, 0);
	cr_assert_eq(mmb_kmem_cache_create(fx.sl, "t-req", 40, 0, 0, NULL, &s, err, sizeof(err)), 0,
		     "%s", err);
	for (int i = 0; i < 3; i++)
		p[i] = mmb_kmem_cache_alloc(s);
	mmb_kmem_cache_free(s, p[0]);
	stats_fields(&fx, "t-req", req, frag);
	cr_expect_str_eq(req, "80", "two live objects of 40 bytes asked for");
	void *k = mmb_kmalloc(fx.sl, 20);

	cr_assert_not_null(k);
	mmb_kfree(fx.sl, k);	/* kfree does not know the 20 */
	stats_fields(&fx, "t-req", req, frag);
	cr_expect_str_eq(req, "-", "after a kfree requested bytes are not known");
	cr_expect_str_eq(frag, "-");
	stats_fields(&fx, "kmalloc-32", req, frag);
	cr_expect_str_eq(req, "-");
	mmb_kmem_cache_free(s, p[1]);
	mmb_kmem_cache_free(s, p[2]);
	cr_expect_eq(mmb_kmem_cache_destroy(s), 0);
	fx_check(&fx);
	fx_fini(&fx);
}

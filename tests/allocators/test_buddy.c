/*
 * test_buddy.c — the buddy allocator: boot hand-over, split and merge by
 * hand, the kernel's formulas (watermarks, batch/high, vmstat indices) digit
 * for digit, per-thread list refill and drain, fallback and pageblock
 * claiming, out-of-memory, randomized sequences against a model, a
 * multi-threaded stress, the state files, and bad options at the CLI.
 * Randomized tests use fixed seeds, printed with cr_log_info.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../allocators/allocator.h"
#include "../../allocators/buddy.h"
#include "../../workloads/workload.h"
#include "../testutil.h"

/* 8 MiB: 2048 frames; frame 0 and the top 32 (the descriptors) reserved. */
#define MEM_8M (8ULL << 20)

static struct mmb_buddy *mk(uint64_t mem, int pcp, unsigned batch, unsigned high, int mt)
{
	struct mmb_buddy_cfg cfg = { mem, pcp, batch, high, mt, 1 };
	struct mmb_buddy *b;
	char err[256] = "";

	cr_assert_eq(mmb_buddy_create(&cfg, &b, err, sizeof(err)), 0, "%s", err);
	return b;
}

static void expect_check(struct mmb_buddy *b)
{
	char err[256] = "";

	cr_assert_eq(mmb_buddy_check(b, err, sizeof(err)), 0, "check: %s", err);
}

static uint64_t pfn_of(struct mmb_buddy *b, struct mmb_page *p)
{
	return mmb_page_to_pfn(mmb_buddy_pmem(b), p);
}

static void expect_nr_free(struct mmb_buddy *b, const uint64_t *want)
{
	struct mmb_buddy_info in;

	mmb_buddy_info(b, &in);
	for (int o = 0; o < MMB_NR_PAGE_ORDERS; o++)
		cr_expect_eq(in.nr_free[o], want[o], "order %d: %llu free blocks, expected %llu", o,
			     (unsigned long long)in.nr_free[o], (unsigned long long)want[o]);
}

static const uint64_t boot_8m[MMB_NR_PAGE_ORDERS] = { 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 0 };

Test(buddy, boot_handover)
{
	struct mmb_buddy *b = mk(MEM_8M, 0, 0, 0, 1);
	struct mmb_buddy_info in;

	mmb_buddy_info(b, &in);
	cr_expect_eq(in.managed_pages, 2015);
	cr_expect_eq(in.free_pages, 2015);
	cr_expect_eq(in.reserved_pages, 33);
	cr_expect_eq(in.mobility, 1);
	cr_expect_eq(mmb_buddy_used_pages(b), 0);
	/* [1, 2016) in __free_pages_memory chunks: 1:0 2:1 4:2 ... 512:9 1024:9
	 * 1536:8 1792:7 1920:6 1984:5 */
	expect_nr_free(b, boot_8m);
	for (int o = 0; o < MMB_NR_PAGE_ORDERS; o++)
		cr_expect_eq(in.nr_free_mt[MMB_MT_MOVABLE][o], boot_8m[o], "pageblocks start movable");
	expect_check(b);
	mmb_buddy_destroy(b);
}

Test(buddy, split_keeps_lower_half_and_merge_restores)
{
	struct mmb_buddy *b = mk(MEM_8M, 0, 0, 0, 1);
	struct mmb_page *p[4];
	struct mmb_buddy_counters c;

	p[0] = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE);	/* the order-0 block at 1 */
	p[1] = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE);	/* splits the order-1 block at 2 */
	p[2] = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE);	/* its upper half */
	cr_assert(p[0] && p[1] && p[2]);
	cr_expect_eq(pfn_of(b, p[0]), 1);
	cr_expect_eq(pfn_of(b, p[1]), 2);
	cr_expect_eq(pfn_of(b, p[2]), 3);
	p[3] = mmb_alloc_pages(b, 3, MMB_MT_MOVABLE);
	cr_expect_eq(pfn_of(b, p[3]), 8);
	cr_expect_eq(p[3]->flags, MMB_PG_HEAD);
	cr_expect_eq(p[3][7].flags, MMB_PG_TAIL);
	cr_expect_eq(mmb_compound_head(mmb_buddy_pmem(b), &p[3][5]), p[3]);
	expect_check(b);
	/* Order 2 now comes from splitting the order-4 block at 16: lower half. */
	struct mmb_page *q = mmb_alloc_pages(b, 2, MMB_MT_MOVABLE);

	cr_expect_eq(pfn_of(b, q), 4, "the order-2 block at 4 first");
	q = mmb_alloc_pages(b, 2, MMB_MT_MOVABLE);
	cr_expect_eq(pfn_of(b, q), 16);
	expect_nr_free(b, (uint64_t[]){ 0, 0, 1, 1, 0, 2, 2, 2, 2, 2, 0 });
	mmb_free_pages(b, q, 2);
	mmb_free_pages(b, mmb_pfn_to_page(mmb_buddy_pmem(b), 4), 2);
	mmb_free_pages(b, p[1], 0);
	/* 16+20+24 merged into the order-4 block at 16; 4's buddy is frame 0
	 * (reserved), 2's is allocated. */
	expect_nr_free(b, (uint64_t[]){ 1, 0, 1, 0, 1, 2, 2, 2, 2, 2, 0 });
	mmb_free_pages(b, p[2], 0);	/* merges with 2 into the order-1 block at 2 */
	mmb_free_pages(b, p[3], 3);
	mmb_free_pages(b, p[0], 0);
	expect_nr_free(b, boot_8m);
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.splits, 1 + 2, "order 1 -> 0, order 4 -> 3 -> 2");
	cr_expect_eq(c.merges, 3);
	cr_expect_eq(c.allocs, 6);
	cr_expect_eq(c.frees, 6);
	expect_check(b);
	mmb_buddy_destroy(b);
}

Test(buddy, zone_params_formulas)
{
	struct mmb_zone_params zp;

	/* reference §1.7/§1.8: DMA32 managed 772917 on 2 CPUs, DMA 3840 */
	mmb_zone_params(772917, 2, &zp);
	cr_expect_eq(zp.batch, 63);
	cr_expect_eq(zp.high_max, 48307);
	mmb_zone_params(3840, 2, &zp);
	cr_expect_eq(zp.batch, 1);
	cr_expect_eq(zp.high_max, 240);
	/* 16 GiB -> min_free_kbytes 16384 */
	mmb_zone_params(4194304, 1, &zp);
	cr_expect_eq(zp.min_free_kbytes, 16384);
	cr_expect_eq(zp.wmark_min, 4096);
	cr_expect_eq(zp.wmark_low, 4096 + 4194);	/* max(4096/4, 4194304*10/10000) */
	cr_expect_eq(zp.wmark_high, 4096 + 2 * 4194);
	/* The default 1 GiB pmem: managed 258047 */
	mmb_zone_params(258047, 1, &zp);
	cr_expect_eq(zp.min_free_kbytes, 4063);	/* int_sqrt(258047 * 4 * 16) */
	cr_expect_eq(zp.wmark_min, 1015);
	cr_expect_eq(zp.wmark_low, 1273);
	cr_expect_eq(zp.wmark_high, 1531);
	cr_expect_eq(zp.high_min, 1273);
	cr_expect_eq(zp.high_max, 32255);
	mmb_zone_params(258047, 4, &zp);
	cr_expect_eq(zp.high_min, 318);
	cr_expect_eq(zp.high_max, 8063);
	/* tiny zone: floors */
	mmb_zone_params(1000, 1, &zp);
	cr_expect_eq(zp.min_free_kbytes, 252);
	mmb_zone_params(100, 1, &zp);
	cr_expect_eq(zp.min_free_kbytes, 128);
	cr_expect_eq(zp.wmark_min, 32);
	cr_expect_eq(zp.wmark_low, 40);
	cr_expect_eq(zp.wmark_high, 48);
	cr_expect_eq(zp.batch, 1);
	cr_expect_eq(zp.high_min, 40);
	cr_expect_eq(zp.high_max, 12);	/* 100 / 8 */
}

Test(buddy, vmstat_indices_digit_for_digit)
{
	/* reference §1.7: buddyinfo of this machine's Normal zone */
	static const uint64_t normal[MMB_NR_PAGE_ORDERS] = { 1594, 1290, 954, 1205, 1104, 1221, 795,
							     596,  370,  210, 214 };
	static const int unusable[MMB_NR_PAGE_ORDERS] = { 0, 2, 6, 12, 28, 56, 119, 201, 323, 475, 648 };
	uint64_t nf[MMB_NR_PAGE_ORDERS] = { 0 };

	for (unsigned o = 0; o < MMB_NR_PAGE_ORDERS; o++) {
		cr_expect_eq(mmb_unusable_index(normal, o), unusable[o], "order %u", o);
		cr_expect_eq(mmb_fragmentation_index(normal, o), -1000, "order %u", o);
	}
	/* No free memory: unusable 1.000, fragmentation 0. */
	cr_expect_eq(mmb_unusable_index(nf, 3), 1000);
	cr_expect_eq(mmb_fragmentation_index(nf, 3), 0);
	/* 10 x order 0 + 5 x order 1 at order 2: 1000 - (1000 + 20000/4) / 15 = 600 */
	nf[0] = 10;
	nf[1] = 5;
	cr_expect_eq(mmb_fragmentation_index(nf, 2), 600);
	cr_expect_eq(mmb_unusable_index(nf, 2), 1000);
	cr_expect_eq(mmb_unusable_index(nf, 1), 500);	/* (20 - 10 * 2) ... 10 of 20 frames unusable */
	/* 3 x order 0 + 1 x order 2 at order 3: 1000 - (1000 + 7000/8) / 4 = 532 */
	nf[0] = 3;
	nf[1] = 0;
	nf[2] = 1;
	cr_expect_eq(mmb_fragmentation_index(nf, 3), 532);
	cr_expect_eq(mmb_unusable_index(nf, 2), 428);	/* 3 of 7 frames, 3000/7 */
}

Test(buddy, state_files_in_kernel_format)
{
	struct mmb_buddy *b = mk(MEM_8M, 0, 0, 0, 1);
	char dir[256], buf[8192];

	mmb_tmpname(dir, sizeof(dir), "buddystate");
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(mmb_buddy_dump_state(b, dir), 0);
	mmb_slurp_in(dir, "buddyinfo", buf, sizeof(buf));
	cr_expect_str_eq(buf, "Node 0, zone   Normal      1      1      1      1      1      2      2"
			      "      2      2      2      0 \n");
	mmb_slurp_in(dir, "unusable_index", buf, sizeof(buf));
	cr_expect_str_eq(buf, "Node 0, zone   Normal 0.000 0.000 0.001 0.003 0.007 0.015 0.047 0.110"
			      " 0.237 0.491 1.000 \n");
	mmb_slurp_in(dir, "extfrag_index", buf, sizeof(buf));
	cr_expect_str_eq(buf, "Node 0, zone   Normal -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000"
			      " -1.000 -1.000 -1.000  0.803 \n");
	mmb_slurp_in(dir, "pagetypeinfo", buf, sizeof(buf));
	cr_expect_str_eq(buf,
		"Page block order: 9\n"
		"Pages per block:  512\n"
		"\n"
		"Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n"
		"Node    0, zone   Normal, type    Unmovable      0      0      0      0      0      0      0      0      0      0      0 \n"
		"Node    0, zone   Normal, type      Movable      1      1      1      1      1      2      2      2      2      2      0 \n"
		"Node    0, zone   Normal, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0 \n"
		"\n"
		"Number of blocks type     Unmovable      Movable  Reclaimable \n"
		"Node 0, zone   Normal            0            4            0 \n");
	mmb_slurp_in(dir, "memblock", buf, sizeof(buf));
	cr_expect(strstr(buf, " reserved[0x1]\t[0x00000000007e0000-0x00000000007fffff], "
			      "0x0000000000020000 bytes flags: 0x20\n"), "%s", buf);
	mmb_slurp_in(dir, "counters", buf, sizeof(buf));
	cr_expect(strstr(buf, "nr_free_pages 2015\n") && strstr(buf, "allocs 0\n"), "%s", buf);
	mmb_slurp_in(dir, "zoneinfo", buf, sizeof(buf));
	cr_expect(strstr(buf, "\n        managed  2015\n"), "%s", buf);
	mmb_rm_rf(dir);
	mmb_buddy_destroy(b);
}

/* batch 4, high 16 fixed: the refill and drain sizes of nr_pcp_alloc/free. */
Test(buddy, pcp_refill_and_drain_at_batch_high)
{
	struct mmb_buddy *b = mk(MEM_8M, 1, 4, 16, 1);
	struct mmb_buddy_pcp_info pi;
	struct mmb_buddy_counters c;
	struct mmb_page *p[40];

	cr_expect_eq(mmb_buddy_pcp_info(b, &pi), -ENOENT, "not attached yet");
	mmb_buddy_thread_attach(b);
	p[0] = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE);
	cr_assert_eq(mmb_buddy_pcp_info(b, &pi), 0);
	cr_expect_eq(pi.count, 3, "first refill: batch 4, one handed out");
	cr_expect_eq(pi.alloc_factor, 1);
	for (int i = 1; i < 4; i++)
		p[i] = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE);
	mmb_buddy_pcp_info(b, &pi);
	cr_expect_eq(pi.count, 0);
	p[4] = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE);
	mmb_buddy_pcp_info(b, &pi);
	cr_expect_eq(pi.count, 7, "second refill: batch << alloc_factor = 8");
	cr_expect_eq(pi.alloc_factor, 2);
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.pcp_refills, 2);
	cr_expect_eq(c.pcp_refill_pages, 12);
	cr_expect_eq(c.pcp_hits, 3);
	for (int i = 5; i < 40; i++)
		cr_assert_not_null(p[i] = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE));
	mmb_buddy_pcp_info(b, &pi);
	cr_expect_leq(pi.count, 16, "refills stop at high: %u", pi.count);
	for (int i = 0; i < 40; i++) {
		mmb_free_pages(b, p[i], 0);
		mmb_buddy_pcp_info(b, &pi);
		cr_assert_lt(pi.count, 16, "after free %d the list holds %u >= high", i, pi.count);
	}
	mmb_buddy_counters(b, &c);
	cr_expect_gt(c.pcp_drains, 0);
	/* Each drain leaves at least batch frames: count >= batch after one. */
	cr_expect_geq(pi.count, 4);
	expect_check(b);
	mmb_buddy_thread_detach(b);
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.pcp_drain_pages, c.pcp_refill_pages, "detach drains everything");
	expect_nr_free(b, boot_8m);
	expect_check(b);
	mmb_buddy_destroy(b);
}

/* The kernel's defaults: the first refill is one batch (63 for >= 1 GiB). */
Test(buddy, pcp_default_batch)
{
	struct mmb_buddy *b = mk(1ULL << 30, 1, 0, 0, 1);
	struct mmb_buddy_pcp_info pi;
	struct mmb_page *p;

	mmb_buddy_thread_attach(b);
	p = mmb_alloc_pages(b, 0, MMB_MT_UNMOVABLE);
	cr_assert_eq(mmb_buddy_pcp_info(b, &pi), 0);
	cr_expect_eq(pi.batch, 63);
	cr_expect_eq(pi.count, 62);
	cr_expect_eq(pi.high, 1273 + 63, "high grows by a batch on refill");
	cr_expect_eq(mmb_buddy_used_pages(b), 1);
	mmb_free_pages(b, p, 0);
	mmb_buddy_thread_detach(b);
	expect_check(b);
	mmb_buddy_destroy(b);
}

Test(buddy, bulk)
{
	for (int pcp = 0; pcp < 2; pcp++) {
		struct mmb_buddy *b = mk(MEM_8M, pcp, 0, 0, 1);
		struct mmb_page *p[100];
		unsigned n;

		mmb_buddy_thread_attach(b);
		n = mmb_alloc_pages_bulk(b, MMB_MT_MOVABLE, 100, p);
		cr_expect_eq(n, 100);
		for (unsigned i = 0; i < n; i++)
			for (unsigned j = 0; j < i; j++)
				cr_assert_neq(p[i], p[j]);
		cr_expect_eq(mmb_buddy_used_pages(b), 100);
		expect_check(b);
		for (unsigned i = 0; i < n; i++)
			mmb_free_pages(b, p[i], 0);
		mmb_buddy_thread_detach(b);
		expect_nr_free(b, boot_8m);
		expect_check(b);
		mmb_buddy_destroy(b);
	}
}

/* An unmovable request in an all-movable zone claims a whole order-10 block
 * (2 pageblocks retyped); the next one is served from its own list. */
Test(buddy, fallback_claims_pageblocks)
{
	struct mmb_buddy *b = mk(16ULL << 20, 0, 0, 0, 1);
	struct mmb_buddy_counters c;
	struct mmb_buddy_info in;
	struct mmb_page *u0, *u1, *r;

	u0 = mmb_alloc_pages(b, 0, MMB_MT_UNMOVABLE);
	cr_assert_not_null(u0);
	cr_expect_eq(pfn_of(b, u0), 1024, "the largest fallback block, first on its list");
	u1 = mmb_alloc_pages(b, 0, MMB_MT_UNMOVABLE);
	cr_expect_eq(pfn_of(b, u1), 1025);
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.fallbacks, 1);
	cr_expect_eq(c.claims, 2);
	mmb_buddy_info(b, &in);
	cr_expect_eq(in.nr_free_mt[MMB_MT_UNMOVABLE][1], 1);
	cr_expect_eq(in.nr_free_mt[MMB_MT_UNMOVABLE][9], 1);
	/* Reclaimable: the largest fallback block first, so the movable
	 * order-10 block at 2048 rather than the unmovable order-9 one. */
	r = mmb_alloc_pages(b, 0, MMB_MT_RECLAIMABLE);
	cr_expect_eq(pfn_of(b, r), 2048);
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.fallbacks, 2);
	cr_expect_eq(c.claims, 4);
	expect_check(b);
	mmb_free_pages(b, u0, 0);
	mmb_free_pages(b, u1, 0);
	mmb_free_pages(b, r, 0);
	expect_check(b);
	mmb_buddy_destroy(b);
}

/*
 * The half-pageblock rule and stealing. Two unmovable pageblocks (2, 3) are
 * filled, the even frames of pageblock 3 freed (256 = half a block), every
 * movable frame used up. A reclaimable request then claims pageblock 3
 * (free 256 >= 512 / 2, boosting the watermark); a movable order-0 request
 * may not claim (order < pageblock_order / 2) and steals a frame instead.
 */
Test(buddy, fallback_half_block_claim_and_steal)
{
	struct mmb_buddy *b = mk(16ULL << 20, 0, 0, 0, 1);
	static struct mmb_page *u[1024], *m[4096];
	struct mmb_buddy_counters c;
	struct mmb_buddy_info in;
	struct mmb_page *r, *s;
	unsigned nm = 0;

	for (int i = 0; i < 1024; i++)
		cr_assert_not_null(u[i] = mmb_alloc_pages(b, 0, MMB_MT_UNMOVABLE));
	for (int i = 0; i < 1024; i++)
		if (pfn_of(b, u[i]) >= 1536 && !(pfn_of(b, u[i]) & 1)) {
			mmb_free_pages(b, u[i], 0);
			u[i] = NULL;
		}
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.fallbacks, 1);
	cr_expect_eq(c.claims, 2);
	for (;;) {
		mmb_buddy_info(b, &in);
		if (in.free_pages == 256)
			break;
		cr_assert_not_null(m[nm] = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE), "movable %u", nm);
		nm++;
	}
	cr_expect_eq(nm, 4031 - 1024);
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.fallbacks, 1, "movable lists served every movable request");
	r = mmb_alloc_pages(b, 0, MMB_MT_RECLAIMABLE);
	cr_assert_not_null(r);
	cr_expect_eq(pfn_of(b, r) >> MMB_PAGEBLOCK_ORDER, 3);
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.fallbacks, 2);
	cr_expect_eq(c.claims, 3, "pageblock 3 claimed");
	cr_expect_eq(c.wmark_boosts, 1);
	mmb_buddy_info(b, &in);
	cr_expect_eq(in.nr_free_mt[MMB_MT_RECLAIMABLE][0], 255);
	cr_expect_eq(in.nr_free_mt[MMB_MT_UNMOVABLE][0], 0);
	cr_expect_eq(in.watermark_boost, 0, "kswapd took the boost away");
	s = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE);
	cr_assert_not_null(s);
	cr_expect_eq(pfn_of(b, s) >> MMB_PAGEBLOCK_ORDER, 3);
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.fallbacks, 3);
	cr_expect_eq(c.claims, 3, "stolen, not claimed");
	mmb_buddy_info(b, &in);
	cr_expect_eq(in.nr_free_mt[MMB_MT_RECLAIMABLE][0], 254);
	expect_check(b);
	mmb_free_pages(b, r, 0);
	mmb_free_pages(b, s, 0);
	for (unsigned i = 0; i < nm; i++)
		mmb_free_pages(b, m[i], 0);
	for (int i = 0; i < 1024; i++)
		if (u[i])
			mmb_free_pages(b, u[i], 0);
	expect_check(b);
	cr_expect_eq(mmb_buddy_used_pages(b), 0);
	mmb_buddy_destroy(b);
}

/* migratetypes=off: one list type, no fallbacks. */
Test(buddy, migratetypes_off)
{
	struct mmb_buddy *b = mk(16ULL << 20, 0, 0, 0, 0);
	struct mmb_buddy_counters c;
	struct mmb_buddy_info in;
	struct mmb_page *p = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE);
	struct mmb_page *q = mmb_alloc_pages(b, 0, MMB_MT_RECLAIMABLE);

	cr_assert(p && q);
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.fallbacks, 0);
	mmb_buddy_info(b, &in);
	cr_expect_eq(in.mobility, 0);
	for (int o = 0; o < MMB_NR_PAGE_ORDERS; o++)
		cr_expect_eq(in.nr_free_mt[MMB_MT_MOVABLE][o], 0);
	mmb_free_pages(b, p, 0);
	mmb_free_pages(b, q, 0);
	expect_check(b);
	mmb_buddy_destroy(b);
}

Test(buddy, out_of_memory_and_bad_calls)
{
	struct mmb_buddy *b = mk(4ULL << 20, 0, 0, 0, 1);
	static struct mmb_page *p[1024];
	struct mmb_buddy_counters c;
	struct mmb_buddy_info in;
	char err[256] = "";
	unsigned n = 0;

	while (n < 1024 && (p[n] = mmb_alloc_pages(b, 0, MMB_MT_MOVABLE)))
		n++;
	mmb_buddy_info(b, &in);
	cr_log_info("%u frames allocated, %llu free at the min mark", n,
		    (unsigned long long)in.free_pages);
	cr_expect_eq(in.free_pages, in.zp.wmark_min, "stops exactly at the min watermark");
	cr_expect_eq(n, in.managed_pages - in.zp.wmark_min);
	cr_expect_null(mmb_alloc_pages(b, 4, MMB_MT_MOVABLE));
	cr_expect_null(mmb_alloc_pages(b, MMB_MAX_ORDER + 1, MMB_MT_MOVABLE));
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.failed_allocs, 3);
	cr_expect_gt(c.wmark_low_breaches, 0);
	expect_check(b);
	for (unsigned i = 0; i < n; i++)
		mmb_free_pages(b, p[i], 0);
	expect_check(b);
	/* A double free is refused, counted, and reported by check. */
	mmb_free_pages(b, p[0], 0);
	mmb_buddy_counters(b, &c);
	cr_expect_eq(c.bad_frees, 1);
	cr_expect_eq(mmb_buddy_check(b, err, sizeof(err)), -EUCLEAN);
	cr_expect(strstr(err, "not allocated"), "%s", err);
	mmb_buddy_destroy(b);
}

Test(buddy, create_rejects_bad_sizes)
{
	struct mmb_buddy_cfg cfg = { 1 << 20, 1, 0, 0, 1, 1 };
	struct mmb_buddy *b;
	char err[256] = "";

	cr_expect_eq(mmb_buddy_create(&cfg, &b, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "out of range"), "%s", err);
}

/* ---- randomized against a model ---- */

struct model {
	uint8_t *used;		/* frame -> allocated */
	struct mmb_page *blk[512];
	unsigned order[512];
};

static void model_run(uint64_t seed, int pcp, int mt_on)
{
	struct mmb_buddy *b = mk(16ULL << 20, pcp, 0, 0, mt_on);
	struct mmb_pmem *pm = mmb_buddy_pmem(b);
	static struct model m;
	uint64_t rng[4];

	cr_log_info("seed %#llx pcp=%d migratetypes=%d", (unsigned long long)seed, pcp, mt_on);
	mmb_rand_seed(rng, seed);
	m.used = calloc(pm->nr_pfns, 1);
	memset(m.blk, 0, sizeof(m.blk));
	mmb_buddy_thread_attach(b);
	for (int step = 0; step < 30000; step++) {
		unsigned s = (unsigned)mmb_rand_below(rng, 512);

		if (m.blk[s]) {
			uint64_t pfn = pfn_of(b, m.blk[s]);
			unsigned char *va = mmb_page_address(pm, m.blk[s]);

			cr_assert_eq(va[0], (unsigned char)s, "step %d: block at %#llx overwritten", step,
				     (unsigned long long)pfn);
			for (uint64_t i = 0; i < (1ULL << m.order[s]); i++)
				m.used[pfn + i] = 0;
			mmb_free_pages(b, m.blk[s], m.order[s]);
			m.blk[s] = NULL;
		} else {
			unsigned order = mmb_rand_below(rng, 8) ? (unsigned)mmb_rand_below(rng, 4)
								: (unsigned)mmb_rand_below(rng, 8);
			int mt = (int)mmb_rand_below(rng, MMB_MT_TYPES);
			struct mmb_page *p = mmb_alloc_pages(b, order, mt);
			uint64_t pfn;

			if (!p)
				continue;
			pfn = pfn_of(b, p);
			cr_assert_eq(pfn & ((1ULL << order) - 1), 0, "step %d: misaligned", step);
			cr_assert_leq(pfn + (1ULL << order), pm->nr_pfns);
			for (uint64_t i = 0; i < (1ULL << order); i++) {
				cr_assert_not(m.used[pfn + i], "step %d: frame %#llx handed out twice",
					      step, (unsigned long long)(pfn + i));
				m.used[pfn + i] = 1;
			}
			*(unsigned char *)mmb_page_address(pm, p) = (unsigned char)s;
			m.blk[s] = p;
			m.order[s] = order;
		}
		if (step % 5000 == 0)
			expect_check(b);
	}
	expect_check(b);
	for (int s = 0; s < 512; s++)
		if (m.blk[s])
			mmb_free_pages(b, m.blk[s], m.order[s]);
	mmb_buddy_thread_detach(b);
	expect_check(b);
	cr_expect_eq(mmb_buddy_used_pages(b), 0);
	/* Everything merged back: the canonical decomposition of [1, 4032). */
	expect_nr_free(b, (uint64_t[]){ 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2 });
	free(m.used);
	mmb_buddy_destroy(b);
}

Test(buddy, random_model_pcp)
{
	model_run(0xb0dd1, 1, 1);
}

Test(buddy, random_model_zone_only)
{
	model_run(0xb0dd2, 0, 1);
}

Test(buddy, random_model_one_type)
{
	model_run(0xb0dd3, 1, 0);
}

/* ---- threads ---- */

enum { ST_THREADS = 4, ST_SLOTS = 256, ST_STEPS = 20000 };

struct stress {
	struct mmb_buddy *b;
	pthread_mutex_t lock;	/* the exchange: blocks freed by another thread */
	struct mmb_page *xchg[64];
	unsigned xorder[64];
	int nx;
	uint64_t seed;
};

static void *stress_main(void *arg)
{
	struct stress *st = arg;
	struct mmb_page *blk[ST_SLOTS] = { 0 };
	unsigned order[ST_SLOTS];
	uint64_t rng[4];

	mmb_rand_seed(rng, __atomic_fetch_add(&st->seed, 1, __ATOMIC_RELAXED));
	mmb_buddy_thread_attach(st->b);
	for (int step = 0; step < ST_STEPS; step++) {
		unsigned s = (unsigned)mmb_rand_below(rng, ST_SLOTS);

		if (blk[s]) {
			if (mmb_rand_below(rng, 4) == 0) {	/* hand it to whoever comes next */
				pthread_mutex_lock(&st->lock);
				if (st->nx < 64) {
					st->xchg[st->nx] = blk[s];
					st->xorder[st->nx++] = order[s];
					blk[s] = NULL;
				}
				pthread_mutex_unlock(&st->lock);
			}
			if (blk[s])
				mmb_free_pages(st->b, blk[s], order[s]);
			blk[s] = NULL;
		} else {
			order[s] = mmb_rand_below(rng, 10) ? (unsigned)mmb_rand_below(rng, 4) : 5;
			blk[s] = mmb_alloc_pages(st->b, order[s], (int)mmb_rand_below(rng, MMB_MT_TYPES));
		}
		if (step % 64 == 0) {
			pthread_mutex_lock(&st->lock);
			while (st->nx > 0) {
				st->nx--;
				mmb_free_pages(st->b, st->xchg[st->nx], st->xorder[st->nx]);
			}
			pthread_mutex_unlock(&st->lock);
		}
	}
	for (int s = 0; s < ST_SLOTS; s++)
		if (blk[s])
			mmb_free_pages(st->b, blk[s], order[s]);
	mmb_buddy_thread_detach(st->b);
	return NULL;
}

Test(buddy, threads_stress_keeps_check)
{
	static struct stress st;
	pthread_t t[ST_THREADS];
	struct mmb_buddy_counters c;

	st.b = mk(64ULL << 20, 1, 0, 0, 1);
	st.seed = 0x57e55;
	cr_log_info("seeds %#llx..%#llx", (unsigned long long)st.seed,
		    (unsigned long long)st.seed + ST_THREADS - 1);
	pthread_mutex_init(&st.lock, NULL);
	for (int i = 0; i < ST_THREADS; i++)
		pthread_create(&t[i], NULL, stress_main, &st);
	for (int i = 0; i < ST_THREADS; i++)
		pthread_join(t[i], NULL);
	while (st.nx > 0) {
		st.nx--;
		mmb_free_pages(st.b, st.xchg[st.nx], st.xorder[st.nx]);
	}
	expect_check(st.b);
	cr_expect_eq(mmb_buddy_used_pages(st.b), 0);
	mmb_buddy_counters(st.b, &c);
	cr_expect_eq(c.allocs, c.frees);
	cr_expect_eq(c.pgalloc, c.pgfree);
	cr_expect_eq(c.bad_frees, 0);
	mmb_buddy_destroy(st.b);
}

/* ---- the registry entry and the CLI ---- */

Test(buddy, registry_stats)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc_cfg cfg;
	struct mmb_alloc_stats st;
	struct mmb_alloc *a;
	char err[256] = "";
	void *p, *q;

	cr_assert_eq(mmb_alloc_parse_config("buddy:mem=8M,pcp=off", &ops, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(ops->create(&cfg, &a, err, sizeof(err)), 0, "%s", err);
	p = ops->alloc(a, 5000, 0);		/* order 1 */
	q = ops->alloc(a, 100, 4096);		/* order 0 */
	cr_assert(p && q);
	cr_expect_eq(ops->usable_size(a, p), 8192);
	cr_expect_eq(ops->usable_size(a, q), 4096);
	cr_expect_null(ops->alloc(a, (4 << 20) + 1, 0), "above order 10");
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_eq(st.footprint_bytes, 3 * 4096);
	cr_expect_eq(st.usable_bytes, 3 * 4096);
	cr_expect_eq(st.allocs, 2);
	cr_expect_eq(st.failed_allocs, 1);
	cr_expect_float_eq(st.extfrag_index[0], -1.0, 1e-9);
	cr_expect_float_eq(st.unusable_index[10], 1.0, 1e-9, "no order-10 block in 8M");
	ops->free(a, p, 5000);
	ops->free(a, q, 100);
	cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s", err);
	ops->destroy(a);
}

static void expect_bad_config(const char *spec, const char *what)
{
	struct mmb_cmd *c = malloc(sizeof(*c));

	mmb_run_cmd(c, "run", "-a", spec, "-w", "churn", "--ops", "10", "-q", NULL);
	cr_expect_eq(c->status, 2, "%s: status %d", spec, c->status);
	cr_expect(strstr(c->err, what), "%s: stderr: %s", spec, c->err);
	free(c);
}

Test(buddy, cli_bad_options_exit_2)
{
	expect_bad_config("buddy:mem=1M", "mem");
	expect_bad_config("buddy:mem=1T", "mem");
	expect_bad_config("buddy:bogus=1", "bogus");
	expect_bad_config("buddy:batch=100000", "batch");
	expect_bad_config("buddy:pcp=maybe", "pcp");
}

Test(buddy, cli_run_dump_state)
{
	struct mmb_cmd *c = malloc(sizeof(*c));
	char dir[256], buf[4096], path[512];

	mmb_tmpname(dir, sizeof(dir), "buddyrun");
	mmb_run_cmd(c, "run", "-o", dir, "-a", "buddy:mem=64M", "-w", "churn", "--ops", "2000",
		    "--dump-state", "--check", "-q", NULL);
	cr_assert_eq(c->status, 0, "%s", c->err);
	snprintf(path, sizeof(path), "%s/state/1/buddyinfo", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(!strncmp(buf, "Node 0, zone   Normal ", 22), "%s", buf);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, ",ok,"), "%s", buf);
	mmb_rm_rf(dir);
	free(c);
}

/* The registry allocator reports its exact footprint peak, not a sample. */
Test(buddy, footprint_peak_is_exact)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	struct mmb_alloc_stats st;
	void *p[10];

	a = mmb_test_alloc("buddy:mem=64M,pcp=off", 1, &ops);
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_eq(st.footprint_peak_bytes, 0);
	for (int i = 0; i < 10; i++)
		p[i] = ops->alloc(a, 4096, 0);
	for (int i = 0; i < 10; i++)
		ops->free(a, p[i], 4096);
	p[0] = ops->alloc(a, 8192, 0);
	ops->free(a, p[0], 8192);
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_eq(st.footprint_bytes, 0);
	cr_expect_eq(st.footprint_peak_bytes, 10 * 4096, "peak %llu",
		     (unsigned long long)st.footprint_peak_bytes);
	ops->destroy(a);
}

/*
 * test_memblock.c — region lists (sorted, merged, split), top-down
 * allocation that never returns frame 0, the memblock=debug dump, and the
 * hand-over chunking of memblock_free_all (reference §1.8 vectors).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../allocators/buddy.h"
#include "../../allocators/memblock.h"

static void expect_regions(const struct mmb_memblock_type *t, unsigned long n, const uint64_t *be)
{
	uint64_t total = 0;

	cr_assert_eq(t->cnt, n, "%s: %lu regions, expected %lu", t->name, t->cnt, n);
	for (unsigned long i = 0; i < n; i++) {
		cr_expect_eq(t->regions[i].base, be[2 * i], "%s[%lu].base %#llx", t->name, i,
			     (unsigned long long)t->regions[i].base);
		cr_expect_eq(t->regions[i].base + t->regions[i].size, be[2 * i + 1], "%s[%lu].end",
			     t->name, i);
		total += t->regions[i].size;
	}
	cr_expect_eq(t->total_size, total);
}

Test(memblock, add_merges_and_keeps_sorted)
{
	struct mmb_memblock mb;

	mmb_memblock_init(&mb);
	cr_assert_eq(mmb_memblock_add(&mb, 0x5000, 0x1000), 0);
	cr_assert_eq(mmb_memblock_add(&mb, 0x1000, 0x1000), 0);
	cr_assert_eq(mmb_memblock_add(&mb, 0x3000, 0x1000), 0);
	expect_regions(&mb.memory, 3, (uint64_t[]){ 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000 });
	/* Overlapping: only the gaps are added, then everything merges. */
	cr_assert_eq(mmb_memblock_add(&mb, 0x1800, 0x4000), 0);
	expect_regions(&mb.memory, 1, (uint64_t[]){ 0x1000, 0x6000 });
	cr_assert_eq(mmb_memblock_add(&mb, 0x1000, 0x1000), 0);
	expect_regions(&mb.memory, 1, (uint64_t[]){ 0x1000, 0x6000 });
}

Test(memblock, free_splits_reserved)
{
	struct mmb_memblock mb;

	mmb_memblock_init(&mb);
	cr_assert_eq(mmb_memblock_reserve(&mb, 0x10000, 0x10000), 0);
	cr_assert_eq(mmb_memblock_phys_free(&mb, 0x14000, 0x2000), 0);
	expect_regions(&mb.reserved, 2, (uint64_t[]){ 0x10000, 0x14000, 0x16000, 0x20000 });
	cr_assert_eq(mmb_memblock_phys_free(&mb, 0x12000, 0x6000), 0);
	expect_regions(&mb.reserved, 2, (uint64_t[]){ 0x10000, 0x12000, 0x18000, 0x20000 });
	cr_assert_eq(mmb_memblock_phys_free(&mb, 0, 0x100000), 0);
	expect_regions(&mb.reserved, 0, NULL);
}

Test(memblock, region_array_full)
{
	struct mmb_memblock mb;

	mmb_memblock_init(&mb);
	for (uint64_t i = 0; i < MMB_MEMBLOCK_REGIONS; i++)
		cr_assert_eq(mmb_memblock_reserve(&mb, i * 0x2000, 0x1000), 0);
	cr_expect_eq(mmb_memblock_reserve(&mb, 0x10000000, 0x1000), -ENOSPC);
	cr_expect_eq(mb.reserved.cnt, MMB_MEMBLOCK_REGIONS, "a failed add changes nothing");
	/* Filling every gap would merge all into one region, but the pieces
	 * need room first (the kernel's two passes; it would double the array). */
	cr_expect_eq(mmb_memblock_reserve(&mb, 0, MMB_MEMBLOCK_REGIONS * 0x2000), -ENOSPC);
}

Test(memblock, alloc_top_down_never_frame0)
{
	struct mmb_memblock mb;

	mmb_memblock_init(&mb);
	cr_assert_eq(mmb_memblock_add(&mb, 0, 0x100000), 0);
	cr_assert_eq(mmb_memblock_reserve(&mb, 0xf0000, 0x10000), 0);
	cr_expect_eq(mmb_memblock_phys_alloc(&mb, 0x1000, 0x1000), 0xef000);
	cr_expect_eq(mmb_memblock_phys_alloc(&mb, 0x100, 0x10000), 0xe0000, "aligned down");
	cr_expect_eq(mmb_memblock_phys_alloc(&mb, 0x40, 0), 0xeefc0, "default align 64");
	/* The allocations are RSRV_KERN, the first reservation is not: no merge. */
	cr_expect_eq(mb.reserved.regions[mb.reserved.cnt - 1].flags, MMB_MEMBLOCK_NONE);
	cr_expect_eq(mb.reserved.regions[mb.reserved.cnt - 2].flags, MMB_MEMBLOCK_RSRV_KERN);

	mmb_memblock_init(&mb);
	cr_assert_eq(mmb_memblock_add(&mb, 0, 0x2000), 0);
	cr_expect_eq(mmb_memblock_phys_alloc(&mb, 0x1000, 0x1000), 0x1000);
	cr_expect_eq(mmb_memblock_phys_alloc(&mb, 0x1000, 0x1000), 0, "frame 0 is never handed out");
	cr_expect_eq(mmb_memblock_phys_alloc(&mb, 0x10, 0), 0);
}

Test(memblock, dump_format)
{
	struct mmb_memblock mb;
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	mmb_memblock_init(&mb);
	mmb_memblock_add(&mb, 0, 0x40000000);
	mmb_memblock_reserve(&mb, 0, 0x1000);
	mmb_memblock_phys_alloc(&mb, 0x1000000, 0x1000);
	mmb_memblock_dump(&mb, f);
	fclose(f);
	cr_expect_str_eq(buf,
		"MEMBLOCK configuration:\n"
		" memory size = 0x0000000040000000 reserved size = 0x0000000001001000\n"
		" memory.cnt  = 0x1\n"
		" memory[0x0]\t[0x0000000000000000-0x000000003fffffff], 0x0000000040000000 bytes flags: 0x0\n"
		" reserved.cnt  = 0x2\n"
		" reserved[0x0]\t[0x0000000000000000-0x0000000000000fff], 0x0000000000001000 bytes flags: 0x0\n"
		" reserved[0x1]\t[0x000000003f000000-0x000000003fffffff], 0x0000000001000000 bytes flags: 0x20\n");
}

/* ---- hand-over ---- */

struct chunks {
	uint64_t pfn[2048];
	unsigned order[2048];
	unsigned n;
	uint64_t rsv_start[16], rsv_end[16];
	unsigned nrsv;
};

static void ch_reserved(void *ctx, uint64_t s, uint64_t e)
{
	struct chunks *c = ctx;

	c->rsv_start[c->nrsv] = s;
	c->rsv_end[c->nrsv++] = e;
}

static void ch_free(void *ctx, uint64_t pfn, unsigned order)
{
	struct chunks *c = ctx;

	cr_assert_lt(c->n, 2048);
	c->pfn[c->n] = pfn;
	c->order[c->n++] = order;
}

Test(memblock, free_all_chunks_like_the_kernel)
{
	static const uint64_t pfn[] = { 0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80, 0x90, 0x98, 0x9c, 0x9e,
					0x100, 0x200 };
	static const unsigned order[] = { 0, 1, 2, 3, 4, 5, 6, 4, 3, 2, 1, 0, 8, 9 };
	static struct chunks c;
	struct mmb_memblock_handover h = { ch_reserved, ch_free, &c };
	struct mmb_memblock mb;
	uint64_t n;

	mmb_memblock_init(&mb);
	mmb_memblock_add(&mb, 0, 0x80000ULL << 12);
	mmb_memblock_reserve(&mb, 0, 0x1000);			/* [0, 0x1) */
	mmb_memblock_reserve(&mb, 0x9f000, 0x100000 - 0x9f000);	/* [0x9f, 0x100) */
	n = mmb_memblock_free_all(&mb, &h);
	cr_expect_eq(n, 0x80000 - 1 - (0x100 - 0x9f));
	cr_assert_eq(c.n, 14 + (0x80000 - 0x400) / 0x400);
	for (unsigned i = 0; i < 14; i++) {
		cr_expect_eq(c.pfn[i], pfn[i], "chunk %u at %#llx", i, (unsigned long long)c.pfn[i]);
		cr_expect_eq(c.order[i], order[i], "chunk %u at %#llx: order %u", i,
			     (unsigned long long)c.pfn[i], c.order[i]);
	}
	for (unsigned i = 14; i < c.n; i++) {
		cr_expect_eq(c.pfn[i], 0x400 * (i - 13));
		cr_expect_eq(c.order[i], MMB_MAX_ORDER);
	}
	cr_expect_eq(c.nrsv, 2);
	cr_expect_eq(mmb_memblock_reserve(&mb, 0x1000, 0x1000), -EBUSY, "frozen after hand-over");
	cr_expect_eq(mmb_memblock_phys_alloc(&mb, 0x1000, 0x1000), 0);
}

Test(memblock, free_all_loses_partial_frames)
{
	static struct chunks c;
	struct mmb_memblock_handover h = { ch_reserved, ch_free, &c };
	struct mmb_memblock mb;

	mmb_memblock_init(&mb);
	mmb_memblock_add(&mb, 0, 0x8000);
	mmb_memblock_reserve(&mb, 0x1800, 0x1000);	/* frames 1 and 2, partly */
	cr_expect_eq(mmb_memblock_free_all(&mb, &h), 1 + 5);
	cr_assert_eq(c.nrsv, 1);
	cr_expect_eq(c.rsv_start[0], 1);
	cr_expect_eq(c.rsv_end[0], 3);
	/* [0, 0x1800) -> frame 0 (order MAX shrunk to 0); [0x2800, 0x8000) -> 3..7 */
	cr_assert_eq(c.n, 3);
	cr_expect_eq(c.pfn[0], 0);
	cr_expect_eq(c.order[0], 0);
	cr_expect_eq(c.pfn[1], 3);
	cr_expect_eq(c.order[1], 0);
	cr_expect_eq(c.pfn[2], 4);
	cr_expect_eq(c.order[2], 2);
}

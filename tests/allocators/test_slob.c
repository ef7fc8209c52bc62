/*
 * test_slob.c — SLOB (allocators/slob.c): first-fit placement computed by
 * hand (offsets in a page, units of 2 bytes, the 8-byte size header,
 * natural alignment of powers of two), the list by size and the "move the
 * list head" heuristic, large requests straight to pages, pages given back
 * whole, the stranded-units figures, random sequences against a model with
 * check() (fixed seeds, printed), and check() catching a broken header.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../allocators/allocator.h"
#include "../../allocators/slob.h"
#include "../../workloads/workload.h"

struct fx {
	struct mmb_buddy *b;
	struct mmb_slob *so;
};

static void fx_init(struct fx *fx)
{
	struct mmb_buddy_cfg bc = { .mem_bytes = 16 << 20, .pcp = 0, .nthreads = 1 };
	char err[MMB_ERR_MAX] = "";

	cr_assert_eq(mmb_buddy_create(&bc, &fx->b, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mmb_slob_create(fx->b, &fx->so, err, sizeof(err)), 0, "%s", err);
}

static void fx_fini(struct fx *fx)
{
	char err[MMB_ERR_MAX] = "";

	cr_expect_eq(mmb_slob_check(fx->so, err, sizeof(err)), 0, "%s", err);
	mmb_slob_destroy(fx->so);
	cr_expect_eq(mmb_buddy_used_pages(fx->b), 0, "pages left after destroy");
	mmb_buddy_destroy(fx->b);
}

static uintptr_t page_of(const void *p)
{
	return (uintptr_t)p & ~(uintptr_t)4095;
}

static unsigned off_of(const void *p)
{
	return (unsigned)((uintptr_t)p & 4095);
}

static void check_ok(struct fx *fx, const char *when)
{
	char err[MMB_ERR_MAX] = "";

	cr_assert_eq(mmb_slob_check(fx->so, err, sizeof(err)), 0, "%s: %s", when, err);
}

/*
 * kmalloc(100) is a block of 108 bytes (54 units) at page offset 0, the
 * caller's pointer 8 bytes in. The next block would start at 108, but the
 * caller's pointer must be 8-aligned (align 8 at align_offset 8), so a
 * 2-unit fragment stays free at 108 and the block goes to 112 (pointer
 * 120). kmalloc(300) (308 bytes) is for the medium list, so a new page.
 * Freeing the first block merges it with the fragment: a hole of 56 units
 * at 0. kmalloc(40) (48 bytes) takes its head, the next one 48..96, the
 * third skips the 16 bytes left and goes after the second 100-block (ends
 * at 220; aligned: block 224, pointer 232).
 */
Test(slob, first_fit_placement)
{
	struct fx fx;
	void *a, *b, *c, *d, *e, *f;

	fx_init(&fx);
	a = mmb_slob_kmalloc(fx.so, 100, 0);
	b = mmb_slob_kmalloc(fx.so, 100, 0);
	cr_assert(a && b);
	cr_expect_eq(off_of(a), 8);
	cr_expect_eq((char *)b - (char *)a, 112);
	c = mmb_slob_kmalloc(fx.so, 300, 0);
	cr_expect_neq(page_of(c), page_of(a), "300 bytes: the medium list, a new page");
	cr_expect_eq(off_of(c), 8);
	mmb_slob_kfree(fx.so, a);
	check_ok(&fx, "after the first free");
	d = mmb_slob_kmalloc(fx.so, 40, 0);
	e = mmb_slob_kmalloc(fx.so, 40, 0);
	f = mmb_slob_kmalloc(fx.so, 40, 0);
	cr_expect_eq((uintptr_t)d, page_of(b) + 8, "first fit: the hole's head");
	cr_expect_eq((uintptr_t)e, page_of(b) + 48 + 8, "the rest of the hole");
	cr_expect_eq((uintptr_t)f, page_of(b) + 224 + 8, "16 bytes left are too few");
	cr_expect_eq(mmb_slob_ksize(fx.so, d), 40);
	cr_expect_eq(mmb_slob_ksize(fx.so, mmb_slob_kmalloc(fx.so, 41, 0)), 42, "SLOB_UNITS * 2");
	check_ok(&fx, "end");
	fx_fini(&fx);
}

/* A power of two is aligned to its size: kmalloc(64) in a fresh page puts
 * its header at 56, so the caller gets offset 64, and the 56 bytes before
 * stay a free block that kmalloc(20) (28 bytes) then fills first. */
Test(slob, power_of_two_alignment)
{
	struct fx fx;
	void *a, *b;

	fx_init(&fx);
	a = mmb_slob_kmalloc(fx.so, 64, 0);
	cr_expect_eq(off_of(a), 64);
	b = mmb_slob_kmalloc(fx.so, 20, 0);
	cr_expect_eq((uintptr_t)b, page_of(a) + 8);
	cr_expect_eq(off_of(mmb_slob_kmalloc(fx.so, 16, 1024)) % 1024, 0, "contract align 1024");
	check_ok(&fx, "end");
	fx_fini(&fx);
}

/*
 * The list head moves to the page that served a request. kmalloc(900) is
 * 908 bytes (454 units, medium list): blocks at 0, 912, 1824, 2736 (2-unit
 * fragments keep the pointers 8-aligned), 232 units left of which 226 in
 * the tail at 3644. Page X gets 4, page Y (made for the 5th, at the head)
 * 4 more. Freeing X's first block opens 456 units there; the next
 * kmalloc(900) skips Y (232 < 454 units) and fits in X, which becomes the
 * head: so kmalloc(300) (154 units) lands in X's tail (block 3648,
 * pointer 3656), not Y's.
 */
Test(slob, move_list_head)
{
	struct fx fx;
	void *x[4], *y[4], *p, *q;

	fx_init(&fx);
	for (int i = 0; i < 4; i++)
		x[i] = mmb_slob_kmalloc(fx.so, 900, 0);
	for (int i = 0; i < 4; i++)
		y[i] = mmb_slob_kmalloc(fx.so, 900, 0);
	cr_expect_eq(page_of(x[3]), page_of(x[0]));
	cr_expect_eq((char *)x[3] - (char *)x[0], 2736);
	cr_expect_neq(page_of(y[0]), page_of(x[0]));
	mmb_slob_kfree(fx.so, x[0]);
	p = mmb_slob_kmalloc(fx.so, 900, 0);
	cr_expect_eq(p, x[0], "first fit in X after skipping Y");
	q = mmb_slob_kmalloc(fx.so, 300, 0);
	cr_expect_eq((uintptr_t)q, page_of(x[0]) + 3648 + 8, "X is now the head: %#x in %s",
		     off_of(q), page_of(q) == page_of(y[0]) ? "Y" : "X");
	check_ok(&fx, "end");
	fx_fini(&fx);
}

/* >= PAGE_SIZE - 8 bytes: whole buddy pages; one byte less fills a page. A
 * page whose blocks are all freed goes back at once. */
Test(slob, large_and_whole_pages)
{
	struct fx fx;
	struct mmb_slob_info in;
	void *big, *full, *huge;

	fx_init(&fx);
	big = mmb_slob_kmalloc(fx.so, 4088, 0);
	cr_expect_eq(off_of(big), 0);
	cr_expect_eq(mmb_slob_ksize(fx.so, big), 4096);
	huge = mmb_slob_kmalloc(fx.so, 20000, 0);
	cr_expect_eq(mmb_slob_ksize(fx.so, huge), 32768);
	full = mmb_slob_kmalloc(fx.so, 4087, 0);
	cr_expect_eq(off_of(full), 8);
	mmb_slob_get_info(fx.so, &in);
	cr_expect_eq(in.slob_pages, 1);
	cr_expect_eq(in.large_pages, 9);
	cr_expect_eq(in.pages[0] + in.pages[1] + in.pages[2], 0, "a full page is on no list");
	check_ok(&fx, "full");
	mmb_slob_kfree(fx.so, full);
	mmb_slob_kfree(fx.so, big);
	mmb_slob_kfree(fx.so, huge);
	mmb_slob_get_info(fx.so, &in);
	cr_expect_eq(in.slob_pages + in.large_pages, 0);
	cr_expect_eq(mmb_buddy_used_pages(fx.b), 0);
	fx_fini(&fx);
}

/* Free units stranded: 20 blocks of 100 bytes in one small-list page, every
 * other one freed: 10 holes of 54 units plus the tail. */
Test(slob, stranded_units)
{
	struct fx fx;
	struct mmb_slob_info in;
	void *p[20];

	fx_init(&fx);
	for (int i = 0; i < 20; i++)
		p[i] = mmb_slob_kmalloc(fx.so, 100, 0);
	for (int i = 0; i < 20; i += 2)
		mmb_slob_kfree(fx.so, p[i]);
	mmb_slob_get_info(fx.so, &in);
	cr_expect_eq(in.pages[0], 1);
	cr_expect_eq(in.free_units[0], 2048 - 20 * 54 + 10 * 54);
	cr_expect_eq(in.live_blocks, 10);
	cr_expect_eq(in.usable_bytes, 1000);
	check_ok(&fx, "holes");
	fx_fini(&fx);
}

/* Random kmalloc (sometimes aligned) / kfree against a model, check()
 * every 1000 steps. */
Test(slob, random_model)
{
	enum { SLOTS = 1024, STEPS = 30000 };
	static unsigned char *blk[SLOTS];
	static size_t len[SLOTS];
	const uint64_t seed = 0x510b5eed;
	uint64_t rng[4];
	struct fx fx;

	cr_log_info("seed %#llx", (unsigned long long)seed);
	mmb_rand_seed(rng, seed);
	fx_init(&fx);
	memset(blk, 0, sizeof(blk));
	for (int step = 0; step < STEPS; step++) {
		int k = (int)mmb_rand_below(rng, SLOTS);

		if (blk[k]) {
			for (size_t i = 0; i < len[k]; i += 29)
				cr_assert_eq(blk[k][i], (unsigned char)k, "step %d: block %d corrupted", step, k);
			mmb_slob_kfree(fx.so, blk[k]);
			blk[k] = NULL;
		} else {
			size_t align = mmb_rand_below(rng, 10) == 0 ? (size_t)8 << mmb_rand_below(rng, 7) : 0;

			len[k] = 1 + mmb_rand_below(rng, mmb_rand_below(rng, 4) ? 300 : 6000);
			blk[k] = mmb_slob_kmalloc(fx.so, len[k], align);
			cr_assert_not_null(blk[k]);
			cr_assert_eq((uintptr_t)blk[k] % (align ? align : 8), 0, "step %d: align %zu", step,
				     align);
			cr_assert_geq(mmb_slob_ksize(fx.so, blk[k]), len[k]);
			memset(blk[k], k, len[k]);
		}
		if (step % 1000 == 999)
			check_ok(&fx, "random");
	}
	for (int k = 0; k < SLOTS; k++)
		if (blk[k])
			mmb_slob_kfree(fx.so, blk[k]);
	fx_fini(&fx);
}

/* check() notices a size header overwritten past its page. */
Test(slob, check_catches_corruption)
{
	struct fx fx;
	char err[MMB_ERR_MAX] = "";
	unsigned *m;

	fx_init(&fx);
	m = (unsigned *)((char *)mmb_slob_kmalloc(fx.so, 100, 0) - 8);
	mmb_slob_kmalloc(fx.so, 100, 0);
	*m = 5000;
	cr_expect_eq(mmb_slob_check(fx.so, err, sizeof(err)), -EUCLEAN);
	cr_expect(strstr(err, "header size 5000"), "%s", err);
	mmb_slob_destroy(fx.so);
	mmb_buddy_destroy(fx.b);
}

/* slobinfo names the lists and the stranded space. */
Test(slob, slobinfo)
{
	struct fx fx;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	void *p[2];

	fx_init(&fx);
	p[0] = mmb_slob_kmalloc(fx.so, 100, 0);
	p[1] = mmb_slob_kmalloc(fx.so, 500, 0);
	cr_assert_eq(mmb_slob_write_slobinfo(fx.so, f), 0);
	fclose(f);
	cr_expect(strstr(text, "small 1 1994 3988\n"), "%s", text);
	cr_expect(strstr(text, "medium 1 1794 3588\n"), "%s", text);
	cr_expect(strstr(text, "stranded_bytes 7576\n"), "%s", text);
	free(text);
	mmb_slob_kfree(fx.so, p[0]);
	mmb_slob_kfree(fx.so, p[1]);
	fx_fini(&fx);
}

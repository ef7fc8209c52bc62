/*
 * test_slab_classic.c — SLAB (allocators/slab_classic.c): the kmalloc
 * caches' layout and tunables against values computed by hand from
 * mm/slab.c's rules, calculate_slab_order and the freelist placement on
 * chosen sizes, colour cycling, the array_cache refill and flush sizes,
 * free_limit, cache_reap's drain steps, random sequences against a model
 * with check() (fixed seeds, printed), the shared array between two
 * threads, slabinfo's format, and bad input.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../allocators/allocator.h"
#include "../../allocators/slab_classic.h"
#include "../../workloads/workload.h"
#include "../testutil.h"

struct fx {
	struct mmb_buddy *b;
	struct mmb_slabc *sc;
};

static void fx_init(struct fx *fx, unsigned cpus, int max_order, uint64_t reap_ops)
{
	struct mmb_buddy_cfg bc = { .mem_bytes = 64 << 20, .pcp = 1, .nthreads = cpus };
	struct mmb_slabc_cfg c = {
		.nr_cpus = cpus, .max_order = max_order, .reap_ops = reap_ops,
		.limit = -1, .batchcount = -1, .shared = -1,
	};
	char err[MMB_ERR_MAX] = "";

	cr_assert_eq(mmb_buddy_create(&bc, &fx->b, err, sizeof(err)), 0, "%s", err);
	c.buddy = fx->b;
	cr_assert_eq(mmb_slabc_create(&c, &fx->sc, err, sizeof(err)), 0, "%s", err);
}

static void fx_fini(struct fx *fx)
{
	char err[MMB_ERR_MAX] = "";

	cr_expect_eq(mmb_slabc_check(fx->sc, err, sizeof(err)), 0, "%s", err);
	mmb_slabc_destroy(fx->sc);
	cr_expect_eq(mmb_buddy_used_pages(fx->b), 0, "pages left after destroy");
	mmb_buddy_destroy(fx->b);
}

static struct mmb_slabc_cache_info info_of(struct mmb_slabc_cache *s)
{
	struct mmb_slabc_cache_info in;

	mmb_slabc_cache_get_info(s, &in);
	return in;
}

/*
 * By hand, 64 MiB (slab_max_order 1), 4 KiB pages, byte freelist indexes:
 * kmalloc-32: objfreelist needs num (124 or 128) <= 32: no; off-slab: 128
 * objects, freelist 128 B in kmalloc-128 > 32 / 2: no; on-slab 4096 / 33 =
 * 124, 4 left. kmalloc-96: 42 objects, 64 left = one colour of 64. Limits by
 * size: <= 256: 120, <= 1024: 54, <= 4096: 24, else 8; batchcount
 * (limit + 1) / 2; shared 8 with 2 CPUs for sizes <= 4096.
 */
Test(slab_classic, kmalloc_layout)
{
	static const struct {
		size_t size;
		unsigned obj, order, num, colour, colour_off, limit, batch, shared;
		enum mmb_slabc_mgmt mgmt;
	} want[] = {
		{ 1, 32, 0, 124, 0, 64, 120, 60, 8, MMB_SLABC_ON_SLAB },
		{ 64, 64, 0, 64, 0, 64, 120, 60, 8, MMB_SLABC_OBJFREELIST },
		{ 96, 96, 0, 42, 1, 64, 120, 60, 8, MMB_SLABC_OBJFREELIST },
		{ 128, 128, 0, 32, 0, 128, 120, 60, 8, MMB_SLABC_OBJFREELIST },
		{ 192, 192, 0, 21, 1, 64, 120, 60, 8, MMB_SLABC_OBJFREELIST },
		{ 256, 256, 0, 16, 0, 256, 120, 60, 8, MMB_SLABC_OBJFREELIST },
		{ 512, 512, 0, 8, 0, 512, 54, 27, 8, MMB_SLABC_OBJFREELIST },
		{ 1024, 1024, 0, 4, 0, 1024, 54, 27, 8, MMB_SLABC_OBJFREELIST },
		{ 2048, 2048, 0, 2, 0, 2048, 24, 12, 8, MMB_SLABC_OBJFREELIST },
		{ 4096, 4096, 0, 1, 0, 4096, 24, 12, 8, MMB_SLABC_OBJFREELIST },
		{ 8192, 8192, 1, 1, 0, 8192, 8, 4, 0, MMB_SLABC_OBJFREELIST },
	};
	struct fx fx;

	fx_init(&fx, 2, -1, 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct mmb_slabc_cache_info in = info_of(mmb_slabc_kmalloc_cache(fx.sc, want[i].size));

		cr_expect_eq(in.object_size, want[i].obj, "kmalloc(%zu): cache %s", want[i].size, in.name);
		cr_expect_eq(in.gfporder, want[i].order, "%s order", in.name);
		cr_expect_eq(in.num, want[i].num, "%s num %u", in.name, in.num);
		cr_expect_eq(in.colour, want[i].colour, "%s colour %u", in.name, in.colour);
		cr_expect_eq(in.colour_off, want[i].colour_off, "%s colour_off", in.name);
		cr_expect_eq(in.mgmt, want[i].mgmt, "%s freelist placement %d", in.name, in.mgmt);
		cr_expect_eq(in.limit, want[i].limit, "%s limit", in.name);
		cr_expect_eq(in.batchcount, want[i].batch, "%s batchcount", in.name);
		cr_expect_eq(in.shared, want[i].shared, "%s shared", in.name);
		/* free_limit = (1 + cpus) * batchcount + num */
		cr_expect_eq(in.free_limit, 3ul * want[i].batch + want[i].num, "%s free_limit", in.name);
	}
	/* the size_index table: 33..64 -> 64, 65..96 -> 96, 129..192 -> 192 */
	cr_expect_str_eq(info_of(mmb_slabc_kmalloc_cache(fx.sc, 8)).name, "kmalloc-32");
	cr_expect_str_eq(info_of(mmb_slabc_kmalloc_cache(fx.sc, 33)).name, "kmalloc-64");
	cr_expect_str_eq(info_of(mmb_slabc_kmalloc_cache(fx.sc, 65)).name, "kmalloc-96");
	cr_expect_str_eq(info_of(mmb_slabc_kmalloc_cache(fx.sc, 129)).name, "kmalloc-192");
	cr_expect_str_eq(info_of(mmb_slabc_kmalloc_cache(fx.sc, 193)).name, "kmalloc-256");
	cr_expect_null(mmb_slabc_kmalloc_cache(fx.sc, 8193));
	fx_fini(&fx);
}

static unsigned ctor_calls;
static void count_ctor(void *obj)
{
	(void)obj;
	ctor_calls++;
}

/*
 * calculate_slab_order and the placement rules by hand:
 *   900 -> 904 B: order 0, 4 objects, 480 left: 7 colours of 64, objfreelist.
 *   1100 -> 1104 B: order 0 leaves 784 > 4096 / 8, so order 1 (the limit):
 *	7 objects, 464 left, 7 colours; with slab_max_order 0: order 0,
 *	3 objects, 784 / 64 = 12 colours.
 *   1000 with a ctor: no objfreelist; off-slab leaves 96 >= 4 index bytes,
 *	so on-slab: 4096 / 1001 = 4 objects, 92 left, 1 colour.
 *   2048 with a ctor: off-slab: 2 objects, 0 left < 2 bytes: the index
 *	array in kmalloc-32 (32 <= 2048 / 2).
 */
Test(slab_classic, order_and_placement)
{
	static const struct {
		unsigned size, ctor, max_order, order, num, colour;
		enum mmb_slabc_mgmt mgmt;
	} want[] = {
		{ 900, 0, 1, 0, 4, 7, MMB_SLABC_OBJFREELIST },
		{ 1100, 0, 1, 1, 7, 7, MMB_SLABC_OBJFREELIST },
		{ 1100, 0, 0, 0, 3, 12, MMB_SLABC_OBJFREELIST },
		{ 1000, 1, 1, 0, 4, 1, MMB_SLABC_ON_SLAB },
		{ 2048, 1, 1, 0, 2, 0, MMB_SLABC_OFF_SLAB },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct mmb_slabc_cache *s;
		struct mmb_slabc_cache_info in;
		char err[MMB_ERR_MAX] = "";
		struct fx fx;

		fx_init(&fx, 1, (int)want[i].max_order, 0);
		cr_assert_eq(mmb_slabc_cache_create(fx.sc, "t", want[i].size, 0,
						    want[i].ctor ? count_ctor : NULL, &s, err,
						    sizeof(err)), 0, "%s", err);
		in = info_of(s);
		cr_expect_eq(in.gfporder, want[i].order, "size %u: order %u", want[i].size, in.gfporder);
		cr_expect_eq(in.num, want[i].num, "size %u: num %u", want[i].size, in.num);
		cr_expect_eq(in.colour, want[i].colour, "size %u: colour %u", want[i].size, in.colour);
		cr_expect_eq(in.mgmt, want[i].mgmt, "size %u: placement %d", want[i].size, in.mgmt);
		fx_fini(&fx);
	}
}

/* Each slab of the 904-byte cache hands out its 4 objects in one refill;
 * successive slabs take colours 0, 64, ..., 384, then 0 again. */
Test(slab_classic, colour_cycle)
{
	struct mmb_slabc_cache *s;
	char err[MMB_ERR_MAX] = "";
	void *obj[32];
	struct fx fx;

	fx_init(&fx, 1, -1, 0);
	cr_assert_eq(mmb_slabc_cache_create(fx.sc, "t900", 900, 0, NULL, &s, err, sizeof(err)), 0);
	for (int i = 0; i < 32; i++) {
		obj[i] = mmb_slabc_cache_alloc(s);
		cr_assert_not_null(obj[i]);
		unsigned off = (unsigned)((uintptr_t)obj[i] % 4096 % 904);

		cr_expect_eq(off, (unsigned)(i / 4 % 7) * 64, "object %d: colour offset %u", i, off);
	}
	cr_expect_eq(info_of(s).total_slabs, 8);
	for (int i = 0; i < 32; i++)
		mmb_slabc_cache_free(s, obj[i]);
	fx_fini(&fx);
}

/* OFF_SLAB: every slab's index array is a kmalloc-32 object; the ctor runs
 * on every object when its slab is made. */
Test(slab_classic, off_slab)
{
	struct mmb_slabc_cache *s;
	char err[MMB_ERR_MAX] = "";
	void *obj[6];
	struct fx fx;

	fx_init(&fx, 1, -1, 0);
	ctor_calls = 0;
	cr_assert_eq(mmb_slabc_cache_create(fx.sc, "t2k", 2048, 0, count_ctor, &s, err, sizeof(err)),
		     0);
	for (int i = 0; i < 6; i++)
		cr_assert_not_null(obj[i] = mmb_slabc_cache_alloc(s));
	cr_expect_eq(info_of(s).total_slabs, 3);
	cr_expect_eq(ctor_calls, 6);
	cr_expect_eq(info_of(mmb_slabc_kmalloc_cache(fx.sc, 32)).total_slabs, 1,
		     "the index arrays live in kmalloc-32");
	cr_expect_eq(mmb_slabc_check(fx.sc, err, sizeof(err)), 0, "%s", err);
	for (int i = 0; i < 6; i++)
		mmb_slabc_cache_free(s, obj[i]);
	fx_fini(&fx);
}

/*
 * kmalloc-64 with 1 CPU (limit 120, batchcount 60, no shared array,
 * free_limit 2 * 60 + 64 = 184). 200 allocations: refills of 16 (an
 * untouched array), 48 (the rest of slab 1), 60 + 4, 60 + 4, 60: 4 slabs,
 * 52 objects left in the array and 4 on slab 4. 200 frees: the array fills
 * to 120 and flushes 60 three times: 184 free objects on the slabs, not
 * above free_limit, 72 in the array. Detaching frees the array: 256 free
 * objects, so the two last free slabs go (256 -> 192 -> 128 <= 184).
 */
Test(slab_classic, refill_flush_free_limit)
{
	struct mmb_slabc_cache *s;
	struct mmb_slabc_cache_info in;
	void *obj[200];
	struct fx fx;

	fx_init(&fx, 1, -1, 0);
	s = mmb_slabc_kmalloc_cache(fx.sc, 64);
	cr_assert_not_null(obj[0] = mmb_slabc_kmalloc(fx.sc, 64));
	in = info_of(s);
	cr_expect_eq(in.total_slabs, 1);
	cr_expect_eq(in.free_objects, 48, "first refill takes 16: %lu free", in.free_objects);
	for (int i = 1; i < 200; i++)
		cr_assert_not_null(obj[i] = mmb_slabc_kmalloc(fx.sc, 64));
	in = info_of(s);
	cr_expect_eq(in.total_slabs, 4, "slabs %lu", in.total_slabs);
	cr_expect_eq(in.free_objects, 4, "free objects %lu", in.free_objects);
	for (int i = 0; i < 200; i++)
		mmb_slabc_kfree(fx.sc, obj[i]);
	in = info_of(s);
	cr_expect_eq(in.free_objects, 184, "after frees: %lu", in.free_objects);
	cr_expect_eq(in.total_slabs, 4);
	mmb_slabc_thread_detach(fx.sc);
	in = info_of(s);
	cr_expect_eq(in.total_slabs, 2, "free_limit keeps %lu slabs", in.total_slabs);
	cr_expect_eq(in.free_slabs, 2);
	cr_expect_eq(in.free_objects, 128);
	fx_fini(&fx);
}

struct sh_arg {
	struct mmb_slabc *sc;
	void **obj;
	int n;
};

static void *sh_free_all(void *arg)
{
	struct sh_arg *x = arg;

	for (int i = 0; i < x->n; i++)
		mmb_slabc_kfree(x->sc, x->obj[i]);
	return NULL;	/* no detach: the slot keeps its array */
}

/*
 * The shared array between two threads (2 CPUs: kmalloc-64 has limit 120,
 * batchcount 60, a shared array of 8 * 60). This thread allocates 200
 * (52 stay in its array, as in refill_flush_free_limit); another frees
 * them: its array fills to 120 and flushes 60 to the shared array (which
 * has room) at the 121st and the 181st free: 120 in the shared array, 80
 * left in its own. Back here, 52 allocations empty this thread's array;
 * the 53rd refills from the shared array, batchcount (60) at a time: 60
 * left there.
 */
Test(slab_classic, shared_array_between_threads)
{
	struct mmb_slabc_cache *s;
	struct sh_arg x;
	void *obj[200], *more[53];
	pthread_t t;
	char err[MMB_ERR_MAX] = "";
	struct fx fx;

	fx_init(&fx, 2, -1, 0);
	s = mmb_slabc_kmalloc_cache(fx.sc, 64);
	for (int i = 0; i < 200; i++)
		cr_assert_not_null(obj[i] = mmb_slabc_kmalloc(fx.sc, 64));
	x = (struct sh_arg){ fx.sc, obj, 200 };
	pthread_create(&t, NULL, sh_free_all, &x);
	pthread_join(t, NULL);
	cr_expect_eq(info_of(s).shared_avail, 120, "shared %u", info_of(s).shared_avail);
	cr_expect_eq(info_of(s).free_objects, 4, "no object went back to a slab");
	for (int i = 0; i < 52; i++)
		more[i] = mmb_slabc_kmalloc(fx.sc, 64);
	cr_expect_eq(info_of(s).shared_avail, 120);
	more[52] = mmb_slabc_kmalloc(fx.sc, 64);
	cr_expect_eq(info_of(s).shared_avail, 60, "refill from shared: %u", info_of(s).shared_avail);
	cr_expect_eq(mmb_slabc_check(fx.sc, err, sizeof(err)), 0, "%s", err);
	for (int i = 0; i < 53; i++)
		mmb_slabc_kfree(fx.sc, more[i]);
	fx_fini(&fx);
}

/*
 * cache_reap by hand (1 CPU, kmalloc-64): 30 allocations and frees leave
 * 64 objects in the array, slab 1 full. Reap 1: the array was touched, left
 * alone. Reaps 2..7 drain (limit + 4) / 5 = 24, 24, then half the rest:
 * 8, 4, 2, 1, 1: free objects 24, 48, 56, 60, 62, 63, 64. The node part
 * runs at jiffies 2, 4, 6, 8; at 8 the slab is free and free_touched is
 * clear, so drain_freelist gives it back.
 */
Test(slab_classic, reap_steps)
{
	static const unsigned long free_after[] = { 0, 24, 48, 56, 60, 62, 63 };
	struct mmb_slabc_cache *s;
	void *obj[30];
	struct fx fx;

	fx_init(&fx, 1, -1, 0);
	s = mmb_slabc_kmalloc_cache(fx.sc, 64);
	for (int i = 0; i < 30; i++)
		cr_assert_not_null(obj[i] = mmb_slabc_kmalloc(fx.sc, 64));
	for (int i = 0; i < 30; i++)
		mmb_slabc_kfree(fx.sc, obj[i]);
	cr_expect_eq(info_of(s).free_objects, 0);
	for (int r = 0; r < 7; r++) {
		mmb_slabc_reap(fx.sc);
		cr_expect_eq(info_of(s).free_objects, free_after[r], "reap %d: %lu free objects", r + 1,
			     info_of(s).free_objects);
		cr_expect_eq(info_of(s).total_slabs, 1);
	}
	mmb_slabc_reap(fx.sc);
	cr_expect_eq(info_of(s).total_slabs, 0, "reap 8 gives the free slab back");
	cr_expect_eq(info_of(s).reaped, 1);
	fx_fini(&fx);
}

/* Reaping driven by operation counts through the registry: an idle-ish
 * cache is given back while another is busy. */
Test(slab_classic, reap_by_ops)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a = mmb_test_alloc("kmalloc-slab:reap=100", 1, &ops);
	struct mmb_alloc_stats st;
	void *p[300];
	char err[MMB_ERR_MAX] = "";

	ops->thread_attach(a);
	for (int i = 0; i < 300; i++)
		p[i] = ops->alloc(a, 1000, 0);
	for (int i = 0; i < 300; i++)
		ops->free(a, p[i], 1000);
	for (int i = 0; i < 20000; i++)	/* 200 reaps; only kmalloc-32 is touched */
		ops->free(a, ops->alloc(a, 16, 0), 16);
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_leq(st.footprint_bytes, 2 * 4096, "footprint %llu: kmalloc-1k reaped",
		      (unsigned long long)st.footprint_bytes);
	cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s", err);
	ops->thread_detach(a);
	ops->destroy(a);
}

/* Random kmalloc / kfree and a ctor cache against a model, two "CPUs" (so
 * shared arrays), reaping every 97 calls; check() every 2000 steps. */
Test(slab_classic, random_model)
{
	enum { SLOTS = 1024, STEPS = 40000 };
	static unsigned char *blk[SLOTS];
	static size_t len[SLOTS];
	static int from_cache[SLOTS];
	const uint64_t seed = 0x51ab0c1a;
	struct mmb_slabc_cache *s;
	char err[MMB_ERR_MAX] = "";
	uint64_t rng[4];
	struct fx fx;

	cr_log_info("seed %#llx", (unsigned long long)seed);
	mmb_rand_seed(rng, seed);
	fx_init(&fx, 2, -1, 97);
	cr_assert_eq(mmb_slabc_cache_create(fx.sc, "obj2k", 2048, 0, count_ctor, &s, err, sizeof(err)), 0);
	memset(blk, 0, sizeof(blk));
	for (int step = 0; step < STEPS; step++) {
		int k = (int)mmb_rand_below(rng, SLOTS);

		if (blk[k]) {
			for (size_t i = 0; i < len[k]; i += 31)
				cr_assert_eq(blk[k][i], (unsigned char)k, "step %d: block %d corrupted", step, k);
			if (from_cache[k])
				mmb_slabc_cache_free(s, blk[k]);
			else
				mmb_slabc_kfree(fx.sc, blk[k]);
			blk[k] = NULL;
		} else {
			from_cache[k] = mmb_rand_below(rng, 8) == 0;
			len[k] = from_cache[k] ? 2048 : 1 + mmb_rand_below(rng, mmb_rand_below(rng, 4) ? 256 : 12000);
			blk[k] = from_cache[k] ? mmb_slabc_cache_alloc(s) : mmb_slabc_kmalloc(fx.sc, len[k]);
			cr_assert_not_null(blk[k]);
			cr_assert_geq(from_cache[k] ? 2048 : mmb_slabc_ksize(fx.sc, blk[k]), len[k]);
			memset(blk[k], k, len[k]);
		}
		if (step % 2000 == 1999)
			cr_assert_eq(mmb_slabc_check(fx.sc, err, sizeof(err)), 0, "step %d: %s", step, err);
	}
	for (int k = 0; k < SLOTS; k++)
		if (blk[k]) {
			if (from_cache[k])
				mmb_slabc_cache_free(s, blk[k]);
			else
				mmb_slabc_kfree(fx.sc, blk[k]);
		}
	mmb_slabc_thread_detach(fx.sc);
	fx_fini(&fx);
}

/* check() notices a broken freelist index. */
Test(slab_classic, check_catches_corruption)
{
	char err[MMB_ERR_MAX] = "";
	struct fx fx;
	unsigned char *p;

	fx_init(&fx, 1, -1, 0);
	p = mmb_slabc_kmalloc(fx.sc, 20);	/* kmalloc-32: on-slab index array at the end */
	cr_assert_not_null(p);
	p = (unsigned char *)((uintptr_t)p & ~(uintptr_t)4095);
	p[4095] = p[4094];			/* two entries name the same object */
	cr_expect_eq(mmb_slabc_check(fx.sc, err, sizeof(err)), -EUCLEAN);
	cr_expect(strstr(err, "kmalloc-32") != NULL, "%s", err);
	mmb_slabc_destroy(fx.sc);
	mmb_buddy_destroy(fx.b);
}

/* /proc/slabinfo of a SLAB kernel: the tunables and slabdata columns. */
Test(slab_classic, slabinfo_format)
{
	char *text = NULL, line[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct fx fx;
	void *p;
	int found = 0;

	fx_init(&fx, 2, -1, 0);
	p = mmb_slabc_kmalloc(fx.sc, 100);
	cr_assert_eq(mmb_slabc_write_slabinfo(fx.sc, f), 0);
	fclose(f);
	f = fmemopen(text, len, "r");
	cr_assert(fgets(line, sizeof(line), f) && !strncmp(line, "slabinfo - version: 2.1", 23));
	cr_assert(fgets(line, sizeof(line), f) && strstr(line, "<sharedfactor>") &&
		  strstr(line, "<sharedavail>"));
	while (fgets(line, sizeof(line), f)) {
		char name[32];
		unsigned long act, num, objsize, per, pages, lim, batch, shf, aslabs, nslabs, avail;

		cr_assert_eq(sscanf(line, "%31s %lu %lu %lu %lu %lu : tunables %lu %lu %lu : slabdata %lu %lu %lu",
				    name, &act, &num, &objsize, &per, &pages, &lim, &batch, &shf, &aslabs,
				    &nslabs, &avail), 12, "%s", line);
		if (!strcmp(name, "kmalloc-128")) {
			found = 1;
			/* 16 objects taken by the first refill, all active */
			cr_expect(act == 16 && num == 32 && objsize == 128 && per == 32 && pages == 1,
				  "%s", line);
			cr_expect(lim == 120 && batch == 60 && shf == 8, "%s", line);
			cr_expect(aslabs == 1 && nslabs == 1 && avail == 0, "%s", line);
		}
	}
	cr_expect(found);
	fclose(f);
	free(text);
	mmb_slabc_kfree(fx.sc, p);
	mmb_slabc_thread_detach(fx.sc);
	fx_fini(&fx);
}

/* Options of other designs, and tunables the slabinfo write refuses. */
Test(slab_classic, bad_input)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc_cfg cfg;
	char err[MMB_ERR_MAX] = "";

	cr_expect_eq(mmb_alloc_parse_config("kmalloc-slab:sheaf=4", &ops, &cfg, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "sheaf") && strstr(err, "kmalloc-slab"), "%s", err);
	cr_expect_eq(mmb_alloc_parse_config("kmalloc-slob:reap=5", &ops, &cfg, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "reap") && strstr(err, "kmalloc-slob"), "%s", err);
	cr_expect_eq(mmb_alloc_parse_config("slab:reap=5", &ops, &cfg, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "reap") && strstr(err, "slab"), "%s", err);
	cr_assert_eq(mmb_alloc_parse_config("kmalloc-slab:limit=10,batchcount=20", &ops, &cfg, err,
					    sizeof(err)), 0, "%s", err);
	cr_expect_eq(ops->validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "batchcount=20"), "%s", err);
	cr_assert_eq(mmb_alloc_parse_config("kmalloc-slab:shared=4", &ops, &cfg, err, sizeof(err)), 0);
	cr_expect_eq(ops->validate(&cfg, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "limit="), "%s", err);
	cr_expect_eq(mmb_alloc_parse_config("kmalloc-slub", &ops, &cfg, err, sizeof(err)), -ENOENT);
}

/*
 * More threads than slots (300 > MMB_SLABC_MAX_CPUS): the threads without
 * one allocate on the shared overflow slots, including from an off-slab
 * cache whose refill allocates its freelist from kmalloc inside the shared
 * slot's mutex; every allocation succeeds (they used to get NULL), and
 * check() and destroy find everything in order.
 */
#define BEYOND_THREADS 300

struct beyond {
	struct mmb_slabc *sc;
	struct mmb_slabc_cache *off;	/* 2048-byte objects, off-slab freelists */
	pthread_barrier_t all;		/* every thread alive at once */
	atomic_int failed;
};

static void *beyond_main(void *arg)
{
	struct beyond *x = arg;
	void *p[8];

	mmb_slabc_thread_attach(x->sc);
	pthread_barrier_wait(&x->all);
	for (int r = 0; r < 20; r++) {
		for (int i = 0; i < 8; i++) {
			p[i] = i & 1 ? mmb_slabc_cache_alloc(x->off)
				     : mmb_slabc_kmalloc(x->sc, 24 + (size_t)r * 50 + (size_t)i);
			if (!p[i]) {
				atomic_fetch_add(&x->failed, 1);
				continue;
			}
			memset(p[i], 0x5a, 24);
		}
		for (int i = 0; i < 8; i++) {
			if (!p[i])
				continue;
			if (i & 1)
				mmb_slabc_cache_free(x->off, p[i]);
			else
				mmb_slabc_kfree(x->sc, p[i]);
		}
	}
	pthread_barrier_wait(&x->all);
	mmb_slabc_thread_detach(x->sc);
	return NULL;
}

Test(slab_classic, threads_beyond_the_slots)
{
	static struct beyond x;
	pthread_t t[BEYOND_THREADS];
	char err[MMB_ERR_MAX] = "";
	struct fx fx;

	fx_init(&fx, 2, -1, 0);
	memset(&x, 0, sizeof(x));
	x.sc = fx.sc;
	cr_assert_eq(mmb_slabc_cache_create(fx.sc, "beyond2k", 2048, 0, NULL, &x.off, err,
					    sizeof(err)), 0, "%s", err);
	pthread_barrier_init(&x.all, NULL, BEYOND_THREADS);
	for (int i = 0; i < BEYOND_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, beyond_main, &x), 0, "thread %d", i);
	for (int i = 0; i < BEYOND_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&x.all);
	cr_expect_eq(atomic_load(&x.failed), 0, "allocations failed");
	cr_expect_eq(mmb_slabc_check(fx.sc, err, sizeof(err)), 0, "%s", err);
	fx_fini(&fx);
}

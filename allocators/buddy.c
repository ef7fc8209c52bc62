/*
 * buddy.c — the buddy page allocator (buddy.h), after mm/page_alloc.c
 * (6.10+ free-list accounting, 6.15 fallback modes, 6.7 PCP auto-tuning),
 * and the registry allocator `buddy` on top of it.
 *
 * Data structure. One zone (start pfn 0, spanning all of pmem) holds
 *	area[o].list[mt]	free blocks of 2^o frames, o = 0..MMB_MAX_ORDER, per
 *				migratetype; doubly linked through the head frame's
 *				descriptor (next/prev are pfns, BUDDY_NIL ends a list)
 *	area[o].nr_free		blocks of order o, all types together
 *	pb_mt[pfn >> 9]		the migratetype of each order-9 pageblock
 *	free_pages		NR_FREE_PAGES
 * A free block's head frame has MMB_PG_BUDDY, its order and its list's
 * migratetype; its other frames are not looked at. Each attached thread has
 * a struct buddy_pcp (the kernel's per_cpu_pages): 3 x 4 lists of free blocks
 * of orders 0..3 linked the same way, frames flagged MMB_PG_PCP.
 *
 * Boot: memblock gets all of pmem, reserves frame 0 and the descriptor array
 * (the kernel's memmap, allocated top-down; it lives in an anonymous mapping,
 * the reservation charges its size to "RAM" as the kernel's does), then
 * memblock_free_all hands every free frame to the zone in maximal aligned
 * chunks, at the tail of the lists, bypassing the per-thread lists.
 *
 * Invariants (checked by mmb_buddy_check):
 *   1. Every free block is on exactly one list, area[order].list[mt] with mt
 *	the migratetype of its pageblock; its head has MMB_PG_BUDDY and order.
 *   2. area[o].nr_free = Σ_mt list length; free_pages = Σ_o nr_free[o] << o.
 *   3. A block of order o starts at a pfn ≡ 0 mod 2^o and ends inside the zone.
 *   4. No two free buddies of the same order are left unmerged (every type
 *	here is mergeable, so this holds across pageblocks too); blocks on
 *	per-thread lists are not free for this purpose.
 *   5. managed_pages = allocated + free_pages + Σ pcp.count, and
 *	pgalloc - pgfree = allocated.
 *   6. pcp.count = Σ (1 << order) * list length, per thread.
 *
 * Thread model and lock order: zone lock (a mutex) guards the areas, pb_mt,
 * free_pages writes, boost and the zone counters. A thread's pcp is touched
 * only by that thread (no lock): its counters and count are stored with
 * relaxed atomics so stats() may read them. pcp_lock guards the list of pcps
 * (attach, detach, stats, check) and is taken before the zone lock. Lockless
 * readers (watermark checks, stats) read free_pages and nr_free relaxed, as
 * the kernel does. Freed blocks go to the freeing thread's lists.
 * Page flags: under the zone lock, merging and pageblock walks read the flags
 * of neighbour frames that another thread may own and be retyping at that
 * moment (buddy_prep_new, a pcp free, slab's PG_SLAB, vmalloc's PG_VMALLOC)
 * without the lock. The reader only asks "free block in the zone?", which
 * the owner's writes never change (PG_BUDDY is set and cleared under the
 * lock), so the race is benign, as in the kernel (PageBuddy); the flags
 * words are read and written there with relaxed atomics (PG_FLAGS_RD/WR) so
 * the accesses are defined and ThreadSanitizer stays quiet.
 *
 * Left out, on purpose: reclaim and compaction (nothing to reclaim: an
 * allocation below the min watermark fails), HIGHATOMIC/CMA/ISOLATE types,
 * the THP pcp list, free_high and decay_pcp_high (no vmstat worker), and
 * draining other threads' lists on failure (the kernel's IPIs): a failing
 * thread drains only its own lists and retries once. kswapd is woken at the
 * end of an rmqueue that boosted the watermark, runs at once and, having
 * nothing to reclaim, removes the boost (buddy_kswapd): boosts are counted
 * but never outlive the zone lock hold that made them.
 */
#include "buddy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocator.h"
#include "kmemleak.h"
#include "memblock.h"
#include "statefile.h"

#define BUDDY_NIL UINT32_MAX
#define PAGEBLOCK_NR_PAGES (1u << MMB_PAGEBLOCK_ORDER)
#define PCP_BATCH_SCALE_MAX 5
#define NR_PCP_LISTS (MMB_MT_TYPES * (MMB_PCP_MAX_ORDER + 1))
#define BUDDY_TLS_SLOTS 8

enum { WMARK_MIN, WMARK_LOW, WMARK_HIGH, NR_WMARK };
enum rmqueue_mode { RMQUEUE_NORMAL, RMQUEUE_CLAIM, RMQUEUE_STEAL };

static const char *const buddy_mt_names[MMB_MT_TYPES] = { "Unmovable", "Movable", "Reclaimable" };

/* fallbacks[]: where each type looks when its own lists are empty. */
static const enum mmb_migratetype buddy_fallbacks[MMB_MT_TYPES][MMB_MT_TYPES - 1] = {
	[MMB_MT_UNMOVABLE] = { MMB_MT_RECLAIMABLE, MMB_MT_MOVABLE },
	[MMB_MT_MOVABLE] = { MMB_MT_RECLAIMABLE, MMB_MT_UNMOVABLE },
	[MMB_MT_RECLAIMABLE] = { MMB_MT_UNMOVABLE, MMB_MT_MOVABLE },
};

struct buddy_list {
	uint32_t head, tail;
	uint64_t nr;
};

struct buddy_area {
	struct buddy_list list[MMB_MT_TYPES];
	uint64_t nr_free;
};

struct buddy_pcp {
	struct mmb_buddy *b;
	struct buddy_pcp *next;		/* b->pcps, under pcp_lock */
	int count, high, free_count;	/* frames; count stored relaxed */
	unsigned alloc_factor;
	struct buddy_list lists[NR_PCP_LISTS];
	struct mmb_buddy_counters st;	/* owner writes, stats reads, relaxed */
};

struct mmb_buddy {
	struct mmb_pmem *pm;
	struct mmb_page *pages;
	uint64_t nr_pfns, gen;
	int pcp_on, mobility;
	struct mmb_memblock mb;

	pthread_mutex_t lock;		/* the zone lock */
	struct buddy_area area[MMB_NR_PAGE_ORDERS];
	uint8_t *pb_mt;
	uint64_t free_pages, managed_pages, reserved_pages;
	uint64_t min_free_pages;	/* low-water mark of free_pages since boot */
	struct mmb_buddy_snapshot at_min;	/* the zone when free_pages set min_free_pages */
	int at_min_pending;		/* at_min is the free area now (buddy_account) */
	struct mmb_buddy_snapshot first_frag;	/* the zone at its first fragmentation failure */
	uint64_t wmark[NR_WMARK], watermark_boost;
	int boosted;			/* ZONE_BOOSTED_WATERMARK: wake kswapd */
	int below_high;			/* ZONE_BELOW_HIGH */
	struct mmb_zone_params zp;
	struct mmb_buddy_counters zst;	/* calls from unattached threads + zone events */

	pthread_mutex_t pcp_lock;
	struct buddy_pcp *pcps;
	struct mmb_buddy_counters retired;	/* counters of detached threads */
};

struct buddy_tls {
	struct mmb_buddy *b;
	uint64_t gen;
	struct buddy_pcp *pcp;
};

static __thread struct buddy_tls buddy_tls[BUDDY_TLS_SLOTS];
static uint64_t buddy_next_gen = 1;

#define BUDDY_HOT static inline __attribute__((always_inline))
#define RD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WR(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define ADD(x, v) WR(x, (x) + (v))	/* single writer (owner, or zone lock held) */
#define ZADD(x, v) __atomic_fetch_add(&(x), (v), __ATOMIC_RELAXED)	/* any thread */
/* mmb_page.flags where a frame's owner and a zone-lock walker meet (top comment). */
#define PG_FLAGS_RD(p) RD((p)->flags)
#define PG_FLAGS_WR(p, v) WR((p)->flags, (uint32_t)(v))

/* ---- formulas --------------------------------------------------------- */

static uint64_t buddy_int_sqrt(uint64_t x)
{
	uint64_t r = 0;

	for (uint64_t bit = 1ULL << 62; bit; bit >>= 2) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
	}
	return r;
}

static unsigned buddy_rounddown_pow2(unsigned x)
{
	return 1u << (31 - __builtin_clz(x));
}

/* zone_batchsize: ~0.1% of the zone or 256 KiB, clamped to 2^n - 1. */
static unsigned buddy_batchsize(uint64_t managed)
{
	uint64_t batch = managed >> 12;

	if (batch > 64)
		batch = 64;
	if (batch <= 1)
		return 1;
	return buddy_rounddown_pow2((unsigned)(batch + batch / 2)) - 1;
}

void mmb_zone_params(uint64_t managed, unsigned ncpus, struct mmb_zone_params *r)
{
	uint64_t kb = buddy_int_sqrt(managed * (MMB_PAGE_SIZE >> 10) * 16), delta, hmin, hmax;

	if (!ncpus)
		ncpus = 1;
	kb = kb < 128 ? 128 : (kb > 262144 ? 262144 : kb);
	r->min_free_kbytes = kb;
	/* One lowmem zone: pages_min * managed / lowmem_pages = pages_min. */
	r->wmark_min = kb >> (MMB_PAGE_SHIFT - 10);
	delta = r->wmark_min >> 2;
	if (managed * 10 / 10000 > delta)	/* watermark_scale_factor 10 */
		delta = managed * 10 / 10000;
	r->wmark_low = r->wmark_min + delta;
	r->wmark_high = r->wmark_low + delta;
	r->batch = buddy_batchsize(managed);
	hmin = r->wmark_low / ncpus;
	hmax = managed / 8 / ncpus;		/* MIN_PERCPU_PAGELIST_HIGH_FRACTION */
	r->high_min = (unsigned)(hmin > r->batch * 4u ? hmin : r->batch * 4u);
	r->high_max = (unsigned)(hmax > r->batch * 4u ? hmax : r->batch * 4u);
}

struct buddy_contig {
	uint64_t free_pages, blocks_total, blocks_suitable;
};

/* fill_contig_page_info */
static void buddy_contig_info(const uint64_t *nr_free, unsigned order, struct buddy_contig *c)
{
	*c = (struct buddy_contig){ 0 };
	for (unsigned o = 0; o < MMB_NR_PAGE_ORDERS; o++) {
		c->blocks_total += nr_free[o];
		c->free_pages += nr_free[o] << o;
		if (o >= order)
			c->blocks_suitable += nr_free[o] << (o - order);
	}
}

int mmb_unusable_index(const uint64_t nr_free[MMB_NR_PAGE_ORDERS], unsigned order)
{
	struct buddy_contig c;

	buddy_contig_info(nr_free, order, &c);
	if (!c.free_pages)
		return 1000;
	return (int)((c.free_pages - (c.blocks_suitable << order)) * 1000ULL / c.free_pages);
}

int mmb_fragmentation_index(const uint64_t nr_free[MMB_NR_PAGE_ORDERS], unsigned order)
{
	struct buddy_contig c;

	if (order > MMB_MAX_ORDER)
		return 0;
	buddy_contig_info(nr_free, order, &c);
	if (!c.blocks_total)
		return 0;
	if (c.blocks_suitable)
		return -1000;
	return 1000 - (int)((1000 + c.free_pages * 1000ULL / (1ULL << order)) / c.blocks_total);
}

/* Frames the zone manages after boot on pmem of nr_pfns frames: all but
 * frame 0 and the page descriptors (reserved top-down, page-aligned start). */
static uint64_t buddy_managed_for(uint64_t nr_pfns)
{
	uint64_t memmap = (nr_pfns * sizeof(struct mmb_page) + MMB_PAGE_SIZE - 1) >> MMB_PAGE_SHIFT;

	return nr_pfns > 1 + memmap ? nr_pfns - 1 - memmap : 0;
}

/* Frames above the min watermark after boot on nr_pfns frames. */
static uint64_t buddy_usable_for(uint64_t nr_pfns)
{
	uint64_t managed = buddy_managed_for(nr_pfns);
	struct mmb_zone_params zp;

	mmb_zone_params(managed, 1, &zp);
	return managed > zp.wmark_min ? managed - zp.wmark_min : 0;
}

int mmb_buddy_zone_mem(const struct mmb_pvals *opts, const char *who, uint64_t *r_mem, char *err,
		       size_t errlen)
{
	uint64_t want, lo, hi;

	if (!mmb_pval_given(opts, "free")) {
		*r_mem = mmb_pval_u64(opts, "mem");
		return 0;
	}
	if (mmb_pval_given(opts, "mem")) {
		snprintf(err, errlen, "%s: give mem= or free=, not both (free= sizes mem)", who);
		return -EINVAL;
	}
	want = (mmb_pval_u64(opts, "free") + MMB_PAGE_SIZE - 1) >> MMB_PAGE_SHIFT;
	/* buddy_usable_for is nondecreasing: the fewest frames that give want. */
	lo = 1;
	hi = want + (want >> 5) + (1ULL << 20);
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (buddy_usable_for(mid) >= want)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo < MMB_ZONE_MIN_PFNS) {
		snprintf(err, errlen,
			 "%s: free=%s is too small for a zone: with its page descriptors, frame 0 and "
			 "min watermark it needs %llu frames, under the %llu-frame floor (smallest "
			 "free= is %llu KiB)",
			 who, mmb_pval_str(opts, "free"), (unsigned long long)lo,
			 (unsigned long long)MMB_ZONE_MIN_PFNS,
			 (unsigned long long)((buddy_usable_for(MMB_ZONE_MIN_PFNS) << MMB_PAGE_SHIFT) >> 10));
		return -EINVAL;
	}
	*r_mem = lo << MMB_PAGE_SHIFT;
	return 0;
}

/* ---- lists -------------------------------------------------------------- */

static void blist_init(struct buddy_list *l)
{
	l->head = l->tail = BUDDY_NIL;
	l->nr = 0;
}

BUDDY_HOT void blist_add(struct mmb_page *pages, struct buddy_list *l, uint32_t pfn, int tail)
{
	struct mmb_page *p = &pages[pfn];

	if (tail) {
		p->next = BUDDY_NIL;
		p->prev = l->tail;
		if (l->tail != BUDDY_NIL)
			pages[l->tail].next = pfn;
		else
			l->head = pfn;
		l->tail = pfn;
	} else {
		p->prev = BUDDY_NIL;
		p->next = l->head;
		if (l->head != BUDDY_NIL)
			pages[l->head].prev = pfn;
		else
			l->tail = pfn;
		l->head = pfn;
	}
	WR(l->nr, l->nr + 1);
}

BUDDY_HOT void blist_del(struct mmb_page *pages, struct buddy_list *l, uint32_t pfn)
{
	struct mmb_page *p = &pages[pfn];

	if (p->prev != BUDDY_NIL)
		pages[p->prev].next = p->next;
	else
		l->head = p->next;
	if (p->next != BUDDY_NIL)
		pages[p->next].prev = p->prev;
	else
		l->tail = p->prev;
	WR(l->nr, l->nr - 1);
}

/* ---- the zone (lock held) ---------------------------------------------- */

static inline int buddy_pb_mt(const struct mmb_buddy *b, uint64_t pfn)
{
	return b->pb_mt[pfn >> MMB_PAGEBLOCK_ORDER];
}

/* The free area now, into r (zone lock held). */
static void buddy_snapshot(const struct mmb_buddy *b, unsigned order, struct mmb_buddy_snapshot *r)
{
	r->taken = 1;
	r->order = order;
	r->free_pages = b->free_pages;
	for (int o = 0; o < MMB_NR_PAGE_ORDERS; o++)
		r->nr_free[o] = b->area[o].nr_free;
}

/*
 * Under the zone lock. Also keeps the low-water mark of free_pages, from
 * which the footprint peak is derived (boot hand-over only adds frames),
 * and the free area at that moment, lazily: a new low only sets
 * at_min_pending; the free area is copied when free_pages next rises (a
 * free accounts before it merges), or when asked for (mmb_buddy_snapshots),
 * since until then the free area is the one of the low. Every change of
 * nr_free comes with an account here (a split's after the split), so no
 * other change can slip in between.
 */
static void buddy_account(struct mmb_buddy *b, int64_t nr)
{
	if (nr > 0 && b->at_min_pending) {
		buddy_snapshot(b, 0, &b->at_min);
		b->at_min_pending = 0;
	}
	WR(b->free_pages, b->free_pages + (uint64_t)nr);
	if (nr < 0 && b->free_pages < b->min_free_pages) {
		WR(b->min_free_pages, b->free_pages);
		b->at_min_pending = 1;
	}
}

static void buddy_add_free(struct mmb_buddy *b, uint64_t pfn, unsigned order, int mt, int tail)
{
	struct mmb_page *p = &b->pages[pfn];

	p->flags = MMB_PG_BUDDY;
	p->order = (uint8_t)order;
	p->migratetype = (uint8_t)mt;
	p->refcount = 0;
	blist_add(b->pages, &b->area[order].list[mt], (uint32_t)pfn, tail);
	WR(b->area[order].nr_free, b->area[order].nr_free + 1);
}

static void buddy_del_free(struct mmb_buddy *b, uint64_t pfn, unsigned order, int mt)
{
	blist_del(b->pages, &b->area[order].list[mt], (uint32_t)pfn);
	b->pages[pfn].flags &= ~MMB_PG_BUDDY;
	WR(b->area[order].nr_free, b->area[order].nr_free - 1);
}

/* find_buddy_page_pfn: the buddy at order, if it is a free block of that order. */
static int buddy_is_free_buddy(const struct mmb_buddy *b, uint64_t buddy_pfn, unsigned order)
{
	const struct mmb_page *bp;

	if (buddy_pfn + (1ULL << order) > b->nr_pfns)
		return 0;
	bp = &b->pages[buddy_pfn];
	return (PG_FLAGS_RD(bp) & MMB_PG_BUDDY) && bp->order == order;
}

static void buddy_set_pb_range(struct mmb_buddy *b, uint64_t pfn, unsigned order, int mt)
{
	uint64_t n = order >= MMB_PAGEBLOCK_ORDER ? 1ULL << (order - MMB_PAGEBLOCK_ORDER) : 1;

	memset(&b->pb_mt[pfn >> MMB_PAGEBLOCK_ORDER], mt, n);
}

/* __free_one_page: merge upwards while the buddy is free, then list it. */
static void buddy_free_one(struct mmb_buddy *b, uint64_t pfn, unsigned order, int mt, int to_tail)
{
	buddy_account(b, 1LL << order);
	while (order < MMB_MAX_ORDER) {
		uint64_t buddy_pfn = pfn ^ (1ULL << order);

		if (!buddy_is_free_buddy(b, buddy_pfn, order))
			break;
		/* All three types are mergeable: a buddy block of another type
		 * (order >= pageblock_order) is retyped to ours. */
		buddy_del_free(b, buddy_pfn, order, b->pages[buddy_pfn].migratetype);
		if (order >= MMB_PAGEBLOCK_ORDER && buddy_pb_mt(b, buddy_pfn) != mt)
			buddy_set_pb_range(b, buddy_pfn, order, mt);
		ADD(b->zst.merges, 1);
		pfn &= buddy_pfn;
		order++;
	}
	if (!to_tail && order < MMB_MAX_ORDER - 1) {
		/* buddy_merge_likely: is the next-higher block's buddy free? */
		uint64_t higher = pfn & (pfn ^ (1ULL << order));

		to_tail = buddy_is_free_buddy(b, higher ^ (1ULL << (order + 1)), order + 1);
	}
	buddy_add_free(b, pfn, order, mt, to_tail);
}

/* expand: keep the lower half, free the upper halves; returns frames added. */
static uint64_t buddy_expand(struct mmb_buddy *b, uint64_t pfn, unsigned low, unsigned high, int mt)
{
	uint64_t nr_added = 0;

	while (high > low) {
		high--;
		buddy_add_free(b, pfn + (1ULL << high), high, mt, 0);
		nr_added += 1ULL << high;
		ADD(b->zst.splits, 1);
	}
	return nr_added;
}

/* page_del_and_expand */
static void buddy_del_and_expand(struct mmb_buddy *b, uint64_t pfn, unsigned low, unsigned high,
				 int mt)
{
	buddy_del_free(b, pfn, high, mt);
	buddy_account(b, -(int64_t)((1ULL << high) - buddy_expand(b, pfn, low, high, mt)));
}

static uint32_t buddy_rmqueue_smallest(struct mmb_buddy *b, unsigned order, int mt)
{
	for (unsigned o = order; o < MMB_NR_PAGE_ORDERS; o++) {
		uint32_t pfn = b->area[o].list[mt].head;

		if (pfn == BUDDY_NIL)
			continue;
		buddy_del_and_expand(b, pfn, order, o, mt);
		return pfn;
	}
	return BUDDY_NIL;
}

static int buddy_should_try_claim(const struct mmb_buddy *b, unsigned order, int start_mt)
{
	if (order >= MMB_PAGEBLOCK_ORDER)
		return 1;
	return order >= MMB_PAGEBLOCK_ORDER / 2 || start_mt == MMB_MT_RECLAIMABLE ||
	       start_mt == MMB_MT_UNMOVABLE || !b->mobility;
}

/* find_suitable_fallback: a fallback type with a block at order; -1 none,
 * -2 when claiming and the order is too low to claim. */
static int buddy_find_fallback(const struct mmb_buddy *b, unsigned order, int mt, int claimable)
{
	if (claimable && !buddy_should_try_claim(b, order, mt))
		return -2;
	if (!b->area[order].nr_free)
		return -1;
	for (int i = 0; i < MMB_MT_TYPES - 1; i++) {
		int fmt = buddy_fallbacks[mt][i];

		if (b->area[order].list[fmt].head != BUDDY_NIL)
			return fmt;
	}
	return -1;
}

/* boost_watermark */
static void buddy_boost_watermark(struct mmb_buddy *b)
{
	uint64_t max_boost;

	if (PAGEBLOCK_NR_PAGES * 4ULL > b->managed_pages)
		return;
	max_boost = b->wmark[WMARK_HIGH] * 15000 / 10000;	/* watermark_boost_factor */
	if (!max_boost)
		return;
	if (max_boost < PAGEBLOCK_NR_PAGES)
		max_boost = PAGEBLOCK_NR_PAGES;
	b->watermark_boost += PAGEBLOCK_NR_PAGES;
	if (b->watermark_boost > max_boost)
		b->watermark_boost = max_boost;
	b->boosted = 1;
	ADD(b->zst.wmark_boosts, 1);
}

/* Move every free block of the pageblock at start_pfn to new_mt's lists
 * (__move_freepages_block) and retype the block. */
static void buddy_move_freepages_block(struct mmb_buddy *b, uint64_t start_pfn, int old_mt,
				       int new_mt)
{
	uint64_t pfn = start_pfn, end = start_pfn + PAGEBLOCK_NR_PAGES;

	while (pfn < end) {
		struct mmb_page *p = &b->pages[pfn];

		if (!(PG_FLAGS_RD(p) & MMB_PG_BUDDY)) {
			pfn++;
			continue;
		}
		blist_del(b->pages, &b->area[p->order].list[old_mt], (uint32_t)pfn);
		blist_add(b->pages, &b->area[p->order].list[new_mt], (uint32_t)pfn, 1);
		p->migratetype = (uint8_t)new_mt;
		pfn += 1ULL << p->order;
	}
	b->pb_mt[start_pfn >> MMB_PAGEBLOCK_ORDER] = (uint8_t)new_mt;
	ADD(b->zst.claims, 1);
}

/*
 * try_to_claim_block: take over the pageblock of a fallback block; whole
 * blocks of order >= pageblock_order outright, smaller ones when at least
 * half of the pageblock is free or "alike".
 */
static uint32_t buddy_try_claim(struct mmb_buddy *b, uint32_t pfn, unsigned cur_order,
				unsigned order, int start_mt, int block_mt)
{
	uint64_t start, p, free_pages = 0, movable = 0, alike;

	if (cur_order >= MMB_PAGEBLOCK_ORDER) {
		buddy_del_free(b, pfn, cur_order, block_mt);
		buddy_set_pb_range(b, pfn, cur_order, start_mt);
		ADD(b->zst.claims, 1ULL << (cur_order - MMB_PAGEBLOCK_ORDER));
		buddy_account(b, -(int64_t)((1ULL << cur_order) -
					   buddy_expand(b, pfn, order, cur_order, start_mt)));
		return pfn;
	}
	buddy_boost_watermark(b);
	/* prep_move_freepages_block: the block must lie inside the zone. */
	start = pfn & ~(uint64_t)(PAGEBLOCK_NR_PAGES - 1);
	if (start + PAGEBLOCK_NR_PAGES > b->nr_pfns)
		return BUDDY_NIL;
	for (p = start; p < start + PAGEBLOCK_NR_PAGES;) {
		const struct mmb_page *pg = &b->pages[p];
		uint32_t flags = PG_FLAGS_RD(pg);
		uint64_t n = 1;

		if (flags & MMB_PG_BUDDY) {
			n = 1ULL << pg->order;
			free_pages += n;
		} else if (flags & MMB_PG_PCP) {
			n = 1ULL << pg->order;
		} else if (!(flags & (MMB_PG_RESERVED | MMB_PG_TAIL)) && pg->refcount > 0) {
			n = 1ULL << pg->order;
			if (pg->migratetype == MMB_MT_MOVABLE)
				movable += n;
		}
		p += n;
	}
	if (start_mt == MMB_MT_MOVABLE)
		alike = movable;
	else if (block_mt == MMB_MT_MOVABLE)
		alike = PAGEBLOCK_NR_PAGES - (free_pages + movable);
	else
		alike = 0;
	if (free_pages + alike >= (1u << (MMB_PAGEBLOCK_ORDER - 1)) || !b->mobility) {
		buddy_move_freepages_block(b, start, block_mt, start_mt);
		return buddy_rmqueue_smallest(b, order, start_mt);
	}
	return BUDDY_NIL;
}

/* __rmqueue_claim: largest fallback block first. */
static uint32_t buddy_rmqueue_claim(struct mmb_buddy *b, unsigned order, int mt)
{
	for (int o = MMB_MAX_ORDER; o >= (int)order; o--) {
		int fmt = buddy_find_fallback(b, (unsigned)o, mt, 1);
		uint32_t pfn;

		if (fmt == -1)
			continue;
		if (fmt == -2)
			break;
		pfn = buddy_try_claim(b, b->area[o].list[fmt].head, (unsigned)o, order, mt, fmt);
		if (pfn != BUDDY_NIL) {
			ADD(b->zst.fallbacks, 1);
			return pfn;
		}
	}
	return BUDDY_NIL;
}

/* __rmqueue_steal: smallest fallback block, the pageblock keeps its type. */
static uint32_t buddy_rmqueue_steal(struct mmb_buddy *b, unsigned order, int mt)
{
	for (unsigned o = order; o < MMB_NR_PAGE_ORDERS; o++) {
		int fmt = buddy_find_fallback(b, o, mt, 0);
		uint32_t pfn;

		if (fmt < 0)
			continue;
		pfn = b->area[o].list[fmt].head;
		buddy_del_and_expand(b, pfn, order, o, fmt);
		ADD(b->zst.fallbacks, 1);
		return pfn;
	}
	return BUDDY_NIL;
}

/* __rmqueue: own type, then claim a fallback block, then steal from one. */
static uint32_t buddy_rmqueue(struct mmb_buddy *b, unsigned order, int mt, enum rmqueue_mode *mode)
{
	uint32_t pfn;

	switch (*mode) {
	case RMQUEUE_NORMAL:
		pfn = buddy_rmqueue_smallest(b, order, mt);
		if (pfn != BUDDY_NIL)
			return pfn;
		/* fall through */
	case RMQUEUE_CLAIM:
		pfn = buddy_rmqueue_claim(b, order, mt);
		if (pfn != BUDDY_NIL) {
			*mode = RMQUEUE_NORMAL;
			return pfn;
		}
		/* fall through */
	case RMQUEUE_STEAL:
		pfn = buddy_rmqueue_steal(b, order, mt);
		if (pfn != BUDDY_NIL) {
			*mode = RMQUEUE_STEAL;
			return pfn;
		}
	}
	return BUDDY_NIL;
}

/* zone_watermark_ok: free frames above mark (+ boost), and for order > 0 a
 * block of at least that order on some list. Lockless, like the kernel's. */
BUDDY_HOT int buddy_wmark_ok(struct mmb_buddy *b, unsigned order, int wm)
{
	int64_t free = (int64_t)RD(b->free_pages) - ((1LL << order) - 1);
	int64_t mark = (int64_t)(b->wmark[wm] + RD(b->watermark_boost));

	if (free <= mark)
		return 0;
	if (!order)
		return 1;
	for (unsigned o = order; o < MMB_NR_PAGE_ORDERS; o++)
		if (RD(b->area[o].nr_free))
			for (int mt = 0; mt < MMB_MT_TYPES; mt++)
				if (RD(b->area[o].list[mt].nr))
					return 1;
	return 0;
}

/*
 * The end of rmqueue: a boosted zone wakes kswapd. Ours runs at once and,
 * with nothing to reclaim, ends its boosted pass as balance_pgdat does, by
 * taking the boost away again (zone lock held).
 */
static void buddy_kswapd(struct mmb_buddy *b)
{
	if (b->boosted) {
		b->boosted = 0;
		b->watermark_boost = 0;
	}
}

/* ---- per-thread lists --------------------------------------------------- */

static inline struct buddy_pcp *buddy_this_pcp(struct mmb_buddy *b)
{
	for (int i = 0; i < BUDDY_TLS_SLOTS; i++)
		if (buddy_tls[i].b == b && buddy_tls[i].gen == b->gen)
			return buddy_tls[i].pcp;
	return NULL;
}

static inline unsigned buddy_pindex(unsigned order, int mt)
{
	return MMB_MT_TYPES * order + (unsigned)mt;
}

static inline int buddy_clamp(int v, int lo, int hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* rmqueue_bulk: count blocks to the tail of list, one lock hold. */
static int buddy_rmqueue_bulk(struct mmb_buddy *b, unsigned order, int count,
			      struct buddy_list *list, int mt)
{
	enum rmqueue_mode mode = RMQUEUE_NORMAL;
	int i;

	pthread_mutex_lock(&b->lock);
	for (i = 0; i < count; i++) {
		uint32_t pfn = buddy_rmqueue(b, order, mt, &mode);

		if (pfn == BUDDY_NIL)
			break;
		b->pages[pfn].flags = MMB_PG_PCP;
		b->pages[pfn].order = (uint8_t)order;
		b->pages[pfn].migratetype = (uint8_t)mt;
		blist_add(b->pages, list, pfn, 1);
	}
	buddy_kswapd(b);
	pthread_mutex_unlock(&b->lock);
	return i;
}

/* nr_pcp_alloc */
static int buddy_nr_pcp_alloc(struct mmb_buddy *b, struct buddy_pcp *pcp, unsigned order)
{
	int base = (int)b->zp.batch, hmin = (int)b->zp.high_min, hmax = (int)b->zp.high_max;
	int high, batch, max_nr;

	high = pcp->high = buddy_clamp(pcp->high, hmin, hmax);
	if (high < base)
		return 1;
	batch = order ? base : base << pcp->alloc_factor;
	if (hmin != hmax && !RD(b->below_high)) {
		pcp->high = high + batch < hmax ? high + batch : hmax;
		high = pcp->high;
	}
	if (!order) {
		max_nr = high - pcp->count - base;
		if (max_nr < base)
			max_nr = base;
		if (batch <= max_nr && pcp->alloc_factor < PCP_BATCH_SCALE_MAX)
			pcp->alloc_factor++;
		if (batch > max_nr)
			batch = max_nr;
	}
	if (batch > 1)
		batch = (batch >> order) > 2 ? batch >> order : 2;
	return batch;
}

static uint32_t buddy_rmqueue_pcplist(struct mmb_buddy *b, struct buddy_pcp *pcp, unsigned order,
				      int mt)
{
	struct buddy_list *list = &pcp->lists[buddy_pindex(order, mt)];
	uint32_t pfn;

	pcp->free_count >>= 1;
	if (list->head == BUDDY_NIL) {
		int got = buddy_rmqueue_bulk(b, order, buddy_nr_pcp_alloc(b, pcp, order), list, mt);

		if (!got)
			return BUDDY_NIL;
		WR(pcp->count, pcp->count + (got << order));
		ADD(pcp->st.pcp_refills, 1);
		ADD(pcp->st.pcp_refill_pages, (uint64_t)got << order);
	} else {
		ADD(pcp->st.pcp_hits, 1);
	}
	pfn = list->head;
	blist_del(b->pages, list, pfn);
	WR(pcp->count, pcp->count - (1 << order));
	return pfn;
}

/* free_pcppages_bulk: count frames, round-robin from pindex, coldest first. */
static __attribute__((noinline)) void buddy_free_pcppages_bulk(struct mmb_buddy *b, struct buddy_pcp *pcp, int count,
				     unsigned pindex)
{
	int moved = 0;

	if (count > pcp->count)
		count = pcp->count;
	if (count <= 0)
		return;
	pindex = pindex ? pindex - 1 : NR_PCP_LISTS - 1;
	pthread_mutex_lock(&b->lock);
	while (count > 0) {
		struct buddy_list *list;
		unsigned order;

		do {
			if (++pindex > NR_PCP_LISTS - 1)
				pindex = 0;
			list = &pcp->lists[pindex];
		} while (list->head == BUDDY_NIL);
		order = pindex / MMB_MT_TYPES;
		do {
			uint32_t pfn = list->tail;

			blist_del(b->pages, list, pfn);
			count -= 1 << order;
			moved += 1 << order;
			WR(pcp->count, pcp->count - (1 << order));
			b->pages[pfn].flags = 0;
			buddy_free_one(b, pfn, order, buddy_pb_mt(b, pfn), 0);
		} while (count > 0 && list->head != BUDDY_NIL);
	}
	if (b->below_high && buddy_wmark_ok(b, 0, WMARK_HIGH))
		WR(b->below_high, 0);
	pthread_mutex_unlock(&b->lock);
	ADD(pcp->st.pcp_drains, 1);
	ADD(pcp->st.pcp_drain_pages, (uint64_t)moved);
}

/* nr_pcp_high (no reclaim, no free_high) */
BUDDY_HOT int buddy_nr_pcp_high(struct mmb_buddy *b, struct buddy_pcp *pcp, int batch)
{
	int hmin = (int)b->zp.high_min, hmax = (int)b->zp.high_max;
	int high = pcp->high = buddy_clamp(pcp->high, hmin, hmax);

	if (!high || hmin == hmax)
		return high;
	if (RD(b->below_high)) {
		int fc = pcp->free_count > batch ? pcp->free_count : batch;

		pcp->high = high - fc > hmin ? high - fc : hmin;
		high = pcp->count > hmin ? pcp->count : hmin;
	} else if (pcp->count >= high) {
		int need = pcp->free_count + batch;

		if (pcp->high < need)
			pcp->high = buddy_clamp(need, hmin, hmax);
	}
	return high;
}

/* nr_pcp_free */
BUDDY_HOT int buddy_nr_pcp_free(struct buddy_pcp *pcp, int batch, int high)
{
	int n = pcp->free_count;

	if (high < batch)
		return 1;
	if (n < batch)
		n = batch;
	if (n > high - batch)
		n = high - batch;
	return n;
}

/* free_frozen_page_commit */
BUDDY_HOT void buddy_free_pcp(struct mmb_buddy *b, struct buddy_pcp *pcp, uint32_t pfn, unsigned order,
			   int mt)
{
	unsigned pindex = buddy_pindex(order, mt);
	int batch = (int)b->zp.batch, cap = batch << PCP_BATCH_SCALE_MAX, high;
	struct mmb_page *p = &b->pages[pfn];

	pcp->alloc_factor >>= 1;
	PG_FLAGS_WR(p, MMB_PG_PCP);
	p->order = (uint8_t)order;
	p->migratetype = (uint8_t)mt;
	blist_add(b->pages, &pcp->lists[pindex], pfn, 0);
	WR(pcp->count, pcp->count + (1 << order));
	if (pcp->free_count < cap)
		pcp->free_count = pcp->free_count + (1 << order) < cap ? pcp->free_count + (1 << order)
								       : cap;
	high = buddy_nr_pcp_high(b, pcp, batch);
	if (pcp->count >= high)
		buddy_free_pcppages_bulk(b, pcp, buddy_nr_pcp_free(pcp, batch, high), pindex);
}

/* drain_pages_zone: everything, batch << PCP_BATCH_SCALE_MAX frames at a time. */
static void buddy_drain_pcp(struct mmb_buddy *b, struct buddy_pcp *pcp)
{
	int chunk = (int)b->zp.batch << PCP_BATCH_SCALE_MAX;

	while (pcp->count)
		buddy_free_pcppages_bulk(b, pcp, pcp->count < chunk ? pcp->count : chunk, 0);
}

/* ---- the API ------------------------------------------------------------ */

static void buddy_counters_add(struct mmb_buddy_counters *to, const struct mmb_buddy_counters *c)
{
	const uint64_t *s = (const uint64_t *)c;
	uint64_t *d = (uint64_t *)to;

	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

/* get_page_from_freelist for our one zone: watermarks, then pcp or zone. */
static uint32_t buddy_get_page(struct mmb_buddy *b, struct buddy_pcp *pcp, unsigned order, int mt)
{
	uint32_t pfn;

	if (!RD(b->below_high)) {
		if (!buddy_wmark_ok(b, order, WMARK_HIGH))
			WR(b->below_high, 1);
	}
	if (RD(b->below_high) && !buddy_wmark_ok(b, order, WMARK_LOW)) {
		if (pcp)
			ADD(pcp->st.wmark_low_breaches, 1);
		else
			ZADD(b->zst.wmark_low_breaches, 1);
		/* The slow path: no reclaim to wait for, so the min mark decides. */
		if (!buddy_wmark_ok(b, order, WMARK_MIN))
			return BUDDY_NIL;
	}
	if (pcp && order <= MMB_PCP_MAX_ORDER)
		return buddy_rmqueue_pcplist(b, pcp, order, mt);
	enum rmqueue_mode mode = RMQUEUE_NORMAL;

	pthread_mutex_lock(&b->lock);
	pfn = buddy_rmqueue(b, order, mt, &mode);
	buddy_kswapd(b);
	pthread_mutex_unlock(&b->lock);
	return pfn;
}

/* prep_new_page, plus compound head/tail marking. */
BUDDY_HOT void buddy_prep_new(struct mmb_buddy *b, uint32_t pfn, unsigned order, int mt)
{
	struct mmb_page *p = &b->pages[pfn];

	PG_FLAGS_WR(p, order ? MMB_PG_HEAD : 0);
	p->order = (uint8_t)order;
	p->migratetype = (uint8_t)mt;
	p->refcount = 1;
	p->owner = NULL;
	for (uint64_t i = 1; i < (1ULL << order); i++) {
		PG_FLAGS_WR(&p[i], MMB_PG_TAIL);
		p[i].head_pfn = pfn;
	}
}

/*
 * A failed request of order: a fragmentation failure when the zone's free
 * frames would pass the min watermark for it (the free-frames half of
 * zone_watermark_ok) -- what was missing is a free block of that order or
 * larger, not memory. Counted, and the first one's free area kept. Judged
 * after the failure, under the zone lock: with several threads, a free in
 * between can make a failure for lack of memory count as one.
 */
static void buddy_note_failure(struct mmb_buddy *b, unsigned order)
{
	if (order > MMB_MAX_ORDER)
		return;		/* no block that large can exist: a bad request */
	pthread_mutex_lock(&b->lock);
	if ((int64_t)b->free_pages - ((1LL << order) - 1) >
	    (int64_t)(b->wmark[WMARK_MIN] + b->watermark_boost)) {
		ZADD(b->zst.frag_failed_allocs, 1);
		if (!b->first_frag.taken)
			buddy_snapshot(b, order, &b->first_frag);
	}
	pthread_mutex_unlock(&b->lock);
}

/* The full path: watermarks, per-thread list refill or the zone, and one
 * retry after draining the thread's own lists. */
static __attribute__((noinline)) struct mmb_page *buddy_alloc_slow(struct mmb_buddy *b,
								   struct buddy_pcp *pcp,
								   unsigned order, int mt)
{
	uint32_t pfn = BUDDY_NIL;

	if (order <= MMB_MAX_ORDER && (unsigned)mt < MMB_MT_TYPES) {
		pfn = buddy_get_page(b, pcp, order, mt);
		if (pfn == BUDDY_NIL && pcp && pcp->count) {
			buddy_drain_pcp(b, pcp);
			pfn = buddy_get_page(b, pcp, order, mt);
		}
	}
	if (pfn == BUDDY_NIL) {
		if (pcp)
			ADD(pcp->st.failed_allocs, 1);
		else
			ZADD(b->zst.failed_allocs, 1);
		buddy_note_failure(b, order);
		return NULL;
	}
	buddy_prep_new(b, pfn, order, mt);
	if (pcp) {
		ADD(pcp->st.allocs, 1);
		ADD(pcp->st.pgalloc, 1ULL << order);
	} else {
		ZADD(b->zst.allocs, 1);
		ZADD(b->zst.pgalloc, 1ULL << order);
	}
	return &b->pages[pfn];
}

struct mmb_page *mmb_alloc_pages(struct mmb_buddy *b, unsigned order, enum mmb_migratetype mt)
{
	struct buddy_pcp *pcp = buddy_this_pcp(b);

	if (!b->mobility)
		mt = MMB_MT_UNMOVABLE;
	/* Fast path, the full path's outcome when the zone is above its high
	 * mark and the thread's list has a block: take the hot one. */
	if (pcp && order <= MMB_PCP_MAX_ORDER && (unsigned)mt < MMB_MT_TYPES && !RD(b->below_high)) {
		struct buddy_list *list = &pcp->lists[buddy_pindex(order, mt)];
		uint32_t pfn = list->head;

		if (pfn != BUDDY_NIL && buddy_wmark_ok(b, order, WMARK_HIGH)) {
			pcp->free_count >>= 1;
			blist_del(b->pages, list, pfn);
			WR(pcp->count, pcp->count - (1 << order));
			ADD(pcp->st.pcp_hits, 1);
			buddy_prep_new(b, pfn, order, mt);
			ADD(pcp->st.allocs, 1);
			ADD(pcp->st.pgalloc, 1ULL << order);
			return &b->pages[pfn];
		}
	}
	return buddy_alloc_slow(b, pcp, order, (int)mt);
}

void mmb_free_pages(struct mmb_buddy *b, struct mmb_page *page, unsigned order)
{
	uint64_t pfn = (uint64_t)(page - b->pages);
	struct buddy_pcp *pcp = buddy_this_pcp(b);
	int mt;

	/* free_pages_prepare's checks: a bad page is reported and leaked. */
	if (pfn >= b->nr_pfns || order > MMB_MAX_ORDER || (pfn & ((1ULL << order) - 1)) ||
	    page->refcount != 1 || page->order != order ||
	    (page->flags & (MMB_PG_BUDDY | MMB_PG_PCP | MMB_PG_RESERVED | MMB_PG_TAIL))) {
		ZADD(b->zst.bad_frees, 1);
		return;
	}
	for (uint64_t i = 1; i < (1ULL << order); i++)
		PG_FLAGS_WR(&page[i], 0);
	PG_FLAGS_WR(page, 0);
	page->refcount = 0;
	page->owner = NULL;
	mt = buddy_pb_mt(b, pfn);
	if (pcp) {
		ADD(pcp->st.frees, 1);
		ADD(pcp->st.pgfree, 1ULL << order);
		if (order <= MMB_PCP_MAX_ORDER) {
			buddy_free_pcp(b, pcp, (uint32_t)pfn, order, mt);
			return;
		}
	}
	if (!pcp) {
		ZADD(b->zst.frees, 1);
		ZADD(b->zst.pgfree, 1ULL << order);
	}
	pthread_mutex_lock(&b->lock);
	buddy_free_one(b, pfn, order, mt, 0);
	pthread_mutex_unlock(&b->lock);
}

unsigned mmb_alloc_pages_bulk(struct mmb_buddy *b, enum mmb_migratetype mt, unsigned nr,
			      struct mmb_page **r_pages)
{
	struct buddy_pcp *pcp = buddy_this_pcp(b);
	unsigned got = 0;

	if (!nr)
		return 0;
	if (!b->mobility)
		mt = MMB_MT_UNMOVABLE;
	if ((unsigned)mt >= MMB_MT_TYPES)
		return 0;
	/* Not enough above the low mark for all of them: one page, the slow way. */
	if (RD(b->free_pages) <= b->wmark[WMARK_LOW] + RD(b->watermark_boost) + nr) {
		r_pages[0] = mmb_alloc_pages(b, 0, mt);
		return r_pages[0] ? 1 : 0;
	}
	if (pcp) {
		for (; got < nr; got++) {
			uint32_t pfn = buddy_rmqueue_pcplist(b, pcp, 0, mt);

			if (pfn == BUDDY_NIL)
				break;
			buddy_prep_new(b, pfn, 0, mt);
			r_pages[got] = &b->pages[pfn];
		}
		ADD(pcp->st.allocs, got);
		ADD(pcp->st.pgalloc, got);
		return got;
	}
	enum rmqueue_mode mode = RMQUEUE_NORMAL;

	pthread_mutex_lock(&b->lock);
	for (; got < nr; got++) {
		uint32_t pfn = buddy_rmqueue(b, 0, mt, &mode);

		if (pfn == BUDDY_NIL)
			break;
		buddy_prep_new(b, pfn, 0, mt);
		r_pages[got] = &b->pages[pfn];
	}
	buddy_kswapd(b);
	pthread_mutex_unlock(&b->lock);
	ZADD(b->zst.allocs, got);
	ZADD(b->zst.pgalloc, got);
	return got;
}

void mmb_buddy_thread_attach(struct mmb_buddy *b)
{
	struct buddy_tls *slot = NULL;
	struct buddy_pcp *pcp;

	if (!b->pcp_on || buddy_this_pcp(b))
		return;
	for (int i = 0; i < BUDDY_TLS_SLOTS && !slot; i++)
		if (!buddy_tls[i].b || (buddy_tls[i].b == b && buddy_tls[i].gen != b->gen))
			slot = &buddy_tls[i];
	if (!slot)
		return;		/* more instances than slots: this thread goes to the zone */
	pcp = calloc(1, sizeof(*pcp));
	if (!pcp)
		return;
	pcp->b = b;
	for (int i = 0; i < NR_PCP_LISTS; i++)
		blist_init(&pcp->lists[i]);
	pthread_mutex_lock(&b->pcp_lock);
	pcp->next = b->pcps;
	b->pcps = pcp;
	pthread_mutex_unlock(&b->pcp_lock);
	*slot = (struct buddy_tls){ b, b->gen, pcp };
}

void mmb_buddy_thread_detach(struct mmb_buddy *b)
{
	struct buddy_pcp *pcp = NULL, **pp;

	for (int i = 0; i < BUDDY_TLS_SLOTS; i++)
		if (buddy_tls[i].b == b && buddy_tls[i].gen == b->gen) {
			pcp = buddy_tls[i].pcp;
			buddy_tls[i] = (struct buddy_tls){ 0 };
		}
	if (!pcp)
		return;
	buddy_drain_pcp(b, pcp);
	pthread_mutex_lock(&b->pcp_lock);
	for (pp = &b->pcps; *pp != pcp; pp = &(*pp)->next)
		;
	*pp = pcp->next;
	buddy_counters_add(&b->retired, &pcp->st);
	pthread_mutex_unlock(&b->pcp_lock);
	free(pcp);
}

/* ---- boot --------------------------------------------------------------- */

static void buddy_boot_reserved(void *ctx, uint64_t pfn_start, uint64_t pfn_end)
{
	struct mmb_buddy *b = ctx;

	for (uint64_t pfn = pfn_start; pfn < pfn_end && pfn < b->nr_pfns; pfn++)
		if (!(b->pages[pfn].flags & MMB_PG_RESERVED)) {
			b->pages[pfn].flags = MMB_PG_RESERVED;
			b->reserved_pages++;
		}
}

/* __free_pages_core: FPI_TO_TAIL, bypassing the per-thread lists. */
static void buddy_boot_free(void *ctx, uint64_t pfn, unsigned order)
{
	struct mmb_buddy *b = ctx;

	b->managed_pages += 1ULL << order;
	buddy_free_one(b, pfn, order, buddy_pb_mt(b, pfn), 1);
}

int mmb_buddy_create(const struct mmb_buddy_cfg *cfg, struct mmb_buddy **r_b, char *err,
		     size_t errlen)
{
	struct mmb_memblock_handover h = { buddy_boot_reserved, buddy_boot_free, NULL };
	uint64_t memmap_bytes, nr_pb, free_bytes;
	pthread_mutexattr_t ma;
	struct mmb_buddy *b;
	int rc;

	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "buddy: out of memory");
		return -ENOMEM;
	}
	b->min_free_pages = UINT64_MAX;
	rc = mmb_pmem_create(cfg->mem_bytes, &b->pm, err, errlen);
	if (rc)
		goto out_free;
	b->pages = b->pm->pages;
	b->nr_pfns = b->pm->nr_pfns;
	b->gen = __atomic_fetch_add(&buddy_next_gen, 1, __ATOMIC_RELAXED);
	b->pcp_on = cfg->pcp;
	nr_pb = (b->nr_pfns + PAGEBLOCK_NR_PAGES - 1) >> MMB_PAGEBLOCK_ORDER;
	b->pb_mt = malloc(nr_pb);
	if (!b->pb_mt) {
		snprintf(err, errlen, "buddy: out of memory");
		rc = -ENOMEM;
		goto out_pmem;
	}
	mmb_memblock_init(&b->mb);
	memmap_bytes = b->nr_pfns * sizeof(struct mmb_page);
	if (mmb_memblock_add(&b->mb, 0, b->pm->bytes) || mmb_memblock_reserve(&b->mb, 0, MMB_PAGE_SIZE) ||
	    !mmb_memblock_phys_alloc(&b->mb, memmap_bytes, MMB_PAGE_SIZE)) {
		snprintf(err, errlen, "buddy: mem=%llu is too small for the %llu bytes of page descriptors",
			 (unsigned long long)cfg->mem_bytes, (unsigned long long)memmap_bytes);
		rc = -EINVAL;
		goto out_pb;
	}
	/* Mobility grouping is off when there are fewer pages than
	 * pageblock_nr_pages * MIGRATE_TYPES; pageblocks start MOVABLE. */
	free_bytes = b->mb.memory.total_size - b->mb.reserved.total_size;
	b->mobility = cfg->migratetypes &&
		      (free_bytes >> MMB_PAGE_SHIFT) >= (uint64_t)PAGEBLOCK_NR_PAGES * MMB_MT_TYPES;
	memset(b->pb_mt, b->mobility ? MMB_MT_MOVABLE : MMB_MT_UNMOVABLE, nr_pb);
	for (int o = 0; o < MMB_NR_PAGE_ORDERS; o++)
		for (int mt = 0; mt < MMB_MT_TYPES; mt++)
			blist_init(&b->area[o].list[mt]);
	h.ctx = b;
	mmb_memblock_free_all(&b->mb, &h);
	memset(&b->zst, 0, sizeof(b->zst));

	mmb_zone_params(b->managed_pages, cfg->nthreads, &b->zp);
	b->wmark[WMARK_MIN] = b->zp.wmark_min;
	b->wmark[WMARK_LOW] = b->zp.wmark_low;
	b->wmark[WMARK_HIGH] = b->zp.wmark_high;
	if (cfg->batch)
		b->zp.batch = cfg->batch;
	if (cfg->high) {
		b->zp.high_min = b->zp.high_max = cfg->high;
	} else if (cfg->batch) {
		if (b->zp.high_min < 4 * cfg->batch)
			b->zp.high_min = 4 * cfg->batch;
		if (b->zp.high_max < 4 * cfg->batch)
			b->zp.high_max = 4 * cfg->batch;
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&b->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&b->pcp_lock, NULL);
	*r_b = b;
	return 0;

out_pb:
	free(b->pb_mt);
out_pmem:
	mmb_pmem_destroy(b->pm);
out_free:
	free(b);
	return rc;
}

void mmb_buddy_destroy(struct mmb_buddy *b)
{
	struct buddy_pcp *pcp, *next;

	if (!b)
		return;
	for (int i = 0; i < BUDDY_TLS_SLOTS; i++)
		if (buddy_tls[i].b == b)
			buddy_tls[i] = (struct buddy_tls){ 0 };
	for (pcp = b->pcps; pcp; pcp = next) {
		next = pcp->next;
		free(pcp);
	}
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->pcp_lock);
	free(b->pb_mt);
	mmb_pmem_destroy(b->pm);
	free(b);
}

struct mmb_pmem *mmb_buddy_pmem(struct mmb_buddy *b)
{
	return b->pm;
}

static uint64_t buddy_pcp_pages(struct mmb_buddy *b)
{
	uint64_t n = 0;

	pthread_mutex_lock(&b->pcp_lock);
	for (struct buddy_pcp *pcp = b->pcps; pcp; pcp = pcp->next)
		n += (uint64_t)RD(pcp->count);
	pthread_mutex_unlock(&b->pcp_lock);
	return n;
}

uint64_t mmb_buddy_used_pages(struct mmb_buddy *b)
{
	uint64_t pcp = buddy_pcp_pages(b), free = RD(b->free_pages);

	return b->managed_pages > free + pcp ? b->managed_pages - free - pcp : 0;
}

void mmb_buddy_counters(struct mmb_buddy *b, struct mmb_buddy_counters *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_lock(&b->pcp_lock);
	buddy_counters_add(r, &b->retired);
	for (struct buddy_pcp *pcp = b->pcps; pcp; pcp = pcp->next)
		buddy_counters_add(r, &pcp->st);
	pthread_mutex_lock(&b->lock);
	buddy_counters_add(r, &b->zst);
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_unlock(&b->pcp_lock);
}

void mmb_buddy_info(struct mmb_buddy *b, struct mmb_buddy_info *r)
{
	uint64_t pcp = buddy_pcp_pages(b);

	memset(r, 0, sizeof(*r));
	pthread_mutex_lock(&b->lock);
	for (int o = 0; o < MMB_NR_PAGE_ORDERS; o++) {
		r->nr_free[o] = b->area[o].nr_free;
		for (int mt = 0; mt < MMB_MT_TYPES; mt++)
			r->nr_free_mt[mt][o] = b->area[o].list[mt].nr;
	}
	r->free_pages = b->free_pages;
	r->min_free_pages = b->min_free_pages < b->free_pages ? b->min_free_pages : b->free_pages;
	r->watermark_boost = b->watermark_boost;
	pthread_mutex_unlock(&b->lock);
	r->managed_pages = b->managed_pages;
	r->reserved_pages = b->reserved_pages;
	r->pcp_pages = pcp;
	r->mobility = b->mobility;
	r->zp = b->zp;
}

void mmb_buddy_snapshots(struct mmb_buddy *b, struct mmb_buddy_snapshot *r_min,
			 struct mmb_buddy_snapshot *r_first_frag)
{
	pthread_mutex_lock(&b->lock);
	if (b->at_min_pending)
		buddy_snapshot(b, 0, &b->at_min);
	*r_min = b->at_min;
	*r_first_frag = b->first_frag;
	pthread_mutex_unlock(&b->lock);
}

static void buddy_indices(const uint64_t nr_free[MMB_NR_PAGE_ORDERS], double r_unusable[],
			  double r_extfrag[])
{
	for (unsigned o = 0; o < MMB_NR_PAGE_ORDERS; o++) {
		r_unusable[o] = mmb_unusable_index(nr_free, o) / 1000.0;
		r_extfrag[o] = mmb_fragmentation_index(nr_free, o) / 1000.0;
	}
}

void mmb_buddy_zone_stats(struct mmb_buddy *b, struct mmb_alloc_stats *r_st)
{
	struct mmb_buddy_snapshot at_min, first_frag;
	struct mmb_buddy_counters c;
	struct mmb_buddy_info in;

	mmb_buddy_info(b, &in);
	mmb_buddy_counters(b, &c);
	mmb_buddy_snapshots(b, &at_min, &first_frag);
	buddy_indices(in.nr_free, r_st->unusable_index, r_st->extfrag_index);
	r_st->frag_failed_allocs = c.frag_failed_allocs;
	if (at_min.taken)
		buddy_indices(at_min.nr_free, r_st->zone_peak_unusable_index,
			      r_st->zone_peak_extfrag_index);
	if (first_frag.taken) {
		buddy_indices(first_frag.nr_free, r_st->frag_fail_unusable_index,
			      r_st->frag_fail_extfrag_index);
		r_st->frag_fail_order = first_frag.order;
		r_st->frag_fail_free_pages = first_frag.free_pages;
	}
}

int mmb_buddy_pcp_info(struct mmb_buddy *b, struct mmb_buddy_pcp_info *r)
{
	struct buddy_pcp *pcp = buddy_this_pcp(b);

	if (!pcp)
		return -ENOENT;
	*r = (struct mmb_buddy_pcp_info){ (unsigned)pcp->count, (unsigned)pcp->high, b->zp.batch,
					  (unsigned)pcp->free_count, pcp->alloc_factor };
	return 0;
}

/* ---- check -------------------------------------------------------------- */

#define CHECK(cond, ...)                                 \
	do {                                             \
		if (!(cond)) {                           \
			snprintf(err, errlen, __VA_ARGS__); \
			rc = -EUCLEAN;                   \
			goto out;                        \
		}                                        \
	} while (0)

/* Walk a list: links consistent, length nr, every entry a block with the
 * given flag, order and type. Returns 0 or -EUCLEAN. */
static int buddy_check_list(const struct mmb_buddy *b, const struct buddy_list *l, uint32_t flag,
			    unsigned order, int mt, const char *what, char *err, size_t errlen)
{
	uint64_t n = 0;
	uint32_t prev = BUDDY_NIL;
	int rc = 0;

	for (uint32_t pfn = l->head; pfn != BUDDY_NIL; prev = pfn, pfn = b->pages[pfn].next) {
		const struct mmb_page *p;

		CHECK(pfn < b->nr_pfns && n <= l->nr, "%s order %u: list corrupt at pfn %#x", what,
		      order, pfn);
		p = &b->pages[pfn];
		CHECK(p->prev == prev, "%s order %u: pfn %#x has a bad back link", what, order, pfn);
		CHECK((p->flags & flag) && p->order == order && p->migratetype == mt,
		      "%s order %u %s: pfn %#x is not a block of that order and type", what, order,
		      buddy_mt_names[mt], pfn);
		CHECK(!(pfn & ((1u << order) - 1)) && pfn + (1ULL << order) <= b->nr_pfns,
		      "%s: block pfn %#x order %u misaligned or outside the zone", what, pfn, order);
		n++;
	}
	CHECK(l->tail == prev && n == l->nr, "%s order %u %s: %llu entries, nr says %llu", what, order,
	      buddy_mt_names[mt], (unsigned long long)n, (unsigned long long)l->nr);
out:
	return rc;
}

int mmb_buddy_check(struct mmb_buddy *b, char *err, size_t errlen)
{
	uint64_t free_walk = 0, pcp_walk = 0, used = 0, reserved = 0, sum = 0, pcp_count = 0;
	uint64_t heads[MMB_NR_PAGE_ORDERS] = { 0 };
	struct mmb_buddy_counters c;
	int rc = 0;

	mmb_buddy_counters(b, &c);
	pthread_mutex_lock(&b->pcp_lock);
	pthread_mutex_lock(&b->lock);
	for (unsigned o = 0; o < MMB_NR_PAGE_ORDERS; o++) {
		uint64_t nr = 0;

		for (int mt = 0; mt < MMB_MT_TYPES; mt++) {
			rc = buddy_check_list(b, &b->area[o].list[mt], MMB_PG_BUDDY, o, mt, "free list",
					      err, errlen);
			if (rc)
				goto out;
			nr += b->area[o].list[mt].nr;
		}
		CHECK(nr == b->area[o].nr_free, "order %u: nr_free %llu but %llu blocks on the lists", o,
		      (unsigned long long)b->area[o].nr_free, (unsigned long long)nr);
		sum += nr << o;
	}
	CHECK(sum == b->free_pages, "free_pages %llu but the lists hold %llu frames",
	      (unsigned long long)b->free_pages, (unsigned long long)sum);
	for (struct buddy_pcp *pcp = b->pcps; pcp; pcp = pcp->next) {
		uint64_t n = 0;

		for (unsigned i = 0; i < NR_PCP_LISTS; i++) {
			unsigned order = i / MMB_MT_TYPES;

			rc = buddy_check_list(b, &pcp->lists[i], MMB_PG_PCP, order, (int)(i % MMB_MT_TYPES),
					      "per-thread list", err, errlen);
			if (rc)
				goto out;
			n += pcp->lists[i].nr << order;
		}
		CHECK(n == (uint64_t)pcp->count, "per-thread list count %d but its lists hold %llu frames",
		      pcp->count, (unsigned long long)n);
		pcp_count += n;
	}
	/* Walk every frame, block by block. */
	for (uint64_t pfn = 0; pfn < b->nr_pfns;) {
		const struct mmb_page *p = &b->pages[pfn];
		uint64_t n = 1ULL << p->order;

		if (p->flags & MMB_PG_RESERVED) {
			reserved++;
			pfn++;
			continue;
		}
		CHECK(p->order <= MMB_MAX_ORDER && !(pfn & (n - 1)) && pfn + n <= b->nr_pfns,
		      "pfn %#llx: block of order %u misaligned or outside the zone",
		      (unsigned long long)pfn, p->order);
		if (p->flags & MMB_PG_BUDDY) {
			uint64_t bud = pfn ^ n;

			CHECK(b->pb_mt[pfn >> MMB_PAGEBLOCK_ORDER] == p->migratetype,
			      "free block pfn %#llx is on the %s list of a %s pageblock",
			      (unsigned long long)pfn, buddy_mt_names[p->migratetype],
			      buddy_mt_names[b->pb_mt[pfn >> MMB_PAGEBLOCK_ORDER]]);
			CHECK(p->order == MMB_MAX_ORDER || !buddy_is_free_buddy(b, bud, p->order),
			      "free buddies pfn %#llx and %#llx of order %u are not merged",
			      (unsigned long long)pfn, (unsigned long long)bud, p->order);
			heads[p->order]++;
			free_walk += n;
		} else if (p->flags & MMB_PG_PCP) {
			pcp_walk += n;
		} else {
			CHECK(p->refcount == 1 && !(p->flags & MMB_PG_TAIL),
			      "pfn %#llx is neither free, on a per-thread list, reserved nor allocated",
			      (unsigned long long)pfn);
			for (uint64_t i = 1; i < n; i++)
				CHECK((p[i].flags & MMB_PG_TAIL) && p[i].head_pfn == pfn,
				      "pfn %#llx: tail of the block at %#llx not marked",
				      (unsigned long long)(pfn + i), (unsigned long long)pfn);
			used += n;
		}
		pfn += n;
	}
	for (unsigned o = 0; o < MMB_NR_PAGE_ORDERS; o++)
		CHECK(heads[o] == b->area[o].nr_free, "order %u: %llu free blocks in the frames, %llu listed",
		      o, (unsigned long long)heads[o], (unsigned long long)b->area[o].nr_free);
	CHECK(free_walk == b->free_pages && pcp_walk == pcp_count,
	      "frames: %llu free and %llu on per-thread lists, counts say %llu and %llu",
	      (unsigned long long)free_walk, (unsigned long long)pcp_walk,
	      (unsigned long long)b->free_pages, (unsigned long long)pcp_count);
	CHECK(reserved == b->reserved_pages && used + free_walk + pcp_walk == b->managed_pages,
	      "managed %llu != allocated %llu + free %llu + per-thread %llu (reserved %llu)",
	      (unsigned long long)b->managed_pages, (unsigned long long)used,
	      (unsigned long long)free_walk, (unsigned long long)pcp_walk, (unsigned long long)reserved);
	CHECK(c.pgalloc - c.pgfree == used, "counters: pgalloc %llu - pgfree %llu != %llu allocated",
	      (unsigned long long)c.pgalloc, (unsigned long long)c.pgfree, (unsigned long long)used);
	CHECK(!c.bad_frees, "%llu frees of frames that were not allocated", (unsigned long long)c.bad_frees);
out:
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_unlock(&b->pcp_lock);
	return rc;
}

/* ---- observability ------------------------------------------------------ */

#define ZONE_PREFIX "Node 0, zone %8s "
#define ZONE_NAME "Normal"

static void buddy_write_buddyinfo(const struct mmb_buddy_info *in, FILE *f)
{
	fprintf(f, ZONE_PREFIX, ZONE_NAME);
	for (int o = 0; o < MMB_NR_PAGE_ORDERS; o++)
		fprintf(f, "%6lu ", (unsigned long)in->nr_free[o]);
	fputc('\n', f);
}

/* pagetypeinfo_showfree + pagetypeinfo_showblockcount, for our 3 types. */
static void buddy_write_pagetypeinfo(struct mmb_buddy *b, const struct mmb_buddy_info *in, FILE *f)
{
	unsigned long count[MMB_MT_TYPES] = { 0 };

	fprintf(f, "Page block order: %d\n", MMB_PAGEBLOCK_ORDER);
	fprintf(f, "Pages per block:  %lu\n", (unsigned long)PAGEBLOCK_NR_PAGES);
	fputc('\n', f);
	fprintf(f, "%-43s ", "Free pages count per migrate type at order");
	for (int o = 0; o < MMB_NR_PAGE_ORDERS; o++)
		fprintf(f, "%6d ", o);
	fputc('\n', f);
	for (int mt = 0; mt < MMB_MT_TYPES; mt++) {
		fprintf(f, "Node %4d, zone %8s, type %12s ", 0, ZONE_NAME, buddy_mt_names[mt]);
		for (int o = 0; o < MMB_NR_PAGE_ORDERS; o++) {
			uint64_t n = in->nr_free_mt[mt][o];

			/* The kernel stops counting a list at 100000 entries. */
			fprintf(f, "%s%6lu ", n >= 100000 ? ">" : "",
				(unsigned long)(n >= 100000 ? 100000 : n));
		}
		fputc('\n', f);
	}
	fprintf(f, "\n%-23s", "Number of blocks type ");
	for (int mt = 0; mt < MMB_MT_TYPES; mt++)
		fprintf(f, "%12s ", buddy_mt_names[mt]);
	fputc('\n', f);
	pthread_mutex_lock(&b->lock);
	for (uint64_t pfn = 0; pfn < b->nr_pfns; pfn += PAGEBLOCK_NR_PAGES)
		count[b->pb_mt[pfn >> MMB_PAGEBLOCK_ORDER]]++;
	pthread_mutex_unlock(&b->lock);
	fprintf(f, "Node %d, zone %8s ", 0, ZONE_NAME);
	for (int mt = 0; mt < MMB_MT_TYPES; mt++)
		fprintf(f, "%12lu ", count[mt]);
	fputc('\n', f);
}

static void buddy_write_index(const struct mmb_buddy_info *in, int extfrag, FILE *f)
{
	fprintf(f, ZONE_PREFIX, ZONE_NAME);
	for (unsigned o = 0; o < MMB_NR_PAGE_ORDERS; o++) {
		int idx = extfrag ? mmb_fragmentation_index(in->nr_free, o)
				  : mmb_unusable_index(in->nr_free, o);

		fprintf(f, extfrag ? "%2d.%03d " : "%d.%03d ", idx / 1000, abs(idx % 1000));
	}
	fputc('\n', f);
}

/* The /proc/zoneinfo lines this model has (one zone, pagesets per attached
 * thread, numbered in attach order, newest first). */
static void buddy_write_zoneinfo(struct mmb_buddy *b, const struct mmb_buddy_info *in, FILE *f)
{
	int cpu = 0;

	fprintf(f, "Node %d, zone %8s", 0, ZONE_NAME);
	fprintf(f, "\n  pages free     %lu\n        boost    %lu\n        min      %lu"
		   "\n        low      %lu\n        high     %lu\n        spanned  %lu"
		   "\n        present  %lu\n        managed  %lu\n        protection: (0)",
		(unsigned long)in->free_pages, (unsigned long)in->watermark_boost,
		(unsigned long)b->wmark[WMARK_MIN], (unsigned long)b->wmark[WMARK_LOW],
		(unsigned long)b->wmark[WMARK_HIGH], (unsigned long)b->nr_pfns,
		(unsigned long)b->nr_pfns, (unsigned long)in->managed_pages);
	fprintf(f, "\n  pagesets");
	pthread_mutex_lock(&b->pcp_lock);
	for (struct buddy_pcp *pcp = b->pcps; pcp; pcp = pcp->next, cpu++)
		fprintf(f, "\n    cpu: %i\n              count:    %i\n              high:     %i"
			   "\n              batch:    %i\n              high_min: %i"
			   "\n              high_max: %i",
			cpu, RD(pcp->count), RD(pcp->high), (int)in->zp.batch, (int)in->zp.high_min,
			(int)in->zp.high_max);
	pthread_mutex_unlock(&b->pcp_lock);
	fprintf(f, "\n  start_pfn:           %lu\n", 0UL);
}

static void buddy_write_counters(struct mmb_buddy *b, const struct mmb_buddy_info *in, FILE *f)
{
	struct mmb_buddy_counters c;

	mmb_buddy_counters(b, &c);
	fprintf(f, "nr_free_pages %llu\n", (unsigned long long)in->free_pages);
	fprintf(f, "nr_pcp_pages %llu\n", (unsigned long long)in->pcp_pages);
	fprintf(f, "nr_managed_pages %llu\n", (unsigned long long)in->managed_pages);
	fprintf(f, "nr_reserved_pages %llu\n", (unsigned long long)in->reserved_pages);
	fprintf(f, "min_free_kbytes %llu\n", (unsigned long long)in->zp.min_free_kbytes);
#define BUDDY_COUNTER(name) fprintf(f, #name " %llu\n", (unsigned long long)c.name)
	BUDDY_COUNTER(allocs);
	BUDDY_COUNTER(frees);
	BUDDY_COUNTER(failed_allocs);
	BUDDY_COUNTER(frag_failed_allocs);
	BUDDY_COUNTER(pgalloc);
	BUDDY_COUNTER(pgfree);
	BUDDY_COUNTER(splits);
	BUDDY_COUNTER(merges);
	BUDDY_COUNTER(pcp_hits);
	BUDDY_COUNTER(pcp_refills);
	BUDDY_COUNTER(pcp_refill_pages);
	BUDDY_COUNTER(pcp_drains);
	BUDDY_COUNTER(pcp_drain_pages);
	BUDDY_COUNTER(fallbacks);
	BUDDY_COUNTER(claims);
	BUDDY_COUNTER(wmark_low_breaches);
	BUDDY_COUNTER(wmark_boosts);
	BUDDY_COUNTER(bad_frees);
#undef BUDDY_COUNTER
}

enum { DUMP_BUDDYINFO, DUMP_PAGETYPEINFO, DUMP_UNUSABLE, DUMP_EXTFRAG, DUMP_MEMBLOCK, DUMP_ZONEINFO,
       DUMP_COUNTERS, NR_DUMPS };
static const char *const buddy_dump_names[NR_DUMPS] = {
	"buddyinfo", "pagetypeinfo", "unusable_index", "extfrag_index", "memblock", "zoneinfo",
	"counters",
};

struct buddy_dump {
	struct mmb_buddy *b;
	struct mmb_buddy_info in;
	int which;		/* DUMP_* */
};

static int buddy_dump_one(FILE *f, void *ctx)
{
	struct buddy_dump *d = ctx;

	switch (d->which) {
	case DUMP_BUDDYINFO: buddy_write_buddyinfo(&d->in, f); break;
	case DUMP_PAGETYPEINFO: buddy_write_pagetypeinfo(d->b, &d->in, f); break;
	case DUMP_UNUSABLE: buddy_write_index(&d->in, 0, f); break;
	case DUMP_EXTFRAG: buddy_write_index(&d->in, 1, f); break;
	case DUMP_MEMBLOCK: mmb_memblock_dump(&d->b->mb, f); break;
	case DUMP_ZONEINFO: buddy_write_zoneinfo(d->b, &d->in, f); break;
	default: buddy_write_counters(d->b, &d->in, f); break;
	}
	return 0;
}

/* Each file is replaced atomically (statefile.h), from one snapshot. */
int mmb_buddy_dump_state(struct mmb_buddy *b, const char *dir)
{
	struct buddy_dump d = { .b = b };

	mmb_buddy_info(b, &d.in);
	for (d.which = 0; d.which < NR_DUMPS; d.which++) {
		int rc = mmb_state_write(dir, buddy_dump_names[d.which], buddy_dump_one, &d);

		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the registry allocator `buddy` ------------------------------------ */

/*
 * A request of size bytes aligned to align gets a block of 2^order frames,
 * order = get_order(max(size, align)), so blocks are aligned to their size.
 * Blocks are MOVABLE (user memory). Stats:
 *	footprint_bytes	frames out of the zone's free lists: handed out plus
 *			held on per-thread lists (the kernel counts both as
 *			used); not frames touched
 *	usable_bytes	2^order frames per live block = frames handed out
 *	footprint_peak_bytes  the same as footprint_bytes at the zone's
 *			low-water mark of free frames (exact, not sampled)
 */
struct mmb_alloc {
	struct mmb_buddy *b;
	struct mmb_kmemleak *kml;	/* kmemleak=on: every block tracked */
};

static const struct mmb_param buddy_opts[] = {
	{ "mem", MMB_P_SIZE, "1G", 4 << 20, 256ULL << 30, NULL,
	  "simulated physical memory, bytes (4M..256G; only touched frames use memory)" },
	{ "free", MMB_P_SIZE, "0", 0, 256ULL << 30, NULL,
	  "size the zone to the work: bytes free above the min watermark after boot (sets mem)" },
	{ "pcp", MMB_P_BOOL, "on", 0, 0, NULL, "per-thread page lists for orders 0..3" },
	{ "batch", MMB_P_U64, "0", 0, 4096, NULL,
	  "per-thread list batch, frames (0 = zone_batchsize: 63 for zones >= 1G)" },
	{ "high", MMB_P_U64, "0", 0, 1 << 24, NULL,
	  "per-thread list high mark, frames, fixed (0 = auto-tuned in [high_min, high_max])" },
	{ "migratetypes", MMB_P_BOOL, "on", 0, 0, NULL,
	  "free lists per migratetype with fallback and pageblock stealing (off: all unmovable)" },
	{ "kmemleak", MMB_P_BOOL, "off", 0, 0, NULL,
	  "leak detector: track every block, scan at the end (kmemleak.txt, leaks_found)" },
	{ 0 },
};

static int buddy_a_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
			  size_t errlen)
{
	struct mmb_buddy_cfg bc = {
		.pcp = (int)mmb_pval_u64(&cfg->opts, "pcp"),
		.batch = (unsigned)mmb_pval_u64(&cfg->opts, "batch"),
		.high = (unsigned)mmb_pval_u64(&cfg->opts, "high"),
		.migratetypes = (int)mmb_pval_u64(&cfg->opts, "migratetypes"),
		.nthreads = cfg->nthreads ? cfg->nthreads : 1,
	};
	struct mmb_alloc *a;
	int rc = mmb_buddy_zone_mem(&cfg->opts, "buddy", &bc.mem_bytes, err, errlen);

	if (rc)
		return rc;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "buddy: out of memory");
		return -ENOMEM;
	}
	rc = mmb_buddy_create(&bc, &a->b, err, errlen);
	if (!rc && mmb_pval_u64(&cfg->opts, "kmemleak")) {
		struct mmb_kmemleak_cfg kc = { .min_age_ms = MMB_KMEMLEAK_MIN_AGE_MS, .log = stderr };

		rc = mmb_kmemleak_create(&kc, &a->kml, err, errlen);
		if (rc)
			mmb_buddy_destroy(a->b);
		else	/* the direct map's base, kept in pmem */
			mmb_kmemleak_ignore_value(a->kml, mmb_buddy_pmem(a->b)->dmap);
	}
	if (rc) {
		free(a);
		return rc;
	}
	*r_a = a;
	return 0;
}

static int buddy_a_validate(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen)
{
	uint64_t mem;

	return mmb_buddy_zone_mem(&cfg->opts, "buddy", &mem, err, errlen);
}

static void buddy_a_destroy(struct mmb_alloc *a)
{
	mmb_buddy_destroy(a->b);
	if (a->kml)
		mmb_kmemleak_destroy(a->kml);
	free(a);
}

static void buddy_a_attach(struct mmb_alloc *a)
{
	mmb_buddy_thread_attach(a->b);
	if (a->kml)
		mmb_kmemleak_thread_register(a->kml);
}

static void buddy_a_detach(struct mmb_alloc *a)
{
	if (a->kml)
		mmb_kmemleak_thread_unregister(a->kml);
	mmb_buddy_thread_detach(a->b);
}

static void *buddy_a_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	size_t need = size > align ? size : align;
	unsigned order = 0;
	struct mmb_page *page;

	while (order <= MMB_MAX_ORDER && (MMB_PAGE_SIZE << order) < need)
		order++;
	page = mmb_alloc_pages(a->b, order, MMB_MT_MOVABLE);	/* order 11 fails, counted */
	if (__builtin_expect(a->kml != NULL, 0) && page)
		mmb_kmemleak_alloc(a->kml, mmb_page_address(mmb_buddy_pmem(a->b), page), size, 1);
	return page ? mmb_page_address(mmb_buddy_pmem(a->b), page) : NULL;
}

static void buddy_a_free(struct mmb_alloc *a, void *p, size_t size)
{
	struct mmb_page *page = mmb_virt_to_page(mmb_buddy_pmem(a->b), p);

	(void)size;
	if (__builtin_expect(a->kml != NULL, 0))
		mmb_kmemleak_free(a->kml, p);
	mmb_free_pages(a->b, page, page->order);
}

static size_t buddy_a_usable_size(struct mmb_alloc *a, const void *p)
{
	return MMB_PAGE_SIZE << mmb_virt_to_page(mmb_buddy_pmem(a->b), p)->order;
}

static void buddy_a_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	struct mmb_buddy_counters c;
	struct mmb_buddy_info in;
	uint64_t held;

	mmb_buddy_info(a->b, &in);
	mmb_buddy_counters(a->b, &c);
	held = in.managed_pages - in.free_pages;
	r_st->footprint_bytes = held << MMB_PAGE_SHIFT;
	r_st->footprint_peak_bytes = (in.managed_pages - in.min_free_pages) << MMB_PAGE_SHIFT;
	r_st->usable_bytes = (held > in.pcp_pages ? held - in.pcp_pages : 0) << MMB_PAGE_SHIFT;
	r_st->allocs = c.allocs;
	r_st->frees = c.frees;
	r_st->failed_allocs = c.failed_allocs;
	mmb_buddy_zone_stats(a->b, r_st);
	if (a->kml)
		r_st->leaks_found = mmb_kmemleak_leaks(a->kml);
}

static int buddy_a_check(struct mmb_alloc *a, char *err, size_t errlen)
{
	return mmb_buddy_check(a->b, err, errlen);
}

static int buddy_a_dump_state(struct mmb_alloc *a, const char *dir)
{
	int rc = mmb_buddy_dump_state(a->b, dir);

	return !rc && a->kml ? mmb_kmemleak_write_file(a->kml, dir) : rc;
}

const struct mmb_alloc_ops mmb_buddy_ops = {
	.name = "buddy",
	.desc = "Linux buddy page allocator (mm/page_alloc.c): 2^order frames per request",
	.opts = buddy_opts,
	.validate = buddy_a_validate,
	.create = buddy_a_create,
	.destroy = buddy_a_destroy,
	.thread_attach = buddy_a_attach,
	.thread_detach = buddy_a_detach,
	.alloc = buddy_a_alloc,
	.free = buddy_a_free,
	.usable_size = buddy_a_usable_size,
	.stats = buddy_a_stats,
	.check = buddy_a_check,
	.dump_state = buddy_a_dump_state,
};

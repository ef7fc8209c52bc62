/*
 * buddy.h — the buddy page allocator's kernel-style API (mm/page_alloc.c),
 * on which slab.c and vmalloc.c build. The registry entry `buddy` (the
 * allocator contract on top: a request rounds up to 2^order frames) lives in
 * buddy.c too.
 *
 * One struct mmb_buddy owns one pmem (pmem.h), a memblock hand-over, one
 * zone with free lists per order (0..MMB_MAX_ORDER) and migratetype, and
 * per-thread page lists (the kernel's per-CPU lists) for orders
 * 0..MMB_PCP_MAX_ORDER. Thread-safe: the zone lock guards the free lists;
 * a thread's page lists are its own.
 *
 * This header is a contract for slab.c and vmalloc.c: it may grow, but the
 * names and meanings here do not change without updating them.
 */
#ifndef MMB_BUDDY_H
#define MMB_BUDDY_H

#include <stddef.h>
#include <stdint.h>

#include "pmem.h"

#define MMB_MAX_ORDER 10		/* MAX_PAGE_ORDER: largest block 2^10 frames = 4 MiB */
#define MMB_PAGEBLOCK_ORDER 9
#define MMB_PCP_MAX_ORDER 3		/* per-thread lists for orders 0..3 */

enum mmb_migratetype {
	MMB_MT_UNMOVABLE,
	MMB_MT_MOVABLE,
	MMB_MT_RECLAIMABLE,
	MMB_MT_TYPES
};

struct mmb_buddy;

struct mmb_buddy_cfg {
	uint64_t mem_bytes;		/* pmem size */
	int pcp;			/* per-thread lists on/off */
	unsigned batch, high;		/* 0 = the kernel's formulas */
	int migratetypes;		/* 0: everything is MMB_MT_UNMOVABLE */
	unsigned nthreads;		/* expected worker threads ("CPUs") */
};

/* Returns 0 or -errno with a message in err (-EINVAL for a bad cfg). */
int mmb_buddy_create(const struct mmb_buddy_cfg *cfg, struct mmb_buddy **r_b, char *err,
		     size_t errlen);
void mmb_buddy_destroy(struct mmb_buddy *b);

/* The pmem the buddy allocator manages (for page <-> address conversion). */
struct mmb_pmem *mmb_buddy_pmem(struct mmb_buddy *b);

/*
 * A block of 2^order frames, or NULL when none is free (counted, never
 * corruption). The frames' contents are undefined (not zeroed).
 */
struct mmb_page *mmb_alloc_pages(struct mmb_buddy *b, unsigned order, enum mmb_migratetype mt);
void mmb_free_pages(struct mmb_buddy *b, struct mmb_page *page, unsigned order);

/* Up to nr order-0 frames into r_pages; returns how many it got. */
unsigned mmb_alloc_pages_bulk(struct mmb_buddy *b, enum mmb_migratetype mt, unsigned nr,
			      struct mmb_page **r_pages);

/*
 * The calling thread's per-thread lists: set up / drained back to the zone.
 * A thread that never attaches (or with pcp off) goes to the zone under its
 * lock for every call; that is correct, only slower. A thread can be
 * attached to at most 8 instances at once (more are served by the zone).
 * Blocks freed by a thread go to its own lists, whoever allocated them.
 */
void mmb_buddy_thread_attach(struct mmb_buddy *b);
void mmb_buddy_thread_detach(struct mmb_buddy *b);

/* Frames handed out and not yet freed (for footprint figures). */
uint64_t mmb_buddy_used_pages(struct mmb_buddy *b);

/* Invariant check (buddy.c's file-top list): 0 or -EUCLEAN with err. */
int mmb_buddy_check(struct mmb_buddy *b, char *err, size_t errlen);

/*
 * Additions for tests, observability and the `buddy` registry entry.
 *
 * Allocated blocks of order > 0 are compound: the head frame has
 * MMB_PG_HEAD and its order, every other frame MMB_PG_TAIL and head_pfn
 * (mmb_compound_head() in pmem.h finds the head from any frame).
 */
#define MMB_NR_PAGE_ORDERS (MMB_MAX_ORDER + 1)

/* What the kernel derives from a zone's managed pages and its CPUs
 * (min_free_kbytes, __setup_per_zone_wmarks, zone_batchsize, zone_highsize). */
struct mmb_zone_params {
	uint64_t min_free_kbytes;
	uint64_t wmark_min, wmark_low, wmark_high;	/* pages */
	unsigned batch, high_min, high_max;		/* per-thread lists, pages */
};
void mmb_zone_params(uint64_t managed_pages, unsigned ncpus, struct mmb_zone_params *r);

/* The mm/vmstat.c indices of a free area (nr_free[o] = free blocks of
 * order o) at order, times 1000: unusable_free_index() and
 * __fragmentation_index(). */
int mmb_unusable_index(const uint64_t nr_free[MMB_NR_PAGE_ORDERS], unsigned order);
int mmb_fragmentation_index(const uint64_t nr_free[MMB_NR_PAGE_ORDERS], unsigned order);

/* Event counters, summed over the zone and every thread's lists. Pages are
 * frames; calls are API calls. Counted from the end of the boot hand-over. */
struct mmb_buddy_counters {
	uint64_t allocs, frees;			/* successful alloc_pages / free_pages calls */
	uint64_t failed_allocs;			/* alloc_pages returning NULL */
	uint64_t frag_failed_allocs;		/* ... of them, fragmentation failures:
						 * free frames enough (min watermark
						 * passed), no block of the order */
	uint64_t pgalloc, pgfree;		/* frames handed out / given back */
	uint64_t splits, merges;		/* expand() halves, buddy merges */
	uint64_t pcp_hits;			/* allocs served by a thread's list without refill */
	uint64_t pcp_refills, pcp_refill_pages;	/* rmqueue_bulk calls, frames moved */
	uint64_t pcp_drains, pcp_drain_pages;	/* free_pcppages_bulk calls, frames moved */
	uint64_t fallbacks;			/* allocations from another migratetype (extfrag events) */
	uint64_t claims;			/* pageblocks retyped by a fallback */
	uint64_t wmark_low_breaches;		/* allocs that found the zone below low */
	uint64_t wmark_boosts;			/* boost_watermark calls that boosted */
	uint64_t bad_frees;			/* free_pages of a frame not allocated (ignored) */
};
void mmb_buddy_counters(struct mmb_buddy *b, struct mmb_buddy_counters *r);

/* The zone now: blocks per order (buddyinfo), per order and migratetype
 * (pagetypeinfo), and the free, managed and per-thread-list frame counts. */
struct mmb_buddy_info {
	uint64_t nr_free[MMB_NR_PAGE_ORDERS];
	uint64_t nr_free_mt[MMB_MT_TYPES][MMB_NR_PAGE_ORDERS];
	uint64_t free_pages, managed_pages, pcp_pages, reserved_pages;
	uint64_t min_free_pages;		/* low-water mark of free_pages since boot */
	uint64_t watermark_boost;
	int mobility;				/* migratetypes in use */
	struct mmb_zone_params zp;		/* batch/high as configured */
};
void mmb_buddy_info(struct mmb_buddy *b, struct mmb_buddy_info *r);

/*
 * The zone's free area kept at two moments, exactly (under the zone lock):
 * when free frames reached their low-water mark since boot (the zone's peak
 * use; order is 0), and at the first fragmentation failure (order is the
 * request's). taken = 0: that moment has not come.
 */
struct mmb_buddy_snapshot {
	int taken;
	unsigned order;
	uint64_t free_pages;
	uint64_t nr_free[MMB_NR_PAGE_ORDERS];
};
void mmb_buddy_snapshots(struct mmb_buddy *b, struct mmb_buddy_snapshot *r_min,
			 struct mmb_buddy_snapshot *r_first_frag);

/* For every allocator standing on zone b (buddy, slab, vmalloc): the
 * kernel's indices now, at the zone's peak use and at its first
 * fragmentation failure, and the fragmentation failures, into r_st. */
struct mmb_alloc_stats;
void mmb_buddy_zone_stats(struct mmb_buddy *b, struct mmb_alloc_stats *r_st);

/*
 * Sizing the zone to the work (the `free` option of buddy, slab and
 * vmalloc, beside `mem`): with free= given, the pmem bytes whose zone has
 * exactly that many bytes (rounded up to frames) free above its min
 * watermark after boot, i.e. what allocations can take before they fail
 * for lack of memory; else mem=. -EINVAL with a message naming who when
 * both are given, or when the zone free= asks for, its page descriptors
 * and frame 0 included, is under pmem's floor of MMB_ZONE_MIN_PFNS frames.
 */
#define MMB_ZONE_MIN_PFNS 1024ULL	/* pmem.c's floor */
struct mmb_pvals;
int mmb_buddy_zone_mem(const struct mmb_pvals *opts, const char *who, uint64_t *r_mem, char *err,
		       size_t errlen);

/* The calling thread's lists: 0 and the figures, or -ENOENT if not attached. */
struct mmb_buddy_pcp_info {
	unsigned count, high, batch, free_count, alloc_factor;
};
int mmb_buddy_pcp_info(struct mmb_buddy *b, struct mmb_buddy_pcp_info *r);

/* Write buddyinfo, pagetypeinfo, unusable_index, extfrag_index, memblock,
 * zoneinfo and counters into dir (which exists). 0 or -errno. */
int mmb_buddy_dump_state(struct mmb_buddy *b, const char *dir);

#endif /* MMB_BUDDY_H */

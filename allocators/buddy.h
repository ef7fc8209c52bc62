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

/* The calling thread's per-thread lists: set up / drained back to the zone. */
void mmb_buddy_thread_attach(struct mmb_buddy *b);
void mmb_buddy_thread_detach(struct mmb_buddy *b);

/* Frames handed out and not yet freed (for footprint figures). */
uint64_t mmb_buddy_used_pages(struct mmb_buddy *b);

/* Invariant check (buddy.c's file-top list): 0 or -EUCLEAN with err. */
int mmb_buddy_check(struct mmb_buddy *b, char *err, size_t errlen);

#endif /* MMB_BUDDY_H */

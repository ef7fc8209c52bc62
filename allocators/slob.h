/*
 * slob.h — SLOB, the kernel's "simple list of blocks" allocator for tiny
 * systems (mm/slob.c as of Linux 6.3, its last release before removal in
 * 6.4), on the buddy allocator (buddy.h). The registry entry `kmalloc-slob`
 * (the allocator contract on top: kmalloc / kfree / ksize) lives in slob.c.
 *
 * Every kmalloc of less than PAGE_SIZE - 8 bytes is a block carved first-fit
 * out of a partly used page, with an 8-byte header holding the size asked
 * for; larger requests are buddy pages. Pages with free space sit on one of
 * three lists by the size of the request that made them (< 256, < 1024,
 * the rest). One lock (the kernel's slob_lock) guards everything but the
 * large pages.
 */
#ifndef MMB_SLOB_H
#define MMB_SLOB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buddy.h"

#define MMB_SLOB_UNIT 2			/* sizeof(slob_t): s16 units on 4 KiB pages */
#define MMB_SLOB_UNITS(size) (((size) + MMB_SLOB_UNIT - 1) / MMB_SLOB_UNIT)
#define MMB_SLOB_BREAK1 256
#define MMB_SLOB_BREAK2 1024
#define MMB_SLOB_MINALIGN 8		/* ARCH_KMALLOC_MINALIGN: the kmalloc header */
#define MMB_SLOB_NR_LISTS 3		/* free_slob_small, _medium, _large */

struct mmb_slob;

/* 0 or -errno with err filled. */
int mmb_slob_create(struct mmb_buddy *b, struct mmb_slob **r_so, char *err, size_t errlen);
/* Frees every page back to the buddy allocator. No other thread inside. */
void mmb_slob_destroy(struct mmb_slob *so);

/*
 * kmalloc: align 0 is the kernel's (8, or the size for a power of two);
 * a larger align is honoured by slob_page_alloc's aligned placement, or by
 * whole pages where no place in a page can hold it (our extension: the
 * kernel's kmalloc takes no alignment). NULL when memory runs out;
 * MMB_SLOB_ZERO_SIZE_PTR for size 0.
 */
#define MMB_SLOB_ZERO_SIZE_PTR ((void *)16)
void *mmb_slob_kmalloc(struct mmb_slob *so, size_t size, size_t align);
void mmb_slob_kfree(struct mmb_slob *so, const void *p);
size_t mmb_slob_ksize(struct mmb_slob *so, const void *p);

struct mmb_slob_info {
	uint64_t pages[MMB_SLOB_NR_LISTS];	/* partly free pages on each list */
	uint64_t free_units[MMB_SLOB_NR_LISTS];	/* their free units: stranded space */
	uint64_t slob_pages;			/* pages carved into blocks (listed or full) */
	uint64_t large_pages;			/* frames of kmalloc >= PAGE_SIZE - 8 */
	uint64_t live_blocks;			/* small blocks allocated */
	uint64_t usable_bytes;			/* their ksize (SLOB_UNITS(size) * 2) */
	uint64_t allocs, frees, large_allocs, large_frees;
	uint64_t pages_scanned;			/* pages slob_page_alloc walked */
	uint64_t new_pages, freed_pages;	/* slob pages made / given back whole */
};
void mmb_slob_get_info(struct mmb_slob *so, struct mmb_slob_info *r_info);

/* slobinfo: the lists, stranded free units, counters (text). */
int mmb_slob_write_slobinfo(struct mmb_slob *so, FILE *f);

/*
 * Quiescent callers only: every slob page is tiled exactly by its free
 * blocks (in address order, inside the page) and header-prefixed allocated
 * blocks; the free units add up to the page's count; a page is on a list
 * iff it has free units, on exactly one; counts match. 0 or -EUCLEAN.
 */
int mmb_slob_check(struct mmb_slob *so, char *err, size_t errlen);

#endif /* MMB_SLOB_H */

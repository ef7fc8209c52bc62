/*
 * vmalloc.h — the kernel's vmalloc (mm/vmalloc.c) in user space: virtually
 * contiguous areas backed by order-0 frames of the buddy allocator (buddy.h),
 * mapped into one large PROT_NONE window.
 *
 *	window		one PROT_NONE, MAP_NORESERVE reservation (VMALLOC_START..END)
 *	area		[va_start, va_end): the pages, then one guard page that
 *			stays PROT_NONE (vm.size includes the guard, as in the kernel)
 *	lazy free	vfree() unmaps at once, but the range is reusable only after
 *			a purge, which runs when lazily freed pages pass
 *			lazy_max_pages (or on demand: mmb_vmalloc_purge)
 *	lost area	an area whose unmap failed (in vfree, vunmap, or unwinding
 *			a failed vmalloc or vmap): its range and frames, which
 *			it may still map, are never reused; destroy frees them
 *
 * The registry entry `vmalloc` (the allocator contract on top: every block is
 * one area) lives in vmalloc.c too; its options are window=, lazy=on|off,
 * lazy_max_pages= and mem= (the pmem behind its own buddy allocator).
 *
 * Thread-safe: every function may be called from several threads at once,
 * except check() and vmallocinfo(), which want no call in flight.
 */
#ifndef MMB_VMALLOC_H
#define MMB_VMALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buddy.h"

#define MMB_VMALLOC_NO_PFN UINT64_MAX	/* vmalloc_to_pfn of an address not mapped */

struct mmb_vmalloc;
struct mmb_kmemleak;

struct mmb_vmalloc_cfg {
	uint64_t window_bytes;		/* size of the window (rounded down to pages) */
	int lazy;			/* 1: lazy free and batched purge; 0: free at once */
	uint64_t lazy_max_pages;	/* purge threshold; 0 = the kernel's lazy_max_pages() */
};

/*
 * Counters, for stats and dump_state. Figures about "now" are a snapshot;
 * the others count since create.
 */
struct mmb_vmalloc_counters {
	uint64_t areas;			/* busy areas */
	uint64_t pages;			/* frames mapped in vmalloc'ed areas (NR_VMALLOC) */
	uint64_t used_bytes;		/* Σ busy area sizes without guards */
	uint64_t free_areas;		/* nodes of the free tree */
	uint64_t lazy_areas, lazy_pages;	/* unpurged areas, vmap_lazy_nr */
	uint64_t lost_areas;		/* areas whose unmap failed, kept for good */
	uint64_t lost_pages;		/* frames held by lost vmalloc'ed areas (not vmap's) */
	uint64_t allocs, frees;		/* areas created and freed (vmalloc, vmap, vfree, vunmap) */
	uint64_t failed_allocs;		/* NULL returns (bad input, no space, no frames, mmap) */
	uint64_t bad_frees;		/* vfree of an address that is no area's start */
	uint64_t mmap_calls;		/* mmap(2) calls: one per run mapped, one per area unmapped */
	uint64_t purges, purged_areas, purged_pages;	/* lazy purges ("TLB flushes") */
	uint64_t prefaulted_pages;	/* mapped with their PTEs installed (frames already in use once) */
	uint64_t lazy_max_pages;	/* the threshold in use */
	uint64_t map_count;		/* lines of /proc/self/maps now (MMB_STAT_NONE: unreadable);
					 * read on every call: not for hot paths */
	uint64_t max_map_count;		/* vm.max_map_count (MMB_STAT_NONE: unreadable) */
};

/*
 * Reserve the window and set up the trees. b is not owned (it must outlive
 * the vmalloc instance). Returns 0 or -errno with err filled.
 */
int mmb_vmalloc_create(const struct mmb_vmalloc_cfg *cfg, struct mmb_buddy *b,
		       struct mmb_vmalloc **r_vm, char *err, size_t errlen);
/*
 * Track every vmalloc'ed area in kml (kmemleak.h; not owned, NULL = off).
 * Call before the first allocation.
 */
void mmb_vmalloc_set_kmemleak(struct mmb_vmalloc *vm, struct mmb_kmemleak *kml);

/* Unmap every area, give every frame back, release the window. */
void mmb_vmalloc_destroy(struct mmb_vmalloc *vm);

/*
 * An area of size rounded up to pages (plus the guard page), aligned to align
 * (0 = a page; a power of two), or NULL (bad size or alignment, no virtual
 * space after a purge, no frames, or mmap failed: counted, and the reason is
 * kept for mmb_vmalloc_last_error). vzalloc zeroes the frames.
 */
void *mmb_vmalloc(struct mmb_vmalloc *vm, size_t size);
void *mmb_vzalloc(struct mmb_vmalloc *vm, size_t size);
void *mmb_vmalloc_align(struct mmb_vmalloc *vm, size_t size, size_t align);
/* Free an area of vmalloc (or vmap: its frames stay the caller's). NULL is ignored. */
void mmb_vfree(struct mmb_vmalloc *vm, const void *addr);

/* Map count frames (allocated by the caller, who keeps them) into a new area. */
void *mmb_vmap(struct mmb_vmalloc *vm, struct mmb_page **pages, unsigned count);
void mmb_vunmap(struct mmb_vmalloc *vm, const void *addr);

/* The frame behind addr (any byte of an area's pages), or NULL / MMB_VMALLOC_NO_PFN. */
struct mmb_page *mmb_vmalloc_to_page(struct mmb_vmalloc *vm, const void *addr);
uint64_t mmb_vmalloc_to_pfn(struct mmb_vmalloc *vm, const void *addr);
/* 1 if addr lies in the window. */
int mmb_is_vmalloc_addr(struct mmb_vmalloc *vm, const void *addr);
/* Usable bytes of the area starting at addr (size without the guard), or 0. */
size_t mmb_vmalloc_size(struct mmb_vmalloc *vm, const void *addr);

/* Purge every lazily freed area now; returns how many were purged. */
uint64_t mmb_vmalloc_purge(struct mmb_vmalloc *vm);

void mmb_vmalloc_counters(struct mmb_vmalloc *vm, struct mmb_vmalloc_counters *r_c);
/* The message of the last failure ("" if none). */
void mmb_vmalloc_last_error(struct mmb_vmalloc *vm, char *buf, size_t len);

/* /proc/vmallocinfo's format (raw addresses); a lost area's line is a busy
 * one's with the flag " lost" before N0=. Returns 0 or -errno. */
int mmb_vmallocinfo(struct mmb_vmalloc *vm, FILE *f);

/* Invariant check (vmalloc.c's file-top list): 0 or -EUCLEAN with err. */
int mmb_vmalloc_check(struct mmb_vmalloc *vm, char *err, size_t errlen);

#endif /* MMB_VMALLOC_H */

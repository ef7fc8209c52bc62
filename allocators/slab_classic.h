/*
 * slab_classic.h — SLAB, the kernel's original object allocator (mm/slab.c
 * as of Linux 6.7, its last release before removal in 6.8), on the buddy
 * allocator (buddy.h). The registry entry `kmalloc-slab` (the allocator
 * contract on top: kmalloc / kfree / ksize) lives in slab_classic.c.
 *
 * One struct mmb_slabc owns the caches carved from one buddy allocator: the
 * kmalloc caches of a SLAB kernel (KMALLOC_SHIFT_LOW 5: kmalloc-32 ..
 * kmalloc-8k with 96 and 192) and any cache made with
 * mmb_slabc_cache_create(). Requests above 8 KiB go to the buddy allocator
 * directly (6.1's "pass requests larger than order-1 page to page
 * allocator", which SLAB kept to the end).
 *
 * Threads play the kernel's CPUs: each thread that calls in gets a slot
 * (held until mmb_slabc_thread_detach) with its own array_cache per cache.
 * Any thread may free any object (into its own array, as SLAB does on one
 * node). There is one node: no alien caches.
 */
#ifndef MMB_SLAB_CLASSIC_H
#define MMB_SLAB_CLASSIC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buddy.h"

#define MMB_SLABC_MAX_CPUS 256		/* thread slots per instance */
#define MMB_SLABC_KMALLOC_MAX 8192	/* larger: buddy pages */
#define MMB_SLABC_KMALLOC_MIN 32	/* KMALLOC_MIN_SIZE with SLAB */

struct mmb_slabc;
struct mmb_slabc_cache;

struct mmb_slabc_cfg {
	struct mmb_buddy *buddy;	/* pages come from here (not owned) */
	unsigned nr_cpus;		/* "online CPUs": shared arrays, free_limit (>= 1) */
	int max_order;			/* slab_max_order; -1 = the kernel's rule (1 above
					 * 32 MiB of memory, else 0) */
	uint64_t reap_ops;		/* a thread runs cache_reap every this many of its
					 * calls (the kernel: every 2 s); 0 = never */
	int limit, batchcount, shared;	/* kmalloc caches' tunables; -1 = enable_cpucache */
};

/* 0 or -errno with err filled (-EINVAL: a bad cfg, tunables as slabinfo_write). */
int mmb_slabc_create(const struct mmb_slabc_cfg *cfg, struct mmb_slabc **r_sc, char *err,
		     size_t errlen);
/* Frees every page back to the buddy allocator. No other thread inside. */
void mmb_slabc_destroy(struct mmb_slabc *sc);

void mmb_slabc_thread_attach(struct mmb_slabc *sc);
/* The thread's arrays go back to the slabs (free_block), its slot is free. */
void mmb_slabc_thread_detach(struct mmb_slabc *sc);

/*
 * kmem_cache_create: size 1..8192 (rounded up to 8), align 0 or a power of
 * two <= 4096, ctor called on every object when its slab is made (and so
 * rules out OBJFREELIST_SLAB, as in the kernel). Tunables by enable_cpucache.
 */
int mmb_slabc_cache_create(struct mmb_slabc *sc, const char *name, unsigned size, unsigned align,
			   void (*ctor)(void *obj), struct mmb_slabc_cache **r_s, char *err,
			   size_t errlen);
void *mmb_slabc_cache_alloc(struct mmb_slabc_cache *s);
void mmb_slabc_cache_free(struct mmb_slabc_cache *s, void *obj);

void *mmb_slabc_kmalloc(struct mmb_slabc *sc, size_t size);
void mmb_slabc_kfree(struct mmb_slabc *sc, const void *p);
size_t mmb_slabc_ksize(struct mmb_slabc *sc, const void *p);
/* The cache kmalloc(size) uses; NULL for 0 or > MMB_SLABC_KMALLOC_MAX. */
struct mmb_slabc_cache *mmb_slabc_kmalloc_cache(struct mmb_slabc *sc, size_t size);

/* cache_reap for the calling thread's slot, now (what reap_ops triggers). */
void mmb_slabc_reap(struct mmb_slabc *sc);

enum mmb_slabc_mgmt {
	MMB_SLABC_ON_SLAB,		/* freelist index array at the slab's end */
	MMB_SLABC_OFF_SLAB,		/* ... in an object of a kmalloc cache */
	MMB_SLABC_OBJFREELIST,		/* ... in the free object handed out last */
};

struct mmb_slabc_cache_info {
	const char *name;
	unsigned object_size, size, align;	/* asked, stride, alignment */
	unsigned gfporder, num;			/* slab order, objects per slab */
	unsigned colour, colour_off;		/* colours (offsets 0..colour-1), step */
	enum mmb_slabc_mgmt mgmt;
	unsigned limit, batchcount, shared;	/* tunables */
	unsigned long free_limit;		/* node: free objects kept before slabs go */
	/* node state now */
	unsigned long total_slabs, free_slabs, partial_slabs, full_slabs, free_objects;
	unsigned shared_avail;
	uint64_t grown, reaped;			/* slabs made, slabs reaped by drain_freelist */
};
void mmb_slabc_cache_get_info(struct mmb_slabc_cache *s, struct mmb_slabc_cache_info *r_info);

/* The kernel's SLAB /proc/slabinfo (version 2.1, with the STATS columns). */
int mmb_slabc_write_slabinfo(struct mmb_slabc *sc, FILE *f);

/*
 * Quiescent callers only: per slab, active objects + free indexes == num,
 * the free indexes distinct and < num, the freelist where its placement
 * puts it, the colour offset a multiple of colour_off below the colours;
 * the slab on the list its active count says; the node's counts; every
 * object in an array_cache (a slot's or the shared one) taken from its slab
 * and in no other array; arrays within their limits. 0 or -EUCLEAN.
 */
int mmb_slabc_check(struct mmb_slabc *sc, char *err, size_t errlen);

#endif /* MMB_SLAB_CLASSIC_H */

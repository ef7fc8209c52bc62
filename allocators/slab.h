/*
 * slab.h — the SLUB-style object allocator's kernel-style API (mm/slub.c,
 * mm/slab_common.c), built on the buddy allocator (buddy.h). The registry
 * entry `slab` (the allocator contract on top: kmalloc) lives in slab.c too.
 *
 * One struct mmb_slab owns the caches carved from one buddy allocator: the
 * kmalloc caches (kmalloc-8 .. kmalloc-8k, with 96 and 192) and any cache
 * made with mmb_kmem_cache_create(). Requests above 8 KiB go to the buddy
 * allocator directly.
 *
 * Threads play the kernel's CPUs: each thread that calls in gets a slot
 * (its "CPU", held until mmb_slab_thread_detach) with its own active slab
 * and partial list per cache. Any thread may free any object.
 *
 * Bad input and corruption: sizes and flags are checked at create time
 * (-EINVAL with a message). With debug flags on a cache (F Z P U, as the
 * kernel's slub_debug letters) double frees, foreign pointers, writes past
 * the object and writes to freed objects are reported in the kernel's
 * "BUG <cache> (...): <what>" format to the report stream, counted, and the
 * object is quarantined. With debug off they are undefined, as in the
 * kernel.
 */
#ifndef MMB_SLAB_H
#define MMB_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buddy.h"

/* kmem_cache_create() flags: the slub_debug letters, and alignment. */
#define MMB_SLAB_CONSISTENCY_CHECKS (1u << 0)	/* F */
#define MMB_SLAB_RED_ZONE (1u << 1)		/* Z */
#define MMB_SLAB_POISON (1u << 2)		/* P */
#define MMB_SLAB_STORE_USER (1u << 3)		/* U */
#define MMB_SLAB_HWCACHE_ALIGN (1u << 4)	/* align objects to a cache line */
#define MMB_SLAB_DEBUG_FLAGS                                                                   \
	(MMB_SLAB_CONSISTENCY_CHECKS | MMB_SLAB_RED_ZONE | MMB_SLAB_POISON | MMB_SLAB_STORE_USER)

#define MMB_KMALLOC_MAX_CACHE_SIZE 8192		/* 2 * PAGE_SIZE; larger: buddy pages */
#define MMB_ZERO_SIZE_PTR ((void *)16)		/* kmalloc(0) */
#define MMB_SLAB_MAX_CPUS 256			/* thread slots per instance */

/* Debug byte patterns (include/linux/poison.h). */
#define MMB_SLUB_RED_INACTIVE 0xbb
#define MMB_SLUB_RED_ACTIVE 0xcc
#define MMB_POISON_INUSE 0x5a
#define MMB_POISON_FREE 0x6b
#define MMB_POISON_END 0xa5

struct mmb_slab;
struct mmb_kmem_cache;
struct mmb_kmemleak;
struct mmb_kfence;

struct mmb_slab_cfg {
	struct mmb_buddy *buddy;	/* pages come from here (not owned) */
	unsigned nr_cpus;		/* "present CPUs" for the order rule (>= 1) */
	unsigned min_objects;		/* slub_min_objects; 0 = 4 * (fls(nr_cpus) + 1) */
	unsigned min_order, max_order;	/* slub_min_order (0), slub_max_order (3) */
	int cpu_partial;		/* objects; -1 = the kernel's rule by size */
	int min_partial;		/* slabs; -1 = clamp(ilog2(size) / 2, 5, 10) */
	int harden;			/* CONFIG_SLAB_FREELIST_HARDENED */
	int sheaf_capacity;		/* 6.18 per-CPU sheaves for every non-debug
					 * cache, objects; 0 = off (the classic cpu
					 * slab); -1 = calculate_sheaf_capacity()'s
					 * rule by size (4, 12, 28 or 60) */
	const char *debug;		/* slub_debug string (see mmb_slab_parse_debug), NULL = off */
	FILE *report;			/* where BUG reports go; NULL = stderr */
	struct mmb_kmemleak *kmemleak;	/* tracks every object (kmemleak.h); NULL = off */
	struct mmb_kfence *kfence;	/* serves sampled allocations (kfence.h); NULL = off */
};

/*
 * The slub_debug string, with ':' where the kernel has ',': blocks
 * "LETTERS[:cache[:cache...]]" separated by ';'. Letters F Z P U (either
 * case), '-' for none; a block without letters but with caches means FZPU;
 * a cache name may end in '*' (prefix match). "FZPU" = all caches.
 * Returns 0 or -EINVAL with err naming the bad letter.
 */
int mmb_slab_parse_debug(const char *s, char *err, size_t errlen);

/* Creates the kmalloc caches. 0 or -errno with err filled. */
int mmb_slab_create(const struct mmb_slab_cfg *cfg, struct mmb_slab **r_sl, char *err,
		    size_t errlen);
/* Destroys every cache (reporting objects still allocated) and frees pages
 * back to the buddy allocator. No other thread may be inside the allocator. */
void mmb_slab_destroy(struct mmb_slab *sl);

void mmb_slab_thread_attach(struct mmb_slab *sl);
/* Flushes the thread's active and partial slabs to the caches. */
void mmb_slab_thread_detach(struct mmb_slab *sl);

/*
 * kmem_cache_create: size 1..8192, align 0 or a power of two <= 4096, flags
 * MMB_SLAB_*, ctor called on every object when its slab is made (may be
 * NULL). Debug flags from cfg->debug are added where the name matches.
 */
int mmb_kmem_cache_create(struct mmb_slab *sl, const char *name, unsigned size, unsigned align,
			  unsigned flags, void (*ctor)(void *obj), struct mmb_kmem_cache **r_s,
			  char *err, size_t errlen);
/* Returns the number of objects still allocated (0 = clean); each is
 * reported, as the kernel's __kmem_cache_shutdown(). The cache is gone. */
unsigned long mmb_kmem_cache_destroy(struct mmb_kmem_cache *s);
/* Flushes the calling thread's slabs of s and frees every empty slab;
 * returns the number of slabs given back. */
unsigned long mmb_kmem_cache_shrink(struct mmb_kmem_cache *s);

void *mmb_kmem_cache_alloc(struct mmb_kmem_cache *s);
void mmb_kmem_cache_free(struct mmb_kmem_cache *s, void *obj);

void *mmb_kmalloc(struct mmb_slab *sl, size_t size);
void mmb_kfree(struct mmb_slab *sl, const void *p);
size_t mmb_ksize(struct mmb_slab *sl, const void *p);
/*
 * ksize() for a caller that may use the whole object (the shim's
 * malloc_usable_size): as the kernel's __ksize, a debug cache's kmalloc red
 * zone check of p no longer starts at the size first asked for
 * (skip_orig_size_check), so writing up to the returned size is no overrun.
 */
size_t mmb_ksize_claim(struct mmb_slab *sl, const void *p);
/*
 * kmalloc and kfree for the malloc shim (preload/malloc.c), with the
 * thread's sheaf fast path inline. mmb_kmalloc_usable: size 1..
 * MMB_KMALLOC_MAX_CACHE_SIZE; the object and its ksize (0 with NULL).
 * mmb_kfree_usable: frees p and returns its ksize when p is a kmalloc or
 * kmem_cache object of sl (or a large kmalloc block); 0 and nothing done
 * for any other pointer.
 */
struct mmb_kmalloc_usable {
	void *p;
	size_t usable;
};
struct mmb_kmalloc_usable mmb_kmalloc_usable(struct mmb_slab *sl, size_t size);
size_t mmb_kfree_usable(struct mmb_slab *sl, void *p);
/* The sheaf pop or push alone: { NULL, 0 } / 0 and nothing done where
 * mmb_kmalloc_usable / mmb_kfree_usable would take any other way (the
 * thread has no slot in sl, a detector hooks its calls, the main sheaf is
 * empty or full, p is not a slab object). */
struct mmb_kmalloc_usable mmb_kmalloc_sheaf(struct mmb_slab *sl, size_t size);
size_t mmb_kfree_sheaf(struct mmb_slab *sl, void *p);
/* The cache kmalloc(size) uses; NULL for 0 or > MMB_KMALLOC_MAX_CACHE_SIZE. */
struct mmb_kmem_cache *mmb_kmalloc_cache(struct mmb_slab *sl, size_t size);

struct mmb_kmem_cache_info {
	const char *name;
	unsigned object_size;		/* what was asked for */
	unsigned size;			/* stride with metadata (slabinfo <objsize>) */
	unsigned align, offset, inuse, red_left_pad;
	unsigned order, objects;	/* preferred slab order and objects per slab */
	unsigned min_order, min_objects;	/* fallback */
	unsigned min_partial, cpu_partial, cpu_partial_slabs;
	unsigned sheaf_capacity;
	unsigned flags;			/* MMB_SLAB_* in effect */
};
void mmb_kmem_cache_get_info(const struct mmb_kmem_cache *s, struct mmb_kmem_cache_info *r_info);

/* BUG reports written so far (all caches). */
unsigned long mmb_slab_nr_reports(const struct mmb_slab *sl);

/* The kernel's /proc/slabinfo for every cache, newest cache first. */
int mmb_slab_write_slabinfo(struct mmb_slab *sl, FILE *f);

/* slabstats: per cache, the layout, live objects, requested and usable
 * bytes and internal fragmentation ("-" for requested bytes and
 * internal_frag once any free came without its size: kfree, the malloc
 * shim), and the SLUB_STATS counters. */
int mmb_slab_write_stats(struct mmb_slab *sl, FILE *f);

/* The kmalloc caches as size classes (allocator.h), by object size: live
 * objects are the callers' (allocated, not freed; objects parked on
 * per-thread slabs and sheaves count as free), capacity the objects of all
 * the cache's slabs, pages their frames. Returns how many (<= max). */
struct mmb_size_class;
int mmb_slab_size_classes(struct mmb_slab *sl, struct mmb_size_class *r, int max);

/*
 * Walks every slab of every cache (quiescent callers only): per slab,
 * inuse + free objects == objects, every free pointer inside the slab and
 * on an object boundary, no object on two freelists, list membership as in
 * the file-top invariants, and for debug caches the red zones and poison
 * of every object (the kernel's validate). 0 or -EUCLEAN with err.
 */
int mmb_slab_check(struct mmb_slab *sl, char *err, size_t errlen);

#endif /* MMB_SLAB_H */

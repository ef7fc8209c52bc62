/*
 * allocator.h — the allocator contract. The only allocator header workloads see.
 *
 * Every allocator in allocators/ fills one `const struct mmb_alloc_ops` with
 * designated initializers and is listed once in allocators/registry.c.
 * Adding an allocator = one file + one registry line + its tests; the
 * contract test (tests/allocators/test_contract.c) runs every registered
 * allocator through the same checks without new test code.
 *
 * Glossary (use these words exactly):
 *   block	what alloc() returns: size bytes usable, aligned to align.
 *   frame	a 4 KiB unit of simulated physical memory (pfn = offset / 4096).
 *   order	a buddy block of 2^order frames.
 *   slab	a run of frames carved into equal objects.
 *   config	an allocator with its options, "NAME:key=value,key=value"; each
 *		distinct config is its own row in the results.
 *   live bytes	bytes requested and not yet freed (tracked by the harness).
 *   footprint	bytes of memory the allocator holds from the system; the
 *		harness measures it one way for all (harness/footprint.h);
 *		stats() reports the allocator's own figure (frames out of the
 *		zone, bytes mapped from the OS, its resident count).
 *
 * Contract (checked by the contract test):
 *   - create(cfg, r_a, err): 0, or -errno with a one-line message in err
 *     (never prints, never exits). -EINVAL for a bad config, -ENOMEM when
 *     memory cannot be had, -ENOTSUP when the machine lacks what it needs.
 *   - alloc(a, size, align): size >= 1; align is 0 or a power of two <= 4096.
 *     The block is aligned to align, and always to min(8, size rounded up to
 *     a power of two) (the kernel's ARCH_KMALLOC_MINALIGN). Returns NULL on
 *     failure, never aborts.
 *   - free(a, p, size): p came from alloc on the same instance and size is
 *     the size asked for (sized free; an allocator may ignore it), or 0:
 *     unsized, the caller does not know the size (C's free(p); replay frees
 *     so by default, as the recorded program did). Every allocator must
 *     handle 0 as its library's unsized free does (kfree's way through the
 *     page descriptor, dallocx instead of sdallocx), with its own counters
 *     right. p != NULL.
 *   - alloc and free may be called from several threads at once. A worker
 *     thread calls thread_attach once before its first call and
 *     thread_detach after its last (both optional: per-thread caches live
 *     there). A block may be freed by a thread other than its allocator.
 *   - usable_size(a, p) >= the size asked for, the same from the alloc to
 *     the free of the block (the harness's exact accounting calls it at
 *     both and sums usable - size over live blocks for internal_frag).
 *   - stats() may run concurrently with alloc/free (from the sampler); its
 *     figures are then approximate. Fields it cannot fill stay at their
 *     MMB_STAT_NONE / NaN initial values, which the results show as empty.
 *   - check(a) walks all metadata and returns 0, or -EUCLEAN with a message
 *     in err naming the broken invariant. Slow; only tests and --check call it.
 *   - validate(cfg, err) (optional) checks a parsed config beyond its option
 *     table (a library is installed, a path is a malloc library) without
 *     side effects; mmbench calls it before any cell runs. 0 or -errno with
 *     a one-line message in err.
 *   - exec_env(cfg) runs in the child between fork and exec: set environment
 *     (LD_PRELOAD, MALLOC_CONF, ...) the cell's process must start with.
 *   - dump_state(a, dir) writes the allocator's state files (buddyinfo, ...)
 *     into dir; returns 0 or -errno.
 *   - size_classes(a, r, max) (optional; NULL = the allocator has no size
 *     classes, or cannot report them) fills up to max classes in ascending
 *     class_bytes and returns how many, or -errno. Like stats(), it may run
 *     concurrently with alloc/free; its figures are then approximate.
 */
#ifndef MMB_ALLOCATOR_H
#define MMB_ALLOCATOR_H

#include <stddef.h>
#include <stdint.h>

#include "param.h"

struct mmb_alloc;			/* opaque, owned by the implementation */

#define MMB_NR_ORDERS 11		/* orders 0..10, as the kernel's NR_PAGE_ORDERS */
#define MMB_STAT_NONE UINT64_MAX	/* "not measured" for integer stats */
#define MMB_ERR_MAX 256			/* size of error message buffers */

struct mmb_alloc_cfg {
	const char *name;		/* registry name */
	struct mmb_pvals opts;		/* parsed against ops->opts */
	unsigned nthreads;		/* worker threads the cell will run */
};

/*
 * Filled by ->stats(). The harness initializes every integer to
 * MMB_STAT_NONE and every double to NaN before the call.
 */
struct mmb_alloc_stats {
	uint64_t footprint_bytes;	/* held from the system now */
	uint64_t footprint_peak_bytes;	/* the allocator's own high-water mark, if it
					 * keeps one (exact where sampling may miss) */
	uint64_t usable_bytes;		/* the allocator's own count of usable bytes of
					 * live blocks (tests; internal_frag comes from
					 * usable_size, probe.h) */
	uint64_t allocs, frees;		/* calls served */
	uint64_t failed_allocs;		/* alloc() calls that returned NULL */
	/* Allocators with free lists by order (buddy): the kernel's indices
	 * (mm/vmstat.c) divided by 1000, at orders 0..10. */
	double unusable_index[MMB_NR_ORDERS];
	double extfrag_index[MMB_NR_ORDERS];
	/* Allocators on the buddy zone (buddy, slab, vmalloc): page
	 * allocations that failed although the zone had the free frames for
	 * them (fragmentation failures, a subset of the zone's failures), and
	 * the indices at the zone's peak use (its fewest free frames) and at
	 * the first fragmentation failure (its order and free frames). */
	uint64_t frag_failed_allocs;
	double zone_peak_unusable_index[MMB_NR_ORDERS];
	double zone_peak_extfrag_index[MMB_NR_ORDERS];
	double frag_fail_unusable_index[MMB_NR_ORDERS];
	double frag_fail_extfrag_index[MMB_NR_ORDERS];
	uint64_t frag_fail_order, frag_fail_free_pages;
	/* Production allocators: realpath of the library whose code served
	 * the blocks, found with dladdr on the entry point the adapter calls. */
	const char *malloc_provider;
	/* Detectors (kmemleak.h, kfence.h), when the config turns them on:
	 * objects reported as leaks, and corruptions caught (KFENCE reports,
	 * slub_debug BUG reports). */
	uint64_t leaks_found;
	uint64_t corruptions_caught;
};

/* One size class (size_classes()): capacity_objects slots of class_bytes
 * in pages frames, live_objects of them handed out. */
struct mmb_size_class {
	uint64_t class_bytes, live_objects, capacity_objects, pages;
};

struct mmb_alloc_ops {
	const char *name;		/* CLI and CSV key: "buddy" */
	const char *desc;		/* one line for `mmbench list` */
	const struct mmb_param *opts;	/* accepted config options; NULL = none */
	int hidden;			/* test-only: not listed, not in default suites */

	/* 0 if usable here; else -errno and *why says why (static string). */
	int (*supported)(const char **why);
	int (*validate)(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen);
	void (*exec_env)(const struct mmb_alloc_cfg *cfg);

	int (*create)(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
		      size_t errlen);
	void (*destroy)(struct mmb_alloc *a);
	void (*thread_attach)(struct mmb_alloc *a);
	void (*thread_detach)(struct mmb_alloc *a);

	void *(*alloc)(struct mmb_alloc *a, size_t size, size_t align);
	void (*free)(struct mmb_alloc *a, void *p, size_t size);
	size_t (*usable_size)(struct mmb_alloc *a, const void *p);

	void (*stats)(struct mmb_alloc *a, struct mmb_alloc_stats *r_st);
	int (*check)(struct mmb_alloc *a, char *err, size_t errlen);
	int (*dump_state)(struct mmb_alloc *a, const char *dir);
	int (*size_classes)(struct mmb_alloc *a, struct mmb_size_class *r, int max);
};

/* Reset every field of st to "not measured". */
void mmb_alloc_stats_init(struct mmb_alloc_stats *st);

/* The registry (allocators/registry.c). */
extern const struct mmb_alloc_ops *const mmb_allocators[];
extern const size_t mmb_nallocators;
const struct mmb_alloc_ops *mmb_alloc_find(const char *name);	/* NULL if unknown */

/*
 * Parse "NAME" or "NAME:k=v,..." into ops + cfg (cfg->nthreads left 0).
 * Returns 0, or -ENOENT (unknown name, err lists the valid ones) or -EINVAL
 * (bad option, err names it).
 */
int mmb_alloc_parse_config(const char *spec, const struct mmb_alloc_ops **r_ops,
			   struct mmb_alloc_cfg *r_cfg, char *err, size_t errlen);

#endif /* MMB_ALLOCATOR_H */

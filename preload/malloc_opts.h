/*
 * malloc_opts.h — the options of the malloc shim (preload/malloc.c), shared
 * with `mmbench exec` (harness/exec.c), which checks them before the
 * command starts and hands them over in MMB_MALLOC_OPTS.
 */
#ifndef MMB_MALLOC_OPTS_H
#define MMB_MALLOC_OPTS_H

#include "../allocators/param.h"

#define MMB_MALLOC_KMALLOC_MAX 8192		/* MMB_KMALLOC_MAX_CACHE_SIZE */
#define MMB_MALLOC_BUDDY_MAX (4ULL << 20)	/* the largest buddy block (order 10) */

static const struct mmb_param mmb_malloc_opts[] = {
	{ "mem", MMB_P_SIZE, "2G", 16 << 20, 64ULL << 30, NULL,
	  "simulated physical memory behind the buddy allocator, bytes (only touched frames use memory)" },
	{ "pcp", MMB_P_BOOL, "on", 0, 0, NULL, "buddy per-thread page lists" },
	{ "cpus", MMB_P_U64, "0", 0, 256, NULL, "CPUs for the slab order rule (0 = online CPUs)" },
	{ "debug", MMB_P_STR, "", 0, 0, NULL,
	  "slub_debug letters F Z P U, or blocks LETTERS:cache:cache;... (':' for the kernel's ',')" },
	{ "harden", MMB_P_BOOL, "off", 0, 0, NULL, "slab freelist pointer hardening" },
	{ "kmalloc_max", MMB_P_SIZE, "8K", 16, MMB_MALLOC_KMALLOC_MAX, NULL,
	  "largest request kmalloc serves, bytes; larger ones get buddy pages" },
	{ "vmalloc_min", MMB_P_SIZE, "4M", 4096, (double)MMB_MALLOC_BUDDY_MAX, NULL,
	  "smallest request vmalloc serves, bytes (> kmalloc_max; at most 4M, the largest buddy block)" },
	{ "window", MMB_P_SIZE, "64G", 1 << 20, 1ULL << 45, NULL, "vmalloc window, bytes of address space" },
	{ "lazy", MMB_P_BOOL, "on", 0, 0, NULL, "vmalloc lazy free with batched purges" },
	{ 0 },
};

#endif /* MMB_MALLOC_OPTS_H */

/*
 * malloc_opts.h — the allocators of the malloc shim (preload/malloc.c) and
 * their options, shared with `mmbench exec` (harness/exec.c), which checks
 * them before the command starts and hands them over in the environment:
 * MMB_MALLOC_ALLOC (the allocator's name; unset = slab) and
 * MMB_MALLOC_OPTS ("k=v,..." of that allocator's table).
 *
 *	slab	kmalloc up to kmalloc_max, buddy blocks up to vmalloc_min,
 *		vmalloc above (the kernel's own split)
 *	buddy	every request a buddy block of 2^order frames; a request
 *		above the largest block (4 MiB) cannot be one and is a
 *		vmalloc area
 *	vmalloc	every request a vmalloc area (pages and a guard page each)
 */
#ifndef MMB_MALLOC_OPTS_H
#define MMB_MALLOC_OPTS_H

#include <stdlib.h>
#include <string.h>

#include "../allocators/param.h"

#define MMB_MALLOC_KMALLOC_MAX 8192		/* MMB_KMALLOC_MAX_CACHE_SIZE */
#define MMB_MALLOC_BUDDY_MAX (4ULL << 20)	/* the largest buddy block (order 10) */

#define MMB_MALLOC_OPT_MEM                                                                     \
	{ "mem", MMB_P_SIZE, "2G", 16 << 20, 64ULL << 30, NULL,                                \
	  "simulated physical memory behind the buddy allocator, bytes (only touched frames use memory)" }
#define MMB_MALLOC_OPT_PCP { "pcp", MMB_P_BOOL, "on", 0, 0, NULL, "buddy per-thread page lists" }
#define MMB_MALLOC_OPT_WINDOW                                                                  \
	{ "window", MMB_P_SIZE, "64G", 1 << 20, 1ULL << 45, NULL, "vmalloc window, bytes of address space" }
#define MMB_MALLOC_OPT_LAZY                                                                    \
	{ "lazy", MMB_P_BOOL, "on", 0, 0, NULL, "vmalloc lazy free with batched purges" }
#define MMB_MALLOC_OPT_CHECK                                                                   \
	{ "check", MMB_P_BOOL, "off", 0, 0, NULL,                                              \
	  "at exit, the allocators' invariant checks, other threads held out (malloc.json \"check\")" }

static const struct mmb_param mmb_malloc_opts[] = {
	MMB_MALLOC_OPT_MEM,
	MMB_MALLOC_OPT_PCP,
	{ "cpus", MMB_P_U64, "0", 0, 256, NULL, "CPUs for the slab order rule (0 = online CPUs)" },
	{ "debug", MMB_P_STR, "", 0, 0, NULL,
	  "slub_debug letters F Z P U, or blocks LETTERS:cache:cache;... (':' for the kernel's ',')" },
	{ "harden", MMB_P_BOOL, "off", 0, 0, NULL, "slab freelist pointer hardening" },
	{ "kmalloc_max", MMB_P_SIZE, "8K", 16, MMB_MALLOC_KMALLOC_MAX, NULL,
	  "largest request kmalloc serves, bytes; larger ones get buddy pages" },
	{ "vmalloc_min", MMB_P_SIZE, "4M", 4096, (double)MMB_MALLOC_BUDDY_MAX, NULL,
	  "smallest request vmalloc serves, bytes (> kmalloc_max; at most 4M, the largest buddy block)" },
	MMB_MALLOC_OPT_WINDOW,
	MMB_MALLOC_OPT_LAZY,
	{ "sheaf", MMB_P_STR, "auto", 0, 0, NULL,
	  "sheaf capacity, objects 0..1024 (6.18 per-thread object arrays; auto = the kernel's "
	  "rule by size, 4..60; 0 = off, classic SLUB)" },
	MMB_MALLOC_OPT_CHECK,
	{ 0 },
};

static const struct mmb_param mmb_malloc_buddy_opts[] = {
	MMB_MALLOC_OPT_MEM,
	MMB_MALLOC_OPT_PCP,
	MMB_MALLOC_OPT_WINDOW,
	MMB_MALLOC_OPT_LAZY,
	MMB_MALLOC_OPT_CHECK,
	{ 0 },
};

static const struct mmb_param mmb_malloc_vmalloc_opts[] = {
	MMB_MALLOC_OPT_MEM,
	MMB_MALLOC_OPT_PCP,
	MMB_MALLOC_OPT_WINDOW,
	MMB_MALLOC_OPT_LAZY,
	MMB_MALLOC_OPT_CHECK,
	{ 0 },
};

enum mmb_malloc_alloc { MMB_MALLOC_SLAB, MMB_MALLOC_BUDDY, MMB_MALLOC_VMALLOC, MMB_MALLOC_NR };

static const struct {
	const char *name;
	const struct mmb_param *opts;
	const char *desc;
} mmb_malloc_allocs[MMB_MALLOC_NR] = {
	{ "slab", mmb_malloc_opts, "kmalloc + buddy blocks + vmalloc, split by size" },
	{ "buddy", mmb_malloc_buddy_opts,
	  "every request a buddy block of 2^order frames (above 4M: vmalloc)" },
	{ "vmalloc", mmb_malloc_vmalloc_opts, "every request a vmalloc area" },
};

/* slab's sheaf= value: the capacity 0..1024, -1 for auto, -2 if neither. */
static inline int mmb_malloc_sheaf(const char *s)
{
	char *end;
	unsigned long v;

	if (!strcmp(s, "auto"))
		return -1;
	if (*s < '0' || *s > '9')
		return -2;
	v = strtoul(s, &end, 10);
	return *end || v > 1024 ? -2 : (int)v;
}

/* The allocator called name (n bytes of it), or -1. */
static inline int mmb_malloc_alloc_find(const char *name, size_t n)
{
	for (int i = 0; i < MMB_MALLOC_NR; i++)
		if (strlen(mmb_malloc_allocs[i].name) == n && !strncmp(mmb_malloc_allocs[i].name, name, n))
			return i;
	return -1;
}

#endif /* MMB_MALLOC_OPTS_H */

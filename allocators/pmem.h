/*
 * pmem.h — simulated physical memory: a memfd is "RAM", mapped once
 * MAP_SHARED as the direct map, described frame by frame by an array of page
 * descriptors (the kernel's struct page / vmemmap).
 *
 *	pfn		frame number = offset in the memfd / MMB_PAGE_SIZE
 *	direct map	dmap + pfn * MMB_PAGE_SIZE is the frame's address
 *	struct mmb_page	one per frame, in a separate anonymous array
 *
 * Only touched frames use memory (the memfd is sparse). The direct map is an
 * instrumented region named "pmem" (os.h), so first touches can be counted.
 *
 * Ownership of the descriptor fields: flags, order, migratetype, refcount and
 * the list links belong to the buddy allocator while a frame is free; while a
 * frame is allocated, `owner` and `priv[]` belong to whoever allocated it
 * (the slab allocator keeps its struct slab fields there, vmalloc its area).
 *
 * This header is the interface slab.c and vmalloc.c build on; it may grow,
 * but names and meanings here do not change without updating them.
 */
#ifndef MMB_PMEM_H
#define MMB_PMEM_H

#include <stddef.h>
#include <stdint.h>

#define MMB_PAGE_SHIFT 12
#define MMB_PAGE_SIZE (1UL << MMB_PAGE_SHIFT)

/* Page flags (struct mmb_page.flags). */
#define MMB_PG_BUDDY (1u << 0)	/* head of a free buddy block; order is valid */
#define MMB_PG_RESERVED (1u << 1)	/* memblock-reserved, never given to buddy */
#define MMB_PG_SLAB (1u << 2)	/* head frame of a slab */
#define MMB_PG_HEAD (1u << 3)	/* head of an allocated block of order > 0 */
#define MMB_PG_TAIL (1u << 4)	/* tail frame of an allocated block; head = priv-free lookup */
#define MMB_PG_VMALLOC (1u << 5)	/* mapped into a vmalloc area */
#define MMB_PG_PCP (1u << 6)	/* sitting on a per-thread page list */

struct mmb_page {
	uint32_t flags;
	uint8_t order;			/* block order (free: MMB_PG_BUDDY; allocated: head) */
	uint8_t migratetype;
	uint16_t pad;
	int32_t refcount;
	uint32_t next, prev;		/* list links as pfns (free lists, pcp lists) */
	uint32_t head_pfn;		/* for MMB_PG_TAIL: the block's head */
	void *owner;			/* allocated: owner object (kmem_cache, vm area) */
	uint64_t priv[4];		/* allocated: owner's private fields */
};

struct mmb_pmem {
	int fd;				/* the memfd */
	char *dmap;			/* direct map of the whole memfd */
	uint64_t nr_pfns;
	uint64_t bytes;			/* nr_pfns * MMB_PAGE_SIZE */
	struct mmb_page *pages;		/* nr_pfns descriptors */
};

/*
 * Create pmem of bytes (rounded down to whole frames; at least 1024 frames).
 * Returns 0 or -errno with err filled (-EINVAL too small/too large, -ENOMEM,
 * or the memfd/mmap error).
 */
int mmb_pmem_create(uint64_t bytes, struct mmb_pmem **r_pm, char *err, size_t errlen);
void mmb_pmem_destroy(struct mmb_pmem *pm);

static inline void *mmb_pfn_to_virt(const struct mmb_pmem *pm, uint64_t pfn)
{
	return pm->dmap + (pfn << MMB_PAGE_SHIFT);
}

static inline uint64_t mmb_virt_to_pfn(const struct mmb_pmem *pm, const void *addr)
{
	return (uint64_t)((const char *)addr - pm->dmap) >> MMB_PAGE_SHIFT;
}

static inline struct mmb_page *mmb_pfn_to_page(const struct mmb_pmem *pm, uint64_t pfn)
{
	return &pm->pages[pfn];
}

static inline uint64_t mmb_page_to_pfn(const struct mmb_pmem *pm, const struct mmb_page *page)
{
	return (uint64_t)(page - pm->pages);
}

static inline void *mmb_page_address(const struct mmb_pmem *pm, const struct mmb_page *page)
{
	return mmb_pfn_to_virt(pm, mmb_page_to_pfn(pm, page));
}

static inline struct mmb_page *mmb_virt_to_page(const struct mmb_pmem *pm, const void *addr)
{
	return mmb_pfn_to_page(pm, mmb_virt_to_pfn(pm, addr));
}

/* The head descriptor of the allocated block a frame belongs to (the frame
 * itself unless it is an MMB_PG_TAIL frame). */
static inline struct mmb_page *mmb_compound_head(const struct mmb_pmem *pm, struct mmb_page *page)
{
	return (page->flags & MMB_PG_TAIL) ? mmb_pfn_to_page(pm, page->head_pfn) : page;
}

/* 1 if addr lies in the direct map. */
static inline int mmb_pmem_contains(const struct mmb_pmem *pm, const void *addr)
{
	return (const char *)addr >= pm->dmap && (const char *)addr < pm->dmap + pm->bytes;
}

#endif /* MMB_PMEM_H */

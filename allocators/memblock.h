/*
 * memblock.h — the boot-time allocator (mm/memblock.c): region lists of
 * "memory" and "reserved" physical ranges, top-down allocation, a dump in
 * the kernel's memblock=debug format, and the hand-over of every free frame
 * to the buddy allocator (memblock_free_all).
 *
 * Addresses are physical: byte offsets into pmem (pmem.h). Nothing here
 * touches memory; the buddy allocator drives it at create time.
 */
#ifndef MMB_MEMBLOCK_H
#define MMB_MEMBLOCK_H

#include <stdint.h>
#include <stdio.h>

#define MMB_MEMBLOCK_REGIONS 128	/* INIT_MEMBLOCK_REGIONS; the arrays never grow */

/* Region flags, as enum memblock_flags. */
#define MMB_MEMBLOCK_NONE 0x0u
#define MMB_MEMBLOCK_RSRV_KERN 0x20u	/* reserved by memblock_alloc for the kernel */

struct mmb_memblock_region {
	uint64_t base, size;
	unsigned flags;
};

struct mmb_memblock_type {
	const char *name;		/* "memory", "reserved" */
	unsigned long cnt;
	uint64_t total_size;
	struct mmb_memblock_region regions[MMB_MEMBLOCK_REGIONS];
};

struct mmb_memblock {
	uint64_t current_limit;		/* highest address + 1 that alloc may return */
	int frozen;			/* set by free_all: no more adds, reserves, allocs */
	struct mmb_memblock_type memory, reserved;
};

void mmb_memblock_init(struct mmb_memblock *mb);

/* Add to memory / reserved: 0, -ENOSPC when the region array is full, or
 * -EBUSY after the hand-over. Overlaps with existing regions are fine. */
int mmb_memblock_add(struct mmb_memblock *mb, uint64_t base, uint64_t size);
int mmb_memblock_reserve(struct mmb_memblock *mb, uint64_t base, uint64_t size);
/* Remove [base, base + size) from reserved (memblock_phys_free). */
int mmb_memblock_phys_free(struct mmb_memblock *mb, uint64_t base, uint64_t size);

/*
 * Top-down search of memory minus reserved for size bytes aligned to align
 * (0 = 64, SMP_CACHE_BYTES) inside [start, end) (end 0 = current_limit).
 * Never returns frame 0: 0 means not found.
 */
uint64_t mmb_memblock_find_in_range(const struct mmb_memblock *mb, uint64_t size, uint64_t align,
				    uint64_t start, uint64_t end);
/* Find and reserve (flag RSRV_KERN), like memblock_phys_alloc: address or 0. */
uint64_t mmb_memblock_phys_alloc(struct mmb_memblock *mb, uint64_t size, uint64_t align);

/* "MEMBLOCK configuration:" and the region lists, as memblock=debug prints. */
void mmb_memblock_dump(const struct mmb_memblock *mb, FILE *f);

/*
 * memblock_free_all: reserved(ctx, pfn_start, pfn_end) for each reserved
 * region (frames partly covered included), then free_pages(ctx, pfn, order)
 * for each chunk of every free range, chunked as __free_pages_memory does:
 * order = min(MAX_PAGE_ORDER, ctz(pfn)) (pfn 0: MAX_PAGE_ORDER), shrunk until
 * the chunk fits. Freezes mb. Returns the frames handed over.
 */
struct mmb_memblock_handover {
	void (*reserved)(void *ctx, uint64_t pfn_start, uint64_t pfn_end);
	void (*free_pages)(void *ctx, uint64_t pfn, unsigned order);
	void *ctx;
};
uint64_t mmb_memblock_free_all(struct mmb_memblock *mb, const struct mmb_memblock_handover *h);

#endif /* MMB_MEMBLOCK_H */

/*
 * memblock.c — the boot-time allocator (memblock.h), after mm/memblock.c.
 *
 * Data structure: two region arrays, memory and reserved, of at most
 * MMB_MEMBLOCK_REGIONS [base, base + size) ranges with flags.
 *
 * Invariants (both arrays):
 *	sorted:	    regions[i].base + regions[i].size <= regions[i + 1].base
 *	minimal:    no two neighbours touch with the same flags (they are merged)
 *	non-empty:  regions[i].size > 0
 *	total_size = Σ regions[i].size
 * "Free" memory is memory minus reserved. Allocation is top-down and never
 * returns the first page (start is raised to MMB_PAGE_SIZE, as the kernel
 * does). After free_all the allocator is frozen: its job is done.
 *
 * Differences from the kernel, on purpose: no NUMA node ids (every region is
 * on node 0, and the dump omits " on node N"), and the arrays do not double
 * when full (-ENOSPC instead), which boot code never needs here.
 *
 * Thread model: single-threaded (boot time, under the buddy's create).
 */
#include "memblock.h"

#include <errno.h>
#include <string.h>

#include "buddy.h"

#define MB_ALLOC_DEFAULT_ALIGN 64	/* SMP_CACHE_BYTES */

void mmb_memblock_init(struct mmb_memblock *mb)
{
	memset(mb, 0, sizeof(*mb));
	mb->memory.name = "memory";
	mb->reserved.name = "reserved";
	mb->current_limit = UINT64_MAX;
}

static void mb_insert(struct mmb_memblock_type *t, unsigned long idx, uint64_t base, uint64_t size,
		      unsigned flags)
{
	memmove(&t->regions[idx + 1], &t->regions[idx], (t->cnt - idx) * sizeof(t->regions[0]));
	t->regions[idx] = (struct mmb_memblock_region){ base, size, flags };
	t->cnt++;
	t->total_size += size;
}

static void mb_remove(struct mmb_memblock_type *t, unsigned long idx)
{
	t->total_size -= t->regions[idx].size;
	memmove(&t->regions[idx], &t->regions[idx + 1], (t->cnt - idx - 1) * sizeof(t->regions[0]));
	t->cnt--;
}

/* memblock_merge_regions: join neighbours that touch and have equal flags. */
static void mb_merge(struct mmb_memblock_type *t)
{
	unsigned long i = 0;

	while (i + 1 < t->cnt) {
		struct mmb_memblock_region *a = &t->regions[i], *b = &t->regions[i + 1];

		if (a->base + a->size != b->base || a->flags != b->flags) {
			i++;
			continue;
		}
		a->size += b->size;
		memmove(b, b + 1, (t->cnt - i - 2) * sizeof(*b));
		t->cnt--;
	}
}

/*
 * memblock_add_range: insert the parts of [base, end) not yet covered (the
 * regions already there keep their flags), then merge. Counts the pieces
 * first so a full array fails without a half-done change.
 */
static int mb_add_range(struct mmb_memblock *mb, struct mmb_memblock_type *t, uint64_t base,
			uint64_t size, unsigned flags)
{
	uint64_t end = base + size < base ? UINT64_MAX : base + size, cur;
	unsigned long nr_new = 0, i;

	if (mb->frozen)
		return -EBUSY;
	if (!size)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		cur = base;
		for (i = 0; i < t->cnt && cur < end; i++) {
			struct mmb_memblock_region *r = &t->regions[i];
			uint64_t rend = r->base + r->size;

			if (r->base >= end)
				break;
			if (rend <= cur)
				continue;
			if (r->base > cur) {
				if (pass) {
					mb_insert(t, i, cur, r->base - cur, flags);
					i++;
				}
				nr_new++;
			}
			cur = rend;
		}
		if (cur < end) {
			if (pass)
				mb_insert(t, i, cur, end - cur, flags);
			nr_new++;
		}
		if (!pass && t->cnt + nr_new > MMB_MEMBLOCK_REGIONS)
			return -ENOSPC;
	}
	mb_merge(t);
	return 0;
}

int mmb_memblock_add(struct mmb_memblock *mb, uint64_t base, uint64_t size)
{
	return mb_add_range(mb, &mb->memory, base, size, MMB_MEMBLOCK_NONE);
}

int mmb_memblock_reserve(struct mmb_memblock *mb, uint64_t base, uint64_t size)
{
	return mb_add_range(mb, &mb->reserved, base, size, MMB_MEMBLOCK_NONE);
}

/* memblock_isolate_range + memblock_remove_range. */
int mmb_memblock_phys_free(struct mmb_memblock *mb, uint64_t base, uint64_t size)
{
	struct mmb_memblock_type *t = &mb->reserved;
	uint64_t end = base + size < base ? UINT64_MAX : base + size;
	unsigned long i;

	if (!size)
		return 0;
	/* Split the (at most two) regions that cross base or end. */
	for (i = 0; i < t->cnt; i++) {
		struct mmb_memblock_region r = t->regions[i];
		uint64_t rend = r.base + r.size, cut;

		if (r.base >= end)
			break;
		if (rend <= base)
			continue;
		cut = r.base < base ? base : (rend > end ? end : 0);
		if (!cut)
			continue;
		if (t->cnt >= MMB_MEMBLOCK_REGIONS)
			return -ENOSPC;
		t->regions[i].size = cut - r.base;
		t->total_size -= rend - cut;
		mb_insert(t, i + 1, cut, rend - cut, r.flags);
	}
	for (i = t->cnt; i-- > 0;) {
		struct mmb_memblock_region *r = &t->regions[i];

		if (r->base >= base && r->base + r->size <= end)
			mb_remove(t, i);
	}
	return 0;
}

/*
 * The free ranges (memory minus reserved), ascending, into out[]; returns how
 * many. At most memory.cnt + reserved.cnt ranges exist.
 */
static unsigned long mb_free_ranges(const struct mmb_memblock *mb, struct mmb_memblock_region *out)
{
	const struct mmb_memblock_type *res = &mb->reserved;
	unsigned long n = 0, j = 0;

	for (unsigned long i = 0; i < mb->memory.cnt; i++) {
		uint64_t cur = mb->memory.regions[i].base;
		uint64_t end = cur + mb->memory.regions[i].size;

		while (j > 0 && res->regions[j - 1].base + res->regions[j - 1].size > cur)
			j--;
		for (; j < res->cnt && cur < end; j++) {
			uint64_t rb = res->regions[j].base, re = rb + res->regions[j].size;

			if (re <= cur)
				continue;
			if (rb >= end)
				break;
			if (rb > cur)
				out[n++] = (struct mmb_memblock_region){ cur, rb - cur, 0 };
			cur = re;
		}
		if (cur < end)
			out[n++] = (struct mmb_memblock_region){ cur, end - cur, 0 };
	}
	return n;
}

uint64_t mmb_memblock_find_in_range(const struct mmb_memblock *mb, uint64_t size, uint64_t align,
				    uint64_t start, uint64_t end)
{
	struct mmb_memblock_region fr[2 * MMB_MEMBLOCK_REGIONS + 1];
	unsigned long n = mb_free_ranges(mb, fr);

	if (!align)
		align = MB_ALLOC_DEFAULT_ALIGN;
	if (start < MMB_PAGE_SIZE)
		start = MMB_PAGE_SIZE;
	if (!end || end > mb->current_limit)
		end = mb->current_limit;
	while (n-- > 0) {
		uint64_t s = fr[n].base, e = fr[n].base + fr[n].size, cand;

		s = s < start ? start : (s > end ? end : s);
		e = e < start ? start : (e > end ? end : e);
		if (e < size)
			continue;
		cand = (e - size) & ~(align - 1);
		if (cand >= s && e > s)
			return cand;
	}
	return 0;
}

uint64_t mmb_memblock_phys_alloc(struct mmb_memblock *mb, uint64_t size, uint64_t align)
{
	uint64_t found;

	if (mb->frozen || !size || (align & (align - 1)))
		return 0;
	found = mmb_memblock_find_in_range(mb, size, align, 0, 0);
	if (!found || mb_add_range(mb, &mb->reserved, found, size, MMB_MEMBLOCK_RSRV_KERN))
		return 0;
	return found;
}

/* %pa: a phys_addr_t as 0x and 16 hex digits. */
static void mb_dump_type(const struct mmb_memblock_type *t, FILE *f)
{
	fprintf(f, " %s.cnt  = 0x%lx\n", t->name, t->cnt);
	for (unsigned long i = 0; i < t->cnt; i++) {
		const struct mmb_memblock_region *r = &t->regions[i];

		fprintf(f, " %s[0x%lx]\t[0x%016llx-0x%016llx], 0x%016llx bytes flags: 0x%x\n", t->name,
			i, (unsigned long long)r->base, (unsigned long long)(r->base + r->size - 1),
			(unsigned long long)r->size, r->flags);
	}
}

void mmb_memblock_dump(const struct mmb_memblock *mb, FILE *f)
{
	fprintf(f, "MEMBLOCK configuration:\n");
	fprintf(f, " memory size = 0x%016llx reserved size = 0x%016llx\n",
		(unsigned long long)mb->memory.total_size, (unsigned long long)mb->reserved.total_size);
	mb_dump_type(&mb->memory, f);
	mb_dump_type(&mb->reserved, f);
}

uint64_t mmb_memblock_free_all(struct mmb_memblock *mb, const struct mmb_memblock_handover *h)
{
	struct mmb_memblock_region fr[2 * MMB_MEMBLOCK_REGIONS + 1];
	unsigned long n = mb_free_ranges(mb, fr);
	uint64_t count = 0;

	for (unsigned long i = 0; i < mb->reserved.cnt; i++) {
		const struct mmb_memblock_region *r = &mb->reserved.regions[i];

		h->reserved(h->ctx, r->base >> MMB_PAGE_SHIFT,
			    (r->base + r->size + MMB_PAGE_SIZE - 1) >> MMB_PAGE_SHIFT);
	}
	for (unsigned long i = 0; i < n; i++) {
		/* PFN_UP(start) .. PFN_DOWN(end): partial frames at the edges are lost. */
		uint64_t start = (fr[i].base + MMB_PAGE_SIZE - 1) >> MMB_PAGE_SHIFT;
		uint64_t end = (fr[i].base + fr[i].size) >> MMB_PAGE_SHIFT;

		while (start < end) {
			unsigned order = start ? (unsigned)__builtin_ctzll(start) : MMB_MAX_ORDER;

			if (order > MMB_MAX_ORDER)
				order = MMB_MAX_ORDER;
			while (start + (1ULL << order) > end)
				order--;
			h->free_pages(h->ctx, start, order);
			start += 1ULL << order;
			count += 1ULL << order;
		}
	}
	mb->frozen = 1;
	return count;
}

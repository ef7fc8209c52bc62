/*
 * slob.c — SLOB (mm/slob.c, Linux 6.3, the last release that had it) on
 * the buddy allocator, and the registry entry `kmalloc-slob` (slob.h).
 *
 * Data structure (as the kernel's)
 *   slob_t		a 2-byte unit (SLOB_UNIT). A free block stores its
 *			size and the offset of the next free block in the
 *			page, in units: {size, next} when size > 1, {-next}
 *			for a one-unit block. next == SLOB_UNITS(PAGE_SIZE)
 *			(offset 0 of the following page) ends the list.
 *   page		the page descriptor (mmb_page) of a slob page has
 *			owner = &so->slob_owner, flags |= MMB_PG_SLAB,
 *			priv[0] = free units (sp->units) | ON_LIST | list index,
 *			priv[1], priv[2] = slab_list links (pagelist.h),
 *			priv[3] = sp->freelist (address of the first free block).
 *   lists		free_slob_small (blocks < 256 bytes with header),
 *			_medium (< 1024), _large: the pages with free units,
 *			each on the list of the request that made it or that
 *			first freed into it when full.
 *   kmalloc		size < PAGE_SIZE - 8: a block of SLOB_UNITS(size + 8)
 *			units whose first 8 bytes hold size (the kmalloc
 *			header); the caller gets block + 8, aligned to 8, or to
 *			size for a power of two (slob_page_alloc's align_offset).
 *			Otherwise: 2^get_order(size) buddy frames, owner =
 *			&so->large_owner, priv[0] = order.
 *
 * Algorithm (slob_alloc / slob_page_alloc / slob_free, unchanged)
 *   Walk the list for the size; skip a page whose free units are fewer than
 *   needed; first fit inside the page (an aligned block may split a free
 *   block's head off). On success in a page that is still on the list, make
 *   that page the list's head ("move the list head", Knuth vol 1 2.5), so
 *   the next search starts there. No page fits: a new order-0 page. Free
 *   puts the block back in address order, merging with both neighbours; a
 *   page whose units come back whole goes to the buddy allocator at once.
 *
 * Surprises (also the kernel's): the lists are unordered; a page's free
 * space can be stranded on the small list while a medium request takes a
 * new page; ksize() is SLOB_UNITS(size) * 2, so the usable size hides the
 * 8-byte header and the alignment fragments, which show up in footprint.
 * The contract's align above the kernel's is ours: honoured inside a page
 * when size + align <= PAGE_SIZE, else with whole pages.
 *
 * Invariants (mmb_slob_check): see slob.h.
 *
 * Thread model: one mutex (slob_lock) around the lists and every slob
 * page; large pages take only the buddy allocator's locks. Any thread may
 * free any block. Counters: under slob_lock, large ones atomic.
 */
#include "slob.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"
#include "pagelist.h"
#include "statefile.h"

typedef int16_t slobidx_t;
typedef struct slob_block {
	slobidx_t units;
} slob_t;

#define SLOB_PAGE_UNITS ((slobidx_t)MMB_SLOB_UNITS(MMB_PAGE_SIZE))
#define PAGE_MASK (~(uintptr_t)(MMB_PAGE_SIZE - 1))

/* priv[0] of a slob page */
#define SP_UNITS_MASK 0xffffULL
#define SP_ON_LIST (1ULL << 32)
#define SP_LIST_SHIFT 33

struct mmb_slob {
	struct mmb_buddy *b;
	struct mmb_pmem *pm;
	pthread_mutex_t lock;			/* slob_lock */
	struct mmb_pagelist list[MMB_SLOB_NR_LISTS];
	char slob_owner, large_owner;		/* page->owner tags */
	/* under lock */
	uint64_t slob_pages, live_blocks, usable_bytes, allocs, frees;
	uint64_t pages_scanned, new_pages, freed_pages;
	/* large kmalloc, no lock */
	atomic_ulong large_pages, large_allocs, large_frees;
};

/* ---- slob_t encoding ---- */

static slob_t *page_base(const slob_t *s)
{
	return (slob_t *)((uintptr_t)s & PAGE_MASK);
}

static void set_slob(slob_t *s, slobidx_t size, slob_t *next)
{
	slobidx_t offset = (slobidx_t)(next - page_base(s));

	if (size > 1) {
		s[0].units = size;
		s[1].units = offset;
	} else {
		s[0].units = (slobidx_t)-offset;
	}
}

static slobidx_t slob_units(const slob_t *s)
{
	return s->units > 0 ? s->units : 1;
}

static slob_t *slob_next(slob_t *s)
{
	slobidx_t next = s[0].units < 0 ? (slobidx_t)-s[0].units : s[1].units;

	return page_base(s) + next;
}

static int slob_last(slob_t *s)
{
	return !((uintptr_t)slob_next(s) & ~PAGE_MASK);
}

/* ---- slob pages ---- */

static unsigned sp_units(const struct mmb_page *sp)
{
	return (unsigned)(sp->priv[0] & SP_UNITS_MASK);
}

static void sp_set_units(struct mmb_page *sp, unsigned units)
{
	sp->priv[0] = (sp->priv[0] & ~SP_UNITS_MASK) | units;
}

static slob_t *sp_freelist(const struct mmb_page *sp)
{
	return (slob_t *)(uintptr_t)sp->priv[3];
}

static void sp_set_freelist(struct mmb_page *sp, slob_t *fl)
{
	sp->priv[3] = (uintptr_t)fl;
}

static int slob_page_free(const struct mmb_page *sp)
{
	return !!(sp->priv[0] & SP_ON_LIST);
}

static void set_slob_page_free(struct mmb_slob *so, struct mmb_page *sp, unsigned li)
{
	mmb_pl_add(&so->list[li], sp);
	sp->priv[0] |= SP_ON_LIST | ((uint64_t)li << SP_LIST_SHIFT);
}

static void clear_slob_page_free(struct mmb_slob *so, struct mmb_page *sp)
{
	mmb_pl_del(&so->list[sp->priv[0] >> SP_LIST_SHIFT], sp);
	sp->priv[0] &= SP_UNITS_MASK;
}

static unsigned slob_list_index(size_t size)
{
	return size < MMB_SLOB_BREAK1 ? 0 : size < MMB_SLOB_BREAK2 ? 1 : 2;
}

static struct mmb_page *slob_virt_to_head(struct mmb_slob *so, const void *p)
{
	return mmb_compound_head(so->pm, mmb_virt_to_page(so->pm, p));
}

/*
 * slob_page_alloc(): first fit in sp for size bytes, aligned so that
 * block + align_offset is a multiple of align. Returns the block or NULL;
 * *removed says the page left its list (it is full).
 */
static slob_t *slob_page_alloc(struct mmb_slob *so, struct mmb_page *sp, size_t size,
			       size_t align, size_t align_offset, int *removed)
{
	slob_t *prev, *cur, *aligned;
	long delta = 0, units = (long)MMB_SLOB_UNITS(size);

	*removed = 0;
	for (prev = NULL, cur = sp_freelist(sp);; prev = cur, cur = slob_next(cur)) {
		slobidx_t avail = slob_units(cur);

		if (align) {
			aligned = (slob_t *)((((uintptr_t)cur + align_offset + align - 1) &
					      ~(uintptr_t)(align - 1)) - align_offset);
			delta = aligned - cur;
		}
		if (avail >= units + delta) {	/* room enough? */
			slob_t *next;

			if (delta) {	/* need to fragment head to align? */
				next = slob_next(cur);
				set_slob(aligned, (slobidx_t)(avail - delta), next);
				set_slob(cur, (slobidx_t)delta, aligned);
				prev = cur;
				cur = aligned;
				avail = slob_units(cur);
			}
			next = slob_next(cur);
			if (avail == units) {	/* exact fit? unlink. */
				if (prev)
					set_slob(prev, slob_units(prev), next);
				else
					sp_set_freelist(sp, next);
			} else {		/* fragment */
				if (prev)
					set_slob(prev, slob_units(prev), cur + units);
				else
					sp_set_freelist(sp, cur + units);
				set_slob(cur + units, (slobidx_t)(avail - units), next);
			}
			sp_set_units(sp, sp_units(sp) - (unsigned)units);
			if (!sp_units(sp)) {
				clear_slob_page_free(so, sp);
				*removed = 1;
			}
			return cur;
		}
		if (slob_last(cur))
			return NULL;
	}
}

/* A kmalloc block of usable bytes came or went (under the lock). */
static void slob_count(struct mmb_slob *so, long dir, size_t usable)
{
	if (dir > 0) {
		so->allocs++;
		so->live_blocks++;
		so->usable_bytes += usable;
	} else {
		so->frees++;
		so->live_blocks--;
		so->usable_bytes -= usable;
	}
}

/* slob_alloc(): the list walk, or a new page; counts a kmalloc block of
 * usable bytes. */
static void *slob_alloc(struct mmb_slob *so, size_t size, size_t align, size_t align_offset,
			size_t usable)
{
	struct mmb_pagelist *l = &so->list[slob_list_index(size)];
	struct mmb_page *sp, *page;
	slob_t *b = NULL;
	int removed;

	pthread_mutex_lock(&so->lock);
	for (sp = l->first; sp; sp = mmb_pl_iter_next(l, sp)) {
		so->pages_scanned++;
		if (sp_units(sp) < MMB_SLOB_UNITS(size))	/* enough room on this page? */
			continue;
		b = slob_page_alloc(so, sp, size, align, align_offset, &removed);
		if (!b)
			continue;
		/* Start the next search here (list_rotate_to_front). A page that
		 * left the list is full: nothing to rotate. */
		if (!removed)
			l->first = sp;
		slob_count(so, 1, usable);
		break;
	}
	pthread_mutex_unlock(&so->lock);
	if (b)
		return b;

	page = mmb_alloc_pages(so->b, 0, MMB_MT_UNMOVABLE);
	if (!page)
		return NULL;
	b = mmb_page_address(so->pm, page);
	pthread_mutex_lock(&so->lock);
	page->owner = &so->slob_owner;
	page->flags |= MMB_PG_SLAB;
	page->priv[0] = 0;
	sp_set_units(page, (unsigned)SLOB_PAGE_UNITS);
	sp_set_freelist(page, b);
	set_slob(b, SLOB_PAGE_UNITS, b + SLOB_PAGE_UNITS);
	set_slob_page_free(so, page, slob_list_index(size));
	so->slob_pages++;
	so->new_pages++;
	b = slob_page_alloc(so, page, size, align, align_offset, &removed);
	slob_count(so, 1, usable);
	pthread_mutex_unlock(&so->lock);
	return b;	/* never NULL: the caller checked size + align fits a page */
}

static void slob_free_page(struct mmb_slob *so, struct mmb_page *sp)
{
	sp->flags &= ~MMB_PG_SLAB;
	sp->owner = NULL;
	sp->priv[0] = sp->priv[1] = sp->priv[2] = sp->priv[3] = 0;
	mmb_free_pages(so->b, sp, 0);
}

/* slob_free(): block of size bytes (header included) back into its page;
 * uncounts a kmalloc block of usable bytes. */
static void slob_free(struct mmb_slob *so, void *block, size_t size, size_t usable)
{
	slob_t *prev, *next, *b = block;
	struct mmb_page *sp = slob_virt_to_head(so, block);
	slobidx_t units = (slobidx_t)MMB_SLOB_UNITS(size);

	pthread_mutex_lock(&so->lock);
	slob_count(so, -1, usable);
	if (sp_units(sp) + (unsigned)units == (unsigned)SLOB_PAGE_UNITS) {
		/* Go directly to page allocator. Do not pass slob allocator */
		if (slob_page_free(sp))
			clear_slob_page_free(so, sp);
		so->slob_pages--;
		so->freed_pages++;
		pthread_mutex_unlock(&so->lock);
		slob_free_page(so, sp);
		return;
	}
	if (!slob_page_free(sp)) {
		/* This slob page is about to become partially free. Easy! */
		sp_set_units(sp, (unsigned)units);
		sp_set_freelist(sp, b);
		set_slob(b, units, (slob_t *)(((uintptr_t)(b + SLOB_PAGE_UNITS)) & PAGE_MASK));
		set_slob_page_free(so, sp, slob_list_index(size));
		goto out;
	}
	/* Otherwise the page is already partially free: find the reinsertion point. */
	sp_set_units(sp, sp_units(sp) + (unsigned)units);
	if (b < sp_freelist(sp)) {
		if (b + units == sp_freelist(sp)) {
			units = (slobidx_t)(units + slob_units(sp_freelist(sp)));
			sp_set_freelist(sp, slob_next(sp_freelist(sp)));
		}
		set_slob(b, units, sp_freelist(sp));
		sp_set_freelist(sp, b);
	} else {
		prev = sp_freelist(sp);
		next = slob_next(prev);
		while (b > next) {
			prev = next;
			next = slob_next(prev);
		}
		if (!slob_last(prev) && b + units == next) {
			units = (slobidx_t)(units + slob_units(next));
			set_slob(b, units, slob_next(next));
		} else {
			set_slob(b, units, next);
		}
		if (prev + slob_units(prev) == b) {
			units = (slobidx_t)(slob_units(b) + slob_units(prev));
			set_slob(prev, units, slob_next(b));
		} else {
			set_slob(prev, slob_units(prev), b);
		}
	}
out:
	pthread_mutex_unlock(&so->lock);
}

/* ---- kmalloc ---- */

static unsigned get_order(size_t size)
{
	unsigned order = 0;

	while ((MMB_PAGE_SIZE << order) < size)
		order++;
	return order;
}

static void *slob_kmalloc_large(struct mmb_slob *so, size_t size)
{
	unsigned order = get_order(size);
	struct mmb_page *page;

	page = order <= MMB_MAX_ORDER ? mmb_alloc_pages(so->b, order, MMB_MT_UNMOVABLE) : NULL;
	if (!page)
		return NULL;
	page->owner = &so->large_owner;
	page->priv[0] = order;
	atomic_fetch_add(&so->large_pages, 1UL << order);
	atomic_fetch_add(&so->large_allocs, 1);
	return mmb_page_address(so->pm, page);
}

void *mmb_slob_kmalloc(struct mmb_slob *so, size_t size, size_t align)
{
	size_t minalign = MMB_SLOB_MINALIGN, al = minalign;
	unsigned *m;

	if (!size)
		return MMB_SLOB_ZERO_SIZE_PTR;
	if (!(size & (size - 1)) && size > al)
		al = size;		/* natural alignment for powers of two */
	if (align > al)
		al = align;
	if (size >= MMB_PAGE_SIZE - minalign || (al > minalign && size + al > MMB_PAGE_SIZE))
		return slob_kmalloc_large(so, size);
	m = slob_alloc(so, size + minalign, al, minalign, MMB_SLOB_UNITS(size) * MMB_SLOB_UNIT);
	if (!m)
		return NULL;
	*m = (unsigned)size;
	return (char *)m + minalign;
}

void mmb_slob_kfree(struct mmb_slob *so, const void *p)
{
	struct mmb_page *sp;

	if (p == MMB_SLOB_ZERO_SIZE_PTR || !p)
		return;
	sp = slob_virt_to_head(so, p);
	if (sp->owner == &so->slob_owner) {
		unsigned *m = (unsigned *)((char *)p - MMB_SLOB_MINALIGN);
		unsigned size = *m;

		slob_free(so, m, size + MMB_SLOB_MINALIGN, MMB_SLOB_UNITS(size) * MMB_SLOB_UNIT);
	} else {
		unsigned order = (unsigned)sp->priv[0];

		sp->owner = NULL;
		sp->priv[0] = 0;
		atomic_fetch_sub(&so->large_pages, 1UL << order);
		atomic_fetch_add(&so->large_frees, 1);
		mmb_free_pages(so->b, sp, order);
	}
}

size_t mmb_slob_ksize(struct mmb_slob *so, const void *p)
{
	struct mmb_page *sp;

	if (p == MMB_SLOB_ZERO_SIZE_PTR || !p || !mmb_pmem_contains(so->pm, p))
		return 0;
	sp = slob_virt_to_head(so, p);
	if (sp->owner == &so->slob_owner)
		return MMB_SLOB_UNITS(*(const unsigned *)((const char *)p - MMB_SLOB_MINALIGN)) *
		       MMB_SLOB_UNIT;
	if (sp->owner == &so->large_owner)
		return MMB_PAGE_SIZE << sp->priv[0];
	return 0;
}

/* ---- instance ---- */

int mmb_slob_create(struct mmb_buddy *b, struct mmb_slob **r_so, char *err, size_t errlen)
{
	struct mmb_slob *so = calloc(1, sizeof(*so));

	if (!so) {
		snprintf(err, errlen, "slob: out of memory");
		return -ENOMEM;
	}
	so->b = b;
	so->pm = mmb_buddy_pmem(b);
	pthread_mutex_init(&so->lock, NULL);
	*r_so = so;
	return 0;
}

void mmb_slob_destroy(struct mmb_slob *so)
{
	for (struct mmb_page *page = so->pm->pages; page < so->pm->pages + so->pm->nr_pfns; page++) {
		if (page->owner == &so->slob_owner) {
			slob_free_page(so, page);
		} else if (page->owner == &so->large_owner) {
			unsigned order = (unsigned)page->priv[0];

			page->owner = NULL;
			page->priv[0] = 0;
			mmb_free_pages(so->b, page, order);
		}
	}
	pthread_mutex_destroy(&so->lock);
	free(so);
}

void mmb_slob_get_info(struct mmb_slob *so, struct mmb_slob_info *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_lock(&so->lock);
	for (unsigned li = 0; li < MMB_SLOB_NR_LISTS; li++) {
		const struct mmb_pagelist *l = &so->list[li];

		r->pages[li] = l->nr;
		for (struct mmb_page *sp = l->first; sp; sp = mmb_pl_iter_next(l, sp))
			r->free_units[li] += sp_units(sp);
	}
	r->slob_pages = so->slob_pages;
	r->live_blocks = so->live_blocks;
	r->usable_bytes = so->usable_bytes;
	r->allocs = so->allocs;
	r->frees = so->frees;
	r->pages_scanned = so->pages_scanned;
	r->new_pages = so->new_pages;
	r->freed_pages = so->freed_pages;
	pthread_mutex_unlock(&so->lock);
	r->large_pages = atomic_load(&so->large_pages);
	r->large_allocs = atomic_load(&so->large_allocs);
	r->large_frees = atomic_load(&so->large_frees);
}

int mmb_slob_write_slobinfo(struct mmb_slob *so, FILE *f)
{
	static const char *const names[] = { "small", "medium", "large" };
	struct mmb_slob_info in;
	uint64_t stranded = 0;

	mmb_slob_get_info(so, &in);
	fprintf(f, "# list pages free_units free_bytes (partly used pages: stranded free space)\n");
	for (unsigned li = 0; li < MMB_SLOB_NR_LISTS; li++) {
		fprintf(f, "%s %llu %llu %llu\n", names[li], (unsigned long long)in.pages[li],
			(unsigned long long)in.free_units[li],
			(unsigned long long)in.free_units[li] * MMB_SLOB_UNIT);
		stranded += in.free_units[li];
	}
	fprintf(f, "stranded_units %llu\nstranded_bytes %llu\n", (unsigned long long)stranded,
		(unsigned long long)stranded * MMB_SLOB_UNIT);
	fprintf(f, "slob_pages %llu\nlarge_pages %llu\nlive_blocks %llu\nusable_bytes %llu\n",
		(unsigned long long)in.slob_pages, (unsigned long long)in.large_pages,
		(unsigned long long)in.live_blocks, (unsigned long long)in.usable_bytes);
	fprintf(f, "allocs %llu\nfrees %llu\nlarge_allocs %llu\nlarge_frees %llu\n",
		(unsigned long long)in.allocs, (unsigned long long)in.frees,
		(unsigned long long)in.large_allocs, (unsigned long long)in.large_frees);
	fprintf(f, "pages_scanned %llu\nnew_pages %llu\nfreed_pages %llu\n",
		(unsigned long long)in.pages_scanned, (unsigned long long)in.new_pages,
		(unsigned long long)in.freed_pages);
	return ferror(f) ? -EIO : 0;
}

/* ---- check ---- */

#define CHECK_FAIL(...)                                                                        \
	do {                                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                                            \
		rc = -EUCLEAN;                                                                 \
		goto out;                                                                      \
	} while (0)

/* One slob page: free blocks and header-prefixed blocks tile it. */
static int check_page(struct mmb_slob *so, struct mmb_page *sp, uint64_t *r_live, uint64_t *r_usable,
		      char *err, size_t errlen)
{
	slob_t *base = mmb_page_address(so->pm, sp), *end = base + SLOB_PAGE_UNITS;
	slob_t *fb = slob_page_free(sp) ? sp_freelist(sp) : end, *pos = base;
	unsigned long pfn = (unsigned long)mmb_page_to_pfn(so->pm, sp);
	unsigned free_units = 0;
	int rc = 0;

	if (!slob_page_free(sp) && sp_units(sp))
		CHECK_FAIL("slob: page %lu has %u free units but is on no list", pfn, sp_units(sp));
	if (slob_page_free(sp) && !sp_units(sp))
		CHECK_FAIL("slob: page %lu is on a list with no free units", pfn);
	while (pos < end) {
		if (pos == fb) {
			slob_t *next = slob_next(fb);

			if (next <= fb || next > end)
				CHECK_FAIL("slob: page %lu: free block at unit %ld: next %ld out of order",
					   pfn, (long)(fb - base), (long)(next - base));
			if (fb + slob_units(fb) > next)
				CHECK_FAIL("slob: page %lu: free block at unit %ld (%d units) overlaps the next",
					   pfn, (long)(fb - base), slob_units(fb));
			free_units += (unsigned)slob_units(fb);
			pos = fb + slob_units(fb);
			fb = next;
			continue;
		}
		/* an allocated block: header, then SLOB_UNITS(size + 8) units */
		unsigned size = *(unsigned *)pos;
		slob_t *bend = pos + MMB_SLOB_UNITS(size + MMB_SLOB_MINALIGN);

		if (!size || size >= MMB_PAGE_SIZE || bend > fb || bend > end)
			CHECK_FAIL("slob: page %lu: block at unit %ld: header size %u does not fit",
				   pfn, (long)(pos - base), size);
		(*r_live)++;
		*r_usable += MMB_SLOB_UNITS(size) * MMB_SLOB_UNIT;
		pos = bend;
	}
	if (fb != end)
		CHECK_FAIL("slob: page %lu: free list does not end at the page's end", pfn);
	if (free_units != sp_units(sp))
		CHECK_FAIL("slob: page %lu: free blocks hold %u units, page says %u", pfn, free_units,
			   sp_units(sp));
	if (free_units >= (unsigned)SLOB_PAGE_UNITS)
		CHECK_FAIL("slob: page %lu is wholly free but kept", pfn);
out:
	return rc;
}

int mmb_slob_check(struct mmb_slob *so, char *err, size_t errlen)
{
	uint64_t pages = 0, listed = 0, live = 0, usable = 0, large = 0, on_lists = 0;
	int rc = 0;

	pthread_mutex_lock(&so->lock);
	for (unsigned li = 0; li < MMB_SLOB_NR_LISTS; li++) {
		const struct mmb_pagelist *l = &so->list[li];
		unsigned long n = 0;

		for (struct mmb_page *sp = l->first; sp; sp = mmb_pl_iter_next(l, sp)) {
			if (sp->owner != &so->slob_owner || (sp->priv[0] >> SP_LIST_SHIFT) != li ||
			    !slob_page_free(sp))
				CHECK_FAIL("slob: list %u holds page %lu that is not one of its slob pages",
					   li, (unsigned long)mmb_page_to_pfn(so->pm, sp));
			if (++n > so->slob_pages)
				CHECK_FAIL("slob: list %u has a cycle", li);
		}
		if (n != l->nr)
			CHECK_FAIL("slob: list %u has %lu pages, its count says %lu", li, n, l->nr);
		on_lists += n;
	}
	for (struct mmb_page *page = so->pm->pages; page < so->pm->pages + so->pm->nr_pfns; page++) {
		if (page->owner == &so->slob_owner) {
			pages++;
			listed += slob_page_free(page);
			rc = check_page(so, page, &live, &usable, err, errlen);
			if (rc)
				goto out;
		} else if (page->owner == &so->large_owner) {
			large += 1ULL << page->priv[0];
		}
	}
	if (pages != so->slob_pages || listed != on_lists)
		CHECK_FAIL("slob: %llu slob pages (%llu listed), counts say %llu (%llu on lists)",
			   (unsigned long long)pages, (unsigned long long)listed,
			   (unsigned long long)so->slob_pages, (unsigned long long)on_lists);
	if (live != so->live_blocks || usable != so->usable_bytes)
		CHECK_FAIL("slob: %llu blocks of %llu usable bytes found, counts say %llu of %llu",
			   (unsigned long long)live, (unsigned long long)usable,
			   (unsigned long long)so->live_blocks, (unsigned long long)so->usable_bytes);
	if (large != atomic_load(&so->large_pages))
		CHECK_FAIL("slob: %llu large kmalloc frames found, count says %lu",
			   (unsigned long long)large, atomic_load(&so->large_pages));
out:
	pthread_mutex_unlock(&so->lock);
	return rc;
}

/* ---- the registry entry: kmalloc-slob ---- */

struct mmb_alloc {
	struct mmb_buddy *b;
	struct mmb_slob *so;
	atomic_ulong failed_allocs;
};

static const struct mmb_param slob_opts[] = {
	{ "mem", MMB_P_SIZE, "256M", 4 << 20, 64ULL << 30, NULL, "simulated physical memory, bytes" },
	{ "pcp", MMB_P_BOOL, "on", 0, 0, NULL, "buddy per-thread page lists" },
	{ 0 },
};

static int slob_reg_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
			   size_t errlen)
{
	struct mmb_buddy_cfg bc = {
		.mem_bytes = mmb_pval_u64(&cfg->opts, "mem"),
		.pcp = (int)mmb_pval_u64(&cfg->opts, "pcp"),
		.nthreads = cfg->nthreads ? cfg->nthreads : 1,
	};
	struct mmb_alloc *a = calloc(1, sizeof(*a));
	int rc;

	if (!a) {
		snprintf(err, errlen, "slob: out of memory");
		return -ENOMEM;
	}
	rc = mmb_buddy_create(&bc, &a->b, err, errlen);
	if (rc)
		goto fail;
	rc = mmb_slob_create(a->b, &a->so, err, errlen);
	if (rc)
		goto fail_buddy;
	*r_a = a;
	return 0;
fail_buddy:
	mmb_buddy_destroy(a->b);
fail:
	free(a);
	return rc;
}

static void slob_reg_destroy(struct mmb_alloc *a)
{
	mmb_slob_destroy(a->so);
	mmb_buddy_destroy(a->b);
	free(a);
}

static void slob_reg_thread_attach(struct mmb_alloc *a)
{
	mmb_buddy_thread_attach(a->b);
}

static void slob_reg_thread_detach(struct mmb_alloc *a)
{
	mmb_buddy_thread_detach(a->b);
}

static void *slob_reg_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	void *p = mmb_slob_kmalloc(a->so, size, align);

	if (!p)
		atomic_fetch_add_explicit(&a->failed_allocs, 1, memory_order_relaxed);
	return p;
}

/* The size is not needed: the header has it (kfree). */
static void slob_reg_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)size;
	mmb_slob_kfree(a->so, p);
}

static size_t slob_reg_usable_size(struct mmb_alloc *a, const void *p)
{
	return mmb_slob_ksize(a->so, p);
}

static void slob_reg_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	struct mmb_slob_info in;

	mmb_slob_get_info(a->so, &in);
	r_st->footprint_bytes = (in.slob_pages + in.large_pages) * MMB_PAGE_SIZE;
	r_st->usable_bytes = in.usable_bytes + in.large_pages * MMB_PAGE_SIZE;
	r_st->allocs = in.allocs + in.large_allocs;
	r_st->frees = in.frees + in.large_frees;
	r_st->failed_allocs = atomic_load_explicit(&a->failed_allocs, memory_order_relaxed);
}

static int slob_reg_check(struct mmb_alloc *a, char *err, size_t errlen)
{
	int rc = mmb_slob_check(a->so, err, errlen);

	return rc ? rc : mmb_buddy_check(a->b, err, errlen);
}

static int slob_file_write(FILE *f, void *ctx)
{
	return mmb_slob_write_slobinfo(ctx, f);
}

static int slob_reg_dump_state(struct mmb_alloc *a, const char *dir)
{
	return mmb_state_write(dir, "slobinfo", slob_file_write, a->so);
}

const struct mmb_alloc_ops mmb_slob_ops = {
	.name = "kmalloc-slob",
	.desc = "SLOB kmalloc (mm/slob.c, 6.3): first-fit blocks in pages on three lists, on the buddy allocator",
	.opts = slob_opts,
	.create = slob_reg_create,
	.destroy = slob_reg_destroy,
	.thread_attach = slob_reg_thread_attach,
	.thread_detach = slob_reg_thread_detach,
	.alloc = slob_reg_alloc,
	.free = slob_reg_free,
	.usable_size = slob_reg_usable_size,
	.stats = slob_reg_stats,
	.check = slob_reg_check,
	.dump_state = slob_reg_dump_state,
};

/*
 * kfence.h — a sampling guard-page detector in the style of the kernel's
 * KFENCE (mm/kfence/): one slab allocation in `sample` is served from a
 * pool where each object has a page of its own between two guard pages, at
 * the left or the right edge of that page (alternately), the rest of the
 * page filled with canary bytes 0xaa ^ (address & 7).
 *
 *	pool	2 * (nr_objects + 1) pages, PROT_NONE but for the pages of
 *		allocated objects: pages 0-1 guard, object i at page
 *		2 * (i + 1), its right guard at 2 * (i + 1) + 1
 *
 * An access to a guard page is an out-of-bounds access, blamed on the
 * nearest allocated object; an access to the page of a freed object is a
 * use after free; both fault (SIGSEGV, si_addr) and are reported in the
 * kernel's format ("BUG: KFENCE: out-of-bounds write in func+0x1a/0x40")
 * with the allocation and free stacks. The page is then made accessible and
 * the access goes on (one report per object, as the kernel). At free the
 * canaries are checked ("memory corruption") and the page is protected
 * again; freed objects go to the tail of the free list, so a freed page
 * stays protected (quarantined) for as long as possible.
 *
 * The SIGSEGV handler is installed once per process and passes faults
 * outside every pool to the handler that was there before.
 */
#ifndef MMB_KFENCE_H
#define MMB_KFENCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MMB_KFENCE_NUM_OBJECTS 255	/* CONFIG_KFENCE_NUM_OBJECTS */

struct mmb_kfence;

struct mmb_kfence_cfg {
	unsigned sample;		/* one allocation in sample per thread (>= 1) */
	unsigned nr_objects;		/* pool capacity; 0 = MMB_KFENCE_NUM_OBJECTS */
	FILE *report;			/* reports are written here too; NULL = stderr */
};

int mmb_kfence_create(const struct mmb_kfence_cfg *cfg, struct mmb_kfence **r_kf, char *err,
		      size_t errlen);
void mmb_kfence_destroy(struct mmb_kfence *kf);

/*
 * kfence_alloc: NULL unless this allocation is sampled and fits (size <=
 * a page, pool not full). cache names the slab cache for reports.
 */
void *mmb_kfence_alloc(struct mmb_kfence *kf, size_t size, size_t align, const char *cache);
/* 1 if p lies in kf's pool (is_kfence_address). */
int mmb_kfence_owns(const struct mmb_kfence *kf, const void *p);
/* Size asked for (ksize of a KFENCE object); 0 if p is no allocated object. */
size_t mmb_kfence_ksize(struct mmb_kfence *kf, const void *p);
/* Free an object of the pool (checks canaries; reports invalid frees). */
void mmb_kfence_free(struct mmb_kfence *kf, const void *p);

/* The pool and its metadata, one mapping (a leak detector must not read it). */
void mmb_kfence_range(const struct mmb_kfence *kf, const void **r_start, size_t *r_len);

struct mmb_kfence_counts {
	uint64_t allocated, allocs, frees, bugs;
	uint64_t skipped_incompatible, skipped_capacity;
};
void mmb_kfence_counts(struct mmb_kfence *kf, struct mmb_kfence_counts *r_c);

/* The stats (as debugfs kfence/stats), then every report so far. */
int mmb_kfence_write(struct mmb_kfence *kf, FILE *f);

#endif /* MMB_KFENCE_H */

/*
 * test_vmalloc.c — the vmalloc allocator (allocators/vmalloc.c): randomized
 * sequences against check() and a model of the lowest-first free space,
 * coherence with the direct map, the guard page, lazy free and purge,
 * vmallocinfo's format, vmap, bad input, running out of frames and of
 * memory mappings, mmap failing, unmapping failing (lost areas). Seeds are
 * fixed and printed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../allocators/allocator.h"
#include "../../allocators/os.h"
#include "../../allocators/vmalloc.h"
#include "../../workloads/workload.h"
#include "../testutil.h"

#define PS MMB_PAGE_SIZE

struct vfix {
	struct mmb_buddy *b;
	struct mmb_vmalloc *vm;
	struct mmb_pmem *pm;
};

static void vfix_init(struct vfix *f, uint64_t mem_bytes, uint64_t window_bytes, int lazy,
		      uint64_t lazy_max_pages)
{
	struct mmb_buddy_cfg bcfg = { .mem_bytes = mem_bytes, .pcp = 1, .nthreads = 1 };
	struct mmb_vmalloc_cfg vcfg = { window_bytes, lazy, lazy_max_pages };
	char err[MMB_ERR_MAX] = "";

	cr_assert_eq(mmb_buddy_create(&bcfg, &f->b, err, sizeof(err)), 0, "buddy: %s", err);
	cr_assert_eq(mmb_vmalloc_create(&vcfg, f->b, &f->vm, err, sizeof(err)), 0, "vmalloc: %s", err);
	f->pm = mmb_buddy_pmem(f->b);
}

static void vfix_check(struct vfix *f, const char *when)
{
	char err[MMB_ERR_MAX] = "";

	cr_assert_eq(mmb_vmalloc_check(f->vm, err, sizeof(err)), 0, "%s: %s", when, err);
	cr_assert_eq(mmb_buddy_check(f->b, err, sizeof(err)), 0, "%s: buddy: %s", when, err);
}

static void vfix_fini(struct vfix *f)
{
	mmb_vmalloc_destroy(f->vm);
	cr_expect_eq(mmb_buddy_used_pages(f->b), 0, "frames leaked by vmalloc");
	mmb_buddy_destroy(f->b);
}

static struct mmb_vmalloc_counters counters(struct vfix *f)
{
	struct mmb_vmalloc_counters c;

	mmb_vmalloc_counters(f->vm, &c);
	return c;
}

/* Random vmalloc/vfree (some aligned, some vzalloc) keep check() true and contents intact. */
Test(vmalloc, random_sequences_keep_check)
{
	static const uint64_t seeds[] = { 0x7a110c01, 0x7a110c02, 0x7a110c03 };
	enum { SLOTS = 96, STEPS = 3000 };

	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		static unsigned char *blk[SLOTS];
		static size_t len[SLOTS];
		struct vfix f;
		uint64_t rng[4];

		cr_log_info("seed %#llx", (unsigned long long)seeds[s]);
		mmb_rand_seed(rng, seeds[s]);
		vfix_init(&f, 128 << 20, 1ULL << 30, (int)(s != 2), s == 1 ? 64 : 0);
		memset(blk, 0, sizeof(blk));
		for (int step = 0; step < STEPS; step++) {
			int k = (int)mmb_rand_below(rng, SLOTS);

			if (blk[k]) {
				for (size_t i = 0; i < len[k]; i += 509)
					cr_assert_eq(blk[k][i], (unsigned char)k,
						     "seed %#llx step %d: area %p corrupted",
						     (unsigned long long)seeds[s], step, blk[k]);
				mmb_vfree(f.vm, blk[k]);
				blk[k] = NULL;
			} else {
				uint64_t kind = mmb_rand_below(rng, 8);

				len[k] = 1 + mmb_rand_below(rng, kind == 0 ? 300000 : 40000);
				if (kind == 1)
					blk[k] = mmb_vmalloc_align(f.vm, len[k], PS << mmb_rand_below(rng, 6));
				else if (kind == 2)
					blk[k] = mmb_vzalloc(f.vm, len[k]);
				else
					blk[k] = mmb_vmalloc(f.vm, len[k]);
				cr_assert_not_null(blk[k], "seed %#llx step %d: vmalloc(%zu)",
						   (unsigned long long)seeds[s], step, len[k]);
				if (kind == 2)
					for (size_t i = 0; i < len[k]; i += 509)
						cr_assert_eq(blk[k][i], 0, "vzalloc not zeroed");
				memset(blk[k], k, len[k]);
			}
			if (step % 500 == 0)
				vfix_check(&f, "during the sequence");
		}
		vfix_check(&f, "after the sequence");
		for (int k = 0; k < SLOTS; k++)
			mmb_vfree(f.vm, blk[k]);
		vfix_check(&f, "after freeing everything");
		vfix_fini(&f);
	}
}

/*
 * lazy=off: every area lands at the lowest free address that fits, and freed
 * ranges coalesce. Checked against a plain sorted list of free intervals.
 */
struct ival {
	uint64_t start, end;
};

static uint64_t model_alloc(struct ival *fr, int *n, uint64_t size)
{
	for (int i = 0; i < *n; i++) {
		if (fr[i].end - fr[i].start < size)
			continue;
		uint64_t at = fr[i].start;

		fr[i].start += size;
		if (fr[i].start == fr[i].end) {
			memmove(&fr[i], &fr[i + 1], (size_t)(*n - i - 1) * sizeof(*fr));
			(*n)--;
		}
		return at;
	}
	return UINT64_MAX;
}

static void model_free(struct ival *fr, int *n, uint64_t start, uint64_t end)
{
	int i = 0;

	while (i < *n && fr[i].start < start)
		i++;
	memmove(&fr[i + 1], &fr[i], (size_t)(*n - i) * sizeof(*fr));
	fr[i] = (struct ival){ start, end };
	(*n)++;
	if (i + 1 < *n && fr[i].end == fr[i + 1].start) {
		fr[i].end = fr[i + 1].end;
		memmove(&fr[i + 1], &fr[i + 2], (size_t)(*n - i - 2) * sizeof(*fr));
		(*n)--;
	}
	if (i > 0 && fr[i - 1].end == fr[i].start) {
		fr[i - 1].end = fr[i].end;
		memmove(&fr[i], &fr[i + 1], (size_t)(*n - i - 1) * sizeof(*fr));
		(*n)--;
	}
}

Test(vmalloc, lowest_first_and_coalescing_match_a_model)
{
	enum { SLOTS = 64, STEPS = 4000 };
	const uint64_t seed = 0x10e5f1257, window = 64 << 20;
	static struct ival fr[SLOTS + 2];
	static char *blk[SLOTS];
	static size_t sz[SLOTS];
	struct vfix f;
	uint64_t rng[4], base;
	int n = 1;

	cr_log_info("seed %#llx", (unsigned long long)seed);
	mmb_rand_seed(rng, seed);
	vfix_init(&f, 64 << 20, window, 0, 0);
	blk[0] = mmb_vmalloc(f.vm, 1);		/* the first area starts the window */
	base = (uint64_t)(uintptr_t)blk[0];
	sz[0] = 2 * PS;
	fr[0] = (struct ival){ 2 * PS, window };
	for (int step = 0; step < STEPS; step++) {
		int k = (int)mmb_rand_below(rng, SLOTS);

		if (blk[k]) {
			uint64_t off = (uint64_t)(uintptr_t)blk[k] - base;

			mmb_vfree(f.vm, blk[k]);
			model_free(fr, &n, off, off + sz[k]);
			blk[k] = NULL;
		} else {
			size_t len = 1 + mmb_rand_below(rng, 12 * PS);
			uint64_t want;

			sz[k] = (len + PS - 1) / PS * PS + PS;
			want = model_alloc(fr, &n, sz[k]);
			blk[k] = mmb_vmalloc(f.vm, len);
			cr_assert_not_null(blk[k], "step %d: vmalloc(%zu)", step, len);
			cr_assert_eq((uint64_t)(uintptr_t)blk[k] - base, want,
				     "step %d: vmalloc(%zu) at offset %#llx, lowest fit %#llx", step, len,
				     (unsigned long long)((uintptr_t)blk[k] - base),
				     (unsigned long long)want);
		}
	}
	cr_expect_eq(counters(&f).free_areas, (uint64_t)n, "free areas: %llu, model %d",
		     (unsigned long long)counters(&f).free_areas, n);
	vfix_check(&f, "after the sequence");
	vfix_fini(&f);
}

/* Bytes written through an area are in the frames' direct map, and back. */
Test(vmalloc, area_and_direct_map_share_frames)
{
	struct vfix f;
	unsigned char *p;

	vfix_init(&f, 32 << 20, 64 << 20, 1, 0);
	p = mmb_vmalloc(f.vm, 5 * PS);
	cr_assert_not_null(p);
	for (size_t i = 0; i < 5 * PS; i++)
		p[i] = (unsigned char)(i * 7 + 1);
	for (unsigned pg = 0; pg < 5; pg++) {
		uint64_t pfn = mmb_vmalloc_to_pfn(f.vm, p + pg * PS + 123);
		unsigned char *d;

		cr_assert_neq(pfn, MMB_VMALLOC_NO_PFN, "page %u has no frame", pg);
		cr_assert_lt(pfn, f.pm->nr_pfns);
		cr_expect(mmb_pfn_to_page(f.pm, pfn)->flags & MMB_PG_VMALLOC);
		d = mmb_pfn_to_virt(f.pm, pfn);
		cr_assert_eq(memcmp(d, p + pg * PS, PS), 0, "page %u differs in the direct map", pg);
		memset(d + 100, 0xc3 ^ pg, 50);
		for (int i = 100; i < 150; i++)
			cr_assert_eq(p[pg * PS + i], 0xc3 ^ pg, "direct-map write not seen in page %u", pg);
	}
	cr_expect_eq(mmb_vmalloc_to_pfn(f.vm, p + 5 * PS), MMB_VMALLOC_NO_PFN, "guard page has a frame");
	cr_expect_eq(mmb_vmalloc_size(f.vm, p), 5 * PS);
	cr_expect(mmb_is_vmalloc_addr(f.vm, p));
	cr_expect(!mmb_is_vmalloc_addr(f.vm, f.pm->dmap));
	mmb_vfree(f.vm, p);
	cr_expect_eq(mmb_vmalloc_to_pfn(f.vm, p), MMB_VMALLOC_NO_PFN);
	vfix_check(&f, "after vfree");
	vfix_fini(&f);
}

/* One byte past the area is the guard page, even with a neighbour right after it. */
Test(vmalloc, write_past_the_end_hits_the_guard_page, .signal = SIGSEGV)
{
	struct vfix f;
	volatile char *p, *next;

	vfix_init(&f, 32 << 20, 64 << 20, 1, 0);
	p = mmb_vmalloc(f.vm, 16 << 10);
	next = mmb_vmalloc(f.vm, 16 << 10);
	cr_assert(p && next);
	cr_assert_eq(next, p + (16 << 10) + PS, "areas are packed lowest first, guard between");
	p[(16 << 10) - 1] = 1;
	next[0] = 1;
	p[16 << 10] = 1;
}

/* A write into a freed (lazily freed, unpurged) area faults too. */
Test(vmalloc, write_after_vfree_faults, .signal = SIGSEGV)
{
	struct vfix f;
	volatile char *p;

	vfix_init(&f, 32 << 20, 64 << 20, 1, 0);
	p = mmb_vmalloc(f.vm, 8192);
	cr_assert_not_null((void *)p);
	mmb_vfree(f.vm, (void *)p);
	p[0] = 1;
}

static int count_substr(const char *s, const char *sub)
{
	int n = 0;

	for (const char *q = s; (q = strstr(q, sub)); q++)
		n++;
	return n;
}

static void vmallocinfo_text(struct vfix *f, char *buf, size_t len)
{
	FILE *m = fmemopen(buf, len, "w");

	cr_assert_not_null(m);
	cr_assert_eq(mmb_vmallocinfo(f->vm, m), 0);
	fclose(m);
}

/* A freed range is reused only after a purge (on demand or past the threshold). */
Test(vmalloc, freed_range_reused_only_after_purge)
{
	static char info[1 << 16];
	struct vfix f;
	char *a, *b, *c;

	vfix_init(&f, 32 << 20, 64 << 20, 1, 1 << 20);
	a = mmb_vmalloc(f.vm, 16 << 10);
	cr_assert_not_null(a);
	mmb_vfree(f.vm, a);
	cr_expect_eq(counters(&f).lazy_pages, 5, "16 KiB + guard = 5 lazy pages");
	vmallocinfo_text(&f, info, sizeof(info));
	cr_expect_eq(count_substr(info, "unpurged vm_area"), 1, "%s", info);
	b = mmb_vmalloc(f.vm, 16 << 10);
	cr_assert_not_null(b);
	cr_expect_neq(a, b, "an unpurged range was reused");
	vfix_check(&f, "with a lazy area");
	cr_expect_eq(mmb_vmalloc_purge(f.vm), 1);
	cr_expect_eq(counters(&f).lazy_pages, 0);
	c = mmb_vmalloc(f.vm, 16 << 10);
	cr_expect_eq(c, a, "after the purge the lowest range is a's again");
	mmb_vfree(f.vm, b);
	mmb_vfree(f.vm, c);
	vfix_check(&f, "end");
	vfix_fini(&f);
}

Test(vmalloc, purge_runs_past_lazy_max_pages)
{
	struct vfix f;
	char *p[4];

	vfix_init(&f, 32 << 20, 64 << 20, 1, 12);
	for (int i = 0; i < 4; i++)
		p[i] = mmb_vmalloc(f.vm, 3 * PS);	/* 4 pages each with the guard */
	mmb_vfree(f.vm, p[0]);
	mmb_vfree(f.vm, p[1]);
	mmb_vfree(f.vm, p[2]);
	cr_expect_eq(counters(&f).purges, 0, "12 lazy pages do not pass lazy_max_pages=12");
	cr_expect_eq(counters(&f).lazy_areas, 3);
	mmb_vfree(f.vm, p[3]);
	cr_expect_eq(counters(&f).purges, 1, "16 lazy pages pass it");
	cr_expect_eq(counters(&f).purged_areas, 4);
	cr_expect_eq(counters(&f).purged_pages, 16);
	cr_expect_eq(counters(&f).lazy_pages, 0);
	cr_expect_eq(counters(&f).free_areas, 1, "everything coalesced back into one free area");
	cr_expect_eq(mmb_vmalloc(f.vm, 3 * PS), p[0]);
	vfix_check(&f, "after the purge");
	vfix_fini(&f);
}

/* No space left: the allocation purges once and retries. */
Test(vmalloc, full_window_purges_and_retries)
{
	struct vfix f;
	char *a, *b;

	vfix_init(&f, 32 << 20, 1 << 20, 1, 1 << 20);
	a = mmb_vmalloc(f.vm, (1 << 20) - PS);	/* the whole window with its guard */
	cr_assert_not_null(a);
	cr_expect_null(mmb_vmalloc(f.vm, 1), "the window is full");
	mmb_vfree(f.vm, a);
	b = mmb_vmalloc(f.vm, (1 << 20) - PS);
	cr_expect_eq(b, a, "the lazy range came back through the purge on failure");
	cr_expect_eq(counters(&f).purges, 1);
	mmb_vfree(f.vm, b);
	vfix_fini(&f);
}

Test(vmalloc, vmallocinfo_matches_the_kernel_format)
{
	static char info[1 << 16];
	regex_t busy, lazy;
	struct vfix f;
	char *a, *b, *c;
	int nlines = 0;

	cr_assert_eq(regcomp(&busy, "^0x[0-9a-f]{16}-0x[0-9a-f]{16} +[0-9]+ [^ ]+ pages=[0-9]+ vmalloc( vpages)? N0=[0-9]+$",
			     REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regcomp(&lazy, "^0x[0-9a-f]{16}-0x[0-9a-f]{16} +[0-9]+ unpurged vm_area$",
			     REG_EXTENDED | REG_NOSUB), 0);
	vfix_init(&f, 64 << 20, 64 << 20, 1, 1 << 20);
	a = mmb_vmalloc(f.vm, 16 << 10);
	b = mmb_vmalloc(f.vm, 5 << 20);		/* 1280 pages: the page array is vmalloc'ed */
	c = mmb_vmalloc(f.vm, 100);
	cr_assert(a && b && c);
	mmb_vfree(f.vm, c);
	vmallocinfo_text(&f, info, sizeof(info));
	cr_log_info("vmallocinfo:\n%s", info);
	for (char *save = NULL, *line = strtok_r(info, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), nlines++) {
		unsigned long lo, hi;
		long size;

		cr_expect(!regexec(&busy, line, 0, NULL, 0) || !regexec(&lazy, line, 0, NULL, 0),
			  "not in the kernel's format: '%s'", line);
		cr_assert_eq(sscanf(line, "0x%lx-0x%lx %ld", &lo, &hi, &size), 3, "%s", line);
		cr_expect_eq(hi - lo, (unsigned long)size, "%s", line);
		if (lo == (unsigned long)a)
			cr_expect(strstr(line, " 20480 ") && strstr(line, " pages=4 vmalloc N0=4"),
				  "16 KiB area: %s", line);
		if (lo == (unsigned long)b)
			cr_expect(strstr(line, " pages=1280 vmalloc vpages N0=1280"), "5 MiB area: %s", line);
		if (lo == (unsigned long)c)
			cr_expect(strstr(line, " 8192 unpurged vm_area"), "freed area: %s", line);
	}
	cr_expect_eq(nlines, 4, "a, b, b's page array (3 pages), c unpurged");
	regfree(&busy);
	regfree(&lazy);
	vfix_check(&f, "with a vpages area");
	mmb_vfree(f.vm, a);
	mmb_vfree(f.vm, b);
	vfix_check(&f, "after vfree");
	vfix_fini(&f);
}

/* vmap maps the caller's frames; vunmap leaves them to the caller. */
Test(vmalloc, vmap_maps_given_frames)
{
	struct mmb_page *pg[3];
	struct vfix f;
	char *p;

	vfix_init(&f, 32 << 20, 64 << 20, 1, 0);
	for (int i = 0; i < 3; i++) {
		pg[i] = mmb_alloc_pages(f.b, 0, MMB_MT_UNMOVABLE);
		cr_assert_not_null(pg[i]);
		memset(mmb_page_address(f.pm, pg[i]), 'a' + i, PS);
	}
	p = mmb_vmap(f.vm, pg, 3);
	cr_assert_not_null(p);
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(p[i * PS + 17], 'a' + i);
		cr_expect_eq(mmb_vmalloc_to_pfn(f.vm, p + i * PS), mmb_page_to_pfn(f.pm, pg[i]));
	}
	vfix_check(&f, "with a vmap area");
	mmb_vunmap(f.vm, p);
	cr_expect_eq(mmb_buddy_used_pages(f.b), 3, "vunmap must not free the caller's frames");
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(*(char *)mmb_page_address(f.pm, pg[i]), 'a' + i);
		mmb_free_pages(f.b, pg[i], 0);
	}
	vfix_check(&f, "after vunmap");
	vfix_fini(&f);
}

Test(vmalloc, bad_input_returns_null_and_is_counted)
{
	struct vfix f;
	char err[MMB_ERR_MAX], *p;

	vfix_init(&f, 32 << 20, 16 << 20, 1, 0);
	cr_expect_null(mmb_vmalloc(f.vm, 0));
	mmb_vmalloc_last_error(f.vm, err, sizeof(err));
	cr_expect(strstr(err, "size 0"), "%s", err);
	cr_expect_null(mmb_vmalloc(f.vm, (16 << 20) + 1));
	cr_expect_null(mmb_vmalloc(f.vm, 16 << 20), "no room for the guard page");
	cr_expect_null(mmb_vmalloc_align(f.vm, 4096, 3 * PS));
	mmb_vmalloc_last_error(f.vm, err, sizeof(err));
	cr_expect(strstr(err, "not a power of two"), "%s", err);
	cr_expect_null(mmb_vmap(f.vm, NULL, 0));
	cr_expect_eq(counters(&f).failed_allocs, 5);
	p = mmb_vmalloc(f.vm, 3 * PS);
	cr_assert_not_null(p);
	mmb_vfree(f.vm, p + 1);
	mmb_vfree(f.vm, p + PS);
	mmb_vfree(f.vm, p + 5 * PS);
	mmb_vfree(f.vm, NULL);
	cr_expect_eq(counters(&f).bad_frees, 3);
	mmb_vmalloc_last_error(f.vm, err, sizeof(err));
	cr_expect(strstr(err, "nonexistent vm area"), "%s", err);
	cr_expect_eq(*(volatile char *)p, *(volatile char *)p, "the area survived bad frees");
	vfix_check(&f, "after bad input");
	mmb_vfree(f.vm, p);
	vfix_fini(&f);
}

/* Out of frames: NULL, the frames got so far go back, nothing half-mapped. */
Test(vmalloc, out_of_frames_unwinds)
{
	struct vfix f;
	char err[MMB_ERR_MAX];
	uint64_t used;

	char *p;

	vfix_init(&f, 4 << 20, 64 << 20, 1, 0);
	cr_expect_null(mmb_vmalloc(f.vm, 8 << 20));
	mmb_vmalloc_last_error(f.vm, err, sizeof(err));
	cr_expect(strstr(err, "exceeds total RAM"), "%s", err);
	p = mmb_vmalloc(f.vm, 2 << 20);
	cr_assert_not_null(p);
	used = mmb_buddy_used_pages(f.b);
	cr_expect_null(mmb_vmalloc(f.vm, 3 << 20));
	mmb_vmalloc_last_error(f.vm, err, sizeof(err));
	cr_expect(strstr(err, "failed to allocate pages"), "%s", err);
	cr_expect_eq(mmb_buddy_used_pages(f.b), used, "frames of the failed vmalloc kept");
	cr_expect_eq(counters(&f).failed_allocs, 2);
	cr_expect_eq(counters(&f).areas, 1);
	vfix_check(&f, "after the failure");
	mmb_vfree(f.vm, p);
	vfix_fini(&f);
}

/*
 * The OS seam failing an mmap: the (fail_shared_maps + 1)th mapping of
 * frames (EACCES), the (fail_unmaps + 1)th unmapping of an area, i.e. a
 * PROT_NONE MAP_FIXED remap (ENOMEM). -1: none.
 */
static int fail_shared_maps = -1, fail_unmaps = -1;

static void *failing_map(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if ((flags & MAP_SHARED) && fail_shared_maps-- == 0) {
		errno = EACCES;
		return NULL;
	}
	if (prot == PROT_NONE && (flags & MAP_FIXED) && fail_unmaps-- == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return mmb_os_default.map(addr, len, prot, flags, fd, off);
}

/* Mapping frames fails: NULL with the reason, everything unwound. */
Test(vmalloc, mmap_failure_unwinds)
{
	struct mmb_os_ops fake = mmb_os_default;
	struct mmb_page *pg[4];
	struct vfix f;
	char err[MMB_ERR_MAX], *p;
	uint64_t used;

	vfix_init(&f, 32 << 20, 64 << 20, 1, 0);
	/* Scattered frames, so that the area needs several runs (several mmaps). */
	for (int i = 0; i < 4; i++)
		pg[i] = mmb_alloc_pages(f.b, 0, MMB_MT_UNMOVABLE);
	fake.map = failing_map;
	mmb_os = &fake;
	fail_shared_maps = 1;
	p = mmb_vmap(f.vm, (struct mmb_page *[]){ pg[3], pg[1], pg[0], pg[2] }, 4);
	mmb_os = &mmb_os_default;
	cr_expect_null(p);
	mmb_vmalloc_last_error(f.vm, err, sizeof(err));
	cr_expect(strstr(err, "mmap") && strstr(err, strerror(EACCES)), "%s", err);
	vfix_check(&f, "after a failed vmap");
	for (int i = 0; i < 4; i++)
		mmb_free_pages(f.b, pg[i], 0);
	used = mmb_buddy_used_pages(f.b);
	mmb_os = &fake;
	fail_shared_maps = 0;
	p = mmb_vmalloc(f.vm, 8 * PS);
	mmb_os = &mmb_os_default;
	cr_expect_null(p);
	cr_expect_eq(mmb_buddy_used_pages(f.b), used, "frames of the failed vmalloc kept");
	cr_expect_eq(counters(&f).failed_allocs, 2);
	vfix_check(&f, "after a failed vmalloc");
	vfix_fini(&f);
}

/*
 * vfree's unmap fails: the area is lost. Its pages stay mapped and its
 * frames its own, check() passes, it is counted, and its range is never
 * handed out again, not by a purge, not when the window is full; destroy
 * gives its frames back.
 */
Test(vmalloc, failed_unmap_in_vfree_loses_the_area)
{
	enum { WINDOW_PAGES = 256 };
	static char *blk[WINDOW_PAGES];
	struct mmb_os_ops fake = mmb_os_default;
	struct mmb_vmalloc_counters c;
	struct vfix f;
	char err[MMB_ERR_MAX];
	unsigned char *p, *q;
	uint64_t used;
	int n = 0;

	vfix_init(&f, 32 << 20, WINDOW_PAGES * PS, 1, 0);
	p = mmb_vmalloc(f.vm, 3 * PS);		/* 4 pages with the guard, at the window's start */
	q = mmb_vmalloc(f.vm, 2 * PS);
	cr_assert(p && q);
	memset(p, 0x5a, 3 * PS);
	used = mmb_buddy_used_pages(f.b);
	fake.map = failing_map;
	mmb_os = &fake;
	fail_unmaps = 0;
	mmb_vfree(f.vm, p);
	mmb_os = &mmb_os_default;
	cr_assert_eq(fail_unmaps, -1, "vfree did not unmap through mmb_os");
	mmb_vmalloc_last_error(f.vm, err, sizeof(err));
	cr_expect(strstr(err, "unmapping 12288 bytes") && strstr(err, "never reused"), "%s", err);
	vfix_check(&f, "with a lost area");
	c = counters(&f);
	cr_expect_eq(c.lost_areas, 1);
	cr_expect_eq(c.lost_pages, 3, "lost_pages %llu", (unsigned long long)c.lost_pages);
	cr_expect_eq(c.areas, 1);
	cr_expect_eq(c.pages, 2, "the lost frames left NR_VMALLOC");
	cr_expect_eq(c.lazy_areas, 0, "the lost range went to the lazy tree");
	cr_expect_eq(c.frees, 1);
	cr_expect_eq(mmb_buddy_used_pages(f.b), used, "the lost area's frames went back");
	for (int pg = 0; pg < 3; pg++)
		cr_expect_eq(((volatile unsigned char *)p)[pg * PS + 7], 0x5a,
			     "page %d of the lost area no longer maps its frame", pg);
	cr_expect_null(mmb_vmalloc_to_page(f.vm, p));
	cr_expect_eq(mmb_vmalloc_size(f.vm, p), 0);
	mmb_vfree(f.vm, p);
	cr_expect_eq(counters(&f).bad_frees, 1, "a lost area freed again is a bad free");
	cr_expect_eq(counters(&f).lost_areas, 1);
	cr_expect_eq(mmb_vmalloc_purge(f.vm), 0, "a purge found the lost range");
	/* Fill the window with 1-page areas (2 with the guard): 256 - 4 - 3 pages hold 124. */
	while (n < WINDOW_PAGES && (blk[n] = mmb_vmalloc(f.vm, 1))) {
		unsigned char *b = (unsigned char *)blk[n];

		cr_expect(b + 2 * PS <= p || b >= p + 4 * PS,
			  "area %p overlaps the lost range %p-%p", b, p, p + 4 * PS);
		n++;
	}
	cr_expect_eq(n, 124, "%d areas of 2 pages fit beside the lost and busy ones", n);
	vfix_check(&f, "with the window full");
	while (n)
		mmb_vfree(f.vm, blk[--n]);
	mmb_vfree(f.vm, q);
	vfix_check(&f, "after freeing the rest");
	cr_expect_eq(counters(&f).lost_areas, 1);
	vfix_fini(&f);
}

/*
 * Unwinding a vmap whose second run failed to map, the unmap fails too: the
 * area is lost with one page mapped (check() verifies that one and the
 * PROT_NONE rest); its frames stay the caller's.
 */
Test(vmalloc, failed_unmap_while_unwinding_loses_the_area)
{
	struct mmb_os_ops fake = mmb_os_default;
	struct mmb_vmalloc_counters c;
	struct mmb_page *pg[4];
	struct vfix f;
	char *p;

	vfix_init(&f, 32 << 20, 64 << 20, 1, 0);
	for (int i = 0; i < 4; i++)
		pg[i] = mmb_alloc_pages(f.b, 0, MMB_MT_UNMOVABLE);
	fake.map = failing_map;
	mmb_os = &fake;
	fail_shared_maps = 1;
	fail_unmaps = 0;
	p = mmb_vmap(f.vm, (struct mmb_page *[]){ pg[3], pg[1], pg[0], pg[2] }, 4);
	mmb_os = &mmb_os_default;
	cr_expect_null(p);
	cr_assert_eq(fail_unmaps, -1, "the unwinding did not unmap");
	c = counters(&f);
	cr_expect_eq(c.lost_areas, 1);
	cr_expect_eq(c.lost_pages, 0, "a vmap'ed area holds no frames of its own");
	cr_expect_eq(c.failed_allocs, 1);
	cr_expect_eq(c.areas, 0);
	vfix_check(&f, "with a half-mapped lost area");
	for (int i = 0; i < 4; i++)
		mmb_free_pages(f.b, pg[i], 0);
	vfix_check(&f, "after the caller freed its frames");
	vfix_fini(&f);
}

/*
 * A lost area keeps its vmalloc'ed page array (a busy area) to the end;
 * destroy frees both, for an area lost before it and one lost by its own
 * vfree (ASan sees any use after free or leak).
 */
Test(vmalloc, lost_areas_with_vmalloced_page_arrays_are_freed_at_destroy)
{
	struct mmb_os_ops fake = mmb_os_default;
	struct mmb_vmalloc_counters c;
	struct vfix f;
	char *a, *b;

	vfix_init(&f, 32 << 20, 64 << 20, 1, 0);
	a = mmb_vmalloc(f.vm, 4 << 20);		/* 1024 pages: an 8 KiB page array, vmalloc'ed */
	b = mmb_vmalloc(f.vm, 4 << 20);
	cr_assert(a && b);
	fake.map = failing_map;
	mmb_os = &fake;
	fail_unmaps = 0;
	mmb_vfree(f.vm, a);
	mmb_os = &mmb_os_default;
	c = counters(&f);
	cr_expect_eq(c.lost_areas, 1);
	cr_expect_eq(c.lost_pages, 1024);
	cr_expect_eq(c.areas, 3, "b and both page arrays");
	vfix_check(&f, "with a lost owner");
	mmb_os = &fake;
	fail_unmaps = 0;		/* destroy's vfree of b */
	vfix_fini(&f);
	mmb_os = &mmb_os_default;
	cr_expect_lt(fail_unmaps, 0, "destroy did not unmap b through mmb_os");
}

/*
 * Near vm.max_map_count, mapping fails with ENOMEM: vmalloc returns NULL with
 * a message naming the limit, and the process goes on. Each 1-page area
 * splits the window (about two mappings); other mappings fill most of the
 * quota first so the test stays short.
 */
Test(vmalloc, max_map_count_gives_a_clear_error)
{
	enum { MAXAREAS = 40000 };
	static char *p[MAXAREAS];
	struct mmb_vmalloc_counters c;
	char err[MMB_ERR_MAX] = "";
	struct vfix f;
	size_t filler_pages;
	char *filler;
	int n = 0;

	vfix_init(&f, 256 << 20, 1ULL << 30, 1, 0);
	c = counters(&f);
	if (c.max_map_count == MMB_STAT_NONE || c.map_count == MMB_STAT_NONE)
		cr_skip_test("vm.max_map_count or /proc/self/maps unreadable");
	if (c.max_map_count > 200000)
		cr_skip_test("vm.max_map_count = %llu: too high to reach quickly",
			     (unsigned long long)c.max_map_count);
	cr_log_info("vm.max_map_count %llu, mappings now %llu", (unsigned long long)c.max_map_count,
		    (unsigned long long)c.map_count);
	/* Every other page read-only: each adds two mappings. Leave ~4000 for vmalloc. */
	filler_pages = (c.max_map_count - c.map_count - 4000);
	filler = mmap(NULL, filler_pages * PS, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert_neq(filler, MAP_FAILED);
	for (size_t i = 1; i < filler_pages; i += 2)
		mprotect(filler + i * PS, PS, PROT_READ);
	while (n < MAXAREAS && (p[n] = mmb_vmalloc(f.vm, PS)))
		n++;
	cr_assert_lt(n, MAXAREAS, "the limit was never reached");
	mmb_vmalloc_last_error(f.vm, err, sizeof(err));
	cr_log_info("after %d areas: %s", n, err);
	cr_expect(strstr(err, "ENOMEM") && strstr(err, "vm.max_map_count"), "%s", err);
	cr_expect_eq(counters(&f).failed_allocs, 1);
	munmap(filler, filler_pages * PS);
	vfix_check(&f, "at the limit");
	for (int i = 0; i < n; i++)
		mmb_vfree(f.vm, p[i]);
	vfix_check(&f, "after freeing");
	vfix_fini(&f);
}

/* The registry allocator: options, stats and dump_state files. */
Test(vmalloc, registry_allocator_stats_and_dump_state)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc_cfg cfg;
	struct mmb_alloc_stats st;
	struct mmb_alloc *a;
	char err[MMB_ERR_MAX] = "", dir[256], path[300], buf[8192];
	void *p, *q;

	cr_assert_eq(mmb_alloc_parse_config("vmalloc:window=256M,lazy=off,mem=64M", &ops, &cfg, err,
					    sizeof(err)), 0, "%s", err);
	cr_expect_eq(mmb_alloc_parse_config("vmalloc:lazy=maybe", &ops, &cfg, err, sizeof(err)), -EINVAL);
	cr_assert_eq(mmb_alloc_parse_config("vmalloc:window=256M,lazy=off,mem=64M", &ops, &cfg, err,
					    sizeof(err)), 0, "%s", err);
	cfg.nthreads = 1;
	cr_assert_eq(ops->create(&cfg, &a, err, sizeof(err)), 0, "%s", err);
	p = ops->alloc(a, 10000, 0);
	q = ops->alloc(a, 1 << 20, 4096);
	cr_assert(p && q);
	cr_expect_eq(ops->usable_size(a, p), 3 * PS);
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_eq(st.usable_bytes, 3 * PS + (1 << 20));
	cr_expect_geq(st.footprint_bytes, st.usable_bytes, "frames held include those mapped");
	cr_expect_lt(st.footprint_bytes, st.usable_bytes + (4 << 20), "footprint %llu",
		     (unsigned long long)st.footprint_bytes);
	cr_expect_eq(st.allocs, 2);
	ops->free(a, q, 1 << 20);
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_eq(st.usable_bytes, 3 * PS);
	cr_expect_geq(st.footprint_peak_bytes, 3 * PS + (1 << 20), "the peak keeps the freed 1 MiB");
	cr_assert_eq(ops->check(a, err, sizeof(err)), 0, "%s", err);
	mmb_tmpname(dir, sizeof(dir), "vmalloc");
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(ops->dump_state(a, dir), 0);
	mmb_slurp_in(dir, "vmallocinfo", buf, sizeof(buf));
	cr_expect_eq(count_substr(buf, "\n"), 1, "one busy area, no lazy ones (lazy=off): %s", buf);
	cr_expect(strstr(buf, " 16384 ") && strstr(buf, " pages=3 vmalloc"), "%s", buf);
	mmb_slurp_in(dir, "vmalloc_stats", buf, sizeof(buf));
	cr_expect(strstr(buf, "areas 1\n") && strstr(buf, "mmap_calls ") && strstr(buf, "frees 1\n") &&
		  strstr(buf, "map_count ") && strstr(buf, "purges 0\n"), "%s", buf);
	snprintf(path, sizeof(path), "%s/buddyinfo", dir);
	cr_expect(mmb_exists(path), "the buddy allocator's state files are written too");
	mmb_rm_rf(dir);
	ops->free(a, p, 10000);
	ops->destroy(a);
}

/* A lost area in the dump_state files: its vmallocinfo line and the counters. */
Test(vmalloc, lost_area_in_vmallocinfo_and_stats)
{
	struct mmb_os_ops fake = mmb_os_default;
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	regex_t lost;
	char err[MMB_ERR_MAX] = "", dir[256], buf[8192];
	void *p, *q;

	cr_assert_eq(regcomp(&lost, "^0x[0-9a-f]{16}-0x[0-9a-f]{16} +16384 [^ ]+ pages=3 vmalloc lost N0=3$",
			     REG_EXTENDED | REG_NOSUB | REG_NEWLINE), 0);
	a = mmb_test_alloc("vmalloc:window=16M,mem=16M", 1, &ops);
	p = ops->alloc(a, 3 * PS, 0);
	q = ops->alloc(a, PS, 0);
	cr_assert(p && q);
	fake.map = failing_map;
	mmb_os = &fake;
	fail_unmaps = 0;
	ops->free(a, p, 3 * PS);
	mmb_os = &mmb_os_default;
	cr_assert_eq(fail_unmaps, -1);
	cr_assert_eq(ops->check(a, err, sizeof(err)), 0, "%s", err);
	mmb_tmpname(dir, sizeof(dir), "vmalloc");
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(ops->dump_state(a, dir), 0);
	mmb_slurp_in(dir, "vmallocinfo", buf, sizeof(buf));
	cr_expect_eq(count_substr(buf, "\n"), 2, "q and the lost area: %s", buf);
	cr_expect_eq(count_substr(buf, " lost"), 1, "%s", buf);
	cr_expect(!regexec(&lost, buf, 0, NULL, 0), "no lost line for p: %s", buf);
	mmb_slurp_in(dir, "vmalloc_stats", buf, sizeof(buf));
	cr_expect(strstr(buf, "\nareas 1\n") && strstr(buf, "\nlost_areas 1\nlost_pages 3\n") &&
		  strstr(buf, "\nlazy_areas 0\n"), "%s", buf);
	mmb_rm_rf(dir);
	regfree(&lost);
	ops->free(a, q, PS);
	ops->destroy(a);
}

/* 1 if the page at addr has a PTE (/proc/self/pagemap bit 63). */
static int page_present(const void *addr)
{
	FILE *f = fopen("/proc/self/pagemap", "r");
	uint64_t e = 0;

	cr_assert_not_null(f);
	cr_assert_eq(fseek(f, (long)((uintptr_t)addr / PS * 8), SEEK_SET), 0);
	cr_assert_eq(fread(&e, sizeof(e), 1, f), 1);
	fclose(f);
	return (int)(e >> 63);
}

/*
 * Frames already in use once are mapped with their PTEs (as the kernel's
 * vmalloc maps every page at once); frames never touched are left to fault,
 * so that their first touch can be seen.
 */
Test(vmalloc, resident_frames_are_prefaulted_holes_are_not)
{
	struct vfix f;
	uint64_t before;
	char *p, *q, *hold;
	int nres = 0;

	vfix_init(&f, 32 << 20, 64 << 20, 1, 0);
	p = mmb_vmalloc(f.vm, 4 * PS);
	cr_assert_not_null(p);
	for (int i = 0; i < 4; i++)
		cr_expect(!page_present(p + i * PS), "fresh frame %d was populated", i);
	cr_expect_eq(counters(&f).prefaulted_pages, 0);
	memset(p, 0x5a, 4 * PS);
	mmb_vfree(f.vm, p);
	q = mmb_vmalloc(f.vm, 4 * PS);	/* the same frames, from the per-thread list */
	cr_assert_not_null(q);
	cr_expect_eq(counters(&f).prefaulted_pages, 4);
	for (int i = 0; i < 4; i++)
		cr_expect(page_present(q + i * PS), "page %d of resident frames has no PTE", i);
	cr_expect_eq(q[3 * PS], 0x5a, "vmalloc does not zero");
	mmb_vfree(f.vm, q);
	/* Mixed: 4 fresh frames (q holds the used ones), pages 1 and 3 touched;
	 * reused, only those two get PTEs at once. Residency is read from the
	 * direct map (mincore). */
	hold = mmb_vmalloc(f.vm, 4 * PS);
	p = mmb_vmalloc(f.vm, 4 * PS);
	cr_assert_not_null(p);
	p[1 * PS] = p[3 * PS] = 1;
	mmb_vfree(f.vm, p);
	before = counters(&f).prefaulted_pages;
	q = mmb_vmalloc(f.vm, 4 * PS);
	cr_assert_not_null(q);
	for (int i = 0; i < 4; i++) {
		unsigned char res = 0;

		cr_assert_eq(mincore(mmb_pfn_to_virt(f.pm, mmb_vmalloc_to_pfn(f.vm, q + i * PS)), PS,
				     &res), 0);
		nres += res & 1;
		cr_expect_eq(page_present(q + i * PS), res & 1, "page %d: PTE %d, frame resident %d",
			     i, page_present(q + i * PS), res & 1);
	}
	cr_expect_eq(nres, 2, "the same frames came back: two touched, two holes");
	cr_expect_eq(counters(&f).prefaulted_pages - before, 2);
	mmb_vfree(f.vm, q);
	mmb_vfree(f.vm, hold);
	vfix_fini(&f);
}

/* Two threads vmalloc and vfree at once, with frequent purges; check() after. */
struct mt_arg {
	struct vfix *f;
	uint64_t seed;
};

static void *mt_main(void *arg)
{
	enum { SLOTS = 32, STEPS = 2000 };
	struct mt_arg *m = arg;
	unsigned char *blk[SLOTS] = { 0 };
	uint64_t rng[4];

	mmb_buddy_thread_attach(m->f->b);
	mmb_rand_seed(rng, m->seed);
	for (int step = 0; step < STEPS; step++) {
		int k = (int)mmb_rand_below(rng, SLOTS);

		if (blk[k]) {
			if (blk[k][0] != (unsigned char)k)
				return (void *)"an area was overwritten";
			mmb_vfree(m->f->vm, blk[k]);
			blk[k] = NULL;
		} else {
			blk[k] = mmb_vmalloc(m->f->vm, 1 + mmb_rand_below(rng, 5 * PS));
			if (!blk[k])
				return (void *)"vmalloc failed";
			blk[k][0] = (unsigned char)k;
		}
	}
	for (int k = 0; k < SLOTS; k++)
		mmb_vfree(m->f->vm, blk[k]);
	mmb_buddy_thread_detach(m->f->b);
	return NULL;
}

Test(vmalloc, two_threads_with_frequent_purges)
{
	struct vfix f;
	struct mt_arg m[2] = { { &f, 0x7a110c21 }, { &f, 0x7a110c22 } };
	pthread_t t[2];
	void *r[2];

	cr_log_info("seeds %#llx %#llx", (unsigned long long)m[0].seed, (unsigned long long)m[1].seed);
	vfix_init(&f, 64 << 20, 256 << 20, 1, 32);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, mt_main, &m[i]);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], &r[i]);
		cr_expect_null(r[i], "thread %d: %s", i, r[i] ? (const char *)r[i] : "");
	}
	cr_expect_gt(counters(&f).purges, 10);
	cr_expect_eq(counters(&f).areas, 0);
	vfix_check(&f, "after both threads");
	vfix_fini(&f);
}

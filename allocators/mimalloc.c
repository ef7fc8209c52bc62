/*
 * mimalloc.c — mimalloc 2.0.9 at its own fast path (mi_malloc/mi_free on
 * the thread's default heap), that heap in an exclusive arena over an
 * instrumented region.
 *
 * Linking: mmbench links -lmimalloc after -ljemalloc, so jemalloc owns
 * malloc and mimalloc is reached only through mi_* (libmimalloc also
 * defines malloc; the first library on the link line wins,
 * reference/dependencies.md §1.2b, §1.5).
 *
 * Data structure. The region is one anonymous MAP_NORESERVE mapping aligned
 * to 64 MiB (mimalloc's segment alignment), announced as "mimalloc-arena"
 * (os.h) and given to mimalloc with mi_manage_os_memory_ex(exclusive), so
 * only heaps made with mi_heap_new_in_arena(id) allocate in it. A mimalloc
 * heap may allocate only from the thread that made it, so each thread that
 * allocates gets its own heap, in a struct mi_thread kept on the instance's
 * list while the thread is attached (from thread_attach, or the thread's
 * first alloc if it did not attach, to thread_detach). Blocks may be freed
 * from any thread (mi_free handles it).
 *
 * The fast path (issue 19). thread_attach makes that heap the thread's
 * default heap (mi_heap_set_default, keeping the old one), so alloc is
 * mi_malloc(size) and free mi_free(p): the code malloc/free run in a
 * program on mimalloc (its malloc is mi_malloc), one indirect call (the
 * registry) in front. alloc adds one thread-local compare and an alignment
 * test before a tail jump; free is a tail jump (mi_free serves any thread,
 * attached or not). Both call through the GOT (noplt), as a program's
 * malloc call costs one jump through the PLT. No per-call counting: a
 * usable-bytes counter kept around mi_malloc makes alloc a full call with
 * a frame (24 instructions instead of 6, most of the adapter's cost when
 * it had one: README "Adapter overhead"). thread_detach restores the
 * old default heap and deletes the arena heap. mmbench's own malloc is
 * jemalloc's (linked first), so nothing but this adapter calls mi_malloc:
 * the harness's bookkeeping never lands in the arena, bound thread or not.
 *
 * Usable bytes (stats()) come from mimalloc's own page counts at the time
 * of the call, not from the calls: a heap walk (mi_heap_visit_blocks,
 * areas only) sums used blocks x block size over the caller's arena heap
 * and over the areas of its backing heap that lie in the region (where a
 * deleted arena heap's pages go). A heap may be walked only by its own
 * thread, so the figure is given only while every heap that ever served
 * the instance was the caller's (a->owner; one thread since create), and is
 * "not measured" (MMB_STAT_NONE) once a second thread has attached. The
 * harness never reads it (usable bytes and internal_frag come from
 * usable_size per call, probe.h); tests and check() do. A block freed by
 * another thread counts as used until its page's owner collects it
 * (mimalloc's "used"), which a single-owner instance never sees.
 *
 * Entry points are weak references: a libmimalloc without one of them (too
 * old: heaps in arenas came with 2.0.7 / 1.7.7) loads, and supported()
 * names the missing symbol before any cell runs.
 *
 * Footprint: the resident pages of the region (mincore), i.e. what the
 * arena's segments really touched, metadata included.
 *
 * Invariants (check(), over the caller's heaps, the only ones it may
 * walk): every area of the arena heap lies in the region; used blocks <=
 * committed blocks <= reserved blocks in every area. Resident pages lie
 * inside the region (by construction of mincore over it).
 *
 * Size classes: a mimalloc heap may be walked (mi_heap_visit_blocks) only
 * by its own thread, so each thread walks its heap when it detaches, into
 * the instance's table (live = the pages' used blocks, capacity = their
 * committed blocks, pages = committed bytes / 4 KiB, per block size).
 * size_classes() returns that table plus the caller's own heap, and
 * -EBUSY while another thread still holds a heap: the table is the state
 * each thread left at its end, never a live peak.
 *
 * Teardown: mimalloc 2.0.9 cannot forget an arena, so destroy() deletes the
 * heaps it can (the calling thread's) and withdraws the region from
 * instrumentation, but leaves it mapped for the process's lifetime (one
 * instance per cell's process; tests make a few).
 */
#include "allocator.h"
#include "os.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <mimalloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MI_REGION_ALIGN (64UL << 20)
#define MI_CLASSES_MAX 128		/* > mimalloc's MI_BIN_HUGE + 1 */

/* Calls through the GOT, as a program's malloc call jumps through the PLT
 * once: one jump, not a jump to the PLT that jumps again (clang has no
 * noplt; it then takes the PLT). */
#if defined(__has_attribute)
#if __has_attribute(noplt)
#define MI_NOPLT __attribute__((noplt))
#endif
#endif
#ifndef MI_NOPLT
#define MI_NOPLT
#endif

#pragma weak mi_malloc
#pragma weak mi_malloc_aligned
#pragma weak mi_free
#pragma weak mi_usable_size
#pragma weak mi_heap_new_in_arena
#pragma weak mi_heap_set_default
#pragma weak mi_heap_get_backing
#pragma weak mi_heap_delete
#pragma weak mi_heap_destroy
#pragma weak mi_manage_os_memory_ex
#pragma weak mi_heap_visit_blocks

extern void *mi_malloc(size_t size) MI_NOPLT;
extern void mi_free(void *p) MI_NOPLT;

/* A thread's arena heap, on the instance's list while the thread is attached. */
struct mi_thread {
	mi_heap_t *heap;
	struct mi_thread *next;
};

struct mmb_alloc {
	char *region;
	size_t region_bytes;
	mi_arena_id_t arena;
	unsigned char *vec;		/* mincore vector, one byte per page */
	pthread_mutex_t lock;		/* guards threads, owner, shared, classes */
	struct mi_thread *threads;
	unsigned long owner;		/* serial of the first thread that attached, 0: none */
	int shared;			/* a second thread has attached since */
	char provider[PATH_MAX];
	struct mmb_size_class classes[MI_CLASSES_MAX];	/* heaps walked at detach, under lock */
	int nclasses;
};

static __thread struct {
	struct mmb_alloc *a;
	struct mi_thread *t;
	mi_heap_t *old_default;
	unsigned long serial;		/* this thread's number (mi_serial), 0 until asked */
} mi_tls;

/* A number no other thread of the process has had (thread ids are reused). */
static unsigned long mi_serial(void)
{
	static atomic_ulong next = 1;

	if (!mi_tls.serial)
		mi_tls.serial = atomic_fetch_add(&next, 1);
	return mi_tls.serial;
}

static int mi_supported(const char **why)
{
	static const struct {
		const char *name;
		const void *addr;
	} syms[] = {
		{ "mi_malloc", (const void *)mi_malloc },
		{ "mi_malloc_aligned", (const void *)mi_malloc_aligned },
		{ "mi_free", (const void *)mi_free },
		{ "mi_usable_size", (const void *)mi_usable_size },
		{ "mi_heap_new_in_arena", (const void *)mi_heap_new_in_arena },
		{ "mi_heap_set_default", (const void *)mi_heap_set_default },
		{ "mi_heap_get_backing", (const void *)mi_heap_get_backing },
		{ "mi_heap_delete", (const void *)mi_heap_delete },
		{ "mi_heap_destroy", (const void *)mi_heap_destroy },
		{ "mi_manage_os_memory_ex", (const void *)mi_manage_os_memory_ex },
		{ "mi_heap_visit_blocks", (const void *)mi_heap_visit_blocks },
	};
	static char buf[160];

	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if (!syms[i].addr) {
			snprintf(buf, sizeof(buf), "the loaded libmimalloc has no '%s' "
				 "(mimalloc >= 2.0.7 or 1.7.7 is needed)", syms[i].name);
			*why = buf;
			return -ENOTSUP;
		}
	return 0;
}

static const struct mmb_param mi_opts[] = {
	{ "region", MMB_P_SIZE, "2G", 128 << 20, 1ULL << 40, NULL,
	  "address space of the arena's region, bytes (a multiple of 64M; reserved, not committed)" },
	{ 0 },
};

static int mi_validate(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen)
{
	if (mmb_pval_u64(&cfg->opts, "region") % MI_REGION_ALIGN) {
		snprintf(err, errlen, "allocator mimalloc: 'region=%s' must be a multiple of 64M",
			 mmb_pval_str(&cfg->opts, "region"));
		return -EINVAL;
	}
	return 0;
}

static int mi_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
		     size_t errlen)
{
	size_t len = mmb_pval_u64(&cfg->opts, "region"), page = (size_t)sysconf(_SC_PAGESIZE);
	struct mmb_alloc *a;
	char *raw, *start, real[PATH_MAX];
	Dl_info di;
	int rc;

	const char *missing;

	if (mi_supported(&missing)) {
		snprintf(err, errlen, "mimalloc: %s", missing);
		return -ENOTSUP;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "mimalloc: out of memory");
		return -ENOMEM;
	}
	if (!dladdr((void *)mi_malloc, &di) || !di.dli_fname) {
		snprintf(err, errlen, "mimalloc: cannot find the library that defines mi_malloc");
		free(a);
		return -ENOTSUP;
	}
	snprintf(a->provider, sizeof(a->provider), "%s",
		 realpath(di.dli_fname, real) ? real : di.dli_fname);
	raw = mmap(NULL, len + MI_REGION_ALIGN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "mimalloc: mmap of a %zu-byte region: %s", len, strerror(errno));
		free(a);
		return rc;
	}
	start = (char *)(((uintptr_t)raw + MI_REGION_ALIGN - 1) & ~(MI_REGION_ALIGN - 1));
	if (start > raw)
		munmap(raw, (size_t)(start - raw));
	munmap(start + len, (size_t)(raw + len + MI_REGION_ALIGN - (start + len)));
	a->region = start;
	a->region_bytes = len;
	a->vec = mmap(NULL, len / page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->vec == MAP_FAILED) {
		snprintf(err, errlen, "mimalloc: out of memory");
		rc = -ENOMEM;
		goto out_unmap;
	}
	rc = mmb_region_add("mimalloc-arena", a->region, len, MMB_REGION_MISSING, -1, 0);
	if (rc) {
		snprintf(err, errlen, "mimalloc: instrumenting the region: %s", strerror(-rc));
		goto out_vec;
	}
	if (!mi_manage_os_memory_ex(a->region, len, true, false, true, -1, true, &a->arena)) {
		snprintf(err, errlen, "mimalloc: mi_manage_os_memory_ex refused the region");
		rc = -ENOMEM;
		mmb_region_del(a->region, len);
		goto out_vec;
	}
	pthread_mutex_init(&a->lock, NULL);
	*r_a = a;
	return 0;

out_vec:
	munmap(a->vec, len / page);
out_unmap:
	munmap(a->region, len);
	free(a);
	return rc;
}

static void mi_thread_detach(struct mmb_alloc *a);

static void mi_thread_attach(struct mmb_alloc *a)
{
	unsigned long me = mi_serial();
	struct mi_thread *t;

	if (mi_tls.a == a)
		return;
	if (mi_tls.a)
		mi_thread_detach(mi_tls.a);
	t = calloc(1, sizeof(*t));
	if (!t)
		return;		/* alloc() will try again and fail with NULL */
	t->heap = mi_heap_new_in_arena(a->arena);
	if (!t->heap) {
		free(t);
		return;
	}
	pthread_mutex_lock(&a->lock);
	t->next = a->threads;
	a->threads = t;
	if (!a->owner)
		a->owner = me;
	else if (a->owner != me)
		a->shared = 1;
	pthread_mutex_unlock(&a->lock);
	mi_tls.old_default = mi_heap_set_default(t->heap);
	mi_tls.a = a;
	mi_tls.t = t;
}

/* One area (a mimalloc page) of a heap walk into the table (sorted by size). */
static bool mi_visit_area(const mi_heap_t *heap, const mi_heap_area_t *area, void *block,
			  size_t block_size, void *arg)
{
	struct mmb_alloc *a = arg;
	struct mmb_size_class *c = a->classes;
	int i;

	(void)heap, (void)block, (void)block_size;
	if (!area->block_size)
		return true;
	for (i = 0; i < a->nclasses && c[i].class_bytes < area->block_size; i++)
		;
	if (i == a->nclasses || c[i].class_bytes != area->block_size) {
		if (a->nclasses == MI_CLASSES_MAX)
			return true;
		memmove(&c[i + 1], &c[i], (size_t)(a->nclasses - i) * sizeof(*c));
		c[i] = (struct mmb_size_class){ .class_bytes = area->block_size };
		a->nclasses++;
	}
	c[i].live_objects += area->used;
	c[i].capacity_objects += area->committed / area->block_size;
	c[i].pages += (area->committed + 4095) / 4096;
	return true;
}

/* The old default heap comes back; the arena heap goes (its live blocks
 * move to the thread's backing heap and stay valid), its size classes to
 * the table first. */
static void mi_thread_detach(struct mmb_alloc *a)
{
	struct mi_thread **pp;

	if (mi_tls.a != a)
		return;
	mi_heap_set_default(mi_tls.old_default);
	pthread_mutex_lock(&a->lock);
	mi_heap_visit_blocks(mi_tls.t->heap, false, mi_visit_area, a);
	for (pp = &a->threads; *pp != mi_tls.t; pp = &(*pp)->next)
		;
	*pp = mi_tls.t->next;
	pthread_mutex_unlock(&a->lock);
	mi_heap_delete(mi_tls.t->heap);
	free(mi_tls.t);
	mi_tls.a = NULL;
	mi_tls.t = NULL;
}

static void mi_destroy(struct mmb_alloc *a)
{
	struct mi_thread *t, *next;

	if (mi_tls.a == a) {
		mi_heap_set_default(mi_tls.old_default);
		mi_heap_destroy(mi_tls.t->heap);
		mi_tls.a = NULL;
		mi_tls.t = NULL;
	}
	for (t = a->threads; t; t = next) {
		next = t->next;
		free(t);
	}
	mmb_region_del(a->region, a->region_bytes);
	munmap(a->vec, a->region_bytes / (size_t)sysconf(_SC_PAGESIZE));
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* Not attached yet (attach, as a worker would have), or over-aligned. */
static __attribute__((noinline)) void *mi_alloc_slow(struct mmb_alloc *a, size_t size,
						     size_t align)
{
	if (mi_tls.a != a)
		mi_thread_attach(a);
	if (mi_tls.a != a)
		return NULL;
	return align <= 8 ? mi_malloc(size) : mi_malloc_aligned(size, align);
}

static void *mi_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	if (__builtin_expect(mi_tls.a != a || align > 8, 0))
		return mi_alloc_slow(a, size, align);
	return mi_malloc(size);		/* the default heap: this thread's arena heap */
}

/* Any thread's, attached or not: mi_free finds the block's page itself. */
static void mi_free_(struct mmb_alloc *a, void *p, size_t size)
{
	(void)a, (void)size;
	mi_free(p);
}

static size_t mi_usable_size_(struct mmb_alloc *a, const void *p)
{
	(void)a;
	return mi_usable_size(p);
}

/* A walk of the caller's heaps: what stats() and check() read. */
struct mi_walk {
	const struct mmb_alloc *a;
	uint64_t usable;		/* used blocks x block size */
	const char *bad;		/* the first broken invariant, NULL if none */
	uintptr_t bad_at;
};

static bool mi_in_region(const struct mmb_alloc *a, const mi_heap_area_t *area)
{
	return (char *)area->blocks >= a->region &&
	       (char *)area->blocks + area->reserved <= a->region + a->region_bytes;
}

static bool mi_walk_area(const mi_heap_area_t *area, struct mi_walk *w)
{
	if (!area->block_size)
		return true;
	if (area->used > area->committed / area->block_size ||
	    area->committed > area->reserved) {
		w->bad = "an area has more used than committed, or more committed than reserved, blocks";
		w->bad_at = (uintptr_t)area->blocks;
	}
	w->usable += (uint64_t)area->used * area->block_size;
	return true;
}

static bool mi_walk_arena_area(const mi_heap_t *heap, const mi_heap_area_t *area, void *block,
			       size_t block_size, void *arg)
{
	struct mi_walk *w = arg;

	(void)heap, (void)block, (void)block_size;
	if (!mi_in_region(w->a, area)) {
		w->bad = "an area of the arena heap lies outside the region";
		w->bad_at = (uintptr_t)area->blocks;
	}
	return mi_walk_area(area, w);
}

/* The backing heap holds the thread's other mimalloc pages too. */
static bool mi_walk_backing_area(const mi_heap_t *heap, const mi_heap_area_t *area,
				 void *block, size_t block_size, void *arg)
{
	struct mi_walk *w = arg;

	(void)heap, (void)block, (void)block_size;
	return !mi_in_region(w->a, area) || mi_walk_area(area, w);
}

/* 0 when the caller's heaps hold every block of the instance (no other
 * thread has held a heap of it, whose blocks it could not walk); -EBUSY
 * otherwise. */
static int mi_walk_covers_all(struct mmb_alloc *a)
{
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	if (a->shared || (a->owner && a->owner != mi_serial()))
		rc = -EBUSY;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* Walk the caller's arena heap and the region's part of its backing heap
 * (a thread's own heaps may always be walked). */
static void mi_walk(struct mmb_alloc *a, struct mi_walk *w)
{
	*w = (struct mi_walk){ .a = a };
	if (mi_tls.a == a)
		mi_heap_visit_blocks(mi_tls.t->heap, false, mi_walk_arena_area, w);
	mi_heap_visit_blocks(mi_heap_get_backing(), false, mi_walk_backing_area, w);
}

static uint64_t mi_resident_bytes(struct mmb_alloc *a)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = a->region_bytes / page, res = 0;

	if (mincore(a->region, a->region_bytes, a->vec))
		return MMB_STAT_NONE;
	for (size_t i = 0; i < n; i++)
		res += a->vec[i] & 1;
	return (uint64_t)res * page;
}

static void mi_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	struct mi_walk w;

	r_st->footprint_bytes = mi_resident_bytes(a);
	if (!mi_walk_covers_all(a)) {
		mi_walk(a, &w);
		r_st->usable_bytes = w.usable;
	}
	r_st->malloc_provider = a->provider;
}

static int mi_size_classes(struct mmb_alloc *a, struct mmb_size_class *r, int max)
{
	struct mmb_size_class saved[MI_CLASSES_MAX];
	int n = 0, nsaved;

	pthread_mutex_lock(&a->lock);
	for (struct mi_thread *t = a->threads; t; t = t->next)
		if (t != mi_tls.t) {
			pthread_mutex_unlock(&a->lock);
			return -EBUSY;	/* another thread's heap cannot be walked from here */
		}
	nsaved = a->nclasses;
	memcpy(saved, a->classes, sizeof(saved));
	if (mi_tls.a == a && mi_tls.t->heap)	/* the caller's own heap, added for this answer */
		mi_heap_visit_blocks(mi_tls.t->heap, false, mi_visit_area, a);
	for (n = 0; n < a->nclasses && n < max; n++)
		r[n] = a->classes[n];
	a->nclasses = nsaved;
	memcpy(a->classes, saved, sizeof(saved));
	pthread_mutex_unlock(&a->lock);
	return n;
}

static int mi_check(struct mmb_alloc *a, char *err, size_t errlen)
{
	struct mi_walk w;

	mi_walk(a, &w);
	if (w.bad) {
		snprintf(err, errlen, "mimalloc: %s (area at %#lx)", w.bad, (unsigned long)w.bad_at);
		return -EUCLEAN;
	}
	return 0;
}

const struct mmb_alloc_ops mmb_mimalloc_ops = {
	.name = "mimalloc",
	.desc = "mimalloc 2.0: mi_malloc/mi_free on a default heap in an exclusive arena over an instrumented region",
	.opts = mi_opts,
	.supported = mi_supported,
	.validate = mi_validate,
	.create = mi_create,
	.destroy = mi_destroy,
	.thread_attach = mi_thread_attach,
	.thread_detach = mi_thread_detach,
	.alloc = mi_alloc,
	.free = mi_free_,
	.usable_size = mi_usable_size_,
	.stats = mi_stats,
	.check = mi_check,
	.size_classes = mi_size_classes,
};

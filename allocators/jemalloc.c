/*
 * jemalloc.c — jemalloc 5.3 at its own fast path (malloc/free on the
 * thread's arena and tcache), with a dedicated arena whose extents come
 * from an instrumented region.
 *
 * Linking, not dlopen. Debian's jemalloc is unprefixed (malloc, mallocx,
 * mallctl: reference/dependencies.md §1.1). The two ways to reach mallocx
 * in-process are (a) link -ljemalloc, which makes jemalloc the malloc of
 * the whole harness, or (b) dlopen it RTLD_LOCAL, which needs every process
 * that does so (cells, but also the test binary and anything else linking
 * libmmb.a) to be exec'ed with GLIBC_TUNABLES=glibc.rtld.optional_static_tls
 * because the library uses initial-exec TLS (§1.2c). mmbench links it: the
 * adapter then works in any process, tests included, with no re-exec; the
 * glibc adapter still measures glibc's heap because it calls libc.so.6's
 * own entry points (glibc.c). Link order puts -ljemalloc before -lmimalloc
 * so jemalloc owns malloc (§1.2b).
 *
 * The fast path (issue 19). mallocx/dallocx with MALLOCX_ARENA and
 * MALLOCX_TCACHE flags always take jemalloc's general path (imalloc_body),
 * about three times the cost of malloc's fast path. So thread_attach binds
 * the calling thread to the instrumented arena (mallctl thread.arena, which
 * also moves the thread's own tcache to that arena) and flushes the tcache
 * (blocks it holds from the thread's old arena must not be handed out
 * here); alloc is then plain malloc(size), free is plain free(p): the code
 * a program running on jemalloc executes, one indirect call (the registry)
 * in front of it. The adapter's own part is a thread-local compare (and,
 * for alloc, an alignment compare) before a tail jump through the GOT
 * (noplt: a program's malloc call jumps through the PLT once, so does
 * this); everything else is in separate slow-path functions, so that the
 * fast path passes its arguments on untouched (callgrind, README "Adapter
 * overhead"). sdallocx would skip free's rtree lookup, but a sized free
 * must repeat the alignment of an aligned allocation (the size class
 * depends on it), which free() is not told; requests with align > 8 go to
 * mallocx(MALLOCX_ALIGN) on the same arena and tcache. thread_detach
 * flushes the tcache again (its blocks go back to the instrumented arena)
 * and restores the thread's old arena. A thread that did not attach is
 * served by mallocx/dallocx(MALLOCX_ARENA | MALLOCX_TCACHE_NONE): slower,
 * but nothing of the instrumented arena enters its tcache. Sizes at or above
 * opt.oversize_threshold stay in the bound arena too (jemalloc sends them
 * to its huge arena only for threads on automatic arenas).
 *
 * Bookkeeping. While a thread is bound, every malloc it makes lands in the
 * measured arena, the harness's included. The harness keeps its bookkeeping
 * off bound threads instead of getting its own allocator: a cell's worker
 * calls only the workload's run() between attach and detach, and run()
 * allocates nothing itself (workload.h: state and per-thread scratch come
 * from setup, on the main thread); the main thread attaches only around
 * teardown, which frees. So the region's fault count and footprint are the
 * adapter's blocks and jemalloc's metadata for them, nothing else.
 *
 * Data structure. struct mmb_alloc embeds the extent_hooks_t given to
 * arenas.create, so a hook finds its instance with container_of. The
 * region is one anonymous MAP_NORESERVE mapping, announced as
 * "jemalloc-arena" (os.h) before the arena exists (the arena's metadata is
 * allocated through the hooks too, §1.3). The alloc hook hands out the
 * region with a bump pointer (CAS), aligned as asked (up to 2 MiB); space is
 * never handed out twice. dalloc declines (jemalloc retains the extent and
 * reuses it), purge_forced is MADV_DONTNEED (the next touch is a first
 * touch again), lazy purge and decommit are declined so that every purge is
 * forced, destroy is MADV_DONTNEED.
 *
 * Invariants (check()):
 *   region <= every extent < region + bump <= region + region_bytes
 *   stats.arenas.<i>.mapped <= bump              (jemalloc maps only what
 *                                                 the hook handed out)
 *   resident >= active, allocated <= active       (jemalloc's own figures)
 *   hook calls: alloc_calls >= 1 after create (the base block)
 *
 * Thread model: hooks may run on any thread with arena locks held, so they
 * touch only atomics. One thread is bound to one instance at a time
 * (attaching to another detaches first). Blocks may be freed from any
 * thread (jemalloc handles remote frees; a bound thread's tcache returns
 * them to the instrumented arena when it flushes).
 *
 * Configuration: region (bytes of address space), dirty_decay_ms and
 * muzzy_decay_ms (arena.<i>.*_decay_ms, set on the arena), tcache (off:
 * thread.tcache.enabled=false while bound); tcache_max and
 * background_thread exist only process-wide, so they go to MALLOC_CONF of
 * the cell's process.
 *
 * Entry points are weak references: a libjemalloc.so.2 without one of them
 * (too old, or a prefixed build, je_malloc) loads, and supported() names the
 * missing symbol before any cell runs. The fast path is the process's
 * malloc, so supported() refuses AddressSanitizer builds and create() a
 * process whose malloc comes from another library (a preloaded tcmalloc or
 * malloc shim).
 *
 * Stats (epoch first), for this arena only: footprint = resident; usable
 * bytes = small.allocated + large.allocated - tcache_bytes (the arena
 * counts blocks parked in the bound threads' tcaches as allocated;
 * tcache_bytes is what those tcaches hold, summed by jemalloc at the
 * epoch), exact when no thread is mid-call, and free of per-call cost.
 * dump_state writes the arena's allocated, active, resident, mapped,
 * retained, metadata and the hook counters to jemalloc.txt. size_classes:
 * the arena's bins (jemalloc_bins.h).
 */
#include "allocator.h"
#include "jemalloc_bins.h"
#include "os.h"
#include "preload.h"
#include "statefile.h"

#include <dlfcn.h>
#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

struct je_hook_counts {
	atomic_ulong alloc_calls, alloc_bytes, dalloc_calls, destroy_calls, purge_calls,
		purge_bytes, split_calls, merge_calls;
};

struct mmb_alloc {
	extent_hooks_t hooks;		/* first: hooks find the instance from it */
	char *region;
	size_t region_bytes;
	atomic_size_t bump;		/* bytes of the region handed out */
	struct je_hook_counts n;
	unsigned arena;
	int tcache_on;
	char provider[PATH_MAX];
};

/* The instance the calling thread is bound to, and what binding replaced. */
static __thread struct {
	struct mmb_alloc *a;
	unsigned old_arena;
	bool old_tcache;		/* thread.tcache.enabled before (tcache=off only) */
} je_tls;

/* The fast path calls through the GOT, as a program's malloc call jumps
 * through the PLT once: one jump, not a jump to the PLT that jumps again
 * (clang has no noplt; it then takes the PLT). */
#if defined(__has_attribute)
#if __has_attribute(noplt)
#define JE_NOPLT __attribute__((noplt))
#endif
#endif
#ifndef JE_NOPLT
#define JE_NOPLT
#endif
/* Slow paths keep the fast path's arguments (gcc would drop unused ones). */
#if defined(__has_attribute)
#if __has_attribute(noipa)
#define JE_SLOW __attribute__((noipa))
#endif
#endif
#ifndef JE_SLOW
#define JE_SLOW __attribute__((noinline))
#endif

extern void *malloc(size_t size) JE_NOPLT;
extern void free(void *p) JE_NOPLT;

/* Weak: a library without one of them still loads; je_supported names it. */
#pragma weak mallctl
#pragma weak mallctlnametomib
#pragma weak mallocx
#pragma weak dallocx
#pragma weak sallocx

/* The entry points and controls the adapter needs (arenas.create with
 * extent hooks and thread.arena: jemalloc >= 5.0). */
static const char *je_missing(void)
{
	static const struct {
		const char *name;
		const void *addr;
	} syms[] = {
		{ "mallctl", (const void *)mallctl },
		{ "mallocx", (const void *)mallocx },
		{ "dallocx", (const void *)dallocx },
		{ "sallocx", (const void *)sallocx },
	};
	static const char *const ctls[] = {
		"arenas.create", "thread.arena", "thread.tcache.flush", "thread.tcache.enabled",
		"stats.arenas.0.tcache_bytes", "stats.arenas.0.resident",
	};
	static char why[160];
	size_t mib[8], miblen;

	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if (!syms[i].addr) {
			snprintf(why, sizeof(why), "the loaded libjemalloc has no '%s' "
				 "(jemalloc >= 5 built without a prefix is needed)", syms[i].name);
			return why;
		}
	for (size_t i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
		miblen = sizeof(mib) / sizeof(mib[0]);
		if (mallctlnametomib(ctls[i], mib, &miblen)) {
			snprintf(why, sizeof(why), "the loaded libjemalloc has no mallctl '%s' "
				 "(jemalloc >= 5.3 with stats is needed)", ctls[i]);
			return why;
		}
	}
	return NULL;
}

static int je_supported(const char **why)
{
	const char *m = je_missing();

	if (m) {
		*why = m;
		return -ENOTSUP;
	}
	if (MMB_ASAN_OWNS_MALLOC) {
		*why = "this build uses AddressSanitizer, which owns malloc (the adapter serves "
		       "through jemalloc's malloc)";
		return -ENOTSUP;
	}
	return 0;
}

static struct mmb_alloc *je_of(extent_hooks_t *h)
{
	return (struct mmb_alloc *)((char *)h - offsetof(struct mmb_alloc, hooks));
}

static void *je_h_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t align, bool *zero,
			bool *commit, unsigned arena_ind)
{
	struct mmb_alloc *a = je_of(h);
	uintptr_t base = (uintptr_t)a->region;
	size_t old = atomic_load(&a->bump), start, end;

	(void)arena_ind;
	if (new_addr)
		return NULL;		/* no growing in place: jemalloc takes a new extent */
	if (align < 4096)
		align = 4096;
	do {
		start = ((base + old + align - 1) & ~(uintptr_t)(align - 1)) - base;
		end = start + size;
		if (end > a->region_bytes || end < start)
			return NULL;
	} while (!atomic_compare_exchange_weak(&a->bump, &old, end));
	atomic_fetch_add(&a->n.alloc_calls, 1);
	atomic_fetch_add(&a->n.alloc_bytes, size);
	*zero = true;			/* never handed out before: reads as zero */
	*commit = true;
	return a->region + start;
}

static bool je_h_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
			unsigned arena_ind)
{
	(void)addr, (void)size, (void)committed, (void)arena_ind;
	atomic_fetch_add(&je_of(h)->n.dalloc_calls, 1);
	return true;			/* declined: jemalloc retains the extent */
}

static void je_h_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
			 unsigned arena_ind)
{
	(void)committed, (void)arena_ind;
	atomic_fetch_add(&je_of(h)->n.destroy_calls, 1);
	madvise(addr, size, MADV_DONTNEED);
}

static bool je_h_commit(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
			unsigned arena_ind)
{
	(void)h, (void)addr, (void)size, (void)off, (void)len, (void)arena_ind;
	return false;			/* always committed */
}

static bool je_h_decline(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
			 unsigned arena_ind)
{
	(void)h, (void)addr, (void)size, (void)off, (void)len, (void)arena_ind;
	return true;			/* decommit, purge_lazy: declined, purge_forced is used */
}

static bool je_h_purge_forced(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
			      unsigned arena_ind)
{
	struct mmb_alloc *a = je_of(h);

	(void)size, (void)arena_ind;
	if (madvise((char *)addr + off, len, MADV_DONTNEED))
		return true;
	atomic_fetch_add(&a->n.purge_calls, 1);
	atomic_fetch_add(&a->n.purge_bytes, len);
	return false;
}

static bool je_h_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a, size_t size_b,
		       bool committed, unsigned arena_ind)
{
	(void)addr, (void)size, (void)size_a, (void)size_b, (void)committed, (void)arena_ind;
	atomic_fetch_add(&je_of(h)->n.split_calls, 1);
	return false;			/* one mapping: any split is fine */
}

static bool je_h_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
		       size_t size_b, bool committed, unsigned arena_ind)
{
	(void)addr_a, (void)size_a, (void)addr_b, (void)size_b, (void)committed, (void)arena_ind;
	atomic_fetch_add(&je_of(h)->n.merge_calls, 1);
	return false;
}

static const struct mmb_param je_opts[] = {
	{ "region", MMB_P_SIZE, "4G", 64 << 20, 1ULL << 40, NULL,
	  "address space of the arena's region, bytes (reserved, not committed)" },
	{ "dirty_decay_ms", MMB_P_F64, "10000", -1, 1e9, NULL,
	  "arena.<i>.dirty_decay_ms: dirty pages kept this long before purging (-1 = never)" },
	{ "muzzy_decay_ms", MMB_P_F64, "0", -1, 1e9, NULL, "arena.<i>.muzzy_decay_ms (-1 = never)" },
	{ "tcache", MMB_P_BOOL, "on", 0, 0, NULL,
	  "the bound thread's own tcache (off: thread.tcache.enabled=false while bound)" },
	{ "tcache_max", MMB_P_SIZE, "32K", 0, 8 << 20, NULL,
	  "opt.tcache_max (MALLOC_CONF, process-wide): largest cached size, bytes" },
	{ "background_thread", MMB_P_BOOL, "off", 0, 0, NULL,
	  "opt.background_thread (MALLOC_CONF, process-wide): purge in the background" },
	{ 0 },
};

static int je_validate(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen)
{
	static const char *const ms[] = { "dirty_decay_ms", "muzzy_decay_ms" };

	for (int i = 0; i < 2; i++) {
		double v = mmb_pval_f64(&cfg->opts, ms[i]);

		if (v != floor(v)) {
			snprintf(err, errlen, "allocator jemalloc: '%s=%g' must be a whole number",
				 ms[i], v);
			return -EINVAL;
		}
	}
	return 0;
}

static void je_exec_env(const struct mmb_alloc_cfg *cfg)
{
	const char *old = getenv("MALLOC_CONF");
	char buf[1024];
	size_t off = 0;

	buf[0] = 0;
	if (old && *old)
		off += (size_t)snprintf(buf, sizeof(buf), "%s", old);
	if (mmb_pval_given(&cfg->opts, "tcache_max") && off < sizeof(buf))
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%stcache_max:%llu",
					off ? "," : "",
					(unsigned long long)mmb_pval_u64(&cfg->opts, "tcache_max"));
	if (mmb_pval_given(&cfg->opts, "background_thread") && off < sizeof(buf))
		snprintf(buf + off, sizeof(buf) - off, "%sbackground_thread:%s", off ? "," : "",
			 mmb_pval_u64(&cfg->opts, "background_thread") ? "true" : "false");
	if (buf[0])
		setenv("MALLOC_CONF", buf, 1);
}

static int je_arena_ctl(const struct mmb_alloc *a, const char *what, void *oldp, size_t *oldlenp,
			void *newp, size_t newlen)
{
	char name[96];

	snprintf(name, sizeof(name), "arena.%u.%s", a->arena, what);
	return mallctl(name, oldp, oldlenp, newp, newlen);
}

/* stats.arenas.<i>.<what> (size_t figures), 0 if unknown. */
static size_t je_arena_stat(const struct mmb_alloc *a, const char *what)
{
	size_t v = 0, sz = sizeof(v);
	char name[96];

	snprintf(name, sizeof(name), "stats.arenas.%u.%s", a->arena, what);
	return mallctl(name, &v, &sz, NULL, 0) ? 0 : v;
}

static void je_epoch(void)
{
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);

	mallctl("epoch", &epoch, &sz, &epoch, sz);
}

static int je_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
		     size_t errlen)
{
	static const char *const ms[] = { "dirty_decay_ms", "muzzy_decay_ms" };
	struct mmb_alloc *a;
	extent_hooks_t *hp;
	size_t sz;
	Dl_info di;
	char real[PATH_MAX], a_lib[PATH_MAX];
	const char *missing;
	int rc;

	if (je_supported(&missing)) {
		snprintf(err, errlen, "jemalloc: %s", missing);
		return -ENOTSUP;
	}
	/* The fast path is the process's malloc: it must be jemalloc's (not a
	 * preloaded library's: the malloc shim, tcmalloc). */
	if (mmb_sym_provider("malloc", real, sizeof(real)) ||
	    mmb_sym_provider("mallctl", a_lib, sizeof(a_lib)) || !mmb_same_file(real, a_lib)) {
		snprintf(err, errlen, "jemalloc: malloc here is served by %s, not by jemalloc (%s), "
			 "whose malloc the adapter calls", real, a_lib);
		return -ENOTSUP;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "jemalloc: out of memory");
		return -ENOMEM;
	}
	a->hooks = (extent_hooks_t){
		.alloc = je_h_alloc,
		.dalloc = je_h_dalloc,
		.destroy = je_h_destroy,
		.commit = je_h_commit,
		.decommit = je_h_decline,
		.purge_lazy = je_h_decline,
		.purge_forced = je_h_purge_forced,
		.split = je_h_split,
		.merge = je_h_merge,
	};
	a->tcache_on = (int)mmb_pval_u64(&cfg->opts, "tcache");
	if (!dladdr((void *)mallocx, &di) || !di.dli_fname) {
		snprintf(err, errlen, "jemalloc: cannot find the library that defines mallocx");
		rc = -ENOTSUP;
		goto out_free;
	}
	snprintf(a->provider, sizeof(a->provider), "%s",
		 realpath(di.dli_fname, real) ? real : di.dli_fname);
	a->region_bytes = mmb_pval_u64(&cfg->opts, "region");
	a->region = mmap(NULL, a->region_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a->region == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "jemalloc: mmap of a %zu-byte region: %s", a->region_bytes,
			 strerror(errno));
		goto out_free;
	}
	rc = mmb_region_add("jemalloc-arena", a->region, a->region_bytes, MMB_REGION_MISSING, -1, 0);
	if (rc) {
		snprintf(err, errlen, "jemalloc: instrumenting the region: %s", strerror(-rc));
		goto out_unmap;
	}
	hp = &a->hooks;
	sz = sizeof(a->arena);
	rc = mallctl("arenas.create", &a->arena, &sz, &hp, sizeof(hp));
	if (rc) {
		snprintf(err, errlen, "jemalloc: arenas.create: %s", strerror(rc));
		rc = -rc;
		goto out_del;
	}
	for (int i = 0; i < 2; i++) {
		ssize_t v = (ssize_t)mmb_pval_f64(&cfg->opts, ms[i]);

		rc = je_arena_ctl(a, ms[i], NULL, NULL, &v, sizeof(v));
		if (rc) {
			snprintf(err, errlen, "jemalloc: arena.%u.%s=%zd: %s", a->arena, ms[i], v,
				 strerror(rc));
			rc = -EINVAL;
			je_arena_ctl(a, "destroy", NULL, NULL, NULL, 0);
			goto out_del;
		}
	}
	*r_a = a;
	return 0;

out_del:
	mmb_region_del(a->region, a->region_bytes);
out_unmap:
	munmap(a->region, a->region_bytes);
out_free:
	free(a);
	return rc;
}

static void je_thread_detach(struct mmb_alloc *a)
{
	size_t sz = sizeof(je_tls.old_tcache);

	if (je_tls.a != a)
		return;
	/* The cached blocks go back to the instrumented arena, before the
	 * tcache follows the thread to its old arena. */
	mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
	mallctl("thread.arena", NULL, NULL, &je_tls.old_arena, sizeof(je_tls.old_arena));
	if (!a->tcache_on)
		mallctl("thread.tcache.enabled", NULL, NULL, &je_tls.old_tcache, sz);
	je_tls.a = NULL;
}

static void je_thread_attach(struct mmb_alloc *a)
{
	size_t sz = sizeof(je_tls.old_arena);
	bool off = false;

	if (je_tls.a == a)
		return;
	if (je_tls.a)
		je_thread_detach(je_tls.a);
	if (mallctl("thread.arena", &je_tls.old_arena, &sz, &a->arena, sizeof(a->arena)))
		return;			/* not bound: alloc takes the uncached path */
	if (!a->tcache_on) {
		sz = sizeof(je_tls.old_tcache);
		mallctl("thread.tcache.enabled", &je_tls.old_tcache, &sz, &off, sizeof(off));
	}
	/* Blocks cached from the old arena must not be handed out here. */
	mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
	je_tls.a = a;
}

static void je_destroy(struct mmb_alloc *a)
{
	je_thread_detach(a);
	je_arena_ctl(a, "destroy", NULL, NULL, NULL, 0);
	mmb_region_del(a->region, a->region_bytes);
	munmap(a->region, a->region_bytes);
	free(a);
}

/* Over-aligned, or a thread that is not bound (no tcache: see above). The
 * slow paths are functions of their own, so that the fast ones pass their
 * arguments through untouched. */
static JE_SLOW void *je_alloc_slow(struct mmb_alloc *a, size_t size,
						     size_t align)
{
	if (je_tls.a == a)
		return mallocx(size, MALLOCX_ALIGN(align));
	return mallocx(size, MALLOCX_ARENA(a->arena) | MALLOCX_TCACHE_NONE |
			     (align > 1 ? MALLOCX_ALIGN(align) : 0));
}

static void *je_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	if (__builtin_expect(je_tls.a != a || align > 8, 0))
		return je_alloc_slow(a, size, align);
	return malloc(size);		/* jemalloc's fast path, bound arena */
}

static JE_SLOW void je_free_slow(struct mmb_alloc *a, void *p, size_t size)
{
	(void)a, (void)size;
	dallocx(p, MALLOCX_TCACHE_NONE);
}

static void je_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)size;			/* not sdallocx: see the file-top comment */
	if (__builtin_expect(je_tls.a != a, 0))
		je_free_slow(a, p, size);
	else
		free(p);
}

static size_t je_usable_size(struct mmb_alloc *a, const void *p)
{
	(void)a;
	return sallocx(p, 0);
}

static void je_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	size_t allocated, cached;

	je_epoch();
	allocated = je_arena_stat(a, "small.allocated") + je_arena_stat(a, "large.allocated");
	cached = je_arena_stat(a, "tcache_bytes");
	r_st->footprint_bytes = je_arena_stat(a, "resident");
	r_st->usable_bytes = allocated > cached ? allocated - cached : 0;
	r_st->malloc_provider = a->provider;
}

/* The arena's figures, as jemalloc's stats.* names them, in bytes. */
struct je_figures {
	size_t allocated, active, resident, mapped, retained, metadata;
};

static void je_figures(const struct mmb_alloc *a, struct je_figures *r_f)
{
	je_epoch();
	r_f->allocated = je_arena_stat(a, "small.allocated") + je_arena_stat(a, "large.allocated");
	r_f->active = je_arena_stat(a, "pactive") * 4096;
	r_f->resident = je_arena_stat(a, "resident");
	r_f->mapped = je_arena_stat(a, "mapped");
	r_f->retained = je_arena_stat(a, "retained");
	r_f->metadata = je_arena_stat(a, "base") + je_arena_stat(a, "internal");
}

static int je_size_classes(struct mmb_alloc *a, struct mmb_size_class *r, int max)
{
	return mmb_je_size_classes(a->arena, r, max);
}

static int je_check(struct mmb_alloc *a, char *err, size_t errlen)
{
	size_t bump = atomic_load(&a->bump);
	struct je_figures fg;

	je_figures(a, &fg);
	if (bump > a->region_bytes) {
		snprintf(err, errlen, "jemalloc: bump %zu beyond the region (%zu)", bump,
			 a->region_bytes);
		return -EUCLEAN;
	}
	if (atomic_load(&a->n.alloc_calls) < 1) {
		snprintf(err, errlen, "jemalloc: arena %u was never given memory by its hooks",
			 a->arena);
		return -EUCLEAN;
	}
	if (fg.mapped > bump) {
		snprintf(err, errlen, "jemalloc: mapped %zu > %zu handed out by the hooks", fg.mapped,
			 bump);
		return -EUCLEAN;
	}
	if (fg.resident < fg.active || fg.allocated > fg.active) {
		snprintf(err, errlen, "jemalloc: resident %zu, active %zu, allocated %zu out of order",
			 fg.resident, fg.active, fg.allocated);
		return -EUCLEAN;
	}
	return 0;
}

static int je_write_state(FILE *f, void *ctx)
{
	struct mmb_alloc *a = ctx;
	struct je_figures fg;

	je_figures(a, &fg);
	fprintf(f, "arena %u\nregion_bytes %zu\nhanded_out_bytes %zu\n", a->arena, a->region_bytes,
		atomic_load(&a->bump));
	fprintf(f, "allocated %zu\nactive %zu\nresident %zu\nmapped %zu\nretained %zu\n"
		"metadata %zu\n", fg.allocated, fg.active, fg.resident, fg.mapped, fg.retained,
		fg.metadata);
	fprintf(f, "hook_alloc_calls %lu\nhook_alloc_bytes %lu\nhook_dalloc_calls %lu\n"
		"hook_destroy_calls %lu\nhook_purge_calls %lu\nhook_purge_bytes %lu\n"
		"hook_split_calls %lu\nhook_merge_calls %lu\n",
		atomic_load(&a->n.alloc_calls), atomic_load(&a->n.alloc_bytes),
		atomic_load(&a->n.dalloc_calls), atomic_load(&a->n.destroy_calls),
		atomic_load(&a->n.purge_calls), atomic_load(&a->n.purge_bytes),
		atomic_load(&a->n.split_calls), atomic_load(&a->n.merge_calls));
	return 0;
}

static int je_dump_state(struct mmb_alloc *a, const char *dir)
{
	return mmb_state_write(dir, "jemalloc.txt", je_write_state, a);
}

const struct mmb_alloc_ops mmb_jemalloc_ops = {
	.name = "jemalloc",
	.desc = "jemalloc 5.3: malloc/free on the thread's tcache, bound to an arena over an instrumented region",
	.opts = je_opts,
	.supported = je_supported,
	.validate = je_validate,
	.exec_env = je_exec_env,
	.create = je_create,
	.destroy = je_destroy,
	.thread_attach = je_thread_attach,
	.thread_detach = je_thread_detach,
	.alloc = je_alloc,
	.free = je_free,
	.usable_size = je_usable_size,
	.stats = je_stats,
	.size_classes = je_size_classes,
	.check = je_check,
	.dump_state = je_dump_state,
};

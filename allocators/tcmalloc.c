/*
 * tcmalloc.c — gperftools' tcmalloc (libtcmalloc_minimal.so.4), preloaded
 * into the cell's process.
 *
 * tcmalloc is never linked into mmbench: the library also defines mmap,
 * munmap, mremap and sbrk (for its MallocHook) and would intercept the
 * kernel-style allocators' own mappings (reference/dependencies.md §1.2b).
 * It has no private heaps either, and gperftools means it to own malloc
 * from process start. So exec_env puts it in LD_PRELOAD (appending to any
 * existing one) and the adapter calls the process's malloc family
 * (preload.h); create() fails the cell unless dladdr says malloc really
 * comes from tcmalloc, so a row named tcmalloc is always tcmalloc. In a
 * process where it is not preloaded (the in-process contract test) create()
 * returns -ENOTSUP; tests run the contract under LD_PRELOAD instead.
 *
 * Configuration is tcmalloc's environment: release_rate
 * (TCMALLOC_RELEASE_RATE), max_thread_cache
 * (TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES), aggressive_decommit
 * (TCMALLOC_AGGRESSIVE_DECOMMIT), set only when given.
 *
 * Stats come from MallocExtension_GetNumericProperty, looked up with dlsym
 * (no link dependency), relative to the figures at create() so that the
 * harness's earlier allocations are not counted:
 *   footprint = generic.total_physical_bytes (heap + metadata - unmapped)
 *   usable    = generic.current_allocated_bytes (size-class bytes of live
 *               blocks; blocks in thread caches are not counted)
 * The harness's own allocations during the run go through tcmalloc too;
 * they are few and made outside the timed region.
 */
#include "allocator.h"
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TC_LIB "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"

struct mmb_alloc {
	struct mmb_procmalloc pm;
	int (*get_prop)(const char *name, size_t *r_value);
	size_t base_physical_bytes, base_allocated_bytes;
};

static const struct mmb_param tc_opts[] = {
	{ "release_rate", MMB_P_F64, "1", 0, 10, NULL,
	  "TCMALLOC_RELEASE_RATE: how fast free pages go back to the OS (0 = never)" },
	{ "max_thread_cache", MMB_P_SIZE, "32M", 1 << 20, 1ULL << 32, NULL,
	  "TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES, bytes" },
	{ "aggressive_decommit", MMB_P_BOOL, "off", 0, 0, NULL,
	  "TCMALLOC_AGGRESSIVE_DECOMMIT: give free spans back at once" },
	{ 0 },
};

static int tc_supported(const char **why)
{
	if (MMB_ASAN_OWNS_MALLOC) {
		*why = "this build uses AddressSanitizer, which owns malloc";
		return -ENOTSUP;
	}
	if (access(TC_LIB, R_OK)) {
		*why = TC_LIB " is not installed (apt-get install libtcmalloc-minimal4)";
		return -ENOENT;
	}
	return 0;
}

static int tc_validate(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen)
{
	(void)cfg;
	return mmb_malloc_lib_check(TC_LIB, err, errlen);
}

static void tc_exec_env(const struct mmb_alloc_cfg *cfg)
{
	char v[64];

	mmb_preload_setenv(TC_LIB);
	if (mmb_pval_given(&cfg->opts, "release_rate")) {
		snprintf(v, sizeof(v), "%g", mmb_pval_f64(&cfg->opts, "release_rate"));
		setenv("TCMALLOC_RELEASE_RATE", v, 1);
	}
	if (mmb_pval_given(&cfg->opts, "max_thread_cache")) {
		snprintf(v, sizeof(v), "%llu",
			 (unsigned long long)mmb_pval_u64(&cfg->opts, "max_thread_cache"));
		setenv("TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES", v, 1);
	}
	if (mmb_pval_given(&cfg->opts, "aggressive_decommit"))
		setenv("TCMALLOC_AGGRESSIVE_DECOMMIT",
		       mmb_pval_u64(&cfg->opts, "aggressive_decommit") ? "true" : "false", 1);
}

static size_t tc_prop(const struct mmb_alloc *a, const char *name)
{
	size_t v = 0;

	return a->get_prop(name, &v) ? v : 0;
}

static int tc_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
		     size_t errlen)
{
	struct mmb_procmalloc pm;
	struct mmb_alloc *a;
	char why[MMB_ERR_MAX];
	void *get_prop;

	(void)cfg;
	if (mmb_procmalloc_lookup(&pm, why, sizeof(why))) {
		snprintf(err, errlen, "tcmalloc: %s", why);
		return -ENOTSUP;
	}
	get_prop = dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty");
	if (!mmb_same_file(pm.provider, TC_LIB) || !get_prop) {
		snprintf(err, errlen,
			 "tcmalloc: malloc here is served by %s (tcmalloc runs only in a cell "
			 "process started with LD_PRELOAD=" TC_LIB ")", pm.provider);
		return -ENOTSUP;
	}
	a = pm.malloc(sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "tcmalloc: out of memory");
		return -ENOMEM;
	}
	a->pm = pm;
	a->get_prop = (int (*)(const char *, size_t *))get_prop;
	a->base_physical_bytes = tc_prop(a, "generic.total_physical_bytes");
	a->base_allocated_bytes = tc_prop(a, "generic.current_allocated_bytes");
	*r_a = a;
	return 0;
}

static void tc_destroy(struct mmb_alloc *a)
{
	a->pm.free(a);
}

static void *tc_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	if (align <= 8)		/* malloc(1) may be only 8-aligned (size classes) */
		return a->pm.malloc(size);
	return a->pm.memalign(align, size);
}

static void tc_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)size;
	a->pm.free(p);
}

static size_t tc_usable_size(struct mmb_alloc *a, const void *p)
{
	return a->pm.usable_size((void *)p);
}

static void tc_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	size_t phys = 0, alloc = 0;

	if (a->get_prop("generic.total_physical_bytes", &phys))
		r_st->footprint_bytes =
			phys > a->base_physical_bytes ? phys - a->base_physical_bytes : 0;
	if (a->get_prop("generic.current_allocated_bytes", &alloc))
		r_st->usable_bytes =
			alloc > a->base_allocated_bytes ? alloc - a->base_allocated_bytes : 0;
	r_st->malloc_provider = a->pm.provider;
}

const struct mmb_alloc_ops mmb_tcmalloc_ops = {
	.name = "tcmalloc",
	.desc = "gperftools tcmalloc, LD_PRELOADed into the cell's process; stats from MallocExtension",
	.opts = tc_opts,
	.supported = tc_supported,
	.validate = tc_validate,
	.exec_env = tc_exec_env,
	.create = tc_create,
	.destroy = tc_destroy,
	.alloc = tc_alloc,
	.free = tc_free,
	.usable_size = tc_usable_size,
	.stats = tc_stats,
};

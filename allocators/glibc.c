/*
 * glibc.c — the system allocator (glibc's ptmalloc2) behind the contract.
 *
 * The functions are looked up in libc.so.6 itself (dlopen RTLD_NOLOAD +
 * dlsym), not by name in the global scope: once jemalloc, mimalloc or tcmalloc
 * is loaded into the process, plain `malloc` and even `__libc_malloc` may
 * resolve to them (reference/dependencies.md §1.2b). What this adapter
 * measures is therefore glibc's heap whichever library owns `malloc`.
 *
 * Configuration is glibc's own tunables: every option given becomes
 * glibc.malloc.<name>=<value> in GLIBC_TUNABLES of the cell's process
 * (tunables are read once at process start, so this goes through exec_env).
 *
 * Stats come from mallinfo2(), relative to the figures at create() so that
 * the harness's earlier allocations are not counted: footprint = arena +
 * hblkhd (bytes glibc holds from sbrk and mmap), usable = uordblks + hblkhd
 * (chunk bytes of blocks in use, 8-byte chunk headers and blocks parked in
 * glibc's tcache and its per-thread tcache bookkeeping included: glibc
 * counts them in use; a few KiB per thread). mmbench's own allocations go
 * to the process malloc, which is jemalloc (allocators/jemalloc.c), so
 * glibc's heap holds this adapter's blocks and glibc's internal ones only.
 */
#include "allocator.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct glibc_fns {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*memalign)(size_t, size_t);
	size_t (*usable_size)(void *);
	struct mallinfo2 (*mallinfo2)(void);
};

struct mmb_alloc {
	struct glibc_fns fn;
	uint64_t base_footprint, base_usable;
	char provider[PATH_MAX];	/* where fn.malloc really is (dladdr) */
};

static const struct mmb_param glibc_opts[] = {
	{ "arena_max", MMB_P_U64, "0", 0, 1024, NULL, "glibc.malloc.arena_max (0 = glibc's default)" },
	{ "tcache_count", MMB_P_U64, "7", 0, 65535, NULL, "glibc.malloc.tcache_count: blocks per tcache bin" },
	{ "tcache_max", MMB_P_SIZE, "1032", 0, 1 << 20, NULL, "glibc.malloc.tcache_max: largest tcache'd block, bytes" },
	{ "mmap_threshold", MMB_P_SIZE, "128K", 0, 32 << 20, NULL, "glibc.malloc.mmap_threshold, bytes" },
	{ "trim_threshold", MMB_P_SIZE, "128K", 0, 1ULL << 40, NULL, "glibc.malloc.trim_threshold, bytes" },
	{ "top_pad", MMB_P_SIZE, "0", 0, 1ULL << 30, NULL, "glibc.malloc.top_pad, bytes" },
	{ 0 },
};

static int glibc_lookup(struct glibc_fns *fn, char *err, size_t errlen)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);

	if (!libc) {
		snprintf(err, errlen, "glibc: libc.so.6 is not loaded: %s", dlerror());
		return -ENOTSUP;
	}
	fn->malloc = (void *(*)(size_t))dlsym(libc, "malloc");
	fn->free = (void (*)(void *))dlsym(libc, "free");
	fn->memalign = (void *(*)(size_t, size_t))dlsym(libc, "memalign");
	fn->usable_size = (size_t (*)(void *))dlsym(libc, "malloc_usable_size");
	fn->mallinfo2 = (struct mallinfo2 (*)(void))dlsym(libc, "mallinfo2");
	dlclose(libc);		/* RTLD_NOLOAD took a reference; libc stays loaded */
	if (!fn->malloc || !fn->free || !fn->memalign || !fn->usable_size || !fn->mallinfo2) {
		snprintf(err, errlen, "glibc: malloc functions not found in libc.so.6");
		return -ENOTSUP;
	}
	return 0;
}

static uint64_t glibc_footprint(const struct glibc_fns *fn)
{
	struct mallinfo2 mi = fn->mallinfo2();

	return (uint64_t)mi.arena + (uint64_t)mi.hblkhd;
}

static uint64_t glibc_in_use(const struct glibc_fns *fn)
{
	struct mallinfo2 mi = fn->mallinfo2();

	return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

/* Append glibc.malloc.<name>=<value> for every given option. */
static void glibc_exec_env(const struct mmb_alloc_cfg *cfg)
{
	char buf[1024];
	const char *old = getenv("GLIBC_TUNABLES");
	size_t off = 0;

	buf[0] = 0;
	if (old && *old)
		off += (size_t)snprintf(buf, sizeof(buf), "%s", old);
	for (int i = 0; glibc_opts[i].name; i++) {
		if (!cfg->opts.v[i].given || off >= sizeof(buf))
			continue;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%sglibc.malloc.%s=%llu",
					off ? ":" : "", glibc_opts[i].name,
					(unsigned long long)cfg->opts.v[i].u);
	}
	if (buf[0])
		setenv("GLIBC_TUNABLES", buf, 1);
}

static int glibc_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
			size_t errlen)
{
	struct glibc_fns fn;
	struct mmb_alloc *a;
	Dl_info di;
	int rc;

	(void)cfg;
	rc = glibc_lookup(&fn, err, errlen);
	if (rc)
		return rc;
	a = fn.malloc(sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "glibc: out of memory");
		return -ENOMEM;
	}
	a->fn = fn;
	a->base_footprint = glibc_footprint(&fn);
	a->base_usable = glibc_in_use(&fn);
	if (!dladdr((void *)fn.malloc, &di) || !di.dli_fname ||
	    !realpath(di.dli_fname, a->provider))
		snprintf(a->provider, sizeof(a->provider), "libc.so.6");
	*r_a = a;
	return 0;
}

static void glibc_destroy(struct mmb_alloc *a)
{
	a->fn.free(a);
}

static void *glibc_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	if (align <= 16)
		return a->fn.malloc(size);
	return a->fn.memalign(align, size);
}

static void glibc_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)size;
	a->fn.free(p);
}

static size_t glibc_usable_size(struct mmb_alloc *a, const void *p)
{
	return a->fn.usable_size((void *)p);
}

static void glibc_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	uint64_t fp = glibc_footprint(&a->fn), used = glibc_in_use(&a->fn);

	r_st->footprint_bytes = fp > a->base_footprint ? fp - a->base_footprint : 0;
	r_st->usable_bytes = used > a->base_usable ? used - a->base_usable : 0;
	r_st->malloc_provider = a->provider;
}

const struct mmb_alloc_ops mmb_glibc_ops = {
	.name = "glibc",
	.desc = "glibc malloc (ptmalloc2), the system allocator; options are GLIBC_TUNABLES",
	.opts = glibc_opts,
	.exec_env = glibc_exec_env,
	.create = glibc_create,
	.destroy = glibc_destroy,
	.alloc = glibc_alloc,
	.free = glibc_free,
	.usable_size = glibc_usable_size,
	.stats = glibc_stats,
};

/*
 * bump.c — a test-only allocator over one instrumented region.
 *
 * Blocks are carved in order from a memfd mapped MAP_SHARED and announced
 * as instrumented region "bump" (os.h), so the page-fault monitor sees one
 * MISSING event per frame the first time a block reaches it. free() gives
 * nothing back; alloc returns NULL once the region is used up. Used by the
 * tests of the fault counting (an allocator whose first touches are known:
 * every frame up to the bump pointer, once). Hidden: not listed, never in
 * a suite.
 *
 *   size=BYTES   region size (default 16M)
 *
 * Invariant: 0 <= used_bytes <= size_bytes. Thread model: the bump pointer
 * is an atomic add; blocks past the end are never returned.
 */
#include "allocator.h"
#include "os.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct mmb_alloc {
	int fd;
	char *base;
	size_t size_bytes;
	atomic_size_t used_bytes;
};

static const struct mmb_param bump_opts[] = {
	{ "size", MMB_P_SIZE, "16M", 65536, 1ULL << 34, NULL, "region size in bytes" },
	{ 0 },
};

static int bump_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
		       size_t errlen)
{
	struct mmb_alloc *a = calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return -ENOMEM;
	a->size_bytes = (size_t)mmb_pval_u64(&cfg->opts, "size") & ~(size_t)4095;
	a->fd = mmb_os->memfd("mmb-bump", a->size_bytes);
	if (a->fd < 0) {
		rc = a->fd;
		snprintf(err, errlen, "bump: memfd: %s", strerror(-rc));
		goto fail;
	}
	a->base = mmb_os->map(NULL, a->size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (!a->base) {
		rc = -errno;
		snprintf(err, errlen, "bump: mmap: %s", strerror(-rc));
		goto fail_fd;
	}
	rc = mmb_region_add("bump", a->base, a->size_bytes, MMB_REGION_MISSING, a->fd, 0);
	if (rc) {
		snprintf(err, errlen, "bump: instrumenting the region: %s", strerror(-rc));
		goto fail_map;
	}
	*r_a = a;
	return 0;

fail_map:
	mmb_os->unmap(a->base, a->size_bytes);
fail_fd:
	close(a->fd);
fail:
	free(a);
	return rc;
}

static void bump_destroy(struct mmb_alloc *a)
{
	mmb_region_del(a->base, a->size_bytes);
	mmb_os->unmap(a->base, a->size_bytes);
	close(a->fd);
	free(a);
}

static void *bump_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	size_t al = align > 16 ? align : 16, len = (size + 15) & ~(size_t)15;
	size_t old = atomic_load_explicit(&a->used_bytes, memory_order_relaxed), start;

	do {
		start = (old + al - 1) & ~(al - 1);
		if (start + len > a->size_bytes)
			return NULL;
	} while (!atomic_compare_exchange_weak(&a->used_bytes, &old, start + len));
	return a->base + start;
}

static void bump_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)a;
	(void)p;
	(void)size;
}

static void bump_stats(struct mmb_alloc *a, struct mmb_alloc_stats *st)
{
	/* Frames touched: every frame up to the bump pointer. */
	st->footprint_bytes = (atomic_load(&a->used_bytes) + 4095) & ~(size_t)4095;
}

const struct mmb_alloc_ops mmb_bump_ops = {
	.name = "bump",
	.desc = "test-only: bump allocation from one instrumented memfd region",
	.opts = bump_opts,
	.hidden = 1,
	.create = bump_create,
	.destroy = bump_destroy,
	.alloc = bump_alloc,
	.free = bump_free,
	.stats = bump_stats,
};

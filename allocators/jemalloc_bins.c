/*
 * jemalloc_bins.c — jemalloc 5.3's bins as size classes (jemalloc_bins.h).
 *
 * After an epoch (stats are refreshed only then), for bin j of the arena:
 *	class_bytes	 arenas.bin.<j>.size
 *	live_objects	 stats.arenas.<i>.bins.<j>.curregs
 *	capacity_objects stats.arenas.<i>.bins.<j>.curslabs x arenas.bin.<j>.nregs
 *	pages		 curslabs x arenas.bin.<j>.slab_size / 4096
 * Surprise: curregs counts the regions the arena handed out, so objects
 * parked in thread caches count as live; live_objects is jemalloc's own
 * view, not the caller's. Large size classes (extents of their own) are
 * not bins and are left out. The epoch takes every arena's locks briefly.
 */
#include "jemalloc_bins.h"

#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <stdint.h>
#include <stdio.h>

#include "allocator.h"

/* Weak, as in jemalloc.c: mmbench still loads with a libjemalloc that lacks
 * it, and the adapters name it (only they call in here, once created). */
#pragma weak mallctl

static int jb_ctl(const char *name, void *v, size_t len)
{
	size_t sz = len;
	int rc = mallctl(name, v, &sz, NULL, 0);

	return rc ? -rc : (sz == len ? 0 : -EPROTO);
}

int mmb_je_size_classes(unsigned arena, struct mmb_size_class *r, int max)
{
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	unsigned nbins;
	int rc, n = 0;

	mallctl("epoch", &epoch, &sz, &epoch, sz);
	rc = jb_ctl("arenas.nbins", &nbins, sizeof(nbins));
	if (rc)
		return rc;
	for (unsigned j = 0; j < nbins && n < max; j++) {
		size_t size, slab_size, curregs, curslabs;
		uint32_t nregs;
		char name[96];

		snprintf(name, sizeof(name), "arenas.bin.%u.size", j);
		rc = jb_ctl(name, &size, sizeof(size));
		snprintf(name, sizeof(name), "arenas.bin.%u.nregs", j);
		rc = rc ? rc : jb_ctl(name, &nregs, sizeof(nregs));
		snprintf(name, sizeof(name), "arenas.bin.%u.slab_size", j);
		rc = rc ? rc : jb_ctl(name, &slab_size, sizeof(slab_size));
		snprintf(name, sizeof(name), "stats.arenas.%u.bins.%u.curregs", arena, j);
		rc = rc ? rc : jb_ctl(name, &curregs, sizeof(curregs));
		snprintf(name, sizeof(name), "stats.arenas.%u.bins.%u.curslabs", arena, j);
		rc = rc ? rc : jb_ctl(name, &curslabs, sizeof(curslabs));
		if (rc)
			return rc;
		r[n++] = (struct mmb_size_class){
			.class_bytes = size,
			.live_objects = curregs,
			.capacity_objects = (uint64_t)curslabs * nregs,
			.pages = (uint64_t)curslabs * slab_size / 4096,
		};
	}
	return n;
}

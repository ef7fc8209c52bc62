/*
 * pmem.c — simulated physical memory (pmem.h).
 *
 * Data structure: one memfd of nr_pfns * MMB_PAGE_SIZE bytes is the RAM; it
 * is mapped once MAP_SHARED as the direct map, and nr_pfns struct mmb_page
 * descriptors live in a separate private anonymous mapping (the kernel's
 * vmemmap). Both mappings are MAP_NORESERVE: an untouched frame or
 * descriptor costs nothing, and a fresh descriptor reads as all zeroes,
 * which is the "not yet initialized" state the buddy allocator relies on.
 *
 * Invariants: dmap spans exactly bytes = nr_pfns * MMB_PAGE_SIZE; pfn p lies
 * at dmap + p * MMB_PAGE_SIZE and at file offset p * MMB_PAGE_SIZE; the
 * direct map is announced as the instrumented region "pmem" (MISSING mode)
 * for its whole life.
 *
 * Every memfd/mmap call goes through mmb_os (os.h), so tests can inject
 * failures. Thread model: create and destroy are single-threaded; the
 * conversions are pure arithmetic.
 */
#include "pmem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "os.h"

#define PMEM_MIN_PFNS 1024ULL
#define PMEM_MAX_PFNS (1ULL << 32)	/* list links are 32-bit pfns */

int mmb_pmem_create(uint64_t bytes, struct mmb_pmem **r_pm, char *err, size_t errlen)
{
	uint64_t nr_pfns = bytes >> MMB_PAGE_SHIFT;
	struct mmb_pmem *pm;
	int rc;

	if (nr_pfns < PMEM_MIN_PFNS || nr_pfns >= PMEM_MAX_PFNS) {
		snprintf(err, errlen, "pmem: %llu bytes is out of range (%llu to %llu frames of %lu bytes)",
			 (unsigned long long)bytes, PMEM_MIN_PFNS, PMEM_MAX_PFNS - 1, MMB_PAGE_SIZE);
		return -EINVAL;
	}
	pm = calloc(1, sizeof(*pm));
	if (!pm) {
		snprintf(err, errlen, "pmem: out of memory");
		return -ENOMEM;
	}
	pm->nr_pfns = nr_pfns;
	pm->bytes = nr_pfns << MMB_PAGE_SHIFT;
	pm->fd = mmb_os->memfd("mmb-pmem", pm->bytes);
	if (pm->fd < 0) {
		rc = pm->fd;
		snprintf(err, errlen, "pmem: memfd of %llu bytes: %s", (unsigned long long)pm->bytes,
			 strerror(-rc));
		goto out_free;
	}
	pm->dmap = mmb_os->map(NULL, pm->bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
			       pm->fd, 0);
	if (!pm->dmap) {
		rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "pmem: mapping the direct map: %s", strerror(-rc));
		goto out_close;
	}
	pm->pages = mmb_os->map(NULL, nr_pfns * sizeof(struct mmb_page), PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!pm->pages) {
		rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "pmem: mapping %llu page descriptors: %s",
			 (unsigned long long)nr_pfns, strerror(-rc));
		goto out_unmap;
	}
	rc = mmb_region_add("pmem", pm->dmap, pm->bytes, MMB_REGION_MISSING, pm->fd, 0);
	if (rc) {
		snprintf(err, errlen, "pmem: registering the direct map: %s", strerror(-rc));
		goto out_unmap_pages;
	}
	*r_pm = pm;
	return 0;

out_unmap_pages:
	mmb_os->unmap(pm->pages, nr_pfns * sizeof(struct mmb_page));
out_unmap:
	mmb_os->unmap(pm->dmap, pm->bytes);
out_close:
	close(pm->fd);
out_free:
	free(pm);
	return rc;
}

void mmb_pmem_destroy(struct mmb_pmem *pm)
{
	if (!pm)
		return;
	mmb_region_del(pm->dmap, pm->bytes);
	mmb_os->unmap(pm->pages, pm->nr_pfns * sizeof(struct mmb_page));
	mmb_os->unmap(pm->dmap, pm->bytes);
	close(pm->fd);
	free(pm);
}

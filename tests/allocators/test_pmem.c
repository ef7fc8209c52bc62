/*
 * test_pmem.c — simulated physical memory: sizes, conversions, the shared
 * direct map, the "pmem" region announcement, and OS failures injected
 * through mmb_os (each Criterion test runs in its own process).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../allocators/os.h"
#include "../../allocators/pmem.h"

Test(pmem, create_and_convert)
{
	struct mmb_pmem *pm;
	char err[256] = "";

	cr_assert_eq(mmb_pmem_create((8 << 20) + 100, &pm, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(pm->nr_pfns, 2048);
	cr_expect_eq(pm->bytes, 8 << 20);
	cr_expect_eq(sizeof(struct mmb_page), 64, "descriptor is %zu bytes", sizeof(struct mmb_page));
	for (uint64_t pfn = 0; pfn < pm->nr_pfns; pfn += 397) {
		void *va = mmb_pfn_to_virt(pm, pfn);
		struct mmb_page *pg = mmb_pfn_to_page(pm, pfn);

		cr_expect_eq(mmb_virt_to_pfn(pm, (char *)va + 4095), pfn);
		cr_expect_eq(mmb_page_to_pfn(pm, pg), pfn);
		cr_expect_eq(mmb_page_address(pm, pg), va);
		cr_expect_eq(mmb_virt_to_page(pm, va), pg);
		cr_expect(mmb_pmem_contains(pm, va));
		cr_expect_eq(pg->flags, 0, "fresh descriptors read as zero");
	}
	cr_expect_not(mmb_pmem_contains(pm, pm->dmap + pm->bytes));
	cr_expect_not(mmb_pmem_contains(pm, pm->dmap - 1));
	mmb_pmem_destroy(pm);
}

/* The direct map is the memfd: a write through one is seen through the other. */
Test(pmem, direct_map_is_the_memfd)
{
	struct mmb_pmem *pm;
	char err[256] = "", buf[8];

	cr_assert_eq(mmb_pmem_create(4 << 20, &pm, err, sizeof(err)), 0, "%s", err);
	memcpy(mmb_pfn_to_virt(pm, 77), "frame77", 8);
	cr_assert_eq(pread(pm->fd, buf, 8, 77 * MMB_PAGE_SIZE), 8);
	cr_expect_str_eq(buf, "frame77");
	mmb_pmem_destroy(pm);
}

Test(pmem, too_small_or_too_large)
{
	struct mmb_pmem *pm = NULL;
	char err[256] = "";

	cr_expect_eq(mmb_pmem_create(1023 * MMB_PAGE_SIZE, &pm, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "out of range"), "message: %s", err);
	cr_expect_eq(mmb_pmem_create(1ULL << 45, &pm, err, sizeof(err)), -EINVAL);
	cr_expect_null(pm);
}

/* ---- fault injection ---- */

static int nmaps, nunmaps, fail_map_at, fail_memfd;

static int fi_memfd(const char *name, size_t size)
{
	return fail_memfd ? -EMFILE : mmb_os_default.memfd(name, size);
}

static void *fi_map(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (++nmaps == fail_map_at) {
		errno = ENOMEM;
		return NULL;
	}
	return mmb_os_default.map(addr, len, prot, flags, fd, off);
}

static int fi_unmap(void *addr, size_t len)
{
	nunmaps++;
	return mmb_os_default.unmap(addr, len);
}

static const struct mmb_os_ops fi_ops = {
	.memfd = fi_memfd,
	.map = fi_map,
	.unmap = fi_unmap,
	.protect = NULL,
	.punch = NULL,
};

Test(pmem, memfd_failure)
{
	struct mmb_pmem *pm;
	char err[256] = "";

	mmb_os = &fi_ops;
	fail_memfd = 1;
	cr_expect_eq(mmb_pmem_create(4 << 20, &pm, err, sizeof(err)), -EMFILE);
	cr_expect(strstr(err, "memfd"), "message: %s", err);
	cr_expect_eq(nmaps, 0);
}

Test(pmem, map_failure_unwinds)
{
	struct mmb_pmem *pm;
	char err[256] = "";

	mmb_os = &fi_ops;
	for (int at = 1; at <= 2; at++) {
		nmaps = nunmaps = 0;
		fail_map_at = at;
		cr_expect_eq(mmb_pmem_create(4 << 20, &pm, err, sizeof(err)), -ENOMEM, "map %d", at);
		cr_expect_eq(nunmaps, at - 1, "map %d failed: %d unmaps", at, nunmaps);
	}
	fail_map_at = 0;
	nmaps = nunmaps = 0;
	cr_assert_eq(mmb_pmem_create(4 << 20, &pm, err, sizeof(err)), 0, "%s", err);
	mmb_pmem_destroy(pm);
	cr_expect_eq(nmaps, 2);
	cr_expect_eq(nunmaps, 2);
}

/* ---- region hooks ---- */

static struct {
	char name[16];
	void *addr;
	size_t len;
	unsigned modes;
	int fd, adds, dels, fail;
} rh;

static int rh_add(void *ctx, const char *name, void *addr, size_t len, unsigned modes, int fd,
		  off_t off)
{
	(void)ctx;
	(void)off;
	snprintf(rh.name, sizeof(rh.name), "%s", name);
	rh.addr = addr;
	rh.len = len;
	rh.modes = modes;
	rh.fd = fd;
	rh.adds++;
	return rh.fail ? -EPERM : 0;
}

static void rh_del(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	cr_expect_eq(addr, rh.addr);
	cr_expect_eq(len, rh.len);
	rh.dels++;
}

Test(pmem, announces_the_direct_map)
{
	struct mmb_region_hooks hooks = { rh_add, rh_del, NULL };
	struct mmb_pmem *pm;
	char err[256] = "";

	mmb_region_set_hooks(&hooks);
	cr_assert_eq(mmb_pmem_create(4 << 20, &pm, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(rh.name, "pmem");
	cr_expect_eq(rh.addr, pm->dmap);
	cr_expect_eq(rh.len, pm->bytes);
	cr_expect_eq(rh.modes, MMB_REGION_MISSING);
	cr_expect_eq(rh.fd, pm->fd);
	mmb_pmem_destroy(pm);
	cr_expect_eq(rh.dels, 1);

	rh.fail = 1;
	mmb_os = &fi_ops;
	nmaps = nunmaps = 0;
	cr_expect_eq(mmb_pmem_create(4 << 20, &pm, err, sizeof(err)), -EPERM);
	cr_expect_eq(nunmaps, 2, "both mappings undone");
	mmb_region_set_hooks(NULL);
}

/*
 * fuzz_buddy.c — libFuzzer target: random operation sequences against the
 * buddy allocator's kernel API (buddy.h), checked against a model and
 * mmb_buddy_check().
 *
 * Input: 4 config bytes (pcp, migratetypes, pmem size 4..32 MiB, batch,
 * high, and an OS call to fail during create), then one op per byte with
 * its arguments: alloc_pages (orders 0..11 and migratetypes 0..3, the last
 * of each invalid and expected to fail), free_pages of a live block, bulk
 * alloc, attach/detach of the per-thread lists, check, exhaust (order-0
 * allocations until one fails: pmem exhausted), free everything.
 *
 * The model: who owns each frame. Every block handed out must be aligned to
 * its order, lie inside pmem, overlap no live block, and keep the tag
 * written into its first and last words until it is freed. After the ops,
 * mmb_buddy_check() must pass, used pages must equal the model's, and after
 * freeing everything the zone must account every managed frame as free or
 * on the per-thread lists. A failed create (injected OS failure) must say
 * why and leak nothing (LeakSanitizer checks).
 */
#include <string.h>

#include "../../allocators/allocator.h"
#include "../../allocators/buddy.h"
#include "fuzz.h"

#define FZB_MAX_BLOCKS 4096
#define FZB_MAX_PFNS (32u << 20 >> MMB_PAGE_SHIFT)

struct fzb_block {
	struct mmb_page *page;
	unsigned order;
	uint64_t tag;
};

struct fzb {
	struct mmb_buddy *b;
	struct mmb_pmem *pm;
	struct fzb_block blk[FZB_MAX_BLOCKS];
	unsigned nblk;
	uint64_t used, next_tag;
	int attached, mobility;
	uint32_t owner[FZB_MAX_PFNS];	/* block tag's low bits + 1, 0 = free */
};

static struct fzb fzb;

static void fzb_check(const char *when)
{
	char err[MMB_ERR_MAX] = "";

	if (mmb_buddy_check(fzb.b, err, sizeof(err)))
		fuzz_fail("check after %s: %s", when, err);
	if (mmb_buddy_used_pages(fzb.b) != fzb.used)
		fuzz_fail("after %s: used pages %llu, the model has %llu", when,
			  (unsigned long long)mmb_buddy_used_pages(fzb.b), (unsigned long long)fzb.used);
}

static uint64_t *fzb_word(const struct fzb_block *k, int last)
{
	char *base = mmb_page_address(fzb.pm, k->page);

	return (uint64_t *)(base + (last ? (MMB_PAGE_SIZE << k->order) - 8 : 0));
}

static void fzb_took(struct mmb_page *page, unsigned order)
{
	uint64_t pfn = mmb_page_to_pfn(fzb.pm, page), n = 1ULL << order;
	struct fzb_block *k;

	if (pfn & (n - 1) || pfn + n > fzb.pm->nr_pfns)
		fuzz_fail("order-%u block at pfn %#llx misaligned or outside pmem", order,
			  (unsigned long long)pfn);
	if (page->order != order || page->refcount != 1 || (order && !(page->flags & MMB_PG_HEAD)))
		fuzz_fail("order-%u block at pfn %#llx: descriptor order %u refcount %d flags %#x",
			  order, (unsigned long long)pfn, page->order, page->refcount, page->flags);
	for (uint64_t i = 0; i < n; i++)
		if (fzb.owner[pfn + i])
			fuzz_fail("order-%u block at pfn %#llx overlaps a live block at pfn %#llx",
				  order, (unsigned long long)pfn, (unsigned long long)(pfn + i));
	if (fzb.nblk == FZB_MAX_BLOCKS) {	/* the model is full: give it back */
		mmb_free_pages(fzb.b, page, order);
		return;
	}
	k = &fzb.blk[fzb.nblk++];
	*k = (struct fzb_block){ page, order, ++fzb.next_tag };
	for (uint64_t i = 0; i < n; i++)
		fzb.owner[pfn + i] = (uint32_t)k->tag | 1;
	*fzb_word(k, 0) = k->tag;
	*fzb_word(k, 1) = ~k->tag;
	fzb.used += n;
}

static void fzb_free(unsigned i)
{
	struct fzb_block *k = &fzb.blk[i];
	uint64_t pfn = mmb_page_to_pfn(fzb.pm, k->page), n = 1ULL << k->order;

	if (*fzb_word(k, 0) != k->tag || *fzb_word(k, 1) != ~k->tag)
		fuzz_fail("order-%u block at pfn %#llx was overwritten while live", k->order,
			  (unsigned long long)pfn);
	for (uint64_t j = 0; j < n; j++)
		fzb.owner[pfn + j] = 0;
	mmb_free_pages(fzb.b, k->page, k->order);
	fzb.used -= n;
	*k = fzb.blk[--fzb.nblk];
}

/* With migratetypes off every type is taken as unmovable, even a bad one. */
static void fzb_alloc(unsigned order, unsigned mt)
{
	struct mmb_page *page = mmb_alloc_pages(fzb.b, order, (enum mmb_migratetype)mt);

	if (order > MMB_MAX_ORDER || (mt >= MMB_MT_TYPES && fzb.mobility)) {
		if (page)
			fuzz_fail("alloc_pages(order %u, type %u) succeeded", order, mt);
		return;
	}
	if (page)
		fzb_took(page, order);
}

static void fzb_bulk(unsigned nr, unsigned mt)
{
	struct mmb_page *pages[64];
	unsigned got = mmb_alloc_pages_bulk(fzb.b, (enum mmb_migratetype)mt, nr, pages);

	if (got > nr || (mt >= MMB_MT_TYPES && fzb.mobility && got))
		fuzz_fail("bulk of %u type %u gave %u", nr, mt, got);
	for (unsigned i = 0; i < got; i++)
		fzb_took(pages[i], 0);
}

static void fzb_exhaust(void)
{
	struct mmb_buddy_counters c0, c1;
	struct mmb_page *page;

	mmb_buddy_counters(fzb.b, &c0);
	while (fzb.nblk < FZB_MAX_BLOCKS && (page = mmb_alloc_pages(fzb.b, 0, MMB_MT_UNMOVABLE)))
		fzb_took(page, 0);
	if (fzb.nblk == FZB_MAX_BLOCKS)
		return;
	mmb_buddy_counters(fzb.b, &c1);
	if (c1.failed_allocs != c0.failed_allocs + 1)
		fuzz_fail("exhausted pmem: failed_allocs went from %llu to %llu",
			  (unsigned long long)c0.failed_allocs, (unsigned long long)c1.failed_allocs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned c0 = fuzz_u8(&in), c1 = fuzz_u8(&in), c2 = fuzz_u8(&in), c3 = fuzz_u8(&in);
	struct mmb_buddy_cfg cfg = {
		.mem_bytes = (4ULL << 20) << (c0 >> 2 & 3),
		.pcp = c0 & 1,
		.migratetypes = c0 >> 1 & 1,
		.batch = c1 & 0x80 ? c1 & 0x3f : 0,
		.high = c2 & 0x80 ? (c2 & 0x7f) * 4 : 0,
		.nthreads = 1 + (c0 >> 4 & 3),
	};
	struct mmb_buddy_info info;
	char err[MMB_ERR_MAX] = "";
	/* c3 = 0xfN: fail OS call N (1..4) of create (memfd, two maps). */
	unsigned fail_at = (c3 & 0xf0) == 0xf0 ? (c3 & 3) + 1 : 0, calls, nops = 0, nchecks = 0;
	int rc;

	fuzz_os_install(fail_at);
	rc = mmb_buddy_create(&cfg, &fzb.b, err, sizeof(err));
	calls = fuzz_os_calls;
	fuzz_os_install(0);
	if (rc) {
		if (!fail_at || rc >= 0 || !err[0])
			fuzz_fail("create failed with %d '%s' without an injected fault", rc, err);
		return 0;
	}
	if (fail_at && calls >= fail_at)
		fuzz_fail("create succeeded although OS call %u of %u failed", fail_at, calls);
	fzb.pm = mmb_buddy_pmem(fzb.b);
	fzb.nblk = 0;
	fzb.used = 0;
	fzb.attached = 0;
	mmb_buddy_info(fzb.b, &info);
	fzb.mobility = info.mobility;
	memset(fzb.owner, 0, sizeof(fzb.owner[0]) * fzb.pm->nr_pfns);
	while (in.n && nops++ < 2000) {
		unsigned op = fuzz_u8(&in);

		switch (op & 7) {
		case 0:
		case 1:
			fzb_alloc(op >> 3 & 0xf ? (op >> 3 & 0xf) % (MMB_MAX_ORDER + 2) : 0, fuzz_u8(&in) & 3);
			break;
		case 2:
		case 3:
			if (fzb.nblk)
				fzb_free(fuzz_u16(&in) % fzb.nblk);
			break;
		case 4:
			fzb_bulk(fuzz_u8(&in) % 65, op >> 3 & 3);
			break;
		case 5:
			if (fzb.attached)
				mmb_buddy_thread_detach(fzb.b);
			else
				mmb_buddy_thread_attach(fzb.b);
			fzb.attached = !fzb.attached;
			break;
		case 6:
			if (op & 0x80)
				fzb_exhaust();
			else if (nchecks++ < 8)	/* a walk of every frame: keep inputs fast */
				fzb_check("ops");
			break;
		default:
			while (fzb.nblk)
				fzb_free(fzb.nblk - 1);
			break;
		}
	}
	fzb_check("the last op");
	while (fzb.nblk)
		fzb_free(fzb.nblk - 1);
	if (fzb.attached)
		mmb_buddy_thread_detach(fzb.b);
	fzb_check("freeing everything");
	mmb_buddy_info(fzb.b, &info);
	if (info.free_pages + info.pcp_pages != info.managed_pages || info.pcp_pages)
		fuzz_fail("all freed and detached: free %llu + per-thread %llu != managed %llu",
			  (unsigned long long)info.free_pages, (unsigned long long)info.pcp_pages,
			  (unsigned long long)info.managed_pages);
	mmb_buddy_destroy(fzb.b);
	return 0;
}

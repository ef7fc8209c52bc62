/*
 * vmalloc.c — the kernel's vmalloc (mm/vmalloc.c) in user space, and the
 * registry allocator `vmalloc` on top of it (vmalloc.h).
 *
 * Data structures (the kernel's names):
 *   struct vmap_area	[va_start, va_end) of the window, page aligned. It sits
 *			in exactly one of four trees, all AVL trees keyed by
 *			va_start (the kernel uses rbtrees; the augmentation is
 *			the same):
 *     free tree	free virtual space; each node also holds
 *			subtree_max_size = max(va_size(node), left's, right's),
 *			so the lowest-address fit is found in O(log n)
 *			(find_vmap_lowest_match). Neighbours coalesce on insert
 *			(merge_or_add_vmap_area).
 *     busy tree	areas in use; node->vm is the area's vm_struct. Any
 *			address inside an area finds it (vmalloc_to_page).
 *     lazy tree	freed areas not yet purged ("unpurged vm_area"):
 *			unmapped, not reusable, merged back by a purge.
 *     lost tree	freed areas whose unmap failed (no kernel counterpart:
 *			clearing PTEs cannot fail there); node->vm is kept.
 *			Never reused ("Lost areas" below).
 *   struct vm_struct	addr, size (with the guard page), flags (VM_ALLOC,
 *			VM_MAP, VM_UNINITIALIZED while being set up), the page
 *			array (inline when it fits a page, as the kernel's
 *			kmalloc'ed array; else itself vmalloc'ed: " vpages"),
 *			nr_pages and the caller.
 *
 * An area's pages are frames of the pmem memfd mapped with
 * mmap(MAP_FIXED | MAP_SHARED), one call per run of consecutive pfns (frames
 * sorted by pfn first). Like the kernel's, which installs every PTE at once,
 * every frame already in the page cache is prefaulted (MAP_POPULATE for a
 * whole run, else MADV_POPULATE_WRITE per stretch); a hole (a frame never
 * touched) is not, so that its first touch stays a MISSING event for the
 * region monitor, as it is through the direct map. Residency is learned
 * from mincore and kept in a bitmap, which assumes nothing punches pmem frames
 * back into holes while the instance lives (nothing does today). The
 * guard page after them, like all free and lazy space, stays the window's
 * PROT_NONE anonymous reservation. Unmapping puts that reservation back with
 * one mmap(PROT_NONE, MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE) per area, so
 * no hole ever opens in the window.
 *
 * Invariants (mmb_vmalloc_check):
 *   1. free ∪ busy ∪ lazy ∪ lost areas tile the window exactly, without
 *      overlap; no two free areas touch (they are maximal).
 *   2. every free node's subtree_max_size equals the recomputed value; every
 *      tree is ordered by address and AVL-balanced.
 *   3. every initialized busy area: size == (nr_pages + 1) * PAGE_SIZE;
 *      page i is mapped rw-s from the memfd at offset pfn(pages[i]) *
 *      PAGE_SIZE; its guard page, and every lazy and free page, is PROT_NONE;
 *      a vmalloc'ed area's frames carry MMB_PG_VMALLOC with owner == area.
 *   4. lazy_nr == Σ lazy area pages (guard included, as vmap_lazy_nr);
 *      nr_pages == Σ pages of initialized vmalloc'ed areas.
 *   5. every lost area: size == (nr_pages + 1) * PAGE_SIZE; page i <
 *      nr_mapped is still mapped as in 3, the rest of the range (guard
 *      included) is PROT_NONE; a vmalloc'ed one still owns all its frames
 *      as in 3; lost_pages == Σ pages of lost vmalloc'ed areas.
 *
 * Lazy free (free_vmap_area_noflush): vfree unmaps at once and moves the
 * area to the lazy tree; when lazy_nr exceeds lazy_max_pages (the kernel's
 * fls(online CPUs) * 32 MiB / PAGE_SIZE) the freeing thread purges: it takes
 * the whole lazy tree and merges every area back into the free tree under
 * one hold of the free lock (one "TLB flush" in the kernel). An allocation
 * that finds no space purges once and retries, as alloc_vmap_area does.
 *
 * Lost areas: unmapping is one mmap(PROT_NONE, MAP_FIXED) through mmb_os,
 * which can fail (fault injection; ENOMEM near vm.max_map_count). The
 * area's pages may then still map its frames, so neither the range nor a
 * vmalloc'ed area's frames may be reused: vfree (or the unwinding of a
 * failed vmalloc or vmap) moves the area to the lost tree with its
 * vm_struct, page array (a vmalloc'ed one stays a busy area) and frames,
 * still marked as the area's own (a vmap'ed area's frames stay the
 * caller's, as ever). Mapping starts only once every frame is there, so a
 * vmalloc'ed area whose unmap fails holds all nr_pages frames. The range
 * stays out of every other tree for the instance's life. Lost areas are
 * counted (lost_areas, lost_pages) and shown in vmallocinfo as busy ones
 * are, with the flag " lost" (ours). destroy frees them: their frames go
 * back to the buddy allocator first (nothing reaches the range any more,
 * and the window's munmap follows), then their page arrays, vm_structs and
 * vmap_areas.
 *
 * Every run is one mapping of the process, which the kernel caps at
 * vm.max_map_count: an mmap failing there leaves a message naming the limit
 * (mmb_vmalloc_last_error) and the allocation unwound.
 *
 * Not modelled: the per-CPU vmap nodes and their size pools (6.9+; this is
 * the older single free tree), vm_map_ram's vmap blocks, huge mappings, and
 * the newest kernels' high-order-first frame allocation (order-0 bulk only).
 *
 * Thread model and lock order: purge_lock (one purge at a time) → busy_lock
 * (busy and lost trees, nr_pages, used_bytes, lost_pages, vm_struct flags)
 * → lazy_lock (lazy tree, lazy_nr) → free_lock (free tree) → err_lock (last
 * error). mmap calls and frame allocation happen outside all of them. Event
 * counters are relaxed atomics. check() and vmallocinfo() expect no call in
 * flight.
 */
#include "vmalloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "allocator.h"
#include "kmemleak.h"
#include "os.h"
#include "statefile.h"

/* vm_struct.flags, with the kernel's values. */
#define VM_ALLOC 0x00000002UL
#define VM_MAP 0x00000004UL
#define VM_UNINITIALIZED 0x00000020UL

#define VM_PAGE_ALIGN(x) (((x) + MMB_PAGE_SIZE - 1) & ~(MMB_PAGE_SIZE - 1))
#define VM_BULK_MAX 100U		/* frames per bulk request, as vm_area_alloc_pages */
#define VM_MAP_COUNT_SLACK 16		/* "at the limit" when this close to vm.max_map_count */
/*
 * kmemleak_vmalloc's min_count: one real reference, plus the three words
 * of our own metadata that hold an area's address (vm_struct.addr, its
 * vmap_area's va_start, and the va_end of the area, free or lazy range just
 * below it -- or vm->start for the first area), as the kernel's 2 counts
 * its vm_struct.
 */
#define VM_KMEMLEAK_MIN_COUNT 4

struct vm_struct {
	unsigned long addr;
	unsigned long size;		/* includes the guard page */
	unsigned long flags;
	struct mmb_page **pages;
	unsigned nr_pages;
	unsigned nr_mapped;		/* pages[0..nr_mapped) are mapped (set-up progress) */
	const void *caller;
	struct mmb_page *inline_pages[];	/* the page array when it fits a page */
};

struct vmap_area {
	unsigned long va_start, va_end;
	struct vmap_area *left, *right;
	int height;
	union {
		unsigned long subtree_max_size;	/* free tree */
		struct vm_struct *vm;		/* busy and lost trees; NULL on the lazy tree */
	};
};

struct va_tree {
	struct vmap_area *root;
	uint64_t nr;
	int augment;			/* maintain subtree_max_size (free tree) */
};

struct mmb_vmalloc {
	struct mmb_buddy *buddy;
	struct mmb_kmemleak *kml;	/* not owned; NULL = off */
	struct mmb_pmem *pm;
	unsigned long start, end;	/* the window */
	int lazy;
	uint64_t lazy_max_pages;
	dev_t pmem_dev;
	ino_t pmem_ino;
	uint64_t max_map_count;
	uint64_t *resident;		/* bit per pfn: known to be in the page cache */

	pthread_mutex_t purge_lock, busy_lock, lazy_lock, free_lock, err_lock;
	struct va_tree free, busy, lazyt, lost;
	uint64_t lazy_nr;		/* lazy_lock */
	uint64_t nr_pages, used_bytes;	/* busy_lock */
	uint64_t lost_pages;		/* busy_lock: frames held by lost vmalloc'ed areas */

	uint64_t allocs, frees, failed_allocs, bad_frees, mmap_calls;	/* atomic */
	uint64_t purges, purged_areas, purged_pages, prefaulted_pages;	/* atomic */
	char last_err[MMB_ERR_MAX];	/* err_lock */
};

#define vm_count(vm, field, n) __atomic_fetch_add(&(vm)->field, (n), __ATOMIC_RELAXED)
#define vm_read(vm, field) __atomic_load_n(&(vm)->field, __ATOMIC_RELAXED)

__attribute__((format(printf, 2, 3)))
static void vm_error(struct mmb_vmalloc *vm, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->err_lock);
	va_start(ap, fmt);
	vsnprintf(vm->last_err, sizeof(vm->last_err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&vm->err_lock);
}

/* ---- AVL trees of vmap_areas ---------------------------------------- */

static unsigned long va_size(const struct vmap_area *va)
{
	return va->va_end - va->va_start;
}

static int va_height(const struct vmap_area *n)
{
	return n ? n->height : 0;
}

static unsigned long va_subtree_max(const struct vmap_area *n)
{
	return n ? n->subtree_max_size : 0;
}

static unsigned long va_compute_subtree_max(const struct vmap_area *n)
{
	unsigned long m = va_size(n);

	if (va_subtree_max(n->left) > m)
		m = va_subtree_max(n->left);
	if (va_subtree_max(n->right) > m)
		m = va_subtree_max(n->right);
	return m;
}

static void va_update(const struct va_tree *t, struct vmap_area *n)
{
	int hl = va_height(n->left), hr = va_height(n->right);

	n->height = 1 + (hl > hr ? hl : hr);
	if (t->augment)
		n->subtree_max_size = va_compute_subtree_max(n);
}

static struct vmap_area *va_rotate_right(const struct va_tree *t, struct vmap_area *n)
{
	struct vmap_area *l = n->left;

	n->left = l->right;
	l->right = n;
	va_update(t, n);
	va_update(t, l);
	return l;
}

static struct vmap_area *va_rotate_left(const struct va_tree *t, struct vmap_area *n)
{
	struct vmap_area *r = n->right;

	n->right = r->left;
	r->left = n;
	va_update(t, n);
	va_update(t, r);
	return r;
}

static struct vmap_area *va_rebalance(const struct va_tree *t, struct vmap_area *n)
{
	int bal;

	va_update(t, n);
	bal = va_height(n->left) - va_height(n->right);
	if (bal > 1) {
		if (va_height(n->left->left) < va_height(n->left->right))
			n->left = va_rotate_left(t, n->left);
		return va_rotate_right(t, n);
	}
	if (bal < -1) {
		if (va_height(n->right->right) < va_height(n->right->left))
			n->right = va_rotate_right(t, n->right);
		return va_rotate_left(t, n);
	}
	return n;
}

static struct vmap_area *va_insert_at(const struct va_tree *t, struct vmap_area *n,
				      struct vmap_area *va)
{
	if (!n) {
		va->left = va->right = NULL;
		va_update(t, va);
		return va;
	}
	if (va->va_start < n->va_start)
		n->left = va_insert_at(t, n->left, va);
	else
		n->right = va_insert_at(t, n->right, va);
	return va_rebalance(t, n);
}

static void va_insert(struct va_tree *t, struct vmap_area *va)
{
	t->root = va_insert_at(t, t->root, va);
	t->nr++;
}

static struct vmap_area *va_remove_min(const struct va_tree *t, struct vmap_area *n,
				       struct vmap_area **r_min)
{
	if (!n->left) {
		*r_min = n;
		return n->right;
	}
	n->left = va_remove_min(t, n->left, r_min);
	return va_rebalance(t, n);
}

/* va must be in the subtree n. */
static struct vmap_area *va_remove_at(const struct va_tree *t, struct vmap_area *n,
				      const struct vmap_area *va)
{
	struct vmap_area *m;

	if (va->va_start < n->va_start) {
		n->left = va_remove_at(t, n->left, va);
	} else if (va->va_start > n->va_start) {
		n->right = va_remove_at(t, n->right, va);
	} else {
		if (!n->right)
			return n->left;
		n->right = va_remove_min(t, n->right, &m);
		m->left = n->left;
		m->right = n->right;
		n = m;
	}
	return va_rebalance(t, n);
}

static void va_remove(struct va_tree *t, struct vmap_area *va)
{
	t->root = va_remove_at(t, t->root, va);
	t->nr--;
}

/* Recompute the augmented values on the path to a node whose size changed in
 * place (its order among its neighbours did not). */
static void va_propagate_at(const struct va_tree *t, struct vmap_area *n, unsigned long key)
{
	if (key < n->va_start)
		va_propagate_at(t, n->left, key);
	else if (key > n->va_start)
		va_propagate_at(t, n->right, key);
	va_update(t, n);
}

static void va_propagate(const struct va_tree *t, const struct vmap_area *va)
{
	va_propagate_at(t, t->root, va->va_start);
}

static struct vmap_area *va_find_containing(const struct va_tree *t, unsigned long addr)
{
	struct vmap_area *n = t->root;

	while (n) {
		if (addr < n->va_start)
			n = n->left;
		else if (addr >= n->va_end)
			n = n->right;
		else
			return n;
	}
	return NULL;
}

/* The nodes just below and just above addr (addr itself in no node). */
static void va_neighbours(const struct va_tree *t, unsigned long addr, struct vmap_area **r_prev,
			  struct vmap_area **r_next)
{
	struct vmap_area *n = t->root;

	*r_prev = *r_next = NULL;
	while (n) {
		if (addr < n->va_start) {
			*r_next = n;
			n = n->left;
		} else {
			*r_prev = n;
			n = n->right;
		}
	}
}

/* ---- the free tree: lowest fit, clip, merge ------------------------- */

static unsigned long va_align_up(unsigned long x, unsigned long align)
{
	return (x + align - 1) & ~(align - 1);
}

/* is_within_this_va */
static int va_fits(const struct vmap_area *va, unsigned long size, unsigned long align)
{
	unsigned long nva_start = va_align_up(va->va_start, align);

	if (nva_start < va->va_start || nva_start + size < nva_start)
		return 0;
	return nva_start + size <= va->va_end;
}

/*
 * find_vmap_lowest_match: the lowest-addressed free area that holds size
 * bytes at align. A subtree is entered only when its largest area holds
 * length (size + align - 1 when align > PAGE_SIZE, so that any such area
 * fits); every node on the way is tried as it is.
 */
static struct vmap_area *va_lowest_match(const struct va_tree *t, unsigned long size,
					 unsigned long align)
{
	unsigned long length = align > MMB_PAGE_SIZE ? size + align - 1 : size;
	struct vmap_area *n = t->root;

	while (n) {
		if (va_subtree_max(n->left) >= length) {
			n = n->left;
			continue;
		}
		if (va_fits(n, size, align))
			return n;
		if (va_subtree_max(n->right) < length)
			return NULL;
		n = n->right;
	}
	return NULL;
}

/*
 * va_clip: take [nva_start, nva_start + size) out of the free area va.
 * A split (NE_FIT_TYPE) consumes *spare; without one it returns -EAGAIN
 * and changes nothing.
 */
static int va_clip(struct va_tree *t, struct vmap_area *va, unsigned long nva_start,
		   unsigned long size, struct vmap_area **spare)
{
	unsigned long nva_end = nva_start + size;

	if (va->va_start == nva_start && va->va_end == nva_end) {		/* FL */
		va_remove(t, va);
		free(va);
	} else if (va->va_start == nva_start) {				/* LE */
		va->va_start = nva_end;
		va_propagate(t, va);
	} else if (va->va_end == nva_end) {					/* RE */
		va->va_end = nva_start;
		va_propagate(t, va);
	} else {								/* NE */
		struct vmap_area *lva = *spare;

		if (!lva)
			return -EAGAIN;
		*spare = NULL;
		lva->va_start = va->va_start;
		lva->va_end = nva_start;
		va->va_start = nva_end;
		va_propagate(t, va);
		va_insert(t, lva);
	}
	return 0;
}

/* merge_or_add_vmap_area: va joins the free tree, coalesced with its neighbours. */
static void va_merge_or_add(struct va_tree *t, struct vmap_area *va)
{
	struct vmap_area *prev, *next;

	va_neighbours(t, va->va_start, &prev, &next);
	if (next && next->va_start == va->va_end) {
		next->va_start = va->va_start;
		free(va);
		va = next;
		if (prev && prev->va_end == va->va_start) {
			prev->va_end = va->va_end;
			va_remove(t, va);
			free(va);
			va_propagate(t, prev);
			return;
		}
		va_propagate(t, va);
		return;
	}
	if (prev && prev->va_end == va->va_start) {
		prev->va_end = va->va_end;
		free(va);
		va_propagate(t, prev);
		return;
	}
	va_insert(t, va);
}

/* ---- areas ------------------------------------------------------------ */

static void vm_purge_locked(struct mmb_vmalloc *vm);

/*
 * alloc_vmap_area: a busy vmap_area of size bytes (guard included) at align,
 * or NULL with the reason kept. Purges once and retries when full.
 */
static struct vmap_area *vm_alloc_vmap_area(struct mmb_vmalloc *vm, unsigned long size,
					    unsigned long align)
{
	struct vmap_area *va = malloc(sizeof(*va)), *spare = NULL, *fva;
	unsigned long addr = 0;
	int purged = 0, found, rc = 0;

	if (!va)
		goto nomem;
	for (;;) {
		pthread_mutex_lock(&vm->free_lock);
		fva = va_lowest_match(&vm->free, size, align);
		found = fva != NULL;
		if (found) {
			addr = va_align_up(fva->va_start, align);
			rc = va_clip(&vm->free, fva, addr, size, &spare);
		}
		pthread_mutex_unlock(&vm->free_lock);
		if (found && rc == -EAGAIN) {
			spare = malloc(sizeof(*spare));
			if (!spare)
				goto nomem;
			continue;
		}
		if (found || purged)
			break;
		pthread_mutex_lock(&vm->purge_lock);
		vm_purge_locked(vm);
		pthread_mutex_unlock(&vm->purge_lock);
		purged = 1;
	}
	free(spare);
	if (!found) {
		free(va);
		vm_error(vm, "vmalloc_node_range for size %lu failed: Address range restricted to %#lx - %#lx",
			 size, vm->start, vm->end);
		return NULL;
	}
	va->va_start = addr;
	va->va_end = addr + size;
	va->vm = NULL;
	return va;
nomem:
	free(va);
	vm_error(vm, "vmalloc: out of memory for a vmap_area");
	return NULL;
}

/*
 * free_vmap_area_noflush: an unmapped area's range goes to the lazy tree
 * (lazy=on; purged past lazy_max_pages) or straight back to the free tree.
 */
static void vm_free_vmap_area(struct mmb_vmalloc *vm, struct vmap_area *va)
{
	int over;

	va->vm = NULL;
	if (!vm->lazy) {
		pthread_mutex_lock(&vm->free_lock);
		va_merge_or_add(&vm->free, va);
		pthread_mutex_unlock(&vm->free_lock);
		return;
	}
	pthread_mutex_lock(&vm->lazy_lock);
	va_insert(&vm->lazyt, va);
	vm->lazy_nr += va_size(va) >> MMB_PAGE_SHIFT;
	over = vm->lazy_nr > vm->lazy_max_pages;
	pthread_mutex_unlock(&vm->lazy_lock);
	/* The kernel schedules drain_vmap_work; here the freeing thread drains,
	 * unless another thread is already at it. */
	if (over && pthread_mutex_trylock(&vm->purge_lock) == 0) {
		vm_purge_locked(vm);
		pthread_mutex_unlock(&vm->purge_lock);
	}
}

static void vm_purge_merge(struct mmb_vmalloc *vm, struct vmap_area *n)
{
	struct vmap_area *right;

	if (!n)
		return;
	vm_purge_merge(vm, n->left);
	right = n->right;
	va_merge_or_add(&vm->free, n);
	vm_purge_merge(vm, right);
}

/* __purge_vmap_area_lazy: every lazy area back into the free tree, in one batch. */
static void vm_purge_locked(struct mmb_vmalloc *vm)
{
	struct vmap_area *root;
	uint64_t nr, pages;

	pthread_mutex_lock(&vm->lazy_lock);
	root = vm->lazyt.root;
	nr = vm->lazyt.nr;
	pages = vm->lazy_nr;
	vm->lazyt.root = NULL;
	vm->lazyt.nr = 0;
	vm->lazy_nr = 0;
	pthread_mutex_unlock(&vm->lazy_lock);
	if (!nr)
		return;
	pthread_mutex_lock(&vm->free_lock);
	vm_purge_merge(vm, root);
	pthread_mutex_unlock(&vm->free_lock);
	vm_count(vm, purges, 1);
	vm_count(vm, purged_areas, nr);
	vm_count(vm, purged_pages, pages);
}

uint64_t mmb_vmalloc_purge(struct mmb_vmalloc *vm)
{
	uint64_t before;

	pthread_mutex_lock(&vm->purge_lock);
	before = vm_read(vm, purged_areas);
	vm_purge_locked(vm);
	before = vm_read(vm, purged_areas) - before;
	pthread_mutex_unlock(&vm->purge_lock);
	return before;
}

static int vm_is_vmalloc_addr(const struct mmb_vmalloc *vm, const void *addr)
{
	return (unsigned long)addr >= vm->start && (unsigned long)addr < vm->end;
}

int mmb_is_vmalloc_addr(struct mmb_vmalloc *vm, const void *addr)
{
	return vm_is_vmalloc_addr(vm, addr);
}

/* Lines of /proc/self/maps: the process's memory mappings now. */
static uint64_t vm_map_count(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uint64_t n = 0;
	char buf[4096];
	size_t got;

	if (!f)
		return MMB_STAT_NONE;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < got; i++)
			n += buf[i] == '\n';
	fclose(f);
	return n;
}

static void vm_map_failed(struct mmb_vmalloc *vm, unsigned long addr, size_t len, int e)
{
	uint64_t n = e == ENOMEM ? vm_map_count() : MMB_STAT_NONE;

	if (n != MMB_STAT_NONE && vm->max_map_count != MMB_STAT_NONE &&
	    n + VM_MAP_COUNT_SLACK >= vm->max_map_count)
		vm_error(vm, "vmalloc: mmap of %zu bytes at %#lx: ENOMEM: the process holds %llu memory mappings, at the limit vm.max_map_count = %llu (raise it with sysctl, or map fewer, larger areas)",
			 len, addr, (unsigned long long)n, (unsigned long long)vm->max_map_count);
	else
		vm_error(vm, "vmalloc: mmap of %zu bytes at %#lx: %s", len, addr, strerror(e));
}

static uint64_t vm_pfn(const struct mmb_vmalloc *vm, const struct mmb_page *page)
{
	return mmb_page_to_pfn(vm->pm, page);
}

/* The run of consecutive pfns starting at pages[i]: its length. */
static unsigned vm_run_len(const struct mmb_vmalloc *vm, const struct vm_struct *area, unsigned i,
			   unsigned end)
{
	unsigned j = i + 1;

	while (j < end && vm_pfn(vm, area->pages[j]) == vm_pfn(vm, area->pages[j - 1]) + 1)
		j++;
	return j - i;
}

static int vm_test_resident(const struct mmb_vmalloc *vm, uint64_t pfn)
{
	return (__atomic_load_n(&vm->resident[pfn / 64], __ATOMIC_RELAXED) >> (pfn % 64)) & 1;
}

/*
 * How many frames of the run pfn..pfn+n are in the memfd's page cache: known
 * from the resident bitmap, else asked of mincore (on the direct map; a frame
 * never touched is a hole there), and then remembered.
 */
static unsigned vm_run_resident(struct mmb_vmalloc *vm, uint64_t pfn, unsigned n)
{
	unsigned char vec[256];
	unsigned i, nres = 0;

	for (i = 0; i < n && vm_test_resident(vm, pfn + i); i++)
		;
	if (i == n)
		return n;
	for (unsigned done = 0, k; done < n; done += k) {
		k = n - done < sizeof(vec) ? n - done : (unsigned)sizeof(vec);
		if (mincore(mmb_pfn_to_virt(vm->pm, pfn + done), (size_t)k << MMB_PAGE_SHIFT, vec))
			return 0;
		for (i = 0; i < k; i++) {
			if (!(vec[i] & 1))
				continue;
			__atomic_fetch_or(&vm->resident[(pfn + done + i) / 64],
					  1ULL << ((pfn + done + i) % 64), __ATOMIC_RELAXED);
			nres++;
		}
	}
	return nres;
}

/* Install the PTEs of the resident frames of a run mapped at addr without
 * them (one madvise per stretch of resident frames). */
static void vm_prefault_resident(struct mmb_vmalloc *vm, unsigned long addr, uint64_t pfn,
				 unsigned n)
{
	for (unsigned i = 0, j; i < n; i = j) {
		for (j = i; j < n && vm_test_resident(vm, pfn + j); j++)
			;
		if (j > i && !madvise((void *)(addr + ((unsigned long)i << MMB_PAGE_SHIFT)),
				      (size_t)(j - i) << MMB_PAGE_SHIFT, MADV_POPULATE_WRITE))
			vm_count(vm, prefaulted_pages, j - i);
		for (; j < n && !vm_test_resident(vm, pfn + j); j++)
			;
	}
}

/*
 * vmap_pages_range: map pages[nr_mapped..nr_pages), one mmap per run,
 * prefaulted when every frame of the run is resident (file-top comment).
 */
static int vm_map_area_pages(struct mmb_vmalloc *vm, struct vm_struct *area)
{
	while (area->nr_mapped < area->nr_pages) {
		unsigned i = area->nr_mapped, n = vm_run_len(vm, area, i, area->nr_pages);
		unsigned long addr = area->addr + ((unsigned long)i << MMB_PAGE_SHIFT);
		size_t len = (size_t)n << MMB_PAGE_SHIFT;
		uint64_t pfn = vm_pfn(vm, area->pages[i]);
		off_t off = (off_t)(pfn << MMB_PAGE_SHIFT);
		unsigned nres = vm_run_resident(vm, pfn, n);
		int rc;

		vm_count(vm, mmap_calls, 1);
		if (!mmb_os->map((void *)addr, len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED | (nres == n ? MAP_POPULATE : 0), vm->pm->fd,
				 off)) {
			rc = errno;
			vm_map_failed(vm, addr, len, rc);
			return -rc;
		}
		area->nr_mapped += n;
		if (nres == n)
			vm_count(vm, prefaulted_pages, n);
		else if (nres)
			vm_prefault_resident(vm, addr, pfn, n);
		rc = mmb_region_add("vmalloc", (void *)addr, len, MMB_REGION_MISSING | MMB_REGION_MINOR,
				    vm->pm->fd, off);
		if (rc) {
			area->nr_mapped -= n;
			mmb_os->map((void *)addr, len, PROT_NONE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
			vm_count(vm, mmap_calls, 1);
			vm_error(vm, "vmalloc: the region monitor refused %zu bytes at %#lx: %s", len,
				 addr, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* vunmap_range_noflush: withdraw the runs and put the PROT_NONE reservation back. */
static int vm_unmap_area_pages(struct mmb_vmalloc *vm, struct vm_struct *area)
{
	size_t len = (size_t)area->nr_mapped << MMB_PAGE_SHIFT;

	if (!len)
		return 0;
	for (unsigned i = 0, n; i < area->nr_mapped; i += n) {
		n = vm_run_len(vm, area, i, area->nr_mapped);
		mmb_region_del((void *)(area->addr + ((unsigned long)i << MMB_PAGE_SHIFT)),
			       (size_t)n << MMB_PAGE_SHIFT);
	}
	vm_count(vm, mmap_calls, 1);
	if (!mmb_os->map((void *)area->addr, len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0)) {
		int e = errno;

		vm_error(vm, "vmalloc: unmapping %zu bytes at %#lx failed (%s): its frames are kept, never reused",
			 len, area->addr, strerror(e));
		return -e;
	}
	area->nr_mapped = 0;
	return 0;
}

/*
 * __get_vm_area_node: a vm_struct for size bytes of pages (page aligned),
 * plus the guard page, with room for the page array when it fits a page.
 * Inserted into the busy tree as VM_UNINITIALIZED.
 */
static struct vm_struct *vm_get_area(struct mmb_vmalloc *vm, unsigned long size,
				     unsigned long align, unsigned long flags, const void *caller)
{
	unsigned nr = (unsigned)(size >> MMB_PAGE_SHIFT);
	size_t array = (size_t)nr * sizeof(struct mmb_page *);
	struct vm_struct *area = malloc(sizeof(*area) + (array <= MMB_PAGE_SIZE ? array : 0));
	struct vmap_area *va;

	if (!area) {
		vm_error(vm, "vmalloc: out of memory for a vm_struct");
		return NULL;
	}
	va = vm_alloc_vmap_area(vm, size + MMB_PAGE_SIZE, align);
	if (!va) {
		free(area);
		return NULL;
	}
	area->addr = va->va_start;
	area->size = size + MMB_PAGE_SIZE;
	area->flags = flags | VM_UNINITIALIZED;
	area->pages = array <= MMB_PAGE_SIZE ? area->inline_pages : NULL;
	area->nr_pages = nr;
	area->nr_mapped = 0;
	area->caller = caller;
	va->vm = area;
	pthread_mutex_lock(&vm->busy_lock);
	va_insert(&vm->busy, va);
	pthread_mutex_unlock(&vm->busy_lock);
	return area;
}

/* clear_vm_uninitialized_flag: the area is complete; counted from now on. */
static void vm_area_ready(struct mmb_vmalloc *vm, struct vm_struct *area)
{
	pthread_mutex_lock(&vm->busy_lock);
	area->flags &= ~VM_UNINITIALIZED;
	if (area->flags & VM_ALLOC) {
		vm->nr_pages += area->nr_pages;
		vm->used_bytes += area->size - MMB_PAGE_SIZE;
	}
	pthread_mutex_unlock(&vm->busy_lock);
	vm_count(vm, allocs, 1);
}

static void vm_free_frames(struct mmb_vmalloc *vm, struct vm_struct *area, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++) {
		struct mmb_page *page = area->pages[i];

		/* relaxed: buddy's zone-lock walkers read neighbours' flags */
		__atomic_and_fetch(&page->flags, ~MMB_PG_VMALLOC, __ATOMIC_RELAXED);
		page->owner = NULL;
		mmb_free_pages(vm->buddy, page, 0);
	}
}

static void vm_free_page_array(struct mmb_vmalloc *vm, struct vm_struct *area);

/* An area whose unmap failed: into the lost tree, with all it holds (file-top comment). */
static void vm_lose_area(struct mmb_vmalloc *vm, struct vmap_area *va)
{
	pthread_mutex_lock(&vm->busy_lock);
	va_insert(&vm->lost, va);
	if (va->vm->flags & VM_ALLOC)
		vm->lost_pages += va->vm->nr_pages;
	pthread_mutex_unlock(&vm->busy_lock);
}

/*
 * remove_vm_area + the rest of vfree: va is out of the busy tree. Unmap,
 * give the range to the lazy (or free) tree, free the frames (vmalloc'ed
 * areas; nr_frames of them), the page array and the vm_struct. If the unmap
 * fails the area is lost instead (nr_frames == nr_pages then: a failed unmap
 * means pages were mapped, which they are only once every frame is there).
 */
static void vm_release_area(struct mmb_vmalloc *vm, struct vmap_area *va, unsigned nr_frames)
{
	struct vm_struct *area = va->vm;

	if (vm_unmap_area_pages(vm, area)) {
		vm_lose_area(vm, va);
		return;
	}
	vm_free_vmap_area(vm, va);
	if (area->flags & VM_ALLOC)
		vm_free_frames(vm, area, nr_frames);
	vm_free_page_array(vm, area);
	free(area);
}

/* An area whose set-up failed: out of the busy tree and released. */
static void vm_abort_area(struct mmb_vmalloc *vm, struct vm_struct *area, unsigned nr_frames)
{
	struct vmap_area *va;

	pthread_mutex_lock(&vm->busy_lock);
	va = va_find_containing(&vm->busy, area->addr);
	va_remove(&vm->busy, va);
	pthread_mutex_unlock(&vm->busy_lock);
	vm_release_area(vm, va, nr_frames);
	vm_count(vm, failed_allocs, 1);
}

static void *vm_alloc_node(struct mmb_vmalloc *vm, size_t size, size_t align, int zero,
			   const void *caller);

/* The page array of an area too large for an inline one: itself vmalloc'ed. */
static int vm_alloc_page_array(struct mmb_vmalloc *vm, struct vm_struct *area,
			       const void *caller)
{
	if (area->pages)
		return 0;
	area->pages = vm_alloc_node(vm, (size_t)area->nr_pages * sizeof(struct mmb_page *), 0, 0,
				    caller);
	return area->pages ? 0 : -ENOMEM;
}

static void vm_free_page_array(struct mmb_vmalloc *vm, struct vm_struct *area)
{
	if (area->pages && area->pages != area->inline_pages)
		mmb_vfree(vm, area->pages);
}

/* vm_area_alloc_pages: order-0 frames, in bulk (≤ 100 a call), then one by one. */
static unsigned vm_alloc_frames(struct mmb_vmalloc *vm, struct mmb_page **pages, unsigned nr)
{
	unsigned got = 0;

	while (got < nr) {
		unsigned want = nr - got < VM_BULK_MAX ? nr - got : VM_BULK_MAX;
		unsigned n = mmb_alloc_pages_bulk(vm->buddy, MMB_MT_UNMOVABLE, want, pages + got);

		got += n;
		if (n < want)
			break;
	}
	while (got < nr) {
		struct mmb_page *page = mmb_alloc_pages(vm->buddy, 0, MMB_MT_UNMOVABLE);

		if (!page)
			break;
		pages[got++] = page;
	}
	return got;
}

static int vm_page_cmp(const void *a, const void *b)
{
	const struct mmb_page *x = *(struct mmb_page *const *)a, *y = *(struct mmb_page *const *)b;

	return (x > y) - (x < y);
}

/*
 * Frames in pfn order, so that runs of consecutive pfns are as long as they
 * can be: the kernel maps page by page and the order costs it nothing, but
 * here each run is one mmap call and one mapping (vm.max_map_count). Per-
 * thread page lists hand frames back last-freed-first, i.e. descending.
 */
static void vm_sort_frames(struct mmb_page **pages, unsigned nr)
{
	if (nr > 16) {
		qsort(pages, nr, sizeof(*pages), vm_page_cmp);
		return;
	}
	for (unsigned i = 1; i < nr; i++) {
		struct mmb_page *p = pages[i];
		unsigned j = i;

		for (; j && pages[j - 1] > p; j--)
			pages[j] = pages[j - 1];
		pages[j] = p;
	}
}

/* __vmalloc_node_range */
static void *vm_alloc_node(struct mmb_vmalloc *vm, size_t size, size_t align, int zero,
			   const void *caller)
{
	struct vm_struct *area;
	unsigned got;

	if (!size || size > vm->end - vm->start) {
		vm_error(vm, "vmalloc: size %zu: expected 1..%lu (the window)", size,
			 vm->end - vm->start);
		goto fail;
	}
	if ((size >> MMB_PAGE_SHIFT) > vm->pm->nr_pfns) {
		vm_error(vm, "vmalloc: size %zu exceeds total RAM (%llu frames)", size,
			 (unsigned long long)vm->pm->nr_pfns);
		goto fail;
	}
	if (align & (align - 1)) {
		vm_error(vm, "vmalloc: alignment %zu is not a power of two", align);
		goto fail;
	}
	if (align < MMB_PAGE_SIZE)
		align = MMB_PAGE_SIZE;
	size = VM_PAGE_ALIGN(size);
	area = vm_get_area(vm, size, align, VM_ALLOC, caller);
	if (!area)
		goto fail;
	if (vm_alloc_page_array(vm, area, caller)) {
		vm_abort_area(vm, area, 0);
		return NULL;
	}
	got = vm_alloc_frames(vm, area->pages, area->nr_pages);
	if (got < area->nr_pages) {
		vm_error(vm, "vmalloc error: size %lu, failed to allocate pages (got %u of %u)",
			 area->size - MMB_PAGE_SIZE, got, area->nr_pages);
		vm_abort_area(vm, area, got);
		return NULL;
	}
	vm_sort_frames(area->pages, got);
	for (unsigned i = 0; i < got; i++) {
		struct mmb_page *page = area->pages[i];

		/* relaxed, as in vm_free_frames */
		__atomic_or_fetch(&page->flags, MMB_PG_VMALLOC, __ATOMIC_RELAXED);
		page->owner = area;
		if (zero)	/* __GFP_ZERO: cleared through the direct map */
			memset(mmb_page_address(vm->pm, page), 0, MMB_PAGE_SIZE);
	}
	if (vm_map_area_pages(vm, area)) {
		vm_abort_area(vm, area, got);
		return NULL;
	}
	vm_area_ready(vm, area);
	if (vm->kml)
		mmb_kmemleak_alloc(vm->kml, (void *)area->addr, size, VM_KMEMLEAK_MIN_COUNT);
	return (void *)area->addr;
fail:
	vm_count(vm, failed_allocs, 1);
	return NULL;
}

void *mmb_vmalloc(struct mmb_vmalloc *vm, size_t size)
{
	return vm_alloc_node(vm, size, 0, 0, __builtin_return_address(0));
}

void *mmb_vzalloc(struct mmb_vmalloc *vm, size_t size)
{
	return vm_alloc_node(vm, size, 0, 1, __builtin_return_address(0));
}

void *mmb_vmalloc_align(struct mmb_vmalloc *vm, size_t size, size_t align)
{
	return vm_alloc_node(vm, size, align, 0, __builtin_return_address(0));
}

void *mmb_vmap(struct mmb_vmalloc *vm, struct mmb_page **pages, unsigned count)
{
	const void *caller = __builtin_return_address(0);
	struct vm_struct *area;

	if (!count || (unsigned long)count >= (vm->end - vm->start) >> MMB_PAGE_SHIFT) {
		vm_error(vm, "vmap: %u pages: expected 1..%lu", count,
			 (vm->end - vm->start) >> MMB_PAGE_SHIFT);
		vm_count(vm, failed_allocs, 1);
		return NULL;
	}
	area = vm_get_area(vm, (unsigned long)count << MMB_PAGE_SHIFT, MMB_PAGE_SIZE, VM_MAP, caller);
	if (!area) {
		vm_count(vm, failed_allocs, 1);
		return NULL;
	}
	if (vm_alloc_page_array(vm, area, caller)) {
		vm_abort_area(vm, area, 0);
		return NULL;
	}
	memcpy(area->pages, pages, (size_t)count * sizeof(*pages));
	if (vm_map_area_pages(vm, area)) {
		vm_abort_area(vm, area, 0);
		return NULL;
	}
	vm_area_ready(vm, area);
	return (void *)area->addr;
}

/* vfree / vunmap: the area that starts at addr, if any. */
static void vm_free_addr(struct mmb_vmalloc *vm, const void *addr, const char *who)
{
	struct vmap_area *va = NULL;
	unsigned long a = (unsigned long)addr;

	if (a & (MMB_PAGE_SIZE - 1)) {
		vm_error(vm, "Trying to %s() bad address (%p)", who, addr);
		vm_count(vm, bad_frees, 1);
		return;
	}
	pthread_mutex_lock(&vm->busy_lock);
	va = va_find_containing(&vm->busy, a);
	if (va && va->va_start == a && !(va->vm->flags & VM_UNINITIALIZED)) {
		va_remove(&vm->busy, va);
		if (va->vm->flags & VM_ALLOC) {
			vm->nr_pages -= va->vm->nr_pages;
			vm->used_bytes -= va->vm->size - MMB_PAGE_SIZE;
		}
	} else {
		va = NULL;
	}
	pthread_mutex_unlock(&vm->busy_lock);
	if (!va) {
		vm_error(vm, "Trying to %s() nonexistent vm area (%p)", who, addr);
		vm_count(vm, bad_frees, 1);
		return;
	}
	vm_release_area(vm, va, va->vm->nr_pages);
	vm_count(vm, frees, 1);
}

void mmb_vfree(struct mmb_vmalloc *vm, const void *addr)
{
	if (vm->kml && addr)
		mmb_kmemleak_free(vm->kml, addr);
	if (addr)
		vm_free_addr(vm, addr, "vfree");
}

void mmb_vunmap(struct mmb_vmalloc *vm, const void *addr)
{
	if (addr)
		vm_free_addr(vm, addr, "vunmap");
}

struct mmb_page *mmb_vmalloc_to_page(struct mmb_vmalloc *vm, const void *addr)
{
	unsigned long a = (unsigned long)addr;
	struct mmb_page *page = NULL;
	struct vmap_area *va;

	pthread_mutex_lock(&vm->busy_lock);
	va = va_find_containing(&vm->busy, a);
	if (va && !(va->vm->flags & VM_UNINITIALIZED) && a < va->va_end - MMB_PAGE_SIZE)
		page = va->vm->pages[(a - va->va_start) >> MMB_PAGE_SHIFT];
	pthread_mutex_unlock(&vm->busy_lock);
	return page;
}

uint64_t mmb_vmalloc_to_pfn(struct mmb_vmalloc *vm, const void *addr)
{
	struct mmb_page *page = mmb_vmalloc_to_page(vm, addr);

	return page ? vm_pfn(vm, page) : MMB_VMALLOC_NO_PFN;
}

size_t mmb_vmalloc_size(struct mmb_vmalloc *vm, const void *addr)
{
	struct vmap_area *va;
	size_t size = 0;

	pthread_mutex_lock(&vm->busy_lock);
	va = va_find_containing(&vm->busy, (unsigned long)addr);
	if (va && va->va_start == (unsigned long)addr)
		size = va->vm->size - MMB_PAGE_SIZE;
	pthread_mutex_unlock(&vm->busy_lock);
	return size;
}

/* ---- create / destroy ---------------------------------------------- */

/* lazy_max_pages(): fls(num_online_cpus()) * (32 MiB / PAGE_SIZE). */
static uint64_t vm_kernel_lazy_max_pages(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int fls = 0;

	if (cpus < 1)
		cpus = 1;
	while (cpus >> fls)
		fls++;
	return (uint64_t)fls * ((32UL << 20) / MMB_PAGE_SIZE);
}

static uint64_t vm_read_max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	unsigned long long v;
	int ok;

	if (!f)
		return MMB_STAT_NONE;
	ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	return ok ? v : MMB_STAT_NONE;
}

int mmb_vmalloc_create(const struct mmb_vmalloc_cfg *cfg, struct mmb_buddy *b,
		       struct mmb_vmalloc **r_vm, char *err, size_t errlen)
{
	unsigned long window = cfg->window_bytes & ~(MMB_PAGE_SIZE - 1);
	struct mmb_vmalloc *vm;
	struct vmap_area *va;
	struct stat st;
	void *win;
	int rc;

	if (window < 16 * MMB_PAGE_SIZE) {
		snprintf(err, errlen, "vmalloc: window of %llu bytes: expected at least 64K",
			 (unsigned long long)cfg->window_bytes);
		return -EINVAL;
	}
	vm = calloc(1, sizeof(*vm));
	va = malloc(sizeof(*va));
	if (vm)
		vm->resident = calloc((mmb_buddy_pmem(b)->nr_pfns + 63) / 64, sizeof(uint64_t));
	if (!vm || !va || !vm->resident) {
		rc = -ENOMEM;
		snprintf(err, errlen, "vmalloc: out of memory");
		goto out_free;
	}
	vm->buddy = b;
	vm->pm = mmb_buddy_pmem(b);
	if (fstat(vm->pm->fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "vmalloc: fstat of the pmem memfd: %s", strerror(errno));
		goto out_free;
	}
	vm->pmem_dev = st.st_dev;
	vm->pmem_ino = st.st_ino;
	win = mmb_os->map(NULL, window, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			  -1, 0);
	if (!win) {
		rc = -errno;
		snprintf(err, errlen, "vmalloc: cannot reserve a window of %lu bytes: %s", window,
			 strerror(errno));
		goto out_free;
	}
	vm->start = (unsigned long)win;
	vm->end = vm->start + window;
	vm->lazy = cfg->lazy;
	vm->lazy_max_pages = cfg->lazy_max_pages ? cfg->lazy_max_pages : vm_kernel_lazy_max_pages();
	vm->max_map_count = vm_read_max_map_count();
	pthread_mutex_init(&vm->purge_lock, NULL);
	pthread_mutex_init(&vm->busy_lock, NULL);
	pthread_mutex_init(&vm->lazy_lock, NULL);
	pthread_mutex_init(&vm->free_lock, NULL);
	pthread_mutex_init(&vm->err_lock, NULL);
	vm->free.augment = 1;
	va->va_start = vm->start;
	va->va_end = vm->end;
	va_insert(&vm->free, va);
	*r_vm = vm;
	return 0;
out_free:
	free(va);
	if (vm)
		free(vm->resident);
	free(vm);
	return rc;
}

static void vm_destroy_tree(struct mmb_vmalloc *vm, struct vmap_area *n)
{
	if (!n)
		return;
	vm_destroy_tree(vm, n->left);
	vm_destroy_tree(vm, n->right);
	free(n);
}

/* Start addresses of the busy areas that own a vmalloc'ed page array (owners)
 * or of all of them; returns how many, or -ENOMEM. */
static long vm_collect_busy(struct mmb_vmalloc *vm, const struct vmap_area *n, int owners,
			    unsigned long *addrs, long at)
{
	if (!n || at < 0)
		return at;
	at = vm_collect_busy(vm, n->left, owners, addrs, at);
	if (!owners || vm_is_vmalloc_addr(vm, n->vm->pages))
		addrs[at++] = n->va_start;
	return vm_collect_busy(vm, n->right, owners, addrs, at);
}

/*
 * Every lost area, taken one by one: a vmalloc'ed one's frames go back
 * (nothing reaches the range any more, and the window's munmap follows),
 * then its page array (a vfree, which may lose another area: the loop takes
 * that one too), vm_struct and vmap_area.
 */
static void vm_free_all_lost(struct mmb_vmalloc *vm)
{
	while (vm->lost.root) {
		struct vmap_area *va = vm->lost.root;
		struct vm_struct *area = va->vm;

		va_remove(&vm->lost, va);
		if (area->flags & VM_ALLOC) {
			vm->lost_pages -= area->nr_pages;
			vm_free_frames(vm, area, area->nr_pages);
		}
		vm_free_page_array(vm, area);
		free(area);
		free(va);
	}
}

/*
 * Free every busy area: owners first (their page-array areas go with them),
 * then the lost areas, which may own page-array areas too (owners lost just
 * now included), then the rest.
 */
static void vm_free_all_busy(struct mmb_vmalloc *vm)
{
	for (int owners = 1; owners >= 0; owners--) {
		unsigned long *addrs = malloc((vm->busy.nr + 1) * sizeof(*addrs));
		long n;

		if (!addrs)
			return;
		n = vm_collect_busy(vm, vm->busy.root, owners, addrs, 0);
		for (long i = 0; i < n; i++)
			mmb_vfree(vm, (void *)addrs[i]);
		free(addrs);
		if (owners)
			vm_free_all_lost(vm);
	}
}

void mmb_vmalloc_set_kmemleak(struct mmb_vmalloc *vm, struct mmb_kmemleak *kml)
{
	vm->kml = kml;
}

void mmb_vmalloc_destroy(struct mmb_vmalloc *vm)
{
	vm_free_all_busy(vm);
	vm_free_all_lost(vm);		/* those lost by the frees above */
	vm_destroy_tree(vm, vm->lazyt.root);
	vm_destroy_tree(vm, vm->free.root);
	mmb_os->unmap((void *)vm->start, vm->end - vm->start);
	pthread_mutex_destroy(&vm->purge_lock);
	pthread_mutex_destroy(&vm->busy_lock);
	pthread_mutex_destroy(&vm->lazy_lock);
	pthread_mutex_destroy(&vm->free_lock);
	pthread_mutex_destroy(&vm->err_lock);
	free(vm->resident);
	free(vm);
}

/* ---- observability -------------------------------------------------- */

void mmb_vmalloc_counters(struct mmb_vmalloc *vm, struct mmb_vmalloc_counters *r_c)
{
	pthread_mutex_lock(&vm->busy_lock);
	r_c->areas = vm->busy.nr;
	r_c->pages = vm->nr_pages;
	r_c->used_bytes = vm->used_bytes;
	r_c->lost_areas = vm->lost.nr;
	r_c->lost_pages = vm->lost_pages;
	pthread_mutex_unlock(&vm->busy_lock);
	pthread_mutex_lock(&vm->lazy_lock);
	r_c->lazy_areas = vm->lazyt.nr;
	r_c->lazy_pages = vm->lazy_nr;
	pthread_mutex_unlock(&vm->lazy_lock);
	pthread_mutex_lock(&vm->free_lock);
	r_c->free_areas = vm->free.nr;
	pthread_mutex_unlock(&vm->free_lock);
	r_c->allocs = vm_read(vm, allocs);
	r_c->frees = vm_read(vm, frees);
	r_c->failed_allocs = vm_read(vm, failed_allocs);
	r_c->bad_frees = vm_read(vm, bad_frees);
	r_c->mmap_calls = vm_read(vm, mmap_calls);
	r_c->purges = vm_read(vm, purges);
	r_c->purged_areas = vm_read(vm, purged_areas);
	r_c->purged_pages = vm_read(vm, purged_pages);
	r_c->prefaulted_pages = vm_read(vm, prefaulted_pages);
	r_c->lazy_max_pages = vm->lazy_max_pages;
	r_c->map_count = vm_map_count();
	r_c->max_map_count = vm->max_map_count;
}

void mmb_vmalloc_last_error(struct mmb_vmalloc *vm, char *buf, size_t len)
{
	pthread_mutex_lock(&vm->err_lock);
	snprintf(buf, len, "%s", vm->last_err);
	pthread_mutex_unlock(&vm->err_lock);
}

/* %pS: "symbol+0xoff/0xsize" where the dynamic symbol table knows it, else the address. */
static void vm_print_caller(FILE *f, const void *caller)
{
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	if (dladdr1(caller, &info, (void **)&sym, RTLD_DL_SYMENT) && info.dli_sname && sym)
		fprintf(f, " %s+%#lx/%#lx", info.dli_sname,
			(unsigned long)((const char *)caller - (const char *)info.dli_saddr),
			(unsigned long)sym->st_size);
	else
		fprintf(f, " %#lx", (unsigned long)caller);
}

/* vmalloc_info_show, for one busy area, or a lost one (our own flag " lost"). */
static void vm_show_area(const struct mmb_vmalloc *vm, FILE *f, const struct vm_struct *v,
			 int lost)
{
	fprintf(f, "0x%016lx-0x%016lx %7ld", v->addr, v->addr + v->size, (long)v->size);
	if (v->caller)
		vm_print_caller(f, v->caller);
	if (v->flags & VM_ALLOC)
		fprintf(f, " pages=%u", v->nr_pages);
	if (v->flags & VM_ALLOC)
		fputs(" vmalloc", f);
	if (v->flags & VM_MAP)
		fputs(" vmap", f);
	if (vm_is_vmalloc_addr(vm, v->pages))
		fputs(" vpages", f);
	if (lost)
		fputs(" lost", f);
	if (v->flags & VM_ALLOC)	/* show_numa_info: one node */
		fprintf(f, " N0=%u", v->nr_pages);
	fputc('\n', f);
}

/* The busy tree's initialized areas, or the lost tree's areas. */
static void vm_show_areas(const struct mmb_vmalloc *vm, FILE *f, const struct vmap_area *n,
			  int lost)
{
	if (!n)
		return;
	vm_show_areas(vm, f, n->left, lost);
	if (lost || !(n->vm->flags & VM_UNINITIALIZED))
		vm_show_area(vm, f, n->vm, lost);
	vm_show_areas(vm, f, n->right, lost);
}

static void vm_show_lazy(FILE *f, const struct vmap_area *n)
{
	if (!n)
		return;
	vm_show_lazy(f, n->left);
	fprintf(f, "0x%016lx-0x%016lx %7ld unpurged vm_area\n", n->va_start, n->va_end,
		(long)va_size(n));
	vm_show_lazy(f, n->right);
}

int mmb_vmallocinfo(struct mmb_vmalloc *vm, FILE *f)
{
	pthread_mutex_lock(&vm->busy_lock);
	vm_show_areas(vm, f, vm->busy.root, 0);
	vm_show_areas(vm, f, vm->lost.root, 1);
	pthread_mutex_unlock(&vm->busy_lock);
	pthread_mutex_lock(&vm->lazy_lock);
	vm_show_lazy(f, vm->lazyt.root);
	pthread_mutex_unlock(&vm->lazy_lock);
	return ferror(f) ? -EIO : 0;
}

/* ---- check ------------------------------------------------------------ */

struct vm_vma {
	unsigned long start, end, off, ino;
	unsigned dev_major, dev_minor;
	char perms[5];
};

enum { VM_FREE, VM_BUSY, VM_LAZY, VM_LOST };	/* the trees, for check */

struct vm_span {
	unsigned long start, end;
	int kind;			/* VM_FREE .. VM_LOST */
};

struct vm_checker {
	struct mmb_vmalloc *vm;
	struct vm_vma *vmas;
	size_t nvmas;
	struct vm_span *spans;
	size_t nspans, cap;
	uint64_t lazy_pages, vmalloc_pages, lost_pages;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int vm_bad(struct vm_checker *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -EUCLEAN;
}

static int vm_read_maps(struct vm_checker *c)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	size_t cap = 0;

	if (!f)
		return vm_bad(c, "vmalloc: check: cannot read /proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		struct vm_vma v = { 0 };

		if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu", &v.start, &v.end, v.perms, &v.off,
			   &v.dev_major, &v.dev_minor, &v.ino) != 7)
			continue;
		if (c->nvmas == cap) {
			struct vm_vma *n = realloc(c->vmas, (cap = cap ? 2 * cap : 1024) * sizeof(*n));

			if (!n) {
				fclose(f);
				return vm_bad(c, "vmalloc: check: out of memory");
			}
			c->vmas = n;
		}
		c->vmas[c->nvmas++] = v;
	}
	fclose(f);
	return 0;
}

/* The first mapping that ends after addr (NULL if none). */
static const struct vm_vma *vm_vma_after(const struct vm_checker *c, unsigned long addr)
{
	size_t lo = 0, hi = c->nvmas;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->vmas[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nvmas ? &c->vmas[lo] : NULL;
}

/* Every mapping over [start, end) is the PROT_NONE reservation. */
static int vm_check_none(struct vm_checker *c, unsigned long start, unsigned long end,
			 const char *what)
{
	const struct vm_vma *v = vm_vma_after(c, start);

	for (; v && v < c->vmas + c->nvmas && v->start < end; v++)
		if (strcmp(v->perms, "---p"))
			return vm_bad(c, "vmalloc: %s %#lx-%#lx is mapped %s at %#lx", what, start, end,
				      v->perms, v->start > start ? v->start : start);
	return 0;
}

/* pages[0..nr_mapped) mapped; a vmalloc'ed area's frames, all nr_pages, its own. */
static int vm_check_pages(struct vm_checker *c, const struct vm_struct *v)
{
	struct mmb_vmalloc *vm = c->vm;

	for (unsigned i = 0; i < v->nr_pages; i++) {
		unsigned long addr = v->addr + ((unsigned long)i << MMB_PAGE_SHIFT);
		const struct vm_vma *m = vm_vma_after(c, addr);
		uint64_t pfn = vm_pfn(vm, v->pages[i]);

		if (pfn >= vm->pm->nr_pfns)
			return vm_bad(c, "vmalloc: area %#lx page %u: pfn %llu outside pmem", v->addr,
				      i, (unsigned long long)pfn);
		if (i < v->nr_mapped &&
		    (!m || m->start > addr || strcmp(m->perms, "rw-s") || m->ino != vm->pmem_ino ||
		     makedev(m->dev_major, m->dev_minor) != vm->pmem_dev ||
		     m->off + (addr - m->start) != pfn << MMB_PAGE_SHIFT))
			return vm_bad(c, "vmalloc: area %#lx page %u is not the shared mapping of pfn %llu",
				      v->addr, i, (unsigned long long)pfn);
		if ((v->flags & VM_ALLOC) &&
		    (!(v->pages[i]->flags & MMB_PG_VMALLOC) || v->pages[i]->owner != v))
			return vm_bad(c, "vmalloc: area %#lx page %u (pfn %llu) is not marked as its own",
				      v->addr, i, (unsigned long long)pfn);
	}
	return 0;
}

/* A lost area: its pages still mapped as they were, the rest PROT_NONE, its frames its own. */
static int vm_check_lost(struct vm_checker *c, const struct vm_struct *v)
{
	if (v->size != ((unsigned long)v->nr_pages + 1) << MMB_PAGE_SHIFT || !v->nr_mapped ||
	    v->nr_mapped > v->nr_pages)
		return vm_bad(c, "vmalloc: lost area %#lx: size %lu for %u pages (%u mapped)",
			      v->addr, v->size, v->nr_pages, v->nr_mapped);
	if (v->flags & VM_ALLOC)
		c->lost_pages += v->nr_pages;
	return vm_check_pages(c, v) ?:
	       vm_check_none(c, v->addr + ((unsigned long)v->nr_mapped << MMB_PAGE_SHIFT),
			     v->addr + v->size, "unmapped rest of lost area");
}

static int vm_check_span(struct vm_checker *c, const struct vmap_area *n, int kind)
{
	if (c->nspans == c->cap) {
		struct vm_span *s = realloc(c->spans, (c->cap = c->cap ? 2 * c->cap : 256) * sizeof(*s));

		if (!s)
			return vm_bad(c, "vmalloc: check: out of memory");
		c->spans = s;
	}
	c->spans[c->nspans++] = (struct vm_span){ n->va_start, n->va_end, kind };
	if (kind == VM_LAZY) {
		c->lazy_pages += va_size(n) >> MMB_PAGE_SHIFT;
		return vm_check_none(c, n->va_start, n->va_end, "lazily freed area");
	}
	if (kind == VM_FREE)
		return vm_check_none(c, n->va_start, n->va_end, "free area");
	const struct vm_struct *v = n->vm;

	if (!v || v->addr != n->va_start || v->size != va_size(n))
		return vm_bad(c, "vmalloc: %s area %#lx-%#lx and its vm_struct disagree",
			      kind == VM_LOST ? "lost" : "busy", n->va_start, n->va_end);
	if (kind == VM_LOST)
		return vm_check_lost(c, v);
	if (v->flags & VM_UNINITIALIZED)
		return 0;
	if (v->size != ((unsigned long)v->nr_pages + 1) << MMB_PAGE_SHIFT || v->nr_mapped != v->nr_pages)
		return vm_bad(c, "vmalloc: area %#lx: size %lu for %u pages (%u mapped)", v->addr,
			      v->size, v->nr_pages, v->nr_mapped);
	if (v->flags & VM_ALLOC)
		c->vmalloc_pages += v->nr_pages;
	return vm_check_pages(c, v) ?: vm_check_none(c, n->va_end - MMB_PAGE_SIZE, n->va_end,
						     "guard page of");
}

/* Order, balance, augmentation and mappings of every node of a tree. */
static int vm_check_tree(struct vm_checker *c, const struct va_tree *t, const struct vmap_area *n,
			 unsigned long lo, unsigned long hi, int kind, uint64_t *r_nr)
{
	int hl, hr, rc;

	if (!n)
		return 0;
	if (n->va_start >= n->va_end || n->va_start < lo || n->va_end > hi ||
	    ((n->va_start | n->va_end) & (MMB_PAGE_SIZE - 1)))
		return vm_bad(c, "vmalloc: area %#lx-%#lx out of order or unaligned", n->va_start,
			      n->va_end);
	hl = va_height(n->left);
	hr = va_height(n->right);
	if (n->height != 1 + (hl > hr ? hl : hr) || hl - hr > 1 || hr - hl > 1)
		return vm_bad(c, "vmalloc: tree node %#lx: height %d, children %d and %d", n->va_start,
			      n->height, hl, hr);
	rc = vm_check_tree(c, t, n->left, lo, n->va_start, kind, r_nr);
	if (rc)
		return rc;
	if (t->augment && n->subtree_max_size != va_compute_subtree_max(n))
		return vm_bad(c, "vmalloc: free area %#lx: subtree_max_size %lu, recomputed %lu",
			      n->va_start, n->subtree_max_size, va_compute_subtree_max(n));
	(*r_nr)++;
	rc = vm_check_span(c, n, kind);
	if (rc)
		return rc;
	return vm_check_tree(c, t, n->right, n->va_end, hi, kind, r_nr);
}

static int vm_span_cmp(const void *a, const void *b)
{
	const struct vm_span *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

static int vm_check_tiling(struct vm_checker *c)
{
	static const char *const kinds[] = { "free", "busy", "lazy", "lost" };
	unsigned long at = c->vm->start;

	qsort(c->spans, c->nspans, sizeof(*c->spans), vm_span_cmp);
	for (size_t i = 0; i < c->nspans; i++) {
		const struct vm_span *s = &c->spans[i];

		if (s->start != at)
			return vm_bad(c, "vmalloc: %s area %#lx-%#lx: %s at %#lx", kinds[s->kind],
				      s->start, s->end, s->start < at ? "overlap" : "gap", at);
		if (i && s->kind == VM_FREE && c->spans[i - 1].kind == VM_FREE)
			return vm_bad(c, "vmalloc: free areas at %#lx and %#lx were not coalesced",
				      c->spans[i - 1].start, s->start);
		at = s->end;
	}
	if (at != c->vm->end)
		return vm_bad(c, "vmalloc: areas end at %#lx, the window at %#lx", at, c->vm->end);
	return 0;
}

int mmb_vmalloc_check(struct mmb_vmalloc *vm, char *err, size_t errlen)
{
	struct vm_checker c = { .vm = vm, .err = err, .errlen = errlen };
	uint64_t n_free = 0, n_busy = 0, n_lazy = 0, n_lost = 0;
	int rc;

	pthread_mutex_lock(&vm->purge_lock);
	pthread_mutex_lock(&vm->busy_lock);
	pthread_mutex_lock(&vm->lazy_lock);
	pthread_mutex_lock(&vm->free_lock);
	rc = vm_read_maps(&c);
	if (!rc)
		rc = vm_check_tree(&c, &vm->free, vm->free.root, vm->start, vm->end, VM_FREE,
				   &n_free);
	if (!rc)
		rc = vm_check_tree(&c, &vm->busy, vm->busy.root, vm->start, vm->end, VM_BUSY,
				   &n_busy);
	if (!rc)
		rc = vm_check_tree(&c, &vm->lazyt, vm->lazyt.root, vm->start, vm->end, VM_LAZY,
				   &n_lazy);
	if (!rc)
		rc = vm_check_tree(&c, &vm->lost, vm->lost.root, vm->start, vm->end, VM_LOST,
				   &n_lost);
	if (!rc && (n_free != vm->free.nr || n_busy != vm->busy.nr || n_lazy != vm->lazyt.nr ||
		    n_lost != vm->lost.nr))
		rc = vm_bad(&c, "vmalloc: trees hold %llu/%llu/%llu/%llu free/busy/lazy/lost areas, counted %llu/%llu/%llu/%llu",
			    (unsigned long long)n_free, (unsigned long long)n_busy,
			    (unsigned long long)n_lazy, (unsigned long long)n_lost,
			    (unsigned long long)vm->free.nr, (unsigned long long)vm->busy.nr,
			    (unsigned long long)vm->lazyt.nr, (unsigned long long)vm->lost.nr);
	if (!rc)
		rc = vm_check_tiling(&c);
	if (!rc && c.lazy_pages != vm->lazy_nr)
		rc = vm_bad(&c, "vmalloc: lazy_nr %llu, lazy areas hold %llu pages",
			    (unsigned long long)vm->lazy_nr, (unsigned long long)c.lazy_pages);
	if (!rc && c.vmalloc_pages != vm->nr_pages)
		rc = vm_bad(&c, "vmalloc: nr_pages %llu, vmalloc'ed areas hold %llu",
			    (unsigned long long)vm->nr_pages, (unsigned long long)c.vmalloc_pages);
	if (!rc && c.lost_pages != vm->lost_pages)
		rc = vm_bad(&c, "vmalloc: lost_pages %llu, lost vmalloc'ed areas hold %llu",
			    (unsigned long long)vm->lost_pages, (unsigned long long)c.lost_pages);
	pthread_mutex_unlock(&vm->free_lock);
	pthread_mutex_unlock(&vm->lazy_lock);
	pthread_mutex_unlock(&vm->busy_lock);
	pthread_mutex_unlock(&vm->purge_lock);
	free(c.vmas);
	free(c.spans);
	return rc;
}

/* ---- the registry allocator `vmalloc` ------------------------------------ */

struct mmb_alloc {
	struct mmb_buddy *buddy;
	struct mmb_vmalloc *vm;
	struct mmb_kmemleak *kml;	/* kmemleak=on */
};

static const struct mmb_param vmalloc_opts[] = {
	{ "window", MMB_P_SIZE, "64G", 1 << 20, 1ULL << 45, NULL,
	  "virtual window reserved PROT_NONE, bytes" },
	{ "lazy", MMB_P_BOOL, "on", 0, 1, NULL,
	  "lazy free: a freed range is reusable only after a batched purge" },
	{ "lazy_max_pages", MMB_P_U64, "0", 0, 1ULL << 32, NULL,
	  "purge past this many lazily freed pages (0 = the kernel's fls(cpus) * 8192)" },
	{ "mem", MMB_P_SIZE, "512M", 4 << 20, 1ULL << 40, NULL,
	  "simulated physical memory behind the buddy allocator, bytes" },
	{ "free", MMB_P_SIZE, "0", 0, 1ULL << 40, NULL,
	  "size the zone to the work: bytes free above the min watermark after boot (sets mem)" },
	{ "kmemleak", MMB_P_BOOL, "off", 0, 0, NULL,
	  "leak detector: track every area, scan at the end (kmemleak.txt, leaks_found)" },
	{ 0 },
};

static int vmalloc_validate(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen)
{
	uint64_t mem;

	return mmb_buddy_zone_mem(&cfg->opts, "vmalloc", &mem, err, errlen);
}

static int vmalloc_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
			  size_t errlen)
{
	struct mmb_buddy_cfg bcfg = {
		.pcp = 1,
		.nthreads = cfg->nthreads ? cfg->nthreads : 1,
	};
	struct mmb_vmalloc_cfg vcfg = {
		.window_bytes = mmb_pval_u64(&cfg->opts, "window"),
		.lazy = (int)mmb_pval_u64(&cfg->opts, "lazy"),
		.lazy_max_pages = mmb_pval_u64(&cfg->opts, "lazy_max_pages"),
	};
	struct mmb_alloc *a;
	int rc = mmb_buddy_zone_mem(&cfg->opts, "vmalloc", &bcfg.mem_bytes, err, errlen);

	if (rc)
		return rc;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "vmalloc: out of memory");
		return -ENOMEM;
	}
	if (mmb_pval_u64(&cfg->opts, "kmemleak")) {
		struct mmb_kmemleak_cfg kc = { .min_age_ms = MMB_KMEMLEAK_MIN_AGE_MS, .log = stderr };

		rc = mmb_kmemleak_create(&kc, &a->kml, err, errlen);
		if (rc)
			goto out_free;
	}
	rc = mmb_buddy_create(&bcfg, &a->buddy, err, errlen);
	if (rc)
		goto out_free;
	rc = mmb_vmalloc_create(&vcfg, a->buddy, &a->vm, err, errlen);
	if (rc)
		goto out_buddy;
	mmb_vmalloc_set_kmemleak(a->vm, a->kml);
	*r_a = a;
	return 0;
out_buddy:
	mmb_buddy_destroy(a->buddy);
out_free:
	if (a->kml)
		mmb_kmemleak_destroy(a->kml);
	free(a);
	return rc;
}

static void vmalloc_destroy(struct mmb_alloc *a)
{
	mmb_vmalloc_destroy(a->vm);
	mmb_buddy_destroy(a->buddy);
	if (a->kml)
		mmb_kmemleak_destroy(a->kml);
	free(a);
}

static void vmalloc_thread_attach(struct mmb_alloc *a)
{
	mmb_buddy_thread_attach(a->buddy);
	if (a->kml)
		mmb_kmemleak_thread_register(a->kml);	/* -ENOMEM: its stack is swept whole */
}

static void vmalloc_thread_detach(struct mmb_alloc *a)
{
	if (a->kml)
		mmb_kmemleak_thread_unregister(a->kml);
	mmb_buddy_thread_detach(a->buddy);
}

static void *vmalloc_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	return vm_alloc_node(a->vm, size, align, 0, __builtin_return_address(0));
}

static void vmalloc_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)size;
	mmb_vfree(a->vm, p);
}

static size_t vmalloc_usable_size(struct mmb_alloc *a, const void *p)
{
	return mmb_vmalloc_size(a->vm, p);
}

/*
 * footprint_bytes: frames out of the buddy zone's free lists (mapped in areas,
 * or held on per-thread lists), as the `buddy` entry counts them, and
 * footprint_peak_bytes the same at the zone's low-water mark of free frames;
 * usable_bytes: the pages of the live areas.
 */
static void vmalloc_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	struct mmb_vmalloc *vm = a->vm;
	struct mmb_buddy_info in;

	mmb_buddy_info(a->buddy, &in);
	r_st->footprint_bytes = (in.managed_pages - in.free_pages) << MMB_PAGE_SHIFT;
	r_st->footprint_peak_bytes = (in.managed_pages - in.min_free_pages) << MMB_PAGE_SHIFT;
	pthread_mutex_lock(&vm->busy_lock);
	r_st->usable_bytes = vm->used_bytes;
	pthread_mutex_unlock(&vm->busy_lock);
	r_st->allocs = vm_read(vm, allocs);
	r_st->frees = vm_read(vm, frees);
	r_st->failed_allocs = vm_read(vm, failed_allocs);
	mmb_buddy_zone_stats(a->buddy, r_st);
	if (a->kml)
		r_st->leaks_found = mmb_kmemleak_leaks(a->kml);
}

static int vmalloc_check(struct mmb_alloc *a, char *err, size_t errlen)
{
	return mmb_vmalloc_check(a->vm, err, errlen) ?: mmb_buddy_check(a->buddy, err, errlen);
}

static int vmalloc_write_stats(struct mmb_vmalloc *vm, FILE *f)
{
	struct mmb_vmalloc_counters c;
	char last[MMB_ERR_MAX];

	mmb_vmalloc_counters(vm, &c);
	mmb_vmalloc_last_error(vm, last, sizeof(last));
	fprintf(f, "window_bytes %lu\n", vm->end - vm->start);
	fprintf(f, "areas %llu\npages %llu\nused_bytes %llu\nfree_areas %llu\n",
		(unsigned long long)c.areas, (unsigned long long)c.pages,
		(unsigned long long)c.used_bytes, (unsigned long long)c.free_areas);
	fprintf(f, "lazy_areas %llu\nlazy_pages %llu\nlazy_max_pages %llu\n",
		(unsigned long long)c.lazy_areas, (unsigned long long)c.lazy_pages,
		(unsigned long long)c.lazy_max_pages);
	fprintf(f, "lost_areas %llu\nlost_pages %llu\n", (unsigned long long)c.lost_areas,
		(unsigned long long)c.lost_pages);
	fprintf(f, "allocs %llu\nfrees %llu\nfailed_allocs %llu\nbad_frees %llu\nmmap_calls %llu\n",
		(unsigned long long)c.allocs, (unsigned long long)c.frees,
		(unsigned long long)c.failed_allocs, (unsigned long long)c.bad_frees,
		(unsigned long long)c.mmap_calls);
	fprintf(f, "purges %llu\npurged_areas %llu\npurged_pages %llu\nprefaulted_pages %llu\n",
		(unsigned long long)c.purges, (unsigned long long)c.purged_areas,
		(unsigned long long)c.purged_pages, (unsigned long long)c.prefaulted_pages);
	if (c.map_count != MMB_STAT_NONE)
		fprintf(f, "map_count %llu\n", (unsigned long long)c.map_count);
	if (c.max_map_count != MMB_STAT_NONE)
		fprintf(f, "max_map_count %llu\n", (unsigned long long)c.max_map_count);
	if (last[0])
		fprintf(f, "last_error %s\n", last);
	return ferror(f) ? -EIO : 0;
}

struct vmalloc_file {
	struct mmb_vmalloc *vm;
	int (*write)(struct mmb_vmalloc *vm, FILE *f);
};

static int vmalloc_file_write(FILE *f, void *ctx)
{
	const struct vmalloc_file *vf = ctx;

	return vf->write(vf->vm, f);
}

/* dir/name replaced atomically (statefile.h). */
static int vmalloc_dump_file(struct mmb_vmalloc *vm, const char *dir, const char *name,
			     int (*write)(struct mmb_vmalloc *vm, FILE *f))
{
	struct vmalloc_file vf = { vm, write };

	return mmb_state_write(dir, name, vmalloc_file_write, &vf);
}

/* vmallocinfo, vmalloc_stats, and the state files of the buddy allocator below. */
static int vmalloc_dump_state(struct mmb_alloc *a, const char *dir)
{
	return vmalloc_dump_file(a->vm, dir, "vmallocinfo", mmb_vmallocinfo) ?:
	       vmalloc_dump_file(a->vm, dir, "vmalloc_stats", vmalloc_write_stats) ?:
	       (a->kml ? mmb_kmemleak_write_file(a->kml, dir) : 0) ?:
	       mmb_buddy_dump_state(a->buddy, dir);
}

const struct mmb_alloc_ops mmb_vmalloc_ops = {
	.name = "vmalloc",
	.desc = "kernel-style vmalloc: areas with a guard page in a PROT_NONE window, order-0 buddy frames mapped from the pmem memfd, lazy purge",
	.opts = vmalloc_opts,
	.validate = vmalloc_validate,
	.create = vmalloc_create,
	.destroy = vmalloc_destroy,
	.thread_attach = vmalloc_thread_attach,
	.thread_detach = vmalloc_thread_detach,
	.alloc = vmalloc_alloc,
	.free = vmalloc_free,
	.usable_size = vmalloc_usable_size,
	.stats = vmalloc_stats,
	.check = vmalloc_check,
	.dump_state = vmalloc_dump_state,
};

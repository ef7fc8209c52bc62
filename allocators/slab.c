/*
 * slab.c — a SLUB-style object allocator (mm/slub.c, mm/slab_common.c) on
 * the buddy allocator, kmalloc with the kernel's size classes, and the
 * registry entry `slab` (the allocator contract = kmalloc / kfree / ksize).
 *
 * Data structure
 *   struct mmb_kmem_cache	one per cache: the object layout (calculate_sizes),
 *				the slab order (calculate_order), one "node"
 *				(list_lock, partial list, slab and object counts) and
 *				one struct slab_cpu per thread slot.
 *   struct slab_cpu		the kernel's kmem_cache_cpu: the thread's active
 *				slab, the freelist of its objects the thread may
 *				use without any atomic, and a chain of partial slabs
 *				(at most cpu_partial_slabs), plus SLUB_STATS counters;
 *				its first cache line holds all that a fast-path
 *				alloc or free touches (main sheaf, freelist, active
 *				slab range, requested bytes, the fast counters).
 *   slab			a block of 2^order frames from the buddy allocator.
 *				The kernel's struct slab overlays struct page; here
 *				it lives in the head frame's mmb_page: owner = the
 *				cache, flags |= MMB_PG_SLAB, and
 *		priv[0]	state word, swapped with one 64-bit compare-and-swap
 *			(the kernel's {freelist, counters} double word):
 *			bits 0-23 freelist as offset in the slab + 1 (0: empty),
 *			24-39 inuse, 40-55 objects, 56 frozen
 *		priv[1], priv[2]	next / prev on a partial list (page pointers)
 *		priv[3]	order (bits 0-7), ON_NODE_PARTIAL, ON_CPU_PARTIAL,
 *			owner slot + 1 of a frozen slab (bits 16-31)
 *				Tail frames: owner = the cache, priv[0] = the head
 *				page, priv[3] = SLAB_TAIL.
 *   free pointer		a free object holds the next free object's address
 *				at s->offset (the middle of the object, or after it
 *				when poisoning, a ctor or red zones need the object);
 *				with harden=on it is stored as
 *				ptr ^ s->random ^ bswap64(address of the slot).
 *   kmalloc			caches kmalloc-8 .. kmalloc-8k (+96, +192), picked
 *				by the kernel's size_index table; > 8 KiB: buddy
 *				pages with owner = &sl->large_owner, priv[0] = order.
 *   sheaves			6.18's per-CPU object arrays: a slot's main
 *				and spare sheaf of N object pointers, and per cache
 *				a "barn" of up to 10 full and 10 empty sheaves.
 *				alloc pops main, free pushes it; an empty main is
 *				swapped with the spare, a full one from the barn, or
 *				refilled from the slabs; a full main goes to the
 *				barn, or is flushed to the slabs. On by default with
 *				N by calculate_sheaf_capacity() of the "sheaves for
 *				all caches" series (the kernel's direction after
 *				6.18, where they are opt-in); sheaf=0 is classic
 *				SLUB. Debug caches never have sheaves.
 *
 * The slab's placement of state differs from the kernel's in one way: the
 * {freelist, counters} pair is one word, with the freelist as an offset
 * (slabs are at most 4 MiB), so no cmpxchg16b is needed. Only push-one
 * and take-all operations race on it, which is ABA-free as in SLUB.
 * A free whose cache is known (kmem_cache_free, or the contract's sized
 * free, whose size names the kmalloc cache) recognizes the thread's active
 * slab by its address range and so does not read the slab's descriptor.
 *
 * Not modelled: NUMA nodes (one node), FREELIST_RANDOM shuffling, the
 * debug letters T, A and O, the debug "full" list (check() finds full slabs
 * by walking the page descriptors instead), stack depot traces (a track is
 * the caller's address, thread, slot and time), cache merging (aliases),
 * memcg, RCU-delayed frees. Time in reports ("age=") is in milliseconds.
 *
 * Invariants (mmb_slab_check verifies them, quiescent)
 *   I1 every object is exactly one of: allocated, in a sheaf (a slot's or
 *	the barn's), on a thread's freelist of its active slab, on its slab's
 *	freelist. Objects in sheaves count as allocated to the slab layer.
 *   I2 per slab: inuse + |slab freelist| == objects, where the objects on
 *	the owning thread's freelist count as in use (get_freelist sets inuse =
 *	objects, remote frees decrement it); frozen => the slab is exactly one
 *	slot's active slab.
 *   I3 objects == (PAGE_SIZE << order) / size <= 32767; every free pointer
 *	is in [base, base + objects * size) on an object start; no cycles.
 *   I4 a non-frozen slab with free objects is on exactly one partial list
 *	(the node's or one slot's); a full one is on none; a frozen one is on
 *	none. nr_partial == length of the node list; partial_slabs == length of
 *	the slot's chain; nr_slabs / total_objects == the slabs found.
 *   I5 debug caches: red zones 0xbb free / 0xcc allocated, free objects
 *	0x6b.. 0xa5, padding 0x5a (P), as the kernel's validate checks.
 *
 * Thread model and locks (the kernel's CPUs are thread slots)
 *   A thread takes a slot on its first call (or at thread_attach) and holds
 *   it until thread_detach, which flushes its slabs back to the caches. Its
 *   thread-local storage names the slot and, per kmalloc cache, the slot's
 *   struct slab_cpu (what this_cpu_ptr() computes in the kernel).
 *   A slot's struct slab_cpu is touched only by its thread (no atomics on
 *   the fast paths: the kernel needs its {freelist, tid} cmpxchg against
 *   preemption, a thread is not preempted into another thread's slot).
 *   The slab state word is changed by compare-and-swap, so a free from any
 *   thread into any slab (the remote free) takes no lock unless the slab
 *   changes lists. Lock order: slab_mutex -> list_lock -> report_lock.
 *   Debug caches (any of F Z P U) never use active slabs or partial chains:
 *   every alloc and free runs under list_lock with its checks, as in SLUB.
 *   A slot's sheaves are its thread's own; the barn has its own lock
 *   (taken with no other lock held). Destroy, shrink of other threads'
 *   slabs and check() need quiescence. A thread beyond MMB_SLAB_MAX_CPUS
 *   slots (a program with more live threads than that) allocates through
 *   one of SLAB_OVERFLOW_SLOTS shared slots after them, chosen by its tid,
 *   each under its own mutex held for the whole allocation: tasks sharing
 *   a CPU, the mutex standing for disabled preemption. Such a thread frees
 *   as a remote free (no slot). Before, it got NULL from kmalloc, and the
 *   shim served each of its small requests with a whole buddy page (300
 *   threads: 57645 pages for requests of 16..2015 bytes; 400 threads of
 *   malloc/free pairs 16x glibc's time). It retries for a slot of its own
 *   every 256 calls. A shared slot's mutex is taken before any other lock.
 */
#include "slab.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "allocator.h"
#include "kfence.h"
#include "kmemleak.h"
#include "statefile.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define MAX_OBJS_PER_PAGE 32767
#define SLAB_KEY_NONE UINT64_MAX	/* matches no thread's slab_tls.id */
#define MIN_PARTIAL 5
#define MAX_PARTIAL 10
#define KMALLOC_SHIFT_LOW 3
#define KMALLOC_SHIFT_HIGH 13
#define SLAB_NAME_MAX 32

/* Slab state word (priv[0]). */
#define ST_FL_BITS 24
#define ST_FL_MASK ((1ULL << ST_FL_BITS) - 1)
#define ST_INUSE_SHIFT 24
#define ST_OBJECTS_SHIFT 40
#define ST_FROZEN (1ULL << 56)

/* priv[3] */
#define MISC_ORDER_MASK 0xffULL
#define MISC_NODE_PARTIAL (1ULL << 8)
#define MISC_CPU_PARTIAL (1ULL << 9)
#define SLAB_TAIL (1ULL << 10)
#define MISC_OWNER_SHIFT 16
#define MISC_OWNER_MASK (0xffffULL << MISC_OWNER_SHIFT)

/* Internal cache flags. */
#define SLAB_KMALLOC (1u << 16)
#define OBJECT_POISON (1u << 17)	/* __OBJECT_POISON */

/* CONFIG_SLUB_STATS counters, per slot; free_remote and the last three
 * are ours; sheaf_refill / sheaf_flush count objects, not calls. The
 * four that the fast paths count come first (struct slab_cpu). */
#define SLUB_STATS(X)                                                                          \
	X(alloc_pcs) X(free_pcs) X(alloc_fastpath) X(free_fastpath) X(alloc_slowpath)          \
	X(free_slowpath) X(free_frozen) X(free_remote) X(free_add_partial)                     \
	X(free_remove_partial) X(alloc_from_partial) X(alloc_slab) X(alloc_refill) X(free_slab) \
	X(cpuslab_flush) X(deactivate_full) X(deactivate_empty) X(deactivate_to_tail)          \
	X(deactivate_bypass) X(order_fallback) X(cmpxchg_double_fail) X(cpu_partial_alloc)    \
	X(cpu_partial_free) X(cpu_partial_node) X(cpu_partial_drain) X(barn_get)              \
	X(barn_get_fail) X(barn_put) X(barn_put_fail) X(sheaf_refill) X(sheaf_flush)           \
	X(alloc_failed) X(free_quarantined) X(free_invalid)

enum slab_stat {
#define SLAB_STAT_ENUM(n) ST_##n,
	SLUB_STATS(SLAB_STAT_ENUM)
#undef SLAB_STAT_ENUM
	NR_SLUB_STAT
};

static const char *const slab_stat_names[] = {
#define SLAB_STAT_NAME(n) #n,
	SLUB_STATS(SLAB_STAT_NAME)
#undef SLAB_STAT_NAME
};

/* A sheaf (6.18's per-CPU object array): capacity object pointers. The
 * capacity is the cache's, kept here too so that the fast paths read one
 * line. */
struct slab_sheaf {
	struct slab_sheaf *next;	/* on a barn list */
	unsigned size, capacity;
	void *objects[];
};

#define MAX_FULL_SHEAVES 10
#define MAX_EMPTY_SHEAVES 10

/* The first 64 bytes are all that an alloc or free from a sheaf, or from
 * the active slab's freelist, touches here (up to its counter). */
struct slab_cpu {
	struct slab_sheaf *main;	/* sheaves (sheaf_capacity > 0 only) */
	void *freelist;			/* objects of slab this thread may hand out */
	char *slab_addr;		/* the active slab's memory, so that a free */
	uint64_t slab_bytes;		/* recognizes it without its descriptor */
	int64_t req_bytes;		/* requested bytes allocated - freed */
	uint64_t stat[NR_SLUB_STAT];
	struct slab_sheaf *spare;
	struct mmb_page *slab;		/* active slab (frozen) */
	struct mmb_page *partial;	/* chain through priv[1] */
	unsigned partial_slabs;
} __attribute__((aligned(64)));

struct slab_track {			/* struct track, without a stack depot */
	uintptr_t addr;
	int cpu, pid;
	uint64_t when;			/* "jiffies": ms since the instance was made */
};

struct mmb_kmem_cache {
	/* read-mostly, used by the fast paths */
	struct slab_cpu *cpu;		/* SLAB_NSLOTS slots: the threads' own, then the shared ones */
	uint64_t sl_id;			/* sl->id */
	struct mmb_slab *sl;
	unsigned flags;
	unsigned offset;		/* free pointer offset in the object */
	int harden;
	uint64_t random;
	unsigned size, object_size, inuse, align, red_left_pad;
	unsigned oo_order, oo_objects, min_order, min_objects;
	unsigned min_partial, cpu_partial, cpu_partial_slabs;
	unsigned sheaf_capacity;	/* 0: no sheaves */
	void (*ctor)(void *obj);
	char name[SLAB_NAME_MAX];
	struct mmb_kmem_cache *next;	/* sl->caches, newest first */

	/* the kernel's kmem_cache_node */
	pthread_mutex_t list_lock;
	unsigned long nr_partial;
	struct mmb_page *partial_head, *partial_tail;
	atomic_long nr_slabs, total_objects, nr_pages;
	atomic_long unslotted_frees;	/* frees by threads without a slot */

	/* the kernel's node_barn: spare full and empty sheaves */
	pthread_mutex_t barn_lock;
	struct slab_sheaf *barn_full, *barn_empty;
	unsigned nr_full, nr_empty;
};

#define SLAB_OVERFLOW_SLOTS 32		/* shared slots after the threads' own */
#define SLAB_NSLOTS (MMB_SLAB_MAX_CPUS + SLAB_OVERFLOW_SLOTS)

struct mmb_slab {
	char *dmap;			/* pm's direct map, size and descriptors, */
	uint64_t dmap_bytes;		/* copied for the fast paths */
	struct mmb_page *pages;
	struct mmb_buddy *b;
	struct mmb_pmem *pm;
	uint64_t id;			/* tells thread-local slot caches apart */
	uint64_t fast_key;		/* id, or SLAB_KEY_NONE with hooks: what the
					 * shim's fast paths compare slab_tls.id with */
	int hooks;			/* kml or kfence: the fast paths step aside */
	atomic_int req_unknown;		/* a free without its size (kfree) was made:
					 * requested bytes are not known (slabstats) */
	struct mmb_kmemleak *kml;	/* detectors (not owned), NULL when off */
	struct mmb_kfence *kfence;
	unsigned nr_cpus, min_objects, min_order, max_order;
	int cpu_partial, min_partial, harden, any_debug;
	int sheaf_capacity;
	char debug[MMB_PVAL_STR_MAX];
	FILE *report;
	pthread_mutex_t report_lock;
	atomic_ulong nr_reports;
	uint64_t t0_ns;

	pthread_mutex_t slab_mutex;
	struct mmb_kmem_cache *caches;
	struct mmb_kmem_cache *kmalloc_caches[KMALLOC_SHIFT_HIGH + 1];
	atomic_int slot_owner[MMB_SLAB_MAX_CPUS];	/* tid, 0 = free */
	pthread_mutex_t overflow_lock[SLAB_OVERFLOW_SLOTS];	/* one per shared slot */

	atomic_long slab_pages, large_pages, large_allocs, large_frees;
	char large_owner;		/* its address marks large kmalloc pages */
};

/* The calling thread's slot in the instance sl->id, and its struct
 * slab_cpu in each kmalloc cache (this_cpu_ptr, precomputed). */
static _Thread_local struct {
	uint64_t id;
	int cpu;
	struct slab_cpu *kc[KMALLOC_SHIFT_HIGH + 1];
	uint64_t full_id;		/* 1 + the instance that had no free slot, 0 none */
	unsigned full_skip;		/* calls since: the scan is retried every 256 */
	unsigned overflow;		/* then its shared slot: tid % SLAB_OVERFLOW_SLOTS */
} slab_tls;
static atomic_uint_fast64_t slab_next_id = 1;

/* ---- small helpers ---- */

static inline uint64_t ld64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void st64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void stat_add(struct slab_cpu *c, enum slab_stat si, uint64_t n)
{
	if (c)
		st64(&c->stat[si], ld64(&c->stat[si]) + n);
}

#define stat(c, name) stat_add(c, ST_##name, 1)

static unsigned fls_u(unsigned long x)
{
	return x ? (unsigned)(64 - __builtin_clzl(x)) : 0;
}

static unsigned get_order(unsigned long size)
{
	unsigned order = 0;

	size = (size - 1) >> MMB_PAGE_SHIFT;
	while (size) {
		order++;
		size >>= 1;
	}
	return order;
}

static inline unsigned order_objects(unsigned order, unsigned size)
{
	return (unsigned)((MMB_PAGE_SIZE << order) / size);
}

static uint64_t slab_now_ms(const struct mmb_slab *sl)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec - sl->t0_ns) / 1000000;
}

/* ---- the slab overlay ---- */

static inline uint64_t st_make(uint64_t fl1, unsigned inuse, unsigned objects, int frozen)
{
	return fl1 | (uint64_t)inuse << ST_INUSE_SHIFT | (uint64_t)objects << ST_OBJECTS_SHIFT |
	       (frozen ? ST_FROZEN : 0);
}

static inline uint64_t st_fl1(uint64_t st)
{
	return st & ST_FL_MASK;
}

static inline unsigned st_inuse(uint64_t st)
{
	return (unsigned)(st >> ST_INUSE_SHIFT) & 0xffff;
}

static inline unsigned st_objects(uint64_t st)
{
	return (unsigned)(st >> ST_OBJECTS_SHIFT) & 0xffff;
}

static inline int st_frozen(uint64_t st)
{
	return !!(st & ST_FROZEN);
}

/* st with one object more on the freelist, now headed by fl1 (inuse >= 1). */
static inline uint64_t st_free_one(uint64_t st, uint64_t fl1)
{
	return ((st & ~ST_FL_MASK) | fl1) - (1ULL << ST_INUSE_SHIFT);
}

static inline uint64_t slab_state(struct mmb_page *slab)
{
	return __atomic_load_n(&slab->priv[0], __ATOMIC_ACQUIRE);
}

static inline int slab_cas(struct mmb_page *slab, uint64_t *old, uint64_t new)
{
	return __atomic_compare_exchange_n(&slab->priv[0], old, new, 0, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

static inline void slab_set_state(struct mmb_page *slab, uint64_t st)
{
	__atomic_store_n(&slab->priv[0], st, __ATOMIC_RELEASE);
}

static inline char *slab_address(const struct mmb_slab *sl, const struct mmb_page *slab)
{
	/* mmb_page_address() from the copies of the direct map and descriptors */
	return sl->dmap + ((uint64_t)(slab - sl->pages) << MMB_PAGE_SHIFT);
}

static inline unsigned slab_order(const struct mmb_page *slab)
{
	return (unsigned)(ld64(&slab->priv[3]) & MISC_ORDER_MASK);
}

/* priv[3] bits change by atomic read-modify-write: a thread may set a list
 * bit while another thread, which just unfroze the slab, still holds it. */
static inline void misc_set(struct mmb_page *slab, uint64_t bits)
{
	__atomic_fetch_or(&slab->priv[3], bits, __ATOMIC_RELAXED);
}

static inline void misc_clear(struct mmb_page *slab, uint64_t bits)
{
	__atomic_fetch_and(&slab->priv[3], ~bits, __ATOMIC_RELAXED);
}

/* The slot whose active slab this is; meaningful only while frozen (set by
 * the thread that freezes it, never cleared), and the list bits in clear
 * cleared in the same step. */
static inline void slab_set_owner(struct mmb_page *slab, int cpu, uint64_t clear)
{
	uint64_t old = ld64(&slab->priv[3]);

	while (!__atomic_compare_exchange_n(&slab->priv[3], &old,
					    (old & ~(MISC_OWNER_MASK | clear)) |
						    (uint64_t)(cpu + 1) << MISC_OWNER_SHIFT,
					    0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static inline int slab_owner(const struct mmb_page *slab)
{
	return (int)((ld64(&slab->priv[3]) & MISC_OWNER_MASK) >> MISC_OWNER_SHIFT) - 1;
}

static inline struct mmb_page *slab_next(const struct mmb_page *slab)
{
	return (struct mmb_page *)(uintptr_t)slab->priv[1];
}

/* fl_ptr() for a caller that has the slab's address (base) at hand. */
static inline void *fl_ptr_at(char *base, uint64_t fl1)
{
	return fl1 ? base + (fl1 - 1) : NULL;
}

static inline void *fl_ptr(const struct mmb_slab *sl, struct mmb_page *slab, uint64_t fl1)
{
	return fl_ptr_at(slab_address(sl, slab), fl1);
}

static inline uint64_t fl_enc(const struct mmb_slab *sl, struct mmb_page *slab, const void *p)
{
	return p ? (uint64_t)((const char *)p - slab_address(sl, slab)) + 1 : 0;
}

/* The slab head of an address in the direct map, or NULL. */
static inline struct mmb_page *virt_to_slab(const struct mmb_slab *sl, const void *p)
{
	struct mmb_page *page;

	if (unlikely((uintptr_t)p - (uintptr_t)sl->dmap >= sl->dmap_bytes))
		return NULL;
	page = &sl->pages[((uintptr_t)p - (uintptr_t)sl->dmap) >> MMB_PAGE_SHIFT];
	if (likely(page->flags & MMB_PG_SLAB))
		return page;
	if ((ld64(&page->priv[3]) & SLAB_TAIL) && page->owner)
		return (struct mmb_page *)(uintptr_t)page->priv[0];
	return NULL;
}

/* ---- free pointers ---- */

static inline void *get_fp(const struct mmb_kmem_cache *s, const void *obj)
{
	const char *slot = (const char *)obj + s->offset;
	uint64_t v;

	memcpy(&v, slot, sizeof(v));
	if (s->harden)
		v ^= s->random ^ __builtin_bswap64((uint64_t)(uintptr_t)slot);
	return (void *)(uintptr_t)v;
}

/* set_fp() for a caller that knows whether s is hardened. */
static inline void set_fp_h(const struct mmb_kmem_cache *s, void *obj, const void *fp, int harden)
{
	char *slot = (char *)obj + s->offset;
	uint64_t v = (uint64_t)(uintptr_t)fp;

	if (harden)
		v ^= s->random ^ __builtin_bswap64((uint64_t)(uintptr_t)slot);
	memcpy(slot, &v, sizeof(v));
}

static inline void set_fp(const struct mmb_kmem_cache *s, void *obj, const void *fp)
{
	set_fp_h(s, obj, fp, s->harden);
}

static inline int kmem_cache_debug(const struct mmb_kmem_cache *s)
{
	return s->flags & MMB_SLAB_DEBUG_FLAGS;
}

static inline int freeptr_outside_object(const struct mmb_kmem_cache *s)
{
	return s->offset >= s->inuse;
}

static inline unsigned get_info_end(const struct mmb_kmem_cache *s)
{
	return freeptr_outside_object(s) ? s->offset + (unsigned)sizeof(void *) : s->inuse;
}

static inline int slub_debug_orig_size(const struct mmb_kmem_cache *s)
{
	return (s->flags & MMB_SLAB_STORE_USER) && (s->flags & SLAB_KMALLOC);
}

static inline unsigned size_from_object(const struct mmb_kmem_cache *s)
{
	return s->flags & MMB_SLAB_RED_ZONE ? s->size - s->red_left_pad : s->size;
}

static inline int check_valid_pointer(const struct mmb_kmem_cache *s, struct mmb_page *slab,
				      const void *object)
{
	const char *base, *p;

	if (!object)
		return 1;
	base = slab_address(s->sl, slab);
	p = (const char *)object - s->red_left_pad;
	if (p < base || p >= base + (size_t)st_objects(slab_state(slab)) * s->size ||
	    (size_t)(p - base) % s->size)
		return 0;
	return 1;
}

/* ---- thread slots ---- */

static int slab_cpu_claim(struct mmb_slab *sl)
{
	int tid, cpu = -1;

	/* more threads than slots: a thread left without one takes the
	 * slotless path without a gettid and two scans of every slot per call */
	if (slab_tls.full_id == sl->id + 1 && (++slab_tls.full_skip & 255))
		return -1;
	tid = (int)gettid();
	for (int i = 0; i < MMB_SLAB_MAX_CPUS && cpu < 0; i++)
		if (atomic_load_explicit(&sl->slot_owner[i], memory_order_relaxed) == tid)
			cpu = i;
	for (int i = 0; i < MMB_SLAB_MAX_CPUS && cpu < 0; i++) {
		int zero = 0;

		/* a locked compare-and-swap only on a slot seen free: a thread
		 * without one retries this scan every 256 calls */
		if (!atomic_load_explicit(&sl->slot_owner[i], memory_order_relaxed) &&
		    atomic_compare_exchange_strong(&sl->slot_owner[i], &zero, tid))
			cpu = i;
	}
	if (cpu >= 0) {
		for (int i = 0; i <= KMALLOC_SHIFT_HIGH; i++)
			slab_tls.kc[i] = sl->kmalloc_caches[i] ? &sl->kmalloc_caches[i]->cpu[cpu] : NULL;
		slab_tls.id = sl->id;
		slab_tls.cpu = cpu;
	} else {
		slab_tls.full_id = sl->id + 1;
		slab_tls.overflow = (unsigned)tid % SLAB_OVERFLOW_SLOTS;
	}
	return cpu;
}

static inline int slab_this_cpu(struct mmb_slab *sl)
{
	if (likely(slab_tls.id == sl->id))
		return slab_tls.cpu;
	return slab_cpu_claim(sl);
}

/* The calling thread's slot in s (NULL: no slot left). */
static inline struct slab_cpu *slab_this_slot(struct mmb_kmem_cache *s, int *r_cpu)
{
	int cpu = likely(slab_tls.id == s->sl_id) ? slab_tls.cpu : slab_cpu_claim(s->sl);

	*r_cpu = cpu;
	return likely(cpu >= 0) ? &s->cpu[cpu] : NULL;
}

static inline void cpu_set_slab(const struct mmb_kmem_cache *s, struct slab_cpu *c,
				struct mmb_page *slab)
{
	c->slab = slab;
	c->slab_addr = slab ? slab_address(s->sl, slab) : NULL;
	c->slab_bytes = slab ? MMB_PAGE_SIZE << slab_order(slab) : 0;
}

/* ---- BUG reports (mm/slub.c's slab_bug, print_trailer, ...) ---- */

static void report_lock(struct mmb_slab *sl)
{
	pthread_mutex_lock(&sl->report_lock);
}

static void report_unlock(struct mmb_slab *sl)
{
	fflush(sl->report);
	pthread_mutex_unlock(&sl->report_lock);
}

static void slab_bug(struct mmb_kmem_cache *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void slab_bug(struct mmb_kmem_cache *s, const char *fmt, ...)
{
	struct mmb_slab *sl = s->sl;
	unsigned long n = atomic_fetch_add(&sl->nr_reports, 1);
	va_list ap;

	fprintf(sl->report, "=============================================================================\n");
	fprintf(sl->report, "BUG %s (%s): ", s->name, n ? "Tainted: B" : "Not tainted");
	va_start(ap, fmt);
	vfprintf(sl->report, fmt, ap);
	va_end(ap);
	fprintf(sl->report, "\n-----------------------------------------------------------------------------\n\n");
}

static void slab_fix(struct mmb_kmem_cache *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void slab_fix(struct mmb_kmem_cache *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(s->sl->report, "FIX %s: ", s->name);
	va_start(ap, fmt);
	vfprintf(s->sl->report, fmt, ap);
	va_end(ap);
	fputc('\n', s->sl->report);
}

/* print_hex_dump(DUMP_PREFIX_ADDRESS, 16, 1, ..., ascii) */
static void print_section(struct mmb_slab *sl, const char *text, const uint8_t *addr, unsigned len)
{
	for (unsigned off = 0; off < len; off += 16) {
		char hex[16 * 3 + 1], asc[17];
		unsigned n = len - off < 16 ? len - off : 16, h = 0;

		for (unsigned i = 0; i < n; i++) {
			uint8_t c = addr[off + i];

			h += (unsigned)snprintf(hex + h, sizeof(hex) - h, i ? " %02x" : "%02x", c);
			asc[i] = isascii(c) && isprint(c) ? (char)c : '.';
		}
		asc[n] = 0;
		fprintf(sl->report, "%s%016lx: %-47s  %s\n", text, (unsigned long)(uintptr_t)(addr + off),
			hex, asc);
	}
}

static struct slab_track *get_track(const struct mmb_kmem_cache *s, void *object, int alloc)
{
	return (struct slab_track *)((char *)object + get_info_end(s)) + (alloc ? 0 : 1);
}

static unsigned *orig_size_ptr(const struct mmb_kmem_cache *s, void *object)
{
	return (unsigned *)((char *)object + get_info_end(s) + 2 * sizeof(struct slab_track));
}

static unsigned get_orig_size(const struct mmb_kmem_cache *s, void *object)
{
	unsigned v;

	if (!slub_debug_orig_size(s))
		return s->object_size;
	memcpy(&v, orig_size_ptr(s, object), sizeof(v));
	return v;
}

static void set_orig_size(const struct mmb_kmem_cache *s, void *object, unsigned orig)
{
	if (slub_debug_orig_size(s))
		memcpy(orig_size_ptr(s, object), &orig, sizeof(orig));
}

static void set_track(struct mmb_kmem_cache *s, void *object, int alloc, uintptr_t addr, int cpu)
{
	struct slab_track t = {
		.addr = addr, .cpu = cpu, .pid = (int)gettid(), .when = slab_now_ms(s->sl),
	};

	memcpy(get_track(s, object, alloc), &t, sizeof(t));
}

static void print_track(struct mmb_kmem_cache *s, const char *what, void *object, int alloc,
			uint64_t now)
{
	struct slab_track t;
	Dl_info di;

	memcpy(&t, get_track(s, object, alloc), sizeof(t));
	if (!t.addr)
		return;
	if (dladdr((void *)t.addr, &di) && di.dli_sname)
		fprintf(s->sl->report, "%s in %s+0x%lx age=%llu cpu=%d pid=%d\n", what, di.dli_sname,
			(unsigned long)(t.addr - (uintptr_t)di.dli_saddr),
			(unsigned long long)(now - t.when), t.cpu, t.pid);
	else
		fprintf(s->sl->report, "%s in 0x%lx age=%llu cpu=%d pid=%d\n", what,
			(unsigned long)t.addr, (unsigned long long)(now - t.when), t.cpu, t.pid);
}

static void print_tracking(struct mmb_kmem_cache *s, void *object)
{
	uint64_t now = slab_now_ms(s->sl);

	if (!(s->flags & MMB_SLAB_STORE_USER))
		return;
	print_track(s, "Allocated", object, 1, now);
	print_track(s, "Freed", object, 0, now);
}

static void print_slab_info(struct mmb_kmem_cache *s, struct mmb_page *slab)
{
	uint64_t st = slab_state(slab);

	fprintf(s->sl->report, "Slab 0x%016lx objects=%u used=%u fp=0x%016lx flags=0x%x(slab%s)\n",
		(unsigned long)(uintptr_t)slab_address(s->sl, slab), st_objects(st), st_inuse(st),
		(unsigned long)(uintptr_t)fl_ptr(s->sl, slab, st_fl1(st)), slab->flags,
		slab_order(slab) ? "|head" : "");
}

static void print_trailer(struct mmb_kmem_cache *s, struct mmb_page *slab, uint8_t *p)
{
	uint8_t *addr = (uint8_t *)slab_address(s->sl, slab);
	unsigned off;

	print_tracking(s, p);
	print_slab_info(s, slab);
	fprintf(s->sl->report, "Object 0x%016lx @offset=%lu fp=0x%016lx\n\n",
		(unsigned long)(uintptr_t)p, (unsigned long)(p - addr),
		(unsigned long)(uintptr_t)get_fp(s, p));
	if (s->flags & MMB_SLAB_RED_ZONE)
		print_section(s->sl, "Redzone  ", p - s->red_left_pad, s->red_left_pad);
	else if (p > addr + 16)
		print_section(s->sl, "Bytes b4 ", p - 16, 16);
	print_section(s->sl, "Object   ", p,
		      s->object_size < MMB_PAGE_SIZE ? s->object_size : (unsigned)MMB_PAGE_SIZE);
	if (s->flags & MMB_SLAB_RED_ZONE)
		print_section(s->sl, "Redzone  ", p + s->object_size, s->inuse - s->object_size);
	off = get_info_end(s);
	if (s->flags & MMB_SLAB_STORE_USER)
		off += 2 * (unsigned)sizeof(struct slab_track);
	if (slub_debug_orig_size(s))
		off += (unsigned)sizeof(unsigned);
	if (off != size_from_object(s))
		print_section(s->sl, "Padding  ", p + off, size_from_object(s) - off);
}

static void object_err(struct mmb_kmem_cache *s, struct mmb_page *slab, void *object,
		       const char *reason)
{
	slab_bug(s, "%s", reason);
	print_trailer(s, slab, object);
}

static void slab_err(struct mmb_kmem_cache *s, struct mmb_page *slab, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void slab_err(struct mmb_kmem_cache *s, struct mmb_page *slab, const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	slab_bug(s, "%s", buf);
	print_slab_info(s, slab);
}

static int check_bytes_and_report(struct mmb_kmem_cache *s, struct mmb_page *slab, uint8_t *object,
				  const char *what, uint8_t *start, uint8_t value, unsigned bytes)
{
	uint8_t *addr = (uint8_t *)slab_address(s->sl, slab), *fault = NULL, *end = start + bytes;

	for (unsigned i = 0; i < bytes; i++)
		if (start[i] != value) {
			fault = start + i;
			break;
		}
	if (!fault)
		return 1;
	while (end > fault && end[-1] == value)
		end--;
	slab_bug(s, "%s overwritten", what);
	fprintf(s->sl->report, "0x%016lx-0x%016lx @offset=%lu. First byte 0x%x instead of 0x%x\n",
		(unsigned long)(uintptr_t)fault, (unsigned long)(uintptr_t)(end - 1),
		(unsigned long)(fault - addr), fault[0], value);
	print_trailer(s, slab, object);
	slab_fix(s, "Restoring %s 0x%016lx-0x%016lx=0x%x", what, (unsigned long)(uintptr_t)fault,
		 (unsigned long)(uintptr_t)(end - 1), value);
	memset(fault, value, (size_t)(end - fault));
	return 0;
}

static int check_pad_bytes(struct mmb_kmem_cache *s, struct mmb_page *slab, uint8_t *p)
{
	unsigned off = get_info_end(s);

	if (s->flags & MMB_SLAB_STORE_USER)
		off += 2 * (unsigned)sizeof(struct slab_track);
	if (slub_debug_orig_size(s))
		off += (unsigned)sizeof(unsigned);
	if (size_from_object(s) == off)
		return 1;
	return check_bytes_and_report(s, slab, p, "Object padding", p + off, MMB_POISON_INUSE,
				      size_from_object(s) - off);
}

/* The slab's tail after the last object (slab_pad_check). */
static void slab_pad_check(struct mmb_kmem_cache *s, struct mmb_page *slab)
{
	uint8_t *start = (uint8_t *)slab_address(s->sl, slab), *fault = NULL, *end, *pad;
	size_t length = MMB_PAGE_SIZE << slab_order(slab), remainder;

	if (!(s->flags & MMB_SLAB_POISON))
		return;
	end = start + length;
	remainder = length % s->size;
	if (!remainder)
		return;
	pad = end - remainder;
	for (size_t i = 0; i < remainder; i++)
		if (pad[i] != MMB_POISON_INUSE) {
			fault = pad + i;
			break;
		}
	if (!fault)
		return;
	while (end > fault && end[-1] == MMB_POISON_INUSE)
		end--;
	slab_err(s, slab, "Padding overwritten. 0x%016lx-0x%016lx @offset=%lu",
		 (unsigned long)(uintptr_t)fault, (unsigned long)(uintptr_t)(end - 1),
		 (unsigned long)(fault - start));
	print_section(s->sl, "Padding ", pad, (unsigned)remainder);
	slab_fix(s, "Restoring Padding 0x%016lx-0x%016lx=0x%x", (unsigned long)(uintptr_t)fault,
		 (unsigned long)(uintptr_t)(end - 1), MMB_POISON_INUSE);
	memset(fault, MMB_POISON_INUSE, (size_t)(end - fault));
}

static int check_object(struct mmb_kmem_cache *s, struct mmb_page *slab, void *object, uint8_t val)
{
	uint8_t *p = object, *endobject = p + s->object_size;
	int ret = 1;

	if (s->flags & MMB_SLAB_RED_ZONE) {
		if (!check_bytes_and_report(s, slab, object, "Left Redzone", p - s->red_left_pad, val,
					    s->red_left_pad))
			ret = 0;
		if (!check_bytes_and_report(s, slab, object, "Right Redzone", endobject, val,
					    s->inuse - s->object_size))
			ret = 0;
		if (slub_debug_orig_size(s) && val == MMB_SLUB_RED_ACTIVE) {
			unsigned orig = get_orig_size(s, object);

			if (s->object_size > orig &&
			    !check_bytes_and_report(s, slab, object, "kmalloc Redzone", p + orig, val,
						    s->object_size - orig))
				ret = 0;
		}
	} else if ((s->flags & MMB_SLAB_POISON) && s->object_size < s->inuse) {
		if (!check_bytes_and_report(s, slab, p, "Alignment padding", endobject,
					    MMB_POISON_INUSE, s->inuse - s->object_size))
			ret = 0;
	}
	if (s->flags & MMB_SLAB_POISON) {
		if (val != MMB_SLUB_RED_ACTIVE && (s->flags & OBJECT_POISON)) {
			if (!check_bytes_and_report(s, slab, p, "Poison", p, MMB_POISON_FREE,
						    s->object_size - 1))
				ret = 0;
			if (!check_bytes_and_report(s, slab, p, "End Poison", p + s->object_size - 1,
						    MMB_POISON_END, 1))
				ret = 0;
		}
		if (!check_pad_bytes(s, slab, p))
			ret = 0;
	}
	if ((freeptr_outside_object(s) || val != MMB_SLUB_RED_ACTIVE) &&
	    !check_valid_pointer(s, slab, get_fp(s, p))) {
		object_err(s, slab, p, "Freepointer corrupt");
		set_fp(s, p, NULL);
		ret = 0;
	}
	return ret;
}

static int check_slab(struct mmb_kmem_cache *s, struct mmb_page *slab)
{
	uint64_t st = slab_state(slab);
	unsigned maxobj;

	if (!(slab->flags & MMB_PG_SLAB)) {
		slab_err(s, slab, "Not a valid slab page");
		return 0;
	}
	maxobj = order_objects(slab_order(slab), s->size);
	if (st_objects(st) > maxobj) {
		slab_err(s, slab, "objects %u > max %u", st_objects(st), maxobj);
		return 0;
	}
	if (st_inuse(st) > st_objects(st)) {
		slab_err(s, slab, "inuse %u > max %u", st_inuse(st), st_objects(st));
		return 0;
	}
	slab_pad_check(s, slab);
	return 1;
}

/* Is search on the slab's freelist? Debug caches only (list_lock held). */
static int on_freelist(struct mmb_kmem_cache *s, struct mmb_page *slab, void *search)
{
	uint64_t st = slab_state(slab);
	void *fp = fl_ptr(s->sl, slab, st_fl1(st)), *object = NULL;
	unsigned nr = 0, max_objects;

	while (fp && nr <= st_objects(st)) {
		if (fp == search)
			return 1;
		if (!check_valid_pointer(s, slab, fp)) {
			if (object) {
				object_err(s, slab, object, "Freechain corrupt");
				set_fp(s, object, NULL);
			} else {
				slab_err(s, slab, "Freepointer corrupt");
				slab_set_state(slab, st_make(0, st_objects(st), st_objects(st), 0));
				slab_fix(s, "Freelist cleared");
				return 0;
			}
			break;
		}
		object = fp;
		fp = get_fp(s, object);
		nr++;
	}
	max_objects = order_objects(slab_order(slab), s->size);
	if (max_objects > MAX_OBJS_PER_PAGE)
		max_objects = MAX_OBJS_PER_PAGE;
	st = slab_state(slab);
	if (st_objects(st) != max_objects) {
		slab_err(s, slab, "Wrong number of objects. Found %u but should be %u", st_objects(st),
			 max_objects);
		st = st_make(st_fl1(st), st_inuse(st), max_objects, 0);
		slab_set_state(slab, st);
		slab_fix(s, "Number of objects adjusted");
	}
	if (st_inuse(st) != st_objects(st) - nr) {
		slab_err(s, slab, "Wrong object count. Counter is %u but counted were %u",
			 st_inuse(st), st_objects(st) - nr);
		slab_set_state(slab, st_make(st_fl1(st), st_objects(st) - nr, st_objects(st), 0));
		slab_fix(s, "Object count adjusted");
	}
	return search == NULL;
}

/* init_object: paint red zones and poison. */
static void init_object(struct mmb_kmem_cache *s, void *object, uint8_t val)
{
	uint8_t *p = object;
	unsigned poison_size = s->object_size;

	if (s->flags & MMB_SLAB_RED_ZONE) {
		memset(p - s->red_left_pad, val, s->red_left_pad);
		if (slub_debug_orig_size(s) && val == MMB_SLUB_RED_ACTIVE)
			poison_size = get_orig_size(s, object);
	}
	if (s->flags & OBJECT_POISON) {
		memset(p, MMB_POISON_FREE, poison_size - 1);
		p[poison_size - 1] = MMB_POISON_END;
	}
	if (s->flags & MMB_SLAB_RED_ZONE)
		memset(p + poison_size, val, s->inuse - poison_size);
}

/* ---- node partial list (list_lock held) ---- */

/* nr_partial read without list_lock (a hint, as in the kernel). */
static inline unsigned long nr_partial_peek(const struct mmb_kmem_cache *s)
{
	return __atomic_load_n(&s->nr_partial, __ATOMIC_RELAXED);
}

static void add_partial(struct mmb_kmem_cache *s, struct mmb_page *slab, int tail)
{
	slab->priv[1] = slab->priv[2] = 0;
	if (!s->partial_head) {
		s->partial_head = s->partial_tail = slab;
	} else if (tail) {
		slab->priv[2] = (uintptr_t)s->partial_tail;
		s->partial_tail->priv[1] = (uintptr_t)slab;
		s->partial_tail = slab;
	} else {
		slab->priv[1] = (uintptr_t)s->partial_head;
		s->partial_head->priv[2] = (uintptr_t)slab;
		s->partial_head = slab;
	}
	misc_set(slab, MISC_NODE_PARTIAL);
	__atomic_store_n(&s->nr_partial, s->nr_partial + 1, __ATOMIC_RELAXED);
}

static void remove_partial(struct mmb_kmem_cache *s, struct mmb_page *slab)
{
	struct mmb_page *next = slab_next(slab), *prev = (struct mmb_page *)(uintptr_t)slab->priv[2];

	if (prev)
		prev->priv[1] = (uintptr_t)next;
	else
		s->partial_head = next;
	if (next)
		next->priv[2] = (uintptr_t)prev;
	else
		s->partial_tail = prev;
	slab->priv[1] = slab->priv[2] = 0;
	misc_clear(slab, MISC_NODE_PARTIAL);
	__atomic_store_n(&s->nr_partial, s->nr_partial - 1, __ATOMIC_RELAXED);
}

/* ---- slabs from and to the buddy allocator ---- */

static void *slab_obj(const struct mmb_kmem_cache *s, char *base, unsigned i)
{
	return base + (size_t)i * s->size + s->red_left_pad;
}

/*
 * allocate_slab: the preferred order, then the fallback. The objects are
 * linked in address order; the list head is returned in *r_freelist.
 * Debug caches get a slab that is not frozen with the list on it.
 */
static struct mmb_page *allocate_slab(struct mmb_kmem_cache *s, struct slab_cpu *c, int cpu,
				      void **r_freelist)
{
	struct mmb_slab *sl = s->sl;
	unsigned order = s->oo_order, objects = s->oo_objects;
	struct mmb_page *page = mmb_alloc_pages(sl->b, order, MMB_MT_UNMOVABLE);
	char *base;

	if (unlikely(!page)) {
		order = s->min_order;
		objects = s->min_objects;
		if (order != s->oo_order)
			page = mmb_alloc_pages(sl->b, order, MMB_MT_UNMOVABLE);
		if (!page)
			return NULL;
		stat(c, order_fallback);
	}
	page->owner = s;
	page->priv[1] = page->priv[2] = 0;
	page->priv[3] = order;
	for (unsigned i = 1; i < 1u << order; i++) {
		page[i].owner = s;
		page[i].priv[0] = (uintptr_t)page;
		page[i].priv[3] = SLAB_TAIL;
	}
	base = slab_address(sl, page);
	if (s->flags & MMB_SLAB_POISON)
		memset(base, MMB_POISON_INUSE, MMB_PAGE_SIZE << order);
	for (unsigned i = 0; i < objects; i++) {
		void *obj = slab_obj(s, base, i);

		if (s->flags & (MMB_SLAB_STORE_USER | MMB_SLAB_RED_ZONE | OBJECT_POISON)) {
			init_object(s, obj, MMB_SLUB_RED_INACTIVE);
			if (s->flags & MMB_SLAB_STORE_USER)
				memset(get_track(s, obj, 1), 0, 2 * sizeof(struct slab_track));
		}
		if (s->ctor)
			s->ctor(obj);
		set_fp(s, obj, i + 1 < objects ? slab_obj(s, base, i + 1) : NULL);
	}
	*r_freelist = slab_obj(s, base, 0);
	if (kmem_cache_debug(s)) {
		slab_set_state(page, st_make(fl_enc(sl, page, *r_freelist), 0, objects, 0));
	} else {
		slab_set_state(page, st_make(0, objects, objects, 1));
		slab_set_owner(page, cpu, 0);
	}
	__atomic_or_fetch(&page->flags, MMB_PG_SLAB, __ATOMIC_RELEASE);
	atomic_fetch_add(&s->nr_slabs, 1);
	atomic_fetch_add(&s->total_objects, objects);
	atomic_fetch_add(&s->nr_pages, 1L << order);
	atomic_fetch_add(&sl->slab_pages, 1L << order);
	stat(c, alloc_slab);
	return page;
}

static void discard_slab(struct mmb_kmem_cache *s, struct mmb_page *slab)
{
	struct mmb_slab *sl = s->sl;
	unsigned order = slab_order(slab);

	atomic_fetch_sub(&s->nr_slabs, 1);
	atomic_fetch_sub(&s->total_objects, st_objects(slab_state(slab)));
	atomic_fetch_sub(&s->nr_pages, 1L << order);
	atomic_fetch_sub(&sl->slab_pages, 1L << order);
	for (unsigned i = 1; i < 1u << order; i++) {
		slab[i].owner = NULL;
		slab[i].priv[0] = slab[i].priv[3] = 0;
	}
	__atomic_and_fetch(&slab->flags, ~MMB_PG_SLAB, __ATOMIC_RELEASE);
	slab->owner = NULL;
	slab->priv[0] = slab->priv[1] = slab->priv[2] = slab->priv[3] = 0;
	mmb_free_pages(sl->b, slab, order);
}

/* ---- cpu partial chains ---- */

static void put_partials(struct mmb_kmem_cache *s, struct slab_cpu *c, struct mmb_page *list)
{
	struct mmb_page *discard = NULL;

	pthread_mutex_lock(&s->list_lock);
	while (list) {
		struct mmb_page *slab = list;

		list = slab_next(slab);
		misc_clear(slab, MISC_CPU_PARTIAL);
		if (!st_inuse(slab_state(slab)) && s->nr_partial >= s->min_partial) {
			slab->priv[1] = (uintptr_t)discard;
			discard = slab;
		} else {
			add_partial(s, slab, 1);
			stat(c, free_add_partial);
		}
	}
	pthread_mutex_unlock(&s->list_lock);
	while (discard) {
		struct mmb_page *slab = discard;

		discard = slab_next(slab);
		stat(c, free_slab);
		discard_slab(s, slab);
	}
}

static void put_cpu_partial(struct mmb_kmem_cache *s, struct slab_cpu *c, struct mmb_page *slab,
			    int drain)
{
	struct mmb_page *to_put = NULL;

	if (c->partial && drain && c->partial_slabs >= s->cpu_partial_slabs) {
		to_put = c->partial;
		c->partial = NULL;
		c->partial_slabs = 0;
	}
	misc_set(slab, MISC_CPU_PARTIAL);
	slab->priv[1] = (uintptr_t)c->partial;
	c->partial = slab;
	c->partial_slabs++;
	if (to_put) {
		put_partials(s, c, to_put);
		stat(c, cpu_partial_drain);
	}
}

/* Take the whole freelist and freeze the slab for cpu (freeze_slab), and
 * clear the list bits in clear. NULL when the slab has no free object (it
 * stays unfrozen). */
static void *freeze_slab(struct mmb_kmem_cache *s, struct mmb_page *slab, int cpu, uint64_t clear)
{
	uint64_t old = slab_state(slab);

	do {
		if (!st_fl1(old)) {
			misc_clear(slab, clear);
			return NULL;
		}
	} while (!slab_cas(slab, &old, st_make(0, st_objects(old), st_objects(old), 1)));
	slab_set_owner(slab, cpu, clear);
	return fl_ptr(s->sl, slab, st_fl1(old));
}

/* get_partial_node: first slab to freeze, more onto the cpu chain. */
static struct mmb_page *get_partial(struct mmb_kmem_cache *s, struct slab_cpu *c)
{
	struct mmb_page *first = NULL;
	unsigned partial_slabs = 0;

	if (!nr_partial_peek(s))	/* unlocked, as the kernel's get_partial_node */
		return NULL;
	pthread_mutex_lock(&s->list_lock);
	while (s->partial_head) {
		struct mmb_page *slab = s->partial_head;

		remove_partial(s, slab);
		if (!first) {
			first = slab;
			stat(c, alloc_from_partial);
			if (!s->cpu_partial)
				break;
		} else {
			put_cpu_partial(s, c, slab, 0);
			stat(c, cpu_partial_node);
			if (++partial_slabs > s->cpu_partial_slabs / 2)
				break;
		}
	}
	pthread_mutex_unlock(&s->list_lock);
	return first;
}

/* Return an active slab and its thread freelist to the cache. */
static void deactivate_slab(struct mmb_kmem_cache *s, struct slab_cpu *c, struct mmb_page *slab,
			    void *freelist)
{
	struct mmb_slab *sl = s->sl;
	void *tail = NULL;
	unsigned nfree = 0;
	uint64_t old, new;

	for (void *p = freelist; p; p = get_fp(s, p)) {
		tail = p;
		nfree++;
	}
	old = slab_state(slab);
	do {
		if (tail)
			set_fp(s, tail, fl_ptr(sl, slab, st_fl1(old)));
		new = st_make(freelist ? fl_enc(sl, slab, freelist) : st_fl1(old), st_inuse(old) - nfree,
			      st_objects(old), 0);
	} while (!slab_cas(slab, &old, new));

	if (!st_inuse(new) && nr_partial_peek(s) >= s->min_partial) {
		stat(c, deactivate_empty);
		discard_slab(s, slab);
		stat(c, free_slab);
	} else if (st_fl1(new)) {
		pthread_mutex_lock(&s->list_lock);
		add_partial(s, slab, 1);
		pthread_mutex_unlock(&s->list_lock);
		stat(c, deactivate_to_tail);
	} else {
		stat(c, deactivate_full);
	}
}

static void pcs_flush_cpu(struct mmb_kmem_cache *s, struct slab_cpu *c, int cpu);

static void flush_slab_cpu(struct mmb_kmem_cache *s, struct slab_cpu *c)
{
	if (c->main || c->spare)
		pcs_flush_cpu(s, c, (int)(c - s->cpu));
	if (c->slab) {
		struct mmb_page *slab = c->slab;
		void *freelist = c->freelist;

		cpu_set_slab(s, c, NULL);
		c->freelist = NULL;
		deactivate_slab(s, c, slab, freelist);
		stat(c, cpuslab_flush);
	}
	if (c->partial) {
		struct mmb_page *list = c->partial;

		c->partial = NULL;
		c->partial_slabs = 0;
		put_partials(s, c, list);
	}
}

/* ---- debug alloc and free (under list_lock) ---- */

static int alloc_debug_processing(struct mmb_kmem_cache *s, struct mmb_page *slab, void *object,
				  unsigned orig_size, uintptr_t addr, int cpu)
{
	if (s->flags & MMB_SLAB_CONSISTENCY_CHECKS) {
		if (!check_slab(s, slab))
			goto bad;
		if (!check_valid_pointer(s, slab, object)) {
			object_err(s, slab, object, "Freelist Pointer check fails");
			goto bad;
		}
		if (!check_object(s, slab, object, MMB_SLUB_RED_INACTIVE))
			goto bad;
	}
	if (s->flags & MMB_SLAB_STORE_USER)
		set_track(s, object, 1, addr, cpu);
	set_orig_size(s, object, orig_size);
	init_object(s, object, MMB_SLUB_RED_ACTIVE);
	return 1;
bad:
	slab_fix(s, "Marking all objects used");
	slab_set_state(slab, st_make(0, st_objects(slab_state(slab)), st_objects(slab_state(slab)), 0));
	return 0;
}

/* Take one object off a not frozen slab; NULL if the checks failed. */
static void *alloc_single(struct mmb_kmem_cache *s, struct mmb_page *slab, unsigned orig_size,
			  uintptr_t addr, int cpu)
{
	uint64_t st = slab_state(slab);
	void *object = fl_ptr(s->sl, slab, st_fl1(st));

	slab_set_state(slab, st_make(fl_enc(s->sl, slab, get_fp(s, object)), st_inuse(st) + 1,
				     st_objects(st), 0));
	if (!alloc_debug_processing(s, slab, object, orig_size, addr, cpu))
		return NULL;
	return object;
}

static __attribute__((noinline)) void *alloc_debug(struct mmb_kmem_cache *s, struct slab_cpu *c,
						   int cpu, unsigned orig_size, uintptr_t addr)
{
	struct mmb_page *slab, *next;
	void *object = NULL, *freelist;

	pthread_mutex_lock(&s->list_lock);
	report_lock(s->sl);
	for (slab = s->partial_head; slab && !object; slab = next) {
		next = slab_next(slab);
		object = alloc_single(s, slab, orig_size, addr, cpu);
		if (!object || !st_fl1(slab_state(slab)))
			remove_partial(s, slab);
		if (object)
			stat(c, alloc_from_partial);
	}
	report_unlock(s->sl);
	pthread_mutex_unlock(&s->list_lock);
	if (object)
		return object;

	slab = allocate_slab(s, c, cpu, &freelist);
	if (!slab)
		return NULL;
	pthread_mutex_lock(&s->list_lock);
	report_lock(s->sl);
	object = alloc_single(s, slab, orig_size, addr, cpu);
	if (object && st_fl1(slab_state(slab)))
		add_partial(s, slab, 1);
	report_unlock(s->sl);
	pthread_mutex_unlock(&s->list_lock);
	return object;
}

static int free_consistency_checks(struct mmb_kmem_cache *s, struct mmb_page *slab, void *object)
{
	if (!check_valid_pointer(s, slab, object)) {
		char why[64];

		snprintf(why, sizeof(why), "Invalid object pointer 0x%016lx",
			 (unsigned long)(uintptr_t)object);
		object_err(s, slab, object, why);
		return 0;
	}
	if (on_freelist(s, slab, object)) {
		object_err(s, slab, object, "Object already free");
		return 0;
	}
	if (!check_object(s, slab, object, MMB_SLUB_RED_ACTIVE))
		return 0;
	return 1;
}

/* free_to_partial_list() with free_debug_processing(). */
static __attribute__((noinline)) void free_debug(struct mmb_kmem_cache *s, struct slab_cpu *c, int cpu, struct mmb_page *slab,
		       void *object, uintptr_t addr)
{
	struct mmb_page *slab_free = NULL;
	int ok = 0;

	pthread_mutex_lock(&s->list_lock);
	report_lock(s->sl);
	if ((s->flags & MMB_SLAB_CONSISTENCY_CHECKS) && !check_slab(s, slab))
		goto out;
	if (st_inuse(slab_state(slab)) < 1) {
		slab_err(s, slab, "Slab has %u allocated objects but %d are to be freed", 0u, 1);
		goto out;
	}
	if ((s->flags & MMB_SLAB_CONSISTENCY_CHECKS) && !free_consistency_checks(s, slab, object))
		goto out;
	if (s->flags & MMB_SLAB_STORE_USER)
		set_track(s, object, 0, addr, cpu);
	init_object(s, object, MMB_SLUB_RED_INACTIVE);
	ok = 1;
out:
	if (!ok) {
		slab_fix(s, "Object at 0x%016lx not freed", (unsigned long)(uintptr_t)object);
		stat(c, free_quarantined);
	} else {
		uint64_t st = slab_state(slab);
		void *prior = fl_ptr(s->sl, slab, st_fl1(st));
		unsigned inuse = st_inuse(st) - 1;

		set_fp(s, object, prior);
		slab_set_state(slab, st_make(fl_enc(s->sl, slab, object), inuse, st_objects(st), 0));
		if (!inuse && s->nr_partial >= s->min_partial)
			slab_free = slab;
		if (!prior) {
			if (!slab_free) {
				add_partial(s, slab, 1);
				stat(c, free_add_partial);
			}
		} else if (slab_free) {
			remove_partial(s, slab);
			stat(c, free_remove_partial);
		}
	}
	report_unlock(s->sl);
	pthread_mutex_unlock(&s->list_lock);
	if (slab_free) {
		stat(c, free_slab);
		discard_slab(s, slab_free);
	}
}

/* ---- the allocation and free paths ---- */

/* set_freepointer's BUG_ON(object == fp) under FREELIST_HARDENED: reported,
 * and the free is dropped instead of looping the freelist. */
static __attribute__((noinline, cold)) void slab_naive_double_free(struct mmb_kmem_cache *s,
								   struct slab_cpu *c,
								   struct mmb_page *slab,
								   void *object)
{
	report_lock(s->sl);
	object_err(s, slab, object, "Object already free");
	report_unlock(s->sl);
	stat(c, free_quarantined);
}

/*
 * ___slab_alloc's steps that need no list_lock: the active slab's remote
 * frees (get_freelist, which unfreezes the slab when there are none), else
 * the next cpu partial slab, frozen. Returns the first object and leaves
 * the rest on the thread's freelist; NULL: the node's partial list or a
 * new slab is next (slab_alloc_slow). Not for debug caches.
 */
static __attribute__((always_inline)) inline void *slab_alloc_cpu(struct mmb_kmem_cache *s,
								  struct slab_cpu *c, int cpu)
{
	struct mmb_page *slab = c->slab;
	void *freelist;

	if (slab) {
		/* get_freelist: the remote frees, or unfreeze a full slab */
		uint64_t old = slab_state(slab);

		while (!slab_cas(slab, &old, st_make(0, st_objects(old), st_objects(old),
						     st_fl1(old) != 0)))
			stat(c, cmpxchg_double_fail);
		freelist = fl_ptr(s->sl, slab, st_fl1(old));
		if (freelist) {
			stat(c, alloc_refill);
			goto load_freelist;
		}
		cpu_set_slab(s, c, NULL);
		stat(c, deactivate_bypass);
	}
	while (c->partial) {
		slab = c->partial;
		c->partial = slab_next(slab);
		c->partial_slabs--;
		freelist = freeze_slab(s, slab, cpu, MISC_CPU_PARTIAL);
		stat(c, cpu_partial_alloc);
		if (freelist)
			goto load_slab;
	}
	return NULL;
load_slab:
	cpu_set_slab(s, c, slab);
load_freelist:
	c->freelist = get_fp(s, freelist);
	return freelist;
}

static __attribute__((noinline)) void *slab_alloc_slow(struct mmb_kmem_cache *s,
						       struct slab_cpu *c, int cpu, unsigned orig,
						       uintptr_t addr)
{
	struct mmb_page *slab;
	void *freelist;

	stat(c, alloc_slowpath);
	if (kmem_cache_debug(s)) {
		freelist = alloc_debug(s, c, cpu, orig, addr);
		if (!freelist)
			stat(c, alloc_failed);
		return freelist;
	}
	freelist = slab_alloc_cpu(s, c, cpu);
	if (freelist)
		return freelist;
	slab = get_partial(s, c);
	if (slab) {
		freelist = freeze_slab(s, slab, cpu, 0);
		if (freelist)
			goto load_slab;
	}
	slab = allocate_slab(s, c, cpu, &freelist);
	if (!slab) {
		stat(c, alloc_failed);
		return NULL;
	}
load_slab:
	cpu_set_slab(s, c, slab);
	c->freelist = get_fp(s, freelist);
	return freelist;
}

/* slab_alloc_node's fast path: pop the thread's freelist; NULL if empty. */
static inline void *cpu_alloc_fast(const struct mmb_kmem_cache *s, struct slab_cpu *c,
				   unsigned orig)
{
	void *object = c->freelist;

	if (likely(object)) {
		void *next = get_fp(s, object);

		c->freelist = next;
		/* prefetch_freepointer(); a prefetch of NULL + offset is harmless */
		__builtin_prefetch((void *)((uintptr_t)next + s->offset), 1);
		c->req_bytes += orig;
		stat(c, alloc_fastpath);
	}
	return object;
}

static void *pcs_alloc_slow(struct mmb_kmem_cache *s, struct slab_cpu *c, int cpu);

/* alloc_from_pcs(): pop the main sheaf sh, which is not empty. */
static inline void *pcs_alloc_fast(struct slab_cpu *c, struct slab_sheaf *sh, unsigned orig)
{
	unsigned n = sh->size - 1;

	sh->size = n;
	c->req_bytes += orig;
	stat(c, alloc_pcs);
	return sh->objects[n];
}

/* alloc_from_pcs() when the cache has sheaves, else the freelist. Only
 * such a cache has a main sheaf (none yet before its first alloc or free). */
static inline void *slab_alloc_fast(const struct mmb_kmem_cache *s, struct slab_cpu *c,
				    unsigned orig)
{
	struct slab_sheaf *sh = c->main;

	if (likely(sh))
		return likely(sh->size) ? pcs_alloc_fast(c, sh, orig) : NULL;
	if (s->sheaf_capacity)
		return NULL;
	return cpu_alloc_fast(s, c, orig);
}

/* slab_alloc() past its fast path: a sheaf from the barn or refilled,
 * else (no sheaf to be had) the slabs. */
static void *slab_alloc_refill(struct mmb_kmem_cache *s, struct slab_cpu *c, int cpu,
			       unsigned orig, uintptr_t addr)
{
	void *object = NULL;

	if (s->sheaf_capacity) {
		object = pcs_alloc_slow(s, c, cpu);
		if (!object)
			object = cpu_alloc_fast(s, c, 0);
	}
	if (!object)
		object = slab_alloc_slow(s, c, cpu, orig, addr);
	if (likely(object))
		c->req_bytes += orig;
	return object;
}

/* slab_alloc() for a thread without a slot of its own: on its shared slot,
 * under that slot's mutex (the thread-slots comment at the top). */
static __attribute__((noinline)) void *slab_alloc_overflow(struct mmb_kmem_cache *s,
							   unsigned orig, uintptr_t addr)
{
	unsigned k = slab_tls.overflow;
	int cpu = MMB_SLAB_MAX_CPUS + (int)k;
	struct slab_cpu *c = &s->cpu[cpu];
	void *object;

	pthread_mutex_lock(&s->sl->overflow_lock[k]);
	object = slab_alloc_fast(s, c, orig);
	if (!object)
		object = slab_alloc_refill(s, c, cpu, orig, addr);
	pthread_mutex_unlock(&s->sl->overflow_lock[k]);
	return object;
}

static inline void *slab_alloc(struct mmb_kmem_cache *s, unsigned orig, uintptr_t addr)
{
	int cpu;
	struct slab_cpu *c = slab_this_slot(s, &cpu);
	void *object;

	if (unlikely(!c))
		return slab_alloc_overflow(s, orig, addr);
	object = slab_alloc_fast(s, c, orig);
	if (likely(object))
		return object;
	return slab_alloc_refill(s, c, cpu, orig, addr);
}

static int has_cpu_partial(const struct mmb_kmem_cache *s, const struct slab_cpu *c)
{
	return c && s->cpu_partial;
}

/*
 * __slab_free's end under list_lock, after the compare-and-swap that put
 * object on the slab (prior: the freelist it found, new: the state it
 * left): the slab's list moves, if any; unlocks.
 */
static __attribute__((noinline)) void slab_free_locked(struct mmb_kmem_cache *s,
						       struct slab_cpu *c, struct mmb_page *slab,
						       void *prior, uint64_t new, int on_node_partial)
{
	if (prior && !on_node_partial) {
		pthread_mutex_unlock(&s->list_lock);
		return;
	}
	if (!st_inuse(new) && s->nr_partial >= s->min_partial) {
		if (prior) {
			remove_partial(s, slab);
			stat(c, free_remove_partial);
		}
		pthread_mutex_unlock(&s->list_lock);
		stat(c, free_slab);
		discard_slab(s, slab);
		return;
	}
	if (!has_cpu_partial(s, c) && !prior) {
		add_partial(s, slab, 1);
		stat(c, free_add_partial);
	}
	pthread_mutex_unlock(&s->list_lock);
}

/*
 * __slab_free's test: a free that turns old into new, with prior the
 * freelist it found, moves the slab between lists and needs list_lock
 * (the slab is not frozen and becomes empty, or was full and is not
 * taken as the thread's cpu partial slab).
 */
static inline int slab_free_needs_lock(const struct mmb_kmem_cache *s, const struct slab_cpu *c,
				       uint64_t old, uint64_t new, const void *prior)
{
	return !st_frozen(old) && (!st_inuse(new) || !prior) && (!has_cpu_partial(s, c) || prior);
}

/* __slab_free's end when the free needed no list_lock (old, prior as above). */
static __attribute__((always_inline)) inline void slab_free_unlocked(struct mmb_kmem_cache *s,
								     struct slab_cpu *c, int cpu,
								     struct mmb_page *slab,
								     uint64_t old, const void *prior)
{
	if (st_frozen(old)) {
		stat(c, free_frozen);
		if (slab_owner(slab) != cpu)
			stat(c, free_remote);
	} else if (!prior) {		/* was full: the cpu partial slab now */
		put_cpu_partial(s, c, slab, 1);
		stat(c, cpu_partial_free);
	}
}

/* __slab_free: the slab is not the thread's active slab. */
static __attribute__((noinline)) void slab_free_slow(struct mmb_kmem_cache *s,
						    struct slab_cpu *c, int cpu,
						    struct mmb_page *slab, void *object,
						    uintptr_t addr)
{
	char *base = slab_address(s->sl, slab);
	uint64_t fl1 = (uint64_t)((char *)object - base) + 1, old, new;
	int locked = 0, on_node_partial = 0;
	void *prior;

	stat(c, free_slowpath);
	if (unlikely(kmem_cache_debug(s))) {
		free_debug(s, c, cpu, slab, object, addr);
		return;
	}
	old = slab_state(slab);
	for (;;) {
		if (locked) {
			pthread_mutex_unlock(&s->list_lock);
			locked = 0;
		}
		prior = fl_ptr_at(base, st_fl1(old));
		if (unlikely(s->harden && prior == object)) {
			slab_naive_double_free(s, c, slab, object);
			return;
		}
		set_fp(s, object, prior);
		new = st_free_one(old, fl1);
		if (slab_free_needs_lock(s, c, old, new, prior)) {
			pthread_mutex_lock(&s->list_lock);
			locked = 1;
			on_node_partial = !!(ld64(&slab->priv[3]) & MISC_NODE_PARTIAL);
		}
		if (likely(slab_cas(slab, &old, new)))
			break;
		stat(c, cmpxchg_double_fail);
	}
	if (unlikely(locked))
		slab_free_locked(s, c, slab, prior, new, on_node_partial);
	else
		slab_free_unlocked(s, c, cpu, slab, old, prior);
}

/*
 * __slab_free's common case, for the sheaf flush's loop: a compare-and-swap
 * that leaves the slab's list membership as it is, or makes it the
 * thread's cpu partial slab (no list_lock either way). 0 when the free
 * needs list_lock, or is the hardened check's naive double free: nothing
 * was done, and slab_free_slow() does it from the start.
 */
static __attribute__((always_inline)) inline int slab_free_nolock(struct mmb_kmem_cache *s,
								  struct slab_cpu *c, int cpu,
								  struct mmb_page *slab, void *object)
{
	char *base = slab_address(s->sl, slab);
	uint64_t fl1 = (uint64_t)((char *)object - base) + 1, old = slab_state(slab), new;
	void *prior;

	for (;;) {
		prior = fl_ptr_at(base, st_fl1(old));
		new = st_free_one(old, fl1);
		if (slab_free_needs_lock(s, c, old, new, prior))
			return 0;
		if (unlikely(s->harden && prior == object))
			return 0;
		set_fp(s, object, prior);
		if (likely(slab_cas(slab, &old, new)))
			break;
		stat(c, cmpxchg_double_fail);
	}
	stat(c, free_slowpath);
	slab_free_unlocked(s, c, cpu, slab, old, prior);
	return 1;
}

/*
 * do_slab_free's fast path: the object is in the thread's active slab
 * (recognized by address, so the slab's descriptor is not read). 0 if not.
 * harden is s->harden, or 0 from a caller that knows it is.
 */
static __attribute__((always_inline)) inline int cpu_free_fast(struct mmb_kmem_cache *s,
							       struct slab_cpu *c, void *object,
							       int harden)
{
	if (likely((uintptr_t)object - (uintptr_t)c->slab_addr < c->slab_bytes)) {
		if (unlikely(harden && object == c->freelist)) {
			slab_naive_double_free(s, c, c->slab, object);
			return 1;
		}
		set_fp_h(s, object, c->freelist, harden);
		c->freelist = object;
		stat(c, free_fastpath);
		return 1;
	}
	return 0;
}

/* free_to_pcs(): push onto the main sheaf sh, which has room. */
static inline void pcs_free_fast(struct slab_cpu *c, struct slab_sheaf *sh, void *object)
{
	unsigned n = sh->size;

	sh->objects[n] = object;
	sh->size = n + 1;
	stat(c, free_pcs);
}

/* free_to_pcs() when the cache has sheaves, else the active slab. */
static __attribute__((always_inline)) inline int slab_free_fast(struct mmb_kmem_cache *s,
								struct slab_cpu *c, void *object,
								int harden)
{
	struct slab_sheaf *sh = c->main;

	if (likely(sh)) {
		if (likely(sh->size < sh->capacity)) {
			pcs_free_fast(c, sh, object);
			return 1;
		}
		return 0;
	}
	if (s->sheaf_capacity)
		return 0;
	return cpu_free_fast(s, c, object, harden);
}

static int pcs_free_slow(struct mmb_kmem_cache *s, struct slab_cpu *c, int cpu, void *object);

static inline void slab_free(struct mmb_kmem_cache *s, struct mmb_page *slab, void *object,
			     unsigned orig, uintptr_t addr)
{
	int cpu;
	struct slab_cpu *c = slab_this_slot(s, &cpu);

	if (likely(c)) {
		c->req_bytes -= orig;
		if (likely(slab_free_fast(s, c, object, s->harden)))
			return;
		if (s->sheaf_capacity && (pcs_free_slow(s, c, cpu, object) ||
					  cpu_free_fast(s, c, object, s->harden)))
			return;
	} else {
		atomic_fetch_add(&s->unslotted_frees, 1);
	}
	slab_free_slow(s, c, cpu, slab, object, addr);
}

/* ---- sheaves (6.18: per-CPU object arrays and the node's barn) ---- */

/*
 * A sheaf's slots above its size keep stale pointers to objects already
 * handed out, and the slots below it point at free objects: with kmemleak
 * on, neither may count as a reference, so the whole array is ignored by
 * the scan while the sheaf lives (as s->cpu is).
 */
static struct slab_sheaf *sheaf_alloc(const struct mmb_kmem_cache *s)
{
	size_t bytes = sizeof(struct slab_sheaf) + s->sheaf_capacity * sizeof(void *);
	struct slab_sheaf *sh = malloc(bytes);

	if (sh) {
		sh->next = NULL;
		sh->size = 0;
		sh->capacity = s->sheaf_capacity;
		if (s->sl->kml && mmb_kmemleak_ignore_range(s->sl->kml, sh, bytes)) {
			free(sh);
			return NULL;
		}
	}
	return sh;
}

/* The slots are scrubbed first: freed heap memory (glibc's free chunks,
 * ASan's quarantine) is scanned too, and stale slots there would hide leaks. */
static void sheaf_release(const struct mmb_kmem_cache *s, struct slab_sheaf *sh)
{
	if (sh && s->sl->kml) {
		memset(sh->objects, 0, s->sheaf_capacity * sizeof(void *));
		mmb_kmemleak_unignore_range(s->sl->kml, sh);
	}
	free(sh);
}

/*
 * refill_sheaf() -> __kmem_cache_alloc_bulk(): the thread's freelist, all
 * of it that fits at once, then ___slab_alloc() for the next slab's first
 * object (which leaves the rest on the freelist), until the sheaf is full
 * or no slab can be had.
 */
static void sheaf_refill(struct mmb_kmem_cache *s, struct slab_cpu *c, int cpu,
			 struct slab_sheaf *sh)
{
	unsigned n = sh->size, first = n;

	while (n < sh->capacity) {
		void *object = c->freelist;

		if (object) {
			unsigned k = n;

			do {
				sh->objects[n++] = object;
				object = get_fp(s, object);
			} while (object && n < sh->capacity);
			c->freelist = object;
			stat_add(c, ST_alloc_fastpath, n - k);
			continue;
		}
		object = slab_alloc_cpu(s, c, cpu);	/* slab_alloc_slow()'s start, inline */
		if (object)
			stat(c, alloc_slowpath);
		else if (!(object = slab_alloc_slow(s, c, cpu, 0, 0)))
			break;
		sh->objects[n++] = object;
	}
	sh->size = n;
	stat_add(c, ST_sheaf_refill, n - first);
}

/*
 * sheaf_flush_unused(): every object back to its slab (c may be NULL), one
 * at a time as do_slab_free() would take it. The kernel's bulk free joins
 * the objects of one slab met within a lookahead of three into a detached
 * freelist; for a sheaf filled by frees in no slab order that averaged
 * 1.04 objects per list (bench slab's batch) and its scan cost more than
 * the compare-and-swaps it saved, so it is not modelled.
 */
static void sheaf_flush(struct mmb_kmem_cache *s, struct slab_cpu *c, int cpu,
			struct slab_sheaf *sh)
{
	stat_add(c, ST_sheaf_flush, sh->size);
	while (sh->size) {
		void *object = sh->objects[--sh->size];
		struct mmb_page *slab;

		if (c && cpu_free_fast(s, c, object, s->harden))
			continue;
		slab = virt_to_slab(s->sl, object);
		if (!c || !slab_free_nolock(s, c, cpu, slab, object))
			slab_free_slow(s, c, cpu, slab, object, 0);
	}
}

/* __pcs_replace_empty_main(), then the pop. NULL: fall back to the slabs. */
static __attribute__((noinline)) void *pcs_alloc_slow(struct mmb_kmem_cache *s,
						      struct slab_cpu *c, int cpu)
{
	struct slab_sheaf *sh = c->main, *full = NULL, *to_free = NULL;

	if (!sh) {
		sh = c->main = sheaf_alloc(s);
		if (!sh)
			return NULL;
	}
	if (c->spare && c->spare->size) {
		c->main = c->spare;
		c->spare = sh;
		goto pop;
	}
	pthread_mutex_lock(&s->barn_lock);
	if (s->barn_full) {
		full = s->barn_full;
		s->barn_full = full->next;
		s->nr_full--;
		if (s->nr_empty < MAX_EMPTY_SHEAVES) {
			sh->next = s->barn_empty;
			s->barn_empty = sh;
			s->nr_empty++;
		} else {
			to_free = sh;
		}
		c->main = full;
	}
	pthread_mutex_unlock(&s->barn_lock);
	if (to_free)
		sheaf_release(s, to_free);
	if (full) {
		stat(c, barn_get);
		goto pop;
	}
	stat(c, barn_get_fail);
	sheaf_refill(s, c, cpu, sh);
	if (!sh->size)
		return NULL;
pop:
	stat(c, alloc_pcs);
	return c->main->objects[--c->main->size];
}

/* __pcs_replace_full_main(), then the push. 0: free it the regular way. */
static __attribute__((noinline)) int pcs_free_slow(struct mmb_kmem_cache *s, struct slab_cpu *c,
						   int cpu, void *object)
{
	struct slab_sheaf *sh = c->main, *empty = NULL;
	int put = 0;

	if (!sh) {
		sh = c->main = sheaf_alloc(s);
		if (!sh)
			return 0;
		goto push;
	}
	if (c->spare && c->spare->size < s->sheaf_capacity) {
		c->main = c->spare;
		c->spare = sh;
		goto push;
	}
	pthread_mutex_lock(&s->barn_lock);
	if (s->nr_full < MAX_FULL_SHEAVES) {
		empty = s->barn_empty;
		if (empty) {
			s->barn_empty = empty->next;
			s->nr_empty--;
		}
		sh->next = s->barn_full;
		s->barn_full = sh;
		s->nr_full++;
		put = 1;
	}
	pthread_mutex_unlock(&s->barn_lock);
	if (put) {
		stat(c, barn_put);
		c->main = empty ? empty : sheaf_alloc(s);
		if (!c->main)
			return 0;
		c->main->size = 0;
		goto push;
	}
	stat(c, barn_put_fail);
	if (!c->spare) {
		c->spare = sh;
		c->main = sheaf_alloc(s);
		if (!c->main)
			return 0;
	} else {
		sheaf_flush(s, c, cpu, sh);
	}
push:
	c->main->objects[c->main->size++] = object;
	stat(c, free_pcs);
	return 1;
}

/* A slot's sheaves back to the slabs (thread detach, destroy, shrink). */
static void pcs_flush_cpu(struct mmb_kmem_cache *s, struct slab_cpu *c, int cpu)
{
	struct slab_sheaf *sh[2] = { c->main, c->spare };

	c->main = c->spare = NULL;
	for (int i = 0; i < 2; i++)
		if (sh[i]) {
			sheaf_flush(s, c, cpu, sh[i]);
			sheaf_release(s, sh[i]);
		}
}

/* The barn's full sheaves back to the slabs; its empty ones freed. */
static void barn_shrink(struct mmb_kmem_cache *s, struct slab_cpu *c, int cpu)
{
	struct slab_sheaf *full, *empty;

	pthread_mutex_lock(&s->barn_lock);
	full = s->barn_full;
	empty = s->barn_empty;
	s->barn_full = s->barn_empty = NULL;
	s->nr_full = s->nr_empty = 0;
	pthread_mutex_unlock(&s->barn_lock);
	while (full) {
		struct slab_sheaf *next = full->next;

		sheaf_flush(s, c, cpu, full);
		sheaf_release(s, full);
		full = next;
	}
	while (empty) {
		struct slab_sheaf *next = empty->next;

		sheaf_release(s, empty);
		empty = next;
	}
}

/* A pointer no slab or large kmalloc owns: reported when debugging. */
static void slab_free_invalid(struct mmb_slab *sl, struct mmb_kmem_cache *s, const void *p,
			      struct mmb_page *slab)
{
	int cpu = slab_this_cpu(sl);

	if (s && cpu >= 0)
		stat(&s->cpu[cpu], free_invalid);
	if (!(s ? kmem_cache_debug(s) : sl->any_debug))
		return;
	report_lock(sl);
	if (s && slab) {
		object_err(s, slab, (void *)p, "page slab pointer corrupt.");
	} else if (s) {
		slab_bug(s, "Attempt to free object(0x%016lx) outside of slab",
			 (unsigned long)(uintptr_t)p);
	} else {
		atomic_fetch_add(&sl->nr_reports, 1);
		fprintf(sl->report, "WARNING: kfree: object pointer 0x%016lx is not from this allocator\n",
			(unsigned long)(uintptr_t)p);
	}
	report_unlock(sl);
}

/* ---- cache creation: calculate_sizes, calculate_order ---- */

static inline unsigned kmalloc_index(size_t size);

static unsigned calc_slab_order(unsigned size, unsigned min_order, unsigned max_order,
				unsigned fract_leftover)
{
	unsigned order;

	for (order = min_order; order <= max_order; order++) {
		unsigned long slab_size = MMB_PAGE_SIZE << order;

		if (slab_size % size <= slab_size / fract_leftover)
			break;
	}
	return order;
}

static int calculate_order(const struct mmb_slab *sl, unsigned size)
{
	unsigned min_objects = sl->min_objects, max_objects, min_order, order;

	if (!min_objects)
		min_objects = 4 * (fls_u(sl->nr_cpus) + 1);
	max_objects = order_objects(sl->max_order, size);
	if (max_objects < 1)
		max_objects = 1;
	if (min_objects > max_objects)
		min_objects = max_objects;
	min_order = get_order((unsigned long)min_objects * size);
	if (min_order < sl->min_order)
		min_order = sl->min_order;
	if (order_objects(min_order, size) > MAX_OBJS_PER_PAGE)
		return (int)get_order((unsigned long)size * MAX_OBJS_PER_PAGE) - 1;
	for (unsigned fraction = 16; fraction > 1; fraction /= 2) {
		order = calc_slab_order(size, min_order, sl->max_order, fraction);
		if (order <= sl->max_order)
			return (int)order;
	}
	order = get_order(size);
	return order <= MMB_MAX_ORDER ? (int)order : -ENOSYS;
}

static int calculate_sizes(struct mmb_kmem_cache *s)
{
	unsigned flags = s->flags, size = (s->object_size + 7) & ~7u;
	int order;

	if ((flags & MMB_SLAB_POISON) && !s->ctor)
		s->flags |= OBJECT_POISON;
	else
		s->flags &= ~OBJECT_POISON;
	if ((flags & MMB_SLAB_RED_ZONE) && size == s->object_size)
		size += sizeof(void *);
	s->inuse = size;
	if ((flags & MMB_SLAB_POISON) || s->ctor ||
	    ((flags & MMB_SLAB_RED_ZONE) && (s->object_size < sizeof(void *) || slub_debug_orig_size(s)))) {
		s->offset = size;
		size += sizeof(void *);
	} else {
		s->offset = (s->object_size / 2) & ~7u;
	}
	if (flags & MMB_SLAB_STORE_USER) {
		size += 2 * sizeof(struct slab_track);
		if (flags & SLAB_KMALLOC)
			size += sizeof(unsigned);
	}
	if (flags & MMB_SLAB_RED_ZONE) {
		size += sizeof(void *);
		s->red_left_pad = (sizeof(void *) + s->align - 1) & ~(s->align - 1);
		size += s->red_left_pad;
	}
	size = (size + s->align - 1) & ~(s->align - 1);
	s->size = size;
	order = calculate_order(s->sl, size);
	if (order < 0)
		return order;
	s->oo_order = (unsigned)order;
	s->oo_objects = order_objects((unsigned)order, size);
	s->min_order = get_order(size);
	s->min_objects = order_objects(s->min_order, size);
	return s->oo_objects ? 0 : -EINVAL;
}

/*
 * calculate_sheaf_capacity() of the "sheaves for all caches" series (v1,
 * 2025-10, on 6.18): half the old cpu_partial objects by size (two sheaves
 * per CPU), grown so that the kernel's struct slab_sheaf (a 32-byte header
 * and the object pointers) fills its kmalloc size class exactly. Debug
 * caches have none (the caller).
 */
static unsigned calculate_sheaf_capacity(const struct mmb_kmem_cache *s)
{
	const unsigned hdr = 32;
	unsigned capacity, bytes, idx;

	if (s->size >= MMB_PAGE_SIZE)
		capacity = 4;
	else if (s->size >= 1024)
		capacity = 12;
	else if (s->size >= 256)
		capacity = 26;
	else
		capacity = 60;
	bytes = hdr + capacity * (unsigned)sizeof(void *);
	/* kmalloc_size_roundup(): the class size (all of these are <= 8k) */
	idx = kmalloc_index(bytes);
	bytes = idx == 1 ? 96 : idx == 2 ? 192 : 1u << idx;
	return (bytes - hdr) / (unsigned)sizeof(void *);
}

/* The debug flags cfg->debug gives to a cache called name. */
static unsigned slab_debug_flags(const char *debug, const char *name)
{
	unsigned global = 0, flags = 0;
	int matched = 0;
	const char *blk = debug;

	while (blk && *blk) {
		const char *end = strchr(blk, ';'), *colon;
		size_t blen = end ? (size_t)(end - blk) : strlen(blk);
		unsigned f = 0;
		int letters = 0;

		colon = memchr(blk, ':', blen);
		for (const char *q = blk; q < (colon ? colon : blk + blen); q++, letters++)
			switch (toupper((unsigned char)*q)) {
			case 'F': f |= MMB_SLAB_CONSISTENCY_CHECKS; break;
			case 'Z': f |= MMB_SLAB_RED_ZONE; break;
			case 'P': f |= MMB_SLAB_POISON; break;
			case 'U': f |= MMB_SLAB_STORE_USER; break;
			default: break;	/* '-': none */
			}
		if (!colon) {
			global = f;
		} else {
			const char *n = colon + 1, *bend = blk + blen;

			if (!letters)
				f = MMB_SLAB_DEBUG_FLAGS;
			while (n < bend && !matched) {
				const char *ne = memchr(n, ':', (size_t)(bend - n));
				size_t nl = ne ? (size_t)(ne - n) : (size_t)(bend - n);

				if (nl && n[nl - 1] == '*')
					matched = !strncmp(name, n, nl - 1);
				else
					matched = strlen(name) == nl && !strncmp(name, n, nl);
				if (matched)
					flags = f;
				n = ne ? ne + 1 : bend;
			}
		}
		blk = end ? end + 1 : NULL;
	}
	return matched ? flags : global;
}

int mmb_slab_parse_debug(const char *s, char *err, size_t errlen)
{
	int in_names = 0;

	for (const char *q = s ? s : ""; *q; q++) {
		if (*q == ';') {
			in_names = 0;
		} else if (*q == ':') {
			in_names = 1;
		} else if (!in_names && !strchr("FZPUfzpu-", *q)) {
			snprintf(err, errlen, "debug '%s': unknown letter '%c' (use F Z P U or -; "
				 "blocks LETTERS[:cache:...] separated by ';')", s, *q);
			return -EINVAL;
		}
	}
	return 0;
}

static int slab_cache_init(struct mmb_slab *sl, struct mmb_kmem_cache *s, const char *name,
			   unsigned size, unsigned align, unsigned flags, void (*ctor)(void *),
			   char *err, size_t errlen)
{
	int rc;

	if (!name || !*name || strlen(name) >= SLAB_NAME_MAX) {
		snprintf(err, errlen, "kmem_cache_create: name must be 1..%d characters", SLAB_NAME_MAX - 1);
		return -EINVAL;
	}
	if (size < 1 || size > MMB_KMALLOC_MAX_CACHE_SIZE) {
		snprintf(err, errlen, "kmem_cache_create %s: size %u outside 1..%d", name, size,
			 MMB_KMALLOC_MAX_CACHE_SIZE);
		return -EINVAL;
	}
	if (align & (align - 1) || (align > MMB_PAGE_SIZE && !(flags & SLAB_KMALLOC))) {
		snprintf(err, errlen, "kmem_cache_create %s: align %u is not a power of two <= %lu",
			 name, align, MMB_PAGE_SIZE);
		return -EINVAL;
	}
	if (flags & ~(MMB_SLAB_DEBUG_FLAGS | MMB_SLAB_HWCACHE_ALIGN | SLAB_KMALLOC)) {
		snprintf(err, errlen, "kmem_cache_create %s: unknown flags %#x", name, flags);
		return -EINVAL;
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->sl = sl;
	s->sl_id = sl->id;
	s->object_size = size;
	s->ctor = ctor;
	s->flags = flags | slab_debug_flags(sl->debug, name);
	s->harden = sl->harden;
	/* calculate_alignment */
	if ((flags & MMB_SLAB_HWCACHE_ALIGN) && align < 64) {
		unsigned ralign = 64;

		while (size <= ralign / 2 && ralign > 8)
			ralign /= 2;
		align = align > ralign ? align : ralign;
	}
	s->align = align < 8 ? 8 : align;
	if (getrandom(&s->random, sizeof(s->random), 0) != sizeof(s->random))
		s->random = (uint64_t)(uintptr_t)s ^ 0x9e3779b97f4a7c15ULL;
	rc = calculate_sizes(s);
	if (rc) {
		snprintf(err, errlen, "kmem_cache_create %s: no slab order fits size %u", name, s->size);
		return rc;
	}
	/* set_min_partial, set_cpu_partial */
	s->min_partial = sl->min_partial >= 0 ? (unsigned)sl->min_partial
					       : (fls_u(s->size) - 1) / 2;
	if (sl->min_partial < 0)
		s->min_partial = s->min_partial < MIN_PARTIAL ? MIN_PARTIAL
			       : s->min_partial > MAX_PARTIAL ? MAX_PARTIAL : s->min_partial;
	if (kmem_cache_debug(s))
		s->cpu_partial = 0;
	else if (sl->cpu_partial >= 0)
		s->cpu_partial = (unsigned)sl->cpu_partial;
	else
		s->cpu_partial = s->size >= MMB_PAGE_SIZE ? 6 : s->size >= 1024 ? 24
			       : s->size >= 256 ? 52 : 120;
	s->cpu_partial_slabs = (s->cpu_partial * 2 + s->oo_objects - 1) / s->oo_objects;
	s->sheaf_capacity = kmem_cache_debug(s) ? 0 : sl->sheaf_capacity >= 0
			  ? (unsigned)sl->sheaf_capacity : calculate_sheaf_capacity(s);
	s->cpu = aligned_alloc(64, sizeof(struct slab_cpu) * SLAB_NSLOTS);
	if (!s->cpu) {
		snprintf(err, errlen, "kmem_cache_create %s: out of memory", name);
		return -ENOMEM;
	}
	memset(s->cpu, 0, sizeof(struct slab_cpu) * SLAB_NSLOTS);
	if (sl->kml)	/* its active-slab addresses are no references */
		mmb_kmemleak_ignore_range(sl->kml, s->cpu, sizeof(struct slab_cpu) * SLAB_NSLOTS);
	pthread_mutex_init(&s->list_lock, NULL);
	pthread_mutex_init(&s->barn_lock, NULL);
	if (kmem_cache_debug(s))
		sl->any_debug = 1;
	return 0;
}

int mmb_kmem_cache_create(struct mmb_slab *sl, const char *name, unsigned size, unsigned align,
			  unsigned flags, void (*ctor)(void *obj), struct mmb_kmem_cache **r_s,
			  char *err, size_t errlen)
{
	struct mmb_kmem_cache *s = malloc(sizeof(*s));
	int rc;

	if (!s) {
		snprintf(err, errlen, "kmem_cache_create %s: out of memory", name ? name : "");
		return -ENOMEM;
	}
	rc = slab_cache_init(sl, s, name, size, align, flags & ~SLAB_KMALLOC, ctor, err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	pthread_mutex_lock(&sl->slab_mutex);
	s->next = sl->caches;
	sl->caches = s;
	pthread_mutex_unlock(&sl->slab_mutex);
	*r_s = s;
	return 0;
}

/* Objects not free in a slab (quiescent): 1 bits in map for free ones. */
static unsigned slab_free_map(struct mmb_kmem_cache *s, struct mmb_page *slab, uint8_t *map,
			      int *r_bad)
{
	char *base = slab_address(s->sl, slab);
	uint64_t st = slab_state(slab);
	unsigned objects = st_objects(st), nfree = 0;
	void *lists[2] = { fl_ptr(s->sl, slab, st_fl1(st)), NULL };
	int owner = slab_owner(slab);

	memset(map, 0, (objects + 7) / 8);
	if (st_frozen(st) && owner >= 0 && s->cpu[owner].slab == slab)
		lists[1] = s->cpu[owner].freelist;
	for (int l = 0; l < 2; l++)
		for (void *p = lists[l]; p; p = get_fp(s, p)) {
			unsigned i;

			if (!check_valid_pointer(s, slab, p)) {
				*r_bad = 1;
				break;
			}
			i = (unsigned)(((char *)p - s->red_left_pad - base) / s->size);
			if (map[i / 8] & (1u << (i % 8))) {
				*r_bad = 2;
				break;
			}
			map[i / 8] |= (uint8_t)(1u << (i % 8));
			nfree++;
		}
	return nfree;
}

/* The slabs of s (each head page), found by walking the page descriptors. */
#define for_each_slab(sl, s, page)                                                          \
	for (struct mmb_page *page = (sl)->pm->pages; page < (sl)->pm->pages + (sl)->pm->nr_pfns; \
	     page++)                                                                          \
		if ((page->flags & MMB_PG_SLAB) && page->owner == (s))

unsigned long mmb_kmem_cache_destroy(struct mmb_kmem_cache *s)
{
	struct mmb_slab *sl = s->sl;
	unsigned long remaining = 0;
	uint8_t map[(MAX_OBJS_PER_PAGE + 8) / 8];

	pthread_mutex_lock(&sl->slab_mutex);
	for (struct mmb_kmem_cache **pp = &sl->caches; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	pthread_mutex_unlock(&sl->slab_mutex);
	barn_shrink(s, NULL, -1);
	for (int cpu = 0; cpu < SLAB_NSLOTS; cpu++)
		flush_slab_cpu(s, &s->cpu[cpu]);
	for_each_slab(sl, s, slab) {
		int bad = 0;
		unsigned objects = st_objects(slab_state(slab)), nfree, inuse;

		nfree = slab_free_map(s, slab, map, &bad);
		inuse = objects - nfree;
		if (inuse) {
			char *base = slab_address(sl, slab);

			report_lock(sl);
			slab_err(s, slab, "Objects remaining in %s on __kmem_cache_shutdown()", s->name);
			for (unsigned i = 0; i < objects; i++) {
				char *p = slab_obj(s, base, i);

				if (map[i / 8] & (1u << (i % 8)))
					continue;
				fprintf(sl->report, "Object 0x%016lx @offset=%lu\n",
					(unsigned long)(uintptr_t)p, (unsigned long)(p - base));
				print_tracking(s, p);
			}
			report_unlock(sl);
			remaining += inuse;
		}
		discard_slab(s, slab);
	}
	if (remaining) {
		report_lock(sl);
		atomic_fetch_add(&sl->nr_reports, 1);
		fprintf(sl->report, "kmem_cache_destroy %s: Slab cache still has objects (%lu)\n",
			s->name, remaining);
		report_unlock(sl);
	}
	pthread_mutex_destroy(&s->list_lock);
	pthread_mutex_destroy(&s->barn_lock);
	if (sl->kml)
		mmb_kmemleak_unignore_range(sl->kml, s->cpu);
	free(s->cpu);
	free(s);
	return remaining;
}

unsigned long mmb_kmem_cache_shrink(struct mmb_kmem_cache *s)
{
	int cpu = slab_this_cpu(s->sl);
	struct slab_cpu *c = cpu >= 0 ? &s->cpu[cpu] : NULL;
	struct mmb_page *discard = NULL, *slab, *next;
	unsigned long n = 0;

	if (c)
		flush_slab_cpu(s, c);
	barn_shrink(s, c, cpu);
	pthread_mutex_lock(&s->list_lock);
	for (slab = s->partial_head; slab; slab = next) {
		next = slab_next(slab);
		if (!st_inuse(slab_state(slab))) {
			remove_partial(s, slab);
			slab->priv[1] = (uintptr_t)discard;
			discard = slab;
		}
	}
	pthread_mutex_unlock(&s->list_lock);
	for (; discard; discard = next, n++) {
		next = slab_next(discard);
		stat(c, free_slab);
		discard_slab(s, discard);
	}
	return n;
}

static void *slab_hook_alloc(struct mmb_slab *sl, struct mmb_kmem_cache *s, size_t size,
			     size_t align, uintptr_t addr);
static int slab_hook_free(struct mmb_slab *sl, const void *p);

void *mmb_kmem_cache_alloc(struct mmb_kmem_cache *s)
{
	if (unlikely(s->sl->hooks))
		return slab_hook_alloc(s->sl, s, s->object_size, 0,
				       (uintptr_t)__builtin_return_address(0));
	return slab_alloc(s, s->object_size, (uintptr_t)__builtin_return_address(0));
}

void mmb_kmem_cache_free(struct mmb_kmem_cache *s, void *obj)
{
	struct mmb_page *slab;

	if (unlikely(s->sl->hooks) && slab_hook_free(s->sl, obj))
		return;
	slab = virt_to_slab(s->sl, obj);

	if (unlikely(!slab || slab->owner != s)) {
		slab_free_invalid(s->sl, s, obj, slab);
		return;
	}
	slab_free(s, slab, obj, s->object_size, (uintptr_t)__builtin_return_address(0));
}

void mmb_kmem_cache_get_info(const struct mmb_kmem_cache *s, struct mmb_kmem_cache_info *r_info)
{
	*r_info = (struct mmb_kmem_cache_info){
		.name = s->name, .object_size = s->object_size, .size = s->size, .align = s->align,
		.offset = s->offset, .inuse = s->inuse, .red_left_pad = s->red_left_pad,
		.order = s->oo_order, .objects = s->oo_objects, .min_order = s->min_order,
		.min_objects = s->min_objects, .min_partial = s->min_partial,
		.cpu_partial = s->cpu_partial, .cpu_partial_slabs = s->cpu_partial_slabs,
		.sheaf_capacity = s->sheaf_capacity,
		.flags = s->flags & (MMB_SLAB_DEBUG_FLAGS | MMB_SLAB_HWCACHE_ALIGN),
	};
}

/* ---- kmalloc ---- */

/* kmalloc_size_index[(size - 1) / 8] for sizes <= 192 (slab_common.c). */
static const uint8_t kmalloc_size_index[24] = {
	3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* The small sizes are the straight line (most programs' requests; the
 * kernel's code has no hint and GCC laid the table lookup out as a jump out
 * and back): best of 15 runs of 10M pairs of 64 B through the registry,
 * pinned, 3.13 ns before and 3.01 ns after, 15% less while the CPU ran slowly
 * (5.6-6.2 ns before, 4.65-5.2 after); the 1000-block batch of 1..512 B did
 * not get slower. */
static inline unsigned kmalloc_index(size_t size)
{
	if (likely(size <= 192))
		return kmalloc_size_index[(size - 1) / 8];
	return fls_u(size - 1);
}

struct mmb_kmem_cache *mmb_kmalloc_cache(struct mmb_slab *sl, size_t size)
{
	if (!size || size > MMB_KMALLOC_MAX_CACHE_SIZE)
		return NULL;
	return sl->kmalloc_caches[kmalloc_index(size)];
}

static void *kmalloc_large(struct mmb_slab *sl, size_t size)
{
	unsigned order = get_order(size);
	struct mmb_page *page;

	page = order <= MMB_MAX_ORDER ? mmb_alloc_pages(sl->b, order, MMB_MT_UNMOVABLE) : NULL;
	if (!page)
		return NULL;
	page->owner = &sl->large_owner;
	page->priv[0] = order;
	atomic_fetch_add(&sl->large_pages, 1L << order);
	atomic_fetch_add(&sl->large_allocs, 1);
	return mmb_page_address(sl->pm, page);
}

static inline void *slab_kmalloc(struct mmb_slab *sl, size_t size, uintptr_t addr)
{
	if (unlikely(sl->hooks) && size)
		return slab_hook_alloc(sl, mmb_kmalloc_cache(sl, size), size, 0, addr);
	if (likely(size - 1 < MMB_KMALLOC_MAX_CACHE_SIZE))
		return slab_alloc(sl->kmalloc_caches[kmalloc_index(size)], (unsigned)size, addr);
	if (!size)
		return MMB_ZERO_SIZE_PTR;
	return kmalloc_large(sl, size);
}

/* A free without the size asked for: from now on the caches' requested
 * bytes (allocs add the request, this free could only take the object
 * size) are not exact, and slabstats says so. One relaxed load per free
 * once set. */
static inline void slab_req_unknown(struct mmb_slab *sl)
{
	if (unlikely(!atomic_load_explicit(&sl->req_unknown, memory_order_relaxed)))
		atomic_store_explicit(&sl->req_unknown, 1, memory_order_relaxed);
}

static inline void slab_kfree(struct mmb_slab *sl, const void *p, size_t orig, uintptr_t addr)
{
	struct mmb_page *slab;

	if (unlikely(p == MMB_ZERO_SIZE_PTR || !p))
		return;
	if (unlikely(sl->hooks) && slab_hook_free(sl, p))
		return;
	slab = virt_to_slab(sl, p);
	if (likely(slab)) {
		struct mmb_kmem_cache *s = slab->owner;

		if (!orig)
			slab_req_unknown(sl);
		slab_free(s, slab, (void *)p, orig ? (unsigned)orig : s->object_size, addr);
		return;
	}
	if (mmb_pmem_contains(sl->pm, p)) {
		struct mmb_page *page = mmb_virt_to_page(sl->pm, p);

		if (page->owner == &sl->large_owner && mmb_page_address(sl->pm, page) == p) {
			unsigned order = (unsigned)page->priv[0];

			page->owner = NULL;
			page->priv[0] = 0;
			atomic_fetch_sub(&sl->large_pages, 1L << order);
			atomic_fetch_add(&sl->large_frees, 1);
			mmb_free_pages(sl->b, page, order);
			return;
		}
	}
	slab_free_invalid(sl, NULL, p, NULL);
}

/*
 * The detectors' hooks, called only when sl->hooks: KFENCE may serve the
 * allocation (kfence_alloc in slab_alloc_node), kmemleak tracks it
 * (slab_post_alloc_hook, kmalloc_large); a free is forgotten by kmemleak
 * and goes to KFENCE when its pool holds it (slab_free_hook, kfree).
 */
static __attribute__((noinline)) void *slab_hook_alloc(struct mmb_slab *sl,
						       struct mmb_kmem_cache *s, size_t size,
						       size_t align, uintptr_t addr)
{
	void *p = NULL;

	if (sl->kfence && s)
		p = mmb_kfence_alloc(sl->kfence, size, align, s->name);
	if (!p)
		p = s ? slab_alloc(s, (unsigned)size, addr) : kmalloc_large(sl, size);
	if (p && sl->kml)
		mmb_kmemleak_alloc(sl->kml, p, size, 1);
	return p;
}

/* 1 when p was KFENCE's object (freed here). */
static __attribute__((noinline)) int slab_hook_free(struct mmb_slab *sl, const void *p)
{
	if (sl->kml)
		mmb_kmemleak_free(sl->kml, p);
	if (sl->kfence && mmb_kfence_owns(sl->kfence, p)) {
		mmb_kfence_free(sl->kfence, p);
		return 1;
	}
	return 0;
}

void *mmb_kmalloc(struct mmb_slab *sl, size_t size)
{
	return slab_kmalloc(sl, size, (uintptr_t)__builtin_return_address(0));
}

void mmb_kfree(struct mmb_slab *sl, const void *p)
{
	slab_kfree(sl, p, 0, (uintptr_t)__builtin_return_address(0));
}

/* slab_ksize(): what a caller may use of an object of s. */
static inline size_t slab_ksize(const struct mmb_kmem_cache *s)
{
	if (s->flags & (MMB_SLAB_RED_ZONE | MMB_SLAB_POISON))
		return s->object_size;
	if (s->flags & MMB_SLAB_STORE_USER)
		return s->inuse;
	return s->size;
}

size_t mmb_ksize(struct mmb_slab *sl, const void *p)
{
	struct mmb_page *slab;

	if (!p || p == MMB_ZERO_SIZE_PTR)
		return 0;
	if (unlikely(sl->hooks) && sl->kfence && mmb_kfence_owns(sl->kfence, p))
		return mmb_kfence_ksize(sl->kfence, p);
	slab = virt_to_slab(sl, p);
	if (!slab) {
		struct mmb_page *page;

		if (!mmb_pmem_contains(sl->pm, p))
			return 0;
		page = mmb_virt_to_page(sl->pm, p);
		return page->owner == &sl->large_owner ? MMB_PAGE_SIZE << page->priv[0] : 0;
	}
	return slab_ksize(slab->owner);
}

size_t mmb_ksize_claim(struct mmb_slab *sl, const void *p)
{
	size_t n = mmb_ksize(sl, p);
	struct mmb_page *slab = n ? virt_to_slab(sl, p) : NULL;
	struct mmb_kmem_cache *s = slab ? slab->owner : NULL;

	/* skip_orig_size_check(): the kmalloc red zone now starts at the end */
	if (s && slub_debug_orig_size(s) && check_valid_pointer(s, slab, p))
		set_orig_size(s, (void *)p, s->object_size);
	return n;
}

/* ---- the malloc shim's kmalloc and kfree (preload/malloc.c) ---- */

/*
 * The shim serves malloc(size <= 8K) with kmalloc and does not know a
 * free's size, so these two are kmalloc and kfree with the sheaf fast path
 * of the registry entry inline (a sheaf pop or push, no atomics), reporting
 * the usable size the shim accounts (returned with the pointer, in two
 * registers, rather than through memory). The free reads the page descriptor,
 * as kfree does: the cache comes from there, so no size is trusted, and
 * the caches' requested bytes stop being exact (slab_req_unknown).
 * Everything else (no sheaf, an empty or full one, a thread without a
 * slot, the detectors' hooks, debug caches) takes kmalloc's or kfree's way.
 * mmb_kmalloc_sheaf and mmb_kfree_sheaf are the sheaf pop and push alone
 * (nothing done when they cannot), so that the shim's malloc and free have
 * no call on their fast path (with link-time optimization these inline
 * into them) and take their own slow path otherwise.
 */
static __attribute__((noinline)) struct mmb_kmalloc_usable
slab_kmalloc_usable_slow(struct mmb_slab *sl, size_t size, uintptr_t addr)
{
	struct mmb_kmalloc_usable r = { slab_kmalloc(sl, size, addr), 0 };

	r.usable = r.p ? mmb_ksize(sl, r.p) : 0;
	return r;
}

/* A non-debug kmalloc cache's object size by kmalloc_index (slab_ksize). */
static const uint16_t kmalloc_class_size[KMALLOC_SHIFT_HIGH + 1] = {
	0, 96, 192, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192,
};

inline struct mmb_kmalloc_usable mmb_kmalloc_sheaf(struct mmb_slab *sl, size_t size)
{
	struct mmb_kmalloc_usable r = { NULL, 0 };

	if (likely(slab_tls.id == sl->fast_key)) {
		unsigned i = kmalloc_index(size);
		struct slab_cpu *c = slab_tls.kc[i];
		struct slab_sheaf *sh = c->main;

		if (likely(sh && sh->size)) {
			/* only non-debug caches have sheaves */
			r.p = pcs_alloc_fast(c, sh, (unsigned)size);
			r.usable = kmalloc_class_size[i];
		}
	}
	return r;
}

inline struct mmb_kmalloc_usable mmb_kmalloc_usable(struct mmb_slab *sl, size_t size)
{
	struct mmb_kmalloc_usable r = mmb_kmalloc_sheaf(sl, size);

	if (likely(r.p))
		return r;
	return slab_kmalloc_usable_slow(sl, size, (uintptr_t)__builtin_return_address(0));
}

static __attribute__((noinline)) size_t slab_kfree_usable_slow(struct mmb_slab *sl, void *p,
							       uintptr_t addr)
{
	size_t usable = mmb_ksize(sl, p);

	if (usable)
		slab_kfree(sl, p, 0, addr);
	return usable;
}

inline size_t mmb_kfree_sheaf(struct mmb_slab *sl, void *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)sl->dmap;

	if (likely(slab_tls.id == sl->fast_key && off < sl->dmap_bytes)) {
		/* virt_to_slab() without the hop from a tail frame to the
		 * head: a tail frame names the cache too, and the sheaf needs
		 * no more */
		struct mmb_page *page = &sl->pages[off >> MMB_PAGE_SHIFT];

		if (likely(((page->flags & MMB_PG_SLAB) || (ld64(&page->priv[3]) & SLAB_TAIL)) &&
			   page->owner)) {
			struct mmb_kmem_cache *s = page->owner;
			struct slab_cpu *c = &s->cpu[slab_tls.cpu];
			struct slab_sheaf *sh = c->main;

			if (likely(sh && sh->size < sh->capacity)) {
				pcs_free_fast(c, sh, p);
				slab_req_unknown(sl);
				return s->size;	/* a cache with sheaves is not a debug one */
			}
		}
	}
	return 0;
}

inline size_t mmb_kfree_usable(struct mmb_slab *sl, void *p)
{
	size_t usable = mmb_kfree_sheaf(sl, p);

	if (likely(usable))
		return usable;
	return slab_kfree_usable_slow(sl, p, (uintptr_t)__builtin_return_address(0));
}

/* ---- instance ---- */

int mmb_slab_create(const struct mmb_slab_cfg *cfg, struct mmb_slab **r_sl, char *err,
		    size_t errlen)
{
	struct mmb_slab *sl;
	struct timespec ts;
	int rc;

	if (!cfg->buddy || cfg->nr_cpus < 1 || cfg->max_order > MMB_MAX_ORDER ||
	    cfg->min_order > cfg->max_order) {
		snprintf(err, errlen, "slab: bad configuration (cpus >= 1, min_order <= max_order <= %d)",
			 MMB_MAX_ORDER);
		return -EINVAL;
	}
	rc = mmb_slab_parse_debug(cfg->debug, err, errlen);
	if (rc)
		return rc;
	sl = calloc(1, sizeof(*sl));
	if (!sl) {
		snprintf(err, errlen, "slab: out of memory");
		return -ENOMEM;
	}
	sl->b = cfg->buddy;
	sl->pm = mmb_buddy_pmem(cfg->buddy);
	sl->dmap = sl->pm->dmap;
	sl->dmap_bytes = sl->pm->bytes;
	sl->pages = sl->pm->pages;
	sl->id = atomic_fetch_add(&slab_next_id, 1);
	sl->nr_cpus = cfg->nr_cpus;
	sl->min_objects = cfg->min_objects;
	sl->min_order = cfg->min_order;
	sl->max_order = cfg->max_order;
	sl->cpu_partial = cfg->cpu_partial;
	sl->min_partial = cfg->min_partial;
	sl->harden = cfg->harden;
	sl->sheaf_capacity = cfg->sheaf_capacity;
	sl->kml = cfg->kmemleak;
	sl->kfence = cfg->kfence;
	sl->hooks = sl->kml || sl->kfence;
	sl->fast_key = sl->hooks ? SLAB_KEY_NONE : sl->id;
	if (sl->kml)	/* the direct map's base, in pmem's and our metadata */
		mmb_kmemleak_ignore_value(sl->kml, sl->dmap);
	snprintf(sl->debug, sizeof(sl->debug), "%s", cfg->debug ? cfg->debug : "");
	sl->report = cfg->report ? cfg->report : stderr;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sl->t0_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	pthread_mutex_init(&sl->report_lock, NULL);
	pthread_mutex_init(&sl->slab_mutex, NULL);
	for (int k = 0; k < SLAB_OVERFLOW_SLOTS; k++)
		pthread_mutex_init(&sl->overflow_lock[k], NULL);
	/* create_kmalloc_caches(): 8 .. 8k, 96 after 64, 192 after 128 */
	for (unsigned i = KMALLOC_SHIFT_LOW; i <= KMALLOC_SHIFT_HIGH; i++) {
		unsigned idx[2] = { i, i == 6 ? 1 : i == 7 ? 2 : 0 };

		for (int k = 0; k < 2 && idx[k]; k++) {
			unsigned size = idx[k] == 1 ? 96 : idx[k] == 2 ? 192 : 1u << idx[k];
			char name[SLAB_NAME_MAX];
			struct mmb_kmem_cache *s;

			if (size >= 1024)
				snprintf(name, sizeof(name), "kmalloc-%uk", size / 1024);
			else
				snprintf(name, sizeof(name), "kmalloc-%u", size);
			s = malloc(sizeof(*s));
			if (!s) {
				snprintf(err, errlen, "slab: out of memory");
				rc = -ENOMEM;
				goto fail;
			}
			rc = slab_cache_init(sl, s, name, size, size & -size, SLAB_KMALLOC, NULL, err,
					     errlen);
			if (rc) {
				free(s);
				goto fail;
			}
			s->next = sl->caches;
			sl->caches = s;
			sl->kmalloc_caches[idx[k]] = s;
		}
	}
	*r_sl = sl;
	return 0;
fail:
	mmb_slab_destroy(sl);
	return rc;
}

void mmb_slab_destroy(struct mmb_slab *sl)
{
	while (sl->caches)
		mmb_kmem_cache_destroy(sl->caches);
	for (struct mmb_page *page = sl->pm->pages; page < sl->pm->pages + sl->pm->nr_pfns; page++)
		if (page->owner == &sl->large_owner) {
			unsigned order = (unsigned)page->priv[0];

			page->owner = NULL;
			page->priv[0] = 0;
			mmb_free_pages(sl->b, page, order);
		}
	pthread_mutex_destroy(&sl->report_lock);
	pthread_mutex_destroy(&sl->slab_mutex);
	for (int k = 0; k < SLAB_OVERFLOW_SLOTS; k++)
		pthread_mutex_destroy(&sl->overflow_lock[k]);
	if (slab_tls.id == sl->id)
		slab_tls.id = 0;
	free(sl);
}

void mmb_slab_thread_attach(struct mmb_slab *sl)
{
	mmb_buddy_thread_attach(sl->b);
	slab_this_cpu(sl);
}

void mmb_slab_thread_detach(struct mmb_slab *sl)
{
	int cpu = slab_tls.id == sl->id ? slab_tls.cpu : -1;

	if (cpu >= 0) {
		pthread_mutex_lock(&sl->slab_mutex);
		for (struct mmb_kmem_cache *s = sl->caches; s; s = s->next)
			flush_slab_cpu(s, &s->cpu[cpu]);
		pthread_mutex_unlock(&sl->slab_mutex);
		slab_tls.id = 0;
		atomic_store(&sl->slot_owner[cpu], 0);
	}
	mmb_buddy_thread_detach(sl->b);
}

unsigned long mmb_slab_nr_reports(const struct mmb_slab *sl)
{
	return atomic_load(&sl->nr_reports);
}

/* ---- observability ---- */

struct slab_sums {
	uint64_t stat[NR_SLUB_STAT];
	int64_t req_bytes;
};

static void slab_sum(const struct mmb_kmem_cache *s, struct slab_sums *r)
{
	memset(r, 0, sizeof(*r));
	for (int cpu = 0; cpu < SLAB_NSLOTS; cpu++) {
		const struct slab_cpu *c = &s->cpu[cpu];

		for (int i = 0; i < NR_SLUB_STAT; i++)
			r->stat[i] += ld64(&c->stat[i]);
		r->req_bytes += (int64_t)ld64((const uint64_t *)&c->req_bytes);
	}
	/*
	 * While other threads run, read the alloc counts again after the free
	 * counts: allocations only grow, so live objects (allocs - frees) are
	 * never under-counted by a free that raced ahead of its allocation.
	 */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	r->stat[ST_alloc_fastpath] = r->stat[ST_alloc_slowpath] = r->stat[ST_alloc_pcs] = 0;
	for (int cpu = 0; cpu < SLAB_NSLOTS; cpu++) {
		const struct slab_cpu *c = &s->cpu[cpu];

		r->stat[ST_alloc_fastpath] += ld64(&c->stat[ST_alloc_fastpath]);
		r->stat[ST_alloc_slowpath] += ld64(&c->stat[ST_alloc_slowpath]);
		r->stat[ST_alloc_pcs] += ld64(&c->stat[ST_alloc_pcs]);
	}
}

/* Calls served, from the counters: slab-level counts, less the objects
 * moved between slabs and sheaves, plus the sheaf-level counts. */
static uint64_t slab_user_allocs(const struct slab_sums *sum)
{
	return sum->stat[ST_alloc_fastpath] + sum->stat[ST_alloc_slowpath] -
	       sum->stat[ST_alloc_failed] - sum->stat[ST_sheaf_refill] + sum->stat[ST_alloc_pcs];
}

static uint64_t slab_user_frees(const struct mmb_kmem_cache *s, const struct slab_sums *sum)
{
	return sum->stat[ST_free_fastpath] + sum->stat[ST_free_slowpath] -
	       sum->stat[ST_free_quarantined] - sum->stat[ST_sheaf_flush] + sum->stat[ST_free_pcs] +
	       (uint64_t)atomic_load(&((struct mmb_kmem_cache *)s)->unslotted_frees);
}

/* Objects allocated and not freed. */
static uint64_t slab_live_objects(const struct mmb_kmem_cache *s, const struct slab_sums *sum)
{
	uint64_t in = slab_user_allocs(sum), out = slab_user_frees(s, sum);

	return in > out ? in - out : 0;
}

int mmb_slab_write_slabinfo(struct mmb_slab *sl, FILE *f)
{
	fprintf(f, "slabinfo - version: 2.1\n");
	fprintf(f, "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
		   " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs>"
		   " <num_slabs> <sharedavail>\n");
	pthread_mutex_lock(&sl->slab_mutex);
	for (struct mmb_kmem_cache *s = sl->caches; s; s = s->next) {
		unsigned long num_objs = (unsigned long)atomic_load(&s->total_objects), partial_free = 0;
		unsigned long nr_slabs = (unsigned long)atomic_load(&s->nr_slabs);

		pthread_mutex_lock(&s->list_lock);
		for (struct mmb_page *slab = s->partial_head; slab; slab = slab_next(slab)) {
			uint64_t st = slab_state(slab);

			partial_free += st_objects(st) - st_inuse(st);
		}
		pthread_mutex_unlock(&s->list_lock);
		fprintf(f, "%-17s %6lu %6lu %6u %4u %4d", s->name, num_objs - partial_free, num_objs,
			s->size, s->oo_objects, 1 << s->oo_order);
		fprintf(f, " : tunables %4u %4u %4u", 0u, 0u, 0u);
		fprintf(f, " : slabdata %6lu %6lu %6lu\n", nr_slabs, nr_slabs, 0UL);
	}
	pthread_mutex_unlock(&sl->slab_mutex);
	return ferror(f) ? -EIO : 0;
}

int mmb_slab_size_classes(struct mmb_slab *sl, struct mmb_size_class *r, int max)
{
	int n = 0;

	pthread_mutex_lock(&sl->slab_mutex);
	for (int i = 0; i <= KMALLOC_SHIFT_HIGH; i++) {
		struct mmb_kmem_cache *s = sl->kmalloc_caches[i];
		struct slab_sums sum;
		uint64_t live, cap;
		int at;

		if (!s || n == max)
			continue;
		slab_sum(s, &sum);
		/*
		 * Sampled while workers run, live (allocs read after frees) can
		 * count allocations made after the frees were read, some served
		 * by objects those frees returned: an over-count by the calls in
		 * the read window. Objects in use never exceed the objects that
		 * exist (read last, it only grows between shrinks), so the
		 * tighter bound is min(live, capacity).
		 */
		live = slab_live_objects(s, &sum);
		cap = (uint64_t)atomic_load(&s->total_objects);
		if (live > cap)
			live = cap;
		/* kmalloc_caches[1] and [2] (96, 192) sort between powers of two. */
		for (at = n; at > 0 && r[at - 1].class_bytes > s->object_size; at--)
			r[at] = r[at - 1];
		r[at] = (struct mmb_size_class){
			.class_bytes = s->object_size,
			.live_objects = live,
			.capacity_objects = cap,
			.pages = (uint64_t)atomic_load(&s->nr_pages),
		};
		n++;
	}
	pthread_mutex_unlock(&sl->slab_mutex);
	return n;
}

/* slabstats: per cache, layout, live and requested bytes, and counters.
 * Requested bytes and internal_frag are "-" (not known) once any free came
 * without its size (kfree, the malloc shim's free). */
int mmb_slab_write_stats(struct mmb_slab *sl, FILE *f)
{
	int req_unknown = atomic_load_explicit(&sl->req_unknown, memory_order_relaxed);

	fprintf(f, "# cache object_size size order objects min_partial cpu_partial live_objects"
		   " requested_bytes usable_bytes internal_frag");
	for (int i = 0; i < NR_SLUB_STAT; i++)
		fprintf(f, " %s", slab_stat_names[i]);
	fputc('\n', f);
	pthread_mutex_lock(&sl->slab_mutex);
	for (struct mmb_kmem_cache *s = sl->caches; s; s = s->next) {
		struct slab_sums sum;
		uint64_t live, usable;

		slab_sum(s, &sum);
		live = slab_live_objects(s, &sum);
		usable = live * s->object_size;
		fprintf(f, "%s %u %u %u %u %u %u %llu ", s->name, s->object_size, s->size,
			s->oo_order, s->oo_objects, s->min_partial, s->cpu_partial,
			(unsigned long long)live);
		if (req_unknown)
			fprintf(f, "- %llu -", (unsigned long long)usable);
		else if (usable)
			fprintf(f, "%lld %llu %.4f", (long long)sum.req_bytes, (unsigned long long)usable,
				1.0 - (double)sum.req_bytes / (double)usable);
		else
			fprintf(f, "%lld %llu -", (long long)sum.req_bytes, (unsigned long long)usable);
		for (int i = 0; i < NR_SLUB_STAT; i++)
			fprintf(f, " %llu", (unsigned long long)sum.stat[i]);
		fputc('\n', f);
	}
	pthread_mutex_unlock(&sl->slab_mutex);
	fprintf(f, "# large kmalloc: pages %ld allocs %ld frees %ld; BUG reports %lu\n",
		atomic_load(&sl->large_pages), atomic_load(&sl->large_allocs),
		atomic_load(&sl->large_frees), atomic_load(&sl->nr_reports));
	return ferror(f) ? -EIO : 0;
}

/* ---- check ---- */

/* Every object in a sheaf is an allocated object of s (I1). */
static int check_sheaf(struct mmb_kmem_cache *s, const struct slab_sheaf *sh, uint8_t *map,
		       char *err, size_t errlen)
{
	if (sh->size > s->sheaf_capacity) {
		snprintf(err, errlen, "%s: sheaf holds %u > capacity %u", s->name, sh->size,
			 s->sheaf_capacity);
		return -EUCLEAN;
	}
	for (unsigned i = 0; i < sh->size; i++) {
		void *p = sh->objects[i];
		struct mmb_page *slab = virt_to_slab(s->sl, p);
		int bad = 0;
		unsigned idx;

		if (!slab || slab->owner != s || !check_valid_pointer(s, slab, p)) {
			snprintf(err, errlen, "%s: sheaf object %p is not an object of the cache",
				 s->name, p);
			return -EUCLEAN;
		}
		slab_free_map(s, slab, map, &bad);
		idx = (unsigned)(((char *)p - s->red_left_pad - slab_address(s->sl, slab)) / s->size);
		if (bad || map[idx / 8] & (1u << (idx % 8))) {
			snprintf(err, errlen, "%s: sheaf object %p is also on a freelist", s->name, p);
			return -EUCLEAN;
		}
	}
	return 0;
}

static int check_cache(struct mmb_kmem_cache *s, uint8_t *map, char *err, size_t errlen)
{
	struct mmb_slab *sl = s->sl;
	unsigned long nslabs = 0, nobjects = 0, node_partial = 0, cpu_partial = 0, chains = 0;
	unsigned long reports = atomic_load(&sl->nr_reports);
	unsigned long n = 0;

	for (struct mmb_page *slab = s->partial_head, *prev = NULL; slab; prev = slab, slab = slab_next(slab), n++)
		if (!(ld64(&slab->priv[3]) & MISC_NODE_PARTIAL) || slab->owner != s ||
		    (struct mmb_page *)(uintptr_t)slab->priv[2] != prev || n > s->nr_partial) {
			snprintf(err, errlen, "%s: node partial list broken at slab %lu", s->name, n);
			return -EUCLEAN;
		}
	if (n != s->nr_partial) {
		snprintf(err, errlen, "%s: nr_partial %lu but %lu slabs on the list", s->name,
			 s->nr_partial, n);
		return -EUCLEAN;
	}
	for (int cpu = 0; cpu < SLAB_NSLOTS; cpu++) {
		struct slab_cpu *c = &s->cpu[cpu];
		unsigned k = 0;

		for (struct mmb_page *slab = c->partial; slab && k <= c->partial_slabs; slab = slab_next(slab), k++)
			if (!(ld64(&slab->priv[3]) & MISC_CPU_PARTIAL) || slab->owner != s) {
				snprintf(err, errlen, "%s: slot %d partial chain broken", s->name, cpu);
				return -EUCLEAN;
			}
		if (k != c->partial_slabs) {
			snprintf(err, errlen, "%s: slot %d partial_slabs %u but chain has %u", s->name,
				 cpu, c->partial_slabs, k);
			return -EUCLEAN;
		}
		chains += k;
		if (c->slab && (c->slab->owner != s || !st_frozen(slab_state(c->slab)) ||
				slab_owner(c->slab) != cpu)) {
			snprintf(err, errlen, "%s: slot %d active slab not frozen for it", s->name, cpu);
			return -EUCLEAN;
		}
		if (!c->slab && c->freelist) {
			snprintf(err, errlen, "%s: slot %d has a freelist without a slab", s->name, cpu);
			return -EUCLEAN;
		}
	}
	for (int cpu = 0; cpu < SLAB_NSLOTS; cpu++) {
		const struct slab_sheaf *sh[2] = { s->cpu[cpu].main, s->cpu[cpu].spare };

		for (int i = 0; i < 2; i++)
			if (sh[i] && check_sheaf(s, sh[i], map, err, errlen))
				return -EUCLEAN;
	}
	for (const struct slab_sheaf *sh = s->barn_full; sh; sh = sh->next)
		if (check_sheaf(s, sh, map, err, errlen))
			return -EUCLEAN;
	for (const struct slab_sheaf *sh = s->barn_empty; sh; sh = sh->next)
		if (sh->size) {
			snprintf(err, errlen, "%s: an empty sheaf in the barn holds %u objects", s->name,
				 sh->size);
			return -EUCLEAN;
		}
	for_each_slab(sl, s, slab) {
		uint64_t st = slab_state(slab), misc = ld64(&slab->priv[3]);
		unsigned objects = st_objects(st), order = slab_order(slab), nfree, slab_free;
		int bad = 0, lists = !!(misc & MISC_NODE_PARTIAL) + !!(misc & MISC_CPU_PARTIAL);
		void *fl;

		nslabs++;
		nobjects += objects;
		if (objects != order_objects(order, s->size) || objects > MAX_OBJS_PER_PAGE ||
		    (order != s->oo_order && order != s->min_order)) {
			snprintf(err, errlen, "%s: slab %p order %u has %u objects (size %u)", s->name,
				 (void *)slab_address(sl, slab), order, objects, s->size);
			return -EUCLEAN;
		}
		nfree = slab_free_map(s, slab, map, &bad);
		if (bad) {
			snprintf(err, errlen, "%s: slab %p: %s", s->name, (void *)slab_address(sl, slab),
				 bad == 1 ? "free pointer outside the slab or off an object start"
					  : "object on a freelist twice");
			return -EUCLEAN;
		}
		fl = fl_ptr(sl, slab, st_fl1(st));
		slab_free = 0;
		for (void *p = fl; p; p = get_fp(s, p))
			slab_free++;
		if (st_inuse(st) + slab_free != objects) {
			snprintf(err, errlen, "%s: slab %p inuse %u + free %u != objects %u", s->name,
				 (void *)slab_address(sl, slab), st_inuse(st), slab_free, objects);
			return -EUCLEAN;
		}
		if (st_frozen(st)) {
			int owner = slab_owner(slab);

			if (owner < 0 || s->cpu[owner].slab != slab || lists) {
				snprintf(err, errlen, "%s: frozen slab %p is not one slot's active slab "
					 "(slot %d, on %d lists)", s->name, (void *)slab_address(sl, slab),
					 owner, lists);
				return -EUCLEAN;
			}
		} else if (lists > 1 || (nfree && !lists) || (!nfree && lists)) {
			snprintf(err, errlen, "%s: slab %p with %u free objects is on %d lists", s->name,
				 (void *)slab_address(sl, slab), nfree, lists);
			return -EUCLEAN;
		}
		node_partial += !!(misc & MISC_NODE_PARTIAL);
		cpu_partial += !!(misc & MISC_CPU_PARTIAL);
		if (kmem_cache_debug(s)) {
			char *base = slab_address(sl, slab);

			report_lock(sl);
			slab_pad_check(s, slab);
			for (unsigned i = 0; i < objects; i++)
				check_object(s, slab, slab_obj(s, base, i),
					     map[i / 8] & (1u << (i % 8)) ? MMB_SLUB_RED_INACTIVE
									  : MMB_SLUB_RED_ACTIVE);
			report_unlock(sl);
		}
	}
	if (nslabs != (unsigned long)atomic_load(&s->nr_slabs) ||
	    nobjects != (unsigned long)atomic_load(&s->total_objects) ||
	    node_partial != s->nr_partial || cpu_partial != chains) {
		snprintf(err, errlen, "%s: counts: %lu slabs / %lu objects found, %ld / %ld counted; "
			 "%lu node partial marked, %lu listed; %lu cpu partial marked, %lu chained",
			 s->name, nslabs, nobjects, atomic_load(&s->nr_slabs),
			 atomic_load(&s->total_objects), node_partial, s->nr_partial, cpu_partial,
			 chains);
		return -EUCLEAN;
	}
	if (atomic_load(&sl->nr_reports) != reports) {
		snprintf(err, errlen, "%s: validate found corrupted objects (%lu reports)", s->name,
			 atomic_load(&sl->nr_reports) - reports);
		return -EUCLEAN;
	}
	return 0;
}

int mmb_slab_check(struct mmb_slab *sl, char *err, size_t errlen)
{
	uint8_t map[(MAX_OBJS_PER_PAGE + 8) / 8];
	long slab_pages = 0;
	int rc = 0;

	pthread_mutex_lock(&sl->slab_mutex);
	for (struct mmb_kmem_cache *s = sl->caches; s && !rc; s = s->next) {
		rc = check_cache(s, map, err, errlen);
		for_each_slab(sl, s, slab)
			slab_pages += 1L << slab_order(slab);
	}
	pthread_mutex_unlock(&sl->slab_mutex);
	if (!rc && slab_pages != atomic_load(&sl->slab_pages)) {
		snprintf(err, errlen, "slab: %ld slab pages found, %ld counted", slab_pages,
			 atomic_load(&sl->slab_pages));
		rc = -EUCLEAN;
	}
	return rc;
}

/* ---- the registry entry `slab`: kmalloc behind the allocator contract ---- */

/* A fast-path key no thread's slab_tls.id equals (ids count from 1). */

struct mmb_alloc {
	/*
	 * The fast paths run only for a thread whose slab_tls.id equals the
	 * key: sl->id, or SLAB_KEY_NONE where every call takes kmalloc's or
	 * kfree's full way. alloc_key: none with detectors (they hook every
	 * call). free_key: none also with harden=on (cache_from_obj reads the
	 * descriptor) and from the first time an alignment moves a block to a
	 * class above its size's (a free's size then no longer names the
	 * block's cache).
	 */
	uint64_t alloc_key;
	atomic_uint_fast64_t free_key;
	struct mmb_buddy *b;
	struct mmb_slab *sl;
	struct mmb_kmemleak *kml;	/* kmemleak=on */
	struct mmb_kfence *kfence;	/* kfence=N */
	atomic_ulong failed_allocs;	/* alloc() calls that returned NULL */
};

static const struct mmb_param slab_opts[] = {
	{ "mem", MMB_P_SIZE, "256M", 4 << 20, 64ULL << 30, NULL, "simulated physical memory, bytes" },
	{ "free", MMB_P_SIZE, "0", 0, 64ULL << 30, NULL,
	  "size the zone to the work: bytes free above the min watermark after boot (sets mem)" },
	{ "cpus", MMB_P_U64, "0", 0, MMB_SLAB_MAX_CPUS, NULL,
	  "CPUs for the slab order rule (0 = the cell's threads)" },
	{ "debug", MMB_P_STR, "", 0, 0, NULL,
	  "slub_debug letters F Z P U, or blocks LETTERS:cache:cache;... (':' for the kernel's ',')" },
	{ "harden", MMB_P_BOOL, "off", 0, 0, NULL, "freelist pointer hardening (XOR random, slot address)" },
	{ "cpu_partial", MMB_P_U64, "0", 0, 100000, NULL,
	  "objects on per-thread partial slabs (default: the kernel's rule by size)" },
	{ "min_partial", MMB_P_U64, "0", 0, 1000, NULL,
	  "empty slabs a cache keeps (default: clamp(ilog2(size)/2, 5, 10))" },
	{ "min_objects", MMB_P_U64, "0", 0, MAX_OBJS_PER_PAGE, NULL,
	  "slub_min_objects (0 = 4 * (fls(cpus) + 1))" },
	{ "max_order", MMB_P_U64, "3", 0, MMB_MAX_ORDER, NULL, "slub_max_order" },
	{ "sheaf", MMB_P_U64, "0", 0, 1024, NULL,
	  "sheaf capacity, objects (6.18 per-thread object arrays; default: the kernel's rule "
	  "by size, 4..60; 0 = off, classic SLUB)" },
	{ "pcp", MMB_P_BOOL, "on", 0, 0, NULL, "buddy per-thread page lists" },
	{ "kmemleak", MMB_P_BOOL, "off", 0, 0, NULL,
	  "leak detector: track every object, scan at the end (kmemleak.txt, leaks_found)" },
	{ "kmemleak_scan", MMB_P_U64, "0", 0, 86400000, NULL,
	  "kmemleak: also scan every this many ms while the cell runs (0 = at the end only)" },
	{ "kfence", MMB_P_U64, "0", 0, 1 << 30, NULL,
	  "KFENCE: one allocation in N on a guarded page (0 = off; kfence.txt, corruptions_caught)" },
	{ 0 },
};

static void slab_reg_detectors_destroy(struct mmb_alloc *a)
{
	if (a->kfence)
		mmb_kfence_destroy(a->kfence);
	if (a->kml)
		mmb_kmemleak_destroy(a->kml);
}

/* kmemleak=on, kfence=N: made before the caches, so every object is seen. */
static int slab_reg_detectors(const struct mmb_alloc_cfg *cfg, struct mmb_alloc *a, char *err,
			      size_t errlen)
{
	const struct mmb_pvals *o = &cfg->opts;
	int rc;

	if (mmb_pval_u64(o, "kmemleak")) {
		struct mmb_kmemleak_cfg kc = {
			.min_age_ms = MMB_KMEMLEAK_MIN_AGE_MS,
			.scan_ms = mmb_pval_u64(o, "kmemleak_scan"),
			.log = stderr,
		};

		rc = mmb_kmemleak_create(&kc, &a->kml, err, errlen);
		if (rc)
			return rc;
	}
	if (mmb_pval_u64(o, "kfence")) {
		struct mmb_kfence_cfg fc = { .sample = (unsigned)mmb_pval_u64(o, "kfence") };
		const void *start;
		size_t len;

		rc = mmb_kfence_create(&fc, &a->kfence, err, errlen);
		if (rc)
			return rc;
		mmb_kfence_range(a->kfence, &start, &len);
		if (a->kml)
			mmb_kmemleak_ignore_range(a->kml, start, len);
	}
	return 0;
}

static int slab_reg_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
			   size_t errlen)
{
	const struct mmb_pvals *o = &cfg->opts;
	unsigned threads = cfg->nthreads ? cfg->nthreads : 1;
	struct mmb_buddy_cfg bc = {
		.pcp = (int)mmb_pval_u64(o, "pcp"),
		.nthreads = threads,
	};
	struct mmb_slab_cfg sc = {
		.nr_cpus = mmb_pval_u64(o, "cpus") ? (unsigned)mmb_pval_u64(o, "cpus") : threads,
		.min_objects = (unsigned)mmb_pval_u64(o, "min_objects"),
		.max_order = (unsigned)mmb_pval_u64(o, "max_order"),
		.cpu_partial = mmb_pval_given(o, "cpu_partial") ? (int)mmb_pval_u64(o, "cpu_partial") : -1,
		.min_partial = mmb_pval_given(o, "min_partial") ? (int)mmb_pval_u64(o, "min_partial") : -1,
		.harden = (int)mmb_pval_u64(o, "harden"),
		.debug = mmb_pval_str(o, "debug"),
		.sheaf_capacity = mmb_pval_given(o, "sheaf") ? (int)mmb_pval_u64(o, "sheaf") : -1,
	};
	struct mmb_alloc *a;
	int rc;

	rc = mmb_slab_parse_debug(sc.debug, err, errlen);
	if (!rc)
		rc = mmb_buddy_zone_mem(o, "slab", &bc.mem_bytes, err, errlen);
	if (rc)
		return rc;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "slab: out of memory");
		return -ENOMEM;
	}
	rc = slab_reg_detectors(cfg, a, err, errlen);
	if (rc)
		goto fail;
	rc = mmb_buddy_create(&bc, &a->b, err, errlen);
	if (rc)
		goto fail;
	sc.buddy = a->b;
	sc.kmemleak = a->kml;
	sc.kfence = a->kfence;
	rc = mmb_slab_create(&sc, &a->sl, err, errlen);
	if (rc)
		goto fail_buddy;
	a->alloc_key = a->sl->hooks ? SLAB_KEY_NONE : a->sl->id;
	atomic_init(&a->free_key, a->sl->hooks || a->sl->harden ? SLAB_KEY_NONE : a->sl->id);
	*r_a = a;
	return 0;
fail_buddy:
	mmb_buddy_destroy(a->b);
fail:
	slab_reg_detectors_destroy(a);
	free(a);
	return rc;
}

/* A bad debug string or zone size is bad usage: caught when the plan is made. */
static int slab_reg_validate(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen)
{
	char msg[MMB_ERR_MAX];
	uint64_t mem;

	if (mmb_slab_parse_debug(mmb_pval_str(&cfg->opts, "debug"), msg, sizeof(msg))) {
		snprintf(err, errlen, "allocator slab: %s", msg);
		return -EINVAL;
	}
	return mmb_buddy_zone_mem(&cfg->opts, "slab", &mem, err, errlen);
}

static void slab_reg_destroy(struct mmb_alloc *a)
{
	mmb_slab_destroy(a->sl);
	mmb_buddy_destroy(a->b);
	slab_reg_detectors_destroy(a);
	free(a);
}

static void slab_reg_thread_attach(struct mmb_alloc *a)
{
	mmb_slab_thread_attach(a->sl);
	if (a->kml)
		mmb_kmemleak_thread_register(a->kml);	/* -ENOMEM: its stack is swept whole */
}

static void slab_reg_thread_detach(struct mmb_alloc *a)
{
	if (a->kml)
		mmb_kmemleak_thread_unregister(a->kml);
	mmb_slab_thread_detach(a->sl);
}

/* Power-of-two kmalloc classes are aligned to their size; 96 and 192 are
 * not, so a larger alignment takes the power of two above. */
static __attribute__((noinline)) void *slab_reg_alloc_slow(struct mmb_alloc *a, size_t size,
							   size_t align, uintptr_t addr)
{
	size_t req = size;

	if (align > 8) {
		if (size < align)
			size = align;
		if (size & (size - 1))
			size = 1UL << fls_u(size);
		if (size <= MMB_KMALLOC_MAX_CACHE_SIZE && kmalloc_index(size) != kmalloc_index(req) &&
		    atomic_load_explicit(&a->free_key, memory_order_relaxed) != SLAB_KEY_NONE)
			atomic_store_explicit(&a->free_key, SLAB_KEY_NONE, memory_order_relaxed);
	}
	void *p;

	if (unlikely(a->sl->hooks))
		p = slab_hook_alloc(a->sl, mmb_kmalloc_cache(a->sl, size), req, align, addr);
	else if (size <= MMB_KMALLOC_MAX_CACHE_SIZE)
		p = slab_alloc(a->sl->kmalloc_caches[kmalloc_index(size)], (unsigned)req, addr);
	else
		p = kmalloc_large(a->sl, size);
	/* Counted here and in slab_reg_alloc_miss(), where every NULL comes
	 * from: the caches' alloc_failed also counts failed attempts inside a
	 * sheaf refill. */
	if (unlikely(!p))
		atomic_fetch_add_explicit(&a->failed_allocs, 1, memory_order_relaxed);
	return p;
}

/* The fast path missed, on this thread's slot of kmalloc_caches[i]. */
static __attribute__((noinline)) void *slab_reg_alloc_miss(struct mmb_alloc *a, unsigned i,
							   size_t size, uintptr_t addr)
{
	void *p = slab_alloc_refill(a->sl->kmalloc_caches[i], slab_tls.kc[i], slab_tls.cpu,
				    (unsigned)size, addr);

	if (unlikely(!p))
		atomic_fetch_add_explicit(&a->failed_allocs, 1, memory_order_relaxed);
	return p;
}

/*
 * kmalloc's fast path inline; everything else out of line. The sheaf pop
 * is spelled out rather than left to slab_alloc_fast(): given the cache
 * pointer as an argument, GCC 12 loads a->sl->kmalloc_caches[i] ahead of
 * the sheaf test, two loads the sheaf path does not need (the same holds
 * for the free below).
 */
static void *slab_reg_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	if (likely(slab_tls.id == a->alloc_key && align <= 8 &&
		   size - 1 < MMB_KMALLOC_MAX_CACHE_SIZE)) {
		unsigned i = kmalloc_index(size);
		struct slab_cpu *c = slab_tls.kc[i];
		struct slab_sheaf *sh = c->main;
		void *object;

		if (likely(sh)) {
			if (likely(sh->size))
				return pcs_alloc_fast(c, sh, (unsigned)size);
		} else if ((object = slab_alloc_fast(a->sl->kmalloc_caches[i], c, (unsigned)size))) {
			return object;
		}
		return slab_reg_alloc_miss(a, i, size, (uintptr_t)__builtin_return_address(0));
	}
	return slab_reg_alloc_slow(a, size, align, (uintptr_t)__builtin_return_address(0));
}

/*
 * Sized free: the size names the kmalloc cache (as kmem_cache_free names
 * its cache), trusted as the kernel trusts kmem_cache_free's s unless
 * hardened (free_key), so the common case -- a sheaf with room, or the
 * thread's active slab, whose address range proves the object is of s --
 * needs no descriptor lookup. Anything else takes kfree's way through the
 * page descriptor.
 */
static __attribute__((noinline)) void slab_reg_free_slow(struct mmb_alloc *a, void *p, size_t size,
							 uintptr_t addr)
{
	slab_kfree(a->sl, p, size, addr);
}

/* The fast path missed, on this thread's slot of kmalloc_caches[i]: a full
 * main sheaf is exchanged here (the size is trusted as in the fast path),
 * anything else goes kfree's way. */
static __attribute__((noinline)) void slab_reg_free_miss(struct mmb_alloc *a, unsigned i, void *p,
							 size_t size, uintptr_t addr)
{
	struct mmb_kmem_cache *s = a->sl->kmalloc_caches[i];
	struct slab_cpu *c = slab_tls.kc[i];

	if (c->main && pcs_free_slow(s, c, slab_tls.cpu, p)) {
		c->req_bytes -= (int64_t)size;
		return;
	}
	slab_kfree(a->sl, p, size, addr);
}

static void slab_reg_free(struct mmb_alloc *a, void *p, size_t size)
{
	if (likely(slab_tls.id == atomic_load_explicit(&a->free_key, memory_order_relaxed) &&
		   size - 1 < MMB_KMALLOC_MAX_CACHE_SIZE)) {
		unsigned i = kmalloc_index(size);
		struct slab_cpu *c = slab_tls.kc[i];
		struct slab_sheaf *sh = c->main;

		if (likely(sh)) {
			if (likely(sh->size < sh->capacity)) {
				pcs_free_fast(c, sh, p);
				c->req_bytes -= (int64_t)size;
				return;
			}
		} else if (slab_free_fast(a->sl->kmalloc_caches[i], c, p, 0 /* not hardened */)) {
			c->req_bytes -= (int64_t)size;
			return;
		}
		slab_reg_free_miss(a, i, p, size, (uintptr_t)__builtin_return_address(0));
		return;
	}
	/* unsized (the contract's size 0, C's free): kfree's way, with its
	 * sheaf push through the page descriptor inline, as the shim's free */
	if (!size && likely(mmb_kfree_sheaf(a->sl, p)))
		return;
	slab_reg_free_slow(a, p, size, (uintptr_t)__builtin_return_address(0));
}

static size_t slab_reg_usable_size(struct mmb_alloc *a, const void *p)
{
	return mmb_ksize(a->sl, p);
}

/*
 * With no thread attached (the harness's workers have all detached) nothing
 * is in flight: kmemleak scans then, quiescent, so leaks_found counts every
 * object nothing refers to. corruptions_caught: KFENCE's reports and the
 * slub_debug BUG reports.
 */
static void slab_reg_detector_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	if (a->kml)
		r_st->leaks_found = mmb_kmemleak_leaks(a->kml);
	if (a->kfence || a->sl->any_debug) {
		r_st->corruptions_caught = mmb_slab_nr_reports(a->sl);
		if (a->kfence) {
			struct mmb_kfence_counts fc;

			mmb_kfence_counts(a->kfence, &fc);
			r_st->corruptions_caught += fc.bugs;
		}
	}
}

static void slab_reg_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	struct mmb_slab *sl = a->sl;
	struct mmb_buddy_info in;
	uint64_t usable = 0, allocs = 0, frees = 0;

	pthread_mutex_lock(&sl->slab_mutex);
	for (struct mmb_kmem_cache *s = sl->caches; s; s = s->next) {
		struct slab_sums sum;

		slab_sum(s, &sum);
		usable += slab_live_objects(s, &sum) * s->object_size;
		allocs += slab_user_allocs(&sum);
		frees += slab_user_frees(s, &sum);
	}
	pthread_mutex_unlock(&sl->slab_mutex);
	r_st->footprint_bytes = (uint64_t)(atomic_load(&sl->slab_pages) + atomic_load(&sl->large_pages)) *
				MMB_PAGE_SIZE;
	/* The peak the sampler may miss (slabs and kmalloc_large pages come and
	 * go between samples): the zone's low-water mark of free frames, as
	 * buddy and vmalloc report it (frames on per-thread lists included). */
	mmb_buddy_info(sl->b, &in);
	r_st->footprint_peak_bytes = (in.managed_pages - in.min_free_pages) << MMB_PAGE_SHIFT;
	r_st->usable_bytes = usable + (uint64_t)atomic_load(&sl->large_pages) * MMB_PAGE_SIZE;
	r_st->allocs = allocs + (uint64_t)atomic_load(&sl->large_allocs);
	r_st->frees = frees + (uint64_t)atomic_load(&sl->large_frees);
	r_st->failed_allocs = atomic_load_explicit(&a->failed_allocs, memory_order_relaxed);
	mmb_buddy_zone_stats(a->b, r_st);
	slab_reg_detector_stats(a, r_st);
}

static int slab_reg_size_classes(struct mmb_alloc *a, struct mmb_size_class *r, int max)
{
	return mmb_slab_size_classes(a->sl, r, max);
}

static int slab_reg_check(struct mmb_alloc *a, char *err, size_t errlen)
{
	int rc = mmb_slab_check(a->sl, err, errlen);

	return rc ? rc : mmb_buddy_check(a->b, err, errlen);
}

struct slab_file {
	struct mmb_slab *sl;
	int (*fn)(struct mmb_slab *, FILE *);
};

static int slab_file_write(FILE *f, void *ctx)
{
	const struct slab_file *sf = ctx;

	return sf->fn(sf->sl, f);
}

/* dir/name replaced atomically (statefile.h). */
static int slab_write_file(const char *dir, const char *name, struct mmb_slab *sl,
			   int (*fn)(struct mmb_slab *, FILE *))
{
	struct slab_file sf = { sl, fn };

	return mmb_state_write(dir, name, slab_file_write, &sf);
}

static int slab_write_kfence(struct mmb_slab *sl, FILE *f)
{
	return mmb_kfence_write(sl->kfence, f);
}

static int slab_reg_dump_state(struct mmb_alloc *a, const char *dir)
{
	int rc = slab_write_file(dir, "slabinfo", a->sl, mmb_slab_write_slabinfo);

	if (!rc)
		rc = slab_write_file(dir, "slabstats", a->sl, mmb_slab_write_stats);
	if (!rc && a->kml)
		rc = mmb_kmemleak_write_file(a->kml, dir);
	if (!rc && a->kfence)
		rc = slab_write_file(dir, "kfence.txt", a->sl, slab_write_kfence);
	return rc;
}

const struct mmb_alloc_ops mmb_slab_ops = {
	.name = "slab",
	.desc = "SLUB-style kmalloc (kmem_caches 8..8k incl. 96/192) on the buddy allocator",
	.opts = slab_opts,
	.validate = slab_reg_validate,
	.create = slab_reg_create,
	.destroy = slab_reg_destroy,
	.thread_attach = slab_reg_thread_attach,
	.thread_detach = slab_reg_thread_detach,
	.alloc = slab_reg_alloc,
	.free = slab_reg_free,
	.usable_size = slab_reg_usable_size,
	.stats = slab_reg_stats,
	.size_classes = slab_reg_size_classes,
	.check = slab_reg_check,
	.dump_state = slab_reg_dump_state,
};

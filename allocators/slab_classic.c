/*
 * slab_classic.c — SLAB (mm/slab.c, Linux 6.7, the last release that had
 * it) on the buddy allocator, and the registry entry `kmalloc-slab`
 * (slab_classic.h). Named "classic" beside slab.c, which is SLUB.
 *
 * Data structure (as the kernel's)
 *   struct mmb_slabc_cache	kmem_cache: object layout, gfporder and num
 *				(calculate_slab_order), colour and colour_off,
 *				freelist placement, the tunables limit /
 *				batchcount / shared (enable_cpucache), one node,
 *				and one array_cache per thread slot.
 *   struct array_cache	a slot's stack of free object pointers: avail,
 *				limit, batchcount, touched, entry[limit]. Alloc
 *				pops, free pushes; no lock (its thread's own).
 *   node			list_lock; slabs_partial / slabs_full / slabs_free
 *				(pagelist.h), total_slabs, free_slabs,
 *				free_objects (objects on slab freelists only),
 *				free_limit = (1 + cpus) * batchcount + num,
 *				colour_next, free_touched, next_reap, and the
 *				shared array_cache (limit shared * batchcount).
 *   slab			2^gfporder frames from the buddy allocator; its
 *				struct slab is the head frame's mmb_page:
 *				owner = the cache, flags |= MMB_PG_SLAB,
 *		priv[0]	freelist: the address of the freelist index array
 *		priv[1], priv[2]	slab_list links
 *		priv[3]	active (bits 0-31), s_mem offset = colour (bits 32-63)
 *   freelist		unsigned char indexes (FREELIST_BYTE_INDEX with 4 KiB
 *				pages: at most 255 objects per slab); entries
 *				[active, num) are the free objects, handed out in
 *				order. Placed (set_objfreelist_slab_cache, then
 *				set_off_slab_cache, then on-slab): in the free
 *				object handed out last (OBJFREELIST: no ctor and
 *				num <= object size; NULL while the slab is full),
 *				off-slab in a kmalloc object when the left-over
 *				cannot hold it, else in the slab's last bytes.
 *   kmalloc			kmalloc-32 .. kmalloc-8k with 96 and 192 (SLAB's
 *				KMALLOC_MIN_SIZE is 32), the kernel's size_index
 *				table; power-of-two caches aligned to their size.
 *
 * Algorithms, unchanged: ____cache_alloc / cache_alloc_refill (shared array
 * first, then partial, then free slabs, batchcount at a time, 16 when the
 * array was not touched since the last reap; else cache_grow_begin/end
 * with the next colour), ___cache_free / cache_flusharray (batchcount to
 * the shared array if it has room, else free_block, which puts a slab at
 * the tail of the partial list and frees the last free slabs while
 * free_objects > free_limit), cache_reap (drain_array of the slot's array
 * unless touched; every REAPTIMEOUT_NODE the shared array, and
 * drain_freelist of (free_limit + 5 * num - 1) / (5 * num) free slabs
 * unless free_touched), calculate_slab_order (the first order whose
 * left-over is <= 1/8 of the slab, at most slab_max_order, num <= 255,
 * off-slab only if its freelist object is at most half an object).
 *
 * Time: the kernel reaps every 2 s per CPU (REAPTIMEOUT_AC) and the node
 * part every 4 s (REAPTIMEOUT_NODE). Here a thread runs cache_reap after
 * every reap_ops of its own calls, and a "jiffy" is one such run by any
 * thread: the node part then waits 2 * cpus runs, which is the kernel's 4 s
 * when the threads run at the same rate. next_reap is not staggered per
 * cache (the kernel adds cache address % REAPTIMEOUT_NODE).
 *
 * Not modelled: NUMA (one node, no alien caches), debug (red zones,
 * poisoning, STATS beyond slabinfo's), pfmemalloc, memcg, kmem_cache
 * merging, the slabinfo write that retunes a cache (tunables are options).
 *
 * Invariants: see mmb_slabc_check in slab_classic.h.
 *
 * Thread model and locks: a thread's array caches are its own; the node's
 * lists, counters and shared array are under list_lock; a slot is claimed
 * with a compare-and-swap; slab_mutex guards the list of caches (reap,
 * slabinfo). Lock order: slab_mutex -> list_lock. Growing a slab and
 * destroying slabs happen with no list_lock held (an off-slab freelist is
 * a kmalloc of its own). A thread with no slot (more than
 * MMB_SLABC_MAX_CPUS live) allocates on one of SLABC_OVERFLOW_SLOTS shared
 * slots after them, chosen by its tid, under that slot's mutex (tasks
 * sharing a CPU: the mutex stands for disabled preemption; while it is
 * held the thread's slot is that one, so an off-slab freelist's own
 * kmalloc inside the refill does not take the mutex again), frees with
 * free_block, and retries for a slot of its own every 256 calls. It used
 * to get NULL from alloc, and to scan every slot on every call (a
 * 300-thread churn cell: 7.47 M failed allocations, p99.9 4.5 us). A
 * shared slot's mutex is taken before any other lock.
 */
#include "slab_classic.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocator.h"
#include "pagelist.h"
#include "statefile.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

typedef unsigned char freelist_idx_t;
#define SLAB_OBJ_MAX_NUM 255		/* (1 << 8 * sizeof(freelist_idx_t)) - 1 */
#define SLAB_OBJ_MIN_SIZE 16
#define BYTES_PER_WORD 8
#define CACHE_LINE 64			/* cache_line_size(): colour_off */
#define BATCHREFILL_LIMIT 16
#define SLAB_MAX_ORDER_HI 1
#define SLAB_MAX_ORDER_LO 0
#define REAP_NODE_TICKS 2		/* REAPTIMEOUT_NODE / REAPTIMEOUT_AC */
#define KMALLOC_SHIFT_LOW 5
#define KMALLOC_SHIFT_HIGH 13
#define NAME_MAX_LEN 32

#define ACTIVE_MASK 0xffffffffULL
#define COLOUR_SHIFT 32

struct array_cache {
	unsigned avail, limit, batchcount, touched;
	/* STATS, this slot's: written by its thread only */
	uint64_t allochit, allocmiss, freehit, freemiss, alloc_failed;
	void *entry[];
};

struct slabc_node {
	pthread_mutex_t list_lock;
	struct mmb_pagelist slabs_partial, slabs_full, slabs_free;
	unsigned long total_slabs, free_slabs, free_objects, free_limit;
	unsigned colour_next;
	int free_touched;
	uint64_t next_reap;		/* in reap runs (sc->jiffies) */
	struct array_cache *shared;
	/* STATS */
	uint64_t grown, reaped, high_mark, errors, max_freeable, overflows;
	uint64_t active;		/* objects off the slab freelists */
	uint64_t num_allocations;	/* objects taken from slabs (listallocs) */
};

#define SLABC_OVERFLOW_SLOTS 32	/* shared slots after the threads' own */
#define SLABC_NSLOTS (MMB_SLABC_MAX_CPUS + SLABC_OVERFLOW_SLOTS)

struct mmb_slabc_cache {
	struct mmb_slabc *sc;
	struct mmb_slabc_cache *next;	/* slab_caches */
	char name[NAME_MAX_LEN];
	unsigned object_size, size, align;
	unsigned gfporder, num, colour, colour_off, freelist_size;
	enum mmb_slabc_mgmt mgmt;
	struct mmb_slabc_cache *freelist_cache;	/* OFF_SLAB */
	void (*ctor)(void *obj);
	unsigned limit, batchcount, shared;
	struct slabc_node node;
	atomic_ulong unslotted_frees;	/* frees by threads without a slot */
	struct array_cache *cpu[SLABC_NSLOTS];	/* the threads' slots, then the shared ones */
};

struct mmb_slabc {
	struct mmb_buddy *b;
	struct mmb_pmem *pm;
	uint64_t id;
	unsigned nr_cpus;
	unsigned slab_max_order;
	uint64_t reap_ops;
	int t_limit, t_batchcount, t_shared;
	pthread_mutex_t slab_mutex;
	struct mmb_slabc_cache *caches;	/* newest first */
	struct mmb_slabc_cache *kmalloc_caches[KMALLOC_SHIFT_HIGH + 1];
	atomic_uintptr_t slot_owner[MMB_SLABC_MAX_CPUS];
	pthread_mutex_t overflow_lock[SLABC_OVERFLOW_SLOTS];	/* one per shared slot */
	atomic_ulong jiffies;		/* cache_reap runs, all threads */
	atomic_long slab_pages, large_pages, large_allocs, large_frees;
	char large_owner;
};

static atomic_ulong slabc_next_id = 1;

/* The calling thread's slot in the instance it used last. */
static __thread struct {
	uint64_t id;
	int cpu;
	uint64_t ops;
	uint64_t full_id;		/* 1 + the instance that had no free slot, 0 none */
	unsigned full_skip;		/* calls since: the scan is retried every 256 */
	unsigned overflow;		/* then its shared slot: tid % SLABC_OVERFLOW_SLOTS */
} slabc_tls;
static __thread char slabc_token;	/* its address names the thread */

static inline uint64_t ld64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void inc64(uint64_t *p)
{
	__atomic_store_n(p, *p + 1, __ATOMIC_RELAXED);
}

static unsigned get_order(size_t size)
{
	unsigned order = 0;

	while ((MMB_PAGE_SIZE << order) < size)
		order++;
	return order;
}

static unsigned fls_u(unsigned long x)
{
	return x ? 64 - (unsigned)__builtin_clzl(x) : 0;
}

/* ---- slab descriptor ---- */

static inline void *slab_freelist(const struct mmb_page *slab)
{
	return (void *)(uintptr_t)slab->priv[0];
}

static inline unsigned slab_active(const struct mmb_page *slab)
{
	return (unsigned)(slab->priv[3] & ACTIVE_MASK);
}

static inline void slab_set_active(struct mmb_page *slab, unsigned active)
{
	slab->priv[3] = (slab->priv[3] & ~ACTIVE_MASK) | active;
}

static inline unsigned slab_colour_off(const struct mmb_page *slab)
{
	return (unsigned)(slab->priv[3] >> COLOUR_SHIFT);
}

static inline char *slab_s_mem(const struct mmb_slabc *sc, const struct mmb_page *slab)
{
	return (char *)mmb_page_address(sc->pm, slab) + slab_colour_off(slab);
}

static inline struct mmb_page *virt_to_slab(const struct mmb_slabc *sc, const void *obj)
{
	return mmb_compound_head(sc->pm, mmb_virt_to_page(sc->pm, obj));
}

static inline void *index_to_obj(const struct mmb_slabc_cache *s, const struct mmb_page *slab,
				 unsigned idx)
{
	return slab_s_mem(s->sc, slab) + (size_t)s->size * idx;
}

static inline unsigned obj_to_index(const struct mmb_slabc_cache *s, const struct mmb_page *slab,
				    const void *obj)
{
	return (unsigned)(((const char *)obj - slab_s_mem(s->sc, slab)) / s->size);
}

static inline unsigned get_free_obj(const struct mmb_page *slab, unsigned idx)
{
	return ((freelist_idx_t *)slab_freelist(slab))[idx];
}

static inline void set_free_obj(struct mmb_page *slab, unsigned idx, unsigned val)
{
	((freelist_idx_t *)slab_freelist(slab))[idx] = (freelist_idx_t)val;
}

static void *slab_get_obj(struct mmb_slabc_cache *s, struct mmb_page *slab)
{
	unsigned active = slab_active(slab);
	void *objp = index_to_obj(s, slab, get_free_obj(slab, active));

	slab_set_active(slab, active + 1);
	return objp;
}

static void slab_put_obj(struct mmb_slabc_cache *s, struct mmb_page *slab, void *objp)
{
	unsigned objnr = obj_to_index(s, slab, objp), active = slab_active(slab) - 1;

	slab_set_active(slab, active);
	if (!slab_freelist(slab))
		slab->priv[0] = (uintptr_t)objp;
	set_free_obj(slab, active, objnr);
}

/* ---- slots (the kernel's CPUs) ---- */

static int slabc_claim_slot(struct mmb_slabc *sc)
{
	uintptr_t me = (uintptr_t)&slabc_token;
	int cpu;

	/* no slot was free: the shared one until the next retry */
	if (slabc_tls.full_id == sc->id + 1 && (++slabc_tls.full_skip & 255))
		return -1;
	for (cpu = 0; cpu < MMB_SLABC_MAX_CPUS; cpu++)
		if (atomic_load_explicit(&sc->slot_owner[cpu], memory_order_relaxed) == me)
			goto found;
	for (cpu = 0; cpu < MMB_SLABC_MAX_CPUS; cpu++) {
		uintptr_t none = 0;

		if (!atomic_load_explicit(&sc->slot_owner[cpu], memory_order_relaxed) &&
		    atomic_compare_exchange_strong(&sc->slot_owner[cpu], &none, me))
			goto found;
	}
	slabc_tls.full_id = sc->id + 1;
	slabc_tls.overflow = (unsigned)gettid() % SLABC_OVERFLOW_SLOTS;
	return -1;
found:
	slabc_tls.id = sc->id;
	slabc_tls.cpu = cpu;
	slabc_tls.ops = 0;
	return cpu;
}

static inline int slabc_this_cpu(struct mmb_slabc *sc)
{
	if (likely(slabc_tls.id == sc->id))
		return slabc_tls.cpu;
	return slabc_claim_slot(sc);
}

static struct array_cache *alloc_arraycache(unsigned limit, unsigned batchcount)
{
	struct array_cache *ac = calloc(1, sizeof(*ac) + sizeof(void *) * limit);

	if (ac) {
		ac->limit = limit;
		ac->batchcount = batchcount;
	}
	return ac;
}

/* cpu_cache_get(): made on the slot's first use of the cache. */
static inline struct array_cache *cpu_cache_get(struct mmb_slabc_cache *s, int cpu)
{
	struct array_cache *ac = s->cpu[cpu];

	if (unlikely(!ac))
		__atomic_store_n(&s->cpu[cpu], ac = alloc_arraycache(s->limit, s->batchcount),
				 __ATOMIC_RELEASE);
	return ac;
}

/* ---- slabs ---- */

static void *slabc_cache_alloc(struct mmb_slabc_cache *s, int cpu);
static void slabc_cache_free(struct mmb_slabc_cache *s, void *objp, int cpu);

/* cache_init_objs(): identity freelist; OBJFREELIST's in the last object. */
static void cache_init_objs(struct mmb_slabc_cache *s, struct mmb_page *slab)
{
	if (s->mgmt == MMB_SLABC_OBJFREELIST)
		slab->priv[0] = (uintptr_t)index_to_obj(s, slab, s->num - 1);
	for (unsigned i = 0; i < s->num; i++) {
		if (s->ctor)
			s->ctor(index_to_obj(s, slab, i));
		set_free_obj(slab, i, i);
	}
}

/* cache_grow_begin(): a new slab with the next colour, on no list yet. */
static struct mmb_page *cache_grow_begin(struct mmb_slabc_cache *s)
{
	struct mmb_slabc *sc = s->sc;
	struct slabc_node *n = &s->node;
	struct mmb_page *slab;
	unsigned offset;
	void *freelist = NULL, *addr;

	slab = mmb_alloc_pages(sc->b, s->gfporder, MMB_MT_UNMOVABLE);
	if (!slab)
		return NULL;
	pthread_mutex_lock(&n->list_lock);
	offset = n->colour_next;
	n->colour_next++;
	if (n->colour_next >= s->colour)
		n->colour_next = 0;
	pthread_mutex_unlock(&n->list_lock);
	offset *= s->colour_off;
	addr = mmb_page_address(sc->pm, slab);
	/* alloc_slabmgmt() */
	if (s->mgmt == MMB_SLABC_OFF_SLAB) {
		freelist = slabc_cache_alloc(s->freelist_cache, slabc_this_cpu(sc));
		if (!freelist) {
			mmb_free_pages(sc->b, slab, s->gfporder);
			return NULL;
		}
	} else if (s->mgmt == MMB_SLABC_ON_SLAB) {
		freelist = (char *)addr + (MMB_PAGE_SIZE << s->gfporder) - s->freelist_size;
	}
	slab->owner = s;
	slab->priv[0] = (uintptr_t)freelist;
	slab->priv[1] = slab->priv[2] = 0;
	slab->priv[3] = (uint64_t)offset << COLOUR_SHIFT;
	cache_init_objs(s, slab);
	__atomic_or_fetch(&slab->flags, MMB_PG_SLAB, __ATOMIC_RELEASE);
	atomic_fetch_add(&sc->slab_pages, 1L << s->gfporder);
	return slab;
}

/* fixup_slab_list(): full or partial, after objects were taken. */
static void fixup_slab_list(struct mmb_slabc_cache *s, struct slabc_node *n, struct mmb_page *slab)
{
	if (slab_active(slab) == s->num) {
		mmb_pl_add(&n->slabs_full, slab);
		if (s->mgmt == MMB_SLABC_OBJFREELIST)
			slab->priv[0] = 0;
	} else {
		mmb_pl_add(&n->slabs_partial, slab);
	}
}

static void cache_grow_end(struct mmb_slabc_cache *s, struct mmb_page *slab)
{
	struct slabc_node *n = &s->node;

	pthread_mutex_lock(&n->list_lock);
	n->total_slabs++;
	if (!slab_active(slab)) {
		mmb_pl_add_tail(&n->slabs_free, slab);
		n->free_slabs++;
	} else {
		fixup_slab_list(s, n, slab);
	}
	n->grown++;
	n->free_objects += s->num - slab_active(slab);
	pthread_mutex_unlock(&n->list_lock);
}

/* slab_destroy(): its frames to the buddy allocator, an off-slab freelist
 * to its cache. No list_lock held. */
static void slab_destroy(struct mmb_slabc_cache *s, struct mmb_page *slab)
{
	void *freelist = slab_freelist(slab);

	__atomic_and_fetch(&slab->flags, ~MMB_PG_SLAB, __ATOMIC_RELEASE);
	slab->owner = NULL;
	slab->priv[0] = slab->priv[1] = slab->priv[2] = slab->priv[3] = 0;
	atomic_fetch_sub(&s->sc->slab_pages, 1L << s->gfporder);
	mmb_free_pages(s->sc->b, slab, s->gfporder);
	if (s->mgmt == MMB_SLABC_OFF_SLAB)
		slabc_cache_free(s->freelist_cache, freelist, slabc_this_cpu(s->sc));
}

/* A chain of slabs to destroy, built under list_lock through priv[1]. */
static void slabs_destroy(struct mmb_slabc_cache *s, struct mmb_page *list)
{
	while (list) {
		struct mmb_page *next = mmb_pl_next(list);

		slab_destroy(s, list);
		list = next;
	}
}

static struct mmb_pagelist *slab_list_of(struct mmb_slabc_cache *s, struct slabc_node *n,
					 const struct mmb_page *slab)
{
	unsigned active = slab_active(slab);

	return !active ? &n->slabs_free : active == s->num ? &n->slabs_full : &n->slabs_partial;
}

/*
 * free_block(): nr objects back to their slabs (list_lock held). A slab
 * goes to the free list, or the partial list's tail; then free slabs from
 * the free list's tail go to *r_list while free_objects > free_limit.
 */
static void free_block(struct mmb_slabc_cache *s, void **objpp, unsigned nr, struct mmb_page **r_list)
{
	struct slabc_node *n = &s->node;

	n->free_objects += nr;
	n->active -= nr;
	for (unsigned i = 0; i < nr; i++) {
		void *objp = objpp[i];
		struct mmb_page *slab = virt_to_slab(s->sc, objp);

		mmb_pl_del(slab_list_of(s, n, slab), slab);
		slab_put_obj(s, slab, objp);
		if (!slab_active(slab)) {
			mmb_pl_add(&n->slabs_free, slab);
			n->free_slabs++;
		} else {
			/* Unconditionally move a slab to the end of the partial
			 * list on free: maximum time for the other objects to be
			 * freed, too. */
			mmb_pl_add_tail(&n->slabs_partial, slab);
		}
	}
	while (n->free_objects > n->free_limit && n->slabs_free.first) {
		struct mmb_page *slab = mmb_pl_last(&n->slabs_free);

		n->free_objects -= s->num;
		mmb_pl_del(&n->slabs_free, slab);
		slab->priv[1] = (uintptr_t)*r_list;
		*r_list = slab;
		n->free_slabs--;
		n->total_slabs--;
	}
}

/* transfer_objects(): up to max from shared into the slot's array. */
static unsigned transfer_objects(struct array_cache *to, struct array_cache *from, unsigned max)
{
	unsigned nr = from->avail < max ? from->avail : max;

	if (to->limit - to->avail < nr)
		nr = to->limit - to->avail;
	if (!nr)
		return 0;
	memcpy(to->entry + to->avail, from->entry + from->avail - nr, sizeof(void *) * nr);
	from->avail -= nr;
	to->avail += nr;
	return nr;
}

static struct mmb_page *get_first_slab(struct slabc_node *n)
{
	struct mmb_page *slab = n->slabs_partial.first;

	if (!slab) {
		n->free_touched = 1;
		slab = n->slabs_free.first;
		if (slab)
			n->free_slabs--;
	}
	return slab;
}

static unsigned alloc_block(struct mmb_slabc_cache *s, struct array_cache *ac,
			    struct mmb_page *slab, unsigned batchcount)
{
	while (slab_active(slab) < s->num && batchcount) {
		batchcount--;
		ac->entry[ac->avail++] = slab_get_obj(s, slab);
	}
	return batchcount;
}

static __attribute__((noinline)) void *cache_alloc_refill(struct mmb_slabc_cache *s,
							   struct array_cache *ac)
{
	struct slabc_node *n = &s->node;
	unsigned batchcount = ac->batchcount;
	struct mmb_page *slab;

	if (!ac->touched && batchcount > BATCHREFILL_LIMIT)
		batchcount = BATCHREFILL_LIMIT;
	pthread_mutex_lock(&n->list_lock);
	if (!n->free_objects && (!n->shared || !n->shared->avail)) {
		pthread_mutex_unlock(&n->list_lock);
		goto direct_grow;
	}
	/* See if we can refill from the shared array. */
	if (n->shared && transfer_objects(ac, n->shared, batchcount)) {
		n->shared->touched = 1;
		goto alloc_done;
	}
	while (batchcount > 0) {
		slab = get_first_slab(n);
		if (!slab)
			break;
		mmb_pl_del(slab_active(slab) ? &n->slabs_partial : &n->slabs_free, slab);
		batchcount = alloc_block(s, ac, slab, batchcount);
		fixup_slab_list(s, n, slab);
	}
	n->free_objects -= ac->avail;
	n->active += ac->avail;
	n->num_allocations += ac->avail;
	if (n->active > n->high_mark)
		n->high_mark = n->active;
alloc_done:
	pthread_mutex_unlock(&n->list_lock);
direct_grow:
	if (unlikely(!ac->avail)) {
		slab = cache_grow_begin(s);
		if (slab) {
			unsigned before = ac->avail;

			alloc_block(s, ac, slab, batchcount);
			pthread_mutex_lock(&n->list_lock);
			n->active += ac->avail - before;
			n->num_allocations += ac->avail - before;
			if (n->active > n->high_mark)
				n->high_mark = n->active;
			pthread_mutex_unlock(&n->list_lock);
			cache_grow_end(s, slab);
		}
		if (!ac->avail) {
			pthread_mutex_lock(&n->list_lock);
			n->errors++;
			pthread_mutex_unlock(&n->list_lock);
			return NULL;
		}
	}
	ac->touched = 1;
	return ac->entry[--ac->avail];
}

/* cache_flusharray(): batchcount objects to the shared array, or slabs. */
static __attribute__((noinline)) void cache_flusharray(struct mmb_slabc_cache *s,
							struct array_cache *ac)
{
	struct slabc_node *n = &s->node;
	unsigned batchcount = ac->batchcount;
	struct mmb_page *list = NULL;

	pthread_mutex_lock(&n->list_lock);
	if (n->shared) {
		struct array_cache *shared_array = n->shared;
		unsigned max = shared_array->limit - shared_array->avail;

		if (max) {
			if (batchcount > max)
				batchcount = max;
			memcpy(shared_array->entry + shared_array->avail, ac->entry,
			       sizeof(void *) * batchcount);
			shared_array->avail += batchcount;
			goto free_done;
		}
	}
	free_block(s, ac->entry, batchcount, &list);
free_done:
	pthread_mutex_unlock(&n->list_lock);
	slabs_destroy(s, list);
	ac->avail -= batchcount;
	memmove(ac->entry, ac->entry + batchcount, sizeof(void *) * ac->avail);
}

static void slabc_reap_cpu(struct mmb_slabc *sc, int cpu);

/* The thread's "timer": cache_reap after every reap_ops of its calls. */
static inline void slabc_tick(struct mmb_slabc *sc, int cpu)
{
	if (unlikely(sc->reap_ops) && unlikely(++slabc_tls.ops >= sc->reap_ops)) {
		slabc_tls.ops = 0;
		slabc_reap_cpu(sc, cpu);
	}
}

/* slabc_cache_alloc() for a thread without a slot: its shared slot, under
 * that slot's mutex, as the thread's slot while held (nested allocations
 * of the refill find it through slabc_this_cpu). */
static __attribute__((noinline)) void *slabc_cache_alloc_overflow(struct mmb_slabc_cache *s)
{
	struct mmb_slabc *sc = s->sc;
	unsigned k = slabc_tls.overflow;
	uint64_t id = slabc_tls.id;
	int cpu = slabc_tls.cpu;
	void *objp;

	pthread_mutex_lock(&sc->overflow_lock[k]);
	slabc_tls.id = sc->id;
	slabc_tls.cpu = MMB_SLABC_MAX_CPUS + (int)k;
	objp = slabc_cache_alloc(s, slabc_tls.cpu);
	slabc_tls.id = id;
	slabc_tls.cpu = cpu;
	pthread_mutex_unlock(&sc->overflow_lock[k]);
	return objp;
}

static void *slabc_cache_alloc(struct mmb_slabc_cache *s, int cpu)
{
	struct array_cache *ac;
	void *objp;

	if (unlikely(cpu < 0))
		return slabc_cache_alloc_overflow(s);
	if (unlikely(!(ac = cpu_cache_get(s, cpu))))
		return NULL;
	if (likely(ac->avail)) {
		ac->touched = 1;
		inc64(&ac->allochit);
		objp = ac->entry[--ac->avail];
	} else {
		inc64(&ac->allocmiss);
		objp = cache_alloc_refill(s, ac);
		if (!objp)
			inc64(&ac->alloc_failed);
	}
	return objp;
}

/* ___cache_free(): push on the slot's array, flushing a full one first. A
 * thread without a slot gives the object straight to its slab. */
static void slabc_cache_free(struct mmb_slabc_cache *s, void *objp, int cpu)
{
	struct array_cache *ac;

	if (unlikely(cpu < 0) || unlikely(!(ac = cpu_cache_get(s, cpu)))) {
		struct mmb_page *list = NULL;

		pthread_mutex_lock(&s->node.list_lock);
		free_block(s, &objp, 1, &list);
		pthread_mutex_unlock(&s->node.list_lock);
		slabs_destroy(s, list);
		atomic_fetch_add(&s->unslotted_frees, 1);
		return;
	}
	if (likely(ac->avail < ac->limit)) {
		inc64(&ac->freehit);
	} else {
		inc64(&ac->freemiss);
		cache_flusharray(s, ac);
	}
	ac->entry[ac->avail++] = objp;
}

/* ---- reaping ---- */

/* drain_array_locked(): (limit + 4) / 5 of the oldest entries, or all. */
static void drain_array_locked(struct mmb_slabc_cache *s, struct array_cache *ac, int free_all,
			       struct mmb_page **r_list)
{
	unsigned tofree;

	if (!ac || !ac->avail)
		return;
	tofree = free_all ? ac->avail : (ac->limit + 4) / 5;
	if (tofree > ac->avail)
		tofree = (ac->avail + 1) / 2;
	free_block(s, ac->entry, tofree, r_list);
	ac->avail -= tofree;
	memmove(ac->entry, ac->entry + tofree, sizeof(void *) * ac->avail);
}

/* drain_array(): an array touched since the last reap is left alone.
 * (The kernel tests avail and touched before taking list_lock; here they
 * are tested under it, as the shared array's are written under it.) */
static void drain_array(struct mmb_slabc_cache *s, struct array_cache *ac)
{
	struct mmb_page *list = NULL;

	if (!ac)
		return;
	pthread_mutex_lock(&s->node.list_lock);
	if (!ac->avail)
		;
	else if (ac->touched)
		ac->touched = 0;
	else
		drain_array_locked(s, ac, 0, &list);
	pthread_mutex_unlock(&s->node.list_lock);
	slabs_destroy(s, list);
}

/* drain_freelist(): up to tofree slabs from the free list's tail. */
static unsigned drain_freelist(struct mmb_slabc_cache *s, unsigned long tofree)
{
	struct slabc_node *n = &s->node;
	unsigned nr_freed = 0;

	while (nr_freed < tofree) {
		struct mmb_page *slab;

		pthread_mutex_lock(&n->list_lock);
		slab = mmb_pl_last(&n->slabs_free);
		if (!slab) {
			pthread_mutex_unlock(&n->list_lock);
			break;
		}
		mmb_pl_del(&n->slabs_free, slab);
		n->free_slabs--;
		n->total_slabs--;
		n->free_objects -= s->num;
		pthread_mutex_unlock(&n->list_lock);
		slab_destroy(s, slab);
		nr_freed++;
	}
	return nr_freed;
}

/* cache_reap() for one slot: every cache's array of the slot, and the
 * node's part where its next_reap has come. */
static void slabc_reap_cpu(struct mmb_slabc *sc, int cpu)
{
	uint64_t now = atomic_fetch_add(&sc->jiffies, 1) + 1;

	pthread_mutex_lock(&sc->slab_mutex);
	for (struct mmb_slabc_cache *s = sc->caches; s; s = s->next) {
		struct slabc_node *n = &s->node;
		unsigned long tofree;
		unsigned freed;

		drain_array(s, s->cpu[cpu]);
		pthread_mutex_lock(&n->list_lock);
		if (n->next_reap > now) {
			pthread_mutex_unlock(&n->list_lock);
			continue;
		}
		n->next_reap = now + REAP_NODE_TICKS * sc->nr_cpus;
		pthread_mutex_unlock(&n->list_lock);
		drain_array(s, n->shared);
		pthread_mutex_lock(&n->list_lock);
		if (n->free_touched) {
			n->free_touched = 0;
			pthread_mutex_unlock(&n->list_lock);
			continue;
		}
		tofree = (n->free_limit + 5 * s->num - 1) / (5 * s->num);
		pthread_mutex_unlock(&n->list_lock);
		freed = drain_freelist(s, tofree);
		pthread_mutex_lock(&n->list_lock);
		n->reaped += freed;
		pthread_mutex_unlock(&n->list_lock);
	}
	pthread_mutex_unlock(&sc->slab_mutex);
}

void mmb_slabc_reap(struct mmb_slabc *sc)
{
	int cpu = slabc_this_cpu(sc);

	if (cpu >= 0)
		slabc_reap_cpu(sc, cpu);
}

/* ---- kmem_cache API ---- */

void *mmb_slabc_cache_alloc(struct mmb_slabc_cache *s)
{
	int cpu = slabc_this_cpu(s->sc);
	void *objp = slabc_cache_alloc(s, cpu);

	if (cpu >= 0)
		slabc_tick(s->sc, cpu);
	return objp;
}

void mmb_slabc_cache_free(struct mmb_slabc_cache *s, void *objp)
{
	int cpu = slabc_this_cpu(s->sc);

	slabc_cache_free(s, objp, cpu);
	if (cpu >= 0)
		slabc_tick(s->sc, cpu);
}

/* ---- kmalloc ---- */

/* size_index[(size - 1) / 8] for sizes <= 192, as setup_kmalloc_cache_index_table
 * leaves it with KMALLOC_MIN_SIZE 32: 8..32 -> 32, 40..64 -> 64, 72..96 -> 96
 * (index 1), 104..128 -> 128, 136..192 -> 192 (index 2). */
static const uint8_t size_index[24] = {
	5, 5, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2,
};

static inline unsigned kmalloc_index(size_t size)
{
	if (size <= 192)
		return size_index[(size - 1) / 8];
	return fls_u(size - 1);
}

struct mmb_slabc_cache *mmb_slabc_kmalloc_cache(struct mmb_slabc *sc, size_t size)
{
	if (!size || size > MMB_SLABC_KMALLOC_MAX)
		return NULL;
	return sc->kmalloc_caches[kmalloc_index(size)];
}

static void *slabc_kmalloc_large(struct mmb_slabc *sc, size_t size)
{
	unsigned order = get_order(size);
	struct mmb_page *page;

	page = order <= MMB_MAX_ORDER ? mmb_alloc_pages(sc->b, order, MMB_MT_UNMOVABLE) : NULL;
	if (!page)
		return NULL;
	page->owner = &sc->large_owner;
	page->priv[0] = order;
	atomic_fetch_add(&sc->large_pages, 1L << order);
	atomic_fetch_add(&sc->large_allocs, 1);
	return mmb_page_address(sc->pm, page);
}

/* kmalloc with the contract's alignment: a larger one takes the power of
 * two above (power-of-two caches are aligned to their size). */
static void *slabc_kmalloc_align(struct mmb_slabc *sc, size_t size, size_t align)
{
	int cpu;
	void *p;

	if (unlikely(!size))
		return (void *)16;	/* ZERO_SIZE_PTR */
	if (unlikely(align > BYTES_PER_WORD)) {
		if (size < align)
			size = align;
		if (size & (size - 1))
			size = 1UL << fls_u(size);
	}
	if (unlikely(size > MMB_SLABC_KMALLOC_MAX))
		return slabc_kmalloc_large(sc, size);
	cpu = slabc_this_cpu(sc);
	p = slabc_cache_alloc(sc->kmalloc_caches[kmalloc_index(size)], cpu);
	if (cpu >= 0)
		slabc_tick(sc, cpu);
	return p;
}

void *mmb_slabc_kmalloc(struct mmb_slabc *sc, size_t size)
{
	return slabc_kmalloc_align(sc, size, 0);
}

void mmb_slabc_kfree(struct mmb_slabc *sc, const void *p)
{
	struct mmb_page *page;
	int cpu;

	if (unlikely(!p || p == (void *)16))
		return;
	page = virt_to_slab(sc, p);
	if (unlikely(page->owner == &sc->large_owner)) {
		unsigned order = (unsigned)page->priv[0];

		page->owner = NULL;
		page->priv[0] = 0;
		atomic_fetch_sub(&sc->large_pages, 1L << order);
		atomic_fetch_add(&sc->large_frees, 1);
		mmb_free_pages(sc->b, page, order);
		return;
	}
	cpu = slabc_this_cpu(sc);
	slabc_cache_free(page->owner, (void *)p, cpu);
	if (cpu >= 0)
		slabc_tick(sc, cpu);
}

size_t mmb_slabc_ksize(struct mmb_slabc *sc, const void *p)
{
	struct mmb_page *page;

	if (!p || p == (void *)16 || !mmb_pmem_contains(sc->pm, p))
		return 0;
	page = virt_to_slab(sc, p);
	if (page->owner == &sc->large_owner)
		return MMB_PAGE_SIZE << page->priv[0];
	if (page->flags & MMB_PG_SLAB)
		return ((struct mmb_slabc_cache *)page->owner)->object_size;
	return 0;
}

/* ---- cache creation ---- */

/* cache_estimate(): objects in a slab of gfporder and the bytes left. */
static unsigned cache_estimate(unsigned gfporder, size_t buffer_size, enum mmb_slabc_mgmt mgmt,
			       size_t *left_over)
{
	size_t slab_size = MMB_PAGE_SIZE << gfporder;

	if (mgmt != MMB_SLABC_ON_SLAB) {
		*left_over = slab_size % buffer_size;
		return (unsigned)(slab_size / buffer_size);
	}
	*left_over = slab_size % (buffer_size + sizeof(freelist_idx_t));
	return (unsigned)(slab_size / (buffer_size + sizeof(freelist_idx_t)));
}

/* calculate_slab_order(): sets s->num and s->gfporder (num 0: none fits);
 * returns the left-over bytes. */
static size_t calculate_slab_order(struct mmb_slabc_cache *s, size_t size, enum mmb_slabc_mgmt mgmt)
{
	size_t left_over = 0;

	for (unsigned gfporder = 0; gfporder <= MMB_MAX_ORDER; gfporder++) {
		size_t remainder;
		unsigned num = cache_estimate(gfporder, size, mgmt, &remainder);

		if (!num)
			continue;
		/* Can't handle number of objects more than SLAB_OBJ_MAX_NUM */
		if (num > SLAB_OBJ_MAX_NUM)
			break;
		if (mgmt == MMB_SLABC_OFF_SLAB) {
			size_t freelist_size = num * sizeof(freelist_idx_t), freelist_cache_size;

			if (freelist_size > MMB_SLABC_KMALLOC_MAX) {
				freelist_cache_size = MMB_PAGE_SIZE << get_order(freelist_size);
			} else {
				struct mmb_slabc_cache *fc = mmb_slabc_kmalloc_cache(s->sc, freelist_size);

				if (!fc)
					continue;
				freelist_cache_size = fc->size;
				/* Needed to avoid a loop in cache_grow_begin() */
				if (fc->mgmt == MMB_SLABC_OFF_SLAB)
					continue;
			}
			/* check if off slab has enough benefit */
			if (freelist_cache_size > s->size / 2)
				continue;
		}
		/* Found something acceptable - save it away */
		s->num = num;
		s->gfporder = gfporder;
		left_over = remainder;
		/* Large number of objects is good, but very large slabs are
		 * currently bad for the gfp()s. */
		if (gfporder >= s->sc->slab_max_order)
			break;
		/* Acceptable internal fragmentation? */
		if (left_over * 8 <= (MMB_PAGE_SIZE << gfporder))
			break;
	}
	return left_over;
}

/* set_objfreelist_slab_cache / set_off_slab_cache / set_on_slab_cache. */
static int slabc_place_freelist(struct mmb_slabc_cache *s, size_t size)
{
	size_t left;

	s->num = 0;
	if (!s->ctor) {
		left = calculate_slab_order(s, size, MMB_SLABC_OBJFREELIST);
		if (s->num && s->num * sizeof(freelist_idx_t) <= s->object_size) {
			s->mgmt = MMB_SLABC_OBJFREELIST;
			s->colour = (unsigned)(left / s->colour_off);
			return 0;
		}
	}
	s->num = 0;
	left = calculate_slab_order(s, size, MMB_SLABC_OFF_SLAB);
	/* If the slab has been placed off-slab, and we have enough space then
	 * move it on-slab. This is at the expense of any extra colouring. */
	if (s->num && left < s->num * sizeof(freelist_idx_t)) {
		s->mgmt = MMB_SLABC_OFF_SLAB;
		s->colour = (unsigned)(left / s->colour_off);
		return 0;
	}
	s->num = 0;
	left = calculate_slab_order(s, size, MMB_SLABC_ON_SLAB);
	if (!s->num)
		return -E2BIG;
	s->mgmt = MMB_SLABC_ON_SLAB;
	s->colour = (unsigned)(left / s->colour_off);
	return 0;
}

/* enable_cpucache(): the tunables by object size. */
static void enable_cpucache(const struct mmb_slabc *sc, unsigned size, unsigned *r_limit,
			    unsigned *r_batchcount, unsigned *r_shared)
{
	unsigned limit;

	if (size > 131072)
		limit = 1;
	else if (size > MMB_PAGE_SIZE)
		limit = 8;
	else if (size > 1024)
		limit = 24;
	else if (size > 256)
		limit = 54;
	else
		limit = 120;
	*r_shared = size <= MMB_PAGE_SIZE && sc->nr_cpus > 1 ? 8 : 0;
	*r_limit = limit;
	*r_batchcount = (limit + 1) / 2;
}

static int slabc_cache_init(struct mmb_slabc *sc, struct mmb_slabc_cache *s, const char *name,
			    unsigned size, unsigned align, void (*ctor)(void *), int kmalloc,
			    char *err, size_t errlen)
{
	struct slabc_node *n = &s->node;
	unsigned ralign = BYTES_PER_WORD;

	memset(s, 0, sizeof(*s));
	s->sc = sc;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->object_size = size;
	s->ctor = ctor;
	/* __kmem_cache_create() */
	size = (size + BYTES_PER_WORD - 1) & ~(unsigned)(BYTES_PER_WORD - 1);
	if (ralign < align)
		ralign = align;
	s->align = ralign;
	s->colour_off = CACHE_LINE;
	/* Offset must be a multiple of the alignment. */
	if (s->colour_off < s->align)
		s->colour_off = s->align;
	size = (size + s->align - 1) & ~(s->align - 1);
	if (size < SLAB_OBJ_MIN_SIZE)
		size = (SLAB_OBJ_MIN_SIZE + s->align - 1) & ~(s->align - 1);
	s->size = size;
	if (slabc_place_freelist(s, size)) {
		snprintf(err, errlen, "slab: cache %s: objects of %u bytes fit no slab", name, size);
		return -E2BIG;
	}
	s->freelist_size = s->num * (unsigned)sizeof(freelist_idx_t);
	if (s->mgmt == MMB_SLABC_OFF_SLAB)
		s->freelist_cache = mmb_slabc_kmalloc_cache(sc, s->freelist_size);
	enable_cpucache(sc, s->size, &s->limit, &s->batchcount, &s->shared);
	if (kmalloc && sc->t_limit >= 0) {
		s->limit = (unsigned)sc->t_limit;
		s->batchcount = (unsigned)sc->t_batchcount;
		s->shared = (unsigned)sc->t_shared;
	}
	/* setup_kmem_cache_node() */
	pthread_mutex_init(&n->list_lock, NULL);
	n->free_limit = (1 + sc->nr_cpus) * s->batchcount + s->num;
	n->next_reap = REAP_NODE_TICKS * sc->nr_cpus;
	if (s->shared) {
		n->shared = alloc_arraycache(s->shared * s->batchcount, 0xbaadf00d);
		if (!n->shared) {
			pthread_mutex_destroy(&n->list_lock);
			snprintf(err, errlen, "slab: out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

int mmb_slabc_cache_create(struct mmb_slabc *sc, const char *name, unsigned size, unsigned align,
			   void (*ctor)(void *obj), struct mmb_slabc_cache **r_s, char *err,
			   size_t errlen)
{
	struct mmb_slabc_cache *s;
	int rc;

	if (size < 1 || size > MMB_SLABC_KMALLOC_MAX || (align & (align - 1)) ||
	    align > MMB_PAGE_SIZE) {
		snprintf(err, errlen, "slab: cache %s: size %u or align %u out of range "
			 "(size 1..%u, align a power of two <= %lu)", name, size, align,
			 MMB_SLABC_KMALLOC_MAX, MMB_PAGE_SIZE);
		return -EINVAL;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "slab: out of memory");
		return -ENOMEM;
	}
	rc = slabc_cache_init(sc, s, name, size, align, ctor, 0, err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	pthread_mutex_lock(&sc->slab_mutex);
	s->next = sc->caches;
	sc->caches = s;
	pthread_mutex_unlock(&sc->slab_mutex);
	*r_s = s;
	return 0;
}

void mmb_slabc_cache_get_info(struct mmb_slabc_cache *s, struct mmb_slabc_cache_info *r)
{
	struct slabc_node *n = &s->node;

	memset(r, 0, sizeof(*r));
	r->name = s->name;
	r->object_size = s->object_size;
	r->size = s->size;
	r->align = s->align;
	r->gfporder = s->gfporder;
	r->num = s->num;
	r->colour = s->colour;
	r->colour_off = s->colour_off;
	r->mgmt = s->mgmt;
	r->limit = s->limit;
	r->batchcount = s->batchcount;
	r->shared = s->shared;
	pthread_mutex_lock(&n->list_lock);
	r->free_limit = n->free_limit;
	r->total_slabs = n->total_slabs;
	r->free_slabs = n->free_slabs;
	r->partial_slabs = n->slabs_partial.nr;
	r->full_slabs = n->slabs_full.nr;
	r->free_objects = n->free_objects;
	r->shared_avail = n->shared ? n->shared->avail : 0;
	r->grown = n->grown;
	r->reaped = n->reaped;
	pthread_mutex_unlock(&n->list_lock);
}

/* ---- instance ---- */

static void slabc_cache_teardown(struct mmb_slabc_cache *s)
{
	for (int cpu = 0; cpu < SLABC_NSLOTS; cpu++)
		free(s->cpu[cpu]);
	free(s->node.shared);
	pthread_mutex_destroy(&s->node.list_lock);
	free(s);
}

int mmb_slabc_create(const struct mmb_slabc_cfg *cfg, struct mmb_slabc **r_sc, char *err,
		     size_t errlen)
{
	struct mmb_slabc *sc;
	int rc;

	if (!cfg->buddy || cfg->nr_cpus < 1 || cfg->max_order > MMB_MAX_ORDER) {
		snprintf(err, errlen, "slab: bad configuration (cpus >= 1, max_order <= %d)",
			 MMB_MAX_ORDER);
		return -EINVAL;
	}
	/* slabinfo_write()'s rule for tunables */
	if (cfg->limit >= 0 && (cfg->limit < 1 || cfg->batchcount < 1 ||
				cfg->batchcount > cfg->limit || cfg->shared < 0)) {
		snprintf(err, errlen, "slab: tunables need 1 <= batchcount (%d) <= limit (%d), shared >= 0",
			 cfg->batchcount, cfg->limit);
		return -EINVAL;
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc) {
		snprintf(err, errlen, "slab: out of memory");
		return -ENOMEM;
	}
	sc->b = cfg->buddy;
	sc->pm = mmb_buddy_pmem(cfg->buddy);
	sc->id = atomic_fetch_add(&slabc_next_id, 1);
	sc->nr_cpus = cfg->nr_cpus;
	/* kmem_cache_init(): order 1 allowed with more than 32 MiB of memory */
	if (cfg->max_order >= 0)
		sc->slab_max_order = (unsigned)cfg->max_order;
	else
		sc->slab_max_order = sc->pm->bytes > (32ULL << 20) ? SLAB_MAX_ORDER_HI
								   : SLAB_MAX_ORDER_LO;
	sc->reap_ops = cfg->reap_ops;
	sc->t_limit = cfg->limit;
	sc->t_batchcount = cfg->batchcount;
	sc->t_shared = cfg->shared;
	pthread_mutex_init(&sc->slab_mutex, NULL);
	for (int k = 0; k < SLABC_OVERFLOW_SLOTS; k++)
		pthread_mutex_init(&sc->overflow_lock[k], NULL);
	/* create_kmalloc_caches(): 32 .. 8k, 96 after 64, 192 after 128 */
	for (unsigned i = KMALLOC_SHIFT_LOW; i <= KMALLOC_SHIFT_HIGH; i++) {
		unsigned idx[2] = { i, i == 6 ? 1 : i == 7 ? 2 : 0 };

		for (int k = 0; k < 2 && idx[k]; k++) {
			unsigned size = idx[k] == 1 ? 96 : idx[k] == 2 ? 192 : 1u << idx[k];
			char name[NAME_MAX_LEN];
			struct mmb_slabc_cache *s;

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
			/* create_boot_cache(): powers of two aligned to their
			 * size, 96 and 192 to ARCH_KMALLOC_MINALIGN */
			rc = slabc_cache_init(sc, s, name, size, size & (size - 1) ? 0 : size, NULL,
					      1, err, errlen);
			if (rc) {
				free(s);
				goto fail;
			}
			s->next = sc->caches;
			sc->caches = s;
			sc->kmalloc_caches[idx[k]] = s;
		}
	}
	*r_sc = sc;
	return 0;
fail:
	mmb_slabc_destroy(sc);
	return rc;
}

void mmb_slabc_destroy(struct mmb_slabc *sc)
{
	for (struct mmb_page *page = sc->pm->pages; page < sc->pm->pages + sc->pm->nr_pfns; page++) {
		unsigned order;

		if (page->flags & MMB_PG_SLAB) {
			order = ((struct mmb_slabc_cache *)page->owner)->gfporder;
			page->flags &= ~MMB_PG_SLAB;
		} else if (page->owner == &sc->large_owner) {
			order = (unsigned)page->priv[0];
		} else {
			continue;
		}
		page->owner = NULL;
		page->priv[0] = page->priv[1] = page->priv[2] = page->priv[3] = 0;
		mmb_free_pages(sc->b, page, order);
	}
	while (sc->caches) {
		struct mmb_slabc_cache *s = sc->caches;

		sc->caches = s->next;
		slabc_cache_teardown(s);
	}
	pthread_mutex_destroy(&sc->slab_mutex);
	for (int k = 0; k < SLABC_OVERFLOW_SLOTS; k++)
		pthread_mutex_destroy(&sc->overflow_lock[k]);
	if (slabc_tls.id == sc->id)
		slabc_tls.id = 0;
	free(sc);
}

void mmb_slabc_thread_attach(struct mmb_slabc *sc)
{
	mmb_buddy_thread_attach(sc->b);
	slabc_this_cpu(sc);
}

/* The CPU goes offline: its arrays go back to the slabs (free_all). */
void mmb_slabc_thread_detach(struct mmb_slabc *sc)
{
	int cpu = slabc_tls.id == sc->id ? slabc_tls.cpu : -1;

	if (cpu >= 0) {
		pthread_mutex_lock(&sc->slab_mutex);
		for (struct mmb_slabc_cache *s = sc->caches; s; s = s->next) {
			struct mmb_page *list = NULL;

			if (!s->cpu[cpu])
				continue;
			pthread_mutex_lock(&s->node.list_lock);
			drain_array_locked(s, s->cpu[cpu], 1, &list);
			pthread_mutex_unlock(&s->node.list_lock);
			slabs_destroy(s, list);
		}
		pthread_mutex_unlock(&sc->slab_mutex);
		slabc_tls.id = 0;
		atomic_store(&sc->slot_owner[cpu], 0);
	}
	mmb_buddy_thread_detach(sc->b);
}

/* ---- observability ---- */

struct slabc_cpustat {
	uint64_t allochit, allocmiss, freehit, freemiss, alloc_failed;
};

static void slabc_sum_cpus(const struct mmb_slabc_cache *s, struct slabc_cpustat *r)
{
	memset(r, 0, sizeof(*r));
	for (int cpu = 0; cpu < SLABC_NSLOTS; cpu++) {
		const struct array_cache *ac = __atomic_load_n(&s->cpu[cpu], __ATOMIC_ACQUIRE);

		if (!ac)
			continue;
		r->allochit += ld64(&ac->allochit);
		r->allocmiss += ld64(&ac->allocmiss);
		r->freehit += ld64(&ac->freehit);
		r->freemiss += ld64(&ac->freemiss);
		r->alloc_failed += ld64(&ac->alloc_failed);
	}
}

/* Objects handed to callers and not freed (not the objects in arrays). */
static uint64_t slabc_live(const struct mmb_slabc_cache *s, const struct slabc_cpustat *c)
{
	uint64_t in = c->allochit + c->allocmiss - c->alloc_failed;
	uint64_t out = c->freehit + c->freemiss + atomic_load(&s->unslotted_frees);

	return in > out ? in - out : 0;
}

/* get_slabinfo() + slabinfo_show() + slabinfo_show_stats() of mm/slab.c. */
int mmb_slabc_write_slabinfo(struct mmb_slabc *sc, FILE *f)
{
	fprintf(f, "slabinfo - version: 2.1 (statistics)\n");
	fprintf(f, "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
		   " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs>"
		   " <num_slabs> <sharedavail> : globalstat <listallocs> <maxobjs> <grown> <reaped>"
		   " <error> <maxfreeable> <nodeallocs> <remotefrees> <alienoverflow>"
		   " : cpustat <allochit> <allocmiss> <freehit> <freemiss>\n");
	pthread_mutex_lock(&sc->slab_mutex);
	for (struct mmb_slabc_cache *s = sc->caches; s; s = s->next) {
		struct slabc_node *n = &s->node;
		unsigned long total_slabs, free_slabs, free_objs, shared_avail, num_objs;
		uint64_t grown, reaped, high, errors, listallocs;
		struct slabc_cpustat c;

		pthread_mutex_lock(&n->list_lock);
		total_slabs = n->total_slabs;
		free_slabs = n->free_slabs;
		free_objs = n->free_objects;
		shared_avail = n->shared ? n->shared->avail : 0;
		grown = n->grown;
		reaped = n->reaped;
		high = n->high_mark;
		errors = n->errors;
		listallocs = n->num_allocations;
		pthread_mutex_unlock(&n->list_lock);
		slabc_sum_cpus(s, &c);
		num_objs = total_slabs * s->num;
		fprintf(f, "%-17s %6lu %6lu %6u %4u %4d", s->name, num_objs - free_objs, num_objs,
			s->size, s->num, 1 << s->gfporder);
		fprintf(f, " : tunables %4u %4u %4u", s->limit, s->batchcount, s->shared);
		fprintf(f, " : slabdata %6lu %6lu %6lu", total_slabs - free_slabs, total_slabs,
			shared_avail);
		/* maxfreeable (not kept), nodeallocs, remotefrees, alienoverflow
		 * (NUMA: zero on one node) are printed as 0 */
		fprintf(f, " : globalstat %7llu %6llu %5llu %4llu %4llu %4u %4u %4u %4u",
			(unsigned long long)listallocs, (unsigned long long)high,
			(unsigned long long)grown, (unsigned long long)reaped,
			(unsigned long long)errors, 0u, 0u, 0u, 0u);
		fprintf(f, " : cpustat %6llu %6llu %6llu %6llu\n", (unsigned long long)c.allochit,
			(unsigned long long)c.allocmiss, (unsigned long long)c.freehit,
			(unsigned long long)c.freemiss);
	}
	pthread_mutex_unlock(&sc->slab_mutex);
	return ferror(f) ? -EIO : 0;
}

/* slabstats: per cache, the layout and colour, and the live objects. */
static int slabc_write_stats(struct mmb_slabc *sc, FILE *f)
{
	static const char *const mgmt[] = { "on-slab", "off-slab", "objfreelist" };

	fprintf(f, "# cache object_size size align order num colour colour_off freelist free_limit"
		   " live_objects usable_bytes\n");
	pthread_mutex_lock(&sc->slab_mutex);
	for (struct mmb_slabc_cache *s = sc->caches; s; s = s->next) {
		struct slabc_cpustat c;
		uint64_t live;

		slabc_sum_cpus(s, &c);
		live = slabc_live(s, &c);
		fprintf(f, "%s %u %u %u %u %u %u %u %s %lu %llu %llu\n", s->name, s->object_size,
			s->size, s->align, s->gfporder, s->num, s->colour, s->colour_off, mgmt[s->mgmt],
			s->node.free_limit, (unsigned long long)live,
			(unsigned long long)live * s->object_size);
	}
	pthread_mutex_unlock(&sc->slab_mutex);
	fprintf(f, "# large kmalloc: pages %ld allocs %ld frees %ld; reap runs %lu\n",
		atomic_load(&sc->large_pages), atomic_load(&sc->large_allocs),
		atomic_load(&sc->large_frees), atomic_load(&sc->jiffies));
	return ferror(f) ? -EIO : 0;
}

/* ---- check ---- */

#define CHECK_FAIL(...)                                                                        \
	do {                                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                                            \
		return -EUCLEAN;                                                               \
	} while (0)

/* Marks in map (one byte per object of every slab, by slab): 1 free on its
 * slab, 2 in an array. */
struct slabc_map {
	struct mmb_page **slab;
	uint8_t (*obj)[SLAB_OBJ_MAX_NUM];
	size_t n, cap;
};

static long map_find(const struct slabc_map *m, const struct mmb_page *slab)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->slab[i] == slab)
			return (long)i;
	return -1;
}

static int check_slab(struct mmb_slabc_cache *s, struct mmb_page *slab, const struct mmb_pagelist *on,
		      struct slabc_map *m, char *err, size_t errlen)
{
	struct slabc_node *n = &s->node;
	unsigned long pfn = (unsigned long)mmb_page_to_pfn(s->sc->pm, slab);
	unsigned active = slab_active(slab), colour = slab_colour_off(slab);
	char *base = mmb_page_address(s->sc->pm, slab);
	uint8_t *om;

	if (slab->owner != s || !(slab->flags & MMB_PG_SLAB))
		CHECK_FAIL("slab: %s: slab %lu on its list is not its slab", s->name, pfn);
	if (active > s->num)
		CHECK_FAIL("slab: %s: slab %lu: active %u > num %u", s->name, pfn, active, s->num);
	if (slab_list_of(s, n, slab) != on)
		CHECK_FAIL("slab: %s: slab %lu with %u of %u active is on the wrong list", s->name,
			   pfn, active, s->num);
	if (colour % s->colour_off || (colour && colour >= s->colour * s->colour_off))
		CHECK_FAIL("slab: %s: slab %lu: colour offset %u not a colour (%u x %u)", s->name,
			   pfn, colour, s->colour, s->colour_off);
	if (s->mgmt == MMB_SLABC_ON_SLAB &&
	    slab_freelist(slab) != base + (MMB_PAGE_SIZE << s->gfporder) - s->freelist_size)
		CHECK_FAIL("slab: %s: slab %lu: on-slab freelist not at the slab's end", s->name, pfn);
	if (s->mgmt == MMB_SLABC_OBJFREELIST && (active == s->num) != !slab_freelist(slab))
		CHECK_FAIL("slab: %s: slab %lu: objfreelist %p with %u of %u active", s->name, pfn,
			   slab_freelist(slab), active, s->num);
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		void *a = realloc(m->slab, cap * sizeof(*m->slab));

		if (!a)
			CHECK_FAIL("slab: check: out of memory");
		m->slab = a;
		a = realloc(m->obj, cap * sizeof(*m->obj));
		if (!a)
			CHECK_FAIL("slab: check: out of memory");
		m->obj = a;
		m->cap = cap;
	}
	m->slab[m->n] = slab;
	om = m->obj[m->n++];
	memset(om, 0, SLAB_OBJ_MAX_NUM);
	for (unsigned i = active; i < s->num; i++) {
		unsigned idx = get_free_obj(slab, i);

		if (idx >= s->num || om[idx])
			CHECK_FAIL("slab: %s: slab %lu: free index %u at %u is %s", s->name, pfn, idx, i,
				   idx >= s->num ? "out of range" : "twice on the freelist");
		om[idx] = 1;
	}
	if (s->mgmt == MMB_SLABC_OBJFREELIST && active < s->num &&
	    slab_freelist(slab) != index_to_obj(s, slab, get_free_obj(slab, s->num - 1)))
		CHECK_FAIL("slab: %s: slab %lu: objfreelist not in the object handed out last", s->name,
			   pfn);
	return 0;
}

static int check_array(struct mmb_slabc_cache *s, const struct array_cache *ac, const char *what,
		       struct slabc_map *m, char *err, size_t errlen)
{
	if (ac->avail > ac->limit)
		CHECK_FAIL("slab: %s: %s array holds %u > limit %u", s->name, what, ac->avail, ac->limit);
	for (unsigned i = 0; i < ac->avail; i++) {
		const void *obj = ac->entry[i];
		struct mmb_page *slab;
		long k;
		unsigned idx;

		if (!mmb_pmem_contains(s->sc->pm, obj))
			CHECK_FAIL("slab: %s: %s array entry %u (%p) outside memory", s->name, what, i, obj);
		slab = virt_to_slab(s->sc, obj);
		k = map_find(m, slab);
		if (k < 0 || slab->owner != s)
			CHECK_FAIL("slab: %s: %s array entry %u is not in one of its slabs", s->name, what, i);
		idx = obj_to_index(s, slab, obj);
		if (idx >= s->num || index_to_obj(s, slab, idx) != obj)
			CHECK_FAIL("slab: %s: %s array entry %u not on an object start", s->name, what, i);
		if (m->obj[k][idx])
			CHECK_FAIL("slab: %s: %s array entry %u is %s", s->name, what, i,
				   m->obj[k][idx] == 1 ? "free on its slab" : "in two arrays");
		m->obj[k][idx] = 2;
	}
	return 0;
}

static int check_cache(struct mmb_slabc_cache *s, char *err, size_t errlen)
{
	struct slabc_node *n = &s->node;
	const struct mmb_pagelist *lists[3] = { &n->slabs_partial, &n->slabs_full, &n->slabs_free };
	struct slabc_map m = { 0 };
	unsigned long slabs = 0, free_objs = 0, in_arrays = 0, taken = 0;
	struct slabc_cpustat c;
	int rc = 0;
	char what[32];

	for (int l = 0; l < 3 && !rc; l++) {
		unsigned long cnt = 0;

		for (struct mmb_page *slab = lists[l]->first; slab && !rc;
		     slab = mmb_pl_iter_next(lists[l], slab)) {
			rc = check_slab(s, slab, lists[l], &m, err, errlen);
			free_objs += s->num - slab_active(slab);
			taken += slab_active(slab);
			if (++cnt > n->total_slabs + 1) {
				snprintf(err, errlen, "slab: %s: a slab list has a cycle", s->name);
				rc = -EUCLEAN;
			}
		}
		if (!rc && cnt != lists[l]->nr) {
			snprintf(err, errlen, "slab: %s: list %d has %lu slabs, its count %lu", s->name,
				 l, cnt, lists[l]->nr);
			rc = -EUCLEAN;
		}
		slabs += cnt;
	}
	if (!rc && (slabs != n->total_slabs || n->slabs_free.nr != n->free_slabs ||
		    free_objs != n->free_objects)) {
		snprintf(err, errlen, "slab: %s: found %lu slabs (%lu free), %lu free objects; counts say"
			 " %lu (%lu), %lu", s->name, slabs, n->slabs_free.nr, free_objs, n->total_slabs,
			 n->free_slabs, n->free_objects);
		rc = -EUCLEAN;
	}
	for (int cpu = 0; cpu < SLABC_NSLOTS && !rc; cpu++)
		if (s->cpu[cpu]) {
			snprintf(what, sizeof(what), "slot %d", cpu);
			rc = check_array(s, s->cpu[cpu], what, &m, err, errlen);
			in_arrays += s->cpu[cpu]->avail;
		}
	if (!rc && n->shared) {
		rc = check_array(s, n->shared, "shared", &m, err, errlen);
		in_arrays += n->shared->avail;
	}
	slabc_sum_cpus(s, &c);
	if (!rc && taken != in_arrays + slabc_live(s, &c)) {
		snprintf(err, errlen, "slab: %s: %lu objects off the slab freelists, but %lu in arrays"
			 " and %llu allocated", s->name, taken, in_arrays,
			 (unsigned long long)slabc_live(s, &c));
		rc = -EUCLEAN;
	}
	free(m.slab);
	free(m.obj);
	return rc;
}

int mmb_slabc_check(struct mmb_slabc *sc, char *err, size_t errlen)
{
	long pages = 0;
	int rc = 0;

	pthread_mutex_lock(&sc->slab_mutex);
	for (struct mmb_slabc_cache *s = sc->caches; s && !rc; s = s->next) {
		pthread_mutex_lock(&s->node.list_lock);
		rc = check_cache(s, err, errlen);
		pages += (long)s->node.total_slabs << s->gfporder;
		pthread_mutex_unlock(&s->node.list_lock);
	}
	pthread_mutex_unlock(&sc->slab_mutex);
	if (!rc && pages != atomic_load(&sc->slab_pages)) {
		snprintf(err, errlen, "slab: the caches' slabs hold %ld frames, the count says %ld", pages,
			 atomic_load(&sc->slab_pages));
		rc = -EUCLEAN;
	}
	return rc;
}

/* ---- the registry entry: kmalloc-slab ---- */

struct mmb_alloc {
	struct mmb_buddy *b;
	struct mmb_slabc *sc;
	atomic_ulong failed_allocs;
};

static const struct mmb_param slabc_opts[] = {
	{ "mem", MMB_P_SIZE, "256M", 4 << 20, 64ULL << 30, NULL, "simulated physical memory, bytes" },
	{ "cpus", MMB_P_U64, "0", 0, MMB_SLABC_MAX_CPUS, NULL,
	  "online CPUs for shared arrays and free_limit (0 = the cell's threads)" },
	{ "max_order", MMB_P_U64, "0", 0, MMB_MAX_ORDER, NULL,
	  "slab_max_order (default: 1 above 32 MiB of memory, else 0)" },
	{ "reap", MMB_P_U64, "100000", 0, 1ULL << 40, NULL,
	  "cache_reap every this many calls of a thread (the kernel's 2 s timer; 0 = never)" },
	{ "limit", MMB_P_U64, "0", 0, 100000, NULL,
	  "kmalloc caches' array limit (0 = enable_cpucache's rule by size)" },
	{ "batchcount", MMB_P_U64, "0", 0, 100000, NULL,
	  "kmalloc caches' batchcount (with limit; default (limit + 1) / 2)" },
	{ "shared", MMB_P_U64, "0", 0, 1000, NULL,
	  "kmalloc caches' shared factor (with limit; default 8 with 2+ CPUs)" },
	{ "pcp", MMB_P_BOOL, "on", 0, 0, NULL, "buddy per-thread page lists" },
	{ 0 },
};

/* The tunables as the slabinfo write takes them: limit first. */
static int slabc_reg_tunables(const struct mmb_pvals *o, struct mmb_slabc_cfg *c, char *err,
			      size_t errlen)
{
	c->limit = c->batchcount = c->shared = -1;
	if (!mmb_pval_u64(o, "limit")) {
		if (mmb_pval_given(o, "batchcount") || mmb_pval_given(o, "shared")) {
			snprintf(err, errlen, "allocator kmalloc-slab: batchcount= and shared= need limit=");
			return -EINVAL;
		}
		return 0;
	}
	c->limit = (int)mmb_pval_u64(o, "limit");
	c->batchcount = mmb_pval_given(o, "batchcount") ? (int)mmb_pval_u64(o, "batchcount")
						       : (c->limit + 1) / 2;
	c->shared = mmb_pval_given(o, "shared") ? (int)mmb_pval_u64(o, "shared") : 8;
	if (c->batchcount < 1 || c->batchcount > c->limit) {
		snprintf(err, errlen, "allocator kmalloc-slab: batchcount=%d not in 1..limit=%d",
			 c->batchcount, c->limit);
		return -EINVAL;
	}
	return 0;
}

static int slabc_reg_validate(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen)
{
	struct mmb_slabc_cfg c;

	return slabc_reg_tunables(&cfg->opts, &c, err, errlen);
}

static int slabc_reg_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
			    size_t errlen)
{
	const struct mmb_pvals *o = &cfg->opts;
	unsigned threads = cfg->nthreads ? cfg->nthreads : 1;
	struct mmb_buddy_cfg bc = {
		.mem_bytes = mmb_pval_u64(o, "mem"),
		.pcp = (int)mmb_pval_u64(o, "pcp"),
		.nthreads = threads,
	};
	struct mmb_slabc_cfg sc = {
		.nr_cpus = mmb_pval_u64(o, "cpus") ? (unsigned)mmb_pval_u64(o, "cpus") : threads,
		.max_order = mmb_pval_given(o, "max_order") ? (int)mmb_pval_u64(o, "max_order") : -1,
		.reap_ops = mmb_pval_u64(o, "reap"),
	};
	struct mmb_alloc *a;
	int rc = slabc_reg_tunables(o, &sc, err, errlen);

	if (rc)
		return rc;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "slab: out of memory");
		return -ENOMEM;
	}
	rc = mmb_buddy_create(&bc, &a->b, err, errlen);
	if (rc)
		goto fail;
	sc.buddy = a->b;
	rc = mmb_slabc_create(&sc, &a->sc, err, errlen);
	if (rc)
		goto fail_buddy;
	*r_a = a;
	return 0;
fail_buddy:
	mmb_buddy_destroy(a->b);
fail:
	free(a);
	return rc;
}

static void slabc_reg_destroy(struct mmb_alloc *a)
{
	mmb_slabc_destroy(a->sc);
	mmb_buddy_destroy(a->b);
	free(a);
}

static void slabc_reg_thread_attach(struct mmb_alloc *a)
{
	mmb_slabc_thread_attach(a->sc);
}

static void slabc_reg_thread_detach(struct mmb_alloc *a)
{
	mmb_slabc_thread_detach(a->sc);
}

static void *slabc_reg_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	void *p = slabc_kmalloc_align(a->sc, size, align);

	if (unlikely(!p))
		atomic_fetch_add_explicit(&a->failed_allocs, 1, memory_order_relaxed);
	return p;
}

/* kfree: the page descriptor names the cache (SLAB has no sized free). */
static void slabc_reg_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)size;
	mmb_slabc_kfree(a->sc, p);
}

static size_t slabc_reg_usable_size(struct mmb_alloc *a, const void *p)
{
	return mmb_slabc_ksize(a->sc, p);
}

static void slabc_reg_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	struct mmb_slabc *sc = a->sc;
	uint64_t usable = 0, allocs = 0, frees = 0;

	pthread_mutex_lock(&sc->slab_mutex);
	for (struct mmb_slabc_cache *s = sc->caches; s; s = s->next) {
		struct slabc_cpustat c;

		slabc_sum_cpus(s, &c);
		usable += slabc_live(s, &c) * s->object_size;
		allocs += c.allochit + c.allocmiss - c.alloc_failed;
		frees += c.freehit + c.freemiss + atomic_load(&s->unslotted_frees);
	}
	pthread_mutex_unlock(&sc->slab_mutex);
	r_st->footprint_bytes =
		(uint64_t)(atomic_load(&sc->slab_pages) + atomic_load(&sc->large_pages)) * MMB_PAGE_SIZE;
	r_st->usable_bytes = usable + (uint64_t)atomic_load(&sc->large_pages) * MMB_PAGE_SIZE;
	r_st->allocs = allocs + (uint64_t)atomic_load(&sc->large_allocs);
	r_st->frees = frees + (uint64_t)atomic_load(&sc->large_frees);
	r_st->failed_allocs = atomic_load_explicit(&a->failed_allocs, memory_order_relaxed);
}

static int slabc_reg_check(struct mmb_alloc *a, char *err, size_t errlen)
{
	int rc = mmb_slabc_check(a->sc, err, errlen);

	return rc ? rc : mmb_buddy_check(a->b, err, errlen);
}

static int slabc_file_slabinfo(FILE *f, void *ctx)
{
	return mmb_slabc_write_slabinfo(ctx, f);
}

static int slabc_file_stats(FILE *f, void *ctx)
{
	return slabc_write_stats(ctx, f);
}

static int slabc_reg_dump_state(struct mmb_alloc *a, const char *dir)
{
	int rc = mmb_state_write(dir, "slabinfo", slabc_file_slabinfo, a->sc);

	return rc ? rc : mmb_state_write(dir, "slabstats", slabc_file_stats, a->sc);
}

const struct mmb_alloc_ops mmb_slab_classic_ops = {
	.name = "kmalloc-slab",
	.desc = "SLAB kmalloc (mm/slab.c, 6.7): per-thread arrays, shared array, coloured slabs, "
		"on the buddy allocator",
	.opts = slabc_opts,
	.validate = slabc_reg_validate,
	.create = slabc_reg_create,
	.destroy = slabc_reg_destroy,
	.thread_attach = slabc_reg_thread_attach,
	.thread_detach = slabc_reg_thread_detach,
	.alloc = slabc_reg_alloc,
	.free = slabc_reg_free,
	.usable_size = slabc_reg_usable_size,
	.stats = slabc_reg_stats,
	.check = slabc_reg_check,
	.dump_state = slabc_reg_dump_state,
};

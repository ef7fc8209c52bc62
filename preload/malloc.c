/*
 * malloc.c — libmmb-malloc.so: the malloc family of a whole program on the
 * kernel-style allocators. LD_PRELOADed by `mmbench exec -a ALLOC[:opts]`,
 * which names the allocator in MMB_MALLOC_ALLOC (unset: slab) and its
 * options in MMB_MALLOC_OPTS (both described in malloc_opts.h):
 *
 *   slab	request <= kmalloc_max		kmalloc (slab.c), min 16 bytes so
 *						every block is 16-aligned as glibc's
 *		kmalloc_max < request < vmalloc_min	a buddy block of 2^order
 *						frames (movable), owner = &shim_pages
 *		request >= vmalloc_min		a vmalloc area
 *   buddy	every request a buddy block (above 4 MiB, the largest: vmalloc)
 *   vmalloc	every request a vmalloc area
 *
 * One buddy allocator (pmem of mem= bytes) feeds all three. Every pointer
 * handed out is the start of a kmalloc object, a buddy block or a vmalloc
 * area, so free() finds its owner from the address alone: inside the pmem
 * direct map (a slab object by its page descriptor, else a buddy block
 * whose head frame has owner == &shim_pages), inside the vmalloc window,
 * inside the meta arena, else foreign (counted and ignored: memory from
 * before this library, which it cannot give back).
 *
 * The fast path: malloc of at most kmalloc_max bytes and free of a slab
 * object. One TLS load finds the thread's record (shim_self); one load of
 * its door (in_call and gate, below) says it may enter; in_call is raised
 * and the gate looked at again; then slab's own sheaf pop or push
 * (mmb_kmalloc_sheaf, mmb_kfree_sheaf: nothing else, no call, so with the
 * link-time optimization the library is built with they inline, and
 * everything they cannot do goes the slow way) and the thread's own counters.
 * No lock, no atomic read-modify-write, no shared line written. Usable bytes are summed
 * per thread and added to the shared live total (and the peak taken) only
 * when a thread's sum passes +-SHIM_ACCOUNT_STEP: the peak may miss the
 * true one by up to that much per thread. Everything else (registration,
 * the meta arena, other routes, realloc, aligned requests) is out of line.
 *
 * Meta arena. The allocators' own metadata (kmem_cache structs, sheaves,
 * per-thread lists, vmap areas) comes from malloc too: any call made while
 * this thread is inside the shim (its in_call > 0, or shim_boot > 0 while
 * it registers), including the ones made during initialization, is served
 * by a small power-of-two arena carved from one MAP_NORESERVE reservation
 * (meta_*), under one lock. No dlsym, no glibc malloc: the library
 * bootstraps on nothing but mmap.
 *
 * Fork. pmem is a memfd; mapped MAP_SHARED (as pmem.c asks) the heap would
 * be shared with a forked child. The shim installs its own OS seam (os.h)
 * that maps memfds MAP_PRIVATE, so a child gets a copy-on-write heap as
 * with any malloc. The allocators' locks are held only inside calls: each
 * thread raises its in_call around every call, and the atfork prepare
 * handler sets SHIM_GATE_HOLD in every thread's gate and waits until no
 * thread is inside, so no lock is held at fork (check=on holds threads out
 * the same way). On the fast path a thread's store to in_call and its load
 * of gate are ordered by a compiler barrier only; the holder's
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) makes that a full barrier on
 * every running thread (the asymmetric Dekker pattern of userspace RCU).
 * The slow path fences itself. Where the kernel refuses membarrier, every
 * gate has SHIM_GATE_STRONG: all calls take the slow path. In the child,
 * other threads' slab slots and page lists stay with their (gone) threads.
 *
 * Threads. A thread's first call gives it a struct shim_thread (from the
 * meta arena, cache-line aligned, reused after its thread exits) and a slab
 * slot; a pthread key destructor detaches it (flushes its slabs, sheaves
 * and page lists) at thread exit.
 *
 * Slab debugging (debug=): kmalloc's red zone starts at the size first asked
 * for, so realloc always moves a kmalloc block rather than growing it in
 * place. malloc_usable_size() is ksize(), which gives the caller the whole
 * object: as in the kernel (skip_orig_size_check), that object's red zone
 * then starts at its end, so a program that writes up to the usable size
 * (V8 does) is not reported; one that writes past its request without
 * asking is.
 *
 * Results (MMB_MALLOC_OUT, only in the process MMB_MALLOC_PID names): at
 * exit the library destructor writes malloc.json (calls, routing, live and
 * peak bytes, the allocators' counters), slabinfo (slab only), vmallocinfo
 * and the buddy state files into that folder. `mmbench exec` adds the
 * process's exit status, time and page faults.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../allocators/allocator.h"
#include "../allocators/buddy.h"
#include "../allocators/os.h"
#include "../allocators/slab.h"
#include "../allocators/statefile.h"
#include "../allocators/vmalloc.h"
#include "malloc_opts.h"

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_TLS __attribute__((tls_model("initial-exec"))) __thread
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define SHIM_FNS(X)                                                                            \
	X(malloc) X(free) X(calloc) X(realloc) X(reallocarray) X(memalign) X(posix_memalign)   \
	X(aligned_alloc) X(valloc) X(pvalloc) X(malloc_usable_size)

enum shim_fn {
#define SHIM_FN_ENUM(n) FN_##n,
	SHIM_FNS(SHIM_FN_ENUM)
#undef SHIM_FN_ENUM
	SHIM_NR_FN
};

static const char *const shim_fn_names[] = {
#define SHIM_FN_NAME(n) #n,
	SHIM_FNS(SHIM_FN_NAME)
#undef SHIM_FN_NAME
};

enum shim_route { R_KMALLOC, R_BUDDY, R_VMALLOC, R_META, R_NR };
static const char *const shim_route_names[] = { "kmalloc", "buddy", "vmalloc", "meta" };

/* A thread's sum of usable bytes goes to the shared total past this. */
#define SHIM_ACCOUNT_STEP (8 << 10)

/* Gate bits: any one keeps a thread off the fast path. */
#define SHIM_GATE_HOLD 1		/* a fork or check=on holds threads out */
#define SHIM_GATE_STRONG 2		/* no membarrier: the slow path, which fences */
#define SHIM_GATE_NOSLAB 4		/* allocator buddy or vmalloc: no fast path */
#define SHIM_GATE_UNSTARTED 8		/* shim_unstarted: the thread has no record yet */

/* The fast path reads in_call and gate as one word. Accessed with the
 * __atomic builtins: in_call by its thread (read by a holder), gate set
 * and cleared by a holder. */
union shim_door {
	uint32_t word;
	struct {
		uint16_t in_call;	/* depth: > 0 while the thread is inside */
		uint16_t gate;		/* SHIM_GATE_* */
	};
};

/* One per thread, touched by its thread only (but for the door, and the
 * sums read at exit); the fast paths touch its first cache line only. */
struct shim_thread {
	union shim_door door;
	int64_t pending;		/* usable bytes allocated - freed, not yet in shim_live_bytes */
	uint64_t served[R_NR];		/* allocations per route */
	uint64_t calls[SHIM_NR_FN];	/* malloc and free in the first line */
	uint64_t failed, foreign_frees, foreign_reallocs;
	int owned;			/* by a live thread (under shim_list_lock) */
	struct shim_thread *next;
};

/* ---- meta arena ---- */

#define META_RESERVE (1ULL << 32)
#define META_MIN_SHIFT 4
#define META_CLASSES 29			/* 16 B .. 2 GiB */
#define META_HDR 16

static char *meta_base;
static size_t meta_used;
static void *meta_free_list[META_CLASSES];
static pthread_mutex_t meta_lock = PTHREAD_MUTEX_INITIALIZER;

static int meta_owns(const void *p)
{
	return meta_base && (const char *)p >= meta_base && (const char *)p < meta_base + META_RESERVE;
}

/* A block of the smallest class holding size bytes aligned to align (a
 * power of two, at least 16). The 16 bytes before the pointer hold the
 * class and the distance back to the block's start. */
static void *meta_alloc_aligned(size_t size, size_t align)
{
	unsigned c = META_MIN_SHIFT;
	char *p = NULL, *r;

	while ((1ULL << c) < size + META_HDR + (align - 16))
		c++;
	if (c - META_MIN_SHIFT >= META_CLASSES)
		return NULL;
	pthread_mutex_lock(&meta_lock);
	if (!meta_base) {
		void *m = mmap(NULL, META_RESERVE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		meta_base = m == MAP_FAILED ? NULL : m;
	}
	if (meta_free_list[c - META_MIN_SHIFT]) {
		p = meta_free_list[c - META_MIN_SHIFT];
		memcpy(&meta_free_list[c - META_MIN_SHIFT], p, sizeof(void *));
	} else if (meta_base) {
		/* a block of a cache line or more starts on one: no two
		 * threads' sheaves or records share a line */
		size_t at = c >= 6 ? (meta_used + 63) & ~(size_t)63 : meta_used;

		if (at + (1ULL << c) <= META_RESERVE) {
			p = meta_base + at;
			meta_used = at + (1ULL << c);
		}
	}
	pthread_mutex_unlock(&meta_lock);
	if (!p)
		return NULL;
	r = (char *)(((uintptr_t)p + META_HDR + align - 1) & ~(uintptr_t)(align - 1));
	((uint32_t *)r)[-4] = c;
	((uint32_t *)r)[-3] = (uint32_t)(r - p);
	return r;
}

static void *meta_alloc(size_t size)
{
	return meta_alloc_aligned(size, 16);
}

static size_t meta_size(const void *p)
{
	const uint32_t *h = p;

	return ((size_t)1 << h[-4]) - h[-3];
}

static void meta_release(void *p)
{
	uint32_t *h = p;
	char *start = (char *)p - h[-3];
	unsigned c = h[-4];

	pthread_mutex_lock(&meta_lock);
	memcpy(start, &meta_free_list[c - META_MIN_SHIFT], sizeof(void *));
	meta_free_list[c - META_MIN_SHIFT] = start;
	pthread_mutex_unlock(&meta_lock);
}

/* ---- OS seam: memfds mapped private ---- */

static void *shim_os_map(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fd >= 0 && (flags & MAP_SHARED))
		flags = (flags & ~MAP_SHARED) | MAP_PRIVATE;
	return mmb_os_default.map(addr, len, prot, flags, fd, off);
}

static struct mmb_os_ops shim_os;

/* ---- state ---- */

/* Read by every call: the fast paths' fields first. */
static struct {
	struct mmb_slab *sl;		/* NULL unless the allocator is slab */
	size_t kmalloc_max;		/* 0 unless slab: no request is kmalloc's */
	size_t vmalloc_min;
	struct mmb_buddy *b;
	struct mmb_pmem *pm;
	struct mmb_vmalloc *vm;
	int alloc;			/* enum mmb_malloc_alloc */
	int debug;			/* slub_debug letters on: realloc always moves */
	int check;			/* check=on: invariant checks at exit */
	char check_result[MMB_ERR_MAX];	/* "" not run, "ok" or the first broken one */
	char first_failure[MMB_ERR_MAX + 160];	/* the first failed allocation and why ("" none) */
	atomic_int failure_noted;	/* first_failure written (or being written) */
	char opts[1024];
	char out[4096];			/* results folder, "" = none */
} shim;

static int shim_pages;			/* its address marks buddy blocks of the shim */
static atomic_int shim_state;		/* 0 none, 1 initializing, 2 ready */
static int shim_strong;			/* membarrier refused: SHIM_GATE_STRONG for all */
static pthread_mutex_t shim_init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t shim_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shim_thread *shim_threads;
static unsigned shim_nthreads;		/* struct shim_thread records made */
static unsigned shim_thread_starts;	/* threads that called in */
static pthread_key_t shim_key;
static _Atomic int64_t shim_live_bytes;
static _Atomic int64_t shim_peak_bytes;

/* A thread without a record of its own points at shim_unstarted, whose
 * gate keeps it off the fast path: the fast path needs no NULL test. */
static struct shim_thread shim_unstarted = { .door.gate = SHIM_GATE_UNSTARTED };
static SHIM_TLS struct shim_thread *shim_self = &shim_unstarted;
static SHIM_TLS int shim_boot;		/* inside, before the thread has its record */

static void shim_die(const char *what, const char *msg)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "mmbench malloc shim: %s: %s\n", what, msg);

	if (write(2, line, (size_t)n) < 0)
		_exit(2);
	_exit(2);
}

/* 0, or -1 when the kernel refuses the process's registration. */
static int shim_membarrier_register(void)
{
	return (int)syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
}

/* ---- entering and leaving (fork safety) ---- */

static inline uint16_t shim_in_call(const struct shim_thread *t)
{
	return __atomic_load_n(&t->door.in_call, __ATOMIC_RELAXED);
}

/* The fast path's way in, for a thread whose door word read 0: raise
 * in_call, then look at the gate again (a holder's membarrier orders the
 * two). 1: inside. */
static inline int shim_fast_enter(struct shim_thread *t)
{
	__atomic_store_n(&t->door.in_call, 1, __ATOMIC_RELAXED);
	atomic_signal_fence(memory_order_seq_cst);
	if (likely(!__atomic_load_n(&t->door.gate, __ATOMIC_RELAXED)))
		return 1;
	__atomic_store_n(&t->door.in_call, 0, __ATOMIC_RELEASE);
	return 0;
}

static inline void shim_leave(struct shim_thread *t)
{
	__atomic_store_n(&t->door.in_call, 0, __ATOMIC_RELEASE);
}

/* The slow path's way in (in_call was 0): fenced, waiting out a hold. */
static void shim_wait_enter(struct shim_thread *t)
{
	for (;;) {
		__atomic_store_n(&t->door.in_call, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!(__atomic_load_n(&t->door.gate, __ATOMIC_RELAXED) & SHIM_GATE_HOLD))
			return;
		__atomic_store_n(&t->door.in_call, 0, __ATOMIC_RELEASE);
		while (__atomic_load_n(&t->door.gate, __ATOMIC_ACQUIRE) & SHIM_GATE_HOLD)
			sched_yield();
	}
}

/* Hold every thread but self out of the shim and wait until none is
 * inside (shim_list_lock held: no thread registers meanwhile). */
static void shim_hold(const struct shim_thread *self)
{
	for (struct shim_thread *t = shim_threads; t; t = t->next)
		__atomic_fetch_or(&t->door.gate, SHIM_GATE_HOLD, __ATOMIC_SEQ_CST);
	if (!shim_strong)
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	for (struct shim_thread *t = shim_threads; t; t = t->next)
		while (t != self && __atomic_load_n(&t->door.in_call, __ATOMIC_ACQUIRE))
			sched_yield();
}

static void shim_unhold(void)
{
	for (struct shim_thread *t = shim_threads; t; t = t->next)
		__atomic_fetch_and(&t->door.gate, (uint16_t)~SHIM_GATE_HOLD, __ATOMIC_SEQ_CST);
}

/* The gate a thread starts with. */
static uint16_t shim_base_gate(void)
{
	return (uint16_t)((shim_strong ? SHIM_GATE_STRONG : 0) | (shim.sl ? 0 : SHIM_GATE_NOSLAB));
}

static void shim_fork_prepare(void)
{
	pthread_mutex_lock(&shim_init_lock);
	pthread_mutex_lock(&shim_list_lock);
	shim_hold(shim_self);
	pthread_mutex_lock(&meta_lock);
}

static void shim_fork_parent(void)
{
	pthread_mutex_unlock(&meta_lock);
	shim_unhold();
	pthread_mutex_unlock(&shim_list_lock);
	pthread_mutex_unlock(&shim_init_lock);
}

/* The child's only thread is the forking one: the others' records are
 * free for reuse, their byte sums folded into the total. */
static void shim_fork_child(void)
{
	pthread_mutex_unlock(&meta_lock);
	if (!shim_strong && shim_membarrier_register())
		shim_strong = 1;
	for (struct shim_thread *t = shim_threads; t; t = t->next) {
		__atomic_store_n(&t->door.gate, shim_base_gate(), __ATOMIC_RELAXED);
		if (t == shim_self)
			continue;
		t->owned = 0;
		atomic_fetch_add(&shim_live_bytes, t->pending);
		t->pending = 0;
	}
	pthread_mutex_unlock(&shim_list_lock);
	pthread_mutex_unlock(&shim_init_lock);
}

static void shim_thread_exit(void *arg);

/* The allocator and its options from the environment. */
static void shim_parse(struct mmb_pvals *o)
{
	const char *env = getenv("MMB_MALLOC_OPTS"), *alloc = getenv("MMB_MALLOC_ALLOC");
	char err[MMB_ERR_MAX];

	shim.alloc = alloc && *alloc ? mmb_malloc_alloc_find(alloc, strlen(alloc)) : MMB_MALLOC_SLAB;
	if (shim.alloc < 0)
		shim_die("MMB_MALLOC_ALLOC", "expected slab, buddy or vmalloc");
	snprintf(shim.opts, sizeof(shim.opts), "%s", env ? env : "");
	if (mmb_params_parse(mmb_malloc_allocs[shim.alloc].opts, shim.opts, "malloc shim", o, err,
			     sizeof(err)))
		shim_die("MMB_MALLOC_OPTS", err);
	shim.check = (int)mmb_pval_u64(o, "check");
	switch (shim.alloc) {
	case MMB_MALLOC_SLAB:
		shim.kmalloc_max = mmb_pval_u64(o, "kmalloc_max");
		shim.vmalloc_min = mmb_pval_u64(o, "vmalloc_min");
		if (shim.vmalloc_min <= shim.kmalloc_max)
			shim_die("MMB_MALLOC_OPTS", "vmalloc_min must be above kmalloc_max");
		break;
	case MMB_MALLOC_BUDDY:
		shim.vmalloc_min = MMB_MALLOC_BUDDY_MAX + 1;
		break;
	default:
		shim.vmalloc_min = 0;
		break;
	}
}

/* The slab allocator on shim.b, from the slab table's options. */
static void shim_slab_create(const struct mmb_pvals *o, unsigned cpus)
{
	char err[MMB_ERR_MAX];
	struct mmb_slab_cfg sc = {
		.buddy = shim.b,
		.nr_cpus = cpus,
		.max_order = 3,
		.cpu_partial = -1,
		.min_partial = -1,
		.harden = (int)mmb_pval_u64(o, "harden"),
		.debug = mmb_pval_str(o, "debug")[0] ? mmb_pval_str(o, "debug") : NULL,
		.sheaf_capacity = mmb_malloc_sheaf(mmb_pval_str(o, "sheaf")),
	};

	if (sc.sheaf_capacity < -1)
		shim_die("MMB_MALLOC_OPTS", "sheaf: expected auto or 0..1024 objects");
	if (sc.debug && mmb_slab_parse_debug(sc.debug, err, sizeof(err)))
		shim_die("debug", err);
	shim.debug = sc.debug != NULL;
	if (mmb_slab_create(&sc, &shim.sl, err, sizeof(err)))
		shim_die("slab", err);
}

/* Create the allocators (shim_boot > 0: their own allocations go to the
 * meta arena). */
static void shim_init(void)
{
	const char *out = getenv("MMB_MALLOC_OUT"), *pid = getenv("MMB_MALLOC_PID");
	struct mmb_pvals o;
	char err[MMB_ERR_MAX];
	long ncpu;

	pthread_mutex_lock(&shim_init_lock);
	if (atomic_load(&shim_state) == 2) {
		pthread_mutex_unlock(&shim_init_lock);
		return;
	}
	atomic_store(&shim_state, 1);
	shim_parse(&o);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	shim_os = mmb_os_default;
	shim_os.map = shim_os_map;
	mmb_os = &shim_os;
	{
		unsigned cpus = shim.alloc == MMB_MALLOC_SLAB && mmb_pval_u64(&o, "cpus") ?
					(unsigned)mmb_pval_u64(&o, "cpus") :
					(unsigned)(ncpu > 0 ? ncpu : 1);
		struct mmb_buddy_cfg bc = {
			.mem_bytes = mmb_pval_u64(&o, "mem"),
			.pcp = (int)mmb_pval_u64(&o, "pcp"),
			.migratetypes = 1,
			.nthreads = cpus,
		};
		struct mmb_vmalloc_cfg vc = {
			.window_bytes = mmb_pval_u64(&o, "window"),
			.lazy = (int)mmb_pval_u64(&o, "lazy"),
		};

		if (mmb_buddy_create(&bc, &shim.b, err, sizeof(err)))
			shim_die("buddy", err);
		if (shim.alloc == MMB_MALLOC_SLAB)
			shim_slab_create(&o, cpus);
		if (mmb_vmalloc_create(&vc, shim.b, &shim.vm, err, sizeof(err)))
			shim_die("vmalloc", err);
	}
	shim.pm = mmb_buddy_pmem(shim.b);
	if (out && pid && atoi(pid) == getpid())
		snprintf(shim.out, sizeof(shim.out), "%s", out);
	if (pthread_key_create(&shim_key, shim_thread_exit))
		shim_die("init", "no pthread key left");
	shim_strong = shim_membarrier_register() != 0;
	pthread_atfork(shim_fork_prepare, shim_fork_parent, shim_fork_child);
	atomic_store(&shim_state, 2);
	pthread_mutex_unlock(&shim_init_lock);
}

/* The calling thread's first call: its record (and, on the very first
 * call, the allocators). */
static __attribute__((noinline)) struct shim_thread *shim_thread_start(void)
{
	struct shim_thread *t;

	shim_boot++;
	if (atomic_load(&shim_state) != 2)
		shim_init();
	pthread_mutex_lock(&shim_list_lock);
	for (t = shim_threads; t && t->owned; t = t->next)
		;
	if (!t) {
		t = meta_alloc_aligned(sizeof(*t), 64);
		if (!t)
			shim_die("init", "meta arena exhausted");
		memset(t, 0, sizeof(*t));
		t->next = shim_threads;
		shim_threads = t;
		shim_nthreads++;
	}
	t->owned = 1;
	__atomic_store_n(&t->door.gate, shim_base_gate(), __ATOMIC_RELAXED);
	shim_thread_starts++;
	pthread_mutex_unlock(&shim_list_lock);
	pthread_setspecific(shim_key, t);
	shim_boot--;
	shim_self = t;
	return t;
}

/* A slow path's way in: the thread's record, in_call raised (after any
 * fork), the call counted. */
static struct shim_thread *shim_enter(enum shim_fn fn)
{
	struct shim_thread *t = shim_self;

	if (unlikely(t == &shim_unstarted))
		t = shim_thread_start();
	shim_wait_enter(t);
	t->calls[fn]++;
	return t;
}

/* Whether a call is made from inside the shim (its allocators' metadata,
 * or stdio while results are written): the meta arena serves it. */
static inline int shim_inside(const struct shim_thread *t)
{
	return t != &shim_unstarted ? shim_in_call(t) : shim_boot;
}

/* A thread's pending sum v is past what it may hold back. */
static inline int shim_step_out(int64_t v)
{
	return v > SHIM_ACCOUNT_STEP || v < -SHIM_ACCOUNT_STEP;
}

static __attribute__((noinline)) void shim_account_flush(int64_t bytes)
{
	int64_t live = atomic_fetch_add_explicit(&shim_live_bytes, bytes, memory_order_relaxed) + bytes;
	int64_t peak = atomic_load_explicit(&shim_peak_bytes, memory_order_relaxed);

	while (live > peak && !atomic_compare_exchange_weak(&shim_peak_bytes, &peak, live))
		;
}

static inline void shim_account(struct shim_thread *t, int64_t bytes)
{
	int64_t v = t->pending + bytes;

	if (unlikely(shim_step_out(v))) {
		shim_account_flush(v);
		v = 0;
	}
	t->pending = v;
}

static void shim_thread_exit(void *arg)
{
	struct shim_thread *t = arg;

	shim_wait_enter(t);
	if (shim.sl)
		mmb_slab_thread_detach(shim.sl);
	shim_account_flush(t->pending);
	t->pending = 0;
	shim_leave(t);
	shim_self = &shim_unstarted;
	pthread_mutex_lock(&shim_list_lock);
	t->owned = 0;
	pthread_mutex_unlock(&shim_list_lock);
}

/* ---- routing ---- */

static unsigned shim_order(size_t bytes)
{
	unsigned order = 0;

	while ((MMB_PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

static size_t shim_usable(const void *p, enum shim_route *r_route)
{
	if (mmb_pmem_contains(shim.pm, p)) {
		struct mmb_page *page = mmb_virt_to_page(shim.pm, p);

		if (page->owner == &shim_pages) {
			*r_route = R_BUDDY;
			return MMB_PAGE_SIZE << page->priv[0];
		}
		if (shim.sl) {
			*r_route = R_KMALLOC;
			return mmb_ksize(shim.sl, p);
		}
	}
	if (mmb_is_vmalloc_addr(shim.vm, p)) {
		*r_route = R_VMALLOC;
		return mmb_vmalloc_size(shim.vm, p);
	}
	if (meta_owns(p)) {
		*r_route = R_META;
		return meta_size(p);
	}
	*r_route = R_NR;
	return 0;
}

/* A JSON string's text as it is: quotes, backslashes and control
 * characters become '. */
static void shim_json_plain(char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			*s = '\'';
}

/*
 * The first failed allocation, for malloc.json's "first_failure": its size
 * and vmalloc's reason (every route falls back to vmalloc, so its error is
 * the last word: no memory left in pmem, or the process's mappings at
 * vm.max_map_count), and the buddy allocator's free pages. Inside the shim.
 */
static void shim_note_failure(size_t size, size_t align)
{
	char why[MMB_ERR_MAX];
	struct mmb_buddy_info bi;

	mmb_vmalloc_last_error(shim.vm, why, sizeof(why));
	mmb_buddy_info(shim.b, &bi);
	snprintf(shim.first_failure, sizeof(shim.first_failure),
		 "%zu bytes (alignment %zu): %s; buddy: %llu of %llu pages free (mem= sets them)",
		 size, align ? align : 16, why[0] ? why : "no reason given",
		 (unsigned long long)bi.free_pages, (unsigned long long)bi.managed_pages);
	shim_json_plain(shim.first_failure);
}

/* size bytes aligned to align (0 or a power of two). */
static void *shim_alloc(struct shim_thread *t, size_t size, size_t align)
{
	enum shim_route route = R_KMALLOC;
	size_t usable;
	void *p = NULL;

	if (size < 16)
		size = 16;
	if (align <= 16)
		align = 0;
	if (size <= shim.kmalloc_max && align <= MMB_PAGE_SIZE) {
		size_t want = size;

		/* power-of-two kmalloc caches are naturally aligned */
		if (align && want < align)
			want = align;
		if (align && (want & (want - 1)))
			want = 1UL << (64 - __builtin_clzl(want));
		if (want <= shim.kmalloc_max) {
			struct mmb_kmalloc_usable k = mmb_kmalloc_usable(shim.sl, want);

			p = k.p;
			usable = k.usable;
			if (p && align && ((uintptr_t)p & (align - 1))) {
				mmb_kfree(shim.sl, p);	/* a debug layout moved it */
				p = NULL;
			} else if (p) {
				goto done;
			}
		}
	}
	if (size < shim.vmalloc_min && align <= shim.vmalloc_min) {
		size_t bytes = size > align ? size : align;
		unsigned order = shim_order(bytes);
		struct mmb_page *page = order <= MMB_MAX_ORDER ?
						mmb_alloc_pages(shim.b, order, MMB_MT_MOVABLE) : NULL;

		route = R_BUDDY;
		/* a block is aligned to its order in pfns; its address only as
		 * far as pmem's mapping is (often 2 MiB): else vmalloc's */
		if (page && align > MMB_PAGE_SIZE &&
		    ((uintptr_t)mmb_page_address(shim.pm, page) & (align - 1))) {
			mmb_free_pages(shim.b, page, order);
			page = NULL;
		}
		if (page) {
			page->owner = &shim_pages;
			page->priv[0] = order;
			p = mmb_page_address(shim.pm, page);
			usable = MMB_PAGE_SIZE << order;
			goto done;
		}
	}
	route = R_VMALLOC;
	p = mmb_vmalloc_align(shim.vm, size, align > MMB_PAGE_SIZE ? align : 0);
	if (!p) {
		t->failed++;
		if (!atomic_exchange(&shim.failure_noted, 1))
			shim_note_failure(size, align);
		errno = ENOMEM;
		return NULL;
	}
	usable = mmb_vmalloc_size(shim.vm, p);
done:
	t->served[route]++;
	shim_account(t, (int64_t)usable);
	return p;
}

static void shim_release(struct shim_thread *t, void *p)
{
	enum shim_route route;
	size_t usable = shim_usable(p, &route);

	switch (route) {
	case R_KMALLOC:
		mmb_kfree(shim.sl, p);
		break;
	case R_BUDDY: {
		struct mmb_page *page = mmb_virt_to_page(shim.pm, p);
		unsigned order = (unsigned)page->priv[0];

		page->owner = NULL;
		page->priv[0] = 0;
		mmb_free_pages(shim.b, page, order);
		break;
	}
	case R_VMALLOC:
		mmb_vfree(shim.vm, p);
		break;
	case R_META:
		meta_release(p);
		return;
	default:
		t->foreign_frees++;
		return;
	}
	shim_account(t, -(int64_t)usable);
}

/* ---- the malloc family ---- */

/* Any allocation but a fast-path one: from inside the shim (meta arena),
 * the thread's first call, a fork pending, or a route other than kmalloc's
 * sheaf. */
static __attribute__((noinline)) void *shim_alloc_slow(enum shim_fn fn, size_t size, size_t align)
{
	struct shim_thread *t = shim_self;
	void *p;

	if (unlikely(shim_inside(t)))
		return meta_alloc_aligned(size, align > 16 ? align : 16);
	t = shim_enter(fn);
	p = shim_alloc(t, size, align);
	shim_leave(t);
	return p;
}

/* A fast path's accounting past +-SHIM_ACCOUNT_STEP (v: the thread's sum
 * with this call), then its way out, returning p: called in tail position,
 * so that the fast paths make no call and need no stack frame (returns_nonnull
 * lets malloc's test of shim_malloc_fast's result fold away behind it). */
static __attribute__((noinline, returns_nonnull)) void *shim_fast_flush(struct shim_thread *t,
									 void *p, int64_t v)
{
	shim_account_flush(v);
	t->pending = 0;
	shim_leave(t);
	return p;
}

/* malloc's fast path, NULL when it is not taken (t is this thread's
 * record, not inside; size 1..kmalloc_max, so the allocator is slab). Every
 * way off it is a tail call (shim_account's flush is spelled out for that).
 * always_inline: a one-line change in kmalloc_index once made GCC's LTO
 * inliner leave it out of line, and malloc grew a push and a call (churn
 * 2-3% slower). */
static __attribute__((always_inline)) inline void *shim_malloc_fast(struct shim_thread *t, enum shim_fn fn, size_t size)
{
	struct mmb_kmalloc_usable k;
	int64_t v;

	if (unlikely(!shim_fast_enter(t)))
		return NULL;
	k = mmb_kmalloc_sheaf(shim.sl, size < 16 ? 16 : size);
	if (unlikely(!k.p)) {
		shim_leave(t);
		return NULL;
	}
	t->calls[fn]++;
	t->served[R_KMALLOC]++;
	v = t->pending + (int64_t)k.usable;
	if (unlikely(shim_step_out(v)))
		return shim_fast_flush(t, k.p, v);
	t->pending = v;
	shim_leave(t);
	return k.p;
}

SHIM_EXPORT void *malloc(size_t size)
{
	struct shim_thread *t = shim_self;

	if (likely(size - 1 < shim.kmalloc_max &&	/* 0 takes the slow path */
		   !__atomic_load_n(&t->door.word, __ATOMIC_RELAXED))) {
		void *p = shim_malloc_fast(t, FN_malloc, size);

		if (likely(p))
			return p;
	}
	return shim_alloc_slow(FN_malloc, size, 0);
}

static __attribute__((noinline)) void shim_free_slow(void *p)
{
	struct shim_thread *t = shim_self;

	if (!p)
		return;
	if (meta_owns(p)) {
		meta_release(p);
		return;
	}
	if (unlikely(shim_inside(t)))
		return;		/* the allocators free only their meta blocks */
	t = shim_enter(FN_free);
	shim_release(t, p);
	shim_leave(t);
}

SHIM_EXPORT void free(void *p)
{
	struct shim_thread *t = shim_self;

	if (likely(!__atomic_load_n(&t->door.word, __ATOMIC_RELAXED)) &&
	    likely(shim_fast_enter(t))) {
		size_t usable = mmb_kfree_sheaf(shim.sl, p);	/* 0: any other way */

		if (likely(usable)) {
			int64_t v = t->pending - (int64_t)usable;

			t->calls[FN_free]++;
			if (unlikely(shim_step_out(v))) {
				shim_fast_flush(t, NULL, v);
				return;
			}
			t->pending = v;
			shim_leave(t);
			return;
		}
		shim_leave(t);
	}
	shim_free_slow(p);
}

SHIM_EXPORT void *calloc(size_t n, size_t size)
{
	struct shim_thread *t = shim_self;
	size_t bytes;
	void *p = NULL;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	if (likely(bytes - 1 < shim.kmalloc_max &&
		   !__atomic_load_n(&t->door.word, __ATOMIC_RELAXED)))
		p = shim_malloc_fast(t, FN_calloc, bytes);
	if (!p)
		p = shim_alloc_slow(FN_calloc, bytes, 0);
	if (p)
		memset(p, 0, bytes);
	return p;
}

static void *shim_realloc(enum shim_fn fn, void *old, size_t size)
{
	enum shim_route route;
	struct shim_thread *t = shim_self;
	size_t usable;
	void *p;

	if (unlikely(shim_inside(t))) {
		if (!old)
			return meta_alloc(size);
		p = meta_alloc(size);
		if (p) {
			usable = meta_owns(old) ? meta_size(old) : size;
			memcpy(p, old, usable < size ? usable : size);
			free(old);
		}
		return p;
	}
	t = shim_enter(fn);
	if (!old) {
		p = shim_alloc(t, size, 0);
		goto out;
	}
	usable = shim_usable(old, &route);
	if (route == R_NR) {
		/* foreign: its size is unknown, so it cannot be copied */
		t->foreign_reallocs++;
		errno = ENOMEM;
		p = NULL;
		goto out;
	}
	if (!size) {
		shim_release(t, old);
		p = NULL;
		goto out;
	}
	/* In place when it fits; not with slab debugging, whose kmalloc red
	 * zone starts at the size first asked for. */
	if (size <= usable && size > usable / 4 && route != R_META &&
	    !(shim.debug && route == R_KMALLOC)) {
		p = old;
		goto out;
	}
	p = shim_alloc(t, size, 0);
	if (p) {
		memcpy(p, old, usable < size ? usable : size);
		shim_release(t, old);
	}
out:
	shim_leave(t);
	return p;
}

SHIM_EXPORT void *realloc(void *old, size_t size)
{
	return shim_realloc(FN_realloc, old, size);
}

SHIM_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return shim_realloc(FN_reallocarray, old, bytes);
}

SHIM_EXPORT void *memalign(size_t align, size_t size)
{
	/* glibc: an alignment that is not a power of two is rounded up */
	if (align & (align - 1))
		align = align > (SIZE_MAX >> 1) ? 0 : 1UL << (64 - __builtin_clzl(align));
	if (!align && size) {
		errno = EINVAL;
		return NULL;
	}
	return shim_alloc_slow(FN_memalign, size, align);
}

SHIM_EXPORT int posix_memalign(void **r, size_t align, size_t size)
{
	void *p;

	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	p = shim_alloc_slow(FN_posix_memalign, size, align);
	if (!p)
		return ENOMEM;
	*r = p;
	return 0;
}

SHIM_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (!align || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return shim_alloc_slow(FN_aligned_alloc, size, align);
}

SHIM_EXPORT void *valloc(size_t size)
{
	return shim_alloc_slow(FN_valloc, size, MMB_PAGE_SIZE);
}

SHIM_EXPORT void *pvalloc(size_t size)
{
	size_t bytes = (size + MMB_PAGE_SIZE - 1) & ~(MMB_PAGE_SIZE - 1);

	return shim_alloc_slow(FN_pvalloc, bytes ? bytes : MMB_PAGE_SIZE, MMB_PAGE_SIZE);
}

SHIM_EXPORT size_t malloc_usable_size(void *p)
{
	enum shim_route route;
	struct shim_thread *t;
	size_t n;

	if (!p)
		return 0;
	if (meta_owns(p))
		return meta_size(p);
	if (atomic_load(&shim_state) != 2)
		return 0;
	t = shim_enter(FN_malloc_usable_size);
	n = shim_usable(p, &route);
	if (route == R_KMALLOC && shim.debug)
		mmb_ksize_claim(shim.sl, p);
	shim_leave(t);
	return n;
}

/* ---- results at exit ---- */

static void shim_json_counters(FILE *f)
{
	uint64_t calls[SHIM_NR_FN] = { 0 }, served[R_NR] = { 0 }, failed = 0, foreign = 0;
	uint64_t foreign_re = 0;
	int64_t live = atomic_load(&shim_live_bytes), peak = atomic_load(&shim_peak_bytes);
	struct mmb_buddy_counters bc;
	struct mmb_buddy_info bi;
	struct mmb_vmalloc_counters vc;

	for (struct shim_thread *t = shim_threads; t; t = t->next) {
		for (int i = 0; i < SHIM_NR_FN; i++)
			calls[i] += t->calls[i];
		for (int i = 0; i < R_NR; i++)
			served[i] += t->served[i];
		failed += t->failed;
		foreign += t->foreign_frees;
		foreign_re += t->foreign_reallocs;
		live += t->pending;	/* the sums not yet added (threads still running) */
	}
	if (live > peak)
		peak = live;
	fprintf(f, "{\n  \"schema\": 1,\n  \"pid\": %d,\n  \"allocator\": \"%s\",\n"
		   "  \"options\": \"%s\",\n", (int)getpid(), mmb_malloc_allocs[shim.alloc].name,
		shim.opts);
	fprintf(f, "  \"threads\": %u,\n  \"thread_records\": %u,\n  \"calls\": {",
		shim_thread_starts, shim_nthreads);
	for (int i = 0; i < SHIM_NR_FN; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", shim_fn_names[i],
			(unsigned long long)calls[i]);
	fprintf(f, "},\n  \"served\": {");
	for (int i = 0; i < R_META; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", shim_route_names[i],
			(unsigned long long)served[i]);
	fprintf(f, "},\n  \"failed_allocs\": %llu,\n  \"foreign_frees\": %llu,\n"
		   "  \"foreign_reallocs\": %llu,\n  \"live_usable_bytes\": %lld,\n"
		   "  \"peak_usable_bytes\": %lld,\n  \"meta_arena_bytes\": %zu,\n",
		(unsigned long long)failed, (unsigned long long)foreign,
		(unsigned long long)foreign_re, (long long)live, (long long)peak, meta_used);
	mmb_buddy_counters(shim.b, &bc);
	mmb_buddy_info(shim.b, &bi);
	fprintf(f, "  \"buddy\": {\"used_pages\": %llu, \"free_pages\": %llu, \"managed_pages\": %llu, "
		   "\"allocs\": %llu, \"frees\": %llu, \"failed_allocs\": %llu, \"splits\": %llu, "
		   "\"merges\": %llu, \"pcp_hits\": %llu, \"fallbacks\": %llu},\n",
		(unsigned long long)mmb_buddy_used_pages(shim.b), (unsigned long long)bi.free_pages,
		(unsigned long long)bi.managed_pages, (unsigned long long)bc.allocs,
		(unsigned long long)bc.frees, (unsigned long long)bc.failed_allocs,
		(unsigned long long)bc.splits, (unsigned long long)bc.merges,
		(unsigned long long)bc.pcp_hits, (unsigned long long)bc.fallbacks);
	mmb_vmalloc_counters(shim.vm, &vc);
	fprintf(f, "  \"vmalloc\": {\"areas\": %llu, \"pages\": %llu, \"allocs\": %llu, \"frees\": %llu, "
		   "\"failed_allocs\": %llu, \"purges\": %llu},\n",
		(unsigned long long)vc.areas, (unsigned long long)vc.pages,
		(unsigned long long)vc.allocs, (unsigned long long)vc.frees,
		(unsigned long long)vc.failed_allocs, (unsigned long long)vc.purges);
	if (shim.sl)
		fprintf(f, "  \"slab_reports\": %lu,\n", mmb_slab_nr_reports(shim.sl));
	else
		fprintf(f, "  \"slab_reports\": null,\n");
	if (shim.first_failure[0])
		fprintf(f, "  \"first_failure\": \"%s\",\n", shim.first_failure);
	else
		fprintf(f, "  \"first_failure\": null,\n");
	if (shim.check_result[0])
		fprintf(f, "  \"check\": \"%s\",\n  \"check_unavailable\": \"vmalloc: its check wants "
			   "pmem mapped shared; the shim maps it private\"\n}\n", shim.check_result);
	else
		fprintf(f, "  \"check\": null\n}\n");
}

static int shim_write_json(FILE *f, void *ctx)
{
	(void)ctx;
	shim_json_counters(f);
	return 0;
}

static int shim_write_slabinfo(FILE *f, void *ctx)
{
	(void)ctx;
	return mmb_slab_write_slabinfo(shim.sl, f);
}

static int shim_write_vmallocinfo(FILE *f, void *ctx)
{
	(void)ctx;
	return mmb_vmallocinfo(shim.vm, f);
}

/*
 * check=on: slab's and buddy's invariant checks, which want no call in
 * flight. Other threads are held at the shim's door as at fork (they wait
 * in shim_wait_enter) while the checks run, then let in again: a
 * destructor or atexit handler after this one may still call malloc.
 * vmalloc's check is not run: it verifies that each area maps pmem
 * shared, and the shim maps it private (fork, above).
 */
static void shim_check(struct shim_thread *self)
{
	char err[MMB_ERR_MAX - 64];
	int rc;

	pthread_mutex_lock(&shim_list_lock);
	shim_hold(self);
	err[0] = 0;
	rc = shim.sl ? mmb_slab_check(shim.sl, err, sizeof(err)) : 0;
	if (!rc)
		rc = mmb_buddy_check(shim.b, err, sizeof(err));
	shim_unhold();
	pthread_mutex_unlock(&shim_list_lock);
	shim_json_plain(err);
	snprintf(shim.check_result, sizeof(shim.check_result), "%s", rc ? err : "ok");
}

/* The state files, each replaced atomically (statefile.h); a file that cannot
 * be written is missing, which `mmbench exec` reports. Written from inside
 * (stdio's buffers come from the meta arena). */
__attribute__((destructor)) static void shim_fini(void)
{
	struct shim_thread *t = shim_self;

	if (atomic_load(&shim_state) != 2 || !shim.out[0])
		return;
	if (t == &shim_unstarted)
		t = NULL;
	if (t)
		shim_wait_enter(t);
	else
		shim_boot++;
	if (shim.check)
		shim_check(t);
	mmb_state_write(shim.out, "malloc.json", shim_write_json, NULL);
	if (shim.sl)
		mmb_state_write(shim.out, "slabinfo", shim_write_slabinfo, NULL);
	mmb_state_write(shim.out, "vmallocinfo", shim_write_vmallocinfo, NULL);
	mmb_buddy_dump_state(shim.b, shim.out);
	shim.out[0] = 0;
	if (t)
		shim_leave(t);
	else
		shim_boot--;
}

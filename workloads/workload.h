/*
 * workload.h — the workload contract.
 *
 * A workload is one file in workloads/ ending in a `const struct mmb_wl_ops`
 * listed once in workloads/registry.c. It models one allocation pattern, says
 * in its file-top comment what it models and what it must not be used for,
 * and declares its parameters in a struct mmb_param table (param.h), which the
 * harness validates before any cell runs.
 *
 * Life of a cell (the harness drives it, in the cell's own process):
 *	setup(params, nthreads, seed)	  once, on the main thread
 *	run(state, t)			  on each of nthreads worker threads at
 *					  once; possibly several times (warm-up,
 *					  then the timed region)
 *	teardown(state, t0)		  once, on the main thread; t0 is
 *					  thread 0's context (for frees), or
 *					  NULL when run() never ran
 *
 * Contract:
 *   - Every allocator call goes through mmb_wl_alloc / mmb_wl_free (the
 *     harness counts, times and accounts live bytes there). Bookkeeping
 *     memory of the workload itself comes from the process's malloc, outside
 *     the measured allocator, and is allocated in setup: run() calls no
 *     malloc of its own (an adapter may bind its thread's malloc to the
 *     measured arena while it runs, as jemalloc.c does). Setup also
 *     touches it (mmb_wl_touch): the harness reads the footprint baseline
 *     after setup, so pages first written later would count as the
 *     allocator's.
 *   - run() loops while mmb_wl_running(t) and returns with every block it
 *     allocated freed, except blocks it handed to shared state (another
 *     thread's queue), which teardown frees through t0. Returns 0 or -errno.
 *   - Deterministic: for a given seed and thread count, each thread's sequence
 *     of (operation, size) is the same every run, as long as the sequence
 *     does not depend on timing (say so in the file when it does). Use only
 *     t->rng for randomness.
 *   - An alloc that returns NULL is counted by the harness; the workload
 *     skips the object and goes on (or stops, if it cannot continue).
 *   - check_params (optional) validates what the parameter table cannot (a
 *     file named by a parameter, a relation between two values). The plan
 *     calls it before any cell runs, so bad input exits 2; setup may assume
 *     it passed. Returns 0, or -EINVAL with one line in err.
 */
#ifndef MMB_WORKLOAD_H
#define MMB_WORKLOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../allocators/allocator.h"

struct mmb_probe;		/* the harness's measurement state (harness/probe.h) */

/* One per worker thread. Counters are written by their own thread only. */
struct mmb_wl_thread {
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	unsigned tid, nthreads;
	uint64_t rng[4];		/* xoshiro256** state, seeded per thread */
	const atomic_int *stop;		/* set by the harness at the deadline */
	uint64_t ops_limit;		/* allocator calls for this run, 0 = until stop */

	uint64_t nops;			/* alloc + free calls made */
	uint64_t nallocs, nfrees, failed;
	int64_t live_bytes;		/* can go negative under cross-thread frees */
	int64_t waste_bytes;		/* usable - requested bytes of live blocks, with
					 * exact accounting (probe.h); else 0 */
	uint64_t checksum;		/* of the (operation, size) sequence */
	uint64_t remote_frees;		/* frees of blocks another worker allocated */
	uint64_t dep_stalls;		/* waits for another worker's call (counts_remote) */
	struct mmb_probe *probe;	/* NULL when nothing is measured */
};

struct mmb_wl_ops {
	const char *name;		/* CLI and CSV key */
	const char *desc;		/* one line for `mmbench list` */
	const struct mmb_param *params;	/* NULL = none */
	int hidden;			/* test-only: not listed, not in suites */

	int (*check_params)(const struct mmb_pvals *params, char *err, size_t errlen);

	int (*setup)(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
		     void **r_state, char *err, size_t errlen);
	int (*run)(void *state, struct mmb_wl_thread *t);
	void (*teardown)(void *state, struct mmb_wl_thread *t0);

	/* Operations the workload times itself besides alloc and free
	 * (mmb_wl_op_begin/end): NULL-terminated names, at most
	 * MMB_WL_MAX_OP_KINDS, each a word (the op column of latency.csv).
	 * NULL = none. */
	const char *const *op_kinds;

	/* 1: run() counts t->remote_frees and t->dep_stalls (the cell reports
	 * them; otherwise their columns stay empty: not measured). */
	int counts_remote;

	/* Why this workload cannot run an op-equivalent sequence (its memory
	 * state depends on how threads interleave, or a thread may stop before
	 * its --ops), refused under --op-equivalent; NULL = it can. */
	const char *not_op_equivalent;
};

#define MMB_WL_MAX_OP_KINDS 6

/* Allocator calls, made by workloads (defined in harness/probe.c). */
void *mmb_wl_alloc(struct mmb_wl_thread *t, size_t size, size_t align);
void mmb_wl_free(struct mmb_wl_thread *t, void *p, size_t size);
/* The same free, but unsized to the allocator (its free gets size 0, as C's
 * free(p) would); size still goes into the harness's books (live bytes,
 * checksum, exact accounting). */
void mmb_wl_free_unsized(struct mmb_wl_thread *t, void *p, size_t size);

/*
 * Time an operation of kind k (an index into ops->op_kinds), sampled like
 * alloc and free (--sample): t0 = mmb_wl_op_begin(t, k); ...work...;
 * mmb_wl_op_end(t, k, t0). t0 == 0 means "not timed this time".
 */
uint64_t mmb_wl_op_begin(struct mmb_wl_thread *t, unsigned k);
void mmb_wl_op_end(struct mmb_wl_thread *t, unsigned k, uint64_t t0);

static inline int mmb_wl_running(const struct mmb_wl_thread *t)
{
	if (t->ops_limit && t->nops >= t->ops_limit)
		return 0;
	return !atomic_load_explicit(t->stop, memory_order_relaxed);
}

/* Write every page of bookkeeping memory now (calloc leaves large tables
 * unmapped until first written). */
static inline void mmb_wl_touch(void *p, size_t len)
{
	volatile char *c = p;

	for (size_t i = 0; i < len; i += 4096)
		c[i] = 0;
	if (len)
		c[len - 1] = 0;
}

/*
 * Write one byte in every page a block spans and its last byte: a block
 * whose pages are never written is address space, not memory, and the
 * footprint (resident memory) would not hold it (footprint.h). For a block
 * within one page that is its first and last byte.
 */
static inline void mmb_wl_write(char *p, size_t size)
{
	size_t first = 4096 - ((uintptr_t)p & 4095);

	p[0] = 1;
	for (size_t i = first; i < size; i += 4096)
		p[i] = 1;
	p[size - 1] = 1;
}

/* xoshiro256**: fast, good enough for workload decisions. */
static inline uint64_t mmb_rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t mmb_rand(uint64_t s[4])
{
	uint64_t r = mmb_rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = mmb_rotl64(s[3], 45);
	return r;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift, bias < 2^-32 for n < 2^32). */
static inline uint64_t mmb_rand_below(uint64_t s[4], uint64_t n)
{
	return (uint64_t)(((unsigned __int128)mmb_rand(s) * n) >> 64);
}

/*
 * Fisher-Yates: v[0..n) in a uniformly random order, drawing
 * below(n), below(n - 1), ..., below(2) in that order (seeded runs
 * depend on it).
 */
static inline void mmb_rand_shuffle(uint64_t s[4], uint32_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = mmb_rand_below(s, i);
		uint32_t t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* Uniform double in [0, 1). */
static inline double mmb_rand_unit(uint64_t s[4])
{
	return (double)(mmb_rand(s) >> 11) * 0x1.0p-53;
}

/* splitmix64 step: seeds the xoshiro state from one 64-bit seed. */
static inline uint64_t mmb_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void mmb_rand_seed(uint64_t s[4], uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		s[i] = mmb_splitmix64(&seed);
}

/* The registry (workloads/registry.c). */
extern const struct mmb_wl_ops *const mmb_workloads[];
extern const size_t mmb_nworkloads;
const struct mmb_wl_ops *mmb_wl_find(const char *name);	/* NULL if unknown */

#endif /* MMB_WORKLOAD_H */

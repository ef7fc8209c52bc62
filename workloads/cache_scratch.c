/*
 * cache_scratch.c — allocator-induced passive false sharing (Hoard's
 * cache-scratch).
 *
 * Models: `cache-scratch N 1000 1 2000000 N` as mimalloc-bench runs it.
 * Thread 0 allocates one small object per thread, side by side, and hands
 * object i to thread i, which frees it at once (a remote free for i > 0).
 * Each thread then repeatedly allocates an object of `size` bytes, writes
 * every byte of it `writes` times, and frees it. An allocator that gives
 * the freed slot back to the thread that freed it, inside a cache line that
 * another thread is writing, makes the lines bounce between cores: the
 * throughput drops with the thread count instead of staying flat. The
 * figure of merit is ops_per_sec at 1 thread against N threads.
 *
 * Must not be used for: allocator speed (nearly all time is in the write
 * loop, by design), footprint or fragmentation (one live object per thread).
 * Under --ops, every pair costs size * writes byte writes (about 2 ms with
 * the canonical values): give a small `writes` or use --duration.
 *
 * Deterministic: the sequence depends only on the parameters and the thread
 * count. The hand-off of thread 0's objects is a wait (each thread waits for
 * them at the start of every run() call), not a source of variation.
 */
#include "workload.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static const struct mmb_param scratch_params[] = {
	{ "size", MMB_P_SIZE, "1", 1, 4096, NULL, "bytes per object (cache-scratch obj-size)" },
	{ "writes", MMB_P_U64, "2000000", 1, 1ULL << 32, NULL, "times every byte is written per object" },
	{ 0 },
};

struct scratch {
	size_t size;
	uint64_t writes;
	unsigned n;
	char **handed;			/* per thread: thread 0's object, NULL once freed */
	atomic_uint published;		/* run() calls for which handed[] is filled */
	unsigned *calls;		/* per thread: run() calls started */
};

static int scratch_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
			 void **r_state, char *err, size_t errlen)
{
	struct scratch *s = calloc(1, sizeof(*s));

	(void)seed;
	if (!s)
		goto nomem;
	s->size = mmb_pval_u64(params, "size");
	s->writes = mmb_pval_u64(params, "writes");
	s->n = nthreads;
	s->handed = calloc(nthreads, sizeof(char *));
	s->calls = calloc(nthreads, sizeof(unsigned));
	if (!s->handed || !s->calls)
		goto nomem;
	*r_state = s;
	return 0;
nomem:
	if (s) {
		free(s->handed);
		free(s->calls);
	}
	free(s);
	snprintf(err, errlen, "cache-scratch: out of memory");
	return -ENOMEM;
}

static void scratch_write(char *p, size_t size, uint64_t writes)
{
	volatile char *v = p;

	for (uint64_t j = 0; j < writes; j++)
		for (size_t k = 0; k < size; k++)
			v[k] = (char)(v[k] + 1);
}

static int scratch_run(void *state, struct mmb_wl_thread *t)
{
	struct scratch *s = state;
	unsigned call = ++s->calls[t->tid];

	if (t->tid == 0) {
		for (unsigned i = 0; i < s->n; i++) {
			s->handed[i] = mmb_wl_alloc(t, s->size, 0);
			if (s->handed[i])
				s->handed[i][0] = 1;
		}
		atomic_store_explicit(&s->published, call, memory_order_release);
	}
	while (atomic_load_explicit(&s->published, memory_order_acquire) < call) {
		if (!mmb_wl_running(t))
			return 0;
		sched_yield();
	}
	if (s->handed[t->tid]) {
		mmb_wl_free(t, s->handed[t->tid], s->size);
		s->handed[t->tid] = NULL;
	}
	while (mmb_wl_running(t)) {
		char *p = mmb_wl_alloc(t, s->size, 0);

		if (!p)
			continue;
		scratch_write(p, s->size, s->writes);
		mmb_wl_free(t, p, s->size);
	}
	return 0;
}

static void scratch_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct scratch *s = state;

	for (unsigned i = 0; t0 && i < s->n; i++)
		if (s->handed[i])
			mmb_wl_free(t0, s->handed[i], s->size);
	free(s->handed);
	free(s->calls);
	free(s);
}

const struct mmb_wl_ops mmb_wl_cache_scratch = {
	.name = "cache-scratch",
	.desc = "passive false sharing: objects freed remotely, reused by the freeing thread",
	.params = scratch_params,
	.setup = scratch_setup,
	.run = scratch_run,
	.teardown = scratch_teardown,
};

/*
 * larson.c — a multi-threaded program in the manner of larson (built as
 * build/tests/prog-larson): THREADS threads (default 2) each replace blocks
 * of 9..1000 bytes at random in a pool of NSLOT slots, in rounds. In round
 * r thread t works on pool (t + r) % THREADS, so the first replacement of
 * a slot in a round frees a block another thread allocated: about a
 * quarter of all frees are cross-thread. A barrier separates rounds.
 *
 *	prog-larson OPS [THREADS]	(OPS: malloc/free pairs per thread)
 *
 * Each thread draws from its own fixed-seed xorshift generator and every
 * block carries a tag at both ends, checked and summed when it is freed;
 * which thread frees which block is fixed by the rounds, so the printed
 * checksum depends only on OPS and THREADS, never on the allocator or the
 * scheduling. Exit 0, or 1 with a message. Used by tests/harness/test_shim.c
 * and `mmbench bench shim`.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xorshift.h"

#define NSLOT 2048
#define ROUND 8192		/* replacements per thread per round */
#define MAX_THREADS 64

struct blk {
	uint32_t tag;
	uint32_t size;
};

static struct blk *pool[MAX_THREADS][NSLOT];
static unsigned nthreads;
static uint64_t ops_per_thread;
static pthread_barrier_t barrier;
static uint64_t sums[MAX_THREADS];
static int failed;

static uint64_t take(struct blk *b)
{
	if (((const unsigned char *)b)[b->size - 1] != (unsigned char)b->tag)
		__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
	return b->tag;
}

static void *worker(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	uint64_t s = 0x9e3779b97f4a7c15ULL * (t + 1), sum = 0, done = 0;

	for (unsigned r = 0; done < ops_per_thread; r++) {
		struct blk **p = pool[(t + r) % nthreads];

		for (unsigned i = 0; i < ROUND && done < ops_per_thread; i++, done++) {
			uint64_t x = xorshift64(&s);
			unsigned k = (unsigned)(x % NSLOT);
			size_t n = 9 + (x >> 16) % 992;	/* the tag's end byte after the header */
			struct blk *b;

			if (p[k]) {
				sum += take(p[k]);
				free(p[k]);
			}
			b = malloc(n);
			if (!b) {
				__atomic_store_n(&failed, 2, __ATOMIC_RELAXED);
				p[k] = NULL;
				continue;
			}
			b->tag = (uint32_t)(x >> 32);
			b->size = (uint32_t)n;
			((unsigned char *)b)[b->size - 1] = (unsigned char)b->tag;
			p[k] = b;
		}
		/* every thread runs the same number of rounds: ops_per_thread is shared */
		pthread_barrier_wait(&barrier);
	}
	sums[t] = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[MAX_THREADS];
	uint64_t sum = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: prog-larson OPS [THREADS]\n");
		return 2;
	}
	ops_per_thread = strtoull(argv[1], NULL, 10);
	nthreads = argc == 3 ? (unsigned)strtoul(argv[2], NULL, 10) : 2;
	if (nthreads < 1 || nthreads > MAX_THREADS) {
		fprintf(stderr, "prog-larson: THREADS must be 1..%d\n", MAX_THREADS);
		return 2;
	}
	pthread_barrier_init(&barrier, NULL, nthreads);
	for (unsigned t = 0; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t)) {
			fprintf(stderr, "prog-larson: pthread_create failed\n");
			return 1;
		}
	for (unsigned t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	for (unsigned t = 0; t < nthreads; t++) {
		sum += sums[t];
		for (unsigned k = 0; k < NSLOT; k++)
			if (pool[t][k]) {
				sum += take(pool[t][k]);
				free(pool[t][k]);
			}
	}
	if (failed) {
		printf("larson: FAILED: %s\n", failed == 2 ? "malloc returned NULL" :
							     "a block's end was overwritten");
		return 1;
	}
	printf("larson: threads=%u ops=%llu checksum=%016llx\n", nthreads,
	       (unsigned long long)ops_per_thread, (unsigned long long)sum);
	return 0;
}

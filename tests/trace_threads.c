/*
 * trace_threads.c — a helper program for tests/harness/test_trace.c and
 * test_exec.c (built as build/tests/trace-threads, run under the recorder
 * or the malloc shim).
 *
 * NTHREADS threads run at once; thread k allocates NBLOCKS blocks of
 * 20000 + k * 1000 + i + 1 bytes (i = 0, 1, ...: sizes tell the threads and the
 * order apart), writes each, then frees them in the same order, then makes
 * one call of each other malloc-family function. The main thread checks
 * every block's contents and alignment; exit status 0 when all was well.
 *
 * "trace-threads churn N": instead, each thread makes N malloc/free pairs
 * of 16..527 bytes with 64 blocks live (for measuring the recorder's and
 * the shim's cost per call).
 *
 * "trace-threads xfree N": instead, in each of N rounds every thread
 * allocates NBLOCKS blocks (sizes as above), all threads meet at a
 * barrier, and thread k frees the blocks thread k - 1 (mod NTHREADS)
 * allocated, then all meet again: NTHREADS * NBLOCKS * N frees by another
 * thread than the allocating one (for replay's threads=recorded).
 *
 * "trace-threads killed N": instead, the main thread allocates 100 blocks
 * (a few records, its buffer never fills), one thread frees them, makes N
 * malloc/free pairs and kills the process with SIGKILL: no exit handler
 * runs, so what the trace holds is what the recorder wrote while it ran.
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTHREADS 4
#define NBLOCKS 300

static int tt_bad[NTHREADS];

static void *tt_run(void *arg)
{
	int k = (int)(intptr_t)arg;
	char *p[NBLOCKS];
	void *q;

	for (int i = 0; i < NBLOCKS; i++) {
		size_t n = 20000 + (size_t)k * 1000 + (size_t)i + 1;

		p[i] = malloc(n);
		if (!p[i] || ((uintptr_t)p[i] & 15) || malloc_usable_size(p[i]) < n) {
			tt_bad[k] = 1;
			return NULL;
		}
		memset(p[i], k + i, n);
	}
	for (int i = 0; i < NBLOCKS; i++) {
		size_t n = 20000 + (size_t)k * 1000 + (size_t)i + 1;

		if (p[i][0] != (char)(k + i) || p[i][n - 1] != (char)(k + i))
			tt_bad[k] = 1;
		free(p[i]);
	}
	q = calloc(10, 10);
	tt_bad[k] |= !q || ((char *)q)[99] != 0;
	q = realloc(q, 5000);
	tt_bad[k] |= !q || ((char *)q)[99] != 0;
	q = reallocarray(q, 100, 100);
	tt_bad[k] |= !q || ((char *)q)[99] != 0;
	free(q);
	tt_bad[k] |= posix_memalign(&q, 256, 100) || ((uintptr_t)q & 255);
	free(q);
	q = aligned_alloc(64, 640);
	tt_bad[k] |= !q || ((uintptr_t)q & 63);
	free(q);
	q = memalign(8192, 100);
	tt_bad[k] |= !q || ((uintptr_t)q & 8191);
	free(q);
	q = valloc(10);
	tt_bad[k] |= !q || ((uintptr_t)q & 4095);
	free(q);
	q = pvalloc(10);
	tt_bad[k] |= !q || ((uintptr_t)q & 4095) || malloc_usable_size(q) < 4096;
	free(q);
	return NULL;
}

static long tt_rounds;
static char *tt_blocks[NTHREADS][NBLOCKS];
static pthread_barrier_t tt_barrier;

static void *tt_xfree(void *arg)
{
	int k = (int)(intptr_t)arg, from = (k + NTHREADS - 1) % NTHREADS;

	for (long r = 0; r < tt_rounds; r++) {
		for (int i = 0; i < NBLOCKS; i++) {
			tt_blocks[k][i] = malloc(20000 + (size_t)k * 1000 + (size_t)i + 1);
			if (!tt_blocks[k][i])
				tt_bad[k] = 1;
			else
				tt_blocks[k][i][0] = (char)k;
		}
		pthread_barrier_wait(&tt_barrier);
		for (int i = 0; i < NBLOCKS; i++) {
			if (tt_blocks[from][i] && tt_blocks[from][i][0] != (char)from)
				tt_bad[k] = 1;
			free(tt_blocks[from][i]);
		}
		pthread_barrier_wait(&tt_barrier);
	}
	return NULL;
}

static long tt_churn_n;

static void *tt_churn(void *arg)
{
	void *live[64] = { 0 };

	(void)arg;
	for (long i = 0; i < tt_churn_n; i++) {
		free(live[i & 63]);
		live[i & 63] = malloc(16 + (size_t)(i * 7919 % 512));
		if (!live[i & 63])
			return (void *)1;
		*(char *)live[i & 63] = 1;
	}
	for (int i = 0; i < 64; i++)
		free(live[i]);
	return NULL;
}

static void *tt_kblocks[100];

static void *tt_killer(void *arg)
{
	long n = (long)(intptr_t)arg;

	for (int i = 0; i < 100; i++)
		free(tt_kblocks[i]);
	for (long i = 0; i < n; i++) {
		void *volatile p = malloc(16 + (size_t)(i & 511));

		free(p);
	}
	kill(getpid(), SIGKILL);
	return NULL;
}

int main(int argc, char **argv)
{
	void *(*fn)(void *) = tt_run;
	pthread_t th[NTHREADS];
	int bad = 0;

	if (argc == 3 && !strcmp(argv[1], "churn")) {
		tt_churn_n = atol(argv[2]);
		fn = tt_churn;
	}
	if (argc == 3 && !strcmp(argv[1], "killed")) {
		pthread_t t;

		for (int i = 0; i < 100; i++)
			tt_kblocks[i] = malloc(100 + (size_t)i);
		if (pthread_create(&t, NULL, tt_killer, (void *)(intptr_t)atol(argv[2])))
			return 1;
		pthread_join(t, NULL);
		return 1;	/* not reached */
	}
	if (argc == 3 && !strcmp(argv[1], "xfree")) {
		tt_rounds = atol(argv[2]);
		fn = tt_xfree;
		if (pthread_barrier_init(&tt_barrier, NULL, NTHREADS))
			return 1;
	}
	for (int k = 0; k < NTHREADS; k++)
		if (pthread_create(&th[k], NULL, fn, (void *)(intptr_t)k))
			return 1;
	for (int k = 0; k < NTHREADS; k++) {
		void *r;

		pthread_join(th[k], &r);
		bad |= tt_bad[k] || r;
	}
	printf("trace-threads: %s\n", bad ? "FAILED" : "ok");
	return bad;
}

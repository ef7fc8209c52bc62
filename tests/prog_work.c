/*
 * prog_work.c — build/tests/prog-work, the program the program-cell tests run
 * under every allocator (tests/harness/test_programs.c):
 *
 *   prog-work alloc N SEED   2 threads, each N malloc/realloc/free of 1..70000
 *                            bytes (seeded), contents checked; prints a checksum
 *   prog-work hold MS MIB    touches MIB MiB, keeps it MS milliseconds, frees it
 *   prog-work exit N         exits with status N after printing "exit N"
 *   prog-work crash          dies of SIGSEGV
 *   prog-work exhaust MIB    mallocs 1 MiB blocks, MIB at most: exit 1 with
 *                            "out of memory" (as perl's) when one fails, else 0
 *   prog-work cat            copies stdin to stdout
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
	unsigned long n;
	uint64_t seed, sum;
};

static uint64_t next(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void *work(void *arg)
{
	struct job *j = arg;
	unsigned char *slot[256] = { 0 };
	size_t len[256] = { 0 };

	for (unsigned long i = 0; i < j->n; i++) {
		uint64_t r = next(&j->seed);
		unsigned k = r & 255;
		size_t sz = (r >> 8) % ((r >> 40) & 1 ? 70000 : 300) + 1;

		if (slot[k]) {
			for (size_t b = 0; b < len[k]; b += 61)
				if (slot[k][b] != (unsigned char)(k + b)) {
					fprintf(stderr, "prog-work: block %u corrupted\n", k);
					exit(3);
				}
			j->sum += len[k];
			if ((r >> 20) & 1) {
				free(slot[k]);
				slot[k] = NULL;
				continue;
			}
			slot[k] = realloc(slot[k], sz);
		} else {
			slot[k] = malloc(sz);
		}
		if (!slot[k])
			exit(4);
		for (size_t b = 0; b < sz; b++)
			slot[k][b] = (unsigned char)(k + b);
		len[k] = sz;
	}
	for (unsigned k = 0; k < 256; k++)
		free(slot[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "alloc")) {
		struct job j[2];
		pthread_t t[2];

		for (int i = 0; i < 2; i++) {
			j[i].n = strtoul(argv[2], NULL, 10);
			j[i].seed = strtoull(argv[3], NULL, 10) + (uint64_t)i;
			j[i].sum = 0;
			pthread_create(&t[i], NULL, work, &j[i]);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		printf("checksum %llu %llu\n", (unsigned long long)j[0].sum,
		       (unsigned long long)j[1].sum);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "hold")) {
		size_t bytes = strtoul(argv[3], NULL, 10) << 20;
		long ms = strtol(argv[2], NULL, 10);
		char *p = malloc(bytes);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		if (!p)
			return 4;
		memset(p, 1, bytes);
		nanosleep(&ts, NULL);
		printf("held %zu\n", bytes);
		free(p);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "exit")) {
		printf("exit %s\n", argv[2]);
		return atoi(argv[2]);
	}
	if (argc == 2 && !strcmp(argv[1], "crash")) {
		fflush(stdout);
		raise(SIGSEGV);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "exhaust")) {
		unsigned long n = strtoul(argv[2], NULL, 10), i;
		void **blk = calloc(n + 1, sizeof(*blk));

		for (i = 0; blk && i < n && (blk[i] = malloc(1 << 20)); i++)
			;
		for (unsigned long k = 0; blk && k < i; k++)
			free(blk[k]);
		free(blk);
		if (i < n) {
			fprintf(stderr, "Out of memory!\n");
			return 1;
		}
		printf("%lu MiB\n", n);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "cat")) {
		int c;

		while ((c = getchar()) != EOF)
			putchar(c);
		return 0;
	}
	fprintf(stderr, "usage: prog-work alloc N SEED | hold MS MIB | exit N | crash | exhaust MIB | cat\n");
	return 2;
}

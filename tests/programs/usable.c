/*
 * usable.c — a program that uses the whole of every block
 * malloc_usable_size() reports, as V8 (node) and other growable buffers do
 * (built as build/tests/prog-usable). C allows it: the usable size is the
 * block's. Under slub_debug, the kernel's ksize() lifts the kmalloc red zone
 * check of an object whose full size a caller asked for
 * (skip_orig_size_check), so the shim must too: writing up to the usable
 * size is no overrun.
 *
 *	prog-usable OPS
 *
 * OPS blocks of 1..4200 bytes (a fixed-seed xorshift), each filled to its
 * usable size, checked and freed in a pool of 64; a realloc grows one block
 * now and then. Prints checksum=N (the sum of the filled bytes' pattern,
 * the same under any malloc whose blocks hold what was written); exit 1
 * when a block came back changed.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xorshift.h"

#define NSLOT 64

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

struct blk {
	unsigned char *p;
	size_t usable;
	unsigned char fill;
};

/* Checks blk's bytes; returns their pattern's sum, or -1. */
static long long check(const struct blk *b)
{
	for (size_t i = 0; i < b->usable; i++)
		if (b->p[i] != b->fill)
			return -1;
	return (long long)b->fill * 31 + (long long)(b->usable > 0);
}

static int take(struct blk *b, size_t size)
{
	b->p = malloc(size);
	if (!b->p)
		return -1;
	b->usable = malloc_usable_size(b->p);
	if (b->usable < size)
		return -1;
	b->fill = (unsigned char)(xorshift64(&rng_state) | 1);
	memset(b->p, b->fill, b->usable);
	return 0;
}

int main(int argc, char **argv)
{
	struct blk pool[NSLOT] = { { 0 } };
	long ops = argc > 1 ? atol(argv[1]) : 10000;
	long long sum = 0, c;

	for (long i = 0; i < ops; i++) {
		struct blk *b = &pool[xorshift64(&rng_state) % NSLOT];
		size_t size = 1 + xorshift64(&rng_state) % 4200;

		if (b->p) {
			if ((c = check(b)) < 0) {
				fprintf(stderr, "usable: block %p changed\n", (void *)b->p);
				return 1;
			}
			sum += c;
			if (i % 7 == 0) {
				/* grow within or past the usable size, then use all of it */
				size_t grow = 1 + xorshift64(&rng_state) % 64;
				unsigned char *q = realloc(b->p, b->usable + grow);

				if (!q)
					return 1;
				b->p = q;
				b->usable = malloc_usable_size(q);
				memset(q, b->fill, b->usable);
				continue;
			}
			free(b->p);
			b->p = NULL;
		}
		if (take(b, size)) {
			fprintf(stderr, "usable: malloc(%zu) failed\n", size);
			return 1;
		}
	}
	for (int i = 0; i < NSLOT; i++)
		if (pool[i].p) {
			if ((c = check(&pool[i])) < 0)
				return 1;
			sum += c;
			free(pool[i].p);
		}
	printf("checksum=%lld\n", sum);
	return 0;
}

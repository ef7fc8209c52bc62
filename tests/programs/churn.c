/*
 * churn.c — a single-threaded malloc/free-heavy program of small objects
 * (built as build/tests/prog-churn), in the manner of cfrac and espresso:
 * mixed small sizes (half of them 16..32 bytes, 5% up to 2 KiB), a pool of
 * long-lived blocks replaced at random, bursts of short-lived temporaries
 * freed in reverse order, and now and then a realloc or a calloc.
 *
 *	prog-churn OPS [SEED]
 *
 * Every block carries a tag (from a fixed-seed xorshift generator) at its
 * start and end; a block's tags are checked when it is freed and summed
 * into the checksum printed at the end, so the output depends only on OPS
 * and SEED, never on the allocator: the same program gives the same line
 * plain and under any malloc. Exit 0, or 1 with a message when a block
 * came back damaged or malloc failed. Used by tests/harness/test_shim.c
 * and `mmbench bench shim`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xorshift.h"

#define NSLOT 2048
#define BURST 8

struct blk {
	uint32_t tag;
	uint32_t size;
};

static uint64_t rng_state;

/* Half 16..32 bytes, 30% 33..128, 15% 129..512, 5% 513..2048. */
static size_t pick_size(uint64_t r)
{
	unsigned c = (unsigned)(r % 100);

	r >>= 8;
	if (c < 50)
		return 16 + r % 17;
	if (c < 80)
		return 33 + r % 96;
	if (c < 95)
		return 129 + r % 384;
	return 513 + r % 1536;
}

static void die(const char *what)
{
	printf("churn: FAILED: %s\n", what);
	exit(1);
}

static struct blk *make(size_t size, uint32_t tag)
{
	struct blk *b = malloc(size);

	if (!b)
		die("malloc returned NULL");
	b->tag = tag;
	b->size = (uint32_t)size;
	((unsigned char *)b)[size - 1] = (unsigned char)tag;
	return b;
}

/* The block's tag, after checking both ends. */
static uint32_t check(const struct blk *b)
{
	if (((const unsigned char *)b)[b->size - 1] != (unsigned char)b->tag)
		die("a block's end was overwritten");
	return b->tag;
}

int main(int argc, char **argv)
{
	static struct blk *slot[NSLOT];
	uint64_t sum = 0, ops, done = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: prog-churn OPS [SEED]\n");
		return 2;
	}
	ops = strtoull(argv[1], NULL, 10);
	rng_state = argc == 3 ? strtoull(argv[2], NULL, 10) | 1 : 88172645463325252ULL;
	while (done < ops) {
		uint64_t r = xorshift64(&rng_state);
		unsigned k = (unsigned)(r % NSLOT);

		r >>= 11;
		if (r % 4 == 0) {
			/* a burst of temporaries, freed last in first out */
			struct blk *tmp[BURST];

			for (int i = 0; i < BURST; i++)
				tmp[i] = make(pick_size(xorshift64(&rng_state)),
					      (uint32_t)xorshift64(&rng_state));
			for (int i = BURST - 1; i >= 0; i--) {
				sum += check(tmp[i]);
				free(tmp[i]);
			}
			done += 2 * BURST;
			continue;
		}
		if (slot[k]) {
			sum += check(slot[k]);
			if (r % 64 == 1) {
				/* grow or shrink it, keeping its contents */
				size_t n = pick_size(xorshift64(&rng_state));
				struct blk *b = realloc(slot[k], n);

				if (!b)
					die("realloc returned NULL");
				b->size = (uint32_t)n;
				((unsigned char *)b)[n - 1] = (unsigned char)b->tag;
				slot[k] = b;
				done++;
				continue;
			}
			free(slot[k]);
			done++;
		}
		if (r % 97 == 2) {
			size_t n = pick_size(xorshift64(&rng_state));
			unsigned char *z = calloc(1, n);

			if (!z)
				die("calloc returned NULL");
			for (size_t i = 0; i < n; i++)
				if (z[i])
					die("calloc gave memory that is not zero");
			free(z);
			done += 2;
		}
		slot[k] = make(pick_size(r), (uint32_t)xorshift64(&rng_state));
		done++;
	}
	for (unsigned k = 0; k < NSLOT; k++)
		if (slot[k]) {
			sum += check(slot[k]);
			free(slot[k]);
		}
	printf("churn: ops=%llu checksum=%016llx\n", (unsigned long long)ops, (unsigned long long)sum);
	return 0;
}

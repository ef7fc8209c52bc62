/*
 * align.c — aligned requests of every power of two from 16 bytes to 8 MiB (twice the largest buddy block)
 * (built as build/tests/prog-align): posix_memalign, aligned_alloc and
 * memalign, small and large sizes, each block written whole and checked.
 * A malloc that hands out a block less aligned than asked fails it: the
 * shim serves some of them with buddy blocks, whose addresses are only as
 * aligned as the simulated memory's mapping, not as the block's order.
 * Each block's first and last bytes are written and read back.
 *
 *	prog-align ROUNDS
 *
 * Prints checksum=N (the number of blocks checked, the same under any
 * malloc); exit 1 with the request that came back misaligned or damaged.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(const char *fn, void *p, size_t align, size_t size)
{
	if (!p || ((uintptr_t)p & (align - 1))) {
		fprintf(stderr, "align: %s(%zu, %zu) = %p\n", fn, align, size, p);
		return -1;
	}
	((volatile unsigned char *)p)[size - 1] = 0xa5;
	((volatile unsigned char *)p)[0] = 0x5a;
	return ((volatile unsigned char *)p)[0] == 0x5a &&
	       (size == 1 || ((volatile unsigned char *)p)[size - 1] == 0xa5) ? 0 : -1;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 1, n = 0;

	for (long r = 0; r < rounds; r++) {
		for (size_t align = 16; align <= (8u << 20); align <<= 1) {
			size_t sizes[] = { 1, 100, align, align + 1 };

			for (unsigned i = 0; i < 4; i++) {
				size_t size = sizes[i];
				void *p = NULL;

				if (posix_memalign(&p, align, size) || check("posix_memalign", p, align, size))
					return 1;
				free(p);
				p = aligned_alloc(align, (size + align - 1) / align * align);
				if (check("aligned_alloc", p, align, size))
					return 1;
				free(p);
				p = memalign(align, size);
				if (check("memalign", p, align, size))
					return 1;
				free(p);
				n += 3;
			}
		}
	}
	printf("checksum=%ld\n", n);
	return 0;
}

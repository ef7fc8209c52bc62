/*
 * xorshift.h — the fixed-seed generator of the small programs in
 * tests/programs/ (Marsaglia's xorshift64, shifts 13, 7, 17): what they
 * allocate and print depends only on their arguments, never on the
 * allocator under them. s must not be 0.
 */
#ifndef MMB_TEST_XORSHIFT_H
#define MMB_TEST_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

#endif

/*
 * corrupt.c — a test-only workload with planted memory-safety bugs, for the
 * KFENCE detector (kfence.h). Run it with kfence=1 (every allocation
 * sampled) on one thread: its first allocation then sits at the left edge
 * of its KFENCE page and its second at the right edge.
 *
 *   bug=oob_left	writes the byte before the first object
 *   bug=oob_right	writes the byte after the second object
 *   bug=uaf		frees the first object, then writes its first byte
 *   bug=canary		writes the byte after the first object (inside its
 *			page: caught by the canary check when it is freed)
 *   bug=none		no bug (the same calls otherwise)
 *
 * Then alloc/free pairs until stopped. Without KFENCE the bugs corrupt the
 * heap for real: never use it for anything but the detector's tests.
 * Hidden: not listed, never in a suite.
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const struct mmb_param corrupt_params[] = {
	{ "bug", MMB_P_ENUM, "none", 0, 0, "none|oob_left|oob_right|uaf|canary", "the planted bug" },
	{ "size", MMB_P_SIZE, "32", 8, 4096, NULL, "bytes per object (a multiple of 8)" },
	{ 0 },
};

enum { BUG_NONE, BUG_OOB_LEFT, BUG_OOB_RIGHT, BUG_UAF, BUG_CANARY };

struct corrupt {
	int bug;
	size_t size;
};

static int corrupt_check(const struct mmb_pvals *params, char *err, size_t errlen)
{
	if (mmb_pval_u64(params, "size") % 8) {
		snprintf(err, errlen, "corrupt: size must be a multiple of 8");
		return -EINVAL;
	}
	return 0;
}

static int corrupt_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
			 void **r_state, char *err, size_t errlen)
{
	struct corrupt *c = malloc(sizeof(*c));

	(void)nthreads;
	(void)seed;
	if (!c) {
		snprintf(err, errlen, "corrupt: out of memory");
		return -ENOMEM;
	}
	c->bug = (int)mmb_pval_u64(params, "bug");
	c->size = mmb_pval_u64(params, "size");
	*r_state = c;
	return 0;
}

/* The faulty store, out of line so that reports name it. */
static __attribute__((noinline)) void corrupt_poke(char *p, long off)
{
	((volatile char *)p)[off] = 0x42;
}

static int corrupt_run(void *state, struct mmb_wl_thread *t)
{
	struct corrupt *c = state;
	char *a = mmb_wl_alloc(t, c->size, 0);
	char *b = mmb_wl_alloc(t, c->size, 0);

	if (a && b) {
		switch (c->bug) {
		case BUG_OOB_LEFT: corrupt_poke(a, -1); break;
		case BUG_OOB_RIGHT: corrupt_poke(b, (long)c->size); break;
		case BUG_CANARY: corrupt_poke(a, (long)c->size); break;
		default: break;
		}
	}
	if (a)
		mmb_wl_free(t, a, c->size);
	if (a && c->bug == BUG_UAF)
		corrupt_poke(a, 0);
	if (b)
		mmb_wl_free(t, b, c->size);
	while (mmb_wl_running(t)) {
		char *p = mmb_wl_alloc(t, c->size, 0);

		if (p)
			mmb_wl_free(t, p, c->size);
	}
	return 0;
}

static void corrupt_teardown(void *state, struct mmb_wl_thread *t0)
{
	(void)t0;
	free(state);
}

const struct mmb_wl_ops mmb_wl_corrupt = {
	.name = "corrupt",
	.desc = "test-only: planted out-of-bounds writes and a use after free (for KFENCE)",
	.params = corrupt_params,
	.hidden = 1,
	.check_params = corrupt_check,
	.setup = corrupt_setup,
	.run = corrupt_run,
	.teardown = corrupt_teardown,
};

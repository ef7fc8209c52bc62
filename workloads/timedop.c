/*
 * timedop.c — a test-only workload that times an operation of its own.
 *
 * Models nothing: it shows that an operation kind a workload defines
 * (workload.h op_kinds, mmb_wl_op_begin/end) gets its own latency
 * histogram in latency.csv. Each step allocates a block, times writing
 * every byte of it as operation "touch", and frees it. Hidden: not listed,
 * never in a suite.
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct mmb_param timedop_params[] = {
	{ "size", MMB_P_SIZE, "4096", 1, 1 << 20, NULL, "bytes per block" },
	{ 0 },
};

static const char *const timedop_kinds[] = { "touch", NULL };

static int timedop_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
			 void **r_state, char *err, size_t errlen)
{
	size_t *size = malloc(sizeof(*size));

	(void)nthreads;
	(void)seed;
	if (!size) {
		snprintf(err, errlen, "timedop: out of memory");
		return -ENOMEM;
	}
	*size = mmb_pval_u64(params, "size");
	*r_state = size;
	return 0;
}

static int timedop_run(void *state, struct mmb_wl_thread *t)
{
	size_t size = *(size_t *)state;

	while (mmb_wl_running(t)) {
		char *p = mmb_wl_alloc(t, size, 0);
		uint64_t t0;

		if (!p)
			continue;
		t0 = mmb_wl_op_begin(t, 0);
		memset(p, (int)t->nops, size);
		__asm__ volatile("" : : "g"(p) : "memory");
		mmb_wl_op_end(t, 0, t0);
		mmb_wl_free(t, p, size);
	}
	return 0;
}

static void timedop_teardown(void *state, struct mmb_wl_thread *t0)
{
	(void)t0;
	free(state);
}

const struct mmb_wl_ops mmb_wl_timedop = {
	.name = "timedop",
	.desc = "test-only: times an operation of its own (touch)",
	.params = timedop_params,
	.hidden = 1,
	.setup = timedop_setup,
	.run = timedop_run,
	.teardown = timedop_teardown,
	.op_kinds = timedop_kinds,
};

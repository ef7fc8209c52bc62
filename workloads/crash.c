/*
 * crash.c — a test-only workload that misbehaves on purpose.
 *
 * Models nothing: it lets the tests show that a cell which crashes, aborts,
 * hangs or fails is isolated and recorded while the run goes on. Hidden: not
 * listed, never in a suite.
 *
 *   mode=segv|abort|hang|fail|ok   what run() does after `after` pairs
 */
#include "workload.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static const struct mmb_param crash_params[] = {
	{ "mode", MMB_P_ENUM, "segv", 0, 0, "segv|abort|hang|fail|ok", "how the cell ends" },
	{ "after", MMB_P_U64, "10", 0, 1e9, NULL, "alloc/free pairs before misbehaving" },
	{ 0 },
};

enum { MODE_SEGV, MODE_ABORT, MODE_HANG, MODE_FAIL, MODE_OK };

struct crash {
	int mode;
	uint64_t after;
};

static int crash_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
		       void **r_state, char *err, size_t errlen)
{
	struct crash *c = malloc(sizeof(*c));

	(void)nthreads;
	(void)seed;
	(void)err;
	(void)errlen;
	if (!c)
		return -ENOMEM;
	c->mode = (int)mmb_pval_u64(params, "mode");
	c->after = mmb_pval_u64(params, "after");
	*r_state = c;
	return 0;
}

static int crash_run(void *state, struct mmb_wl_thread *t)
{
	struct crash *c = state;

	for (uint64_t i = 0; i < c->after && mmb_wl_running(t); i++) {
		void *p = mmb_wl_alloc(t, 32, 0);

		if (p)
			mmb_wl_free(t, p, 32);
	}
	switch (c->mode) {
	case MODE_SEGV:
		raise(SIGSEGV);
		break;
	case MODE_ABORT:
		abort();
	case MODE_HANG:
		for (;;)
			pause();
	case MODE_FAIL:
		return -EIO;
	default:
		break;
	}
	while (mmb_wl_running(t)) {
		void *p = mmb_wl_alloc(t, 32, 0);

		if (p)
			mmb_wl_free(t, p, 32);
	}
	return 0;
}

static void crash_teardown(void *state, struct mmb_wl_thread *t0)
{
	(void)t0;
	free(state);
}

const struct mmb_wl_ops mmb_wl_crash = {
	.name = "crash",
	.desc = "test-only: crashes, aborts, hangs or fails on purpose",
	.params = crash_params,
	.hidden = 1,
	.setup = crash_setup,
	.run = crash_run,
	.teardown = crash_teardown,
};

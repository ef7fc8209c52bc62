/*
 * leaky.c — a test-only workload that leaks on purpose (kmemleak.h).
 *
 * Models nothing: it gives the leak detector's tests planted leaks and
 * objects that are referenced only in ways a careless scan would miss.
 * Hidden: not listed, never in a suite.
 *
 * Each thread, once per run():
 *   - keeps `hold` objects alive until teardown, as a chain: the workload's
 *     state (process malloc) points at the first, and each object holds
 *     only an interior pointer (object + 8) to the next, so all but the
 *     first are referenced from inside other tracked objects alone;
 *   - allocates `leaks` objects and drops every pointer to them (the
 *     planted leaks: exactly leaks x threads are unreferenced at the end);
 *   - then runs alloc/free pairs of `size` bytes until stopped.
 * Teardown frees the chains through t0. With leaks=0 nothing may be
 * reported.
 *
 * Deterministic: the sequence is fixed by the parameters.
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct mmb_param leaky_params[] = {
	{ "leaks", MMB_P_U64, "4", 0, 1 << 20, NULL, "objects per thread never freed nor referenced" },
	{ "hold", MMB_P_U64, "16", 0, 1 << 20, NULL,
	  "objects per thread kept to teardown, chained through interior pointers" },
	{ "size", MMB_P_SIZE, "64", 16, 1 << 20, NULL, "bytes per object" },
	{ 0 },
};

struct leaky {
	size_t leaks, hold, size;
	unsigned nthreads;
	char **chain;			/* per thread: the first held object */
};

static int leaky_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
		       void **r_state, char *err, size_t errlen)
{
	struct leaky *l = calloc(1, sizeof(*l));

	(void)seed;
	if (l)
		l->chain = calloc(nthreads, sizeof(*l->chain));
	if (!l || !l->chain) {
		free(l);
		snprintf(err, errlen, "leaky: out of memory");
		return -ENOMEM;
	}
	l->leaks = mmb_pval_u64(params, "leaks");
	l->hold = mmb_pval_u64(params, "hold");
	l->size = mmb_pval_u64(params, "size");
	l->nthreads = nthreads;
	*r_state = l;
	return 0;
}

/* Out of line, so that no pointer to a planted leak stays in run()'s frame. */
static __attribute__((noinline)) void leaky_plant(struct mmb_wl_thread *t, size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		char *p = mmb_wl_alloc(t, size, 0);

		if (p)
			memset(p, 0x4c, size);	/* 'L': no pointer in it */
	}
}

static __attribute__((noinline)) char *leaky_build_chain(struct mmb_wl_thread *t, size_t n,
							 size_t size)
{
	char *first = NULL, *prev = NULL;

	for (size_t i = 0; i < n; i++) {
		char *p = mmb_wl_alloc(t, size, 0);

		if (!p)
			break;
		memset(p, 0, size);
		if (prev)
			memcpy(prev, &(char *){ p + 8 }, sizeof(p));
		else
			first = p;
		prev = p;
	}
	return first;
}

static int leaky_run(void *state, struct mmb_wl_thread *t)
{
	struct leaky *l = state;

	if (!l->chain[t->tid])
		l->chain[t->tid] = leaky_build_chain(t, l->hold, l->size);
	leaky_plant(t, l->leaks, l->size);
	while (mmb_wl_running(t)) {
		char *p = mmb_wl_alloc(t, l->size, 0);

		if (p) {
			p[0] = 1;
			mmb_wl_free(t, p, l->size);
		}
	}
	return 0;
}

static void leaky_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct leaky *l = state;

	for (unsigned i = 0; t0 && i < l->nthreads; i++) {
		char *p = l->chain[i];

		while (p) {
			char *next;

			memcpy(&next, p, sizeof(next));
			mmb_wl_free(t0, p, l->size);
			p = next ? next - 8 : NULL;
		}
	}
	free(l->chain);
	free(l);
}

const struct mmb_wl_ops mmb_wl_leaky = {
	.name = "leaky",
	.desc = "test-only: planted leaks beside objects referenced only from other objects",
	.params = leaky_params,
	.hidden = 1,
	.setup = leaky_setup,
	.run = leaky_run,
	.teardown = leaky_teardown,
};

/*
 * bigbuf.c — large buffers allocated, touched and freed.
 *
 * Models: I/O and decompression buffers, matrices, arenas: requests of
 * hundreds of KiB to MiB, where a malloc goes to mmap and a kernel would use
 * vmalloc (virtually contiguous, page-backed). The shape of mimalloc-bench's
 * malloc-large (up to 20 live buffers of 5-25 MiB), scaled down by default
 * to suit a small machine. Each thread keeps `live` slots and replaces a
 * random one per step with a buffer of a size uniform in [min, max]; every
 * page of a new buffer is written (touch=on), so mapping and page-fault
 * costs are part of every allocation, as they are in real use.
 *
 * Must not be used for: small-object behaviour, or throughput compared with
 * small-object workloads (one op here costs a mapping and up to max/4096
 * page faults).
 *
 * Deterministic: each thread's sequence depends only on the seed, its thread
 * number and the parameters.
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define BIGBUF_PAGE 4096u

static const struct mmb_param bigbuf_params[] = {
	{ "min", MMB_P_SIZE, "256K", 4096, 1ULL << 32, NULL, "smallest buffer, bytes" },
	{ "max", MMB_P_SIZE, "4M", 4096, 1ULL << 32, NULL, "largest buffer, bytes" },
	{ "live", MMB_P_U64, "8", 1, 4096, NULL, "slots per thread (buffers kept live)" },
	{ "touch", MMB_P_BOOL, "on", 0, 0, NULL, "write every page of a new buffer" },
	{ 0 },
};

struct bigbuf_slot {
	char *p;
	size_t size;
};

struct bigbuf {
	size_t min, max, live;
	int touch;
	struct bigbuf_slot *slots;	/* nthreads x live */
};

static int bigbuf_check(const struct mmb_pvals *params, char *err, size_t errlen)
{
	if (mmb_pval_u64(params, "min") > mmb_pval_u64(params, "max")) {
		snprintf(err, errlen, "workload bigbuf: min=%s is above max=%s",
			 mmb_pval_str(params, "min"), mmb_pval_str(params, "max"));
		return -EINVAL;
	}
	return 0;
}

static int bigbuf_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
			void **r_state, char *err, size_t errlen)
{
	struct bigbuf *b = calloc(1, sizeof(*b));

	(void)seed;
	if (!b)
		goto nomem;
	b->min = mmb_pval_u64(params, "min");
	b->max = mmb_pval_u64(params, "max");
	b->live = mmb_pval_u64(params, "live");
	b->touch = (int)mmb_pval_u64(params, "touch");
	b->slots = calloc((size_t)nthreads * b->live, sizeof(*b->slots));
	if (!b->slots)
		goto nomem;
	*r_state = b;
	return 0;
nomem:
	free(b);
	snprintf(err, errlen, "bigbuf: out of memory");
	return -ENOMEM;
}

static int bigbuf_run(void *state, struct mmb_wl_thread *t)
{
	struct bigbuf *b = state;
	struct bigbuf_slot *slot = &b->slots[(size_t)t->tid * b->live];

	while (mmb_wl_running(t)) {
		struct bigbuf_slot *v = &slot[mmb_rand_below(t->rng, b->live)];

		if (v->p)
			mmb_wl_free(t, v->p, v->size);
		v->size = b->min + mmb_rand_below(t->rng, b->max - b->min + 1);
		v->p = mmb_wl_alloc(t, v->size, 0);
		if (v->p && b->touch) {
			for (size_t off = 0; off < v->size; off += BIGBUF_PAGE)
				v->p[off] = 1;
			v->p[v->size - 1] = 1;
		}
	}
	for (size_t i = 0; i < b->live; i++) {
		if (slot[i].p)
			mmb_wl_free(t, slot[i].p, slot[i].size);
		slot[i].p = NULL;
	}
	return 0;
}

static void bigbuf_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct bigbuf *b = state;

	(void)t0;
	free(b->slots);
	free(b);
}

const struct mmb_wl_ops mmb_wl_bigbuf = {
	.name = "bigbuf",
	.desc = "large buffers (256K-4M) allocated, every page touched, freed",
	.params = bigbuf_params,
	.check_params = bigbuf_check,
	.setup = bigbuf_setup,
	.run = bigbuf_run,
	.teardown = bigbuf_teardown,
};

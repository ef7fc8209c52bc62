/*
 * bench_detect.c — what the detectors cost on the kmalloc fast path: a
 * kmalloc(64) + kfree pair through the `slab` registry ops, side by side:
 *
 *   off			slab, no detector (the hooks are one predictable
 *				branch on a per-instance flag)
 *   kmemleak=on		every object tracked (hash insert + call stack)
 *   kfence=100, kfence=1000	one pair in N on a guarded page (two mprotect
 *				calls), the rest on the fast path
 *
 * and the cost of one kmemleak scan with 10000 live objects, referenced from
 * a malloc'ed array (the process's data, heap and this thread's stack are
 * swept as well).
 *
 * Issue 11 sets no target: the ratios to `off` are printed as figures. The
 * scan is timed first, before the pair instances exist, in a process whose
 * other memory is the bench's own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../allocators/allocator.h"
#include "../../allocators/buddy.h"
#include "../../allocators/kmemleak.h"
#include "../../allocators/slab.h"
#include "bench.h"

#define SCAN_OBJECTS 10000

struct bd_pair {
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
};

static void bd_pair_loop(void *arg, uint64_t iters)
{
	struct bd_pair *p = arg;

	for (uint64_t i = 0; i < iters; i++) {
		void *b = p->ops->alloc(p->a, 64, 0);

		__asm__ volatile("" : : "g"(b) : "memory");
		p->ops->free(p->a, b, 64);
	}
}

/* One scan over SCAN_OBJECTS live objects; ns per scan (median of reps). */
static double bd_scan_ns(const struct mmb_bench_opts *o, char *err, size_t errlen)
{
	struct mmb_buddy_cfg bc = { .mem_bytes = 64 << 20, .pcp = 1, .nthreads = 1 };
	struct mmb_kmemleak_cfg kc = { .min_age_ms = MMB_KMEMLEAK_MIN_AGE_MS };
	struct mmb_slab_cfg sc = { .nr_cpus = 1, .max_order = 3, .cpu_partial = -1,
				   .min_partial = -1 };
	struct mmb_kmemleak *kml = NULL;
	struct mmb_buddy *b = NULL;
	struct mmb_slab *sl = NULL;
	void **live = calloc(SCAN_OBJECTS, sizeof(*live));
	double *t = calloc(o->reps, sizeof(*t)), med = -1;

	if (!live || !t || mmb_kmemleak_create(&kc, &kml, err, errlen) ||
	    mmb_buddy_create(&bc, &b, err, errlen))
		goto out;
	sc.buddy = b;
	sc.kmemleak = kml;
	if (mmb_slab_create(&sc, &sl, err, errlen))
		goto out;
	for (int i = 0; i < SCAN_OBJECTS; i++)
		live[i] = mmb_kmalloc(sl, 16 + (size_t)(i % 32) * 16);
	for (unsigned r = 0; r < o->reps; r++) {
		struct timespec a, z;

		clock_gettime(CLOCK_MONOTONIC, &a);
		mmb_kmemleak_scan(kml, 0);
		clock_gettime(CLOCK_MONOTONIC, &z);
		t[r] = (double)(z.tv_sec - a.tv_sec) * 1e9 + (double)(z.tv_nsec - a.tv_nsec);
	}
	for (unsigned i = 1; i < o->reps; i++)	/* insertion sort for the median */
		for (unsigned j = i; j && t[j - 1] > t[j]; j--) {
			double x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	med = t[o->reps / 2];
	for (int i = 0; i < SCAN_OBJECTS; i++)
		mmb_kfree(sl, live[i]);
out:
	if (sl)
		mmb_slab_destroy(sl);
	if (b)
		mmb_buddy_destroy(b);
	if (kml)
		mmb_kmemleak_destroy(kml);
	free(live);
	free(t);
	return med;
}

static int bench_detect_run(const struct mmb_bench_opts *o)
{
	static const char *const specs[] = { "slab", "slab:kmemleak=on", "slab:kfence=100",
					     "slab:kfence=1000" };
	enum { N = sizeof(specs) / sizeof(specs[0]) };
	struct bd_pair pair[N];
	struct mmb_bench_fn fns[N];
	char err[MMB_ERR_MAX], scan_err[MMB_ERR_MAX], what[96];
	double ns[N], scan = bd_scan_ns(o, scan_err, sizeof(scan_err));
	int made = 0, rc = 0;

	for (; made < N; made++) {
		struct mmb_alloc_cfg cfg;

		if (mmb_alloc_parse_config(specs[made], &pair[made].ops, &cfg, err, sizeof(err)) ||
		    pair[made].ops->create(&cfg, &pair[made].a, err, sizeof(err))) {
			printf("  %s: %s\n", specs[made], err);
			rc = -ENOTSUP;
			goto out;
		}
		pair[made].ops->thread_attach(pair[made].a);
		fns[made] = (struct mmb_bench_fn){ specs[made], bd_pair_loop, &pair[made] };
	}
	mmb_bench_interleaved(fns, N, o, ns);
	for (int i = 0; i < N; i++) {
		snprintf(what, sizeof(what), "%s kmalloc(64)+kfree pair", specs[i]);
		mmb_bench_row(what, ns[i]);
	}
	for (int i = 1; i < N; i++) {
		snprintf(what, sizeof(what), "%s / off", specs[i] + strlen("slab:"));
		printf("  %-56s %10.3f   (no target)\n", what, ns[i] / ns[0]);
	}
	if (scan < 0)
		printf("  kmemleak scan: %s\n", scan_err);
	else
		mmb_bench_row("kmemleak scan, 10000 live objects (per scan)", scan);
out:
	while (made-- > 0) {
		pair[made].ops->thread_detach(pair[made].a);
		pair[made].ops->destroy(pair[made].a);
	}
	return rc;
}

const struct mmb_bench_case mmb_bench_detect = {
	.name = "detect",
	.desc = "kmemleak and KFENCE: kmalloc pair off vs on, and one scan",
	.run = bench_detect_run,
};

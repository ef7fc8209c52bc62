/*
 * bench_vmalloc.c — vmalloc+vfree pairs against mmap+munmap and malloc+free
 * of the same sizes (16 KiB and 1 MiB), every page touched once, interleaved.
 *
 * Target (issue 5): the 16 KiB vmalloc+vfree pair no slower than mmap+munmap
 * (ratio <= 1.0), thanks to lazy purging. vmalloc runs through the registry
 * allocator `vmalloc` with its defaults (lazy=on). The malloc+free rows use
 * glibc, and jemalloc too when a `jemalloc` allocator is registered.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

#include "../../allocators/allocator.h"
#include "bench.h"

#define BENCH_PAGE 4096

struct vpair_arg {
	const struct mmb_alloc_ops *ops;	/* NULL: mmap + munmap */
	struct mmb_alloc *a;
	size_t size;
	int failed;				/* an allocation returned NULL */
	char label[96];
};

static void vpair_touch(char *p, size_t size)
{
	for (size_t off = 0; off < size; off += BENCH_PAGE)
		p[off] = (char)off;
	__asm__ volatile("" : : "g"(p) : "memory");
}

static void vpair_alloc_loop(void *arg, uint64_t iters)
{
	struct vpair_arg *v = arg;

	for (uint64_t i = 0; i < iters; i++) {
		char *p = v->ops->alloc(v->a, v->size, 0);

		if (!p) {
			v->failed = 1;
			return;
		}
		vpair_touch(p, v->size);
		v->ops->free(v->a, p, v->size);
	}
}

static void vpair_mmap_loop(void *arg, uint64_t iters)
{
	struct vpair_arg *v = arg;

	for (uint64_t i = 0; i < iters; i++) {
		char *p = mmap(NULL, v->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			v->failed = 1;
			return;
		}
		vpair_touch(p, v->size);
		munmap(p, v->size);
	}
}

static int vpair_open(const char *spec, const struct mmb_alloc_ops **r_ops, struct mmb_alloc **r_a)
{
	struct mmb_alloc_cfg cfg;
	char err[MMB_ERR_MAX];

	if (mmb_alloc_parse_config(spec, r_ops, &cfg, err, sizeof(err)))
		return -ENOENT;
	cfg.nthreads = 1;
	if ((*r_ops)->create(&cfg, r_a, err, sizeof(err))) {
		printf("  %s: %s\n", spec, err);
		return -ENOTSUP;
	}
	return 0;
}

static int bench_vmalloc_run(const struct mmb_bench_opts *o)
{
	static const size_t sizes[2] = { 16 << 10, 1 << 20 };
	static const char *const names[2] = { "16 KiB", "1 MiB" };
	const char *libs[2] = { "glibc", "jemalloc" };
	const struct mmb_alloc_ops *ops[3];
	struct mmb_alloc *a[3];
	struct vpair_arg args[8];
	struct mmb_bench_fn fns[8];
	double ns[8];
	char what[96];
	unsigned n = 0, nlibs = 0;
	int rc;

	rc = vpair_open("vmalloc", &ops[0], &a[0]);
	if (rc)
		return rc;
	for (int l = 0; l < 2; l++)
		if (mmb_alloc_find(libs[l]) && !vpair_open(libs[l], &ops[1 + nlibs], &a[1 + nlibs]))
			libs[nlibs++] = libs[l];
	if (nlibs < 2)
		printf("  (no jemalloc allocator registered: malloc+free rows are glibc only)\n");
	for (int s = 0; s < 2; s++) {
		args[n] = (struct vpair_arg){ .ops = ops[0], .a = a[0], .size = sizes[s] };
		snprintf(args[n].label, sizeof(args[n].label), "vmalloc+vfree %s pair", names[s]);
		fns[n] = (struct mmb_bench_fn){ "vmalloc", vpair_alloc_loop, &args[n] };
		n++;
		args[n] = (struct vpair_arg){ .size = sizes[s] };
		snprintf(args[n].label, sizeof(args[n].label), "mmap+munmap %s pair", names[s]);
		fns[n] = (struct mmb_bench_fn){ "mmap", vpair_mmap_loop, &args[n] };
		n++;
		for (unsigned l = 0; l < nlibs; l++) {
			args[n] = (struct vpair_arg){ .ops = ops[1 + l], .a = a[1 + l], .size = sizes[s] };
			snprintf(args[n].label, sizeof(args[n].label), "%s malloc+free %s pair", libs[l],
				 names[s]);
			fns[n] = (struct mmb_bench_fn){ libs[l], vpair_alloc_loop, &args[n] };
			n++;
		}
	}
	mmb_bench_interleaved(fns, n, o, ns);
	printf("  (every page of each block touched once; vmalloc with lazy=on)\n");
	for (unsigned i = 0; i < n; i++) {
		if (args[i].failed) {
			printf("  %s: an allocation failed\n", args[i].label);
			rc = -ENOMEM;
		}
		mmb_bench_row(args[i].label, ns[i]);
	}
	/* Variants per size: vmalloc, mmap, then each malloc library. */
	unsigned m = n / 2;

	mmb_bench_ratio("vmalloc+vfree / mmap+munmap, 16 KiB", ns[0], ns[1], 1.0);
	printf("  %-56s %10.3f   (no target)\n", "vmalloc+vfree / mmap+munmap, 1 MiB", ns[m] / ns[m + 1]);
	for (unsigned l = 0; l < nlibs; l++)
		for (int s = 0; s < 2; s++) {
			snprintf(what, sizeof(what), "vmalloc+vfree / %s malloc+free, %s", libs[l],
				 names[s]);
			printf("  %-56s %10.3f   (no target)\n", what, ns[s * m] / ns[s * m + 2 + l]);
		}
	for (unsigned l = 0; l <= nlibs; l++)
		ops[l]->destroy(a[l]);
	return rc;
}

const struct mmb_bench_case mmb_bench_vmalloc = {
	.name = "vmalloc",
	.desc = "vmalloc+vfree vs mmap+munmap vs malloc+free, 16 KiB and 1 MiB, pages touched",
	.run = bench_vmalloc_run,
};

/*
 * bench_slab.c — kmalloc (the `slab` allocator) side by side with the
 * production allocators in one process:
 *
 *   pair	kmalloc(64) + kfree, against malloc(64) + free
 *   batch	1000 blocks of random sizes 1..512 bytes (fixed seed), freed in
 *		a random other order; ns per block (one alloc + one free)
 *
 * Targets (issue 4): pair <= 0.8x jemalloc; batch <= 1.0x the best of
 * jemalloc, mimalloc and tcmalloc.
 *
 * Every variant goes through one indirect call per operation with the
 * size passed to free: `slab` and `glibc` through their registry ops,
 * jemalloc as malloc + sdallocx and mimalloc as mi_malloc + mi_free_size,
 * each dlopen'ed RTLD_LOCAL (reference/dependencies.md §1.2c), so glibc's
 * malloc stays the process's own. jemalloc's initial-exec TLS only fits
 * when the process started with glibc.rtld.optional_static_tls: if dlopen
 * fails for that reason, the case re-runs itself in a child process started
 * with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096. tcmalloc is not
 * loaded (gperftools wants to own malloc from process start; §1.2c), so
 * "best" is over the production allocators measured, named in the output.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../allocators/allocator.h"
#include "../workloads/workload.h"
#include "bench.h"

#define BATCH 1000
#define TLS_TUNABLE "glibc.rtld.optional_static_tls=4096"
#define REEXEC_ENV "MMB_BENCH_SLAB_REEXEC"

/* One allocator as a pair of calls. */
struct bs_alloc {
	const char *name;
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p, size_t size);
	void *ctx;
};

struct bs_reg {
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
};

static void *bs_reg_alloc(void *ctx, size_t size)
{
	struct bs_reg *r = ctx;

	return r->ops->alloc(r->a, size, 0);
}

static void bs_reg_free(void *ctx, void *p, size_t size)
{
	struct bs_reg *r = ctx;

	r->ops->free(r->a, p, size);
}

struct bs_dl {
	void *(*malloc)(size_t);
	void (*sfree)(void *, size_t, int);		/* jemalloc sdallocx */
	void (*free_size)(void *, size_t);		/* mimalloc mi_free_size */
};

static void *bs_dl_alloc(void *ctx, size_t size)
{
	return ((struct bs_dl *)ctx)->malloc(size);
}

static void bs_je_free(void *ctx, void *p, size_t size)
{
	((struct bs_dl *)ctx)->sfree(p, size, 0);
}

static void bs_mi_free(void *ctx, void *p, size_t size)
{
	((struct bs_dl *)ctx)->free_size(p, size);
}

struct bs_arg {
	const struct bs_alloc *al;
	const uint16_t *size;		/* BATCH sizes */
	const uint16_t *order;		/* BATCH indexes: the free order */
	void **blk;
};

static void bs_pair_loop(void *arg, uint64_t iters)
{
	const struct bs_alloc *al = ((struct bs_arg *)arg)->al;

	for (uint64_t i = 0; i < iters; i++) {
		void *b = al->alloc(al->ctx, 64);

		__asm__ volatile("" : : "g"(b) : "memory");
		al->free(al->ctx, b, 64);
	}
}

static void bs_batch_loop(void *arg, uint64_t iters)
{
	struct bs_arg *x = arg;
	const struct bs_alloc *al = x->al;

	for (uint64_t i = 0; i < iters; i++) {
		for (int k = 0; k < BATCH; k++) {
			x->blk[k] = al->alloc(al->ctx, x->size[k]);
			__asm__ volatile("" : : "g"(x->blk[k]) : "memory");
		}
		for (int k = 0; k < BATCH; k++)
			al->free(al->ctx, x->blk[x->order[k]], x->size[x->order[k]]);
	}
}

/* Re-run this case in a child started with the TLS tunable; its status. */
static int bs_reexec(const struct mmb_bench_opts *o)
{
	char reps[32], rep_time[32], env[1024];
	const char *old = getenv("GLIBC_TUNABLES");
	pid_t pid;
	int st;

	snprintf(reps, sizeof(reps), "%u", o->reps);
	snprintf(rep_time, sizeof(rep_time), "%g", o->rep_time_s);
	snprintf(env, sizeof(env), "%s%s%s", old && *old ? old : "", old && *old ? ":" : "",
		 TLS_TUNABLE);
	printf("  (jemalloc needs static TLS: re-running in a child with GLIBC_TUNABLES=%s)\n", env);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setenv("GLIBC_TUNABLES", env, 1);
		setenv(REEXEC_ENV, "1", 1);
		execl("/proc/self/exe", "mmbench", "bench", "--reps", reps, "--rep-time", rep_time,
		      "slab", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

static int bench_slab_run(const struct mmb_bench_opts *o)
{
	struct bs_alloc al[4];
	struct bs_reg reg[2];
	struct bs_dl je = { 0 }, mi = { 0 };
	struct bs_arg pair[4], batch[4];
	struct mmb_bench_fn fns[8];
	static void *blk[4][BATCH];
	uint16_t size[BATCH], order[BATCH];
	const char *regs[2] = { "slab", "glibc" };
	unsigned n = 0;
	double ns[8];
	char err[MMB_ERR_MAX];
	uint64_t rng[4];
	int have_je = 0, have_mi = 0;
	void *h;

	h = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();

		if (why && strstr(why, "static TLS") && !getenv(REEXEC_ENV))
			return bs_reexec(o);
		printf("  jemalloc not loaded: %s\n", why ? why : "?");
	} else {
		je.malloc = (void *(*)(size_t))dlsym(h, "malloc");
		je.sfree = (void (*)(void *, size_t, int))dlsym(h, "sdallocx");
		have_je = je.malloc && je.sfree;
	}
	h = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
	if (h) {
		mi.malloc = (void *(*)(size_t))dlsym(h, "mi_malloc");
		mi.free_size = (void (*)(void *, size_t))dlsym(h, "mi_free_size");
		have_mi = mi.malloc && mi.free_size;
	} else {
		printf("  mimalloc not loaded: %s\n", dlerror());
	}

	for (int i = 0; i < 2; i++) {
		struct mmb_alloc_cfg cfg;

		if (mmb_alloc_parse_config(regs[i], &reg[i].ops, &cfg, err, sizeof(err)) ||
		    (cfg.nthreads = 1, reg[i].ops->create(&cfg, &reg[i].a, err, sizeof(err)))) {
			printf("  %s\n", err);
			while (i--)
				reg[i].ops->destroy(reg[i].a);
			return -ENOTSUP;
		}
		al[n++] = (struct bs_alloc){ regs[i], bs_reg_alloc, bs_reg_free, &reg[i] };
	}
	if (have_je)
		al[n++] = (struct bs_alloc){ "jemalloc", bs_dl_alloc, bs_je_free, &je };
	if (have_mi)
		al[n++] = (struct bs_alloc){ "mimalloc", bs_dl_alloc, bs_mi_free, &mi };

	mmb_rand_seed(rng, 0x51ab0bec);
	for (int k = 0; k < BATCH; k++) {
		size[k] = (uint16_t)(1 + mmb_rand_below(rng, 512));
		order[k] = (uint16_t)k;
	}
	for (int k = BATCH - 1; k > 0; k--) {
		int j = (int)mmb_rand_below(rng, (uint64_t)k + 1);
		uint16_t t = order[k];

		order[k] = order[j];
		order[j] = t;
	}
	for (unsigned i = 0; i < n; i++) {
		pair[i] = (struct bs_arg){ &al[i], size, order, blk[i] };
		batch[i] = pair[i];
		fns[i] = (struct mmb_bench_fn){ al[i].name, bs_pair_loop, &pair[i] };
		fns[n + i] = (struct mmb_bench_fn){ al[i].name, bs_batch_loop, &batch[i] };
	}
	mmb_bench_interleaved(fns, 2 * n, o, ns);
	for (unsigned i = 0; i < n; i++) {
		char what[96];

		snprintf(what, sizeof(what), "%s 64-byte alloc+free pair", al[i].name);
		mmb_bench_row(what, ns[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		char what[96];

		ns[n + i] /= BATCH;
		snprintf(what, sizeof(what), "%s batch (1000 x 1..512 B), per block", al[i].name);
		mmb_bench_row(what, ns[n + i]);
	}
	if (have_je) {
		mmb_bench_ratio("pair: slab / jemalloc", ns[0], ns[2], 0.8);
	} else {
		printf("  pair target (vs jemalloc) not checked: jemalloc unavailable; vs glibc:\n");
		mmb_bench_ratio("pair: slab / glibc", ns[0], ns[1], 0.8);
	}
	if (n > 2) {
		unsigned best = 2;

		for (unsigned i = 3; i < n; i++)
			if (ns[n + i] < ns[n + best])
				best = i;
		char what[96];

		snprintf(what, sizeof(what), "batch: slab / best (%s; tcmalloc not loaded)", al[best].name);
		mmb_bench_ratio(what, ns[n], ns[n + best], 1.0);
	} else {
		printf("  batch target (vs the best production allocator) not checked: none loaded; "
		       "vs glibc:\n");
		mmb_bench_ratio("batch: slab / glibc", ns[n], ns[n + 1], 1.0);
	}
	for (int i = 0; i < 2; i++)
		reg[i].ops->destroy(reg[i].a);
	return 0;
}

const struct mmb_bench_case mmb_bench_slab = {
	.name = "slab",
	.desc = "kmalloc(64) pair and a 1000-block batch vs jemalloc, mimalloc, glibc",
	.run = bench_slab_run,
};

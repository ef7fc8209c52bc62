/*
 * bench_harness.c — the harness's own cost, side by side in one run: an
 * empty timed operation (the floor every latency figure sits on), one
 * histogram record, and churn through mmb_wl_alloc/mmb_wl_free in latency
 * mode (every call timed), sampled mode (--sample 10) and throughput mode
 * (--no-latency), on slab where it is registered, else on glibc (said in
 * the output); and the cost of exact memory accounting (a usable_size() per
 * call, probe.h) in throughput mode, on that allocator and on jemalloc and
 * glibc, each against its own throughput mode.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../allocators/allocator.h"
#include "../../workloads/workload.h"
#include "bench.h"
#include "../clock.h"
#include "../hist.h"
#include "../probe.h"
#include "../util.h"

static volatile uint64_t bench_sink;

static void empty_timed_loop(void *arg, uint64_t iters)
{
	uint64_t sum = 0;

	(void)arg;
	for (uint64_t i = 0; i < iters; i++) {
		uint64_t t0 = mmb_clock_start();

		sum += mmb_clock_ns(t0, mmb_clock_end());
	}
	bench_sink = sum;
}

struct rec_arg {
	struct mmb_hist *h;
	uint64_t *v;			/* 4096 latencies, 10 ns .. 100 us */
};

static void hist_record_loop(void *arg, uint64_t iters)
{
	struct rec_arg *r = arg;

	for (uint64_t i = 0; i < iters; i++)
		mmb_hist_record(r->h, r->v[i & 4095]);
}

struct churn_arg {
	const struct mmb_wl_ops *wl;
	void *state;
	struct mmb_wl_thread t;
	struct mmb_probe *probe;
	uint32_t sample;
	int exact;
};

/* iters allocator calls of churn (size 64, batch 1). */
static void churn_loop(void *arg, uint64_t iters)
{
	struct churn_arg *c = arg;

	mmb_probe_init(c->probe, c->sample, NULL, 0);
	mmb_probe_set_exact(c->probe, c->t.ops, c->exact);
	c->t.nops = 0;
	c->t.ops_limit = iters;
	c->wl->run(c->state, &c->t);
}

/* What the floor would be with an unordered rdtsc at the end too (the
 * choice clock.h did not make: the end read could pass the operation). */
static double plain_rdtsc_floor_ns(void)
{
	enum { N = 2001 };
	static uint64_t d[N];

	if (!mmb_clock.use_tsc)
		return NAN;
	for (int i = 0; i < N; i++) {
		uint64_t t0 = mmb_rdtsc();

		d[i] = mmb_clock_ns(t0, mmb_rdtsc());
	}
	qsort(d, N, sizeof(d[0]), mmb_cmp_u64);
	return (double)d[N / 2];
}

/*
 * The real time of an empty timed operation: the TSC moves in steps
 * (clock.resolution_ns), so one sample is quantized, but the mean of many
 * (each starting at a random phase of the step) is not biased by it.
 */
static double empty_timed_mean_ns(void)
{
	enum { N = 200000 };
	uint64_t sum = 0;

	if (!mmb_clock.use_tsc)
		return NAN;
	for (int i = 0; i < N; i++) {
		uint64_t t0 = mmb_clock_start();
		int64_t d = (int64_t)(mmb_clock_end() - t0);

		sum += d > 0 ? (uint64_t)d : 0;
	}
	return (double)sum / N * 1e9 / mmb_clock.tsc_hz;
}

/* churn size=64, batch 1 on one thread of allocator aname, attached: what
 * both cases below time. */
struct churn_fix {
	const struct mmb_wl_ops *wl;
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	void *state;
};

/* 0, or -errno with the reason printed (nothing left to close). */
static int churn_fix_open(const char *aname, struct churn_fix *f)
{
	struct mmb_alloc_cfg cfg;
	struct mmb_pvals params;
	char err[256];

	f->wl = mmb_wl_find("churn");
	if (!f->wl)
		return -ENOENT;
	if (mmb_alloc_parse_config(aname, &f->ops, &cfg, err, sizeof(err)) ||
	    (cfg.nthreads = 1, f->ops->create(&cfg, &f->a, err, sizeof(err)))) {
		printf("  %s: %s\n", aname, err);
		return -ENOTSUP;
	}
	if (mmb_params_parse(f->wl->params, "size=64,batch=1", "churn", &params, err,
			     sizeof(err)) ||
	    f->wl->setup(&params, 1, 1, &f->state, err, sizeof(err))) {
		printf("  churn: %s\n", err);
		f->ops->destroy(f->a);
		return -EINVAL;
	}
	if (f->ops->thread_attach)
		f->ops->thread_attach(f->a);
	return 0;
}

/* One timed variant of the fixture: its probe, sampling and accounting. */
static struct churn_arg churn_fix_arg(const struct churn_fix *f, struct mmb_probe *probe,
				      const atomic_int *stop, uint32_t sample, int exact)
{
	struct churn_arg ca = { .wl = f->wl, .state = f->state, .probe = probe,
				.sample = sample, .exact = exact };

	ca.t.ops = f->ops;
	ca.t.a = f->a;
	ca.t.nthreads = 1;
	ca.t.stop = stop;
	ca.t.probe = probe;
	return ca;
}

static void churn_fix_close(struct churn_fix *f, struct churn_arg *any)
{
	f->wl->teardown(f->state, &any->t);
	if (f->ops->thread_detach)
		f->ops->thread_detach(f->a);
	f->ops->destroy(f->a);
}

static void bench_abs(const char *what, double ns, double target)
{
	printf("  %-56s %10.2f ns (target <= %.0f ns: %s)\n", what, ns, target,
	       ns <= target ? "met" : "NOT met");
}

/*
 * Exact accounting's cost on one allocator: churn size=64 in throughput mode
 * (--no-latency) with and without a usable_size() per call, interleaved.
 * Prints the ratio against the 10% target; nothing when aname is not in
 * this build or cannot be created here (said).
 */
static void bench_exact(const char *aname, const struct mmb_bench_opts *o)
{
	static struct mmb_probe probes[2];
	static const atomic_int stop;
	struct churn_fix f;
	struct churn_arg ca[2];
	char what[96];
	double ns[2];

	if (!mmb_alloc_find(aname) || churn_fix_open(aname, &f))
		return;
	for (int i = 0; i < 2; i++)
		ca[i] = churn_fix_arg(&f, &probes[i], &stop, 0, i);
	const struct mmb_bench_fn fns[] = {
		{ "churn throughput", churn_loop, &ca[0] },
		{ "churn throughput + exact", churn_loop, &ca[1] },
	};

	mmb_bench_interleaved(fns, 2, o, ns);
	printf("  churn size=64 on %s, throughput mode, per allocator call:\n", aname);
	mmb_bench_row("  without exact accounting", ns[0]);
	mmb_bench_row("  with exact accounting (usable_size per call)", ns[1]);
	snprintf(what, sizeof(what), "%s: exact accounting / throughput mode", aname);
	mmb_bench_ratio(what, ns[1], ns[0], 1.10);
	churn_fix_close(&f, &ca[0]);
}

static int bench_harness_run(const struct mmb_bench_opts *o)
{
	static struct mmb_hist h;
	static struct mmb_probe probes[3];
	static const atomic_int stop;
	struct churn_fix f;
	const char *aname = mmb_alloc_find("slab") ? "slab" : "glibc";
	uint64_t rng[4], *v = malloc(4096 * sizeof(*v));
	double ns[5];
	int rc;

	if (!v)
		return -ENOMEM;
	mmb_clock_init(0, 0);
	printf("  clock: %s%s%s, resolution %.1f ns\n", mmb_clock_source(),
	       mmb_clock.use_tsc ? "" : " — ", mmb_clock.why, mmb_clock.resolution_ns);
	mmb_rand_seed(rng, 1);
	for (int i = 0; i < 4096; i++)
		v[i] = 10 + mmb_rand_below(rng, 1 + (1ull << mmb_rand_below(rng, 14)));
	mmb_hist_init(&h);
	rc = churn_fix_open(aname, &f);
	if (rc) {
		free(v);
		return rc;
	}

	struct rec_arg ra = { &h, v };
	struct churn_arg ca[3];
	const uint32_t samples[3] = { 1, 10, 0 };

	for (int i = 0; i < 3; i++)
		ca[i] = churn_fix_arg(&f, &probes[i], &stop, samples[i], 0);
	const struct mmb_bench_fn fns[] = {
		{ "empty timed op", empty_timed_loop, NULL },
		{ "hist record", hist_record_loop, &ra },
		{ "churn latency", churn_loop, &ca[0] },
		{ "churn sample 10", churn_loop, &ca[1] },
		{ "churn throughput", churn_loop, &ca[2] },
	};

	mmb_bench_interleaved(fns, 5, o, ns);
	bench_abs("empty timed operation: value it records (median)", mmb_clock.read_ns, 15);
	mmb_bench_row("  (its real time: the mean of its quantized samples)", empty_timed_mean_ns());
	mmb_bench_row("  (rdtsc at both ends instead of rdtsc/rdtscp)", plain_rdtsc_floor_ns());
	mmb_bench_row("empty timed operation: cost per operation", ns[0]);
	bench_abs("histogram record", ns[1], 3);
	printf("  churn size=64 on %s%s, per allocator call:\n", aname,
	       mmb_alloc_find("slab") ? "" : " (slab not registered in this build)");
	mmb_bench_row("  latency mode (--sample 1)", ns[2]);
	mmb_bench_row("  sampled (--sample 10)", ns[3]);
	mmb_bench_row("  throughput mode (--no-latency)", ns[4]);
	printf("  %-56s %10.3f\n", "latency mode / throughput mode", ns[2] / ns[4]);
	printf("  %-56s %10.3f\n", "sampled 1/10 / throughput mode", ns[3] / ns[4]);
	churn_fix_close(&f, &ca[0]);
	free(v);
	printf("  exact accounting is a mode (--accounting exact, the default of\n"
	       "  --op-equivalent); timing cells (--duration) do not pay for it:\n");
	bench_exact("slab", o);
	bench_exact("jemalloc", o);
	bench_exact("glibc", o);
	bench_exact("mimalloc", o);
	return rc;
}

const struct mmb_bench_case mmb_bench_harness = {
	.name = "harness",
	.desc = "the harness's own cost: timed empty op, histogram record, latency-mode overhead",
	.run = bench_harness_run,
};

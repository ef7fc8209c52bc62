/*
 * bench.c — the bench runner and its timing helpers (bench.h).
 */
#include "bench.h"
#include "bench_loops.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../shimspec.h"
#include "../stats.h"
#include "../util.h"

/* Cases, one line each (harness/bench/bench_<topic>.c). */
extern const struct mmb_bench_case mmb_bench_glibc;
extern const struct mmb_bench_case mmb_bench_buddy;
extern const struct mmb_bench_case mmb_bench_slab;
extern const struct mmb_bench_case mmb_bench_production;
extern const struct mmb_bench_case mmb_bench_uffd;
extern const struct mmb_bench_case mmb_bench_vmalloc;
extern const struct mmb_bench_case mmb_bench_record;
extern const struct mmb_bench_case mmb_bench_harness;
extern const struct mmb_bench_case mmb_bench_detect;
extern const struct mmb_bench_case mmb_bench_shim;
extern const struct mmb_bench_case mmb_bench_slabdesigns;
extern const struct mmb_bench_case mmb_bench_trace;
extern const struct mmb_bench_case mmb_bench_replayrank;

static const struct mmb_bench_case *const bench_cases[] = {
	&mmb_bench_glibc,
	&mmb_bench_buddy,
	&mmb_bench_slab,
	&mmb_bench_production,
	&mmb_bench_uffd,
	&mmb_bench_vmalloc,
	&mmb_bench_record,
	&mmb_bench_harness,
	&mmb_bench_detect,
	&mmb_bench_shim,
	&mmb_bench_slabdesigns,
	&mmb_bench_trace,
	&mmb_bench_replayrank,
};
#define NCASES (sizeof(bench_cases) / sizeof(bench_cases[0]))

static double bench_self_ns = -1;	/* mmb_bench_self_timed, < 0: not called */

void mmb_bench_self_timed(double ns)
{
	bench_self_ns = ns;
}

/* ns that running f iters times took. */
static double bench_time(const struct mmb_bench_fn *f, uint64_t iters)
{
	uint64_t t0 = mmb_now_ns(), dt;

	bench_self_ns = -1;
	f->fn(f->arg, iters);
	dt = mmb_now_ns() - t0;
	return bench_self_ns >= 0 ? bench_self_ns : (double)dt;
}

/* Iterations that take about rep_time_s. */
static uint64_t bench_calibrate(const struct mmb_bench_fn *f, double rep_time_s)
{
	uint64_t iters = 16;

	for (;;) {
		uint64_t dt = (uint64_t)bench_time(f, iters);

		if (dt >= rep_time_s * 1e9 / 4 || iters >= (1ULL << 40))
			return (uint64_t)((double)iters * rep_time_s * 1e9 / (double)(dt ? dt : 1)) + 1;
		iters *= 4;
	}
}

void mmb_bench_interleaved(const struct mmb_bench_fn *fns, unsigned n,
			   const struct mmb_bench_opts *o, double *r_ns)
{
	uint64_t *iters = calloc(n, sizeof(*iters));
	double *samples = calloc((size_t)n * o->reps, sizeof(*samples));

	if (!iters || !samples) {
		for (unsigned v = 0; v < n; v++)
			r_ns[v] = -1;
		goto out;
	}
	for (unsigned v = 0; v < n; v++)	/* calibrating also warms up */
		iters[v] = o->iters ? o->iters : bench_calibrate(&fns[v], o->rep_time_s);
	for (unsigned r = 0; r < o->reps; r++)
		for (unsigned v = 0; v < n; v++)
			samples[v * o->reps + r] = bench_time(&fns[v], iters[v]) / (double)iters[v];
	for (unsigned v = 0; v < n; v++)
		r_ns[v] = mmb_median(&samples[v * o->reps], o->reps);
out:
	free(iters);
	free(samples);
}

int mmb_bench_pin(cpu_set_t *saved)
{
	int cpu = sched_getcpu();
	cpu_set_t one;

	if (sched_getaffinity(0, sizeof(*saved), saved)) {
		printf("  not pinned to a CPU: sched_getaffinity: %s\n", strerror(errno));
		return -1;
	}
	if (cpu < 0) {
		printf("  not pinned to a CPU: sched_getcpu: %s\n", strerror(errno));
		return -1;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		printf("  not pinned to a CPU: sched_setaffinity: %s\n", strerror(errno));
		return -1;
	}
	printf("  every variant on CPU %d, its child processes too\n", cpu);
	return cpu;
}

void mmb_bench_unpin(const cpu_set_t *saved)
{
	sched_setaffinity(0, sizeof(*saved), saved);
}

void mmb_bench_shim_env(void)
{
	struct mmb_shim_spec spec;
	char err[256];

	if (!mmb_shim_spec_parse("slab", &spec, err, sizeof(err)))
		mmb_shim_spec_setenv(&spec);
	unsetenv("MMB_MALLOC_OUT");
}

void mmb_bench_row(const char *what, double ns)
{
	printf("  %-56s %10.2f ns\n", what, ns);
}

void mmb_bench_ratio(const char *what, double num_ns, double den_ns, double target)
{
	double ratio = num_ns / den_ns;

	printf("  %-56s %10.3f   (target <= %.2f: %s)\n", what, ratio, target,
	       ratio <= target ? "met" : "NOT met");
}

static const char bench_usage[] =
	"usage: mmbench bench [--reps N] [--rep-time SECONDS] [--iters N] [--list] [CASE...]\n"
	"\n"
	"Micro-benchmarks measured side by side in one run (variants interleaved,\n"
	"medians over repetitions), with ratios against their targets.\n"
	"Without CASE, every case runs. --iters N runs every variant N times per\n"
	"repetition instead of calibrating to --rep-time (for instruction counts\n"
	"under valgrind --tool=callgrind: README, \"Adapter overhead\").\n";

int mmb_bench_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "rep-time", required_argument, NULL, 'T' },
		{ "iters", required_argument, NULL, 'i' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct mmb_bench_opts o = { .reps = 11, .rep_time_s = 0.05 };
	int c, status = 0, measured = 0;

	if (argc == 2 && !strcmp(argv[1], "--native-child"))
		return mmb_native_child();	/* internal: bench_loops.h */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.reps = (unsigned)strtoul(optarg, NULL, 10);
			if (o.reps < 1 || o.reps > 1000) {
				mmb_err("bench: --reps %s: expected 1..1000", optarg);
				return MMB_EXIT_USAGE;
			}
			break;
		case 'T':
			o.rep_time_s = strtod(optarg, NULL);
			if (!(o.rep_time_s >= 0.001 && o.rep_time_s <= 10)) {
				mmb_err("bench: --rep-time %s: expected seconds in [0.001, 10]", optarg);
				return MMB_EXIT_USAGE;
			}
			break;
		case 'i':
			o.iters = strtoull(optarg, NULL, 10);
			if (o.iters < 1 || o.iters > (1ULL << 40)) {
				mmb_err("bench: --iters %s: expected 1..2^40", optarg);
				return MMB_EXIT_USAGE;
			}
			break;
		case 'l':
			for (size_t i = 0; i < NCASES; i++)
				printf("%-16s %s\n", bench_cases[i]->name, bench_cases[i]->desc);
			return 0;
		case 'h':
			fputs(bench_usage, stdout);
			return 0;
		default:
			mmb_err("bench: bad option '%s' (see mmbench bench --help)", argv[optind - 1]);
			return MMB_EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++) {
		int found = 0;

		for (size_t k = 0; k < NCASES; k++)
			found |= !strcmp(argv[i], bench_cases[k]->name);
		if (!found) {
			mmb_err("bench: unknown case '%s' (see mmbench bench --list)", argv[i]);
			return MMB_EXIT_USAGE;
		}
	}
	printf("mmbench bench: %u reps x %.3fs per variant, medians\n", o.reps, o.rep_time_s);
	for (size_t k = 0; k < NCASES; k++) {
		int selected = optind == argc;

		for (int i = optind; i < argc; i++)
			selected |= !strcmp(argv[i], bench_cases[k]->name);
		if (!selected)
			continue;
		printf("\n%s: %s\n", bench_cases[k]->name, bench_cases[k]->desc);
		cpu_set_t saved;
		int pinned = bench_cases[k]->one_cpu && mmb_bench_pin(&saved) >= 0;
		int rc = bench_cases[k]->run(&o);

		if (pinned)
			mmb_bench_unpin(&saved);

		if (rc)
			printf("  skipped: %s\n", strerror(-rc));
		else
			measured++;
		if (rc && rc != -ENOTSUP)
			status = 1;
	}
	/* a case this machine cannot run is skipped without failing the
	 * others; a bench that measured nothing does not pass */
	if (!measured) {
		mmb_err("bench: no case was measured (each one's reason is above)");
		status = 1;
	}
	return status;
}

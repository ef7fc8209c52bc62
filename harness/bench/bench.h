/*
 * bench.h — `mmbench bench`: micro-benchmarks that print figures measured
 * side by side in one run, and ratios against the targets the issues name.
 *
 * These machines are shared and noisy, so a target is never checked by a
 * timed unit test: a bench case times its variants interleaved (variant A,
 * B, C, then A, B, C again, ...) and reports medians and their ratios.
 *
 * A case is one function in a harness/bench/bench_<topic>.c file, listed once in
 * bench.c's table.
 */
#ifndef MMB_BENCH_H
#define MMB_BENCH_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

struct mmb_bench_opts {
	unsigned reps;			/* timed repetitions per variant (median taken) */
	double rep_time_s;		/* target length of one repetition */
	uint64_t iters;			/* fixed iterations per repetition (no
					 * calibration: for instruction counts
					 * under cachegrind); 0 = calibrate */
};

/* One variant: fn runs the operation iters times. */
struct mmb_bench_fn {
	const char *name;
	void (*fn)(void *arg, uint64_t iters);
	void *arg;
};

/* Called by a variant's fn that runs its operations in another process
 * (bench_loops.h): the ns they took there, which replace the time fn took
 * here (the round trip to the other process is then not in the figure). */
void mmb_bench_self_timed(double ns);

struct mmb_bench_case {
	const char *name;
	const char *desc;
	int (*run)(const struct mmb_bench_opts *o);	/* 0, or -errno: skipped, reason printed */
	int one_cpu;			/* run() pinned to one CPU (mmb_bench_pin) */
};

/*
 * Time the n variants interleaved; r_ns[i] = median ns per operation of
 * variant i. Iteration counts are calibrated per variant to rep_time_s.
 */
void mmb_bench_interleaved(const struct mmb_bench_fn *fns, unsigned n,
			   const struct mmb_bench_opts *o, double *r_ns);

/*
 * Pin the calling thread to the CPU it runs on, before any child is
 * started (children inherit it), so that every variant of a one-thread
 * case (an adapter's loop here, a native's or a program's in a child) runs
 * on that one CPU. On these VMs one vCPU can run the same loop 1.5-1.8x
 * slower than the other for minutes at a time; unpinned, a child landed
 * there while the parent did not (bench slab, the same build: tcmalloc's
 * native pair 5.6 ns unpinned, 3.3 ns pinned), and the ratio measured the
 * CPUs, not the allocators; pinned, a slow spell slows every variant
 * alike. The parent waits (read(), wait4()) while a child runs, so the two
 * never compete for the CPU. Returns the CPU, or -1 (nothing pinned, the
 * printed line says why); *saved is what mmb_bench_unpin restores.
 * mmb_bench_main pins around run() for a case with one_cpu set; a case
 * with one-thread and multi-thread parts (shim) pins its one-thread part.
 */
int mmb_bench_pin(cpu_set_t *saved);
void mmb_bench_unpin(const cpu_set_t *saved);

/* In a forked child before it execs a program on the shim (LD_PRELOAD set
 * by the caller): slab with its defaults (shimspec.h), no results folder. */
void mmb_bench_shim_env(void);

/* Output helpers: one figure, one ratio with its target (met / not met). */
void mmb_bench_row(const char *what, double ns);
void mmb_bench_ratio(const char *what, double num_ns, double den_ns, double target);

/* The path of the libjemalloc.so.2 mmbench runs on (to preload it into a
 * program), or -ENOTSUP (printed); bench_shim.c. */
int mmb_bench_jemalloc_path(char *buf, size_t len);

int mmb_bench_main(int argc, char **argv);

#endif /* MMB_BENCH_H */

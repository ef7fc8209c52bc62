/*
 * plan.h — `mmbench run` options and their expansion into cells.
 *
 * A plan is, per repetition, one or more groups, each a cross product
 * (workload config x thread count x allocator config) in that nesting order:
 * allocators vary fastest, so machine noise spreads evenly over the
 * configurations being compared. The command line makes one group; a suite
 * (--suite, suite.h) one per line that names workloads. A cell named twice
 * in a repetition runs once. Every input is validated here, before any cell
 * runs or any file is written.
 *
 * Programs (programs/program.h): a program is a group of its own, the
 * program x its allocators (parsed for a program: aconf.prog, launch.h),
 * at the program's own thread count; its cells are run by
 * programs/runner.c, not `mmbench cell`. A suite line "prog ..." and each
 * program of --programs-from (or each -w prog:...) make such a group.
 *
 * Fault mode: each group has one (--faults of the command line, which wins
 * as -a and -t do, else of its suite line, else of the suite's defaults,
 * else off), and each cell carries its group's, so one run may hold timing
 * cells and fault-census cells; the same (allocator, workload, threads) in
 * two modes is two cells. --fault-cpu and --fault-log are plan-wide.
 */
#ifndef MMB_PLAN_H
#define MMB_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/allocator.h"
#include "../workloads/workload.h"
#include "uffd.h"
#include "measure.h"

struct mmb_prog;

#define MMB_PLAN_MAX_CONFIGS 64
#define MMB_PLAN_MAX_THREADS 16
#define MMB_SPEC_MAX 1024

struct mmb_aconf {			/* one allocator config */
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc_cfg cfg;
	char spec[MMB_SPEC_MAX];	/* canonical "name[:given options]" */
	char config[MMB_SPEC_MAX];	/* given options only, "k=v,..." */
	int prog;			/* parsed for program cells (programs/launch.h) */
	char shim_alloc[16];		/* prog and a shim allocator: MMB_MALLOC_ALLOC, else "" */
	char shim_opts[MMB_SPEC_MAX];	/* and its MMB_MALLOC_OPTS */
};

struct mmb_wconf {			/* one workload config */
	const struct mmb_wl_ops *ops;
	struct mmb_pvals params;
	char spec[MMB_SPEC_MAX];	/* "name[:every parameter]" */
	char params_text[MMB_SPEC_MAX];	/* every parameter, "k=v,..." */
	const struct mmb_prog *prog;	/* a program (ops = &prog->wl), else NULL */
};

struct mmb_cell {
	unsigned id;			/* 1-based */
	unsigned ai, wi;		/* indexes into aconf[], wconf[] */
	unsigned threads, rep;		/* rep 1-based */
	uint64_t seed;
	unsigned fg;			/* its group in fgroups[] (the first naming it) */
	enum mmb_fault_mode faults;	/* its --faults (auto resolved by run.c) */
};

struct mmb_fault_group {		/* one group's fault mode, for meta.json */
	char where[256];		/* "FILE:LINE" of its -w line, or "command line" */
	enum mmb_fault_mode requested;	/* as given, auto included */
	enum mmb_fault_mode mode;	/* as run (run.c resolves auto) */
};

struct mmb_plan {
	struct mmb_aconf aconf[MMB_PLAN_MAX_CONFIGS];
	unsigned naconf;
	struct mmb_wconf wconf[MMB_PLAN_MAX_CONFIGS];
	unsigned nwconf;
	unsigned threads[MMB_PLAN_MAX_THREADS];	/* every thread count of the plan */
	unsigned nthreads;
	unsigned reps;
	uint64_t ops;			/* allocator calls per thread, 0 = by duration */
	double duration_s;		/* timed region length when ops == 0; with
					 * op_equivalent, the time-out (0 = none) */
	int op_equivalent;		/* --op-equivalent: every cell runs its --ops */
	int accounting;			/* 1: exact (usable_size per call), 0: off */
	uint64_t seed;			/* base seed */
	double cell_timeout_s;
	const char *outdir;		/* NULL = results/<time>-<id> */
	int dump_state, check, quiet;
	struct mmb_fault_group *fgroups;	/* malloc'ed, one per group */
	unsigned nfgroups;
	int fault_cpu;			/* --fault-cpu, -1 = not pinned */
	unsigned fault_log;		/* --fault-log N: raw events kept per cell */
	struct mmb_measure measure;	/* latency, counters, topology, timeline (measure.h) */

	struct mmb_prog *progs;		/* malloc'ed, MMB_PLAN_MAX_CONFIGS; wconf[].prog point here */
	unsigned nprogs;

	struct mmb_cell *cells;		/* malloc'ed */
	unsigned ncells;
};

/*
 * Parse `mmbench run` arguments (argv[0] = "run") into r_plan.
 * Returns 0; 1 when --help was printed; or -EINVAL with one line in err.
 */
int mmb_plan_parse(int argc, char **argv, struct mmb_plan *r_plan, char *err, size_t errlen);

/* Seed of repetition rep (1-based): the same for every allocator and thread
 * count, so all configurations in a repetition see the same sequence. */
uint64_t mmb_plan_rep_seed(uint64_t base, unsigned rep);

/* Split "a:k=v,k=v,b" into specs: a token with '=' and no ':' continues the
 * previous spec. Returns the count, or -EINVAL (too many / empty). */
int mmb_split_specs(const char *list, char specs[][MMB_SPEC_MAX], int max);

void mmb_plan_free(struct mmb_plan *plan);

extern const char mmb_run_usage[];

#endif /* MMB_PLAN_H */

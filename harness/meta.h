/*
 * meta.h — meta.json, the run's description: what ran, where and when.
 *
 * Written when the run starts (state "running") and replaced atomically when
 * it ends ("complete", or "interrupted" after a signal), so a reader always
 * finds a whole file. Fields (schema MMB_SCHEMA_VERSION):
 *   schema_version, mmbench_version, git_revision, command_line[],
 *   compiler, kernel, hostname, cpu_model, online_cpus, start_time,
 *   end_time (null while running), state, seed, ops_per_thread,
 *   duration_s, cell_timeout_s, reps, threads[], allocators[], workloads[],
 *   cells_planned, cells_done, faults{mode, requested, run_kind, groups[]
 *   {where, requested, mode, cells, workloads[]}, handler_cpu, fault_log,
 *   uffd_open, kernel_faults_trapped, features, unavailable} (mode and
 *   requested: one mode, or "mixed" when the groups differ; run_kind:
 *   "timing: ...", "fault census: ..." or "mixed: ..."),
 *   resumed; slurm{...} after a Slurm merge (slurm/merge.c); and the measurement fields of measure.h (clock, latency,
 *   hw_counters, sw_counters, topology, pin, oversubscribe, timeline,
 *   warmup).
 */
#ifndef MMB_META_H
#define MMB_META_H

#include <time.h>

#include "plan.h"
#include "uffd.h"

struct mmb_meta {
	int argc;
	char **argv;
	const struct mmb_plan *plan;
	time_t start, end;		/* end 0 = still running */
	const char *state;		/* running | complete | interrupted */
	unsigned cells_done;
	const struct mmb_uffd_info *fault_info;	/* how uffd was opened; NULL when off */
	const char *fault_why;			/* why auto fell back to off, or NULL */
	int resumed;			/* 1 after `mmbench run --resume` */
	const char *extra_json;		/* more top-level members, `"key": value` lines joined
					 * by ",\n" (a Slurm merge's "slurm"), or NULL */
};

/* Write dir/meta.json atomically. Returns 0 or -errno. */
int mmb_meta_write(const char *dir, const struct mmb_meta *m);

#endif /* MMB_META_H */

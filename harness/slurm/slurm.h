/*
 * slurm.h — running a plan's cells as a Slurm job array (scale-out).
 *
 * A plan is a list of independent cells, so a cluster needs no new model:
 *
 *   mmbench run ... --slurm	(submit.c) plans exactly as a local run, makes
 *				the results folder (meta.json with the plan,
 *				state "submitted"), and submits one job array
 *				(one task per --cells-per-task cells, each task
 *				a whole node unless --slurm-pack) plus a merge
 *				job that depends on it (afterany)
 *   mmbench slurm-task DIR K	(task.c) one array task: runs its cells through
 *				the ordinary per-cell child process into its own
 *				shard folder, DIR/slurm/sub-K/shard-T
 *   mmbench merge DIR		(merge.c) assembles the one results folder that
 *				plot, report and compare read; rerunnable
 *
 * Folder layout (a shared filesystem is assumed, as on clusters):
 *
 *   DIR/meta.json, cells.csv, latency.csv, timeline.csv, faults.csv, state/
 *					the merged run, as a local run writes them
 *   DIR/nodes.csv			cell,hostname,cpu_model,slurm_job,slurm_state:
 *					which machine ran which cell
 *   DIR/slurm/sub-K/			the K-th submission (1, then one per --resume)
 *       tasks.txt			line T: "T cell cell ..." (1-based cell ids)
 *       jobs.txt			array=ID, merge=ID, submitted=EPOCH, tasks=N
 *       task-T.log, merge.log		Slurm's output files
 *       node-T.txt			task T's node, Slurm ids, start, end, exit
 *       shard-T/			task T's results folder (run.c), written by
 *					that task only
 *
 * No two writers share a file: a task writes its shard, the merge writes
 * DIR's files (each replaced atomically). The merge trusts Slurm's task
 * state and the shard's own cells.csv, never the mere presence of files
 * (slurm.md §3: a timed-out task may still write). A planned cell with no
 * result is recorded with status "lost" and the task's Slurm state as the
 * reason; `mmbench run --resume DIR` (locally or with --slurm) runs exactly
 * those.
 */
#ifndef MMB_SLURM_H
#define MMB_SLURM_H

#include <stddef.h>

/* 1 when a `run` command line asks for Slurm (--slurm). */
int mmb_slurm_requested(int argc, char **argv);

/* `mmbench run --slurm ...` (argv[0] = "run"). Exit status: 0 submitted
 * (with --wait: merged, some cell ok), 1 a job or the merge failed, 2 bad
 * usage or no usable Slurm (nothing submitted, no folder left). */
int mmb_submit_main(int argc, char **argv);

/* `mmbench slurm-task DIR K [--task T]` (internal; T from
 * SLURM_ARRAY_TASK_ID). Exit status as `mmbench run`. */
int mmb_slurm_task_main(int argc, char **argv);

/* `mmbench merge DIR`. 0 merged, 1 cannot write, 2 not a Slurm run of this
 * mmbench or shards that disagree on the plan (nothing overwritten). */
int mmb_merge_main(int argc, char **argv);

/* ---- shared by the three (layout.c) ---- */

#define MMB_SLURM_MAX_SUBS 64

/* Path of a file of submission k (1-based): DIR/slurm/sub-K/name. */
void mmb_slurm_path(char *buf, size_t len, const char *dir, unsigned k, const char *name);

/* Number of submissions in DIR/slurm (sub-1 .. sub-N present), 0 when none. */
unsigned mmb_slurm_nsubs(const char *dir);

/* Read "key=value" lines of file: the value of key into val; 0 or -ENOENT. */
int mmb_slurm_kv(const char *file, const char *key, char *val, size_t len);

/* Run argv (PATH lookup), stdout into out (NUL-terminated, may be NULL),
 * stderr into err when given, killed after timeout_s. Returns the exit
 * status, or -errno when it could not run, 124 when it timed out. */
int mmb_slurm_cmd(char *const argv[], char *out, size_t outlen, char *errbuf, size_t errlen,
		  double timeout_s);

/* 1 if name is an executable in PATH. */
int mmb_slurm_in_path(const char *name);

#endif /* MMB_SLURM_H */

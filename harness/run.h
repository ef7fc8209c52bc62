/*
 * run.h — `mmbench run`: the parent side. Plans the cells, creates the
 * results folder, runs every cell in its own process (fork + exec of
 * `mmbench cell`), records each as it finishes and prints a summary.
 *
 * Exit status: 0 when every cell ran (whatever its status), 2 for bad usage
 * (nothing written), 1 when results could not be written, 130 when
 * interrupted (finished cells are kept).
 */
#ifndef MMB_RUN_H
#define MMB_RUN_H

#include <stddef.h>

int mmb_run_main(int argc, char **argv);

struct mmb_plan;
struct mmb_result;

/*
 * Run only the cells of plan that only[] marks (cell i when only[i]) into a
 * new results folder (plan->outdir, or results/<time>-<id>; its path into
 * r_dir): a Slurm shard (slurm/task.c). When only[] marks no cell, the
 * folder is made (meta.json "running", empty files) and nothing runs: a
 * submitted run (slurm/submit.c). argv is the command line meta.json
 * records. Returns run's exit status.
 */
int mmb_run_subset(struct mmb_plan *plan, int argc, char **argv, const unsigned char *only,
		   char *r_dir, size_t dirlen);

/* Print the summary of the results folder dir (summary.h) to stdout, as a
 * local run ends. */
void mmb_run_summary(const char *dir);

#endif /* MMB_RUN_H */

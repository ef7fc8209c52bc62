/*
 * task.c — `mmbench slurm-task DIR K`: one task of a submitted job array.
 *
 * The plan is rebuilt from DIR/meta.json's command line (as --resume does),
 * so every task, on whatever node, plans the same cells with the same seeds;
 * line T of DIR/slurm/sub-K/tasks.txt (T = SLURM_ARRAY_TASK_ID, or --task T
 * by hand) names the cells this task runs. They run through run.c like a
 * local run's, each in its own child process with --cell-timeout, into the
 * task's own folder DIR/slurm/sub-K/shard-T (a results folder: meta.json
 * with this node's hostname, CPU model and topology, cells.csv after every
 * cell). A task that Slurm requeues starts its shard afresh.
 *
 * sub-K/node-T.txt records the node and the Slurm ids (job, array job,
 * task) and, once the cells are done, exit=STATUS; the merge reads the
 * task's state from Slurm first and this file only when Slurm has forgotten
 * the job.
 */
#include "slurm.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../plan.h"
#include "../resume.h"
#include "../run.h"
#include "../util.h"

/* The cells of task t from tasks.txt into only[]; returns how many, or -1. */
static int task_cells(const char *file, unsigned t, unsigned char *only, unsigned ncells)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = -1;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char *p = line, *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || v != t)
			continue;
		n = 0;
		for (p = end;; p = end) {
			v = strtoul(p, &end, 10);
			if (end == p)
				break;
			if (v < 1 || v > ncells) {
				n = -1;
				break;
			}
			only[v - 1] = 1;
			n++;
		}
		break;
	}
	free(line);
	fclose(f);
	return n;
}

static int task_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void task_node_txt(const char *dir, unsigned k, unsigned t, int exit_status)
{
	char path[4400], name[64], host[256] = "";
	const char *job = getenv("SLURM_JOB_ID"), *ajob = getenv("SLURM_ARRAY_JOB_ID");
	FILE *f;

	gethostname(host, sizeof(host) - 1);
	snprintf(name, sizeof(name), "node-%u.txt", t);
	mmb_slurm_path(path, sizeof(path), dir, k, name);
	f = fopen(path, exit_status < 0 ? "w" : "a");
	if (!f)
		return;
	if (exit_status < 0)
		fprintf(f, "hostname=%s\nslurm_job_id=%s\nslurm_array_job_id=%s\ntask=%u\nstart=%lld\n",
			host, job ? job : "", ajob ? ajob : "", t, (long long)time(NULL));
	else
		fprintf(f, "end=%lld\nexit=%d\n", (long long)time(NULL), exit_status);
	fclose(f);
}

int mmb_slurm_task_main(int argc, char **argv)
{
	struct mmb_plan plan;
	char **rargv = NULL, err[1024], file[4400], shard[4400], name[64];
	const char *tenv = getenv("SLURM_ARRAY_TASK_ID");
	unsigned char *only = NULL;
	unsigned long k, t;
	int rargc = 0, e, n;
	char *end;

	if (argc == 5 && !strcmp(argv[3], "--task"))
		tenv = argv[4];
	else if (argc != 3)
		tenv = NULL;
	k = argc >= 3 ? strtoul(argv[2], &end, 10) : 0;
	if (argc < 3 || !tenv || !*tenv || k < 1 || *end) {
		mmb_err("usage: mmbench slurm-task DIR K [--task T] (a Slurm array task; T from "
			"SLURM_ARRAY_TASK_ID)");
		return MMB_EXIT_USAGE;
	}
	t = strtoul(tenv, &end, 10);
	if (*end) {
		mmb_err("slurm-task: task '%s' is not a number", tenv);
		return MMB_EXIT_USAGE;
	}
	if (mmb_resume_argv(argv[1], &rargc, &rargv, err, sizeof(err))) {
		mmb_err("slurm-task: %s", err);
		return MMB_EXIT_USAGE;
	}
	e = mmb_plan_parse(rargc, rargv, &plan, err, sizeof(err));
	if (e) {
		mmb_err("slurm-task: the plan in %s/meta.json does not run here: %s", argv[1],
			e == 1 ? "--help" : err);
		mmb_resume_free(rargc, rargv);
		return MMB_EXIT_USAGE;
	}
	only = calloc(plan.ncells, 1);
	mmb_slurm_path(file, sizeof(file), argv[1], (unsigned)k, "tasks.txt");
	n = only ? task_cells(file, (unsigned)t, only, plan.ncells) : -1;
	if (n <= 0) {
		mmb_err("slurm-task: %s has no cells for task %lu", file, t);
		e = MMB_EXIT_USAGE;
		goto out;
	}
	snprintf(name, sizeof(name), "shard-%lu", t);
	mmb_slurm_path(shard, sizeof(shard), argv[1], (unsigned)k, name);
	nftw(shard, task_rm_one, 16, FTW_DEPTH | FTW_PHYS);	/* a requeued task */
	plan.outdir = shard;
	plan.quiet = 1;
	task_node_txt(argv[1], (unsigned)k, (unsigned)t, -1);
	e = mmb_run_subset(&plan, rargc, rargv, only, NULL, 0);
	task_node_txt(argv[1], (unsigned)k, (unsigned)t, e);
out:
	free(only);
	mmb_plan_free(&plan);
	mmb_resume_free(rargc, rargv);
	return e;
}

/*
 * submit.c — `mmbench run --slurm ...`: hand a plan's cells to Slurm.
 *
 * The plan is expanded exactly as a local run does (plan.c, the same
 * validation, nothing written on bad input), the results folder is made as
 * a local run makes it (run.c; meta.json then says state "submitted"), and
 * two jobs go in: an array of ceil(cells / --cells-per-task) tasks, each
 * `mmbench slurm-task DIR K` on a whole node (--exclusive) unless
 * --slurm-pack, and `mmbench merge DIR` with --dependency=afterany on it,
 * so the merge runs however the tasks end. Cells are dealt to tasks in plan
 * order, so a task's cells vary the allocator fastest, as locally.
 *
 * `--resume DIR` with --slurm submits only the cells DIR does not hold (no
 * row, or a row "lost" by a dead task) as submission K+1; the merge then
 * takes every submission's shards. Before anything is written, sbatch must
 * be in PATH and the controller must answer (sinfo): otherwise one line,
 * exit 2, nothing submitted and no folder left; a failed sbatch takes back
 * what this call made (the folder, or the new submission's folder) and
 * cancels the array when only the merge failed.
 *
 * --wait polls squeue every 0.5 s (sbatch --wait polls at 2, 8, 32 s:
 * slurm.md §3) until both jobs have left the queue, then prints the merged
 * run's summary like a local run.
 */
#include "slurm.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../meta.h"
#include "../plan.h"
#include "../results.h"
#include "../resume.h"
#include "../run.h"
#include "../util.h"

#define SUBMIT_MAX_OPTS 64

struct submit_opts {
	int wait, pack;
	unsigned per_task;			/* cells per array task */
	char *sopt[SUBMIT_MAX_OPTS];		/* --slurm-opt words, malloc'ed */
	int nsopt;
	const char *resume;			/* --resume DIR */
};

int mmb_slurm_requested(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--slurm"))
			return 1;
	return 0;
}

static void submit_opts_free(struct submit_opts *o)
{
	for (int i = 0; i < o->nsopt; i++)
		free(o->sopt[i]);
}

/* Split --slurm-opt's text into words (whitespace; no quoting). */
static int submit_add_words(struct submit_opts *o, const char *text)
{
	char *copy = strdup(text), *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		if (o->nsopt == SUBMIT_MAX_OPTS || !(o->sopt[o->nsopt] = strdup(w))) {
			free(copy);
			return -E2BIG;
		}
		o->nsopt++;
	}
	free(copy);
	return 0;
}

/* Take the Slurm options out of argv into o; the rest, in order, is the
 * run's command line (rest[0] = "run"). Returns 0 or MMB_EXIT_USAGE. */
static int submit_split(int argc, char **argv, struct submit_opts *o, char **rest, int *r_nrest)
{
	int n = 0;

	o->per_task = 1;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (!strcmp(a, "--slurm")) {
			continue;
		} else if (!strcmp(a, "--slurm-pack")) {
			o->pack = 1;
			continue;
		} else if (!strcmp(a, "--wait")) {
			o->wait = 1;
			continue;
		} else if (!strncmp(a, "--slurm-opt=", 12)) {
			val = a + 12;
		} else if (!strcmp(a, "--slurm-opt") || !strcmp(a, "--cells-per-task") ||
			   (!strcmp(a, "--resume") && i > 0)) {
			if (i + 1 >= argc) {
				mmb_err("%s needs a value", a);
				return MMB_EXIT_USAGE;
			}
			val = argv[++i];
			if (!strcmp(a, "--resume")) {
				o->resume = val;
				continue;
			}
			if (!strcmp(a, "--cells-per-task")) {
				char *end;
				unsigned long v = strtoul(val, &end, 10);

				if (*end || !*val || v < 1 || v > 100000) {
					mmb_err("--cells-per-task '%s': a count from 1 to 100000", val);
					return MMB_EXIT_USAGE;
				}
				o->per_task = (unsigned)v;
				continue;
			}
		} else {
			rest[n++] = argv[i];
			continue;
		}
		if (submit_add_words(o, val)) {
			mmb_err("--slurm-opt: more than %d words", SUBMIT_MAX_OPTS);
			return MMB_EXIT_USAGE;
		}
	}
	rest[n] = NULL;
	*r_nrest = n;
	return 0;
}

/* Is there a Slurm to submit to? 0, or MMB_EXIT_USAGE with the reason said. */
static int submit_probe(void)
{
	char *ping[] = { "sinfo", "-h", "-o", "%P", NULL };
	char err[512] = "";
	int st;

	for (const char *const *t = (const char *const[]){ "sbatch", "squeue", "sinfo", NULL }; *t;
	     t++)
		if (!mmb_slurm_in_path(*t)) {
			mmb_err("--slurm: %s not found in PATH (install Slurm's client commands, e.g. "
				"Debian's slurm-client, or run without --slurm)", *t);
			return MMB_EXIT_USAGE;
		}
	st = mmb_slurm_cmd(ping, NULL, 0, err, sizeof(err), 20);
	if (st) {
		mmb_err("--slurm: the Slurm controller does not answer (sinfo: %s%s)",
			st == 124 ? "no answer in 20 s" : err[0] ? err : "failed",
			getenv("SLURM_CONF") ? "" : "; is SLURM_CONF set?");
		return MMB_EXIT_USAGE;
	}
	return 0;
}

/* 'text' for a POSIX shell: single quotes, each ' as '\''. */
static void submit_quote(char *buf, size_t len, const char *s)
{
	size_t n = 0;

	if (n + 1 < len)
		buf[n++] = '\'';
	for (; *s && n + 5 < len; s++) {
		if (*s == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			buf[n++] = *s;
		}
	}
	if (n + 1 < len)
		buf[n++] = '\'';
	buf[n] = 0;
}

/* sbatch --parsable ARGS...: the job id into id. 0, or the error said. */
static int submit_sbatch(char **args, int nargs, char *id, size_t idlen, const char *what)
{
	char *argv[SUBMIT_MAX_OPTS + 16], out[256] = "", err[512] = "";
	int st, n = 0;

	argv[n++] = "sbatch";
	argv[n++] = "--parsable";
	for (int i = 0; i < nargs; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	st = mmb_slurm_cmd(argv, out, sizeof(out), err, sizeof(err), 60);
	out[strcspn(out, ";\n")] = 0;	/* "ID" or "ID;cluster" */
	if (st || !out[0] || strspn(out, "0123456789") != strlen(out)) {
		mmb_err("--slurm: sbatch of the %s failed: %s", what,
			err[0] ? err : st == 124 ? "no answer in 60 s" : "no job id");
		return -1;
	}
	snprintf(id, idlen, "%s", out);
	return 0;
}

static int submit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void submit_rm_tree(const char *path)
{
	nftw(path, submit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Append text to file; a failure is said, not fatal (the jobs are in). */
static void submit_append(const char *file, const char *text)
{
	FILE *f = fopen(file, "a");

	if (!f || fputs(text, f) < 0 || fclose(f))
		mmb_err("warning: cannot write %s: %s (the jobs are submitted)", file, strerror(errno));
}

/* The cells to submit: all (fresh), or those DIR does not hold (resume).
 * miss[i] set for cell i+1. Returns how many, or -1 with the error said. */
static int submit_missing(const char *dir, const struct mmb_plan *plan, unsigned char *miss)
{
	struct mmb_result *rows = NULL;
	char path[4300], err[512];
	int n, count = 0;

	memset(miss, 1, plan->ncells);
	if (!dir)
		return (int)plan->ncells;
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, &rows, err, sizeof(err));
	if (n == -ENOENT)
		n = 0;
	if (n < 0) {
		mmb_err("--resume: %s", err);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (rows[i].cell >= 1 && rows[i].cell <= plan->ncells &&
		    strcmp(rows[i].status, MMB_ST_LOST))
			miss[rows[i].cell - 1] = 0;
	free(rows);
	for (unsigned i = 0; i < plan->ncells; i++)
		count += miss[i];
	return count;
}

/* tasks.txt: line T holds task T's cells, per_task of the missing ones each. */
static int submit_write_tasks(const char *file, const struct mmb_plan *plan,
			      const unsigned char *miss, unsigned per_task, unsigned *r_ntasks)
{
	FILE *f = fopen(file, "w");
	unsigned t = 0, in_task = 0;

	if (!f)
		return -errno;
	for (unsigned i = 0; i < plan->ncells; i++) {
		if (!miss[i])
			continue;
		if (in_task == 0)
			fprintf(f, "%u", t);
		fprintf(f, " %u", i + 1);
		if (++in_task == per_task) {
			fputc('\n', f);
			in_task = 0;
			t++;
		}
	}
	if (in_task) {
		fputc('\n', f);
		t++;
	}
	*r_ntasks = t;
	return fclose(f) ? -EIO : 0;
}

/* Poll until the array and merge jobs have left the queue; the merge's
 * final state into state. */
static void submit_wait(const char *array, const char *merge, char *state, size_t len)
{
	char jobs[600], out[65536];
	struct timespec ts = { 0, 500 * 1000 * 1000 };

	snprintf(jobs, sizeof(jobs), "%s,%s", array, merge);
	for (;;) {
		char *q[] = { "squeue", "-h", "-j", jobs, "-t", "PD,R,CG,S,CF,RQ,RS,RH,SO", "-o",
			      "%i", NULL };
		int st = mmb_slurm_cmd(q, out, sizeof(out), NULL, 0, 30);

		if (st == 0 && !out[0])
			break;
		nanosleep(&ts, NULL);
	}
	{
		char *q[] = { "squeue", "-h", "-j", (char *)merge, "-t", "all", "-o", "%T", NULL };

		state[0] = 0;
		if (mmb_slurm_cmd(q, out, sizeof(out), NULL, 0, 30) == 0) {
			out[strcspn(out, "\n")] = 0;
			snprintf(state, len, "%.63s", out);
		}
	}
}

/* After --wait: the merged run's summary; 0 when some cell is ok. */
static int submit_summary(const char *dir, struct mmb_plan *plan)
{
	struct mmb_result *rows = NULL, *res = calloc(plan->ncells, sizeof(*res));
	char path[4200], err[512];
	int n, nok = 0;

	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = res ? mmb_csv_read(path, &rows, err, sizeof(err)) : -ENOMEM;
	for (int i = 0; i < n; i++)
		if (rows[i].cell >= 1 && rows[i].cell <= plan->ncells) {
			res[rows[i].cell - 1] = rows[i];
			nok += !strcmp(rows[i].status, MMB_ST_OK);
		}
	if (n >= 0 && !plan->quiet)
		mmb_run_summary(dir);
	free(rows);
	free(res);
	if (n < 0) {
		mmb_err("%s: cannot read the merged cells.csv", dir);
		return 1;
	}
	if (!nok) {
		mmb_err("%s: no cell finished ok", dir);
		return 1;
	}
	return 0;
}

int mmb_submit_main(int argc, char **argv)
{
	struct submit_opts o = { 0 };
	struct mmb_plan plan;
	int plan_ok = 0, nrest = 0, rargc = 0, made_dir = 0, e, count;
	char **rest = calloc((size_t)argc + 1, sizeof(char *)), **rargv = NULL;
	char dir[4200] = "", absdir[PATH_MAX], exe[PATH_MAX], path[4400], err[1024];
	char qexe[PATH_MAX * 4 + 8], qdir[PATH_MAX * 4 + 8], wrap[3 * PATH_MAX * 4];
	char array[256], merge[256], state[64], subdir[4400] = "";
	unsigned char *miss = NULL;
	unsigned k, ntasks = 0;

	if (!rest)
		return 1;
	e = submit_split(argc, argv, &o, rest, &nrest);
	if (e)
		goto out;
	if (o.resume) {
		int quiet = 0;

		for (int i = 1; i < nrest; i++)
			quiet |= !strcmp(rest[i], "-q") || !strcmp(rest[i], "--quiet");
		if (nrest != 1 + quiet) {
			mmb_err("--resume DIR --slurm takes no run option but -q (the plan comes "
				"from DIR/meta.json)");
			e = MMB_EXIT_USAGE;
			goto out;
		}
		snprintf(dir, sizeof(dir), "%s", o.resume);
		if (mmb_resume_argv(dir, &rargc, &rargv, err, sizeof(err))) {
			mmb_err("%s", err);
			e = MMB_EXIT_USAGE;
			goto out;
		}
		e = mmb_plan_parse(rargc, rargv, &plan, err, sizeof(err));
		if (!e)
			plan.quiet = quiet;
	} else {
		e = mmb_plan_parse(nrest, rest, &plan, err, sizeof(err));
	}
	if (e == 1) {		/* --help */
		e = 0;
		goto out;
	}
	if (e) {
		mmb_err("%s", err);
		e = MMB_EXIT_USAGE;
		goto out;
	}
	plan_ok = 1;
	e = submit_probe();
	if (e)
		goto out;
	miss = malloc(plan.ncells);
	if (!miss) {
		e = 1;
		goto out;
	}
	count = submit_missing(o.resume ? dir : NULL, &plan, miss);
	if (count < 0) {
		e = MMB_EXIT_USAGE;
		goto out;
	}
	if (count == 0) {
		printf("%s: every cell has a result; nothing to submit\n%s\n", dir, dir);
		e = 0;
		goto out;
	}
	if (!o.resume) {	/* the folder, as a local run makes it: no cell runs */
		unsigned char *none = calloc(plan.ncells, 1);

		e = none ? mmb_run_subset(&plan, nrest, rest, none, dir, sizeof(dir)) : 1;
		free(none);
		if (e)
			goto out;
		made_dir = 1;
		{
			struct mmb_meta meta = { .argc = nrest, .argv = rest, .plan = &plan,
						 .start = time(NULL), .state = "submitted" };

			e = mmb_meta_write(dir, &meta);
			if (e) {
				mmb_err("--slurm: cannot write %s/meta.json: %s", dir, strerror(-e));
				e = MMB_EXIT_USAGE;
				goto undo;
			}
		}
	}
	if (!realpath(dir, absdir) || !realpath("/proc/self/exe", exe)) {
		mmb_err("--slurm: cannot resolve %s: %s", dir, strerror(errno));
		e = 1;
		goto undo;
	}
	k = mmb_slurm_nsubs(absdir) + 1;
	mmb_slurm_path(subdir, sizeof(subdir), absdir, k, "");
	e = mmb_mkdir_p(subdir, 0755);
	mmb_slurm_path(path, sizeof(path), absdir, k, "tasks.txt");
	if (!e)
		e = submit_write_tasks(path, &plan, miss, o.per_task, &ntasks);
	if (e) {
		mmb_err("--slurm: cannot write %s: %s", subdir, strerror(-e));
		e = MMB_EXIT_USAGE;
		goto undo;
	}

	/* the array: one task per line of tasks.txt */
	{
		char arr[64], out[4500], *args[SUBMIT_MAX_OPTS + 12];
		int na = 0;

		snprintf(arr, sizeof(arr), "--array=0-%u", ntasks - 1);
		mmb_slurm_path(out, sizeof(out), absdir, k, "task-%a.log");
		submit_quote(qexe, sizeof(qexe), exe);
		submit_quote(qdir, sizeof(qdir), absdir);
		snprintf(wrap, sizeof(wrap), "exec %s slurm-task %s %u", qexe, qdir, k);
		args[na++] = arr;
		args[na++] = "--job-name=mmbench-cells";
		args[na++] = "-o";
		args[na++] = out;
		if (!o.pack)
			args[na++] = "--exclusive";
		for (int i = 0; i < o.nsopt; i++)
			args[na++] = o.sopt[i];
		args[na++] = "--wrap";
		args[na++] = wrap;
		if (submit_sbatch(args, na, array, sizeof(array), "cell array")) {
			e = MMB_EXIT_USAGE;
			goto undo;
		}
	}
	/* jobs.txt names the array before the merge job can start */
	mmb_slurm_path(path, sizeof(path), absdir, k, "jobs.txt");
	snprintf(err, sizeof(err), "array=%s\nsubmitted=%lld\ntasks=%u\ncells=%d\n", array,
		 (long long)time(NULL), ntasks, count);
	submit_append(path, err);
	/* the merge, after every task whatever its end */
	{
		char dep[300], out[4500], *args[SUBMIT_MAX_OPTS + 12];
		int na = 0;

		snprintf(dep, sizeof(dep), "--dependency=afterany:%s", array);
		mmb_slurm_path(out, sizeof(out), absdir, k, "merge.log");
		snprintf(wrap, sizeof(wrap), "exec %s merge %s", qexe, qdir);
		args[na++] = dep;
		args[na++] = "--job-name=mmbench-merge";
		args[na++] = "-o";
		args[na++] = out;
		for (int i = 0; i < o.nsopt; i++)
			args[na++] = o.sopt[i];
		args[na++] = "--wrap";
		args[na++] = wrap;
		if (submit_sbatch(args, na, merge, sizeof(merge), "merge job")) {
			char *cancel[] = { "scancel", array, NULL };

			mmb_slurm_cmd(cancel, NULL, 0, NULL, 0, 30);
			e = MMB_EXIT_USAGE;
			goto undo;
		}
	}
	snprintf(err, sizeof(err), "merge=%s\n", merge);
	submit_append(path, err);
	fprintf(stderr, "submitted %d cells as Slurm job array %s (%u tasks%s) and merge job %s\n",
		count, array, ntasks, o.pack ? "" : ", each a whole node", merge);
	if (o.wait) {
		submit_wait(array, merge, state, sizeof(state));
		if (strcmp(state, "COMPLETED")) {
			mmb_err("merge job %s ended %s (its log: %s/merge.log)", merge,
				state[0] ? state : "in an unknown state", subdir);
			e = 1;
		} else {
			e = submit_summary(absdir, &plan);
		}
	} else {
		e = 0;
	}
	printf("%s\n", dir);
	goto out;
undo:
	if (made_dir)
		submit_rm_tree(dir);
	else if (subdir[0])
		submit_rm_tree(subdir);
out:
	free(miss);
	if (plan_ok)
		mmb_plan_free(&plan);
	if (rargv)
		mmb_resume_free(rargc, rargv);
	submit_opts_free(&o);
	free(rest);
	return e;
}

/*
 * test_slurm.c — `run --slurm`, slurm-task and merge without a cluster.
 *
 * A fake Slurm (shell scripts named sbatch, sinfo, squeue, scancel first in
 * PATH) runs each submitted job at once: an array's tasks one after the
 * other with SLURM_ARRAY_TASK_ID set (FAKE_SKIP=T leaves task T out, as a
 * task cancelled while pending), then the merge job. squeue knows no job,
 * so the merge falls back to the tasks' node files, as after MinJobAge.
 * scripts/slurm-check.sh (`make slurm-check`) does the same against a real
 * Slurm.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../harness/results.h"
#include "../testutil.h"

static void sl_script(const char *bin, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", bin, name);
	f = fopen(path, "w");
	cr_assert(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0755);
}

static const char fake_sbatch[] =
	"#!/bin/sh\n"
	"array=''; wrap=''; out=/dev/null\n"
	"while [ $# -gt 0 ]; do case \"$1\" in\n"
	"  --array=*) array=${1#--array=} ;;\n"
	"  -o) shift; out=$1 ;;\n"
	"  --wrap) shift; wrap=$1 ;;\n"
	"  --partition=nowhere) echo 'sbatch: error: invalid partition specified: nowhere' >&2; exit 1 ;;\n"
	"esac; shift; done\n"
	"id=$(( $(cat \"$FAKE_DIR/next\" 2>/dev/null || echo 100) + 1 )); echo $id > \"$FAKE_DIR/next\"\n"
	"if [ -n \"$array\" ]; then\n"
	"  t=${array%-*}; hi=${array#*-}\n"
	"  while [ $t -le $hi ]; do\n"
	"    [ \"$t\" = \"${FAKE_SKIP:-none}\" ] || SLURM_ARRAY_TASK_ID=$t SLURM_ARRAY_JOB_ID=$id "
	"SLURM_JOB_ID=$id$t sh -c \"$wrap\" > \"$(echo \"$out\" | sed \"s/%a/$t/\")\" 2>&1\n"
	"    t=$((t + 1))\n"
	"  done\n"
	"else sh -c \"$wrap\" > \"$out\" 2>&1; fi\n"
	"echo $id\n";

/* A folder of fake Slurm commands; PATH starts with it. sinfo_ok 0: the
 * controller does not answer. */
static void sl_fake(char *bin, size_t len, int sinfo_ok)
{
	char path[4096];

	mmb_tmpname(bin, len, "fakeslurm");
	cr_assert_eq(mkdir(bin, 0755), 0);
	sl_script(bin, "sbatch", fake_sbatch);
	sl_script(bin, "squeue", "#!/bin/sh\nexit 0\n");
	sl_script(bin, "scancel", "#!/bin/sh\nexit 0\n");
	sl_script(bin, "sinfo", sinfo_ok ? "#!/bin/sh\necho debug\n"
					 : "#!/bin/sh\necho 'sinfo: error: Unable to contact slurm "
					   "controller (connect failure)' >&2\nexit 1\n");
	snprintf(path, sizeof(path), "%s:%s", bin, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	setenv("FAKE_DIR", bin, 1);
}

/* cells.csv rows of dir, by cell id (rows[cell - 1]); returns the count. */
static int sl_rows(const char *dir, struct mmb_result **r_rows)
{
	char path[600], err[256];
	int n;

	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, r_rows, err, sizeof(err));
	cr_assert_geq(n, 0, "%s: %s", path, err);
	for (int i = 0; i < n; i++)
		cr_assert_eq((*r_rows)[i].cell, (unsigned)i + 1, "cells.csv in cell order");
	return n;
}

/* The identity columns and op_checksum of two runs agree, cell by cell. */
static void sl_same_cells(const char *a, const char *b, int want)
{
	struct mmb_result *ra, *rb;
	int na = sl_rows(a, &ra), nb = sl_rows(b, &rb);

	cr_assert_eq(na, want);
	cr_assert_eq(nb, want);
	for (int i = 0; i < na; i++) {
		cr_expect_str_eq(ra[i].allocator, rb[i].allocator);
		cr_expect_str_eq(ra[i].config, rb[i].config);
		cr_expect_str_eq(ra[i].workload, rb[i].workload);
		cr_expect_str_eq(ra[i].params, rb[i].params);
		cr_expect_eq(ra[i].threads, rb[i].threads);
		cr_expect_eq(ra[i].rep, rb[i].rep);
		cr_expect_eq(ra[i].seed, rb[i].seed);
		cr_expect_str_eq(ra[i].status, "ok", "cell %d: %s", i + 1, ra[i].detail);
		cr_expect_str_eq(rb[i].status, "ok", "cell %d: %s", i + 1, rb[i].detail);
		cr_expect_eq(ra[i].m[MMB_M_op_checksum], rb[i].m[MMB_M_op_checksum], "cell %d", i + 1);
		cr_expect_eq(ra[i].m[MMB_M_ops], rb[i].m[MMB_M_ops], "cell %d", i + 1);
	}
	free(ra);
	free(rb);
}

#define SL_PLAN "-a", "glibc,buddy", "-w", "churn:size=64", "-t", "1", "-r", "2", "--ops", "500"

Test(slurm, no_sbatch_is_bad_usage_and_leaves_nothing)
{
	struct mmb_cmd *c = malloc(sizeof(*c));
	char dir[256], empty[256], *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");

	mmb_tmpname(dir, sizeof(dir), "sl-nosbatch");
	mmb_tmpname(empty, sizeof(empty), "sl-emptypath");
	cr_assert_eq(mkdir(empty, 0755), 0);
	setenv("PATH", empty, 1);
	mmb_run_cmd(c, "run", "--slurm", SL_PLAN, "-o", dir, NULL);
	cr_expect_eq(c->status, 2, "%s", c->err);
	cr_expect(strstr(c->err, "sbatch not found in PATH"), "%s", c->err);
	cr_expect_eq(strchr(c->err, '\n'), c->err + strlen(c->err) - 1, "one line: %s", c->err);
	cr_expect(!mmb_exists(dir), "no folder left");
	setenv("PATH", path, 1);
	mmb_rm_rf(empty);
	free(path);
	free(c);
}

Test(slurm, controller_down_is_bad_usage_and_leaves_nothing)
{
	struct mmb_cmd *c = malloc(sizeof(*c));
	char dir[256], bin[256], next[300];

	sl_fake(bin, sizeof(bin), 0);
	mmb_tmpname(dir, sizeof(dir), "sl-down");
	mmb_run_cmd(c, "run", "--slurm", SL_PLAN, "-o", dir, NULL);
	cr_expect_eq(c->status, 2, "%s", c->err);
	cr_expect(strstr(c->err, "controller does not answer"), "%s", c->err);
	cr_expect(strstr(c->err, "Unable to contact"), "sinfo's reason: %s", c->err);
	cr_expect(!mmb_exists(dir), "no folder left");
	snprintf(next, sizeof(next), "%s/next", bin);
	cr_expect(!mmb_exists(next), "nothing submitted");
	mmb_rm_rf(bin);
	free(c);
}

Test(slurm, failed_sbatch_takes_the_folder_back)
{
	struct mmb_cmd *c = malloc(sizeof(*c));
	char dir[256], bin[256];

	sl_fake(bin, sizeof(bin), 1);
	mmb_tmpname(dir, sizeof(dir), "sl-badpart");
	mmb_run_cmd(c, "run", "--slurm", "--slurm-opt", "--partition=nowhere", SL_PLAN, "-o", dir,
		    NULL);
	cr_expect_eq(c->status, 2, "%s", c->err);
	cr_expect(strstr(c->err, "invalid partition"), "sbatch's reason: %s", c->err);
	cr_expect(!mmb_exists(dir), "the folder made for it is gone");
	mmb_rm_rf(bin);
	free(c);
}

/* Submitted, run task by task, merged: the same cells as a local run. */
Test(slurm, merged_run_equals_local_run)
{
	struct mmb_cmd *c = malloc(sizeof(*c));
	char local[256], dir[256], bin[256], path[512], buf[8192];

	mmb_tmpname(local, sizeof(local), "sl-local");
	mmb_run_cmd(c, "run", "-q", SL_PLAN, "-o", local, NULL);
	cr_assert_eq(c->status, 0, "%s", c->err);
	sl_fake(bin, sizeof(bin), 1);
	mmb_tmpname(dir, sizeof(dir), "sl-merged");
	mmb_run_cmd(c, "run", "--slurm", "--cells-per-task", "3", SL_PLAN, "-o", dir, NULL);
	cr_assert_eq(c->status, 0, "%s", c->err);
	cr_expect(strstr(c->err, "4 cells as Slurm job array 101 (2 tasks, each a whole node) and "
			 "merge job 102"), "%s", c->err);
	snprintf(path, sizeof(path), "%s/slurm/sub-1/tasks.txt", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect_str_eq(buf, "0 1 2 3\n1 4\n", "3 cells a task, in plan order");
	sl_same_cells(local, dir, 4);
	mmb_slurp_in(dir, "nodes.csv", buf, sizeof(buf));
	cr_expect(!strncmp(buf, "cell,hostname,cpu_model,slurm_job,slurm_state\n1,", 48), "%s", buf);
	cr_expect(strstr(buf, ",101_1,ended with exit status 0"), "%s", buf);
	mmb_slurp_in(dir, "meta.json", buf, sizeof(buf));
	cr_expect(strstr(buf, "\"state\": \"complete\""), "%s", buf);
	/* (the fake merge runs inside its sbatch, before submit records its id) */
	cr_expect(strstr(buf, "\"array_job\": \"101\", \"merge_job\": \"\", \"tasks\": 2"), "%s",
		  buf);
	cr_expect(strstr(buf, "\"machines\": ["), "%s", buf);
	/* the merged folder reads like any other; the report says where cells ran */
	mmb_run_cmd(c, "compare", local, dir, NULL);
	cr_expect_eq(c->status, 0, "%s", c->err);
	mmb_run_cmd(c, "report", dir, NULL);
	cr_expect_eq(c->status, 0, "%s", c->err);
	{
		static char md[1 << 20];

		mmb_slurp_in(dir, "report.md", md, sizeof(md));
		cr_expect(strstr(md, "Machines"), "no Machines section");
		cr_expect(strstr(md, "| 4 | 1-4 |"), "every cell on this machine, as one range");
	}
	mmb_rm_rf(local);
	mmb_rm_rf(dir);
	mmb_rm_rf(bin);
	free(c);
}

/* A task that never ran: its cell is lost with the reason; --resume (local)
 * runs exactly it; a later merge keeps the resumed row (idempotent). */
Test(slurm, lost_task_then_resume_then_merge_again)
{
	struct mmb_cmd *c = malloc(sizeof(*c));
	char dir[256], bin[256], before[65536], after[65536];
	struct mmb_result *rows;
	int n;

	sl_fake(bin, sizeof(bin), 1);
	setenv("FAKE_SKIP", "2", 1);
	mmb_tmpname(dir, sizeof(dir), "sl-lost");
	mmb_run_cmd(c, "run", "--slurm", SL_PLAN, "-o", dir, NULL);
	cr_assert_eq(c->status, 0, "%s", c->err);
	n = sl_rows(dir, &rows);
	cr_assert_eq(n, 4);
	for (int i = 0; i < n; i++)
		cr_expect_str_eq(rows[i].status, i == 2 ? "lost" : "ok", "cell %d", i + 1);
	cr_expect(strstr(rows[2].detail, "slurm job 101_2: never started"), "%s", rows[2].detail);
	free(rows);
	mmb_slurp_in(dir, "meta.json", before, sizeof(before));
	cr_expect(strstr(before, "\"state\": \"incomplete\""), "%s", before);

	mmb_run_cmd(c, "run", "--resume", dir, NULL);
	cr_assert_eq(c->status, 0, "%s", c->err);
	n = sl_rows(dir, &rows);
	cr_assert_eq(n, 4);
	for (int i = 0; i < n; i++)
		cr_expect_str_eq(rows[i].status, "ok", "cell %d: %s", i + 1, rows[i].detail);
	free(rows);
	mmb_slurp_in(dir, "cells.csv", before, sizeof(before));
	mmb_run_cmd(c, "merge", dir, NULL);
	cr_assert_eq(c->status, 0, "%s", c->err);
	mmb_slurp_in(dir, "cells.csv", after, sizeof(after));
	cr_expect_str_eq(after, before, "a merge after a local resume keeps every row");
	mmb_slurp_in(dir, "nodes.csv", after, sizeof(after));
	cr_expect(strstr(after, "\n3,vm,") || strstr(after, ",local,"), "%s", after);
	mmb_rm_rf(dir);
	mmb_rm_rf(bin);
	free(c);
}

Test(slurm, merge_refuses_what_is_not_a_slurm_run_or_disagrees)
{
	struct mmb_cmd *c = malloc(sizeof(*c));
	char dir[256], local[256], bin[256], path[512], before[65536], after[65536];
	FILE *f;

	mmb_tmpname(local, sizeof(local), "sl-notslurm");
	mmb_run_cmd(c, "run", "-q", SL_PLAN, "-o", local, NULL);
	cr_assert_eq(c->status, 0, "%s", c->err);
	mmb_run_cmd(c, "merge", local, NULL);
	cr_expect_eq(c->status, 2);
	cr_expect(strstr(c->err, "is not an mmbench Slurm run"), "%s", c->err);

	sl_fake(bin, sizeof(bin), 1);
	mmb_tmpname(dir, sizeof(dir), "sl-disagree");
	mmb_run_cmd(c, "run", "--slurm", SL_PLAN, "-o", dir, NULL);
	cr_assert_eq(c->status, 0, "%s", c->err);
	mmb_slurp_in(dir, "cells.csv", before, sizeof(before));
	/* shard 1 says it was planned with another seed */
	snprintf(path, sizeof(path), "%s/slurm/sub-1/shard-1/meta.json", dir);
	f = fopen(path, "w");
	cr_assert(f);
	/* (a readable meta.json of this schema: run --resume's reader checks that first) */
	fprintf(f, "{\n  \"schema_version\": %d,\n  \"command_line\": [\"mmbench\", \"run\", "
		"\"--seed\", \"7\"]\n}\n", MMB_SCHEMA_VERSION);
	fclose(f);
	mmb_run_cmd(c, "merge", dir, NULL);
	cr_expect_eq(c->status, 2, "%s", c->err);
	cr_expect(strstr(c->err, "shards disagree on the plan"), "%s", c->err);
	mmb_slurp_in(dir, "cells.csv", after, sizeof(after));
	cr_expect_str_eq(after, before, "nothing overwritten");
	mmb_rm_rf(dir);
	mmb_rm_rf(local);
	mmb_rm_rf(bin);
	free(c);
}

/*
 * test_resume.c — `mmbench run --resume DIR` runs exactly the cells
 * cells.csv lacks, keeps the finished ones untouched (and the run's start
 * time and clock calibration), leaves one copy of every cell's latency and
 * timeline rows, refuses a meta.json the results reader refuses and a folder
 * another mmbench holds.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <sys/file.h>

#include "../../harness/results.h"
#include "../testutil.h"

/* Sum of latency.csv counts of (cell, op), and the number of rows of cell
 * in timeline.csv. */
static void series_counts(const char *dir, unsigned cell, const char *op, double *r_count,
			  unsigned *r_tl_rows)
{
	char path[300], line[512], o[32];
	unsigned cl;
	unsigned long long lo, hi, n;
	FILE *f;

	*r_count = 0;
	*r_tl_rows = 0;
	snprintf(path, sizeof(path), "%s/latency.csv", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u,%31[^,],%llu,%llu,%llu", &cl, o, &lo, &hi, &n) == 5 && cl == cell &&
		    !strcmp(o, op))
			*r_count += (double)n;
	fclose(f);
	snprintf(path, sizeof(path), "%s/timeline.csv", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u,", &cl) == 1 && cl == cell)
			(*r_tl_rows)++;
	fclose(f);
}

/* Keep the header and the first keep rows of dir/cells.csv. */
static void truncate_cells(const char *dir, int keep)
{
	char path[300], buf[65536], *p;
	int lines = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	mmb_slurp(path, buf, sizeof(buf));
	for (p = buf; *p && lines < keep + 1; p++)
		lines += *p == '\n';
	*p = 0;
	f = fopen(path, "w");
	fputs(buf, f);
	fclose(f);
}

Test(resume, skips_exactly_the_finished_cells)
{
	char dir[256], path[300], err[256], meta[65536];
	struct mmb_result *before, *after;
	struct mmb_cmd c;
	int n;

	mmb_tmpname(dir, sizeof(dir), "resume");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc,glibc:tcache_count=0", "-w", "churn",
		    "-r", "2", "--ops", "20000", "--sample-interval", "5000ops", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	cr_assert_eq(mmb_csv_read(path, &before, err, sizeof(err)), 4, "%s", err);

	/* Cells 3 and 4 "did not finish": their series rows stay behind. */
	truncate_cells(dir, 2);
	mmb_run_cmd(&c, "run", "--resume", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	n = mmb_csv_read(path, &after, err, sizeof(err));
	cr_assert_eq(n, 4, "%s", err);
	for (int i = 0; i < 2; i++)
		cr_expect_eq(after[i].m[MMB_M_wall_ns], before[i].m[MMB_M_wall_ns],
			     "finished cell %d was run again", i + 1);
	for (int i = 0; i < 4; i++) {
		double count;
		unsigned tl_rows;

		cr_expect_eq(after[i].cell, (unsigned)i + 1);
		cr_expect_str_eq(after[i].status, "ok");
		cr_expect_eq(after[i].seed, before[i].seed, "cell %d: seed from the original plan", i + 1);
		series_counts(dir, (unsigned)i + 1, "alloc", &count, &tl_rows);
		cr_expect_eq(count, after[i].m[MMB_M_allocs],
			     "cell %d: latency.csv holds %.0f timed allocs, cells.csv %.0f allocs", i + 1,
			     count, after[i].m[MMB_M_allocs]);
		cr_expect_gt(tl_rows, 0u);
	}
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, meta, sizeof(meta));
	cr_expect(strstr(meta, "\"resumed\": true") && strstr(meta, "\"cells_done\": 4") &&
		  strstr(meta, "\"state\": \"complete\""), "%s", meta);
	cr_expect(strstr(meta, "\"command_line\": [\"mmbench\", \"run\", \"-q\", \"-o\""), "%s", meta);
	free(before);
	free(after);

	/* Nothing left to run: nothing changes, meta.json included. */
	mmb_run_cmd(&c, "run", "--resume", dir, NULL);
	cr_expect_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "nothing to resume: all 4 cells"), "%s", c.out);
	{
		static char again[65536];

		mmb_slurp(path, again, sizeof(again));
		cr_expect_str_eq(again, meta, "a complete run's meta.json was rewritten");
	}

	/* Bad uses. */
	mmb_run_cmd(&c, "run", "--resume", dir, "-r", "3", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "takes no other option"), "%s", c.err);
	mmb_rm_rf(dir);
	mmb_run_cmd(&c, "run", "--resume", dir, NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "is not a results folder"), "%s", c.err);
}

/* A "key": "value" string of meta.json text, into buf. */
static void meta_str(const char *meta, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(meta, pat);
	buf[0] = 0;
	if (p)
		snprintf(buf, len, "%.*s", (int)strcspn(p + strlen(pat), ",\n"), p + strlen(pat));
}

/*
 * A resumed run keeps the start time and the clock calibration of the cells
 * it keeps; meta.json is read with the results reader's checks (a truncated
 * file, schema_version 99: refused, the file untouched); a folder another
 * mmbench holds (its lock) is refused, naming the holder.
 */
Test(resume, keeps_start_and_calibration_checks_meta_and_lock)
{
	static char meta[65536], now[65536];
	char dir[256], path[300], t0[64], t1[64], hz0[64], hz1[64], lock[300], cmd[900];
	struct mmb_cmd c;
	int fd;

	mmb_tmpname(dir, sizeof(dir), "resumekeep");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "-r", "3", "--ops",
		    "20000", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(lock, sizeof(lock), "%s/mmbench.lock", dir);
	cr_expect(!mmb_exists(lock), "the lock file is left after the run");
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, meta, sizeof(meta));
	meta_str(meta, "start_time", t0, sizeof(t0));
	meta_str(meta, "tsc_hz", hz0, sizeof(hz0));
	truncate_cells(dir, 1);
	sleep(1);	/* a rewritten start time would differ */
	mmb_run_cmd(&c, "run", "--resume", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	mmb_slurp(path, now, sizeof(now));
	meta_str(now, "start_time", t1, sizeof(t1));
	meta_str(now, "tsc_hz", hz1, sizeof(hz1));
	cr_expect(t0[0] && !strcmp(t0, t1), "start_time %s became %s", t0, t1);
	cr_expect(hz0[0] && !strcmp(hz0, hz1), "tsc_hz %s became %s", hz0, hz1);
	cr_expect(strstr(now, "\"resumed\": true"), "%s", now);

	/* the same reader as compare/plot/report: truncated, or another schema */
	truncate_cells(dir, 1);
	{
		FILE *f = fopen(path, "w");

		fwrite(now, 1, strlen(now) / 2, f);
		fclose(f);
	}
	mmb_slurp(path, meta, sizeof(meta));
	mmb_run_cmd(&c, "run", "--resume", dir, NULL);
	cr_expect_eq(c.status, 2, "a truncated meta.json was accepted: %s", c.out);
	cr_expect(strstr(c.err, "malformed meta.json"), "%s", c.err);
	mmb_slurp(path, now, sizeof(now));
	cr_expect_str_eq(now, meta, "the refused meta.json was rewritten");
	mmb_rm_rf(dir);

	mmb_tmpname(dir, sizeof(dir), "resume99");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "-r", "2", "--ops",
		    "20000", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	snprintf(cmd, sizeof(cmd), "sed -i 's/\"schema_version\": [0-9]*/\"schema_version\": 99/' '%s'",
		 path);
	cr_assert_eq(system(cmd), 0);
	truncate_cells(dir, 1);
	mmb_slurp(path, meta, sizeof(meta));
	mmb_run_cmd(&c, "run", "--resume", dir, NULL);
	cr_expect_eq(c.status, 2, "schema_version 99 was accepted");
	cr_expect(strstr(c.err, "results schema version 99"), "%s", c.err);
	mmb_slurp(path, now, sizeof(now));
	cr_expect_str_eq(now, meta, "the refused meta.json was rewritten");

	/* a folder another mmbench holds: refused, naming its pid */
	snprintf(cmd, sizeof(cmd), "sed -i 's/\"schema_version\": 99/\"schema_version\": %d/' '%s'",
		 MMB_SCHEMA_VERSION, path);
	cr_assert_eq(system(cmd), 0);
	snprintf(lock, sizeof(lock), "%s/mmbench.lock", dir);
	fd = open(lock, O_RDWR | O_CREAT, 0644);
	cr_assert(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
	cr_assert_eq(write(fd, "4242\n", 5), 5);
	mmb_run_cmd(&c, "run", "--resume", dir, NULL);
	cr_expect_eq(c.status, 2, "a held folder was resumed");
	cr_expect(strstr(c.err, "another mmbench (pid 4242) is running in this folder"), "%s", c.err);
	close(fd);	/* released: now it runs */
	mmb_run_cmd(&c, "run", "--resume", dir, NULL);
	cr_expect_eq(c.status, 0, "%s", c.err);
	cr_expect(!mmb_exists(lock), "the lock file is left after the resume");
	mmb_rm_rf(dir);
}

Test(resume, after_ctrl_c)
{
	char dir[256], path[300], err[256];
	struct mmb_result *r;
	struct mmb_cmd c;
	int st, n;
	pid_t pid;

	mmb_tmpname(dir, sizeof(dir), "intr");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl(MMB_BIN, MMB_BIN, "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "-r", "4",
		      "--duration", "0.15", (char *)NULL);
		_exit(127);
	}
	usleep(400 * 1000);
	kill(pid, SIGINT);
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st));
	if (WEXITSTATUS(st) == 0)
		cr_skip_test("the run finished before the signal (slow machine?)");
	cr_assert_eq(WEXITSTATUS(st), 130);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, &r, err, sizeof(err));
	cr_assert(n >= 0 && n < 4, "%d cells after Ctrl-C: %s", n, err);
	cr_log_info("%d of 4 cells before the signal", n);
	free(r);
	mmb_run_cmd(&c, "run", "--resume", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect_eq(mmb_csv_read(path, &r, err, sizeof(err)), 4, "%s", err);
	for (int i = 0; i < 4; i++)
		cr_expect_str_eq(r[i].status, "ok", "cell %d", i + 1);
	free(r);
	mmb_rm_rf(dir);
}

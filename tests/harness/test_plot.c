/*
 * test_plot.c — `mmbench plot`: every figure kind drawn from a hand-made
 * results folder as a valid, non-blank PNG and an SVG; a small real run
 * plots; absent inputs are skipped with a note; bad input exits 2; a
 * failing gnuplot leaves no image.
 */
#include <criterion/criterion.h>

#include "../testutil.h"
#include "fixture.h"

/* 5 repetitions x 2 thread counts x 2 configurations. */
static int fx_default(struct fx_cell *c)
{
	int n = 0;

	for (int r = 0; r < 5; r++)
		for (unsigned t = 1; t <= 2; t++) {
			c[n++] = (struct fx_cell){ "glibc", "", NULL, t, 1e7 * t * (1 + 0.01 * r),
						   100 + r, 1 << 22, NULL };
			c[n++] = (struct fx_cell){ "glibc", "tcache_count=0", NULL, t,
						   8e6 * t * (1 + 0.01 * r), 150 + r, 3 << 21, NULL };
		}
	return n;
}

static void expect_figure(const char *dir, const char *name)
{
	char path[512];
	int colours;

	snprintf(path, sizeof(path), "%s/plots/%s.png", dir, name);
	cr_expect_eq(fx_png(path, &colours), 1000u, "%s: not a 1000-wide PNG", path);
	cr_expect_eq(colours, 2, "%s is blank", path);
	snprintf(path, sizeof(path), "%s/plots/%s.svg", dir, name);
	cr_expect(fx_is_svg(path), "%s: not an SVG document", path);
}

Test(plot, every_figure_kind_from_fixture)
{
	static const char *const figs[] = {
		"latency-alloc-churn", "latency-free-churn", "throughput-churn", "memory-churn",
		"unusable-churn", "faults-time-churn", "faults-region-churn", "hwcounters-churn",
		"overhead",
	};
	struct fx_cell c[32];
	char dir[256], path[512], buf[65536];
	struct mmb_cmd cmd;

	mmb_tmpname(dir, sizeof(dir), "plot");
	fx_meta(dir, MMB_SCHEMA_VERSION);
	fx_cells(dir, c, fx_default(c), 1);
	mmb_run_cmd(&cmd, "plot", dir, NULL);
	cr_assert_eq(cmd.status, 0, "%s%s", cmd.out, cmd.err);
	cr_expect(strstr(cmd.out, "9 figures in"), "%s", cmd.out);
	for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++)
		expect_figure(dir, figs[i]);
	/* legends name configurations; axes carry units */
	snprintf(path, sizeof(path), "%s/plots/latency-alloc-churn.svg", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "glibc:tcache_count=0 (2 thr)"), "legend missing");
	cr_expect(strstr(buf, "latency [ns]"), "axis label missing");
	/* hw: cycles measured, cache-misses "n/a" everywhere: one bar group */
	snprintf(path, sizeof(path), "%s/plots/data/hwcounters-churn.dat", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "\"cycles\""), "%s", buf);
	cr_expect(!strstr(buf, "cache-misses"), "an all-n/a event was drawn: %s", buf);
	/* throughput medians: 1 thread, glibc: 1e7 * 1.02 */
	snprintf(path, sizeof(path), "%s/plots/data/throughput-churn.dat", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "\"glibc\" \"ops_per_sec\"\n1 10200000 10000000 10400000\n"), "%s", buf);

	/* one colour per configuration in every figure: glibc #1f77b4, tcache_count=0 #d62728
	 * (common.gp's palette in the order of the run's configurations) */
	for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		if (!strncmp(figs[i], "faults-region", 13) || !strncmp(figs[i], "hwcounters", 10))
			continue;	/* the fixture's bars there are of one size; checked below */
		snprintf(path, sizeof(path), "%s/plots/%s.svg", dir, figs[i]);
		mmb_slurp(path, buf, sizeof(buf));
		cr_expect(strstr(buf, "rgb( 31, 119, 180)") && strstr(buf, "rgb(214,  39,  40)"),
			  "%s: not the configurations' colours", figs[i]);
	}
	/* a column not measured by any cell gets no legend entry */
	{
		char cmdline[1200];

		snprintf(cmdline, sizeof(cmdline), "awk -F, -v OFS=, 'NR > 1 { $15 = \"\" } 1' "
			 "'%s/timeline.csv' > '%s/tl' && mv '%s/tl' '%s/timeline.csv'", dir, dir, dir, dir);
		cr_assert_eq(system(cmdline), 0);
		mmb_run_cmd(&cmd, "plot", dir, NULL);
		cr_assert_eq(cmd.status, 0, "%s%s", cmd.out, cmd.err);
		snprintf(path, sizeof(path), "%s/plots/unusable-churn.svg", dir);
		mmb_slurp(path, buf, sizeof(buf));
		cr_expect(strstr(buf, "glibc (1 thr) order 3"), "%s", path);
		cr_expect(!strstr(buf, "order 9") && !strstr(buf, "not measured"),
			  "a legend entry for what was not measured: %s", path);
	}

	/* replotted without timeline.csv: no memory figure survives from before */
	snprintf(path, sizeof(path), "%s/timeline.csv", dir);
	unlink(path);
	fx_write(dir, "plots/mine.png", "the user's file");
	mmb_run_cmd(&cmd, "plot", dir, NULL);
	cr_assert_eq(cmd.status, 0, "%s%s", cmd.out, cmd.err);
	snprintf(path, sizeof(path), "%s/plots/memory-churn.png", dir);
	cr_expect(!mmb_exists(path), "a stale figure survived");
	snprintf(path, sizeof(path), "%s/plots/mine.png", dir);
	cr_expect(mmb_exists(path), "a file plot does not own was removed");
	mmb_rm_rf(dir);
}

Test(plot, absent_side_files_are_skipped_with_notes)
{
	struct fx_cell c[32];
	char dir[256], path[512];
	struct mmb_cmd cmd;

	mmb_tmpname(dir, sizeof(dir), "plot");
	fx_meta(dir, MMB_SCHEMA_VERSION);
	fx_cells(dir, c, fx_default(c), 0);
	fx_write(dir, "faults.csv", "");	/* present but empty */
	mmb_run_cmd(&cmd, "plot", dir, NULL);
	cr_assert_eq(cmd.status, 0, "%s%s", cmd.out, cmd.err);
	cr_expect(strstr(cmd.out, "memory: skipped, not measured (timeline.csv absent)"), "%s", cmd.out);
	cr_expect(strstr(cmd.out, "faults over time: skipped, not measured (faults.csv"), "%s",
		  cmd.out);
	snprintf(path, sizeof(path), "%s/plots/memory-churn.png", dir);
	cr_expect(!mmb_exists(path), "a figure drawn without its data");
	/* latency falls back to the cells.csv percentile columns */
	expect_figure(dir, "latency-alloc-churn");
	expect_figure(dir, "throughput-churn");
	mmb_rm_rf(dir);
}

/*
 * A latency histogram of thousands of buckets (an HDR histogram over a long
 * tail) draws as a thinned curve: a few hundred points per series, its last
 * (the maximum) kept, so figures and report.html stay small.
 */
Test(plot, latency_curve_is_thinned)
{
	struct fx_cell c[32];
	char dir[256], path[512], line[256];
	struct mmb_cmd cmd;
	FILE *f;
	int rows = 0, last_seen = 0;

	mmb_tmpname(dir, sizeof(dir), "plotthin");
	fx_meta(dir, MMB_SCHEMA_VERSION);
	fx_cells(dir, c, fx_default(c), 1);
	snprintf(path, sizeof(path), "%s/latency.csv", dir);
	f = fopen(path, "a");
	cr_assert(f);
	for (int b = 0; b < 6000; b++)	/* cell 1: buckets 1000..7000 ns, 1 ns wide */
		fprintf(f, "1,alloc,%d,%d,%d\n", 1000 + b, 1001 + b, 1 + b % 7);
	fclose(f);
	mmb_run_cmd(&cmd, "plot", dir, NULL);
	cr_assert_eq(cmd.status, 0, "%s%s", cmd.out, cmd.err);
	snprintf(path, sizeof(path), "%s/plots/data/latency-alloc-churn.dat", dir);
	f = fopen(path, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f))
		if (line[0] != '"' && line[0] != '\n') {
			rows++;
			last_seen |= strstr(line, " 7000\n") != NULL;
		}
	fclose(f);
	cr_expect_lt(rows, 600, "%d points for 6000 buckets", rows);
	cr_expect(last_seen, "the maximum bucket was dropped");
	mmb_rm_rf(dir);
}

/* Only glibc's first cell has fault bins: the other series has no bars, not an error. */
Test(plot, bar_series_without_data_is_left_out)
{
	struct fx_cell c[32];
	char dir[256], path[512], buf[4096];
	struct mmb_cmd cmd;

	mmb_tmpname(dir, sizeof(dir), "plotbar");
	fx_meta(dir, MMB_SCHEMA_VERSION);
	fx_cells(dir, c, fx_default(c), 0);
	fx_write(dir, "faults.csv", "cell,region,phase,t_ns,faults\n1,bump,timed,0,7\n"
				    "1,bump,timed,100000,5\n");
	mmb_run_cmd(&cmd, "plot", dir, NULL);
	cr_assert_eq(cmd.status, 0, "%s%s", cmd.out, cmd.err);
	expect_figure(dir, "faults-region-churn");
	snprintf(path, sizeof(path), "%s/plots/data/faults-region-churn.dat", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect_str_eq(buf, "\"x\" \"glibc (1 thr)\" \"-\" \"-\"\n\"bump/timed\" 12 12 12\n");
	mmb_rm_rf(dir);
}

Test(plot, small_real_run)
{
	char dir[256], path[512], buf[256];
	struct mmb_cmd cmd;

	mmb_tmpname(dir, sizeof(dir), "plotrun");
	mmb_run_cmd(&cmd, "run", "-q", "-o", dir, "-a", "glibc,glibc:tcache_count=0,bump", "-w",
		    "churn:size=32", "-t", "1,2", "-r", "2", "--ops", "5000", "--faults", "auto", NULL);
	cr_assert_eq(cmd.status, 0, "%s", cmd.err);
	mmb_run_cmd(&cmd, "plot", dir, NULL);
	cr_assert_eq(cmd.status, 0, "%s%s", cmd.out, cmd.err);
	expect_figure(dir, "overhead");
	/* where userfaultfd works here, the cells are a fault census (labelled
	 * so) and bump's faults are counted and drawn */
	snprintf(path, sizeof(path), "%s/faults.csv", dir);
	mmb_slurp(path, buf, sizeof(buf));
	if (strchr(buf, '\n') && strchr(buf, '\n')[1]) {
		expect_figure(dir, "throughput-churn__fault_census_");
		expect_figure(dir, "faults-time-churn__fault_census_");
		expect_figure(dir, "faults-region-churn__fault_census_");
	} else {
		expect_figure(dir, "throughput-churn");
		cr_log_info("userfaultfd unavailable: no fault figures to check");
	}
	mmb_rm_rf(dir);
}

/* Internal fragmentation by configuration, from allocators that report
 * usable bytes: SLAB rounds 40 bytes up to 64, SLOB to 40 (2-byte units). */
Test(plot, internal_frag_figure)
{
	char dir[256], path[512], buf[4096];
	struct mmb_cmd cmd;

	mmb_tmpname(dir, sizeof(dir), "plotfrag");
	mmb_run_cmd(&cmd, "run", "-q", "-o", dir, "-a", "kmalloc-slab,kmalloc-slob", "-w",
		    "sizes:min=40,max=40,live=2000", "-t", "1", "-r", "1", "--duration", "0.2",
		    "--accounting", "exact", NULL);	/* internal_frag needs exact accounting */
	cr_assert_eq(cmd.status, 0, "%s", cmd.err);
	mmb_run_cmd(&cmd, "plot", dir, NULL);
	cr_assert_eq(cmd.status, 0, "%s%s", cmd.out, cmd.err);
	expect_figure(dir, "internal-frag");
	snprintf(path, sizeof(path), "%s/plots/data/internal-frag.dat", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "\"kmalloc-slab\"") && strstr(buf, "\"kmalloc-slob\""), "%s", buf);
	mmb_rm_rf(dir);
}

Test(plot, bad_input_exits_2)
{
	struct fx_cell c[32];
	char dir[256], msg[300];
	struct mmb_cmd cmd;

	mmb_run_cmd(&cmd, "plot", "/nonexistent/results", NULL);
	cr_expect_eq(cmd.status, 2);
	cr_expect(strstr(cmd.err, "is not a results folder (no such folder)"), "%s", cmd.err);

	mmb_tmpname(dir, sizeof(dir), "plotbad");
	mkdir(dir, 0755);
	mmb_run_cmd(&cmd, "plot", dir, NULL);
	cr_expect_eq(cmd.status, 2);
	cr_expect(strstr(cmd.err, "is not a results folder (no meta.json)"), "%s", cmd.err);

	fx_meta(dir, 99);
	fx_cells(dir, c, fx_default(c), 0);
	mmb_run_cmd(&cmd, "plot", dir, NULL);
	cr_expect_eq(cmd.status, 2);
	snprintf(msg, sizeof(msg), "results schema version 99, this mmbench reads version %d",
		 MMB_SCHEMA_VERSION);
	cr_expect(strstr(cmd.err, msg), "%s", cmd.err);
	cr_expect_eq(strchr(cmd.err, '\n'), strrchr(cmd.err, '\n'), "more than one line: %s", cmd.err);
	snprintf(msg, sizeof(msg), "%s/plots", dir);
	cr_expect(!mmb_exists(msg), "plots folder made for bad input");
	mmb_rm_rf(dir);
}

Test(plot, missing_gnuplot_exits_2)
{
	struct fx_cell c[32];
	char dir[256];
	struct mmb_cmd cmd;

	mmb_tmpname(dir, sizeof(dir), "plotgp");
	fx_meta(dir, MMB_SCHEMA_VERSION);
	fx_cells(dir, c, fx_default(c), 0);
	char *path = strdup(getenv("PATH"));

	setenv("PATH", "/nonexistent", 1);	/* this test's own process */
	mmb_run_cmd(&cmd, "plot", dir, NULL);
	setenv("PATH", path, 1);
	free(path);
	cr_expect_eq(cmd.status, 2);
	cr_expect(strstr(cmd.err, "gnuplot not found"), "%s", cmd.err);
	mmb_rm_rf(dir);
}

/* A script gnuplot rejects: exit 1, an error note, and no image (not even empty). */
Test(plot, failed_figure_leaves_no_image)
{
	struct fx_cell c[32];
	char dir[256], lib[256], cmdline[700];
	struct mmb_cmd cmd;

	mmb_tmpname(dir, sizeof(dir), "plotfail");
	mmb_tmpname(lib, sizeof(lib), "plotlib");
	fx_meta(dir, MMB_SCHEMA_VERSION);
	fx_cells(dir, c, fx_default(c), 0);
	snprintf(cmdline, sizeof(cmdline), "cp -r '%s/plots' '%s'", MMB_SRCDIR, lib);
	cr_assert_eq(system(cmdline), 0);
	fx_write(lib, "throughput.gp", "load lib.'/common.gp'\nplot data using 1:nosuchvar\n");
	mmb_run_cmd(&cmd, "plot", "--scripts", lib, dir, NULL);
	cr_expect_eq(cmd.status, 1, "%s%s", cmd.out, cmd.err);
	cr_expect(strstr(cmd.out, "throughput-churn.png: gnuplot failed"), "%s", cmd.out);
	cr_expect(strstr(cmd.err, "some figures failed"), "%s", cmd.err);
	snprintf(cmdline, sizeof(cmdline), "%s/plots/throughput-churn.png", dir);
	cr_expect(!mmb_exists(cmdline), "failed figure left %s", cmdline);
	snprintf(cmdline, sizeof(cmdline), "ls -A '%s/plots' | grep -q tmp", dir);
	cr_expect_neq(system(cmdline), 0, "temporary file left behind");
	expect_figure(dir, "overhead");	/* the other figures are still drawn */
	mmb_rm_rf(dir);
	mmb_rm_rf(lib);
}

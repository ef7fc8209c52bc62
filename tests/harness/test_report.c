/*
 * test_report.c — `mmbench report`: report.md and a self-contained
 * report.html, findings first (configurations ranked against a baseline,
 * with change, interval and '~'), then figures by workload, key figures,
 * unfinished cells, the run and the machine as readable tables; plot notes
 * in plots/plot.log, not on the terminal; the page renders in headless
 * Chromium with the findings table in the first screen.
 */
#include <criterion/criterion.h>

#include "../testutil.h"
#include "fixture.h"

static void fx_report_run(const char *dir)
{
	struct fx_cell c[12];
	int n = 0;

	for (int r = 0; r < 5; r++) {
		c[n++] = (struct fx_cell){ "glibc", "", NULL, 1, 1e7 + r, 100, 1 << 22, NULL };
		c[n++] = (struct fx_cell){ "glibc", "tcache_count=0", NULL, 1, 8e6 + r, 150, 3 << 21,
					   NULL };
	}
	c[n++] = (struct fx_cell){ "glibc", "tcache_count=0", NULL, 1, 0, 0, 0, "crashed" };
	fx_meta(dir, MMB_SCHEMA_VERSION);
	fx_cells(dir, c, n, 1);
}

Test(report, markdown_and_self_contained_html)
{
	static char buf[1 << 20];
	char dir[256], path[512];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "report");
	fx_report_run(dir);
	mmb_run_cmd(&c, "report", dir, NULL);
	cr_assert_eq(c.status, 0, "%s%s", c.out, c.err);

	snprintf(path, sizeof(path), "%s/report.md", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "| cpu_model | Fixture CPU <1> & \"2\" |"), "%s", buf);
	cr_expect(strstr(buf, "| command_line | mmbench run -a glibc -r 5 |"), "%s", buf);
	cr_expect(strstr(buf, "| topology.packages | 1 |") && strstr(buf, "| topology.cores | 0, 1 |"),
		  "a nested meta.json object is not a readable table: %s", buf);
	cr_expect(!strstr(buf, "{\""), "raw JSON in the report: %s", buf);
	/* key figures in human units: medians of 1e7 + {0..4}, p50 = 25, p99 = 100 */
	cr_expect(strstr(buf, "| glibc | 1 | 5/5 | 10.0 M ops/s | 25.0 ns | 100 ns |"), "%s", buf);
	cr_expect(strstr(buf, "| glibc:tcache_count=0 | 1 | 5/6 |"), "%s", buf);
	cr_expect(strstr(buf, "| 11 | glibc:tcache_count=0 | churn | 1 | 6 | crashed |"), "%s", buf);
	cr_expect(strstr(buf, "![throughput-churn](plots/throughput-churn.svg)"), "%s", buf);
	/* findings first, then figures (by workload), key figures, failures, run, machine */
	{
		const char *order[] = { "## Findings", "### churn", "## Figures", "### Workload churn",
					"![latency-alloc-churn]", "### All workloads", "![overhead]",
					"## Key figures", "## Cells that did not finish", "## Run",
					"## Machine" };
		const char *at = buf;

		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			const char *p = strstr(at, order[i]);

			cr_expect(p, "'%s' missing or out of order: %s", order[i], buf);
			at = p ? p : at;
		}
	}
	/* jemalloc-malloc did not run: glibc is the baseline; tcache_count=0 is 20% slower
	 * ({8e6 + r} against {1e7 + r}: p = 2/252, interval [-20.0%, -20.0%]) */
	cr_expect(strstr(buf, "jemalloc-malloc did not finish here; against glibc."), "%s", buf);
	cr_expect(strstr(buf, "- Highest throughput: glibc, 10.0 M ops/s (the baseline)"), "%s", buf);
	cr_expect(strstr(buf, "| 1 | glibc | 5/5 | **10.0 M ops/s** (baseline) |"), "%s", buf);
	cr_expect(strstr(buf, "| 2 | glibc:tcache_count=0 | 5/6 | 8.00 M ops/s (-20.0% [-20.0%, "
			 "-20.0%]) | 300 ns (+50.0% [+50.0%, +50.0%]) |"), "%s", buf);
	cr_expect(strstr(buf, "overhead ratio (lower is better)"), "%s", buf);
	cr_expect(!strstr(c.out, "plot: ") && !strstr(c.out, ".svg"),
		  "plot notes on the terminal: %s", c.out);
	cr_expect(strstr(c.out, "/plots/plot.log)\n"), "%s", c.out);
	{
		size_t n = strlen(c.out);

		cr_expect(n > 12 && !strcmp(c.out + n - 12, "report.html\n"),
			  "the last line is not report.html's path: %s", c.out);
	}
	snprintf(path, sizeof(path), "%s/plots/plot.log", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "/plots/latency-alloc-churn.svg\n"), "plot.log: %s", buf);
	/* one thread count: throughput is a bar chart (bars.gp's header row) */
	snprintf(path, sizeof(path), "%s/plots/data/throughput-churn.dat", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(!strncmp(buf, "\"x\" \"glibc\" \"-\" \"-\" \"glibc:tcache_count=0\"", 40),
		  "not bars: %s", buf);

	/* --baseline: the other way round */
	mmb_run_cmd(&c, "report", "--baseline", "glibc:tcache_count=0", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/report.md", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "| 1 | glibc | 5/5 | **10.0 M ops/s** (+25.0% [+25.0%, +25.0%]) |"),
		  "%s", buf);
	cr_expect(!strstr(buf, "did not finish here"), "%s", buf);
	mmb_run_cmd(&c, "report", "--baseline", "nosuch", dir, NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "--baseline 'nosuch' is not in") &&
		  strstr(c.err, "(configurations: glibc glibc:tcache_count=0)"), "%s", c.err);

	snprintf(path, sizeof(path), "%s/report.html", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(!strncmp(buf, "<!DOCTYPE html>", 15));
	cr_expect(strstr(buf, "Fixture CPU &lt;1&gt; &amp; &quot;2&quot;"), "not escaped");
	cr_expect(strstr(buf, "<figure><svg"), "figures are not inline SVG");
	cr_expect(!strstr(buf, "<?xml"), "an XML prolog inside the page");
	cr_expect(!strstr(buf, "<script") && !strstr(buf, "src=") && !strstr(buf, "href=\"http") &&
		  !strstr(buf, "url("), "the page loads something from outside");
	cr_expect(strstr(buf, "</body></html>"));
	mmb_rm_rf(dir);
}

Test(report, without_gnuplot_still_writes_tables)
{
	static char buf[1 << 18];
	char dir[256], path[512], *old = strdup(getenv("PATH"));
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "reportnogp");
	fx_report_run(dir);
	setenv("PATH", "/nonexistent", 1);
	mmb_run_cmd(&c, "report", dir, NULL);
	setenv("PATH", old, 1);
	free(old);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/report.md", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "Figures omitted: gnuplot is not installed"), "%s", buf);
	cr_expect(strstr(buf, "| glibc | 1 | 5/5 |"), "%s", buf);
	cr_expect(strstr(buf, "## Findings"), "%s", buf);
	mmb_run_cmd(&c, "report", "/nonexistent", NULL);
	cr_expect_eq(c.status, 2);
	mmb_rm_rf(dir);
}

/*
 * The page renders, and the findings table (its header's own background,
 * #d8e6f8) is in the first screen of a 1100 x 900 window, above the fold.
 */
Test(report, renders_in_headless_chromium)
{
	char dir[256], cmd[1400], shot[300];
	struct mmb_cmd c;
	int colours, y;

	if (system("command -v chromium >/dev/null 2>&1") != 0)
		cr_skip_test("chromium is not installed (scripts/install-deps.sh installs it)");
	mmb_tmpname(dir, sizeof(dir), "reportchrome");
	fx_report_run(dir);
	mmb_run_cmd(&c, "report", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(shot, sizeof(shot), "%s/shot.png", dir);
	snprintf(cmd, sizeof(cmd),
		 "timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
		 "--user-data-dir='%s/chrome' --screenshot='%s' --window-size=1100,900 "
		 "'file://%s/report.html' >/dev/null 2>&1", dir, shot, dir);
	cr_assert_eq(system(cmd), 0, "chromium failed: %s", cmd);
	cr_expect_eq(fx_png(shot, &colours), 1100u, "no screenshot");
	cr_expect_eq(colours, 2, "the rendered page is blank");
	y = fx_png_find(shot, 0xd8e6f8);
	cr_expect(y >= 0, "the findings table is not in the first 900 pixels (%s kept)", shot);
	if (y >= 0)
		mmb_rm_rf(dir);
}

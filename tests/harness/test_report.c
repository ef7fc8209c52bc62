/*
 * test_report.c — `mmbench report`: report.md and a self-contained
 * report.html with the machine, configuration, key figures, unfinished
 * cells and inline figures; the page renders in headless Chromium to a
 * screenshot that is not one colour.
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
	cr_expect(strstr(buf, "| topology | {\"packages\": 1, \"cores\": [0, 1]} |"),
		  "a meta.json key the report does not know is dropped: %s", buf);
	/* key figures: medians of 1e7 + {0..4} and of p99 = 100 */
	cr_expect(strstr(buf, "| glibc | 1 | 5/5 | 10 M | 25 | 100 |"), "%s", buf);
	cr_expect(strstr(buf, "| glibc:tcache_count=0 | 1 | 5/6 |"), "%s", buf);
	cr_expect(strstr(buf, "| 11 | glibc:tcache_count=0 | churn | 1 | 6 | crashed |"), "%s", buf);
	cr_expect(strstr(buf, "![throughput-churn](plots/throughput-churn.svg)"), "%s", buf);

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
	mmb_run_cmd(&c, "report", "/nonexistent", NULL);
	cr_expect_eq(c.status, 2);
	mmb_rm_rf(dir);
}

Test(report, renders_in_headless_chromium)
{
	char dir[256], cmd[1400], shot[300];
	struct mmb_cmd c;
	int colours;

	if (system("command -v chromium >/dev/null 2>&1") != 0)
		cr_skip_test("chromium is not installed (scripts/install-deps.sh installs it)");
	mmb_tmpname(dir, sizeof(dir), "reportchrome");
	fx_report_run(dir);
	mmb_run_cmd(&c, "report", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(shot, sizeof(shot), "%s/shot.png", dir);
	snprintf(cmd, sizeof(cmd),
		 "timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
		 "--user-data-dir='%s/chrome' --screenshot='%s' --window-size=1100,1500 "
		 "'file://%s/report.html' >/dev/null 2>&1", dir, shot, dir);
	cr_assert_eq(system(cmd), 0, "chromium failed: %s", cmd);
	cr_expect_eq(fx_png(shot, &colours), 1100u, "no screenshot");
	cr_expect_eq(colours, 2, "the rendered page is blank");
	mmb_rm_rf(dir);
}

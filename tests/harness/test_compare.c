/*
 * test_compare.c — `mmbench compare` and `export` on hand-made runs whose
 * answers are computed by hand:
 *
 *   glibc:           A = {100..104} e5 ops/s, B = {110..114} e5: U = 0,
 *                    p = 2/252 = 0.00794, medians 102e5 -> 112e5, +9.8039%,
 *                    95% CI from the 3rd and 23rd of the 25 ratios b/a:
 *                    [110/103, 114/101] - 1 = [+6.7961%, +12.8713%]
 *   tcache_count=0:  A = {100,102,..,108} e5, B = {101,103,..,109} e5
 *                    (interleaved): p = 174/252 = 0.690 -> "~", CI [-4.6296%, +6.8627%]
 *   geomean:         sqrt(112*105 / (102*104)) - 1 = +5.2899%
 */
#include <criterion/criterion.h>

#include "../testutil.h"
#include "fixture.h"

static void fx_run(const char *dir, const double *glibc, const double *tc)
{
	struct fx_cell c[10];

	for (int r = 0; r < 5; r++) {
		c[2 * r] = (struct fx_cell){ "glibc", "", NULL, 1, glibc[r] * 1e5, 100, 1 << 22, NULL };
		c[2 * r + 1] = (struct fx_cell){ "glibc", "tcache_count=0", NULL, 1, tc[r] * 1e5, 150,
						 1 << 22, NULL };
	}
	fx_meta(dir, MMB_SCHEMA_VERSION);
	fx_cells(dir, c, 10, 0);
}

static void make_ab(char *a, char *b, size_t len)
{
	static const double ga[] = { 100, 101, 102, 103, 104 }, gb[] = { 110, 111, 112, 113, 114 };
	static const double ta[] = { 100, 102, 104, 106, 108 }, tb[] = { 101, 103, 105, 107, 109 };

	mmb_tmpname(a, len, "cmpA");
	mmb_tmpname(b, len, "cmpB");
	fx_run(a, ga, ta);
	fx_run(b, gb, tb);
}

/* The CSV row of a config and metric, parsed. */
static int csv_row(const char *out, const char *prefix, double *v, int nv)
{
	const char *p = strstr(out, prefix);
	int n = 0;

	if (!p)
		return 0;
	p += strlen(prefix);
	while (n < nv && *p && *p != '\n') {
		v[n++] = strtod(p, (char **)&p);
		if (*p == ',')
			p++;
	}
	return n;
}

Test(compare, medians_intervals_pvalues)
{
	char a[256], b[256];
	struct mmb_cmd c;
	double v[9];

	make_ab(a, b, sizeof(a));
	mmb_run_cmd(&c, "compare", a, b, "--format", "csv", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	/* n_a,n_b,median_a,median_b,change_pct,ci_lo_pct,ci_hi_pct,p_value,significant */
	cr_assert_eq(csv_row(c.out, "ops_per_sec,glibc,churn,1,,", v, 9), 9, "%s", c.out);
	cr_expect_eq(v[0], 5.0);
	cr_expect_eq(v[2], 102e5);
	cr_expect_eq(v[3], 112e5);
	cr_expect_float_eq(v[4], 9.8039, 1e-3);
	cr_expect_float_eq(v[5], 6.7961, 1e-3);
	cr_expect_float_eq(v[6], 12.8713, 1e-3);
	cr_expect_float_eq(v[7], 2.0 / 252, 1e-5);
	cr_expect_eq(v[8], 1.0);
	cr_assert_eq(csv_row(c.out, "ops_per_sec,glibc:tcache_count=0,churn,1,,", v, 9), 9, "%s",
		     c.out);
	cr_expect_float_eq(v[4], 0.9615, 1e-3);
	cr_expect_float_eq(v[5], -4.6296, 1e-3);
	cr_expect_float_eq(v[6], 6.8627, 1e-3);
	cr_expect_float_eq(v[7], 174.0 / 252, 1e-5);
	cr_expect_eq(v[8], 0.0, "an overlapping change must not be significant");
	cr_assert_geq(csv_row(c.out, "ops_per_sec,geomean,,,,", v, 5), 5, "%s", c.out);
	cr_expect_float_eq(v[4], 5.2899, 1e-3);

	mmb_run_cmd(&c, "compare", a, b, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "ops_per_sec (higher is better)"), "%s", c.out);
	cr_expect(strstr(c.out, "+9.80%"), "%s", c.out);
	cr_expect(strstr(c.out, "[+6.80%, +12.9%]"), "%s", c.out);
	cr_expect(strstr(c.out, "~  [-4.63%, +6.86%]"), "not-significant mark: %s", c.out);
	/* human units, and every row's columns start where the header's do */
	cr_expect(strstr(c.out, "10.2 M ops/s") && strstr(c.out, "11.2 M ops/s"), "%s", c.out);
	cr_expect(strstr(c.out, "4.00 MiB"), "footprint in MiB: %s", c.out);
	cr_expect(!strstr(c.out, "e+0"), "a number in exponent form: %s", c.out);
	{
		const char *h = strstr(c.out, "allocator"), *r1 = strstr(h, "\nglibc "),
			   *r2 = strstr(h, "\nglibc:tcache_count=0 ");
		int ch = (int)(strstr(h, "change") - h) + 6;	/* right-aligned: its end */

		cr_assert(r1 && r2, "%s", c.out);
		cr_expect_eq((int)(strstr(r1, "+9.80%") - r1) + 5, ch, "not aligned: %s", c.out);
		cr_expect_eq(r2[ch], '~', "the change column is not aligned: %s", c.out);
	}
	cr_expect(strstr(c.out, "geomean"), "%s", c.out);
	cr_expect(strstr(c.out, "alloc_p99_ns (lower is better)"), "%s", c.out);

	mmb_run_cmd(&c, "compare", a, b, "--format", "markdown", "--metric", "footprint_peak_bytes",
		    NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "| allocator | workload | threads |"), "%s", c.out);
	cr_expect(!strstr(c.out, "ops_per_sec"), "--metric not honoured: %s", c.out);

	mmb_run_cmd(&c, "compare", a, b, "--format", "json", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(c.out[0] == '{' && strstr(c.out, "\"metrics\": ["), "%s", c.out);
	cr_expect(strstr(c.out, "{\"allocator\": \"glibc\", \"workload\": \"churn\", \"threads\": 1, "
			 "\"n_a\": 5, \"n_b\": 5, \"median_a\": 10200000, \"median_b\": 11200000, "),
		  "%s", c.out);
	cr_expect(strstr(c.out, "\"significant\": true, \"worse\": false}"), "%s", c.out);
	cr_expect(strstr(c.out, "\"higher_is_better\": true"), "%s", c.out);
	cr_expect(!strstr(c.out, "nan") && !strstr(c.out, "inf"), "not JSON numbers: %s", c.out);
	if (system("command -v python3 >/dev/null 2>&1") == 0) {
		char cmd[1400];

		snprintf(cmd, sizeof(cmd), "'%s' compare '%s' '%s' --format json | python3 -c "
			 "'import json,sys; json.load(sys.stdin)'", MMB_BIN, a, b);
		cr_expect_eq(system(cmd), 0, "--format json is not valid JSON");
	}
	mmb_rm_rf(a);
	mmb_rm_rf(b);
}

/*
 * With ties the U test's normal approximation can reject while the interval
 * still touches 0: A = {100 x5}, B = {80 x4, 100}: U = 22.5, tie-corrected
 * z = 9.5 / sqrt(50/3) = 2.33, p = 0.020 < 0.05, but the 95% interval of the
 * ratio is [-20%, +0%]. That is not a significant change ("~"), and no gate
 * fails on it.
 */
Test(compare, verdict_agrees_with_interval)
{
	static const double ga[] = { 100, 100, 100, 100, 100 }, gb[] = { 80, 80, 80, 80, 100 };
	char a[256], b[256];
	struct mmb_cmd c;
	double v[9];

	mmb_tmpname(a, sizeof(a), "cmpTieA");
	mmb_tmpname(b, sizeof(b), "cmpTieB");
	fx_run(a, ga, ga);
	fx_run(b, gb, ga);
	mmb_run_cmd(&c, "compare", a, b, "--format", "csv", "-m", "ops_per_sec", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_assert_eq(csv_row(c.out, "ops_per_sec,glibc,churn,1,,", v, 9), 9, "%s", c.out);
	cr_expect_float_eq(v[4], -20.0, 1e-9);
	cr_expect_float_eq(v[5], -20.0, 1e-9);
	cr_expect_float_eq(v[6], 0.0, 1e-9, "the interval touches 0: %g", v[6]);
	cr_expect_lt(v[7], 0.05, "p %g", v[7]);
	cr_expect_eq(v[8], 0.0, "significant although the interval holds 0");
	mmb_run_cmd(&c, "compare", a, b, "--fail-on-regression", "5", "-m", "ops_per_sec", NULL);
	cr_expect_eq(c.status, 0, "a gate failed on a change its interval does not support: %s",
		     c.err);
	mmb_rm_rf(a);
	mmb_rm_rf(b);
}

/* A gate with nothing in common to compare is an error, not a pass. */
Test(compare, gate_with_nothing_in_common_exits_2)
{
	static const double g[] = { 100, 101, 102, 103, 104 };
	struct fx_cell cells[5];
	char a[256], b[256];
	struct mmb_cmd c;

	mmb_tmpname(a, sizeof(a), "cmpNoneA");
	mmb_tmpname(b, sizeof(b), "cmpNoneB");
	fx_run(a, g, g);
	for (int r = 0; r < 5; r++)
		cells[r] = (struct fx_cell){ "glibc", "", "larson", 2, g[r] * 1e5, 100, 1 << 22, NULL };
	fx_meta(b, MMB_SCHEMA_VERSION);
	fx_cells(b, cells, 5, 0);
	mmb_run_cmd(&c, "compare", a, b, "--fail-on-regression", "5", NULL);
	cr_expect_eq(c.status, 2, "%s%s", c.out, c.err);
	cr_expect(strstr(c.err, "no (allocator, workload, threads) with a measured value in common"),
		  "%s", c.err);
	mmb_run_cmd(&c, "compare", a, b, NULL);
	cr_expect_eq(c.status, 0, "without a gate it is only a note: %s", c.err);
	mmb_rm_rf(a);
	mmb_rm_rf(b);
}

/* B faster: ops_per_sec improves; read B -> A it is a -8.9% regression. */
Test(compare, regression_gate_exit_status)
{
	char a[256], b[256];
	struct mmb_cmd c;

	make_ab(a, b, sizeof(a));
	mmb_run_cmd(&c, "compare", a, b, "--fail-on-regression", "5", NULL);
	cr_expect_eq(c.status, 0, "an improvement failed the gate: %s", c.err);
	mmb_run_cmd(&c, "compare", b, a, "--fail-on-regression", "5", NULL);
	cr_expect_eq(c.status, 1, "%s", c.out);
	cr_expect(strstr(c.err, "regression: ops_per_sec glibc churn 1 threads: -8.93%"), "%s", c.err);
	cr_expect(!strstr(c.err, "tcache_count"), "a not-significant change gated: %s", c.err);
	mmb_run_cmd(&c, "compare", b, a, "--fail-on-regression", "10", NULL);
	cr_expect_eq(c.status, 0, "a change within the threshold failed: %s", c.err);
	mmb_run_cmd(&c, "compare", b, a, NULL);
	cr_expect_eq(c.status, 0, "no gate asked: %s", c.err);
	mmb_rm_rf(a);
	mmb_rm_rf(b);
}

/* Within run B: tcache_count=0 {101..109 step 2} against glibc {110..114}. */
Test(compare, baseline_within_one_run)
{
	char a[256], b[256];
	struct mmb_cmd c;
	double v[9];

	make_ab(a, b, sizeof(a));
	mmb_run_cmd(&c, "compare", b, "--baseline", "glibc", "--format", "csv", "-m",
		    "ops_per_sec", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(!strstr(c.out, "ops_per_sec,glibc,"), "the baseline compared to itself: %s", c.out);
	cr_assert_eq(csv_row(c.out, "ops_per_sec,glibc:tcache_count=0,churn,1,glibc,", v, 9), 9,
		     "%s", c.out);
	cr_expect_eq(v[2], 112e5);
	cr_expect_eq(v[3], 105e5);
	cr_expect_float_eq(v[7], 2.0 / 252, 1e-5);
	mmb_rm_rf(a);
	mmb_rm_rf(b);
}

Test(compare, bad_input_exits_2)
{
	char a[256], b[256];
	struct mmb_cmd c;

	make_ab(a, b, sizeof(a));
	mmb_run_cmd(&c, "compare", a, "--baseline", "jemalloc", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "baseline 'jemalloc' is not in"), "%s", c.err);
	cr_expect(strstr(c.err, "glibc glibc:tcache_count=0"), "%s", c.err);
	mmb_run_cmd(&c, "compare", a, b, "--metric", "bogus_ns", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "unknown metric 'bogus_ns'"), "%s", c.err);
	mmb_run_cmd(&c, "compare", a, "/nonexistent", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "is not a results folder"), "%s", c.err);
	mmb_run_cmd(&c, "compare", a, b, "--format", "xml", NULL);
	cr_expect_eq(c.status, 2);
	mmb_run_cmd(&c, "compare", a, NULL);
	cr_expect_eq(c.status, 2);
	mmb_run_cmd(&c, "compare", a, b, "--fail-on-regression", "x", NULL);
	cr_expect_eq(c.status, 2);
	fx_meta(b, MMB_SCHEMA_VERSION + 1);
	mmb_run_cmd(&c, "compare", a, b, NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "results schema version"), "%s", c.err);
	mmb_rm_rf(a);
	mmb_rm_rf(b);
}

/*
 * mimalloc-bench lines: glibc rep 1 ran 1e6 ops at 1e7 ops/s: 0.1 s -> "00.10";
 * rss (4 MiB + 1e6 B) / 1024 = 5072 KiB; user = wall, sys = 1 ms; 0 major, 120 minor.
 */
Test(compare, export_mimalloc_bench)
{
	char a[256], b[256];
	struct mmb_cmd c;

	make_ab(a, b, sizeof(a));
	mmb_run_cmd(&c, "export", "--format", "mimalloc-bench", a, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	const char *want = "# benchmark allocator elapsed rss user sys page-faults page-reclaims\n"
			   "churn-t1 glibc 00.10 5072 0.10 0.00 0 120\n";

	cr_expect(!strncmp(c.out, want, strlen(want)), "%s", c.out);
	cr_expect(strstr(c.out, "churn-t1 glibc:tcache_count=0 00.10 5072"), "%s", c.out);
	mmb_run_cmd(&c, "export", "--format", "csv", a, NULL);
	cr_expect_eq(c.status, 2);
	mmb_rm_rf(a);
	mmb_rm_rf(b);
}

/*
 * test_latency.c — latency recording end to end: percentile columns and
 * latency.csv buckets agree with the calls made (every call, one in N, or
 * none with --no-latency), and a warm-up leaves the timed region's
 * operation sequence unchanged.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "../../harness/hist.h"
#include "../../harness/results.h"
#include "../testutil.h"

/* Run churn with extra options; read cells.csv row 1 and the latency.csv
 * histogram of op into h. */
static void run_wl(const char *wl, struct mmb_result *r, struct mmb_hist *h, const char *op,
		   const char *o1, const char *o2)
{
	char dir[256], path[300], err[256], line[256], opn[16];
	struct mmb_result *rows;
	struct mmb_cmd c;
	FILE *f;

	mmb_tmpname(dir, sizeof(dir), "lat");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", wl, "--ops", "20000", o1, o2,
		    NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	cr_assert_eq(mmb_csv_read(path, &rows, err, sizeof(err)), 1, "%s", err);
	*r = rows[0];
	free(rows);
	mmb_hist_init(h);
	snprintf(path, sizeof(path), "%s/latency.csv", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert(fgets(line, sizeof(line), f));
	cr_expect_str_eq(line, "cell,op,lo_ns,hi_ns,count\n");
	while (fgets(line, sizeof(line), f)) {
		unsigned cell;
		unsigned long long lo, hi, n;

		cr_assert_eq(sscanf(line, "%u,%15[^,],%llu,%llu,%llu", &cell, opn, &lo, &hi, &n), 5,
			     "%s", line);
		cr_expect_eq(cell, 1u);
		cr_expect_gt(n, 0u, "empty bucket written: %s", line);
		if (!strcmp(opn, op))
			cr_assert_eq(mmb_hist_add_bucket(h, lo, hi, n), 0, "not a bucket: %s", line);
	}
	fclose(f);
	mmb_rm_rf(dir);
}

static void run_churn(struct mmb_result *r, struct mmb_hist *h, const char *op, const char *o1,
		      const char *o2)
{
	run_wl("churn", r, h, op, o1, o2);
}

Test(latency, workload_defined_operation)
{
	struct mmb_result r;
	static struct mmb_hist h;

	run_wl("timedop", &r, &h, "touch", "--sample", "2");
	cr_expect_eq((double)mmb_hist_total(&h), floor(r.m[MMB_M_allocs] / 2),
		     "%lu touches timed, %.0f allocs", (unsigned long)mmb_hist_total(&h),
		     r.m[MMB_M_allocs]);
	cr_expect_gt(r.m[MMB_M_alloc_p50_ns], 0);
}

Test(latency, every_call_timed_by_default)
{
	struct mmb_result r;
	static struct mmb_hist h;

	run_churn(&r, &h, "alloc", NULL, NULL);
	cr_expect_eq((double)mmb_hist_total(&h), r.m[MMB_M_allocs]);
	cr_expect_gt(r.m[MMB_M_alloc_p50_ns], 0);
	cr_expect_leq(r.m[MMB_M_alloc_p50_ns], r.m[MMB_M_alloc_p99_ns]);
	cr_expect_leq(r.m[MMB_M_alloc_p99_ns], r.m[MMB_M_alloc_p9999_ns]);
	cr_expect_leq(r.m[MMB_M_alloc_p9999_ns], r.m[MMB_M_alloc_max_ns]);
	cr_expect(r.m[MMB_M_alloc_max_ns] <= (double)h.max_ns &&
		  r.m[MMB_M_alloc_max_ns] >= (double)h.max_ns * (1 - 2 * MMB_HIST_REL_ERR) - 1,
		  "max %.0f not in the top bucket of latency.csv (..%lu]", r.m[MMB_M_alloc_max_ns],
		  (unsigned long)h.max_ns);
	/* The percentile recomputed from latency.csv is the one in cells.csv. */
	cr_expect_eq(mmb_hist_quantile(&h, 0.5), r.m[MMB_M_alloc_p50_ns]);
	cr_expect_gt(r.m[MMB_M_free_p90_ns], 0);
	cr_expect_gt(r.m[MMB_M_timer_overhead_ns], 0);
}

Test(latency, one_in_n_and_none)
{
	struct mmb_result r;
	static struct mmb_hist h;

	run_churn(&r, &h, "free", "--sample", "10");
	cr_expect_eq((double)mmb_hist_total(&h), floor(r.m[MMB_M_frees] / 10),
		     "%lu of %.0f frees timed", (unsigned long)mmb_hist_total(&h), r.m[MMB_M_frees]);
	run_churn(&r, &h, "alloc", "--no-latency", NULL);
	cr_expect_eq(mmb_hist_total(&h), 0u, "--no-latency wrote buckets");
	cr_expect(isnan(r.m[MMB_M_alloc_p50_ns]) && isnan(r.m[MMB_M_free_max_ns]) &&
		  isnan(r.m[MMB_M_timer_overhead_ns]), "--no-latency: columns must be empty");
	cr_expect_gt(r.m[MMB_M_ops_per_sec], 0);
}

Test(latency, warmup_keeps_the_timed_sequence)
{
	struct mmb_result plain, warm;
	static struct mmb_hist h;

	run_churn(&plain, &h, "alloc", NULL, NULL);
	run_churn(&warm, &h, "alloc", "--warmup", "5000ops");
	cr_expect_eq(warm.m[MMB_M_ops], plain.m[MMB_M_ops], "warm-up calls counted in the timed region");
	cr_expect_eq(warm.m[MMB_M_op_checksum], plain.m[MMB_M_op_checksum]);
	cr_expect_eq((double)mmb_hist_total(&h), warm.m[MMB_M_allocs], "warm-up calls in histogram");
	run_churn(&warm, &h, "alloc", "--warmup", "0.05");
	cr_expect_eq(warm.m[MMB_M_op_checksum], plain.m[MMB_M_op_checksum]);
}

/*
 * test_isolation.c — a cell that crashes, aborts, hangs or fails is recorded
 * with its status and the run goes on.
 */
#include <criterion/criterion.h>

#include "../../harness/results.h"
#include "../testutil.h"

/* Run and read back cells.csv; returns the row count. */
static int run_and_read(struct mmb_result **rows, const char *a, const char *w,
			const char *timeout)
{
	char dir[256], path[300], err[256];
	struct mmb_cmd c;
	int n;

	mmb_tmpname(dir, sizeof(dir), "iso");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", a, "-w", w, "--duration", "0.05",
		    "--cell-timeout", timeout, NULL);
	cr_assert_eq(c.status, 0, "run failed: %s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, rows, err, sizeof(err));
	cr_assert_geq(n, 0, "%s", err);
	mmb_rm_rf(dir);
	return n;
}

Test(isolation, crashing_workload_then_ok)
{
	struct mmb_result *r;
	int n = run_and_read(&r, "glibc", "crash:mode=segv,crash:mode=abort,crash:mode=fail,crash:mode=ok",
			     "20");

	cr_assert_eq(n, 4);
	cr_expect_str_eq(r[0].status, "crashed");
	cr_expect(strstr(r[0].detail, "SIGSEGV"), "%s", r[0].detail);
	cr_expect_str_eq(r[1].status, "crashed");
	cr_expect(strstr(r[1].detail, "SIGABRT"), "%s", r[1].detail);
	cr_expect_str_eq(r[2].status, "failed");
	cr_expect(strstr(r[2].detail, "Input/output error"), "%s", r[2].detail);
	cr_expect_str_eq(r[3].status, "ok");
	cr_expect_gt(r[3].m[MMB_M_ops], 0);
	free(r);
}

Test(isolation, hanging_cell_times_out)
{
	struct mmb_result *r;
	int n = run_and_read(&r, "glibc", "crash:mode=hang,crash:mode=ok", "1");

	cr_assert_eq(n, 2);
	cr_expect_str_eq(r[0].status, "timeout");
	cr_expect(strstr(r[0].detail, "--cell-timeout"), "%s", r[0].detail);
	cr_expect_str_eq(r[1].status, "ok");
	free(r);
}

Test(isolation, crashing_allocator)
{
	struct mmb_result *r;
	int n = run_and_read(&r, "crashy:fail=create,crashy:fail=alloc,after=5,crashy:fail=create,how=error,glibc",
			     "churn", "20");

	cr_assert_eq(n, 4);
	cr_expect_str_eq(r[0].status, "crashed");
	cr_expect_str_eq(r[0].allocator, "crashy");
	cr_expect_str_eq(r[0].config, "fail=create");
	cr_expect_str_eq(r[1].status, "crashed");
	cr_expect_str_eq(r[1].config, "fail=alloc,after=5");
	cr_expect_str_eq(r[2].status, "failed");
	cr_expect(strstr(r[2].detail, "create failed on purpose"), "%s", r[2].detail);
	cr_expect_str_eq(r[3].status, "ok");
	free(r);
}

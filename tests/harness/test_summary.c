/*
 * test_summary.c — the lines `mmbench run` ends with (summary.h): one per
 * allocator x workload parameters, medians in human units with a spread,
 * failed allocations when some cell counted one; and a run in which no cell
 * finished fails with one line saying so.
 */
#include <criterion/criterion.h>

#include "../testutil.h"

/* The summary line that starts with alloc and holds wl after it, or NULL. */
static const char *sum_line(const char *out, const char *alloc, const char *wl, char *buf,
			    size_t len)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t n = strcspn(p, "\n");

		snprintf(buf, len, "%.*s", (int)n, p);
		if (!strncmp(buf, alloc, strlen(alloc)) && buf[strlen(alloc)] == ' ' &&
		    strstr(buf + strlen(alloc), wl))
			return buf;
	}
	return NULL;
}

Test(summary, one_line_per_parameters_in_human_units, .timeout = 120)
{
	char dir[256], line[1024];
	struct mmb_cmd c;
	const char *l;

	mmb_tmpname(dir, sizeof(dir), "summary");
	/* buddy:mem=4M cannot hold bigbuf's blocks: it counts failed allocations */
	mmb_run_cmd(&c, "run", "-o", dir, "-a", "glibc,buddy:mem=4M", "-w",
		    "churn:size=16,churn:size=4096,bigbuf", "-r", "2", "--ops", "300", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "allocator") && strstr(c.out, "throughput") &&
		  strstr(c.out, "peak footprint") && strstr(c.out, "failed allocs"), "%s", c.out);
	/* parameters that differ, and only those, tell the lines apart */
	l = sum_line(c.out, "glibc", " churn:size=16 ", line, sizeof(line));
	cr_expect(l, "no glibc churn:size=16 line: %s", c.out);
	cr_expect(sum_line(c.out, "glibc", " churn:size=4096 ", line, sizeof(line)), "%s", c.out);
	cr_expect(!strstr(c.out, "batch="), "parameters that do not differ: %s", c.out);
	l = sum_line(c.out, "glibc", " churn:size=16 ", line, sizeof(line));
	cr_expect(l && strstr(l, " 2/2 ") && strstr(l, " ops/s") && strstr(l, "%.."),
		  "median in ops/s with a spread: %s", l ? l : c.out);
	cr_expect(!strstr(c.out, "e+0"), "a number in exponent form: %s", c.out);
	cr_expect(strstr(c.out, " KiB") || strstr(c.out, " MiB"), "bytes in KiB/MiB: %s", c.out);
	l = sum_line(c.out, "buddy:mem=4M", " bigbuf ", line, sizeof(line));
	cr_expect(l, "%s", c.out);
	{	/* the last column: buddy's failed allocations, a number above 0 */
		const char *last = l ? strrchr(l, ' ') : NULL;

		cr_expect(last && (atoi(last + 1) > 0 || strstr(l, "%..")), "failed allocs: %s",
			  l ? l : c.out);
	}
	cr_expect(strstr(c.out, dir), "the folder is not named: %s", c.out);
	mmb_rm_rf(dir);
}

Test(summary, no_finished_cell_is_a_failure)
{
	char dir[256];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "summarynone");
	mmb_run_cmd(&c, "run", "-o", dir, "-a", "glibc", "-w", "crash:mode=segv,crash:mode=fail",
		    "--ops", "100", NULL);
	cr_expect_eq(c.status, 1, "%s", c.err);
	cr_expect(strstr(c.err, "no cell finished: 0 timed out, 1 crashed, 1 failed"), "%s", c.err);
	cr_expect_eq(strchr(c.err, '\n'), c.err + strlen(c.err) - 1, "one line: %s", c.err);
	cr_expect(strstr(c.out, "0/1"), "the summary still shows the cells: %s", c.out);
	mmb_rm_rf(dir);
}

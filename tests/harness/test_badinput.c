/*
 * test_badinput.c — bad inputs found while hardening (docs/bad-inputs.md):
 * each gets one line naming the problem, exit status 2 and no results
 * folder. The common ones are test_cli.c's and test_suites.c's.
 */
#include <criterion/criterion.h>

#include "../../harness/results.h"
#include "../testutil.h"

/* Run `mmbench run -q -o DIR args...`; expect exit 2, want in the one line, no DIR. */
static void expect_bad(const char *want, const char *a1, const char *a2, const char *a3,
		       const char *a4)
{
	struct mmb_cmd c;
	char dir[256];

	mmb_tmpname(dir, sizeof(dir), "bad");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, a1, a2, a3, a4, NULL);
	cr_expect_eq(c.status, 2, "%s %s: status %d, stderr: %s", a1, a2 ? a2 : "", c.status, c.err);
	cr_expect(strstr(c.err, want), "wanted '%s' in: %s", want, c.err);
	cr_expect(strchr(c.err, '\n') == c.err + strlen(c.err) - 1, "not one line: %s", c.err);
	cr_expect_not(mmb_exists(dir), "%s created for bad input", dir);
}

/* Too many configs: the reason, not only the (long) list, is in the line. */
Test(badinput, too_many_configs_names_the_limit)
{
	char list[4000];
	size_t off = 0;

	for (int i = 0; i < 70; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%sglibc:arena_max=%d",
					i ? "," : "", i);
	expect_bad("...': expected ALLOC[:k=v,...][,ALLOC...], at most 64 of them", "-a", list, "-w",
		   "churn");
	expect_bad("at most 64 of them, each under 1024 characters", "-a", "glibc", "-w", ",");
}

Test(badinput, out_of_range_values)
{
	expect_bad("allocator buddy: 'mem=1K' is out of range", "-a", "buddy:mem=1K", "-w", "churn");
	expect_bad("-t 2000: expected thread counts 1..1024", "-t", "2000", "-w", "churn");
	expect_bad("--cell-timeout 0: expected seconds", "--cell-timeout", "0", "-w", "churn");
}

/* --size-classes with an allocator that has none. */
Test(badinput, size_classes_without_classes)
{
	struct mmb_cmd c;
	char dir[256];

	mmb_tmpname(dir, sizeof(dir), "bad");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "--size-classes", "-a", "slab,glibc", "-w", "churn",
		    NULL);
	cr_expect_eq(c.status, 2, "stderr: %s", c.err);
	cr_expect(strstr(c.err, "--size-classes: allocator glibc has no size classes to report"),
		  "%s", c.err);
	cr_expect(strchr(c.err, '\n') == c.err + strlen(c.err) - 1, "not one line: %s", c.err);
	cr_expect_not(mmb_exists(dir), "%s created for bad input", dir);
}

/* The zone sized to the work (free=): too small for a zone with its own
 * descriptors, or given with mem= as well. */
Test(badinput, zone_pressure_sizes)
{
	expect_bad("buddy: free=1M is too small for a zone: with its page descriptors", "-a",
		   "buddy:free=1M", "-w", "churn");
	expect_bad("slab: free=64K is too small for a zone", "-a", "slab:free=64K", "-w", "churn");
	expect_bad("vmalloc: give mem= or free=, not both", "-a", "vmalloc:mem=64M,free=32M", "-w",
		   "churn");
}

/* Write text to a fresh suite file; path in buf. */
static void write_suite(char *buf, size_t len, const char *text, size_t n)
{
	FILE *f;

	mmb_tmpname(buf, len, "suite");
	strcat(buf, ".suite");
	f = fopen(buf, "w");
	cr_assert_not_null(f);
	fwrite(text, 1, n, f);
	fclose(f);
}

Test(badinput, suite_files)
{
	char path[256], want[300], *big = malloc(1100000);
	static const char bin[] = "\xff\xfe\0bin\n";

	cr_assert_not_null(big);
	memset(big, '#', 1100000);
	write_suite(path, sizeof(path), big, 1100000);
	expect_bad("not a readable text file under 1 MiB", "--suite", path, NULL, NULL);
	unlink(path);
	strcpy(big, "-w churn");
	for (int i = 0; i < 70; i++)
		strcat(big, " -q");
	write_suite(path, sizeof(path), big, strlen(big));
	snprintf(want, sizeof(want), "%s:1: more than 64 options on one line", path);
	expect_bad(want, "--suite", path, NULL, NULL);
	unlink(path);
	free(big);
	write_suite(path, sizeof(path), bin, sizeof(bin) - 1);
	snprintf(want, sizeof(want), "%s:1: run: unexpected argument", path);
	expect_bad(want, "--suite", path, NULL, NULL);
	unlink(path);
}

/* A value holding a line break (here a trace file's name) is written quoted
 * and read back whole: the results stay readable by compare. */
Test(badinput, line_break_in_a_value_reads_back)
{
	char trace[256], dir[256], path[300], spec[400], err[256];
	struct mmb_result *r;
	struct mmb_cmd c;
	FILE *f;
	int n;

	mmb_tmpname(trace, sizeof(trace), "trace");
	strcat(trace, "\nsecond line");
	f = fopen(trace, "w");
	cr_assert_not_null(f);
	fputs("a 1 10\nf 1\n", f);
	fclose(f);
	mmb_tmpname(dir, sizeof(dir), "nl");
	snprintf(spec, sizeof(spec), "replay:trace=%s", trace);
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", spec, "--ops", "10", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, &r, err, sizeof(err));
	cr_assert_eq(n, 1, "%d: %s", n, err);
	cr_expect(strstr(r[0].params, "\nsecond line"), "params '%s'", r[0].params);
	cr_expect_str_eq(r[0].status, "ok");
	free(r);
	unlink(trace);
	mmb_rm_rf(dir);
}

/*
 * test_suites.c — named suites: every shipped suite parses and expands to
 * the cells it names; defaults, groups, command-line overrides and optional
 * allocators behave as README.md says; a bad line is reported as FILE:LINE
 * with exit status 2; the quick suite runs clean.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "../../harness/plan.h"
#include "../../harness/results.h"
#include "../../harness/suite.h"
#include "../testutil.h"

static const char *const mission[] = { "glibc", "buddy", "slab", "vmalloc", "jemalloc",
				       "jemalloc-malloc", "mimalloc", "tcmalloc" };

/* Mission allocators this build has and can run (the ones a suite keeps). */
static unsigned mission_here(void)
{
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(mission) / sizeof(mission[0]); i++) {
		const struct mmb_alloc_ops *o = mmb_alloc_find(mission[i]);
		const char *why;

		n += o && !(o->supported && o->supported(&why));
	}
	return n;
}

/* Of those, the ones drawing from instrumented regions (default.suite's census). */
static unsigned region_here(void)
{
	static const char *const region[] = { "buddy", "slab", "vmalloc", "jemalloc", "mimalloc" };
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(region) / sizeof(region[0]); i++) {
		const struct mmb_alloc_ops *o = mmb_alloc_find(region[i]);
		const char *why;

		n += o && !(o->supported && o->supported(&why));
	}
	return n;
}

/* Parse `run` + args in-process; returns mmb_plan_parse's result. */
static int plan(struct mmb_plan *p, char *err, size_t errlen, const char *a1, const char *a2,
		const char *a3, const char *a4, const char *a5, const char *a6)
{
	const char *argv[] = { "run", a1, a2, a3, a4, a5, a6, NULL };
	int argc = 1;

	while (argv[argc])
		argc++;
	return mmb_plan_parse(argc, (char **)argv, p, err, errlen);
}

/* How many cells run workload w (by name) with t threads. */
static unsigned cells_of(const struct mmb_plan *p, const char *w, unsigned t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->ncells; i++)
		n += !strcmp(p->wconf[p->cells[i].wi].ops->name, w) && p->cells[i].threads == t;
	return n;
}

Test(suites, shipped_suites_expand)
{
	struct mmb_plan p;
	char err[512];
	unsigned na = mission_here(), cores;

	cr_assert_geq(na, 1);
	cr_assert_eq(plan(&p, err, sizeof(err), "--suite", "quick", "-q", NULL, NULL, NULL), 0, "%s", err);
	cr_expect_eq(p.naconf, na);
	cr_expect_eq(p.ops, 20000);
	cr_expect_eq(p.ncells, 5 * na);
	/* groups without -t run one thread per core, as hwloc counts them */
	cores = mmb_measure_threads(&p.measure, MMB_THREADS_CORES);
	cr_assert_geq(cores, 1);
	cr_expect_eq(cells_of(&p, "churn", cores), na);
	cr_expect_eq(cells_of(&p, "sizes", cores), na);
	cr_expect_eq(cells_of(&p, "fragmenter", cores), na);
	cr_expect_eq(cells_of(&p, "ramp", cores), na);
	cr_expect_eq(cells_of(&p, "xthread", 2), na);
	mmb_plan_free(&p);

	cr_assert_eq(plan(&p, err, sizeof(err), "--suite", "default", "-q", NULL, NULL, NULL), 0, "%s", err);
	cr_expect_eq(p.reps, 5, "fewer than 4 repetitions can show no significant change");
	cr_expect_eq(p.ops, 0);
	cr_expect(p.duration_s > 0.19 && p.duration_s < 0.21);
	/* 7 timing workloads x every allocator, and a fault census of pages and
	 * bigbuf over the allocators with instrumented regions */
	cr_expect_eq(p.ncells, 5 * 7 * na + 5 * 2 * region_here());
	cr_expect_eq(cells_of(&p, "larson", 2), 5 * na);
	cr_expect_eq(cells_of(&p, "bigbuf", cores), 5 * na + 5 * region_here());
	{
		unsigned census = 0;

		for (unsigned i = 0; i < p.ncells; i++)
			census += p.cells[i].faults == MMB_FAULTS_AUTO;
		cr_expect_eq(census, 5 * 2 * region_here(), "the census group's cells");
	}
	mmb_plan_free(&p);

	cr_assert_eq(plan(&p, err, sizeof(err), "--suite", "scaling", "-q", NULL, NULL, NULL), 0, "%s", err);
	cr_expect_eq(p.ncells, 3 * 4 * 2 * na);
	cr_expect_eq(cells_of(&p, "cache-scratch", 2), 3 * na);
	mmb_plan_free(&p);

	cr_assert_eq(plan(&p, err, sizeof(err), "--suite", "fragmentation", "-q", NULL, NULL, NULL), 0,
		     "%s", err);
	{
		const struct mmb_alloc_ops *vo = mmb_alloc_find("vmalloc");
		const char *why;
		unsigned vm = vo && !(vo->supported && vo->supported(&why));

		/* vmalloc only in the page group; every cell op-equivalent, exact */
		cr_expect_eq(p.ncells, 3 * 8 * (na - vm) + 3 * na);
		cr_expect_eq(cells_of(&p, "pages", p.threads[0]), 3 * na);
		cr_expect(p.op_equivalent && p.ops == 300000 && p.accounting == 1);
		cr_expect(p.duration_s > 59.9 && p.duration_s < 60.1, "the time-out: %g", p.duration_s);
	}
	mmb_plan_free(&p);

	/* pressure: one fixed sequence, one thread, the zone allocators sized to it */
	cr_assert_eq(plan(&p, err, sizeof(err), "--suite", "pressure", "-q", NULL, NULL, NULL), 0, "%s",
		     err);
	cr_expect_eq(p.ops, 23055);
	cr_expect_eq(p.ncells, 3 * p.naconf);
	cr_expect_eq(cells_of(&p, "fragmenter", 1), p.ncells);
	for (unsigned i = 0; i < p.naconf; i++)
		if (!strcmp(p.aconf[i].ops->name, "buddy") || !strcmp(p.aconf[i].ops->name, "vmalloc"))
			cr_expect(strstr(p.aconf[i].config, "free=61M"), "%s", p.aconf[i].config);
	mmb_plan_free(&p);

	cr_assert_eq(plan(&p, err, sizeof(err), "--suite", "latency", "-q", NULL, NULL, NULL), 0, "%s", err);
	cr_expect_eq(p.ncells, 5 * 7 * na);
	cr_expect_eq(cells_of(&p, "churn", 1), 5 * 4 * na, "latency is measured at one thread");
	mmb_plan_free(&p);

	/* the three kmalloc designs (four configurations), always built */
	cr_assert_eq(plan(&p, err, sizeof(err), "--suite", "slab-designs", "-q", NULL, NULL, NULL), 0,
		     "%s", err);
	cr_expect_eq(p.ncells, 3 * 9 * 4);
	cr_expect_eq(cells_of(&p, "larson", 2), 3 * 4, "larson at two threads");
	cr_expect_eq(cells_of(&p, "fragmenter", 1), 3 * 3 * 4);
	mmb_plan_free(&p);
}

/* Write a suite file; its path goes to buf. */
static void write_suite(char *buf, size_t len, const char *text)
{
	FILE *f;

	mmb_tmpname(buf, len, "suite");
	strcat(buf, ".suite");
	f = fopen(buf, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(suites, defaults_groups_and_overrides)
{
	struct mmb_plan p;
	char path[256], err[512];

	write_suite(path, sizeof(path),
		    "# test suite\n"
		    "-a glibc -t 2 --duration 0.2 -r 2   # defaults\n"
		    "-p size=128\n"
		    "-w churn\n"
		    "-w sizes:max=64 -t 1,2\n"
		    "-w churn -t 2 -a glibc:arena_max=1\n"
		    "-w churn:size=32 --seed 9\n");
	cr_assert_eq(plan(&p, err, sizeof(err), "--suite", path, NULL, NULL, NULL, NULL), 0, "%s", err);
	cr_expect_eq(p.reps, 2);
	cr_expect_eq(p.seed, 9);
	cr_expect(p.duration_s > 0.19 && p.duration_s < 0.21);
	/* churn(size=128) x glibc x t2; sizes x glibc x t1,t2; churn(128) x arena_max=1 x t2;
	 * churn(size=32) x glibc x t2: 5 cells per repetition. */
	cr_expect_eq(p.ncells, 2 * 5, "%u cells", p.ncells);
	cr_expect_eq(p.naconf, 2);
	cr_expect_eq(p.nwconf, 3);
	cr_expect_str_eq(p.wconf[0].spec, "churn:size=128,batch=1");
	cr_expect_str_eq(p.wconf[2].spec, "churn:size=32,batch=1");
	cr_expect_eq(cells_of(&p, "sizes", 1), 2);
	cr_expect_eq(cells_of(&p, "churn", 1), 0);
	mmb_plan_free(&p);

	/* Command line overrides: -t, -a, --ops over --duration, -p over the spec; -w adds a group. */
	cr_assert_eq(plan(&p, err, sizeof(err), "--suite", path, "-t", "1", "--ops", "50"), 0,
		     "%s", err);
	cr_expect_eq(p.ops, 50);
	cr_expect_eq(p.duration_s, 0);
	cr_expect_eq(p.ncells, 2 * 4, "%u cells", p.ncells);	/* sizes t1,t2 collapse to t1 */
	mmb_plan_free(&p);
	{
		const char *argv[] = { "run", "--suite", path, "-p", "size=16", "-w", "threadtest",
				       "-a", "glibc", NULL };

		cr_assert_eq(mmb_plan_parse(9, (char **)argv, &p, err, sizeof(err)), 0, "%s", err);
	}
	cr_expect_str_eq(p.wconf[0].spec, "churn:size=16,batch=1");
	cr_expect_eq(p.naconf, 1, "-a on the command line replaces every group's");
	cr_expect_eq(cells_of(&p, "threadtest", 2), 2);
	mmb_plan_free(&p);
	unlink(path);
}

Test(suites, optional_allocators)
{
	struct mmb_plan p;
	char path[256], err[512];

	write_suite(path, sizeof(path), "# opt\n-a glibc,?no-such-alloc,?crashy:fail=never\n-w churn\n");
	cr_assert_eq(plan(&p, err, sizeof(err), "--suite", path, "-q", NULL, NULL, NULL), 0, "%s", err);
	cr_expect_eq(p.naconf, 2, "the missing optional allocator is skipped, the present one kept");
	mmb_plan_free(&p);
	unlink(path);

	write_suite(path, sizeof(path), "# none left\n-a ?no-such-alloc\n-w churn\n");
	cr_expect_eq(plan(&p, err, sizeof(err), "--suite", path, "-q", NULL, NULL, NULL), -EINVAL);
	cr_expect(strstr(err, "nothing to run"), "%s", err);
	unlink(path);

	/* '?' on the command line is an error: it is for suites. */
	cr_expect_eq(plan(&p, err, sizeof(err), "-a", "?glibc", "-w", "churn", NULL, NULL), -EINVAL);
	cr_expect(strstr(err, "is for suite files"), "%s", err);
}

/* A bad line: exit 2, "FILE:LINE: message" on one line, no results folder. */
static void expect_bad_suite(const char *text, unsigned line, const char *want)
{
	char path[256], dir[256], where[300];
	struct mmb_cmd c;

	write_suite(path, sizeof(path), text);
	mmb_tmpname(dir, sizeof(dir), "suitebad");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "--suite", path, NULL);
	cr_expect_eq(c.status, 2, "%s: status %d, stderr %s", want, c.status, c.err);
	if (line)
		snprintf(where, sizeof(where), "%s:%u: ", path, line);
	else
		snprintf(where, sizeof(where), "%s", path);
	cr_expect(strstr(c.err, where), "wanted '%s' in: %s", where, c.err);
	cr_expect(strstr(c.err, want), "wanted '%s' in: %s", want, c.err);
	cr_expect_eq(strchr(c.err, '\n'), strrchr(c.err, '\n'), "more than one line: %s", c.err);
	cr_expect(!mmb_exists(dir), "results folder %s left behind", dir);
	mmb_rm_rf(dir);
	unlink(path);
}

Test(suites, bad_lines)
{
	expect_bad_suite("# x\n-a glibc\n--frobnicate\n-w churn\n", 3, "unknown option '--frobnicate'");
	expect_bad_suite("# x\n-a glibc\n\n-w nosuch\n", 4, "unknown workload 'nosuch'");
	expect_bad_suite("# x\n-w churn -a nosuch\n", 2, "unknown allocator 'nosuch'");
	expect_bad_suite("# x\n-w churn:size=0\n", 2, "'size=0' is out of range");
	expect_bad_suite("# x\n-w churn\n-o /tmp/x\n", 3, "is for the command line");
	expect_bad_suite("# x\n-w churn -q\n", 2, "is for the command line");
	expect_bad_suite("# x\n-w churn --suite quick\n", 2, "is for the command line");
	expect_bad_suite("# x\n-w churn -t 0\n", 2, "-t 0: expected thread counts");
	expect_bad_suite("# x\n-w churn --ops 5 --duration 1\n", 2, "not both");
	expect_bad_suite("# x\n-w churn -p nope=1\n", 2, "no chosen workload has a parameter 'nope'");
	expect_bad_suite("# x\n-p nope=1\n-w churn\n", 2, "no chosen workload has a parameter 'nope'");
	expect_bad_suite("# x\n-w churn -p nokey\n", 2, "expected KEY=VALUE");
	expect_bad_suite("# x\n-w churn stray\n", 2, "unexpected argument 'stray'");
	expect_bad_suite("# x\n-w replay:trace=/nonexistent\n", 2, "No such file");
	expect_bad_suite("# only defaults\n-a glibc\n", 0, ": no line names a workload");
	/* program lines (README.md, Programs as cells) */
	expect_bad_suite("# x\n-a glibc\nprog p bogus=1 -- true\n", 3, "program p: unknown key 'bogus'");
	expect_bad_suite("# x\nprog p stdin=/nonexistent/in -- true\n", 2,
			 "program p: stdin file /nonexistent/in");
	expect_bad_suite("# x\nprog p threads=2\n", 2, "program p: no command");
	expect_bad_suite("# x\n-a jemalloc\nprog p -- true\n", 3,
			 "allocator jemalloc cannot run a program");
	expect_bad_suite("# x\nprog p -- true\nprog p -- false\n", 3, "program p defined twice");
	expect_bad_suite("# x\n-w churn --programs-from x\n", 2, "is for the command line");
}

Test(suites, unknown_suite_and_listing)
{
	struct mmb_cmd c;

	mmb_run_cmd(&c, "run", "--suite", "nosuch", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "unknown suite 'nosuch' (valid: default fragmentation latency pressure "
			 "programs quick scaling slab-designs)"), "%s", c.err);
	/* a second --suite is refused, not silently run instead of the first */
	mmb_run_cmd(&c, "run", "--suite", "quick", "--suite", "latency", "-o",
		    "/tmp/mmbtest-twosuites-never-made", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "--suite latency: only one --suite per run (already --suite quick"),
		  "%s", c.err);
	cr_expect(!mmb_exists("/tmp/mmbtest-twosuites-never-made"));
	mmb_run_cmd(&c, "list", "suites", NULL);
	cr_expect_eq(c.status, 0);
	cr_expect(strstr(c.out, "quick ") && strstr(c.out, "default ") && strstr(c.out, "scaling ") &&
		  strstr(c.out, "latency ") && strstr(c.out, "fragmentation ") &&
		  strstr(c.out, "pressure "), "%s", c.out);
}

/* The quick suite runs clean, within its 20 s. */
Test(suites, quick_runs_clean, .timeout = 60)
{
	char dir[256], path[300], err[256];
	struct mmb_result *r;
	struct mmb_cmd c;
	int n;

	mmb_tmpname(dir, sizeof(dir), "quick");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "--suite", "quick", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, &r, err, sizeof(err));
	cr_assert_eq(n, (int)(5 * mission_here()), "%s", err);
	for (int i = 0; i < n; i++)
		cr_expect_str_eq(r[i].status, "ok", "%s on %s: %s", r[i].workload, r[i].allocator,
				 r[i].detail);
	free(r);
	mmb_rm_rf(dir);
}

/*
 * test_pressure.c — the pressure suite's claim, end to end (README.md,
 * "Memory pressure"): on the same fixed sequence, buddy fails order-9
 * requests with far more free frames than asked for (fragmentation
 * failures, unusable index at order 9 >= 0.5 at the zone's peak and at the
 * first failure) and vmalloc completes it without one; frag_orders.csv
 * holds orders 0..10 at each moment; an allocator off the zone leaves the
 * columns empty. Deterministic: one thread, pattern=alternate draws no
 * random numbers; the seed is fixed anyway and printed.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "../../harness/results.h"
#include "../testutil.h"

#define PRESSURE_SEED "42"

static const struct mmb_result *row_of(const struct mmb_result *r, int n, const char *alloc)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(r[i].allocator, alloc))
			return &r[i];
	cr_assert_fail("no %s row", alloc);
	return NULL;
}

/* frag_orders.csv's unusable index of cell at point and order; NaN if absent. */
static double frag_order(const char *dir, unsigned cell, const char *point, unsigned order)
{
	char path[512], line[256], want[64];
	double v = NAN;
	FILE *f;

	snprintf(path, sizeof(path), "%s/frag_orders.csv", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_expect_str_eq(line, "cell,point,order,unusable_index,extfrag_index\n");
	snprintf(want, sizeof(want), "%u,%s,%u,", cell, point, order);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)))
			v = strtod(line + strlen(want), NULL);
	fclose(f);
	return v;
}

Test(pressure, buddy_fragments_where_vmalloc_completes, .timeout = 120)
{
	char dir[256], path[300], err[256];
	struct mmb_result *r;
	const struct mmb_result *bu, *vm, *gl;
	struct mmb_cmd c;
	int n;

	fprintf(stderr, "pressure: seed %s\n", PRESSURE_SEED);
	mmb_tmpname(dir, sizeof(dir), "pressure");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "--suite", "pressure", "-r", "1", "--seed",
		    PRESSURE_SEED, "-a", "buddy:free=61M,vmalloc:free=61M,glibc", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, &r, err, sizeof(err));
	cr_assert_eq(n, 3, "%s", err);
	bu = row_of(r, n, "buddy");
	vm = row_of(r, n, "vmalloc");
	gl = row_of(r, n, "glibc");
	/* The same requests: 15360 + 15 allocations each (allocs counts the served). */
	cr_expect_eq(bu->m[MMB_M_allocs] + bu->m[MMB_M_failed_allocs], 15375);
	cr_expect_eq(vm->m[MMB_M_allocs] + vm->m[MMB_M_failed_allocs], 15375);

	cr_expect_gt(bu->m[MMB_M_frag_failed_allocs], 0);
	cr_expect_eq(bu->m[MMB_M_frag_failed_allocs], bu->m[MMB_M_failed_allocs],
		     "every failure was fragmentation");
	cr_expect_eq(bu->m[MMB_M_frag_fail_order], 9);
	cr_expect_gt(bu->m[MMB_M_frag_fail_free_pages], 512, "free frames %g > the 512 asked for",
		     bu->m[MMB_M_frag_fail_free_pages]);
	cr_expect_geq(bu->m[MMB_M_unusable_index_o9], 0.5, "%g", bu->m[MMB_M_unusable_index_o9]);
	cr_expect_geq(frag_order(dir, bu->cell, "first_frag_failure", 9), 0.5);
	cr_expect_geq(frag_order(dir, bu->cell, "zone_peak", 9), 0.5);
	for (unsigned o = 0; o <= 10; o++) {
		cr_expect_not(isnan(frag_order(dir, bu->cell, "first_frag_failure", o)), "o%u", o);
		cr_expect_not(isnan(frag_order(dir, vm->cell, "zone_peak", o)), "o%u", o);
	}

	cr_expect_eq(vm->m[MMB_M_failed_allocs], 0, "vmalloc completes the sequence");
	cr_expect_eq(vm->m[MMB_M_frag_failed_allocs], 0);
	cr_expect(isnan(vm->m[MMB_M_frag_fail_order]), "no failure: empty, not 0");
	cr_expect(isnan(frag_order(dir, vm->cell, "first_frag_failure", 9)));

	cr_expect(isnan(gl->m[MMB_M_frag_failed_allocs]), "glibc has no zone: empty");
	cr_expect(isnan(gl->m[MMB_M_unusable_index_o9]));
	cr_expect(isnan(frag_order(dir, gl->cell, "zone_peak", 9)));

	/* The report shows the same sequence side by side. */
	{
		static char md[1 << 16];

		mmb_run_cmd(&c, "report", dir, NULL);
		cr_assert_eq(c.status, 0, "%s", c.err);
		mmb_slurp_in(dir, "report.md", md, sizeof(md));
		cr_expect(strstr(md, "## Memory pressure"), "%s", md);
		cr_expect(strstr(md, "buddy:free=61M failed for fragmentation; vmalloc:free=61M "
				 "completed the sequence; glibc completed the sequence"), "%s", md);
		cr_expect(strstr(md, "| vmalloc:free=61M | 1/1 | 15375 | 0 | 0 | - |"), "%s", md);
	}
	/* The unusable index over time: a line per zone allocator and order,
	 * none (and no legend entry) for glibc, which measured none. */
	snprintf(path, sizeof(path), "%s/plots/data/unusable-fragmenter.dat", dir);
	if (mmb_exists(path)) {
		static char dat[1 << 20];

		mmb_slurp(path, dat, sizeof(dat));
		cr_expect(strstr(dat, "\"buddy:free=61M order 9\""), "no buddy line");
		cr_expect(strstr(dat, "\"vmalloc:free=61M order 3\""), "no vmalloc line");
		cr_expect(!strstr(dat, "glibc"), "glibc measured no index");
		cr_expect(!strstr(dat, "not measured"), "a '(not measured)' legend entry");
	}
	free(r);
	mmb_rm_rf(dir);
}

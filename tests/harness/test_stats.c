/*
 * test_stats.c — medians, Mann-Whitney U and Hodges-Lehmann against values
 * computed by hand (the counts of the U distribution for 5+5 samples are
 * those of every textbook table: 1 1 2 3 5 7 9 11 14 16 18 19 20 20 ...).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "../../harness/stats.h"

Test(stats, median_and_geomean)
{
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 }, g[] = { 1, 4, 16 }, neg[] = { 1, -1 };

	cr_expect_eq(mmb_median(odd, 3), 3.0);
	cr_expect_eq(mmb_median(even, 4), 2.5);
	cr_expect_eq(odd[0], 5.0, "median must not reorder its input");
	cr_expect(isnan(mmb_median(odd, 0)));
	cr_expect_float_eq(mmb_geomean(g, 3), 4.0, 1e-12);
	cr_expect(isnan(mmb_geomean(neg, 2)));
}

Test(stats, normal_tail)
{
	cr_expect_float_eq(mmb_norm_sf(0), 0.5, 1e-12);
	cr_expect_float_eq(mmb_norm_sf(1.959964), 0.025, 1e-6);
	cr_expect_float_eq(mmb_norm_isf(0.025), 1.959964, 1e-5);
}

/* All of a below all of b: U = 0, the most extreme of 252 orderings. */
Test(stats, mwu_exact_separated)
{
	double a[] = { 1, 2, 3, 4, 5 }, b[] = { 6, 7, 8, 9, 10 };
	struct mmb_mwu r;

	cr_assert_eq(mmb_mann_whitney(a, 5, b, 5, &r), 0);
	cr_expect(r.exact);
	cr_expect_eq(r.u, 0.0);
	cr_expect_float_eq(r.p, 2.0 / 252, 1e-12);
	cr_assert_eq(mmb_mann_whitney(b, 5, a, 5, &r), 0);
	cr_expect_eq(r.u, 25.0);
	cr_expect_float_eq(r.p, 2.0 / 252, 1e-12);
}

/* Interleaved: U = 10, P(U <= 10) = 87/252, p = 174/252 — not significant. */
Test(stats, mwu_exact_not_significant)
{
	double a[] = { 1, 3, 5, 7, 9 }, b[] = { 2, 4, 6, 8, 10 };
	struct mmb_mwu r;

	cr_assert_eq(mmb_mann_whitney(a, 5, b, 5, &r), 0);
	cr_expect_eq(r.u, 10.0);
	cr_expect_float_eq(r.p, 174.0 / 252, 1e-12);
	cr_expect_gt(r.p, 0.05);
}

/*
 * Ties: U = 0 + 0.5 + 0.5 + 2 = 3; tie groups {2,2,2} and {3,3,3} give
 * sum(t^3 - t) = 48, sigma^2 = 16/12 * (9 - 48/56) = 10.857; z = 4.5 / 3.2950
 * = 1.36570, p = erfc(z / sqrt 2) = 0.172034.
 */
Test(stats, mwu_ties_normal_approximation)
{
	double a[] = { 1, 2, 2, 3 }, b[] = { 2, 3, 3, 4 };
	struct mmb_mwu r;

	cr_assert_eq(mmb_mann_whitney(a, 4, b, 4, &r), 0);
	cr_expect(!r.exact);
	cr_expect_eq(r.u, 3.0);
	cr_expect_float_eq(r.p, 0.172034, 1e-5);
}

Test(stats, mwu_all_equal_and_empty)
{
	double a[] = { 7, 7, 7 }, b[] = { 7, 7 };
	struct mmb_mwu r;

	cr_assert_eq(mmb_mann_whitney(a, 3, b, 2, &r), 0);
	cr_expect_eq(r.p, 1.0);
	cr_expect_eq(mmb_mann_whitney(a, 0, b, 2, &r), -EINVAL);
}

/*
 * 40 + 40 samples, no ties, beyond the exact range: U = 210,
 * z = (|210 - 800| - 0.5) / sqrt(1600 * 81 / 12) = 5.6698, p = 1.40756e-8.
 */
Test(stats, mwu_large_normal)
{
	double a[40], b[40];
	struct mmb_mwu r;

	for (int i = 0; i < 40; i++) {
		a[i] = i + 0.5;
		b[i] = 20 + i;
	}
	cr_assert_eq(mmb_mann_whitney(a, 40, b, 40, &r), 0);
	cr_expect(!r.exact);
	cr_expect_eq(r.u, 210.0);
	cr_expect_float_eq(r.p / 1.4075614e-8, 1.0, 1e-4, "p %g", r.p);
}

/*
 * Differences b - a for 1..5 vs 6..10: 1 once, 2 twice, ... 5 five times, ...
 * 9 once. P(U <= 2) = 4/252 <= 0.025 < P(U <= 3) = 7/252, so k = 3 and the
 * 95% interval is [D_(3), D_(23)] = [2, 8]; the estimate is D_(13) = 5.
 */
Test(stats, hodges_lehmann_exact)
{
	double a[] = { 1, 2, 3, 4, 5 }, b[] = { 6, 7, 8, 9, 10 };
	struct mmb_shift s;

	cr_assert_eq(mmb_hl_shift(a, 5, b, 5, 0.95, &s), 0);
	cr_expect_eq(s.est, 5.0);
	cr_expect_eq(s.lo, 2.0);
	cr_expect_eq(s.hi, 8.0);
	/* The interleaved samples: the interval holds 0 (no significant shift). */
	double c[] = { 1, 3, 5, 7, 9 }, d[] = { 2, 4, 6, 8, 10 };

	cr_assert_eq(mmb_hl_shift(c, 5, d, 5, 0.95, &s), 0);
	cr_expect_eq(s.est, 1.0);
	cr_expect_lt(s.lo, 0.0);
	cr_expect_gt(s.hi, 0.0);
}

/* Normal quantile: k = floor(800 - 1.95996 * 93.0 + 0.5) = 596 -> [14.5, 24.5]. */
Test(stats, hodges_lehmann_normal)
{
	double a[40], b[40];
	struct mmb_shift s;

	for (int i = 0; i < 40; i++) {
		a[i] = i + 0.5;
		b[i] = 20 + i;
	}
	cr_assert_eq(mmb_hl_shift(a, 40, b, 40, 0.95, &s), 0);
	cr_expect_eq(s.est, 19.5);
	cr_expect_eq(s.lo, 14.5);
	cr_expect_eq(s.hi, 24.5);
}

/* 2 + 2 samples: the best p is 2/6, so no finite 95% interval exists. */
Test(stats, hodges_lehmann_too_few)
{
	double a[] = { 1, 2 }, b[] = { 3, 4 };
	struct mmb_shift s;

	cr_assert_eq(mmb_hl_shift(a, 2, b, 2, 0.95, &s), 0);
	cr_expect(isinf(s.lo) && s.lo < 0);
	cr_expect(isinf(s.hi) && s.hi > 0);
	cr_expect_eq(mmb_hl_shift(a, 2, b, 2, 1.5, &s), -EINVAL);
}

/*
 * test_hist.c — the latency histogram: bucket layout, percentiles within the
 * stated error of exact ones on random data, merge equal to one recording.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "../../harness/hist.h"
#include "../../harness/util.h"
#include "../../workloads/workload.h"

/* Log-uniform from 1 ns to about 10 s, with a dense cluster near 40 ns. */
static uint64_t draw(uint64_t rng[4])
{
	if (mmb_rand_below(rng, 4) == 0)
		return 35 + mmb_rand_below(rng, 20);
	return (uint64_t)exp(mmb_rand_unit(rng) * log(1e10));
}

Test(hist, buckets_are_contiguous_and_narrow)
{
	static struct mmb_hist h;
	uint64_t prev_hi = 0;

	mmb_hist_init(&h);
	h.max_ns = 100ull << 30;
	for (unsigned i = 0; i < MMB_HIST_NBUCKETS; i++) {
		uint64_t lo, hi;

		mmb_hist_bucket(&h, i, &lo, &hi);
		cr_assert_eq(lo, prev_hi, "bucket %u starts at %lu, previous ended at %lu", i, lo, prev_hi);
		cr_assert_gt(hi, lo);
		if (i < MMB_HIST_NBUCKETS - 1) {
			cr_assert_leq((double)(hi - lo) / 2, (double)lo * MMB_HIST_REL_ERR + 0.5,
				      "bucket %u [%lu,%lu) too wide", i, lo, hi);
			cr_assert_eq(mmb_hist_index(lo), i, "bucket %u [%lu,%lu)", i, lo, hi);
			cr_assert_eq(mmb_hist_index(hi - 1), i);
		}
		prev_hi = hi;
	}
	cr_expect_eq(mmb_hist_index(0), 0u);
	cr_expect_eq(mmb_hist_index(UINT64_MAX), MMB_HIST_NBUCKETS - 1);
}

Test(hist, percentiles_within_stated_error)
{
	enum { N = 200000 };
	const uint64_t seed = 20261126;
	static uint64_t v[N];
	static struct mmb_hist h;
	uint64_t rng[4];
	const double qs[] = { 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0 };

	cr_log_info("seed %lu", (unsigned long)seed);
	mmb_rand_seed(rng, seed);
	mmb_hist_init(&h);
	for (int i = 0; i < N; i++) {
		v[i] = draw(rng);
		mmb_hist_record(&h, v[i]);
	}
	qsort(v, N, sizeof(v[0]), mmb_cmp_u64);
	cr_expect_eq(mmb_hist_total(&h), (uint64_t)N);
	cr_expect_eq(h.min_ns, v[0]);
	cr_expect_eq(h.max_ns, v[N - 1]);
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		size_t rank = (size_t)ceil(qs[k] * N);
		double exact = (double)v[rank - 1], got = mmb_hist_quantile(&h, qs[k]);

		cr_expect_leq(fabs(got - exact), exact * MMB_HIST_REL_ERR,
			      "q=%g: histogram %.1f, exact %.0f (seed %lu)", qs[k], got, exact,
			      (unsigned long)seed);
	}
	cr_expect_eq(mmb_hist_quantile(&h, 1.0), (double)v[N - 1]);
}

Test(hist, merge_equals_single_recording)
{
	const uint64_t seed = 77;
	static struct mmb_hist a, b, all;
	uint64_t rng[4];

	cr_log_info("seed %lu", (unsigned long)seed);
	mmb_rand_seed(rng, seed);
	mmb_hist_init(&a);
	mmb_hist_init(&b);
	mmb_hist_init(&all);
	for (int i = 0; i < 50000; i++) {
		uint64_t x = draw(rng);

		mmb_hist_record(i % 3 ? &a : &b, x);
		mmb_hist_record(&all, x);
	}
	mmb_hist_record(&b, 1ull << 40);	/* overflow */
	mmb_hist_record(&all, 1ull << 40);
	mmb_hist_merge(&a, &b);
	cr_expect_eq(memcmp(&a, &all, sizeof(a)), 0, "merged histogram differs from one recording");
	cr_expect_eq(mmb_hist_quantile(&a, 1.0), (double)(1ull << 40));
}

Test(hist, buckets_round_trip)
{
	static struct mmb_hist h, back;
	uint64_t rng[4];

	mmb_rand_seed(rng, 5);
	mmb_hist_init(&h);
	mmb_hist_init(&back);
	for (int i = 0; i < 10000; i++)
		mmb_hist_record(&h, draw(rng));
	for (unsigned i = 0; i < MMB_HIST_NBUCKETS; i++) {
		uint64_t lo, hi;

		if (!h.counts[i])
			continue;
		mmb_hist_bucket(&h, i, &lo, &hi);
		cr_assert_eq(mmb_hist_add_bucket(&back, lo, hi, h.counts[i]), 0);
	}
	cr_expect_eq(memcmp(back.counts, h.counts, sizeof(h.counts)), 0);
	for (int k = 0; k < MMB_HIST_NPCT; k++)
		cr_expect_leq(fabs(mmb_hist_quantile(&back, mmb_hist_pct[k]) -
				   mmb_hist_quantile(&h, mmb_hist_pct[k])),
			      mmb_hist_quantile(&h, mmb_hist_pct[k]) * 2 * MMB_HIST_REL_ERR);
	cr_expect_eq(mmb_hist_add_bucket(&back, 300, 301, 1), -EINVAL, "not a bucket");
	cr_expect(isnan(mmb_hist_quantile(&(struct mmb_hist){ .min_ns = UINT64_MAX }, 0.5)));
}

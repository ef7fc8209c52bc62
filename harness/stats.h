/*
 * stats.h — the statistics behind `mmbench compare`: medians, the
 * Mann-Whitney U test and the Hodges-Lehmann shift with its confidence
 * interval. Pure functions of their inputs, no I/O, no global state.
 *
 * Why these: benchmark samples are few (repetitions), skewed and sometimes
 * bimodal, so nothing here assumes normality (Go's benchstat makes the same
 * choice). The U test asks "do B's samples tend to be larger than A's?";
 * the Hodges-Lehmann estimator (the median of all pairwise differences
 * b_j - a_i) and its interval are the shift that the same test would accept,
 * so the interval and the p-value come from one distribution:
 *
 *   U   = #{(i,j): a_i > b_j} + 0.5 * #{(i,j): a_i == b_j}       (0 <= U <= na*nb)
 *   p   = exact two-sided, 2 * min(P(U' <= U), P(U' >= U)) under H0, when there are
 *         no ties and na, nb <= MMB_MWU_EXACT_MAX; otherwise the normal approximation
 *         z = (|U - na*nb/2| - 0.5) / sigma with the tie correction
 *         sigma^2 = na*nb/12 * ((N+1) - sum(t^3 - t) / (N(N-1))), N = na + nb
 *   CI  = [D_(k), D_(na*nb+1-k)] over the sorted differences D = {b_j - a_i}, with k the
 *         largest integer such that P(U' <= k-1) <= alpha/2 (exact distribution, or the
 *         normal quantile k = floor(na*nb/2 - z_(alpha/2) * sigma0 + 0.5), sigma0 without
 *         ties, beyond the exact range). Coverage is >= 1 - alpha; k < 1 means the
 *         samples are too few for that confidence and the interval is unbounded.
 */
#ifndef MMB_STATS_H
#define MMB_STATS_H

#include <stddef.h>

/* Largest group size for which the exact U distribution is used. */
#define MMB_MWU_EXACT_MAX 30

/* Sort ascending in place (NaN must not be present). */
void mmb_sort(double *x, size_t n);

/* Median of x[0..n), x untouched; NaN when n == 0. */
double mmb_median(const double *x, size_t n);

/* Geometric mean of the n positive values; NaN if n == 0 or any x <= 0. */
double mmb_geomean(const double *x, size_t n);

struct mmb_mwu {
	double u;		/* U of a, as defined above */
	double p;		/* two-sided p-value */
	int exact;		/* 1: exact distribution; 0: normal approximation */
};

/* The U test of a against b. Returns 0, or -EINVAL if na or nb is 0, -ENOMEM. */
int mmb_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
		     struct mmb_mwu *r);

struct mmb_shift {
	double est;		/* Hodges-Lehmann estimate of the shift b - a */
	double lo, hi;		/* confidence interval; -inf/+inf when n is too small */
};

/*
 * The shift of b over a at confidence conf (0.95 for a 95% interval).
 * Returns 0, or -EINVAL (an empty sample, conf outside (0, 1)), -ENOMEM.
 */
int mmb_hl_shift(const double *a, size_t na, const double *b, size_t nb, double conf,
		 struct mmb_shift *r);

/* P(Z > z) for a standard normal Z; and its inverse for p in (0, 1). */
double mmb_norm_sf(double z);
double mmb_norm_isf(double p);

#endif /* MMB_STATS_H */

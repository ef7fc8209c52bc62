/*
 * stats.c — medians, Mann-Whitney U and Hodges-Lehmann (stats.h).
 *
 * The exact null distribution of U: with f(i, j, u) the number of orderings
 * of i a's and j b's with U = u, putting the largest element last gives
 *   f(i, j, u) = f(i-1, j, u-j) + f(i, j-1, u),   f(0, j, 0) = f(i, 0, 0) = 1
 * (a last a beats all j b's; a last b beats nothing). The counts are held as
 * doubles: C(60, 30) ~ 1.2e17 is beyond 2^53 but every count here is a sum
 * of two others of the same sign, so relative error stays ~1e-16 per step.
 */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int stats_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

void mmb_sort(double *x, size_t n)
{
	qsort(x, n, sizeof(*x), stats_cmp);
}

double mmb_median(const double *x, size_t n)
{
	double *s, m;

	if (n == 0)
		return NAN;
	s = malloc(n * sizeof(*s));
	if (!s)
		return NAN;
	memcpy(s, x, n * sizeof(*s));
	mmb_sort(s, n);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

double mmb_geomean(const double *x, size_t n)
{
	double sum = 0;

	if (n == 0)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		if (!(x[i] > 0))
			return NAN;
		sum += log(x[i]);
	}
	return exp(sum / (double)n);
}

double mmb_norm_sf(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

double mmb_norm_isf(double p)
{
	double lo = -40, hi = 40;

	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;

		if (mmb_norm_sf(mid) > p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* Counts of each U = 0..na*nb over all C(na+nb, na) orderings (malloc'ed). */
static double *mwu_counts(size_t na, size_t nb)
{
	size_t len = na * nb + 1;
	double *prev = calloc((nb + 1) * len, sizeof(double));
	double *cur = calloc((nb + 1) * len, sizeof(double));
	double *out = NULL;

	if (!prev || !cur)
		goto out;
	for (size_t j = 0; j <= nb; j++)
		prev[j * len] = 1;	/* i = 0 */
	for (size_t i = 1; i <= na; i++) {
		memset(cur, 0, (nb + 1) * len * sizeof(double));
		cur[0] = 1;		/* j = 0 */
		for (size_t j = 1; j <= nb; j++)
			for (size_t u = 0; u <= i * j; u++)
				cur[j * len + u] = (u >= j ? prev[j * len + u - j] : 0) +
						   cur[(j - 1) * len + u];
		double *t = prev;

		prev = cur;
		cur = t;
	}
	out = malloc(len * sizeof(double));
	if (out)
		memcpy(out, prev + nb * len, len * sizeof(double));
out:
	free(prev);
	free(cur);
	return out;
}

/* U of a against b; *r_ties = sum over tie groups of t^3 - t (pooled sample). */
static int mwu_u(const double *a, size_t na, const double *b, size_t nb, double *r_u,
		 double *r_ties)
{
	size_t n = na + nb;
	double *all = malloc(n * sizeof(double)), u = 0, ties = 0;

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			u += a[i] > b[j] ? 1 : a[i] == b[j] ? 0.5 : 0;
	memcpy(all, a, na * sizeof(double));
	memcpy(all + na, b, nb * sizeof(double));
	mmb_sort(all, n);
	for (size_t i = 0; i < n;) {
		size_t k = i;

		while (k < n && all[k] == all[i])
			k++;
		ties += pow((double)(k - i), 3) - (double)(k - i);
		i = k;
	}
	free(all);
	*r_u = u;
	*r_ties = ties;
	return 0;
}

static int mwu_exact_ok(size_t na, size_t nb, double ties)
{
	return ties == 0 && na <= MMB_MWU_EXACT_MAX && nb <= MMB_MWU_EXACT_MAX;
}

int mmb_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
		     struct mmb_mwu *r)
{
	double u, ties, mn = (double)na * (double)nb, n = (double)(na + nb);
	int e;

	if (!na || !nb)
		return -EINVAL;
	e = mwu_u(a, na, b, nb, &u, &ties);
	if (e)
		return e;
	r->u = u;
	r->exact = mwu_exact_ok(na, nb, ties);
	if (r->exact) {
		double *c = mwu_counts(na, nb), total = 0, le = 0, ge = 0;

		if (!c)
			return -ENOMEM;
		for (size_t k = 0; k <= na * nb; k++) {
			total += c[k];
			if ((double)k <= u)
				le += c[k];
			if ((double)k >= u)
				ge += c[k];
		}
		free(c);
		r->p = fmin(1.0, 2 * fmin(le, ge) / total);
		return 0;
	}
	double var = mn / 12 * ((n + 1) - ties / (n * (n - 1)));

	if (var <= 0) {
		r->p = 1;	/* every value equal: no evidence of a difference */
		return 0;
	}
	double z = fmax(0, fabs(u - mn / 2) - 0.5) / sqrt(var);

	r->p = fmin(1.0, 2 * mmb_norm_sf(z));
	return 0;
}

/* The k of stats.h: the CI is [D_(k), D_(mn+1-k)] (1-based); 0 = unbounded. */
static long hl_rank(size_t na, size_t nb, double ties, double alpha)
{
	double mn = (double)na * (double)nb;

	if (mwu_exact_ok(na, nb, ties)) {
		double *c = mwu_counts(na, nb), total = 0, cum = 0;
		long k = 0;

		if (!c)
			return -1;
		for (size_t u = 0; u <= na * nb; u++)
			total += c[u];
		/* largest k with P(U <= k-1) <= alpha/2 */
		for (size_t u = 0; u <= na * nb; u++) {
			cum += c[u];
			if (cum / total > alpha / 2)
				break;
			k = (long)u + 1;
		}
		free(c);
		return k;
	}
	double sigma = sqrt(mn * (double)(na + nb + 1) / 12);
	double k = floor(mn / 2 - mmb_norm_isf(alpha / 2) * sigma + 0.5);

	return k < 0 ? 0 : (long)k;
}

int mmb_hl_shift(const double *a, size_t na, const double *b, size_t nb, double conf,
		 struct mmb_shift *r)
{
	size_t m = na * nb, i = 0;
	double *d, u, ties;
	long k;
	int e;

	if (!na || !nb || !(conf > 0 && conf < 1))
		return -EINVAL;
	e = mwu_u(a, na, b, nb, &u, &ties);
	if (e)
		return e;
	d = malloc(m * sizeof(double));
	if (!d)
		return -ENOMEM;
	for (size_t x = 0; x < na; x++)
		for (size_t y = 0; y < nb; y++)
			d[i++] = b[y] - a[x];
	mmb_sort(d, m);
	r->est = m % 2 ? d[m / 2] : (d[m / 2 - 1] + d[m / 2]) / 2;
	k = hl_rank(na, nb, ties, 1 - conf);
	if (k < 0) {
		free(d);
		return -ENOMEM;
	}
	if (k == 0 || (size_t)k > (m + 1) / 2) {
		r->lo = -INFINITY;
		r->hi = INFINITY;
	} else {
		r->lo = d[k - 1];
		r->hi = d[m - (size_t)k];
	}
	free(d);
	return 0;
}

/*
 * hist.c — histogram bucket arithmetic, merge and quantiles (hist.h).
 */
#include "hist.h"

#include <errno.h>
#include <math.h>
#include <string.h>

const double mmb_hist_pct[MMB_HIST_NPCT] = { 0.50, 0.90, 0.99, 0.999, 0.9999 };

void mmb_hist_init(struct mmb_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

void mmb_hist_bucket(const struct mmb_hist *h, unsigned i, uint64_t *r_lo, uint64_t *r_hi)
{
	unsigned sub = 1u << MMB_HIST_SUB_BITS;

	if (i == MMB_HIST_NBUCKETS - 1) {
		*r_lo = 1ull << MMB_HIST_TOP_SHIFT;
		*r_hi = h->max_ns + 1 > *r_lo ? h->max_ns + 1 : *r_lo + 1;
		return;
	}
	if (i < 2 * sub) {
		*r_lo = i;
		*r_hi = i + 1ull;
		return;
	}
	unsigned shift = i / sub - 1;	/* e - SUB_BITS */
	uint64_t base = (uint64_t)(i % sub + sub);

	*r_lo = base << shift;
	*r_hi = (base + 1) << shift;
}

int mmb_hist_add_bucket(struct mmb_hist *h, uint64_t lo, uint64_t hi, uint64_t count)
{
	unsigned i = mmb_hist_index(lo);
	uint64_t blo, bhi;

	mmb_hist_bucket(h, i, &blo, &bhi);
	if (blo != lo || (i != MMB_HIST_NBUCKETS - 1 && bhi != hi) || hi <= lo)
		return -EINVAL;
	h->counts[i] += count;
	if (count && lo < h->min_ns)
		h->min_ns = lo;
	if (count && hi - 1 > h->max_ns)
		h->max_ns = hi - 1;
	return 0;
}

void mmb_hist_merge(struct mmb_hist *dst, const struct mmb_hist *src)
{
	for (unsigned i = 0; i < MMB_HIST_NBUCKETS; i++)
		dst->counts[i] += src->counts[i];
	if (src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

uint64_t mmb_hist_total(const struct mmb_hist *h)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < MMB_HIST_NBUCKETS; i++)
		n += h->counts[i];
	return n;
}

double mmb_hist_quantile(const struct mmb_hist *h, double q)
{
	uint64_t rank, seen = 0, total = mmb_hist_total(h);

	if (!total)
		return NAN;
	if (q >= 1)
		return (double)h->max_ns;
	rank = (uint64_t)ceil(q * (double)total);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < MMB_HIST_NBUCKETS; i++) {
		uint64_t lo, hi;
		double mid;

		seen += h->counts[i];
		if (seen < rank)
			continue;
		if (i == MMB_HIST_NBUCKETS - 1)
			return (double)h->max_ns;
		mmb_hist_bucket(h, i, &lo, &hi);
		mid = hi - lo == 1 ? (double)lo : (double)lo + (double)(hi - lo) / 2;
		if (mid < (double)h->min_ns)
			mid = (double)h->min_ns;
		if (mid > (double)h->max_ns)
			mid = (double)h->max_ns;
		return mid;
	}
	return (double)h->max_ns;
}

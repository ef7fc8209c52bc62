/*
 * hist.h — log-linear latency histogram (HdrHistogram's layout, fixed).
 *
 * Values are ns. Below 256 every value has its own bucket (exact). Each
 * octave [2^e, 2^(e+1)), e = 8..35, is split into 128 equal buckets of width
 * 2^(e-7), so a bucket is at most 1/128 of its lower bound wide; a value
 * reported as its bucket's midpoint is within 1/256 (0.39%) of the truth.
 * Values >= 2^36 ns (68.7 s) land in one overflow bucket whose reported
 * value is the exact maximum.
 *
 *	index(v) = ((e - 7) << 7) + (v >> (e - 7)),  e = max(floor(log2 v), 7)
 *
 * which is v itself below 256 and contiguous above it (MMB_HIST_NBUCKETS
 * buckets in all, the last being overflow).
 *
 * Invariants: min <= every recorded value <= max; the number of values is
 * sum(counts[]) (mmb_hist_total; not kept, so a record is one increment and
 * two compares). Merging adds counts bucket by bucket, so
 * merge(record(A), record(B)) == record(A then B) exactly.
 *
 * Thread model: one histogram per thread per operation kind, written only by
 * its thread; merged after the threads are joined.
 */
#ifndef MMB_HIST_H
#define MMB_HIST_H

#include <stddef.h>
#include <stdint.h>

#define MMB_HIST_SUB_BITS 7
#define MMB_HIST_TOP_SHIFT 36		/* 2^36 ns and above: overflow */
#define MMB_HIST_NBUCKETS (((MMB_HIST_TOP_SHIFT - MMB_HIST_SUB_BITS + 1) << MMB_HIST_SUB_BITS) + 1)
#define MMB_HIST_REL_ERR (1.0 / 256)	/* stated bound of a reported percentile */

struct mmb_hist {
	uint64_t min_ns, max_ns;
	uint64_t counts[MMB_HIST_NBUCKETS];
};

void mmb_hist_init(struct mmb_hist *h);

static inline unsigned mmb_hist_index(uint64_t v)
{
	unsigned e = 63 - (unsigned)__builtin_clzll(v | 1);

	if (e < MMB_HIST_SUB_BITS)
		e = MMB_HIST_SUB_BITS;
	if (e >= MMB_HIST_TOP_SHIFT)
		return MMB_HIST_NBUCKETS - 1;
	return ((e - MMB_HIST_SUB_BITS) << MMB_HIST_SUB_BITS) +
	       (unsigned)(v >> (e - MMB_HIST_SUB_BITS));
}

static inline void mmb_hist_record(struct mmb_hist *h, uint64_t v)
{
	h->counts[mmb_hist_index(v)]++;
	if (v < h->min_ns)
		h->min_ns = v;
	if (v > h->max_ns)
		h->max_ns = v;
}

/* Bucket i covers [lo, hi) ns; the overflow bucket's hi is max_ns + 1. */
void mmb_hist_bucket(const struct mmb_hist *h, unsigned i, uint64_t *r_lo, uint64_t *r_hi);

/* Add a bucket's count as if its values had been recorded (latency.csv
 * reader); min/max become the bucket's bounds. Returns 0, or -EINVAL when
 * [lo, hi) is not a bucket. */
int mmb_hist_add_bucket(struct mmb_hist *h, uint64_t lo, uint64_t hi, uint64_t count);

/* Values recorded: sum of the buckets. */
uint64_t mmb_hist_total(const struct mmb_hist *h);

/* dst += src. */
void mmb_hist_merge(struct mmb_hist *dst, const struct mmb_hist *src);

/*
 * The q-quantile (0 < q <= 1), nearest-rank: the bucket holding the
 * ceil(q * total)-th smallest value, reported as its midpoint clamped to
 * [min, max]. q = 1 gives max exactly. NaN when empty.
 */
double mmb_hist_quantile(const struct mmb_hist *h, double q);

/* The percentiles of cells.csv, in column order: p50 p90 p99 p99.9 p99.99. */
#define MMB_HIST_NPCT 5
extern const double mmb_hist_pct[MMB_HIST_NPCT];

#endif /* MMB_HIST_H */

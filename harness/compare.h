/*
 * compare.h — `mmbench compare`: is configuration B better than A, by how
 * much, and is the difference real?
 *
 *   mmbench compare A B               every (allocator config, workload, threads) in both runs
 *   mmbench compare DIR --baseline X  every config of one run against config X
 *
 * For each metric: the medians, the change of the medians in percent, a
 * 95% interval for that change, and a Mann-Whitney U p-value over the
 * repetitions (stats.h). A change is significant when both say so: p < 0.05
 * and the interval excludes 0 (with few repetitions the exact U test and the
 * discrete interval can disagree at the edge; then it is "~", never a change
 * whose interval touches 0). The interval is the Hodges-Lehmann interval of
 * the shift of log values (the ratio B/A; positive values), else of the
 * values over |median A|. Direction: headline.h (*_per_sec higher-is-better,
 * latencies, footprint, faults, ratios, counters lower-is-better).
 * --fail-on-regression PCT exits 1 when a significant change is worse than
 * PCT, and 2 when the two sides have no row in common (nothing was checked).
 * Output: text (aligned columns, values in human units, units.h), csv,
 * markdown or json (raw numbers; null = not measured or unbounded).
 */
#ifndef MMB_COMPARE_H
#define MMB_COMPARE_H

#include <stdio.h>

#include "headline.h"
#include "resdir.h"

#define MMB_COMPARE_ALPHA 0.05
#define MMB_EXIT_REGRESSION 1

struct mmb_cmp_row {
	const char *alabel, *wlabel;	/* B's allocator label (A/B) or the compared config */
	unsigned threads;
	size_t na, nb;
	double med_a, med_b;
	double change_pct;		/* 100 * (med_b / med_a - 1) */
	double lo_pct, hi_pct;		/* 95% interval of the change; +-inf: too few samples */
	double p;			/* Mann-Whitney, two-sided */
	int significant;		/* p < MMB_COMPARE_ALPHA and the interval excludes 0 */
	int worse;			/* the change goes against the metric's direction */
};

/*
 * The comparison rows of one metric: A/B (base == NULL: A = a, B = b) or a
 * baseline within one run (a == b, base = the baseline's label). Returns the
 * row count with *r_rows malloc'ed, or -ENOMEM.
 */
int mmb_compare_rows(const struct mmb_resdir *a, const struct mmb_resdir *b, const char *base,
		     const char *metric, struct mmb_cmp_row **r_rows);

/*
 * Fill r's statistics from the samples a[0..r->na) and b[0..r->nb) (both
 * non-empty, at most 4096 each) of metric. Returns 0, -EINVAL or -ENOMEM.
 */
int mmb_compare_fill(struct mmb_cmp_row *r, const double *a, const double *b, const char *metric);

int mmb_compare_main(int argc, char **argv);

#endif /* MMB_COMPARE_H */

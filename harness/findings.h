/*
 * findings.h — what report.html opens with: for each workload label (and
 * thread count), the allocator configurations ranked on each finding
 * headline metric (headline.h: throughput, p99.9 latencies, footprint,
 * fragmentation measures, failed allocs), each against a baseline with the
 * change of the medians, its 95% interval and "~" when not significant, as
 * `mmbench compare --baseline` computes them (compare.h).
 *
 * Baseline: the configuration asked for (report --baseline NAME), else
 * jemalloc-malloc; in a group where it has no finished cell, the first
 * configuration that has one (fallback set, and the report says so).
 * A metric is a column of a group when some finished cell of the group
 * measured it (NONZERO metrics: counted one); rows are ordered by the first
 * column (best first), cells without a value last. Ranks count from 1 per
 * column, ties sharing a rank.
 */
#ifndef MMB_FINDINGS_H
#define MMB_FINDINGS_H

#include "compare.h"
#include "resdir.h"

#define MMB_FINDINGS_DEFAULT_BASE "jemalloc-malloc"
#define MMB_FINDINGS_MAXCOLS 16

struct mmb_finding_cell {
	double median;			/* NaN: not measured */
	int rank;			/* 1 = best; 0 when not measured */
	int compared;			/* cmp holds the change against the baseline */
	struct mmb_cmp_row cmp;
};

struct mmb_finding_row {
	const char *alabel;
	int ok, total;			/* finished and all cells of this row */
	int is_base;
	struct mmb_finding_cell cell[MMB_FINDINGS_MAXCOLS];
};

struct mmb_finding_group {
	const char *wlabel;
	unsigned threads;
	const char *base;		/* the baseline's label, NULL if no cell finished */
	int fallback;			/* the asked baseline has no finished cell here */
	int ncols;
	int col[MMB_FINDINGS_MAXCOLS];	/* mmb_headlines index of each column */
	int nrows;
	struct mmb_finding_row *rows;
};

struct mmb_findings {
	int ngroups;
	struct mmb_finding_group *groups;
};

/* Build the findings of rd against base (NULL: the default). 0 or -ENOMEM. */
int mmb_findings_build(const struct mmb_resdir *rd, const char *base, struct mmb_findings *f);
void mmb_findings_free(struct mmb_findings *f);

#endif /* MMB_FINDINGS_H */

/*
 * headline.h — the headline metrics: the cells.csv columns that the run's
 * summary, the report's findings and compare lead with, in that order, each
 * with its direction (is more better?) and a short title.
 *
 * One table, so a new metric column (metrics.h) reaches all three readers by
 * one line here. A headline metric that a run did not measure (every value
 * NaN) is left out where it would show, never printed as 0. Columns not in
 * the table get the default direction: *_per_sec higher-is-better, anything
 * else (times, bytes, faults, ratios, counts) lower-is-better.
 */
#ifndef MMB_HEADLINE_H
#define MMB_HEADLINE_H

#define MMB_HL_SUMMARY 1	/* a column of `mmbench run`'s closing summary */
#define MMB_HL_FINDING 2	/* ranked against the baseline in report.html's findings */
#define MMB_HL_NONZERO 4	/* shown only where some cell counted one (failed_allocs) */

struct mmb_headline {
	const char *metric;	/* cells.csv column */
	const char *title;	/* "throughput", "alloc p99.9" */
	int higher_better;
	int where;		/* MMB_HL_* bits */
};

extern const struct mmb_headline mmb_headlines[];
extern const int mmb_nheadlines;

/* The entry of a column, or NULL. */
const struct mmb_headline *mmb_headline_find(const char *metric);

/* 1 if a larger value of the column is better (the table, else the suffix rule). */
int mmb_metric_higher_better(const char *metric);

#endif /* MMB_HEADLINE_H */

/*
 * summary.h — the few lines `mmbench run` ends with: one line per
 * (allocator config, workload label, thread count) of the results folder,
 * read back through resdir.h so the labels are the ones plots, report and
 * compare use (a workload with several parameter sets is "name:params"; a
 * fault-census group has its own lines).
 *
 * Each line: the finished repetitions of all run ("3/3"), then for each
 * summary headline metric (headline.h) that some cell measured, the median
 * in human units (units.h) and its spread, the lowest and highest
 * repetition relative to the median ("-2.10%..+3.40%", a factor past
 * +1000%: "x37.3"; none with one repetition or when all are equal). A NONZERO column (failed allocs) shows only when a cell
 * counted one. Threads show when the run has several thread counts.
 */
#ifndef MMB_SUMMARY_H
#define MMB_SUMMARY_H

#include <stdio.h>

#include "resdir.h"

/* Print the summary of rd to f. */
void mmb_summary_print(const struct mmb_resdir *rd, FILE *f);

#endif /* MMB_SUMMARY_H */

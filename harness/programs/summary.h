/*
 * summary.h — the end-of-run table of program cells (`mmbench run`): per
 * program and allocator config, the finished / planned repetitions and the
 * medians of wall time, user + system time and peak RSS over the ok ones.
 * The other workloads' table (run.c) has no program rows.
 */
#ifndef MMB_PROG_SUMMARY_H
#define MMB_PROG_SUMMARY_H

#include "../plan.h"
#include "../results.h"

/* Print the table on stdout (nothing when the plan has no program). */
void mmb_prog_summary(const struct mmb_plan *p, const struct mmb_result *results);

#endif /* MMB_PROG_SUMMARY_H */

/*
 * report.h — `mmbench report DIR` and `mmbench export`.
 *
 * report: draws the figures (plot.h; notes into DIR/plots/plot.log, not the
 * terminal; skipped with a note in the report when gnuplot is missing) and
 * writes DIR/report.md and DIR/report.html, in this order: the findings
 * (findings.h: per workload, configurations ranked on the headline metrics
 * against a baseline, --baseline NAME or jemalloc-malloc, with change, 95%
 * interval and "~"), the figures grouped by workload, the key figures per
 * workload (medians, human units, two tables so none is wider than the
 * page), the cells that did not finish, and the run and the machine from
 * meta.json (every key, known ones first; nested objects flattened to one
 * row per value, jsonflat.h). report.html is self-contained: inline CSS and
 * inline SVG (not the PNGs too), no script, no link outside the file, so it
 * opens offline. Both files are replaced atomically. On stdout: the figure
 * count with plot.log's path, then report.md's and report.html's paths
 * (the last line).
 *
 * export --format mimalloc-bench: one line per finished cell in the format of
 * mimalloc-bench's benchres.csv, "test alloc elapsed rss user sys
 * page-faults page-reclaims" (GNU time's %E %M %U %S %F %R; elapsed as
 * bench.sh leaves it, "ss.ss" or "m:ss.ss"), so its scripts read our runs.
 */
#ifndef MMB_REPORT_H
#define MMB_REPORT_H

#include <stdio.h>

#include "resdir.h"

/* Write the mimalloc-bench lines of rd to f. */
void mmb_export_mimalloc_bench(const struct mmb_resdir *rd, FILE *f);

int mmb_report_main(int argc, char **argv);
int mmb_export_main(int argc, char **argv);

#endif /* MMB_REPORT_H */

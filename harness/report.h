/*
 * report.h — `mmbench report DIR` and `mmbench export`.
 *
 * report: draws the figures (plot.h; skipped with a note when gnuplot is
 * missing) and writes DIR/report.md and DIR/report.html: the run and the
 * machine from meta.json (every key, known ones first), a table of key
 * figures per workload (medians over the finished repetitions; a column
 * appears only when something was measured), the cells that did not finish,
 * and the figures. report.html is self-contained: inline CSS and inline SVG,
 * no script, no link outside the file, so it opens offline. Both files are
 * replaced atomically.
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

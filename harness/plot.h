/*
 * plot.h — `mmbench plot DIR`: the results folder's figures, drawn by the
 * gnuplot scripts of plots/ into DIR/plots/ as PNG (pngcairo) and SVG.
 *
 * For each figure plot.c writes a plot-ready data file (DIR/plots/data/
 * NAME.dat: series as gnuplot data blocks, or bar rows) from cells.csv and
 * the side files latency.csv, timeline.csv and faults.csv, then runs
 * gnuplot once per format. A figure whose input is absent or empty is
 * skipped with a note. gnuplot writes to a temporary name that is renamed
 * into place only when gnuplot exits 0 and the file is not empty, so a
 * failed figure leaves no image behind (make's .DELETE_ON_ERROR, in C).
 *
 * Scripts are found in --scripts DIR, else $MMB_PLOTS, else plots/ beside
 * the binary's build folder (build/mmbench -> plots/).
 */
#ifndef MMB_PLOT_H
#define MMB_PLOT_H

#include <stdio.h>

#include "resdir.h"

/* 0 if gnuplot is on PATH, else -ENOENT. */
int mmb_plot_have_gnuplot(void);

/* The scripts folder (scripts: an explicit one, or NULL). 0 or -ENOENT. */
int mmb_plot_find_scripts(const char *scripts, char *buf, size_t len);

/*
 * Draw every figure of rd into rd->dir/plots/ with the scripts in lib;
 * notes (skips, files written, gnuplot errors) go to log. Returns the number
 * of figures drawn, or -errno: -EIO when some figure failed (the others are
 * drawn), other values when the plots folder cannot be made.
 */
int mmb_plot_dir(const struct mmb_resdir *rd, const char *lib, FILE *log);

int mmb_plot_main(int argc, char **argv);

#endif /* MMB_PLOT_H */

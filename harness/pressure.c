/*
 * pressure.c — the side-by-side rows of the report's memory-pressure
 * section (pressure.h).
 */
#include "pressure.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const char *const mmb_pressure_head[MMB_PRESSURE_COLS] = {
	"allocator", "n", "requests", "failed", "fragmentation failures",
	"free frames at the first", "unusable idx o9 (peak)",
};

/* Median of metric over the finished cells of (alabel, wl); NaN when none. */
static double pr_median(const struct mmb_resdir *rd, const char *al, const char *wl,
			const char *metric)
{
	static double buf[4096];
	size_t m = mmb_resdir_samples(rd, al, wl, 0, metric, buf, 4096);

	return m ? mmb_median(buf, m) : NAN;
}

static void pr_num(char *buf, const char *fmt, double v)
{
	if (isnan(v))
		snprintf(buf, MMB_PRESSURE_CELL, "-");
	else
		snprintf(buf, MMB_PRESSURE_CELL, fmt, v);
}

int mmb_pressure_rows(const struct mmb_resdir *rd, const char *wl, struct mmb_pressure_row **r_rows,
		      char *summary, size_t len)
{
	const char **al;
	int nal = mmb_resdir_alabels(rd, &al), n = 0, any = 0;
	struct mmb_pressure_row *rows;
	size_t so = 0;

	*r_rows = NULL;
	summary[0] = 0;
	if (nal < 0)
		return -ENOMEM;
	for (int i = 0; i < rd->ncells && !any; i++)
		any = mmb_resdir_ok(rd, i) && !strcmp(rd->wlabel[i], wl) &&
		      mmb_resdir_value(rd, i, "frag_failed_allocs") > 0;
	rows = any ? calloc((size_t)nal + 1, sizeof(*rows)) : NULL;
	if (any && !rows) {
		free(al);
		return -ENOMEM;
	}
	for (int a = 0; any && a < nal; a++) {
		double allocs = pr_median(rd, al[a], wl, "allocs");
		double failed = pr_median(rd, al[a], wl, "failed_allocs");
		double frag = pr_median(rd, al[a], wl, "frag_failed_allocs");
		double free_pages = pr_median(rd, al[a], wl, "frag_fail_free_pages");
		double order = pr_median(rd, al[a], wl, "frag_fail_order");
		struct mmb_pressure_row *r = &rows[n];
		int ok = 0, total = 0;

		for (int i = 0; i < rd->ncells; i++)
			if (!strcmp(rd->alabel[i], al[a]) && !strcmp(rd->wlabel[i], wl)) {
				total++;
				ok += mmb_resdir_ok(rd, i);
			}
		if (!ok)
			continue;
		snprintf(r->cell[0], MMB_PRESSURE_CELL, "%s", al[a]);
		snprintf(r->cell[1], MMB_PRESSURE_CELL, "%d/%d", ok, total);
		pr_num(r->cell[2], "%.0f", allocs + (isnan(failed) ? 0 : failed));
		pr_num(r->cell[3], "%.0f", failed);
		pr_num(r->cell[4], "%.0f", frag);
		if (!isnan(free_pages) && !isnan(order))
			snprintf(r->cell[5], MMB_PRESSURE_CELL, "%.0f (order %.0f asks %.0f)", free_pages,
				 order, ldexp(1, (int)order));
		else
			pr_num(r->cell[5], "%.0f", free_pages);
		pr_num(r->cell[6], "%.3f", pr_median(rd, al[a], wl, "unusable_index_o9"));
		if (so < len)
			so += (size_t)snprintf(summary + so, len - so, "%s%s %s", n ? "; " : "", al[a],
					       failed == 0 ? "completed the sequence"
					       : frag > 0  ? "failed for fragmentation"
					       : frag == 0 ? "failed for lack of memory"
							   : "failed");
		n++;
	}
	free(al);
	if (!n) {
		free(rows);
		rows = NULL;
	}
	*r_rows = rows;
	return n;
}

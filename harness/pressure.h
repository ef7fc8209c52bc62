/*
 * pressure.h — the report's "memory pressure" section as data: for a
 * workload in which some allocator on the buddy zone had a fragmentation
 * failure (cells.csv frag_failed_allocs > 0), the same sequence on every
 * configuration that ran it, side by side: requests, failures, how many of
 * them were fragmentation failures, the zone's free frames at the first
 * one, the unusable index at order 9 at the zone's peak, and whether the
 * sequence completed (no failed call). Medians over finished repetitions.
 * The rendering (Markdown, HTML) stays in report.c.
 */
#ifndef MMB_PRESSURE_H
#define MMB_PRESSURE_H

#include "resdir.h"

#define MMB_PRESSURE_COLS 7
#define MMB_PRESSURE_CELL 96

extern const char *const mmb_pressure_head[MMB_PRESSURE_COLS];

struct mmb_pressure_row {
	char cell[MMB_PRESSURE_COLS][MMB_PRESSURE_CELL];
};

/*
 * Rows for workload label wl, one per allocator label that finished it,
 * into *r_rows (malloc'ed; free it), and a one-line summary into summary.
 * Returns the number of rows, 0 when no cell of wl had a fragmentation
 * failure (no section), or -ENOMEM.
 */
int mmb_pressure_rows(const struct mmb_resdir *rd, const char *wl, struct mmb_pressure_row **r_rows,
		      char *summary, size_t len);

#endif /* MMB_PRESSURE_H */

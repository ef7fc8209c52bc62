/*
 * results.h — one cell's result, and the cells.csv format.
 *
 * cells.csv: a header row, then one row per finished cell in cell order.
 * The identity columns come first (MMB_RESULT_IDENTITY below), then one
 * column per metric of MMB_METRICS (metrics.h). Fields holding commas,
 * quotes or line breaks are quoted as RFC 4180 says. An empty metric field means "not
 * measured". The file is rewritten atomically after every finished cell, so
 * it always holds every finished cell and never a half-written row.
 */
#ifndef MMB_RESULTS_H
#define MMB_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "metrics.h"

/* Cell status, as written in the status column. */
#define MMB_ST_OK "ok"
#define MMB_ST_CRASHED "crashed"	/* killed by a signal; detail names it */
#define MMB_ST_TIMEOUT "timeout"	/* passed --cell-timeout and was killed */
#define MMB_ST_FAILED "failed"		/* reported an error; detail says which */

struct mmb_result {
	unsigned cell;			/* 1-based index in the plan */
	char allocator[64];		/* registry name */
	char config[512];		/* options given, "k=v,k=v" ("" = defaults) */
	char workload[64];
	char params[512];		/* every workload parameter, "k=v,k=v" */
	unsigned threads, rep;		/* rep is 1-based */
	uint64_t seed;
	char status[16];
	char detail[256];		/* why, for a cell that is not ok */
	char malloc_provider[256];	/* library that served the blocks ("" = none reported) */
	double m[MMB_M_COUNT];		/* NaN = not measured */
};

/* Clear r and set every metric to NaN. */
void mmb_result_init(struct mmb_result *r);

/* Write the header row / one row. Return 0 or -EIO. */
int mmb_csv_write_header(FILE *f);
int mmb_csv_write_row(FILE *f, const struct mmb_result *r);

/*
 * Read a cells.csv. Returns the number of rows (>= 0) with *r_rows malloc'ed
 * (free it), or -errno: -ENOENT no file, -EPROTO not a cells.csv (err says
 * which line and why). Unknown columns are ignored; missing metric columns
 * read as not measured.
 */
int mmb_csv_read(const char *path, struct mmb_result **r_rows, char *err, size_t errlen);

/* "glibc" or "glibc:arena_max=2": the label of a row's allocator config. */
void mmb_result_label(const struct mmb_result *r, char *buf, size_t len);

#endif /* MMB_RESULTS_H */

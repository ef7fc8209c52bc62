/*
 * results.h — one cell's result, and the cells.csv format.
 *
 * cells.csv: a header row, then one row per finished cell in cell order.
 * The identity columns come first (MMB_RESULT_IDENTITY below), then one
 * column per metric of MMB_METRICS (metrics.h), then the run's dynamic
 * columns (struct mmb_xcols: hardware counters, hw_<event>_per_op, whose set
 * depends on --events). Fields holding commas, quotes or line breaks are
 * quoted as RFC 4180 says. An empty metric field means "not measured"; "n/a" in a dynamic
 * column means the machine cannot measure it (meta.json says why), and
 * reads back as not measured too. The file is rewritten atomically after every finished cell, so
 * it always holds every finished cell and never a half-written row.
 */
#ifndef MMB_RESULTS_H
#define MMB_RESULTS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "metrics.h"

/* Cell status, as written in the status column. */
#define MMB_ST_OK "ok"
#define MMB_ST_CRASHED "crashed"	/* killed by a signal; detail names it */
#define MMB_ST_TIMEOUT "timeout"	/* passed --cell-timeout and was killed */
#define MMB_ST_FAILED "failed"		/* reported an error; detail says which */
#define MMB_ST_LOST "lost"		/* never ran: its Slurm task died (detail: the task's state);
					 * --resume runs it again (slurm/merge.c) */

#define MMB_XCOL_MAX 32			/* dynamic columns per run */
#define MMB_XCOL_NAME 64

/* A run's dynamic columns, in order. */
struct mmb_xcols {
	unsigned n;
	char name[MMB_XCOL_MAX][MMB_XCOL_NAME];
};

/* One dynamic value of a result, found by column name. */
struct mmb_xval {
	char name[MMB_XCOL_NAME];
	double v;			/* NaN = not measured */
	int na;				/* 1: "n/a", cannot be measured here */
};

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
	unsigned nx;
	struct mmb_xval x[MMB_XCOL_MAX];	/* dynamic columns */
};

/* Clear r and set every metric to NaN. */
void mmb_result_init(struct mmb_result *r);

/* Write the header row / one row; xc = the run's dynamic columns (NULL =
 * none). Return 0 or -EIO. */
int mmb_csv_write_header(FILE *f, const struct mmb_xcols *xc);
int mmb_csv_write_row(FILE *f, const struct mmb_result *r, const struct mmb_xcols *xc);

/* Set r's dynamic column name to v (na: "n/a"). Returns 0, or -ENOSPC. */
int mmb_result_set_x(struct mmb_result *r, const char *name, double v, int na);

/* r's dynamic value by column name, or NULL. */
const struct mmb_xval *mmb_result_get_x(const struct mmb_result *r, const char *name);

/*
 * Read a cells.csv. Returns the number of rows (>= 0) with *r_rows malloc'ed
 * (free it), or -errno: -ENOENT no file, -EPROTO not a cells.csv (err says
 * which line and why). Columns that are neither identity nor metrics are
 * read as dynamic columns (r->x, at most MMB_XCOL_MAX; "n/a" sets na and
 * reads as NaN); missing metric columns read as not measured.
 */
int mmb_csv_read(const char *path, struct mmb_result **r_rows, char *err, size_t errlen);

/* Write s as one CSV field, quoted when it holds a comma, quote or newline. */
void mmb_csv_field(FILE *f, const char *s);

/*
 * Read one CSV record into *line (getline's buffer): a line, joined with the
 * next ones while a quoted field is open (a value holding a line break),
 * without its final line break. Returns its length, or -1 at the end of the
 * file; *r_lines is the number of lines it took.
 */
ssize_t mmb_csv_read_record(char **line, size_t *cap, FILE *f, unsigned *r_lines);

/*
 * Split one CSV record (RFC 4180) from line into fields, in place. A quoted
 * field may hold line breaks (read the record with mmb_csv_read_record).
 * Returns the field count, or -1 for a malformed line or more than max fields.
 */
int mmb_csv_split(char *line, char **fields, int max);

/* "glibc" or "glibc:arena_max=2": the label of a row's allocator config. */
void mmb_result_label(const struct mmb_result *r, char *buf, size_t len);

#endif /* MMB_RESULTS_H */

/*
 * resdir.h — a results folder opened for reading: what `mmbench plot`,
 * `report`, `compare` and `export` read, and the one place that decides
 * whether a folder is a results folder of a schema this mmbench reads.
 *
 * A results folder holds meta.json (its top-level keys are kept as text:
 * strings unescaped, arrays as items joined by MMB_META_SEP, nested objects
 * as raw JSON) and cells.csv, read twice: as struct mmb_result rows
 * (mmb_csv_read, metrics.h columns) and as a table (table.h) for the columns
 * metrics.h does not list. Rows of both are in file order, so row i is the
 * same cell in each (invariant: ncells == ctab.nrows).
 *
 * Labels: a row's allocator label is mmb_result_label() ("glibc",
 * "glibc:tcache_count=0"); its workload label is the workload's name, or
 * "name:" and the parameters that tell its parameter set apart from the
 * workload's others ("sizes:min=16", not every default) when the run holds
 * that workload with more than one parameter set (all parameters if the
 * differing ones would make two sets alike), followed by MMB_CENSUS_LABEL
 * for a fault-census cell
 * (cells.csv fault_census 1 or 2; before that column, meta.json's
 * faults.mode). So every reader keeps census cells, whose latencies include
 * fault handling, apart from timing cells: figures, report tables and
 * compare's rows name them "pages (fault census)", and compare matches
 * census only with census.
 */
#ifndef MMB_RESDIR_H
#define MMB_RESDIR_H

#include <stddef.h>

#include "results.h"
#include "table.h"

#define MMB_META_SEP '\x1f'
#define MMB_CENSUS_LABEL " (fault census)"

struct mmb_meta_kv {
	char *key, *val;
};

struct mmb_resdir {
	char dir[4096];
	struct mmb_meta_kv *kv;
	int nkv;
	int schema_version;
	struct mmb_result *cells;
	int ncells;
	struct mmb_table ctab;
	char (*alabel)[600], (*wlabel)[600];	/* per row */
};

/*
 * Open dir. Returns 0, or -errno with err naming the problem: -ENOENT not a
 * results folder (no folder, no meta.json or no cells.csv), -EPROTO a
 * malformed file or a schema_version other than MMB_SCHEMA_VERSION, -ENOMEM.
 */
int mmb_resdir_open(const char *dir, struct mmb_resdir *rd, char *err, size_t errlen);
void mmb_resdir_close(struct mmb_resdir *rd);

/* A meta.json value as text, list items joined by sep; NULL when absent. */
const char *mmb_resdir_meta(const struct mmb_resdir *rd, const char *key, const char *sep,
			    char *buf, size_t len);

/* 1 if cells.csv has the column (a metrics.h metric or a dynamic one). */
int mmb_resdir_has(const struct mmb_resdir *rd, const char *metric);

/* Row's value of a column by name; NaN when not measured or no such column. */
double mmb_resdir_value(const struct mmb_resdir *rd, int row, const char *metric);

/* 1 if the row is a finished cell (status ok). */
int mmb_resdir_ok(const struct mmb_resdir *rd, int row);

/*
 * The measured values of metric over the ok cells with this allocator label,
 * workload label and thread count (threads 0 = any), into out[0..max).
 * Returns how many.
 */
size_t mmb_resdir_samples(const struct mmb_resdir *rd, const char *alabel, const char *wlabel,
			  unsigned threads, const char *metric, double *out, size_t max);

/* Row of the cell with this id (side files name cells by id), or -1. */
int mmb_resdir_row_of(const struct mmb_resdir *rd, unsigned cell);

/* Distinct values in row order: allocator labels, workload labels, thread counts. */
int mmb_resdir_alabels(const struct mmb_resdir *rd, const char ***r_list);
int mmb_resdir_wlabels(const struct mmb_resdir *rd, const char ***r_list);
int mmb_resdir_threads(const struct mmb_resdir *rd, unsigned **r_list);

/* A label as a file-name part: [A-Za-z0-9._-] kept, anything else '_'. */
void mmb_slug(const char *s, char *buf, size_t len);

#endif /* MMB_RESDIR_H */

/*
 * table.h — a CSV file read as a table of text fields addressed by column
 * name: the reader for the results folder's side files (latency.csv,
 * timeline.csv, faults.csv) and for cells.csv columns that metrics.h does not
 * list (hw_<event>_per_op, sw_<event>, added per run).
 *
 * Data structure: the header's names, then nrows rows of ncols fields, each
 * row one malloc'ed line split in place (mmb_csv_split). Invariant: every
 * row has exactly ncols fields (a file that breaks it is not read).
 * Numbers: an empty field or "n/a" is "not measured" and reads as NaN.
 */
#ifndef MMB_TABLE_H
#define MMB_TABLE_H

#include <stddef.h>

struct mmb_table_row {
	char *line;		/* owns the storage of the fields */
	char **f;		/* ncols fields */
};

struct mmb_table {
	int ncols, nrows;
	char *hline;		/* header line, split in place */
	char **cols;		/* ncols names */
	struct mmb_table_row *rows;
};

/*
 * Read path into t. Returns 0, -ENOENT if there is no such file, -EPROTO for
 * a malformed file (err says where), -ENOMEM. An empty file reads as a table
 * of no columns and no rows.
 */
int mmb_table_read(const char *path, struct mmb_table *t, char *err, size_t errlen);
void mmb_table_free(struct mmb_table *t);

/* Column index by name, or -1. */
int mmb_table_col(const struct mmb_table *t, const char *name);

/* Field text (col -1 gives ""), and its number (NaN when empty, "n/a", not a number, or col -1). */
const char *mmb_table_str(const struct mmb_table *t, int row, int col);
double mmb_table_num(const struct mmb_table *t, int row, int col);

#endif /* MMB_TABLE_H */

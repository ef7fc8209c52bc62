/*
 * texttable.h — aligned plain-text tables for the terminal: the run's
 * summary and compare's text output.
 *
 * Cells are collected first (copied), then printed with each column as wide
 * as its widest cell: the first column left-aligned, the others right-
 * aligned (numbers), except the columns marked left. Widths count bytes, so
 * cells should be ASCII (units.h prints ASCII).
 */
#ifndef MMB_TEXTTABLE_H
#define MMB_TEXTTABLE_H

#include <stdio.h>

#define MMB_TT_MAXCOLS 24

struct mmb_tt {
	int ncols, nrows;
	char **cell;			/* nrows * ncols, malloc'ed strings */
	unsigned char left[MMB_TT_MAXCOLS];	/* 1: left-aligned column */
};

/* Start a table of ncols columns (<= MMB_TT_MAXCOLS). */
void mmb_tt_init(struct mmb_tt *t, int ncols);

/* Append a row of ncols cells (NULL = empty). Returns 0 or -ENOMEM. */
int mmb_tt_row(struct mmb_tt *t, const char *const *cells);

/* Print with two spaces between columns and indent spaces before each row; frees t. */
void mmb_tt_print(struct mmb_tt *t, FILE *f, int indent);

#endif /* MMB_TEXTTABLE_H */

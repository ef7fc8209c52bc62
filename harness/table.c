/*
 * table.c — CSV tables by column name (table.h).
 */
#include "table.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

#define TABLE_MAX_COLS 1024

/* Split line (owned by the caller) into a new array of exactly n fields. */
static char **table_split(char *line, int *r_n)
{
	char *tmp[TABLE_MAX_COLS], **f;
	int n = mmb_csv_split(line, tmp, TABLE_MAX_COLS);

	if (n < 0)
		return NULL;
	f = malloc((size_t)n * sizeof(*f));
	if (f)
		memcpy(f, tmp, (size_t)n * sizeof(*f));
	*r_n = n;
	return f;
}

int mmb_table_read(const char *path, struct mmb_table *t, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0, next_line = 1, nlines;	/* lineno: the record's first */
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (mmb_csv_read_record(&line, &cap, f, &nlines) >= 0) {
		char **fields;
		int n;

		lineno = next_line;
		next_line += nlines;
		if (lineno > 1 && !line[0])
			continue;
		fields = table_split(line, &n);
		if (!fields) {
			snprintf(err, errlen, "%s:%u: malformed CSV line", path, lineno);
			rc = -EPROTO;
			break;
		}
		if (lineno == 1) {
			t->hline = line;
			t->cols = fields;
			t->ncols = n;
			line = NULL;
			cap = 0;
			continue;
		}
		if (n != t->ncols) {
			free(fields);
			snprintf(err, errlen, "%s:%u: %d fields, header has %d", path, lineno, n,
				 t->ncols);
			rc = -EPROTO;
			break;
		}
		struct mmb_table_row *grown = realloc(t->rows, (size_t)(t->nrows + 1) * sizeof(*grown));

		if (!grown) {
			free(fields);
			rc = -ENOMEM;
			break;
		}
		t->rows = grown;
		t->rows[t->nrows].line = line;
		t->rows[t->nrows].f = fields;
		t->nrows++;
		line = NULL;
		cap = 0;
	}
	free(line);
	fclose(f);
	if (rc)
		mmb_table_free(t);
	return rc;
}

void mmb_table_free(struct mmb_table *t)
{
	for (int i = 0; i < t->nrows; i++) {
		free(t->rows[i].line);
		free(t->rows[i].f);
	}
	free(t->rows);
	free(t->cols);
	free(t->hline);
	memset(t, 0, sizeof(*t));
}

int mmb_table_col(const struct mmb_table *t, const char *name)
{
	for (int c = 0; c < t->ncols; c++)
		if (strcmp(t->cols[c], name) == 0)
			return c;
	return -1;
}

const char *mmb_table_str(const struct mmb_table *t, int row, int col)
{
	return col < 0 ? "" : t->rows[row].f[col];
}

double mmb_table_num(const struct mmb_table *t, int row, int col)
{
	const char *s = mmb_table_str(t, row, col);
	char *end;
	double v;

	if (!*s || strcmp(s, "n/a") == 0)
		return NAN;
	v = strtod(s, &end);
	return *end ? NAN : v;
}

/*
 * texttable.c — aligned plain-text tables (texttable.h).
 */
#include "texttable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mmb_tt_init(struct mmb_tt *t, int ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > MMB_TT_MAXCOLS ? MMB_TT_MAXCOLS : ncols;
	t->left[0] = 1;
}

int mmb_tt_row(struct mmb_tt *t, const char *const *cells)
{
	char **g = realloc(t->cell, (size_t)(t->nrows + 1) * (size_t)t->ncols * sizeof(*g));

	if (!g)
		return -ENOMEM;
	t->cell = g;
	for (int i = 0; i < t->ncols; i++) {
		char **c = &t->cell[t->nrows * t->ncols + i];

		*c = strdup(cells[i] ? cells[i] : "");
		if (!*c) {
			while (i--)
				free(t->cell[t->nrows * t->ncols + i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

void mmb_tt_print(struct mmb_tt *t, FILE *f, int indent)
{
	int w[MMB_TT_MAXCOLS] = { 0 };

	for (int r = 0; r < t->nrows; r++)
		for (int i = 0; i < t->ncols; i++) {
			int n = (int)strlen(t->cell[r * t->ncols + i]);

			if (n > w[i])
				w[i] = n;
		}
	for (int r = 0; r < t->nrows; r++) {
		char line[4096];
		size_t o = 0;

		for (int i = 0; i < t->ncols && o < sizeof(line); i++) {
			const char *c = t->cell[r * t->ncols + i];

			o += (size_t)snprintf(line + o, sizeof(line) - o, t->left[i] ? "%s%-*s" : "%s%*s",
					      i ? "  " : "", w[i], c);
		}
		if (o >= sizeof(line))
			o = sizeof(line) - 1;
		while (o && line[o - 1] == ' ')		/* no trailing blanks */
			o--;
		fprintf(f, "%*s%.*s\n", indent, "", (int)o, line);
	}
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
	t->nrows = 0;
}

/*
 * summary.c — the closing summary of a run (summary.h).
 */
#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headline.h"
#include "stats.h"
#include "texttable.h"
#include "units.h"

#define SUM_MAX_SAMPLES 4096

/* "19.9 M ops/s (-2.1%..+3.4%)" of the samples x[0..n) (sorted here). */
static void sum_cell(char *buf, size_t len, const char *metric, double *x, size_t n)
{
	char med[40], lo[24], hi[24];
	double m;

	if (!n) {
		snprintf(buf, len, "-");
		return;
	}
	mmb_sort(x, n);
	m = mmb_median(x, n);
	mmb_fmt_metric(med, sizeof(med), metric, m);
	if (n < 2 || m == 0 || x[0] == x[n - 1]) {
		snprintf(buf, len, "%s", med);
		return;
	}
	mmb_fmt_pct(lo, sizeof(lo), 100 * (x[0] / m - 1));
	mmb_fmt_pct(hi, sizeof(hi), 100 * (x[n - 1] / m - 1));
	snprintf(buf, len, "%s (%s..%s)", med, lo, hi);
}

/* Is the headline column shown: measured by some ok cell (NONZERO: counted one)? */
static int sum_shown(const struct mmb_resdir *rd, const struct mmb_headline *h)
{
	for (int i = 0; i < rd->ncells; i++) {
		double v = mmb_resdir_value(rd, i, h->metric);

		if (mmb_resdir_ok(rd, i) && !isnan(v) && (!(h->where & MMB_HL_NONZERO) || v != 0))
			return 1;
	}
	return 0;
}

void mmb_summary_print(const struct mmb_resdir *rd, FILE *f)
{
	const char **wls = NULL, **al = NULL;
	unsigned *thr = NULL;
	int nwl = mmb_resdir_wlabels(rd, &wls), nal = mmb_resdir_alabels(rd, &al);
	int nthr = mmb_resdir_threads(rd, &thr), col[MMB_TT_MAXCOLS], ncol = 0;
	double *x = malloc(SUM_MAX_SAMPLES * sizeof(double));
	const char *head[MMB_TT_MAXCOLS];
	struct mmb_tt t;

	if (nwl < 0 || nal < 0 || nthr < 0 || !x)
		goto out;
	head[ncol++] = "allocator";
	head[ncol++] = "workload";
	if (nthr > 1)
		head[ncol++] = "threads";
	head[ncol++] = "ok";
	for (int k = 0; k < mmb_nheadlines && ncol < MMB_TT_MAXCOLS; k++) {
		const struct mmb_headline *h = &mmb_headlines[k];

		if ((h->where & MMB_HL_SUMMARY) && sum_shown(rd, h)) {
			col[ncol] = k;
			head[ncol++] = h->title;
		}
	}
	mmb_tt_init(&t, ncol);
	t.left[1] = 1;
	mmb_tt_row(&t, head);
	for (int w = 0; w < nwl; w++)
		for (int a = 0; a < nal; a++)
			for (int ti = 0; ti < nthr; ti++) {
				char cells[MMB_TT_MAXCOLS][128], th[16], ok[32];
				const char *row[MMB_TT_MAXCOLS];
				int total = 0, nok = 0;

				for (int i = 0; i < rd->ncells; i++)
					if (!strcmp(rd->alabel[i], al[a]) && !strcmp(rd->wlabel[i], wls[w]) &&
					    rd->cells[i].threads == thr[ti]) {
						total++;
						nok += mmb_resdir_ok(rd, i);
					}
				if (!total)
					continue;
				snprintf(th, sizeof(th), "%u", thr[ti]);
				snprintf(ok, sizeof(ok), "%d/%d", nok, total);
				int c = 0;

				row[c++] = al[a];
				row[c++] = wls[w];
				if (nthr > 1)
					row[c++] = th;
				row[c++] = ok;
				for (; c < ncol; c++) {
					const char *m = mmb_headlines[col[c]].metric;
					size_t n = mmb_resdir_samples(rd, al[a], wls[w], thr[ti], m, x,
								      SUM_MAX_SAMPLES);

					sum_cell(cells[c], sizeof(cells[c]), m, x, n);
					row[c] = cells[c];
				}
				mmb_tt_row(&t, row);
			}
	mmb_tt_print(&t, f, 0);
out:
	free(x);
	free(nwl >= 0 ? wls : NULL);
	free(nal >= 0 ? al : NULL);
	free(nthr >= 0 ? thr : NULL);
}

/*
 * findings.c — the ranked comparisons report.html opens with (findings.h).
 */
#include "findings.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headline.h"
#include "stats.h"

#define FND_MAX_SAMPLES 4096

/* Finished and all cells of (alabel, wlabel, threads). */
static void fnd_count(const struct mmb_resdir *rd, const char *al, const char *wl, unsigned t,
		      int *r_ok, int *r_total)
{
	*r_ok = *r_total = 0;
	for (int i = 0; i < rd->ncells; i++)
		if (!strcmp(rd->alabel[i], al) && !strcmp(rd->wlabel[i], wl) &&
		    rd->cells[i].threads == t) {
			(*r_total)++;
			*r_ok += mmb_resdir_ok(rd, i);
		}
}

/* Is headline metric h a column of the group: measured (NONZERO: counted) by a finished cell? */
static int fnd_shown(const struct mmb_resdir *rd, const struct mmb_headline *h, const char *wl,
		     unsigned t)
{
	for (int i = 0; i < rd->ncells; i++) {
		double v;

		if (!mmb_resdir_ok(rd, i) || strcmp(rd->wlabel[i], wl) || rd->cells[i].threads != t)
			continue;
		v = mmb_resdir_value(rd, i, h->metric);
		if (!isnan(v) && (!(h->where & MMB_HL_NONZERO) || v != 0))
			return 1;
	}
	return 0;
}

/* Rows by their first column, best first, unmeasured last (qsort_r; arg: higher is better). */
static int fnd_row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct mmb_finding_row *a = pa, *b = pb;
	double x = a->cell[0].median, y = b->cell[0].median;
	int higher = *(const int *)arg;

	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	if (x == y)
		return 0;
	return (higher ? x < y : x > y) ? 1 : -1;
}

static int fnd_group(const struct mmb_resdir *rd, const char *want, const char *wl, unsigned t,
		     const char **al, int nal, struct mmb_finding_group *g, double *sa, double *sb)
{
	int e = 0;

	g->wlabel = wl;
	g->threads = t;
	g->rows = calloc((size_t)nal + 1, sizeof(*g->rows));
	if (!g->rows)
		return -ENOMEM;
	for (int a = 0; a < nal; a++) {
		struct mmb_finding_row *r = &g->rows[g->nrows];

		fnd_count(rd, al[a], wl, t, &r->ok, &r->total);
		if (!r->total)
			continue;
		r->alabel = al[a];
		g->nrows++;
		if (r->ok && !strcmp(al[a], want))
			g->base = al[a];
	}
	for (int i = 0; i < g->nrows && !g->base; i++)
		if (g->rows[i].ok) {
			g->base = g->rows[i].alabel;
			g->fallback = 1;
		}
	for (int k = 0; k < mmb_nheadlines && g->ncols < MMB_FINDINGS_MAXCOLS; k++)
		if ((mmb_headlines[k].where & MMB_HL_FINDING) && fnd_shown(rd, &mmb_headlines[k], wl, t))
			g->col[g->ncols++] = k;
	for (int c = 0; c < g->ncols && !e; c++) {
		const char *m = mmb_headlines[g->col[c]].metric;
		size_t na = g->base ? mmb_resdir_samples(rd, g->base, wl, t, m, sa, FND_MAX_SAMPLES) : 0;

		for (int i = 0; i < g->nrows && !e; i++) {
			struct mmb_finding_row *r = &g->rows[i];
			struct mmb_finding_cell *fc = &r->cell[c];
			size_t nb = mmb_resdir_samples(rd, r->alabel, wl, t, m, sb, FND_MAX_SAMPLES);

			r->is_base = g->base && !strcmp(r->alabel, g->base);
			fc->median = nb ? mmb_median(sb, nb) : NAN;
			if (!nb || !na || r->is_base)
				continue;
			fc->cmp.alabel = r->alabel;
			fc->cmp.wlabel = wl;
			fc->cmp.threads = t;
			fc->cmp.na = na;
			fc->cmp.nb = nb;
			e = mmb_compare_fill(&fc->cmp, sa, sb, m);
			fc->compared = !e;
		}
		/* ranks: 1 + how many are strictly better */
		for (int i = 0; i < g->nrows; i++) {
			double v = g->rows[i].cell[c].median;
			int better = 0;

			if (isnan(v))
				continue;
			for (int j = 0; j < g->nrows; j++) {
				double u = g->rows[j].cell[c].median;

				better += !isnan(u) && (mmb_headlines[g->col[c]].higher_better ? u > v : u < v);
			}
			g->rows[i].cell[c].rank = 1 + better;
		}
	}
	if (g->ncols) {
		int higher = mmb_headlines[g->col[0]].higher_better;

		qsort_r(g->rows, (size_t)g->nrows, sizeof(*g->rows), fnd_row_cmp, &higher);
	}
	return e;
}

int mmb_findings_build(const struct mmb_resdir *rd, const char *base, struct mmb_findings *f)
{
	const char **wls = NULL, **al = NULL;
	unsigned *thr = NULL;
	int nwl = mmb_resdir_wlabels(rd, &wls), nal = mmb_resdir_alabels(rd, &al);
	int nthr = mmb_resdir_threads(rd, &thr), e = 0;
	double *sa = malloc(FND_MAX_SAMPLES * sizeof(double));
	double *sb = malloc(FND_MAX_SAMPLES * sizeof(double));

	memset(f, 0, sizeof(*f));
	if (nwl < 0 || nal < 0 || nthr < 0 || !sa || !sb ||
	    !(f->groups = calloc((size_t)(nwl * nthr) + 1, sizeof(*f->groups)))) {
		e = -ENOMEM;
		goto out;
	}
	for (int w = 0; w < nwl && !e; w++)
		for (int t = 0; t < nthr && !e; t++) {
			struct mmb_finding_group *g = &f->groups[f->ngroups];

			e = fnd_group(rd, base ? base : MMB_FINDINGS_DEFAULT_BASE, wls[w], thr[t], al, nal,
				      g, sa, sb);
			if (g->nrows)
				f->ngroups++;
			else
				free(g->rows);
		}
out:
	if (e)
		mmb_findings_free(f);
	free(sa);
	free(sb);
	free(nwl >= 0 ? wls : NULL);
	free(nal >= 0 ? al : NULL);
	free(nthr >= 0 ? thr : NULL);
	return e;
}

void mmb_findings_free(struct mmb_findings *f)
{
	for (int i = 0; i < f->ngroups; i++)
		free(f->groups[i].rows);
	free(f->groups);
	memset(f, 0, sizeof(*f));
}

/*
 * report.c — `mmbench report` and `mmbench export` (report.h).
 *
 * One emitter writes both report files: struct rep_out says whether it is
 * Markdown or HTML, and the few helpers below (heading, paragraph, table
 * rows) are the only places that differ. Text from the results folder is
 * escaped for the target (HTML entities; '|' in Markdown cells).
 */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "headline.h"
#include "jsonflat.h"
#include "plot.h"
#include "pressure.h"
#include "table.h"
#include "stats.h"
#include "units.h"
#include "util.h"

static const char report_usage[] =
	"usage: mmbench report [--baseline ALLOC] [--scripts DIR] RESULTS_DIR\n"
	"\n"
	"Draw the figures (mmbench plot; its notes go to RESULTS_DIR/plots/plot.log) and write\n"
	"RESULTS_DIR/report.md and a self-contained RESULTS_DIR/report.html (inline SVG, opens\n"
	"offline): findings first (per workload, the configurations ranked on throughput, p99.9\n"
	"latency and memory measures against a baseline, with change, 95% interval, '~' = not\n"
	"significant), then the figures by workload, key figures, unfinished cells, the run and\n"
	"the machine.\n"
	"\n"
	"  -b, --baseline ALLOC  the configuration the findings compare against (an allocator\n"
	"                        label as in cells.csv; default " MMB_FINDINGS_DEFAULT_BASE " where it ran)\n"
	"      --scripts DIR     the gnuplot scripts (default: $MMB_PLOTS, else plots/ of the source tree)\n"
	"  -h, --help\n";

static const char export_usage[] =
	"usage: mmbench export --format mimalloc-bench RESULTS_DIR\n"
	"\n"
	"Print one line per finished cell in mimalloc-bench's benchres.csv format:\n"
	"  test alloc elapsed rss user sys page-faults page-reclaims\n"
	"test = WORKLOAD-tTHREADS, alloc = allocator configuration, elapsed = the timed region's\n"
	"wall time (ss.ss or m:ss.ss), rss = peak RSS in KiB, user/sys = CPU seconds of the cell's\n"
	"process, page-faults/page-reclaims = its major/minor faults; n/a = not measured.\n";

struct rep_metric {
	const char *name, *title;
	int part;		/* 0: speed and latency; 1: memory and faults (a table each) */
};

/* The key figures, in table order; a column shows when any cell measured it. */
static const struct rep_metric rep_keys[] = {
	{ "ops_per_sec", "throughput", 0 },
	{ "failed_allocs", "failed allocs", 0 },	/* never throughput without it */
	{ "alloc_p50_ns", "alloc p50", 0 },
	{ "alloc_p99_ns", "alloc p99", 0 },
	{ "alloc_p9999_ns", "alloc p99.99", 0 },
	{ "free_p99_ns", "free p99", 0 },
	{ "live_peak_bytes", "peak live", 1 },
	{ "footprint_peak_bytes", "peak footprint", 1 },
	{ "overhead_ratio", "overhead ratio", 1 },
	{ "internal_frag", "internal frag.", 1 },
	{ "unusable_index_o9", "unusable idx o9", 1 },
	{ "uffd_faults", "uffd faults", 1 },
	{ "minflt", "minor faults", 1 },
	{ "wall_ns", "wall time", 0 },	/* shown when a program cell ran (rep_key_shown) */
};
#define NKEYS (sizeof(rep_keys) / sizeof(rep_keys[0]))

/* meta.json keys shown first, in two tables; any other key follows. */
static const char *const rep_run_keys[] = {
	"state", "start_time", "end_time", "command_line", "mmbench_version", "git_revision",
	"schema_version", "seed", "reps", "threads", "ops_per_thread", "duration_s",
	"cell_timeout_s", "allocators", "workloads", "cells_planned", "cells_done",
};
static const char *const rep_machine_keys[] = {
	"hostname", "cpu_model", "online_cpus", "kernel", "compiler",
};

struct rep_ctx {
	const struct mmb_resdir *rd;
	char **svgs;		/* figure names under plots/, sorted */
	int nsvg;
	const char *plot_note;	/* why there are no figures, or NULL */
	const char *base;	/* --baseline, or NULL */
	struct mmb_findings fnd;
};

struct rep_out {
	FILE *f;
	int html;
	const struct rep_ctx *c;
};

static void rep_text(const struct rep_out *o, const char *s)
{
	for (; *s; s++) {
		if (o->html && *s == '<')
			fputs("&lt;", o->f);
		else if (o->html && *s == '>')
			fputs("&gt;", o->f);
		else if (o->html && *s == '&')
			fputs("&amp;", o->f);
		else if (o->html && *s == '"')
			fputs("&quot;", o->f);
		else if (!o->html && *s == '|')
			fputs("\\|", o->f);
		else if (*s == '\n' || *s == MMB_META_SEP)
			fputc(' ', o->f);
		else
			fputc(*s, o->f);
	}
}

static void rep_heading(const struct rep_out *o, int level, const char *s)
{
	if (o->html)
		fprintf(o->f, "<h%d>", level);
	else
		fprintf(o->f, "\n%.*s ", level, "####");
	rep_text(o, s);
	fputs(o->html ? "</h" : "\n", o->f);
	if (o->html)
		fprintf(o->f, "%d>\n", level);
}

static void rep_para(const struct rep_out *o, const char *s)
{
	fputs(o->html ? "<p>" : "\n", o->f);
	rep_text(o, s);
	fputs(o->html ? "</p>\n" : "\n", o->f);
}

enum { REP_DATA, REP_HEAD, REP_HEAD_NUM };	/* rep_row kinds; NUM: right-aligned after col 1 */

/* A table row of n cells; header rows in Markdown get the rule line. */
static void rep_row(const struct rep_out *o, const char *const *cells, int n, int header)
{
	if (o->html) {
		fputs("<tr>", o->f);
		for (int i = 0; i < n; i++) {
			fputs(header ? "<th>" : "<td>", o->f);
			rep_text(o, cells[i]);
			fputs(header ? "</th>" : "</td>", o->f);
		}
		fputs("</tr>\n", o->f);
		return;
	}
	for (int i = 0; i < n; i++) {
		fputs("| ", o->f);
		rep_text(o, cells[i]);
		fputc(' ', o->f);
	}
	fputs("|\n", o->f);
	if (header) {
		for (int i = 0; i < n; i++)
			fputs(i && header == REP_HEAD_NUM ? "|---:" : "|---", o->f);
		fputs("|\n", o->f);
	}
}

/* Begin (cls: the HTML class, "" for none) or end a table. */
static void rep_table(const struct rep_out *o, int begin, const char *cls)
{
	if (o->html && begin)
		fprintf(o->f, "<div class=\"wrap\"><table%s%s%s>\n", *cls ? " class=\"" : "", cls,
			*cls ? "\"" : "");
	else if (o->html)
		fputs("</table></div>\n", o->f);
	else if (begin)
		fputc('\n', o->f);
}

static void rep_flat_row(void *arg, const char *path, const char *text)
{
	const char *cells[2] = { path, text };

	rep_row(arg, cells, 2, REP_DATA);
}

/* A meta.json key's row; a nested object becomes one row per value (jsonflat.h). */
static void rep_meta_row(const struct rep_out *o, const char *key)
{
	char val[8192];
	const char *cells[2] = { key, val };

	if (!mmb_resdir_meta(o->c->rd, key, strcmp(key, "command_line") ? ", " : " ", val,
			     sizeof(val)))
		return;
	if (val[0] == '{')
		mmb_jsonflat(val, key, rep_flat_row, (void *)o);
	else
		rep_row(o, cells, 2, REP_DATA);
}

static int rep_known_key(const char *key)
{
	for (size_t i = 0; i < sizeof(rep_run_keys) / sizeof(rep_run_keys[0]); i++)
		if (!strcmp(key, rep_run_keys[i]))
			return 1;
	for (size_t i = 0; i < sizeof(rep_machine_keys) / sizeof(rep_machine_keys[0]); i++)
		if (!strcmp(key, rep_machine_keys[i]))
			return 1;
	return 0;
}

static void rep_meta(const struct rep_out *o)
{
	static const char *const head[2] = { "field", "value" };
	const struct mmb_resdir *rd = o->c->rd;

	rep_heading(o, 2, "Run");
	rep_table(o, 1, "");
	rep_row(o, head, 2, REP_HEAD);
	for (size_t i = 0; i < sizeof(rep_run_keys) / sizeof(rep_run_keys[0]); i++)
		rep_meta_row(o, rep_run_keys[i]);
	rep_table(o, 0, "");
	rep_heading(o, 2, "Machine");
	rep_table(o, 1, "");
	rep_row(o, head, 2, REP_HEAD);
	for (size_t i = 0; i < sizeof(rep_machine_keys) / sizeof(rep_machine_keys[0]); i++)
		rep_meta_row(o, rep_machine_keys[i]);
	for (int i = 0; i < rd->nkv; i++) {
		if (rep_known_key(rd->kv[i].key))
			continue;
		rep_meta_row(o, rd->kv[i].key);
	}
	rep_table(o, 0, "");
}

/* A metric value for a table, in human units (units.h). */
static void rep_fmt(char *buf, size_t len, const char *metric, double v)
{
	mmb_fmt_metric(buf, len, metric, v);
}

/* The change against the baseline as benchstat prints it: "+3.1% [+1.2%, +5.0%]" or "~ [...]". */
static void rep_change(char *buf, size_t len, const struct mmb_cmp_row *r)
{
	char ch[32], lo[32], hi[32];

	if (!isfinite(r->lo_pct) || !isfinite(r->hi_pct)) {
		snprintf(buf, len, "~ (too few runs)");
		return;
	}
	mmb_fmt_pct(lo, sizeof(lo), r->lo_pct);
	mmb_fmt_pct(hi, sizeof(hi), r->hi_pct);
	if (r->significant)
		mmb_fmt_pct(ch, sizeof(ch), r->change_pct);
	else
		snprintf(ch, sizeof(ch), "~");
	snprintf(buf, len, "%s [%s, %s]", ch, lo, hi);
}

/* Raw HTML (tags), written only into the HTML report. */
static void rep_html(const struct rep_out *o, const char *s)
{
	if (o->html)
		fputs(s, o->f);
}

/* One findings cell: the median, rank, and the change against the baseline. */
static void rep_finding_cell(const struct rep_out *o, const struct mmb_finding_group *g,
			     const struct mmb_finding_row *r, int c)
{
	const struct mmb_finding_cell *fc = &r->cell[c];
	const struct mmb_headline *h = &mmb_headlines[g->col[c]];
	char val[64], ch[128];

	rep_fmt(val, sizeof(val), h->metric, fc->median);
	if (r->is_base && !isnan(fc->median))
		snprintf(ch, sizeof(ch), "baseline");
	else if (fc->compared)
		rep_change(ch, sizeof(ch), &fc->cmp);
	else
		ch[0] = 0;
	if (o->html) {
		const char *cls = fc->compared && fc->cmp.significant ?
				  (fc->cmp.worse ? " class=\"worse\"" : " class=\"better\"") : "";

		fputs(fc->rank == 1 ? "<td class=\"best\">" : "<td>", o->f);
		rep_text(o, val);
		if (ch[0]) {
			fprintf(o->f, "<span%s>", cls);
			rep_text(o, ch);
			fputs("</span>", o->f);
		}
		fputs("</td>", o->f);
		return;
	}
	fputs("| ", o->f);
	if (fc->rank == 1)
		fputs("**", o->f);
	rep_text(o, val);
	if (fc->rank == 1)
		fputs("**", o->f);
	if (ch[0]) {
		fputs(" (", o->f);
		rep_text(o, ch);
		fputc(')', o->f);
	}
	fputc(' ', o->f);
}

/* "Highest throughput: glibc, +3.1% [+1.2%, +5.0%] against jemalloc-malloc." */
static void rep_verdicts(const struct rep_out *o, const struct mmb_finding_group *g)
{
	rep_html(o, "<ul class=\"verdict\">\n");
	for (int c = 0; c < g->ncols; c++) {
		const struct mmb_headline *h = &mmb_headlines[g->col[c]];
		char line[1400], val[64], ch[128], who[700] = "";
		int nbest = 0, change = 0;	/* change: ch is a change against the baseline */

		for (int i = 0; i < g->nrows; i++)
			if (g->rows[i].cell[c].rank == 1) {
				const struct mmb_finding_row *r = &g->rows[i];

				if (!nbest++) {
					rep_fmt(val, sizeof(val), h->metric, r->cell[c].median);
					change = !r->is_base && r->cell[c].compared && g->base;
					if (r->is_base)
						snprintf(ch, sizeof(ch), "the baseline");
					else if (change)
						rep_change(ch, sizeof(ch), &r->cell[c].cmp);
					else
						snprintf(ch, sizeof(ch), "the baseline did not measure it");
				}
				snprintf(who + strlen(who), sizeof(who) - strlen(who), "%s%s",
					 nbest > 1 ? ", " : "", r->alabel);
			}
		if (!nbest)
			continue;
		if (!change)
			snprintf(line, sizeof(line), "%s %s: %s, %s (%s)",
				 h->higher_better ? "highest" : "lowest", h->title, who, val, ch);
		else
			snprintf(line, sizeof(line), "%s %s: %s, %s; against %s: %s",
				 h->higher_better ? "highest" : "lowest", h->title, who, val, g->base, ch);
		line[0] = (char)(line[0] - 'a' + 'A');
		rep_html(o, "<li>");
		if (!o->html)
			fputs("- ", o->f);
		rep_text(o, line);
		rep_html(o, "</li>");
		fputc('\n', o->f);
	}
	rep_html(o, "</ul>\n");
}

static void rep_findings(const struct rep_out *o)
{
	const struct mmb_findings *f = &o->c->fnd;
	const struct mmb_resdir *rd = o->c->rd;
	unsigned *thr;
	int nthr = mmb_resdir_threads(rd, &thr), any_base_asked = 0;
	const char *asked = o->c->base ? o->c->base : MMB_FINDINGS_DEFAULT_BASE;
	char para[1200];

	free(nthr >= 0 ? thr : NULL);
	rep_heading(o, 2, "Findings");
	for (int i = 0; i < f->ngroups; i++)
		any_base_asked |= f->groups[i].base && !f->groups[i].fallback;
	snprintf(para, sizeof(para),
		 "Per workload, the configurations ranked on each measure (best first, by the first "
		 "column; the best of each column in bold), against %s%s. Each cell: the median "
		 "over the finished runs, then the change of the medians against the baseline and "
		 "its 95%% interval (Hodges-Lehmann); ~ = not significant (Mann-Whitney p >= 0.05 "
		 "or the interval includes 0; with fewer than 4 runs on a side nothing is), as "
		 "mmbench compare --baseline prints it.",
		 any_base_asked ? asked : "the first configuration that ran",
		 any_base_asked ? " where it ran (report --baseline NAME chooses)" : "");
	rep_para(o, para);
	if (!f->ngroups)
		rep_para(o, "No finding: no cell of this run finished.");
	for (int gi = 0; gi < f->ngroups; gi++) {
		const struct mmb_finding_group *g = &f->groups[gi];
		char title[800];
		const char *cells[3 + MMB_FINDINGS_MAXCOLS];
		char heads[MMB_FINDINGS_MAXCOLS][96];
		int n = 0;

		snprintf(title, sizeof(title), "%s", g->wlabel);
		if (nthr > 1)
			snprintf(title + strlen(title), sizeof(title) - strlen(title), ", %u thread%s",
				 g->threads, g->threads == 1 ? "" : "s");
		rep_heading(o, 3, title);
		if (!g->base) {
			rep_para(o, "No cell of this workload finished.");
			continue;
		}
		if (g->fallback) {
			snprintf(para, sizeof(para), "%s did not finish here; against %s.", asked,
				 g->base);
			rep_para(o, para);
		}
		if (!g->ncols) {
			rep_para(o, "Nothing comparable was measured.");
			continue;
		}
		rep_verdicts(o, g);
		rep_table(o, 1, "num findings");
		cells[n++] = "#";
		cells[n++] = "allocator";
		cells[n++] = "runs";
		for (int c = 0; c < g->ncols; c++) {
			const struct mmb_headline *h = &mmb_headlines[g->col[c]];

			snprintf(heads[c], sizeof(heads[c]), "%s (%s)", h->title,
				 h->higher_better ? "higher is better" : "lower is better");
			cells[n++] = heads[c];
		}
		if (o->html) {	/* the direction on a line of its own */
			fputs("<tr><th>#</th><th>allocator</th><th>runs</th>", o->f);
			for (int c = 0; c < g->ncols; c++) {
				const struct mmb_headline *h = &mmb_headlines[g->col[c]];

				fputs("<th>", o->f);
				rep_text(o, h->title);
				fprintf(o->f, "<span>%s is better</span></th>",
					h->higher_better ? "higher" : "lower");
			}
			fputs("</tr>\n", o->f);
		} else {
			rep_row(o, cells, n, REP_HEAD_NUM);
		}
		for (int i = 0; i < g->nrows; i++) {
			const struct mmb_finding_row *r = &g->rows[i];
			char rank[16], runs[32];
			const char *lead[3] = { rank, r->alabel, runs };

			if (r->cell[0].rank)
				snprintf(rank, sizeof(rank), "%d", r->cell[0].rank);
			else
				snprintf(rank, sizeof(rank), "-");
			snprintf(runs, sizeof(runs), "%d/%d", r->ok, r->total);
			if (o->html) {
				fputs("<tr>", o->f);
				for (int k = 0; k < 3; k++) {
					fputs(k == 1 && r->is_base ? "<td class=\"base\">" : "<td>", o->f);
					rep_text(o, lead[k]);
					fputs("</td>", o->f);
				}
			} else {
				for (int k = 0; k < 3; k++) {
					fputs("| ", o->f);
					rep_text(o, lead[k]);
					fputc(' ', o->f);
				}
			}
			for (int c = 0; c < g->ncols; c++)
				rep_finding_cell(o, g, r, c);
			fputs(o->html ? "</tr>\n" : "|\n", o->f);
		}
		rep_table(o, 0, "");
	}
}

/* Is key k shown: measured by any ok cell (wall_ns: by any ok program cell,
 * which has an exit status; other cells have a wall_ns too, the length of
 * their timed region, which is not their key figure). A program's peak RSS
 * is its peak footprint. */
static int rep_key_shown(const struct mmb_resdir *rd, size_t k)
{
	int prog_only = !strcmp(rep_keys[k].name, "wall_ns");

	for (int i = 0; i < rd->ncells; i++)
		if (mmb_resdir_ok(rd, i) && !isnan(mmb_resdir_value(rd, i, rep_keys[k].name)) &&
		    (!prog_only || !isnan(rd->cells[i].m[MMB_M_exit_status])))
			return 1;
	return 0;
}

static void rep_key_figures(const struct rep_out *o)
{
	const struct mmb_resdir *rd = o->c->rd;
	const char **wls, **al;
	unsigned *thr;
	int nwl = mmb_resdir_wlabels(rd, &wls), nal = mmb_resdir_alabels(rd, &al);
	int nthr = mmb_resdir_threads(rd, &thr);
	int shown[NKEYS];
	static double buf[4096];

	if (nwl < 0 || nal < 0 || nthr < 0)
		goto out;
	rep_heading(o, 2, "Key figures");
	rep_para(o, "Medians over the finished repetitions of each cell; n = finished of all. "
		    "A column appears when any cell measured it; '-' = not measured.");
	for (size_t k = 0; k < NKEYS; k++)
		shown[k] = rep_key_shown(rd, k);
	for (int w = 0; w < nwl; w++)
		for (int part = 0; part < 2; part++) {
			const char *cells[NKEYS + 3];
			char vals[NKEYS + 3][64], title[700];
			int n = 0, any = 0;

			for (size_t k = 0; k < NKEYS; k++)
				any |= shown[k] && rep_keys[k].part == part;
			if (!any)
				continue;
			snprintf(title, sizeof(title), "Workload %s: %s", wls[w],
				 part ? "memory and faults" : "speed and latency");
			rep_heading(o, 3, title);
			rep_table(o, 1, "num keys");
			cells[n++] = "allocator";
			cells[n++] = "threads";
			cells[n++] = "n";
			for (size_t k = 0; k < NKEYS; k++)
				if (shown[k] && rep_keys[k].part == part)
					cells[n++] = rep_keys[k].title;
			rep_row(o, cells, n, REP_HEAD_NUM);
			for (int a = 0; a < nal; a++)
				for (int t = 0; t < nthr; t++) {
					int total = 0, ok = 0;

					for (int i = 0; i < rd->ncells; i++)
						if (!strcmp(rd->alabel[i], al[a]) &&
						    !strcmp(rd->wlabel[i], wls[w]) &&
						    rd->cells[i].threads == thr[t]) {
							total++;
							ok += mmb_resdir_ok(rd, i);
						}
					if (!total)
						continue;
					n = 0;
					cells[n++] = al[a];
					snprintf(vals[1], sizeof(vals[1]), "%u", thr[t]);
					cells[n++] = vals[1];
					snprintf(vals[2], sizeof(vals[2]), "%d/%d", ok, total);
					cells[n++] = vals[2];
					for (size_t k = 0; k < NKEYS; k++) {
						size_t m;

						if (!shown[k] || rep_keys[k].part != part)
							continue;
						m = mmb_resdir_samples(rd, al[a], wls[w], thr[t],
								       rep_keys[k].name, buf, 4096);
						rep_fmt(vals[n], sizeof(vals[n]), rep_keys[k].name,
							m ? mmb_median(buf, m) : NAN);
						cells[n] = vals[n];
						n++;
					}
					rep_row(o, cells, n, REP_DATA);
				}
			rep_table(o, 0, "");
		}
out:
	free(nwl >= 0 ? wls : NULL);
	free(nal >= 0 ? al : NULL);
	free(nthr >= 0 ? thr : NULL);
}

/* Memory pressure (pressure.h): per workload with a fragmentation failure,
 * the same sequence on every configuration, side by side. */
static void rep_pressure(const struct rep_out *o)
{
	const char **wls;
	int nwl = mmb_resdir_wlabels(o->c->rd, &wls), header = 0;

	for (int w = 0; w < nwl; w++) {
		struct mmb_pressure_row *rows;
		char summary[2048], title[700];
		int n = mmb_pressure_rows(o->c->rd, wls[w], &rows, summary, sizeof(summary));

		if (n <= 0)
			continue;
		if (!header++) {
			rep_heading(o, 2, "Memory pressure");
			rep_para(o, "Workloads in which an allocator on the buddy zone failed a request "
				    "while the zone had the free frames for it (fragmentation failure), "
				    "with every configuration that ran the same sequence. Medians over "
				    "the finished repetitions.");
		}
		snprintf(title, sizeof(title), "Workload %s", wls[w]);
		rep_heading(o, 3, title);
		rep_para(o, summary);
		rep_table(o, 1, "num");
		rep_row(o, mmb_pressure_head, MMB_PRESSURE_COLS, REP_HEAD_NUM);
		for (int i = 0; i < n; i++) {
			const char *cells[MMB_PRESSURE_COLS];

			for (int k = 0; k < MMB_PRESSURE_COLS; k++)
				cells[k] = rows[i].cell[k];
			rep_row(o, cells, MMB_PRESSURE_COLS, REP_DATA);
		}
		rep_table(o, 0, "");
		free(rows);
	}
	free(nwl >= 0 ? wls : NULL);
}

static void rep_failed(const struct rep_out *o)
{
	const struct mmb_resdir *rd = o->c->rd;
	int header = 0;

	for (int i = 0; i < rd->ncells; i++) {
		static const char *const head[] = { "cell", "allocator", "workload", "threads", "rep",
						    "status", "detail" };
		char id[16], thr[16], rep[16];
		const char *cells[7] = { id, rd->alabel[i], rd->wlabel[i], thr, rep,
					 rd->cells[i].status, rd->cells[i].detail };

		if (mmb_resdir_ok(rd, i))
			continue;
		if (!header++) {
			rep_heading(o, 2, "Cells that did not finish");
			rep_table(o, 1, "");
			rep_row(o, head, 7, REP_HEAD);
		}
		snprintf(id, sizeof(id), "%u", rd->cells[i].cell);
		snprintf(thr, sizeof(thr), "%u", rd->cells[i].threads);
		snprintf(rep, sizeof(rep), "%u", rd->cells[i].rep);
		rep_row(o, cells, 7, REP_DATA);
	}
	if (header)
		rep_table(o, 0, "");
}

/* Machines (a Slurm run's nodes.csv, slurm/merge.c): which machine ran
 * which cells, one row per hostname and CPU model, cells as id ranges. */
static void rep_machines(const struct rep_out *o)
{
	struct mmb_table t;
	char path[4200], err[256];
	int ch, cc, cj, nm = 0;
	const char *mh[64], *mc[64];
	static const char *const head[] = { "hostname", "CPU model", "cells", "which cells" };

	snprintf(path, sizeof(path), "%s/nodes.csv", o->c->rd->dir);
	if (mmb_table_read(path, &t, err, sizeof(err)))
		return;
	ch = mmb_table_col(&t, "hostname");
	cc = mmb_table_col(&t, "cpu_model");
	cj = mmb_table_col(&t, "cell");
	for (int i = 0; i < t.nrows && ch >= 0; i++) {
		const char *h = mmb_table_str(&t, i, ch), *c = mmb_table_str(&t, i, cc);
		int seen = 0;

		for (int m = 0; m < nm && !seen; m++)
			seen = !strcmp(mh[m], h) && !strcmp(mc[m], c);
		if (!seen && h[0] && nm < 64) {
			mh[nm] = h;
			mc[nm++] = c;
		}
	}
	if (nm) {
		rep_heading(o, 2, "Machines");
		rep_para(o, "The cells ran as Slurm array tasks (nodes.csv has each cell's "
			    "machine, job and Slurm state).");
		rep_table(o, 1, "");
		rep_row(o, head, 4, REP_HEAD);
	}
	for (int m = 0; m < nm; m++) {
		char count[16], list[1024] = "";
		const char *cells[4] = { mh[m], mc[m], count, list };
		size_t len = 0;
		int n = 0, run_lo = -1, run_hi = -1;

		for (int i = 0; i <= t.nrows; i++) {
			int on = i < t.nrows && !strcmp(mmb_table_str(&t, i, ch), mh[m]) &&
				 !strcmp(mmb_table_str(&t, i, cc), mc[m]);
			int id = on ? (int)mmb_table_num(&t, i, cj) : -1;

			if (on && run_hi >= 0 && id == run_hi + 1) {
				run_hi = id;
			} else {
				if (run_lo >= 0 && len + 32 < sizeof(list))
					len += (size_t)(run_lo == run_hi ?
						snprintf(list + len, sizeof(list) - len, "%s%d",
							 len ? ", " : "", run_lo) :
						snprintf(list + len, sizeof(list) - len, "%s%d-%d",
							 len ? ", " : "", run_lo, run_hi));
				run_lo = run_hi = on ? id : -1;
			}
			n += on;
		}
		snprintf(count, sizeof(count), "%d", n);
		rep_row(o, cells, 4, REP_DATA);
	}
	if (nm)
		rep_table(o, 0, "");
	mmb_table_free(&t);
}

/* Copy an SVG file into the page, from its <svg element on (no XML prolog). */
static void rep_inline_svg(const struct rep_out *o, const char *name)
{
	char path[4400], *text = NULL, *svg;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/plots/%s.svg", o->c->rd->dir, name);
	f = fopen(path, "r");
	if (!f)
		return;
	if (getdelim(&text, &cap, 0, f) > 0 && (svg = strstr(text, "<svg")))
		fputs(svg, o->f);
	free(text);
	fclose(f);
}

static void rep_figure(const struct rep_out *o, const char *name)
{
	if (o->html) {
		fputs("<figure>", o->f);
		rep_inline_svg(o, name);
		fputs("<figcaption>", o->f);
		rep_text(o, name);
		fputs("</figcaption></figure>\n", o->f);
	} else {
		fprintf(o->f, "\n![%s](plots/%s.svg)\n", name, name);
	}
}

/* The figure kinds that belong to one workload: "<kind><workload slug>". */
static const char *const rep_wl_kinds[] = {
	"latency-alloc-", "latency-free-", "throughput-", "memory-", "unusable-", "faults-time-",
	"faults-region-", "hwcounters-", "sizeclasses-",
};

/* Is figure name one of workload slug's? */
static int rep_fig_of(const char *name, const char *slug)
{
	for (size_t k = 0; k < sizeof(rep_wl_kinds) / sizeof(rep_wl_kinds[0]); k++) {
		size_t n = strlen(rep_wl_kinds[k]);

		if (!strncmp(name, rep_wl_kinds[k], n) && !strcmp(name + n, slug))
			return 1;
	}
	return 0;
}

/* The figures grouped by workload (in run order), then those of the whole run. */
static void rep_figures(const struct rep_out *o)
{
	const struct rep_ctx *c = o->c;
	const char **wls;
	int nwl = mmb_resdir_wlabels(c->rd, &wls);
	char *used = calloc((size_t)c->nsvg + 1, 1);

	rep_heading(o, 2, "Figures");
	if (c->plot_note)
		rep_para(o, c->plot_note);
	if (!c->nsvg && !c->plot_note)
		rep_para(o, "No figure: nothing drawable was measured (see plots/plot.log).");
	for (int w = 0; used && w < nwl; w++) {
		char slug[600], title[700];
		int any = 0;

		mmb_slug(wls[w], slug, sizeof(slug));
		for (int i = 0; i < c->nsvg; i++) {
			if (used[i] || !rep_fig_of(c->svgs[i], slug))
				continue;
			if (!any++) {
				snprintf(title, sizeof(title), "Workload %s", wls[w]);
				rep_heading(o, 3, title);
			}
			used[i] = 1;
			rep_figure(o, c->svgs[i]);
		}
	}
	for (int i = 0, any = 0; used && i < c->nsvg; i++) {
		if (used[i])
			continue;
		if (!any++)
			rep_heading(o, 3, "All workloads");
		rep_figure(o, c->svgs[i]);
	}
	free(used);
	free(nwl >= 0 ? wls : NULL);
}

/* One line under the title: what ran, when, from which commit. */
static void rep_overview(const struct rep_out *o)
{
	const struct mmb_resdir *rd = o->c->rd;
	char st[64] = "?", t0[64] = "?", rev[128] = "?", cmd[2048] = "", line[2600];
	int ok = 0;

	for (int i = 0; i < rd->ncells; i++)
		ok += mmb_resdir_ok(rd, i);
	mmb_resdir_meta(rd, "state", "", st, sizeof(st));
	mmb_resdir_meta(rd, "start_time", "", t0, sizeof(t0));
	mmb_resdir_meta(rd, "git_revision", "", rev, sizeof(rev));
	mmb_resdir_meta(rd, "command_line", " ", cmd, sizeof(cmd));
	snprintf(line, sizeof(line), "%d of %d cells finished; run %s, started %s; mmbench %s; %s",
		 ok, rd->ncells, st, t0, rev, cmd);
	if (o->html) {
		fputs("<p class=\"run\">", o->f);
		rep_text(o, line);
		fputs("</p>\n", o->f);
	} else {
		rep_para(o, line);
	}
}

static int rep_emit(FILE *f, void *arg)
{
	struct rep_out *o = arg;
	char title[4300];

	o->f = f;
	snprintf(title, sizeof(title), "mmbench report: %s", o->c->rd->dir);
	if (o->html) {
		fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
		rep_text(o, title);
		fputs("</title>\n<style>\n"
		      "body{font-family:'DejaVu Sans',sans-serif;margin:2em auto;padding:0 1em;max-width:1200px;"
		      "color:#222;background:#fff}\n"
		      "h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}\n"
		      "table{border-collapse:collapse;margin:.6em 0}"
		      "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
		      "th{background:#eef2f7;vertical-align:bottom}table{font-size:.9em}"
		      "td{overflow-wrap:anywhere}th{overflow-wrap:break-word}td:first-child{white-space:nowrap}"
		      ".keys td{white-space:nowrap}\n"
		      ".findings{font-size:.85em}.findings td:nth-child(2){white-space:nowrap}"
		      ".findings th{background:#d8e6f8}"
		      ".findings th span{display:block;font-weight:normal;font-size:.85em;color:#555}"
		      ".findings td span{display:block;font-size:.85em;color:#555}"
		      ".findings.num td:nth-child(2),.findings.num th:nth-child(2){text-align:left}"
		      ".findings td.best{font-weight:bold}.findings td span.better{color:#1a7f37}"
		      ".findings td span.worse{color:#b42318}.findings td.base{font-style:italic}"
		      "ul.verdict{margin:.3em 0;padding-left:1.2em}p.run{color:#444}\n"
		      ".num td:not(:first-child),.num th:not(:first-child){text-align:right}\n"
		      "figure{margin:1.2em 0}figure svg{width:100%;height:auto;display:block}"
		      "figcaption{color:#555;font-size:.9em}\n"
		      "</style></head><body>\n", f);
		fputs("<h1>", f);
		rep_text(o, title);
		fputs("</h1>\n", f);
	} else {
		fprintf(f, "# %s\n", title);
	}
	rep_overview(o);
	rep_findings(o);
	rep_figures(o);
	rep_key_figures(o);
	rep_pressure(o);
	rep_failed(o);
	rep_machines(o);
	rep_meta(o);
	if (o->html)
		fputs("</body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}

/* Figures in the order plot draws them (kind by kind), then by name. */
static int rep_kind(const char *name)
{
	static const char *const kinds[] = { "latency-", "throughput-", "memory-", "unusable-",
					     "faults-time-", "faults-region-", "hwcounters-",
					     "overhead", "sizeclasses-" };
	int k = 0;

	while (k < (int)(sizeof(kinds) / sizeof(kinds[0])) &&
	       strncmp(name, kinds[k], strlen(kinds[k])))
		k++;
	return k;
}

static int rep_name_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int kx = rep_kind(x), ky = rep_kind(y);

	return kx != ky ? kx - ky : strcmp(x, y);
}

/* The figure names (without .svg) under DIR/plots, sorted. */
static void rep_list_svgs(struct rep_ctx *c)
{
	char path[4300];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/plots", c->rd->dir);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char **g;

		if (n < 5 || e->d_name[0] == '.' || strcmp(e->d_name + n - 4, ".svg"))
			continue;
		g = realloc(c->svgs, (size_t)(c->nsvg + 1) * sizeof(*g));
		if (!g)
			break;
		c->svgs = g;
		c->svgs[c->nsvg] = strndup(e->d_name, n - 4);
		if (c->svgs[c->nsvg])
			c->nsvg++;
	}
	closedir(d);
	qsort(c->svgs, (size_t)c->nsvg, sizeof(*c->svgs), rep_name_cmp);
}

/* Is label one of rd's allocator labels? If not, list them into buf. */
static int rep_has_alabel(const struct mmb_resdir *rd, const char *label, char *buf, size_t len)
{
	const char **al;
	int n = mmb_resdir_alabels(rd, &al), found = 0;

	buf[0] = 0;
	for (int i = 0; i < n; i++) {
		found |= !strcmp(al[i], label);
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? " " : "", al[i]);
	}
	free(n >= 0 ? al : NULL);
	return found;
}

/* Draw the figures with the notes in DIR/plots/plot.log. Returns mmb_plot_dir's value. */
static int rep_plot(const struct mmb_resdir *rd, const char *lib, char *log, size_t len)
{
	FILE *f;
	int e, n;

	snprintf(log, len, "%s/plots", rd->dir);
	e = mmb_mkdir_p(log, 0755);
	snprintf(log, len, "%s/plots/plot.log", rd->dir);
	f = e ? NULL : fopen(log, "w");
	if (!f) {
		mmb_err("report: cannot write %s: %s", log, strerror(e ? -e : errno));
		return -EIO;
	}
	n = mmb_plot_dir(rd, lib, f);
	fclose(f);
	return n;
}

int mmb_report_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "scripts", required_argument, NULL, 's' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *scripts = NULL, *base = NULL;
	char lib[4096], err[4400], path[4300], log[4300], list[2048];
	struct mmb_resdir rd;
	struct rep_ctx c = { .rd = &rd };
	int opt, e = 0, status = 0, nfig = -1;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":b:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			scripts = optarg;
			break;
		case 'b':
			base = optarg;
			break;
		case 'h':
			fputs(report_usage, stdout);
			return 0;
		case ':':
			mmb_err("report: option '%s' needs a value", argv[optind - 1]);
			return MMB_EXIT_USAGE;
		default:
			mmb_err("report: unknown option '%s' (see mmbench report --help)",
				argv[optind - 1]);
			return MMB_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		mmb_err("report: expected one results folder (see mmbench report --help)");
		return MMB_EXIT_USAGE;
	}
	if (mmb_resdir_open(argv[optind], &rd, err, sizeof(err))) {
		mmb_err("report: %s", err);
		return MMB_EXIT_USAGE;
	}
	if (base && !rep_has_alabel(&rd, base, list, sizeof(list))) {
		mmb_err("report: --baseline '%s' is not in %s (configurations: %s)", base, rd.dir, list);
		mmb_resdir_close(&rd);
		return MMB_EXIT_USAGE;
	}
	c.base = base;
	if (mmb_findings_build(&rd, base, &c.fnd)) {
		mmb_err("report: out of memory");
		mmb_resdir_close(&rd);
		return 1;
	}
	if (mmb_plot_have_gnuplot())
		c.plot_note = "Figures omitted: gnuplot is not installed (apt-get install gnuplot-nox).";
	else if (mmb_plot_find_scripts(scripts, lib, sizeof(lib)))
		c.plot_note = "Figures omitted: the gnuplot scripts (plots/) were not found.";
	else if ((nfig = rep_plot(&rd, lib, log, sizeof(log))) < 0)
		status = 1;	/* plot.log says why; the report has the figures that worked */
	rep_list_svgs(&c);
	if (c.plot_note)
		printf("%s\n", c.plot_note);
	else
		printf("%d figure%s in %s/plots (notes: %s)\n", c.nsvg, c.nsvg == 1 ? "" : "s", rd.dir,
		       log);
	if (status)
		mmb_err("report: some figures failed (see %s); the report has the others", log);
	for (int html = 0; html <= 1 && !e; html++) {
		struct rep_out o = { .html = html, .c = &c };

		snprintf(path, sizeof(path), "%s/report.%s", rd.dir, html ? "html" : "md");
		e = mmb_write_atomic(path, rep_emit, &o);
		if (e)
			mmb_err("report: cannot write %s: %s", path, strerror(-e));
		else
			printf("%s\n", path);
	}
	for (int i = 0; i < c.nsvg; i++)
		free(c.svgs[i]);
	free(c.svgs);
	mmb_findings_free(&c.fnd);
	mmb_resdir_close(&rd);
	return e ? 1 : status;
}

/* GNU time's %E as bench.sh leaves it: "ss.ss" under a minute, else "m:ss.ss". */
static void exp_elapsed(char *buf, size_t len, double s)
{
	if (isnan(s))
		snprintf(buf, len, "n/a");
	else if (s < 60)
		snprintf(buf, len, "%05.2f", s);
	else if (s < 3600)
		snprintf(buf, len, "%d:%05.2f", (int)(s / 60), fmod(s, 60));
	else
		snprintf(buf, len, "%d:%02d:%05.2f", (int)(s / 3600), (int)fmod(s / 60, 60), fmod(s, 60));
}

static void exp_num(char *buf, size_t len, const char *fmt, double v)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, fmt, v);
}

static void exp_word(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == ' ' || *s == '\t' ? '_' : *s, f);
}

void mmb_export_mimalloc_bench(const struct mmb_resdir *rd, FILE *f)
{
	fputs("# benchmark allocator elapsed rss user sys page-faults page-reclaims\n", f);
	for (int i = 0; i < rd->ncells; i++) {
		const double *m = rd->cells[i].m;
		char el[32], rss[32], us[32], sy[32], maj[32], min[32];

		if (!mmb_resdir_ok(rd, i))
			continue;
		exp_elapsed(el, sizeof(el), m[MMB_M_wall_ns] / 1e9);
		exp_num(rss, sizeof(rss), "%.0f", floor(m[MMB_M_rss_peak_bytes] / 1024));
		exp_num(us, sizeof(us), "%.2f", m[MMB_M_cpu_user_ns] / 1e9);
		exp_num(sy, sizeof(sy), "%.2f", m[MMB_M_cpu_sys_ns] / 1e9);
		exp_num(maj, sizeof(maj), "%.0f", m[MMB_M_majflt]);
		exp_num(min, sizeof(min), "%.0f", m[MMB_M_minflt]);
		exp_word(f, rd->wlabel[i]);
		/* a program is its own test, as in mimalloc-bench (cfrac, redis, ...) */
		if (isnan(m[MMB_M_exit_status]) && isnan(m[MMB_M_output_checksum]))
			fprintf(f, "-t%u", rd->cells[i].threads);
		fputc(' ', f);
		exp_word(f, rd->alabel[i]);
		fprintf(f, " %s %s %s %s %s %s\n", el, rss, us, sy, maj, min);
	}
}

int mmb_export_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *fmt = NULL;
	char err[4400];
	struct mmb_resdir rd;
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			fmt = optarg;
			break;
		case 'h':
			fputs(export_usage, stdout);
			return 0;
		case ':':
			mmb_err("export: option '%s' needs a value", argv[optind - 1]);
			return MMB_EXIT_USAGE;
		default:
			mmb_err("export: unknown option '%s' (see mmbench export --help)",
				argv[optind - 1]);
			return MMB_EXIT_USAGE;
		}
	}
	if (!fmt || strcmp(fmt, "mimalloc-bench")) {
		mmb_err("export: --format %s: expected mimalloc-bench", fmt ? fmt : "(missing)");
		return MMB_EXIT_USAGE;
	}
	if (argc - optind != 1) {
		mmb_err("export: expected one results folder (see mmbench export --help)");
		return MMB_EXIT_USAGE;
	}
	if (mmb_resdir_open(argv[optind], &rd, err, sizeof(err))) {
		mmb_err("export: %s", err);
		return MMB_EXIT_USAGE;
	}
	mmb_export_mimalloc_bench(&rd, stdout);
	mmb_resdir_close(&rd);
	return 0;
}

/*
 * compare.c — `mmbench compare` (compare.h).
 *
 * Rows are built per metric by walking the (allocator label, workload label,
 * threads) keys of the compared run in row order; a key appears when both
 * sides hold at least one measured value. Output is one block per metric
 * ending in a geomean line: the geometric means of the A and B medians over
 * the rows where both are positive, and their ratio as the change.
 */
#include "compare.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "texttable.h"
#include "units.h"
#include "util.h"

#define CMP_MAX_SAMPLES 4096
#define CMP_MAX_METRICS 32

static const char compare_usage[] =
	"usage: mmbench compare A B [options]\n"
	"       mmbench compare DIR --baseline ALLOC [options]\n"
	"\n"
	"Compare two results folders (or configurations within one) metric by metric:\n"
	"medians, change %, a 95% confidence interval of the change (Hodges-Lehmann) and a\n"
	"Mann-Whitney U p-value over the repetitions; '~' = not significant (significant:\n"
	"p < 0.05 and the interval excludes 0).\n"
	"\n"
	"  -m, --metric LIST          metrics (cells.csv columns), comma-separated\n"
	"                             (default: ops_per_sec,alloc_p99_ns,footprint_peak_bytes,\n"
	"                             and wall_ns where a folder has program cells;\n"
	"                             failed_allocs follows any *_per_sec metric)\n"
	"  -b, --baseline ALLOC       compare every configuration of DIR against ALLOC\n"
	"                             (an allocator label as in cells.csv: slab, slab:debug=FZ)\n"
	"  -f, --format FMT           text (default), csv, markdown or json\n"
	"      --fail-on-regression PCT\n"
	"                             exit 1 when a significant change is worse than PCT percent\n"
	"                             (ops_per_sec and *_per_sec: lower is worse; others: higher);\n"
	"                             exit 2 when A and B have no row in common\n"
	"  -h, --help\n";

static const char *const cmp_default_metrics[] = {
	"ops_per_sec", "alloc_p99_ns", "footprint_peak_bytes",
};

enum cmp_format { CMP_TEXT, CMP_CSV, CMP_MD, CMP_JSON };

int mmb_compare_fill(struct mmb_cmp_row *r, const double *a, const double *b, const char *metric)
{
	struct mmb_mwu u;
	struct mmb_shift s;
	int positive = 1, e;

	r->med_a = mmb_median(a, r->na);
	r->med_b = mmb_median(b, r->nb);
	r->change_pct = 100 * (r->med_b / r->med_a - 1);
	for (size_t i = 0; i < r->na; i++)
		positive &= a[i] > 0;
	for (size_t i = 0; i < r->nb; i++)
		positive &= b[i] > 0;
	e = mmb_mann_whitney(a, r->na, b, r->nb, &u);
	if (e)
		return e;
	r->p = u.p;
	if (positive) {
		double la[CMP_MAX_SAMPLES], lb[CMP_MAX_SAMPLES];

		for (size_t i = 0; i < r->na; i++)
			la[i] = log(a[i]);
		for (size_t i = 0; i < r->nb; i++)
			lb[i] = log(b[i]);
		e = mmb_hl_shift(la, r->na, lb, r->nb, 1 - MMB_COMPARE_ALPHA, &s);
		r->lo_pct = 100 * (exp(s.lo) - 1);
		r->hi_pct = 100 * (exp(s.hi) - 1);
	} else {
		e = mmb_hl_shift(a, r->na, b, r->nb, 1 - MMB_COMPARE_ALPHA, &s);
		r->lo_pct = 100 * s.lo / fabs(r->med_a);
		r->hi_pct = 100 * s.hi / fabs(r->med_a);
		if (r->med_a == 0)
			r->change_pct = r->lo_pct = r->hi_pct = NAN;
	}
	/* The test and the interval must agree: an interval that touches 0
	 * (or is unbounded: too few repetitions) is no evidence of a change. */
	r->significant = u.p < MMB_COMPARE_ALPHA && isfinite(r->lo_pct) && isfinite(r->hi_pct) &&
			 (r->lo_pct > 0 || r->hi_pct < 0);
	if (mmb_metric_higher_better(metric))
		r->worse = r->med_b < r->med_a;
	else
		r->worse = r->med_b > r->med_a;
	return e;
}

int mmb_compare_rows(const struct mmb_resdir *a, const struct mmb_resdir *b, const char *base,
		     const char *metric, struct mmb_cmp_row **r_rows)
{
	static double sa[CMP_MAX_SAMPLES], sb[CMP_MAX_SAMPLES];
	const struct mmb_resdir *keys = base ? a : b;
	struct mmb_cmp_row *rows = calloc((size_t)keys->ncells + 1, sizeof(*rows));
	int n = 0, e = 0;

	if (!rows)
		return -ENOMEM;
	for (int i = 0; i < keys->ncells && !e; i++) {
		const char *al = keys->alabel[i], *wl = keys->wlabel[i];
		unsigned t = keys->cells[i].threads;
		struct mmb_cmp_row *r = &rows[n];
		int dup = 0;

		if (base && strcmp(al, base) == 0)
			continue;
		for (int j = 0; j < n && !dup; j++)
			dup = !strcmp(rows[j].alabel, al) && !strcmp(rows[j].wlabel, wl) &&
			      rows[j].threads == t;
		if (dup)
			continue;
		r->alabel = al;
		r->wlabel = wl;
		r->threads = t;
		r->na = mmb_resdir_samples(a, base ? base : al, wl, t, metric, sa, CMP_MAX_SAMPLES);
		r->nb = mmb_resdir_samples(b, al, wl, t, metric, sb, CMP_MAX_SAMPLES);
		if (!r->na || !r->nb)
			continue;
		e = mmb_compare_fill(r, sa, sb, metric);
		n++;
	}
	if (e) {
		free(rows);
		return e;
	}
	*r_rows = rows;
	return n;
}

static void cmp_ci(char *buf, size_t len, const struct mmb_cmp_row *r)
{
	char lo[32], hi[32];

	if (isinf(r->lo_pct) || isinf(r->hi_pct)) {
		snprintf(buf, len, "n/a (too few reps)");
		return;
	}
	mmb_fmt_pct(lo, sizeof(lo), r->lo_pct);
	mmb_fmt_pct(hi, sizeof(hi), r->hi_pct);
	snprintf(buf, len, "[%s, %s]", lo, hi);
}

/* A JSON number, or null for NaN and infinities. */
static void cmp_jnum(FILE *f, const char *key, double v, int comma)
{
	fprintf(f, "\"%s\": ", key);
	if (isfinite(v))
		fprintf(f, "%.9g", v);
	else
		fputs("null", f);
	if (comma)
		fputs(", ", f);
}

/* The geomean of the medians over the rows where both are positive. */
static int cmp_geomean(const struct mmb_cmp_row *rows, int n, double *r_a, double *r_b)
{
	double *ga = calloc((size_t)n + 1, sizeof(double)), *gb = calloc((size_t)n + 1, sizeof(double));
	size_t k = 0;

	if (ga && gb)
		for (int i = 0; i < n; i++)
			if (rows[i].med_a > 0 && rows[i].med_b > 0) {
				ga[k] = rows[i].med_a;
				gb[k++] = rows[i].med_b;
			}
	*r_a = mmb_geomean(ga, k);
	*r_b = mmb_geomean(gb, k);
	free(ga);
	free(gb);
	return (int)k;
}

static void cmp_print_json(FILE *f, const char *metric, const struct mmb_cmp_row *rows, int n,
			   int ng, double ga, double gb, int first)
{
	fputs(first ? "\n    " : ",\n    ", f);
	fputs("{\"metric\": ", f);
	mmb_json_str(f, metric);
	fprintf(f, ", \"higher_is_better\": %s, \"rows\": [",
		mmb_metric_higher_better(metric) ? "true" : "false");
	for (int i = 0; i < n; i++) {
		const struct mmb_cmp_row *r = &rows[i];

		fputs(i ? ",\n      {\"allocator\": " : "\n      {\"allocator\": ", f);
		mmb_json_str(f, r->alabel);
		fputs(", \"workload\": ", f);
		mmb_json_str(f, r->wlabel);
		fprintf(f, ", \"threads\": %u, \"n_a\": %zu, \"n_b\": %zu, ", r->threads, r->na, r->nb);
		cmp_jnum(f, "median_a", r->med_a, 1);
		cmp_jnum(f, "median_b", r->med_b, 1);
		cmp_jnum(f, "change_pct", r->change_pct, 1);
		cmp_jnum(f, "ci_lo_pct", r->lo_pct, 1);
		cmp_jnum(f, "ci_hi_pct", r->hi_pct, 1);
		cmp_jnum(f, "p_value", r->p, 1);
		fprintf(f, "\"significant\": %s, \"worse\": %s}", r->significant ? "true" : "false",
			r->worse ? "true" : "false");
	}
	fputs(n ? "\n    ], \"geomean\": " : "], \"geomean\": ", f);
	if (ng) {
		fprintf(f, "{\"rows\": %d, ", ng);
		cmp_jnum(f, "a", ga, 1);
		cmp_jnum(f, "b", gb, 1);
		cmp_jnum(f, "change_pct", 100 * (gb / ga - 1), 0);
		fputs("}}", f);
	} else {
		fputs("null}", f);
	}
}

static void cmp_print(FILE *f, enum cmp_format fmt, const char *metric, const char *base,
		      const struct mmb_cmp_row *rows, int n, int first)
{
	const char *dir = mmb_metric_higher_better(metric) ? "higher is better" : "lower is better";
	char ch[32], ci[96], gch[32], ma[48], mb[48], thr[16], p[16], nn[32];
	double ga, gb;
	int ng = cmp_geomean(rows, n, &ga, &gb);
	struct mmb_tt t;

	mmb_fmt_pct(gch, sizeof(gch), 100 * (gb / ga - 1));
	if (fmt == CMP_JSON) {
		cmp_print_json(f, metric, rows, n, ng, ga, gb, first);
		return;
	}
	if (fmt == CMP_CSV) {
		for (int i = 0; i < n; i++) {
			const struct mmb_cmp_row *r = &rows[i];

			fprintf(f, "%s,", metric);
			mmb_csv_field(f, r->alabel);
			fputc(',', f);
			mmb_csv_field(f, r->wlabel);
			fprintf(f, ",%u,%s,%zu,%zu,%.9g,%.9g,%.4f,%.4f,%.4f,%.6g,%d\n", r->threads,
				base ? base : "", r->na, r->nb, r->med_a, r->med_b, r->change_pct,
				r->lo_pct, r->hi_pct, r->p, r->significant);
		}
		if (ng)
			fprintf(f, "%s,geomean,,,%s,%d,%d,%.9g,%.9g,%.4f,,,,\n", metric, base ? base : "",
				ng, ng, ga, gb, 100 * (gb / ga - 1));
		return;
	}
	if (fmt == CMP_MD) {
		fprintf(f, "\n### %s (%s)%s%s\n\n", metric, dir, base ? ", against " : "",
			base ? base : "");
		fputs("| allocator | workload | threads | median A | median B | change | 95% CI | p | n |\n"
		      "|---|---|--:|--:|--:|--:|---|--:|---|\n", f);
	} else {
		static const char *const head_ab[] = { "allocator", "workload", "threads", "median A",
						       "median B", "change", "95% CI", "p", "n" };
		static const char *const head_base[] = { "allocator", "workload", "threads",
							 "baseline", "median", "change", "95% CI",
							 "p", "n" };

		fprintf(f, "\n%s (%s)%s%s\n", metric, dir, base ? ", against " : "", base ? base : "");
		mmb_tt_init(&t, 9);
		t.left[1] = t.left[6] = t.left[8] = 1;
		mmb_tt_row(&t, base ? head_base : head_ab);
	}
	for (int i = 0; i < n; i++) {
		const struct mmb_cmp_row *r = &rows[i];

		if (r->significant)
			mmb_fmt_pct(ch, sizeof(ch), r->change_pct);
		else
			snprintf(ch, sizeof(ch), "~");
		cmp_ci(ci, sizeof(ci), r);
		mmb_fmt_metric(ma, sizeof(ma), metric, r->med_a);
		mmb_fmt_metric(mb, sizeof(mb), metric, r->med_b);
		snprintf(thr, sizeof(thr), "%u", r->threads);
		snprintf(p, sizeof(p), "%.3f", r->p);
		snprintf(nn, sizeof(nn), "%zu+%zu", r->na, r->nb);
		if (fmt == CMP_MD) {
			fprintf(f, "| %s | %s | %u | %s | %s | %s | %s | %.3f | %zu+%zu |\n", r->alabel,
				r->wlabel, r->threads, ma, mb, ch, ci, r->p, r->na, r->nb);
		} else {
			const char *cells[9] = { r->alabel, r->wlabel, thr, ma, mb, ch, ci, p, nn };

			mmb_tt_row(&t, cells);
		}
	}
	if (ng) {
		mmb_fmt_metric(ma, sizeof(ma), metric, ga);
		mmb_fmt_metric(mb, sizeof(mb), metric, gb);
	}
	if (fmt == CMP_MD) {
		if (ng)
			fprintf(f, "| **geomean** | | | %s | %s | %s | | | |\n", ma, mb, gch);
		return;
	}
	if (ng) {
		const char *cells[9] = { "geomean", "", "", ma, mb, gch, "", "", "" };

		mmb_tt_row(&t, cells);
	}
	mmb_tt_print(&t, f, 0);
}

/* Split a comma list into at most max names (in place). Returns the count. */
static int cmp_split(char *s, const char **out, int max)
{
	int n = 0;

	for (char *t = strtok(s, ","); t && n < max; t = strtok(NULL, ","))
		out[n++] = t;
	return n;
}

struct cmp_opts {
	const char *metrics[CMP_MAX_METRICS];
	int nmetrics, explicit_metrics;
	const char *base;
	enum cmp_format fmt;
	double fail_pct;		/* NaN: no gate */
};

static int cmp_parse(int argc, char **argv, struct cmp_opts *o, const char **r_dirs, int *r_ndirs)
{
	static const struct option longopts[] = {
		{ "metric", required_argument, NULL, 'm' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'f' },
		{ "fail-on-regression", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	o->fail_pct = NAN;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:b:f:h", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'm':
			o->nmetrics = cmp_split(optarg, o->metrics, CMP_MAX_METRICS);
			o->explicit_metrics = 1;
			break;
		case 'b':
			o->base = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				o->fmt = CMP_TEXT;
			else if (!strcmp(optarg, "csv"))
				o->fmt = CMP_CSV;
			else if (!strcmp(optarg, "markdown"))
				o->fmt = CMP_MD;
			else if (!strcmp(optarg, "json"))
				o->fmt = CMP_JSON;
			else {
				mmb_err("compare: --format %s: expected text, csv, markdown or json",
					optarg);
				return -EINVAL;
			}
			break;
		case 'F':
			o->fail_pct = strtod(optarg, &end);
			if (*end || !(o->fail_pct >= 0)) {
				mmb_err("compare: --fail-on-regression %s: expected a percentage >= 0",
					optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			fputs(compare_usage, stdout);
			return 1;
		case ':':
			mmb_err("compare: option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			mmb_err("compare: unknown option '%s' (see mmbench compare --help)",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	*r_ndirs = argc - optind;
	for (int i = 0; i < *r_ndirs && i < 2; i++)
		r_dirs[i] = argv[optind + i];
	if (o->base ? *r_ndirs != 1 : *r_ndirs != 2) {
		mmb_err("compare: expected %s (see mmbench compare --help)",
			o->base ? "one results folder with --baseline" : "two results folders A B");
		return -EINVAL;
	}
	if (!o->explicit_metrics) {
		o->nmetrics = (int)(sizeof(cmp_default_metrics) / sizeof(cmp_default_metrics[0]));
		memcpy(o->metrics, cmp_default_metrics, sizeof(cmp_default_metrics));
	}
	return 0;
}

/* Bad baseline or metric names; returns 0 or -EINVAL after the message. */
static int cmp_check(const struct cmp_opts *o, const struct mmb_resdir *a,
		     const struct mmb_resdir *b)
{
	if (o->base) {
		const char **al;
		char list[2048] = "";
		int n = mmb_resdir_alabels(a, &al), found = 0;

		for (int i = 0; i < n; i++) {
			found |= !strcmp(al[i], o->base);
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " " : "",
				 al[i]);
		}
		free(n >= 0 ? al : NULL);
		if (!found) {
			mmb_err("compare: baseline '%s' is not in %s (configurations: %s)", o->base,
				a->dir, list);
			return -EINVAL;
		}
	}
	for (int i = 0; o->explicit_metrics && i < o->nmetrics; i++)
		if (!mmb_resdir_has(a, o->metrics[i]) || !mmb_resdir_has(b, o->metrics[i])) {
			mmb_err("compare: unknown metric '%s' (not a cells.csv column of %s)",
				o->metrics[i], mmb_resdir_has(a, o->metrics[i]) ? b->dir : a->dir);
			return -EINVAL;
		}
	return 0;
}

/* Does rd hold a program cell (README.md, Programs as cells)? */
static int cmp_has_programs(const struct mmb_resdir *rd)
{
	for (int i = 0; i < rd->ncells; i++)
		if (!isnan(rd->cells[i].m[MMB_M_exit_status]) ||
		    !isnan(rd->cells[i].m[MMB_M_output_checksum]))
			return 1;
	return 0;
}

/* Compared cells whose figures need care (cells.csv flags): say how many. */
static void cmp_note_flags(const struct mmb_resdir *a, const struct mmb_resdir *b)
{
	const struct mmb_resdir *side[2] = { a, b };
	unsigned failed = 0, incomplete = 0;

	for (int k = 0; k < 2 && side[k]; k++)
		for (int i = 0; i < side[k]->ncells; i++) {
			const struct mmb_result *r = &side[k]->cells[i];

			if (!mmb_resdir_ok(side[k], i))
				continue;
			failed += r->m[MMB_M_failed_allocs] > 0;
			incomplete += r->m[MMB_M_incomplete] > 0;
		}
	if (failed)
		printf("\nnote: %u compared cells had failed allocations (cells.csv flags "
		       "failed_allocs): they did less work, so their throughput is not comparable\n",
		       failed);
	if (incomplete)
		printf("\nnote: %u compared cells did not finish their --ops sequence (cells.csv "
		       "flags incomplete): their memory figures are not op-equivalent\n", incomplete);
}

/* Throughput is never shown without failed_allocs (a failed call is cheap, so
 * an undersized configuration looks fast): a list with a *_per_sec metric
 * gets failed_allocs after it when it lacks it. */
static void cmp_add_failed_allocs(struct cmp_opts *o)
{
	int rate = 0;

	for (int m = 0; m < o->nmetrics; m++) {
		if (!strcmp(o->metrics[m], "failed_allocs"))
			return;
		rate |= mmb_metric_higher_better(o->metrics[m]);
	}
	if (rate && o->nmetrics < CMP_MAX_METRICS)
		o->metrics[o->nmetrics++] = "failed_allocs";
}

int mmb_compare_main(int argc, char **argv)
{
	struct cmp_opts o = { 0 };
	struct mmb_resdir a, b;
	const char *dirs[2] = { 0 };
	char err[4400];
	int ndirs, e, status = 0, few = 0, nrows = 0;

	e = cmp_parse(argc, argv, &o, dirs, &ndirs);
	if (e)
		return e > 0 ? 0 : MMB_EXIT_USAGE;
	e = mmb_resdir_open(dirs[0], &a, err, sizeof(err));
	if (e) {
		mmb_err("compare: %s", err);
		return MMB_EXIT_USAGE;
	}
	if (!o.base) {
		e = mmb_resdir_open(dirs[1], &b, err, sizeof(err));
		if (e) {
			mmb_err("compare: %s", err);
			mmb_resdir_close(&a);
			return MMB_EXIT_USAGE;
		}
	}
	const struct mmb_resdir *bp = o.base ? &a : &b;

	if (cmp_check(&o, &a, bp)) {
		status = MMB_EXIT_USAGE;
		goto out;
	}
	/* Program cells (they have an exit status) are timed by wall clock. */
	if (!o.explicit_metrics && o.nmetrics < CMP_MAX_METRICS &&
	    (cmp_has_programs(&a) || cmp_has_programs(bp)))
		o.metrics[o.nmetrics++] = "wall_ns";
	cmp_add_failed_allocs(&o);
	if (o.fmt == CMP_CSV) {
		puts("metric,allocator,workload,threads,baseline,n_a,n_b,median_a,median_b,"
		     "change_pct,ci_lo_pct,ci_hi_pct,p_value,significant");
	} else if (o.fmt == CMP_JSON) {
		fputs("{\n  \"a\": ", stdout);
		mmb_json_str(stdout, a.dir);
		fputs(",\n  \"b\": ", stdout);
		mmb_json_str(stdout, bp->dir);
		fputs(",\n  \"baseline\": ", stdout);
		if (o.base)
			mmb_json_str(stdout, o.base);
		else
			fputs("null", stdout);
		fprintf(stdout, ",\n  \"alpha\": %g,\n  \"metrics\": [", MMB_COMPARE_ALPHA);
	} else if (o.base) {
		printf("%s%s: each configuration against %s\n", o.fmt == CMP_MD ? "## " : "", a.dir,
		       o.base);
	} else {
		printf("%sA: %s\n%sB: %s\n", o.fmt == CMP_MD ? "- " : "", a.dir,
		       o.fmt == CMP_MD ? "- " : "", b.dir);
	}
	for (int m = 0; m < o.nmetrics; m++) {
		struct mmb_cmp_row *rows;
		int n = mmb_compare_rows(&a, bp, o.base, o.metrics[m], &rows);

		if (n < 0) {
			mmb_err("compare: %s", strerror(-n));
			status = 1;
			break;
		}
		nrows += n;
		if (n == 0 && (o.fmt == CMP_TEXT || o.fmt == CMP_MD))
			printf("\n%s: not measured on both sides; skipped\n", o.metrics[m]);
		else
			cmp_print(stdout, o.fmt, o.metrics[m], o.base, rows, n, m == 0);
		for (int i = 0; i < n; i++) {
			const struct mmb_cmp_row *r = &rows[i];

			few |= r->na < 4 || r->nb < 4;
			if (r->significant && r->worse && fabs(r->change_pct) > o.fail_pct) {
				mmb_err("regression: %s %s %s %u threads: %+.2f%% (p=%.3g), worse than "
					"%g%%", o.metrics[m], r->alabel, r->wlabel, r->threads,
					r->change_pct, r->p, o.fail_pct);
				status = MMB_EXIT_REGRESSION;
			}
		}
		free(rows);
	}
	if (o.fmt == CMP_JSON)
		puts("\n  ]\n}");
	if (few && (o.fmt == CMP_TEXT || o.fmt == CMP_MD))
		puts("\nnote: fewer than 4 repetitions on a side: no change can be significant at "
		     "alpha 0.05 (run with -r 5 or more)");
	if (o.fmt == CMP_TEXT || o.fmt == CMP_MD)
		cmp_note_flags(&a, o.base ? NULL : &b);
	/* A gate that compared nothing must not pass. */
	if (!status && !nrows && !isnan(o.fail_pct)) {
		mmb_err("compare: --fail-on-regression: %s and %s have no (allocator, workload, "
			"threads) with a measured value in common; nothing was checked", a.dir,
			bp->dir);
		status = MMB_EXIT_USAGE;
	}
out:
	mmb_resdir_close(&a);
	if (!o.base)
		mmb_resdir_close(&b);
	return status;
}

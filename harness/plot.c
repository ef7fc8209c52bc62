/*
 * plot.c — `mmbench plot` (plot.h).
 *
 * Series: within one workload label, a series is one (allocator label,
 * threads) pair, titled with the allocator label ("glibc:tcache_count=0"),
 * plus " (N thr)" when the run has several thread counts. Figures over time
 * (memory, unusable index, faults over time) draw one cell per series: its
 * lowest repetition that has data. Everything else pools the repetitions:
 * medians with min..max bars; latency histograms are summed. Fault-census
 * cells have workload labels of their own ("pages (fault census)",
 * resdir.h), so no figure mixes them with timing cells; the fault figures
 * are drawn for the labels that have faults.csv rows.
 *
 * Latency curves from histograms are thinned to the points where the curve
 * moves by 2% in x or 5% in y (plot_lat_hist): the same line, a fraction of
 * the SVG. Colours: every series of an allocator label has that label's
 * colour, the same in every figure of the run (plot_colour).
 *
 * Data files are whitespace-separated; titles are double-quoted strings
 * (a '"' inside a label is written as '\''); NaN marks "not measured".
 */
#include "plot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"
#include "table.h"
#include "util.h"

static const char plot_usage[] =
	"usage: mmbench plot [--scripts DIR] RESULTS_DIR\n"
	"\n"
	"Draw the figures of a results folder into RESULTS_DIR/plots/ (PNG and SVG) with\n"
	"gnuplot: latency percentiles (alloc, free), throughput against threads, footprint and\n"
	"live bytes over time, unusable index over time, page faults over time and per region,\n"
	"hardware counters per operation, overhead ratio, internal fragmentation,\n"
	"size-class utilization (with --size-classes). A figure whose data was not\n"
	"measured is skipped with a note.\n"
	"\n"
	"      --scripts DIR   the gnuplot scripts (default: $MMB_PLOTS, else plots/ of the source tree)\n"
	"  -h, --help\n";

#define PLOT_MAX_GROUPS 256	/* bar groups (region/phase pairs) in one figure */

struct plot_series {
	const char *alabel;
	unsigned threads;
	char title[700];
};

/* A side file (ncols 0 = absent) and the cells.csv row of each of its rows (-1: none). */
struct plot_side {
	struct mmb_table t;
	int *row;
};

struct plot_ctx {
	const struct mmb_resdir *rd;
	const char *lib;
	char outdir[4200], datadir[4300];
	FILE *log;
	int drawn, failed, multi_threads;
	unsigned *thr;
	int nthr;
	const char **al;	/* the run's allocator labels: colour i + 1 is al[i]'s */
	int nal;
	char cols[8192], dts[8192];	/* per data block of the figure being written */
	struct plot_side lat, tl, flt, sc;
};

struct plot_vec {
	double *v;
	size_t n, cap;
};

static void vec_push(struct plot_vec *x, double v)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		double *g = realloc(x->v, cap * sizeof(double));

		if (!g)
			return;		/* a dropped sample under OOM; the figure still draws */
		x->v = g;
		x->cap = cap;
	}
	x->v[x->n++] = v;
}

int mmb_plot_have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char buf[4200];

	for (const char *p = path ? path : ""; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/gnuplot", (int)n, p);
		if (n && access(buf, X_OK) == 0)
			return 0;
		p += n;
		if (*p == ':')
			p++;
	}
	return -ENOENT;
}

int mmb_plot_find_scripts(const char *scripts, char *buf, size_t len)
{
	char exe[4096], probe[4300];
	const char *env = getenv("MMB_PLOTS");
	ssize_t n;

	if (scripts || env) {
		snprintf(buf, len, "%s", scripts ? scripts : env);
		snprintf(probe, sizeof(probe), "%s/common.gp", buf);
		return access(probe, R_OK) ? -ENOENT : 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	for (int up = 1; up <= 3; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = 0;
		snprintf(probe, sizeof(probe), "%s/plots/common.gp", exe);
		if (access(probe, R_OK) == 0) {
			snprintf(buf, len, "%s/plots", exe);
			return 0;
		}
	}
	return -ENOENT;
}

/* s as a gnuplot single-quoted string body ('' for '). */
static void plot_gpstr(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\'')
			buf[o++] = '\'';
		buf[o++] = *s;
	}
	buf[o] = 0;
}

/* A title line of a data block / bar header: "text" with " replaced by '. */
static void plot_qstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' ? '\'' : *s, f);
	fputc('"', f);
}

static void plot_note(struct plot_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void plot_note(struct plot_ctx *c, const char *fmt, ...)
{
	va_list ap;

	fputs("plot: ", c->log);
	va_start(ap, fmt);
	vfprintf(c->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->log);
}

/* The colour (common.gp's linetype 1..16) of an allocator label, one per label for the run. */
static int plot_colour(const struct plot_ctx *c, const char *alabel)
{
	for (int i = 0; i < c->nal; i++)
		if (!strcmp(c->al[i], alabel))
			return i % 16 + 1;
	return 16;
}

/* Start the block list of a figure; then one plot_block per data block (or bar series). */
static void plot_blocks_reset(struct plot_ctx *c)
{
	c->cols[0] = c->dts[0] = 0;
}

static void plot_block(struct plot_ctx *c, const char *alabel, int dash)
{
	size_t a = strlen(c->cols), b = strlen(c->dts);

	snprintf(c->cols + a, sizeof(c->cols) - a, "%s%d", a ? " " : "", plot_colour(c, alabel));
	snprintf(c->dts + b, sizeof(c->dts) - b, "%s%d", b ? " " : "", dash);
}

/* The dash type of a series: 1, or by thread count when the run has several. */
static int plot_dash(const struct plot_ctx *c, unsigned threads)
{
	for (int t = 0; c->multi_threads && t < c->nthr; t++)
		if (c->thr[t] == threads)
			return t % 5 + 1;
	return 1;
}

/* The last non-empty line of a small file (gnuplot's error), or "". */
static void plot_last_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	buf[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[strspn(line, " \t^")])
			snprintf(buf, len, "%s", line);
	}
	fclose(f);
}

/* Run one gnuplot; the image appears at final only when it succeeded. */
static int plot_gnuplot(struct plot_ctx *c, const char *script, const char *expr,
			const char *tmp, const char *final)
{
	char spath[4300], errpath[4600], msg[1024];
	struct stat st;
	int status = 0, fd;
	pid_t pid;

	snprintf(spath, sizeof(spath), "%s/%s", c->lib, script);
	snprintf(errpath, sizeof(errpath), "%s.err", tmp);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(nul, 1);
		if (fd >= 0)
			dup2(fd, 2);
		execlp("gnuplot", "gnuplot", "-e", expr, spath, (char *)NULL);
		_exit(127);
	}
	if (fd >= 0)
		close(fd);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		status = -1;
	plot_last_line(errpath, msg, sizeof(msg));
	unlink(errpath);
	if (status == 0 && stat(tmp, &st) == 0 && st.st_size > 0 && rename(tmp, final) == 0)
		return 0;
	unlink(tmp);
	unlink(final);	/* never leave an image of an older, different run either */
	if (status != -1 && WIFSIGNALED(status))
		plot_note(c, "%s: gnuplot killed by signal %d; no image written", final,
			  WTERMSIG(status));
	else
		plot_note(c, "%s: gnuplot failed (exit status %d%s%s); no image written", final,
			  status == -1 ? -1 : WEXITSTATUS(status), msg[0] ? ": " : "", msg);
	return -EIO;
}

/* Render data file NAME.dat with script into NAME.png and NAME.svg. */
static void plot_render(struct plot_ctx *c, const char *script, const char *name,
			const char *title, int n, const char *extra)
{
	static const char *const fmts[] = { "png", "svg" };
	int ok = 1;

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		char tmp[4500], final[4500], data[4500], expr[40960], q[4][4600];

		snprintf(final, sizeof(final), "%s/%s.%s", c->outdir, name, fmts[i]);
		snprintf(tmp, sizeof(tmp), "%s/.%s.%s.tmp", c->outdir, name, fmts[i]);
		snprintf(data, sizeof(data), "%s/%s.dat", c->datadir, name);
		plot_gpstr(q[0], sizeof(q[0]), c->lib);
		plot_gpstr(q[1], sizeof(q[1]), tmp);
		plot_gpstr(q[2], sizeof(q[2]), data);
		plot_gpstr(q[3], sizeof(q[3]), title);
		snprintf(expr, sizeof(expr), "lib='%s'; fmt='%s'; out='%s'; data='%s'; ttl='%s'; n=%d; "
			 "cols='%s'; dts='%s'; %s", q[0], fmts[i], q[1], q[2], q[3], n, c->cols, c->dts,
			 extra ? extra : "");
		if (plot_gnuplot(c, script, expr, tmp, final))
			ok = 0;
		else
			fprintf(c->log, "%s\n", final);
	}
	if (ok)
		c->drawn++;
	else
		c->failed++;
}

static FILE *plot_data_open(struct plot_ctx *c, const char *name)
{
	char path[4500];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", c->datadir, name);
	f = fopen(path, "w");
	if (!f)
		plot_note(c, "%s: %s", path, strerror(errno));
	return f;
}

/* The series of one workload label, in row order. Returns the count. */
static int plot_series_of(struct plot_ctx *c, const char *wl, struct plot_series **r_s)
{
	const struct mmb_resdir *rd = c->rd;
	struct plot_series *s = calloc((size_t)rd->ncells + 1, sizeof(*s));
	int n = 0;

	*r_s = s;
	if (!s)
		return 0;
	for (int i = 0; i < rd->ncells; i++) {
		int seen = 0;

		if (strcmp(rd->wlabel[i], wl))
			continue;
		for (int j = 0; j < n && !seen; j++)
			seen = !strcmp(s[j].alabel, rd->alabel[i]) && s[j].threads == rd->cells[i].threads;
		if (seen)
			continue;
		s[n].alabel = rd->alabel[i];
		s[n].threads = rd->cells[i].threads;
		if (c->multi_threads)
			snprintf(s[n].title, sizeof(s[n].title), "%s (%u thr)", s[n].alabel, s[n].threads);
		else
			snprintf(s[n].title, sizeof(s[n].title), "%s", s[n].alabel);
		n++;
	}
	*r_s = s;
	return n;
}

static int plot_in_series(const struct plot_ctx *c, int row, const char *wl,
			  const struct plot_series *s)
{
	const struct mmb_resdir *rd = c->rd;

	return mmb_resdir_ok(rd, row) && !strcmp(rd->wlabel[row], wl) &&
	       !strcmp(rd->alabel[row], s->alabel) && rd->cells[row].threads == s->threads;
}

/* The series' first ok cell (lowest repetition) with rows in t; -1 if none. */
static int plot_first_cell(const struct plot_ctx *c, const struct plot_side *sd, const char *wl,
			   const struct plot_series *s)
{
	int best = -1;

	for (int i = 0; i < sd->t.nrows; i++) {
		int row = sd->row[i];

		if (row < 0 || !plot_in_series(c, row, wl, s))
			continue;
		if (best < 0 || c->rd->cells[row].rep < c->rd->cells[best].rep)
			best = row;
	}
	return best;
}

static void plot_stats3(FILE *f, struct plot_vec *v)
{
	if (!v->n) {
		fputs(" NaN NaN NaN", f);
		return;
	}
	mmb_sort(v->v, v->n);
	fprintf(f, " %.9g %.9g %.9g", mmb_median(v->v, v->n), v->v[0], v->v[v->n - 1]);
}

/* ---- latency percentiles -------------------------------------------------- */

struct plot_bucket {
	double lo, hi, count;
};

static int plot_bucket_cmp(const void *a, const void *b)
{
	const struct plot_bucket *x = a, *y = b;

	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Percentile points of one series from latency.csv histograms; count written. */
static int plot_lat_hist(struct plot_ctx *c, FILE *f, const char *op, const char *wl,
			 const struct plot_series *s)
{
	const struct mmb_table *t = &c->lat.t;
	int cop = mmb_table_col(t, "op"), clo = mmb_table_col(t, "lo_ns");
	int chi = mmb_table_col(t, "hi_ns"), ccnt = mmb_table_col(t, "count");
	struct plot_bucket *b = calloc((size_t)t->nrows + 1, sizeof(*b));
	double total = 0, cum = 0;
	int nb = 0;

	if (!b || cop < 0 || chi < 0 || ccnt < 0) {
		free(b);
		return 0;
	}
	for (int i = 0; i < t->nrows; i++) {
		int row = c->lat.row[i], k;
		double lo = mmb_table_num(t, i, clo), hi = mmb_table_num(t, i, chi);
		double n = mmb_table_num(t, i, ccnt);

		if (row < 0 || strcmp(mmb_table_str(t, i, cop), op) || !plot_in_series(c, row, wl, s) ||
		    isnan(hi) || !(n > 0))
			continue;
		for (k = 0; k < nb && !(b[k].lo == lo && b[k].hi == hi); k++)
			;
		if (k == nb)
			b[nb++] = (struct plot_bucket){ .lo = lo, .hi = hi };
		b[k].count += n;
		total += n;
	}
	qsort(b, (size_t)nb, sizeof(*b), plot_bucket_cmp);
	if (nb) {
		plot_qstr(f, s->title);
		fputs(" \"latency_ns\"\n", f);
		plot_block(c, s->alabel, plot_dash(c, s->threads));
	}
	/* A point where the curve moved by 2% in x or 5% in y since the last
	 * one written, and the last: thousands of buckets draw the same line
	 * with at most a few hundred points (and keep report.html small). */
	double lx = 0, ly = 0;

	for (int k = 0; k < nb; k++) {
		double p, x;

		cum += b[k].count;
		p = fmin(cum / total, 1 - 1 / fmax(total, 2));
		x = 1 / (1 - p);
		if (k && k < nb - 1 && x < lx * 1.02 && b[k].hi < ly * 1.05)
			continue;
		fprintf(f, "%.6g %.6g\n", x, b[k].hi);
		lx = x;
		ly = b[k].hi;
	}
	if (nb)
		fputs("\n\n", f);
	free(b);
	return nb;
}

/* Percentile points from cells.csv OP_p50_ns ... OP_max_ns (medians over reps). */
static int plot_lat_cols(struct plot_ctx *c, FILE *f, const char *op, const char *wl,
			 const struct plot_series *s)
{
	static const struct { const char *suffix; double x; } pts[] = {
		{ "p50", 2 }, { "p90", 10 }, { "p99", 100 }, { "p999", 1e3 }, { "p9999", 1e4 },
		{ "max", 0 },
	};
	double v[4096], calls[4096];
	char col[64];
	int n = 0;

	for (size_t k = 0; k < sizeof(pts) / sizeof(pts[0]); k++) {
		size_t m;
		double x = pts[k].x;

		snprintf(col, sizeof(col), "%s_%s_ns", op, pts[k].suffix);
		m = mmb_resdir_samples(c->rd, s->alabel, wl, s->threads, col, v, 4096);
		if (!m)
			continue;
		if (x == 0) {	/* the max sits at the last of the op's calls */
			size_t nc = mmb_resdir_samples(c->rd, s->alabel, wl, s->threads,
						       !strcmp(op, "free") ? "frees" : "allocs", calls, 4096);

			x = nc ? fmax(mmb_median(calls, nc), 1e5) : 0;
			if (x == 0)
				continue;
		}
		if (!n++) {
			plot_qstr(f, s->title);
			fputs(" \"latency_ns\"\n", f);
			plot_block(c, s->alabel, plot_dash(c, s->threads));
		}
		fprintf(f, "%.9g %.9g\n", x, mmb_median(v, m));
	}
	if (n)
		fputs("\n\n", f);
	return n;
}

static void plot_latency(struct plot_ctx *c, const char *op, const char **wls, int nwl)
{
	int from_hist = 0;
	char col[64];

	snprintf(col, sizeof(col), "%s_p50_ns", op);
	for (int i = 0; i < c->lat.t.nrows && !from_hist; i++)
		from_hist = !strcmp(mmb_table_str(&c->lat.t, i, mmb_table_col(&c->lat.t, "op")), op);
	if (!from_hist && !mmb_resdir_has(c->rd, col)) {
		plot_note(c, "latency (%s): skipped, not measured (no latency.csv rows, no %s column)",
			  op, col);
		return;
	}
	for (int w = 0; w < nwl; w++) {
		struct plot_series *s;
		int ns = plot_series_of(c, wls[w], &s), drawn = 0;
		char name[700], slug[600], title[900];
		FILE *f;

		mmb_slug(wls[w], slug, sizeof(slug));
		snprintf(name, sizeof(name), "latency-%s-%s", op, slug);
		plot_blocks_reset(c);
		f = plot_data_open(c, name);
		for (int i = 0; f && i < ns; i++)
			drawn += (from_hist ? plot_lat_hist : plot_lat_cols)(c, f, op, wls[w], &s[i]) > 0;
		if (f)
			fclose(f);
		snprintf(title, sizeof(title), "%s latency percentiles, workload %s%s", op, wls[w],
			 from_hist ? "" : " (from cells.csv percentiles)");
		if (f && drawn)
			plot_render(c, "latency.gp", name, title, drawn, NULL);
		else if (f)
			plot_note(c, "%s: skipped, no measured %s latency", name, op);
		free(s);
	}
}

/* ---- throughput against threads ------------------------------------------ */

static void plot_bars(struct plot_ctx *c, const char *script, const char *name, const char *title,
		      char (*glabel)[256], int ng, const char *const *slabel,
		      const char *const *salabel, int ns, struct plot_vec *vals);

/*
 * One thread count: bars, one per allocator (a line against threads would
 * be a single point). Several: median against threads with min..max bars.
 */
static void plot_throughput_bars(struct plot_ctx *c, const char **al, int nal, const char *wl,
				 const char *name, const char *title)
{
	char (*gl)[256] = calloc(1, sizeof(*gl));
	struct plot_vec *vals = calloc((size_t)nal + 1, sizeof(*vals));
	double buf[4096];

	if (!gl || !vals) {
		free(gl);
		free(vals);
		return;
	}
	snprintf(gl[0], sizeof(gl[0]), "%u thread%s", c->thr[0], c->thr[0] == 1 ? "" : "s");
	for (int a = 0; a < nal; a++) {
		size_t m = mmb_resdir_samples(c->rd, al[a], wl, c->thr[0], "ops_per_sec", buf, 4096);

		for (size_t k = 0; k < m; k++)
			vec_push(&vals[a], buf[k]);
	}
	plot_bars(c, "throughput_bars.gp", name, title, gl, 1, al, al, nal, vals);
	free(vals);
	free(gl);
}

static void plot_throughput(struct plot_ctx *c, const char **wls, int nwl)
{
	const char **al = c->al;
	int nal = c->nal;
	char thr[512] = "", extra[700];

	for (int i = 0; i < c->nthr; i++)
		snprintf(thr + strlen(thr), sizeof(thr) - strlen(thr), "%s%u", i ? " " : "", c->thr[i]);
	snprintf(extra, sizeof(extra), "thr='%s'; thmin=%u; thmax=%u", thr, c->thr[0],
		 c->thr[c->nthr - 1]);
	for (int w = 0; w < nwl; w++) {
		char name[700], slug[600], title[900];
		FILE *f;
		int n = 0;

		mmb_slug(wls[w], slug, sizeof(slug));
		snprintf(name, sizeof(name), "throughput-%s", slug);
		if (c->nthr == 1) {
			snprintf(title, sizeof(title), "throughput, workload %s", wls[w]);
			plot_throughput_bars(c, al, nal, wls[w], name, title);
			continue;
		}
		plot_blocks_reset(c);
		f = plot_data_open(c, name);
		for (int a = 0; f && a < nal; a++) {
			int rows = 0;

			for (int t = 0; t < c->nthr; t++) {
				struct plot_vec v = { 0 };
				double buf[4096];
				size_t m = mmb_resdir_samples(c->rd, al[a], wls[w], c->thr[t], "ops_per_sec",
							      buf, 4096);

				if (!m)
					continue;
				if (!rows++) {
					plot_qstr(f, al[a]);
					fputs(" \"ops_per_sec\"\n", f);
					plot_block(c, al[a], 1);
				}
				for (size_t k = 0; k < m; k++)
					vec_push(&v, buf[k]);
				fprintf(f, "%u", c->thr[t]);
				plot_stats3(f, &v);
				fputc('\n', f);
				free(v.v);
			}
			if (rows) {
				fputs("\n\n", f);
				n++;
			}
		}
		if (f)
			fclose(f);
		snprintf(title, sizeof(title), "throughput against threads, workload %s", wls[w]);
		if (f && n)
			plot_render(c, "throughput.gp", name, title, n, extra);
		else if (f)
			plot_note(c, "%s: skipped, no finished cell measured ops_per_sec", name);
	}
}

/* ---- time series from timeline.csv and faults.csv ------------------------- */

/* Blocks "title"/"t_ms value" of columns cols[] for each series' first cell. */
static void plot_timeline(struct plot_ctx *c, const char *kind, const char *script,
			  const char *what, const char *const *cols, const char *const *suffix,
			  int ncols, const char **wls, int nwl)
{
	const struct mmb_table *t = &c->tl.t;
	int ct = mmb_table_col(t, "t_ns"), any = 0;

	for (int k = 0; k < ncols && ct >= 0; k++)
		for (int i = 0; i < t->nrows && !any; i++)
			any = !isnan(mmb_table_num(t, i, mmb_table_col(t, cols[k])));
	if (!any) {
		plot_note(c, "%s: skipped, not measured (timeline.csv %s)",
			  kind, t->ncols ? "has no values" : "absent");
		return;
	}
	for (int w = 0; w < nwl; w++) {
		struct plot_series *s;
		int ns = plot_series_of(c, wls[w], &s), n = 0;
		char name[700], slug[600], title[900];
		FILE *f;

		mmb_slug(wls[w], slug, sizeof(slug));
		snprintf(name, sizeof(name), "%s-%s", kind, slug);
		plot_blocks_reset(c);
		f = plot_data_open(c, name);
		for (int i = 0; f && i < ns; i++) {
			int row = plot_first_cell(c, &c->tl, wls[w], &s[i]), measured = 0;

			/* A configuration that measured none of the columns gets no
			 * line and no legend entry. */
			for (int k = 0; row >= 0 && k < ncols && !measured; k++)
				for (int j = 0; j < t->nrows && !measured; j++)
					measured = c->tl.row[j] == row &&
						   !isnan(mmb_table_num(t, j, mmb_table_col(t, cols[k])));
			for (int k = 0; row >= 0 && measured && k < ncols; k++) {
				int col = mmb_table_col(t, cols[k]), pts = 0;

				for (int j = 0; j < t->nrows; j++) {
					double v = mmb_table_num(t, j, col);

					if (c->tl.row[j] != row || isnan(v))
						continue;
					if (!pts++) {
						char title2[800];

						snprintf(title2, sizeof(title2), "%s %s", s[i].title, suffix[k]);
						plot_qstr(f, title2);
						fputs(" \"v\"\n", f);
						/* colour: the allocator; dash: which column */
						plot_block(c, s[i].alabel, k + 1);
					}
					fprintf(f, "%.9g %.9g\n", mmb_table_num(t, j, ct) / 1e6, v);
				}
				if (!pts)
					continue;	/* not measured: no block, no legend entry */
				fputs("\n\n", f);
				n++;
			}
		}
		if (f)
			fclose(f);
		snprintf(title, sizeof(title), "%s, workload %s (repetition 1 of each)", what, wls[w]);
		if (f && n)
			plot_render(c, script, name, title, n, NULL);
		else if (f)
			plot_note(c, "%s: skipped, no cell of this workload measured it", name);
		free(s);
	}
}

struct plot_tf {
	double t, faults;
};

static int plot_tf_cmp(const void *a, const void *b)
{
	const struct plot_tf *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

/*
 * Has any cell of workload label wl a faults.csv row? If not, its name is
 * added to skipped (len bytes) and the caller draws no fault figure for it:
 * in a run with census and timing cells, the timing workloads' are noted
 * once, together (plot_faults_note).
 */
static int plot_wl_faults(const struct plot_ctx *c, const char *wl, char *skipped, size_t len)
{
	size_t o = strlen(skipped);

	for (int j = 0; j < c->flt.t.nrows; j++)
		if (c->flt.row[j] >= 0 && !strcmp(c->rd->wlabel[c->flt.row[j]], wl))
			return 1;
	snprintf(skipped + o, len - o, "%s%s", o ? ", " : "", wl);
	return 0;
}

static void plot_faults_note(struct plot_ctx *c, const char *what, const char *skipped)
{
	if (skipped[0])
		plot_note(c, "%s: skipped for %s: no fault rows (timing cells: no monitor)", what,
			  skipped);
}

static void plot_faults_time(struct plot_ctx *c, const char **wls, int nwl)
{
	char skipped[2048] = "";

	const struct mmb_table *t = &c->flt.t;
	int ct = mmb_table_col(t, "t_ns"), cf = mmb_table_col(t, "faults");

	if (!t->nrows || ct < 0 || cf < 0) {
		plot_note(c, "faults over time: skipped, not measured (faults.csv %s)",
			  t->ncols ? "is empty" : "absent");
		return;
	}
	for (int w = 0; w < nwl; w++) {
		struct plot_series *s;
		struct plot_tf *tf;
		int ns, n = 0;
		char name[700], slug[600], title[900];
		FILE *f;

		if (!plot_wl_faults(c, wls[w], skipped, sizeof(skipped)))
			continue;
		tf = calloc((size_t)t->nrows + 1, sizeof(*tf));
		ns = plot_series_of(c, wls[w], &s);

		mmb_slug(wls[w], slug, sizeof(slug));
		snprintf(name, sizeof(name), "faults-time-%s", slug);
		plot_blocks_reset(c);
		f = tf ? plot_data_open(c, name) : NULL;
		for (int i = 0; f && i < ns; i++) {
			int row = plot_first_cell(c, &c->flt, wls[w], &s[i]), m = 0;
			double cum = 0;

			for (int j = 0; row >= 0 && j < t->nrows; j++)
				if (c->flt.row[j] == row)
					tf[m++] = (struct plot_tf){ mmb_table_num(t, j, ct),
								    mmb_table_num(t, j, cf) };
			if (!m)
				continue;
			qsort(tf, (size_t)m, sizeof(*tf), plot_tf_cmp);
			plot_qstr(f, s[i].title);
			fputs(" \"faults\"\n", f);
			plot_block(c, s[i].alabel, plot_dash(c, s[i].threads));
			for (int j = 0; j < m; j++) {
				cum += isnan(tf[j].faults) ? 0 : tf[j].faults;
				fprintf(f, "%.9g %.9g\n", tf[j].t / 1e6, cum);
			}
			fputs("\n\n", f);
			n++;
		}
		if (f)
			fclose(f);
		snprintf(title, sizeof(title), "page faults over time (userfaultfd), workload %s", wls[w]);
		if (f && n)
			plot_render(c, "faults_time.gp", name, title, n, NULL);
		else if (f)
			plot_note(c, "%s: skipped, no cell of this workload has fault bins", name);
		free(s);
		free(tf);
	}
	plot_faults_note(c, "faults over time", skipped);
}

/* ---- grouped bars --------------------------------------------------------- */

/*
 * Write a bar data file: ng groups (x labels) by ns series (slabel: titles,
 * salabel: their allocator labels, for the colour); vals[g * ns + s] holds
 * the samples. A series with no value in any group is left out (a bar
 * series of only NaN is an error to gnuplot). Renders when any value exists.
 * Frees the samples.
 */
static void plot_bars(struct plot_ctx *c, const char *script, const char *name, const char *title,
		      char (*glabel)[256], int ng, const char *const *slabel,
		      const char *const *salabel, int ns, struct plot_vec *vals)
{
	FILE *f = plot_data_open(c, name);
	int shown = 0, *has = calloc((size_t)ns + 1, sizeof(int));

	plot_blocks_reset(c);
	for (int i = 0; has && i < ng * ns; i++)
		has[i % ns] |= vals[i].n > 0;
	for (int s = 0; has && s < ns; s++)
		if (has[s]) {
			shown++;
			plot_block(c, salabel[s], 1);
		}
	if (f && shown) {
		fputs("\"x\"", f);
		for (int s = 0; s < ns; s++) {
			if (!has[s])
				continue;
			fputc(' ', f);
			plot_qstr(f, slabel[s]);
			fputs(" \"-\" \"-\"", f);
		}
		fputc('\n', f);
		for (int g = 0; g < ng; g++) {
			plot_qstr(f, glabel[g]);
			for (int s = 0; s < ns; s++)
				if (has[s])
					plot_stats3(f, &vals[g * ns + s]);
			fputc('\n', f);
		}
	}
	if (f)
		fclose(f);
	if (f && shown)
		plot_render(c, script, name, title, shown, NULL);
	else if (f)
		plot_note(c, "%s: skipped, not measured", name);
	for (int i = 0; i < ng * ns; i++)
		free(vals[i].v);
	free(has);
}

static void plot_faults_region(struct plot_ctx *c, const char **wls, int nwl)
{
	const struct mmb_table *t = &c->flt.t;
	int creg = mmb_table_col(t, "region"), cph = mmb_table_col(t, "phase");
	int cf = mmb_table_col(t, "faults");
	char skipped[2048] = "";

	if (!t->nrows || creg < 0 || cph < 0 || cf < 0) {
		plot_note(c, "faults per region: skipped, not measured (faults.csv %s)",
			  t->ncols ? "is empty" : "absent");
		return;
	}
	for (int w = 0; w < nwl; w++) {
		struct plot_series *s;
		int ns, ng = 0;
		char (*gl)[256];
		const char **sl;
		char name[700], slug[600], title[900];

		if (!plot_wl_faults(c, wls[w], skipped, sizeof(skipped)))
			continue;
		ns = plot_series_of(c, wls[w], &s);
		gl = calloc(PLOT_MAX_GROUPS, sizeof(*gl));
		sl = calloc((size_t)ns + 1, sizeof(*sl));

		for (int j = 0; gl && j < t->nrows; j++) {
			char g[256];
			int k;

			snprintf(g, sizeof(g), "%s/%s", mmb_table_str(t, j, creg), mmb_table_str(t, j, cph));
			for (k = 0; k < ng && strcmp(gl[k], g); k++)
				;
			if (k == ng && ng < PLOT_MAX_GROUPS)
				snprintf(gl[ng++], sizeof(gl[0]), "%s", g);
		}
		struct plot_vec *vals = calloc((size_t)(ng * ns) + 1, sizeof(*vals));
		double *sum = calloc((size_t)ng + 1, sizeof(double));
		const char **sal = calloc((size_t)ns + 1, sizeof(*sal));

		for (int i = 0; vals && sum && sl && sal && i < ns; i++) {
			sl[i] = s[i].title;
			sal[i] = s[i].alabel;
			for (int row = 0; row < c->rd->ncells; row++) {
				int has = 0;

				if (!plot_in_series(c, row, wls[w], &s[i]))
					continue;
				memset(sum, 0, (size_t)ng * sizeof(double));
				for (int j = 0; j < t->nrows; j++) {
					char g[256];
					double v;
					int k;

					if (c->flt.row[j] != row)
						continue;
					snprintf(g, sizeof(g), "%s/%s", mmb_table_str(t, j, creg),
						 mmb_table_str(t, j, cph));
					for (k = 0; k < ng && strcmp(gl[k], g); k++)
						;
					v = mmb_table_num(t, j, cf);
					if (k < ng && !isnan(v))
						sum[k] += v;
					has = 1;
				}
				for (int k = 0; has && k < ng; k++)	/* no bin: no fault there */
					vec_push(&vals[k * ns + i], sum[k]);
			}
		}
		mmb_slug(wls[w], slug, sizeof(slug));
		snprintf(name, sizeof(name), "faults-region-%s", slug);
		snprintf(title, sizeof(title), "page faults per region and phase, workload %s", wls[w]);
		if (vals && sum && sl && sal && gl)
			plot_bars(c, "faults_region.gp", name, title, gl, ng, sl, sal, ns, vals);
		free(vals);
		free(sum);
		free(sl);
		free(sal);
		free(gl);
		free(s);
	}
	plot_faults_note(c, "faults per region", skipped);
}

static int plot_is_hw(const char *col)
{
	size_t n = strlen(col);

	return strncmp(col, "hw_", 3) == 0 && n > 10 && strcmp(col + n - 7, "_per_op") == 0;
}

static void plot_hw(struct plot_ctx *c, const char **wls, int nwl)
{
	const struct mmb_table *ct = &c->rd->ctab;
	int nev = 0;

	for (int k = 0; k < ct->ncols; k++)
		nev += plot_is_hw(ct->cols[k]);
	if (!nev) {
		plot_note(c, "hardware counters: skipped, not measured (no hw_*_per_op columns)");
		return;
	}
	for (int w = 0; w < nwl; w++) {
		struct plot_series *s;
		int ns = plot_series_of(c, wls[w], &s), ng = 0;
		char (*gl)[256] = calloc((size_t)nev + 1, sizeof(*gl));
		const char **sl = calloc((size_t)ns + 1, sizeof(*sl));
		const char **sal = calloc((size_t)ns + 1, sizeof(*sal));
		struct plot_vec *vals = calloc((size_t)(nev * ns) + 1, sizeof(*vals));
		char name[700], slug[600], title[900];
		double buf[4096];

		for (int k = 0; gl && sl && sal && vals && k < ct->ncols; k++) {
			if (!plot_is_hw(ct->cols[k]))
				continue;
			snprintf(gl[ng], sizeof(gl[0]), "%.*s", (int)strlen(ct->cols[k]) - 10,
				 ct->cols[k] + 3);
			int any = 0;

			for (int i = 0; i < ns; i++) {
				size_t m = mmb_resdir_samples(c->rd, s[i].alabel, wls[w], s[i].threads,
							      ct->cols[k], buf, 4096);

				sl[i] = s[i].title;
				sal[i] = s[i].alabel;
				for (size_t j = 0; j < m; j++)
					vec_push(&vals[ng * ns + i], buf[j]);
				any |= m > 0;
			}
			ng += any;	/* an event that is n/a in every cell gets no group */
		}
		mmb_slug(wls[w], slug, sizeof(slug));
		snprintf(name, sizeof(name), "hwcounters-%s", slug);
		snprintf(title, sizeof(title), "hardware counters per operation, workload %s", wls[w]);
		if (gl && sl && sal && vals)
			plot_bars(c, "hwcounters.gp", name, title, gl, ng, sl, sal, ns, vals);
		free(vals);
		free(sl);
		free(sal);
		free(gl);
		free(s);
	}
}

/* One cells.csv column as bars: a group per workload (and thread count), a
 * bar per allocator label. */
static void plot_cell_bars(struct plot_ctx *c, const char **wls, int nwl, const char *col,
			   const char *script, const char *name, const char *title)
{
	const char **al = c->al;
	int nal = c->nal, ng = 0;
	char (*gl)[256] = calloc((size_t)(nwl * c->nthr) + 1, sizeof(*gl));
	struct plot_vec *vals = calloc((size_t)(nwl * c->nthr * (nal > 0 ? nal : 0)) + 1, sizeof(*vals));
	double buf[4096];

	for (int w = 0; nal > 0 && gl && vals && w < nwl; w++)
		for (int t = 0; t < c->nthr; t++) {
			int any = 0;

			for (int a = 0; a < nal; a++) {
				size_t m = mmb_resdir_samples(c->rd, al[a], wls[w], c->thr[t],
							      col, buf, 4096);

				for (size_t j = 0; j < m; j++)
					vec_push(&vals[ng * nal + a], buf[j]);
				any |= m > 0;
			}
			if (!any)
				continue;
			if (c->multi_threads)
				snprintf(gl[ng], sizeof(gl[0]), "%s (%u thr)", wls[w], c->thr[t]);
			else
				snprintf(gl[ng], sizeof(gl[0]), "%s", wls[w]);
			ng++;
		}
	if (nal > 0 && gl && vals)
		plot_bars(c, script, name, title, gl, ng, al, al, nal, vals);
	free(vals);
	free(gl);
}

/*
 * Program cells (those with an exit_status): one bar group per program, a
 * bar per allocator config, of col scaled by 1/div (wall_ns -> s, bytes ->
 * MiB). Other workloads have no exit_status and no group here.
 */
static void plot_programs(struct plot_ctx *c, const char **wls, int nwl, const char *col,
			  double div, const char *script, const char *name, const char *title)
{
	const char **al;
	int nal = mmb_resdir_alabels(c->rd, &al), ng = 0;
	char (*gl)[256] = calloc((size_t)nwl + 1, sizeof(*gl));
	struct plot_vec *vals = calloc((size_t)(nwl * (nal > 0 ? nal : 0)) + 1, sizeof(*vals));
	double buf[4096];

	for (int w = 0; nal > 0 && gl && vals && w < nwl; w++) {
		int any = 0;

		for (int t = 0; t < c->nthr; t++)
			for (int a = 0; a < nal; a++) {
				size_t m = mmb_resdir_samples(c->rd, al[a], wls[w], c->thr[t],
							      "exit_status", buf, 4096);

				if (!m)
					continue;
				m = mmb_resdir_samples(c->rd, al[a], wls[w], c->thr[t], col, buf, 4096);
				for (size_t j = 0; j < m; j++)
					vec_push(&vals[ng * nal + a], buf[j] / div);
				any |= m > 0;
			}
		if (!any)
			continue;
		snprintf(gl[ng++], sizeof(gl[0]), "%s", wls[w]);
	}
	if (nal > 0 && gl && vals && ng)
		plot_bars(c, script, name, title, gl, ng, al, al, nal, vals);
	free(vals);
	free(gl);
	if (nal >= 0)
		free(al);
}

/*
 * Utilization by size class (size_classes.csv), per workload: one line per
 * series, from its lowest repetition with rows, at the live peak. Classes
 * with no capacity have no utilization and no point; a series with no rows
 * at the live peak (mimalloc: README) has no line, and the note names it.
 */
static void plot_size_classes(struct plot_ctx *c, const char **wls, int nwl)
{
	const struct mmb_table *t = &c->sc.t;
	int cp = mmb_table_col(t, "point"), cb = mmb_table_col(t, "class_bytes"),
	    cu = mmb_table_col(t, "utilization");

	if (!t->nrows || cp < 0 || cb < 0 || cu < 0)
		return;		/* --size-classes not given: nothing to say */
	for (int w = 0; w < nwl; w++) {
		struct plot_series *s;
		int ns = plot_series_of(c, wls[w], &s), n = 0;
		char name[700], slug[600], title[900], none[2000] = "";
		FILE *f;

		mmb_slug(wls[w], slug, sizeof(slug));
		snprintf(name, sizeof(name), "sizeclasses-%s", slug);
		plot_blocks_reset(c);
		f = plot_data_open(c, name);
		for (int i = 0; f && i < ns; i++) {
			int row = plot_first_cell(c, &c->sc, wls[w], &s[i]), pts = 0;
			size_t o = strlen(none);

			for (int j = 0; row >= 0 && j < t->nrows; j++) {
				double u = mmb_table_num(t, j, cu);

				if (c->sc.row[j] != row || isnan(u) ||
				    strcmp(mmb_table_str(t, j, cp), "live_peak"))
					continue;
				if (!pts++) {
					plot_qstr(f, s[i].title);
					fputs(" \"u\"\n", f);
					plot_block(c, s[i].alabel, plot_dash(c, s[i].threads));
				}
				fprintf(f, "%.9g %.9g\n", mmb_table_num(t, j, cb), u);
			}
			if (pts) {
				fputs("\n\n", f);
				n++;
			} else if (row >= 0) {
				snprintf(none + o, sizeof(none) - o, "%s%s", o ? ", " : "", s[i].title);
			}
		}
		if (f)
			fclose(f);
		if (none[0])
			plot_note(c, "%s: no size classes at the live peak for %s", name, none);
		snprintf(title, sizeof(title), "size-class utilization at the live peak, workload %s "
			 "(repetition 1 of each)", wls[w]);
		if (f && n)
			plot_render(c, "size_classes.gp", name, title, n, NULL);
		else if (f)
			plot_note(c, "%s: skipped, no cell of this workload has size classes at the "
				  "live peak", name);
		free(s);
	}
}

/* Read DIR/file into sd and map its "cell" column to cells.csv rows. */
static void plot_side(struct plot_ctx *c, struct plot_side *sd, const char *file)
{
	char path[4400], err[4600];
	int e, col;

	snprintf(path, sizeof(path), "%s/%s", c->rd->dir, file);
	e = mmb_table_read(path, &sd->t, err, sizeof(err));
	if (e && e != -ENOENT)
		plot_note(c, "%s (ignored)", err);
	sd->row = calloc((size_t)sd->t.nrows + 1, sizeof(int));
	if (!sd->row) {
		mmb_table_free(&sd->t);	/* read as absent */
		return;
	}
	col = mmb_table_col(&sd->t, "cell");
	for (int i = 0; i < sd->t.nrows; i++) {
		double id = mmb_table_num(&sd->t, i, col);

		sd->row[i] = isnan(id) ? -1 : mmb_resdir_row_of(c->rd, (unsigned)id);
	}
}

static void plot_side_free(struct plot_side *sd)
{
	mmb_table_free(&sd->t);
	free(sd->row);
}

/* The file-name prefixes of the figure kinds, as plot_* below name them. */
static const char *const plot_kinds[] = {
	"latency-", "throughput-", "memory-", "unusable-", "faults-time-", "faults-region-",
	"hwcounters-", "overhead.", "sizeclasses-", "program-",
};

/*
 * Remove the figures (or data files) of an earlier `mmbench plot` in dir, so
 * that a figure now skipped does not survive from older data. Files of other
 * names are the user's and stay.
 */
static void plot_clean(const char *dir, const char *ext1, const char *ext2)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		int ours = 0;

		for (size_t k = 0; k < sizeof(plot_kinds) / sizeof(plot_kinds[0]); k++)
			ours |= !strncmp(e->d_name, plot_kinds[k], strlen(plot_kinds[k]));
		if (ours && n > 4 && (!strcmp(e->d_name + n - 4, ext1) ||
				      !strcmp(e->d_name + n - 4, ext2)))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int mmb_plot_dir(const struct mmb_resdir *rd, const char *lib, FILE *log)
{
	static const char *const mem_cols[] = { "footprint_bytes", "live_bytes" };
	static const char *const mem_suffix[] = { "footprint", "live" };
	static const char *const un_cols[] = { "unusable_o3", "unusable_o9" };
	static const char *const un_suffix[] = { "order 3", "order 9" };
	struct plot_ctx c = { .rd = rd, .lib = lib, .log = log };
	const char **wls;
	int nwl, e;

	snprintf(c.outdir, sizeof(c.outdir), "%s/plots", rd->dir);
	snprintf(c.datadir, sizeof(c.datadir), "%s/data", c.outdir);
	e = mmb_mkdir_p(c.datadir, 0755);
	if (e) {
		plot_note(&c, "cannot make %s: %s", c.datadir, strerror(-e));
		return e;
	}
	plot_clean(c.outdir, ".png", ".svg");
	plot_clean(c.datadir, ".dat", ".dat");
	nwl = mmb_resdir_wlabels(rd, &wls);
	c.nthr = mmb_resdir_threads(rd, &c.thr);
	c.nal = mmb_resdir_alabels(rd, &c.al);
	if (nwl < 0 || c.nthr < 0 || c.nal < 0) {
		free(nwl >= 0 ? wls : NULL);
		free(c.nthr >= 0 ? c.thr : NULL);
		free(c.nal >= 0 ? c.al : NULL);
		return -ENOMEM;
	}
	c.multi_threads = c.nthr > 1;
	plot_side(&c, &c.lat, "latency.csv");
	plot_side(&c, &c.tl, "timeline.csv");
	plot_side(&c, &c.flt, "faults.csv");
	plot_side(&c, &c.sc, "size_classes.csv");
	if (nwl) {
		plot_latency(&c, "alloc", wls, nwl);
		plot_latency(&c, "free", wls, nwl);
		plot_throughput(&c, wls, nwl);
		plot_timeline(&c, "memory", "memory.gp", "footprint (solid) and live bytes (dashed)",
			      mem_cols, mem_suffix, 2, wls, nwl);
		plot_timeline(&c, "unusable", "unusable.gp", "unusable free space index",
			      un_cols, un_suffix, 2, wls, nwl);
		plot_faults_time(&c, wls, nwl);
		plot_faults_region(&c, wls, nwl);
		plot_hw(&c, wls, nwl);
		plot_cell_bars(&c, wls, nwl, "overhead_ratio", "overhead.gp", "overhead",
			       "overhead ratio: peak footprint / peak live bytes");
		plot_cell_bars(&c, wls, nwl, "internal_frag", "internal_frag.gp", "internal-frag",
			       "internal fragmentation: 1 - requested / usable bytes at the peak");
		plot_size_classes(&c, wls, nwl);
		plot_programs(&c, wls, nwl, "wall_ns", 1e9, "program_time.gp", "program-time",
			      "programs: wall time");
		plot_programs(&c, wls, nwl, "rss_peak_bytes", 1048576.0, "program_rss.gp",
			      "program-rss", "programs: peak resident set");
	} else {
		plot_note(&c, "%s has no cells; nothing to draw", rd->dir);
	}
	plot_side_free(&c.lat);
	plot_side_free(&c.tl);
	plot_side_free(&c.flt);
	plot_side_free(&c.sc);
	free(wls);
	free(c.thr);
	free(c.al);
	return c.failed ? -EIO : c.drawn;
}

int mmb_plot_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "scripts", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *scripts = NULL;
	char lib[4096], err[4400];
	struct mmb_resdir rd;
	int c, n;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			scripts = optarg;
			break;
		case 'h':
			fputs(plot_usage, stdout);
			return 0;
		case ':':
			mmb_err("plot: option '%s' needs a value", argv[optind - 1]);
			return MMB_EXIT_USAGE;
		default:
			mmb_err("plot: unknown option '%s' (see mmbench plot --help)", argv[optind - 1]);
			return MMB_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		mmb_err("plot: expected one results folder (see mmbench plot --help)");
		return MMB_EXIT_USAGE;
	}
	if (mmb_resdir_open(argv[optind], &rd, err, sizeof(err))) {
		mmb_err("plot: %s", err);
		return MMB_EXIT_USAGE;
	}
	if (mmb_plot_have_gnuplot()) {
		mmb_err("plot: gnuplot not found on PATH (Debian: apt-get install gnuplot-nox, or "
			"scripts/install-deps.sh)");
		mmb_resdir_close(&rd);
		return MMB_EXIT_USAGE;
	}
	if (mmb_plot_find_scripts(scripts, lib, sizeof(lib))) {
		mmb_err("plot: gnuplot scripts not found (no common.gp in %s; use --scripts DIR)",
			scripts ? scripts : getenv("MMB_PLOTS") ? getenv("MMB_PLOTS") :
			"plots/ beside the build folder");
		mmb_resdir_close(&rd);
		return MMB_EXIT_USAGE;
	}
	n = mmb_plot_dir(&rd, lib, stdout);
	if (n >= 0)
		printf("%d figure%s in %s/plots\n", n, n == 1 ? "" : "s", rd.dir);
	else if (n == -EIO)
		mmb_err("plot: some figures failed (see above); the others are in %s/plots", rd.dir);
	mmb_resdir_close(&rd);
	return n >= 0 ? 0 : 1;
}

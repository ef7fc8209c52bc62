/*
 * results.c — cells.csv writer and reader, and the metric table (results.h).
 */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct mmb_metric_info mmb_metric_info[MMB_M_COUNT] = {
#define MMB_METRIC_INFO(kind, name, desc) { MMB_##kind, #name, desc },
	MMB_METRICS(MMB_METRIC_INFO)
#undef MMB_METRIC_INFO
};

int mmb_metric_find(const char *name)
{
	for (int i = 0; i < MMB_M_COUNT; i++)
		if (strcmp(mmb_metric_info[i].name, name) == 0)
			return i;
	return -1;
}

/* The identity columns, in order. */
static const char *const identity_cols[] = {
	"cell", "allocator", "config", "workload", "params", "threads", "rep", "seed", "status",
	"detail", "malloc_provider", "flags",
};
#define NIDENTITY (sizeof(identity_cols) / sizeof(identity_cols[0]))

void mmb_result_init(struct mmb_result *r)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < MMB_M_COUNT; i++)
		r->m[i] = NAN;
}

void mmb_result_label(const struct mmb_result *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", r->allocator, r->config[0] ? ":" : "", r->config);
}

void mmb_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int mmb_result_set_x(struct mmb_result *r, const char *name, double v, int na)
{
	struct mmb_xval *x = (struct mmb_xval *)mmb_result_get_x(r, name);

	if (!x) {
		if (r->nx == MMB_XCOL_MAX)
			return -ENOSPC;
		x = &r->x[r->nx++];
		snprintf(x->name, sizeof(x->name), "%s", name);
	}
	x->v = na ? NAN : v;
	x->na = na;
	return 0;
}

const struct mmb_xval *mmb_result_get_x(const struct mmb_result *r, const char *name)
{
	for (unsigned i = 0; i < r->nx; i++)
		if (strcmp(r->x[i].name, name) == 0)
			return &r->x[i];
	return NULL;
}

int mmb_csv_write_header(FILE *f, const struct mmb_xcols *xc)
{
	for (size_t i = 0; i < NIDENTITY; i++)
		fprintf(f, "%s%s", i ? "," : "", identity_cols[i]);
	for (int i = 0; i < MMB_M_COUNT; i++)
		fprintf(f, ",%s", mmb_metric_info[i].name);
	for (unsigned i = 0; xc && i < xc->n; i++) {
		fputc(',', f);
		mmb_csv_field(f, xc->name[i]);
	}
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

void mmb_result_flags(const struct mmb_result *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", r->m[MMB_M_failed_allocs] > 0 ? "failed_allocs" : "",
		 r->m[MMB_M_failed_allocs] > 0 && r->m[MMB_M_incomplete] > 0 ? "+" : "",
		 r->m[MMB_M_incomplete] > 0 ? "incomplete" : "");
}

int mmb_csv_write_row(FILE *f, const struct mmb_result *r, const struct mmb_xcols *xc)
{
	char flags[64];

	fprintf(f, "%u,", r->cell);
	mmb_csv_field(f, r->allocator);
	fputc(',', f);
	mmb_csv_field(f, r->config);
	fputc(',', f);
	mmb_csv_field(f, r->workload);
	fputc(',', f);
	mmb_csv_field(f, r->params);
	fprintf(f, ",%u,%u,%llu,", r->threads, r->rep, (unsigned long long)r->seed);
	mmb_csv_field(f, r->status);
	fputc(',', f);
	mmb_csv_field(f, r->detail);
	fputc(',', f);
	mmb_csv_field(f, r->malloc_provider);
	fputc(',', f);
	mmb_result_flags(r, flags, sizeof(flags));
	fputs(flags, f);
	for (int i = 0; i < MMB_M_COUNT; i++) {
		double v = r->m[i];

		fputc(',', f);
		if (isnan(v))
			continue;
		if (mmb_metric_info[i].kind == MMB_U64)
			fprintf(f, "%.0f", v);
		else
			fprintf(f, "%.6g", v);
	}
	for (unsigned i = 0; xc && i < xc->n; i++) {
		const struct mmb_xval *x = mmb_result_get_x(r, xc->name[i]);

		fputc(',', f);
		if (x && x->na)
			fputs("n/a", f);
		else if (x && !isnan(x->v))
			fprintf(f, "%.6g", x->v);
	}
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

int mmb_csv_split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *out;

		if (n == max)
			return -1;
		fields[n++] = out = p;
		if (*p == '"') {
			p++;
			for (;;) {
				if (!*p)
					return -1;
				if (*p == '"') {
					if (p[1] == '"') {
						*out++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*out++ = *p++;
			}
			if (*p && *p != ',')
				return -1;
		} else {
			while (*p && *p != ',')
				*out++ = *p++;
		}
		if (!*p) {
			*out = 0;
			return n;
		}
		*out = 0;	/* *p was ',' and out <= p */
		p++;
	}
}

#define CSV_MAX_FIELDS 256

ssize_t mmb_csv_read_record(char **line, size_t *cap, FILE *f, unsigned *r_lines)
{
	ssize_t len = getline(line, cap, f), more;
	char *next = NULL;
	size_t ncap = 0;
	int quoted = 0;

	*r_lines = 1;
	if (len <= 0)
		return -1;
	for (ssize_t i = 0; i < len; i++)
		quoted ^= (*line)[i] == '"';
	while (quoted && (more = getline(&next, &ncap, f)) > 0) {
		if ((size_t)(len + more) >= *cap) {
			char *grown = realloc(*line, (size_t)(len + more + 1));

			if (!grown)
				break;	/* the record stays open: reported as malformed */
			*line = grown;
			*cap = (size_t)(len + more + 1);
		}
		memcpy(*line + len, next, (size_t)more + 1);
		for (ssize_t i = len; i < len + more; i++)
			quoted ^= (*line)[i] == '"';
		len += more;
		(*r_lines)++;
	}
	free(next);
	if (len && (*line)[len - 1] == '\n')
		(*line)[--len] = 0;
	if (len && (*line)[len - 1] == '\r')
		(*line)[--len] = 0;
	return len;
}

static void copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

int mmb_csv_read(const char *path, struct mmb_result **r_rows, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *fields[CSV_MAX_FIELDS];
	size_t cap = 0;
	int colmap[CSV_MAX_FIELDS];	/* column -> identity index, or 100 + metric, or -1 */
	char *xname[CSV_MAX_FIELDS] = { 0 };	/* dynamic column names (colmap -2) */
	int ncols = 0, nrows = 0, rc = 0;
	unsigned lineno = 0, next_line = 1, nlines, nrec = 0;	/* lineno: the record's first */
	struct mmb_result *rows = NULL;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (mmb_csv_read_record(&line, &cap, f, &nlines) >= 0) {
		int n;

		lineno = next_line;
		next_line += nlines;
		nrec++;
		n = mmb_csv_split(line, fields, CSV_MAX_FIELDS);
		if (n < 0) {
			snprintf(err, errlen, "%s:%u: malformed CSV line", path, lineno);
			rc = -EPROTO;
			break;
		}
		if (nrec == 1) {
			int seen = 0;

			ncols = n;
			for (int c = 0; c < n; c++) {
				colmap[c] = -1;
				for (size_t k = 0; k < NIDENTITY; k++)
					if (strcmp(fields[c], identity_cols[k]) == 0) {
						colmap[c] = (int)k;
						seen += k != NIDENTITY - 1;	/* flags is optional */
					}
				if (colmap[c] < 0 && mmb_metric_find(fields[c]) >= 0)
					colmap[c] = 100 + mmb_metric_find(fields[c]);
				if (colmap[c] < 0 && fields[c][0]) {
					colmap[c] = -2;
					xname[c] = strdup(fields[c]);
					if (!xname[c])
						rc = -ENOMEM;
				}
			}
			if (rc)
				break;
			if (seen != (int)NIDENTITY - 1) {
				snprintf(err, errlen, "%s:1: not a cells.csv header (identity columns missing)", path);
				rc = -EPROTO;
				break;
			}
			continue;
		}
		if (n != ncols) {
			snprintf(err, errlen, "%s:%u: %d fields, header has %d", path, lineno, n, ncols);
			rc = -EPROTO;
			break;
		}
		struct mmb_result *grown = realloc(rows, (size_t)(nrows + 1) * sizeof(*rows));

		if (!grown) {
			rc = -ENOMEM;
			break;
		}
		rows = grown;
		struct mmb_result *r = &rows[nrows++];

		mmb_result_init(r);
		for (int c = 0; c < n; c++) {
			const char *v = fields[c];

			switch (colmap[c]) {
			case -1: break;
			case -2:
				if (strcmp(v, "n/a") == 0) {
					mmb_result_set_x(r, xname[c], NAN, 1);
				} else if (*v) {
					char *end;
					double d = strtod(v, &end);

					if (*end) {
						snprintf(err, errlen, "%s:%u: %s: '%.*s' is not a number or n/a",
							 path, lineno, xname[c], (int)strcspn(v, "\r\n"), v);
						rc = -EPROTO;
					}
					mmb_result_set_x(r, xname[c], d, 0);
				}
				break;
			case 0: r->cell = (unsigned)strtoul(v, NULL, 10); break;
			case 1: copy_field(r->allocator, sizeof(r->allocator), v); break;
			case 2: copy_field(r->config, sizeof(r->config), v); break;
			case 3: copy_field(r->workload, sizeof(r->workload), v); break;
			case 4: copy_field(r->params, sizeof(r->params), v); break;
			case 5: r->threads = (unsigned)strtoul(v, NULL, 10); break;
			case 6: r->rep = (unsigned)strtoul(v, NULL, 10); break;
			case 7: r->seed = strtoull(v, NULL, 10); break;
			case 8: copy_field(r->status, sizeof(r->status), v); break;
			case 9: copy_field(r->detail, sizeof(r->detail), v); break;
			case 10: copy_field(r->malloc_provider, sizeof(r->malloc_provider), v); break;
			case 11: break;	/* flags: derived from the metrics (mmb_result_flags) */
			default:
				if (*v) {
					char *end;
					double d = strtod(v, &end);

					if (*end) {
						/* One line: quote the value up to a line break. */
						snprintf(err, errlen, "%s:%u: %s: '%.*s' is not a number",
							 path, lineno,
							 mmb_metric_info[colmap[c] - 100].name,
							 (int)strcspn(v, "\r\n"), v);
						rc = -EPROTO;
					}
					r->m[colmap[c] - 100] = d;
				}
			}
		}
		if (rc)
			break;
	}
	if (!rc && nrec == 0) {
		snprintf(err, errlen, "%s: empty file", path);
		rc = -EPROTO;
	}
	free(line);
	fclose(f);
	for (int c = 0; c < ncols; c++)
		free(xname[c]);
	if (rc) {
		free(rows);
		return rc;
	}
	*r_rows = rows;
	return nrows;
}

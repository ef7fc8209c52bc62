/*
 * resdir.c — a results folder opened for reading (resdir.h), with the small
 * JSON reader meta.json needs: one top-level object whose values are
 * strings, numbers, literals, arrays of those, or nested objects.
 */
#include "resdir.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "metrics.h"

struct sbuf {
	char *s;
	size_t n, cap;
};

static int sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *g = realloc(b->s, cap);

		if (!g)
			return -ENOMEM;
		b->s = g;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
	return 0;
}

static const char *json_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* A string literal at p (on '"') appended to b, unescaped; the end, or NULL. */
static const char *json_string(const char *p, struct sbuf *b)
{
	for (p++; *p && *p != '"'; p++) {
		char c = *p;

		if (c == '\\') {
			p++;
			switch (*p) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				unsigned v;
				char u8[3];

				if (sscanf(p + 1, "%4x", &v) != 1)
					return NULL;
				p += 4;
				if (v < 0x80) {
					c = (char)v;
					break;
				}
				if (v < 0x800) {
					u8[0] = (char)(0xc0 | (v >> 6));
					u8[1] = (char)(0x80 | (v & 0x3f));
					if (sb_put(b, u8, 2))
						return NULL;
					continue;
				}
				c = '?';	/* beyond what meta.json ever writes */
				break;
			}
			case 0: return NULL;
			default: c = *p;	/* \" \\ \/ */
			}
		}
		if (sb_put(b, &c, 1))
			return NULL;
	}
	return *p == '"' ? p + 1 : NULL;
}

/*
 * Skip any value at p, copying its raw text to b with runs of white space
 * outside strings folded to one space (none just inside brackets); the end,
 * or NULL.
 */
static const char *json_raw(const char *p, struct sbuf *b)
{
	int depth = 0, space = 0;

	for (;;) {
		const char *s = p;

		if (*p == '"') {
			struct sbuf skip = { 0 };

			p = json_string(p, &skip);
			free(skip.s);
		} else if (!*p) {
			return NULL;
		} else if (isspace((unsigned char)*p)) {
			if (depth == 0)
				break;
			space = 1;
			p++;
			continue;
		} else if (depth == 0 && strchr(",}]", *p)) {
			break;
		} else {
			if (*p == '{' || *p == '[')
				depth++;
			else if (*p == '}' || *p == ']')
				depth--;
			p++;
		}
		if (!p)
			return NULL;
		if (space && b->n && !strchr("{[", b->s[b->n - 1]) && !strchr("}]", *s) &&
		    sb_put(b, " ", 1))
			return NULL;
		space = 0;
		if (sb_put(b, s, (size_t)(p - s)))
			return NULL;
		if (depth == 0 && strchr("}]", *s))
			break;		/* the container closed */
	}
	return p;
}

/* One value: strings unescaped, arrays as items joined by MMB_META_SEP. */
static const char *json_value(const char *p, struct sbuf *b)
{
	char sep = MMB_META_SEP;

	p = json_ws(p);
	if (*p == '"')
		return json_string(p, b);
	if (*p != '[')
		return json_raw(p, b);
	p = json_ws(p + 1);
	if (*p == ']')
		return p + 1;
	for (int first = 1;; first = 0) {
		if (!first && sb_put(b, &sep, 1))
			return NULL;
		p = json_value(p, b);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == ']')
			return p + 1;
		if (*p != ',')
			return NULL;
		p++;
	}
}

static int resdir_parse_meta(struct mmb_resdir *rd, const char *text)
{
	const char *p = json_ws(text);

	if (*p != '{')
		return -EPROTO;
	p = json_ws(p + 1);
	while (*p == '"') {
		struct sbuf k = { 0 }, v = { 0 };
		struct mmb_meta_kv *g;

		p = json_string(p, &k);
		if (p)
			p = json_ws(p);
		if (p && *p == ':')
			p = json_value(p + 1, &v);
		g = p ? realloc(rd->kv, (size_t)(rd->nkv + 1) * sizeof(*g)) : NULL;
		if (!g) {
			free(k.s);
			free(v.s);
			return p ? -ENOMEM : -EPROTO;
		}
		rd->kv = g;
		rd->kv[rd->nkv].key = k.s ? k.s : strdup("");
		rd->kv[rd->nkv].val = v.s ? v.s : strdup("");
		rd->nkv++;
		p = json_ws(p);
		if (*p == ',')
			p = json_ws(p + 1);
	}
	return *p == '}' ? 0 : -EPROTO;
}

static char *resdir_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct sbuf b = { 0 };
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (sb_put(&b, chunk, n))
			break;
	fclose(f);
	if (!b.s)
		b.s = strdup("");
	return b.s;
}

const char *mmb_resdir_meta(const struct mmb_resdir *rd, const char *key, const char *sep,
			    char *buf, size_t len)
{
	for (int i = 0; i < rd->nkv; i++) {
		size_t o = 0;

		if (strcmp(rd->kv[i].key, key))
			continue;
		buf[0] = 0;
		for (const char *p = rd->kv[i].val; *p && o + 1 < len; p++) {
			if (*p == MMB_META_SEP)
				o += (size_t)snprintf(buf + o, len - o, "%s", sep);
			else
				buf[o++] = *p;
			if (o >= len)
				o = len - 1;
			buf[o] = 0;
		}
		return buf;
	}
	return NULL;
}

/*
 * Fault census cells: cells.csv's fault_census > 0; a folder written before
 * that column (NaN) ran one mode for every cell: meta.json's faults.mode.
 */
static int resdir_census(const struct mmb_resdir *rd, int row)
{
	double v = rd->cells[row].m[MMB_M_fault_census];
	char buf[4096];
	const char *faults, *mode;

	if (!isnan(v))
		return v > 0;
	faults = mmb_resdir_meta(rd, "faults", "", buf, sizeof(buf));
	mode = faults ? strstr(faults, "\"mode\": \"") : NULL;
	return mode && strncmp(mode + 9, "off\"", 4) != 0;
}

/* 1 if item ("k=v") is one of the comma-separated items of params. */
static int resdir_has_item(const char *params, const char *item, size_t n)
{
	for (const char *p = params; *p;) {
		size_t m = strcspn(p, ",");

		if (m == n && !strncmp(p, item, n))
			return 1;
		p += m + (p[m] == ',');
	}
	return 0;
}

/*
 * The parameters that tell params apart from the other parameter sets of
 * its workload (sets[0..nsets)): the items some other set lacks, in order
 * ("size=16" of "size=16,batch=1" against "size=32,batch=1").
 */
static void resdir_differing(const char *params, char *const *sets, int nsets, char *buf,
			     size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (const char *p = params; *p;) {
		size_t m = strcspn(p, ",");
		int differs = 0;

		for (int k = 0; k < nsets && !differs; k++)
			differs = strcmp(sets[k], params) && !resdir_has_item(sets[k], p, m);
		if (differs && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%.*s", o ? "," : "", (int)m, p);
		p += m + (p[m] == ',');
	}
}

/*
 * Workload labels: the name alone unless it ran with several parameter sets,
 * then "name:" and the parameters that differ between them (all of them if
 * that would make two sets alike); " (fault census)" after it for a census
 * cell. Work is per distinct parameter set, not per pair of cells.
 */
static void resdir_labels(struct mmb_resdir *rd)
{
	char **sets = calloc((size_t)rd->ncells + 1, sizeof(*sets)), part[512];	/* at most params (511) */
	int nsets;

	for (int i = 0; i < rd->ncells; i++) {
		const struct mmb_result *r = &rd->cells[i];

		mmb_result_label(r, rd->alabel[i], sizeof(rd->alabel[i]));
		nsets = 0;
		for (int j = 0; sets && j < rd->ncells; j++) {
			int seen = 0;

			if (strcmp(rd->cells[j].workload, r->workload))
				continue;
			for (int k = 0; k < nsets && !seen; k++)
				seen = !strcmp(sets[k], rd->cells[j].params);
			if (!seen)
				sets[nsets++] = rd->cells[j].params;
		}
		part[0] = 0;
		if (nsets > 1) {
			resdir_differing(r->params, sets, nsets, part, sizeof(part));
			for (int k = 0; k < nsets && part[0]; k++) {
				char other[512];

				if (!strcmp(sets[k], r->params))
					continue;
				resdir_differing(sets[k], sets, nsets, other, sizeof(other));
				if (!strcmp(other, part))
					part[0] = 0;	/* ambiguous: the whole set */
			}
			if (!part[0])
				snprintf(part, sizeof(part), "%s", r->params);
		}
		snprintf(rd->wlabel[i], sizeof(rd->wlabel[i]), "%s%s%s%s", r->workload,
			 part[0] ? ":" : "", part, resdir_census(rd, i) ? MMB_CENSUS_LABEL : "");
	}
	free(sets);
}

int mmb_resdir_open(const char *dir, struct mmb_resdir *rd, char *err, size_t errlen)
{
	char path[4200], *text, buf[64];
	struct stat st;
	int n, e;

	memset(rd, 0, sizeof(*rd));
	snprintf(rd->dir, sizeof(rd->dir), "%s", dir);
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a results folder (no such folder)", dir);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	text = resdir_slurp(path);
	if (!text) {
		snprintf(err, errlen, "%s is not a results folder (no meta.json)", dir);
		return -ENOENT;
	}
	e = resdir_parse_meta(rd, text);
	free(text);
	if (e) {
		snprintf(err, errlen, "%s: %s", path,
			 e == -ENOMEM ? "out of memory" : "not a JSON object (malformed meta.json)");
		goto fail;
	}
	if (!mmb_resdir_meta(rd, "schema_version", "", buf, sizeof(buf))) {
		snprintf(err, errlen, "%s is not a results folder (meta.json has no schema_version)",
			 dir);
		e = -ENOENT;
		goto fail;
	}
	rd->schema_version = atoi(buf);
	if (rd->schema_version != MMB_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "%s: results schema version %s, this mmbench reads version %d (use the "
			 "mmbench that wrote it)", dir, buf, MMB_SCHEMA_VERSION);
		e = -EPROTO;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, &rd->cells, err, errlen);
	if (n == -ENOENT)
		snprintf(err, errlen, "%s is not a results folder (no cells.csv)", dir);
	if (n < 0) {
		e = n;
		goto fail;
	}
	rd->ncells = n;
	e = mmb_table_read(path, &rd->ctab, err, errlen);
	if (e)
		goto fail;
	if (rd->ctab.nrows != n) {
		snprintf(err, errlen, "%s: changed while being read", path);
		e = -EPROTO;
		goto fail;
	}
	rd->alabel = calloc((size_t)n + 1, sizeof(*rd->alabel));
	rd->wlabel = calloc((size_t)n + 1, sizeof(*rd->wlabel));
	if (!rd->alabel || !rd->wlabel) {
		snprintf(err, errlen, "out of memory");
		e = -ENOMEM;
		goto fail;
	}
	resdir_labels(rd);
	return 0;
fail:
	mmb_resdir_close(rd);
	return e;
}

void mmb_resdir_close(struct mmb_resdir *rd)
{
	for (int i = 0; i < rd->nkv; i++) {
		free(rd->kv[i].key);
		free(rd->kv[i].val);
	}
	free(rd->kv);
	free(rd->cells);
	mmb_table_free(&rd->ctab);
	free(rd->alabel);
	free(rd->wlabel);
	memset(rd, 0, sizeof(*rd));
}

int mmb_resdir_has(const struct mmb_resdir *rd, const char *metric)
{
	return mmb_table_col(&rd->ctab, metric) >= 0;
}

double mmb_resdir_value(const struct mmb_resdir *rd, int row, const char *metric)
{
	int id = mmb_metric_find(metric);

	if (id >= 0)
		return rd->cells[row].m[id];
	return mmb_table_num(&rd->ctab, row, mmb_table_col(&rd->ctab, metric));
}

int mmb_resdir_ok(const struct mmb_resdir *rd, int row)
{
	return strcmp(rd->cells[row].status, MMB_ST_OK) == 0;
}

size_t mmb_resdir_samples(const struct mmb_resdir *rd, const char *alabel, const char *wlabel,
			  unsigned threads, const char *metric, double *out, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < rd->ncells && n < max; i++) {
		double v;

		if (!mmb_resdir_ok(rd, i) || strcmp(rd->alabel[i], alabel) ||
		    strcmp(rd->wlabel[i], wlabel) || (threads && rd->cells[i].threads != threads))
			continue;
		v = mmb_resdir_value(rd, i, metric);
		if (!isnan(v))
			out[n++] = v;
	}
	return n;
}

int mmb_resdir_row_of(const struct mmb_resdir *rd, unsigned cell)
{
	for (int i = 0; i < rd->ncells; i++)
		if (rd->cells[i].cell == cell)
			return i;
	return -1;
}

/* Distinct strings of a per-row column, in first-seen order. */
static int resdir_distinct(const struct mmb_resdir *rd, char (*col)[600], const char ***r_list)
{
	const char **l = calloc((size_t)rd->ncells + 1, sizeof(*l));
	int n = 0;

	if (!l)
		return -ENOMEM;
	for (int i = 0; i < rd->ncells; i++) {
		int seen = 0;

		for (int j = 0; j < n && !seen; j++)
			seen = !strcmp(l[j], col[i]);
		if (!seen)
			l[n++] = col[i];
	}
	*r_list = l;
	return n;
}

int mmb_resdir_alabels(const struct mmb_resdir *rd, const char ***r_list)
{
	return resdir_distinct(rd, rd->alabel, r_list);
}

int mmb_resdir_wlabels(const struct mmb_resdir *rd, const char ***r_list)
{
	return resdir_distinct(rd, rd->wlabel, r_list);
}

static int resdir_ucmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

int mmb_resdir_threads(const struct mmb_resdir *rd, unsigned **r_list)
{
	unsigned *l = calloc((size_t)rd->ncells + 1, sizeof(*l));
	int n = 0;

	if (!l)
		return -ENOMEM;
	for (int i = 0; i < rd->ncells; i++) {
		int seen = 0;

		for (int j = 0; j < n && !seen; j++)
			seen = l[j] == rd->cells[i].threads;
		if (!seen)
			l[n++] = rd->cells[i].threads;
	}
	qsort(l, (size_t)n, sizeof(*l), resdir_ucmp);
	*r_list = l;
	return n;
}

void mmb_slug(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 1 < len; s++)
		buf[o++] = isalnum((unsigned char)*s) || strchr("._-", *s) ? *s : '_';
	buf[o] = 0;
}

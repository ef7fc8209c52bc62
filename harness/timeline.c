/*
 * timeline.c — timeline samples, the fault-count hook, record lines (timeline.h).
 */
#include "timeline.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static mmb_faults_fn tl_faults_fn;
static void *tl_faults_ctx;

void mmb_timeline_set_faults(mmb_faults_fn fn, void *ctx)
{
	tl_faults_fn = fn;
	tl_faults_ctx = ctx;
}

double mmb_timeline_faults(void)
{
	int64_t n;

	if (!tl_faults_fn)
		return NAN;
	n = tl_faults_fn(tl_faults_ctx);
	return n < 0 ? NAN : (double)n;
}

int mmb_timeline_reserve(struct mmb_timeline *tl, size_t n)
{
	struct mmb_tl_sample *grown;

	if (n > MMB_TL_MAX_SAMPLES)
		n = MMB_TL_MAX_SAMPLES;
	if (n <= tl->cap)
		return 0;
	grown = realloc(tl->s, n * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	memset(grown + tl->n, 0, (n - tl->n) * sizeof(*grown));
	tl->s = grown;
	tl->cap = n;
	return 0;
}

int mmb_timeline_add(struct mmb_timeline *tl, const struct mmb_tl_sample *s)
{
	if (tl->n == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 256;
		struct mmb_tl_sample *grown;

		if (cap > MMB_TL_MAX_SAMPLES)
			cap = MMB_TL_MAX_SAMPLES;
		grown = cap > tl->cap ? realloc(tl->s, cap * sizeof(*grown)) : NULL;
		if (!grown) {
			tl->dropped++;
			return -ENOMEM;
		}
		tl->s = grown;
		tl->cap = cap;
	}
	tl->s[tl->n++] = *s;
	return 0;
}

void mmb_timeline_free(struct mmb_timeline *tl)
{
	free(tl->s);
	memset(tl, 0, sizeof(*tl));
}

static void tl_val(FILE *f, double v)
{
	if (isnan(v))
		fputs(" na", f);
	else
		fprintf(f, " %.17g", v);
}

void mmb_timeline_emit(FILE *rec, const struct mmb_timeline *tl)
{
	for (size_t i = 0; i < tl->n; i++) {
		const struct mmb_tl_sample *s = &tl->s[i];

		fprintf(rec, "t %llu", (unsigned long long)s->t_ns);
		tl_val(rec, s->live_bytes);
		tl_val(rec, s->footprint_bytes);
		tl_val(rec, s->faults);
		for (int o = 0; o < MMB_NR_ORDERS; o++)
			tl_val(rec, s->unusable[o]);
		tl_val(rec, s->footprint_own_bytes);
		tl_val(rec, s->internal_frag);
		fputc('\n', rec);
	}
}

int mmb_timeline_csv_row(const char *payload, unsigned cell, FILE *out)
{
	char buf[1024], *save = NULL, *tok[MMB_TL_FIELDS];
	int n = 0;

	if (strlen(payload) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", payload);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *end;

		if (n == MMB_TL_FIELDS)
			return -EINVAL;
		if (strcmp(t, "na")) {
			strtod(t, &end);
			if (*end)
				return -EINVAL;
		}
		tok[n++] = t;
	}
	if (n != MMB_TL_FIELDS)
		return -EINVAL;
	fprintf(out, "%u", cell);
	for (int i = 0; i < n; i++)
		fprintf(out, ",%s", strcmp(tok[i], "na") ? tok[i] : "");
	fputc('\n', out);
	return 0;
}

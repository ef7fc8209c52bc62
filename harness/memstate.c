/*
 * memstate.c — frag_orders.csv and size_classes.csv: record lines in the
 * child, rows in the parent (memstate.h).
 */
#include "memstate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"

static void ms_val(FILE *f, double v)
{
	if (isnan(v))
		fputs(" na", f);
	else
		fprintf(f, " %.17g", v);
}

void mmb_memstate_emit_orders(FILE *rec, const char *point, const double unusable[MMB_NR_ORDERS],
			      const double extfrag[MMB_NR_ORDERS])
{
	int any = 0;

	for (int o = 0; o < MMB_NR_ORDERS; o++)
		any |= !isnan(unusable[o]) || !isnan(extfrag[o]);
	for (int o = 0; any && o < MMB_NR_ORDERS; o++) {
		fprintf(rec, "o %s %d", point, o);
		ms_val(rec, unusable[o]);
		ms_val(rec, extfrag[o]);
		fputc('\n', rec);
	}
}

void mmb_memstate_emit_classes(FILE *rec, const char *point, const char *name,
			       const struct mmb_size_class *c, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(rec, "z %s %s %llu %llu %llu %llu\n", point, name,
			(unsigned long long)c[i].class_bytes, (unsigned long long)c[i].live_objects,
			(unsigned long long)c[i].capacity_objects, (unsigned long long)c[i].pages);
}

int mmb_memstate_open(struct mmb_memstate_rows *r)
{
	memset(r, 0, sizeof(*r));
	r->orders = open_memstream(&r->orders_buf, &r->orders_len);
	r->classes = open_memstream(&r->classes_buf, &r->classes_len);
	if (r->orders && r->classes)
		return 0;
	mmb_memstate_close(r, NULL, 0);
	return -ENOMEM;
}

/* A word of letters, digits, '_', '-' or '.' (a point or registry name). */
static int ms_word(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') ||
		      *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

/* "na" -> "", a number -> itself; -EINVAL otherwise. */
static int ms_num(const char *s, const char **r)
{
	char *end;

	if (!strcmp(s, "na")) {
		*r = "";
		return 0;
	}
	strtod(s, &end);
	if (end == s || *end)
		return -EINVAL;
	*r = s;
	return 0;
}

int mmb_memstate_line(struct mmb_memstate_rows *r, const char *line, unsigned cell)
{
	char point[32], name[64], a[40], b[40];
	unsigned order;
	unsigned long long cb, live, cap, pages;
	const char *u, *e;

	if (!strncmp(line, "o ", 2)) {
		if (sscanf(line + 2, "%31s %u %39s %39s", point, &order, a, b) == 4 && ms_word(point) &&
		    order < MMB_NR_ORDERS && !ms_num(a, &u) && !ms_num(b, &e))
			fprintf(r->orders, "%u,%s,%u,%s,%s\n", cell, point, order, u, e);
		return 1;
	}
	if (!strncmp(line, "z ", 2)) {
		if (sscanf(line + 2, "%31s %63s %llu %llu %llu %llu", point, name, &cb, &live, &cap,
			   &pages) == 6 && ms_word(point) && ms_word(name)) {
			fprintf(r->classes, "%u,%s,%s,%llu,%llu,%llu,%llu,", cell, point, name, cb, live,
				cap, pages);
			if (cap)
				fprintf(r->classes, "%.6f", (double)live / (double)cap);
			fputc('\n', r->classes);
		}
		return 1;
	}
	return 0;
}

int mmb_memstate_close(struct mmb_memstate_rows *r, const char *dir, int append)
{
	int e = 0;

	if (r->orders)
		fclose(r->orders);
	if (r->classes)
		fclose(r->classes);
	if (append && dir && r->orders_len)
		e = mmb_series_append(dir, MMB_FRAG_ORDERS_CSV, r->orders_buf, r->orders_len);
	if (append && dir && r->classes_len && !e)
		e = mmb_series_append(dir, MMB_SIZE_CLASSES_CSV, r->classes_buf, r->classes_len);
	free(r->orders_buf);
	free(r->classes_buf);
	memset(r, 0, sizeof(*r));
	return e;
}

int mmb_memstate_create(const char *dir)
{
	int e = mmb_series_create(dir, MMB_FRAG_ORDERS_CSV, MMB_FRAG_ORDERS_HEADER);

	return e ? e : mmb_series_create(dir, MMB_SIZE_CLASSES_CSV, MMB_SIZE_CLASSES_HEADER);
}

int mmb_memstate_keep(const char *dir, const unsigned char *keep, unsigned ncells)
{
	int e = mmb_series_keep(dir, MMB_FRAG_ORDERS_CSV, MMB_FRAG_ORDERS_HEADER, keep, ncells);

	return e ? e : mmb_series_keep(dir, MMB_SIZE_CLASSES_CSV, MMB_SIZE_CLASSES_HEADER, keep, ncells);
}

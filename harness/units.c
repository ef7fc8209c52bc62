/*
 * units.c — human units of a metric's value (units.h).
 */
#include "units.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int units_ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Three significant digits of v (>= 0 or negative), no exponent. */
static void units_3g(char *buf, size_t len, double v, const char *unit)
{
	double a = fabs(v);

	snprintf(buf, len, "%.*f%s%s", a >= 99.95 ? 0 : a >= 9.995 ? 1 : 2, v, *unit ? " " : "",
		 unit);
}

/* v with an SI prefix (k, M, G, T) above 10^4 (10^3 when unit is set), then unit. */
static void units_si(char *buf, size_t len, double v, const char *unit)
{
	static const char *const pre[] = { "", "k", "M", "G", "T" };
	double a = fabs(v);
	int k = 0;
	char u[32];

	if (a < (*unit ? 1e3 : 1e4)) {
		if (a == floor(a) && a < 1e4)
			snprintf(buf, len, "%.0f%s%s", v, *unit ? " " : "", unit);
		else
			units_3g(buf, len, v, unit);
		return;
	}
	while (a >= 999.5 && k < 4) {
		a /= 1e3;
		v /= 1e3;
		k++;
	}
	snprintf(u, sizeof(u), "%s%s%s", pre[k], k && *unit && *unit != '/' ? " " : "", unit);
	units_3g(buf, len, v, u);
}

char *mmb_fmt_metric(char *buf, size_t len, const char *metric, double v)
{
	if (isnan(v)) {
		snprintf(buf, len, "-");
	} else if (isinf(v)) {
		snprintf(buf, len, "%sinf", v < 0 ? "-" : "");
	} else if (units_ends(metric, "_bytes")) {
		static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
		double a = fabs(v);
		int k = 0;

		while (a >= 1023.5 && k < 4) {
			a /= 1024;
			v /= 1024;
			k++;
		}
		if (k == 0)
			snprintf(buf, len, "%.0f B", v);
		else
			units_3g(buf, len, v, u[k]);
	} else if (!strcmp(metric, "ops_per_sec")) {
		units_si(buf, len, v, "ops/s");
	} else if (units_ends(metric, "_per_sec")) {
		units_si(buf, len, v, "/s");
	} else if (units_ends(metric, "_ns")) {
		double a = fabs(v);

		if (a < 999.5)
			units_3g(buf, len, v, "ns");
		else if (a < 999.5e3)
			units_3g(buf, len, v / 1e3, "us");
		else if (a < 999.5e6)
			units_3g(buf, len, v / 1e6, "ms");
		else
			units_3g(buf, len, v / 1e9, "s");
	} else {
		units_si(buf, len, v, "");
	}
	return buf;
}

char *mmb_fmt_pct(char *buf, size_t len, double pct)
{
	double a = fabs(pct);

	if (isnan(pct)) {
		snprintf(buf, len, "n/a");
	} else if (isinf(pct)) {
		snprintf(buf, len, "%sinf%%", pct < 0 ? "-" : "+");
	} else if (pct >= 999.5) {	/* a factor reads better: "x12.3", "x328k" */
		char f[32];

		units_si(f, sizeof(f), 1 + pct / 100, "");
		snprintf(buf, len, "x%s", f);
		for (char *p = buf; *p; p++)	/* "x328 k" -> "x328k" */
			if (*p == ' ')
				memmove(p, p + 1, strlen(p));
	} else
		snprintf(buf, len, "%+.*f%%", a >= 99.95 ? 0 : a >= 9.995 ? 1 : 2, pct);
	return buf;
}

/*
 * test_units.c — the small text helpers the summary, report and compare
 * print through: human units (units.h), aligned text tables (texttable.h)
 * and JSON flattened to rows (jsonflat.h), on inputs whose output is known.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/jsonflat.h"
#include "../../harness/texttable.h"
#include "../../harness/units.h"

static const char *fmt(const char *metric, double v)
{
	static char buf[64];

	return mmb_fmt_metric(buf, sizeof(buf), metric, v);
}

static const char *pct(double v)
{
	static char buf[64];

	return mmb_fmt_pct(buf, sizeof(buf), v);
}

Test(units, metric_values_in_human_units)
{
	cr_expect_str_eq(fmt("ops_per_sec", 19.9e6), "19.9 M ops/s");
	cr_expect_str_eq(fmt("ops_per_sec", 1.0e7 + 2), "10.0 M ops/s");
	cr_expect_str_eq(fmt("ops_per_sec", 217), "217 ops/s");
	cr_expect_str_eq(fmt("ops_per_sec", 40800), "40.8 k ops/s");
	cr_expect_str_eq(fmt("x_per_sec", 1234), "1.23 k/s");
	cr_expect_str_eq(fmt("footprint_peak_bytes", 1.3 * 1048576), "1.30 MiB");
	cr_expect_str_eq(fmt("footprint_peak_bytes", 135200), "132 KiB");
	cr_expect_str_eq(fmt("live_peak_bytes", 812), "812 B");
	cr_expect_str_eq(fmt("live_peak_bytes", 3.0 * 1073741824), "3.00 GiB");
	cr_expect_str_eq(fmt("alloc_p99_ns", 812), "812 ns");
	cr_expect_str_eq(fmt("alloc_p99_ns", 1250), "1.25 us");
	cr_expect_str_eq(fmt("alloc_p99_ns", 3.1e6), "3.10 ms");
	cr_expect_str_eq(fmt("alloc_p99_ns", 2e9), "2.00 s");
	cr_expect_str_eq(fmt("overhead_ratio", 2.15), "2.15");
	cr_expect_str_eq(fmt("overhead_ratio", 6816), "6816");
	cr_expect_str_eq(fmt("minflt", 13500), "13.5 k");
	cr_expect_str_eq(fmt("minflt", 1350000), "1.35 M");
	cr_expect_str_eq(fmt("internal_frag", 0.123), "0.12");
	cr_expect_str_eq(fmt("ops_per_sec", NAN), "-", "not measured is not 0");
	cr_expect(!strchr(fmt("ops_per_sec", 1.995e7), 'e'), "exponent form: %s",
		  fmt("ops_per_sec", 1.995e7));
}

Test(units, changes_in_percent_and_as_factors)
{
	cr_expect_str_eq(pct(3.1), "+3.10%");
	cr_expect_str_eq(pct(-20), "-20.0%");
	cr_expect_str_eq(pct(212.4), "+212%");
	cr_expect_str_eq(pct(0), "+0.00%");
	cr_expect_str_eq(pct(1130), "x12.3");
	cr_expect_str_eq(pct(32767900), "x328k");
	cr_expect_str_eq(pct(NAN), "n/a");
	cr_expect_str_eq(pct(INFINITY), "+inf%");
}

Test(units, text_table_aligns_columns)
{
	static const char *const h[] = { "allocator", "workload", "ops" };
	static const char *const r1[] = { "glibc", "churn", "19.9 M ops/s" };
	static const char *const r2[] = { "jemalloc-malloc", "sizes:min=16", "217 ops/s" };
	struct mmb_tt t;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	mmb_tt_init(&t, 3);
	t.left[1] = 1;
	mmb_tt_row(&t, h);
	mmb_tt_row(&t, r1);
	mmb_tt_row(&t, r2);
	mmb_tt_print(&t, f, 0);
	fclose(f);
	cr_expect_str_eq(out, "allocator        workload               ops\n"
			      "glibc            churn         19.9 M ops/s\n"
			      "jemalloc-malloc  sizes:min=16     217 ops/s\n");
	free(out);
}

struct flat {
	char text[2048];
};

static void flat_add(void *arg, const char *path, const char *text)
{
	struct flat *fl = arg;

	snprintf(fl->text + strlen(fl->text), sizeof(fl->text) - strlen(fl->text), "%s=%s;", path,
		 text);
}

Test(units, json_flattened_to_rows)
{
	struct flat fl = { "" };

	mmb_jsonflat("{\"a\": 1, \"b\": {\"c\": \"x \\\"y\\\"\", \"d\": null}, \"e\": [1, 2], "
		     "\"g\": [{\"h\": true}, {\"h\": false}], \"i\": []}", "clock", flat_add, &fl);
	cr_expect_str_eq(fl.text, "clock.a=1;clock.b.c=x \"y\";clock.b.d=null;clock.e=1, 2;"
				  "clock.g[0].h=true;clock.g[1].h=false;clock.i=;");
	/* not JSON: what was read, then the rest as one row; never a crash */
	fl.text[0] = 0;
	mmb_jsonflat("{\"a\": 1, \"b\" 2}", "k", flat_add, &fl);
	cr_expect(!strncmp(fl.text, "k.a=1;k=", 8), "%s", fl.text);
	fl.text[0] = 0;
	{
		char deep[200];

		memset(deep, '[', sizeof(deep) - 1);
		deep[sizeof(deep) - 1] = 0;
		mmb_jsonflat(deep, "d", flat_add, &fl);	/* depth-limited */
	}
	cr_expect(strlen(fl.text) > 0);
}

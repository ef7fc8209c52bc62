/*
 * test_timeline.c — timeline.csv: exact columns, timestamps increasing per
 * cell, sampling by interval and by calls, the fault-count hook, and the
 * record line -> CSV row conversion.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "../../harness/timeline.h"
#include "../testutil.h"

/* Read dir/timeline.csv; check the header; return rows per cell in n[]. */
static void check_timeline(const char *dir, unsigned ncells, unsigned *n)
{
	char path[300], *line = NULL;
	size_t cap = 0;
	uint64_t last[16] = { 0 };
	FILE *f;

	snprintf(path, sizeof(path), "%s/timeline.csv", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_gt(getline(&line, &cap, f), 0);
	cr_expect_str_eq(line, MMB_TL_HEADER "\n");
	cr_expect_str_eq(line, "cell,t_ns,live_bytes,footprint_bytes,faults,unusable_o0,unusable_o1,"
			       "unusable_o2,unusable_o3,unusable_o4,unusable_o5,unusable_o6,"
			       "unusable_o7,unusable_o8,unusable_o9,unusable_o10,footprint_own_bytes,"
			       "internal_frag\n");
	memset(n, 0, ncells * sizeof(*n));
	while (getline(&line, &cap, f) > 0) {
		unsigned cell;
		unsigned long long t;
		int commas = 0;

		cr_assert_eq(sscanf(line, "%u,%llu,", &cell, &t), 2, "%s", line);
		cr_assert(cell >= 1 && cell <= ncells, "%s", line);
		for (char *p = line; *p; p++)
			commas += *p == ',';
		cr_expect_eq(commas, 17, "%s", line);
		cr_expect_gt(t, last[cell - 1], "cell %u: t_ns %llu after %llu", cell, t,
			     (unsigned long long)last[cell - 1]);
		last[cell - 1] = t;
		n[cell - 1]++;
	}
	free(line);
	fclose(f);
}

Test(timeline, timestamps_increase_per_cell)
{
	char dir[256];
	unsigned n[2];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "tl");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "-t", "1,2",
		    "--duration", "0.2", "--sample-interval", "10", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	check_timeline(dir, 2, n);
	for (int i = 0; i < 2; i++)
		cr_expect(n[i] >= 8 && n[i] <= 22, "cell %d: %u samples in 0.2 s at 10 ms", i + 1, n[i]);
	mmb_rm_rf(dir);

	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "--duration", "0.2",
		    "--sample-interval", "200000ops", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	check_timeline(dir, 1, n);
	cr_expect_geq(n[0], 3u, "%u samples (every 200000 calls, 0.2 s)", n[0]);
	mmb_rm_rf(dir);

	mmb_run_cmd(&c, "run", "-o", dir, "--sample-interval", "0", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "--sample-interval 0: expected"), "%s", c.err);
}

static int64_t fake_faults(void *ctx)
{
	return *(int64_t *)ctx;
}

Test(timeline, fault_hook)
{
	int64_t faults = 42;

	cr_expect(isnan(mmb_timeline_faults()), "no hook: not measured");
	mmb_timeline_set_faults(fake_faults, &faults);
	cr_expect_eq(mmb_timeline_faults(), 42.0);
	faults = -1;
	cr_expect(isnan(mmb_timeline_faults()), "-1: not counted");
	mmb_timeline_set_faults(NULL, NULL);
}

Test(timeline, record_lines_to_rows)
{
	struct mmb_timeline tl = { 0 };
	struct mmb_tl_sample s = { .t_ns = 5, .live_bytes = -64, .footprint_bytes = NAN,
				   .faults = 3, .footprint_own_bytes = NAN, .internal_frag = 0.125 };
	char *buf = NULL, row[512];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	FILE *out = fmemopen(row, sizeof(row), "w");

	for (int o = 0; o < MMB_NR_ORDERS; o++)
		s.unusable[o] = o == 3 ? 0.25 : NAN;
	cr_assert_eq(mmb_timeline_add(&tl, &s), 0);
	mmb_timeline_emit(f, &tl);
	fclose(f);
	cr_expect_str_eq(buf, "t 5 -64 na 3 na na na 0.25 na na na na na na na na 0.125\n");
	buf[strlen(buf) - 1] = 0;
	cr_assert_eq(mmb_timeline_csv_row(buf + 2, 7, out), 0);
	fclose(out);
	cr_expect_str_eq(row, "7,5,-64,,3,,,,0.25,,,,,,,,,0.125\n");
	out = fmemopen(row, sizeof(row), "w");
	cr_expect_eq(mmb_timeline_csv_row("5 1 2", 7, out), -EINVAL);
	cr_expect_eq(mmb_timeline_csv_row("5 1 2 3 na na na x na na na na na na na", 7, out), -EINVAL);
	fclose(out);
	free(buf);
	mmb_timeline_free(&tl);
}

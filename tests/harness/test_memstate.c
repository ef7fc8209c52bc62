/*
 * test_memstate.c — frag_orders.csv and size_classes.csv (memstate.h):
 * record lines become rows (malformed ones are dropped, "na" is empty),
 * and a run with --size-classes writes classes at the live peak and at the
 * end, utilization = live / capacity; without it, only the header.
 */
#include <criterion/criterion.h>

#include "../../harness/memstate.h"
#include "../testutil.h"

Test(memstate, record_lines_to_rows)
{
	struct mmb_memstate_rows r;
	char want_o[] = "7,zone_peak,9,1,0.5\n7,live_peak,3,,-1\n";
	char want_z[] = "7,end,slab,64,3,4,1,0.750000\n7,end,slab,96,0,0,0,\n";

	cr_assert_eq(mmb_memstate_open(&r), 0);
	cr_expect_eq(mmb_memstate_line(&r, "o zone_peak 9 1 0.5", 7), 1);
	cr_expect_eq(mmb_memstate_line(&r, "o live_peak 3 na -1", 7), 1);
	cr_expect_eq(mmb_memstate_line(&r, "o bad,point 3 1 1", 7), 1, "consumed, dropped");
	cr_expect_eq(mmb_memstate_line(&r, "o zone_peak 11 1 1", 7), 1, "order 11: dropped");
	cr_expect_eq(mmb_memstate_line(&r, "o zone_peak 1 x 1", 7), 1, "not a number: dropped");
	cr_expect_eq(mmb_memstate_line(&r, "z end slab 64 3 4 1", 7), 1);
	cr_expect_eq(mmb_memstate_line(&r, "z end slab 96 0 0 0", 7), 1);
	cr_expect_eq(mmb_memstate_line(&r, "z end slab 96 0", 7), 1, "short: dropped");
	cr_expect_eq(mmb_memstate_line(&r, "m ops 5", 7), 0, "not ours");
	fflush(r.orders);
	fflush(r.classes);
	cr_expect_str_eq(r.orders_buf, want_o);
	cr_expect_str_eq(r.classes_buf, want_z);
	cr_expect_eq(mmb_memstate_close(&r, NULL, 0), 0);
}

Test(memstate, size_classes_csv, .timeout = 60)
{
	char dir[256], dir2[256], buf[1 << 16];
	struct mmb_cmd c;
	int peak = 0, end = 0;

	mmb_tmpname(dir, sizeof(dir), "sizeclasses");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "--size-classes", "-t", "1", "--ops", "50000", "-a",
		    "slab", "-w", "sizes:dist=kmalloc,live=5000", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	mmb_slurp_in(dir, "size_classes.csv", buf, sizeof(buf));
	cr_assert(!strncmp(buf, MMB_SIZE_CLASSES_HEADER "\n", strlen(MMB_SIZE_CLASSES_HEADER) + 1),
		  "%s", buf);
	for (char *l = strchr(buf, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
		unsigned cell;
		char point[32], alloc[32];
		unsigned long long cb, live, cap, pages;
		double u = -1;
		int n = sscanf(l, "%u,%31[^,],%31[^,],%llu,%llu,%llu,%llu,%lf", &cell, point, alloc, &cb,
			       &live, &cap, &pages, &u);

		cr_assert_geq(n, 7, "%.80s", l);
		cr_expect_str_eq(alloc, "slab");
		cr_expect_leq(live, cap);
		if (cap)
			cr_expect_float_eq(u, (double)live / (double)cap, 1e-6, "%.80s", l);
		peak += !strcmp(point, "live_peak");
		end += !strcmp(point, "end") && live == 0;
	}
	cr_expect_gt(peak, 5, "kmalloc caches at the live peak");
	cr_expect_eq(end, peak, "the same caches at the end, nothing live");

	mmb_tmpname(dir2, sizeof(dir2), "nosizeclasses");
	mmb_run_cmd(&c, "run", "-q", "-o", dir2, "-t", "1", "--ops", "1000", "-a", "slab", "-w",
		    "churn", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	mmb_slurp_in(dir2, "size_classes.csv", buf, sizeof(buf));
	cr_expect_str_eq(buf, MMB_SIZE_CLASSES_HEADER "\n", "not asked for: header only");
	mmb_rm_rf(dir);
	mmb_rm_rf(dir2);
}

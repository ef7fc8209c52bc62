/*
 * test_results.c — the results folder: meta.json and cells.csv as described,
 * and the CSV writer/reader round trip.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "../../harness/results.h"
#include "../testutil.h"

static const char *const required[] = {
	"cell", "allocator", "config", "workload", "params", "threads", "rep", "seed", "status",
	"ops", "wall_ns", "ops_per_sec",
};

Test(results, folder_layout)
{
	char dir[256], path[300], err[256], buf[65536];
	struct mmb_result *r;
	struct mmb_cmd c;
	int n;

	mmb_tmpname(dir, sizeof(dir), "res");
	mmb_run_cmd(&c, "run", "-o", dir, "-a", "glibc,glibc:tcache_count=0", "-w", "churn:size=32",
		    "-t", "1,2", "-r", "2", "--ops", "20000", "--seed", "7", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, dir), "summary does not name the folder: %s", c.out);
	cr_expect(strstr(c.out, "glibc:tcache_count=0"), "summary: %s", c.out);

	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	mmb_slurp(path, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		cr_expect(strstr(buf, required[i]), "column %s missing", required[i]);
	n = mmb_csv_read(path, &r, err, sizeof(err));
	cr_assert_eq(n, 8, "%s", err);
	for (int i = 0; i < n; i++) {
		cr_expect_eq(r[i].cell, (unsigned)i + 1);
		cr_expect_str_eq(r[i].status, "ok", "cell %d: %s", i + 1, r[i].detail);
		cr_expect_str_eq(r[i].workload, "churn");
		cr_expect_str_eq(r[i].params, "size=32,batch=1");
		/* --ops is a per-thread budget; a thread ends its current step
		 * and frees its live block, a couple of calls past it. */
		cr_expect_geq(r[i].m[MMB_M_ops], 20000.0 * r[i].threads);
		cr_expect_leq(r[i].m[MMB_M_ops], 20002.0 * r[i].threads, "ops %.0f",
			      r[i].m[MMB_M_ops]);
		cr_expect_gt(r[i].m[MMB_M_ops_per_sec], 0);
		cr_expect_gt(r[i].m[MMB_M_wall_ns], 0);
		cr_expect_gt(r[i].m[MMB_M_rss_peak_bytes], 0);
	}
	/* Allocators vary fastest; the seed depends on the repetition only. */
	cr_expect_str_eq(r[0].config, "");
	cr_expect_str_eq(r[1].config, "tcache_count=0");
	cr_expect_eq(r[0].seed, r[3].seed);
	cr_expect_neq(r[0].seed, r[4].seed);
	/* Same seed, same op count: the same operation sequence. */
	cr_expect_eq(r[0].m[MMB_M_op_checksum], r[4].m[MMB_M_op_checksum]);
	free(r);

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "\"schema_version\": 3"), "%s", buf);
	cr_expect(strstr(buf, "\"command_line\": [\"mmbench\", \"run\""), "%s", buf);
	{	/* the commit this binary was built from, as git names it */
		char rev[128] = "", want[160];
		FILE *g = popen("git -C '" MMB_SRCDIR "' describe --always 2>/dev/null", "r");

		if (g && fgets(rev, sizeof(rev), g))
			rev[strcspn(rev, "\n")] = 0;
		if (g)
			pclose(g);
		cr_assert(rev[0], "git describe failed in %s", MMB_SRCDIR);
		snprintf(want, sizeof(want), "\"git_revision\": \"%s", rev);
		cr_expect(strstr(buf, want), "want %s in %s", want, buf);
	}
	cr_expect(strstr(buf, "\"compiler\": \"gcc"));
	cr_expect(strstr(buf, "\"kernel\": \"Linux"));
	cr_expect(strstr(buf, "\"cpu_model\""));
	cr_expect(strstr(buf, "\"start_time\": \"20"));
	cr_expect(strstr(buf, "\"end_time\": \"20"));
	cr_expect(strstr(buf, "\"state\": \"complete\""));
	cr_expect(strstr(buf, "\"seed\": 7"));
	cr_expect(strstr(buf, "\"cells_done\": 8"));
	mmb_rm_rf(dir);
}

Test(results, csv_round_trip_with_quoting)
{
	char path[] = "/tmp/mmbtest-csv-XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct mmb_result in, *out;

	mmb_result_init(&in);
	in.cell = 3;
	snprintf(in.allocator, sizeof(in.allocator), "glibc");
	snprintf(in.config, sizeof(in.config), "a=1,b=\"x\"");
	snprintf(in.workload, sizeof(in.workload), "churn");
	snprintf(in.params, sizeof(in.params), "size=64,batch=1");
	in.threads = 2;
	in.rep = 1;
	in.seed = 18446744073709551615ULL;
	snprintf(in.status, sizeof(in.status), "crashed");
	snprintf(in.detail, sizeof(in.detail), "killed by signal 11 (SIGSEGV)");
	snprintf(in.malloc_provider, sizeof(in.malloc_provider), "/usr/lib/x86_64-linux-gnu/libc.so.6");
	in.m[MMB_M_ops] = 123456789;
	in.m[MMB_M_ops_per_sec] = 1.5e8;
	mmb_csv_write_header(f, NULL);
	mmb_csv_write_row(f, &in, NULL);
	fclose(f);
	cr_assert_eq(mmb_csv_read(path, &out, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(out->config, in.config);
	cr_expect_str_eq(out->params, in.params);
	cr_expect_str_eq(out->detail, in.detail);
	cr_expect_str_eq(out->malloc_provider, in.malloc_provider);
	cr_expect_eq(out->seed, in.seed);
	cr_expect_eq(out->m[MMB_M_ops], 123456789.0);
	cr_expect_float_eq(out->m[MMB_M_ops_per_sec], 1.5e8, 1e-3);
	cr_expect(isnan(out->m[MMB_M_wall_ns]), "empty field must read as not measured");
	free(out);
	unlink(path);
}

Test(results, not_a_cells_csv)
{
	char path[] = "/tmp/mmbtest-csv-XXXXXX", err[256];
	int fd = mkstemp(path);
	struct mmb_result *out;

	cr_assert(write(fd, "a,b,c\n1,2,3\n", 12) == 12);
	close(fd);
	cr_expect_lt(mmb_csv_read(path, &out, err, sizeof(err)), 0);
	cr_expect(strstr(err, "not a cells.csv"), "%s", err);
	unlink(path);
}

/*
 * test_programs.c — real programs as cells (harness/programs/): program
 * lines parse as documented; build/tests/prog-work runs under every
 * allocator that can run a program with its output checked; a failing
 * (exit 1), a crashing and a wrong-output program are recorded as such;
 * the RSS series has >= 100 samples per second of run; a static binary,
 * which LD_PRELOAD cannot reach, fails rather than measuring its own malloc;
 * a program's leftover children are killed with it; a program that is
 * not installed is skipped (suite) or refused with exit 2 (command line);
 * bad input (missing stdin or expected-output file, not executable, an
 * allocator that cannot run programs) exits 2 before any cell and writes
 * nothing. The only network use is redis on 127.0.0.1 (skipped when
 * redis-server is not installed).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <sys/stat.h>

#include "../../allocators/preload.h"
#include "../../harness/programs/program.h"
#include "../../harness/results.h"
#include "../testutil.h"

/* printf into one of 8 rotating static buffers (test arguments). */
static const char *pg_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *pg_fmt(const char *fmt, ...)
{
	static char buf[8][2048];
	static unsigned k;
	char *b = buf[k++ & 7];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(buf[0]), fmt, ap);
	va_end(ap);
	return b;
}

/* build/tests/NAME beside the mmbench under test (build/ or build/san-*). */
static const char *pg_bin(const char *name)
{
	char bin[512];

	snprintf(bin, sizeof(bin), "%s", MMB_BIN);
	return pg_fmt("%s/tests/%s", dirname(bin), name);
}

#define WORK pg_bin("prog-work")

static void pg_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* Read DIR/cells.csv; returns the rows (free them) and their count in *n. */
static struct mmb_result *pg_cells(const char *dir, int *n)
{
	char path[512], err[512];
	struct mmb_result *rows = NULL;

	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	*n = mmb_csv_read(path, &rows, err, sizeof(err));
	cr_assert_geq(*n, 0, "%s", err);
	return rows;
}

static int pg_parse(struct mmb_prog *p, const char *line, char *err, size_t errlen)
{
	char buf[2048], *tok[80], *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	return mmb_prog_parse(p, n, tok, "/tmp", err, errlen);
}

Test(programs, line_syntax)
{
	struct mmb_prog p;
	char err[512], out[256];

	cr_assert_eq(pg_parse(&p, pg_fmt("srv threads=2 expect=none exit=3 info=redis -- %s exit "
					 "{threads} --driver %s cat {port}", WORK, WORK), err,
			      sizeof(err)), 0,
		     "%s", err);
	cr_expect_str_eq(p.name, "srv");
	cr_expect_str_eq(p.wl.name, "srv");
	cr_expect_eq(p.threads, 2);
	cr_expect_eq(p.expect, MMB_EXPECT_NONE);
	cr_expect_eq(p.exit_status, 3);
	cr_expect_eq(p.info, MMB_INFO_REDIS);
	cr_expect_str_eq(p.path, WORK);
	cr_expect_str_eq(p.argv[1], "exit");
	cr_expect_str_eq(p.argv[2], "{threads}");
	cr_expect_null(p.argv[3]);
	cr_expect_str_eq(p.driver[1], "cat");
	cr_expect_null(p.driver[3]);
	cr_expect_eq(mmb_prog_subst(&p, "-T{threads}:{port}:{here}", 6379, "", out, sizeof(out)), 0);
	cr_expect_str_eq(out, "-T2:6379:/tmp");
	mmb_prog_free(&p);

	cr_assert_eq(pg_parse(&p, "s stdin=gen:lines:2K -- sort", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.gen_lines, 2000);
	cr_expect_eq(p.expect, MMB_EXPECT_FIRST);
	cr_expect_eq(p.threads, 1);
	mmb_prog_free(&p);

	/* errors: -ENOENT only for a program that is not installed */
	cr_expect_eq(pg_parse(&p, "x -- mmb-no-such-command", err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "mmb-no-such-command: command not found"), "%s", err);
	cr_expect_eq(pg_parse(&p, "x bogus=1 -- true", err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "unknown key 'bogus'"), "%s", err);
	cr_expect_eq(pg_parse(&p, "x stdin=/nonexistent/in -- true", err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "stdin file /nonexistent/in"), "%s", err);
	cr_expect_eq(pg_parse(&p, "x expect=/nonexistent/out -- true", err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "expected-output file"), "%s", err);
	cr_expect_eq(pg_parse(&p, "x threads=2", err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "no command"), "%s", err);
	cr_expect_eq(pg_parse(&p, "churn -- true", err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "the name of a workload"), "%s", err);
	cr_expect_eq(pg_parse(&p, "x info=redis -- true", err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "--driver"), "%s", err);
	cr_expect_eq(pg_parse(&p, "x -- /etc/passwd", err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "not executable"), "%s", err);
}

/* A suite with program lines: groups, names, params, threads; a program that
 * is not installed is skipped with a note and the others run. */
Test(programs, suite_lines)
{
	char suite[256], dir[256];
	struct mmb_cmd c;
	struct mmb_result *rows;
	int n, two = 0, one = 0;

	mmb_tmpname(suite, sizeof(suite), "suite");
	strcat(suite, ".suite");
	mmb_tmpname(dir, sizeof(dir), "suite-out");
	pg_write(suite, pg_fmt("# programs test suite\n"
			       "-a glibc,?jemalloc,?slab\n"
			       "-r 2\n"
			       "prog one -- %s exit 0\n"
			       "prog two threads=2 -- %s alloc 2000 {threads}\n"
			       "prog gone -- mmb-no-such-command --flag\n", WORK, WORK));
	mmb_run_cmd(&c, "run", "--suite", suite, "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.err, "skipping program gone: mmb-no-such-command: command not found"),
		  "%s", c.err);
	cr_expect(strstr(c.err, "skipping optional allocator 'jemalloc': it cannot run a program"),
		  "%s", c.err);
	rows = pg_cells(dir, &n);
	cr_expect_eq(n, 8, "2 programs x 2 allocators x 2 reps: %d", n);
	for (int i = 0; i < n; i++) {
		cr_expect_str_eq(rows[i].status, "ok", "cell %d: %s", i + 1, rows[i].detail);
		if (!strcmp(rows[i].workload, "two")) {
			two++;
			cr_expect_eq(rows[i].threads, 2);
			cr_expect_str_eq(rows[i].params,
					 pg_fmt("threads=2 -- %s alloc 2000 {threads}", WORK));
		} else {
			one++;
			cr_expect_str_eq(rows[i].workload, "one");
			cr_expect_eq(rows[i].m[MMB_M_exit_status], 0);
		}
	}
	cr_expect_eq(one, 4);
	cr_expect_eq(two, 4);
	/* interleaved: the allocators alternate within a repetition */
	cr_expect_str_eq(rows[0].allocator, "glibc");
	cr_expect_str_eq(rows[1].allocator, "slab");
	cr_expect_eq(rows[0].rep, 1);
	cr_expect_eq(rows[n - 1].rep, 2);
	free(rows);
	mmb_rm_rf(dir);
	unlink(suite);
}

/* The small C program under every allocator that can run one, with its
 * output checked against a file; the shim leaves its figures. */
Test(programs, every_allocator)
{
	char progs[256], expect[256], dir[256], line[1024], alist[1024], path[512];
	struct mmb_cmd c;
	struct mmb_result *rows;
	int n;

	mmb_tmpname(progs, sizeof(progs), "progs");
	mmb_tmpname(expect, sizeof(expect), "expect");
	mmb_tmpname(dir, sizeof(dir), "every");
	snprintf(line, sizeof(line), "'%s' alloc 20000 5 > '%s'", WORK, expect);
	cr_assert_eq(system(line), 0);
	snprintf(line, sizeof(line), "work expect=%s -- %s alloc 20000 5\n", expect, WORK);
	pg_write(progs, line);
	/* Under AddressSanitizer mmbench refuses jemalloc-malloc, tcmalloc and
	 * preload (its own process cannot have them), programs or not. */
	snprintf(alist, sizeof(alist), "glibc,mimalloc,slab,buddy,vmalloc,slab:kmalloc_max=1K%s",
		 MMB_ASAN_OWNS_MALLOC ? "" : ",jemalloc-malloc,tcmalloc,"
		 "preload:/usr/lib/x86_64-linux-gnu/libjemalloc.so.2");
	mmb_run_cmd(&c, "run", "-a", alist, "--programs-from", progs, "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "allocator") && strstr(c.out, "program"), "%s", c.out);
	rows = pg_cells(dir, &n);
	cr_assert_eq(n, MMB_ASAN_OWNS_MALLOC ? 6 : 9, "%d", n);
	for (int i = 0; i < n; i++) {
		const struct mmb_result *r = &rows[i];

		cr_expect_str_eq(r->status, "ok", "%s: %s", r->allocator, r->detail);
		cr_expect_str_eq(r->workload, "work");
		cr_expect_eq(r->m[MMB_M_exit_status], 0);
		cr_expect_eq(r->m[MMB_M_output_checksum], rows[0].m[MMB_M_output_checksum]);
		cr_expect_gt(r->m[MMB_M_wall_ns], 0);
		cr_expect_gt(r->m[MMB_M_rss_peak_bytes], 0);
		cr_expect_gt(r->m[MMB_M_minflt], 0);
		cr_expect(!isnan(r->m[MMB_M_cpu_user_ns]) && !isnan(r->m[MMB_M_cpu_sys_ns]));
		/* software counters open on any Linux; hardware ones read n/a here or a count */
		cr_expect_gt(r->m[MMB_M_sw_page_faults], 0, "%s", r->allocator);
		cr_expect(mmb_result_get_x(r, "hw_cycles"), "%s", r->allocator);
		if (!strcmp(r->allocator, "slab") || !strcmp(r->allocator, "buddy") ||
		    !strcmp(r->allocator, "vmalloc")) {
			cr_expect(strstr(r->malloc_provider, "libmmb-malloc.so"), "%s", r->malloc_provider);
			snprintf(path, sizeof(path), "%s/state/%u/malloc.json", dir, r->cell);
			cr_expect(mmb_exists(path), "%s", path);
			/* each allocator's own state: slab's caches, buddy's free areas,
			 * vmalloc's areas */
			snprintf(path, sizeof(path), "%s/state/%u/%s", dir, r->cell,
				 !strcmp(r->allocator, "slab") ? "slabinfo" :
				 !strcmp(r->allocator, "buddy") ? "buddyinfo" : "vmallocinfo");
			cr_expect(mmb_exists(path), "%s", path);
			cr_expect_eq(r->m[MMB_M_failed_allocs], 0);
		}
	}
	free(rows);
	/* the same folder through compare and export */
	mmb_run_cmd(&c, "compare", dir, "--baseline", "mimalloc", NULL);
	cr_expect_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "wall_ns (lower is better), against mimalloc"), "%s", c.out);
	mmb_run_cmd(&c, "export", "--format", "mimalloc-bench", dir, NULL);
	cr_expect_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "\nwork glibc "), "%s", c.out);
	mmb_rm_rf(dir);
	unlink(progs);
	unlink(expect);
}

/* exit 1 is failed, a signal is crashed, a wrong output is failed, and an
 * expected non-zero status (exit=) is ok. */
Test(programs, failures_recorded)
{
	char progs[256], expect[256], dir[256];
	struct mmb_cmd c;
	struct mmb_result *rows;
	int n;

	mmb_tmpname(progs, sizeof(progs), "progs");
	mmb_tmpname(expect, sizeof(expect), "expect");
	mmb_tmpname(dir, sizeof(dir), "fail");
	pg_write(expect, "not what it prints\n");
	{
		char text[2048];

		snprintf(text, sizeof(text),
			 "fails -- %s exit 1\n"
			 "crashes -- %s crash\n"
			 "wrong expect=%s -- %s exit 0\n"
			 "exits2 exit=2 -- %s exit 2\n", WORK, WORK, expect, WORK, WORK);
		pg_write(progs, text);
	}
	mmb_run_cmd(&c, "run", "-a", "glibc,slab", "--programs-from", progs, "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	/* the summary shows them only as 0/2: one line counts them */
	cr_expect(strstr(c.err, "mmbench: 6 of 8 cells did not finish: 0 timed out, 2 crashed, "
				"4 failed (why: the detail column of "), "%s", c.err);
	rows = pg_cells(dir, &n);
	cr_assert_eq(n, 8);
	for (int i = 0; i < n; i++) {
		const struct mmb_result *r = &rows[i];

		if (!strcmp(r->workload, "fails")) {
			cr_expect_str_eq(r->status, "failed");
			cr_expect_str_eq(r->detail, "exited with status 1 (expected 0)");
			cr_expect_eq(r->m[MMB_M_exit_status], 1);
		} else if (!strcmp(r->workload, "crashes")) {
			cr_expect_str_eq(r->status, "crashed");
			cr_expect(strstr(r->detail, "SIGSEGV"), "%s", r->detail);
			cr_expect(isnan(r->m[MMB_M_exit_status]));
		} else if (!strcmp(r->workload, "wrong")) {
			cr_expect_str_eq(r->status, "failed");
			cr_expect(strstr(r->detail, "wrong output: 7 bytes"), "%s", r->detail);
		} else {
			cr_expect_str_eq(r->status, "ok", "%s", r->detail);
			cr_expect_eq(r->m[MMB_M_exit_status], 2);
		}
	}
	free(rows);
	mmb_rm_rf(dir);
	unlink(progs);
	unlink(expect);
}

/* A program runs to its end: meta.json of a run of programs only says it
 * had no operation count and no duration, instead of the defaults that a
 * synthetic workload would have run with. */
Test(programs, meta_has_no_ops_or_duration)
{
	char progs[256], dir[256], meta[8192];
	struct mmb_cmd c;

	mmb_tmpname(progs, sizeof(progs), "progs");
	mmb_tmpname(dir, sizeof(dir), "meta");
	pg_write(progs, pg_fmt("ok -- %s exit 0\n", WORK));
	mmb_run_cmd(&c, "run", "-a", "glibc", "--programs-from", progs, "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	mmb_slurp_in(dir, "meta.json", meta, sizeof(meta));
	cr_expect(strstr(meta, "\"ops_per_thread\": null,"), "%s", meta);
	cr_expect(strstr(meta, "\"duration_s\": null,"), "%s", meta);
	mmb_rm_rf(dir);
	/* beside a synthetic workload they are that workload's */
	mmb_run_cmd(&c, "run", "-a", "glibc", "-w", "sizes", "--duration", "0.05", "--programs-from",
		    progs, "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	mmb_slurp_in(dir, "meta.json", meta, sizeof(meta));
	cr_expect(strstr(meta, "\"ops_per_thread\": 0,"), "%s", meta);
	cr_expect(strstr(meta, "\"duration_s\": 0.05,"), "%s", meta);
	mmb_rm_rf(dir);
	unlink(progs);
}

/* A statically linked program ignores LD_PRELOAD: its cell fails rather
 * than passing off the program's own malloc as the allocator's. */
Test(programs, static_binary_refused)
{
	char dir[256];
	struct mmb_cmd c;
	struct mmb_result *rows;
	int n;

	mmb_tmpname(dir, sizeof(dir), "static");
	mmb_run_cmd(&c, "run", "-a", "glibc,mimalloc,slab", "-w",
		    pg_fmt("prog:%s hold 300 4", pg_bin("prog-work-static")), "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	rows = pg_cells(dir, &n);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(rows[0].status, "ok", "%s", rows[0].detail);	/* glibc: nothing preloaded */
	for (int i = 1; i < n; i++) {
		cr_expect_str_eq(rows[i].status, "failed", "%s", rows[i].allocator);
		cr_expect(strstr(rows[i].detail, "was never mapped in the program"), "%s",
			  rows[i].detail);
	}
	free(rows);
	mmb_rm_rf(dir);
}

/* A program that leaves a process running (a daemonized child) leaves
 * nothing behind: its process group is killed when it exits. */
Test(programs, leaves_no_process)
{
	char script[256], progs[256], dir[256];
	struct mmb_cmd c;
	struct mmb_result *rows;
	int n;

	mmb_tmpname(script, sizeof(script), "daemon");
	mmb_tmpname(progs, sizeof(progs), "daemon-progs");
	mmb_tmpname(dir, sizeof(dir), "daemon-out");
	pg_write(script, "#!/bin/sh\nsleep 4321.5 &\necho started\n");
	chmod(script, 0755);
	pg_write(progs, pg_fmt("d -- %s\n", script));
	mmb_run_cmd(&c, "run", "-a", "glibc", "--programs-from", progs, "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	rows = pg_cells(dir, &n);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(rows[0].status, "ok", "%s", rows[0].detail);
	cr_expect_neq(system("pgrep -f 'slee[p] 4321.5' >/dev/null"), 0, "the child is still running");
	if (system("pkill -f 'slee[p] 4321.5'") == 0)
		cr_log_warn("killed the stray child");
	free(rows);
	mmb_rm_rf(dir);
	unlink(progs);
	unlink(script);
}

/* >= 100 RSS samples per second of run, in timeline.csv, and they see the
 * 64 MiB the program holds. */
Test(programs, rss_series_rate)
{
	char dir[256], path[512], line[512];
	struct mmb_cmd c;
	struct mmb_result *rows;
	int n, samples = 0;
	double peak = 0;
	FILE *f;

	mmb_tmpname(dir, sizeof(dir), "rss");
	mmb_run_cmd(&c, "run", "-a", "glibc", "-w", pg_fmt("prog:%s hold 1000 64", WORK), "-o", dir,
		    NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	rows = pg_cells(dir, &n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(rows[0].status, "ok", "%s", rows[0].detail);
	snprintf(path, sizeof(path), "%s/timeline.csv", dir);
	f = fopen(path, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned cell;
		unsigned long long t, rss;

		if (sscanf(line, "%u,%llu,,%llu,", &cell, &t, &rss) == 3 && cell == 1) {
			samples++;
			if (rss > peak)
				peak = (double)rss;
		}
	}
	fclose(f);
	double secs = rows[0].m[MMB_M_wall_ns] / 1e9;

	cr_expect_geq(secs, 1.0);
	cr_expect_geq(samples / secs, 100, "%d samples in %.3f s", samples, secs);
	cr_expect_geq(rows[0].m[MMB_M_rss_samples_per_s], 100);
	cr_expect_geq(peak, 64.0 * 1048576, "peak sampled RSS %.0f", peak);
	cr_expect_geq(rows[0].m[MMB_M_rss_peak_bytes], 64.0 * 1048576);
	free(rows);
	mmb_rm_rf(dir);
}

/* Bad input: one line, exit 2, no folder. */
static void pg_refused(const char *want, const char *a1, const char *a2, const char *a3,
		       const char *a4)
{
	char dir[256];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "bad");
	mmb_run_cmd(&c, "run", a1, a2, a3, a4, "-o", dir, NULL);
	cr_expect_eq(c.status, 2, "%s %s %s: %d %s", a2, a3, a4, c.status, c.err);
	cr_expect(strstr(c.err, want), "want '%s', got: %s", want, c.err);
	cr_expect_eq(strchr(c.err, '\n'), strrchr(c.err, '\n'), "one line: %s", c.err);
	cr_expect_not(mmb_exists(dir), "%s was created", dir);
}

Test(programs, bad_input)
{
	char progs[256];

	pg_refused("mmb-no-such-command: command not found", "-a", "glibc", "-w",
		   "prog:mmb-no-such-command x");
	pg_refused("/etc/passwd: not executable", "-a", "glibc", "-w", "prog:/etc/passwd");
	pg_refused("allocator jemalloc cannot run a program", "-a", "jemalloc", "-w",
		   pg_fmt("prog:%s exit 0", WORK));
	pg_refused("allocator buddy (the malloc shim under a program): unknown option 'kmalloc_max'",
		   "-a", "buddy:kmalloc_max=64",
		   "-w", pg_fmt("prog:%s exit 0", WORK));
	pg_refused("--programs-from /nonexistent/progs", "-a", "glibc", "--programs-from",
		   "/nonexistent/progs");
	mmb_tmpname(progs, sizeof(progs), "badprogs");
	pg_write(progs, pg_fmt("p stdin=/nonexistent/in -- %s cat\n", WORK));
	pg_refused(":1: program p: stdin file /nonexistent/in", "-a", "glibc", "--programs-from",
		   progs);
	pg_write(progs, pg_fmt("p expect=missing.out -- %s cat\n", WORK));
	pg_refused(":1: program p: expected-output file /tmp/missing.out", "-a", "glibc",
		   "--programs-from", progs);
	pg_write(progs, "p -- mmb-no-such-command\n");
	pg_refused(":1: program p: mmb-no-such-command: command not found", "-a", "glibc",
		   "--programs-from", progs);
	unlink(progs);
}

/* A server and its driver on loopback: redis-server under slab, driven by
 * redis-benchmark; INFO memory lands in the redis_* columns. */
Test(programs, redis_driver)
{
	char progs[256], dir[256];
	struct mmb_cmd c;
	struct mmb_result *rows;
	int n;

	if (access("/usr/bin/redis-server", X_OK) || access("/usr/bin/redis-benchmark", X_OK))
		cr_skip_test("redis-server or redis-benchmark not installed");
	mmb_tmpname(progs, sizeof(progs), "redis");
	mmb_tmpname(dir, sizeof(dir), "redis-out");
	pg_write(progs, "redis info=redis expect=none -- redis-server " MMB_SRCDIR
			"/workloads/programs/redis.conf --port {port} --driver redis-benchmark "
			"-h 127.0.0.1 -p {port} -q -n 2000 -c 4 -t set,get\n");
	mmb_run_cmd(&c, "run", "-a", "glibc,slab", "--programs-from", progs, "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	rows = pg_cells(dir, &n);
	cr_assert_eq(n, 2);
	for (int i = 0; i < n; i++) {
		const struct mmb_xval *x = mmb_result_get_x(&rows[i], "redis_mem_fragmentation_ratio");

		cr_expect_str_eq(rows[i].status, "ok", "%s: %s", rows[i].allocator, rows[i].detail);
		cr_expect(x && x->v > 0, "%s", rows[i].allocator);
	}
	free(rows);
	mmb_rm_rf(dir);
	unlink(progs);
}

/* A program that fails because the shim ran out of memory (perl says only
 * "Out of memory!"): the cell's detail says how many allocations failed
 * and why, from malloc.json's first_failure. */
Test(programs, shim_refusal_named)
{
	char dir[256];
	struct mmb_cmd c;
	struct mmb_result *rows;
	int n;

	mmb_tmpname(dir, sizeof(dir), "oom");
	mmb_run_cmd(&c, "run", "-a", "slab:mem=64M", "-w", pg_fmt("prog:%s exhaust 256", WORK), "-o",
		    dir, NULL);
	cr_assert_eq(c.status, 1, "no cell finished: %s", c.err);
	rows = pg_cells(dir, &n);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(rows[0].status, "failed");
	cr_expect(strstr(rows[0].detail, "exited with status 1 (expected 0) after 1 failed "
					  "allocation (malloc.json): 1048576 bytes"), "%s", rows[0].detail);
	cr_expect(strstr(rows[0].detail, "failed to allocate pages"), "%s", rows[0].detail);
	cr_expect_eq(rows[0].m[MMB_M_failed_allocs], 1);
	free(rows);
	mmb_rm_rf(dir);
}

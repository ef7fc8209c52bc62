/*
 * test_cli.c — the command line: help, version, list, and every bad input
 * giving one clear line and exit status 2 with no results folder left.
 */
#include <criterion/criterion.h>
#include <sys/stat.h>

#include "../testutil.h"

Test(cli, version_and_help)
{
	struct mmb_cmd c;

	mmb_run_cmd(&c, "--version", NULL);
	cr_expect_eq(c.status, 0);
	cr_expect(strstr(c.out, "mmbench 0."), "%s", c.out);
	mmb_run_cmd(&c, "--help", NULL);
	cr_expect_eq(c.status, 0);
	cr_expect(strstr(c.out, "run") && strstr(c.out, "list"));
	mmb_run_cmd(&c, "run", "--help", NULL);
	cr_expect_eq(c.status, 0);
	cr_expect(strstr(c.out, "--cell-timeout"), "%s", c.out);
	mmb_run_cmd(&c, "list", "--help", NULL);
	cr_expect_eq(c.status, 0);
	mmb_run_cmd(&c, NULL);
	cr_expect_eq(c.status, 2);
}

/* README.md's options list for run is `mmbench run --help`, to the byte. */
Test(cli, readme_run_options_are_the_help)
{
	static const char begin[] = "<!-- mmbench run --help -->\n```\n";
	static const char end[] = "```\n<!-- end mmbench run --help -->";
	static char readme[65536];
	struct mmb_cmd c;
	char *b, *e;

	mmb_slurp(MMB_SRCDIR "/README.md", readme, sizeof(readme));
	b = strstr(readme, begin);
	cr_assert_not_null(b, "README.md has no '%s' block", begin);
	b += strlen(begin);
	e = strstr(b, end);
	cr_assert_not_null(e, "README.md's run --help block is not closed");
	*e = 0;
	mmb_run_cmd(&c, "run", "--help", NULL);
	cr_assert_eq(c.status, 0);
	cr_expect_str_eq(b, c.out, "README.md's run options differ from `mmbench run --help`");
}

Test(cli, list)
{
	struct mmb_cmd c;

	mmb_run_cmd(&c, "list", "allocators", NULL);
	cr_expect_eq(c.status, 0);
	cr_expect(strstr(c.out, "glibc"), "%s", c.out);
	cr_expect(!strstr(c.out, "crashy"), "hidden allocator listed: %s", c.out);
	mmb_run_cmd(&c, "list", "workloads", "-v", NULL);
	cr_expect_eq(c.status, 0);
	cr_expect(strstr(c.out, "churn") && strstr(c.out, "size"), "%s", c.out);
	cr_expect(!strstr(c.out, "crash "), "hidden workload listed: %s", c.out);
	mmb_run_cmd(&c, "list", "things", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "unknown kind 'things'"), "%s", c.err);
}

/* Run with args, expect exit 2, a message containing want, and no folder. */
static void expect_bad(const char *want, const char *a1, const char *a2, const char *a3,
		       const char *a4)
{
	char dir[256];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "bad");
	mmb_run_cmd(&c, "run", "-o", dir, "--ops", "100", a1, a2, a3, a4, NULL);
	cr_expect_eq(c.status, 2, "%s %s: status %d, stderr: %s", a1, a2 ? a2 : "", c.status, c.err);
	cr_expect(strstr(c.err, want), "wanted '%s' in: %s", want, c.err);
	cr_expect_eq(strchr(c.err, '\n'), strrchr(c.err, '\n'), "more than one line: %s", c.err);
	cr_expect(!mmb_exists(dir), "results folder %s left behind", dir);
	mmb_rm_rf(dir);
}

Test(cli, bad_inputs)
{
	struct mmb_cmd c;

	expect_bad("unknown allocator 'nosuch' (valid: glibc", "-a", "nosuch", NULL, NULL);
	expect_bad("unknown workload 'nosuch'", "-w", "nosuch", NULL, NULL);
	expect_bad("allocator glibc: unknown option 'bogus'", "-a", "glibc:bogus=1", NULL, NULL);
	expect_bad("'arena_max=x' is not a non-negative integer", "-a", "glibc:arena_max=x", NULL, NULL);
	expect_bad("no chosen workload has a parameter 'nope'", "-p", "nope=1", NULL, NULL);
	expect_bad("workload churn: 'size=0' is out of range", "-p", "size=0", NULL, NULL);
	expect_bad("workload churn: 'size=big' is not a size", "-w", "churn:size=big", NULL, NULL);
	expect_bad("-t 0: expected thread counts", "-t", "0", NULL, NULL);
	expect_bad("-r x: expected a repetition count", "-r", "x", NULL, NULL);
	expect_bad("--duration -1", "--duration", "-1", NULL, NULL);
	expect_bad("unknown option '--frobnicate'", "--frobnicate", NULL, NULL, NULL);
	expect_bad("unexpected argument 'extra'", "extra", NULL, NULL, NULL);
	expect_bad("needs a value", "-a", NULL, NULL, NULL);

	mmb_run_cmd(&c, "frobnicate", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "unknown command 'frobnicate' (valid: run list"), "%s", c.err);
	mmb_run_cmd(&c, "run", "--ops", "10", "--duration", "1", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "not both"), "%s", c.err);
}

Test(cli, output_folder_must_be_new_or_empty)
{
	char dir[256], file[300];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "full");
	mkdir(dir, 0755);
	snprintf(file, sizeof(file), "%s/keep.txt", dir);
	FILE *f = fopen(file, "w");

	cr_assert_not_null(f);
	fputs("precious\n", f);
	fclose(f);
	mmb_run_cmd(&c, "run", "-o", dir, "-a", "glibc", "-w", "churn", "--ops", "100", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "is not empty"), "%s", c.err);
	mmb_slurp(file, c.out, sizeof(c.out));
	cr_expect_str_eq(c.out, "precious\n", "existing file was touched");
	snprintf(file, sizeof(file), "%s/meta.json", dir);
	cr_expect(!mmb_exists(file));
	mmb_rm_rf(dir);

	/* An empty folder is accepted. */
	mmb_tmpname(dir, sizeof(dir), "empty");
	mkdir(dir, 0755);
	mmb_run_cmd(&c, "run", "-o", dir, "-a", "glibc", "-w", "churn", "--ops", "100", "-q", NULL);
	cr_expect_eq(c.status, 0, "%s", c.err);
	mmb_rm_rf(dir);
}

Test(cli, unwritable_output_folder)
{
	struct mmb_cmd c;

	/* /proc refuses new folders even to root. */
	mmb_run_cmd(&c, "run", "-o", "/proc/mmbench-results", "-a", "glibc", "-w", "churn", "--ops",
		    "100", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "cannot create results folder /proc/mmbench-results"), "%s", c.err);

	/* A path under a regular file. */
	mmb_run_cmd(&c, "run", "-o", "/etc/hostname/results", "-a", "glibc", "-w", "churn", "--ops",
		    "100", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "cannot create results folder"), "%s", c.err);
}

/*
 * `mmbench bench` skips a case this machine cannot run and goes on with
 * the others, but a bench that measured nothing does not exit 0 (it did
 * when every case was skipped as not supported: `bench production` in a
 * build whose malloc is AddressSanitizer's).
 */
Test(cli, bench_that_measured_nothing_fails)
{
	char dir[256], cmd[1024], err[4096] = "";
	struct mmb_cmd c;
	int st;

	/* a copy of mmbench with none of the files `bench shim` needs beside it */
	mmb_tmpname(dir, sizeof(dir), "benchcopy");
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(cmd, sizeof(cmd), "cp %s %s/mmbench && %s/mmbench bench --reps 1 shim >/dev/null 2>%s/err",
		 MMB_BIN, dir, dir, dir);
	st = system(cmd);
	mmb_slurp_in(dir, "err", err, sizeof(err));
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
	cr_expect(strstr(err, "bench: no case was measured"), "%s", err);
	mmb_rm_rf(dir);

	/* measured here; skipped where malloc is not the libraries' (ASan) */
	mmb_run_cmd(&c, "bench", "--reps", "1", "--iters", "200", "production", NULL);
	if (strstr(c.out, "(target <= 1.15:")) {
		cr_expect_eq(c.status, 0, "%s", c.err);
	} else {
		cr_expect(strstr(c.out, "skipped: "), "%s", c.out);
		cr_expect_eq(c.status, 1, "%s", c.out);
		cr_expect(strstr(c.err, "bench: no case was measured"), "%s", c.err);
	}
}

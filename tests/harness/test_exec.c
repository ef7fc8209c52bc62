/*
 * test_exec.c — `mmbench exec`: real Debian programs (python3, sort) and
 * mmbench itself give the same output on the malloc shim as without it;
 * the results folder holds the allocator's figures; exit statuses pass
 * through (128 + N for a signal; 2 for a missing command); fork and
 * threads inside the program work; bad options exit 2 and create nothing.
 */
#include <criterion/criterion.h>
#include <libgen.h>

#include "../testutil.h"

/* sh -c CMD with stdout into out (a file); returns the exit status. */
static int ex_sh(const char *cmd, const char *out)
{
	char line[16600];
	int st;

	snprintf(line, sizeof(line), "%.8192s > '%.256s'", cmd, out);
	st = system(line);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void ex_same_output(const char *tag, const char *spec, const char *cmd)
{
	char dir[256], a[256], b[256], line[8192], x[1 << 16], y[1 << 16];
	char mf[300], json[8192];

	mmb_tmpname(dir, sizeof(dir), tag);
	mmb_tmpname(a, sizeof(a), "plain");
	mmb_tmpname(b, sizeof(b), "shim");
	cr_assert_eq(ex_sh(cmd, a), 0, "%s failed without the shim", cmd);
	snprintf(line, sizeof(line), "'%s' exec -a %s -o '%s' -- %s 2>/dev/null", MMB_BIN, spec, dir,
		 cmd);
	cr_assert_eq(ex_sh(line, b), 0, "%s failed on the shim", cmd);
	snprintf(line, sizeof(line), "cmp -s '%s' '%s'", a, b);
	mmb_slurp(a, x, sizeof(x));
	mmb_slurp(b, y, sizeof(y));
	cr_expect_eq(system(line), 0, "%s: outputs differ:\n%.300s\n---\n%.300s", cmd, x, y);
	snprintf(mf, sizeof(mf), "%s/exec.json", dir);
	mmb_slurp(mf, json, sizeof(json));
	cr_expect(strstr(json, "\"exit_status\": 0"), "%s", json);
	cr_expect(strstr(json, "\"allocator_stats\": \"malloc.json\""), "%s", json);
	cr_expect(strstr(json, "\"minflt\": "), "%s", json);
	/* software counters open on any Linux; page-faults of a real program > 0 */
	cr_expect(strstr(json, "\"page-faults\": ") && !strstr(json, "\"page-faults\": null") &&
		  !strstr(json, "\"page-faults\": 0,"), "%s", json);
	snprintf(mf, sizeof(mf), "%s/malloc.json", dir);
	mmb_slurp(mf, json, sizeof(json));
	cr_expect(strstr(json, "\"kmalloc\": ") && !strstr(json, "\"kmalloc\": 0,"), "%s", json);
	cr_expect(strstr(json, "\"slab_reports\": 0"), "%s", json);
	snprintf(mf, sizeof(mf), "%s/slabinfo", dir);
	cr_expect(mmb_exists(mf));
	snprintf(mf, sizeof(mf), "%s/buddyinfo", dir);
	cr_expect(mmb_exists(mf));
	mmb_rm_rf(dir);
	unlink(a);
	unlink(b);
}

Test(exec, python3_same_output)
{
	ex_same_output("py", "slab", "python3 -c '"
			     "import json, re, collections\n"
			     "d = {str(i): list(range(i % 97)) for i in range(5000)}\n"
			     "s = json.dumps(d)\n"
			     "c = collections.Counter(re.findall(\"[0-9]+\", s))\n"
			     "print(len(s), c.most_common(3), sum(map(len, json.loads(s).values())))'");
}

/* slub_debug on every cache: a correct program trips no check (realloc
 * must not grow a kmalloc object in place past its red zone). */
Test(exec, python3_under_slab_debug)
{
	ex_same_output("dbg", "slab:debug=FZPU,mem=512M",
		       "python3 -c 'import json\n"
		       "s = json.dumps({str(i): [i] * 5 for i in range(20000)})\n"
		       "print(len(s), len(json.loads(s)))'");
}

Test(exec, sort_same_output)
{
	char in[256], cmd[512];

	mmb_tmpname(in, sizeof(in), "sort-in");
	snprintf(cmd, sizeof(cmd), "seq 1 200000 | awk '{ print ($1 * 7919) %% 100003, $1 }' > '%s'", in);
	cr_assert_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "sort --parallel=2 -S 8M -k1,1n -k2,2 '%s'", in);
	ex_same_output("sort", "slab", cmd);
	unlink(in);
}

Test(exec, mmbench_and_threads_same_output)
{
	char cmd[4200], bin[4096];

#if defined(__SANITIZE_ADDRESS__)
	/* ASan wants its runtime first in the library list, before any
	 * preloaded malloc: a sanitized mmbench cannot run on the shim */
	cr_log_info("sanitized build: mmbench itself not run on the shim (ASan runtime must come first)");
#else
	snprintf(cmd, sizeof(cmd), "'%s' list allocators", MMB_BIN);
	ex_same_output("mmb", "slab", cmd);
#endif
	snprintf(bin, sizeof(bin), "%s", MMB_BIN);
	snprintf(cmd, sizeof(cmd), "'%s/tests/trace-threads'", dirname(bin));
	ex_same_output("tt", "slab", cmd);	/* 4 threads, every malloc-family function */
}

Test(exec, fork_and_threads_in_python)
{
	ex_same_output("fork", "slab", "python3 -c '"
			       "import os, threading\n"
			       "a = [str(i) * 3 for i in range(20000)]\n"
			       "pid = os.fork()\n"
			       "if pid == 0:\n"
			       "    b = [x * 2 for x in a]\n"
			       "    a[:] = b\n"
			       "    os._exit(0 if len(b[-1]) == 30 else 1)\n"
			       "_, st = os.waitpid(pid, 0)\n"
			       "out = []\n"
			       "def work(k):\n"
			       "    out.append(sum(len(str(i) * k) for i in range(20000)))\n"
			       "ts = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]\n"
			       "[t.start() for t in ts]; [t.join() for t in ts]\n"
			       "print(os.WEXITSTATUS(st), a[-1], sorted(out))'");
}

Test(exec, exit_status_passes_through)
{
	char dir[256], f[300], json[4096];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "st");
	mmb_run_cmd(&c, "exec", "-o", dir, "--", "sh", "-c", "exit 7", NULL);
	cr_expect_eq(c.status, 7);
	mmb_rm_rf(dir);
	mmb_run_cmd(&c, "exec", "-o", dir, "--", "sh", "-c", "kill -9 $$", NULL);
	cr_expect_eq(c.status, 128 + 9);
	snprintf(f, sizeof(f), "%s/exec.json", dir);
	mmb_slurp(f, json, sizeof(json));
	cr_expect(strstr(json, "\"signal\": 9"), "%s", json);
	cr_expect(strstr(json, "\"allocator_stats\": null"), "%s", json);
	mmb_rm_rf(dir);
	mmb_run_cmd(&c, "exec", "-o", dir, "--", "no-such-command-mmb", "x", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "no-such-command-mmb: command not found"), "%s", c.err);
	cr_expect(!mmb_exists(dir), "folder made for a missing command");
	mmb_run_cmd(&c, "exec", "-o", dir, "--", "/etc/passwd", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "/etc/passwd: Permission denied"), "%s", c.err);
	cr_expect(!mmb_exists(dir));
}

Test(exec, bad_options)
{
	static const char *const bad[][2] = {
		{ "slab:kmalloc_max=9000", "out of range" },
		{ "slab:nosuch=1", "nosuch" },
		{ "slab:kmalloc_max=4096,vmalloc_min=4096", "must be above kmalloc_max" },
		{ "slab:debug=Q", "debug" },
		{ "glibc", "slab, buddy or vmalloc" },
		{ "slab:sheaf=2000", "sheaf" },
		{ "buddy:kmalloc_max=1K", "kmalloc_max" },
		{ "vmalloc:debug=F", "debug" },
	};
	char dir[256];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "bad");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mmb_run_cmd(&c, "exec", "-a", bad[i][0], "-o", dir, "--", "true", NULL);
		cr_expect_eq(c.status, 2, "%s", bad[i][0]);
		cr_expect(strstr(c.err, bad[i][1]), "%s: %s", bad[i][0], c.err);
		cr_expect_eq(strchr(c.err, '\n'), c.err + strlen(c.err) - 1, "one line: %s", c.err);
		cr_expect(!mmb_exists(dir), "%s: folder created", bad[i][0]);
	}
	mmb_run_cmd(&c, "exec", "--events", "no-such-event", "-o", dir, "--", "true", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "no-such-event"), "%s", c.err);
	cr_expect(!mmb_exists(dir));
	mmb_run_cmd(&c, "exec", NULL);
	cr_expect_eq(c.status, 2);
}

Test(exec, routes_by_threshold)
{
	char dir[256], f[300], json[8192];
	struct mmb_cmd c;

	/* kmalloc up to 256 bytes, buddy below 64K, vmalloc from there */
	mmb_tmpname(dir, sizeof(dir), "route");
	mmb_run_cmd(&c, "exec", "-a", "slab:kmalloc_max=256,vmalloc_min=64K,mem=256M", "-o", dir, "--",
		    "python3", "-c", "b = [bytearray(n) for n in (100, 1000, 10000, 100000, 1000000)]\n"
				     "print(sum(map(len, b)))", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect_eq(strcmp(c.out, "1111100\n"), 0, "%s", c.out);
	snprintf(f, sizeof(f), "%s/malloc.json", dir);
	mmb_slurp(f, json, sizeof(json));
	cr_expect(strstr(json, "kmalloc_max=256"), "%s", json);
	cr_expect(!strstr(json, "\"buddy\": 0,") && !strstr(json, "\"vmalloc\": 0}"), "%s", json);
	mmb_rm_rf(dir);
}

/* -o naming a file (not a folder): refused before the command runs, which
 * used to run and then fail to write exec.json (exit 0). */
Test(exec, output_not_a_folder)
{
	char file[256], mark[256];
	struct mmb_cmd c;
	FILE *f;

	mmb_tmpname(file, sizeof(file), "notdir");
	mmb_tmpname(mark, sizeof(mark), "ran");
	f = fopen(file, "w");

	cr_assert(f, "%s", file);
	fputs("keep\n", f);
	fclose(f);
	mmb_run_cmd(&c, "exec", "-o", file, "--", "touch", mark, NULL);
	cr_expect_eq(c.status, 2, "%s", c.err);
	cr_expect(strstr(c.err, "is not a folder"), "%s", c.err);
	cr_expect_eq(strchr(c.err, '\n'), c.err + strlen(c.err) - 1, "one line: %s", c.err);
	cr_expect(!mmb_exists(mark), "the command ran");
	unlink(file);
	unlink(mark);
}

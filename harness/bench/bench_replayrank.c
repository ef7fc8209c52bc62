/*
 * bench_replayrank.c — does replay rank slab and jemalloc as the program
 * does? build/tests/trace-threads xfree N (4 threads; each round every
 * thread allocates 300 blocks of 20-23 KB and the next thread frees them:
 * half the calls are frees on another thread) is
 *
 *   - run as its own process with jemalloc preloaded (Debian's
 *     libjemalloc.so.2, the one mmbench runs on) and on the malloc shim
 *     (slab, its environment set as `mmbench exec -a slab` sets it);
 *   - recorded once (`mmbench record`), and its trace replayed by `mmbench
 *     run -a jemalloc-malloc,slab -w replay:trace=T,passes=1 -t 5
 *     --oversubscribe --no-latency` (jemalloc-malloc: the process's own
 *     jemalloc malloc, what the preload runs; one worker per recorded
 *     thread, remote frees kept, every call unsized as the program's).
 *
 * The three (program on jemalloc, on the shim, one replay run of both
 * cells) run interleaved, reps times; medians of the programs' wall times
 * (the shim's start, about 15 ms, included: it can only make the shim look
 * slower) and of the cells' wall_ns (one pass of the trace, the replay's
 * setup not in it). The figure is each side's slab / jemalloc time ratio,
 * and the target is the same order: both below 1 or both above.
 *
 * Why xfree and not churn (README, Replaying threads): on trace-threads
 * churn the program is about 2x faster on jemalloc than on the shim, but
 * the registry's slab and jemalloc-malloc cells are within 30% of each
 * other either way round, the difference being the shim's own per-call
 * cost, which no registry cell has; its order there is noise, and a bench
 * target on it would flip from run to run. xfree's allocators differ by
 * more than the harness's cost per call, so its order is a stable check
 * that replay's threads=recorded keeps what the program's remote frees do.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../results.h"
#include "../stats.h"
#include "../util.h"
#include "bench.h"

#define RANK_ROUNDS "40"		/* xfree rounds: 96010 calls */
#define RANK_SAMPLES 64			/* the most reps kept */

struct rank_paths {
	char self[PATH_MAX], prog[PATH_MAX + 32], shim[PATH_MAX + 32], je[PATH_MAX];
	char dir[64], trace[96];
};

/* Run argv (argv[0] a path) with stdout and stderr on /dev/null; lib: its
 * LD_PRELOAD, shim: the shim's environment. Returns its wall ns, or -1 if
 * it did not exit 0. */
static double rank_exec(char *const argv[], const char *lib, int shim)
{
	uint64_t t0 = mmb_now_ns();
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		if (lib)
			setenv("LD_PRELOAD", lib, 1);
		if (shim)
			mmb_bench_shim_env();
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return (double)(mmb_now_ns() - t0);
}

/* Remove the flat folder d (a results folder) and its files. */
static void rank_rmdir(const char *d)
{
	DIR *dir = opendir(d);
	struct dirent *e;
	char path[PATH_MAX];

	while (dir && (e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
			unlink(path);
		}
	if (dir)
		closedir(dir);
	rmdir(d);
}

/* One replay run of both cells; their wall ns into r_ns[0] (jemalloc-malloc)
 * and r_ns[1] (slab). 0, or -EIO (printed). */
static int rank_replay(const struct rank_paths *p, unsigned rep, double r_ns[2])
{
	char w[160], out[96], csv[128], err[256];
	char *argv[] = { (char *)p->self, "run", "-q", "-a", "jemalloc-malloc,slab", "-w", w,
			 "-t", "5", "--oversubscribe", "--no-latency", "--duration", "60",
			 "-o", out, NULL };
	struct mmb_result *rows = NULL;
	int n, found = 0;

	snprintf(w, sizeof(w), "replay:trace=%s,passes=1,threads=recorded", p->trace);
	snprintf(out, sizeof(out), "%s/run%u", p->dir, rep);
	snprintf(csv, sizeof(csv), "%s/cells.csv", out);
	if (rank_exec(argv, NULL, 0) < 0)
		printf("  mmbench run -w %s did not finish\n", w);
	n = mmb_csv_read(csv, &rows, err, sizeof(err));
	for (int i = 0; i < n; i++) {
		int k = !strcmp(rows[i].allocator, "slab");

		if (strcmp(rows[i].status, MMB_ST_OK) || isnan(rows[i].m[MMB_M_wall_ns]))
			continue;
		r_ns[k] = rows[i].m[MMB_M_wall_ns];
		found |= 1 << k;
	}
	free(rows);
	rank_rmdir(out);
	if (found != 3) {
		printf("  replay rep %u: a cell did not finish ok (%s)\n", rep, n < 0 ? err : csv);
		return -EIO;
	}
	return 0;
}

/* Each side's median ratio, and whether their orders agree. */
static void rank_report(const double prog[2][RANK_SAMPLES], const double rep[2][RANK_SAMPLES],
			unsigned reps)
{
	double pj = mmb_median(prog[0], reps), ps = mmb_median(prog[1], reps);
	double rj = mmb_median(rep[0], reps), rs = mmb_median(rep[1], reps);
	int same = (ps < pj) == (rs < rj);

	printf("  %-56s %10.1f ms\n", "xfree " RANK_ROUNDS ", program on jemalloc (wall)", pj / 1e6);
	printf("  %-56s %10.1f ms\n", "xfree " RANK_ROUNDS ", program on the shim (slab)", ps / 1e6);
	printf("  %-56s %10.1f ms\n", "its replay on jemalloc-malloc (one pass)", rj / 1e6);
	printf("  %-56s %10.1f ms\n", "its replay on slab", rs / 1e6);
	printf("  %-56s %10.3f\n", "program: slab (shim) / jemalloc", ps / pj);
	printf("  %-56s %10.3f\n", "replay: slab / jemalloc-malloc", rs / rj);
	printf("  %-56s %10s   (target same order: %s)\n", "order, program and replay",
	       same ? (ps < pj ? "slab 1st" : "jemalloc 1st") : "differ", same ? "met" : "NOT met");
}

static int rank_paths(struct rank_paths *p)
{
	ssize_t len = readlink("/proc/self/exe", p->self, sizeof(p->self) - 1);
	char dir[PATH_MAX];
	int fd;

	p->self[len > 0 ? len : 0] = 0;
	snprintf(dir, sizeof(dir), "%s", p->self);
	snprintf(p->prog, sizeof(p->prog), "%s/tests/trace-threads", dirname(dir));
	snprintf(p->shim, sizeof(p->shim), "%s/libmmb-malloc.so", dir);
	if (access(p->prog, X_OK) || access(p->shim, R_OK)) {
		printf("  needs %s and %s (make check builds them)\n", p->prog, p->shim);
		return -ENOENT;
	}
	if (mmb_bench_jemalloc_path(p->je, sizeof(p->je)))
		return -ENOTSUP;
	snprintf(p->dir, sizeof(p->dir), "/tmp/mmb-bench-rank-XXXXXX");
	if (!mkdtemp(p->dir))
		return -errno;
	snprintf(p->trace, sizeof(p->trace), "%s/xfree.trace", p->dir);
	fd = open(p->trace, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? -errno : 0;
}

static int bench_replayrank_run(const struct mmb_bench_opts *o)
{
	static struct rank_paths p;
	unsigned reps = o->reps < RANK_SAMPLES ? o->reps : RANK_SAMPLES;
	static double prog[2][RANK_SAMPLES], rep[2][RANK_SAMPLES];
	double ns[2];
	int rc = rank_paths(&p);

	if (rc)
		return rc;
	char *record[] = { p.self, "record", "--force", "-o", p.trace, "--", p.prog, "xfree",
			   RANK_ROUNDS, NULL };
	char *run[] = { p.prog, "xfree", RANK_ROUNDS, NULL };

	if (rank_exec(record, NULL, 0) < 0) {
		printf("  mmbench record -o %s -- %s xfree %s failed\n", p.trace, p.prog,
		       RANK_ROUNDS);
		rc = -EIO;
	}
	for (unsigned r = 0; !rc && r < reps; r++) {
		prog[0][r] = rank_exec(run, p.je, 0);
		prog[1][r] = rank_exec(run, p.shim, 1);
		if (prog[0][r] < 0 || prog[1][r] < 0) {
			printf("  %s xfree %s failed under jemalloc or the shim\n", p.prog,
			       RANK_ROUNDS);
			rc = -EIO;
			break;
		}
		rc = rank_replay(&p, r, ns);
		rep[0][r] = ns[0];
		rep[1][r] = ns[1];
	}
	unlink(p.trace);
	rmdir(p.dir);
	if (rc)
		return rc;
	printf("  jemalloc: %s\n", p.je);
	rank_report(prog, rep, reps);
	return 0;
}

const struct mmb_bench_case mmb_bench_replayrank = {
	.name = "replayrank",
	.desc = "does replay rank slab and jemalloc as the program does (trace-threads xfree)",
	.run = bench_replayrank_run,
};

/*
 * bench_record.c — the cost of the trace recorder and of the malloc shim
 * per call, on a real multi-threaded program: build/tests/trace-threads
 * churn N (4 threads, each N malloc/free pairs of 16..527 bytes) run
 * plain, with libmmb-record.so and with libmmb-malloc.so preloaded (the
 * libraries given their environment directly, as mmbench record / exec
 * do, without a results folder). One operation = one malloc/free pair of
 * one thread; each repetition is one process, so its start-up is spread
 * over the calibrated count: repetitions last at least 1 s whatever
 * --rep-time says, so that a start-up of a few ms stays below 1%. The
 * issue names no target: ratios are shown as they are.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

struct rec_variant {
	const char *prog;		/* trace-threads */
	const char *lib;		/* NULL: plain */
	int record;			/* 1: the recorder, with a trace file */
	const char *trace;
};

static void rec_run(void *arg, uint64_t iters)
{
	struct rec_variant *v = arg;
	char n[32];
	pid_t pid;
	int st, fd = -1;

	snprintf(n, sizeof(n), "%llu", (unsigned long long)(iters / 4 ? iters / 4 : 1));
	if (v->record)
		fd = open(v->trace, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char s[32];

		if (v->lib)
			setenv("LD_PRELOAD", v->lib, 1);
		if (v->record) {
			snprintf(s, sizeof(s), "%d", fd);
			setenv("MMB_RECORD_FD", s, 1);
			snprintf(s, sizeof(s), "%d", (int)getpid());
			setenv("MMB_RECORD_PID", s, 1);
		}
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(v->prog, v->prog, "churn", n, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (fd >= 0)
		close(fd);
}

static int bench_record_run(const struct mmb_bench_opts *o)
{
	char exe[PATH_MAX], dir[PATH_MAX], prog[PATH_MAX + 32], rec[PATH_MAX + 32],
		shim[PATH_MAX + 32], trace[64];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct mmb_bench_opts lo = *o;
	double ns[3];
	int fd;

	exe[len > 0 ? len : 0] = 0;
	snprintf(dir, sizeof(dir), "%s", dirname(exe));
	snprintf(prog, sizeof(prog), "%s/tests/trace-threads", dir);
	snprintf(rec, sizeof(rec), "%s/libmmb-record.so", dir);
	snprintf(shim, sizeof(shim), "%s/libmmb-malloc.so", dir);
	if (access(prog, X_OK) || access(rec, R_OK) || access(shim, R_OK)) {
		printf("  needs %s, %s and %s (make check builds them)\n", prog, rec, shim);
		return -ENOENT;
	}
	snprintf(trace, sizeof(trace), "/tmp/mmb-bench-record-XXXXXX");
	fd = mkstemp(trace);
	if (fd < 0)
		return -errno;
	close(fd);
	struct rec_variant plain = { prog, NULL, 0, NULL }, recd = { prog, rec, 1, trace },
			   onshim = { prog, shim, 0, NULL };
	const struct mmb_bench_fn fns[] = {
		{ "plain", rec_run, &plain },
		{ "recorded", rec_run, &recd },
		{ "shim", rec_run, &onshim },
	};

	if (lo.rep_time_s < 1.0)
		lo.rep_time_s = 1.0;
	mmb_bench_interleaved(fns, 3, &lo, ns);
	unlink(trace);
	mmb_bench_row("trace-threads churn, glibc: per malloc/free pair", ns[0]);
	mmb_bench_row("the same, recorded (libmmb-record.so)", ns[1]);
	mmb_bench_row("the same on the shim (libmmb-malloc.so, slab)", ns[2]);
	mmb_bench_row("recorder cost per call ((recorded - plain) / 2)", (ns[1] - ns[0]) / 2);
	printf("  %-56s %10.3f   (no target)\n", "recorded / plain", ns[1] / ns[0]);
	printf("  %-56s %10.3f   (no target)\n", "shim / plain", ns[2] / ns[0]);
	return 0;
}

const struct mmb_bench_case mmb_bench_record = {
	.name = "record",
	.desc = "trace recorder and malloc shim cost per call on a 4-thread program",
	.run = bench_record_run,
};

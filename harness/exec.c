/*
 * exec.c — `mmbench exec`, `mmbench record` and `mmbench trace-info`.
 *
 * exec and record run one command in a child process with a preloaded
 * library (build/libmmb-malloc.so or build/libmmb-record.so, found beside
 * the mmbench executable) and hand it its settings in the environment:
 *
 *	exec	MMB_MALLOC_ALLOC and MMB_MALLOC_OPTS (the allocator and its
 *		options, checked first by shimspec.c against
 *		preload/malloc_opts.h, so bad ones exit 2 before anything
 *		runs), MMB_MALLOC_OUT (the results folder), MMB_MALLOC_PID
 *		(the process whose figures are wanted: the command itself)
 *	record	MMB_RECORD_FD (the trace, opened O_APPEND here with its header
 *		written), MMB_RECORD_PID
 *
 * The command is looked up in PATH as a shell would, before anything is
 * created: a command that does not exist ("NAME: command not found") or
 * cannot be run ("NAME: Permission denied") is bad input, exit status 2 as
 * for every other (a shell says 127 and 126; those stay the command's own
 * statuses, passed through). The command's exit status is passed through
 * (128 + N when signal N ended it). While it runs, SIGINT
 * and SIGQUIT are ignored here (they reach the command, as with system()).
 *
 * Results of exec (the folder, -o or results/<UTC time>-exec-<id>):
 * exec.json (command, config, exit status, wall/user/system time, page
 * faults and context switches from wait4's rusage, and the --events
 * counters: perf events opened on the command's pid before its exec,
 * inherited by its threads), written here after the command ends,
 * atomically; malloc.json, slabinfo, vmallocinfo and the buddy
 * state files, written by the shim at the command's exit (preload/malloc.c).
 * A command that ends without running exit handlers (a signal, _exit) leaves
 * no allocator figures: exec.json says so.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../allocators/allocator.h"
#include "../preload/malloc_opts.h"
#include "../workloads/trace.h"
#include "perf.h"
#include "shimspec.h"
#include "util.h"

static const char exec_usage[] =
	"usage: mmbench exec [-a slab|buddy|vmalloc[:OPTIONS]] [-o DIR] [--events LIST] [--] COMMAND [ARGS...]\n"
	"\n"
	"Runs COMMAND with its malloc family on the kernel-style allocators and writes a\n"
	"results folder (exec.json, malloc.json, slabinfo, vmallocinfo, buddy\n"
	"state). The exit status is COMMAND's own; 2 when COMMAND is not found or not\n"
	"executable, or an option is bad (nothing is created then).\n"
	"\n"
	"  --events LIST       counters on the command and its threads (libpfm4 names;\n"
	"                      default " MMB_PERF_DEFAULT ",\n"
	"                      " MMB_PERF_SOFTWARE "); refused ones show as null\n"
	"  -a ALLOC[:k=v,...]  the allocator (default slab) and its options:\n";

static const char record_usage[] =
	"usage: mmbench record -o TRACE [--force] [--] COMMAND [ARGS...]\n"
	"\n"
	"Runs COMMAND and records every malloc-family call (operation, size, alignment,\n"
	"thread, time, address) into TRACE, in the binary trace format (README.md).\n"
	"TRACE must not exist (--force replaces it). The exit status is COMMAND's own;\n"
	"2 when COMMAND is not found or not executable (no TRACE is written then).\n"
	"Replay it with -w replay:trace=TRACE.\n";

static const char trace_info_usage[] =
	"usage: mmbench trace-info TRACE\n"
	"\n"
	"Prints a binary trace's summary: calls by operation, threads (and most live at\n"
	"once), frees made by another thread than the allocation, sizes, peak live\n"
	"bytes, and the operations one replay pass makes. A trace that is truncated or\n"
	"frees a block it never allocated is refused (exit status 2).\n";

/* PATH lookup as the shell does. 0 with the path, or MMB_EXIT_USAGE (the
 * message printed). */
static int exec_find(const char *cmd, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	int denied = 0;

	if (strchr(cmd, '/')) {
		snprintf(buf, len, "%s", cmd);
		if (access(buf, F_OK)) {
			fprintf(stderr, "mmbench: %s: No such file or directory\n", cmd);
			return MMB_EXIT_USAGE;
		}
		if (access(buf, X_OK)) {
			fprintf(stderr, "mmbench: %s: Permission denied\n", cmd);
			return MMB_EXIT_USAGE;
		}
		return 0;
	}
	if (!*cmd)
		goto not_found;
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		struct stat st;

		snprintf(buf, len, "%.*s%s%s", (int)n, p, n ? "/" : "", cmd);
		if (!stat(buf, &st) && S_ISREG(st.st_mode)) {
			if (!access(buf, X_OK))
				return 0;
			denied = 1;
		}
		p = end ? end + 1 : NULL;
	}
	if (denied) {
		fprintf(stderr, "mmbench: %s: Permission denied\n", cmd);
		return MMB_EXIT_USAGE;
	}
not_found:
	fprintf(stderr, "mmbench: %s: command not found\n", cmd);
	return MMB_EXIT_USAGE;
}

/* The preloaded library beside the executable. 0, or 2 with a message. */
static int exec_lib(const char *name, char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	snprintf(buf, len, "%s/%s", dirname(exe), name);
	if (access(buf, R_OK)) {
		mmb_err("%s: %s (build it with make)", buf, strerror(errno));
		return MMB_EXIT_USAGE;
	}
	return 0;
}

static void exec_setenv_u(const char *name, unsigned long v)
{
	char s[32];

	snprintf(s, sizeof(s), "%lu", v);
	setenv(name, s, 1);
}

struct exec_run {
	pid_t pid;
	int status;			/* wait status */
	struct rusage ru;
	uint64_t wall_ns;
};

/*
 * Fork, set the environment in the child (env(), then LD_PRELOAD = lib in
 * front of any there was) and exec path with argv. With ready, the child
 * waits until ready(pid, ctx) has run in the parent (counters opened on
 * it) before it execs. Returns 0, or -errno of fork or pipe; the child
 * reports its own exec failure and exits 126.
 */
static int exec_spawn(const char *path, char **argv, const char *lib, void (*env)(void *),
		      void (*ready)(pid_t pid, void *ctx), void *ctx, struct exec_run *r)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, oint, oquit;
	uint64_t t0;
	int gate[2];
	pid_t pid;

	if (pipe2(gate, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	t0 = mmb_now_ns();
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(gate[0]);
		close(gate[1]);
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		return -e;
	}
	if (pid == 0) {
		const char *old = getenv("LD_PRELOAD");
		char pre[2 * PATH_MAX];

		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		snprintf(pre, sizeof(pre), "%s%s%s", lib, old && *old ? " " : "", old ? old : "");
		setenv("LD_PRELOAD", pre, 1);
		env(ctx);
		close(gate[1]);
		while (read(gate[0], pre, 1) < 0 && errno == EINTR)
			;
		execv(path, argv);
		fprintf(stderr, "mmbench: %s: %s\n", argv[0], strerror(errno));
		_exit(126);
	}
	r->pid = pid;
	close(gate[0]);
	if (ready)
		ready(pid, ctx);
	close(gate[1]);		/* the child execs now */
	while (wait4(pid, &r->status, 0, &r->ru) < 0 && errno == EINTR)
		;
	r->wall_ns = mmb_now_ns() - t0;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	return 0;
}

static int exec_status(const struct exec_run *r)
{
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
}

/* ---- exec ---- */

struct exec_ctx {
	const char *dir;
	char **argv;
	struct mmb_shim_spec spec;
	struct exec_run run;
	int have_stats;
	struct mmb_perf_events ev;
	int fd[MMB_PERF_MAX_EVENTS];
	char why[MMB_PERF_MAX_EVENTS][96];
};

/*
 * Counters on the command (ready hook of exec_spawn): each event opened
 * alone on the child's pid, disabled until its exec, inherited by its
 * threads and children (so no group: the kernel refuses grouped inherited
 * reads), read after it exits and scaled by enabled / running time. An
 * event the kernel refuses keeps its reason and shows as null.
 */
static void exec_counters_open(pid_t pid, void *arg)
{
	struct exec_ctx *x = arg;

	for (unsigned i = 0; i < x->ev.n; i++) {
		struct perf_event_attr attr = x->ev.attr[i];
		long fd;

		attr.disabled = 1;
		attr.enable_on_exec = 1;
		attr.inherit = 1;
		attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
		fd = syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0 && errno == EACCES && !attr.exclude_kernel) {
			attr.exclude_kernel = 1;	/* perf_event_paranoid: user only */
			fd = syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
		}
		x->fd[i] = fd < 0 ? -1 : (int)fd;
		if (fd < 0)
			snprintf(x->why[i], sizeof(x->why[i]), "%s", strerror(errno));
	}
}

static void exec_counters_json(FILE *f, struct exec_ctx *x)
{
	fprintf(f, ",\n  \"counters\": {");
	for (unsigned i = 0; i < x->ev.n; i++) {
		uint64_t v[3];

		fprintf(f, "%s\n    ", i ? "," : "");
		mmb_json_str(f, x->ev.name[i]);
		if (x->fd[i] >= 0 && read(x->fd[i], v, sizeof(v)) == (ssize_t)sizeof(v) && v[2])
			fprintf(f, ": %.0f", (double)v[0] * ((double)v[1] / (double)v[2]));
		else
			fprintf(f, ": null");
	}
	fprintf(f, "\n  },\n  \"counters_unavailable\": {");
	for (unsigned i = 0, n = 0; i < x->ev.n; i++) {
		if (x->fd[i] >= 0)
			continue;
		fprintf(f, "%s\n    ", n++ ? "," : "");
		mmb_json_str(f, x->ev.name[i]);
		fputs(": ", f);
		mmb_json_str(f, x->why[i]);
	}
	fprintf(f, "\n  }");
}

static void exec_env(void *arg)
{
	struct exec_ctx *x = arg;

	mmb_shim_spec_setenv(&x->spec);
	setenv("MMB_MALLOC_OUT", x->dir, 1);
	exec_setenv_u("MMB_MALLOC_PID", (unsigned long)getpid());
}

static uint64_t exec_tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

static int exec_json(FILE *f, void *arg)
{
	struct exec_ctx *x = arg;
	const struct rusage *ru = &x->run.ru;

	fprintf(f, "{\n  \"schema\": 1,\n  \"command\": [");
	for (int i = 0; x->argv[i]; i++) {
		fputs(i ? ", " : "", f);
		mmb_json_str(f, x->argv[i]);
	}
	fprintf(f, "],\n  \"allocator\": ");
	mmb_json_str(f, x->spec.config);
	if (WIFEXITED(x->run.status))
		fprintf(f, ",\n  \"exit_status\": %d,\n  \"signal\": null", WEXITSTATUS(x->run.status));
	else
		fprintf(f, ",\n  \"exit_status\": null,\n  \"signal\": %d", WTERMSIG(x->run.status));
	fprintf(f, ",\n  \"wall_ns\": %" PRIu64 ",\n  \"user_ns\": %" PRIu64 ",\n  \"sys_ns\": %" PRIu64
		   ",\n  \"maxrss_kb\": %ld,\n  \"minflt\": %ld,\n  \"majflt\": %ld,\n"
		   "  \"nvcsw\": %ld,\n  \"nivcsw\": %ld,\n  \"allocator_stats\": %s",
		x->run.wall_ns, exec_tv_ns(&ru->ru_utime), exec_tv_ns(&ru->ru_stime), ru->ru_maxrss,
		ru->ru_minflt, ru->ru_majflt, ru->ru_nvcsw, ru->ru_nivcsw,
		x->have_stats ? "\"malloc.json\"" :
				"null, \"allocator_stats_missing\": \"none written: the command never called malloc, or ended without exit handlers (a signal, _exit)\"");
	exec_counters_json(f, x);
	fprintf(f, "\n}\n");
	return ferror(f) ? -EIO : 0;
}

int mmb_exec_main(int argc, char **argv)
{
	const char *spec = "slab", *dir = NULL, *events = MMB_PERF_DEFAULT "," MMB_PERF_SOFTWARE;
	char lib[PATH_MAX], path[PATH_MAX], err[MMB_ERR_MAX], dirbuf[PATH_MAX], absdir[PATH_MAX];
	struct exec_ctx x = { 0 };
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(exec_usage, stdout);
			for (int a = 0; a < MMB_MALLOC_NR; a++) {
				printf("    %-8s %s\n", mmb_malloc_allocs[a].name, mmb_malloc_allocs[a].desc);
				for (const struct mmb_param *p = mmb_malloc_allocs[a].opts; p->name; p++)
					printf("        %-12s %s (default %s)\n", p->name, p->help, p->def);
			}
			return 0;
		}
		if (!strcmp(argv[i], "--events") && i + 1 < argc) {
			events = argv[++i];
			continue;
		}
		if ((!strcmp(argv[i], "-a") || !strcmp(argv[i], "-o")) && i + 1 < argc) {
			*(argv[i][1] == 'a' ? &spec : &dir) = argv[i + 1];
			i++;
			continue;
		}
		if (argv[i][0] == '-') {
			mmb_err("exec: unknown option '%s' (see mmbench exec --help)", argv[i]);
			return MMB_EXIT_USAGE;
		}
		break;
	}
	if (i >= argc) {
		mmb_err("exec: no command given (usage: mmbench exec [-a slab|buddy|vmalloc[:OPTIONS]] [-o DIR] -- COMMAND [ARGS...])");
		return MMB_EXIT_USAGE;
	}
	if (mmb_shim_spec_parse(spec, &x.spec, err, sizeof(err))) {
		mmb_err("exec: %s", err);
		return MMB_EXIT_USAGE;
	}
	if (mmb_perf_parse(events, "", "", &x.ev, err, sizeof(err))) {
		mmb_err("exec: %s", err);
		return MMB_EXIT_USAGE;
	}
	if (exec_lib("libmmb-malloc.so", lib, sizeof(lib)))
		return MMB_EXIT_USAGE;
	rc = exec_find(argv[i], path, sizeof(path));
	if (rc)
		return rc;
	if (dir) {
		rc = mmb_dir_is_empty(dir);
		if (rc == 0) {
			mmb_err("exec: -o %s: folder is not empty (results go to a new or empty folder)", dir);
			return MMB_EXIT_USAGE;
		}
		if (rc < 0 && rc != -ENOENT) {
			mmb_err("exec: -o %s: %s", dir, rc == -ENOTDIR ? "exists and is not a folder" :
				strerror(-rc));
			return MMB_EXIT_USAGE;
		}
	} else {
		char ts[32];

		mmb_utc_compact(time(NULL), ts, sizeof(ts));
		snprintf(dirbuf, sizeof(dirbuf), "results/%s-exec-%06x", ts,
			 (unsigned)(getpid() ^ mmb_now_ns()) & 0xffffff);
		dir = dirbuf;
	}
	rc = mmb_mkdir_p(dir, 0755);
	if (rc) {
		mmb_err("exec: cannot create results folder %s: %s", dir, strerror(-rc));
		return MMB_EXIT_USAGE;
	}
	x.dir = realpath(dir, absdir) ? absdir : dir;
	x.argv = argv + i;
	rc = exec_spawn(path, argv + i, lib, exec_env, exec_counters_open, &x, &x.run);
	if (rc) {
		mmb_err("exec: fork: %s", strerror(-rc));
		return MMB_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "%s/malloc.json", x.dir);
	x.have_stats = access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "%s/exec.json", x.dir);
	rc = mmb_write_atomic(path, exec_json, &x);
	for (unsigned e = 0; e < x.ev.n; e++)
		if (x.fd[e] >= 0)
			close(x.fd[e]);
	if (rc)
		mmb_err("exec: %s: %s", path, strerror(-rc));
	else
		fprintf(stderr, "mmbench: results in %s\n", x.dir);
	if (x.have_stats) {
		char why[2 * MMB_ERR_MAX];
		unsigned long long failed = mmb_shim_failures(x.dir, why, sizeof(why));

		if (failed)
			fprintf(stderr, "mmbench: exec: %llu allocation%s failed; the first: %s\n",
				failed, failed == 1 ? "" : "s", why[0] ? why : "(no reason written)");
	}
	return exec_status(&x.run);
}

/* ---- record ---- */

struct record_ctx {
	int fd;				/* the trace, O_APPEND: the child's records */
	const char *out;		/* its path */
};

static void record_env(void *arg)
{
	const struct record_ctx *rc = arg;

	exec_setenv_u("MMB_RECORD_FD", (unsigned long)rc->fd);
	exec_setenv_u("MMB_RECORD_PID", (unsigned long)getpid());
}

static void record_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Before the command execs: its pid into the header (a descriptor without
 * O_APPEND, so that pwrite goes where it is told), so that a trace whose
 * recorder was killed still names its process. */
static void record_ready(pid_t pid, void *arg)
{
	const struct record_ctx *rc = arg;
	uint8_t le[4];
	int fd = open(rc->out, O_WRONLY | O_CLOEXEC);

	record_le(le, (uint64_t)pid, 4);
	if (fd < 0 || pwrite(fd, le, 4, 24) != 4)
		mmb_err("record: %s: cannot write the pid into the header", rc->out);
	if (fd >= 0)
		close(fd);
}

int mmb_record_main(int argc, char **argv)
{
	const char *out = NULL;
	char lib[PATH_MAX], path[PATH_MAX], err[MMB_ERR_MAX];
	uint8_t hdr[MMB_TRACE_HEADER_BYTES] = { 0 };
	struct exec_run run;
	struct record_ctx rctx;
	uint64_t records;
	uint32_t threads;
	int i, rc, fd, force = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(record_usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "--force")) {
			force = 1;
			continue;
		}
		if (argv[i][0] == '-') {
			mmb_err("record: unknown option '%s' (see mmbench record --help)", argv[i]);
			return MMB_EXIT_USAGE;
		}
		break;
	}
	if (!out || i >= argc) {
		mmb_err("record: %s (usage: mmbench record -o TRACE -- COMMAND [ARGS...])",
			out ? "no command given" : "no trace file given (-o TRACE)");
		return MMB_EXIT_USAGE;
	}
	if (exec_lib("libmmb-record.so", lib, sizeof(lib)))
		return MMB_EXIT_USAGE;
	rc = exec_find(argv[i], path, sizeof(path));
	if (rc)
		return rc;
	/* Like run's and exec's -o, an existing trace is never replaced unasked. */
	fd = open(out, O_WRONLY | O_CREAT | O_APPEND | (force ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0 && errno == EEXIST) {
		mmb_err("record: -o %s: file exists (--force replaces it)", out);
		return MMB_EXIT_USAGE;
	}
	if (fd < 0) {
		mmb_err("record: -o %s: %s", out, strerror(errno));
		return MMB_EXIT_USAGE;
	}
	memcpy(hdr, MMB_TRACE_MAGIC, 8);
	record_le(hdr + 8, MMB_TRACE_VERSION, 2);
	record_le(hdr + 10, MMB_TRACE_HEADER_BYTES, 2);
	record_le(hdr + 16, mmb_now_ns(), 8);
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
		mmb_err("record: -o %s: cannot write the header", out);
		close(fd);
		unlink(out);
		return MMB_EXIT_USAGE;
	}
	rctx = (struct record_ctx){ .fd = fd, .out = out };
	rc = exec_spawn(path, argv + i, lib, record_env, record_ready, &rctx, &run);
	if (rc) {
		mmb_err("record: fork: %s", strerror(-rc));
		close(fd);
		unlink(out);
		return MMB_EXIT_USAGE;
	}
	close(fd);
	rc = mmb_trace_count(out, &records, &threads, err, sizeof(err));
	if (rc)
		mmb_err("record: the trace does not read back: %s", err);
	else
		fprintf(stderr, "mmbench: recorded %" PRIu64 " calls from %u threads in %s\n", records,
			threads, out);
	if (WIFSIGNALED(run.status))
		fprintf(stderr, "mmbench: record: signal %d ended the command: the calls after the "
			"last full buffer (up to 64 KiB of records per thread) are not in the trace\n",
			WTERMSIG(run.status));
	return exec_status(&run);
}

/* ---- trace-info ---- */

int mmb_trace_info_main(int argc, char **argv)
{
	char err[MMB_ERR_MAX + PATH_MAX];
	struct mmb_trace t;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(trace_info_usage, stdout);
		return 0;
	}
	if (argc != 2) {
		mmb_err("trace-info: expected one trace file (usage: mmbench trace-info TRACE)");
		return MMB_EXIT_USAGE;
	}
	rc = mmb_trace_read(argv[1], &t, NULL, NULL, err, sizeof(err));
	if (rc) {
		mmb_trace_free(&t);
		mmb_err("trace-info: %s", err);
		return MMB_EXIT_USAGE;
	}
	printf("trace: %s\nversion: %u\npid: %u\nduration_s: %.6f\nthreads: %u\n"
	       "threads_at_once: %u\ncalls: %" PRIu64 "\n",
	       argv[1], MMB_TRACE_VERSION, t.pid, (double)t.duration_ns / 1e9, t.nthreads,
	       t.threads_at_once, t.nev);
	for (unsigned op = 1; op < MMB_TOP_EXEC; op++)
		if (t.calls[op])
			printf("  %s: %" PRIu64 "\n", mmb_trace_op_name(op), t.calls[op]);
	printf("images: %u\nallocs: %" PRIu64 "\nfrees: %" PRIu64 "\ncross_thread_frees: %" PRIu64
	       "\nfailed_allocs: %" PRIu64 "\nlost_frees: %" PRIu64 "\ndropped_at_exec: %" PRIu64
	       "\nlive_at_end: %" PRIu64
	       "\nlive_at_end_bytes: %" PRIu64 "\nallocated_bytes: %" PRIu64
	       "\npeak_live_bytes: %" PRIu64 "\nmax_live_objects: %u\nreplay_ops_per_pass: %" PRIu64
	       "\nsizes:\n",
	       t.images, t.allocs, t.frees, t.xthread_frees, t.failed, t.lost_frees, t.exec_drops,
	       t.live_end, t.live_end_bytes, t.alloc_bytes, t.peak_live_bytes, t.nobjs,
	       t.allocs + t.frees + t.lost_frees + t.exec_drops + t.live_end);
	for (unsigned b = 0; b < MMB_TRACE_HIST_BUCKETS; b++) {
		if (!t.hist[b])
			continue;
		if (b == 0)
			printf("  0: %" PRIu64 "\n", t.hist[b]);
		else
			printf("  %" PRIu64 "..%" PRIu64 ": %" PRIu64 "\n", (uint64_t)1 << (b - 1),
			       ((uint64_t)1 << b) - 1, t.hist[b]);
	}
	mmb_trace_free(&t);
	return 0;
}

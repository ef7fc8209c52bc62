/*
 * run.c — the parent side of `mmbench run` (run.h).
 *
 * Files: DIR/meta.json and DIR/cells.csv are replaced atomically (util.h),
 * cells.csv after every finished cell, so an interrupted run keeps every
 * finished cell and no reader ever sees half a file. A finished cell's
 * latency buckets and timeline rows are appended to DIR/latency.csv and
 * DIR/timeline.csv (series.h), and its frag_orders.csv and size_classes.csv
 * rows (memstate.h), just before cells.csv names the cell.
 * `--resume DIR` (resume.h) rebuilds the plan from DIR/meta.json and runs
 * only the cells cells.csv does not hold.
 *
 * Faults: the fault mode is per cell (plan.h). A fault-census cell (uffd or
 * sigbus) writes its fault timeline to DIR/state/<cell>/faults_timeline.csv;
 * after the cell, its rows are moved into DIR/faults.csv (cell,region,phase,
 * t_ns,faults), which is replaced atomically like cells.csv and exists when
 * the run has a census cell. Every cell's cells.csv row says its mode
 * (fault_census). --faults uffd|sigbus that cannot work here is bad usage
 * (exit 2 before any cell); --faults auto falls back to kernel counts only
 * (a timing cell) and meta.json says why.
 *
 * Isolation: a cell's process is the leader of its own process group, so a
 * Ctrl-C on the terminal reaches only mmbench, which then kills the running
 * cell's group itself, and a timeout kill takes the cell's children too.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memstate.h"
#include "meta.h"
#include "plan.h"
#include "programs/runner.h"
#include "programs/summary.h"
#include "results.h"
#include "resume.h"
#include "series.h"
#include "clock.h"
#include "slurm/slurm.h"
#include "stats.h"
#include "summary.h"
#include "timeline.h"
#include "uffd.h"
#include "util.h"

static volatile sig_atomic_t run_interrupted;

static void run_on_signal(int sig)
{
	run_interrupted = sig;
}

struct run_ctx {
	const struct mmb_plan *plan;
	struct mmb_result *results;	/* one per cell, in cell order */
	unsigned ndone;			/* cells with a result (resumed ones too) */
	struct mmb_memstate_rows ms;	/* the running cell's memstate.h rows */
	unsigned nran;			/* cells run by this process */
	char dir[4096];
	struct mmb_xcols xcols;		/* dynamic cells.csv columns */
	int progress;			/* progress line on stderr */
	uint64_t t0_ns, cell_t0_ns;	/* run start, current cell's start */
	const struct mmb_cell *current;
	char *faults_csv;		/* DIR/faults.csv rows so far, header included */
	size_t faults_len;
	const unsigned char *only;	/* cells this process runs (a Slurm shard); NULL = all */
	struct mmb_prog_ref *prog_refs;	/* program cells' reference outputs (runner.h) */
};

static int cells_emit(FILE *f, void *arg)
{
	const struct run_ctx *rc = arg;
	int err = mmb_csv_write_header(f, &rc->xcols);

	for (unsigned i = 0; !err && i < rc->plan->ncells; i++)
		if (rc->results[i].status[0])
			err = mmb_csv_write_row(f, &rc->results[i], &rc->xcols);
	return err;
}

static int run_write_cells(struct run_ctx *rc)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/cells.csv", rc->dir);
	return mmb_write_atomic(path, cells_emit, rc);
}

/*
 * Parse the child's record into r, latency rows into lat and timeline rows
 * into tl (CSV, for cell). Returns 1 if it ended with "end".
 */
static int run_parse_record(char *buf, struct mmb_result *r, unsigned cell, FILE *lat, FILE *tl,
			    struct mmb_memstate_rows *ms)
{
	int complete = 0;

	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (mmb_memstate_line(ms, line, cell)) {
			continue;
		} else if (strncmp(line, "status ", 7) == 0) {
			snprintf(r->status, sizeof(r->status), "%s", line + 7);
		} else if (strncmp(line, "detail ", 7) == 0) {
			snprintf(r->detail, sizeof(r->detail), "%s", line + 7);
		} else if (strncmp(line, "provider ", 9) == 0) {
			snprintf(r->malloc_provider, sizeof(r->malloc_provider), "%s", line + 9);
		} else if (strncmp(line, "m ", 2) == 0) {
			char name[128];
			double v;

			if (sscanf(line + 2, "%127s %lf", name, &v) == 2 && mmb_metric_find(name) >= 0)
				r->m[mmb_metric_find(name)] = v;
		} else if (strncmp(line, "h ", 2) == 0) {
			char op[32];
			unsigned long long lo, hi, n;

			if (sscanf(line + 2, "%31s %llu %llu %llu", op, &lo, &hi, &n) == 4)
				fprintf(lat, "%u,%s,%llu,%llu,%llu\n", cell, op, lo, hi, n);
		} else if (strncmp(line, "t ", 2) == 0) {
			mmb_timeline_csv_row(line + 2, cell, tl);
		} else if (strncmp(line, "x ", 2) == 0) {
			char name[MMB_XCOL_NAME], val[64];
			double v;

			if (sscanf(line + 2, "%63s %63s", name, val) != 2)
				continue;
			if (strcmp(val, "n/a") == 0)
				mmb_result_set_x(r, name, NAN, 1);
			else if (sscanf(val, "%lf", &v) == 1)
				mmb_result_set_x(r, name, v, 0);
		} else if (strcmp(line, "end") == 0) {
			complete = 1;
		}
	}
	return complete;
}

static int faults_emit(FILE *f, void *arg)
{
	const struct run_ctx *rc = arg;

	fwrite(rc->faults_csv, 1, rc->faults_len, f);
	return ferror(f) ? -EIO : 0;
}

static int run_write_faults(struct run_ctx *rc)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/faults.csv", rc->dir);
	return mmb_write_atomic(path, faults_emit, rc);
}

/* Append "cell,<row>" for every row of the cell's timeline file (then
 * removed) to DIR/faults.csv. A cell that died early has no file. */
static int run_merge_faults(struct run_ctx *rc, unsigned cell)
{
	char path[4300], line[512];
	FILE *in;

	snprintf(path, sizeof(path), "%s/state/%u/faults_timeline.csv", rc->dir, cell);
	in = fopen(path, "r");
	if (in) {
		int header = 1;

		while (fgets(line, sizeof(line), in)) {
			char row[600];
			int n;
			char *grown;

			if (header) {	/* region,phase,t_ns,faults */
				header = 0;
				continue;
			}
			n = snprintf(row, sizeof(row), "%u,%s", cell, line);
			grown = realloc(rc->faults_csv, rc->faults_len + (size_t)n + 1);
			if (!grown) {
				fclose(in);
				return -ENOMEM;
			}
			rc->faults_csv = grown;
			memcpy(rc->faults_csv + rc->faults_len, row, (size_t)n + 1);
			rc->faults_len += (size_t)n;
		}
		fclose(in);
		unlink(path);
	}
	return run_write_faults(rc);
}

static void run_fmt_u64(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void run_progress(const struct run_ctx *rc);

/* Run one cell in a child process and fill r, lat and tl (run_parse_record). */
static void run_cell(struct run_ctx *rc, const struct mmb_cell *cell, struct mmb_result *r,
		     FILE *lat, FILE *tl)
{
	const struct mmb_plan *p = rc->plan;
	const char *dir = rc->dir;
	const struct mmb_aconf *ac = &p->aconf[cell->ai];
	const struct mmb_wconf *wc = &p->wconf[cell->wi];
	char threads[16], seed[32], limit[64], timeout[64], state_dir[4200], fcpu[16], flog[16], margs[16384];
	char *argv[32 + MMB_MEASURE_CELL_ARGS];
	int argc = 0, fds[2], wstatus = 0;
	struct rusage ru;
	char *buf = NULL;
	size_t used = 0, cap = 0;
	int timed_out = 0;
	pid_t pid;

	run_fmt_u64(threads, sizeof(threads), cell->threads);
	run_fmt_u64(seed, sizeof(seed), cell->seed);
	if (p->ops)
		run_fmt_u64(limit, sizeof(limit), p->ops);
	else
		snprintf(limit, sizeof(limit), "%.9g", p->duration_s);
	snprintf(state_dir, sizeof(state_dir), "%s/state/%u", dir, cell->id);
	argv[argc++] = "mmbench";
	argv[argc++] = "cell";
	argv[argc++] = "--alloc";
	argv[argc++] = (char *)ac->spec;
	argv[argc++] = "--workload";
	argv[argc++] = (char *)wc->spec;
	argv[argc++] = "--threads";
	argv[argc++] = threads;
	argv[argc++] = "--seed";
	argv[argc++] = seed;
	argv[argc++] = p->ops ? "--ops" : "--duration";
	argv[argc++] = limit;
	if (p->ops && p->duration_s > 0) {	/* --op-equivalent's time-out */
		snprintf(timeout, sizeof(timeout), "%.9g", p->duration_s);
		argv[argc++] = "--duration";
		argv[argc++] = timeout;
	}
	if (p->accounting > 0)
		argv[argc++] = "--exact-accounting";
	argv[argc++] = "--result-fd";
	argv[argc++] = "3";
	if (p->dump_state) {
		argv[argc++] = "--state-dir";
		argv[argc++] = state_dir;
	}
	if (p->check)
		argv[argc++] = "--check";
	if (cell->faults != MMB_FAULTS_OFF) {
		argv[argc++] = "--faults";
		argv[argc++] = (char *)mmb_fault_mode_names[cell->faults];
		argv[argc++] = "--fault-dir";
		argv[argc++] = state_dir;
		if (p->fault_cpu >= 0) {
			snprintf(fcpu, sizeof(fcpu), "%d", p->fault_cpu);
			argv[argc++] = "--fault-cpu";
			argv[argc++] = fcpu;
		}
		if (p->fault_log) {
			run_fmt_u64(flog, sizeof(flog), p->fault_log);
			argv[argc++] = "--fault-log";
			argv[argc++] = flog;
		}
	}
	argc = mmb_measure_cell_args(&p->measure, cell->threads, argv, argc, margs, sizeof(margs));
	argv[argc] = NULL;

	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(r->status, sizeof(r->status), MMB_ST_FAILED);
		snprintf(r->detail, sizeof(r->detail), "pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(r->status, sizeof(r->status), MMB_ST_FAILED);
		snprintf(r->detail, sizeof(r->detail), "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(fds[1], 3);	/* dup2 clears O_CLOEXEC on the copy */
		if (ac->ops->exec_env)
			ac->ops->exec_env(&ac->cfg);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "mmbench: exec /proc/self/exe: %s\n", strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);	/* also here, so a kill(-pid) cannot race the child's own */
	close(fds[1]);

	uint64_t deadline = mmb_now_ns() + (uint64_t)(p->cell_timeout_s * 1e9);

	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		uint64_t now = mmb_now_ns();
		int n;

		if (run_interrupted)
			break;
		if (now >= deadline) {
			timed_out = 1;
			break;
		}
		n = poll(&pfd, 1, rc->progress ? 500 : (int)((deadline - now) / 1000000 + 1));
		if (rc->progress)
			run_progress(rc);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		if (cap - used < 65536) {
			char *grown = cap < (256u << 20) ? realloc(buf, cap + (1u << 20)) : NULL;

			if (!grown)
				break;	/* record too large: the cell reads as having no result */
			buf = grown;
			cap += 1u << 20;
		}
		ssize_t got = read(fds[0], buf + used, cap - 1 - used);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		used += (size_t)got;
	}
	if (timed_out || run_interrupted) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	close(fds[0]);
	while (wait4(pid, &wstatus, 0, &ru) < 0 && errno == EINTR)
		;
	int complete = 0;

	if (buf) {
		buf[used] = 0;
		complete = run_parse_record(buf, r, cell->id, lat, tl, &rc->ms);
		free(buf);
	}

	r->m[MMB_M_rss_peak_bytes] = (double)ru.ru_maxrss * 1024.0;
	r->m[MMB_M_minflt] = (double)ru.ru_minflt;
	r->m[MMB_M_majflt] = (double)ru.ru_majflt;
	r->m[MMB_M_cpu_user_ns] = (double)ru.ru_utime.tv_sec * 1e9 + (double)ru.ru_utime.tv_usec * 1e3;
	r->m[MMB_M_cpu_sys_ns] = (double)ru.ru_stime.tv_sec * 1e9 + (double)ru.ru_stime.tv_usec * 1e3;
	if (timed_out) {
		snprintf(r->status, sizeof(r->status), MMB_ST_TIMEOUT);
		snprintf(r->detail, sizeof(r->detail), "killed after %gs (--cell-timeout)",
			 p->cell_timeout_s);
	} else if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		const char *abbrev = sigabbrev_np(sig);

		snprintf(r->status, sizeof(r->status), MMB_ST_CRASHED);
		snprintf(r->detail, sizeof(r->detail), "killed by signal %d (SIG%s)", sig,
			 abbrev ? abbrev : "?");
	} else if (!complete) {
		snprintf(r->status, sizeof(r->status), MMB_ST_FAILED);
		snprintf(r->detail, sizeof(r->detail), "cell exited with status %d and no result",
			 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
	}
}

/* The progress line while a program cell runs (runner.h's tick). */
static void run_tick(void *arg)
{
	const struct run_ctx *rc = arg;

	if (rc->progress)
		run_progress(rc);
}

/* Expected seconds of one cell before any has finished: its timed region,
 * warm-up and about 0.1 s of process start and calibration. */
static double run_cell_guess_s(const struct mmb_plan *p)
{
	return (p->ops ? 0.5 : p->duration_s) + p->measure.warmup_s + 0.1;
}

static void run_fmt_dur(char *buf, size_t len, double s)
{
	if (s < 10)
		snprintf(buf, len, "%.1fs", s);
	else if (s < 60)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%.0fm%02.0fs", floor(s / 60), fmod(s, 60));
	else
		snprintf(buf, len, "%.0fh%02.0fm", floor(s / 3600), fmod(s, 3600) / 60);
}

/*
 * "[3/12] 25% glibc churn t=2 rep 1 | 4s elapsed, about 12s left": the
 * estimate is the mean time of the cells this process ran, or the planned
 * cell length before one has finished, times the cells left, less the time
 * the current cell has already run.
 */
static void run_progress(const struct run_ctx *rc)
{
	const struct mmb_plan *p = rc->plan;
	const struct mmb_cell *cell = rc->current;
	uint64_t now = mmb_now_ns();
	double elapsed = (double)(now - rc->t0_ns) / 1e9;
	double in_cell = (double)(now - rc->cell_t0_ns) / 1e9;
	double per_cell = rc->nran ? (double)(rc->cell_t0_ns - rc->t0_ns) / 1e9 / rc->nran
				   : run_cell_guess_s(p);
	double left = per_cell * (p->ncells - rc->ndone) - in_cell;
	char el[32], lf[32];

	if (!cell)
		return;
	if (left < 0)
		left = 0;
	run_fmt_dur(el, sizeof(el), elapsed);
	run_fmt_dur(lf, sizeof(lf), left);
	fprintf(stderr, "\r\033[K[%u/%u] %u%% %s %s t=%u rep %u | %s elapsed, about %s left",
		rc->ndone + 1, p->ncells, rc->ndone * 100 / p->ncells, p->aconf[cell->ai].spec,
		p->wconf[cell->wi].ops->name, cell->threads, cell->rep, el, lf);
	fflush(stderr);
}

/* The closing summary (summary.h), read back from the folder just written. */
static void run_summary_dir(const char *dir)
{
	struct mmb_resdir rd;
	char err[4400];

	if (mmb_resdir_open(dir, &rd, err, sizeof(err))) {
		mmb_err("summary: %s", err);
		return;
	}
	mmb_summary_print(&rd, stdout);
	mmb_resdir_close(&rd);
}

static void run_summary(const struct run_ctx *rc)
{
	run_summary_dir(rc->dir);
	mmb_prog_summary(rc->plan, rc->results);	/* program cells: a table of their own */
}

/*
 * A run in which no cell finished measured nothing: say so in one line and
 * fail (exit 1), so that neither a person nor a CI takes it for a result.
 * Returns 0 when some cell is ok; then, unless quiet, one line counts the
 * cells that are not (the summary shows them only as a lower ok count).
 */
static int run_none_ok(const struct run_ctx *rc)
{
	unsigned n[3] = { 0, 0, 0 }, ok = 0;	/* timeout, crashed, failed */

	for (unsigned i = 0; i < rc->plan->ncells; i++) {
		const char *st = rc->results[i].status;

		ok += !strcmp(st, MMB_ST_OK);
		n[0] += !strcmp(st, MMB_ST_TIMEOUT);
		n[1] += !strcmp(st, MMB_ST_CRASHED);
		n[2] += st[0] && strcmp(st, MMB_ST_OK) && strcmp(st, MMB_ST_TIMEOUT) &&
			strcmp(st, MMB_ST_CRASHED);
	}
	if (ok) {
		if (n[0] + n[1] + n[2] && !rc->plan->quiet) {
			fflush(stdout);	/* after the summary, in a log too */
			fprintf(stderr, "mmbench: %u of %u cells did not finish: %u timed out, %u "
				"crashed, %u failed (why: the detail column of %s/cells.csv)\n",
				n[0] + n[1] + n[2], ok + n[0] + n[1] + n[2], n[0], n[1], n[2], rc->dir);
		}
		return 0;
	}
	mmb_err("no cell finished: %u timed out, %u crashed, %u failed (why: the detail column of "
		"%s/cells.csv)", n[0], n[1], n[2], rc->dir);
	return 1;
}

/* Choose and create the results folder. Returns 0 or exit status 2 with a message. */
static int run_make_dir(const struct mmb_plan *p, char *dir, size_t len, int *r_created)
{
	struct stat st;
	int rc;

	*r_created = 0;
	if (p->outdir) {
		snprintf(dir, len, "%s", p->outdir);
		if (stat(dir, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				mmb_err("-o %s: exists and is not a folder", dir);
				return MMB_EXIT_USAGE;
			}
			rc = mmb_dir_is_empty(dir);
			if (rc < 0) {
				mmb_err("-o %s: cannot read: %s", dir, strerror(-rc));
				return MMB_EXIT_USAGE;
			}
			if (rc == 0) {
				mmb_err("-o %s: folder is not empty (results go to a new or empty folder)", dir);
				return MMB_EXIT_USAGE;
			}
			if (access(dir, W_OK)) {
				mmb_err("-o %s: folder is not writable: %s", dir, strerror(errno));
				return MMB_EXIT_USAGE;
			}
			return 0;
		}
	} else {
		char ts[32];
		unsigned id;
		int fd = open("/dev/urandom", O_RDONLY);

		if (fd < 0 || read(fd, &id, sizeof(id)) != sizeof(id))
			id = (unsigned)getpid() ^ (unsigned)mmb_now_ns();
		if (fd >= 0)
			close(fd);
		mmb_utc_compact(time(NULL), ts, sizeof(ts));
		snprintf(dir, len, "results/%s-%06x", ts, id & 0xffffff);
	}
	rc = mmb_mkdir_p(dir, 0755);
	if (rc) {
		mmb_err("cannot create results folder %s: %s", dir, strerror(-rc));
		return MMB_EXIT_USAGE;
	}
	*r_created = 1;
	return 0;
}

/* SIGINT and SIGTERM set run_interrupted (no SA_RESTART: poll() returns
 * EINTR). Caught from the start of `run`, so one that comes while the plan
 * is made (the clock's calibration takes a while on a loaded machine) ends
 * the run as interrupted, before its first cell, not mmbench itself. */
static void run_catch_signals(void)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = run_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Run every cell without a result, record each, write the final meta.json. */
static int run_cells(struct run_ctx *rc, struct mmb_meta *meta)
{
	const struct mmb_plan *plan = rc->plan;
	int status = 0, e;

	run_catch_signals();

	rc->progress = !plan->quiet && isatty(2);
	rc->t0_ns = mmb_now_ns();
	for (unsigned i = 0; i < plan->ncells && !run_interrupted; i++) {
		const struct mmb_cell *cell = &plan->cells[i];
		struct mmb_result *r = &rc->results[i];
		char *lat = NULL, *tl = NULL;
		size_t latlen = 0, tllen = 0;
		FILE *latf, *tlf;

		if (r->status[0])
			continue;	/* finished before --resume */
		if (rc->only && !rc->only[i])
			continue;	/* another shard's cell (slurm/task.c) */
		rc->current = cell;
		rc->cell_t0_ns = mmb_now_ns();
		if (rc->progress)
			run_progress(rc);
		latf = open_memstream(&lat, &latlen);
		tlf = open_memstream(&tl, &tllen);
		if (!latf || !tlf || mmb_memstate_open(&rc->ms)) {
			mmb_err("out of memory");
			status = 1;
			if (latf)
				fclose(latf);
			if (tlf)
				fclose(tlf);
			break;
		}
		mmb_result_init(r);
		r->m[MMB_M_fault_census] = mmb_fault_census(cell->faults);	/* the cell may lower it */
		if (plan->wconf[cell->wi].prog) {
			struct mmb_prog_run pr = {
				.plan = plan, .dir = rc->dir, .refs = rc->prog_refs,
				.stop = &run_interrupted, .tick = run_tick, .tick_arg = rc,
			};

			mmb_prog_run_cell(&pr, cell, r, tlf);
		} else {
			run_cell(rc, cell, r, latf, tlf);
		}
		fclose(latf);
		fclose(tlf);
		if (run_interrupted) {
			r->status[0] = 0;	/* an unfinished cell is not a result */
			free(lat);
			free(tl);
			mmb_memstate_close(&rc->ms, NULL, 0);
			break;
		}
		r->cell = cell->id;
		snprintf(r->allocator, sizeof(r->allocator), "%s", plan->aconf[cell->ai].ops->name);
		snprintf(r->config, sizeof(r->config), "%s", plan->aconf[cell->ai].config);
		snprintf(r->workload, sizeof(r->workload), "%s", plan->wconf[cell->wi].ops->name);
		snprintf(r->params, sizeof(r->params), "%s", plan->wconf[cell->wi].params_text);
		r->threads = cell->threads;
		r->rep = cell->rep;
		r->seed = cell->seed;
		rc->ndone++;
		rc->nran++;
		e = mmb_series_append(rc->dir, "latency.csv", lat, latlen);
		if (!e)
			e = mmb_series_append(rc->dir, "timeline.csv", tl, tllen);
		if (!e)
			e = mmb_memstate_close(&rc->ms, rc->dir, 1);
		else
			mmb_memstate_close(&rc->ms, NULL, 0);
		free(lat);
		free(tl);
		if (!e)
			e = run_write_cells(rc);
		if (!e && cell->faults != MMB_FAULTS_OFF)
			e = run_merge_faults(rc, cell->id);
		if (e) {
			mmb_err("cannot write to %s: %s (the last complete copy of each file is kept; "
				"the row of cell %u, not in cells.csv, follows)", rc->dir, strerror(-e),
				cell->id);
			mmb_csv_write_header(stderr, &rc->xcols);
			mmb_csv_write_row(stderr, r, &rc->xcols);
			status = 1;
			break;
		}
	}
	if (rc->progress)
		fputs("\r\033[K", stderr);
	meta->end = time(NULL);
	meta->cells_done = rc->ndone;
	meta->state = run_interrupted ? "interrupted" : status ? "failed" : "complete";
	e = mmb_meta_write(rc->dir, meta);
	if (e) {
		mmb_err("cannot write %s/meta.json: %s", rc->dir, strerror(-e));
		status = 1;
	}
	if (run_interrupted) {
		mmb_err("interrupted: %u of %u cells finished and kept in %s (mmbench run --resume %s "
			"finishes it)", rc->ndone, plan->ncells, rc->dir, rc->dir);
		status = 130;
	} else {
		if (!plan->quiet)
			run_summary(rc);
		/* a Slurm shard's cells are judged at the merge, all together */
		if (!status && rc->ndone && !rc->only && run_none_ok(rc))
			status = 1;
	}
	printf("%s\n", rc->dir);
	return status;
}

/* Does any cell of the plan run a fault census? */
static int run_any_census(const struct mmb_plan *plan)
{
	for (unsigned i = 0; i < plan->ncells; i++)
		if (plan->cells[i].faults != MMB_FAULTS_OFF)
			return 1;
	return 0;
}

/*
 * Resolve each group's --faults against what this machine can do (each mode
 * probed once; meta fields set) and give every cell its group's mode.
 * Returns 0, or MMB_EXIT_USAGE with the message printed.
 */
static int run_probe_faults(struct mmb_plan *plan, struct mmb_meta *meta,
			    struct mmb_uffd_info *info, char *why, size_t whylen)
{
	int probed[2] = { 0, 0 }, err[2] = { 0, 0 };	/* [0] uffd, [1] sigbus */
	char kwhy[2][512];

	for (unsigned g = 0; g < plan->nfgroups; g++) {
		struct mmb_fault_group *fg = &plan->fgroups[g];
		int k = fg->requested == MMB_FAULTS_SIGBUS;

		if (fg->requested == MMB_FAULTS_OFF)
			continue;
		if (!probed[k]) {
			probed[k] = 1;
			err[k] = mmb_uffd_probe(k ? MMB_FAULTS_SIGBUS : MMB_FAULTS_UFFD, info,
						kwhy[k], sizeof(kwhy[k]));
		}
		if (err[k] && fg->requested != MMB_FAULTS_AUTO) {
			mmb_err("--faults %s (%s): userfaultfd cannot work here: %s (--faults auto "
				"falls back to kernel counts)", mmb_fault_mode_names[fg->requested],
				fg->where, kwhy[k]);
			return MMB_EXIT_USAGE;
		}
		if (err[k]) {
			fg->mode = MMB_FAULTS_OFF;
			snprintf(why, whylen, "%s", kwhy[k]);
			meta->fault_why = why;
		} else {
			fg->mode = fg->requested == MMB_FAULTS_AUTO ? MMB_FAULTS_UFFD : fg->requested;
			meta->fault_info = info;
		}
	}
	for (unsigned i = 0; i < plan->ncells; i++)
		plan->cells[i].faults = plan->fgroups[plan->cells[i].fg].mode;
	return 0;
}

/* faults.csv after --resume: the finished cells' rows, read back. */
static int run_resume_faults(struct run_ctx *rc, const unsigned char *keep)
{
	char path[4200];
	FILE *f;
	int e = mmb_series_keep(rc->dir, "faults.csv", "cell,region,phase,t_ns,faults", keep,
				rc->plan->ncells);

	if (e)
		return e;
	snprintf(path, sizeof(path), "%s/faults.csv", rc->dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	free(rc->faults_csv);
	rc->faults_csv = NULL;
	rc->faults_len = 0;
	if (getdelim(&rc->faults_csv, &rc->faults_len, 0, f) < 0)
		e = -EIO;
	else
		rc->faults_len = strlen(rc->faults_csv);
	fclose(f);
	return e;
}

/* Take a resumed folder's rows as results; each must be the plan's cell. */
static int run_adopt(struct run_ctx *rc, const struct mmb_result *rows, int n, char *err,
		     size_t errlen)
{
	const struct mmb_plan *p = rc->plan;

	for (int i = 0; i < n; i++) {
		const struct mmb_result *r = &rows[i];
		const struct mmb_cell *c;

		if (r->cell < 1 || r->cell > p->ncells)
			goto mismatch;
		c = &p->cells[r->cell - 1];
		if (!strcmp(r->status, MMB_ST_LOST))
			continue;	/* never ran (slurm/merge.c): run it now */
		if (strcmp(r->allocator, p->aconf[c->ai].ops->name) ||
		    strcmp(r->config, p->aconf[c->ai].config) ||
		    strcmp(r->workload, p->wconf[c->wi].ops->name) ||
		    strcmp(r->params, p->wconf[c->wi].params_text) || r->threads != c->threads ||
		    r->rep != c->rep || r->seed != c->seed || !r->status[0] ||
		    rc->results[r->cell - 1].status[0])
			goto mismatch;
		rc->results[r->cell - 1] = *r;
		rc->ndone++;
		continue;
mismatch:
		snprintf(err, errlen, "--resume %.200s: cells.csv row %d (cell %u) is not cell %u of the "
			 "plan in meta.json", rc->dir, i + 1, r->cell, r->cell);
		return -EINVAL;
	}
	return 0;
}

/* The kept cells' clock calibration, so that new cells are timed alike (resume.h). */
static void run_resume_clock(const struct mmb_plan *plan, const struct mmb_resume_meta *rm)
{
	if (rm->tsc_hz > 0)
		mmb_clock_init(rm->tsc_hz, plan->measure.force_monotonic);
	if (!isnan(rm->read_ns))
		mmb_clock.read_ns = rm->read_ns;
	if (!isnan(rm->resolution_ns))
		mmb_clock.resolution_ns = rm->resolution_ns;
}

static int run_resume(int argc, char **argv)
{
	struct mmb_plan plan;
	struct run_ctx rc = { 0 };
	struct mmb_meta meta = { 0 };
	struct mmb_resume_meta rm = { 0 };
	struct mmb_result *rows = NULL;
	unsigned char *keep = NULL;
	char err[4400], path[4200], fault_why[512];
	struct mmb_uffd_info fault_info;
	int n, e, lock = -1;

	if (argc != 3) {
		mmb_err("--resume DIR takes no other option (the plan comes from DIR/meta.json)");
		return MMB_EXIT_USAGE;
	}
	snprintf(rc.dir, sizeof(rc.dir), "%s", argv[2]);
	if (mmb_resume_read(rc.dir, &rm, err, sizeof(err))) {
		mmb_err("%s", err);
		return MMB_EXIT_USAGE;
	}
	e = mmb_plan_parse(rm.argc, rm.argv, &plan, err, sizeof(err));
	if (e) {
		mmb_err("--resume %s: the command line in meta.json does not run here: %s", rc.dir,
			e == 1 ? "--help" : err);
		mmb_resume_meta_free(&rm);
		return MMB_EXIT_USAGE;
	}
	plan.outdir = rc.dir;
	rc.plan = &plan;
	lock = mmb_lock_take(rc.dir, err, sizeof(err));
	if (lock < 0) {
		mmb_err("--resume %s", err);
		e = MMB_EXIT_USAGE;
		goto out;
	}
	run_resume_clock(&plan, &rm);
	e = run_probe_faults(&plan, &meta, &fault_info, fault_why, sizeof(fault_why));
	if (e)
		goto out;
	mmb_measure_xcols(&plan.measure, &rc.xcols);
	mmb_prog_xcols(&plan, &rc.xcols);
	rc.results = calloc(plan.ncells, sizeof(*rc.results));
	keep = calloc(plan.ncells, 1);
	if (!rc.results || !keep) {
		mmb_err("out of memory for %u cells", plan.ncells);
		e = 1;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/cells.csv", rc.dir);
	n = mmb_csv_read(path, &rows, err, sizeof(err));
	if (n == -ENOENT) {
		n = 0;
	} else if (n < 0) {
		mmb_err("--resume: %s", err);
		e = MMB_EXIT_USAGE;
		goto out;
	}
	if (run_adopt(&rc, rows, n, err, sizeof(err))) {
		mmb_err("%s", err);
		e = MMB_EXIT_USAGE;
		goto out;
	}
	if (rc.ndone == plan.ncells) {	/* nothing to run: the folder stays as it is */
		if (!plan.quiet)
			run_summary(&rc);
		printf("nothing to resume: all %u cells of %s have a result\n%s\n", plan.ncells,
		       rc.dir, rc.dir);
		e = run_none_ok(&rc);
		goto out;
	}
	for (unsigned i = 0; i < plan.ncells; i++)
		keep[i] = rc.results[i].status[0] != 0;
	rc.prog_refs = mmb_prog_refs(&plan, rc.results);
	if (!rc.prog_refs) {
		mmb_err("out of memory");
		e = 1;
		goto out;
	}
	meta.argc = rm.argc;
	meta.argv = rm.argv;
	meta.plan = &plan;
	meta.start = rm.start ? rm.start : time(NULL);	/* the run's, not this resumption's */
	meta.state = "running";
	meta.cells_done = rc.ndone;
	meta.resumed = 1;
	e = mmb_series_keep(rc.dir, "latency.csv", MMB_LATENCY_HEADER, keep, plan.ncells);
	if (!e)
		e = mmb_series_keep(rc.dir, "timeline.csv", MMB_TL_HEADER, keep, plan.ncells);
	if (!e)
		e = mmb_memstate_keep(rc.dir, keep, plan.ncells);
	if (!e && run_any_census(&plan))
		e = run_resume_faults(&rc, keep);
	if (!e)
		e = run_write_cells(&rc);
	if (!e)
		e = mmb_meta_write(rc.dir, &meta);
	if (e) {
		mmb_err("--resume: cannot write to %s: %s", rc.dir, strerror(-e));
		e = 1;
		goto out;
	}
	e = run_cells(&rc, &meta);
out:
	mmb_lock_release(rc.dir, lock);
	free(rows);
	free(keep);
	free(rc.prog_refs);
	free(rc.results);
	free(rc.faults_csv);
	mmb_plan_free(&plan);
	mmb_resume_meta_free(&rm);
	return e;
}

/* A new results folder for plan (argv: its command line, for meta.json);
 * only the cells `only` marks run when it is not NULL (none: the folder is
 * made and no cell runs). The plan's fault modes are resolved in place; the
 * caller frees it. r_dir (may be NULL) gets the folder's path. */
static int run_fresh(struct mmb_plan *plan, int argc, char **argv, const unsigned char *only,
		     char *r_dir, size_t dirlen)
{
	unsigned nonly = 0;

	struct run_ctx rc = { 0 };
	struct mmb_meta meta = { 0 };
	char err[4400], fault_why[512];
	struct mmb_uffd_info fault_info;
	int created, e, lock = -1;

	e = run_probe_faults(plan, &meta, &fault_info, fault_why, sizeof(fault_why));
	if (e)
		return e;
	/* Past a file size limit (RLIMIT_FSIZE) a write must fail with EFBIG
	 * like any full disk, not kill the run in the middle of a file. */
	signal(SIGXFSZ, SIG_IGN);
	rc.plan = plan;
	rc.only = only;
	mmb_measure_xcols(&plan->measure, &rc.xcols);
	mmb_prog_xcols(plan, &rc.xcols);
	rc.results = calloc(plan->ncells, sizeof(*rc.results));
	rc.prog_refs = rc.results ? mmb_prog_refs(plan, rc.results) : NULL;
	if (!rc.results || !rc.prog_refs) {
		mmb_err("out of memory for %u cells", plan->ncells);
		free(rc.results);
		free(rc.prog_refs);
		return 1;
	}
	e = run_make_dir(plan, rc.dir, sizeof(rc.dir), &created);
	if (e)
		goto out;
	lock = mmb_lock_take(rc.dir, err, sizeof(err));
	if (lock < 0) {
		mmb_err("%s", err);
		if (created)
			rmdir(rc.dir);
		e = MMB_EXIT_USAGE;
		goto out;
	}
	meta.argc = argc;
	meta.argv = argv;
	meta.plan = plan;
	meta.start = time(NULL);
	meta.state = "running";
	e = mmb_meta_write(rc.dir, &meta);
	if (!e)
		e = mmb_series_create(rc.dir, "latency.csv", MMB_LATENCY_HEADER);
	if (!e)
		e = mmb_series_create(rc.dir, "timeline.csv", MMB_TL_HEADER);
	if (!e)
		e = mmb_memstate_create(rc.dir);
	if (!e)
		e = run_write_cells(&rc);
	if (!e && run_any_census(plan)) {
		static const char header[] = "cell,region,phase,t_ns,faults\n";

		rc.faults_csv = strdup(header);
		rc.faults_len = sizeof(header) - 1;
		e = rc.faults_csv ? run_write_faults(&rc) : -ENOMEM;
	}
	if (e) {
		static const char *const files[] = { "meta.json", "latency.csv", "timeline.csv",
						     MMB_FRAG_ORDERS_CSV, MMB_SIZE_CLASSES_CSV,
						     "cells.csv", "faults.csv" };
		char path[4200];

		mmb_err("cannot write to results folder %s: %s", rc.dir, strerror(-e));
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", rc.dir, files[i]);
			unlink(path);
		}
		mmb_lock_release(rc.dir, lock);
		lock = -1;
		if (created)
			rmdir(rc.dir);
		e = MMB_EXIT_USAGE;
		goto out;
	}
	if (r_dir)
		snprintf(r_dir, dirlen, "%s", rc.dir);
	for (unsigned i = 0; only && i < plan->ncells; i++)
		nonly += only[i];
	if (!only || nonly)
		e = run_cells(&rc, &meta);
out:
	free(rc.prog_refs);
	mmb_lock_release(rc.dir, lock);
	free(rc.results);
	free(rc.faults_csv);
	return e;
}

int mmb_run_subset(struct mmb_plan *plan, int argc, char **argv, const unsigned char *only,
		   char *r_dir, size_t dirlen)
{
	return run_fresh(plan, argc, argv, only, r_dir, dirlen);
}

void mmb_run_summary(const char *dir)
{
	run_summary_dir(dir);
}

int mmb_run_main(int argc, char **argv)
{
	struct mmb_plan plan;
	char err[1024];
	int e;

	if (mmb_slurm_requested(argc, argv))
		return mmb_submit_main(argc, argv);
	run_catch_signals();
	if (argc >= 2 && !strcmp(argv[1], "--resume"))
		return run_resume(argc, argv);
	e = mmb_plan_parse(argc, argv, &plan, err, sizeof(err));
	if (e == 1)
		return 0;
	if (e) {
		mmb_err("%s", err);
		return MMB_EXIT_USAGE;
	}
	e = run_fresh(&plan, argc, argv, NULL, NULL, 0);
	mmb_plan_free(&plan);
	return e;
}

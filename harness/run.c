/*
 * run.c — the parent side of `mmbench run` (run.h).
 *
 * Files: DIR/meta.json and DIR/cells.csv are replaced atomically (util.h),
 * cells.csv after every finished cell, so an interrupted run keeps every
 * finished cell and no reader ever sees half a file.
 *
 * Faults: with --faults, each cell writes its fault timeline to
 * DIR/state/<cell>/faults_timeline.csv; after the cell, its rows are moved
 * into DIR/faults.csv (cell,region,phase,t_ns,faults), which is replaced
 * atomically like cells.csv. --faults uffd|sigbus that cannot work here is
 * bad usage (exit 2 before any cell); --faults auto falls back to kernel
 * counts only and meta.json says why.
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

#include "meta.h"
#include "plan.h"
#include "results.h"
#include "util.h"

static volatile sig_atomic_t run_interrupted;

static void run_on_signal(int sig)
{
	run_interrupted = sig;
}

struct run_ctx {
	const struct mmb_plan *plan;
	struct mmb_result *results;	/* one per cell, in cell order */
	unsigned ndone;
	char dir[4096];
	char *faults_csv;		/* DIR/faults.csv rows so far, header included */
	size_t faults_len;
};

static int cells_emit(FILE *f, void *arg)
{
	const struct run_ctx *rc = arg;
	int err = mmb_csv_write_header(f);

	for (unsigned i = 0; !err && i < rc->plan->ncells; i++)
		if (rc->results[i].status[0])
			err = mmb_csv_write_row(f, &rc->results[i]);
	return err;
}

static int run_write_cells(struct run_ctx *rc)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/cells.csv", rc->dir);
	return mmb_write_atomic(path, cells_emit, rc);
}

/* Parse the child's record into r. Returns 1 if it ended with "end". */
static int run_parse_record(char *buf, struct mmb_result *r)
{
	int complete = 0;

	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "status ", 7) == 0) {
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

/* Run one cell in a child process and fill r. */
static void run_cell(const struct mmb_plan *p, const struct mmb_cell *cell, const char *dir,
		     struct mmb_result *r)
{
	const struct mmb_aconf *ac = &p->aconf[cell->ai];
	const struct mmb_wconf *wc = &p->wconf[cell->wi];
	char threads[16], seed[32], limit[64], state_dir[4200], fcpu[16], flog[16];
	char *argv[32];
	int argc = 0, fds[2], wstatus = 0;
	struct rusage ru;
	char buf[16384];
	size_t used = 0;
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
	argv[argc++] = "--result-fd";
	argv[argc++] = "3";
	if (p->dump_state) {
		argv[argc++] = "--state-dir";
		argv[argc++] = state_dir;
	}
	if (p->check)
		argv[argc++] = "--check";
	if (p->faults != MMB_FAULTS_OFF) {
		argv[argc++] = "--faults";
		argv[argc++] = (char *)mmb_fault_mode_names[p->faults];
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
		n = poll(&pfd, 1, (int)((deadline - now) / 1000000 + 1));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		ssize_t got = read(fds[0], buf + used, sizeof(buf) - 1 - used);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		used += (size_t)got;
		if (used == sizeof(buf) - 1)
			break;
	}
	if (timed_out || run_interrupted) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	close(fds[0]);
	while (wait4(pid, &wstatus, 0, &ru) < 0 && errno == EINTR)
		;
	buf[used] = 0;

	int complete = run_parse_record(buf, r);

	r->m[MMB_M_rss_peak_bytes] = (double)ru.ru_maxrss * 1024.0;
	r->m[MMB_M_minflt] = (double)ru.ru_minflt;
	r->m[MMB_M_majflt] = (double)ru.ru_majflt;
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

static void run_progress(const struct run_ctx *rc, const struct mmb_cell *cell, uint64_t t0)
{
	const struct mmb_plan *p = rc->plan;
	double elapsed = (double)(mmb_now_ns() - t0) / 1e9;
	double eta = rc->ndone ? elapsed / rc->ndone * (p->ncells - rc->ndone) : NAN;
	char eta_s[32] = "?";

	if (!isnan(eta))
		snprintf(eta_s, sizeof(eta_s), "%.0fs", eta);
	fprintf(stderr, "\r\033[K[%u/%u] %s %s t=%u rep %u, about %s left", rc->ndone + 1, p->ncells,
		p->aconf[cell->ai].spec, p->wconf[cell->wi].ops->name, cell->threads, cell->rep, eta_s);
	fflush(stderr);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(double *v, unsigned n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One line per (allocator config, workload config, threads): medians over reps. */
static void run_summary(const struct run_ctx *rc)
{
	const struct mmb_plan *p = rc->plan;
	double *ops = calloc(p->reps, sizeof(double)), *fp = calloc(p->reps, sizeof(double));

	if (!ops || !fp)
		goto out;
	printf("%-28s %-16s %7s %8s %14s %16s\n", "allocator", "workload", "threads", "ok/reps",
	       "ops/s (median)", "footprint peak");
	for (unsigned w = 0; w < p->nwconf; w++)
		for (unsigned t = 0; t < p->nthreads; t++)
			for (unsigned a = 0; a < p->naconf; a++) {
				unsigned nok = 0, nfp = 0, nrun = 0;
				char fps[32] = "-", opss[32] = "-";

				for (unsigned i = 0; i < p->ncells; i++) {
					const struct mmb_cell *c = &p->cells[i];
					const struct mmb_result *r = &rc->results[i];

					if (c->ai != a || c->wi != w || c->threads != p->threads[t] ||
					    !r->status[0])
						continue;
					nrun++;
					if (strcmp(r->status, MMB_ST_OK))
						continue;
					ops[nok++] = r->m[MMB_M_ops_per_sec];
					if (!isnan(r->m[MMB_M_footprint_peak_bytes]))
						fp[nfp++] = r->m[MMB_M_footprint_peak_bytes];
				}
				if (!nrun)
					continue;	/* not a cell of this plan (suites), or not run */
				if (nok)
					snprintf(opss, sizeof(opss), "%.4g", median_of(ops, nok));
				if (nfp)
					snprintf(fps, sizeof(fps), "%.0f KiB", median_of(fp, nfp) / 1024);
				char ok[32];

				snprintf(ok, sizeof(ok), "%u/%u", nok, nrun);
				printf("%-28.28s %-16.16s %7u %8s %14s %16s\n", p->aconf[a].spec,
				       p->wconf[w].ops->name, p->threads[t], ok, opss, fps);
			}
out:
	free(ops);
	free(fp);
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

int mmb_run_main(int argc, char **argv)
{
	struct mmb_plan plan;
	struct run_ctx rc = { 0 };
	struct mmb_meta meta = { 0 };
	struct sigaction sa = { 0 };
	char err[1024], fault_why[512];
	struct mmb_uffd_info fault_info;
	int created, status = 0, e;
	uint64_t t0;

	e = mmb_plan_parse(argc, argv, &plan, err, sizeof(err));
	if (e == 1)
		return 0;
	if (e) {
		mmb_err("%s", err);
		return MMB_EXIT_USAGE;
	}
	meta.faults_requested = plan.faults;
	if (plan.faults != MMB_FAULTS_OFF) {
		e = mmb_uffd_probe(plan.faults == MMB_FAULTS_SIGBUS ? MMB_FAULTS_SIGBUS : MMB_FAULTS_UFFD,
				   &fault_info, fault_why, sizeof(fault_why));
		if (e && plan.faults != MMB_FAULTS_AUTO) {
			mmb_err("--faults %s: userfaultfd cannot work here: %s (--faults auto falls "
				"back to kernel counts)", mmb_fault_mode_names[plan.faults], fault_why);
			mmb_plan_free(&plan);
			return MMB_EXIT_USAGE;
		}
		if (e) {
			plan.faults = MMB_FAULTS_OFF;
			meta.fault_why = fault_why;
		} else {
			if (plan.faults == MMB_FAULTS_AUTO)
				plan.faults = MMB_FAULTS_UFFD;
			meta.fault_info = &fault_info;
		}
	}
	/* Past a file size limit (RLIMIT_FSIZE) a write must fail with EFBIG
	 * like any full disk, not kill the run in the middle of a file. */
	signal(SIGXFSZ, SIG_IGN);
	rc.plan = &plan;
	rc.results = calloc(plan.ncells, sizeof(*rc.results));
	if (!rc.results) {
		mmb_err("out of memory for %u cells", plan.ncells);
		mmb_plan_free(&plan);
		return 1;
	}
	e = run_make_dir(&plan, rc.dir, sizeof(rc.dir), &created);
	if (e)
		goto out;
	meta.argc = argc;
	meta.argv = argv;
	meta.plan = &plan;
	meta.start = time(NULL);
	meta.state = "running";
	e = mmb_meta_write(rc.dir, &meta);
	if (!e)
		e = run_write_cells(&rc);
	if (!e && plan.faults != MMB_FAULTS_OFF) {
		static const char header[] = "cell,region,phase,t_ns,faults\n";

		rc.faults_csv = strdup(header);
		rc.faults_len = sizeof(header) - 1;
		e = rc.faults_csv ? run_write_faults(&rc) : -ENOMEM;
	}
	if (e) {
		char path[4200];

		mmb_err("cannot write to results folder %s: %s", rc.dir, strerror(-e));
		snprintf(path, sizeof(path), "%s/meta.json", rc.dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/cells.csv", rc.dir);
		unlink(path);
		if (created)
			rmdir(rc.dir);
		e = MMB_EXIT_USAGE;
		goto out;
	}

	sa.sa_handler = run_on_signal;	/* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int progress = !plan.quiet && isatty(2);

	t0 = mmb_now_ns();
	for (unsigned i = 0; i < plan.ncells && !run_interrupted; i++) {
		const struct mmb_cell *cell = &plan.cells[i];
		struct mmb_result *r = &rc.results[i];

		if (progress)
			run_progress(&rc, cell, t0);
		mmb_result_init(r);
		run_cell(&plan, cell, rc.dir, r);
		if (run_interrupted) {
			r->status[0] = 0;	/* an unfinished cell is not a result */
			break;
		}
		r->cell = cell->id;
		snprintf(r->allocator, sizeof(r->allocator), "%s", plan.aconf[cell->ai].ops->name);
		snprintf(r->config, sizeof(r->config), "%s", plan.aconf[cell->ai].config);
		snprintf(r->workload, sizeof(r->workload), "%s", plan.wconf[cell->wi].ops->name);
		snprintf(r->params, sizeof(r->params), "%s", plan.wconf[cell->wi].params_text);
		r->threads = cell->threads;
		r->rep = cell->rep;
		r->seed = cell->seed;
		rc.ndone++;
		e = run_write_cells(&rc);
		if (e) {
			mmb_err("cannot write %s/cells.csv: %s (the last complete copy is kept; the row "
				"of cell %u, not in it, follows)", rc.dir, strerror(-e), cell->id);
			mmb_csv_write_header(stderr);
			mmb_csv_write_row(stderr, r);
			status = 1;
			break;
		}
		if (plan.faults != MMB_FAULTS_OFF)
			e = run_merge_faults(&rc, cell->id);
		if (e) {
			mmb_err("cannot write %s/faults.csv: %s (the last complete copy is kept)", rc.dir,
				strerror(-e));
			status = 1;
			break;
		}
	}
	if (progress)
		fputs("\r\033[K", stderr);
	meta.end = time(NULL);
	meta.cells_done = rc.ndone;
	meta.state = run_interrupted ? "interrupted" : status ? "failed" : "complete";
	e = mmb_meta_write(rc.dir, &meta);
	if (e) {
		mmb_err("cannot write %s/meta.json: %s", rc.dir, strerror(-e));
		status = 1;
	}
	if (run_interrupted) {
		mmb_err("interrupted: %u of %u cells finished and kept in %s", rc.ndone, plan.ncells,
			rc.dir);
		status = 130;
	} else if (!plan.quiet) {
		run_summary(&rc);
	}
	printf("%s\n", rc.dir);
	e = status;
out:
	free(rc.faults_csv);
	free(rc.results);
	mmb_plan_free(&plan);
	return e;
}

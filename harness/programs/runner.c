/*
 * runner.c — one program cell (runner.h).
 *
 * Process model: fork; the child puts itself in its own process group,
 * wires stdin/stdout/stderr, sets the allocator's environment and waits on
 * a gate pipe until the parent has opened the counters on its pid, then
 * execs. A second pipe (close-on-exec) tells the parent the exec happened
 * (EOF) or failed (the child writes its errno). The parent then loops:
 * drain stdout into the hash, sample RSS when due, reap with WNOHANG,
 * tick, check the deadline and the stop flag. Time zero (t_ns 0, wall_ns)
 * is the exec.
 *
 * Surprise: the RSS series is the program's own process (/proc/PID/statm),
 * not its children's; wait4's maxrss is the largest of the process and the
 * children it waited for (the kernel's rule). When the program exits, what
 * it left running in its process group (a daemonized child) is killed
 * before it is reaped, so no cell leaves a process behind.
 */
#include "runner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../perf.h"
#include "../shimspec.h"
#include "../timeline.h"
#include "../util.h"
#include "launch.h"
#include "program.h"

#define FNV_OFF 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define CHECKSUM_MASK ((UINT64_C(1) << 48) - 1)

static const char *const redis_fields[] = {
	"mem_fragmentation_ratio", "allocator_frag_ratio", "allocator_rss_ratio", "used_memory",
	"used_memory_rss", "used_memory_peak",
};
#define NREDIS (sizeof(redis_fields) / sizeof(redis_fields[0]))

/* "hw_" + event with every non-alphanumeric character as '_' (MMB_XCOL_NAME bytes). */
static void runner_hw_col(const char *event, char *col)
{
	size_t k = (size_t)snprintf(col, MMB_XCOL_NAME, "hw_");

	for (; *event && k + 1 < MMB_XCOL_NAME; event++)
		col[k++] = (char)((*event >= 'a' && *event <= 'z') || (*event >= 'A' && *event <= 'Z') ||
				  (*event >= '0' && *event <= '9') ? *event : '_');
	col[k] = 0;
}

int mmb_prog_any(const struct mmb_plan *plan)
{
	for (unsigned i = 0; i < plan->nwconf; i++)
		if (plan->wconf[i].prog)
			return 1;
	return 0;
}

void mmb_prog_xcols(const struct mmb_plan *plan, struct mmb_xcols *xc)
{
	int redis = 0;

	if (!mmb_prog_any(plan))
		return;
	for (unsigned i = 0; i < plan->measure.hw.n && xc->n < MMB_XCOL_MAX; i++)
		runner_hw_col(plan->measure.hw.name[i], xc->name[xc->n++]);
	for (unsigned i = 0; i < plan->nwconf; i++)
		if (plan->wconf[i].prog && plan->wconf[i].prog->info == MMB_INFO_REDIS)
			redis = 1;
	for (size_t i = 0; redis && i < NREDIS && xc->n < MMB_XCOL_MAX; i++)
		snprintf(xc->name[xc->n++], MMB_XCOL_NAME, "redis_%s", redis_fields[i]);
}

struct mmb_prog_ref *mmb_prog_refs(const struct mmb_plan *plan, const struct mmb_result *results)
{
	struct mmb_prog_ref *refs = calloc(plan->nwconf ? plan->nwconf : 1, sizeof(*refs));

	for (unsigned i = 0; refs && i < plan->ncells; i++) {
		const struct mmb_result *r = &results[i];
		struct mmb_prog_ref *ref = &refs[plan->cells[i].wi];

		if (!plan->wconf[plan->cells[i].wi].prog || ref->have || strcmp(r->status, MMB_ST_OK) ||
		    isnan(r->m[MMB_M_output_checksum]))
			continue;
		ref->have = 1;
		ref->checksum = (uint64_t)r->m[MMB_M_output_checksum];
		ref->bytes = (uint64_t)r->m[MMB_M_output_bytes];
		ref->cell = plan->cells[i].id;
	}
	return refs;
}

/* ---- inputs, ports, files ---- */

/* stdin=gen:lines:N: N lines of 1..8 pseudo-random words, the same for every
 * cell of the run (seeded by the plan's base seed). */
static int runner_gen_lines(const char *path, uint64_t n, uint64_t seed)
{
	static const char *const words[] = { "alpha", "bravo", "charlie", "delta", "echo",
					     "foxtrot", "golf", "hotel", "india", "juliet",
					     "kilo", "lima", "mike", "november", "oscar", "papa" };
	FILE *f = fopen(path, "w");
	uint64_t x = seed ^ 0x9e3779b97f4a7c15ULL;

	if (!f)
		return -errno;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = mmb_splitmix64(&x);
		unsigned nw = 1 + (unsigned)(r & 7);

		fprintf(f, "%" PRIu64, (r >> 3) % UINT64_C(1000000007));
		for (unsigned w = 0; w < nw; w++)
			fprintf(f, " %s", words[(r >> (8 + 4 * w)) & 15]);
		fputc('\n', f);
	}
	return fclose(f) ? -EIO : 0;
}

/* A loopback TCP port free now ({port}). 0 when none could be had. */
static unsigned runner_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned port = 0;

	if (fd < 0)
		return 0;
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int runner_connect(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* FNV-1a of a file and its size. 0 or -errno. */
static int runner_hash_file(const char *path, uint64_t *r_hash, uint64_t *r_bytes)
{
	unsigned char buf[65536];
	uint64_t h = FNV_OFF, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return -errno;
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < got; i++)
			h = (h ^ buf[i]) * FNV_PRIME;
		n += (uint64_t)got;
	}
	close(fd);
	*r_hash = h & CHECKSUM_MASK;
	*r_bytes = n;
	return got < 0 ? -EIO : 0;
}

/* Resident bytes of pid from its statm fd, or -1. */
static double runner_rss(int fd)
{
	char buf[128];
	unsigned long long size, res;
	ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;

	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu", &size, &res) != 2)
		return -1;
	return (double)res * (double)sysconf(_SC_PAGESIZE);
}

/* The last library in pid's LD_PRELOAD (the allocator's: launch.h appends
 * it), resolved, into buf; "" when it has none. */
static void runner_preload_of(pid_t pid, char *buf, size_t len)
{
	char path[64], env[65536], real[PATH_MAX], *last;
	ssize_t n;
	int fd;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, env, sizeof(env) - 1);
	close(fd);
	if (n <= 0)
		return;
	env[n] = 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1) {
		if (strncmp(env + i, "LD_PRELOAD=", 11))
			continue;
		last = env + i + 11 + strlen(env + i + 11);
		while (last > env + i + 11 && last[-1] != ':' && last[-1] != ' ')
			last--;
		if (*last && realpath(last, real))
			snprintf(buf, len, "%s", real);
	}
}

/* Is file mapped in pid? */
static int runner_mapped(pid_t pid, const char *file)
{
	char path[64], line[4600];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *slash = strchr(line, '/');

		if (slash) {
			slash[strcspn(slash, "\n")] = 0;
			found = !strcmp(slash, file);
		}
	}
	fclose(f);
	return found;
}

/* Substitute every word of src into dst[] (strings in store). */
static int runner_argv(const struct mmb_prog *p, char *const *src, unsigned port,
		       const char *stdin_path, char **dst, char *store, size_t len)
{
	size_t off = 0;
	int n = 0;

	for (; src[n]; n++) {
		if (mmb_prog_subst(p, src[n], port, stdin_path, store + off, len - off))
			return -ENAMETOOLONG;
		dst[n] = store + off;
		off += strlen(store + off) + 1;
	}
	dst[n] = NULL;
	return 0;
}

/* ---- the child ---- */

struct runner_child {
	const char *path;
	char **argv;
	const char *cwd;
	int in_fd, out_fd, err_fd;
	const struct mmb_aconf *ac;	/* NULL: plain environment (a driver) */
	const char *shim_lib, *shim_out;
	int gate, report;		/* read end; write end (close-on-exec) */
};

static void runner_exec(const struct runner_child *c)
{
	char b;
	int e;

	setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(c->in_fd, 0) < 0 || dup2(c->out_fd, 1) < 0 || dup2(c->err_fd, 2) < 0)
		goto fail;
	if (c->cwd[0] && chdir(c->cwd))
		goto fail;
	if (c->ac)
		mmb_launch_env(c->ac, c->shim_lib, c->shim_out);
	if (c->gate >= 0)
		while (read(c->gate, &b, 1) < 0 && errno == EINTR)
			;
	execv(c->path, c->argv);
fail:
	e = errno;
	if (write(c->report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* Fork and exec c; counters on the child before its exec when ev/fds.
 * Returns the pid (exec done) or -errno (*r_why says what failed). */
static pid_t runner_spawn(struct runner_child *c, const struct mmb_perf_events *const *ev,
			  unsigned nev, int fds[][MMB_PERF_MAX_EVENTS],
			  char why[][MMB_PERF_MAX_EVENTS][96], const char **r_why)
{
	int gate[2], report[2], e = 0;
	pid_t pid;
	ssize_t got;

	if (pipe2(gate, O_CLOEXEC))
		return -errno;
	if (pipe2(report, O_CLOEXEC)) {
		e = -errno;
		close(gate[0]);
		close(gate[1]);
		return e;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		e = -errno;
		goto out;
	}
	if (pid == 0) {
		close(gate[1]);
		close(report[0]);
		c->gate = gate[0];
		c->report = report[1];
		runner_exec(c);
	}
	setpgid(pid, pid);
	for (unsigned s = 0; s < nev; s++)
		for (unsigned i = 0; i < ev[s]->n; i++) {
			struct perf_event_attr attr = ev[s]->attr[i];
			long fd;

			attr.disabled = 1;
			attr.enable_on_exec = 1;
			attr.inherit = 1;
			attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
					   PERF_FORMAT_TOTAL_TIME_RUNNING;
			fd = syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
			if (fd < 0 && errno == EACCES && !attr.exclude_kernel) {
				attr.exclude_kernel = 1;
				fd = syscall(SYS_perf_event_open, &attr, pid, -1, -1,
					     PERF_FLAG_FD_CLOEXEC);
			}
			fds[s][i] = fd < 0 ? -1 : (int)fd;
			if (fd < 0)
				snprintf(why[s][i], sizeof(why[s][i]), "%s", strerror(errno));
		}
	close(gate[1]);
	gate[1] = -1;
	close(report[1]);
	report[1] = -1;
	while ((got = read(report[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof(e)) {
		int st;

		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		*r_why = "exec";
		e = -e;
		goto out;
	}
	e = pid;
out:
	close(gate[0]);
	if (gate[1] >= 0)
		close(gate[1]);
	close(report[0]);
	if (report[1] >= 0)
		close(report[1]);
	return e;
}

/* Scaled value of one counter, or NaN. */
static double runner_counter(int fd)
{
	uint64_t v[3];

	if (fd < 0 || read(fd, v, sizeof(v)) != (ssize_t)sizeof(v) || !v[2])
		return NAN;
	return (double)v[0] * ((double)v[1] / (double)v[2]);
}

/* ---- redis INFO ---- */

static void runner_redis_info(unsigned port, const char *state, struct mmb_result *r)
{
	char buf[65536], path[4300];
	size_t used = 0;
	int fd = runner_connect(port);
	static const char cmd[] = "INFO memory\r\n";
	FILE *f;

	if (fd < 0)
		return;
	if (write(fd, cmd, sizeof(cmd) - 1) == (ssize_t)(sizeof(cmd) - 1)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		while (used < sizeof(buf) - 1 && poll(&pfd, 1, 2000) > 0) {
			ssize_t got = read(fd, buf + used, sizeof(buf) - 1 - used);

			if (got <= 0)
				break;
			used += (size_t)got;
			buf[used] = 0;
			if (strstr(buf, "mem_allocator:"))	/* the section's last field */
				break;
		}
	}
	close(fd);
	buf[used] = 0;
	snprintf(path, sizeof(path), "%s/redis_info.txt", state);
	f = fopen(path, "w");
	if (f) {
		fputs(buf, f);
		fclose(f);
	}
	for (size_t i = 0; i < NREDIS; i++) {
		char key[80], col[MMB_XCOL_NAME];
		const char *at;

		snprintf(key, sizeof(key), "\n%s:", redis_fields[i]);
		at = strstr(buf, key);
		if (!at)
			continue;
		snprintf(col, sizeof(col), "redis_%s", redis_fields[i]);
		mmb_result_set_x(r, col, strtod(at + strlen(key), NULL), 0);
	}
}

/* ---- the cell ---- */

static void runner_fail(struct mmb_result *r, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void runner_fail(struct mmb_result *r, const char *status, const char *fmt, ...)
{
	va_list ap;

	snprintf(r->status, sizeof(r->status), "%s", status);
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

/* The shim's figures, where it ran (malloc.json in the state folder). */
static void runner_shim_figures(const char *state, struct mmb_result *r)
{
	char path[4300], why[2 * MMB_ERR_MAX];

	snprintf(path, sizeof(path), "%s/malloc.json", state);
	if (access(path, F_OK))
		return;
	r->m[MMB_M_failed_allocs] = (double)mmb_shim_failures(state, why, sizeof(why));
}

/* A cell that is not ok and saw the shim refuse memory says so first: the
 * program's own message ("Out of memory!") names no cause. */
static void runner_shim_blame(const char *state, struct mmb_result *r)
{
	char why[2 * MMB_ERR_MAX], all[sizeof(why) + sizeof(r->detail) + 64];
	unsigned long long n = mmb_shim_failures(state, why, sizeof(why));

	if (!n)
		return;
	snprintf(all, sizeof(all), "%s after %llu failed allocation%s (malloc.json): %s", r->detail,
		 n, n == 1 ? "" : "s", why[0] ? why : "no reason written");
	snprintf(r->detail, sizeof(r->detail), "%.*s", (int)sizeof(r->detail) - 1, all);
}

static void runner_tv(double *dst, const struct timeval *tv)
{
	*dst = (double)tv->tv_sec * 1e9 + (double)tv->tv_usec * 1e3;
}

/* How a program cell ended, for runner_figures and runner_verdict. */
struct runner_end {
	const struct mmb_plan *plan;
	const struct mmb_aconf *ac;
	const struct mmb_prog *p;
	const char *state;		/* DIR/state/<cell> */
	unsigned cell, port, nsamples;
	int wst;			/* wait status */
	struct rusage ru;
	uint64_t t0, t_end, hash, bytes;
	double rss_last;
	int timed_out, term_sent, drv_ready, drv_status;
	int lib_state;			/* 0 no LD_PRELOAD read, 1 never seen mapped, 2 seen */
	const char *lib;
	int (*fds)[MMB_PERF_MAX_EVENTS];	/* [0] hw, [1] sw counters */
};

/* The cell's columns. */
static void runner_figures(const struct runner_end *e, struct mmb_result *r)
{
	r->m[MMB_M_wall_ns] = (double)(e->t_end - e->t0);
	runner_tv(&r->m[MMB_M_cpu_user_ns], &e->ru.ru_utime);
	runner_tv(&r->m[MMB_M_cpu_sys_ns], &e->ru.ru_stime);
	r->m[MMB_M_rss_peak_bytes] = (double)e->ru.ru_maxrss * 1024.0;
	r->m[MMB_M_footprint_peak_bytes] = (double)e->ru.ru_maxrss * 1024.0;
	r->m[MMB_M_minflt] = (double)e->ru.ru_minflt;
	r->m[MMB_M_majflt] = (double)e->ru.ru_majflt;
	r->m[MMB_M_rss_exit_bytes] = e->rss_last;
	if (e->t_end > e->t0 && e->nsamples)
		r->m[MMB_M_rss_samples_per_s] = e->nsamples / ((double)(e->t_end - e->t0) / 1e9);
	r->m[MMB_M_output_bytes] = (double)e->bytes;
	r->m[MMB_M_output_checksum] = (double)(e->hash & CHECKSUM_MASK);
	r->m[MMB_M_fault_census] = 0;
	if (WIFEXITED(e->wst))
		r->m[MMB_M_exit_status] = WEXITSTATUS(e->wst);
	for (unsigned i = 0; i < e->plan->measure.hw.n && i < MMB_PERF_MAX_EVENTS; i++) {
		char col[MMB_XCOL_NAME];

		runner_hw_col(e->plan->measure.hw.name[i], col);
		mmb_result_set_x(r, col, runner_counter(e->fds[0][i]), e->fds[0][i] < 0);
		/* the per-op columns have no meaning for a program */
		mmb_result_set_x(r, e->plan->measure.hw.col[i], NAN, e->fds[0][i] < 0);
	}
	for (unsigned i = 0; i < e->plan->measure.sw.n && i < MMB_PERF_MAX_EVENTS; i++) {
		static const enum mmb_metric_id sw_col[] = { MMB_M_sw_task_clock, MMB_M_sw_page_faults,
							     MMB_M_sw_context_switches,
							     MMB_M_sw_cpu_migrations };
		const char *n = e->plan->measure.sw.name[i];
		int k = !strcmp(n, "task-clock") ? 0 : !strcmp(n, "page-faults") ? 1 :
			!strcmp(n, "context-switches") ? 2 : !strcmp(n, "cpu-migrations") ? 3 : -1;

		if (k >= 0)
			r->m[sw_col[k]] = runner_counter(e->fds[1][i]);
	}
	if (e->ac->shim_alloc[0])
		runner_shim_figures(e->state, r);
}

/* The cell's status: ok unless the program did not do what it should;
 * the first ok output of an expect=first program becomes the reference. */
static void runner_verdict(const struct runner_end *e, struct mmb_prog_ref *ref,
			   struct mmb_result *r)
{
	snprintf(r->status, sizeof(r->status), MMB_ST_OK);
	if (e->timed_out) {
		runner_fail(r, MMB_ST_TIMEOUT, "killed after %gs (--cell-timeout)",
			    e->plan->cell_timeout_s);
	} else if (WIFSIGNALED(e->wst) && !(e->term_sent && WTERMSIG(e->wst) == SIGTERM &&
					    e->p->exit_status == 128 + SIGTERM)) {
		const char *ab = sigabbrev_np(WTERMSIG(e->wst));

		runner_fail(r, MMB_ST_CRASHED, "killed by signal %d (SIG%s)%s", WTERMSIG(e->wst),
			    ab ? ab : "?", e->term_sent ? " after the driver ended" : "");
	} else if (e->lib_state == 1 && e->nsamples >= 3) {
		runner_fail(r, MMB_ST_FAILED, "%.120s was never mapped in the program (statically "
			    "linked, or it ignores LD_PRELOAD): its malloc was not the allocator's",
			    e->lib);
	} else if (e->p->driver[0] && !e->drv_ready) {
		runner_fail(r, MMB_ST_FAILED, "exited with status %d before accepting connections on "
			    "127.0.0.1:%u", WEXITSTATUS(e->wst), e->port);
	} else if (e->p->driver[0] && e->drv_status) {
		runner_fail(r, MMB_ST_FAILED, "driver %s %s %d", e->p->driver[0],
			    e->drv_status < 0 ? "could not start:" : WIFEXITED(e->drv_status) ?
			    "exited with status" : "killed by signal",
			    e->drv_status < 0 ? -1 :
			    WIFEXITED(e->drv_status) ? WEXITSTATUS(e->drv_status) :
			    WTERMSIG(e->drv_status));
	} else if (WIFEXITED(e->wst) && WEXITSTATUS(e->wst) != e->p->exit_status) {
		runner_fail(r, MMB_ST_FAILED, "exited with status %d (expected %d)",
			    WEXITSTATUS(e->wst), e->p->exit_status);
	} else if (e->p->expect == MMB_EXPECT_FILE) {
		uint64_t eh = 0, eb = 0;

		if (runner_hash_file(e->p->expect_file, &eh, &eb))
			runner_fail(r, MMB_ST_FAILED, "cannot read expected output %s",
				    e->p->expect_file);
		else if (eh != (e->hash & CHECKSUM_MASK) || eb != e->bytes)
			runner_fail(r, MMB_ST_FAILED, "wrong output: %" PRIu64 " bytes, checksum %"
				    PRIu64 "; expected %" PRIu64 " bytes, checksum %" PRIu64 " (%s)",
				    e->bytes,
				    e->hash & CHECKSUM_MASK, eb, eh, e->p->expect_file);
	} else if (e->p->expect == MMB_EXPECT_FIRST && ref->have &&
		   (ref->checksum != (e->hash & CHECKSUM_MASK) || ref->bytes != e->bytes)) {
		runner_fail(r, MMB_ST_FAILED, "wrong output: %" PRIu64 " bytes, checksum %" PRIu64
			    "; cell %u (the first) wrote %" PRIu64 " bytes, checksum %" PRIu64,
			    e->bytes,
			    e->hash & CHECKSUM_MASK, ref->cell, ref->bytes, ref->checksum);
	}
	if (!strcmp(r->status, MMB_ST_OK) && e->p->expect == MMB_EXPECT_FIRST && !ref->have) {
		ref->have = 1;
		ref->checksum = e->hash & CHECKSUM_MASK;
		ref->bytes = e->bytes;
		ref->cell = e->cell;
	}
}

void mmb_prog_run_cell(const struct mmb_prog_run *run, const struct mmb_cell *cell,
		       struct mmb_result *r, FILE *tl)
{
	const struct mmb_plan *plan = run->plan;
	const struct mmb_aconf *ac = &plan->aconf[cell->ai];
	const struct mmb_prog *p = plan->wconf[cell->wi].prog;
	struct mmb_prog_ref *ref = &run->refs[cell->wi];
	char state[4200], stdin_path[4400], path[4400], shim_lib[4096], shim_out[4200], cwd[4096];
	char *argv[MMB_PROG_MAX_ARGS + 1], *dargv[MMB_PROG_MAX_ARGS + 1];
	char store[16384], dstore[16384];
	const struct mmb_perf_events *ev[2] = { &plan->measure.hw, &plan->measure.sw };
	int fds[2][MMB_PERF_MAX_EVENTS], dfds[1][MMB_PERF_MAX_EVENTS];
	char why[2][MMB_PERF_MAX_EVENTS][96], dwhy[1][MMB_PERF_MAX_EVENTS][96];
	int outp[2] = { -1, -1 }, in_fd = -1, err_fd = -1, drv_out = -1, statm = -1, wst = 0;
	unsigned port = 0, nsamples = 0;
	pid_t pid = -1, dpid = -1;
	uint64_t hash = FNV_OFF, bytes = 0, t0, t_end = 0, deadline, next_sample, next_tick;
	int exited = 0, timed_out = 0, stopped = 0, drv_done = 0, drv_status = 0, term_sent = 0;
	int drv_ready = 0, gen = 0, out_open = 1, lib_state = 0;	/* 0 unread, 1 looking, 2 seen */
	char lib[4096] = "";
	double rss_last = NAN;
	struct rusage ru;
	const char *what = NULL;

	for (unsigned s = 0; s < 2; s++)
		for (unsigned i = 0; i < MMB_PERF_MAX_EVENTS; i++)
			fds[s][i] = -1;
	snprintf(state, sizeof(state), "%s/state/%u", run->dir, cell->id);
	if (mmb_mkdir_p(state, 0755)) {
		runner_fail(r, MMB_ST_FAILED, "cannot create %s: %s", state, strerror(errno));
		return;
	}
	if (!realpath(state, shim_out))
		snprintf(shim_out, sizeof(shim_out), "%s", state);
	if (ac->shim_alloc[0] && mmb_launch_shim_lib(shim_lib, sizeof(shim_lib))) {
		runner_fail(r, MMB_ST_FAILED, "%s: not found (build it with make)", shim_lib);
		return;
	}
	/* stdin */
	if (p->gen_lines) {
		snprintf(stdin_path, sizeof(stdin_path), "%s/stdin", shim_out);
		if (runner_gen_lines(stdin_path, p->gen_lines, plan->seed)) {
			runner_fail(r, MMB_ST_FAILED, "cannot write %s: %s", stdin_path, strerror(errno));
			return;
		}
		gen = 1;
	} else {
		snprintf(stdin_path, sizeof(stdin_path), "%s", p->stdin_file[0] ? p->stdin_file :
			 "/dev/null");
	}
	in_fd = open(stdin_path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/stderr", state);
	err_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in_fd < 0 || err_fd < 0 || pipe2(outp, O_CLOEXEC)) {
		runner_fail(r, MMB_ST_FAILED, "cannot open the program's stdin, stderr or stdout: %s",
			    strerror(errno));
		goto out;
	}
	port = p->driver[0] || strstr(p->text, "{port}") ? runner_free_port() : 0;
	if (mmb_prog_subst(p, p->cwd, port, stdin_path, cwd, sizeof(cwd)) ||
	    runner_argv(p, p->argv, port, stdin_path, argv, store, sizeof(store)) ||
	    (p->driver[0] &&
	     runner_argv(p, p->driver, port, stdin_path, dargv, dstore, sizeof(dstore)))) {
		runner_fail(r, MMB_ST_FAILED, "command line too long after {..} substitution");
		goto out;
	}
	struct runner_child c = {
		.path = p->path, .argv = argv, .cwd = cwd, .in_fd = in_fd, .out_fd = outp[1],
		.err_fd = err_fd, .ac = ac, .shim_lib = shim_lib, .shim_out = shim_out,
	};

	t0 = mmb_now_ns();
	pid = runner_spawn(&c, ev, 2, fds, why, &what);
	close(outp[1]);
	outp[1] = -1;
	if (pid < 0) {
		runner_fail(r, MMB_ST_FAILED, "%s %s: %s", what ? what : "fork", p->path,
			    strerror((int)-pid));
		goto out;
	}
	t0 = mmb_now_ns();
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	statm = open(path, O_RDONLY | O_CLOEXEC);
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	deadline = t0 + (uint64_t)(plan->cell_timeout_s * 1e9);
	next_sample = t0;
	next_tick = t0 + 500000000u;
	for (;;) {
		uint64_t now = mmb_now_ns();
		struct pollfd pfd = { .fd = out_open ? outp[0] : -1, .events = POLLIN };
		int wait_ms;

		if (!exited && now >= next_sample) {
			double rss = runner_rss(statm);

			if (rss > 0) {	/* 0: the process is already gone (a zombie has no mm) */
				char row[128];

				/* t, live, footprint (the RSS), faults, unusable
				 * o0..o10, own footprint, internal_frag (timeline.h) */
				snprintf(row, sizeof(row), "%" PRIu64 " na %.0f na%s", now - t0, rss,
					 " na na na na na na na na na na na na na");
				mmb_timeline_csv_row(row, cell->id, tl);
				rss_last = rss;
				nsamples++;
				if (lib_state == 0) {
					runner_preload_of(pid, lib, sizeof(lib));
					lib_state = lib[0] ? 1 : 2;
				}
				if (lib_state == 1 && runner_mapped(pid, lib)) {
					lib_state = 2;
					snprintf(r->malloc_provider, sizeof(r->malloc_provider), "%.255s",
						 lib);
				}
			}
			next_sample += MMB_PROG_SAMPLE_NS;
			if (next_sample <= now)
				next_sample = now + MMB_PROG_SAMPLE_NS;
		}
		if (!exited) {
			siginfo_t si = { 0 };

			/* Not reaped yet: the zombie keeps its process group, so
			 * what the program left running in it dies too. */
			if (!waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
			    si.si_pid == pid) {
				t_end = mmb_now_ns();
				kill(-pid, SIGKILL);
				while (wait4(pid, &wst, 0, &ru) < 0 && errno == EINTR)
					;
				exited = 1;
			}
		}
		/* the driver: start once the server listens, reap when done */
		if (p->driver[0] && !exited && !drv_ready && dpid < 0) {
			int fd = runner_connect(port);

			if (fd >= 0) {
				close(fd);
				drv_ready = 1;
				snprintf(path, sizeof(path), "%s/driver.out", state);
				drv_out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
				int dnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
				struct runner_child d = {
					.path = p->driver_path, .argv = dargv, .cwd = cwd,
					.in_fd = dnull, .out_fd = drv_out >= 0 ? drv_out : err_fd,
					.err_fd = drv_out >= 0 ? drv_out : err_fd,
				};

				for (unsigned i = 0; i < MMB_PERF_MAX_EVENTS; i++)
					dfds[0][i] = -1;
				dpid = runner_spawn(&d, NULL, 0, dfds, dwhy, &what);
				if (dnull >= 0)
					close(dnull);
				if (dpid < 0) {
					drv_done = 1;
					drv_status = -1;
				}
			}
		}
		if (dpid > 0 && !drv_done) {
			int dst;

			if (waitpid(dpid, &dst, WNOHANG) == dpid) {
				drv_done = 1;
				drv_status = dst;
			}
		}
		if (p->driver[0] && drv_done && !term_sent && !exited) {
			if (drv_status == 0 && p->info == MMB_INFO_REDIS)
				runner_redis_info(port, state, r);
			kill(pid, SIGTERM);
			term_sent = 1;
		}
		if (exited) {
			/* drain what is left of stdout (a child may hold it: no wait) */
			ssize_t got;
			unsigned char buf[65536];

			while (out_open && (got = read(outp[0], buf, sizeof(buf))) > 0) {
				for (ssize_t i = 0; i < got; i++)
					hash = (hash ^ buf[i]) * FNV_PRIME;
				bytes += (uint64_t)got;
			}
			break;
		}
		if (*run->stop) {
			stopped = 1;
			break;
		}
		if (now >= deadline) {
			timed_out = 1;
			break;
		}
		if (run->tick && now >= next_tick) {
			run->tick(run->tick_arg);
			next_tick = now + 500000000u;
		}
		now = mmb_now_ns();
		wait_ms = next_sample > now ? (int)((next_sample - now + 999999) / 1000000) : 0;
		if (poll(&pfd, 1, wait_ms) > 0) {
			unsigned char buf[65536];
			ssize_t got = read(outp[0], buf, sizeof(buf));

			for (ssize_t i = 0; i < got; i++)
				hash = (hash ^ buf[i]) * FNV_PRIME;
			if (got > 0)
				bytes += (uint64_t)got;
			else if (got == 0)	/* stdout closed: keep sampling, stop polling it */
				out_open = 0;
		}
	}
	if (!exited) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (wait4(pid, &wst, 0, &ru) < 0 && errno == EINTR)
			;
		t_end = mmb_now_ns();
	}
	if (dpid > 0 && !drv_done) {
		kill(-dpid, SIGKILL);
		while (waitpid(dpid, &drv_status, 0) < 0 && errno == EINTR)
			;
	}
	if (stopped) {
		r->status[0] = 0;	/* run.c drops an interrupted cell */
		goto out;
	}
	struct runner_end e = {
		.plan = plan, .ac = ac, .p = p, .state = state, .cell = cell->id, .port = port,
		.nsamples = nsamples, .wst = wst, .ru = ru, .t0 = t0, .t_end = t_end, .hash = hash,
		.bytes = bytes, .rss_last = rss_last, .timed_out = timed_out, .term_sent = term_sent,
		.drv_ready = drv_ready, .drv_status = drv_status, .lib_state = lib_state, .lib = lib,
		.fds = fds,
	};

	runner_figures(&e, r);
	runner_verdict(&e, ref, r);
	if (ac->shim_alloc[0] && strcmp(r->status, MMB_ST_OK))
		runner_shim_blame(state, r);
out:
	for (unsigned s = 0; s < 2; s++)
		for (unsigned i = 0; i < MMB_PERF_MAX_EVENTS; i++)
			if (fds[s][i] >= 0)
				close(fds[s][i]);
	if (statm >= 0)
		close(statm);
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (in_fd >= 0)
		close(in_fd);
	if (drv_out >= 0)
		close(drv_out);
	if (err_fd >= 0) {
		struct stat st;

		close(err_fd);
		snprintf(path, sizeof(path), "%s/stderr", state);
		if (!stat(path, &st) && st.st_size == 0)
			unlink(path);
	}
	if (gen)
		unlink(stdin_path);
	rmdir(state);	/* only when nothing was left in it */
}

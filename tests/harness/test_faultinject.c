/*
 * test_faultinject.c — faults from below: the OS refuses memory, a memfd,
 * userfaultfd or perf; pmem runs out; the disk fills up; the run is
 * interrupted. Each must give a recorded status and a clear message, lose
 * no finished cell and leave no results file half-written.
 *
 * Two ways in: in-process, a failing OS table (allocators/os.h: mmb_os)
 * under the kernel-style allocators; across processes, the LD_PRELOAD
 * injector tests/inject/inject.c (MMB_INJECT, MMB_INJECT_SO below) under
 * mmbench and its cells. The disk-full test mounts a small tmpfs and is
 * skipped with the reason where mounting is not allowed; the file size
 * limit test (RLIMIT_FSIZE) runs anywhere. Cells killed by a signal or
 * timed out are test_isolation.c's; MMB_UFFD_OPEN=none is test_uffd.c's.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "../../allocators/allocator.h"
#include "../../allocators/os.h"
#include "../../harness/results.h"
#include "../testutil.h"

/* ---- the failing OS table -------------------------------------------- */

static unsigned fi_calls, fi_fail_at;

static int fi_failing(void)
{
	return fi_fail_at && ++fi_calls == fi_fail_at;
}

static int fi_memfd(const char *name, size_t size)
{
	return fi_failing() ? -EMFILE : mmb_os_default.memfd(name, size);
}

static void *fi_map(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fi_failing()) {
		errno = ENOMEM;
		return NULL;
	}
	return mmb_os_default.map(addr, len, prot, flags, fd, off);
}

static int fi_protect(void *addr, size_t len, int prot)
{
	return fi_failing() ? -ENOMEM : mmb_os_default.protect(addr, len, prot);
}

static int fi_punch(int fd, off_t off, size_t len)
{
	return fi_failing() ? -EIO : mmb_os_default.punch(fd, off, len);
}

static int fi_unmap(void *addr, size_t len)
{
	return mmb_os_default.unmap(addr, len);	/* teardown must work */
}

static const struct mmb_os_ops fi_os = {
	.memfd = fi_memfd, .map = fi_map, .unmap = fi_unmap, .protect = fi_protect, .punch = fi_punch,
};

static unsigned fi_nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* The kernel-style allocators (on simulated pmem) this build has. */
static const char *const fi_kernel_allocs[] = { "buddy", "slab", "vmalloc" };

ParameterizedTestParameters(faultinject, os_call_fails)
{
	static size_t idx[] = { 0, 1, 2 };

	return cr_make_param_array(size_t, idx, 3);
}

static const struct mmb_alloc_ops *fi_ops(size_t i, struct mmb_alloc_cfg *cfg)
{
	char spec[64], err[MMB_ERR_MAX] = "";
	const struct mmb_alloc_ops *ops;

	if (!mmb_alloc_find(fi_kernel_allocs[i]))
		cr_skip_test("no allocator %s in this build", fi_kernel_allocs[i]);
	snprintf(spec, sizeof(spec), "%s:mem=8M", fi_kernel_allocs[i]);
	cr_assert_eq(mmb_alloc_parse_config(spec, &ops, cfg, err, sizeof(err)), 0, "%s", err);
	cfg->nthreads = 1;
	return ops;
}

/*
 * Fail the k-th OS call, for k = 1, 2, ... until a whole create + allocs +
 * frees + destroy no longer reaches call k: every failure in create is
 * -errno with a message, every failure later is a NULL from alloc, check()
 * passes throughout, and no file descriptor is left open.
 */
ParameterizedTest(size_t *i, faultinject, os_call_fails)
{
	struct mmb_alloc_cfg cfg;
	const struct mmb_alloc_ops *ops = fi_ops(*i, &cfg);
	unsigned fds0 = fi_nfds(), failed_creates = 0;

	for (unsigned k = 1; k < 256; k++) {
		char err[MMB_ERR_MAX] = "";
		struct mmb_alloc *a;
		void *p[64];
		int rc;

		fi_calls = 0;
		fi_fail_at = k;
		mmb_os = &fi_os;
		rc = ops->create(&cfg, &a, err, sizeof(err));
		if (rc) {
			mmb_os = &mmb_os_default;
			cr_expect_lt(rc, 0, "%s: create with OS call %u failing: %d", ops->name, k, rc);
			cr_expect(err[0], "%s: create failed (call %u) without a message", ops->name, k);
			cr_expect_eq(fi_nfds(), fds0, "%s: create failed at call %u and left an fd open",
				     ops->name, k);
			failed_creates++;
			continue;
		}
		for (unsigned j = 0; j < 64; j++)
			p[j] = ops->alloc(a, (size_t)1 << (j % 20), 0);
		for (unsigned j = 0; j < 64; j++)
			if (p[j])
				ops->free(a, p[j], (size_t)1 << (j % 20));
		if (ops->check)
			cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s: check with call %u failed: %s",
				     ops->name, k, err);
		ops->destroy(a);
		mmb_os = &mmb_os_default;
		cr_expect_eq(fi_nfds(), fds0, "%s: fd left open (call %u failing)", ops->name, k);
		if (fi_calls < k) {
			cr_log_info("%s: %u OS calls, %u failures in create", ops->name, fi_calls,
				    failed_creates);
			cr_expect_gt(failed_creates, 0, "%s: no OS call failure reached create",
				     ops->name);
			return;
		}
	}
	cr_assert_fail("%s: still reaching new OS calls after 255", ops->name);
}

/* pmem exhausted: allocations fail (counted), nothing breaks, all comes back. */
ParameterizedTestParameters(faultinject, pmem_exhausted)
{
	static size_t idx[] = { 0, 1, 2 };

	return cr_make_param_array(size_t, idx, 3);
}

ParameterizedTest(size_t *i, faultinject, pmem_exhausted)
{
	enum { MAXB = 8192 };
	struct mmb_alloc_cfg cfg;
	const struct mmb_alloc_ops *ops = fi_ops(*i, &cfg);
	static void *blk[MAXB];
	struct mmb_alloc_stats st0, st1;
	char err[MMB_ERR_MAX] = "";
	struct mmb_alloc *a;
	unsigned n = 0;

	cr_assert_eq(ops->create(&cfg, &a, err, sizeof(err)), 0, "%s", err);
	mmb_alloc_stats_init(&st0);
	ops->stats(a, &st0);
	while (n < MAXB && (blk[n] = ops->alloc(a, 4096, 0)))
		n++;
	cr_assert_lt(n, MAXB, "%s: 8 MiB of pmem gave %u pages", ops->name, n);
	cr_expect_gt(n, 0);
	cr_expect_null(ops->alloc(a, 4096, 0), "%s: alloc after exhaustion", ops->name);
	mmb_alloc_stats_init(&st1);
	ops->stats(a, &st1);
	/* The contract: alloc() calls that returned NULL, here 2. */
	if (st1.failed_allocs != MMB_STAT_NONE)
		cr_expect_eq(st1.failed_allocs, 2, "%s: failed_allocs %llu", ops->name,
			     (unsigned long long)st1.failed_allocs);
	cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s: check when exhausted: %s", ops->name,
		     err);
	while (n)
		ops->free(a, blk[--n], 4096);
	cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s: check after freeing: %s", ops->name, err);
	cr_expect_not_null(blk[0] = ops->alloc(a, 4096, 0), "%s: alloc after freeing", ops->name);
	if (blk[0])
		ops->free(a, blk[0], 4096);
	ops->destroy(a);
}

/* ---- mmbench under the injector --------------------------------------- */

/* Run mmbench with MMB_INJECT=inject (NULL: no injector). */
static void fi_run(struct mmb_cmd *c, const char *inject, const char *arg, ...)
{
	const char *argv[48];
	char asan[512];
	const char *old = getenv("ASAN_OPTIONS");
	va_list ap;
	int n = 0;

	va_start(ap, arg);
	for (const char *a = arg; a && n < 47; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	for (; n < 48; n++)
		argv[n] = NULL;
	if (inject) {
		cr_assert(mmb_exists(MMB_INJECT), "%s not built", MMB_INJECT);
		snprintf(asan, sizeof(asan), "verify_asan_link_order=0:%s", old ? old : "");
		setenv("ASAN_OPTIONS", asan, 1);
		setenv("LD_PRELOAD", MMB_INJECT, 1);
		setenv("MMB_INJECT", inject, 1);
	}
	mmb_run_cmd(c, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7],
		    argv[8], argv[9], argv[10], argv[11], argv[12], argv[13], argv[14], argv[15],
		    argv[16], argv[17], NULL);
	unsetenv("LD_PRELOAD");
	unsetenv("MMB_INJECT");
	if (old)
		setenv("ASAN_OPTIONS", old, 1);
	else
		unsetenv("ASAN_OPTIONS");
}

static int fi_read(const char *dir, struct mmb_result **rows)
{
	char path[300], err[512];
	int n;

	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, rows, err, sizeof(err));
	cr_assert_geq(n, 0, "%s", err);
	return n;
}

/* No "*.tmp.*" file left in dir. */
static void fi_expect_no_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	cr_assert_not_null(d, "%s", dir);
	while ((e = readdir(d)))
		cr_expect_null(strstr(e->d_name, ".tmp"), "%s/%s left behind", dir, e->d_name);
	closedir(d);
}

Test(faultinject, cell_memfd_fails)
{
	struct mmb_result *r;
	struct mmb_cmd c;
	char dir[256];

	mmb_tmpname(dir, sizeof(dir), "fi");
	fi_run(&c, "memfd", "run", "-q", "-o", dir, "-a", "buddy:mem=16M,glibc", "-w", "churn",
	       "--ops", "1000", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_assert_eq(fi_read(dir, &r), 2);
	cr_expect_str_eq(r[0].status, "failed");
	cr_expect(strstr(r[0].detail, "memfd") && strstr(r[0].detail, "Too many open files"), "%s",
		  r[0].detail);
	cr_expect_str_eq(r[1].status, "ok", "glibc does not use memfd: %s", r[1].detail);
	free(r);
	mmb_rm_rf(dir);
}

Test(faultinject, cell_mmap_fails)
{
	struct mmb_result *r;
	struct mmb_cmd c;
	char dir[256];

	mmb_tmpname(dir, sizeof(dir), "fi");
	fi_run(&c, "mmap=1073741824", "run", "-q", "-o", dir, "-a", "buddy:mem=1G,buddy:mem=16M",
	       "-w", "churn", "--ops", "1000", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_assert_eq(fi_read(dir, &r), 2);
	cr_expect_str_eq(r[0].status, "failed");
	cr_expect(strstr(r[0].detail, "direct map") && strstr(r[0].detail, "Cannot allocate memory"),
		  "%s", r[0].detail);
	cr_expect_str_eq(r[1].status, "ok", "%s", r[1].detail);
	free(r);
	mmb_rm_rf(dir);
}

/* A kernel without userfaultfd (neither the syscall nor the device). */
Test(faultinject, kernel_without_userfaultfd)
{
	struct mmb_result *r;
	struct mmb_cmd c;
	char dir[256], path[300], meta[16384];

	mmb_tmpname(dir, sizeof(dir), "fi");
	fi_run(&c, "uffd", "run", "-q", "-o", dir, "-a", "buddy:mem=16M", "-w", "churn", "--ops", "1000",
	       "--faults", "uffd", NULL);
	cr_expect_eq(c.status, 2, "%s", c.err);
	cr_expect(strstr(c.err, "Function not implemented") && strstr(c.err, "/dev/userfaultfd"), "%s",
		  c.err);
	cr_expect_not(mmb_exists(dir), "--faults uffd refused but %s was created", dir);
	fi_run(&c, "uffd", "run", "-q", "-o", dir, "-a", "buddy:mem=16M", "-w", "churn", "--ops", "1000",
	       "--faults", "auto", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_assert_eq(fi_read(dir, &r), 1);
	cr_expect_str_eq(r[0].status, "ok", "%s", r[0].detail);
	cr_expect(isnan(r[0].m[MMB_M_uffd_faults]), "uffd_faults %g without userfaultfd",
		  r[0].m[MMB_M_uffd_faults]);
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, meta, sizeof(meta));
	cr_expect(strstr(meta, "\"unavailable\": \"userfaultfd(UFFD_USER_MODE_ONLY): Function not "
			       "implemented; /dev/userfaultfd: No such file or directory\""), "%s", meta);
	free(r);
	mmb_rm_rf(dir);
}

/* No perf counters: the cell runs, perf_page_faults is empty (not 0). */
Test(faultinject, perf_unavailable)
{
	struct mmb_result *r;
	struct mmb_cmd c;
	char dir[256];

	mmb_tmpname(dir, sizeof(dir), "fi");
	fi_run(&c, "perf", "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "--ops", "1000", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_assert_eq(fi_read(dir, &r), 1);
	cr_expect_str_eq(r[0].status, "ok", "%s", r[0].detail);
	cr_expect(isnan(r[0].m[MMB_M_perf_page_faults]), "perf_page_faults %g without perf",
		  r[0].m[MMB_M_perf_page_faults]);
	cr_expect_gt(r[0].m[MMB_M_ops], 0);
	free(r);
	mmb_rm_rf(dir);
}

/* No perf at all, with hardware counters asked for: the run goes on, the
 * counters are unavailable with the reason in meta.json. */
Test(faultinject, perf_events_unavailable)
{
	struct mmb_result *r;
	struct mmb_cmd c;
	char dir[256], path[300], meta[16384];

	mmb_tmpname(dir, sizeof(dir), "fi");
	fi_run(&c, "perf", "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "--ops", "1000",
	       "--events", "cycles", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_assert_eq(fi_read(dir, &r), 1);
	cr_expect_str_eq(r[0].status, "ok", "%s", r[0].detail);
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, meta, sizeof(meta));
	cr_expect(strstr(meta, "\"available\": false, \"reason\": \"perf_event_open(cycles): ENOENT"),
		  "%s", meta);
	free(r);
	mmb_rm_rf(dir);
}

/* hwloc cannot start: mmbench says so on one line before any cell (exit 2)
 * and writes nothing. (If the topology becomes optional, expect a run with
 * meta.json saying why instead.) */
Test(faultinject, hwloc_fails)
{
	struct mmb_cmd c;
	char dir[256];

	mmb_tmpname(dir, sizeof(dir), "fi");
	fi_run(&c, "hwloc", "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "--ops", "1000",
	       NULL);
	cr_expect_eq(c.status, 2, "status %d: %s", c.status, c.err);
	cr_expect(strstr(c.err, "hwloc: cannot initialize: Function not implemented"), "%s", c.err);
	cr_expect(strchr(c.err, '\n') == c.err + strlen(c.err) - 1, "not one line: %s", c.err);
	cr_expect_not(mmb_exists(dir), "%s created", dir);
}

/* ---- the disk fills up ------------------------------------------------- */

/* An appended file (latency.csv, timeline.csv) ends with a whole line. */
static void fi_expect_whole_lines(const char *dir, const char *name)
{
	char path[300];
	struct stat st;
	FILE *f;
	int last = '\n';

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) || !st.st_size)
		return;
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	fseek(f, -1, SEEK_END);
	last = fgetc(f);
	fclose(f);
	cr_expect_eq(last, '\n', "%s ends in half a line", path);
}

/*
 * A run whose results writes start failing after some cells: exit 1, the
 * message names the error and is followed by the unsaved cell's row,
 * cells.csv holds exactly the cells before it, whole, and no temporary file
 * is left.
 */
static void fi_expect_write_failure(const struct mmb_cmd *c, const char *dir, const char *errtext)
{
	struct mmb_result *r;
	char want[64], path[300], meta[16384];
	int n;

	cr_expect_eq(c->status, 1, "status %d: %s", c->status, c->err);
	cr_expect(strstr(c->err, errtext) && strstr(c->err, "the last complete copy of each file is kept"),
		  "%s", c->err);
	n = fi_read(dir, &r);
	cr_expect_gt(n, 0, "no cell fitted: make the space larger");
	cr_expect_lt(n, 40, "the writes never failed: make the space smaller");
	for (int i = 0; i < n; i++) {
		cr_expect_eq(r[i].cell, (unsigned)i + 1);
		cr_expect_str_eq(r[i].status, "ok");
	}
	snprintf(want, sizeof(want), "the row of cell %d", n + 1);
	cr_expect(strstr(c->err, want), "'%s' not in: %s", want, c->err);
	snprintf(want, sizeof(want), "\n%d,glibc,,crash,", n + 1);
	cr_expect(strstr(c->err, want), "the unsaved row is not on stderr: %s", c->err);
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, meta, sizeof(meta));
	cr_expect(strstr(meta, "\"state\": \"failed\""), "%s", meta);
	fi_expect_no_tmp(dir);
	fi_expect_whole_lines(dir, "latency.csv");
	fi_expect_whole_lines(dir, "timeline.csv");
	free(r);
}

static char fi_mnt[256];

/* Runs even when an assertion ends the test: never leave the mount behind. */
static void fi_umount(void)
{
	if (fi_mnt[0] && !umount(fi_mnt))
		rmdir(fi_mnt);
}

Test(faultinject, disk_full, .fini = fi_umount)
{
	char *mnt = fi_mnt, dir[300], filler[300];
	struct mmb_cmd c;
	FILE *f;

	mmb_tmpname(mnt, sizeof(fi_mnt), "fi-tmpfs");
	cr_assert_eq(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k")) {
		int e = errno;

		rmdir(mnt);
		fi_mnt[0] = 0;
		cr_skip_test("cannot mount a tmpfs here (%s): needs root", strerror(e));
	}
	/* 32 KiB left: meta.json, latency.csv, timeline.csv, and cells.csv with
	 * its replacement, for some 25 cells. */
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	f = fopen(filler, "w");
	for (int i = 0; f && i < 32 * 1024; i++)
		fputc('x', f);
	if (f)
		fclose(f);
	snprintf(dir, sizeof(dir), "%s/r", mnt);
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "crash:mode=ok", "-r", "40",
		    "--ops", "10", NULL);
	fi_expect_write_failure(&c, dir, "No space left on device");
}

/* A file size limit: EFBIG, not death by SIGXFSZ with a half-written file. */
Test(faultinject, file_size_limit)
{
	struct rlimit rl = { 6000, 6000 };	/* meta.json ~2.5 KB, cells.csv ~1.4 KB + rows */
	struct mmb_cmd c;
	char dir[256];

	mmb_tmpname(dir, sizeof(dir), "fi");
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "crash:mode=ok", "-r", "40",
		    "--ops", "10", NULL);
	fi_expect_write_failure(&c, dir, "File too large");
	mmb_rm_rf(dir);
}

/* ---- interrupted ------------------------------------------------------- */

/* SIGINT while a cell hangs: exit 130, the finished cell kept, whole. */
Test(faultinject, interrupted_run_keeps_finished_cells)
{
	char dir[256], path[300], meta[16384];
	struct mmb_result *r;
	int st = 0, n = 0;
	pid_t pid;

	mmb_tmpname(dir, sizeof(dir), "fi");
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(MMB_BIN, MMB_BIN, "run", "-q", "-o", dir, "-a", "glibc", "-w",
		      "crash:mode=ok,crash:mode=hang", "--ops", "10", "--cell-timeout", "60", NULL);
		_exit(127);
	}
	/* Wait for the first cell's row (up to 20 s). */
	for (int i = 0; i < 400; i++) {
		char err[256];
		struct mmb_result *rows;

		if (mmb_exists(path) && (n = mmb_csv_read(path, &rows, err, sizeof(err))) > 0) {
			free(rows);
			break;
		}
		usleep(50000);
	}
	cr_expect_eq(n, 1, "the first cell never finished");
	kill(pid, SIGINT);
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %#x", st);
	cr_assert_eq(fi_read(dir, &r), 1);
	cr_expect_str_eq(r[0].status, "ok");
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, meta, sizeof(meta));
	cr_expect(strstr(meta, "\"state\": \"interrupted\""), "%s", meta);
	fi_expect_no_tmp(dir);
	free(r);
	mmb_rm_rf(dir);
}

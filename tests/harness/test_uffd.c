/*
 * test_uffd.c — the page-fault monitor (harness/uffd.h): exact counts in
 * both modes, attribution to regions and threads, the known traps (remap,
 * shmem refault, kernel-side access), the kernel's counts as a cross-check,
 * and the fallback when userfaultfd cannot be opened.
 *
 * Each Criterion test runs in its own process, so one monitor (and, in
 * SIGBUS mode, one SIGBUS handler) per test.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../../allocators/os.h"
#include "../../harness/hist.h"
#include "../../harness/uffd.h"
#include "../testutil.h"

#define PG 4096UL

/*
 * Kernel cross-check tolerance for n pages: faults the test's own code takes
 * between the two readings besides the region's: stack and libc (measured
 * 0-5 here). Under AddressSanitizer add a shadow page per 8 pages touched
 * and the sanitizer's own allocations (measured up to n/4 + 9 for n = 200).
 */
#ifdef __SANITIZE_ADDRESS__
#define KERNEL_SLACK(n) (16 + (long)(n) / 4)
#else
#define KERNEL_SLACK(n) 8L
#endif

static struct mmb_uffd *mon_start(enum mmb_fault_mode mode, unsigned log_max)
{
	struct mmb_uffd_opts o = { mode, -1, log_max };
	struct mmb_uffd *m = NULL;
	char why[256] = "";

	cr_assert_eq(mmb_uffd_start(&o, &m, why, sizeof(why)), 0, "start: %s", why);
	return m;
}

/* A memfd of pages, mapped shared; *r_fd gets the fd. */
static char *memfd_map(size_t pages, int *r_fd)
{
	int fd = mmb_os->memfd("test-ram", pages * PG);
	char *p;

	cr_assert_geq(fd, 0);
	p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(p, MAP_FAILED);
	*r_fd = fd;
	return p;
}

static char *anon_map(size_t pages)
{
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	madvise(p, pages * PG, MADV_NOHUGEPAGE);
	return p;
}

static void touch_write(char *p, size_t pages)
{
	for (size_t i = 0; i < pages; i++)
		((volatile char *)p)[i * PG] = (char)(i + 1);
}

static long minflt_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* The latency writer's rows are hist.h buckets: read back with
 * mmb_hist_add_bucket they hold n values and give the monitor's median
 * (within half a bucket: the monitor clamps to its exact min and max). */
static void latency_reads_back(const struct mmb_uffd *m, uint64_t n)
{
	struct mmb_hist h;
	unsigned long long lo, hi, count;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(mmb_uffd_write_latency(m, f), 0);
	cr_assert_eq(fclose(f), 0);
	mmb_hist_init(&h);
	f = fmemopen(buf, len, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "lo_ns,hi_ns,count "), 0);
	while (fscanf(f, "%llu,%llu,%llu ", &lo, &hi, &count) == 3)
		cr_assert_eq(mmb_hist_add_bucket(&h, lo, hi, count), 0, "row %llu,%llu", lo, hi);
	fclose(f);
	free(buf);
	cr_expect_eq(mmb_hist_total(&h), n);
	cr_expect_leq(fabs(mmb_hist_quantile(&h, 0.5) - mmb_uffd_latency_ns(m, 0.5)),
		      mmb_uffd_latency_ns(m, 0.5) * MMB_HIST_REL_ERR + 0.5);
}

static enum mmb_fault_mode modes[] = { MMB_FAULTS_UFFD, MMB_FAULTS_SIGBUS };

ParameterizedTestParameters(uffd, fresh_pages_counted_once)
{
	return cr_make_param_array(enum mmb_fault_mode, modes, 2);
}

/* N fresh pages touched once give exactly N events, all in their region, and
 * the kernel agrees: the perf page-fault count rises by N (+ slack) in both
 * modes; getrusage's minflt rises by N in thread mode (the retried fault
 * completes) and by ~0 in SIGBUS mode (a fault that ends in SIGBUS is not
 * counted as a minor fault, and UFFDIO_* fill the page without a fault). */
ParameterizedTest(enum mmb_fault_mode *mode, uffd, fresh_pages_counted_once)
{
	const size_t n = 200;
	char why[256];
	int fd, pfd;
	struct mmb_uffd *m = mon_start(*mode, 0);
	char *p = memfd_map(n, &fd);
	long before, delta;
	int64_t perf;

	cr_assert_eq(mmb_perf_faults_open(&pfd, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(mmb_region_add("ram", p, n * PG, MMB_REGION_MISSING, fd, 0), 0);
	before = minflt_now();
	mmb_perf_faults_enable(pfd, 1);
	touch_write(p, n);
	touch_write(p, n);	/* the second pass must not fault */
	mmb_perf_faults_enable(pfd, 0);
	delta = minflt_now() - before;
	perf = mmb_perf_faults_read(pfd);
	mmb_uffd_stop(m);
	cr_log_info("mode %s: %zu pages, uffd %llu, minflt %ld, perf %lld",
		    mmb_fault_mode_names[*mode], n, (unsigned long long)mmb_uffd_count(m, NULL, -1, NULL, -1),
		    delta, (long long)perf);
	cr_expect_eq(mmb_uffd_count(m, NULL, -1, NULL, -1), n);
	cr_expect_eq(mmb_uffd_count(m, "ram", MMB_PHASE_WARMUP, NULL, MMB_FAULT_MISSING), n);
	cr_expect_eq(mmb_uffd_duplicates(m), 0);
	cr_expect_geq(perf, (int64_t)n);
	cr_expect_leq(perf, (int64_t)n + KERNEL_SLACK(n));
	if (*mode == MMB_FAULTS_UFFD) {
		cr_expect_geq(delta, (long)n);
		cr_expect_leq(delta, (long)n + KERNEL_SLACK(n));
	} else {
		cr_expect_leq(delta, KERNEL_SLACK(n));
	}
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(p[i * PG], (char)(i + 1), "page %zu lost its write", i);
	cr_expect(!isnan(mmb_uffd_latency_ns(m, 0.5)));
	cr_expect_leq(mmb_uffd_latency_ns(m, 0.5), mmb_uffd_latency_ns(m, 0.99));
	latency_reads_back(m, n);
	mmb_uffd_free(m);
}

ParameterizedTestParameters(uffd, events_land_in_their_region)
{
	return cr_make_param_array(enum mmb_fault_mode, modes, 2);
}

/* A memfd region and an anonymous one; anonymous reads see zeros, writes
 * stick (COPY for a write, ZEROPAGE for a read). */
ParameterizedTest(enum mmb_fault_mode *mode, uffd, events_land_in_their_region)
{
	int fd;
	struct mmb_uffd *m = mon_start(*mode, 0);
	char *a = memfd_map(10, &fd), *b = anon_map(7);

	cr_assert_eq(mmb_region_add("a", a, 10 * PG, MMB_REGION_MISSING, fd, 0), 0);
	cr_assert_eq(mmb_region_add("b", b, 7 * PG, MMB_REGION_MISSING, -1, 0), 0);
	touch_write(a, 10);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(((volatile char *)b)[i * PG], 0);
	touch_write(b + 3 * PG, 4);
	mmb_uffd_stop(m);
	cr_expect_eq(mmb_uffd_nregions(m), 2);
	cr_expect_eq(mmb_uffd_count(m, "a", -1, NULL, -1), 10);
	cr_expect_eq(mmb_uffd_count(m, "b", -1, NULL, -1), 7);
	cr_expect_eq(mmb_uffd_count(m, "?", -1, NULL, -1), 0);
	cr_expect_eq(b[3 * PG], 1);
	cr_expect_eq(b[6 * PG], 4);
	mmb_uffd_free(m);
}

ParameterizedTestParameters(uffd, remapped_range_still_counts)
{
	return cr_make_param_array(enum mmb_fault_mode, modes, 2);
}

/* MAP_FIXED over a registered range drops the kernel's registration; the
 * owner re-adds it (with or without a del first) and it counts again. */
ParameterizedTest(enum mmb_fault_mode *mode, uffd, remapped_range_still_counts)
{
	int fd = mmb_os->memfd("test-ram", 48 * PG);
	struct mmb_uffd *m = mon_start(*mode, 0);
	char *p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(mmb_region_add("ram", p, 16 * PG, MMB_REGION_MISSING, fd, 0), 0);
	touch_write(p, 8);
	/* Remap all 16 pages onto fresh frames, re-add without a del. */
	cr_assert_eq(mmap(p, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 16 * PG), p);
	cr_assert_eq(mmb_region_add("ram", p, 16 * PG, MMB_REGION_MISSING, fd, 16 * PG), 0);
	touch_write(p, 16);
	/* Remap the upper half again, this time with del first. */
	mmb_region_del(p + 8 * PG, 8 * PG);
	cr_assert_eq(mmap(p + 8 * PG, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			  32 * PG), p + 8 * PG);
	cr_assert_eq(mmb_region_add("ram", p + 8 * PG, 8 * PG, MMB_REGION_MISSING, fd, 32 * PG), 0);
	touch_write(p, 16);
	mmb_uffd_stop(m);
	cr_expect_eq(mmb_uffd_count(m, "ram", -1, NULL, -1), 8 + 16 + 8);
	mmb_uffd_free(m);
}

/* Withdrawing the middle of a range splits it: the middle faults as plain
 * memory (not counted), both ends still count under their name. */
Test(uffd, partial_del_splits)
{
	int fd;
	struct mmb_uffd *m = mon_start(MMB_FAULTS_SIGBUS, 0);
	char *p = memfd_map(16, &fd);

	cr_assert_eq(mmb_region_add("ram", p, 16 * PG, MMB_REGION_MISSING, fd, 0), 0);
	mmb_region_del(p + 4 * PG, 4 * PG);
	touch_write(p, 16);
	mmb_uffd_stop(m);
	cr_expect_eq(mmb_uffd_count(m, "ram", -1, NULL, -1), 12);
	mmb_uffd_free(m);
}

ParameterizedTestParameters(uffd, punched_frame_faults_again)
{
	return cr_make_param_array(enum mmb_fault_mode, modes, 2);
}

/* MADV_DONTNEED on shmem keeps the page cached: no new event (the trap).
 * A punched hole makes the frame missing again: one event per page. Counts
 * are read after stop (thread mode records after waking the faulter), so
 * each step has its own monitor over the same pages. */
ParameterizedTest(enum mmb_fault_mode *mode, uffd, punched_frame_faults_again)
{
	int fd;
	struct mmb_uffd *m = mon_start(*mode, 0);
	char *p = memfd_map(16, &fd);

	cr_assert_eq(mmb_region_add("ram", p, 16 * PG, MMB_REGION_MISSING, fd, 0), 0);
	touch_write(p, 16);
	mmb_uffd_stop(m);
	cr_expect_eq(mmb_uffd_count(m, NULL, -1, NULL, -1), 16);
	mmb_uffd_free(m);

	m = mon_start(*mode, 0);
	cr_assert_eq(mmb_region_add("ram", p, 16 * PG, MMB_REGION_MISSING, fd, 0), 0);
	cr_assert_eq(madvise(p, 4 * PG, MADV_DONTNEED), 0);
	touch_write(p, 16);
	mmb_uffd_stop(m);
	cr_expect_eq(mmb_uffd_count(m, NULL, -1, NULL, -1), 0, "DONTNEED on shmem refaulted");
	mmb_uffd_free(m);

	m = mon_start(*mode, 0);
	cr_assert_eq(mmb_region_add("ram", p, 16 * PG, MMB_REGION_MISSING, fd, 0), 0);
	cr_assert_eq(mmb_os->punch(fd, 4 * PG, 4 * PG), 0);
	cr_expect_eq(((volatile char *)p)[4 * PG], 0, "a punched frame reads as zero");
	touch_write(p, 16);
	mmb_uffd_stop(m);
	cr_expect_eq(mmb_uffd_count(m, NULL, -1, NULL, -1), 4);
	mmb_uffd_free(m);
}

ParameterizedTestParameters(uffd, minor_faults_continue)
{
	return cr_make_param_array(enum mmb_fault_mode, modes, 2);
}

/* A MISSING|MINOR range over a memfd whose first half is already cached
 * (written through another mapping): minor events there, resolved with
 * CONTINUE (the data shows through); missing events for the holes. */
ParameterizedTest(enum mmb_fault_mode *mode, uffd, minor_faults_continue)
{
	int fd;
	char *alias = memfd_map(8, &fd);
	struct mmb_uffd *m = mon_start(*mode, 0);
	char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	cr_assert_neq(p, MAP_FAILED);
	memset(alias, 0x5a, 4 * PG);
	if (!mmb_uffd_info(m)->minor)
		cr_skip_test("no UFFD_FEATURE_MINOR_SHMEM on this kernel");
	cr_assert_eq(mmb_region_add("vm", p, 8 * PG, MMB_REGION_MISSING | MMB_REGION_MINOR, fd, 0), 0);
	for (int i = 0; i < 8; i++)
		cr_expect_eq(((volatile char *)p)[i * PG + 1], i < 4 ? 0x5a : 0, "page %d", i);
	mmb_uffd_stop(m);
	cr_expect_eq(mmb_uffd_count(m, "vm", -1, NULL, MMB_FAULT_MINOR), 4);
	cr_expect_eq(mmb_uffd_count(m, "vm", -1, NULL, MMB_FAULT_MISSING), 4);
	mmb_uffd_free(m);
}

struct toucher {
	struct mmb_uffd *m;
	char *p, name[8];
	size_t pages;
};

static void *toucher_main(void *arg)
{
	struct toucher *t = arg;

	mmb_uffd_thread_name(t->m, t->name);
	touch_write(t->p, t->pages);
	return NULL;
}

ParameterizedTestParameters(uffd, threads_and_phases)
{
	return cr_make_param_array(enum mmb_fault_mode, modes, 2);
}

/* Faults are attributed to the thread that took them and the phase they
 * fell in; the timeline and the log agree with the counts. */
ParameterizedTest(enum mmb_fault_mode *mode, uffd, threads_and_phases)
{
	int fd;
	struct mmb_uffd *m = mon_start(*mode, 5);
	char *p = memfd_map(64, &fd), buf[65536];
	struct toucher t[2] = { { m, p, "w0", 10 }, { m, p + 32 * PG, "w1", 20 } };
	pthread_t th[2];
	FILE *f;

	cr_assert_eq(mmb_region_add("ram", p, 64 * PG, MMB_REGION_MISSING, fd, 0), 0);
	mmb_uffd_thread_name(m, "main");
	touch_write(p + 60 * PG, 3);			/* warm-up: main */
	mmb_uffd_set_phase(m, MMB_PHASE_TIMED);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, toucher_main, &t[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	mmb_uffd_set_phase(m, MMB_PHASE_TEARDOWN);
	touch_write(p + 56 * PG, 1);
	mmb_uffd_stop(m);
	cr_expect_eq(mmb_uffd_count(m, NULL, MMB_PHASE_WARMUP, "main", -1), 3);
	cr_expect_eq(mmb_uffd_count(m, NULL, MMB_PHASE_TIMED, "w0", -1), 10);
	cr_expect_eq(mmb_uffd_count(m, NULL, MMB_PHASE_TIMED, "w1", -1), 20);
	cr_expect_eq(mmb_uffd_count(m, NULL, MMB_PHASE_TIMED, NULL, -1), 30);
	cr_expect_eq(mmb_uffd_count(m, NULL, MMB_PHASE_TEARDOWN, "main", -1), 1);

	/* Timeline: sums per phase, warm-up before the timed start (t_ns < 0). */
	f = fmemopen(buf, sizeof(buf), "w");
	cr_assert_eq(mmb_uffd_write_timeline(m, f), 0);
	fclose(f);
	cr_assert(!strncmp(buf, "region,phase,t_ns,faults\n", 25), "%s", buf);
	{
		unsigned long long sum[MMB_NPHASES] = { 0 }, v;
		long long tns;
		char region[32], phase[32];

		for (char *line = strchr(buf, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
			cr_assert_eq(sscanf(line, "%31[^,],%31[^,],%lld,%llu", region, phase, &tns, &v), 4,
				     "%s", line);
			cr_expect_str_eq(region, "ram");
			for (int ph = 0; ph < MMB_NPHASES; ph++)
				if (!strcmp(phase, mmb_fault_phase_names[ph]))
					sum[ph] += v;
			if (!strcmp(phase, "warmup"))
				cr_expect_lt(tns, 0);
			else
				cr_expect_geq(tns, 0);
		}
		cr_expect_eq(sum[MMB_PHASE_WARMUP], 3);
		cr_expect_eq(sum[MMB_PHASE_TIMED], 30);
		cr_expect_eq(sum[MMB_PHASE_TEARDOWN], 1);
	}
	/* The log: the first 5 events, the 3 warm-up ones in address order. */
	f = fmemopen(buf, sizeof(buf), "w");
	cr_assert_eq(mmb_uffd_write_log(m, f), 0);
	fclose(f);
	{
		int lines = 0;
		char want[64];

		for (char *c = buf; *c; c++)
			lines += *c == '\n';
		cr_expect_eq(lines, 1 + 5, "%s", buf);
		snprintf(want, sizeof(want), ",0x%lx,ram,main,write,missing\n",
			 (unsigned long)(p + 61 * PG));
		cr_expect(strstr(buf, want), "wanted %s in %s", want, buf);
	}
	f = fmemopen(buf, sizeof(buf), "w");
	cr_assert_eq(mmb_uffd_write_counts(m, f), 0);
	fclose(f);
	cr_expect(strstr(buf, "ram,timed,w1,missing,20\n"), "%s", buf);
	mmb_uffd_free(m);
}

/* A phase longer than 1000 bins is written in wider bins (here 2 x 100 us
 * for ~120 ms), with every fault kept and the warm-up fault ~120 ms before
 * the timed start. */
Test(uffd, timeline_coarsens)
{
	int fd;
	struct mmb_uffd *m = mon_start(MMB_FAULTS_SIGBUS, 0);
	char *p = memfd_map(4, &fd), buf[1 << 16];
	unsigned long long v, sum = 0;
	long long t, prev = 0, first = 0;
	char region[32], phase[32];
	int rows = 0;
	FILE *f;

	cr_assert_eq(mmb_region_add("ram", p, 4 * PG, MMB_REGION_MISSING, fd, 0), 0);
	touch_write(p, 1);
	usleep(120 * 1000);
	touch_write(p + PG, 1);
	mmb_uffd_set_phase(m, MMB_PHASE_TIMED);
	touch_write(p + 2 * PG, 2);
	mmb_uffd_stop(m);
	f = fmemopen(buf, sizeof(buf), "w");
	cr_assert_eq(mmb_uffd_write_timeline(m, f), 0);
	fclose(f);
	for (char *line = strchr(buf, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		cr_assert_eq(sscanf(line, "%31[^,],%31[^,],%lld,%llu", region, phase, &t, &v), 4);
		if (!strcmp(phase, "warmup")) {
			if (rows++)
				cr_expect_eq(t - prev, 200000, "bin width");
			else
				first = t;
			prev = t;
		}
		sum += v;
	}
	cr_expect_eq(sum, 4);
	cr_expect_leq(first, -120000000LL);
	cr_expect_gt(rows, 500);
	cr_expect_leq(rows, 1000);
	mmb_uffd_free(m);
}

ParameterizedTestParameters(uffd, same_pages_from_two_threads)
{
	return cr_make_param_array(enum mmb_fault_mode, modes, 2);
}

/* Two threads race over the same fresh pages: a page faults in both, the
 * loser's resolution finds it mapped (EEXIST, woken, counted as a
 * duplicate), and still exactly one missing event per page is counted. */
ParameterizedTest(enum mmb_fault_mode *mode, uffd, same_pages_from_two_threads)
{
	const size_t n = 512;
	int fd;
	struct mmb_uffd *m = mon_start(*mode, 0);
	char *p = memfd_map(n, &fd);
	struct toucher t[2] = { { m, p, "a", n }, { m, p, "b", n } };
	pthread_t th[2];

	cr_assert_eq(mmb_region_add("ram", p, n * PG, MMB_REGION_MISSING, fd, 0), 0);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, toucher_main, &t[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	mmb_uffd_stop(m);
	cr_log_info("%s: %llu duplicates", mmb_fault_mode_names[*mode],
		    (unsigned long long)mmb_uffd_duplicates(m));
	cr_expect_eq(mmb_uffd_count(m, "ram", -1, NULL, MMB_FAULT_MISSING), n);
	cr_expect_eq(mmb_uffd_count(m, "ram", -1, "a", -1) + mmb_uffd_count(m, "ram", -1, "b", -1), n);
	mmb_uffd_free(m);
}

/* With UFFD_USER_MODE_ONLY a system call that touches an untouched
 * registered page fails with EFAULT (nothing is counted); through
 * /dev/userfaultfd the handler thread resolves it and counts it. */
Test(uffd, kernel_side_access)
{
	int fd, zero = open("/dev/zero", O_RDONLY);
	struct mmb_uffd *m;
	char *p;

	cr_assert_geq(zero, 0);
	setenv("MMB_UFFD_OPEN", "syscall", 1);
	m = mon_start(MMB_FAULTS_UFFD, 0);
	p = memfd_map(2, &fd);
	cr_expect_eq(mmb_uffd_info(m)->kernel_faults, 0);
	cr_assert_eq(mmb_region_add("ram", p, 2 * PG, MMB_REGION_MISSING, fd, 0), 0);
	errno = 0;
	cr_expect_eq(read(zero, p, PG), -1);
	cr_expect_eq(errno, EFAULT);
	touch_write(p, 1);	/* touched in user mode first: the system call works */
	cr_expect_eq(read(zero, p, PG), (ssize_t)PG);
	mmb_uffd_stop(m);
	cr_expect_eq(mmb_uffd_count(m, NULL, -1, NULL, -1), 1);
	mmb_uffd_free(m);

	if (access("/dev/userfaultfd", R_OK | W_OK))
		cr_skip_test("/dev/userfaultfd not usable here: %s", strerror(errno));
	setenv("MMB_UFFD_OPEN", "device", 1);
	m = mon_start(MMB_FAULTS_UFFD, 0);
	cr_expect_str_eq(mmb_uffd_info(m)->open_path, "/dev/userfaultfd");
	cr_expect_eq(mmb_uffd_info(m)->kernel_faults, 1);
	cr_assert_eq(mmb_os->punch(fd, 0, 2 * PG), 0);
	cr_assert_eq(mmb_region_add("ram", p, 2 * PG, MMB_REGION_MISSING, fd, 0), 0);
	cr_expect_eq(read(zero, p + PG, PG), (ssize_t)PG);
	mmb_uffd_stop(m);
	cr_expect_eq(mmb_uffd_count(m, NULL, -1, NULL, -1), 1);
	mmb_uffd_free(m);
	close(zero);
}

/* Unavailable userfaultfd (simulated): start and probe fail with the reason,
 * the region hooks stay uninstalled (adds are no-ops), and a second monitor
 * in one process is refused. */
Test(uffd, unavailable_and_busy)
{
	struct mmb_uffd_opts o = { MMB_FAULTS_UFFD, -1, 0 };
	struct mmb_uffd *m = NULL, *m2 = NULL;
	char why[256] = "", page[PG];

	setenv("MMB_UFFD_OPEN", "none", 1);
	cr_expect_eq(mmb_uffd_probe(MMB_FAULTS_SIGBUS, NULL, why, sizeof(why)), -ENOSYS);
	cr_expect(strstr(why, "MMB_UFFD_OPEN=none"), "%s", why);
	cr_expect_eq(mmb_uffd_start(&o, &m, why, sizeof(why)), -ENOSYS);
	cr_expect_eq(mmb_region_add("ram", page, PG, MMB_REGION_MISSING, -1, 0), 0);
	setenv("MMB_UFFD_OPEN", "bogus", 1);
	cr_expect_eq(mmb_uffd_probe(MMB_FAULTS_UFFD, NULL, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "expected auto|syscall|device|none"), "%s", why);
	unsetenv("MMB_UFFD_OPEN");
	m = mon_start(MMB_FAULTS_UFFD, 0);
	cr_expect_eq(mmb_uffd_start(&o, &m2, why, sizeof(why)), -EBUSY);
	cr_expect_eq(mmb_region_add("ram", NULL, PG + 1, MMB_REGION_MISSING, -1, 0), -EINVAL,
		     "the running monitor's hooks stay installed and check alignment");
	mmb_uffd_stop(m);
	mmb_uffd_free(m);
}

/* ---- through `mmbench run` ---------------------------------------------- */

#include "../../harness/results.h"

static const char *census_modes[] = { "uffd", "sigbus" };

ParameterizedTestParameters(uffd_cli, census_run)
{
	static int idx[] = { 0, 1 };	/* indexes: pointers do not survive the test's exec */

	return cr_make_param_array(int, idx, 2);
}

/*
 * The hidden bump allocator touches every frame up to its bump pointer
 * once: uffd_faults = frames = footprint / 4096, all in the timed region,
 * the timeline sums to it, the log keeps the first N events, and the
 * kernel's perf count agrees within the cell's own faults.
 */
ParameterizedTest(int *modei, uffd_cli, census_run)
{
	const char *const *mode = &census_modes[*modei];
	char dir[256], path[400], buf[65536];
	struct mmb_result *r;
	struct mmb_cmd c;
	double frames;
	unsigned long long sum = 0;
	int n;

	mmb_tmpname(dir, sizeof(dir), "uffd");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "bump", "-w", "churn:size=4096", "-t", "2",
		    "--ops", "400", "--faults", *mode, "--fault-log", "3", NULL);
	cr_assert_eq(c.status, 0, "status %d: %s %s", c.status, c.err, c.out);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, &r, buf, sizeof(buf));
	cr_assert_eq(n, 1, "%s", buf);
	cr_assert_str_eq(r[0].status, "ok", "%s", r[0].detail);
	frames = r[0].m[MMB_M_footprint_own_end_bytes] / 4096;
	cr_log_info("%s: frames %g uffd %g timed %g perf %g minflt %g p50 %g p99 %g", *mode, frames,
		    r[0].m[MMB_M_uffd_faults], r[0].m[MMB_M_uffd_faults_timed],
		    r[0].m[MMB_M_perf_page_faults], r[0].m[MMB_M_minflt],
		    r[0].m[MMB_M_uffd_fault_p50_ns], r[0].m[MMB_M_uffd_fault_p99_ns]);
	cr_expect_eq(r[0].m[MMB_M_uffd_faults], frames);
	cr_expect_eq(r[0].m[MMB_M_uffd_faults_timed], frames);
	cr_expect_geq(r[0].m[MMB_M_perf_page_faults], frames);
	/* The cell's own faults in its timed window: stacks, the workload's
	 * arrays (measured <= 12 here; far more under a sanitizer). */
	cr_expect_leq(r[0].m[MMB_M_perf_page_faults], frames + 32 + 8 * KERNEL_SLACK(frames));
	cr_expect_gt(r[0].m[MMB_M_uffd_fault_p50_ns], 0);
	cr_expect_geq(r[0].m[MMB_M_uffd_fault_p99_ns], r[0].m[MMB_M_uffd_fault_p50_ns]);

	snprintf(path, sizeof(path), "%s/faults.csv", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_assert(!strncmp(buf, "cell,region,phase,t_ns,faults\n", 30), "%s", buf);
	for (char *line = strchr(buf, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		unsigned long long v;
		long long t;

		cr_assert_eq(sscanf(line, "1,bump,timed,%lld,%llu", &t, &v), 2, "%s", line);
		sum += v;
	}
	cr_expect_eq((double)sum, frames);
	snprintf(path, sizeof(path), "%s/state/1/faults_timeline.csv", dir);
	cr_expect(!mmb_exists(path), "the cell's timeline was merged, not left behind");
	snprintf(path, sizeof(path), "%s/state/1/faults.log", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "t_ns,address,region,thread,access,kind\n"), "%s", buf);
	{
		int lines = 0;

		for (char *p = buf; *p; p++)
			lines += *p == '\n';
		cr_expect_eq(lines, 1 + 3, "header + 3 events:\n%s", buf);
	}
	snprintf(path, sizeof(path), "%s/state/1/fault_counts.csv", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "bump,timed,w0,missing,"), "%s", buf);
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, buf, sizeof(buf));
	snprintf(path, sizeof(path), "\"mode\": \"%s\"", *mode);
	cr_expect(strstr(buf, path), "%s", buf);
	cr_expect(strstr(buf, "\"run_kind\": \"fault census"), "%s", buf);
	free(r);
	mmb_rm_rf(dir);
}

/* A timing run (the default) has no monitor: the uffd columns are empty,
 * the kernel's counts are there, and meta.json says it is a timing run. */
Test(uffd_cli, timing_run_has_kernel_counts_only)
{
	char dir[256], path[400], buf[65536];
	struct mmb_result *r;
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "uffd");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "bump", "-w", "churn:size=4096", "--ops", "200",
		    NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	cr_assert_eq(mmb_csv_read(path, &r, buf, sizeof(buf)), 1, "%s", buf);
	cr_expect(isnan(r[0].m[MMB_M_uffd_faults]));
	cr_expect(isnan(r[0].m[MMB_M_uffd_fault_p50_ns]));
	cr_expect_geq(r[0].m[MMB_M_perf_page_faults], r[0].m[MMB_M_footprint_own_end_bytes] / 4096);
	cr_expect_gt(r[0].m[MMB_M_minflt], 0);
	snprintf(path, sizeof(path), "%s/faults.csv", dir);
	cr_expect(!mmb_exists(path));
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "\"mode\": \"off\""), "%s", buf);
	cr_expect(strstr(buf, "\"run_kind\": \"timing"), "%s", buf);
	free(r);
	mmb_rm_rf(dir);
}

/* The pmem direct map (buddy allocator) is a region: its first touches are
 * counted, attributed to "pmem" and to the workers, and the kernel's count
 * of the timed region is at least as large. */
Test(uffd_cli, buddy_pmem_region)
{
	char dir[256], path[400], buf[65536];
	struct mmb_result *r;
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "uffd");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "buddy:mem=64M", "-w",
		    "churn:size=16384,batch=32", "-t", "2", "--ops", "4000", "--faults", "sigbus", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	cr_assert_eq(mmb_csv_read(path, &r, buf, sizeof(buf)), 1, "%s", buf);
	cr_assert_str_eq(r[0].status, "ok", "%s", r[0].detail);
	cr_log_info("buddy: uffd %g timed %g perf %g", r[0].m[MMB_M_uffd_faults],
		    r[0].m[MMB_M_uffd_faults_timed], r[0].m[MMB_M_perf_page_faults]);
	cr_expect_geq(r[0].m[MMB_M_uffd_faults_timed], 4, "a 16 KiB block is 4 frames");
	cr_expect_leq(r[0].m[MMB_M_uffd_faults], 64.0 * 1024 * 1024 / 4096);
	cr_expect_geq(r[0].m[MMB_M_perf_page_faults], r[0].m[MMB_M_uffd_faults_timed]);
	snprintf(path, sizeof(path), "%s/state/1/fault_counts.csv", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "\npmem,timed,w"), "%s", buf);
	free(r);
	mmb_rm_rf(dir);
}

/* Without userfaultfd (simulated): --faults uffd or sigbus is bad usage
 * (exit 2, nothing written); --faults auto runs with kernel counts only and
 * meta.json says why. */
Test(uffd_cli, unavailable_fallback)
{
	char dir[256], path[400], buf[65536];
	struct mmb_result *r;
	struct mmb_cmd c;

	setenv("MMB_UFFD_OPEN", "none", 1);
	mmb_tmpname(dir, sizeof(dir), "uffd");
	for (int i = 0; i < 2; i++) {
		mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "bump", "-w", "churn", "--ops", "100",
			    "--faults", census_modes[i], NULL);
		cr_expect_eq(c.status, 2);
		cr_expect(strstr(c.err, "userfaultfd cannot work here: userfaultfd disabled by "
				 "MMB_UFFD_OPEN=none"), "%s", c.err);
		cr_expect_eq(strchr(c.err, '\n'), strrchr(c.err, '\n'), "one line: %s", c.err);
		cr_expect(!mmb_exists(dir));
	}
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "bump", "-w", "churn:size=4096", "--ops", "100",
		    "--faults", "auto", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	cr_assert_eq(mmb_csv_read(path, &r, buf, sizeof(buf)), 1, "%s", buf);
	cr_expect_str_eq(r[0].status, "ok");
	cr_expect(isnan(r[0].m[MMB_M_uffd_faults]));
	cr_expect(!isnan(r[0].m[MMB_M_perf_page_faults]));
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect(strstr(buf, "\"mode\": \"off\""), "%s", buf);
	cr_expect(strstr(buf, "\"requested\": \"auto\""), "%s", buf);
	cr_expect(strstr(buf, "\"unavailable\": \"userfaultfd disabled by MMB_UFFD_OPEN=none\""),
		  "%s", buf);
	free(r);
	mmb_rm_rf(dir);
}

Test(uffd_cli, bad_fault_options)
{
	static const char *const bad[][4] = {
		{ "--faults", "bogus", NULL, "--faults bogus: expected off, uffd, sigbus or auto" },
		{ "--fault-cpu", "0", NULL, "--fault-cpu pins the uffd handler thread" },
		{ "--faults", "uffd", "--fault-cpu=99999", "--fault-cpu 99999: expected a CPU number" },
		{ "--fault-log", "5", NULL, "--fault-log needs --faults" },
		{ "--faults", "uffd", "--fault-log=0", "--fault-log 0: expected an event count" },
	};
	char dir[256];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "uffd");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "--ops", "10",
			    bad[i][0], bad[i][1], bad[i][2], NULL);
		cr_expect_eq(c.status, 2, "%s", bad[i][3]);
		cr_expect(strstr(c.err, bad[i][3]), "wanted '%s' in: %s", bad[i][3], c.err);
		cr_expect(!mmb_exists(dir));
	}
}

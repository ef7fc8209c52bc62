/*
 * bench_uffd.c — what a counted fault costs.
 *
 * On the same memfd pages (holes punched before every pass, so each touch
 * is a first touch of a missing page, as in pmem's direct map), one timed
 * write per page: a plain kernel fault (no monitor) against a fault the
 * monitor (uffd.h) handles in SIGBUS mode and in thread mode, the handler
 * thread unpinned, pinned to the faulting thread's CPU, and pinned to
 * another CPU. The faulting thread is pinned to CPU 0 throughout. Variants
 * are interleaved pass by pass; per-fault median and p99 over all passes.
 * Target (issue 6): SIGBUS mode <= 3x the kernel fault; thread mode is
 * reported with the pinning that gives its best median. "handler p50" is the
 * monitor's own handling time (uffd_fault_p50_ns), median over passes.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../allocators/os.h"
#include "bench.h"
#include "../uffd.h"
#include "../stats.h"
#include "../util.h"

#define BU_PAGES 512
#define BU_PG 4096UL

struct bu_variant {
	const char *name;
	enum mmb_fault_mode mode;	/* MMB_FAULTS_OFF: the kernel alone */
	int handler_cpu;
	double *ns;			/* reps * BU_PAGES samples */
	double *handle_p50_ns;		/* per pass: the monitor's own median handling time */
};

/* One pass: punch, (monitor), touch each page once, timed. 0 or -errno. */
static int bu_pass(struct bu_variant *v, int fd, char *p, double *out, double *handle_p50_ns)
{
	struct mmb_uffd_opts o = { v->mode, v->handler_cpu, 0 };
	struct mmb_uffd *m = NULL;
	char why[256];
	int rc;

	rc = mmb_os->punch(fd, 0, BU_PAGES * BU_PG);
	if (rc)
		return rc;
	if (v->mode != MMB_FAULTS_OFF) {
		rc = mmb_uffd_start(&o, &m, why, sizeof(why));
		if (rc) {
			printf("  %s: %s\n", v->name, why);
			return rc;
		}
		rc = mmb_region_add("bench", p, BU_PAGES * BU_PG, MMB_REGION_MISSING, fd, 0);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < BU_PAGES; i++) {
		uint64_t t0 = mmb_now_ns();

		((volatile char *)p)[i * BU_PG] = 1;
		out[i] = (double)(mmb_now_ns() - t0);
	}
out:
	if (m) {
		mmb_uffd_stop(m);
		if (!rc && mmb_uffd_count(m, NULL, -1, NULL, -1) != BU_PAGES) {
			printf("  %s: %llu faults counted for %d first touches\n", v->name,
			       (unsigned long long)mmb_uffd_count(m, NULL, -1, NULL, -1), BU_PAGES);
			rc = -EPROTO;
		}
		*handle_p50_ns = mmb_uffd_latency_ns(m, 0.5);
		mmb_uffd_free(m);
	}
	return rc;
}

static int bench_uffd_run(const struct mmb_bench_opts *o)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct bu_variant v[] = {
		{ "kernel fault (no monitor)", MMB_FAULTS_OFF, -1, NULL, NULL },
		{ "uffd sigbus (same thread)", MMB_FAULTS_SIGBUS, -1, NULL, NULL },
		{ "uffd thread, handler unpinned", MMB_FAULTS_UFFD, -1, NULL, NULL },
		{ "uffd thread, handler on the faulting CPU", MMB_FAULTS_UFFD, 0, NULL, NULL },
		{ "uffd thread, handler on another CPU", MMB_FAULTS_UFFD, 1, NULL, NULL },
	};
	unsigned nv = ncpu > 1 ? 5 : 4, best = 2;
	double med[5], p99[5];
	cpu_set_t old, cpu0;
	char why[256];
	int fd, rc = 0;
	char *p;

	if (mmb_uffd_probe(MMB_FAULTS_SIGBUS, NULL, why, sizeof(why))) {
		printf("  %s\n", why);
		return -ENOTSUP;
	}
	fd = mmb_os->memfd("mmb-bench-uffd", BU_PAGES * BU_PG);
	if (fd < 0)
		return fd;
	p = mmb_os->map(NULL, BU_PAGES * BU_PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!p) {
		rc = -errno;
		goto out_fd;
	}
	for (unsigned i = 0; i < nv; i++) {
		v[i].ns = calloc((size_t)o->reps * BU_PAGES, sizeof(double));
		v[i].handle_p50_ns = calloc(o->reps, sizeof(double));
		if (!v[i].ns || !v[i].handle_p50_ns) {
			rc = -ENOMEM;
			goto out;
		}
	}
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	sched_setaffinity(0, sizeof(cpu0), &cpu0);
	for (unsigned r = 0; r < o->reps && !rc; r++)
		for (unsigned i = 0; i < nv && !rc; i++)
			rc = bu_pass(&v[i], fd, p, v[i].ns + (size_t)r * BU_PAGES,
				     &v[i].handle_p50_ns[r]);
	sched_setaffinity(0, sizeof(old), &old);
	if (rc)
		goto out;

	printf("  %u passes x %d first touches of memfd pages per variant, faulting thread on CPU 0\n",
	       o->reps, BU_PAGES);
	printf("  %-44s %12s %12s %14s\n", "", "median", "p99", "handler p50");
	for (unsigned i = 0; i < nv; i++) {
		size_t n = (size_t)o->reps * BU_PAGES;
		char h[32] = "-";

		mmb_sort(v[i].ns, n);
		med[i] = v[i].ns[n / 2];
		p99[i] = v[i].ns[(size_t)ceil(0.99 * (double)n) - 1];
		mmb_sort(v[i].handle_p50_ns, o->reps);
		if (v[i].mode != MMB_FAULTS_OFF)
			snprintf(h, sizeof(h), "%.0f ns", v[i].handle_p50_ns[o->reps / 2]);
		printf("  %-44s %9.0f ns %9.0f ns %14s\n", v[i].name, med[i], p99[i], h);
		if (i >= 2 && med[i] < med[best])
			best = i;
	}
	mmb_bench_ratio("sigbus / kernel fault, median", med[1], med[0], 3.0);
	mmb_bench_ratio("sigbus / kernel fault, p99", p99[1], p99[0], 3.0);
	printf("  best thread-mode pinning: %s: median %.2fx, p99 %.2fx the kernel fault\n",
	       v[best].name + strlen("uffd thread, "), med[best] / med[0], p99[best] / p99[0]);
out:
	for (unsigned i = 0; i < nv; i++) {
		free(v[i].ns);
		free(v[i].handle_p50_ns);
	}
	mmb_os->unmap(p, BU_PAGES * BU_PG);
out_fd:
	close(fd);
	return rc;
}

const struct mmb_bench_case mmb_bench_uffd = {
	.name = "uffd",
	.desc = "first-touch fault: kernel alone vs uffd SIGBUS and handler-thread modes",
	.run = bench_uffd_run,
};

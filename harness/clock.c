/*
 * clock.c — choosing, calibrating and costing the latency clock (clock.h).
 */
#include "clock.h"

#include <cpuid.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

struct mmb_clock mmb_clock;

int mmb_tsc_usable(char *why, size_t len)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007) {
		snprintf(why, len, "cpuid has no leaf 0x80000007 (TSC invariance unknown)");
		return 0;
	}
	__get_cpuid(0x80000001, &a, &b, &c, &d);
	if (!(d & (1u << 27))) {
		snprintf(why, len, "cpuid: no rdtscp");
		return 0;
	}
	__get_cpuid(0x80000007, &a, &b, &c, &d);
	if (!(d & (1u << 8))) {
		snprintf(why, len, "cpuid: TSC is not invariant");
		return 0;
	}
	if (len)
		why[0] = 0;
	return 1;
}

/* One (CLOCK_MONOTONIC, TSC) pair, the TSC read between two clock reads. */
static void clock_pair(uint64_t *r_ns, uint64_t *r_tsc)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t m0 = mmb_clock_mono_ns(), t = mmb_rdtscp(), m1 = mmb_clock_mono_ns();

		if (m1 - m0 < best) {
			best = m1 - m0;
			*r_ns = m0 + (m1 - m0) / 2;
			*r_tsc = t;
		}
	}
}

static double clock_calibrate(void)
{
	uint64_t n0, t0, n1, t1;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	clock_pair(&n0, &t0);
	nanosleep(&ts, NULL);
	clock_pair(&n1, &t1);
	return (double)(t1 - t0) * 1e9 / (double)(n1 - n0);
}

/* Median of 2001 empty timed operations, after 1000 unrecorded ones. */
static double clock_read_cost(void)
{
	enum { N = 2001 };
	static uint64_t v[N];

	for (int i = -1000; i < N; i++) {
		uint64_t s = mmb_clock_start();
		uint64_t e = mmb_clock_end();

		if (i >= 0)
			v[i] = mmb_clock_ns(s, e);
	}
	qsort(v, N, sizeof(v[0]), mmb_cmp_u64);
	return (double)v[N / 2];
}

/* The step the clock advances by: the median positive difference of two
 * consecutive reads, in ns (not truncated to whole ns). An AMD TSC moves in
 * steps of many ticks, 26 = 10.0 ns on these VMs, with a rare odd one. */
static double clock_resolution(void)
{
	enum { N = 1001 };
	static uint64_t step[N];

	for (int i = 0; i < N; i++) {
		uint64_t a = mmb_clock_start(), b;

		while ((int64_t)((b = mmb_clock_start()) - a) <= 0)
			;
		step[i] = b - a;
	}
	qsort(step, N, sizeof(step[0]), mmb_cmp_u64);
	return mmb_clock.use_tsc ? (double)step[N / 2] * 1e9 / mmb_clock.tsc_hz
				 : (double)step[N / 2];
}

void mmb_clock_init(double tsc_hz, int force_monotonic)
{
	mmb_clock.use_tsc = 0;
	if (force_monotonic)
		snprintf(mmb_clock.why, sizeof(mmb_clock.why), "CLOCK_MONOTONIC asked for");
	else if (mmb_tsc_usable(mmb_clock.why, sizeof(mmb_clock.why))) {
		mmb_clock.tsc_hz = tsc_hz > 0 ? tsc_hz : clock_calibrate();
		mmb_clock.mult = (uint64_t)(1e9 / mmb_clock.tsc_hz * 4294967296.0 + 0.5);
		mmb_clock.use_tsc = 1;
	}
	mmb_clock.read_ns = clock_read_cost();
	mmb_clock.resolution_ns = clock_resolution();
}

const char *mmb_clock_source(void)
{
	return mmb_clock.use_tsc ? "tsc" : "clock_monotonic";
}

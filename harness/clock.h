/*
 * clock.h — the latency clock: the TSC where it is invariant, else
 * CLOCK_MONOTONIC.
 *
 * The TSC is used only when cpuid says it is invariant (leaf 0x80000007,
 * EDX bit 8: constant rate across P-, C- and T-states) and rdtscp exists
 * (leaf 0x80000001, EDX bit 27); this is checked, never assumed. Its rate
 * is calibrated against CLOCK_MONOTONIC (or given, so every cell of a run
 * shares the parent's calibration) and ticks convert to ns by a 32.32
 * fixed-point multiply.
 *
 * A timed operation is mmb_clock_start(); op; mmb_clock_end(). start is a
 * plain rdtsc (it may run a little early, which only adds preceding work);
 * end is rdtscp, which waits until every earlier instruction (the operation)
 * has executed, so an operation is never under-timed. The cost of one such
 * empty pair, read_ns, is measured by mmb_clock_init and recorded in
 * meta.json and cells.csv (timer_overhead_ns); it is NOT subtracted from any
 * latency figure: every percentile includes one clock pair.
 *
 * Thread model: mmb_clock is written once by mmb_clock_init before any
 * worker starts, then only read.
 */
#ifndef MMB_CLOCK_H
#define MMB_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct mmb_clock {
	int use_tsc;			/* 1: rdtsc/rdtscp; 0: CLOCK_MONOTONIC */
	double tsc_hz;			/* ticks per second (use_tsc) */
	uint64_t mult;			/* ns = ticks * mult >> 32 */
	double read_ns;			/* median of an empty timed operation, ns */
	double resolution_ns;		/* smallest step the source advances by, ns */
	char why[128];			/* why the TSC is not used ("" when it is) */
};

extern struct mmb_clock mmb_clock;

/* 1 if cpuid reports an invariant TSC and rdtscp; else 0 with why filled. */
int mmb_tsc_usable(char *why, size_t len);

/*
 * Choose the source and calibrate. tsc_hz > 0: use that rate (the parent's
 * calibration) instead of calibrating; force_monotonic: never use the TSC.
 * Calibration takes about 20 ms; the read-cost measurement about 5 ms.
 */
void mmb_clock_init(double tsc_hz, int force_monotonic);

/* "tsc" or "clock_monotonic". */
const char *mmb_clock_source(void);

static inline uint64_t mmb_clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t mmb_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t mmb_rdtscp(void)
{
	uint32_t lo, hi, aux;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Ticks (TSC) or ns (CLOCK_MONOTONIC) at the start / end of an operation. */
static inline uint64_t mmb_clock_start(void)
{
	return mmb_clock.use_tsc ? mmb_rdtsc() : mmb_clock_mono_ns();
}

static inline uint64_t mmb_clock_end(void)
{
	return mmb_clock.use_tsc ? mmb_rdtscp() : mmb_clock_mono_ns();
}

/* end - start in ns. */
static inline uint64_t mmb_clock_ns(uint64_t start, uint64_t end)
{
	uint64_t d = end - start;

	if (!mmb_clock.use_tsc)
		return d;
	if ((int64_t)d < 0)		/* TSCs of two CPUs a few ticks apart */
		return 0;
	return (uint64_t)(((unsigned __int128)d * mmb_clock.mult) >> 32);
}

#endif /* MMB_CLOCK_H */

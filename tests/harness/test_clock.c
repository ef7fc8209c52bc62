/*
 * test_clock.c — the latency clock agrees with CLOCK_MONOTONIC within 0.5%
 * over 50 ms, whichever source it chose, and its read cost is measured.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <time.h>

#include "../../harness/clock.h"

static void agrees_with_monotonic(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	uint64_t m0 = mmb_clock_mono_ns(), c0 = mmb_clock_start();
	uint64_t c1, m1;
	double dm, dc;

	nanosleep(&ts, NULL);
	c1 = mmb_clock_end();
	m1 = mmb_clock_mono_ns();
	dm = (double)(m1 - m0);
	dc = (double)mmb_clock_ns(c0, c1);
	cr_expect_leq(fabs(dc - dm), dm * 0.005, "%s: %.0f ns vs CLOCK_MONOTONIC %.0f ns",
		      mmb_clock_source(), dc, dm);
	cr_expect_gt(mmb_clock.read_ns, 0);
	cr_expect_lt(mmb_clock.read_ns, 10000);
}

Test(clock, calibrated_tsc_or_monotonic)
{
	char why[128];
	int usable = mmb_tsc_usable(why, sizeof(why));

	mmb_clock_init(0, 0);
	cr_log_info("source %s, %.4g Hz, read %.1f ns %s", mmb_clock_source(), mmb_clock.tsc_hz,
		    mmb_clock.read_ns, why);
	cr_expect_eq(mmb_clock.use_tsc, usable);
	if (usable)
		cr_expect(mmb_clock.tsc_hz > 1e8 && mmb_clock.tsc_hz < 1e11, "%g", mmb_clock.tsc_hz);
	else
		cr_expect(why[0], "no reason given for not using the TSC");
	agrees_with_monotonic();
}

Test(clock, monotonic_fallback)
{
	mmb_clock_init(0, 1);
	cr_expect_eq(mmb_clock.use_tsc, 0);
	cr_expect_str_eq(mmb_clock_source(), "clock_monotonic");
	cr_expect(mmb_clock.why[0]);
	agrees_with_monotonic();
}

Test(clock, given_rate_is_used)
{
	char why[128];

	if (!mmb_tsc_usable(why, sizeof(why)))
		cr_skip_test("TSC not usable here: %s", why);
	mmb_clock_init(1e9, 0);
	cr_expect_eq(mmb_clock.tsc_hz, 1e9);
	cr_expect_eq(mmb_clock_ns(0, 1000), 1000u, "1 GHz: a tick is a ns");
	cr_expect_eq(mmb_clock_ns(1000, 0), 0u, "backwards TSC reads give 0, not 2^64");
}

/*
 * test_perf.c — counter groups: multiplexing scaled by enabled/running with
 * a fake counter backend, refused events read as n/a with the reason, the
 * machine's own answer recorded in meta.json and cells.csv, and n/a read
 * back from cells.csv as not measured.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "../../harness/perf.h"
#include "../../harness/results.h"
#include "../testutil.h"

/* A fake PMU: fds 100.., ids 1000 + fd; a read reports values[] with the
 * given enabled / running times; events listed in refuse[] fail open. */
struct fake {
	int next_fd, nopen, enabled, resets;
	uint64_t time_enabled, time_running;
	uint64_t value[8];
	int refuse_errno[8];		/* by open order */
	int opens;
};

static int fake_open(struct perf_event_attr *attr, int group_fd, void *ctx)
{
	struct fake *f = ctx;
	int i = f->opens++;

	(void)attr;
	(void)group_fd;
	if (f->refuse_errno[i])
		return -f->refuse_errno[i];
	f->nopen++;
	return 100 + i;
}

static int fake_ioctl(int fd, unsigned long req, unsigned long arg, void *ctx)
{
	struct fake *f = ctx;

	if (req == PERF_EVENT_IOC_ID)
		*(uint64_t *)arg = 1000 + (uint64_t)fd;
	else if (req == PERF_EVENT_IOC_ENABLE)
		f->enabled = 1;
	else if (req == PERF_EVENT_IOC_DISABLE)
		f->enabled = 0;
	else if (req == PERF_EVENT_IOC_RESET)
		f->resets++;
	return 0;
}

static ssize_t fake_read(int fd, void *buf, size_t len, void *ctx)
{
	struct fake *f = ctx;
	uint64_t *w = buf, n = 0;

	(void)fd;
	for (int i = 0; i < f->opens; i++)
		if (!f->refuse_errno[i]) {
			w[3 + 2 * n] = f->value[i];
			w[4 + 2 * n] = 1000 + 100 + (uint64_t)i;
			n++;
		}
	w[0] = n;
	w[1] = f->time_enabled;
	w[2] = f->time_running;
	cr_assert_geq(len, (3 + 2 * n) * sizeof(uint64_t));
	return (ssize_t)((3 + 2 * n) * sizeof(uint64_t));
}

static void fake_close(int fd, void *ctx)
{
	struct fake *f = ctx;

	(void)fd;
	f->nopen--;
}

static struct mmb_perf_events ev;

static void parse_events(void)
{
	char err[256];

	cr_assert_eq(mmb_perf_parse("cycles,instructions,LLC-load-misses", "hw_", "_per_op", &ev, err,
				    sizeof(err)), 0, "%s", err);
}

Test(perf, names_and_columns)
{
	char err[256];

	parse_events();
	cr_expect_eq(ev.n, 3u);
	cr_expect_str_eq(ev.col[2], "hw_LLC_load_misses_per_op");
	cr_expect_eq(ev.attr[0].type, PERF_TYPE_HARDWARE);
	cr_expect(ev.attr[0].read_format & PERF_FORMAT_GROUP);
	cr_expect_eq(mmb_perf_parse("cycles,nosuchevent", "hw_", "", &ev, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "'nosuchevent'"), "%s", err);
	cr_expect_eq(mmb_perf_parse("", "hw_", "", &ev, err, sizeof(err)), -EINVAL);
}

Test(perf, multiplexed_values_are_scaled_and_summed)
{
	struct fake f = { .time_enabled = 1000, .time_running = 250, .value = { 100, 40, 8 } };
	struct mmb_perf_backend be = { fake_open, fake_ioctl, fake_read, fake_close, &f };
	struct mmb_perf_group g1, g2;
	double sum[MMB_PERF_MAX_EVENTS] = { 0 };
	int meas[MMB_PERF_MAX_EVENTS] = { 0 };

	parse_events();
	cr_assert_eq(mmb_perf_open(&g1, &ev, &be), 3);
	mmb_perf_start(&g1);
	cr_expect(f.enabled && f.resets == 1);
	mmb_perf_stop(&g1);
	cr_expect(!f.enabled);
	cr_assert_eq(mmb_perf_read(&g1, sum, meas), 0);
	cr_expect_float_eq(sum[0], 400.0, 1e-9, "100 counted in 1/4 of the time: %g", sum[0]);
	cr_expect_float_eq(sum[1], 160.0, 1e-9);
	cr_expect_float_eq(sum[2], 32.0, 1e-9);
	/* A second thread's group, never multiplexed, adds to the sums. */
	f.opens = 0;
	f.time_running = 1000;
	cr_assert_eq(mmb_perf_open(&g2, &ev, &be), 3);
	cr_assert_eq(mmb_perf_read(&g2, sum, meas), 0);
	cr_expect_float_eq(sum[0], 500.0, 1e-9);
	cr_expect(meas[0] && meas[1] && meas[2]);
	mmb_perf_close(&g1);
	mmb_perf_close(&g2);
	cr_expect_eq(f.nopen, 0, "every fd closed");
}

Test(perf, group_that_never_ran_is_not_measured)
{
	struct fake f = { .time_enabled = 1000, .time_running = 0, .value = { 5, 5, 5 } };
	struct mmb_perf_backend be = { fake_open, fake_ioctl, fake_read, fake_close, &f };
	struct mmb_perf_group g;
	double sum[MMB_PERF_MAX_EVENTS] = { 0 };
	int meas[MMB_PERF_MAX_EVENTS] = { 0 };

	parse_events();
	cr_assert_eq(mmb_perf_open(&g, &ev, &be), 3);
	cr_expect_eq(mmb_perf_read(&g, sum, meas), 0);
	cr_expect(!meas[0] && !meas[1] && !meas[2], "running == 0 must not read as 0");
	mmb_perf_close(&g);
}

Test(perf, refused_events_are_na_with_reason)
{
	struct fake f = { .time_enabled = 10, .time_running = 10, .value = { 0, 7, 0 },
			  .refuse_errno = { ENOENT, 0, EOPNOTSUPP } };
	struct mmb_perf_backend be = { fake_open, fake_ioctl, fake_read, fake_close, &f };
	struct mmb_perf_group g;
	double sum[MMB_PERF_MAX_EVENTS] = { 0 };
	int meas[MMB_PERF_MAX_EVENTS] = { 0 };

	parse_events();
	cr_assert_eq(mmb_perf_open(&g, &ev, &be), 1, "only instructions opens");
	cr_expect_eq(g.leader, 101, "the first event that opens leads");
	cr_expect(strstr(g.why, "cycles") && strstr(g.why, "ENOENT"), "%s", g.why);
	cr_assert_eq(mmb_perf_read(&g, sum, meas), 0);
	cr_expect(!meas[0] && meas[1] && !meas[2]);
	cr_expect_float_eq(sum[1], 7.0, 1e-9);
	mmb_perf_close(&g);

	/* No PMU at all (these VMs): nothing opens, nothing is read. */
	struct fake none = { .refuse_errno = { ENOENT, ENOENT, ENOENT } };
	char why[160];

	be.ctx = &none;
	cr_expect_eq(mmb_perf_probe(&ev, &be, why, sizeof(why)), 0);
	cr_expect(strstr(why, "ENOENT"), "%s", why);
}

/* The real machine: cells.csv carries numbers where meta.json says the PMU
 * is there, and n/a (read back as not measured) where it says it is not. */
Test(perf, machine_answer_in_results)
{
	char dir[256], path[300], err[256], meta[65536];
	struct mmb_result *r;
	struct mmb_cmd c;
	const struct mmb_xval *x;
	int n, available;

	mmb_tmpname(dir, sizeof(dir), "perf");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "--ops", "20000", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, meta, sizeof(meta));
	available = strstr(meta, "\"hw_counters\": {\"events\": [\"cycles\", \"instructions\", "
				 "\"cache-misses\", \"LLC-load-misses\", \"dTLB-load-misses\", "
				 "\"branch-misses\"], \"available\": true") != NULL;
	cr_log_info("hardware counters here: %s", available ? "yes" : "no");
	if (!available)
		cr_expect(strstr(meta, "\"available\": false, \"reason\": \"perf_event_open(cycles): "),
			  "no reason for n/a in meta.json: %s", meta);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, &r, err, sizeof(err));
	cr_assert_eq(n, 1, "%s", err);
	x = mmb_result_get_x(&r[0], "hw_dTLB_load_misses_per_op");
	cr_assert_not_null(x, "dynamic column missing");
	if (available) {
		x = mmb_result_get_x(&r[0], "hw_instructions_per_op");
		cr_expect(x && !x->na && x->v > 0, "instructions per op not measured");
	} else {
		cr_expect(x->na && isnan(x->v), "n/a must read back as not measured");
	}
	cr_expect_gt(r[0].m[MMB_M_sw_task_clock], 0, "software events are always reported");
	cr_expect(!isnan(r[0].m[MMB_M_sw_context_switches]));
	free(r);
	mmb_rm_rf(dir);
}

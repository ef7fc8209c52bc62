/*
 * measure.c — measurement options, resolved once by the parent (measure.h).
 */
#include "measure.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hist.h"
#include "util.h"

void mmb_measure_defaults(struct mmb_measure *m)
{
	memset(m, 0, sizeof(*m));
	m->sample = 1;
	m->pin = MMB_PIN_COMPACT;
	m->interval_ms = 10;
}

/* "12.5" -> seconds/ms in *r_d, or "1000ops" -> *r_ops. */
static int measure_amount(const char *s, double hi, double *r_d, uint64_t *r_ops)
{
	char *end;
	size_t len = strlen(s);

	errno = 0;
	if (len > 3 && !strcmp(s + len - 3, "ops")) {
		unsigned long long v;

		if (*s == '-')
			return -EINVAL;
		v = strtoull(s, &end, 10);
		if (errno || end != s + len - 3 || v < 1)
			return -EINVAL;
		*r_ops = v;
		*r_d = 0;
		return 0;
	}
	*r_d = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(*r_d) || *r_d < 0 || *r_d > hi)
		return -EINVAL;
	*r_ops = 0;
	return 0;
}

int mmb_measure_option(struct mmb_measure *m, int c, const char *arg, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	switch (c) {
	case MMB_OPT_SAMPLE:
		errno = 0;
		v = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || *arg == '-' || v < 1 || v > UINT32_MAX) {
			snprintf(err, errlen, "--sample %s: expected N >= 1 (one call in N is timed)", arg);
			return -EINVAL;
		}
		m->sample = (uint32_t)v;
		return 0;
	case MMB_OPT_NO_LATENCY:
		m->sample = 0;
		return 0;
	case MMB_OPT_EVENTS:
		m->events_arg = arg;
		return 0;
	case MMB_OPT_PIN:
		if (mmb_pin_parse(arg, &m->pin)) {
			snprintf(err, errlen, "--pin %s: expected compact, scatter or none", arg);
			return -EINVAL;
		}
		return 0;
	case MMB_OPT_OVERSUBSCRIBE:
		m->oversubscribe = 1;
		return 0;
	case MMB_OPT_SAMPLE_INTERVAL:
		if (measure_amount(arg, 3600 * 1000, &m->interval_ms, &m->interval_ops) ||
		    (!m->interval_ops && m->interval_ms < 0.1)) {
			snprintf(err, errlen, "--sample-interval %s: expected milliseconds in "
				 "[0.1, 3600000] or Nops (e.g. 100000ops)", arg);
			return -EINVAL;
		}
		m->interval_given = 1;
		return 0;
	case MMB_OPT_WARMUP:
		if (measure_amount(arg, 3600, &m->warmup_s, &m->warmup_ops)) {
			snprintf(err, errlen, "--warmup %s: expected seconds in [0, 3600] or Nops "
				 "(calls per thread, e.g. 10000ops)", arg);
			return -EINVAL;
		}
		return 0;
	case MMB_OPT_TIMER:
		if (strcmp(arg, "tsc") && strcmp(arg, "monotonic")) {
			snprintf(err, errlen, "--timer %s: expected tsc or monotonic", arg);
			return -EINVAL;
		}
		m->force_monotonic = !strcmp(arg, "monotonic");
		return 0;
	case MMB_OPT_SIZE_CLASSES:
		m->size_classes = 1;
		return 0;
	}
	snprintf(err, errlen, "internal: measurement option %d", c);
	return -EINVAL;
}

int mmb_measure_load_topo(struct mmb_measure *m, char *err, size_t errlen)
{
	if (m->topo_loaded)
		return 0;
	if (mmb_topo_load(&m->topo, err, errlen))
		return -EINVAL;
	m->topo_loaded = 1;
	return 0;
}

unsigned mmb_measure_threads(const struct mmb_measure *m, unsigned threads)
{
	if (threads == MMB_THREADS_CORES)
		return m->topo.cores ? m->topo.cores : 1;
	if (threads == MMB_THREADS_PUS)
		return m->topo.pus ? m->topo.pus : 1;
	return threads;
}

int mmb_measure_finish(struct mmb_measure *m, const unsigned *threads, unsigned nthreads,
		       char *err, size_t errlen)
{
	if (mmb_measure_load_topo(m, err, errlen))
		return -EINVAL;
	for (unsigned i = 0; i < nthreads; i++) {
		if (threads[i] > m->topo.pus && !m->oversubscribe) {
			snprintf(err, errlen, "-t %u: more threads than the %u processing units here "
				 "(add --oversubscribe to run it anyway)", threads[i], m->topo.pus);
			return -EINVAL;
		}
	}
	if (mmb_perf_parse(m->events_arg ? m->events_arg : MMB_PERF_DEFAULT, "hw_", "_per_op",
			   &m->hw, err, errlen))
		return -EINVAL;
	if (mmb_perf_parse(MMB_PERF_SOFTWARE, "sw_", "", &m->sw, err, errlen))
		return -EINVAL;
	m->hw_available = mmb_perf_probe(&m->hw, &mmb_perf_sys, m->hw_why, sizeof(m->hw_why));
	m->sw_available = mmb_perf_probe(&m->sw, &mmb_perf_sys, m->sw_why, sizeof(m->sw_why));
	mmb_clock_init(0, m->force_monotonic);
	return 0;
}

void mmb_measure_free(struct mmb_measure *m)
{
	if (m->topo_loaded)
		mmb_topo_free(&m->topo);
	m->topo_loaded = 0;
}

int mmb_measure_cell_args(const struct mmb_measure *m, unsigned nthreads, char **argv, int argc,
			  char *buf, size_t len)
{
	size_t off = 0;

#define CELL_ARG(...)                                                                   \
	do {                                                                            \
		int n_ = snprintf(buf + off, len - off, __VA_ARGS__);                   \
		if (n_ < 0 || (size_t)n_ >= len - off)                                  \
			return argc;                                                    \
		argv[argc++] = buf + off;                                               \
		off += (size_t)n_ + 1;                                                  \
	} while (0)

	CELL_ARG("--sample");
	CELL_ARG("%u", m->sample);
	CELL_ARG("--clock-hz");
	CELL_ARG("%.17g", mmb_clock.use_tsc ? mmb_clock.tsc_hz : 0.0);
	{
		char list[2048] = "";
		size_t lo = 0;

		for (unsigned i = 0; i < m->hw.n && lo < sizeof(list); i++)
			lo += (size_t)snprintf(list + lo, sizeof(list) - lo, "%s%s", lo ? "," : "",
					       m->hw.name[i]);
		CELL_ARG("--events");
		CELL_ARG("%s", list);
	}
	if (m->interval_ops) {
		CELL_ARG("--sample-every-ops");
		CELL_ARG("%llu", (unsigned long long)m->interval_ops);
	} else if (m->interval_given) {
		CELL_ARG("--sample-interval-ms");
		CELL_ARG("%.9g", m->interval_ms);
	}
	if (m->size_classes)
		CELL_ARG("--size-classes");
	if (m->warmup_ops) {
		CELL_ARG("--warmup-ops");
		CELL_ARG("%llu", (unsigned long long)m->warmup_ops);
	} else if (m->warmup_s > 0) {
		CELL_ARG("--warmup-s");
		CELL_ARG("%.9g", m->warmup_s);
	}
	if (m->pin != MMB_PIN_NONE && m->topo_loaded) {
		unsigned *cpu = calloc(nthreads, sizeof(*cpu));
		char list[4096] = "";
		size_t lo = 0;

		if (cpu && !mmb_topo_cpus(&m->topo, m->pin, nthreads, m->oversubscribe, cpu)) {
			for (unsigned i = 0; i < nthreads && lo < sizeof(list); i++)
				lo += (size_t)snprintf(list + lo, sizeof(list) - lo, "%s%u",
						       i ? "," : "", cpu[i]);
			CELL_ARG("--cpus");
			CELL_ARG("%s", list);
		}
		free(cpu);
	}
#undef CELL_ARG
	return argc;
}

void mmb_measure_xcols(const struct mmb_measure *m, struct mmb_xcols *xc)
{
	memset(xc, 0, sizeof(*xc));
	for (unsigned i = 0; i < m->hw.n && xc->n < MMB_XCOL_MAX; i++)
		snprintf(xc->name[xc->n++], MMB_XCOL_NAME, "%s", m->hw.col[i]);
}

void mmb_measure_json(FILE *f, const struct mmb_measure *m)
{
	fprintf(f, ",\n  \"clock\": {\"source\": \"%s\", \"tsc_hz\": ", mmb_clock_source());
	if (mmb_clock.use_tsc)
		fprintf(f, "%.0f", mmb_clock.tsc_hz);
	else
		fputs("null", f);
	fputs(", \"not_tsc_because\": ", f);
	if (mmb_clock.use_tsc)
		fputs("null", f);
	else
		mmb_json_str(f, mmb_clock.why);
	fprintf(f, ", \"read_ns\": %.1f, \"resolution_ns\": %.1f, \"read_cost_subtracted\": false}",
		mmb_clock.read_ns, mmb_clock.resolution_ns);
	fprintf(f, ",\n  \"latency\": {\"enabled\": %s, \"sample_one_in\": %u, "
		   "\"histogram\": \"log-linear, 128 buckets per octave\", "
		   "\"percentile_relative_error\": %.4f, \"bucket_upper_bound\": \"exclusive\"}",
		m->sample ? "true" : "false", m->sample, MMB_HIST_REL_ERR);
	fputs(",\n  \"hw_counters\": {\"events\": [", f);
	for (unsigned i = 0; i < m->hw.n; i++) {
		fputs(i ? ", " : "", f);
		mmb_json_str(f, m->hw.name[i]);
	}
	fprintf(f, "], \"available\": %s, \"reason\": ", m->hw_available ? "true" : "false");
	if (m->hw_available && !m->hw_why[0])
		fputs("null", f);
	else
		mmb_json_str(f, m->hw_why);
	fputs(", \"scaled_for_multiplexing\": true, \"per\": \"allocator call, summed over worker "
	      "threads\"}", f);
	fprintf(f, ",\n  \"sw_counters\": {\"available\": %s, \"reason\": ",
		m->sw_available ? "true" : "false");
	if (m->sw_available)
		fputs("null}", f);
	else {
		mmb_json_str(f, m->sw_why);
		fputc('}', f);
	}
	fputs(",\n  \"topology\": ", f);
	if (m->topo_loaded)
		mmb_topo_json(f, &m->topo);
	else
		fputs("null", f);
	fprintf(f, ",\n  \"pin\": \"%s\", \"oversubscribe\": %s", mmb_pin_name(m->pin),
		m->oversubscribe ? "true" : "false");
	if (m->interval_ops)
		fprintf(f, ",\n  \"timeline\": {\"every_ops\": %llu}",
			(unsigned long long)m->interval_ops);
	else if (m->interval_given)
		fprintf(f, ",\n  \"timeline\": {\"interval_ms\": %g}", m->interval_ms);
	else
		fprintf(f, ",\n  \"timeline\": {\"interval_ms\": %g, \"shorter_for_short_cells\": "
			   "\"at least 20 samples per --duration\"}", m->interval_ms);
	if (m->warmup_ops)
		fprintf(f, ",\n  \"warmup\": {\"ops_per_thread\": %llu}",
			(unsigned long long)m->warmup_ops);
	else
		fprintf(f, ",\n  \"warmup\": {\"seconds\": %g}", m->warmup_s);
	if (m->size_classes)
		fputs(",\n  \"size_classes\": true", f);
}

/*
 * cell.c — the child side of a cell (cell.h).
 *
 * Thread model: nthreads workers each bind to their PU (--cpus), open their
 * own counter groups (perf.h) and run the workload; the main thread waits at
 * a barrier with them. With a warm-up (--warmup-s / --warmup-ops) the
 * workers run the workload once untimed, meet at a barrier, reset their
 * counters, histograms and random state (so the timed region sees the same
 * operation sequence as without warm-up) and meet again. Then the main
 * thread samples live bytes and the allocator's stats into the timeline
 * (timeline.h) every --sample-interval-ms, or whenever the calls of all
 * workers pass another multiple of --sample-every-ops, until the deadline
 * (--duration) or until every worker has done its --ops, sets the stop flag
 * and joins. Workers publish live bytes with relaxed atomics (probe.c);
 * stats() is allowed to run concurrently with alloc/free (allocator.h).
 *
 * Faults (--faults uffd|sigbus): the monitor (uffd.h) starts before the
 * allocator is created and stops after it is destroyed; its phase is warmup
 * until the timed region starts (after the warm-up, if any), timed until the
 * stop flag, then teardown; it also feeds the timeline's faults column. Its files go to --fault-dir; fault_census names the monitor
 * that ran (0 when none could start). The perf page-fault counter covers
 * the same timed window in every mode.
 */
#include "cell.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../allocators/allocator.h"
#include "../workloads/workload.h"
#include "clock.h"
#include "memstate.h"
#include "metrics.h"
#include "perf.h"
#include "probe.h"
#include "timeline.h"
#include "topo.h"
#include "uffd.h"
#include "util.h"

struct cell_args;

struct worker {
	struct mmb_wl_thread t;
	struct mmb_probe probe;
	pthread_t thread;
	void *state;
	const struct mmb_wl_ops *wl;
	pthread_barrier_t *barrier;
	atomic_int *ndone;
	struct mmb_uffd *uffd;		/* NULL: no fault monitor */
	uint64_t start_ns, end_ns;
	int rc;
	const struct cell_args *ca;
	int cpu;			/* OS index to bind to, -1 = not bound */
	uint64_t seed;			/* of t.rng, re-applied after warm-up */
	struct mmb_perf_group hw, sw;
	double hw_sum[MMB_PERF_MAX_EVENTS], sw_sum[MMB_PERF_MAX_EVENTS];
	int hw_meas[MMB_PERF_MAX_EVENTS], sw_meas[MMB_PERF_MAX_EVENTS];
	int hw_open, sw_open;
	struct mmb_hist extra[MMB_WL_MAX_OP_KINDS];	/* the workload's own op kinds */
	unsigned nextra;
};

struct cell_args {
	const char *alloc_spec, *wl_spec, *state_dir;
	unsigned threads;
	uint64_t seed, ops;
	double duration_s;
	int check;
	int result_fd;
	enum mmb_fault_mode faults;	/* off, uffd or sigbus */
	int fault_cpu;
	unsigned fault_log;
	const char *fault_dir;
	/* measurement (measure.h passes these) */
	uint32_t sample;		/* time one call in N; 0 = none */
	double clock_hz;		/* the parent's TSC rate, 0 = CLOCK_MONOTONIC, <0 not given */
	const char *events, *cpus;
	double interval_ms, warmup_s;
	uint64_t interval_ops, warmup_ops;
	int interval_given;		/* else 10 ms, shorter for short durations */
	int size_classes;		/* --size-classes: size_classes.csv rows */
	struct mmb_perf_events hw, sw;
	int have_hw, have_sw;
};

struct sample_acc {			/* what the sampler keeps */
	double live_peak, fp_peak, frag_at_peak;
	double unusable_o3, unusable_o9, extfrag_o3, extfrag_o9;
	/* at the live peak: the indices at every order, the size classes */
	double unusable[MMB_NR_ORDERS], extfrag[MMB_NR_ORDERS];
	int want_classes, nclasses;	/* nclasses < 0: not measured */
	struct mmb_size_class classes[MMB_SIZE_CLASSES_MAX];
};

static int cell_warmup(const struct cell_args *ca)
{
	return ca->warmup_s > 0 || ca->warmup_ops;
}

/* After warm-up: the timed region starts from the state a cell without one has. */
static void worker_reset(struct worker *w)
{
	struct mmb_wl_thread *t = &w->t;

	t->nops = t->nallocs = t->nfrees = t->failed = 0;
	t->checksum = 0;
	t->remote_frees = t->dep_stalls = 0;
	t->ops_limit = w->ca->ops;
	mmb_rand_seed(t->rng, w->seed);
	mmb_probe_init(&w->probe, w->ca->sample, w->extra, w->nextra);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct cell_args *ca = w->ca;
	int bind_rc = w->cpu >= 0 ? mmb_bind_self((unsigned)w->cpu) : 0;

	if (w->uffd) {
		char label[16];

		snprintf(label, sizeof(label), "w%u", w->t.tid);
		mmb_uffd_thread_name(w->uffd, label);
	}
	if (w->t.ops->thread_attach)
		w->t.ops->thread_attach(w->t.a);
	if (ca->have_hw)
		w->hw_open = mmb_perf_open(&w->hw, &ca->hw, &mmb_perf_sys);
	if (ca->have_sw)
		w->sw_open = mmb_perf_open(&w->sw, &ca->sw, &mmb_perf_sys);
	pthread_barrier_wait(w->barrier);
	if (cell_warmup(ca)) {
		w->t.ops_limit = ca->warmup_ops;	/* 0: until the main thread stops it */
		w->rc = w->wl->run(w->state, &w->t);
		pthread_barrier_wait(w->barrier);	/* all warm; main clears stop */
		worker_reset(w);
		pthread_barrier_wait(w->barrier);
	}
	if (ca->have_hw)
		mmb_perf_start(&w->hw);
	if (ca->have_sw)
		mmb_perf_start(&w->sw);
	w->start_ns = mmb_now_ns();
	if (!w->rc)
		w->rc = w->wl->run(w->state, &w->t);
	w->end_ns = mmb_now_ns();
	if (ca->have_hw) {
		mmb_perf_stop(&w->hw);
		mmb_perf_read(&w->hw, w->hw_sum, w->hw_meas);
		mmb_perf_close(&w->hw);
	}
	if (ca->have_sw) {
		mmb_perf_stop(&w->sw);
		mmb_perf_read(&w->sw, w->sw_sum, w->sw_meas);
		mmb_perf_close(&w->sw);
	}
	if (bind_rc && !w->rc)
		w->rc = bind_rc;
	atomic_fetch_add(w->ndone, 1);
	if (w->t.ops->thread_detach)
		w->t.ops->thread_detach(w->t.a);
	return NULL;
}

static void cell_sample(const struct mmb_alloc_ops *ops, struct mmb_alloc *a, struct worker *w,
			unsigned n, struct sample_acc *acc, struct mmb_timeline *tl, uint64_t t0_ns)
{
	struct mmb_alloc_stats st;
	struct mmb_tl_sample ts;
	int64_t live = 0;

	for (unsigned i = 0; i < n; i++)
		live += __atomic_load_n(&w[i].t.live_bytes, __ATOMIC_RELAXED);
	mmb_alloc_stats_init(&st);
	if (ops->stats)
		ops->stats(a, &st);
	if (st.footprint_bytes != MMB_STAT_NONE &&
	    (isnan(acc->fp_peak) || (double)st.footprint_bytes > acc->fp_peak))
		acc->fp_peak = (double)st.footprint_bytes;
	if ((double)live > acc->live_peak || isnan(acc->live_peak)) {
		acc->live_peak = (double)live;
		acc->frag_at_peak = NAN;
		acc->unusable_o3 = st.unusable_index[3];
		acc->unusable_o9 = st.unusable_index[9];
		acc->extfrag_o3 = st.extfrag_index[3];
		acc->extfrag_o9 = st.extfrag_index[9];
		memcpy(acc->unusable, st.unusable_index, sizeof(acc->unusable));
		memcpy(acc->extfrag, st.extfrag_index, sizeof(acc->extfrag));
		if (acc->want_classes)
			acc->nclasses = ops->size_classes(a, acc->classes, MMB_SIZE_CLASSES_MAX);
	}
	/* live and usable are read at different instants: a sample with
	 * usable < live saw a block freed in between (torn) and is skipped. */
	if ((double)live == acc->live_peak && live > 0 && st.usable_bytes != MMB_STAT_NONE &&
	    st.usable_bytes >= (uint64_t)live)
		acc->frag_at_peak = 1.0 - (double)live / (double)st.usable_bytes;
	ts.t_ns = mmb_now_ns() - t0_ns;
	ts.live_bytes = (double)live;
	ts.footprint_bytes = st.footprint_bytes == MMB_STAT_NONE ? NAN : (double)st.footprint_bytes;
	ts.faults = mmb_timeline_faults();
	for (int o = 0; o < MMB_NR_ORDERS; o++)
		ts.unusable[o] = st.unusable_index[o];
	mmb_timeline_add(tl, &ts);
}

/* The timeline's fault-count hook when the uffd monitor runs. */
static int64_t cell_uffd_faults(void *m)
{
	return (int64_t)mmb_uffd_count(m, NULL, -1, NULL, -1);
}

static void rec_metric(FILE *f, enum mmb_metric_id id, double v)
{
	if (!isnan(v))
		fprintf(f, "m %s %.17g\n", mmb_metric_info[id].name, v);
}

static int cell_fault_timeline(FILE *f, void *m)
{
	return mmb_uffd_write_timeline(m, f);
}

static int cell_fault_counts(FILE *f, void *m)
{
	return mmb_uffd_write_counts(m, f);
}

static int cell_fault_latency(FILE *f, void *m)
{
	return mmb_uffd_write_latency(m, f);
}

static int cell_fault_log(FILE *f, void *m)
{
	return mmb_uffd_write_log(m, f);
}

/*
 * Stop the monitor (the allocator is gone), write its files to the fault
 * folder and record its metrics. With no instrumented region the uffd
 * columns stay empty (nothing was measured) and note says so.
 */
static void cell_faults_finish(struct mmb_uffd *m, const struct cell_args *ca, FILE *rec,
			       char *note, size_t notelen)
{
	static const struct {
		const char *file;
		int (*write)(FILE *f, void *m);
	} files[] = {
		{ "faults_timeline.csv", cell_fault_timeline },	/* merged into DIR/faults.csv */
		{ "fault_counts.csv", cell_fault_counts },
		{ "fault_latency.csv", cell_fault_latency },
		{ "faults.log", cell_fault_log },
	};
	int rc;

	mmb_uffd_stop(m);
	rc = mmb_mkdir_p(ca->fault_dir, 0755);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && !rc; i++) {
		if (files[i].write == cell_fault_log && !ca->fault_log)
			continue;
		rc = mmb_state_write(ca->fault_dir, files[i].file, files[i].write, m);
	}
	if (rc)
		snprintf(note, notelen, "fault files in %s: %s", ca->fault_dir, strerror(-rc));
	if (mmb_uffd_nregions(m)) {
		rec_metric(rec, MMB_M_uffd_faults, (double)mmb_uffd_count(m, NULL, -1, NULL, -1));
		rec_metric(rec, MMB_M_uffd_faults_timed,
			   (double)mmb_uffd_count(m, NULL, MMB_PHASE_TIMED, NULL, -1));
		rec_metric(rec, MMB_M_uffd_fault_p50_ns, mmb_uffd_latency_ns(m, 0.50));
		rec_metric(rec, MMB_M_uffd_fault_p99_ns, mmb_uffd_latency_ns(m, 0.99));
	} else if (!rc) {
		snprintf(note, notelen, "uffd: %s registers no instrumented region", ca->alloc_spec);
	}
	mmb_uffd_free(m);
}

enum {
	CELL_OPT_SAMPLE = 256, CELL_OPT_CLOCK_HZ, CELL_OPT_EVENTS, CELL_OPT_CPUS,
	CELL_OPT_INTERVAL_MS, CELL_OPT_INTERVAL_OPS, CELL_OPT_WARMUP_S, CELL_OPT_WARMUP_OPS,
	CELL_OPT_SIZE_CLASSES,
};

static const struct option cell_longopts[] = {
	{ "alloc", required_argument, NULL, 'a' },
	{ "workload", required_argument, NULL, 'w' },
	{ "threads", required_argument, NULL, 't' },
	{ "seed", required_argument, NULL, 's' },
	{ "ops", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "state-dir", required_argument, NULL, 'S' },
	{ "check", no_argument, NULL, 'c' },
	{ "result-fd", required_argument, NULL, 'f' },
	{ "faults", required_argument, NULL, 'F' },
	{ "fault-cpu", required_argument, NULL, 'C' },
	{ "fault-log", required_argument, NULL, 'L' },
	{ "fault-dir", required_argument, NULL, 'D' },
	{ "sample", required_argument, NULL, CELL_OPT_SAMPLE },
	{ "clock-hz", required_argument, NULL, CELL_OPT_CLOCK_HZ },
	{ "events", required_argument, NULL, CELL_OPT_EVENTS },
	{ "cpus", required_argument, NULL, CELL_OPT_CPUS },
	{ "sample-interval-ms", required_argument, NULL, CELL_OPT_INTERVAL_MS },
	{ "sample-every-ops", required_argument, NULL, CELL_OPT_INTERVAL_OPS },
	{ "warmup-s", required_argument, NULL, CELL_OPT_WARMUP_S },
	{ "warmup-ops", required_argument, NULL, CELL_OPT_WARMUP_OPS },
	{ "size-classes", no_argument, NULL, CELL_OPT_SIZE_CLASSES },
	{ 0 },
};

static int cell_parse(int argc, char **argv, struct cell_args *ca)
{
	int c;

	memset(ca, 0, sizeof(*ca));
	ca->threads = 1;
	ca->result_fd = -1;
	ca->fault_cpu = -1;
	ca->sample = 1;
	ca->clock_hz = -1;
	ca->interval_ms = 10;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", cell_longopts, NULL)) != -1) {
		switch (c) {
		case 'a': ca->alloc_spec = optarg; break;
		case 'w': ca->wl_spec = optarg; break;
		case 't': ca->threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': ca->seed = strtoull(optarg, NULL, 10); break;
		case 'n': ca->ops = strtoull(optarg, NULL, 10); break;
		case 'd': ca->duration_s = strtod(optarg, NULL); break;
		case 'S': ca->state_dir = optarg; break;
		case 'c': ca->check = 1; break;
		case 'f': ca->result_fd = atoi(optarg); break;
		case 'F':
			if (mmb_fault_mode_parse(optarg, &ca->faults) || ca->faults == MMB_FAULTS_AUTO)
				return -EINVAL;
			break;
		case 'C': ca->fault_cpu = atoi(optarg); break;
		case 'L': ca->fault_log = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'D': ca->fault_dir = optarg; break;
		case CELL_OPT_SAMPLE: ca->sample = (uint32_t)strtoul(optarg, NULL, 10); break;
		case CELL_OPT_CLOCK_HZ: ca->clock_hz = strtod(optarg, NULL); break;
		case CELL_OPT_EVENTS: ca->events = optarg; break;
		case CELL_OPT_CPUS: ca->cpus = optarg; break;
		case CELL_OPT_INTERVAL_MS:
			ca->interval_ms = strtod(optarg, NULL);
			ca->interval_given = 1;
			break;
		case CELL_OPT_INTERVAL_OPS: ca->interval_ops = strtoull(optarg, NULL, 10); break;
		case CELL_OPT_WARMUP_S: ca->warmup_s = strtod(optarg, NULL); break;
		case CELL_OPT_WARMUP_OPS: ca->warmup_ops = strtoull(optarg, NULL, 10); break;
		case CELL_OPT_SIZE_CLASSES: ca->size_classes = 1; break;
		default: return -EINVAL;
		}
	}
	if (!ca->alloc_spec || !ca->wl_spec || ca->threads < 1 || ca->result_fd < 0 ||
	    (ca->faults != MMB_FAULTS_OFF && !ca->fault_dir) ||
	    !(ca->interval_ms > 0 || ca->interval_ops))
		return -EINVAL;
	return 0;
}

/* Sum of the workers' calls so far (read racily: a sampling trigger). */
static uint64_t cell_ops_so_far(struct worker *w, unsigned n)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += __atomic_load_n(&w[i].t.nops, __ATOMIC_RELAXED);
	return sum;
}

static void cell_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	nanosleep(&ts, NULL);
}

/* Sleep until the deadline or until every worker is done, sampling. */
static void cell_wait(const struct cell_args *ca, const struct mmb_alloc_ops *ops,
		      struct mmb_alloc *a, struct worker *w, atomic_int *ndone, atomic_int *stop,
		      struct sample_acc *acc, struct mmb_timeline *tl, uint64_t start)
{
	uint64_t deadline = ca->ops ? UINT64_MAX : start + (uint64_t)(ca->duration_s * 1e9);
	uint64_t interval = (uint64_t)(ca->interval_ms * 1e6);
	uint64_t next_ops = ca->interval_ops;

	if (ca->interval_ops)
		interval = 1000 * 1000;		/* poll the call count every 1 ms */
	else if (!ca->interval_given && !ca->ops && ca->duration_s * 1e9 / 20 < (double)interval)
		interval = (uint64_t)(ca->duration_s * 1e9 / 20) + 1;
	for (;;) {
		uint64_t now = mmb_now_ns();
		uint64_t next = now + interval;

		if (now >= deadline || atomic_load(ndone) == (int)ca->threads)
			break;
		if (next > deadline)
			next = deadline;
		cell_sleep_ns(next - now);
		if (ca->interval_ops) {
			uint64_t sofar = cell_ops_so_far(w, ca->threads);

			if (sofar < next_ops)
				continue;
			next_ops = (sofar / ca->interval_ops + 1) * ca->interval_ops;
		}
		cell_sample(ops, a, w, ca->threads, acc, tl, start);
	}
	atomic_store(stop, 1);
}

/* Parse "3,0,1" into cpu[0..n) ; -EINVAL unless exactly n entries. */
static int cell_parse_cpus(const char *list, struct worker *w, unsigned n)
{
	const char *p = list;

	for (unsigned i = 0; i < n; i++) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || (*end != ',' && *end) || (i + 1 < n && *end != ',') || v >= CPU_SETSIZE)
			return -EINVAL;
		w[i].cpu = (int)v;
		p = end + (*end == ',');
	}
	return *p ? -EINVAL : 0;
}

/* Latency, counters and timeline of the finished timed region, as record lines. */
static void cell_report_measures(FILE *rec, const struct cell_args *ca, struct worker *w,
				 const struct mmb_wl_ops *wl, double ops_total,
				 const struct mmb_timeline *tl)
{
	if (ca->sample) {
		static struct mmb_hist merged[MMB_OPK_COUNT], extra[MMB_WL_MAX_OP_KINDS];

		for (int k = 0; k < MMB_OPK_COUNT; k++) {
			mmb_hist_init(&merged[k]);
			for (unsigned i = 0; i < ca->threads; i++)
				mmb_hist_merge(&merged[k], &w[i].probe.hist[k]);
		}
		for (unsigned k = 0; k < w[0].nextra; k++) {
			mmb_hist_init(&extra[k]);
			for (unsigned i = 0; i < ca->threads; i++)
				mmb_hist_merge(&extra[k], &w[i].extra[k]);
		}
		mmb_probe_report(rec, merged, extra, wl->op_kinds, w[0].nextra);
		fprintf(rec, "m %s %.17g\n", mmb_metric_info[MMB_M_timer_overhead_ns].name,
			mmb_clock.read_ns);
	}
	for (unsigned e = 0; ca->have_hw && e < ca->hw.n; e++) {
		double sum = 0;
		int opened = 0, measured = 0;

		for (unsigned i = 0; i < ca->threads; i++) {
			opened |= w[i].hw_open && w[i].hw.opened[e];
			measured |= w[i].hw_meas[e];
			sum += w[i].hw_sum[e];
		}
		if (!opened)
			fprintf(rec, "x %s n/a\n", ca->hw.col[e]);
		else if (measured && ops_total > 0)
			fprintf(rec, "x %s %.17g\n", ca->hw.col[e], sum / ops_total);
	}
	for (unsigned e = 0; ca->have_sw && e < ca->sw.n; e++) {
		double sum = 0;
		int measured = 0;

		for (unsigned i = 0; i < ca->threads; i++) {
			measured |= w[i].sw_meas[e];
			sum += w[i].sw_sum[e];
		}
		if (measured && mmb_metric_find(ca->sw.col[e]) >= 0)
			fprintf(rec, "m %s %.0f\n", ca->sw.col[e], sum);
	}
	mmb_timeline_emit(rec, tl);
}

int mmb_cell_main(int argc, char **argv)
{
	struct cell_args ca;
	const struct mmb_alloc_ops *ops;
	const struct mmb_wl_ops *wl;
	struct mmb_alloc_cfg cfg;
	struct mmb_pvals wparams;
	struct mmb_alloc *a = NULL;
	struct worker *w = NULL;
	void *state = NULL;
	pthread_barrier_t barrier;
	atomic_int stop = 0, ndone = 0;
	struct mmb_uffd *mon = NULL;
	int perf_fd = -1;
	char fault_note[512] = "";
	static struct sample_acc acc;	/* static: the size classes are large */
	struct mmb_timeline tl = { 0 };
	uint64_t t0, setup_ns;
	char err[MMB_ERR_MAX] = "", wname[64];
	const char *status = "failed";
	FILE *rec;
	int rc;

	acc.live_peak = acc.fp_peak = acc.frag_at_peak = NAN;
	acc.unusable_o3 = acc.unusable_o9 = acc.extfrag_o3 = acc.extfrag_o9 = NAN;
	for (int o = 0; o < MMB_NR_ORDERS; o++)
		acc.unusable[o] = acc.extfrag[o] = NAN;
	acc.nclasses = -1;
	if (cell_parse(argc, argv, &ca)) {
		mmb_err("cell: bad arguments (internal command, run by `mmbench run`)");
		return MMB_EXIT_USAGE;
	}
	rec = fdopen(ca.result_fd, "w");
	if (!rec) {
		mmb_err("cell: result fd %d: %s", ca.result_fd, strerror(errno));
		return 1;
	}
	if (ca.faults != MMB_FAULTS_OFF) {
		struct mmb_uffd_opts uo = { ca.faults, ca.fault_cpu, ca.fault_log };
		char why[256] = "";

		if (mmb_uffd_start(&uo, &mon, why, sizeof(why)))
			snprintf(fault_note, sizeof(fault_note),
				 "fault monitor unavailable, kernel counts only: %s", why);
		else
			mmb_uffd_thread_name(mon, "main");
		if (mon)
			mmb_timeline_set_faults(cell_uffd_faults, mon);
	}
	{
		char why[256];

		if (mmb_perf_faults_open(&perf_fd, why, sizeof(why)))
			perf_fd = -1;	/* perf_page_faults stays empty */
	}
	mmb_clock_init(ca.clock_hz > 0 ? ca.clock_hz : 0, ca.clock_hz == 0);
	if (ca.events && mmb_perf_parse(ca.events, "hw_", "_per_op", &ca.hw, err, sizeof(err)))
		goto out;
	ca.have_hw = ca.events != NULL;
	ca.have_sw = !mmb_perf_parse(MMB_PERF_SOFTWARE, "sw_", "", &ca.sw, err, sizeof(err));
	err[0] = 0;
	if (mmb_alloc_parse_config(ca.alloc_spec, &ops, &cfg, err, sizeof(err)))
		goto out;
	cfg.nthreads = ca.threads;
	{
		const char *colon = strchr(ca.wl_spec, ':');
		size_t n = colon ? (size_t)(colon - ca.wl_spec) : strlen(ca.wl_spec);

		snprintf(wname, sizeof(wname), "%.*s", (int)n, ca.wl_spec);
		wl = mmb_wl_find(wname);
		if (!wl) {
			snprintf(err, sizeof(err), "unknown workload '%s'", wname);
			goto out;
		}
		if (mmb_params_parse(wl->params, colon ? colon + 1 : NULL, wname, &wparams, err,
				     sizeof(err)))
			goto out;
	}
	if (ca.size_classes && !ops->size_classes) {
		snprintf(err, sizeof(err), "--size-classes: %s has no size classes", ops->name);
		goto out;
	}
	acc.want_classes = ca.size_classes;
	rc = ops->create(&cfg, &a, err, sizeof(err));
	if (rc) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s: create failed: %s", ops->name, strerror(-rc));
		a = NULL;
		goto out;
	}
	setup_ns = mmb_now_ns();
	rc = wl->setup(&wparams, ca.threads, ca.seed, &state, err, sizeof(err));
	setup_ns = mmb_now_ns() - setup_ns;
	if (rc) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s: setup failed: %s", wl->name, strerror(-rc));
		goto out_destroy;
	}
	w = calloc(ca.threads, sizeof(*w));
	if (!w || pthread_barrier_init(&barrier, NULL, ca.threads + 1)) {
		snprintf(err, sizeof(err), "out of memory for %u threads", ca.threads);
		goto out_teardown;
	}
	for (unsigned i = 0; i < ca.threads; i++)
		w[i].cpu = -1;
	if (ca.cpus && cell_parse_cpus(ca.cpus, w, ca.threads)) {
		snprintf(err, sizeof(err), "--cpus %s: expected %u CPU numbers", ca.cpus, ca.threads);
		goto out_teardown;
	}
	for (unsigned i = 0; i < ca.threads; i++) {
		struct worker *wk = &w[i];

		wk->t.ops = ops;
		wk->t.a = a;
		wk->t.tid = i;
		wk->t.nthreads = ca.threads;
		wk->t.stop = &stop;
		wk->t.ops_limit = ca.ops;
		wk->t.probe = &wk->probe;
		while (wl->op_kinds && wl->op_kinds[wk->nextra] && wk->nextra < MMB_WL_MAX_OP_KINDS)
			wk->nextra++;
		mmb_probe_init(&wk->probe, ca.sample, wk->extra, wk->nextra);
		wk->seed = ca.seed + 0x632be59bd9b4e019ULL * (i + 1);
		mmb_rand_seed(wk->t.rng, wk->seed);
		wk->ca = &ca;
		wk->state = state;
		wk->wl = wl;
		wk->barrier = &barrier;
		wk->ndone = &ndone;
		wk->uffd = mon;
		if (pthread_create(&wk->thread, NULL, worker_main, wk)) {
			/* Threads already started wait at the barrier forever: give up the cell. */
			snprintf(err, sizeof(err), "cannot create thread %u of %u", i + 1, ca.threads);
			fprintf(rec, "status failed\ndetail %s\nend\n", err);
			fflush(rec);
			_exit(0);
		}
	}
	if (!cell_warmup(&ca)) {
		if (mon)
			mmb_uffd_set_phase(mon, MMB_PHASE_TIMED);
		if (perf_fd >= 0)
			mmb_perf_faults_enable(perf_fd, 1);
	}
	pthread_barrier_wait(&barrier);
	if (cell_warmup(&ca)) {
		if (!ca.warmup_ops) {
			cell_sleep_ns((uint64_t)(ca.warmup_s * 1e9));
			atomic_store(&stop, 1);
		}
		pthread_barrier_wait(&barrier);
		atomic_store(&stop, 0);
		if (mon)
			mmb_uffd_set_phase(mon, MMB_PHASE_TIMED);
		if (perf_fd >= 0)
			mmb_perf_faults_enable(perf_fd, 1);
		pthread_barrier_wait(&barrier);
	}
	t0 = mmb_now_ns();
	cell_wait(&ca, ops, a, w, &ndone, &stop, &acc, &tl, t0);
	if (perf_fd >= 0)
		mmb_perf_faults_enable(perf_fd, 0);
	if (mon)
		mmb_uffd_set_phase(mon, MMB_PHASE_TEARDOWN);

	double ops_total = 0, allocs = 0, frees = 0, failed = 0, remote = 0, stalls = 0;
	uint64_t start = UINT64_MAX, end = 0, sum = 0;

	for (unsigned i = 0; i < ca.threads; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].rc && !err[0])
			snprintf(err, sizeof(err), "%s: thread %u failed: %s", wl->name, i,
				 strerror(-w[i].rc));
		ops_total += (double)w[i].t.nops;
		allocs += (double)w[i].t.nallocs;
		frees += (double)w[i].t.nfrees;
		failed += (double)w[i].t.failed;
		remote += (double)w[i].t.remote_frees;
		stalls += (double)w[i].t.dep_stalls;
		if (w[i].start_ns < start)
			start = w[i].start_ns;
		if (w[i].end_ns > end)
			end = w[i].end_ns;
		if ((double)w[i].probe.live_peak_bytes > acc.live_peak || isnan(acc.live_peak))
			acc.live_peak = (double)w[i].probe.live_peak_bytes;
		uint64_t tmix = w[i].t.checksum + i;

		sum += mmb_splitmix64(&tmix);
	}
	cell_sample(ops, a, w, ca.threads, &acc, &tl, t0);
	if (ops->thread_attach)
		ops->thread_attach(a);
	wl->teardown(state, &w[0].t);
	state = NULL;
	if (ops->thread_detach)
		ops->thread_detach(a);

	struct mmb_alloc_stats st;
	static struct mmb_size_class end_classes[MMB_SIZE_CLASSES_MAX];
	int nend = ca.size_classes ? ops->size_classes(a, end_classes, MMB_SIZE_CLASSES_MAX) : -1;

	mmb_alloc_stats_init(&st);
	if (ops->stats)
		ops->stats(a, &st);
	/* The allocator's own high-water mark catches peaks between samples. */
	if (st.footprint_peak_bytes != MMB_STAT_NONE &&
	    (isnan(acc.fp_peak) || (double)st.footprint_peak_bytes > acc.fp_peak))
		acc.fp_peak = (double)st.footprint_peak_bytes;
	if (!err[0] && ca.check && ops->check && ops->check(a, err, sizeof(err)) && !err[0])
		snprintf(err, sizeof(err), "%s: check failed", ops->name);
	if (!err[0] && ca.state_dir && ops->dump_state) {
		rc = mmb_mkdir_p(ca.state_dir, 0755);
		if (!rc)
			rc = ops->dump_state(a, ca.state_dir);
		if (rc)
			snprintf(err, sizeof(err), "dump-state to %s: %s", ca.state_dir, strerror(-rc));
	}
	if (!err[0])
		status = "ok";

	double wall = (double)(end > start ? end - start : 0);

	rec_metric(rec, MMB_M_ops, ops_total);
	rec_metric(rec, MMB_M_wall_ns, wall);
	rec_metric(rec, MMB_M_ops_per_sec, wall > 0 ? ops_total / (wall / 1e9) : NAN);
	rec_metric(rec, MMB_M_allocs, allocs);
	rec_metric(rec, MMB_M_frees, frees);
	rec_metric(rec, MMB_M_failed_allocs, failed);
	rec_metric(rec, MMB_M_live_peak_bytes, acc.live_peak);
	rec_metric(rec, MMB_M_footprint_peak_bytes, acc.fp_peak);
	if (st.footprint_bytes != MMB_STAT_NONE)
		rec_metric(rec, MMB_M_footprint_end_bytes, (double)st.footprint_bytes);
	if (acc.live_peak > 0)
		rec_metric(rec, MMB_M_overhead_ratio, acc.fp_peak / acc.live_peak);
	rec_metric(rec, MMB_M_internal_frag, acc.frag_at_peak);
	/* On the buddy zone, the zone's own exact record of its fullest
	 * moment; a sample near the live peak can miss it by the frames that
	 * decide the index (frag_orders.csv keeps both). */
	if (!isnan(st.zone_peak_unusable_index[9])) {
		acc.unusable_o3 = st.zone_peak_unusable_index[3];
		acc.unusable_o9 = st.zone_peak_unusable_index[9];
		acc.extfrag_o3 = st.zone_peak_extfrag_index[3];
		acc.extfrag_o9 = st.zone_peak_extfrag_index[9];
	}
	rec_metric(rec, MMB_M_unusable_index_o3, acc.unusable_o3);
	rec_metric(rec, MMB_M_unusable_index_o9, acc.unusable_o9);
	rec_metric(rec, MMB_M_extfrag_index_o3, acc.extfrag_o3);
	rec_metric(rec, MMB_M_extfrag_index_o9, acc.extfrag_o9);
	rec_metric(rec, MMB_M_op_checksum, (double)(sum & ((1ULL << 48) - 1)));
	rec_metric(rec, MMB_M_setup_ns, (double)setup_ns);
	if (wl->counts_remote) {
		rec_metric(rec, MMB_M_remote_frees, remote);
		rec_metric(rec, MMB_M_dep_stalls, stalls);
	}
	if (st.leaks_found != MMB_STAT_NONE)
		rec_metric(rec, MMB_M_leaks_found, (double)st.leaks_found);
	if (st.corruptions_caught != MMB_STAT_NONE)
		rec_metric(rec, MMB_M_corruptions_caught, (double)st.corruptions_caught);
	if (st.frag_failed_allocs != MMB_STAT_NONE)
		rec_metric(rec, MMB_M_frag_failed_allocs, (double)st.frag_failed_allocs);
	if (st.frag_fail_order != MMB_STAT_NONE)
		rec_metric(rec, MMB_M_frag_fail_order, (double)st.frag_fail_order);
	if (st.frag_fail_free_pages != MMB_STAT_NONE)
		rec_metric(rec, MMB_M_frag_fail_free_pages, (double)st.frag_fail_free_pages);
	mmb_memstate_emit_orders(rec, "live_peak", acc.unusable, acc.extfrag);
	mmb_memstate_emit_orders(rec, "zone_peak", st.zone_peak_unusable_index,
				 st.zone_peak_extfrag_index);
	mmb_memstate_emit_orders(rec, "first_frag_failure", st.frag_fail_unusable_index,
				 st.frag_fail_extfrag_index);
	if (acc.nclasses > 0)
		mmb_memstate_emit_classes(rec, "live_peak", ops->name, acc.classes, acc.nclasses);
	if (nend > 0)
		mmb_memstate_emit_classes(rec, "end", ops->name, end_classes, nend);
	if (st.malloc_provider)
		fprintf(rec, "provider %s\n", st.malloc_provider);
	if (perf_fd >= 0) {
		int64_t pf = mmb_perf_faults_read(perf_fd);	/* threads joined: counts folded in */

		if (pf >= 0)
			rec_metric(rec, MMB_M_perf_page_faults, (double)pf);
	}
	cell_report_measures(rec, &ca, w, wl, ops_total, &tl);
	goto out_destroy;

out_teardown:
	if (state)
		wl->teardown(state, NULL);
out_destroy:
	mmb_timeline_free(&tl);
	free(w);
	if (a)
		ops->destroy(a);
out:
	mmb_timeline_set_faults(NULL, NULL);
	rec_metric(rec, MMB_M_fault_census, mon ? mmb_fault_census(ca.faults) : 0);
	if (mon)
		cell_faults_finish(mon, &ca, rec, fault_note, sizeof(fault_note));
	if (perf_fd >= 0)
		close(perf_fd);
	fprintf(rec, "status %s\n", status);
	if (err[0])
		fprintf(rec, "detail %s\n", err);
	else if (fault_note[0])
		fprintf(rec, "detail %s\n", fault_note);
	fprintf(rec, "end\n");
	if (fclose(rec))
		return 1;
	return 0;
}

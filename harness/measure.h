/*
 * measure.h — the measurement options of `mmbench run` and what the parent
 * resolves from them once: latency sampling, the clock's calibration,
 * hardware counters, topology and pinning, the timeline, warm-up.
 *
 * plan.c lists MMB_MEASURE_LONGOPTS in its option table and hands every
 * option value in [MMB_MEASURE_OPT_FIRST, MMB_MEASURE_OPT_END) to
 * mmb_measure_option(); after parsing, mmb_measure_finish() loads the
 * topology, checks thread counts against it, encodes the events (bad names
 * are bad usage) and calibrates the clock. run.c passes each cell its part
 * through mmb_measure_cell_args(), and meta.c writes mmb_measure_json().
 */
#ifndef MMB_MEASURE_H
#define MMB_MEASURE_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "perf.h"
#include "results.h"
#include "topo.h"

/* -t tokens resolved from the topology. */
#define MMB_THREADS_CORES (~0u)
#define MMB_THREADS_PUS (~0u - 1)

enum {
	MMB_MEASURE_OPT_FIRST = 512,
	MMB_OPT_SAMPLE = MMB_MEASURE_OPT_FIRST,
	MMB_OPT_NO_LATENCY,
	MMB_OPT_EVENTS,
	MMB_OPT_PIN,
	MMB_OPT_OVERSUBSCRIBE,
	MMB_OPT_SAMPLE_INTERVAL,
	MMB_OPT_WARMUP,
	MMB_OPT_TIMER,
	MMB_OPT_SIZE_CLASSES,
	MMB_MEASURE_OPT_END,
};

#define MMB_MEASURE_LONGOPTS                                                   \
	{ "sample", required_argument, NULL, MMB_OPT_SAMPLE },                 \
	{ "no-latency", no_argument, NULL, MMB_OPT_NO_LATENCY },               \
	{ "events", required_argument, NULL, MMB_OPT_EVENTS },                 \
	{ "pin", required_argument, NULL, MMB_OPT_PIN },                       \
	{ "oversubscribe", no_argument, NULL, MMB_OPT_OVERSUBSCRIBE },         \
	{ "sample-interval", required_argument, NULL, MMB_OPT_SAMPLE_INTERVAL }, \
	{ "warmup", required_argument, NULL, MMB_OPT_WARMUP },                 \
	{ "timer", required_argument, NULL, MMB_OPT_TIMER },                   \
	{ "size-classes", no_argument, NULL, MMB_OPT_SIZE_CLASSES },

#define MMB_MEASURE_USAGE                                                                  \
	"      --sample N         time one allocator call in N (default: 1, every call)\n"     \
	"      --no-latency       time no call: pure throughput, no latency columns\n"        \
	"      --events LIST      hardware counters, any libpfm4 names (default: cycles,\n"  \
	"                         instructions,cache-misses,LLC-load-misses,\n"              \
	"                         dTLB-load-misses,branch-misses)\n"                          \
	"      --pin POLICY       compact|scatter|none: worker threads on PUs (default:\n"   \
	"                         compact); -t also takes `cores` and `pus`\n"               \
	"      --oversubscribe    allow more threads than processing units\n"               \
	"      --sample-interval MS|Nops  timeline sample every MS milliseconds (default:\n" \
	"                         10) or every N allocator calls (e.g. 100000ops)\n"        \
	"      --warmup SECONDS|Nops  run the workload this long first, untimed\n"          \
	"                         (default: 0, no warm-up)\n"                                \
	"      --timer tsc|monotonic  latency clock (default: tsc where invariant)\n"       \
	"      --size-classes     per size class live/capacity at the live peak and the\n" \
	"                         end, in size_classes.csv (allocators with classes only)\n" \
	"      --resume DIR       finish the interrupted run in DIR (no other option)\n"

struct mmb_measure {
	uint32_t sample;		/* time one call in N; 0 = --no-latency */
	int force_monotonic;		/* --timer monotonic */
	const char *events_arg;		/* NULL = default */
	struct mmb_perf_events hw;	/* encoded events */
	struct mmb_perf_events sw;	/* the software events, always */
	int hw_available;		/* at least one hw event opens here */
	char hw_why[160];		/* why not */
	int sw_available;
	char sw_why[160];
	enum mmb_pin pin;
	int oversubscribe;
	double interval_ms;		/* timeline interval; 0 when by ops */
	uint64_t interval_ops;
	int interval_given;		/* --sample-interval given (else the cell's default) */
	double warmup_s;
	uint64_t warmup_ops;
	int size_classes;		/* --size-classes */
	struct mmb_topo topo;
	int topo_loaded;
};

void mmb_measure_defaults(struct mmb_measure *m);

/* One option value (c in [FIRST, END)). Returns 0 or -EINVAL with err. */
int mmb_measure_option(struct mmb_measure *m, int c, const char *arg, char *err, size_t errlen);

/* Load the topology (once). Returns 0 or -EINVAL with err. */
int mmb_measure_load_topo(struct mmb_measure *m, char *err, size_t errlen);

/* A -t value with MMB_THREADS_CORES / MMB_THREADS_PUS resolved (topology
 * loaded; 1 where hwloc counted none). */
unsigned mmb_measure_threads(const struct mmb_measure *m, unsigned threads);

/*
 * After the plan is expanded: refuse thread counts above the PUs without
 * --oversubscribe, encode the events, probe the counters, calibrate the
 * clock. Returns 0 or -EINVAL with err.
 */
int mmb_measure_finish(struct mmb_measure *m, const unsigned *threads, unsigned nthreads,
		       char *err, size_t errlen);
void mmb_measure_free(struct mmb_measure *m);

/*
 * Append the cell options for a cell of nthreads workers to argv (at most
 * MMB_MEASURE_CELL_ARGS entries, strings kept in buf: 16 KiB holds any
 * plan, 1024 threads' CPU list included). Returns the new argc.
 */
#define MMB_MEASURE_CELL_ARGS 16
int mmb_measure_cell_args(const struct mmb_measure *m, unsigned nthreads, char **argv, int argc,
			  char *buf, size_t len);

/* The run's dynamic cells.csv columns (hw_<event>_per_op). */
void mmb_measure_xcols(const struct mmb_measure *m, struct mmb_xcols *r_xc);

/* meta.json fields (",\n  \"clock\": ..." etc., no trailing comma). */
void mmb_measure_json(FILE *f, const struct mmb_measure *m);

#endif /* MMB_MEASURE_H */

/*
 * probe.h — per-thread measurement state behind mmb_wl_alloc/mmb_wl_free.
 *
 * One struct mmb_probe per worker thread, owned by the harness and written
 * only by its thread; the cell merges them after the threads are joined.
 *
 * Latency: with sample_every = N > 0, one call in N of each operation kind
 * is timed (clock.h) and recorded in that kind's histogram (hist.h); each
 * kind has its own countdown, so alternating alloc/free never aliases with
 * N. sample_every = 0 (--no-latency) times nothing: the untimed path costs
 * one extra load and branch per call.
 */
#ifndef MMB_PROBE_H
#define MMB_PROBE_H

#include <stdint.h>
#include <stdio.h>

#include "hist.h"

enum mmb_op_kind { MMB_OPK_ALLOC, MMB_OPK_FREE, MMB_OPK_COUNT };

/* "alloc", "free": the op column of latency.csv and the column prefixes. */
extern const char *const mmb_op_kind_name[MMB_OPK_COUNT];

struct mmb_probe {
	int64_t live_peak_bytes;	/* this thread's own peak of live bytes */
	uint32_t sample_every;		/* time one call in this many; 0 = none */
	uint32_t sample_left[MMB_OPK_COUNT];
	struct mmb_hist hist[MMB_OPK_COUNT];
};

/* Reset counters and histograms (before the timed region, after warm-up). */
void mmb_probe_init(struct mmb_probe *p, uint32_t sample_every);

/*
 * Write the merged histograms (one per kind) as cell record lines: the
 * percentile metrics ("m alloc_p50_ns ...", metrics.h) and every non-empty
 * bucket ("h alloc <lo_ns> <hi_ns> <count>", latency.csv). Kinds with no
 * timed call write nothing (not measured).
 */
void mmb_probe_report(FILE *rec, const struct mmb_hist h[MMB_OPK_COUNT]);

#endif /* MMB_PROBE_H */

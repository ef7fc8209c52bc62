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
 * one extra load and branch per call. Operation kinds a workload defines
 * (workload.h op_kinds) get histograms of their own, provided by the cell.
 */
#ifndef MMB_PROBE_H
#define MMB_PROBE_H

#include <stdint.h>
#include <stdio.h>

#include "../workloads/workload.h"
#include "hist.h"

enum mmb_op_kind { MMB_OPK_ALLOC, MMB_OPK_FREE, MMB_OPK_COUNT };

/* "alloc", "free": the op column of latency.csv and the column prefixes. */
extern const char *const mmb_op_kind_name[MMB_OPK_COUNT];

struct mmb_probe {
	int64_t live_peak_bytes;	/* this thread's own peak of live bytes */
	int64_t waste_at_peak;		/* t->waste_bytes when live_peak_bytes was reached */
	int exact;			/* exact accounting: usable_size per call */
	uint32_t sample_every;		/* time one call in this many; 0 = none */
	uint32_t sample_left[MMB_OPK_COUNT];
	struct mmb_hist hist[MMB_OPK_COUNT];
	unsigned nextra;		/* workload-defined kinds */
	uint32_t extra_left[MMB_WL_MAX_OP_KINDS];
	struct mmb_hist *extra;		/* nextra histograms, owned by the caller */
};

/* Reset counters and histograms (before the timed region, after warm-up);
 * extra: nextra histograms for the workload's own kinds (NULL, 0 = none). */
void mmb_probe_init(struct mmb_probe *p, uint32_t sample_every, struct mmb_hist *extra,
		    unsigned nextra);

/* Turn exact accounting on (after mmb_probe_init) when ops has usable_size;
 * returns whether it is on. */
int mmb_probe_set_exact(struct mmb_probe *p, const struct mmb_alloc_ops *ops, int on);

/*
 * Write the merged histograms (one per kind) as cell record lines: the
 * percentile metrics ("m alloc_p50_ns ...", metrics.h) and every non-empty
 * bucket ("h alloc <lo_ns> <hi_ns> <count>", latency.csv); for the
 * workload's own kinds (extra[i] named names[i]) the buckets only. Kinds
 * with no timed call write nothing (not measured).
 */
void mmb_probe_report(FILE *rec, const struct mmb_hist h[MMB_OPK_COUNT],
		      const struct mmb_hist *extra, const char *const *names, unsigned nextra);

#endif /* MMB_PROBE_H */

/*
 * footprint.h — footprint with one meaning for every allocator, and the
 * classic fragmentation measures computed from the same samples.
 *
 * footprint = the cell process's memory (anonymous resident pages,
 * /proc/self/statm resident - shared, plus the pages its memfds hold, counted
 * once however many times they are mapped and also while unmapped) minus a
 * baseline read just before the allocator is created. File-backed pages
 * (library code) are not counted. The memfd part is how the kernel-style
 * allocators' simulated RAM counts: frames touched, whichever allocator
 * mapped them, and never given back (no hole is punched). Everything the
 * harness itself needs (worker table, histograms, timeline storage, the
 * workload's bookkeeping, which setup touches) is in place before the
 * baseline, so what grows after it is the allocator's: its blocks, metadata,
 * caches, and the simulated RAM frames (pmem memfd pages) the kernel-style
 * allocators have touched. What remains of the harness in it: the worker
 * threads' stacks (a few pages each) and timeline samples beyond the
 * reserved ones.
 *
 * Invariants (tests check them over every timeline row):
 *	footprint >= live bytes - one page per worker thread, for a workload
 *	that writes every page of its blocks (a page never written is not
 *	resident: footprint measures memory, not address space).
 *	internal_frag = waste / (live + waste) in [0, 1), waste = sum over live
 *	blocks of usable_size - requested (probe.h, exact accounting).
 *
 * The allocator's own figure (stats()->footprint_bytes: frames out of the
 * zone, jemalloc's resident, ...) is kept beside it (footprint_own_*), never
 * mixed in.
 *
 * Cost: one read of /proc/self/statm and a readlink per open descriptor,
 * about 0.15 ms per sample on a loaded 2-core VM (the sampler's thread, not
 * the workers').
 *
 * Thread model: the cell's main thread samples; nothing here is shared.
 */
#ifndef MMB_FOOTPRINT_H
#define MMB_FOOTPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "timeline.h"

/* The process's resident bytes now, or -errno; no malloc (it runs in cells
 * whose allocator is the process's malloc). */
int mmb_resident_bytes(uint64_t *r_bytes);

/* The classic measures over a cell's samples; every field NaN = none yet. */
struct mmb_fp_acc {
	double live_peak, fp_at_live_peak, waste_at_live_peak;
	double fp_peak;
	double own_peak;
	double ratio_sum;		/* sum of footprint / live over samples with live > 0 */
	uint64_t ratio_n;
};

void mmb_fp_init(struct mmb_fp_acc *acc);

/* One sample: live and waste bytes (waste NaN without exact accounting),
 * footprint (NaN: not read), the allocator's own figure (NaN: none). */
void mmb_fp_add(struct mmb_fp_acc *acc, double live, double waste, double fp, double own);

/*
 * Johnstone & Wilson's "footprint / live at the point of maximal footprint",
 * over timeline samples with live > 0: footprint seldom falls, so its
 * maximum lasts (and creeps up by a page or two) long after the live set
 * has shrunk; the point is the sample with the most live bytes among those
 * whose footprint is within MMB_FP_JW_BAND of the maximum. NaN when no
 * sample had live > 0 and a footprint.
 */
#define MMB_FP_JW_BAND 0.01
double mmb_fp_jw_at_peak(const struct mmb_tl_sample *s, size_t n);

/* 1 - live / (live + waste), NaN when live <= 0 or waste is NaN. */
double mmb_internal_frag(double live, double waste);

/* The measures (NaN where a sample with live > 0 is missing):
 *	realized	footprint at the live peak / live peak - 1 (tcmalloc)
 *	mean_ratio	mean of footprint / live over the samples with live > 0 */
double mmb_fp_realized(const struct mmb_fp_acc *acc);
double mmb_fp_mean_ratio(const struct mmb_fp_acc *acc);

#endif /* MMB_FOOTPRINT_H */

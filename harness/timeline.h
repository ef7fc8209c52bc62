/*
 * timeline.h — a cell's timeline: live bytes, footprint, faults so far and
 * the unusable free space index at orders 0..10, the allocator's own
 * footprint figure and the internal fragmentation of the live blocks,
 * sampled at a fixed interval or every N allocator calls
 * (--sample-interval), and written by the parent to DIR/timeline.csv:
 *
 *	cell,t_ns,live_bytes,footprint_bytes,faults,unusable_o0,...,unusable_o10,
 *	footprint_own_bytes,internal_frag
 *
 * footprint_bytes and internal_frag mean what cells.csv's footprint and
 * internal_frag columns mean (footprint.h); internal_frag is empty without
 * exact accounting.
 *
 * t_ns counts from the start of the cell's timed region and increases from
 * row to row of a cell. An empty field is "not measured" (an allocator
 * without free lists by order has no unusable index; faults are empty until
 * a fault counter is installed).
 *
 * Child -> parent: one record line per sample,
 *	t <t_ns> <live> <footprint> <faults> <u0> ... <u10> <own> <frag>
 * with "na" for a value not measured.
 *
 * Thread model: samples are taken and kept by the cell's main thread only.
 */
#ifndef MMB_TIMELINE_H
#define MMB_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../allocators/allocator.h"

#define MMB_TL_MAX_SAMPLES 100000	/* later samples are dropped (and counted) */
#define MMB_TL_HEADER                                                                   \
	"cell,t_ns,live_bytes,footprint_bytes,faults,unusable_o0,unusable_o1,unusable_o2," \
	"unusable_o3,unusable_o4,unusable_o5,unusable_o6,unusable_o7,unusable_o8,"         \
	"unusable_o9,unusable_o10,footprint_own_bytes,internal_frag"

struct mmb_tl_sample {
	uint64_t t_ns;
	double live_bytes, footprint_bytes, faults;	/* NaN = not measured */
	double unusable[MMB_NR_ORDERS];
	double footprint_own_bytes, internal_frag;	/* NaN = not measured */
};

/* Record-line fields after "t": t_ns, live, footprint, faults, the orders, own, frag. */
#define MMB_TL_FIELDS (4 + MMB_NR_ORDERS + 2)

struct mmb_timeline {
	struct mmb_tl_sample *s;
	size_t n, cap;
	uint64_t dropped;
};

/*
 * The fault-count hook: the userfaultfd monitor installs fn, which returns
 * the faults counted so far in this cell, or -1 when it counts none.
 * Without a hook the faults column stays empty.
 */
typedef int64_t (*mmb_faults_fn)(void *ctx);
void mmb_timeline_set_faults(mmb_faults_fn fn, void *ctx);
double mmb_timeline_faults(void);		/* NaN when not counted */

/* Room for n samples, allocated and touched now (before the footprint
 * baseline, so that the samples do not count in it). 0 or -ENOMEM. */
int mmb_timeline_reserve(struct mmb_timeline *tl, size_t n);

/* Append one sample. Returns 0, or -ENOMEM (sample dropped). */
int mmb_timeline_add(struct mmb_timeline *tl, const struct mmb_tl_sample *s);
void mmb_timeline_free(struct mmb_timeline *tl);

/* Write the record lines ("t ..."). */
void mmb_timeline_emit(FILE *rec, const struct mmb_timeline *tl);

/* One record line's payload (after "t ") -> one CSV row for cell, into out.
 * Returns 0, or -EINVAL for a malformed line. */
int mmb_timeline_csv_row(const char *payload, unsigned cell, FILE *out);

#endif /* MMB_TIMELINE_H */

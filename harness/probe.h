/*
 * probe.h — per-thread measurement state behind mmb_wl_alloc/mmb_wl_free.
 *
 * One struct mmb_probe per worker thread, owned by the harness and written
 * only by its thread; the cell merges them after the threads are joined.
 */
#ifndef MMB_PROBE_H
#define MMB_PROBE_H

#include <stdint.h>

struct mmb_probe {
	int64_t live_peak_bytes;	/* this thread's own peak of live bytes */
};

#endif /* MMB_PROBE_H */

/*
 * jemalloc_bins.h — jemalloc's small size classes (bins) as size classes
 * (allocator.h), for the `jemalloc` adapter (its own arena) and
 * `jemalloc-malloc` (all arenas, MALLCTL_ARENAS_ALL).
 */
#ifndef MMB_JEMALLOC_BINS_H
#define MMB_JEMALLOC_BINS_H

struct mmb_size_class;

/* Bins of arena (an arena index, or 4096 = MALLCTL_ARENAS_ALL) in
 * ascending size, at most max; returns how many, or -errno. */
int mmb_je_size_classes(unsigned arena, struct mmb_size_class *r, int max);

#endif /* MMB_JEMALLOC_BINS_H */

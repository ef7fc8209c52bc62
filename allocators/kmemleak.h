/*
 * kmemleak.h — a leak detector in the style of the kernel's kmemleak
 * (mm/kmemleak.c): every object of the allocators that call it is tracked
 * with its size, allocation time, thread and call stack; a scan marks the
 * objects reachable from the roots by conservative pointer scanning and
 * reports the others as "unreferenced object 0x... (size N):".
 *
 * Roots (the kernel's data/bss, task stacks and gray objects):
 *   - every private writable mapping of the process (/proc/self/maps): the
 *     data and bss of every loaded object and the process's malloc heap,
 *     where the harness and the workloads keep their bookkeeping. Shared
 *     mappings (the pmem direct map and vmalloc areas hold the tracked
 *     objects themselves), the detector's own records, ranges given to
 *     mmb_kmemleak_ignore_range and the stacks of registered threads are
 *     left out of this sweep.
 *   - the stacks of registered threads, from their stack pointer up, and
 *     their registers: a scan stops them with a signal (SIGRTMIN + 6) while
 *     it looks; the scanning thread's own stack and registers likewise.
 *     Stacks of threads that were registered and are no longer are not
 *     scanned (their stale words would hide leaks).
 *   - ranges added with mmb_kmemleak_register_root.
 * Interior pointers count. Objects reachable from a gray object are gray
 * (the gray list gives the transitive closure).
 *
 * Colours, as the kernel's: count < min_count = white (leak candidate);
 * min_count == 0 (not a leak) or count >= min_count = gray; min_count == -1
 * (ignored) = black, neither scanned nor reported.
 *
 * A scan reports a white object when it is older than min_age_ms and its
 * contents did not change since the previous scan (the checksum's second
 * chance), except a quiescent scan (MMB_KMEMLEAK_QUIESCENT: no thread is
 * inside the allocator or holds a pointer in flight, e.g. after every
 * worker has detached), which reports every white object. An object is
 * reported once (REPORTED); mmb_kmemleak_write lists the reported objects
 * still allocated, as reading /sys/kernel/debug/kmemleak does.
 *
 * Thread-safe; alloc and free hooks take one mutex. A scan holds it
 * throughout, so hooks wait while a scan runs.
 */
#ifndef MMB_KMEMLEAK_H
#define MMB_KMEMLEAK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MMB_KMEMLEAK_MIN_AGE_MS 5000	/* MSECS_MIN_AGE */
#define MMB_KMEMLEAK_QUIESCENT 1u	/* scan flag */

struct mmb_kmemleak;

struct mmb_kmemleak_cfg {
	uint64_t min_age_ms;		/* objects younger than this are not reported */
	uint64_t scan_ms;		/* period of the scan thread; 0 = none (scans on demand) */
	FILE *log;			/* "kmemleak: N new suspected memory leaks"; NULL = none */
};

int mmb_kmemleak_create(const struct mmb_kmemleak_cfg *cfg, struct mmb_kmemleak **r_kml,
			char *err, size_t errlen);
void mmb_kmemleak_destroy(struct mmb_kmemleak *kml);

/* kmemleak_alloc: track [ptr, ptr + size); min_count 1 for ordinary objects. */
void mmb_kmemleak_alloc(struct mmb_kmemleak *kml, const void *ptr, size_t size, int min_count);
/* kmemleak_free: forget the object starting at ptr (unknown pointers are ignored). */
void mmb_kmemleak_free(struct mmb_kmemleak *kml, const void *ptr);
/* kmemleak_not_leak: gray for good (still scanned). kmemleak_ignore: black. */
void mmb_kmemleak_not_leak(struct mmb_kmemleak *kml, const void *ptr);
void mmb_kmemleak_ignore(struct mmb_kmemleak *kml, const void *ptr);

/* Extra roots, and ranges the root sweep must not read (0 or -ENOMEM). */
int mmb_kmemleak_register_root(struct mmb_kmemleak *kml, const void *start, size_t len);
void mmb_kmemleak_unregister_root(struct mmb_kmemleak *kml, const void *start);
int mmb_kmemleak_ignore_range(struct mmb_kmemleak *kml, const void *start, size_t len);
void mmb_kmemleak_unignore_range(struct mmb_kmemleak *kml, const void *start);

/*
 * A word equal to value is never a reference (an allocator keeps the base
 * of its memory, e.g. the direct map, in its metadata: the object that
 * starts there would never be reported). 0 or -ENOSPC (8 at most).
 */
int mmb_kmemleak_ignore_value(struct mmb_kmemleak *kml, const void *value);

/* The calling thread's stack and registers become roots until it unregisters. */
int mmb_kmemleak_thread_register(struct mmb_kmemleak *kml);
void mmb_kmemleak_thread_unregister(struct mmb_kmemleak *kml);
/* Threads registered now. */
unsigned mmb_kmemleak_nr_threads(struct mmb_kmemleak *kml);

/*
 * One scan (kmemleak_scan); reports go to the log. Returns the number of
 * new leaks, or -errno (the maps could not be read).
 */
int mmb_kmemleak_scan(struct mmb_kmemleak *kml, unsigned flags);

struct mmb_kmemleak_counts {
	uint64_t objects;		/* tracked now */
	uint64_t leaks;			/* reported since create */
	uint64_t scans;
	uint64_t last_scan_ns;		/* duration of the last scan */
};
void mmb_kmemleak_counts(struct mmb_kmemleak *kml, struct mmb_kmemleak_counts *r_c);

/* Every reported object still allocated, in the kernel's report format. */
int mmb_kmemleak_write(struct mmb_kmemleak *kml, FILE *f);
/* The same into dir/kmemleak.txt (written to a temporary, renamed). 0 or -errno. */
int mmb_kmemleak_write_file(struct mmb_kmemleak *kml, const char *dir);

/*
 * For an allocator's stats(): with no thread registered (nothing in
 * flight, e.g. every worker detached) run a quiescent scan first; return
 * the leaks reported so far.
 */
uint64_t mmb_kmemleak_leaks(struct mmb_kmemleak *kml);

#endif /* MMB_KMEMLEAK_H */

/*
 * metrics.h — the one list of measured columns.
 *
 * MMB_METRICS drives struct mmb_result's values, the cells.csv header and
 * rows, the child->parent record and the column names plots and compare use,
 * so none of them can drift apart (mimalloc's MI_STAT_FIELDS). Bump
 * MMB_SCHEMA_VERSION on any incompatible change (a column renamed, removed or
 * given another meaning); adding a column at the end is compatible.
 *
 * X(kind, name, description): kind U64 prints as an integer, F64 as a
 * decimal. Every value is held as a double (exact for integers below 2^53);
 * NaN means "not measured" and prints as an empty field, never as 0.
 */
#ifndef MMB_METRICS_H
#define MMB_METRICS_H

#define MMB_SCHEMA_VERSION 2	/* 2: malloc_provider after detail */

#define MMB_METRICS(X)                                                                        \
	X(U64, ops, "allocator calls (alloc + free) in the timed region, all threads")       \
	X(U64, wall_ns, "wall-clock time of the timed region, ns")                           \
	X(F64, ops_per_sec, "ops / wall time, operations per second")                        \
	X(U64, allocs, "alloc calls in the timed region")                                     \
	X(U64, frees, "free calls in the timed region")                                       \
	X(U64, failed_allocs, "alloc calls that returned NULL")                               \
	X(U64, live_peak_bytes, "peak of bytes requested and not yet freed (sampled)")        \
	X(U64, footprint_peak_bytes, "peak bytes the allocator held from the system (sampled)") \
	X(U64, footprint_end_bytes, "bytes the allocator held at the end, blocks all freed")  \
	X(F64, overhead_ratio, "footprint_peak_bytes / live_peak_bytes")                      \
	X(F64, internal_frag, "1 - requested / usable bytes of live blocks, at the peak")     \
	X(U64, rss_peak_bytes, "peak resident set of the cell's process, bytes")              \
	X(F64, unusable_index_o3, "kernel unusable free space index at order 3 (/1000), at the peak")      \
	X(F64, unusable_index_o9, "kernel unusable free space index at order 9 (/1000), at the peak")      \
	X(F64, extfrag_index_o3, "kernel fragmentation index at order 3 (/1000), at the peak")             \
	X(F64, extfrag_index_o9, "kernel fragmentation index at order 9 (/1000), at the peak")             \
	X(U64, minflt, "minor page faults of the cell's process (getrusage)")                 \
	X(U64, majflt, "major page faults of the cell's process (getrusage)")                 \
	X(U64, op_checksum, "checksum of the (operation, size) sequence, 48 bits")          \
	X(U64, uffd_faults, "first touches of instrumented pages (userfaultfd), all phases") \
	X(U64, uffd_faults_timed, "uffd_faults in the timed region")                         \
	X(F64, uffd_fault_p50_ns, "median fault-handling time, ns (monitor's own work)")     \
	X(F64, uffd_fault_p99_ns, "99th percentile fault-handling time, ns")                 \
	X(U64, perf_page_faults, "page faults of the timed region, user mode (perf sw event)") \
	X(U64, cpu_user_ns, "user CPU time of the cell's process, ns (getrusage)")           \
	X(U64, cpu_sys_ns, "system CPU time of the cell's process, ns (getrusage)")          \
	MMB_LATENCY_METRICS(X, alloc)                                                         \
	MMB_LATENCY_METRICS(X, free)                                                          \
	X(F64, timer_overhead_ns, "median empty timed operation in the cell, ns (not subtracted)") \
	X(U64, sw_task_clock, "perf task-clock of the worker threads, ns")                    \
	X(U64, sw_page_faults, "perf page-faults of the worker threads")                      \
	X(U64, sw_context_switches, "perf context-switches of the worker threads")            \
	X(U64, sw_cpu_migrations, "perf cpu-migrations of the worker threads")               \
	X(U64, fault_census, "fault monitor the cell ran: 0 none (timing), 1 uffd, 2 sigbus; 1 and 2 include fault handling in latencies") \
	X(U64, leaks_found, "objects kmemleak reported unreferenced (kmemleak=on)")          \
	X(U64, corruptions_caught, "KFENCE and slub_debug reports (kfence=N or debug=...)")  \
	X(U64, frag_failed_allocs, "page allocations on the buddy zone that failed with enough free frames (fragmentation failures)") \
	X(U64, frag_fail_order, "order of the first fragmentation failure")                  \
	X(U64, frag_fail_free_pages, "free frames of the zone at the first fragmentation failure") \
	X(U64, setup_ns, "workload setup before the timed region (replay: reading the trace), ns") \
	X(U64, remote_frees, "frees of a block another worker allocated (workloads that count them: replay)") \
	X(U64, dep_stalls, "calls that waited for another worker's call they depend on (replay threads=recorded)")

/* Latency percentiles of one operation kind (hist.h), in ns. */
#define MMB_LATENCY_METRICS(X, op)                                                            \
	X(F64, op##_p50_ns, #op " latency median, ns")                                        \
	X(F64, op##_p90_ns, #op " latency 90th percentile, ns")                               \
	X(F64, op##_p99_ns, #op " latency 99th percentile, ns")                               \
	X(F64, op##_p999_ns, #op " latency 99.9th percentile, ns")                            \
	X(F64, op##_p9999_ns, #op " latency 99.99th percentile, ns")                          \
	X(U64, op##_max_ns, #op " latency maximum, ns")

enum mmb_metric_kind { MMB_U64, MMB_F64 };

enum mmb_metric_id {
#define MMB_METRIC_ENUM(kind, name, desc) MMB_M_##name,
	MMB_METRICS(MMB_METRIC_ENUM)
#undef MMB_METRIC_ENUM
	MMB_M_COUNT
};

struct mmb_metric_info {
	enum mmb_metric_kind kind;
	const char *name;
	const char *desc;
};

extern const struct mmb_metric_info mmb_metric_info[MMB_M_COUNT];

/* Index of a metric by column name, or -1. */
int mmb_metric_find(const char *name);

#endif /* MMB_METRICS_H */

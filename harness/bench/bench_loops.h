/*
 * bench_loops.h — the alloc/free loops the allocator bench cases share
 * (bench_production.c, bench_slab.c), run either through a registry
 * adapter in this process or through a malloc library's own malloc/free in
 * an LD_PRELOADed child, so that every side runs the same operations:
 *   pair	alloc(64) + free
 *   batch	MMB_BENCH_BATCH blocks of sizes 1..512 (fixed seed), freed in a
 *		fixed random other order; one iteration = one batch
 *
 * Adapter side: created with nthreads = 1 and attached on the calling
 * thread (bench_adapter_open), called through its ops table with sized
 * frees, as a cell's workload calls it.
 *
 * Native side: plain malloc/free in a child process of mmbench (the same
 * binary, re-executed as `mmbench bench --native-child`) with the library
 * LD_PRELOADed, so that it owns malloc there from the first instruction:
 * jemalloc's, mimalloc's and tcmalloc's (which can never run in mmbench's
 * own process: allocators/tcmalloc.c). The child serves one request at a
 * time over a pipe ("pair N" / "batch N": run the loop N times, answer
 * "ok"); the parent's variant function sends a request and waits for the
 * answer with the time the loop took there, so the child's loops
 * interleave with in-process variants in mmb_bench_interleaved like any
 * other variant, and the pipe's round trip (which a loaded machine can
 * stretch to milliseconds) is not in the figure. The child checks with dladdr
 * which file really serves its malloc; the parent refuses any other.
 */
#ifndef MMB_BENCH_LOOPS_H
#define MMB_BENCH_LOOPS_H

#include <limits.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

struct mmb_alloc;
struct mmb_alloc_ops;

#define MMB_BENCH_BATCH 1000

/* The batch's sizes (1..512) and free order, the same in every process. */
void mmb_bench_batch_pattern(uint16_t *size, uint32_t *order);

/*
 * The pattern and a variant's slots, each array starting a page, and kept
 * in static storage: every process (the adapters' and each native child)
 * then has them at the same offsets within their pages. On the stack
 * their offsets moved from one process to the next, and with them the
 * loops' speed: the same mimalloc batch loop, adapter against mi_malloc
 * called directly in one process, went from 0.99 to 1.25 over six runs
 * (1.01 to 1.11 with the arrays page-aligned), as the loop's loads met the
 * blocks' stores at the same addresses modulo 4 KiB or did not.
 */
struct mmb_bench_pattern {
	uint16_t size[MMB_BENCH_BATCH] __attribute__((aligned(4096)));
	uint32_t order[MMB_BENCH_BATCH] __attribute__((aligned(4096)));
};
struct mmb_bench_slots {
	void *blk[MMB_BENCH_BATCH];
} __attribute__((aligned(4096)));

/* A registry adapter, attached on the calling thread. */
struct mmb_bench_adapter {
	const char *spec;
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	const uint16_t *size;		/* MMB_BENCH_BATCH sizes */
	const uint32_t *order;		/* the free order */
	void **blk;			/* MMB_BENCH_BATCH slots */
};

/* Create spec (nthreads 1) and attach; 0, or -errno with err saying why. */
int mmb_bench_adapter_open(struct mmb_bench_adapter *x, const char *spec, char *err,
			   size_t errlen);
void mmb_bench_adapter_close(struct mmb_bench_adapter *x);
/* Variant functions with arg = struct mmb_bench_adapter *. */
void mmb_bench_adapter_pair(void *arg, uint64_t iters);
void mmb_bench_adapter_batch(void *arg, uint64_t iters);

/* A library's malloc running in a child. */
struct mmb_native {
	const char *name;		/* "jemalloc", "mimalloc", "tcmalloc" */
	pid_t pid;
	int to, from;			/* request and answer pipes */
	int failed;			/* a request got no answer: figures void */
	char provider[PATH_MAX];	/* the file that served malloc in the child */
};

/* Start the child for library name ("jemalloc", "mimalloc" or "tcmalloc").
 * 0, or -errno with err saying why (library not installed, not the one
 * that served malloc, ...). */
int mmb_native_start(struct mmb_native *n, const char *name, char *err, size_t errlen);
void mmb_native_stop(struct mmb_native *n);

/* Variant functions with arg = struct mmb_native *; they report the time
 * the child took (mmb_bench_self_timed). */
void mmb_native_pair(void *arg, uint64_t iters);
void mmb_native_batch(void *arg, uint64_t iters);

/* The child's side: `mmbench bench --native-child`, fds 0 and 1. */
int mmb_native_child(void);

#endif /* MMB_BENCH_LOOPS_H */

/*
 * trace.h — the binary allocation trace: what `mmbench record` writes
 * (preload/record.c), what `mmbench trace-info` summarizes and what the
 * replay workload reads (workloads/trace.c decodes it).
 *
 * Layout (version 1, every integer little-endian):
 *
 *	header	32 bytes: magic "MMBTRACE", u16 version, u16 header_bytes (32),
 *		u32 flags (0), u64 start_ns (CLOCK_MONOTONIC when recording
 *		began), u32 pid (the recorded process), u32 reserved (0)
 *	chunk*	24 bytes: u32 magic "CHNK", u32 thread (0, 1, ... in order
 *		of each thread's first call), u32 payload_bytes, u32 records,
 *		u64 base_ns; then payload_bytes of records
 *
 * A chunk with thread == MMB_TRACE_IMAGE_THREAD and no records marks a new
 * program image of the recorded process (it exec'ed), at base_ns: every
 * block of the image before is gone then. Thread numbers restart in each
 * image; the reader keeps them apart.
 *
 * A thread fills its own buffer and writes it as one chunk with one
 * write(2) on an O_APPEND descriptor, so chunks of different threads never
 * interleave inside each other, and one thread's chunks follow each other
 * in time. Every chunk decodes on its own (its deltas start from base_ns
 * and address 0).
 *
 * A record is an op byte, then unsigned LEB128 varints:
 *	op			MMB_TOP_* below
 *	dt_ns			since the previous record of the chunk (base_ns first)
 *	addr delta		zigzag(addr - previous addr of the chunk); the
 *				address the call returned (0 when it failed) or freed
 *	size			allocating ops only: bytes asked for (calloc: n * size)
 *	align			MEMALIGN, POSIX_MEMALIGN, ALIGNED_ALLOC only
 *
 * Time is taken before a free and after an allocation returns, so in the
 * merged order (by time, each thread's order kept) a block is freed before
 * its address is handed out again. realloc writes two records: REALLOC_FREE
 * of the old block (time before the call; only when the block moved or was
 * freed) and REALLOC of the new one (time after), and reallocarray the same.
 */
#ifndef MMB_TRACE_H
#define MMB_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define MMB_TRACE_MAGIC "MMBTRACE"
#define MMB_TRACE_VERSION 1
#define MMB_TRACE_HEADER_BYTES 32
#define MMB_TRACE_CHUNK_MAGIC 0x4b4e4843u	/* "CHNK" little-endian */
#define MMB_TRACE_CHUNK_BYTES 24
#define MMB_TRACE_RECORD_MAX 32			/* bytes one record can take */
#define MMB_TRACE_IMAGE_THREAD 0xffffffffu	/* chunk thread of an image mark */

enum mmb_trace_op {
	MMB_TOP_MALLOC = 1,
	MMB_TOP_CALLOC,
	MMB_TOP_REALLOC,		/* the new block of realloc / reallocarray */
	MMB_TOP_REALLOC_FREE,		/* the old block realloc released */
	MMB_TOP_FREE,
	MMB_TOP_MEMALIGN,
	MMB_TOP_POSIX_MEMALIGN,
	MMB_TOP_ALIGNED_ALLOC,
	MMB_TOP_VALLOC,
	MMB_TOP_PVALLOC,
	MMB_TOP_EXEC,			/* decoded from an image chunk; never a record */
	MMB_TOP_NR
};

static inline int mmb_trace_op_allocates(unsigned op)
{
	return op != MMB_TOP_FREE && op != MMB_TOP_REALLOC_FREE && op != MMB_TOP_EXEC;
}

static inline int mmb_trace_op_aligned(unsigned op)
{
	return op == MMB_TOP_MEMALIGN || op == MMB_TOP_POSIX_MEMALIGN ||
	       op == MMB_TOP_ALIGNED_ALLOC;
}

static inline uint8_t *mmb_trace_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint64_t mmb_trace_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t mmb_trace_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/*
 * One decoded call, in the merged order. Event numbers (index, and the
 * "event N" of error messages) count records in file order from 1; an
 * image mark is no record and takes the number of the record after it.
 */
struct mmb_trace_event {
	uint64_t t_ns;			/* since the header's start_ns */
	uint64_t addr;			/* returned or freed address (0: failed) */
	uint64_t size;			/* allocating ops: bytes asked for; matched
					 * frees: the block's (0 counted as 1) */
	uint64_t index;			/* event number */
	uint32_t thread;		/* dense: 0, 1, ... in order of first chunk */
	uint32_t alloc_thread;		/* matched frees: the allocating thread */
	uint32_t align;			/* aligned ops: the alignment asked for */
	uint32_t obj;			/* matched: dense object number (see below) */
	uint8_t op;			/* MMB_TOP_* */
	uint8_t matched;		/* 1: part of an object's lifetime */
	uint8_t replaces;		/* matched allocation: object obj was live at
					 * this address (its free was lost) and ends here */
};

#define MMB_TRACE_HIST_BUCKETS 32	/* sizes: bucket b holds [2^(b-1), 2^b), bucket 0 holds 0 */

/* One recorded thread (dense number). */
struct mmb_trace_thread {
	uint64_t first_ns, last_ns;	/* its first and last call, since start_ns */
	uint64_t calls;
};

/* The summary of a whole trace. */
struct mmb_trace {
	uint32_t nthreads, nobjs;	/* nobjs: most objects live at once */
	uint32_t pid;
	uint64_t start_ns, duration_ns;
	uint64_t nev;			/* records (calls), image marks not counted */
	/* Summary of the matched lifetimes, in the merged order. A request of
	 * 0 bytes counts as 1 byte (the allocator contract's smallest size, as
	 * replay allocates it). */
	uint64_t calls[MMB_TOP_NR];	/* records per op */
	uint64_t failed;		/* allocations that returned NULL */
	uint64_t lost_frees;		/* addresses handed out again without a free */
	uint64_t exec_drops;		/* blocks live when the process exec'ed */
	uint32_t images;		/* program images (1 + execs) */
	uint64_t allocs, frees;		/* matched allocations and frees */
	uint64_t xthread_frees;		/* matched frees on another thread than the allocation */
	uint64_t live_end, live_end_bytes;	/* objects still live at the end */
	uint64_t peak_live_bytes, alloc_bytes;
	uint32_t threads_at_once;	/* most threads between their first and last call at once */
	uint64_t hist[MMB_TRACE_HIST_BUCKETS];	/* allocations by size */
	struct mmb_trace_thread *threads;	/* nthreads */
};

/*
 * 1 if the file starts with the binary magic, 0 if not (a text trace or
 * something else), -errno if it cannot be read.
 */
int mmb_trace_is_binary(const char *path);

/* Called for every event in the merged order; 0, or -errno to stop the read. */
typedef int (*mmb_trace_fn)(void *arg, const struct mmb_trace_event *e);

/*
 * Stream a binary trace: decode, merge and match it, calling fn (if not
 * NULL) for every event in the merged order, and fill *r_t with the
 * summary. Objects: an allocation opens one (obj = the most recently
 * closed object number, else a new one), its matching free (same address,
 * later in the merged order) closes it, and so does an MMB_TOP_EXEC event
 * for every object live then. Memory: the chunk index, one chunk buffer
 * per thread being read and the live objects, never the whole trace.
 * Returns 0, or -EINVAL with "PATH: offset N, event M: what" in err for a
 * truncated or foreign file or a free of an address the trace never
 * allocated (or had freed already), -ENOMEM or -errno of the read with
 * "PATH: what", or fn's nonzero return as it is (err untouched: the caller
 * knows why). mmb_trace_free releases r_t's thread table, whatever the
 * return.
 */
int mmb_trace_read(const char *path, struct mmb_trace *r_t, mmb_trace_fn fn, void *arg,
		   char *err, size_t errlen);
void mmb_trace_free(struct mmb_trace *t);

/*
 * The threads of a trace from its header and chunk headers alone (cheap:
 * no record is decoded): nthreads, start_ns, nev and per thread its calls,
 * first_ns (its first chunk's base time: its first call's, as the recorder
 * writes it) and last_ns (its last chunk's base time: a lower bound of its
 * last call's, within one chunk). Errors as mmb_trace_read's, for what the
 * headers show; mmb_trace_free releases the table.
 */
int mmb_trace_threads(const char *path, struct mmb_trace *r_t, char *err, size_t errlen);

/*
 * Walk the header and chunk headers only (cheap, for `mmbench record`'s
 * closing line): records and threads. 0, or -EINVAL / -errno with
 * "PATH: offset N: what" in err.
 */
int mmb_trace_count(const char *path, uint64_t *r_records, uint32_t *r_threads, char *err,
		    size_t errlen);

const char *mmb_trace_op_name(unsigned op);

#endif /* MMB_TRACE_H */

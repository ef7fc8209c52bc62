/*
 * replay_ops.h — the compact form a trace takes for replay
 * (workloads/replay.c): one sequence of operations per worker, each
 * operation 16 bytes (plus 8 for its recorded time with timing=on), built
 * once at setup from the binary reader's events (workloads/trace.c) or
 * the text parser (workloads/replay_text.c).
 *
 * Slots: a text trace's IDs are its slots. A binary trace's objects get
 * theirs from per-worker free lists: a slot goes back to the list of the
 * worker that freed its block, and only that worker's allocations reuse
 * it, so reusing a slot never makes one worker wait for another (the
 * program's threads never waited on each other's unrelated blocks; with
 * one list, churn-like threads were chained to each other through every
 * slot they took in turn, and a 4-thread replay ran in lock-step). Only
 * a free of a block another worker allocated waits (a remote free). The
 * blocks table has about one entry per object live at once (a worker's
 * list may hold slots others could have used), not one per call.
 *
 * Dependencies: each operation carries its slot's generation (how many
 * lifetimes the slot had before this one in the pass), and a wait flag
 * when the slot's previous operation belongs to another worker. At run
 * time a slot's state is 2g while it waits for lifetime g's allocation
 * and 2g + 1 while lifetime g is live, so an allocation waits for state
 * 2g (the previous lifetime's free has happened) and a free for 2g + 1
 * (its allocation has happened). Every dependency points backwards in
 * the merged order and each worker issues its operations in that order,
 * so the oldest pending operation can always go: no deadlock.
 *
 * Thread mapping (threads=recorded): recorded thread k goes to worker k
 * when the trace has no more threads than workers; otherwise threads are
 * placed by their lifetimes (first to last call, as the chunk headers
 * tell: mmb_trace_threads), earliest first, each on
 * the worker whose threads ended earliest, so threads that never ran at
 * the same time share a worker and only threads that overlapped more
 * than the workers interleave (in time order) on one.
 */
#ifndef MMB_REPLAY_OPS_H
#define MMB_REPLAY_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

#define MMB_REPLAY_BIG_SIZE UINT32_MAX	/* size field: look in the sequence's big table */

struct mmb_replay_op {
	uint32_t slot;
	uint32_t gen;			/* the slot's lifetime this operation belongs to */
	uint32_t size;			/* bytes, or MMB_REPLAY_BIG_SIZE */
	uint8_t is_free;
	uint8_t align_log2;		/* 0: no alignment; else log2(align) + 1 */
	uint8_t wait;			/* the slot's previous operation is another worker's */
	uint8_t pad;
};

struct mmb_replay_big {
	uint64_t at, size;		/* operation index, its size */
};

/* One worker's operations, in the merged order. */
struct mmb_replay_seq {
	struct mmb_replay_op *ops;
	uint64_t *t_ns;			/* with timing: each operation's recorded time */
	size_t n, cap;
	struct mmb_replay_big *big;	/* sizes >= MMB_REPLAY_BIG_SIZE, by index */
	size_t nbig, bigcap;
};

struct mmb_replay_build {
	int timing;			/* keep t_ns */
	unsigned nseq;			/* sequences (workers); 1 when merged */
	struct mmb_replay_seq *seq;
	uint32_t *worker_of;		/* recorded thread -> sequence; NULL: thread % nseq */
	uint32_t nthreads;		/* entries of worker_of */
	uint32_t *state, *last;		/* per slot: 2 * lifetimes + live; last worker + 1 */
	uint32_t *next_free;		/* per slot: the next on its worker's free list */
	uint32_t *free_head;		/* per sequence: its free list (UINT32_MAX: empty) */
	uint32_t *slot_of;		/* binary traces: object number -> slot */
	uint32_t obj_cap, slots_made;
	uint32_t nslots, slot_cap;
	uint64_t nops;
};

/* nseq sequences; 0 or -ENOMEM. */
int mmb_replay_build_init(struct mmb_replay_build *b, unsigned nseq, int timing);

/*
 * Place the trace's recorded threads on b's sequences (the mapping above),
 * from the per-thread first and last calls of t. 0 or -ENOMEM.
 */
int mmb_replay_build_map(struct mmb_replay_build *b, const struct mmb_trace *t);

/* The sequence a recorded thread's calls go to. */
static inline unsigned mmb_replay_worker(const struct mmb_replay_build *b, uint32_t thread)
{
	if (b->worker_of && thread < b->nthreads)
		return b->worker_of[thread];
	return thread % b->nseq;
}

/*
 * Append one operation on slot to sequence w: an allocation of size bytes
 * aligned to align (0 or a power of two), or the free of the slot's live
 * block. 0 or -ENOMEM.
 */
int mmb_replay_emit(struct mmb_replay_build *b, unsigned w, int is_free, uint32_t slot,
		    uint64_t size, uint64_t align, uint64_t t_ns);

/* The free of every live slot, each on the worker that allocated it (an exec). */
int mmb_replay_emit_drop_all(struct mmb_replay_build *b, uint64_t t_ns);

/* The binary reader's callback (arg: the build): matched events into b. */
int mmb_replay_build_event(void *arg, const struct mmb_trace_event *e);

/*
 * A text trace (format in replay.c) into b, as recorded thread 0. 0, or
 * -EINVAL with "workload replay: FILE:LINE: what" (or "...: trace FILE:
 * strerror") in err, or -ENOMEM.
 */
int mmb_replay_text_load(const char *path, struct mmb_replay_build *b, char *err, size_t errlen);

/* Release the build's bookkeeping, keeping the sequences. */
void mmb_replay_build_done(struct mmb_replay_build *b);

/* Release sequences (n of them). */
void mmb_replay_seqs_free(struct mmb_replay_seq *seq, unsigned n);

/* Operation i's size in bytes; *cursor walks seq->big in order (start at 0 each pass). */
static inline uint64_t mmb_replay_size(const struct mmb_replay_seq *q, size_t i, size_t *cursor)
{
	uint32_t s = q->ops[i].size;

	if (s != MMB_REPLAY_BIG_SIZE)
		return s;
	while (*cursor < q->nbig && q->big[*cursor].at < i)
		(*cursor)++;
	return *cursor < q->nbig && q->big[*cursor].at == i ? q->big[*cursor].size : s;
}

#endif /* MMB_REPLAY_OPS_H */

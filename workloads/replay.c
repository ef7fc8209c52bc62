/*
 * replay.c — replays a recorded allocation trace.
 *
 * Models: whatever program the trace was recorded from. This is how a real
 * program's allocation pattern (sizes, lifetimes, order of frees, and with
 * threads=recorded which thread frees what) is run against every allocator
 * under identical conditions. Every page of every allocated block is
 * written (mmb_wl_write). The trace is replayed from the start again each time it reaches
 * the end (a pass), until the cell stops (or passes=N passes are done); at
 * the end of each pass (and when the cell stops mid-pass) the blocks the
 * trace left live are freed.
 *
 * Two trace formats, told apart by the first bytes: the binary format that
 * `mmbench record` writes (magic "MMBTRACE", workloads/trace.h), and text.
 * Either is turned once, at setup, into compact per-worker sequences of
 * operations (workloads/replay_ops.h: 16 bytes per call, 24 with timing=on,
 * the binary file streamed, never held), so the timed region does no I/O.
 *
 * threads=recorded (default): each recorded thread's calls are issued by
 * one worker, in that thread's order, and a block is freed by the worker
 * of the thread that freed it in the trace, which may not be the one that
 * allocated it (a remote free, as in the program). A free waits until the
 * allocation it frees has happened, and an allocation into a slot until
 * the slot's previous block was freed, whichever worker makes them: each
 * such wait that finds the other worker not there yet is a stall (counted:
 * dep_stalls). A wait spins, then yields; it ends when the dependency is
 * met, when the cell stops, or after REPLAY_WAIT_MAX_NS (the cell then
 * fails naming the event). Workers: the cell's -t. With at least as many
 * workers as recorded threads (trace-info's threads), thread k runs on
 * worker k and the rest idle; with fewer, threads are placed by their
 * lifetimes (replay_ops.h) and those that overlapped more than the workers
 * interleave in time order on one worker, their remote frees to each other
 * becoming local. All workers begin each pass together (a barrier) and the
 * blocks left live at its end are freed by the workers that allocated
 * them. A text trace is one recorded thread: worker 0 replays it.
 *
 * threads=merged: every worker replays the whole trace, all threads merged
 * in time order (each thread's order kept), with its own blocks, so every
 * free happens on the allocating worker and no worker waits for another
 * (the single-thread view of a program's allocations; -t N runs N copies).
 *
 * free=unsized (default) frees each block without telling the allocator
 * its size (the contract's free with size 0, allocator.h), as the recorded
 * program's free(p) did: the trace format has no sized free. free=sized
 * passes the size, a cheaper free on allocators that use it (slab's free
 * skips the page-descriptor lookup kfree makes); the harness's books
 * (live bytes, checksum) are the same either way.
 *
 * timing=on waits before each call until its recorded time since the trace
 * began has passed in this pass (gaps are kept; calls slower than recorded
 * run late, never early). Binary traces: failed allocations are left out
 * (`mmbench trace-info` counts them); realloc is replayed as a new block
 * and the old one's free (no copy); a free of an address the trace never
 * allocated, or a truncated trace, is refused before any cell runs
 * ("FILE: offset N, event M: what", exit status 2).
 *
 * Text format (version 1):
 *
 *	# comment			lines starting with '#', and blank
 *					lines, are ignored
 *	a ID SIZE [ALIGN]		allocate SIZE bytes (1 .. 1 GiB) as
 *					block ID; ALIGN is 0 (none) or a power
 *					of two <= 4096
 *	f ID				free block ID
 *
 * Fields are separated by spaces or tabs. ID is a decimal number below
 * 2^64 naming a block while it is live; it may be reused after its free.
 * Allocating an ID that is live, freeing one that is not, or any malformed
 * line is an error reported as "FILE:LINE: message" before any cell runs
 * (workloads/replay_text.c). With trace= empty, the bundled
 * workloads/traces/sample.trace (found upwards from the executable's
 * folder, else relative to the current folder) is used: a small synthetic
 * trace, not a recording of a real program.
 *
 * Must not be used for: conclusions about a real program unless the trace
 * came from it; the seed has no effect (the trace fixes everything).
 *
 * Deterministic: each worker's sequence of (operation, size) is fixed by
 * the trace and -t alone; with threads=recorded the interleaving between
 * workers (and so which allocator state each call meets, and the stalls)
 * depends on timing, within the order the dependencies impose.
 */
#include "replay_ops.h"
#include "trace.h"
#include "workload.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPLAY_WAIT_MAX_NS (10ULL * 1000000000)	/* a dependency never met: give up */
#define REPLAY_SPINS 4096			/* busy polls (about 10-40 us) before yielding */

static inline void replay_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static const struct mmb_param replay_params[] = {
	{ "trace", MMB_P_STR, "", 0, 0, NULL,
	  "trace file, text or binary (empty: the bundled workloads/traces/sample.trace)" },
	{ "timing", MMB_P_BOOL, "off", 0, 0, NULL,
	  "binary traces: wait until each call's recorded time since the pass began" },
	{ "passes", MMB_P_U64, "0", 0, 1ULL << 40, NULL,
	  "passes over the trace per run (warm-up and timed region each), 0: until the cell stops" },
	{ "threads", MMB_P_ENUM, "recorded", 0, 0, "recorded|merged",
	  "recorded: each recorded thread on its worker, remote frees kept; merged: every "
	  "worker replays all threads in time order" },
	{ "free", MMB_P_ENUM, "unsized", 0, 0, "unsized|sized",
	  "unsized: the allocator's free is not told the size, as the program's free(p); "
	  "sized: it is (kernel kfree vs a cache-named free, sdallocx)" },
	{ 0 },
};

enum { REPLAY_RECORDED, REPLAY_MERGED };
enum { REPLAY_UNSIZED, REPLAY_SIZED };

/* threads=merged: each worker's own blocks. */
struct replay_block {
	char *p;
	size_t size;
};

/* threads=recorded: the shared blocks, one per slot. */
struct replay_slot {
	_Atomic uint64_t state;		/* 2g: awaiting lifetime g; 2g + 1: g live */
	char *p;
	size_t size;
	unsigned owner;			/* the worker that allocated p */
};

struct replay {
	int timing, merged;
	int sized;			/* free=sized: the allocator is told the size */
	uint64_t passes;		/* 0: until the cell stops */
	unsigned nseq;
	struct mmb_replay_seq *seq;	/* merged: 1; recorded: one per worker */
	uint32_t nslots;
	struct replay_block *blocks;	/* merged: nthreads x nslots */
	struct replay_slot *slots;	/* recorded: nslots */
	unsigned nthreads;
	pthread_barrier_t bar;		/* recorded: pass boundaries */
	atomic_int quit;		/* recorded: a worker stopped; the pass ends */
};

/* The trace file to read: the parameter, or the bundled sample. */
static void replay_path(const struct mmb_pvals *params, char *buf, size_t len)
{
	const char *p = mmb_pval_str(params, "trace");
	char exe[4096];
	ssize_t n;

	if (p[0]) {
		snprintf(buf, len, "%s", p);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	/* build/mmbench, or build/san-x/mmbench: the first workloads/ upwards. */
	for (char *dir = dirname(exe); strcmp(dir, "/") && strcmp(dir, "."); dir = dirname(dir)) {
		snprintf(buf, len, "%s/../workloads/traces/sample.trace", dir);
		if (access(buf, F_OK) == 0)
			return;
	}
	snprintf(buf, len, "workloads/traces/sample.trace");
}

/*
 * Read the trace into b (nseq sequences; NULL b: only check it). Returns 0
 * or -errno with one line in err.
 */
static int replay_load(const struct mmb_pvals *params, struct mmb_replay_build *b, char *err,
		       size_t errlen)
{
	char path[4200], msg[600];
	struct mmb_trace t;
	int rc;

	replay_path(params, path, sizeof(path));
	if (mmb_trace_is_binary(path) != 1) {
		struct mmb_replay_build check;

		if (!b && mmb_replay_build_init(&check, 1, 0))
			return -ENOMEM;
		rc = mmb_replay_text_load(path, b ? b : &check, err, errlen);
		if (!rc && !(b ? b : &check)->nops) {
			snprintf(err, errlen, "workload replay: %s: no operations in the trace", path);
			rc = -EINVAL;
		}
		if (!b) {
			mmb_replay_build_done(&check);
			mmb_replay_seqs_free(check.seq, check.nseq);
		}
		return rc;
	}
	/* Only checking: the summary. Threads to place on fewer workers
	 * (replay_ops.h): their lifetimes from the chunk headers first. */
	if (!b || b->nseq > 1) {
		rc = b ? mmb_trace_threads(path, &t, msg, sizeof(msg)) :
			 mmb_trace_read(path, &t, NULL, NULL, msg, sizeof(msg));
		if (!rc && !t.nev)
			rc = 1;
		if (!rc && b)
			rc = mmb_replay_build_map(b, &t);
		mmb_trace_free(&t);
		if (rc || !b)
			goto out;
	}
	rc = mmb_trace_read(path, &t, mmb_replay_build_event, b, msg, sizeof(msg));
	mmb_trace_free(&t);
	if (!rc && !b->nops)
		rc = 1;
out:
	if (rc == 1) {
		snprintf(err, errlen, "workload replay: %s: no operations in the trace", path);
		return -EINVAL;
	}
	if (rc == -ENOMEM)
		snprintf(err, errlen, "workload replay: %s: out of memory", path);
	else if (rc)
		snprintf(err, errlen, "workload replay: %s", msg);
	return rc == -ENOMEM ? -ENOMEM : rc ? -EINVAL : 0;
}

static int replay_check(const struct mmb_pvals *params, char *err, size_t errlen)
{
	return replay_load(params, NULL, err, errlen) ? -EINVAL : 0;
}

static void replay_free_state(struct replay *r)
{
	mmb_replay_seqs_free(r->seq, r->nseq);
	free(r->blocks);
	free(r->slots);
	free(r);
}

static int replay_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
			void **r_state, char *err, size_t errlen)
{
	struct replay *r = calloc(1, sizeof(*r));
	struct mmb_replay_build b;
	int rc;

	(void)seed;
	if (!r) {
		snprintf(err, errlen, "replay: out of memory");
		return -ENOMEM;
	}
	r->timing = (int)mmb_pval_u64(params, "timing");
	r->merged = mmb_pval_u64(params, "threads") == REPLAY_MERGED;
	r->passes = mmb_pval_u64(params, "passes");
	r->sized = mmb_pval_u64(params, "free") == REPLAY_SIZED;
	r->nthreads = nthreads ? nthreads : 1;
	if (mmb_replay_build_init(&b, r->merged ? 1 : r->nthreads, r->timing)) {
		free(r);
		snprintf(err, errlen, "replay: out of memory");
		return -ENOMEM;
	}
	rc = replay_load(params, &b, err, errlen);
	mmb_replay_build_done(&b);
	r->seq = b.seq;
	r->nseq = b.nseq;
	r->nslots = b.nslots;
	if (rc) {
		replay_free_state(r);
		return rc;
	}
	if (r->merged)
		r->blocks = calloc((size_t)r->nthreads * r->nslots, sizeof(*r->blocks));
	else
		r->slots = calloc(r->nslots, sizeof(*r->slots));
	if ((r->merged ? !r->blocks : !r->slots) ||
	    (!r->merged && pthread_barrier_init(&r->bar, NULL, r->nthreads))) {
		snprintf(err, errlen, "replay: out of memory for %u slots", r->nslots);
		if (!r->merged && r->slots) {
			free(r->slots);
			r->slots = NULL;
		}
		replay_free_state(r);
		return -ENOMEM;
	}
	if (r->merged)
		mmb_wl_touch(r->blocks, (size_t)r->nthreads * r->nslots * sizeof(*r->blocks));
	else
		mmb_wl_touch(r->slots, r->nslots * sizeof(*r->slots));
	*r_state = r;
	return 0;
}

static uint64_t replay_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline size_t replay_align(const struct mmb_replay_op *op)
{
	return op->align_log2 ? (size_t)1 << (op->align_log2 - 1) : 0;
}

/* Free p of size bytes as free= says: the harness's books get size either way. */
static inline void replay_free(const struct replay *r, struct mmb_wl_thread *t, void *p,
			       size_t size)
{
	if (r->sized)
		mmb_wl_free(t, p, size);
	else
		mmb_wl_free_unsized(t, p, size);
}

static int replay_run_merged(struct replay *r, struct mmb_wl_thread *t)
{
	struct replay_block *b = &r->blocks[(size_t)t->tid * r->nslots];
	const struct mmb_replay_seq *q = &r->seq[0];

	for (uint64_t pass = 0; mmb_wl_running(t) && (!r->passes || pass < r->passes); pass++) {
		uint64_t t0 = r->timing ? replay_now_ns() : 0;
		size_t big = 0;

		for (size_t i = 0; i < q->n && mmb_wl_running(t); i++) {
			const struct mmb_replay_op *op = &q->ops[i];
			struct replay_block *v = &b[op->slot];

			while (r->timing && replay_now_ns() - t0 < q->t_ns[i] && mmb_wl_running(t))
				;
			if (op->is_free) {
				if (v->p)
					replay_free(r, t, v->p, v->size);
				v->p = NULL;
				continue;
			}
			v->size = mmb_replay_size(q, i, &big);
			v->p = mmb_wl_alloc(t, v->size, replay_align(op));
			if (v->p)
				mmb_wl_write(v->p, v->size);
		}
		for (uint32_t s = 0; s < r->nslots; s++) {
			if (b[s].p)
				replay_free(r, t, b[s].p, b[s].size);
			b[s].p = NULL;
		}
	}
	return 0;
}

/*
 * Wait until slot s reaches state want. 0: reached; 1: the pass ends (the
 * cell stops or another worker did); -ETIMEDOUT after REPLAY_WAIT_MAX_NS.
 */
static int replay_wait(struct replay *r, struct mmb_wl_thread *t, struct replay_slot *s,
		       uint64_t want)
{
	uint64_t start = 0;

	if (atomic_load_explicit(&s->state, memory_order_acquire) == want)
		return 0;
	t->dep_stalls++;
	for (unsigned spins = 0;
	     atomic_load_explicit(&s->state, memory_order_acquire) != want; spins++) {
		if (atomic_load_explicit(&r->quit, memory_order_relaxed) || !mmb_wl_running(t))
			return 1;
		if (spins < REPLAY_SPINS) {
			replay_cpu_relax();
			continue;
		}
		sched_yield();
		if (!start)
			start = replay_now_ns();
		else if (replay_now_ns() - start > REPLAY_WAIT_MAX_NS)
			return -ETIMEDOUT;
	}
	return 0;
}

/* One pass of worker t's sequence. 0, or -ETIMEDOUT (and quit set). */
static int replay_pass(struct replay *r, struct mmb_wl_thread *t)
{
	const struct mmb_replay_seq *q = &r->seq[t->tid];
	uint64_t t0 = r->timing ? replay_now_ns() : 0;
	size_t big = 0;

	for (size_t i = 0; i < q->n; i++) {
		const struct mmb_replay_op *op = &q->ops[i];
		struct replay_slot *s = &r->slots[op->slot];
		uint64_t g2 = 2 * (uint64_t)op->gen;
		int rc;

		if (!mmb_wl_running(t) || atomic_load_explicit(&r->quit, memory_order_relaxed)) {
			atomic_store(&r->quit, 1);
			return 0;
		}
		while (r->timing && replay_now_ns() - t0 < q->t_ns[i] && mmb_wl_running(t))
			;
		if (op->wait && (rc = replay_wait(r, t, s, g2 + op->is_free))) {
			atomic_store(&r->quit, 1);
			if (rc < 0)
				fprintf(stderr, "replay: worker %u waited %llu s for another worker's call on slot %u (its operation %zu)\n",
					t->tid, REPLAY_WAIT_MAX_NS / 1000000000, op->slot, i + 1);
			return rc < 0 ? rc : 0;
		}
		if (op->is_free) {
			if (s->p) {
				t->remote_frees += s->owner != t->tid;
				replay_free(r, t, s->p, s->size);
			}
			s->p = NULL;
			atomic_store_explicit(&s->state, g2 + 2, memory_order_release);
			continue;
		}
		s->size = mmb_replay_size(q, i, &big);
		s->owner = t->tid;
		s->p = mmb_wl_alloc(t, s->size, replay_align(op));
		if (s->p)
			mmb_wl_write(s->p, s->size);
		atomic_store_explicit(&s->state, g2 + 1, memory_order_release);
	}
	return 0;
}

static int replay_run_recorded(struct replay *r, struct mmb_wl_thread *t)
{
	int rc = 0;

	for (uint64_t pass = 1;; pass++) {
		int quit;

		if (!rc)
			rc = replay_pass(r, t);
		if (!mmb_wl_running(t))
			atomic_store(&r->quit, 1);
		pthread_barrier_wait(&r->bar);
		/* the pass is over everywhere: free what this worker allocated */
		for (uint32_t i = 0; i < r->nslots; i++) {
			struct replay_slot *s = &r->slots[i];

			/* owner first: no worker writes it now, and only the owner
			 * touches p in this phase */
			if (s->owner == t->tid && s->p) {
				replay_free(r, t, s->p, s->size);
				s->p = NULL;
			}
		}
		pthread_barrier_wait(&r->bar);
		for (uint32_t i = t->tid; i < r->nslots; i += r->nthreads)
			atomic_store_explicit(&r->slots[i].state, 0, memory_order_relaxed);
		quit = atomic_load(&r->quit);
		/* everyone has read quit before the serial thread resets it for
		 * the next run() (warm-up, then the timed region) */
		if (pthread_barrier_wait(&r->bar) == PTHREAD_BARRIER_SERIAL_THREAD && quit)
			atomic_store(&r->quit, 0);
		if (quit || pass == r->passes)
			return rc;
	}
}

static int replay_run(void *state, struct mmb_wl_thread *t)
{
	struct replay *r = state;

	return r->merged ? replay_run_merged(r, t) : replay_run_recorded(r, t);
}

static void replay_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct replay *r = state;

	(void)t0;
	if (!r->merged)
		pthread_barrier_destroy(&r->bar);
	replay_free_state(r);
}

const struct mmb_wl_ops mmb_wl_replay = {
	.name = "replay",
	.desc = "replays an allocation trace, each recorded thread on its worker (text or binary; see workloads/replay.c)",
	.params = replay_params,
	.check_params = replay_check,
	.setup = replay_setup,
	.run = replay_run,
	.teardown = replay_teardown,
	.counts_remote = 1,
};

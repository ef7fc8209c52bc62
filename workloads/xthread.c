/*
 * xthread.c — producer/consumer: objects allocated in one thread, freed in
 * another.
 *
 * Models: a pipeline (a network stack handing buffers to a worker, a logger
 * thread), and the shape of xmalloc-test (`-w N -t 5 -s 64` in
 * mimalloc-bench): some threads only allocate, others only free, so every
 * free is remote and the allocator's cross-thread free path and its return
 * of memory to the allocating thread decide the result.
 *
 * Threads pair up: thread 2k produces, thread 2k+1 consumes, through queue
 * k. With an odd thread count the last thread is its own consumer (it
 * produces a batch, then frees it), and so is the only thread of a 1-thread
 * cell: those frees are local.
 *
 * Data structure: each queue is a single-producer single-consumer ring of
 * `depth` batches of up to `batch` objects. The producer fills the batch at
 * tail, writing each object's first and last byte, and publishes it
 * (tail++, release); the consumer reads each object's first byte and frees
 * the batch at head (head++, release). A producer waits while the ring is
 * full, a consumer while it is empty; each stops when its partner has
 * stopped and nothing more can come. Objects still queued at the end are
 * freed by teardown through t0.
 *
 * Must not be used for: memory footprint (it grows with how far producers
 * run ahead, up to depth * batch objects per queue, which depends on
 * scheduling; mimalloc-bench says the same of xmalloc-test), or latency of
 * the alloc fast path alone.
 *
 * Deterministic: a producer's sizes come from its t->rng; its consumer frees
 * them in the same order, so each thread's (operation, size) sequence is
 * fixed by the seed and thread count. Only the interleaving, and under
 * --duration how far each thread gets, depend on timing.
 */
#include "workload.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static const struct mmb_param xthread_params[] = {
	{ "min", MMB_P_SIZE, "64", 1, 64 << 20, NULL, "smallest object, bytes" },
	{ "max", MMB_P_SIZE, "64", 1, 64 << 20, NULL, "largest object, bytes" },
	{ "batch", MMB_P_U64, "100", 1, 1 << 16, NULL, "objects handed over at once" },
	{ "depth", MMB_P_U64, "16", 1, 1 << 12, NULL, "batches a queue holds" },
	{ 0 },
};

struct xt_obj {
	char *p;
	size_t size;
};

struct xt_queue {
	atomic_uint_fast64_t head, tail;	/* batches consumed / published */
	size_t pos;				/* consumer: objects freed in batch head */
	size_t *count;				/* depth: objects in each batch */
	struct xt_obj *obj;			/* depth x batch */
	char pad[64];
};

struct xthread {
	size_t min, max, batch, depth;
	unsigned n, nq;
	struct xt_queue *q;
	atomic_uint *exits;		/* per thread: run() calls finished */
	unsigned *calls;		/* per thread: run() calls started */
};

/* Where a consumer puts the first byte of each block it frees (so the read
 * is made): relaxed atomic, as every consumer thread writes it (a plain
 * volatile was a data race under TSan once two consumers ran: -t 3 and up). */
static atomic_char xt_sink;

static int xthread_check(const struct mmb_pvals *params, char *err, size_t errlen)
{
	if (mmb_pval_u64(params, "min") > mmb_pval_u64(params, "max")) {
		snprintf(err, errlen, "workload xthread: min=%s is above max=%s",
			 mmb_pval_str(params, "min"), mmb_pval_str(params, "max"));
		return -EINVAL;
	}
	return 0;
}

static void xthread_free_state(struct xthread *x)
{
	for (unsigned i = 0; x->q && i < x->nq; i++) {
		free(x->q[i].count);
		free(x->q[i].obj);
	}
	free(x->q);
	free(x->exits);
	free(x->calls);
	free(x);
}

static int xthread_setup(const struct mmb_pvals *params, unsigned nthreads, uint64_t seed,
			 void **r_state, char *err, size_t errlen)
{
	struct xthread *x = calloc(1, sizeof(*x));

	(void)seed;
	if (!x)
		goto nomem;
	x->min = mmb_pval_u64(params, "min");
	x->max = mmb_pval_u64(params, "max");
	x->batch = mmb_pval_u64(params, "batch");
	x->depth = mmb_pval_u64(params, "depth");
	x->n = nthreads;
	x->nq = (nthreads + 1) / 2;
	x->q = calloc(x->nq, sizeof(*x->q));
	x->exits = calloc(nthreads, sizeof(*x->exits));
	x->calls = calloc(nthreads, sizeof(*x->calls));
	if (!x->q || !x->exits || !x->calls)
		goto nomem;
	for (unsigned i = 0; i < x->nq; i++) {
		x->q[i].count = calloc(x->depth, sizeof(size_t));
		x->q[i].obj = calloc(x->depth * x->batch, sizeof(struct xt_obj));
		if (!x->q[i].count || !x->q[i].obj)
			goto nomem;
	}
	*r_state = x;
	return 0;
nomem:
	if (x)
		xthread_free_state(x);
	snprintf(err, errlen, "xthread: out of memory for the queues");
	return -ENOMEM;
}

/* Has thread `other` finished its run() call number `call`? */
static int xt_gone(struct xthread *x, unsigned other, unsigned call)
{
	return atomic_load_explicit(&x->exits[other], memory_order_acquire) >= call;
}

/* Produce one batch. 0 = published, -1 = stop. */
static int xt_produce(struct xthread *x, struct xt_queue *q, struct mmb_wl_thread *t,
		      unsigned consumer, unsigned call)
{
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	struct xt_obj *b = &q->obj[(tail % x->depth) * x->batch];
	size_t i;

	while (tail - atomic_load_explicit(&q->head, memory_order_acquire) == x->depth) {
		if (!mmb_wl_running(t) || xt_gone(x, consumer, call))
			return -1;
		sched_yield();
	}
	for (i = 0; i < x->batch && mmb_wl_running(t); i++) {
		b[i].size = x->min + mmb_rand_below(t->rng, x->max - x->min + 1);
		b[i].p = mmb_wl_alloc(t, b[i].size, 0);
		if (b[i].p) {
			b[i].p[0] = 1;
			b[i].p[b[i].size - 1] = 1;
		}
	}
	if (i == 0)
		return -1;
	q->count[tail % x->depth] = i;
	atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
	return i == x->batch ? 0 : -1;
}

/* Consume one batch. 0 = done, -1 = stop. */
static int xt_consume(struct xthread *x, struct xt_queue *q, struct mmb_wl_thread *t,
		      unsigned producer, unsigned call)
{
	uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	struct xt_obj *b = &q->obj[(head % x->depth) * x->batch];
	size_t n;

	while (atomic_load_explicit(&q->tail, memory_order_acquire) == head) {
		if (!mmb_wl_running(t))
			return -1;
		if (xt_gone(x, producer, call) &&
		    atomic_load_explicit(&q->tail, memory_order_acquire) == head)
			return -1;
		sched_yield();
	}
	n = q->count[head % x->depth];
	for (; q->pos < n; q->pos++) {
		if (!mmb_wl_running(t))
			return -1;
		if (!b[q->pos].p)
			continue;
		atomic_store_explicit(&xt_sink, b[q->pos].p[0], memory_order_relaxed);
		mmb_wl_free(t, b[q->pos].p, b[q->pos].size);
		b[q->pos].p = NULL;
	}
	q->pos = 0;
	atomic_store_explicit(&q->head, head + 1, memory_order_release);
	return 0;
}

static int xthread_run(void *state, struct mmb_wl_thread *t)
{
	struct xthread *x = state;
	struct xt_queue *q = &x->q[t->tid / 2];
	unsigned call = ++x->calls[t->tid];
	int self = t->tid % 2 == 0 && t->tid + 1 == x->n;

	while (mmb_wl_running(t)) {
		if (self) {
			if (xt_produce(x, q, t, t->tid, call) | xt_consume(x, q, t, t->tid, call))
				break;
		} else if (t->tid % 2 == 0) {
			if (xt_produce(x, q, t, t->tid + 1, call))
				break;
		} else if (xt_consume(x, q, t, t->tid - 1, call)) {
			break;
		}
	}
	atomic_store_explicit(&x->exits[t->tid], call, memory_order_release);
	return 0;
}

static void xthread_teardown(void *state, struct mmb_wl_thread *t0)
{
	struct xthread *x = state;

	for (unsigned i = 0; t0 && i < x->nq; i++) {
		struct xt_queue *q = &x->q[i];
		uint64_t tail = atomic_load(&q->tail);

		for (uint64_t h = atomic_load(&q->head); h < tail; h++) {
			struct xt_obj *b = &q->obj[(h % x->depth) * x->batch];

			for (size_t j = 0; j < q->count[h % x->depth]; j++)
				if (b[j].p)
					mmb_wl_free(t0, b[j].p, b[j].size);
		}
	}
	xthread_free_state(x);
}

const struct mmb_wl_ops mmb_wl_xthread = {
	.name = "xthread",
	.desc = "producer/consumer: allocated in one thread, freed in another",
	.params = xthread_params,
	.check_params = xthread_check,
	.setup = xthread_setup,
	.run = xthread_run,
	.teardown = xthread_teardown,
	.not_op_equivalent = "the live set is what producers have made and consumers "
			     "not yet freed, which depends on how the threads interleave",
};

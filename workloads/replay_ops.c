/*
 * replay_ops.c — building replay's per-worker operation sequences
 * (replay_ops.h: the form, the dependencies, the thread mapping).
 *
 * Sequences grow by doubling with realloc; at these sizes glibc moves a
 * block with mremap, so growing copies nothing and the capacity not yet
 * written is never touched: memory follows the operations made.
 */
#include "replay_ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int mmb_replay_build_init(struct mmb_replay_build *b, unsigned nseq, int timing)
{
	memset(b, 0, sizeof(*b));
	b->timing = timing;
	b->nseq = nseq ? nseq : 1;
	b->seq = calloc(b->nseq, sizeof(*b->seq));
	b->free_head = malloc(b->nseq * sizeof(*b->free_head));
	if (!b->seq || !b->free_head) {
		free(b->seq);
		free(b->free_head);
		return -ENOMEM;
	}
	memset(b->free_head, 0xff, b->nseq * sizeof(*b->free_head));
	return 0;
}

static int replay_cmp_first(const void *x, const void *y, void *arg)
{
	const struct mmb_trace_thread *th = arg;
	uint32_t a = *(const uint32_t *)x, c = *(const uint32_t *)y;

	if (th[a].first_ns != th[c].first_ns)
		return th[a].first_ns < th[c].first_ns ? -1 : 1;
	return a < c ? -1 : a > c;
}

int mmb_replay_build_map(struct mmb_replay_build *b, const struct mmb_trace *t)
{
	uint32_t *order;
	uint64_t *busy;			/* per worker: last call of its threads so far */
	int *used;

	if (t->nthreads <= b->nseq)
		return 0;		/* thread k on worker k */
	b->worker_of = malloc(t->nthreads * sizeof(*b->worker_of));
	order = malloc(t->nthreads * sizeof(*order));
	busy = calloc(b->nseq, sizeof(*busy));
	used = calloc(b->nseq, sizeof(*used));
	if (!b->worker_of || !order || !busy || !used) {
		free(order);
		free(busy);
		free(used);
		return -ENOMEM;
	}
	b->nthreads = t->nthreads;
	for (uint32_t i = 0; i < t->nthreads; i++)
		order[i] = i;
	qsort_r(order, t->nthreads, sizeof(*order), replay_cmp_first, t->threads);
	for (uint32_t i = 0; i < t->nthreads; i++) {
		const struct mmb_trace_thread *th = &t->threads[order[i]];
		unsigned best = 0;

		/* an unused worker, else the one whose threads ended earliest */
		for (unsigned w = 0; w < b->nseq; w++) {
			if (!used[w]) {
				best = w;
				break;
			}
			if (busy[w] < busy[best])
				best = w;
		}
		b->worker_of[order[i]] = best;
		if (!used[best] || th->last_ns > busy[best])
			busy[best] = th->last_ns;
		used[best] = 1;
	}
	free(order);
	free(busy);
	free(used);
	return 0;
}

static int replay_slot_grow(struct mmb_replay_build *b, uint32_t slot)
{
	uint32_t cap = b->slot_cap ? b->slot_cap : 1024;
	uint32_t *st, *last, *next;

	while (cap <= slot)
		cap *= 2;
	st = realloc(b->state, cap * sizeof(*st));
	if (!st)
		return -ENOMEM;
	b->state = st;
	last = realloc(b->last, cap * sizeof(*last));
	if (!last)
		return -ENOMEM;
	b->last = last;
	next = realloc(b->next_free, cap * sizeof(*next));
	if (!next)
		return -ENOMEM;
	b->next_free = next;
	memset(st + b->slot_cap, 0, (cap - b->slot_cap) * sizeof(*st));
	memset(last + b->slot_cap, 0, (cap - b->slot_cap) * sizeof(*last));
	b->slot_cap = cap;
	return 0;
}

static int replay_seq_grow(struct mmb_replay_seq *q, int timing)
{
	size_t cap = q->cap ? q->cap * 2 : 1024;
	struct mmb_replay_op *ops = realloc(q->ops, cap * sizeof(*ops));

	if (!ops)
		return -ENOMEM;
	q->ops = ops;
	if (timing) {
		uint64_t *t = realloc(q->t_ns, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		q->t_ns = t;
	}
	q->cap = cap;
	return 0;
}

int mmb_replay_emit(struct mmb_replay_build *b, unsigned w, int is_free, uint32_t slot,
		    uint64_t size, uint64_t align, uint64_t t_ns)
{
	struct mmb_replay_seq *q = &b->seq[w];
	struct mmb_replay_op *op;

	if (slot >= b->slot_cap && replay_slot_grow(b, slot))
		return -ENOMEM;
	if (q->n == q->cap && replay_seq_grow(q, b->timing))
		return -ENOMEM;
	if (!is_free && size >= MMB_REPLAY_BIG_SIZE) {
		if (q->nbig == q->bigcap) {
			size_t cap = q->bigcap ? q->bigcap * 2 : 16;
			struct mmb_replay_big *big = realloc(q->big, cap * sizeof(*big));

			if (!big)
				return -ENOMEM;
			q->big = big;
			q->bigcap = cap;
		}
		q->big[q->nbig].at = q->n;
		q->big[q->nbig++].size = size;
	}
	op = &q->ops[q->n];
	op->slot = slot;
	op->gen = b->state[slot] >> 1;
	op->size = is_free ? 0 : size >= MMB_REPLAY_BIG_SIZE ? MMB_REPLAY_BIG_SIZE : (uint32_t)size;
	op->is_free = (uint8_t)!!is_free;
	op->align_log2 = align ? (uint8_t)(__builtin_ctzll(align) + 1) : 0;
	op->wait = b->last[slot] && b->last[slot] != w + 1;
	op->pad = 0;
	if (b->timing)
		q->t_ns[q->n] = t_ns;
	q->n++;
	b->nops++;
	b->state[slot]++;
	b->last[slot] = w + 1;
	if (slot >= b->nslots)
		b->nslots = slot + 1;
	return 0;
}

/* Slot s, whose block worker w just freed, goes on w's free list. */
static void replay_slot_put(struct mmb_replay_build *b, unsigned w, uint32_t s)
{
	b->next_free[s] = b->free_head[w];
	b->free_head[w] = s;
}

int mmb_replay_emit_drop_all(struct mmb_replay_build *b, uint64_t t_ns)
{
	for (uint32_t s = 0; s < b->nslots; s++) {
		unsigned w = b->last[s] - 1;

		if (!(b->state[s] & 1))
			continue;
		if (mmb_replay_emit(b, w, 1, s, 0, 0, t_ns))
			return -ENOMEM;
		replay_slot_put(b, w, s);
	}
	return 0;
}

/* The free of object obj's block on worker w; its slot goes on w's list. */
static int replay_obj_free(struct mmb_replay_build *b, unsigned w, uint32_t obj, uint64_t t_ns)
{
	uint32_t s = b->slot_of[obj];

	if (mmb_replay_emit(b, w, 1, s, 0, 0, t_ns))
		return -ENOMEM;
	replay_slot_put(b, w, s);
	return 0;
}

/* A slot for a new block of object obj on worker w: w's last freed, or a new one. */
static int replay_obj_slot(struct mmb_replay_build *b, unsigned w, uint32_t obj, uint32_t *r_s)
{
	uint32_t s = b->free_head[w];

	if (obj >= b->obj_cap) {
		uint32_t cap = b->obj_cap ? b->obj_cap : 1024;
		uint32_t *m;

		while (cap <= obj)
			cap *= 2;
		m = realloc(b->slot_of, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		b->slot_of = m;
		b->obj_cap = cap;
	}
	if (s != UINT32_MAX)
		b->free_head[w] = b->next_free[s];
	else
		s = b->slots_made++;
	b->slot_of[obj] = s;
	*r_s = s;
	return 0;
}

/*
 * Matched events only: an allocation that replaces a live object (a lost
 * free) frees it first, on the allocating worker; realloc is a new block
 * and the old one's free (no copy). Alignments above 4096 are replayed as
 * 4096 (the contract's largest), a request of 0 bytes as 1 byte.
 */
int mmb_replay_build_event(void *arg, const struct mmb_trace_event *e)
{
	struct mmb_replay_build *b = arg;
	unsigned w;
	uint64_t align;
	uint32_t slot;

	if (!e->matched)
		return 0;
	if (e->op == MMB_TOP_EXEC)
		return mmb_replay_emit_drop_all(b, e->t_ns);
	w = mmb_replay_worker(b, e->thread);
	if (!mmb_trace_op_allocates(e->op))
		return replay_obj_free(b, w, e->obj, e->t_ns);
	if (e->replaces && replay_obj_free(b, w, e->obj, e->t_ns))
		return -ENOMEM;
	if (replay_obj_slot(b, w, e->obj, &slot))
		return -ENOMEM;
	align = e->align > 4096 ? 4096 : e->align & -e->align;
	return mmb_replay_emit(b, w, 0, slot, e->size ? e->size : 1, align, e->t_ns);
}

void mmb_replay_build_done(struct mmb_replay_build *b)
{
	free(b->worker_of);
	free(b->state);
	free(b->last);
	free(b->next_free);
	free(b->free_head);
	free(b->slot_of);
	b->worker_of = NULL;
	b->state = b->last = b->next_free = b->free_head = b->slot_of = NULL;
}

void mmb_replay_seqs_free(struct mmb_replay_seq *seq, unsigned n)
{
	for (unsigned i = 0; seq && i < n; i++) {
		free(seq[i].ops);
		free(seq[i].t_ns);
		free(seq[i].big);
	}
	free(seq);
}

/*
 * probe.c — the allocator calls workloads make (workload.h), with the
 * harness's accounting around them.
 *
 * Per call: the operation count, live bytes (published with relaxed atomic
 * stores so the sampler thread may read them while the worker runs: a plain
 * mov on x86-64), the per-thread live peak, a checksum of the (operation,
 * size) sequence that lets tests prove a workload deterministic, with exact
 * accounting the waste of the live blocks (usable_size - size, published
 * before live bytes), and, for one call in sample_every, its latency
 * (probe.h); usable_size is called outside the timed interval. The pointer is passed
 * through an empty asm so the compiler cannot delete a malloc/free pair.
 * mmb_wl_free_unsized keeps the same books with the size the workload
 * knows, but passes 0 to the allocator (C's free(p)): the accounting never
 * depends on which free the allocator was given.
 */
#include "../workloads/workload.h"
#include "clock.h"
#include "probe.h"

#include <string.h>

const char *const mmb_op_kind_name[MMB_OPK_COUNT] = { "alloc", "free" };

void mmb_probe_init(struct mmb_probe *p, uint32_t sample_every, struct mmb_hist *extra,
		    unsigned nextra)
{
	memset(p, 0, sizeof(*p));
	p->sample_every = sample_every;
	for (int k = 0; k < MMB_OPK_COUNT; k++) {
		p->sample_left[k] = sample_every;
		mmb_hist_init(&p->hist[k]);
	}
	p->extra = extra;
	p->nextra = nextra < MMB_WL_MAX_OP_KINDS ? nextra : MMB_WL_MAX_OP_KINDS;
	for (unsigned k = 0; k < p->nextra; k++) {
		p->extra_left[k] = sample_every;
		mmb_hist_init(&extra[k]);
	}
}

int mmb_probe_set_exact(struct mmb_probe *p, const struct mmb_alloc_ops *ops, int on)
{
	p->exact = on && ops->usable_size;
	return p->exact;
}

static void probe_buckets(FILE *rec, const struct mmb_hist *h, const char *name)
{
	for (unsigned i = 0; i < MMB_HIST_NBUCKETS; i++) {
		uint64_t lo, hi;

		if (!h->counts[i])
			continue;
		mmb_hist_bucket(h, i, &lo, &hi);
		fprintf(rec, "h %s %llu %llu %llu\n", name, (unsigned long long)lo,
			(unsigned long long)hi, (unsigned long long)h->counts[i]);
	}
}

void mmb_probe_report(FILE *rec, const struct mmb_hist h[MMB_OPK_COUNT],
		      const struct mmb_hist *extra, const char *const *names, unsigned nextra)
{
	static const char *const pct_name[MMB_HIST_NPCT] = { "50", "90", "99", "999", "9999" };

	for (int k = 0; k < MMB_OPK_COUNT; k++) {
		if (!mmb_hist_total(&h[k]))
			continue;
		for (int q = 0; q < MMB_HIST_NPCT; q++)
			fprintf(rec, "m %s_p%s_ns %.17g\n", mmb_op_kind_name[k], pct_name[q],
				mmb_hist_quantile(&h[k], mmb_hist_pct[q]));
		fprintf(rec, "m %s_max_ns %llu\n", mmb_op_kind_name[k],
			(unsigned long long)h[k].max_ns);
		probe_buckets(rec, &h[k], mmb_op_kind_name[k]);
	}
	for (unsigned k = 0; k < nextra; k++)
		probe_buckets(rec, &extra[k], names[k]);
}

static inline void probe_escape(void *p)
{
	__asm__ volatile("" : : "g"(p) : "memory");
}

static inline uint64_t probe_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

/* 1 if this call of kind k is to be timed. */
static inline int probe_timed(struct mmb_probe *pr, enum mmb_op_kind k)
{
	if (!pr || !pr->sample_every)
		return 0;
	if (--pr->sample_left[k])
		return 0;
	pr->sample_left[k] = pr->sample_every;
	return 1;
}

void *mmb_wl_alloc(struct mmb_wl_thread *t, size_t size, size_t align)
{
	void *p;

	if (__builtin_expect(probe_timed(t->probe, MMB_OPK_ALLOC), 0)) {
		uint64_t t0 = mmb_clock_start();

		p = t->ops->alloc(t->a, size, align);
		probe_escape(p);
		mmb_hist_record(&t->probe->hist[MMB_OPK_ALLOC], mmb_clock_ns(t0, mmb_clock_end()));
	} else {
		p = t->ops->alloc(t->a, size, align);
		probe_escape(p);
	}
	t->nops++;
	t->checksum = probe_mix(t->checksum, (uint64_t)size << 1);
	if (!p) {
		t->failed++;
		return NULL;
	}
	t->nallocs++;
	if (t->probe && t->probe->exact)
		__atomic_store_n(&t->waste_bytes,
				 t->waste_bytes + (int64_t)(t->ops->usable_size(t->a, p) - size),
				 __ATOMIC_RELAXED);
	__atomic_store_n(&t->live_bytes, t->live_bytes + (int64_t)size, __ATOMIC_RELAXED);
	if (t->probe && t->live_bytes > t->probe->live_peak_bytes) {
		t->probe->live_peak_bytes = t->live_bytes;
		t->probe->waste_at_peak = t->waste_bytes;
	}
	return p;
}

uint64_t mmb_wl_op_begin(struct mmb_wl_thread *t, unsigned k)
{
	struct mmb_probe *pr = t->probe;
	uint64_t t0;

	if (!pr || !pr->sample_every || k >= pr->nextra || --pr->extra_left[k])
		return 0;
	pr->extra_left[k] = pr->sample_every;
	t0 = mmb_clock_start();
	return t0 ? t0 : 1;
}

void mmb_wl_op_end(struct mmb_wl_thread *t, unsigned k, uint64_t t0)
{
	if (t0)
		mmb_hist_record(&t->probe->extra[k], mmb_clock_ns(t0, mmb_clock_end()));
}

/* One free: the harness's books use size, the allocator is passed asize
 * (size, or 0 for an unsized free). */
static inline void probe_free(struct mmb_wl_thread *t, void *p, size_t size, size_t asize)
{
	probe_escape(p);
	if (t->probe && t->probe->exact)
		__atomic_store_n(&t->waste_bytes,
				 t->waste_bytes - (int64_t)(t->ops->usable_size(t->a, p) - size),
				 __ATOMIC_RELAXED);
	if (__builtin_expect(probe_timed(t->probe, MMB_OPK_FREE), 0)) {
		uint64_t t0 = mmb_clock_start();

		t->ops->free(t->a, p, asize);
		mmb_hist_record(&t->probe->hist[MMB_OPK_FREE], mmb_clock_ns(t0, mmb_clock_end()));
	} else {
		t->ops->free(t->a, p, asize);
	}
	t->nops++;
	t->nfrees++;
	t->checksum = probe_mix(t->checksum, ((uint64_t)size << 1) | 1);
	__atomic_store_n(&t->live_bytes, t->live_bytes - (int64_t)size, __ATOMIC_RELAXED);
}

void mmb_wl_free(struct mmb_wl_thread *t, void *p, size_t size)
{
	probe_free(t, p, size, size);
}

void mmb_wl_free_unsized(struct mmb_wl_thread *t, void *p, size_t size)
{
	probe_free(t, p, size, 0);
}

/*
 * probe.c — the allocator calls workloads make (workload.h), with the
 * harness's accounting around them.
 *
 * Per call: the operation count, live bytes (published with relaxed atomic
 * stores so the sampler thread may read them while the worker runs: a plain
 * mov on x86-64), the per-thread live peak, and a checksum of the
 * (operation, size) sequence that lets tests prove a workload deterministic.
 * The pointer is passed through an empty asm so the compiler cannot delete a
 * malloc/free pair.
 */
#include "../workloads/workload.h"
#include "probe.h"

static inline void probe_escape(void *p)
{
	__asm__ volatile("" : : "g"(p) : "memory");
}

static inline uint64_t probe_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

void *mmb_wl_alloc(struct mmb_wl_thread *t, size_t size, size_t align)
{
	void *p = t->ops->alloc(t->a, size, align);

	probe_escape(p);
	t->nops++;
	t->checksum = probe_mix(t->checksum, (uint64_t)size << 1);
	if (!p) {
		t->failed++;
		return NULL;
	}
	t->nallocs++;
	__atomic_store_n(&t->live_bytes, t->live_bytes + (int64_t)size, __ATOMIC_RELAXED);
	if (t->probe && t->live_bytes > t->probe->live_peak_bytes)
		t->probe->live_peak_bytes = t->live_bytes;
	return p;
}

void mmb_wl_free(struct mmb_wl_thread *t, void *p, size_t size)
{
	probe_escape(p);
	t->ops->free(t->a, p, size);
	t->nops++;
	t->nfrees++;
	t->checksum = probe_mix(t->checksum, ((uint64_t)size << 1) | 1);
	__atomic_store_n(&t->live_bytes, t->live_bytes - (int64_t)size, __ATOMIC_RELAXED);
}

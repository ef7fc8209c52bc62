/*
 * topo.h — the machine's topology (hwloc) and where worker threads run.
 *
 * Loaded once by the parent (`mmbench run`): counts of packages, cores,
 * processing units (PUs) and NUMA nodes, cache sizes, into meta.json; the
 * default thread counts (-t cores / pus); and, per thread count, the OS
 * index of the PU each worker is bound to, which the parent hands to the
 * cell (--cpus) so a cell never loads hwloc itself:
 *
 *	compact	  worker i on PU i in hwloc's logical order (fills a core's
 *		  PUs, then the next core, then the next package)
 *	scatter	  hwloc_distrib over the whole machine: consecutive workers on
 *		  different packages, then different cores
 *	none	  not bound; the kernel schedules
 *
 * More workers than PUs is refused (the caller exits 2) unless
 * oversubscribe, where workers wrap around the PU list.
 */
#ifndef MMB_TOPO_H
#define MMB_TOPO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum mmb_pin { MMB_PIN_COMPACT, MMB_PIN_SCATTER, MMB_PIN_NONE };

#define MMB_TOPO_MAX_CACHES 8

struct mmb_topo {
	unsigned packages, cores, pus, numa_nodes;
	unsigned ncaches;
	struct {
		char name[16];		/* "L1d", "L2", "L3" */
		unsigned depth, count;
		uint64_t size_bytes;
		unsigned line_bytes, ways;
	} cache[MMB_TOPO_MAX_CACHES];
	uint64_t numa_memory_bytes;	/* sum over NUMA nodes */
	char cpu_model[128];
	char hwloc_version[16];
	char synthetic[512];		/* hwloc's one-line summary */
	void *hw;			/* hwloc_topology_t */
};

/* Returns 0, or -errno with err filled. */
int mmb_topo_load(struct mmb_topo *t, char *err, size_t errlen);

/* The same for a made-up machine in hwloc's synthetic syntax
 * ("pack:2 core:4 pu:2"), for tests of the pinning policies. */
int mmb_topo_load_synthetic(struct mmb_topo *t, const char *desc, char *err, size_t errlen);
void mmb_topo_free(struct mmb_topo *t);

/* "compact" | "scatter" | "none" -> r_pin; -EINVAL otherwise. */
int mmb_pin_parse(const char *s, enum mmb_pin *r_pin);
const char *mmb_pin_name(enum mmb_pin pin);

/*
 * r_cpu[0..nthreads) = OS index of each worker's PU under pin (not for
 * MMB_PIN_NONE). Returns 0, or -E2BIG when nthreads > PUs and not
 * oversubscribe.
 */
int mmb_topo_cpus(const struct mmb_topo *t, enum mmb_pin pin, unsigned nthreads, int oversubscribe,
		  unsigned *r_cpu);

/* The topology as a JSON object (meta.json's "topology"). */
void mmb_topo_json(FILE *f, const struct mmb_topo *t);

/* Bind the calling thread to OS cpu. Returns 0 or -errno. */
int mmb_bind_self(unsigned cpu);

#endif /* MMB_TOPO_H */

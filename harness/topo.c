/*
 * topo.c — hwloc topology, pinning policies, thread binding (topo.h).
 */
#include "topo.h"

#include <errno.h>
#include <hwloc.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int mmb_pin_parse(const char *s, enum mmb_pin *r_pin)
{
	if (!strcmp(s, "compact"))
		*r_pin = MMB_PIN_COMPACT;
	else if (!strcmp(s, "scatter"))
		*r_pin = MMB_PIN_SCATTER;
	else if (!strcmp(s, "none"))
		*r_pin = MMB_PIN_NONE;
	else
		return -EINVAL;
	return 0;
}

const char *mmb_pin_name(enum mmb_pin pin)
{
	return pin == MMB_PIN_COMPACT ? "compact" : pin == MMB_PIN_SCATTER ? "scatter" : "none";
}

static void topo_caches(struct mmb_topo *t, hwloc_topology_t hw)
{
	static const struct { hwloc_obj_type_t type; const char *name; } kinds[] = {
		{ HWLOC_OBJ_L1CACHE, "L1d" }, { HWLOC_OBJ_L2CACHE, "L2" },
		{ HWLOC_OBJ_L3CACHE, "L3" }, { HWLOC_OBJ_L4CACHE, "L4" },
	};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int n = hwloc_get_nbobjs_by_type(hw, kinds[k].type);
		hwloc_obj_t o = hwloc_get_obj_by_type(hw, kinds[k].type, 0);

		if (n <= 0 || !o || t->ncaches == MMB_TOPO_MAX_CACHES)
			continue;
		snprintf(t->cache[t->ncaches].name, sizeof(t->cache[0].name), "%s", kinds[k].name);
		t->cache[t->ncaches].depth = o->attr->cache.depth;
		t->cache[t->ncaches].count = (unsigned)n;
		t->cache[t->ncaches].size_bytes = o->attr->cache.size;
		t->cache[t->ncaches].line_bytes = o->attr->cache.linesize;
		t->cache[t->ncaches].ways = (unsigned)o->attr->cache.associativity;
		t->ncaches++;
	}
}

static int topo_load(struct mmb_topo *t, const char *synthetic, char *err, size_t errlen)
{
	hwloc_topology_t hw;
	hwloc_obj_t pkg;
	const char *model;
	unsigned v = hwloc_get_api_version();

	memset(t, 0, sizeof(*t));
	if (hwloc_topology_init(&hw)) {
		snprintf(err, errlen, "hwloc: cannot initialize: %s", strerror(errno));
		return -errno;
	}
	if (synthetic && hwloc_topology_set_synthetic(hw, synthetic)) {
		hwloc_topology_destroy(hw);
		snprintf(err, errlen, "hwloc: bad synthetic topology '%s'", synthetic);
		return -EINVAL;
	}
	if (hwloc_topology_load(hw)) {
		int e = errno;

		hwloc_topology_destroy(hw);
		snprintf(err, errlen, "hwloc: cannot load the topology: %s", strerror(e));
		return -e;
	}
	t->hw = hw;
	t->packages = (unsigned)hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PACKAGE);
	t->cores = (unsigned)hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_CORE);
	t->pus = (unsigned)hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PU);
	t->numa_nodes = (unsigned)hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_NUMANODE);
	for (unsigned i = 0; i < t->numa_nodes; i++) {
		hwloc_obj_t node = hwloc_get_obj_by_type(hw, HWLOC_OBJ_NUMANODE, i);

		t->numa_memory_bytes += node->attr->numanode.local_memory;
	}
	topo_caches(t, hw);
	pkg = hwloc_get_obj_by_type(hw, HWLOC_OBJ_PACKAGE, 0);
	model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
	snprintf(t->cpu_model, sizeof(t->cpu_model), "%s", model ? model : "unknown");
	snprintf(t->hwloc_version, sizeof(t->hwloc_version), "%u.%u.%u", v >> 16, (v >> 8) & 0xff,
		 v & 0xff);
	if (hwloc_topology_export_synthetic(hw, t->synthetic, sizeof(t->synthetic), 0) < 0)
		t->synthetic[0] = 0;
	return 0;
}

int mmb_topo_load(struct mmb_topo *t, char *err, size_t errlen)
{
	return topo_load(t, NULL, err, errlen);
}

int mmb_topo_load_synthetic(struct mmb_topo *t, const char *desc, char *err, size_t errlen)
{
	return topo_load(t, desc, err, errlen);
}

void mmb_topo_free(struct mmb_topo *t)
{
	if (t->hw)
		hwloc_topology_destroy(t->hw);
	t->hw = NULL;
}

int mmb_topo_cpus(const struct mmb_topo *t, enum mmb_pin pin, unsigned nthreads, int oversubscribe,
		  unsigned *r_cpu)
{
	hwloc_topology_t hw = t->hw;
	unsigned n = nthreads < t->pus ? nthreads : t->pus;

	if (nthreads > t->pus && !oversubscribe)
		return -E2BIG;
	if (pin == MMB_PIN_SCATTER) {
		hwloc_obj_t root = hwloc_get_root_obj(hw);
		hwloc_cpuset_t *sets = calloc(n, sizeof(*sets));

		if (!sets)
			return -ENOMEM;
		/* hwloc_distrib allocates each set (hwloc/helper.h). */
		if (hwloc_distrib(hw, &root, 1, sets, n, INT_MAX, 0)) {
			free(sets);
			return -ENOMEM;
		}
		for (unsigned i = 0; i < nthreads; i++) {
			hwloc_bitmap_singlify(sets[i % n]);
			r_cpu[i] = (unsigned)hwloc_bitmap_first(sets[i % n]);
		}
		for (unsigned i = 0; i < n; i++)
			hwloc_bitmap_free(sets[i]);
		free(sets);
		return 0;
	}
	for (unsigned i = 0; i < nthreads; i++)
		r_cpu[i] = hwloc_get_obj_by_type(hw, HWLOC_OBJ_PU, i % t->pus)->os_index;
	return 0;
}

void mmb_topo_json(FILE *f, const struct mmb_topo *t)
{
	fprintf(f, "{\"packages\": %u, \"cores\": %u, \"pus\": %u, \"numa_nodes\": %u, "
		   "\"numa_memory_bytes\": %llu, \"cpu_model\": ", t->packages, t->cores, t->pus,
		t->numa_nodes, (unsigned long long)t->numa_memory_bytes);
	mmb_json_str(f, t->cpu_model);
	fputs(", \"caches\": [", f);
	for (unsigned i = 0; i < t->ncaches; i++)
		fprintf(f, "%s{\"name\": \"%s\", \"count\": %u, \"size_bytes\": %llu, "
			   "\"line_bytes\": %u, \"ways\": %u}", i ? ", " : "", t->cache[i].name,
			t->cache[i].count, (unsigned long long)t->cache[i].size_bytes,
			t->cache[i].line_bytes, t->cache[i].ways);
	fputs("], \"hwloc_version\": ", f);
	mmb_json_str(f, t->hwloc_version);
	fputs(", \"synthetic\": ", f);
	mmb_json_str(f, t->synthetic);
	fputc('}', f);
}

int mmb_bind_self(unsigned cpu)
{
	cpu_set_t set;

	if (cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

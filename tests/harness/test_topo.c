/*
 * test_topo.c — topology from hwloc, pinning policies, thread counts from
 * the topology, more threads than PUs refused unless --oversubscribe.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>

#include "../../harness/topo.h"
#include "../testutil.h"

static struct mmb_topo topo;

static void load(void)
{
	char err[256];

	cr_assert_eq(mmb_topo_load(&topo, err, sizeof(err)), 0, "%s", err);
}

Test(topo, counts_agree_with_the_kernel)
{
	load();
	cr_log_info("packages %u cores %u pus %u numa %u: %s", topo.packages, topo.cores, topo.pus,
		    topo.numa_nodes, topo.synthetic);
	cr_expect_eq(topo.pus, (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	cr_expect_geq(topo.cores, topo.packages);
	cr_expect_geq(topo.pus, topo.cores);
	cr_expect_geq(topo.packages, 1u);
	cr_expect_geq(topo.ncaches, 1u);
	for (unsigned i = 0; i < topo.ncaches; i++)
		cr_expect_gt(topo.cache[i].size_bytes, 0u, "%s", topo.cache[i].name);
	mmb_topo_free(&topo);
}

Test(topo, policies_place_threads_on_distinct_pus)
{
	static const enum mmb_pin pins[] = { MMB_PIN_COMPACT, MMB_PIN_SCATTER };
	unsigned cpu[256];

	load();
	for (size_t k = 0; k < 2; k++) {
		cr_assert_eq(mmb_topo_cpus(&topo, pins[k], topo.pus, 0, cpu), 0);
		for (unsigned i = 0; i < topo.pus; i++) {
			cr_expect_lt(cpu[i], (unsigned)CPU_SETSIZE);
			for (unsigned j = 0; j < i; j++)
				cr_expect_neq(cpu[i], cpu[j], "%s: threads %u and %u share PU %u",
					      mmb_pin_name(pins[k]), i, j, cpu[i]);
		}
		cr_expect_eq(mmb_topo_cpus(&topo, pins[k], topo.pus + 1, 0, cpu), -E2BIG);
		cr_expect_eq(mmb_topo_cpus(&topo, pins[k], topo.pus + 1, 1, cpu), 0);
		cr_expect_eq(cpu[topo.pus], cpu[0], "oversubscribed threads wrap around");
	}
	mmb_topo_free(&topo);
	cr_expect_eq(mmb_bind_self(cpu[0]), 0);
	cr_expect_eq(sched_getcpu(), (int)cpu[0]);
}

/* Two packages of two cores of two PUs: OS index = logical index here. */
Test(topo, compact_fills_scatter_spreads)
{
	char err[256];
	unsigned cpu[8];

	cr_assert_eq(mmb_topo_load_synthetic(&topo, "pack:2 core:2 pu:2", err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(topo.packages, 2u);
	cr_expect_eq(topo.cores, 4u);
	cr_expect_eq(topo.pus, 8u);
	cr_assert_eq(mmb_topo_cpus(&topo, MMB_PIN_COMPACT, 4, 0, cpu), 0);
	for (unsigned i = 0; i < 4; i++)
		cr_expect_eq(cpu[i], i, "compact: thread %u on PU %u", i, cpu[i]);
	cr_assert_eq(mmb_topo_cpus(&topo, MMB_PIN_SCATTER, 2, 0, cpu), 0);
	cr_expect_eq(cpu[0] / 4 + cpu[1] / 4, 1u, "scatter: 2 threads on PUs %u and %u, not one "
		     "package each", cpu[0], cpu[1]);
	cr_assert_eq(mmb_topo_cpus(&topo, MMB_PIN_SCATTER, 4, 0, cpu), 0);
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = 0; j < i; j++)
			cr_expect_neq(cpu[i] / 2, cpu[j] / 2, "scatter: threads %u and %u share core %u",
				      i, j, cpu[i] / 2);
	mmb_topo_free(&topo);
	cr_expect_eq(mmb_topo_load_synthetic(&topo, "nonsense", err, sizeof(err)), -EINVAL);
}

Test(topo, pin_names)
{
	enum mmb_pin p;

	cr_expect_eq(mmb_pin_parse("scatter", &p), 0);
	cr_expect_eq(p, MMB_PIN_SCATTER);
	cr_expect_str_eq(mmb_pin_name(p), "scatter");
	cr_expect_eq(mmb_pin_parse("spread", &p), -EINVAL);
}

Test(topo, thread_counts_from_topology_and_oversubscription)
{
	char dir[256], path[300], buf[65536], t[32], want[64];
	long pus = sysconf(_SC_NPROCESSORS_ONLN);
	struct mmb_cmd c;

	snprintf(t, sizeof(t), "%ld", pus + 1);
	mmb_tmpname(dir, sizeof(dir), "topo");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "--ops", "100", "-t", t,
		    NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "more threads than the") && strstr(c.err, "--oversubscribe"), "%s",
		  c.err);
	cr_expect(!mmb_exists(dir), "folder left behind");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "--ops", "100", "-t", t,
		    "--oversubscribe", "--pin", "scatter", NULL);
	cr_expect_eq(c.status, 0, "%s", c.err);
	mmb_rm_rf(dir);

	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "-w", "churn", "--ops", "100", "-t",
		    "1,pus", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	mmb_slurp(path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "\"threads\": [1, %ld]", pus);
	cr_expect(strstr(buf, want), "wanted %s in %s", want, buf);
	cr_expect(strstr(buf, "\"topology\": {\"packages\": "), "%s", buf);
	cr_expect(strstr(buf, "\"pin\": \"compact\""), "%s", buf);
	mmb_rm_rf(dir);

	mmb_run_cmd(&c, "run", "-o", dir, "--pin", "diagonal", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "--pin diagonal: expected compact, scatter or none"), "%s", c.err);
}

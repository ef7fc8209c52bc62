/*
 * summary.c — the program cells' table at the end of a run (summary.h).
 * "-" where no repetition finished ok; a median is over ok cells only.
 */
#include "summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../stats.h"

void mmb_prog_summary(const struct mmb_plan *p, const struct mmb_result *results)
{
	double *wall = calloc(p->ncells + 1, sizeof(double));
	double *cpu = calloc(p->ncells + 1, sizeof(double));
	double *rss = calloc(p->ncells + 1, sizeof(double));
	int header = 0;

	if (!wall || !cpu || !rss)
		goto out;
	for (unsigned w = 0; w < p->nwconf; w++) {
		if (!p->wconf[w].prog)
			continue;
		for (unsigned a = 0; a < p->naconf; a++) {
			unsigned nok = 0, nrun = 0, nplan = 0;
			char ws[32] = "-", cs[32] = "-", rs[32] = "-", ok[32];

			for (unsigned i = 0; i < p->ncells; i++) {
				const struct mmb_result *r = &results[i];

				if (p->cells[i].wi != w || p->cells[i].ai != a)
					continue;
				nplan++;
				if (!r->status[0])
					continue;
				nrun++;
				if (strcmp(r->status, MMB_ST_OK))
					continue;
				wall[nok] = r->m[MMB_M_wall_ns] / 1e9;
				cpu[nok] = (r->m[MMB_M_cpu_user_ns] + r->m[MMB_M_cpu_sys_ns]) / 1e9;
				rss[nok++] = r->m[MMB_M_rss_peak_bytes];
			}
			if (!nplan)
				continue;
			if (!header++)
				printf("\n%-28s %-22s %8s %12s %12s %14s\n", "allocator", "program",
				       "ok/reps", "wall s (med)", "cpu s (med)", "peak RSS (med)");
			if (nok) {
				snprintf(ws, sizeof(ws), "%.3f", mmb_median(wall, nok));
				snprintf(cs, sizeof(cs), "%.3f", mmb_median(cpu, nok));
				snprintf(rs, sizeof(rs), "%.1f MiB", mmb_median(rss, nok) / 1048576);
			}
			snprintf(ok, sizeof(ok), "%u/%u", nok, nrun);
			printf("%-28.28s %-22.22s %8s %12s %12s %14s\n", p->aconf[a].spec,
			       p->wconf[w].ops->name, ok, ws, cs, rs);
		}
	}
out:
	free(wall);
	free(cpu);
	free(rss);
}

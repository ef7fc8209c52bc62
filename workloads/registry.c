/*
 * registry.c — the one list of workloads. Hidden (test-only) ones go last.
 */
#include "workload.h"

#include <string.h>

extern const struct mmb_wl_ops mmb_wl_churn;
extern const struct mmb_wl_ops mmb_wl_crash;
extern const struct mmb_wl_ops mmb_wl_timedop;

const struct mmb_wl_ops *const mmb_workloads[] = {
	&mmb_wl_churn,
	&mmb_wl_crash,
	&mmb_wl_timedop,
};
const size_t mmb_nworkloads = sizeof(mmb_workloads) / sizeof(mmb_workloads[0]);

const struct mmb_wl_ops *mmb_wl_find(const char *name)
{
	for (size_t i = 0; i < mmb_nworkloads; i++)
		if (strcmp(mmb_workloads[i]->name, name) == 0)
			return mmb_workloads[i];
	return NULL;
}

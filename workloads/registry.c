/*
 * registry.c — the one list of workloads. Hidden (test-only) ones go last.
 */
#include "workload.h"

#include <string.h>

extern const struct mmb_wl_ops mmb_wl_churn;
extern const struct mmb_wl_ops mmb_wl_sizes;
extern const struct mmb_wl_ops mmb_wl_fragmenter;
extern const struct mmb_wl_ops mmb_wl_larson;
extern const struct mmb_wl_ops mmb_wl_xthread;
extern const struct mmb_wl_ops mmb_wl_threadtest;
extern const struct mmb_wl_ops mmb_wl_cache_scratch;
extern const struct mmb_wl_ops mmb_wl_pages;
extern const struct mmb_wl_ops mmb_wl_bigbuf;
extern const struct mmb_wl_ops mmb_wl_ramp;
extern const struct mmb_wl_ops mmb_wl_replay;
extern const struct mmb_wl_ops mmb_wl_crash;
extern const struct mmb_wl_ops mmb_wl_timedop;
extern const struct mmb_wl_ops mmb_wl_leaky;
extern const struct mmb_wl_ops mmb_wl_corrupt;

const struct mmb_wl_ops *const mmb_workloads[] = {
	&mmb_wl_churn,
	&mmb_wl_sizes,
	&mmb_wl_fragmenter,
	&mmb_wl_larson,
	&mmb_wl_xthread,
	&mmb_wl_threadtest,
	&mmb_wl_cache_scratch,
	&mmb_wl_pages,
	&mmb_wl_bigbuf,
	&mmb_wl_ramp,
	&mmb_wl_replay,
	&mmb_wl_crash,
	&mmb_wl_timedop,
	&mmb_wl_leaky,
	&mmb_wl_corrupt,
};
const size_t mmb_nworkloads = sizeof(mmb_workloads) / sizeof(mmb_workloads[0]);

const struct mmb_wl_ops *mmb_wl_find(const char *name)
{
	for (size_t i = 0; i < mmb_nworkloads; i++)
		if (strcmp(mmb_workloads[i]->name, name) == 0)
			return mmb_workloads[i];
	return NULL;
}

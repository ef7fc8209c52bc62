/*
 * headline.c — the headline metrics table (headline.h).
 *
 * Order is the order of the summary's columns and of the findings' blocks:
 * speed, tail latency, then the memory measures. failed_allocs is lower-is-
 * better and shown only where some cell counted one.
 */
#include "headline.h"

#include <string.h>

const struct mmb_headline mmb_headlines[] = {
	{ "ops_per_sec", "throughput", 1, MMB_HL_SUMMARY | MMB_HL_FINDING },
	{ "alloc_p999_ns", "alloc p99.9", 0, MMB_HL_SUMMARY | MMB_HL_FINDING },
	{ "free_p999_ns", "free p99.9", 0, MMB_HL_FINDING },
	{ "footprint_peak_bytes", "peak footprint", 0, MMB_HL_SUMMARY | MMB_HL_FINDING },
	{ "overhead_ratio", "overhead ratio", 0, MMB_HL_FINDING },
	{ "internal_frag", "internal frag.", 0, MMB_HL_FINDING },
	{ "unusable_index_o9", "unusable idx o9", 0, MMB_HL_FINDING },
	{ "failed_allocs", "failed allocs", 0, MMB_HL_SUMMARY | MMB_HL_FINDING | MMB_HL_NONZERO },
	{ "frag_failed_allocs", "fragmentation failures", 0,
	  MMB_HL_SUMMARY | MMB_HL_FINDING | MMB_HL_NONZERO },
};
const int mmb_nheadlines = (int)(sizeof(mmb_headlines) / sizeof(mmb_headlines[0]));

const struct mmb_headline *mmb_headline_find(const char *metric)
{
	for (int i = 0; i < mmb_nheadlines; i++)
		if (!strcmp(mmb_headlines[i].metric, metric))
			return &mmb_headlines[i];
	return NULL;
}

int mmb_metric_higher_better(const char *metric)
{
	const struct mmb_headline *h = mmb_headline_find(metric);
	size_t n = strlen(metric);

	if (h)
		return h->higher_better;
	return n >= 8 && strcmp(metric + n - 8, "_per_sec") == 0;
}

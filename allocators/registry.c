/*
 * registry.c — the one list of allocators, and config parsing by name.
 *
 * Order here is the order of `mmbench list allocators` and of the default
 * matrix. Hidden (test-only) allocators go last.
 */
#include "allocator.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

extern const struct mmb_alloc_ops mmb_glibc_ops;
extern const struct mmb_alloc_ops mmb_buddy_ops;
extern const struct mmb_alloc_ops mmb_slab_ops;
extern const struct mmb_alloc_ops mmb_slab_classic_ops;
extern const struct mmb_alloc_ops mmb_slob_ops;
extern const struct mmb_alloc_ops mmb_vmalloc_ops;
extern const struct mmb_alloc_ops mmb_crashy_ops;
extern const struct mmb_alloc_ops mmb_jemalloc_ops;
extern const struct mmb_alloc_ops mmb_jemalloc_malloc_ops;
extern const struct mmb_alloc_ops mmb_mimalloc_ops;
extern const struct mmb_alloc_ops mmb_tcmalloc_ops;
extern const struct mmb_alloc_ops mmb_preload_ops;
extern const struct mmb_alloc_ops mmb_bump_ops;

const struct mmb_alloc_ops *const mmb_allocators[] = {
	&mmb_glibc_ops,
	&mmb_buddy_ops,
	&mmb_slab_ops,
	&mmb_slab_classic_ops,
	&mmb_slob_ops,
	&mmb_vmalloc_ops,
	&mmb_jemalloc_ops,
	&mmb_jemalloc_malloc_ops,
	&mmb_mimalloc_ops,
	&mmb_tcmalloc_ops,
	&mmb_preload_ops,
	&mmb_crashy_ops,
	&mmb_bump_ops,
};
const size_t mmb_nallocators = sizeof(mmb_allocators) / sizeof(mmb_allocators[0]);

const struct mmb_alloc_ops *mmb_alloc_find(const char *name)
{
	for (size_t i = 0; i < mmb_nallocators; i++)
		if (strcmp(mmb_allocators[i]->name, name) == 0)
			return mmb_allocators[i];
	return NULL;
}

void mmb_alloc_stats_init(struct mmb_alloc_stats *st)
{
	st->footprint_bytes = MMB_STAT_NONE;
	st->footprint_peak_bytes = MMB_STAT_NONE;
	st->usable_bytes = MMB_STAT_NONE;
	st->allocs = MMB_STAT_NONE;
	st->frees = MMB_STAT_NONE;
	st->failed_allocs = MMB_STAT_NONE;
	for (int o = 0; o < MMB_NR_ORDERS; o++) {
		st->unusable_index[o] = NAN;
		st->extfrag_index[o] = NAN;
		st->zone_peak_unusable_index[o] = NAN;
		st->zone_peak_extfrag_index[o] = NAN;
		st->frag_fail_unusable_index[o] = NAN;
		st->frag_fail_extfrag_index[o] = NAN;
	}
	st->frag_failed_allocs = MMB_STAT_NONE;
	st->frag_fail_order = MMB_STAT_NONE;
	st->frag_fail_free_pages = MMB_STAT_NONE;
	st->malloc_provider = NULL;
	st->leaks_found = MMB_STAT_NONE;
	st->corruptions_caught = MMB_STAT_NONE;
}

/*
 * "NAME:k=v,k=v". A bare value with no '=' ("preload:/path/lib.so") sets the
 * allocator's first option, so a path-like config reads naturally.
 */
int mmb_alloc_parse_config(const char *spec, const struct mmb_alloc_ops **r_ops,
			   struct mmb_alloc_cfg *r_cfg, char *err, size_t errlen)
{
	char name[64], what[96], kvs[1024];
	const char *colon = strchr(spec, ':');
	size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
	const struct mmb_alloc_ops *ops;

	if (nlen == 0 || nlen >= sizeof(name)) {
		snprintf(err, errlen, "allocator '%s': bad name", spec);
		return -ENOENT;
	}
	memcpy(name, spec, nlen);
	name[nlen] = 0;
	ops = mmb_alloc_find(name);
	if (!ops) {
		size_t off = (size_t)snprintf(err, errlen, "unknown allocator '%s' (valid:", name);

		for (size_t i = 0; i < mmb_nallocators && off < errlen; i++)
			if (!mmb_allocators[i]->hidden)
				off += (size_t)snprintf(err + off, errlen - off, " %s",
							mmb_allocators[i]->name);
		if (off < errlen)
			snprintf(err + off, errlen - off, ")");
		return -ENOENT;
	}
	snprintf(what, sizeof(what), "allocator %s", name);
	kvs[0] = 0;
	if (colon && colon[1]) {
		if (!strchr(colon + 1, '=') && ops->opts && ops->opts[0].name)
			snprintf(kvs, sizeof(kvs), "%s=%s", ops->opts[0].name, colon + 1);
		else
			snprintf(kvs, sizeof(kvs), "%s", colon + 1);
	}
	memset(r_cfg, 0, sizeof(*r_cfg));
	r_cfg->name = ops->name;
	if (mmb_params_parse(ops->opts, kvs, what, &r_cfg->opts, err, errlen))
		return -EINVAL;
	*r_ops = ops;
	return 0;
}

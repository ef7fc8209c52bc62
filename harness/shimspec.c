/*
 * shimspec.c — the malloc shim's allocator and options (shimspec.h):
 * checked here exactly as the shim will read them, so that a bad one
 * stops a run before any program starts (the shim itself can only die).
 */
#include "shimspec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../allocators/allocator.h"
#include "../allocators/slab.h"
#include "../preload/malloc_opts.h"

int mmb_shim_spec_parse(const char *spec, struct mmb_shim_spec *r, char *err, size_t errlen)
{
	const char *colon;
	char what[64], msg[MMB_ERR_MAX];
	struct mmb_pvals vals;
	size_t n;
	int a;

	if (!spec || !*spec)
		spec = "slab";
	colon = strchr(spec, ':');
	n = colon ? (size_t)(colon - spec) : strlen(spec);
	a = mmb_malloc_alloc_find(spec, n);
	if (a < 0) {
		snprintf(err, errlen, "-a %s: programs run on slab, buddy or vmalloc (the malloc shim); "
			 "for glibc or jemalloc run the command itself", spec);
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	snprintf(r->alloc, sizeof(r->alloc), "%s", mmb_malloc_allocs[a].name);
	snprintf(what, sizeof(what), "allocator %s", r->alloc);
	if (mmb_params_parse(mmb_malloc_allocs[a].opts, colon ? colon + 1 : "", what, &vals, err,
			     errlen))
		return -EINVAL;
	if (a == MMB_MALLOC_SLAB) {
		if (mmb_pval_u64(&vals, "vmalloc_min") <= mmb_pval_u64(&vals, "kmalloc_max")) {
			snprintf(err, errlen, "allocator slab: vmalloc_min (%s) must be above kmalloc_max (%s)",
				 mmb_pval_str(&vals, "vmalloc_min"), mmb_pval_str(&vals, "kmalloc_max"));
			return -EINVAL;
		}
		if (mmb_malloc_sheaf(mmb_pval_str(&vals, "sheaf")) < -1) {
			snprintf(err, errlen, "allocator slab: sheaf=%s: expected auto or 0..1024 objects",
				 mmb_pval_str(&vals, "sheaf"));
			return -EINVAL;
		}
		if (mmb_pval_str(&vals, "debug")[0] &&
		    mmb_slab_parse_debug(mmb_pval_str(&vals, "debug"), msg, sizeof(msg))) {
			snprintf(err, errlen, "allocator slab: debug: %s", msg);
			return -EINVAL;
		}
	}
	mmb_params_format(&vals, 1, r->opts, sizeof(r->opts));
	n = (size_t)snprintf(r->config, sizeof(r->config), "%s:", r->alloc);
	mmb_params_format(&vals, 0, r->config + n, sizeof(r->config) - n);
	return 0;
}

void mmb_shim_spec_setenv(const struct mmb_shim_spec *s)
{
	setenv("MMB_MALLOC_ALLOC", s->alloc, 1);
	setenv("MMB_MALLOC_OPTS", s->opts, 1);
}

unsigned long long mmb_shim_failures(const char *dir, char *why, size_t len)
{
	char path[4200], json[16384];
	const char *at, *end;
	unsigned long long n = 0;
	size_t got;
	FILE *f;

	why[0] = 0;
	snprintf(path, sizeof(path), "%s/malloc.json", dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	got = fread(json, 1, sizeof(json) - 1, f);
	fclose(f);
	json[got] = 0;
	at = strstr(json, "\n  \"failed_allocs\": ");
	if (at)
		n = strtoull(at + 20, NULL, 10);
	/* the shim writes it with no quote or backslash inside */
	at = strstr(json, "\n  \"first_failure\": \"");
	if (at && (end = strchr(at + 21, '"')))
		snprintf(why, len, "%.*s", (int)(end - at - 21), at + 21);
	return n;
}

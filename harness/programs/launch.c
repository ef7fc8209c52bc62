/*
 * launch.c — an allocator under a program (launch.h).
 *
 * The shim allocators' configs are parsed against the shim's option table
 * of that allocator (preload/malloc_opts.h: slab, buddy, vmalloc), so
 * ac->cfg.opts.tab is that table and ac->config holds only the options
 * given; the shim gets the allocator in MMB_MALLOC_ALLOC (ac->shim_alloc)
 * and the options in MMB_MALLOC_OPTS (ac->shim_opts), as `mmbench exec`
 * hands them over (shimspec.h).
 */
#include "launch.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../allocators/preload.h"
#include "../../preload/malloc_opts.h"
#include "../shimspec.h"

enum launch_kind { LK_NONE, LK_ENV, LK_MIMALLOC, LK_SHIM };

static enum launch_kind launch_kind(const struct mmb_alloc_ops *ops)
{
	static const char *const shim[] = { "slab", "buddy", "vmalloc" };

	if (ops->hidden || !strcmp(ops->name, "jemalloc"))
		return LK_NONE;
	for (size_t i = 0; i < sizeof(shim) / sizeof(shim[0]); i++)
		if (!strcmp(ops->name, shim[i]))
			return LK_SHIM;
	if (!strcmp(ops->name, "mimalloc"))
		return LK_MIMALLOC;
	return ops->exec_env ? LK_ENV : LK_NONE;
}

int mmb_launch_capable(const struct mmb_alloc_ops *ops)
{
	return launch_kind(ops) != LK_NONE;
}

/* A shim allocator (slab, buddy, vmalloc) and its options, checked as the
 * shim reads them (shimspec.h); ac->config keeps the options given. */
static int launch_shim(const char *name, const char *given, struct mmb_aconf *ac, char *err,
		       size_t errlen)
{
	char what[192], spec[MMB_SPEC_MAX + 64];
	struct mmb_shim_spec ss;
	int a = mmb_malloc_alloc_find(name, strlen(name));

	snprintf(what, sizeof(what), "allocator %s (the malloc shim under a program)", name);
	if (a < 0) {
		snprintf(err, errlen, "%s: not an allocator of the malloc shim", what);
		return -EINVAL;
	}
	if (mmb_params_parse(mmb_malloc_allocs[a].opts, given, what, &ac->cfg.opts, err, errlen))
		return -EINVAL;
	snprintf(spec, sizeof(spec), "%s%s%s", name, given[0] ? ":" : "", given);
	if (mmb_shim_spec_parse(spec, &ss, err, errlen))
		return -EINVAL;
	snprintf(ac->shim_alloc, sizeof(ac->shim_alloc), "%s", ss.alloc);
	snprintf(ac->shim_opts, sizeof(ac->shim_opts), "%s", ss.opts);
	return 0;
}

int mmb_launch_parse(const char *spec, struct mmb_aconf *ac, char *err, size_t errlen)
{
	char name[64];
	const char *colon = strchr(spec, ':');
	size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
	const struct mmb_alloc_ops *ops;

	memset(ac, 0, sizeof(*ac));
	ac->prog = 1;
	snprintf(name, sizeof(name), "%.*s", (int)(nlen < sizeof(name) ? nlen : 0), spec);
	ops = mmb_alloc_find(name);
	if (ops && launch_kind(ops) == LK_SHIM) {
		ac->ops = ops;
		ac->cfg.name = ops->name;
		if (launch_shim(name, colon ? colon + 1 : "", ac, err, errlen))
			return -EINVAL;
	} else {
		if (mmb_alloc_parse_config(spec, &ac->ops, &ac->cfg, err, errlen))
			return -EINVAL;
		ops = ac->ops;
		switch (launch_kind(ops)) {
		case LK_NONE:
			snprintf(err, errlen, "allocator %s cannot run a program%s", ops->name,
				 !strcmp(ops->name, "jemalloc") ?
				 " (it is the instrumented arena adapter; jemalloc-malloc preloads "
				 "the library into the program)" : ops->hidden ? " (a test allocator)" :
				 " (it runs in mmbench's own cells only; the malloc shim serves "
				 "programs with slab, buddy and vmalloc)");
			return -EINVAL;
		case LK_MIMALLOC: {
			char lib[PATH_MAX];

			if (mmb_pval_given(&ac->cfg.opts, "region")) {
				snprintf(err, errlen, "allocator mimalloc: region is the instrumented "
					 "arena's; a program gets mimalloc preloaded, without options");
				return -EINVAL;
			}
			if (mmb_sym_provider("mi_malloc", lib, sizeof(lib))) {
				snprintf(err, errlen, "allocator mimalloc: libmimalloc not found in "
					 "this process (install libmimalloc2.0)");
				return -EINVAL;
			}
			break;
		}
		default:
			break;
		}
		if (ops->supported) {
			const char *why = "unsupported";

			if (ops->supported(&why)) {
				snprintf(err, errlen, "allocator %s cannot run here: %s", ops->name, why);
				return -EINVAL;
			}
		}
		if (ops->validate && ops->validate(&ac->cfg, err, errlen))
			return -EINVAL;
	}
	mmb_params_format(&ac->cfg.opts, 1, ac->config, sizeof(ac->config));
	snprintf(ac->spec, sizeof(ac->spec), "%.60s%s%.900s", ops->name, ac->config[0] ? ":" : "",
		 ac->config);
	return 0;
}

int mmb_launch_shim_lib(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	snprintf(buf, len, "%s/libmmb-malloc.so", dirname(exe));
	return access(buf, R_OK) ? -ENOENT : 0;
}

void mmb_launch_env(const struct mmb_aconf *ac, const char *shim_lib, const char *out_dir)
{
	char lib[PATH_MAX], pid[32];

	switch (launch_kind(ac->ops)) {
	case LK_SHIM:
		mmb_preload_setenv(shim_lib);
		setenv("MMB_MALLOC_ALLOC", ac->shim_alloc, 1);
		setenv("MMB_MALLOC_OPTS", ac->shim_opts, 1);
		setenv("MMB_MALLOC_OUT", out_dir, 1);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("MMB_MALLOC_PID", pid, 1);
		break;
	case LK_MIMALLOC:
		if (!mmb_sym_provider("mi_malloc", lib, sizeof(lib)))
			mmb_preload_setenv(lib);
		break;
	case LK_ENV:
		ac->ops->exec_env(&ac->cfg);
		break;
	case LK_NONE:
		break;
	}
}

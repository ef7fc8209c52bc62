/*
 * launch.h — which allocator a program runs on, and how it is put there.
 *
 * A program cell's allocator is chosen when its process starts, through
 * the environment set between fork and exec:
 *
 *   glibc, jemalloc-malloc, tcmalloc, preload:PATH
 *			the allocator's own exec_env (GLIBC_TUNABLES; LD_PRELOAD
 *			of the library and MALLOC_CONF; ...), as for any cell
 *   mimalloc		LD_PRELOAD of the libmimalloc mmbench itself links
 *			(the instrumented arena, option region, is not a
 *			program's: refused when given)
 *   slab, buddy, vmalloc	the malloc shim (build/libmmb-malloc.so) with
 *			MMB_MALLOC_ALLOC and MMB_MALLOC_OPTS, as `mmbench exec`
 *			(shimspec.h): their options are the shim's (mmbench exec
 *			--help), not the in-process allocator's. slab splits by
 *			size as the kernel does; buddy serves every request as
 *			2^order frames (above 4 MiB a vmalloc area); vmalloc
 *			serves every request as a vmalloc area
 *   jemalloc		refused: the instrumented arena adapter, whose
 *			extents come from mmbench's own region; a program gets
 *			jemalloc as jemalloc-malloc
 *   hidden test allocators (bump, crashy)	refused
 *
 * The shim writes malloc.json and its state files into the cell's state
 * folder (MMB_MALLOC_OUT) when the program exits normally.
 */
#ifndef MMB_LAUNCH_H
#define MMB_LAUNCH_H

#include <stddef.h>

#include "../plan.h"

/* Can a program run on this allocator (by name, options aside)? */
int mmb_launch_capable(const struct mmb_alloc_ops *ops);

/*
 * Parse spec ("NAME[:k=v,...]") for a program cell into ac (ac->prog = 1).
 * Returns 0, or -EINVAL with one line in err: unknown allocator, bad option,
 * not installed, or one that cannot run a program (and what to use).
 */
int mmb_launch_parse(const char *spec, struct mmb_aconf *ac, char *err, size_t errlen);

/* The shim library beside the mmbench executable, into buf. 0 or -ENOENT. */
int mmb_launch_shim_lib(char *buf, size_t len);

/*
 * In the child, between fork and exec: the environment that puts ac under
 * the program. shim_lib from mmb_launch_shim_lib; out_dir = the folder for
 * the shim's files (absolute).
 */
void mmb_launch_env(const struct mmb_aconf *ac, const char *shim_lib, const char *out_dir);

#endif /* MMB_LAUNCH_H */

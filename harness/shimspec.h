/*
 * shimspec.h — "ALLOC[:k=v,...]" as the malloc shim (preload/malloc.c,
 * build/libmmb-malloc.so) takes it: ALLOC is slab, buddy or vmalloc and the
 * options are that allocator's table in preload/malloc_opts.h. Used by
 * `mmbench exec` and by anything else that runs a program on the shim.
 *
 * The shim reads MMB_MALLOC_ALLOC and MMB_MALLOC_OPTS. MMB_MALLOC_OPTS gets
 * only the options given (the shim applies the same defaults); config has
 * them all.
 */
#ifndef MMB_SHIMSPEC_H
#define MMB_SHIMSPEC_H

#include <stddef.h>

struct mmb_shim_spec {
	char alloc[16];			/* MMB_MALLOC_ALLOC */
	char opts[1024];		/* MMB_MALLOC_OPTS: the options given */
	char config[1100];		/* "ALLOC:k=v,..." with every option, for the record */
};

/* Parse and check spec (NULL or "" = slab). 0, or -EINVAL with a one-line
 * message in err naming the allocator or option. */
int mmb_shim_spec_parse(const char *spec, struct mmb_shim_spec *r, char *err, size_t errlen);

/* Sets MMB_MALLOC_ALLOC and MMB_MALLOC_OPTS in the environment (a child's,
 * before it execs). */
void mmb_shim_spec_setenv(const struct mmb_shim_spec *s);

/*
 * From the malloc.json the shim wrote into dir: the failed allocations
 * (returned; 0 when there is no file or none failed) and, in why, the first
 * one's size and reason ("first_failure": vmalloc's error and the buddy
 * allocator's free pages), "" when not given.
 */
unsigned long long mmb_shim_failures(const char *dir, char *why, size_t len);

#endif /* MMB_SHIMSPEC_H */

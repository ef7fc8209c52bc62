/*
 * preload.h — the process's own malloc as an allocator, shared by the
 * adapters whose blocks come from whatever library serves `malloc` in the
 * cell's process: preload.c (any library, LD_PRELOAD), tcmalloc.c and
 * jemalloc_malloc.c.
 *
 * Such a library is put in front of the cell's process with LD_PRELOAD
 * (exec_env), so it owns malloc from the first instruction, as its users
 * run it. In the process, the adapter looks the entry points up in the
 * global scope (dlsym RTLD_DEFAULT) and checks with dladdr that all of them
 * live in the same library as `malloc`: mixing one library's free with
 * another's memalign would corrupt both heaps.
 */
#ifndef MMB_PRELOAD_H
#define MMB_PRELOAD_H

#include <limits.h>
#include <stddef.h>

struct mmb_procmalloc {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*memalign)(size_t, size_t);
	size_t (*usable_size)(void *);
	char provider[PATH_MAX];	/* realpath of the library that serves malloc */
};

/* Resolve the process's malloc family. 0, or -ENOTSUP with err naming
 * what is missing or comes from another library. */
int mmb_procmalloc_lookup(struct mmb_procmalloc *pm, char *err, size_t errlen);

/* The realpath of the library that defines sym in the global scope, into
 * buf; 0 or -ENOENT. */
int mmb_sym_provider(const char *sym, char *buf, size_t len);

/* 1 when paths a and b name the same file (after symlinks), else 0. */
int mmb_same_file(const char *a, const char *b);

/*
 * Is path a malloc library? Reads its ELF dynamic symbol table (nothing is
 * loaded or run): it must be a 64-bit ELF shared object that defines malloc
 * and free. 0, -ENOENT (no such file) or -EINVAL, with err saying which.
 */
int mmb_malloc_lib_check(const char *path, char *err, size_t errlen);

/* Append path to LD_PRELOAD (exec_env side: between fork and exec). */
void mmb_preload_setenv(const char *path);

/* Resident bytes of this process (/proc/self/statm), or 0 if unreadable. */
size_t mmb_rss_bytes(void);

/* Builds with AddressSanitizer own malloc themselves: a preloaded library
 * cannot take it over (ASan aborts when it is not first). */
#if defined(__SANITIZE_ADDRESS__)
#define MMB_ASAN_OWNS_MALLOC 1
#else
#define MMB_ASAN_OWNS_MALLOC 0
#endif

#endif /* MMB_PRELOAD_H */

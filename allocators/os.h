/*
 * os.h — the allocators' seam to the operating system, and instrumented
 * regions.
 *
 * 1. OS calls. Kernel-style allocators get memory only through mmb_os
 *    (memfd creation, mmap, munmap, mprotect, hole punching), never by
 *    calling the system directly, so tests can swap in a table that counts
 *    calls or fails on demand (fault injection: pmem exhausted, mmap or
 *    memfd failure). jemalloc's hpa_hooks_t is the model.
 *
 * 2. Instrumented regions. An allocator that owns a range of memory whose
 *    first touches should be counted (the pmem direct map, each vmalloc
 *    mapping, the region behind jemalloc's extent hooks or mimalloc's arena)
 *    announces it with mmb_region_add() after mapping it, and withdraws it
 *    with mmb_region_del() before unmapping or remapping it. The userfaultfd
 *    monitor (harness/uffd.c) installs the hooks; with no monitor installed
 *    both calls do nothing and return 0. Allocators know nothing else of
 *    the harness.
 */
#ifndef MMB_OS_H
#define MMB_OS_H

#include <stddef.h>
#include <sys/types.h>

struct mmb_os_ops {
	/* memfd of size bytes; returns the fd or -errno. */
	int (*memfd)(const char *name, size_t size);
	/* mmap(2); returns the address or NULL with errno set. */
	void *(*map)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
	int (*unmap)(void *addr, size_t len);		/* 0 or -errno */
	int (*protect)(void *addr, size_t len, int prot);	/* 0 or -errno */
	/* Give a range of a memfd back (FALLOC_FL_PUNCH_HOLE); 0 or -errno. */
	int (*punch)(int fd, off_t off, size_t len);
};

extern const struct mmb_os_ops mmb_os_default;
/* The table in use; tests may point it at their own. Never NULL. */
extern const struct mmb_os_ops *mmb_os;

/* Region modes, as userfaultfd registration modes. */
#define MMB_REGION_MISSING 1u	/* first touch of a hole in the backing */
#define MMB_REGION_MINOR 2u	/* first touch through this mapping of a page already cached */

struct mmb_region_hooks {
	/* fd/off: the memfd backing the range (fd < 0 for anonymous memory). */
	int (*add)(void *ctx, const char *name, void *addr, size_t len, unsigned modes, int fd,
		   off_t off);
	void (*del)(void *ctx, void *addr, size_t len);
	void *ctx;
};

/* Install (or, with NULL, remove) the monitor's hooks. Not thread-safe:
 * call before any allocator is created. */
void mmb_region_set_hooks(const struct mmb_region_hooks *hooks);

/* Announce / withdraw an instrumented range. add returns 0 or -errno. */
int mmb_region_add(const char *name, void *addr, size_t len, unsigned modes, int fd, off_t off);
void mmb_region_del(void *addr, size_t len);

#endif /* MMB_OS_H */

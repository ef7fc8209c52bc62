/*
 * inject.c — libmmb-inject.so, an LD_PRELOAD fault injector for tests:
 * makes the OS say no to mmbench (and to every cell it starts, which
 * inherits the environment) where a test asks, so the harness's handling of
 * machines that lack something can be tested on a machine that has it.
 *
 * MMB_INJECT is a comma-separated list of faults:
 *	memfd		memfd_create fails with EMFILE
 *	mmap=BYTES	mmap of BYTES or more fails with ENOMEM (the allocators'
 *			OS seam calls mmap directly; glibc's malloc does not
 *			come through here)
 *	uffd		the userfaultfd syscall fails with ENOSYS and
 *			/dev/userfaultfd does not exist (ENOENT): a kernel
 *			without userfaultfd
 *	perf		the perf_event_open syscall fails with ENOENT (no PMU,
 *			as in most VMs; EACCES is the paranoid setting's answer)
 *	hwloc		hwloc_topology_init fails with ENOSYS (only where the
 *			program links hwloc; otherwise unused)
 * Without MMB_INJECT, or for what it does not name, every call goes to the
 * next definition (RTLD_NEXT) unchanged.
 *
 * Disk full is not injected here: glibc's stdio writes do not go through an
 * interposable write(), so tests use a small tmpfs or RLIMIT_FSIZE instead.
 * Under AddressSanitizer the program needs ASAN_OPTIONS=verify_asan_link_order=0.
 *
 * Thread model: the list is parsed once (a constructor); the wrappers only
 * read it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int inj_memfd, inj_uffd, inj_perf, inj_hwloc;
static size_t inj_mmap_min;		/* 0 = mmap not failed */

__attribute__((constructor)) static void inj_init(void)
{
	const char *env = getenv("MMB_INJECT");
	char buf[256], *save = NULL;

	if (!env)
		return;
	strncpy(buf, env, sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "memfd"))
			inj_memfd = 1;
		else if (!strcmp(t, "uffd"))
			inj_uffd = 1;
		else if (!strcmp(t, "perf"))
			inj_perf = 1;
		else if (!strcmp(t, "hwloc"))
			inj_hwloc = 1;
		else if (!strncmp(t, "mmap=", 5))
			inj_mmap_min = strtoull(t + 5, NULL, 0);
	}
}

static void *inj_next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

int memfd_create(const char *name, unsigned flags)
{
	int (*next)(const char *, unsigned) = inj_next("memfd_create");

	if (inj_memfd || !next) {
		errno = EMFILE;
		return -1;
	}
	return next(name, flags);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *(*next)(void *, size_t, int, int, int, off_t) = inj_next("mmap");

	if ((inj_mmap_min && len >= inj_mmap_min) || !next) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return next(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

long syscall(long nr, ...)
{
	long (*next)(long, ...) = inj_next("syscall");
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (inj_uffd && nr == SYS_userfaultfd) {
		errno = ENOSYS;
		return -1;
	}
	if (inj_perf && nr == SYS_perf_event_open) {
		errno = ENOENT;
		return -1;
	}
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int inj_open_common(const char *fn, const char *path, int flags, va_list ap)
{
	int (*next)(const char *, int, ...) = inj_next(fn);
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;

	if (inj_uffd && path && !strcmp(path, "/dev/userfaultfd")) {
		errno = ENOENT;
		return -1;
	}
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = inj_open_common("open", path, flags, ap);
	va_end(ap);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = inj_open_common("open64", path, flags, ap);
	va_end(ap);
	return fd;
}

/* hwloc's first call in every program; the topology argument is opaque here. */
int hwloc_topology_init(void **topology);

int hwloc_topology_init(void **topology)
{
	int (*next)(void **) = inj_next("hwloc_topology_init");

	if (inj_hwloc || !next) {
		errno = ENOSYS;
		return -1;
	}
	return next(topology);
}

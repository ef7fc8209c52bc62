/*
 * os.c — the default OS table and the region hook dispatch (os.h).
 */
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

static int os_memfd(const char *name, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static void *os_map(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(addr, len, prot, flags, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

static int os_unmap(void *addr, size_t len)
{
	return munmap(addr, len) ? -errno : 0;
}

static int os_protect(void *addr, size_t len, int prot)
{
	return mprotect(addr, len, prot) ? -errno : 0;
}

static int os_punch(int fd, off_t off, size_t len)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, (off_t)len) ? -errno : 0;
}

const struct mmb_os_ops mmb_os_default = {
	.memfd = os_memfd,
	.map = os_map,
	.unmap = os_unmap,
	.protect = os_protect,
	.punch = os_punch,
};

const struct mmb_os_ops *mmb_os = &mmb_os_default;

static struct mmb_region_hooks region_hooks;

void mmb_region_set_hooks(const struct mmb_region_hooks *hooks)
{
	if (hooks)
		region_hooks = *hooks;
	else
		region_hooks = (struct mmb_region_hooks){ 0 };
}

int mmb_region_add(const char *name, void *addr, size_t len, unsigned modes, int fd, off_t off)
{
	if (!region_hooks.add)
		return 0;
	return region_hooks.add(region_hooks.ctx, name, addr, len, modes, fd, off);
}

void mmb_region_del(void *addr, size_t len)
{
	if (region_hooks.del)
		region_hooks.del(region_hooks.ctx, addr, len);
}

/*
 * statefile.c — atomic file replacement (statefile.h).
 */
#include "statefile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int mmb_write_atomic(const char *path, int (*write)(FILE *f, void *ctx), void *ctx)
{
	char tmp[PATH_MAX];
	FILE *f;
	int rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	rc = write(f, ctx);
	/* A writer says -EIO when its stream failed; the flush says why (ENOSPC). */
	if ((!rc || rc == -EIO) && fflush(f))
		rc = errno ? -errno : -EIO;
	if (!rc && ferror(f))
		rc = -EIO;
	if (!rc && fsync(fileno(f)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

int mmb_state_write(const char *dir, const char *name, int (*write)(FILE *f, void *ctx),
		    void *ctx)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	return mmb_write_atomic(path, write, ctx);
}

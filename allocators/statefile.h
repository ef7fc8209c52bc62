/*
 * statefile.h — replace a file atomically: the one writer behind the
 * allocators' state files (dump_state) and the harness's results files.
 *
 * write(f, ctx) fills a temporary file beside the target (PATH.tmp.PID);
 * it is flushed, fsync'ed and renamed over the target, so a reader sees the
 * old file or the whole new one, never a part. On any error (write's own
 * -errno, ferror, flush, fsync, close, rename) the temporary is removed, the
 * target is untouched and the error is returned.
 *
 * Thread model: callers writing different paths may run concurrently; the
 * PID in the temporary's name keeps processes apart, not threads writing
 * the same path.
 */
#ifndef MMB_STATEFILE_H
#define MMB_STATEFILE_H

#include <stdio.h>

/* Replace path. Returns 0 or -errno. */
int mmb_write_atomic(const char *path, int (*write)(FILE *f, void *ctx), void *ctx);

/* Replace dir/name (an allocator's state file). Returns 0 or -errno
 * (-ENAMETOOLONG when the path does not fit PATH_MAX). */
int mmb_state_write(const char *dir, const char *name, int (*write)(FILE *f, void *ctx),
		    void *ctx);

#endif /* MMB_STATEFILE_H */

/*
 * fuzz.h — helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Each target is one file fuzz_NAME.c defining LLVMFuzzerTestOneInput; the
 * Makefile builds it with clang (-fsanitize=fuzzer,address,undefined) into
 * build/fuzz/fuzz_NAME, and scripts/fuzz.sh runs it over its seed corpus
 * tests/fuzz/corpus/NAME. A broken invariant is reported with fuzz_fail(),
 * which aborts, so libFuzzer saves the input as a crash.
 *
 * What is here: a byte reader that yields 0 once the input is used up (so
 * every input is a valid program), an OS table (os.h) that fails the Nth
 * call, and a memfd holding bytes, for parsers that read a file.
 */
#ifndef MMB_FUZZ_H
#define MMB_FUZZ_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../allocators/os.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

__attribute__((format(printf, 1, 2), noreturn))
static inline void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline unsigned fuzz_u8(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline unsigned fuzz_u16(struct fuzz_in *in)
{
	return fuzz_u8(in) | fuzz_u8(in) << 8;
}

/*
 * The failing OS table: call number fuzz_os_fail_at (1-based, counted over
 * memfd, map, protect and punch; unmap never fails, as teardown must
 * succeed) returns ENOMEM (map) or EMFILE (memfd) or EIO; 0 = never fail.
 */
static unsigned fuzz_os_calls, fuzz_os_fail_at;

static inline int fuzz_os_failing(void)
{
	return fuzz_os_fail_at && ++fuzz_os_calls == fuzz_os_fail_at;
}

static inline int fuzz_os_memfd(const char *name, size_t size)
{
	return fuzz_os_failing() ? -EMFILE : mmb_os_default.memfd(name, size);
}

static inline void *fuzz_os_map(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fuzz_os_failing()) {
		errno = ENOMEM;
		return NULL;
	}
	return mmb_os_default.map(addr, len, prot, flags, fd, off);
}

static inline int fuzz_os_protect(void *addr, size_t len, int prot)
{
	return fuzz_os_failing() ? -ENOMEM : mmb_os_default.protect(addr, len, prot);
}

static inline int fuzz_os_punch(int fd, off_t off, size_t len)
{
	return fuzz_os_failing() ? -EIO : mmb_os_default.punch(fd, off, len);
}

static inline int fuzz_os_unmap(void *addr, size_t len)
{
	return mmb_os_default.unmap(addr, len);
}

static const struct mmb_os_ops fuzz_os = {
	.memfd = fuzz_os_memfd,
	.map = fuzz_os_map,
	.unmap = fuzz_os_unmap,
	.protect = fuzz_os_protect,
	.punch = fuzz_os_punch,
};

/* Use the failing table from now on, failing call fail_at (0 = none). */
static inline void fuzz_os_install(unsigned fail_at)
{
	fuzz_os_calls = 0;
	fuzz_os_fail_at = fail_at;
	mmb_os = &fuzz_os;
}

/*
 * Put data in a memfd and its path in path ("/proc/self/fd/N"). Returns the
 * fd (close it), or aborts: the fuzzer cannot go on without one.
 */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		fuzz_fail("memfd for the input: %s", fd < 0 ? "memfd_create" : "write");
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

#endif /* MMB_FUZZ_H */

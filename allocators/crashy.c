/*
 * crashy.c — a test-only allocator that misbehaves on purpose.
 *
 * Used by the tests to show that a cell whose allocator crashes, aborts or
 * hangs is isolated in its own process and recorded (status crashed or
 * timeout) while the run goes on. Hidden: not listed and never in a suite.
 * Blocks come from the process's malloc.
 *
 *   fail=create|alloc|never   where to fail
 *   how=segv|abort|hang|error  how (error: create returns -EINVAL)
 *   after=N                   for fail=alloc: the N-th alloc fails (1-based)
 */
#include "allocator.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { FAIL_CREATE, FAIL_ALLOC, FAIL_NEVER };
enum { HOW_SEGV, HOW_ABORT, HOW_HANG, HOW_ERROR };

struct mmb_alloc {
	int fail, how;
	uint64_t after;
	atomic_uint_fast64_t nallocs;
};

static const struct mmb_param crashy_opts[] = {
	{ "fail", MMB_P_ENUM, "alloc", 0, 0, "create|alloc|never", "where to misbehave" },
	{ "how", MMB_P_ENUM, "segv", 0, 0, "segv|abort|hang|error", "how to misbehave" },
	{ "after", MMB_P_U64, "1000", 1, 1e12, NULL, "the alloc call that misbehaves" },
	{ 0 },
};

static int crashy_misbehave(int how)
{
	switch (how) {
	case HOW_SEGV:
		raise(SIGSEGV);
		break;
	case HOW_ABORT:
		abort();
	case HOW_HANG:
		for (;;)
			pause();
	default:
		break;
	}
	return -EINVAL;
}

static int crashy_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
			 size_t errlen)
{
	struct mmb_alloc *a;

	if (mmb_pval_u64(&cfg->opts, "fail") == FAIL_CREATE) {
		snprintf(err, errlen, "crashy: create failed on purpose");
		return crashy_misbehave((int)mmb_pval_u64(&cfg->opts, "how"));
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fail = (int)mmb_pval_u64(&cfg->opts, "fail");
	a->how = (int)mmb_pval_u64(&cfg->opts, "how");
	a->after = mmb_pval_u64(&cfg->opts, "after");
	*r_a = a;
	return 0;
}

static void crashy_destroy(struct mmb_alloc *a)
{
	free(a);
}

static void *crashy_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	uint64_t n = atomic_fetch_add_explicit(&a->nallocs, 1, memory_order_relaxed) + 1;

	if (a->fail == FAIL_ALLOC && n == a->after && crashy_misbehave(a->how))
		return NULL;
	return aligned_alloc(align > 16 ? align : 16, (size + 15) & ~(size_t)15);
}

static void crashy_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)a;
	(void)size;
	free(p);
}

const struct mmb_alloc_ops mmb_crashy_ops = {
	.name = "crashy",
	.desc = "test-only: crashes, aborts or hangs on purpose",
	.opts = crashy_opts,
	.hidden = 1,
	.create = crashy_create,
	.destroy = crashy_destroy,
	.alloc = crashy_alloc,
	.free = crashy_free,
};

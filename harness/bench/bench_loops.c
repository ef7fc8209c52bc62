/*
 * bench_loops.c — the shared pair and batch loops, through an adapter or a
 * library's own malloc in an LD_PRELOADed child (bench_loops.h).
 *
 * Which library a child preloads: jemalloc's and tcmalloc's come from
 * their process-malloc adapters (jemalloc-malloc, tcmalloc: supported()
 * and validate() say whether it is installed, exec_env() puts it in
 * LD_PRELOAD, as for a cell); mimalloc's is the file that defines
 * mi_malloc in this process (mmbench links it). A child whose malloc is
 * not the library's (a build under AddressSanitizer, a library that failed
 * to preload) is refused.
 *
 * Protocol, one line each way: "pair N\n" or "batch N\n" -> "ok\n"; end of
 * input ends the child. SIGPIPE is ignored once a child runs, so a child
 * that died makes the request fail (n->failed), not the bench.
 */
#include "bench_loops.h"
#include "bench.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../allocators/allocator.h"
#include "../../allocators/preload.h"
#include "../../workloads/workload.h"
#include "../util.h"

void mmb_bench_batch_pattern(uint16_t *size, uint32_t *order)
{
	uint64_t rng[4];

	mmb_rand_seed(rng, 0x51ab0bec);
	for (int k = 0; k < MMB_BENCH_BATCH; k++) {
		size[k] = (uint16_t)(1 + mmb_rand_below(rng, 512));
		order[k] = (uint32_t)k;
	}
	mmb_rand_shuffle(rng, order, MMB_BENCH_BATCH);
}

/* ---- the adapter side ---- */

int mmb_bench_adapter_open(struct mmb_bench_adapter *x, const char *spec, char *err,
			   size_t errlen)
{
	struct mmb_alloc_cfg cfg;
	const char *why = NULL;
	int rc;

	x->spec = spec;
	rc = mmb_alloc_parse_config(spec, &x->ops, &cfg, err, errlen);
	if (!rc && x->ops->supported && (rc = x->ops->supported(&why)))
		snprintf(err, errlen, "%s", why);
	if (!rc) {
		cfg.nthreads = 1;
		rc = x->ops->create(&cfg, &x->a, err, errlen);
	}
	if (rc)
		return rc;
	if (x->ops->thread_attach)
		x->ops->thread_attach(x->a);
	return 0;
}

void mmb_bench_adapter_close(struct mmb_bench_adapter *x)
{
	if (x->ops->thread_detach)
		x->ops->thread_detach(x->a);
	x->ops->destroy(x->a);
}

/* The adapter's entry points and the pattern in locals, as the native
 * loops have theirs: the escapes' memory clobber would otherwise reload
 * them from *x on every call. */
void mmb_bench_adapter_pair(void *arg, uint64_t iters)
{
	const struct mmb_bench_adapter *x = arg;
	void *(*alloc)(struct mmb_alloc *, size_t, size_t) = x->ops->alloc;
	void (*free_)(struct mmb_alloc *, void *, size_t) = x->ops->free;
	struct mmb_alloc *a = x->a;

	for (uint64_t i = 0; i < iters; i++) {
		void *b = alloc(a, 64, 0);

		__asm__ volatile("" : : "g"(b) : "memory");
		free_(a, b, 64);
	}
}

void mmb_bench_adapter_batch(void *arg, uint64_t iters)
{
	const struct mmb_bench_adapter *x = arg;
	void *(*alloc)(struct mmb_alloc *, size_t, size_t) = x->ops->alloc;
	void (*free_)(struct mmb_alloc *, void *, size_t) = x->ops->free;
	struct mmb_alloc *a = x->a;
	const uint16_t *size = x->size;
	const uint32_t *order = x->order;
	void **blk = x->blk;

	for (uint64_t i = 0; i < iters; i++) {
		for (int k = 0; k < MMB_BENCH_BATCH; k++) {
			blk[k] = alloc(a, size[k], 0);
			__asm__ volatile("" : : "g"(blk[k]) : "memory");
		}
		for (int k = 0; k < MMB_BENCH_BATCH; k++)
			free_(a, blk[order[k]], size[order[k]]);
	}
}

/* ---- the child ---- */

static __attribute__((noinline)) void native_pair_loop(uint64_t iters)
{
	for (uint64_t i = 0; i < iters; i++) {
		void *b = malloc(64);

		__asm__ volatile("" : : "g"(b) : "memory");
		free(b);
	}
}

static __attribute__((noinline)) void native_batch_loop(uint64_t iters, const uint16_t *size, const uint32_t *order,
			      void **blk)
{
	for (uint64_t i = 0; i < iters; i++) {
		for (int k = 0; k < MMB_BENCH_BATCH; k++) {
			blk[k] = malloc(size[k]);
			__asm__ volatile("" : : "g"(blk[k]) : "memory");
		}
		for (int k = 0; k < MMB_BENCH_BATCH; k++)
			free(blk[order[k]]);
	}
}

int mmb_native_child(void)
{
	static struct mmb_bench_pattern pat;
	static struct mmb_bench_slots slots;
	char line[64], prov[PATH_MAX];
	unsigned long long iters;

	mmb_bench_batch_pattern(pat.size, pat.order);
	if (mmb_sym_provider("malloc", prov, sizeof(prov)))
		snprintf(prov, sizeof(prov), "unknown");
	printf("ready %s\n", prov);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		uint64_t t0 = mmb_now_ns();

		if (sscanf(line, "pair %llu", &iters) == 1)
			native_pair_loop(iters);
		else if (sscanf(line, "batch %llu", &iters) == 1)
			native_batch_loop(iters, pat.size, pat.order, slots.blk);
		else
			return 2;
		printf("ok %llu\n", (unsigned long long)(mmb_now_ns() - t0));
		fflush(stdout);
	}
	return 0;
}

/* ---- the parent ---- */

/* In the forked child, before exec: the library in LD_PRELOAD. */
static int native_env(const char *name, char *err, size_t errlen, int apply)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc_cfg cfg;
	const char *why = NULL;
	char lib[PATH_MAX];

	if (!strcmp(name, "mimalloc")) {
		if (mmb_sym_provider("mi_malloc", lib, sizeof(lib))) {
			snprintf(err, errlen, "no library defines mi_malloc in this process");
			return -ENOENT;
		}
		if (apply)
			mmb_preload_setenv(lib);
		return 0;
	}
	if (mmb_alloc_parse_config(!strcmp(name, "jemalloc") ? "jemalloc-malloc" : name, &ops, &cfg,
				   err, errlen))
		return -ENOENT;
	if (ops->supported && ops->supported(&why)) {
		snprintf(err, errlen, "%s", why);
		return -ENOTSUP;
	}
	if (ops->validate && ops->validate(&cfg, err, errlen))
		return -ENOENT;
	if (apply && ops->exec_env)
		ops->exec_env(&cfg);
	return 0;
}

/* One line from fd into buf (without the newline); 0, or -1 at EOF/error. */
static int native_readline(int fd, char *buf, size_t len)
{
	size_t off = 0;

	while (off + 1 < len) {
		ssize_t r = read(fd, buf + off, 1);

		if (r <= 0)
			return -1;
		if (buf[off] == '\n') {
			buf[off] = 0;
			return 0;
		}
		off++;
	}
	buf[off] = 0;
	return 0;
}

int mmb_native_start(struct mmb_native *n, const char *name, char *err, size_t errlen)
{
	int to[2], from[2], rc;
	char line[PATH_MAX + 16], want[32], exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	memset(n, 0, sizeof(*n));
	n->name = name;
	n->to = n->from = -1;
	rc = native_env(name, err, errlen, 0);
	if (rc)
		return rc;
	if (len <= 0) {
		snprintf(err, errlen, "cannot read /proc/self/exe");
		return -ENOENT;
	}
	exe[len] = 0;		/* the path, not the link: valgrind runs the client from it */
	if (pipe(to))
		goto out_errno;
	if (pipe(from)) {
		close(to[0]);
		close(to[1]);
		goto out_errno;
	}
	signal(SIGPIPE, SIG_IGN);
	fflush(NULL);
	n->pid = fork();
	if (n->pid == 0) {
		char e[MMB_ERR_MAX];

		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		unsetenv("LD_PRELOAD");
		native_env(name, e, sizeof(e), 1);
		execl(exe, "mmbench", "bench", "--native-child", (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	if (n->pid < 0) {
		close(to[1]);
		close(from[0]);
		goto out_errno;
	}
	n->to = to[1];
	n->from = from[0];
	if (native_readline(n->from, line, sizeof(line)) || strncmp(line, "ready ", 6)) {
		snprintf(err, errlen, "the child did not start");
		mmb_native_stop(n);
		return -ECHILD;
	}
	memcpy(n->provider, line + 6, strnlen(line + 6, sizeof(n->provider) - 1));
	snprintf(want, sizeof(want), "lib%s", name);
	if (!strstr(n->provider, want)) {
		snprintf(err, errlen, "malloc in the child came from %s, not %s", n->provider, name);
		mmb_native_stop(n);
		return -ENOTSUP;
	}
	return 0;

out_errno:
	rc = -errno;
	snprintf(err, errlen, "%s", strerror(errno));
	return rc;
}

void mmb_native_stop(struct mmb_native *n)
{
	if (n->to >= 0)
		close(n->to);
	if (n->from >= 0)
		close(n->from);
	if (n->pid > 0)
		waitpid(n->pid, NULL, 0);
	n->to = n->from = -1;
	n->pid = 0;
}

/* Run the request in the child and report the ns it took there. */
static void native_request(struct mmb_native *n, const char *what, uint64_t iters)
{
	char line[64];
	int len = snprintf(line, sizeof(line), "%s %llu\n", what, (unsigned long long)iters);
	unsigned long long ns;

	if (n->failed)
		return;
	if (write(n->to, line, (size_t)len) != len || native_readline(n->from, line, sizeof(line)) ||
	    sscanf(line, "ok %llu", &ns) != 1) {
		n->failed = 1;
		return;
	}
	mmb_bench_self_timed((double)ns);
}

void mmb_native_pair(void *arg, uint64_t iters)
{
	native_request(arg, "pair", iters);
}

void mmb_native_batch(void *arg, uint64_t iters)
{
	native_request(arg, "batch", iters);
}

/*
 * bench_trace.c — reading a big binary trace: the time per call of
 * mmb_trace_read (what `mmbench trace-info` does) and of replay's setup
 * with threads=recorded (the read plus building the per-worker
 * sequences), interleaved, and the memory each takes per call (peak RSS
 * growth of a forked child that does one, over the calls).
 *
 * The trace is synthetic, written here in the recorder's format (each
 * thread's records buffered into 64 KiB chunks, flushed when full, as
 * preload/record.c does): BENCH_TRACE_THREADS threads, seed 1, calls
 * chosen at random among the threads; a thread allocates (16..4111 bytes,
 * addresses reused last-in first-out as allocators do) or frees one of
 * its own live blocks, or one of another thread's 1 time in 10, with at
 * most 2000 blocks live per thread. Size: MMB_BENCH_TRACE_CALLS calls
 * (default 1M); MMB_BENCH_TRACE_KEEP=PATH keeps the file there (to time
 * `mmbench trace-info` on it). Targets (issue 22): 3 s for a 34M-call
 * trace, i.e. 88 ns per call, and 24 bytes of memory per call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../workloads/trace.h"
#include "../../workloads/workload.h"
#include "../util.h"
#include "bench.h"

#define BENCH_TRACE_THREADS 8
#define BENCH_TRACE_LIVE 2000
#define BENCH_TRACE_TARGET_NS (3e9 / 34e6)
#define BENCH_TRACE_TARGET_BYTES 24.0

struct bt_thread {
	uint8_t buf[64 << 10];
	size_t len;
	uint32_t nrec;
	uint64_t base, last_ns, last_addr;
	uint64_t live[BENCH_TRACE_LIVE];
	unsigned nlive;
};

static void bt_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int bt_flush(FILE *f, struct bt_thread *t, unsigned k)
{
	uint8_t h[MMB_TRACE_CHUNK_BYTES];

	if (!t->nrec)
		return 0;
	bt_le(h, MMB_TRACE_CHUNK_MAGIC, 4);
	bt_le(h + 4, k, 4);
	bt_le(h + 8, t->len, 4);
	bt_le(h + 12, t->nrec, 4);
	bt_le(h + 16, t->base, 8);
	if (fwrite(h, 1, sizeof(h), f) != sizeof(h) || fwrite(t->buf, 1, t->len, f) != t->len)
		return -EIO;
	t->len = 0;
	t->nrec = 0;
	return 0;
}

static int bt_put(FILE *f, struct bt_thread *t, unsigned k, unsigned op, uint64_t now,
		  uint64_t addr, uint64_t size)
{
	uint8_t *p;

	if (t->len > sizeof(t->buf) - MMB_TRACE_RECORD_MAX && bt_flush(f, t, k))
		return -EIO;
	if (!t->nrec) {
		t->base = t->last_ns = now;
		t->last_addr = 0;
	}
	p = t->buf + t->len;
	*p++ = (uint8_t)op;
	p = mmb_trace_put_varint(p, now - t->last_ns);
	p = mmb_trace_put_varint(p, mmb_trace_zigzag((int64_t)(addr - t->last_addr)));
	if (mmb_trace_op_allocates(op))
		p = mmb_trace_put_varint(p, size);
	t->last_ns = now;
	t->last_addr = addr;
	t->len = (size_t)(p - t->buf);
	t->nrec++;
	return 0;
}

/* The synthetic trace (above) into path; 0 or -errno. */
static int bt_write(const char *path, uint64_t calls)
{
	struct bt_thread *th = calloc(BENCH_TRACE_THREADS, sizeof(*th));
	uint64_t *addrs = malloc(BENCH_TRACE_THREADS * BENCH_TRACE_LIVE * sizeof(*addrs));
	uint64_t rng[4], naddr = 0, nfree = 0, now = 1000;
	uint8_t h[MMB_TRACE_HEADER_BYTES] = { 0 }, mark[MMB_TRACE_CHUNK_BYTES] = { 0 };
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!th || !addrs || !f) {
		rc = f ? -ENOMEM : -errno;
		goto out;
	}
	mmb_rand_seed(rng, 1);
	memcpy(h, MMB_TRACE_MAGIC, 8);
	bt_le(h + 8, MMB_TRACE_VERSION, 2);
	bt_le(h + 10, MMB_TRACE_HEADER_BYTES, 2);
	bt_le(h + 16, now, 8);
	bt_le(mark, MMB_TRACE_CHUNK_MAGIC, 4);
	bt_le(mark + 4, MMB_TRACE_IMAGE_THREAD, 4);
	bt_le(mark + 16, now, 8);
	if (fwrite(h, 1, sizeof(h), f) != sizeof(h) || fwrite(mark, 1, sizeof(mark), f) != sizeof(mark))
		rc = -EIO;
	for (uint64_t i = 0; !rc && i < calls; i++) {
		unsigned k = (unsigned)mmb_rand_below(rng, BENCH_TRACE_THREADS), from = k;
		struct bt_thread *t = &th[k], *o;
		uint64_t r = mmb_rand(rng);

		now += 50 + (r & 127);
		if (r >> 60 == 0)	/* 1 in 16: another thread's block */
			from = (unsigned)mmb_rand_below(rng, BENCH_TRACE_THREADS);
		o = &th[from];
		if (o->nlive && (o->nlive == BENCH_TRACE_LIVE || (r >> 8 & 1))) {
			unsigned j = (unsigned)mmb_rand_below(rng, o->nlive);
			uint64_t a = o->live[j];

			o->live[j] = o->live[--o->nlive];
			addrs[nfree++] = a;
			rc = bt_put(f, t, k, MMB_TOP_FREE, now, a, 0);
		} else if (t->nlive < BENCH_TRACE_LIVE) {
			uint64_t a = nfree ? addrs[--nfree] : 0x10000 + 4112 * naddr++;

			t->live[t->nlive++] = a;
			rc = bt_put(f, t, k, MMB_TOP_MALLOC, now, a, 16 + (r >> 16 & 4095));
		} else {
			i--;		/* a full thread with its choice on a free-less peer */
		}
	}
	for (unsigned k = 0; !rc && k < BENCH_TRACE_THREADS; k++)
		rc = bt_flush(f, &th[k], k);
out:
	if (f && fclose(f) && !rc)
		rc = -EIO;
	free(th);
	free(addrs);
	return rc;
}

struct bt_arg {
	const char *path;
	int replay;			/* 1: replay's setup, 0: the read alone */
	uint64_t calls;
};

/* One read (or replay setup) of the trace; 0 or -errno. */
static int bt_once(const struct bt_arg *a)
{
	char err[512], kvs[600];
	struct mmb_trace t;
	const struct mmb_wl_ops *wl;
	struct mmb_pvals pv;
	void *state;
	int rc;

	if (!a->replay) {
		rc = mmb_trace_read(a->path, &t, NULL, NULL, err, sizeof(err));
		mmb_trace_free(&t);
		return rc;
	}
	wl = mmb_wl_find("replay");
	snprintf(kvs, sizeof(kvs), "trace=%s,threads=recorded", a->path);
	if (!wl || mmb_params_parse(wl->params, kvs, "replay", &pv, err, sizeof(err)))
		return -EINVAL;
	rc = wl->setup(&pv, 4, 1, &state, err, sizeof(err));
	if (!rc)
		wl->teardown(state, NULL);
	return rc;
}

static void bt_run(void *arg, uint64_t iters)
{
	for (uint64_t i = 0; i < iters; i++)
		if (bt_once(arg))
			abort();
}

/* Peak RSS growth per call of one bt_once, in a fresh child. */
static double bt_bytes_per_call(const struct bt_arg *a)
{
	int pfd[2];
	double v = -1;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct rusage before, after;
		double d;

		getrusage(RUSAGE_SELF, &before);
		d = -1;
		if (!bt_once(a) && !getrusage(RUSAGE_SELF, &after))
			d = (double)(after.ru_maxrss - before.ru_maxrss) * 1024.0 / (double)a->calls;
		if (write(pfd[1], &d, sizeof(d)) != sizeof(d))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (pid < 0 || read(pfd[0], &v, sizeof(v)) != sizeof(v))
		v = -1;
	close(pfd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return v;
}

static int bench_trace_run(const struct mmb_bench_opts *o)
{
	const char *keep = getenv("MMB_BENCH_TRACE_KEEP"), *n = getenv("MMB_BENCH_TRACE_CALLS");
	char path[64] = "/tmp/mmb-bench-trace-XXXXXX";
	uint64_t calls = n ? strtoull(n, NULL, 10) : 1000000;
	struct bt_arg rd = { path, 0, calls }, rp = { path, 1, calls };
	const struct mmb_bench_fn fns[] = {
		{ "read", bt_run, &rd },
		{ "replay setup", bt_run, &rp },
	};
	double ns[2], mem_rd, mem_rp;
	int fd, rc;

	if (keep) {
		snprintf(path, sizeof(path), "%s", keep);
	} else {
		fd = mkstemp(path);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	rc = bt_write(path, calls);
	if (rc) {
		printf("  cannot write the synthetic trace %s: %s\n", path, strerror(-rc));
		if (!keep)
			unlink(path);
		return rc;
	}
	mmb_bench_interleaved(fns, 2, o, ns);
	mem_rd = bt_bytes_per_call(&rd);
	mem_rp = bt_bytes_per_call(&rp);
	if (!keep)
		unlink(path);
	printf("  synthetic trace: %llu calls, %d threads, 1 in 16 frees another thread's block\n",
	       (unsigned long long)calls, BENCH_TRACE_THREADS);
	mmb_bench_row("trace-info's read (mmb_trace_read), per call", ns[0] / (double)calls);
	mmb_bench_row("replay setup, threads=recorded, 4 workers, per call", ns[1] / (double)calls);
	mmb_bench_ratio("read per call / 88.2 ns (3 s for 34M calls)", ns[0] / (double)calls,
			BENCH_TRACE_TARGET_NS, 1.0);
	mmb_bench_ratio("replay setup per call / 88.2 ns", ns[1] / (double)calls,
			BENCH_TRACE_TARGET_NS, 1.0);
	printf("  %-56s %10.1f   (target <= %.0f: %s)\n", "read: peak RSS growth, bytes per call",
	       mem_rd, BENCH_TRACE_TARGET_BYTES, mem_rd >= 0 && mem_rd <= BENCH_TRACE_TARGET_BYTES ? "met" : "not met");
	printf("  %-56s %10.1f   (target <= %.0f: %s)\n", "replay setup: peak RSS growth, bytes per call",
	       mem_rp, BENCH_TRACE_TARGET_BYTES, mem_rp >= 0 && mem_rp <= BENCH_TRACE_TARGET_BYTES ? "met" : "not met");
	return 0;
}

const struct mmb_bench_case mmb_bench_trace = {
	.name = "trace",
	.desc = "reading a big multi-threaded trace: time and memory per call (trace-info, replay setup)",
	.run = bench_trace_run,
};

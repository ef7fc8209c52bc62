/*
 * fuzz_rtrace.c — libFuzzer target: the binary trace reader on its own
 * (workloads/trace.c: mmb_trace_read and mmb_trace_count, what replay and
 * `mmbench trace-info` stand on).
 *
 * Input: the bytes after the 8-byte magic, which the target writes first
 * (the rest of the header, chunks and records are the fuzzer's), into a
 * memfd named by its /proc/self/fd path. Checked:
 *   - a refusal is -EINVAL or -ENOMEM with one line naming the file, from
 *     both readers;
 *   - a trace read accepts, count and threads (the chunk headers alone)
 *     accept too and count the same records, threads and calls per thread,
 *     and the reader delivered every record and image mark once;
 *   - every event's op is known, and the lifetimes are what an independent
 *     model of the matching rules (trace.h, mmb_trace_read) gives: a
 *     free closes the object its address opened (every free of a nonzero
 *     address does, or the read refused the trace), an allocation of a
 *     live address closes that object first (a lost free, flagged
 *     replaces), an exec closes all; the summary counters, the frees on
 *     another thread and the objects live at the end agree.
 */
#include <string.h>

#include "../../workloads/trace.h"
#include "fuzz.h"

#define FZR_MODEL_MAX 4096		/* events the O(n * objects) model checks */

static void fzr_refusal(const char *who, int rc, const char *err, const char *path)
{
	if ((rc != -EINVAL && rc != -ENOMEM) || !err[0] || strchr(err, '\n') ||
	    strncmp(err, path, strlen(path)))
		fuzz_fail("%s refused (%d) without a one-line message naming the file: '%s'", who,
			  rc, err);
}

/* The events as delivered (the first FZR_MODEL_MAX of them kept). */
struct fzr_events {
	struct mmb_trace_event ev[FZR_MODEL_MAX];
	size_t n;
};

static struct fzr_events fzr_ev;

static int fzr_collect(void *arg, const struct mmb_trace_event *e)
{
	struct fzr_events *v = arg;

	if (v->n < FZR_MODEL_MAX)
		v->ev[v->n] = *e;
	v->n++;
	return 0;
}

/* The matching rules replayed over the delivered events. */
static void fzr_model(const struct mmb_trace *t, const struct fzr_events *v)
{
	uint64_t *addr_of = calloc(t->nobjs + 1, sizeof(*addr_of));
	uint32_t *thread_of = calloc(t->nobjs + 1, sizeof(*thread_of));
	uint64_t allocs = 0, frees = 0, lost = 0, drops = 0, live = 0, xfrees = 0;

	if (!addr_of || !thread_of)
		fuzz_fail("out of memory for the model");
	for (size_t i = 0; i < v->n; i++) {
		const struct mmb_trace_event *e = &v->ev[i];
		uint32_t k;

		if (e->op == MMB_TOP_EXEC) {
			for (k = 0; k < t->nobjs; k++)
				if (addr_of[k]) {
					addr_of[k] = 0;
					drops++;
				}
			continue;
		}
		if (e->matched && e->obj >= t->nobjs)
			fuzz_fail("event %zu: object %u of %u", i, e->obj, t->nobjs);
		for (k = 0; k < t->nobjs && !(e->addr > 1 && addr_of[k] == e->addr); k++)
			;
		if (!mmb_trace_op_allocates(e->op)) {
			if (e->matched != (k < t->nobjs))
				fuzz_fail("event %zu: free of %#llx matched %d, a live object %s", i,
					  (unsigned long long)e->addr, e->matched,
					  k < t->nobjs ? "has it" : "has not");
			if (!e->matched)
				continue;
			if (e->obj != k)
				fuzz_fail("event %zu: free of object %u, its address is object %u's", i,
					  e->obj, k);
			if (e->addr && !e->matched)
				fuzz_fail("event %zu: an unmatched free of %#llx accepted", i,
					  (unsigned long long)e->addr);
			addr_of[k] = 0;
			frees++;
			xfrees += thread_of[k] != e->thread;
			continue;
		}
		if (!e->matched)
			continue;
		if (e->addr <= 1)
			fuzz_fail("event %zu: a matched allocation at %#llx", i,
				  (unsigned long long)e->addr);
		if (e->replaces != (k < t->nobjs))
			fuzz_fail("event %zu: replaces %d, a live object %s its address", i,
				  e->replaces, k < t->nobjs ? "has" : "has not");
		if (k < t->nobjs) {
			addr_of[k] = 0;
			lost++;
		}
		if (addr_of[e->obj])
			fuzz_fail("event %zu: allocation into live object %u", i, e->obj);
		addr_of[e->obj] = e->addr;
		thread_of[e->obj] = e->thread;
		allocs++;
	}
	for (uint32_t k = 0; k < t->nobjs; k++)
		live += !!addr_of[k];
	free(addr_of);
	free(thread_of);
	if (xfrees != t->xthread_frees)
		fuzz_fail("model frees on another thread %llu, the reader's %llu",
			  (unsigned long long)xfrees, (unsigned long long)t->xthread_frees);
	if (allocs != t->allocs || frees != t->frees || lost != t->lost_frees ||
	    drops != t->exec_drops || live != t->live_end)
		fuzz_fail("model allocs/frees/lost/dropped/live %llu/%llu/%llu/%llu/%llu, the "
			  "reader's %llu/%llu/%llu/%llu/%llu",
			  (unsigned long long)allocs, (unsigned long long)frees,
			  (unsigned long long)lost, (unsigned long long)drops, (unsigned long long)live,
			  (unsigned long long)t->allocs, (unsigned long long)t->frees,
			  (unsigned long long)t->lost_frees, (unsigned long long)t->exec_drops,
			  (unsigned long long)t->live_end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024] = "", err2[1024] = "";
	uint8_t *buf = malloc(size + 8);
	uint64_t records = 0, calls = 0;
	uint32_t threads = 0;
	struct mmb_trace t;
	int fd, rc, rc2;

	if (!buf)
		fuzz_fail("out of memory for the input");
	memcpy(buf, MMB_TRACE_MAGIC, 8);
	memcpy(buf + 8, data, size);
	fd = fuzz_file(buf, size + 8, path, sizeof(path));
	free(buf);
	if (mmb_trace_is_binary(path) != 1)
		fuzz_fail("a file that starts with the magic is not binary");
	fzr_ev.n = 0;
	rc = mmb_trace_read(path, &t, fzr_collect, &fzr_ev, err, sizeof(err));
	rc2 = mmb_trace_count(path, &records, &threads, err2, sizeof(err2));
	if (rc2)
		fzr_refusal("count", rc2, err2, path);
	if (rc) {
		mmb_trace_free(&t);
		fzr_refusal("read", rc, err, path);
		close(fd);
		return 0;
	}
	if (rc2)
		fuzz_fail("read accepted the trace, count refused it: %s", err2);
	if (fzr_ev.n != t.nev + t.images)
		fuzz_fail("%zu events delivered, %llu records and %u image marks",
			  fzr_ev.n, (unsigned long long)t.nev, t.images);
	for (size_t i = 0; i < fzr_ev.n && i < FZR_MODEL_MAX; i++)
		if (!fzr_ev.ev[i].op || fzr_ev.ev[i].op >= MMB_TOP_NR)
			fuzz_fail("event %zu: op %u", i, fzr_ev.ev[i].op);
	for (unsigned op = 1; op < MMB_TOP_NR; op++)
		calls += op == MMB_TOP_EXEC ? 0 : t.calls[op];
	if (calls != records)
		fuzz_fail("read decoded %llu records, count says %llu", (unsigned long long)calls,
			  (unsigned long long)records);
	if (fzr_ev.n <= FZR_MODEL_MAX)
		fzr_model(&t, &fzr_ev);
	{
		struct mmb_trace th;

		if (mmb_trace_threads(path, &th, err2, sizeof(err2)))
			fuzz_fail("read accepted the trace, threads refused it: %s", err2);
		if (th.nthreads != t.nthreads || th.nev != t.nev)
			fuzz_fail("threads: %u threads, %llu records; read: %u, %llu", th.nthreads,
				  (unsigned long long)th.nev, t.nthreads, (unsigned long long)t.nev);
		for (uint32_t i = 0; i < t.nthreads; i++)
			if (th.threads[i].calls != t.threads[i].calls)
				fuzz_fail("thread %u: %llu calls by its chunk headers, %llu read", i,
					  (unsigned long long)th.threads[i].calls,
					  (unsigned long long)t.threads[i].calls);
		mmb_trace_free(&th);
	}
	mmb_trace_free(&t);
	close(fd);
	return 0;
}

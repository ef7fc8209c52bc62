/*
 * fuzz_rtrace.c — libFuzzer target: the binary trace reader on its own
 * (workloads/trace.c: mmb_trace_load and mmb_trace_count, what replay and
 * `mmbench trace-info` stand on).
 *
 * Input: the bytes after the 8-byte magic, which the target writes first
 * (the rest of the header, chunks and records are the fuzzer's), into a
 * memfd named by its /proc/self/fd path. Checked:
 *   - a refusal is -EINVAL or -ENOMEM with one line naming the file, from
 *     both readers;
 *   - a trace load accepts, count accepts too and counts the same records;
 *   - every event's op is known, and the lifetimes are what an independent
 *     model of the matching rules (trace.h, mmb_trace_load) gives: a
 *     matched free closes the object its address opened, an allocation of
 *     a live address closes that object first (a lost free), an exec closes
 *     all; the summary counters and the objects live at the end agree.
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

/* The matching rules replayed over the loaded events. */
static void fzr_model(const struct mmb_trace *t)
{
	uint64_t *addr_of = calloc(t->nobjs + 1, sizeof(*addr_of));
	uint64_t allocs = 0, frees = 0, lost = 0, drops = 0, live = 0;

	if (!addr_of)
		fuzz_fail("out of memory for the model");
	for (size_t i = 0; i < t->nev; i++) {
		const struct mmb_trace_event *e = &t->ev[i];
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
			addr_of[k] = 0;
			frees++;
			continue;
		}
		if (!e->matched)
			continue;
		if (e->addr <= 1)
			fuzz_fail("event %zu: a matched allocation at %#llx", i,
				  (unsigned long long)e->addr);
		if (k < t->nobjs) {
			addr_of[k] = 0;
			lost++;
		}
		if (addr_of[e->obj])
			fuzz_fail("event %zu: allocation into live object %u", i, e->obj);
		addr_of[e->obj] = e->addr;
		allocs++;
	}
	for (uint32_t k = 0; k < t->nobjs; k++)
		live += !!addr_of[k];
	free(addr_of);
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
	rc = mmb_trace_load(path, &t, err, sizeof(err));
	rc2 = mmb_trace_count(path, &records, &threads, err2, sizeof(err2));
	if (rc2)
		fzr_refusal("count", rc2, err2, path);
	if (rc) {
		fzr_refusal("load", rc, err, path);
		close(fd);
		return 0;
	}
	if (rc2)
		fuzz_fail("load accepted the trace, count refused it: %s", err2);
	for (size_t i = 0; i < t.nev; i++)
		if (!t.ev[i].op || t.ev[i].op >= MMB_TOP_NR)
			fuzz_fail("event %zu: op %u", i, t.ev[i].op);
	for (unsigned op = 1; op < MMB_TOP_NR; op++)
		calls += op == MMB_TOP_EXEC ? 0 : t.calls[op];
	if (calls != records)
		fuzz_fail("load decoded %llu records, count says %llu", (unsigned long long)calls,
			  (unsigned long long)records);
	if (t.nev <= FZR_MODEL_MAX)
		fzr_model(&t);
	mmb_trace_free(&t);
	close(fd);
	return 0;
}

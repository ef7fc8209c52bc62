/*
 * test_trace.c — `mmbench record`, the binary trace format, `mmbench
 * trace-info` and replay of binary traces: each thread's order survives
 * recording and merging, a replay makes as many calls and reaches the same
 * peak live bytes as the trace says, and a truncated or foreign trace is an
 * error naming the offset, exit 2.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <libgen.h>

#include "../../workloads/trace.h"
#include "../testutil.h"

/* build/tests/trace-threads, beside the mmbench under test. */
static void tt_prog(char *buf, size_t len)
{
	char bin[4096];

	snprintf(bin, sizeof(bin), "%s", MMB_BIN);
	snprintf(buf, len, "%s/tests/trace-threads", dirname(bin));
}

static uint64_t tt_field(const char *out, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\n%s: ", key);
	p = strstr(out, k);
	cr_assert(p, "no '%s' in:\n%s", key, out);
	return strtoull(p + strlen(k), NULL, 10);
}

Test(trace, threads_keep_their_order)
{
	char prog[4200], trace[256];
	struct mmb_trace t;
	struct mmb_cmd c;
	char err[512];
	int next[4] = { 0 }, freed[4] = { 0 };
	uint32_t owner[4] = { UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX };

	tt_prog(prog, sizeof(prog));
	mmb_tmpname(trace, sizeof(trace), "tt.trace");
	mmb_run_cmd(&c, "record", "-o", trace, "--", prog, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "trace-threads: ok"), "%s", c.out);
	cr_assert_eq(mmb_trace_load(trace, &t, err, sizeof(err)), 0, "%s", err);
	cr_expect_geq(t.nthreads, 5);
	cr_expect_eq(t.unmatched_frees, 0);
	cr_expect_eq(t.lost_frees, 0);
	/* thread k's blocks: sizes 20000 + k * 1000 + 1 .. + 300, allocated in order,
	 * all on one recorded thread, then freed in the same order */
	for (size_t i = 0; i < t.nev; i++) {
		const struct mmb_trace_event *e = &t.ev[i];
		uint64_t k = (e->size - 20001) / 1000, n = (e->size - 20001) % 1000;

		if (e->op != MMB_TOP_MALLOC && e->op != MMB_TOP_FREE)
			continue;
		if (!e->matched || e->size < 20001 || k > 3 || n >= 300)
			continue;
		if (owner[k] == UINT32_MAX)
			owner[k] = e->thread;
		cr_expect_eq(e->thread, owner[k], "thread %" PRIu64 "'s block on two threads", k);
		if (e->op == MMB_TOP_MALLOC) {
			cr_expect_eq(n, (uint64_t)next[k], "thread %" PRIu64 ": block %" PRIu64 " allocated after %d",
				     k, n, next[k] - 1);
			cr_expect_eq(freed[k], 0, "thread %" PRIu64 ": allocation after its frees began", k);
			next[k] = (int)n + 1;
		} else {
			cr_expect_eq(n, (uint64_t)freed[k], "thread %" PRIu64 ": block %" PRIu64 " freed out of order",
				     k, n);
			freed[k] = (int)n + 1;
		}
	}
	for (int k = 0; k < 4; k++) {
		cr_expect_eq(next[k], 300, "thread %d: %d allocations", k, next[k]);
		cr_expect_eq(freed[k], 300, "thread %d: %d frees", k, freed[k]);
	}
	for (int k = 0; k < 4; k++)
		for (int j = 0; j < k; j++)
			cr_expect_neq(owner[k], owner[j], "threads %d and %d merged", j, k);
	cr_expect_eq(t.calls[MMB_TOP_MEMALIGN], 4);
	cr_expect_eq(t.calls[MMB_TOP_POSIX_MEMALIGN], 4);
	cr_expect_eq(t.calls[MMB_TOP_ALIGNED_ALLOC], 4);
	cr_expect_eq(t.calls[MMB_TOP_VALLOC], 4);
	cr_expect_eq(t.calls[MMB_TOP_PVALLOC], 4);
	cr_expect_eq(t.calls[MMB_TOP_REALLOC], 8);	/* realloc + reallocarray */
	for (size_t i = 0; i < t.nev; i++)
		if (t.ev[i].op == MMB_TOP_POSIX_MEMALIGN)
			cr_expect_eq(t.ev[i].align, 256);
	mmb_trace_free(&t);
	unlink(trace);
}

/* A real program's trace: trace-info's figures against a replay's. */
Test(trace, replay_matches_the_recording)
{
	char trace[256], dir[256], w[400], ops[32], csv[200000], *line;
	struct mmb_cmd c;
	uint64_t calls, replay_ops, peak;
	int col_ops = -1, col_peak = -1, col = 0;

	mmb_tmpname(trace, sizeof(trace), "py.trace");
	mmb_tmpname(dir, sizeof(dir), "replay");
	mmb_run_cmd(&c, "record", "-o", trace, "--", "python3", "-c",
		    "d = {str(i): [i] * (i % 50) for i in range(3000)}\n"
		    "print(sum(len(v) for v in d.values()))", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect_eq(strcmp(c.out, "73500\n"), 0, "%s", c.out);
	mmb_run_cmd(&c, "trace-info", trace, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	calls = tt_field(c.out, "calls");
	replay_ops = tt_field(c.out, "replay_ops_per_pass");
	peak = tt_field(c.out, "peak_live_bytes");
	cr_expect_gt(calls, 1000, "%s", c.out);
	cr_expect_eq(tt_field(c.out, "threads"), 1);
	cr_expect(strstr(c.out, "\nsizes:\n"), "%s", c.out);

	snprintf(w, sizeof(w), "replay:trace=%s", trace);
	snprintf(ops, sizeof(ops), "%" PRIu64, replay_ops);
	mmb_run_cmd(&c, "run", "-a", "glibc", "-w", w, "-t", "1", "--reps", "1", "--ops", ops,
		    "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(w, sizeof(w), "%s/cells.csv", dir);
	mmb_slurp(w, csv, sizeof(csv));
	line = strchr(csv, '\n');
	cr_assert(line);
	*line++ = 0;
	for (char *f = strtok(csv, ","); f; f = strtok(NULL, ","), col++) {
		if (!strcmp(f, "ops"))
			col_ops = col;
		if (!strcmp(f, "live_peak_bytes"))
			col_peak = col;
	}
	cr_assert(col_ops >= 0 && col_peak >= 0);
	/* quoted params contain commas: count fields from the end instead */
	{
		char *v[64];
		int n = 0, q = 0;

		v[n++] = line;
		for (char *p = line; *p && *p != '\n' && n < 64; p++) {
			if (*p == '"')
				q = !q;
			if (*p == ',' && !q) {
				*p = 0;
				v[n++] = p + 1;
			}
		}
		cr_expect_eq(strtoull(v[col_ops], NULL, 10), replay_ops, "ops %s, trace says %" PRIu64,
			     v[col_ops], replay_ops);
		cr_expect_eq(strtoull(v[col_peak], NULL, 10), peak, "peak %s, trace says %" PRIu64,
			     v[col_peak], peak);
	}
	mmb_rm_rf(dir);
	unlink(trace);
}

static void tt_write(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

Test(trace, truncated_or_foreign)
{
	char prog[4200], trace[256], bad[256], w[400], buf[1 << 16];
	struct mmb_cmd c;
	FILE *f;
	size_t n;

	tt_prog(prog, sizeof(prog));
	mmb_tmpname(trace, sizeof(trace), "tt.trace");
	mmb_tmpname(bad, sizeof(bad), "bad.trace");
	mmb_run_cmd(&c, "record", "-o", trace, "--", prog, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	f = fopen(trace, "rb");
	cr_assert(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	cr_assert_gt(n, 100);

	tt_write(bad, buf, n - 3);	/* cut inside the last chunk */
	mmb_run_cmd(&c, "trace-info", bad, NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "offset ") && strstr(c.err, "truncated"), "%s", c.err);
	snprintf(w, sizeof(w), "replay:trace=%s", bad);
	mmb_run_cmd(&c, "run", "-a", "glibc", "-w", w, "--reps", "1", "--ops", "10", NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "offset "), "%s", c.err);

	tt_write(bad, buf, 40);		/* header + a piece of a chunk header */
	mmb_run_cmd(&c, "trace-info", bad, NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "offset 32: truncated chunk header"), "%s", c.err);

	buf[8] = 9;			/* a future version */
	tt_write(bad, buf, n);
	mmb_run_cmd(&c, "trace-info", bad, NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "offset 8: trace version 9 not supported"), "%s", c.err);

	mmb_run_cmd(&c, "trace-info", prog, NULL);	/* an ELF file */
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "offset 0: not an mmbench binary trace"), "%s", c.err);
	cr_expect_eq(strchr(c.err, '\n'), c.err + strlen(c.err) - 1, "one line: %s", c.err);

	/* an existing trace is kept unless --force says to replace it */
	mmb_run_cmd(&c, "record", "-o", trace, "--", prog, NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "file exists (--force replaces it)"), "%s", c.err);
	f = fopen(trace, "rb");
	cr_assert(f);
	cr_expect_eq(fread(w, 1, sizeof(w), f), sizeof(w) < n ? sizeof(w) : n, "trace changed");
	fclose(f);
	/* buf[8] was changed above; the rest is the trace as first recorded */
	cr_expect(!memcmp(w + 9, buf + 9, (sizeof(w) < n ? sizeof(w) : n) - 9),
		  "the trace was rewritten");
	mmb_run_cmd(&c, "record", "-o", trace, "--force", "--", prog, NULL);
	cr_expect_eq(c.status, 0, "%s", c.err);

	unlink(bad);
	mmb_run_cmd(&c, "record", "-o", bad, "--", "no-such-command-mmb", NULL);
	cr_expect_eq(c.status, 127);
	cr_expect(strstr(c.err, "no-such-command-mmb: command not found"), "%s", c.err);
	mmb_run_cmd(&c, "record", "--", "true", NULL);
	cr_expect_eq(c.status, 2);
	unlink(bad);
	unlink(trace);
}

/* A process that execs another program: the blocks of the first image are
 * dropped at the exec, and a replay frees them there too. */
Test(trace, exec_starts_a_new_image)
{
	char trace[256], dir[256], w[400], ops[32], f[300], csv[200000];
	struct mmb_cmd c;
	uint64_t replay_ops;

	mmb_tmpname(trace, sizeof(trace), "exec.trace");
	mmb_tmpname(dir, sizeof(dir), "exec-replay");
	mmb_run_cmd(&c, "record", "-o", trace, "--", "python3", "-c",
		    "import os\n"
		    "keep = [bytearray(1000) for i in range(20000)]\n"
		    "os.execv('/bin/sh', ['sh', '-c', 'exit 3'])", NULL);
	cr_assert_eq(c.status, 3, "%s", c.err);
	mmb_run_cmd(&c, "trace-info", trace, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect_geq(tt_field(c.out, "images"), 2, "%s", c.out);
	cr_expect_geq(tt_field(c.out, "dropped_at_exec"), 5000, "%s", c.out);
	cr_expect_geq(tt_field(c.out, "peak_live_bytes"), 5000 * 1000, "%s", c.out);
	replay_ops = tt_field(c.out, "replay_ops_per_pass");
	snprintf(w, sizeof(w), "replay:trace=%s", trace);
	snprintf(ops, sizeof(ops), "%" PRIu64, replay_ops);
	mmb_run_cmd(&c, "run", "-a", "glibc", "-w", w, "-t", "1", "--reps", "1", "--ops", ops,
		    "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(f, sizeof(f), "%s/cells.csv", dir);
	mmb_slurp(f, csv, sizeof(csv));
	snprintf(w, sizeof(w), ",%s,", ops);
	cr_expect(strstr(csv, w), "ops %s not in %s", ops, csv);
	mmb_rm_rf(dir);
	unlink(trace);
}

/*
 * test_trace.c — `mmbench record`, the binary trace format, `mmbench
 * trace-info` and replay of binary traces: each thread's order survives
 * recording and merging, a replay makes as many calls and reaches the same
 * peak live bytes as the trace says, a replay with threads=recorded frees
 * as many blocks on another worker as the program freed on another thread,
 * and a truncated or foreign trace, or one that frees a block it never
 * allocated, is an error naming the offset or event, exit 2.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>

#include "../../harness/results.h"
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

/* The events of a trace, collected (small traces only). */
struct tt_events {
	struct mmb_trace_event *ev;
	size_t n, cap;
};

static int tt_collect(void *arg, const struct mmb_trace_event *e)
{
	struct tt_events *v = arg;

	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 1024;
		v->ev = realloc(v->ev, v->cap * sizeof(*v->ev));
		cr_assert(v->ev);
	}
	v->ev[v->n++] = *e;
	return 0;
}

Test(trace, threads_keep_their_order)
{
	char prog[4200], trace[256];
	struct mmb_trace t;
	struct tt_events v = { 0 };
	struct mmb_cmd c;
	char err[512];
	int next[4] = { 0 }, freed[4] = { 0 };
	uint32_t owner[4] = { UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX };

	tt_prog(prog, sizeof(prog));
	mmb_tmpname(trace, sizeof(trace), "tt.trace");
	mmb_run_cmd(&c, "record", "-o", trace, "--", prog, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "trace-threads: ok"), "%s", c.out);
	cr_assert_eq(mmb_trace_read(trace, &t, tt_collect, &v, err, sizeof(err)), 0, "%s", err);
	cr_expect_geq(t.nthreads, 5);
	cr_expect_eq(t.lost_frees, 0);
	cr_expect_eq(v.n, t.nev + t.images, "every record and image mark delivered");
	/* thread k's blocks: sizes 20000 + k * 1000 + 1 .. + 300, allocated in order,
	 * all on one recorded thread, then freed in the same order */
	for (size_t i = 0; i < v.n; i++) {
		const struct mmb_trace_event *e = &v.ev[i];
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
	for (size_t i = 0; i < v.n; i++)
		if (v.ev[i].op == MMB_TOP_POSIX_MEMALIGN)
			cr_expect_eq(v.ev[i].align, 256);
	free(v.ev);
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
	cr_expect(strstr(c.err, "offset 32, event 1: truncated chunk header"), "%s", c.err);

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
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "no-such-command-mmb: command not found"), "%s", c.err);
	cr_expect(!mmb_exists(bad), "a trace was written for a missing command");
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

/* One cell of replay on glibc, after a warm-up (whose remote frees and
 * stalls must not be counted); its row (one row expected). */
static void tt_replay_cell(const char *w, const char *threads, struct mmb_result *row)
{
	char dir[256], path[300], err[256];
	struct mmb_result *r;
	struct mmb_cmd c;
	int n;

	mmb_tmpname(dir, sizeof(dir), "xreplay");
	mmb_run_cmd(&c, "run", "-q", "-a", "glibc", "-w", w, "-t", threads, "--oversubscribe", "--reps", "1",
		    "--duration", "30", "--warmup", "0.1", "-o", dir, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, &r, err, sizeof(err));
	cr_assert_eq(n, 1, "%d: %s", n, err);
	cr_assert_str_eq(r[0].status, "ok", "%s", r[0].detail);
	*row = r[0];
	free(r);
	mmb_rm_rf(dir);
}

/*
 * A program whose threads free each other's blocks (trace-threads xfree:
 * 4 threads, 3 rounds of 300 blocks each freed by the next thread):
 * trace-info counts the frees made on another thread, and one pass of
 * threads=recorded with a worker per recorded thread makes exactly as many
 * remote frees, and the whole pass's calls; threads=merged makes none.
 */
Test(trace, recorded_threads_free_each_others_blocks)
{
	char prog[4200], trace[256], w[400], threads[16];
	struct mmb_result row;
	struct mmb_cmd c;
	uint64_t xfrees, ops;

	tt_prog(prog, sizeof(prog));
	mmb_tmpname(trace, sizeof(trace), "xfree.trace");
	mmb_run_cmd(&c, "record", "-o", trace, "--", prog, "xfree", "3", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "trace-threads: ok"), "%s", c.out);
	mmb_run_cmd(&c, "trace-info", trace, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	xfrees = tt_field(c.out, "cross_thread_frees");
	ops = tt_field(c.out, "replay_ops_per_pass");
	cr_expect_geq(xfrees, 4 * 300 * 3, "%s", c.out);
	cr_expect_geq(tt_field(c.out, "threads_at_once"), 4, "%s", c.out);
	snprintf(threads, sizeof(threads), "%" PRIu64, tt_field(c.out, "threads"));

	snprintf(w, sizeof(w), "replay:trace=%s,threads=recorded,passes=1", trace);
	tt_replay_cell(w, threads, &row);
	cr_expect_eq((uint64_t)row.m[MMB_M_remote_frees], xfrees, "remote frees %.0f, trace says %" PRIu64,
		     row.m[MMB_M_remote_frees], xfrees);
	cr_expect_eq((uint64_t)row.m[MMB_M_ops], ops, "ops %.0f, trace says %" PRIu64,
		     row.m[MMB_M_ops], ops);
	cr_expect(!isnan(row.m[MMB_M_dep_stalls]), "dep_stalls not reported");
	cr_expect_gt(row.m[MMB_M_setup_ns], 0);

	snprintf(w, sizeof(w), "replay:trace=%s,threads=merged,passes=1", trace);
	tt_replay_cell(w, "2", &row);
	cr_expect_eq(row.m[MMB_M_remote_frees], 0);
	cr_expect_eq(row.m[MMB_M_dep_stalls], 0);
	cr_expect_eq((uint64_t)row.m[MMB_M_ops], 2 * ops, "ops %.0f, 2 x %" PRIu64,
		     row.m[MMB_M_ops], ops);

	/* fewer workers than recorded threads: every call still made once */
	snprintf(w, sizeof(w), "replay:trace=%s,passes=1", trace);
	tt_replay_cell(w, "2", &row);
	cr_expect_eq((uint64_t)row.m[MMB_M_ops], ops, "ops %.0f, trace says %" PRIu64,
		     row.m[MMB_M_ops], ops);
	cr_expect_leq((uint64_t)row.m[MMB_M_remote_frees], xfrees);
	unlink(trace);
}

/* A little-endian field into a trace being built by hand. */
static uint8_t *tt_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

/* A trace of one thread's chunk holding recs (nrec records). */
static size_t tt_trace(uint8_t *buf, const uint8_t *recs, size_t len, unsigned nrec)
{
	uint8_t *p = buf;

	memcpy(p, MMB_TRACE_MAGIC, 8);
	p = tt_le(p + 8, MMB_TRACE_VERSION, 2);
	p = tt_le(p, MMB_TRACE_HEADER_BYTES, 2);
	p = tt_le(p, 0, 4);
	p = tt_le(p, 1000, 8);
	p = tt_le(p, 1, 4);
	p = tt_le(p, 0, 4);
	p = tt_le(p, MMB_TRACE_CHUNK_MAGIC, 4);
	p = tt_le(p, 0, 4);
	p = tt_le(p, len, 4);
	p = tt_le(p, nrec, 4);
	p = tt_le(p, 1000, 8);
	memcpy(p, recs, len);
	return (size_t)(p - buf) + len;
}

/* A free of a block the trace never allocated: refused naming the event,
 * by trace-info and by run, before anything is written. */
Test(trace, free_of_a_block_never_allocated)
{
	/* malloc(16) at 0x1000, free 0x1000, free 0x2000 (event 3) */
	static const uint8_t recs[] = { MMB_TOP_MALLOC, 1, 0x80, 0x40, 16,
					MMB_TOP_FREE,	1, 0,	       MMB_TOP_FREE, 1, 0x80, 0x40 };
	char bad[256], dir[256], w[400];
	uint8_t buf[256];
	struct mmb_cmd c;

	mmb_tmpname(bad, sizeof(bad), "unalloc.trace");
	mmb_tmpname(dir, sizeof(dir), "unalloc");
	tt_write(bad, buf, tt_trace(buf, recs, sizeof(recs), 3));
	mmb_run_cmd(&c, "trace-info", bad, NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "event 3: free of 0x2000, which the trace never allocated"), "%s",
		  c.err);
	cr_expect_eq(strchr(c.err, '\n'), c.err + strlen(c.err) - 1, "one line: %s", c.err);
	snprintf(w, sizeof(w), "replay:trace=%s", bad);
	mmb_run_cmd(&c, "run", "-a", "glibc", "-w", w, "--ops", "10", "-o", dir, NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "event 3: free of 0x2000"), "%s", c.err);
	cr_expect(!mmb_exists(dir), "results folder %s left behind", dir);

	tt_write(bad, buf, tt_trace(buf, recs, sizeof(recs) - 7, 3) );	/* records cut */
	mmb_run_cmd(&c, "trace-info", bad, NULL);
	cr_expect_eq(c.status, 2);
	cr_expect(strstr(c.err, "event 2: chunk holds 3 records") || strstr(c.err, "event 2: truncated"),
		  "%s", c.err);
	mmb_rm_rf(dir);
	unlink(bad);
}

/*
 * A multi-threaded program killed by a signal (SIGKILL: no exit handler)
 * leaves a trace that reads: when one thread's buffer fills, every
 * thread's records so far are written with it, so no free in the file
 * refers to an allocation still in a buffer that was lost. Before, the
 * main thread's 100 allocations (its buffer never full) were lost and
 * trace-info refused the other thread's frees of them.
 */
Test(trace, killed_program_leaves_a_readable_trace)
{
	char prog[4200], trace[256];
	struct mmb_cmd c;

	tt_prog(prog, sizeof(prog));
	mmb_tmpname(trace, sizeof(trace), "killed.trace");
	mmb_run_cmd(&c, "record", "-o", trace, "--", prog, "killed", "100000", NULL);
	cr_assert_eq(c.status, 128 + 9, "%s", c.err);
	cr_expect(strstr(c.err, "signal 9 ended the command: the calls after the last full buffer"),
		  "%s", c.err);
	mmb_run_cmd(&c, "trace-info", trace, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect_eq(tt_field(c.out, "cross_thread_frees"), 100, "%s", c.out);
	cr_expect_geq(tt_field(c.out, "calls"), 100 + 100 + 100000, "%s", c.out);
	unlink(trace);
}

/*
 * The program's pid is in the header before it runs: a recorder killed
 * while the program runs leaves a trace that names its process (it used to
 * be written after the program ended, so such a trace said pid 0).
 */
Test(trace, killed_recorder_leaves_the_pid)
{
	char trace[256], pidfile[256], script[1024], buf[32] = "";
	struct mmb_cmd c;
	pid_t rec;
	long prog = 0;
	int st;

	mmb_tmpname(trace, sizeof(trace), "reckilled.trace");
	mmb_tmpname(pidfile, sizeof(pidfile), "reckilled.pid");
	snprintf(script, sizeof(script), "echo $$ > %s.tmp && mv %s.tmp %s && exec sleep 30", pidfile,
		 pidfile, pidfile);
	rec = fork();
	cr_assert_geq(rec, 0);
	if (rec == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execl(MMB_BIN, "mmbench", "record", "-o", trace, "--", "/bin/sh", "-c", script,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000 && !mmb_exists(pidfile); i++)
		usleep(10000);
	cr_assert(mmb_exists(pidfile), "the program never started");
	kill(rec, SIGKILL);
	waitpid(rec, &st, 0);
	mmb_slurp(pidfile, buf, sizeof(buf));
	prog = strtol(buf, NULL, 10);
	cr_assert_gt(prog, 0, "%s", buf);
	kill((pid_t)prog, SIGKILL);
	mmb_run_cmd(&c, "trace-info", trace, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect_eq(tt_field(c.out, "pid"), (uint64_t)prog, "%s", c.out);
	unlink(trace);
	unlink(pidfile);
}

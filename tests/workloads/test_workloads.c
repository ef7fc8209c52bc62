/*
 * test_workloads.c — every workload: deterministic for a seed (the op
 * checksum), different across seeds where the seed matters, everything freed
 * at the end, runs on every registered allocator, bad parameters and bad
 * traces refused with exit status 2 before any cell runs.
 *
 * Workloads are driven in-process through glibc (wl_drive: the same thread
 * setup as harness/cell.c, with real threads) and through the mmbench binary.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>

#include "../../allocators/allocator.h"
#include "../../harness/results.h"
#include "../../workloads/replay_ops.h"
#include "../../workloads/workload.h"
#include "../testutil.h"

/* Small parameters so every workload does all its phases within a few thousand ops. */
static const char *const wl_small[][2] = {
	{ "fragmenter", "fill=64K" },
	{ "larson", "chunks=50,rounds=2" },
	{ "xthread", "max=256,batch=10,depth=4" },
	{ "threadtest", "objects=100" },
	{ "cache-scratch", "writes=50" },
	{ "bigbuf", "max=512K,live=4" },
	{ "ramp", "peak=64K" },
	{ "sizes", "live=100" },
	{ "pages", "live=32" },
};

/* Workloads whose sequence does not depend on the seed (said in their files). */
static const char *const wl_seedless[] = { "churn", "threadtest", "cache-scratch", "replay",
					   "fragmenter" };

static const char *small_params(const char *name)
{
	for (size_t i = 0; i < sizeof(wl_small) / sizeof(wl_small[0]); i++)
		if (!strcmp(wl_small[i][0], name))
			return wl_small[i][1];
	return "";
}

static int seedless(const char *name)
{
	for (size_t i = 0; i < sizeof(wl_seedless) / sizeof(wl_seedless[0]); i++)
		if (!strcmp(wl_seedless[i], name))
			return 1;
	return 0;
}

struct drive_thread {
	struct mmb_wl_thread t;
	const struct mmb_wl_ops *wl;
	void *state;
	int rc;
};

static void *drive_main(void *arg)
{
	struct drive_thread *d = arg;

	d->rc = d->wl->run(d->state, &d->t);
	return NULL;
}

struct drive_out {
	uint64_t checksum[4];		/* per thread */
	uint64_t nops, nallocs, nfrees;
	int64_t live_after;		/* live bytes after teardown, all threads */
};

/* Run wl with kvs on glibc: n threads, ops allocator calls each, then teardown. */
static void wl_drive(const char *name, const char *kvs, unsigned n, uint64_t seed, uint64_t ops,
		     struct drive_out *out)
{
	const struct mmb_wl_ops *wl = mmb_wl_find(name);
	const struct mmb_alloc_ops *aops;
	struct mmb_alloc *a;
	struct mmb_pvals pv;
	struct drive_thread d[4];
	atomic_int stop = 0;
	char err[MMB_ERR_MAX];
	void *state;

	cr_assert_not_null(wl, "%s", name);
	cr_assert_leq(n, 4);
	a = mmb_test_alloc("glibc", n, &aops);
	cr_assert_eq(mmb_params_parse(wl->params, kvs, name, &pv, err, sizeof(err)), 0, "%s", err);
	cr_assert(!wl->check_params || wl->check_params(&pv, err, sizeof(err)) == 0, "%s", err);
	cr_assert_eq(wl->setup(&pv, n, seed, &state, err, sizeof(err)), 0, "%s: %s", name, err);
	memset(d, 0, sizeof(d));
	for (unsigned i = 0; i < n; i++) {
		d[i].t.ops = aops;
		d[i].t.a = a;
		d[i].t.tid = i;
		d[i].t.nthreads = n;
		d[i].t.stop = &stop;
		d[i].t.ops_limit = ops;
		mmb_rand_seed(d[i].t.rng, seed + 0x632be59bd9b4e019ULL * (i + 1));
		d[i].wl = wl;
		d[i].state = state;
	}
	if (n == 1) {
		drive_main(&d[0]);
	} else {
		pthread_t th[4];

		for (unsigned i = 0; i < n; i++)
			cr_assert_eq(pthread_create(&th[i], NULL, drive_main, &d[i]), 0);
		for (unsigned i = 0; i < n; i++)
			pthread_join(th[i], NULL);
	}
	wl->teardown(state, &d[0].t);
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < n; i++) {
		cr_expect_eq(d[i].rc, 0, "%s thread %u: %d", name, i, d[i].rc);
		out->checksum[i] = d[i].t.checksum;
		out->nops += d[i].t.nops;
		out->nallocs += d[i].t.nallocs;
		out->nfrees += d[i].t.nfrees;
		out->live_after += d[i].t.live_bytes;
	}
	aops->destroy(a);
}

Test(workloads, registry_is_complete)
{
	static const char *const want[] = { "churn", "sizes", "fragmenter", "larson", "xthread",
					    "threadtest", "cache-scratch", "pages", "bigbuf",
					    "ramp", "replay" };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct mmb_wl_ops *wl = mmb_wl_find(want[i]);

		cr_assert_not_null(wl, "workload %s is not registered", want[i]);
		cr_expect(!wl->hidden && wl->desc && wl->desc[0] && wl->params, "%s", want[i]);
		for (const struct mmb_param *q = wl->params; q && q->name; q++)
			cr_expect(q->help && q->help[0], "%s.%s has no help", want[i], q->name);
	}
}

/* Same seed, same sequence; all freed; a different seed changes seeded workloads. */
Test(workloads, deterministic_and_freed)
{
	const uint64_t seed = 1234, ops = 4000;

	cr_log_info("seeds %llu and %llu, %llu ops per thread", (unsigned long long)seed,
		    (unsigned long long)seed + 1, (unsigned long long)ops);
	for (size_t i = 0; i < mmb_nworkloads; i++) {
		const char *name = mmb_workloads[i]->name;

		if (mmb_workloads[i]->hidden)
			continue;
		for (unsigned n = 1; n <= 2; n++) {
			struct drive_out a, b, c;

			wl_drive(name, small_params(name), n, seed, ops, &a);
			wl_drive(name, small_params(name), n, seed, ops, &b);
			wl_drive(name, small_params(name), n, seed + 1, ops, &c);
			cr_expect_gt(a.nallocs, 0, "%s -t %u made no allocation", name, n);
			cr_expect_eq(a.nallocs, a.nfrees, "%s -t %u: %llu allocs, %llu frees", name, n,
				     (unsigned long long)a.nallocs, (unsigned long long)a.nfrees);
			cr_expect_eq(a.live_after, 0, "%s -t %u: %lld bytes left live", name, n,
				     (long long)a.live_after);
			for (unsigned k = 0; k < n; k++) {
				cr_expect_eq(a.checksum[k], b.checksum[k],
					     "%s -t %u: thread %u differs under the same seed", name, n, k);
				if (!seedless(name))
					cr_expect_neq(a.checksum[k], c.checksum[k],
						      "%s -t %u: thread %u ignores the seed", name, n, k);
				else
					cr_expect_eq(a.checksum[k], c.checksum[k],
						     "%s -t %u: said seedless but differs", name, n);
			}
		}
	}
}

/* Every distribution and pattern variant runs, frees everything, and differs. */
Test(workloads, variants)
{
	static const char *const v[][2] = {
		{ "sizes", "dist=uniform" }, { "sizes", "dist=pow2,min=16,max=4096" },
		{ "sizes", "dist=lognormal,median=100,sigma=2" }, { "sizes", "dist=kmalloc" },
		{ "fragmenter", "fill=64K,pattern=random,keep=0.3" },
		{ "fragmenter", "fill=64K,pattern=sawtooth,period=5" },
		{ "ramp", "peak=64K,order=lifo" }, { "ramp", "peak=64K,order=fifo" },
		{ "pages", "dist=uniform,max_order=10,live=4" }, { "pages", "touch=off" },
		{ "bigbuf", "min=4096,max=8192,touch=off" }, { "churn", "size=100,batch=7" },
	};
	uint64_t sums[sizeof(v) / sizeof(v[0])];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct drive_out o;

		wl_drive(v[i][0], v[i][1], 1, 99, 3000, &o);
		cr_expect_eq(o.live_after, 0, "%s:%s left %lld bytes", v[i][0], v[i][1],
			     (long long)o.live_after);
		cr_expect_eq(o.nallocs, o.nfrees, "%s:%s", v[i][0], v[i][1]);
		sums[i] = o.checksum[0];
		for (size_t j = 0; j < i; j++)
			cr_expect_neq(sums[i], sums[j], "%s:%s and %s:%s run the same sequence",
				      v[i][0], v[i][1], v[j][0], v[j][1]);
	}
}

/* The fragmenter's punch frees the fraction its pattern says. */
Test(workloads, fragmenter_patterns)
{
	struct drive_out o;
	/* fill=64K of 64 B = 1024 blocks; alternate frees 512 = 32 KiB -> 32 blocks of 1 KiB. */
	uint64_t round = 1024 + 512 + 32 + (512 + 32);

	wl_drive("fragmenter", "fill=64K,small=64,large=1024", 1, 1, round, &o);
	cr_expect_eq(o.nallocs, 1024 + 32);
	cr_expect_eq(o.nops, round);
	/* sawtooth, period 1: keep 1, free 1 -- the same as alternate. */
	struct drive_out s;

	wl_drive("fragmenter", "fill=64K,small=64,large=1024,pattern=sawtooth,period=1", 1, 1, round, &s);
	cr_expect_eq(s.checksum[0], o.checksum[0]);
	/* keep=1 frees nothing in the punch: no large blocks. */
	wl_drive("fragmenter", "fill=64K,pattern=random,keep=1", 1, 1, 1024 + 1024, &s);
	cr_expect_eq(s.nallocs, 1024);
}

/* Write a trace file; returns its path in buf. */
static void write_trace(char *buf, size_t len, const char *text)
{
	FILE *f;

	mmb_tmpname(buf, len, "trace");
	f = fopen(buf, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(workloads, replay_follows_the_trace)
{
	char path[256], kvs[300];
	struct drive_out o;

	write_trace(path, sizeof(path), "# two blocks\na 7 10\n\na 9 4096 4096\nf 7\na 7 30\t0\nf 9\n");
	snprintf(kvs, sizeof(kvs), "trace=%s", path);
	wl_drive("replay", kvs, 1, 5, 5, &o);
	/* 3 allocs and 2 frees, then block 7 (still live at the end) is freed. */
	cr_expect_eq(o.nallocs, 3);
	cr_expect_eq(o.nfrees, 3);
	cr_expect_eq(o.live_after, 0);
	unlink(path);
}

/* A spy allocator over the process's malloc: the sizes its free was given. */
static struct {
	uint64_t frees, unsized, sized_bytes;
} spy;

static void *spy_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	(void)a;
	return aligned_alloc(align > 16 ? align : 16, (size + 15) & ~(size_t)15);
}

static void spy_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)a;
	spy.frees++;
	spy.unsized += size == 0;
	spy.sized_bytes += size;
	free(p);
}

static const struct mmb_alloc_ops spy_ops = { .name = "spy", .alloc = spy_alloc, .free = spy_free };

/* Replay trace on the spy, one worker; the harness's books in *r_t. */
static void spy_replay(const char *kvs, struct mmb_wl_thread *r_t)
{
	const struct mmb_wl_ops *wl = mmb_wl_find("replay");
	static atomic_int stop;
	struct mmb_pvals pv;
	char err[MMB_ERR_MAX];
	void *state;

	cr_assert_eq(mmb_params_parse(wl->params, kvs, "replay", &pv, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(wl->setup(&pv, 1, 1, &state, err, sizeof(err)), 0, "%s", err);
	memset(r_t, 0, sizeof(*r_t));
	memset(&spy, 0, sizeof(spy));
	r_t->ops = &spy_ops;
	r_t->nthreads = 1;
	r_t->stop = &stop;
	cr_assert_eq(wl->run(state, r_t), 0);
	wl->teardown(state, r_t);
}

/* free=unsized (default) passes size 0 to the allocator, free=sized the
 * size; the harness's books (calls, live bytes, checksum) are the same. */
Test(workloads, replay_frees_unsized_by_default)
{
	char path[256], kvs[300];
	struct mmb_wl_thread un, sz, def;

	write_trace(path, sizeof(path), "a 1 10\na 2 4096 64\nf 1\na 1 30\nf 2\nf 1\n");
	snprintf(kvs, sizeof(kvs), "trace=%s,passes=2,free=unsized", path);
	spy_replay(kvs, &un);
	cr_expect_eq(spy.frees, 6);
	cr_expect_eq(spy.unsized, 6, "every free unsized");
	snprintf(kvs, sizeof(kvs), "trace=%s,passes=2,free=sized", path);
	spy_replay(kvs, &sz);
	cr_expect_eq(spy.unsized, 0);
	cr_expect_eq(spy.sized_bytes, 2 * (10 + 4096 + 30), "each free told its block's size");
	snprintf(kvs, sizeof(kvs), "trace=%s,passes=2", path);
	spy_replay(kvs, &def);
	cr_expect_eq(spy.unsized, 6, "unsized is the default");
	cr_expect_eq(un.checksum, sz.checksum);
	cr_expect_eq(un.nfrees, sz.nfrees);
	cr_expect_eq(un.live_bytes, 0);
	cr_expect_eq(sz.live_bytes, 0);
	cr_expect_eq(def.checksum, un.checksum);
	unlink(path);
}

/*
 * Recorded threads on fewer workers (replay_ops.h): threads whose lifetimes
 * never overlap share a worker, overlapping ones get different workers
 * while there are enough, and dependencies across workers are flagged.
 */
Test(workloads, replay_places_threads_by_lifetime)
{
	/* 0: [0, 100], 1: [10, 50], 2: [60, 90] (after 1 ended), 3: [95, 200] */
	struct mmb_trace_thread th[4] = { { 0, 100, 1 }, { 10, 50, 1 }, { 60, 90, 1 }, { 95, 200, 1 } };
	struct mmb_trace t = { .nthreads = 4, .threads = th };
	struct mmb_replay_build b;

	cr_assert_eq(mmb_replay_build_init(&b, 2, 0), 0);
	cr_assert_eq(mmb_replay_build_map(&b, &t), 0);
	cr_expect_neq(mmb_replay_worker(&b, 0), mmb_replay_worker(&b, 1));
	cr_expect_eq(mmb_replay_worker(&b, 2), mmb_replay_worker(&b, 1), "2 began after 1 ended");
	cr_expect_eq(mmb_replay_worker(&b, 3), mmb_replay_worker(&b, 1),
		     "3 goes where the threads ended earliest (90 < 100)");
	/* slot 0: allocated by thread 0, freed by thread 1 (another worker): the
	 * free waits; allocated again by thread 1: no wait (same worker) */
	cr_assert_eq(mmb_replay_emit(&b, mmb_replay_worker(&b, 0), 0, 0, 100, 0, 0), 0);
	cr_assert_eq(mmb_replay_emit(&b, mmb_replay_worker(&b, 1), 1, 0, 0, 0, 0), 0);
	cr_assert_eq(mmb_replay_emit(&b, mmb_replay_worker(&b, 1), 0, 0, 5ULL << 32, 64, 0), 0);
	{
		const struct mmb_replay_seq *q0 = &b.seq[mmb_replay_worker(&b, 0)],
					    *q1 = &b.seq[mmb_replay_worker(&b, 1)];
		size_t cur = 0;

		cr_assert_eq(q0->n, 1);
		cr_assert_eq(q1->n, 2);
		cr_expect_eq(q0->ops[0].wait, 0);
		cr_expect_eq(q1->ops[0].wait, 1, "a free of another worker's block waits");
		cr_expect_eq(q1->ops[0].gen, 0);
		cr_expect_eq(q1->ops[1].wait, 0);
		cr_expect_eq(q1->ops[1].gen, 1, "the slot's second lifetime");
		cr_expect_eq(q1->ops[1].align_log2, 7);
		cr_expect_eq(mmb_replay_size(q1, 1, &cur), 5ULL << 32, "a size of 4 GiB or more");
	}
	mmb_replay_build_done(&b);
	mmb_replay_seqs_free(b.seq, b.nseq);
}

/* One matched event of a binary trace into b. */
static void slot_event(struct mmb_replay_build *b, int op, uint32_t thread, uint32_t obj)
{
	struct mmb_trace_event e = { .size = 32, .thread = thread, .obj = obj, .op = (uint8_t)op,
				     .matched = 1 };

	cr_assert_eq(mmb_replay_build_event(b, &e), 0);
}

/*
 * Binary traces' slots (replay_ops.h): two threads taking the same object
 * numbers in turn (the reader reuses a freed object's number for the next
 * allocation, whichever thread makes it) never wait for each other; a
 * free of the other thread's block does, and its slot is then the freeing
 * worker's to reuse.
 */
Test(workloads, replay_slots_make_no_false_waits)
{
	struct mmb_replay_build b;

	cr_assert_eq(mmb_replay_build_init(&b, 2, 0), 0);
	for (int round = 0; round < 3; round++) {
		slot_event(&b, MMB_TOP_MALLOC, 0, 0);	/* thread 0: object 0 */
		slot_event(&b, MMB_TOP_FREE, 0, 0);
		slot_event(&b, MMB_TOP_MALLOC, 1, 0);	/* thread 1: object 0 again */
		slot_event(&b, MMB_TOP_FREE, 1, 0);
	}
	slot_event(&b, MMB_TOP_MALLOC, 0, 1);		/* a remote free: waits */
	slot_event(&b, MMB_TOP_FREE, 1, 1);
	slot_event(&b, MMB_TOP_MALLOC, 1, 0);		/* thread 1 reuses its slots */
	slot_event(&b, MMB_TOP_MALLOC, 1, 1);
	for (unsigned w = 0; w < 2; w++)
		for (size_t i = 0; i < b.seq[w].n; i++)
			cr_expect_eq(b.seq[w].ops[i].wait, w == 1 && i == 6,
				     "worker %u operation %zu: slot %u", w, i, b.seq[w].ops[i].slot);
	cr_expect_eq(b.nslots, 2, "one slot per worker");
	cr_expect_neq(b.seq[0].ops[0].slot, b.seq[1].ops[0].slot);
	cr_expect_eq(b.seq[0].ops[6].slot, b.seq[0].ops[0].slot, "the block freed remotely");
	cr_expect_eq(b.seq[1].ops[7].slot, b.seq[1].ops[6].slot, "the remote free's slot, last freed");
	cr_expect_eq(b.seq[1].ops[8].slot, b.seq[1].ops[0].slot);
	mmb_replay_build_done(&b);
	mmb_replay_seqs_free(b.seq, b.nseq);
}

/* Run mmbench and expect exit 2 with want in its one-line message, no folder left. */
static void expect_bad_run(const char *want, const char *w)
{
	char dir[256];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "wlbad");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "--ops", "100", "-a", "glibc", "-w", w, NULL);
	cr_expect_eq(c.status, 2, "-w %s: status %d, stderr %s", w, c.status, c.err);
	cr_expect(strstr(c.err, want), "-w %s: wanted '%s' in: %s", w, want, c.err);
	cr_expect_eq(strchr(c.err, '\n'), strrchr(c.err, '\n'), "more than one line: %s", c.err);
	cr_expect(!mmb_exists(dir), "results folder %s left behind", dir);
	mmb_rm_rf(dir);
}

Test(workloads, bad_parameters)
{
	expect_bad_run("workload sizes: unknown option 'bogus'", "sizes:bogus=1");
	expect_bad_run("'dist=zipf' must be one of uniform|pow2|lognormal|kmalloc", "sizes:dist=zipf");
	expect_bad_run("'max_order=11' is out of range [0, 10]", "pages:max_order=11");
	expect_bad_run("'keep=1.5' is out of range", "fragmenter:keep=1.5");
	expect_bad_run("min=100 is above max=10", "sizes:min=100,max=10");
	expect_bad_run("no power of two in [min, max]", "sizes:dist=pow2,min=65,max=100");
	expect_bad_run("min=10 must be below max=10", "larson:min=10,max=10");
	expect_bad_run("min=1M is above max=256K", "bigbuf:min=1M,max=256K");
	expect_bad_run("holds fewer than 2 blocks", "fragmenter:fill=4096,small=4096");
	expect_bad_run("min=2K is above max=1K", "ramp:min=2K,max=1K");
	expect_bad_run("min=2K is above max=1K", "xthread:min=2K,max=1K");
}

Test(workloads, bad_traces)
{
	static const char *const bad[][2] = {
		{ "a 1 10\nx 1\n", ":2: unknown operation 'x'" },
		{ "a 1 10\nf 2\n", ":2: free of block 2, which is not live" },
		{ "# c\na 1 10\na 1 20\n", ":3: block 1 is already live (allocated at line 2)" },
		{ "a 1 0\n", ":1: bad size '0'" },
		{ "a 1 2000000000\n", ":1: bad size" },
		{ "a 1 10 24\n", ":1: bad alignment '24'" },
		{ "a 1 10 8192\n", ":1: bad alignment" },
		{ "a 1\n", ":1: expected 'a ID SIZE [ALIGN]'" },
		{ "a 1 10\nf 1 2\n", ":2: expected 'f ID'" },
		{ "a -1 10\n", ":1: bad block ID '-1'" },
		{ "# only comments\n\n", ": no operations in the trace" },
	};
	char path[256], w[300];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[400];

		write_trace(path, sizeof(path), bad[i][0]);
		snprintf(w, sizeof(w), "replay:trace=%s", path);
		snprintf(want, sizeof(want), "workload replay: %s%s", path, bad[i][1]);
		expect_bad_run(want, w);
		unlink(path);
	}
	expect_bad_run("workload replay: trace /nonexistent/x.trace: No such file or directory",
		       "replay:trace=/nonexistent/x.trace");
}

/* Every workload (small parameters) on every registered allocator, 1 and 2 threads. */
Test(workloads, run_on_every_allocator)
{
	char dir[256], path[300], err[256], wl[2048] = "";
	struct mmb_result *r;
	struct mmb_cmd c;
	size_t off = 0;
	int n, nwl = 0, nal = 0;

	for (size_t i = 0; i < mmb_nworkloads; i++) {
		const char *name = mmb_workloads[i]->name, *kv = small_params(name);

		if (mmb_workloads[i]->hidden)
			continue;
		off += (size_t)snprintf(wl + off, sizeof(wl) - off, "%s%s%s%s", off ? "," : "", name,
					kv[0] ? ":" : "", kv);
		nwl++;
	}
	for (size_t i = 0; i < mmb_nallocators; i++) {
		const char *why;

		/* The default set is what can run here (not tcmalloc under ASan). */
		nal += !mmb_allocators[i]->hidden &&
		       !(mmb_allocators[i]->supported && mmb_allocators[i]->supported(&why));
	}
	mmb_tmpname(dir, sizeof(dir), "wlall");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "--ops", "3000", "-t", "1,2", "-w", wl, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, &r, err, sizeof(err));
	cr_assert_eq(n, nwl * nal * 2, "%d cells for %d workloads x %d allocators x 2: %s", n, nwl,
		     nal, err);
	for (int i = 0; i < n; i++) {
		cr_expect_str_eq(r[i].status, "ok", "%s on %s -t %u: %s %s", r[i].workload,
				 r[i].allocator, r[i].threads, r[i].status, r[i].detail);
		cr_expect_gt(r[i].m[MMB_M_allocs], 0, "%s on %s", r[i].workload, r[i].allocator);
	}
	free(r);
	mmb_rm_rf(dir);
}

/* The harness's op_checksum column: equal for equal seeds, also with 2 threads. */
Test(workloads, checksum_column_through_the_harness)
{
	const char *seeds[] = { "7", "7", "8" };
	double sum[3][4];
	char dir[256], path[300], err[256];

	for (int s = 0; s < 3; s++) {
		struct mmb_result *r;
		struct mmb_cmd c;
		int n;

		mmb_tmpname(dir, sizeof(dir), "wlsum");
		mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", "--ops", "5000", "-t", "2",
			    "--seed", seeds[s], "-w",
			    "larson:chunks=50,rounds=2,xthread:max=256,sizes,pages:live=16", NULL);
		cr_assert_eq(c.status, 0, "%s", c.err);
		snprintf(path, sizeof(path), "%s/cells.csv", dir);
		n = mmb_csv_read(path, &r, err, sizeof(err));
		cr_assert_eq(n, 4, "%s", err);
		for (int i = 0; i < 4; i++) {
			cr_expect_str_eq(r[i].status, "ok", "%s: %s", r[i].workload, r[i].detail);
			sum[s][i] = r[i].m[MMB_M_op_checksum];
		}
		free(r);
		mmb_rm_rf(dir);
	}
	for (int i = 0; i < 4; i++) {
		cr_expect_eq(sum[0][i], sum[1][i], "cell %d: seed 7 twice gave different sequences", i);
		cr_expect_neq(sum[0][i], sum[2][i], "cell %d: seeds 7 and 8 gave the same sequence", i);
	}
}

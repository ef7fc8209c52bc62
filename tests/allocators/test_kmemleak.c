/*
 * test_kmemleak.c — the leak detector (allocators/kmemleak.h) on the slab
 * allocator: planted leaks are found, once; objects referenced from the
 * data segment, the malloc heap, other tracked objects (interior pointers
 * included), this thread's stack and a registered thread's stack are not;
 * the age rule and the checksum's second chance; a random object graph
 * against a reachability model; and the same through `mmbench run`.
 *
 * Addresses the test must remember without referencing them are kept XORed
 * with HIDE, so the scan cannot see them.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "../../allocators/buddy.h"
#include "../../allocators/kmemleak.h"
#include "../../allocators/slab.h"
#include "../../harness/results.h"
#include "../../workloads/workload.h"
#include "../testutil.h"

#define HIDE 0x5a5a5a5a5a5a5a5aull

struct kt {
	struct mmb_buddy *b;
	struct mmb_slab *sl;
	struct mmb_kmemleak *kml;
};

static void kt_setup(struct kt *k, uint64_t min_age_ms, uint64_t scan_ms)
{
	struct mmb_buddy_cfg bc = { .mem_bytes = 64 << 20, .pcp = 1, .nthreads = 2 };
	struct mmb_kmemleak_cfg kc = { .min_age_ms = min_age_ms, .scan_ms = scan_ms };
	struct mmb_slab_cfg sc = { .nr_cpus = 2, .max_order = 3, .cpu_partial = -1,
				   .min_partial = -1 };
	char err[MMB_ERR_MAX];

	cr_assert_eq(mmb_kmemleak_create(&kc, &k->kml, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mmb_buddy_create(&bc, &k->b, err, sizeof(err)), 0, "%s", err);
	sc.buddy = k->b;
	sc.kmemleak = k->kml;
	cr_assert_eq(mmb_slab_create(&sc, &k->sl, err, sizeof(err)), 0, "%s", err);
}

static void kt_teardown(struct kt *k)
{

	mmb_slab_destroy(k->sl);
	mmb_buddy_destroy(k->b);
	mmb_kmemleak_destroy(k->kml);
}

/* kmalloc, filled with a byte that makes no pointer. */
static void *kt_alloc(struct kt *k, size_t size)
{
	void *p = mmb_kmalloc(k->sl, size);

	cr_assert_not_null(p);
	memset(p, 0x4c, size);
	return p;
}

/* The addresses in the report ("unreferenced object 0x... (size N):"). */
static int kt_reported(struct kt *k, uintptr_t *addr, int max, char *text, size_t textlen)
{
	FILE *f;
	int n = 0;

	memset(text, 0, textlen);
	f = fmemopen(text, textlen - 1, "w");

	cr_assert_not_null(f);
	cr_assert_eq(mmb_kmemleak_write(k->kml, f), 0);
	fclose(f);
	for (const char *s = text; (s = strstr(s, "unreferenced object 0x")) && n < max; s++)
		addr[n++] = (uintptr_t)strtoull(s + strlen("unreferenced object "), NULL, 16);
	return n;
}

static int kt_has(const uintptr_t *addr, int n, uintptr_t want)
{
	for (int i = 0; i < n; i++)
		if (addr[i] == want)
			return 1;
	return 0;
}

static void *g_root;		/* bss */
static void *g_chain;		/* bss: the head of a chain through objects */

/* Out of line, so that no planted pointer stays in the test's frame. */
static __attribute__((noinline)) void kt_plant(struct kt *k, uint64_t *hidden, int n)
{
	static const size_t sizes[] = { 16, 96, 200, 1024, 4096, 20000 };

	for (int i = 0; i < n; i++)
		hidden[i] = (uint64_t)(uintptr_t)kt_alloc(k, sizes[i % 6]) ^ HIDE;
}

static __attribute__((noinline)) void kt_plant_64(struct kt *k, uint64_t *hidden, int n)
{
	for (int i = 0; i < n; i++)
		hidden[i] = (uint64_t)(uintptr_t)kt_alloc(k, 64) ^ HIDE;
}

static __attribute__((noinline)) void kt_make_chain(struct kt *k)
{
	char *a = kt_alloc(k, 64), *b = kt_alloc(k, 128), *c = kt_alloc(k, 32);
	char *ib = b + 40, *ic = c + 8;

	memcpy(a + 16, &ib, sizeof(ib));	/* a -> inside b */
	memcpy(b + 64, &ic, sizeof(ic));	/* b -> inside c */
	g_chain = a;
}

static __attribute__((noinline)) void kt_free_chain(struct kt *k)
{
	char *a = g_chain, *b, *c;

	memcpy(&b, a + 16, sizeof(b));
	b -= 40;
	memcpy(&c, b + 64, sizeof(c));
	c -= 8;
	mmb_kfree(k->sl, a);
	mmb_kfree(k->sl, b);
	mmb_kfree(k->sl, c);
	g_chain = NULL;
}

Test(kmemleak, planted_leaks_found_once)
{
	struct kt k;
	uint64_t hidden[7], not_leak;
	uintptr_t addr[32];
	void **heap = malloc(sizeof(*heap));
	void *volatile on_stack;
	static char text[1 << 16];
	struct mmb_kmemleak_counts c;
	int n;

	kt_setup(&k, 0, 0);
	g_root = kt_alloc(&k, 48);
	heap[0] = kt_alloc(&k, 100);
	kt_make_chain(&k);
	on_stack = kt_alloc(&k, 300);
	not_leak = (uint64_t)(uintptr_t)kt_alloc(&k, 24) ^ HIDE;
	mmb_kmemleak_not_leak(k.kml, (void *)(uintptr_t)(not_leak ^ HIDE));
	kt_plant(&k, hidden, 7);

	cr_assert_eq(mmb_kmemleak_scan(k.kml, MMB_KMEMLEAK_QUIESCENT), 7);
	n = kt_reported(&k, addr, 32, text, sizeof(text));
	cr_assert_eq(n, 7, "%s", text);
	for (int i = 0; i < 7; i++)
		cr_expect(kt_has(addr, n, (uintptr_t)(hidden[i] ^ HIDE)), "leak %d not reported", i);
	cr_expect(strstr(text, "(size 20000):"), "%s", text);
	cr_expect(strstr(text, "  comm \""), "%s", text);
	cr_expect(strstr(text, "  hex dump (first 32 bytes):\n    4c 4c"), "%s", text);
	cr_expect(strstr(text, "  backtrace (crc "), "%s", text);
	cr_expect(strstr(text, "] kt_alloc"), "the allocating function is named: %s", text);
	cr_expect(strstr(text, "] kt_plant"), "%s", text);

	/* reported once: a second scan finds nothing new */
	cr_assert_eq(mmb_kmemleak_scan(k.kml, MMB_KMEMLEAK_QUIESCENT), 0);
	mmb_kmemleak_counts(k.kml, &c);
	cr_expect_eq(c.leaks, 7);
	cr_expect_eq(c.scans, 2);

	/* once freed, they leave the report */
	for (int i = 0; i < 7; i++)
		mmb_kfree(k.sl, (void *)(uintptr_t)(hidden[i] ^ HIDE));
	cr_expect_eq(kt_reported(&k, addr, 32, text, sizeof(text)), 0, "%s", text);
	cr_expect_eq(mmb_kmemleak_scan(k.kml, MMB_KMEMLEAK_QUIESCENT), 0,
		     "the not-leak object is never reported");
	mmb_kfree(k.sl, (void *)(uintptr_t)(not_leak ^ HIDE));
	mmb_kfree(k.sl, (void *)on_stack);
	mmb_kfree(k.sl, g_root);
	mmb_kfree(k.sl, heap[0]);
	kt_free_chain(&k);
	free(heap);
	kt_teardown(&k);
}

static __attribute__((noinline)) uint64_t kt_drop_one(struct kt *k)
{
	return (uint64_t)(uintptr_t)kt_alloc(k, 64) ^ HIDE;
}

Test(kmemleak, second_chance_then_report)
{
	struct kt k;
	uint64_t leak;

	kt_setup(&k, 0, 0);
	leak = kt_drop_one(&k);
	/* first scan: its contents changed since allocation (the crc) */
	cr_expect_eq(mmb_kmemleak_scan(k.kml, 0), 0);
	cr_expect_eq(mmb_kmemleak_scan(k.kml, 0), 1);
	cr_expect_eq(mmb_kmemleak_scan(k.kml, 0), 0);
	mmb_kfree(k.sl, (void *)(uintptr_t)(leak ^ HIDE));
	kt_teardown(&k);
}

Test(kmemleak, young_objects_wait_for_min_age)
{
	struct kt k;
	uint64_t leak;

	kt_setup(&k, 3600 * 1000, 0);
	leak = kt_drop_one(&k);
	cr_expect_eq(mmb_kmemleak_scan(k.kml, 0), 0);
	cr_expect_eq(mmb_kmemleak_scan(k.kml, 0), 0, "younger than min_age: not reported");
	cr_expect_eq(mmb_kmemleak_scan(k.kml, MMB_KMEMLEAK_QUIESCENT), 1,
		     "a quiescent scan has no age rule");
	mmb_kfree(k.sl, (void *)(uintptr_t)(leak ^ HIDE));
	kt_teardown(&k);
}

struct kt_thr {
	struct kt *k;
	atomic_int phase;	/* 0 start, 1 holding, 2 drop, 3 dropped, 4 exit */
	uint64_t hidden;
};

static void kt_wait_phase(atomic_int *phase, int want)
{
	while (atomic_load(phase) != want)
		sched_yield();
}

static void *kt_holder(void *arg)
{
	struct kt_thr *t = arg;
	void *volatile held;

	mmb_slab_thread_attach(t->k->sl);
	cr_assert_eq(mmb_kmemleak_thread_register(t->k->kml), 0);
	held = kt_alloc(t->k, 80);
	t->hidden = (uint64_t)(uintptr_t)held ^ HIDE;
	atomic_store(&t->phase, 1);
	kt_wait_phase(&t->phase, 2);	/* scanned here: stopped by the signal */
	held = NULL;
	mmb_kmemleak_thread_unregister(t->k->kml);
	mmb_slab_thread_detach(t->k->sl);
	atomic_store(&t->phase, 3);
	return NULL;
}

/* A pointer only on another thread's stack is a reference while that
 * thread is registered; once it dropped the pointer and left, a leak. */
Test(kmemleak, registered_thread_stack_is_a_root)
{
	struct kt k;
	struct kt_thr t = { .k = &k };
	pthread_t th;

	kt_setup(&k, 0, 0);
	cr_assert_eq(pthread_create(&th, NULL, kt_holder, &t), 0);
	kt_wait_phase(&t.phase, 1);
	cr_expect_eq(mmb_kmemleak_nr_threads(k.kml), 1);
	cr_expect_eq(mmb_kmemleak_scan(k.kml, MMB_KMEMLEAK_QUIESCENT), 0,
		     "held on a registered thread's stack");
	atomic_store(&t.phase, 2);
	kt_wait_phase(&t.phase, 3);
	pthread_join(th, NULL);
	cr_expect_eq(mmb_kmemleak_nr_threads(k.kml), 0);
	cr_expect_eq(mmb_kmemleak_scan(k.kml, MMB_KMEMLEAK_QUIESCENT), 1,
		     "the stale stack of a thread gone is no root");
	mmb_kfree(k.sl, (void *)(uintptr_t)(t.hidden ^ HIDE));
	kt_teardown(&k);
}

#define KT_OBJS 300
#define KT_ROOTS 30
#define KT_EDGES 400

/*
 * A random graph: objects of random sizes; edges stored inside objects at
 * random slots, pointing to a random byte of the target; some objects
 * referenced from a malloc'ed root array. The model's BFS from the roots
 * says which objects are leaks; the scan must report exactly those.
 */
Test(kmemleak, random_graph_matches_reachability)
{
	uint64_t seed = 20261126, rng[4];
	struct kt k;
	uint64_t *obj = calloc(KT_OBJS, sizeof(*obj));		/* hidden addresses */
	size_t *size = calloc(KT_OBJS, sizeof(*size));
	int *adj = calloc((size_t)KT_OBJS * KT_OBJS, sizeof(*adj));
	int *seen = calloc(KT_OBJS, sizeof(*seen)), *queue = calloc(KT_OBJS, sizeof(*queue));
	void **roots = calloc(KT_ROOTS, sizeof(*roots));
	uintptr_t *addr = calloc(KT_OBJS, sizeof(*addr));
	static char text[1 << 20];
	int head = 0, tail = 0, nleaks = 0, n;

	cr_log_info("seed %llu", (unsigned long long)seed);
	mmb_rand_seed(rng, seed);
	kt_setup(&k, 0, 0);
	for (int i = 0; i < KT_OBJS; i++) {
		size[i] = 16 + mmb_rand_below(rng, 497);
		obj[i] = (uint64_t)(uintptr_t)kt_alloc(&k, size[i]) ^ HIDE;
	}
	/* each object's slot s holds at most one edge: the last one written */
	{
		int *slot_to = malloc(sizeof(int) * KT_OBJS * 64);

		for (int i = 0; i < KT_OBJS * 64; i++)
			slot_to[i] = -1;
		for (int e = 0; e < KT_EDGES; e++) {
			int from = (int)mmb_rand_below(rng, KT_OBJS), to = (int)mmb_rand_below(rng, KT_OBJS);
			int slot = (int)mmb_rand_below(rng, size[from] / 8);
			char *target = (char *)(uintptr_t)(obj[to] ^ HIDE) + mmb_rand_below(rng, size[to]);

			memcpy((char *)(uintptr_t)(obj[from] ^ HIDE) + slot * 8, &target, sizeof(target));
			slot_to[from * 64 + slot] = to;
		}
		for (int i = 0; i < KT_OBJS; i++)
			for (int s = 0; s < 64; s++)
				if (slot_to[i * 64 + s] >= 0)
					adj[i * KT_OBJS + slot_to[i * 64 + s]] = 1;
		free(slot_to);
	}
	for (int r = 0; r < KT_ROOTS; r++) {
		int i = (int)mmb_rand_below(rng, KT_OBJS);

		roots[r] = (void *)(uintptr_t)(obj[i] ^ HIDE);
		if (!seen[i]) {
			seen[i] = 1;
			queue[tail++] = i;
		}
	}
	while (head < tail) {
		int i = queue[head++];

		for (int j = 0; j < KT_OBJS; j++)
			if (adj[i * KT_OBJS + j] && !seen[j]) {
				seen[j] = 1;
				queue[tail++] = j;
			}
	}
	for (int i = 0; i < KT_OBJS; i++)
		nleaks += !seen[i];
	cr_log_info("%d objects, %d reachable, %d leaks", KT_OBJS, tail, nleaks);
	cr_assert_gt(nleaks, 0);
	cr_assert_gt(tail, KT_ROOTS);

	cr_expect_eq(mmb_kmemleak_scan(k.kml, MMB_KMEMLEAK_QUIESCENT), nleaks);
	n = kt_reported(&k, addr, KT_OBJS, text, sizeof(text));
	cr_expect_eq(n, nleaks);
	for (int i = 0; i < KT_OBJS; i++)
		cr_expect_eq(kt_has(addr, n, (uintptr_t)(obj[i] ^ HIDE)), !seen[i],
			     "object %d (reachable %d)", i, seen[i]);
	for (int i = 0; i < KT_OBJS; i++)
		mmb_kfree(k.sl, (void *)(uintptr_t)(obj[i] ^ HIDE));
	kt_teardown(&k);
	free(obj);
	free(size);
	free(adj);
	free(seen);
	free(queue);
	free(roots);
	free(addr);
}

struct kt_churn {
	struct kt *k;
	atomic_int stop;
};

/* Holds its live objects in a stack array and in registers while scans run. */
static void *kt_churner(void *arg)
{
	struct kt_churn *c = arg;
	void *ring[8] = { 0 };
	unsigned i = 0;

	mmb_slab_thread_attach(c->k->sl);
	mmb_kmemleak_thread_register(c->k->kml);
	while (!atomic_load(&c->stop)) {
		if (ring[i % 8])
			mmb_kfree(c->k->sl, ring[i % 8]);
		ring[i % 8] = mmb_kmalloc(c->k->sl, 32 + i % 100);
		if (ring[i % 8])
			memset(ring[i % 8], 0, 32);
		i++;
	}
	for (i = 0; i < 8; i++)
		mmb_kfree(c->k->sl, ring[i]);
	mmb_kmemleak_thread_unregister(c->k->kml);
	mmb_slab_thread_detach(c->k->sl);
	return NULL;
}

/*
 * Zero the stack below the caller's frame, where kt_drop_one's dead frame
 * may still hold the leak's address. A registered thread's stack is scanned
 * from where it parks (in the stop signal's handler, below whatever call it
 * is in) up, so a stale copy there, not overwritten by the handler's frame,
 * reads as a reference and the planted leak goes unreported: a rare
 * failure of the test below under `make check --jobs 2`.
 */
static __attribute__((noinline)) void kt_scrub_stack(void)
{
	char pad[16384];

	explicit_bzero(pad, sizeof(pad));
	__asm__ volatile("" : : "r"(pad) : "memory");
}

/* The scan thread stops the churning threads: no false report, no hang. */
Test(kmemleak, periodic_scans_beside_running_threads)
{
	struct kt k;
	struct kt_churn c = { .k = &k };
	struct mmb_kmemleak_counts kc;
	pthread_t th[2];
	uint64_t leak;
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	kt_setup(&k, 0, 5);
	/* registered, so that its stack is a root from its stack pointer up
	 * only (the stale frame of kt_drop_one below it is not) */
	cr_assert_eq(mmb_kmemleak_thread_register(k.kml), 0);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, kt_churner, &c), 0);
	leak = kt_drop_one(&k);
	kt_scrub_stack();
	mmb_kmemleak_counts(k.kml, &kc);
	for (uint64_t first = kc.scans, i = 0; i < 2000; i++) {
		mmb_kmemleak_counts(k.kml, &kc);
		if (kc.scans >= first + 4)	/* two after the allocation, at least */
			break;
		nanosleep(&ts, NULL);
	}
	mmb_kmemleak_thread_unregister(k.kml);
	atomic_store(&c.stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	mmb_kmemleak_counts(k.kml, &kc);
	cr_expect_geq(kc.scans, 3, "scans: %llu", (unsigned long long)kc.scans);
	cr_expect_eq(kc.leaks, 1, "only the planted leak: %llu", (unsigned long long)kc.leaks);
	mmb_kfree(k.sl, (void *)(uintptr_t)(leak ^ HIDE));
	kt_teardown(&k);
}

/* ---- through mmbench run ---- */

static int kt_run(struct mmb_result **rows, const char *a, const char *w, const char *threads,
		  char *state, size_t statelen)
{
	char dir[256], path[300], err[256];
	struct mmb_cmd *c = malloc(sizeof(*c));
	int n;

	mmb_tmpname(dir, sizeof(dir), "kml");
	mmb_run_cmd(c, "run", "-q", "-o", dir, "-a", a, "-w", w, "-t", threads, "--duration",
		    "0.1", "--dump-state", NULL);
	cr_assert_eq(c->status, 0, "run failed: %s", c->err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, rows, err, sizeof(err));
	cr_assert_geq(n, 1, "%s", err);
	if (state) {
		snprintf(path, sizeof(path), "%s/state/1/kmemleak.txt", dir);
		mmb_slurp(path, state, statelen);
	}
	mmb_rm_rf(dir);
	free(c);
	return n;
}

Test(kmemleak, cells_count_planted_leaks)
{
	static const char *const allocs[] = { "slab:kmemleak=on", "vmalloc:kmemleak=on",
					      "buddy:kmemleak=on" };
	static const char *const sizes[] = { "(size 64):", "(size 4096):", "(size 64):" };
	static char state[1 << 16];

	for (int a = 0; a < 3; a++) {
		struct mmb_result *r;
		int n = 0;

		kt_run(&r, allocs[a], "leaky:leaks=5", "2", state, sizeof(state));
		cr_expect_str_eq(r[0].status, "ok", "%s", r[0].detail);
		cr_expect_eq(r[0].m[MMB_M_leaks_found], 10, "%s", allocs[a]);
		for (const char *s = state; (s = strstr(s, "unreferenced object 0x")); s++)
			n++;
		cr_expect_eq(n, 10, "%s: %s", allocs[a], state);
		cr_expect(strstr(state, sizes[a]), "%s", state);
		cr_expect(strstr(state, "] leaky_plant"), "%s", state);
		free(r);
	}
}

Test(kmemleak, clean_workloads_report_nothing)
{
	struct mmb_result *r;
	int n = kt_run(&r, "slab:kmemleak=on,slab,vmalloc:kmemleak=on,buddy:kmemleak=on",
		       "leaky:leaks=0,churn,xthread,larson,threadtest,fragmenter", "2", NULL, 0);

	cr_assert_eq(n, 24);
	for (int i = 0; i < n; i++) {
		cr_expect_str_eq(r[i].status, "ok", "%s %s", r[i].workload, r[i].detail);
		if (!strcmp(r[i].config, "kmemleak=on"))
			cr_expect_eq(r[i].m[MMB_M_leaks_found], 0, "%s", r[i].workload);
		else
			cr_expect(isnan(r[i].m[MMB_M_leaks_found]), "off: not measured");
	}
	free(r);
}

/* Objects freed into the sheaf and handed out again, then leaked. */
static __attribute__((noinline)) void kt_through_sheaf(struct kt *k, uint64_t *hidden, int n)
{
	void *p[8];

	for (int i = 0; i < n; i++)
		p[i] = kt_alloc(k, 64);
	for (int i = 0; i < n; i++)
		mmb_kfree(k->sl, p[i]);
	kt_plant_64(k, hidden, n);
}

/*
 * With sheaves (the default slab configuration), objects pass through
 * per-thread arrays whose slots keep stale pointers after an object is
 * handed out again: those must not hide a leak.
 */
Test(kmemleak, sheaves_do_not_hide_leaks)
{
	struct mmb_buddy_cfg bc = { .mem_bytes = 64 << 20, .pcp = 1, .nthreads = 1 };
	struct mmb_kmemleak_cfg kc = { 0 };
	struct mmb_slab_cfg sc = { .nr_cpus = 1, .max_order = 3, .cpu_partial = -1,
				   .min_partial = -1, .sheaf_capacity = -1 };
	char err[MMB_ERR_MAX];
	struct kt k;
	uint64_t hidden[8];

	cr_assert_eq(mmb_kmemleak_create(&kc, &k.kml, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mmb_buddy_create(&bc, &k.b, err, sizeof(err)), 0, "%s", err);
	sc.buddy = k.b;
	sc.kmemleak = k.kml;
	cr_assert_eq(mmb_slab_create(&sc, &k.sl, err, sizeof(err)), 0, "%s", err);
	mmb_slab_thread_attach(k.sl);
	kt_through_sheaf(&k, hidden, 8);
	cr_expect_eq(mmb_kmemleak_scan(k.kml, MMB_KMEMLEAK_QUIESCENT), 8,
		     "leaks hidden by stale sheaf slots");
	for (int i = 0; i < 8; i++)
		mmb_kfree(k.sl, (void *)(uintptr_t)(hidden[i] ^ HIDE));
	mmb_slab_thread_detach(k.sl);
	kt_teardown(&k);
}

/*
 * test_kfence.c — the KFENCE-style guard allocator (allocators/kfence.h)
 * behind kmalloc: out-of-bounds writes at both page edges, a use after
 * free, a read, canary corruption and an invalid free are caught and
 * reported with the kernel's lines; objects sit where the layout says;
 * sampling takes one allocation in N; freed objects are quarantined (FIFO);
 * and the same through `mmbench run` with the corrupt workload.
 *
 * Every faulting access runs in a forked child (the SIGSEGV handler and
 * the pool's protections are the child's); the child writes the report log
 * to a pipe and exits with the number of bugs.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <sys/mman.h>

#include "../../allocators/allocator.h"
#include "../../allocators/buddy.h"
#include "../../allocators/kfence.h"
#include "../../allocators/slab.h"
#include "../../harness/results.h"
#include "../testutil.h"

#define PAGE 4096ul

struct kf {
	struct mmb_buddy *b;
	struct mmb_slab *sl;
	struct mmb_kfence *kf;
	FILE *report;
};

static void kf_setup(struct kf *k, unsigned sample, unsigned nr)
{
	struct mmb_buddy_cfg bc = { .mem_bytes = 16 << 20, .pcp = 1, .nthreads = 1 };
	struct mmb_kfence_cfg fc = { .sample = sample, .nr_objects = nr };
	struct mmb_slab_cfg sc = { .nr_cpus = 1, .max_order = 3, .cpu_partial = -1,
				   .min_partial = -1 };
	char err[MMB_ERR_MAX];

	k->report = tmpfile();
	cr_assert_not_null(k->report);
	fc.report = k->report;
	cr_assert_eq(mmb_kfence_create(&fc, &k->kf, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mmb_buddy_create(&bc, &k->b, err, sizeof(err)), 0, "%s", err);
	sc.buddy = k->b;
	sc.kfence = k->kf;
	cr_assert_eq(mmb_slab_create(&sc, &k->sl, err, sizeof(err)), 0, "%s", err);
}

static void kf_teardown(struct kf *k)
{
	mmb_slab_destroy(k->sl);
	mmb_buddy_destroy(k->b);
	mmb_kfence_destroy(k->kf);
	fclose(k->report);
}

/* The faulty accesses, out of line so that reports name them. */
static __attribute__((noinline)) void kf_poke(char *p, long off)
{
	((volatile char *)p)[off] = 0x42;
}

static __attribute__((noinline)) char kf_peek(const char *p, long off)
{
	return ((const volatile char *)p)[off];
}

/*
 * Run body(k) in a child with kfence=1 over a fresh instance; the child
 * sends mmb_kfence_write's text and exits with the bug count.
 */
static int kf_in_child(void (*body)(struct kf *k), char *text, size_t len)
{
	int fds[2], st = 0;
	size_t used = 0;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct kf k;
		struct mmb_kfence_counts c;
		FILE *out;

		close(fds[0]);
		kf_setup(&k, 1, 8);
		body(&k);
		mmb_kfence_counts(k.kf, &c);
		out = fdopen(fds[1], "w");
		mmb_kfence_write(k.kf, out);
		fclose(out);
		kf_teardown(&k);
		_exit((int)c.bugs);
	}
	close(fds[1]);
	for (ssize_t n; used < len - 1 && (n = read(fds[0], text + used, len - 1 - used)) > 0;)
		used += (size_t)n;
	text[used] = 0;
	close(fds[0]);
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st), "the child died (status %#x): %s", st, text);
	return WEXITSTATUS(st);
}

static void body_oob_left(struct kf *k)
{
	char *a = mmb_kmalloc(k->sl, 32);	/* the first: left edge */

	kf_poke(a, -1);
	mmb_kfree(k->sl, a);
}

static void body_oob_right(struct kf *k)
{
	char *a = mmb_kmalloc(k->sl, 32), *b = mmb_kmalloc(k->sl, 32);	/* b: right edge */

	kf_poke(b, 32);
	mmb_kfree(k->sl, a);
	mmb_kfree(k->sl, b);
}

static void body_uaf(struct kf *k)
{
	char *a = mmb_kmalloc(k->sl, 64);

	mmb_kfree(k->sl, a);
	kf_poke(a, 10);
}

static void body_read(struct kf *k)
{
	char *a = mmb_kmalloc(k->sl, 32), *b = mmb_kmalloc(k->sl, 32);

	(void)kf_peek(b, 40);
	mmb_kfree(k->sl, a);
	mmb_kfree(k->sl, b);
}

static void body_canary(struct kf *k)
{
	char *a = mmb_kmalloc(k->sl, 32);	/* left edge: a[32] is canary, same page */

	kf_poke(a, 32);
	mmb_kfree(k->sl, a);
	__asm__ volatile("" : : : "memory");	/* no tail call: the report names us */
}

static void body_double_free(struct kf *k)
{
	char *a = mmb_kmalloc(k->sl, 32);

	mmb_kfree(k->sl, a);
	mmb_kfree(k->sl, a);
	__asm__ volatile("" : : : "memory");
}

static void body_clean(struct kf *k)
{
	for (int i = 0; i < 100; i++) {
		char *a = mmb_kmalloc(k->sl, 1 + i * 37 % 4000);

		memset(a, 1, 1 + i * 37 % 4000);
		mmb_kfree(k->sl, a);
	}
}

static char kf_text[1 << 16];

Test(kfence, oob_write_left_edge)
{
	cr_expect_eq(kf_in_child(body_oob_left, kf_text, sizeof(kf_text)), 1, "%s", kf_text);
	cr_expect(strstr(kf_text, "BUG: KFENCE: out-of-bounds write in kf_poke"), "%s", kf_text);
	cr_expect(strstr(kf_text, "(1B left of kfence-#0):\n kf_poke"), "%s", kf_text);
	cr_expect(strstr(kf_text, "size=32, cache=kmalloc-32] allocated by task "), "%s", kf_text);
	cr_expect(strstr(kf_text, " body_oob_left+0x"), "the allocation stack: %s", kf_text);
	cr_expect(strstr(kf_text, "total bugs: 1\n"), "%s", kf_text);
}

Test(kfence, oob_write_right_edge)
{
	cr_expect_eq(kf_in_child(body_oob_right, kf_text, sizeof(kf_text)), 1, "%s", kf_text);
	cr_expect(strstr(kf_text, "BUG: KFENCE: out-of-bounds write in kf_poke"), "%s", kf_text);
	cr_expect(strstr(kf_text, "(1B right of kfence-#1):"), "%s", kf_text);
}

Test(kfence, use_after_free_write)
{
	cr_expect_eq(kf_in_child(body_uaf, kf_text, sizeof(kf_text)), 1, "%s", kf_text);
	cr_expect(strstr(kf_text, "BUG: KFENCE: use-after-free write in kf_poke"), "%s", kf_text);
	cr_expect(strstr(kf_text, "Use-after-free write at 0x"), "%s", kf_text);
	cr_expect(strstr(kf_text, "(in kfence-#0):"), "%s", kf_text);
	cr_expect(strstr(kf_text, "\nfreed by task "), "the free stack: %s", kf_text);
	cr_expect(strstr(kf_text, " body_uaf+0x"), "%s", kf_text);
}

Test(kfence, out_of_bounds_read)
{
	cr_expect_eq(kf_in_child(body_read, kf_text, sizeof(kf_text)), 1, "%s", kf_text);
	cr_expect(strstr(kf_text, "BUG: KFENCE: out-of-bounds read in kf_peek"), "%s", kf_text);
	cr_expect(strstr(kf_text, "(9B right of kfence-#1):"), "%s", kf_text);
}

Test(kfence, canary_corruption_at_free)
{
	cr_expect_eq(kf_in_child(body_canary, kf_text, sizeof(kf_text)), 1, "%s", kf_text);
	cr_expect(strstr(kf_text, "BUG: KFENCE: memory corruption in body_canary+0x"), "%s", kf_text);
	cr_expect(strstr(kf_text, "Corrupted memory at 0x"), "%s", kf_text);
	cr_expect(strstr(kf_text, " [ ! . . "), "%s", kf_text);
}

Test(kfence, invalid_free)
{
	cr_expect_eq(kf_in_child(body_double_free, kf_text, sizeof(kf_text)), 1, "%s", kf_text);
	cr_expect(strstr(kf_text, "BUG: KFENCE: invalid free in body_double_free+0x"), "%s", kf_text);
	cr_expect(strstr(kf_text, "Invalid free of 0x"), "%s", kf_text);
}

Test(kfence, clean_use_reports_nothing)
{
	cr_expect_eq(kf_in_child(body_clean, kf_text, sizeof(kf_text)), 0, "%s", kf_text);
	cr_expect(strstr(kf_text, "total allocations: 100\n"), "%s", kf_text);
	cr_expect(strstr(kf_text, "total frees: 100\n"), "%s", kf_text);
	cr_expect_null(strstr(kf_text, "BUG:"), "%s", kf_text);
}

/* Layout: one page per object, left edge then right edge, the alignment
 * kept, canaries around, ksize = the size asked for. */
Test(kfence, layout_edges_alignment_canaries)
{
	struct kf k;
	const void *pool;
	size_t len;
	char *a, *b, *c;

	kf_setup(&k, 1, 8);
	mmb_kfence_range(k.kf, &pool, &len);
	a = mmb_kmalloc(k.sl, 24);
	b = mmb_kmalloc(k.sl, 20);
	c = mmb_kmalloc(k.sl, 100);
	cr_assert(mmb_kfence_owns(k.kf, a) && mmb_kfence_owns(k.kf, b) && mmb_kfence_owns(k.kf, c));
	cr_expect_eq((uintptr_t)a % PAGE, 0, "left edge");
	cr_expect_eq(((uintptr_t)a - (uintptr_t)pool) / PAGE % 2, 0, "object pages are even");
	cr_expect_geq(((uintptr_t)a - (uintptr_t)pool) / PAGE, 2, "pages 0-1 are guards");
	cr_expect_eq((uintptr_t)b % 8, 0, "aligned to 8");
	cr_expect_leq((uintptr_t)b % PAGE + 20, PAGE);
	cr_expect_gt((uintptr_t)b % PAGE + 20, PAGE - 8, "right edge, less the alignment");
	cr_expect_eq((uintptr_t)c % PAGE, 0, "third: left again");
	cr_expect_eq(mmb_ksize(k.sl, b), 20);
	for (uintptr_t p = (uintptr_t)a + 24; p < (uintptr_t)a + PAGE; p++)
		if (*(uint8_t *)p != (uint8_t)(0xaa ^ (p & 7)))
			cr_assert_fail("canary at +%lu", (unsigned long)(p - (uintptr_t)a));
	mmb_kfree(k.sl, a);
	mmb_kfree(k.sl, b);
	mmb_kfree(k.sl, c);
	kf_teardown(&k);
}

/* kfence=4: exactly one allocation in four comes from the pool. */
Test(kfence, samples_one_in_n)
{
	struct kf k;
	void *p[64];
	int in = 0;

	kf_setup(&k, 4, 32);
	for (int i = 0; i < 64; i++) {
		p[i] = mmb_kmalloc(k.sl, 48);
		in += mmb_kfence_owns(k.kf, p[i]);
		cr_expect_eq(mmb_kfence_owns(k.kf, p[i]), i % 4 == 0, "allocation %d", i);
	}
	cr_expect_eq(in, 16);
	for (int i = 0; i < 64; i++)
		mmb_kfree(k.sl, p[i]);
	kf_teardown(&k);
}

/* Freed objects queue at the tail: a freed page is reused last; too large
 * or a full pool falls back to the slab allocator. */
Test(kfence, quarantine_and_skips)
{
	struct kf k;
	struct mmb_kfence_counts c;
	char *a, *b, *big, *p[4];

	kf_setup(&k, 1, 4);
	a = mmb_kmalloc(k.sl, 16);
	mmb_kfree(k.sl, a);
	for (int i = 0; i < 3; i++) {
		p[i] = mmb_kmalloc(k.sl, 16);
		cr_expect_neq((uintptr_t)p[i] / PAGE, (uintptr_t)a / PAGE, "freed page reused early");
	}
	b = mmb_kmalloc(k.sl, 16);	/* the fourth: now a's page */
	cr_expect_eq((uintptr_t)b / PAGE, (uintptr_t)a / PAGE);
	p[3] = mmb_kmalloc(k.sl, 16);	/* pool full */
	cr_expect_not(mmb_kfence_owns(k.kf, p[3]));
	big = mmb_kmalloc(k.sl, 6000);	/* larger than a page */
	cr_expect_not(mmb_kfence_owns(k.kf, big));
	mmb_kfence_counts(k.kf, &c);
	cr_expect_eq(c.skipped_capacity, 1);
	cr_expect_eq(c.skipped_incompatible, 1);
	cr_expect_eq(c.allocated, 4);
	for (int i = 0; i < 4; i++)
		mmb_kfree(k.sl, p[i]);
	mmb_kfree(k.sl, b);
	mmb_kfree(k.sl, big);
	kf_teardown(&k);
}

/* ---- through mmbench run ---- */

static void kf_run(const char *bug, struct mmb_result **rows, char *state, size_t statelen)
{
	char dir[256], path[300], err[256], w[64];
	struct mmb_cmd *c = malloc(sizeof(*c));

	snprintf(w, sizeof(w), "corrupt:bug=%s", bug);
	mmb_tmpname(dir, sizeof(dir), "kfence");
	mmb_run_cmd(c, "run", "-q", "-o", dir, "-a", "slab:kfence=1", "-w", w, "--ops", "200",
		    "-t", "1", "--dump-state", NULL);
	cr_assert_eq(c->status, 0, "run failed: %s", c->err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	cr_assert_eq(mmb_csv_read(path, rows, err, sizeof(err)), 1, "%s", err);
	snprintf(path, sizeof(path), "%s/state/1/kfence.txt", dir);
	mmb_slurp(path, state, statelen);
	mmb_rm_rf(dir);
	free(c);
}

Test(kfence, cells_count_corruptions)
{
	static const struct {
		const char *bug, *line;
	} cases[] = {
		{ "oob_left", "BUG: KFENCE: out-of-bounds write in corrupt_poke+0x" },
		{ "oob_right", "BUG: KFENCE: out-of-bounds write in corrupt_poke+0x" },
		{ "uaf", "BUG: KFENCE: use-after-free write in corrupt_poke+0x" },
		{ "canary", "BUG: KFENCE: memory corruption in " },
		{ "none", NULL },
	};
	static char state[1 << 16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mmb_result *r;

		kf_run(cases[i].bug, &r, state, sizeof(state));
		cr_expect_str_eq(r[0].status, "ok", "%s: %s", cases[i].bug, r[0].detail);
		cr_expect_eq(r[0].m[MMB_M_corruptions_caught], cases[i].line ? 1 : 0, "%s",
			     cases[i].bug);
		if (cases[i].line)
			cr_expect(strstr(state, cases[i].line), "%s: %s", cases[i].bug, state);
		else
			cr_expect_null(strstr(state, "BUG:"), "%s", state);
		free(r);
	}
}

/*
 * test_footprint.c — the memory metrics (footprint.h, probe.h's exact
 * accounting) and op-equivalent runs: the classic measures on hand-made
 * samples; internal_frag on churn:size=64 (0 where the allocator serves 64
 * bytes exactly, 1 - 64/usable on glibc); equal ops and op_checksum across
 * the allocators of a group; footprint >= live bytes at every timeline
 * sample of every allocator; the flags column; bad input.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <math.h>
#include <sys/mman.h>

#include "../../allocators/allocator.h"
#include "../../harness/footprint.h"
#include "../../harness/results.h"
#include "../testutil.h"

Test(footprint, classic_measures_from_samples)
{
	struct mmb_fp_acc acc;

	mmb_fp_init(&acc);
	cr_expect(isnan(mmb_fp_jw_at_peak(NULL, 0)) && isnan(mmb_fp_realized(&acc)) &&
		  isnan(mmb_fp_mean_ratio(&acc)), "no sample: not measured");
	/* (live, footprint): the live peak 1000 at footprint 1500; the footprint
	 * peak 3000 with 600 live; then everything freed, footprint kept. */
	mmb_fp_add(&acc, 500, NAN, 1000, 900);
	mmb_fp_add(&acc, 1000, NAN, 1500, 1400);
	mmb_fp_add(&acc, 600, NAN, 3000, 2000);
	mmb_fp_add(&acc, 0, NAN, 3000, 100);
	cr_expect_eq(acc.live_peak, 1000);
	cr_expect_eq(acc.fp_peak, 3000);
	cr_expect_eq(acc.own_peak, 2000);
	{
		/* the footprint peak 3000 with 600 live, then 3010 (within 1%) with
		 * 10 live: the point of maximal footprint is the one with 600 */
		struct mmb_tl_sample s[] = {
			{ .live_bytes = 1000, .footprint_bytes = 1500 },
			{ .live_bytes = 600, .footprint_bytes = 3000 },
			{ .live_bytes = 10, .footprint_bytes = 3010 },
			{ .live_bytes = 0, .footprint_bytes = 5000 },
		};

		cr_expect_float_eq(mmb_fp_jw_at_peak(s, 4), 3000.0 / 600, 1e-12);
		s[2].footprint_bytes = 4000;	/* a real new peak: it counts */
		cr_expect_float_eq(mmb_fp_jw_at_peak(s, 4), 4000.0 / 10, 1e-12);
	}
	cr_expect_float_eq(mmb_fp_realized(&acc), 1500.0 / 1000 - 1, 1e-12);
	cr_expect_float_eq(mmb_fp_mean_ratio(&acc), (2.0 + 1.5 + 5.0) / 3, 1e-12,
			   "the sample with nothing live is left out");
}

Test(footprint, internal_frag_formula)
{
	cr_expect_float_eq(mmb_internal_frag(64, 8), 1 - 64.0 / 72, 1e-12);
	cr_expect_eq(mmb_internal_frag(64, 0), 0);
	cr_expect(isnan(mmb_internal_frag(0, 0)), "nothing live: not measured");
	cr_expect(isnan(mmb_internal_frag(64, NAN)), "no accounting: not measured");
}

Test(footprint, resident_bytes_grow_with_touched_memory)
{
	enum { MB = 8 << 20 };
	uint64_t before, after;
	char *p = mmap(NULL, MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(mmb_resident_bytes(&before), 0);
	for (size_t i = 0; i < MB; i += 4096)
		p[i] = 1;
	cr_assert_eq(mmb_resident_bytes(&after), 0);
	cr_expect_geq(after, before + MB, "before %llu after %llu", (unsigned long long)before,
		      (unsigned long long)after);
	munmap(p, MB);
}

/* Run mmbench with the arguments into a fresh folder; the cells, or the test stops. */
static int fp_run(const char *tag, struct mmb_result **r, char *dir, size_t dirlen,
		  const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
		  const char *a6, const char *a7, const char *a8, const char *a9, const char *a10)
{
	struct mmb_cmd c;
	char path[300], err[256];
	int n;

	mmb_tmpname(dir, dirlen, tag);
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-t", "1", a1, a2, a3, a4, a5, a6, a7, a8, a9,
		    a10, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, r, err, sizeof(err));
	cr_assert_gt(n, 0, "%s", err);
	return n;
}

/* glibc's usable size of a 64-byte block, from the C library itself. */
static double glibc_usable_64(void)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *(*gmalloc)(size_t) = libc ? (void *(*)(size_t))dlsym(libc, "malloc") : NULL;
	void (*gfree)(void *) = libc ? (void (*)(void *))dlsym(libc, "free") : NULL;
	size_t (*gusable)(void *) =
		libc ? (size_t (*)(void *))dlsym(libc, "malloc_usable_size") : NULL;
	void *p;
	size_t u;

	cr_assert(gmalloc && gfree && gusable, "glibc's malloc not found");
	p = gmalloc(64);
	u = gusable(p);
	gfree(p);
	return (double)u;
}

Test(footprint, churn64_internal_frag_is_exact, .timeout = 120)
{
	struct mmb_result *r;
	char dir[256], list[128] = "glibc";
	const struct mmb_alloc_ops *je = mmb_alloc_find("jemalloc");
	const char *why;
	int n;

	if (mmb_alloc_find("slab"))
		strcat(list, ",slab");
	/* (the adapter refuses AddressSanitizer builds: ASan owns malloc) */
	if (je && !(je->supported && je->supported(&why)))
		strcat(list, ",jemalloc");
	n = fp_run("frag64", &r, dir, sizeof(dir), "-a", list, "-w", "churn:size=64", "--ops",
		   "2000", "--accounting", "exact", NULL, NULL);
	for (int i = 0; i < n; i++) {
		double want = strcmp(r[i].allocator, "glibc") ? 0 : 1 - 64 / glibc_usable_64();

		cr_expect_str_eq(r[i].status, "ok", "%s: %s", r[i].allocator, r[i].detail);
		cr_expect_float_eq(r[i].m[MMB_M_internal_frag], want, 1e-6, "%s: internal_frag %g",
				   r[i].allocator, r[i].m[MMB_M_internal_frag]);
		cr_log_info("%s: internal_frag %g", r[i].allocator, r[i].m[MMB_M_internal_frag]);
	}
	free(r);
	mmb_rm_rf(dir);

	/* Without exact accounting, or without usable_size (bump), it is not
	 * measured: empty, never a guess. */
	n = fp_run("frag64off", &r, dir, sizeof(dir), "-a", "glibc", "-w", "churn:size=64", "--ops",
		   "2000", NULL, NULL, NULL, NULL);
	cr_expect(isnan(r[0].m[MMB_M_internal_frag]));
	free(r);
	mmb_rm_rf(dir);
	n = fp_run("frag64bump", &r, dir, sizeof(dir), "-a", "bump", "-w", "churn:size=64", "--ops",
		   "2000", "--accounting", "exact", NULL, NULL);
	cr_expect_str_eq(r[0].status, "ok", "%s", r[0].detail);
	cr_expect(isnan(r[0].m[MMB_M_internal_frag]), "bump: %g", r[0].m[MMB_M_internal_frag]);
	cr_expect(!isnan(r[0].m[MMB_M_footprint_peak_bytes]), "footprint is measured for all");
	free(r);
	mmb_rm_rf(dir);
}

/* Every registered allocator that can run here (not the test-only ones). */
static void fp_allocators(char *list, size_t len)
{
	static const char *const names[] = { "glibc", "buddy", "slab", "vmalloc", "jemalloc",
					     "jemalloc-malloc", "mimalloc", "tcmalloc" };

	snprintf(list, len, "glibc");
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct mmb_alloc_ops *o = mmb_alloc_find(names[i]);
		const char *why;

		if (o && !(o->supported && o->supported(&why)))
			snprintf(list + strlen(list), len - strlen(list), ",%s", names[i]);
	}
}

/*
 * The fixed sequence and the footprint invariant, on every allocator: equal
 * ops and op_checksum within each workload (none fails an allocation at
 * these sizes), internal_frag measured, and footprint >= live bytes - one
 * page (one worker) at every timeline sample.
 */
Test(footprint, op_equivalent_groups_and_footprint_invariant, .timeout = 600)
{
	struct mmb_result *r;
	char dir[256], list[256], path[300], *line = NULL;
	size_t cap = 0;
	unsigned rows = 0;
	FILE *f;
	int n;

	fp_allocators(list, sizeof(list));
	n = fp_run("opeq", &r, dir, sizeof(dir), "-a", list, "-w",
		   "fragmenter:fill=256K,sizes:live=500,ramp:peak=256K,pages:live=32", "--ops",
		   "20000", "--op-equivalent", "--sample-interval", "2000ops", NULL);
	for (int i = 0; i < n; i++) {
		const struct mmb_result *first = NULL;

		for (int j = 0; j < i && !first; j++)
			if (!strcmp(r[j].workload, r[i].workload) && !strcmp(r[j].params, r[i].params))
				first = &r[j];
		cr_expect_str_eq(r[i].status, "ok", "%s %s: %s", r[i].allocator, r[i].workload,
				 r[i].detail);
		cr_expect_eq(r[i].m[MMB_M_failed_allocs], 0, "%s %s", r[i].allocator, r[i].workload);
		cr_expect_eq(r[i].m[MMB_M_incomplete], 0, "%s %s", r[i].allocator, r[i].workload);
		cr_expect(!isnan(r[i].m[MMB_M_internal_frag]), "%s %s: internal_frag empty",
			  r[i].allocator, r[i].workload);
		cr_expect(!isnan(r[i].m[MMB_M_footprint_peak_bytes]) &&
			  !isnan(r[i].m[MMB_M_footprint_end_bytes]), "%s %s: footprint empty",
			  r[i].allocator, r[i].workload);
		if (!first)
			continue;
		cr_expect_eq(r[i].m[MMB_M_ops], first->m[MMB_M_ops], "%s %s: ops %g, %s %g",
			     r[i].allocator, r[i].workload, r[i].m[MMB_M_ops], first->allocator,
			     first->m[MMB_M_ops]);
		cr_expect_eq(r[i].m[MMB_M_op_checksum], first->m[MMB_M_op_checksum],
			     "%s %s: another sequence than %s", r[i].allocator, r[i].workload,
			     first->allocator);
	}
	snprintf(path, sizeof(path), "%s/timeline.csv", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_gt(getline(&line, &cap, f), 0);
	while (getline(&line, &cap, f) > 0) {
		unsigned cell;
		unsigned long long t;
		double live, fp;

		if (sscanf(line, "%u,%llu,%lf,%lf,", &cell, &t, &live, &fp) != 4)
			continue;	/* footprint not read: counted below */
		rows++;
		cr_expect_geq(fp, live - 4096, "cell %u (%s %s) at %llu ns: footprint %.0f < live %.0f",
			      cell, r[cell - 1].allocator, r[cell - 1].workload, t, fp, live);
	}
	cr_expect_gt(rows, (unsigned)n * 2, "%u samples with a footprint", rows);
	fclose(f);
	free(line);
	free(r);
	mmb_rm_rf(dir);
}

/* A time-out that cuts the sequence is flagged; so is a failed allocation. */
Test(footprint, flags_mark_incomplete_and_failed_allocs, .timeout = 120)
{
	struct mmb_result *r;
	char dir[256], csv[8192];

	fp_run("incomplete", &r, dir, sizeof(dir), "-a", "glibc", "-w", "churn", "--ops",
	       "1000000000000", "--duration", "0.05", "--op-equivalent", NULL);
	cr_expect_str_eq(r[0].status, "ok");
	cr_expect_eq(r[0].m[MMB_M_incomplete], 1);
	mmb_slurp_in(dir, "cells.csv", csv, sizeof(csv));
	cr_expect(strstr(csv, ",flags,") && strstr(csv, ",incomplete,"), "%s", csv);
	free(r);
	mmb_rm_rf(dir);

	if (!mmb_alloc_find("slab"))
		return;
	fp_run("failed", &r, dir, sizeof(dir), "-a", "slab:mem=4M", "-w", "ramp", "--ops", "50000",
	       NULL, NULL, NULL, NULL);
	cr_expect_str_eq(r[0].status, "ok");
	cr_expect_gt(r[0].m[MMB_M_failed_allocs], 0);
	cr_expect_eq(r[0].m[MMB_M_incomplete], 0, "failed calls count: the sequence ran to its end");
	mmb_slurp_in(dir, "cells.csv", csv, sizeof(csv));
	cr_expect(strstr(csv, ",failed_allocs,"), "%s", csv);
	{
		struct mmb_cmd c;

		/* compare shows failed_allocs after throughput, and says why it matters */
		mmb_run_cmd(&c, "compare", dir, dir, NULL);
		cr_expect_eq(c.status, 0, "%s", c.err);
		cr_expect(strstr(c.out, "failed_allocs (lower is better)") &&
			  strstr(c.out, "had failed allocations"), "%s", c.out);
	}
	free(r);
	mmb_rm_rf(dir);
}

/* Bad input: one line, exit 2, nothing written. */
Test(footprint, bad_op_equivalent_input)
{
	static const char *const cases[][6] = {
		{ "-w", "churn", "--op-equivalent", NULL, NULL, "--op-equivalent needs --ops N" },
		{ "-w", "larson", "--op-equivalent", "--ops", "100",
		  "workload larson cannot run an op-equivalent sequence" },
		{ "-w", "churn", "--accounting", "maybe", NULL, "--accounting maybe: expected exact or off" },
		{ "-w", "churn", "--ops", "10", "--duration", "not both" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mmb_cmd c;
		char dir[256];

		mmb_tmpname(dir, sizeof(dir), "badopeq");
		if (cases[i][4] && !strcmp(cases[i][4], "--duration"))
			mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", cases[i][0], cases[i][1],
				    cases[i][2], cases[i][3], cases[i][4], "1", NULL);
		else
			mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "glibc", cases[i][0], cases[i][1],
				    cases[i][2], cases[i][3], cases[i][4], NULL);
		cr_expect_eq(c.status, 2, "case %zu: status %d: %s", i, c.status, c.err);
		cr_expect(strstr(c.err, cases[i][5]), "case %zu: %s", i, c.err);
		cr_expect_eq(strchr(c.err, '\n'), c.err + strlen(c.err) - 1, "one line: %s", c.err);
		cr_expect(!mmb_exists(dir), "case %zu: %s written", i, dir);
	}
}

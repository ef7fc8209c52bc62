/*
 * test_shim.c — the malloc shim (preload/malloc.c) under `mmbench exec`
 * with each of its allocators (slab, buddy, vmalloc), on the programs in
 * tests/programs/: the same output as without the shim, including two
 * threads freeing each other's blocks; every request on the route the
 * allocator names; the allocators' invariant checks (check=on) hold at
 * exit; the live bytes the threads summed come back to what is still
 * allocated. The programs' output is a checksum of every block's tags,
 * so a block damaged or handed out twice changes it.
 */
#include <criterion/criterion.h>
#include <libgen.h>

#include "../testutil.h"

/* build/tests/prog-NAME, beside mmbench. */
static void sh_prog(char *buf, size_t len, const char *name)
{
	char bin[4096];

	snprintf(bin, sizeof(bin), "%s", MMB_BIN);
	snprintf(buf, len, "%s/tests/prog-%s", dirname(bin), name);
}

/* The first line a command prints (popen), its exit status in *r_st. */
static void sh_plain(const char *cmd, char *line, size_t len, int *r_st)
{
	FILE *p = popen(cmd, "r");

	cr_assert(p, "popen %s", cmd);
	if (!fgets(line, (int)len, p))
		line[0] = 0;
	*r_st = pclose(p);
}

/* The number after "key": in json, or -1. */
static long long sh_num(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(json, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/*
 * prog ARGS plain and under `exec -a spec`: both exit 0 with the same
 * line; malloc.json into json (its folder removed after).
 */
static void sh_same(const char *spec, const char *prog, const char *arg1, const char *arg2,
		    char *json, size_t jlen)
{
	char path[4200], cmd[8600], plain[256], dir[256], f[300];
	struct mmb_cmd c;
	int st;

	sh_prog(path, sizeof(path), prog);
	snprintf(cmd, sizeof(cmd), "'%s' %s %s", path, arg1, arg2 ? arg2 : "");
	sh_plain(cmd, plain, sizeof(plain), &st);
	cr_assert_eq(st, 0, "%s failed without the shim", cmd);
	cr_assert(strstr(plain, "checksum="), "%s printed: %s", cmd, plain);
	mmb_tmpname(dir, sizeof(dir), "shim");
	if (arg2)
		mmb_run_cmd(&c, "exec", "-a", spec, "-o", dir, "--", path, arg1, arg2, NULL);
	else
		mmb_run_cmd(&c, "exec", "-a", spec, "-o", dir, "--", path, arg1, NULL);
	cr_assert_eq(c.status, 0, "%s on %s: status %d: %s", cmd, spec, c.status, c.err);
	cr_expect_str_eq(c.out, plain, "%s on %s: outputs differ", cmd, spec);
	snprintf(f, sizeof(f), "%s/malloc.json", dir);
	mmb_slurp(f, json, jlen);
	cr_expect(strstr(json, "\"check\": \"ok\""), "%s on %s: %s", prog, spec, json);
	cr_expect_eq(sh_num(json, "foreign_frees"), 0, "%s", json);
	cr_expect_eq(sh_num(json, "failed_allocs"), 0, "%s", json);
	mmb_rm_rf(dir);
}

Test(shim, churn_on_every_allocator)
{
	static const char *const specs[] = {
		"slab:check=on", "slab:check=on,sheaf=0", "buddy:check=on", "vmalloc:check=on",
	};
	char json[8192];

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		long long km, bd, vm;

		sh_same(specs[i], "churn", "200000", NULL, json, sizeof(json));
		km = sh_num(json, "kmalloc");
		bd = sh_num(strstr(json, "\"served\""), "buddy");
		vm = sh_num(strstr(json, "\"served\""), "vmalloc");
		/* churn's blocks are 16 B .. 2 KiB: all kmalloc's on slab */
		if (specs[i][0] == 's')
			cr_expect(km > 100000 && bd == 0 && vm == 0, "%s: %s", specs[i], json);
		else if (specs[i][0] == 'b')
			cr_expect(km == 0 && bd > 100000 && vm == 0, "%s: %s", specs[i], json);
		else
			cr_expect(km == 0 && bd == 0 && vm > 100000, "%s: %s", specs[i], json);
		cr_expect(strstr(json, specs[i][0] == 's' ? "\"slab_reports\": 0" :
							     "\"slab_reports\": null"), "%s", json);
	}
}

/* Two threads, a quarter of the frees cross-thread: slab's remote frees
 * (into the freeing thread's sheaf), buddy's and vmalloc's frees from
 * another thread's page lists. */
Test(shim, larson_two_threads_cross_thread_frees)
{
	static const char *const specs[] = {
		"slab:check=on", "slab:check=on,harden=on", "buddy:check=on", "vmalloc:check=on",
	};
	char json[8192];

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		sh_same(specs[i], "larson", "100000", "2", json, sizeof(json));
		/* the main thread and the two workers */
		cr_expect_geq(sh_num(json, "threads"), 3, "%s: %s", specs[i], json);
		cr_expect_eq(sh_num(json, "malloc") + sh_num(json, "calloc"),
			     sh_num(json, "kmalloc") + sh_num(strstr(json, "\"served\""), "buddy") +
				     sh_num(strstr(json, "\"served\""), "vmalloc"),
			     "%s: every allocation served once: %s", specs[i], json);
	}
}

/* The threads' byte sums (added to the total in steps) come back to what
 * is still allocated at exit: stdio's buffer, nothing of the blocks. */
Test(shim, live_bytes_summed_over_threads)
{
	char json[8192];
	long long live, peak;

	sh_same("slab:check=on", "larson", "100000", "2", json, sizeof(json));
	live = sh_num(json, "live_usable_bytes");
	peak = sh_num(json, "peak_usable_bytes");
	cr_expect(live >= 0 && live <= 64 << 10, "live at exit %lld: %s", live, json);
	/* two pools of 2048 blocks of 9..1000 bytes (usable: their classes) */
	cr_expect(peak >= 2 * 2048 * 400 && peak <= 2 * 2048 * 1024 + (1 << 20), "peak %lld: %s",
		  peak, json);
}

/* A program that writes every byte malloc_usable_size() reports (as V8
 * does) is correct: under slub_debug, ksize() lifts the object's kmalloc
 * red zone check as the kernel's does, so nothing is reported. */
Test(shim, usable_size_is_the_programs_under_slab_debug)
{
	static const char *const specs[] = { "slab:debug=FZPU,check=on", "slab:debug=ZU,check=on,harden=on" };
	char json[8192];

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		sh_same(specs[i], "usable", "20000", NULL, json, sizeof(json));
		cr_expect(strstr(json, "\"slab_reports\": 0"), "%s: %s", specs[i], json);
		cr_expect_gt(sh_num(json, "malloc_usable_size"), 10000, "%s: %s", specs[i], json);
	}
}

/* Out of memory on the shim: malloc.json's first_failure and exec's note
 * say which request failed and why (here the simulated memory, mem=);
 * a run with no failure writes first_failure null. */
Test(shim, first_failure_named)
{
	char prog[4200], dir[256], f[300], json[8192];
	struct mmb_cmd c;

	sh_prog(prog, sizeof(prog), "work");
	mmb_tmpname(dir, sizeof(dir), "shimoom");
	mmb_run_cmd(&c, "exec", "-a", "buddy:mem=64M", "-o", dir, "--", prog, "exhaust", "256", NULL);
	cr_assert_eq(c.status, 1, "%s", c.err);
	cr_expect(strstr(c.err, "mmbench: exec: 1 allocation failed; the first: 1048576 bytes "
				"(alignment 16): vmalloc error: size 1048576, failed to allocate pages"),
		  "%s", c.err);
	snprintf(f, sizeof(f), "%s/malloc.json", dir);
	mmb_slurp(f, json, sizeof(json));
	cr_expect(strstr(json, "\"first_failure\": \"1048576 bytes"), "%s", json);
	mmb_rm_rf(dir);
	mmb_run_cmd(&c, "exec", "-a", "buddy", "-o", dir, "--", prog, "exhaust", "8", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(!strstr(c.err, "allocation"), "%s", c.err);
	mmb_slurp(f, json, sizeof(json));
	cr_expect(strstr(json, "\"first_failure\": null"), "%s", json);
	mmb_rm_rf(dir);
}

/* Aligned requests up to 8 MiB come back aligned on every route: a buddy
 * block is aligned to its order in pfn terms only, and the simulated
 * memory's mapping is often only 2 MiB aligned (a 4 MiB alignment came
 * back at ...200000). Several runs: the mapping's address varies. */
Test(shim, alignment_honoured_on_every_route)
{
	static const char *const specs[] = { "slab:check=on", "slab:check=on,kmalloc_max=16", "buddy:check=on",
					     "vmalloc:check=on" };
	char json[8192];

	for (int run = 0; run < 4; run++)
		for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
			sh_same(specs[i], "align", "1", NULL, json, sizeof(json));
}

/* More threads than slab's 256 thread slots: those left without one
 * allocate on slab's shared overflow slots, every request of 16..2114
 * bytes is a kmalloc object (they used to be whole buddy pages, 57645 of
 * them here), check() passes over the shared slots, and every block comes
 * back as written. */
Test(shim, more_threads_than_slots)
{
	static const char *const specs[] = { "slab:check=on", "slab:check=on,sheaf=0",
					     "slab:check=on,debug=FZ" };
	char json[8192];

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		const char *served;
		long long km = -1, bu = -1, vm = -1;

		sh_same(specs[i], "manythreads", "20", NULL, json, sizeof(json));
		cr_expect_geq(sh_num(json, "threads"), 301, "%s: %s", specs[i], json);
		served = strstr(json, "\"served\": {");
		cr_assert(served && sscanf(served, "\"served\": {\"kmalloc\": %lld, \"buddy\": %lld, "
						   "\"vmalloc\": %lld}", &km, &bu, &vm) == 3,
			  "%s: %s", specs[i], json);
		cr_expect_eq(bu, 0, "%s: %s", specs[i], json);
		cr_expect_eq(vm, 0, "%s: %s", specs[i], json);
		cr_expect_geq(km, 300 * (20 * 64 + 1), "%s: %s", specs[i], json);
	}
}

/*
 * test_prod.c — the production allocators (jemalloc, jemalloc-malloc,
 * mimalloc, glibc, tcmalloc, preload): stats consistent with what the test
 * asked for, jemalloc's region accounting, the contract suite rerun in a
 * process where tcmalloc is preloaded, the malloc library a cell really
 * ran on, bad input refused before any cell runs, and the fault monitor's
 * count for jemalloc's and mimalloc's regions equal to their resident pages.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../allocators/allocator.h"
#include "../../allocators/os.h"
#include "../../allocators/preload.h"
#include "../../harness/results.h"
#include "../../harness/uffd.h"
#include "../../harness/util.h"
#include "../../workloads/workload.h"
#include "../testutil.h"

#define TC_LIB "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"

static int prod_read_cells(const char *dir, struct mmb_result **r_rows);

static const struct mmb_alloc_ops *prod_create(const char *spec, struct mmb_alloc **r_a)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc_cfg cfg;
	const char *why = NULL;
	char err[MMB_ERR_MAX] = "";

	cr_assert_eq(mmb_alloc_parse_config(spec, &ops, &cfg, err, sizeof(err)), 0, "%s", err);
	if (ops->supported && ops->supported(&why))
		cr_skip_test("%s unavailable here: %s", ops->name, why);
	cfg.nthreads = 1;
	if (ops->validate)
		cr_assert_eq(ops->validate(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ops->create(&cfg, r_a, err, sizeof(err)), 0, "%s: %s", spec, err);
	return ops;
}

/*
 * Allocate a random mix (fixed seed) and check, while the blocks are live:
 * usable_bytes >= bytes requested, footprint >= 1 page, provider named, and
 * after freeing, the allocator's check().
 */
static void prod_stats_consistent(const char *spec)
{
	enum { N = 3000 };
	static void *p[N];
	static size_t len[N];
	const uint64_t seed = 0x9e0d5eed;
	struct mmb_alloc_stats st;
	struct mmb_alloc *a;
	const struct mmb_alloc_ops *ops = prod_create(spec, &a);
	uint64_t rng[4], live = 0;
	char err[MMB_ERR_MAX] = "";

	cr_log_info("%s: seed %#llx", spec, (unsigned long long)seed);
	mmb_rand_seed(rng, seed);
	if (ops->thread_attach)
		ops->thread_attach(a);
	for (int i = 0; i < N; i++) {
		len[i] = 1 + (mmb_rand_below(rng, 8) == 0 ? mmb_rand_below(rng, 100000)
							   : mmb_rand_below(rng, 512));
		p[i] = ops->alloc(a, len[i], 0);
		cr_assert_not_null(p[i]);
		memset(p[i], 0x5a, len[i]);
		live += len[i];
	}
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_assert_neq(st.usable_bytes, MMB_STAT_NONE, "%s: usable bytes not measured", spec);
	cr_expect_geq(st.usable_bytes, live, "%s: usable %llu < %llu requested", spec,
		      (unsigned long long)st.usable_bytes, (unsigned long long)live);
	cr_assert_neq(st.footprint_bytes, MMB_STAT_NONE, "%s: footprint not measured", spec);
	cr_expect_geq(st.footprint_bytes, live / 2, "%s: footprint %llu for %llu live", spec,
		      (unsigned long long)st.footprint_bytes, (unsigned long long)live);
	cr_assert_not_null(st.malloc_provider, "%s: no malloc_provider", spec);
	cr_expect(strchr(st.malloc_provider, '/'), "%s: provider '%s' is not a path", spec,
		  st.malloc_provider);
	if (ops->check)
		cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s: %s", spec, err);
	for (int i = 0; i < N; i++)
		ops->free(a, p[i], len[i]);
	if (ops->check)
		cr_expect_eq(ops->check(a, err, sizeof(err)), 0, "%s: %s", spec, err);
	if (ops->thread_detach)
		ops->thread_detach(a);
	ops->destroy(a);
}

Test(prod, stats_consistent_jemalloc) { prod_stats_consistent("jemalloc"); }
Test(prod, stats_consistent_jemalloc_notcache) { prod_stats_consistent("jemalloc:tcache=off"); }
Test(prod, stats_consistent_jemalloc_malloc) { prod_stats_consistent("jemalloc-malloc"); }
Test(prod, stats_consistent_mimalloc) { prod_stats_consistent("mimalloc"); }
Test(prod, stats_consistent_glibc) { prod_stats_consistent("glibc"); }

/* Blocks parked in jemalloc's thread cache are not live: usable_bytes says
 * so, where the arena's "allocated" counts them. */
static void prod_cached_not_live(const char *spec)
{
	enum { N = 1000 };
	static void *p[N];
	struct mmb_alloc_stats st;
	struct mmb_alloc *a;
	const struct mmb_alloc_ops *ops = prod_create(spec, &a);

	ops->thread_attach(a);
	for (int i = 0; i < N; i++)
		cr_assert_not_null(p[i] = ops->alloc(a, 64, 0));
	for (int i = 1; i < N; i++)
		ops->free(a, p[i], 64);
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_geq(st.usable_bytes, 64);
	cr_expect_lt(st.usable_bytes, 1024, "%s: %llu usable bytes for one live 64-byte block", spec,
		     (unsigned long long)st.usable_bytes);
	ops->free(a, p[0], 64);
	ops->thread_detach(a);
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_lt(st.usable_bytes, 1024, "%s: %llu usable bytes after freeing all", spec,
		     (unsigned long long)st.usable_bytes);
	ops->destroy(a);
}

Test(prod, jemalloc_cached_blocks_not_live) { prod_cached_not_live("jemalloc"); }
Test(prod, jemalloc_malloc_cached_blocks_not_live) { prod_cached_not_live("jemalloc-malloc"); }

/* The adapter's usable bytes equal the usable sizes of the live blocks
 * exactly, at any quiescent point: jemalloc's (the arena's allocated - what
 * the bound thread's tcache holds), mimalloc's (its pages' used blocks,
 * walked on the one thread that used the instance). Nothing may allocate
 * on the bound thread meanwhile: the messages are formatted after detach.
 * Returns the instance, all blocks freed, the calling thread detached. */
static const struct mmb_alloc_ops *prod_usable_bytes_exact(const char *spec, struct mmb_alloc **r_a)
{
	enum { N = 3000 };
	static void *p[N];
	static size_t len[N];
	const uint64_t seed = 0x05ab1e;
	uint64_t rng[4], sum = 0, got[3], want[3];
	struct mmb_alloc_stats st;
	struct mmb_alloc *a;
	const struct mmb_alloc_ops *ops = prod_create(spec, &a);

	mmb_rand_seed(rng, seed);
	ops->thread_attach(a);
	for (int i = 0; i < N; i++) {
		len[i] = 1 + (mmb_rand_below(rng, 16) == 0 ? mmb_rand_below(rng, 60000)
							    : mmb_rand_below(rng, 1024));
		p[i] = ops->alloc(a, len[i], 0);
		if (!p[i])
			break;
		sum += ops->usable_size(a, p[i]);
	}
	for (int step = 0; step < 3; step++) {
		mmb_alloc_stats_init(&st);
		ops->stats(a, &st);
		got[step] = st.usable_bytes;
		want[step] = sum;
		for (int i = step; i < N; i += 3) {	/* a third of them, then another */
			if (p[i])
				sum -= ops->usable_size(a, p[i]);
			ops->free(a, p[i], len[i]);
			p[i] = NULL;
		}
	}
	ops->thread_detach(a);
	cr_log_info("%s: seed %#llx", spec, (unsigned long long)seed);
	for (int i = 0; i < N; i++)
		cr_assert_null(p[i], "%s: allocation %d failed", spec, i);
	for (int step = 0; step < 3; step++)
		cr_expect_eq(got[step], want[step], "%s: step %d: usable_bytes %llu, live blocks' %llu",
			     spec, step, (unsigned long long)got[step], (unsigned long long)want[step]);
	mmb_alloc_stats_init(&st);
	ops->stats(a, &st);
	cr_expect_eq(st.usable_bytes, 0, "%s: after freeing all: %llu", spec,
		     (unsigned long long)st.usable_bytes);
	*r_a = a;
	return ops;
}

Test(prod, jemalloc_usable_bytes_exact)
{
	struct mmb_alloc *a;
	const struct mmb_alloc_ops *ops = prod_usable_bytes_exact("jemalloc", &a);

	ops->destroy(a);
}

struct prod_other {
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	void *p;
};

/* A second thread attaches and keeps one block live. */
static void *prod_other_thread(void *arg)
{
	struct prod_other *o = arg;

	o->ops->thread_attach(o->a);
	o->p = o->ops->alloc(o->a, 100, 0);
	o->ops->thread_detach(o->a);
	return NULL;
}

/* mimalloc: exact while one thread has used the instance; once a second
 * thread has had a heap, whose pages only it may walk, usable bytes are not
 * measured (never a partial sum), and check() still walks the caller's. */
Test(prod, mimalloc_usable_bytes_exact_then_not_measured)
{
	struct prod_other o = { 0 };
	struct mmb_alloc_stats st;
	char err[MMB_ERR_MAX] = "";
	pthread_t th;

	o.ops = prod_usable_bytes_exact("mimalloc", &o.a);
	cr_assert_eq(pthread_create(&th, NULL, prod_other_thread, &o), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_not_null(o.p);
	mmb_alloc_stats_init(&st);
	o.ops->stats(o.a, &st);
	cr_expect_eq(st.usable_bytes, MMB_STAT_NONE, "usable bytes %llu with another thread's block",
		     (unsigned long long)st.usable_bytes);
	cr_expect_neq(st.footprint_bytes, MMB_STAT_NONE);
	cr_expect_eq(o.ops->check(o.a, err, sizeof(err)), 0, "%s", err);
	o.ops->free(o.a, o.p, 100);
	o.ops->destroy(o.a);
}

/* A jemalloc cell with 64-byte blocks (a size class): internal_frag, exact
 * from sallocx per block (--accounting exact), is 0, give or take one block a
 * sample caught between the free and the alloc of a ring step (1/1024 here).
 * internal_frag no longer reads the arena's usable figure, so the arena's
 * freedom from harness bookkeeping is checked in-process by the test above
 * (usable_bytes against the live blocks, step by step). */
Test(prod, jemalloc_cell_size_class_internal_frag_is_0)
{
	char dir[256];
	struct mmb_result *r;
	struct mmb_cmd c;
	int n;

	if (MMB_ASAN_OWNS_MALLOC)
		cr_skip_test("jemalloc does not own malloc under AddressSanitizer");
	mmb_tmpname(dir, sizeof(dir), "jebook");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", "jemalloc", "-w", "churn:size=64,batch=1024", "-t", "1",
		    "--ops", "400000", "--sample-interval", "20000ops", "--accounting", "exact", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	n = prod_read_cells(dir, &r);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(r[0].status, "ok", "%s", r[0].detail);
	cr_expect_leq(r[0].m[MMB_M_internal_frag], 1.0 / 1024,
		      "internal_frag %g", r[0].m[MMB_M_internal_frag]);
	free(r);
	mmb_rm_rf(dir);
}

/* ---- jemalloc's region: what its hooks handed out is all it touches ---- */

static struct {
	char name[32];
	char *addr;
	size_t len;
	int adds, dels;
} seen;

static int seen_add(void *ctx, const char *name, void *addr, size_t len, unsigned modes, int fd,
		    off_t off)
{
	(void)ctx, (void)modes, (void)fd, (void)off;
	snprintf(seen.name, sizeof(seen.name), "%s", name);
	seen.addr = addr;
	seen.len = len;
	seen.adds++;
	return 0;
}

static void seen_del(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	if (addr == seen.addr && len == seen.len)
		seen.dels++;
}

/* "key value" from the jemalloc.txt state file. */
static uint64_t state_val(const char *buf, const char *key)
{
	char pat[64];
	const char *s;

	snprintf(pat, sizeof(pat), "\n%s ", key);
	s = strstr(buf, pat);
	cr_assert_not_null(s, "jemalloc.txt has no %s:\n%s", key, buf);
	return strtoull(s + strlen(pat), NULL, 10);
}

/* Resident pages of [addr, addr + len): count, and the highest one + 1.
 * No malloc: the calling thread may be bound to the measured arena
 * (jemalloc.c), whose fresh pages the kernel cannot write into under a
 * user-mode-only userfaultfd. */
static size_t resident_pages(char *addr, size_t len, size_t *r_end_page)
{
	static unsigned char vec[1 << 20];	/* 4 GiB of pages */
	size_t n = len / 4096, res = 0;

	cr_assert_leq(n, sizeof(vec), "range of %zu pages too large", n);
	cr_assert_eq(mincore(addr, len, vec), 0);
	*r_end_page = 0;
	for (size_t i = 0; i < n; i++)
		if (vec[i] & 1) {
			res++;
			*r_end_page = i + 1;
		}
	return res;
}

Test(prod, jemalloc_region_accounting)
{
	static const struct mmb_region_hooks hooks = { seen_add, seen_del, NULL };
	enum { N = 2000 };
	static void *p[N];
	struct mmb_alloc *a;
	const struct mmb_alloc_ops *ops;
	char dir[256], path[300], buf[4096];
	size_t res, end_page, handed;

	mmb_region_set_hooks(&hooks);
	ops = prod_create("jemalloc:region=256M,dirty_decay_ms=0", &a);
	cr_assert_eq(seen.adds, 1, "region announced %d times", seen.adds);
	cr_expect_str_eq(seen.name, "jemalloc-arena");
	cr_assert_eq(seen.len, 256u << 20);
	ops->thread_attach(a);
	for (int i = 0; i < N; i++) {
		size_t sz = i % 10 == 0 ? 40000 : 24 + (size_t)(i % 300);

		p[i] = ops->alloc(a, sz, 0);
		cr_assert_not_null(p[i]);
		cr_assert((char *)p[i] >= seen.addr && (char *)p[i] + sz <= seen.addr + seen.len,
			  "block %d at %p outside the region", i, p[i]);
		memset(p[i], 1, sz);
	}
	mmb_tmpname(dir, sizeof(dir), "jestate");
	cr_assert_eq(mmb_mkdir_p(dir, 0755), 0);
	cr_assert_eq(ops->dump_state(a, dir), 0);
	snprintf(path, sizeof(path), "%s/jemalloc.txt", dir);
	buf[0] = '\n';
	mmb_slurp(path, buf + 1, sizeof(buf) - 1);
	handed = state_val(buf, "handed_out_bytes");
	res = resident_pages(seen.addr, seen.len, &end_page);
	cr_log_info("hooks handed out %zu bytes in %llu calls; %zu pages resident, last at %zu; "
		    "jemalloc resident %llu", handed,
		    (unsigned long long)state_val(buf, "hook_alloc_calls"), res, end_page,
		    (unsigned long long)state_val(buf, "resident"));
	/* Every frame touched in the region was handed out by the alloc hook. */
	cr_expect_leq(end_page * 4096, handed, "page %zu touched beyond the %zu bytes handed out",
		      end_page, handed);
	cr_expect_eq(state_val(buf, "hook_alloc_bytes"), handed);
	cr_expect_geq(state_val(buf, "allocated"), (uint64_t)N * 24);
	cr_expect_geq(state_val(buf, "resident"), state_val(buf, "active"));
	cr_expect_geq(res * 4096, state_val(buf, "allocated") / 2);
	/* jemalloc's resident figure covers every frame it really touched. */
	cr_expect_leq(res * 4096, state_val(buf, "resident"), "%zu pages touched, jemalloc says %llu bytes",
		      res, (unsigned long long)state_val(buf, "resident"));

	/* Freed with dirty_decay_ms=0: jemalloc purges through purge_forced and
	 * the frames leave the region's resident set. */
	for (int i = 0; i < N; i++)
		ops->free(a, p[i], 0);
	ops->thread_detach(a);
	cr_assert_eq(ops->dump_state(a, dir), 0);
	mmb_slurp(path, buf + 1, sizeof(buf) - 1);
	size_t res_after = resident_pages(seen.addr, seen.len, &end_page);

	cr_log_info("after free: %zu pages resident, purged %llu bytes in %llu calls", res_after,
		    (unsigned long long)state_val(buf, "hook_purge_bytes"),
		    (unsigned long long)state_val(buf, "hook_purge_calls"));
	cr_expect_gt(state_val(buf, "hook_purge_bytes"), 0);
	cr_expect_lt(res_after, res, "purge left %zu of %zu pages resident", res_after, res);
	ops->destroy(a);
	cr_expect_eq(seen.dels, 1, "region withdrawn %d times", seen.dels);
	mmb_region_set_hooks(NULL);
	mmb_rm_rf(dir);
}

/* ---- the fault monitor's count of a region = its resident pages ---- */

/*
 * Resident pages of every range registered with a userfaultfd (VmFlags "um"
 * in /proc/self/smaps: the monitor's ranges, here the allocator's region
 * only). Read while the monitor runs: unregistered, the region's VMA may
 * merge with its neighbours.
 */
static size_t uffd_resident_pages(void)
{
	static char buf[8 << 20];	/* no stdio: no malloc (resident_pages says why) */
	int fd = open("/proc/self/smaps", O_RDONLY);
	uintptr_t lo = 0, hi = 0;
	size_t res = 0, vmas = 0, len = 0;
	ssize_t n;

	cr_assert_geq(fd, 0);
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	for (char *line = buf, *nl; *line; line = nl + 1) {
		unsigned long a, b;
		size_t end_page;

		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = 0;
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
			lo = a;
			hi = b;
		} else if (!strncmp(line, "VmFlags:", 8) && strstr(line, " um")) {
			res += resident_pages((char *)lo, hi - lo, &end_page);
			vmas++;
		}
	}
	cr_assert_gt(vmas, 0, "no range registered with the userfaultfd");
	return res;
}

/* Under the monitor (thread mode), allocate and touch a fixed mix: each
 * first touch of a region page is one fault, so the count for the region
 * equals its resident pages, metadata included. */
static void prod_faults_equal_resident(const char *spec, const char *region)
{
	enum { N = 3000 };
	static void *p[N];
	struct mmb_uffd_opts o = { MMB_FAULTS_UFFD, -1, 0 };
	struct mmb_uffd *m = NULL;
	struct mmb_alloc *a;
	const struct mmb_alloc_ops *ops;
	char why[256] = "";
	size_t res;
	uint64_t faults;

	if (mmb_uffd_probe(MMB_FAULTS_UFFD, NULL, why, sizeof(why)))
		cr_skip_test("userfaultfd unavailable here: %s", why);
	cr_assert_eq(mmb_uffd_start(&o, &m, why, sizeof(why)), 0, "start: %s", why);
	ops = prod_create(spec, &a);
	ops->thread_attach(a);
	for (int i = 0; i < N; i++) {
		size_t sz = i % 10 == 0 ? 40000 : 24 + (size_t)(i % 300);

		p[i] = ops->alloc(a, sz, 0);
		cr_assert_not_null(p[i]);
		memset(p[i], 1, sz);
	}
	res = uffd_resident_pages();
	mmb_uffd_stop(m);
	faults = mmb_uffd_count(m, region, -1, NULL, -1);
	/* Detached before anything that may allocate (the messages below): a
	 * bound thread's malloc would land in the region, now unmonitored. */
	for (int i = 0; i < N; i++)
		ops->free(a, p[i], 0);
	ops->thread_detach(a);
	cr_log_info("%s: monitor counted %llu faults in %s, %zu pages resident", spec,
		    (unsigned long long)faults, region, res);
	cr_expect_eq(mmb_uffd_nregions(m), 1);
	cr_expect_gt(faults, (uint64_t)N * 24 / 4096);
	cr_expect_eq(faults, res, "%llu faults counted, %zu pages resident",
		     (unsigned long long)faults, res);
	cr_expect_eq(mmb_uffd_count(m, NULL, -1, NULL, -1), faults, "faults outside %s", region);
	ops->destroy(a);
	mmb_uffd_free(m);
}

Test(prod, jemalloc_faults_equal_resident)
{
	prod_faults_equal_resident("jemalloc:region=256M", "jemalloc-arena");
}

Test(prod, mimalloc_faults_equal_resident)
{
	prod_faults_equal_resident("mimalloc:region=256M", "mimalloc-arena");
}

/* ---- tcmalloc: the contract suite in a process where it owns malloc ---- */

Test(prod, contract_under_tcmalloc_preload)
{
	char exe[4096], log[] = "/tmp/mmbtest-tc-XXXXXX", out[65536];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int fd, st;
	pid_t pid;

	if (MMB_ASAN_OWNS_MALLOC || access(TC_LIB, R_OK))
		cr_skip_test("tcmalloc cannot be preloaded here");
	cr_assert_gt(n, 0);
	exe[n] = 0;
	fd = mkstemp(log);
	cr_assert_geq(fd, 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		unsetenv("BXFI_MAP");	/* else the new process acts as this sandbox's child */
		setenv("LD_PRELOAD", TC_LIB, 1);
		setenv("MMB_CONTRACT_REQUIRE", "tcmalloc", 1);
		execl(exe, exe, "--filter=contract/*", "--jobs=1", "--verbose", (char *)NULL);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	waitpid(pid, &st, 0);
	close(fd);
	mmb_slurp(log, out, sizeof(out));
	unlink(log);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "contract suite under tcmalloc failed:\n%s",
		  out);
	cr_expect(strstr(out, "allocator tcmalloc"), "tcmalloc was not exercised:\n%s", out);
}

/* ---- cells: the library that served malloc, and bad input ---- */

static int prod_read_cells(const char *dir, struct mmb_result **r_rows)
{
	char path[300], err[256];
	int n;

	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	n = mmb_csv_read(path, r_rows, err, sizeof(err));
	cr_assert_geq(n, 0, "%s", err);
	return n;
}

Test(prod, cells_report_malloc_provider)
{
	char dir[256], pre[300], jelib[PATH_MAX];
	struct mmb_result *r;
	struct mmb_cmd c;
	int n;

	if (MMB_ASAN_OWNS_MALLOC || access(TC_LIB, R_OK))
		cr_skip_test("malloc libraries cannot be preloaded here");
	cr_assert_eq(mmb_sym_provider("mallctl", jelib, sizeof(jelib)), 0);
	snprintf(pre, sizeof(pre), "preload:%s", TC_LIB);
	mmb_tmpname(dir, sizeof(dir), "prov");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "-a", pre, "-a",
		    "tcmalloc,jemalloc-malloc:dirty_decay_ms=0,jemalloc,mimalloc,glibc", "-w",
		    "churn:size=100,batch=64", "--duration", "0.05", "--accounting", "exact", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	n = prod_read_cells(dir, &r);
	cr_assert_eq(n, 6);
	for (int i = 0; i < n; i++) {
		cr_expect_str_eq(r[i].status, "ok", "%s: %s", r[i].allocator, r[i].detail);
		cr_log_info("%s served by %s", r[i].allocator, r[i].malloc_provider);
		if (!strcmp(r[i].allocator, "preload") || !strcmp(r[i].allocator, "tcmalloc"))
			cr_expect(mmb_same_file(r[i].malloc_provider, TC_LIB), "%s: provider %s",
				  r[i].allocator, r[i].malloc_provider);
		else if (!strncmp(r[i].allocator, "jemalloc", 8))
			cr_expect(mmb_same_file(r[i].malloc_provider, jelib), "%s: provider %s",
				  r[i].allocator, r[i].malloc_provider);
		else if (!strcmp(r[i].allocator, "mimalloc"))
			cr_expect(strstr(r[i].malloc_provider, "libmimalloc"), "provider %s",
				  r[i].malloc_provider);
		else
			cr_expect(strstr(r[i].malloc_provider, "libc.so.6"), "provider %s",
				  r[i].malloc_provider);
		/* The comparable columns, for every allocator. */
		cr_expect(!isnan(r[i].m[MMB_M_footprint_peak_bytes]), "%s: no footprint",
			  r[i].allocator);
		cr_expect(!isnan(r[i].m[MMB_M_live_peak_bytes]), "%s: no live bytes", r[i].allocator);
		cr_expect(!isnan(r[i].m[MMB_M_rss_peak_bytes]), "%s: no rss", r[i].allocator);
		cr_expect(!isnan(r[i].m[MMB_M_internal_frag]), "%s: no internal_frag",
			  r[i].allocator);
	}
	free(r);
	mmb_rm_rf(dir);
}

static void prod_bad(const char *spec, const char *needle)
{
	char dir[256];
	struct mmb_cmd c;

	mmb_tmpname(dir, sizeof(dir), "bad");
	mmb_run_cmd(&c, "run", "-o", dir, "-a", spec, "-w", "churn", "--ops", "100", NULL);
	cr_expect_eq(c.status, 2, "%s: exit %d", spec, c.status);
	cr_expect(strstr(c.err, needle), "%s: message does not say '%s': %s", spec, needle, c.err);
	cr_expect(!strchr(c.err, '\n') || strchr(c.err, '\n') == c.err + strlen(c.err) - 1,
		  "%s: more than one line: %s", spec, c.err);
	cr_expect(!mmb_exists(dir), "%s: results folder written", spec);
}

Test(prod, bad_input_exits_2_before_any_cell)
{
	prod_bad("preload:/usr/lib/no/such/libmalloc.so", "No such file");
	prod_bad("preload:/etc/hostname", "not an ELF");
	prod_bad("preload:/usr/lib/x86_64-linux-gnu/libm.so.6", "does not define malloc");
	prod_bad("preload:libtcmalloc.so", "give the library's path");
	prod_bad("jemalloc:bogus=1", "bogus");
	/* Under AddressSanitizer the process's malloc is not jemalloc's, so
	 * `jemalloc` is refused first (its fast path is that malloc). */
	prod_bad("jemalloc:dirty_decay_ms=1.5",
		 MMB_ASAN_OWNS_MALLOC ? "AddressSanitizer" : "whole number");
	prod_bad("jemalloc-malloc:narenas=x", "narenas");
	prod_bad("mimalloc:region=200M", "multiple of 64M");
	prod_bad("tcmalloc:release_rate=99", "release_rate");
}

/* A jemalloc or mimalloc library without the adapter's entry points (the
 * stand-in tests/old_malloclib.c, found first through LD_LIBRARY_PATH):
 * one line naming the missing symbol, exit 2, nothing written. */
Test(prod, library_without_entry_points_exits_2)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(MMB_BIN, '/');

	snprintf(dir, sizeof(dir), "%.*s/tests/old-lib", (int)(slash - MMB_BIN), MMB_BIN);
	if (access(dir, R_OK))
		cr_skip_test("%s not built (make check builds it)", dir);
	setenv("LD_LIBRARY_PATH", dir, 1);
	prod_bad("jemalloc", "has no 'mallctl'");
	prod_bad("jemalloc-malloc", "has no 'mallctl'");
	prod_bad("mimalloc", "has no 'mi_malloc'");
	unsetenv("LD_LIBRARY_PATH");
}

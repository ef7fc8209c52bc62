/*
 * jemalloc_malloc.c — `jemalloc-malloc`: plain malloc/free in a process
 * running on jemalloc, as its users get it (all arenas, automatic thread
 * caches, MALLOC_CONF).
 *
 * mmbench is linked with -ljemalloc (jemalloc.c says why), so jemalloc
 * already owns malloc in every cell; exec_env still puts libjemalloc.so.2
 * in LD_PRELOAD so that it comes first whatever else the process loads, and
 * sets MALLOC_CONF from the options given (jemalloc reads it once, at its
 * first allocation, so it has to be in the environment at exec). create()
 * checks with dladdr that malloc comes from the same library as mallctl and
 * fails otherwise (e.g. under AddressSanitizer, which owns malloc itself),
 * and that every option given is what jemalloc reports as in effect.
 *
 * Stats: footprint = stats.resident (after an epoch), relative to the
 * figure at create() so that the harness's earlier allocations are not
 * counted (those during the run are few and outside the timed region);
 * usable = net usable bytes allocated by the attached threads, from
 * jemalloc's per-thread counters (jemalloc.h).
 *
 * Thread model: thread_attach/detach only register the thread's counters;
 * jemalloc's own automatic arenas and tcaches do the rest.
 */
#include "allocator.h"
#include "jemalloc.h"
#include "jemalloc_bins.h"
#include "preload.h"

#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct mmb_alloc {
	struct mmb_procmalloc pm;
	struct mmb_je_usable usable;
	size_t base_resident_bytes;
};

static __thread struct {
	struct mmb_alloc *a;
	struct mmb_je_thread_bytes *bytes;
} jem_tls;

/* Every option is a MALLOC_CONF key of the same name, set only when given. */
static const struct mmb_param jem_opts[] = {
	{ "dirty_decay_ms", MMB_P_F64, "10000", -1, 1e9, NULL,
	  "opt.dirty_decay_ms: dirty pages kept this long before purging (-1 = never)" },
	{ "muzzy_decay_ms", MMB_P_F64, "0", -1, 1e9, NULL, "opt.muzzy_decay_ms (-1 = never)" },
	{ "tcache", MMB_P_BOOL, "on", 0, 0, NULL, "opt.tcache: per-thread caches" },
	{ "tcache_max", MMB_P_SIZE, "32K", 0, 8 << 20, NULL, "opt.tcache_max: largest cached size, bytes" },
	{ "narenas", MMB_P_U64, "8", 1, 1024, NULL, "opt.narenas: automatic arenas" },
	{ "background_thread", MMB_P_BOOL, "off", 0, 0, NULL,
	  "opt.background_thread: purge from a background thread" },
	{ 0 },
};

void mmb_je_usable_init(struct mmb_je_usable *u)
{
	pthread_mutex_init(&u->lock, NULL);
	u->threads = NULL;
	u->folded = 0;
}

void mmb_je_usable_fini(struct mmb_je_usable *u)
{
	struct mmb_je_thread_bytes *t, *next;

	for (t = u->threads; t; t = next) {
		next = t->next;
		free(t);
	}
	pthread_mutex_destroy(&u->lock);
}

/* Frees are read first: both counters only grow, so a thread running
 * meanwhile can make the figure too high, never lower than its net bytes
 * at the first read. */
static int64_t je_thread_net(const struct mmb_je_thread_bytes *t)
{
	uint64_t dealloc = __atomic_load_n(t->deallocp, __ATOMIC_ACQUIRE);
	uint64_t alloc = __atomic_load_n(t->allocp, __ATOMIC_ACQUIRE);

	return (int64_t)(alloc - t->base_alloc) - (int64_t)(dealloc - t->base_dealloc);
}

struct mmb_je_thread_bytes *mmb_je_usable_attach(struct mmb_je_usable *u)
{
	struct mmb_je_thread_bytes *t = malloc(sizeof(*t));
	size_t sz = sizeof(t->allocp);

	if (!t)
		return NULL;
	if (mallctl("thread.allocatedp", &t->allocp, &sz, NULL, 0) ||
	    mallctl("thread.deallocatedp", &t->deallocp, &sz, NULL, 0)) {
		free(t);
		return NULL;
	}
	t->base_alloc = __atomic_load_n(t->allocp, __ATOMIC_RELAXED);
	t->base_dealloc = __atomic_load_n(t->deallocp, __ATOMIC_RELAXED);
	pthread_mutex_lock(&u->lock);
	t->next = u->threads;
	u->threads = t;
	pthread_mutex_unlock(&u->lock);
	return t;
}

void mmb_je_usable_detach(struct mmb_je_usable *u, struct mmb_je_thread_bytes *t)
{
	struct mmb_je_thread_bytes **pp;

	if (!t)
		return;
	pthread_mutex_lock(&u->lock);
	for (pp = &u->threads; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = t->next;
	u->folded += je_thread_net(t);
	pthread_mutex_unlock(&u->lock);
	free(t);
}

int64_t mmb_je_usable_bytes(struct mmb_je_usable *u)
{
	int64_t sum;

	pthread_mutex_lock(&u->lock);
	sum = u->folded;
	for (const struct mmb_je_thread_bytes *t = u->threads; t; t = t->next)
		sum += je_thread_net(t);
	pthread_mutex_unlock(&u->lock);
	return sum;
}

/* Weak, as in jemalloc.c: a library without it loads, and is named here. */
#pragma weak mallctl

static int jem_supported(const char **why)
{
	if (!mallctl) {
		*why = "the loaded libjemalloc has no 'mallctl' (jemalloc >= 5 built without a prefix "
		       "is needed)";
		return -ENOTSUP;
	}
	if (MMB_ASAN_OWNS_MALLOC) {
		*why = "this build uses AddressSanitizer, which owns malloc";
		return -ENOTSUP;
	}
	return 0;
}

static int jem_validate(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen)
{
	static const char *const ms[] = { "dirty_decay_ms", "muzzy_decay_ms" };

	for (int i = 0; i < 2; i++) {
		double v = mmb_pval_f64(&cfg->opts, ms[i]);

		if (v != floor(v)) {
			snprintf(err, errlen, "allocator jemalloc-malloc: '%s=%g' must be a whole number",
				 ms[i], v);
			return -EINVAL;
		}
	}
	return 0;
}

/* Append key:value of every given option to MALLOC_CONF. */
static void jem_exec_env(const struct mmb_alloc_cfg *cfg)
{
	const char *old = getenv("MALLOC_CONF");
	char buf[1024];
	size_t off = 0;
	char lib[PATH_MAX];

	if (!mmb_sym_provider("mallctl", lib, sizeof(lib)))
		mmb_preload_setenv(lib);
	buf[0] = 0;
	if (old && *old)
		off += (size_t)snprintf(buf, sizeof(buf), "%s", old);
	for (int i = 0; jem_opts[i].name && off < sizeof(buf); i++) {
		const struct mmb_pval *v = &cfg->opts.v[i];

		if (!v->given)
			continue;
		if (jem_opts[i].type == MMB_P_BOOL)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s:%s", off ? "," : "",
						jem_opts[i].name, v->u ? "true" : "false");
		else if (jem_opts[i].type == MMB_P_F64)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s:%.0f",
						off ? "," : "", jem_opts[i].name, v->f);
		else
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s:%llu",
						off ? "," : "", jem_opts[i].name,
						(unsigned long long)v->u);
	}
	if (buf[0])
		setenv("MALLOC_CONF", buf, 1);
}

/* Is every given option in effect (opt.<name>)? 0 or -EINVAL naming the first that is not. */
static int jem_check_opts(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen)
{
	for (int i = 0; jem_opts[i].name; i++) {
		const struct mmb_pval *v = &cfg->opts.v[i];
		char name[64];
		double have;
		int rc;

		if (!v->given)
			continue;
		snprintf(name, sizeof(name), "opt.%s", jem_opts[i].name);
		if (jem_opts[i].type == MMB_P_BOOL) {
			bool b;
			size_t sz = sizeof(b);

			rc = mallctl(name, &b, &sz, NULL, 0);
			have = b;
		} else if (jem_opts[i].type == MMB_P_F64) {
			ssize_t s;
			size_t sz = sizeof(s);

			rc = mallctl(name, &s, &sz, NULL, 0);
			have = (double)s;
		} else if (jem_opts[i].type == MMB_P_SIZE) {
			size_t s, sz = sizeof(s);

			rc = mallctl(name, &s, &sz, NULL, 0);
			have = (double)s;
		} else {
			unsigned u;
			size_t sz = sizeof(u);

			rc = mallctl(name, &u, &sz, NULL, 0);
			have = u;
		}
		if (rc || have != (jem_opts[i].type == MMB_P_F64 ? v->f : (double)v->u)) {
			snprintf(err, errlen, "jemalloc-malloc: %s=%s is not in effect (%s = %g; "
				 "MALLOC_CONF is read at process start)", jem_opts[i].name, v->s, name,
				 rc ? NAN : have);
			return -EINVAL;
		}
	}
	return 0;
}

static size_t jem_stat(const char *name)
{
	size_t v = 0, sz = sizeof(v);

	mallctl(name, &v, &sz, NULL, 0);
	return v;
}

static void jem_epoch(void)
{
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);

	mallctl("epoch", &epoch, &sz, &epoch, sz);
}

static int jem_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
		      size_t errlen)
{
	struct mmb_procmalloc pm;
	struct mmb_alloc *a;
	char why[MMB_ERR_MAX], lib[PATH_MAX];
	int rc;

	if (mmb_procmalloc_lookup(&pm, why, sizeof(why))) {
		snprintf(err, errlen, "jemalloc-malloc: %s", why);
		return -ENOTSUP;
	}
	if (mmb_sym_provider("mallctl", lib, sizeof(lib)) || !mmb_same_file(lib, pm.provider)) {
		snprintf(err, errlen, "jemalloc-malloc: malloc here is served by %s, not jemalloc",
			 pm.provider);
		return -ENOTSUP;
	}
	rc = jem_check_opts(cfg, err, errlen);
	if (rc)
		return rc;
	a = pm.malloc(sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "jemalloc-malloc: out of memory");
		return -ENOMEM;
	}
	a->pm = pm;
	jem_epoch();
	a->base_resident_bytes = jem_stat("stats.resident");
	mmb_je_usable_init(&a->usable);
	*r_a = a;
	return 0;
}

static void jem_thread_detach(struct mmb_alloc *a)
{
	if (jem_tls.a != a)
		return;
	mmb_je_usable_detach(&a->usable, jem_tls.bytes);
	jem_tls.a = NULL;
}

static void jem_thread_attach(struct mmb_alloc *a)
{
	if (jem_tls.a == a)
		return;
	if (jem_tls.a)
		jem_thread_detach(jem_tls.a);
	jem_tls.bytes = mmb_je_usable_attach(&a->usable);
	jem_tls.a = a;
}

static void jem_destroy(struct mmb_alloc *a)
{
	jem_thread_detach(a);
	mmb_je_usable_fini(&a->usable);
	a->pm.free(a);
}

static void *jem_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	if (align <= 8)		/* malloc(1) may be only 8-aligned (size classes) */
		return a->pm.malloc(size);
	return a->pm.memalign(align, size);
}

static void jem_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)size;
	a->pm.free(p);
}

static size_t jem_usable_size(struct mmb_alloc *a, const void *p)
{
	return a->pm.usable_size((void *)p);
}

/* Every arena's bins: the harness's own few allocations are in them too. */
static int jem_size_classes(struct mmb_alloc *a, struct mmb_size_class *r, int max)
{
	(void)a;
	return mmb_je_size_classes(MALLCTL_ARENAS_ALL, r, max);
}

static void jem_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	int64_t usable = mmb_je_usable_bytes(&a->usable);
	size_t res;

	jem_epoch();
	res = jem_stat("stats.resident");
	r_st->footprint_bytes = res > a->base_resident_bytes ? res - a->base_resident_bytes : 0;
	r_st->usable_bytes = usable > 0 ? (uint64_t)usable : 0;
	r_st->malloc_provider = a->pm.provider;
}

const struct mmb_alloc_ops mmb_jemalloc_malloc_ops = {
	.name = "jemalloc-malloc",
	.desc = "plain malloc/free on jemalloc as the process allocator; options are MALLOC_CONF",
	.opts = jem_opts,
	.supported = jem_supported,
	.validate = jem_validate,
	.exec_env = jem_exec_env,
	.create = jem_create,
	.destroy = jem_destroy,
	.thread_attach = jem_thread_attach,
	.thread_detach = jem_thread_detach,
	.alloc = jem_alloc,
	.free = jem_free,
	.usable_size = jem_usable_size,
	.stats = jem_stats,
	.size_classes = jem_size_classes,
};

/*
 * test_size_classes.c — size_classes() (allocator.h) of the allocators that
 * have classes: slab's kmalloc caches, jemalloc's bins (own arena), and
 * mimalloc's heaps (walked by their own thread); classes ascend, live <=
 * capacity, and the objects a test holds show in their class.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>

#include "../../allocators/allocator.h"
#include "../testutil.h"

enum { NOBJ = 1000, MAXC = 256 };

static const struct mmb_size_class *class_of(const struct mmb_size_class *c, int n, uint64_t bytes)
{
	for (int i = 0; i < n; i++)
		if (c[i].class_bytes == bytes)
			return &c[i];
	return NULL;
}

static void expect_sane(const char *name, const struct mmb_size_class *c, int n)
{
	cr_assert_gt(n, 0, "%s: %d classes", name, n);
	for (int i = 0; i < n; i++) {
		cr_expect(i == 0 || c[i].class_bytes > c[i - 1].class_bytes, "%s: class %d out of order",
			  name, i);
		cr_expect_leq(c[i].live_objects, c[i].capacity_objects, "%s: class %llu", name,
			      (unsigned long long)c[i].class_bytes);
		cr_expect(!c[i].capacity_objects || c[i].pages, "%s: capacity without pages", name);
	}
}

/* Hold NOBJ blocks of size on spec; check the class of class_bytes; free them. */
static void hold_and_check(const char *spec, size_t size, uint64_t class_bytes, int exact)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a = mmb_test_alloc(spec, 1, &ops);
	static struct mmb_size_class c[MAXC];
	static void *p[NOBJ];
	const struct mmb_size_class *k;
	int n;

	cr_assert_not_null(ops->size_classes, "%s has size classes", spec);
	if (ops->thread_attach)
		ops->thread_attach(a);
	for (int i = 0; i < NOBJ; i++)
		cr_assert_not_null(p[i] = ops->alloc(a, size, 0));
	n = ops->size_classes(a, c, MAXC);
	expect_sane(spec, c, n);
	k = class_of(c, n, class_bytes);
	cr_assert_not_null(k, "%s: no class of %llu bytes", spec, (unsigned long long)class_bytes);
	if (exact)
		cr_expect_eq(k->live_objects, NOBJ, "%s: %llu live", spec,
			     (unsigned long long)k->live_objects);
	else	/* jemalloc counts regions parked in the thread cache too */
		cr_expect_geq(k->live_objects, NOBJ, "%s: %llu live", spec,
			      (unsigned long long)k->live_objects);
	cr_expect_geq(k->pages * 4096, k->capacity_objects * class_bytes, "%s", spec);
	for (int i = 0; i < NOBJ; i++)
		ops->free(a, p[i], size);
	if (exact) {
		n = ops->size_classes(a, c, MAXC);
		k = class_of(c, n, class_bytes);
		cr_expect(k && k->live_objects == 0, "%s: all freed", spec);
	}
	if (ops->thread_detach)
		ops->thread_detach(a);
	ops->destroy(a);
}

Test(size_classes, slab_kmalloc_caches)
{
	hold_and_check("slab", 96, 96, 1);
	hold_and_check("slab", 50, 64, 1);
}

Test(size_classes, jemalloc_bins)
{
	if (!mmb_alloc_find("jemalloc"))
		cr_skip_test("no jemalloc in this build");
	hold_and_check("jemalloc", 100, 112, 0);
}

Test(size_classes, mimalloc_own_heap)
{
	if (!mmb_alloc_find("mimalloc"))
		cr_skip_test("no mimalloc in this build");
	hold_and_check("mimalloc", 64, 64, 1);
}

struct mi_hold {
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc *a;
	pthread_barrier_t *bar;
};

static void *mi_holder(void *arg)
{
	struct mi_hold *h = arg;
	void *p;

	h->ops->thread_attach(h->a);
	p = h->ops->alloc(h->a, 64, 0);
	pthread_barrier_wait(h->bar);	/* the main thread asks now */
	pthread_barrier_wait(h->bar);
	h->ops->free(h->a, p, 64);
	h->ops->thread_detach(h->a);
	return NULL;
}

/* Another thread's heap cannot be walked from here: -EBUSY until it detaches. */
Test(size_classes, mimalloc_other_heap_busy)
{
	struct mi_hold h;
	pthread_barrier_t bar;
	pthread_t t;
	static struct mmb_size_class c[MAXC];
	const struct mmb_size_class *k;
	int n;

	if (!mmb_alloc_find("mimalloc"))
		cr_skip_test("no mimalloc in this build");
	h.a = mmb_test_alloc("mimalloc", 2, &h.ops);
	h.bar = &bar;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&t, NULL, mi_holder, &h);
	pthread_barrier_wait(&bar);
	cr_expect_eq(h.ops->size_classes(h.a, c, MAXC), -EBUSY);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	n = h.ops->size_classes(h.a, c, MAXC);
	expect_sane("mimalloc", c, n);
	k = class_of(c, n, 64);
	cr_expect(k && k->live_objects == 0 && k->capacity_objects > 0, "the heap it left");
	pthread_barrier_destroy(&bar);
	h.ops->destroy(h.a);
}

/* No size classes: glibc, buddy, vmalloc leave the op empty. */
Test(size_classes, allocators_without_classes)
{
	static const char *const none[] = { "glibc", "buddy", "vmalloc" };

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		cr_expect_null(mmb_alloc_find(none[i])->size_classes, "%s", none[i]);
}

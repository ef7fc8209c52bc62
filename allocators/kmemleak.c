/*
 * kmemleak.c — the leak detector (kmemleak.h).
 *
 * Data structures
 *   struct kml_object	one per tracked object: [ptr, ptr + size), min_count,
 *			count, flags, checksum, allocation time ("jiffies",
 *			ms since create), thread id and name, stack. Records
 *			come from mmap'ed chunks that the root sweep skips (a
 *			record holds its object's address), kept on a free list.
 *   hash		buckets of records keyed by ptr, chained through
 *			hnext (alloc and free are O(1)); doubled when the
 *			load passes 2.
 *   scan arrays	at each scan, the allocated records sorted by ptr
 *			(an interior pointer is found by binary search), the
 *			sorted ranges the sweep skips, and a copy of the maps.
 *			All are allocated before threads are stopped: a stopped
 *			thread may hold the malloc lock.
 *   gray list		records to scan, chained through gray_next.
 *
 * Invariants
 *   - objects never overlap; every record in the hash is ALLOCATED and
 *     nr_objects == records in the hash.
 *   - REPORTED objects are counted once in nr_leaks.
 *
 * Thread model: lock guards everything but the stop protocol; a scan holds
 * it from start to end (scan_lock keeps scans one at a time). Stopping: the
 * scanner sets kml_stopper, sends the signal to each registered thread and
 * waits until each has parked (saved its registers and stack pointer); it
 * wakes them by bumping resume_gen (a futex) and waits until they left the
 * handler. A thread blocked in a hook waits on lock, so it is not inside
 * the detector when it parks.
 */
#include "kmemleak.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "stacktrace.h"
#include "statefile.h"

#define OBJECT_ALLOCATED (1u << 0)
#define OBJECT_REPORTED (1u << 1)

#define KML_CHUNK_BYTES (1u << 20)
#define KML_READ_BYTES (64u << 10)	/* root sweep: bytes per process_vm_readv */
#define KML_HEX_MAX 32			/* HEX_MAX_LINES * HEX_ROW_SIZE */
#define KML_RED_ZONE 128		/* x86-64 ABI: below the stack pointer */
#define KML_STOP_TIMEOUT_NS 2000000000ull
#define KML_MAX_VALUES 8

struct kml_object {
	uintptr_t ptr;
	size_t size;
	int min_count, count;
	unsigned flags;
	uint32_t checksum;
	uint64_t jiffies;
	int pid, nr_trace;
	char comm[16];
	uintptr_t trace[MMB_STACK_DEPTH];
	struct kml_object *hnext, *gray_next;
};

struct kml_range {
	uintptr_t start, end;
};

struct kml_thread {
	pthread_t th;
	uintptr_t stack_lo, stack_hi;
	uintptr_t sp;
	greg_t regs[NGREG];
	atomic_int parked;
	int stopped;			/* parked in the current scan */
	struct kml_thread *next;
};

struct kml_vec {			/* a growable array of ranges */
	struct kml_range *v;
	size_t n, cap;
};

struct mmb_kmemleak {
	pthread_mutex_t lock, scan_lock;
	uint64_t t0_ns, min_age_ms, scan_ms;
	FILE *log;

	struct kml_object **hash;
	unsigned hash_bits;
	uint64_t nr_objects, nr_leaks, nr_scans, last_scan_ns;
	struct kml_object *free_records;
	struct kml_vec chunks, ignored, roots, retired;
	struct kml_thread *threads;
	unsigned nr_threads;
	uintptr_t values[KML_MAX_VALUES];	/* words that are no references */
	unsigned nr_values;

	/* scan state */
	struct kml_object **sorted;
	size_t nr_sorted, sorted_cap;
	uintptr_t min_addr, max_addr;
	uintptr_t self_hi;		/* top of the scanning thread's stack */
	struct kml_object *gray;
	struct kml_range *skip;
	size_t skip_cap;
	char *maps;
	size_t maps_cap;
	uint8_t *readbuf;
	_Atomic unsigned resume_gen;

	pthread_t scan_thread;
	int scan_thread_on, stopping;
	pthread_cond_t scan_cond;
};

static struct mmb_kmemleak *_Atomic kml_stopper;
static pthread_once_t kml_sig_once = PTHREAD_ONCE_INIT;
static int kml_sig_rc;
static __thread int kml_tid;
static __thread char kml_comm[16];

static uint64_t kml_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t kml_jiffies(const struct mmb_kmemleak *kml)
{
	return (kml_now_ns() - kml->t0_ns) / 1000000ull;
}

static int kml_sig(void)
{
	return SIGRTMIN + 6;
}

static int vec_add(struct kml_vec *vec, uintptr_t start, uintptr_t end)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 16;
		struct kml_range *v = realloc(vec->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		vec->v = v;
		vec->cap = cap;
	}
	vec->v[vec->n++] = (struct kml_range){ start, end };
	return 0;
}

static void vec_del(struct kml_vec *vec, uintptr_t start)
{
	for (size_t i = 0; i < vec->n; i++)
		if (vec->v[i].start == start) {
			vec->v[i] = vec->v[--vec->n];
			return;
		}
}

/* ---- records and the hash ---- */

static inline size_t kml_hash(const struct mmb_kmemleak *kml, uintptr_t ptr)
{
	return (size_t)(((uint64_t)ptr * 0x9e3779b97f4a7c15ull) >> (64 - kml->hash_bits));
}

static struct kml_object *kml_record_get(struct mmb_kmemleak *kml)
{
	struct kml_object *o = kml->free_records;

	if (!o) {
		char *c = mmap(NULL, KML_CHUNK_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (c == MAP_FAILED)
			return NULL;
		if (vec_add(&kml->chunks, (uintptr_t)c, (uintptr_t)c + KML_CHUNK_BYTES)) {
			munmap(c, KML_CHUNK_BYTES);
			return NULL;
		}
		for (size_t off = 0; off + sizeof(*o) <= KML_CHUNK_BYTES; off += sizeof(*o)) {
			o = (struct kml_object *)(c + off);
			o->hnext = kml->free_records;
			kml->free_records = o;
		}
		o = kml->free_records;
	}
	kml->free_records = o->hnext;
	return o;
}

static void kml_grow_hash(struct mmb_kmemleak *kml)
{
	unsigned bits = kml->hash_bits + 1;
	struct kml_object **h = calloc((size_t)1 << bits, sizeof(*h));
	size_t old = (size_t)1 << kml->hash_bits;
	struct kml_object **oh = kml->hash;

	if (!h)
		return;		/* longer chains, still correct */
	kml->hash = h;
	kml->hash_bits = bits;
	for (size_t i = 0; i < old; i++)
		for (struct kml_object *o = oh[i], *n; o; o = n) {
			size_t b = kml_hash(kml, o->ptr);

			n = o->hnext;
			o->hnext = h[b];
			h[b] = o;
		}
	free(oh);
}

static struct kml_object **kml_find(struct mmb_kmemleak *kml, uintptr_t ptr)
{
	struct kml_object **pp = &kml->hash[kml_hash(kml, ptr)];

	while (*pp && (*pp)->ptr != ptr)
		pp = &(*pp)->hnext;
	return pp;
}

static void kml_thread_ids(void)
{
	if (!kml_tid) {
		kml_tid = (int)syscall(SYS_gettid);
		prctl(PR_GET_NAME, kml_comm, 0, 0, 0);
	}
}

void mmb_kmemleak_alloc(struct mmb_kmemleak *kml, const void *ptr, size_t size, int min_count)
{
	uintptr_t trace[MMB_STACK_DEPTH];
	int n = mmb_stack_save(trace, MMB_STACK_DEPTH, 1);
	struct kml_object *o;

	kml_thread_ids();
	pthread_mutex_lock(&kml->lock);
	o = kml_record_get(kml);
	if (o) {
		size_t b = kml_hash(kml, (uintptr_t)ptr);

		o->ptr = (uintptr_t)ptr;
		o->size = size ? size : 1;
		o->min_count = min_count;
		o->count = 0;
		o->flags = OBJECT_ALLOCATED;
		o->checksum = 0;
		o->jiffies = kml_jiffies(kml);
		o->pid = kml_tid;
		memcpy(o->comm, kml_comm, sizeof(o->comm));
		o->nr_trace = n;
		memcpy(o->trace, trace, (size_t)n * sizeof(trace[0]));
		o->gray_next = NULL;
		o->hnext = kml->hash[b];
		kml->hash[b] = o;
		if (++kml->nr_objects > (2ull << kml->hash_bits))
			kml_grow_hash(kml);
	}
	pthread_mutex_unlock(&kml->lock);
}

void mmb_kmemleak_free(struct mmb_kmemleak *kml, const void *ptr)
{
	struct kml_object **pp, *o;

	pthread_mutex_lock(&kml->lock);
	pp = kml_find(kml, (uintptr_t)ptr);
	o = *pp;
	if (o) {
		*pp = o->hnext;
		o->flags = 0;
		o->hnext = kml->free_records;
		kml->free_records = o;
		kml->nr_objects--;
	}
	pthread_mutex_unlock(&kml->lock);
}

static void kml_set_min_count(struct mmb_kmemleak *kml, const void *ptr, int min_count)
{
	struct kml_object *o;

	pthread_mutex_lock(&kml->lock);
	o = *kml_find(kml, (uintptr_t)ptr);
	if (o)
		o->min_count = min_count;
	pthread_mutex_unlock(&kml->lock);
}

void mmb_kmemleak_not_leak(struct mmb_kmemleak *kml, const void *ptr)
{
	kml_set_min_count(kml, ptr, 0);
}

void mmb_kmemleak_ignore(struct mmb_kmemleak *kml, const void *ptr)
{
	kml_set_min_count(kml, ptr, -1);
}

static int kml_vec_add_locked(struct mmb_kmemleak *kml, struct kml_vec *vec, const void *start,
			      size_t len)
{
	int rc;

	pthread_mutex_lock(&kml->lock);
	rc = vec_add(vec, (uintptr_t)start, (uintptr_t)start + len);
	pthread_mutex_unlock(&kml->lock);
	return rc;
}

static void kml_vec_del_locked(struct mmb_kmemleak *kml, struct kml_vec *vec, const void *start)
{
	pthread_mutex_lock(&kml->lock);
	vec_del(vec, (uintptr_t)start);
	pthread_mutex_unlock(&kml->lock);
}

int mmb_kmemleak_register_root(struct mmb_kmemleak *kml, const void *start, size_t len)
{
	return kml_vec_add_locked(kml, &kml->roots, start, len);
}

void mmb_kmemleak_unregister_root(struct mmb_kmemleak *kml, const void *start)
{
	kml_vec_del_locked(kml, &kml->roots, start);
}

int mmb_kmemleak_ignore_range(struct mmb_kmemleak *kml, const void *start, size_t len)
{
	return kml_vec_add_locked(kml, &kml->ignored, start, len);
}

void mmb_kmemleak_unignore_range(struct mmb_kmemleak *kml, const void *start)
{
	kml_vec_del_locked(kml, &kml->ignored, start);
}

int mmb_kmemleak_ignore_value(struct mmb_kmemleak *kml, const void *value)
{
	int rc = -ENOSPC;

	pthread_mutex_lock(&kml->lock);
	if (kml->nr_values < KML_MAX_VALUES) {
		kml->values[kml->nr_values++] = (uintptr_t)value;
		rc = 0;
	}
	pthread_mutex_unlock(&kml->lock);
	return rc;
}

/* ---- threads ---- */

static void kml_on_stop(int sig, siginfo_t *si, void *uctx)
{
	struct mmb_kmemleak *kml = atomic_load(&kml_stopper);
	const ucontext_t *uc = uctx;
	struct kml_thread *t;
	unsigned gen;

	(void)sig;
	(void)si;
	if (!kml)
		return;
	for (t = kml->threads; t && !pthread_equal(t->th, pthread_self()); t = t->next)
		;
	if (!t)
		return;
	memcpy(t->regs, uc->uc_mcontext.gregs, sizeof(t->regs));
	t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	gen = atomic_load(&kml->resume_gen);
	atomic_store(&t->parked, 1);
	while (atomic_load(&kml->resume_gen) == gen)
		syscall(SYS_futex, &kml->resume_gen, FUTEX_WAIT_PRIVATE, gen, NULL, NULL, 0);
	atomic_store(&t->parked, 0);
}

static void kml_sig_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = kml_on_stop;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	kml_sig_rc = sigaction(kml_sig(), &sa, NULL) ? -errno : 0;
}

static int kml_stack_bounds(uintptr_t *r_lo, uintptr_t *r_hi)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;
	int rc = pthread_getattr_np(pthread_self(), &attr);

	if (rc)
		return -rc;
	rc = pthread_attr_getstack(&attr, &addr, &size);
	pthread_attr_destroy(&attr);
	if (rc)
		return -rc;
	*r_lo = (uintptr_t)addr;
	*r_hi = (uintptr_t)addr + size;
	return 0;
}

int mmb_kmemleak_thread_register(struct mmb_kmemleak *kml)
{
	struct kml_thread *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	t->th = pthread_self();
	rc = kml_stack_bounds(&t->stack_lo, &t->stack_hi);
	if (rc) {
		free(t);
		return rc;
	}
	pthread_mutex_lock(&kml->lock);
	vec_del(&kml->retired, t->stack_lo);
	t->next = kml->threads;
	kml->threads = t;
	kml->nr_threads++;
	pthread_mutex_unlock(&kml->lock);
	return 0;
}

void mmb_kmemleak_thread_unregister(struct mmb_kmemleak *kml)
{
	struct kml_thread **pp, *t;

	pthread_mutex_lock(&kml->lock);
	for (pp = &kml->threads; *pp && !pthread_equal((*pp)->th, pthread_self()); pp = &(*pp)->next)
		;
	t = *pp;
	if (t) {
		*pp = t->next;
		kml->nr_threads--;
		vec_del(&kml->retired, t->stack_lo);
		vec_add(&kml->retired, t->stack_lo, t->stack_hi);	/* best effort */
	}
	pthread_mutex_unlock(&kml->lock);
	if (t)
		memset(t->regs, 0, sizeof(t->regs));
	free(t);
}

unsigned mmb_kmemleak_nr_threads(struct mmb_kmemleak *kml)
{
	unsigned n;

	pthread_mutex_lock(&kml->lock);
	n = kml->nr_threads;
	pthread_mutex_unlock(&kml->lock);
	return n;
}

/* Stop every registered thread but the caller; returns how many parked. */
static void kml_stop_world(struct mmb_kmemleak *kml)
{
	uint64_t deadline = kml_now_ns() + KML_STOP_TIMEOUT_NS;

	atomic_store(&kml_stopper, kml);
	for (struct kml_thread *t = kml->threads; t; t = t->next) {
		t->stopped = 0;
		if (!pthread_equal(t->th, pthread_self()) && !kml_sig_rc)
			t->stopped = !pthread_kill(t->th, kml_sig());
	}
	for (struct kml_thread *t = kml->threads; t; t = t->next)
		while (t->stopped && !atomic_load(&t->parked)) {
			if (kml_now_ns() > deadline) {
				t->stopped = 0;	/* scanned without its registers */
				break;
			}
			sched_yield();
		}
}

static void kml_start_world(struct mmb_kmemleak *kml)
{
	atomic_fetch_add(&kml->resume_gen, 1);
	syscall(SYS_futex, &kml->resume_gen, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
	for (struct kml_thread *t = kml->threads; t; t = t->next)
		while (atomic_load(&t->parked))
			sched_yield();
	atomic_store(&kml_stopper, NULL);
}

/* ---- scanning ---- */

/* The tracked object containing v, or NULL. */
static struct kml_object *kml_lookup(const struct mmb_kmemleak *kml, uintptr_t v)
{
	size_t lo = 0, hi = kml->nr_sorted;

	if (v < kml->min_addr || v >= kml->max_addr)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (kml->sorted[mid]->ptr <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	return v < kml->sorted[lo - 1]->ptr + kml->sorted[lo - 1]->size ? kml->sorted[lo - 1] : NULL;
}

static int kml_ignored_value(const struct mmb_kmemleak *kml, uintptr_t v)
{
	for (unsigned i = 0; i < kml->nr_values; i++)
		if (kml->values[i] == v)
			return 1;
	return 0;
}

static inline int kml_gray(const struct kml_object *o)
{
	return o->min_count != -1 && o->count >= o->min_count;
}

/* scan_block: every aligned word of [start, end) that points into an object. */
static void kml_scan_words(struct mmb_kmemleak *kml, const uintptr_t *w, const uintptr_t *end,
			   const struct kml_object *self)
{
	for (; w < end; w++) {
		struct kml_object *o = kml_lookup(kml, *w);

		if (!o || o == self || o->min_count == -1 || kml_gray(o) ||
		    kml_ignored_value(kml, *w))
			continue;
		if (++o->count >= o->min_count) {
			o->gray_next = kml->gray;
			kml->gray = o;
		}
	}
}

/* A root range read through process_vm_readv, so that a page unmapped by a
 * thread still running (or never readable) is skipped, not a fault. */
static void kml_scan_root(struct mmb_kmemleak *kml, uintptr_t start, uintptr_t end)
{
	start = (start + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
	end &= ~(uintptr_t)(sizeof(uintptr_t) - 1);
	while (start < end) {
		size_t len = end - start < KML_READ_BYTES ? end - start : KML_READ_BYTES;
		struct iovec local = { kml->readbuf, len }, remote = { (void *)start, len };
		ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

		if (got <= 0) {		/* skip to the next page */
			start = (start | 4095) + 1;
			continue;
		}
		kml_scan_words(kml, (const uintptr_t *)kml->readbuf,
			       (const uintptr_t *)(kml->readbuf + (got & ~(ssize_t)7)), NULL);
		start += (size_t)got;
	}
}

static int kml_range_cmp(const void *a, const void *b)
{
	const struct kml_range *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

static uintptr_t kml_hex(const char **s)
{
	uintptr_t v = 0;

	for (;; (*s)++) {
		char c = **s;

		if (c >= '0' && c <= '9')
			v = v * 16 + (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uintptr_t)(c - 'a' + 10);
		else
			return v;
	}
}

/*
 * Read /proc/self/maps with plain syscalls (no malloc: threads are
 * stopped); the buffer grows with mremap (text only: never skipped).
 */
static ssize_t kml_read_maps(struct mmb_kmemleak *kml)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t used = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (used == kml->maps_cap - 1) {
			void *m = mremap(kml->maps, kml->maps_cap, kml->maps_cap * 2, MREMAP_MAYMOVE);

			if (m == MAP_FAILED)
				break;	/* the rest is not swept */
			kml->maps = m;
			kml->maps_cap *= 2;
		}
		n = read(fd, kml->maps + used, kml->maps_cap - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	kml->maps[used] = '\0';
	return (ssize_t)used;
}

/* The sweep of private writable mappings, minus the skipped ranges. */
static void kml_scan_maps(struct mmb_kmemleak *kml, size_t nskip)
{
	const char *s = kml->maps;

	while (*s) {
		uintptr_t start = kml_hex(&s), end;
		const char *perm;

		s++;
		end = kml_hex(&s);
		perm = s + 1;
		while (*s && *s != '\n')
			s++;
		if (*s)
			s++;
		if (perm[0] != 'r' || perm[1] != 'w' || perm[3] != 'p')
			continue;
#ifdef __SANITIZE_ADDRESS__
		if (start >= 0x7fff8000ul && end <= 0x10007fff8000ul)
			continue;	/* AddressSanitizer's shadow */
#endif
		for (size_t i = 0; i < nskip && start < end; i++) {
			const struct kml_range *k = &kml->skip[i];

			if (k->end <= start)
				continue;
			if (k->start >= end)
				break;
			if (k->start > start)
				kml_scan_root(kml, start, k->start);
			start = k->end;
		}
		if (start < end)
			kml_scan_root(kml, start, end);
	}
}

static void kml_scan_gray(struct mmb_kmemleak *kml)
{
	while (kml->gray) {
		struct kml_object *o = kml->gray;

		kml->gray = o->gray_next;
		o->gray_next = NULL;
		if (o->min_count == -1)
			continue;
		kml_scan_words(kml, (const uintptr_t *)((o->ptr + 7) & ~(uintptr_t)7),
			       (const uintptr_t *)((o->ptr + o->size) & ~(uintptr_t)7), o);
	}
}

/* crc32 is the kernel's; any hash of the contents does the job here. */
static uint32_t kml_checksum(const struct kml_object *o)
{
	const uint8_t *p = (const uint8_t *)o->ptr;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < o->size; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32));
}

static int kml_obj_cmp(const void *a, const void *b)
{
	const struct kml_object *x = *(struct kml_object *const *)a;
	const struct kml_object *y = *(struct kml_object *const *)b;

	return (x->ptr > y->ptr) - (x->ptr < y->ptr);
}

/* Everything that mallocs, before the world stops. 0 or -ENOMEM. */
static int kml_scan_prepare(struct mmb_kmemleak *kml, size_t *r_nskip)
{
	size_t need = kml->nr_objects, n = 0, nskip;
	uintptr_t lo, hi;

	if (need > kml->sorted_cap) {
		struct kml_object **s = realloc(kml->sorted, need * 2 * sizeof(*s));

		if (!s)
			return -ENOMEM;
		kml->sorted = s;
		kml->sorted_cap = need * 2;
	}
	for (size_t b = 0; b < ((size_t)1 << kml->hash_bits); b++)
		for (struct kml_object *o = kml->hash[b]; o; o = o->hnext)
			kml->sorted[n++] = o;
	kml->nr_sorted = n;
	if (n > 1)
		qsort(kml->sorted, n, sizeof(*kml->sorted), kml_obj_cmp);
	kml->min_addr = n ? kml->sorted[0]->ptr : 0;
	kml->max_addr = n ? kml->sorted[n - 1]->ptr + kml->sorted[n - 1]->size : 0;

	if (!kml->maps) {
		kml->maps_cap = 1 << 20;
		kml->maps = mmap(NULL, kml->maps_cap, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		/* mmap'ed, so that the sweep can leave out the copies it holds */
		kml->readbuf = mmap(NULL, KML_READ_BYTES, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (kml->maps == MAP_FAILED || kml->readbuf == MAP_FAILED) {
			if (kml->maps != MAP_FAILED)
				munmap(kml->maps, kml->maps_cap);
			if (kml->readbuf != MAP_FAILED)
				munmap(kml->readbuf, KML_READ_BYTES);
			kml->maps = NULL;
			return -ENOMEM;
		}
	}
	nskip = kml->chunks.n + kml->ignored.n + kml->retired.n + kml->nr_threads + 3;
	if (nskip > kml->skip_cap) {
		struct kml_range *k = realloc(kml->skip, nskip * 2 * sizeof(*k));

		if (!k)
			return -ENOMEM;
		kml->skip = k;
		kml->skip_cap = nskip * 2;
	}
	n = 0;
	for (size_t i = 0; i < kml->chunks.n; i++)
		kml->skip[n++] = kml->chunks.v[i];
	for (size_t i = 0; i < kml->ignored.n; i++)
		kml->skip[n++] = kml->ignored.v[i];
	for (size_t i = 0; i < kml->retired.n; i++)
		kml->skip[n++] = kml->retired.v[i];
	for (struct kml_thread *t = kml->threads; t; t = t->next)
		kml->skip[n++] = (struct kml_range){ t->stack_lo, t->stack_hi };
	kml->self_hi = 0;
	if (!kml_stack_bounds(&lo, &hi)) {
		kml->skip[n++] = (struct kml_range){ lo, hi };
		kml->self_hi = hi;
	}
	kml->skip[n++] = (struct kml_range){ (uintptr_t)kml->readbuf,
					     (uintptr_t)kml->readbuf + KML_READ_BYTES };
	/* this structure holds min_addr, max_addr and ignored values */
	kml->skip[n++] = (struct kml_range){ (uintptr_t)kml, (uintptr_t)(kml + 1) };
	qsort(kml->skip, n, sizeof(*kml->skip), kml_range_cmp);
	*r_nskip = n;
	return 0;
}

int mmb_kml_scan_entry(struct mmb_kmemleak *kml, unsigned flags, const uintptr_t *frame);

/* Called by mmb_kmemleak_scan with frame = its saved registers (below);
 * `used` because only that top-level asm calls it, which link-time
 * optimization (the malloc shim's build) cannot see. */
__attribute__((used, noinline)) int mmb_kml_scan_entry(struct mmb_kmemleak *kml, unsigned flags, const uintptr_t *frame)
{
	int quiescent = !!(flags & MMB_KMEMLEAK_QUIESCENT);
	uint64_t t0 = kml_now_ns(), now;
	size_t nskip;
	ssize_t maps;
	int new = 0, rc;

	pthread_mutex_lock(&kml->scan_lock);
	pthread_mutex_lock(&kml->lock);
	rc = kml_scan_prepare(kml, &nskip);
	if (rc)
		goto out;
	kml_stop_world(kml);
	maps = kml_read_maps(kml);
	now = kml_jiffies(kml);
	kml->gray = NULL;
	for (size_t i = 0; i < kml->nr_sorted; i++) {
		struct kml_object *o = kml->sorted[i];

		o->count = 0;
		o->gray_next = NULL;
		if (o->min_count == 0) {
			o->gray_next = kml->gray;
			kml->gray = o;
		}
	}
	/* roots: the sweep, registered roots, registered threads, this thread */
	if (maps >= 0)
		kml_scan_maps(kml, nskip);
	for (size_t i = 0; i < kml->roots.n; i++)
		kml_scan_root(kml, kml->roots.v[i].start, kml->roots.v[i].end);
	for (struct kml_thread *t = kml->threads; t; t = t->next) {
		if (pthread_equal(t->th, pthread_self()))
			continue;
		if (t->stopped) {
			kml_scan_words(kml, (const uintptr_t *)t->regs,
				       (const uintptr_t *)(t->regs + NGREG), NULL);
			kml_scan_root(kml, t->sp - KML_RED_ZONE, t->stack_hi);
		} else {
			kml_scan_root(kml, t->stack_lo, t->stack_hi);
		}
	}
	if (kml->self_hi)	/* the caller's registers, then its frames */
		kml_scan_root(kml, (uintptr_t)frame, kml->self_hi);
	for (struct kml_thread *t = kml->threads; t; t = t->next)
		memset(t->regs, 0, sizeof(t->regs));	/* stale words would hide leaks */
	kml_scan_gray(kml);
	/* second chance: white objects whose contents changed since the last scan */
	if (!quiescent) {
		for (size_t i = 0; i < kml->nr_sorted; i++) {
			struct kml_object *o = kml->sorted[i];
			uint32_t sum;

			if (o->min_count == -1 || kml_gray(o))
				continue;
			sum = kml_checksum(o);
			if (sum != o->checksum) {
				o->checksum = sum;
				o->count = o->min_count;
				o->gray_next = kml->gray;
				kml->gray = o;
			}
		}
		kml_scan_gray(kml);
	}
	kml_start_world(kml);
	if (maps < 0) {
		rc = (int)maps;
		goto out;
	}
	for (size_t i = 0; i < kml->nr_sorted; i++) {
		struct kml_object *o = kml->sorted[i];

		if (o->min_count == -1 || kml_gray(o) || (o->flags & OBJECT_REPORTED))
			continue;
		if (!quiescent && o->jiffies + kml->min_age_ms > now)
			continue;
		o->flags |= OBJECT_REPORTED;
		kml->nr_leaks++;
		new++;
	}
	kml->nr_scans++;
	kml->last_scan_ns = kml_now_ns() - t0;
	if (new && kml->log) {
		fprintf(kml->log, "kmemleak: %d new suspected memory leaks (see kmemleak.txt)\n", new);
		fflush(kml->log);
	}
out:
	pthread_mutex_unlock(&kml->lock);
	pthread_mutex_unlock(&kml->scan_lock);
	return rc ? rc : new;
}

/*
 * mmb_kmemleak_scan (x86-64): push the callee-saved registers, the only
 * ones that hold the caller's values at a call, plus one zeroed word for
 * alignment, and pass their address on. The scanning thread's roots are then
 * exactly [that address, top of stack): its registers and its callers'
 * frames, none of the stale words a C frame's padding could hold.
 */
__asm__(".text\n"
	".globl mmb_kmemleak_scan\n"
	".type mmb_kmemleak_scan, @function\n"
	"mmb_kmemleak_scan:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	push $0\n"
	"	mov %rsp, %rdx\n"
	"	call mmb_kml_scan_entry@PLT\n"
	"	add $8, %rsp\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"
	".size mmb_kmemleak_scan, .-mmb_kmemleak_scan\n");

/* ---- reports ---- */

static void kml_print_object(struct mmb_kmemleak *kml, const struct kml_object *o, uint64_t now,
			     FILE *f)
{
	const uint8_t *p = (const uint8_t *)o->ptr;
	size_t len = o->size < KML_HEX_MAX ? o->size : KML_HEX_MAX;
	uint64_t age = now - o->jiffies;

	(void)kml;
	fprintf(f, "unreferenced object 0x%016lx (size %zu):\n", (unsigned long)o->ptr, o->size);
	fprintf(f, "  comm \"%s\", pid %d, jiffies %llu (age %llu.%03llus)\n", o->comm, o->pid,
		(unsigned long long)o->jiffies, (unsigned long long)(age / 1000),
		(unsigned long long)(age % 1000));
	fprintf(f, "  hex dump (first %zu bytes):\n", len);
	for (size_t row = 0; row < len; row += 16) {
		size_t n = len - row < 16 ? len - row : 16;

		fputs("   ", f);
		for (size_t i = 0; i < 16; i++) {
			if (i < n)
				fprintf(f, " %02x", p[row + i]);
			else
				fputs("   ", f);
		}
		fputs("  ", f);
		for (size_t i = 0; i < n; i++)
			fputc(p[row + i] >= 0x20 && p[row + i] < 0x7f ? p[row + i] : '.', f);
		fputc('\n', f);
	}
	fprintf(f, "  backtrace (crc %x):\n", o->checksum);
	for (int i = 0; i < o->nr_trace; i++) {
		char sym[256];

		mmb_stack_symbolize(o->trace[i], sym, sizeof(sym));
		fprintf(f, "    [<%016lx>] %s\n", (unsigned long)o->trace[i], sym);
	}
}

int mmb_kmemleak_write(struct mmb_kmemleak *kml, FILE *f)
{
	uint64_t now;

	mmb_stack_symbols_load();
	pthread_mutex_lock(&kml->lock);
	now = kml_jiffies(kml);
	/* in address order, as the sorted array of the last scan */
	for (size_t b = 0; b < ((size_t)1 << kml->hash_bits); b++)
		for (struct kml_object *o = kml->hash[b]; o; o = o->hnext)
			if (o->flags & OBJECT_REPORTED)
				kml_print_object(kml, o, now, f);
	pthread_mutex_unlock(&kml->lock);
	return ferror(f) ? -EIO : 0;
}

static int kml_write_file(FILE *f, void *kml)
{
	return mmb_kmemleak_write(kml, f);
}

int mmb_kmemleak_write_file(struct mmb_kmemleak *kml, const char *dir)
{
	return mmb_state_write(dir, "kmemleak.txt", kml_write_file, kml);
}

uint64_t mmb_kmemleak_leaks(struct mmb_kmemleak *kml)
{
	struct mmb_kmemleak_counts c;

	if (!mmb_kmemleak_nr_threads(kml))
		mmb_kmemleak_scan(kml, MMB_KMEMLEAK_QUIESCENT);
	mmb_kmemleak_counts(kml, &c);
	return c.leaks;
}

void mmb_kmemleak_counts(struct mmb_kmemleak *kml, struct mmb_kmemleak_counts *r_c)
{
	pthread_mutex_lock(&kml->lock);
	r_c->objects = kml->nr_objects;
	r_c->leaks = kml->nr_leaks;
	r_c->scans = kml->nr_scans;
	r_c->last_scan_ns = kml->last_scan_ns;
	pthread_mutex_unlock(&kml->lock);
}

/* ---- instance ---- */

static void *kml_scan_main(void *arg)
{
	struct mmb_kmemleak *kml = arg;

	pthread_mutex_lock(&kml->lock);
	while (!kml->stopping) {
		struct timespec ts;
		uint64_t at;

		clock_gettime(CLOCK_REALTIME, &ts);
		at = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
		     kml->scan_ms * 1000000ull;
		ts.tv_sec = (time_t)(at / 1000000000ull);
		ts.tv_nsec = (long)(at % 1000000000ull);
		if (pthread_cond_timedwait(&kml->scan_cond, &kml->lock, &ts) == ETIMEDOUT &&
		    !kml->stopping) {
			pthread_mutex_unlock(&kml->lock);
			mmb_kmemleak_scan(kml, 0);
			pthread_mutex_lock(&kml->lock);
		}
	}
	pthread_mutex_unlock(&kml->lock);
	return NULL;
}

int mmb_kmemleak_create(const struct mmb_kmemleak_cfg *cfg, struct mmb_kmemleak **r_kml,
			char *err, size_t errlen)
{
	struct mmb_kmemleak *kml = calloc(1, sizeof(*kml));

	if (!kml) {
		snprintf(err, errlen, "kmemleak: out of memory");
		return -ENOMEM;
	}
	pthread_once(&kml_sig_once, kml_sig_install);
	if (kml_sig_rc) {
		snprintf(err, errlen, "kmemleak: sigaction(SIGRTMIN + 6): %s", strerror(-kml_sig_rc));
		free(kml);
		return kml_sig_rc;
	}
	kml->hash_bits = 12;
	kml->hash = calloc((size_t)1 << kml->hash_bits, sizeof(*kml->hash));
	if (!kml->hash) {
		snprintf(err, errlen, "kmemleak: out of memory");
		free(kml);
		return -ENOMEM;
	}
	kml->t0_ns = kml_now_ns();
	kml->min_age_ms = cfg->min_age_ms;
	kml->scan_ms = cfg->scan_ms;
	kml->log = cfg->log;
	pthread_mutex_init(&kml->lock, NULL);
	pthread_mutex_init(&kml->scan_lock, NULL);
	pthread_cond_init(&kml->scan_cond, NULL);
	mmb_stack_symbols_load();
	if (kml->scan_ms) {
		int rc = pthread_create(&kml->scan_thread, NULL, kml_scan_main, kml);

		if (rc) {
			snprintf(err, errlen, "kmemleak: scan thread: %s", strerror(rc));
			mmb_kmemleak_destroy(kml);
			return -rc;
		}
		kml->scan_thread_on = 1;
	}
	*r_kml = kml;
	return 0;
}

void mmb_kmemleak_destroy(struct mmb_kmemleak *kml)
{
	if (kml->scan_thread_on) {
		pthread_mutex_lock(&kml->lock);
		kml->stopping = 1;
		pthread_cond_signal(&kml->scan_cond);
		pthread_mutex_unlock(&kml->lock);
		pthread_join(kml->scan_thread, NULL);
	}
	for (size_t i = 0; i < kml->chunks.n; i++)
		munmap((void *)kml->chunks.v[i].start, KML_CHUNK_BYTES);
	while (kml->threads) {
		struct kml_thread *t = kml->threads;

		kml->threads = t->next;
		free(t);
	}
	free(kml->chunks.v);
	free(kml->ignored.v);
	free(kml->roots.v);
	free(kml->retired.v);
	free(kml->hash);
	free(kml->sorted);
	free(kml->skip);
	if (kml->maps) {
		munmap(kml->maps, kml->maps_cap);
		munmap(kml->readbuf, KML_READ_BYTES);
	}
	pthread_mutex_destroy(&kml->lock);
	pthread_mutex_destroy(&kml->scan_lock);
	pthread_cond_destroy(&kml->scan_cond);
	free(kml);
}

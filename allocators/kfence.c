/*
 * kfence.c — the sampling guard-page detector (kfence.h).
 *
 * Data structure: one private anonymous mapping holds
 *	[pool: 2 * (nr + 1) pages][struct kf_meta x nr][report log]
 * The pool starts PROT_NONE; an object's page is made read-write while the
 * object is allocated. kf_meta is the kernel's kfence_metadata: state,
 * address, size, cache name, allocation and free tracks (thread, time,
 * stack), the page a fault unprotected. The free list is a FIFO ring of
 * object indices (freed objects queue at the tail). The report log keeps
 * every report's text for mmb_kfence_write; it lives in the mapping so that
 * the fault handler never allocates.
 *
 * Invariants: an object is UNUSED or FREED iff its index is in the ring;
 * ALLOCATED objects' pages are read-write, all other pool pages PROT_NONE
 * except pages a fault unprotected (meta->unprotected_page, protected
 * again when that object is freed or reused); allocated == allocs - frees.
 *
 * Thread model: lock guards the ring, the metadata and the log; the fault
 * handler takes it too (a fault never happens while this code holds it).
 * Sampling uses a per-thread countdown, so the hot path takes no lock.
 */
#include "kfence.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "stacktrace.h"

#define KF_PAGE 4096ul
#define KF_LOG_BYTES (256ul << 10)
#define KF_MAX_POOLS 16
#define KF_REPORT_MAX 6144
#define KF_CANARY(addr) ((uint8_t)(0xaa ^ ((uintptr_t)(addr) & 7)))
/* the canary of an 8-byte aligned word: bytes 0xaa ^ 0 .. 0xaa ^ 7 */
#define KF_CANARY_WORD 0xadacafaea9a8abaaull

enum kf_state { KF_UNUSED, KF_ALLOCATED, KF_FREED };

struct kf_track {
	int pid;
	int nr;
	uint64_t ts_ns;
	uintptr_t trace[MMB_STACK_DEPTH];
};

struct kf_meta {
	enum kf_state state;
	uintptr_t addr;
	size_t size;
	char cache[32];
	struct kf_track alloc, free;
	uintptr_t unprotected_page;
};

struct mmb_kfence {
	uintptr_t pool;			/* first page of the pool */
	size_t pool_bytes, map_bytes;
	unsigned nr, sample;
	struct kf_meta *meta;
	unsigned *ring;			/* free list: FIFO of indices */
	unsigned ring_head, ring_len;
	char *log;
	size_t log_len;
	FILE *report;
	pthread_mutex_t lock;
	uint64_t allocs, frees, bugs, skipped_incompatible, skipped_capacity, edge;
};

static struct mmb_kfence *_Atomic kf_pools[KF_MAX_POOLS];
static struct sigaction kf_old_segv;
static pthread_once_t kf_sig_once = PTHREAD_ONCE_INIT;
static int kf_sig_rc;
static __thread struct {		/* sampling countdown of one instance */
	const struct mmb_kfence *kf;
	unsigned left;
} kf_tls;

static uint64_t kf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uintptr_t kf_obj_page(const struct mmb_kfence *kf, unsigned i)
{
	return kf->pool + (uintptr_t)(i + 1) * 2 * KF_PAGE;
}

int mmb_kfence_owns(const struct mmb_kfence *kf, const void *p)
{
	return (uintptr_t)p - kf->pool < kf->pool_bytes;
}

void mmb_kfence_range(const struct mmb_kfence *kf, const void **r_start, size_t *r_len)
{
	*r_start = (const void *)kf->pool;
	*r_len = kf->map_bytes;
}

/* Leading frames inside the allocators (the kernel's get_stack_skipnr). */
static int kf_skip_internal(uintptr_t *trace, int nr)
{
	static const char *const internal[] = { "slab_", "mmb_kfence", "mmb_kfree",
						"mmb_kmem_cache_free", "mmb_kmalloc",
						"mmb_kmem_cache_alloc" };
	int skip = 0;

	for (; skip < nr - 1; skip++) {
		const char *sym = mmb_stack_name(trace[skip]);
		int in = 0;

		for (size_t i = 0; sym && i < sizeof(internal) / sizeof(internal[0]) && !in; i++)
			in = !strncmp(sym, internal[i], strlen(internal[i]));
		if (!in)
			break;
	}
	memmove(trace, trace + skip, (size_t)(nr - skip) * sizeof(*trace));
	return nr - skip;
}

static void kf_track(struct kf_track *t, int skip)
{
	t->pid = (int)syscall(SYS_gettid);
	t->ts_ns = kf_now_ns();
	t->nr = kf_skip_internal(t->trace, mmb_stack_save(t->trace, MMB_STACK_DEPTH, skip + 1));
}

/* ---- reports: formatted into the log, then written to the report stream ---- */

struct kf_buf {
	char *p;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3)))
static void kf_printf(struct kf_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len = b->len + (size_t)n < b->cap ? b->len + (size_t)n : b->cap;
}

static void kf_print_stack(struct kf_buf *b, const uintptr_t *trace, int nr)
{
	for (int i = 0; i < nr; i++) {
		char sym[160];

		mmb_stack_symbolize(trace[i], sym, sizeof(sym));
		kf_printf(b, " %s\n", sym);
	}
}

static void kf_print_object(struct kf_buf *b, const struct mmb_kfence *kf, const struct kf_meta *m)
{
	unsigned idx = (unsigned)(m - kf->meta);
	uint64_t now = kf_now_ns();

	kf_printf(b, "kfence-#%u [0x%016lx-0x%016lx, size=%zu, cache=%s] allocated by task %d "
		  "at %llu.%06llus (%llu.%06llus ago):\n", idx, (unsigned long)m->addr,
		  (unsigned long)(m->addr + m->size - 1), m->size, m->cache, m->alloc.pid,
		  (unsigned long long)(m->alloc.ts_ns / 1000000000ull),
		  (unsigned long long)(m->alloc.ts_ns / 1000 % 1000000),
		  (unsigned long long)((now - m->alloc.ts_ns) / 1000000000ull),
		  (unsigned long long)((now - m->alloc.ts_ns) / 1000 % 1000000));
	kf_print_stack(b, m->alloc.trace, m->alloc.nr);
	if (m->state == KF_FREED) {
		kf_printf(b, "\nfreed by task %d at %llu.%06llus (%llu.%06llus ago):\n", m->free.pid,
			  (unsigned long long)(m->free.ts_ns / 1000000000ull),
			  (unsigned long long)(m->free.ts_ns / 1000 % 1000000),
			  (unsigned long long)((now - m->free.ts_ns) / 1000000000ull),
			  (unsigned long long)((now - m->free.ts_ns) / 1000 % 1000000));
		kf_print_stack(b, m->free.trace, m->free.nr);
	}
}

/* Open a report in the log; kf_report_end writes it out. Lock held. */
static struct kf_buf kf_report_begin(struct mmb_kfence *kf)
{
	struct kf_buf b = { kf->log + kf->log_len, 0, KF_LOG_BYTES - kf->log_len };

	if (b.cap > KF_REPORT_MAX)
		b.cap = KF_REPORT_MAX;
	kf->bugs++;
	kf_printf(&b, "==================================================================\n");
	return b;
}

static void kf_report_end(struct mmb_kfence *kf, struct kf_buf *b)
{
	char comm[16] = "";

	prctl(PR_GET_NAME, comm, 0, 0, 0);
	kf_printf(b, "\nCPU: %d PID: %d Comm: %s\n", sched_getcpu(), (int)syscall(SYS_gettid),
		  comm);
	kf_printf(b, "==================================================================\n");
	if (write(fileno(kf->report), b->p, b->len) < 0)
		(void)0;	/* the log keeps it */
	kf->log_len += b->len;
}

/* ---- the fault handler ---- */

static void kf_report_fault(struct mmb_kfence *kf, uintptr_t addr, int is_write,
			    const ucontext_t *uc)
{
	unsigned long pidx = (addr - kf->pool) / KF_PAGE;
	const char *rw = is_write ? "write" : "read";
	uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t trace[MMB_STACK_DEPTH + 8];
	struct kf_meta *m = NULL;
	char where[160], sym[160];
	struct kf_buf b;
	int nr, first = 0;

	if (pidx % 2 || pidx < 2) {
		/* a guard page: the nearest allocated neighbour */
		struct kf_meta *left = NULL, *right = NULL;
		unsigned long li = pidx >= 3 ? (pidx - 1) / 2 - 1 : kf->nr;
		unsigned long ri = (pidx + 1) / 2 - 1;

		if (li < kf->nr && kf->meta[li].state == KF_ALLOCATED)
			left = &kf->meta[li];
		if (pidx % 2 && ri < kf->nr && kf->meta[ri].state == KF_ALLOCATED)
			right = &kf->meta[ri];
		if (pidx == 0 || (pidx == 1 && !right))
			right = kf->meta[0].state == KF_ALLOCATED ? &kf->meta[0] : NULL;
		if (left && right)
			m = addr - (left->addr + left->size) < right->addr - addr ? left : right;
		else
			m = left ? left : right;
	} else {
		m = &kf->meta[pidx / 2 - 1];
	}
	nr = mmb_stack_save(trace, MMB_STACK_DEPTH + 8, 0);
	for (int i = 0; i < nr; i++)	/* the frames from the faulting one on */
		if (trace[i] == ip || trace[i] == ip + 1) {
			first = i + 1;
			break;
		}
	mmb_stack_symbolize(ip, where, sizeof(where));
	b = kf_report_begin(kf);
	if (m && m->state == KF_ALLOCATED && (pidx % 2 || pidx < 2)) {
		int right_side = addr >= m->addr + m->size;

		kf_printf(&b, "BUG: KFENCE: out-of-bounds %s in %s\n\n", rw, where);
		kf_printf(&b, "Out-of-bounds %s at 0x%016lx (%luB %s of kfence-#%u):\n", rw,
			  (unsigned long)addr,
			  (unsigned long)(right_side ? addr - (m->addr + m->size) + 1 : m->addr - addr),
			  right_side ? "right" : "left", (unsigned)(m - kf->meta));
	} else if (m && m->state == KF_FREED && !(pidx % 2)) {
		kf_printf(&b, "BUG: KFENCE: use-after-free %s in %s\n\n", rw, where);
		kf_printf(&b, "Use-after-free %s at 0x%016lx (in kfence-#%u):\n", rw,
			  (unsigned long)addr, (unsigned)(m - kf->meta));
	} else {
		kf_printf(&b, "BUG: KFENCE: invalid %s in %s\n\n", rw, where);
		kf_printf(&b, "Invalid %s at 0x%016lx:\n", rw, (unsigned long)addr);
		m = NULL;
	}
	mmb_stack_symbolize(ip, sym, sizeof(sym));
	kf_printf(&b, " %s\n", sym);
	kf_print_stack(&b, trace + first, first ? nr - first : 0);
	if (m) {
		kf_printf(&b, "\n");
		kf_print_object(&b, kf, m);
		m->unprotected_page = addr & ~(KF_PAGE - 1);
	}
	kf_report_end(kf, &b);
}

static void kf_on_segv(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t addr = (uintptr_t)si->si_addr;
	const ucontext_t *uc = uctx;

	for (int i = 0; i < KF_MAX_POOLS; i++) {
		struct mmb_kfence *kf = atomic_load(&kf_pools[i]);

		if (!kf || !mmb_kfence_owns(kf, (void *)addr))
			continue;
		pthread_mutex_lock(&kf->lock);
		kf_report_fault(kf, addr, !!(uc->uc_mcontext.gregs[REG_ERR] & 2), uc);
		/* unprotect and let the access go on */
		mprotect((void *)(addr & ~(KF_PAGE - 1)), KF_PAGE, PROT_READ | PROT_WRITE);
		pthread_mutex_unlock(&kf->lock);
		return;
	}
	if (kf_old_segv.sa_flags & SA_SIGINFO && kf_old_segv.sa_sigaction) {
		kf_old_segv.sa_sigaction(sig, si, uctx);
		return;
	}
	if (kf_old_segv.sa_handler != SIG_IGN && kf_old_segv.sa_handler != SIG_DFL) {
		kf_old_segv.sa_handler(sig);
		return;
	}
	signal(SIGSEGV, SIG_DFL);	/* returning retries the access: it dies */
}

static void kf_sig_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = kf_on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	kf_sig_rc = sigaction(SIGSEGV, &sa, &kf_old_segv) ? -errno : 0;
}

/* ---- allocation and free ---- */

void *mmb_kfence_alloc(struct mmb_kfence *kf, size_t size, size_t align, const char *cache)
{
	struct kf_meta *m;
	uintptr_t page, addr;
	size_t min_align;
	unsigned idx;

	if (kf_tls.kf == kf && kf_tls.left) {
		kf_tls.left--;
		return NULL;
	}
	kf_tls.kf = kf;
	kf_tls.left = kf->sample - 1;
	min_align = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
	if (align < min_align)
		align = min_align;
	pthread_mutex_lock(&kf->lock);
	if (!size || size > KF_PAGE || align > KF_PAGE) {
		kf->skipped_incompatible++;
		pthread_mutex_unlock(&kf->lock);
		return NULL;
	}
	if (!kf->ring_len) {
		kf->skipped_capacity++;
		pthread_mutex_unlock(&kf->lock);
		return NULL;
	}
	idx = kf->ring[kf->ring_head];
	kf->ring_head = (kf->ring_head + 1) % kf->nr;
	kf->ring_len--;
	m = &kf->meta[idx];
	page = kf_obj_page(kf, idx);
	if (m->unprotected_page) {
		mprotect((void *)m->unprotected_page, KF_PAGE, PROT_NONE);
		m->unprotected_page = 0;
	}
	if (mprotect((void *)page, KF_PAGE, PROT_READ | PROT_WRITE)) {
		kf->ring[(kf->ring_head + kf->ring_len) % kf->nr] = idx;	/* back, at the tail */
		kf->ring_len++;
		kf->skipped_capacity++;
		pthread_mutex_unlock(&kf->lock);
		return NULL;
	}
	addr = kf->edge++ & 1 ? (page + KF_PAGE - size) & ~(uintptr_t)(align - 1) : page;
	for (uint64_t *w = (uint64_t *)page; w < (uint64_t *)(page + KF_PAGE); w++)
		*w = KF_CANARY_WORD;	/* the object's bytes too: its contents are undefined */
	m->state = KF_ALLOCATED;
	m->addr = addr;
	m->size = size;
	snprintf(m->cache, sizeof(m->cache), "%s", cache ? cache : "-");
	kf_track(&m->alloc, 1);
	kf->allocs++;
	pthread_mutex_unlock(&kf->lock);
	return (void *)addr;
}

size_t mmb_kfence_ksize(struct mmb_kfence *kf, const void *p)
{
	unsigned long pidx = ((uintptr_t)p - kf->pool) / KF_PAGE;
	size_t size = 0;

	if (!mmb_kfence_owns(kf, p) || pidx % 2 || pidx < 2)
		return 0;
	pthread_mutex_lock(&kf->lock);
	if (kf->meta[pidx / 2 - 1].state == KF_ALLOCATED)
		size = kf->meta[pidx / 2 - 1].size;
	pthread_mutex_unlock(&kf->lock);
	return size;
}

/* check_canary: "Corrupted memory at 0x... [ ! . . ]" for the first bad run. */
static void kf_check_canary(struct mmb_kfence *kf, struct kf_meta *m)
{
	uintptr_t page = m->addr & ~(KF_PAGE - 1), bad = 0;
	uintptr_t trace[MMB_STACK_DEPTH];
	char where[160];
	struct kf_buf b;
	int nr;

	for (uintptr_t a = page; a < page + KF_PAGE && !bad; a += 8) {
		if (a + 8 <= m->addr || a >= m->addr + m->size) {
			if (*(const uint64_t *)a == KF_CANARY_WORD)
				continue;
		} else if (a >= m->addr && a + 8 <= m->addr + m->size) {
			continue;	/* the object's own word */
		}
		for (uintptr_t x = a; x < a + 8 && !bad; x++)
			if ((x < m->addr || x >= m->addr + m->size) && *(uint8_t *)x != KF_CANARY(x))
				bad = x;
	}
	if (!bad)
		return;
	nr = kf_skip_internal(trace, mmb_stack_save(trace, MMB_STACK_DEPTH, 2));
	mmb_stack_symbolize(nr ? trace[0] : 0, where, sizeof(where));
	b = kf_report_begin(kf);
	kf_printf(&b, "BUG: KFENCE: memory corruption in %s\n\n", where);
	kf_printf(&b, "Corrupted memory at 0x%016lx [", (unsigned long)bad);
	for (uintptr_t a = bad; a < bad + 16 && a < page + KF_PAGE; a++) {
		if (a >= m->addr && a < m->addr + m->size)
			break;
		kf_printf(&b, " %c", *(uint8_t *)a != KF_CANARY(a) ? '!' : '.');
	}
	kf_printf(&b, " ] (in kfence-#%u):\n", (unsigned)(m - kf->meta));
	kf_print_stack(&b, trace, nr);
	kf_printf(&b, "\n");
	kf_print_object(&b, kf, m);
	kf_report_end(kf, &b);
}

void mmb_kfence_free(struct mmb_kfence *kf, const void *p)
{
	unsigned long pidx = ((uintptr_t)p - kf->pool) / KF_PAGE;
	struct kf_meta *m = pidx >= 2 && !(pidx % 2) ? &kf->meta[pidx / 2 - 1] : NULL;

	pthread_mutex_lock(&kf->lock);
	if (!m || m->state != KF_ALLOCATED || m->addr != (uintptr_t)p) {
		uintptr_t trace[MMB_STACK_DEPTH];
		int nr = kf_skip_internal(trace, mmb_stack_save(trace, MMB_STACK_DEPTH, 1));
		char where[160];
		struct kf_buf b;

		mmb_stack_symbolize(nr ? trace[0] : 0, where, sizeof(where));
		b = kf_report_begin(kf);
		kf_printf(&b, "BUG: KFENCE: invalid free in %s\n\n", where);
		if (m)
			kf_printf(&b, "Invalid free of 0x%016lx (in kfence-#%u):\n",
				  (unsigned long)(uintptr_t)p, (unsigned)(m - kf->meta));
		else
			kf_printf(&b, "Invalid free of 0x%016lx:\n", (unsigned long)(uintptr_t)p);
		kf_print_stack(&b, trace, nr);
		if (m && m->state != KF_UNUSED) {
			kf_printf(&b, "\n");
			kf_print_object(&b, kf, m);
		}
		kf_report_end(kf, &b);
		pthread_mutex_unlock(&kf->lock);
		return;
	}
	kf_check_canary(kf, m);
	kf_track(&m->free, 1);
	m->state = KF_FREED;
	mprotect((void *)(m->addr & ~(KF_PAGE - 1)), KF_PAGE, PROT_NONE);
	if (m->unprotected_page) {
		mprotect((void *)m->unprotected_page, KF_PAGE, PROT_NONE);
		m->unprotected_page = 0;
	}
	kf->ring[(kf->ring_head + kf->ring_len) % kf->nr] = (unsigned)(m - kf->meta);
	kf->ring_len++;
	kf->frees++;
	pthread_mutex_unlock(&kf->lock);
}

/* ---- instance ---- */

int mmb_kfence_create(const struct mmb_kfence_cfg *cfg, struct mmb_kfence **r_kf, char *err,
		      size_t errlen)
{
	unsigned nr = cfg->nr_objects ? cfg->nr_objects : MMB_KFENCE_NUM_OBJECTS;
	struct mmb_kfence *kf;
	size_t meta_bytes;
	char *map;
	int slot = -1;

	if (!cfg->sample) {
		snprintf(err, errlen, "kfence: sample must be >= 1 (one allocation in N)");
		return -EINVAL;
	}
	pthread_once(&kf_sig_once, kf_sig_install);
	if (kf_sig_rc) {
		snprintf(err, errlen, "kfence: sigaction(SIGSEGV): %s", strerror(-kf_sig_rc));
		return kf_sig_rc;
	}
	kf = calloc(1, sizeof(*kf));
	if (!kf) {
		snprintf(err, errlen, "kfence: out of memory");
		return -ENOMEM;
	}
	kf->nr = nr;
	kf->sample = cfg->sample;
	kf->report = cfg->report ? cfg->report : stderr;
	kf->pool_bytes = (size_t)(nr + 1) * 2 * KF_PAGE;
	meta_bytes = (nr * sizeof(struct kf_meta) + nr * sizeof(unsigned) + KF_PAGE - 1) &
		     ~(KF_PAGE - 1);
	kf->map_bytes = kf->pool_bytes + meta_bytes + KF_LOG_BYTES;
	map = mmap(NULL, kf->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "kfence: mmap of a %zu-byte pool: %s", kf->map_bytes,
			 strerror(errno));
		free(kf);
		return -ENOMEM;
	}
	if (mprotect(map, kf->pool_bytes, PROT_NONE)) {
		snprintf(err, errlen, "kfence: mprotect: %s", strerror(errno));
		munmap(map, kf->map_bytes);
		free(kf);
		return -ENOMEM;
	}
	kf->pool = (uintptr_t)map;
	kf->meta = (struct kf_meta *)(map + kf->pool_bytes);
	kf->ring = (unsigned *)(kf->meta + nr);
	kf->log = map + kf->pool_bytes + meta_bytes;
	for (unsigned i = 0; i < nr; i++)
		kf->ring[i] = i;
	kf->ring_len = nr;
	pthread_mutex_init(&kf->lock, NULL);
	mmb_stack_symbols_load();
	for (int i = 0; i < KF_MAX_POOLS && slot < 0; i++) {
		struct mmb_kfence *none = NULL;

		if (atomic_compare_exchange_strong(&kf_pools[i], &none, kf))
			slot = i;
	}
	if (slot < 0) {
		snprintf(err, errlen, "kfence: more than %d instances", KF_MAX_POOLS);
		mmb_kfence_destroy(kf);
		return -EBUSY;
	}
	*r_kf = kf;
	return 0;
}

void mmb_kfence_destroy(struct mmb_kfence *kf)
{
	for (int i = 0; i < KF_MAX_POOLS; i++) {
		struct mmb_kfence *me = kf;

		atomic_compare_exchange_strong(&kf_pools[i], &me, NULL);
	}
	munmap((void *)kf->pool, kf->map_bytes);
	pthread_mutex_destroy(&kf->lock);
	free(kf);
}

void mmb_kfence_counts(struct mmb_kfence *kf, struct mmb_kfence_counts *r_c)
{
	pthread_mutex_lock(&kf->lock);
	*r_c = (struct mmb_kfence_counts){
		.allocated = kf->allocs - kf->frees, .allocs = kf->allocs, .frees = kf->frees,
		.bugs = kf->bugs, .skipped_incompatible = kf->skipped_incompatible,
		.skipped_capacity = kf->skipped_capacity,
	};
	pthread_mutex_unlock(&kf->lock);
}

int mmb_kfence_write(struct mmb_kfence *kf, FILE *f)
{
	struct mmb_kfence_counts c;

	mmb_kfence_counts(kf, &c);
	fprintf(f, "enabled: 1\n");
	fprintf(f, "currently allocated: %llu\n", (unsigned long long)c.allocated);
	fprintf(f, "total allocations: %llu\n", (unsigned long long)c.allocs);
	fprintf(f, "total frees: %llu\n", (unsigned long long)c.frees);
	fprintf(f, "zombie allocations: 0\n");
	fprintf(f, "total bugs: %llu\n", (unsigned long long)c.bugs);
	fprintf(f, "skipped allocations (incompatible): %llu\n",
		(unsigned long long)c.skipped_incompatible);
	fprintf(f, "skipped allocations (capacity): %llu\n", (unsigned long long)c.skipped_capacity);
	fprintf(f, "skipped allocations (covered): 0\n");
	pthread_mutex_lock(&kf->lock);
	fwrite(kf->log, 1, kf->log_len, f);
	pthread_mutex_unlock(&kf->lock);
	return ferror(f) ? -EIO : 0;
}

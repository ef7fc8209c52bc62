/*
 * record.c — libmmb-record.so, the trace recorder: LD_PRELOADed by
 * `mmbench record`, it wraps the malloc family, calls the next definition
 * (glibc's, found with dlsym(RTLD_NEXT)), and writes one record per call in
 * the binary trace format (workloads/trace.h).
 *
 * Environment (set by mmbench record): MMB_RECORD_FD, a descriptor opened
 * O_APPEND with the header already written; MMB_RECORD_PID, the process to
 * record. The process may exec another program (a shell script or a
 * pyenv shim that execs the real interpreter): the descriptor stays open,
 * the new image records too, and each image begins with an image chunk
 * (trace.h), at which the reader drops the blocks of the image before. Any other process (a child after fork, or a program the recorded
 * one runs) passes every call straight through and writes nothing.
 *
 * Data structure. Each recording thread owns a struct rec_buf (mmap'ed,
 * never freed, reused by later threads once its thread exits): a chunk
 * header and up to REC_BUF_BYTES of records. When its thread exits
 * (pthread key destructor) and at process exit (library destructor, for
 * every buffer) it is written as one chunk with one write(2). When a
 * buffer is full, every buffer with records is written, as one chunk each
 * in one writev(2) (rec_sweep): so the file always holds every thread's
 * records up to the last sweep, and a process killed by a signal (no exit
 * handler runs) leaves a trace in which no free refers to an allocation
 * still in a lost buffer (another thread's, say the main thread's, whose
 * buffer never filled). A buffer's lock (an atomic flag, uncontended
 * except against a sweep or the exit flush) is held while a record is
 * appended or the buffer written; a sweep holds rec_sweeping and takes the
 * buffers' locks in list order, one owner at a time, so it cannot
 * deadlock with an owner, which holds only its own lock.
 *
 * Bootstrap: dlsym may call calloc before the real functions are known;
 * such calls get memory from a static arena (rec_boot), which free()
 * recognizes and ignores. Calls made while this library is inside a call
 * (the reentrancy flag) pass through unrecorded.
 *
 * Thread model: the per-thread buffer pointer is initial-exec TLS; the
 * list of buffers is pushed with compare-and-swap and never shrinks. After
 * fork the child stops recording (pthread_atfork), so its records never
 * mix with the parent's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../workloads/trace.h"

#define REC_EXPORT __attribute__((visibility("default")))
#define REC_TLS __attribute__((tls_model("initial-exec"))) __thread
#define REC_BUF_BYTES (64u << 10)

struct rec_buf {
	atomic_flag lock;
	int in_use;			/* owned by a live thread */
	struct rec_buf *next;		/* all buffers */
	uint32_t thread;
	uint32_t nrecords;
	uint64_t base_ns, last_ns, last_addr;
	size_t len;			/* payload bytes */
	uint8_t chunk[MMB_TRACE_CHUNK_BYTES];
	uint8_t payload[REC_BUF_BYTES];
};

static void *(*rec_malloc_fn)(size_t);
static void (*rec_free_fn)(void *);
static void *(*rec_calloc_fn)(size_t, size_t);
static void *(*rec_realloc_fn)(void *, size_t);
static void *(*rec_reallocarray_fn)(void *, size_t, size_t);
static void *(*rec_memalign_fn)(size_t, size_t);
static int (*rec_posix_memalign_fn)(void **, size_t, size_t);
static void *(*rec_aligned_alloc_fn)(size_t, size_t);
static void *(*rec_valloc_fn)(size_t);
static void *(*rec_pvalloc_fn)(size_t);
static size_t (*rec_usable_fn)(void *);

static int rec_fd = -1;
static atomic_int rec_on;		/* recording this process */
static atomic_int rec_state;		/* 0 not started, 1 resolving, 2 ready */
static _Atomic(struct rec_buf *) rec_bufs;
static atomic_uint rec_nthreads;
static pthread_key_t rec_key;

static REC_TLS struct rec_buf *rec_tls_buf;
static REC_TLS int rec_busy;

/* Static arena for calls made while dlsym resolves the real functions. */
static _Alignas(64) char rec_boot[64 << 10];
static atomic_size_t rec_boot_used;

static void *rec_boot_alloc(size_t size)
{
	size_t off = atomic_fetch_add(&rec_boot_used, (size + 63) & ~(size_t)63);

	return off + size <= sizeof(rec_boot) ? rec_boot + off : NULL;
}

static int rec_is_boot(const void *p)
{
	return (const char *)p >= rec_boot && (const char *)p < rec_boot + sizeof(rec_boot);
}

static uint64_t rec_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void rec_put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t rec_seal(struct rec_buf *b);

/* Write b's records as one chunk and empty it; b's lock held. */
static void rec_flush(struct rec_buf *b)
{
	size_t total;
	const uint8_t *p = b->chunk;

	if (!b->nrecords)
		return;
	total = rec_seal(b);
	/* one write: O_APPEND keeps it whole; a short write (disk full) ends
	 * the trace at a chunk boundary check in the reader */
	while (total) {
		ssize_t n = write(rec_fd, p, total);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		total -= (size_t)n;
	}
	b->len = 0;
	b->nrecords = 0;
}

static void rec_lock(struct rec_buf *b)
{
	while (atomic_flag_test_and_set_explicit(&b->lock, memory_order_acquire))
		;
}

static void rec_unlock(struct rec_buf *b)
{
	atomic_flag_clear_explicit(&b->lock, memory_order_release);
}

static atomic_flag rec_sweeping = ATOMIC_FLAG_INIT;

/* The chunk header of b's records (b's lock held); its bytes to write. */
static size_t rec_seal(struct rec_buf *b)
{
	rec_put_le(b->chunk, MMB_TRACE_CHUNK_MAGIC, 4);
	rec_put_le(b->chunk + 4, b->thread, 4);
	rec_put_le(b->chunk + 8, b->len, 4);
	rec_put_le(b->chunk + 12, b->nrecords, 4);
	rec_put_le(b->chunk + 16, b->base_ns, 8);
	return MMB_TRACE_CHUNK_BYTES + b->len;
}

/*
 * Every buffer with records out, one chunk each, in one writev per
 * REC_SWEEP_IOV buffers; called with no buffer lock held. A short write
 * (disk full) ends the trace as rec_flush's does.
 */
#define REC_SWEEP_IOV 64
static void rec_sweep(void)
{
	struct rec_buf *held[REC_SWEEP_IOV];
	struct iovec iov[REC_SWEEP_IOV];
	struct rec_buf *b = atomic_load(&rec_bufs);

	while (atomic_flag_test_and_set_explicit(&rec_sweeping, memory_order_acquire))
		;
	while (b) {
		int n = 0;

		for (; b && n < REC_SWEEP_IOV; b = b->next) {
			rec_lock(b);
			if (!b->nrecords) {
				rec_unlock(b);
				continue;
			}
			iov[n].iov_base = b->chunk;
			iov[n].iov_len = rec_seal(b);
			held[n++] = b;
		}
		for (int i = 0; i < n;) {
			ssize_t w = writev(rec_fd, iov + i, n - i);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			for (; i < n && (size_t)w >= iov[i].iov_len; i++)
				w -= (ssize_t)iov[i].iov_len;
			if (i < n) {
				iov[i].iov_base = (char *)iov[i].iov_base + w;
				iov[i].iov_len -= (size_t)w;
			}
		}
		for (int i = 0; i < n; i++) {
			held[i]->len = 0;
			held[i]->nrecords = 0;
			rec_unlock(held[i]);
		}
	}
	atomic_flag_clear_explicit(&rec_sweeping, memory_order_release);
}

static void rec_thread_exit(void *arg)
{
	struct rec_buf *b = arg;

	rec_lock(b);
	rec_flush(b);
	rec_tls_buf = NULL;
	b->thread = atomic_fetch_add(&rec_nthreads, 1);	/* the next owner's number */
	b->in_use = 0;
	rec_unlock(b);
}

/* The calling thread's buffer: a free one from the list, or a new one. */
static struct rec_buf *rec_thread_buf(void)
{
	struct rec_buf *b;

	for (b = atomic_load(&rec_bufs); b; b = b->next) {
		int was = 0;

		if (!__atomic_compare_exchange_n(&b->in_use, &was, 1, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		break;
	}
	if (!b) {
		b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		b->in_use = 1;
		b->thread = atomic_fetch_add(&rec_nthreads, 1);
		b->next = atomic_load(&rec_bufs);
		while (!atomic_compare_exchange_weak(&rec_bufs, &b->next, b))
			;
	}
	rec_tls_buf = b;
	pthread_setspecific(rec_key, b);
	return b;
}

static void rec_child(void)
{
	atomic_store(&rec_on, 0);
}

static void rec_resolve(void)
{
	const char *fd = getenv("MMB_RECORD_FD"), *pid = getenv("MMB_RECORD_PID");
	int expected = 0;

	if (!atomic_compare_exchange_strong(&rec_state, &expected, 1)) {
		while (atomic_load(&rec_state) != 2)
			;
		return;
	}
	rec_malloc_fn = dlsym(RTLD_NEXT, "malloc");
	rec_free_fn = dlsym(RTLD_NEXT, "free");
	rec_calloc_fn = dlsym(RTLD_NEXT, "calloc");
	rec_realloc_fn = dlsym(RTLD_NEXT, "realloc");
	rec_reallocarray_fn = dlsym(RTLD_NEXT, "reallocarray");
	rec_memalign_fn = dlsym(RTLD_NEXT, "memalign");
	rec_posix_memalign_fn = dlsym(RTLD_NEXT, "posix_memalign");
	rec_aligned_alloc_fn = dlsym(RTLD_NEXT, "aligned_alloc");
	rec_valloc_fn = dlsym(RTLD_NEXT, "valloc");
	rec_pvalloc_fn = dlsym(RTLD_NEXT, "pvalloc");
	rec_usable_fn = dlsym(RTLD_NEXT, "malloc_usable_size");
	if (fd && pid && atoi(pid) == getpid() && !pthread_key_create(&rec_key, rec_thread_exit)) {
		uint8_t mark[MMB_TRACE_CHUNK_BYTES] = { 0 };

		/* a new program image of the recorded process (its first, or one
		 * it exec'ed into: the descriptor stays open across exec) */
		rec_fd = atoi(fd);
		rec_put_le(mark, MMB_TRACE_CHUNK_MAGIC, 4);
		rec_put_le(mark + 4, MMB_TRACE_IMAGE_THREAD, 4);
		rec_put_le(mark + 16, rec_now(), 8);
		pthread_atfork(NULL, NULL, rec_child);
		atomic_store(&rec_on, write(rec_fd, mark, sizeof(mark)) == (ssize_t)sizeof(mark));
	}
	atomic_store(&rec_state, 2);
}

/* Enter a wrapper: 1 if the call is to be recorded. */
static inline int rec_enter(void)
{
	if (__builtin_expect(atomic_load_explicit(&rec_state, memory_order_acquire) != 2, 0)) {
		if (rec_busy)
			return 0;
		rec_busy = 1;
		rec_resolve();
		rec_busy = 0;
	}
	if (rec_busy || !atomic_load_explicit(&rec_on, memory_order_relaxed))
		return 0;
	rec_busy = 1;
	return 1;
}

static void rec_put(unsigned op, uint64_t t_ns, const void *addr, uint64_t size, uint64_t align)
{
	struct rec_buf *b = rec_tls_buf ? rec_tls_buf : rec_thread_buf();
	uint8_t *p;

	if (!b)
		return;
	rec_lock(b);
	if (b->len > REC_BUF_BYTES - MMB_TRACE_RECORD_MAX) {
		rec_unlock(b);
		rec_sweep();	/* only this thread appends to b: it is empty now */
		rec_lock(b);
		if (b->len > REC_BUF_BYTES - MMB_TRACE_RECORD_MAX)
			rec_flush(b);
	}
	if (!b->nrecords) {
		b->base_ns = b->last_ns = t_ns;
		b->last_addr = 0;
	}
	p = b->payload + b->len;
	*p++ = (uint8_t)op;
	p = mmb_trace_put_varint(p, t_ns - b->last_ns);
	p = mmb_trace_put_varint(p, mmb_trace_zigzag((int64_t)((uint64_t)(uintptr_t)addr - b->last_addr)));
	if (mmb_trace_op_allocates(op))
		p = mmb_trace_put_varint(p, size);
	if (mmb_trace_op_aligned(op))
		p = mmb_trace_put_varint(p, align);
	b->last_ns = t_ns;
	b->last_addr = (uint64_t)(uintptr_t)addr;
	b->len = (size_t)(p - b->payload);
	b->nrecords++;
	rec_unlock(b);
}

static inline void rec_leave(void)
{
	rec_busy = 0;
}

REC_EXPORT void *malloc(size_t size)
{
	void *p;

	if (!rec_enter())
		return rec_malloc_fn ? rec_malloc_fn(size) : rec_boot_alloc(size);
	p = rec_malloc_fn(size);
	rec_put(MMB_TOP_MALLOC, rec_now(), p, size, 0);
	rec_leave();
	return p;
}

REC_EXPORT void free(void *p)
{
	if (!p || rec_is_boot(p))
		return;
	if (!rec_enter()) {
		rec_free_fn(p);
		return;
	}
	rec_put(MMB_TOP_FREE, rec_now(), p, 0, 0);
	rec_free_fn(p);
	rec_leave();
}

REC_EXPORT void *calloc(size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (!rec_enter()) {
		if (rec_calloc_fn)
			return rec_calloc_fn(n, size);
		/* the boot arena is static storage: already zero */
		return __builtin_mul_overflow(n, size, &bytes) ? NULL : rec_boot_alloc(bytes);
	}
	p = rec_calloc_fn(n, size);
	rec_put(MMB_TOP_CALLOC, rec_now(), p, __builtin_mul_overflow(n, size, &bytes) ? UINT64_MAX : bytes, 0);
	rec_leave();
	return p;
}

/*
 * realloc and reallocarray. Moved (or resized in place): the old block's
 * release, timed before the call, then the new block. realloc(p, 0) frees
 * p: the release only. A failure leaves p as it was: a failed REALLOC.
 */
static void *rec_realloc_common(void *old, size_t n, size_t size, int array)
{
	uint64_t t0, bytes = 0;
	int ovf = __builtin_mul_overflow(n, size, &bytes);
	void *p;

	if (old && rec_is_boot(old)) {
		/* a bootstrap block: copy out (its size is unknown: up to the arena's end) */
		size_t max = (size_t)(rec_boot + sizeof(rec_boot) - (char *)old);

		if (ovf)
			return NULL;
		p = malloc(bytes);
		if (p)
			memcpy(p, old, bytes < max ? bytes : max);
		return p;
	}
	if (!rec_enter())
		return array ? rec_reallocarray_fn(old, n, size) : rec_realloc_fn(old, size);
	t0 = rec_now();
	p = array ? rec_reallocarray_fn(old, n, size) : rec_realloc_fn(old, size);
	if (old && (p || (!ovf && !bytes)))
		rec_put(MMB_TOP_REALLOC_FREE, t0, old, 0, 0);
	if (!old || p || ovf || bytes)
		rec_put(MMB_TOP_REALLOC, rec_now(), p, ovf ? UINT64_MAX : bytes, 0);
	rec_leave();
	return p;
}

REC_EXPORT void *realloc(void *old, size_t size)
{
	return rec_realloc_common(old, 1, size, 0);
}

REC_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	return rec_realloc_common(old, n, size, 1);
}

REC_EXPORT void *memalign(size_t align, size_t size)
{
	void *p;

	if (!rec_enter())
		return rec_memalign_fn(align, size);
	p = rec_memalign_fn(align, size);
	rec_put(MMB_TOP_MEMALIGN, rec_now(), p, size, align);
	rec_leave();
	return p;
}

REC_EXPORT int posix_memalign(void **r, size_t align, size_t size)
{
	int rc;

	if (!rec_enter())
		return rec_posix_memalign_fn(r, align, size);
	rc = rec_posix_memalign_fn(r, align, size);
	rec_put(MMB_TOP_POSIX_MEMALIGN, rec_now(), rc ? NULL : *r, size, align);
	rec_leave();
	return rc;
}

REC_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	void *p;

	if (!rec_enter())
		return rec_aligned_alloc_fn(align, size);
	p = rec_aligned_alloc_fn(align, size);
	rec_put(MMB_TOP_ALIGNED_ALLOC, rec_now(), p, size, align);
	rec_leave();
	return p;
}

REC_EXPORT void *valloc(size_t size)
{
	void *p;

	if (!rec_enter())
		return rec_valloc_fn(size);
	p = rec_valloc_fn(size);
	rec_put(MMB_TOP_VALLOC, rec_now(), p, size, 0);
	rec_leave();
	return p;
}

REC_EXPORT void *pvalloc(size_t size)
{
	void *p;

	if (!rec_enter())
		return rec_pvalloc_fn(size);
	p = rec_pvalloc_fn(size);
	rec_put(MMB_TOP_PVALLOC, rec_now(), p, size, 0);
	rec_leave();
	return p;
}

REC_EXPORT size_t malloc_usable_size(void *p)
{
	if (!p || rec_is_boot(p))
		return 0;
	if (!rec_usable_fn)
		rec_resolve();
	return rec_usable_fn(p);
}

/* Process exit: every buffer out, in list order. Calls after this point
 * (later destructors) are not recorded. */
__attribute__((destructor)) static void rec_fini(void)
{
	if (!atomic_exchange(&rec_on, 0))
		return;
	for (struct rec_buf *b = atomic_load(&rec_bufs); b; b = b->next) {
		rec_lock(b);
		rec_flush(b);
		rec_unlock(b);
	}
}

/*
 * jemalloc.h — usable bytes of live blocks from jemalloc's per-thread
 * counters (jemalloc_malloc.c).
 *
 * jemalloc adds the usable size of every block a thread allocates to its
 * thread.allocated counter and of every block it frees to
 * thread.deallocated (no extra cost: it keeps them anyway). Summed over the
 * threads that use an allocator, allocated - deallocated is the usable
 * bytes of the live blocks, blocks sitting in thread caches excluded, and a
 * block freed by another thread than its allocator still cancels out. The
 * arena's own "allocated" figure would count cached blocks as live.
 *
 * Each attached thread has a node on the list holding pointers to its two
 * counters (thread.allocatedp, .deallocatedp) and their values at attach;
 * detach folds the thread's net bytes into `folded` and unlinks the node
 * before the thread (and its counters) go away. Threads that never attach
 * are not counted. The lock guards the list; the counters are read with
 * relaxed loads while their threads run (the sum is then approximate).
 * The harness's own allocations on an attached thread count too.
 * (jemalloc.c, whose arena serves its bound threads only, reads the arena's
 * own figures instead.)
 */
#ifndef MMB_JEMALLOC_H
#define MMB_JEMALLOC_H

#include <pthread.h>
#include <stdint.h>

struct mmb_je_thread_bytes {
	uint64_t *allocp, *deallocp;
	uint64_t base_alloc, base_dealloc;
	struct mmb_je_thread_bytes *next;
};

struct mmb_je_usable {
	pthread_mutex_t lock;
	struct mmb_je_thread_bytes *threads;
	int64_t folded;			/* of threads already detached */
};

void mmb_je_usable_init(struct mmb_je_usable *u);
void mmb_je_usable_fini(struct mmb_je_usable *u);
/* The calling thread's node, or NULL (then the thread is not counted). */
struct mmb_je_thread_bytes *mmb_je_usable_attach(struct mmb_je_usable *u);
void mmb_je_usable_detach(struct mmb_je_usable *u, struct mmb_je_thread_bytes *t);
/* Net usable bytes allocated by the attached and detached threads. */
int64_t mmb_je_usable_bytes(struct mmb_je_usable *u);

#endif /* MMB_JEMALLOC_H */

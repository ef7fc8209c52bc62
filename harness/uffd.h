/*
 * uffd.h — the page-fault monitor: counts the first touch of every page of
 * every instrumented region (allocators/os.h) through userfaultfd.
 *
 * Regions. mmb_uffd_start() installs the region hooks (mmb_region_set_hooks),
 * so every mmb_region_add(name, addr, len, modes, fd, off) an allocator makes
 * registers the range with the monitor's userfaultfd (MISSING, plus MINOR for
 * memfd ranges that ask for it and a kernel that has MINOR_SHMEM), and every
 * mmb_region_del() unregisters it. Adding a range that overlaps known ranges
 * replaces them (a MAP_FIXED remap drops the kernel's registration: the
 * allocator re-adds the range and the monitor registers it again). A name is
 * an event's region ("pmem", "vmalloc", "jemalloc-arena", ...); a name may
 * cover any number of ranges, at most MMB_UFFD_MAX_NAMES names.
 *
 * Modes (--faults):
 *   off     no monitor; the kernel's own counts only (a timing run).
 *   uffd    a handler thread (pinned to --fault-cpu when given) polls the
 *           uffd and resolves each fault: MINOR with UFFDIO_CONTINUE, MISSING
 *           with UFFDIO_ZEROPAGE (shmem, or a read of anonymous memory) or
 *           UFFDIO_COPY of a zero page (a write to anonymous memory, so it
 *           takes no second fault). The faulting thread sleeps meanwhile.
 *   sigbus  UFFD_FEATURE_SIGBUS: the faulting thread gets SIGBUS and the
 *           monitor's signal handler resolves the fault in that thread
 *           (no thread switch; the write bit comes from the x86 page-fault
 *           error code). A MINOR|MISSING range tries CONTINUE first and
 *           falls back to ZEROPAGE when the page is a hole (EFAULT).
 *   auto    (CLI only) uffd where it can be opened, else off with the reason.
 * Both modes tolerate EEXIST (another thread resolved the page first: UFFDIO_
 * WAKE, counted as a duplicate, not a fault) and retry on EAGAIN.
 *
 * Opening: userfaultfd(UFFD_USER_MODE_ONLY) first (works unprivileged); then
 * /dev/userfaultfd (root, or a device opened to the user). With USER_MODE_
 * ONLY, a fault the kernel takes on the user's behalf (read(2) into an
 * untouched registered page, a futex word, ...) is not delivered: the system
 * call fails with EFAULT. Never hand registered, untouched memory to a
 * system call; mmb_uffd_info().kernel_faults says whether such faults are
 * trapped. Environment MMB_UFFD_OPEN=auto|syscall|device|none picks the path
 * (none simulates a machine without userfaultfd; for tests).
 *
 * Refaults: MADV_DONTNEED on shmem leaves the page in the page cache, so the
 * next touch is not a MISSING fault. To make a frame fault again, punch a
 * hole (mmb_os->punch) or MADV_REMOVE.
 *
 * What is recorded, all in memory preallocated at start (the SIGBUS handler
 * cannot allocate): counts per (region, phase, thread, kind missing|minor);
 * a timeline of 100 us bins per (region, phase), each phase's bins starting
 * at that phase's start; a log-linear histogram of handling time (signal
 * handler entry or message read, to the resolving ioctl's return; in thread
 * mode with the handler on the faulting thread's CPU this includes the
 * woken thread's run until it blocks again, if it preempts); the first
 * log_max raw events. Phases are announced by the harness (warmup: from
 * start until the timed region; timed; teardown). Threads are known by their
 * kernel tid; mmb_uffd_thread_name() gives the calling thread a label.
 *
 * Thread model: one monitor per process. Region add/del from any thread
 * (a spinlock guards the sorted range table; the lock is never held across
 * a system call, so a fault in the lock holder cannot deadlock); counters
 * are updated with atomic adds by the handler thread or the faulting
 * threads; results are read after mmb_uffd_stop().
 *
 * The kernel's own count of the timed region (perf software event
 * page-faults, user mode) is here too: mmb_perf_faults_*.
 */
#ifndef MMB_UFFD_H
#define MMB_UFFD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum mmb_fault_mode { MMB_FAULTS_OFF, MMB_FAULTS_UFFD, MMB_FAULTS_SIGBUS, MMB_FAULTS_AUTO };
enum mmb_fault_phase { MMB_PHASE_WARMUP, MMB_PHASE_TIMED, MMB_PHASE_TEARDOWN, MMB_NPHASES };
enum mmb_fault_kind { MMB_FAULT_MISSING, MMB_FAULT_MINOR, MMB_NKINDS };

#define MMB_UFFD_MAX_NAMES 16
#define MMB_UFFD_MAX_THREADS 64		/* more threads share the "other" slot */
#define MMB_UFFD_BIN_NS 100000ULL	/* timeline resolution */

extern const char *const mmb_fault_mode_names[];	/* "off", "uffd", "sigbus", "auto" */
extern const char *const mmb_fault_phase_names[];	/* "warmup", "timed", "teardown" */

/* "off|uffd|sigbus|auto" -> mode; -EINVAL for anything else. */
int mmb_fault_mode_parse(const char *s, enum mmb_fault_mode *r_mode);

/* cells.csv fault_census of a mode as run: 0 timing (off), 1 uffd, 2 sigbus. */
static inline double mmb_fault_census(enum mmb_fault_mode mode)
{
	return mode == MMB_FAULTS_UFFD ? 1 : mode == MMB_FAULTS_SIGBUS ? 2 : 0;
}

struct mmb_uffd_opts {
	enum mmb_fault_mode mode;	/* UFFD or SIGBUS */
	int handler_cpu;		/* uffd mode: pin the handler here; -1 = not pinned */
	unsigned log_max;		/* raw events kept for the log */
};

struct mmb_uffd_info {
	const char *open_path;		/* "userfaultfd(UFFD_USER_MODE_ONLY)" or "/dev/userfaultfd" */
	int kernel_faults;		/* 1: faults in system calls are trapped too */
	int minor;			/* MINOR registration available (MINOR_SHMEM) */
	uint64_t features;		/* UFFDIO_API features granted */
};

struct mmb_uffd;

/*
 * Can a monitor of this mode be opened here? 0 with r_info filled (may be
 * NULL), or -errno with why filled ("userfaultfd(UFFD_USER_MODE_ONLY):
 * Operation not permitted; /dev/userfaultfd: ...").
 */
int mmb_uffd_probe(enum mmb_fault_mode mode, struct mmb_uffd_info *r_info, char *why,
		   size_t whylen);

/*
 * Open the uffd, start the handler (thread or SIGBUS handler) and install the
 * region hooks. Phase starts as warmup. Returns 0 or -errno with why filled;
 * -EBUSY when a monitor is already running in this process.
 */
int mmb_uffd_start(const struct mmb_uffd_opts *o, struct mmb_uffd **r_m, char *why, size_t whylen);

/* Enter a phase (cell.c: timed at the barrier, teardown at the stop). */
void mmb_uffd_set_phase(struct mmb_uffd *m, enum mmb_fault_phase phase);

/* Label the calling thread in per-thread counts ("w0", "main", ...). */
void mmb_uffd_thread_name(struct mmb_uffd *m, const char *label);

/*
 * Remove the hooks, unregister every range, stop the handler and close the
 * uffd. Counts stay readable until mmb_uffd_free(). Allocators must be
 * destroyed before (their ranges would otherwise stay unmonitored but
 * registered nowhere: they then fault as plain memory).
 */
void mmb_uffd_stop(struct mmb_uffd *m);
void mmb_uffd_free(struct mmb_uffd *m);

const struct mmb_uffd_info *mmb_uffd_info(const struct mmb_uffd *m);

/*
 * Faults counted. region NULL = all, phase -1 = all, thread NULL = all
 * (a label, or "tid:N" for an unlabelled thread), kind -1 = both.
 */
uint64_t mmb_uffd_count(const struct mmb_uffd *m, const char *region, int phase, const char *thread,
			int kind);
uint64_t mmb_uffd_duplicates(const struct mmb_uffd *m);	/* EEXIST: resolved by another */
unsigned mmb_uffd_nregions(const struct mmb_uffd *m);	/* names seen so far */

/* Handling time percentile (0 < q < 1) in ns, or NaN when nothing was handled. */
double mmb_uffd_latency_ns(const struct mmb_uffd *m, double q);

/*
 * Writers (CSV with a header row; 0 or -EIO):
 *   timeline:  region,phase,t_ns,faults   (t_ns = bin start relative to the
 *              timed region's start; bins of one width for the whole cell,
 *              at most ~1000 per (region, phase), zero bins included up to
 *              each (region, phase)'s last fault)
 *   counts:    region,phase,thread,kind,faults   (non-zero rows)
 *   latency:   lo_ns,hi_ns,count                 (non-empty histogram buckets)
 *   log:       t_ns,address,region,thread,access,kind   (first log_max events;
 *              the exact faulting address where the kernel gives it)
 */
int mmb_uffd_write_timeline(const struct mmb_uffd *m, FILE *f);
int mmb_uffd_write_counts(const struct mmb_uffd *m, FILE *f);
int mmb_uffd_write_latency(const struct mmb_uffd *m, FILE *f);
int mmb_uffd_write_log(const struct mmb_uffd *m, FILE *f);

/*
 * perf software event page-faults (user mode) of the calling process, for
 * threads created after open (inherit). open: 0 or -errno (why filled);
 * start/stop enable and disable; read gives the count (after the counted
 * threads are joined) or -1.
 */
int mmb_perf_faults_open(int *r_fd, char *why, size_t whylen);
void mmb_perf_faults_enable(int fd, int on);
int64_t mmb_perf_faults_read(int fd);

#endif /* MMB_UFFD_H */

/*
 * uffd.c — the page-fault monitor (uffd.h).
 *
 * Data structures, all allocated at start so the SIGBUS handler never
 * allocates (timeline chunks excepted: they are mmap'ed on first use, and
 * mmap is a plain system call):
 *
 *	ranges[]	sorted, disjoint [start, end) ranges, each with its
 *			name index and the modes registered with the kernel;
 *			capacity UFFD_MAX_RANGES (vm.max_map_count bounds
 *			VMAs anyway), mmap'ed NORESERVE so only used slots
 *			cost memory. Guarded by `lock`, a spinlock never held
 *			across a system call.
 *	names[]		region names; index MMB_UFFD_MAX_NAMES is "?" (a
 *			message for an address no range holds: a race with
 *			mmb_region_del).
 *	threads[]	kernel tid -> slot, claimed with a CAS on first fault;
 *			slot MMB_UFFD_MAX_THREADS is "other".
 *	counts[name][phase][thread][kind]	atomic adds.
 *	bins[name][phase][chunk] -> UFFD_CHUNK_BINS counters of
 *			MMB_UFFD_BIN_NS each, from the phase's start.
 *	hist		handling time, hist.h's log-linear histogram (the
 *			measurement core's), recorded with atomic adds
 *			(mmb_hist_record_shared).
 *	log[]		the first log_max events, slot taken by an atomic add.
 *
 * Invariants: ranges[i].end <= ranges[i+1].start; every range in the table
 * is registered with the kernel (added after UFFDIO_REGISTER succeeded,
 * removed before UFFDIO_UNREGISTER); sum over counts of the fault kinds =
 * faults resolved by the monitor.
 */
#include "uffd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "../allocators/os.h"
#include "hist.h"
#include "util.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define UFFD_PAGE 4096UL
#define UFFD_MAX_RANGES 65536
#define UFFD_CHUNK_BINS 65536
#define UFFD_MAX_CHUNKS 256		/* x 65536 x 100 us = 1677 s; later events go to the last bin */
#define UFFD_UNKNOWN MMB_UFFD_MAX_NAMES
#define UFFD_OTHER MMB_UFFD_MAX_THREADS
#define UFFD_TIMELINE_ROWS 1000
#define UFFD_KIND_DUP 2			/* counts[][][][2]: EEXIST, resolved by another */
#define UFFD_KIND_ERR 3			/* counts[][][][3]: resolution failed */
#define UFFD_NCOUNT 4

const char *const mmb_fault_mode_names[] = { "off", "uffd", "sigbus", "auto" };
const char *const mmb_fault_phase_names[] = { "warmup", "timed", "teardown" };
static const char *const uffd_kind_names[] = { "missing", "minor", "duplicate", "error" };

struct uffd_range {
	uintptr_t start, end;
	uint16_t name;
	uint8_t modes;			/* MMB_REGION_* registered */
	uint8_t anon;
};

struct uffd_thread {
	atomic_int tid;
	char label[24];
};

struct uffd_event {
	uint64_t t_ns;
	uintptr_t addr;
	uint16_t name, thread;
	uint8_t write, kind;
};

struct mmb_uffd {
	struct mmb_uffd_opts o;
	struct mmb_uffd_info info;
	int fd, stop_fd;
	uint64_t zero_ioctls;		/* ioctls valid for a range: ZEROPAGE usable */
	pthread_t handler;
	int handler_running, sigbus_installed, hooks_installed;
	struct sigaction old_bus;

	atomic_flag lock;
	struct uffd_range *ranges;
	unsigned nranges;
	char names[MMB_UFFD_MAX_NAMES + 1][32];
	unsigned nnames;

	atomic_int phase;
	uint64_t phase_start_ns[MMB_NPHASES];
	int phase_seen[MMB_NPHASES];

	struct uffd_thread threads[MMB_UFFD_MAX_THREADS + 1];
	uint64_t counts[MMB_UFFD_MAX_NAMES + 1][MMB_NPHASES][MMB_UFFD_MAX_THREADS + 1][UFFD_NCOUNT];
	uint64_t *bins[MMB_UFFD_MAX_NAMES + 1][MMB_NPHASES][UFFD_MAX_CHUNKS];
	struct mmb_hist hist;
	struct uffd_event *log;
	uint64_t nlog;
};

static struct mmb_uffd *_Atomic uffd_active;
static char uffd_zero_page[UFFD_PAGE] __attribute__((aligned(UFFD_PAGE)));

int mmb_fault_mode_parse(const char *s, enum mmb_fault_mode *r_mode)
{
	for (int i = 0; i <= MMB_FAULTS_AUTO; i++)
		if (!strcmp(s, mmb_fault_mode_names[i])) {
			*r_mode = (enum mmb_fault_mode)i;
			return 0;
		}
	return -EINVAL;
}

/* ---- opening ----------------------------------------------------------- */

/* New uffd (O_CLOEXEC | O_NONBLOCK): the user-mode-only syscall, then the
 * device. Returns the fd or -errno; *r_path says which. */
static int uffd_open(const char **r_path, char *why, size_t whylen)
{
	const char *how = getenv("MMB_UFFD_OPEN");
	int fd, e1 = 0, e2 = 0, dev;

	if (!how || !*how)
		how = "auto";
	if (strcmp(how, "auto") && strcmp(how, "syscall") && strcmp(how, "device") &&
	    strcmp(how, "none")) {
		snprintf(why, whylen, "MMB_UFFD_OPEN=%s: expected auto|syscall|device|none", how);
		return -EINVAL;
	}
	if (!strcmp(how, "none")) {
		snprintf(why, whylen, "userfaultfd disabled by MMB_UFFD_OPEN=none");
		return -ENOSYS;
	}
	if (strcmp(how, "device")) {
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
		if (fd >= 0) {
			*r_path = "userfaultfd(UFFD_USER_MODE_ONLY)";
			return fd;
		}
		e1 = errno;
	}
	if (strcmp(how, "syscall")) {
		dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
		if (dev >= 0) {
			fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
			e2 = errno;
			close(dev);
			if (fd >= 0) {
				*r_path = "/dev/userfaultfd";
				return fd;
			}
		} else {
			e2 = errno;
		}
	}
	if (e1 && e2)
		snprintf(why, whylen, "userfaultfd(UFFD_USER_MODE_ONLY): %s; /dev/userfaultfd: %s",
			 strerror(e1), strerror(e2));
	else
		snprintf(why, whylen, "%s: %s", e1 ? "userfaultfd(UFFD_USER_MODE_ONLY)" :
			 "/dev/userfaultfd", strerror(e1 ? e1 : e2));
	return -(e1 ? e1 : e2);
}

/* Open and handshake with the features the mode needs. Returns fd or -errno. */
static int uffd_open_api(enum mmb_fault_mode mode, struct mmb_uffd_info *info, char *why,
			 size_t whylen)
{
	struct uffdio_api api = { .api = UFFD_API };
	uint64_t want = UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_THREAD_ID;
	const char *path = "";
	int fd = uffd_open(&path, why, whylen);

	if (fd < 0)
		return fd;
	if (ioctl(fd, UFFDIO_API, &api)) {	/* features 0: what is supported */
		int e = errno;

		snprintf(why, whylen, "UFFDIO_API: %s", strerror(e));
		close(fd);
		return -e;
	}
	close(fd);
	if (mode == MMB_FAULTS_SIGBUS)
		want |= UFFD_FEATURE_SIGBUS;
	if ((api.features & want) != want) {
		snprintf(why, whylen, "userfaultfd lacks features 0x%llx (kernel has 0x%llx)",
			 (unsigned long long)(want & ~api.features), (unsigned long long)api.features);
		return -ENOTSUP;
	}
	/* Optional: MINOR regions; the exact fault address for the log (the
	 * SIGBUS mode's si_addr is exact anyway). */
	want |= api.features & (UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_EXACT_ADDRESS);
	fd = uffd_open(&path, why, whylen);
	if (fd < 0)
		return fd;
	api = (struct uffdio_api){ .api = UFFD_API, .features = want };
	if (ioctl(fd, UFFDIO_API, &api)) {
		int e = errno;

		snprintf(why, whylen, "UFFDIO_API(0x%llx): %s", (unsigned long long)want, strerror(e));
		close(fd);
		return -e;
	}
	info->open_path = path;
	info->features = api.features;
	info->minor = !!(api.features & UFFD_FEATURE_MINOR_SHMEM);
	info->kernel_faults = !strcmp(path, "/dev/userfaultfd") && mode == MMB_FAULTS_UFFD;
	return fd;
}

int mmb_uffd_probe(enum mmb_fault_mode mode, struct mmb_uffd_info *r_info, char *why,
		   size_t whylen)
{
	struct mmb_uffd_info info;
	int fd = uffd_open_api(mode, &info, why, whylen);

	if (fd < 0)
		return fd;
	close(fd);
	if (r_info)
		*r_info = info;
	return 0;
}

/* ---- ranges ------------------------------------------------------------ */

static void uffd_lock(struct mmb_uffd *m)
{
	while (atomic_flag_test_and_set_explicit(&m->lock, memory_order_acquire))
		;
}

static void uffd_unlock(struct mmb_uffd *m)
{
	atomic_flag_clear_explicit(&m->lock, memory_order_release);
}

/* First range with end > addr. Lock held. */
static unsigned uffd_first_after(const struct mmb_uffd *m, uintptr_t addr)
{
	unsigned lo = 0, hi = m->nranges;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (m->ranges[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Copy of the range holding addr; 0, or -ENOENT. */
static int uffd_lookup(struct mmb_uffd *m, uintptr_t addr, struct uffd_range *r)
{
	int rc = -ENOENT;
	unsigned i;

	uffd_lock(m);
	i = uffd_first_after(m, addr);
	if (i < m->nranges && m->ranges[i].start <= addr) {
		*r = m->ranges[i];
		rc = 0;
	}
	uffd_unlock(m);
	return rc;
}

/* Remove [start, end) from the table, trimming or splitting ranges. Lock
 * held. -ENOSPC when a split finds the table full. */
static int uffd_carve(struct mmb_uffd *m, uintptr_t start, uintptr_t end)
{
	unsigned i = uffd_first_after(m, start);

	while (i < m->nranges && m->ranges[i].start < end) {
		struct uffd_range *r = &m->ranges[i];

		if (r->start < start && r->end > end) {		/* split */
			if (m->nranges == UFFD_MAX_RANGES)
				return -ENOSPC;
			memmove(r + 1, r, (m->nranges - i) * sizeof(*r));
			m->nranges++;
			r->end = start;
			r[1].start = end;
			return 0;
		}
		if (r->start < start) {
			r->end = start;
			i++;
		} else if (r->end > end) {
			r->start = end;
			i++;
		} else {
			memmove(r, r + 1, (m->nranges - i - 1) * sizeof(*r));
			m->nranges--;
		}
	}
	return 0;
}

/* Name index, added when new. Lock held. -ENOSPC when full. */
static int uffd_name(struct mmb_uffd *m, const char *name)
{
	for (unsigned i = 0; i < m->nnames; i++)
		if (!strncmp(m->names[i], name, sizeof(m->names[i]) - 1))
			return (int)i;
	if (m->nnames == MMB_UFFD_MAX_NAMES)
		return -ENOSPC;
	snprintf(m->names[m->nnames], sizeof(m->names[0]), "%s", name);
	return (int)m->nnames++;
}

static int uffd_region_add(void *ctx, const char *name, void *addr, size_t len, unsigned modes,
			   int fd, off_t off)
{
	struct mmb_uffd *m = ctx;
	uintptr_t start = (uintptr_t)addr, end = start + len;
	struct uffdio_register reg = { .range = { start, len }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffd_range r = { start, end, 0, MMB_REGION_MISSING, fd < 0 };
	unsigned i;
	int rc;

	(void)off;
	if (!len || (start | len) & (UFFD_PAGE - 1) || !name || !*name)
		return -EINVAL;
	if ((modes & MMB_REGION_MINOR) && fd >= 0 && m->info.minor) {
		reg.mode |= UFFDIO_REGISTER_MODE_MINOR;
		r.modes |= MMB_REGION_MINOR;
	}
	if (ioctl(m->fd, UFFDIO_REGISTER, &reg))
		return -errno;
	uffd_lock(m);
	rc = uffd_name(m, name);
	if (rc >= 0) {
		r.name = (uint16_t)rc;
		rc = uffd_carve(m, start, end);	/* a remap without del: forget the old */
	}
	if (!rc && m->nranges == UFFD_MAX_RANGES)
		rc = -ENOSPC;
	if (!rc) {
		i = uffd_first_after(m, start);
		memmove(&m->ranges[i + 1], &m->ranges[i], (m->nranges - i) * sizeof(r));
		m->ranges[i] = r;
		m->nranges++;
	}
	uffd_unlock(m);
	if (rc) {
		struct uffdio_range ur = { start, len };

		ioctl(m->fd, UFFDIO_UNREGISTER, &ur);
	}
	return rc;
}

static void uffd_region_del(void *ctx, void *addr, size_t len)
{
	struct mmb_uffd *m = ctx;
	uintptr_t start = (uintptr_t)addr & ~(UFFD_PAGE - 1);
	uintptr_t end = ((uintptr_t)addr + len + UFFD_PAGE - 1) & ~(UFFD_PAGE - 1);
	struct uffdio_range ur = { start, end - start };

	/* Unregister first: a fault from now on is an ordinary fault. Errors
	 * mean the range was unmapped already, which unregisters it too. */
	ioctl(m->fd, UFFDIO_UNREGISTER, &ur);
	uffd_lock(m);
	/* A split that finds the table full leaves a stale entry: harmless, no
	 * fault comes from an unregistered range, and a later add carves it. */
	(void)uffd_carve(m, start, end);
	uffd_unlock(m);
}

/* ---- recording --------------------------------------------------------- */

static unsigned uffd_thread_slot(struct mmb_uffd *m, int tid)
{
	for (unsigned i = 0; i < MMB_UFFD_MAX_THREADS; i++) {
		int t = atomic_load_explicit(&m->threads[i].tid, memory_order_acquire);

		if (t == tid)
			return i;
		if (t == 0) {
			if (atomic_compare_exchange_strong(&m->threads[i].tid, &t, tid) || t == tid)
				return i;
		}
	}
	return UFFD_OTHER;
}

void mmb_uffd_thread_name(struct mmb_uffd *m, const char *label)
{
	unsigned s = uffd_thread_slot(m, (int)gettid());

	if (s != UFFD_OTHER)
		snprintf(m->threads[s].label, sizeof(m->threads[s].label), "%s", label);
}

static void uffd_bin_add(struct mmb_uffd *m, unsigned name, int phase, uint64_t t_ns)
{
	uint64_t start = m->phase_start_ns[phase];
	uint64_t idx = t_ns > start ? (t_ns - start) / MMB_UFFD_BIN_NS : 0;
	uint64_t **slot, *chunk;

	if (idx >= (uint64_t)UFFD_MAX_CHUNKS * UFFD_CHUNK_BINS)
		idx = (uint64_t)UFFD_MAX_CHUNKS * UFFD_CHUNK_BINS - 1;
	slot = &m->bins[name][phase][idx / UFFD_CHUNK_BINS];
	chunk = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!chunk) {
		uint64_t *fresh = mmap(NULL, UFFD_CHUNK_BINS * sizeof(uint64_t),
				       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (fresh == MAP_FAILED)
			return;		/* the counts still hold the fault */
		chunk = NULL;
		if (__atomic_compare_exchange_n(slot, &chunk, fresh, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			chunk = fresh;
		else
			munmap(fresh, UFFD_CHUNK_BINS * sizeof(uint64_t));
	}
	__atomic_fetch_add(&chunk[idx % UFFD_CHUNK_BINS], 1, __ATOMIC_RELAXED);
}

/* Account one handled fault (kind: missing, minor, dup or error) in the
 * phase that was current when the monitor saw it. */
static void uffd_record(struct mmb_uffd *m, unsigned name, int tid, uintptr_t addr, int write,
			unsigned kind, int phase, uint64_t t0_ns, uint64_t t1_ns)
{
	unsigned th = uffd_thread_slot(m, tid);

	__atomic_fetch_add(&m->counts[name][phase][th][kind], 1, __ATOMIC_RELAXED);
	if (kind >= MMB_NKINDS)
		return;
	mmb_hist_record_shared(&m->hist, t1_ns - t0_ns);
	uffd_bin_add(m, name, phase, t0_ns);
	if (m->o.log_max) {
		uint64_t i = __atomic_fetch_add(&m->nlog, 1, __ATOMIC_RELAXED);

		if (i < m->o.log_max)
			m->log[i] = (struct uffd_event){ t0_ns, addr, (uint16_t)name, (uint16_t)th,
							 (uint8_t)write, (uint8_t)kind };
	}
}

/* ---- resolving --------------------------------------------------------- */

/* One resolving ioctl on one page; 0 or -errno (EAGAIN retried). */
static int uffd_ioctl_page(struct mmb_uffd *m, unsigned long req, uintptr_t page)
{
	for (int tries = 0; tries < 1000; tries++) {
		int rc;

		if (req == UFFDIO_COPY) {
			struct uffdio_copy c = { page, (uintptr_t)uffd_zero_page, UFFD_PAGE, 0, 0 };

			rc = ioctl(m->fd, req, &c);
		} else if (req == UFFDIO_ZEROPAGE) {
			struct uffdio_zeropage z = { { page, UFFD_PAGE }, 0, 0 };

			rc = ioctl(m->fd, req, &z);
		} else {
			struct uffdio_continue c = { { page, UFFD_PAGE }, 0, 0 };

			rc = ioctl(m->fd, req, &c);
		}
		if (!rc)
			return 0;
		if (errno != EAGAIN)
			return -errno;
		sched_yield();	/* the layout is changing: let it finish */
	}
	return -EAGAIN;
}

/*
 * Resolve the fault at page: MINOR with CONTINUE (minor: 1 known from the
 * message, -1 unknown (SIGBUS): try, EFAULT means a hole), else MISSING.
 * Returns the kind, UFFD_KIND_DUP on EEXIST, or -errno.
 */
static int uffd_resolve(struct mmb_uffd *m, const struct uffd_range *r, uintptr_t page, int write,
			int minor)
{
	unsigned long req;
	int rc;

	if (minor > 0 || (minor < 0 && (r->modes & MMB_REGION_MINOR))) {
		rc = uffd_ioctl_page(m, UFFDIO_CONTINUE, page);
		if (!rc)
			return MMB_FAULT_MINOR;
		if (rc == -EEXIST)
			return UFFD_KIND_DUP;
		if (minor > 0 || rc != -EFAULT)
			return rc;
	}
	req = r->anon && write ? UFFDIO_COPY : UFFDIO_ZEROPAGE;
	rc = uffd_ioctl_page(m, req, page);
	if (rc == -EINVAL && req == UFFDIO_ZEROPAGE)
		rc = uffd_ioctl_page(m, UFFDIO_COPY, page);
	if (!rc)
		return MMB_FAULT_MISSING;
	return rc == -EEXIST ? UFFD_KIND_DUP : rc;
}

static void uffd_on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	struct mmb_uffd *m = atomic_load(&uffd_active);
	int saved = errno, write = 1, rc;
	uintptr_t page = (uintptr_t)si->si_addr & ~(UFFD_PAGE - 1);
	struct uffd_range r;
	uint64_t t0 = mmb_now_ns();
	int phase = m ? atomic_load_explicit(&m->phase, memory_order_acquire) : 0;

#ifdef REG_ERR
	write = !!(((ucontext_t *)uctx)->uc_mcontext.gregs[REG_ERR] & 2);	/* X86_PF_WRITE */
#else
	(void)uctx;
#endif
	if (!m || si->si_code != BUS_ADRERR || uffd_lookup(m, page, &r))
		goto chain;
	rc = uffd_resolve(m, &r, page, write, -1);
	if (rc < 0)
		goto chain;	/* not ours to fix (beyond EOF, unregistered): the usual SIGBUS */
	uffd_record(m, r.name, (int)gettid(), (uintptr_t)si->si_addr, write, (unsigned)rc, phase,
		    t0, mmb_now_ns());
	errno = saved;
	return;
chain:
	if (m && m->old_bus.sa_flags & SA_SIGINFO && m->old_bus.sa_sigaction) {
		m->old_bus.sa_sigaction(sig, si, uctx);
	} else if (m && m->old_bus.sa_handler != SIG_DFL && m->old_bus.sa_handler != SIG_IGN) {
		m->old_bus.sa_handler(sig);
	} else {
		signal(SIGBUS, SIG_DFL);	/* returning retries the access: it dies */
	}
	errno = saved;
}

static void uffd_handle_msg(struct mmb_uffd *m, const struct uffd_msg *msg, int phase, uint64_t t0)
{
	uintptr_t addr = (uintptr_t)msg->arg.pagefault.address;
	uintptr_t page = addr & ~(UFFD_PAGE - 1);
	int write = !!(msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE);
	int minor = !!(msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR);
	struct uffd_range r = { page, page + UFFD_PAGE, UFFD_UNKNOWN, MMB_REGION_MISSING, 0 };
	int rc;

	if (msg->event != UFFD_EVENT_PAGEFAULT)
		return;
	uffd_lookup(m, page, &r);	/* unknown: a range being withdrawn */
	rc = uffd_resolve(m, &r, page, write, minor);
	if (rc == UFFD_KIND_DUP || rc < 0) {
		struct uffdio_range w = { page, UFFD_PAGE };

		ioctl(m->fd, UFFDIO_WAKE, &w);	/* the thread may still sleep */
	}
	uffd_record(m, r.name, (int)msg->arg.pagefault.feat.ptid, addr, write,
		    rc < 0 ? UFFD_KIND_ERR : (unsigned)rc, phase, t0, mmb_now_ns());
}

static void *uffd_handler_main(void *arg)
{
	struct mmb_uffd *m = arg;
	struct uffd_msg msgs[64];
	struct pollfd pfd[2] = { { m->fd, POLLIN, 0 }, { m->stop_fd, POLLIN, 0 } };

	for (;;) {
		ssize_t n = read(m->fd, msgs, sizeof(msgs));
		uint64_t t0 = mmb_now_ns();
		int phase = atomic_load_explicit(&m->phase, memory_order_acquire);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				break;
			if (poll(pfd, 2, -1) < 0 && errno != EINTR)
				break;
			if (pfd[1].revents)
				break;
			continue;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(msgs[0]); i++)
			uffd_handle_msg(m, &msgs[i], phase, t0);
	}
	return NULL;
}

/* ---- life cycle -------------------------------------------------------- */

int mmb_uffd_start(const struct mmb_uffd_opts *o, struct mmb_uffd **r_m, char *why, size_t whylen)
{
	struct mmb_uffd *m, *none = NULL;
	int rc;

	if (o->mode != MMB_FAULTS_UFFD && o->mode != MMB_FAULTS_SIGBUS) {
		snprintf(why, whylen, "fault mode %s has no monitor", mmb_fault_mode_names[o->mode]);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(why, whylen, "out of memory for the fault monitor");
		return -ENOMEM;
	}
	m->o = *o;
	m->fd = m->stop_fd = -1;
	atomic_flag_clear(&m->lock);
	mmb_hist_init(&m->hist);
	snprintf(m->names[UFFD_UNKNOWN], sizeof(m->names[0]), "?");
	snprintf(m->threads[UFFD_OTHER].label, sizeof(m->threads[0].label), "other");
	m->phase_start_ns[MMB_PHASE_WARMUP] = mmb_now_ns();
	m->phase_seen[MMB_PHASE_WARMUP] = 1;
	m->ranges = mmap(NULL, UFFD_MAX_RANGES * sizeof(*m->ranges), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->ranges == MAP_FAILED) {
		m->ranges = NULL;
		rc = -ENOMEM;
		snprintf(why, whylen, "out of memory for the range table");
		goto fail;
	}
	if (o->log_max && !(m->log = calloc(o->log_max, sizeof(*m->log)))) {
		rc = -ENOMEM;
		snprintf(why, whylen, "out of memory for a fault log of %u events", o->log_max);
		goto fail;
	}
	rc = uffd_open_api(o->mode, &m->info, why, whylen);
	if (rc < 0)
		goto fail;
	m->fd = rc;
	if (!atomic_compare_exchange_strong(&uffd_active, &none, m)) {
		rc = -EBUSY;
		snprintf(why, whylen, "a fault monitor is already running in this process");
		goto fail;
	}
	if (o->mode == MMB_FAULTS_SIGBUS) {
		struct sigaction sa = { 0 };

		sa.sa_sigaction = uffd_on_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &m->old_bus)) {
			rc = -errno;
			snprintf(why, whylen, "sigaction(SIGBUS): %s", strerror(errno));
			goto fail_active;
		}
		m->sigbus_installed = 1;
	} else {
		pthread_attr_t attr;

		m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->stop_fd < 0) {
			rc = -errno;
			snprintf(why, whylen, "eventfd: %s", strerror(errno));
			goto fail_active;
		}
		pthread_attr_init(&attr);
		if (o->handler_cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(o->handler_cpu, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		rc = -pthread_create(&m->handler, &attr, uffd_handler_main, m);
		pthread_attr_destroy(&attr);
		if (rc) {
			snprintf(why, whylen, "fault handler thread (cpu %d): %s", o->handler_cpu,
				 strerror(-rc));
			goto fail_active;
		}
		m->handler_running = 1;
	}
	mmb_region_set_hooks(&(struct mmb_region_hooks){ uffd_region_add, uffd_region_del, m });
	m->hooks_installed = 1;
	*r_m = m;
	return 0;

fail_active:
	atomic_store(&uffd_active, NULL);
fail:
	mmb_uffd_stop(m);
	mmb_uffd_free(m);
	return rc;
}

void mmb_uffd_set_phase(struct mmb_uffd *m, enum mmb_fault_phase phase)
{
	m->phase_start_ns[phase] = mmb_now_ns();
	m->phase_seen[phase] = 1;
	atomic_store_explicit(&m->phase, (int)phase, memory_order_release);
}

void mmb_uffd_stop(struct mmb_uffd *m)
{
	struct mmb_uffd *self = m;

	if (m->hooks_installed)
		mmb_region_set_hooks(NULL);
	m->hooks_installed = 0;
	for (unsigned i = 0; m->fd >= 0 && i < m->nranges; i++) {
		struct uffdio_range ur = { m->ranges[i].start, m->ranges[i].end - m->ranges[i].start };

		ioctl(m->fd, UFFDIO_UNREGISTER, &ur);
	}
	m->nranges = 0;
	if (m->handler_running) {
		uint64_t one = 1;

		if (write(m->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(m->handler, NULL);
		m->handler_running = 0;
	}
	if (m->sigbus_installed) {
		sigaction(SIGBUS, &m->old_bus, NULL);
		m->sigbus_installed = 0;
	}
	atomic_compare_exchange_strong(&uffd_active, &self, NULL);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = m->stop_fd = -1;
}

void mmb_uffd_free(struct mmb_uffd *m)
{
	if (!m)
		return;
	for (unsigned n = 0; n <= MMB_UFFD_MAX_NAMES; n++)
		for (int p = 0; p < MMB_NPHASES; p++)
			for (unsigned c = 0; c < UFFD_MAX_CHUNKS; c++)
				if (m->bins[n][p][c])
					munmap(m->bins[n][p][c], UFFD_CHUNK_BINS * sizeof(uint64_t));
	if (m->ranges)
		munmap(m->ranges, UFFD_MAX_RANGES * sizeof(*m->ranges));
	free(m->log);
	free(m);
}

const struct mmb_uffd_info *mmb_uffd_info(const struct mmb_uffd *m)
{
	return &m->info;
}

/* ---- reading ----------------------------------------------------------- */

static void uffd_thread_label(const struct mmb_uffd *m, unsigned t, char *buf, size_t len)
{
	if (m->threads[t].label[0])
		snprintf(buf, len, "%s", m->threads[t].label);
	else
		snprintf(buf, len, "tid:%d", atomic_load(&m->threads[t].tid));
}

static int uffd_name_matches(const struct mmb_uffd *m, unsigned n, const char *region)
{
	return !region || !strcmp(m->names[n], region);
}

static uint64_t uffd_sum(const struct mmb_uffd *m, const char *region, int phase,
			 const char *thread, int kind_lo, int kind_hi)
{
	uint64_t sum = 0;
	char label[32];

	for (unsigned n = 0; n <= MMB_UFFD_MAX_NAMES; n++) {
		if ((n < MMB_UFFD_MAX_NAMES && n >= m->nnames) || !uffd_name_matches(m, n, region))
			continue;
		for (int p = 0; p < MMB_NPHASES; p++) {
			if (phase >= 0 && p != phase)
				continue;
			for (unsigned t = 0; t <= MMB_UFFD_MAX_THREADS; t++) {
				if (thread) {
					uffd_thread_label(m, t, label, sizeof(label));
					if (strcmp(label, thread))
						continue;
				}
				for (int k = kind_lo; k <= kind_hi; k++)
					sum += m->counts[n][p][t][k];
			}
		}
	}
	return sum;
}

uint64_t mmb_uffd_count(const struct mmb_uffd *m, const char *region, int phase, const char *thread,
			int kind)
{
	return kind < 0 ? uffd_sum(m, region, phase, thread, 0, MMB_NKINDS - 1)
			: uffd_sum(m, region, phase, thread, kind, kind);
}

uint64_t mmb_uffd_duplicates(const struct mmb_uffd *m)
{
	return uffd_sum(m, NULL, -1, NULL, UFFD_KIND_DUP, UFFD_KIND_DUP);
}

unsigned mmb_uffd_nregions(const struct mmb_uffd *m)
{
	return m->nnames;
}

double mmb_uffd_latency_ns(const struct mmb_uffd *m, double q)
{
	return mmb_hist_quantile(&m->hist, q);
}

static uint64_t uffd_bin(const struct mmb_uffd *m, unsigned n, int p, uint64_t idx)
{
	const uint64_t *chunk = m->bins[n][p][idx / UFFD_CHUNK_BINS];

	return chunk ? chunk[idx % UFFD_CHUNK_BINS] : 0;
}

/* Index of the last non-empty bin + 1 (0 = none). */
static uint64_t uffd_bins_used(const struct mmb_uffd *m, unsigned n, int p)
{
	for (unsigned c = UFFD_MAX_CHUNKS; c-- > 0;) {
		const uint64_t *chunk = m->bins[n][p][c];

		if (!chunk)
			continue;
		for (unsigned i = UFFD_CHUNK_BINS; i-- > 0;)
			if (chunk[i])
				return (uint64_t)c * UFFD_CHUNK_BINS + i + 1;
	}
	return 0;
}

int mmb_uffd_write_timeline(const struct mmb_uffd *m, FILE *f)
{
	uint64_t used[MMB_UFFD_MAX_NAMES + 1][MMB_NPHASES], most = 0, width;
	int64_t origin = (int64_t)m->phase_start_ns[m->phase_seen[MMB_PHASE_TIMED] ? MMB_PHASE_TIMED :
						    MMB_PHASE_WARMUP];

	fputs("region,phase,t_ns,faults\n", f);
	for (unsigned n = 0; n <= MMB_UFFD_MAX_NAMES; n++)
		for (int p = 0; p < MMB_NPHASES; p++) {
			used[n][p] = uffd_bins_used(m, n, p);
			if (used[n][p] > most)
				most = used[n][p];
		}
	width = (most + UFFD_TIMELINE_ROWS - 1) / UFFD_TIMELINE_ROWS;
	if (width < 1)
		width = 1;
	for (unsigned n = 0; n <= MMB_UFFD_MAX_NAMES; n++)
		for (int p = 0; p < MMB_NPHASES; p++) {
			int64_t base = (int64_t)m->phase_start_ns[p] - origin;

			for (uint64_t b = 0; b < used[n][p]; b += width) {
				uint64_t sum = 0;

				for (uint64_t i = b; i < b + width && i < used[n][p]; i++)
					sum += uffd_bin(m, n, p, i);
				fprintf(f, "%s,%s,%lld,%llu\n", m->names[n], mmb_fault_phase_names[p],
					(long long)(base + (int64_t)(b * MMB_UFFD_BIN_NS)),
					(unsigned long long)sum);
			}
		}
	return ferror(f) ? -EIO : 0;
}

int mmb_uffd_write_counts(const struct mmb_uffd *m, FILE *f)
{
	char label[32];

	fputs("region,phase,thread,kind,faults\n", f);
	for (unsigned n = 0; n <= MMB_UFFD_MAX_NAMES; n++)
		for (int p = 0; p < MMB_NPHASES; p++)
			for (unsigned t = 0; t <= MMB_UFFD_MAX_THREADS; t++)
				for (int k = 0; k < UFFD_NCOUNT; k++) {
					if (!m->counts[n][p][t][k])
						continue;
					uffd_thread_label(m, t, label, sizeof(label));
					fprintf(f, "%s,%s,%s,%s,%llu\n", m->names[n],
						mmb_fault_phase_names[p], label, uffd_kind_names[k],
						(unsigned long long)m->counts[n][p][t][k]);
				}
	return ferror(f) ? -EIO : 0;
}

int mmb_uffd_write_latency(const struct mmb_uffd *m, FILE *f)
{
	fputs("lo_ns,hi_ns,count\n", f);
	for (unsigned b = 0; b < MMB_HIST_NBUCKETS; b++) {
		uint64_t lo, hi;

		if (!m->hist.counts[b])
			continue;
		mmb_hist_bucket(&m->hist, b, &lo, &hi);
		fprintf(f, "%llu,%llu,%llu\n", (unsigned long long)lo, (unsigned long long)hi,
			(unsigned long long)m->hist.counts[b]);
	}
	return ferror(f) ? -EIO : 0;
}

int mmb_uffd_write_log(const struct mmb_uffd *m, FILE *f)
{
	uint64_t n = m->nlog < m->o.log_max ? m->nlog : m->o.log_max;
	int64_t origin = (int64_t)m->phase_start_ns[m->phase_seen[MMB_PHASE_TIMED] ? MMB_PHASE_TIMED :
						    MMB_PHASE_WARMUP];
	char label[32];

	fputs("t_ns,address,region,thread,access,kind\n", f);
	for (uint64_t i = 0; i < n; i++) {
		const struct uffd_event *e = &m->log[i];

		uffd_thread_label(m, e->thread, label, sizeof(label));
		fprintf(f, "%lld,0x%llx,%s,%s,%s,%s\n", (long long)((int64_t)e->t_ns - origin),
			(unsigned long long)e->addr, m->names[e->name], label,
			e->write ? "write" : "read", uffd_kind_names[e->kind]);
	}
	return ferror(f) ? -EIO : 0;
}

/* ---- the kernel's count ------------------------------------------------ */

int mmb_perf_faults_open(int *r_fd, char *why, size_t whylen)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(a),
		.config = PERF_COUNT_SW_PAGE_FAULTS,
		.disabled = 1,
		.inherit = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		snprintf(why, whylen, "perf_event_open(page-faults): %s", strerror(e));
		return -e;
	}
	*r_fd = fd;
	return 0;
}

void mmb_perf_faults_enable(int fd, int on)
{
	ioctl(fd, on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}

int64_t mmb_perf_faults_read(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return -1;
	return (int64_t)v;
}

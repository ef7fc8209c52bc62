/*
 * perf.h — hardware and software counters: libpfm4 names, perf_event_open.
 *
 * An event list (--events, any name libpfm4 knows) is encoded once with
 * libpfm4 (pfm_get_os_event_encoding, PFM_OS_PERF_EVENT_EXT), user+kernel
 * (retried user-only where the kernel refuses with EACCES). Each worker
 * thread opens its own group (pid 0 = itself, any CPU, inherit 0), so a
 * thread's counts are its own; the cell sums the groups. Events open one by
 * one: one the kernel refuses (ENOENT where the machine has no PMU, as on
 * these VMs; EOPNOTSUPP, ENODEV, EINVAL) is left out of the group and reads
 * as n/a with the reason kept, and the first event that opens leads.
 *
 * Multiplexing: a group read returns time_enabled and time_running; every
 * value is scaled by enabled / running. A group that never ran (running 0)
 * reads as not measured, never as 0.
 *
 * The system calls go through a backend (struct mmb_perf_backend) so tests
 * can substitute a fake counter and check the scaling.
 *
 * Thread model: a group is opened, started, stopped, read and closed by its
 * own thread; an event list is read-only once parsed.
 */
#ifndef MMB_PERF_H
#define MMB_PERF_H

#include <linux/perf_event.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MMB_PERF_MAX_EVENTS 16
#define MMB_PERF_DEFAULT "cycles,instructions,cache-misses,LLC-load-misses,dTLB-load-misses,branch-misses"
#define MMB_PERF_SOFTWARE "task-clock,page-faults,context-switches,cpu-migrations"

struct mmb_perf_backend {
	/* fd, or -errno */
	int (*open)(struct perf_event_attr *attr, int group_fd, void *ctx);
	int (*ioctl)(int fd, unsigned long req, unsigned long arg, void *ctx);
	ssize_t (*read)(int fd, void *buf, size_t len, void *ctx);
	void (*close)(int fd, void *ctx);
	void *ctx;
};

extern const struct mmb_perf_backend mmb_perf_sys;	/* the real system calls */

struct mmb_perf_events {
	unsigned n;
	char name[MMB_PERF_MAX_EVENTS][64];	/* as given */
	char col[MMB_PERF_MAX_EVENTS][80];	/* prefix + name, non-alnum -> '_' + suffix */
	struct perf_event_attr attr[MMB_PERF_MAX_EVENTS];
};

/*
 * Encode a comma-separated list. Column names are prefix + name with every
 * non-alphanumeric character as '_' + suffix ("hw_", "_per_op" gives
 * hw_LLC_load_misses_per_op). Returns 0, or -EINVAL with err naming the
 * event libpfm4 does not know (or a list too long / empty).
 */
int mmb_perf_parse(const char *list, const char *prefix, const char *suffix,
		   struct mmb_perf_events *r_ev, char *err, size_t errlen);

struct mmb_perf_group {
	const struct mmb_perf_backend *be;
	const struct mmb_perf_events *ev;
	int leader;			/* -1 when no event opened */
	int fd[MMB_PERF_MAX_EVENTS];	/* -1: not open */
	unsigned char opened[MMB_PERF_MAX_EVENTS];	/* 0: refused (n/a); kept after close */
	uint64_t id[MMB_PERF_MAX_EVENTS];
	char why[160];			/* first refusal: "cycles: ENOENT (...)" */
};

/* Open ev as one group on the calling thread, disabled. Returns the number
 * of events opened (0: why says why). */
int mmb_perf_open(struct mmb_perf_group *g, const struct mmb_perf_events *ev,
		  const struct mmb_perf_backend *be);
void mmb_perf_start(struct mmb_perf_group *g);	/* reset + enable */
void mmb_perf_stop(struct mmb_perf_group *g);

/*
 * Read the group and add each event's scaled value into r_sum[i] (which the
 * caller starts at 0). r_measured[i] is set to 1 for an event that opened
 * and ran. Returns 0 or -errno.
 */
int mmb_perf_read(struct mmb_perf_group *g, double *r_sum, int *r_measured);
void mmb_perf_close(struct mmb_perf_group *g);

/*
 * Open ev on the calling thread and close it again: 1 if at least one event
 * opens, else 0 with why saying what the kernel answered (meta.json).
 */
int mmb_perf_probe(const struct mmb_perf_events *ev, const struct mmb_perf_backend *be,
		   char *why, size_t len);

#endif /* MMB_PERF_H */

/*
 * perf.c — counter groups through libpfm4 and perf_event_open (perf.h).
 */
#include "perf.h"

#include <ctype.h>
#include <errno.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_open(struct perf_event_attr *attr, int group_fd, void *ctx)
{
	int fd = (int)syscall(SYS_perf_event_open, attr, 0, -1, group_fd, PERF_FLAG_FD_CLOEXEC);

	(void)ctx;
	return fd < 0 ? -errno : fd;
}

static int sys_ioctl(int fd, unsigned long req, unsigned long arg, void *ctx)
{
	(void)ctx;
	return ioctl(fd, req, arg) ? -errno : 0;
}

static ssize_t sys_read(int fd, void *buf, size_t len, void *ctx)
{
	ssize_t n = read(fd, buf, len);

	(void)ctx;
	return n < 0 ? -errno : n;
}

static void sys_close(int fd, void *ctx)
{
	(void)ctx;
	close(fd);
}

const struct mmb_perf_backend mmb_perf_sys = {
	.open = sys_open,
	.ioctl = sys_ioctl,
	.read = sys_read,
	.close = sys_close,
};

int mmb_perf_parse(const char *list, const char *prefix, const char *suffix,
		   struct mmb_perf_events *ev, char *err, size_t errlen)
{
	char buf[1024], *save = NULL;
	int rc = pfm_initialize();

	memset(ev, 0, sizeof(*ev));
	if (rc != PFM_SUCCESS) {
		snprintf(err, errlen, "--events: libpfm4 cannot start: %s", pfm_strerror(rc));
		return -EINVAL;
	}
	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "--events: list too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct perf_event_attr *attr = &ev->attr[ev->n];
		pfm_perf_encode_arg_t arg;
		char *c;

		if (ev->n == MMB_PERF_MAX_EVENTS) {
			snprintf(err, errlen, "--events: at most %d events", MMB_PERF_MAX_EVENTS);
			return -EINVAL;
		}
		if (strlen(tok) >= sizeof(ev->name[0])) {
			snprintf(err, errlen, "--events: event name '%.40s...' too long", tok);
			return -EINVAL;
		}
		memset(&arg, 0, sizeof(arg));
		memset(attr, 0, sizeof(*attr));
		arg.size = sizeof(arg);
		arg.attr = attr;
		rc = pfm_get_os_event_encoding(tok, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
		if (rc != PFM_SUCCESS) {
			snprintf(err, errlen, "--events: '%s': %s (libpfm4; see `perf list` for names)",
				 tok, pfm_strerror(rc));
			return -EINVAL;
		}
		attr->size = sizeof(*attr);
		attr->read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
				    PERF_FORMAT_TOTAL_TIME_RUNNING | PERF_FORMAT_ID;
		attr->inherit = 0;
		snprintf(ev->name[ev->n], sizeof(ev->name[0]), "%s", tok);
		for (c = tok; *c; c++)
			if (!isalnum((unsigned char)*c))
				*c = '_';
		snprintf(ev->col[ev->n], sizeof(ev->col[0]), "%s%s%s", prefix, tok, suffix);
		ev->n++;
	}
	if (!ev->n) {
		snprintf(err, errlen, "--events: empty list");
		return -EINVAL;
	}
	return 0;
}

int mmb_perf_open(struct mmb_perf_group *g, const struct mmb_perf_events *ev,
		  const struct mmb_perf_backend *be)
{
	int nopen = 0;

	memset(g, 0, sizeof(*g));
	g->be = be;
	g->ev = ev;
	g->leader = -1;
	for (unsigned i = 0; i < ev->n; i++) {
		struct perf_event_attr attr = ev->attr[i];
		int fd;

		attr.disabled = g->leader < 0;
		fd = be->open(&attr, g->leader, be->ctx);
		if (fd == -EACCES && !attr.exclude_kernel) {
			attr.exclude_kernel = 1;	/* perf_event_paranoid: user only */
			attr.exclude_hv = 1;
			fd = be->open(&attr, g->leader, be->ctx);
		}
		g->fd[i] = fd < 0 ? -1 : fd;
		if (fd < 0) {
			if (!g->why[0])
				snprintf(g->why, sizeof(g->why), "perf_event_open(%s): %s (%s)",
					 ev->name[i], strerrorname_np(-fd) ? strerrorname_np(-fd) : "?",
					 strerror(-fd));
			continue;
		}
		if (be->ioctl(fd, PERF_EVENT_IOC_ID, (unsigned long)&g->id[i], be->ctx)) {
			be->close(fd, be->ctx);
			g->fd[i] = -1;
			continue;
		}
		if (g->leader < 0)
			g->leader = fd;
		g->opened[i] = 1;
		nopen++;
	}
	return nopen;
}

void mmb_perf_start(struct mmb_perf_group *g)
{
	if (g->leader < 0)
		return;
	g->be->ioctl(g->leader, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP, g->be->ctx);
	g->be->ioctl(g->leader, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP, g->be->ctx);
}

void mmb_perf_stop(struct mmb_perf_group *g)
{
	if (g->leader >= 0)
		g->be->ioctl(g->leader, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP, g->be->ctx);
}

int mmb_perf_read(struct mmb_perf_group *g, double *r_sum, int *r_measured)
{
	struct {
		uint64_t nr, time_enabled, time_running;
		struct { uint64_t value, id; } v[MMB_PERF_MAX_EVENTS];
	} rf;
	ssize_t n;
	double scale;

	if (g->leader < 0)
		return 0;
	memset(&rf, 0, sizeof(rf));
	n = g->be->read(g->leader, &rf, sizeof(rf), g->be->ctx);
	if (n < 0)
		return (int)n;
	if ((size_t)n < 3 * sizeof(uint64_t) || rf.nr > MMB_PERF_MAX_EVENTS ||
	    (size_t)n < (3 + 2 * rf.nr) * sizeof(uint64_t))
		return -EIO;
	if (!rf.time_running)
		return 0;		/* never scheduled: not measured */
	scale = (double)rf.time_enabled / (double)rf.time_running;
	for (uint64_t k = 0; k < rf.nr; k++)
		for (unsigned i = 0; i < g->ev->n; i++)
			if (g->fd[i] >= 0 && g->id[i] == rf.v[k].id) {
				r_sum[i] += (double)rf.v[k].value * scale;
				r_measured[i] = 1;
			}
	return 0;
}

void mmb_perf_close(struct mmb_perf_group *g)
{
	for (unsigned i = 0; g->ev && i < g->ev->n; i++)
		if (g->fd[i] >= 0) {
			g->be->close(g->fd[i], g->be->ctx);
			g->fd[i] = -1;
		}
	g->leader = -1;
}

int mmb_perf_probe(const struct mmb_perf_events *ev, const struct mmb_perf_backend *be,
		   char *why, size_t len)
{
	struct mmb_perf_group g;
	int n = mmb_perf_open(&g, ev, be);

	snprintf(why, len, "%s", g.why);
	mmb_perf_close(&g);
	return n > 0;
}

/*
 * footprint.c — resident memory and the classic measures (footprint.h).
 */
#include "footprint.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Bytes the process's memfds hold (shmem pages allocated in the files),
 * found through /proc/self/fd with getdents64 into a stack buffer. */
static int fp_memfd_bytes(uint64_t *r_bytes)
{
	char buf[4096], link[64], target[256];
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t sum = 0;
	long n;

	if (dfd < 0)
		return -errno;
	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct fp_dirent {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (struct fp_dirent *)(buf + off);
			struct stat st;
			ssize_t len;

			off += d->reclen;
			if (d->name[0] < '0' || d->name[0] > '9')
				continue;
			snprintf(link, sizeof(link), "/proc/self/fd/%s", d->name);
			len = readlink(link, target, sizeof(target) - 1);
			if (len < 7 || strncmp(target, "/memfd:", 7))
				continue;
			if (fstat(atoi(d->name), &st) == 0)
				sum += (uint64_t)st.st_blocks * 512;
		}
	}
	close(dfd);
	if (n < 0)
		return -errno;
	*r_bytes = sum;
	return 0;
}

int mmb_resident_bytes(uint64_t *r_bytes)
{
	char buf[256];
	unsigned long long size, resident, shared;
	uint64_t memfd;
	ssize_t n;
	int rc, fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu %llu", &size, &resident, &shared) != 3 || shared > resident)
		return -EIO;
	rc = fp_memfd_bytes(&memfd);
	if (rc)
		return rc;
	*r_bytes = (uint64_t)(resident - shared) * (uint64_t)sysconf(_SC_PAGESIZE) + memfd;
	return 0;
}

void mmb_fp_init(struct mmb_fp_acc *acc)
{
	acc->live_peak = acc->fp_at_live_peak = acc->waste_at_live_peak = NAN;
	acc->fp_peak = acc->own_peak = NAN;
	acc->ratio_sum = 0;
	acc->ratio_n = 0;
}

void mmb_fp_add(struct mmb_fp_acc *acc, double live, double waste, double fp, double own)
{
	if (isnan(acc->live_peak) || live > acc->live_peak) {
		acc->live_peak = live;
		acc->fp_at_live_peak = fp;
		acc->waste_at_live_peak = waste;
	}
	if (!isnan(fp) && (isnan(acc->fp_peak) || fp > acc->fp_peak))
		acc->fp_peak = fp;
	if (!isnan(own) && (isnan(acc->own_peak) || own > acc->own_peak))
		acc->own_peak = own;
	if (!isnan(fp) && live > 0) {
		acc->ratio_sum += fp / live;
		acc->ratio_n++;
	}
}

double mmb_internal_frag(double live, double waste)
{
	if (!(live > 0) || isnan(waste))
		return NAN;
	if (waste < 0)		/* cross-thread frees: a thread's share may be negative */
		waste = 0;
	return waste / (live + waste);
}

double mmb_fp_jw_at_peak(const struct mmb_tl_sample *s, size_t n)
{
	double max = NAN, best_live = 0, best_fp = NAN;

	for (size_t i = 0; i < n; i++)
		if (s[i].live_bytes > 0 && !isnan(s[i].footprint_bytes) &&
		    (isnan(max) || s[i].footprint_bytes > max))
			max = s[i].footprint_bytes;
	for (size_t i = 0; i < n && !isnan(max); i++)
		if (s[i].live_bytes > best_live && s[i].footprint_bytes >= max * (1 - MMB_FP_JW_BAND)) {
			best_live = s[i].live_bytes;
			best_fp = s[i].footprint_bytes;
		}
	return best_live > 0 ? best_fp / best_live : NAN;
}

double mmb_fp_realized(const struct mmb_fp_acc *acc)
{
	return acc->live_peak > 0 && !isnan(acc->fp_at_live_peak)
		       ? acc->fp_at_live_peak / acc->live_peak - 1
		       : NAN;
}

double mmb_fp_mean_ratio(const struct mmb_fp_acc *acc)
{
	return acc->ratio_n ? acc->ratio_sum / (double)acc->ratio_n : NAN;
}

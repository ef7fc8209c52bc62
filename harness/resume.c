/*
 * resume.c — a results folder's plan and calibration, and its lock (resume.h).
 */
#include "resume.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "jsonflat.h"
#include "resdir.h"

#define RESUME_MAX_ARGS 256

void mmb_resume_free(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

void mmb_resume_meta_free(struct mmb_resume_meta *m)
{
	mmb_resume_free(m->argc, m->argv);
	m->argv = NULL;
	m->argc = 0;
}

/* "clock.tsc_hz" and friends out of meta.json's clock object. */
static void resume_clock(void *arg, const char *path, const char *text)
{
	struct mmb_resume_meta *m = arg;
	char *end;
	double v = strtod(text, &end);

	if (end == text || *end)
		return;		/* null or not a number */
	if (!strcmp(path, "clock.tsc_hz"))
		m->tsc_hz = v;
	else if (!strcmp(path, "clock.read_ns"))
		m->read_ns = v;
	else if (!strcmp(path, "clock.resolution_ns"))
		m->resolution_ns = v;
}

int mmb_resume_read(const char *dir, struct mmb_resume_meta *m, char *err, size_t errlen)
{
	struct mmb_resdir rd;
	char *cl = malloc(65536), buf[256], why[4400];
	const char *p;
	int e, first = 1;

	memset(m, 0, sizeof(*m));
	m->read_ns = m->resolution_ns = NAN;
	if (!cl)
		return -ENOMEM;
	e = mmb_resdir_open(dir, &rd, why, sizeof(why));
	if (e) {
		snprintf(err, errlen, "--resume: %s", why);
		free(cl);
		return e;
	}
	m->argv = calloc(RESUME_MAX_ARGS + 1, sizeof(*m->argv));
	p = mmb_resdir_meta(&rd, "command_line", "\x1f", cl, 65536);
	if (!m->argv || !p) {
		e = m->argv ? -EPROTO : -ENOMEM;
		goto bad;
	}
	for (const char *q = cl; *q || first;) {
		size_t n = strcspn(q, "\x1f");

		if (first) {	/* "mmbench" */
			first = 0;
		} else if (m->argc == RESUME_MAX_ARGS || !(m->argv[m->argc] = strndup(q, n))) {
			e = -EPROTO;
			goto bad;
		} else {
			m->argc++;
		}
		q += n;
		if (!*q)
			break;
		q++;
	}
	if (m->argc < 1 || strcmp(m->argv[0], "run")) {
		e = -EPROTO;
		goto bad;
	}
	if (mmb_resdir_meta(&rd, "start_time", "", buf, sizeof(buf))) {
		struct tm tm = { 0 };
		char *end = strptime(buf, "%Y-%m-%dT%H:%M:%SZ", &tm);

		if (end && !*end)
			m->start = timegm(&tm);
	}
	if (mmb_resdir_meta(&rd, "clock", "", cl, 65536) && cl[0] == '{')
		mmb_jsonflat(cl, "clock", resume_clock, m);
	mmb_resdir_close(&rd);
	free(cl);
	return 0;
bad:
	snprintf(err, errlen, "--resume %s: meta.json has no readable \"command_line\" of a run", dir);
	mmb_resdir_close(&rd);
	mmb_resume_meta_free(m);
	free(cl);
	return e;
}

int mmb_resume_argv(const char *dir, int *r_argc, char ***r_argv, char *err, size_t errlen)
{
	struct mmb_resume_meta m;
	int e = mmb_resume_read(dir, &m, err, errlen);

	if (e)
		return e;
	*r_argc = m.argc;
	*r_argv = m.argv;
	return 0;
}

int mmb_lock_take(const char *dir, char *err, size_t errlen)
{
	char path[4200], pid[32] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/" MMB_LOCK_FILE, dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);

		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		snprintf(err, errlen, "%s: another mmbench (pid %s) is running in this folder (%s)", dir,
			 pid[0] ? pid : "?", MMB_LOCK_FILE);
		close(fd);
		return -EBUSY;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid)) {
		int e = errno ? errno : EIO;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

void mmb_lock_release(const char *dir, int fd)
{
	char path[4200];

	if (fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/" MMB_LOCK_FILE, dir);
	unlink(path);	/* while still held, so no one locks the old file */
	close(fd);
}

/*
 * layout.c — what submit, task and merge share (slurm.h): the paths of a
 * Slurm run's folder, its small key=value files, and running Slurm's
 * commands (sbatch, squeue, scontrol) with their output captured and a time
 * limit, since a controller that does not answer makes them retry for long.
 */
#include "slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util.h"

void mmb_slurm_path(char *buf, size_t len, const char *dir, unsigned k, const char *name)
{
	snprintf(buf, len, "%s/slurm/sub-%u%s%s", dir, k, name[0] ? "/" : "", name);
}

unsigned mmb_slurm_nsubs(const char *dir)
{
	char path[4300];
	struct stat st;
	unsigned k;

	for (k = 1; k <= MMB_SLURM_MAX_SUBS; k++) {
		mmb_slurm_path(path, sizeof(path), dir, k, "tasks.txt");
		if (stat(path, &st))
			break;
	}
	return k - 1;
}

int mmb_slurm_kv(const char *file, const char *key, char *val, size_t len)
{
	FILE *f = fopen(file, "r");
	char line[4400];
	size_t kl = strlen(key);
	int found = -ENOENT;

	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) || line[kl] != '=')
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(val, len, "%s", line + kl + 1);
		found = 0;	/* the last one wins */
	}
	fclose(f);
	return found;
}

int mmb_slurm_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4200];

	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name);
		if (n && access(buf, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

/* Read what is there from fd into buf[*used..len-1]; 0 at its end. */
static int cmd_drain(int fd, char *buf, size_t len, size_t *used)
{
	char sink[4096];
	ssize_t n;

	if (buf && *used + 1 < len)
		n = read(fd, buf + *used, len - 1 - *used);
	else
		n = read(fd, sink, sizeof(sink));
	if (n > 0 && buf && *used + 1 < len)
		*used += (size_t)n;
	return n > 0 || (n < 0 && errno == EINTR);
}

int mmb_slurm_cmd(char *const argv[], char *out, size_t outlen, char *errbuf, size_t errlen,
		  double timeout_s)
{
	int po[2], pe[2], status = 0, open_fds = 2;
	size_t oused = 0, eused = 0;
	uint64_t deadline = mmb_now_ns() + (uint64_t)(timeout_s * 1e9);
	pid_t pid;

	if (pipe2(po, O_CLOEXEC))
		return -errno;
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]);
		close(po[1]);
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		return e;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	while (open_fds) {
		struct pollfd pfd[2] = { { .fd = po[0], .events = POLLIN },
					 { .fd = pe[0], .events = POLLIN } };
		uint64_t now = mmb_now_ns();

		if (now >= deadline) {
			kill(-pid, SIGKILL);
			status = -1;
			break;
		}
		if (poll(pfd, 2, (int)((deadline - now) / 1000000 + 1)) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (!cmd_drain(pfd[i].fd, i ? errbuf : out, i ? errlen : outlen,
				       i ? &eused : &oused)) {
				close(pfd[i].fd);
				if (i)
					pe[0] = -1;
				else
					po[0] = -1;
				open_fds--;
			}
		}
	}
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (out && outlen)
		out[oused] = 0;
	if (errbuf && errlen) {
		errbuf[eused] = 0;
		errbuf[strcspn(errbuf, "\n")] = 0;	/* its first line */
	}
	{
		int w = 0, timed_out = status == -1;

		while (waitpid(pid, &w, 0) < 0 && errno == EINTR)
			;
		if (timed_out)
			return 124;
		return WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
	}
}

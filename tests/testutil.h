/*
 * testutil.h — helpers shared by the Criterion tests: run the mmbench binary
 * and capture its exit status and output, make scratch folders, create a
 * registry allocator from a config spec.
 *
 * MMB_BIN (the built binary) and MMB_SRCDIR (the source tree) come from the
 * Makefile.
 */
#ifndef MMB_TESTUTIL_H
#define MMB_TESTUTIL_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../allocators/allocator.h"

struct mmb_cmd {
	int status;		/* exit status, or 128 + signal */
	char out[65536];	/* stdout */
	char err[65536];	/* stderr */
};

static inline void mmb_slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	buf[n] = 0;
	if (f)
		fclose(f);
}

/* mmb_slurp of the file name in folder dir (a dump_state file). */
static inline void mmb_slurp_in(const char *dir, const char *name, char *buf, size_t len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	mmb_slurp(path, buf, len);
}

/* Run MMB_BIN with the NULL-terminated arguments; capture output. */
static inline void mmb_run_cmd(struct mmb_cmd *c, const char *arg, ...)
{
	const char *argv[64];
	char outp[] = "/tmp/mmbtest-out-XXXXXX", errp[] = "/tmp/mmbtest-err-XXXXXX";
	int fo = mkstemp(outp), fe = mkstemp(errp), n = 0, st = 0;
	va_list ap;
	pid_t pid;

	argv[n++] = MMB_BIN;
	va_start(ap, arg);
	for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(fo, 1);
		dup2(fe, 2);
		execv(MMB_BIN, (char **)argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	close(fo);
	close(fe);
	mmb_slurp(outp, c->out, sizeof(c->out));
	mmb_slurp(errp, c->err, sizeof(c->err));
	unlink(outp);
	unlink(errp);
}

/* A fresh scratch folder name (not created). */
static inline void mmb_tmpname(char *buf, size_t len, const char *tag)
{
	static int seq;

	snprintf(buf, len, "/tmp/mmbtest-%s-%d-%d", tag, (int)getpid(), seq++);
}

static inline int mmb_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static inline void mmb_rm_rf(const char *path)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", path);
}

/* The registry allocator spec names ("NAME:key=value,..."), created for
 * nthreads workers; the test is skipped when the allocator's supported()
 * says it cannot run here (jemalloc under AddressSanitizer), and stops if
 * the spec or create is refused. */
static inline struct mmb_alloc *mmb_test_alloc(const char *spec, unsigned nthreads,
					       const struct mmb_alloc_ops **r_ops)
{
	struct mmb_alloc_cfg cfg;
	struct mmb_alloc *a;
	char err[MMB_ERR_MAX] = "";

	const char *why = NULL;

	cr_assert_eq(mmb_alloc_parse_config(spec, r_ops, &cfg, err, sizeof(err)), 0, "%s: %s", spec,
		     err);
	if ((*r_ops)->supported && (*r_ops)->supported(&why))
		cr_skip_test("%s unavailable here: %s", (*r_ops)->name, why);
	cfg.nthreads = nthreads;
	cr_assert_eq((*r_ops)->create(&cfg, &a, err, sizeof(err)), 0, "%s: %s", spec, err);
	return a;
}

#endif /* MMB_TESTUTIL_H */

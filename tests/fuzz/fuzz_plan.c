/*
 * fuzz_plan.c — libFuzzer target: the `mmbench run` command line parser
 * (mmb_plan_parse, plan.h).
 *
 * Input: the arguments after "run", separated by NUL bytes (at most 64).
 * An argument naming something under /dev, /proc or /sys is left out: as
 * root, merely opening some devices (a watchdog) has effects, and a
 * suite or trace path there proves nothing about the parser.
 *
 * Checked: the parser returns 0, 1 (--help) or -EINVAL with a one-line
 * message (unless an argument, which it may quote, holds a line break); a parsed plan has 1..MMB_PLAN_MAX_CONFIGS configs of each kind,
 * every cell's indexes in range, ids 1..ncells in order, and reps >= 1;
 * mmb_plan_free releases everything (LeakSanitizer checks).
 */
#include <fcntl.h>
#include <string.h>

#include "../../harness/plan.h"
#include "fuzz.h"

#define FZP_MAX_ARGS 64

static struct mmb_plan fzp_plan;

/* --help prints the usage on stdout: keep the fuzzer's output readable. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	if (fd >= 0)
		dup2(fd, 1);
	return 0;
}

static int fzp_forbidden(const char *arg)
{
	return strstr(arg, "/dev/") || strstr(arg, "/proc/") || strstr(arg, "/sys/");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[FZP_MAX_ARGS + 2], err[1024] = "";
	int argc = 0, rc, breaks = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[argc++] = "run";
	for (char *p = buf; p <= buf + size && argc <= FZP_MAX_ARGS; p += strlen(p) + 1)
		if (!fzp_forbidden(p)) {
			breaks |= !!strpbrk(p, "\r\n");
			argv[argc++] = p;
		}
	argv[argc] = NULL;
	rc = mmb_plan_parse(argc, argv, &fzp_plan, err, sizeof(err));
	if (rc < 0) {
		if (!err[0] || (!breaks && strchr(err, '\n')))
			fuzz_fail("parse failed (%d) without a one-line message: '%s'", rc, err);
	} else if (rc == 0) {
		const struct mmb_plan *p = &fzp_plan;

		if (!p->naconf || p->naconf > MMB_PLAN_MAX_CONFIGS || !p->nwconf ||
		    p->nwconf > MMB_PLAN_MAX_CONFIGS || !p->reps || !p->ncells)
			fuzz_fail("plan: %u allocator and %u workload configs, %u reps, %u cells",
				  p->naconf, p->nwconf, p->reps, p->ncells);
		for (unsigned i = 0; i < p->ncells; i++) {
			const struct mmb_cell *c = &p->cells[i];

			if (c->id != i + 1 || c->ai >= p->naconf || c->wi >= p->nwconf || !c->threads ||
			    !c->rep || c->rep > p->reps)
				fuzz_fail("cell %u: id %u ai %u wi %u threads %u rep %u", i, c->id, c->ai,
					  c->wi, c->threads, c->rep);
		}
		mmb_plan_free(&fzp_plan);
	} else if (rc != 1) {
		fuzz_fail("parse returned %d", rc);
	}
	free(buf);
	return 0;
}

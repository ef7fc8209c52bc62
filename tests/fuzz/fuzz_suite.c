/*
 * fuzz_suite.c — libFuzzer target: the suite-file reader (mmb_suite_load,
 * suite.h) and the plan built from it (mmb_plan_parse with --suite).
 *
 * Input: the file's bytes, put in a memfd and named by its /proc/self/fd
 * path (a name with '/' is read as a path). Checked: loading returns 0 or
 * -errno with a one-line message naming the file; a loaded suite has at
 * most MMB_SUITE_MAX_LINES lines, each with argv[0] "suite", at most
 * MMB_SUITE_MAX_ARGS options, NULL-terminated, line numbers increasing;
 * the plan parse then returns 0 or -EINVAL with one line; nothing leaks.
 */
#include <string.h>

#include "../../harness/plan.h"
#include "../../harness/suite.h"
#include "fuzz.h"

static struct mmb_plan fzs_plan;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024] = "";
	char *argv[] = { "run", "-q", "--suite", path, NULL };
	struct mmb_suite s;
	int fd = fuzz_file(data, size, path, sizeof(path)), rc;

	rc = mmb_suite_load(path, &s, err, sizeof(err));
	if (rc) {
		if (rc > 0 || !err[0] || strchr(err, '\n'))
			fuzz_fail("suite load failed (%d) without a one-line message: '%s'", rc, err);
	} else {
		unsigned last = 0;

		if (s.nlines >= MMB_SUITE_MAX_LINES)
			fuzz_fail("%u lines", s.nlines);
		for (unsigned i = 0; i < s.nlines; i++) {
			const struct mmb_suite_line *l = &s.lines[i];

			if (l->lineno <= last || l->argc < 2 || l->argc > MMB_SUITE_MAX_ARGS + 1 ||
			    strcmp(l->argv[0], "suite") || l->argv[l->argc])
				fuzz_fail("line %u: lineno %u argc %d", i, l->lineno, l->argc);
			for (int k = 1; k < l->argc; k++)
				if (!l->argv[k][0] || strpbrk(l->argv[k], " \t\r\n#"))
					fuzz_fail("line %u: token '%s'", l->lineno, l->argv[k]);
			last = l->lineno;
		}
		mmb_suite_free(&s);
	}
	err[0] = 0;
	rc = mmb_plan_parse(4, argv, &fzs_plan, err, sizeof(err));
	if (rc == 0)
		mmb_plan_free(&fzs_plan);
	else if (rc != -EINVAL || !err[0] || strchr(err, '\n'))
		fuzz_fail("plan from the suite: %d '%s'", rc, err);
	close(fd);
	return 0;
}

/*
 * suite.h — named suites: plain files in workloads/suites/NAME.suite.
 *
 * The folder is found beside the executable's folder or one above it
 * (build/mmbench or build/san-x/mmbench -> workloads/suites), or where
 * MMB_SUITES_DIR says. Each file's first line
 * is a comment ("# what this suite is for") shown by `mmbench list suites`.
 *
 * Format: every other line is blank, a comment (from '#' to the end of the
 * line), or `mmbench run` options separated by spaces (no quoting):
 *   - a line without -w sets suite defaults: -a and -t for every group
 *     (where several such lines give them, the last one counts), -p for
 *     every group (added up), and the plan-wide options -r --ops
 *     --duration --seed --cell-timeout --check --dump-state (a later value
 *     replaces an earlier one);
 *   - a line with -w is one group of cells: its workloads x its thread
 *     counts (-t, else the default, else 1) x its allocators (-a, else the
 *     default, else every allocator), with its -p after the default -p.
 *     Plan-wide options may appear on it too and act plan-wide, except
 *     --faults: on a line with -w it is that group's fault mode, on a line
 *     without, every group's default (plan.h).
 *   - In a suite, an allocator written `?NAME[:options]` is optional: where
 *     this build has no allocator NAME, or it cannot run here, it is
 *     skipped with a note instead of being an error. Names without '?' must
 *     exist, so a typo is still caught.
 *   - a line "prog NAME [KEY=VALUE...] -- COMMAND [ARG...]" defines a
 *     program and makes it a group of its own on the default -a
 *     (programs/program.h); plan.c parses it, not getopt.
 *   - -o, -q, --suite, --programs-from and -h are command-line only.
 * Parsing the options is plan.c's; this file reads, tokenizes and numbers
 * the lines.
 */
#ifndef MMB_SUITE_H
#define MMB_SUITE_H

#include <stddef.h>

/* The suites folder. Returns 0, or -ENOENT when it cannot be found. */
int mmb_suite_dir(char *buf, size_t len);

#define MMB_SUITE_MAX_LINES 256
#define MMB_SUITE_MAX_ARGS 64

struct mmb_suite_line {
	unsigned lineno;		/* 1-based, in the file */
	int argc;
	char *argv[MMB_SUITE_MAX_ARGS + 2];	/* argv[0] = "suite", NULL-terminated */
};

struct mmb_suite {
	char path[4096];		/* the file, as opened (for FILE:LINE messages) */
	char *text;			/* the file's contents; argv[] point into it */
	struct mmb_suite_line *lines;	/* the lines with options, in file order */
	unsigned nlines;
};

/*
 * Read suite NAME (the file NAME.suite in the suites folder, or NAME itself
 * when it contains a '/') into r_s. Returns 0, or -errno with one line in
 * err ("unknown suite 'x' (valid: ...)", or "FILE:LINE: too many options").
 */
int mmb_suite_load(const char *name, struct mmb_suite *r_s, char *err, size_t errlen);
void mmb_suite_free(struct mmb_suite *s);

/* `mmbench list suites`: name and first comment line of each suite. */
int mmb_suite_list(int verbose);

#endif /* MMB_SUITE_H */
